//! API: the national data exchange (e-CQS) of a plan — what is due, a day's file as JSON or XLSX
//! (format `choucha-ecqs/1`, docs/NATIONAL_EXPORT.md), and marking a file as entered. Downloading
//! never marks; marking is its own POST, with the hash of the file downloaded.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use choucha_documents::{CellValue, Sheet};
use choucha_domain::national_export::{Field, FieldKind};
use choucha_service::national_export::{self as national, MarkInput, MarkResult, NationalDue, NationalExport};
use choucha_service::{ServiceError, Services};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::ApiActor;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(due))
        .routes(routes!(export_json))
        .routes(routes!(export_xlsx))
        .routes(routes!(mark))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DayQuery {
    /// YYYY-MM-DD (Beijing); today when omitted.
    #[serde(default)]
    pub day: Option<String>,
}

/// What the plan still owes e-CQS: per kind (抽样信息, 检验结果) the counts due, overdue and
/// exported, every sample not yet exported with its deadline (the day after sampling; 3 working
/// days after testing ended), and the files marked so far.
#[utoipa::path(get, path = "/api/v1/plans/{id}/national-export", params(("id" = i64, Path)), tag = "plans",
    security(("bearer" = [])),
    responses((status = 200, body = NationalDue), (status = 404, body = ErrorBody)))]
async fn due(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<NationalDue>> {
    Ok(Json(national::due(&st.services, &a, id).await?))
}

/// The file of one day and kind (`sampling` 抽样信息 by sampling day, `results` 检验结果 by issue day)
/// as JSON: the format version, the fields with their Chinese labels, the rows' SHA-256 and one row
/// per sample. Does not mark anything.
#[utoipa::path(get, path = "/api/v1/plans/{id}/national-export/{kind}", tag = "plans", security(("bearer" = [])),
    params(("id" = i64, Path), ("kind" = String, Path, description = "sampling | results"), DayQuery),
    responses((status = 200, body = NationalExport), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn export_json(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath((id, kind)): ApiPath<(i64, String)>,
    ApiQuery(q): ApiQuery<DayQuery>,
) -> ApiResult<Response> {
    let file = file(&st.services, &a, id, &kind, q.day.as_deref()).await?;
    let (name, ascii) = file_names(&file, "json");
    let body = serde_json::to_vec_pretty(&file).map_err(ServiceError::internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8")),
            (header::CONTENT_DISPOSITION, crate::api::documents::attachment(&name, &ascii)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response())
}

/// The same file as an Excel workbook: one row per sample with the Chinese labels as header, typed
/// cells (numbers, amounts, dates, Beijing times; codes as text), for results a second sheet with
/// each test item, and a sheet naming every field's key. Does not mark anything.
#[utoipa::path(get, path = "/api/v1/plans/{id}/national-export/{kind}/xlsx", tag = "plans", security(("bearer" = [])),
    params(("id" = i64, Path), ("kind" = String, Path, description = "sampling | results"), DayQuery),
    responses((status = 200, description = "XLSX", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn export_xlsx(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath((id, kind)): ApiPath<(i64, String)>,
    ApiQuery(q): ApiQuery<DayQuery>,
) -> ApiResult<Response> {
    Ok(xlsx_download(&st.services, &a, id, &kind, q.day.as_deref()).await?)
}

/// Marks every row of the caller's file of that day and kind as entered into e-CQS (the time, the
/// person, the rows' SHA-256), with its audit record. `content_sha256` must be the downloaded
/// file's: 409 `export_changed` when the rows changed since. Sampling information is marked by the
/// sampling institution, results by the testing institution's custodian; a mark may be repeated.
#[utoipa::path(post, path = "/api/v1/plans/{id}/national-export/{kind}/marks", tag = "plans", security(("bearer" = [])),
    params(("id" = i64, Path), ("kind" = String, Path, description = "sampling | results")), request_body = MarkInput,
    responses((status = 200, body = MarkResult), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn mark(
    State(st): State<AppState>,
    ApiActor(a): ApiActor,
    ApiPath((id, kind)): ApiPath<(i64, String)>,
    ApiJson(input): ApiJson<MarkInput>,
) -> ApiResult<Json<MarkResult>> {
    let kind = national::kind_of(&kind)?;
    Ok(Json(national::mark(&st.services, &a, id, kind, input).await?))
}

async fn file(
    s: &Services,
    a: &choucha_service::Actor,
    id: i64,
    kind: &str,
    day: Option<&str>,
) -> Result<NationalExport, ServiceError> {
    let kind = national::kind_of(kind)?;
    let day = national::day_or_today(s, day)?;
    national::export(s, a, id, kind, day).await
}

/// The Chinese file name and its ASCII fallback, e.g. `国家平台报送-抽样信息-2025年车用柴油监督抽查-2025-10-10.xlsx`.
pub fn file_names(f: &NationalExport, ext: &str) -> (String, String) {
    (
        format!("国家平台报送-{}-{}-{}.{ext}", f.kind_label, f.plan_title, f.day),
        format!("ecqs-{}-plan-{}-{}.{ext}", f.kind.as_str(), f.plan_id, f.day),
    )
}

/// The XLSX download of a day's file, for the API and the pages alike.
pub async fn xlsx_download(
    s: &Services,
    a: &choucha_service::Actor,
    id: i64,
    kind: &str,
    day: Option<&str>,
) -> Result<Response, ServiceError> {
    let f = file(s, a, id, kind, day).await?;
    let (name, ascii) = file_names(&f, "xlsx");
    crate::xlsx::workbook(sheets(&f), &name, &ascii).await
}

/// A field's value of a row as a typed cell.
fn cell(field: &Field, v: Option<&serde_json::Value>) -> CellValue {
    let Some(v) = v.filter(|v| !v.is_null()) else { return CellValue::Empty };
    let text = || v.as_str().map_or_else(|| v.to_string(), str::to_string);
    match field.kind {
        FieldKind::Text => text().into(),
        FieldKind::Number => v.as_f64().map_or_else(|| text().into(), CellValue::Number),
        FieldKind::Amount => v.as_f64().map_or_else(|| CellValue::amount_text(&text()), CellValue::Amount),
        FieldKind::Date => CellValue::date_text(&text()),
        FieldKind::Time => match chrono::DateTime::parse_from_rfc3339(&text()) {
            Ok(t) => CellValue::Time(t.with_timezone(&chrono::Utc)),
            Err(_) if text().is_empty() => CellValue::Empty,
            Err(_) => text().into(),
        },
    }
}

fn table(name: &str, title: String, fields: &[Field], rows: &[serde_json::Value]) -> Sheet {
    let mut headers = vec!["序号"];
    headers.extend(fields.iter().map(|f| f.label));
    let mut sheet = Sheet::new(name, &headers).titled(title);
    for (i, row) in rows.iter().enumerate() {
        let mut cells = vec![CellValue::from(i + 1)];
        cells.extend(fields.iter().map(|f| cell(f, row.get(f.key))));
        sheet.push(cells);
    }
    sheet
}

/// The workbook: the rows, the items (results), and the field table with the format version.
pub fn sheets(f: &NationalExport) -> Vec<Sheet> {
    let title = format!(
        "{}·{}（{}）  格式 {}  内容校验码 {}",
        f.plan_title, f.kind_label, f.day, f.format_version, f.content_sha256
    );
    let rows = f.rows.as_values();
    let mut out = vec![table(&f.kind_label, title.clone(), &f.fields, &rows)];
    if !f.item_fields.is_empty() {
        let items: Vec<serde_json::Value> =
            rows.iter().flat_map(|r| r["items"].as_array().cloned().unwrap_or_default()).collect();
        out.push(table("检验项目", title.clone(), &f.item_fields, &items));
    }
    let mut legend = Sheet::new("字段说明", &["表", "中文名称", "键名", "类型"])
        .titled(format!("国家平台（e-CQS）报送数据格式 {}：{}", f.format_version, f.deadline_rule));
    let kind_label = |k: FieldKind| match k {
        FieldKind::Text => "文本",
        FieldKind::Number => "数值",
        FieldKind::Amount => "金额（元）",
        FieldKind::Date => "日期",
        FieldKind::Time => "北京时间",
    };
    for (sheet, fields) in [(f.kind_label.as_str(), &f.fields), ("检验项目", &f.item_fields)] {
        for field in fields.iter() {
            legend.push(vec![sheet.into(), field.label.into(), field.key.into(), kind_label(field.kind).into()]);
        }
    }
    out.push(legend);
    out
}
