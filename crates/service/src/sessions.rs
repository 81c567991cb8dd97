//! Page sessions, kept in the database: the web's session layer stores them through here, so the
//! web never reaches the store itself.

use chrono::{DateTime, Utc};

use crate::{Result, Services};

impl Services {
    pub async fn session_exists(&self, id: &str) -> Result<bool> {
        Ok(self.store.session_exists(id).await?)
    }

    pub async fn session_save(&self, id: &str, data: String, expires_at: DateTime<Utc>) -> Result<()> {
        Ok(self.store.session_save(id, data, expires_at).await?)
    }

    /// A live session's data (expired ones are gone), checked against `now`.
    pub async fn session_load(&self, id: &str, now: DateTime<Utc>) -> Result<Option<String>> {
        Ok(self.store.session_load(id, now).await?)
    }

    pub async fn session_delete(&self, id: &str) -> Result<()> {
        Ok(self.store.session_delete(id).await?)
    }

    /// Removes the sessions expired by the machine's time; how many went.
    pub async fn sweep_sessions(&self) -> Result<u64> {
        Ok(self.store.session_delete_expired(self.clock().real_now()).await?)
    }

    /// Whether the database answers (the health check).
    pub async fn ping(&self) -> Result<()> {
        Ok(self.store.ping().await?)
    }
}
