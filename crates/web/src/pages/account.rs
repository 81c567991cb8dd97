//! The signed-in user's own account: changing one's password (`/account/password`).

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use choucha_domain::RuleViolation;
use choucha_service::{ServiceError, users};
use tower_sessions::Session;

use crate::AppState;
use crate::auth::PageActor;
use crate::error::{PageError, PageForm};
use crate::pages::respond::saved_or_again;
use crate::pages::users::{FieldErrors, FormData};
use crate::pages::{Chrome, chrome};

pub fn router() -> Router<AppState> {
    Router::new().route("/account/password", get(page).post(submit))
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
    let (session, actor) = (&session, &actor);
    saved_or_again(
        session,
        result,
        |()| ("/account/password".into(), "密码已修改，下次登录请使用新密码"),
        |errors| async move {
            let chrome = chrome(session, Some(actor), "account").await;
            Ok::<_, PageError>(PasswordPage { username: actor.username.clone(), errors, chrome })
        },
    )
    .await
}
