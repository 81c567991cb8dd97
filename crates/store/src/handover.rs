//! Hand-over after sampling: requests to keep the backup portion at the enterprise and their
//! decisions (rule 9), what was shown on arrival, and the reads behind entry deadlines (rule 16)
//! and a plan's costs (rule 21).

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};

use choucha_domain::sampling::{BackupRequestState, RecordState, TaskState};
use choucha_domain::workflow::Transition;

use crate::entity::{
    backup_request, inbox_item, plan, sampling_record, sampling_task, sampling_task_member, task_arrival,
};
use crate::{StoreError, Tx};

pub type BackupRequestRow = backup_request::Model;
pub type ArrivalRow = task_arrival::Model;

pub struct NewBackupRequest {
    pub task_id: i64,
    pub org_id: i64,
    pub reason: String,
    pub storage_place: String,
    pub storage_conditions: String,
    pub requested_by: i64,
}

pub async fn insert_backup_request(tx: &Tx, r: NewBackupRequest) -> Result<BackupRequestRow, StoreError> {
    Ok(backup_request::ActiveModel {
        task_id: Set(r.task_id),
        org_id: Set(r.org_id),
        reason: Set(r.reason),
        storage_place: Set(r.storage_place),
        storage_conditions: Set(r.storage_conditions),
        state: Set(BackupRequestState::Pending),
        requested_by: Set(r.requested_by),
        created_at: Set(tx.now()),
        decided_by: Set(None),
        decided_by_name: Set(String::new()),
        decided_at: Set(None),
        opinion: Set(String::new()),
        ..Default::default()
    }
    .insert(&**tx)
    .await?)
}

pub async fn get_backup_request(db: &impl ConnectionTrait, id: i64) -> Result<BackupRequestRow, StoreError> {
    backup_request::Entity::find_by_id(id).one(db).await?.ok_or(StoreError::NotFound)
}

/// A task's backup requests, newest first.
pub async fn backup_requests_of(db: &impl ConnectionTrait, task_id: i64) -> Result<Vec<BackupRequestRow>, StoreError> {
    Ok(backup_request::Entity::find()
        .filter(backup_request::Column::TaskId.eq(task_id))
        .order_by_desc(backup_request::Column::Id)
        .all(db)
        .await?)
}

/// Decide a pending request (`UPDATE … WHERE state = 'pending'`; zero rows is a conflict).
pub async fn decide_backup_request(
    tx: &Tx,
    id: i64,
    t: Transition<BackupRequestState>,
    by: i64,
    by_name: &str,
    opinion: &str,
) -> Result<(), StoreError> {
    let r = backup_request::Entity::update_many()
        .col_expr(backup_request::Column::State, t.to().into())
        .col_expr(backup_request::Column::DecidedBy, Some(by).into())
        .col_expr(backup_request::Column::DecidedByName, by_name.into())
        .col_expr(backup_request::Column::DecidedAt, Some(tx.now()).into())
        .col_expr(backup_request::Column::Opinion, opinion.into())
        .filter(backup_request::Column::Id.eq(id))
        .filter(backup_request::Column::State.eq(t.from()))
        .exec(&**tx)
        .await?;
    if r.rows_affected == 1 { Ok(()) } else { Err(StoreError::Conflict) }
}

pub async fn insert_arrival(
    tx: &Tx,
    task_id: i64,
    shown: [bool; 3],
    by: i64,
    at: DateTime<Utc>,
) -> Result<ArrivalRow, StoreError> {
    Ok(task_arrival::ActiveModel {
        task_id: Set(task_id),
        notice_shown: Set(shown[0]),
        identity_shown: Set(shown[1]),
        authorisation_shown: Set(shown[2]),
        recorded_by: Set(by),
        arrived_at: Set(at),
        ..Default::default()
    }
    .insert(&**tx)
    .await?)
}

pub async fn arrival_of(db: &impl ConnectionTrait, task_id: i64) -> Result<Option<ArrivalRow>, StoreError> {
    Ok(task_arrival::Entity::find().filter(task_arrival::Column::TaskId.eq(task_id)).one(db).await?)
}

/// The arrivals of these tasks (a page of tasks).
pub async fn arrivals_of(db: &impl ConnectionTrait, task_ids: &[i64]) -> Result<Vec<ArrivalRow>, StoreError> {
    let mut out = Vec::new();
    for chunk in crate::id_chunks(task_ids) {
        out.extend(
            task_arrival::Entity::find()
                .filter(task_arrival::Column::TaskId.is_in(chunk))
                .order_by_asc(task_arrival::Column::Id)
                .all(db)
                .await?,
        );
    }
    Ok(out)
}

/// Mark inbox items read: one item of `org_id`, or every item of `org_id` about (`ref_type`, `ref_id`).
pub async fn mark_inbox_read(
    tx: &Tx,
    org_id: i64,
    id: Option<i64>,
    about: Option<(&str, i64)>,
) -> Result<u64, StoreError> {
    let mut q = inbox_item::Entity::update_many()
        .col_expr(inbox_item::Column::ReadAt, Some(tx.now()).into())
        .filter(inbox_item::Column::OrgId.eq(org_id))
        .filter(inbox_item::Column::ReadAt.is_null());
    if let Some(id) = id {
        q = q.filter(inbox_item::Column::Id.eq(id));
    }
    if let Some((t, r)) = about {
        q = q.filter(inbox_item::Column::RefType.eq(t)).filter(inbox_item::Column::RefId.eq(r));
    }
    Ok(q.exec(&**tx).await?.rows_affected)
}

pub async fn get_inbox_item(db: &impl ConnectionTrait, id: i64) -> Result<inbox_item::Model, StoreError> {
    inbox_item::Entity::find_by_id(id).one(db).await?.ok_or(StoreError::NotFound)
}

/// Unread items of an organisation's inbox.
pub async fn unread_count(db: &impl ConnectionTrait, org_id: i64) -> Result<u64, StoreError> {
    use sea_orm::PaginatorTrait;
    Ok(inbox_item::Entity::find()
        .filter(inbox_item::Column::OrgId.eq(org_id))
        .filter(inbox_item::Column::ReadAt.is_null())
        .count(db)
        .await?)
}

/// Signed (in force) records of a plan's sampled tasks: (item id, fields JSON), for its costs.
pub async fn signed_records_of_plan(db: &impl ConnectionTrait, plan_id: i64) -> Result<Vec<(i64, String)>, StoreError> {
    let tasks: Vec<(i64, i64)> = sampling_task::Entity::find()
        .select_only()
        .column(sampling_task::Column::Id)
        .column(sampling_task::Column::ItemId)
        .filter(sampling_task::Column::PlanId.eq(plan_id))
        .filter(sampling_task::Column::State.eq(TaskState::Sampled))
        .into_tuple()
        .all(db)
        .await?;
    let mut out = Vec::with_capacity(tasks.len());
    for chunk in tasks.chunks(500) {
        let item_of: std::collections::BTreeMap<i64, i64> = chunk.iter().copied().collect();
        let rows: Vec<(i64, String)> = sampling_record::Entity::find()
            .select_only()
            .column(sampling_record::Column::TaskId)
            .column(sampling_record::Column::FieldsJson)
            .filter(sampling_record::Column::TaskId.is_in(chunk.iter().map(|(t, _)| *t)))
            .filter(sampling_record::Column::State.eq(RecordState::Signed))
            .into_tuple()
            .all(db)
            .await?;
        out.extend(rows.into_iter().filter_map(|(t, f)| item_of.get(&t).map(|i| (*i, f))));
    }
    Ok(out)
}

/// Whose tasks an entry-deadline list covers.
pub enum EntryScope {
    /// A sampler's own tasks.
    Member(i64),
    /// Tasks of the plans an organising bureau runs.
    Organiser(i64),
}

/// Tasks in progress or sampled in a scope (newest first, at most `limit`): the candidates of
/// the rule 16 entry-deadline flags.
pub async fn entry_candidates(
    db: &impl ConnectionTrait,
    scope: EntryScope,
    limit: u64,
) -> Result<Vec<sampling_task::Model>, StoreError> {
    let mut q = sampling_task::Entity::find()
        .filter(sampling_task::Column::State.is_in([TaskState::InProgress, TaskState::Sampled]));
    match scope {
        EntryScope::Member(user) => {
            let ids: Vec<i64> = sampling_task_member::Entity::find()
                .select_only()
                .column(sampling_task_member::Column::TaskId)
                .filter(sampling_task_member::Column::UserId.eq(user))
                .into_tuple()
                .all(db)
                .await?;
            q = q.filter(sampling_task::Column::Id.is_in(ids));
        }
        EntryScope::Organiser(org) => {
            let plans: Vec<i64> = plan::Entity::find()
                .select_only()
                .column(plan::Column::Id)
                .filter(plan::Column::OrganisingOrgId.eq(org))
                .into_tuple()
                .all(db)
                .await?;
            q = q.filter(sampling_task::Column::PlanId.is_in(plans));
        }
    }
    Ok(q.order_by_desc(sampling_task::Column::Id).limit(limit).all(db).await?)
}
