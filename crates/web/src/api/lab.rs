//! API: the laboratory. Testers, reviewers and approvers address samples by blind code only
//! (`/api/v1/lab/samples/{code}`); the custodian and the organising bureau reach the link
//! (`/api/v1/lab/received/{sample_id}`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use choucha_domain::lab::{ReportState, SampleState};
use choucha_service::lab::{
    self, AssignInput, BlindSampleSummary, BlindSampleView, CorrectionInput, Dashboard, ImportOutcome, IncomingView,
    LicenceCheckView, LinkView, MovementInput, ReceiptInput, ReceiptOutcome, ReportVerification, ReportView,
    ResultInput, ScreeningInput, SendBackInput, SignOffInput, WorklistQuery,
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
        .routes(routes!(dashboard))
        .routes(routes!(incoming))
        .routes(routes!(receive))
        .routes(routes!(received))
        .routes(routes!(link))
        .routes(routes!(assign))
        .routes(routes!(movement))
        .routes(routes!(label))
        .routes(routes!(worklist))
        .routes(routes!(sample))
        .routes(routes!(licence_check))
        .routes(routes!(enter_result))
        .routes(routes!(complete))
        .routes(routes!(import_results))
        .routes(routes!(screen))
        .routes(routes!(prepare))
        .routes(routes!(reports))
        .routes(routes!(review))
        .routes(routes!(approve))
        .routes(routes!(send_back))
        .routes(routes!(correct))
        .routes(routes!(report_pdf))
        .routes(routes!(review_pdf))
        .routes(routes!(verify))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    #[serde(default)]
    pub cursor: Option<String>,
    #[serde(default)]
    pub limit: Option<u64>,
    #[serde(default)]
    pub state: Option<String>,
}

fn cursor(q: &PageQuery) -> Option<i64> {
    q.cursor.as_deref().and_then(|c| c.trim().parse().ok())
}

#[derive(Serialize, ToSchema)]
pub struct Paged<T: ToSchema> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

/// The caller's lab dashboard: incoming, awaiting test / review / approval, overdue, per tester and institution.
#[utoipa::path(get, path = "/api/v1/lab/dashboard", tag = "lab", security(("bearer" = [])),
    responses((status = 200, body = Dashboard), (status = 403, body = ErrorBody)))]
async fn dashboard(State(st): State<AppState>, ApiActor(a): ApiActor) -> ApiResult<Json<Dashboard>> {
    Ok(Json(lab::dashboard(&st.services, &a).await?))
}

/// Samples dispatched to the custodian's institution and not yet received.
#[utoipa::path(get, path = "/api/v1/lab/incoming", tag = "lab", params(PageQuery), security(("bearer" = [])),
    responses((status = 200, body = Paged<IncomingView>), (status = 403, body = ErrorBody)))]
async fn incoming(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<Paged<IncomingView>>> {
    let p = lab::incoming(&st.services, &a, cursor(&q), q.limit).await?;
    Ok(Json(Paged { items: p.items, next: p.next }))
}

/// Receive a dispatched task's sample: accept (blind code) or reject with reason (rule 12).
#[utoipa::path(post, path = "/api/v1/lab/incoming/{task_id}/receipt", params(("task_id" = i64, Path)), tag = "lab", request_body = ReceiptInput, security(("bearer" = [])),
    responses((status = 200, body = ReceiptOutcome), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn receive(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(task_id): ApiPath<i64>,
    ApiJson(i): ApiJson<ReceiptInput>,
) -> ApiResult<Json<ReceiptOutcome>> {
    Ok(Json(lab::receive(&st.services, &a, task_id, i).await?))
}

/// The institution's received samples with their links (custodian).
#[utoipa::path(get, path = "/api/v1/lab/received", tag = "lab", params(PageQuery), security(("bearer" = [])),
    responses((status = 200, body = Paged<LinkView>), (status = 403, body = ErrorBody)))]
async fn received(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<Paged<LinkView>>> {
    let state = crate::extract::parse_state::<SampleState>(q.state.as_deref())?;
    let p = lab::received(&st.services, &a, state, cursor(&q), q.limit).await?;
    Ok(Json(Paged { items: p.items, next: p.next }))
}

/// The link between a blind code and its task (custodian, organising bureau, admin).
#[utoipa::path(get, path = "/api/v1/lab/received/{sample_id}", params(("sample_id" = i64, Path)), tag = "lab", security(("bearer" = [])),
    responses((status = 200, body = LinkView), (status = 404, body = ErrorBody)))]
async fn link(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<LinkView>> {
    Ok(Json(lab::link(&st.services, &a, id).await?))
}

/// Assign a tester (never a sampler of the sample, rule 1).
#[utoipa::path(post, path = "/api/v1/lab/received/{sample_id}/tester", params(("sample_id" = i64, Path)), tag = "lab", request_body = AssignInput, security(("bearer" = [])),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn assign(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(i): ApiJson<AssignInput>,
) -> ApiResult<StatusCode> {
    lab::assign_tester(&st.services, &a, id, i).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A later movement of a portion (stored, to testing, to re-test, returned, disposed).
#[utoipa::path(post, path = "/api/v1/lab/received/{sample_id}/custody", params(("sample_id" = i64, Path)), tag = "lab", request_body = MovementInput, security(("bearer" = [])),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn movement(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(i): ApiJson<MovementInput>,
) -> ApiResult<StatusCode> {
    lab::move_portion(&st.services, &a, id, i).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The blind-code labels with QR code (PDF).
#[utoipa::path(get, path = "/api/v1/lab/received/{sample_id}/label.pdf", params(("sample_id" = i64, Path)), tag = "lab", security(("bearer" = [])),
    responses((status = 200, content_type = "application/pdf"), (status = 403, body = ErrorBody)))]
async fn label(State(st): State<AppState>, ApiActor(a): ApiActor, ApiPath(id): ApiPath<i64>) -> ApiResult<Response> {
    let pdf = lab::label_pdf(&st.services, &a, id).await?;
    Ok(pdf_response(pdf, &format!("label-{id}.pdf")))
}

pub fn pdf_response(pdf: Vec<u8>, file: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file}\"")),
        ],
        pdf,
    )
        .into_response()
}

/// Worklist by blind code (testers, approvers; screening institutions see what they screen).
#[utoipa::path(get, path = "/api/v1/lab/samples", tag = "lab", params(WorklistQuery), security(("bearer" = [])),
    responses((status = 200, body = Paged<BlindSampleSummary>), (status = 403, body = ErrorBody)))]
async fn worklist(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(q): ApiQuery<WorklistQuery>,
) -> ApiResult<Json<Paged<BlindSampleSummary>>> {
    let p = lab::worklist(&st.services, &a, q).await?;
    Ok(Json(Paged { items: p.items, next: p.next }))
}

/// One sample by blind code: product, rules version, portion, items with results, reports.
#[utoipa::path(get, path = "/api/v1/lab/samples/{code}", params(("code" = String, Path)), tag = "lab", security(("bearer" = [])),
    responses((status = 200, body = BlindSampleView), (status = 404, body = ErrorBody)))]
async fn sample(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Json<BlindSampleView>> {
    Ok(Json(lab::sample(&st.services, &a, &code).await?))
}

/// Check the producer's licence against the registry (yes/no; rule 14).
#[utoipa::path(post, path = "/api/v1/lab/samples/{code}/licence-check", params(("code" = String, Path)), tag = "lab", security(("bearer" = [])),
    responses((status = 200, body = LicenceCheckView), (status = 403, body = ErrorBody)))]
async fn licence_check(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Json<LicenceCheckView>> {
    Ok(Json(lab::check_licence(&st.services, &a, &code).await?))
}

/// Enter one test item's result; the item judgement is computed from the rules' typed limit.
#[utoipa::path(put, path = "/api/v1/lab/samples/{code}/results", params(("code" = String, Path)), tag = "lab", request_body = ResultInput, security(("bearer" = [])),
    responses((status = 200, body = BlindSampleView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn enter_result(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(code): ApiPath<String>,
    ApiJson(i): ApiJson<ResultInput>,
) -> ApiResult<Json<BlindSampleView>> {
    Ok(Json(lab::enter_result(&st.services, &a, &code, i).await?))
}

/// All results in: the conclusion (rule 16 deadline checked).
#[utoipa::path(post, path = "/api/v1/lab/samples/{code}/complete", params(("code" = String, Path)), tag = "lab", security(("bearer" = [])),
    responses((status = 200, body = BlindSampleView), (status = 409, body = ErrorBody)))]
async fn complete(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Json<BlindSampleView>> {
    Ok(Json(lab::complete_results(&st.services, &a, &code).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// The uploaded file's name (.xlsx or .csv).
    pub file_name: String,
}

/// Import results from a sheet keyed by blind code (body: the file). Nothing is written if any row is wrong.
#[utoipa::path(post, path = "/api/v1/lab/results/import", tag = "lab", params(ImportQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"), security(("bearer" = [])),
    responses((status = 200, body = ImportOutcome), (status = 422, body = ImportOutcome)))]
async fn import_results(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(q): ApiQuery<ImportQuery>,
    body: Bytes,
) -> ApiResult<Response> {
    let out = lab::import_results(&st.services, &a, &q.file_name, body.to_vec()).await?;
    let status = if out.errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok((status, Json(out)).into_response())
}

/// The screening institution's quick result (rule 24).
#[utoipa::path(post, path = "/api/v1/lab/samples/{code}/screening", params(("code" = String, Path)), tag = "lab", request_body = ScreeningInput, security(("bearer" = [])),
    responses((status = 200, body = BlindSampleView), (status = 403, body = ErrorBody)))]
async fn screen(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(code): ApiPath<String>,
    ApiJson(i): ApiJson<ScreeningInput>,
) -> ApiResult<Json<BlindSampleView>> {
    Ok(Json(lab::screen(&st.services, &a, &code, i).await?))
}

/// Prepare the report of a tested sample, signed by the tester (a PNG from a signature pad).
#[utoipa::path(post, path = "/api/v1/lab/samples/{code}/reports", params(("code" = String, Path)), tag = "lab", request_body = SignOffInput, security(("bearer" = [])),
    responses((status = 200, body = ReportView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn prepare(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(code): ApiPath<String>,
    ApiJson(i): ApiJson<SignOffInput>,
) -> ApiResult<Json<ReportView>> {
    Ok(Json(lab::prepare_report(&st.services, &a, &code, i).await?))
}

#[derive(Serialize, ToSchema)]
pub struct ReportLine {
    pub blind_code: String,
    pub report: ReportView,
}

/// Reports of the caller's institution in a state (prepared = awaiting review, reviewed = awaiting approval).
#[utoipa::path(get, path = "/api/v1/lab/reports", tag = "lab", params(PageQuery), security(("bearer" = [])),
    responses((status = 200, body = Paged<ReportLine>), (status = 403, body = ErrorBody)))]
async fn reports(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<Paged<ReportLine>>> {
    let state = crate::extract::parse_state::<ReportState>(q.state.as_deref())?.unwrap_or(ReportState::Prepared);
    let p = lab::report_worklist(&st.services, &a, state, cursor(&q), q.limit).await?;
    Ok(Json(Paged {
        items: p.items.into_iter().map(|(blind_code, report)| ReportLine { blind_code, report }).collect(),
        next: p.next,
    }))
}

/// Review and sign (second person; rules 1, 15).
#[utoipa::path(post, path = "/api/v1/lab/reports/{id}/review", params(("id" = i64, Path)), tag = "lab", request_body = SignOffInput, security(("bearer" = [])),
    responses((status = 200, body = ReportView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn review(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(i): ApiJson<SignOffInput>,
) -> ApiResult<Json<ReportView>> {
    Ok(Json(lab::review_report(&st.services, &a, id, i).await?))
}

/// Approve and sign (third person): number, frozen, PDF with the three signatures stored with SHA-256.
#[utoipa::path(post, path = "/api/v1/lab/reports/{id}/approve", params(("id" = i64, Path)), tag = "lab", request_body = SignOffInput, security(("bearer" = [])),
    responses((status = 200, body = ReportView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn approve(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(i): ApiJson<SignOffInput>,
) -> ApiResult<Json<ReportView>> {
    Ok(Json(choucha_service::issue::approve_report(&st.services, &a, id, i).await?))
}

/// Send a report back to the tester with a reason (the reviewer, or the approver after review).
#[utoipa::path(post, path = "/api/v1/lab/reports/{id}/send-back", params(("id" = i64, Path)), tag = "lab", request_body = SendBackInput, security(("bearer" = [])),
    responses((status = 200, body = ReportView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn send_back(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(i): ApiJson<SendBackInput>,
) -> ApiResult<Json<ReportView>> {
    Ok(Json(lab::send_back_report(&st.services, &a, id, i).await?))
}

/// Start a correction: the next report prepared supersedes this one.
#[utoipa::path(post, path = "/api/v1/lab/reports/{id}/correction", params(("id" = i64, Path)), tag = "lab", request_body = CorrectionInput, security(("bearer" = [])),
    responses((status = 200, body = ReportView), (status = 409, body = ErrorBody)))]
async fn correct(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(i): ApiJson<CorrectionInput>,
) -> ApiResult<Json<ReportView>> {
    Ok(Json(lab::correct_report(&st.services, &a, id, i).await?))
}

/// The issued report's stored PDF (custodian, organising bureau).
#[utoipa::path(get, path = "/api/v1/lab/reports/{id}/report.pdf", params(("id" = i64, Path)), tag = "lab", security(("bearer" = [])),
    responses((status = 200, content_type = "application/pdf"), (status = 403, body = ErrorBody)))]
async fn report_pdf(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    let (_, pdf) = lab::report_pdf(&st.services, &a, id).await?;
    Ok(pdf_response(pdf, &format!("report-{id}.pdf")))
}

/// The report as it will be printed, for the reviewer and the approver to read before signing:
/// marked 审核稿, no number yet, the enterprise hidden (they work blind).
#[utoipa::path(get, path = "/api/v1/lab/reports/{id}/review.pdf", params(("id" = i64, Path)), tag = "lab", security(("bearer" = [])),
    responses((status = 200, content_type = "application/pdf"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
async fn review_pdf(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    let pdf = lab::review_pdf(&st.services, &a, id).await?;
    Ok(pdf_response(pdf, &format!("report-{id}-review-draft.pdf")))
}

/// Check the stored PDF against its recorded SHA-256.
#[utoipa::path(get, path = "/api/v1/lab/reports/{id}/verify", params(("id" = i64, Path)), tag = "lab", security(("bearer" = [])),
    responses((status = 200, body = ReportVerification), (status = 404, body = ErrorBody)))]
async fn verify(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<ReportVerification>> {
    Ok(Json(lab::verify_report(&st.services, &a, id).await?))
}
