//! Organisations over the API: `GET/POST /api/v1/organisations`, `GET/PUT /api/v1/organisations/{id}`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use choucha_domain::RuleViolation;
use choucha_service::ServiceError;
use choucha_service::organisations::OrgFilter;
use choucha_service::organisations::{self, OrgInput, OrgView};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::ApiActor;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_orgs, create_org)).routes(routes!(get_org, update_org))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrgListQuery {
    /// Name or code contains.
    pub q: Option<String>,
    /// province_bureau | city_bureau | local_bureau | institution
    pub kind: Option<String>,
    /// Code of the parent organisation (its direct children are listed).
    pub parent_code: Option<String>,
    /// sampling | testing | screening
    pub capability: Option<String>,
    /// Cursor: `next` of the previous page.
    pub after: Option<i64>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<u64>,
}

/// One page of organisations.
#[derive(Serialize, ToSchema)]
pub struct OrgPage {
    pub items: Vec<OrgView>,
    /// Cursor of the next page (`after`), absent on the last page.
    pub next: Option<String>,
}

/// Organisations in creation order, keyset paginated (every signed-in user except enterprises).
#[utoipa::path(get, path = "/api/v1/organisations", tag = "organisations", security(("bearer" = [])), params(OrgListQuery),
    responses((status = 200, body = OrgPage), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list_orgs(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(q): ApiQuery<OrgListQuery>,
) -> ApiResult<Json<OrgPage>> {
    let s = &state.services;
    let parent_id = match q.parent_code.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        None => None,
        Some(code) => match organisations::get_by_code(s, code).await? {
            Some(o) => Some(o.id),
            None => {
                return Err(ServiceError::invalid(
                    RuleViolation::new("unknown_parent", format!("上级机构“{code}”不存在")).on_field("parent_code"),
                )
                .into());
            }
        },
    };
    let filter = OrgFilter { kind: q.kind, parent_id, q: q.q, capability: q.capability };
    let page = organisations::list(s, &actor, &filter, q.after, q.limit).await?;
    Ok(Json(OrgPage { items: page.items, next: page.next }))
}

/// Create an organisation (admins).
#[utoipa::path(post, path = "/api/v1/organisations", tag = "organisations", security(("bearer" = [])), request_body = OrgInput,
    responses((status = 201, body = OrgView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_org(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(input): ApiJson<OrgInput>,
) -> ApiResult<(StatusCode, Json<OrgView>)> {
    let o = organisations::create(&state.services, &actor, input).await?;
    Ok((StatusCode::CREATED, Json(o)))
}

/// One organisation.
#[utoipa::path(get, path = "/api/v1/organisations/{id}", tag = "organisations", security(("bearer" = [])),
    params(("id" = i64, Path, description = "机构编号")),
    responses((status = 200, body = OrgView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_org(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<OrgView>> {
    Ok(Json(organisations::get(&state.services, &actor, id).await?))
}

/// Edit an organisation (admins).
#[utoipa::path(put, path = "/api/v1/organisations/{id}", tag = "organisations", security(("bearer" = [])),
    params(("id" = i64, Path, description = "机构编号")), request_body = OrgInput,
    responses((status = 200, body = OrgView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_org(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<OrgInput>,
) -> ApiResult<Json<OrgView>> {
    Ok(Json(organisations::update(&state.services, &actor, id, input).await?))
}
