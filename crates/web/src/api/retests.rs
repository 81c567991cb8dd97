//! API: re-tests (复检, rule 18), sample confirmations by the nominal producer (rule 23), and the
//! tester's text of the improvement letter.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use choucha_service::confirmations::{self, AnswerInput, ConfirmationView, InvestigationInput, PeriodInput};
use choucha_service::lab::SignOffInput;
use choucha_service::objections::{CloseInput, ObjectionView};
use choucha_service::results::{self, LetterTextInput, LetterTextView};
use choucha_service::retests::{
    self, AssignRetestInput, InstitutionChoice, RetestDispatchInput, RetestReceiptInput, RetestResultsInput,
    RetestView, SignStep,
};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::api::lab::{Paged, pdf_response};
use crate::auth::ApiActor;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(institutions))
        .routes(routes!(close_objection))
        .routes(routes!(assign))
        .routes(routes!(list))
        .routes(routes!(get_one))
        .routes(routes!(dispatch))
        .routes(routes!(receive))
        .routes(routes!(enter_results))
        .routes(routes!(sign_step))
        .routes(routes!(report_pdf))
        .routes(routes!(confirmations_list))
        .routes(routes!(confirmation_answer))
        .routes(routes!(confirmation_lapse))
        .routes(routes!(confirmation_investigate))
        .routes(routes!(confirmation_period))
        .routes(routes!(letter_get, letter_put))
        .routes(routes!(letter_pdf))
        .routes(routes!(my_letter_pdf))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Comma-separated states (all when absent).
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub cursor: Option<String>,
    #[serde(default)]
    pub limit: Option<u64>,
}

impl ListQuery {
    fn states<T: std::str::FromStr<Err = choucha_domain::RuleViolation>>(
        &self,
    ) -> Result<Vec<T>, choucha_service::ServiceError> {
        crate::extract::parse_states(self.state.as_deref())
    }
    fn before(&self) -> Option<i64> {
        self.cursor.as_deref().and_then(|c| c.parse().ok())
    }
}

/// The testing institutions a re-test of an accepted request may go to (the first one marked).
#[utoipa::path(get, path = "/api/v1/objections/{id}/retest-institutions", params(("id" = i64, Path)), tag = "retests", security(("bearer" = [])),
    responses((status = 200, body = Vec<InstitutionChoice>), (status = 404, body = ErrorBody)))]
async fn institutions(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<InstitutionChoice>>> {
    Ok(Json(retests::institutions_for(&st.services, &a, id).await?))
}

/// The organising bureau closes an accepted request with its written answer (no re-test, or one
/// stopped at a broken seal); 409 `retest_in_progress` while a re-test runs.
#[utoipa::path(post, path = "/api/v1/objections/{id}/close", params(("id" = i64, Path)), tag = "retests", request_body = CloseInput, security(("bearer" = [])),
    responses((status = 200, body = ObjectionView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn close_objection(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(i): ApiJson<CloseInput>,
) -> ApiResult<Json<ObjectionView>> {
    Ok(Json(choucha_service::objections::close(&st.services, &a, id, i).await?))
}

/// The organising bureau arranges the re-test of an accepted request: another institution where
/// possible (the first only with `same_institution_reason`), the fee paid in advance (元).
#[utoipa::path(post, path = "/api/v1/objections/{id}/retest", params(("id" = i64, Path)), tag = "retests", request_body = AssignRetestInput, security(("bearer" = [])),
    responses((status = 201, body = RetestView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn assign(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(i): ApiJson<AssignRetestInput>,
) -> ApiResult<(StatusCode, Json<RetestView>)> {
    Ok((StatusCode::CREATED, Json(retests::assign(&st.services, &a, id, i).await?)))
}

/// Re-tests: the organising bureau's (with the enterprise) or the re-test institution's (blind).
#[utoipa::path(get, path = "/api/v1/retests", tag = "retests", params(ListQuery), security(("bearer" = [])),
    responses((status = 200, body = Paged<RetestView>), (status = 403, body = ErrorBody)))]
async fn list(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<Paged<RetestView>>> {
    let p = retests::list(&st.services, &a, &q.states()?, q.before(), q.limit).await?;
    Ok(Json(Paged { items: p.items, next: p.next }))
}

/// One re-test.
#[utoipa::path(get, path = "/api/v1/retests/{id}", params(("id" = i64, Path)), tag = "retests", security(("bearer" = [])),
    responses((status = 200, body = RetestView), (status = 404, body = ErrorBody)))]
async fn get_one(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<RetestView>> {
    Ok(Json(retests::get(&st.services, &a, id).await?))
}

/// The first institution's custodian records the backup portion's dispatch to the re-test
/// institution (time in Beijing time, carrier, seal numbers as packed, seal state); the re-test
/// institution cannot receive it before (409 `rule18_not_dispatched`).
#[utoipa::path(post, path = "/api/v1/retests/{id}/dispatch", params(("id" = i64, Path)), tag = "retests", request_body = RetestDispatchInput, security(("bearer" = [])),
    responses((status = 200, body = RetestView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn dispatch(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(i): ApiJson<RetestDispatchInput>,
) -> ApiResult<Json<RetestView>> {
    Ok(Json(retests::dispatch(&st.services, &a, id, i).await?))
}

/// The re-test institution's custodian receives the backup portion: seal photos (base64) and
/// whether the seal is intact; a broken seal stops the re-test (409 on later steps).
#[utoipa::path(post, path = "/api/v1/retests/{id}/receipt", params(("id" = i64, Path)), tag = "retests", request_body = RetestReceiptInput, security(("bearer" = [])),
    responses((status = 200, body = RetestView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn receive(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(i): ApiJson<RetestReceiptInput>,
) -> ApiResult<Json<RetestView>> {
    Ok(Json(retests::receive(&st.services, &a, id, i).await?))
}

/// A tester enters the objected items' results (only those; 422 `rule18_items_only` otherwise).
#[utoipa::path(post, path = "/api/v1/retests/{id}/results", params(("id" = i64, Path)), tag = "retests", request_body = RetestResultsInput, security(("bearer" = [])),
    responses((status = 200, body = RetestView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn enter_results(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(i): ApiJson<RetestResultsInput>,
) -> ApiResult<Json<RetestView>> {
    Ok(Json(retests::enter_results(&st.services, &a, id, i).await?))
}

/// Sign the re-test report: `step` prepare (a tester), review, approve (approvers); three people
/// (rule 15). Approval makes the conclusion final and applies the fee rule.
#[utoipa::path(post, path = "/api/v1/retests/{id}/{step}", tag = "retests", request_body = SignOffInput, security(("bearer" = [])),
    params(("id" = i64, Path), ("step" = String, Path, description = "prepare | review | approve")),
    responses((status = 200, body = RetestView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn sign_step(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath((id, step)): ApiPath<(i64, String)>,
    ApiJson(i): ApiJson<SignOffInput>,
) -> ApiResult<Json<RetestView>> {
    let step = match step.as_str() {
        "prepare" => SignStep::Prepare,
        "review" => SignStep::Review,
        "approve" => SignStep::Approve,
        _ => return Err(choucha_service::ServiceError::NotFound("操作").into()),
    };
    Ok(Json(retests::sign(&st.services, &a, id, step, i).await?))
}

/// The approved re-test report's PDF (bureau, re-test institution, the applicant).
#[utoipa::path(get, path = "/api/v1/retests/{id}/report.pdf", params(("id" = i64, Path)), tag = "retests", security(("bearer" = [])),
    responses((status = 200, content_type = "application/pdf"), (status = 404, body = ErrorBody)))]
async fn report_pdf(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    let (no, pdf) = retests::report_pdf(&st.services, &a, id).await?;
    Ok(pdf_response(pdf, &format!("{no}.pdf")))
}

/// Sample confirmations (rule 23): the bureau's, the institution's (custodian) or the producer's own.
#[utoipa::path(get, path = "/api/v1/confirmations", tag = "retests", params(ListQuery), security(("bearer" = [])),
    responses((status = 200, body = Paged<ConfirmationView>), (status = 403, body = ErrorBody)))]
async fn confirmations_list(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<Paged<ConfirmationView>>> {
    let p = confirmations::list(&st.services, &a, &q.states()?, q.before(), q.limit).await?;
    Ok(Json(Paged { items: p.items, next: p.next }))
}

/// The producer confirms or denies (with reasons) that the sample is its product, within the period
/// (409 `rule23_confirmation_expired` after it).
#[utoipa::path(post, path = "/api/v1/confirmations/{id}/answer", params(("id" = i64, Path)), tag = "retests", request_body = AnswerInput, security(("bearer" = [])),
    responses((status = 200, body = ConfirmationView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn confirmation_answer(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(i): ApiJson<AnswerInput>,
) -> ApiResult<Json<ConfirmationView>> {
    Ok(Json(confirmations::answer(&st.services, &a, id, i).await?))
}

/// Record that no answer came by the deadline.
#[utoipa::path(post, path = "/api/v1/confirmations/{id}/lapse", params(("id" = i64, Path)), tag = "retests", security(("bearer" = [])),
    responses((status = 200, body = ConfirmationView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn confirmation_lapse(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<ConfirmationView>> {
    Ok(Json(confirmations::record_lapse(&st.services, &a, id).await?))
}

/// The organising bureau records its investigation of a denial.
#[utoipa::path(post, path = "/api/v1/confirmations/{id}/investigation", params(("id" = i64, Path)), tag = "retests", request_body = InvestigationInput, security(("bearer" = [])),
    responses((status = 200, body = ConfirmationView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn confirmation_investigate(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(i): ApiJson<InvestigationInput>,
) -> ApiResult<Json<ConfirmationView>> {
    Ok(Json(confirmations::investigate(&st.services, &a, id, i).await?))
}

/// Set a plan's sample-confirmation period (days; working or calendar days).
#[utoipa::path(put, path = "/api/v1/plans/{id}/confirmation-period", params(("id" = i64, Path)), tag = "retests", request_body = PeriodInput, security(("bearer" = [])),
    responses((status = 200, body = PeriodInput), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn confirmation_period(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(i): ApiJson<PeriodInput>,
) -> ApiResult<Json<PeriodInput>> {
    Ok(Json(confirmations::set_period(&st.services, &a, id, i).await?))
}

/// The tester's text of the improvement letter of an unqualified sample (by blind code).
#[utoipa::path(get, path = "/api/v1/lab/samples/{code}/improvement-letter", params(("code" = String, Path)), tag = "retests", security(("bearer" = [])),
    responses((status = 200, body = LetterTextView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn letter_get(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Json<LetterTextView>> {
    Ok(Json(results::letter_text(&st.services, &a, &code).await?))
}

/// Write the description, cause analysis and suggestions of the improvement letter (until delivered).
#[utoipa::path(put, path = "/api/v1/lab/samples/{code}/improvement-letter", params(("code" = String, Path)), tag = "retests", request_body = LetterTextInput, security(("bearer" = [])),
    responses((status = 200, body = LetterTextView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn letter_put(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(code): ApiPath<String>,
    ApiJson(i): ApiJson<LetterTextInput>,
) -> ApiResult<Json<LetterTextView>> {
    Ok(Json(results::write_letter(&st.services, &a, &code, i).await?))
}

/// The improvement letter of an unqualified issued report as a PDF (custodian, bureau).
#[utoipa::path(get, path = "/api/v1/lab/reports/{id}/improvement-letter.pdf", params(("id" = i64, Path)), tag = "retests", security(("bearer" = [])),
    responses((status = 200, content_type = "application/pdf"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn letter_pdf(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    let pdf = results::improvement_letter_of_report(&st.services, &a, id).await?;
    Ok(pdf_response(pdf, &format!("improvement-letter-{id}.pdf")))
}

/// The improvement letter of the enterprise's own unqualified result.
#[utoipa::path(get, path = "/api/v1/my/results/{id}/improvement-letter.pdf", params(("id" = i64, Path)), tag = "retests", security(("bearer" = [])),
    responses((status = 200, content_type = "application/pdf"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn my_letter_pdf(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    let pdf = choucha_service::objections::my_improvement_letter_pdf(&st.services, &a, id).await?;
    Ok(pdf_response(pdf, &format!("improvement-letter-{id}.pdf")))
}
