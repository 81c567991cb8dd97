//! API: a plan's results for its organising bureau (issue 6) — result announcements (draft, edit,
//! approve, publish, correct, withdraw), the summary table (XLSX), the quality analysis report and
//! the bound volume (PDF), the plan's figures — and the published announcements, public without
//! signing in.

use axum::Json;
use axum::extract::State;
use axum::response::Response;
use choucha_service::announcements::{
    self as ann, AnnouncementEdit, AnnouncementView, PublicAnnouncement, PublicSummary, PublishInput,
};
use choucha_service::statistics::{self, PlanFigures, QualityAnalysis};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::api::lab::{Paged, pdf_response};
use crate::api::plans::summary_download;
use crate::auth::ApiActor;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(of_plan, draft))
        .routes(routes!(get, update))
        .routes(routes!(approve))
        .routes(routes!(return_to_draft))
        .routes(routes!(publish))
        .routes(routes!(withdraw))
        .routes(routes!(correct))
        .routes(routes!(public_list))
        .routes(routes!(public_get))
        .routes(routes!(public_pdf))
        .routes(routes!(figures))
        .routes(routes!(summary_xlsx))
        .routes(routes!(analysis))
        .routes(routes!(analysis_pdf))
        .routes(routes!(bound_volume))
}

/// A plan's announcements, newest first (the organising bureau).
#[utoipa::path(get, path = "/api/v1/plans/{id}/announcements", params(("id" = i64, Path)), tag = "announcements", security(("bearer" = [])),
    responses((status = 200, body = Vec<AnnouncementView>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn of_plan(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<AnnouncementView>>> {
    Ok(Json(ann::of_plan(&st.services, &a, id).await?))
}

/// Draft the plan's result announcement from its issued reports and final refusals.
#[utoipa::path(post, path = "/api/v1/plans/{id}/announcements", params(("id" = i64, Path)), tag = "announcements", security(("bearer" = [])),
    responses((status = 200, body = AnnouncementView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn draft(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<AnnouncementView>> {
    Ok(Json(ann::draft(&st.services, &a, id).await?))
}

#[utoipa::path(get, path = "/api/v1/announcements/{id}", params(("id" = i64, Path)), tag = "announcements", security(("bearer" = [])),
    responses((status = 200, body = AnnouncementView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<AnnouncementView>> {
    Ok(Json(ann::get(&st.services, &a, id).await?))
}

/// Edit a draft: title, preface, and the rows left out (each with its reason).
#[utoipa::path(put, path = "/api/v1/announcements/{id}", params(("id" = i64, Path)), tag = "announcements", request_body = AnnouncementEdit, security(("bearer" = [])),
    responses((status = 200, body = AnnouncementView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(e): ApiJson<AnnouncementEdit>,
) -> ApiResult<Json<AnnouncementView>> {
    Ok(Json(ann::update(&st.services, &a, id, e).await?))
}

/// Approve a draft: a regulator of the organising bureau other than its drafter.
#[utoipa::path(post, path = "/api/v1/announcements/{id}/approve", params(("id" = i64, Path)), tag = "announcements", security(("bearer" = [])),
    responses((status = 200, body = AnnouncementView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn approve(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<AnnouncementView>> {
    Ok(Json(ann::approve(&st.services, &a, id).await?))
}

/// Send an approved announcement back to draft.
#[utoipa::path(post, path = "/api/v1/announcements/{id}/return", params(("id" = i64, Path)), tag = "announcements", security(("bearer" = [])),
    responses((status = 200, body = AnnouncementView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn return_to_draft(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<AnnouncementView>> {
    Ok(Json(ann::return_to_draft(&st.services, &a, id).await?))
}

/// Publish an approved announcement (its content is frozen). While an included result's objection
/// window is open, 409 `announcement_objection_open` unless `open_objection_reason` is given.
#[utoipa::path(post, path = "/api/v1/announcements/{id}/publish", params(("id" = i64, Path)), request_body = PublishInput, tag = "announcements", security(("bearer" = [])),
    responses((status = 200, body = AnnouncementView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn publish(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<PublishInput>,
) -> ApiResult<Json<AnnouncementView>> {
    Ok(Json(ann::publish(&st.services, &a, id, input).await?))
}

#[derive(Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct ReasonInput {
    pub reason: String,
}

/// Withdraw a published announcement, with the reason shown to the public.
#[utoipa::path(post, path = "/api/v1/announcements/{id}/withdraw", params(("id" = i64, Path)), tag = "announcements", request_body = ReasonInput, security(("bearer" = [])),
    responses((status = 200, body = AnnouncementView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn withdraw(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(r): ApiJson<ReasonInput>,
) -> ApiResult<Json<AnnouncementView>> {
    Ok(Json(ann::withdraw(&st.services, &a, id, &r.reason).await?))
}

/// Draft a correction of a published announcement (approved and published like any other; on
/// publication the earlier one is marked corrected).
#[utoipa::path(post, path = "/api/v1/announcements/{id}/corrections", params(("id" = i64, Path)), tag = "announcements", request_body = ReasonInput, security(("bearer" = [])),
    responses((status = 200, body = AnnouncementView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn correct(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(r): ApiJson<ReasonInput>,
) -> ApiResult<Json<AnnouncementView>> {
    Ok(Json(ann::draft_correction(&st.services, &a, id, &r.reason).await?))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CursorQuery {
    #[serde(default)]
    pub cursor: Option<String>,
    #[serde(default)]
    pub limit: Option<u64>,
}

/// Published announcements (also those since corrected or withdrawn), newest first. No sign-in.
#[utoipa::path(get, path = "/api/v1/public/announcements", tag = "announcements", params(CursorQuery),
    responses((status = 200, body = Paged<PublicSummary>)))]
async fn public_list(
    State(st): State<AppState>,
    ApiQuery(q): ApiQuery<CursorQuery>,
) -> ApiResult<Json<Paged<PublicSummary>>> {
    let cursor = q.cursor.as_deref().and_then(|c| c.trim().parse::<i64>().ok());
    let p = ann::list_public(&st.services, cursor, q.limit).await?;
    Ok(Json(Paged { items: p.items, next: p.next }))
}

/// A published announcement's frozen content. No sign-in; drafts are 404.
#[utoipa::path(get, path = "/api/v1/public/announcements/{id}", params(("id" = i64, Path)), tag = "announcements",
    responses((status = 200, body = PublicAnnouncement), (status = 404, body = ErrorBody)))]
async fn public_get(State(st): State<AppState>, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<PublicAnnouncement>> {
    Ok(Json(ann::get_public(&st.services, id).await?))
}

/// A published announcement as PDF. No sign-in.
#[utoipa::path(get, path = "/api/v1/public/announcements/{id}/pdf", params(("id" = i64, Path)), tag = "announcements",
    responses((status = 200, content_type = "application/pdf"), (status = 404, body = ErrorBody)))]
async fn public_pdf(State(st): State<AppState>, ApiPath(id): ApiPath<i64>) -> ApiResult<Response> {
    let pdf = ann::public_pdf(&st.services, id).await?;
    Ok(pdf_response(pdf, &format!("announcement-{id}.pdf")))
}

/// The plan's figures: sampled, qualified, unqualified, refusals, per item.
#[utoipa::path(get, path = "/api/v1/plans/{id}/figures", params(("id" = i64, Path)), tag = "announcements", security(("bearer" = [])),
    responses((status = 200, body = PlanFigures), (status = 403, body = ErrorBody)))]
async fn figures(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<PlanFigures>> {
    Ok(Json(statistics::plan_figures(&st.services, &a, id).await?))
}

/// The summary table (检验情况汇总表) as XLSX.
#[utoipa::path(get, path = "/api/v1/plans/{id}/summary.xlsx", params(("id" = i64, Path)), tag = "announcements", security(("bearer" = [])),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (status = 403, body = ErrorBody)))]
async fn summary_xlsx(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    Ok(summary_download(&st.services, &a, id).await?)
}

/// The quality analysis report's figures.
#[utoipa::path(get, path = "/api/v1/plans/{id}/quality-analysis", params(("id" = i64, Path)), tag = "announcements", security(("bearer" = [])),
    responses((status = 200, body = QualityAnalysis), (status = 403, body = ErrorBody)))]
async fn analysis(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<QualityAnalysis>> {
    Ok(Json(statistics::quality_analysis(&st.services, &a, id).await?))
}

/// The quality analysis report (质量分析报告) as PDF with charts.
#[utoipa::path(get, path = "/api/v1/plans/{id}/quality-analysis.pdf", params(("id" = i64, Path)), tag = "announcements", security(("bearer" = [])),
    responses((status = 200, content_type = "application/pdf"), (status = 403, body = ErrorBody)))]
async fn analysis_pdf(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    let pdf = statistics::quality_analysis_pdf(&st.services, &a, id).await?;
    Ok(pdf_response(pdf, &format!("plan-{id}-quality-analysis.pdf")))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VolumeQuery {
    /// 1-based volume (200 reports each); 1 when absent.
    #[serde(default)]
    pub volume: Option<usize>,
}

/// The bound volume (合订本): issued reports and sampling records in report-number order, with a
/// table of contents.
#[utoipa::path(get, path = "/api/v1/plans/{id}/bound-volume.pdf", tag = "announcements", params(("id" = i64, Path), VolumeQuery), security(("bearer" = [])),
    responses((status = 200, content_type = "application/pdf"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn bound_volume(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<VolumeQuery>,
) -> ApiResult<Response> {
    let volume = q.volume.unwrap_or(1);
    let pdf = choucha_service::bound_volume::bound_volume_pdf(&st.services, &a, id, volume).await?;
    Ok(pdf_response(pdf, &format!("plan-{id}-bound-volume-{volume}.pdf")))
}
