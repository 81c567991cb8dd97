//! Sample disposals (rule 19): what happens to each portion once the objection window closes, and
//! the per-province rule for paid samples.

use chrono::NaiveDate;
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use choucha_domain::disposal::DisposalState;
use choucha_domain::results::ObjectionState;
use choucha_domain::workflow::Transition;

use crate::entity::{delivery, disposal, disposal_rule, objection};
pub use crate::migration::NATIONAL;
use crate::{Page, StoreError, Tx};

pub type DisposalRuleRow = disposal_rule::Model;
pub type DisposalRow = disposal::Model;

// ---- Disposal rules -------------------------------------------------------------------------

/// Every province's disposal rule (and the national default), by division code.
pub async fn disposal_rules(db: &impl ConnectionTrait) -> Result<Vec<DisposalRuleRow>, StoreError> {
    Ok(disposal_rule::Entity::find().order_by_asc(disposal_rule::Column::DivisionCode).all(db).await?)
}

/// The disposal rule of a province, else the national default.
pub async fn disposal_rule_for(db: &impl ConnectionTrait, province: &str) -> Result<DisposalRuleRow, StoreError> {
    let rows = disposal_rule::Entity::find()
        .filter(disposal_rule::Column::DivisionCode.is_in([province, NATIONAL]))
        .all(db)
        .await?;
    rows.iter().find(|r| r.division_code == province).or_else(|| rows.first()).cloned().ok_or(StoreError::NotFound)
}

pub async fn set_disposal_rule(
    tx: &Tx,
    division: &str,
    paid_rule: &str,
    overdue_days: i32,
    by: i64,
) -> Result<DisposalRuleRow, StoreError> {
    let existing =
        disposal_rule::Entity::find().filter(disposal_rule::Column::DivisionCode.eq(division)).one(&**tx).await?;
    let fresh = existing.is_none();
    let mut am = match existing {
        Some(r) => disposal_rule::ActiveModel::from(r),
        None => disposal_rule::ActiveModel { division_code: Set(division.to_string()), ..Default::default() },
    };
    am.paid_rule = Set(paid_rule.to_string());
    am.overdue_days = Set(overdue_days);
    am.updated_by = Set(Some(by));
    am.updated_at = Set(tx.now());
    Ok(if fresh { am.insert(&**tx).await? } else { am.update(&**tx).await? })
}

// ---- Disposals ------------------------------------------------------------------------------

#[derive(Debug, Clone, Default)]
pub struct NewDisposal {
    pub sample_id: i64,
    pub report_id: i64,
    pub plan_id: i64,
    pub testing_org_id: i64,
    pub organising_org_id: i64,
    pub enterprise_id: i64,
    pub province_code: String,
    pub portion: String,
    pub paid: bool,
    pub qualified: bool,
    pub required: String,
}

/// The disposal of one portion of a sample, if there is one.
pub async fn disposal_of_portion(
    db: &impl ConnectionTrait,
    sample_id: i64,
    portion: &str,
) -> Result<Option<DisposalRow>, StoreError> {
    use disposal::Column as C;
    Ok(disposal::Entity::find().filter(C::SampleId.eq(sample_id)).filter(C::Portion.eq(portion)).one(db).await?)
}

/// Points an open disposal at a newer report and its conclusion (a corrected report, rule 15).
pub async fn follow_report(
    tx: &Tx,
    id: i64,
    t: Transition<DisposalState>,
    report_id: i64,
    qualified: bool,
    required: &str,
) -> Result<(), StoreError> {
    use disposal::Column as C;
    let res = disposal::Entity::update_many()
        .col_expr(C::State, t.to().into())
        .col_expr(C::ReportId, report_id.into())
        .col_expr(C::Qualified, qualified.into())
        .col_expr(C::Required, required.into())
        .filter(C::Id.eq(id))
        .filter(C::State.eq(t.from()))
        .exec(&**tx)
        .await?;
    if res.rows_affected == 1 { Ok(()) } else { Err(StoreError::Conflict) }
}

/// Opens the disposal of a portion (in its initial state).
pub async fn insert_disposal(tx: &Tx, d: NewDisposal) -> Result<(), StoreError> {
    disposal::ActiveModel {
        sample_id: Set(d.sample_id),
        report_id: Set(d.report_id),
        plan_id: Set(d.plan_id),
        testing_org_id: Set(d.testing_org_id),
        organising_org_id: Set(d.organising_org_id),
        enterprise_id: Set(d.enterprise_id),
        province_code: Set(d.province_code),
        portion: Set(d.portion),
        paid: Set(d.paid),
        qualified: Set(d.qualified),
        required: Set(d.required),
        state: Set(DisposalState::Open),
        created_at: Set(tx.now()),
        ..Default::default()
    }
    .insert(&**tx)
    .await?;
    Ok(())
}

pub async fn get_disposal(db: &impl ConnectionTrait, id: i64) -> Result<DisposalRow, StoreError> {
    disposal::Entity::find_by_id(id).one(db).await?.ok_or(StoreError::NotFound)
}

/// How a disposal was carried out.
#[derive(Debug, Clone, Default)]
pub struct DisposalRecord {
    pub method: String,
    pub recipient: String,
    pub note: String,
    pub proof_json: String,
    pub disposed_on: NaiveDate,
    pub recorded_by: i64,
}

/// Records an open disposal as done; a second record is a conflict.
pub async fn record_disposal(
    tx: &Tx,
    id: i64,
    t: Transition<DisposalState>,
    r: DisposalRecord,
) -> Result<(), StoreError> {
    use disposal::Column as C;
    let res = disposal::Entity::update_many()
        .col_expr(C::State, t.to().into())
        .col_expr(C::Method, r.method.into())
        .col_expr(C::Recipient, r.recipient.into())
        .col_expr(C::Note, r.note.into())
        .col_expr(C::ProofJson, r.proof_json.into())
        .col_expr(C::DisposedOn, Some(r.disposed_on).into())
        .col_expr(C::RecordedBy, Some(r.recorded_by).into())
        .col_expr(C::RecordedAt, Some(tx.now()).into())
        .filter(C::Id.eq(id))
        .filter(C::State.eq(t.from()))
        .exec(&**tx)
        .await?;
    if res.rows_affected == 1 { Ok(()) } else { Err(StoreError::Conflict) }
}

/// The open (not yet recorded) disposals of a sample.
pub async fn open_disposals_of_sample(
    db: &impl ConnectionTrait,
    sample_id: i64,
) -> Result<Vec<DisposalRow>, StoreError> {
    Ok(disposal::Entity::find()
        .filter(disposal::Column::SampleId.eq(sample_id))
        .filter(disposal::Column::State.eq(DisposalState::Open))
        .all(db)
        .await?)
}

/// Changes what an open disposal requires and who holds the portion (a re-test's final result, rule 18).
pub async fn retarget_disposal(
    tx: &Tx,
    id: i64,
    t: Transition<DisposalState>,
    qualified: bool,
    required: &str,
    holder_org_id: i64,
) -> Result<(), StoreError> {
    use disposal::Column as C;
    let res = disposal::Entity::update_many()
        .col_expr(C::State, t.to().into())
        .col_expr(C::Qualified, qualified.into())
        .col_expr(C::Required, required.into())
        .col_expr(C::TestingOrgId, holder_org_id.into())
        .filter(C::Id.eq(id))
        .filter(C::State.eq(t.from()))
        .exec(&**tx)
        .await?;
    if res.rows_affected == 1 { Ok(()) } else { Err(StoreError::Conflict) }
}
/// The date the enterprise received the result of a report (the start of the objection window).
pub async fn enterprise_received_on(
    db: &impl ConnectionTrait,
    report_id: i64,
) -> Result<Option<NaiveDate>, StoreError> {
    Ok(delivery::Entity::find()
        .filter(delivery::Column::ReportId.eq(report_id))
        .filter(delivery::Column::Recipient.eq("enterprise"))
        .filter(delivery::Column::ReceivedOn.is_not_null())
        .order_by_asc(delivery::Column::Id)
        .one(db)
        .await?
        .and_then(|d| d.received_on))
}

/// The objection states that hold a disposal back (the backup may be re-tested).
pub const OBJECTION_HOLDING: [ObjectionState; 2] = [ObjectionState::Pending, ObjectionState::Accepted];

/// Whether an objection or re-test request of the sample is pending or accepted.
pub async fn objection_open(db: &impl ConnectionTrait, sample_id: i64) -> Result<bool, StoreError> {
    Ok(objection::Entity::find()
        .filter(objection::Column::SampleId.eq(sample_id))
        .filter(objection::Column::State.is_in(OBJECTION_HOLDING))
        .count(db)
        .await?
        > 0)
}

/// Whose disposals a list shows.
#[derive(Debug, Clone, Copy)]
pub enum DisposalScope {
    /// The testing institution that holds the samples.
    Testing(i64),
    /// The bureau that organised the plans (in charge of results).
    Organising(i64),
    Plan(i64),
    All,
}

/// Which open disposals a list keeps: those whose result was received on or before a cut-off (per
/// province, with a default for the others) and that no objection holds back.
#[derive(Debug, Clone, Default)]
pub struct ReceivedBy {
    pub per_province: Vec<(String, NaiveDate)>,
    pub default: Option<NaiveDate>,
}

fn received_by_condition(r: &ReceivedBy) -> Condition {
    use disposal::Column as C;
    let received = |cutoff: NaiveDate| {
        Query::select()
            .column(delivery::Column::ReportId)
            .from(delivery::Entity)
            .and_where(delivery::Column::Recipient.eq("enterprise"))
            .and_where(delivery::Column::ReceivedOn.lte(cutoff))
            .take()
    };
    let mut any = Condition::any();
    for (p, cutoff) in &r.per_province {
        any = any
            .add(Condition::all().add(C::ProvinceCode.eq(p.as_str())).add(C::ReportId.in_subquery(received(*cutoff))));
    }
    if let Some(cutoff) = r.default {
        let listed: Vec<&str> = r.per_province.iter().map(|(p, _)| p.as_str()).collect();
        let mut c = Condition::all().add(C::ReportId.in_subquery(received(cutoff)));
        if !listed.is_empty() {
            c = c.add(C::ProvinceCode.is_not_in(listed));
        }
        any = any.add(c);
    }
    let holding = Query::select()
        .column(objection::Column::SampleId)
        .from(objection::Entity)
        .and_where(objection::Column::State.is_in(OBJECTION_HOLDING))
        .take();
    Condition::all().add(any).add(C::SampleId.not_in_subquery(holding))
}

fn disposal_query(
    scope: DisposalScope,
    state: Option<DisposalState>,
    due: Option<&ReceivedBy>,
) -> sea_orm::Select<disposal::Entity> {
    use disposal::Column as C;
    let mut q = disposal::Entity::find();
    q = match scope {
        DisposalScope::Testing(o) => q.filter(C::TestingOrgId.eq(o)),
        DisposalScope::Organising(o) => q.filter(C::OrganisingOrgId.eq(o)),
        DisposalScope::Plan(p) => q.filter(C::PlanId.eq(p)),
        DisposalScope::All => q,
    };
    if let Some(st) = state {
        q = q.filter(C::State.eq(st));
    }
    if let Some(r) = due {
        q = q.filter(C::State.eq(DisposalState::Open)).filter(received_by_condition(r));
    }
    q
}

/// Disposals in a state (all when `None`), narrowed to the due ones when `due` is given; newest
/// first, keyset by id.
pub async fn list_disposals(
    db: &impl ConnectionTrait,
    scope: DisposalScope,
    state: Option<DisposalState>,
    due: Option<&ReceivedBy>,
    before: Option<i64>,
    limit: u64,
) -> Result<Page<DisposalRow>, StoreError> {
    let mut q = disposal_query(scope, state, due);
    if let Some(b) = before {
        q = q.filter(disposal::Column::Id.lt(b));
    }
    let items = q.order_by_desc(disposal::Column::Id).limit(limit + 1).all(db).await?;
    Ok(Page::cut(items, limit, |r| r.id.to_string()))
}

pub async fn count_disposals(
    db: &impl ConnectionTrait,
    scope: DisposalScope,
    due: &ReceivedBy,
) -> Result<u64, StoreError> {
    Ok(disposal_query(scope, Some(DisposalState::Open), Some(due)).count(db).await?)
}
