//! Implementation rules, draws, verification and sampling tasks: `/api/v1/items/…`,
//! `/api/v1/rules/…`, `/api/v1/draws/…`, `/api/v1/tasks/…`, and their public (no sign-in) views.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use choucha_domain::implementation_rules::RulesAction;
use choucha_service::draws::{
    self, ConflictInput, DrawFilters, DrawPreview, DrawRequest, DrawVerification, DrawView, PublicDrawView,
    RedrawRequest, TaskView,
};
use choucha_service::implementation_rules::{self as irules, RulesBody, RulesView};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::ApiActor;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(item_rules, create_rules))
        .routes(routes!(get_rules, update_rules))
        .routes(routes!(rules_step))
        .routes(routes!(public_rules))
        .routes(routes!(draw_preview))
        .routes(routes!(open_seed_commitment, commit_seed))
        .routes(routes!(public_seed_commitments))
        .routes(routes!(run_draw))
        .routes(routes!(get_draw))
        .routes(routes!(verify_draw))
        .routes(routes!(publish_draw))
        .routes(routes!(redraw))
        .routes(routes!(plan_draws))
        .routes(routes!(public_draw))
        .routes(routes!(public_verify_draw))
        .routes(routes!(public_draw_record))
        .routes(routes!(my_tasks))
        .routes(routes!(get_task))
        .routes(routes!(start_task))
        .routes(routes!(declare_conflict))
}

/// All versions of an item's implementation rules the caller may see.
#[utoipa::path(get, path = "/api/v1/items/{id}/rules", params(("id" = i64, Path)), tag = "rules", security(("bearer" = [])),
    responses((status = 200, body = Vec<RulesView>), (status = 404, body = ErrorBody)))]
async fn item_rules(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<RulesView>>> {
    Ok(Json(irules::versions(&st.services, &a, id).await?))
}

/// The testing institution starts a new draft version.
#[utoipa::path(post, path = "/api/v1/items/{id}/rules", params(("id" = i64, Path)), tag = "rules", request_body = RulesBody, security(("bearer" = [])),
    responses((status = 201, body = RulesView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_rules(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<RulesBody>,
) -> ApiResult<(StatusCode, Json<RulesView>)> {
    Ok((StatusCode::CREATED, Json(irules::create_draft(&st.services, &a, id, b).await?)))
}

#[utoipa::path(get, path = "/api/v1/rules/{id}", params(("id" = i64, Path)), tag = "rules", security(("bearer" = [])),
    responses((status = 200, body = RulesView), (status = 404, body = ErrorBody)))]
async fn get_rules(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<RulesView>> {
    Ok(Json(irules::get(&st.services, &a, id).await?))
}

#[utoipa::path(put, path = "/api/v1/rules/{id}", params(("id" = i64, Path)), tag = "rules", request_body = RulesBody, security(("bearer" = [])),
    responses((status = 200, body = RulesView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_rules(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<RulesBody>,
) -> ApiResult<Json<RulesView>> {
    Ok(Json(irules::update_draft(&st.services, &a, id, b).await?))
}

#[derive(Deserialize, ToSchema)]
#[schema(as = RulesStepInput)]
pub struct StepInput {
    /// submit | return | approve | publish
    pub action: String,
    /// Required to return.
    #[serde(default)]
    pub reason: Option<String>,
}

/// One lifecycle step: the institution submits; the organising bureau returns, approves (备案) or publishes.
#[utoipa::path(post, path = "/api/v1/rules/{id}/steps", params(("id" = i64, Path)), tag = "rules", request_body = StepInput, security(("bearer" = [])),
    responses((status = 200, body = RulesView), (status = 409, body = ErrorBody)))]
async fn rules_step(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(i): ApiJson<StepInput>,
) -> ApiResult<Json<RulesView>> {
    let action = parse_action(&i.action)?;
    Ok(Json(irules::step(&st.services, &a, id, action, i.reason.as_deref()).await?))
}

pub fn parse_action(s: &str) -> Result<RulesAction, choucha_service::ServiceError> {
    match s.trim() {
        "submit" => Ok(RulesAction::Submit),
        "return" => Ok(RulesAction::Return),
        "approve" => Ok(RulesAction::Approve),
        "publish" => Ok(RulesAction::Publish),
        other => Err(choucha_service::ServiceError::invalid(
            choucha_domain::RuleViolation::new(
                "invalid_action",
                format!("未知操作“{other}”（应为 submit、return、approve 或 publish）"),
            )
            .on_field("action"),
        )),
    }
}

/// The published rules of an item (no sign-in).
#[utoipa::path(get, path = "/api/v1/public/items/{id}/rules", params(("id" = i64, Path)), tag = "public",
    responses((status = 200, body = RulesView), (status = 404, body = ErrorBody)))]
async fn public_rules(State(st): State<AppState>, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<RulesView>> {
    Ok(Json(irules::get_published(&st.services, id).await?))
}

/// Candidates and exclusions of a draw before drawing, with a proposed seed to show.
#[utoipa::path(get, path = "/api/v1/items/{id}/draw-preview", tag = "draws", params(("id" = i64, Path), DrawFilters), security(("bearer" = [])),
    responses((status = 200, body = DrawPreview), (status = 403, body = ErrorBody)))]
async fn draw_preview(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(f): ApiQuery<DrawFilters>,
) -> ApiResult<Json<DrawPreview>> {
    Ok(Json(draws::preview(&st.services, &a, id, &f).await?))
}

/// The organising bureau commits to the seed of the item's next draw: the system draws the seed
/// and publishes its SHA-256; the next draw (with `seed` left empty) uses it.
#[utoipa::path(post, path = "/api/v1/items/{id}/seed-commitment", tag = "draws", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 201, body = draws::SeedCommitmentView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn commit_seed(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<(axum::http::StatusCode, Json<draws::SeedCommitmentView>)> {
    Ok((axum::http::StatusCode::CREATED, Json(draws::commit_seed(&st.services, &a, id).await?)))
}

/// The item's seed commitment not yet used by a draw (`null` when there is none).
#[utoipa::path(get, path = "/api/v1/items/{id}/seed-commitment", tag = "draws", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = Option<draws::SeedCommitmentView>), (status = 403, body = ErrorBody)))]
async fn open_seed_commitment(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Option<draws::SeedCommitmentView>>> {
    Ok(Json(draws::open_commitment(&st.services, &a, id).await?))
}

/// Every seed commitment of an issued plan, used or not (no sign-in).
#[utoipa::path(get, path = "/api/v1/public/plans/{id}/seed-commitments", tag = "public", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<draws::SeedCommitmentView>), (status = 404, body = ErrorBody)))]
async fn public_seed_commitments(
    State(st): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<draws::SeedCommitmentView>>> {
    choucha_service::plans::get_public(&st.services, id).await?;
    Ok(Json(draws::commitments_of_plan(&st.services, id).await?))
}

/// Draw enterprises and sampler teams for an item; creates the sampling tasks.
#[utoipa::path(post, path = "/api/v1/draws", tag = "draws", request_body = DrawRequest, security(("bearer" = [])),
    responses((status = 201, body = DrawView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn run_draw(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(r): ApiJson<DrawRequest>,
) -> ApiResult<(StatusCode, Json<DrawView>)> {
    Ok((StatusCode::CREATED, Json(draws::run(&st.services, &a, r).await?)))
}

#[utoipa::path(get, path = "/api/v1/draws/{id}", params(("id" = i64, Path)), tag = "draws", security(("bearer" = [])),
    responses((status = 200, body = DrawView), (status = 404, body = ErrorBody)))]
async fn get_draw(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<DrawView>> {
    Ok(Json(draws::get(&st.services, &a, id).await?))
}

/// Re-run the draw from its record and compare with the stored result.
#[utoipa::path(post, path = "/api/v1/draws/{id}/verify", params(("id" = i64, Path)), tag = "draws", security(("bearer" = [])),
    responses((status = 200, body = DrawVerification), (status = 404, body = ErrorBody)))]
async fn verify_draw(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<DrawVerification>> {
    draws::get(&st.services, &a, id).await?;
    Ok(Json(draws::verify(&st.services, id).await?))
}

#[utoipa::path(post, path = "/api/v1/draws/{id}/publish", params(("id" = i64, Path)), tag = "draws", security(("bearer" = [])),
    responses((status = 200, body = DrawView), (status = 409, body = ErrorBody)))]
async fn publish_draw(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<DrawView>> {
    Ok(Json(draws::publish(&st.services, &a, id).await?))
}

/// Replace an enterprise that cannot be sampled (停业, not found) by a new recorded draw.
#[utoipa::path(post, path = "/api/v1/redraws", tag = "draws", request_body = RedrawRequest, security(("bearer" = [])),
    responses((status = 201, body = DrawView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn redraw(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(r): ApiJson<RedrawRequest>,
) -> ApiResult<(StatusCode, Json<DrawView>)> {
    Ok((StatusCode::CREATED, Json(draws::redraw(&st.services, &a, r).await?)))
}

#[utoipa::path(get, path = "/api/v1/plans/{id}/draws", params(("id" = i64, Path)), tag = "draws", security(("bearer" = [])),
    responses((status = 200, body = Vec<DrawView>), (status = 404, body = ErrorBody)))]
async fn plan_draws(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<DrawView>>> {
    Ok(Json(draws::list_for_plan(&st.services, &a, id).await?))
}

/// A published draw (no sign-in; teams are not published).
#[utoipa::path(get, path = "/api/v1/public/draws/{id}", params(("id" = i64, Path)), tag = "public",
    responses((status = 200, body = PublicDrawView), (status = 404, body = ErrorBody)))]
async fn public_draw(State(st): State<AppState>, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<PublicDrawView>> {
    Ok(Json(draws::get_published(&st.services, id).await?))
}

/// Anyone re-runs a published draw from its record.
#[utoipa::path(post, path = "/api/v1/public/draws/{id}/verify", params(("id" = i64, Path)), tag = "public",
    responses((status = 200, body = DrawVerification), (status = 404, body = ErrorBody)))]
async fn public_verify_draw(
    State(st): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<DrawVerification>> {
    draws::get_published(&st.services, id).await?;
    Ok(Json(draws::verify(&st.services, id).await?))
}

/// A published draw's whole record: what a third party needs to re-run it without Choucha (the
/// ordered candidates, the exclusions, the sampler pool under public identifiers, the result; see
/// docs/DRAW.md and docs/draw_reference.py).
#[utoipa::path(get, path = "/api/v1/public/draws/{id}/record", params(("id" = i64, Path)), tag = "public",
    responses((status = 200, body = draws::PublicDrawRecord), (status = 404, body = ErrorBody)))]
async fn public_draw_record(
    State(st): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<draws::PublicDrawRecord>> {
    Ok(Json(draws::published_record(&st.services, id).await?))
}

#[derive(Serialize, ToSchema)]
pub struct TaskPage {
    pub items: Vec<TaskView>,
    pub next: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TaskQuery {
    #[serde(default)]
    pub cursor: Option<i64>,
    #[serde(default)]
    pub limit: Option<u64>,
    /// Only tasks in this state (`assigned`, `in_progress`, `sampled`, …).
    #[serde(default)]
    #[param(value_type = Option<String>)]
    pub state: Option<choucha_domain::sampling::TaskState>,
    /// Text found in the enterprise's name or the product.
    #[serde(default)]
    pub q: Option<String>,
}

/// The caller's sampling tasks (samplers).
#[utoipa::path(get, path = "/api/v1/tasks", tag = "tasks", params(TaskQuery), security(("bearer" = [])),
    responses((status = 200, body = TaskPage), (status = 403, body = ErrorBody)))]
async fn my_tasks(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(q): ApiQuery<TaskQuery>,
) -> ApiResult<Json<TaskPage>> {
    let filter = draws::TaskFilter { state: q.state, text: q.q };
    let p = draws::my_tasks_filtered(&st.services, &a, &filter, q.cursor, q.limit).await?;
    Ok(Json(TaskPage { items: p.items, next: p.next }))
}

#[utoipa::path(get, path = "/api/v1/tasks/{id}", params(("id" = i64, Path)), tag = "tasks", security(("bearer" = [])),
    responses((status = 200, body = TaskView), (status = 404, body = ErrorBody)))]
async fn get_task(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<TaskView>> {
    Ok(Json(draws::get_task(&st.services, &a, id).await?))
}

/// A team member starts sampling on site; refused while the item's rules are unpublished (rule 3).
#[utoipa::path(post, path = "/api/v1/tasks/{id}/start", params(("id" = i64, Path)), tag = "tasks", security(("bearer" = [])),
    responses((status = 200, body = TaskView), (status = 409, body = ErrorBody)))]
async fn start_task(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<TaskView>> {
    Ok(Json(draws::start_task(&st.services, &a, id).await?))
}

/// A sampler declares a conflict of interest (回避) with an enterprise; later draws respect it.
#[utoipa::path(post, path = "/api/v1/me/conflicts", tag = "tasks", request_body = ConflictInput, security(("bearer" = [])),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn declare_conflict(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(i): ApiJson<ConflictInput>,
) -> ApiResult<StatusCode> {
    draws::declare_conflict(&st.services, &a, i).await?;
    Ok(StatusCode::NO_CONTENT)
}
