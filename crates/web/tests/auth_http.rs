#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! Sign-in over HTTP: bearer tokens for the API, cookie sessions with CSRF for the pages, and the
//! pages' session as the API's second way in (writes with the session's CSRF token in a header).

mod common;

use common::{TestServer, is_chinese};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[tokio::test]
async fn token_is_issued_for_good_credentials_and_refused_for_bad_ones() {
    let srv = TestServer::start().await;
    let c = reqwest::Client::new();
    let r = c
        .post(srv.url("/api/v1/auth/token"))
        .json(&json!({"username": "admin", "password": "wrong-pass-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["code"], "bad_credentials");
    assert!(body["message"].as_str().unwrap().starts_with("用户名或密码错误"), "{body}");

    let api = srv.api("admin").await;
    let (status, me) = api.get("/api/v1/me").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["username"], "admin");
    assert_eq!(me["roles"], json!(["system_admin"]));
}

#[tokio::test]
async fn api_without_token_is_401_with_code_and_message() {
    let srv = TestServer::start().await;
    let r = reqwest::get(srv.url("/api/v1/me")).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["code"], "unauthenticated");
    assert!(body["message"].as_str().unwrap().contains("登录"));
    let r = reqwest::get(srv.url("/api/v1/nothing-here")).await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["code"], "not_found");
}

#[tokio::test]
async fn malformed_json_is_a_chinese_400() {
    let srv = TestServer::start().await;
    let r = reqwest::Client::new()
        .post(srv.url("/api/v1/auth/token"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["code"], "bad_json");
}

#[tokio::test]
async fn revoked_token_stops_working() {
    let srv = TestServer::start().await;
    let api = srv.api("admin").await;
    let r = api.client.delete(srv.url("/api/v1/auth/token")).bearer_auth(&api.token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(api.get("/api/v1/me").await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn pages_need_sign_in_and_show_the_role_home() {
    let srv = TestServer::start().await;
    let anon = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let r = anon.get(srv.url("/")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(r.headers()["location"].to_str().unwrap().starts_with("/login"));

    srv.fx.user("tester1", &["tester"], Some("lab")).await;
    let b = srv.browser("tester1").await;
    let (status, html) = b.get("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("data-role=\"tester\""));
    assert!(html.contains("检验人员工作台"));
    assert!(!html.contains("企业名录库"), "a tester is not offered the registry");
}

#[tokio::test]
async fn page_sign_in_with_wrong_password_shows_message() {
    let srv = TestServer::start().await;
    let b = reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let browser = common::Browser { base: srv.base.clone(), client: b };
    let csrf = browser.csrf_of("/login").await;
    let r = browser.post_form("/login", &[("csrf", &csrf), ("username", "admin"), ("password", "nope-12345")]).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.text().await.unwrap().contains("用户名或密码错误"));
}

#[tokio::test]
async fn page_writes_without_csrf_token_are_refused() {
    let srv = TestServer::start().await;
    let b = srv.browser("admin").await;
    let r = b.post_form("/logout", &[]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = b.post_form("/logout", &[("csrf", "forged")]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Still signed in.
    assert_eq!(b.get("/").await.0, StatusCode::OK);
    let csrf = b.csrf_of("/").await;
    let r = b.post_form("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(b.get("/").await.0, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn healthz_and_openapi_answer() {
    let srv = TestServer::start().await;
    assert_eq!(reqwest::get(srv.url("/healthz")).await.unwrap().status(), StatusCode::OK);
    let doc: serde_json::Value = reqwest::get(srv.url("/api/openapi.json")).await.unwrap().json().await.unwrap();
    assert!(doc["paths"]["/api/v1/auth/token"]["post"].is_object());
}

fn new_tester(username: &str) -> Value {
    json!({"username": username, "display_name": "王检验", "password": "good-pass-2025", "org_code": "lab"})
}

#[tokio::test]
async fn the_api_takes_the_page_session_and_asks_its_csrf_token_on_writes() {
    let srv = TestServer::start().await;
    let b = srv.browser("admin").await;
    let (status, me) = b.get("/api/v1/me").await;
    assert_eq!(status, StatusCode::OK, "a read needs only the cookie: {me}");
    assert!(me.contains("\"username\":\"admin\""), "{me}");

    // Without the token, or with another session's: 403 {code, message} in Chinese, nothing written.
    let other = srv.browser("admin").await.csrf_of("/").await;
    for (csrf, why) in [(None, "no token"), (Some(other.as_str()), "another session's token"), (Some(""), "empty")] {
        let (status, body) = b.send(csrf, Method::POST, "/api/v1/users", new_tester("by-cookie")).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{why}: {body}");
        assert_eq!(body["code"], "csrf_token", "{why}: {body}");
        assert!(is_chinese(body["message"].as_str().unwrap()), "{why}: {body}");
    }
    // With the session's own token the same write is done (the refused ones wrote nothing: no duplicate).
    let csrf = b.csrf_of("/").await;
    let (status, body) = b.send(Some(&csrf), Method::POST, "/api/v1/users", new_tester("by-cookie")).await;
    assert!(status.is_success(), "{status}: {body}");
    assert_eq!(body["username"], "by-cookie");

    // Signed out, the cookie is nobody: 401 {code, message}.
    let r = b.post_form("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (status, body) = b.send(Some(&csrf), Method::POST, "/api/v1/users", new_tester("after-logout")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["code"], "unauthenticated");
}

#[tokio::test]
async fn a_bearer_request_needs_no_csrf_token_and_never_falls_back_to_the_cookie() {
    let srv = TestServer::start().await;
    srv.fx.user("tester1", &["tester"], Some("lab")).await;
    let api = srv.api("admin").await;
    let (status, body) = api.post("/api/v1/users", new_tester("by-token")).await;
    assert!(status.is_success(), "a bearer write without X-CSRF-Token: {status} {body}");

    // A client signed in to the pages as the tester that sends the admin's token acts as the admin.
    let b = srv.browser("tester1").await;
    let me = |auth: &'static str| {
        let rq = b.client.get(srv.url("/api/v1/me"));
        if auth.is_empty() { rq.bearer_auth(&api.token) } else { rq.header("authorization", auth) }
    };
    let r = me("").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["username"], "admin");
    // A bad token, or another scheme, is refused although a valid session comes with it.
    for auth in ["Bearer cc_forged", "Basic YWRtaW46eA==", "Bearer "] {
        let r = me(auth).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{auth}");
    }
}

#[tokio::test]
async fn revoking_a_token_takes_the_token_never_the_session() {
    let srv = TestServer::start().await;
    let b = srv.browser("admin").await;
    let csrf = b.csrf_of("/").await;
    let (status, body) = b.send(Some(&csrf), Method::DELETE, "/api/v1/auth/token", Value::Null).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["code"], "unauthenticated");
    assert_eq!(b.get("/api/v1/me").await.0, StatusCode::OK, "the session goes on");

    // The document says so: the session is a second way into every operation but this one.
    let doc: Value = reqwest::get(srv.url("/api/openapi.json")).await.unwrap().json().await.unwrap();
    assert_eq!(doc["components"]["securitySchemes"]["session"]["in"], "cookie");
    assert_eq!(doc["paths"]["/api/v1/auth/token"]["delete"]["security"], json!([{"bearer": []}]));
    assert_eq!(doc["paths"]["/api/v1/me"]["get"]["security"], json!([{"bearer": []}, {"session": []}]));
}
