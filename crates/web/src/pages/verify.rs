//! 报告真伪查询 (issue 18): the public page a report's QR code opens, no sign-in. It shows what
//! the report says about itself and the hashes of its file, and checks an uploaded PDF. The upload
//! changes nothing, so it needs no session (the CSRF guard lets `/verify/` through).

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::StatusCode;
use axum::routing::get;
use choucha_service::verify::{self, FileCheck, MAX_UPLOAD_BYTES, VerificationView};

use crate::AppState;
use crate::error::{PageResult, body_of};
use crate::extract::PagePath;
use crate::pages::Chrome;
use crate::pages::public::public_chrome;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/verify/{token}", get(page).post(upload))
        .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES + 64 * 1024))
}

#[derive(Template, WebTemplate)]
#[template(path = "public/verify.html")]
pub struct VerifyPage {
    pub chrome: Chrome,
    pub token: String,
    pub v: VerificationView,
    pub check: Option<FileCheck>,
    /// Why an upload could not be checked.
    pub refusal: Option<String>,
}

async fn page(State(state): State<AppState>, PagePath(token): PagePath<String>) -> PageResult<VerifyPage> {
    let v = verify::view(&state.services, &token).await?;
    Ok(VerifyPage { chrome: public_chrome(), token, v, check: None, refusal: None })
}

async fn upload(
    State(state): State<AppState>,
    PagePath(token): PagePath<String>,
    mp: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> PageResult<(StatusCode, VerifyPage)> {
    let s = &state.services;
    let v = verify::view(s, &token).await?;
    let file = match mp {
        Ok(mp) => crate::api::verify::read_file(mp).await,
        Err(_) => Err(choucha_service::ServiceError::invalid(choucha_domain::RuleViolation::new(
            "bad_multipart",
            "请使用页面上的表单上传文件",
        ))),
    };
    let outcome = match file {
        Ok(bytes) => verify::check_upload(s, &token, &bytes).await.map(|(_, c)| c),
        Err(e) => Err(e),
    };
    let chrome = public_chrome();
    Ok(match outcome {
        Ok(c) => (StatusCode::OK, VerifyPage { chrome, token, v, check: Some(c), refusal: None }),
        Err(e @ choucha_service::ServiceError::Invalid(_)) => {
            let refusal = Some(body_of(&e).message);
            (StatusCode::UNPROCESSABLE_ENTITY, VerifyPage { chrome, token, v, check: None, refusal })
        }
        Err(e) => return Err(e.into()),
    })
}
