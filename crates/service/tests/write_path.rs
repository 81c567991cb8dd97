//! The one write path (`Services::write`): a write commits only with its audit record, the record
//! names the one who opened the write, and a write given up keeps nothing. On SQLite, and on
//! PostgreSQL with CHOUCHA_TEST_DATABASE_URL.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use choucha_service::fixtures::lab_world::*;
use choucha_store::audit::{self, AuditActor, AuditEntry, AuditFilter};
use serde_json::json;

async fn records(w: &World, action: &str) -> Vec<audit::AuditRow> {
    let f = AuditFilter { action: Some(action.into()), ..Default::default() };
    audit::list(s(w).store().reader(), &f, None, 50).await.unwrap().items
}

#[tokio::test]
async fn a_write_commits_with_its_record_in_the_openers_name() {
    let w = world().await;
    let (head, _) = audit::head(s(&w).store().reader()).await.unwrap();

    let tx = s(&w).write(&w.regulator).await.unwrap();
    tx.audit(AuditEntry::new("test.first", "plan", 1, json!(null), json!({"n": 1})));
    tx.commit(AuditEntry::new("test.second", "plan", 1, json!(null), json!({"n": 2}))).await.unwrap();

    let (after, _) = audit::head(s(&w).store().reader()).await.unwrap();
    assert_eq!(after, head + 2, "both records chained");
    for action in ["test.first", "test.second"] {
        let r = records(&w, action).await;
        assert_eq!(r.len(), 1, "{action}");
        assert_eq!(r[0].actor_id, Some(w.regulator.user_id), "{action}: in the opener's name");
    }

    // The system's writes are recorded as such.
    let tx = s(&w).write(AuditActor::system("sweep")).await.unwrap();
    tx.commit(AuditEntry::new("test.system", "plan", 1, json!(null), json!(null))).await.unwrap();
    let r = records(&w, "test.system").await;
    assert_eq!((r[0].actor_id, r[0].actor_name.as_str()), (None, "sweep"));
}

#[tokio::test]
async fn a_write_without_a_record_or_given_up_keeps_nothing() {
    let w = world().await;
    let (head, _) = audit::head(s(&w).store().reader()).await.unwrap();

    // Nothing recorded: the store refuses to commit.
    let tx = s(&w).write(&w.regulator).await.unwrap();
    assert!(tx.commit_recorded().await.is_err(), "an unaudited write must not commit");

    // Rolled back, or dropped: no record is left.
    let tx = s(&w).write(&w.regulator).await.unwrap();
    tx.audit(AuditEntry::new("test.rolled_back", "plan", 1, json!(null), json!(null)));
    tx.rollback().await.unwrap();
    {
        let tx = s(&w).write(&w.regulator).await.unwrap();
        tx.audit(AuditEntry::new("test.dropped", "plan", 1, json!(null), json!(null)));
    }
    assert!(records(&w, "test.rolled_back").await.is_empty());
    assert!(records(&w, "test.dropped").await.is_empty());
    assert_eq!(audit::head(s(&w).store().reader()).await.unwrap().0, head);
}
