//! Tester assignment (rule 1) and movements of the portions inside the institution.

use choucha_domain::RuleViolation;
use choucha_domain::lab::{self as rules, LabDuty, SampleState, SealState};

use choucha_store::audit::AuditEntry;
use choucha_store::custody::NewCustodyEvent;
use choucha_store::draws as store_draws;
use choucha_store::lab::{self as store, SampleChanges, SamplePatch};
use sea_orm::ActiveValue::Set;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::lab_relations;
use crate::access::Ask;
use crate::{Actor, Result, ServiceError, Services};
use choucha_domain::access::Action;

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct AssignInput {
    pub tester_id: i64,
}

/// The custodian assigns a tester of the institution — never a sampler of the sample (rule 1).
pub async fn assign_tester(s: &Services, actor: &Actor, sample_id: i64, input: AssignInput) -> Result<()> {
    let db = s.store.reader();
    let sample = store::get_sample(db, sample_id).await.map_err(ServiceError::not_found("样品"))?;
    lab_relations(actor, &sample).require_or(Action::ManageSample, "只有本机构的样品管理员可以分配检验人员")?;
    let tester = crate::auth::actor_for_user(s, input.tester_id).await.map_err(ServiceError::hidden("检验人员"))?;
    if !lab_relations(&tester, &sample).may(Action::RecordResults) {
        return Err(ServiceError::invalid(
            RuleViolation::new("not_a_tester", "只能分配本机构的检验人员").on_field("tester_id"),
        ));
    }
    rules::check_not_sampler(tester.user_id, &super::samplers_of(s, &sample).await?, LabDuty::Test)?;
    if !matches!(sample.state, SampleState::Accepted | SampleState::Testing | SampleState::Screening) {
        return Err(ServiceError::Rule(RuleViolation::new("sample_state", "该样品当前不能分配检验人员")));
    }
    let tx = s.write(actor).await?;
    store::update_sample(
        &tx,
        sample.id,
        sample.state,
        SamplePatch {
            set: SampleChanges { tester_id: Set(Some(tester.user_id)), ..Default::default() },
            ..Default::default()
        },
    )
    .await?;
    tx.commit(AuditEntry::new(
        "lab.assign",
        "lab_sample",
        sample.id,
        json!({"tester_id": sample.tester_id}),
        json!({"tester_id": tester.user_id}),
    ))
    .await?;
    Ok(())
}

/// A later movement of a portion (rule 12's custody chain).
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct MovementInput {
    /// test | backup | all
    pub portion: String,
    /// stored | to_testing | to_retest | returned | disposed
    pub kind: String,
    /// intact | broken | not_applicable
    pub seal_state: String,
    #[serde(default)]
    pub location: String,
    #[serde(default)]
    pub note: String,
    /// Temperature at the hand-over (°C, -80..=60), where it matters.
    #[serde(default)]
    pub temperature_c: Option<f64>,
    /// Disposal: the witness (or the party it is handed to) who signs on the custodian's phone;
    /// without one, another custodian of the institution confirms in the app.
    #[serde(default)]
    pub witness_name: String,
    #[serde(default)]
    pub witness_signature_png_base64: String,
}

/// Hand-overs a movement is (issue 18): to and back from the tester, whom the sample's assigned
/// tester confirms; a disposal, witnessed.
fn counter_party_of(kind: &str) -> &'static str {
    match kind {
        "to_testing" | "returned" => "tester",
        "disposed" => "witness",
        _ => "",
    }
}

pub async fn move_portion(s: &Services, actor: &Actor, sample_id: i64, input: MovementInput) -> Result<()> {
    let db = s.store.reader();
    let sample = store::get_sample(db, sample_id).await.map_err(ServiceError::not_found("样品"))?;
    lab_relations(actor, &sample).require_or(Action::ManageSample, "只有本机构的样品管理员可以登记样品流转")?;
    let mut errs = Vec::new();
    if !matches!(input.portion.as_str(), "test" | "backup" | "all") {
        errs.push(RuleViolation::new("invalid_portion", "样品部分应为检验样品、备用样品或全部").on_field("portion"));
    }
    if !matches!(input.kind.as_str(), "stored" | "to_testing" | "to_retest" | "returned" | "disposed") {
        errs.push(RuleViolation::new("invalid_kind", "未知的流转类型").on_field("kind"));
    }
    let seal_state = SealState::parse(input.seal_state.trim());
    if seal_state.is_none() {
        errs.push(RuleViolation::new("invalid_seal_state", "未知的封条状态").on_field("seal_state"));
    }
    if input.kind == "stored" && input.location.trim().is_empty() {
        errs.push(RuleViolation::new("required", "请填写存放位置").on_field("location"));
    }
    if let Err(v) = crate::custody_sign::check_temperature(input.temperature_c) {
        errs.push(v);
    }
    let witness = input.witness_name.trim().chars().take(100).collect::<String>();
    if witness.is_empty() && !input.witness_signature_png_base64.trim().is_empty() {
        errs.push(RuleViolation::new("required", "请填写签字的见证人姓名").on_field("witness_name"));
    }
    if !errs.is_empty() {
        return Err(ServiceError::Invalid(errs));
    }
    if sample.state == SampleState::Rejected {
        return Err(ServiceError::Rule(RuleViolation::new("rule12_rejected", "拒收的样品不在本机构保管（规则12）")));
    }
    let counter = counter_party_of(&input.kind);
    let witness_sha = if input.kind == "disposed" {
        crate::custody_sign::store_drawn_signature(
            s,
            &input.witness_signature_png_base64,
            "witness_signature_png_base64",
        )
        .await?
    } else {
        String::new()
    };
    let tester_name = match sample.tester_id {
        Some(t) if counter == "tester" => choucha_store::users::get(db, t).await?.display_name,
        _ => String::new(),
    };
    let me = format!("样品管理员 {}", actor.display_name);
    let (from_party, to_party) = match input.kind.as_str() {
        "to_testing" => (me, tester_name),
        "returned" => (tester_name, me),
        "disposed" => (me, witness.clone()),
        _ => (me.clone(), me),
    };
    let tx = s.write(actor).await?;
    let e = crate::custody_sign::insert_signed_on_phone(
        &tx,
        NewCustodyEvent {
            task_id: sample.task_id,
            portion: input.portion.clone(),
            kind: input.kind.clone(),
            seal_state: seal_state.unwrap_or(SealState::NotApplicable),
            location: input.location.trim().into(),
            note: input.note.trim().into(),
            actor_id: Some(actor.user_id),
            actor_name: actor.display_name.clone(),
            from_party,
            to_party,
            counter_party: counter.into(),
            counter_user_id: if counter == "tester" { sample.tester_id } else { None },
            temperature_c: input.temperature_c,
            ..Default::default()
        },
        &witness,
        &witness_sha,
        "见证人在样品管理员的设备上签字",
    )
    .await?;
    tx.commit(AuditEntry::new(
        "lab.custody",
        "custody_event",
        e.id,
        json!(null),
        json!({"sample_id": sample.id, "kind": input.kind, "portion": input.portion, "temperature_c": input.temperature_c,
               "counter_party": counter, "witness_name": witness, "witness_signature_sha256": witness_sha}),
    ))
    .await?;
    Ok(())
}

/// The institution's testers who may be assigned to a sample: its samplers left out (rule 1).
pub async fn testers_for(s: &Services, actor: &Actor, sample_id: i64) -> Result<Vec<(i64, String)>> {
    let db = s.store.reader();
    let sample = store::get_sample(db, sample_id).await.map_err(ServiceError::not_found("样品"))?;
    lab_relations(actor, &sample).require(Action::ManageSample)?;
    let team = store_draws::team_of(db, sample.task_id).await?;
    Ok(store_draws::users_with_role(db, sample.testing_org_id, "tester")
        .await?
        .into_iter()
        .filter(|(id, ..)| !team.contains(id))
        .map(|(id, _, name)| (id, name))
        .collect())
}
