//! `choucha backup` and `choucha restore`, run as an operator would: the demo plus a stored evidence
//! photo backed up, restored into an empty deployment, and the restored server serving the same data
//! (the audit chain verifies, the rows are the same, the photo's bytes are identical over HTTP) — on
//! SQLite, on PostgreSQL when `CHOUCHA_TEST_DATABASE_URL` is set, and with the files in object
//! storage when `CHOUCHA_TEST_S3_ENDPOINT` is set (moto, started by scripts/test.sh; never skipped
//! under CI=true). A tampered backup and a non-empty target are refused.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::time::Duration;

use choucha_service::evidence::{self, EvidenceInput};
use choucha_service::files::FileStore;
use choucha_service::fixtures::s3_config;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

mod common;
use common::deployment::{Deployment, Server, assert_ok, text};
use common::{TempDir, nanos, scalar};

const DEMO_PASSWORD: &str = "Choucha2025";

/// A small JPEG-looking photo, different in every test.
fn photo() -> Vec<u8> {
    let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0];
    b.extend(format!("现场照片 {}", nanos()).into_bytes());
    b.extend((0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    b
}

/// The demo's 山西国海 sampler starts a task of the demo draw and uploads a photo: one stored evidence file.
/// Returns the evidence id and the photo.
async fn add_evidence(d: &Deployment) -> (i64, Vec<u8>) {
    let s = d.services().await;
    let db = s.store().reader();
    let sampler = db
        .query_one_raw(sea_orm::Statement::from_string(
            s.store().backend(),
            "SELECT id FROM users WHERE username = 'gh_sampler1'".to_string(),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap();
    let task = db
        .query_one_raw(sea_orm::Statement::from_string(
            s.store().backend(),
            format!("SELECT task_id FROM sampling_task_members WHERE user_id = {sampler} ORDER BY task_id LIMIT 1"),
        ))
        .await
        .unwrap()
        .expect("the demo gives the sampler a task")
        .try_get_by_index::<i64>(0)
        .unwrap();
    let actor = choucha_service::auth::actor_for_user(&s, sampler).await.unwrap();
    choucha_service::draws::start_task(&s, &actor, task).await.expect("start sampling");
    let bytes = photo();
    let input =
        EvidenceInput { category: "site".into(), file_name: "现场.jpg".into(), content_type: "image/jpeg".into() };
    let e = evidence::add(&s, &actor, task, input, &bytes).await.expect("evidence");
    s.store().clone().close().await.unwrap();
    (e.id, bytes)
}

/// Numbers a restored deployment must give back unchanged.
async fn counts(url: &str) -> Vec<i64> {
    let mut out = Vec::new();
    for table in ["users", "enterprises", "plans", "sampling_tasks", "evidence", "audit_log"] {
        out.push(scalar(url, &format!("SELECT count(*) FROM {table}")).await);
    }
    out
}

/// The photo and the task's evidence list, as the restored server serves them to the sampler.
async fn served_photo(d: &Deployment, evidence_id: i64) -> Vec<u8> {
    let config = d.dir.path().join("serve.toml");
    // The demo accounts have no second factor enrolled.
    std::fs::write(&config, "[security]\nsecond_factor_roles = []\n").unwrap();
    let server = Server::start(d, &config).await;
    let client = reqwest::Client::new();
    let mut token = None;
    for _ in 0..50 {
        if let Ok(r) = client
            .post(format!("{}/api/v1/auth/token", server.base))
            .json(&json!({"username": "gh_sampler1", "password": DEMO_PASSWORD}))
            .send()
            .await
        {
            assert!(r.status().is_success(), "sign-in: {}", r.status());
            token = Some(r.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_string());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let token = token.expect("the restored server answers");
    let r = client
        .get(format!("{}/api/v1/evidence/{evidence_id}/content", server.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "evidence content: {}", r.status());
    r.bytes().await.unwrap().to_vec()
}

/// Demo and a photo in `src` → backup → refusals → restore into `dst` → the same data served.
async fn round_trip(src: &Deployment, dst: &Deployment) {
    assert_ok(&src.run(&["demo"]), "demo");
    let (evidence_id, bytes) = add_evidence(src).await;
    assert_ok(&src.run(&["audit", "checkpoint"]), "checkpoint");
    let before = counts(&src.url).await;

    let out = TempDir::new("backup-out");
    let backup = out.path().join("b1");
    let b = src.run(&["backup", "--to", &backup.display().to_string()]);
    assert_ok(&b, "backup");
    assert!(text(&b.stdout).contains("备份完成"), "{}", text(&b.stdout));
    let manifest: Value = serde_json::from_slice(&std::fs::read(backup.join("manifest.json")).unwrap()).unwrap();
    let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes));
    let photo_path = format!("files/evidence/{}/{sha}", &sha[..2]);
    let listed: Vec<&str> = manifest["files"].as_array().unwrap().iter().map(|e| e["path"].as_str().unwrap()).collect();
    assert!(listed.contains(&photo_path.as_str()), "{listed:?}");
    assert!(listed.contains(&"audit/audit-checkpoints.jsonl"), "{listed:?}");
    assert!(manifest["audit_head_seq"].as_i64().unwrap() > 0);
    assert!(manifest["created_at"].as_str().unwrap().ends_with("+08:00"), "Beijing time: {manifest}");
    assert!(!manifest["schema_version"].as_str().unwrap().is_empty());

    // A second backup into the same folder is refused.
    let again = src.run(&["backup", "--to", &backup.display().to_string()]);
    assert!(!again.status.success());
    assert!(text(&again.stderr).contains("不是空的"), "{}", text(&again.stderr));

    // Restoring over the deployment it came from (it has data) is refused and changes nothing.
    let over = src.run(&["restore", "--from", &backup.display().to_string()]);
    assert!(!over.status.success());
    assert!(text(&over.stderr).contains("目标部署不是空的"), "{}", text(&over.stderr));
    assert_eq!(counts(&src.url).await, before);

    // Into an empty deployment: restored, verified, and served as before.
    let r = dst.run(&["restore", "--from", &backup.display().to_string()]);
    assert_ok(&r, "restore");
    let said = text(&r.stdout);
    assert!(said.contains("备份完整") && said.contains("审计链完整"), "{said}");
    assert!(said.contains("与签名检查点一致"), "{said}");
    assert_eq!(counts(&dst.url).await, before);
    assert_ok(&dst.run(&["audit", "verify", "--deep"]), "audit verify of the restored deployment");
    assert_eq!(served_photo(dst, evidence_id).await, bytes, "the photo comes back byte for byte");
}

#[tokio::test]
async fn a_sqlite_deployment_comes_back_whole_from_its_backup() {
    let src = Deployment::sqlite("bk-src");
    let dst = Deployment::sqlite("bk-dst");
    round_trip(&src, &dst).await;
}

#[tokio::test]
async fn a_tampered_or_incomplete_backup_is_refused_naming_the_file() {
    let src = Deployment::sqlite("bk-tamper");
    assert_ok(&src.run(&["demo"]), "demo");
    let (_, bytes) = add_evidence(&src).await;
    let out = TempDir::new("backup-out");
    let backup = out.path().join("b");
    assert_ok(&src.run(&["backup", "--to", &backup.display().to_string()]), "backup");
    let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes));
    let photo = format!("files/evidence/{}/{sha}", &sha[..2]);

    // One byte changed in the stored photo.
    let path = backup.join(&photo);
    let mut changed = std::fs::read(&path).unwrap();
    changed[10] ^= 0x01;
    std::fs::write(&path, &changed).unwrap();
    let dst = Deployment::sqlite("bk-tamper-dst");
    let r = dst.run(&["restore", "--from", &backup.display().to_string()]);
    assert!(!r.status.success());
    let err = text(&r.stderr);
    assert!(err.contains(&photo) && err.contains("SHA-256 不符"), "{err}");
    assert!(!dst.data().join("choucha.db").exists(), "nothing restored");

    // The photo put back, the database missing.
    std::fs::write(&path, &bytes).unwrap();
    std::fs::remove_file(backup.join("database/choucha.db")).unwrap();
    let r = dst.run(&["restore", "--from", &backup.display().to_string()]);
    assert!(!r.status.success());
    let err = text(&r.stderr);
    assert!(err.contains("缺少文件“database/choucha.db”"), "{err}");
    assert!(!dst.data().join("choucha.db").exists(), "nothing restored");
}

#[tokio::test]
async fn a_postgresql_deployment_comes_back_whole_from_its_backup() {
    let Some(base_url) = std::env::var("CHOUCHA_TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()) else {
        eprintln!("CHOUCHA_TEST_DATABASE_URL not set: PostgreSQL test skipped");
        return;
    };
    // The source in a schema of the test database, like the other CLI tests; the restore target a
    // fresh database (pg_dump keeps the schema's name, so the target's search path names it too).
    let schema = format!("t_bk_{}_{}", std::process::id(), nanos() % 1_000_000_000);
    let database = format!("choucha_restore_{}_{}", std::process::id(), nanos() % 1_000_000_000);
    let admin = choucha_store::Store::connect(&base_url).await.expect("connect to PostgreSQL");
    admin.reader().execute_unprepared(&format!("CREATE SCHEMA {schema}")).await.unwrap();
    admin.reader().execute_unprepared(&format!("CREATE DATABASE {database}")).await.unwrap();
    let (server, query) = match base_url.split_once('?') {
        Some((s, q)) => (s.to_string(), format!("?{q}&")),
        None => (base_url.clone(), "?".to_string()),
    };
    let server_root = &server[..server.rfind('/').expect("a database in the URL")];
    let search_path = format!("options=-c%20search_path%3D{schema}");
    let src = Deployment { dir: TempDir::new("bk-pg-src"), url: format!("{server}{query}{search_path}"), s3: None };
    let dst = Deployment {
        dir: TempDir::new("bk-pg-dst"),
        url: format!("{server_root}/{database}{query}{search_path}"),
        s3: None,
    };
    round_trip(&src, &dst).await;
    assert!(!dst.data().join("choucha.db").exists(), "no SQLite file when PostgreSQL is configured");
    admin.reader().execute_unprepared(&format!("DROP SCHEMA {schema} CASCADE")).await.unwrap();
    admin.reader().execute_unprepared(&format!("DROP DATABASE {database} WITH (FORCE)")).await.unwrap();
    admin.close().await.unwrap();
}

#[tokio::test]
async fn files_in_object_storage_are_backed_up_and_restored_into_object_storage() {
    let (Some(from), Some(to)) = (s3_config(), s3_config()) else { return };
    let src = Deployment { s3: Some(from), ..Deployment::sqlite("bk-s3-src") };
    let dst = Deployment { s3: Some(to), ..Deployment::sqlite("bk-s3-dst") };
    round_trip(&src, &dst).await;
    // The files went to the target's object storage, not its data folder.
    assert!(!dst.files().list().await.unwrap().is_empty());
    assert!(FileStore::local(dst.data()).list().await.unwrap().is_empty());
}

#[tokio::test]
async fn object_storage_is_configured_in_layers_and_checked_at_start() {
    let t = TempDir::new("bk-config");
    let file = t.path().join("choucha.toml");
    std::fs::write(
        &file,
        "[files]\nurl = \"s3://from-file/prov\"\nendpoint = \"https://oss.example.gov.cn\"\nsecret_access_key = \"file-secret-key\"\n",
    )
    .unwrap();
    let config = |envs: &[(&str, &str)], flags: &[&str]| {
        let mut c = common::choucha();
        c.current_dir(t.path()).args(["config", "--config", &file.display().to_string()]).args(flags);
        for (k, v) in envs {
            c.env(k, v);
        }
        let o = c.output().unwrap();
        assert_ok(&o, "config");
        text(&o.stdout)
    };
    let shown = config(&[], &[]);
    assert!(shown.contains("url = \"s3://from-file/prov\""), "{shown}");
    assert!(shown.contains("secret_access_key = \"***\"") && !shown.contains("file-secret-key"), "{shown}");
    let shown = config(&[("CHOUCHA_FILES_URL", "s3://from-env"), ("CHOUCHA_FILES_REGION", "cn-north-1")], &[]);
    assert!(shown.contains("url = \"s3://from-env\"") && shown.contains("region = \"cn-north-1\""), "{shown}");
    let shown = config(&[("CHOUCHA_FILES_URL", "s3://from-env")], &["--files-url", "s3://from-flag/x"]);
    assert!(shown.contains("url = \"s3://from-flag/x\""), "{shown}");

    let mut c = common::choucha();
    let o = c.current_dir(t.path()).args(["config", "--files-url", "s3://Bad_Bucket"]).output().unwrap();
    assert!(!o.status.success());
    assert!(text(&o.stderr).contains("对象存储地址 files.url“s3://Bad_Bucket”无效"), "{}", text(&o.stderr));

    // A bucket that does not exist stops the start with a Chinese message.
    let Some(mut s3) = s3_config() else { return };
    s3.url = format!("s3://no-such-bucket-{}", uuid::Uuid::new_v4().simple());
    let d = Deployment { s3: Some(s3), ..Deployment::sqlite("bk-nobucket") };
    let o = d.run(&["migrate"]);
    assert!(!o.status.success());
    assert!(text(&o.stderr).contains("无法访问"), "{}", text(&o.stderr));
}
