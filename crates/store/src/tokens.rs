//! API bearer tokens. Only the SHA-256 of a token is stored.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};

use crate::entity::api_token;
use crate::{Store, StoreError, Tx};

pub type TokenRow = api_token::Model;

/// Where a token was issued to: the client's address and user agent.
#[derive(Debug, Clone, Default)]
pub struct Issued {
    pub address: String,
    pub user_agent: String,
}

pub async fn insert(
    tx: &Tx,
    user_id: i64,
    token_hash: String,
    name: String,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    to: Issued,
) -> Result<i64, StoreError> {
    let row = api_token::ActiveModel {
        user_id: Set(user_id),
        token_hash: Set(token_hash),
        name: Set(name),
        created_at: Set(created_at),
        expires_at: Set(expires_at),
        last_seen_at: Set(Some(created_at)),
        address: Set(to.address),
        user_agent: Set(to.user_agent),
        ..Default::default()
    }
    .insert(&**tx)
    .await?;
    Ok(row.id)
}

/// What each request checks of its bearer token, read from the token's row without the rest:
/// (token id, user id, last seen) of a token that has not expired.
pub async fn live(
    db: &impl ConnectionTrait,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<(i64, i64, Option<DateTime<Utc>>)>, StoreError> {
    use api_token::Column as C;
    Ok(api_token::Entity::find()
        .select_only()
        .columns([C::Id, C::UserId, C::LastSeenAt])
        .filter(C::TokenHash.eq(token_hash))
        .filter(C::ExpiresAt.gt(now))
        .into_tuple()
        .one(db)
        .await?)
}

impl Store {
    /// Marks a token as used at `at` (infrastructure, like the sessions: no audit record).
    pub async fn token_touch(&self, id: i64, at: DateTime<Utc>) -> Result<(), StoreError> {
        api_token::ActiveModel { id: Set(id), last_seen_at: Set(Some(at)), ..Default::default() }
            .update(&self.write)
            .await?;
        Ok(())
    }
}

/// A user's tokens that have not expired, newest first.
pub async fn list_for_user(
    db: &impl ConnectionTrait,
    user_id: i64,
    now: DateTime<Utc>,
) -> Result<Vec<TokenRow>, StoreError> {
    Ok(api_token::Entity::find()
        .filter(api_token::Column::UserId.eq(user_id))
        .filter(api_token::Column::ExpiresAt.gt(now))
        .order_by_desc(api_token::Column::Id)
        .all(db)
        .await?)
}

/// Revoke a token; returns whether it existed.
pub async fn delete(tx: &Tx, token_hash: &str) -> Result<bool, StoreError> {
    let r = api_token::Entity::delete_many().filter(api_token::Column::TokenHash.eq(token_hash)).exec(&**tx).await?;
    Ok(r.rows_affected > 0)
}

/// Revoke one of a user's tokens by its number; returns whether it existed.
pub async fn delete_of_user(tx: &Tx, user_id: i64, id: i64) -> Result<bool, StoreError> {
    let r = api_token::Entity::delete_many()
        .filter(api_token::Column::UserId.eq(user_id))
        .filter(api_token::Column::Id.eq(id))
        .exec(&**tx)
        .await?;
    Ok(r.rows_affected > 0)
}

/// Revoke every token of a user (on deactivation, password change or lock).
pub async fn delete_for_user(tx: &Tx, user_id: i64) -> Result<u64, StoreError> {
    let r = api_token::Entity::delete_many().filter(api_token::Column::UserId.eq(user_id)).exec(&**tx).await?;
    Ok(r.rows_affected)
}
