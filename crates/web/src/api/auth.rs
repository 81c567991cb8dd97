//! `POST /api/v1/auth/token`, `DELETE /api/v1/auth/token`, `GET /api/v1/me`, and the caller's own
//! sessions and tokens: `GET /api/v1/me/sessions`, `DELETE /api/v1/me/sessions/{id}`. Issuing a
//! token takes the password, never a session; revoking one takes that token (`BearerActor`), never
//! the cookie.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use choucha_service::auth::own_sessions::{self, SessionView};
use choucha_service::second_factor::{self, Enrolment, SecondFactorStatus};
use choucha_service::signature::{self, StoredSignatureInput, StoredSignatureView};
use choucha_service::{Actor, auth};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{ApiActor, BearerActor, bearer_token};
use crate::client::ClientInfo;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(issue_token, revoke_token))
        .routes(routes!(me))
        .routes(routes!(my_sessions))
        .routes(routes!(end_my_session))
        .routes(routes!(my_second_factor, start_second_factor))
        .routes(routes!(confirm_second_factor))
        .routes(routes!(my_signature, store_my_signature, remove_my_signature))
}

/// The caller's stored signature (PNG, base64), used when signing with `use_stored_signature`.
#[utoipa::path(get, path = "/api/v1/me/signature", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = StoredSignatureView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn my_signature(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> ApiResult<Json<StoredSignatureView>> {
    signature::mine(&state.services, &actor)
        .await?
        .map(Json)
        .ok_or(ApiError(choucha_service::ServiceError::NotFound("已保存的签名")))
}

/// Store (or replace) the caller's signature image.
#[utoipa::path(put, path = "/api/v1/me/signature", tag = "auth", security(("bearer" = [])), request_body = StoredSignatureInput,
    responses((status = 200, body = StoredSignatureView), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn store_my_signature(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(input): ApiJson<StoredSignatureInput>,
) -> ApiResult<Json<StoredSignatureView>> {
    Ok(Json(signature::store_mine(&state.services, &actor, input).await?))
}

/// Remove the caller's stored signature.
#[utoipa::path(delete, path = "/api/v1/me/signature", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn remove_my_signature(State(state): State<AppState>, ApiActor(actor): ApiActor) -> ApiResult<StatusCode> {
    signature::remove_mine(&state.services, &actor).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct TokenRequest {
    pub username: String,
    pub password: String,
    /// The authenticator's 6-digit code (or a recovery code), for an account with a second factor.
    #[serde(default)]
    pub code: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    pub token: String,
    pub token_type: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// Exchange username and password for a bearer token (it lives 2 hours unless the deployment says
/// otherwise). Wrong names, wrong passwords and locked accounts get the same 401; consecutive
/// failures lock the account, and too many attempts from one address get 429. An account with a
/// second factor also gives `code` (401 `second_factor_required` without it, 401
/// `bad_second_factor` for a wrong one); a user whose roles require a second factor and who has
/// none enrolled gets 403 `second_factor_enrolment_required`.
#[utoipa::path(post, path = "/api/v1/auth/token", tag = "auth", request_body = TokenRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
async fn issue_token(
    State(state): State<AppState>,
    ClientInfo(client): ClientInfo,
    ApiJson(req): ApiJson<TokenRequest>,
) -> ApiResult<Json<TokenResponse>> {
    let t = auth::issue_token_with_code(&state.services, &req.username, &req.password, req.code.as_deref(), &client)
        .await?;
    Ok(Json(TokenResponse { token: t.token, token_type: t.token_type.into(), expires_at: t.expires_at }))
}

/// Revoke the token used for this request. A bearer token only: the pages' session cookie is not
/// accepted here (a session ends by signing out of the pages).
#[utoipa::path(delete, path = "/api/v1/auth/token", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
async fn revoke_token(
    State(state): State<AppState>,
    BearerActor { actor, token }: BearerActor,
) -> ApiResult<StatusCode> {
    auth::revoke_token(&state.services, &actor, &token).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct Me {
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    pub roles: Vec<String>,
    pub org_id: Option<i64>,
    pub org_name: Option<String>,
    pub enterprise_id: Option<i64>,
}

impl From<Actor> for Me {
    fn from(a: Actor) -> Self {
        Me {
            user_id: a.user_id,
            username: a.username,
            display_name: a.display_name,
            roles: a.roles.iter().map(|r| r.as_str().to_string()).collect(),
            org_id: a.org_id,
            org_name: a.org_name,
            enterprise_id: a.enterprise_id,
        }
    }
}

/// The caller.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
async fn me(ApiActor(actor): ApiActor) -> Json<Me> {
    Json(actor.into())
}

/// The caller's own page sessions and API tokens that are still live (created, last used, address,
/// user agent); `current` marks the one of this request.
#[utoipa::path(get, path = "/api/v1/me/sessions", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Vec<SessionView>), (status = 401, body = ErrorBody)))]
async fn my_sessions(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    headers: HeaderMap,
    session: Session,
) -> ApiResult<Json<Vec<SessionView>>> {
    let current = match bearer_token(&headers) {
        Some(t) => Some(t.to_string()),
        None => session.id().map(|id| id.to_string()),
    };
    Ok(Json(own_sessions::list(&state.services, &actor, current.as_deref()).await?))
}

/// End one of the caller's own sessions or tokens (`id` from `GET /api/v1/me/sessions`).
#[utoipa::path(delete, path = "/api/v1/me/sessions/{id}", tag = "auth", security(("bearer" = [])),
    params(("id" = String, Path, description = "会话编号（s…为网页会话，t…为 API 令牌）")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn end_my_session(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    own_sessions::end(&state.services, &actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's second factor: whether one is enrolled, and the recovery codes left.
#[utoipa::path(get, path = "/api/v1/me/second-factor", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = SecondFactorStatus), (status = 401, body = ErrorBody)))]
async fn my_second_factor(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> ApiResult<Json<SecondFactorStatus>> {
    Ok(Json(second_factor::status(&state.services, &actor).await?))
}

/// Start enrolling a second factor: a new secret, its `otpauth://` URL and QR code (PNG, base64).
/// Not in force until confirmed; refused (409) while one is in force.
#[utoipa::path(post, path = "/api/v1/me/second-factor", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Enrolment), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn start_second_factor(State(state): State<AppState>, ApiActor(actor): ApiActor) -> ApiResult<Json<Enrolment>> {
    Ok(Json(second_factor::start(&state.services, &actor).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct SecondFactorCode {
    /// The 6-digit code the authenticator shows now.
    pub code: String,
}

#[derive(Serialize, ToSchema)]
pub struct RecoveryCodes {
    /// Ten one-time recovery codes, shown this once.
    pub recovery_codes: Vec<String>,
}

/// Confirm the enrolment with a current code; answers the ten recovery codes, shown once.
#[utoipa::path(post, path = "/api/v1/me/second-factor/confirm", tag = "auth", security(("bearer" = [])),
    request_body = SecondFactorCode,
    responses((status = 200, body = RecoveryCodes), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn confirm_second_factor(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(body): ApiJson<SecondFactorCode>,
) -> ApiResult<Json<RecoveryCodes>> {
    let recovery_codes = second_factor::confirm(&state.services, &actor, &body.code).await?;
    Ok(Json(RecoveryCodes { recovery_codes }))
}
