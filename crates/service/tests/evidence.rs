//! Evidence of sampling tasks (DESIGN.md rule 7) through the service layer, on SQLite or PostgreSQL:
//! one-request and resumable uploads, the checklist, who may see it, and files kept unaltered.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::path::PathBuf;

use choucha_domain::implementation_rules::{Limit, RulesAction};
use choucha_service::draws::{self, DrawFilters, DrawRequest};
use choucha_service::evidence::{self, ChunkOutcome, EvidenceCategory, EvidenceInput, UploadStart};
use choucha_service::fixtures::{Fixture, PASSWORD};
use choucha_service::implementation_rules::{self as irules, RulesBody, TestItemInput};
use choucha_service::plans::{self, ItemInput, PlanDraft, PlanInput};
use choucha_service::{Actor, ServiceError, Services, auth};
use sha2::{Digest, Sha256};

struct World {
    fx: Fixture,
    /// Services over the fixture's database with this test's own data folder.
    s: Services,
    dir: PathBuf,
    regulator: Actor,
    tester: Actor,
    sampler: Actor,
    outsider: Actor,
    task: i64,
}

impl Drop for World {
    fn drop(&mut self) {
        make_writable(&self.dir);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Stored evidence is read-only; tests clean up their folder all the same.
fn make_writable(dir: &std::path::Path) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            make_writable(&p);
        } else if let Ok(m) = std::fs::metadata(&p) {
            let mut perms = m.permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            perms.set_readonly(false);
            let _ = std::fs::set_permissions(&p, perms);
        }
    }
}

fn plan() -> PlanDraft {
    PlanDraft {
        plan: PlanInput {
            year: 2025,
            title: "2025年车用柴油质量监督抽查".into(),
            organising_org_code: Some("dt".into()),
            ..Default::default()
        },
        items: vec![ItemInput {
            number: "1".into(),
            category: "机械及安防".into(),
            product: "车用柴油".into(),
            quota: Some(1),
            scopes: "生产者、销售者".into(),
            sampling_org_code: Some("lab".into()),
            testing_org_code: Some("lab".into()),
            screening_org_code: None,
        }],
    }
}

fn rules() -> RulesBody {
    RulesBody {
        standards: vec!["GB 19147-2016 车用柴油".into()],
        test_items: vec![TestItemInput {
            name: "硫含量".into(),
            method: "SH/T 0689".into(),
            limit: Limit::Max { max: 10.0, inclusive: true },
            unit: "mg/kg".into(),
            class: None,
        }],
        test_portion: "1L×2瓶".into(),
        backup_portion: "1L×2瓶".into(),
        judgement_principle: "所检项目全部符合标准要求判定为合格".into(),
        ..Default::default()
    }
}

/// An issued plan with published rules, one drawn task of a team of two, started by one of them.
async fn world() -> World {
    let fx = Fixture::new().await;
    let regulator = fx.user("dt_reg", &["regulator"], Some("dt")).await;
    let tester = fx.user("lab_tester", &["tester"], Some("lab")).await;
    let sampler = fx.user("lab_s1", &["sampler"], Some("lab")).await;
    fx.user("lab_s2", &["sampler"], Some("lab")).await;
    fx.enterprise("大同市平城区示例加油站", "140213", "销售者、加油站", 1).await;
    let s = &fx.services;
    let p = plans::create(s, &regulator, plan()).await.expect("plan");
    plans::issue(s, &regulator, p.id).await.expect("issue");
    let item = p.items[0].id;
    let r = irules::create_draft(s, &tester, item, rules()).await.expect("rules");
    irules::step(s, &tester, r.id, RulesAction::Submit, None).await.expect("submit");
    irules::step(s, &regulator, r.id, RulesAction::Approve, None).await.expect("approve");
    irules::step(s, &regulator, r.id, RulesAction::Publish, None).await.expect("publish");
    let req = DrawRequest {
        item_id: item,
        quota: 1,
        seed: "evidence".into(),
        stratified: false,
        team_size: None,
        filters: DrawFilters::default(),
        risk_weights: None,
    };
    let d = draws::run(s, &regulator, req).await.expect("draw");
    let task = d.drawn[0].task_id.expect("task");
    draws::start_task(s, &sampler, task).await.expect("start");
    // Made after the draw: never on the team.
    let outsider = fx.user("lab_s9", &["sampler"], Some("lab")).await;
    let dir = std::env::temp_dir().join(format!("choucha-evidence-{}", uuid::Uuid::new_v4().simple()));
    let s = Services::new(fx.db.store.clone(), dir.clone());
    World { fx, s, dir, regulator, tester, sampler, outsider, task }
}

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn photo() -> Vec<u8> {
    let mut v = b"\xFF\xD8\xFF\xE0 fake jpeg of the station forecourt ".to_vec();
    v.extend((0..5000u32).map(|i| (i % 251) as u8));
    v
}

fn input(category: &str, name: &str, ct: &str) -> EvidenceInput {
    EvidenceInput { category: category.into(), file_name: name.into(), content_type: ct.into() }
}

#[tokio::test]
async fn one_request_photo_is_stored_unaltered_and_listed_with_the_checklist() {
    let w = world().await;
    let bytes = photo();
    let e = evidence::add(&w.s, &w.sampler, w.task, input("site", "现场.jpg", "image/jpeg"), &bytes).await.unwrap();
    assert_eq!(e.category, EvidenceCategory::Site);
    assert_eq!(e.size as usize, bytes.len());
    assert_eq!(e.sha256, sha(&bytes));
    let stored = w.s.files().local_path(&evidence::evidence_key(&e.sha256)).unwrap();
    assert!(stored.starts_with(w.dir.join("evidence").join(&e.sha256[..2])));
    assert_eq!(std::fs::read(&stored).unwrap(), bytes, "byte-identical");

    let list = evidence::list(&w.s, &w.regulator, w.task).await.unwrap();
    assert_eq!(list.items.len(), 1);
    assert_eq!(list.items[0].file_name, "现场.jpg");
    assert_eq!(list.checklist.len(), 7);
    assert_eq!(list.checklist[0].count, 1);
    assert_eq!(list.missing.len(), 5, "the six the notices require, less the site");
    assert!(!list.missing.contains(&EvidenceCategory::Site));

    // The same bytes again: one stored file, untouched; a second row.
    evidence::add(&w.s, &w.sampler, w.task, input("labels", "again.jpg", "image/jpeg"), &bytes).await.unwrap();
    assert_eq!(std::fs::read(&stored).unwrap(), bytes);
    assert_eq!(evidence::list(&w.s, &w.sampler, w.task).await.unwrap().missing.len(), 4);

    // Audited.
    let page = choucha_store::audit::list(
        w.fx.db.store.reader(),
        &choucha_store::audit::AuditFilter { action: Some("evidence.add".into()), ..Default::default() },
        None,
        10,
    )
    .await
    .unwrap();
    assert_eq!(page.items.len(), 2);
}

#[tokio::test]
async fn refuses_other_content_types_outsiders_and_testers() {
    let w = world().await;
    match evidence::add(&w.s, &w.sampler, w.task, input("documents", "a.pdf", "application/pdf"), b"%PDF").await {
        Err(ServiceError::Invalid(v)) => assert_eq!(v[0].code, "evidence_content_type"),
        other => panic!("expected 422, got {other:?}"),
    }
    let photo = photo();
    assert!(matches!(
        evidence::add(&w.s, &w.outsider, w.task, input("site", "a.jpg", "image/jpeg"), &photo).await,
        Err(ServiceError::Forbidden(_))
    ));
    assert!(matches!(
        evidence::add(&w.s, &w.tester, w.task, input("site", "a.jpg", "image/jpeg"), &photo).await,
        Err(ServiceError::Forbidden(_))
    ));
    let e = evidence::add(&w.s, &w.sampler, w.task, input("site", "a.jpg", "image/jpeg"), &photo).await.unwrap();
    // Testers never see the enterprise (rule 13), nor do samplers of other teams.
    assert!(matches!(evidence::list(&w.s, &w.tester, w.task).await, Err(ServiceError::NotFound(_))));
    assert!(matches!(evidence::content(&w.s, &w.tester, e.id).await, Err(ServiceError::NotFound(_))));
    assert!(matches!(evidence::list(&w.s, &w.outsider, w.task).await, Err(ServiceError::NotFound(_))));
    // Administrators run no business (三权分立) and see no evidence.
    assert!(evidence::content(&w.s, &w.fx.admin, e.id).await.is_err());
    assert!(evidence::content(&w.s, &w.regulator, e.id).await.is_ok());
}

#[tokio::test]
async fn resumable_upload_survives_a_restart_and_checks_its_hash() {
    let w = world().await;
    let video: Vec<u8> = (0..300_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let start = UploadStart {
        category: "process".into(),
        file_name: "抽样过程.mp4".into(),
        content_type: "video/mp4".into(),
        total_size: video.len() as u64,
        expected_sha256: Some(sha(&video)),
    };
    let u = evidence::start_upload(&w.s, &w.sampler, w.task, start).await.unwrap();
    assert_eq!(u.received, 0);
    let half = video.len() / 2;
    match evidence::put_chunk(&w.s, &w.sampler, &u.id, 0, &video[..half]).await.unwrap() {
        ChunkOutcome::Accepted(v) => assert_eq!(v.received, half as u64),
        other => panic!("{other:?}"),
    }
    // "Restart": new connections and new services over the same database and data folder.
    let store = choucha_store::Store::connect_with(
        &w.fx.db.url,
        choucha_store::ConnectSettings {
            pg_schema: w.fx.db.pg_schema.clone(),
            max_connections: Some(2),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let s2 = Services::new(store, w.dir.clone());
    let sampler = auth::login(&s2, "lab_s1", PASSWORD).await.unwrap();
    assert_eq!(evidence::upload_status(&s2, &sampler, &u.id).await.unwrap().received, half as u64);
    // A wrong offset says where to resume.
    match evidence::put_chunk(&s2, &sampler, &u.id, 10, &video[10..20]).await.unwrap() {
        ChunkOutcome::WrongOffset { received } => assert_eq!(received, half as u64),
        other => panic!("{other:?}"),
    }
    let done = match evidence::put_chunk(&s2, &sampler, &u.id, half as u64, &video[half..]).await.unwrap() {
        ChunkOutcome::Accepted(v) => v,
        other => panic!("{other:?}"),
    };
    assert_eq!(done.state.as_str(), "complete");
    let e = done.evidence.expect("evidence");
    assert_eq!(e.sha256, sha(&video));
    assert_eq!(s2.files().get(&evidence::evidence_key(&e.sha256)).await.unwrap(), video);
    assert!(!w.dir.join("evidence/uploads").join(&u.id).exists(), "staged file removed");

    // A declared hash that does not match is refused and nothing is stored.
    let bad = UploadStart {
        category: "seals".into(),
        file_name: "封样.mp4".into(),
        content_type: "video/mp4".into(),
        total_size: 4,
        expected_sha256: Some(sha(b"abcd")),
    };
    let u = evidence::start_upload(&s2, &sampler, w.task, bad).await.unwrap();
    match evidence::put_chunk(&s2, &sampler, &u.id, 0, b"abce").await {
        Err(ServiceError::Invalid(v)) => assert_eq!(v[0].code, "evidence_hash_mismatch"),
        other => panic!("expected hash mismatch, got {other:?}"),
    }
    assert!(!s2.files().exists(&evidence::evidence_key(&sha(b"abce"))).await.unwrap());
    assert_eq!(evidence::upload_status(&s2, &sampler, &u.id).await.unwrap().state.as_str(), "rejected");
    let list = evidence::list(&s2, &sampler, w.task).await.unwrap();
    assert_eq!(list.items.len(), 1);
    assert!(list.missing.contains(&EvidenceCategory::Seals));
}

/// With object storage (issue 17): the chunks of an upload wait in the store, so a second server of
/// the deployment (another data folder, the same database and bucket) takes the next chunk; only
/// the finished, verified file is a stored file, served by either.
#[tokio::test]
async fn finished_uploads_land_in_object_storage_and_are_served_from_it() {
    let Some(files) = choucha_service::fixtures::s3_files() else { return };
    let w = world().await;
    let s = w.s.clone().with_files(files.clone());
    let photo = photo();
    let e = evidence::add(&s, &w.sampler, w.task, input("site", "现场.jpg", "image/jpeg"), &photo).await.unwrap();
    assert_eq!(files.get(&evidence::evidence_key(&e.sha256)).await.unwrap(), photo);
    assert!(!w.dir.join("evidence").join(&e.sha256[..2]).exists(), "nothing stored in the local folder");

    let other_dir = std::env::temp_dir().join(format!("choucha-second-server-{}", uuid::Uuid::new_v4().simple()));
    let second = choucha_service::Services::new(s.store().clone(), other_dir.clone()).with_files(files.clone());
    let video: Vec<u8> = (0..200_000u32).map(|i| (i.wrapping_mul(40_503) >> 7) as u8).collect();
    let start = UploadStart {
        category: "process".into(),
        file_name: "抽样过程.mp4".into(),
        content_type: "video/mp4".into(),
        total_size: video.len() as u64,
        expected_sha256: Some(sha(&video)),
    };
    let u = evidence::start_upload(&s, &w.sampler, w.task, start).await.unwrap();
    evidence::put_chunk(&s, &w.sampler, &u.id, 0, &video[..70_000]).await.unwrap();
    assert!(!w.dir.join("evidence/uploads").join(&u.id).exists(), "nothing staged on one server's disk");
    assert_eq!(evidence::upload_status(&second, &w.sampler, &u.id).await.unwrap().received, 70_000);
    match evidence::put_chunk(&second, &w.sampler, &u.id, 0, &video[..10]).await.unwrap() {
        ChunkOutcome::WrongOffset { received } => assert_eq!(received, 70_000, "the second server knows the offset"),
        other => panic!("{other:?}"),
    }
    evidence::put_chunk(&second, &w.sampler, &u.id, 70_000, &video[70_000..150_000]).await.unwrap();
    let done = match evidence::put_chunk(&s, &w.sampler, &u.id, 150_000, &video[150_000..]).await.unwrap() {
        ChunkOutcome::Accepted(v) => v,
        other => panic!("{other:?}"),
    };
    let v = done.evidence.expect("evidence");
    assert!(files.list_under("evidence/uploads").await.unwrap().is_empty(), "the parts are removed");
    assert!(!w.dir.join("evidence/uploads").join(&u.id).exists(), "the gathered file is removed");
    let served = evidence::content(&second, &w.regulator, v.id).await.unwrap();
    let whole: Vec<bytes::Bytes> =
        futures::TryStreamExt::try_collect(served.stream(None).await.unwrap()).await.unwrap();
    assert_eq!(whole.concat(), video, "the other server serves it byte for byte");
    let _ = std::fs::remove_dir_all(&other_dir);
    let c = evidence::content(&s, &w.regulator, v.id).await.unwrap();
    assert_eq!(c.size, video.len() as u64);
    let parts: Vec<bytes::Bytes> =
        futures::TryStreamExt::try_collect(c.stream(Some(1000..2000)).await.unwrap()).await.unwrap();
    assert_eq!(parts.concat(), video[1000..2000]);
    let keys: Vec<String> = files.list().await.unwrap().into_iter().map(|(k, _)| k).collect();
    assert_eq!(keys.len(), 2, "{keys:?}");
}
