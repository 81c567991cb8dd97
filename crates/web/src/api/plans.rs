//! Plans, their Annex 1 table as XLSX, amendments and quota exceptions: `/api/v1/plans…`, plus the
//! public (no sign-in) plan view.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use choucha_documents::{Annex1, Annex1Row, TableFormat};
use choucha_service::Page;
use choucha_service::draws::{self, AllowanceInput};
use choucha_service::plans::{self, AmendmentInput, ItemInput, PlanDraft, PlanQuery, PlanSummary, PlanView};
use choucha_service::{ServiceError, Services};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::ApiActor;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiMultipart, ApiPath, ApiQuery, MultipartForm};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_plans, create_plan))
        .routes(routes!(get_plan, update_plan, delete_plan))
        .routes(routes!(issue_plan))
        .routes(routes!(close_plan))
        .routes(routes!(amend_plan))
        .routes(routes!(grant_allowance))
        .routes(routes!(export_annex1))
        .routes(routes!(import_annex1))
        .routes(routes!(public_plan))
}

#[derive(Serialize, ToSchema)]
pub struct PlanPage {
    pub items: Vec<PlanSummary>,
    pub next: Option<String>,
}

impl From<Page<PlanSummary>> for PlanPage {
    fn from(p: Page<PlanSummary>) -> Self {
        PlanPage { items: p.items, next: p.next }
    }
}

/// Plans the caller may see, newest first.
#[utoipa::path(get, path = "/api/v1/plans", tag = "plans", params(PlanQuery), security(("bearer" = [])),
    responses((status = 200, body = PlanPage), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn list_plans(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(q): ApiQuery<PlanQuery>,
) -> ApiResult<Json<PlanPage>> {
    Ok(Json(plans::list(&st.services, &a, &q).await?.into()))
}

/// Create a plan with its items (Annex 1). An item with `quota: null` shares the quota of the item above.
#[utoipa::path(post, path = "/api/v1/plans", tag = "plans", request_body = PlanDraft, security(("bearer" = [])),
    responses((status = 201, body = PlanView), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn create_plan(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(d): ApiJson<PlanDraft>,
) -> ApiResult<(StatusCode, Json<PlanView>)> {
    Ok((StatusCode::CREATED, Json(plans::create(&st.services, &a, d).await?)))
}

#[utoipa::path(get, path = "/api/v1/plans/{id}", params(("id" = i64, Path)), tag = "plans", security(("bearer" = [])),
    responses((status = 200, body = PlanView), (status = 404, body = ErrorBody)))]
async fn get_plan(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<PlanView>> {
    Ok(Json(plans::get(&st.services, &a, id).await?))
}

/// Replace a draft plan's header and items.
#[utoipa::path(put, path = "/api/v1/plans/{id}", params(("id" = i64, Path)), tag = "plans", request_body = PlanDraft, security(("bearer" = [])),
    responses((status = 200, body = PlanView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_plan(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(d): ApiJson<PlanDraft>,
) -> ApiResult<Json<PlanView>> {
    Ok(Json(plans::update_draft(&st.services, &a, id, d).await?))
}

/// Delete a draft plan created by mistake (audited with the whole plan); 409 once issued or while
/// an item has implementation rules or tasks.
#[utoipa::path(delete, path = "/api/v1/plans/{id}", params(("id" = i64, Path)), tag = "plans", security(("bearer" = [])),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn delete_plan(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<axum::http::StatusCode> {
    plans::delete_draft(&st.services, &a, id).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/plans/{id}/issue", params(("id" = i64, Path)), tag = "plans", security(("bearer" = [])),
    responses((status = 200, body = PlanView), (status = 409, body = ErrorBody)))]
async fn issue_plan(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<PlanView>> {
    Ok(Json(plans::issue(&st.services, &a, id).await?))
}

#[utoipa::path(post, path = "/api/v1/plans/{id}/close", params(("id" = i64, Path)), tag = "plans", security(("bearer" = [])),
    responses((status = 200, body = PlanView), (status = 409, body = ErrorBody)))]
async fn close_plan(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<PlanView>> {
    Ok(Json(plans::close(&st.services, &a, id).await?))
}

/// Change quotas of an issued plan: a recorded amendment with its reason.
#[utoipa::path(post, path = "/api/v1/plans/{id}/amendments", params(("id" = i64, Path)), tag = "plans", request_body = AmendmentInput, security(("bearer" = [])),
    responses((status = 200, body = PlanView), (status = 422, body = ErrorBody)))]
async fn amend_plan(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(i): ApiJson<AmendmentInput>,
) -> ApiResult<Json<PlanView>> {
    Ok(Json(plans::amend(&st.services, &a, id, i).await?))
}

/// Rule 5's exception for a large shopping centre or supermarket (more batches, with the reason).
#[utoipa::path(post, path = "/api/v1/plans/{id}/batch-allowances", params(("id" = i64, Path)), tag = "plans", request_body = AllowanceInput, security(("bearer" = [])),
    responses((status = 204), (status = 422, body = ErrorBody)))]
async fn grant_allowance(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(mut i): ApiJson<AllowanceInput>,
) -> ApiResult<StatusCode> {
    i.plan_id = id;
    draws::grant_allowance(&st.services, &a, i).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The plan's items as the notice's Annex 1 table.
pub fn annex1_of(v: &PlanView) -> Annex1 {
    Annex1 {
        title: format!("{}计划", v.title.trim_end_matches("计划")),
        rows: v
            .items
            .iter()
            .map(|i| Annex1Row {
                number: i.number.clone(),
                category: i.category.clone(),
                product: i.product.clone(),
                quota: i.group_first.then_some(i.group_quota as u32),
                scopes: i.scopes_label.clone(),
            })
            .collect(),
        total_text: v.total_quota.to_string(),
        remark: String::new(),
    }
}

pub async fn annex1_xlsx(services: &Services, v: &PlanView) -> Result<Vec<u8>, ServiceError> {
    let a = annex1_of(v);
    let _ = services;
    tokio::task::spawn_blocking(move || choucha_documents::write_annex1(&a))
        .await
        .map_err(ServiceError::internal)?
        .map_err(ServiceError::internal)
}

/// An XLSX download named `file_name`, `ascii_fallback` for programs without RFC 5987.
pub fn xlsx_response(bytes: Vec<u8>, file_name: &str, ascii_fallback: &str) -> Response {
    crate::xlsx::download(bytes, file_name, ascii_fallback)
}

/// The names of a plan's Annex 1 download: Chinese, and the ASCII fallback.
pub fn annex1_file_names(v: &PlanView) -> (String, String) {
    (format!("{}-附件1抽查计划表.xlsx", v.title), format!("annex1-plan-table-{}-plan-{}.xlsx", v.year, v.id))
}

/// The summary table (检验情况汇总表) as a download, for the API and the page alike: the service
/// checks the caller first; the file is named after the plan.
pub async fn summary_download(
    services: &Services,
    actor: &choucha_service::Actor,
    id: i64,
) -> Result<Response, ServiceError> {
    let bytes = choucha_service::statistics::summary_xlsx(services, actor, id).await?;
    let v = plans::get(services, actor, id).await?;
    Ok(xlsx_response(
        bytes,
        &format!("检验情况汇总表-{}.xlsx", v.title),
        &format!("summary-table-{}-plan-{id}.xlsx", v.year),
    ))
}

/// Annex 1 of the plan as XLSX (the notices' layout, merged cells for shared quotas, 合计 row).
#[utoipa::path(get, path = "/api/v1/plans/{id}/annex1.xlsx", params(("id" = i64, Path)), tag = "plans", security(("bearer" = [])),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (status = 404, body = ErrorBody)))]
async fn export_annex1(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    let v = plans::get(&st.services, &a, id).await?;
    let bytes = annex1_xlsx(&st.services, &v).await?;
    let (name, ascii) = annex1_file_names(&v);
    Ok(xlsx_response(bytes, &name, &ascii))
}

#[derive(Serialize, ToSchema)]
pub struct Annex1Problem {
    pub row: u32,
    pub column: String,
    pub message: String,
}

#[derive(Serialize, ToSchema)]
pub struct Annex1Rejected {
    pub code: String,
    pub message: String,
    pub errors: Vec<Annex1Problem>,
}

/// An uploaded Annex 1: (title, items), or every problem with its row.
pub type Annex1Upload = Result<(String, Vec<ItemInput>), Vec<Annex1Problem>>;

/// Read an uploaded Annex 1 into plan items (shared by the API and the pages), off the async
/// runtime and within the reader's limits.
pub async fn annex1_items(bytes: Vec<u8>, file_name: &str) -> Result<Annex1Upload, ServiceError> {
    let format = TableFormat::from_file_name(file_name).unwrap_or(TableFormat::Xlsx);
    let parsed = tokio::task::spawn_blocking(move || choucha_documents::read_annex1(&bytes, format))
        .await
        .map_err(ServiceError::internal)?
        .map_err(|e| ServiceError::unreadable_table("bad_file", "", e))?;
    Ok(match parsed {
        Ok(a) => Ok((
            a.title.trim_end_matches("计划").to_string(),
            a.rows
                .into_iter()
                .map(|r| ItemInput {
                    number: r.number,
                    category: r.category,
                    product: r.product,
                    quota: r.quota,
                    scopes: r.scopes,
                    ..Default::default()
                })
                .collect(),
        )),
        Err(errs) => {
            Err(errs.into_iter().map(|e| Annex1Problem { row: e.row, column: e.column, message: e.message }).collect())
        }
    })
}

/// The multipart form of an Annex 1 import.
#[derive(ToSchema)]
#[allow(dead_code)] // documents the request; the handler reads the fields one by one
pub struct Annex1Form {
    /// The Annex 1 table, XLSX or CSV.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
    pub year: i32,
    /// Default: the table's title.
    pub title: Option<String>,
    pub doc_no: Option<String>,
    pub organising_org_code: Option<String>,
}

/// Create a draft plan from an Annex 1 file (multipart: `file`, `year`, optional `title`, `doc_no`,
/// `organising_org_code`). Institutions are assigned afterwards. Bad rows: 422 with each row's problem.
#[utoipa::path(post, path = "/api/v1/plans/import", tag = "plans", security(("bearer" = [])),
    request_body(content = inline(Annex1Form), content_type = "multipart/form-data"),
    responses((status = 201, body = PlanView), (status = 422, body = Annex1Rejected)))]
async fn import_annex1(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiMultipart(mp): ApiMultipart,
) -> Result<Response, ApiError> {
    // Only those who may create plans get their file read at all.
    a.require(choucha_domain::access::Action::CreatePlan)?;
    let bad_file = |code: &'static str, message: &str| {
        ApiError(ServiceError::invalid(choucha_domain::RuleViolation::new(code, message).on_field("file")))
    };
    let mut form = MultipartForm::read(mp, &["file"]).await.map_err(|_| bad_file("bad_file", "文件上传失败"))?;
    let Some(file) = form.take_file("file") else {
        return Err(bad_file("required", "请上传附件1表格（XLSX或CSV）"));
    };
    let fname = Some(file.file_name).filter(|n| !n.is_empty()).unwrap_or_else(|| "annex1.xlsx".into());
    let bytes = file.bytes.to_vec();
    let year: Option<i32> = form.text("year").and_then(|v| v.trim().parse().ok());
    let title = form.text("title").unwrap_or_default().to_owned();
    let doc_no = form.text("doc_no").unwrap_or_default().to_owned();
    let org = form.text("organising_org_code").map(str::to_owned);
    match annex1_items(bytes, &fname).await? {
        Err(errors) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(Annex1Rejected {
                code: "invalid_annex1".into(),
                message: format!("表格有{}处错误，未创建计划", errors.len()),
                errors,
            }),
        )
            .into_response()),
        Ok((sheet_title, items)) => {
            let draft = PlanDraft {
                plan: plans::PlanInput {
                    year: year.unwrap_or(0),
                    title: if title.trim().is_empty() { sheet_title } else { title },
                    organising_org_code: org,
                    doc_no,
                    ..Default::default()
                },
                items,
            };
            let v = plans::create(&st.services, &a, draft).await?;
            Ok((StatusCode::CREATED, Json(v)).into_response())
        }
    }
}

/// An issued plan as published (no sign-in).
#[utoipa::path(get, path = "/api/v1/public/plans/{id}", params(("id" = i64, Path)), tag = "public",
    responses((status = 200, body = PlanView), (status = 404, body = ErrorBody)))]
async fn public_plan(State(st): State<AppState>, ApiPath(id): ApiPath<i64>) -> ApiResult<Json<PlanView>> {
    Ok(Json(plans::get_public(&st.services, id).await?))
}
