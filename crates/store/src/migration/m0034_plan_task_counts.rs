//! Issue 17, the plan dashboard of a 100,000-sample plan: its tasks counted per item and state are
//! kept in `plan_task_counts`, so the plan view reads a few dozen rows instead of counting the plan's
//! tasks on every click.
//!
//! The counts are maintained by triggers on `sampling_tasks` (insert, delete, and an update of the
//! plan, item or state), so every write path — a draw, a redraw, each step of a task, a bench load,
//! a draw the bench takes back — keeps them in its own transaction, and no code path can forget to.
//! The migration backfills them from the tasks already there.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0034_plan_task_counts"
    }
}

const TABLE: &str = "CREATE TABLE IF NOT EXISTS plan_task_counts (
    plan_id BIGINT NOT NULL,
    item_id BIGINT NOT NULL,
    state VARCHAR(32) NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (plan_id, item_id, state)
)";

const BACKFILL: &str = "INSERT INTO plan_task_counts (plan_id, item_id, state, n)
    SELECT plan_id, item_id, state, COUNT(*) FROM sampling_tasks GROUP BY plan_id, item_id, state";

const SQLITE: [&str; 3] = [
    "CREATE TRIGGER IF NOT EXISTS trg_plan_task_counts_insert AFTER INSERT ON sampling_tasks BEGIN
        INSERT INTO plan_task_counts (plan_id, item_id, state, n) VALUES (NEW.plan_id, NEW.item_id, NEW.state, 1)
            ON CONFLICT (plan_id, item_id, state) DO UPDATE SET n = n + 1;
    END",
    "CREATE TRIGGER IF NOT EXISTS trg_plan_task_counts_delete AFTER DELETE ON sampling_tasks BEGIN
        UPDATE plan_task_counts SET n = n - 1
            WHERE plan_id = OLD.plan_id AND item_id = OLD.item_id AND state = OLD.state;
    END",
    "CREATE TRIGGER IF NOT EXISTS trg_plan_task_counts_update AFTER UPDATE OF plan_id, item_id, state ON sampling_tasks
    WHEN OLD.state IS NOT NEW.state OR OLD.plan_id IS NOT NEW.plan_id OR OLD.item_id IS NOT NEW.item_id BEGIN
        UPDATE plan_task_counts SET n = n - 1
            WHERE plan_id = OLD.plan_id AND item_id = OLD.item_id AND state = OLD.state;
        INSERT INTO plan_task_counts (plan_id, item_id, state, n) VALUES (NEW.plan_id, NEW.item_id, NEW.state, 1)
            ON CONFLICT (plan_id, item_id, state) DO UPDATE SET n = n + 1;
    END",
];

// On an update the two count rows are touched in the order of their state, so two transactions
// moving tasks of one item in opposite directions lock the rows in the same order (no deadlock).
const POSTGRES: [&str; 3] = [
    "CREATE OR REPLACE FUNCTION plan_task_counts_keep() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' AND NEW.state < OLD.state THEN
            INSERT INTO plan_task_counts (plan_id, item_id, state, n) VALUES (NEW.plan_id, NEW.item_id, NEW.state, 1)
                ON CONFLICT (plan_id, item_id, state) DO UPDATE SET n = plan_task_counts.n + 1;
            UPDATE plan_task_counts SET n = n - 1
                WHERE plan_id = OLD.plan_id AND item_id = OLD.item_id AND state = OLD.state;
            RETURN NULL;
        END IF;
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            UPDATE plan_task_counts SET n = n - 1
                WHERE plan_id = OLD.plan_id AND item_id = OLD.item_id AND state = OLD.state;
        END IF;
        IF TG_OP IN ('UPDATE', 'INSERT') THEN
            INSERT INTO plan_task_counts (plan_id, item_id, state, n) VALUES (NEW.plan_id, NEW.item_id, NEW.state, 1)
                ON CONFLICT (plan_id, item_id, state) DO UPDATE SET n = plan_task_counts.n + 1;
        END IF;
        RETURN NULL;
    END $$",
    "CREATE TRIGGER trg_plan_task_counts_rows AFTER INSERT OR DELETE ON sampling_tasks
        FOR EACH ROW EXECUTE FUNCTION plan_task_counts_keep()",
    "CREATE TRIGGER trg_plan_task_counts_update AFTER UPDATE OF plan_id, item_id, state ON sampling_tasks
        FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state OR OLD.plan_id IS DISTINCT FROM NEW.plan_id
            OR OLD.item_id IS DISTINCT FROM NEW.item_id)
        EXECUTE FUNCTION plan_task_counts_keep()",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let c = m.get_connection();
        c.execute_unprepared(TABLE).await?;
        c.execute_unprepared("DELETE FROM plan_task_counts").await?;
        c.execute_unprepared(BACKFILL).await?;
        let triggers: &[&str] = if m.get_database_backend() == DbBackend::Postgres { &POSTGRES } else { &SQLITE };
        for t in triggers {
            c.execute_unprepared(t).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let c = m.get_connection();
        if m.get_database_backend() == DbBackend::Postgres {
            c.execute_unprepared("DROP TRIGGER IF EXISTS trg_plan_task_counts_rows ON sampling_tasks").await?;
            c.execute_unprepared("DROP TRIGGER IF EXISTS trg_plan_task_counts_update ON sampling_tasks").await?;
            c.execute_unprepared("DROP FUNCTION IF EXISTS plan_task_counts_keep()").await?;
        } else {
            for t in ["insert", "delete", "update"] {
                c.execute_unprepared(&format!("DROP TRIGGER IF EXISTS trg_plan_task_counts_{t}")).await?;
            }
        }
        c.execute_unprepared("DROP TABLE IF EXISTS plan_task_counts").await?;
        Ok(())
    }
}
