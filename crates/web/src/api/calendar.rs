//! The working-day calendar over the API: `GET /api/v1/calendar/{year}`, `PUT /api/v1/calendar/days`,
//! `DELETE /api/v1/calendar/days/{date}` and `GET /api/v1/calendar/deadline`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use choucha_domain::RuleViolation;
use choucha_service::ServiceError;
use choucha_service::calendar::{self, DayInput, DayView, DeadlineView, YearView};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::ApiActor;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(deadline))
        .routes(routes!(set_day))
        .routes(routes!(delete_day))
        .routes(routes!(year))
}

/// The special days (holidays and make-up workdays) of a year.
#[utoipa::path(get, path = "/api/v1/calendar/{year}", tag = "calendar", security(("bearer" = [])),
    params(("year" = i32, Path, description = "年份，如 2025")),
    responses((status = 200, body = YearView), (status = 422, body = ErrorBody)))]
async fn year(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(year): ApiPath<String>,
) -> ApiResult<Json<YearView>> {
    let year = year.trim().parse::<i32>().map_err(|_| {
        ServiceError::invalid(RuleViolation::new("invalid_year", format!("年份“{year}”无效")).on_field("year"))
    })?;
    Ok(Json(calendar::year(&state.services, &actor, year).await?))
}

/// Add or change a special day (admins).
#[utoipa::path(put, path = "/api/v1/calendar/days", tag = "calendar", security(("bearer" = [])), request_body = DayInput,
    responses((status = 200, body = DayView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn set_day(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(input): ApiJson<DayInput>,
) -> ApiResult<Json<DayView>> {
    Ok(Json(calendar::set_day(&state.services, &actor, input).await?))
}

/// Remove a special day (admins): the date then follows its weekday.
#[utoipa::path(delete, path = "/api/v1/calendar/days/{date}", tag = "calendar", security(("bearer" = [])),
    params(("date" = String, Path, description = "日期，如 2025-10-11")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete_day(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(date): ApiPath<String>,
) -> ApiResult<StatusCode> {
    calendar::delete_day(&state.services, &actor, &date).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeadlineQuery {
    /// Start date, YYYY-MM-DD (the day itself does not count).
    pub start: String,
    /// Number of days.
    pub days: u32,
    /// Count working days (default) or calendar days.
    #[serde(default = "yes")]
    pub working: bool,
}

fn yes() -> bool {
    true
}

/// The last day of a time limit of `days` working or calendar days after `start`.
#[utoipa::path(get, path = "/api/v1/calendar/deadline", tag = "calendar", security(("bearer" = [])), params(DeadlineQuery),
    responses((status = 200, body = DeadlineView), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn deadline(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(q): ApiQuery<DeadlineQuery>,
) -> ApiResult<Json<DeadlineView>> {
    Ok(Json(calendar::deadline(&state.services, &actor, &q.start, q.days, q.working).await?))
}
