//! Who is calling. `ApiActor`: an API caller, by bearer token (`POST /api/v1/auth/token`) or by
//! the pages' session cookie (the pages' own scripts, e.g. `static/sampling.js`); `BearerActor`: an
//! API caller by bearer token only (what only a token can do: revoke itself); `PageActor`: the
//! signed-in user of a page. And the CSRF guard of the pages: every state-changing page request
//! carries the session's token, in the `X-CSRF-Token` header (htmx, the static scripts) or the
//! `csrf` field of the form (urlencoded or multipart). Never in the URL: a query string ends up in
//! logs, history and `Referer` headers. An API write by cookie carries it in the header.

use axum::Json;
use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use choucha_service::{Actor, ServiceError, auth};
use tower_sessions::Session;

use crate::AppState;
use crate::error::{ApiError, ErrorBody, error_page};

pub const SESSION_USER: &str = "user_id";
pub const SESSION_CSRF: &str = "csrf";
/// The address and user agent a session was signed in from (shown on the account page).
pub const SESSION_ADDRESS: &str = "client_address";
pub const SESSION_AGENT: &str = "client_agent";

/// The header a page's script (and htmx) sends the session's CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Code of the API's refusal of a cookie write without the session's CSRF token.
pub const CSRF_CODE: &str = "csrf_token";

/// The bearer token of `Authorization: Bearer <token>`: `None` without the header, `Some("")` for
/// a header that holds no bearer token (refused, never mistaken for "no header").
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().unwrap_or("");
    Some(value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")).map_or("", str::trim))
}

/// The caller of an API route. With an `Authorization` header, its bearer token and nothing else
/// (no CSRF token: a browser never sends the header by itself). Without one, the pages' session
/// cookie; then a state-changing request (POST, PUT, PATCH, DELETE) must carry the session's CSRF
/// token in `X-CSRF-Token`, else 403 `csrf_token` before anything is read or written.
pub struct ApiActor(pub Actor);

impl FromRequestParts<AppState> for ApiActor {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(token) = bearer_token(&parts.headers) {
            if token.is_empty() {
                return Err(ApiError(ServiceError::Unauthenticated).into_response());
            }
            let who =
                auth::signed_in_by_token(&state.services, token).await.map_err(|e| ApiError(e).into_response())?;
            return password_gate(parts, &who).map(|()| ApiActor(who.actor));
        }
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError(ServiceError::internal("no session layer in front of the API")).into_response())?;
        let unauthenticated = || ApiError(ServiceError::Unauthenticated).into_response();
        let uid: Option<i64> = session.get(SESSION_USER).await.ok().flatten();
        let Some(uid) = uid else { return Err(unauthenticated()) };
        if is_write(&parts.method) {
            let expected = session.get::<String>(SESSION_CSRF).await.ok().flatten();
            let given = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
            if !matches!((expected, given), (Some(e), Some(g)) if same(&e, g)) {
                return Err(csrf_refusal());
            }
        }
        match auth::signed_in(&state.services, uid).await {
            Ok(who) => password_gate(parts, &who).map(|()| ApiActor(who.actor)),
            Err(ServiceError::Unauthenticated) => {
                let _ = session.flush().await;
                Err(unauthenticated())
            }
            Err(e) => Err(ApiError(e).into_response()),
        }
    }
}

/// The caller of an API route that only a bearer token may take (revoking that token); the
/// session cookie is not asked.
pub struct BearerActor {
    pub actor: Actor,
    pub token: String,
}

impl FromRequestParts<AppState> for BearerActor {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = bearer_token(&parts.headers).unwrap_or_default().to_owned();
        let actor = actor_of_token(state, &token).await?;
        Ok(BearerActor { actor, token })
    }
}

async fn actor_of_token(state: &AppState, token: &str) -> Result<Actor, ApiError> {
    if token.is_empty() {
        return Err(ApiError(ServiceError::Unauthenticated));
    }
    Ok(auth::actor_from_token(&state.services, token).await?)
}

fn is_write(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// 403 `{code: "csrf_token", message}` for an API write by cookie without the session's token.
fn csrf_refusal() -> Response {
    let message = "请求缺少有效的 CSRF 令牌：用网页登录会话调用接口时，修改数据的请求须在 X-CSRF-Token 请求头中带上页面的令牌。请刷新页面后重试";
    (StatusCode::FORBIDDEN, Json(ErrorBody::new(CSRF_CODE, message))).into_response()
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
        match auth::signed_in(&state.services, uid).await {
            Ok(who) => password_gate(parts, &who).map(|()| PageActor(who.actor)),
            Err(ServiceError::Unauthenticated) => {
                let _ = session.flush().await;
                Err(to_login())
            }
            Err(e) => Err(crate::error::PageError(e).into_response()),
        }
    }
}

/// What a signed-in page handler needs, in one extractor: the application state, the session (for
/// flash messages) and the signed-in actor (or a redirect to the sign-in page, as [`PageActor`]).
pub struct Page {
    pub state: AppState,
    pub session: Session,
    pub actor: Actor,
}

impl FromRequestParts<AppState> for Page {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let PageActor(actor) = PageActor::from_request_parts(parts, state).await?;
        let session = Session::from_request_parts(parts, state).await.map_err(|e| e.into_response())?;
        Ok(Page { state: state.clone(), session, actor })
    }
}

/// Code of the refusal of anything but changing the password while it must be changed.
pub const PASSWORD_CHANGE_CODE: &str = "password_change_required";

/// The page that changes one's own password.
pub const PASSWORD_PAGE: &str = "/account/password";

/// The page where one enrols (and sees) one's own second factor.
pub const SECOND_FACTOR_PAGE: &str = "/account/second-factor";

/// While a user must change their password (set by an administrator or at bootstrap, or expired),
/// only the password change, the caller's own identity and signing out are answered: a page sends
/// the user to the change-password page, the API answers 403 `password_change_required`. Then,
/// while the policy requires a second factor of the user's roles and none is enrolled, only the
/// enrolment is open likewise (403 `second_factor_enrolment_required`).
#[allow(clippy::result_large_err)] // a Response, as every extractor's rejection here
fn password_gate(parts: &Parts, who: &auth::SignedIn) -> Result<(), Response> {
    const OPEN: &[&str] = &[PASSWORD_PAGE, "/logout", "/api/v1/me", "/api/v1/me/password", "/api/v1/auth/token"];
    let path = parts.uri.path();
    let api = path.starts_with("/api/");
    if who.must_change_password && !OPEN.contains(&path) {
        if api {
            let message =
                "须先修改密码：管理员设置的初始密码或已过期的密码须修改后才能继续使用系统（POST /api/v1/me/password）";
            return Err((StatusCode::FORBIDDEN, Json(ErrorBody::new(PASSWORD_CHANGE_CODE, message))).into_response());
        }
        return Err(Redirect::to(PASSWORD_PAGE).into_response());
    }
    let enrolment = path.starts_with(SECOND_FACTOR_PAGE) || path.starts_with("/api/v1/me/second-factor");
    if who.must_enrol_second_factor && !enrolment && !OPEN.contains(&path) {
        if api {
            return Err(ApiError(ServiceError::SecondFactorEnrolmentRequired).into_response());
        }
        return Err(Redirect::to(SECOND_FACTOR_PAGE).into_response());
    }
    Ok(())
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

pub(crate) fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Refuse page writes without the session's CSRF token. The API is not guarded here: `ApiActor`
/// asks for the token where the session cookie is the credential, and only there (a bearer request,
/// or an anonymous one such as `POST /api/v1/auth/token`, takes no cookie).
pub async fn csrf_guard(req: Request, next: Next) -> Response {
    // The public report check (`/verify/{token}`) only reads what is uploaded and changes nothing:
    // a visitor without a session posts it.
    let path = req.uri().path();
    if !is_write(req.method()) || path.starts_with("/api/") || path.starts_with("/verify/") {
        return next.run(req).await;
    }
    let forbidden =
        || error_page(StatusCode::FORBIDDEN, "请求已过期", "页面已过期或请求来源不可信，请刷新页面后重试。");
    let Some(session) = req.extensions().get::<Session>().cloned() else { return forbidden() };
    let Ok(Some(expected)) = session.get::<String>(SESSION_CSRF).await else { return forbidden() };
    if let Some(h) = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()) {
        return if same(h, &expected) { next.run(req).await } else { forbidden() };
    }
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if content_type.starts_with("application/x-www-form-urlencoded") {
        let (parts, body) = req.into_parts();
        let Ok(bytes) = to_bytes(body, 2 * 1024 * 1024).await else {
            return error_page(StatusCode::PAYLOAD_TOO_LARGE, "表单过大", "提交的表单内容过大。");
        };
        return match form_urlencoded_value(&bytes, "csrf") {
            Some(p) if same(&p, &expected) => next.run(Request::from_parts(parts, Body::from(bytes))).await,
            _ => forbidden(),
        };
    }
    // A multipart upload is read only for a signed-in session (the text guard outside has already
    // buffered exactly those): an anonymous body is refused before it is read.
    let Ok(boundary) = multer::parse_boundary(content_type) else { return forbidden() };
    let Ok(Some(_)) = session.get::<i64>(SESSION_USER).await else { return forbidden() };
    let (parts, body) = req.into_parts();
    // The body-size limit layer outside bounds this read.
    let Ok(bytes) = to_bytes(body, usize::MAX).await else {
        return error_page(StatusCode::PAYLOAD_TOO_LARGE, "上传内容过大", "上传内容超过服务器允许的大小上限。");
    };
    match multipart_value(bytes.clone(), &boundary, "csrf").await {
        Some(p) if same(&p, &expected) => next.run(Request::from_parts(parts, Body::from(bytes))).await,
        _ => forbidden(),
    }
}

/// The first text field named `key` of a multipart body (forms put `csrf` first, so the parts
/// before it are few).
async fn multipart_value(bytes: Bytes, boundary: &str, key: &str) -> Option<String> {
    let stream = futures_util::stream::once(async move { Ok::<Bytes, std::io::Error>(bytes) });
    let mut mp = multer::Multipart::new(stream, boundary);
    while let Ok(Some(mut field)) = mp.next_field().await {
        if field.name() == Some(key) && field.file_name().is_none() {
            return field.text().await.ok();
        }
        while let Ok(Some(_)) = field.chunk().await {}
    }
    None
}

fn form_urlencoded_value(body: &[u8], key: &str) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}
