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

mod reports;
mod results;
mod signing;

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
    future.arrived_at = Some(choucha_domain::clock::Clock::system().now() + chrono::Duration::hours(2));
    assert_eq!(code(&lab::receive(s(&w), &w.custodian, w.task, future).await.unwrap_err()), "future_time");
    let mut early = accept();
    early.arrived_at = Some(choucha_domain::clock::Clock::system().now() - chrono::Duration::days(30));
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
    // Stored files are read-only: the tamperer makes it writable first.
    let mut perms = std::fs::metadata(&path).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&path, perms).unwrap();
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
async fn the_system_administrator_stores_the_inspection_seal_and_issued_reports_carry_it() {
    use choucha_service::seals::{self, SealInput};
    let w = world().await;
    let admin = w.fx.user("sys_admin9", &["system_admin"], None).await;
    let lab_org = w.a2.org_id.unwrap();
    let seal = |kind: &str, b64: &str| SealInput { kind: kind.into(), image_png_base64: b64.into() };
    // Only the system administrator; only a PNG; only the two kinds.
    assert_eq!(code(&seals::store(s(&w), &w.a2, lab_org, seal("inspection", PNG)).await.unwrap_err()), "forbidden");
    assert_eq!(
        code(&seals::store(s(&w), &admin, lab_org, seal("inspection", "aGVsbG8=")).await.unwrap_err()),
        "invalid_signature"
    );
    assert_eq!(
        code(&seals::store(s(&w), &admin, lab_org, seal("private", PNG)).await.unwrap_err()),
        "invalid_seal_kind"
    );
    let list = seals::store(s(&w), &admin, lab_org, seal("inspection", PNG)).await.unwrap();
    assert_eq!(list.iter().map(|v| v.label.as_str()).collect::<Vec<_>>(), ["检验检测专用章"]);

    // The issued report carries it (the PDF layout is checked in the documents crate).
    let bc = accepted(&w).await;
    enter_all(&w, &bc, 12.5).await;
    lab::complete_results(s(&w), &w.t1, &bc).await.unwrap();
    let r = lab::prepare_report(s(&w), &w.t1, &bc, sig()).await.unwrap();
    lab::review_report(s(&w), &w.a1, r.id, sig()).await.unwrap();
    choucha_service::issue::approve_report(s(&w), &w.a2, r.id, sig()).await.unwrap();
    let data = lab::issued_report_data(s(&w), r.id).await.unwrap();
    assert!(data.seal.as_ref().is_some_and(|s| s.image.is_some()), "the seal is placed");
    assert_eq!(data.sampling_base, "12000L");
    assert!(!data.sampling_unit.is_empty());
    let path = lab::report_file(s(&w), r.id).await.unwrap();
    if let Ok(out) =
        std::process::Command::new("pdftotext").args(["-raw", "-enc", "UTF-8"]).arg(&path).arg("-").output()
    {
        let text: String = String::from_utf8_lossy(&out.stdout).chars().filter(|c| !c.is_whitespace()).collect();
        assert!(text.contains("声明") && text.contains("第1页") && text.contains("抽样单位"), "{text}");
    }
    // Removing it: the reports issued from now on go out without it.
    seals::remove(s(&w), &admin, lab_org, "inspection").await.unwrap();
    assert!(seals::list(s(&w), &admin, lab_org).await.unwrap().is_empty());
    assert!(lab::issued_report_data(s(&w), r.id).await.unwrap().seal.is_none());
}
