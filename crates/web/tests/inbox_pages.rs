//! The bureaus' inbox and the dashboards over real HTTP, as a browser uses them: a backup request
//! approved from the inbox, a refusal co-signed by the county bureau, items marked read, the CSRF
//! token required on every form, rule 16 flags and the plan's costs on the pages.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;

use common::diesel::{self, Diesel, PNG};
use common::{Api, TestServer};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn started_task(srv: &TestServer) -> (Api, Api, i64, i64) {
    diesel::team(srv).await;
    srv.fx.user("pc_reg", &["local_regulator"], Some("dt-pc")).await;
    srv.fx.enterprise("大同市平城区示例加油站", "140213", "销售者、加油站", 1).await;
    let d = diesel::drawn_task(srv, Diesel { budget_yuan: Some("10"), ..Diesel::default() }).await;
    let (s1, s2) = diesel::started(srv, d.task).await;
    (s1, s2, d.task, d.plan)
}

fn record(sampled_at: &str) -> Value {
    json!({"product_name": "车用柴油", "brand": "中国石化", "model": "0号", "sampling_base": 12000.0, "test_quantity": 2.0,
           "backup_quantity": 2.0, "unit": "L", "unit_price": 7.35, "place": "3号枪", "domain": "circulation",
           "sampled_at": sampled_at, "test_seals": ["SXGH-000123"], "backup_seals": ["SXGH-000124"]})
}

#[tokio::test]
async fn a_backup_request_is_approved_from_the_inbox_with_the_csrf_token() {
    let srv = TestServer::start().await;
    let (s1, s2, task, plan) = started_task(&srv).await;
    let old = (choucha_domain::clock::Clock::system().now_beijing() - chrono::Duration::days(3))
        .format("%Y-%m-%d 09:00")
        .to_string();
    assert_eq!(s1.put(&format!("/api/v1/tasks/{task}/record"), record(&old)).await.0, StatusCode::OK);
    let (_, req) = s1
        .post(
            &format!("/api/v1/tasks/{task}/backup-request"),
            json!({"reason": "不易运输", "storage_place": "企业油库库房"}),
        )
        .await;
    let rid = req["id"].as_i64().unwrap();

    let b = srv.browser("dt_reg").await;
    let (status, home) = b.get("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(home.contains("href=\"/inbox\""), "inbox in the navigation");
    assert!(
        home.contains("data-testid=\"entry-overdue-count\" data-count=\"1\""),
        "rule 16 flag on the bureau's dashboard"
    );
    assert!(home.contains(&format!("href=\"/tasks/{task}\"")));
    let (status, html) = b.get("/inbox").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("备用样品封存申请") && html.contains("企业油库库房"), "{html}");
    assert!(html.contains(&format!("action=\"/inbox/backup-requests/{rid}/decision\"")));
    assert!(html.contains("data-confirm="), "decisions ask for confirmation");

    // Without the CSRF token nothing happens.
    let r = b
        .post_form(&format!("/inbox/backup-requests/{rid}/decision"), &[("decision", "approve"), ("opinion", "同意")])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let csrf = b.csrf_of("/inbox").await;
    let r = b
        .post_form(
            &format!("/inbox/backup-requests/{rid}/decision"),
            &[("csrf", &csrf), ("decision", "approve"), ("opinion", "同意")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = b.get("/inbox").await;
    assert!(html.contains("已批准"), "{html}");
    assert!(html.contains(&format!("/inbox/tasks/{task}/documents/sealing_notice")));
    let r = b.client.get(srv.url(&format!("/inbox/tasks/{task}/documents/sealing_notice"))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.bytes().await.unwrap().starts_with(b"%PDF"));

    // The sampler's dashboard shows the overdue entry; the county bureau has no say on rule 9.
    let sb = srv.browser("lab_s1").await;
    let (_, home) = sb.get("/").await;
    assert!(home.contains("data-testid=\"entry-overdue-count\" data-count=\"1\""), "{home}");
    assert!(!home.contains("href=\"/inbox\""), "samplers have no inbox");
    assert_eq!(sb.get("/inbox").await.0, StatusCode::FORBIDDEN);

    // Costs on the plan page once the record is locked.
    common::diesel::photographed(&srv, task).await;
    let path = format!("/api/v1/tasks/{task}/record/signatures");
    s1.post(&path, json!({"signer": "self", "image_png_base64": PNG})).await;
    s2.post(&path, json!({"signer": "self", "image_png_base64": PNG})).await;
    s2.post(&path, json!({"signer": "enterprise", "name": "王站长", "image_png_base64": PNG})).await;
    let (_, html) = b.get(&format!("/plans/{plan}")).await;
    assert!(html.contains("data-testid=\"costs-total\">14.70"), "{html}");
    assert!(html.contains("data-testid=\"over-budget\""));
    let (_, home) = b.get("/").await;
    assert!(home.contains("data-testid=\"entry-late-count\" data-count=\"1\""), "locked late");
}

#[tokio::test]
async fn the_county_bureau_cosigns_a_refusal_and_marks_items_read_from_its_inbox() {
    let srv = TestServer::start().await;
    let (s1, _, task, _) = started_task(&srv).await;
    let (status, _) = s1
        .post(&format!("/api/v1/tasks/{task}/refusal"), json!({"facts": "拒绝抽样", "reasons": "认为样品价格过低"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let b = srv.browser("pc_reg").await;
    let (_, html) = b.get("/inbox").await;
    assert!(html.contains("拒检待认定") && html.contains(&format!("action=\"/inbox/tasks/{task}/cosign\"")), "{html}");
    assert!(html.contains(&format!("/inbox/tasks/{task}/documents/refusal")));
    let csrf = b.csrf_of("/inbox").await;
    let r = b.post_form(&format!("/inbox/tasks/{task}/cosign"), &[("csrf", &csrf), ("opinion", "")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = b.get("/inbox").await;
    assert!(html.contains("未能办理") && html.contains("请填写认定意见"), "the refusal is shown: {html}");
    let r =
        b.post_form(&format!("/inbox/tasks/{task}/cosign"), &[("csrf", &csrf), ("opinion", "经核实认定拒检")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = b.get("/inbox").await;
    assert!(html.contains("已会同认定拒检"));
    assert!(!html.contains(&format!("action=\"/inbox/tasks/{task}/cosign\"")), "nothing left to co-sign");

    let item = html.split("data-item=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    assert!(html.contains(&format!("action=\"/inbox/{item}/read\"")));
    let r = b.post_form(&format!("/inbox/{item}/read"), &[("csrf", &csrf)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = b.get("/inbox").await;
    assert!(!html.contains(&format!("action=\"/inbox/{item}/read\"")));
}
