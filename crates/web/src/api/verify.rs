//! The public authenticity check of a report (issue 18), no sign-in: `GET /api/v1/verify/{token}`
//! and `POST` of a PDF (multipart field `file`) checked against the stored hash and SM2 signature.

use axum::Json;
use axum::extract::{DefaultBodyLimit, State};
use choucha_domain::RuleViolation;
use choucha_service::ServiceError;
use choucha_service::verify::{self, FileCheck, MAX_UPLOAD_BYTES, VerificationView};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiMultipart, ApiPath, MultipartForm};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_verification, check_file))
        // A report PDF of up to 20 MB and the form around it; a larger body is refused unread.
        .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES + 64 * 1024))
}

/// What the public page shows of a signed report: 404 for an unknown token and for a report not yet
/// delivered.
#[utoipa::path(get, path = "/api/v1/verify/{token}", params(("token" = String, Path)), tag = "public",
    responses((status = 200, body = VerificationView), (status = 404, body = ErrorBody)))]
async fn get_verification(
    State(st): State<AppState>,
    ApiPath(token): ApiPath<String>,
) -> ApiResult<Json<VerificationView>> {
    Ok(Json(verify::view(&st.services, &token).await?))
}

#[derive(Serialize, ToSchema)]
#[schema(as = ReportFileCheckAnswer)]
pub struct CheckAnswer {
    pub report: VerificationView,
    pub check: FileCheck,
}

/// Checks an uploaded PDF (multipart field `file`) against the report's stored hash and signature.
#[utoipa::path(post, path = "/api/v1/verify/{token}", params(("token" = String, Path)), tag = "public",
    request_body(content_type = "multipart/form-data", description = "字段 file：报告的 PDF 电子文件"),
    responses((status = 200, body = CheckAnswer), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn check_file(
    State(st): State<AppState>,
    ApiPath(token): ApiPath<String>,
    ApiMultipart(mp): ApiMultipart,
) -> ApiResult<Json<CheckAnswer>> {
    // The report first: an unknown or undelivered one reads no file.
    verify::view(&st.services, &token).await?;
    let file = read_file(mp).await?;
    let (report, check) = verify::check_upload(&st.services, &token, &file).await?;
    Ok(Json(CheckAnswer { report, check }))
}

/// The `file` of an upload form, or a Chinese refusal (too large, unreadable, none given).
pub(crate) async fn read_file(mp: axum::extract::Multipart) -> Result<Vec<u8>, ServiceError> {
    let refuse =
        |code: &'static str, message: String| ServiceError::invalid(RuleViolation::new(code, message).on_field("file"));
    let form = MultipartForm::read(mp, &["file"]).await.map_err(|_| {
        refuse(
            "file_too_large",
            format!("文件读取失败：文件超过 {} MB 上限或上传不完整", MAX_UPLOAD_BYTES / 1024 / 1024),
        )
    })?;
    match form.files.into_iter().find(|f| f.field == "file" && !f.bytes.is_empty()) {
        Some(f) => Ok(f.bytes.to_vec()),
        None => Err(refuse("required", "请选择要核验的报告 PDF 文件".into())),
    }
}
