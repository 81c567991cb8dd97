//! Implementation rules (实施细则) of plan items, versioned: the testing institution drafts and
//! submits, the organising bureau returns or approves (备案) and publishes; published rules are
//! public. Editing after publication starts a new version; publishing it supersedes the old one.
//! Sampling of an item is refused until a version is published (DESIGN.md rule 3).

use choucha_domain::RuleViolation;
use choucha_domain::implementation_rules::{self as rules, Limit, RulesAction, RulesActor, RulesState};
use choucha_domain::plan::PlanState;
use choucha_domain::sampling::EvidenceCategory;
use choucha_store::audit::{AuditActor, AuditEntry};
use choucha_store::implementation_rules::{self as store_rules, RulesRow};
use choucha_store::plans::{self as store_plans, ItemRow, PlanRow};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::access::Ask;
use crate::{Actor, Result, ServiceError, Services};
use choucha_domain::access::{Action, Relation, Relations};

/// Whether testing needs the producer's licence checked first (rule 14).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LicenceRequirement {
    #[default]
    None,
    /// 生产许可证
    ProductionLicence,
    /// 强制性产品认证
    Ccc,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct TestItemInput {
    /// 检验项目, e.g. 硫含量
    pub name: String,
    /// Method standard, e.g. SH/T 0689
    #[serde(default)]
    pub method: String,
    /// The typed requirement.
    pub limit: Limit,
    #[serde(default)]
    pub unit: String,
    /// A/B classification where the rules use it.
    #[serde(default)]
    pub class: Option<String>,
}

/// The content of a rules version.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct RulesBody {
    /// Applicable product standards, e.g. GB 19147-2016.
    pub standards: Vec<String>,
    pub test_items: Vec<TestItemInput>,
    /// Test portion, e.g. "2瓶×1L".
    pub test_portion: String,
    /// Backup portion.
    pub backup_portion: String,
    /// Minimum sampling base (stock), e.g. "不少于200L".
    #[serde(default)]
    pub min_base: String,
    /// 判定原则
    pub judgement_principle: String,
    /// 复检规定
    #[serde(default)]
    pub retest_terms: String,
    #[serde(default)]
    pub licence: LicenceRequirement,
    /// Test portion in `quantity_unit`, when the rules give a number (checked at sampling).
    #[serde(default)]
    pub test_quantity: Option<f64>,
    #[serde(default)]
    pub backup_quantity: Option<f64>,
    /// Minimum stock (sampling base) in `quantity_unit`.
    #[serde(default)]
    pub min_base_quantity: Option<f64>,
    #[serde(default)]
    pub quantity_unit: String,
    /// 实施方案: how the institution organises sampling and testing of the item. Filed and approved
    /// with the rules (rule 3) but, unlike them, not published.
    #[serde(default)]
    pub scheme: String,
    /// The evidence categories every sampling of the item must photograph or film, or explain why
    /// not, before its record is signed (rule 7). None: the notices' six
    /// ([`EvidenceCategory::REQUIRED_BY_NOTICE`]).
    #[serde(default)]
    pub required_evidence: Option<Vec<EvidenceCategory>>,
}

impl RulesBody {
    /// The categories rule 7 requires of this item's samplings.
    pub fn required_evidence(&self) -> Vec<EvidenceCategory> {
        self.required_evidence.clone().unwrap_or_else(|| EvidenceCategory::REQUIRED_BY_NOTICE.to_vec())
    }

    fn validate(&self) -> std::result::Result<(), Vec<RuleViolation>> {
        let mut errs = Vec::new();
        if self.standards.iter().all(|s| s.trim().is_empty()) {
            errs.push(RuleViolation::new("required", "请填写产品标准").on_field("standards"));
        }
        if self.test_items.is_empty() {
            errs.push(RuleViolation::new("required", "至少须有一个检验项目").on_field("test_items"));
        }
        for (i, t) in self.test_items.iter().enumerate() {
            if t.name.trim().is_empty() {
                errs.push(
                    RuleViolation::new("required", format!("第{}个检验项目：名称不能为空", i + 1))
                        .on_field("test_items"),
                );
            }
            if let Err(e) = t.limit.validate() {
                errs.push(
                    RuleViolation::new(e.code, format!("第{}个检验项目“{}”：{}", i + 1, t.name, e.message))
                        .on_field("test_items"),
                );
            }
        }
        if self.test_portion.trim().is_empty() || self.backup_portion.trim().is_empty() {
            errs.push(RuleViolation::new("required", "请填写检验样品和备用样品的数量").on_field("test_portion"));
        }
        if self.judgement_principle.trim().is_empty() {
            errs.push(RuleViolation::new("required", "请填写判定原则").on_field("judgement_principle"));
        }
        if errs.is_empty() { Ok(()) } else { Err(errs) }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RulesView {
    pub id: i64,
    pub item_id: i64,
    pub product: String,
    pub plan_id: i64,
    pub plan_title: String,
    pub version: i32,
    pub state: RulesState,
    pub state_label: String,
    pub body: RulesBody,
    pub returned_reason: String,
    pub submitted_at: Option<chrono::DateTime<chrono::Utc>>,
    pub approved_at: Option<chrono::DateTime<chrono::Utc>>,
    pub published_at: Option<chrono::DateTime<chrono::Utc>>,
}

fn view(r: RulesRow, item: &ItemRow, plan: &PlanRow) -> Result<RulesView> {
    let body: RulesBody = serde_json::from_str(&r.body_json).map_err(ServiceError::internal)?;
    let state_label = r.state.label().to_string();
    Ok(RulesView {
        id: r.id,
        item_id: r.item_id,
        product: item.product.clone(),
        plan_id: plan.id,
        plan_title: plan.title.clone(),
        version: r.version,
        state: r.state,
        state_label,
        body,
        returned_reason: r.returned_reason,
        submitted_at: r.submitted_at,
        approved_at: r.approved_at,
        published_at: r.published_at,
    })
}

async fn load_item(s: &Services, item_id: i64) -> Result<(ItemRow, PlanRow)> {
    let db = s.store.reader();
    let item = store_plans::get_item(db, item_id).await.map_err(ServiceError::not_found("计划条目"))?;
    let plan = store_plans::get_plan(db, item.plan_id).await?;
    Ok((item, plan))
}

/// How the caller stands towards an item.
fn relations(actor: &Actor, item: &ItemRow, plan: &PlanRow) -> Relations {
    actor.to_item(plan.organising_org_id, item.sampling_org_id, item.testing_org_id)
}

/// The caller's part in an item's rules (the rules' own machine says which part may take which step).
fn party(actor: &Actor, item: &ItemRow, plan: &PlanRow) -> RulesActor {
    let r = relations(actor, item, plan);
    if r.contains(Relation::TestingInstitution) {
        RulesActor::TestingInstitution
    } else if r.contains(Relation::OrganisingBureau) {
        RulesActor::OrganisingBureau
    } else {
        RulesActor::Other
    }
}

/// Start a new draft version (the first, or after the last one was published).
pub async fn create_draft(s: &Services, actor: &Actor, item_id: i64, body: RulesBody) -> Result<RulesView> {
    let (item, plan) = load_item(s, item_id).await?;
    rules::transition(RulesState::Draft, RulesAction::Edit, party(actor, &item, &plan))?;
    if plan.state == PlanState::Closed {
        return Err(ServiceError::Rule(RuleViolation::new("plan_state", "计划已结束，不能再修改实施细则")));
    }
    body.validate().map_err(ServiceError::Invalid)?;
    let versions = store_rules::versions_of(s.store.reader(), item_id).await?;
    if let Some(open) =
        versions.iter().find(|v| matches!(v.state, RulesState::Draft | RulesState::Submitted | RulesState::Approved))
    {
        return Err(ServiceError::Rule(RuleViolation::new(
            "rules_open_version",
            format!("该产品已有未公开的第{}版实施细则（{}），请在该版本上修改", open.version, open.state.label()),
        )));
    }
    let version = versions.first().map(|v| v.version + 1).unwrap_or(1);
    let tx = s.write(actor).await?;
    let row = store_rules::insert(&tx, item_id, version, serde_json::to_string(&body).map_err(ServiceError::internal)?)
        .await?;
    tx.commit(AuditEntry::new(
        "rules.create",
        "rules_version",
        row.id,
        json!(null),
        json!({"item_id": item_id, "version": version, "body": body}),
    ))
    .await?;
    view(row, &item, &plan)
}

/// Change a draft.
pub async fn update_draft(s: &Services, actor: &Actor, id: i64, body: RulesBody) -> Result<RulesView> {
    let row = store_rules::get(s.store.reader(), id).await.map_err(ServiceError::not_found("实施细则"))?;
    let (item, plan) = load_item(s, row.item_id).await?;
    rules::transition(row.state, RulesAction::Edit, party(actor, &item, &plan))?;
    body.validate().map_err(ServiceError::Invalid)?;
    let tx = s.write(actor).await?;
    store_rules::update_body(&tx, id, serde_json::to_string(&body).map_err(ServiceError::internal)?).await?;
    tx.commit(AuditEntry::new(
        "rules.update",
        "rules_version",
        id,
        json!({"body": serde_json::from_str::<serde_json::Value>(&row.body_json).unwrap_or_default()}),
        json!({"body": body}),
    ))
    .await?;
    get(s, actor, id).await
}

/// One lifecycle step: submit, return (with reason), approve or publish.
pub async fn step(
    s: &Services,
    actor: &Actor,
    id: i64,
    action: RulesAction,
    reason: Option<&str>,
) -> Result<RulesView> {
    let row = store_rules::get(s.store.reader(), id).await.map_err(ServiceError::not_found("实施细则"))?;
    let (item, plan) = load_item(s, row.item_id).await?;
    let from: RulesState = row.state;
    let t = rules::rules_step(from, action, party(actor, &item, &plan))?;
    let to = t.to();
    if action == RulesAction::Return && reason.is_none_or(|r| r.trim().is_empty()) {
        return Err(ServiceError::invalid(RuleViolation::new("required", "退回须说明理由").on_field("reason")));
    }
    if action == RulesAction::Publish && plan.state == PlanState::Draft {
        return Err(ServiceError::Rule(RuleViolation::new("plan_state", "计划尚未下达，实施细则不能向社会公开")));
    }
    let tx = s.write(actor).await?;
    if to == RulesState::Published
        && let Some(old) = store_rules::published_of(tx.conn(), row.item_id).await?
    {
        let superseded = rules::rules_step(old.state, RulesAction::Supersede, RulesActor::OrganisingBureau)?;
        store_rules::set_state(&tx, old.id, superseded, actor.user_id, None).await?;
    }
    store_rules::set_state(&tx, id, t, actor.user_id, reason.map(str::trim)).await?;
    let action_name = match action {
        RulesAction::Submit => "rules.submit",
        RulesAction::Return => "rules.return",
        RulesAction::Approve => "rules.approve",
        RulesAction::Publish => "rules.publish",
        RulesAction::Edit | RulesAction::Supersede => "rules.update",
    };
    tx.commit(AuditEntry::new(
        action_name,
        "rules_version",
        id,
        json!({"state": from.as_str()}),
        json!({"state": to.as_str(), "reason": reason}),
    ))
    .await?;
    get(s, actor, id).await
}

/// Publish as the system (demo data): runs the same lifecycle checks with the right parties.
pub async fn publish_as_system(s: &Services, who: &str, item_id: i64, body: RulesBody) -> Result<i64> {
    body.validate().map_err(ServiceError::Invalid)?;
    let (item, _) = load_item(s, item_id).await?;
    let mut state = RulesState::Draft;
    let mut steps = Vec::new();
    for (action, party) in [
        (RulesAction::Submit, RulesActor::TestingInstitution),
        (RulesAction::Approve, RulesActor::OrganisingBureau),
        (RulesAction::Publish, RulesActor::OrganisingBureau),
    ] {
        let t = rules::rules_step(state, action, party)?;
        state = t.to();
        steps.push(t);
    }
    let versions = store_rules::versions_of(s.store.reader(), item.id).await?;
    let version = versions.first().map(|v| v.version + 1).unwrap_or(1);
    let tx = s.write(AuditActor::system(who)).await?;
    let row = store_rules::insert(&tx, item.id, version, serde_json::to_string(&body).map_err(ServiceError::internal)?)
        .await?;
    for t in steps {
        store_rules::set_state(&tx, row.id, t, 0, None).await?;
    }
    tx.commit(AuditEntry::new(
        "rules.publish",
        "rules_version",
        row.id,
        json!(null),
        json!({"item_id": item.id, "version": version}),
    ))
    .await?;
    Ok(row.id)
}

/// Who may read a version: the item's testing institution and the plan's bureau always; anyone
/// (also without signing in, see `get_published`) once it is published.
pub async fn get(s: &Services, actor: &Actor, id: i64) -> Result<RulesView> {
    let row = store_rules::get(s.store.reader(), id).await.map_err(ServiceError::not_found("实施细则"))?;
    let (item, plan) = load_item(s, row.item_id).await?;
    let public = matches!(row.state, RulesState::Published | RulesState::Superseded);
    let insider = relations(actor, &item, &plan).may(Action::ViewRules);
    if !public && !insider {
        return Err(ServiceError::NotFound("实施细则"));
    }
    let v = view(row, &item, &plan)?;
    Ok(if insider { v } else { without_scheme(v) })
}

/// All versions of an item the caller may see, newest first.
pub async fn versions(s: &Services, actor: &Actor, item_id: i64) -> Result<Vec<RulesView>> {
    let (item, plan) = load_item(s, item_id).await?;
    let insider = relations(actor, &item, &plan).may(Action::ViewRules);
    store_rules::versions_of(s.store.reader(), item_id)
        .await?
        .into_iter()
        .filter(|r| insider || matches!(r.state, RulesState::Published | RulesState::Superseded))
        .map(|r| view(r, &item, &plan).map(|v| if insider { v } else { without_scheme(v) }))
        .collect()
}

/// The published rules of an item, for everyone (public page); the 实施方案 is not published.
pub async fn get_published(s: &Services, item_id: i64) -> Result<RulesView> {
    let (item, plan) = load_item(s, item_id).await?;
    let row = store_rules::published_of(s.store.reader(), item_id)
        .await?
        .ok_or(ServiceError::NotFound("已公开的实施细则"))?;
    Ok(without_scheme(view(row, &item, &plan)?))
}

fn without_scheme(mut v: RulesView) -> RulesView {
    v.body.scheme.clear();
    v
}

/// DESIGN.md rule 3, for the sampling use cases: the published version sampling goes by.
pub async fn require_published(s: &Services, item_id: i64) -> Result<RulesRow> {
    let row = store_rules::published_of(s.store.reader(), item_id).await?;
    rules::check_sampling_allowed(row.as_ref().map(|r| r.version))?;
    row.ok_or(ServiceError::NotFound("实施细则"))
}
