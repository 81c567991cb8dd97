//! Hand-over after sampling through the service layer: seals written when the record locks,
//! dispatch to the testing institution (rule 8), the backup kept at the enterprise only with the
//! organising bureau's approval (rule 9), the forms as PDF from the stored data, not sampled with
//! the place freed for a redraw, the rule 16 entry deadline and the plan's costs (rule 21).
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use choucha_domain::sampling::RecordFields;
use choucha_service::ServiceError;
use choucha_service::draws::{self, DrawFilters, RedrawRequest};
use choucha_service::fixtures::lab_world::{self, Options, Stage, World, pdf_text, s, sign, world_with};
use choucha_service::handover::{
    self, ArrivalInput, BackupDecisionInput, BackupRequestInput, DispatchInput, NotSampledInput,
};
use choucha_service::sampling::{self, CosignInput, ProblemInput, RefusalInput};

const ENTERPRISE: &str = "大同市平城区示例加油站";

/// The lab world's task drawn from three sellers (quota and budget as given), not started.
async fn world(quota: u32, budget: Option<&'static str>) -> World {
    world_with(Options { stage: Stage::Drawn, ..options(quota, budget) }).await
}

/// As `world`, the task started by the team.
async fn started(quota: u32, budget: Option<&'static str>) -> World {
    world_with(Options { stage: Stage::Started, ..options(quota, budget) }).await
}

fn options(quota: u32, budget: Option<&'static str>) -> Options {
    Options { more_enterprises: 2, quota: Some(quota), budget_yuan: budget, ..Default::default() }
}

/// The sampler's worklist (batched views) shows the task exactly as its own page does.
async fn worklist_agrees(w: &World) {
    let single = draws::get_task(s(w), &w.s1, w.task).await.unwrap();
    let page = draws::my_tasks(s(w), &w.s1, None, None).await.unwrap();
    let listed = page.items.iter().find(|t| t.id == w.task).expect("task in the worklist");
    assert_eq!(serde_json::to_value(listed).unwrap(), serde_json::to_value(&single).unwrap());
}

/// Today in China, as typed on site.
fn china_now() -> chrono::NaiveDateTime {
    choucha_domain::clock::Clock::system().now_beijing()
}

fn record_at(sampled_at: &str) -> RecordFields {
    RecordFields { brand: "中国石化".into(), sampled_at: sampled_at.into(), ..lab_world::record() }
}

fn record() -> RecordFields {
    record_at(&china_now().format("%Y-%m-%d %H:%M").to_string())
}

async fn lock(w: &World) {
    lab_world::photograph(s(w), &w.s1, w.task).await;
    sampling::sign(s(w), &w.s1, w.task, sign("self")).await.unwrap();
    sampling::sign(s(w), &w.s2, w.task, sign("self")).await.unwrap();
    let r = sampling::sign(s(w), &w.s1, w.task, sign("enterprise")).await.unwrap();
    assert_eq!(r.state.as_str(), "signed");
}

fn carried() -> DispatchInput {
    DispatchInput { mode: "carried".into(), carrier: "抽样人员张三".into(), ..Default::default() }
}

fn code(e: ServiceError) -> String {
    match e {
        ServiceError::Rule(v) => v.code.to_string(),
        ServiceError::Invalid(v) => v.iter().map(|v| v.code).collect::<Vec<_>>().join(","),
        ServiceError::Forbidden(_) => "forbidden".into(),
        ServiceError::NotFound(_) => "not_found".into(),
        other => format!("{other:?}"),
    }
}

#[tokio::test]
async fn seals_are_recorded_when_the_record_locks_and_the_sample_is_dispatched_once() {
    let w = started(10, None).await;
    sampling::save_record(s(&w), &w.s1, w.task, record()).await.unwrap();
    // Not before the record is locked.
    assert_eq!(code(handover::dispatch(s(&w), &w.s1, w.task, carried()).await.unwrap_err()), "task_state");
    assert!(handover::custody(s(&w), &w.s1, w.task).await.unwrap().is_empty());
    lock(&w).await;
    let chain = handover::custody(s(&w), &w.s1, w.task).await.unwrap();
    let sealed: Vec<_> =
        chain.iter().filter(|e| e.kind == "sealed").map(|e| (e.portion.as_str(), e.note.as_str())).collect();
    assert_eq!(sealed, [("test", "封条编号：SXGH-000123"), ("backup", "封条编号：SXGH-000124")]);

    // Only the team's samplers dispatch.
    let outsider = w.fx.user("lab_s3", &["sampler"], Some("lab")).await;
    assert_eq!(code(handover::dispatch(s(&w), &outsider, w.task, carried()).await.unwrap_err()), "forbidden");
    assert_eq!(code(handover::dispatch(s(&w), &w.regulator, w.task, carried()).await.unwrap_err()), "forbidden");
    let shipped = DispatchInput { mode: "shipped".into(), carrier: "EMS".into(), ..Default::default() };
    assert_eq!(code(handover::dispatch(s(&w), &w.s1, w.task, shipped).await.unwrap_err()), "required");
    let future = DispatchInput {
        dispatched_at: Some(choucha_domain::clock::Clock::system().now() + chrono::Duration::hours(2)),
        ..carried()
    };
    assert_eq!(code(handover::dispatch(s(&w), &w.s1, w.task, future).await.unwrap_err()), "future_time");
    let bad_mode = DispatchInput { mode: "flown".into(), ..carried() };
    assert_eq!(code(handover::dispatch(s(&w), &w.s1, w.task, bad_mode).await.unwrap_err()), "invalid_mode");

    let shipped = DispatchInput {
        mode: "shipped".into(),
        carrier: "EMS".into(),
        tracking_no: "EA123456789CN".into(),
        ..Default::default()
    };
    let chain = handover::dispatch(s(&w), &w.s2, w.task, shipped).await.unwrap();
    let sent: Vec<_> = chain.iter().filter(|e| e.kind == "dispatched").map(|e| e.portion.as_str()).collect();
    assert_eq!(sent, ["test", "backup"]);
    assert!(chain.iter().filter(|e| e.kind == "dispatched").all(|e| e.tracking_no == "EA123456789CN"));
    assert_eq!(code(handover::dispatch(s(&w), &w.s1, w.task, carried()).await.unwrap_err()), "already_dispatched");

    // The testing institution's custodian sees the chain, never the enterprise's name; its testers
    // do not see it at all (seal numbers, samplers and times would join the blind sample to the
    // enterprise, rule 13).
    let seen = handover::custody(s(&w), &w.custodian, w.task).await.unwrap();
    assert_eq!(seen.len(), 4);
    assert!(!serde_json::to_string(&seen).unwrap().contains(ENTERPRISE));
    assert_eq!(code(handover::custody(s(&w), &w.t1, w.task).await.unwrap_err()), "not_found");
    let other_bureau = w.fx.user("sx_reg", &["regulator"], Some("sx")).await;
    assert_eq!(code(handover::custody(s(&w), &other_bureau, w.task).await.unwrap_err()), "not_found");
}

#[tokio::test]
async fn the_backup_stays_at_the_enterprise_only_with_the_organising_bureaus_approval() {
    let w = started(10, None).await;
    let input = || BackupRequestInput {
        reason: "样品体积大，不易运输".into(),
        storage_place: "企业油库2号罐旁库房".into(),
        storage_conditions: "阴凉、避光".into(),
    };
    // Not before the record is saved.
    assert_eq!(code(handover::request_backup(s(&w), &w.s1, w.task, input()).await.unwrap_err()), "task_state");
    sampling::save_record(s(&w), &w.s1, w.task, record()).await.unwrap();
    let outsider = w.fx.user("lab_s3", &["sampler"], Some("lab")).await;
    assert_eq!(code(handover::request_backup(s(&w), &outsider, w.task, input()).await.unwrap_err()), "forbidden");
    let empty = BackupRequestInput::default();
    assert_eq!(code(handover::request_backup(s(&w), &w.s1, w.task, empty).await.unwrap_err()), "required,required");
    let req = handover::request_backup(s(&w), &w.s1, w.task, input()).await.unwrap();
    assert_eq!(req.state.as_str(), "pending");
    assert_eq!(code(handover::request_backup(s(&w), &w.s2, w.task, input()).await.unwrap_err()), "rule9_open_request");
    let inbox = sampling::inbox(s(&w), &w.regulator, None, None).await.unwrap();
    assert!(inbox.items.iter().any(|i| i.kind == "backup_request" && i.ref_id == req.id && !i.read));
    assert_eq!(code(handover::sealing_notice_pdf(s(&w), &w.s1, w.task).await.unwrap_err()), "rule9_not_approved");

    // While the bureau has not decided, the sample does not leave.
    lock(&w).await;
    assert_eq!(code(handover::dispatch(s(&w), &w.s1, w.task, carried()).await.unwrap_err()), "rule9_pending");

    // Only a regulator of the organising bureau decides.
    let approve = || BackupDecisionInput { approve: true, opinion: "同意在企业封存".into() };
    let county = w.fx.user("pc_reg", &["local_regulator"], Some("dt-pc")).await;
    let province = w.fx.user("sx_reg", &["regulator"], Some("sx")).await;
    for who in [&county, &province, &w.s1, &w.t1] {
        assert_eq!(
            code(handover::decide_backup(s(&w), who, req.id, approve()).await.unwrap_err()),
            "rule9_organising_bureau"
        );
    }
    let deny_silently = BackupDecisionInput { approve: false, opinion: " ".into() };
    assert_eq!(
        code(handover::decide_backup(s(&w), &w.regulator, req.id, deny_silently).await.unwrap_err()),
        "required"
    );
    let decided = handover::decide_backup(s(&w), &w.regulator, req.id, approve()).await.unwrap();
    assert_eq!((decided.state.as_str(), decided.decided_by.as_str()), ("approved", "dt_reg"));
    assert_eq!(
        code(handover::decide_backup(s(&w), &w.regulator, req.id, approve()).await.unwrap_err()),
        "already_decided"
    );
    let inbox = sampling::inbox(s(&w), &w.regulator, None, None).await.unwrap();
    assert!(inbox.items.iter().filter(|i| i.kind == "backup_request").all(|i| i.read), "decided items are read");

    let chain = handover::custody(s(&w), &w.s1, w.task).await.unwrap();
    assert!(chain.iter().any(|e| e.kind == "kept_at_enterprise" && e.portion == "backup"));
    let pdf = handover::sealing_notice_pdf(s(&w), &w.s1, w.task).await.unwrap();
    if let Some(text) = pdf_text(&pdf) {
        for want in
            ["封存和处置告知单", "企业油库2号罐旁库房", "SXGH-000124", "样品体积大，不易运输", "大同市市场监督管理局"]
        {
            assert!(text.contains(want), "{want} missing in {text}");
        }
    }
    let docs = handover::documents(s(&w), &w.s1, w.task).await.unwrap();
    assert!(docs.iter().any(|d| d.kind == "sealing_notice" && d.left_with_enterprise));

    // Dispatch then sends the test portion only.
    let chain = handover::dispatch(s(&w), &w.s1, w.task, carried()).await.unwrap();
    let sent: Vec<_> = chain.iter().filter(|e| e.kind == "dispatched").map(|e| e.portion.as_str()).collect();
    assert_eq!(sent, ["test"]);
}

#[tokio::test]
async fn a_denied_backup_goes_to_the_lab_with_the_test_portion() {
    let w = started(10, None).await;
    sampling::save_record(s(&w), &w.s1, w.task, record()).await.unwrap();
    lock(&w).await;
    let req = handover::request_backup(
        s(&w),
        &w.s1,
        w.task,
        BackupRequestInput {
            reason: "企业要求".into(),
            storage_place: "库房".into(),
            storage_conditions: String::new(),
        },
    )
    .await
    .unwrap();
    let d = handover::decide_backup(
        s(&w),
        &w.regulator,
        req.id,
        BackupDecisionInput { approve: false, opinion: "柴油便于运输，随检验样品送检".into() },
    )
    .await
    .unwrap();
    assert_eq!(d.state.as_str(), "denied");
    assert_eq!(code(handover::sealing_notice_pdf(s(&w), &w.s1, w.task).await.unwrap_err()), "rule9_not_approved");
    let chain = handover::dispatch(s(&w), &w.s1, w.task, carried()).await.unwrap();
    let sent: Vec<_> = chain.iter().filter(|e| e.kind == "dispatched").map(|e| e.portion.as_str()).collect();
    assert_eq!(sent, ["test", "backup"]);
    // After dispatch nothing can stay at the enterprise.
    let again = BackupRequestInput { reason: "x".into(), storage_place: "y".into(), storage_conditions: String::new() };
    assert_eq!(code(handover::request_backup(s(&w), &w.s1, w.task, again).await.unwrap_err()), "already_dispatched");
}

#[tokio::test]
async fn arrival_records_that_the_notice_identity_and_authorisation_were_shown() {
    let w = world(10, None).await;
    let all = ArrivalInput { notice_shown: true, identity_shown: true, authorisation_shown: true };
    assert_eq!(code(handover::record_arrival(s(&w), &w.s1, w.task, all.clone()).await.unwrap_err()), "task_state");
    assert_eq!(code(handover::notice_pdf(s(&w), &w.s1, w.task).await.unwrap_err()), "task_state");
    draws::start_task(s(&w), &w.s1, w.task).await.unwrap();
    let partial = ArrivalInput { authorisation_shown: false, ..all.clone() };
    assert_eq!(code(handover::record_arrival(s(&w), &w.s1, w.task, partial).await.unwrap_err()), "documents_not_shown");
    assert_eq!(code(handover::record_arrival(s(&w), &w.t1, w.task, all.clone()).await.unwrap_err()), "forbidden");
    let a = handover::record_arrival(s(&w), &w.s1, w.task, all.clone()).await.unwrap();
    assert!(a.notice_shown && a.identity_shown && a.authorisation_shown);
    worklist_agrees(&w).await;
    assert_eq!(code(handover::record_arrival(s(&w), &w.s2, w.task, all).await.unwrap_err()), "already_recorded");
}

#[tokio::test]
async fn the_forms_come_from_the_stored_data_for_the_team_and_both_bureaus_only() {
    let w = started(10, None).await;
    let notice = handover::notice_pdf(s(&w), &w.s1, w.task).await.unwrap();
    if let Some(text) = pdf_text(&notice) {
        for want in [
            "监督抽查通知书",
            "2025年车用柴油监督抽查",
            "车用柴油",
            "lab_s1",
            "lab_s2",
            "大同市市场监督管理局",
            "李明",
            "0352-5022345",
        ] {
            assert!(text.contains(want), "{want} missing in {text}");
        }
        assert!(text.contains(ENTERPRISE), "the enterprise named on its notice");
    }
    // No payment form before a record exists.
    assert_eq!(code(handover::payment_form_pdf(s(&w), &w.s1, w.task).await.unwrap_err()), "no_record");
    let mut market = record();
    market.price_basis = choucha_domain::sampling::PriceBasis::Market;
    sampling::save_record(s(&w), &w.s1, w.task, market).await.unwrap();
    lock(&w).await;
    let pay = handover::payment_form_pdf(s(&w), &w.regulator, w.task).await.unwrap();
    if let Some(text) = pdf_text(&pay) {
        for want in ["样品付费单", "14.70", "7.35", "同类产品市场价格", "大同市市场监督管理局", "不向被抽样单位收取"]
        {
            assert!(text.contains(want), "{want} missing in {text}");
        }
    }
    let feedback = handover::feedback_form_pdf(s(&w), &w.s1, w.task).await.unwrap();
    if let Some(text) = pdf_text(&feedback) {
        for want in ["工作质量及工作纪律反馈单", "lab_s1", "山西省检验检测中心"] {
            assert!(text.contains(want), "{want} missing in {text}");
        }
    }
    // The enterprise's local bureau sees them; a tester or another county never does.
    let county = w.fx.user("pc_reg", &["local_regulator"], Some("dt-pc")).await;
    let docs = handover::documents(s(&w), &county, w.task).await.unwrap();
    let kinds: Vec<_> = docs.iter().map(|d| d.kind.as_str()).collect();
    assert_eq!(kinds, ["notice", "record", "payment_form", "feedback_form"]);
    let left: Vec<_> = docs.iter().filter(|d| d.left_with_enterprise).map(|d| d.kind.as_str()).collect();
    assert_eq!(left, ["notice", "record", "feedback_form"]);
    let other_county = w.fx.user("yg_reg", &["local_regulator"], Some("dt-yg")).await;
    for who in [&w.t1, &other_county] {
        assert_eq!(code(handover::documents(s(&w), who, w.task).await.unwrap_err()), "not_found");
        assert_eq!(code(handover::notice_pdf(s(&w), who, w.task).await.unwrap_err()), "not_found");
        assert_eq!(code(handover::payment_form_pdf(s(&w), who, w.task).await.unwrap_err()), "not_found");
    }
}

#[tokio::test]
async fn the_refusal_form_shows_the_county_bureaus_cosignature_once_given() {
    let w = started(10, None).await;
    assert_eq!(code(handover::refusal_pdf(s(&w), &w.s1, w.task).await.unwrap_err()), "no_refusal");
    sampling::refuse(
        s(&w),
        &w.s1,
        w.task,
        RefusalInput {
            facts: "以明显不合理的价格阻碍抽样".into(),
            reasons: "认为样品价格过低".into(),
            witness_name: String::new(),
        },
    )
    .await
    .unwrap();
    let before = handover::refusal_pdf(s(&w), &w.s1, w.task).await.unwrap();
    if let Some(text) = pdf_text(&before) {
        assert!(text.contains("拒检认定表") && text.contains("以明显不合理的价格阻碍抽样"), "{text}");
        assert!(!text.contains("经核实，认定为拒检"));
    }
    let county = w.fx.user("pc_reg", &["local_regulator"], Some("dt-pc")).await;
    sampling::cosign_refusal(s(&w), &county, w.task, CosignInput { opinion: "经核实，认定为拒检".into() })
        .await
        .unwrap();
    let after = handover::refusal_pdf(s(&w), &county, w.task).await.unwrap();
    if let Some(text) = pdf_text(&after) {
        for want in ["经核实，认定为拒检", "pc_reg", "大同市平城区市场监督管理局"] {
            assert!(text.contains(want), "{want} missing in {text}");
        }
    }
    let docs = handover::documents(s(&w), &w.regulator, w.task).await.unwrap();
    assert!(docs.iter().any(|d| d.kind == "refusal"));
    assert_eq!(code(handover::refusal_pdf(s(&w), &w.t1, w.task).await.unwrap_err()), "not_found");
}

#[tokio::test]
async fn the_problem_report_is_a_pdf_after_the_report() {
    let w = started(10, None).await;
    assert_eq!(code(handover::problem_report_pdf(s(&w), &w.s1, w.task).await.unwrap_err()), "no_problem");
    let p = ProblemInput { violation: "无证无照".into(), facts: "现场未能出示营业执照".into() };
    sampling::report_problem(s(&w), &w.s1, w.task, p).await.unwrap();
    let pdf = handover::problem_report_pdf(s(&w), &w.regulator, w.task).await.unwrap();
    if let Some(text) = pdf_text(&pdf) {
        for want in ["问题报送单", "无证无照", "现场未能出示营业执照", "大同市平城区市场监督管理局", ENTERPRISE]
        {
            assert!(text.contains(want), "{want} missing in {text}");
        }
    }
}

#[tokio::test]
async fn not_sampled_needs_a_reason_and_frees_the_place_for_one_redraw() {
    let w = world(1, None).await;
    let input = |k: &str, note: &str| NotSampledInput { reason_kind: k.into(), note: note.into() };
    assert_eq!(
        code(handover::mark_not_sampled(s(&w), &w.s1, w.task, input("倒闭", "")).await.unwrap_err()),
        "invalid_reason"
    );
    assert_eq!(
        code(handover::mark_not_sampled(s(&w), &w.s1, w.task, input("other", " ")).await.unwrap_err()),
        "required"
    );
    assert_eq!(
        code(handover::mark_not_sampled(s(&w), &w.t1, w.task, input("closed", "")).await.unwrap_err()),
        "forbidden"
    );
    // The quota of one is used up by the drawn task.
    let preview = draws::preview(s(&w), &w.regulator, w.item, &DrawFilters::default()).await.unwrap();
    assert_eq!(preview.remaining_quota, 0);
    let state =
        handover::mark_not_sampled(s(&w), &w.s1, w.task, input("closed", "大门紧锁，门口张贴停业公告")).await.unwrap();
    assert_eq!(state.as_str(), "not_sampled");
    assert_eq!(
        code(handover::mark_not_sampled(s(&w), &w.s1, w.task, input("closed", "")).await.unwrap_err()),
        "task_state"
    );
    let inbox = sampling::inbox(s(&w), &w.regulator, None, None).await.unwrap();
    assert!(inbox.items.iter().any(|i| i.kind == "not_sampled" && i.title.contains("停业")));
    let preview = draws::preview(s(&w), &w.regulator, w.item, &DrawFilters::default()).await.unwrap();
    assert_eq!(preview.remaining_quota, 1, "the place is free again");

    let redraw = || RedrawRequest { task_id: w.task, reason: "停业".into(), seed: "r".into() };
    let d = draws::redraw(s(&w), &w.regulator, redraw()).await.unwrap();
    assert_eq!(d.drawn.len(), 1);
    assert!(!d.drawn[0].name.is_empty());
    let preview = draws::preview(s(&w), &w.regulator, w.item, &DrawFilters::default()).await.unwrap();
    assert_eq!(preview.remaining_quota, 0, "the freed place is counted once");
    assert_eq!(code(draws::redraw(s(&w), &w.regulator, redraw()).await.unwrap_err()), "already_redrawn");
}

#[tokio::test]
async fn a_task_in_progress_or_sampled_cannot_be_not_sampled_once_sampled() {
    let w = started(10, None).await;
    sampling::save_record(s(&w), &w.s1, w.task, record()).await.unwrap();
    lock(&w).await;
    let input = NotSampledInput { reason_kind: "no_stock".into(), note: String::new() };
    assert_eq!(code(handover::mark_not_sampled(s(&w), &w.s1, w.task, input).await.unwrap_err()), "task_state");
    let w = started(10, None).await;
    let input = NotSampledInput { reason_kind: "无符合最低基数的库存".into(), note: String::new() };
    // The organising bureau may record it too.
    let state = handover::mark_not_sampled(s(&w), &w.regulator, w.task, input).await.unwrap();
    assert_eq!(state.as_str(), "not_sampled");
}

#[tokio::test]
async fn sampling_entered_after_the_next_day_is_late_and_unentered_is_overdue() {
    let w = started(10, None).await;
    // Sampled three days ago (China's time), not yet locked: overdue.
    let three_days_ago = (china_now() - chrono::Duration::days(3)).format("%Y-%m-%d 10:00").to_string();
    sampling::save_record(s(&w), &w.s1, w.task, record_at(&three_days_ago)).await.unwrap();
    let t = draws::get_task(s(&w), &w.s1, w.task).await.unwrap();
    assert!(t.entry_overdue && !t.entry_late, "{t:?}");
    worklist_agrees(&w).await;
    let mine = handover::entry_flags_of_sampler(s(&w), &w.s1).await.unwrap();
    assert_eq!(mine.overdue.iter().map(|f| f.task_id).collect::<Vec<_>>(), [w.task]);
    let bureau = handover::entry_flags_of_bureau(s(&w), &w.regulator).await.unwrap();
    assert_eq!(bureau.overdue.len(), 1);
    let other = w.fx.user("sx_reg", &["regulator"], Some("sx")).await;
    assert!(handover::entry_flags_of_bureau(s(&w), &other).await.unwrap().overdue.is_empty());
    assert!(matches!(handover::entry_flags_of_bureau(s(&w), &w.s1).await, Err(ServiceError::Forbidden(_))));
    assert!(matches!(handover::entry_flags_of_sampler(s(&w), &w.regulator).await, Err(ServiceError::Forbidden(_))));
    // Locked now: entered late.
    lock(&w).await;
    let t = draws::get_task(s(&w), &w.s1, w.task).await.unwrap();
    assert!(t.entry_late && !t.entry_overdue, "{t:?}");
    worklist_agrees(&w).await;
    let bureau = handover::entry_flags_of_bureau(s(&w), &w.regulator).await.unwrap();
    assert!(bureau.overdue.is_empty());
    assert_eq!(bureau.late.iter().map(|f| f.task_id).collect::<Vec<_>>(), [w.task]);

    // Sampled yesterday just after midnight (China) and locked today: in time.
    let w = started(10, None).await;
    let yesterday = (china_now() - chrono::Duration::days(1)).format("%Y-%m-%d 00:05").to_string();
    sampling::save_record(s(&w), &w.s1, w.task, record_at(&yesterday)).await.unwrap();
    let t = draws::get_task(s(&w), &w.s1, w.task).await.unwrap();
    assert!(!t.entry_overdue && !t.entry_late);
    lock(&w).await;
    let t = draws::get_task(s(&w), &w.s1, w.task).await.unwrap();
    assert!(!t.entry_overdue && !t.entry_late, "{t:?}");
    assert!(t.entry_deadline.is_some());
    let mine = handover::entry_flags_of_sampler(s(&w), &w.s1).await.unwrap();
    assert!(mine.overdue.is_empty() && mine.late.is_empty());
}

#[tokio::test]
async fn costs_are_the_test_portions_paid_against_the_budget_for_the_organising_bureau() {
    let w = started(10, Some("10")).await;
    let c = handover::plan_costs(s(&w), &w.regulator, w.plan).await.unwrap();
    assert_eq!((c.total_paid_fen, c.over_budget), (0, false));
    sampling::save_record(s(&w), &w.s1, w.task, record()).await.unwrap();
    // A draft record is not a payment yet.
    assert_eq!(handover::plan_costs(s(&w), &w.regulator, w.plan).await.unwrap().total_paid_fen, 0);
    lock(&w).await;
    let c = handover::plan_costs(s(&w), &w.regulator, w.plan).await.unwrap();
    assert_eq!(c.items.len(), 1);
    assert_eq!((c.items[0].samples, c.items[0].paid_fen), (1, 1470));
    assert_eq!(c.total_paid_yuan, "14.70");
    assert_eq!(c.budget_yuan.as_deref(), Some("10.00"));
    assert_eq!(c.remaining_yuan.as_deref(), Some("-4.70"));
    assert!(c.over_budget);
    assert_eq!(c.charged_to_enterprises_fen, 0);
    let other = w.fx.user("sx_reg", &["regulator"], Some("sx")).await;
    for who in [&other, &w.s1, &w.t1] {
        assert_eq!(code(handover::plan_costs(s(&w), who, w.plan).await.unwrap_err()), "not_found");
    }
}

#[tokio::test]
async fn inbox_items_are_marked_read_by_their_own_bureau_only() {
    let w = started(10, None).await;
    sampling::report_problem(
        s(&w),
        &w.s1,
        w.task,
        ProblemInput { violation: "无证无照".into(), facts: "无执照".into() },
    )
    .await
    .unwrap();
    let item = sampling::inbox(s(&w), &w.regulator, None, None).await.unwrap().items[0].clone();
    assert!(!item.read);
    let county = w.fx.user("pc_reg", &["local_regulator"], Some("dt-pc")).await;
    assert_eq!(code(handover::mark_inbox_read(s(&w), &county, item.id).await.unwrap_err()), "not_found");
    assert_eq!(handover::unread_inbox(s(&w), &w.regulator).await.unwrap(), 1);
    handover::mark_inbox_read(s(&w), &w.regulator, item.id).await.unwrap();
    assert!(sampling::inbox(s(&w), &w.regulator, None, None).await.unwrap().items[0].read);
    assert_eq!(handover::unread_inbox(s(&w), &w.regulator).await.unwrap(), 0);
    assert_eq!(handover::unread_inbox(s(&w), &county).await.unwrap(), 1, "the county's own copy stays unread");
}
