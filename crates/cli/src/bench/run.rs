//! `choucha bench`: measures, on data made by `bench-data`, what users trigger — through the service
//! layer ("ours") and through the bare sqlx queries or the bare axum server ("baseline") in the same
//! run — and prints p50/p95/p99 with the ratio.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use choucha_domain::draw::{self, Candidate, DrawInput, SamplerCandidate};
use choucha_service::draws::{DrawFilters, DrawRequest};
use choucha_service::lab::{self, WorklistQuery};
use choucha_service::registry::RegistryQuery;
use choucha_service::{Actor, Services, auth, draws, plans, registry, sampling, statistics};
use sea_orm::{ConnectionTrait, Statement};

use super::bare::Bare;
use super::clicks::{ClickData, RecordInput, clicks};
use super::stats::{Line, Size, Stats, comparison_table, measure, print_table, push};
use super::wrk::http;
use crate::commands::open;
use crate::config::Settings;
use choucha_seed::bench::{self as data, DRAW_PLAN_TITLE, PROVINCE_REGULATOR, SAMPLER_PREFIX};

#[derive(Debug, Clone)]
pub struct BenchArgs {
    pub iterations: usize,
    pub warmup: usize,
    pub http_seconds: u64,
    pub connections: u32,
    pub json: Option<std::path::PathBuf>,
    pub only: Option<String>,
    /// Another run's `--json` file (another data size): print the two sizes side by side.
    pub compare: Option<std::path::PathBuf>,
}

pub(super) fn svc<T>(r: choucha_service::Result<T>) -> anyhow::Result<T> {
    r.map_err(|e| anyhow::anyhow!("{e}"))
}

struct Ctx {
    s: Services,
    bare: Bare,
    /// A regulator of the bureau organising the big plan.
    organiser: Actor,
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
    // The bench signs in its own users by password only: no second factor is asked here.
    let s = open(settings).await?.with_policy(choucha_service::auth::SecurityPolicy {
        second_factor_roles: Vec::new(),
        ..settings.security.clone()
    });
    let bare = match s.store().backend() {
        sea_orm::DbBackend::Postgres => Bare::Pg(s.store().reader().get_postgres_connection_pool().clone()),
        _ => Bare::Lite(s.store().reader().get_sqlite_connection_pool().clone()),
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
        .context("基准数据中缺少随机抽取计划的产品（请先运行 choucha bench-data）")?;
    let uid = |name: String| {
        let bare = bare.clone();
        async move { bare.ids(&format!("SELECT id FROM users WHERE username = '{name}'")).await }
    };
    let organiser = svc(auth::actor_for_user(
        &s,
        *uid(PROVINCE_REGULATOR.into())
            .await?
            .first()
            .context("基准数据中缺少省级监管账号（请先运行 choucha bench-data）")?,
    )
    .await)?;
    let regulator = svc(auth::actor_for_user(
        &s,
        *uid("regulator".into())
            .await?
            .first()
            .context("基准数据中缺少监管账号 regulator（请先运行 choucha bench-data）")?,
    )
    .await)?;
    let sampler = svc(auth::actor_for_user(
        &s,
        *uid(format!("{SAMPLER_PREFIX}0_00"))
            .await?
            .first()
            .context("基准数据中缺少抽样人员账号（请先运行 choucha bench-data）")?,
    )
    .await)?;
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
    let cx = Ctx { s, bare, organiser, regulator, big_plan, draw_item, sampler, tester, prefixes, usccs };
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
        let org = tester.org_id.context("检验人员未属于任何检验机构")?;
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
            async move { svc(plans::get(&cx.s, &cx.organiser, cx.big_plan).await).map(|p| p.total_tasks) }
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
            Statement::from_sql_and_values(cx.s.store().backend(), q, [id.into()])
        };
        let ours = measure(w, n, |_| {
            let cx = &cx;
            let st = stmt(cx.big_plan);
            async move { Ok(cx.s.store().reader().query_all_raw(st).await?.len()) }
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
            async move { svc(statistics::plan_figures(&cx.s, &cx.organiser, cx.big_plan).await).map(|f| f.sampled) }
        })
        .await?;
        push(&mut lines, "plan figures (statistics::plan_figures)", ours, None, "summary table totals, by item");
        let ours = measure(w, n, |_| {
            let cx = &cx;
            async move {
                svc(statistics::quality_analysis(&cx.s, &cx.organiser, cx.big_plan).await).map(|a| a.by_division.len())
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
            async move { svc(statistics::summary_xlsx(&cx.s, &cx.organiser, cx.big_plan).await).map(|x| x.len()) }
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
                    candidates: c
                        .into_iter()
                        .map(|(uscc, division_code)| Candidate { uscc, division_code, risk_class: None })
                        .collect(),
                    quota: 100,
                    stratified: false,
                    samplers,
                    team_size: 2,
                    risk_weights: None,
                };
                let r = draw::run(&input).map_err(|e| anyhow::anyhow!("随机抽取失败：{}", e.message))?;
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
        // Each draw is taken back after it is timed (its tasks, its record, its audit records): every
        // draw starts from the same data, so Datong's pool never runs out.
        let stamp = cx.s.now().format("%H%M%S").to_string();
        let mut d = Vec::with_capacity(dn);
        for i in 0..dw + dn {
            let req = DrawRequest {
                item_id: cx.draw_item,
                quota: 100,
                seed: format!("bench-{stamp}-{i}"),
                stratified: false,
                team_size: None,
                filters: DrawFilters::default(),
                risk_weights: None,
            };
            let head = cx.bare.audit_head().await?;
            let t = Instant::now();
            let drawn = svc(draws::run(&cx.s, &cx.regulator, req).await)?;
            if i >= dw {
                d.push(t.elapsed());
            }
            cx.bare.undo_draw(drawn.id, &head).await?;
        }
        push(
            &mut lines,
            "draw of 100 with exclusions (creates 100 tasks)",
            Stats::of(d),
            Some(base),
            "baseline: the indexed candidate read + the domain draw, no writes; each draw taken back after timing",
        );
    }

    if wants("record") {
        let m = n.min(200);
        let pool = record_pool(&cx, 2 * (m + w)).await?;
        // A small data set may hold fewer such tasks than asked: measure what it has.
        let m = (pool.len() / 2).saturating_sub(w).min(m);
        if m == 0 {
            bail!("进行中且未填写抽样单的任务不足 {}", 2 * (w + 1));
        }
        let fields: Vec<String> = pool.iter().map(|p| p.2.clone()).collect();
        let mut actors = std::collections::HashMap::new();
        for (_, u, _) in &pool[..m + w] {
            if !actors.contains_key(u) {
                actors.insert(*u, svc(auth::actor_for_user(&cx.s, *u).await)?);
            }
        }
        // The pool holds only tasks rule 5 allows (no other batch of the item, at most one other of
        // the plan); a refusal all the same (rule 22) is counted, not timed.
        let mut d = Vec::with_capacity(m);
        let mut refused = 0usize;
        for (i, (task, user, _)) in pool.iter().enumerate().take(m + w) {
            let actor = actors.get(user).cloned().context("抽样记录的抽样人员不在基准数据中")?;
            let f = serde_json::from_str(&fields[i])?;
            let t = Instant::now();
            match sampling::save_record(&cx.s, &actor, *task, f).await {
                Ok(_) if i >= w => d.push(t.elapsed()),
                Ok(_) => {}
                Err(choucha_service::ServiceError::Rule(_) | choucha_service::ServiceError::Invalid(_)) => refused += 1,
                Err(e) => bail!("保存抽样记录失败：{e}"),
            }
        }
        let ours = Stats::of(d);
        let off = m + w;
        let base = measure(w, m, |i| {
            let cx = &cx;
            let (task, user, _) = pool[off + i];
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
            async move { svc(sampling::record_pdf(&cx.s, &cx.organiser, t).await).map(|b| b.len()) }
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

    if wants("http-clicks") {
        let m = n.min(200);
        let records = record_pool(&cx, 2 * (m + w)).await?;
        let sampler = format!("{SAMPLER_PREFIX}0_00");
        let d = ClickData {
            s: &cx.s,
            bare: &cx.bare,
            sampler: &sampler,
            organiser: PROVINCE_REGULATOR,
            big_plan: cx.big_plan,
            prefixes: &cx.prefixes,
            records: &records,
        };
        clicks(&d, w, n, &mut lines).await?;
    }

    if wants("http") {
        match http(&cx.s, &cx.bare, &args).await {
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
    let count = |q: &'static str| {
        let bare = cx.bare.clone();
        async move { anyhow::Ok(bare.ids(q).await?.first().copied().unwrap_or(0)) }
    };
    let size = Size {
        enterprises: count("SELECT COUNT(*) FROM enterprises").await?,
        samples: count("SELECT COUNT(*) FROM sampling_tasks").await?,
    };
    if let Some(p) = &args.json {
        let out = serde_json::json!({"backend": backend, "size": size, "lines": lines});
        std::fs::write(p, serde_json::to_vec_pretty(&out)?)?;
    }
    if let Some(p) = &args.compare {
        let other: serde_json::Value =
            serde_json::from_slice(&std::fs::read(p).with_context(|| format!("无法读取对比文件“{}”", p.display()))?)?;
        print!("{}", comparison_table(size, &lines, &other)?);
    }
    cx.s.close().await?;
    Ok(ExitCode::SUCCESS)
}

/// Up to `count` in-progress tasks without a record that rule 5 allows a record on (no other batch
/// of the item, at most one other of the plan, at the enterprise), newest first, with a sampler of
/// each and generated record fields (JSON).
async fn record_pool(cx: &Ctx, count: usize) -> anyhow::Result<Vec<RecordInput>> {
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
             GROUP BY t.id ORDER BY t.id DESC LIMIT {count}",
            live = "'assigned', 'in_progress', 'sampled', 'refusal_pending', 'refused'"
        ))
        .await?;
    if pool.is_empty() {
        return Ok(Vec::new());
    }
    let products = cx
        .bare
        .texts(&format!(
            "SELECT i.product FROM sampling_tasks t JOIN plan_items i ON i.id = t.item_id WHERE t.id IN ({}) ORDER BY t.id DESC",
            pool.iter().map(|p| p.0.to_string()).collect::<Vec<_>>().join(",")
        ))
        .await?;
    let mut g = data::Gen::new(&format!("bench-records-{}", pool[0].0));
    Ok(pool
        .iter()
        .zip(products)
        .map(|((task, user), p)| {
            let f = data::record_fields(&mut g, data::product_index(&p), cx.s.now(), 90_000_000 + *task);
            (*task, *user, serde_json::to_string(&f).unwrap_or_default())
        })
        .collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn prefix_range_is_above_the_prefix() {
        assert!(super::super::bare::prefix_upper("大同").as_str() > "大同市华");
    }
}
