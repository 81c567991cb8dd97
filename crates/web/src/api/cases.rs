//! API: post-processing cases (rule 20, 后处理案件) with their steps, the enterprise's own cases and
//! rectification reports, the versioned rule sets of time limits, and a plan's overdue work
//! (disposals and case steps).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use choucha_service::cases::{
    self, CaseDetail, CaseQuery, CaseView, FollowUpOrderInput, OverdueWork, RectificationInput, RuleSetInput,
    RuleSetView, RuleSetsView, SelectionInput, StepInput,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::api::disposals::file_response;
use crate::api::lab::Paged;
use crate::auth::ApiActor;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_cases))
        .routes(routes!(get_case))
        .routes(routes!(case_step))
        .routes(routes!(order_follow_up_check))
        .routes(routes!(step_document))
        .routes(routes!(step_order))
        .routes(routes!(my_cases))
        .routes(routes!(submit_rectification))
        .routes(routes!(rule_sets, add_rule_set))
        .routes(routes!(select_rule_set))
        .routes(routes!(plan_overdue))
}

/// The caller's cases (a bureau's; an enterprise's own): `filter` open (default) | overdue | closed | all.
#[utoipa::path(get, path = "/api/v1/cases", tag = "cases", params(CaseQuery), security(("bearer" = [])),
    responses((status = 200, body = Paged<CaseView>), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list_cases(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(q): ApiQuery<CaseQuery>,
) -> ApiResult<Json<Paged<CaseView>>> {
    let p = cases::list(&st.services, &a, q).await?;
    Ok(Json(Paged { items: p.items, next: p.next }))
}

/// A case with its steps, deadlines and the actions the caller may take.
#[utoipa::path(get, path = "/api/v1/cases/{id}", params(("id" = i64, Path)), tag = "cases", security(("bearer" = [])),
    responses((status = 200, body = CaseDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_case(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<CaseDetail>> {
    Ok(Json(cases::get(&st.services, &a, id).await?))
}

/// Record a step of a case (the bureau that runs it). Refused out of order (409 `rule20_…`).
#[utoipa::path(post, path = "/api/v1/cases/{id}/steps", params(("id" = i64, Path)), tag = "cases", request_body = StepInput, security(("bearer" = [])),
    responses((status = 200, body = CaseDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn case_step(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(i): ApiJson<StepInput>,
) -> ApiResult<Json<CaseDetail>> {
    Ok(Json(cases::step(&st.services, &a, id, i).await?))
}

/// Order the case's 复查 as a sampling task for the same enterprise and product (the bureau that
/// runs the case). Refused when the case owes no 复查 or one is still open (409 `rule20_…`).
#[utoipa::path(post, path = "/api/v1/cases/{id}/follow-up-checks", params(("id" = i64, Path)), tag = "cases", request_body = FollowUpOrderInput, security(("bearer" = [])),
    responses((status = 200, body = CaseDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn order_follow_up_check(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(i): ApiJson<FollowUpOrderInput>,
) -> ApiResult<Json<CaseDetail>> {
    Ok(Json(cases::order_follow_up_check(&st.services, &a, id, i).await?))
}

/// The document of a step (the rectification report, a scanned order).
#[utoipa::path(get, path = "/api/v1/cases/{id}/steps/{step_id}/document", params(("id" = i64, Path), ("step_id" = i64, Path)), tag = "cases", security(("bearer" = [])),
    responses((status = 200, content_type = "application/octet-stream"), (status = 404, body = ErrorBody)))]
async fn step_document(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath((id, step_id)): ApiPath<(i64, i64)>,
) -> ApiResult<Response> {
    let (f, bytes) = cases::step_document(&st.services, &a, id, step_id).await?;
    Ok(file_response(f, bytes))
}

/// The order a stop-order or correction-order step recorded, as the 责令停止生产销售通知书 or
/// 责令整改通知书 (PDF) with the bureau's seal.
#[utoipa::path(get, path = "/api/v1/cases/{id}/steps/{step_id}/order", params(("id" = i64, Path), ("step_id" = i64, Path)), tag = "cases", security(("bearer" = [])),
    responses((status = 200, content_type = "application/pdf"), (status = 404, body = ErrorBody)))]
async fn step_order(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath((id, step_id)): ApiPath<(i64, i64)>,
) -> ApiResult<Response> {
    let pdf = cases::order_pdf(&st.services, &a, id, step_id).await?;
    Ok(crate::api::lab::pdf_response(pdf, &format!("case-{id}-order-{step_id}.pdf")))
}

/// The enterprise user's own cases.
#[utoipa::path(get, path = "/api/v1/my/cases", tag = "cases", security(("bearer" = [])),
    responses((status = 200, body = Vec<CaseView>), (status = 403, body = ErrorBody)))]
async fn my_cases(State(st): State<AppState>, ApiActor(a): ApiActor) -> ApiResult<Json<Vec<CaseView>>> {
    Ok(Json(cases::my_cases(&st.services, &a).await?))
}

/// The enterprise uploads its rectification report on its own case.
#[utoipa::path(post, path = "/api/v1/my/cases/{id}/rectification", params(("id" = i64, Path)), tag = "cases", request_body = RectificationInput, security(("bearer" = [])),
    responses((status = 201, body = CaseDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn submit_rectification(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(i): ApiJson<RectificationInput>,
) -> ApiResult<(StatusCode, Json<CaseDetail>)> {
    Ok((StatusCode::CREATED, Json(cases::submit_rectification(&st.services, &a, id, i).await?)))
}

/// The post-processing rule sets (versions) and which division applies which.
#[utoipa::path(get, path = "/api/v1/case-rule-sets", tag = "cases", security(("bearer" = [])),
    responses((status = 200, body = RuleSetsView), (status = 403, body = ErrorBody)))]
async fn rule_sets(State(st): State<AppState>, ApiActor(a): ApiActor) -> ApiResult<Json<RuleSetsView>> {
    Ok(Json(cases::rule_sets(&st.services, &a).await?))
}

/// Add a rule set or a new version of one (admins); open cases keep their version.
#[utoipa::path(post, path = "/api/v1/case-rule-sets", tag = "cases", request_body = RuleSetInput, security(("bearer" = [])),
    responses((status = 201, body = RuleSetView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn add_rule_set(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(i): ApiJson<RuleSetInput>,
) -> ApiResult<(StatusCode, Json<RuleSetView>)> {
    Ok((StatusCode::CREATED, Json(cases::add_rule_set(&st.services, &a, i).await?)))
}

/// Select the rule set a division (province, city or county; 000000 nationwide) applies to new cases.
#[utoipa::path(put, path = "/api/v1/case-rule-selections/{division_code}", params(("division_code" = String, Path)), tag = "cases", request_body = SelectionInput, security(("bearer" = [])),
    responses((status = 200, body = RuleSetsView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn select_rule_set(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(division_code): ApiPath<String>,
    ApiJson(i): ApiJson<SelectionInput>,
) -> ApiResult<Json<RuleSetsView>> {
    Ok(Json(cases::select_rule_set(&st.services, &a, &division_code, i).await?))
}

/// A plan's overdue disposals and case steps, with who owes them (the organising bureau, admins).
#[utoipa::path(get, path = "/api/v1/plans/{id}/followup-overdue", params(("id" = i64, Path)), tag = "cases", security(("bearer" = [])),
    responses((status = 200, body = Vec<OverdueWork>), (status = 404, body = ErrorBody)))]
async fn plan_overdue(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<OverdueWork>>> {
    Ok(Json(cases::plan_overdue(&st.services, &a, id).await?))
}
