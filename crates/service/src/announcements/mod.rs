//! The result announcement (结果公告) of a plan (issue 6): the organising bureau drafts it from the
//! plan's issued reports and final refusals (rule 11: a co-signed refusal is published as 拒检),
//! edits its title and preface and may leave rows out with a reason; a second regulator of the
//! same bureau approves it (nobody approves what they drafted or last edited); it is then published
//! as a frozen snapshot with its SHA-256, readable by the public without signing in. A published
//! announcement is never edited: it is withdrawn (撤回) with a reason, or corrected (更正) by a new
//! announcement that goes through the same approval and, when published, marks the earlier one
//! corrected. Both stay public with who, when and why.
//!
//! Testers never see an announcement draft (rule 13: the rows name enterprises); only the
//! organising bureau's regulators (and admins) reach drafts.

use choucha_domain::RuleViolation;
use choucha_domain::announcement::{self as rules, AnnouncementAction as Action, AnnouncementState};
use choucha_store::announcements::{self as store, AnnouncementRow, NewAnnouncement};
use choucha_store::audit::AuditEntry;
use choucha_store::{organisations, plans as store_plans};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::access::Ask;
use crate::statistics::{RefusalLine, ResultLine, refusal_lines, require_organiser, result_lines};
use crate::{Actor, Result, ServiceError, Services};
use choucha_domain::access::Action as AccessAction;

mod public;
mod review;

pub use public::{get_public, list_public, public_pdf};
pub use review::{AnnouncementEdit, PublishInput, approve, publish, return_to_draft, update, withdraw};

/// A row of an announcement: an issued sample, and whether it is left out (with why).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ResultEntry {
    #[serde(flatten)]
    pub line: ResultLine,
    #[serde(default)]
    pub excluded: bool,
    #[serde(default)]
    pub exclusion_reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RefusalEntry {
    #[serde(flatten)]
    pub line: RefusalLine,
    #[serde(default)]
    pub excluded: bool,
    #[serde(default)]
    pub exclusion_reason: String,
}

/// The editable content of an announcement.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Content {
    pub rows: Vec<ResultEntry>,
    pub refusals: Vec<RefusalEntry>,
}

impl Content {
    /// Row keys: `report:{id}` for a result, `task:{id}` for a refusal.
    fn keys(&self) -> Vec<String> {
        self.rows
            .iter()
            .map(|r| format!("report:{}", r.line.report_id))
            .chain(self.refusals.iter().map(|r| format!("task:{}", r.line.task_id)))
            .collect()
    }

    fn exclusions(&self) -> Vec<Exclusion> {
        self.rows
            .iter()
            .filter(|r| r.excluded)
            .map(|r| Exclusion { key: format!("report:{}", r.line.report_id), reason: r.exclusion_reason.clone() })
            .chain(
                self.refusals
                    .iter()
                    .filter(|r| r.excluded)
                    .map(|r| Exclusion { key: format!("task:{}", r.line.task_id), reason: r.exclusion_reason.clone() }),
            )
            .collect()
    }

    /// Applies `exclusions` (all others are included again).
    fn apply(&mut self, exclusions: &[Exclusion]) {
        let reason = |key: String| exclusions.iter().find(|e| e.key == key).map(|e| e.reason.trim().to_string());
        for r in &mut self.rows {
            let why = reason(format!("report:{}", r.line.report_id));
            r.excluded = why.is_some();
            r.exclusion_reason = why.unwrap_or_default();
        }
        for r in &mut self.refusals {
            let why = reason(format!("task:{}", r.line.task_id));
            r.excluded = why.is_some();
            r.exclusion_reason = why.unwrap_or_default();
        }
    }
}

/// A row left out of the announcement, and why.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = AnnouncementExclusion)]
pub struct Exclusion {
    /// `report:{report id}` or `task:{task id}`
    pub key: String,
    pub reason: String,
}

/// One issued sample as the public reads it. No internal id (report, task, item) and no report
/// number: testers and approvers see those (by blind code), so beside the enterprise they would join
/// a blind sample to its enterprise (rule 13). Snapshots frozen before this change held those keys;
/// reading them drops the keys.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PublicResultLine {
    pub product: String,
    /// 被抽样单位
    pub enterprise: String,
    pub enterprise_address: String,
    pub division_code: String,
    /// 标称生产者
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
    pub size: String,
}

impl From<ResultLine> for PublicResultLine {
    fn from(r: ResultLine) -> Self {
        PublicResultLine {
            product: r.product,
            enterprise: r.enterprise,
            enterprise_address: r.enterprise_address,
            division_code: r.division_code,
            producer: r.producer,
            brand: r.brand,
            model: r.model,
            batch: r.batch,
            sampled_on: r.sampled_on,
            domain: r.domain,
            institution: r.institution,
            qualified: r.qualified,
            conclusion: r.conclusion,
            failing_items: r.failing_items,
            size: r.size,
        }
    }
}

/// One final refusal as the public reads it (no task or item id).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PublicRefusalLine {
    pub product: String,
    pub enterprise: String,
    pub enterprise_address: String,
    pub division_code: String,
    pub determined_on: String,
}

impl From<RefusalLine> for PublicRefusalLine {
    fn from(r: RefusalLine) -> Self {
        PublicRefusalLine {
            product: r.product,
            enterprise: r.enterprise,
            enterprise_address: r.enterprise_address,
            division_code: r.division_code,
            determined_on: r.determined_on,
        }
    }
}

/// What the public reads: frozen at publication.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Snapshot {
    pub title: String,
    /// 文号 (snapshots frozen before it existed read empty).
    #[serde(default)]
    pub doc_number: String,
    pub preface: String,
    pub plan_title: String,
    pub organising_bureau: String,
    pub published_on: NaiveDate,
    pub rows: Vec<PublicResultLine>,
    pub refusals: Vec<PublicRefusalLine>,
    pub sampled: i64,
    pub qualified: i64,
    pub unqualified: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AnnouncementView {
    pub id: i64,
    pub plan_id: i64,
    pub plan_title: String,
    pub organising_bureau: String,
    pub state: AnnouncementState,
    pub state_label: String,
    pub title: String,
    pub preface: String,
    pub content: Content,
    pub drafted_by: String,
    pub drafted_at: DateTime<Utc>,
    pub updated_by: String,
    pub approved_by: String,
    pub approved_at: Option<DateTime<Utc>>,
    pub published_by: String,
    pub published_at: Option<DateTime<Utc>>,
    pub snapshot_sha256: String,
    pub corrects_id: Option<i64>,
    pub correction_reason: String,
    pub corrected_by_id: Option<i64>,
    pub withdrawn_by: String,
    pub withdrawn_at: Option<DateTime<Utc>>,
    pub withdrawal_reason: String,
    /// 文号
    pub doc_number: String,
    /// Why it was published while an objection window of one of its results was open.
    pub publish_note: String,
    /// The included results whose objection window is still open (drafts and approved ones only):
    /// publishing them needs a reason.
    pub open_windows: Vec<OpenWindow>,
}

/// An included result whose objection window is still open, and why.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct OpenWindow {
    pub product: String,
    pub enterprise: String,
    pub why: String,
}

/// The included results of `content` whose objection window is still open today.
async fn open_windows(s: &Services, content: &Content) -> Result<Vec<OpenWindow>> {
    let rows: Vec<&ResultEntry> = content.rows.iter().filter(|r| !r.excluded).collect();
    let ids: Vec<i64> = rows.iter().map(|r| r.line.report_id).collect();
    let windows = store::objection_windows(s.store.reader(), &ids).await?;
    let today = s.today();
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let w = windows.iter().find(|w| w.report_id == r.line.report_id)?;
            let why = rules::open_objection_window(w.received_on, w.objection_open, today)?;
            Some(OpenWindow { product: r.line.product.clone(), enterprise: r.line.enterprise.clone(), why })
        })
        .collect())
}

/// A public announcement: the snapshot and what happened to it since.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicAnnouncement {
    pub id: i64,
    pub state: AnnouncementState,
    pub state_label: String,
    pub snapshot: Snapshot,
    pub snapshot_sha256: String,
    pub published_at: Option<DateTime<Utc>>,
    /// The earlier announcement this one corrects, its title and the correction note.
    pub corrects_id: Option<i64>,
    pub corrects_title: String,
    pub correction_reason: String,
    /// The correction that replaced this one.
    pub corrected_by_id: Option<i64>,
    pub withdrawn_at: Option<DateTime<Utc>>,
    pub withdrawal_reason: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicSummary {
    pub id: i64,
    pub title: String,
    pub organising_bureau: String,
    pub state: AnnouncementState,
    pub state_label: String,
    pub published_at: Option<DateTime<Utc>>,
}

fn label(state: &AnnouncementState) -> String {
    state.label().to_string()
}

async fn name_of(s: &Services, id: Option<i64>) -> String {
    match id {
        Some(u) => crate::lab::user_name(s, u).await,
        None => String::new(),
    }
}

async fn view(s: &Services, r: AnnouncementRow) -> Result<AnnouncementView> {
    let db = s.store.reader();
    let plan = store_plans::get_plan(db, r.plan_id).await?;
    let content: Content = serde_json::from_str(&r.content_json).map_err(ServiceError::internal)?;
    let open_windows = match r.state {
        AnnouncementState::Draft | AnnouncementState::Approved => open_windows(s, &content).await?,
        _ => Vec::new(),
    };
    Ok(AnnouncementView {
        open_windows,
        doc_number: r.doc_number,
        publish_note: r.publish_note,
        id: r.id,
        plan_id: r.plan_id,
        plan_title: plan.title,
        organising_bureau: organisations::get(db, r.organising_org_id).await?.name,
        state_label: label(&r.state),
        state: r.state,
        title: r.title,
        preface: r.preface,
        content,
        drafted_by: name_of(s, Some(r.drafted_by)).await,
        drafted_at: r.drafted_at,
        updated_by: name_of(s, Some(r.updated_by)).await,
        approved_by: name_of(s, r.approved_by).await,
        approved_at: r.approved_at,
        published_by: name_of(s, r.published_by).await,
        published_at: r.published_at,
        snapshot_sha256: r.snapshot_sha256,
        corrects_id: r.corrects_id,
        correction_reason: r.correction_reason,
        corrected_by_id: r.corrected_by_id,
        withdrawn_by: name_of(s, r.withdrawn_by).await,
        withdrawn_at: r.withdrawn_at,
        withdrawal_reason: r.withdrawal_reason,
    })
}

/// The announcement, for its organising bureau.
async fn load(s: &Services, actor: &Actor, id: i64) -> Result<AnnouncementRow> {
    let row = store::get(s.store.reader(), id).await.map_err(ServiceError::not_found("公告"))?;
    require_organiser(s, actor, row.plan_id).await?;
    Ok(row)
}

/// Only the organising bureau's regulators write announcements (an admin reads them).
fn require_regulator(actor: &Actor, row_org: i64) -> Result<()> {
    actor.to_plan(row_org).require_or(AccessAction::Announce, "结果公告由组织抽查部门的监管人员起草、审核和发布")
}

/// "2025年车用柴油监督抽查" stays as it is; a plan titled by its products alone gets the name of
/// the spot check appended.
fn check_name(plan_title: &str) -> String {
    if plan_title.ends_with("抽查") {
        plan_title.to_string()
    } else {
        format!("{plan_title}产品质量监督抽查")
    }
}

fn default_title(organiser: &str, plan_title: &str) -> String {
    format!("{organiser}关于{}结果的公告", check_name(plan_title))
}

fn default_preface(organiser: &str, plan_title: &str) -> String {
    format!(
        "根据《中华人民共和国产品质量法》《产品质量监督抽查管理暂行办法》等规定，{organiser}组织开展了{}。现将抽查结果公告如下。\n对抽查发现的不合格产品及其生产、销售企业，以及拒绝接受监督抽查的企业，属地市场监督管理部门将依法进行后处理。",
        check_name(plan_title)
    )
}

/// The plan's rows as they stand now.
async fn fresh_content(s: &Services, plan_id: i64) -> Result<Content> {
    Ok(Content {
        rows: result_lines(s.store.reader(), plan_id)
            .await?
            .into_iter()
            .map(|line| ResultEntry { line, excluded: false, exclusion_reason: String::new() })
            .collect(),
        refusals: refusal_lines(s.store.reader(), plan_id)
            .await?
            .into_iter()
            .map(|line| RefusalEntry { line, excluded: false, exclusion_reason: String::new() })
            .collect(),
    })
}

fn to_json(v: &impl Serialize) -> Result<String> {
    serde_json::to_string(v).map_err(ServiceError::internal)
}

/// Drafts the announcement of a plan from its issued reports and final refusals.
#[tracing::instrument(skip_all, fields(plan_id))]
pub async fn draft(s: &Services, actor: &Actor, plan_id: i64) -> Result<AnnouncementView> {
    let plan = require_organiser(s, actor, plan_id).await?;
    require_regulator(actor, plan.organising_org_id)?;
    let content = fresh_content(s, plan_id).await?;
    if content.rows.is_empty() && content.refusals.is_empty() {
        return Err(ServiceError::Rule(RuleViolation::new(
            "announcement_no_results",
            "该计划尚无已签发的检验报告或认定的拒检，不能起草结果公告",
        )));
    }
    let organiser = organisations::get(s.store.reader(), plan.organising_org_id).await?.name;
    let n = NewAnnouncement {
        plan_id,
        organising_org_id: plan.organising_org_id,
        title: default_title(&organiser, &plan.title),
        preface: default_preface(&organiser, &plan.title),
        content_json: to_json(&content)?,
        corrects_id: None,
        correction_reason: String::new(),
        drafted_by: actor.user_id,
    };
    let after = json!({"plan_id": plan_id, "rows": content.rows.len(), "refusals": content.refusals.len()});
    insert_audited(s, actor, n, "announcement.draft", after).await
}

/// Inserts a new draft with its audit record, in one transaction.
async fn insert_audited(
    s: &Services,
    actor: &Actor,
    n: NewAnnouncement,
    action: &str,
    after: serde_json::Value,
) -> Result<AnnouncementView> {
    let tx = s.write(actor).await?;
    let row = store::insert(&tx, n).await?;
    tx.commit(AuditEntry::new(action, "announcement", row.id, json!(null), after)).await?;
    view(s, row).await
}

/// A correction of a published announcement: a new draft with the plan's current rows (the
/// earlier exclusions kept), the earlier title and preface, and the reason for the correction.
pub async fn draft_correction(s: &Services, actor: &Actor, id: i64, reason: &str) -> Result<AnnouncementView> {
    let earlier = load(s, actor, id).await?;
    require_regulator(actor, earlier.organising_org_id)?;
    // Only a published announcement can be corrected (checked as the transition it will cause).
    rules::transition(earlier.state, Action::Supersede).map_err(ServiceError::Rule)?;
    if reason.trim().is_empty() {
        return Err(ServiceError::invalid(RuleViolation::new("required", "请填写更正原因").on_field("reason")));
    }
    let old: Content = serde_json::from_str(&earlier.content_json).map_err(ServiceError::internal)?;
    let mut content = fresh_content(s, earlier.plan_id).await?;
    content.apply(&old.exclusions());
    let n = NewAnnouncement {
        plan_id: earlier.plan_id,
        organising_org_id: earlier.organising_org_id,
        title: earlier.title.clone(),
        preface: earlier.preface.clone(),
        content_json: to_json(&content)?,
        corrects_id: Some(earlier.id),
        correction_reason: reason.trim().to_string(),
        drafted_by: actor.user_id,
    };
    let after = json!({"corrects_id": earlier.id, "reason": reason.trim()});
    insert_audited(s, actor, n, "announcement.draft_correction", after).await
}

pub async fn get(s: &Services, actor: &Actor, id: i64) -> Result<AnnouncementView> {
    let row = load(s, actor, id).await?;
    view(s, row).await
}

/// A plan's announcements, newest first, for its organising bureau.
pub async fn of_plan(s: &Services, actor: &Actor, plan_id: i64) -> Result<Vec<AnnouncementView>> {
    require_organiser(s, actor, plan_id).await?;
    let mut out = Vec::new();
    for r in store::of_plan(s.store.reader(), plan_id).await? {
        out.push(view(s, r).await?);
    }
    Ok(out)
}
