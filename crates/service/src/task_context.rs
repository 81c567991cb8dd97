//! The sampling task as the on-site and hand-over use cases load it: the task, its team, its plan
//! and item, how the caller stands towards it, and small helpers they share.

use choucha_domain::RuleViolation;
use choucha_domain::sampling::{RecordFields, RecordState};
use choucha_store::draws::{self as store_draws, TaskRow};
use choucha_store::enterprises;
use choucha_store::plans::{self as store_plans, ItemRow, PlanRow};
use choucha_store::sampling::{self as store_sampling, RecordRow};

use crate::access::Ask;
use crate::{Actor, Result, ServiceError, Services};
use choucha_domain::access::{Action, Relations};

/// A task with what its checks need.
pub(crate) struct Ctx {
    pub(crate) task: TaskRow,
    pub(crate) team: Vec<i64>,
    pub(crate) plan: PlanRow,
    pub(crate) item: ItemRow,
}

pub(crate) async fn ctx(s: &Services, task_id: i64) -> Result<Ctx> {
    let db = s.store.reader();
    let task = store_draws::get_task(db, task_id).await.map_err(ServiceError::not_found("抽样任务"))?;
    let team = store_draws::team_of(db, task_id).await?;
    let item = store_plans::get_item(db, task.item_id).await?;
    let plan = store_plans::get_plan(db, item.plan_id).await?;
    Ok(Ctx { task, team, plan, item })
}

impl Ctx {
    /// How the caller stands towards the task (the local bureau is not looked up).
    pub(crate) fn rel(&self, a: &Actor) -> Relations {
        a.to_task(crate::access::task_parties(&self.plan, &self.item, &self.team))
    }

    /// As [`Ctx::rel`], with the enterprise's local bureau looked up.
    pub(crate) async fn rel_with_local(&self, s: &Services, a: &Actor) -> Result<Relations> {
        let ent = enterprises::get(s.store.reader(), self.task.enterprise_id).await?;
        let local = store_sampling::local_bureau_of(s.store.reader(), &ent.division_code).await?;
        let mut parties = crate::access::task_parties(&self.plan, &self.item, &self.team);
        parties.local_org_id = local;
        Ok(a.to_task(parties))
    }

    pub(crate) fn is_team(&self, a: &Actor) -> bool {
        self.rel(a).contains(choucha_domain::access::Relation::SamplingTeam)
    }

    /// Only a sampler of the task's team acts on site.
    pub(crate) fn require_team(&self, a: &Actor) -> Result<()> {
        if self.is_team(a) {
            Ok(())
        } else {
            Err(ServiceError::Forbidden("只有该任务抽样组的抽样人员可以办理".into()))
        }
    }

    pub(crate) fn record_no(&self, version: i32) -> String {
        format!("{}-{:06}-{}", self.plan.year, self.task.id, version)
    }
}

/// The documents of a task: the team, the organising bureau, the enterprise's local bureau
/// (never a tester: the documents name the enterprise).
pub(crate) async fn documents_ctx(s: &Services, a: &Actor, task_id: i64) -> Result<Ctx> {
    let c = ctx(s, task_id).await?;
    c.rel_with_local(s, a).await?.visible(Action::ViewTaskDocuments, "抽样任务")?;
    Ok(c)
}

pub(crate) fn rule(code: &'static str, message: impl Into<String>) -> ServiceError {
    ServiceError::Rule(RuleViolation::new(code, message))
}

pub(crate) fn required(field: &'static str, message: &str) -> RuleViolation {
    RuleViolation::new("required", message).on_field(field)
}

/// The version in force: the newest signed one, else the newest.
pub(crate) async fn in_force(s: &Services, task_id: i64) -> Result<Option<(RecordRow, RecordFields)>> {
    let versions = store_sampling::records_of_task(s.store.reader(), task_id).await?;
    let Some(r) = versions.iter().find(|v| v.state == RecordState::Signed).or(versions.first()).cloned() else {
        return Ok(None);
    };
    let f: RecordFields = serde_json::from_str(&r.fields_json).map_err(ServiceError::internal)?;
    Ok(Some((r, f)))
}

pub(crate) fn seals(v: &[String]) -> String {
    v.iter().map(|s| s.trim()).filter(|s| !s.is_empty()).collect::<Vec<_>>().join("、")
}
