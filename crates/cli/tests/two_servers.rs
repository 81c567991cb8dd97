//! Two `choucha serve` processes behind one address serve one deployment (issue 17): one
//! PostgreSQL database and one S3-compatible store, each server with its own data folder (sharing
//! only the audit key an operator copies to every server). A user signs in on one and goes on on
//! the other, with the same session and CSRF token; a photo uploaded through one is served by the
//! other; a video's chunks go to either; and each background job runs in one server only.
//!
//! Runs when `CHOUCHA_TEST_DATABASE_URL` names PostgreSQL and `CHOUCHA_TEST_S3_ENDPOINT` the S3
//! server (scripts/test.sh starts moto); under CI=true a missing S3 server fails it.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use sha2::Digest;

mod common;
use common::deployment::{Deployment, Server, assert_ok};
use common::{TempDir, nanos, scalar};

const DEMO_PASSWORD: &str = "Choucha2025";

fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// The page session cookie a response sets, as a `Cookie` header value.
fn session_cookie(r: &reqwest::Response) -> Option<String> {
    r.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("choucha_session="))
        .map(|v| v.split(';').next().unwrap_or_default().to_string())
}

/// The CSRF token of a page's forms.
fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a form with the CSRF token") + "name=\"csrf\" value=\"".len();
    html[at..].split('"').next().unwrap().to_string()
}

/// The background jobs' turns a server counted: `(job, outcome) → count`.
async fn job_turns(base: &str) -> Vec<(String, String, u64)> {
    let text = client().get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap();
    text.lines()
        .filter_map(|l| l.strip_prefix("choucha_background_job_runs_total{"))
        .filter_map(|l| {
            let (labels, n) = l.split_once("} ")?;
            let get = |k: &str| {
                labels
                    .split(',')
                    .find_map(|p| p.strip_prefix(&format!("{k}=\"")))
                    .map(|v| v.trim_end_matches('"').to_string())
            };
            Some((get("job")?, get("outcome")?, n.trim().parse().ok()?))
        })
        .collect()
}

fn turns(all: &[(String, String, u64)], job: &str, outcome: &str) -> u64 {
    all.iter().filter(|(j, o, _)| j == job && o == outcome).map(|t| t.2).sum()
}

/// A resumable upload to the task, each chunk sent to the server named with it; the evidence id.
async fn upload(
    http: &reqwest::Client,
    token: &str,
    chunks: &[(&String, &[u8])],
    task: i64,
    category: &str,
    file_name: &str,
    content_type: &str,
) -> i64 {
    let whole: Vec<u8> = chunks.iter().flat_map(|(_, c)| c.iter().copied()).collect();
    let r = http
        .post(format!("{}/api/v1/tasks/{task}/uploads", chunks[0].0))
        .bearer_auth(token)
        .json(&json!({"category": category, "file_name": file_name, "content_type": content_type,
                      "total_size": whole.len(), "expected_sha256": hex::encode(sha2::Sha256::digest(&whole))}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    let (mut offset, mut last) = (0, Value::Null);
    for (base, chunk) in chunks {
        let r = http
            .put(format!("{base}/api/v1/uploads/{id}?offset={offset}"))
            .bearer_auth(token)
            .body(chunk.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "chunk at {offset} on {base}");
        offset += chunk.len();
        last = r.json().await.unwrap();
    }
    last["evidence"]["id"].as_i64().expect("the last chunk records the evidence")
}

#[tokio::test]
async fn two_servers_serve_one_deployment() {
    let Some(base_url) = std::env::var("CHOUCHA_TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()) else {
        eprintln!("CHOUCHA_TEST_DATABASE_URL not set: two-server test skipped (it needs PostgreSQL)");
        return;
    };
    let Some(s3) = choucha_service::fixtures::s3_config() else { return };
    let schema = format!("t_two_{}_{}", std::process::id(), nanos() % 1_000_000_000);
    let admin = choucha_store::Store::connect(&base_url).await.expect("connect to PostgreSQL");
    admin.reader().execute_unprepared(&format!("CREATE SCHEMA {schema}")).await.unwrap();
    let sep = if base_url.contains('?') { '&' } else { '?' };
    let url = format!("{base_url}{sep}options=-c%20search_path%3D{schema}");
    let a = Deployment { dir: TempDir::new("two-a"), url: url.clone(), s3: Some(s3.clone()) };
    let b = Deployment { dir: TempDir::new("two-b"), url: url.clone(), s3: Some(s3) };
    assert_ok(&a.run(&["demo"]), "demo");
    // The operator gives every server the deployment's audit key (and checkpoint key).
    std::fs::create_dir_all(b.data()).unwrap();
    for key in ["audit.key", "audit-signing.key"] {
        if a.data().join(key).exists() {
            std::fs::copy(a.data().join(key), b.data().join(key)).unwrap();
        }
    }
    let config = "[security]\nsecond_factor_roles = []\n";
    for d in [&a, &b] {
        std::fs::write(d.dir.path().join("serve.toml"), config).unwrap();
    }
    let one = Server::start(&a, &a.dir.path().join("serve.toml")).await;
    // The first server has taken the jobs (their first turn comes at start) before the second starts.
    for _ in 0..100 {
        let t = job_turns(&one.base).await;
        if ["audit_checkpoint", "session_sweep", "planner_statistics"].iter().all(|j| turns(&t, j, "ok") >= 1) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let two = Server::start(&b, &b.dir.path().join("serve.toml")).await;
    let http = client();

    // Signed in on one, going on on the other: the session is in the database.
    let r = http.get(format!("{}/login", one.base)).send().await.unwrap();
    let mut cookie = session_cookie(&r).expect("a session for the sign-in form");
    let csrf = csrf_of(&r.text().await.unwrap());
    let r = http
        .post(format!("{}/login", one.base))
        .header(COOKIE, &cookie)
        .form(&[("csrf", csrf.as_str()), ("username", "gh_sampler1"), ("password", DEMO_PASSWORD), ("next", "/tasks")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "signed in on the first server");
    assert_eq!(r.headers()[LOCATION], "/tasks");
    cookie = session_cookie(&r).unwrap_or(cookie);
    let r = http.get(format!("{}/tasks", two.base)).header(COOKIE, &cookie).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "the second server knows the session");
    let page = r.text().await.unwrap();
    assert!(page.contains("抽样任务"), "{page}");
    let csrf = csrf_of(&page);
    let r = http
        .post(format!("{}/logout", one.base))
        .header(COOKIE, &cookie)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "the token the second server gave is good on the first");
    let r = http.get(format!("{}/tasks", two.base)).header(COOKIE, &cookie).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "signed out on one: signed out on both");

    // Evidence through one, served by the other; a video's chunks to either.
    let token_of = |base: String| {
        let http = http.clone();
        async move {
            let r = http
                .post(format!("{base}/api/v1/auth/token"))
                .json(&json!({"username": "gh_sampler1", "password": DEMO_PASSWORD}))
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success(), "token: {}", r.status());
            r.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_string()
        }
    };
    let token = token_of(one.base.clone()).await;
    let task = scalar(
        &url,
        "SELECT m.task_id FROM sampling_task_members m JOIN users u ON u.id = m.user_id \
         WHERE u.username = 'gh_sampler1' ORDER BY m.task_id LIMIT 1",
    )
    .await;
    let r = http.post(format!("{}/api/v1/tasks/{task}/start", two.base)).bearer_auth(&token).send().await.unwrap();
    assert!(r.status().is_success(), "a token from one server works on the other: {}", r.status());
    let mut photo = vec![0xFF, 0xD8, 0xFF, 0xE0];
    photo.extend(format!("两台服务器 {}", nanos()).into_bytes());
    photo.extend((0..8192u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8));
    let photo_id = upload(&http, &token, &[(&one.base, &photo[..])], task, "site", "现场.jpg", "image/jpeg").await;
    let served =
        http.get(format!("{}/api/v1/evidence/{photo_id}/content", two.base)).bearer_auth(&token).send().await.unwrap();
    assert_eq!(served.status(), StatusCode::OK);
    assert_eq!(served.bytes().await.unwrap().to_vec(), photo, "the other server serves the same bytes");

    let video: Vec<u8> = (0..300_000u32).map(|i| (i.wrapping_mul(40_503) >> 5) as u8).collect();
    let chunks =
        [(&one.base, &video[..100_000]), (&two.base, &video[100_000..200_000]), (&one.base, &video[200_000..])];
    let video_id = upload(&http, &token, &chunks, task, "process", "抽样过程.mp4", "video/mp4").await;
    let served =
        http.get(format!("{}/api/v1/evidence/{video_id}/content", two.base)).bearer_auth(&token).send().await.unwrap();
    assert_eq!(served.bytes().await.unwrap().to_vec(), video);

    // Each background job ran in one server: the first took them, the second found them held.
    let (at_one, at_two) = (job_turns(&one.base).await, job_turns(&two.base).await);
    for job in ["session_sweep", "planner_statistics", "audit_checkpoint"] {
        let ran = turns(&at_one, job, "ok") + turns(&at_two, job, "ok");
        assert_eq!(ran, 1, "{job} ran once in the deployment: {at_one:?} {at_two:?}");
        assert_eq!(turns(&at_two, job, "elsewhere"), 1, "{job}: the second server left it to the first");
    }

    drop(two);
    drop(one);
    admin.reader().execute_unprepared(&format!("DROP SCHEMA {schema} CASCADE")).await.unwrap();
    admin.close().await.unwrap();
}
