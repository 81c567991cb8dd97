//! Post-processing cases (rule 20) with their steps, and the versioned rule sets of time limits with
//! the selection each bureau's division applies.

use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use choucha_domain::cases::CaseState;
use choucha_domain::workflow::Transition;

use crate::entity::{case, case_follow_up, case_rule_selection, case_rule_set, case_step};
pub use crate::migration::NATIONAL;
use crate::{Page, StoreError, Tx};

pub type RuleSetRow = case_rule_set::Model;
pub type RuleSelectionRow = case_rule_selection::Model;
pub type CaseRow = case::Model;
pub type CaseStepRow = case_step::Model;
pub type FollowUpRow = case_follow_up::Model;

// ---- Rule sets --------------------------------------------------------------------------------

pub async fn rule_sets(db: &impl ConnectionTrait) -> Result<Vec<RuleSetRow>, StoreError> {
    Ok(case_rule_set::Entity::find()
        .order_by_asc(case_rule_set::Column::Name)
        .order_by_asc(case_rule_set::Column::Version)
        .all(db)
        .await?)
}

pub async fn get_rule_set(db: &impl ConnectionTrait, id: i64) -> Result<RuleSetRow, StoreError> {
    case_rule_set::Entity::find_by_id(id).one(db).await?.ok_or(StoreError::NotFound)
}

/// A new version of the rule set `name` (version 1 when the name is new). Versions are never edited.
pub async fn insert_rule_set(
    tx: &Tx,
    name: &str,
    limits_json: &str,
    note: &str,
    by: i64,
) -> Result<RuleSetRow, StoreError> {
    let last = case_rule_set::Entity::find()
        .filter(case_rule_set::Column::Name.eq(name))
        .order_by_desc(case_rule_set::Column::Version)
        .one(&**tx)
        .await?;
    Ok(case_rule_set::ActiveModel {
        name: Set(name.to_string()),
        version: Set(last.map(|r| r.version + 1).unwrap_or(1)),
        limits_json: Set(limits_json.to_string()),
        note: Set(note.to_string()),
        created_by: Set(Some(by)),
        created_at: Set(tx.now()),
        ..Default::default()
    }
    .insert(&**tx)
    .await?)
}

pub async fn rule_selections(db: &impl ConnectionTrait) -> Result<Vec<RuleSelectionRow>, StoreError> {
    Ok(case_rule_selection::Entity::find().order_by_asc(case_rule_selection::Column::DivisionCode).all(db).await?)
}

/// The selection of the most specific division of `divisions` (listed most specific first).
pub async fn rule_selection_for(
    db: &impl ConnectionTrait,
    divisions: &[String],
) -> Result<Option<RuleSelectionRow>, StoreError> {
    let rows = case_rule_selection::Entity::find()
        .filter(case_rule_selection::Column::DivisionCode.is_in(divisions.iter().map(String::as_str)))
        .all(db)
        .await?;
    Ok(divisions.iter().find_map(|d| rows.iter().find(|r| &r.division_code == d)).cloned())
}

pub async fn select_rule_set(tx: &Tx, division: &str, rule_set_id: i64, by: i64) -> Result<(), StoreError> {
    let existing = case_rule_selection::Entity::find()
        .filter(case_rule_selection::Column::DivisionCode.eq(division))
        .one(&**tx)
        .await?;
    let fresh = existing.is_none();
    let mut am = match existing {
        Some(r) => case_rule_selection::ActiveModel::from(r),
        None => case_rule_selection::ActiveModel { division_code: Set(division.to_string()), ..Default::default() },
    };
    am.rule_set_id = Set(rule_set_id);
    am.updated_by = Set(Some(by));
    am.updated_at = Set(tx.now());
    if fresh {
        am.insert(&**tx).await?;
    } else {
        am.update(&**tx).await?;
    }
    Ok(())
}

// ---- Cases -------------------------------------------------------------------------------------

#[derive(Debug, Clone, Default)]
pub struct NewCase {
    pub kind: String,
    pub plan_id: i64,
    pub task_id: i64,
    pub sample_id: Option<i64>,
    pub report_id: Option<i64>,
    pub report_no: String,
    pub product: String,
    pub enterprise_id: i64,
    pub bureau_org_id: i64,
    pub organising_org_id: i64,
    pub producer_name: String,
    pub producer_org_id: Option<i64>,
    pub rule_set_id: i64,
    pub opened_on: NaiveDate,
    pub due_on: Option<NaiveDate>,
}

pub async fn insert_case(tx: &Tx, c: NewCase) -> Result<CaseRow, StoreError> {
    let now = tx.now();
    Ok(case::ActiveModel {
        kind: Set(c.kind),
        plan_id: Set(c.plan_id),
        task_id: Set(c.task_id),
        sample_id: Set(c.sample_id),
        report_id: Set(c.report_id),
        report_no: Set(c.report_no),
        product: Set(c.product),
        enterprise_id: Set(c.enterprise_id),
        bureau_org_id: Set(c.bureau_org_id),
        organising_org_id: Set(c.organising_org_id),
        producer_name: Set(c.producer_name),
        producer_org_id: Set(c.producer_org_id),
        rule_set_id: Set(c.rule_set_id),
        state: Set(CaseState::Open),
        opened_on: Set(c.opened_on),
        due_on: Set(c.due_on),
        closed_reason: Set(String::new()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&**tx)
    .await?)
}

pub async fn get_case(db: &impl ConnectionTrait, id: i64) -> Result<CaseRow, StoreError> {
    case::Entity::find_by_id(id).one(db).await?.ok_or(StoreError::NotFound)
}

pub async fn case_of_task(db: &impl ConnectionTrait, kind: &str, task_id: i64) -> Result<Option<CaseRow>, StoreError> {
    Ok(case::Entity::find()
        .filter(case::Column::Kind.eq(kind))
        .filter(case::Column::TaskId.eq(task_id))
        .one(db)
        .await?)
}

/// The open cases of a sample.
pub async fn open_cases_of_sample(db: &impl ConnectionTrait, sample_id: i64) -> Result<Vec<CaseRow>, StoreError> {
    Ok(case::Entity::find()
        .filter(case::Column::SampleId.eq(sample_id))
        .filter(case::Column::State.ne(CaseState::Closed))
        .all(db)
        .await?)
}

/// What a step changes on its case.
#[derive(Debug, Clone)]
pub struct CasePatch {
    pub transition: Transition<CaseState>,
    pub stop_ordered_on: Option<NaiveDate>,
    pub correction_ordered_on: Option<NaiveDate>,
    pub escalated_on: Option<NaiveDate>,
    pub due_on: Option<NaiveDate>,
    pub rectify_due: Option<NaiveDate>,
    pub closed_on: Option<NaiveDate>,
    pub closed_reason: String,
}

/// Moves a case along the patch's transition; zero rows (someone moved it first) is a conflict.
pub async fn update_case(tx: &Tx, id: i64, p: CasePatch) -> Result<(), StoreError> {
    use case::Column as C;
    let res = case::Entity::update_many()
        .col_expr(C::State, p.transition.to().into())
        .col_expr(C::StopOrderedOn, p.stop_ordered_on.into())
        .col_expr(C::CorrectionOrderedOn, p.correction_ordered_on.into())
        .col_expr(C::EscalatedOn, p.escalated_on.into())
        .col_expr(C::DueOn, p.due_on.into())
        .col_expr(C::RectifyDue, p.rectify_due.into())
        .col_expr(C::ClosedOn, p.closed_on.into())
        .col_expr(C::ClosedReason, p.closed_reason.into())
        .col_expr(C::UpdatedAt, tx.now().into())
        .filter(C::Id.eq(id))
        .filter(C::State.eq(p.transition.from()))
        .exec(&**tx)
        .await?;
    if res.rows_affected == 1 { Ok(()) } else { Err(StoreError::Conflict) }
}

#[derive(Debug, Clone, Default)]
pub struct NewStep {
    pub case_id: i64,
    pub action: String,
    pub happened_on: NaiveDate,
    pub actor_id: i64,
    pub actor_name: String,
    pub note: String,
    pub data_json: String,
}

pub async fn insert_step(tx: &Tx, s: NewStep) -> Result<CaseStepRow, StoreError> {
    Ok(case_step::ActiveModel {
        case_id: Set(s.case_id),
        action: Set(s.action),
        happened_on: Set(s.happened_on),
        actor_id: Set(s.actor_id),
        actor_name: Set(s.actor_name),
        note: Set(s.note),
        data_json: Set(s.data_json),
        created_at: Set(tx.now()),
        ..Default::default()
    }
    .insert(&**tx)
    .await?)
}

pub async fn steps_of(db: &impl ConnectionTrait, case_id: i64) -> Result<Vec<CaseStepRow>, StoreError> {
    Ok(case_step::Entity::find()
        .filter(case_step::Column::CaseId.eq(case_id))
        .order_by_asc(case_step::Column::Id)
        .all(db)
        .await?)
}

/// Whose cases a list shows.
#[derive(Debug, Clone, Copy)]
pub enum CaseScope {
    /// A bureau: the cases it runs, organised, or was notified of as the producer's bureau.
    Bureau(i64),
    /// Only the cases a bureau runs (what it owes).
    Runs(i64),
    Enterprise(i64),
    Plan(i64),
    All,
}

/// Which cases a list keeps.
#[derive(Debug, Clone, Copy, Default)]
pub enum CaseFilter {
    /// Not closed.
    #[default]
    Open,
    Closed,
    All,
    /// Not closed and the bureau's step due before this day.
    OverdueBefore(NaiveDate),
}

fn case_query(scope: CaseScope, f: CaseFilter) -> sea_orm::Select<case::Entity> {
    use case::Column as C;
    let mut q = case::Entity::find();
    q = match scope {
        CaseScope::Bureau(o) => q.filter(
            Condition::any().add(C::BureauOrgId.eq(o)).add(C::OrganisingOrgId.eq(o)).add(C::ProducerOrgId.eq(o)),
        ),
        CaseScope::Runs(o) => q.filter(C::BureauOrgId.eq(o)),
        CaseScope::Enterprise(e) => q.filter(C::EnterpriseId.eq(e)),
        CaseScope::Plan(p) => q.filter(C::PlanId.eq(p)),
        CaseScope::All => q,
    };
    match f {
        CaseFilter::Open => q.filter(C::State.ne(CaseState::Closed)),
        CaseFilter::Closed => q.filter(C::State.eq(CaseState::Closed)),
        CaseFilter::All => q,
        CaseFilter::OverdueBefore(d) => q.filter(C::State.ne(CaseState::Closed)).filter(C::DueOn.lt(d)),
    }
}

/// Cases, newest first, keyset by id.
pub async fn list_cases(
    db: &impl ConnectionTrait,
    scope: CaseScope,
    f: CaseFilter,
    before: Option<i64>,
    limit: u64,
) -> Result<Page<CaseRow>, StoreError> {
    let mut q = case_query(scope, f);
    if let Some(b) = before {
        q = q.filter(case::Column::Id.lt(b));
    }
    let items = q.order_by_desc(case::Column::Id).limit(limit + 1).all(db).await?;
    Ok(Page::cut(items, limit, |r| r.id.to_string()))
}

pub async fn count_cases(db: &impl ConnectionTrait, scope: CaseScope, f: CaseFilter) -> Result<u64, StoreError> {
    Ok(case_query(scope, f).count(db).await?)
}

/// The active provincial bureau of a province (its division code), if one is registered.
pub async fn province_bureau(db: &impl ConnectionTrait, province: &str) -> Result<Option<i64>, StoreError> {
    use crate::entity::organisation;
    Ok(organisation::Entity::find()
        .select_only()
        .column(organisation::Column::Id)
        .filter(organisation::Column::Kind.eq("province_bureau"))
        .filter(organisation::Column::DivisionCode.eq(province))
        .filter(organisation::Column::Active.eq(true))
        .order_by_asc(organisation::Column::Id)
        .into_tuple()
        .one(db)
        .await?)
}

// ---- 复查 tasks ---------------------------------------------------------------------------------

/// Links a new 复查 sampling task to its case (round 1: the 复查, 2: the second 复查).
pub async fn insert_follow_up(
    tx: &Tx,
    case_id: i64,
    task_id: i64,
    round: i32,
    by: i64,
) -> Result<FollowUpRow, StoreError> {
    Ok(case_follow_up::ActiveModel {
        task_id: Set(task_id),
        case_id: Set(case_id),
        round: Set(round),
        ordered_by: Set(by),
        created_at: Set(tx.now()),
    }
    .insert(&**tx)
    .await?)
}

/// The 复查 tasks of a case, oldest first.
pub async fn follow_ups_of_case(db: &impl ConnectionTrait, case_id: i64) -> Result<Vec<FollowUpRow>, StoreError> {
    Ok(case_follow_up::Entity::find()
        .filter(case_follow_up::Column::CaseId.eq(case_id))
        .order_by_asc(case_follow_up::Column::TaskId)
        .all(db)
        .await?)
}

/// The case a task is the 复查 of, if it is one.
pub async fn follow_up_of_task(db: &impl ConnectionTrait, task_id: i64) -> Result<Option<FollowUpRow>, StoreError> {
    Ok(case_follow_up::Entity::find_by_id(task_id).one(db).await?)
}

/// The 复查 links of some tasks (those that are 复查 tasks).
pub async fn follow_ups_of_tasks(db: &impl ConnectionTrait, task_ids: &[i64]) -> Result<Vec<FollowUpRow>, StoreError> {
    Ok(case_follow_up::Entity::find()
        .filter(case_follow_up::Column::TaskId.is_in(task_ids.iter().copied()))
        .all(db)
        .await?)
}
