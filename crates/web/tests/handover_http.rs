//! Hand-over over HTTP: dispatch and custody, the backup kept at the enterprise with the organising
//! bureau's approval (rule 9), the forms as PDF, not sampled, entry flags (rule 16) and costs (rule 21).
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;

use common::diesel::{self, Diesel, PNG};
use common::{Api, TestServer};
use reqwest::StatusCode;
use serde_json::{Value, json};

struct World {
    reg: Api,
    s1: Api,
    s2: Api,
    tester: Api,
    plan: i64,
    task: i64,
}

async fn world(srv: &TestServer, quota: u32, start: bool) -> World {
    diesel::team(srv).await;
    for i in 0..3 {
        srv.fx.enterprise(&format!("大同市平城区示例加油站{i}"), "140213", "销售者、加油站", i + 1).await;
    }
    let d = diesel::drawn_task(srv, Diesel { quota, budget_yuan: Some("100"), ..Diesel::default() }).await;
    let (s1, s2) =
        if start { diesel::started(srv, d.task).await } else { (srv.api("lab_s1").await, srv.api("lab_s2").await) };
    World { reg: d.reg, s1, s2, tester: d.tester, plan: d.plan, task: d.task }
}

fn now_in_china() -> String {
    choucha_domain::clock::Clock::system().now_beijing().format("%Y-%m-%d %H:%M").to_string()
}

fn record(sampled_at: &str) -> Value {
    json!({"product_name": "车用柴油", "brand": "中国石化", "model": "0号", "sampling_base": 12000.0, "test_quantity": 2.0,
           "backup_quantity": 2.0, "unit": "L", "unit_price": 7.35, "place": "3号枪", "domain": "circulation",
           "sampled_at": sampled_at, "test_seals": ["SXGH-000123"], "backup_seals": ["SXGH-000124"]})
}

async fn lock(srv: &TestServer, w: &World) {
    common::diesel::photographed(srv, w.task).await;
    let path = format!("/api/v1/tasks/{}/record/signatures", w.task);
    w.s1.post(&path, json!({"signer": "self", "image_png_base64": PNG})).await;
    w.s2.post(&path, json!({"signer": "self", "image_png_base64": PNG})).await;
    let (status, r) =
        w.s2.post(&path, json!({"signer": "enterprise", "name": "王站长", "image_png_base64": PNG})).await;
    assert_eq!((status, r["state"].as_str()), (StatusCode::OK, Some("signed")), "{r}");
}

async fn pdf_text(api: &Api, srv: &TestServer, path: &str) -> (StatusCode, Option<String>) {
    let r = api.client.get(srv.url(path)).bearer_auth(&api.token).send().await.unwrap();
    let status = r.status();
    if status != StatusCode::OK {
        return (status, None);
    }
    let bytes = r.bytes().await.unwrap();
    assert!(bytes.starts_with(b"%PDF"));
    let dir = std::env::temp_dir().join(format!("choucha-handover-http-{}-{}", std::process::id(), path.len()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("{}.pdf", path.replace('/', "_")));
    std::fs::write(&file, &bytes).unwrap();
    let text = match std::process::Command::new("pdftotext").arg(&file).arg("-").output() {
        Ok(out) => Some(String::from_utf8_lossy(&out.stdout).split_whitespace().collect()),
        Err(_) => {
            assert_ne!(std::env::var("CI").as_deref(), Ok("true"), "pdftotext is required under CI");
            None
        }
    };
    let _ = std::fs::remove_file(&file);
    (status, text)
}

#[tokio::test]
async fn seals_dispatch_and_custody_over_http() {
    let srv = TestServer::start().await;
    let w = world(&srv, 10, true).await;
    let t = w.task;
    assert_eq!(w.s1.put(&format!("/api/v1/tasks/{t}/record"), record(&now_in_china())).await.0, StatusCode::OK);
    let (status, body) = w.s1.post(&format!("/api/v1/tasks/{t}/dispatch"), json!({"mode": "carried"})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::CONFLICT, Some("task_state")));
    lock(&srv, &w).await;
    let (status, body) =
        w.s1.post(&format!("/api/v1/tasks/{t}/dispatch"), json!({"mode": "shipped", "carrier": "EMS"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["errors"][0]["field"], "tracking_no");
    let (status, body) = w.reg.post(&format!("/api/v1/tasks/{t}/dispatch"), json!({"mode": "carried"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, chain) =
        w.s1.post(
            &format!("/api/v1/tasks/{t}/dispatch"),
            json!({"mode": "shipped", "carrier": "EMS", "tracking_no": "EA1CN"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{chain}");
    let kinds: Vec<(String, String)> = chain
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["kind"].as_str().unwrap().to_string(), e["portion"].as_str().unwrap().to_string()))
        .collect();
    let want = [("sealed", "test"), ("sealed", "backup"), ("dispatched", "test"), ("dispatched", "backup")];
    assert_eq!(kinds, want.map(|(a, b)| (a.to_string(), b.to_string())));
    let (status, body) = w.s1.post(&format!("/api/v1/tasks/{t}/dispatch"), json!({"mode": "carried"})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::CONFLICT, Some("already_dispatched")));
    // The sampler finds the task by state and by text, on the page and over the API.
    let (_, found) = w.s1.get("/api/v1/tasks?state=sampled").await;
    assert_eq!(found["items"][0]["id"], t, "{found}");
    assert_eq!(w.s1.get("/api/v1/tasks?state=assigned").await.1["items"], json!([]));
    let (status, _) = w.s1.get("/api/v1/tasks?state=nonsense").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let sampler = srv.browser("lab_s1").await;
    let (_, html) = sampler.get("/tasks?state=sampled&q=%E8%BD%A6%E7%94%A8%E6%9F%B4%E6%B2%B9").await;
    assert!(html.contains(&format!("data-task=\"{t}\"")), "{html}");
    let (_, html) = sampler.get("/tasks?q=%E4%B8%8D%E5%AD%98%E5%9C%A8").await;
    assert!(html.contains("没有符合条件的任务"), "{html}");
    // The custodian sees the sample once (not once per portion), counted once, as shipped.
    srv.fx.user("lab_keeper2", &["sample_custodian"], Some("lab")).await;
    let keeper = srv.api("lab_keeper2").await;
    let (_, incoming) = keeper.get("/api/v1/lab/incoming").await;
    let tasks: Vec<i64> =
        incoming["items"].as_array().unwrap().iter().map(|i| i["task_id"].as_i64().unwrap()).collect();
    assert_eq!(tasks, vec![t], "{incoming}");
    assert_eq!(keeper.get("/api/v1/lab/dashboard").await.1["incoming"], 1);
    let page = srv.browser("lab_keeper2").await;
    let (_, html) = page.get("/lab/incoming").await;
    assert_eq!(html.matches("办理接收</a>").count(), 1, "{html}");
    assert!(html.contains("寄送：EMS EA1CN") && !html.contains("抽样人员带回"), "{html}");
    // The receipt form says how the sample came and lays out each field with its label.
    let (_, html) = page.get(&format!("/lab/incoming/{t}")).await;
    assert!(html.contains("送样方式：寄送，EMS 运单号 EA1CN") && !html.contains("抽样人员带回"), "{html}");
    assert!(html.contains("class=\"card stack\" data-testid=\"receipt-form\""), "{html}");
    for id in ["r-photos", "r-arrived", "r-carrier", "r-tracking", "r-test-seals", "r-backup-qty", "r-reason"] {
        assert!(
            html.contains(&format!("<label for=\"{id}\"")) && html.contains(&format!("id=\"{id}\"")),
            "{id}: {html}"
        );
    }
    // A tester never sees the chain: seal numbers, samplers and times would join the blind sample
    // to its enterprise (rule 13).
    let (status, seen) = w.tester.get(&format!("/api/v1/tasks/{t}/custody")).await;
    assert_eq!((status, seen["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")), "{seen}");
    assert!(!seen.to_string().contains("SXGH"), "{seen}");
    // The documents name the enterprise: never for a tester.
    assert_eq!(w.tester.get(&format!("/api/v1/tasks/{t}/documents")).await.0, StatusCode::NOT_FOUND);
    assert_eq!(pdf_text(&w.tester, &srv, &format!("/api/v1/tasks/{t}/notice.pdf")).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_backup_request_is_decided_by_the_organising_bureau_only() {
    let srv = TestServer::start().await;
    let w = world(&srv, 10, true).await;
    let t = w.task;
    w.s1.put(&format!("/api/v1/tasks/{t}/record"), record(&now_in_china())).await;
    let (status, req) =
        w.s1.post(
            &format!("/api/v1/tasks/{t}/backup-request"),
            json!({"reason": "不易运输", "storage_place": "企业油库库房", "storage_conditions": "阴凉"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{req}");
    let rid = req["id"].as_i64().unwrap();
    let (status, body) =
        w.s2.post(&format!("/api/v1/tasks/{t}/backup-request"), json!({"reason": "x", "storage_place": "y"})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::CONFLICT, Some("rule9_open_request")));
    let (status, body) = pdf_text(&w.s1, &srv, &format!("/api/v1/tasks/{t}/sealing-notice.pdf")).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body:?}");
    let (_, inbox) = w.reg.get("/api/v1/inbox").await;
    assert!(inbox["items"].as_array().unwrap().iter().any(|i| i["kind"] == "backup_request" && i["ref_id"] == rid));

    srv.fx.user("pc_reg", &["local_regulator"], Some("dt-pc")).await;
    let county = srv.api("pc_reg").await;
    for who in [&county, &w.s1] {
        let (status, body) = who
            .post(&format!("/api/v1/backup-requests/{rid}/decision"), json!({"approve": true, "opinion": "同意"}))
            .await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::CONFLICT, Some("rule9_organising_bureau")));
    }
    let (status, d) = w
        .reg
        .post(&format!("/api/v1/backup-requests/{rid}/decision"), json!({"approve": true, "opinion": "同意"}))
        .await;
    assert_eq!((status, d["state"].as_str()), (StatusCode::OK, Some("approved")), "{d}");
    lock(&srv, &w).await;
    let (status, text) = pdf_text(&w.s1, &srv, &format!("/api/v1/tasks/{t}/sealing-notice.pdf")).await;
    assert_eq!(status, StatusCode::OK);
    if let Some(text) = text {
        assert!(text.contains("企业油库库房") && text.contains("SXGH-000124"), "{text}");
    }
    // The record says where the backup is kept.
    let (_, text) = pdf_text(&w.s1, &srv, &format!("/api/v1/tasks/{t}/record.pdf")).await;
    if let Some(text) = text {
        assert!(text.contains("企业油库库房"), "{text}");
    }
    let (status, chain) = w.s1.post(&format!("/api/v1/tasks/{t}/dispatch"), json!({"mode": "carried"})).await;
    assert_eq!(status, StatusCode::OK);
    let sent: Vec<&str> = chain
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "dispatched")
        .map(|e| e["portion"].as_str().unwrap())
        .collect();
    assert_eq!(sent, ["test"]);
    // Carried by the samplers: the custodian's receipt form says so, never "寄送", and asks no courier.
    srv.fx.user("lab_keeper3", &["sample_custodian"], Some("lab")).await;
    let (_, html) = srv.browser("lab_keeper3").await.get(&format!("/lab/incoming/{t}")).await;
    assert!(html.contains("送样方式：抽样人员带回") && !html.contains("寄送"), "{html}");
    assert!(!html.contains("id=\"r-tracking\""), "{html}");
}

#[tokio::test]
async fn forms_documents_and_costs_over_http() {
    let srv = TestServer::start().await;
    let w = world(&srv, 10, true).await;
    let t = w.task;
    let (status, a) =
        w.s1.post(
            &format!("/api/v1/tasks/{t}/arrival"),
            json!({"notice_shown": true, "identity_shown": true, "authorisation_shown": false}),
        )
        .await;
    assert_eq!((status, a["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("documents_not_shown")));
    let (status, _) =
        w.s1.post(
            &format!("/api/v1/tasks/{t}/arrival"),
            json!({"notice_shown": true, "identity_shown": true, "authorisation_shown": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, text) = pdf_text(&w.s1, &srv, &format!("/api/v1/tasks/{t}/notice.pdf")).await;
    assert_eq!(status, StatusCode::OK);
    if let Some(text) = text {
        assert!(text.contains("大同市平城区示例加油站") && text.contains("2025年车用柴油抽查"), "{text}");
    }
    w.s1.put(&format!("/api/v1/tasks/{t}/record"), record(&now_in_china())).await;
    lock(&srv, &w).await;
    let (status, text) = pdf_text(&w.reg, &srv, &format!("/api/v1/tasks/{t}/payment-form.pdf")).await;
    assert_eq!(status, StatusCode::OK);
    if let Some(text) = text {
        for want in ["14.70", "不向被抽样单位收取", "大同市市场监督管理局"] {
            assert!(text.contains(want), "{want} missing: {text}");
        }
    }
    let (status, text) = pdf_text(&w.s1, &srv, &format!("/api/v1/tasks/{t}/feedback-form.pdf")).await;
    assert_eq!(status, StatusCode::OK);
    if let Some(text) = text {
        assert!(text.contains("工作质量及工作纪律反馈单"), "{text}");
    }
    let (status, docs) = w.reg.get(&format!("/api/v1/tasks/{t}/documents")).await;
    assert_eq!(status, StatusCode::OK);
    let kinds: Vec<&str> = docs.as_array().unwrap().iter().map(|d| d["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["notice", "record", "payment_form", "feedback_form"]);
    assert_eq!(docs[0]["url"], format!("/api/v1/tasks/{t}/notice.pdf"));
    assert_eq!(pdf_text(&w.s1, &srv, &format!("/api/v1/tasks/{t}/refusal.pdf")).await.0, StatusCode::CONFLICT);

    let (status, c) = w.reg.get(&format!("/api/v1/plans/{}/costs", w.plan)).await;
    assert_eq!(status, StatusCode::OK, "{c}");
    assert_eq!((c["total_paid_yuan"].as_str(), c["remaining_yuan"].as_str()), (Some("14.70"), Some("85.30")));
    assert_eq!(c["over_budget"], false);
    assert_eq!(w.s1.get(&format!("/api/v1/plans/{}/costs", w.plan)).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn not_sampled_and_entry_flags_over_http() {
    let srv = TestServer::start().await;
    let w = world(&srv, 1, true).await;
    let t = w.task;
    let (status, body) = w.s1.post(&format!("/api/v1/tasks/{t}/not-sampled"), json!({"reason_kind": "other"})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("required")));
    let (status, body) =
        w.tester.post(&format!("/api/v1/tasks/{t}/not-sampled"), json!({"reason_kind": "closed"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = w
        .s1
        .post(&format!("/api/v1/tasks/{t}/not-sampled"), json!({"reason_kind": "not_found", "note": "地址处为空地"}))
        .await;
    assert_eq!((status, body["state"].as_str()), (StatusCode::OK, Some("not_sampled")), "{body}");
    let (status, d) = w.reg.post("/api/v1/redraws", json!({"task_id": t, "reason": "查无此企业", "seed": "r"})).await;
    assert_eq!(status, StatusCode::CREATED, "{d}");
    let new_task = d["drawn"][0]["task_id"].as_i64().unwrap();

    // The replacement is sampled three days ago and not entered: overdue for both dashboards.
    assert_eq!(w.s1.post(&format!("/api/v1/tasks/{new_task}/start"), json!({})).await.0, StatusCode::OK);
    let old = (choucha_domain::clock::Clock::system().now_beijing() - chrono::Duration::days(3))
        .format("%Y-%m-%d 09:00")
        .to_string();
    let (status, body) = w.s1.put(&format!("/api/v1/tasks/{new_task}/record"), record(&old)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, task) = w.s1.get(&format!("/api/v1/tasks/{new_task}")).await;
    assert_eq!((task["entry_overdue"].as_bool(), task["entry_late"].as_bool()), (Some(true), Some(false)), "{task}");
    let (_, mine) = w.s1.get("/api/v1/entry-flags").await;
    assert_eq!(mine["overdue"][0]["task_id"], new_task);
    let (_, bureau) = w.reg.get("/api/v1/entry-flags?scope=bureau").await;
    assert_eq!(bureau["overdue"].as_array().unwrap().len(), 1);
    assert_eq!(w.s1.get("/api/v1/entry-flags?scope=bureau").await.0, StatusCode::FORBIDDEN);
}
