//! Re-tests (rule 18), sample confirmation by the nominal producer (rule 23) and the tester's text
//! of the improvement letter, through the service layer.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use choucha_service::Actor;
use choucha_service::confirmations::{self, AnswerInput, InvestigationInput, PeriodInput};
use choucha_service::fixtures::Fixture;
use choucha_service::fixtures::lab_world::*;
use choucha_service::lab::{self, ResultInput};
use choucha_service::objections::{self, CloseInput, DecisionInput, ObjectionInput};
use choucha_service::results::{self, DeliveryInput, LetterTextInput};
use choucha_service::retests::{
    self, AssignRetestInput, RetestDispatchInput, RetestReceiptInput, RetestResultsInput, SignStep,
};
use choucha_store::audit;

/// The enterprise's user, the result received today by EMS.
async fn received(w: &World, report_id: i64) -> Actor {
    let owner = Fixture::make_user(s(w), "ent_user", "王站长", &["enterprise"], None, Some(w.uscc.as_str())).await;
    let d = results::of_report(s(w), &w.custodian, report_id).await.unwrap()[0].id;
    let today = s(w).today();
    let ems = DeliveryInput {
        method: "ems".into(),
        tracking_no: "1190012345678".into(),
        sent_on: Some(today),
        received_on: Some(today),
        ..Default::default()
    };
    results::record_delivery(s(w), &w.custodian, d, ems).await.unwrap();
    owner
}

/// An accepted re-test request on 硫含量; the objection's id.
async fn accepted_request(w: &World, owner: &Actor, report_id: i64) -> i64 {
    let o = objections::file(
        s(w),
        owner,
        report_id,
        ObjectionInput {
            kind: "retest".into(),
            items: vec!["硫含量".into()],
            reason: "对硫含量结果有异议".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    objections::decide(s(w), &w.regulator, o.id, DecisionInput { accept: true, reason: "受理".into() }).await.unwrap();
    o.id
}

fn assign_to(org: i64) -> AssignRetestInput {
    AssignRetestInput { institution_id: org, same_institution_reason: String::new(), fee_advance: "1200".into() }
}

fn sulfur(v: f64) -> RetestResultsInput {
    RetestResultsInput {
        results: vec![ResultInput { item_name: Some("硫含量".into()), value: Some(v), ..Default::default() }],
    }
}

fn intact() -> RetestReceiptInput {
    RetestReceiptInput {
        seal_intact: true,
        seal_note: "封条SXGH-000124完好".into(),
        seals_seen: vec!["SXGH-000124".into()],
        photos: vec![photo()],
    }
}

#[tokio::test]
async fn a_retest_that_differs_replaces_the_conclusion_and_the_bureau_pays() {
    let w = world().await;
    let lab2 = second_lab(&w).await;
    let r = issued(&w, 12.5).await;
    let owner = received(&w, r.id).await;
    let first = sample_of_report(&w, r.id).await.id;
    let open = choucha_store::cases::open_cases_of_sample(s(&w).store().reader(), first).await.unwrap();
    assert_eq!(open.len(), 1, "the unqualified result opened a post-processing case");
    let o = objections::file(
        s(&w),
        &owner,
        r.id,
        ObjectionInput {
            kind: "retest".into(),
            items: vec!["硫含量".into()],
            reason: "对硫含量结果有异议".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    // Not before the bureau accepts the request.
    assert_eq!(
        code(&retests::assign(s(&w), &w.regulator, o.id, assign_to(lab2.org_id)).await.unwrap_err()),
        "objection_state"
    );
    objections::decide(s(&w), &w.regulator, o.id, DecisionInput { accept: true, reason: "受理".into() }).await.unwrap();

    // Another institution where possible: the first only with a reason; the fee paid in advance.
    let first_org = sample_of_report(&w, r.id).await.testing_org_id;
    let choices = retests::institutions_for(s(&w), &w.regulator, o.id).await.unwrap();
    assert!(choices.iter().any(|c| c.first && c.id == first_org) && choices.iter().any(|c| c.id == lab2.org_id));
    let e = retests::assign(s(&w), &w.regulator, o.id, assign_to(first_org)).await.unwrap_err();
    assert_eq!(code(&e), "rule18_same_institution");
    let e = retests::assign(
        s(&w),
        &w.regulator,
        o.id,
        AssignRetestInput { fee_advance: "0".into(), ..assign_to(lab2.org_id) },
    )
    .await
    .unwrap_err();
    assert_eq!(code(&e), "rule18_fee_advance");
    assert_eq!(
        code(&retests::assign(s(&w), &w.custodian, o.id, assign_to(lab2.org_id)).await.unwrap_err()),
        "not_found"
    );
    let rt = retests::assign(s(&w), &w.regulator, o.id, assign_to(lab2.org_id)).await.unwrap();
    assert_eq!(
        (rt.state.as_str(), rt.fee_advance.as_str(), rt.items.as_slice()),
        ("assigned", "1200.00", ["硫含量".to_string()].as_slice())
    );
    assert_eq!(rt.enterprise.as_deref(), Some(ENTERPRISE), "the bureau sees whom it concerns");
    assert_eq!(
        code(&retests::assign(s(&w), &w.regulator, o.id, assign_to(lab2.org_id)).await.unwrap_err()),
        "retest_exists"
    );

    // The seal is photographed and checked before any testing.
    assert_eq!(
        code(&retests::enter_results(s(&w), &lab2.tester, rt.id, sulfur(8.0)).await.unwrap_err()),
        "rule18_seal_unchecked"
    );
    let no_photo = RetestReceiptInput { photos: vec![], ..intact() };
    // The backup portion leaves the first laboratory first: its custodian records the dispatch.
    assert!(retests::get(s(&w), &lab2.custodian, rt.id).await.unwrap().awaiting_dispatch);
    assert_eq!(
        code(&retests::receive(s(&w), &lab2.custodian, rt.id, intact()).await.unwrap_err()),
        "rule18_not_dispatched"
    );
    let sent = RetestDispatchInput {
        dispatched_at: "2020-01-02 09:15".into(),
        carrier: "EMS EA987654321CN".into(),
        seals: vec!["sxgh-000124".into()],
        seal_intact: true,
        note: String::new(),
    };
    for wrong in [&lab2.custodian, &lab2.tester, &w.t1] {
        let e = retests::dispatch(s(&w), wrong, rt.id, sent.clone()).await.unwrap_err();
        assert!(matches!(code(&e), "forbidden" | "not_found"), "{e:?}");
    }
    let no_carrier = RetestDispatchInput { carrier: " ".into(), ..sent.clone() };
    assert_eq!(code(&retests::dispatch(s(&w), &w.custodian, rt.id, no_carrier).await.unwrap_err()), "required");
    let later = RetestDispatchInput { dispatched_at: "2999-01-01 08:00".into(), ..sent.clone() };
    assert_eq!(code(&retests::dispatch(s(&w), &w.custodian, rt.id, later).await.unwrap_err()), "future_date");
    let d = retests::dispatch(s(&w), &w.custodian, rt.id, sent.clone()).await.unwrap().dispatch.unwrap();
    // Beijing time as typed, the seal numbers as packed.
    assert_eq!(
        (d.dispatched_at.as_str(), d.seals.as_slice()),
        ("2020-01-02 09:15", ["SXGH-000124".to_string()].as_slice())
    );
    assert_eq!(
        code(&retests::dispatch(s(&w), &w.custodian, rt.id, sent).await.unwrap_err()),
        "rule18_already_dispatched"
    );
    let blind = serde_json::to_string(&retests::get(s(&w), &lab2.tester, rt.id).await.unwrap()).unwrap();
    assert!(!blind.contains("SXGH") && !blind.contains("EA987654321CN"), "blind staff never see the seals: {blind}");
    // An intact seal must carry the record's numbers: the custodian is shown them and checks.
    let seen = retests::get(s(&w), &lab2.custodian, rt.id).await.unwrap();
    assert_eq!(seen.expected_seals, vec!["SXGH-000124".to_string()]);
    assert!(retests::get(s(&w), &lab2.tester, rt.id).await.unwrap().expected_seals.is_empty(), "blind staff never");
    for wrong in [vec![], vec!["SXGH-000999".to_string()], vec!["SXGH-000124".to_string(), "X-1".to_string()]] {
        let input = RetestReceiptInput { seals_seen: wrong, ..intact() };
        assert_eq!(
            code(&retests::receive(s(&w), &lab2.custodian, rt.id, input).await.unwrap_err()),
            "rule18_seal_mismatch"
        );
    }
    assert_eq!(
        code(&retests::receive(s(&w), &lab2.custodian, rt.id, no_photo).await.unwrap_err()),
        "rule18_seal_photo"
    );
    assert_eq!(code(&retests::receive(s(&w), &lab2.tester, rt.id, intact()).await.unwrap_err()), "forbidden");
    // The first institution's custodian sends it but does not receive it.
    assert_eq!(code(&retests::receive(s(&w), &w.custodian, rt.id, intact()).await.unwrap_err()), "forbidden");
    let got = retests::receive(s(&w), &lab2.custodian, rt.id, intact()).await.unwrap();
    assert_eq!((got.state.as_str(), got.seal_photos.len()), ("testing", 1));
    assert!(got.enterprise.is_none(), "the re-test institution works blind");

    // The tester sees the blind code, never the enterprise (rule 13).
    let seen = retests::get(s(&w), &lab2.tester, rt.id).await.unwrap();
    let json = serde_json::to_string(&seen).unwrap();
    assert!(!json.contains(ENTERPRISE) && !json.contains(&w.uscc), "{json}");
    assert!(seen.blind_code.starts_with("FJ-"));

    // Only the objected items, all of them.
    let mut both = sulfur(8.0);
    both.results
        .push(ResultInput { item_name: Some("闪点（闭口）".into()), value: Some(66.0), ..Default::default() });
    assert_eq!(code(&retests::enter_results(s(&w), &lab2.tester, rt.id, both).await.unwrap_err()), "rule18_items_only");
    let none = RetestResultsInput { results: vec![] };
    assert_eq!(code(&retests::enter_results(s(&w), &lab2.tester, rt.id, none).await.unwrap_err()), "required");
    assert_eq!(code(&retests::enter_results(s(&w), &lab2.a1, rt.id, sulfur(8.0)).await.unwrap_err()), "forbidden");
    let tested = retests::enter_results(s(&w), &lab2.tester, rt.id, sulfur(8.0)).await.unwrap();
    assert_eq!(tested.results[0].judgement, "conforming");
    assert_eq!(tested.results[0].first_judgement, "不符合");

    // Three people sign the re-test report (rule 15).
    let sg = || lab::SignOffInput { signature_png_base64: PNG.into(), use_stored_signature: false };
    assert_eq!(
        code(&retests::sign(s(&w), &lab2.tester, rt.id, SignStep::Review, sg()).await.unwrap_err()),
        "forbidden"
    );
    assert_eq!(
        code(&retests::sign(s(&w), &lab2.tester, rt.id, SignStep::Prepare, Default::default()).await.unwrap_err()),
        "required"
    );
    retests::sign(s(&w), &lab2.tester, rt.id, SignStep::Prepare, sg()).await.unwrap();
    retests::sign(s(&w), &lab2.a1, rt.id, SignStep::Review, sg()).await.unwrap();
    assert_eq!(
        code(&retests::sign(s(&w), &lab2.a1, rt.id, SignStep::Approve, sg()).await.unwrap_err()),
        "rule15_same_person"
    );
    let done = retests::sign(s(&w), &lab2.a2, rt.id, SignStep::Approve, sg()).await.unwrap();
    assert_eq!((done.state.as_str(), done.qualified, done.agrees), ("concluded", Some(true), Some(false)));
    assert_eq!(done.fee_payer, "bureau");
    assert!(done.report_no.as_deref().unwrap().starts_with("FJ-LAB2-"));
    // Final: nothing more.
    assert_eq!(
        code(&retests::enter_results(s(&w), &lab2.tester, rt.id, sulfur(12.0)).await.unwrap_err()),
        "rule18_final"
    );

    // The re-test's conclusion replaces the first in the sample's result; the request is concluded.
    let mine = objections::my_results(s(&w), &owner).await.unwrap();
    let req = &mine[0].objections[0];
    assert_eq!(req.state.as_str(), "concluded");
    let seen = req.retest.as_ref().unwrap();
    assert_eq!((seen.qualified, seen.fee_payer.as_str()), (Some(true), "bureau"));
    assert!(seen.fee_payer_label.contains("组织监督抽查的部门承担"));
    let sample = sample_of_report(&w, r.id).await;
    assert_eq!(sample.qualified, Some(true));
    // The post-processing case the first result opened is closed by the final one (rule 20).
    let open = choucha_store::cases::open_cases_of_sample(s(&w).store().reader(), sample.id).await.unwrap();
    assert!(open.is_empty(), "{open:?}");
    // The backup is now the re-test institution's to return to the enterprise (rule 19).
    let ds = choucha_store::disposals::open_disposals_of_sample(s(&w).store().reader(), sample.id).await.unwrap();
    let backup = ds.iter().find(|d| d.portion == "backup").unwrap();
    assert_eq!(
        (backup.testing_org_id, backup.qualified, backup.required.as_str()),
        (lab2.org_id, true, "return_to_enterprise")
    );
    assert!(sample.conclusion.contains("复检") && sample.conclusion.contains("最终结论"), "{}", sample.conclusion);

    // The re-test report PDF: for the applicant, not another enterprise.
    let (_, pdf) = retests::report_pdf(s(&w), &owner, rt.id).await.unwrap();
    if let Some(text) = pdf_text(&pdf) {
        assert!(
            text.contains("复检") && text.contains("硫含量") && text.contains(done.report_no.as_deref().unwrap()),
            "{text}"
        );
    }
    let other = w.fx.enterprise("大同市平城区另一加油站", "140213", "销售者、加油站", 7).await;
    let stranger =
        Fixture::make_user(s(&w), "ent_other", "李经理", &["enterprise"], None, Some(other.uscc.as_str())).await;
    assert_eq!(code(&retests::report_pdf(s(&w), &stranger, rt.id).await.unwrap_err()), "not_found");
    // The bureau's share is public funds, in the plan's costs (rules 18 and 21).
    let costs = choucha_service::handover::plan_costs(s(&w), &w.regulator, plan_of(&w).await).await.unwrap();
    assert_eq!((costs.retest_bureau_fen, costs.retest_applicant_fen, costs.charged_to_enterprises_fen), (120000, 0, 0));
    assert_eq!(costs.total_paid_fen, costs.items.iter().map(|i| i.paid_fen).sum::<i64>() + 120000);
    let f = audit::AuditFilter { action: Some("retest.approve".into()), ..Default::default() };
    assert_eq!(audit::list(s(&w).store().reader(), &f, None, 10).await.unwrap().items.len(), 1);
}

#[tokio::test]
async fn a_retest_that_agrees_keeps_the_result_and_the_applicant_pays_and_a_broken_seal_stops_one() {
    let w = world().await;
    let lab2 = second_lab(&w).await;
    let r = issued(&w, 12.5).await;
    let owner = received(&w, r.id).await;
    let o = accepted_request(&w, &owner, r.id).await;
    let rt = retests::assign(s(&w), &w.regulator, o, assign_to(lab2.org_id)).await.unwrap();
    dispatched_backup(&w, rt.id).await;
    // A broken seal: the reason is required; the re-test stops and the bureau hears of it.
    let broken =
        RetestReceiptInput { seal_intact: false, seal_note: String::new(), seals_seen: vec![], photos: vec![photo()] };
    assert_eq!(code(&retests::receive(s(&w), &lab2.custodian, rt.id, broken.clone()).await.unwrap_err()), "required");
    let broken = RetestReceiptInput { seal_note: "封条断裂".into(), ..broken };
    let stopped = retests::receive(s(&w), &lab2.custodian, rt.id, broken).await.unwrap();
    assert_eq!(stopped.state.as_str(), "seal_broken");
    assert_eq!(
        code(&retests::enter_results(s(&w), &lab2.tester, rt.id, sulfur(8.0)).await.unwrap_err()),
        "rule18_seal_broken"
    );
    let inbox = choucha_store::sampling::inbox_of(s(&w).store().reader(), rt_org(&w).await, None, 20).await.unwrap();
    assert!(inbox.items.iter().any(|i| i.title.contains("封条异常")));
    // The bureau closes the request with its written answer; the applicant reads it.
    let answer = |a: &str| CloseInput { answer: a.into() };
    assert_eq!(code(&objections::close(s(&w), &w.custodian, o, answer("x")).await.unwrap_err()), "not_found");
    assert_eq!(code(&objections::close(s(&w), &w.regulator, o, answer(" ")).await.unwrap_err()), "required");
    let closed =
        objections::close(s(&w), &w.regulator, o, answer("备用样品封条破损，无法复检，维持原检验结论")).await.unwrap();
    assert_eq!(closed.state.as_str(), "concluded");
    let mine = objections::my_results(s(&w), &owner).await.unwrap();
    assert!(mine[0].objections[0].answer.contains("维持原检验结论"));
    assert_eq!(code(&objections::close(s(&w), &w.regulator, o, answer("再次")).await.unwrap_err()), "objection_state");
}

async fn rt_org(w: &World) -> i64 {
    w.regulator.org_id.unwrap()
}

#[tokio::test]
async fn an_agreeing_retest_keeps_the_failure_and_the_applicant_bears_the_fee() {
    let w = world().await;
    let lab2 = second_lab(&w).await;
    let r = issued(&w, 12.5).await;
    let owner = received(&w, r.id).await;
    let o = accepted_request(&w, &owner, r.id).await;
    let rt = retests::assign(s(&w), &w.regulator, o, assign_to(lab2.org_id)).await.unwrap();
    dispatched_backup(&w, rt.id).await;
    retests::receive(s(&w), &lab2.custodian, rt.id, intact()).await.unwrap();
    retests::enter_results(s(&w), &lab2.tester, rt.id, sulfur(11.8)).await.unwrap();
    let sg = || lab::SignOffInput { signature_png_base64: PNG.into(), use_stored_signature: false };
    retests::sign(s(&w), &lab2.tester, rt.id, SignStep::Prepare, sg()).await.unwrap();
    retests::sign(s(&w), &lab2.a1, rt.id, SignStep::Review, sg()).await.unwrap();
    let done = retests::sign(s(&w), &lab2.a2, rt.id, SignStep::Approve, sg()).await.unwrap();
    assert_eq!((done.qualified, done.agrees, done.fee_payer.as_str()), (Some(false), Some(true), "applicant"));
    assert_eq!(sample_of_report(&w, r.id).await.qualified, Some(false));
    let costs = choucha_service::handover::plan_costs(s(&w), &w.regulator, plan_of(&w).await).await.unwrap();
    assert_eq!((costs.retest_bureau_fen, costs.retest_applicant_fen), (0, 120000));
}

async fn producer_user(w: &World) -> Actor {
    let p = w.fx.enterprise(PRODUCER, "140105", "生产者", 3).await;
    Fixture::make_user(s(w), "producer_user", "赵厂长", &["enterprise"], None, Some(p.uscc.as_str())).await
}

#[tokio::test]
async fn the_nominal_producer_confirms_or_denies_within_the_period_and_a_denial_is_investigated() {
    let w = world_with(Options { producer: true, ..Default::default() }).await;
    let plan = plan_of(&w).await;
    // The bureau configures the period; others may not.
    let p = PeriodInput { days: 3, working_days: true };
    assert_eq!(code(&confirmations::set_period(s(&w), &w.custodian, plan, p.clone()).await.unwrap_err()), "not_found");
    let zero = PeriodInput { days: 0, working_days: true };
    assert_eq!(code(&confirmations::set_period(s(&w), &w.regulator, plan, zero).await.unwrap_err()), "invalid_days");
    confirmations::set_period(s(&w), &w.regulator, plan, p).await.unwrap();

    let r = issued(&w, 12.5).await;
    let producer = producer_user(&w).await;
    let list = confirmations::list(s(&w), &w.custodian, &[], None, None).await.unwrap();
    assert_eq!(list.items.len(), 1);
    let c = &list.items[0];
    assert_eq!((c.state.as_str(), c.producer_name.as_str(), c.report_id), ("awaiting", PRODUCER, r.id));
    let cal = choucha_store::calendar::load(s(&w).store().reader()).await.unwrap();
    assert_eq!(c.due_on, choucha_domain::retest::confirmation_due(&cal, c.sent_on, 3, true));
    assert!(!c.final_for_producer);
    // Testers never see it; another enterprise finds nothing.
    assert_eq!(code(&confirmations::list(s(&w), &w.t1, &[], None, None).await.unwrap_err()), "forbidden");
    let owner = Fixture::make_user(s(&w), "ent_user", "王站长", &["enterprise"], None, Some(w.uscc.as_str())).await;
    let deny = |note: &str| AnswerInput { confirmed: false, note: note.into() };
    assert_eq!(code(&confirmations::answer(s(&w), &owner, c.id, deny("不是")).await.unwrap_err()), "not_found");
    // Not due yet: no lapse.
    assert_eq!(code(&confirmations::record_lapse(s(&w), &w.custodian, c.id).await.unwrap_err()), "rule23_not_due");
    // The producer's own list; a denial needs its reasons.
    assert_eq!(confirmations::list(s(&w), &producer, &[], None, None).await.unwrap().items.len(), 1);
    assert_eq!(code(&confirmations::answer(s(&w), &producer, c.id, deny(" ")).await.unwrap_err()), "required");
    let denied = confirmations::answer(s(&w), &producer, c.id, deny("该批次非本公司生产，包装为仿冒")).await.unwrap();
    assert_eq!(denied.state.as_str(), "denied");
    assert!(!denied.final_for_producer);
    let inbox =
        choucha_store::sampling::inbox_of(s(&w).store().reader(), w.regulator.org_id.unwrap(), None, 20).await.unwrap();
    assert!(inbox.items.iter().any(|i| i.title.contains("否认")));
    // The bureau investigates (only it), with a finding.
    let finding = |f: &str| InvestigationInput { finding: f.into() };
    assert_eq!(
        code(&confirmations::investigate(s(&w), &w.custodian, c.id, finding("x")).await.unwrap_err()),
        "forbidden"
    );
    assert_eq!(
        code(&confirmations::investigate(s(&w), &w.regulator, c.id, finding("")).await.unwrap_err()),
        "required"
    );
    let done = confirmations::investigate(
        s(&w),
        &w.regulator,
        c.id,
        finding("经核查，样品确为仿冒产品，移交销售者所在地处理"),
    )
    .await
    .unwrap();
    assert!(done.state.as_str() == "investigated" && done.final_for_producer);
}

#[tokio::test]
async fn no_answer_by_the_deadline_is_recorded_and_a_late_answer_refused() {
    let w = world_with(Options { producer: true, ..Default::default() }).await;
    issued(&w, 12.5).await;
    let producer = producer_user(&w).await;
    let c = confirmations::list(s(&w), &w.regulator, &[], None, None).await.unwrap().items.remove(0);
    s(&w).shift_today(30);
    let e = confirmations::answer(s(&w), &producer, c.id, AnswerInput { confirmed: true, note: String::new() })
        .await
        .unwrap_err();
    assert_eq!(code(&e), "rule23_confirmation_expired");
    assert!(e.to_string().contains(&c.due_on.to_string()), "{e}");
    assert!(confirmations::get(s(&w), &w.custodian, c.id).await.unwrap().overdue);
    let lapsed = confirmations::record_lapse(s(&w), &w.custodian, c.id).await.unwrap();
    assert!(lapsed.state.as_str() == "lapsed" && lapsed.final_for_producer);
    s(&w).shift_today(-30);
}

#[tokio::test]
async fn a_sample_taken_at_its_own_producer_needs_no_confirmation() {
    let w = world().await;
    issued(&w, 8.0).await;
    assert!(confirmations::list(s(&w), &w.regulator, &[], None, None).await.unwrap().items.is_empty());
}

fn letter() -> LetterTextInput {
    LetterTextInput {
        description: String::new(),
        cause_analysis: "原料油脱硫工艺控制不当".into(),
        suggestions: "加强进货检验，完善脱硫工艺".into(),
    }
}

#[tokio::test]
async fn the_tester_writes_the_improvement_letter_blind_and_it_reaches_the_enterprise() {
    let w = world().await;
    let r = issued(&w, 12.5).await;
    let bc = blind_code_of_report(&w, r.id).await;
    // The custodian may not write it (only a tester of the sample, blind).
    assert_eq!(code(&results::write_letter(s(&w), &w.custodian, &bc, letter()).await.unwrap_err()), "forbidden");
    let empty = LetterTextInput { cause_analysis: " ".into(), ..letter() };
    assert_eq!(code(&results::write_letter(s(&w), &w.t1, &bc, empty).await.unwrap_err()), "required");
    let v = results::write_letter(s(&w), &w.t1, &bc, letter()).await.unwrap();
    assert!(v.editable && v.cause_analysis.contains("脱硫"));
    // The custodian's letter carries the tester's text with the report's facts.
    let filled = results::improvement_letter_prefill(s(&w), &w.custodian, r.id).await.unwrap();
    assert_eq!(filled.cause_analysis, "原料油脱硫工艺控制不当");
    assert!(filled.problem_description.contains("硫含量"), "the description is generated when the tester wrote none");
    assert_eq!(filled.inspected_unit, ENTERPRISE);
    let pdf = results::improvement_letter_of_report(s(&w), &w.custodian, r.id).await.unwrap();
    if let Some(text) = pdf_text(&pdf) {
        assert!(text.contains("原料油脱硫工艺控制不当") && text.contains(ENTERPRISE), "{text}");
    }
    // Delivered: the enterprise reads it, and it can no longer change.
    let owner = received(&w, r.id).await;
    assert!(objections::my_improvement_letter_pdf(s(&w), &owner, r.id).await.unwrap().starts_with(b"%PDF"));
    assert_eq!(code(&results::write_letter(s(&w), &w.t1, &bc, letter()).await.unwrap_err()), "letter_delivered");
    assert!(!results::letter_text(s(&w), &w.t1, &bc).await.unwrap().editable);
}

#[tokio::test]
async fn a_qualified_sample_has_no_improvement_letter() {
    let w = world().await;
    let r = issued(&w, 8.0).await;
    let bc = blind_code_of_report(&w, r.id).await;
    assert_eq!(code(&results::write_letter(s(&w), &w.t1, &bc, letter()).await.unwrap_err()), "report_qualified");
    assert_eq!(
        code(&results::improvement_letter_prefill(s(&w), &w.custodian, r.id).await.unwrap_err()),
        "report_qualified"
    );
}

#[tokio::test]
async fn the_plan_overview_lists_progress_results_and_every_overdue_duty_with_who_owes_it() {
    use choucha_service::overview::plan_overview;
    let w = world().await;
    let plan = plan_of(&w).await;
    let r = issued(&w, 12.5).await;
    let o = plan_overview(s(&w), &w.regulator, plan).await.unwrap();
    assert_eq!((o.total_quota, o.total_tasks), (10, 1));
    assert_eq!((o.reported, o.qualified, o.unqualified), (1, 0, 1));
    assert!(
        o.samples_by_state.iter().any(|c| c.state.as_str() == "reported" && c.count == 1 && c.label == "已出具报告")
    );
    assert!(o.tasks_by_state.iter().any(|c| c.state.as_str() == "sampled" && c.count == 1));
    // The enterprise's delivery was due by the plan's date (2025-11-15): overdue, owed by the
    // testing institution; the organising bureau's copies are due in 7 days, not yet overdue.
    let deliveries: Vec<_> = o.duties.iter().filter(|d| d.kind == "delivery").collect();
    assert_eq!(deliveries.len(), 1, "{:?}", o.duties);
    assert!(deliveries[0].what.contains(ENTERPRISE));
    assert_eq!(deliveries[0].owed_by, w.fx.institution.name);
    // Received today: 60 days on, the sample's disposals are overdue too, owed by the institution.
    let owner = received(&w, r.id).await;
    s(&w).shift_today(60);
    let later = plan_overview(s(&w), &w.regulator, plan).await.unwrap();
    s(&w).shift_today(-60);
    let kinds: Vec<&str> = later.duties.iter().map(|d| d.kind.as_str()).collect();
    assert!(kinds.contains(&"disposal"), "{:?}", later.duties);
    assert!(later.duties.iter().filter(|d| d.kind == "disposal").all(|d| d.owed_by == w.fx.institution.name));
    // An objection waiting for the bureau is the bureau's duty.
    objections::file(
        s(&w),
        &owner,
        r.id,
        ObjectionInput {
            kind: "objection".into(),
            items: vec!["硫含量".into()],
            reason: "有异议".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let o = plan_overview(s(&w), &w.regulator, plan).await.unwrap();
    let pending: Vec<_> = o.duties.iter().filter(|d| d.kind == "objection").collect();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].owed_by, o.organising_org);
    assert!(o.duties.iter().all(|d| d.kind != "delivery"), "the enterprise's delivery is now made");
    // Only the organising bureau sees it.
    assert_eq!(code(&plan_overview(s(&w), &w.custodian, plan).await.unwrap_err()), "forbidden");
}

#[tokio::test]
async fn results_entered_late_show_as_the_testing_institutions_overdue_duty() {
    use choucha_service::overview::plan_overview;
    let w = world().await;
    let plan = plan_of(&w).await;
    let bc = accepted(&w).await;
    // Tested on 2025-10-10 and still open: its results were due 3 working days later.
    let old = ResultInput {
        item_index: Some(0),
        value: Some(8.0),
        tested_on: chrono::NaiveDate::from_ymd_opt(2025, 10, 10),
        ..Default::default()
    };
    lab::enter_result(s(&w), &w.t1, &bc, old).await.unwrap();
    let o = plan_overview(s(&w), &w.regulator, plan).await.unwrap();
    let testing: Vec<_> = o.duties.iter().filter(|d| d.kind == "testing").collect();
    assert_eq!(testing.len(), 1, "{:?}", o.duties);
    // Friday 10-10, then Saturday 10-11 (a make-up workday), Monday 10-13, Tuesday 10-14.
    assert_eq!(testing[0].due, chrono::NaiveDate::from_ymd_opt(2025, 10, 14));
    assert_eq!(testing[0].owed_by, w.fx.institution.name);
    assert!(testing[0].what.contains(&bc));
}

#[tokio::test]
async fn an_item_not_objected_to_keeps_failing_in_the_announcement_after_a_retest() {
    use choucha_service::announcements;
    let w = world().await;
    let lab2 = second_lab(&w).await;
    // 硫含量 12.5 and 闪点 55 both fail; the enterprise objects to 硫含量 only.
    let bc = accepted(&w).await;
    for (i, v) in [(0, 12.5), (1, 55.0)] {
        lab::enter_result(s(&w), &w.t1, &bc, ResultInput { item_index: Some(i), value: Some(v), ..Default::default() })
            .await
            .unwrap();
    }
    let text = ResultInput { item_index: Some(2), text: Some("清澈透明".into()), ..Default::default() };
    lab::enter_result(s(&w), &w.t1, &bc, text).await.unwrap();
    lab::complete_results(s(&w), &w.t1, &bc).await.unwrap();
    let sg = || lab::SignOffInput { signature_png_base64: PNG.into(), use_stored_signature: false };
    let r = lab::prepare_report(s(&w), &w.t1, &bc, sg()).await.unwrap();
    lab::review_report(s(&w), &w.a1, r.id, sg()).await.unwrap();
    choucha_service::issue::approve_report(s(&w), &w.a2, r.id, sg()).await.unwrap();
    let owner = received(&w, r.id).await;
    let o = accepted_request(&w, &owner, r.id).await;
    let rt = retests::assign(s(&w), &w.regulator, o, assign_to(lab2.org_id)).await.unwrap();
    dispatched_backup(&w, rt.id).await;
    retests::receive(s(&w), &lab2.custodian, rt.id, intact()).await.unwrap();
    retests::enter_results(s(&w), &lab2.tester, rt.id, sulfur(8.0)).await.unwrap();
    retests::sign(s(&w), &lab2.tester, rt.id, SignStep::Prepare, sg()).await.unwrap();
    retests::sign(s(&w), &lab2.a1, rt.id, SignStep::Review, sg()).await.unwrap();
    let done = retests::sign(s(&w), &lab2.a2, rt.id, SignStep::Approve, sg()).await.unwrap();
    // The re-test differs on 硫含量 (the bureau pays) but 闪点 still fails: unqualified.
    assert_eq!((done.qualified, done.agrees, done.fee_payer.as_str()), (Some(false), Some(false), "bureau"));
    let a = announcements::draft(s(&w), &w.regulator, plan_of(&w).await).await.unwrap();
    let row = a.content.rows.iter().find(|x| x.line.report_id == r.id).unwrap();
    assert_eq!(row.line.failing_items, ["闪点（闭口）"]);
    // So does the quality analysis's chart of failing items.
    let qa = choucha_service::statistics::quality_analysis(s(&w), &w.regulator, plan_of(&w).await).await.unwrap();
    assert_eq!(qa.failing_items, [("闪点（闭口）".to_string(), 1)]);
}

#[tokio::test]
async fn the_bound_volume_holds_the_retest_report_and_each_samples_evidence_list() {
    let w = world().await;
    let lab2 = second_lab(&w).await;
    let r = issued(&w, 12.5).await;
    let owner = enterprise_user(&w).await;
    let id = retested(&w, &lab2, &owner, r.id, 12.5).await;
    let rt = retests::get(s(&w), &w.regulator, id).await.unwrap();
    let retest_no = rt.report_no.unwrap();
    let plan = plan_of(&w).await;
    let pdf = choucha_service::bound_volume::bound_volume_pdf(s(&w), &w.regulator, plan, 1).await.unwrap();
    let text: String = pdf_text(&pdf).unwrap().chars().filter(|c| !c.is_whitespace()).collect();
    // The contents list the re-test report after the first report, then the record with its evidence.
    let first = text.find(&format!("检验报告{}", r.report_no.clone().unwrap())).unwrap();
    let retest = text.find(&format!("复检报告{retest_no}")).expect("the re-test report is in the contents");
    let record = text.find("抽样单及抽样证据清单").unwrap();
    assert!(first < retest && retest < record, "report, re-test report, record");
    // The evidence list prints each photo's hash.
    let photo = choucha_store::evidence::of_task(s(&w).store().reader(), w.task).await.unwrap();
    assert!(!photo.is_empty());
    assert!(text.contains("抽样证据清单") && text.contains(&photo[0].sha256), "{text}");
}
