//! Sign-in and sign-out of the pages. An account with a second factor signs in in two steps: the
//! password, then (within five minutes, in the same browser session) the authenticator's code or a
//! recovery code; the session holds only the user's id between the two, never the password.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use choucha_service::{ServiceError, auth};
use serde::Deserialize;
use tower_sessions::Session;

use crate::AppState;
use crate::auth::{PASSWORD_PAGE, SECOND_FACTOR_PAGE, SESSION_ADDRESS, SESSION_AGENT, SESSION_CSRF, SESSION_USER};
use crate::client::ClientInfo;
use crate::error::{PageError, PageForm};
use crate::pages::{Chrome, chrome};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login_submit))
        .route("/login/code", post(code_submit))
        .route("/logout", post(logout))
}

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub chrome: Chrome,
    pub next: String,
    pub username: String,
    pub error: Option<String>,
    /// A notice above the form (the password was changed: sign in again).
    pub notice: Option<String>,
    /// The password was right: the second factor's code is asked for.
    pub code_step: bool,
}

/// The user whose password was right and whose code is awaited, and since when (unix seconds).
const SESSION_PENDING_USER: &str = "pending_user_id";
const SESSION_PENDING_AT: &str = "pending_since";
/// How long the code may be awaited after the password.
const PENDING_SECONDS: i64 = 300;

#[derive(Deserialize)]
pub struct NextQuery {
    #[serde(default)]
    next: Option<String>,
    /// Set after one's own password change ended every session.
    #[serde(default)]
    changed: Option<String>,
}

/// Only local paths are followed after sign-in (no open redirect).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".to_string(),
    }
}

async fn login_page(session: Session, Query(q): Query<NextQuery>) -> LoginPage {
    LoginPage {
        chrome: chrome(&session, None, "login").await,
        next: safe_next(q.next.as_deref()),
        username: String::new(),
        error: None,
        notice: q
            .changed
            .is_some()
            .then(|| "密码已修改，所有登录会话和 API 令牌均已结束，请用新密码重新登录".to_string()),
        code_step: false,
    }
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    next: Option<String>,
}

async fn login_submit(
    State(state): State<AppState>,
    session: Session,
    ClientInfo(client): ClientInfo,
    PageForm(f): PageForm<LoginForm>,
) -> Response {
    let next = safe_next(f.next.as_deref());
    match auth::sign_in(&state.services, &f.username, &f.password, &client).await {
        Ok(auth::SignIn::Done(who)) => signed_in(&session, &client, &who, &next).await,
        Ok(auth::SignIn::CodeNeeded { user_id }) => {
            let now = state.services.clock().real_now().timestamp();
            let stored = async {
                session.insert(SESSION_PENDING_USER, user_id).await?;
                session.insert(SESSION_PENDING_AT, now).await
            };
            if stored.await.is_err() {
                return PageError(ServiceError::internal("session insert failed")).into_response();
            }
            let page = LoginPage {
                chrome: chrome(&session, None, "login").await,
                next,
                username: f.username,
                error: None,
                notice: None,
                code_step: true,
            };
            page.into_response()
        }
        Err(e) => refused(&session, e, next, f.username, false).await,
    }
}

#[derive(Deserialize)]
pub struct CodeForm {
    code: String,
    #[serde(default)]
    next: Option<String>,
}

/// The second step: the code of the user whose password was right in this browser session.
async fn code_submit(
    State(state): State<AppState>,
    session: Session,
    ClientInfo(client): ClientInfo,
    PageForm(f): PageForm<CodeForm>,
) -> Response {
    let next = safe_next(f.next.as_deref());
    let user_id = session.get::<i64>(SESSION_PENDING_USER).await.ok().flatten();
    let since = session.get::<i64>(SESSION_PENDING_AT).await.ok().flatten().unwrap_or(0);
    let now = state.services.clock().real_now().timestamp();
    let Some(user_id) = user_id.filter(|_| now - since <= PENDING_SECONDS) else {
        let _ = session.remove::<i64>(SESSION_PENDING_USER).await;
        let e = ServiceError::Forbidden("验证已超时，请重新输入用户名和密码".into());
        return refused(&session, e, next, String::new(), false).await;
    };
    match auth::finish_sign_in(&state.services, user_id, &f.code, &client).await {
        Ok(who) => {
            let _ = session.remove::<i64>(SESSION_PENDING_USER).await;
            let _ = session.remove::<i64>(SESSION_PENDING_AT).await;
            signed_in(&session, &client, &who, &next).await
        }
        // A wrong code: asked again while the account is not locked.
        Err(e @ ServiceError::BadSecondFactor) => refused(&session, e, next, String::new(), true).await,
        Err(e) => {
            let _ = session.remove::<i64>(SESSION_PENDING_USER).await;
            refused(&session, e, next, String::new(), false).await
        }
    }
}

/// The session of a completed sign-in: a new id (no fixation), a new CSRF token, the user.
async fn signed_in(session: &Session, client: &auth::Client, who: &auth::SignedIn, next: &str) -> Response {
    let _ = session.cycle_id().await;
    let _ = session.remove::<String>(SESSION_CSRF).await;
    let stored = async {
        session.insert(SESSION_ADDRESS, &client.address).await?;
        session.insert(SESSION_AGENT, &client.user_agent).await?;
        session.insert(SESSION_USER, who.actor.user_id).await
    };
    if stored.await.is_err() {
        return PageError(ServiceError::internal("session insert failed")).into_response();
    }
    if who.must_change_password {
        return Redirect::to(PASSWORD_PAGE).into_response();
    }
    if who.must_enrol_second_factor {
        return Redirect::to(SECOND_FACTOR_PAGE).into_response();
    }
    Redirect::to(next).into_response()
}

/// The sign-in page again with the refusal (401), or an error page for anything else.
async fn refused(session: &Session, e: ServiceError, next: String, username: String, code_step: bool) -> Response {
    match e {
        ServiceError::BadCredentials
        | ServiceError::Forbidden(_)
        | ServiceError::BadSecondFactor
        | ServiceError::SecondFactorRequired => {
            let page = LoginPage {
                chrome: chrome(session, None, "login").await,
                next,
                username,
                error: Some(e.to_string()),
                notice: None,
                code_step,
            };
            (axum::http::StatusCode::UNAUTHORIZED, page).into_response()
        }
        e => PageError(e).into_response(),
    }
}

async fn logout(State(state): State<AppState>, session: Session) -> Response {
    if let Ok(Some(uid)) = session.get::<i64>(SESSION_USER).await
        && let Ok(a) = auth::actor_for_user(&state.services, uid).await
    {
        let _ = auth::logout(&state.services, &a).await;
    }
    let _ = session.flush().await;
    Redirect::to("/login").into_response()
}
