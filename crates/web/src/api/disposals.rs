//! API: sample disposals (rule 19) with the provincial disposal rules, and the stored files that
//! disposals and post-processing cases keep (proofs, step documents).

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use choucha_service::disposal::{
    self, DisposalInput, DisposalQuery, DisposalRuleInput, DisposalRuleView, DisposalView, StoredFile,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::api::lab::Paged;
use crate::auth::ApiActor;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_disposals))
        .routes(routes!(get_disposal, record_disposal))
        .routes(routes!(disposal_proof))
        .routes(routes!(disposal_rules))
        .routes(routes!(set_disposal_rule))
}

/// A stored file as a download.
pub fn file_response(f: StoredFile, bytes: Vec<u8>) -> Response {
    let name: String =
        f.file_name.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')).collect();
    (
        [
            (header::CONTENT_TYPE, f.content_type),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{}\"", if name.is_empty() { "file" } else { name.as_str() }),
            ),
            (header::CACHE_CONTROL, "private, max-age=3600".to_string()),
        ],
        bytes,
    )
        .into_response()
}

/// The caller's disposals (the custodian's institution, the organising bureau): `filter` due
/// (default) | overdue | open | done | all.
#[utoipa::path(get, path = "/api/v1/disposals", tag = "disposals", params(DisposalQuery), security(("bearer" = [])),
    responses((status = 200, body = Paged<DisposalView>), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list_disposals(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(q): ApiQuery<DisposalQuery>,
) -> ApiResult<Json<Paged<DisposalView>>> {
    let p = disposal::list(&st.services, &a, q).await?;
    Ok(Json(Paged { items: p.items, next: p.next }))
}

#[utoipa::path(get, path = "/api/v1/disposals/{id}", params(("id" = i64, Path)), tag = "disposals", security(("bearer" = [])),
    responses((status = 200, body = DisposalView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_disposal(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<DisposalView>> {
    Ok(Json(disposal::get(&st.services, &a, id).await?))
}

/// Record a due disposal (the testing institution's custodian): method, recipient, date and proof.
/// Refused before the objection window closes (409 `rule19_window_open`), while an objection is
/// open, or by a method rule 19 does not allow (409 `rule19_must_return` / `rule19_must_hand_over`).
#[utoipa::path(post, path = "/api/v1/disposals/{id}", params(("id" = i64, Path)), tag = "disposals", request_body = DisposalInput, security(("bearer" = [])),
    responses((status = 200, body = DisposalView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn record_disposal(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(i): ApiJson<DisposalInput>,
) -> ApiResult<Json<DisposalView>> {
    Ok(Json(disposal::record(&st.services, &a, id, i).await?))
}

/// The proof (photo or scanned receipt) of a recorded disposal.
#[utoipa::path(get, path = "/api/v1/disposals/{id}/proof", params(("id" = i64, Path)), tag = "disposals", security(("bearer" = [])),
    responses((status = 200, content_type = "application/octet-stream"), (status = 404, body = ErrorBody)))]
async fn disposal_proof(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    let (f, bytes) = disposal::proof(&st.services, &a, id).await?;
    Ok(file_response(f, bytes))
}

/// The provincial disposal rules (paid samples) and overdue days; 000000 is the national default.
#[utoipa::path(get, path = "/api/v1/disposal-rules", tag = "disposals", security(("bearer" = [])),
    responses((status = 200, body = Vec<DisposalRuleView>), (status = 403, body = ErrorBody)))]
async fn disposal_rules(State(st): State<AppState>, ApiActor(a): ApiActor) -> ApiResult<Json<Vec<DisposalRuleView>>> {
    Ok(Json(disposal::rules_list(&st.services, &a).await?))
}

/// Set a province's disposal rule (admins).
#[utoipa::path(put, path = "/api/v1/disposal-rules/{division_code}", params(("division_code" = String, Path)), tag = "disposals", request_body = DisposalRuleInput, security(("bearer" = [])),
    responses((status = 200, body = DisposalRuleView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn set_disposal_rule(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(division_code): ApiPath<String>,
    ApiJson(i): ApiJson<DisposalRuleInput>,
) -> ApiResult<Json<DisposalRuleView>> {
    Ok(Json(disposal::set_rule(&st.services, &a, &division_code, i).await?))
}
