//! The inbox of a bureau or institution, and a task in one line for it.

use choucha_domain::sampling::TaskState;
use choucha_store::audit::AuditEntry;
use choucha_store::enterprises;
use choucha_store::handover::{self as store};
use serde::Serialize;
use serde_json::json;

use crate::access::Ask;
use crate::task_context::ctx;
use crate::{Actor, Result, ServiceError, Services};
use choucha_domain::access::Action;

/// Mark one inbox item of the caller's bureau read.
pub async fn mark_inbox_read(s: &Services, actor: &Actor, item_id: i64) -> Result<()> {
    let item = store::get_inbox_item(s.store.reader(), item_id).await.map_err(ServiceError::not_found("待办事项"))?;
    if actor.org_id != Some(item.org_id) {
        return Err(ServiceError::NotFound("待办事项"));
    }
    let tx = s.write(actor).await?;
    store::mark_inbox_read(&tx, item.org_id, Some(item.id), None).await?;
    tx.commit(AuditEntry::new("inbox.read", "inbox_item", item.id, json!(null), json!({"read": true}))).await?;
    Ok(())
}

/// Unread items in the caller's organisation's inbox (0 without an organisation).
pub async fn unread_inbox(s: &Services, actor: &Actor) -> Result<u64> {
    match actor.org_id {
        Some(o) => Ok(store::unread_count(s.store.reader(), o).await?),
        None => Ok(0),
    }
}

// ---------------------------------------------------------------------------------------------
// Forms as PDF

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TaskBrief {
    pub id: i64,
    pub plan_id: i64,
    pub plan_title: String,
    pub product: String,
    pub enterprise_name: String,
    pub state: TaskState,
    pub state_label: String,
    /// What the caller may do about the task from the inbox.
    #[schema(value_type = Vec<String>)]
    pub actions: Vec<Action>,
}

/// A task in a line, for whoever may see its documents (the team, the organising bureau, the
/// enterprise's local bureau).
pub async fn task_brief(s: &Services, actor: &Actor, task_id: i64) -> Result<TaskBrief> {
    let c = ctx(s, task_id).await?;
    let rel = c.rel_with_local(s, actor).await?;
    rel.visible(Action::ViewTaskDocuments, "抽样任务")?;
    let ent = enterprises::get(s.store.reader(), c.task.enterprise_id).await?;
    Ok(TaskBrief {
        id: c.task.id,
        plan_id: c.plan.id,
        plan_title: c.plan.title.clone(),
        product: c.item.product.clone(),
        enterprise_name: ent.name,
        state_label: c.task.state.label().into(),
        state: c.task.state,
        actions: rel.actions(&[Action::DecideBackup, Action::ConfirmRefusal, Action::WorkOnSite]),
    })
}
