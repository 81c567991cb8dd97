#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! Sign-in protection, password policy and sessions over HTTP (issue 15): the lock after five
//! failures (the right password refused during it, the wording never telling whether a name
//! exists), the administrator's unlock by API and by the user's page (audited with the address),
//! per-address throttling (429), the password rules, the forced change of an administrator-set
//! password, idle expiry, and a user's own sessions and tokens.

mod common;

use choucha_service::auth::SecurityPolicy;
use choucha_service::fixtures::{Fixture, PASSWORD};
use chrono::Duration;
use common::{TestServer, is_chinese};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn token_attempt(srv: &TestServer, username: &str, password: &str) -> (StatusCode, Value) {
    let r = reqwest::Client::new()
        .post(srv.url("/api/v1/auth/token"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn six_wrong_passwords_lock_the_account_until_the_administrator_unlocks_it() {
    let srv = TestServer::start().await;
    let reg = srv.fx.user("reg.http", &["regulator"], Some("dt")).await;
    let (_, unknown) = token_attempt(&srv, "no.such.user", "wrong-pass-1").await;
    for _ in 0..6 {
        let (status, body) = token_attempt(&srv, "reg.http", "wrong-pass-1").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body, unknown, "a wrong password reads like an unknown name");
    }
    // The seventh, with the right password, is refused the same way.
    let (status, body) = token_attempt(&srv, "reg.http", PASSWORD).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, unknown, "the lock does not confirm the name exists");
    assert!(is_chinese(body["message"].as_str().unwrap()) && body["message"].as_str().unwrap().contains("锁定"));
    // Nor does the sign-in page let the user in.
    let b = reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let page = common::Browser { base: srv.base.clone(), client: b };
    let csrf = page.csrf_of("/login").await;
    let r = page.post_form("/login", &[("csrf", &csrf), ("username", "reg.http"), ("password", PASSWORD)]).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.text().await.unwrap().contains("用户名或密码错误"));

    // Someone who is not the administrator cannot unlock.
    srv.fx.user("reg.peer", &["regulator"], Some("dt")).await;
    let peer = srv.api("reg.peer").await;
    let (status, body) = peer.post(&format!("/api/v1/users/{}/unlock", reg.user_id), json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(is_chinese(body["message"].as_str().unwrap()));

    // The security administrator's page of the user shows the lock and the button; the API
    // unlocks; the system administrator may not (三权分立).
    let admin_page = srv.browser("security").await;
    let (_, html) = admin_page.get(&format!("/admin/users/{}", reg.user_id)).await;
    assert!(html.contains("已被锁定至") && html.contains("unlock-form"), "{html}");
    let unlock = format!("/api/v1/users/{}/unlock", reg.user_id);
    assert_eq!(srv.api("admin").await.post(&unlock, json!({})).await.0, StatusCode::FORBIDDEN);
    let admin = srv.api("security").await;
    let (status, _) = admin.post(&unlock, json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = token_attempt(&srv, "reg.http", PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
    let (_, html) = admin_page.get(&format!("/admin/users/{}", reg.user_id)).await;
    assert!(html.contains("该账号未被锁定"));

    // Failures, the lock and the unlock are audit records with the client's address.
    let (_, audit) = srv.api("auditor").await.get("/api/v1/audit?action=auth.").await;
    let items = audit["items"].as_array().unwrap();
    let has = |action: &str| items.iter().any(|r| r["action"] == action && r.to_string().contains("127.0.0.1"));
    assert!(has("auth.login_failed") && has("auth.lockout") && has("auth.unlock"), "{audit}");
    assert!(items.iter().any(|r| r["action"] == "auth.login_failed" && r["object_id"] == "no.such.user"));
}

#[tokio::test]
async fn the_unlock_button_on_the_users_page_unlocks() {
    let srv = TestServer::start().await;
    let reg = srv.fx.user("reg.button", &["regulator"], Some("dt")).await;
    for _ in 0..5 {
        token_attempt(&srv, "reg.button", "wrong-pass-1").await;
    }
    let admin_page = srv.browser("security").await;
    let path = format!("/admin/users/{}", reg.user_id);
    let csrf = admin_page.csrf_of(&path).await;
    let r = admin_page.post_form(&format!("{path}/unlock"), &[("csrf", &csrf)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = admin_page.get(&path).await;
    assert!(html.contains("已解锁该账号"), "{html}");
    assert_eq!(token_attempt(&srv, "reg.button", PASSWORD).await.0, StatusCode::OK);
}

#[tokio::test]
async fn too_many_sign_ins_from_one_address_get_429_in_chinese() {
    let policy =
        SecurityPolicy { sign_in_burst: 3, sign_in_refill_seconds: 600, ..SecurityPolicy::without_second_factor() };
    let srv = TestServer::start_with_policy(Fixture::new().await, policy).await;
    for _ in 0..3 {
        assert_eq!(token_attempt(&srv, "admin", "wrong-pass-1").await.0, StatusCode::UNAUTHORIZED);
    }
    let (status, body) = token_attempt(&srv, "admin", PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body["code"], "too_many_requests");
    assert!(is_chinese(body["message"].as_str().unwrap()));
    // The sign-in page shares the quota, and answers with a Chinese page.
    let r = reqwest::Client::new().post(srv.url("/login")).form(&[("username", "admin")]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.text().await.unwrap().contains("登录尝试过于频繁"));
    // Other requests are not throttled.
    assert_eq!(reqwest::get(srv.url("/login")).await.unwrap().status(), StatusCode::OK);
}

#[tokio::test]
async fn the_password_rules_refuse_with_codes_and_a_good_password_passes() {
    let srv = TestServer::start().await;
    let admin = srv.api("admin").await;
    let user = |pw: &str| json!({"username": "wang.pw", "display_name": "王", "password": pw, "org_code": "dt"});
    for (pw, code) in [
        ("Ab1-short", "weak_password"),
        ("onlylower-and-dashes", "weak_password"),
        ("My-wang.pw-2025", "password_contains_username"),
        ("Qwertyuiop1", "common_password"),
    ] {
        let (status, body) = admin.post("/api/v1/users", user(pw)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{pw}: {body}");
        assert_eq!(body["code"], code, "{pw}: {body}");
        assert!(is_chinese(body["message"].as_str().unwrap()));
    }
    let (status, _) = admin.post("/api/v1/users", user("Sound-Pass-2025")).await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn an_administrator_set_password_is_changed_before_anything_else() {
    let srv = TestServer::start().await;
    let body = json!({"username": "wang.first", "display_name": "王", "password": "First-Pass-2025", "roles": ["regulator"], "org_code": "dt"});
    assert_eq!(common::admin::create_user(&srv, body).await.0, StatusCode::CREATED);

    // The API: only the caller's identity and the password change are answered.
    let (status, t) = token_attempt(&srv, "wang.first", "First-Pass-2025").await;
    assert_eq!(status, StatusCode::OK);
    let api = common::Api {
        base: srv.base.clone(),
        token: t["token"].as_str().unwrap().into(),
        client: reqwest::Client::new(),
    };
    let (status, body) = api.get("/api/v1/plans").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["code"], "password_change_required");
    assert!(is_chinese(body["message"].as_str().unwrap()));
    assert_eq!(api.get("/api/v1/me").await.0, StatusCode::OK);

    // The pages: signing in leads to the change-password page, and every other page leads back there.
    let b = reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let page = common::Browser { base: srv.base.clone(), client: b };
    let csrf = page.csrf_of("/login").await;
    let r =
        page.post_form("/login", &[("csrf", &csrf), ("username", "wang.first"), ("password", "First-Pass-2025")]).await;
    assert_eq!(r.headers()["location"], "/account/password");
    let r = page.client.get(srv.url("/plans")).send().await.unwrap();
    assert_eq!(r.headers()["location"], "/account/password");

    let change = json!({"old_password": "First-Pass-2025", "new_password": "Own-Choice-2025"});
    assert_eq!(api.post("/api/v1/me/password", change).await.0, StatusCode::NO_CONTENT);
    // The change ended the token and the page session.
    assert_eq!(api.get("/api/v1/me").await.0, StatusCode::UNAUTHORIZED);
    let r = page.client.get(srv.url("/plans")).send().await.unwrap();
    assert!(r.headers()["location"].to_str().unwrap().starts_with("/login"));
    let (status, t) = token_attempt(&srv, "wang.first", "Own-Choice-2025").await;
    assert_eq!(status, StatusCode::OK);
    let api = common::Api {
        base: srv.base.clone(),
        token: t["token"].as_str().unwrap().into(),
        client: reqwest::Client::new(),
    };
    assert_eq!(api.get("/api/v1/plans").await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_page_session_ends_after_thirty_idle_minutes() {
    let srv = TestServer::start().await;
    let b = srv.browser("admin").await;
    srv.fx.services.clock().advance_real(Duration::minutes(29));
    assert_eq!(b.get("/").await.0, StatusCode::OK);
    srv.fx.services.clock().advance_real(Duration::minutes(29));
    assert_eq!(b.get("/").await.0, StatusCode::OK, "each request keeps it going");
    srv.fx.services.clock().advance_real(Duration::minutes(31));
    let r = b.client.get(srv.url("/")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(r.headers()["location"].to_str().unwrap().starts_with("/login"));
}

#[tokio::test]
async fn a_user_sees_and_ends_their_own_sessions_and_a_password_change_ends_them_all() {
    let srv = TestServer::start().await;
    srv.fx.user("reg.mine", &["regulator"], Some("dt")).await;
    let page = srv.browser("reg.mine").await;
    let api = srv.api("reg.mine").await;
    let (status, list) = api.get("/api/v1/me/sessions").await;
    assert_eq!(status, StatusCode::OK);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2, "{list:?}");
    let session = list.iter().find(|s| s["kind"] == "page").unwrap();
    let token = list.iter().find(|s| s["kind"] == "api").unwrap();
    assert_eq!(session["address"], "127.0.0.1");
    assert_eq!(token["current"], true);
    // The account page lists them too.
    let (_, html) = page.get("/account/sessions").await;
    assert!(html.contains("网页会话") && html.contains("API 令牌") && html.contains("127.0.0.1"));
    // Another user cannot end them.
    let other = srv.api("admin").await;
    let (status, _) = other
        .send(Method::DELETE, &format!("/api/v1/me/sessions/{}", session["id"].as_str().unwrap()), json!({}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Ending the page session signs that browser out.
    let (status, _) =
        api.send(Method::DELETE, &format!("/api/v1/me/sessions/{}", session["id"].as_str().unwrap()), json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(page.client.get(srv.url("/")).send().await.unwrap().status(), StatusCode::SEE_OTHER);

    // A password change on the page ends every session and token.
    let page = srv.browser("reg.mine").await;
    let second = srv.browser("reg.mine").await;
    let csrf = page.csrf_of("/account/password").await;
    let r = page
        .post_form(
            "/account/password",
            &[
                ("csrf", &csrf),
                ("old_password", PASSWORD),
                ("new_password", "Fresh-Pass-2025"),
                ("new_password_confirm", "Fresh-Pass-2025"),
            ],
        )
        .await;
    assert_eq!(r.headers()["location"], "/login?changed=1");
    assert_eq!(second.client.get(srv.url("/")).send().await.unwrap().status(), StatusCode::SEE_OTHER);
    assert_eq!(api.get("/api/v1/me").await.0, StatusCode::UNAUTHORIZED);
    let (_, html) = page.get("/login?changed=1").await;
    assert!(html.contains("密码已修改"));
}
