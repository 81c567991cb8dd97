#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! The query planner has what it needs (issue 17): the index a draw's tasks are read by, and on
//! SQLite statistics gathered at migration (SQLite never gathers them by itself).

use choucha_store::fixtures::TestDb;
use sea_orm::{ConnectionTrait, DbBackend, Statement};

async fn one(db: &TestDb, sql: &str) -> i64 {
    let c = db.store.reader();
    let row = c.query_one_raw(Statement::from_string(c.get_database_backend(), sql)).await.unwrap().unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

#[tokio::test]
async fn a_draws_tasks_have_an_index_and_sqlite_has_statistics() {
    let db = TestDb::new().await.expect("db");
    match db.store.backend() {
        DbBackend::Sqlite => {
            let n =
                one(&db, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'ix_sampling_tasks_draw'")
                    .await;
            assert_eq!(n, 1);
            assert_eq!(one(&db, "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'").await, 1);
            // The plan of a draw's tasks uses the index.
            let c = db.store.reader();
            let plan = c
                .query_all_raw(Statement::from_string(
                    DbBackend::Sqlite,
                    "EXPLAIN QUERY PLAN SELECT id FROM sampling_tasks WHERE draw_id = 1",
                ))
                .await
                .unwrap();
            let text: Vec<String> = plan.iter().map(|r| r.try_get_by_index::<String>(3).unwrap()).collect();
            assert!(text.iter().any(|t| t.contains("ix_sampling_tasks_draw")), "{text:?}");
            // Running it again is cheap and harmless.
            db.store.optimize().await.unwrap();
        }
        _ => {
            let n = one(&db, "SELECT count(*)::bigint FROM pg_indexes WHERE indexname = 'ix_sampling_tasks_draw' AND schemaname = current_schema()").await;
            assert_eq!(n, 1);
            db.store.optimize().await.unwrap();
        }
    }
}
