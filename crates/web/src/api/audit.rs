//! The audit log over the API: `GET /api/v1/audit` (newest first, keyset by sequence number),
//! `GET /api/v1/audit/{seq}` and `POST /api/v1/audit/verify`. The record and filter shapes here are
//! shared with the audit pages.

use axum::Json;
use axum::extract::State;
use choucha_domain::RuleViolation;
use choucha_domain::clock;
use choucha_domain::enterprise::parse_date;
use choucha_service::audit::{AuditFilter, AuditRow, Verification};
use choucha_service::{ServiceError, audit};
use chrono::{DateTime, Duration, NaiveDate, SecondsFormat};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::ApiActor;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_audit))
        .routes(routes!(get_audit))
        .routes(routes!(verify_audit))
        .routes(routes!(export_audit))
}

/// The days of an export, in Beijing time, both included.
#[derive(Debug, Clone, Default, Deserialize, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// First day, e.g. 2025-01-01.
    #[serde(default)]
    pub from: Option<String>,
    /// Last day (included), e.g. 2025-12-31.
    #[serde(default)]
    pub to: Option<String>,
}

impl ExportQuery {
    /// Both days, or the fields that are wrong.
    pub fn days(&self) -> Result<(NaiveDate, NaiveDate), ServiceError> {
        let mut errs = Vec::new();
        let mut day = |v: &Option<String>, field: &'static str| -> Option<NaiveDate> {
            if non_empty(v).is_none() {
                errs.push(RuleViolation::new("required", "请填写起止日期（格式：2025-10-01）").on_field(field));
            }
            day_field(v, field, &mut errs)
        };
        let (from, to) = (day(&self.from, "from"), day(&self.to, "to"));
        match (from, to) {
            (Some(f), Some(t)) if errs.is_empty() => Ok((f, t)),
            _ => Err(ServiceError::Invalid(errs)),
        }
    }
}

/// The zip archive of a range of days' records (`audit.jsonl` with every stored field, and
/// `manifest.json`), for the audit administrator; at most 100,000 records (the server's CLI,
/// `choucha audit export`, has no limit and adds the signed checkpoints). The export is audited.
#[utoipa::path(get, path = "/api/v1/audit/export", tag = "audit", security(("bearer" = [])), params(ExportQuery),
    responses((status = 200, content_type = "application/zip"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn export_audit(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> ApiResult<axum::response::Response> {
    Ok(export_response(&state, &actor, &q).await?)
}

/// The archive as a download (shared with the audit page).
pub async fn export_response(
    state: &AppState,
    actor: &choucha_service::Actor,
    q: &ExportQuery,
) -> Result<axum::response::Response, ServiceError> {
    use axum::response::IntoResponse;
    // Refused before the dates are read: nobody else learns anything from the answer.
    actor.require(choucha_domain::access::Action::VerifyAudit)?;
    let (from, to) = q.days()?;
    let zip = audit::export(&state.services, actor, from, to).await?;
    let name = format!("audit-{from}-{to}.zip");
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, axum::http::HeaderValue::from_static("application/zip")),
            (axum::http::header::CONTENT_DISPOSITION, crate::api::documents::attachment(&name, &name)),
        ],
        zip,
    )
        .into_response())
}

/// Filters of the audit log. Dates are days in Beijing time (UTC+8); `until` is inclusive.
/// Every value is text so that the empty fields of a page's filter form mean "any".
#[derive(Debug, Clone, Default, Deserialize, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// An action (`user.create`) or a prefix ending in '.' (`user.`).
    pub action: Option<String>,
    /// Object type, e.g. `user`, `organisation`, `calendar_day`.
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    /// User id of the actor.
    pub actor_id: Option<String>,
    /// A person by name: username or display name (part of it).
    pub actor: Option<String>,
    /// First day, YYYY-MM-DD.
    pub from: Option<String>,
    /// Last day, YYYY-MM-DD.
    pub until: Option<String>,
    /// Cursor: `next` of the previous page (records older than this sequence number).
    pub before: Option<String>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<u64>,
}

/// A day typed in a filter (empty: none); a wrong one is named in `errs`.
fn day_field(v: &Option<String>, field: &'static str, errs: &mut Vec<RuleViolation>) -> Option<NaiveDate> {
    let t = non_empty(v)?;
    let d = parse_date(&t);
    if d.is_none() {
        errs.push(RuleViolation::new("invalid_date", format!("日期“{t}”无效（格式：2025-10-01）")).on_field(field));
    }
    d
}

fn non_empty(v: &Option<String>) -> Option<String> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

/// Midnight at the start of `day` in Beijing, as the log stores times (RFC 3339, UTC, microseconds).
fn beijing_midnight(day: NaiveDate) -> String {
    clock::beijing_day_start(day).to_rfc3339_opts(SecondsFormat::Micros, true)
}

impl AuditQuery {
    /// The store's filter and the cursor, or the fields that are wrong.
    pub fn to_filter(&self) -> Result<(AuditFilter, Option<i64>), ServiceError> {
        let mut errs = Vec::new();
        let from = day_field(&self.from, "from", &mut errs);
        let until = day_field(&self.until, "until", &mut errs);
        let mut number = |v: &Option<String>, field: &'static str, label: &str| -> Option<i64> {
            let t = non_empty(v)?;
            let n = t.parse::<i64>().ok();
            if n.is_none() {
                errs.push(RuleViolation::new("invalid_number", format!("{label}应为数字")).on_field(field));
            }
            n
        };
        let actor_id = number(&self.actor_id, "actor_id", "操作人编号");
        let before = number(&self.before, "before", "分页位置");
        if let (Some(f), Some(u)) = (from, until)
            && f > u
        {
            errs.push(RuleViolation::new("invalid_range", "起始日期不能晚于结束日期").on_field("until"));
        }
        if !errs.is_empty() {
            return Err(ServiceError::Invalid(errs));
        }
        let filter = AuditFilter {
            actor_id,
            actor: non_empty(&self.actor),
            action: non_empty(&self.action),
            object_type: non_empty(&self.object_type),
            object_id: non_empty(&self.object_id),
            from: from.map(beijing_midnight),
            until: until.map(|u| beijing_midnight(u + Duration::days(1))),
        };
        Ok((filter, before))
    }
}

/// One audit record: who, when, what, before and after, and its place in the hash chain.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditRecordView {
    pub seq: i64,
    /// RFC 3339, UTC.
    pub at: String,
    /// The time in Beijing, for people: 2025-10-01 08:30:00.
    pub at_local: String,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    pub action: String,
    /// Chinese name of the action, when known.
    pub action_label: String,
    pub object_type: String,
    pub object_id: String,
    /// The object for people: its kind in Chinese and its number, or a person's name.
    pub object_text: String,
    /// The object before the change (`null` for a creation).
    #[schema(value_type = Object)]
    pub before: Value,
    /// The object after the change (`null` for a deletion).
    #[schema(value_type = Object)]
    pub after: Value,
    pub prev_hash: String,
    pub hash: String,
}

/// The Chinese name of an action code (`choucha_domain::audit_labels`, the one table).
pub fn action_label(action: &str) -> String {
    choucha_domain::audit_labels::action_text(action).to_string()
}

/// A stored time shown in Beijing time.
pub fn beijing_time(at: &str) -> String {
    match DateTime::parse_from_rfc3339(at) {
        Ok(t) => t.with_timezone(&clock::beijing_offset()).format("%Y-%m-%d %H:%M:%S").to_string(),
        Err(_) => at.to_string(),
    }
}

/// The object of a record for people: its kind in Chinese and its number (or date); an object
/// named by a code (the whole registry, a setting) by its kind alone.
fn object_text(object_type: &str, object_id: &str) -> String {
    let label = choucha_domain::audit_labels::object_label(object_type);
    if !object_id.is_empty() && object_id.chars().all(|c| c.is_ascii_digit() || c == '-') {
        format!("{label} #{object_id}")
    } else {
        label.to_string()
    }
}

impl AuditRecordView {
    /// The view, its object named by `people` when it is a person.
    pub fn naming(r: AuditRow, people: &std::collections::HashMap<i64, String>) -> Self {
        let person = (r.object_type == "user").then(|| r.object_id.parse::<i64>().ok()).flatten();
        let mut v = AuditRecordView::from(r);
        if let Some(name) = person.and_then(|id| people.get(&id)) {
            v.object_text = format!("用户 {name}");
        }
        v
    }
}

impl From<AuditRow> for AuditRecordView {
    fn from(r: AuditRow) -> Self {
        let parse = |s: &str| serde_json::from_str::<Value>(s).unwrap_or_else(|_| Value::String(s.to_string()));
        AuditRecordView {
            seq: r.seq,
            at_local: beijing_time(&r.at),
            at: r.at,
            actor_name: choucha_domain::audit_labels::actor_text(r.actor_id, &r.actor_name),
            actor_id: r.actor_id,
            action_label: action_label(&r.action),
            action: r.action,
            object_text: object_text(&r.object_type, &r.object_id),
            object_type: r.object_type,
            object_id: r.object_id,
            before: parse(&r.before_json),
            after: parse(&r.after_json),
            prev_hash: r.prev_hash,
            hash: r.hash,
        }
    }
}

/// One page of audit records, newest first.
#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditRecordView>,
    /// Cursor of the next (older) page (`before`), absent on the last page.
    pub next: Option<String>,
}

/// The outcome of verifying the hash chain.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VerifyView {
    pub intact: bool,
    /// Records checked (when intact).
    pub records: Option<i64>,
    /// The first bad record (when broken).
    pub first_bad_seq: Option<i64>,
    /// Chinese explanation.
    pub message: String,
}

impl From<Verification> for VerifyView {
    fn from(v: Verification) -> Self {
        match v {
            Verification::Intact { records } => VerifyView {
                intact: true,
                records: Some(records),
                first_bad_seq: None,
                message: format!("审计链完整：共 {records} 条记录，哈希逐条衔接，未发现篡改或删除。"),
            },
            Verification::Broken(b) => {
                let seq = b.seq();
                VerifyView { intact: false, records: None, first_bad_seq: Some(seq), message: b.to_string() }
            }
        }
    }
}

/// Audit records, newest first (admins and regulators).
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", security(("bearer" = [])), params(AuditQuery),
    responses((status = 200, body = AuditPage), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list_audit(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<Json<AuditPage>> {
    let (filter, before) = q.to_filter()?;
    let page = audit::list(&state.services, &actor, &filter, before, q.limit).await?;
    Ok(Json(AuditPage { items: page.items.into_iter().map(AuditRecordView::from).collect(), next: page.next }))
}

/// One audit record.
#[utoipa::path(get, path = "/api/v1/audit/{seq}", tag = "audit", security(("bearer" = [])),
    params(("seq" = i64, Path, description = "审计记录序号")),
    responses((status = 200, body = AuditRecordView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_audit(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(seq): ApiPath<i64>,
) -> ApiResult<Json<AuditRecordView>> {
    Ok(Json(audit::get(&state.services, &actor, seq).await?.into()))
}

/// Verify the whole hash chain and name the first bad record, if any.
#[utoipa::path(post, path = "/api/v1/audit/verify", tag = "audit", security(("bearer" = [])),
    responses((status = 200, body = VerifyView), (status = 403, body = ErrorBody)))]
async fn verify_audit(State(state): State<AppState>, ApiActor(actor): ApiActor) -> ApiResult<Json<VerifyView>> {
    Ok(Json(audit::verify(&state.services, &actor).await?.into()))
}
