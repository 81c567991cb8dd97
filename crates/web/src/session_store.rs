//! tower-sessions storage over our own database (the sqlx store crate would pull a second sqlx).

use async_trait::async_trait;
use choucha_service::Services;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{Error, Result};
use tower_sessions::{SessionStore, session_store};

#[derive(Clone, Debug)]
pub struct DbSessionStore {
    services: Services,
}

impl DbSessionStore {
    pub fn new(services: Services) -> Self {
        Self { services }
    }
}

/// How long a session lives without a request.
pub const SESSION_IDLE: time::Duration = time::Duration::hours(SESSION_IDLE_HOURS);
const SESSION_IDLE_HOURS: i64 = 8;

fn to_chrono(t: time::OffsetDateTime) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(t.unix_timestamp(), 0).unwrap_or_default()
}

fn to_time(t: chrono::DateTime<chrono::Utc>) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(t.timestamp()).unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

fn backend(e: impl std::fmt::Display) -> Error {
    session_store::Error::Backend(e.to_string())
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> Result<()> {
        // A fresh id that is not taken (collisions of 128 random bits are not expected, but cheap to rule out).
        while self.services.session_exists(&record.id.to_string()).await.map_err(backend)? {
            record.id = Id::default();
        }
        self.save(record).await
    }

    async fn save(&self, record: &Record) -> Result<()> {
        let data = serde_json::to_string(&record.data).map_err(|e| Error::Encode(e.to_string()))?;
        self.services.session_save(&record.id.to_string(), data, to_chrono(record.expiry_date)).await.map_err(backend)
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        // tower-sessions stamps expiry with the machine's time, so sessions are checked against
        // it too, not against the (movable) business clock.
        let now = self.services.clock().real_now();
        let Some(data) = self.services.session_load(&id.to_string(), now).await.map_err(backend)? else {
            return Ok(None);
        };
        let data = serde_json::from_str(&data).map_err(|e| Error::Decode(e.to_string()))?;
        // The store only returns live sessions; the layer recomputes expiry on inactivity.
        Ok(Some(Record { id: *id, data, expiry_date: to_time(now) + SESSION_IDLE }))
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        self.services.session_delete(&id.to_string()).await.map_err(backend)
    }
}
