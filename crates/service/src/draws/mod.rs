//! The random draw (双随机, DESIGN.md rule 4) of enterprises and sampler teams for a plan item, its
//! verification from the record, redraws, publication, and the sampling tasks it creates.
//!
//! Candidates come from the registry (filters), minus the enterprises that rule 5 (batches per plan)
//! or rule 22 (no repeated check within six months) exclude, each exclusion listed with its reason.
//! The draw itself is `choucha_domain::draw::run`; its record (seed, ordered candidates, samplers,
//! algorithm) is stored whole, never edited or deleted, so anyone can re-run it.

use choucha_domain::RuleViolation;
use choucha_domain::access::Action;
use choucha_domain::draw::risk::{RiskClass, RiskWeights};
use choucha_domain::draw::{self, DrawInput, DrawResult};
use choucha_domain::enterprise::EnterpriseKind;
use choucha_domain::plan::PlanState;
use choucha_domain::plan::{self as plan_rules};
use choucha_domain::sampling::{TaskAction, TaskState};
use choucha_domain::workflow;
use choucha_store::audit::AuditEntry;
use choucha_store::draws::{self as store_draws, DrawRow, NewDraw};
use choucha_store::plans::{self as store_plans, ItemRow, PlanRow};
use choucha_store::{enterprises, users};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};

use crate::access::Ask;
use crate::{Actor, Result, ServiceError, Services};

mod commitment;
mod pool;
mod public;
mod risk;
mod tasks;

pub use commitment::{SeedCommitmentView, commit_seed, commitments_of_plan, open_commitment, seed_sha256};
pub use pool::{DrawPreview, preview};
use pool::{pool, remaining_quota, sampler_pool};
pub use public::{
    PublicDrawRecord, PublicDrawView, PublicDrawn, RECORD_FORMAT, RecordCandidate, RecordCommitment, RecordDrawn,
    RecordSampler, get_published, published_for_plan, published_record, verify,
};
pub use tasks::{
    ConflictInput, TaskFilter, TaskView, declare_conflict, get_task, my_tasks, my_tasks_filtered, start_task,
};

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
    /// Left empty when the item has an open seed commitment (`commit_seed`): the draw then uses
    /// the committed seed, and any other is refused.
    #[serde(default)]
    pub seed: String,
    /// Stratify by division in proportion to candidates.
    #[serde(default)]
    pub stratified: bool,
    /// Samplers per team (at least 2).
    #[serde(default)]
    pub team_size: Option<u32>,
    #[serde(default)]
    pub filters: DrawFilters,
    /// Weights per risk class (`{"A": 1, "B": 2, "C": 10, "D": 30}`, each 0–1000): given, the draw
    /// is risk-weighted (`choucha-draw-risk-v1`); a class left out weighs 0.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub risk_weights: Option<RiskWeights>,
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
    /// The risk class, in a risk-weighted draw.
    pub risk_class: Option<RiskClass>,
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
    /// The weights per risk class of a risk-weighted draw.
    #[schema(value_type = Option<Object>)]
    pub risk_weights: Option<RiskWeights>,
    /// Candidates per risk class, in a risk-weighted draw.
    #[schema(value_type = Object)]
    pub risk_classes: BTreeMap<RiskClass, usize>,
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
    let mut p = pool(s, &plan, &item, &req.filters, &exclude).await?;
    if let Some(w) = &req.risk_weights {
        draw::risk::check_weights(w).map_err(ServiceError::invalid)?;
        risk::classify(s, &mut p.candidates, &p.by_uscc).await?;
    }
    let (samplers, sampler_ids) = sampler_pool(s, &item).await?;
    // A redraw replaces one enterprise with a seed of its own; a draw uses the item's commitment.
    let (seed, commitment) = match &redraw {
        Some(_) => (req.seed.trim().to_string(), None),
        None => commitment::seed_for(s, item.id, &req.seed).await?,
    };
    let input = DrawInput {
        seed,
        candidates: p.candidates.clone(),
        quota: req.quota as usize,
        stratified: req.stratified,
        samplers: samplers.clone(),
        team_size: req.team_size.unwrap_or(draw::MIN_TEAM as u32) as usize,
        risk_weights: req.risk_weights.clone(),
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
            risk_weights_json: match &input.risk_weights {
                Some(w) => serde_json::to_string(w).map_err(ServiceError::internal)?,
                None => String::new(),
            },
            reason: redraw.as_ref().map(|r| r.reason.clone()).unwrap_or_default(),
            replaces_draw_id: redraw.as_ref().map(|r| r.replaces_draw_id),
            replaces_enterprise_id: redraw.as_ref().map(|r| r.replaces_enterprise_id),
            created_by: actor.user_id,
        },
    )
    .await?;
    if let Some(c) = &commitment {
        commitment::use_for(&tx, c, row.id).await?;
    }
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
            json!({"item_id": item.id, "quota": req.quota, "seed": input.seed, "candidate_hash": result.candidate_hash, "risk_weights": input.risk_weights, "drawn": result.drawn.iter().map(|d| &d.uscc).collect::<Vec<_>>(), "reason": redraw.as_ref().map(|r| &r.reason)}),
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
    // A risk-weighted draw's replacement comes from the replaced enterprise's own risk class.
    let (old_weights, old_classes) = risk_of(&old)?;
    let risk_weights = match old_weights {
        None => None,
        Some(_) => {
            let uscc = choucha_store::enterprises::get(db, task.enterprise_id).await?.uscc;
            old_classes.get(&uscc).map(|k| RiskWeights::from([(*k, 1)]))
        }
    };
    let req2 = DrawRequest {
        item_id: task.item_id,
        quota: 1,
        seed: req.seed,
        stratified: false,
        team_size: Some(old.team_size as u32),
        filters,
        risk_weights,
    };
    let id = run_inner(s, actor, req2, Some(redraw)).await?;
    get(s, actor, id).await
}

fn drawn_views(
    result: &DrawResult,
    names: &BTreeMap<String, (i64, String)>,
    tasks: &BTreeMap<i64, (i64, TaskState)>,
    team_names: &BTreeMap<String, String>,
    classes: &BTreeMap<String, RiskClass>,
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
                risk_class: classes.get(&d.uscc).copied(),
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

/// The weights of a risk-weighted draw and its candidates' classes (empty for a uniform draw).
fn risk_of(row: &DrawRow) -> Result<(Option<RiskWeights>, BTreeMap<String, RiskClass>)> {
    if row.risk_weights_json.is_empty() {
        return Ok((None, BTreeMap::new()));
    }
    let weights: RiskWeights = serde_json::from_str(&row.risk_weights_json).map_err(ServiceError::internal)?;
    let candidates: Vec<draw::Candidate> =
        serde_json::from_str(&row.candidates_json).map_err(ServiceError::internal)?;
    Ok((Some(weights), candidates.into_iter().filter_map(|c| c.risk_class.map(|k| (c.uscc, k))).collect()))
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
    let (risk_weights, classes) = risk_of(&row)?;
    let mut risk_classes = BTreeMap::new();
    for k in classes.values() {
        *risk_classes.entry(*k).or_insert(0) += 1;
    }
    Ok(DrawView {
        drawn: drawn_views(&result, &names, &tasks, &team_names, &classes, with_team),
        risk_weights,
        risk_classes,
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

pub async fn list_for_plan(s: &Services, actor: &Actor, plan_id: i64) -> Result<Vec<DrawView>> {
    let plan = store_plans::get_plan(s.store.reader(), plan_id).await.map_err(ServiceError::not_found("计划"))?;
    actor.to_plan(plan.organising_org_id).visible(Action::Draw, "计划")?;
    let mut out = Vec::new();
    for row in store_draws::of_plan(s.store.reader(), plan_id).await? {
        out.push(build_view(s, row, true).await?);
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
