//! The improvement letter (Annex 2) over HTTP: the PDF through the API and the page, refused to
//! enterprises, with field errors for what is missing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::TestServer;
use common::admin::{enterprise_user, letter, pdf_text};
use reqwest::StatusCode;
use serde_json::json;

fn squeeze(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

#[tokio::test]
async fn the_improvement_letter_pdf_shows_every_field_and_label_of_annex_2() {
    let srv = TestServer::start().await;
    srv.fx.user("tester1", &["tester"], Some("lab")).await;
    let tester = srv.api("tester1").await;
    let r = tester
        .client
        .post(srv.url("/api/v1/documents/improvement-letter"))
        .bearer_auth(&tester.token)
        .json(&letter())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let disposition = r.headers()["content-disposition"].to_str().unwrap().to_string();
    assert!(disposition.starts_with("attachment;") && disposition.contains("filename*=UTF-8''"), "{disposition}");
    assert!(disposition.contains("SXJC-2025-CJ-00731.pdf"), "{disposition}");
    let pdf = r.bytes().await.unwrap();
    assert!(pdf.starts_with(b"%PDF-"));

    let text = pdf_text(&pdf);
    for label in [
        "产品质量改进建议书",
        "报告编号",
        "产品名称",
        "规格型号",
        "受检单位",
        "生产单位",
        "检验机构",
        "不合格项目",
        "本次抽检质量问题描述",
        "原因分析",
        "改进建议",
        "备注",
    ] {
        assert!(text.contains(label), "label {label} missing from:\n{text}");
    }
    let l = letter();
    for key in [
        "report_no",
        "product_name",
        "model",
        "inspected_unit",
        "producer",
        "institution",
        "problem_description",
        "cause_analysis",
        "suggestions",
        "remarks",
    ] {
        let v = squeeze(l[key].as_str().unwrap());
        assert!(text.contains(&v), "{key} = {v} missing from:\n{text}");
    }
    for item in ["能效等级", "噪声"] {
        assert!(text.contains(item), "failing item {item} missing");
    }
    assert!(text.contains("2025年10月20日"), "date missing from:\n{text}");
}

#[tokio::test]
async fn enterprises_get_403_and_missing_fields_get_422_for_the_improvement_letter() {
    let srv = TestServer::start().await;
    enterprise_user(&srv).await;
    let ent = srv.api("ent-user").await;
    let (status, body) = ent.post("/api/v1/documents/improvement-letter", letter()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body["message"].as_str().unwrap().contains("改进建议书"));

    // An administrator writes no letter (no business, 三权分立); a regulator does.
    assert_eq!(
        srv.api("admin").await.post("/api/v1/documents/improvement-letter", letter()).await.0,
        StatusCode::FORBIDDEN
    );
    srv.fx.user("reg1", &["regulator"], Some("dt")).await;
    let admin = srv.api("reg1").await;
    let (status, body) = admin.post("/api/v1/documents/improvement-letter", json!({"report_no": "", "product_name": "电冰箱", "inspected_unit": "某商场", "institution": "某所", "failing_items": []})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, vec!["report_no", "failing_items"]);
    assert!(body["message"].as_str().unwrap().contains("请填写报告编号"));
}

#[tokio::test]
async fn the_improvement_letter_page_downloads_the_pdf_or_shows_field_errors() {
    let srv = TestServer::start().await;
    srv.fx.user("tester1", &["tester"], Some("lab")).await;
    let b = srv.browser("tester1").await;
    let (status, html) = b.get("/documents/improvement-letter").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("value=\"山西省检验检测中心\""), "the tester's institution is filled in");
    assert!(html.contains("本次抽检质量问题描述") && html.contains("改进建议书"));
    let csrf = b.csrf_of("/documents/improvement-letter").await;
    let r = b
        .post_form(
            "/documents/improvement-letter",
            &[
                ("csrf", &csrf),
                ("product_name", "电冰箱"),
                ("institution", "山西省检验检测中心"),
                ("failing_items", "\r\n"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("请填写报告编号")
            && html.contains("请至少填写一个不合格项目")
            && html.contains("value=\"电冰箱\"")
    );
    let r = b
        .post_form(
            "/documents/improvement-letter",
            &[
                ("csrf", &csrf),
                ("report_no", "SXJC-2025-0002"),
                ("product_name", "电冰箱"),
                ("inspected_unit", "某商场"),
                ("institution", "山西省检验检测中心"),
                ("failing_items", "能效等级\r\n噪声"),
                ("date", "2025-10-20"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let text = pdf_text(&r.bytes().await.unwrap());
    assert!(text.contains("SXJC-2025-0002") && text.contains("能效等级") && text.contains("噪声"));

    enterprise_user(&srv).await;
    let ent = srv.browser("ent-user").await;
    assert_eq!(ent.get("/documents/improvement-letter").await.0, StatusCode::FORBIDDEN);
    let (_, home) = ent.get("/").await;
    assert!(!home.contains("/documents/improvement-letter"));
}
