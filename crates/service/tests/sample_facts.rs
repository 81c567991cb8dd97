//! The facts the quality analysis groups by (issue 17, m0035) are kept on each laboratory sample by
//! triggers: the sampled enterprise's division and size class at receipt, the domain of the task's
//! newest signed record, whether an approved report exists. After every write that changes them
//! they equal what the joins and probes they replace would read, and the analysis reads them. On
//! SQLite or PostgreSQL.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use choucha_service::fixtures::lab_world::{self, World, s};
use choucha_service::statistics;
use sea_orm::{ConnectionTrait, Statement};

async fn row(w: &World, sql: String) -> (String, String, String, bool) {
    let c = s(w).store().reader();
    let r = c.query_one_raw(Statement::from_string(c.get_database_backend(), sql)).await.unwrap().unwrap();
    (
        r.try_get_by_index::<String>(0).unwrap(),
        r.try_get_by_index::<String>(1).unwrap(),
        r.try_get_by_index::<String>(2).unwrap(),
        r.try_get_by_index::<bool>(3).unwrap(),
    )
}

async fn exec(w: &World, sql: String) {
    let c = s(w).store().reader();
    c.execute_raw(Statement::from_string(c.get_database_backend(), sql)).await.unwrap();
}

/// The kept facts of sample `id`, and what the joins and probes read.
async fn facts(w: &World, id: i64) -> ((String, String, String, bool), (String, String, String, bool)) {
    let kept =
        row(w, format!("SELECT division_code, size_class, domain, report_issued FROM lab_samples WHERE id = {id}"))
            .await;
    let domain = match s(w).store().reader().get_database_backend() {
        sea_orm::DbBackend::Postgres => "r.fields_json::json ->> 'domain'",
        _ => "json_extract(r.fields_json, '$.domain')",
    };
    let read = row(
        w,
        format!(
            "SELECT e.division_code, COALESCE(e.size_class, ''),
                COALESCE((SELECT {domain} FROM sampling_records r WHERE r.task_id = l.task_id AND r.state = 'signed'
                    ORDER BY r.version DESC LIMIT 1), ''),
                EXISTS (SELECT 1 FROM lab_reports p WHERE p.sample_id = l.id AND p.state = 'approved')
             FROM lab_samples l JOIN sampling_tasks t ON t.id = l.task_id JOIN enterprises e ON e.id = t.enterprise_id
             WHERE l.id = {id}"
        ),
    )
    .await;
    (kept, read)
}

#[tokio::test]
async fn the_facts_kept_on_a_sample_follow_its_record_and_reports() {
    let w = lab_world::world().await;
    let report = lab_world::issued(&w, 12.5).await;
    let sample = lab_world::sample_of_report(&w, report.id).await;
    let (kept, read) = facts(&w, sample.id).await;
    assert_eq!(kept, read, "at issue");
    assert!(!kept.0.is_empty() && kept.2 == "circulation" && kept.3, "{kept:?}");
    let a = statistics::quality_analysis(s(&w), &w.regulator, w.plan).await.unwrap();
    assert_eq!((a.by_division.len(), a.by_division[0].unqualified), (1, 1));
    assert_eq!((a.by_domain[0].key.as_str(), a.figures.sampled), ("circulation", 1));

    // A report that is no longer approved: the sample no longer counts; approved again, it does.
    exec(&w, format!("UPDATE lab_reports SET state = 'superseded' WHERE id = {}", report.id)).await;
    let (kept, read) = facts(&w, sample.id).await;
    assert_eq!((kept.clone(), kept.3), (read, false), "superseded");
    assert_eq!(statistics::quality_analysis(s(&w), &w.regulator, w.plan).await.unwrap().figures.sampled, 0);
    exec(&w, format!("UPDATE lab_reports SET state = 'approved' WHERE id = {}", report.id)).await;
    assert!(facts(&w, sample.id).await.0.3, "approved again");

    // A later signing of the record (a correction) carries its domain; an older one does not.
    exec(
        &w,
        format!(
            "UPDATE sampling_records SET fields_json = '{{\"domain\":\"production\"}}', state = 'signed'
             WHERE task_id = {} AND version = (SELECT MAX(version) FROM sampling_records WHERE task_id = {})",
            w.task, w.task
        ),
    )
    .await;
    let (kept, read) = facts(&w, sample.id).await;
    assert_eq!((kept.clone(), kept.2.as_str()), (read, "production"), "re-signed");
    let a = statistics::quality_analysis(s(&w), &w.regulator, w.plan).await.unwrap();
    assert_eq!(a.by_domain[0].key, "production");
}
