//! Sign-in and sign-out of the pages.

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
use crate::auth::{PASSWORD_PAGE, SESSION_ADDRESS, SESSION_AGENT, SESSION_CSRF, SESSION_USER};
use crate::client::ClientInfo;
use crate::error::{PageError, PageForm};
use crate::pages::{Chrome, chrome};

pub fn router() -> Router<AppState> {
    Router::new().route("/login", get(login_page).post(login_submit)).route("/logout", post(logout))
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
}

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
    match auth::login_from(&state.services, &f.username, &f.password, &client).await {
        Ok(who) => {
            // A new session id at sign-in (no fixation), with a new CSRF token.
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
            Redirect::to(&next).into_response()
        }
        Err(e @ (ServiceError::BadCredentials | ServiceError::Forbidden(_))) => {
            let page = LoginPage {
                chrome: chrome(&session, None, "login").await,
                next,
                username: f.username,
                error: Some(e.to_string()),
                notice: None,
            };
            (axum::http::StatusCode::UNAUTHORIZED, page).into_response()
        }
        Err(e) => PageError(e).into_response(),
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
