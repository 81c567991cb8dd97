//! Plans (抽查计划): created by the organising bureau with their items (product, quota, scope,
//! institutions), issued, amended and closed. Several items may share one quota (a quota group):
//! an item whose quota is left blank joins the group of the item above it, as in the notices'
//! Annex 1 tables where the quota cell is merged.

use crate::Write;
use choucha_domain::RuleViolation;
use choucha_domain::access::Action;
use choucha_domain::enterprise::parse_date;
use choucha_domain::implementation_rules::RulesState;
use choucha_domain::organisation::OrgKind;
use choucha_domain::plan::{self as rules, PlanReadiness, PlanState, parse_scopes, scopes_label};
use choucha_domain::role::Role;
use choucha_store::audit::{AuditActor, AuditEntry};
use choucha_store::plans::{self as store_plans, ItemFields, PlanFields, PlanFilter, PlanRow};
use choucha_store::{Page, draws as store_draws, implementation_rules as store_rules, organisations};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;

use crate::access::{Ask, Scope};
use crate::{Actor, Result, ServiceError, Services, page_limit};

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

fn opt_date(s: &Option<String>, field: &'static str, label: &str, errs: &mut Vec<RuleViolation>) -> Option<NaiveDate> {
    match s.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(v) => parse_date(v).or_else(|| {
            errs.push(
                RuleViolation::new("invalid_date", format!("{label}“{v}”不是有效日期（格式：2025-11-15）"))
                    .on_field(field),
            );
            None
        }),
    }
}

fn parse_budget(s: &Option<String>, errs: &mut Vec<RuleViolation>) -> Option<i64> {
    let v = s.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
    match choucha_domain::money::parse_yuan(v) {
        Some(fen) => Some(fen),
        None => {
            errs.push(
                RuleViolation::new("invalid_budget", format!("预算“{v}”不是有效金额（元，最多两位小数）"))
                    .on_field("budget_yuan"),
            );
            None
        }
    }
}

async fn org_id_of(
    s: &Services,
    code: &Option<String>,
    field: &'static str,
    want: &str,
    errs: &mut Vec<RuleViolation>,
) -> Result<Option<i64>> {
    let Some(c) = code.as_deref().map(str::trim).filter(|c| !c.is_empty()) else { return Ok(None) };
    match organisations::find_by_code(s.store.reader(), c).await? {
        None => {
            errs.push(RuleViolation::new("unknown_org", format!("机构“{c}”不存在")).on_field(field));
            Ok(None)
        }
        Some(o) => {
            let ok = match want {
                "sampling" => o.cap_sampling,
                "testing" => o.cap_testing,
                "screening" => o.cap_screening,
                _ => o.kind.parse::<OrgKind>().is_ok_and(OrgKind::is_bureau) && o.kind != "local_bureau",
            };
            if !ok {
                let what = match want {
                    "sampling" => "抽样",
                    "testing" => "检验",
                    "screening" => "快速筛查",
                    _ => "组织监督抽查（省局或市局）",
                };
                errs.push(
                    RuleViolation::new("org_capability", format!("“{}”不具备{}职能", o.name, what)).on_field(field),
                );
            }
            Ok(Some(o.id))
        }
    }
}

async fn plan_fields(s: &Services, actor: &Actor, p: &PlanInput, errs: &mut Vec<RuleViolation>) -> Result<PlanFields> {
    if !(2000..=2100).contains(&p.year) {
        errs.push(RuleViolation::new("invalid_year", "年度应在2000至2100之间").on_field("year"));
    }
    let title = p.title.trim().to_string();
    if title.is_empty() || title.chars().count() > 200 {
        errs.push(RuleViolation::new("required", "计划名称不能为空且不超过200字").on_field("title"));
    }
    let org = match p.organising_org_code.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        Some(_) => org_id_of(s, &p.organising_org_code, "organising_org_code", "bureau", errs).await?,
        None => actor.org_id,
    };
    if org.is_none() && p.organising_org_code.as_deref().unwrap_or("").trim().is_empty() {
        errs.push(RuleViolation::new("required", "请指定组织监督抽查的部门").on_field("organising_org_code"));
    }
    let days = p.unqualified_report_days;
    if days.is_some_and(|d| !(1..=365).contains(&d)) {
        errs.push(
            RuleViolation::new("invalid_days", "不合格报告报送期限应为1至365日").on_field("unqualified_report_days"),
        );
    }
    Ok(PlanFields {
        year: p.year,
        title,
        organising_org_id: org.unwrap_or_default(),
        doc_no: p.doc_no.trim().to_string(),
        domains: p.domains.trim().to_string(),
        deadline_delivery: opt_date(&p.deadline_delivery, "deadline_delivery", "送达期限", errs),
        deadline_data_entry: opt_date(&p.deadline_data_entry, "deadline_data_entry", "录入期限", errs),
        deadline_summary: opt_date(&p.deadline_summary, "deadline_summary", "汇总材料期限", errs),
        unqualified_report_days: days,
        budget_cents: parse_budget(&p.budget_yuan, errs),
        notes: p.notes.trim().to_string(),
    })
}

/// Items validated and grouped: (fields without plan/group ids, index of its group, group quotas).
struct CheckedItems {
    items: Vec<(ItemFields, usize)>,
    group_quotas: Vec<u32>,
}

async fn check_items(s: &Services, items: &[ItemInput], errs: &mut Vec<RuleViolation>) -> Result<CheckedItems> {
    let mut out = Vec::new();
    let mut group_quotas: Vec<u32> = Vec::new();
    for (i, it) in items.iter().enumerate() {
        let row = i + 1;
        let mut item_errs = Vec::new();
        let product = it.product.trim().to_string();
        if product.is_empty() {
            item_errs
                .push(RuleViolation::new("required", format!("第{row}个产品：产品名称不能为空")).on_field("product"));
        }
        let category = it.category.trim().to_string();
        if category.is_empty() {
            item_errs
                .push(RuleViolation::new("required", format!("第{row}个产品：产品分类不能为空")).on_field("category"));
        }
        let scopes = match parse_scopes(&it.scopes) {
            Ok(sc) => sc.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(","),
            Err(e) => {
                item_errs.push(RuleViolation::new(e.code, format!("第{row}个产品：{}", e.message)).on_field("scopes"));
                String::new()
            }
        };
        let group = match it.quota {
            Some(0) => {
                item_errs.push(
                    RuleViolation::new("invalid_quota", format!("第{row}个产品：抽查批次须大于0")).on_field("quota"),
                );
                0
            }
            Some(q) => {
                group_quotas.push(q);
                group_quotas.len() - 1
            }
            None if group_quotas.is_empty() => {
                item_errs.push(
                    RuleViolation::new(
                        "invalid_quota",
                        format!("第{row}个产品：第一个产品须填写抽查批次（空白表示与上一产品共用批次）"),
                    )
                    .on_field("quota"),
                );
                0
            }
            None => group_quotas.len() - 1,
        };
        let sampling = org_id_of(s, &it.sampling_org_code, "sampling_org_code", "sampling", &mut item_errs).await?;
        let testing = org_id_of(s, &it.testing_org_code, "testing_org_code", "testing", &mut item_errs).await?;
        let screening = org_id_of(s, &it.screening_org_code, "screening_org_code", "screening", &mut item_errs).await?;
        errs.extend(item_errs.into_iter().map(|v| v.at("items", i)));
        out.push((
            ItemFields {
                plan_id: 0,
                group_id: 0,
                position: row as i32,
                number: it.number.trim().to_string(),
                category,
                product,
                scopes,
                sampling_org_id: sampling,
                testing_org_id: testing,
                screening_org_id: screening,
            },
            group,
        ));
    }
    Ok(CheckedItems { items: out, group_quotas })
}

async fn write_items(tx: &Write, plan_id: i64, checked: CheckedItems) -> Result<()> {
    let mut group_ids = Vec::with_capacity(checked.group_quotas.len());
    for q in &checked.group_quotas {
        group_ids.push(store_plans::insert_group(tx, plan_id, *q as i32).await?.id);
    }
    for (mut f, g) in checked.items {
        f.plan_id = plan_id;
        f.group_id = group_ids.get(g).copied().unwrap_or_default();
        store_plans::insert_item(tx, f).await?;
    }
    Ok(())
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
        roles: vec![Role::Admin],
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

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct QuotaChange {
    pub item_id: i64,
    /// New quota of the item's quota group.
    pub quota: u32,
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct AmendmentInput {
    pub reason: String,
    pub changes: Vec<QuotaChange>,
}

/// Change quotas of an issued plan: a recorded amendment with its reason. A quota never drops
/// below the tasks already drawn against it.
pub async fn amend(s: &Services, actor: &Actor, id: i64, input: AmendmentInput) -> Result<PlanView> {
    let plan = store_plans::get_plan(s.store.reader(), id).await.map_err(ServiceError::not_found("计划"))?;
    check_manage(actor, Some(&plan))?;
    let state: PlanState = plan.state;
    rules::check_quota_change(state, Some(input.reason.as_str()))?;
    if state == PlanState::Draft {
        return Err(ServiceError::Rule(RuleViolation::new("plan_state", "草稿计划可直接修改，无需变更记录")));
    }
    let before = get(s, actor, id).await?;
    let mut changes = Vec::new();
    for c in &input.changes {
        let item = before.items.iter().find(|i| i.id == c.item_id).ok_or(ServiceError::NotFound("计划条目"))?;
        if c.quota == 0 || (c.quota as i64) < item.group_tasks {
            return Err(ServiceError::invalid(
                RuleViolation::new(
                    "invalid_quota",
                    format!("“{}”的批次不能少于已下达的抽样任务数（{}）", item.product, item.group_tasks),
                )
                .on_field("quota"),
            ));
        }
        changes.push((item.group_id, item.product.clone(), item.group_quota, c.quota));
    }
    if changes.is_empty() {
        return Err(ServiceError::invalid(RuleViolation::new("required", "没有要调整的批次").on_field("changes")));
    }
    let tx = s.write(actor).await?;
    for (g, _, _, q) in &changes {
        store_plans::set_group_quota(&tx, *g, *q as i32).await?;
    }
    let before_j = json!(changes.iter().map(|(_, p, old, _)| json!({"product": p, "quota": old})).collect::<Vec<_>>());
    let after_j = json!(changes.iter().map(|(_, p, _, new)| json!({"product": p, "quota": new})).collect::<Vec<_>>());
    let a = store_plans::insert_amendment(
        &tx,
        id,
        input.reason.trim(),
        before_j.to_string(),
        after_j.to_string(),
        actor.user_id,
    )
    .await?;
    tx.commit(AuditEntry::new(
        "plan.amend",
        "plan",
        id,
        before_j,
        json!({"amendment_id": a.id, "reason": input.reason, "changes": after_j}),
    ))
    .await?;
    get(s, actor, id).await
}

/// Who may read a plan: the organising bureau and bureaus (plans are public notices once
/// issued), the institutions assigned to its items; drafts only for the organising bureau.
async fn check_view(s: &Services, actor: &Actor, plan: &PlanRow, items: &[store_plans::ItemRow]) -> Result<()> {
    let _ = s;
    let rel = actor.to_plan(plan.organising_org_id);
    if rel.may(Action::ViewDraftPlan) || Some(plan.organising_org_id) == actor.org_id {
        return Ok(());
    }
    rel.require(Action::ViewPlans)?;
    if plan.state == PlanState::Draft {
        return Err(ServiceError::NotFound("计划"));
    }
    let is_bureau = actor.org_kind.as_deref().and_then(|k| k.parse::<OrgKind>().ok()).is_some_and(OrgKind::is_bureau);
    let assigned = actor.org_id.is_some_and(|o| {
        items
            .iter()
            .any(|i| i.testing_org_id == Some(o) || i.sampling_org_id == Some(o) || i.screening_org_id == Some(o))
    });
    if is_bureau || assigned { Ok(()) } else { Err(ServiceError::NotFound("计划")) }
}

pub async fn get(s: &Services, actor: &Actor, id: i64) -> Result<PlanView> {
    let db = s.store.reader();
    let plan = store_plans::get_plan(db, id).await.map_err(ServiceError::not_found("计划"))?;
    let items = store_plans::items_of(db, id).await?;
    check_view(s, actor, &plan, &items).await?;
    build_view(s, plan, items).await
}

/// A plan item with its plan, for whoever may read the plan.
pub async fn get_item(s: &Services, actor: &Actor, item_id: i64) -> Result<(PlanView, ItemView)> {
    let row = store_plans::get_item(s.store.reader(), item_id).await.map_err(ServiceError::not_found("计划条目"))?;
    let plan = get(s, actor, row.plan_id).await?;
    let item = plan.items.iter().find(|i| i.id == item_id).cloned().ok_or(ServiceError::NotFound("计划条目"))?;
    Ok((plan, item))
}

/// The plan as anyone may read it once issued (the notice is public).
pub async fn get_public(s: &Services, id: i64) -> Result<PlanView> {
    let db = s.store.reader();
    let plan = store_plans::get_plan(db, id).await.map_err(ServiceError::not_found("计划"))?;
    if plan.state == PlanState::Draft {
        return Err(ServiceError::NotFound("计划"));
    }
    let items = store_plans::items_of(db, id).await?;
    build_view(s, plan, items).await
}

async fn build_view(s: &Services, plan: PlanRow, items: Vec<store_plans::ItemRow>) -> Result<PlanView> {
    let db = s.store.reader();
    let groups: BTreeMap<i64, i32> =
        store_plans::groups_of(db, plan.id).await?.into_iter().map(|g| (g.id, g.quota)).collect();
    let counts: BTreeMap<i64, i64> = store_draws::task_counts(db, plan.id).await?.into_iter().collect();
    let mut org_ids: Vec<i64> =
        items.iter().flat_map(|i| [i.sampling_org_id, i.testing_org_id, i.screening_org_id]).flatten().collect();
    org_ids.push(plan.organising_org_id);
    org_ids.sort();
    org_ids.dedup();
    let orgs: BTreeMap<i64, String> =
        organisations::get_many(db, &org_ids).await?.into_iter().map(|o| (o.id, o.name)).collect();
    let name = |id: Option<i64>| id.and_then(|i| orgs.get(&i).cloned());
    let mut group_rows: BTreeMap<i64, usize> = BTreeMap::new();
    let mut group_tasks: BTreeMap<i64, i64> = BTreeMap::new();
    for i in &items {
        *group_rows.entry(i.group_id).or_default() += 1;
        *group_tasks.entry(i.group_id).or_default() += counts.get(&i.id).copied().unwrap_or(0);
    }
    let mut seen = std::collections::BTreeSet::new();
    let mut views = Vec::with_capacity(items.len());
    for i in items {
        let versions = store_rules::versions_of(db, i.id).await?;
        let published = versions.iter().find(|v| v.state == RulesState::Published).map(|v| v.version);
        let scopes_label = parse_scopes(&i.scopes).map(|s| scopes_label(&s)).unwrap_or_default();
        views.push(ItemView {
            id: i.id,
            group_first: seen.insert(i.group_id),
            group_rows: group_rows.get(&i.group_id).copied().unwrap_or(1),
            group_quota: groups.get(&i.group_id).copied().unwrap_or(0),
            group_tasks: group_tasks.get(&i.group_id).copied().unwrap_or(0),
            tasks: counts.get(&i.id).copied().unwrap_or(0),
            group_id: i.group_id,
            number: i.number,
            category: i.category,
            product: i.product,
            scopes_label,
            scopes: i.scopes,
            sampling_org: name(i.sampling_org_id),
            testing_org: name(i.testing_org_id),
            screening_org: name(i.screening_org_id),
            sampling_org_id: i.sampling_org_id,
            testing_org_id: i.testing_org_id,
            screening_org_id: i.screening_org_id,
            rules_state: versions.first().map(|v| v.state),
            rules_published_version: published,
        });
    }
    let total_quota = groups.values().map(|q| i64::from(*q)).sum();
    let amendments = store_plans::amendments_of(db, plan.id)
        .await?
        .into_iter()
        .map(|a| AmendmentView {
            id: a.id,
            reason: a.reason,
            before: serde_json::from_str(&a.before_json).unwrap_or_default(),
            after: serde_json::from_str(&a.after_json).unwrap_or_default(),
            created_at: a.created_at,
        })
        .collect();
    let state_label = plan.state.label().to_string();
    Ok(PlanView {
        id: plan.id,
        year: plan.year,
        title: plan.title,
        organising_org: orgs.get(&plan.organising_org_id).cloned().unwrap_or_default(),
        organising_org_id: plan.organising_org_id,
        doc_no: plan.doc_no,
        domains: plan.domains,
        state: plan.state,
        state_label,
        deadline_delivery: plan.deadline_delivery,
        deadline_data_entry: plan.deadline_data_entry,
        deadline_summary: plan.deadline_summary,
        unqualified_report_days: plan.unqualified_report_days,
        budget_yuan: plan.budget_cents.map(choucha_domain::money::yuan_compact),
        notes: plan.notes,
        total_quota,
        total_tasks: counts.values().sum(),
        items: views,
        amendments,
    })
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PlanQuery {
    #[serde(default)]
    pub year: Option<i32>,
    #[serde(default)]
    pub state: Option<PlanState>,
    #[serde(default)]
    pub cursor: Option<i64>,
    #[serde(default)]
    pub limit: Option<u64>,
}

/// Plans the caller may see: its bureau's own (drafts included), other issued plans for bureaus,
/// and issued plans with an item assigned to the caller's institution.
pub async fn list(s: &Services, actor: &Actor, q: &PlanQuery) -> Result<Page<PlanSummary>> {
    let scope = actor.scope(Action::ViewPlans)?;
    let db = s.store.reader();
    let mut f = PlanFilter { year: q.year, state: q.state, ..Default::default() };
    match scope {
        // Own drafts plus everything issued: drafts of others are filtered out below.
        Scope::All | Scope::Bureau(_) => {}
        Scope::Institution(o) => {
            f.institution_id = Some(o);
            f.not_draft = true;
        }
        Scope::Enterprise(_) => return Err(crate::access::refusal(Action::ViewPlans)),
    }
    let mut page = store_plans::list_plans(db, &f, q.cursor, page_limit(q.limit)?).await?;
    page.items.retain(|p| {
        p.state != PlanState::Draft
            || actor.to_plan(p.organising_org_id).may(Action::ViewDraftPlan)
            || Some(p.organising_org_id) == actor.org_id
    });
    summaries(s, page).await
}

async fn summaries(s: &Services, page: Page<PlanRow>) -> Result<Page<PlanSummary>> {
    let ids: Vec<i64> = page.items.iter().map(|p| p.organising_org_id).collect();
    let orgs: BTreeMap<i64, String> =
        organisations::get_many(s.store.reader(), &ids).await?.into_iter().map(|o| (o.id, o.name)).collect();
    let items = page
        .items
        .into_iter()
        .map(|p| PlanSummary {
            state_label: p.state.label().to_string(),
            id: p.id,
            year: p.year,
            title: p.title,
            doc_no: p.doc_no,
            organising_org: orgs.get(&p.organising_org_id).cloned().unwrap_or_default(),
            state: p.state,
        })
        .collect();
    Ok(Page { items, next: page.next })
}

/// Issued plans for the public pages.
pub async fn list_public(s: &Services, cursor: Option<i64>, limit: Option<u64>) -> Result<Page<PlanSummary>> {
    let f = PlanFilter { not_draft: true, ..Default::default() };
    let page = store_plans::list_plans(s.store.reader(), &f, cursor, page_limit(limit)?).await?;
    summaries(s, page).await
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
