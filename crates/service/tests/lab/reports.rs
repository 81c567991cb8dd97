//! The report after testing: every step signed and sendable back, the deliveries of an issued report,
//! what the enterprise sees and when it may object, and the Beijing date of a late receipt.

use super::*;

#[tokio::test]
async fn every_step_of_the_report_needs_a_signature_and_a_reviewer_or_approver_can_send_it_back() {
    let w = world().await;
    let bc = accepted(&w).await;
    enter_all(&w, &bc, 12.5).await;
    lab::complete_results(s(&w), &w.t1, &bc).await.unwrap();

    // No signature, or something that is not a PNG: refused on the field, nothing written.
    let e = lab::prepare_report(s(&w), &w.t1, &bc, SignOffInput::default()).await.unwrap_err();
    assert_eq!(code(&e), "required");
    let not_png = SignOffInput { signature_png_base64: "aGVsbG8=".into(), use_stored_signature: false };
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
    let trail = audit::list(s(&w).store().reader(), &f, None, 50).await.unwrap();
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
    assert_eq!(audit::list(s(&w).store().reader(), &f, None, 50).await.unwrap().items.len(), 3);

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
    let retest = || ObjectionInput {
        kind: "retest".into(),
        items: vec!["硫含量".into()],
        reason: "对硫含量结果有异议".into(),
        ..Default::default()
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

#[tokio::test]
async fn the_reviewer_and_the_approver_read_a_draft_without_the_enterprise_before_signing() {
    let w = world().await;
    let bc = accepted(&w).await;
    enter_all(&w, &bc, 12.5).await;
    lab::complete_results(s(&w), &w.t1, &bc).await.unwrap();
    let r = lab::prepare_report(s(&w), &w.t1, &bc, sig()).await.unwrap();
    let pdf = lab::review_pdf(s(&w), &w.a1, r.id).await.unwrap();
    if let Some(text) = pdf_text(&pdf) {
        for needle in ["审核稿", "硫含量", "12.5", "不合格", "盲样：审核时不显示", "lab_t1", &bc] {
            assert!(text.contains(needle), "the draft lacks {needle}:\n{text}");
        }
        assert!(!text.contains(ENTERPRISE), "a blind reviewer never reads who was sampled:\n{text}");
    }
    // Only those who sign it: not the custodian, nor the regulator.
    for who in [&w.custodian, &w.regulator] {
        assert!(lab::review_pdf(s(&w), who, r.id).await.is_err());
    }
    lab::review_report(s(&w), &w.a1, r.id, sig()).await.unwrap();
    assert!(lab::review_pdf(s(&w), &w.a2, r.id).await.unwrap().starts_with(b"%PDF"), "the approver reads it too");
    choucha_service::issue::approve_report(s(&w), &w.a2, r.id, sig()).await.unwrap();
    assert_eq!(code(&lab::review_pdf(s(&w), &w.a2, r.id).await.unwrap_err()), "report_state");
}

#[tokio::test]
async fn a_stored_signature_signs_each_step_on_confirmation_and_only_its_owners() {
    use choucha_service::signature::{self, StoredSignatureInput};
    let w = world().await;
    let bc = accepted(&w).await;
    enter_all(&w, &bc, 12.5).await;
    lab::complete_results(s(&w), &w.t1, &bc).await.unwrap();
    let stored = SignOffInput { signature_png_base64: String::new(), use_stored_signature: true };

    // Nothing stored yet: refused on the field with what to do.
    let e = lab::prepare_report(s(&w), &w.t1, &bc, stored.clone()).await.unwrap_err();
    assert_eq!(code(&e), "no_stored_signature");
    // Only a PNG of a sensible size is stored.
    let store = |b64: String| StoredSignatureInput { image_png_base64: b64 };
    assert_eq!(
        code(&signature::store_mine(s(&w), &w.t1, store("aGVsbG8=".into())).await.unwrap_err()),
        "invalid_signature"
    );
    assert_eq!(
        code(&signature::store_mine(s(&w), &w.t1, store("A".repeat(600 * 1024))).await.unwrap_err()),
        "signature_too_large"
    );
    assert!(signature::mine(s(&w), &w.t1).await.unwrap().is_none(), "nothing written");
    let kept = signature::store_mine(s(&w), &w.t1, store(PNG.into())).await.unwrap();
    assert_eq!(kept.image_png_base64, PNG);

    // The tester signs with it; the reviewer, who stored none, cannot borrow the tester's.
    let r = lab::prepare_report(s(&w), &w.t1, &bc, stored.clone()).await.unwrap();
    assert_eq!(r.signed.len(), 1);
    assert_eq!(code(&lab::review_report(s(&w), &w.a1, r.id, stored.clone()).await.unwrap_err()), "no_stored_signature");
    signature::store_mine(s(&w), &w.a1, store(PNG.into())).await.unwrap();
    let r = lab::review_report(s(&w), &w.a1, r.id, stored.clone()).await.unwrap();
    assert_eq!(r.signed.len(), 2);
    // Removing it: the next use is refused again; storing and removing are audited.
    signature::remove_mine(s(&w), &w.t1).await.unwrap();
    assert!(signature::mine(s(&w), &w.t1).await.unwrap().is_none());
    for action in ["signature.store", "signature.remove"] {
        let f = audit::AuditFilter { action: Some(action.into()), ..Default::default() };
        assert!(!audit::list(s(&w).store().reader(), &f, None, 50).await.unwrap().items.is_empty(), "{action}");
    }
}
