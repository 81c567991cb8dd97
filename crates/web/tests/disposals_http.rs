//! Sample disposal over HTTP (rule 19): refused before the objection window closes, recorded with
//! its proof after, through the API and the page, scoped to the custodian's institution and the
//! organising bureau (testers never see any of it).
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;

use choucha_service::fixtures::lab_world::{ENTERPRISE, PNG, issued, world};
use common::{TestServer, png, send_form};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The enterprise's receipt of the result, recorded today.
async fn received_today(srv: &TestServer, rid: i64) {
    let keeper = srv.api("lab_keeper").await;
    let (_, ds) = keeper.get(&format!("/api/v1/lab/reports/{rid}/deliveries")).await;
    let id = ds.as_array().unwrap().iter().find(|d| d["recipient"] == "enterprise").unwrap()["id"].as_i64().unwrap();
    let today = srv.fx.services.today().to_string();
    let (st, b) = keeper
        .post(
            &format!("/api/v1/deliveries/{id}"),
            json!({"method": "ems", "tracking_no": "1190012345678", "sent_on": today, "received_on": today}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
}

fn ids_by_portion(list: &Value) -> (i64, i64) {
    let items = list["items"].as_array().unwrap();
    let id = |p: &str| items.iter().find(|d| d["portion"] == p).unwrap()["id"].as_i64().unwrap();
    (id("test"), id("backup"))
}

#[tokio::test]
async fn a_disposal_is_refused_before_the_window_closes_and_recorded_with_its_proof_after() {
    let w = world().await;
    let rid = issued(&w, 12.5).await.id;
    let srv = TestServer::start_with(w.fx).await;
    let keeper = srv.api("lab_keeper").await;
    let (st, open) = keeper.get("/api/v1/disposals?filter=open").await;
    assert_eq!(st, StatusCode::OK, "{open}");
    let (_, backup) = ids_by_portion(&open);
    let (st, b) = srv.api("lab_t1").await.get("/api/v1/disposals?filter=open").await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")));
    let (st, b) = srv.api("lab_t1").await.get(&format!("/api/v1/disposals/{backup}")).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{b}");

    received_today(&srv, rid).await;
    let hand_over = json!({"method": "handed_over", "recipient": "大同市市场监督管理局 张科长",
        "proof": {"file_name": "receipt.png", "content_type": "image/png", "data_base64": PNG}});
    let (st, b) = keeper.post(&format!("/api/v1/disposals/{backup}"), hand_over.clone()).await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::CONFLICT, Some("rule19_window_open")), "{b}");
    assert!(b["message"].as_str().unwrap().contains("规则19"));

    srv.fx.services.shift_today(16);
    let (_, due) = keeper.get("/api/v1/disposals").await;
    assert_eq!(due["items"].as_array().unwrap().len(), 2, "{due}");
    let (_, home) = srv.browser("lab_keeper").await.get("/").await;
    assert!(home.contains("应处置 2"), "{home}");
    let mut back = hand_over.clone();
    back["method"] = json!("returned");
    let (st, b) = keeper.post(&format!("/api/v1/disposals/{backup}"), back).await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::CONFLICT, Some("rule19_must_hand_over")), "{b}");
    let (st, b) = keeper
        .post(&format!("/api/v1/disposals/{backup}"), json!({"method": "handed_over", "recipient": "张科长"}))
        .await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("rule19_proof")), "{b}");
    let (st, done) = keeper.post(&format!("/api/v1/disposals/{backup}"), hand_over).await;
    assert_eq!((st, done["state"].as_str()), (StatusCode::OK, Some("done")), "{done}");
    let r = keeper
        .client
        .get(srv.url(&format!("/api/v1/disposals/{backup}/proof")))
        .bearer_auth(&keeper.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.bytes().await.unwrap().starts_with(b"\x89PNG"));

    // The bureau sees it on its page; a tester has no such page.
    let (st, page) = srv.browser("dt_reg").await.get("/disposals?filter=done").await;
    assert_eq!(st, StatusCode::OK);
    assert!(page.contains("移交市场监管部门") && page.contains(ENTERPRISE), "{page}");
    let (_, page) = srv.browser("lab_keeper").await.get("/disposals").await;
    assert!(page.contains("按规定处置（销毁）") && page.contains("登记处置"), "{page}");
    // The paid test portion through the page form: without a proof refused, with one recorded.
    let (test, _) = ids_by_portion(&open);
    let b = srv.browser("lab_keeper").await;
    let fields = [("method", "destroyed"), ("note", "按规定销毁"), ("disposed_on", "")];
    let to = send_form(&b, "/disposals", &format!("/disposals/{test}"), &fields, None).await;
    let (_, page) = b.get(&to).await;
    assert!(page.contains("请上传处置凭证"), "{page}");
    send_form(&b, "/disposals", &format!("/disposals/{test}"), &fields, Some(&png())).await;
    let (_, page) = b.get("/disposals?filter=done").await;
    assert!(page.contains("销毁") && page.contains(&format!("/disposals/{test}/proof")), "{page}");
    let (st, page) = srv.browser("lab_t1").await.get("/disposals").await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert!(!page.contains(ENTERPRISE));

    // The provincial rule is data the admin edits.
    let (st, b) = srv
        .api("dt_reg")
        .await
        .put("/api/v1/disposal-rules/140000", json!({"paid_rule": "按省局规定销毁", "overdue_days": 20}))
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{b}");
    let (st, b) = srv
        .api("admin")
        .await
        .put("/api/v1/disposal-rules/140000", json!({"paid_rule": "按省局规定销毁", "overdue_days": 20}))
        .await;
    assert_eq!((st, b["overdue_days"].as_i64()), (StatusCode::OK, Some(20)), "{b}");
    let (_, rules) = keeper.get("/api/v1/disposal-rules").await;
    assert_eq!(rules.as_array().unwrap().len(), 2, "{rules}");
    assert_eq!(srv.api("lab_t1").await.get("/api/v1/disposal-rules").await.0, StatusCode::FORBIDDEN);
    assert_eq!(srv.browser("lab_t1").await.get("/admin/followup-rules").await.0, StatusCode::FORBIDDEN);
}
