//! The sampler's task page over HTTP and its writes the way `static/sampling.js` sends them: to the
//! JSON API `/api/v1/tasks/{id}/…` with the session cookie. The team's samplers work there; another
//! institution's sampler, a tester and an enterprise cannot open it nor write through the API;
//! every cookie write needs the CSRF token; the rules come back by name next to their fields.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;

use choucha_service::organisations::{self, OrgInput};
use common::diesel::{self, Diesel, PNG};
use common::{Browser, TestServer};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A published 车用柴油 item and a drawn task for two samplers of "lab" (not started).
async fn drawn_task(srv: &TestServer) -> i64 {
    diesel::team(srv).await;
    srv.fx.enterprise("大同市平城区示例加油站", "140213", "销售者、加油站", 1).await;
    let mut rules = diesel::rules();
    rules["standards"] = json!(["GB 19147-2016《车用柴油》"]);
    rules["min_base"] = json!("不少于200L");
    diesel::drawn_task(srv, Diesel { rules, ..Diesel::default() }).await.task
}

fn record(test_quantity: f64) -> Value {
    json!({"product_name": "车用柴油", "brand": "中国石化", "model": "0号", "batch": "20251008", "standard": "GB 19147-2016",
           "sampling_base": 12000.0, "test_quantity": test_quantity, "backup_quantity": 2.0, "unit": "L", "unit_price": 7.35,
           "place": "3号枪", "domain": "circulation", "sampled_at": "2025-10-10T10:30",
           "test_seals": ["SXGH-000123"], "backup_seals": ["SXGH-000124"]})
}

async fn start(b: &Browser, task: i64) {
    let csrf = b.csrf_of(&format!("/tasks/{task}")).await;
    let r = b.post_form(&format!("/tasks/{task}/start"), &[("csrf", csrf.as_str())]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn only_the_team_and_the_organiser_open_the_task_page() {
    let srv = TestServer::start().await;
    let task = drawn_task(&srv).await;
    let mut other = OrgInput {
        code: "lab2".into(),
        name: "天津五十一站质量检验中心有限公司".into(),
        kind: "institution".into(),
        division_code: Some("120000".into()),
        active: true,
        ..Default::default()
    };
    other.cap_sampling = true;
    organisations::create_as_system(&srv.fx.services, "test", other).await.unwrap();
    srv.fx.user("lab2_s", &["sampler"], Some("lab2")).await;
    // The sampled enterprise's own account.
    let uscc = choucha_service::fixtures::test_uscc("140213", 1).to_string();
    choucha_service::fixtures::Fixture::make_user(&srv.fx.services, "ent", "企业", &["enterprise"], None, Some(&uscc))
        .await;

    let s1 = srv.browser("lab_s1").await;
    let (status, html) = s1.get(&format!("/tasks/{task}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("data-testid=\"start\""), "the team's sampler may start");
    let reg = srv.browser("dt_reg").await;
    assert_eq!(reg.get(&format!("/tasks/{task}")).await.0, StatusCode::OK, "the organising bureau sees it");

    for who in ["lab2_s", "lab_tester", "ent"] {
        let b = srv.browser(who).await;
        let (status, html) = b.get(&format!("/tasks/{task}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{who} cannot open the task page");
        assert!(!html.contains("示例加油站"), "{who} does not learn who is sampled");
        let evidence = format!("/api/v1/tasks/{task}/evidence");
        assert_eq!(b.get(&evidence).await.0, StatusCode::NOT_FOUND, "{who}: evidence");
        let csrf = b.csrf_of("/").await;
        let (status, _) =
            b.send(Some(&csrf), reqwest::Method::PUT, &format!("/api/v1/tasks/{task}/record"), record(2.0)).await;
        assert!(matches!(status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND), "{who} cannot write the record");
    }
}

#[tokio::test]
async fn page_writes_need_the_csrf_token() {
    let srv = TestServer::start().await;
    let task = drawn_task(&srv).await;
    let s1 = srv.browser("lab_s1").await;
    // Starting without the token: refused, the task stays assigned.
    let r = s1.post_form(&format!("/tasks/{task}/start"), &[("csrf", "wrong")]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(s1.get(&format!("/tasks/{task}")).await.1.contains("data-testid=\"start\""));
    start(&s1, task).await;

    let path = format!("/api/v1/tasks/{task}/record");
    let (status, body) = s1.send(None, reqwest::Method::PUT, &path, record(2.0)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no token");
    assert_eq!(body["code"], "csrf_token", "{body}");
    assert!(body["message"].as_str().unwrap().contains("X-CSRF-Token"), "{body}");
    let (status, body) = s1.send(Some("0123456789abcdef"), reqwest::Method::PUT, &path, record(2.0)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "another token");
    assert_eq!(body["code"], "csrf_token", "{body}");
    let (status, _) = s1.send(None, reqwest::Method::POST, &format!("/api/v1/tasks/{task}/problem"), json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(!s1.get(&format!("/tasks/{task}")).await.1.contains("data-testid=\"record-state\""), "nothing written");

    let csrf = s1.csrf_of(&format!("/tasks/{task}")).await;
    let (status, body) = s1.send(Some(&csrf), reqwest::Method::PUT, &path, record(2.0)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "draft");
}

#[tokio::test]
async fn a_task_not_yet_started_carries_its_sampling_sections_hidden_for_a_start_with_no_network() {
    let srv = TestServer::start().await;
    let task = drawn_task(&srv).await;
    let s1 = srv.browser("lab_s1").await;
    let href = format!("/tasks/{task}");
    let (_, html) = s1.get(&href).await;
    assert!(html.contains("data-start"), "the start form");
    assert!(
        html.contains("<div data-needs-start hidden>") && html.contains("id=\"record-form\""),
        "hidden until the start"
    );
    // The service still refuses a record before the start: the phone sends the start first.
    let csrf = s1.csrf_of(&href).await;
    let (status, body) =
        s1.send(Some(&csrf), reqwest::Method::PUT, &format!("/api/v1/tasks/{task}/record"), record(2.0)).await;
    assert!(status.is_client_error(), "{status} {body}");
    // Another sampler of the institution, not on the team, does not get them.
    srv.fx.user("lab_s9", &["sampler"], Some("lab")).await;
    let (_, html) = srv.browser("lab_s9").await.get(&href).await;
    assert!(!html.contains("id=\"record-form\""));
}

#[tokio::test]
async fn the_record_page_prefills_refuses_by_rule_and_locks_after_every_signature() {
    let srv = TestServer::start().await;
    let task = drawn_task(&srv).await;
    let s1 = srv.browser("lab_s1").await;
    let s2 = srv.browser("lab_s2").await;
    start(&s1, task).await;
    let (_, html) = s1.get(&format!("/tasks/{task}")).await;
    for prefilled in [
        "name=\"product_name\" type=\"text\" value=\"车用柴油\"",
        "name=\"unit\" type=\"text\" value=\"L\"",
        "name=\"test_quantity\" type=\"text\" value=\"2\"",
        "GB 19147-2016《车用柴油》",
        "实施细则：检验样品2L",
    ] {
        assert!(html.contains(prefilled), "pre-filled: {prefilled}");
    }

    let csrf1 = s1.csrf_of(&format!("/tasks/{task}")).await;
    let path = format!("/api/v1/tasks/{task}/record");
    let (status, body) = s1.send(Some(&csrf1), reqwest::Method::PUT, &path, record(1.0)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["field"], "test_quantity", "the error names its field");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("实施细则规定的2L"));
    assert!(!s1.get(&format!("/tasks/{task}")).await.1.contains("data-testid=\"record-state\""), "nothing written");

    assert_eq!(s1.send(Some(&csrf1), reqwest::Method::PUT, &path, record(2.0)).await.0, StatusCode::OK);
    common::diesel::photographed(&srv, task).await;
    let sig = format!("/api/v1/tasks/{task}/record/signatures");
    let (status, body) =
        s1.send(Some(&csrf1), reqwest::Method::POST, &sig, json!({"signer": "self", "image_png_base64": PNG})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = s1
        .send(
            Some(&csrf1),
            reqwest::Method::POST,
            &sig,
            json!({"signer": "enterprise", "name": "王站长", "image_png_base64": PNG}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, html) = s1.get(&format!("/tasks/{task}")).await;
    assert!(html.contains("待签字的抽样人员"), "the other sampler still has to sign");
    assert!(!html.contains("id=\"record-form\""), "signed by someone: the record is read-only");

    // The second sampler signs in her own session: the record locks, the PDF is there.
    let csrf2 = s2.csrf_of(&format!("/tasks/{task}")).await;
    let (status, body) =
        s2.send(Some(&csrf2), reqwest::Method::POST, &sig, json!({"signer": "self", "image_png_base64": PNG})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "signed");
    let (_, html) = s2.get(&format!("/tasks/{task}")).await;
    assert!(html.contains("data-testid=\"all-signed\"") && html.contains("已抽样"));
    let pdf = s2.client.get(srv.url(&format!("/tasks/{task}/record.pdf"))).send().await.unwrap();
    assert_eq!(pdf.status(), StatusCode::OK);
    assert!(pdf.bytes().await.unwrap().starts_with(b"%PDF"));

    // A correction: the changes are listed and only the enterprise confirms.
    let mut fixed = record(2.0);
    fixed["batch"] = json!("20251009");
    let (status, body) = s1
        .send(
            Some(&csrf1),
            reqwest::Method::POST,
            &format!("/api/v1/tasks/{task}/record/corrections"),
            json!({"fields": fixed, "reason": "批号抄错"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, html) = s1.get(&format!("/tasks/{task}")).await;
    assert!(
        html.contains("更正待企业签字确认")
            && html.contains("<del>20251008</del>")
            && html.contains("<ins>20251009</ins>")
    );
    assert!(!html.contains("data-testid=\"sign-self\"") && html.contains("data-testid=\"sign-enterprise\""));
}

#[tokio::test]
async fn uploads_from_the_page_resume_at_the_servers_offset() {
    let srv = TestServer::start().await;
    let task = drawn_task(&srv).await;
    let s1 = srv.browser("lab_s1").await;
    start(&s1, task).await;
    let csrf = s1.csrf_of(&format!("/tasks/{task}")).await;
    let bytes: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
    let (status, up) = s1.send(Some(&csrf),
        reqwest::Method::POST,
        &format!("/api/v1/tasks/{task}/uploads"),
        json!({"category": "process", "file_name": "v.mp4", "content_type": "video/mp4", "total_size": bytes.len()}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{up}");
    let url = srv.url(&format!("/api/v1/uploads/{}", up["id"].as_str().unwrap()));
    let put = |offset: usize, chunk: Vec<u8>| {
        s1.client.put(format!("{url}?offset={offset}")).header("X-CSRF-Token", csrf.clone()).body(chunk).send()
    };
    assert_eq!(put(0, bytes[..20_000].to_vec()).await.unwrap().status(), StatusCode::OK);
    // A chunk sent again after a lost answer: told where to resume.
    let r = put(0, bytes[..20_000].to_vec()).await.unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(r.json::<Value>().await.unwrap()["offset"], 20_000);
    let (_, status) = s1.get(&format!("/api/v1/uploads/{}", up["id"].as_str().unwrap())).await;
    assert!(status.contains("\"received\":20000"));
    let r = put(20_000, bytes[20_000..].to_vec()).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let done = r.json::<Value>().await.unwrap();
    assert_eq!(done["state"], "complete");
    assert_eq!(done["evidence"]["sha256"], sha256sum(&bytes));
    let (_, list) = s1.get(&format!("/api/v1/tasks/{task}/evidence")).await;
    assert!(list.contains("\"file_name\":\"v.mp4\""));
    // Without the token, no chunk is taken.
    let r = s1.client.put(format!("{url}?offset=50000")).body(Vec::new()).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

/// SHA-256 by another implementation than the server's (coreutils).
fn sha256sum(bytes: &[u8]) -> String {
    let path = std::env::temp_dir().join(format!("choucha-tasks-sha-{}", std::process::id()));
    std::fs::write(&path, bytes).unwrap();
    let out = std::process::Command::new("sha256sum").arg(&path).output().expect("sha256sum");
    let _ = std::fs::remove_file(&path);
    String::from_utf8(out.stdout).unwrap().split_whitespace().next().unwrap().to_string()
}

#[tokio::test]
async fn the_page_records_arrival_hand_over_and_dispatch_with_the_forms_as_pdf() {
    let srv = TestServer::start().await;
    let task = drawn_task(&srv).await;
    let s1 = srv.browser("lab_s1").await;
    let s2 = srv.browser("lab_s2").await;
    start(&s1, task).await;
    let csrf1 = s1.csrf_of(&format!("/tasks/{task}")).await;
    let post = |b: &'static str| format!("/api/v1/tasks/{task}/{b}");

    // Arrival: every document must have been shown; nothing is written until all are.
    let (status, body) = s1
        .send(
            Some(&csrf1),
            reqwest::Method::POST,
            &post("arrival"),
            json!({"notice_shown": true, "identity_shown": true, "authorisation_shown": false}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["errors"][0]["field"], "authorisation_shown");
    assert!(s1.get(&format!("/tasks/{task}")).await.1.contains("data-testid=\"arrival-form\""));
    let (status, _) = s1
        .send(
            Some(&csrf1),
            reqwest::Method::POST,
            &post("arrival"),
            json!({"notice_shown": true, "identity_shown": true, "authorisation_shown": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, html) = s1.get(&format!("/tasks/{task}")).await;
    assert!(html.contains("data-testid=\"arrival-recorded\"") && !html.contains("data-testid=\"arrival-form\""));

    // The notice is there to print as soon as the task is started.
    assert!(html.contains(&format!("href=\"/tasks/{task}/documents/notice\"")));
    let pdf = s1.client.get(srv.url(&format!("/tasks/{task}/documents/notice"))).send().await.unwrap();
    assert_eq!(pdf.status(), StatusCode::OK);
    assert!(pdf.bytes().await.unwrap().starts_with(b"%PDF"));
    let nope = s1.client.get(srv.url(&format!("/tasks/{task}/documents/nonsense"))).send().await.unwrap();
    assert_eq!(nope.status(), StatusCode::NOT_FOUND);

    // Record, three signatures: sampled; the dispatch form appears with the record and payment form.
    assert_eq!(s1.send(Some(&csrf1), reqwest::Method::PUT, &post("record"), record(2.0)).await.0, StatusCode::OK);
    common::diesel::photographed(&srv, task).await;
    let sig = post("record/signatures");
    s1.send(Some(&csrf1), reqwest::Method::POST, &sig, json!({"signer": "self", "image_png_base64": PNG})).await;
    s1.send(
        Some(&csrf1),
        reqwest::Method::POST,
        &sig,
        json!({"signer": "enterprise", "name": "王站长", "image_png_base64": PNG}),
    )
    .await;
    let csrf2 = s2.csrf_of(&format!("/tasks/{task}")).await;
    let (_, body) =
        s2.send(Some(&csrf2), reqwest::Method::POST, &sig, json!({"signer": "self", "image_png_base64": PNG})).await;
    assert_eq!(body["state"], "signed");
    let (_, html) = s1.get(&format!("/tasks/{task}")).await;
    for kind in ["record", "payment_form", "feedback_form"] {
        assert!(html.contains(&format!("/tasks/{task}/documents/{kind}\"")), "{kind} listed");
        let r = s1.client.get(srv.url(&format!("/tasks/{task}/documents/{kind}"))).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{kind}");
    }
    assert!(html.contains("data-testid=\"dispatch\"") && html.contains("data-testid=\"backup-request\""));
    assert!(html.contains("封样"), "the seals are the first custody events");

    // Keeping the backup at the enterprise: asked from the page with a reason, dispatch waits for
    // the bureau; one open request at a time (rule 9).
    let (status, body) = s1
        .send(
            Some(&csrf1),
            reqwest::Method::POST,
            &post("backup-request"),
            json!({"reason": " ", "storage_place": "站内油品仓库"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["errors"][0]["field"], "reason");
    let (status, req) = s1
        .send(
            Some(&csrf1),
            reqwest::Method::POST,
            &post("backup-request"),
            json!({"reason": "油品易燃，不宜运输", "storage_place": "站内油品仓库", "storage_conditions": "阴凉通风"}),
        )
        .await;
    // The API's answer to a backup request (200 with the request), as documented.
    assert_eq!(status, StatusCode::OK, "{req}");
    let (status, body) = s1
        .send(
            Some(&csrf1),
            reqwest::Method::POST,
            &post("backup-request"),
            json!({"reason": "再次申请", "storage_place": "站内油品仓库"}),
        )
        .await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::CONFLICT, Some("rule9_open_request")), "{body}");
    let (status, body) = s1
        .send(Some(&csrf1), reqwest::Method::POST, &post("dispatch"), json!({"mode": "carried", "carrier": "抽样人员"}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "rule9_pending");
    let reg = srv.api("dt_reg").await;
    let (status, _) = reg
        .post(&format!("/api/v1/backup-requests/{}/decision", req["id"]), json!({"approve": true, "opinion": "同意"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(s1.get(&format!("/tasks/{task}")).await.1.contains("/documents/sealing_notice\""));

    // Shipping needs a tracking number; then the dispatch is recorded once.
    let (status, body) = s1
        .send(
            Some(&csrf1),
            reqwest::Method::POST,
            &post("dispatch"),
            json!({"mode": "shipped", "carrier": "中国邮政EMS", "tracking_no": ""}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["errors"][0]["field"], "tracking_no");
    let (status, body) = s1
        .send(
            Some(&csrf1),
            reqwest::Method::POST,
            &post("dispatch"),
            json!({"mode": "shipped", "carrier": "中国邮政EMS", "tracking_no": "1190012345678"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, html) = s1.get(&format!("/tasks/{task}")).await;
    assert!(html.contains("1190012345678") && !html.contains("data-testid=\"dispatch\""));
    let (status, body) = s1
        .send(Some(&csrf1), reqwest::Method::POST, &post("dispatch"), json!({"mode": "carried", "carrier": "抽样人员"}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["code"], "already_dispatched");
}

#[tokio::test]
async fn a_task_not_sampled_from_the_page_needs_a_reason_and_frees_its_place() {
    let srv = TestServer::start().await;
    let task = drawn_task(&srv).await;
    let s1 = srv.browser("lab_s1").await;
    let csrf = s1.csrf_of(&format!("/tasks/{task}")).await;
    assert!(s1.get(&format!("/tasks/{task}")).await.1.contains("data-testid=\"not-sampled\""));
    let path = format!("/api/v1/tasks/{task}/not-sampled");
    let (status, body) =
        s1.send(Some(&csrf), reqwest::Method::POST, &path, json!({"reason_kind": "other", "note": " "})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["errors"][0]["field"], "note");
    assert!(s1.get(&format!("/tasks/{task}")).await.1.contains("data-testid=\"not-sampled\""), "nothing written");
    let (status, body) = s1.send(Some(&csrf), reqwest::Method::POST, &path, json!({"reason_kind": "closed"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "not_sampled");
    let (_, html) = s1.get(&format!("/tasks/{task}")).await;
    assert!(html.contains("未抽样") && !html.contains("data-testid=\"not-sampled\""));
    // The organising bureau hears of it in its inbox.
    let reg = srv.browser("dt_reg").await;
    assert!(reg.get("/inbox").await.1.contains("未抽样（停业）"));
}

/// The field app: the manifest, the icons and a root-scoped worker that is never served from a
/// cache; the task page carries what offline writes are based on (the record's hash) and, before
/// any record, the signature forms hidden until the phone queues one; the session's CSRF token can
/// be asked again by a page that came from the phone, by the signed-in session only.
#[tokio::test]
async fn the_field_app_is_installable_and_offline_writes_know_their_base() {
    let srv = TestServer::start().await;
    let task = drawn_task(&srv).await;
    let anon = reqwest::Client::new();
    let r = anon.get(srv.url("/app.webmanifest")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/manifest+json");
    let m: Value = r.json().await.unwrap();
    assert_eq!((m["start_url"].as_str(), m["lang"].as_str()), (Some("/tasks"), Some("zh-CN")));
    assert!(m["name"].as_str().unwrap().contains("抽查"));
    for icon in m["icons"].as_array().unwrap() {
        let r = anon.get(srv.url(icon["src"].as_str().unwrap())).send().await.unwrap();
        assert_eq!((r.status(), r.headers()["content-type"].to_str().unwrap()), (StatusCode::OK, "image/png"));
        assert!(r.bytes().await.unwrap().starts_with(b"\x89PNG"));
    }
    let r = anon.get(srv.url("/sw.js")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["cache-control"], "no-cache");
    let sw = r.text().await.unwrap();
    assert!(sw.contains(&format!("\"{}\"", choucha_web::statics::version())), "the cache name is the build's");
    assert!(!sw.contains("__CACHE_VERSION__"));

    let s1 = srv.browser("lab_s1").await;
    start(&s1, task).await;
    let (_, html) = s1.get(&format!("/tasks/{task}")).await;
    assert!(html.contains("data-stamp=\"\""), "no record yet");
    assert!(html.contains("data-needs-record hidden") && html.contains("data-testid=\"pad-self\""));
    assert!(html.contains("/static/outbox.js") && html.contains("data-precache"));
    let csrf = s1.csrf_of(&format!("/tasks/{task}")).await;
    let (status, r) =
        s1.send(Some(&csrf), reqwest::Method::PUT, &format!("/api/v1/tasks/{task}/record"), record(2.0)).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    let (_, html) = s1.get(&format!("/tasks/{task}")).await;
    assert!(html.contains(&format!("data-stamp=\"{}\"", r["record_hash"].as_str().unwrap())));
    assert!(!html.contains("data-needs-record"));
    let (status, html) = s1.get("/tasks").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&format!("href=\"/tasks/{task}\" data-precache")), "the open task is kept offline");

    let (status, body) = s1.get("/session/csrf").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["csrf"], csrf.as_str());
    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(srv.url("/session/csrf"))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection(), "no token without a session");
}
