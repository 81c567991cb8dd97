//! Plans (抽查计划): created by the organising bureau with their items (product, quota, scope,
//! institutions), issued, amended and closed. Several items may share one quota (a quota group):
//! an item whose quota is left blank joins the group of the item above it, as in the notices'
//! Annex 1 tables where the quota cell is merged.

use choucha_domain::RuleViolation;
use choucha_domain::access::Action;
use choucha_domain::implementation_rules::RulesState;
use choucha_domain::plan::{self as rules, PlanReadiness, PlanState};
use choucha_store::audit::{AuditActor, AuditEntry};
use choucha_store::plans::{self as store_plans, PlanRow};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;

use crate::access::Ask;
use crate::{Actor, Result, ServiceError, Services};

mod amend;
mod draft;
mod views;

pub use amend::{AmendmentInput, QuotaChange, amend};
use draft::{check_items, plan_fields, write_items};
use views::build_view;
pub use views::{PlanQuery, get, get_item, get_public, list, list_public};

/// The header of a plan as typed.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct PlanInput {
    pub year: i32,
    pub title: String,
    /// Code of the organising bureau (defaults to the caller's bureau).
    #[serde(default)]
    pub organising_org_code: Option<String>,
    /// e.g. 晋市监函〔2022〕279号
    #[serde(default)]
    pub doc_no: String,
    /// The organising department's contact person for the enterprises (printed on the notice).
    #[serde(default)]
    pub contact_name: String,
    /// Their telephone (printed on the notice and as the feedback form's 监督电话).
    #[serde(default)]
    pub contact_phone: String,
    /// e.g. 生产领域、流通领域（实体店）
    #[serde(default)]
    pub domains: String,
    /// All reports and result notices delivered by (YYYY-MM-DD).
    #[serde(default)]
    pub deadline_delivery: Option<String>,
    /// Data entered (e-CQS) by.
    #[serde(default)]
    pub deadline_data_entry: Option<String>,
    /// Quality analysis report and summary table due.
    #[serde(default)]
    pub deadline_summary: Option<String>,
    /// Unqualified reports to the organising bureau within N days of issue.
    #[serde(default)]
    pub unqualified_report_days: Option<i32>,
    /// Budget in yuan, e.g. "350000" or "350000.50".
    #[serde(default)]
    pub budget_yuan: Option<String>,
    #[serde(default)]
    pub notes: String,
}

/// One row of Annex 1.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct ItemInput {
    /// 序号 as printed (two products may share a number).
    pub number: String,
    pub category: String,
    pub product: String,
    /// Batches; blank (None) shares the quota of the item above.
    #[serde(default)]
    pub quota: Option<u32>,
    /// 生产者、销售者 / 加油站 …
    pub scopes: String,
    #[serde(default)]
    pub sampling_org_code: Option<String>,
    #[serde(default)]
    pub testing_org_code: Option<String>,
    #[serde(default)]
    pub screening_org_code: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct PlanDraft {
    pub plan: PlanInput,
    pub items: Vec<ItemInput>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = PlanItemView)]
pub struct ItemView {
    pub id: i64,
    pub number: String,
    pub category: String,
    pub product: String,
    pub group_id: i64,
    pub group_quota: i32,
    /// First row of its quota group (where the merged quota cell is printed).
    pub group_first: bool,
    /// Rows in its quota group (the merged cell's height).
    pub group_rows: usize,
    pub scopes: String,
    pub scopes_label: String,
    pub sampling_org_id: Option<i64>,
    pub sampling_org: Option<String>,
    pub testing_org_id: Option<i64>,
    pub testing_org: Option<String>,
    pub screening_org_id: Option<i64>,
    pub screening_org: Option<String>,
    /// Live sampling tasks of this item.
    pub tasks: i64,
    /// Live sampling tasks of the whole quota group.
    pub group_tasks: i64,
    /// State of the newest implementation rules version, if any.
    pub rules_state: Option<RulesState>,
    pub rules_published_version: Option<i32>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AmendmentView {
    pub id: i64,
    pub reason: String,
    pub before: serde_json::Value,
    pub after: serde_json::Value,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlanView {
    pub id: i64,
    pub year: i32,
    pub title: String,
    pub organising_org_id: i64,
    pub organising_org: String,
    pub doc_no: String,
    pub contact_name: String,
    pub contact_phone: String,
    pub domains: String,
    pub state: PlanState,
    pub state_label: String,
    pub deadline_delivery: Option<NaiveDate>,
    pub deadline_data_entry: Option<NaiveDate>,
    pub deadline_summary: Option<NaiveDate>,
    pub unqualified_report_days: Option<i32>,
    pub budget_yuan: Option<String>,
    pub notes: String,
    pub total_quota: i64,
    pub total_tasks: i64,
    pub items: Vec<ItemView>,
    pub amendments: Vec<AmendmentView>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlanSummary {
    pub id: i64,
    pub year: i32,
    pub title: String,
    pub doc_no: String,
    pub organising_org: String,
    pub state: PlanState,
    pub state_label: String,
}

/// The organising bureau's staff (or an admin) manage a plan.
fn check_manage(actor: &Actor, plan: Option<&PlanRow>) -> Result<()> {
    match plan {
        None => actor.require(Action::CreatePlan),
        Some(p) => {
            actor.to_plan(p.organising_org_id).require_or(Action::ManagePlan, "只有组织该抽查的部门可以管理此计划")
        }
    }
}

/// Create a plan with its items (the Annex 1 table) in one transaction.
#[tracing::instrument(skip_all)]
pub async fn create(s: &Services, actor: &Actor, draft: PlanDraft) -> Result<PlanView> {
    check_manage(actor, None)?;
    let id = create_inner(s, &actor.audit_actor(), Some(actor), draft).await?;
    get(s, actor, id).await
}

/// Create a plan as the system (demo data).
pub async fn create_as_system(s: &Services, who: &str, draft: PlanDraft) -> Result<i64> {
    create_inner(s, &AuditActor::system(who), None, draft).await
}

async fn create_inner(s: &Services, who: &AuditActor, actor: Option<&Actor>, draft: PlanDraft) -> Result<i64> {
    let mut errs = Vec::new();
    let system = Actor {
        user_id: 0,
        username: String::new(),
        display_name: String::new(),
        roles: Vec::new(),
        org_id: None,
        org_name: None,
        org_division: None,
        org_kind: None,
        enterprise_id: None,
    };
    let fields = plan_fields(s, actor.unwrap_or(&system), &draft.plan, &mut errs).await?;
    if let Some(a) = actor
        && fields.organising_org_id != 0
        && !a.to_plan(fields.organising_org_id).may(Action::ManagePlan)
    {
        errs.push(RuleViolation::new("org_scope", "只能以本部门名义制定抽查计划").on_field("organising_org_code"));
    }
    if draft.items.is_empty() {
        errs.push(RuleViolation::new("required", "计划至少须有一个产品").on_field("items"));
    }
    let checked = check_items(s, &draft.items, &mut errs).await?;
    if !errs.is_empty() {
        return Err(ServiceError::Invalid(errs));
    }
    let tx = s.write(who).await?;
    let plan = store_plans::insert_plan(&tx, fields).await?;
    write_items(&tx, plan.id, checked).await?;
    tx.commit(AuditEntry::new(
        "plan.create",
        "plan",
        plan.id,
        json!(null),
        json!({"plan": draft.plan, "items": draft.items}),
    ))
    .await?;
    Ok(plan.id)
}

/// Replace a draft plan's header and items.
#[tracing::instrument(skip_all)]
pub async fn update_draft(s: &Services, actor: &Actor, id: i64, draft: PlanDraft) -> Result<PlanView> {
    let plan = store_plans::get_plan(s.store.reader(), id).await.map_err(ServiceError::not_found("计划"))?;
    check_manage(actor, Some(&plan))?;
    let state: PlanState = plan.state;
    if state != PlanState::Draft {
        return Err(ServiceError::Rule(RuleViolation::new("plan_state", "计划已下达，只能通过变更记录调整批次")));
    }
    let before = get(s, actor, id).await?;
    let mut errs = Vec::new();
    let fields = plan_fields(s, actor, &draft.plan, &mut errs).await?;
    let checked = check_items(s, &draft.items, &mut errs).await?;
    if draft.items.is_empty() {
        errs.push(RuleViolation::new("required", "计划至少须有一个产品").on_field("items"));
    }
    if !errs.is_empty() {
        return Err(ServiceError::Invalid(errs));
    }
    let tx = s.write(actor).await?;
    store_plans::update_plan(&tx, id, fields).await?;
    // A draft has no draws, tasks or rules yet only if nobody started them; keep items that have
    // rules by refusing the replacement.
    for it in &before.items {
        if it.rules_state.is_some() || it.tasks > 0 {
            return Err(ServiceError::Rule(RuleViolation::new(
                "plan_items_in_use",
                format!("产品“{}”已有实施细则或抽样任务，不能整体替换条目", it.product),
            )));
        }
        store_plans::delete_item(&tx, it.id).await?;
    }
    for g in store_plans::groups_of(tx.conn(), id).await? {
        store_plans::delete_group(&tx, g.id).await?;
    }
    write_items(&tx, id, checked).await?;
    tx.commit(AuditEntry::new("plan.update", "plan", id, json!(before), json!(draft))).await?;
    get(s, actor, id).await
}

fn readiness(view: &PlanView) -> PlanReadiness {
    PlanReadiness {
        items: view.items.len(),
        items_without_testing: view
            .items
            .iter()
            .filter(|i| i.testing_org_id.is_none())
            .map(|i| i.product.clone())
            .collect(),
        items_without_sampling: view
            .items
            .iter()
            .filter(|i| i.sampling_org_id.is_none())
            .map(|i| i.product.clone())
            .collect(),
        total_quota: view.total_quota as u32,
    }
}

/// Issue a draft plan (it then changes only by amendments).
pub async fn issue(s: &Services, actor: &Actor, id: i64) -> Result<PlanView> {
    let plan = store_plans::get_plan(s.store.reader(), id).await.map_err(ServiceError::not_found("计划"))?;
    check_manage(actor, Some(&plan))?;
    let view = get(s, actor, id).await?;
    let next = rules::issue(plan.state, &readiness(&view))?;
    let tx = s.write(actor).await?;
    store_plans::set_state(&tx, id, next).await?;
    tx.commit(AuditEntry::new("plan.issue", "plan", id, json!({"state": plan.state}), json!({"state": next.to()})))
        .await?;
    get(s, actor, id).await
}

pub async fn close(s: &Services, actor: &Actor, id: i64) -> Result<PlanView> {
    let plan = store_plans::get_plan(s.store.reader(), id).await.map_err(ServiceError::not_found("计划"))?;
    check_manage(actor, Some(&plan))?;
    let next = rules::close(plan.state)?;
    let tx = s.write(actor).await?;
    store_plans::set_state(&tx, id, next).await?;
    tx.commit(AuditEntry::new("plan.close", "plan", id, json!({"state": plan.state}), json!({"state": next.to()})))
        .await?;
    get(s, actor, id).await
}

/// Delete a draft plan created by mistake, with its items; the audit record keeps the whole plan as
/// it was. Refused once the plan is issued, or while an item has implementation rules or tasks.
pub async fn delete_draft(s: &Services, actor: &Actor, id: i64) -> Result<()> {
    let plan = store_plans::get_plan(s.store.reader(), id).await.map_err(ServiceError::not_found("计划"))?;
    check_manage(actor, Some(&plan))?;
    rules::check_deletable(plan.state)?;
    let before = get(s, actor, id).await?;
    if let Some(it) = before.items.iter().find(|it| it.rules_state.is_some() || it.tasks > 0) {
        return Err(ServiceError::Rule(RuleViolation::new(
            "plan_items_in_use",
            format!("产品“{}”已有实施细则或抽样任务，不能删除此计划", it.product),
        )));
    }
    let tx = s.write(actor).await?;
    store_plans::delete_draft(&tx, id).await?;
    tx.commit(AuditEntry::new("plan.delete", "plan", id, json!(before), json!(null))).await?;
    Ok(())
}

/// The plan back as an Annex 1 draft (for the XLSX export and for editing).
pub fn to_draft(v: &PlanView, org_codes: &BTreeMap<i64, String>) -> PlanDraft {
    let code = |id: Option<i64>| id.and_then(|i| org_codes.get(&i).cloned());
    PlanDraft {
        plan: PlanInput {
            year: v.year,
            title: v.title.clone(),
            organising_org_code: org_codes.get(&v.organising_org_id).cloned(),
            doc_no: v.doc_no.clone(),
            contact_name: v.contact_name.clone(),
            contact_phone: v.contact_phone.clone(),
            domains: v.domains.clone(),
            deadline_delivery: v.deadline_delivery.map(|d| d.to_string()),
            deadline_data_entry: v.deadline_data_entry.map(|d| d.to_string()),
            deadline_summary: v.deadline_summary.map(|d| d.to_string()),
            unqualified_report_days: v.unqualified_report_days,
            budget_yuan: v.budget_yuan.clone(),
            notes: v.notes.clone(),
        },
        items: v
            .items
            .iter()
            .map(|i| ItemInput {
                number: i.number.clone(),
                category: i.category.clone(),
                product: i.product.clone(),
                quota: i.group_first.then_some(i.group_quota as u32),
                scopes: i.scopes_label.clone(),
                sampling_org_code: code(i.sampling_org_id),
                testing_org_code: code(i.testing_org_id),
                screening_org_code: code(i.screening_org_id),
            })
            .collect(),
    }
}

/// Issue a plan as the system (demo data), with the same readiness rules.
pub async fn issue_as_system(s: &Services, who: &str, id: i64) -> Result<()> {
    let plan = store_plans::get_plan(s.store.reader(), id).await.map_err(ServiceError::not_found("计划"))?;
    let items = store_plans::items_of(s.store.reader(), plan.id).await?;
    let view = build_view(s, plan.clone(), items).await?;
    let next = rules::issue(plan.state, &readiness(&view))?;
    let tx = s.write(AuditActor::system(who)).await?;
    store_plans::set_state(&tx, id, next).await?;
    tx.commit(AuditEntry::new("plan.issue", "plan", id, json!({"state": plan.state}), json!({"state": next.to()})))
        .await?;
    Ok(())
}
