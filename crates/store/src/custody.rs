//! The custody chain of a sample's portions: append-only events, read per task in order.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::entity::custody_event;
use crate::{StoreError, Tx};

pub type CustodyRow = custody_event::Model;

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
