//! On site: the arrival at the enterprise (notice, identity and authorisation shown), and a drawn
//! enterprise that cannot be sampled (the place goes back to the quota).

use choucha_domain::RuleViolation;
use choucha_domain::sampling::{NotSampledReason, TaskAction, TaskState};
use choucha_domain::workflow;
use choucha_store::audit::AuditEntry;
use choucha_store::draws::{self as store_draws};
use choucha_store::enterprises;
use choucha_store::handover::{self as store};
use choucha_store::sampling::{self as store_sampling};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::access::Ask;
use crate::task_context::{ctx, required, rule};
use crate::{Actor, Result, ServiceError, Services};
use choucha_domain::access::Action;

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct ArrivalInput {
    /// 出示抽查通知书
    pub notice_shown: bool,
    /// 出示抽样人员身份证明
    pub identity_shown: bool,
    /// 出示授权委托书
    pub authorisation_shown: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ArrivalView {
    pub task_id: i64,
    pub notice_shown: bool,
    pub identity_shown: bool,
    pub authorisation_shown: bool,
    pub arrived_at: DateTime<Utc>,
}

/// The team records, on arrival, that the spot-check notice, their identity and the authorisation
/// letter were shown to the enterprise (once per task, after starting it).
pub async fn record_arrival(s: &Services, actor: &Actor, task_id: i64, input: ArrivalInput) -> Result<ArrivalView> {
    let c = ctx(s, task_id).await?;
    c.require_team(actor)?;
    if c.task.state != TaskState::InProgress {
        return Err(rule("task_state", "请先“开始抽样”再登记到达企业"));
    }
    let mut errs = Vec::new();
    for (ok, field, label) in [
        (input.notice_shown, "notice_shown", "监督抽查通知书"),
        (input.identity_shown, "identity_shown", "抽样人员身份证明"),
        (input.authorisation_shown, "authorisation_shown", "授权委托书"),
    ] {
        if !ok {
            errs.push(
                RuleViolation::new("documents_not_shown", format!("抽样前须向被抽样单位出示{label}")).on_field(field),
            );
        }
    }
    if !errs.is_empty() {
        return Err(ServiceError::Invalid(errs));
    }
    let tx = s.write(actor).await?;
    let row =
        store::insert_arrival(&tx, task_id, [true, true, true], actor.user_id, s.now()).await.map_err(|e| match e {
            choucha_store::StoreError::Duplicate(_) => rule("already_recorded", "已登记到达企业"),
            other => other.into(),
        })?;
    tx.commit(AuditEntry::new(
        "task.arrival",
        "sampling_task",
        task_id,
        json!(null),
        json!({"notice_shown": true, "identity_shown": true, "authorisation_shown": true}),
    ))
    .await?;
    Ok(ArrivalView {
        task_id,
        notice_shown: row.notice_shown,
        identity_shown: row.identity_shown,
        authorisation_shown: row.authorisation_shown,
        arrived_at: row.arrived_at,
    })
}

/// What the team recorded on arrival, if anything: for the team and the organising bureau.
pub async fn arrival(s: &Services, actor: &Actor, task_id: i64) -> Result<Option<ArrivalView>> {
    let c = ctx(s, task_id).await?;
    c.rel(actor).visible(Action::ViewTask, "抽样任务")?;
    Ok(store::arrival_of(s.store.reader(), task_id).await?.map(|row| ArrivalView {
        task_id,
        notice_shown: row.notice_shown,
        identity_shown: row.identity_shown,
        authorisation_shown: row.authorisation_shown,
        arrived_at: row.arrived_at,
    }))
}

// ---------------------------------------------------------------------------------------------
// Not sampled

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct NotSampledInput {
    /// closed (停业) | not_found (查无此企业) | no_stock (无符合最低基数的库存) | not_for_sale (非销售产品) | other (其他)
    pub reason_kind: String,
    /// Required for `other`.
    #[serde(default)]
    pub note: String,
}

/// The drawn enterprise cannot be sampled (assigned or in progress): recorded with its reason by
/// the team or the organising bureau; the place goes back to the quota for a redraw, and the
/// organising bureau is told in its inbox.
pub async fn mark_not_sampled(s: &Services, actor: &Actor, task_id: i64, input: NotSampledInput) -> Result<TaskState> {
    let c = ctx(s, task_id).await?;
    c.rel(actor).require_or(Action::MarkNotSampled, "只有该任务的抽样组或组织监督抽查的部门可以记为未抽样")?;
    let t = workflow::step(c.task.state, TaskAction::MarkNotSampled)?;
    let reason: NotSampledReason = input.reason_kind.trim().parse().map_err(ServiceError::invalid)?;
    if reason == NotSampledReason::Other && input.note.trim().is_empty() {
        return Err(ServiceError::invalid(required("note", "原因为“其他”时请说明情况")));
    }
    let ent = enterprises::get(s.store.reader(), c.task.enterprise_id).await?;
    let tx = s.write(actor).await?;
    let o = store_sampling::insert_outcome(
        &tx,
        task_id,
        "not_sampled",
        json!({"reason_kind": reason.as_str(), "reason": reason.label(), "note": input.note.trim()}).to_string(),
        actor.user_id,
    )
    .await?;
    store_draws::set_task_state(&tx, task_id, t).await?;
    store_sampling::insert_inbox(
        &tx,
        c.plan.organising_org_id,
        "not_sampled",
        &format!("未抽样（{}）：{}（{}），可重新抽取", reason.label(), ent.name, c.item.product),
        "sampling_task",
        task_id,
    )
    .await?;
    tx.commit(AuditEntry::new(
        "task.not_sampled",
        "sampling_task",
        task_id,
        json!({"state": t.from()}),
        json!({"state": t.to(), "reason_kind": reason.as_str(), "note": input.note.trim(), "outcome_id": o.id}),
    ))
    .await?;
    Ok(t.to())
}

// ---------------------------------------------------------------------------------------------
// Rule 16: entry deadline
