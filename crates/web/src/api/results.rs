//! API: delivery of results (送达, rules 16 and 17) — an issued report's deliveries, recording a
//! delivery, the caller's open or overdue deliveries, and the result notice PDF.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use choucha_service::objections::{self, DecisionInput, ObjectionInput, ObjectionView, OwnResult};
use choucha_service::results::{self, DeliveryInput, DeliveryQuery, DeliveryView};
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
        .routes(routes!(of_report))
        .routes(routes!(list))
        .routes(routes!(record))
        .routes(routes!(result_notice))
        .routes(routes!(my_results))
        // Attachments travel as base64 in the JSON: up to five files of 20 MB.
        .merge(
            OpenApiRouter::new().routes(routes!(file_objection)).layer(axum::extract::DefaultBodyLimit::max(
                5 * choucha_service::disposal::PROOF_MAX * 4 / 3 + 64 * 1024,
            )),
        )
        .routes(routes!(objection_attachment))
        .routes(routes!(bureau_objections))
        .routes(routes!(decide_objection))
}

/// Who must receive an issued report, what, by when, and how it was delivered (the custodian of the
/// testing institution, the organising bureau; testers are blind and get 404).
#[utoipa::path(get, path = "/api/v1/lab/reports/{id}/deliveries", params(("id" = i64, Path)), tag = "results", security(("bearer" = [])),
    responses((status = 200, body = Vec<DeliveryView>), (status = 404, body = ErrorBody)))]
async fn of_report(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<DeliveryView>>> {
    Ok(Json(results::of_report(&st.services, &a, id).await?))
}

/// The caller's deliveries: `state` open (default) | pending | sent | received | all; `overdue=true`
/// for those past their due date and not delivered.
#[utoipa::path(get, path = "/api/v1/deliveries", tag = "results", params(DeliveryQuery), security(("bearer" = [])),
    responses((status = 200, body = Paged<DeliveryView>), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(q): ApiQuery<DeliveryQuery>,
) -> ApiResult<Json<Paged<DeliveryView>>> {
    let p = results::list(&st.services, &a, q).await?;
    Ok(Json(Paged { items: p.items, next: p.next }))
}

/// Record a delivery: `in_person` (received_on, receiver_name and the receiver's signature) or
/// `ems` (tracking_no, sent_on; received_on when known, or later in a second call).
#[utoipa::path(post, path = "/api/v1/deliveries/{id}", params(("id" = i64, Path)), tag = "results", request_body = DeliveryInput, security(("bearer" = [])),
    responses((status = 200, body = DeliveryView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn record(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(i): ApiJson<DeliveryInput>,
) -> ApiResult<Json<DeliveryView>> {
    Ok(Json(results::record_delivery(&st.services, &a, id, i).await?))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NoticeQuery {
    /// enterprise (default) | producer
    #[serde(default)]
    pub to: Option<String>,
}

/// The result notice (检验结果告知书) of an issued report, to the enterprise or the nominal producer.
#[utoipa::path(get, path = "/api/v1/lab/reports/{id}/result-notice.pdf", tag = "results", params(("id" = i64, Path), NoticeQuery), security(("bearer" = [])),
    responses((status = 200, content_type = "application/pdf"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn result_notice(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<NoticeQuery>,
) -> ApiResult<Response> {
    let pdf = results::result_notice_pdf(&st.services, &a, id, q.to.as_deref()).await?;
    Ok(pdf_response(pdf, &format!("result-notice-{id}.pdf")))
}

// ---- The enterprise's results and objections (rule 18) ----------------------------------------

/// The enterprise user's own issued results, with the objection deadline and its requests.
#[utoipa::path(get, path = "/api/v1/my/results", tag = "results", security(("bearer" = [])),
    responses((status = 200, body = Vec<OwnResult>), (status = 403, body = ErrorBody)))]
async fn my_results(State(st): State<AppState>, ApiActor(a): ApiActor) -> ApiResult<Json<Vec<OwnResult>>> {
    Ok(Json(objections::my_results(&st.services, &a).await?))
}

/// File an objection or a re-test request on an own result, within 15 days of its receipt; a late
/// one is refused (409 `rule18_objection_expired`) with the day the window closed.
#[utoipa::path(post, path = "/api/v1/my/results/{report_id}/objections", params(("report_id" = i64, Path)), tag = "results", request_body = ObjectionInput, security(("bearer" = [])),
    responses((status = 201, body = ObjectionView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn file_objection(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(report_id): ApiPath<i64>,
    ApiJson(i): ApiJson<ObjectionInput>,
) -> ApiResult<(StatusCode, Json<ObjectionView>)> {
    Ok((StatusCode::CREATED, Json(objections::file(&st.services, &a, report_id, i).await?)))
}

/// An attachment of an objection (by its SHA-256), for the enterprise that filed it and the
/// organising bureau; 404 for anyone else.
#[utoipa::path(get, path = "/api/v1/objections/{id}/attachments/{sha256}", params(("id" = i64, Path), ("sha256" = String, Path)), tag = "results", security(("bearer" = [])),
    responses((status = 200, content_type = "application/octet-stream"), (status = 404, body = ErrorBody)))]
async fn objection_attachment(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath((id, sha256)): ApiPath<(i64, String)>,
) -> ApiResult<Response> {
    let (f, bytes) = objections::attachment(&st.services, &a, id, &sha256).await?;
    Ok(crate::api::disposals::file_response(f, bytes))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ObjectionQuery {
    /// pending | accepted | rejected (all when absent)
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub cursor: Option<String>,
    #[serde(default)]
    pub limit: Option<u64>,
}

/// The organising bureau's objections and re-test requests.
#[utoipa::path(get, path = "/api/v1/objections", tag = "results", params(ObjectionQuery), security(("bearer" = [])),
    responses((status = 200, body = Paged<ObjectionView>), (status = 403, body = ErrorBody)))]
async fn bureau_objections(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(q): ApiQuery<ObjectionQuery>,
) -> ApiResult<Json<Paged<ObjectionView>>> {
    let before = q.cursor.as_deref().and_then(|c| c.parse().ok());
    let p = objections::of_bureau(&st.services, &a, crate::extract::parse_state(q.state.as_deref())?, before, q.limit)
        .await?;
    Ok(Json(Paged { items: p.items, next: p.next }))
}

/// The organising bureau accepts or rejects (with reasons) an objection or re-test request.
#[utoipa::path(post, path = "/api/v1/objections/{id}/decision", params(("id" = i64, Path)), tag = "results", request_body = DecisionInput, security(("bearer" = [])),
    responses((status = 200, body = ObjectionView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn decide_objection(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(i): ApiJson<DecisionInput>,
) -> ApiResult<Json<ObjectionView>> {
    Ok(Json(objections::decide(&st.services, &a, id, i).await?))
}
