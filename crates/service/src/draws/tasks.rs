//! The sampling tasks a draw creates, as their team sees them: views, starting work, conflicts.

use choucha_domain::RuleViolation;
use choucha_domain::access::Action;
use choucha_domain::sampling::{TaskAction, TaskState};
use choucha_domain::workflow;
use choucha_store::audit::AuditEntry;
pub use choucha_store::draws::TaskFilter;
use choucha_store::draws::{self as store_draws};
use choucha_store::plans::{self as store_plans, ItemRow, PlanRow};
use choucha_store::{Page, enterprises};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeSet;

use crate::access::Ask;
use crate::{Actor, Result, ServiceError, Services, implementation_rules, page_limit};

use super::load;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TaskView {
    pub id: i64,
    pub plan_id: i64,
    pub plan_title: String,
    pub item_id: i64,
    pub product: String,
    pub enterprise_id: i64,
    pub enterprise_name: String,
    pub enterprise_uscc: String,
    pub enterprise_address: String,
    pub team: Vec<String>,
    /// The team's user ids, in the order of `team`.
    pub team_ids: Vec<i64>,
    pub state: TaskState,
    pub state_label: String,
    pub due_date: Option<chrono::NaiveDate>,
    /// Whether the item's implementation rules are published (sampling may start).
    pub rules_published: bool,
    /// Rule 16: sampling information is due by the end of the day after sampling (China's time).
    pub entry_deadline: Option<chrono::DateTime<Utc>>,
    /// The record was locked after the deadline.
    pub entry_late: bool,
    /// The deadline passed and the record is not locked yet.
    pub entry_overdue: bool,
    /// The task's completion date has passed and it has not been sampled or ended.
    pub overdue: bool,
    /// A 复查 task: the post-processing case it is the 复查 of.
    pub follow_up_of_case: Option<i64>,
    /// 复查 / 再次复查 for a 复查 task, else empty.
    pub follow_up_label: String,
    /// What the caller may do with the task (the permission matrix's answer).
    #[schema(value_type = Vec<String>)]
    pub actions: Vec<Action>,
}

async fn task_view(s: &Services, actor: &Actor, t: choucha_store::draws::TaskRow) -> Result<TaskView> {
    task_views(s, actor, vec![t]).await?.pop().ok_or(ServiceError::NotFound("抽样任务"))
}

/// The views of a page of tasks, the same as `task_view` of each, with what `actor` may do with
/// each: one query per table (items, plans, enterprises, teams with their names, published rules,
/// records, arrivals, 复查 links) instead of ~7 per task, and those that do not depend on each
/// other sent together, so a page costs three round trips to the database, not nine.
async fn task_views(s: &Services, actor: &Actor, tasks: Vec<choucha_store::draws::TaskRow>) -> Result<Vec<TaskView>> {
    use std::collections::BTreeMap as Map;
    if tasks.is_empty() {
        return Ok(Vec::new());
    }
    let db = s.store.reader();
    let today = s.today();
    let item_ids: Vec<i64> = tasks.iter().map(|t| t.item_id).collect();
    let plan_ids: Vec<i64> = tasks.iter().map(|t| t.plan_id).collect();
    let enterprise_ids: Vec<i64> = tasks.iter().map(|t| t.enterprise_id).collect();
    let task_ids: Vec<i64> = tasks.iter().map(|t| t.id).collect();
    let (items, plans, ents, team_rows, published, entries, follow_ups) = futures::try_join!(
        async { Ok::<_, ServiceError>(store_plans::get_items(db, &item_ids).await?) },
        async { Ok(store_plans::get_plans(db, &plan_ids).await?) },
        async { Ok(enterprises::get_many(db, &enterprise_ids).await?) },
        async { Ok(store_draws::team_names_of(db, &task_ids).await?) },
        async { Ok(choucha_store::implementation_rules::items_with_published_rules(db, &item_ids).await?) },
        crate::entry_deadlines::entries_of_tasks(s, &tasks, s.now()),
        async { Ok(choucha_store::cases::follow_ups_of_tasks(db, &task_ids).await?) },
    )?;
    let items: Map<i64, ItemRow> = items.into_iter().map(|i| (i.id, i)).collect();
    let plans: Map<i64, PlanRow> = plans.into_iter().map(|p| (p.id, p)).collect();
    let ents: Map<i64, choucha_store::enterprises::EnterpriseRow> = ents.into_iter().map(|e| (e.id, e)).collect();
    let mut teams: Map<i64, Vec<(i64, String)>> = Map::new();
    for (task, user, name) in team_rows {
        teams.entry(task).or_default().push((user, name));
    }
    let published: BTreeSet<i64> = published.into_iter().collect();
    let follow_ups: Map<i64, choucha_store::cases::FollowUpRow> =
        follow_ups.into_iter().map(|f| (f.task_id, f)).collect();
    let mut out = Vec::with_capacity(tasks.len());
    for t in tasks {
        // The errors `task_view` gives for a missing row.
        let item = items.get(&t.item_id).cloned().ok_or(ServiceError::NotFound("计划条目"))?;
        let plan = plans.get(&item.plan_id).cloned().ok_or(choucha_store::StoreError::NotFound)?;
        let e = ents.get(&t.enterprise_id).cloned().ok_or(choucha_store::StoreError::NotFound)?;
        let (team_ids, team): (Vec<i64>, Vec<String>) = teams.remove(&t.id).unwrap_or_default().into_iter().unzip();
        let entry = entries.get(&t.id).copied();
        let actions = actor.to_task(crate::access::task_parties(&plan, &item, &team_ids)).actions(TASK_ACTIONS);
        let follow_up = follow_ups.get(&t.id);
        out.push(TaskView {
            follow_up_of_case: follow_up.map(|f| f.case_id),
            follow_up_label: follow_up
                .map(|f| if f.round >= 2 { "再次复查" } else { "复查" })
                .unwrap_or_default()
                .into(),
            id: t.id,
            plan_id: plan.id,
            plan_title: plan.title,
            item_id: item.id,
            rules_published: published.contains(&item.id),
            product: item.product,
            enterprise_id: e.id,
            enterprise_name: e.name,
            enterprise_uscc: e.uscc,
            enterprise_address: e.address,
            team,
            team_ids,
            state_label: t.state.label().to_string(),
            state: t.state,
            overdue: t.due_date.is_some_and(|d| d < today)
                && matches!(t.state, TaskState::Assigned | TaskState::InProgress),
            due_date: t.due_date,
            entry_deadline: entry.map(|e| e.deadline),
            entry_late: entry.is_some_and(|e| e.late),
            entry_overdue: entry.is_some_and(|e| e.overdue),
            actions,
        });
    }
    Ok(out)
}

/// A sampler's own tasks, newest first.
pub async fn my_tasks(s: &Services, actor: &Actor, cursor: Option<i64>, limit: Option<u64>) -> Result<Page<TaskView>> {
    my_tasks_filtered(s, actor, &TaskFilter::default(), cursor, limit).await
}

/// A sampler's own tasks in one state and/or with `text` in the enterprise's name or the product,
/// newest first.
pub async fn my_tasks_filtered(
    s: &Services,
    actor: &Actor,
    filter: &TaskFilter,
    cursor: Option<i64>,
    limit: Option<u64>,
) -> Result<Page<TaskView>> {
    actor.require(Action::ClaimTask)?;
    let p = store_draws::tasks_of_user(s.store.reader(), actor.user_id, filter, cursor, page_limit(limit)?).await?;
    Ok(Page { items: task_views(s, actor, p.items).await?, next: p.next })
}

pub async fn get_task(s: &Services, actor: &Actor, id: i64) -> Result<TaskView> {
    let db = s.store.reader();
    let t = store_draws::get_task(db, id).await.map_err(ServiceError::not_found("抽样任务"))?;
    let (item, plan) = load(s, t.item_id).await?;
    let team = store_draws::team_of(db, id).await?;
    actor.to_task(crate::access::task_parties(&plan, &item, &team)).visible(Action::ViewTask, "抽样任务")?;
    task_view(s, actor, t).await
}

/// The actions a task view offers.
const TASK_ACTIONS: &[Action] = &[
    Action::WorkOnSite,
    Action::HandOver,
    Action::MarkNotSampled,
    Action::ViewEvidence,
    Action::ViewCustody,
    Action::ReassignTask,
];

/// A team member starts sampling on site. Refused until the item's rules are published (rule 3).
pub async fn start_task(s: &Services, actor: &Actor, id: i64) -> Result<TaskView> {
    let db = s.store.reader();
    let t = store_draws::get_task(db, id).await.map_err(ServiceError::not_found("抽样任务"))?;
    let (item, plan) = load(s, t.item_id).await?;
    let team = store_draws::team_of(db, id).await?;
    actor
        .to_task(crate::access::task_parties(&plan, &item, &team))
        .require_or(Action::WorkOnSite, "只有该任务抽样组的成员可以开始抽样")?;
    let next = workflow::step(t.state, TaskAction::Start)?;
    let rules = implementation_rules::require_published(s, t.item_id).await?;
    let tx = s.write(actor).await?;
    store_draws::set_task_state(&tx, id, next).await?;
    tx.commit(AuditEntry::new(
        "task.start",
        "sampling_task",
        id,
        json!({"state": "assigned"}),
        json!({"state": "in_progress", "rules_version": rules.version}),
    ))
    .await?;
    get_task(s, actor, id).await
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct ConflictInput {
    /// USCC of the enterprise the sampler must not visit.
    pub enterprise_uscc: String,
    /// e.g. 近亲属在该企业任职
    pub reason: String,
}

/// A sampler declares a conflict of interest (回避) with an enterprise; draws never send them there.
pub async fn declare_conflict(s: &Services, actor: &Actor, input: ConflictInput) -> Result<()> {
    actor.require_or(Action::ClaimTask, "只有抽样人员需要申报回避")?;
    if input.reason.trim().is_empty() {
        return Err(ServiceError::invalid(RuleViolation::new("required", "请说明回避理由").on_field("reason")));
    }
    let ent = enterprises::find_by_uscc(s.store.reader(), &input.enterprise_uscc.trim().to_uppercase())
        .await?
        .ok_or_else(|| {
            ServiceError::invalid(
                RuleViolation::new("unknown_enterprise", "名录库中没有该企业").on_field("enterprise_uscc"),
            )
        })?;
    let tx = s.write(actor).await?;
    store_draws::insert_conflict(&tx, actor.user_id, ent.id, input.reason.trim()).await.map_err(|e| match e {
        choucha_store::StoreError::Duplicate(_) => {
            ServiceError::invalid(RuleViolation::new("duplicate", "已申报过对该企业的回避").on_field("enterprise_uscc"))
        }
        other => other.into(),
    })?;
    tx.commit(AuditEntry::new(
        "sampler.conflict",
        "user",
        actor.user_id,
        json!(null),
        json!({"enterprise_id": ent.id, "reason": input.reason.trim()}),
    ))
    .await?;
    Ok(())
}
