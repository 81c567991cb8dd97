//! The candidates of a draw (registry filters minus the enterprises rules 5 and 22 exclude), its
//! sampler teams, and the preview shown before drawing.

use choucha_domain::RuleViolation;
use choucha_domain::draw::{Candidate, SamplerCandidate};
use choucha_domain::enterprise::EnterpriseStatus;
use choucha_domain::plan::{
    self as plan_rules, BatchAllowance, BureauLevel, PastCheck, ProductKey, Scope, parse_scopes,
};
use choucha_domain::role::Role;
use choucha_store::draws::{self as store_draws, CandidateFilter};
use choucha_store::plans::{self as store_plans, ItemRow, PlanRow};
use choucha_store::{enterprises, organisations};
use chrono::Months;
use serde::Serialize;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::{Actor, Result, ServiceError, Services};

use super::{DrawFilters, Exclusion, check_organiser, load, propose_seed};

/// The eligible candidates of an item and the exclusions, with what the draw needs to record.
pub(super) struct Pool {
    pub(super) candidates: Vec<Candidate>,
    pub(super) by_uscc: HashMap<String, (i64, String)>,
    pub(super) exclusions: Vec<Exclusion>,
    pub(super) filters: serde_json::Value,
}

pub(super) async fn pool(
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
    // Rule 22 looks back six months from today for the same product by this bureau or a higher one.
    let today = s.now();
    let since = today.checked_sub_months(Months::new(plan_rules::REPEAT_WINDOW_MONTHS)).unwrap_or(today);
    let filter = CandidateFilter {
        division_prefix: division.clone(),
        kind_mask,
        status: Some(status.clone()),
        size_class: size_class.clone(),
        product_line: product_line.map(str::to_string),
    };
    // The candidates, rule 5's batches already given in this plan with the bureau's exceptions, and
    // rule 22's history do not depend on each other: read together.
    let (rows, plan_batches, allowance_rows, past_rows) = futures::try_join!(
        store_draws::candidates(db, &filter),
        store_draws::plan_batches(db, plan.id),
        store_draws::allowances_of(db, plan.id),
        store_draws::past_tasks_of_product(db, &item.product, since, plan.id),
    )?;
    let rows: Vec<_> = rows.into_iter().filter(|r| product_line.is_none_or(|p| r.product_lines.contains(p))).collect();

    // Rule 5: batches already given in this plan, with the bureau's exceptions.
    let mut batches: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for (e, i) in plan_batches {
        batches.entry(e).or_default().push(i);
    }
    let allowances: BTreeMap<i64, BatchAllowance> = allowance_rows
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
    let past_orgs: Vec<i64> = past_rows.iter().map(|(_, o, _)| *o).collect::<BTreeSet<_>>().into_iter().collect();
    let orgs: BTreeMap<i64, (String, String)> =
        organisations::get_many(db, &past_orgs).await?.into_iter().map(|o| (o.id, (o.name, o.kind))).collect();
    let mut past: BTreeMap<i64, Vec<PastCheck>> = BTreeMap::new();
    for (e, o, at) in past_rows {
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
    let mut by_uscc = HashMap::with_capacity(rows.len());
    let mut exclusions = Vec::new();
    for r in rows {
        if also_exclude.contains(&r.id) {
            continue;
        }
        let existing = batches.get(&r.id).map(Vec::as_slice).unwrap_or_default();
        let refusal = plan_rules::check_batch_limits(existing, item.id, allowances.get(&r.id)).err().or_else(|| {
            // Rule 22 only for an enterprise with an earlier check of the product (most have none).
            let history = past.get(&r.id)?;
            let key = ProductKey { producer: r.uscc.clone(), product: item.product.clone(), ..Default::default() };
            let checks: Vec<PastCheck> = history.iter().map(|p| PastCheck { key: key.clone(), ..p.clone() }).collect();
            plan_rules::check_repeat(&checks, plan.organising_org_id, level, &key, today.date_naive(), false).err()
        });
        match refusal {
            Some(v) => {
                exclusions.push(Exclusion { uscc: r.uscc, name: r.name, rule: v.code.to_string(), reason: v.message })
            }
            None => {
                by_uscc.insert(r.uscc.clone(), (r.id, r.name));
                candidates.push(Candidate { uscc: r.uscc, division_code: r.division_code, risk_class: None });
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

pub(super) async fn sampler_pool(
    s: &Services,
    item: &ItemRow,
) -> Result<(Vec<SamplerCandidate>, BTreeMap<String, i64>)> {
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

pub(super) async fn remaining_quota(s: &Services, plan: &PlanRow, item: &ItemRow) -> Result<i64> {
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
