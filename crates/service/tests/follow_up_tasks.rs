//! A 复查 (follow-up check of a post-processing case, rule 20) as a real sampling task: the bureau
//! that runs the case orders it with a team of the item's samplers; the task runs the normal path
//! (record, evidence, hand-over, testing, report) and names its case; the report's result records
//! the case's 复查 step. Only the bureau that runs the case may order one, and never a second while
//! one is open.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use choucha_domain::cases::CaseState;
use choucha_domain::sampling::RecordFields;
use choucha_service::cases::{self, CaseQuery, FollowUpOrderInput, StepInput};
use choucha_service::draws;
use choucha_service::fixtures::lab_world::{self, Options, Stage, accept, code, s};
use choucha_service::{Actor, Services};

struct World {
    lab: lab_world::World,
    county: Actor,
    other_county: Actor,
    owner: Actor,
    case_id: i64,
}

fn svc(w: &World) -> &Services {
    s(&w.lab)
}

fn step(action: &str) -> StepInput {
    StepInput { action: action.into(), ..Default::default() }
}

/// An unqualified result, its case at the county bureau (dt-pc) ordered to correct.
async fn world() -> World {
    let lab = lab_world::world_with(Options { stage: Stage::Started, ..Default::default() }).await;
    let county = lab.fx.user("pc_reg", &["local_regulator"], Some("dt-pc")).await;
    let other_county = lab.fx.user("yg_reg", &["local_regulator"], Some("dt-yg")).await;
    let owner = lab_world::enterprise_user(&lab).await;
    lab_world::sampled(&lab, lab.task, lab_world::record()).await;
    lab_world::issued(&lab, 12.5).await;
    let case_id = cases::list(s(&lab), &county, CaseQuery::default()).await.unwrap().items[0].id;
    cases::step(s(&lab), &county, case_id, step("stop_order")).await.unwrap();
    cases::step(s(&lab), &county, case_id, step("correction_order")).await.unwrap();
    World { lab, county, other_county, owner, case_id }
}

fn team(w: &World) -> FollowUpOrderInput {
    FollowUpOrderInput { team: vec![w.lab.s1.user_id, w.lab.s2.user_id], due_date: None }
}

/// The 复查 sample's record: the same product, new seals.
fn record() -> RecordFields {
    RecordFields {
        sampled_at: "2025-12-01 09:30".into(),
        test_seals: vec!["SXGH-000223".into()],
        backup_seals: vec!["SXGH-000224".into()],
        ..lab_world::record()
    }
}

/// The 复查 sample received as recorded.
fn receipt() -> choucha_service::lab::ReceiptInput {
    let mut r = accept();
    r.observed.test_seals = record().test_seals;
    r.observed.backup_seals = record().backup_seals;
    r
}

#[tokio::test]
async fn the_bureau_orders_a_follow_up_check_as_a_sampling_task_and_its_report_records_the_step() {
    let w = world().await;
    let before = cases::get(svc(&w), &w.county, w.case_id).await.unwrap();
    assert!(before.may_order_follow_up);
    assert!(before.follow_up_samplers.iter().any(|u| u.id == w.lab.s1.user_id));

    // Only the bureau that runs the case; a team of at least 2 of the item's samplers.
    for wrong in [&w.other_county, &w.lab.regulator, &w.lab.s1, &w.owner] {
        let e = cases::order_follow_up_check(svc(&w), wrong, w.case_id, team(&w)).await.unwrap_err();
        assert!(matches!(code(&e), "forbidden" | "not_found"), "{e:?}");
    }
    let alone = FollowUpOrderInput { team: vec![w.lab.s1.user_id], due_date: None };
    assert_eq!(
        code(&cases::order_follow_up_check(svc(&w), &w.county, w.case_id, alone).await.unwrap_err()),
        "rule2_team"
    );
    let not_sampler = FollowUpOrderInput { team: vec![w.lab.s1.user_id, w.lab.t1.user_id], due_date: None };
    assert_eq!(
        code(&cases::order_follow_up_check(svc(&w), &w.county, w.case_id, not_sampler).await.unwrap_err()),
        "team_not_sampler"
    );

    let d = cases::order_follow_up_check(svc(&w), &w.county, w.case_id, team(&w)).await.unwrap();
    assert_eq!(d.follow_ups.len(), 1);
    let f = d.follow_ups[0].clone();
    assert!(f.open && f.result.is_empty());
    assert_eq!(f.round_label, "复查");
    assert_eq!(f.due_date, d.case.follow_up_check_due, "due by the rule set's 复查 deadline");
    assert!(!d.may_order_follow_up);

    // A second 复查 while this one is open is refused, ordered or typed by hand.
    assert_eq!(
        code(&cases::order_follow_up_check(svc(&w), &w.county, w.case_id, team(&w)).await.unwrap_err()),
        "rule20_follow_up_open"
    );
    let by_hand = StepInput { report_no: "X-1".into(), ..step("follow_up_check_passed") };
    assert_eq!(code(&cases::step(svc(&w), &w.county, w.case_id, by_hand).await.unwrap_err()), "rule20_follow_up_open");

    // The task is the samplers' own, same enterprise and product, and names its case.
    let t = draws::get_task(svc(&w), &w.lab.s1, f.task_id).await.unwrap();
    let first = draws::get_task(svc(&w), &w.lab.s1, w.lab.task).await.unwrap();
    assert_eq!((t.enterprise_id, t.item_id, t.product.as_str()), (first.enterprise_id, first.item_id, "车用柴油"));
    assert_eq!((t.follow_up_of_case, t.follow_up_label.as_str()), (Some(w.case_id), "复查"));
    assert_eq!(first.follow_up_of_case, None);
    let mine = draws::my_tasks(svc(&w), &w.lab.s2, None, None).await.unwrap();
    assert!(mine.items.iter().any(|x| x.id == f.task_id && x.follow_up_of_case == Some(w.case_id)));

    // The normal path: sampled (rules 5 and 22 do not refuse a 复查), tested, reported qualified.
    draws::start_task(svc(&w), &w.lab.s1, f.task_id).await.unwrap();
    lab_world::sampled(&w.lab, f.task_id, record()).await;
    let report = lab_world::issued_task(&w.lab, f.task_id, receipt(), 5.0).await;
    let no = report.report_no.clone().unwrap();

    let after = cases::get(svc(&w), &w.county, w.case_id).await.unwrap();
    assert_eq!(after.case.state, CaseState::Closed, "a passed 复查 closes the case");
    let last = after.steps.last().unwrap();
    assert_eq!(last.action, "follow_up_check_passed");
    assert!(last.details.contains(&no), "{}", last.details);
    let f = &after.follow_ups[0];
    assert!(!f.open);
    assert_eq!((f.result.as_str(), f.report_no.as_str()), ("合格", no.as_str()));
    // A 复查's result opens no case of its own.
    let all =
        cases::list(svc(&w), &w.county, CaseQuery { filter: Some("all".into()), ..Default::default() }).await.unwrap();
    assert_eq!(all.items.len(), 1);
}

#[tokio::test]
async fn a_failed_follow_up_check_task_escalates_the_case() {
    let w = world().await;
    let d = cases::order_follow_up_check(svc(&w), &w.county, w.case_id, team(&w)).await.unwrap();
    let task = d.follow_ups[0].task_id;
    draws::start_task(svc(&w), &w.lab.s1, task).await.unwrap();
    lab_world::sampled(&w.lab, task, record()).await;
    lab_world::issued_task(&w.lab, task, receipt(), 12.5).await;
    let after = cases::get(svc(&w), &w.county, w.case_id).await.unwrap();
    assert_eq!(after.case.state, CaseState::Escalated);
    assert_eq!(after.follow_ups[0].result, "不合格");
    // The second 复查 is not due yet (60–90 days after): refused before its earliest day.
    assert_eq!(
        code(&cases::order_follow_up_check(svc(&w), &w.county, w.case_id, team(&w)).await.unwrap_err()),
        "rule20_second_follow_up_check_early"
    );
}

/// The notices (Datong 2025, Shanxi 2022) say the 复查's costs, purchase included, are paid from the
/// budget and nothing is charged to the enterprise: a 复查 sample is bought at its price like any
/// other (rule 8), so its record refuses a zero price and prints the price paid on the 复查抽样单.
#[tokio::test]
async fn a_follow_up_check_sample_is_bought_at_its_price_like_any_other() {
    let w = world().await;
    let d = cases::order_follow_up_check(svc(&w), &w.county, w.case_id, team(&w)).await.unwrap();
    let task = d.follow_ups[0].task_id;
    draws::start_task(svc(&w), &w.lab.s1, task).await.unwrap();
    let free = RecordFields { unit_price: 0.0, ..record() };
    let e = choucha_service::sampling::save_record(svc(&w), &w.lab.s1, task, free).await.unwrap_err();
    assert_eq!(code(&e), "rule8_price", "{e:?}");
    let saved = choucha_service::sampling::save_record(svc(&w), &w.lab.s1, task, record()).await.unwrap();
    assert_eq!(saved.total_paid_yuan, "14.70");
    lab_world::sampled(&w.lab, task, record()).await;
    let pdf = choucha_service::sampling::record_pdf(svc(&w), &w.lab.s1, task).await.unwrap();
    if let Some(text) = lab_world::pdf_text(&pdf) {
        let text: String = text.split_whitespace().collect();
        assert!(text.contains("复查抽样单") && text.contains("7.35") && text.contains("14.70"), "{text}");
    }
    let pay = choucha_service::task_documents::payment_form_pdf(svc(&w), &w.lab.s1, task).await.unwrap();
    if let Some(text) = lab_world::pdf_text(&pay) {
        let text: String = text.split_whitespace().collect();
        assert!(text.contains("14.70"), "the 付费单 of the 复查 sample: {text}");
    }
}
