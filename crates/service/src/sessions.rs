//! Page sessions, kept in the database: the web's session layer stores them through here, so the
//! web never reaches the store itself. Sessions live in real time (`Clock::real_now`): one ends
//! after the policy's idle minutes without a request, and its absolute hours after it began.

pub use choucha_store::sessions::SessionMeta;
use chrono::{DateTime, Duration, Utc};

use crate::{Result, Services};

impl Services {
    pub async fn session_exists(&self, id: &str) -> Result<bool> {
        Ok(self.store.session_exists(id).await?)
    }

    /// When a session begun at `created` and used now ends.
    fn session_expiry(&self, created: DateTime<Utc>, now: DateTime<Utc>) -> DateTime<Utc> {
        let p = self.policy();
        (now + p.session_idle()).min(created + p.session_absolute())
    }

    /// Saves a session's data (and whose it is, from where); used now.
    pub async fn session_save(&self, id: &str, data: String, meta: SessionMeta) -> Result<()> {
        let now = self.clock().real_now();
        Ok(self.store.session_save(id, data, meta, now, |created| self.session_expiry(created, now)).await?)
    }

    /// A live session's data (ended and expired ones are gone). Its use is noted (at most once a
    /// minute), which keeps it alive for another idle span within its absolute limit.
    pub async fn session_load(&self, id: &str) -> Result<Option<String>> {
        let now = self.clock().real_now();
        let Some(row) = self.store.session_load(id, now).await? else { return Ok(None) };
        let created = row.created_at.unwrap_or(now);
        if row.last_seen_at.is_none_or(|t| now - t > Duration::minutes(1)) {
            self.store.session_touch(id, now, self.session_expiry(created, now)).await?;
        }
        Ok(Some(row.data))
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
