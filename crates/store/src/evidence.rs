//! Evidence rows of sampling tasks (DESIGN.md rule 7) and their resumable uploads. Rows only: the
//! files live in the evidence folder, written by the service; an evidence row is never updated.

use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use choucha_domain::sampling::UploadState;
use choucha_domain::workflow::Transition;

use crate::entity::{evidence, evidence_waiver, upload};
use crate::{StoreError, Tx};

pub type EvidenceRow = evidence::Model;
pub type UploadRow = upload::Model;
pub type WaiverRow = evidence_waiver::Model;

#[derive(Debug, Clone)]
pub struct NewEvidence {
    pub task_id: i64,
    pub category: String,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub uploaded_by: i64,
}

pub async fn insert(tx: &Tx, e: NewEvidence) -> Result<EvidenceRow, StoreError> {
    Ok(evidence::ActiveModel {
        task_id: Set(e.task_id),
        category: Set(e.category),
        file_name: Set(e.file_name),
        content_type: Set(e.content_type),
        size: Set(e.size),
        sha256: Set(e.sha256),
        uploaded_by: Set(e.uploaded_by),
        uploaded_at: Set(tx.now()),
        ..Default::default()
    }
    .insert(&**tx)
    .await?)
}

pub async fn get(db: &impl ConnectionTrait, id: i64) -> Result<EvidenceRow, StoreError> {
    evidence::Entity::find_by_id(id).one(db).await?.ok_or(StoreError::NotFound)
}

/// Every evidence item of a task, oldest first (a task has tens of items, not thousands).
pub async fn of_task(db: &impl ConnectionTrait, task_id: i64) -> Result<Vec<EvidenceRow>, StoreError> {
    Ok(evidence::Entity::find()
        .filter(evidence::Column::TaskId.eq(task_id))
        .order_by_asc(evidence::Column::Id)
        .all(db)
        .await?)
}

#[derive(Debug, Clone)]
pub struct NewUpload {
    pub id: String,
    pub task_id: i64,
    pub category: String,
    pub file_name: String,
    pub content_type: String,
    pub total_size: i64,
    pub expected_sha256: Option<String>,
    pub created_by: i64,
}

pub async fn insert_upload(tx: &Tx, u: NewUpload) -> Result<UploadRow, StoreError> {
    let now = tx.now();
    Ok(upload::ActiveModel {
        id: Set(u.id),
        task_id: Set(u.task_id),
        category: Set(u.category),
        file_name: Set(u.file_name),
        content_type: Set(u.content_type),
        total_size: Set(u.total_size),
        expected_sha256: Set(u.expected_sha256),
        state: Set(UploadState::Open),
        evidence_id: Set(None),
        created_by: Set(u.created_by),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&**tx)
    .await?)
}

pub async fn get_upload(db: &impl ConnectionTrait, id: &str) -> Result<UploadRow, StoreError> {
    upload::Entity::find_by_id(id.to_string()).one(db).await?.ok_or(StoreError::NotFound)
}

/// Close an open upload: `complete` with its evidence row, or `rejected` (`UPDATE … WHERE state = 'open'`).
pub async fn close_upload(
    tx: &Tx,
    id: &str,
    t: Transition<UploadState>,
    evidence_id: Option<i64>,
) -> Result<(), StoreError> {
    let r = upload::Entity::update_many()
        .col_expr(upload::Column::State, t.to().into())
        .col_expr(upload::Column::EvidenceId, evidence_id.into())
        .col_expr(upload::Column::UpdatedAt, tx.now().into())
        .filter(upload::Column::Id.eq(id))
        .filter(upload::Column::State.eq(t.from()))
        .exec(&**tx)
        .await?;
    if r.rows_affected == 1 { Ok(()) } else { Err(StoreError::Conflict) }
}

/// Record that a required category could not be photographed, with the reason (one per category:
/// a second one is a `Duplicate`).
pub async fn insert_waiver(
    tx: &Tx,
    task_id: i64,
    category: &str,
    reason: &str,
    recorded_by: i64,
) -> Result<WaiverRow, StoreError> {
    Ok(evidence_waiver::ActiveModel {
        task_id: Set(task_id),
        category: Set(category.to_string()),
        reason: Set(reason.to_string()),
        recorded_by: Set(recorded_by),
        recorded_at: Set(tx.now()),
        ..Default::default()
    }
    .insert(&**tx)
    .await?)
}

/// The recorded missing categories of a task, in the order they were recorded.
pub async fn waivers_of(db: &impl ConnectionTrait, task_id: i64) -> Result<Vec<WaiverRow>, StoreError> {
    Ok(evidence_waiver::Entity::find()
        .filter(evidence_waiver::Column::TaskId.eq(task_id))
        .order_by_asc(evidence_waiver::Column::Id)
        .all(db)
        .await?)
}
