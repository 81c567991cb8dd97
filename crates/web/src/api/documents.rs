//! Documents over the API: `POST /api/v1/documents/improvement-letter` answers the 产品质量改进建议书
//! as a PDF download.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use choucha_service::documents::{self, ImprovementLetterInput};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::ApiActor;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::ApiJson;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(improvement_letter))
}

/// `attachment` with an ASCII fallback name and the real (Chinese) name in RFC 5987 form.
pub fn attachment(file_name: &str, ascii_fallback: &str) -> HeaderValue {
    let mut encoded = String::new();
    for b in file_name.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    let value = format!("attachment; filename=\"{ascii_fallback}\"; filename*=UTF-8''{encoded}");
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

/// A PDF answer to download.
pub fn pdf_download(pdf: Vec<u8>, file_name: &str, ascii_fallback: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/pdf")),
            (header::CONTENT_DISPOSITION, attachment(file_name, ascii_fallback)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        Body::from(pdf),
    )
        .into_response()
}

/// The 产品质量改进建议书 (Annex 2) as PDF, for institution and bureau staff.
#[utoipa::path(post, path = "/api/v1/documents/improvement-letter", tag = "documents", security(("bearer" = [])),
    request_body = ImprovementLetterInput,
    responses((status = 200, content_type = "application/pdf", description = "PDF 文件"),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn improvement_letter(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(input): ApiJson<ImprovementLetterInput>,
) -> ApiResult<Response> {
    let name = documents::letter_file_name(&input.report_no);
    let pdf = documents::improvement_letter_pdf(&state.services, &actor, input).await?;
    Ok(pdf_download(pdf, &name, "improvement-letter.pdf"))
}
