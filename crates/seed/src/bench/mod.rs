//! The data set of `choucha bench-data`: a synthetic national-scale deployment, the same for a given
//! seed and day (the CLI's `bench-data` opens the database and calls [`generate`]).
//!
//! On top of the demo deployment (its bureaus, institutions, accounts and published 车用柴油 rules,
//! loaded first when missing) it adds, with bulk inserts:
//! - `--enterprises` registry entries with valid USCCs over real-looking division codes of all 31
//!   provinces (a fifth of them in Shanxi, whose bureaus the demo has), each with kinds, size, product
//!   lines, licences and a status;
//! - 180 samplers of the three sampling institutions (password as the demo's);
//! - plans by the Shanxi bureaus: one of 100,000 samples (20 items) and the rest in plans of 10,000
//!   (10 items), spread over the last year, each item with a published implementation rules version and
//!   its draw record; and a draw plan for Datong (quota left open) that `choucha bench` draws from;
//! - `--samples` sampling tasks in every state with their teams; signed (locked) sampling records with
//!   the signatures of both samplers and the enterprise, draft records of tasks in progress, refusals
//!   (co-signed or pending) and problem reports, and the sealed and dispatched custody events; no
//!   enterprise gets more than two batches of a plan or two of one item (rule 5);
//! - 20 testers, 3 report approvers and a sample custodian per testing institution, and the
//!   laboratory side of sampled tasks (`lab_samples` with unique random-looking blind codes, results,
//!   prepared / reviewed / approved reports, and the received and stored custody events).
//!
//! The generated rows are a deployment snapshot, not user actions: the load writes ONE audit record
//! (`bench_data.load`, with the seed and the counts), so the audit chain stays valid.
//! Deterministic: the generator is ChaCha20 seeded from the seed text; timestamps count back from
//! `--as-of` (default: today, UTC).
//!
//! Stages, each a module: `staff` (users), `registry` (enterprises), `plans` (plans, items, rules,
//! draws), `tasks` (tasks, records, signatures, outcomes, custody) and `lab` (the laboratory side of
//! each dispatched sample); `reference` holds the tables they draw from, `generator` the seeded
//! generator, `columns` the column lists and `sink` the bulk writer.

use std::collections::BTreeMap;
use std::io::IsTerminal;

use anyhow::{Context, bail};
use choucha_service::Services;
use choucha_store::audit::{self, AuditActor, AuditEntry};
use chrono::{DateTime, NaiveDate, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use sea_orm::sqlx::{self, Row};
use serde_json::json;

mod columns;
mod generator;
mod lab;
mod plans;
mod reference;
mod registry;
mod sink;
mod staff;
mod tasks;

use columns::{BULK_TABLES, ID_TABLES};
use generator::midnight;
pub use generator::{Gen, record_fields};
pub use reference::product_index;
use sink::{SavedIndex, Sink, on_pool};

/// The marker of generated plans (their document number starts with it).
pub const DOC_PREFIX: &str = "基准数据";
/// Title of the plan `choucha bench` draws from.
pub const DRAW_PLAN_TITLE: &str = "基准数据：大同市随机抽取计划";
/// Username of the generated regulator of the provincial bureau (organiser of the big plan).
pub const PROVINCE_REGULATOR: &str = "bench_province";
/// Prefix of the generated samplers' usernames.
pub const SAMPLER_PREFIX: &str = "bench_s";
/// Prefix of the generated testers' usernames (`bench_t0_00` …), approvers' (`bench_r0_0` …) and
/// custodians' (`bench_c0` …).
pub const TESTER_PREFIX: &str = "bench_t";
const SAMPLERS_PER_ORG: usize = 60;
const TESTERS_PER_ORG: usize = 20;
const APPROVERS_PER_ORG: usize = 3;
const BIG_PLAN_SAMPLES: u64 = 100_000;
const PLAN_SAMPLES: u64 = 10_000;
/// Rows a bulk batch carries.
const BATCH: usize = 20_000;
/// A 1×1 PNG: the signature image of generated signatures.
pub const PNG: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

#[derive(Debug, Clone)]
pub struct DataArgs {
    pub enterprises: u64,
    pub samples: u64,
    pub seed: String,
    pub as_of: Option<NaiveDate>,
}

/// What was generated.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Counts {
    pub enterprises: u64,
    pub users: u64,
    pub plans: u64,
    pub items: u64,
    pub tasks: u64,
    pub records: u64,
    pub signatures: u64,
    pub outcomes: u64,
    pub custody_events: u64,
    pub lab_samples: u64,
    pub lab_results: u64,
    pub lab_reports: u64,
}

/// What every stage reads: the demo's institutions and accounts, and the day the data counts back from.
struct Ctx {
    /// Organisation ids by code.
    orgs: BTreeMap<String, i64>,
    /// The three sampling institutions (`sxjc`, `tj51`, `sxgh`).
    sampling_orgs: [i64; 3],
    /// The three testing institutions (`sxjc`, `tj51`, `tfb`).
    testing_orgs: [i64; 3],
    regulator: i64,
    local_regulator: i64,
    as_of: NaiveDate,
    now: DateTime<Utc>,
}

impl Ctx {
    fn org(&self, code: &str) -> anyhow::Result<i64> {
        org_id(&self.orgs, code)
    }
}

fn org_id(orgs: &BTreeMap<String, i64>, code: &str) -> anyhow::Result<i64> {
    orgs.get(code).copied().with_context(|| format!("演示机构 {code} 不存在"))
}

async fn orgs(sink: &Sink) -> anyhow::Result<BTreeMap<String, i64>> {
    let rows: Vec<(i64, String)> = on_pool!(sink, p => sqlx::query("SELECT id, code FROM organisations")
        .fetch_all(p)
        .await?
        .into_iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect::<Result<_, sqlx::Error>>()?);
    Ok(rows.into_iter().map(|(id, code)| (code, id)).collect())
}

async fn user_id(sink: &Sink, username: &str) -> anyhow::Result<i64> {
    let id = sink.scalar_i64(&format!("SELECT MAX(id) FROM users WHERE username = '{username}'")).await?;
    if id == 0 {
        bail!("演示账号 {username} 不存在");
    }
    Ok(id)
}

struct Progress {
    bar: ProgressBar,
}

impl Progress {
    fn new(total: u64) -> Progress {
        let bar = if std::io::stderr().is_terminal() { ProgressBar::new(total) } else { ProgressBar::hidden() };
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} {msg:<12} [{bar:32}] {human_pos}/{human_len} 行 {per_sec:>12} 已用 {elapsed} 剩余 {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        Progress { bar }
    }
    fn stage(&self, msg: &'static str) {
        self.bar.set_message(msg);
    }
    fn inc(&self, n: usize) {
        self.bar.inc(n as u64);
    }
}

/// What `generate` did: the counts and the day the data counts back from.
#[derive(Debug, Clone)]
pub struct Generated {
    pub counts: Counts,
    pub as_of: NaiveDate,
}

/// Generates the data set into the database of `services` (`database_url` is the same database, opened
/// again for bulk writing). `load_demo` is called first when the demo deployment is missing; a
/// database that already holds generated data is refused. Writes the one `bench_data.load` audit
/// record and closes nothing: the caller closes `services`.
pub async fn generate(
    services: &Services,
    database_url: &str,
    args: &DataArgs,
    load_demo: impl AsyncFnOnce(&Services) -> anyhow::Result<()>,
) -> anyhow::Result<Generated> {
    let store = services.store();
    let pg = match store.backend() {
        sea_orm::DbBackend::Postgres => Some(store.reader().get_postgres_connection_pool().clone()),
        _ => None,
    };
    let sink = Sink::open(database_url, pg.as_ref()).await?;
    if sink.scalar_i64("SELECT COUNT(*) FROM organisations WHERE code = 'sx-amr'").await? == 0 {
        load_demo(services).await?;
    }
    if sink.scalar_i64(&format!("SELECT COUNT(*) FROM plans WHERE doc_no LIKE '{DOC_PREFIX}%'")).await? > 0 {
        bail!("该数据库已生成过基准数据；请使用新的数据库");
    }
    let as_of = args.as_of.unwrap_or_else(|| services.today());
    let counts = load(&sink, args, as_of).await?;
    sink.close().await;

    // One audit record for the whole snapshot.
    let tx = store.begin().await?;
    audit::append(
        &tx,
        &AuditActor::system("bench-data"),
        AuditEntry::new(
            "bench_data.load",
            "deployment",
            &args.seed,
            json!(null),
            json!({"seed": args.seed, "as_of": as_of, "counts": counts}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(Generated { counts, as_of })
}

async fn load(sink: &Sink, args: &DataArgs, as_of: NaiveDate) -> anyhow::Result<Counts> {
    let mut g = Gen::new(&args.seed);
    let mut counts = Counts::default();
    let progress = Progress::new(args.enterprises + args.samples);
    let orgs = orgs(sink).await?;
    let org = |code: &str| org_id(&orgs, code);
    let cx = Ctx {
        sampling_orgs: [org("sxjc")?, org("tj51")?, org("sxgh")?],
        testing_orgs: [org("sxjc")?, org("tj51")?, org("tfb")?],
        regulator: user_id(sink, "regulator").await?,
        local_regulator: user_id(sink, "local_regulator").await?,
        as_of,
        now: midnight(as_of),
        orgs,
    };

    let mut saved: Vec<SavedIndex> = Vec::new();
    for t in BULK_TABLES {
        saved.extend(sink.drop_indexes(t).await?);
    }

    progress.stage("抽样人员");
    let staff = staff::load(sink, &mut g, &cx).await?;
    counts.users = staff.users;
    progress.stage("企业名录");
    let shanxi = registry::load(sink, &mut g, &cx, args.enterprises, &progress).await?;
    counts.enterprises = args.enterprises;
    progress.stage("计划");
    let item_plans = plans::load(sink, &mut g, &cx, args, &mut counts).await?;
    progress.stage("抽样任务");
    tasks::load(sink, &mut g, &cx, &staff, &shanxi, &item_plans, &progress, &mut counts).await?;

    progress.stage("建立索引");
    sink.restore_indexes(&saved).await?;
    tasks::product_keys(sink).await?;
    progress.stage("统计信息");
    let mut all: Vec<&str> = BULK_TABLES.to_vec();
    all.extend([
        "record_product_keys",
        "product_line_names",
        "users",
        "user_roles",
        "plans",
        "quota_groups",
        "plan_items",
        "rules_versions",
        "draws",
    ]);
    sink.finish(&ID_TABLES, &all).await?;
    progress.bar.finish_and_clear();
    Ok(counts)
}
