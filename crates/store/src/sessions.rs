//! Storage of page sessions (cookie sessions). Session rows are infrastructure, not domain data:
//! they are written outside the audited transactions; logins and logouts themselves are audited by
//! the service.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};

use crate::entity::session;
use crate::{Store, StoreError};

impl Store {
    pub async fn session_save(&self, id: &str, data: String, expires_at: DateTime<Utc>) -> Result<(), StoreError> {
        session::Entity::insert(session::ActiveModel {
            id: Set(id.to_string()),
            data: Set(data),
            expires_at: Set(expires_at),
        })
        .on_conflict(
            OnConflict::column(session::Column::Id)
                .update_columns([session::Column::Data, session::Column::ExpiresAt])
                .to_owned(),
        )
        .exec(&self.write)
        .await?;
        Ok(())
    }

    /// Whether a session id is taken (live or not).
    pub async fn session_exists(&self, id: &str) -> Result<bool, StoreError> {
        Ok(session::Entity::find_by_id(id.to_string()).one(&self.read).await?.is_some())
    }

    pub async fn session_load(&self, id: &str, now: DateTime<Utc>) -> Result<Option<String>, StoreError> {
        Ok(session::Entity::find_by_id(id.to_string())
            .filter(session::Column::ExpiresAt.gt(now))
            .one(&self.read)
            .await?
            .map(|s| s.data))
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
