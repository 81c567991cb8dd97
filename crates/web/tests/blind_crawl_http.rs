//! Blind testing (rule 13) as a property of everything the system serves: two samples go through
//! receipt, testing, report issue, delivery, a re-test at another institution and a published
//! announcement; then every blind user (the first lab's testers and approvers, the re-test lab's
//! tester and approvers, the screening institution's tester) fetches every GET operation of the
//! OpenAPI with every id of the world, every page their session reaches, every PDF (as text) and
//! XLSX (as cells), error bodies included, and the public (anonymous) side is fetched the same way.
//! The test asserts:
//! (a) no enterprise identifier (name, USCC, address, signer; of the sampled enterprises and the
//!     nominal producer) appears in any blind response;
//! (b) no value a blind user saw (JSON strings, and identifying tokens: codes, numbers, times)
//!     appears in a public response beside an enterprise identifier;
//! (c) no value the enterprise's own sampling records carry (task ids as routes, seal numbers,
//!     samplers, place, sampling time, tracking number) reaches a blind user;
//! (d) public payloads carry no internal ids (task, sample, report, user, enterprise ids).
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use choucha_service::draws;
use choucha_service::fixtures::lab_world::*;
use choucha_service::fixtures::test_uscc;
use common::TestServer;
use reqwest::StatusCode;
use serde_json::Value;

const SECOND: &str = "大同市平城区第二加油站";

/// One fetched response, as text (JSON as is, HTML as is, PDF and XLSX extracted).
struct Fetched {
    route: String,
    status: StatusCode,
    text: String,
    json: Option<Value>,
}

struct World2 {
    srv: TestServer,
    /// Enterprise identifiers: must never reach a blind user.
    identifiers: Vec<String>,
    /// What the enterprise's sampling records carry: must never reach a blind user either.
    record_values: Vec<String>,
    task_ids: Vec<i64>,
    /// String path values: blind codes, divisions, USCCs.
    strings: Vec<String>,
}

/// As `issued_task`, with the screening institution's quick screening first (rule 24): flagged,
/// so the sample goes on to full testing.
async fn issued_screened(
    w: &World,
    task: i64,
    receipt: choucha_service::lab::ReceiptInput,
    sulfur: f64,
) -> choucha_service::lab::ReportView {
    use choucha_service::lab;
    let screener =
        choucha_service::auth::login(s(w), "wn_screener", choucha_service::fixtures::PASSWORD).await.unwrap();
    let bc = accepted_task(w, task, receipt).await;
    let flagged = lab::ScreeningInput { result: "flagged".into(), note: "筛查发现硫含量可疑".into() };
    lab::screen(s(w), &screener, &bc, flagged).await.unwrap();
    enter_all(w, &bc, sulfur).await;
    lab::complete_results(s(w), &w.t1, &bc).await.unwrap();
    let r = lab::prepare_report(s(w), &w.t1, &bc, sig()).await.unwrap();
    lab::review_report(s(w), &w.a1, r.id, sig()).await.unwrap();
    choucha_service::issue::approve_report(s(w), &w.a2, r.id, sig()).await.unwrap()
}

async fn build() -> World2 {
    let w = world_with(Options { screening: true, ..Default::default() }).await;
    w.fx.user("dt_reg2", &["regulator"], Some("dt")).await;
    let lab2 = second_lab(&w).await;
    let svc = s(&w).clone();
    // Sample 1 fails, is objected to and re-tested at lab2; sample 2 passes.
    let r1 = issued_screened(&w, w.task, accept(), 12.5).await;
    let task2 = another_task(&w, SECOND, 7).await;
    draws::start_task(&svc, &w.s1, task2).await.unwrap();
    let rec2 = choucha_domain::sampling::RecordFields {
        place: "加油机5号枪".into(),
        sampled_at: "2025-10-13 15:20".into(),
        test_seals: vec!["SXGH-000200".into()],
        backup_seals: vec!["SXGH-000201".into()],
        // Sampled from the station, made by a nominal producer elsewhere (rule 23): the producer's
        // name, address and USCC are enterprise identifiers too.
        producer_name: PRODUCER.into(),
        producer_address: "太原市小店区某路8号".into(),
        producer_uscc: test_uscc("140105", 3).to_string(),
        ..record()
    };
    sampled(&w, task2, rec2).await;
    let mut receipt2 = accept();
    receipt2.observed.test_seals = vec!["SXGH-000200".into()];
    receipt2.observed.backup_seals = vec!["SXGH-000201".into()];
    let r2 = issued_screened(&w, task2, receipt2, 8.0).await;
    let owner = enterprise_user(&w).await;
    retested(&w, &lab2, &owner, r1.id, 8.0).await;
    // The draws are published, and the results announced.
    for d in draws::list_for_plan(&svc, &w.regulator, w.plan).await.unwrap() {
        draws::publish(&svc, &w.regulator, d.id).await.unwrap();
    }
    let reg2 = choucha_service::auth::login(&svc, "dt_reg2", choucha_service::fixtures::PASSWORD).await.unwrap();
    let a = choucha_service::announcements::draft(&svc, &w.regulator, w.plan).await.unwrap();
    choucha_service::announcements::approve(&svc, &reg2, a.id).await.unwrap();
    let anyway = choucha_service::announcements::PublishInput { open_objection_reason: "提前公告".into() };
    choucha_service::announcements::publish(&svc, &w.regulator, a.id, anyway).await.unwrap();

    let mut strings = Vec::new();
    for r in [r1.id, r2.id] {
        strings.push(blind_code_of_report(&w, r).await);
    }
    for rt in choucha_service::retests::list(&svc, &w.regulator, &[], None, None).await.unwrap().items {
        strings.push(rt.blind_code);
    }
    let second_uscc = test_uscc("140213", 7).to_string();
    // (Not the USCCs: a blind user does not know them, and an error echoing its own input is no leak.)
    strings.extend(["140213".to_string(), "140000".into(), "2025".into()]);
    let identifiers = vec![
        ENTERPRISE.to_string(),
        SECOND.into(),
        w.uscc.clone(),
        second_uscc,
        "140213某路1号".into(),
        "140213某路7号".into(),
        PRODUCER.into(),
        "太原市小店区某路8号".into(),
        test_uscc("140105", 3).to_string(),
        "王站长".into(),
    ];
    let record_values = vec![
        "SXGH-000123".to_string(),
        "SXGH-000124".into(),
        "SXGH-000200".into(),
        "SXGH-000201".into(),
        "加油机3号枪".into(),
        "加油机5号枪".into(),
        "2025-10-10".into(),
        "2025-10-13".into(),
        "EA123456789CN".into(),
        "1190012345678".into(),
        w.s1.display_name.clone(),
        w.s2.display_name.clone(),
    ];
    let task_ids = vec![w.task, task2];
    let srv = TestServer::start_with(w.fx).await;
    World2 { srv, identifiers, record_values, task_ids, strings }
}

/// The GET operations of the OpenAPI with their path parameters filled in every way the world allows.
fn expand(spec: &Value, public: bool, strings: &[String]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (path, ops) in spec["paths"].as_object().unwrap() {
        if ops.get("get").is_none() || path.starts_with("/api/v1/public") != public {
            continue;
        }
        let mut routes = vec![path.clone()];
        let params: Vec<String> =
            path.split('{').skip(1).filter_map(|p| p.split('}').next()).map(str::to_string).collect();
        let many = params.len() > 1;
        for p in params {
            let ints: Vec<String> = (1..=if many { 6 } else { 24 }).map(|i| i.to_string()).collect();
            let values: Vec<String> = ints.into_iter().chain(strings.iter().cloned()).collect();
            let hole = format!("{{{p}}}");
            routes = routes.iter().flat_map(|r| values.iter().map(|v| r.replace(&hole, v))).collect();
        }
        out.extend(routes.into_iter().map(|r| (path.clone(), r)));
    }
    out
}

fn xlsx_text(bytes: &[u8]) -> String {
    use calamine::Reader;
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).expect("xlsx");
    let mut out = String::new();
    for name in book.sheet_names() {
        if let Ok(range) = book.worksheet_range(&name) {
            for row in range.rows() {
                for c in row {
                    out.push_str(&c.to_string());
                    out.push('\t');
                }
                out.push('\n');
            }
        }
    }
    out
}

async fn fetch(client: &reqwest::Client, base: &str, route: &str, token: Option<&str>) -> Fetched {
    let mut req = client.get(format!("{base}{route}"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.expect("get");
    let status = r.status();
    let ct = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let bytes = r.bytes().await.unwrap_or_default().to_vec();
    let (text, json) = if bytes.starts_with(b"%PDF") {
        (pdf_text(&bytes).unwrap_or_default(), None)
    } else if ct.contains("spreadsheet") || bytes.starts_with(b"PK") {
        (xlsx_text(&bytes), None)
    } else {
        let t = String::from_utf8_lossy(&bytes).to_string();
        (t.clone(), serde_json::from_str(&t).ok())
    };
    Fetched { route: route.to_string(), status, text, json }
}

/// Same-site links of a page.
fn links(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .filter(|l| l.starts_with('/') && !l.starts_with("//") && !l.contains("logout"))
        .map(|l| l.split('#').next().unwrap_or_default().replace("&amp;", "&"))
        .collect()
}

/// Every page a session reaches from `start`, breadth-first, bounded; PDFs and XLSX as text. A
/// signed-in crawl leaves out the public pages (`/public…`): they are the public side, which names
/// enterprises by design (一公开) and is checked as such.
async fn crawl(client: &reqwest::Client, base: &str, start: &[&str], limit: usize) -> Vec<Fetched> {
    let mut seen: BTreeSet<String> = start.iter().map(|s| s.to_string()).collect();
    let mut queue: VecDeque<String> = seen.iter().cloned().collect();
    let mut out = Vec::new();
    while let Some(route) = queue.pop_front() {
        if out.len() >= limit {
            break;
        }
        let public_side = route.starts_with("/public") && !start.iter().any(|s| s.starts_with("/public"));
        if public_side
            || route.starts_with("/static")
            || route.starts_with("/api/openapi")
            || route.starts_with("/api/docs")
        {
            continue;
        }
        let f = fetch(client, base, &route, None).await;
        if f.json.is_none() && !f.text.starts_with("%PDF") {
            for l in links(&f.text) {
                if seen.insert(l.clone()) {
                    queue.push_back(l);
                }
            }
        }
        out.push(f);
    }
    out
}

fn leaves(v: &Value, key: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::String(s) => out.push((key.to_string(), s.trim().to_string())),
        Value::Array(a) => a.iter().for_each(|x| leaves(x, key, out)),
        Value::Object(o) => o.iter().for_each(|(k, x)| leaves(x, k, out)),
        _ => {}
    }
}

/// Identifying tokens of a text: runs of ASCII letters, digits and '-' of 6 or more with a digit
/// (codes, seal, report and tracking numbers, dates).
fn tokens(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter(|t| t.len() >= 6 && t.chars().any(|c| c.is_ascii_digit()))
        .map(str::to_string)
        .collect()
}

fn internal_id_keys(v: &Value, path: &str, out: &mut Vec<String>) {
    const INTERNAL: [&str; 9] = [
        "task_id",
        "sample_id",
        "report_id",
        "user_id",
        "enterprise_id",
        "objection_id",
        "retest_id",
        "team_ids",
        "first_report_id",
    ];
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                if INTERNAL.contains(&k.as_str()) {
                    out.push(format!("{path}.{k}"));
                }
                internal_id_keys(x, &format!("{path}.{k}"), out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| internal_id_keys(x, path, out)),
        _ => {}
    }
}

/// Values a blind user may share with the public rows because they identify no sample: the same
/// for every sample of the item or plan (product, plan and item names, standards, test items,
/// units, institutions, the organising bureau), conclusions and Chinese labels, and the dates of
/// the day the test world runs (every action of the world happens today, so today's date is on
/// every record; it is not a key of one sample), and the server's own address.
fn allowed(value: &str, today: &str) -> bool {
    const SHARED: [&str; 22] = [
        // the field app's shell, on every page and in its manifest for everyone: theme colour,
        // icon, language, icon type
        "#1f5fa8",
        "1f5fa8",
        "/static/icon-192.png",
        "icon-192",
        "zh-CN",
        "image/png",
        // state and kind codes, the same for many samples
        "seller",
        "published",
        "车用柴油",
        "2025年车用柴油监督抽查",
        "GB 19147-2016",
        "硫含量",
        "闪点（闭口）",
        "外观",
        "山西省检验检测中心",
        "山西省产品质量监督检验研究院",
        "江苏威诺检测技术有限公司",
        "大同市市场监督管理局",
        "合格",
        "不合格",
        "circulation",
        "示例牌",
    ];
    let v = value.trim();
    // The deployment's own address: every signed document prints it in its verification URL (the
    // test server listens on 127.0.0.1), and a signed-in user's session list shows it too.
    if v == "127.0.0.1" {
        return true;
    }
    // A division code names a county, shared by all its enterprises.
    let division = v.len() == 6 && v.chars().all(|c| c.is_ascii_digit());
    v.chars().count() < 2
        || division
        || SHARED.contains(&v)
        || v.starts_with(today)
        || v.chars().all(|c| !c.is_ascii_alphanumeric() && !c.is_ascii_punctuation())
            && (v.contains("合格") || v.contains("检验") || v.contains("抽查"))
}

#[tokio::test]
async fn no_blind_user_can_join_a_sample_to_its_enterprise_from_anything_served() {
    let w = build().await;
    let srv = &w.srv;
    let client = reqwest::Client::new();
    let spec: Value = client.get(srv.url("/api/openapi.json")).send().await.unwrap().json().await.unwrap();
    let today = srv.fx.services.today().to_string();

    // The public side: every public GET with every id, every public page and PDF.
    let mut public = Vec::new();
    for (_, route) in expand(&spec, true, &w.strings) {
        public.push(fetch(&client, &srv.base, &route, None).await);
    }
    let anon = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    public.extend(crawl(&anon, &srv.base, &["/public", "/public/announcements"], 300).await);
    assert!(
        public.iter().any(|f| f.status.is_success() && f.text.contains(ENTERPRISE)),
        "the public side names the enterprises (一公开): the crawl reached the announcement"
    );
    assert!(
        public.iter().any(|f| f.status.is_success() && f.text.contains(PRODUCER)),
        "the announcement names the second sample's nominal producer, so the producer is watched for real"
    );
    // (d) No internal ids in public payloads.
    let mut id_keys = Vec::new();
    for f in public.iter().filter(|f| f.status.is_success()) {
        if let Some(j) = &f.json {
            let mut keys = Vec::new();
            internal_id_keys(j, "", &mut keys);
            id_keys.extend(keys.into_iter().map(|k| format!("{} {k}", f.route)));
        }
        for bad in ["/tasks/", "/lab/samples/", "/lab/reports/", "/users/"] {
            if f.json.is_none() && f.text.contains(bad) {
                id_keys.push(format!("{} links {bad}", f.route));
            }
        }
    }
    assert!(id_keys.is_empty(), "public payloads carry internal ids: {id_keys:#?}");
    let beside: Vec<&Fetched> =
        public.iter().filter(|f| w.identifiers.iter().any(|i| f.text.contains(i.as_str()))).collect();

    let blind_users = ["lab_t1", "lab_t2", "lab_a1", "lab_a2", "lab2_t", "lab2_a1", "lab2_a2", "wn_screener"];
    let mut failures: Vec<String> = Vec::new();
    let mut successes = 0usize;
    for user in blind_users {
        let token = srv.token(user).await;
        let mut got = Vec::new();
        for (_, route) in expand(&spec, false, &w.strings) {
            got.push(fetch(&client, &srv.base, &route, Some(&token)).await);
        }
        let b = srv.browser(user).await;
        got.extend(crawl(&b.client, &srv.base, &["/"], 400).await);
        successes += got.iter().filter(|f| f.status.is_success()).count();
        let mut values: BTreeMap<String, String> = BTreeMap::new();
        for f in &got {
            // (a) No enterprise identifier, in any response, errors included.
            for i in &w.identifiers {
                if f.text.contains(i.as_str()) {
                    failures.push(format!("(a) {user} GET {} ({}) shows enterprise identifier {i}", f.route, f.status));
                }
            }
            // (c) Nothing the enterprise's sampling records carry.
            for v in &w.record_values {
                if f.text.contains(v.as_str()) {
                    failures.push(format!("(c) {user} GET {} ({}) shows record value {v}", f.route, f.status));
                }
            }
            if f.status.is_success() && w.task_ids.iter().any(|t| f.route.contains(&format!("/tasks/{t}"))) {
                failures.push(format!("(c) {user} GET {} answers {} for a task of the world", f.route, f.status));
            }
            if let Some(j) = &f.json {
                let mut l = Vec::new();
                leaves(j, "", &mut l);
                for (_, v) in l {
                    values.entry(v).or_insert_with(|| f.route.clone());
                }
            }
            if f.json.is_none() {
                for t in tokens(&f.text) {
                    values.entry(t).or_insert_with(|| f.route.clone());
                }
            }
        }
        // (b) Nothing the blind user saw appears beside an enterprise in a public response.
        for (v, route) in &values {
            if allowed(v, &today) {
                continue;
            }
            for p in &beside {
                let shared = match &p.json {
                    Some(j) => {
                        let mut l = Vec::new();
                        leaves(j, "", &mut l);
                        l.iter().any(|(_, x)| x == v)
                    }
                    None => v.chars().count() >= 4 && p.text.contains(v.as_str()),
                };
                if shared {
                    failures.push(format!(
                        "(b) {user} saw {v:?} on GET {route}; it appears beside an enterprise on public GET {}",
                        p.route
                    ));
                }
            }
        }
    }
    assert!(successes > 100, "the blind users reached their work ({successes} answers)");
    failures.sort();
    failures.dedup();
    assert!(failures.is_empty(), "{} leaks:\n{}", failures.len(), failures.join("\n"));
}
