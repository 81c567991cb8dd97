//! The custody chain of a sample's portions: append-only events, read per task in order.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::entity::{custody_confirmation, custody_event};
use crate::{StoreError, Tx};

pub type CustodyRow = custody_event::Model;
pub type ConfirmationRow = custody_confirmation::Model;

#[derive(Debug, Clone, Default)]
pub struct NewCustodyEvent {
    pub task_id: i64,
    pub portion: String,
    pub kind: String,
    pub seal_state: choucha_domain::lab::SealState,
    pub location: String,
    pub mode: String,
    pub carrier: String,
    pub tracking_no: String,
    pub note: String,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    pub happened_at: Option<DateTime<Utc>>,
    /// The handing and the receiving party (names, as people read them).
    pub from_party: String,
    pub to_party: String,
    /// Who must confirm the other side: "" (not a hand-over) | custodian | tester | retest_custodian | witness.
    pub counter_party: String,
    pub counter_user_id: Option<i64>,
    pub courier_name: String,
    pub courier_signature_sha: String,
    pub temperature_c: Option<f64>,
}

pub async fn insert(tx: &Tx, e: NewCustodyEvent) -> Result<CustodyRow, StoreError> {
    let now = tx.now();
    Ok(custody_event::ActiveModel {
        task_id: Set(e.task_id),
        portion: Set(e.portion),
        kind: Set(e.kind),
        seal_state: Set(e.seal_state),
        location: Set(e.location),
        mode: Set(e.mode),
        carrier: Set(e.carrier),
        tracking_no: Set(e.tracking_no),
        note: Set(e.note),
        actor_id: Set(e.actor_id),
        actor_name: Set(e.actor_name),
        happened_at: Set(e.happened_at.unwrap_or(now)),
        created_at: Set(now),
        from_party: Set(e.from_party),
        to_party: Set(e.to_party),
        counter_party: Set(e.counter_party),
        counter_user_id: Set(e.counter_user_id),
        courier_name: Set(e.courier_name),
        courier_signature_sha: Set(e.courier_signature_sha),
        temperature_c: Set(e.temperature_c),
        ..Default::default()
    }
    .insert(&**tx)
    .await?)
}

/// A task's custody events, oldest first.
pub async fn of_task(db: &impl ConnectionTrait, task_id: i64) -> Result<Vec<CustodyRow>, StoreError> {
    Ok(custody_event::Entity::find()
        .filter(custody_event::Column::TaskId.eq(task_id))
        .order_by_asc(custody_event::Column::Id)
        .all(db)
        .await?)
}

/// The newest event of a kind for a task (e.g. its dispatch), if any.
pub async fn last_of_kind(
    db: &impl ConnectionTrait,
    task_id: i64,
    kind: &str,
) -> Result<Option<CustodyRow>, StoreError> {
    Ok(custody_event::Entity::find()
        .filter(custody_event::Column::TaskId.eq(task_id))
        .filter(custody_event::Column::Kind.eq(kind))
        .order_by_desc(custody_event::Column::Id)
        .one(db)
        .await?)
}

pub async fn get(db: &impl ConnectionTrait, id: i64) -> Result<CustodyRow, StoreError> {
    custody_event::Entity::find_by_id(id).one(db).await?.ok_or(StoreError::NotFound)
}

/// The counter-party's confirmation of a hand-over.
#[derive(Debug, Clone, Default)]
pub struct NewConfirmation {
    pub event_id: i64,
    pub task_id: i64,
    pub confirmed_by: Option<i64>,
    pub confirmed_name: String,
    pub signature_sha: String,
    pub note: String,
    pub confirmed_at: Option<DateTime<Utc>>,
}

/// Records a confirmation: once per event (a second one is `Duplicate`).
pub async fn confirm(tx: &Tx, c: NewConfirmation) -> Result<ConfirmationRow, StoreError> {
    let now = tx.now();
    Ok(custody_confirmation::ActiveModel {
        event_id: Set(c.event_id),
        task_id: Set(c.task_id),
        confirmed_by: Set(c.confirmed_by),
        confirmed_name: Set(c.confirmed_name),
        signature_sha: Set(c.signature_sha),
        note: Set(c.note),
        confirmed_at: Set(c.confirmed_at.unwrap_or(now)),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&**tx)
    .await?)
}

/// A task's confirmations.
pub async fn confirmations_of_task(
    db: &impl ConnectionTrait,
    task_id: i64,
) -> Result<Vec<ConfirmationRow>, StoreError> {
    Ok(custody_confirmation::Entity::find()
        .filter(custody_confirmation::Column::TaskId.eq(task_id))
        .order_by_asc(custody_confirmation::Column::Id)
        .all(db)
        .await?)
}

/// The confirmation of one event, if any.
pub async fn confirmation_of(db: &impl ConnectionTrait, event_id: i64) -> Result<Option<ConfirmationRow>, StoreError> {
    Ok(custody_confirmation::Entity::find().filter(custody_confirmation::Column::EventId.eq(event_id)).one(db).await?)
}

/// A task's hand-overs of a kind still waiting for their counter-party (e.g. the dispatches a
/// receipt confirms), oldest first.
pub async fn unconfirmed_of_kind(
    db: &impl ConnectionTrait,
    task_id: i64,
    kind: &str,
) -> Result<Vec<CustodyRow>, StoreError> {
    let done: Vec<i64> = confirmations_of_task(db, task_id).await?.into_iter().map(|c| c.event_id).collect();
    Ok(custody_event::Entity::find()
        .filter(custody_event::Column::TaskId.eq(task_id))
        .filter(custody_event::Column::Kind.eq(kind))
        .filter(custody_event::Column::CounterParty.ne(""))
        .order_by_asc(custody_event::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .filter(|e| !done.contains(&e.id))
        .collect())
}
