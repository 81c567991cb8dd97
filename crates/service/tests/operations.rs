//! Issue 17, operations: the overdue work counted for `/metrics` (the periodic job's counts, kept
//! in the database), and the read pool of a PostgreSQL replica — statistics, exports and
//! dashboards read through it, what a user just wrote is read from the primary, and a wrong
//! replica address is refused at start in Chinese. On SQLite, and on PostgreSQL with
//! CHOUCHA_TEST_DATABASE_URL (the replica tests need PostgreSQL; on SQLite the read URL is refused).
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use choucha_domain::sampling::RecordFields;
use choucha_service::fixtures::Fixture;
use choucha_service::fixtures::lab_world::*;
use choucha_service::lab::{self, ResultInput};
use choucha_service::{Services, overview, plans, sampling, statistics};
use choucha_store::{ConnectSettings, Store, StoreError};
use chrono::NaiveDate;

fn counted(c: &std::collections::BTreeMap<&'static str, i64>, kind: &str) -> i64 {
    *c.get(kind).unwrap_or_else(|| panic!("no count of {kind}: {c:?}"))
}

#[tokio::test]
async fn an_unentered_record_past_rule_16s_deadline_is_counted_and_kept() {
    let w = world_with(Options { stage: Stage::Started, ..Default::default() }).await;
    let svc = s(&w);
    assert!(svc.overdue_counts().await.unwrap().is_empty(), "nothing kept before the first count");
    let c = svc.refresh_overdue_counts().await.unwrap();
    for kind in choucha_service::overdue_counts::KINDS {
        assert_eq!(counted(&c, kind), 0, "{kind}: a task just started owes nothing yet");
    }
    // Sampled now: entered by the end of the next working day, not overdue yet.
    let now = choucha_domain::sampling::utc_to_local(svc.now()).format("%Y-%m-%d %H:%M").to_string();
    sampling::save_record(svc, &w.s1, w.task, RecordFields { sampled_at: now, ..record() }).await.unwrap();
    assert_eq!(counted(&svc.refresh_overdue_counts().await.unwrap(), "entry"), 0);
    // Sampled on 2025-10-10 and still a draft: the deadline passed long ago.
    sampling::save_record(svc, &w.s1, w.task, record()).await.unwrap();
    let c = svc.refresh_overdue_counts().await.unwrap();
    assert_eq!(counted(&c, "entry"), 1);
    assert_eq!(counted(&c, "testing"), 0);
    let kept = svc.overdue_counts().await.unwrap();
    assert_eq!(kept.len(), choucha_service::overdue_counts::KINDS.len());
    let entry = kept.iter().find(|k| k.kind == "entry").unwrap();
    assert_eq!(entry.total, 1);
    assert!((svc.clock().real_now() - entry.counted_at).num_seconds().abs() < 3600, "stamped with the real time");
}

#[tokio::test]
async fn results_past_their_three_working_days_are_counted_until_completed() {
    let w = world().await;
    let bc = accepted(&w).await;
    let ended = NaiveDate::from_ymd_opt(2026, 9, 30).unwrap();
    for i in 0..2 {
        let mut r = number(i, if i == 0 { 5.0 } else { 65.0 });
        r.tested_on = Some(ended);
        lab::enter_result(s(&w), &w.t1, &bc, r).await.unwrap();
    }
    let text = ResultInput {
        item_index: Some(2),
        text: Some("清澈透明".into()),
        tested_on: Some(ended),
        ..Default::default()
    };
    let v = lab::enter_result(s(&w), &w.t1, &bc, text).await.unwrap();
    assert!(v.overdue, "due 2026-10-10");
    let c = s(&w).refresh_overdue_counts().await.unwrap();
    assert_eq!(counted(&c, "testing"), 1);
    assert_eq!(counted(&c, "entry"), 0, "the record was signed");
    lab::complete_results(s(&w), &w.t1, &bc).await.unwrap();
    assert_eq!(counted(&s(&w).refresh_overdue_counts().await.unwrap(), "testing"), 0, "late, but no longer owed");
}

/// The world's store again, with `read_url` as its replica.
async fn with_replica(w: &World, read_url: String) -> Result<Services, StoreError> {
    let db = &w.fx.db;
    let settings =
        ConnectSettings { pg_schema: db.pg_schema.clone(), max_connections: Some(2), read_url: Some(read_url) };
    let store = Store::connect_with(&db.url, settings).await?.with_audit_keys(db.keyring.clone());
    Ok(Services::new(store, std::env::temp_dir()))
}

#[tokio::test]
async fn statistics_exports_and_dashboards_read_the_replica_and_the_rest_the_primary() {
    let w = world().await;
    accepted(&w).await;
    // A "replica" that lags behind entirely: another migrated database without the world's plan.
    let lagging = Fixture::new().await;
    let replica = with_replica(&w, lagging.db.connect_url()).await;
    if w.fx.db.pg_schema.is_none() {
        let Err(e) = replica else { panic!("SQLite has no replica") };
        let e = e.to_string();
        assert!(e.contains("仅适用于 PostgreSQL"), "{e}");
        return;
    }
    let svc = replica.unwrap();
    assert!(svc.pool_status().iter().any(|(pool, _, _)| *pool == "replica"), "the replica's pool is watched");
    // Without a replica, the plan's figures have its item and the dashboard its task.
    let primary = statistics::plan_figures(s(&w), &w.regulator, w.plan).await.unwrap();
    assert_eq!(primary.by_item.len(), 1);
    let board = overview::plan_overview(s(&w), &w.regulator, w.plan).await.unwrap();
    assert!(!board.tasks_by_state.is_empty());
    assert!(!lab::dashboard(s(&w), &w.custodian).await.unwrap().institutions.is_empty(), "the sample received");
    // With it: the figures, the summary table, the analysis and the dashboards come from the
    // replica (which has none of it yet) ...
    assert!(statistics::plan_figures(&svc, &w.regulator, w.plan).await.unwrap().by_item.is_empty());
    assert!(statistics::quality_analysis(&svc, &w.regulator, w.plan).await.unwrap().figures.by_item.is_empty());
    assert!(overview::plan_overview(&svc, &w.regulator, w.plan).await.unwrap().tasks_by_state.is_empty());
    assert!(lab::dashboard(&svc, &w.custodian).await.unwrap().institutions.is_empty());
    let xlsx = statistics::summary_xlsx(&svc, &w.regulator, w.plan).await.unwrap();
    assert!(!xlsx.is_empty());
    // ... while the plan itself, its access check and what a user reads back are the primary's.
    assert_eq!(plans::get(&svc, &w.regulator, w.plan).await.unwrap().items.len(), 1);
    let record = sampling::get_record(&svc, &w.s1, w.task).await.unwrap();
    assert!(record.missing.is_empty(), "the signed record is read from the primary: {:?}", record.missing);
}

#[tokio::test]
async fn a_wrong_replica_address_is_refused_at_start_in_chinese() {
    let w = world_with(Options { stage: Stage::Drawn, ..Default::default() }).await;
    let Err(e) = with_replica(&w, "mysql://root:secret@db/choucha".into()).await else { panic!("refused") };
    let e = e.to_string();
    if w.fx.db.pg_schema.is_none() {
        assert!(e.contains("仅适用于 PostgreSQL"), "{e}");
        return;
    }
    assert!(e.contains("只读副本地址") && e.contains("应以 postgres:// 开头"), "{e}");
    assert!(!e.contains("secret"), "the password is hidden: {e}");
    let Err(e) = with_replica(&w, "postgres://choucha:secret@127.0.0.1:1/none".into()).await else { panic!("refused") };
    let e = e.to_string();
    assert!(e.contains("无法连接只读副本") && !e.contains("secret"), "{e}");
}
