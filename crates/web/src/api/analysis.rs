//! The written part of a plan's quality analysis: the testing institution's custodian writes and
//! submits its part; the organising bureau reads every part and may send one back.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use choucha_service::analysis_texts::{self as texts, AnalysisTextInput, AnalysisTextView};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::ApiActor;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(mine, save)).routes(routes!(parts)).routes(routes!(send_back))
}

/// The caller's institution's part of the plan's quality analysis (a custodian of one of the
/// plan's testing institutions).
#[utoipa::path(get, path = "/api/v1/plans/{id}/analysis/mine", params(("id" = i64, Path)), tag = "announcements", security(("bearer" = [])),
    responses((status = 200, body = AnalysisTextView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn mine(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<AnalysisTextView>> {
    Ok(Json(texts::mine(&st.services, &a, id).await?))
}

/// Save the caller's institution's part as a draft, or submit it (`submit: true`: every section
/// required; 409 `analysis_submitted` once submitted, until the bureau sends it back).
#[utoipa::path(put, path = "/api/v1/plans/{id}/analysis/mine", params(("id" = i64, Path)), request_body = AnalysisTextInput, tag = "announcements", security(("bearer" = [])),
    responses((status = 200, body = AnalysisTextView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn save(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<AnalysisTextInput>,
) -> ApiResult<Json<AnalysisTextView>> {
    Ok(Json(texts::save(&st.services, &a, id, input).await?))
}

/// Every testing institution's part, for the organising bureau (drafts are not shown).
#[utoipa::path(get, path = "/api/v1/plans/{id}/analysis/parts", params(("id" = i64, Path)), tag = "announcements", security(("bearer" = [])),
    responses((status = 200, body = Vec<AnalysisTextView>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn parts(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<AnalysisTextView>>> {
    Ok(Json(texts::of_plan(&st.services, &a, id).await?))
}

#[derive(Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct AnalysisReturnInput {
    pub reason: String,
}

/// Send an institution's submitted part back for changes, with the reason.
#[utoipa::path(post, path = "/api/v1/plans/{id}/analysis/parts/{org_id}/send-back", params(("id" = i64, Path), ("org_id" = i64, Path)), request_body = AnalysisReturnInput, tag = "announcements", security(("bearer" = [])),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn send_back(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath((id, org_id)): ApiPath<(i64, i64)>,
    ApiJson(input): ApiJson<AnalysisReturnInput>,
) -> ApiResult<StatusCode> {
    texts::send_back(&st.services, &a, id, org_id, &input.reason).await?;
    Ok(StatusCode::NO_CONTENT)
}
