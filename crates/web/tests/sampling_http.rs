//! On-site sampling over HTTP: rule codes come back with the refusal, the record locks when signed.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;

use common::TestServer;
use common::diesel::{self, Diesel, PNG};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn task_in_progress(srv: &TestServer) -> (common::Api, common::Api, i64) {
    diesel::team(srv).await;
    srv.fx.enterprise("大同市平城区示例加油站", "140213", "销售者、加油站", 1).await;
    let task = diesel::drawn_task(srv, Diesel::default()).await.task;
    let (s1, s2) = diesel::started(srv, task).await;
    (s1, s2, task)
}

fn record(test_quantity: f64) -> Value {
    json!({"product_name": "车用柴油", "brand": "中国石化", "model": "0号", "sampling_base": 12000.0, "test_quantity": test_quantity,
           "backup_quantity": 2.0, "unit": "L", "unit_price": 7.35, "place": "3号枪", "domain": "circulation",
           "sampled_at": "2025-10-10 10:30", "test_seals": ["SXGH-000123"], "backup_seals": ["SXGH-000124"]})
}

#[tokio::test]
async fn the_record_is_refused_with_the_rule_then_signed_and_locked() {
    let srv = TestServer::start().await;
    let (s1, s2, task) = task_in_progress(&srv).await;
    let (status, body) = s1.put(&format!("/api/v1/tasks/{task}/record"), record(1.0)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["code"], "rules_quantity");
    assert_eq!(body["errors"][0]["field"], "test_quantity");
    let (status, r) = s1.put(&format!("/api/v1/tasks/{task}/record"), record(2.0)).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["total_paid_yuan"], "14.70");
    let path = format!("/api/v1/tasks/{task}/record/signatures");
    // Rule 7: no signature before the required evidence is there or explained.
    let (status, body) = s1.post(&path, json!({"signer": "self", "image_png_base64": PNG})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::CONFLICT, Some("rule7_evidence")), "{body}");
    assert!(body["message"].as_str().unwrap().contains("封样"), "{body}");
    let reasons = format!("/api/v1/tasks/{task}/evidence/reasons");
    let (status, body) = s2.post(&reasons, json!({"category": "stock", "reason": ""})).await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("reason")));
    let (status, body) = s2.post(&reasons, json!({"category": "stock", "reason": "企业不允许拍摄库存"})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["missing"].as_array().unwrap().len(), 5, "{body}");
    assert_eq!(body["checklist"][3]["reason"], "企业不允许拍摄库存");
    diesel::photographed(&srv, task).await;
    let (status, body) = s1.post(&path, json!({"signer": "self", "image_png_base64": PNG})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    s2.post(&path, json!({"signer": "self", "image_png_base64": PNG})).await;
    let (status, r) = s2.post(&path, json!({"signer": "enterprise", "name": "王站长", "image_png_base64": PNG})).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["state"], "signed");
    let (status, body) = s1.put(&format!("/api/v1/tasks/{task}/record"), record(2.0)).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["code"], "rule6_locked");
    // Rule 7 after the lock: a late photo is refused with its reason and nothing is added; the task
    // page offers no upload any more, only the evidence already taken.
    let (_, before) = s1.get(&format!("/api/v1/tasks/{task}/evidence")).await;
    let late = [&b"\xFF\xD8\xFF\xE0 JFIF late photo"[..], &[7u8; 4096][..]].concat();
    let part = reqwest::multipart::Part::bytes(late).file_name("late.jpg").mime_str("image/jpeg").unwrap();
    let form = reqwest::multipart::Form::new().text("category", "place").part("file", part);
    let (status, body) = s1.post_multipart(&format!("/api/v1/tasks/{task}/evidence"), form).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::CONFLICT, Some("task_state")), "{body}");
    assert!(body["message"].as_str().unwrap().contains("抽样结束后证据不可再增加"), "{body}");
    assert_eq!(s1.get(&format!("/api/v1/tasks/{task}/evidence")).await.1, before);
    let (_, html) = srv.browser("lab_s1").await.get(&format!("/tasks/{task}")).await;
    assert!(!html.contains("data-upload=") && !html.contains("无法拍摄？"), "{html}");
    assert!(html.contains("data-testid=\"evidence-viewer-link\""), "{html}");

    // The paper form as PDF, with every field and the signatures placed.
    let r = s1
        .client
        .get(srv.url(&format!("/api/v1/tasks/{task}/record.pdf")))
        .bearer_auth(&s1.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let pdf = r.bytes().await.unwrap().to_vec();
    let raw = String::from_utf8_lossy(&pdf);
    let images = raw.matches("/Subtype /Image").count() + raw.matches("/Subtype/Image").count();
    assert!(images >= 1, "signature images are embedded");
    let dir = std::env::temp_dir().join(format!("choucha-record-{task}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("record.pdf");
    std::fs::write(&file, &pdf).unwrap();
    match std::process::Command::new("pdftotext").arg(&file).arg("-").output() {
        Ok(out) => {
            let text: String = String::from_utf8_lossy(&out.stdout).split_whitespace().collect();
            for want in [
                "车用柴油",
                "中国石化",
                "SXGH-000123",
                "SXGH-000124",
                "大同市平城区示例加油站",
                "王站长",
                "14.70",
                "2025年车用柴油抽查",
            ] {
                assert!(text.contains(want), "{want} missing from the sampling record PDF");
            }
        }
        Err(_) => assert_ne!(std::env::var("CI").as_deref(), Ok("true"), "pdftotext is required under CI"),
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_problem_report_reaches_the_organising_bureaus_inbox() {
    let srv = TestServer::start().await;
    let (s1, _, task) = task_in_progress(&srv).await;
    let (status, body) = s1
        .post(&format!("/api/v1/tasks/{task}/problem"), json!({"violation": "无证无照", "facts": "未能出示营业执照"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "problem");
    let reg = srv.api("dt_reg").await;
    let (_, inbox) = reg.get("/api/v1/inbox").await;
    assert!(inbox["items"].as_array().unwrap().iter().any(|i| i["kind"] == "problem"), "{inbox}");
    assert_eq!(s1.get("/api/v1/inbox").await.0, StatusCode::FORBIDDEN);
}

/// Writes replayed by the field app carry `expected_record_hash`: 409 `stale_task` in Chinese when the
/// record changed on the server meanwhile, nothing written; the current hash goes through.
#[tokio::test]
async fn a_replayed_write_based_on_an_older_record_is_refused_with_stale_task() {
    let srv = TestServer::start().await;
    let (s1, s2, task) = task_in_progress(&srv).await;
    let (status, theirs) = s2.put(&format!("/api/v1/tasks/{task}/record"), record(2.0)).await;
    assert_eq!(status, StatusCode::OK, "{theirs}");
    let hash = theirs["record_hash"].as_str().unwrap().to_string();
    let mut mine = record(2.0);
    mine["brand"] = json!("昆仑");
    let (status, body) = s1.put(&format!("/api/v1/tasks/{task}/record?expected_record_hash="), mine.clone()).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::CONFLICT, Some("stale_task")), "{body}");
    assert!(body["message"].as_str().unwrap().contains("服务器上已被修改"), "{body}");
    assert_eq!(s1.get(&format!("/api/v1/tasks/{task}/record")).await.1["fields"]["brand"], "中国石化");
    let (status, r) = s1.put(&format!("/api/v1/tasks/{task}/record?expected_record_hash={hash}"), mine).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["fields"]["brand"], "昆仑");
    diesel::photographed(&srv, task).await;
    let path = format!("/api/v1/tasks/{task}/record/signatures?expected_record_hash={hash}");
    let (status, body) = s1.post(&path, json!({"signer": "self", "image_png_base64": PNG})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::CONFLICT, Some("stale_task")), "{body}");
    let now = r["record_hash"].as_str().unwrap();
    let path = format!("/api/v1/tasks/{task}/record/signatures?expected_record_hash={now}");
    let (status, body) = s1.post(&path, json!({"signer": "self", "image_png_base64": PNG})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}
