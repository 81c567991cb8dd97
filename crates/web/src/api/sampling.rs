//! On-site sampling: the sampling record, signatures, corrections, refusals, problem reports and
//! the bureaus' inbox.

use axum::Json;
use axum::extract::State;
use choucha_domain::sampling::RecordFields;
use choucha_service::sampling::{
    self, CorrectionInput, CosignInput, InboxView, ProblemInput, RecordView, RefusalInput, SignInput,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::ApiActor;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_record, save_record))
        .routes(routes!(record_versions))
        .routes(routes!(sign))
        .routes(routes!(correct))
        .routes(routes!(refuse))
        .routes(routes!(cosign_refusal))
        .routes(routes!(report_problem))
        .routes(routes!(inbox))
        .routes(routes!(record_pdf))
}

/// The task's sampling record (newest version).
#[utoipa::path(get, path = "/api/v1/tasks/{id}/record", params(("id" = i64, Path)), tag = "sampling", security(("bearer" = [])),
    responses((status = 200, body = RecordView), (status = 404, body = ErrorBody)))]
async fn get_record(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<RecordView>> {
    Ok(Json(sampling::get_record(&st.services, &a, id).await?))
}

/// What a write queued on a phone was based on (the field app replays its writes after the network
/// returns): the `record_hash` of the record version the phone showed, empty when there was none.
/// When the record changed on the server meanwhile the write is refused with 409 `stale_task`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BasedOn {
    #[serde(default)]
    pub expected_record_hash: Option<String>,
}

/// Fill in or change the record until anyone signs; checked against the published rules and rules 2, 5, 8, 22.
#[utoipa::path(put, path = "/api/v1/tasks/{id}/record", params(("id" = i64, Path), BasedOn), tag = "sampling", request_body = RecordFields, security(("bearer" = [])),
    responses((status = 200, body = RecordView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn save_record(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(b): ApiQuery<BasedOn>,
    ApiJson(f): ApiJson<RecordFields>,
) -> ApiResult<Json<RecordView>> {
    Ok(Json(sampling::save_record_based_on(&st.services, &a, id, f, b.expected_record_hash.as_deref()).await?))
}

#[utoipa::path(get, path = "/api/v1/tasks/{id}/record/versions", params(("id" = i64, Path)), tag = "sampling", security(("bearer" = [])),
    responses((status = 200, body = Vec<RecordView>), (status = 404, body = ErrorBody)))]
async fn record_versions(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<RecordView>>> {
    Ok(Json(sampling::record_versions(&st.services, &a, id).await?))
}

/// A signature (PNG, base64) of a sampler or the enterprise, or the enterprise's noted refusal to sign.
#[utoipa::path(post, path = "/api/v1/tasks/{id}/record/signatures", params(("id" = i64, Path), BasedOn), tag = "sampling", request_body = SignInput, security(("bearer" = [])),
    responses((status = 200, body = RecordView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn sign(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(b): ApiQuery<BasedOn>,
    ApiJson(i): ApiJson<SignInput>,
) -> ApiResult<Json<RecordView>> {
    Ok(Json(sampling::sign_based_on(&st.services, &a, id, i, b.expected_record_hash.as_deref()).await?))
}

/// Correct a signed record: a new version, valid once the enterprise signs it (rule 6).
#[utoipa::path(post, path = "/api/v1/tasks/{id}/record/corrections", params(("id" = i64, Path)), tag = "sampling", request_body = CorrectionInput, security(("bearer" = [])),
    responses((status = 200, body = RecordView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn correct(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(i): ApiJson<CorrectionInput>,
) -> ApiResult<Json<RecordView>> {
    Ok(Json(sampling::correct(&st.services, &a, id, i).await?))
}

#[derive(Serialize, ToSchema)]
pub struct TaskStateAnswer {
    pub state: String,
    pub state_label: String,
}

impl From<choucha_domain::sampling::TaskState> for TaskStateAnswer {
    fn from(s: choucha_domain::sampling::TaskState) -> Self {
        TaskStateAnswer { state: s.as_str().into(), state_label: s.label().into() }
    }
}

/// The enterprise refuses sampling (拒检); final when its county bureau co-signs.
#[utoipa::path(post, path = "/api/v1/tasks/{id}/refusal", params(("id" = i64, Path)), tag = "sampling", request_body = RefusalInput, security(("bearer" = [])),
    responses((status = 200, body = TaskStateAnswer), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn refuse(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(i): ApiJson<RefusalInput>,
) -> ApiResult<Json<TaskStateAnswer>> {
    Ok(Json(sampling::refuse(&st.services, &a, id, i).await?.into()))
}

/// The county bureau of the enterprise co-signs the refusal determination (rule 11).
#[utoipa::path(post, path = "/api/v1/tasks/{id}/refusal/cosign", params(("id" = i64, Path)), tag = "sampling", request_body = CosignInput, security(("bearer" = [])),
    responses((status = 200, body = TaskStateAnswer), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn cosign_refusal(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(i): ApiJson<CosignInput>,
) -> ApiResult<Json<TaskStateAnswer>> {
    Ok(Json(sampling::cosign_refusal(&st.services, &a, id, i).await?.into()))
}

/// A violation found on site (无证无照…): sampling stops; both bureaus are told at once (rule 10).
#[utoipa::path(post, path = "/api/v1/tasks/{id}/problem", params(("id" = i64, Path)), tag = "sampling", request_body = ProblemInput, security(("bearer" = [])),
    responses((status = 200, body = TaskStateAnswer), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn report_problem(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(i): ApiJson<ProblemInput>,
) -> ApiResult<Json<TaskStateAnswer>> {
    Ok(Json(sampling::report_problem(&st.services, &a, id, i).await?.into()))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InboxQuery {
    #[serde(default)]
    pub before: Option<i64>,
    #[serde(default)]
    pub limit: Option<u64>,
}

#[derive(Serialize, ToSchema)]
pub struct InboxPage {
    pub items: Vec<InboxView>,
    pub next: Option<String>,
}

/// The caller's bureau's inbox: problem reports, refusals awaiting co-signature.
#[utoipa::path(get, path = "/api/v1/inbox", tag = "sampling", params(InboxQuery), security(("bearer" = [])),
    responses((status = 200, body = InboxPage), (status = 403, body = ErrorBody)))]
async fn inbox(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(q): ApiQuery<InboxQuery>,
) -> ApiResult<Json<InboxPage>> {
    let p = sampling::inbox(&st.services, &a, q.before, q.limit).await?;
    Ok(Json(InboxPage { items: p.items, next: p.next }))
}

/// The sampling record as the paper form, with the signatures placed (PDF).
#[utoipa::path(get, path = "/api/v1/tasks/{id}/record.pdf", params(("id" = i64, Path)), tag = "sampling", security(("bearer" = [])),
    responses((status = 200, content_type = "application/pdf"), (status = 404, body = ErrorBody)))]
async fn record_pdf(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<axum::response::Response, crate::error::ApiError> {
    use axum::response::IntoResponse;
    let pdf = sampling::record_pdf(&st.services, &a, id).await?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "application/pdf".to_string()),
            (axum::http::header::CONTENT_DISPOSITION, format!("attachment; filename=\"sampling-record-{id}.pdf\"")),
        ],
        pdf,
    )
        .into_response())
}
