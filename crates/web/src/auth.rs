//! Who is calling: `ApiActor` from a bearer token (`POST /api/v1/auth/token`), `PageActor` from the
//! cookie session. And the CSRF guard of the pages: every state-changing page request carries the
//! session's token, in the `X-CSRF-Token` header (htmx), the `csrf` form field, or the `csrf` query
//! parameter (multipart uploads).

use axum::body::{Body, to_bytes};
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use choucha_service::{Actor, ServiceError, auth};
use tower_sessions::Session;

use crate::AppState;
use crate::error::{ApiError, error_page};

pub const SESSION_USER: &str = "user_id";
pub const SESSION_CSRF: &str = "csrf";

/// The caller of an API route, from `Authorization: Bearer <token>`.
pub struct ApiActor(pub Actor);

impl FromRequestParts<AppState> for ApiActor {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let header = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or("");
        let token = header.strip_prefix("Bearer ").or_else(|| header.strip_prefix("bearer ")).map(str::trim);
        match token {
            Some(t) if !t.is_empty() => Ok(ApiActor(auth::actor_from_token(&state.services, t).await?)),
            _ => Err(ApiError(ServiceError::Unauthenticated)),
        }
    }
}

/// The signed-in user of a page; anyone else is sent to the sign-in page.
pub struct PageActor(pub Actor);

impl FromRequestParts<AppState> for PageActor {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let next = url_escape(parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"));
        let to_login = || Redirect::to(&format!("/login?next={next}")).into_response();
        let session = Session::from_request_parts(parts, state).await.map_err(|e| e.into_response())?;
        let uid: Option<i64> = session.get(SESSION_USER).await.ok().flatten();
        let Some(uid) = uid else { return Err(to_login()) };
        match auth::actor_for_user(&state.services, uid).await {
            Ok(a) => Ok(PageActor(a)),
            Err(ServiceError::Unauthenticated) => {
                let _ = session.flush().await;
                Err(to_login())
            }
            Err(e) => Err(crate::error::PageError(e).into_response()),
        }
    }
}

fn url_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The session's CSRF token, created on first use.
pub async fn csrf_token(session: &Session) -> String {
    if let Ok(Some(t)) = session.get::<String>(SESSION_CSRF).await {
        return t;
    }
    let t = uuid::Uuid::new_v4().simple().to_string();
    let _ = session.insert(SESSION_CSRF, &t).await;
    t
}

fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn query_param(uri: &axum::http::Uri, key: &str) -> Option<String> {
    uri.query().and_then(|q| {
        q.split('&').find_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            (k == key).then(|| v.to_string())
        })
    })
}

/// Refuse page writes without the session's CSRF token. The API (bearer tokens, no cookies) is exempt.
pub async fn csrf_guard(req: Request, next: Next) -> Response {
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !unsafe_method || req.uri().path().starts_with("/api/") {
        return next.run(req).await;
    }
    let forbidden =
        || error_page(StatusCode::FORBIDDEN, "请求已过期", "页面已过期或请求来源不可信，请刷新页面后重试。");
    let Some(session) = req.extensions().get::<Session>().cloned() else { return forbidden() };
    let Ok(Some(expected)) = session.get::<String>(SESSION_CSRF).await else { return forbidden() };
    if let Some(h) = req.headers().get("x-csrf-token").and_then(|v| v.to_str().ok()) {
        return if same(h, &expected) { next.run(req).await } else { forbidden() };
    }
    if let Some(q) = query_param(req.uri(), "csrf") {
        return if same(&q, &expected) { next.run(req).await } else { forbidden() };
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return forbidden();
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, 2 * 1024 * 1024).await else {
        return error_page(StatusCode::PAYLOAD_TOO_LARGE, "表单过大", "提交的表单内容过大。");
    };
    let provided = form_urlencoded_value(&bytes, "csrf");
    match provided {
        Some(p) if same(&p, &expected) => next.run(Request::from_parts(parts, Body::from(bytes))).await,
        _ => forbidden(),
    }
}

fn form_urlencoded_value(body: &[u8], key: &str) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}
