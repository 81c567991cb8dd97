//! Seed commitments of draws (`seed_commitments`): made by the organising bureau before a draw,
//! used by the next draw of the item.

use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::entity::seed_commitment;
use crate::{StoreError, Tx};

pub type CommitmentRow = seed_commitment::Model;

pub async fn insert(
    tx: &Tx,
    item_id: i64,
    seed: &str,
    seed_sha256: &str,
    committed_by: i64,
) -> Result<CommitmentRow, StoreError> {
    Ok(seed_commitment::ActiveModel {
        item_id: Set(item_id),
        seed: Set(seed.to_string()),
        seed_sha256: Set(seed_sha256.to_string()),
        committed_by: Set(committed_by),
        committed_at: Set(tx.now()),
        draw_id: Set(None),
        ..Default::default()
    }
    .insert(&**tx)
    .await?)
}

/// The item's commitment no draw has used yet, if any.
pub async fn open_of_item(db: &impl ConnectionTrait, item_id: i64) -> Result<Option<CommitmentRow>, StoreError> {
    Ok(seed_commitment::Entity::find()
        .filter(seed_commitment::Column::ItemId.eq(item_id))
        .filter(seed_commitment::Column::DrawId.is_null())
        .one(db)
        .await?)
}

/// Every commitment of these items, oldest first.
pub async fn of_items(db: &impl ConnectionTrait, item_ids: &[i64]) -> Result<Vec<CommitmentRow>, StoreError> {
    Ok(seed_commitment::Entity::find()
        .filter(seed_commitment::Column::ItemId.is_in(item_ids.iter().copied()))
        .order_by_asc(seed_commitment::Column::Id)
        .all(db)
        .await?)
}

/// The commitment a draw used.
pub async fn of_draw(db: &impl ConnectionTrait, draw_id: i64) -> Result<Option<CommitmentRow>, StoreError> {
    Ok(seed_commitment::Entity::find().filter(seed_commitment::Column::DrawId.eq(draw_id)).one(db).await?)
}

/// Mark an open commitment used by `draw_id`; false when another draw took it first.
pub async fn use_for(tx: &Tx, id: i64, draw_id: i64) -> Result<bool, StoreError> {
    let r = seed_commitment::Entity::update_many()
        .col_expr(seed_commitment::Column::DrawId, sea_orm::sea_query::Expr::value(draw_id))
        .filter(seed_commitment::Column::Id.eq(id))
        .filter(seed_commitment::Column::DrawId.is_null())
        .exec(&**tx)
        .await?;
    Ok(r.rows_affected == 1)
}
