//! Follow-up of results through the service layer: sample disposal after the objection window
//! (rule 19) and post-processing cases (rule 20) — opened at the enterprise's local bureau for an
//! unqualified report or a final refusal, the producer's bureau notified, deadlines from the selected
//! rule set (2019 Measures and the 2015 rule, working days across a holiday), steps in order,
//! enterprise and tester scoping, closure on a qualified re-test, and a plan's overdue work.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use choucha_domain::cases::CaseLimits;
use choucha_domain::sampling::RecordFields;
use choucha_service::cases::{self, CaseQuery, RectificationInput, RuleSetInput, SelectionInput, StepInput};
use choucha_service::custody_chain;
use choucha_service::custody_hands::{self, ConfirmInput};
use choucha_service::disposal::{self, DisposalInput, DisposalQuery, DisposalRuleInput, FileInput};
use choucha_service::fixtures::lab_world::{self, Options, PNG, Stage, sig};
use choucha_service::fixtures::{Fixture, test_uscc};
use choucha_service::lab::{self, CorrectionInput, ResultInput};
use choucha_service::objections::{self, DecisionInput, ObjectionInput};
use choucha_service::results::{self, DeliveryInput};
use choucha_service::sampling::{self, CosignInput, RefusalInput};
use choucha_service::{Actor, ServiceError, Services};
use choucha_store::audit;
use chrono::NaiveDate;

const PRODUCER: &str = "阳高县示例石化有限公司";

/// The lab world with its task started but not yet sampled, and the bureaus and enterprise users
/// that follow a result up.
struct World {
    lab: lab_world::World,
    county: Actor,
    other_county: Actor,
    owner: Actor,
    stranger: Actor,
    plan: i64,
}

impl std::ops::Deref for World {
    type Target = lab_world::World;

    fn deref(&self) -> &lab_world::World {
        &self.lab
    }
}

fn s(w: &World) -> &Services {
    &w.fx.services
}

fn code(e: &ServiceError) -> &str {
    e.code()
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// The lab world's diesel plan of the Datong city bureau, its task at a seller in 平城区 (county
/// bureau dt-pc) started by the team. The nominal producer is registered in 阳高县 (bureau dt-yg).
async fn world() -> World {
    let lab = lab_world::world_with(Options { stage: Stage::Started, ..Default::default() }).await;
    let county = lab.fx.user("pc_reg", &["local_regulator"], Some("dt-pc")).await;
    let other_county = lab.fx.user("yg_reg", &["local_regulator"], Some("dt-yg")).await;
    let svc = &lab.fx.services;
    let owner = Fixture::make_user(svc, "ent_user", "王站长", &["enterprise"], None, Some(lab.uscc.as_str())).await;
    // Registered after the draw, so the draw cannot pick it.
    let other = lab.fx.enterprise("大同市平城区另一加油站", "140213", "销售者、加油站", 7).await;
    let stranger =
        Fixture::make_user(svc, "ent_other", "李经理", &["enterprise"], None, Some(other.uscc.as_str())).await;
    let plan = lab_world::plan_of(&lab).await;
    World { lab, county, other_county, owner, stranger, plan }
}

fn record() -> RecordFields {
    RecordFields {
        producer_name: PRODUCER.into(),
        producer_uscc: test_uscc("140221", 3).to_string(),
        ..lab_world::record()
    }
}

/// Sample, sign, dispatch, receive, test (sulfur `sulfur`) and issue the report; its id, the
/// sample's and its blind code.
async fn issued(w: &World, sulfur: f64) -> (i64, i64, String) {
    lab_world::sampled(&w.lab, w.task, record()).await;
    let r = lab_world::issued(&w.lab, sulfur).await;
    let sample = lab_world::sample_of_report(&w.lab, r.id).await;
    (r.id, sample.id, sample.blind_code.unwrap())
}

/// The enterprise's receipt of the result, recorded as today.
async fn received_today(w: &World, report: i64) {
    let ds = results::of_report(s(w), &w.custodian, report).await.unwrap();
    let ent = ds.iter().find(|x| x.recipient == "enterprise").unwrap();
    let today = s(w).today();
    let ems = DeliveryInput {
        method: "ems".into(),
        tracking_no: "1190012345678".into(),
        sent_on: Some(today),
        received_on: Some(today),
        ..Default::default()
    };
    results::record_delivery(s(w), &w.custodian, ent.id, ems).await.unwrap();
}

fn proof() -> Option<FileInput> {
    Some(FileInput { file_name: "receipt.png".into(), content_type: "image/png".into(), data_base64: PNG.into() })
}

fn due() -> DisposalQuery {
    DisposalQuery { filter: Some("due".into()), ..Default::default() }
}

#[tokio::test]
async fn unpaid_unqualified_samples_go_to_the_bureau_after_the_window_and_never_back_to_the_enterprise() {
    let w = world().await;
    let (report, _, _) = issued(&w, 12.5).await;
    let all = disposal::list(s(&w), &w.custodian, DisposalQuery { filter: Some("open".into()), ..Default::default() })
        .await
        .unwrap();
    let by = |p: &str| all.items.iter().find(|x| x.portion == p).unwrap().clone();
    let (test, backup) = (by("test"), by("backup"));
    // Rule 8: the test portion was bought; the backup is free. Rule 19 follows.
    assert_eq!((test.paid, test.required.as_str()), (true, "provincial_rule"));
    assert!(test.required_label.contains("检验机构按规定处置（销毁）"), "{}", test.required_label);
    assert_eq!((backup.paid, backup.required.as_str()), (false, "hand_over_to_bureau"));
    let handover = DisposalInput {
        method: "handed_over".into(),
        recipient: "平城区市场监管局 张科长".into(),
        proof: proof(),
        ..Default::default()
    };
    // Not received: not due; nothing listed as due.
    assert_eq!(
        code(&disposal::record(s(&w), &w.custodian, backup.id, handover.clone()).await.unwrap_err()),
        "rule19_not_received"
    );
    assert!(disposal::list(s(&w), &w.custodian, due()).await.unwrap().items.is_empty());
    received_today(&w, report).await;
    // Day 15: the window is still open.
    s(&w).shift_today(15);
    let e = disposal::record(s(&w), &w.custodian, backup.id, handover.clone()).await.unwrap_err();
    assert_eq!(code(&e), "rule19_window_open");
    assert!(e.to_string().contains("规则19"), "{e}");
    // Day 16: due, for the custodian and the organising bureau; testers and enterprises never see it.
    s(&w).shift_today(1);
    assert_eq!(disposal::list(s(&w), &w.custodian, due()).await.unwrap().items.len(), 2);
    assert_eq!(disposal::list(s(&w), &w.regulator, due()).await.unwrap().items.len(), 2);
    for outsider in [&w.t1, &w.owner, &w.county] {
        assert_eq!(code(&disposal::list(s(&w), outsider, due()).await.unwrap_err()), "forbidden");
    }
    // Returned to the enterprise: refused for an unqualified free sample.
    let back = DisposalInput { method: "returned".into(), ..handover.clone() };
    assert_eq!(
        code(&disposal::record(s(&w), &w.custodian, backup.id, back).await.unwrap_err()),
        "rule19_must_hand_over"
    );
    // The bureau sees but does not record; a proof is required.
    assert_eq!(
        code(&disposal::record(s(&w), &w.regulator, backup.id, handover.clone()).await.unwrap_err()),
        "forbidden"
    );
    let bare = DisposalInput { proof: None, ..handover.clone() };
    assert_eq!(code(&disposal::record(s(&w), &w.custodian, backup.id, bare).await.unwrap_err()), "rule19_proof");
    // A signature drawn on the custodian's phone needs the name of who signed it (here: the
    // recipient's; a destruction names its witness).
    let nameless = DisposalInput {
        recipient: String::new(),
        method: "destroyed".into(),
        recipient_signature_png_base64: PNG.into(),
        ..handover.clone()
    };
    let e = disposal::record(s(&w), &w.custodian, test.id, nameless).await.unwrap_err();
    assert_eq!(code(&e), "required");
    assert!(e.to_string().contains("见证人姓名"), "{e}");
    let chain = custody_chain::chain(s(&w), &w.regulator, w.task).await.unwrap();
    assert!(chain.portions.iter().flat_map(|p| p.hand_overs.iter()).all(|h| h.kind != "disposed"), "nothing written");
    let done = disposal::record(s(&w), &w.custodian, backup.id, handover.clone()).await.unwrap();
    assert_eq!((done.state.as_str(), done.method.as_str()), ("done", "handed_over"));
    // The disposal is a hand-over (issue 18): unsigned by the recipient, it waits for another
    // custodian's confirmation, and the chain shows the gap until then.
    let chain = custody_chain::chain(s(&w), &w.regulator, w.task).await.unwrap();
    let b = chain.portions.iter().find(|p| p.portion == "backup").unwrap();
    let h = b.hand_overs.iter().find(|h| h.kind == "disposed").expect("the disposal is a hand-over");
    assert_eq!((h.to_party.as_str(), h.counter_party.as_str()), ("平城区市场监管局 张科长", "witness"));
    assert!(h.confirmation.is_none());
    assert!(b.flags.iter().any(|f| f.code == "unconfirmed"), "{:?}", b.flags);
    assert!(custody_hands::confirm(s(&w), &w.custodian, h.id, ConfirmInput::default()).await.is_err());
    let keeper2 = w.fx.user("lab_keeper2", &["sample_custodian"], Some("lab")).await;
    custody_hands::confirm(s(&w), &keeper2, h.id, ConfirmInput::default()).await.unwrap();
    let chain = custody_chain::chain(s(&w), &w.regulator, w.task).await.unwrap();
    let b = chain.portions.iter().find(|p| p.portion == "backup").unwrap();
    assert!(!b.flags.iter().any(|f| f.code == "unconfirmed"), "{:?}", b.flags);
    assert!(done.proof.as_ref().is_some_and(|p| p.sha256.len() == 64));
    assert_eq!(
        code(&disposal::record(s(&w), &w.custodian, backup.id, handover).await.unwrap_err()),
        "already_disposed"
    );
    // Overdue after the province's days (30 by default; Shanxi set to 10 here).
    let overdue = || DisposalQuery { filter: Some("overdue".into()), ..Default::default() };
    assert!(disposal::list(s(&w), &w.custodian, overdue()).await.unwrap().items.is_empty());
    let rule =
        DisposalRuleInput { paid_rule: "按山西省局样品处置规定（试行）销毁".into(), overdue_days: 10 };
    assert_eq!(code(&disposal::set_rule(s(&w), &w.regulator, "140000", rule.clone()).await.unwrap_err()), "forbidden");
    disposal::set_rule(s(&w), &w.fx.admin, "140000", rule).await.unwrap();
    s(&w).shift_today(10);
    let late = disposal::list(s(&w), &w.custodian, overdue()).await.unwrap();
    assert_eq!(late.items.iter().map(|x| x.id).collect::<Vec<_>>(), [test.id]);
    assert!(late.items[0].required_label.contains("山西省局"), "{}", late.items[0].required_label);
    let counts = cases::overdue_counts(s(&w), w.plan).await.unwrap();
    assert_eq!(counts.disposals, 1);
    // The paid portion follows the provincial rule: destroyed.
    let destroy = DisposalInput {
        method: "destroyed".into(),
        note: "按规定销毁".into(),
        proof: proof(),
        witness_name: "赵见证".into(),
        recipient_signature_png_base64: PNG.into(),
        ..Default::default()
    };
    disposal::record(s(&w), &w.custodian, test.id, destroy).await.unwrap();
    // Witnessed on the custodian's phone: both hands at once.
    let chain = custody_chain::chain(s(&w), &w.regulator, w.task).await.unwrap();
    let t = chain.portions.iter().find(|p| p.portion == "test").unwrap();
    let h = t.hand_overs.iter().rev().find(|h| h.kind == "disposed").unwrap();
    assert_eq!(h.confirmation.as_ref().unwrap().confirmed_name, "赵见证");
    assert!(h.to_party.contains("销毁"), "{}", h.to_party);
    assert!(disposal::list(s(&w), &w.custodian, due()).await.unwrap().items.is_empty());
}

#[tokio::test]
async fn a_qualified_free_sample_is_returned_and_a_pending_objection_holds_it_back() {
    let w = world().await;
    let (report, _, _) = issued(&w, 5.0).await;
    received_today(&w, report).await;
    let open = disposal::list(s(&w), &w.custodian, DisposalQuery { filter: Some("open".into()), ..Default::default() })
        .await
        .unwrap();
    let backup = open.items.iter().find(|x| x.portion == "backup").unwrap().clone();
    assert_eq!(backup.required, "return_to_enterprise");
    // A re-test request within the window holds the backup back even after the window closes.
    s(&w).shift_today(3);
    let retest = ObjectionInput {
        kind: "retest".into(),
        items: vec!["硫含量".into()],
        reason: "复检".into(),
        ..Default::default()
    };
    let o = objections::file(s(&w), &w.owner, report, retest).await.unwrap();
    s(&w).shift_today(13);
    let ret =
        DisposalInput {
            method: "returned".into(), recipient: "王站长".into(), proof: proof(), ..Default::default()
        };
    assert_eq!(
        code(&disposal::record(s(&w), &w.custodian, backup.id, ret.clone()).await.unwrap_err()),
        "rule19_objection_open"
    );
    assert!(disposal::list(s(&w), &w.custodian, due()).await.unwrap().items.is_empty());
    objections::decide(s(&w), &w.regulator, o.id, DecisionInput { accept: false, reason: "不予受理：超出范围".into() })
        .await
        .unwrap();
    // Destroying a qualified free sample is refused; returning it is recorded.
    let destroy = DisposalInput { method: "destroyed".into(), ..ret.clone() };
    assert_eq!(
        code(&disposal::record(s(&w), &w.custodian, backup.id, destroy).await.unwrap_err()),
        "rule19_must_return"
    );
    disposal::record(s(&w), &w.custodian, backup.id, ret).await.unwrap();
    // No case for a qualified result.
    assert!(cases::list(s(&w), &w.regulator, CaseQuery::default()).await.unwrap().items.is_empty());
}

fn step(action: &str) -> StepInput {
    StepInput { action: action.into(), ..Default::default() }
}

#[tokio::test]
async fn an_unqualified_result_opens_a_case_at_the_local_bureau_under_the_2019_measures() {
    let w = world().await;
    let (report, sample, _) = issued(&w, 12.5).await;
    let today = s(&w).today();
    let list = cases::list(s(&w), &w.county, CaseQuery::default()).await.unwrap();
    assert_eq!(list.items.len(), 1);
    let c = list.items[0].clone();
    assert_eq!((c.kind.as_str(), c.bureau_name.as_str()), ("unqualified", "大同市平城区市场监督管理局"));
    assert!(c.rule_set.contains("2019"), "{}", c.rule_set);
    assert_eq!((c.producer_name.as_str(), c.producer_bureau_name.as_str()), (PRODUCER, "大同市阳高县市场监督管理局"));
    // The producer's bureau is told through its inbox, and sees the case; the county's inbox has it.
    let inbox = sampling::inbox(s(&w), &w.other_county, None, None).await.unwrap();
    assert!(inbox.items.iter().any(|i| i.kind == "case_producer" && i.title.contains(PRODUCER)), "{:?}", inbox.items);
    assert!(sampling::inbox(s(&w), &w.county, None, None).await.unwrap().items.iter().any(|i| i.kind == "case"));
    assert_eq!(cases::get(s(&w), &w.other_county, c.id).await.unwrap().case.id, c.id);
    // Testers, custodians and other enterprises never see it; the enterprise sees its own.
    for outsider in [&w.t1, &w.custodian] {
        assert_eq!(code(&cases::list(s(&w), outsider, CaseQuery::default()).await.unwrap_err()), "forbidden");
        assert_eq!(code(&cases::get(s(&w), outsider, c.id).await.unwrap_err()), "forbidden");
    }
    assert!(cases::my_cases(s(&w), &w.stranger).await.unwrap().is_empty());
    assert_eq!(code(&cases::get(s(&w), &w.stranger, c.id).await.unwrap_err()), "not_found");
    assert_eq!(cases::my_cases(s(&w), &w.owner).await.unwrap()[0].id, c.id);

    // Rule 18: a pending objection does not suspend post-processing.
    received_today(&w, report).await;
    let retest = ObjectionInput {
        kind: "retest".into(),
        items: vec!["硫含量".into()],
        reason: "复检".into(),
        ..Default::default()
    };
    objections::file(s(&w), &w.owner, report, retest).await.unwrap();

    // Steps in order, by the bureau that runs the case only.
    assert_eq!(
        code(&cases::step(s(&w), &w.county, c.id, step("correction_order")).await.unwrap_err()),
        "rule20_stop_first"
    );
    assert_eq!(code(&cases::step(s(&w), &w.other_county, c.id, step("stop_order")).await.unwrap_err()), "forbidden");
    assert_eq!(code(&cases::step(s(&w), &w.regulator, c.id, step("stop_order")).await.unwrap_err()), "forbidden");
    cases::step(s(&w), &w.county, c.id, step("stop_order")).await.unwrap();
    let too_long = StepInput { deadline: Some(today + chrono::Duration::days(61)), ..step("correction_order") };
    assert_eq!(code(&cases::step(s(&w), &w.county, c.id, too_long).await.unwrap_err()), "rule20_rectify_limit");
    let ordered = cases::step(s(&w), &w.county, c.id, step("correction_order")).await.unwrap();
    // 2019: 60 days to rectify and the 复查 within 75 days of the order.
    assert_eq!(ordered.case.rectify_due, Some(today + chrono::Duration::days(60)));
    assert_eq!(ordered.case.follow_up_check_due, Some(today + chrono::Duration::days(75)));
    assert_eq!(ordered.case.due_on, Some(today + chrono::Duration::days(75)));

    // The enterprise uploads its rectification report on its own case only.
    let report_file = RectificationInput {
        note: "已更换供油商".into(),
        document: FileInput {
            file_name: "整改报告.pdf".into(),
            content_type: "application/pdf".into(),
            data_base64: "JVBERi0xLjQK".into(),
        },
    };
    assert_eq!(
        code(&cases::submit_rectification(s(&w), &w.stranger, c.id, report_file.clone()).await.unwrap_err()),
        "not_found"
    );
    let no_file = StepInput { action: "rectification_report".into(), ..Default::default() };
    assert_eq!(code(&cases::step(s(&w), &w.owner, c.id, no_file).await.unwrap_err()), "rule20_report_file");
    let sub = cases::submit_rectification(s(&w), &w.owner, c.id, report_file).await.unwrap();
    assert_eq!(sub.case.state.as_str(), "report_submitted");
    let doc_step = sub.steps.last().unwrap();
    let (f, bytes) = cases::step_document(s(&w), &w.county, c.id, doc_step.id).await.unwrap();
    assert_eq!(f.content_type, "application/pdf");
    assert!(bytes.starts_with(b"%PDF"));
    // The enterprise may not record the bureau's steps.
    assert_eq!(
        code(&cases::step(s(&w), &w.owner, c.id, step("follow_up_check_passed")).await.unwrap_err()),
        "forbidden"
    );

    // A failed 复查 (with its report number) goes up to the province; the second 复查 waits 60 days.
    assert_eq!(
        code(&cases::step(s(&w), &w.county, c.id, step("follow_up_check_failed")).await.unwrap_err()),
        "required"
    );
    let failed = StepInput { report_no: "FC-2025-001".into(), ..step("follow_up_check_failed") };
    let esc = cases::step(s(&w), &w.county, c.id, failed).await.unwrap();
    assert_eq!(esc.case.state.as_str(), "escalated");
    assert_eq!(esc.case.second_follow_up_check_from, Some(today + chrono::Duration::days(60)));
    assert!(esc.steps.last().unwrap().details.contains("不向企业收费"));
    let province_inbox =
        choucha_store::sampling::inbox_of(s(&w).store().reader(), w.fx.province.id, None, 10).await.unwrap();
    assert!(province_inbox.items.iter().any(|i| i.kind == "case_escalated"));
    // The provincial bureau opens the escalated case from its inbox.
    let province = w.fx.user("sx_reg", &["regulator"], Some("sx")).await;
    assert_eq!(cases::get(s(&w), &province, c.id).await.unwrap().case.state.as_str(), "escalated");
    let second = StepInput { report_no: "FC-2025-002".into(), ..step("second_follow_up_check_failed") };
    assert_eq!(
        code(&cases::step(s(&w), &w.county, c.id, second.clone()).await.unwrap_err()),
        "rule20_second_follow_up_check_early"
    );
    s(&w).shift_today(60);
    cases::step(s(&w), &w.county, c.id, second).await.unwrap();
    assert_eq!(code(&cases::step(s(&w), &w.county, c.id, step("sanction")).await.unwrap_err()), "required");
    let sanction = StepInput { sanction: "suspension".into(), note: "责令停业整顿".into(), ..step("sanction") };
    let closed = cases::step(s(&w), &w.county, c.id, sanction).await.unwrap();
    assert_eq!((closed.case.state.as_str(), closed.actions.len()), ("closed", 0));
    assert_eq!(code(&cases::step(s(&w), &w.county, c.id, step("close")).await.unwrap_err()), "case_closed");
    let f = audit::AuditFilter { action: Some("case.step".into()), ..Default::default() };
    assert_eq!(audit::list(s(&w).store().reader(), &f, None, 50).await.unwrap().items.len(), 6);
    // The sample's disposals were opened with the report (rule 19).
    assert!(cases::get(s(&w), &w.county, c.id).await.unwrap().case.report_no.len() > 3);
    let _ = sample;
}

#[tokio::test]
async fn the_2015_rule_selected_for_the_province_counts_working_days_and_open_cases_keep_their_version() {
    let w = world().await;
    // Only admins add rule sets; a city regulator may select for its own division only.
    let sets = cases::rule_sets(s(&w), &w.regulator).await.unwrap();
    assert_eq!(sets.sets.len(), 2);
    let r2015 = sets.sets.iter().find(|x| x.name.contains("2015")).unwrap().id;
    let sel = SelectionInput { rule_set_id: r2015 };
    assert_eq!(
        code(&cases::select_rule_set(s(&w), &w.regulator, "140000", sel.clone()).await.unwrap_err()),
        "forbidden"
    );
    cases::select_rule_set(s(&w), &w.fx.admin, "140000", sel).await.unwrap();
    // The case opens on Tuesday 2025-09-30: five working days after it, across National Day (10-01..10-08
    // off, Saturday 10-11 worked), is 2025-10-14.
    let shift = (d(2025, 9, 30) - s(&w).today()).num_days();
    s(&w).shift_today(shift);
    issued(&w, 12.5).await;
    let c = cases::list(s(&w), &w.county, CaseQuery::default()).await.unwrap().items[0].clone();
    assert!(c.rule_set.contains("2015"), "{}", c.rule_set);
    assert_eq!((c.opened_on, c.due_on), (d(2025, 9, 30), Some(d(2025, 10, 14))));
    // A new version of the 2015 rule (admins only) does not change the open case.
    let mut limits = CaseLimits::rule_2015();
    limits.rectify_within = choucha_domain::calendar::TimeLimit::CalendarDays(20);
    let input = RuleSetInput { name: "2015年国家后处理规定".into(), note: String::new(), limits };
    assert_eq!(code(&cases::add_rule_set(s(&w), &w.regulator, input.clone()).await.unwrap_err()), "forbidden");
    let v2 = cases::add_rule_set(s(&w), &w.fx.admin, input).await.unwrap();
    assert_eq!(v2.version, 2);
    cases::select_rule_set(s(&w), &w.fx.admin, "140000", SelectionInput { rule_set_id: v2.id }).await.unwrap();
    cases::step(s(&w), &w.county, c.id, step("stop_order")).await.unwrap();
    let on = StepInput { happened_on: Some(d(2025, 9, 30)), ..step("correction_order") };
    let o = cases::step(s(&w), &w.county, c.id, on).await.unwrap();
    assert_eq!(o.case.rule_set_id, r2015);
    assert_eq!(o.case.rectify_due, Some(d(2025, 10, 30)), "30 days of version 1");
    // Overdue: the bureau that owes the 复查 sees it (no 复查 limit in 2015: due when rectification ends).
    assert!(
        cases::list(s(&w), &w.county, CaseQuery { filter: Some("overdue".into()), ..Default::default() })
            .await
            .unwrap()
            .items
            .is_empty()
    );
    s(&w).shift_today(31);
    let over = cases::list(s(&w), &w.county, CaseQuery { filter: Some("overdue".into()), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(over.items.len(), 1);
    assert!(over.items[0].overdue);
    let work = cases::overdue_of_plan(s(&w), w.plan, 50).await.unwrap();
    let step_work = work.iter().find(|x| x.kind == "case_step").unwrap();
    assert_eq!(step_work.owed_by, "大同市平城区市场监督管理局");
    assert_eq!(cases::overdue_counts(s(&w), w.plan).await.unwrap().case_steps, 1);
    assert_eq!(code(&cases::plan_overdue(s(&w), &w.county, w.plan).await.unwrap_err()), "not_found");
    assert_eq!(cases::plan_overdue(s(&w), &w.regulator, w.plan).await.unwrap().len(), work.len());
}

#[tokio::test]
async fn a_final_refusal_opens_a_case_and_a_qualified_retest_or_correction_closes_an_unqualified_one() {
    let w = world().await;
    sampling::refuse(
        s(&w),
        &w.s1,
        w.task,
        RefusalInput {
            facts: "拒绝抽样".into(), reasons: "认为样品价格过低".into(), witness_name: String::new()
        },
    )
    .await
    .unwrap();
    assert!(cases::list(s(&w), &w.county, CaseQuery::default()).await.unwrap().items.is_empty(), "not final yet");
    sampling::cosign_refusal(s(&w), &w.county, w.task, CosignInput { opinion: "认定拒检".into() }).await.unwrap();
    let c = cases::list(s(&w), &w.county, CaseQuery::default()).await.unwrap().items[0].clone();
    assert_eq!((c.kind.as_str(), c.bureau_org_id), ("refusal", w.fx.county.id));
    assert_eq!(cases::my_cases(s(&w), &w.owner).await.unwrap().len(), 1);

    // A second world: an unqualified case closed by a qualified re-test (the re-test code calls this).
    let w2 = world().await;
    let (_, sample, _) = issued(&w2, 12.5).await;
    let tx = s(&w2).write(&w2.regulator).await.unwrap();
    cases::close_on_retest_qualified(s(&w2), &tx, sample, &w2.regulator).await.unwrap();
    tx.commit_recorded().await.unwrap();
    let all = cases::list(s(&w2), &w2.county, CaseQuery { filter: Some("closed".into()), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(all.items.len(), 1);
    assert!(all.items[0].closed_reason.contains("复检"), "{}", all.items[0].closed_reason);

    // A third: a corrected report (rule 15) that finds the sample qualified closes the case, and the
    // free backup is now due back to the enterprise.
    let w3 = world().await;
    let (report, _, bc) = issued(&w3, 12.5).await;
    lab::correct_report(s(&w3), &w3.t1, report, CorrectionInput { reason: "硫含量复核后数据更正".into() })
        .await
        .unwrap();
    let result =
        ResultInput { item_index: Some(0), value: Some(9.0), instrument: "XRF-01".into(), ..Default::default() };
    lab::enter_result(s(&w3), &w3.t1, &bc, result).await.unwrap();
    lab::complete_results(s(&w3), &w3.t1, &bc).await.unwrap();
    let r2 = lab::prepare_report(s(&w3), &w3.t1, &bc, sig()).await.unwrap();
    lab::review_report(s(&w3), &w3.a1, r2.id, sig()).await.unwrap();
    choucha_service::issue::approve_report(s(&w3), &w3.a2, r2.id, sig()).await.unwrap();
    let c = cases::list(s(&w3), &w3.county, CaseQuery { filter: Some("all".into()), ..Default::default() })
        .await
        .unwrap()
        .items[0]
        .clone();
    assert_eq!(c.state.as_str(), "closed");
    assert!(c.closed_reason.contains("更正"), "{}", c.closed_reason);
    let open = DisposalQuery { filter: Some("open".into()), ..Default::default() };
    let ds = disposal::list(s(&w3), &w3.custodian, open).await.unwrap().items;
    let backup = ds.iter().find(|x| x.portion == "backup").unwrap();
    assert_eq!((ds.len(), backup.report_id, backup.required.as_str()), (2, r2.id, "return_to_enterprise"));
}

#[tokio::test]
async fn only_the_provincial_bureau_or_an_admin_decides_which_rule_set_binds_a_division() {
    let w = world().await;
    let sets = cases::rule_sets(s(&w), &w.county).await.unwrap();
    let r2015 = sets.sets.iter().find(|x| x.name.contains("2015")).unwrap().id;
    let sel = SelectionInput { rule_set_id: r2015 };
    // The county bureau that runs the cases may not move its own enterprises onto the laxer rule,
    // nor may the city bureau; nothing is written.
    assert_eq!(code(&cases::select_rule_set(s(&w), &w.county, "140213", sel.clone()).await.unwrap_err()), "forbidden");
    assert_eq!(
        code(&cases::select_rule_set(s(&w), &w.regulator, "140200", sel.clone()).await.unwrap_err()),
        "forbidden"
    );
    let unchanged = cases::rule_sets(s(&w), &w.county).await.unwrap();
    assert_eq!(serde_json::to_value(&unchanged).unwrap(), serde_json::to_value(&sets).unwrap());
    // The provincial bureau decides for a division of its province, not for another province's.
    let province = w.lab.fx.user("sx_reg", &["regulator"], Some("sx")).await;
    assert_eq!(code(&cases::select_rule_set(s(&w), &province, "110101", sel.clone()).await.unwrap_err()), "forbidden");
    let after = cases::select_rule_set(s(&w), &province, "140213", sel).await.unwrap();
    assert_ne!(serde_json::to_value(&after).unwrap(), serde_json::to_value(&sets).unwrap());
}

#[tokio::test]
async fn the_bureau_prints_its_stop_and_correction_orders_from_the_case() {
    let w = world().await;
    issued(&w, 12.5).await;
    let today = s(&w).today();
    let c = cases::list(s(&w), &w.county, CaseQuery::default()).await.unwrap().items[0].clone();
    let text = |pdf: Vec<u8>| -> String {
        lab_world::pdf_text(&pdf).expect("pdftotext").chars().filter(|c| !c.is_whitespace()).collect()
    };
    let stop = StepInput { note: "平市监责停〔2025〕3号".into(), ..step("stop_order") };
    let d = cases::step(s(&w), &w.county, c.id, stop).await.unwrap();
    let st = d.steps.last().unwrap().clone();
    assert!(st.has_order);
    let t = text(cases::order_pdf(s(&w), &w.county, c.id, st.id).await.unwrap());
    for want in [
        "责令停止生产销售通知书",
        "平市监责停〔2025〕3号",
        lab_world::ENTERPRISE,
        "硫含量",
        "山西省检验检测中心",
        "大同市平城区市场监督管理局",
        "立即停止生产、销售同一产品",
    ] {
        assert!(t.contains(want), "{want} missing in {t}");
    }
    let d = cases::step(s(&w), &w.county, c.id, step("correction_order")).await.unwrap();
    let order = d.steps.last().unwrap().clone();
    let t = text(cases::order_pdf(s(&w), &w.county, c.id, order.id).await.unwrap());
    let due = (today + chrono::Duration::days(60)).format("%Y年%-m月%-d日").to_string();
    assert!(t.contains("责令整改通知书") && t.contains(&due) && t.contains("整改报告"), "{due} missing in {t}");
    // The enterprise reads its own order; other enterprises and lab staff never.
    assert!(cases::order_pdf(s(&w), &w.owner, c.id, order.id).await.unwrap().starts_with(b"%PDF"));
    assert_eq!(code(&cases::order_pdf(s(&w), &w.stranger, c.id, order.id).await.unwrap_err()), "not_found");
    assert_eq!(code(&cases::order_pdf(s(&w), &w.t1, c.id, order.id).await.unwrap_err()), "forbidden");
    // A step that is no order has no notice.
    let report_file = RectificationInput {
        note: "已整改".into(),
        document: FileInput {
            file_name: "整改报告.pdf".into(),
            content_type: "application/pdf".into(),
            data_base64: "JVBERi0xLjQK".into(),
        },
    };
    let sub = cases::submit_rectification(s(&w), &w.owner, c.id, report_file).await.unwrap();
    let last = sub.steps.last().unwrap();
    assert!(!last.has_order);
    assert_eq!(code(&cases::order_pdf(s(&w), &w.county, c.id, last.id).await.unwrap_err()), "not_found");
}
