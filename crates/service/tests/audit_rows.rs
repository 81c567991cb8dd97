//! Business rows vouched for by the audit chain (issue 13): a test result, a report or a sampling
//! record changed or deleted directly in the database, outside the application, is named by the deep
//! check with the row and its latest audit record; an untouched database verifies. On SQLite, and on
//! PostgreSQL with CHOUCHA_TEST_DATABASE_URL.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use choucha_domain::audit::ChainBreak;
use choucha_service::fixtures::lab_world::*;
use choucha_store::audit::{self, Verification, VerifyOptions, VerifyReport};
use sea_orm::{ConnectionTrait, Statement};

async fn deep(w: &World) -> VerifyReport {
    let opts = VerifyOptions { checkpoint: None, deep: true };
    audit::verify_with(s(w).store(), &opts, |_| {}).await.expect("verify")
}

async fn exec(w: &World, sql: &str) {
    s(w).store().reader().execute_unprepared(sql).await.expect(sql);
}

async fn scalar(w: &World, sql: &str) -> i64 {
    let db = s(w).store().reader();
    let row = db.query_one_raw(Statement::from_string(db.get_database_backend(), sql)).await.expect(sql).expect("row");
    row.try_get_by_index::<i64>(0).expect("i64")
}

/// The latest audit record that carries the hash of row `id` of `table`.
async fn latest_record_of(w: &World, table: &str, id: i64) -> i64 {
    scalar(w, &format!("SELECT MAX(seq) FROM audit_log WHERE rows_json LIKE '%\"table\":\"{table}\",\"id\":{id},%'"))
        .await
}

fn named(r: VerifyReport) -> ChainBreak {
    match r.verification {
        Verification::Broken(b) => b,
        other => panic!("expected the change to be named, got {other:?}"),
    }
}

#[tokio::test]
async fn a_test_result_changed_in_the_database_is_named_by_the_deep_check() {
    let w = world().await;
    issued(&w, 12.5).await;
    let clean = deep(&w).await;
    assert!(matches!(clean.verification, Verification::Intact { .. }), "{clean:?}");
    // Three results, one report, at least one sampling record version.
    assert!(clean.rows_checked >= 5, "{clean:?}");

    // The sulfur result (12.5, failing) made to pass, straight in the table.
    let id = scalar(&w, "SELECT MIN(id) FROM lab_results WHERE item_index = 0").await;
    exec(&w, &format!("UPDATE lab_results SET display = '8.0mg/kg', judgement = 'conforming' WHERE id = {id}")).await;
    let seq = latest_record_of(&w, "lab_results", id).await;
    let b = named(deep(&w).await);
    assert_eq!(b, ChainBreak::RowChanged { table: "lab_results".into(), id, seq });
    assert_eq!(b.to_string(), format!("业务数据被改动：检验结果 #{id}（最后一条审计记录 #{seq}）内容与审计记录不符"));
    // The chain itself is intact: only the deep check sees it.
    assert!(matches!(audit::verify(s(&w).store(), |_| {}).await.unwrap(), Verification::Intact { .. }));
}

#[tokio::test]
async fn a_report_or_a_sampling_record_changed_or_deleted_in_the_database_is_named() {
    let w = world().await;
    let report = issued(&w, 5.0).await;
    exec(&w, &format!("UPDATE lab_reports SET content_json = '{{}}' WHERE id = {}", report.id)).await;
    let seq = latest_record_of(&w, "lab_reports", report.id).await;
    assert_eq!(named(deep(&w).await), ChainBreak::RowChanged { table: "lab_reports".into(), id: report.id, seq });

    let w = world().await;
    issued(&w, 5.0).await;
    let rec = scalar(&w, "SELECT MAX(id) FROM sampling_records").await;
    exec(&w, &format!("UPDATE sampling_records SET fields_json = '{{}}' WHERE id = {rec}")).await;
    let seq = latest_record_of(&w, "sampling_records", rec).await;
    let b = named(deep(&w).await);
    assert_eq!(b, ChainBreak::RowChanged { table: "sampling_records".into(), id: rec, seq });
    assert!(b.to_string().contains(&format!("抽样单 #{rec}")), "{b}");

    let w = world().await;
    issued(&w, 5.0).await;
    let id = scalar(&w, "SELECT MAX(id) FROM lab_results").await;
    exec(&w, &format!("DELETE FROM lab_results WHERE id = {id}")).await;
    let seq = latest_record_of(&w, "lab_results", id).await;
    let b = named(deep(&w).await);
    assert_eq!(b, ChainBreak::RowMissing { table: "lab_results".into(), id, seq });
    assert!(b.to_string().starts_with("业务数据被删除：检验结果"), "{b}");
}

#[tokio::test]
async fn a_result_entered_again_replaces_the_old_row_without_a_false_alarm() {
    let w = world().await;
    let bc = accepted(&w).await;
    choucha_service::lab::enter_result(s(&w), &w.t1, &bc, number(0, 5.0)).await.unwrap();
    choucha_service::lab::enter_result(s(&w), &w.t1, &bc, number(0, 6.0)).await.unwrap();
    let r = deep(&w).await;
    assert!(matches!(r.verification, Verification::Intact { .. }), "{r:?}");
    assert!(r.rows_checked >= 1, "{r:?}");
}
