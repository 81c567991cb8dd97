//! The enterprise registry (检查对象名录库) over the API: `/api/v1/enterprises` search (keyset pages),
//! one entry, create, update, import from XLSX/CSV (multipart), export to XLSX and the import
//! template. The upload reader and the XLSX answer are shared with the pages.

use axum::Json;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use choucha_domain::RuleViolation;
use choucha_domain::enterprise::EnterpriseDraft;
use choucha_service::ServiceError;
use choucha_service::registry::{self, EnterpriseView, RegistryQuery};
use choucha_service::registry_import::{self, ImportOptions, ImportReport, OnExisting};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::ApiActor;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiMultipart, ApiPath, ApiQuery, MultipartForm, MultipartProblem};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get_one, update))
        .routes(routes!(export))
        .routes(routes!(template))
        // Uploads may be large (the whole application caps bodies at 200 MB).
        .merge(OpenApiRouter::new().routes(routes!(import)).layer(DefaultBodyLimit::disable()))
}

/// A page of the registry.
#[derive(Serialize, ToSchema)]
pub struct EnterpriseList {
    pub items: Vec<EnterpriseView>,
    /// Cursor of the next page (pass it as `cursor`); absent on the last page.
    pub next: Option<String>,
}

/// Text, or a list of texts.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum TextOrList {
    Text(String),
    List(Vec<String>),
}

impl Default for TextOrList {
    fn default() -> Self {
        TextOrList::Text(String::new())
    }
}

impl TextOrList {
    fn joined(self, separator: &str) -> String {
        match self {
            TextOrList::Text(t) => t,
            TextOrList::List(l) => l.join(separator),
        }
    }
}

/// A registry entry to create or replace. Values are checked by the same rules as the form and the
/// import; every problem is answered at once (422 with `errors`).
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct EnterpriseInput {
    /// 企业名称
    pub name: String,
    /// 统一社会信用代码 (18 characters, GB 32100 check character)
    pub uscc: String,
    /// 行政区划代码 (6 digits); defaults to the USCC's characters 3–8.
    pub division_code: Option<String>,
    pub address: Option<String>,
    /// Kinds: codes (producer, seller, fuel_station, e_commerce) or labels (生产者、销售者、加油站、电商),
    /// as a list or one text such as "生产者、销售者".
    pub kinds: TextOrList,
    /// large | medium | small | micro (or 大型, 中型, 小型, 微型)
    pub size_class: Option<String>,
    /// Product lines, as a list or one text separated by "；".
    pub product_lines: TextOrList,
    /// 生产许可证编号
    pub licence_no: Option<String>,
    /// 许可证有效期至, YYYY-MM-DD
    pub licence_valid_until: Option<String>,
    /// CCC 证书编号
    pub ccc_cert_no: Option<String>,
    /// operating | suspended | deregistered (or 在营, 停业, 注销); defaults to operating.
    pub status: Option<String>,
}

impl From<EnterpriseInput> for EnterpriseDraft {
    fn from(i: EnterpriseInput) -> Self {
        EnterpriseDraft {
            name: i.name,
            uscc: i.uscc,
            division_code: i.division_code.unwrap_or_default(),
            address: i.address.unwrap_or_default(),
            kinds: i.kinds.joined("、"),
            size_class: i.size_class.unwrap_or_default(),
            product_lines: i.product_lines.joined("；"),
            licence_no: i.licence_no.unwrap_or_default(),
            licence_valid_until: i.licence_valid_until.unwrap_or_default(),
            ccc_cert_no: i.ccc_cert_no.unwrap_or_default(),
            status: i.status.unwrap_or_default(),
        }
    }
}

fn parse_id(id: &str) -> Result<i64, ApiError> {
    id.parse().map_err(|_| ApiError(ServiceError::NotFound("企业")))
}

/// Search the registry: `q` is a name prefix or a whole USCC; bureau staff see their own area.
#[utoipa::path(get, path = "/api/v1/enterprises", tag = "registry", security(("bearer" = [])),
    params(RegistryQuery),
    responses((status = 200, body = EnterpriseList), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(q): ApiQuery<RegistryQuery>,
) -> ApiResult<Json<EnterpriseList>> {
    let p = registry::search(&state.services, &actor, &q).await?;
    Ok(Json(EnterpriseList { items: p.items, next: p.next }))
}

/// One registry entry.
#[utoipa::path(get, path = "/api/v1/enterprises/{id}", tag = "registry", security(("bearer" = [])),
    params(("id" = i64, Path, description = "企业 id")),
    responses((status = 200, body = EnterpriseView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_one(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<EnterpriseView>> {
    Ok(Json(registry::get(&state.services, &actor, parse_id(&id)?).await?))
}

/// Add an entry to the registry.
#[utoipa::path(post, path = "/api/v1/enterprises", tag = "registry", security(("bearer" = [])),
    request_body = EnterpriseInput,
    responses((status = 201, body = EnterpriseView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(input): ApiJson<EnterpriseInput>,
) -> ApiResult<(StatusCode, Json<EnterpriseView>)> {
    let view = registry::create(&state.services, &actor, input.into()).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Replace an entry's values.
#[utoipa::path(put, path = "/api/v1/enterprises/{id}", tag = "registry", security(("bearer" = [])),
    params(("id" = i64, Path, description = "企业 id")),
    request_body = EnterpriseInput,
    responses((status = 200, body = EnterpriseView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn update(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<EnterpriseInput>,
) -> ApiResult<Json<EnterpriseView>> {
    Ok(Json(registry::update(&state.services, &actor, parse_id(&id)?, input.into()).await?))
}

/// The multipart form of an import.
#[derive(ToSchema)]
#[allow(dead_code)] // documents the request; the handler reads the fields one by one
pub struct ImportForm {
    /// The XLSX or CSV file (UTF-8 or GBK), header in the first row.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
    /// `true`: validate only, write nothing.
    pub dry_run: Option<bool>,
    /// What to do with rows whose USCC is already in the registry (default `error`).
    pub on_existing: Option<OnExisting>,
}

/// An uploaded import file with its options.
pub(crate) struct Upload {
    pub bytes: Vec<u8>,
    pub options: ImportOptions,
}

fn upload_error(message: impl Into<String>) -> ServiceError {
    ServiceError::invalid(RuleViolation::new("invalid_upload", message).on_field("file"))
}

fn truthy(s: &str) -> bool {
    matches!(s.trim().to_ascii_lowercase().as_str(), "1" | "true" | "on" | "yes" | "是")
}

/// Read the fields `file`, `dry_run` and `on_existing` of an import form.
pub(crate) async fn read_upload(multipart: Result<Multipart, MultipartRejection>) -> Result<Upload, ServiceError> {
    let multipart =
        multipart.map_err(|_| upload_error("上传内容无法读取：请求须为文件上传表单（multipart/form-data）"))?;
    let mut form = MultipartForm::read(multipart, &["file"]).await.map_err(|p| match p {
        MultipartProblem::Unreadable => upload_error("上传中断或格式错误，请重新上传"),
        MultipartProblem::File(_) => upload_error("文件上传失败（内容不完整或超过大小上限），请重新上传"),
    })?;
    let mut options = ImportOptions { dry_run: form.text("dry_run").is_some_and(truthy), ..ImportOptions::default() };
    if let Some(v) = form.text("on_existing") {
        options.on_existing = v.parse().map_err(ServiceError::from)?;
    }
    match form.take_file("file") {
        Some(f) if f.bytes.is_empty() => Err(upload_error("上传的文件是空的")),
        Some(f) => {
            options.file_name = Some(f.file_name).filter(|n| !n.is_empty()).unwrap_or_else(|| "upload".into());
            Ok(Upload { bytes: f.bytes.to_vec(), options })
        }
        None => Err(upload_error("请选择要导入的文件（XLSX 或 CSV）")),
    }
}

/// Import a file: every row is checked first; any bad row refuses the whole file (422 with the
/// report listing row, column, value and reason) and nothing is written. A good file is written in
/// one transaction.
#[utoipa::path(post, path = "/api/v1/enterprises/import", tag = "registry", security(("bearer" = [])),
    request_body(content = inline(ImportForm), content_type = "multipart/form-data"),
    responses(
        (status = 200, body = ImportReport, description = "导入成功（或试运行校验通过）"),
        (status = 422, body = ImportReport, description = "文件有错误行，未写入任何数据"),
        (status = 403, body = ErrorBody)))]
async fn import(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiMultipart(multipart): ApiMultipart,
) -> ApiResult<Response> {
    let upload = read_upload(Ok(multipart)).await?;
    let report = registry_import::import(&state.services, &actor, upload.bytes, &upload.options, |_| {}).await?;
    let status = if report.is_refused() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    Ok((status, Json(report)).into_response())
}

/// The current search as an XLSX file, in the import layout.
#[utoipa::path(get, path = "/api/v1/enterprises/export.xlsx", tag = "registry", security(("bearer" = [])),
    params(RegistryQuery),
    responses((status = 200, description = "XLSX 文件", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody, description = "超过 Excel 行数上限等")))]
async fn export(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(q): ApiQuery<RegistryQuery>,
) -> ApiResult<Response> {
    let bytes = choucha_service::registry_import::export_xlsx(
        &state.services,
        &actor,
        &q,
        choucha_service::registry_import::EXPORT_MAX_ROWS,
    )
    .await?;
    let date = state.services.today().format("%Y%m%d");
    Ok(xlsx_download(bytes, &format!("企业名录-{date}.xlsx"), &format!("enterprises-{date}.xlsx")))
}

/// The import template: the headers and one example row.
#[utoipa::path(get, path = "/api/v1/enterprises/import-template.xlsx", tag = "registry", security(("bearer" = [])),
    responses((status = 200, description = "XLSX 文件", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 403, body = ErrorBody)))]
async fn template(ApiActor(actor): ApiActor) -> ApiResult<Response> {
    let bytes = registry_import::template_xlsx(&actor)?;
    Ok(xlsx_download(bytes, "企业名录导入模板.xlsx", "enterprise-import-template.xlsx"))
}

/// An XLSX answer to download, named `file_name` (RFC 5987) with an ASCII fallback.
pub(crate) fn xlsx_download(bytes: Vec<u8>, file_name: &str, ascii_fallback: &str) -> Response {
    crate::xlsx::download(bytes, file_name, ascii_fallback)
}
