//! The audit log browser: newest first with filters and "更早的记录" paging (`/admin/audit`), one
//! record with its before/after JSON and its place in the hash chain (`/admin/audit/{seq}`), and the
//! chain check (`POST /admin/audit/verify`).

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use choucha_domain::access::Action;
use choucha_service::{Actor, ServiceError, audit};
use serde_json::Value;
use tower_sessions::Session;

use crate::AppState;
use crate::api::audit::{AuditQuery, AuditRecordView, ExportQuery, VerifyView, export_response};
use crate::auth::{Page, PageActor};
use crate::error::{PageError, PageResult};
use crate::extract::PagePath;
use crate::pages::users::{FieldErrors, query_string};
use crate::pages::{Chrome, chrome};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/audit", get(list_page))
        .route("/admin/audit/verify", post(verify))
        .route("/admin/audit/export", get(export))
        .route("/admin/audit/{seq}", get(detail_page))
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/audit.html")]
pub struct AuditPage {
    pub chrome: Chrome,
    pub records: Vec<AuditRecordView>,
    pub q: AuditQuery,
    pub errors: FieldErrors,
    pub verification: Option<VerifyView>,
    pub older_href: Option<String>,
    pub newest_href: Option<String>,
    /// The audit administrator: verify and export.
    pub can_verify: bool,
    /// The actions and kinds of object to filter by, with their Chinese names.
    pub actions: &'static [(&'static str, &'static str)],
    pub objects: &'static [(&'static str, &'static str)],
}

impl AuditPage {
    /// A filter value as typed (empty when absent).
    pub fn val<'a>(&self, v: &'a Option<String>) -> &'a str {
        v.as_deref().unwrap_or("")
    }

    /// Whether `code` is the chosen value of the filter `v`.
    pub fn chosen(&self, v: &Option<String>, code: &str) -> bool {
        v.as_deref() == Some(code)
    }
}

async fn render_list(
    state: &AppState,
    session: &Session,
    actor: &Actor,
    q: AuditQuery,
    verification: Option<VerifyView>,
) -> Result<Response, ServiceError> {
    let s = &state.services;
    let (records, next, errors) = match q.to_filter() {
        Ok((filter, before)) => {
            let page = audit::list(s, actor, &filter, before, q.limit).await?;
            let people = audit::people_named(s, actor, &page.items).await?;
            let records = page.items.into_iter().map(|r| AuditRecordView::naming(r, &people)).collect();
            (records, page.next, FieldErrors::default())
        }
        Err(e) => {
            actor.require(Action::ViewAudit)?;
            (Vec::new(), None, FieldErrors::from_service(e)?)
        }
    };
    let base = [
        ("action", q.action.as_deref()),
        ("object_type", q.object_type.as_deref()),
        ("object_id", q.object_id.as_deref()),
        ("actor_id", q.actor_id.as_deref()),
        ("actor", q.actor.as_deref()),
        ("from", q.from.as_deref()),
        ("until", q.until.as_deref()),
    ];
    let older_href = next.map(|n| {
        let mut pairs = base.to_vec();
        pairs.push(("before", Some(n.as_str())));
        format!("/admin/audit{}", query_string(&pairs))
    });
    let newest_href =
        q.before.as_deref().filter(|b| !b.trim().is_empty()).map(|_| format!("/admin/audit{}", query_string(&base)));
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = AuditPage {
        records,
        q,
        errors,
        verification,
        older_href,
        newest_href,
        can_verify: actor.may(Action::VerifyAudit),
        actions: choucha_domain::audit_labels::ACTIONS,
        objects: choucha_domain::audit_labels::OBJECTS,
        chrome: chrome(session, Some(actor), "audit").await,
    };
    Ok((status, page).into_response())
}

async fn list_page(Page { state, session, actor }: Page, Query(q): Query<AuditQuery>) -> Response {
    render_list(&state, &session, &actor, q, None).await.unwrap_or_else(|e| PageError(e).into_response())
}

/// The archive of a range of days as a download; bad dates get the list with the errors.
async fn export(Page { state, session, actor }: Page, Query(q): Query<ExportQuery>) -> Response {
    match export_response(&state, &actor, &q).await {
        Ok(r) => r,
        Err(e) => match FieldErrors::from_service(e) {
            Ok(errors) => {
                let message = format!("未导出：{}", errors.all.join("；"));
                crate::pages::respond::flash_to(&session, &message, "/admin/audit").await.into_response()
            }
            Err(e) => PageError(e).into_response(),
        },
    }
}

async fn verify(State(state): State<AppState>, session: Session, PageActor(actor): PageActor) -> Response {
    match audit::verify(&state.services, &actor).await {
        Ok(v) => render_list(&state, &session, &actor, AuditQuery::default(), Some(v.into()))
            .await
            .unwrap_or_else(|e| PageError(e).into_response()),
        Err(e) => PageError(e).into_response(),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/audit_detail.html")]
pub struct AuditDetailPage {
    pub chrome: Chrome,
    pub r: AuditRecordView,
    pub before_json: String,
    pub after_json: String,
    pub newer_seq: Option<i64>,
    pub older_seq: Option<i64>,
}

fn pretty(v: &Value) -> String {
    match v {
        Value::Null => "（无）".to_string(),
        other => serde_json::to_string_pretty(other).unwrap_or_else(|_| other.to_string()),
    }
}

async fn detail_page(
    Page { state, session, actor }: Page,
    PagePath(seq): PagePath<i64>,
) -> PageResult<AuditDetailPage> {
    let s = &state.services;
    let row = audit::get(s, &actor, seq).await?;
    let people = audit::people_named(s, &actor, std::slice::from_ref(&row)).await?;
    let r = AuditRecordView::naming(row, &people);
    let newer_seq = audit::get(s, &actor, seq + 1).await.ok().map(|x| x.seq);
    let older_seq = if seq > 1 { audit::get(s, &actor, seq - 1).await.ok().map(|x| x.seq) } else { None };
    Ok(AuditDetailPage {
        before_json: pretty(&r.before),
        after_json: pretty(&r.after),
        r,
        newer_seq,
        older_seq,
        chrome: chrome(&session, Some(&actor), "audit").await,
    })
}
