//! Persistence for Choucha on SQLite and PostgreSQL from one codebase (sea-orm): connection set-up,
//! migrations, write transactions that carry their audit record, and one module of queries per
//! domain object. Nothing above this crate writes SQL.

pub mod analysis_texts;
pub mod announcements;
pub mod audit;
pub mod audit_files;
pub mod audit_rows;
pub mod calendar;
pub mod cases;
pub mod custody;
pub mod disposals;
pub mod draw_pool;
pub mod draw_risk;
pub mod draws;
pub mod enterprises;
pub mod entity;
pub mod error;
pub mod evidence;
/// Fixtures for tests (a fresh database per test): compiled only for tests, never into the binary.
#[cfg(any(test, feature = "testing"))]
pub mod fixtures;
pub mod handover;
pub mod implementation_rules;
pub mod job_leases;
pub mod lab;
pub mod migration;
pub mod national_export;
pub mod organisations;
pub mod overdue;
pub mod overview;
pub mod plans;
pub mod results;
pub mod retests;
pub mod sampling;
pub mod second_factors;
pub mod seed_commitments;
pub mod sessions;
pub mod signing;
pub mod statistics;
pub mod stored_signatures;
pub mod tokens;
pub mod users;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use choucha_domain::audit::AuditKeyring;
use choucha_domain::clock::Clock;

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend, TransactionTrait,
};
use sea_orm_migration::MigratorTrait;

pub use error::StoreError;
pub use sea_orm::DbBackend as Backend;

/// A page of rows with the cursor of the next page (keyset pagination).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Opaque cursor for the next page; `None` on the last page.
    pub next: Option<String>,
}

impl<T> Page<T> {
    /// Cut a page from `limit + 1` fetched rows: the extra row only says there is a next page, whose
    /// cursor is the key of the last row kept.
    pub fn cut(mut items: Vec<T>, limit: u64, key: impl Fn(&T) -> String) -> Page<T> {
        let next = if items.len() as u64 > limit {
            items.truncate(limit as usize);
            items.last().map(key)
        } else {
            None
        };
        Page { items, next }
    }
}

/// Distinct ids in chunks of 500: a batch lookup (`… WHERE id IN (…)`) of the rows a page holds, far
/// under SQLite's and PostgreSQL's bound-variable limits whatever the caller passes.
pub(crate) fn id_chunks(ids: &[i64]) -> Vec<Vec<i64>> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    ids.chunks(500).map(<[i64]>::to_vec).collect()
}

/// The database: a read pool and a write pool. On SQLite the write pool has one connection (SQLite
/// has one writer at a time; queuing in the pool is cheaper than busy retries); on PostgreSQL both
/// are the same pool. A third pool serves the reads that may lag behind the writes (statistics,
/// exports, quality analysis, dashboards: [`Store::lagging_reader`]): a PostgreSQL replica when
/// `ConnectSettings::read_url` names one, else the read pool. The audit keyring (kept outside the database) seals the records of every write;
/// without one, records are written unkeyed (tools and old tests only: a keyed chain then names them
/// as a downgrade).
#[derive(Clone, Debug)]
pub struct Store {
    read: DatabaseConnection,
    write: DatabaseConnection,
    /// The replica's pool, or the read pool again.
    lagging: DatabaseConnection,
    /// Whether `lagging` is a pool of its own (a replica URL was given).
    replica: bool,
    audit_keys: Option<Arc<AuditKeyring>>,
    /// What the writes stamp their times with (`created_at`, `updated_at`, audit records).
    clock: Clock,
}

/// Connection settings beyond the URL.
#[derive(Debug, Clone, Default)]
pub struct ConnectSettings {
    /// PostgreSQL schema to use (tests isolate themselves in a schema each).
    pub pg_schema: Option<String>,
    pub max_connections: Option<u32>,
    /// A PostgreSQL replica for the reads that may lag (`database_read_url`); `None`: the primary.
    pub read_url: Option<String>,
}

impl Store {
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        Self::connect_with(url, ConnectSettings::default()).await
    }

    pub async fn connect_with(url: &str, settings: ConnectSettings) -> Result<Store, StoreError> {
        let read_url = settings.read_url.as_deref().map(str::trim).filter(|u| !u.is_empty());
        if url.starts_with("sqlite:") {
            if let Some(r) = read_url {
                return Err(StoreError::Config(format!(
                    "只读副本地址“{}”仅适用于 PostgreSQL：SQLite 数据库不使用只读副本，请删除该设置",
                    redact_url(r)
                )));
            }
            let read = Database::connect(sqlite_options(url, settings.max_connections.unwrap_or(8))).await?;
            let write = Database::connect(sqlite_options(url, 1)).await?;
            Ok(Store { lagging: read.clone(), replica: false, read, write, audit_keys: None, clock: Clock::system() })
        } else if is_postgres(url) {
            let db = Database::connect(pg_options(url, &settings, settings.pg_schema.clone())).await?;
            let (lagging, replica) = match read_url {
                None => (db.clone(), false),
                Some(r) => (connect_replica(r, &settings).await?, true),
            };
            Ok(Store { read: db.clone(), write: db, lagging, replica, audit_keys: None, clock: Clock::system() })
        } else {
            Err(StoreError::Config(format!(
                "不支持的数据库地址“{}”：应以 sqlite: 或 postgres:// 开头",
                redact_url(url)
            )))
        }
    }

    /// Seal the audit records of this store's writes with `keys` (HMAC, DESIGN.md: keyed hash chain).
    pub fn with_audit_keys(mut self, keys: AuditKeyring) -> Store {
        self.audit_keys = Some(Arc::new(keys));
        self
    }

    /// Stamp this store's writes with `clock` (the one clock of `Services`).
    pub fn with_clock(mut self, clock: Clock) -> Store {
        self.clock = clock;
        self
    }

    /// The clock this store's writes are stamped with.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The current instant by this store's clock.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// The keyring the audit records are sealed and verified with.
    pub fn audit_keys(&self) -> Option<&AuditKeyring> {
        self.audit_keys.as_deref()
    }

    pub fn backend(&self) -> DbBackend {
        self.read.get_database_backend()
    }

    /// The connection for reads outside a transaction, on the primary: what a user just wrote is
    /// there (read-your-writes).
    pub fn reader(&self) -> &DatabaseConnection {
        &self.read
    }

    /// The connection for reads that may lag behind the writes by the replication delay:
    /// statistics, exports, quality analysis, dashboards — figures over many rows that nobody
    /// reads back right after writing them. A PostgreSQL replica when one is configured, else the
    /// same pool as [`Store::reader`]. Never use it to read back a write or to check a rule.
    pub fn lagging_reader(&self) -> &DatabaseConnection {
        &self.lagging
    }

    /// Apply pending migrations, then give the query planner statistics (see [`Store::optimize`]).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        migration::Migrator::up(&self.write, None).await?;
        self.optimize().await
    }

    /// Keep the query planner's statistics current. PostgreSQL's autovacuum analyses by itself;
    /// SQLite never does: without statistics its planner picks the three-valued status index and
    /// scans the whole registry. So on SQLite: a bounded `ANALYZE` when there are no statistics
    /// yet (`analysis_limit` keeps it to a sample of each index, seconds even at millions of
    /// rows), else `PRAGMA optimize`, which re-analyses only tables that changed much. Run at
    /// start (after migrating) and every hour by `serve`.
    pub async fn optimize(&self) -> Result<(), StoreError> {
        if self.backend() != DbBackend::Sqlite {
            return Ok(());
        }
        let stats = self
            .write
            .query_one_raw(sea_orm::Statement::from_string(
                DbBackend::Sqlite,
                "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'",
            ))
            .await?
            .and_then(|r| r.try_get_by_index::<i64>(0).ok())
            .unwrap_or(0);
        self.write.execute_unprepared("PRAGMA analysis_limit = 1000").await?;
        self.write.execute_unprepared(if stats == 0 { "ANALYZE" } else { "PRAGMA optimize" }).await?;
        Ok(())
    }

    /// The connection pools' sizes and idle connections, `(pool, size, idle)`, for `/metrics`.
    pub fn pool_status(&self) -> Vec<(&'static str, u32, usize)> {
        let replica = self.replica.then_some(("replica", &self.lagging));
        [("read", &self.read), ("write", &self.write)]
            .into_iter()
            .chain(replica)
            .map(|(name, c)| match c.get_database_backend() {
                DbBackend::Postgres => {
                    let p = c.get_postgres_connection_pool();
                    (name, p.size(), p.num_idle())
                }
                _ => {
                    let p = c.get_sqlite_connection_pool();
                    (name, p.size(), p.num_idle())
                }
            })
            .collect()
    }

    /// Whether the database answers (`/healthz`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.read.ping().await?;
        Ok(())
    }

    /// Begin a write transaction. It commits only if an audit record was appended to it.
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        let inner = self.write.begin().await?;
        Ok(Tx {
            inner,
            audited: AtomicBool::new(false),
            keys: self.audit_keys.clone(),
            clock: self.clock.clone(),
            pending: Mutex::new(Vec::new()),
            touched: Mutex::new(Vec::new()),
        })
    }

    pub async fn close(self) -> Result<(), StoreError> {
        if self.replica {
            self.lagging.close().await?;
        }
        self.read.close().await?;
        self.write.close().await?;
        Ok(())
    }
}

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

fn pg_options(url: &str, settings: &ConnectSettings, schema: Option<String>) -> ConnectOptions {
    let mut opts = ConnectOptions::new(url.to_string());
    opts.max_connections(settings.max_connections.unwrap_or(16))
        .min_connections(0)
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false);
    if let Some(schema) = schema {
        opts.set_schema_search_path(schema);
    }
    opts
}

/// The replica's pool, checked at once: a read URL that is not PostgreSQL, or a replica that does
/// not answer, is a clear error at start rather than failing statistics later. Its search path is
/// its URL's own (`options=-c search_path=…`), never `pg_schema`.
async fn connect_replica(url: &str, settings: &ConnectSettings) -> Result<DatabaseConnection, StoreError> {
    if !is_postgres(url) {
        return Err(StoreError::Config(format!(
            "只读副本地址“{}”无效：应以 postgres:// 开头（只读副本仅适用于 PostgreSQL）",
            redact_url(url)
        )));
    }
    let refused = |e: sea_orm::DbErr| {
        StoreError::Config(format!("无法连接只读副本“{}”：{e}。请检查 database_read_url 设置", redact_url(url)))
    };
    let db = Database::connect(pg_options(url, settings, None)).await.map_err(refused)?;
    db.ping().await.map_err(refused)?;
    Ok(db)
}

fn sqlite_options(url: &str, max: u32) -> ConnectOptions {
    let mut opts = ConnectOptions::new(url.to_string());
    opts.max_connections(max)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(30))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|o| {
            use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
            o.create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                .pragma("mmap_size", "268435456")
        });
    opts
}

/// A URL with its password hidden, for messages and logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// A write transaction. Every write of Choucha goes with its audit record in the same transaction
/// (DESIGN.md, Architecture): `commit` refuses a transaction to which no audit record was appended.
/// The records are chained at commit, after every write, so that they carry the hashes of the
/// business rows the transaction wrote as they finally stand (`audit_rows`).
pub struct Tx {
    inner: DatabaseTransaction,
    audited: AtomicBool,
    keys: Option<Arc<AuditKeyring>>,
    clock: Clock,
    pending: Mutex<Vec<Pending>>,
    touched: Mutex<Vec<(audit_rows::RowTable, i64)>>,
}

/// An audit record queued until commit.
pub(crate) type Pending = (audit::AuditActor, audit::AuditEntry);

impl std::ops::Deref for Tx {
    type Target = DatabaseTransaction;
    fn deref(&self) -> &DatabaseTransaction {
        &self.inner
    }
}

impl Tx {
    /// The current instant by the store's clock: what this transaction's writes are stamped with.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    pub(crate) fn mark_audited(&self) {
        self.audited.store(true, Ordering::Relaxed);
    }

    /// Queue an audit record; it is chained at commit (what `audit::append` does, without the await).
    pub fn record(&self, actor: audit::AuditActor, entry: audit::AuditEntry) {
        self.queue_audit(actor, entry);
    }

    /// Queue an audit record; it is chained at commit.
    pub(crate) fn queue_audit(&self, actor: audit::AuditActor, entry: audit::AuditEntry) {
        self.pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push((actor, entry));
        self.mark_audited();
    }

    /// A business row written (or deleted) in this transaction: its hash goes into the audit record.
    pub(crate) fn touch(&self, table: audit_rows::RowTable, id: i64) {
        self.touched.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push((table, id));
    }

    pub(crate) fn audit_keys(&self) -> Option<&AuditKeyring> {
        self.keys.as_deref()
    }

    pub(crate) fn take_pending(&self) -> (Vec<Pending>, Vec<(audit_rows::RowTable, i64)>) {
        let pending = std::mem::take(&mut *self.pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        let touched = std::mem::take(&mut *self.touched.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        (pending, touched)
    }

    pub async fn commit(self) -> Result<(), StoreError> {
        if !self.audited.load(Ordering::Relaxed) {
            self.inner.rollback().await?;
            return Err(StoreError::Unaudited);
        }
        // On an error the transaction is dropped, which rolls it back.
        audit::chain_pending(&self).await?;
        self.inner.commit().await?;
        Ok(())
    }

    pub async fn rollback(self) -> Result<(), StoreError> {
        self.inner.rollback().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(redact_url("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact_url("sqlite:data/x.db"), "sqlite:data/x.db");
    }
}
