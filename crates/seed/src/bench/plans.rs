//! The generated plans: one of up to 100,000 samples (20 items) and the rest of up to 10,000 (10
//! items) by the Shanxi bureaus over the last year, and Datong's draw plan; each item its own quota
//! group, with its published implementation rules and (but in the draw plan) its draw record.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::json;

use super::columns::{DRAW_COLS, ITEM_COLS, PLAN_COLS, RULES_COLS};
use super::generator::{Gen, rules_body};
use super::reference::{CITY_BUREAUS, PRODUCTS, SHANXI_CITIES};
use super::sink::{Batch, Sink, V};
use super::{BIG_PLAN_SAMPLES, Counts, Ctx, DOC_PREFIX, DRAW_PLAN_TITLE, DataArgs, PLAN_SAMPLES};

/// (samples, items, area, organiser id, created, state) of a generated plan.
type PlanSpec = (u64, u64, String, i64, DateTime<Utc>, &'static str);

pub(super) struct ItemPlan {
    pub(super) id: i64,
    pub(super) plan_id: i64,
    pub(super) draw_id: i64,
    /// The published implementation rules version.
    pub(super) rules_id: i64,
    pub(super) product: usize,
    pub(super) sampling_org: usize,
    /// Index of the testing institution (in `testing_orgs`).
    pub(super) testing_org: usize,
    pub(super) tasks: u64,
    pub(super) created: DateTime<Utc>,
    /// Division prefix of the organiser's area ("14" or "14xx").
    pub(super) area: String,
    pub(super) due: NaiveDate,
}

/// Writes the plans, quota groups, items, rules and draws; returns the items that get tasks.
pub(super) async fn load(
    sink: &Sink,
    g: &mut Gen,
    cx: &Ctx,
    args: &DataArgs,
    counts: &mut Counts,
) -> anyhow::Result<Vec<ItemPlan>> {
    let mut sizes = Vec::new();
    let mut left = args.samples;
    let big = BIG_PLAN_SAMPLES.min(left / 10).max(left.min(1));
    if big > 0 {
        sizes.push((big, 20u64));
        left -= big;
    }
    let per = if args.samples >= 10 * PLAN_SAMPLES { PLAN_SAMPLES } else { (args.samples / 10).max(1) };
    while left > 0 {
        let n = per.min(left);
        sizes.push((n, 10));
        left -= n;
    }
    let mut plan_id = sink.next_id("plans").await?;
    let mut group_id = sink.next_id("quota_groups").await?;
    let mut item_id = sink.next_id("plan_items").await?;
    let mut rules_id = sink.next_id("rules_versions").await?;
    let mut draw_id = sink.next_id("draws").await?;
    let (mut plans, mut groups, mut items, mut rules, mut draws) =
        (Batch::default(), Batch::default(), Batch::default(), Batch::default(), Batch::default());
    let mut item_plans: Vec<ItemPlan> = Vec::new();
    let n_plans = sizes.len() as i64;
    // The draw plan of Datong: one item per product, quotas left open, no tasks of its own.
    let mut all_plans: Vec<PlanSpec> = Vec::new();
    let mut titles = Vec::new();
    for (k, (samples, n_items)) in sizes.iter().enumerate() {
        let age = (k as i64 * 360) / n_plans.max(1);
        let created = cx.now - Duration::days(age + 5);
        let year = created.format("%Y");
        // The first plan and every twelfth are the province's; the others go round the cities.
        let city = if k == 0 || (k - 1) % 12 == 11 { None } else { Some((k - 1) % 12) };
        let (code, area, title) = match city {
            None if k == 0 => ("sx-amr", "14".to_string(), format!("{year}年山西省产品质量省级监督抽查")),
            None => ("sx-amr", "14".to_string(), format!("{year}年山西省产品质量监督抽查（第{k}批）")),
            Some(c) => (
                CITY_BUREAUS[c],
                format!("14{:02}", c + 1),
                format!("{year}年{}产品质量监督抽查（第{k}批）", SHANXI_CITIES[c]),
            ),
        };
        let state = if age > 270 { "closed" } else { "issued" };
        all_plans.push((*samples, *n_items, area, cx.org(code)?, created, state));
        titles.push(title);
    }
    all_plans.push((0, PRODUCTS.len() as u64, "1402".into(), cx.org("dt-amr")?, cx.now - Duration::days(3), "issued"));
    titles.push(DRAW_PLAN_TITLE.into());
    for (k, (samples, n_items, area, organiser, created, state)) in all_plans.iter().enumerate() {
        let draw_plan = k == all_plans.len() - 1;
        let deadline = (*created + Duration::days(90)).date_naive();
        plans.push(vec![
            plan_id.into(),
            (created.format("%Y").to_string().parse::<i32>().unwrap_or(2025)).into(),
            titles[k].clone().into(),
            (*organiser).into(),
            format!("{DOC_PREFIX}〔{}〕{}号", created.format("%Y"), k + 1).into(),
            "流通、生产".into(),
            (*state).into(),
            deadline.into(),
            (deadline + Duration::days(10)).into(),
            (deadline + Duration::days(30)).into(),
            V::I(5),
            V::I((*samples as i64) * 100_000),
            "".into(),
            (*created).into(),
            (*created - Duration::days(2)).into(),
            (*created).into(),
        ]);
        let first = g.below(PRODUCTS.len() as u64) as usize;
        for n in 0..*n_items {
            let product = if draw_plan { n as usize } else { (first + n as usize * 7) % PRODUCTS.len() };
            let (name, category, scopes, standard, unit, _) = PRODUCTS[product];
            let tasks = if draw_plan { 0 } else { samples / n_items + u64::from(n < samples % n_items) };
            let so = if draw_plan { 2 } else { (k + n as usize) % 3 };
            let quota = if draw_plan { 1_000_000 } else { tasks as i64 };
            groups.push(vec![group_id.into(), plan_id.into(), quota.into()]);
            items.push(vec![
                item_id.into(),
                plan_id.into(),
                group_id.into(),
                (n as i64).into(),
                (n + 1).to_string().into(),
                category.into(),
                name.into(),
                scopes.into(),
                cx.sampling_orgs[so].into(),
                cx.testing_orgs[(k + n as usize) % 3].into(),
                V::Null,
            ]);
            let body = serde_json::to_string(&rules_body(name, standard, unit))?;
            rules.push(vec![
                rules_id.into(),
                item_id.into(),
                1i64.into(),
                "published".into(),
                body.into(),
                "".into(),
                (*created).into(),
                (*created).into(),
                cx.regulator.into(),
                (*created).into(),
                (*created).into(),
                (*created).into(),
            ]);
            if !draw_plan {
                draws.push(vec![
                    draw_id.into(),
                    plan_id.into(),
                    item_id.into(),
                    (tasks as i64).into(),
                    format!("{}-{k}-{n}", args.seed).into(),
                    false.into(),
                    2i64.into(),
                    choucha_domain::draw::ALGORITHM.into(),
                    json!({"division": area, "snapshot": "bench-data"}).to_string().into(),
                    (tasks as i64 * 20).into(),
                    "".into(),
                    "[]".into(),
                    "[]".into(),
                    "[]".into(),
                    json!({"algorithm": choucha_domain::draw::ALGORITHM, "candidate_hash": "", "drawn": []})
                        .to_string()
                        .into(),
                    "".into(),
                    V::Null,
                    V::Null,
                    true.into(),
                    cx.regulator.into(),
                    (*created).into(),
                ]);
                item_plans.push(ItemPlan {
                    id: item_id,
                    plan_id,
                    draw_id,
                    rules_id,
                    product,
                    sampling_org: so,
                    testing_org: (k + n as usize) % 3,
                    tasks,
                    created: *created,
                    area: area.clone(),
                    due: deadline,
                });
                draw_id += 1;
            }
            group_id += 1;
            item_id += 1;
            rules_id += 1;
            counts.items += 1;
        }
        plan_id += 1;
        counts.plans += 1;
    }
    sink.write("plans", &PLAN_COLS, &plans).await?;
    sink.write("quota_groups", &["id", "plan_id", "quota"], &groups).await?;
    sink.write("plan_items", &ITEM_COLS, &items).await?;
    sink.write("rules_versions", &RULES_COLS, &rules).await?;
    sink.write("draws", &DRAW_COLS, &draws).await?;
    Ok(item_plans)
}
