//! The laboratory through the service layer: receipt against the sampling record (rule 12), blind
//! codes (rule 13), separation of duties (rule 1), licence check (rule 14), results with the item
//! judgement and conclusion, the three-person report with its stored, hashed PDF (rule 15), the
//! results deadline across a holiday (rule 16), XLSX import and screening (rule 24).
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use choucha_domain::lab::ReceiptDecision;
use choucha_service::auth;
use choucha_service::fixtures::PASSWORD;
use choucha_service::fixtures::lab_world::*;
use choucha_service::implementation_rules::LicenceRequirement;
use choucha_service::lab::{
    self, AssignInput, CorrectionInput, ResultInput, ScreeningInput, SendBackInput, SignOffInput, WorklistQuery,
};
use choucha_service::organisations::{self, OrgInput};
use choucha_service::sampling;
use choucha_store::audit;
use chrono::NaiveDate;

#[tokio::test]
async fn receipt_needs_a_dispatched_sample_and_the_testing_institutions_custodian() {
    let w = world().await;
    // Not yet dispatched.
    let e = lab::receive(s(&w), &w.custodian, w.task, accept()).await.unwrap_err();
    assert_eq!(code(&e), "not_dispatched");
    dispatch(s(&w), w.task).await;
    // A tester, or a custodian of another institution, may not receive it.
    assert_eq!(code(&lab::receive(s(&w), &w.t1, w.task, accept()).await.unwrap_err()), "forbidden");
    let mut o = OrgInput {
        code: "tj".into(),
        name: "天津某检验中心".into(),
        kind: "institution".into(),
        active: true,
        ..Default::default()
    };
    o.cap_testing = true;
    o.qualification_no = Some("CMA 120000000001".into());
    organisations::create_as_system(s(&w), "test", o).await.unwrap();
    let other = w.fx.user("tj_keeper", &["sample_custodian"], Some("tj")).await;
    assert_eq!(code(&lab::receive(s(&w), &other, w.task, accept()).await.unwrap_err()), "forbidden");
    // The arrival time is neither in the future nor before the dispatch; no photo, no receipt.
    let mut future = accept();
    future.arrived_at = Some(chrono::Utc::now() + chrono::Duration::hours(2));
    assert_eq!(code(&lab::receive(s(&w), &w.custodian, w.task, future).await.unwrap_err()), "future_time");
    let mut early = accept();
    early.arrived_at = Some(chrono::Utc::now() - chrono::Duration::days(30));
    assert_eq!(code(&lab::receive(s(&w), &w.custodian, w.task, early).await.unwrap_err()), "before_dispatch");
    let mut no_photo = accept();
    no_photo.photos.clear();
    assert_eq!(code(&lab::receive(s(&w), &w.custodian, w.task, no_photo).await.unwrap_err()), "rule12_photos");
    let incoming = lab::incoming(s(&w), &w.custodian, None, None).await.unwrap();
    assert_eq!(incoming.items.len(), 1);
    assert_eq!(incoming.items[0].test_seals, vec!["SXGH-000123".to_string()]);
    assert!(lab::incoming(s(&w), &other, None, None).await.unwrap().items.is_empty());
    let out = lab::receive(s(&w), &w.custodian, w.task, accept()).await.unwrap();
    assert_eq!(out.state.as_str(), "accepted");
    assert!(lab::incoming(s(&w), &w.custodian, None, None).await.unwrap().items.is_empty());
    // Once only.
    assert_eq!(code(&lab::receive(s(&w), &w.custodian, w.task, accept()).await.unwrap_err()), "already_received");
    // Custody: received, backup stored with its location.
    let link = lab::link(s(&w), &w.custodian, out.sample_id).await.unwrap();
    let kinds: Vec<_> = link.custody.iter().map(|c| (c.kind.as_str(), c.portion.as_str())).collect();
    assert!(kinds.contains(&("received", "all")) && kinds.contains(&("stored", "backup")), "{kinds:?}");
    assert!(link.custody.iter().any(|c| c.location == "样品库A区3架2层"));
}

#[tokio::test]
async fn a_sample_that_does_not_match_its_record_is_rejected_with_reason_to_the_bureau_inbox() {
    let w = world().await;
    dispatch(s(&w), w.task).await;
    let mut bad = accept();
    bad.observed.test_seals = vec!["SXGH-999999".into()];
    bad.observed.seals_intact = false;
    // Accepting a mismatching sample is refused, naming rule 12 and the differences.
    let e = lab::receive(s(&w), &w.custodian, w.task, bad.clone()).await.unwrap_err();
    assert_eq!(code(&e), "rule12_mismatch");
    assert!(e.to_string().contains("SXGH-999999") && e.to_string().contains("封条有破损"), "{e}");
    // A rejection needs its written reason.
    bad.decision = ReceiptDecision::Reject;
    assert_eq!(
        code(&lab::receive(s(&w), &w.custodian, w.task, bad.clone()).await.unwrap_err()),
        "rule12_reason_required"
    );
    bad.reason = "检验样品封条破损且编号与抽样单不符".into();
    let out = lab::receive(s(&w), &w.custodian, w.task, bad).await.unwrap();
    assert_eq!(out.state.as_str(), "rejected");
    assert!(out.blind_code.is_none());
    assert_eq!(out.mismatches.len(), 2);
    let inbox = sampling::inbox(s(&w), &w.regulator, None, None).await.unwrap();
    let item = inbox.items.iter().find(|i| i.kind == "lab_rejected").expect("rejection in the bureau's inbox");
    assert!(item.title.contains("检验样品封条破损且编号与抽样单不符"), "{}", item.title);
    assert_eq!(item.ref_id, w.task);
    let link = lab::link(s(&w), &w.regulator, out.sample_id).await.unwrap();
    assert!(link.custody.iter().any(|c| c.kind == "rejected"));
    // Nothing of a rejected sample reaches the testers' worklist.
    let list = lab::worklist(s(&w), &w.t1, WorklistQuery::default()).await.unwrap();
    assert!(list.items.is_empty());
}

#[tokio::test]
async fn testers_see_the_blind_code_only_and_the_custodian_and_bureau_see_the_link() {
    let w = world().await;
    let bc = accepted(&w).await;
    assert!(choucha_domain::lab::BlindCode::parse(&bc).is_ok(), "{bc}");
    assert!(!bc.contains(&w.task.to_string()) || bc.len() == 14);
    let view = lab::sample(s(&w), &w.t1, &bc).await.unwrap();
    assert_eq!(view.product, "车用柴油");
    assert_eq!(view.items.len(), 3);
    let json = serde_json::to_string(&view).unwrap()
        + &serde_json::to_string(&lab::worklist(s(&w), &w.t1, WorklistQuery::default()).await.unwrap()).unwrap()
        + &serde_json::to_string(&lab::worklist(s(&w), &w.a1, WorklistQuery::default()).await.unwrap()).unwrap();
    for secret in [ENTERPRISE, w.uscc.as_str(), "加油机3号枪", "lab_s1", "示例牌"] {
        assert!(!json.contains(secret), "tester view reveals {secret}");
    }
    // The link is the custodian's and the bureau's, never a tester's.
    let sample_id = lab::worklist(s(&w), &w.custodian, WorklistQuery::default()).await.unwrap().items.len();
    assert_eq!(sample_id, 1);
    let received = lab::received(s(&w), &w.custodian, None, None, None).await.unwrap();
    let link = &received.items[0];
    assert_eq!(link.enterprise_name, ENTERPRISE);
    assert_eq!(link.blind_code.as_deref(), Some(bc.as_str()));
    assert!(lab::link(s(&w), &w.regulator, link.sample_id).await.is_ok());
    assert_eq!(code(&lab::link(s(&w), &w.t1, link.sample_id).await.unwrap_err()), "not_found");
    assert_eq!(code(&lab::link(s(&w), &w.a1, link.sample_id).await.unwrap_err()), "not_found");
    // Staff of another institution do not find the sample at all.
    let mut o = OrgInput {
        code: "tj".into(),
        name: "天津某检验中心".into(),
        kind: "institution".into(),
        active: true,
        ..Default::default()
    };
    o.cap_testing = true;
    o.qualification_no = Some("CMA 120000000001".into());
    organisations::create_as_system(s(&w), "test", o).await.unwrap();
    let other = w.fx.user("other_tester", &["tester"], Some("tj")).await;
    assert_eq!(code(&lab::sample(s(&w), &other, &bc).await.unwrap_err()), "not_found");
}

#[tokio::test]
async fn a_sampler_of_the_sample_can_never_test_review_or_approve_it() {
    let w = world().await;
    let bc = accepted(&w).await;
    let sample_id = lab::received(s(&w), &w.custodian, None, None, None).await.unwrap().items[0].sample_id;
    // s1 sampled it and is also a tester: refused, naming rule 1.
    let e = lab::enter_result(s(&w), &w.s1, &bc, number(0, 5.0)).await.unwrap_err();
    assert_eq!(code(&e), "rule1_sampler_conflict");
    assert!(e.to_string().contains("规则1"));
    let e =
        lab::assign_tester(s(&w), &w.custodian, sample_id, AssignInput { tester_id: w.s1.user_id }).await.unwrap_err();
    assert_eq!(code(&e), "rule1_sampler_conflict");
    lab::assign_tester(s(&w), &w.custodian, sample_id, AssignInput { tester_id: w.t1.user_id }).await.unwrap();
    // Another tester than the assigned one may not enter results.
    assert_eq!(code(&lab::enter_result(s(&w), &w.t2, &bc, number(0, 5.0)).await.unwrap_err()), "forbidden");
    enter_all(&w, &bc, 5.0).await;
    lab::complete_results(s(&w), &w.t1, &bc).await.unwrap();
    let r = lab::prepare_report(s(&w), &w.t1, &bc, sig()).await.unwrap();
    // s2 sampled it and is a report approver: may neither review nor approve.
    let e = lab::review_report(s(&w), &w.s2, r.id, sig()).await.unwrap_err();
    assert_eq!(code(&e), "rule1_sampler_conflict");
    lab::review_report(s(&w), &w.a1, r.id, sig()).await.unwrap();
    assert_eq!(
        code(&choucha_service::issue::approve_report(s(&w), &w.s2, r.id, sig()).await.unwrap_err()),
        "rule1_sampler_conflict"
    );
}

#[tokio::test]
async fn sulfur_above_the_limit_fails_the_item_and_the_sample_and_three_people_sign_the_report() {
    let w = world().await;
    let bc = accepted(&w).await;
    // Results are refused until…: a text result for a number item is refused.
    let wrong = ResultInput { item_index: Some(0), text: Some("12".into()), ..Default::default() };
    assert_eq!(code(&lab::enter_result(s(&w), &w.t1, &bc, wrong).await.unwrap_err()), "result_kind");
    let v = lab::enter_result(s(&w), &w.t1, &bc, number(0, 12.5)).await.unwrap();
    let sulfur = v.items[0].result.as_ref().unwrap();
    assert_eq!((sulfur.judgement_label.as_str(), sulfur.display.as_str()), ("不符合", "12.5mg/kg"));
    assert_eq!(v.items[0].requirement, "≤10mg/kg");
    // Completing before every item has a result is refused.
    assert_eq!(code(&lab::complete_results(s(&w), &w.t1, &bc).await.unwrap_err()), "results_incomplete");
    enter_all(&w, &bc, 12.5).await;
    let done = lab::complete_results(s(&w), &w.t1, &bc).await.unwrap();
    assert_eq!(done.qualified, Some(false));
    assert!(done.conclusion.contains("硫含量") && done.conclusion.contains("不合格"), "{}", done.conclusion);
    assert!(!done.conclusion.contains("闪点"));

    // Prepared by t3 (a tester who is also a reviewer): t3 may not review or approve it (rule 15);
    // a1 reviews; a1 may not approve too; a2 approves. A plain tester may not review at all.
    let t3 = w.fx.user("lab_t3", &["tester", "report_approver"], Some("lab")).await;
    let r = lab::prepare_report(s(&w), &t3, &bc, sig()).await.unwrap();
    assert_eq!(code(&lab::prepare_report(s(&w), &w.t1, &bc, sig()).await.unwrap_err()), "report_open");
    assert_eq!(code(&lab::review_report(s(&w), &w.t1, r.id, sig()).await.unwrap_err()), "forbidden");
    let e = lab::review_report(s(&w), &t3, r.id, sig()).await.unwrap_err();
    assert_eq!(code(&e), "rule15_same_person");
    assert!(e.to_string().contains("规则15"));
    let e = choucha_service::issue::approve_report(s(&w), &w.a2, r.id, sig()).await.unwrap_err();
    assert_eq!(code(&e), "report_state", "approval before review");
    lab::review_report(s(&w), &w.a1, r.id, sig()).await.unwrap();
    assert_eq!(
        code(&choucha_service::issue::approve_report(s(&w), &w.a1, r.id, sig()).await.unwrap_err()),
        "rule15_same_person"
    );
    assert_eq!(
        code(&choucha_service::issue::approve_report(s(&w), &t3, r.id, sig()).await.unwrap_err()),
        "rule15_same_person"
    );
    let issued = choucha_service::issue::approve_report(s(&w), &w.a2, r.id, sig()).await.unwrap();
    assert_eq!(issued.state.as_str(), "approved");
    let no = issued.report_no.clone().unwrap();
    assert!(no.starts_with("LAB-"), "{no}");
    assert_eq!(issued.pdf_sha256.len(), 64);
    assert_eq!(
        (issued.prepared_by.as_str(), issued.reviewed_by.as_deref(), issued.approved_by.as_deref()),
        ("lab_t3", Some("lab_a1"), Some("lab_a2"))
    );
    assert_eq!(issued.signed, ["prepare", "review", "approve"], "each step signed on the screen");
    assert_eq!(lab::sample(s(&w), &w.t1, &bc).await.unwrap().state.as_str(), "reported");

    // The PDF holds every item, the conclusion and three signatures.
    let (_, pdf) = lab::report_pdf(s(&w), &w.custodian, r.id).await.unwrap();
    assert!(pdf.starts_with(b"%PDF"));
    assert_eq!(code(&lab::report_pdf(s(&w), &w.t1, r.id).await.unwrap_err()), "forbidden");
    // Verified intact, then altered on disk: detected.
    let v = lab::verify_report(s(&w), &w.a2, r.id).await.unwrap();
    assert!(v.intact);
    let path = lab::report_file(s(&w), r.id).await.unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 10;
    bytes[last] ^= 0x55;
    std::fs::write(&path, &bytes).unwrap();
    let v = lab::verify_report(s(&w), &w.custodian, r.id).await.unwrap();
    assert!(!v.intact);
    assert_ne!(v.actual_sha256, v.recorded_sha256);

    // A correction: a new report superseding the old one; both kept.
    let e = lab::correct_report(s(&w), &w.t1, r.id, CorrectionInput { reason: " ".into() }).await.unwrap_err();
    assert_eq!(code(&e), "required");
    lab::correct_report(s(&w), &w.t1, r.id, CorrectionInput { reason: "硫含量复核后数据更正".into() }).await.unwrap();
    lab::enter_result(s(&w), &w.t1, &bc, number(0, 9.0)).await.unwrap();
    let again = lab::complete_results(s(&w), &w.t1, &bc).await.unwrap();
    assert_eq!(again.qualified, Some(true));
    assert_eq!(again.conclusion, "经抽样检验，所检项目未发现不合格。");
    let r2 = lab::prepare_report(s(&w), &w.t1, &bc, sig()).await.unwrap();
    assert_eq!((r2.version, r2.supersedes_id), (2, Some(r.id)));
    assert_eq!(r2.correction_reason, "硫含量复核后数据更正");
    lab::review_report(s(&w), &w.a1, r2.id, sig()).await.unwrap();
    let issued2 = choucha_service::issue::approve_report(s(&w), &w.a2, r2.id, sig()).await.unwrap();
    assert_ne!(issued2.report_no, issued.report_no);
    let reports = lab::sample(s(&w), &w.t1, &bc).await.unwrap().reports;
    let states: Vec<_> = reports.iter().map(|r| (r.version, r.state.as_str())).collect();
    assert_eq!(states, vec![(2, "approved"), (1, "superseded")]);
}

#[tokio::test]
async fn pdf_text_has_items_conclusion_and_signers() {
    let w = world().await;
    let bc = accepted(&w).await;
    enter_all(&w, &bc, 12.5).await;
    lab::complete_results(s(&w), &w.t1, &bc).await.unwrap();
    let r = lab::prepare_report(s(&w), &w.t1, &bc, sig()).await.unwrap();
    lab::review_report(s(&w), &w.a1, r.id, sig()).await.unwrap();
    choucha_service::issue::approve_report(s(&w), &w.a2, r.id, sig()).await.unwrap();
    let path = lab::report_file(s(&w), r.id).await.unwrap();
    let Ok(out) = std::process::Command::new("pdftotext").args(["-raw", "-enc", "UTF-8"]).arg(&path).arg("-").output()
    else {
        eprintln!("pdftotext not installed; text check skipped");
        return;
    };
    let text: String = String::from_utf8_lossy(&out.stdout).chars().filter(|c| !c.is_whitespace()).collect();
    for needle in [
        "检验报告",
        "硫含量",
        "闪点",
        "外观",
        "12.5",
        "不符合",
        "不合格",
        "lab_t1",
        "lab_a1",
        "lab_a2",
        "CMA160412345678",
        &bc,
    ] {
        assert!(text.contains(needle), "report PDF lacks {needle}:\n{text}");
    }
}

#[tokio::test]
async fn licence_check_stops_testing_of_an_unlicensed_producer_and_reports_it() {
    let w = world_with(Options { licence: LicenceRequirement::ProductionLicence, ..Default::default() }).await;
    let bc = accepted(&w).await;
    let e = lab::enter_result(s(&w), &w.t1, &bc, number(0, 5.0)).await.unwrap_err();
    assert_eq!(code(&e), "rule14_licence_unchecked");
    // The tester runs the yes/no check: the fixture producer has no licence in the registry.
    let c = lab::check_licence(s(&w), &w.t1, &bc).await.unwrap();
    assert_eq!(c.state.as_str(), "failed");
    assert!(!serde_json::to_string(&c).unwrap().contains(ENTERPRISE));
    let e = lab::enter_result(s(&w), &w.t1, &bc, number(0, 5.0)).await.unwrap_err();
    assert_eq!(code(&e), "rule14_stopped");
    assert_eq!(lab::sample(s(&w), &w.t1, &bc).await.unwrap().state.as_str(), "stopped");
    let inbox = sampling::inbox(s(&w), &w.regulator, None, None).await.unwrap();
    assert!(inbox.items.iter().any(|i| i.kind == "lab_unlicensed" && i.title.contains(&bc)));
}

#[tokio::test]
async fn licence_check_passes_for_a_licensed_producer() {
    let w =
        world_with(Options { licence: LicenceRequirement::ProductionLicence, licensed: true, ..Default::default() })
            .await;
    let bc = accepted(&w).await;
    assert_eq!(lab::check_licence(s(&w), &w.custodian, &bc).await.unwrap().state.as_str(), "confirmed");
    lab::enter_result(s(&w), &w.t1, &bc, number(0, 5.0)).await.unwrap();
}

#[tokio::test]
async fn results_are_due_three_working_days_after_testing_across_national_day() {
    let w = world().await;
    let bc = accepted(&w).await;
    let ended = NaiveDate::from_ymd_opt(2026, 9, 30).unwrap();
    for i in 0..2 {
        let mut r = number(i, if i == 0 { 5.0 } else { 65.0 });
        r.tested_on = Some(ended);
        lab::enter_result(s(&w), &w.t1, &bc, r).await.unwrap();
    }
    let text = ResultInput {
        item_index: Some(2),
        text: Some("清澈透明".into()),
        tested_on: Some(ended),
        ..Default::default()
    };
    let v = lab::enter_result(s(&w), &w.t1, &bc, text).await.unwrap();
    // 10-01..10-07 are holidays; Thu 10-08, Fri 10-09 and the make-up workday Sat 10-10 count.
    assert_eq!(v.results_due, Some(NaiveDate::from_ymd_opt(2026, 10, 10).unwrap()));
    let today = s(&w).today();
    assert_eq!(v.overdue, today > NaiveDate::from_ymd_opt(2026, 10, 10).unwrap());
    if v.overdue {
        let overdue =
            lab::worklist(s(&w), &w.t1, WorklistQuery { overdue: Some(true), ..Default::default() }).await.unwrap();
        assert_eq!(overdue.items.len(), 1);
        assert!(lab::dashboard(s(&w), &w.custodian).await.unwrap().overdue >= 1);
        let done = lab::complete_results(s(&w), &w.t1, &bc).await.unwrap();
        assert!(done.results_late);
        let inbox = sampling::inbox(s(&w), &w.regulator, None, None).await.unwrap();
        assert!(inbox.items.iter().any(|i| i.kind == "lab_results_late"));
    }
    // Results tested today are not overdue.
    let w2 = world().await;
    let bc2 = accepted(&w2).await;
    let v = lab::enter_result(s(&w2), &w2.t1, &bc2, number(0, 5.0)).await.unwrap();
    assert!(!v.overdue);
    assert!(v.results_due.unwrap() > today);
}

fn xlsx(rows: &[[&str; 4]]) -> Vec<u8> {
    use choucha_documents::CellValue;
    choucha_documents::write_table(
        "结果",
        None,
        &["盲样编号", "检验项目", "检验结果", "仪器设备"],
        rows.iter().map(|r| r.iter().map(|c| CellValue::Text(c.to_string())).collect()),
    )
    .unwrap()
}

#[tokio::test]
async fn xlsx_import_by_blind_code_writes_nothing_when_any_row_is_wrong() {
    let w = world().await;
    let bc = accepted(&w).await;
    let bad = xlsx(&[
        [&bc, "硫含量", "12.5", "XRF-01"],
        [&bc, "闪点（闭口）", "六十五", ""],
        ["M2025-ZZZZZZZZ", "硫含量", "1", ""],
        [&bc, "密度", "830", ""],
    ]);
    let out = lab::import_results(s(&w), &w.t1, "结果.xlsx", bad).await.unwrap();
    assert_eq!(out.written, 0);
    let rows: Vec<u32> = out.errors.iter().map(|e| e.row).collect();
    assert_eq!(rows, vec![3, 4, 5], "{:?}", out.errors);
    assert!(lab::sample(s(&w), &w.t1, &bc).await.unwrap().items.iter().all(|i| i.result.is_none()));
    // The error about an unknown code does not say whose sample anything is.
    assert!(!serde_json::to_string(&out).unwrap().contains(ENTERPRISE));
    let good =
        xlsx(&[[&bc, "硫含量", "12.5", "XRF-01"], [&bc, "闪点（闭口）", "65", ""], [&bc, "外观", "清澈透明", ""]]);
    let out = lab::import_results(s(&w), &w.t1, "结果.xlsx", good).await.unwrap();
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert_eq!(out.written, 3);
    let v = lab::complete_results(s(&w), &w.t1, &bc).await.unwrap();
    assert_eq!(v.qualified, Some(false));
    // A sampler of the sample may not import its results either.
    let again = xlsx(&[[&bc, "硫含量", "1", ""]]);
    let out = lab::import_results(s(&w), &w.s1, "r.xlsx", again).await.unwrap();
    assert_eq!(out.written, 0);
    assert!(out.errors[0].message.contains("规则1"), "{:?}", out.errors);
}

#[tokio::test]
async fn screening_flags_a_sample_for_full_testing_and_is_never_a_report() {
    let w = world_with(Options { screening: true, ..Default::default() }).await;
    let bc = accepted(&w).await;
    let screener = auth::login(s(&w), "wn_screener", PASSWORD).await.unwrap();
    assert_eq!(lab::sample(s(&w), &w.t1, &bc).await.unwrap().state.as_str(), "screening");
    let e = lab::enter_result(s(&w), &w.t1, &bc, number(0, 5.0)).await.unwrap_err();
    assert_eq!(code(&e), "rule24_screening_pending");
    // The testing institution's testers may not record the screening.
    let flag = ScreeningInput { result: "flagged".into(), note: "硫含量快筛偏高".into() };
    assert_eq!(code(&lab::screen(s(&w), &w.t1, &bc, flag.clone()).await.unwrap_err()), "forbidden");
    let list = lab::worklist(s(&w), &screener, WorklistQuery::default()).await.unwrap();
    assert_eq!(list.items.len(), 1);
    let json = serde_json::to_string(&list).unwrap();
    assert!(!json.contains(ENTERPRISE) && !json.contains(&w.uscc));
    let v = lab::screen(s(&w), &screener, &bc, flag).await.unwrap();
    assert_eq!(v.state.as_str(), "accepted");
    // The screener cannot prepare a report; testing goes on at the testing institution.
    assert_eq!(code(&lab::prepare_report(s(&w), &screener, &bc, sig()).await.unwrap_err()), "forbidden");
    lab::enter_result(s(&w), &w.t1, &bc, number(0, 5.0)).await.unwrap();
}

#[tokio::test]
async fn a_cleared_screening_ends_without_testing_or_report() {
    let w = world_with(Options { screening: true, ..Default::default() }).await;
    let bc = accepted(&w).await;
    let screener = auth::login(s(&w), "wn_screener", PASSWORD).await.unwrap();
    let v = lab::screen(s(&w), &screener, &bc, ScreeningInput { result: "cleared".into(), note: String::new() })
        .await
        .unwrap();
    assert_eq!(v.state.as_str(), "cleared");
    assert_eq!(code(&lab::enter_result(s(&w), &w.t1, &bc, number(0, 5.0)).await.unwrap_err()), "rule24_cleared");
    assert_eq!(code(&lab::prepare_report(s(&w), &w.t1, &bc, sig()).await.unwrap_err()), "sample_state");
}

#[tokio::test]
async fn dashboards_count_per_state_tester_and_institution() {
    let w = world().await;
    let bc = accepted(&w).await;
    let d = lab::dashboard(s(&w), &w.custodian).await.unwrap();
    assert_eq!(d.awaiting_test, 1);
    assert_eq!(d.incoming, Some(0));
    lab::enter_result(s(&w), &w.t1, &bc, number(0, 5.0)).await.unwrap();
    let d = lab::dashboard(s(&w), &w.a1).await.unwrap();
    assert_eq!(d.testers.len(), 1);
    assert_eq!((d.testers[0].tester.as_str(), d.testers[0].testing), ("lab_t1", 1));
    let d = lab::dashboard(s(&w), &w.regulator).await.unwrap();
    assert_eq!(d.institutions.len(), 1);
    assert_eq!(d.institutions[0].org_name, "山西省检验检测中心");
    assert_eq!(d.institutions[0].total, 1);
    let sampler = w.fx.user("plain_sampler", &["sampler"], Some("lab")).await;
    assert_eq!(code(&lab::dashboard(s(&w), &sampler).await.unwrap_err()), "forbidden");
}

#[tokio::test]
async fn every_step_of_the_report_needs_a_signature_and_a_reviewer_or_approver_can_send_it_back() {
    let w = world().await;
    let bc = accepted(&w).await;
    enter_all(&w, &bc, 12.5).await;
    lab::complete_results(s(&w), &w.t1, &bc).await.unwrap();

    // No signature, or something that is not a PNG: refused on the field, nothing written.
    let e = lab::prepare_report(s(&w), &w.t1, &bc, SignOffInput::default()).await.unwrap_err();
    assert_eq!(code(&e), "required");
    let not_png = SignOffInput { signature_png_base64: "aGVsbG8=".into() };
    assert_eq!(code(&lab::prepare_report(s(&w), &w.t1, &bc, not_png).await.unwrap_err()), "invalid_signature");
    assert!(lab::sample(s(&w), &w.t1, &bc).await.unwrap().reports.is_empty(), "nothing written");

    let r = lab::prepare_report(s(&w), &w.t1, &bc, sig()).await.unwrap();
    assert_eq!(code(&lab::review_report(s(&w), &w.a1, r.id, SignOffInput::default()).await.unwrap_err()), "required");

    // The preparer cannot send back their own report; a reason is required; a second person can.
    let why = |t: &str| SendBackInput { reason: t.into() };
    let t3 = w.fx.user("lab_t3b", &["tester", "report_approver"], Some("lab")).await;
    assert_eq!(code(&lab::send_back_report(s(&w), &w.t1, r.id, why("x")).await.unwrap_err()), "forbidden");
    assert_eq!(code(&lab::send_back_report(s(&w), &w.a1, r.id, why(" ")).await.unwrap_err()), "required");
    let back = lab::send_back_report(s(&w), &w.a1, r.id, why("硫含量仪器未填写，请补全")).await.unwrap();
    assert_eq!((back.state.as_str(), back.returned_reason.as_str()), ("returned", "硫含量仪器未填写，请补全"));
    assert_eq!(back.returned_by.as_deref(), Some("lab_a1"));
    // The results reopen: the tester corrects, completes and prepares version 2.
    let v = lab::sample(s(&w), &w.t1, &bc).await.unwrap();
    assert_eq!(v.state.as_str(), "testing");
    assert_eq!(code(&lab::review_report(s(&w), &w.a1, r.id, sig()).await.unwrap_err()), "report_state");
    enter_all(&w, &bc, 8.0).await;
    lab::complete_results(s(&w), &w.t1, &bc).await.unwrap();
    let r2 = lab::prepare_report(s(&w), &w.t1, &bc, sig()).await.unwrap();
    assert_eq!(r2.version, 2);

    // After review only a third person (the approver) can send it back.
    lab::review_report(s(&w), &w.a1, r2.id, sig()).await.unwrap();
    assert_eq!(code(&lab::send_back_report(s(&w), &w.a1, r2.id, why("x")).await.unwrap_err()), "rule15_same_person");
    let back2 = lab::send_back_report(s(&w), &t3, r2.id, why("结论表述需按判定原则修改")).await.unwrap();
    assert_eq!(back2.state.as_str(), "returned");
    let f = audit::AuditFilter { action: Some("report.send_back".into()), ..Default::default() };
    let trail = audit::list(s(&w).store.reader(), &f, None, 50).await.unwrap();
    assert_eq!(trail.items.len(), 2, "each send-back audited");
}

#[tokio::test]
async fn an_issued_report_opens_its_deliveries_and_each_is_recorded_by_its_method() {
    use choucha_service::results::{self, DeliveryInput, DeliveryQuery};
    let w = world().await;
    let bc = accepted(&w).await;
    enter_all(&w, &bc, 12.5).await;
    lab::complete_results(s(&w), &w.t1, &bc).await.unwrap();
    let r = lab::prepare_report(s(&w), &w.t1, &bc, sig()).await.unwrap();
    lab::review_report(s(&w), &w.a1, r.id, sig()).await.unwrap();
    assert!(results::of_report(s(&w), &w.custodian, r.id).await.unwrap().is_empty(), "nothing before issue");
    choucha_service::issue::approve_report(s(&w), &w.a2, r.id, sig()).await.unwrap();

    // Blind staff never see deliveries (rule 13); the custodian and the organising bureau do.
    for blind in [&w.t1, &w.a1, &w.a2] {
        assert_eq!(code(&results::of_report(s(&w), blind, r.id).await.unwrap_err()), "not_found");
        assert_eq!(code(&results::result_notice_pdf(s(&w), blind, r.id, None).await.unwrap_err()), "not_found");
    }
    let ds = results::of_report(s(&w), &w.regulator, r.id).await.unwrap();
    // Unqualified, sampled where no other producer is named: the enterprise with four documents,
    // the organising bureau with 3 copies within 7 days (rules 16, 17).
    assert_eq!(ds.iter().map(|d| d.recipient.as_str()).collect::<Vec<_>>(), ["enterprise", "organising_bureau"]);
    assert_eq!(ds[0].documents, ["result_notice", "report", "improvement_letter", "sampling_record"]);
    assert_eq!(ds[0].recipient_name, ENTERPRISE);
    let today = s(&w).today();
    assert_eq!((ds[1].due_on, ds[1].copies), (Some(today + chrono::Duration::days(7)), 3));
    // The enterprise's delivery was due by the plan's date (2025-11-15): overdue while pending.
    assert_eq!(ds[0].due_on, NaiveDate::from_ymd_opt(2025, 11, 15));
    assert!(ds[0].overdue && !ds[1].overdue);
    let overdue =
        results::list(s(&w), &w.custodian, DeliveryQuery { overdue: Some(true), ..Default::default() }).await.unwrap();
    assert_eq!(overdue.items.iter().map(|d| d.id).collect::<Vec<_>>(), [ds[0].id]);

    // EMS: the tracking number is required; sent, then received later; never twice.
    let ems = DeliveryInput { method: "ems".into(), sent_on: Some(today), ..Default::default() };
    let e = results::record_delivery(s(&w), &w.custodian, ds[0].id, ems.clone()).await.unwrap_err();
    assert_eq!(code(&e), "required");
    assert!(e.to_string().contains("邮件号"), "{e}");
    let ems = DeliveryInput { tracking_no: "1190012345678".into(), ..ems };
    let sent = results::record_delivery(s(&w), &w.custodian, ds[0].id, ems).await.unwrap();
    assert_eq!((sent.state.as_str(), sent.overdue), ("sent", false));
    let future = DeliveryInput { received_on: Some(today + chrono::Duration::days(1)), ..Default::default() };
    assert_eq!(
        code(&results::record_delivery(s(&w), &w.custodian, ds[0].id, future).await.unwrap_err()),
        "future_date"
    );
    let got = DeliveryInput { received_on: Some(today), ..Default::default() };
    let got = results::record_delivery(s(&w), &w.custodian, ds[0].id, got).await.unwrap();
    assert_eq!(
        (got.state.as_str(), got.method.as_str(), got.tracking_no.as_str()),
        ("received", "ems", "1190012345678")
    );
    let again = DeliveryInput { received_on: Some(today), ..Default::default() };
    assert_eq!(
        code(&results::record_delivery(s(&w), &w.custodian, ds[0].id, again).await.unwrap_err()),
        "already_delivered"
    );

    // In person: the receiver signs; a tester may not record (the delivery does not exist for them).
    let hand = DeliveryInput {
        method: "in_person".into(),
        received_on: Some(today),
        receiver_name: "张科长".into(),
        ..Default::default()
    };
    assert_eq!(code(&results::record_delivery(s(&w), &w.t1, ds[1].id, hand.clone()).await.unwrap_err()), "not_found");
    assert_eq!(
        code(&results::record_delivery(s(&w), &w.regulator, ds[1].id, hand.clone()).await.unwrap_err()),
        "required"
    );
    let hand = DeliveryInput { receiver_signature_png_base64: PNG.into(), ..hand };
    let done = results::record_delivery(s(&w), &w.regulator, ds[1].id, hand).await.unwrap();
    assert!(done.signed && done.state.as_str() == "received");
    let open = results::list(s(&w), &w.regulator, DeliveryQuery::default()).await.unwrap();
    assert!(open.items.is_empty(), "both delivered");
    let f = audit::AuditFilter { action: Some("delivery.record".into()), ..Default::default() };
    assert_eq!(audit::list(s(&w).store.reader(), &f, None, 50).await.unwrap().items.len(), 3);

    // The result notice names the enterprise, the failing item and the 15-day objection window.
    let pdf = results::result_notice_pdf(s(&w), &w.custodian, r.id, None).await.unwrap();
    assert!(pdf.starts_with(b"%PDF"));

    // The improvement letter is pre-filled from the report for the custodian; testers are blind.
    let letter = results::improvement_letter_prefill(s(&w), &w.custodian, r.id).await.unwrap();
    assert_eq!(
        (letter.inspected_unit.as_str(), letter.failing_items.as_slice()),
        (ENTERPRISE, ["硫含量".to_string()].as_slice())
    );
    assert!(letter.problem_description.contains("实测12.5mg/kg") && letter.problem_description.contains("≤10mg/kg"));
    assert_eq!(code(&results::improvement_letter_prefill(s(&w), &w.t1, r.id).await.unwrap_err()), "not_found");
}

#[tokio::test]
async fn the_enterprise_sees_only_its_own_results_and_objects_on_day_15_but_not_day_16() {
    use choucha_service::fixtures::Fixture;
    use choucha_service::objections::{self, DecisionInput, ObjectionInput};
    use choucha_service::results::{self, DeliveryInput};
    let w = world().await;
    let bc = accepted(&w).await;
    enter_all(&w, &bc, 12.5).await;
    lab::complete_results(s(&w), &w.t1, &bc).await.unwrap();
    let r = lab::prepare_report(s(&w), &w.t1, &bc, sig()).await.unwrap();
    lab::review_report(s(&w), &w.a1, r.id, sig()).await.unwrap();
    choucha_service::issue::approve_report(s(&w), &w.a2, r.id, sig()).await.unwrap();
    let owner = Fixture::make_user(s(&w), "ent_user", "王站长", &["enterprise"], None, Some(w.uscc.as_str())).await;
    let other_ent = w.fx.enterprise("大同市平城区另一加油站", "140213", "销售者、加油站", 7).await;
    let stranger =
        Fixture::make_user(s(&w), "ent_other", "李经理", &["enterprise"], None, Some(other_ent.uscc.as_str())).await;

    // Not yet received: listed, but no objection yet.
    let mine = objections::my_results(s(&w), &owner).await.unwrap();
    assert_eq!(mine.len(), 1);
    assert!(!mine[0].may_object && mine[0].received_on.is_none());
    let retest =
        || ObjectionInput {
            kind: "retest".into(), items: vec!["硫含量".into()], reason: "对硫含量结果有异议".into()
        };
    assert_eq!(code(&objections::file(s(&w), &owner, r.id, retest()).await.unwrap_err()), "result_not_received");
    // Another enterprise sees nothing of it.
    assert!(objections::my_results(s(&w), &stranger).await.unwrap().is_empty());
    assert_eq!(code(&objections::file(s(&w), &stranger, r.id, retest()).await.unwrap_err()), "not_found");
    assert_eq!(code(&objections::my_report_pdf(s(&w), &stranger, r.id).await.unwrap_err()), "not_found");

    // Received today (by EMS); the window closes 15 days later.
    let d = results::of_report(s(&w), &w.custodian, r.id).await.unwrap()[0].id;
    let received = s(&w).today();
    let ems = DeliveryInput {
        method: "ems".into(),
        tracking_no: "1190012345678".into(),
        sent_on: Some(received),
        received_on: Some(received),
        ..Default::default()
    };
    results::record_delivery(s(&w), &w.custodian, d, ems).await.unwrap();
    assert!(objections::my_report_pdf(s(&w), &owner, r.id).await.unwrap().starts_with(b"%PDF"));

    // Day 16: refused with the date the window closed; nothing written.
    s(&w).shift_today(16);
    let e = objections::file(s(&w), &owner, r.id, retest()).await.unwrap_err();
    assert_eq!(code(&e), "rule18_objection_expired");
    let closed = (received + chrono::Duration::days(15)).to_string();
    assert!(e.to_string().contains(&closed), "{e}");
    assert!(objections::my_results(s(&w), &owner).await.unwrap()[0].objections.is_empty());

    // Day 15: accepted; the items must be the report's; one open request at a time.
    s(&w).shift_today(-1);
    let bad = ObjectionInput { items: vec!["辛烷值".into()], ..retest() };
    assert_eq!(code(&objections::file(s(&w), &owner, r.id, bad).await.unwrap_err()), "unknown_item");
    let o = objections::file(s(&w), &owner, r.id, retest()).await.unwrap();
    assert_eq!(
        (o.state.as_str(), o.received_on, o.items.as_slice()),
        ("pending", received, ["硫含量".to_string()].as_slice())
    );
    assert_eq!(code(&objections::file(s(&w), &owner, r.id, retest()).await.unwrap_err()), "objection_open");

    // The organising bureau decides; a rejection needs reasons; others cannot decide.
    assert_eq!(
        code(
            &objections::decide(s(&w), &w.custodian, o.id, DecisionInput { accept: true, reason: String::new() })
                .await
                .unwrap_err()
        ),
        "not_found"
    );
    let reject = DecisionInput { accept: false, reason: String::new() };
    assert_eq!(code(&objections::decide(s(&w), &w.regulator, o.id, reject).await.unwrap_err()), "required");
    let pending =
        objections::of_bureau(s(&w), &w.regulator, Some(choucha_domain::results::ObjectionState::Pending), None, None)
            .await
            .unwrap();
    assert_eq!(pending.items.len(), 1);
    let done =
        objections::decide(s(&w), &w.regulator, o.id, DecisionInput { accept: true, reason: "受理，安排复检".into() })
            .await
            .unwrap();
    assert_eq!(done.state.as_str(), "accepted");
    s(&w).shift_today(-15);
}

#[tokio::test]
async fn a_sample_received_late_in_the_utc_evening_is_dated_the_next_beijing_day() {
    use chrono::TimeZone;
    // 2026-03-01 23:30 UTC is 2026-03-02 07:30 in Beijing: the receipt, the sample's page and its
    // report all say 2 March.
    let at = chrono::Utc.with_ymd_and_hms(2026, 3, 1, 23, 30, 0).unwrap();
    let w = world_with(Options { clock_at: Some(at - chrono::Duration::hours(1)), ..Default::default() }).await;
    s(&w).clock().run_from(at);
    let r = issued(&w, 5.0).await;
    let sample = sample_of_report(&w, r.id).await;
    assert_eq!(sample.received_at.date_naive(), NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(), "stored in UTC");
    let bc = blind_code_of_report(&w, r.id).await;
    let v = lab::sample(s(&w), &w.t1, &bc).await.unwrap();
    assert_eq!(v.received_on, NaiveDate::from_ymd_opt(2026, 3, 2).unwrap());
    let data = lab::issued_report_data(s(&w), r.id).await.unwrap();
    assert_eq!(data.received_on, "2026-03-02");
    assert_eq!(s(&w).today(), NaiveDate::from_ymd_opt(2026, 3, 2).unwrap());
}
