//! `choucha bench-data` as an operator runs it, with small numbers: the same seed gives the same
//! deployment, another seed another; every generated USCC is valid; samples exist in every state with
//! their records, signatures and custody events, and the laboratory side (unique blind codes, results,
//! reports); the audit chain verifies after the load; a second
//! load into the same database is refused. On SQLite, and on PostgreSQL when
//! `CHOUCHA_TEST_DATABASE_URL` is set. (No timing here: `choucha bench` is run by hand.)
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::process::Output;

use choucha_domain::lab::BlindCode;
use choucha_domain::sampling::TaskState;
use choucha_domain::uscc::Uscc;
use choucha_store::Store;
use sea_orm::{ConnectionTrait, Statement};

mod common;
use common::{TempDir, nanos, output, scalar};

const ENTERPRISES: &str = "3000";
const SAMPLES: &str = "3000";

fn assert_ok(o: &Output, what: &str) {
    assert!(
        o.status.success(),
        "{what} failed ({:?})\nstdout:\n{}\nstderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

fn generate(url: &str, data_dir: &str, seed: &str) -> Output {
    output(&[
        "bench-data",
        "--database-url",
        url,
        "--data-dir",
        data_dir,
        "--enterprises",
        ENTERPRISES,
        "--samples",
        SAMPLES,
        "--seed",
        seed,
        "--as-of",
        "2025-11-01",
    ])
}

/// What must be the same for the same seed: the registry and the samples, row by row.
async fn fingerprint(url: &str) -> (Vec<String>, Vec<String>) {
    let store = Store::connect(url).await.expect("connect");
    let db = store.reader();
    let b = store.backend();
    let ents = db
        .query_all_raw(Statement::from_string(
            b,
            "SELECT uscc, name, division_code, kinds, product_lines, status FROM enterprises \
             WHERE uscc LIKE '9_______MB%' ORDER BY id",
        ))
        .await
        .expect("enterprises")
        .into_iter()
        .map(|r| {
            let u: String = r.try_get("", "uscc").unwrap();
            let n: String = r.try_get("", "name").unwrap();
            let d: String = r.try_get("", "division_code").unwrap();
            let k: i32 = r.try_get("", "kinds").unwrap();
            let p: String = r.try_get("", "product_lines").unwrap();
            let s: String = r.try_get("", "status").unwrap();
            format!("{u}|{n}|{d}|{k}|{p}|{s}")
        })
        .collect();
    let tasks = db
        .query_all_raw(Statement::from_string(
            b,
            "SELECT t.state, e.uscc, i.product FROM sampling_tasks t JOIN enterprises e ON e.id = t.enterprise_id \
             JOIN plan_items i ON i.id = t.item_id \
             WHERE e.uscc LIKE '9_______MB%' ORDER BY t.id",
        ))
        .await
        .expect("tasks")
        .into_iter()
        .map(|r| {
            let s: String = r.try_get("", "state").unwrap();
            let u: String = r.try_get("", "uscc").unwrap();
            let p: String = r.try_get("", "product").unwrap();
            format!("{s}|{u}|{p}")
        })
        .collect();
    store.close().await.expect("close");
    (ents, tasks)
}

/// Checks on one generated database.
async fn check_deployment(url: &str, data_dir: &str) {
    let (ents, tasks) = fingerprint(url).await;
    assert_eq!(ents.len(), 3000, "the generated registry");
    for e in &ents {
        let uscc = e.split('|').next().unwrap();
        Uscc::parse(uscc).unwrap_or_else(|v| panic!("invalid USCC {uscc}: {v:?}"));
    }
    assert_eq!(tasks.len(), 3000, "the generated samples");
    for s in TaskState::ALL {
        assert!(tasks.iter().any(|t| t.starts_with(&format!("{}|", s.as_str()))), "no task in state {}", s.as_str());
    }
    // Samples are sampled with locked, signed records and their custody chain; teams of two.
    let sampled = scalar(url, "SELECT COUNT(*) FROM sampling_tasks WHERE state = 'sampled'").await;
    assert_eq!(
        scalar(url, "SELECT COUNT(*) FROM sampling_records WHERE state = 'signed' AND locked_at IS NOT NULL").await,
        sampled
    );
    assert_eq!(scalar(url, "SELECT COUNT(*) FROM record_signatures").await, 3 * sampled);
    // The draw's product-line index holds every entry's lines.
    assert_eq!(
        scalar(
            url,
            "SELECT COUNT(*) FROM enterprises e WHERE e.product_lines <> '' \
             AND NOT EXISTS (SELECT 1 FROM enterprise_product_lines l WHERE l.enterprise_id = e.id)"
        )
        .await,
        0
    );
    // Each line carries its entry's columns a draw filters and records by (m0036).
    assert_eq!(
        scalar(
            url,
            "SELECT COUNT(*) FROM enterprise_product_lines l JOIN enterprises e ON e.id = l.enterprise_id \
             WHERE l.uscc <> e.uscc OR l.name <> e.name OR l.kinds <> e.kinds OR l.status <> e.status \
             OR COALESCE(l.size_class, '') <> COALESCE(e.size_class, '') OR l.division_code <> e.division_code"
        )
        .await,
        0
    );
    // Rule 22's side table holds the product key of every signed record.
    assert_eq!(
        scalar(
            url,
            "SELECT COUNT(*) FROM record_product_keys k JOIN sampling_records r ON r.id = k.record_id \
             WHERE r.state = 'signed' AND k.producer <> '' AND k.model <> ''"
        )
        .await,
        sampled
    );
    assert_eq!(scalar(url, "SELECT COUNT(*) FROM custody_events WHERE kind = 'sealed'").await, sampled);
    assert_eq!(scalar(url, "SELECT COUNT(*) FROM sampling_task_members").await, 2 * 3000 + demo_members(url).await);
    // Every item of the generated plans has published rules.
    assert_eq!(
        scalar(
            url,
            "SELECT COUNT(*) FROM plan_items i JOIN plans p ON p.id = i.plan_id WHERE p.doc_no LIKE '基准数据%' \
             AND NOT EXISTS (SELECT 1 FROM rules_versions r WHERE r.item_id = i.id AND r.state = 'published')",
        )
        .await,
        0
    );
    // The laboratory side: samples of sampled tasks only, unique valid blind codes for all but the
    // rejected ones, their received/stored custody events, an issued report for each reported one.
    let generated = "JOIN plans p ON p.id = s.plan_id WHERE p.doc_no LIKE '基准数据%'";
    let labs = scalar(url, &format!("SELECT COUNT(*) FROM lab_samples s {generated}")).await;
    assert!(labs > 0, "no laboratory samples");
    assert_eq!(
        scalar(url, &format!("SELECT COUNT(*) FROM lab_samples s JOIN sampling_tasks t ON t.id = s.task_id {generated} AND t.state <> 'sampled'"))
            .await,
        0
    );
    let rejected =
        scalar(url, &format!("SELECT COUNT(*) FROM lab_samples s {generated} AND s.state = 'rejected'")).await;
    let codes =
        texts(url, &format!("SELECT s.blind_code FROM lab_samples s {generated} AND s.blind_code IS NOT NULL")).await;
    assert_eq!(codes.len() as i64, labs - rejected, "a blind code for every accepted sample");
    let distinct: std::collections::HashSet<&String> = codes.iter().collect();
    assert_eq!(distinct.len(), codes.len(), "blind codes are unique");
    for c in &codes {
        BlindCode::parse(c).unwrap_or_else(|v| panic!("invalid blind code {c}: {v:?}"));
    }
    for kind in ["received", "stored"] {
        assert_eq!(
            scalar(url, &format!("SELECT COUNT(*) FROM custody_events e JOIN lab_samples s ON s.task_id = e.task_id {generated} AND e.kind = '{kind}'"))
                .await,
            labs - rejected,
            "{kind} custody events"
        );
    }
    for state in ["accepted", "testing", "tested", "reported"] {
        assert!(
            scalar(url, &format!("SELECT COUNT(*) FROM lab_samples s {generated} AND s.state = '{state}'")).await > 0,
            "no laboratory sample {state}"
        );
    }
    assert_eq!(
        scalar(url, &format!("SELECT COUNT(*) FROM lab_reports r JOIN lab_samples s ON s.id = r.sample_id {generated} AND r.state = 'approved' AND r.report_no IS NOT NULL")).await,
        scalar(url, &format!("SELECT COUNT(*) FROM lab_samples s {generated} AND s.state = 'reported'")).await,
        "an issued report for every reported sample"
    );
    assert_eq!(
        scalar(url, &format!("SELECT COUNT(*) FROM lab_results x JOIN lab_samples s ON s.id = x.sample_id {generated} AND s.state IN ('tested', 'reported')")).await,
        scalar(url, &format!("SELECT COUNT(*) FROM lab_samples s {generated} AND s.state IN ('tested', 'reported')")).await,
        "results of every tested sample"
    );
    // One audit record for the load, and the chain verifies.
    assert_eq!(scalar(url, "SELECT COUNT(*) FROM audit_log WHERE action = 'bench_data.load'").await, 1);
    let v = output(&["audit", "verify", "--database-url", url, "--data-dir", data_dir]);
    assert_ok(&v, "audit verify");
    // A second load into the same database is refused, and changes nothing.
    let again = generate(url, data_dir, "other");
    assert!(!again.status.success(), "a second load must be refused");
    assert_eq!(scalar(url, "SELECT COUNT(*) FROM sampling_tasks").await, 3000 + demo_tasks(url).await);
}

async fn texts(url: &str, sql: &str) -> Vec<String> {
    let store = Store::connect(url).await.expect("connect");
    let rows = store
        .reader()
        .query_all_raw(Statement::from_string(store.backend(), sql.to_string()))
        .await
        .expect(sql)
        .into_iter()
        .map(|r| r.try_get_by_index::<String>(0).expect("text"))
        .collect();
    store.close().await.expect("close");
    rows
}

async fn demo_members(url: &str) -> i64 {
    scalar(
        url,
        "SELECT COUNT(*) FROM sampling_task_members m JOIN sampling_tasks t ON t.id = m.task_id \
         JOIN plans p ON p.id = t.plan_id WHERE p.doc_no NOT LIKE '基准数据%'",
    )
    .await
}

async fn demo_tasks(url: &str) -> i64 {
    scalar(
        url,
        "SELECT COUNT(*) FROM sampling_tasks t JOIN plans p ON p.id = t.plan_id WHERE p.doc_no NOT LIKE '基准数据%'",
    )
    .await
}

#[tokio::test]
async fn sqlite_deployment_is_deterministic_valid_and_audited() {
    let t = TempDir::new("bench-data-sqlite");
    let dir = t.path();
    let data = dir.join("data").display().to_string();
    let url = |n: &str| format!("sqlite:{}", dir.join(format!("{n}.db")).display());
    let (a, b, c) = (url("a"), url("b"), url("c"));
    assert_ok(&generate(&a, &data, "seed-1"), "bench-data a");
    assert_ok(&generate(&b, &data, "seed-1"), "bench-data b");
    assert_ok(&generate(&c, &data, "seed-2"), "bench-data c");
    let (fa, fb, fc) = (fingerprint(&a).await, fingerprint(&b).await, fingerprint(&c).await);
    assert_eq!(fa, fb, "same seed, same deployment");
    assert_ne!(fa.0, fc.0, "another seed, another registry");
    check_deployment(&a, &data).await;
}

#[tokio::test]
async fn postgresql_deployment_is_deterministic_valid_and_audited() {
    let Some(base) = std::env::var("CHOUCHA_TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()) else {
        eprintln!("CHOUCHA_TEST_DATABASE_URL not set: PostgreSQL test skipped");
        return;
    };
    let admin = Store::connect(&base).await.expect("connect to PostgreSQL");
    let sep = if base.contains('?') { '&' } else { '?' };
    let mut schemas = Vec::new();
    let mut urls = Vec::new();
    for n in 0..2 {
        // "t_" like the store's test schemas, so leftovers are swept by the same cleanup.
        let schema = format!("t_bench_{}_{}_{n}", std::process::id(), nanos() % 1_000_000_000);
        admin.reader().execute_unprepared(&format!("CREATE SCHEMA {schema}")).await.expect("schema");
        urls.push(format!("{base}{sep}options=-c%20search_path%3D{schema}"));
        schemas.push(schema);
    }
    let t = TempDir::new("bench-data-pg");
    let dir = t.path();
    let data = dir.join("data").display().to_string();
    assert_ok(&generate(&urls[0], &data, "seed-1"), "bench-data pg 0");
    assert_ok(&generate(&urls[1], &data, "seed-1"), "bench-data pg 1");
    assert_eq!(fingerprint(&urls[0]).await, fingerprint(&urls[1]).await, "same seed, same deployment");
    check_deployment(&urls[0], &data).await;
    // The same seed gives the same registry on both backends.
    let lite = format!("sqlite:{}", dir.join("x.db").display());
    assert_ok(&generate(&lite, &data, "seed-1"), "bench-data sqlite");
    assert_eq!(fingerprint(&lite).await, fingerprint(&urls[0]).await, "SQLite and PostgreSQL agree");
    for s in schemas {
        admin.reader().execute_unprepared(&format!("DROP SCHEMA {s} CASCADE")).await.expect("drop schema");
    }
    admin.close().await.expect("close");
}
