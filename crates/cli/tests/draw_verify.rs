//! A draw for Datong's 车用柴油 on the demo data, then `choucha draw verify` from a separate process
//! (a restart): the same result from the record; a record altered by hand no longer verifies. On
//! SQLite, and on PostgreSQL when `CHOUCHA_TEST_DATABASE_URL` is set. And the reference
//! implementation of docs/ (Python, standard library only) re-runs the published record, and draws
//! of every shape, to the same result.
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
            risk_weights: None,
        },
    )
    .await
    .expect("draw");
    assert_eq!(d.drawn.len(), 5);
    assert!(d.drawn.iter().all(|e| e.team.len() >= 2 && e.division_code.starts_with("1402")));
    // Published, its record re-runs in the independent implementation.
    draws::publish(&s, &regulator, d.id).await.expect("publish");
    let record = serde_json::to_value(draws::published_record(&s, d.id).await.expect("record")).unwrap();
    let (ok, said) = reference(&record);
    assert!(ok && said.contains("复核一致"), "{said}");
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

/// Runs docs/draw_reference.py on `record`: whether it agreed, and what it printed.
fn reference(record: &serde_json::Value) -> (bool, String) {
    let dir = TempDir::new("draw-ref");
    let file = dir.path().join("record.json");
    std::fs::write(&file, serde_json::to_vec(record).unwrap()).unwrap();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/draw_reference.py");
    let o = std::process::Command::new("python3").arg(&script).arg(&file).output().expect("python3 runs");
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", text(&o));
    (o.status.success(), text(&o))
}

/// Draws of every shape — plain and stratified, teams of two and three, samplers with conflicts,
/// uniform and risk-weighted — re-run by the reference implementation to the enterprises and teams
/// Choucha drew; a changed team, seed, candidate list, risk class or weight is caught.
#[test]
fn the_reference_implementation_re_runs_draws_of_every_shape() {
    use choucha_domain::draw::risk::{RiskClass, RiskWeights};
    use choucha_domain::draw::{self, Candidate, DrawInput, SamplerCandidate};
    let divisions = ["140213", "140221", "140202", "140211"];
    let mut ran = 0;
    for case in 0..28usize {
        // The second half is risk-weighted, some classes weighing nothing.
        let risky = case >= 14;
        let n = 4 + (case * 7) % 45;
        let candidates: Vec<Candidate> = (0..n)
            .map(|i| Candidate {
                uscc: format!("9114{:04}MA{:07}X", case, (i * 7919 + case * 31) % 1_000_000),
                division_code: divisions[(i * 5 + case) % divisions.len()].into(),
                risk_class: risky.then(|| RiskClass::ALL[(i * 3 + case) % 4]),
            })
            .collect();
        let samplers: Vec<SamplerCandidate> = (0..(4 + case % 5))
            .map(|k| SamplerCandidate {
                username: format!("S{:02}", k + 1),
                conflicts: candidates
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| (j + k * 3 + case) % 9 == 0)
                    .map(|(_, c)| c.uscc.clone())
                    .collect(),
            })
            .collect();
        let input = DrawInput {
            seed: format!("{case}号公开摇号 种子 {}", case * 104_729),
            candidates,
            quota: 1 + (case * 5) % n,
            stratified: case % 2 == 0,
            samplers,
            team_size: 2 + case % 2,
            risk_weights: risky.then(|| {
                RiskWeights::from([
                    (RiskClass::Low, (case % 3) as u32),
                    (RiskClass::General, 2),
                    (RiskClass::Elevated, 10 * (case % 2) as u32),
                    (RiskClass::High, 30),
                ])
            }),
        };
        let Ok(result) = draw::run(&input) else { continue };
        let mut candidates = input.candidates.clone();
        candidates.sort_by(|a, b| a.uscc.cmp(&b.uscc));
        let mut record = serde_json::json!({
            "format": "choucha-draw-record-v1",
            "algorithm": result.algorithm,
            "seed": input.seed,
            "quota": input.quota,
            "stratified": input.stratified,
            "team_size": input.team_size,
            "candidate_hash": result.candidate_hash,
            "candidates": candidates,
            "samplers": input.samplers.iter().map(|s| serde_json::json!({"id": s.username, "conflicts": s.conflicts})).collect::<Vec<_>>(),
            "result": result.drawn,
        });
        if let Some(w) = &input.risk_weights {
            record["risk_weights"] = serde_json::json!(w);
        }
        let (ok, said) = reference(&record);
        assert!(ok && said.contains("复核一致"), "case {case}: {said}");
        ran += 1;
        if case % 3 == 0 {
            let team = record["result"][0]["team"].as_array_mut().unwrap();
            team.reverse();
            let (ok, said) = reference(&record);
            assert!(!ok && said.contains("复核不一致"), "a changed team is caught: {said}");
        } else if case % 3 == 1 {
            record["seed"] = serde_json::json!("换了的种子");
            assert!(!reference(&record).0, "a changed seed is caught");
        } else if risky && case % 2 == 0 {
            let c = &mut record["candidates"][0]["risk_class"];
            *c = serde_json::json!(if c == "D" { "A" } else { "D" });
            let (ok, said) = reference(&record);
            assert!(!ok && said.contains("候选名单哈希不符"), "a changed risk class is caught: {said}");
        } else if risky {
            record["risk_weights"]["D"] = serde_json::json!(1);
            record["risk_weights"]["A"] = serde_json::json!(30);
            let (ok, said) = reference(&record);
            assert!(!ok && said.contains("复核不一致"), "changed weights are caught: {said}");
        } else {
            record["candidates"].as_array_mut().unwrap().pop();
            let (ok, said) = reference(&record);
            assert!(!ok && said.contains("候选名单哈希不符"), "a changed candidate list is caught: {said}");
        }
    }
    assert!(ran >= 20, "only {ran} shapes drew");
}
