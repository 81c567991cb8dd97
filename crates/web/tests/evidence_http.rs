//! Evidence over HTTP: one-request photos, resumable video uploads across a server restart, the
//! checklist, byte-identical downloads and who is refused.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};

use choucha_domain::implementation_rules::{Limit, RulesAction};
use choucha_service::Services;
use choucha_service::draws::{self, DrawFilters, DrawRequest};
use choucha_service::fixtures::{Fixture, PASSWORD};
use choucha_service::implementation_rules::{self as irules, RulesBody, TestItemInput};
use choucha_service::plans::{self, ItemInput, PlanDraft, PlanInput};
use choucha_web::AppState;
use common::Api;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::sync::oneshot;

/// A server over given services (this test's own data folder), stopped by `stop` or on drop.
struct Server {
    base: String,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<()>>,
}

impl Server {
    async fn start(services: Services) -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = oneshot::channel::<()>();
        let handle = tokio::spawn(async move {
            choucha_web::serve(listener, AppState::new(services), async {
                let _ = rx.await;
            })
            .await
            .expect("serve");
        });
        Server { base: format!("http://{addr}"), shutdown: Some(tx), handle: Some(handle) }
    }

    /// Shut down and wait until the server is gone.
    async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            h.await.expect("server task");
        }
    }

    async fn api(&self, username: &str) -> Api {
        let client = reqwest::Client::new();
        let r = client
            .post(format!("{}/api/v1/auth/token", self.base))
            .json(&json!({"username": username, "password": PASSWORD}))
            .send()
            .await
            .expect("token");
        assert_eq!(r.status(), StatusCode::OK, "token for {username}");
        let token = r.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_string();
        Api { base: self.base.clone(), token, client }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

struct World {
    fx: Fixture,
    dir: PathBuf,
    task: i64,
}

impl World {
    fn services(&self) -> Services {
        Services::new(self.fx.db.store.clone(), self.dir.clone())
    }
}

impl Drop for World {
    fn drop(&mut self) {
        make_writable(&self.dir);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn make_writable(dir: &Path) {
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

/// An issued plan with published rules and one started task of the team lab_s1 + lab_s2; lab_s9 is
/// a sampler of the same institution outside the team, lab_tester a tester.
async fn world() -> World {
    let fx = Fixture::new().await;
    let reg = fx.user("dt_reg", &["regulator"], Some("dt")).await;
    let tester = fx.user("lab_tester", &["tester"], Some("lab")).await;
    let s1 = fx.user("lab_s1", &["sampler"], Some("lab")).await;
    fx.user("lab_s2", &["sampler"], Some("lab")).await;
    fx.enterprise("大同市平城区示例加油站", "140213", "销售者、加油站", 1).await;
    let s = &fx.services;
    let draft = PlanDraft {
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
    };
    let p = plans::create(s, &reg, draft).await.expect("plan");
    plans::issue(s, &reg, p.id).await.expect("issue");
    let item = p.items[0].id;
    let body = RulesBody {
        standards: vec!["GB 19147-2016".into()],
        test_items: vec![TestItemInput {
            name: "硫含量".into(),
            method: "SH/T 0689".into(),
            limit: Limit::Max { max: 10.0, inclusive: true },
            unit: "mg/kg".into(),
            class: None,
        }],
        test_portion: "1L×2".into(),
        backup_portion: "1L×2".into(),
        judgement_principle: "全部符合为合格".into(),
        ..Default::default()
    };
    let r = irules::create_draft(s, &tester, item, body).await.expect("rules");
    irules::step(s, &tester, r.id, RulesAction::Submit, None).await.expect("submit");
    irules::step(s, &reg, r.id, RulesAction::Approve, None).await.expect("approve");
    irules::step(s, &reg, r.id, RulesAction::Publish, None).await.expect("publish");
    let req = DrawRequest {
        item_id: item,
        quota: 1,
        seed: "证据".into(),
        stratified: false,
        team_size: None,
        filters: DrawFilters::default(),
        risk_weights: None,
    };
    let task = draws::run(s, &reg, req).await.expect("draw").drawn[0].task_id.expect("task");
    draws::start_task(s, &s1, task).await.expect("start");
    fx.user("lab_s9", &["sampler"], Some("lab")).await;
    let dir = std::env::temp_dir().join(format!("choucha-evidence-http-{}", uuid::Uuid::new_v4().simple()));
    World { fx, dir, task }
}

/// SHA-256 by another implementation than the server's (coreutils).
fn sha256sum(bytes: &[u8]) -> String {
    let path = std::env::temp_dir().join(format!("choucha-sha-{}", uuid::Uuid::new_v4().simple()));
    std::fs::write(&path, bytes).unwrap();
    let out = std::process::Command::new("sha256sum").arg(&path).output().expect("sha256sum");
    let _ = std::fs::remove_file(&path);
    String::from_utf8(out.stdout).unwrap().split_whitespace().next().unwrap().to_string()
}

async fn upload_photo(
    api: &Api,
    task: i64,
    category: &str,
    name: &str,
    ct: &str,
    bytes: Vec<u8>,
) -> (StatusCode, Value) {
    let part = reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()).mime_str(ct).unwrap();
    let form = reqwest::multipart::Form::new().text("category", category.to_string()).part("file", part);
    let r = api
        .client
        .post(format!("{}/api/v1/tasks/{task}/evidence", api.base))
        .bearer_auth(&api.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn put_chunk(api: &Api, upload: &str, offset: usize, bytes: &[u8]) -> (StatusCode, Value) {
    let r = api
        .client
        .put(format!("{}/api/v1/uploads/{upload}?offset={offset}", api.base))
        .bearer_auth(&api.token)
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn download(api: &Api, evidence: i64) -> (StatusCode, String, Vec<u8>) {
    let r = api
        .client
        .get(format!("{}/api/v1/evidence/{evidence}/content", api.base))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let ct = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    (status, ct, r.bytes().await.unwrap().to_vec())
}

fn photo() -> Vec<u8> {
    let mut v = b"\xFF\xD8\xFF\xE0 JFIF storage room".to_vec();
    v.extend((0..20_000u32).map(|i| (i * 7 % 256) as u8));
    v
}

#[tokio::test]
async fn photo_in_one_request_is_listed_with_the_checklist_and_served_byte_identical() {
    let w = world().await;
    let srv = Server::start(w.services()).await;
    let s1 = srv.api("lab_s1").await;
    let bytes = photo();
    let (status, e) = upload_photo(&s1, w.task, "storage", "贮存环境.jpg", "image/jpeg", bytes.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{e}");
    assert_eq!(e["category"], "storage");
    assert_eq!(e["sha256"], sha256sum(&bytes));
    let id = e["id"].as_i64().unwrap();
    let stored = w.dir.join("evidence").join(&sha256sum(&bytes)[..2]).join(sha256sum(&bytes));
    assert_eq!(std::fs::read(stored).unwrap(), bytes);

    let reg = srv.api("dt_reg").await;
    let (status, list) = reg.get(&format!("/api/v1/tasks/{}/evidence", w.task)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["items"][0]["file_name"], "贮存环境.jpg");
    assert_eq!(list["missing"], json!(["site", "labels", "stock", "process", "seals"]), "documents are not required");
    assert_eq!(list["checklist"][1]["label"], "贮存环境");
    assert_eq!(list["checklist"][1]["count"], 1);

    let (status, ct, got) = download(&reg, id).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ct, "image/jpeg");
    assert_eq!(got, bytes, "byte-identical");
}

#[tokio::test]
async fn refuses_testers_outsiders_and_other_content_types() {
    let w = world().await;
    let srv = Server::start(w.services()).await;
    let s1 = srv.api("lab_s1").await;
    let (status, body) = upload_photo(&s1, w.task, "documents", "a.pdf", "application/pdf", b"%PDF-1.7".to_vec()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["code"], "evidence_content_type");
    assert!(body["message"].as_str().unwrap().contains("照片或视频"));
    let (status, body) = s1
        .post(
            &format!("/api/v1/tasks/{}/uploads", w.task),
            json!({"category": "process", "file_name": "x.txt", "content_type": "text/plain", "total_size": 10}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    let (status, e) = upload_photo(&s1, w.task, "site", "site.jpg", "image/jpeg", photo()).await;
    assert_eq!(status, StatusCode::CREATED);
    let id = e["id"].as_i64().unwrap();

    let outsider = srv.api("lab_s9").await;
    let (status, body) = upload_photo(&outsider, w.task, "site", "x.jpg", "image/jpeg", photo()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["code"], "forbidden");
    let (status, _) = outsider
        .post(
            &format!("/api/v1/tasks/{}/uploads", w.task),
            json!({"category": "process", "file_name": "v.mp4", "content_type": "video/mp4", "total_size": 10}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let tester = srv.api("lab_tester").await;
    let (status, _) = upload_photo(&tester, w.task, "site", "x.jpg", "image/jpeg", photo()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(tester.get(&format!("/api/v1/tasks/{}/evidence", w.task)).await.0, StatusCode::NOT_FOUND);
    assert_eq!(download(&tester, id).await.0, StatusCode::NOT_FOUND);
    assert_eq!(download(&outsider, id).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn resumable_upload_continues_on_a_new_server_and_keeps_the_hash() {
    let w = world().await;
    let video: Vec<u8> = (0..1_000_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8).collect();
    let whole = sha256sum(&video);
    let srv = Server::start(w.services()).await;
    let s1 = srv.api("lab_s1").await;
    let (status, u) = s1
        .post(
            &format!("/api/v1/tasks/{}/uploads", w.task),
            json!({"category": "process", "file_name": "抽样过程.mp4", "content_type": "video/mp4",
                   "total_size": video.len(), "expected_sha256": whole}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{u}");
    let upload = u["id"].as_str().unwrap().to_string();
    let half = video.len() / 2;
    let (status, v) = put_chunk(&s1, &upload, 0, &video[..half]).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["received"], half);
    assert_eq!(v["state"], "open");

    // Stop the server; a new one over the same database and data folder, on new connections.
    srv.stop().await;
    let store = choucha_store::Store::connect_with(
        &w.fx.db.url,
        choucha_store::ConnectSettings {
            pg_schema: w.fx.db.pg_schema.clone(),
            max_connections: Some(4),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let srv = Server::start(Services::new(store, w.dir.clone())).await;
    let s1 = Api { base: srv.base.clone(), token: s1.token.clone(), client: reqwest::Client::new() };
    let (status, v) = s1.get(&format!("/api/v1/uploads/{upload}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["received"], half);

    // A wrong offset: 409 with the offset to resume from.
    let (status, body) = put_chunk(&s1, &upload, half + 100, &video[half + 100..]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["code"], "upload_offset");
    assert_eq!(body["offset"], half);

    // A sampler outside the team may neither send chunks nor see the upload.
    let outsider = srv.api("lab_s9").await;
    assert_eq!(put_chunk(&outsider, &upload, half, &video[half..]).await.0, StatusCode::FORBIDDEN);
    assert_eq!(outsider.get(&format!("/api/v1/uploads/{upload}")).await.0, StatusCode::NOT_FOUND);

    let (status, done) = put_chunk(&s1, &upload, half, &video[half..]).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["state"], "complete");
    assert_eq!(done["received"], video.len());
    assert_eq!(done["evidence"]["sha256"], whole);
    let id = done["evidence"]["id"].as_i64().unwrap();
    let (status, ct, got) = download(&s1, id).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ct, "video/mp4");
    assert_eq!(sha256sum(&got), whole);
    assert_eq!(got, video);

    // A declared hash that does not match: refused in Chinese, nothing stored.
    let (_, u) = s1
        .post(
            &format!("/api/v1/tasks/{}/uploads", w.task),
            json!({"category": "seals", "file_name": "封样.mp4", "content_type": "video/mp4",
                   "total_size": 3, "expected_sha256": sha256sum(b"abc")}),
        )
        .await;
    let (status, body) = put_chunk(&s1, u["id"].as_str().unwrap(), 0, b"abd").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["code"], "evidence_hash_mismatch");
    assert!(body["message"].as_str().unwrap().contains("校验失败"));
    let (_, list) = s1.get(&format!("/api/v1/tasks/{}/evidence", w.task)).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
}

async fn get_with(api: &Api, evidence: i64, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut req = api.client.get(format!("{}/api/v1/evidence/{evidence}/content", api.base)).bearer_auth(&api.token);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.unwrap()
}

/// A video is served in byte ranges (seeking in the viewer), from the data folder or from object
/// storage alike; the SHA-256 is its entity tag.
async fn serves_ranges(services: Services, w: &World) {
    let srv = Server::start(services).await;
    let s1 = srv.api("lab_s1").await;
    let video: Vec<u8> = (0..100_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 9) as u8).collect();
    let (status, e) = upload_photo(&s1, w.task, "process", "抽样过程.mp4", "video/mp4", video.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{e}");
    let id = e["id"].as_i64().unwrap();
    let sha = sha256sum(&video);

    let r = get_with(&s1, id, &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["accept-ranges"], "bytes");
    assert_eq!(r.headers()["content-type"], "video/mp4");
    assert_eq!(r.headers()["etag"].to_str().unwrap(), format!("\"{sha}\""));
    assert_eq!(r.bytes().await.unwrap().to_vec(), video);

    let r = get_with(&s1, id, &[("range", "bytes=1000-1999")]).await;
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.headers()["content-range"], "bytes 1000-1999/100000");
    assert_eq!(r.bytes().await.unwrap().to_vec(), video[1000..2000]);
    let r = get_with(&s1, id, &[("range", "bytes=-10")]).await;
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.bytes().await.unwrap().to_vec(), video[99_990..]);
    let r = get_with(&s1, id, &[("range", "bytes=200000-")]).await;
    assert_eq!(r.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(r.headers()["content-range"], "bytes */100000");
    let r = get_with(&s1, id, &[("if-none-match", &format!("\"{sha}\""))]).await;
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
    // A tester never sees the enterprise's evidence (rule 13), ranges or not.
    let tester = srv.api("lab_tester").await;
    assert_eq!(get_with(&tester, id, &[("range", "bytes=0-9")]).await.status(), StatusCode::NOT_FOUND);
    srv.stop().await;
}

#[tokio::test]
async fn video_is_served_in_byte_ranges_from_the_data_folder() {
    let w = world().await;
    serves_ranges(w.services(), &w).await;
}

#[tokio::test]
async fn video_is_served_in_byte_ranges_from_object_storage() {
    let Some(files) = choucha_service::fixtures::s3_files() else { return };
    let w = world().await;
    serves_ranges(w.services().with_files(files.clone()), &w).await;
    assert_eq!(files.list().await.unwrap().len(), 1);
    assert!(
        !w.dir.join("evidence").exists()
            || std::fs::read_dir(w.dir.join("evidence")).unwrap().all(|e| { e.unwrap().file_name() == "uploads" })
    );
}
