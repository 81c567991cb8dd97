//! The signed-in user's own account: changing one's password (`/account/password`; every session
//! and token ends with it, so one signs in again) and one's own sessions and API tokens
//! (`/account/sessions`: where and since when, and ending any of them).

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use choucha_domain::RuleViolation;
use choucha_service::auth::own_sessions::{self, SessionView};
use choucha_service::{ServiceError, users};
use tower_sessions::Session;

use crate::AppState;
use crate::auth::PageActor;
use crate::error::{PageError, PageForm, PageResult};
use crate::extract::PagePath;
use crate::filters;
use crate::pages::respond::{done, saved_or_again};
use crate::pages::users::{FieldErrors, FormData};
use crate::pages::{Chrome, chrome};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/account/password", get(page).post(submit))
        .route("/account/sessions", get(sessions_page))
        .route("/account/sessions/{id}/end", post(end_session))
}

#[derive(Template, WebTemplate)]
#[template(path = "account_password.html")]
pub struct PasswordPage {
    pub chrome: Chrome,
    pub username: String,
    pub errors: FieldErrors,
}

async fn page(session: Session, PageActor(actor): PageActor) -> PasswordPage {
    PasswordPage {
        username: actor.username.clone(),
        errors: FieldErrors::default(),
        chrome: chrome(&session, Some(&actor), "account").await,
    }
}

async fn submit(
    State(state): State<AppState>,
    session: Session,
    PageActor(actor): PageActor,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Response {
    let f = FormData(pairs);
    let (old, new, confirm) = (f.get("old_password"), f.get("new_password"), f.get("new_password_confirm"));
    let result = if new != confirm {
        Err(ServiceError::invalid(
            RuleViolation::new("mismatch", "两次输入的新密码不一致").on_field("new_password_confirm"),
        ))
    } else {
        users::change_own_password(&state.services, &actor, &old, &new).await
    };
    if result.is_ok() {
        // The change ended every session, this one too: sign in again with the new password.
        let _ = session.flush().await;
        return Redirect::to("/login?changed=1").into_response();
    }
    let (session, actor) = (&session, &actor);
    saved_or_again(
        session,
        result,
        |()| ("/account/password".into(), "密码已修改"),
        |errors| async move {
            let chrome = chrome(session, Some(actor), "account").await;
            Ok::<_, PageError>(PasswordPage { username: actor.username.clone(), errors, chrome })
        },
    )
    .await
}

#[derive(Template, WebTemplate)]
#[template(path = "account_sessions.html")]
pub struct SessionsPage {
    pub chrome: Chrome,
    pub sessions: Vec<SessionView>,
}

async fn sessions_page(
    State(state): State<AppState>,
    session: Session,
    PageActor(actor): PageActor,
) -> PageResult<SessionsPage> {
    let current = session.id().map(|id| id.to_string());
    let sessions = own_sessions::list(&state.services, &actor, current.as_deref()).await?;
    Ok(SessionsPage { sessions, chrome: chrome(&session, Some(&actor), "account").await })
}

async fn end_session(
    State(state): State<AppState>,
    session: Session,
    PageActor(actor): PageActor,
    PagePath(id): PagePath<String>,
) -> PageResult<Response> {
    let result = own_sessions::end(&state.services, &actor, &id).await;
    done(&session, result, "/account/sessions", |()| "已结束该会话").await
}
