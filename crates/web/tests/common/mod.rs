//! HTTP test harness: the real router on a real socket (port 0) over a fresh test database
//! (SQLite, or PostgreSQL with CHOUCHA_TEST_DATABASE_URL), with a shutdown channel.
#![allow(dead_code, clippy::expect_used, clippy::unwrap_used, clippy::panic)]

pub mod admin;
pub mod csp;
pub mod diesel;
pub mod registry;

use choucha_service::fixtures::{Fixture, PASSWORD};
use choucha_web::AppState;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::sync::oneshot;

/// Whether a message is written in Chinese (holds a CJK ideograph).
pub fn is_chinese(s: &str) -> bool {
    s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

pub struct TestServer {
    pub base: String,
    pub fx: Fixture,
    shutdown: Option<oneshot::Sender<()>>,
}

impl TestServer {
    pub async fn start() -> TestServer {
        Self::start_with(Fixture::new().await).await
    }

    /// Serves a fixture already built (e.g. a `choucha_service::fixtures::lab_world` world's).
    /// Tests sign in many times from 127.0.0.1: the sign-in throttle's quota is set high.
    pub async fn start_with(fx: Fixture) -> TestServer {
        let policy = choucha_service::auth::SecurityPolicy {
            sign_in_burst: 100_000,
            ..choucha_service::auth::SecurityPolicy::without_second_factor()
        };
        Self::start_with_policy(fx, policy).await
    }

    /// Serves a fixture under the security policy `policy`.
    pub async fn start_with_policy(fx: Fixture, policy: choucha_service::auth::SecurityPolicy) -> TestServer {
        let state = AppState::new(fx.services.clone().with_policy(policy));
        Self::start_with_state(fx, state).await
    }

    /// Serves a fixture with the application state `state` (built on the fixture's services).
    pub async fn start_with_state(fx: Fixture, state: AppState) -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(async move {
            choucha_web::serve(listener, state, async {
                let _ = rx.await;
            })
            .await
            .expect("serve");
        });
        TestServer { base: format!("http://{addr}"), fx, shutdown: Some(tx) }
    }

    /// An enterprise user `username` (王站长) bound to the registry entry `uscc`.
    pub async fn enterprise_user(&self, username: &str, uscc: &str) {
        Fixture::make_user(&self.fx.services, username, "王站长", &["enterprise"], None, Some(uscc)).await;
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A bearer token for a fixture user (password `PASSWORD`).
    pub async fn token(&self, username: &str) -> String {
        let r = reqwest::Client::new()
            .post(self.url("/api/v1/auth/token"))
            .json(&json!({"username": username, "password": PASSWORD}))
            .send()
            .await
            .expect("token request");
        assert_eq!(r.status(), StatusCode::OK, "token for {username}");
        r.json::<Value>().await.expect("json")["token"].as_str().expect("token").to_string()
    }

    /// An API client that sends `token` on every request.
    pub async fn api(&self, username: &str) -> Api {
        Api { base: self.base.clone(), token: self.token(username).await, client: reqwest::Client::new() }
    }

    /// A browser-like client (cookie jar) signed in to the pages as `username`.
    pub async fn browser(&self, username: &str) -> Browser {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let b = Browser { base: self.base.clone(), client };
        let csrf = b.csrf_of("/login").await;
        let r = b
            .post_form(
                "/login",
                &[("csrf", csrf.as_str()), ("username", username), ("password", PASSWORD), ("next", "/")],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "sign-in of {username}");
        b
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

pub struct Api {
    pub base: String,
    pub token: String,
    pub client: reqwest::Client,
}

impl Api {
    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        let r = self.client.get(format!("{}{}", self.base, path)).bearer_auth(&self.token).send().await.expect("get");
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn send(&self, method: reqwest::Method, path: &str, body: Value) -> (StatusCode, Value) {
        let r = self
            .client
            .request(method, format!("{}{}", self.base, path))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .expect("send");
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::POST, path, body).await
    }

    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::PUT, path, body).await
    }

    /// A multipart upload (files and fields) with the bearer token.
    pub async fn post_multipart(&self, path: &str, form: reqwest::multipart::Form) -> (StatusCode, Value) {
        let r = self
            .client
            .post(format!("{}{}", self.base, path))
            .bearer_auth(&self.token)
            .multipart(form)
            .send()
            .await
            .expect("multipart");
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }
}

pub struct Browser {
    pub base: String,
    pub client: reqwest::Client,
}

impl Browser {
    pub async fn get(&self, path: &str) -> (StatusCode, String) {
        let r = self.client.get(format!("{}{}", self.base, path)).send().await.expect("get");
        let status = r.status();
        (status, r.text().await.unwrap_or_default())
    }

    /// The CSRF token of a page (from its `<meta name="csrf-token">` or a `csrf` hidden field).
    pub async fn csrf_of(&self, path: &str) -> String {
        let (_, html) = self.get(path).await;
        let key = "name=\"csrf\" value=\"";
        let at = html.find(key).map(|i| i + key.len()).or_else(|| {
            let k = "name=\"csrf-token\" content=\"";
            html.find(k).map(|i| i + k.len())
        });
        let at = at.unwrap_or_else(|| panic!("no csrf token on {path}"));
        html[at..].split('"').next().unwrap_or_default().to_string()
    }

    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client.post(format!("{}{}", self.base, path)).form(form).send().await.expect("post")
    }

    /// An API call with the session cookie the way the pages' scripts (`static/sampling.js`) send
    /// it: a JSON body, and `csrf` in the `X-CSRF-Token` header when given.
    pub async fn send(
        &self,
        csrf: Option<&str>,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        let mut rq = self.client.request(method, format!("{}{}", self.base, path)).json(&body);
        if let Some(t) = csrf {
            rq = rq.header("X-CSRF-Token", t);
        }
        let r = rq.send().await.expect("send");
        let status = r.status();
        let text = r.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }
}

/// A page form sent as the browser sends it: multipart, with an optional file, the CSRF token in
/// the `X-CSRF-Token` header; the page it redirects to.
pub async fn send_form(
    b: &Browser,
    csrf_page: &str,
    path: &str,
    fields: &[(&str, &str)],
    file: Option<&[u8]>,
) -> String {
    let csrf = b.csrf_of(csrf_page).await;
    let mut mp = reqwest::multipart::Form::new();
    for (k, v) in fields {
        mp = mp.text(k.to_string(), v.to_string());
    }
    if let Some(bytes) = file {
        let part =
            reqwest::multipart::Part::bytes(bytes.to_vec()).file_name("proof.png").mime_str("image/png").unwrap();
        mp = mp.part("file", part);
    }
    let r = b
        .client
        .post(format!("{}{path}", b.base))
        .header("x-csrf-token", csrf.to_string())
        .multipart(mp)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{path}");
    r.headers()["location"].to_str().unwrap().to_string()
}

/// The fixtures' one-pixel PNG, as bytes.
pub fn png() -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(choucha_service::fixtures::lab_world::PNG).unwrap()
}
