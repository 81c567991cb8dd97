//! Bulk writing for `bench-data`: `COPY … FROM STDIN` (text format) on PostgreSQL through sea-orm's
//! sqlx pool, and multi-row `INSERT`s in one large transaction per batch on SQLite (a connection of
//! its own, with bulk-load PRAGMAs). Secondary indexes (`ix_*`) of a table are dropped before its load
//! and re-created afterwards from the definitions the migrations left in the catalogue.

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sea_orm::sqlx::{self, AssertSqlSafe, PgPool, QueryBuilder, Row, Sqlite, SqlitePool};
use std::str::FromStr;

/// One value of a generated row.
#[derive(Debug, Clone)]
pub enum V {
    I(i64),
    S(String),
    B(bool),
    T(DateTime<Utc>),
    D(NaiveDate),
    Null,
}

impl From<i64> for V {
    fn from(v: i64) -> V {
        V::I(v)
    }
}
impl From<i32> for V {
    fn from(v: i32) -> V {
        V::I(i64::from(v))
    }
}
impl From<&str> for V {
    fn from(v: &str) -> V {
        V::S(v.to_string())
    }
}
impl From<String> for V {
    fn from(v: String) -> V {
        V::S(v)
    }
}
impl From<bool> for V {
    fn from(v: bool) -> V {
        V::B(v)
    }
}
impl From<DateTime<Utc>> for V {
    fn from(v: DateTime<Utc>) -> V {
        V::T(v)
    }
}
impl From<NaiveDate> for V {
    fn from(v: NaiveDate) -> V {
        V::D(v)
    }
}
impl<T: Into<V>> From<Option<T>> for V {
    fn from(v: Option<T>) -> V {
        v.map(Into::into).unwrap_or(V::Null)
    }
}

/// Rows of one table, as generated.
#[derive(Debug, Default)]
pub struct Batch {
    pub rows: Vec<Vec<V>>,
}

impl Batch {
    pub fn push(&mut self, row: Vec<V>) {
        self.rows.push(row);
    }
    pub fn len(&self) -> usize {
        self.rows.len()
    }
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

pub enum Sink {
    Pg(PgPool),
    Lite(SqlitePool),
}

/// Runs the same sqlx code on whichever pool the sink holds (`$p` names the pool in `$body`): the
/// two pools have different types, so the code is written once and compiled for each.
macro_rules! on_pool {
    ($sink:expr, $p:ident => $body:expr) => {
        match $sink {
            Sink::Pg($p) => $body,
            Sink::Lite($p) => $body,
        }
    };
}
pub(super) use on_pool;

/// A dropped index, to re-create.
pub struct SavedIndex {
    pub name: String,
    pub sql: String,
}

impl Sink {
    /// PostgreSQL: the pool of the store's connection. SQLite: one connection of its own, tuned for
    /// a bulk load (the data is a snapshot: a crash during the load means loading again).
    pub async fn open(url: &str, pg: Option<&PgPool>) -> anyhow::Result<Sink> {
        if let Some(p) = pg {
            return Ok(Sink::Pg(p.clone()));
        }
        let opts = SqliteConnectOptions::from_str(url)?
            .foreign_keys(false)
            .busy_timeout(std::time::Duration::from_secs(60))
            .pragma("synchronous", "OFF")
            .pragma("cache_size", "-262144")
            .pragma("temp_store", "MEMORY")
            .pragma("mmap_size", "268435456");
        let pool = SqlitePoolOptions::new().max_connections(1).connect_with(opts).await?;
        Ok(Sink::Lite(pool))
    }

    pub async fn execute(&self, sql: &str) -> anyhow::Result<()> {
        on_pool!(self, p => {
            sqlx::raw_sql(AssertSqlSafe(sql.to_string())).execute(p).await.with_context(|| sql.to_string())?;
        });
        Ok(())
    }

    pub async fn scalar_i64(&self, sql: &str) -> anyhow::Result<i64> {
        Ok(on_pool!(self, p => sqlx::query(AssertSqlSafe(sql.to_string()))
            .fetch_one(p)
            .await?
            .try_get::<Option<i64>, _>(0)?
            .unwrap_or(0)))
    }

    /// The next free id of a table.
    pub async fn next_id(&self, table: &str) -> anyhow::Result<i64> {
        Ok(self.scalar_i64(&format!("SELECT MAX(id) FROM {table}")).await? + 1)
    }

    /// Drop the non-unique secondary indexes (`ix_*`) of a table, returning their definitions.
    pub async fn drop_indexes(&self, table: &str) -> anyhow::Result<Vec<SavedIndex>> {
        let sql = match self {
            Sink::Pg(_) => {
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = $1 \
                 AND schemaname = current_schema() AND indexname LIKE 'ix\\_%'"
            }
            Sink::Lite(_) => {
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? \
                 AND name LIKE 'ix\\_%' ESCAPE '\\' AND sql IS NOT NULL"
            }
        };
        let saved: Vec<SavedIndex> = on_pool!(self, p => sqlx::query(sql)
            .bind(table)
            .fetch_all(p)
            .await?
            .into_iter()
            .map(|r| Ok(SavedIndex { name: r.try_get(0)?, sql: r.try_get(1)? }))
            .collect::<Result<_, sqlx::Error>>()?);
        for i in &saved {
            self.execute(&format!("DROP INDEX IF EXISTS \"{}\"", i.name)).await?;
        }
        Ok(saved)
    }

    pub async fn restore_indexes(&self, saved: &[SavedIndex]) -> anyhow::Result<()> {
        if let Sink::Pg(_) = self {
            self.execute("SET maintenance_work_mem = '512MB'").await.ok();
        }
        for i in saved {
            self.execute(&i.sql).await?;
        }
        Ok(())
    }

    /// Write rows; columns in the order of `cols`.
    pub async fn write(&self, table: &str, cols: &[&str], batch: &Batch) -> anyhow::Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        match self {
            Sink::Pg(p) => {
                let mut buf = String::with_capacity(batch.len() * 128);
                for row in &batch.rows {
                    for (i, v) in row.iter().enumerate() {
                        if i > 0 {
                            buf.push('\t');
                        }
                        copy_text(&mut buf, v);
                    }
                    buf.push('\n');
                }
                let mut conn = p.acquire().await?;
                let stmt = format!("COPY {table} ({}) FROM STDIN", cols.join(", "));
                let mut copy = conn.copy_in_raw(&stmt).await.with_context(|| stmt.clone())?;
                copy.send(buf.into_bytes()).await?;
                copy.finish().await.with_context(|| format!("COPY {table}"))?;
            }
            Sink::Lite(p) => {
                let mut tx = p.begin().await?;
                // Stay under SQLite's 32,766 bound parameters a statement.
                let per = (32_000 / cols.len()).max(1);
                for chunk in batch.rows.chunks(per) {
                    let mut q: QueryBuilder<Sqlite> =
                        QueryBuilder::new(format!("INSERT INTO {table} ({}) ", cols.join(", ")));
                    q.push_values(chunk, |mut b, row| {
                        for v in row {
                            match v {
                                V::I(x) => b.push_bind(*x),
                                V::S(x) => b.push_bind(x.clone()),
                                V::B(x) => b.push_bind(*x),
                                V::T(x) => b.push_bind(*x),
                                V::D(x) => b.push_bind(*x),
                                V::Null => b.push_bind(Option::<i64>::None),
                            };
                        }
                    });
                    q.build().execute(&mut *tx).await.with_context(|| format!("INSERT INTO {table}"))?;
                }
                tx.commit().await?;
            }
        }
        Ok(())
    }

    /// After a load: sequences past the loaded ids (PostgreSQL) and fresh planner statistics.
    pub async fn finish(&self, tables_with_id: &[&str], all_tables: &[&str]) -> anyhow::Result<()> {
        match self {
            Sink::Pg(_) => {
                for t in tables_with_id {
                    self.execute(&format!(
                        "SELECT setval(pg_get_serial_sequence('{t}', 'id'), GREATEST((SELECT MAX(id) FROM {t}), 1))"
                    ))
                    .await?;
                }
                for t in all_tables {
                    self.execute(&format!("ANALYZE {t}")).await?;
                }
            }
            Sink::Lite(_) => {
                self.execute("PRAGMA analysis_limit = 1000").await?;
                self.execute("ANALYZE").await?;
                self.execute("PRAGMA wal_checkpoint(TRUNCATE)").await?;
            }
        }
        Ok(())
    }

    pub async fn close(self) {
        match self {
            Sink::Pg(_) => {}
            Sink::Lite(p) => p.close().await,
        }
    }
}

/// A value in COPY's text format.
fn copy_text(buf: &mut String, v: &V) {
    use std::fmt::Write;
    match v {
        V::I(x) => {
            let _ = write!(buf, "{x}");
        }
        V::B(x) => buf.push(if *x { 't' } else { 'f' }),
        V::T(x) => {
            let _ = write!(buf, "{}", x.format("%Y-%m-%d %H:%M:%S%.6f+00"));
        }
        V::D(x) => {
            let _ = write!(buf, "{}", x.format("%Y-%m-%d"));
        }
        V::Null => buf.push_str("\\N"),
        V::S(s) => {
            for c in s.chars() {
                match c {
                    '\\' => buf.push_str("\\\\"),
                    '\t' => buf.push_str("\\t"),
                    '\n' => buf.push_str("\\n"),
                    '\r' => buf.push_str("\\r"),
                    c => buf.push(c),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_escapes_separators() {
        let mut b = String::new();
        copy_text(&mut b, &V::S("a\tb\\c\nd".into()));
        assert_eq!(b, "a\\tb\\\\c\\nd");
        let mut b = String::new();
        copy_text(&mut b, &V::Null);
        assert_eq!(b, "\\N");
    }
}
