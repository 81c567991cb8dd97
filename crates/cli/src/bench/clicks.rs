//! Per-click operations over HTTP, side by side: the real application (`choucha_web::serve`) and
//! the bare axum server (a token lookup and the bare query), both in this process, one request
//! after another as a user clicks (latency, not throughput: that is `wrk`'s row). The sampler's
//! worklist, the plan dashboard, the registry search and the creation of a sampling record.

use std::collections::HashMap;

use anyhow::{Context, bail};
use choucha_seed::demo;
use choucha_service::{Services, auth};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::bare::{Bare, router};
use super::run::svc;
use super::stats::{Line, measure, push};

/// One record to create: the task, its sampler and the record's fields as JSON.
pub(super) type RecordInput = (i64, i64, String);

/// What the clicks need from the bench's data.
pub(super) struct ClickData<'a> {
    pub s: &'a Services,
    pub bare: &'a Bare,
    pub sampler: &'a str,
    pub organiser: &'a str,
    pub big_plan: i64,
    /// Name prefixes of Datong (大同市华 …).
    pub prefixes: &'a [String],
    /// Records to create: the first half through our server, the second through the bare one.
    pub records: &'a [RecordInput],
}

struct Servers {
    ours: String,
    bare: String,
    stop: watch::Sender<bool>,
    handles: Vec<JoinHandle<()>>,
}

async fn start(s: &Services, bare: &Bare) -> anyhow::Result<Servers> {
    let (stop, rx) = watch::channel(false);
    let ours_l = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let ours = format!("http://{}", ours_l.local_addr()?);
    // No periodic jobs: one starting with the server (an ANALYZE of millions of rows) would be timed.
    let state = choucha_web::AppState { background_jobs: false, ..choucha_web::AppState::new(s.clone()) };
    let mut r1 = rx.clone();
    let h1 = tokio::spawn(async move {
        let _ = choucha_web::serve(ours_l, state, async move {
            let _ = r1.wait_for(|s| *s).await;
        })
        .await;
    });
    let bare_l = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let bare_url = format!("http://{}", bare_l.local_addr()?);
    let app = router(bare.clone());
    let mut r2 = rx;
    let h2 = tokio::spawn(async move {
        let _ = axum::serve(bare_l, app)
            .with_graceful_shutdown(async move {
                let _ = r2.wait_for(|s| *s).await;
            })
            .await;
    });
    Ok(Servers { ours, bare: bare_url, stop, handles: vec![h1, h2] })
}

/// A query value, percent-encoded (UTF-8 bytes).
fn encode(v: &str) -> String {
    v.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

/// Send and require a 2xx answer, reading its body (a user's browser reads it too).
async fn send(req: reqwest::RequestBuilder) -> anyhow::Result<usize> {
    let r = req.send().await?;
    let status = r.status();
    let body = r.bytes().await?;
    if !status.is_success() {
        bail!("服务器答复 HTTP {status}：{}", String::from_utf8_lossy(&body));
    }
    Ok(body.len())
}

/// The HTTP rows: each per-click operation through our server and through the bare one.
pub(super) async fn clicks(d: &ClickData<'_>, warmup: usize, n: usize, lines: &mut Vec<Line>) -> anyhow::Result<()> {
    let mut tokens: HashMap<String, String> = HashMap::new();
    let mut token = async |user: &str| -> anyhow::Result<String> {
        if let Some(t) = tokens.get(user) {
            return Ok(t.clone());
        }
        let t = svc(auth::issue_token(d.s, user, demo::PASSWORD).await).with_context(|| format!("token of {user}"))?;
        tokens.insert(user.to_string(), t.token.clone());
        Ok(t.token)
    };
    let sampler = token(d.sampler).await?;
    let organiser = token(d.organiser).await?;
    let regulator = token("regulator").await?;
    // The record's samplers, signed in before the servers start (not timed).
    let half = d.records.len() / 2;
    let mut record_tokens = Vec::with_capacity(d.records.len());
    for (_, user, _) in d.records {
        let name = d.bare.texts(&format!("SELECT username FROM users WHERE id = {user}")).await?;
        record_tokens.push(
            token(name.first().context("基准数据中缺少抽样记录的抽样人员（请先运行 choucha bench-data）")?.as_str())
                .await?,
        );
    }
    let srv = start(d.s, d.bare).await?;
    let c = reqwest::Client::new();
    let get = |url: String, token: &str| c.get(url).bearer_auth(token);
    let ours = measure(warmup, n, |_| send(get(format!("{}/api/v1/tasks?limit=50", srv.ours), &sampler))).await?;
    let base = measure(warmup, n, |_| send(get(format!("{}/bare/tasks", srv.bare), &sampler))).await?;
    push(lines, "HTTP click: GET /api/v1/tasks (sampler's worklist, 50)", ours, Some(base), "one request at a time");

    let plan = d.big_plan;
    let ours = measure(warmup, n, |_| send(get(format!("{}/api/v1/plans/{plan}", srv.ours), &organiser))).await?;
    let base = measure(warmup, n, |_| send(get(format!("{}/bare/plans/{plan}", srv.bare), &organiser))).await?;
    push(lines, "HTTP click: GET /api/v1/plans/{id} (plan dashboard)", ours, Some(base), "one request at a time");

    let p = |i: usize| encode(&d.prefixes[i % d.prefixes.len()]);
    let ours =
        measure(warmup, n, |i| send(get(format!("{}/api/v1/enterprises?q={}&limit=50", srv.ours, p(i)), &regulator)))
            .await?;
    let base = measure(warmup, n, |i| {
        send(get(format!("{}/bare/enterprises?q={}&division=1402", srv.bare, p(i)), &regulator))
    })
    .await?;
    push(
        lines,
        "HTTP click: GET /api/v1/enterprises (name prefix, 50 rows)",
        ours,
        Some(base),
        "one request at a time",
    );

    if half > warmup {
        let timed = half - warmup;
        let put = |url: String, i: usize| {
            let (_, _, fields) = &d.records[i];
            c.put(url).bearer_auth(&record_tokens[i]).header("content-type", "application/json").body(fields.clone())
        };
        let ours =
            measure(warmup, timed, |i| send(put(format!("{}/api/v1/tasks/{}/record", srv.ours, d.records[i].0), i)))
                .await?;
        let base = measure(warmup, timed, |i| {
            let k = half + i;
            send(put(format!("{}/bare/tasks/{}/record", srv.bare, d.records[k].0), k))
        })
        .await?;
        push(
            lines,
            "HTTP click: PUT /api/v1/tasks/{id}/record (create a sampling record)",
            ours,
            Some(base),
            "one request at a time; rules 2/5/8/22 re-checked",
        );
    } else {
        eprintln!("进行中且未填写抽样单的任务不足：跳过 HTTP 创建抽样单");
    }
    let _ = srv.stop.send(true);
    for h in srv.handles {
        let _ = h.await;
    }
    Ok(())
}
