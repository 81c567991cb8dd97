//! The random draw (双随机, DESIGN.md rule 4) of enterprises and sampler teams for a plan item, its
//! verification from the record, redraws, publication, and the sampling tasks it creates.
//!
//! Candidates come from the registry (filters), minus the enterprises that rule 5 (batches per plan)
//! or rule 22 (no repeated check within six months) exclude, each exclusion listed with its reason.
//! The draw itself is `choucha_domain::draw::run`; its record (seed, ordered candidates, samplers,
//! algorithm) is stored whole, never edited or deleted, so anyone can re-run it.

use choucha_domain::RuleViolation;
use choucha_domain::access::Action;
use choucha_domain::draw::{self, Candidate, DrawInput, DrawResult, SamplerCandidate};
use choucha_domain::enterprise::{EnterpriseKind, EnterpriseStatus};
use choucha_domain::plan::PlanState;
use choucha_domain::plan::{
    self as plan_rules, BatchAllowance, BureauLevel, PastCheck, ProductKey, Scope, parse_scopes,
};
use choucha_domain::role::Role;
use choucha_domain::sampling::{TaskAction, TaskState};
use choucha_domain::workflow;
use choucha_store::audit::AuditEntry;
use choucha_store::draws::{self as store_draws, CandidateFilter, DrawRow, NewDraw};
use choucha_store::plans::{self as store_plans, ItemRow, PlanRow};
use choucha_store::{Page, enterprises, organisations, users};
use chrono::{Months, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};

use crate::access::Ask;
use crate::{Actor, Result, ServiceError, Services, implementation_rules, page_limit};

/// Registry filters of a draw.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DrawFilters {
    /// Division code or prefix; defaults to the organising bureau's area.
    #[serde(default)]
    pub division: Option<String>,
    /// Only enterprises whose product lines mention this (e.g. 柴油). Left out, it is the item's
    /// product; an empty string draws from every product line.
    #[serde(default)]
    pub product_line: Option<String>,
    /// large | medium | small | micro
    #[serde(default)]
    pub size_class: Option<String>,
    /// Defaults to operating (在营).
    #[serde(default)]
    pub status: Option<String>,
    /// Kinds to draw from (producer/seller/fuel_station); defaults to the item's scope.
    #[serde(default)]
    pub scopes: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct DrawRequest {
    pub item_id: i64,
    /// How many enterprises to draw (at most what is left of the item's quota).
    pub quota: u32,
    /// Entered at a public draw, or the one `propose_seed` generated and showed before drawing.
    pub seed: String,
    /// Stratify by division in proportion to candidates.
    #[serde(default)]
    pub stratified: bool,
    /// Samplers per team (at least 2).
    #[serde(default)]
    pub team_size: Option<u32>,
    #[serde(default)]
    pub filters: DrawFilters,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = DrawExclusion)]
pub struct Exclusion {
    pub uscc: String,
    pub name: String,
    /// rule5_same_product | rule5_two_batches | rule22_repeat | rule22_higher_level
    pub rule: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DrawnView {
    pub enterprise_id: i64,
    pub uscc: String,
    pub name: String,
    pub division_code: String,
    /// Team members' names (empty on the public page).
    pub team: Vec<String>,
    pub task_id: Option<i64>,
    pub task_state: Option<TaskState>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DrawView {
    pub id: i64,
    pub plan_id: i64,
    pub plan_title: String,
    pub item_id: i64,
    pub product: String,
    pub quota: i32,
    pub seed: String,
    pub stratified: bool,
    pub team_size: i32,
    pub algorithm: String,
    #[schema(value_type = Object)]
    pub filters: serde_json::Value,
    pub candidate_count: i32,
    pub candidate_hash: String,
    pub exclusions: Vec<Exclusion>,
    pub drawn: Vec<DrawnView>,
    pub reason: String,
    pub replaces_draw_id: Option<i64>,
    pub published: bool,
    pub created_at: chrono::DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DrawVerification {
    pub draw_id: i64,
    pub algorithm: String,
    pub candidate_hash: String,
    /// The re-run gave exactly the recorded enterprises and teams.
    pub verified: bool,
    pub message: String,
}

/// A seed to show before drawing (when no public draw supplies one): 128 random bits.
pub fn propose_seed(s: &Services) -> String {
    format!("{}-{}", s.today().format("%Y%m%d"), uuid::Uuid::new_v4().simple())
}

async fn load(s: &Services, item_id: i64) -> Result<(ItemRow, PlanRow)> {
    let db = s.store.reader();
    let item = store_plans::get_item(db, item_id).await.map_err(ServiceError::not_found("计划条目"))?;
    let plan = store_plans::get_plan(db, item.plan_id).await?;
    Ok((item, plan))
}

fn check_organiser(actor: &Actor, plan: &PlanRow) -> Result<()> {
    actor.to_plan(plan.organising_org_id).require_or(Action::Draw, "只有组织该抽查的部门可以进行随机抽取")
}

/// The eligible candidates of an item and the exclusions, with what the draw needs to record.
struct Pool {
    candidates: Vec<Candidate>,
    by_uscc: BTreeMap<String, (i64, String)>,
    exclusions: Vec<Exclusion>,
    filters: serde_json::Value,
}

async fn pool(
    s: &Services,
    plan: &PlanRow,
    item: &ItemRow,
    f: &DrawFilters,
    also_exclude: &BTreeSet<i64>,
) -> Result<Pool> {
    let db = s.store.reader();
    let organiser = organisations::get(db, plan.organising_org_id).await?;
    let division = match f.division.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) => {
            if !d.bytes().all(|b| b.is_ascii_digit()) || d.len() > 6 {
                return Err(ServiceError::invalid(
                    RuleViolation::new("invalid_division", "行政区划代码应为1至6位数字").on_field("division"),
                ));
            }
            Some(d.to_string())
        }
        None => organiser
            .division_code
            .as_deref()
            .and_then(|d| choucha_domain::division::DivisionCode::parse(d).ok())
            .map(|d| d.scope_prefix().to_string()),
    };
    let scopes = parse_scopes(f.scopes.as_deref().filter(|s| !s.trim().is_empty()).unwrap_or(&item.scopes))?;
    let kind_mask = scopes.iter().fold(0, |m, s: &Scope| m | s.kind().bit());
    let status = match f.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(st) => st.parse::<EnterpriseStatus>()?.as_str().to_string(),
        None => EnterpriseStatus::Operating.as_str().to_string(),
    };
    let size_class = match f.size_class.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(sc) => Some(sc.parse::<choucha_domain::enterprise::SizeClass>()?.as_str().to_string()),
        None => None,
    };
    let product_line = match f.product_line.as_deref().map(str::trim) {
        None => Some(item.product.as_str()),
        Some("") => None,
        Some(p) => Some(p),
    };
    let rows = store_draws::candidates(
        db,
        &CandidateFilter {
            division_prefix: division.clone(),
            kind_mask,
            status: Some(status.clone()),
            size_class: size_class.clone(),
            product_line: product_line.map(str::to_string),
        },
    )
    .await?;
    let rows: Vec<_> = rows.into_iter().filter(|r| product_line.is_none_or(|p| r.product_lines.contains(p))).collect();

    // Rule 5: batches already given in this plan, with the bureau's exceptions.
    let mut batches: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for (e, i) in store_draws::plan_batches(db, plan.id).await? {
        batches.entry(e).or_default().push(i);
    }
    let allowances: BTreeMap<i64, BatchAllowance> = store_draws::allowances_of(db, plan.id)
        .await?
        .into_iter()
        .map(|a| {
            (
                a.enterprise_id,
                BatchAllowance {
                    max_total: a.max_total as u32,
                    max_per_product: a.max_per_product as u32,
                    reason: a.reason,
                },
            )
        })
        .collect();
    // Rule 22: the same product checked within six months by this bureau or a higher one.
    let today = s.now();
    let since = today.checked_sub_months(Months::new(plan_rules::REPEAT_WINDOW_MONTHS)).unwrap_or(today);
    let past_rows = store_draws::past_tasks_of_product(db, &item.product, since, plan.id).await?;
    let past_orgs: Vec<i64> = past_rows.iter().map(|(_, _, o, _)| *o).collect();
    let orgs: BTreeMap<i64, (String, String)> =
        organisations::get_many(db, &past_orgs).await?.into_iter().map(|o| (o.id, (o.name, o.kind))).collect();
    let mut past: BTreeMap<i64, Vec<PastCheck>> = BTreeMap::new();
    for (_, e, o, at) in past_rows {
        let (name, kind) = orgs.get(&o).cloned().unwrap_or_default();
        past.entry(e).or_default().push(PastCheck {
            bureau_id: o,
            bureau_name: name,
            level: BureauLevel::of_code(&kind),
            key: ProductKey::default(),
            sampled_on: at.date_naive(),
        });
    }
    let level = BureauLevel::of_code(&organiser.kind);
    let mut candidates = Vec::new();
    let mut by_uscc = BTreeMap::new();
    let mut exclusions = Vec::new();
    for r in rows {
        if also_exclude.contains(&r.id) {
            continue;
        }
        let existing = batches.get(&r.id).cloned().unwrap_or_default();
        let refusal = plan_rules::check_batch_limits(&existing, item.id, allowances.get(&r.id)).err().or_else(|| {
            let key = ProductKey { producer: r.uscc.clone(), product: item.product.clone(), ..Default::default() };
            let checks: Vec<PastCheck> = past
                .get(&r.id)
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(|mut p| {
                    p.key = key.clone();
                    p
                })
                .collect();
            plan_rules::check_repeat(&checks, plan.organising_org_id, level, &key, today.date_naive(), false).err()
        });
        match refusal {
            Some(v) => {
                exclusions.push(Exclusion { uscc: r.uscc, name: r.name, rule: v.code.to_string(), reason: v.message })
            }
            None => {
                by_uscc.insert(r.uscc.clone(), (r.id, r.name));
                candidates.push(Candidate { uscc: r.uscc, division_code: r.division_code });
            }
        }
    }
    candidates.sort_by(|a, b| a.uscc.cmp(&b.uscc));
    let filters = json!({
        "division": division,
        "kinds": scopes.iter().map(|s| s.kind().as_str()).collect::<Vec<_>>(),
        "status": status,
        "size_class": size_class,
        "product_line": product_line,
    });
    Ok(Pool { candidates, by_uscc, exclusions, filters })
}

async fn sampler_pool(s: &Services, item: &ItemRow) -> Result<(Vec<SamplerCandidate>, BTreeMap<String, i64>)> {
    let db = s.store.reader();
    let org = item
        .sampling_org_id
        .ok_or_else(|| ServiceError::Rule(RuleViolation::new("plan_unassigned", "该产品尚未指定抽样机构")))?;
    let samplers = store_draws::users_with_role(db, org, Role::Sampler.as_str()).await?;
    let ids: Vec<i64> = samplers.iter().map(|(id, _, _)| *id).collect();
    let conflicts = store_draws::conflicts_of(db, &ids).await?;
    let mut ent_ids: Vec<i64> = conflicts.iter().map(|(_, e)| *e).collect();
    ent_ids.sort();
    ent_ids.dedup();
    let mut uscc_of = BTreeMap::new();
    for e in ent_ids {
        uscc_of.insert(e, enterprises::get(db, e).await?.uscc);
    }
    let mut by_name = BTreeMap::new();
    let pool = samplers
        .into_iter()
        .map(|(id, username, _)| {
            by_name.insert(username.clone(), id);
            SamplerCandidate {
                conflicts: conflicts
                    .iter()
                    .filter(|(u, _)| *u == id)
                    .filter_map(|(_, e)| uscc_of.get(e).cloned())
                    .collect(),
                username,
            }
        })
        .collect();
    Ok((pool, by_name))
}

/// What a draw would start from: candidates and exclusions, without drawing.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DrawPreview {
    pub candidate_count: usize,
    pub exclusions: Vec<Exclusion>,
    pub remaining_quota: i64,
    pub samplers: usize,
    pub proposed_seed: String,
}

async fn remaining_quota(s: &Services, plan: &PlanRow, item: &ItemRow) -> Result<i64> {
    let db = s.store.reader();
    let groups = store_plans::groups_of(db, plan.id).await?;
    let quota = groups.iter().find(|g| g.id == item.group_id).map(|g| i64::from(g.quota)).unwrap_or(0);
    let group_items: BTreeSet<i64> = store_plans::items_of(db, plan.id)
        .await?
        .into_iter()
        .filter(|i| i.group_id == item.group_id)
        .map(|i| i.id)
        .collect();
    let used: i64 = store_draws::task_counts(db, plan.id)
        .await?
        .into_iter()
        .filter(|(i, _)| group_items.contains(i))
        .map(|(_, n)| n)
        .sum();
    Ok(quota - used)
}

pub async fn preview(s: &Services, actor: &Actor, item_id: i64, filters: &DrawFilters) -> Result<DrawPreview> {
    let (item, plan) = load(s, item_id).await?;
    check_organiser(actor, &plan)?;
    let p = pool(s, &plan, &item, filters, &BTreeSet::new()).await?;
    let (samplers, _) = sampler_pool(s, &item).await?;
    Ok(DrawPreview {
        candidate_count: p.candidates.len(),
        exclusions: p.exclusions,
        remaining_quota: remaining_quota(s, &plan, &item).await?,
        samplers: samplers.len(),
        proposed_seed: propose_seed(s),
    })
}

struct Redraw {
    replaces_draw_id: i64,
    replaces_task_id: i64,
    replaces_enterprise_id: i64,
    reason: String,
    /// The replaced task is still assigned: the redraw closes it as not sampled.
    closes_task: bool,
}

/// Draw enterprises and teams for an item and create their sampling tasks.
#[tracing::instrument(skip_all, fields(item_id = req.item_id))]
pub async fn run(s: &Services, actor: &Actor, req: DrawRequest) -> Result<DrawView> {
    let id = run_inner(s, actor, req, None).await?;
    get(s, actor, id).await
}

async fn run_inner(s: &Services, actor: &Actor, req: DrawRequest, redraw: Option<Redraw>) -> Result<i64> {
    let (item, plan) = load(s, req.item_id).await?;
    check_organiser(actor, &plan)?;
    if plan.state != PlanState::Issued {
        return Err(ServiceError::Rule(RuleViolation::new(
            "plan_state",
            "计划下达后才能进行随机抽取，结束后不能再抽取",
        )));
    }
    // A redraw's transaction closes the replaced task, so its place counts as free.
    let remaining = remaining_quota(s, &plan, &item).await? + i64::from(redraw.as_ref().is_some_and(|r| r.closes_task));
    if req.quota == 0 || i64::from(req.quota) > remaining {
        return Err(ServiceError::invalid(
            RuleViolation::new(
                "draw_quota",
                format!("抽取数量须在1至剩余批次{remaining}之间（共用批次的产品合并计算）"),
            )
            .on_field("quota"),
        ));
    }
    let mut exclude = BTreeSet::new();
    if let Some(r) = &redraw {
        exclude.insert(r.replaces_enterprise_id);
    }
    let p = pool(s, &plan, &item, &req.filters, &exclude).await?;
    let (samplers, sampler_ids) = sampler_pool(s, &item).await?;
    let input = DrawInput {
        seed: req.seed.trim().to_string(),
        candidates: p.candidates.clone(),
        quota: req.quota as usize,
        stratified: req.stratified,
        samplers: samplers.clone(),
        team_size: req.team_size.unwrap_or(draw::MIN_TEAM as u32) as usize,
    };
    let result = draw::run(&input)?;
    let tx = s.write(actor).await?;
    let row = store_draws::insert(
        &tx,
        NewDraw {
            plan_id: plan.id,
            item_id: item.id,
            quota: req.quota as i32,
            seed: input.seed.clone(),
            stratified: input.stratified,
            team_size: input.team_size as i32,
            algorithm: result.algorithm.clone(),
            filters_json: p.filters.to_string(),
            candidate_count: p.candidates.len() as i32,
            candidate_hash: result.candidate_hash.clone(),
            candidates_json: serde_json::to_string(&input.candidates).map_err(ServiceError::internal)?,
            exclusions_json: serde_json::to_string(&p.exclusions).map_err(ServiceError::internal)?,
            samplers_json: serde_json::to_string(&input.samplers).map_err(ServiceError::internal)?,
            result_json: serde_json::to_string(&result).map_err(ServiceError::internal)?,
            reason: redraw.as_ref().map(|r| r.reason.clone()).unwrap_or_default(),
            replaces_draw_id: redraw.as_ref().map(|r| r.replaces_draw_id),
            replaces_enterprise_id: redraw.as_ref().map(|r| r.replaces_enterprise_id),
            created_by: actor.user_id,
        },
    )
    .await?;
    if let Some(r) = redraw.as_ref().filter(|r| r.closes_task) {
        let next = workflow::step(TaskState::Assigned, TaskAction::MarkNotSampled)?;
        store_draws::set_task_state(&tx, r.replaces_task_id, next).await?;
    }
    let mut drawn = Vec::with_capacity(result.drawn.len());
    for d in &result.drawn {
        let (eid, _) =
            p.by_uscc.get(&d.uscc).cloned().ok_or_else(|| ServiceError::internal("drawn enterprise not in pool"))?;
        let team: Vec<i64> = d.team.iter().filter_map(|u| sampler_ids.get(u).copied()).collect();
        drawn.push((eid, team));
    }
    store_draws::insert_tasks(&tx, plan.id, item.id, row.id, plan.deadline_delivery, &drawn).await?;
    tx.commit(AuditEntry::new(
            if redraw.is_some() { "draw.redraw" } else { "draw.create" },
            "draw",
            row.id,
            json!(null),
            json!({"item_id": item.id, "quota": req.quota, "seed": input.seed, "candidate_hash": result.candidate_hash, "drawn": result.drawn.iter().map(|d| &d.uscc).collect::<Vec<_>>(), "reason": redraw.as_ref().map(|r| &r.reason)}),
        )).await?;
    Ok(row.id)
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct RedrawRequest {
    /// The task whose enterprise cannot be sampled.
    pub task_id: i64,
    /// e.g. 停业、查无此企业
    pub reason: String,
    pub seed: String,
}

/// Replace an enterprise that cannot be sampled (停业, not found): a new recorded draw of one,
/// with its reason; the old task is closed as not sampled.
pub async fn redraw(s: &Services, actor: &Actor, req: RedrawRequest) -> Result<DrawView> {
    let db = s.store.reader();
    let task = store_draws::get_task(db, req.task_id).await.map_err(ServiceError::not_found("抽样任务"))?;
    // A task not yet started, or one recorded as not sampled (its place is already free).
    if !matches!(task.state, TaskState::Assigned | TaskState::NotSampled) {
        return Err(ServiceError::Rule(RuleViolation::new(
            "task_state",
            "只有尚未开始抽样或已记为未抽样的任务可以重新抽取",
        )));
    }
    let already = store_draws::of_plan(db, task.plan_id).await?.into_iter().any(|d| {
        d.item_id == task.item_id && d.replaces_enterprise_id == Some(task.enterprise_id) && !d.reason.is_empty()
    });
    if already {
        return Err(ServiceError::Rule(RuleViolation::new("already_redrawn", "该企业已经重新抽取过替补企业")));
    }
    if req.reason.trim().is_empty() {
        return Err(ServiceError::invalid(
            RuleViolation::new("required", "请说明重新抽取的原因（如停业、查无此企业）").on_field("reason"),
        ));
    }
    let old = store_draws::get(db, task.draw_id).await?;
    let filters: DrawFilters = serde_json::from_str::<serde_json::Value>(&old.filters_json)
        .ok()
        .map(|v| DrawFilters {
            division: v["division"].as_str().map(str::to_string),
            // Recorded null: the draw took every product line.
            product_line: Some(v["product_line"].as_str().unwrap_or_default().to_string()),
            size_class: v["size_class"].as_str().map(str::to_string),
            status: v["status"].as_str().map(str::to_string),
            scopes: None,
        })
        .unwrap_or_default();
    let redraw = Redraw {
        replaces_draw_id: old.id,
        replaces_task_id: task.id,
        replaces_enterprise_id: task.enterprise_id,
        reason: req.reason.trim().to_string(),
        closes_task: task.state == TaskState::Assigned,
    };
    let req2 = DrawRequest {
        item_id: task.item_id,
        quota: 1,
        seed: req.seed,
        stratified: false,
        team_size: Some(old.team_size as u32),
        filters,
    };
    let id = run_inner(s, actor, req2, Some(redraw)).await?;
    get(s, actor, id).await
}

fn drawn_views(
    result: &DrawResult,
    names: &BTreeMap<String, (i64, String)>,
    tasks: &BTreeMap<i64, (i64, TaskState)>,
    team_names: &BTreeMap<String, String>,
    with_team: bool,
) -> Vec<DrawnView> {
    result
        .drawn
        .iter()
        .map(|d| {
            let (eid, name) = names.get(&d.uscc).cloned().unwrap_or_default();
            let task = tasks.get(&eid).cloned();
            DrawnView {
                enterprise_id: eid,
                uscc: d.uscc.clone(),
                name,
                division_code: d.division_code.clone(),
                team: if with_team {
                    d.team.iter().map(|u| team_names.get(u).cloned().unwrap_or_else(|| u.clone())).collect()
                } else {
                    Vec::new()
                },
                task_id: task.as_ref().map(|t| t.0),
                task_state: task.map(|t| t.1),
            }
        })
        .collect()
}

async fn build_view(s: &Services, row: DrawRow, with_team: bool) -> Result<DrawView> {
    let db = s.store.reader();
    let (item, plan) = load(s, row.item_id).await?;
    let result: DrawResult = serde_json::from_str(&row.result_json).map_err(ServiceError::internal)?;
    let usccs: Vec<String> = result.drawn.iter().map(|d| d.uscc.clone()).collect();
    let names: BTreeMap<String, (i64, String)> =
        enterprises::find_by_usccs(db, &usccs).await?.into_iter().map(|e| (e.uscc, (e.id, e.name))).collect();
    let tasks: BTreeMap<i64, (i64, TaskState)> =
        store_draws::tasks_of_draw(db, row.id).await?.into_iter().map(|t| (t.enterprise_id, (t.id, t.state))).collect();
    let mut team_names = BTreeMap::new();
    if with_team {
        let usernames: Vec<String> = result.drawn.iter().flat_map(|d| d.team.iter().cloned()).collect();
        for user in users::find_by_usernames(db, &usernames).await? {
            team_names.insert(user.username, user.display_name);
        }
    }
    Ok(DrawView {
        drawn: drawn_views(&result, &names, &tasks, &team_names, with_team),
        id: row.id,
        plan_id: plan.id,
        plan_title: plan.title,
        item_id: item.id,
        product: item.product,
        quota: row.quota,
        seed: row.seed,
        stratified: row.stratified,
        team_size: row.team_size,
        algorithm: row.algorithm,
        filters: serde_json::from_str(&row.filters_json).unwrap_or_default(),
        candidate_count: row.candidate_count,
        candidate_hash: row.candidate_hash,
        exclusions: serde_json::from_str(&row.exclusions_json).unwrap_or_default(),
        reason: row.reason,
        replaces_draw_id: row.replaces_draw_id,
        published: row.published,
        created_at: row.created_at,
    })
}

/// A draw for the organising bureau and the plan's sampling institution.
pub async fn get(s: &Services, actor: &Actor, id: i64) -> Result<DrawView> {
    let row = store_draws::get(s.store.reader(), id).await.map_err(ServiceError::not_found("抽取记录"))?;
    let (item, plan) = load(s, row.item_id).await?;
    actor.to_item(plan.organising_org_id, item.sampling_org_id, None).visible(Action::ViewDraw, "抽取记录")?;
    build_view(s, row, true).await
}

/// One drawn enterprise as the public reads it (一公开): its name, USCC and division, no internal ids.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicDrawn {
    pub uscc: String,
    pub name: String,
    pub division_code: String,
}

/// A published draw as the public reads it: enough to re-run it (seed, candidate count and hash,
/// algorithm, filters, exclusions) and its result, but no task, enterprise or user id and no task
/// state: a task id is what the lab side's records carry, so publishing it beside the enterprise
/// would join a blind sample to its enterprise (rule 13). The plan and item ids are the public
/// pages' own keys.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicDrawView {
    pub id: i64,
    pub plan_id: i64,
    pub plan_title: String,
    pub item_id: i64,
    pub product: String,
    pub quota: i32,
    pub seed: String,
    pub stratified: bool,
    pub team_size: i32,
    pub algorithm: String,
    pub filters: serde_json::Value,
    pub candidate_count: i32,
    pub candidate_hash: String,
    pub exclusions: Vec<Exclusion>,
    pub drawn: Vec<PublicDrawn>,
    pub reason: String,
    pub replaces_draw_id: Option<i64>,
    pub created_at: chrono::DateTime<Utc>,
}

fn public_view(d: DrawView) -> PublicDrawView {
    PublicDrawView {
        id: d.id,
        plan_id: d.plan_id,
        plan_title: d.plan_title,
        item_id: d.item_id,
        product: d.product,
        quota: d.quota,
        seed: d.seed,
        stratified: d.stratified,
        team_size: d.team_size,
        algorithm: d.algorithm,
        filters: d.filters,
        candidate_count: d.candidate_count,
        candidate_hash: d.candidate_hash,
        exclusions: d.exclusions,
        drawn: d
            .drawn
            .into_iter()
            .map(|e| PublicDrawn { uscc: e.uscc, name: e.name, division_code: e.division_code })
            .collect(),
        reason: d.reason,
        replaces_draw_id: d.replaces_draw_id,
        created_at: d.created_at,
    }
}

/// A published draw, for everyone (teams are not published).
pub async fn get_published(s: &Services, id: i64) -> Result<PublicDrawView> {
    let row = store_draws::get(s.store.reader(), id).await.map_err(ServiceError::not_found("抽取记录"))?;
    if !row.published {
        return Err(ServiceError::NotFound("抽取记录"));
    }
    Ok(public_view(build_view(s, row, false).await?))
}

pub async fn list_for_plan(s: &Services, actor: &Actor, plan_id: i64) -> Result<Vec<DrawView>> {
    let plan = store_plans::get_plan(s.store.reader(), plan_id).await.map_err(ServiceError::not_found("计划"))?;
    actor.to_plan(plan.organising_org_id).visible(Action::Draw, "计划")?;
    let mut out = Vec::new();
    for row in store_draws::of_plan(s.store.reader(), plan_id).await? {
        out.push(build_view(s, row, true).await?);
    }
    Ok(out)
}

/// The published draws of an issued plan, for everyone (teams are not published).
pub async fn published_for_plan(s: &Services, plan_id: i64) -> Result<Vec<PublicDrawView>> {
    let mut out = Vec::new();
    for row in store_draws::of_plan(s.store.reader(), plan_id).await?.into_iter().filter(|d| d.published) {
        out.push(public_view(build_view(s, row, false).await?));
    }
    Ok(out)
}

pub async fn publish(s: &Services, actor: &Actor, id: i64) -> Result<DrawView> {
    let row = store_draws::get(s.store.reader(), id).await.map_err(ServiceError::not_found("抽取记录"))?;
    let (_, plan) = load(s, row.item_id).await?;
    check_organiser(actor, &plan)?;
    let tx = s.write(actor).await?;
    store_draws::set_published(&tx, id).await.map_err(|e| match e {
        choucha_store::StoreError::Conflict => {
            ServiceError::Rule(RuleViolation::new("draw_published", "该抽取结果已公开"))
        }
        other => other.into(),
    })?;
    tx.commit(AuditEntry::new("draw.publish", "draw", id, json!({"published": false}), json!({"published": true})))
        .await?;
    get(s, actor, id).await
}

/// Re-run a draw from its stored record and compare (anyone may ask for a published draw; the
/// organising bureau for any).
pub async fn verify(s: &Services, id: i64) -> Result<DrawVerification> {
    let row = store_draws::get(s.store.reader(), id).await.map_err(ServiceError::not_found("抽取记录"))?;
    let candidates: Vec<Candidate> = serde_json::from_str(&row.candidates_json).map_err(ServiceError::internal)?;
    let samplers: Vec<SamplerCandidate> = serde_json::from_str(&row.samplers_json).map_err(ServiceError::internal)?;
    let recorded: DrawResult = serde_json::from_str(&row.result_json).map_err(ServiceError::internal)?;
    let input = DrawInput {
        seed: row.seed.clone(),
        candidates,
        quota: row.quota as usize,
        stratified: row.stratified,
        samplers,
        team_size: row.team_size as usize,
    };
    let hash_ok = draw::candidate_hash(&input.candidates) == row.candidate_hash;
    let verified = hash_ok && draw::verify(&input, &recorded)?;
    let message = if verified {
        format!("复核一致：按记录的种子与候选名单（{}家）重新抽取，结果与原抽取结果完全相同", row.candidate_count)
    } else if !hash_ok {
        "复核不一致：候选名单与记录的哈希值不符".to_string()
    } else {
        "复核不一致：重新抽取的结果与记录不同".to_string()
    };
    Ok(DrawVerification {
        draw_id: id,
        algorithm: row.algorithm,
        candidate_hash: row.candidate_hash,
        verified,
        message,
    })
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct AllowanceInput {
    pub plan_id: i64,
    pub enterprise_uscc: String,
    pub max_total: u32,
    pub max_per_product: u32,
    pub reason: String,
}

/// Rule 5's exception: the organising bureau lets a large shopping centre or supermarket give more
/// batches, recorded with its reason.
pub async fn grant_allowance(s: &Services, actor: &Actor, input: AllowanceInput) -> Result<()> {
    let db = s.store.reader();
    let plan = store_plans::get_plan(db, input.plan_id).await.map_err(ServiceError::not_found("计划"))?;
    check_organiser(actor, &plan)?;
    let ent = enterprises::find_by_uscc(db, &input.enterprise_uscc.trim().to_uppercase()).await?.ok_or_else(|| {
        ServiceError::invalid(
            RuleViolation::new("unknown_enterprise", "名录库中没有该企业").on_field("enterprise_uscc"),
        )
    })?;
    if input.reason.trim().is_empty() {
        return Err(ServiceError::invalid(
            RuleViolation::new("required", "请说明理由（如大型商场、超市）").on_field("reason"),
        ));
    }
    if input.max_total < plan_rules::MAX_BATCHES_PER_ENTERPRISE
        || input.max_per_product < 1
        || input.max_per_product > input.max_total
    {
        return Err(ServiceError::invalid(
            RuleViolation::new("invalid_allowance", "放宽后的批次数须不少于2批，且同一产品批次数不超过总批次数")
                .on_field("max_total"),
        ));
    }
    if ent.kinds & EnterpriseKind::Seller.bit() == 0 {
        return Err(ServiceError::Rule(RuleViolation::new(
            "rule5_allowance_seller",
            "放宽批次限制只适用于大型商场、超市等销售者（规则5）",
        )));
    }
    let tx = s.write(actor).await?;
    store_draws::upsert_allowance(
        &tx,
        choucha_store::draws::AllowanceRow {
            plan_id: plan.id,
            enterprise_id: ent.id,
            max_total: input.max_total as i32,
            max_per_product: input.max_per_product as i32,
            reason: input.reason.trim().to_string(),
            granted_by: actor.user_id,
            created_at: s.now(),
        },
    )
    .await?;
    tx.commit(AuditEntry::new("plan.batch_allowance", "plan", plan.id, json!(null), json!(input))).await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TaskView {
    pub id: i64,
    pub plan_id: i64,
    pub plan_title: String,
    pub item_id: i64,
    pub product: String,
    pub enterprise_id: i64,
    pub enterprise_name: String,
    pub enterprise_uscc: String,
    pub enterprise_address: String,
    pub team: Vec<String>,
    /// The team's user ids, in the order of `team`.
    pub team_ids: Vec<i64>,
    pub state: TaskState,
    pub state_label: String,
    pub due_date: Option<chrono::NaiveDate>,
    /// Whether the item's implementation rules are published (sampling may start).
    pub rules_published: bool,
    /// Rule 16: sampling information is due by the end of the day after sampling (China's time).
    pub entry_deadline: Option<chrono::DateTime<Utc>>,
    /// The record was locked after the deadline.
    pub entry_late: bool,
    /// The deadline passed and the record is not locked yet.
    pub entry_overdue: bool,
    /// What the caller may do with the task (the permission matrix's answer).
    #[schema(value_type = Vec<String>)]
    pub actions: Vec<Action>,
}

async fn task_view(s: &Services, actor: &Actor, t: choucha_store::draws::TaskRow) -> Result<TaskView> {
    task_views(s, actor, vec![t]).await?.pop().ok_or(ServiceError::NotFound("抽样任务"))
}

/// The views of a page of tasks, the same as `task_view` of each, in one query per table (items,
/// plans, enterprises, teams, users, published rules, records, arrivals) instead of ~7 per task.
/// Task views with what `actor` may do with each (read in batches: one query per table).
async fn task_views(s: &Services, actor: &Actor, tasks: Vec<choucha_store::draws::TaskRow>) -> Result<Vec<TaskView>> {
    use std::collections::BTreeMap as Map;
    if tasks.is_empty() {
        return Ok(Vec::new());
    }
    let db = s.store.reader();
    let item_ids: Vec<i64> = tasks.iter().map(|t| t.item_id).collect();
    let enterprise_ids: Vec<i64> = tasks.iter().map(|t| t.enterprise_id).collect();
    let task_ids: Vec<i64> = tasks.iter().map(|t| t.id).collect();
    let items: Map<i64, ItemRow> =
        store_plans::get_items(db, &item_ids).await?.into_iter().map(|i| (i.id, i)).collect();
    let plan_ids: Vec<i64> = items.values().map(|i| i.plan_id).collect();
    let plans: Map<i64, PlanRow> =
        store_plans::get_plans(db, &plan_ids).await?.into_iter().map(|p| (p.id, p)).collect();
    let ents: Map<i64, choucha_store::enterprises::EnterpriseRow> =
        enterprises::get_many(db, &enterprise_ids).await?.into_iter().map(|e| (e.id, e)).collect();
    let mut teams: Map<i64, Vec<i64>> = Map::new();
    for (task, user) in store_draws::teams_of(db, &task_ids).await? {
        teams.entry(task).or_default().push(user);
    }
    let user_ids: Vec<i64> = teams.values().flatten().copied().collect();
    let names: Map<i64, String> =
        users::get_many(db, &user_ids).await?.into_iter().map(|u| (u.id, u.display_name)).collect();
    let published: BTreeSet<i64> =
        choucha_store::implementation_rules::published_of_items(db, &items.keys().copied().collect::<Vec<_>>())
            .await?
            .into_iter()
            .map(|r| r.item_id)
            .collect();
    let entries = crate::entry_deadlines::entries_of_tasks(s, &tasks, s.now()).await?;
    let mut out = Vec::with_capacity(tasks.len());
    for t in tasks {
        // The errors `task_view` gives for a missing row.
        let item = items.get(&t.item_id).cloned().ok_or(ServiceError::NotFound("计划条目"))?;
        let plan = plans.get(&item.plan_id).cloned().ok_or(choucha_store::StoreError::NotFound)?;
        let e = ents.get(&t.enterprise_id).cloned().ok_or(choucha_store::StoreError::NotFound)?;
        let team_ids = teams.remove(&t.id).unwrap_or_default();
        let team = team_ids
            .iter()
            .map(|u| names.get(u).cloned().ok_or(choucha_store::StoreError::NotFound))
            .collect::<std::result::Result<Vec<String>, _>>()?;
        let entry = entries.get(&t.id).copied();
        let actions = actor.to_task(crate::access::task_parties(&plan, &item, &team_ids)).actions(TASK_ACTIONS);
        out.push(TaskView {
            id: t.id,
            plan_id: plan.id,
            plan_title: plan.title,
            item_id: item.id,
            rules_published: published.contains(&item.id),
            product: item.product,
            enterprise_id: e.id,
            enterprise_name: e.name,
            enterprise_uscc: e.uscc,
            enterprise_address: e.address,
            team,
            team_ids,
            state_label: t.state.label().to_string(),
            state: t.state,
            due_date: t.due_date,
            entry_deadline: entry.map(|e| e.deadline),
            entry_late: entry.is_some_and(|e| e.late),
            entry_overdue: entry.is_some_and(|e| e.overdue),
            actions,
        });
    }
    Ok(out)
}

/// A sampler's own tasks, newest first.
pub async fn my_tasks(s: &Services, actor: &Actor, cursor: Option<i64>, limit: Option<u64>) -> Result<Page<TaskView>> {
    actor.require(Action::ClaimTask)?;
    let p = store_draws::tasks_of_user(s.store.reader(), actor.user_id, cursor, page_limit(limit)?).await?;
    Ok(Page { items: task_views(s, actor, p.items).await?, next: p.next })
}

pub async fn get_task(s: &Services, actor: &Actor, id: i64) -> Result<TaskView> {
    let db = s.store.reader();
    let t = store_draws::get_task(db, id).await.map_err(ServiceError::not_found("抽样任务"))?;
    let (item, plan) = load(s, t.item_id).await?;
    let team = store_draws::team_of(db, id).await?;
    actor.to_task(crate::access::task_parties(&plan, &item, &team)).visible(Action::ViewTask, "抽样任务")?;
    task_view(s, actor, t).await
}

/// The actions a task view offers.
const TASK_ACTIONS: &[Action] = &[
    Action::WorkOnSite,
    Action::HandOver,
    Action::MarkNotSampled,
    Action::ViewEvidence,
    Action::ViewCustody,
    Action::ReassignTask,
];

/// A team member starts sampling on site. Refused until the item's rules are published (rule 3).
pub async fn start_task(s: &Services, actor: &Actor, id: i64) -> Result<TaskView> {
    let db = s.store.reader();
    let t = store_draws::get_task(db, id).await.map_err(ServiceError::not_found("抽样任务"))?;
    let (item, plan) = load(s, t.item_id).await?;
    let team = store_draws::team_of(db, id).await?;
    actor
        .to_task(crate::access::task_parties(&plan, &item, &team))
        .require_or(Action::WorkOnSite, "只有该任务抽样组的成员可以开始抽样")?;
    let next = workflow::step(t.state, TaskAction::Start)?;
    let rules = implementation_rules::require_published(s, t.item_id).await?;
    let tx = s.write(actor).await?;
    store_draws::set_task_state(&tx, id, next).await?;
    tx.commit(AuditEntry::new(
        "task.start",
        "sampling_task",
        id,
        json!({"state": "assigned"}),
        json!({"state": "in_progress", "rules_version": rules.version}),
    ))
    .await?;
    get_task(s, actor, id).await
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct ConflictInput {
    /// USCC of the enterprise the sampler must not visit.
    pub enterprise_uscc: String,
    /// e.g. 近亲属在该企业任职
    pub reason: String,
}

/// A sampler declares a conflict of interest (回避) with an enterprise; draws never send them there.
pub async fn declare_conflict(s: &Services, actor: &Actor, input: ConflictInput) -> Result<()> {
    actor.require_or(Action::ClaimTask, "只有抽样人员需要申报回避")?;
    if input.reason.trim().is_empty() {
        return Err(ServiceError::invalid(RuleViolation::new("required", "请说明回避理由").on_field("reason")));
    }
    let ent = enterprises::find_by_uscc(s.store.reader(), &input.enterprise_uscc.trim().to_uppercase())
        .await?
        .ok_or_else(|| {
            ServiceError::invalid(
                RuleViolation::new("unknown_enterprise", "名录库中没有该企业").on_field("enterprise_uscc"),
            )
        })?;
    let tx = s.write(actor).await?;
    store_draws::insert_conflict(&tx, actor.user_id, ent.id, input.reason.trim()).await.map_err(|e| match e {
        choucha_store::StoreError::Duplicate(_) => {
            ServiceError::invalid(RuleViolation::new("duplicate", "已申报过对该企业的回避").on_field("enterprise_uscc"))
        }
        other => other.into(),
    })?;
    tx.commit(AuditEntry::new(
        "sampler.conflict",
        "user",
        actor.user_id,
        json!(null),
        json!({"enterprise_id": ent.id, "reason": input.reason.trim()}),
    ))
    .await?;
    Ok(())
}
