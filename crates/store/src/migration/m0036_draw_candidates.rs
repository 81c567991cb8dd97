//! Issue 17, a draw of 100 from 10 million registry rows in under 200 ms: what a draw filters and
//! records of a candidate is read from one index, never from the registry's rows.
//!
//! - `enterprise_product_lines` carries each line's entry's USCC, name, kinds, status and size class
//!   (written with the line by every registry write, `enterprises::index_lines`, and by the bench's
//!   bulk load). Its index (product, division code, enterprise) covers them, so a draw's candidates
//!   are one range of one index: before, each of Datong's 25,642 candidates was a random read of the
//!   10-million-row registry (236 ms, most of the draw).
//! - Rule 22 reads the live tasks of a product's items since a date, and rule 5 the live tasks of a
//!   plan: both from covering indexes of `sampling_tasks`, not from its rows.
//!
//! PostgreSQL names the covered columns in `INCLUDE`; SQLite, which has no `INCLUDE`, takes them as
//! trailing key columns (it uses any index holding every column a query reads).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0036_draw_candidates"
    }
}

const COLUMNS: [&str; 5] = [
    "ALTER TABLE enterprise_product_lines ADD COLUMN uscc VARCHAR(18) NOT NULL DEFAULT ''",
    "ALTER TABLE enterprise_product_lines ADD COLUMN name VARCHAR(200) NOT NULL DEFAULT ''",
    "ALTER TABLE enterprise_product_lines ADD COLUMN kinds INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE enterprise_product_lines ADD COLUMN status VARCHAR(16) NOT NULL DEFAULT ''",
    "ALTER TABLE enterprise_product_lines ADD COLUMN size_class VARCHAR(16)",
];

/// The lines already there take their entry's columns (`UPDATE … FROM`: PostgreSQL, SQLite ≥ 3.33).
const BACKFILL: &str = "UPDATE enterprise_product_lines SET uscc = e.uscc, name = e.name, kinds = e.kinds, \
    status = e.status, size_class = e.size_class FROM enterprises e WHERE e.id = enterprise_product_lines.enterprise_id";

/// (name, table, key columns, covered columns)
const INDEXES: [(&str, &str, &str, &str); 3] = [
    (
        "ix_enterprise_product_lines_draw",
        "enterprise_product_lines",
        "product, division_code, enterprise_id",
        "status, kinds, size_class, uscc, name",
    ),
    ("ix_sampling_tasks_item_since", "sampling_tasks", "item_id, created_at", "state, enterprise_id, plan_id"),
    ("ix_sampling_tasks_plan_batches", "sampling_tasks", "plan_id, state", "enterprise_id, item_id"),
];

/// A covering index in the backend's words.
fn covering(backend: DbBackend, name: &str, table: &str, keys: &str, covered: &str) -> String {
    match backend {
        DbBackend::Postgres => format!("CREATE INDEX IF NOT EXISTS {name} ON {table} ({keys}) INCLUDE ({covered})"),
        _ => format!("CREATE INDEX IF NOT EXISTS {name} ON {table} ({keys}, {covered})"),
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        let backend = m.get_database_backend();
        for c in COLUMNS {
            db.execute_unprepared(c).await?;
        }
        if backend == DbBackend::Postgres {
            // Divergent (PostgreSQL only): compared by code point, as in `enterprises` (m0001).
            db.execute_unprepared(
                "ALTER TABLE enterprise_product_lines ALTER COLUMN uscc TYPE varchar(18) COLLATE \"C\", \
                 ALTER COLUMN name TYPE varchar(200) COLLATE \"C\"",
            )
            .await?;
        }
        db.execute_unprepared(BACKFILL).await?;
        // The draw's index replaces the plain one over the same keys.
        db.execute_unprepared("DROP INDEX IF EXISTS ix_enterprise_product_lines_product").await?;
        for (name, table, keys, covered) in INDEXES {
            db.execute_unprepared(&covering(backend, name, table, keys, covered)).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        for (name, ..) in INDEXES {
            db.execute_unprepared(&format!("DROP INDEX IF EXISTS {name}")).await?;
        }
        db.execute_unprepared(
            "CREATE INDEX IF NOT EXISTS ix_enterprise_product_lines_product ON enterprise_product_lines \
             (product, division_code, enterprise_id)",
        )
        .await?;
        for c in ["uscc", "name", "kinds", "status", "size_class"] {
            db.execute_unprepared(&format!("ALTER TABLE enterprise_product_lines DROP COLUMN {c}")).await?;
        }
        Ok(())
    }
}
