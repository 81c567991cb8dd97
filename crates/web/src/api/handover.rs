//! API: hand-over after sampling — custody (seals, dispatch), the backup portion kept at the
//! enterprise (rule 9), arrival, not sampled, the forms as PDF, entry deadlines (rule 16), a plan's
//! costs (rule 21) and marking inbox items read.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use choucha_service::handover::{
    self, ArrivalInput, ArrivalView, BackupDecisionInput, BackupRequestInput, BackupRequestView, CustodyView,
    DispatchInput, DocumentEntry, EntryFlags, NotSampledInput, PlanCosts,
};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::api::sampling::TaskStateAnswer;
use crate::auth::ApiActor;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(dispatch))
        .routes(routes!(custody))
        .routes(routes!(request_backup))
        .routes(routes!(backup_requests))
        .routes(routes!(get_backup_request))
        .routes(routes!(decide_backup))
        .routes(routes!(record_arrival))
        .routes(routes!(not_sampled))
        .routes(routes!(documents))
        .routes(routes!(notice_pdf))
        .routes(routes!(payment_form_pdf))
        .routes(routes!(feedback_form_pdf))
        .routes(routes!(refusal_pdf))
        .routes(routes!(problem_report_pdf))
        .routes(routes!(sealing_notice_pdf))
        .routes(routes!(entry_flags))
        .routes(routes!(plan_costs))
        .routes(routes!(mark_read))
}

fn pdf(bytes: Vec<u8>, name: String) -> Response {
    (
        [
            (axum::http::header::CONTENT_TYPE, "application/pdf".to_string()),
            (axum::http::header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        bytes,
    )
        .into_response()
}

/// Record the sample's dispatch to the testing institution: `mode` carried | shipped (then
/// `carrier` and `tracking_no` are required); `dispatched_at` defaults to now and is never in the
/// future. A team sampler, once, when the task is sampled. Writes `dispatched` events for the test
/// portion and for the backup portion unless it stays at the enterprise (rule 9). Returns the chain.
#[utoipa::path(post, path = "/api/v1/tasks/{id}/dispatch", params(("id" = i64, Path)), tag = "handover", request_body = DispatchInput, security(("bearer" = [])),
    responses((status = 200, body = Vec<CustodyView>), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn dispatch(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(i): ApiJson<DispatchInput>,
) -> ApiResult<Json<Vec<CustodyView>>> {
    Ok(Json(handover::dispatch(&st.services, &a, id, i).await?))
}

/// The custody chain of the task's portions, oldest first (team, organising bureau, testing institution).
#[utoipa::path(get, path = "/api/v1/tasks/{id}/custody", params(("id" = i64, Path)), tag = "handover", security(("bearer" = [])),
    responses((status = 200, body = Vec<CustodyView>), (status = 404, body = ErrorBody)))]
async fn custody(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<CustodyView>>> {
    Ok(Json(handover::custody(&st.services, &a, id).await?))
}

/// Ask the organising bureau to keep the backup portion sealed at the enterprise (rule 9): a team
/// sampler, with a saved record or once sampled, before dispatch, one open request at a time.
#[utoipa::path(post, path = "/api/v1/tasks/{id}/backup-request", params(("id" = i64, Path)), tag = "handover", request_body = BackupRequestInput, security(("bearer" = [])),
    responses((status = 200, body = BackupRequestView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn request_backup(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(i): ApiJson<BackupRequestInput>,
) -> ApiResult<Json<BackupRequestView>> {
    Ok(Json(handover::request_backup(&st.services, &a, id, i).await?))
}

/// The task's backup requests, newest first.
#[utoipa::path(get, path = "/api/v1/tasks/{id}/backup-requests", params(("id" = i64, Path)), tag = "handover", security(("bearer" = [])),
    responses((status = 200, body = Vec<BackupRequestView>), (status = 404, body = ErrorBody)))]
async fn backup_requests(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<BackupRequestView>>> {
    Ok(Json(handover::backup_requests(&st.services, &a, id).await?))
}

#[utoipa::path(get, path = "/api/v1/backup-requests/{id}", params(("id" = i64, Path)), tag = "handover", security(("bearer" = [])),
    responses((status = 200, body = BackupRequestView), (status = 404, body = ErrorBody)))]
async fn get_backup_request(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<BackupRequestView>> {
    Ok(Json(handover::get_backup_request(&st.services, &a, id).await?))
}

/// Approve or deny keeping the backup at the enterprise: a regulator of the organising bureau only
/// (others: 409 `rule9_organising_bureau`). A denial needs an opinion.
#[utoipa::path(post, path = "/api/v1/backup-requests/{id}/decision", params(("id" = i64, Path)), tag = "handover", request_body = BackupDecisionInput, security(("bearer" = [])),
    responses((status = 200, body = BackupRequestView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn decide_backup(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(i): ApiJson<BackupDecisionInput>,
) -> ApiResult<Json<BackupRequestView>> {
    Ok(Json(handover::decide_backup(&st.services, &a, id, i).await?))
}

/// On arrival: the team records that the notice, their identity and the authorisation letter were
/// shown (all three must be true). Once per task, after starting it.
#[utoipa::path(post, path = "/api/v1/tasks/{id}/arrival", params(("id" = i64, Path)), tag = "handover", request_body = ArrivalInput, security(("bearer" = [])),
    responses((status = 200, body = ArrivalView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn record_arrival(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(i): ApiJson<ArrivalInput>,
) -> ApiResult<Json<ArrivalView>> {
    Ok(Json(handover::record_arrival(&st.services, &a, id, i).await?))
}

/// The enterprise cannot be sampled (from assigned or in progress): `reason_kind` closed | not_found |
/// no_stock | not_for_sale | other (then `note` is required). The place is freed for a redraw.
#[utoipa::path(post, path = "/api/v1/tasks/{id}/not-sampled", params(("id" = i64, Path)), tag = "handover", request_body = NotSampledInput, security(("bearer" = [])),
    responses((status = 200, body = TaskStateAnswer), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn not_sampled(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(i): ApiJson<NotSampledInput>,
) -> ApiResult<Json<TaskStateAnswer>> {
    Ok(Json(handover::mark_not_sampled(&st.services, &a, id, i).await?.into()))
}

/// The forms that exist for the task, with their URLs and whether each is left with the enterprise.
#[utoipa::path(get, path = "/api/v1/tasks/{id}/documents", params(("id" = i64, Path)), tag = "handover", security(("bearer" = [])),
    responses((status = 200, body = Vec<DocumentEntry>), (status = 404, body = ErrorBody)))]
async fn documents(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<DocumentEntry>>> {
    Ok(Json(handover::documents(&st.services, &a, id).await?))
}

/// The spot-check notice (抽查通知书), once the task is started.
#[utoipa::path(get, path = "/api/v1/tasks/{id}/notice.pdf", params(("id" = i64, Path)), tag = "handover", security(("bearer" = [])),
    responses((status = 200, content_type = "application/pdf"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn notice_pdf(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    Ok(pdf(handover::notice_pdf(&st.services, &a, id).await?, format!("notice-{id}.pdf")))
}

/// The sample payment form (样品付费单) of the test portion; paid from public funds (rule 21).
#[utoipa::path(get, path = "/api/v1/tasks/{id}/payment-form.pdf", params(("id" = i64, Path)), tag = "handover", security(("bearer" = [])),
    responses((status = 200, content_type = "application/pdf"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn payment_form_pdf(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    Ok(pdf(handover::payment_form_pdf(&st.services, &a, id).await?, format!("payment-form-{id}.pdf")))
}

/// The conduct feedback form (工作质量及工作纪律反馈单), left with the enterprise.
#[utoipa::path(get, path = "/api/v1/tasks/{id}/feedback-form.pdf", params(("id" = i64, Path)), tag = "handover", security(("bearer" = [])),
    responses((status = 200, content_type = "application/pdf"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn feedback_form_pdf(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    Ok(pdf(handover::feedback_form_pdf(&st.services, &a, id).await?, format!("feedback-form-{id}.pdf")))
}

/// The refusal determination (拒检认定表), with the county bureau's co-signature once given.
#[utoipa::path(get, path = "/api/v1/tasks/{id}/refusal.pdf", params(("id" = i64, Path)), tag = "handover", security(("bearer" = [])),
    responses((status = 200, content_type = "application/pdf"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn refusal_pdf(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    Ok(pdf(handover::refusal_pdf(&st.services, &a, id).await?, format!("refusal-{id}.pdf")))
}

/// The problem report (问题报送单).
#[utoipa::path(get, path = "/api/v1/tasks/{id}/problem-report.pdf", params(("id" = i64, Path)), tag = "handover", security(("bearer" = [])),
    responses((status = 200, content_type = "application/pdf"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn problem_report_pdf(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    Ok(pdf(handover::problem_report_pdf(&st.services, &a, id).await?, format!("problem-report-{id}.pdf")))
}

/// The backup sealing notice (封存和处置告知单); 409 `rule9_not_approved` before the bureau approves.
#[utoipa::path(get, path = "/api/v1/tasks/{id}/sealing-notice.pdf", params(("id" = i64, Path)), tag = "handover", security(("bearer" = [])),
    responses((status = 200, content_type = "application/pdf"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn sealing_notice_pdf(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    Ok(pdf(handover::sealing_notice_pdf(&st.services, &a, id).await?, format!("sealing-notice-{id}.pdf")))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EntryQuery {
    /// own (a sampler's tasks, the default) | bureau (the regulator's bureau's plans)
    #[serde(default)]
    pub scope: Option<String>,
}

/// Rule 16: tasks whose sampling information is overdue (deadline passed, record not locked) or was
/// entered late.
#[utoipa::path(get, path = "/api/v1/entry-flags", tag = "handover", params(EntryQuery), security(("bearer" = [])),
    responses((status = 200, body = EntryFlags), (status = 403, body = ErrorBody)))]
async fn entry_flags(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(q): ApiQuery<EntryQuery>,
) -> ApiResult<Json<EntryFlags>> {
    Ok(Json(match q.scope.as_deref() {
        Some("bureau") => handover::entry_flags_of_bureau(&st.services, &a).await?,
        _ => handover::entry_flags_of_sampler(&st.services, &a).await?,
    }))
}

/// What the plan paid for test portions, per item and in all, against its budget (organising bureau).
#[utoipa::path(get, path = "/api/v1/plans/{id}/costs", params(("id" = i64, Path)), tag = "handover", security(("bearer" = [])),
    responses((status = 200, body = PlanCosts), (status = 404, body = ErrorBody)))]
async fn plan_costs(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<PlanCosts>> {
    Ok(Json(handover::plan_costs(&st.services, &a, id).await?))
}

/// Mark an item of the caller's bureau's inbox read.
#[utoipa::path(post, path = "/api/v1/inbox/{id}/read", params(("id" = i64, Path)), tag = "handover", security(("bearer" = [])),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn mark_read(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    handover::mark_inbox_read(&st.services, &a, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
