//! The signed-in user's own account: changing one's password (`/account/password`; every session
//! and token ends with it, so one signs in again) and one's own sessions and API tokens
//! (`/account/sessions`: where and since when, and ending any of them), and one's second factor
//! (`/account/second-factor`: the QR code to scan, the confirmation with a code, the recovery codes
//! shown once).

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use choucha_domain::RuleViolation;
use choucha_service::auth::own_sessions::{self, SessionView};
use choucha_service::second_factor::{self, Enrolment, SecondFactorStatus};
use choucha_service::signature::{self, StoredSignatureInput, StoredSignatureView};
use choucha_service::{Actor, ServiceError, users};
use tower_sessions::Session;

use crate::AppState;
use crate::auth::{Page, PageActor};
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
        .route("/account/second-factor", get(second_factor_page))
        .route("/account/second-factor/start", post(second_factor_start))
        .route("/account/second-factor/confirm", post(second_factor_confirm))
        .route("/account/signature", get(signature_page).post(signature_save))
        .route("/account/signature/delete", post(signature_remove))
}

#[derive(Template, WebTemplate)]
#[template(path = "account_signature.html")]
pub struct SignaturePage {
    pub chrome: Chrome,
    pub stored: Option<StoredSignatureView>,
    pub errors: FieldErrors,
}

async fn signature_page(Page { state, session, actor }: Page) -> PageResult<SignaturePage> {
    let stored = signature::mine(&state.services, &actor).await?;
    Ok(SignaturePage {
        stored,
        errors: FieldErrors::default(),
        chrome: chrome(&session, Some(&actor), "account").await,
    })
}

async fn signature_save(
    Page { state, session, actor }: Page,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Response {
    let s = &state.services;
    let input = StoredSignatureInput { image_png_base64: FormData(pairs).get("signature_png_base64") };
    let result = signature::store_mine(s, &actor, input).await;
    let (session, actor) = (&session, &actor);
    saved_or_again(
        session,
        result,
        |_| ("/account/signature".into(), "签名已保存，签字时勾选“使用我保存的签名”即可"),
        |errors| async move {
            let stored = signature::mine(s, actor).await?;
            Ok::<_, PageError>(SignaturePage { stored, errors, chrome: chrome(session, Some(actor), "account").await })
        },
    )
    .await
}

async fn signature_remove(Page { state, session, actor }: Page) -> PageResult<Response> {
    done(&session, signature::remove_mine(&state.services, &actor).await, "/account/signature", |()| "已删除保存的签名")
        .await
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

async fn submit(Page { state, session, actor }: Page, PageForm(pairs): PageForm<Vec<(String, String)>>) -> Response {
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

async fn sessions_page(Page { state, session, actor }: Page) -> PageResult<SessionsPage> {
    let current = session.id().map(|id| id.to_string());
    let sessions = own_sessions::list(&state.services, &actor, current.as_deref()).await?;
    Ok(SessionsPage { sessions, chrome: chrome(&session, Some(&actor), "account").await })
}

async fn end_session(Page { state, session, actor }: Page, PagePath(id): PagePath<String>) -> PageResult<Response> {
    let result = own_sessions::end(&state.services, &actor, &id).await;
    done(&session, result, "/account/sessions", |()| "已结束该会话").await
}

#[derive(Template, WebTemplate)]
#[template(path = "account_second_factor.html")]
pub struct SecondFactorPage {
    pub chrome: Chrome,
    pub status: SecondFactorStatus,
    /// The deployment requires a second factor of the caller's roles.
    pub required: bool,
    /// An enrolment started and not confirmed: its QR code and secret.
    pub pending: Option<Enrolment>,
    /// The recovery codes, shown once right after the confirmation.
    pub recovery_codes: Vec<String>,
    pub errors: FieldErrors,
}

async fn second_factor_view(
    state: &AppState,
    session: &Session,
    actor: &Actor,
    errors: FieldErrors,
    recovery_codes: Vec<String>,
) -> PageResult<SecondFactorPage> {
    let s = &state.services;
    Ok(SecondFactorPage {
        status: second_factor::status(s, actor).await?,
        required: s.policy().requires_second_factor(&actor.roles),
        pending: if recovery_codes.is_empty() { second_factor::pending(s, actor).await? } else { None },
        recovery_codes,
        errors,
        chrome: chrome(session, Some(actor), "account").await,
    })
}

async fn second_factor_page(Page { state, session, actor }: Page) -> PageResult<SecondFactorPage> {
    second_factor_view(&state, &session, &actor, FieldErrors::default(), Vec::new()).await
}

async fn second_factor_start(Page { state, session, actor }: Page) -> PageResult<Response> {
    let result = second_factor::start(&state.services, &actor).await;
    done(&session, result, "/account/second-factor", |_| "请用验证器应用扫描二维码，再输入其显示的6位数字完成绑定")
        .await
}

async fn second_factor_confirm(
    Page { state, session, actor }: Page,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> PageResult<Response> {
    let code = FormData(pairs).get("code");
    match second_factor::confirm(&state.services, &actor, &code).await {
        // The codes are shown on this answer only: never stored in clear, never shown again.
        Ok(codes) => {
            Ok(second_factor_view(&state, &session, &actor, FieldErrors::default(), codes).await?.into_response())
        }
        Err(e) => {
            let errors = FieldErrors::from_service(e)?;
            let page = second_factor_view(&state, &session, &actor, errors, Vec::new()).await?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}
