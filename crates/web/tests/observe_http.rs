#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! What an operator watches (issue 17): a request id on every response (the caller's when sane)
//! and on error pages; `/metrics` in Prometheus' format with request counts by route template and
//! status, latency and the database pools, open to this machine or to the configured token only.

mod common;

use choucha_service::fixtures::Fixture;
use choucha_web::AppState;
use common::TestServer;
use reqwest::StatusCode;

fn id_of(r: &reqwest::Response) -> String {
    r.headers().get("x-request-id").expect("x-request-id").to_str().unwrap().to_string()
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_an_error_page_shows_it() {
    let srv = TestServer::start().await;
    let c = reqwest::Client::new();
    let a = c.get(srv.url("/healthz")).send().await.unwrap();
    let b = c.get(srv.url("/healthz")).send().await.unwrap();
    assert!(id_of(&a).len() >= 16 && id_of(&a) != id_of(&b), "a new id each time");
    // The caller's id is kept when it is a sane token, replaced otherwise.
    let kept = c.get(srv.url("/healthz")).header("x-request-id", "lb-4711_abc").send().await.unwrap();
    assert_eq!(id_of(&kept), "lb-4711_abc");
    let hostile = "<script>alert(1)</script>";
    let replaced = c.get(srv.url("/healthz")).header("x-request-id", hostile).send().await.unwrap();
    assert_ne!(id_of(&replaced), hostile);
    let long = "a".repeat(200);
    let replaced = c.get(srv.url("/healthz")).header("x-request-id", &long).send().await.unwrap();
    assert_ne!(id_of(&replaced), long);
    // An error page shows the id the header carries, to quote to the administrator.
    let r = c.get(srv.url("/no/such/page")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let id = id_of(&r);
    let html = r.text().await.unwrap();
    assert!(html.contains(&format!("请求编号 <span data-testid=\"request-id\">{id}</span>")), "{html}");
    // And an API refusal carries it in the header.
    let r = c.get(srv.url("/api/v1/plans")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(!id_of(&r).is_empty());
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_and_status() {
    let srv = TestServer::start().await;
    let api = srv.api("admin").await;
    for _ in 0..3 {
        assert_eq!(api.get("/api/v1/users/1").await.0, StatusCode::OK);
    }
    let _ = api.get("/api/v1/users/999999").await;
    let r = reqwest::get(srv.url("/metrics")).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "open to this machine");
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let text = r.text().await.unwrap();
    let line = |needle: &str| text.lines().find(|l| l.starts_with(needle)).map(str::to_string);
    let ok = line(r#"choucha_http_requests_total{method="GET",route="/api/v1/users/{id}",status="200"}"#)
        .unwrap_or_else(|| panic!("{text}"));
    assert!(ok.ends_with(" 3"), "{ok}");
    assert!(line(r#"choucha_http_requests_total{method="GET",route="/api/v1/users/{id}",status="404"}"#).is_some());
    assert!(!text.contains("users/999999"), "ids never become labels");
    assert!(text.contains("choucha_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/v1/users/{id}\""));
    assert!(line(r#"choucha_db_pool_connections{pool="read",state="open"}"#).is_some(), "{text}");
    assert!(line(r#"choucha_db_pool_connections{pool="write",state="idle"}"#).is_some(), "{text}");
}

#[tokio::test]
async fn with_a_token_configured_metrics_need_it() {
    let fx = Fixture::new().await;
    let mut state = AppState::new(fx.services.clone());
    state.metrics_token = Some("scrape-secret-2025".into());
    let srv = TestServer::start_with_state(fx, state).await;
    let c = reqwest::Client::new();
    let r = c.get(srv.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND, "no token: as if there were no such page");
    let r = c.get(srv.url("/metrics")).bearer_auth("wrong").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = c.get(srv.url("/metrics")).bearer_auth("scrape-secret-2025").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("choucha_http_requests_total"));
}

#[tokio::test]
async fn metrics_show_the_overdue_work_as_last_counted() {
    let srv = TestServer::start().await;
    srv.fx.user("dt_reg", &["regulator"], Some("dt")).await;
    srv.fx.user("lab_tester", &["tester"], Some("lab")).await;
    srv.fx.user("lab_s1", &["sampler"], Some("lab")).await;
    srv.fx.user("lab_s2", &["sampler"], Some("lab")).await;
    srv.fx.enterprise("大同市平城区示例加油站", "140213", "销售者、加油站", 1).await;
    let task = common::diesel::drawn_task(&srv, common::diesel::Diesel::default()).await.task;
    let (s1, _) = common::diesel::started(&srv, task).await;
    // A record sampled on 2025-10-10 and saved as a draft, never signed: rule 16's deadline (the
    // working day after sampling) passed long ago.
    let record = serde_json::json!({"product_name": "车用柴油", "brand": "示例牌", "model": "0号", "sampling_base": 12000.0,
        "test_quantity": 2.0, "backup_quantity": 2.0, "unit": "L", "unit_price": 7.35, "place": "加油机3号枪",
        "domain": "circulation", "sampled_at": "2025-10-10 10:30", "test_seals": ["SXGH-000123"], "backup_seals": ["SXGH-000124"]});
    assert_eq!(s1.put(&format!("/api/v1/tasks/{task}/record"), record).await.0, StatusCode::OK);
    // The periodic job's run (it ran once at start, before the draft; the next is minutes away).
    srv.fx.services.refresh_overdue_counts().await.unwrap();
    let text = reqwest::get(srv.url("/metrics")).await.unwrap().text().await.unwrap();
    let value = |kind: &str| {
        let needle = format!("choucha_overdue_work{{kind=\"{kind}\"}} ");
        text.lines()
            .find_map(|l| l.strip_prefix(needle.as_str()))
            .unwrap_or_else(|| panic!("{kind}: {text}"))
            .to_string()
    };
    assert_eq!(value("entry"), "1");
    for kind in ["testing", "delivery", "confirmation", "disposal", "case_step"] {
        assert_eq!(value(kind), "0", "{kind}");
    }
    let at = text
        .lines()
        .find_map(|l| l.strip_prefix("choucha_overdue_counted_timestamp_seconds "))
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or_else(|| panic!("{text}"));
    assert!(at > 1_700_000_000, "{at}");
}
