use std::collections::HashSet;

use choucha_domain::enterprise::{EnterpriseKind, EnterpriseStatus};
use choucha_domain::uscc::Uscc;
use choucha_store::audit::Verification;
use choucha_store::fixtures::TestDb;

use super::organisations::ORGS;
use super::registry::{EC, FS, PR};
use super::users::{USERS, id_card_no};
use super::*;

#[test]
fn registry_is_deterministic_valid_and_in_datong() {
    let a = generate_registry(ENTERPRISE_COUNT);
    let b = generate_registry(ENTERPRISE_COUNT);
    assert_eq!(a, b);
    assert_eq!(a.len(), ENTERPRISE_COUNT);
    let usccs: HashSet<_> = a.iter().map(|e| e.uscc.clone()).collect();
    let names: HashSet<_> = a.iter().map(|e| e.name.clone()).collect();
    assert_eq!(usccs.len(), a.len(), "USCCs are unique");
    assert_eq!(names.len(), a.len(), "names are unique");
    for e in &a {
        assert!(Uscc::parse(e.uscc.as_str()).is_ok());
        assert_eq!(e.uscc.division(), e.division_code, "{}", e.name);
        assert!(e.division_code.as_str().starts_with("1402"), "{}", e.division_code);
        assert!(!e.product_lines.is_empty());
    }
    let count = |k: EnterpriseKind| a.iter().filter(|e| e.kinds.contains(k)).count();
    assert!(count(FS) > 200, "fuel stations for 车用柴油");
    assert!(count(PR) > 200);
    assert!(count(EC) > 50);
    assert!(a.iter().any(|e| e.licence_no.is_some() && e.licence_valid_until.is_some()));
    assert!(a.iter().any(|e| e.ccc_cert_no.is_some()));
    assert!(a.iter().any(|e| e.status == EnterpriseStatus::Suspended));
    assert!(a.iter().any(|e| e.status == EnterpriseStatus::Deregistered));
    for p in ["车用柴油", "电冰箱", "家用电动洗衣机", "羊绒针织衫", "羽绒服装"] {
        assert!(a.iter().filter(|e| e.product_lines.iter().any(|l| l == p)).count() > 30, "{p}");
    }
    assert_eq!(a[0].uscc, demo_enterprise_uscc());
}

#[test]
fn sampler_identity_numbers_have_valid_check_characters() {
    // The GB 11643 example number.
    assert_eq!(id_card_no("110105", "19491231", "002"), "11010519491231002X");
}

#[tokio::test]
async fn loads_once_and_a_second_load_changes_nothing() {
    let db = TestDb::new().await.expect("db");
    let s = Services::new(db.store.clone(), std::env::temp_dir());
    let mut steps = 0;
    let first = load(&s, |_| steps += 1).await.expect("load");
    assert!(!first.already_loaded);
    assert_eq!(first.organisations_created, ORGS.len());
    assert_eq!(first.enterprises_created, ENTERPRISE_COUNT);
    assert_eq!(first.users_created, USERS.len());
    assert!(steps > 0);
    for role in Role::ALL {
        assert!(first.accounts.iter().any(|a| a.roles == vec![role.as_str().to_string()]), "{role}");
    }
    assert_eq!(first.plans_created, 2);
    let regulator = choucha_service::auth::login(&s, "regulator", PASSWORD).await.expect("regulator");
    let plans = choucha_service::plans::list(&s, &regulator, &Default::default()).await.expect("plans");
    let mut totals: Vec<(i64, usize)> = Vec::new();
    for p in &plans.items {
        let v = choucha_service::plans::get(&s, &regulator, p.id).await.expect("plan");
        assert_eq!(v.state, choucha_domain::plan::PlanState::Issued);
        totals.push((v.total_quota, v.items.len()));
    }
    totals.sort();
    // Datong 2025: 5 items, 190 batches; Shanxi 2022 batch 4: 22 items (two under 6), 745.
    assert_eq!(totals, vec![(190, 5), (745, 22)]);
    let second = load(&s, |_| {}).await.expect("second load");
    assert!(second.already_loaded);
    assert_eq!(second.plans_created, 0);
    assert_eq!(second.enterprises_created, 0);
    assert!(second.accounts.iter().all(|a| !a.created));
    match choucha_store::audit::verify(s.store(), |_| {}).await.expect("verify") {
        // Plus the plans (2 samplers of 山西国海, 2 plans created and issued, 1 rules published)
        // the 车用柴油 draw run and published, and the admin's audited sign-in above.
        Verification::Intact { records } => {
            assert_eq!(records as usize, ORGS.len() + 1 + USERS.len() + 2 + 4 + 1 + 2 + 1)
        }
        other => panic!("chain broken: {other:?}"),
    }
    let who = choucha_service::auth::login(&s, "enterprise", PASSWORD).await.expect("enterprise signs in");
    let own = choucha_service::registry::own_enterprise(&s, &who).await.expect("own").expect("bound");
    assert_eq!(own.uscc, demo_enterprise_uscc().to_string());
    let local = choucha_service::auth::login(&s, "local_regulator", PASSWORD).await.expect("local signs in");
    assert_eq!(local.registry_scope().as_deref(), Some("140213"));
}
