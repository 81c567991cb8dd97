//! A plan's results for the organising bureau (结果报送, issue 6): the figures (sampled, qualified,
//! unqualified, refusals; per item, division, enterprise size, failing item, and against earlier
//! plans of the same products), the summary table (检验情况汇总表, XLSX) and the quality analysis
//! report (质量分析报告, PDF with charts).
//!
//! Figures come from `GROUP BY` queries in `choucha_store::statistics`; only the table's own rows
//! (one per issued report of the plan, which the table prints anyway) are loaded, in chunks.
//! A sample's final result is `lab_samples.qualified` / `conclusion` (a re-test overwrites them);
//! it counts once its report is issued. Who: the organising bureau's regulators, or an admin.

use choucha_domain::implementation_rules::ItemJudgement;
use std::collections::HashMap;

use choucha_store::statistics::{self as stats, Tally};
use choucha_store::{announcements as store, enterprises, organisations, plans as store_plans};
use sea_orm::DatabaseConnection;
use serde::Serialize;

use crate::access::Ask;
use crate::lab::ReportContent;
use crate::{Actor, Result, ServiceError, Services};
use choucha_domain::access::Action;

/// Reports are loaded this many at a time when the rows of a plan are built.
const CHUNK: usize = 500;

/// The organising bureau's regulators (or an admin) see a plan's results; nobody else, and never
/// a tester (rule 13: the rows name enterprises).
pub(crate) async fn require_organiser(s: &Services, actor: &Actor, plan_id: i64) -> Result<store_plans::PlanRow> {
    let plan = store_plans::get_plan(s.store.reader(), plan_id).await.map_err(ServiceError::not_found("计划"))?;
    actor
        .to_plan(plan.organising_org_id)
        .require_or(Action::ViewPlanFigures, "只有组织该抽查的部门可以查看和发布抽查结果")?;
    Ok(plan)
}

/// One issued sample of a plan, as the announcement and the summary table print it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ResultLine {
    pub report_id: i64,
    pub report_no: String,
    pub item_id: i64,
    #[serde(default)]
    pub task_id: i64,
    pub product: String,
    /// 被抽样单位
    pub enterprise: String,
    pub enterprise_address: String,
    pub division_code: String,
    /// 标称生产者 (the enterprise itself when the record names no other)
    pub producer: String,
    pub brand: String,
    pub model: String,
    /// 生产日期/批号
    pub batch: String,
    pub sampled_on: String,
    /// production | circulation | e_commerce
    pub domain: String,
    pub institution: String,
    pub qualified: bool,
    pub conclusion: String,
    pub failing_items: Vec<String>,
    /// 企业规模 (大型…微型), empty when unknown
    pub size: String,
}

/// One final refusal (拒检, rule 11) of a plan.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct RefusalLine {
    pub task_id: i64,
    pub item_id: i64,
    pub product: String,
    pub enterprise: String,
    pub enterprise_address: String,
    pub division_code: String,
    /// The date the local bureau co-signed the determination (China's date).
    pub determined_on: String,
}

fn size_label(s: Option<&str>) -> String {
    s.and_then(|v| v.parse::<choucha_domain::enterprise::SizeClass>().ok())
        .map(|c| c.label().to_string())
        .unwrap_or_default()
}

/// The plan's issued samples in report-number order, built a chunk of reports at a time, read
/// from `db`: the primary ([`choucha_store::Store::reader`]) for what is written from them (an
/// announcement's rows), the lagging reader for an export.
pub(crate) async fn result_lines(db: &DatabaseConnection, plan_id: i64) -> Result<Vec<ResultLine>> {
    let numbers = store::issued_report_numbers(db, plan_id).await?;
    lines_of_reports(db, plan_id, &numbers).await
}

/// The rows of these issued reports (report id, report number) of the plan, in the given order.
pub(crate) async fn lines_of_reports(
    db: &DatabaseConnection,
    plan_id: i64,
    numbers: &[(i64, String)],
) -> Result<Vec<ResultLine>> {
    let items: HashMap<i64, store_plans::ItemRow> =
        store_plans::items_of(db, plan_id).await?.into_iter().map(|i| (i.id, i)).collect();
    let mut org_names: HashMap<i64, String> = HashMap::new();
    let mut out = Vec::with_capacity(numbers.len());
    for chunk in numbers.chunks(CHUNK) {
        let ids: Vec<i64> = chunk.iter().map(|(id, _)| *id).collect();
        let reports: HashMap<i64, _> = store::reports_by_ids(db, &ids).await?.into_iter().map(|r| (r.id, r)).collect();
        let sample_ids: Vec<i64> = reports.values().map(|r| r.sample_id).collect();
        let samples: HashMap<i64, _> =
            store::samples_by_ids(db, &sample_ids).await?.into_iter().map(|x| (x.id, x)).collect();
        // Concluded re-tests: their items' judgements replace the first ones (rule 18).
        let retested: HashMap<i64, Vec<(String, ItemJudgement)>> =
            choucha_store::retests::concluded_results_of_samples(db, &sample_ids)
                .await?
                .into_iter()
                .map(|(sample, json)| {
                    let lines: Vec<crate::retests::RetestLine> = serde_json::from_str(&json).unwrap_or_default();
                    (sample, lines.into_iter().map(|l| (l.name, crate::retests::judgement_of(&l.judgement))).collect())
                })
                .collect();
        let task_ids: Vec<i64> = samples.values().map(|x| x.task_id).collect();
        let tasks: HashMap<i64, _> = store::tasks_by_ids(db, &task_ids).await?.into_iter().map(|t| (t.id, t)).collect();
        let ent_ids: Vec<i64> = tasks.values().map(|t| t.enterprise_id).collect();
        let ents: HashMap<i64, _> = enterprises::get_many(db, &ent_ids).await?.into_iter().map(|e| (e.id, e)).collect();
        let records: HashMap<i64, choucha_domain::sampling::RecordFields> =
            choucha_store::sampling::signed_records_of_tasks(db, &task_ids)
                .await?
                .into_iter()
                .filter_map(|r| serde_json::from_str(&r.fields_json).ok().map(|f| (r.task_id, f)))
                .collect();
        let missing: Vec<i64> =
            samples.values().map(|x| x.testing_org_id).filter(|o| !org_names.contains_key(o)).collect();
        for o in organisations::get_many(db, &missing).await? {
            org_names.insert(o.id, o.name);
        }
        for (id, no) in chunk {
            let Some(report) = reports.get(id) else { continue };
            let Some(sample) = samples.get(&report.sample_id) else { continue };
            // The final result (a re-test overwrites it); a sample whose correction is under way has none.
            let Some(qualified) = sample.qualified else { continue };
            let Some(task) = tasks.get(&sample.task_id) else { continue };
            let ent = ents.get(&task.enterprise_id);
            let rec = records.get(&task.id).cloned().unwrap_or_default();
            let content: ReportContent = serde_json::from_str(&report.content_json).map_err(ServiceError::internal)?;
            let ent_name = ent.map(|e| e.name.clone()).unwrap_or_default();
            let product = if rec.product_name.trim().is_empty() {
                items.get(&sample.item_id).map(|i| i.product.clone()).unwrap_or(content.product.clone())
            } else {
                rec.product_name.trim().to_string()
            };
            out.push(ResultLine {
                report_id: report.id,
                report_no: no.clone(),
                item_id: sample.item_id,
                task_id: task.id,
                product,
                enterprise: ent_name.clone(),
                enterprise_address: ent.map(|e| e.address.clone()).unwrap_or_default(),
                division_code: ent.map(|e| e.division_code.clone()).unwrap_or_default(),
                producer: if rec.producer_name.trim().is_empty() { ent_name } else { rec.producer_name.trim().into() },
                brand: rec.brand,
                model: rec.model,
                batch: rec.batch,
                sampled_on: rec.sampled_at.get(..10).unwrap_or_default().to_string(),
                domain: rec.domain,
                institution: org_names.get(&sample.testing_org_id).cloned().unwrap_or_default(),
                qualified,
                conclusion: if sample.conclusion.is_empty() {
                    content.conclusion.clone()
                } else {
                    sample.conclusion.clone()
                },
                failing_items: if qualified {
                    Vec::new()
                } else if let Some(rt) = retested.get(&sample.id) {
                    let first: Vec<(String, ItemJudgement)> = content
                        .items
                        .iter()
                        .map(|i| (i.name.clone(), crate::retests::judgement_of(&i.judgement)))
                        .collect();
                    choucha_domain::retest::retest_outcome(&first, rt).failing_items
                } else {
                    content.items.iter().filter(|i| i.judgement == "不符合").map(|i| i.name.clone()).collect()
                },
                size: size_label(ent.and_then(|e| e.size_class.as_deref())),
            });
        }
    }
    Ok(out)
}

/// The plan's final refusals (the determination co-signed by the local bureau), oldest first.
pub(crate) async fn refusal_lines(db: &DatabaseConnection, plan_id: i64) -> Result<Vec<RefusalLine>> {
    let tasks = store::refused_tasks(db, plan_id).await?;
    let task_ids: Vec<i64> = tasks.iter().map(|t| t.id).collect();
    let outcomes: HashMap<i64, _> =
        store::cosigned_refusals(db, &task_ids).await?.into_iter().map(|o| (o.task_id, o)).collect();
    let ent_ids: Vec<i64> = tasks.iter().map(|t| t.enterprise_id).collect();
    let ents: HashMap<i64, _> = enterprises::get_many(db, &ent_ids).await?.into_iter().map(|e| (e.id, e)).collect();
    let items: HashMap<i64, String> =
        store_plans::items_of(db, plan_id).await?.into_iter().map(|i| (i.id, i.product)).collect();
    Ok(tasks
        .iter()
        .map(|t| {
            let ent = ents.get(&t.enterprise_id);
            RefusalLine {
                task_id: t.id,
                item_id: t.item_id,
                product: items.get(&t.item_id).cloned().unwrap_or_default(),
                enterprise: ent.map(|e| e.name.clone()).unwrap_or_default(),
                enterprise_address: ent.map(|e| e.address.clone()).unwrap_or_default(),
                division_code: ent.map(|e| e.division_code.clone()).unwrap_or_default(),
                determined_on: outcomes
                    .get(&t.id)
                    .and_then(|o| o.cosigned_at)
                    .map(|at| choucha_domain::sampling::utc_to_local(at).date().to_string())
                    .unwrap_or_default(),
            }
        })
        .collect())
}

/// Figures of one group (an item, a division, a size class).
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct GroupFigure {
    pub key: String,
    pub label: String,
    pub sampled: i64,
    pub qualified: i64,
    pub unqualified: i64,
    /// Qualification rate in percent, one decimal (0 when nothing was sampled).
    pub rate: f64,
}

fn rate(q: i64, total: i64) -> f64 {
    if total == 0 { 0.0 } else { (q as f64 * 1000.0 / total as f64).round() / 10.0 }
}

fn group(key: String, label: String, t: &Tally) -> GroupFigure {
    GroupFigure {
        key,
        label,
        sampled: t.total(),
        qualified: t.qualified,
        unqualified: t.unqualified,
        rate: rate(t.qualified, t.total()),
    }
}

/// A plan's figures: what the summary table's totals row and the dashboard show.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PlanFigures {
    pub plan_id: i64,
    /// Issued samples (qualified + unqualified).
    pub sampled: i64,
    pub qualified: i64,
    pub unqualified: i64,
    /// Final refusals (拒检).
    pub refusals: i64,
    pub rate: f64,
    /// Per plan item (key = item id), with the item's refusals.
    pub by_item: Vec<ItemFigure>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ItemFigure {
    pub item_id: i64,
    pub product: String,
    pub sampled: i64,
    pub qualified: i64,
    pub unqualified: i64,
    pub refusals: i64,
    pub rate: f64,
}

/// The plan's figures, by `GROUP BY` (no sample is loaded). No access check: see [`plan_figures`].
pub async fn figures_of(s: &Services, plan_id: i64) -> Result<PlanFigures> {
    let db = s.store.lagging_reader();
    let items = store_plans::items_of(db, plan_id).await?;
    let tallies = stats::by_item(db, plan_id).await?;
    let refusals = stats::refusals_by_item(db, plan_id).await?;
    let mut f = PlanFigures { plan_id, ..PlanFigures::default() };
    for i in &items {
        let t = tallies.iter().find(|t| t.key == i.id.to_string()).cloned().unwrap_or_default();
        let r = refusals.iter().find(|(id, _)| *id == i.id).map(|(_, n)| *n).unwrap_or(0);
        f.by_item.push(ItemFigure {
            item_id: i.id,
            product: i.product.clone(),
            sampled: t.total(),
            qualified: t.qualified,
            unqualified: t.unqualified,
            refusals: r,
            rate: rate(t.qualified, t.total()),
        });
    }
    f.sampled = f.by_item.iter().map(|i| i.sampled).sum();
    f.qualified = f.by_item.iter().map(|i| i.qualified).sum();
    f.unqualified = f.by_item.iter().map(|i| i.unqualified).sum();
    f.refusals = refusals.iter().map(|(_, n)| n).sum();
    f.rate = rate(f.qualified, f.sampled);
    Ok(f)
}

/// The plan's figures for its organising bureau (the lead's plan dashboard can reuse this).
pub async fn plan_figures(s: &Services, actor: &Actor, plan_id: i64) -> Result<PlanFigures> {
    require_organiser(s, actor, plan_id).await?;
    figures_of(s, plan_id).await
}

/// The summary table (检验情况汇总表) of a plan as XLSX: one row per issued sample in report-number
/// order, then the final refusals, then a totals row that equals [`plan_figures`].
pub async fn summary_xlsx(s: &Services, actor: &Actor, plan_id: i64) -> Result<Vec<u8>> {
    let plan = require_organiser(s, actor, plan_id).await?;
    // An export: from the lagging reader (a replica when configured).
    let db = s.store.lagging_reader();
    let lines = result_lines(db, plan_id).await?;
    let refusals = refusal_lines(db, plan_id).await?;
    let figures = figures_of(s, plan_id).await?;
    let table = choucha_documents::SummaryTable {
        title: format!("{}检验情况汇总表", plan.title),
        rows: lines
            .into_iter()
            .map(|l| choucha_documents::SummaryRow {
                product: l.product,
                enterprise: l.enterprise,
                location: l.enterprise_address,
                producer: l.producer,
                model: l.model,
                batch: l.batch,
                sampled_on: l.sampled_on,
                institution: l.institution,
                report_no: l.report_no,
                conclusion: if l.qualified { "合格".into() } else { "不合格".into() },
                failing_items: l.failing_items.join("、"),
                size: l.size,
            })
            .chain(refusals.into_iter().map(|r| choucha_documents::SummaryRow {
                product: r.product,
                enterprise: r.enterprise,
                location: r.enterprise_address,
                conclusion: "拒检".into(),
                ..Default::default()
            }))
            .collect(),
        sampled: figures.sampled,
        qualified: figures.qualified,
        unqualified: figures.unqualified,
        refusals: figures.refusals,
    };
    tokio::task::spawn_blocking(move || choucha_documents::summary_table_xlsx(&table))
        .await
        .map_err(ServiceError::internal)?
        .map_err(|e| ServiceError::internal(format!("summary table: {e}")))
}

/// The division label: its name (大同市平城区, `division::name_of`); for a code the table does not
/// know, the local bureau's name when one is registered, else the code.
async fn division_label(s: &Services, code: &str) -> String {
    let name = choucha_domain::division::name_of(code);
    if name != code.trim() {
        return name;
    }
    let db = s.store.lagging_reader();
    match choucha_store::sampling::local_bureau_of(db, code).await {
        Ok(Some(o)) => organisations::get(db, o).await.map(|o| format!("{}（{code}）", o.name)).unwrap_or(code.into()),
        _ => code.to_string(),
    }
}

fn domain_label(key: &str) -> &'static str {
    match key {
        "production" => "生产领域",
        "circulation" => "流通领域",
        "e_commerce" => "电商领域",
        _ => "未记录",
    }
}

/// The quality analysis report's data.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct QualityAnalysis {
    pub plan_title: String,
    pub organising_bureau: String,
    pub figures: PlanFigures,
    /// By sampling domain (生产/流通/电商领域), from the signed sampling records.
    pub by_domain: Vec<GroupFigure>,
    pub by_division: Vec<GroupFigure>,
    pub by_size: Vec<GroupFigure>,
    /// (test item, number of unqualified samples failing it), most frequent first.
    pub failing_items: Vec<(String, i64)>,
    /// The same products in the bureau's earlier plans.
    pub earlier: Vec<EarlierLine>,
    /// The testing institutions' submitted analysis (问题分析、原因分析、改进建议).
    pub written: Vec<crate::analysis_texts::WrittenPart>,
}

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct EarlierLine {
    pub plan_title: String,
    pub year: i32,
    pub product: String,
    pub sampled: i64,
    pub rate: f64,
    /// This plan's rate for the product.
    pub current_rate: f64,
}

/// How many earlier plans the comparison shows.
const EARLIER_PLANS: usize = 5;

/// The figures of the quality analysis, for the organising bureau and the custodians of the plan's
/// testing institutions (who write its analysis).
pub async fn quality_analysis(s: &Services, actor: &Actor, plan_id: i64) -> Result<QualityAnalysis> {
    let (plan, _) = crate::analysis_texts::require_reader(s, actor, plan_id).await?;
    let db = s.store.lagging_reader();
    let figures = figures_of(s, plan_id).await?;
    let mut by_division = Vec::new();
    for t in stats::by_division(db, plan_id).await? {
        by_division.push(group(t.key.clone(), division_label(s, &t.key).await, &t));
    }
    let by_size = stats::by_size(db, plan_id)
        .await?
        .iter()
        .map(|t| {
            let label = size_label(Some(&t.key));
            group(t.key.clone(), if label.is_empty() { "未登记".into() } else { label }, t)
        })
        .collect();
    let by_domain = stats::by_domain(db, plan_id)
        .await?
        .iter()
        .map(|t| group(t.key.clone(), domain_label(&t.key).into(), t))
        .collect();
    let products: Vec<String> = figures.by_item.iter().map(|i| i.product.clone()).collect();
    let earlier = stats::earlier_plans(db, plan.organising_org_id, plan_id, &products, EARLIER_PLANS)
        .await?
        .into_iter()
        .map(|e| EarlierLine {
            current_rate: figures.by_item.iter().find(|i| i.product == e.product).map(|i| i.rate).unwrap_or(0.0),
            plan_title: e.plan_title,
            year: e.year,
            sampled: e.qualified + e.unqualified,
            rate: rate(e.qualified, e.qualified + e.unqualified),
            product: e.product,
        })
        .collect();
    Ok(QualityAnalysis {
        plan_title: plan.title,
        organising_bureau: organisations::get(db, plan.organising_org_id).await?.name,
        figures,
        by_domain,
        by_division,
        by_size,
        failing_items: final_failing_items(s, plan_id).await?,
        earlier,
        written: crate::analysis_texts::submitted_parts(s, plan_id).await?,
    })
}

/// Failing items by frequency, with re-tests applied: an objected item that the (final) re-test
/// found conforming no longer counts (re-tests are few: they are read one by one).
async fn final_failing_items(s: &Services, plan_id: i64) -> Result<Vec<(String, i64)>> {
    let db = s.store.lagging_reader();
    let mut counts = stats::failing_items(db, plan_id).await?;
    for (_, json) in choucha_store::retests::concluded_unqualified_of_plan(db, plan_id).await? {
        let lines: Vec<crate::retests::RetestLine> = serde_json::from_str(&json).unwrap_or_default();
        for l in lines {
            let passed_now = crate::retests::judgement_of(&l.judgement) == ItemJudgement::Conforming;
            let failed_first = crate::retests::judgement_of(&l.first_judgement) == ItemJudgement::NonConforming;
            if passed_now
                && failed_first
                && let Some(c) = counts.iter_mut().find(|(n, _)| *n == l.name)
            {
                c.1 -= 1;
            }
        }
    }
    counts.retain(|(_, n)| *n > 0);
    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Ok(counts)
}

/// The quality analysis report (质量分析报告) as PDF, its charts drawn by typst.
pub async fn quality_analysis_pdf(s: &Services, actor: &Actor, plan_id: i64) -> Result<Vec<u8>> {
    let a = quality_analysis(s, actor, plan_id).await?;
    let data =
        serde_json::to_value(AnalysisData { a: &a, date: s.today().to_string() }).map_err(ServiceError::internal)?;
    let renderer = s.renderer().await?;
    tokio::task::spawn_blocking(move || choucha_documents::quality_analysis_pdf(&renderer, &data))
        .await
        .map_err(ServiceError::internal)?
        .map_err(|e| ServiceError::internal(format!("quality analysis PDF: {e}")))
}

#[derive(Serialize)]
struct AnalysisData<'a> {
    #[serde(flatten)]
    a: &'a QualityAnalysis,
    date: String,
}
