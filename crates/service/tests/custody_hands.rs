//! Custody signed by both hands (issue 18) through the service layer: every hand-over — sampler →
//! courier → custodian (dispatch, confirmed by the receipt), custodian → tester and back, first lab
//! → re-test lab, custodian → disposal — carries the other party's confirmation; only that party
//! may give it, once; the chain reads as holdings and flags its gaps; temperatures are checked.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use choucha_service::custody_chain::{self, CustodyChain};
use choucha_service::custody_hands::{self, ConfirmInput};
use choucha_service::fixtures::lab_world::*;
use choucha_service::handover::{self, DispatchInput};
use choucha_service::lab::{self, AssignInput, MovementInput};
use choucha_service::{Actor, ServiceError};

fn shipped() -> DispatchInput {
    DispatchInput {
        mode: "shipped".into(),
        carrier: "EMS".into(),
        tracking_no: "EA123456789CN".into(),
        courier_name: "李快递".into(),
        courier_signature_png_base64: PNG.into(),
        temperature_c: Some(4.5),
        ..Default::default()
    }
}

fn movement(kind: &str) -> MovementInput {
    MovementInput {
        portion: "test".into(),
        kind: kind.into(),
        seal_state: "intact".into(),
        location: String::new(),
        note: String::new(),
        temperature_c: None,
        witness_name: String::new(),
        witness_signature_png_base64: String::new(),
    }
}

fn flags(c: &CustodyChain, portion: &str) -> Vec<String> {
    c.portions.iter().find(|p| p.portion == portion).unwrap().flags.iter().map(|f| f.code.clone()).collect()
}

/// The newest hand-over of a kind on the task.
async fn hand_over(w: &World, kind: &str) -> i64 {
    let c = custody_chain::chain(s(w), &w.custodian, w.task).await.unwrap();
    c.portions.iter().flat_map(|p| p.hand_overs.iter()).filter(|h| h.kind == kind).map(|h| h.id).max().unwrap()
}

fn refused(r: Result<impl std::fmt::Debug, ServiceError>) {
    let e = r.expect_err("must be refused");
    assert!(matches!(e.code(), "forbidden" | "not_found"), "{e:?}");
}

/// Everyone but the right party is refused, and nothing is written.
async fn only(w: &World, event: i64, others: &[&Actor]) {
    for a in others {
        refused(custody_hands::confirm(s(w), a, event, ConfirmInput::default()).await);
    }
    let c = custody_chain::chain(s(w), &w.custodian, w.task).await.unwrap();
    let h = c.portions.iter().flat_map(|p| p.hand_overs.iter()).find(|h| h.id == event).unwrap();
    assert!(h.confirmation.is_none(), "a refused confirmation wrote nothing");
}

#[tokio::test]
async fn every_hand_over_is_signed_by_both_hands() {
    let w = world().await;
    let lab2 = second_lab(&w).await;
    let owner = enterprise_user(&w).await;
    // Sampler → courier: the courier signs on the sampler's phone; the temperature is kept.
    let sent = handover::dispatch(s(&w), &w.s1, w.task, shipped()).await.unwrap();
    assert!(sent.iter().any(|e| e.kind == "dispatched"));
    let before = custody_chain::chain(s(&w), &w.s1, w.task).await.unwrap();
    assert!(flags(&before, "test").contains(&"unconfirmed".to_string()), "{:?}", before.portions[0].flags);
    assert!(flags(&before, "test").contains(&"no_holder".to_string()));
    assert!(!flags(&before, "test").contains(&"courier_unsigned".to_string()), "the courier signed");
    let dispatch = hand_over(&w, "dispatched").await;
    only(&w, dispatch, &[&w.s1, &w.s2, &w.regulator, &w.t1, &w.a1, &lab2.custodian, &owner]).await;
    // Courier → custodian: the receipt is the custodian's hand on the dispatch.
    let code = lab::receive(s(&w), &w.custodian, w.task, accept()).await.unwrap().blind_code.unwrap();
    let c = custody_chain::chain(s(&w), &w.custodian, w.task).await.unwrap();
    for p in &c.portions {
        let d = p.hand_overs.iter().find(|h| h.kind == "dispatched").unwrap();
        let conf = d.confirmation.as_ref().expect("dispatch confirmed by the receipt");
        assert_eq!(conf.confirmed_name, w.custodian.display_name);
        assert_eq!(d.temperature_c, Some(4.5));
        assert!(p.holdings.iter().any(|h| h.holder.contains("李快递")), "{:?}", p.holdings);
        assert!(p.holdings.last().unwrap().holder.contains(&w.custodian.display_name));
    }
    assert_eq!(c.gaps, 0, "{:?}", c.portions.iter().map(|p| &p.flags).collect::<Vec<_>>());
    assert_eq!(
        custody_hands::confirm(s(&w), &w.custodian, dispatch, ConfirmInput::default()).await.unwrap_err().code(),
        "already_confirmed"
    );

    // Custodian → tester: only the assigned tester confirms, once.
    let sample = choucha_store::lab::sample_by_blind_code(s(&w).store().reader(), &code).await.unwrap().unwrap();
    lab::assign_tester(s(&w), &w.custodian, sample.id, AssignInput { tester_id: w.t1.user_id }).await.unwrap();
    let bad = MovementInput { temperature_c: Some(61.0), ..movement("to_testing") };
    assert_eq!(lab::move_portion(s(&w), &w.custodian, sample.id, bad).await.unwrap_err().code(), "invalid_temperature");
    let cold = MovementInput { temperature_c: Some(-80.5), ..movement("to_testing") };
    assert!(lab::move_portion(s(&w), &w.custodian, sample.id, cold).await.is_err());
    let ok = MovementInput { temperature_c: Some(-18.0), ..movement("to_testing") };
    lab::move_portion(s(&w), &w.custodian, sample.id, ok).await.unwrap();
    let to_testing = hand_over(&w, "to_testing").await;
    only(&w, to_testing, &[&w.custodian, &w.t2, &w.s1, &w.a1, &w.regulator, &lab2.tester, &lab2.custodian, &owner])
        .await;
    // The tester sees it by blind code, with nothing that names the enterprise.
    let mine = custody_hands::hand_overs_of_sample(s(&w), &w.t1, &code).await.unwrap();
    assert!(mine.iter().any(|h| h.id == to_testing && h.confirmation.is_none()));
    let text = serde_json::to_string(&mine).unwrap();
    assert!(!text.contains(ENTERPRISE) && !text.contains(&w.uscc), "{text}");
    let done = custody_hands::confirm(s(&w), &w.t1, to_testing, ConfirmInput::default()).await.unwrap();
    assert_eq!(done.confirmation.unwrap().confirmed_name, w.t1.display_name);
    assert_eq!(
        custody_hands::confirm(s(&w), &w.t1, to_testing, ConfirmInput::default()).await.unwrap_err().code(),
        "already_confirmed"
    );
    // Blind rule: the tester never reads the chain.
    assert!(custody_chain::chain(s(&w), &w.t1, w.task).await.is_err());

    // Tester → custodian: the custodian writes it, the tester confirms with a stored signature.
    lab::move_portion(s(&w), &w.custodian, sample.id, movement("returned")).await.unwrap();
    let returned = hand_over(&w, "returned").await;
    only(&w, returned, &[&w.custodian, &w.t2, &w.regulator, &owner]).await;
    let no_stored = ConfirmInput { use_stored_signature: true, ..Default::default() };
    assert_eq!(
        custody_hands::confirm(s(&w), &w.t1, returned, no_stored.clone()).await.unwrap_err().code(),
        "no_stored_signature"
    );
    let stored = choucha_service::signature::StoredSignatureInput { image_png_base64: PNG.into() };
    choucha_service::signature::store_mine(s(&w), &w.t1, stored).await.unwrap();
    let signed = custody_hands::confirm(s(&w), &w.t1, returned, no_stored).await.unwrap();
    assert!(signed.confirmation.unwrap().signed);

    // A stored event that is no hand-over is refused as such.
    lab::move_portion(s(&w), &w.custodian, sample.id, MovementInput { location: "A区".into(), ..movement("stored") })
        .await
        .unwrap();
    let events = handover::custody(s(&w), &w.custodian, w.task).await.unwrap();
    let stored_ev = events.iter().rev().find(|e| e.kind == "stored").unwrap().id;
    assert_eq!(
        custody_hands::confirm(s(&w), &w.custodian, stored_ev, ConfirmInput::default()).await.unwrap_err().code(),
        "not_a_handover"
    );

    // Custodian → disposal: another custodian of the institution witnesses it in the app …
    let keeper2 = w.fx.user("lab_keeper2", &["sample_custodian"], Some("lab")).await;
    lab::move_portion(s(&w), &w.custodian, sample.id, movement("disposed")).await.unwrap();
    let disposed = hand_over(&w, "disposed").await;
    only(&w, disposed, &[&w.custodian, &w.t1, &w.regulator, &lab2.custodian, &owner]).await;
    custody_hands::confirm(s(&w), &keeper2, disposed, ConfirmInput::default()).await.unwrap();
    // … or a witness signs on the custodian's phone (the backup portion).
    let witnessed = MovementInput {
        portion: "backup".into(),
        witness_name: "赵见证".into(),
        witness_signature_png_base64: PNG.into(),
        ..movement("disposed")
    };
    lab::move_portion(s(&w), &w.custodian, sample.id, witnessed).await.unwrap();
    let c = custody_chain::chain(s(&w), &w.regulator, w.task).await.unwrap();
    assert_eq!(c.gaps, 0, "{:?}", c.portions.iter().map(|p| &p.flags).collect::<Vec<_>>());
    let backup = c.portions.iter().find(|p| p.portion == "backup").unwrap();
    let d = backup.hand_overs.iter().find(|h| h.kind == "disposed").unwrap();
    assert_eq!(d.confirmation.as_ref().unwrap().confirmed_name, "赵见证");
    assert!(!d.confirmation.as_ref().unwrap().in_app);
    let test = c.portions.iter().find(|p| p.portion == "test").unwrap();
    assert!(test.holdings.iter().all(|h| h.to.is_some()), "disposed: nobody holds it any more");
    assert!(test.hand_overs.iter().all(|h| h.confirmation.is_some()), "both hands at every hand-over");
}

#[tokio::test]
async fn the_backup_portion_sent_to_the_retest_lab_is_confirmed_by_its_custodian() {
    let w = world().await;
    let lab2 = second_lab(&w).await;
    let owner = enterprise_user(&w).await;
    let report = issued(&w, 12.0).await;
    let r = arranged_retest(&w, &lab2, &owner, report.id).await;
    dispatched_backup(&w, r).await;
    let sent = hand_over(&w, "retest_dispatched").await;
    only(&w, sent, &[&w.custodian, &w.t1, &lab2.tester, &lab2.a1, &w.regulator, &owner]).await;
    let v = custody_hands::confirm(s(&w), &lab2.custodian, sent, ConfirmInput::default()).await.unwrap();
    assert_eq!(v.confirmation.unwrap().confirmed_name, lab2.custodian.display_name);
    let c = custody_chain::chain(s(&w), &w.regulator, w.task).await.unwrap();
    let backup = c.portions.iter().find(|p| p.portion == "backup").unwrap();
    assert!(!backup.flags.iter().any(|f| f.code == "unconfirmed" && f.event_id == sent), "{:?}", backup.flags);
}

#[tokio::test]
async fn the_chain_flags_its_gaps_and_temperatures_are_checked() {
    let w = world().await;
    // Sent by the team with no courier's signature, the test portion's seal broken when taken to
    // testing. (A receipt dated before its dispatch is refused by the receipt itself, so the chain's
    // time_backwards flag is not reached through the service.)
    let now = s(&w).now();
    let d = DispatchInput { courier_name: String::new(), courier_signature_png_base64: String::new(), ..shipped() };
    handover::dispatch(s(&w), &w.s1, w.task, d).await.unwrap();
    let at = ReceiptInputExt::at(now);
    let code = lab::receive(s(&w), &w.custodian, w.task, at).await.unwrap().blind_code.unwrap();
    let sample = choucha_store::lab::sample_by_blind_code(s(&w).store().reader(), &code).await.unwrap().unwrap();
    let broken = MovementInput { seal_state: "broken".into(), ..movement("to_testing") };
    lab::move_portion(s(&w), &w.custodian, sample.id, broken).await.unwrap();
    let c = custody_chain::chain(s(&w), &w.custodian, w.task).await.unwrap();
    let test = flags(&c, "test");
    for code in ["courier_unsigned", "seal_changed", "unconfirmed"] {
        assert!(test.contains(&code.to_string()), "{code}: {test:?}");
    }
    assert!(!test.contains(&"no_holder".to_string()), "received: {test:?}");
    assert!(c.gaps >= 3);
    // The enterprise and a tester of the institution never read the chain.
    let owner = enterprise_user(&w).await;
    assert!(custody_chain::chain(s(&w), &owner, w.task).await.is_err());
    assert!(custody_chain::chain(s(&w), &w.t2, w.task).await.is_err());
    // A temperature out of range at dispatch is refused before anything is written.
    let w2 = world().await;
    for t in [60.5, -81.0, f64::NAN] {
        let hot = DispatchInput { temperature_c: Some(t), ..shipped() };
        let e = handover::dispatch(s(&w2), &w2.s1, w2.task, hot).await.unwrap_err();
        assert_eq!(e.code(), "invalid_temperature", "{t}");
    }
    assert!(handover::custody(s(&w2), &w2.s1, w2.task).await.unwrap().iter().all(|e| e.kind != "dispatched"));
}

struct ReceiptInputExt;

impl ReceiptInputExt {
    fn at(t: chrono::DateTime<chrono::Utc>) -> choucha_service::lab::ReceiptInput {
        choucha_service::lab::ReceiptInput { arrived_at: Some(t), ..accept() }
    }
}
