//! The backup portion kept sealed at the enterprise, with the organising bureau's approval (rule 9).

use choucha_domain::sampling::{BackupRequestAction, BackupRequestState, TaskState};
use choucha_domain::workflow;
use choucha_store::audit::AuditEntry;
use choucha_store::custody::{self, NewCustodyEvent};
use choucha_store::draws::{self as store_draws};
use choucha_store::handover::{self as store, BackupRequestRow, NewBackupRequest};
use choucha_store::plans::{self as store_plans};
use choucha_store::sampling::{self as store_sampling};
use choucha_store::{enterprises, users};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::access::Ask;
use crate::task_context::{ctx, in_force, required, rule, seals};
use crate::{Actor, Result, ServiceError, Services};
use choucha_domain::access::Action;

// ---------------------------------------------------------------------------------------------
// Backup portion kept at the enterprise (rule 9)

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct BackupRequestInput {
    /// Why it stays (不易运输、价值昂贵…).
    pub reason: String,
    /// Where it is kept at the enterprise.
    pub storage_place: String,
    #[serde(default)]
    pub storage_conditions: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BackupRequestView {
    pub id: i64,
    pub task_id: i64,
    pub reason: String,
    pub storage_place: String,
    pub storage_conditions: String,
    pub state: BackupRequestState,
    pub state_label: String,
    pub requested_by: String,
    pub created_at: DateTime<Utc>,
    pub decided_by: String,
    pub decided_at: Option<DateTime<Utc>>,
    pub opinion: String,
    /// The enterprise and product, for the bureau deciding.
    pub enterprise_name: String,
    pub product: String,
}

async fn backup_view(s: &Services, r: BackupRequestRow) -> Result<BackupRequestView> {
    let db = s.store.reader();
    let task = store_draws::get_task(db, r.task_id).await?;
    let ent = enterprises::get(db, task.enterprise_id).await?;
    let item = store_plans::get_item(db, task.item_id).await?;
    Ok(BackupRequestView {
        id: r.id,
        task_id: r.task_id,
        reason: r.reason,
        storage_place: r.storage_place,
        storage_conditions: r.storage_conditions,
        state_label: match r.state {
            BackupRequestState::Pending => "待批复",
            BackupRequestState::Approved => "已批准",
            BackupRequestState::Denied => "未批准",
        }
        .into(),
        state: r.state,
        requested_by: users::get(db, r.requested_by).await?.display_name,
        created_at: r.created_at,
        decided_by: r.decided_by_name,
        decided_at: r.decided_at,
        opinion: r.opinion,
        enterprise_name: ent.name,
        product: item.product,
    })
}

/// The team asks the organising bureau to keep the backup portion sealed at the enterprise (rule 9):
/// with a saved record (in progress) or once sampled, before dispatch, one open request at a time.
pub async fn request_backup(
    s: &Services,
    actor: &Actor,
    task_id: i64,
    input: BackupRequestInput,
) -> Result<BackupRequestView> {
    let c = ctx(s, task_id).await?;
    c.require_team(actor)?;
    let db = s.store.reader();
    let record = in_force(s, task_id).await?;
    let state_ok = c.task.state == TaskState::Sampled || (c.task.state == TaskState::InProgress && record.is_some());
    if !state_ok {
        return Err(rule("task_state", "填写抽样单后（抽样中或已抽样）才能申请备用样品在被抽样单位封存"));
    }
    if record.as_ref().is_some_and(|(_, f)| f.backup_quantity <= 0.0) {
        return Err(rule("no_backup", "抽样单没有备用样品，无需申请封存"));
    }
    if custody::last_of_kind(db, task_id, "dispatched").await?.is_some() {
        return Err(rule("already_dispatched", "样品已寄送/带回检验机构，不能再申请在被抽样单位封存"));
    }
    let existing = store::backup_requests_of(db, task_id).await?;
    if existing.iter().any(|r| r.state == BackupRequestState::Pending) {
        return Err(rule("rule9_open_request", "已有待批复的封存申请，请等待组织监督抽查的部门批复（规则9）"));
    }
    if existing.iter().any(|r| r.state == BackupRequestState::Approved) {
        return Err(rule("rule9_already_approved", "备用样品在被抽样单位封存已获批准"));
    }
    let mut errs = Vec::new();
    if input.reason.trim().is_empty() {
        errs.push(required("reason", "请说明备用样品需在被抽样单位封存的理由"));
    }
    if input.storage_place.trim().is_empty() {
        errs.push(required("storage_place", "请填写封存地点"));
    }
    if !errs.is_empty() {
        return Err(ServiceError::Invalid(errs));
    }
    let ent = enterprises::get(db, c.task.enterprise_id).await?;
    let tx = s.write(actor).await?;
    tx.audit(AuditEntry::new(
            "backup.request",
            "sampling_task",
            task_id,
            json!(null),
            json!({"reason": input.reason.trim(), "storage_place": input.storage_place.trim(), "storage_conditions": input.storage_conditions.trim()}),
        ));
    // Checked again behind the audit head's lock: one open request at a time.
    if store::backup_requests_of(tx.conn(), task_id).await?.iter().any(|r| r.state == BackupRequestState::Pending) {
        return Err(rule("rule9_open_request", "已有待批复的封存申请，请等待组织监督抽查的部门批复（规则9）"));
    }
    if custody::last_of_kind(tx.conn(), task_id, "dispatched").await?.is_some() {
        return Err(rule("already_dispatched", "样品已寄送/带回检验机构，不能再申请在被抽样单位封存"));
    }
    let row = store::insert_backup_request(
        &tx,
        NewBackupRequest {
            task_id,
            org_id: c.plan.organising_org_id,
            reason: input.reason.trim().into(),
            storage_place: input.storage_place.trim().into(),
            storage_conditions: input.storage_conditions.trim().into(),
            requested_by: actor.user_id,
        },
    )
    .await?;
    store_sampling::insert_inbox(
        &tx,
        c.plan.organising_org_id,
        "backup_request",
        &format!("备用样品封存申请：{}（{}）", ent.name, c.item.product),
        "backup_request",
        row.id,
    )
    .await?;
    tx.commit_recorded().await?;
    backup_view(s, row).await
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct BackupDecisionInput {
    pub approve: bool,
    #[serde(default)]
    pub opinion: String,
}

/// The organising bureau approves or denies keeping the backup at the enterprise (rule 9). An
/// approval records the backup portion as kept there and makes the sealing notice available.
pub async fn decide_backup(
    s: &Services,
    actor: &Actor,
    request_id: i64,
    input: BackupDecisionInput,
) -> Result<BackupRequestView> {
    let db = s.store.reader();
    let r = store::get_backup_request(db, request_id).await.map_err(ServiceError::not_found("封存申请"))?;
    let c = ctx(s, r.task_id).await?;
    if !c.rel(actor).may(Action::DecideBackup) {
        return Err(rule(
            "rule9_organising_bureau",
            "备用样品在被抽样单位封存须经组织监督抽查的部门批准，其他人员不能审批（规则9）",
        ));
    }
    let t = workflow::step(r.state, BackupRequestAction::decide(input.approve))
        .map_err(|_| rule("already_decided", "该封存申请已批复"))?;
    if !input.approve && input.opinion.trim().is_empty() {
        return Err(ServiceError::invalid(required("opinion", "不批准时请说明理由")));
    }
    let (_, f) = in_force(s, r.task_id).await?.ok_or(ServiceError::NotFound("抽样单"))?;
    let tx = s.write(actor).await?;
    store::decide_backup_request(&tx, r.id, t, actor.user_id, &actor.display_name, input.opinion.trim()).await?;
    if input.approve {
        custody::insert(
            &tx,
            NewCustodyEvent {
                task_id: r.task_id,
                portion: "backup".into(),
                kind: "kept_at_enterprise".into(),
                seal_state: choucha_domain::lab::SealState::Intact,
                location: "被抽样单位（经批准封存）".into(),
                note: format!("封条编号：{}；批复意见：{}", seals(&f.backup_seals), input.opinion.trim()),
                actor_id: Some(actor.user_id),
                actor_name: actor.display_name.clone(),
                ..Default::default()
            },
        )
        .await?;
    }
    store::mark_inbox_read(&tx, c.plan.organising_org_id, None, Some(("backup_request", r.id))).await?;
    tx.commit(AuditEntry::new(
        "backup.decide",
        "backup_request",
        r.id,
        json!({"state": t.from()}),
        json!({"state": t.to(), "opinion": input.opinion.trim()}),
    ))
    .await?;
    backup_view(s, store::get_backup_request(s.store.reader(), r.id).await?).await
}

/// A task's backup requests, newest first (the team and the organising bureau).
pub async fn backup_requests(s: &Services, actor: &Actor, task_id: i64) -> Result<Vec<BackupRequestView>> {
    let c = ctx(s, task_id).await?;
    c.rel(actor).visible(Action::ViewTask, "抽样任务")?;
    let mut out = Vec::new();
    for r in store::backup_requests_of(s.store.reader(), task_id).await? {
        out.push(backup_view(s, r).await?);
    }
    Ok(out)
}

/// One backup request (the team and the organising bureau).
pub async fn get_backup_request(s: &Services, actor: &Actor, id: i64) -> Result<BackupRequestView> {
    let r = store::get_backup_request(s.store.reader(), id).await.map_err(ServiceError::not_found("封存申请"))?;
    let c = ctx(s, r.task_id).await?;
    c.rel(actor).visible(Action::ViewTask, "封存申请")?;
    backup_view(s, r).await
}

// ---------------------------------------------------------------------------------------------
// Arrival: what was shown to the enterprise

/// Where the backup portion is kept, as the sampling record prints it.
pub(crate) async fn backup_kept_at(s: &Services, task_id: i64) -> Result<String> {
    Ok(
        match store::backup_requests_of(s.store.reader(), task_id)
            .await?
            .into_iter()
            .find(|r| r.state == BackupRequestState::Approved)
        {
            Some(r) => format!("被抽样单位：{}（经组织监督抽查的部门批准封存）", r.storage_place),
            None => "检验机构".into(),
        },
    )
}
