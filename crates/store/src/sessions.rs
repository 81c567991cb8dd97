//! Storage of page sessions (cookie sessions). Session rows are infrastructure, not domain data:
//! they are written outside the audited transactions; sign-ins, sign-outs and ended sessions are
//! audited by the service. Besides the data, a row names its user, when it began, when it was last
//! used and from where, so a user sees and ends their own sessions.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::entity::session;
use crate::{Store, StoreError};

pub type SessionRow = session::Model;

/// Who a session belongs to and from where (read from the session's data by the web).
#[derive(Debug, Clone, Default)]
pub struct SessionMeta {
    pub user_id: Option<i64>,
    pub address: String,
    pub user_agent: String,
}

impl Store {
    /// Saves a session's data at `now`; its expiry is `expires_at(created_at)` (idle and absolute
    /// limits are the service's).
    pub async fn session_save(
        &self,
        id: &str,
        data: String,
        meta: SessionMeta,
        now: DateTime<Utc>,
        expires_at: impl FnOnce(DateTime<Utc>) -> DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let existing = session::Entity::find_by_id(id.to_string()).one(&self.write).await?;
        let created = existing.as_ref().and_then(|s| s.created_at).unwrap_or(now);
        let row = session::ActiveModel {
            id: Set(id.to_string()),
            data: Set(data),
            expires_at: Set(expires_at(created)),
            user_id: Set(meta.user_id),
            created_at: Set(Some(created)),
            last_seen_at: Set(Some(now)),
            address: Set(meta.address.chars().take(64).collect()),
            user_agent: Set(meta.user_agent.chars().take(200).collect()),
        };
        if existing.is_some() {
            row.update(&self.write).await?;
        } else {
            row.insert(&self.write).await?;
        }
        Ok(())
    }

    /// Whether a session id is taken (live or not).
    pub async fn session_exists(&self, id: &str) -> Result<bool, StoreError> {
        Ok(session::Entity::find_by_id(id.to_string()).one(&self.read).await?.is_some())
    }

    /// A session that has not expired by `now`.
    pub async fn session_load(&self, id: &str, now: DateTime<Utc>) -> Result<Option<SessionRow>, StoreError> {
        Ok(session::Entity::find_by_id(id.to_string())
            .filter(session::Column::ExpiresAt.gt(now))
            .one(&self.read)
            .await?)
    }

    /// Marks a session as used at `now`, expiring at `expires_at`.
    pub async fn session_touch(
        &self,
        id: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        session::Entity::update_many()
            .col_expr(session::Column::LastSeenAt, sea_orm::sea_query::Expr::value(Some(now)))
            .col_expr(session::Column::ExpiresAt, sea_orm::sea_query::Expr::value(expires_at))
            .filter(session::Column::Id.eq(id))
            .exec(&self.write)
            .await?;
        Ok(())
    }

    /// A user's live sessions, latest used first.
    pub async fn sessions_of_user(&self, user_id: i64, now: DateTime<Utc>) -> Result<Vec<SessionRow>, StoreError> {
        Ok(session::Entity::find()
            .filter(session::Column::UserId.eq(user_id))
            .filter(session::Column::ExpiresAt.gt(now))
            .order_by_desc(session::Column::LastSeenAt)
            .all(&self.read)
            .await?)
    }

    pub async fn session_delete(&self, id: &str) -> Result<(), StoreError> {
        session::Entity::delete_by_id(id.to_string()).exec(&self.write).await?;
        Ok(())
    }

    pub async fn session_delete_expired(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        Ok(session::Entity::delete_many()
            .filter(session::Column::ExpiresAt.lte(now))
            .exec(&self.write)
            .await?
            .rows_affected)
    }
}

/// Ends every session of a user (a password change or a lock), inside the write that causes it.
pub async fn delete_for_user(db: &impl ConnectionTrait, user_id: i64) -> Result<u64, StoreError> {
    Ok(session::Entity::delete_many().filter(session::Column::UserId.eq(user_id)).exec(db).await?.rows_affected)
}

/// Ends one session, inside the write that records it.
pub async fn delete_one(db: &impl ConnectionTrait, id: &str) -> Result<(), StoreError> {
    session::Entity::delete_by_id(id.to_string()).exec(db).await?;
    Ok(())
}
