//! `choucha bench`: measures, on data made by `bench-data`, what users trigger — through the service
//! layer ("ours") and through the bare sqlx queries or the bare axum server ("baseline") in the same
//! run — and prints p50/p95/p99 with the ratio.

use std::future::Future;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use choucha_domain::draw::{self, Candidate, DrawInput, SamplerCandidate};
use choucha_seed::demo;
use choucha_service::draws::{DrawFilters, DrawRequest};
use choucha_service::lab::{self, WorklistQuery};
use choucha_service::registry::RegistryQuery;
use choucha_service::{Actor, Services, auth, draws, plans, registry, sampling, statistics};
use sea_orm::{ConnectionTrait, Statement};
use serde::Serialize;

use super::bare::Bare;
use super::data::{self, DRAW_PLAN_TITLE, SAMPLER_PREFIX};
use crate::commands::open;
use crate::config::Settings;

#[derive(Debug, Clone)]
pub struct BenchArgs {
    pub iterations: usize,
    pub warmup: usize,
    pub http_seconds: u64,
    pub connections: u32,
    pub json: Option<std::path::PathBuf>,
    pub only: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    pub n: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub mean_ms: f64,
    /// Requests per second (HTTP only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rps: Option<f64>,
}

impl Stats {
    fn of(mut d: Vec<Duration>) -> Stats {
        d.sort();
        let ms = |x: Duration| x.as_secs_f64() * 1000.0;
        let rank = |p: f64| {
            if d.is_empty() {
                return 0.0;
            }
            let i = ((p * d.len() as f64).ceil() as usize).clamp(1, d.len()) - 1;
            ms(d[i])
        };
        let mean = if d.is_empty() { 0.0 } else { d.iter().map(|x| ms(*x)).sum::<f64>() / d.len() as f64 };
        Stats { n: d.len(), p50_ms: rank(0.50), p95_ms: rank(0.95), p99_ms: rank(0.99), mean_ms: mean, rps: None }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Line {
    pub operation: String,
    pub ours: Stats,
    pub baseline: Option<Stats>,
    pub note: String,
}

/// Time `n` calls of `f` (after `warmup` untimed calls); `f` gets the call's index.
async fn measure<F, Fut, T>(warmup: usize, n: usize, mut f: F) -> anyhow::Result<Stats>
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    for i in 0..warmup {
        f(i).await?;
    }
    let mut d = Vec::with_capacity(n);
    for i in 0..n {
        let t = Instant::now();
        f(warmup + i).await?;
        d.push(t.elapsed());
    }
    Ok(Stats::of(d))
}

fn svc<T>(r: choucha_service::Result<T>) -> anyhow::Result<T> {
    r.map_err(|e| anyhow::anyhow!("{e}"))
}

struct Ctx {
    s: Services,
    bare: Bare,
    admin: Actor,
    regulator: Actor,
    big_plan: i64,
    draw_item: i64,
    sampler: Actor,
    /// The tester with the most samples, when the data has a laboratory side.
    tester: Option<Actor>,
    prefixes: Vec<String>,
    usccs: Vec<String>,
}

const NAME_STARTS: &str = "华鑫源泰恒盛兴隆昌达丰瑞祥宏嘉德福顺通安康宁";

pub async fn run(settings: &Settings, args: BenchArgs) -> anyhow::Result<ExitCode> {
    let s = open(settings).await?;
    let bare = match s.store.backend() {
        sea_orm::DbBackend::Postgres => Bare::Pg(s.store.reader().get_postgres_connection_pool().clone()),
        _ => Bare::Lite(s.store.reader().get_sqlite_connection_pool().clone()),
    };
    let backend = if matches!(bare, Bare::Pg(_)) { "PostgreSQL" } else { "SQLite" };
    let big = bare
        .ids(&format!(
            "SELECT p.id FROM plans p WHERE p.doc_no LIKE '{}%' AND p.title <> '{DRAW_PLAN_TITLE}' ORDER BY p.id LIMIT 1",
            data::DOC_PREFIX
        ))
        .await?;
    let Some(big_plan) = big.first().copied() else {
        bail!("该数据库没有基准数据：请先运行 choucha bench-data");
    };
    let draw_item = *bare
        .ids(&format!(
            "SELECT i.id FROM plan_items i JOIN plans p ON p.id = i.plan_id WHERE p.title = '{DRAW_PLAN_TITLE}' \
             AND i.product = '电冰箱'"
        ))
        .await?
        .first()
        .context("draw plan item")?;
    let uid = |name: String| {
        let bare = bare.clone();
        async move { bare.ids(&format!("SELECT id FROM users WHERE username = '{name}'")).await }
    };
    let admin = svc(auth::actor_for_user(&s, *uid("admin".into()).await?.first().context("admin")?).await)?;
    let regulator = svc(auth::actor_for_user(&s, *uid("regulator".into()).await?.first().context("regulator")?).await)?;
    let sampler =
        svc(auth::actor_for_user(&s, *uid(format!("{SAMPLER_PREFIX}0_00")).await?.first().context("sampler")?).await)?;
    let tester = match bare
        .ids(
            "SELECT tester_id FROM lab_samples WHERE tester_id IS NOT NULL GROUP BY tester_id \
             ORDER BY COUNT(*) DESC, tester_id LIMIT 1",
        )
        .await?
        .first()
    {
        Some(id) => Some(svc(auth::actor_for_user(&s, *id).await)?),
        None => None,
    };
    let prefixes: Vec<String> = NAME_STARTS.chars().map(|c| format!("大同市{c}")).collect();
    let usccs = bare
        .texts("SELECT uscc FROM enterprises WHERE division_code >= '1402' AND division_code < '1403' LIMIT 500")
        .await?;
    let cx = Ctx { s, bare, admin, regulator, big_plan, draw_item, sampler, tester, prefixes, usccs };
    let n = args.iterations.max(1);
    let w = args.warmup;
    let wants = |name: &str| args.only.as_deref().is_none_or(|o| o.split(',').any(|x| name.contains(x.trim())));
    let mut lines: Vec<Line> = Vec::new();
    let started = Instant::now();
    eprintln!("{backend}：开始测量（每项预热 {w} 次，测量 {n} 次）");

    if wants("search") {
        let ours = measure(w, n, |i| {
            let q = RegistryQuery {
                q: Some(cx.prefixes[i % cx.prefixes.len()].clone()),
                limit: Some(50),
                ..Default::default()
            };
            let cx = &cx;
            async move { svc(registry::search(&cx.s, &cx.regulator, &q).await).map(|p| p.items.len()) }
        })
        .await?;
        let base = measure(w, n, |i| {
            let p = cx.prefixes[i % cx.prefixes.len()].clone();
            let cx = &cx;
            async move { cx.bare.search_name("1402", &p, 51).await.map(|r| r.len()) }
        })
        .await?;
        push(&mut lines, "registry search, name prefix (50 rows)", ours, Some(base), "");
        let ours = measure(w, n, |i| {
            let q = RegistryQuery { q: Some(cx.usccs[i % cx.usccs.len()].clone()), ..Default::default() };
            let cx = &cx;
            async move { svc(registry::search(&cx.s, &cx.regulator, &q).await).map(|p| p.items.len()) }
        })
        .await?;
        let base = measure(w, n, |i| {
            let u = cx.usccs[i % cx.usccs.len()].clone();
            let cx = &cx;
            async move { cx.bare.search_uscc("1402", &u).await.map(|r| r.len()) }
        })
        .await?;
        push(&mut lines, "registry search, USCC", ours, Some(base), "");
    }

    if wants("worklist") {
        let ours = measure(w, n, |_| {
            let cx = &cx;
            async move { svc(draws::my_tasks(&cx.s, &cx.sampler, None, Some(50)).await).map(|p| p.items.len()) }
        })
        .await?;
        let base = measure(w, n, |_| {
            let cx = &cx;
            async move { cx.bare.worklist(cx.sampler.user_id).await.map(|r| r.len()) }
        })
        .await?;
        let count = cx
            .bare
            .ids(&format!("SELECT COUNT(*) FROM sampling_task_members WHERE user_id = {}", cx.sampler.user_id))
            .await?;
        push(
            &mut lines,
            "sampler's worklist, first page (50)",
            ours,
            Some(base),
            &format!("{} tasks of this sampler", count.first().copied().unwrap_or(0)),
        );
    }

    if let Some(tester) = cx.tester.as_ref().filter(|_| wants("lab-worklist")) {
        let org = tester.org_id.context("tester org")?;
        for (mine, label) in [(true, "tester's worklist, own samples (50)"), (false, "lab worklist, institution (50)")]
        {
            let ours = measure(w, n, |_| {
                let cx = &cx;
                let q = WorklistQuery { mine: Some(mine), limit: Some(50), ..Default::default() };
                async move { svc(lab::worklist(&cx.s, tester, q).await).map(|p| p.items.len()) }
            })
            .await?;
            let base = measure(w, n, |_| {
                let cx = &cx;
                async move { cx.bare.lab_worklist(mine.then_some(tester.user_id), org).await.map(|r| r.len()) }
            })
            .await?;
            let by = if mine { format!("tester_id = {}", tester.user_id) } else { format!("testing_org_id = {org}") };
            let count = cx.bare.ids(&format!("SELECT COUNT(*) FROM lab_samples WHERE {by}")).await?;
            push(&mut lines, label, ours, Some(base), &format!("{} samples", count.first().copied().unwrap_or(0)));
        }
    }

    if wants("dashboard") {
        let ours = measure(w, n, |_| {
            let cx = &cx;
            async move { svc(plans::get(&cx.s, &cx.admin, cx.big_plan).await).map(|p| p.total_tasks) }
        })
        .await?;
        let base = measure(w, n, |_| {
            let cx = &cx;
            async move { cx.bare.dashboard(cx.big_plan).await.map(|r| r.1.len()) }
        })
        .await?;
        let tasks =
            cx.bare.ids(&format!("SELECT COUNT(*) FROM sampling_tasks WHERE plan_id = {}", cx.big_plan)).await?;
        push(
            &mut lines,
            "plan dashboard (plan view with progress)",
            ours,
            Some(base),
            &format!("plan of {} samples", tasks.first().copied().unwrap_or(0)),
        );
    }

    if wants("summary") {
        // No summary use case exists yet (issue 6): the aggregate it needs, through sea-orm on the
        // store's connection, against the same SQL on bare sqlx.
        let stmt = |id: i64| {
            let q = match cx.bare {
                Bare::Pg(_) => Bare::SUMMARY_SQL.to_string(),
                Bare::Lite(_) => Bare::SUMMARY_SQL.replace('$', "?"),
            };
            Statement::from_sql_and_values(cx.s.store.backend(), q, [id.into()])
        };
        let ours = measure(w, n, |_| {
            let cx = &cx;
            let st = stmt(cx.big_plan);
            async move { Ok(cx.s.store.reader().query_all_raw(st).await?.len()) }
        })
        .await?;
        let base = measure(w, n, |_| {
            let cx = &cx;
            async move { cx.bare.summary(cx.big_plan).await.map(|r| r.len()) }
        })
        .await?;
        push(
            &mut lines,
            "plan summary aggregate (per item × state, signed)",
            ours,
            Some(base),
            "the aggregate issue 6's summary table needs; no service function yet",
        );
    }

    if wants("summary figures") {
        // Issue 6's statistics through the service: GROUP BY over (plan_id, item_id, qualified) with
        // an EXISTS probe of the issued report per sample, and the analysis report's groupings
        // (division and size joins, failing items, earlier plans).
        let ours = measure(w, n, |_| {
            let cx = &cx;
            async move { svc(statistics::plan_figures(&cx.s, &cx.admin, cx.big_plan).await).map(|f| f.sampled) }
        })
        .await?;
        push(&mut lines, "plan figures (statistics::plan_figures)", ours, None, "summary table totals, by item");
        let ours = measure(w, n, |_| {
            let cx = &cx;
            async move {
                svc(statistics::quality_analysis(&cx.s, &cx.admin, cx.big_plan).await).map(|a| a.by_division.len())
            }
        })
        .await?;
        push(
            &mut lines,
            "quality analysis figures (statistics::quality_analysis)",
            ours,
            None,
            "by item, division, size, failing item, earlier plans",
        );
        // The summary table loads its own rows (one per issued report, in chunks of 500): a fifth
        // of the iterations, like the PDFs.
        let ours = measure(w.min(2), (n / 5).max(3), |_| {
            let cx = &cx;
            async move { svc(statistics::summary_xlsx(&cx.s, &cx.admin, cx.big_plan).await).map(|x| x.len()) }
        })
        .await?;
        push(&mut lines, "summary table XLSX (statistics::summary_xlsx)", ours, None, "one row per issued report");
    }

    if wants("draw") {
        let dn = (n / 5).max(3);
        let dw = w.min(2);
        let ours = measure(dw, dn, |_| {
            let cx = &cx;
            async move {
                svc(draws::preview(&cx.s, &cx.regulator, cx.draw_item, &DrawFilters::default()).await)
                    .map(|p| p.candidate_count)
            }
        })
        .await?;
        let samplers: Vec<SamplerCandidate> = (0..60)
            .map(|i| SamplerCandidate { username: format!("{SAMPLER_PREFIX}2_{i:02}"), conflicts: Default::default() })
            .collect();
        let bare_draw = |i: usize| {
            let cx = &cx;
            let samplers = samplers.clone();
            async move {
                let c = cx.bare.candidates("1402", 1 | 2, "电冰箱").await?;
                let input = DrawInput {
                    seed: format!("bare-{i}"),
                    candidates: c.into_iter().map(|(uscc, division_code)| Candidate { uscc, division_code }).collect(),
                    quota: 100,
                    stratified: false,
                    samplers,
                    team_size: 2,
                };
                let r = draw::run(&input).map_err(|e| anyhow::anyhow!("{e:?}"))?;
                Ok(r.drawn.len())
            }
        };
        let base = measure(dw, dn, bare_draw).await?;
        let candidates = svc(draws::preview(&cx.s, &cx.regulator, cx.draw_item, &DrawFilters::default()).await)?;
        let registry = cx.bare.ids("SELECT COUNT(*) FROM enterprises").await?.first().copied().unwrap_or(0);
        push(
            &mut lines,
            "draw preview (candidates + exclusions)",
            ours,
            Some(base.clone()),
            &format!(
                "{} candidates, {} excluded, from {} registry rows",
                candidates.candidate_count,
                candidates.exclusions.len(),
                registry
            ),
        );
        let stamp = cx.s.now().format("%H%M%S").to_string();
        let ours = measure(dw, dn, |i| {
            let cx = &cx;
            let req = DrawRequest {
                item_id: cx.draw_item,
                quota: 100,
                seed: format!("bench-{stamp}-{i}"),
                stratified: false,
                team_size: None,
                filters: DrawFilters::default(),
            };
            async move { svc(draws::run(&cx.s, &cx.regulator, req).await).map(|d| d.drawn.len()) }
        })
        .await?;
        push(
            &mut lines,
            "draw of 100 with exclusions (creates 100 tasks)",
            ours,
            Some(base),
            "baseline: one candidate query + the domain draw, no writes",
        );
    }

    if wants("record") {
        let m = n.min(200);
        let pool = cx
            .bare
            .pairs(&format!(
                "SELECT t.id, MIN(m.user_id) FROM sampling_tasks t JOIN sampling_task_members m ON m.task_id = t.id \
                 WHERE t.state = 'in_progress' AND NOT EXISTS (SELECT 1 FROM sampling_records r WHERE r.task_id = t.id) \
                 AND (SELECT COUNT(*) FROM sampling_tasks o WHERE o.plan_id = t.plan_id \
                   AND o.enterprise_id = t.enterprise_id AND o.id <> t.id AND o.state IN ({live})) < 2 \
                 AND NOT EXISTS (SELECT 1 FROM sampling_tasks o WHERE o.plan_id = t.plan_id \
                   AND o.enterprise_id = t.enterprise_id AND o.id <> t.id AND o.item_id = t.item_id \
                   AND o.state IN ({live})) \
                 GROUP BY t.id ORDER BY t.id DESC LIMIT {}",
                2 * (m + w) + 50,
                live = "'assigned', 'in_progress', 'sampled', 'refusal_pending', 'refused'"
            ))
            .await?;
        if pool.len() < 2 * (m + w) {
            bail!("进行中且未填写抽样单的任务不足 {}", 2 * (m + w));
        }
        let products = cx
            .bare
            .texts(&format!(
                "SELECT i.product FROM sampling_tasks t JOIN plan_items i ON i.id = t.item_id WHERE t.id IN ({}) ORDER BY t.id DESC",
                pool.iter().map(|p| p.0.to_string()).collect::<Vec<_>>().join(",")
            ))
            .await?;
        let mut g = data::Gen::new("bench-records");
        let fields: Vec<String> = products
            .iter()
            .enumerate()
            .map(|(k, p)| {
                let f = data::record_fields(&mut g, data::product_index(p), cx.s.now(), 90_000_000 + k as i64);
                serde_json::to_string(&f).unwrap_or_default()
            })
            .collect();
        let mut actors = std::collections::HashMap::new();
        for (_, u) in &pool[..m + w] {
            if !actors.contains_key(u) {
                actors.insert(*u, svc(auth::actor_for_user(&cx.s, *u).await)?);
            }
        }
        // The pool holds only tasks rule 5 allows (no other batch of the item, at most one other of
        // the plan); a refusal all the same (rule 22) is counted, not timed.
        let mut d = Vec::with_capacity(m);
        let mut refused = 0usize;
        for (i, (task, user)) in pool.iter().enumerate().take(m + w) {
            let actor = actors.get(user).cloned().context("actor")?;
            let f = serde_json::from_str(&fields[i])?;
            let t = Instant::now();
            match sampling::save_record(&cx.s, &actor, *task, f).await {
                Ok(_) if i >= w => d.push(t.elapsed()),
                Ok(_) => {}
                Err(choucha_service::ServiceError::Rule(_) | choucha_service::ServiceError::Invalid(_)) => refused += 1,
                Err(e) => bail!("save_record: {e}"),
            }
        }
        let ours = Stats::of(d);
        let off = m + w;
        let base = measure(w, m, |i| {
            let cx = &cx;
            let (task, user) = pool[off + i];
            let f = fields[off + i].clone();
            async move { cx.bare.create_record(task, user, &f).await }
        })
        .await?;
        push(
            &mut lines,
            "create a sampling record + audit record",
            ours,
            Some(base),
            &format!("{refused} of {} refused (not timed)", m + w),
        );
    }

    if wants("pdf") {
        let sampled = cx
            .bare
            .ids(&format!(
                "SELECT t.id FROM sampling_tasks t WHERE t.plan_id = {} AND t.state = 'sampled' ORDER BY t.id LIMIT 50",
                cx.big_plan
            ))
            .await?;
        let pn = (n / 5).max(5);
        let ours = measure(w.min(2), pn, |i| {
            let cx = &cx;
            let t = sampled[i % sampled.len()];
            async move { svc(sampling::record_pdf(&cx.s, &cx.admin, t).await).map(|b| b.len()) }
        })
        .await?;
        push(&mut lines, "sampling record PDF (抽样单)", ours, None, "typst render; no bare equivalent");
    }

    if wants("report-pdf") {
        let reports = cx.bare.ids("SELECT id FROM lab_reports WHERE state = 'approved' ORDER BY id LIMIT 50").await?;
        if reports.is_empty() {
            eprintln!("没有已签发的检验报告：跳过检验报告 PDF");
        } else {
            let renderer = svc(cx.s.renderer().await)?;
            let pn = (n / 5).max(5);
            let ours = measure(w.min(2), pn, |i| {
                let cx = &cx;
                let renderer = renderer.clone();
                let id = reports[i % reports.len()];
                async move {
                    let data = lab::issued_report_data(&cx.s, id).await?;
                    let pdf = tokio::task::spawn_blocking(move || choucha_documents::test_report_pdf(&renderer, &data))
                        .await??;
                    Ok(pdf.len())
                }
            })
            .await?;
            push(
                &mut lines,
                "test report PDF (检验报告)",
                ours,
                None,
                "its data from the store + typst render; no bare equivalent",
            );
        }
    }

    if wants("http") {
        match http(&cx, &args).await {
            Ok((ours, base)) => push(
                &mut lines,
                &format!("HTTP GET /api/v1/enterprises (name prefix, 50 rows), {} connections", args.connections),
                ours,
                Some(base),
                "wrk from a separate process; p95 column shows wrk's p90",
            ),
            Err(e) => eprintln!("HTTP 测量未完成：{e:#}"),
        }
    }

    print_table(backend, &lines);
    eprintln!("用时 {:.0} 秒", started.elapsed().as_secs_f64());
    if let Some(p) = &args.json {
        std::fs::write(p, serde_json::to_vec_pretty(&serde_json::json!({"backend": backend, "lines": lines}))?)?;
    }
    cx.s.store.close().await?;
    Ok(ExitCode::SUCCESS)
}

fn push(lines: &mut Vec<Line>, op: &str, ours: Stats, baseline: Option<Stats>, note: &str) {
    eprintln!("  {op}: p50 {:.2} ms", ours.p50_ms);
    lines.push(Line { operation: op.into(), ours, baseline, note: note.into() });
}

fn print_table(backend: &str, lines: &[Line]) {
    println!("\n{backend}");
    println!(
        "| operation | ours p50 | p95 | p99 | baseline p50 | p95 | p99 | ratio p50 | ratio p95 | note |\n\
         | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
    );
    for l in lines {
        let o = &l.ours;
        let (b50, b95, b99, r50, r95) = match &l.baseline {
            Some(b) => (
                format!("{:.2}", b.p50_ms),
                format!("{:.2}", b.p95_ms),
                format!("{:.2}", b.p99_ms),
                ratio(o.p50_ms, b.p50_ms),
                ratio(o.p95_ms, b.p95_ms),
            ),
            None => ("—".into(), "—".into(), "—".into(), "—".into(), "—".into()),
        };
        let note = match (o.rps, l.baseline.as_ref().and_then(|b| b.rps)) {
            (Some(a), Some(b)) => format!("{:.0} req/s vs {:.0} req/s ({:.0}%); {}", a, b, 100.0 * a / b, l.note),
            _ => l.note.clone(),
        };
        println!(
            "| {} | {:.2} | {:.2} | {:.2} | {b50} | {b95} | {b99} | {r50} | {r95} | {note} |",
            l.operation, o.p50_ms, o.p95_ms, o.p99_ms
        );
    }
}

fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 { format!("{:.1}×", a / b) } else { "—".into() }
}

/// Both servers in this process, wrk (a separate process) against each in turn.
async fn http(cx: &Ctx, args: &BenchArgs) -> anyhow::Result<(Stats, Stats)> {
    which("wrk").context("wrk 未安装（apt-get install -y wrk）")?;
    let token = svc(auth::issue_token(&cx.s, "regulator", demo::PASSWORD).await)?.token;
    let dir = std::env::temp_dir().join(format!("choucha-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let lua = dir.join("auth.lua");
    std::fs::write(&lua, format!("wrk.headers[\"Authorization\"] = \"Bearer {token}\"\n"))?;

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let ours_l = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let ours_addr = ours_l.local_addr()?;
    let state = choucha_web::AppState { services: cx.s.clone(), secure_cookies: false };
    let mut rx = stop_rx.clone();
    let ours_srv = tokio::spawn(choucha_web::serve(ours_l, state, async move {
        let _ = rx.wait_for(|s| *s).await;
    }));
    let bare_l = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let bare_addr = bare_l.local_addr()?;
    let mut rx = stop_rx.clone();
    let bare = cx.bare.clone();
    let bare_srv = tokio::spawn(async move {
        axum::serve(bare_l, super::bare::router(bare))
            .with_graceful_shutdown(async move {
                let _ = rx.wait_for(|s| *s).await;
            })
            .await
    });
    let prefix = "%E5%A4%A7%E5%90%8C%E5%B8%82%E5%8D%8E"; // 大同市华
    let ours_url = format!("http://{ours_addr}/api/v1/enterprises?q={prefix}&limit=50");
    let bare_url = format!("http://{bare_addr}/bare/enterprises?q={prefix}&division=1402");
    let ours = wrk(&lua, &ours_url, args).await?;
    let base = wrk(&lua, &bare_url, args).await?;
    let _ = stop_tx.send(true);
    let _ = ours_srv.await;
    let _ = bare_srv.await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok((ours, base))
}

fn which(cmd: &str) -> anyhow::Result<()> {
    let ok = std::process::Command::new("sh").args(["-c", &format!("command -v {cmd}")]).output()?.status.success();
    if ok { Ok(()) } else { bail!("{cmd} not found") }
}

/// One wrk run (after a short warm-up run); parses requests/s and the latency distribution.
async fn wrk(lua: &std::path::Path, url: &str, args: &BenchArgs) -> anyhow::Result<Stats> {
    let run = |secs: u64| {
        tokio::process::Command::new("wrk")
            .arg("-t2")
            .arg(format!("-c{}", args.connections))
            .arg(format!("-d{secs}s"))
            .arg("--latency")
            .arg("-s")
            .arg(lua)
            .arg(url)
            .output()
    };
    run(2).await?;
    let out = run(args.http_seconds).await?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    if text.contains("Non-2xx") {
        bail!("wrk: non-2xx answers from {url}:\n{text}");
    }
    let num = |line_start: &str| -> Option<f64> {
        text.lines().find(|l| l.trim_start().starts_with(line_start)).and_then(|l| {
            let v = l.trim_start().trim_start_matches(line_start).trim();
            parse_ms(v.split_whitespace().next()?)
        })
    };
    let rps = text
        .lines()
        .find(|l| l.starts_with("Requests/sec:"))
        .and_then(|l| l.trim_start_matches("Requests/sec:").trim().parse::<f64>().ok())
        .with_context(|| format!("wrk output:\n{text}"))?;
    let reqs = text
        .lines()
        .find(|l| l.contains("requests in"))
        .and_then(|l| l.split_whitespace().next()?.parse::<usize>().ok())
        .unwrap_or(0);
    Ok(Stats {
        n: reqs,
        p50_ms: num("50%").unwrap_or(0.0),
        p95_ms: num("90%").unwrap_or(0.0),
        p99_ms: num("99%").unwrap_or(0.0),
        mean_ms: 0.0,
        rps: Some(rps),
    })
}

/// wrk's "1.23ms", "456.00us", "1.02s".
fn parse_ms(v: &str) -> Option<f64> {
    if let Some(x) = v.strip_suffix("us") {
        x.parse::<f64>().ok().map(|x| x / 1000.0)
    } else if let Some(x) = v.strip_suffix("ms") {
        x.parse().ok()
    } else if let Some(x) = v.strip_suffix('s') {
        x.parse::<f64>().ok().map(|x| x * 1000.0)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let s = Stats::of((1..=100).map(Duration::from_millis).collect());
        assert_eq!((s.p50_ms, s.p95_ms, s.p99_ms), (50.0, 95.0, 99.0));
    }

    #[test]
    fn wrk_units() {
        assert_eq!(parse_ms("456.00us"), Some(0.456));
        assert_eq!(parse_ms("1.50ms"), Some(1.5));
        assert_eq!(parse_ms("1.02s"), Some(1020.0));
    }

    #[test]
    fn prefix_range_is_above_the_prefix() {
        assert!(super::super::bare::prefix_upper("大同").as_str() > "大同市华");
    }
}
