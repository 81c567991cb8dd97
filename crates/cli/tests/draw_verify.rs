//! A draw for Datong's 车用柴油 on the demo data, then `choucha draw verify` from a separate process
//! (a restart): the same result from the record; a record altered by hand no longer verifies. On
//! SQLite, and on PostgreSQL when `CHOUCHA_TEST_DATABASE_URL` is set.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::path::PathBuf;
use std::process::Output;

use choucha_seed::demo;
use choucha_service::draws::{DrawFilters, DrawRequest};
use choucha_service::{Services, auth, draws, plans};
use sea_orm::ConnectionTrait;

mod common;
use common::{TempDir, nanos, output};

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

async fn scenario(url: String, data_dir: PathBuf) {
    let dir = data_dir.display().to_string();
    let base = ["--database-url", url.as_str(), "--data-dir", dir.as_str()];
    let o = output(&[&["demo"][..], &base[..]].concat());
    assert!(o.status.success(), "{}", text(&o));

    // Draw as the demo's regulator of 大同市局.
    let store = choucha_store::Store::connect(&url).await.expect("connect");
    let s = Services::new(store.clone(), data_dir.clone());
    let regulator = auth::login(&s, "regulator", demo::PASSWORD).await.expect("regulator");
    let list = plans::list(&s, &regulator, &Default::default()).await.expect("plans");
    let datong = list.items.iter().find(|p| p.title.contains("车用柴油")).expect("Datong plan");
    let plan = plans::get(&s, &regulator, datong.id).await.expect("plan");
    assert_eq!(plan.total_quota, 190);
    let diesel = plan.items.iter().find(|i| i.product == "车用柴油").expect("diesel");
    let d = draws::run(
        &s,
        &regulator,
        DrawRequest {
            item_id: diesel.id,
            quota: 5,
            seed: "大同市局公开摇号 2025-10-09 第1轮".into(),
            stratified: true,
            team_size: None,
            filters: DrawFilters::default(),
        },
    )
    .await
    .expect("draw");
    assert_eq!(d.drawn.len(), 5);
    assert!(d.drawn.iter().all(|e| e.team.len() >= 2 && e.division_code.starts_with("1402")));
    store.close().await.expect("close");

    // Another process re-runs it from the record.
    let id = d.id.to_string();
    let o = output(&[&["draw", "verify", id.as_str()][..], &base[..]].concat());
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("复核一致"), "{}", text(&o));

    // An edited record is caught.
    let store = choucha_store::Store::connect(&url).await.expect("connect");
    store
        .reader()
        .execute_unprepared(&format!("UPDATE draws SET seed = 'another seed' WHERE id = {id}"))
        .await
        .expect("tamper");
    store.close().await.expect("close");
    let o = output(&[&["draw", "verify", id.as_str()][..], &base[..]].concat());
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("复核不一致"), "{}", text(&o));
}

#[tokio::test]
async fn demo_draw_reverifies_after_restart_on_sqlite() {
    let t = TempDir::new("draw-sqlite");
    let url = format!("sqlite:{}", t.path().join("choucha.db").display());
    scenario(url, t.path().to_path_buf()).await;
}

#[tokio::test]
async fn demo_draw_reverifies_after_restart_on_postgresql() {
    let Some(base) = std::env::var("CHOUCHA_TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()) else {
        eprintln!("CHOUCHA_TEST_DATABASE_URL not set: PostgreSQL test skipped");
        return;
    };
    let schema = format!("t_draw_{}_{}", std::process::id(), nanos() % 1_000_000_000);
    let admin = choucha_store::Store::connect(&base).await.expect("connect");
    admin.reader().execute_unprepared(&format!("CREATE SCHEMA {schema}")).await.expect("schema");
    admin.close().await.expect("close");
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
    let t = TempDir::new("draw-pg");
    scenario(url, t.path().to_path_buf()).await;
}
