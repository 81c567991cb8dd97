//! Users over the API: `GET/POST /api/v1/users`, `GET/PUT /api/v1/users/{id}`,
//! `POST /api/v1/users/{id}/password` (admin reset), `POST /api/v1/users/{id}/unlock` (lifting a
//! sign-in lock) and `POST /api/v1/me/password` (own password).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use choucha_domain::RuleViolation;
use choucha_service::users::UserFilter;
use choucha_service::users::{self, NewUserInput, RolesInput, UserUpdateInput, UserView};
use choucha_service::{ServiceError, organisations};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::ApiActor;
use crate::client::ClientInfo;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, update_user))
        .routes(routes!(set_roles))
        .routes(routes!(reset_password))
        .routes(routes!(unlock_user))
        .routes(routes!(reset_second_factor))
        .routes(routes!(change_own_password))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserListQuery {
    /// Username or name contains.
    pub q: Option<String>,
    /// Role code, e.g. `tester`.
    pub role: Option<String>,
    /// Organisation code.
    pub org_code: Option<String>,
    /// Organisation id.
    pub org_id: Option<i64>,
    /// Cursor: `next` of the previous page.
    pub after: Option<i64>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<u64>,
}

/// One page of users.
#[derive(Serialize, ToSchema)]
pub struct UserPage {
    pub items: Vec<UserView>,
    /// Cursor of the next page (`after`), absent on the last page.
    pub next: Option<String>,
}

/// Users, in creation order, keyset paginated (admins).
#[utoipa::path(get, path = "/api/v1/users", tag = "users", security(("bearer" = [])), params(UserListQuery),
    responses((status = 200, body = UserPage), (status = 403, body = ErrorBody)))]
async fn list_users(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(q): ApiQuery<UserListQuery>,
) -> ApiResult<Json<UserPage>> {
    let s = &state.services;
    let org_id = match (q.org_id, q.org_code.as_deref().map(str::trim).filter(|c| !c.is_empty())) {
        (Some(id), _) => Some(id),
        (None, Some(code)) => match organisations::get_by_code(s, code).await? {
            Some(o) => Some(o.id),
            None => {
                return Err(ServiceError::invalid(
                    RuleViolation::new("unknown_org", format!("机构“{code}”不存在")).on_field("org_code"),
                )
                .into());
            }
        },
        (None, None) => None,
    };
    let filter = UserFilter { org_id, role: q.role, q: q.q };
    let page = users::list(s, &actor, &filter, q.after, q.limit).await?;
    Ok(Json(UserPage { items: page.items, next: page.next }))
}

/// Create a user (admins). Several roles may be given; each must fit the organisation.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", security(("bearer" = [])), request_body = NewUserInput,
    responses((status = 201, body = UserView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_user(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(input): ApiJson<NewUserInput>,
) -> ApiResult<(StatusCode, Json<UserView>)> {
    let u = users::create(&state.services, &actor, input).await?;
    Ok((StatusCode::CREATED, Json(u)))
}

/// One user (admins; any user may read their own).
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = i64, Path, description = "用户编号")),
    responses((status = 200, body = UserView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_user(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<UserView>> {
    Ok(Json(users::get(&state.services, &actor, id).await?))
}

/// Edit a user's name, organisation, contact and whether the account is active (the system
/// administrator; roles are granted apart). Deactivating a user revokes their API tokens.
#[utoipa::path(put, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = i64, Path, description = "用户编号")), request_body = UserUpdateInput,
    responses((status = 200, body = UserView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_user(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<UserUpdateInput>,
) -> ApiResult<Json<UserView>> {
    Ok(Json(users::update(&state.services, &actor, id, input).await?))
}

/// Grant and revoke a user's roles, all at once (the security administrator, 三权分立). The
/// user's API tokens stop working; the change is audited with the roles before and after.
#[utoipa::path(put, path = "/api/v1/users/{id}/roles", tag = "users", security(("bearer" = [])),
    params(("id" = i64, Path, description = "用户编号")), request_body = RolesInput,
    responses((status = 200, body = UserView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn set_roles(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<RolesInput>,
) -> ApiResult<Json<UserView>> {
    Ok(Json(users::set_roles(&state.services, &actor, id, input).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct PasswordReset {
    /// The new password (at least 10 characters of three of: upper-case, lower-case, digits,
    /// other; not containing the username; not a common password; none of the last 5). The user
    /// must change it at the next sign-in.
    pub password: String,
}

/// Set a new password for a user (admins). The user's API tokens stop working.
#[utoipa::path(post, path = "/api/v1/users/{id}/password", tag = "users", security(("bearer" = [])),
    params(("id" = i64, Path, description = "用户编号")), request_body = PasswordReset,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn reset_password(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<PasswordReset>,
) -> ApiResult<StatusCode> {
    users::reset_password(&state.services, &actor, id, &body.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Lift the sign-in lock of a user (and clear their failed sign-ins); recorded with the caller's
/// address.
#[utoipa::path(post, path = "/api/v1/users/{id}/unlock", tag = "users", security(("bearer" = [])),
    params(("id" = i64, Path, description = "用户编号")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn unlock_user(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ClientInfo(client): ClientInfo,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    choucha_service::auth::lockout::unlock(&state.services, &actor, id, &client).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove a user's second factor (a lost phone): the user enrols again at the next sign-in where
/// the policy requires one. The security administrator only.
#[utoipa::path(delete, path = "/api/v1/users/{id}/second-factor", tag = "users", security(("bearer" = [])),
    params(("id" = i64, Path, description = "用户编号")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn reset_second_factor(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    choucha_service::second_factor::reset(&state.services, &actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct OwnPasswordChange {
    pub old_password: String,
    pub new_password: String,
}

/// Change the caller's own password. Every session and API token of the caller ends (this one
/// too): sign in again with the new password.
#[utoipa::path(post, path = "/api/v1/me/password", tag = "users", security(("bearer" = [])), request_body = OwnPasswordChange,
    responses((status = 204), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn change_own_password(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(body): ApiJson<OwnPasswordChange>,
) -> ApiResult<StatusCode> {
    users::change_own_password(&state.services, &actor, &body.old_password, &body.new_password).await?;
    Ok(StatusCode::NO_CONTENT)
}
