//! Amendments of an issued plan (quota changes, with their reason).

use choucha_domain::RuleViolation;
use choucha_domain::plan::{self as rules, PlanState};
use choucha_store::audit::AuditEntry;
use choucha_store::plans::{self as store_plans};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{Actor, Result, ServiceError, Services};

use super::{PlanView, check_manage, get};

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct QuotaChange {
    pub item_id: i64,
    /// New quota of the item's quota group.
    pub quota: u32,
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct AmendmentInput {
    pub reason: String,
    pub changes: Vec<QuotaChange>,
}

/// Change quotas of an issued plan: a recorded amendment with its reason. A quota never drops
/// below the tasks already drawn against it.
pub async fn amend(s: &Services, actor: &Actor, id: i64, input: AmendmentInput) -> Result<PlanView> {
    let plan = store_plans::get_plan(s.store.reader(), id).await.map_err(ServiceError::not_found("计划"))?;
    check_manage(actor, Some(&plan))?;
    let state: PlanState = plan.state;
    rules::check_quota_change(state, Some(input.reason.as_str()))?;
    if state == PlanState::Draft {
        return Err(ServiceError::Rule(RuleViolation::new("plan_state", "草稿计划可直接修改，无需变更记录")));
    }
    let before = get(s, actor, id).await?;
    let mut changes = Vec::new();
    for c in &input.changes {
        let item = before.items.iter().find(|i| i.id == c.item_id).ok_or(ServiceError::NotFound("计划条目"))?;
        if c.quota == 0 || (c.quota as i64) < item.group_tasks {
            return Err(ServiceError::invalid(
                RuleViolation::new(
                    "invalid_quota",
                    format!("“{}”的批次不能少于已下达的抽样任务数（{}）", item.product, item.group_tasks),
                )
                .on_field("quota"),
            ));
        }
        changes.push((item.group_id, item.product.clone(), item.group_quota, c.quota));
    }
    if changes.is_empty() {
        return Err(ServiceError::invalid(RuleViolation::new("required", "没有要调整的批次").on_field("changes")));
    }
    let tx = s.write(actor).await?;
    for (g, _, _, q) in &changes {
        store_plans::set_group_quota(&tx, *g, *q as i32).await?;
    }
    let before_j = json!(changes.iter().map(|(_, p, old, _)| json!({"product": p, "quota": old})).collect::<Vec<_>>());
    let after_j = json!(changes.iter().map(|(_, p, _, new)| json!({"product": p, "quota": new})).collect::<Vec<_>>());
    let a = store_plans::insert_amendment(
        &tx,
        id,
        input.reason.trim(),
        before_j.to_string(),
        after_j.to_string(),
        actor.user_id,
    )
    .await?;
    tx.commit(AuditEntry::new(
        "plan.amend",
        "plan",
        id,
        before_j,
        json!({"amendment_id": a.id, "reason": input.reason, "changes": after_j}),
    ))
    .await?;
    get(s, actor, id).await
}
