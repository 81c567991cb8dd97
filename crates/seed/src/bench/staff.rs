//! The generated staff: 60 samplers in each sampling institution; 20 testers, 3 report approvers and
//! a sample custodian in each testing institution. All with the demo password.

use choucha_service::auth::hash_password;

use super::columns::USER_COLS;
use super::generator::Gen;
use super::reference::{NAME_CHARS, SURNAMES};
use super::sink::{Batch, Sink, V};
use super::{
    APPROVERS_PER_ORG, Ctx, PROVINCE_REGULATOR, SAMPLER_PREFIX, SAMPLERS_PER_ORG, TESTER_PREFIX, TESTERS_PER_ORG,
};

/// (id, name) of the generated people, by institution (in the order of `Ctx::sampling_orgs` and
/// `Ctx::testing_orgs`).
pub(super) struct Staff {
    pub(super) samplers: Vec<Vec<(i64, String)>>,
    pub(super) testers: Vec<Vec<(i64, String)>>,
    pub(super) approvers: Vec<Vec<(i64, String)>>,
    pub(super) custodians: Vec<(i64, String)>,
    /// Accounts written.
    pub(super) users: u64,
}

/// Writes the samplers of the three sampling institutions and the laboratory staff of the three testing
/// institutions, with their roles.
pub(super) async fn load(sink: &Sink, g: &mut Gen, cx: &Ctx) -> anyhow::Result<Staff> {
    let hash = hash_password(crate::demo::PASSWORD).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut users = Batch::default();
    let mut roles = Batch::default();
    let mut samplers: Vec<Vec<(i64, String)>> = vec![Vec::new(); 3];
    let mut uid = sink.next_id("users").await?;
    for (k, o) in cx.sampling_orgs.iter().enumerate() {
        for n in 0..SAMPLERS_PER_ORG {
            let name = format!("{}{}", g.chars(SURNAMES, 1), g.chars(NAME_CHARS, 2));
            let id_card = format!("140202{}{:04}{:04}", 1970 + g.below(35), 101 + g.below(1100), g.below(10_000));
            users.push(vec![
                uid.into(),
                format!("{SAMPLER_PREFIX}{k}_{n:02}").into(),
                name.clone().into(),
                hash.clone().into(),
                (*o).into(),
                V::Null,
                format!("139{:08}", g.below(100_000_000)).into(),
                id_card.into(),
                true.into(),
                cx.now.into(),
                cx.now.into(),
            ]);
            roles.push(vec![uid.into(), "sampler".into()]);
            samplers[k].push((uid, name));
            uid += 1;
        }
    }
    // Laboratory staff of the three testing institutions: testers, report approvers, a custodian.
    let mut testers: Vec<Vec<(i64, String)>> = vec![Vec::new(); 3];
    let mut approvers: Vec<Vec<(i64, String)>> = vec![Vec::new(); 3];
    let mut custodians: Vec<(i64, String)> = Vec::new();
    for (k, o) in cx.testing_orgs.iter().enumerate() {
        let staff = (0..TESTERS_PER_ORG)
            .map(|n| (format!("{TESTER_PREFIX}{k}_{n:02}"), "tester"))
            .chain((0..APPROVERS_PER_ORG).map(|n| (format!("bench_r{k}_{n}"), "report_approver")))
            .chain(std::iter::once((format!("bench_c{k}"), "sample_custodian")));
        for (username, role) in staff {
            let name = format!("{}{}", g.chars(SURNAMES, 1), g.chars(NAME_CHARS, 2));
            users.push(vec![
                uid.into(),
                username.into(),
                name.clone().into(),
                hash.clone().into(),
                (*o).into(),
                V::Null,
                format!("138{:08}", g.below(100_000_000)).into(),
                "".into(),
                true.into(),
                cx.now.into(),
                cx.now.into(),
            ]);
            roles.push(vec![uid.into(), role.into()]);
            match role {
                "tester" => testers[k].push((uid, name)),
                "report_approver" => approvers[k].push((uid, name)),
                _ => custodians.push((uid, name)),
            }
            uid += 1;
        }
    }
    // A regulator of the provincial bureau, which organises the province's plans (the benchmark
    // reads the big plan as its organising bureau: administrators run no business, 三权分立).
    users.push(vec![
        uid.into(),
        PROVINCE_REGULATOR.into(),
        "省局抽查处".into(),
        hash.clone().into(),
        cx.org("sx-amr")?.into(),
        V::Null,
        "".into(),
        "".into(),
        true.into(),
        cx.now.into(),
        cx.now.into(),
    ]);
    roles.push(vec![uid.into(), "regulator".into()]);
    sink.write("users", &USER_COLS, &users).await?;
    sink.write("user_roles", &["user_id", "role"], &roles).await?;
    Ok(Staff { samplers, testers, approvers, custodians, users: users.len() as u64 })
}
