//! Test databases: a fresh SQLite file, or, when `CHOUCHA_TEST_DATABASE_URL` is set, a fresh schema
//! in that PostgreSQL database. Each test gets its own, so tests run in parallel without `serial`.

use choucha_domain::audit::{AuditHash, AuditKey, AuditKeyring};

use crate::{ConnectSettings, Store, StoreError};

/// The environment variable that selects PostgreSQL for the tests.
pub const TEST_DATABASE_URL: &str = "CHOUCHA_TEST_DATABASE_URL";

/// A migrated, empty database for one test, its audit records sealed with a key of its own. The
/// SQLite file lives until the value is dropped.
pub struct TestDb {
    pub store: Store,
    /// The audit keyring of `store` (a reconnection takes it with `Store::with_audit_keys`).
    pub keyring: AuditKeyring,
    pub url: String,
    pub pg_schema: Option<String>,
    dir: Option<std::path::PathBuf>,
}

impl TestDb {
    pub async fn new() -> Result<TestDb, StoreError> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let keyring = AuditKey::new(rand::random::<[u8; 32]>().to_vec())
            .and_then(|k| AuditKeyring::new(AuditHash::HmacSha256, k, Vec::new()))
            .ok_or_else(|| StoreError::Config("test audit key".into()))?;
        match std::env::var(TEST_DATABASE_URL).ok().filter(|s| !s.is_empty()) {
            Some(url) => {
                let schema = format!("t_{}", &id[..16]);
                let admin =
                    Store::connect_with(&url, ConnectSettings { max_connections: Some(1), ..Default::default() })
                        .await?;
                use sea_orm::ConnectionTrait;
                admin.reader().execute_unprepared(&format!("CREATE SCHEMA {schema}")).await?;
                admin.close().await?;
                let store = Store::connect_with(
                    &url,
                    ConnectSettings { pg_schema: Some(schema.clone()), max_connections: Some(4), ..Default::default() },
                )
                .await?
                .with_audit_keys(keyring.clone());
                store.migrate().await?;
                Ok(TestDb { store, keyring, url, pg_schema: Some(schema), dir: None })
            }
            None => {
                let dir = std::env::temp_dir().join(format!("choucha-test-{id}"));
                std::fs::create_dir_all(&dir).map_err(|e| StoreError::Config(e.to_string()))?;
                let url = format!("sqlite:{}", dir.join("choucha.db").display());
                let store = Store::connect(&url).await?.with_audit_keys(keyring.clone());
                store.migrate().await?;
                Ok(TestDb { store, keyring, url, pg_schema: None, dir: Some(dir) })
            }
        }
    }

    /// A URL that reaches this test's database (PostgreSQL: with the schema as search path).
    pub fn connect_url(&self) -> String {
        match &self.pg_schema {
            Some(s) => {
                let sep = if self.url.contains('?') { '&' } else { '?' };
                format!("{}{sep}options=-c%20search_path%3D{s}", self.url)
            }
            None => self.url.clone(),
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(d) = &self.dir {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}
