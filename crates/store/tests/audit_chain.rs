#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! The audit chain on a real database (SQLite, or PostgreSQL with CHOUCHA_TEST_DATABASE_URL).

use choucha_store::StoreError;
use choucha_store::audit::{self, AuditActor, AuditEntry, Verification};
use choucha_store::testing::TestDb;
use sea_orm::ConnectionTrait;
use serde_json::json;

async fn write(db: &TestDb, n: usize) {
    for i in 0..n {
        let tx = db.store.begin().await.expect("begin");
        audit::append(
            &tx,
            &AuditActor { id: Some(1), name: "admin".into() },
            AuditEntry::new("test.write", "thing", i, json!(null), json!({ "i": i, "名称": "大同" })),
        )
        .await
        .expect("append");
        tx.commit().await.expect("commit");
    }
}

#[tokio::test]
async fn intact_chain_verifies_and_an_altered_row_is_named() {
    let db = TestDb::new().await.expect("db");
    write(&db, 5).await;
    assert_eq!(audit::verify(&db.store, |_| {}).await.expect("verify"), Verification::Intact { records: 5 });

    db.store
        .reader()
        .execute_unprepared("UPDATE audit_log SET after_json = '{\"i\":99}' WHERE seq = 3")
        .await
        .expect("tamper");
    match audit::verify(&db.store, |_| {}).await.expect("verify") {
        Verification::Broken(b) => assert!(b.to_string().contains("#3"), "{b}"),
        other => panic!("expected a broken chain, got {other:?}"),
    }
}

#[tokio::test]
async fn deleted_row_is_found() {
    let db = TestDb::new().await.expect("db");
    write(&db, 4).await;
    db.store.reader().execute_unprepared("DELETE FROM audit_log WHERE seq = 4").await.expect("delete");
    assert!(matches!(audit::verify(&db.store, |_| {}).await.expect("verify"), Verification::Broken(_)));
}

#[tokio::test]
async fn a_write_without_audit_record_is_refused_and_rolled_back() {
    let db = TestDb::new().await.expect("db");
    let tx = db.store.begin().await.expect("begin");
    tx.execute_unprepared("UPDATE audit_head SET seq = seq WHERE id = 1").await.expect("write");
    assert!(matches!(tx.commit().await, Err(StoreError::Unaudited)));
}

#[tokio::test]
async fn concurrent_writers_keep_one_chain() {
    let db = TestDb::new().await.expect("db");
    let mut handles = Vec::new();
    for w in 0..4 {
        let store = db.store.clone();
        handles.push(tokio::spawn(async move {
            for i in 0..10 {
                let tx = store.begin().await.expect("begin");
                audit::append(
                    &tx,
                    &AuditActor::system("t"),
                    AuditEntry::new("t", "w", format!("{w}-{i}"), json!(null), json!(i)),
                )
                .await
                .expect("append");
                tx.commit().await.expect("commit");
            }
        }));
    }
    for h in handles {
        h.await.expect("join");
    }
    assert_eq!(audit::verify(&db.store, |_| {}).await.expect("verify"), Verification::Intact { records: 40 });
}
