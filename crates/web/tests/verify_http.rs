//! 报告真伪查询 over HTTP (issue 18): the QR code's page and its JSON answer nothing before the
//! report is delivered (the same 404 as an unknown token), then show the report without the
//! enterprise; an upload of the issued PDF is authentic, a tampered one or a non-PDF is told apart,
//! all without signing in.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;

use choucha_service::fixtures::lab_world::*;
use common::TestServer;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::Value;

async fn post_file(srv: &TestServer, path: &str, bytes: Vec<u8>) -> reqwest::Response {
    let form =
        Form::new().part("file", Part::bytes(bytes).file_name("report.pdf").mime_str("application/pdf").unwrap());
    reqwest::Client::new().post(srv.url(path)).multipart(form).send().await.unwrap()
}

#[tokio::test]
async fn the_public_check_waits_for_delivery_shows_no_enterprise_and_refuses_a_tampered_pdf() {
    let w = world().await;
    let report = issued(&w, 12.5).await;
    let token =
        choucha_store::signing::signature_of(s(&w).store().reader(), "report", report.id).await.unwrap().unwrap().token;
    let (_, pdf) = choucha_service::lab::report_pdf(s(&w), &w.custodian, report.id).await.unwrap();
    let uscc = w.uscc.clone();
    let svc = s(&w).clone();
    let custodian = w.custodian.clone();
    let srv = TestServer::start_with(w.fx).await;
    let anon = reqwest::Client::new();

    // Not delivered yet: the same 404 as an unknown token, page and API.
    for t in [token.as_str(), "0123456789abcdef0123456789abcdef", "1"] {
        let r = anon.get(srv.url(&format!("/api/v1/verify/{t}"))).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{t}");
        let b: Value = r.json().await.unwrap();
        assert_eq!(b["code"], "not_found");
        assert_eq!(anon.get(srv.url(&format!("/verify/{t}"))).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    }
    assert_eq!(post_file(&srv, &format!("/api/v1/verify/{token}"), pdf.clone()).await.status(), StatusCode::NOT_FOUND);

    received_today(&svc, &custodian, report.id).await;
    let r = anon.get(srv.url(&format!("/api/v1/verify/{token}"))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["report_no"], report.report_no.clone().unwrap().as_str());
    assert_eq!(v["product"], "车用柴油");
    assert_eq!(v["qualified"], false);
    assert_eq!(v["institution"], "山西省检验检测中心");
    assert_eq!(v["pdf_sha256"], choucha_domain::signed_pdf::sha256_hex(&pdf).as_str());
    assert_eq!(v["superseded"], false);
    let page = anon.get(srv.url(&format!("/verify/{token}"))).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains(report.report_no.as_deref().unwrap()) && html.contains("报告真伪查询"));
    for text in [v.to_string(), html.clone()] {
        assert!(!text.contains(ENTERPRISE) && !text.contains(&uscc), "the enterprise leaks");
    }

    // The issued file is authentic; one changed byte is not; a non-PDF gets a Chinese 422.
    let r = post_file(&srv, &format!("/api/v1/verify/{token}"), pdf.clone()).await;
    assert_eq!(r.status(), StatusCode::OK);
    let ok: Value = r.json().await.unwrap();
    assert_eq!(ok["check"]["authentic"], true, "{ok}");
    let mut tampered = pdf.clone();
    let at = tampered.len() / 2;
    tampered[at] ^= 0x01;
    let bad: Value = post_file(&srv, &format!("/api/v1/verify/{token}"), tampered.clone()).await.json().await.unwrap();
    assert_eq!(
        (bad["check"]["authentic"].as_bool(), bad["check"]["signature_valid"].as_bool()),
        (Some(false), Some(false))
    );
    assert!(bad["check"]["message"].as_str().unwrap().starts_with("不一致"), "{bad}");
    let r = post_file(&srv, &format!("/api/v1/verify/{token}"), b"GIF89a not a pdf".to_vec()).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["code"], "not_pdf");
    assert!(common::is_chinese(b["message"].as_str().unwrap()));
    // Over the size limit: refused, and the server keeps answering.
    let huge = vec![b'%'; choucha_service::verify::MAX_UPLOAD_BYTES + 128 * 1024];
    let r = post_file(&srv, &format!("/api/v1/verify/{token}"), huge.clone()).await;
    assert!(
        r.status() == StatusCode::PAYLOAD_TOO_LARGE || r.status() == StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        r.status()
    );

    // The page's form, with no session: the tampered file is named as not matching.
    let r = post_file(&srv, &format!("/verify/{token}"), tampered).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("不一致"));
    let r = post_file(&srv, &format!("/verify/{token}"), pdf).await;
    assert!(r.text().await.unwrap().contains("一致：该文件与本检验报告签发的电子文件完全相同"));
    let r = post_file(&srv, &format!("/verify/{token}"), huge).await;
    assert!(r.status().is_client_error(), "{}", r.status());
    let r = post_file(&srv, &format!("/verify/{token}"), b"hello".to_vec()).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("不是 PDF 文件"));
    assert_eq!(anon.get(srv.url("/healthz")).send().await.unwrap().status(), StatusCode::OK);
}

/// The result notice over the API: signed by the testing institution the first time it is asked
/// for and the same file after; its verification token answers nothing before delivery, then names
/// the notice (never the enterprise), and the downloaded file checks authentic.
#[tokio::test]
async fn the_result_notice_is_one_signed_file_checked_publicly_after_delivery() {
    let w = world().await;
    let report = issued(&w, 12.5).await;
    let svc = s(&w).clone();
    let custodian = w.custodian.clone();
    let uscc = w.uscc.clone();
    let srv = TestServer::start_with(w.fx).await;
    let bearer = srv.token("lab_keeper").await;
    let http = reqwest::Client::new();
    let get = |to: &'static str| {
        let url = srv.url(&format!("/api/v1/lab/reports/{}/result-notice.pdf?to={to}", report.id));
        let req = http.get(url).bearer_auth(bearer.clone());
        async move {
            let r = req.send().await.unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            r.bytes().await.unwrap().to_vec()
        }
    };
    let first = get("enterprise").await;
    assert_eq!(get("enterprise").await, first, "the same signed file again");
    let producer = get("producer").await;
    let keys = choucha_service::signing::export_keys(&svc).await.unwrap();
    for pdf in [&first, &producer] {
        assert!(choucha_service::signing::check_file(pdf, &keys).is_ok(), "signed");
    }
    let token = choucha_store::signing::signature_of(svc.store().reader(), "result_notice", report.id)
        .await
        .unwrap()
        .unwrap()
        .token;
    let anon = reqwest::Client::new();
    let r = anon.get(srv.url(&format!("/api/v1/verify/{token}"))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND, "not before delivery");
    received_today(&svc, &custodian, report.id).await;
    let v: Value = anon.get(srv.url(&format!("/api/v1/verify/{token}"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["document"], "检验结果告知书");
    assert!(!v.to_string().contains(ENTERPRISE) && !v.to_string().contains(&uscc), "{v}");
    let html = anon.get(srv.url(&format!("/verify/{token}"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("检验结果告知书真伪查询") && !html.contains(ENTERPRISE));
    let ok: Value = post_file(&srv, &format!("/api/v1/verify/{token}"), first).await.json().await.unwrap();
    assert_eq!(ok["check"]["authentic"], true, "{ok}");
    let bad: Value = post_file(&srv, &format!("/api/v1/verify/{token}"), producer).await.json().await.unwrap();
    assert_eq!(bad["check"]["authentic"], false, "the producer's notice is another document: {bad}");
}
