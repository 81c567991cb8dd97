//! Reading plans: one plan with its items, lists and their summaries, the public's view.

use choucha_domain::access::Action;
use choucha_domain::implementation_rules::RulesState;
use choucha_domain::organisation::OrgKind;
use choucha_domain::plan::{PlanState, parse_scopes, scopes_label};
use choucha_store::plans::{self as store_plans, PlanFilter, PlanRow};
use choucha_store::{Page, draws as store_draws, implementation_rules as store_rules, organisations};
use serde::Deserialize;
use std::collections::BTreeMap;

use crate::access::{Ask, Scope};
use crate::{Actor, Result, ServiceError, Services, page_limit};

use super::{AmendmentView, ItemView, PlanSummary, PlanView};

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

pub(super) async fn build_view(s: &Services, plan: PlanRow, items: Vec<store_plans::ItemRow>) -> Result<PlanView> {
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
    let item_ids: Vec<i64> = items.iter().map(|i| i.id).collect();
    let mut versions_of: BTreeMap<i64, Vec<(i32, RulesState)>> = BTreeMap::new();
    for (item_id, version, state) in store_rules::version_states_of_items(db, &item_ids).await? {
        versions_of.entry(item_id).or_default().push((version, state));
    }
    let mut seen = std::collections::BTreeSet::new();
    let mut views = Vec::with_capacity(items.len());
    for i in items {
        let versions = versions_of.remove(&i.id).unwrap_or_default();
        let published = versions.iter().find(|v| v.1 == RulesState::Published).map(|v| v.0);
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
            rules_state: versions.first().map(|v| v.1),
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
        contact_name: plan.contact_name,
        contact_phone: plan.contact_phone,
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
