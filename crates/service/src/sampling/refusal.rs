//! Refusals of sampling co-signed by the enterprise's local bureau (rule 11), and problem reports
//! that stop sampling and reach both bureaus at once (rule 10).

use crate::Write;
use choucha_domain::RuleViolation;
use choucha_domain::sampling::{TaskAction, TaskState};
use choucha_domain::workflow;
use choucha_store::audit::AuditEntry;
use choucha_store::draws::{self as store_draws};
use choucha_store::enterprises;
use choucha_store::sampling::{self as store};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::access::{Ask, TaskParties};
use crate::{Actor, Result, ServiceError, Services};
use choucha_domain::access::Action;

use super::{Ctx, load};

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct RefusalInput {
    /// 拒检经过: what happened (e.g. 以明显不合理的样品价格阻碍抽样).
    pub facts: String,
    /// 拒检理由: the reasons the enterprise gave, as it gave them.
    #[serde(default)]
    pub reasons: String,
    /// 见证人, where someone witnessed the refusal.
    #[serde(default)]
    pub witness_name: String,
}

async fn notify_bureaus(s: &Services, tx: &Write, c: &Ctx, kind: &str, title: &str, ref_id: i64) -> Result<()> {
    let ent = enterprises::get(s.store.reader(), c.task.enterprise_id).await?;
    store::insert_inbox(tx, c.plan.organising_org_id, kind, title, "sampling_task", ref_id).await?;
    if let Some(local) = store::local_bureau_of(s.store.reader(), &ent.division_code).await?
        && local != c.plan.organising_org_id
    {
        store::insert_inbox(tx, local, kind, title, "sampling_task", ref_id).await?;
    }
    Ok(())
}

/// The enterprise refuses sampling (拒检): recorded by the team, final only when the enterprise's
/// local bureau co-signs (rule 11).
pub async fn refuse(s: &Services, actor: &Actor, task_id: i64, input: RefusalInput) -> Result<TaskState> {
    let c = load(s, actor, task_id, true).await?;
    let next = workflow::step(c.task.state, TaskAction::Refuse)?;
    let mut errs = Vec::new();
    if input.facts.trim().is_empty() {
        errs.push(RuleViolation::new("required", "请如实记录拒检经过").on_field("facts"));
    }
    if input.reasons.trim().is_empty() {
        errs.push(
            RuleViolation::new("required", "请记录企业拒绝抽样的理由（企业未说明理由的，写“未说明理由”）")
                .on_field("reasons"),
        );
    }
    if !errs.is_empty() {
        return Err(ServiceError::Invalid(errs));
    }
    let ent = enterprises::get(s.store.reader(), c.task.enterprise_id).await?;
    let tx = s.write(actor).await?;
    let details = json!({
        "facts": input.facts.trim(),
        "reasons": input.reasons.trim(),
        "witness_name": input.witness_name.trim(),
    });
    let o = store::insert_outcome(&tx, task_id, "refusal", details.to_string(), actor.user_id).await?;
    store_draws::set_task_state(&tx, task_id, next).await?;
    notify_bureaus(s, &tx, &c, "refusal", &format!("拒检待认定：{}（{}）", ent.name, c.item.product), task_id).await?;
    tx.commit(AuditEntry::new(
        "task.refuse",
        "sampling_task",
        task_id,
        json!({"state": c.task.state}),
        json!({"state": next.to().as_str(), "outcome_id": o.id}),
    ))
    .await?;
    Ok(next.to())
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct CosignInput {
    pub opinion: String,
}

/// The enterprise's local bureau co-signs the refusal determination (拒检认定表); the task is then
/// a final refusal, published as 拒检.
pub async fn cosign_refusal(s: &Services, actor: &Actor, task_id: i64, input: CosignInput) -> Result<TaskState> {
    let db = s.store.reader();
    let task = store_draws::get_task(db, task_id).await.map_err(ServiceError::not_found("抽样任务"))?;
    let ent = enterprises::get(db, task.enterprise_id).await?;
    let local = store::local_bureau_of(db, &ent.division_code).await?;
    let parties = TaskParties {
        organising_org_id: 0,
        sampling_org_id: None,
        testing_org_id: None,
        team: &[],
        local_org_id: local,
    };
    actor
        .to_task(parties)
        .require_or(Action::ConfirmRefusal, "拒检须由被抽样企业所在地县级市场监管部门会同认定（规则11）")?;
    let next = workflow::step(task.state, TaskAction::CosignRefusal)?;
    if input.opinion.trim().is_empty() {
        return Err(ServiceError::invalid(RuleViolation::new("required", "请填写认定意见").on_field("opinion")));
    }
    let outcome = store::outcomes_of(db, task_id)
        .await?
        .into_iter()
        .rev()
        .find(|o| o.kind == "refusal")
        .ok_or(ServiceError::NotFound("拒检记录"))?;
    let tx = s.write(actor).await?;
    store::cosign_outcome(&tx, outcome.id, actor.user_id, input.opinion.trim()).await?;
    store_draws::set_task_state(&tx, task_id, next).await?;
    // Rule 20: a final refusal opens its post-processing case.
    crate::cases::open_for_refusal(s, &tx, actor, task_id).await?;
    tx.commit(AuditEntry::new(
        "task.refusal_cosign",
        "sampling_task",
        task_id,
        json!({"state": task.state}),
        json!({"state": next.to().as_str(), "opinion": input.opinion.trim()}),
    ))
    .await?;
    Ok(next.to())
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct ProblemInput {
    /// e.g. 无证无照
    pub violation: String,
    pub facts: String,
}

/// A violation found on site (无证无照…) stops sampling and reaches the organising bureau and the
/// enterprise's local bureau at once (rule 10).
pub async fn report_problem(s: &Services, actor: &Actor, task_id: i64, input: ProblemInput) -> Result<TaskState> {
    let c = load(s, actor, task_id, true).await?;
    let next = workflow::step(c.task.state, TaskAction::ReportProblem)?;
    let mut errs = Vec::new();
    if input.violation.trim().is_empty() {
        errs.push(RuleViolation::new("required", "请填写涉嫌违法情形（如无证无照）").on_field("violation"));
    }
    if input.facts.trim().is_empty() {
        errs.push(RuleViolation::new("required", "请如实记录发现的情况").on_field("facts"));
    }
    if !errs.is_empty() {
        return Err(ServiceError::Invalid(errs));
    }
    let ent = enterprises::get(s.store.reader(), c.task.enterprise_id).await?;
    let tx = s.write(actor).await?;
    let o = store::insert_outcome(
        &tx,
        task_id,
        "problem",
        json!({"violation": input.violation.trim(), "facts": input.facts.trim()}).to_string(),
        actor.user_id,
    )
    .await?;
    store_draws::set_task_state(&tx, task_id, next).await?;
    notify_bureaus(
        s,
        &tx,
        &c,
        "problem",
        &format!("问题报送：{}涉嫌{}（{}）", ent.name, input.violation.trim(), c.item.product),
        task_id,
    )
    .await?;
    tx.commit(AuditEntry::new(
        "task.problem",
        "sampling_task",
        task_id,
        json!({"state": c.task.state}),
        json!({"state": next.to().as_str(), "outcome_id": o.id}),
    ))
    .await?;
    Ok(next.to())
}
