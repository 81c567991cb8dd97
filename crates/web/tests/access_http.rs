//! The permission matrix over HTTP: the same sample and re-test asked by every role through the
//! API answer each with the actions the table grants, and refusals come as `{code, message}`, the
//! same whether the caller comes with a bearer token or with the pages' session cookie.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;

use choucha_service::fixtures::lab_world::*;
use common::TestServer;
use reqwest::StatusCode;
use serde_json::Value;

fn actions(v: &Value) -> Vec<&str> {
    v["actions"].as_array().expect("actions").iter().map(|a| a.as_str().expect("action")).collect()
}

/// The lab world with an issued report, served over HTTP, with `ent_user` of the sampled
/// enterprise: the server, the report's id, the sample's blind code and the enterprise's USCC.
async fn served_sample() -> (TestServer, i64, String, String) {
    let w = world().await;
    let report = issued(&w, 9.0).await;
    let code = blind_code_of_report(&w, report.id).await;
    let uscc = w.uscc.clone();
    let srv = TestServer::start_with(w.fx).await;
    srv.enterprise_user("ent_user", &uscc).await;
    (srv, report.id, code, uscc)
}

#[tokio::test]
async fn each_role_gets_its_own_buttons_for_one_sample_and_the_others_get_404() {
    let (srv, report, code, uscc) = served_sample().await;
    let path = format!("/api/v1/lab/samples/{code}");
    let (st, t) = srv.api("lab_t1").await.get(&path).await;
    assert_eq!(st, StatusCode::OK, "{t}");
    assert_eq!(actions(&t), vec!["check_licence", "record_results", "prepare_report"]);
    let body = t.to_string();
    assert!(!body.contains(ENTERPRISE) && !body.contains(&uscc), "a blind view names the enterprise: {body}");
    let (_, a) = srv.api("lab_a1").await.get(&path).await;
    assert_eq!(actions(&a), vec!["sign_report"]);
    let (_, c) = srv.api("lab_keeper").await.get(&path).await;
    assert!(actions(&c).contains(&"view_link") && actions(&c).contains(&"manage_sample"));
    let (_, r) = srv.api("dt_reg").await.get(&path).await;
    assert_eq!(actions(&r), vec!["view_link", "report_pdf"]);
    let (st, e) = srv.api("ent_user").await.get(&path).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{e}");
    assert_eq!(e["code"], "not_found");
    // The report PDF: the custodian and the bureau; never the blind tester.
    let pdf = format!("/api/v1/lab/reports/{report}/report.pdf");
    let (st, _) = srv.api("lab_t1").await.get(&pdf).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_role_the_matrix_does_not_name_is_refused_with_the_action_named() {
    let w = world().await;
    let uscc = w.uscc.clone();
    let srv = TestServer::start_with(w.fx).await;
    srv.enterprise_user("ent_user", &uscc).await;
    for (user, path) in [
        ("ent_user", "/api/v1/retests"),
        ("ent_user", "/api/v1/lab/dashboard"),
        ("lab_t1", "/api/v1/users"),
        ("dt_reg", "/api/v1/users"),
    ] {
        let (st, b) = srv.api(user).await.get(path).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{user} {path}: {b}");
        assert_eq!(b["code"], "forbidden");
        assert!(b["message"].as_str().unwrap().starts_with("无权执行此操作："), "{b}");
    }
    // The same routes for a role the table names.
    let (st, _) = srv.api("dt_reg").await.get("/api/v1/retests").await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = srv.api("lab_t1").await.get("/api/v1/lab/dashboard").await;
    assert_eq!(st, StatusCode::OK);
}

#[tokio::test]
async fn the_retest_lab_tester_sees_its_work_without_the_enterprise_over_http() {
    let w = world().await;
    let report = issued(&w, 9.0).await;
    let lab2 = second_lab(&w).await;
    let owner = enterprise_user(&w).await;
    let id = retested(&w, &lab2, &owner, report.id, 8.0).await;
    let uscc = w.uscc.clone();
    let srv = TestServer::start_with(w.fx).await;
    let (st, t) = srv.api("lab2_t").await.get(&format!("/api/v1/retests/{id}")).await;
    assert_eq!(st, StatusCode::OK, "{t}");
    assert_eq!(actions(&t), vec!["retest_results"]);
    let body = t.to_string();
    assert!(!body.contains(ENTERPRISE) && !body.contains(&uscc), "{body}");
    let (st, _) = srv.api("lab2_t").await.get(&format!("/api/v1/retests/{id}/report.pdf")).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (_, b) = srv.api("dt_reg").await.get(&format!("/api/v1/retests/{id}")).await;
    assert_eq!(actions(&b), vec!["view_retest_link"]);
    assert!(b.to_string().contains(ENTERPRISE));
}

#[tokio::test]
async fn a_cookie_caller_is_refused_exactly_as_with_a_token() {
    let (srv, report, code, uscc) = served_sample().await;
    let plan = serde_json::json!({"plan": {"year": 2025, "title": "越权创建的计划", "organising_org_code": "dt"},
        "items": [{"number": "1", "category": "电子电器", "product": "电热水壶", "quota": 1, "scopes": "生产者"}]});
    let cases = [
        ("ent_user", reqwest::Method::GET, format!("/api/v1/lab/samples/{code}"), StatusCode::NOT_FOUND),
        ("ent_user", reqwest::Method::GET, "/api/v1/retests".to_string(), StatusCode::FORBIDDEN),
        ("ent_user", reqwest::Method::POST, "/api/v1/plans".to_string(), StatusCode::FORBIDDEN),
        ("lab_t1", reqwest::Method::GET, format!("/api/v1/lab/reports/{report}/report.pdf"), StatusCode::FORBIDDEN),
        ("lab_t1", reqwest::Method::GET, "/api/v1/users".to_string(), StatusCode::FORBIDDEN),
        ("lab_t1", reqwest::Method::POST, "/api/v1/plans".to_string(), StatusCode::FORBIDDEN),
    ];
    for (user, method, path, expected) in cases {
        let (by_token, t) = srv.api(user).await.send(method.clone(), &path, plan.clone()).await;
        let b = srv.browser(user).await;
        let csrf = b.csrf_of("/").await;
        let (by_cookie, c) = b.send(Some(&csrf), method.clone(), &path, plan.clone()).await;
        assert_eq!(by_token, expected, "{user} {method} {path} by token: {t}");
        assert_eq!(by_cookie, expected, "{user} {method} {path} by cookie: {c}");
        assert_eq!(c["code"], t["code"], "{user} {method} {path}: {c} ≠ {t}");
        assert_eq!(c["message"], t["message"], "{user} {method} {path}");
    }
    // The blind tester by cookie: the sample without its enterprise, as by token.
    let (st, t) = srv
        .browser("lab_t1")
        .await
        .send(None, reqwest::Method::GET, &format!("/api/v1/lab/samples/{code}"), Value::Null)
        .await;
    assert_eq!(st, StatusCode::OK, "{t}");
    assert_eq!(actions(&t), vec!["check_licence", "record_results", "prepare_report"]);
    let body = t.to_string();
    assert!(!body.contains(ENTERPRISE) && !body.contains(&uscc), "a blind view names the enterprise: {body}");
}
