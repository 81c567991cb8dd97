#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! Two-factor sign-in over HTTP (issue 15, item 2), under a policy that requires it of regulators:
//! before enrolment a regulator's pages lead only to the enrolment and the API gives no token;
//! the enrolment page draws the QR code and shows the recovery codes once; after it, the password
//! alone signs in neither on the page nor for a token; a wrong code is refused and a right one
//! signs in; the security administrator, and nobody else, resets it.

mod common;

use choucha_domain::role::Role;
use choucha_service::auth::SecurityPolicy;
use choucha_service::fixtures::{Fixture, PASSWORD, authenticator_code};
use common::{Browser, TestServer, is_chinese};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn token_attempt(srv: &TestServer, username: &str, code: Option<&str>) -> (StatusCode, Value) {
    let mut body = json!({"username": username, "password": PASSWORD});
    if let Some(c) = code {
        body["code"] = json!(c);
    }
    let r = reqwest::Client::new().post(srv.url("/api/v1/auth/token")).json(&body).send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn fresh_browser(srv: &TestServer) -> Browser {
    let client =
        reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    Browser { base: srv.base.clone(), client }
}

fn location(r: &reqwest::Response) -> String {
    r.headers().get("location").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default()
}

/// The text between `start` and the next `"` or `<` after it.
fn after(html: &str, start: &str) -> String {
    let at = html.find(start).unwrap_or_else(|| panic!("{start} in {html}")) + start.len();
    html[at..].split(['"', '<']).next().unwrap().to_string()
}

#[tokio::test]
async fn a_regulator_enrols_on_the_page_and_then_cannot_sign_in_without_the_code() {
    let policy = SecurityPolicy {
        second_factor_roles: vec![Role::Regulator],
        sign_in_burst: 100_000,
        ..SecurityPolicy::without_second_factor()
    };
    let srv = TestServer::start_with_policy(Fixture::new().await, policy).await;
    let reg = srv.fx.user("reg.totp", &["regulator"], Some("dt")).await;

    // Before enrolment: no token; the pages lead to the enrolment only.
    let (status, body) = token_attempt(&srv, "reg.totp", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["code"], "second_factor_enrolment_required");
    assert!(is_chinese(body["message"].as_str().unwrap()));
    let b = fresh_browser(&srv);
    let csrf = b.csrf_of("/login").await;
    let r = b.post_form("/login", &[("csrf", &csrf), ("username", "reg.totp"), ("password", PASSWORD)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/account/second-factor");
    let r = b.client.get(srv.url("/plans")).send().await.unwrap();
    assert_eq!(location(&r), "/account/second-factor", "every other page leads to the enrolment");
    let (status, body) = b.send(None, reqwest::Method::GET, "/api/v1/plans", Value::Null).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::FORBIDDEN, Some("second_factor_enrolment_required")));
    let (_, page) = b.get("/account/second-factor").await;
    assert!(page.contains("您的角色须使用动态验证码登录"), "{page}");

    // Enrolment: the QR code is an image the server drew; a wrong code does not confirm it.
    let csrf = b.csrf_of("/account/second-factor").await;
    let r = b.post_form("/account/second-factor/start", &[("csrf", &csrf)]).await;
    assert_eq!(location(&r), "/account/second-factor");
    let (_, page) = b.get("/account/second-factor").await;
    assert!(page.contains("src=\"data:image/png;base64,iVBOR"), "a PNG drawn here: {page}");
    let secret = after(&page, "data-testid=\"second-factor-secret\">");
    let right = authenticator_code(&srv.fx.services, &secret, "reg.totp", 0);
    let wrong = if right == "000000" { "111111" } else { "000000" };
    let r = b.post_form("/account/second-factor/confirm", &[("csrf", &csrf), ("code", wrong)]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("动态验证码不正确"));
    let r = b.post_form("/account/second-factor/confirm", &[("csrf", &csrf), ("code", &right)]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.unwrap();
    assert!(page.contains("只显示这一次"), "{page}");
    let recovery: Vec<String> =
        page.split("<li><code>").skip(1).map(|c| c.split('<').next().unwrap().to_string()).collect();
    assert_eq!(recovery.len(), 10);
    let (_, page) = b.get("/account/second-factor").await;
    assert!(page.contains("已启用") && !page.contains(&recovery[0]), "the codes are not shown again");
    let r = b.client.get(srv.url("/plans")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "enrolled: the pages are open");

    // Now the password alone signs in nowhere.
    let (status, body) = token_attempt(&srv, "reg.totp", None).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("second_factor_required")));
    let (status, body) = token_attempt(&srv, "reg.totp", Some(wrong)).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("bad_second_factor")));
    let b2 = fresh_browser(&srv);
    let csrf = b2.csrf_of("/login").await;
    let r = b2
        .post_form("/login", &[("csrf", &csrf), ("username", "reg.totp"), ("password", PASSWORD), ("next", "/plans")])
        .await;
    assert_eq!(r.status(), StatusCode::OK, "the code is asked for");
    assert!(r.text().await.unwrap().contains("action=\"/login/code\""));
    let r = b2.client.get(srv.url("/plans")).send().await.unwrap();
    assert!(location(&r).starts_with("/login"), "not signed in by the password alone");
    let r = b2.post_form("/login/code", &[("csrf", &csrf), ("code", wrong), ("next", "/plans")]).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.text().await.unwrap().contains("动态验证码不正确"));
    let next = authenticator_code(&srv.fx.services, &secret, "reg.totp", 1);
    let r = b2.post_form("/login/code", &[("csrf", &csrf), ("code", &next), ("next", "/plans")]).await;
    assert_eq!((r.status(), location(&r)), (StatusCode::SEE_OTHER, "/plans".to_string()));
    let (status, _) = b2.get("/plans").await;
    assert_eq!(status, StatusCode::OK);
    // A code step is accepted once; a recovery code gets a token, once.
    let (status, _) = token_attempt(&srv, "reg.totp", Some(&next)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = token_attempt(&srv, "reg.totp", Some(&recovery[2])).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = token_attempt(&srv, "reg.totp", Some(&recovery[2])).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // The reset: refused to the system administrator, done by the security administrator (API
    // and page), after which the regulator must enrol again.
    let sys = srv.api("admin").await;
    let (status, _) =
        sys.send(reqwest::Method::DELETE, &format!("/api/v1/users/{}/second-factor", reg.user_id), json!(null)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let sec_page = srv.browser("security").await;
    let (_, page) = sec_page.get(&format!("/admin/users/{}", reg.user_id)).await;
    assert!(page.contains("data-testid=\"second-factor-reset\""), "{page}");
    let sec = srv.api("security").await;
    let (status, _) =
        sec.send(reqwest::Method::DELETE, &format!("/api/v1/users/{}/second-factor", reg.user_id), json!(null)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = token_attempt(&srv, "reg.totp", None).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::FORBIDDEN, Some("second_factor_enrolment_required")));
}

#[tokio::test]
async fn the_code_step_expires_and_belongs_to_its_browser_session() {
    let srv = TestServer::start().await;
    srv.fx.user("reg.step", &["regulator"], Some("dt")).await;
    let api = srv.api("reg.step").await;
    let (status, e) = api.post("/api/v1/me/second-factor", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{e}");
    let secret = e["secret"].as_str().unwrap();
    let code = authenticator_code(&srv.fx.services, secret, "reg.step", 0);
    let (status, body) = api.post("/api/v1/me/second-factor/confirm", json!({"code": code})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["recovery_codes"].as_array().unwrap().len(), 10);
    let (_, st) = api.get("/api/v1/me/second-factor").await;
    assert_eq!(st, json!({"enrolled": true, "recovery_codes_left": 10}));

    // A browser that never gave the password cannot give a code.
    let other = fresh_browser(&srv);
    let csrf = other.csrf_of("/login").await;
    let next = authenticator_code(&srv.fx.services, secret, "reg.step", 1);
    let r = other.post_form("/login/code", &[("csrf", &csrf), ("code", &next)]).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.text().await.unwrap().contains("请重新输入用户名和密码"));
    let r = other.client.get(srv.url("/plans")).send().await.unwrap();
    assert!(location(&r).starts_with("/login"));
}
