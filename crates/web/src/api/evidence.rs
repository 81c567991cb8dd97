//! Evidence of sampling tasks (DESIGN.md rule 7): one-request uploads of small files, resumable
//! chunked uploads of large videos (`/api/v1/tasks/{id}/uploads`, `/api/v1/uploads/{id}`), the list
//! with its checklist, and the stored files.

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use choucha_domain::RuleViolation;
use choucha_service::ServiceError;
use choucha_service::evidence::{
    self, ChunkOutcome, EvidenceInput, EvidenceList, EvidenceView, UploadStart, UploadView, WaiverInput,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::ApiActor;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiMultipart, ApiPath, ApiQuery, MultipartForm, UploadedFile};

/// Largest body of one request here: a one-request upload or one chunk. Larger files go in chunks.
const CHUNK_LIMIT: usize = 64 * 1024 * 1024;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_evidence, add_evidence))
        .routes(routes!(explain_missing))
        .routes(routes!(start_upload))
        .routes(routes!(upload_status, put_chunk))
        .routes(routes!(evidence_content))
        .layer(DefaultBodyLimit::max(CHUNK_LIMIT))
}

/// A task's evidence and the checklist of the seven categories (which still have nothing).
#[utoipa::path(get, path = "/api/v1/tasks/{id}/evidence", params(("id" = i64, Path)), tag = "evidence", security(("bearer" = [])),
    responses((status = 200, body = EvidenceList), (status = 404, body = ErrorBody)))]
async fn list_evidence(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<EvidenceList>> {
    Ok(Json(evidence::list(&st.services, &a, id).await?))
}

/// Record why a required category (rule 7) cannot be photographed or filmed; the record can then
/// be signed without it, and the organising bureau sees the reason with the evidence.
#[utoipa::path(post, path = "/api/v1/tasks/{id}/evidence/reasons", params(("id" = i64, Path)), tag = "evidence", security(("bearer" = [])),
    request_body = WaiverInput,
    responses((status = 201, body = EvidenceList), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn explain_missing(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<WaiverInput>,
) -> ApiResult<(StatusCode, Json<EvidenceList>)> {
    Ok((StatusCode::CREATED, Json(evidence::explain_missing(&st.services, &a, id, input).await?)))
}

/// The multipart form of a one-request upload.
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct EvidenceForm {
    /// site | storage | labels | stock | process | seals | documents
    category: String,
    /// The photo or video (image/*, video/*), with its file name and content type.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

fn invalid(code: &'static str, message: &str, field: &'static str) -> ApiError {
    ApiError(ServiceError::invalid(RuleViolation::new(code, message).on_field(field)))
}

/// Upload a small photo or video in one request (multipart `category` + `file`).
#[utoipa::path(post, path = "/api/v1/tasks/{id}/evidence", params(("id" = i64, Path)), tag = "evidence", security(("bearer" = [])),
    request_body(content = EvidenceForm, content_type = "multipart/form-data"),
    responses((status = 201, body = EvidenceView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn add_evidence(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiMultipart(mp): ApiMultipart,
) -> ApiResult<(StatusCode, Json<EvidenceView>)> {
    let mut form = MultipartForm::read(mp, &["file"])
        .await
        .map_err(|_| invalid("bad_file", "文件上传失败（内容不完整或超过64MB，大文件请分片上传）", "file"))?;
    let category = form.text("category").unwrap_or_default().to_owned();
    let Some(UploadedFile { file_name, content_type, bytes, .. }) = form.take_file("file") else {
        return Err(invalid("required", "请选择要上传的照片或视频", "file"));
    };
    let input = EvidenceInput { category, file_name, content_type };
    Ok((StatusCode::CREATED, Json(evidence::add(&st.services, &a, id, input, &bytes).await?)))
}

/// Start a resumable upload (large videos); send the bytes with `PUT /api/v1/uploads/{id}?offset=N`.
#[utoipa::path(post, path = "/api/v1/tasks/{id}/uploads", params(("id" = i64, Path)), tag = "evidence", request_body = UploadStart,
    security(("bearer" = [])),
    responses((status = 201, body = UploadView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn start_upload(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<UploadStart>,
) -> ApiResult<(StatusCode, Json<UploadView>)> {
    Ok((StatusCode::CREATED, Json(evidence::start_upload(&st.services, &a, id, input).await?)))
}

/// How many bytes of an upload arrived (the offset to resume from), and its evidence once complete.
#[utoipa::path(get, path = "/api/v1/uploads/{upload_id}", params(("upload_id" = String, Path)), tag = "evidence", security(("bearer" = [])),
    responses((status = 200, body = UploadView), (status = 404, body = ErrorBody)))]
async fn upload_status(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(upload_id): ApiPath<String>,
) -> ApiResult<Json<UploadView>> {
    Ok(Json(evidence::upload_status(&st.services, &a, &upload_id).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OffsetQuery {
    /// Where this chunk starts: must equal the bytes received so far.
    pub offset: u64,
}

/// The answer to a chunk sent at the wrong offset: resume from `offset`.
#[derive(Serialize, ToSchema)]
pub struct OffsetMismatch {
    pub code: String,
    pub message: String,
    /// Bytes received so far: the offset of the next chunk.
    pub offset: u64,
}

/// Send a chunk (raw bytes). The last chunk verifies the SHA-256 and records the evidence.
#[utoipa::path(put, path = "/api/v1/uploads/{upload_id}", tag = "evidence", params(("upload_id" = String, Path), OffsetQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"), security(("bearer" = [])),
    responses((status = 200, body = UploadView), (status = 409, body = OffsetMismatch), (status = 422, body = ErrorBody)))]
async fn put_chunk(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(upload_id): ApiPath<String>,
    ApiQuery(q): ApiQuery<OffsetQuery>,
    body: Bytes,
) -> ApiResult<Response> {
    match evidence::put_chunk(&st.services, &a, &upload_id, q.offset, &body).await? {
        ChunkOutcome::Accepted(v) => {
            let mut r = Json(&v).into_response();
            r.headers_mut().insert("upload-offset", HeaderValue::from(v.received));
            Ok(r)
        }
        ChunkOutcome::WrongOffset { received } => {
            let body = OffsetMismatch {
                code: "upload_offset".into(),
                message: format!("分片位置不对：已收到{received}字节，请从第{received}字节继续上传"),
                offset: received,
            };
            let mut r = (StatusCode::CONFLICT, Json(body)).into_response();
            r.headers_mut().insert("upload-offset", HeaderValue::from(received));
            Ok(r)
        }
    }
}

/// The stored file, byte for byte, with its content type, streamed from the file store (a single
/// byte range supported, for videos; the SHA-256 is the entity tag, as the content never changes).
#[utoipa::path(get, path = "/api/v1/evidence/{id}/content", params(("id" = i64, Path)), tag = "evidence", security(("bearer" = [])),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>),
        (status = 206, content_type = "application/octet-stream", body = Vec<u8>), (status = 304),
        (status = 404, body = ErrorBody), (status = 416)))]
async fn evidence_content(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let c = evidence::content(&st.services, &a, id).await?;
    let etag = format!("\"{}\"", c.evidence.sha256);
    let header_is = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    let mut r = if header_is(header::IF_NONE_MATCH).is_some_and(|v| v == "*" || v.split(',').any(|t| t.trim() == etag))
    {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let range = match header_is(header::RANGE) {
            Some(spec) if header_is(header::IF_RANGE).is_none_or(|v| v == etag) => byte_range(spec, c.size),
            _ => Ok(None),
        };
        match range {
            Err(()) => {
                let mut r = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
                if let Ok(v) = HeaderValue::from_str(&format!("bytes */{}", c.size)) {
                    r.headers_mut().insert(header::CONTENT_RANGE, v);
                }
                r
            }
            Ok(None) => {
                let mut r = Response::new(Body::from_stream(c.stream(None).await?));
                r.headers_mut().insert(header::CONTENT_LENGTH, HeaderValue::from(c.size));
                r
            }
            Ok(Some(range)) => {
                let (start, end) = (range.start, range.end);
                let mut r = Response::new(Body::from_stream(c.stream(Some(range)).await?));
                *r.status_mut() = StatusCode::PARTIAL_CONTENT;
                let h = r.headers_mut();
                h.insert(header::CONTENT_LENGTH, HeaderValue::from(end - start));
                if let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{}/{}", end - 1, c.size)) {
                    h.insert(header::CONTENT_RANGE, v);
                }
                r
            }
        }
    };
    let h = r.headers_mut();
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Ok(ct) = HeaderValue::from_str(&c.evidence.content_type) {
        h.insert(header::CONTENT_TYPE, ct);
    }
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, etag);
    }
    if let Ok(sha) = HeaderValue::from_str(&c.evidence.sha256) {
        h.insert("x-content-sha256", sha);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=3600"));
    // Uploaded content from users: never sniffed, never run as a page of this origin (SVG may script).
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("sandbox; default-src 'none'"));
    Ok(r)
}

/// The one byte range of a `Range` header (RFC 9110 §14.1.2) within a file of `size` bytes:
/// `Ok(None)` to send the whole file (no usable range: another unit, several ranges, a malformed
/// header), `Err` when the range lies outside the file (416).
fn byte_range(spec: &str, size: u64) -> Result<Option<std::ops::Range<u64>>, ()> {
    let Some(set) = spec.strip_prefix("bytes=") else { return Ok(None) };
    if set.contains(',') {
        return Ok(None);
    }
    let Some((first, last)) = set.trim().split_once('-') else { return Ok(None) };
    let (first, last) = (first.trim(), last.trim());
    let parse = |t: &str| t.parse::<u64>().map_err(|_| ());
    let range = match (first.is_empty(), last.is_empty()) {
        // bytes=-N: the last N bytes.
        (true, false) => {
            let Ok(n) = parse(last) else { return Ok(None) };
            if n == 0 {
                return Err(());
            }
            size.saturating_sub(n)..size
        }
        (false, _) => {
            let Ok(start) = parse(first) else { return Ok(None) };
            let end = if last.is_empty() {
                size
            } else {
                match parse(last) {
                    Ok(l) if l >= start => l.saturating_add(1).min(size),
                    _ => return Ok(None),
                }
            };
            if start >= size {
                return Err(());
            }
            start..end
        }
        (true, true) => return Ok(None),
    };
    if range.is_empty() { Err(()) } else { Ok(Some(range)) }
}

#[cfg(test)]
mod tests {
    use super::byte_range;

    #[test]
    fn reads_one_byte_range_of_a_file() {
        assert_eq!(byte_range("bytes=0-99", 1000), Ok(Some(0..100)));
        assert_eq!(byte_range("bytes=990-", 1000), Ok(Some(990..1000)));
        assert_eq!(byte_range("bytes=-10", 1000), Ok(Some(990..1000)));
        assert_eq!(byte_range("bytes=-5000", 1000), Ok(Some(0..1000)));
        assert_eq!(byte_range("bytes=900-5000", 1000), Ok(Some(900..1000)));
        assert_eq!(byte_range("bytes=1000-", 1000), Err(()));
        assert_eq!(byte_range("bytes=-0", 1000), Err(()));
        for whole in ["items=0-1", "bytes=0-1,5-6", "bytes=x-1", "bytes=5-1", "bytes=-"] {
            assert_eq!(byte_range(whole, 1000), Ok(None), "{whole}");
        }
    }
}
