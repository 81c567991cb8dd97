//! Issue 18: an issued report is SM2-signed; the file verifies against the exported keys, one
//! changed byte does not; a rotated key still verifies what it signed; the public check shows the
//! report (never the enterprise) only once delivered, and tells a tampered upload apart.

use super::*;
use choucha_service::{signing, verify};
use choucha_store::audit::AuditActor;

async fn token_of(w: &World, report_id: i64) -> String {
    choucha_store::signing::signature_of(s(w).store().reader(), "report", report_id).await.unwrap().unwrap().token
}

#[tokio::test]
async fn an_issued_report_is_signed_and_verifies_offline_and_one_changed_byte_is_refused() {
    let w = world().await;
    let r = issued(&w, 8.0).await;
    let (_, pdf) = lab::report_pdf(s(&w), &w.custodian, r.id).await.unwrap();
    let stored = choucha_store::signing::signature_of(s(&w).store().reader(), "report", r.id).await.unwrap().unwrap();
    assert_eq!(stored.pdf_sha256, choucha_domain::signed_pdf::sha256_hex(&pdf));
    assert_eq!(stored.pdf_sm3, choucha_domain::signed_pdf::sm3_hex(&pdf));
    assert_eq!(r.pdf_sha256, stored.pdf_sha256, "the report's own hash is the signed file's");
    let keys = signing::export_keys(s(&w)).await.unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!((keys[0].org_code.as_str(), keys[0].key_id.as_str()), ("lab", stored.key_id.as_str()));
    assert_eq!(signing::check_file(&pdf, &keys).unwrap().key_id, stored.key_id);
    // The private key is in the signing folder, readable by its owner only.
    let lab_org = choucha_store::organisations::find_by_code(s(&w).store().reader(), "lab").await.unwrap().unwrap();
    let file = signing::key_path(s(&w).signing_dir(), lab_org.id);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    // The printed block names the signature, the key and the verification page.
    if let Some(text) = pdf_text(&pdf) {
        assert!(text.contains("本报告经SM2数字签名"), "{text}");
        assert!(text.contains(&stored.key_id), "key fingerprint printed");
        assert!(text.contains(&format!("/verify/{}", stored.token)), "verification URL printed");
    }
    let mut tampered = pdf.clone();
    let mid = tampered.len() / 2;
    tampered[mid] ^= 0x20;
    let e = signing::check_file(&tampered, &keys).unwrap_err();
    assert!(e.to_string().contains("已被改动"), "{e}");
    // Unknown key: an export without it.
    let e = signing::check_file(&pdf, &[]).unwrap_err();
    assert!(e.to_string().contains("不在已知密钥中"), "{e}");
}

#[tokio::test]
async fn a_rotated_key_still_verifies_the_reports_it_signed() {
    let w = world().await;
    let r = issued(&w, 12.5).await;
    let (_, first) = lab::report_pdf(s(&w), &w.custodian, r.id).await.unwrap();
    let rotated = signing::rotate(s(&w), &AuditActor::system("test"), "lab").await.unwrap();
    assert_eq!(rotated.retired, 1);
    assert!(signing::rotate(s(&w), &AuditActor::system("test"), "nope").await.is_err(), "unknown institution");
    // A corrected report is signed with the new key.
    let bc = blind_code_of_report(&w, r.id).await;
    lab::correct_report(s(&w), &w.t1, r.id, CorrectionInput { reason: "硫含量复核后数据更正".into() }).await.unwrap();
    lab::enter_result(s(&w), &w.t1, &bc, number(0, 9.0)).await.unwrap();
    lab::complete_results(s(&w), &w.t1, &bc).await.unwrap();
    let r2 = lab::prepare_report(s(&w), &w.t1, &bc, sig()).await.unwrap();
    lab::review_report(s(&w), &w.a1, r2.id, sig()).await.unwrap();
    choucha_service::issue::approve_report(s(&w), &w.a2, r2.id, sig()).await.unwrap();
    let (_, second) = lab::report_pdf(s(&w), &w.custodian, r2.id).await.unwrap();
    let keys = signing::export_keys(s(&w)).await.unwrap();
    assert_eq!(keys.len(), 2);
    let old = signing::check_file(&first, &keys).unwrap();
    let new = signing::check_file(&second, &keys).unwrap();
    assert!(old.retired_at.is_some(), "the first key is retired");
    assert_eq!((new.key_id.as_str(), new.retired_at.as_deref()), (rotated.new_key_id.as_str(), None));
    // The superseded report's public page says so, once delivered.
    received_today(s(&w), &w.custodian, r.id).await;
    let v = verify::view(s(&w), &token_of(&w, r.id).await).await.unwrap();
    assert!(v.superseded, "{v:?}");
    assert!(v.status.contains("已被更正报告替代"), "{}", v.status);
}

#[tokio::test]
async fn the_public_check_shows_the_report_only_once_delivered_and_refuses_a_tampered_upload() {
    let w = world().await;
    let r = issued(&w, 12.5).await;
    let token = token_of(&w, r.id).await;
    // Before delivery: the same answer as an unknown token.
    assert_eq!(code(&verify::view(s(&w), &token).await.unwrap_err()), "not_found");
    assert_eq!(code(&verify::view(s(&w), &"0".repeat(32)).await.unwrap_err()), "not_found");
    assert_eq!(code(&verify::view(s(&w), "../etc").await.unwrap_err()), "not_found");
    received_today(s(&w), &w.custodian, r.id).await;
    let v = verify::view(s(&w), &token).await.unwrap();
    let (_, pdf) = lab::report_pdf(s(&w), &w.custodian, r.id).await.unwrap();
    assert_eq!(v.report_no, r.report_no.clone().unwrap());
    assert_eq!(v.product, "车用柴油");
    assert!(!v.qualified);
    assert_eq!(v.institution, "山西省检验检测中心");
    assert_eq!(v.issued_on, s(&w).today().to_string());
    assert_eq!(v.pdf_sha256, choucha_domain::signed_pdf::sha256_hex(&pdf));
    assert_eq!((v.status.as_str(), v.superseded), ("有效", false));
    // Nothing of the enterprise.
    let json = serde_json::to_string(&v).unwrap();
    assert!(!json.contains(ENTERPRISE) && !json.contains(&w.uscc), "{json}");

    let (_, ok) = verify::check_upload(s(&w), &token, &pdf).await.unwrap();
    assert!(ok.authentic && ok.hash_matches && ok.signature_valid, "{ok:?}");
    let mut tampered = pdf.clone();
    let at = tampered.len() / 3;
    tampered[at] ^= 0x01;
    let (_, bad) = verify::check_upload(s(&w), &token, &tampered).await.unwrap();
    assert!(!bad.authentic && !bad.hash_matches && !bad.signature_valid, "{bad:?}");
    assert!(bad.message.starts_with("不一致"), "{}", bad.message);
    let e = verify::check_upload(s(&w), &token, b"hello, not a pdf").await.unwrap_err();
    assert_eq!(code(&e), "not_pdf");
    let huge = vec![b'%'; verify::MAX_UPLOAD_BYTES + 1];
    assert_eq!(code(&verify::check_upload(s(&w), &token, &huge).await.unwrap_err()), "file_too_large");
}

/// A re-test report is SM2-signed by the re-test institution's key when approved: it verifies
/// offline against the exported keys, its public check names it a re-test report with the final
/// conclusion, and the first report's check points to it.
#[tokio::test]
async fn a_retest_report_is_signed_by_the_retest_institution_and_checked_publicly() {
    let w = world().await;
    let lab2 = second_lab(&w).await;
    let r = issued(&w, 12.5).await;
    let owner = enterprise_user(&w).await;
    let id = retested(&w, &lab2, &owner, r.id, 8.0).await;
    let (no, pdf) = choucha_service::retests::report_pdf(s(&w), &w.regulator, id).await.unwrap();
    let stored =
        choucha_store::signing::signature_of(s(&w).store().reader(), "retest_report", id).await.unwrap().unwrap();
    assert_eq!(stored.pdf_sha256, choucha_domain::signed_pdf::sha256_hex(&pdf));
    let keys = signing::export_keys(s(&w)).await.unwrap();
    let key = signing::check_file(&pdf, &keys).expect("the re-test report verifies offline");
    assert_eq!(key.org_code, "lab2", "signed by the re-test institution, not the first");
    if let Some(text) = pdf_text(&pdf) {
        assert!(text.contains("本报告经SM2数字签名") && text.contains(&format!("/verify/{}", stored.token)), "{text}");
    }
    let mut tampered = pdf.clone();
    let mid = tampered.len() / 3;
    tampered[mid] ^= 0x01;
    assert!(signing::check_file(&tampered, &keys).is_err());
    let v = verify::view(s(&w), &stored.token).await.unwrap();
    assert_eq!(v.report_no, no);
    assert!(v.qualified && v.status.contains("复检报告"), "{v:?}");
    let (_, ok) = verify::check_upload(s(&w), &stored.token, &pdf).await.unwrap();
    assert!(ok.authentic, "{}", ok.message);
    let (_, bad) = verify::check_upload(s(&w), &stored.token, &tampered).await.unwrap();
    assert!(!bad.authentic);
    // The first report's public check says the re-test gave the final conclusion.
    let first = verify::view(s(&w), &token_of(&w, r.id).await).await.unwrap();
    assert!(first.status.contains(&no), "{first:?}");
}

/// The result notice (检验结果告知书) is SM2-signed by the testing institution the first time it is
/// asked for, and the same file is served ever after (to the custodian and to the enterprise); the
/// producer's notice is a document of its own; both verify offline, and the public check names the
/// notice once the report is delivered, never the enterprise.
#[tokio::test]
async fn a_result_notice_is_signed_once_by_the_institution_and_checked_publicly() {
    let w = world_with(Options { producer: true, ..Default::default() }).await;
    let r = issued(&w, 12.5).await;
    let first = choucha_service::results::result_notice_pdf(s(&w), &w.custodian, r.id, None).await.unwrap();
    let again =
        choucha_service::results::result_notice_pdf(s(&w), &w.custodian, r.id, Some("enterprise")).await.unwrap();
    assert_eq!(first, again, "one signed notice, served again");
    let owner = enterprise_user(&w).await;
    let mine = choucha_service::objections::my_result_notice_pdf(s(&w), &owner, r.id).await.unwrap();
    assert_eq!(mine, first, "the enterprise gets the same file");
    let stored =
        choucha_store::signing::signature_of(s(&w).store().reader(), "result_notice", r.id).await.unwrap().unwrap();
    assert_eq!(stored.pdf_sha256, choucha_domain::signed_pdf::sha256_hex(&first));
    let keys = signing::export_keys(s(&w)).await.unwrap();
    assert_eq!(signing::check_file(&first, &keys).unwrap().org_code, "lab", "signed by the testing institution");
    if let Some(text) = pdf_text(&first) {
        assert!(text.contains("本告知书经检验机构SM2数字签名"), "{text}");
        assert!(text.contains(&format!("/verify/{}", stored.token)), "verification URL printed");
        assert!(text.contains(ENTERPRISE), "addressed to the enterprise");
    }
    let producer =
        choucha_service::results::result_notice_pdf(s(&w), &w.custodian, r.id, Some("producer")).await.unwrap();
    assert_ne!(producer, first);
    let p_sig = choucha_store::signing::signature_of(s(&w).store().reader(), "result_notice_producer", r.id)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(p_sig.token, stored.token);
    assert!(signing::check_file(&producer, &keys).is_ok());
    if let Some(text) = pdf_text(&producer) {
        assert!(text.contains(PRODUCER), "addressed to the producer");
    }
    let mut tampered = first.clone();
    let mid = tampered.len() / 2;
    tampered[mid] ^= 0x04;
    assert!(signing::check_file(&tampered, &keys).is_err());
    // A blind tester still gets nothing, and signing wrote one audited record per notice.
    assert_eq!(
        code(&choucha_service::results::result_notice_pdf(s(&w), &w.t1, r.id, None).await.unwrap_err()),
        "not_found"
    );
    // Public check: nothing before delivery; then the notice, without the enterprise.
    assert_eq!(code(&verify::view(s(&w), &stored.token).await.unwrap_err()), "not_found");
    received_today(s(&w), &w.custodian, r.id).await;
    let v = verify::view(s(&w), &stored.token).await.unwrap();
    assert_eq!((v.document.as_str(), v.report_no.as_str()), ("检验结果告知书", r.report_no.as_deref().unwrap()));
    let json = serde_json::to_string(&v).unwrap();
    assert!(!json.contains(ENTERPRISE) && !json.contains(&w.uscc) && !json.contains(PRODUCER), "{json}");
    let (_, ok) = verify::check_upload(s(&w), &stored.token, &first).await.unwrap();
    assert!(ok.authentic, "{}", ok.message);
    let (_, bad) = verify::check_upload(s(&w), &stored.token, &tampered).await.unwrap();
    assert!(!bad.authentic && bad.message.starts_with("不一致"), "{}", bad.message);
}
