//! Pages: the bureaus' inbox (`/inbox`). Regulators and local regulators see their organisation's
//! items newest first — problem reports, refusals awaiting the county bureau's co-signature,
//! requests to keep the backup at the enterprise (rule 9), tasks not sampled — each with a link to
//! what it is about and the action it asks for: approve or deny a backup request, co-sign a refusal
//! (rule 11), mark read. Every form carries the CSRF token; denying asks for confirmation.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use choucha_domain::access::Action;
use choucha_domain::sampling::{BackupRequestState, TaskState};
use choucha_service::handover::{self, BackupDecisionInput, BackupRequestView, DocumentEntry, TaskBrief};
use choucha_service::sampling::{self, CosignInput, InboxView};
use choucha_service::{Actor, ServiceError};
use serde::Deserialize;
use tower_sessions::Session;

use crate::AppState;
use crate::auth::{Page, PageActor};
use crate::error::{PageError, PageResult, body_of};
use crate::extract::PagePath;
use crate::filters;
use crate::pages::plans::id_of;
use crate::pages::respond::{done_or_again, flash_to};
use crate::pages::{Chrome, chrome};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/inbox", get(list))
        .route("/inbox/{id}/read", post(mark_read))
        .route("/inbox/backup-requests/{id}/decision", post(decide))
        .route("/inbox/tasks/{id}/cosign", post(cosign))
        .route("/inbox/tasks/{id}/documents/{kind}", get(document))
}

/// Whether a user has an inbox: staff of a bureau (regulators and local regulators).
pub fn has_inbox(actor: &Actor) -> bool {
    actor.may(Action::ViewInbox) && actor.org_id.is_some()
}

/// One inbox item with what it is about and the actions offered (the service decides).
pub struct Entry {
    pub item: InboxView,
    pub kind_label: &'static str,
    pub task: Option<TaskBrief>,
    pub documents: Vec<DocumentEntry>,
    pub backup: Option<BackupRequestView>,
    pub can_decide: bool,
    pub can_cosign: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "inbox/list.html")]
pub struct ListPage {
    pub chrome: Chrome,
    pub entries: Vec<Entry>,
    pub unread: u64,
    pub next_href: Option<String>,
    pub first_href: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    before: Option<String>,
}

fn kind_label(kind: &str) -> &'static str {
    match kind {
        "problem" => "问题报送",
        "refusal" => "拒检待认定",
        "backup_request" => "备用样品封存申请",
        "not_sampled" => "未抽样",
        "objection" => "异议/复检申请",
        "case" => "后处理",
        "case_producer" => "后处理通报",
        "case_escalated" => "复查不合格报请公告",
        "retest" => "复检",
        "retest_dispatch" => "复检备用样品待寄出",
        "confirmation" => "样品确认",
        _ => "通知",
    }
}

const PAGE: u64 = 20;

async fn entry(state: &AppState, actor: &Actor, item: InboxView) -> PageResult<Entry> {
    let s = &state.services;
    let (task_id, backup) = match item.ref_type.as_str() {
        "backup_request" => {
            let b = handover::get_backup_request(s, actor, item.ref_id).await.ok();
            (b.as_ref().map(|b| b.task_id), b)
        }
        "sampling_task" => (Some(item.ref_id), None),
        _ => (None, None),
    };
    let task = match task_id {
        Some(t) => handover::task_brief(s, actor, t).await.ok(),
        None => None,
    };
    let documents = match &task {
        Some(t) => handover::documents(s, actor, t.id).await.unwrap_or_default(),
        None => Vec::new(),
    };
    Ok(Entry {
        kind_label: kind_label(&item.kind),
        can_decide: task.as_ref().is_some_and(|t| t.actions.contains(&Action::DecideBackup))
            && backup.as_ref().is_some_and(|b| b.state == BackupRequestState::Pending),
        can_cosign: item.kind == "refusal"
            && task
                .as_ref()
                .is_some_and(|t| t.actions.contains(&Action::ConfirmRefusal) && t.state == TaskState::RefusalPending),
        item,
        task,
        documents,
        backup,
    })
}

async fn list(Page { state, session, actor }: Page, Query(q): Query<ListQuery>) -> PageResult<ListPage> {
    if !has_inbox(&actor) {
        return Err(PageError(ServiceError::forbidden()));
    }
    let before = q.before.as_deref().and_then(|c| c.trim().parse::<i64>().ok());
    let page = sampling::inbox(&state.services, &actor, before, Some(PAGE)).await?;
    let mut entries = Vec::with_capacity(page.items.len());
    for item in page.items {
        entries.push(entry(&state, &actor, item).await?);
    }
    Ok(ListPage {
        entries,
        unread: handover::unread_inbox(&state.services, &actor).await?,
        next_href: page.next.map(|c| format!("/inbox?before={c}")),
        first_href: before.map(|_| "/inbox".to_string()),
        chrome: chrome(&session, Some(&actor), "inbox").await,
    })
}

/// Back to the inbox with what was done, or why it was not.
async fn done(session: &Session, r: Result<String, ServiceError>) -> PageResult<Response> {
    done_or_again(
        session,
        r,
        |msg| ("/inbox".into(), msg),
        |e| async move { flash_to(session, &format!("未能办理：{}", body_of(&e).message), "/inbox").await },
    )
    .await
}

async fn mark_read(Page { state, session, actor }: Page, PagePath(id): PagePath<String>) -> PageResult<Response> {
    let id = id_of(&id, "待办事项")?;
    let r = handover::mark_inbox_read(&state.services, &actor, id).await.map(|_| "已标记为已读".to_string());
    done(&session, r).await
}

#[derive(Debug, Deserialize)]
pub struct DecisionForm {
    /// "approve" | "deny"
    decision: String,
    #[serde(default)]
    opinion: String,
}

async fn decide(
    Page { state, session, actor }: Page,
    PagePath(id): PagePath<String>,
    Form(f): Form<DecisionForm>,
) -> PageResult<Response> {
    let id = id_of(&id, "封存申请")?;
    let approve = f.decision == "approve";
    let r = handover::decide_backup(&state.services, &actor, id, BackupDecisionInput { approve, opinion: f.opinion })
        .await
        .map(|b| format!("已{}“{}”的备用样品封存申请", if approve { "批准" } else { "不批准" }, b.enterprise_name));
    done(&session, r).await
}

#[derive(Debug, Deserialize)]
pub struct CosignForm {
    #[serde(default)]
    opinion: String,
}

async fn cosign(
    Page { state, session, actor }: Page,
    PagePath(id): PagePath<String>,
    Form(f): Form<CosignForm>,
) -> PageResult<Response> {
    let id = id_of(&id, "抽样任务")?;
    let r = sampling::cosign_refusal(&state.services, &actor, id, CosignInput { opinion: f.opinion })
        .await
        .map(|_| "已会同认定拒检".to_string());
    done(&session, r).await
}

async fn document(
    State(state): State<AppState>,
    PageActor(actor): PageActor,
    PagePath((id, kind)): PagePath<(String, String)>,
) -> PageResult<Response> {
    let id = id_of(&id, "抽样任务")?;
    let (bytes, name) = handover::document_pdf(&state.services, &actor, id, &kind).await?;
    Ok((
        StatusCode::OK,
        [
            (axum::http::header::CONTENT_TYPE, "application/pdf".to_string()),
            (axum::http::header::CONTENT_DISPOSITION, format!("inline; filename=\"{name}\"")),
        ],
        bytes,
    )
        .into_response())
}
