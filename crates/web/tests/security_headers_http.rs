//! Transport and response headers (等保三级, issue 15 item 7) over a real socket: every kind of
//! response carries the CSP, frame, sniffing and referrer headers; HSTS only when a trusted proxy
//! says the request came over HTTPS (serving TLS itself is shown in the CLI's `serve_tls` test); the
//! CSRF token of a multipart upload is taken from its form field or header, never from the URL.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;

use choucha_service::fixtures::Fixture;
use choucha_web::AppState;
use choucha_web::headers::{CSP, HSTS};
use common::{Browser, TestServer};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use tokio::sync::oneshot;

fn assert_headers(h: &HeaderMap, what: &str) {
    let get = |name: &str| h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("");
    assert_eq!(get("content-security-policy"), CSP, "{what}");
    assert!(get("content-security-policy").contains("script-src 'self';"), "{what}");
    assert!(get("content-security-policy").contains("frame-ancestors 'none'"), "{what}");
    assert_eq!(get("x-frame-options"), "DENY", "{what}");
    assert_eq!(get("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(get("referrer-policy"), "same-origin", "{what}");
}

/// A server whose configuration trusts the proxy's `X-Forwarded-Proto`.
async fn behind_trusted_proxy(fx: &Fixture) -> (String, oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = oneshot::channel::<()>();
    let mut state = AppState::new(fx.services.clone());
    state.trust_proxy_https = true;
    tokio::spawn(async move {
        choucha_web::serve(listener, state, async {
            let _ = rx.await;
        })
        .await
        .expect("serve");
    });
    (format!("http://{addr}"), tx)
}

#[tokio::test]
async fn every_kind_of_response_carries_the_headers_and_plain_http_no_hsts() {
    let srv = TestServer::start().await;
    srv.fx.user("dt_reg", &["regulator"], Some("dt")).await;
    srv.fx.user("lab_tester", &["tester"], Some("lab")).await;
    let anon = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let b = srv.browser("dt_reg").await;
    let tester = srv.api("lab_tester").await;

    let mut seen = Vec::new();
    for (what, path, status) in [
        ("sign-in page", "/login", StatusCode::OK),
        ("redirect to sign-in", "/plans", StatusCode::SEE_OTHER),
        ("API refusal", "/api/v1/plans", StatusCode::UNAUTHORIZED),
        ("static script", "/static/app.js", StatusCode::OK),
        ("missing static file", "/static/nothing.js", StatusCode::NOT_FOUND),
        ("service worker", "/sw.js", StatusCode::OK),
        ("web app manifest", "/app.webmanifest", StatusCode::OK),
        ("fallback", "/no/such/page", StatusCode::NOT_FOUND),
        ("health", "/healthz", StatusCode::OK),
        ("OpenAPI document", "/api/openapi.json", StatusCode::OK),
        ("API documentation", "/api/docs/", StatusCode::OK),
        ("API documentation script", "/api/docs/swagger-initializer.js", StatusCode::OK),
    ] {
        let r = anon.get(srv.url(path)).header("x-forwarded-proto", "https").send().await.unwrap();
        assert_eq!(r.status(), status, "{what}");
        assert_headers(r.headers(), what);
        assert!(r.headers().get("strict-transport-security").is_none(), "{what}: HSTS on plain HTTP");
        seen.push(what);
    }

    // Signed-in pages and the API with a token.
    let r = b.client.get(srv.url("/plans")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_headers(r.headers(), "signed-in page");
    let r = tester.client.get(srv.url("/api/v1/plans")).bearer_auth(&tester.token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_headers(r.headers(), "API answer");

    // A page refusal (CSRF) and a body-limit refusal (413).
    let r = b.client.post(srv.url("/logout")).form(&[("csrf", "wrong")]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_headers(r.headers(), "CSRF refusal page");
    let r = tester
        .client
        .post(srv.url("/api/v1/lab/results/import?file_name=big.csv"))
        .bearer_auth(&tester.token)
        .body(vec![b'a'; 3 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_headers(r.headers(), "413");
    assert!(r.headers().get("strict-transport-security").is_none());
}

#[tokio::test]
async fn hsts_only_when_a_trusted_proxy_says_https() {
    let fx = Fixture::new().await;
    let (base, _stop) = behind_trusted_proxy(&fx).await;
    let client = reqwest::Client::new();
    let r = client.get(format!("{base}/login")).header("x-forwarded-proto", "https").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_headers(r.headers(), "trusted proxy, https");
    assert_eq!(r.headers()["strict-transport-security"], HSTS);
    let r = client.get(format!("{base}/no/such/page")).header("x-forwarded-proto", "https").send().await.unwrap();
    assert_eq!(r.headers()["strict-transport-security"], HSTS, "the fallback too");
    for proto in [None, Some("http")] {
        let mut rq = client.get(format!("{base}/login"));
        if let Some(p) = proto {
            rq = rq.header("x-forwarded-proto", p);
        }
        let r = rq.send().await.unwrap();
        assert!(r.headers().get("strict-transport-security").is_none(), "{proto:?}");
    }
}

/// The plan import form of `b` (regulator of `dt`), with `csrf` as a form field when given.
fn import_form(csrf_field: Option<&str>) -> reqwest::multipart::Form {
    let mut form = reqwest::multipart::Form::new();
    if let Some(t) = csrf_field {
        form = form.text("csrf", t.to_owned());
    }
    let csv = "序号,产品分类,产品名称,抽查批次,抽查范围\n1,电子电器,电冰箱,六十,生产者\n合计,,,60,\n";
    form.text("year", "2025")
        .text("organising_org_code", "dt")
        .text("title", "2025年家电产品质量监督抽查")
        .part("file", reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("附件1.csv"))
}

async fn upload(b: &Browser, url: &str, header: Option<&str>, field: Option<&str>) -> StatusCode {
    let mut rq = b.client.post(url).multipart(import_form(field));
    if let Some(h) = header {
        rq = rq.header("x-csrf-token", h);
    }
    rq.send().await.unwrap().status()
}

#[tokio::test]
async fn a_csrf_token_in_the_url_is_refused_and_the_field_or_header_is_taken() {
    let srv = TestServer::start().await;
    srv.fx.user("dt_reg", &["regulator"], Some("dt")).await;
    let b = srv.browser("dt_reg").await;
    let csrf = b.csrf_of("/plans/import").await;
    let (_, page) = b.get("/plans/import").await;
    assert!(!page.contains("?csrf="), "the form's action carries no token");
    assert!(page.contains("name=\"csrf\""), "the form carries it as a field");

    let plain = srv.url("/plans/import");
    let in_query = srv.url(&format!("/plans/import?csrf={csrf}"));
    assert_eq!(upload(&b, &in_query, None, None).await, StatusCode::FORBIDDEN, "token in the URL");
    assert_eq!(upload(&b, &plain, None, None).await, StatusCode::FORBIDDEN, "no token");
    assert_eq!(upload(&b, &plain, None, Some("0123")).await, StatusCode::FORBIDDEN, "wrong field");
    assert_eq!(upload(&b, &plain, Some("0123"), Some(&csrf)).await, StatusCode::FORBIDDEN, "wrong header");
    // The row error of the file (六十) shows the form went through to the page.
    assert_eq!(upload(&b, &plain, None, Some(&csrf)).await, StatusCode::UNPROCESSABLE_ENTITY, "field");
    assert_eq!(upload(&b, &plain, Some(&csrf), None).await, StatusCode::UNPROCESSABLE_ENTITY, "header");

    // Someone not signed in: refused before the body is read.
    let anon = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let r = anon.post(&plain).multipart(import_form(Some(&csrf))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}
