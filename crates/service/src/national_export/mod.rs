//! The national data exchange (issue 18 part 7): per plan and per day, the sampling information
//! and the test results as the documented format of [`choucha_domain::national_export`], what is
//! still due for entry into e-CQS with its deadline, and the marks of what was exported.
//!
//! Who: the notices give e-CQS entry to the institutions (“承担产品质量监督抽查任务的检验机构应同步完成
//! e-CQS系统录入工作…抽样机构应安排专人负责”); the organising bureau supervises. So the sampling
//! information is seen and marked by the samplers of the item's sampling institution, the results by
//! the custodian of the item's testing institution (never its blind testers), each for the items of
//! their institution only; the organising bureau sees and downloads every row and marks none.
//!
//! A mark records, for every sample of a day's file, the time, the person and the SHA-256 of the
//! file's rows (`content_sha256`, printed in the file): marking a file whose rows changed since it
//! was downloaded is refused, so a mark always names what was copied. Re-marking is recorded again.

mod rows;

use std::collections::BTreeMap;

use choucha_domain::RuleViolation;
use choucha_domain::access::{Action, Relation, Relations};
use choucha_domain::clock;
use choucha_domain::national_export::{self as format, ExportKind, Field, ResultRow, SamplingRow};
use choucha_domain::role::Role;
use choucha_domain::sampling::{self as rules, RecordFields, RecordState};
use choucha_store::audit::AuditEntry;
use choucha_store::national_export::{self as store, MarkedObject};
use choucha_store::plans::{self as store_plans, ItemRow, PlanRow};
use choucha_store::{enterprises, organisations, sampling as store_sampling};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::access::Ask;
use crate::{Actor, Result, ServiceError, Services};

/// One sample's entry of one kind: what a clerk copies, filed under a day.
#[derive(Debug, Clone)]
struct Entry {
    task_id: i64,
    /// The record version (sampling) or the report (results).
    object_id: i64,
    /// The day the file lists it under: the sampling day, or the report's issue day.
    day: NaiveDate,
    /// The day its limit runs from: the sampling day, or the day testing ended.
    start: NaiveDate,
    product: String,
    enterprise_id: i64,
    /// 抽样单编号 or 报告编号.
    number: String,
}

/// How the caller stands towards one kind of a plan's export, and whose rows they see.
struct Standing {
    relations: Relations,
    /// None: every row (the organising bureau); else the rows of this institution's items.
    institution: Option<i64>,
}

fn standing(actor: &Actor, plan: &PlanRow, items: &[ItemRow], kind: ExportKind) -> Standing {
    let org = |i: &ItemRow| match kind {
        ExportKind::Sampling => i.sampling_org_id,
        ExportKind::Results => i.testing_org_id,
    };
    let orgs: Vec<i64> = items.iter().filter_map(org).collect();
    let relations = actor.to_national_export(plan.organising_org_id, kind, &orgs);
    let institution = if relations.contains(Relation::OrganisingBureau) { None } else { actor.org_id };
    Standing { relations, institution }
}

impl Actor {
    /// Towards one kind of a plan's national export: its organising bureau; for sampling
    /// information the samplers of an item's sampling institution (`orgs`), for results the
    /// custodian of an item's testing institution (`orgs`).
    pub fn to_national_export(&self, organising_org_id: i64, kind: ExportKind, orgs: &[i64]) -> Relations {
        let mine = self.org_id.is_some_and(|o| orgs.contains(&o));
        let (role, relation) = match kind {
            ExportKind::Sampling => (Role::Sampler, Relation::SamplingInstitution),
            ExportKind::Results => (Role::SampleCustodian, Relation::Custodian),
        };
        self.to_plan(organising_org_id).with_if(mine && self.has(role), relation)
    }
}

/// The plan and its items, the caller's standing towards `kind`, refused unless they may see it
/// (404 for a plan the caller has nothing to do with).
async fn open(
    s: &Services,
    actor: &Actor,
    plan_id: i64,
    kind: ExportKind,
) -> Result<(PlanRow, Vec<ItemRow>, Standing)> {
    let db = s.store.reader();
    let plan = store_plans::get_plan(db, plan_id).await.map_err(ServiceError::not_found("抽查计划"))?;
    let items = store_plans::items_of(db, plan_id).await?;
    let st = standing(actor, &plan, &items, kind);
    st.relations.visible(Action::ViewNationalExport, "抽查计划")?;
    Ok((plan, items, st))
}

/// The entries of one kind the caller sees, by task.
async fn entries(
    s: &Services,
    plan: &PlanRow,
    items: &[ItemRow],
    kind: ExportKind,
    st: &Standing,
) -> Result<Vec<Entry>> {
    let db = s.store.reader();
    let plan_id = plan.id;
    let mine = |item_id: i64| {
        let Some(org) = st.institution else { return true };
        items.iter().find(|i| i.id == item_id).is_some_and(|i| match kind {
            ExportKind::Sampling => i.sampling_org_id == Some(org),
            ExportKind::Results => i.testing_org_id == Some(org),
        })
    };
    let product = |item_id: i64| items.iter().find(|i| i.id == item_id).map(|i| i.product.clone()).unwrap_or_default();
    let mut out = Vec::new();
    match kind {
        ExportKind::Sampling => {
            let tasks: Vec<_> =
                store::sampled_tasks_of_plan(db, plan_id).await?.into_iter().filter(|t| mine(t.item_id)).collect();
            let ids: Vec<i64> = tasks.iter().map(|t| t.id).collect();
            let mut signed: BTreeMap<i64, store_sampling::RecordRow> = BTreeMap::new();
            for r in store_sampling::records_of_tasks(db, &ids).await? {
                if r.state == RecordState::Signed {
                    signed.entry(r.task_id).or_insert(r);
                }
            }
            for t in tasks {
                let Some(r) = signed.remove(&t.id) else { continue };
                let day = sampled_on(&r);
                out.push(Entry {
                    task_id: t.id,
                    object_id: r.id,
                    day,
                    start: day,
                    product: product(t.item_id),
                    enterprise_id: t.enterprise_id,
                    number: crate::sampling::record_no(plan.year, t.id, r.version),
                });
            }
        }
        ExportKind::Results => {
            let samples: Vec<_> =
                store::samples_of_plan(db, plan_id).await?.into_iter().filter(|x| mine(x.item_id)).collect();
            let ids: Vec<i64> = samples.iter().map(|x| x.id).collect();
            let task_ids: Vec<i64> = samples.iter().map(|x| x.task_id).collect();
            let enterprise_of: BTreeMap<i64, i64> =
                choucha_store::draws::enterprises_of_tasks(db, &task_ids).await?.into_iter().collect();
            let by_id: BTreeMap<i64, &choucha_store::lab::SampleRow> = samples.iter().map(|x| (x.id, x)).collect();
            for r in store::issued_reports_of_samples(db, &ids).await? {
                let (Some(sample), Some(at)) = (by_id.get(&r.sample_id), r.approved_at) else {
                    continue;
                };
                let day = clock::beijing_date(at);
                out.push(Entry {
                    task_id: sample.task_id,
                    object_id: r.id,
                    day,
                    start: sample.testing_ended_on.unwrap_or(day),
                    product: product(sample.item_id),
                    enterprise_id: enterprise_of.get(&sample.task_id).copied().unwrap_or_default(),
                    number: r.report_no.clone().unwrap_or_default(),
                });
            }
        }
    }
    Ok(out)
}

/// The sampling day of a signed record (Beijing), from the time typed on site.
fn sampled_on(r: &store_sampling::RecordRow) -> NaiveDate {
    serde_json::from_str::<RecordFields>(&r.fields_json)
        .ok()
        .and_then(|f| rules::parse_local_time(&f.sampled_at))
        .map_or_else(|| clock::beijing_date(r.created_at), |t| t.date())
}

/// The latest mark of each exported object of a kind.
async fn last_marks(s: &Services, plan_id: i64, kind: ExportKind) -> Result<BTreeMap<i64, store::MarkRow>> {
    let mut out = BTreeMap::new();
    for m in store::marks_of_plan(s.store.reader(), plan_id, kind).await? {
        out.entry(m.object_id).or_insert(m);
    }
    Ok(out)
}

/// Whether the caller may see a kind of the plan's national export (the plan page's link).
pub async fn visible(s: &Services, actor: &Actor, plan_id: i64) -> Result<bool> {
    let db = s.store.reader();
    let plan = store_plans::get_plan(db, plan_id).await.map_err(ServiceError::not_found("抽查计划"))?;
    let items = store_plans::items_of(db, plan_id).await?;
    Ok(ExportKind::ALL.into_iter().any(|k| standing(actor, &plan, &items, k).relations.may(Action::ViewNationalExport)))
}

// ---- What is due ---------------------------------------------------------------------------

/// One sample still to be entered into e-CQS (or entered, with its mark).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DueEntry {
    pub kind: ExportKind,
    pub kind_label: String,
    pub task_id: i64,
    /// 抽样单编号 (sampling) or 报告编号 (results).
    pub number: String,
    pub product: String,
    pub enterprise_name: String,
    /// The day of the file that lists it (sampling day or issue day).
    pub day: NaiveDate,
    /// The last day of entry (the day after sampling; 3 working days after testing ended).
    pub deadline: NaiveDate,
    pub overdue: bool,
}

/// One kind's counts for the plan overview.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct KindSummary {
    pub kind: ExportKind,
    pub kind_label: String,
    /// The caller may see this kind (else the counts are zero).
    pub visible: bool,
    /// The caller may mark this kind as exported.
    pub may_mark: bool,
    pub due: usize,
    pub overdue: usize,
    pub exported: usize,
}

/// The plan's e-CQS entry: counts per kind, and every sample still due with its deadline.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NationalDue {
    pub plan_id: i64,
    pub plan_title: String,
    pub format_version: String,
    pub today: NaiveDate,
    pub kinds: Vec<KindSummary>,
    /// How many entries are not yet exported (of every kind the caller sees).
    pub due_total: usize,
    /// Not yet exported, the earliest deadline first: at most [`DUE_LIST_LIMIT`] of them.
    pub due: Vec<DueEntry>,
    /// The files marked as exported (the caller's institution's, or all for the bureau), newest first.
    pub marks: Vec<MarkView>,
}

/// One marked file: what was exported, when, by whom, and the hash of its rows.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MarkView {
    pub kind: ExportKind,
    pub kind_label: String,
    pub day: NaiveDate,
    pub rows: usize,
    pub exported_at: DateTime<Utc>,
    pub exported_by: String,
    pub content_sha256: String,
}

/// What is due for e-CQS entry in a plan, per kind the caller may see (404 when none).
pub async fn due(s: &Services, actor: &Actor, plan_id: i64) -> Result<NationalDue> {
    let db = s.store.reader();
    let plan = store_plans::get_plan(db, plan_id).await.map_err(ServiceError::not_found("抽查计划"))?;
    let items = store_plans::items_of(db, plan_id).await?;
    let cal = crate::calendar::load(s).await?;
    let today = s.today();
    let (mut kinds, mut due) = (Vec::new(), Vec::new());
    let mut history = Vec::new();
    for kind in ExportKind::ALL {
        let st = standing(actor, &plan, &items, kind);
        let visible = st.relations.may(Action::ViewNationalExport);
        let mut summary = KindSummary {
            kind,
            kind_label: kind.label().into(),
            visible,
            may_mark: st.relations.may(Action::MarkNationalExport),
            due: 0,
            overdue: 0,
            exported: 0,
        };
        if visible {
            history.extend(marks_of(s, actor, plan_id, kind, &st).await?);
            let marks = last_marks(s, plan_id, kind).await?;
            for e in entries(s, &plan, &items, kind, &st).await? {
                let mark = marks.get(&e.object_id);
                let d = format::due(kind.deadline(&cal, e.start), mark.is_some(), today);
                if mark.is_some() {
                    summary.exported += 1;
                    continue;
                }
                summary.due += 1;
                summary.overdue += usize::from(d.overdue);
                due.push((kind, e, d));
            }
        }
        kinds.push(summary);
    }
    if !kinds.iter().any(|k| k.visible) {
        return Err(ServiceError::NotFound("抽查计划"));
    }
    // The counts cover everything; the list names the earliest deadlines only, its enterprises read
    // in one query, so the page costs the same for a plan of 100 samples or 100,000.
    due.sort_by_key(|(kind, e, d)| (d.deadline, *kind, e.task_id));
    let due_total = due.len();
    due.truncate(DUE_LIST_LIMIT);
    let mut ids: Vec<i64> = due.iter().map(|(_, e, _)| e.enterprise_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let names: BTreeMap<i64, String> =
        enterprises::get_many(db, &ids).await?.into_iter().map(|e| (e.id, e.name)).collect();
    let due = due.into_iter().map(|(kind, e, d)| due_entry(&names, kind, e, d)).collect();
    history.sort_by_key(|m: &MarkView| std::cmp::Reverse(m.exported_at));
    Ok(NationalDue {
        plan_id,
        plan_title: plan.title,
        format_version: format::FORMAT_VERSION.into(),
        today,
        kinds,
        due_total,
        due,
        marks: history,
    })
}

/// The marked files of a kind: one line per mark (the rows marked together), the caller's
/// institution's own when they are not of the organising bureau.
async fn marks_of(s: &Services, actor: &Actor, plan_id: i64, kind: ExportKind, st: &Standing) -> Result<Vec<MarkView>> {
    let db = s.store.reader();
    let mut groups: BTreeMap<(DateTime<Utc>, i64, NaiveDate, String), usize> = BTreeMap::new();
    for m in store::marks_of_plan(db, plan_id, kind).await? {
        *groups.entry((m.exported_at, m.exported_by, m.day, m.content_sha256)).or_default() += 1;
    }
    let mut out = Vec::new();
    for ((at, by, day, sha), rows) in groups {
        let user = choucha_store::users::get(db, by).await?;
        if st.institution.is_some() && user.org_id != actor.org_id {
            continue;
        }
        out.push(MarkView {
            kind,
            kind_label: kind.label().into(),
            day,
            rows,
            exported_at: at,
            exported_by: user.display_name,
            content_sha256: sha,
        });
    }
    Ok(out)
}

/// How many due entries the list names (the earliest deadlines); the counts cover them all.
pub const DUE_LIST_LIMIT: usize = 200;

fn due_entry(names: &BTreeMap<i64, String>, kind: ExportKind, e: Entry, d: format::Due) -> DueEntry {
    DueEntry {
        kind,
        kind_label: kind.label().into(),
        task_id: e.task_id,
        number: e.number,
        product: e.product,
        enterprise_name: names.get(&e.enterprise_id).cloned().unwrap_or_default(),
        day: e.day,
        deadline: d.deadline,
        overdue: d.overdue,
    }
}

// ---- A day's file ----------------------------------------------------------------------------

/// The rows of a file: one kind's row type.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Rows {
    Sampling(Vec<SamplingRow>),
    Results(Vec<ResultRow>),
}

impl Rows {
    pub fn len(&self) -> usize {
        match self {
            Rows::Sampling(r) => r.len(),
            Rows::Results(r) => r.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Each row as a JSON object (the spreadsheet reads cells by key).
    pub fn as_values(&self) -> Vec<serde_json::Value> {
        let v = serde_json::to_value(self).unwrap_or_default();
        v.as_array().cloned().unwrap_or_default()
    }
}

/// A day's export of one kind: the header (format version, field labels, the rows' hash) and the
/// rows, one per sample.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NationalExport {
    /// choucha-ecqs/1
    pub format_version: String,
    pub kind: ExportKind,
    pub kind_label: String,
    pub plan_id: i64,
    pub plan_title: String,
    pub organising_bureau: String,
    /// The day the rows are filed under (sampling day, or issue day), Beijing.
    pub day: NaiveDate,
    /// When the file was made, Beijing time (RFC 3339, +08:00).
    pub generated_at: String,
    /// The rule the rows are due by.
    pub deadline_rule: String,
    /// SHA-256 (hex) of the rows as JSON: marking checks it, and the mark keeps it.
    pub content_sha256: String,
    pub row_count: usize,
    /// Every field of a row: key, Chinese label, kind — in column order.
    pub fields: Vec<Field>,
    /// The fields of a result row's `items` (empty for sampling information).
    pub item_fields: Vec<Field>,
    #[schema(value_type = Vec<Object>)]
    pub rows: Rows,
}

/// The rule printed in a file's header.
fn deadline_rule(kind: ExportKind) -> &'static str {
    match kind {
        ExportKind::Sampling => "抽样信息应于抽样次日完成e-CQS系统录入（当日完成前一天抽样信息的录入）",
        ExportKind::Results => "检验结果应于检验工作结束后3个工作日内完成e-CQS系统录入",
    }
}

/// The day's file of `kind` for a plan (`day`: Beijing date): every sample the caller sees.
/// Downloading does not mark anything.
pub async fn export(
    s: &Services,
    actor: &Actor,
    plan_id: i64,
    kind: ExportKind,
    day: NaiveDate,
) -> Result<NationalExport> {
    let (plan, items, st) = open(s, actor, plan_id, kind).await?;
    let (file, _) = file_of(s, &plan, &items, kind, day, &st).await?;
    Ok(file)
}

async fn file_of(
    s: &Services,
    plan: &PlanRow,
    items: &[ItemRow],
    kind: ExportKind,
    day: NaiveDate,
    st: &Standing,
) -> Result<(NationalExport, Vec<MarkedObject>)> {
    let of_day: Vec<Entry> = entries(s, plan, items, kind, st).await?.into_iter().filter(|e| e.day == day).collect();
    let objects = of_day.iter().map(|e| MarkedObject { task_id: e.task_id, object_id: e.object_id }).collect();
    let rows = match kind {
        ExportKind::Sampling => {
            let mut out = Vec::with_capacity(of_day.len());
            for e in &of_day {
                out.push(rows::sampling_row(s, plan, items, e.task_id, e.object_id).await?);
            }
            Rows::Sampling(out)
        }
        ExportKind::Results => {
            let mut out = Vec::with_capacity(of_day.len());
            for e in &of_day {
                out.push(rows::result_row(s, plan, e.task_id, e.object_id).await?);
            }
            Rows::Results(out)
        }
    };
    let content = serde_json::to_vec(&rows).map_err(ServiceError::internal)?;
    let organiser = organisations::get(s.store.reader(), plan.organising_org_id).await?.name;
    let file = NationalExport {
        format_version: format::FORMAT_VERSION.into(),
        kind,
        kind_label: kind.label().into(),
        plan_id: plan.id,
        plan_title: plan.title.clone(),
        organising_bureau: organiser,
        day,
        generated_at: rows::beijing_rfc3339(s.now()),
        deadline_rule: deadline_rule(kind).into(),
        content_sha256: hex::encode(Sha256::digest(&content)),
        row_count: rows.len(),
        fields: kind.fields().to_vec(),
        item_fields: match kind {
            ExportKind::Sampling => Vec::new(),
            ExportKind::Results => format::ITEM_FIELDS.to_vec(),
        },
        rows,
    };
    Ok((file, objects))
}

// ---- Marking ---------------------------------------------------------------------------------

/// Mark a day's file as entered into e-CQS.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct MarkInput {
    /// YYYY-MM-DD: the day of the file.
    pub day: String,
    /// The `content_sha256` of the file downloaded: refused when the rows changed since.
    pub content_sha256: String,
}

/// What a mark recorded.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MarkResult {
    pub kind: ExportKind,
    pub day: NaiveDate,
    pub marked: usize,
    pub content_sha256: String,
    pub exported_at: DateTime<Utc>,
}

/// Marks every row of the caller's day file of `kind` as exported, in one transaction with its
/// audit record. The file must be the one downloaded (`content_sha256`) and hold a row.
pub async fn mark(s: &Services, actor: &Actor, plan_id: i64, kind: ExportKind, input: MarkInput) -> Result<MarkResult> {
    let (plan, items, st) = open(s, actor, plan_id, kind).await?;
    st.relations.require_or(
        Action::MarkNationalExport,
        match kind {
            ExportKind::Sampling => "抽样信息由承担抽样的机构录入e-CQS并标记已报送",
            ExportKind::Results => "检验结果由承担检验的机构的样品管理员录入e-CQS并标记已报送",
        },
    )?;
    let day = parse_day(&input.day)?;
    let (file, objects) = file_of(s, &plan, &items, kind, day, &st).await?;
    if objects.is_empty() {
        return Err(ServiceError::Rule(RuleViolation::new(
            "nothing_to_mark",
            format!("{day}没有可报送的{}", kind.label()),
        )));
    }
    if input.content_sha256.trim() != file.content_sha256 {
        return Err(ServiceError::Rule(RuleViolation::new(
            "export_changed",
            "下载文件后数据已有变化（如新签字的抽样单或新签发的报告），请重新下载、核对并录入后再标记",
        )));
    }
    let tx = s.write(actor).await?;
    store::insert_marks(&tx, plan.id, kind, day, &objects, &file.content_sha256, actor.user_id).await?;
    let exported_at = tx.now();
    let tasks: Vec<i64> = objects.iter().map(|o| o.task_id).collect();
    tx.commit(AuditEntry::new(
        "plan.national_export_mark",
        "plan",
        plan.id,
        json!(null),
        json!({"kind": kind.as_str(), "day": day, "tasks": tasks, "content_sha256": file.content_sha256,
               "format_version": format::FORMAT_VERSION}),
    ))
    .await?;
    Ok(MarkResult { kind, day, marked: objects.len(), content_sha256: file.content_sha256, exported_at })
}

/// A file's kind from its path segment (`sampling`, `results`): 404 otherwise.
pub fn kind_of(text: &str) -> Result<ExportKind> {
    ExportKind::parse(text).ok_or(ServiceError::NotFound("报送类别"))
}

/// A file's day (`YYYY-MM-DD`, Beijing); today by the clock when none is given.
pub fn day_or_today(s: &Services, text: Option<&str>) -> Result<NaiveDate> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => parse_day(t),
        None => Ok(s.today()),
    }
}

fn parse_day(text: &str) -> Result<NaiveDate> {
    choucha_domain::enterprise::parse_date(text).ok_or_else(|| {
        ServiceError::invalid(
            RuleViolation::new("invalid_date", format!("日期“{text}”无效（格式：2025-10-10）")).on_field("day"),
        )
    })
}
