//! The permission matrix through the service layer: every role of the lab world asks the same
//! sample, re-test and task, and what each may see and do is what the table says — the views'
//! `actions` included, since pages draw their buttons from them.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use choucha_domain::access::Action;
use choucha_service::fixtures::lab_world::*;
use choucha_service::{ServiceError, draws, lab, retests};

fn is_not_found(e: &ServiceError) -> bool {
    matches!(e, ServiceError::NotFound(_))
}

#[tokio::test]
async fn a_sample_offers_each_lab_role_exactly_its_own_actions() {
    let w = world().await;
    let code = accepted(&w).await;
    // Blind staff: the sample by its code, their duty only, never the link.
    let t = lab::sample(s(&w), &w.t1, &code).await.unwrap();
    assert_eq!(t.actions, vec![Action::CheckLicence, Action::RecordResults, Action::PrepareReport]);
    let a = lab::sample(s(&w), &w.a1, &code).await.unwrap();
    assert_eq!(a.actions, vec![Action::SignReport]);
    // The custodian sees the link and manages the sample; it does not test.
    let c = lab::sample(s(&w), &w.custodian, &code).await.unwrap();
    assert!(c.actions.contains(&Action::ViewLink) && c.actions.contains(&Action::ManageSample));
    assert!(!c.actions.contains(&Action::RecordResults));
    // The organising bureau sees the link and the report PDF, and takes no lab step.
    let r = lab::sample(s(&w), &w.regulator, &code).await.unwrap();
    assert_eq!(r.actions, vec![Action::ViewLink, Action::ReportPdf]);
    // A bureau that does not organise the plan, an enterprise and a county bureau: no such sample.
    let county = w.fx.user("pc_reg", &["local_regulator"], Some("dt-pc")).await;
    let ent = enterprise_user(&w).await;
    for who in [&county, &ent] {
        let e = lab::sample(s(&w), who, &code).await.unwrap_err();
        assert!(is_not_found(&e), "{}: {e:?}", who.username);
    }
}

#[tokio::test]
async fn blind_staff_are_refused_the_link_as_if_it_did_not_exist_and_the_custodian_is_not() {
    let w = world().await;
    let report = issued(&w, 9.0).await;
    let sample = sample_of_report(&w, report.id).await;
    for blind in [&w.t1, &w.a1, &w.t2] {
        let e = lab::link(s(&w), blind, sample.id).await.unwrap_err();
        assert!(is_not_found(&e), "{}: {e:?}", blind.username);
        // Nor the issued report's PDF, which names the enterprise.
        assert!(lab::report_pdf(s(&w), blind, report.id).await.is_err());
    }
    let l = lab::link(s(&w), &w.custodian, sample.id).await.unwrap();
    assert_eq!(l.blind_code, sample.blind_code);
    assert!(l.actions.contains(&Action::ManageSample));
    assert!(lab::report_pdf(s(&w), &w.custodian, report.id).await.is_ok());
    assert!(lab::report_pdf(s(&w), &w.regulator, report.id).await.is_ok());
}

#[tokio::test]
async fn a_task_offers_the_team_its_site_work_and_the_bureau_its_own_steps() {
    let w = world_with(Options { stage: Stage::Started, ..Default::default() }).await;
    let team = draws::get_task(s(&w), &w.s1, w.task).await.unwrap();
    assert!(team.actions.contains(&Action::WorkOnSite));
    assert!(team.actions.contains(&Action::HandOver));
    assert!(!team.actions.contains(&Action::ReassignTask));
    let bureau = draws::get_task(s(&w), &w.regulator, w.task).await.unwrap();
    assert!(!bureau.actions.contains(&Action::WorkOnSite));
    assert!(bureau.actions.contains(&Action::MarkNotSampled));
    assert!(bureau.actions.contains(&Action::ViewEvidence));
    // A tester of the testing institution never sees the task (it names the enterprise).
    let e = draws::get_task(s(&w), &w.t1, w.task).await.unwrap_err();
    assert!(is_not_found(&e));
    // A sampler of the same institution who is not on the team: no such task either.
    let other = w.fx.user("lab_s9", &["sampler"], Some("lab")).await;
    assert!(is_not_found(&draws::get_task(s(&w), &other, w.task).await.unwrap_err()));
}

#[tokio::test]
async fn the_retest_lab_is_blind_except_its_custodian_and_its_buttons_follow_the_matrix() {
    let w = world().await;
    let report = issued(&w, 9.0).await;
    let lab2 = second_lab(&w).await;
    let owner = enterprise_user(&w).await;
    let id = retested(&w, &lab2, &owner, report.id, 8.0).await;
    let t = retests::get(s(&w), &lab2.tester, id).await.unwrap();
    assert_eq!(t.actions, vec![Action::RetestResults]);
    assert_eq!(t.enterprise, None);
    assert!(t.first_report_no.is_empty() && t.seal_photos.is_empty() && t.received_at.is_none());
    let a = retests::get(s(&w), &lab2.a1, id).await.unwrap();
    assert_eq!(a.actions, vec![Action::SignRetest]);
    let c = retests::get(s(&w), &lab2.custodian, id).await.unwrap();
    assert_eq!(c.actions, vec![Action::ReceiveBackup]);
    assert_eq!(
        c.enterprise, None,
        "the custodian receives against the record but the view does not name the enterprise"
    );
    let b = retests::get(s(&w), &w.regulator, id).await.unwrap();
    assert_eq!(b.actions, vec![Action::ViewRetestLink]);
    assert!(b.enterprise.is_some());
    // The first lab's tester has no relation to the re-test: it does not exist for them.
    assert!(is_not_found(&retests::get(s(&w), &w.t1, id).await.unwrap_err()));
    // The re-test lab's tester may not sign, its approver may not enter results.
    let e = retests::sign(s(&w), &lab2.tester, id, retests::SignStep::Review, sig()).await.unwrap_err();
    assert!(matches!(e, ServiceError::Forbidden(_)), "{e:?}");
    // Blind staff never get the re-test report PDF (it names the enterprise); the enterprise does.
    assert!(retests::report_pdf(s(&w), &lab2.tester, id).await.is_err());
    assert!(retests::report_pdf(s(&w), &owner, id).await.is_ok());
    // A bureau that does not organise the plan: no such re-test.
    let county = w.fx.user("pc_reg", &["local_regulator"], Some("dt-pc")).await;
    assert!(is_not_found(&retests::report_pdf(s(&w), &county, id).await.unwrap_err()));
}

#[tokio::test]
async fn lists_are_scoped_by_the_matrix_and_refused_to_roles_it_does_not_name() {
    let w = world().await;
    let report = issued(&w, 9.0).await;
    let lab2 = second_lab(&w).await;
    let owner = enterprise_user(&w).await;
    retested(&w, &lab2, &owner, report.id, 8.0).await;
    assert_eq!(retests::list(s(&w), &w.regulator, &[], None, None).await.unwrap().items.len(), 1);
    assert_eq!(retests::list(s(&w), &lab2.tester, &[], None, None).await.unwrap().items.len(), 1);
    // The first lab runs no re-test: its list is empty, not refused.
    assert!(retests::list(s(&w), &w.t1, &[], None, None).await.unwrap().items.is_empty());
    // An enterprise and a county bureau may not list re-tests at all.
    for who in [&owner, &w.fx.user("pc_reg", &["local_regulator"], Some("dt-pc")).await] {
        let e = retests::list(s(&w), who, &[], None, None).await.unwrap_err();
        match e {
            ServiceError::Forbidden(m) => assert!(m.starts_with("无权执行此操作"), "{m}"),
            other => panic!("{other:?}"),
        }
    }
}
