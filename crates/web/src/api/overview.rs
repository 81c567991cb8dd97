//! API: a plan's overview for its organising bureau (quota progress, states, overdue duties).

use axum::Json;
use axum::extract::State;
use choucha_service::overview::{self, PlanOverview};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::ApiActor;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::ApiPath;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(plan_overview))
}

/// A plan's quota progress per item and shared quota, tasks and samples by state, results so far,
/// and every overdue duty with who owes it (the organising bureau).
#[utoipa::path(get, path = "/api/v1/plans/{id}/overview", params(("id" = i64, Path)), tag = "plans", security(("bearer" = [])),
    responses((status = 200, body = PlanOverview), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn plan_overview(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<PlanOverview>> {
    Ok(Json(overview::plan_overview(&st.services, &a, id).await?))
}
