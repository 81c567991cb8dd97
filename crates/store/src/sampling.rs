//! Sampling records (versioned), their signatures, task outcomes and the bureaus' inbox.

use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};

use choucha_domain::plan::ProductKey;
use choucha_domain::sampling::{RecordState, TaskState};
use choucha_domain::workflow::Transition;
use std::collections::BTreeMap;

use crate::audit_rows::RowTable;
use crate::entity::{inbox_item, record_product_key, record_signature, sampling_record, task_outcome};
use crate::{Page, StoreError, Tx};

pub type RecordRow = sampling_record::Model;
pub type SignatureRow = record_signature::Model;
pub type OutcomeRow = task_outcome::Model;
pub type InboxRow = inbox_item::Model;

pub struct NewRecord {
    pub task_id: i64,
    pub version: i32,
    pub state: RecordState,
    pub fields_json: String,
    pub record_hash: String,
    pub diff_json: String,
    pub correction_reason: String,
    pub created_by: i64,
}

pub async fn insert_record(tx: &Tx, r: NewRecord) -> Result<RecordRow, StoreError> {
    let row = sampling_record::ActiveModel {
        task_id: Set(r.task_id),
        version: Set(r.version),
        state: Set(r.state),
        fields_json: Set(r.fields_json),
        record_hash: Set(r.record_hash),
        diff_json: Set(r.diff_json),
        correction_reason: Set(r.correction_reason),
        created_by: Set(r.created_by),
        created_at: Set(tx.now()),
        locked_at: Set(None),
        ..Default::default()
    }
    .insert(&**tx)
    .await?;
    tx.touch(RowTable::SamplingRecord, row.id);
    Ok(row)
}

/// Change an unsigned draft (refused as a conflict once anyone signed or it was locked).
pub async fn update_draft(tx: &Tx, id: i64, fields_json: String, record_hash: String) -> Result<(), StoreError> {
    let r = sampling_record::Entity::update_many()
        .col_expr(sampling_record::Column::FieldsJson, fields_json.into())
        .col_expr(sampling_record::Column::RecordHash, record_hash.into())
        .filter(sampling_record::Column::Id.eq(id))
        .filter(sampling_record::Column::State.eq(RecordState::Draft))
        .exec(&**tx)
        .await?;
    tx.touch(RowTable::SamplingRecord, id);
    if r.rows_affected == 1 { Ok(()) } else { Err(StoreError::Conflict) }
}

/// Move a record between states (`UPDATE … WHERE state = from`); locking stamps the time.
pub async fn set_record_state(tx: &Tx, id: i64, t: Transition<RecordState>) -> Result<(), StoreError> {
    let mut q = sampling_record::Entity::update_many().col_expr(sampling_record::Column::State, t.to().into());
    if t.to() == RecordState::Signed {
        q = q.col_expr(sampling_record::Column::LockedAt, Some(tx.now()).into());
    }
    let r = q
        .filter(sampling_record::Column::Id.eq(id))
        .filter(sampling_record::Column::State.eq(t.from()))
        .exec(&**tx)
        .await?;
    tx.touch(RowTable::SamplingRecord, id);
    if r.rows_affected != 1 {
        return Err(StoreError::Conflict);
    }
    if t.to() == RecordState::Superseded {
        // A superseded version is no longer the product checked (rule 22): its key goes with it.
        record_product_key::Entity::delete_by_id(id).exec(&**tx).await?;
    }
    Ok(())
}

/// Keep the product identity of a record being signed (rule 22), in the signing transaction.
pub async fn insert_product_key(tx: &Tx, record_id: i64, task_id: i64, key: &ProductKey) -> Result<(), StoreError> {
    record_product_key::ActiveModel {
        record_id: Set(record_id),
        task_id: Set(task_id),
        producer: Set(key.producer.trim().to_string()),
        product: Set(key.product.clone()),
        standard: Set(key.standard.clone().unwrap_or_default()),
        trademark: Set(key.trademark.clone().unwrap_or_default()),
        model: Set(key.model.clone().unwrap_or_default()),
    }
    .insert(&**tx)
    .await?;
    Ok(())
}

/// Rule 22's history of one product of one producer: the signed records of `product` naming
/// `producer` in live tasks of other plans than `except_plan` created since `since`, each with the
/// organising bureau of its plan and when it was signed. Reads the (producer, product) index, then
/// those few records, tasks and plans by primary key.
pub async fn product_history(
    db: &impl ConnectionTrait,
    producer: &str,
    product: &str,
    since: chrono::DateTime<chrono::Utc>,
    except_plan: i64,
) -> Result<Vec<(ProductKey, i64, chrono::DateTime<chrono::Utc>)>, StoreError> {
    use crate::entity::{plan, sampling_task};
    let keys = record_product_key::Entity::find()
        .filter(record_product_key::Column::Producer.eq(producer.trim()))
        .filter(record_product_key::Column::Product.eq(product))
        .all(db)
        .await?;
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let signed: BTreeMap<i64, chrono::DateTime<chrono::Utc>> = sampling_record::Entity::find()
        .filter(sampling_record::Column::Id.is_in(keys.iter().map(|k| k.record_id)))
        .filter(sampling_record::Column::State.eq(RecordState::Signed))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.id, r.locked_at.unwrap_or(r.created_at)))
        .collect();
    let tasks: BTreeMap<i64, i64> = sampling_task::Entity::find()
        .select_only()
        .column(sampling_task::Column::Id)
        .column(sampling_task::Column::PlanId)
        .filter(sampling_task::Column::Id.is_in(keys.iter().map(|k| k.task_id)))
        .filter(sampling_task::Column::PlanId.ne(except_plan))
        .filter(sampling_task::Column::CreatedAt.gte(since))
        .filter(sampling_task::Column::State.is_in(TaskState::LIVE))
        .into_tuple::<(i64, i64)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let organisers: BTreeMap<i64, i64> = plan::Entity::find()
        .select_only()
        .column(plan::Column::Id)
        .column(plan::Column::OrganisingOrgId)
        .filter(plan::Column::Id.is_in(tasks.values().copied().collect::<Vec<_>>()))
        .into_tuple::<(i64, i64)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let opt = |v: String| Some(v).filter(|v| !v.is_empty());
    Ok(keys
        .into_iter()
        .filter_map(|k| {
            let at = *signed.get(&k.record_id)?;
            let org = *organisers.get(tasks.get(&k.task_id)?)?;
            let key = ProductKey {
                producer: k.producer,
                product: k.product,
                standard: opt(k.standard),
                trademark: opt(k.trademark),
                model: opt(k.model),
            };
            Some((key, org, at))
        })
        .collect())
}

pub async fn get_record(db: &impl ConnectionTrait, id: i64) -> Result<RecordRow, StoreError> {
    sampling_record::Entity::find_by_id(id).one(db).await?.ok_or(StoreError::NotFound)
}

/// Versions of a task's record, newest first.
pub async fn records_of_task(db: &impl ConnectionTrait, task_id: i64) -> Result<Vec<RecordRow>, StoreError> {
    Ok(sampling_record::Entity::find()
        .filter(sampling_record::Column::TaskId.eq(task_id))
        .order_by_desc(sampling_record::Column::Version)
        .all(db)
        .await?)
}

/// Every version of the records of these tasks, by task and newest version first (a page of tasks).
pub async fn records_of_tasks(db: &impl ConnectionTrait, task_ids: &[i64]) -> Result<Vec<RecordRow>, StoreError> {
    let mut out = Vec::new();
    for chunk in crate::id_chunks(task_ids) {
        out.extend(
            sampling_record::Entity::find()
                .filter(sampling_record::Column::TaskId.is_in(chunk))
                .order_by_asc(sampling_record::Column::TaskId)
                .order_by_desc(sampling_record::Column::Version)
                .all(db)
                .await?,
        );
    }
    Ok(out)
}

/// Signed records of these tasks (rule 22's history).
pub async fn signed_records_of_tasks(
    db: &impl ConnectionTrait,
    task_ids: &[i64],
) -> Result<Vec<RecordRow>, StoreError> {
    if task_ids.is_empty() {
        return Ok(Vec::new());
    }
    // In chunks: a product's earlier tasks run to tens of thousands at national scale, beyond the
    // bound-parameter limits (SQLite 32,766; PostgreSQL 65,535).
    let mut out = Vec::new();
    for chunk in task_ids.chunks(5_000) {
        out.extend(
            sampling_record::Entity::find()
                .filter(sampling_record::Column::TaskId.is_in(chunk.to_vec()))
                .filter(sampling_record::Column::State.eq(RecordState::Signed))
                .all(db)
                .await?,
        );
    }
    Ok(out)
}

pub struct NewSignature {
    pub record_id: i64,
    pub signer: String,
    pub user_id: Option<i64>,
    pub signer_name: String,
    pub image_b64: String,
    pub image_sha256: String,
    pub refused: bool,
    pub refusal_reason: String,
    pub witness_name: String,
    pub witness_image_b64: String,
    pub record_hash: String,
}

pub async fn insert_signature(tx: &Tx, s: NewSignature) -> Result<SignatureRow, StoreError> {
    Ok(record_signature::ActiveModel {
        record_id: Set(s.record_id),
        signer: Set(s.signer),
        user_id: Set(s.user_id),
        signer_name: Set(s.signer_name),
        image_b64: Set(s.image_b64),
        image_sha256: Set(s.image_sha256),
        refused: Set(s.refused),
        refusal_reason: Set(s.refusal_reason),
        witness_name: Set(s.witness_name),
        witness_image_b64: Set(s.witness_image_b64),
        record_hash: Set(s.record_hash),
        signed_at: Set(tx.now()),
        ..Default::default()
    }
    .insert(&**tx)
    .await?)
}

pub async fn signatures_of(db: &impl ConnectionTrait, record_id: i64) -> Result<Vec<SignatureRow>, StoreError> {
    Ok(record_signature::Entity::find()
        .filter(record_signature::Column::RecordId.eq(record_id))
        .order_by_asc(record_signature::Column::Id)
        .all(db)
        .await?)
}

pub async fn insert_outcome(
    tx: &Tx,
    task_id: i64,
    kind: &str,
    details_json: String,
    by: i64,
) -> Result<OutcomeRow, StoreError> {
    Ok(task_outcome::ActiveModel {
        task_id: Set(task_id),
        kind: Set(kind.to_string()),
        details_json: Set(details_json),
        created_by: Set(by),
        created_at: Set(tx.now()),
        cosigned_by: Set(None),
        cosigned_at: Set(None),
        cosign_opinion: Set(String::new()),
        ..Default::default()
    }
    .insert(&**tx)
    .await?)
}

pub async fn cosign_outcome(tx: &Tx, id: i64, by: i64, opinion: &str) -> Result<(), StoreError> {
    let r = task_outcome::Entity::update_many()
        .col_expr(task_outcome::Column::CosignedBy, Some(by).into())
        .col_expr(task_outcome::Column::CosignedAt, Some(tx.now()).into())
        .col_expr(task_outcome::Column::CosignOpinion, opinion.into())
        .filter(task_outcome::Column::Id.eq(id))
        .filter(task_outcome::Column::CosignedBy.is_null())
        .exec(&**tx)
        .await?;
    if r.rows_affected == 1 { Ok(()) } else { Err(StoreError::Conflict) }
}

pub async fn outcomes_of(db: &impl ConnectionTrait, task_id: i64) -> Result<Vec<OutcomeRow>, StoreError> {
    Ok(task_outcome::Entity::find()
        .filter(task_outcome::Column::TaskId.eq(task_id))
        .order_by_asc(task_outcome::Column::Id)
        .all(db)
        .await?)
}

pub async fn insert_inbox(
    tx: &Tx,
    org_id: i64,
    kind: &str,
    title: &str,
    ref_type: &str,
    ref_id: i64,
) -> Result<(), StoreError> {
    inbox_item::ActiveModel {
        org_id: Set(org_id),
        kind: Set(kind.to_string()),
        title: Set(title.to_string()),
        ref_type: Set(ref_type.to_string()),
        ref_id: Set(ref_id),
        created_at: Set(tx.now()),
        read_at: Set(None),
        ..Default::default()
    }
    .insert(&**tx)
    .await?;
    Ok(())
}

/// An organisation's inbox, newest first.
pub async fn inbox_of(
    db: &impl ConnectionTrait,
    org_id: i64,
    before: Option<i64>,
    limit: u64,
) -> Result<Page<InboxRow>, StoreError> {
    let mut q = inbox_item::Entity::find().filter(inbox_item::Column::OrgId.eq(org_id));
    if let Some(b) = before {
        q = q.filter(inbox_item::Column::Id.lt(b));
    }
    let items = q.order_by_desc(inbox_item::Column::Id).limit(limit + 1).all(db).await?;
    Ok(Page::cut(items, limit, |r| r.id.to_string()))
}

/// The local bureau whose division is exactly `division` (the enterprise's county bureau).
pub async fn local_bureau_of(db: &impl ConnectionTrait, division: &str) -> Result<Option<i64>, StoreError> {
    use crate::entity::organisation;
    Ok(organisation::Entity::find()
        .select_only()
        .column(organisation::Column::Id)
        .filter(organisation::Column::Kind.eq("local_bureau"))
        .filter(organisation::Column::DivisionCode.eq(division))
        .filter(organisation::Column::Active.eq(true))
        .order_by_asc(organisation::Column::Id)
        .into_tuple()
        .one(db)
        .await?)
}
