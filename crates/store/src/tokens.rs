//! API bearer tokens. Only the SHA-256 of a token is stored.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use crate::entity::api_token;
use crate::{StoreError, Tx};

pub async fn insert(
    tx: &Tx,
    user_id: i64,
    token_hash: String,
    name: String,
    expires_at: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let row = api_token::ActiveModel {
        user_id: Set(user_id),
        token_hash: Set(token_hash),
        name: Set(name),
        created_at: Set(tx.now()),
        expires_at: Set(expires_at),
        ..Default::default()
    }
    .insert(&**tx)
    .await?;
    Ok(row.id)
}

/// The user of a token that has not expired.
pub async fn user_of(
    db: &impl ConnectionTrait,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<i64>, StoreError> {
    Ok(api_token::Entity::find()
        .filter(api_token::Column::TokenHash.eq(token_hash))
        .filter(api_token::Column::ExpiresAt.gt(now))
        .one(db)
        .await?
        .map(|t| t.user_id))
}

/// Revoke a token; returns whether it existed.
pub async fn delete(tx: &Tx, token_hash: &str) -> Result<bool, StoreError> {
    let r = api_token::Entity::delete_many().filter(api_token::Column::TokenHash.eq(token_hash)).exec(&**tx).await?;
    Ok(r.rows_affected > 0)
}

/// Revoke every token of a user (on deactivation or password change).
pub async fn delete_for_user(tx: &Tx, user_id: i64) -> Result<u64, StoreError> {
    let r = api_token::Entity::delete_many().filter(api_token::Column::UserId.eq(user_id)).exec(&**tx).await?;
    Ok(r.rows_affected)
}
