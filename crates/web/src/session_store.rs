//! tower-sessions storage over our own database (the sqlx store crate would pull a second sqlx).
//! The cookie lives for the browser's session; how long the session itself lives (idle and
//! absolute limits of the security policy, in real time) is the service's: an expired or ended
//! session is simply not found.

use async_trait::async_trait;
use choucha_service::Services;
use choucha_service::sessions::SessionMeta;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{Error, Result};
use tower_sessions::{SessionStore, session_store};

use crate::auth::{SESSION_ADDRESS, SESSION_AGENT, SESSION_USER};

#[derive(Clone, Debug)]
pub struct DbSessionStore {
    services: Services,
}

impl DbSessionStore {
    pub fn new(services: Services) -> Self {
        Self { services }
    }

    async fn write(&self, record: &Record) -> Result<()> {
        let data = serde_json::to_string(&record.data).map_err(|e| Error::Encode(e.to_string()))?;
        let text = |key: &str| record.data.get(key).and_then(|v| v.as_str()).unwrap_or("").to_string();
        let meta = SessionMeta {
            user_id: record.data.get(SESSION_USER).and_then(serde_json::Value::as_i64),
            address: text(SESSION_ADDRESS),
            user_agent: text(SESSION_AGENT),
        };
        self.services.session_save(&record.id.to_string(), data, meta).await.map_err(backend)
    }
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
        self.write(record).await
    }

    async fn save(&self, record: &Record) -> Result<()> {
        // A session ended meanwhile (signed out elsewhere, password changed, account locked) is not
        // brought back by the end of the request that still held it.
        if !self.services.session_exists(&record.id.to_string()).await.map_err(backend)? {
            return Ok(());
        }
        self.write(record).await
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        let Some(data) = self.services.session_load(&id.to_string()).await.map_err(backend)? else {
            return Ok(None);
        };
        let data = serde_json::from_str(&data).map_err(|e| Error::Decode(e.to_string()))?;
        // The expiry the layer keeps is not used: the cookie ends with the browser, the session
        // with the policy's limits.
        let expiry_date = time::OffsetDateTime::now_utc() + time::Duration::days(1);
        Ok(Some(Record { id: *id, data, expiry_date }))
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        self.services.session_delete(&id.to_string()).await.map_err(backend)
    }
}
