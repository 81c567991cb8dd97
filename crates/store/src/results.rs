//! Deliveries of results (送达): opened when a report is issued, recorded once delivered.

use chrono::NaiveDate;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};

use choucha_domain::results::{DeliveryState, ObjectionState};
use choucha_domain::workflow::Transition;

use crate::entity::{delivery, lab_sample, objection, sampling_task};
use crate::{Page, StoreError, Tx};

pub type DeliveryRow = delivery::Model;

#[derive(Debug, Clone, Default)]
pub struct NewDelivery {
    pub report_id: i64,
    pub sample_id: i64,
    pub plan_id: i64,
    pub testing_org_id: i64,
    pub organising_org_id: i64,
    pub recipient: String,
    pub recipient_name: String,
    pub recipient_address: String,
    pub documents: String,
    pub copies: i32,
    pub due_on: Option<NaiveDate>,
}

pub async fn insert(tx: &Tx, d: NewDelivery) -> Result<DeliveryRow, StoreError> {
    Ok(delivery::ActiveModel {
        report_id: Set(d.report_id),
        sample_id: Set(d.sample_id),
        plan_id: Set(d.plan_id),
        testing_org_id: Set(d.testing_org_id),
        organising_org_id: Set(d.organising_org_id),
        recipient: Set(d.recipient),
        recipient_name: Set(d.recipient_name),
        recipient_address: Set(d.recipient_address),
        documents: Set(d.documents),
        copies: Set(d.copies),
        due_on: Set(d.due_on),
        state: Set(DeliveryState::Pending),
        created_at: Set(tx.now()),
        ..Default::default()
    }
    .insert(&**tx)
    .await?)
}

pub async fn get(db: &impl ConnectionTrait, id: i64) -> Result<DeliveryRow, StoreError> {
    delivery::Entity::find_by_id(id).one(db).await?.ok_or(StoreError::NotFound)
}

/// A report's deliveries, in the order they were opened.
pub async fn of_report(db: &impl ConnectionTrait, report_id: i64) -> Result<Vec<DeliveryRow>, StoreError> {
    Ok(delivery::Entity::find()
        .filter(delivery::Column::ReportId.eq(report_id))
        .order_by_asc(delivery::Column::Id)
        .all(db)
        .await?)
}

/// How a delivery was made, as recorded.
#[derive(Debug, Clone)]
pub struct DeliveryRecord {
    pub transition: Transition<DeliveryState>,
    pub method: String,
    pub tracking_no: String,
    pub sent_on: Option<NaiveDate>,
    pub received_on: Option<NaiveDate>,
    pub receiver_name: String,
    pub receiver_sig_b64: String,
    pub note: String,
    pub recorded_by: i64,
}

/// Records a delivery that is still open (pending, or sent and not yet received).
pub async fn record(tx: &Tx, id: i64, r: DeliveryRecord) -> Result<(), StoreError> {
    use delivery::Column as C;
    let res = delivery::Entity::update_many()
        .col_expr(C::State, r.transition.to().into())
        .col_expr(C::Method, r.method.into())
        .col_expr(C::TrackingNo, r.tracking_no.into())
        .col_expr(C::SentOn, r.sent_on.into())
        .col_expr(C::ReceivedOn, r.received_on.into())
        .col_expr(C::ReceiverName, r.receiver_name.into())
        .col_expr(C::ReceiverSigB64, r.receiver_sig_b64.into())
        .col_expr(C::Note, r.note.into())
        .col_expr(C::RecordedBy, Some(r.recorded_by).into())
        .col_expr(C::RecordedAt, Some(tx.now()).into())
        .filter(C::Id.eq(id))
        .filter(C::State.eq(r.transition.from()))
        .exec(&**tx)
        .await?;
    if res.rows_affected == 1 { Ok(()) } else { Err(StoreError::Conflict) }
}

/// Whose deliveries a list shows.
#[derive(Debug, Clone, Copy)]
pub enum DeliveryScope {
    /// The testing institution that issued the reports.
    Testing(i64),
    /// The bureau that organised the plans.
    Organising(i64),
    /// Everyone's (administrators).
    All,
}

/// Deliveries in `states` (all when empty), newest first, keyset by id; `due_by` keeps those due on
/// or before a date (overdue lists).
pub async fn list(
    db: &impl ConnectionTrait,
    scope: DeliveryScope,
    states: &[DeliveryState],
    due_by: Option<NaiveDate>,
    before: Option<i64>,
    limit: u64,
) -> Result<Page<DeliveryRow>, StoreError> {
    use delivery::Column as C;
    let mut q = delivery::Entity::find();
    q = match scope {
        DeliveryScope::Testing(o) => q.filter(C::TestingOrgId.eq(o)),
        DeliveryScope::Organising(o) => q.filter(C::OrganisingOrgId.eq(o)),
        DeliveryScope::All => q,
    };
    if !states.is_empty() {
        q = q.filter(C::State.is_in(states.iter().copied()));
    }
    if let Some(d) = due_by {
        q = q.filter(C::DueOn.lte(d));
    }
    if let Some(b) = before {
        q = q.filter(C::Id.lt(b));
    }
    let items = q.order_by_desc(C::Id).limit(limit + 1).all(db).await?;
    Ok(Page::cut(items, limit, |r| r.id.to_string()))
}

/// The deliveries to an enterprise (as the sampled unit) of the results of its samples, newest first.
pub async fn to_enterprise(db: &impl ConnectionTrait, enterprise_id: i64) -> Result<Vec<DeliveryRow>, StoreError> {
    let tasks: Vec<i64> = sampling_task::Entity::find()
        .select_only()
        .column(sampling_task::Column::Id)
        .filter(sampling_task::Column::EnterpriseId.eq(enterprise_id))
        .into_tuple()
        .all(db)
        .await?;
    let mut samples = Vec::new();
    for chunk in tasks.chunks(5000) {
        let ids: Vec<i64> = lab_sample::Entity::find()
            .select_only()
            .column(lab_sample::Column::Id)
            .filter(lab_sample::Column::TaskId.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(db)
            .await?;
        samples.extend(ids);
    }
    let mut out = Vec::new();
    for chunk in samples.chunks(5000) {
        out.extend(
            delivery::Entity::find()
                .filter(delivery::Column::SampleId.is_in(chunk.iter().copied()))
                .filter(delivery::Column::Recipient.eq("enterprise"))
                .all(db)
                .await?,
        );
    }
    out.sort_by_key(|d| std::cmp::Reverse(d.id));
    Ok(out)
}

pub type ObjectionRow = objection::Model;

#[derive(Debug, Clone, Default)]
pub struct NewObjection {
    pub report_id: i64,
    pub sample_id: i64,
    pub enterprise_id: i64,
    pub organising_org_id: i64,
    pub kind: String,
    pub items: String,
    pub reason: String,
    pub received_on: NaiveDate,
    pub filed_on: NaiveDate,
    pub filed_by: i64,
    /// The attachments (stored files) as JSON.
    pub attachments_json: String,
}

pub async fn insert_objection(tx: &Tx, o: NewObjection) -> Result<ObjectionRow, StoreError> {
    Ok(objection::ActiveModel {
        report_id: Set(o.report_id),
        sample_id: Set(o.sample_id),
        enterprise_id: Set(o.enterprise_id),
        organising_org_id: Set(o.organising_org_id),
        kind: Set(o.kind),
        items: Set(o.items),
        reason: Set(o.reason),
        received_on: Set(o.received_on),
        filed_on: Set(o.filed_on),
        filed_by: Set(o.filed_by),
        attachments_json: Set(o.attachments_json),
        state: Set(ObjectionState::Pending),
        created_at: Set(tx.now()),
        ..Default::default()
    }
    .insert(&**tx)
    .await?)
}

pub async fn get_objection(db: &impl ConnectionTrait, id: i64) -> Result<ObjectionRow, StoreError> {
    objection::Entity::find_by_id(id).one(db).await?.ok_or(StoreError::NotFound)
}

/// A report's objections, oldest first.
pub async fn objections_of_report(db: &impl ConnectionTrait, report_id: i64) -> Result<Vec<ObjectionRow>, StoreError> {
    Ok(objection::Entity::find()
        .filter(objection::Column::ReportId.eq(report_id))
        .order_by_asc(objection::Column::Id)
        .all(db)
        .await?)
}

/// A bureau's objections in a state (all when `None`), newest first.
pub async fn objections_of_bureau(
    db: &impl ConnectionTrait,
    org_id: i64,
    state: Option<ObjectionState>,
    before: Option<i64>,
    limit: u64,
) -> Result<Page<ObjectionRow>, StoreError> {
    use objection::Column as C;
    let mut q = objection::Entity::find().filter(C::OrganisingOrgId.eq(org_id));
    if let Some(st) = state {
        q = q.filter(C::State.eq(st));
    }
    if let Some(b) = before {
        q = q.filter(C::Id.lt(b));
    }
    let items = q.order_by_desc(C::Id).limit(limit + 1).all(db).await?;
    Ok(Page::cut(items, limit, |r| r.id.to_string()))
}

/// The bureau's decision on a pending objection.
pub async fn decide_objection(
    tx: &Tx,
    id: i64,
    t: Transition<ObjectionState>,
    by: i64,
    reason: &str,
) -> Result<(), StoreError> {
    use objection::Column as C;
    let r = objection::Entity::update_many()
        .col_expr(C::State, t.to().into())
        .col_expr(C::DecidedBy, Some(by).into())
        .col_expr(C::DecidedAt, Some(tx.now()).into())
        .col_expr(C::DecisionReason, reason.into())
        .filter(C::Id.eq(id))
        .filter(C::State.eq(t.from()))
        .exec(&**tx)
        .await?;
    if r.rows_affected == 1 { Ok(()) } else { Err(StoreError::Conflict) }
}
