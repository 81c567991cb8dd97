//! How a page answers a form it was sent: the use case's outcome becomes a one-time message (the
//! session's flash) and a redirect. Success goes on with the message the handler words; a refusal the
//! person can act on (invalid input, a rule, a conflict, no permission) goes back with "未执行：…";
//! any other error is an error page.

use axum::extract::Multipart;
use axum::extract::multipart::MultipartRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use choucha_service::ServiceError;
use tower_sessions::Session;

use crate::error::{PageError, PageResult, body_of};
use crate::extract::MultipartForm;
use crate::pages::set_flash;
use crate::pages::users::FieldErrors;

/// A refusal shown on the page (rule and input problems); anything else becomes an error page.
pub fn shown_on_page(e: &ServiceError) -> bool {
    matches!(e, ServiceError::Invalid(_) | ServiceError::Rule(_) | ServiceError::Conflict | ServiceError::Duplicate(_))
}

/// The outcome of a use case behind a form: on success `message(value)` and back to `back`.
pub async fn done<T, M: AsRef<str>>(
    session: &Session,
    result: Result<T, ServiceError>,
    back: &str,
    message: impl FnOnce(T) -> M,
) -> PageResult<Response> {
    match result {
        Ok(v) => flash_to(session, message(v).as_ref(), back).await,
        Err(e) => back_or_error(session, e, back).await,
    }
}

/// Like [`done`], but where success goes depends on the value: `then(value)` is `(page, message)`.
pub async fn done_to<T, M: AsRef<str>>(
    session: &Session,
    result: Result<T, ServiceError>,
    back: &str,
    then: impl FnOnce(T) -> (String, M),
) -> PageResult<Response> {
    match result {
        Ok(v) => {
            let (to, message) = then(v);
            flash_to(session, message.as_ref(), &to).await
        }
        Err(e) => back_or_error(session, e, back).await,
    }
}

/// The outcome of a form shown again with its field errors: success goes to `then(value)`'s page
/// with its message; invalid input is the form again, `again(errors)`, answered 422; anything else
/// is an error page.
pub async fn saved_or_again<T, M, P, F>(
    session: &Session,
    result: Result<T, ServiceError>,
    then: impl FnOnce(T) -> (String, M),
    again: impl FnOnce(FieldErrors) -> F,
) -> Response
where
    M: AsRef<str>,
    P: IntoResponse,
    F: Future<Output = PageResult<P>>,
{
    let errors = match result {
        Ok(v) => {
            let (to, message) = then(v);
            set_flash(session, message.as_ref()).await;
            return Redirect::to(&to).into_response();
        }
        Err(e) => match FieldErrors::from_service(e) {
            Ok(errors) => errors,
            Err(e) => return PageError(e).into_response(),
        },
    };
    match again(errors).await {
        Ok(page) => (StatusCode::UNPROCESSABLE_ENTITY, page).into_response(),
        Err(e) => e.into_response(),
    }
}

/// The outcome of a use case behind a button of a page that shows its own refusals: success goes to
/// `then(value)`'s page with its message; a refusal the page shows is the page again, `again(e)`;
/// anything else is an error page.
pub async fn done_or_again<T, M, F>(
    session: &Session,
    result: Result<T, ServiceError>,
    then: impl FnOnce(T) -> (String, M),
    again: impl FnOnce(ServiceError) -> F,
) -> PageResult<Response>
where
    M: AsRef<str>,
    F: Future<Output = PageResult<Response>>,
{
    match result {
        Ok(v) => {
            let (to, message) = then(v);
            flash_to(session, message.as_ref(), &to).await
        }
        Err(e) if shown_on_page(&e) => again(e).await,
        Err(e) => Err(e.into()),
    }
}

/// To `to` with a message.
pub async fn flash_to(session: &Session, message: &str, to: &str) -> PageResult<Response> {
    set_flash(session, message).await;
    Ok(Redirect::to(to).into_response())
}

/// Back to `to` with a message saying why nothing was done.
pub async fn not_done(session: &Session, why: &str, to: &str) -> PageResult<Response> {
    flash_to(session, &format!("未执行：{why}"), to).await
}

/// A refused action goes back to the page with its message; other errors are error pages.
pub async fn back_or_error(session: &Session, e: ServiceError, to: &str) -> PageResult<Response> {
    if shown_on_page(&e) || matches!(e, ServiceError::Forbidden(_)) {
        not_done(session, &body_of(&e).message, to).await
    } else {
        Err(e.into())
    }
}

/// A page's multipart form read whole (`file_fields` are its files, `what` names them in messages);
/// the error is the message to show (a form not sent as multipart came from elsewhere).
pub async fn read_form(
    multipart: Result<Multipart, MultipartRejection>,
    file_fields: &[&str],
    what: &str,
) -> Result<MultipartForm, String> {
    let mp = multipart.map_err(|_| "请使用页面上的表单提交".to_owned())?;
    MultipartForm::read(mp, file_fields).await.map_err(|p| p.for_page(what))
}
