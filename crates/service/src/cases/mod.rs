//! Post-processing cases (后处理, rule 20; Measures arts. 44–49). A case opens by itself for each
//! unqualified issued report (in the approval's transaction) and for each final refusal (when the
//! county bureau co-signs it), assigned to the enterprise's local bureau; when the nominal producer
//! is registered outside that bureau's area, the producer's own bureau is told through its inbox.
//! The bureau records each step (stop order, correction order with its deadline, 复查 with its result
//! and report number, escalation, second 复查, suspension or licence revocation, closure); the
//! enterprise uploads its rectification report in its portal. Deadlines come from the versioned rule
//! set selected for the bureau's division when the case opened (the case keeps that version), over
//! the working-day calendar. An objection does not suspend post-processing (rule 18); a re-test that
//! finds the sample qualified closes the case (`close_on_retest_qualified`).
//!
//! Who sees cases: the bureau that runs it, the organising bureau and the producer's bureau;
//! the enterprise its own; admins all. Institution staff (testers above all, rule 13) never do.

use choucha_domain::RuleViolation;
use choucha_domain::calendar::WorkCalendar;
use choucha_domain::cases::{self as rules, CaseAction, CaseDates, CaseDeadlines, CaseKind, CaseLimits, CaseState};
use choucha_domain::workflow;
use choucha_store::cases::{self as store, CaseFilter, CaseRow, CaseScope, NATIONAL, RuleSetRow};
use choucha_store::{Page, enterprises, organisations, plans as store_plans};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::access::{Ask, CaseParties, Scope};
use crate::disposal::province_of;
use crate::{Actor, Result, ServiceError, Services, page_limit};
use choucha_domain::access::{Action, Relation, Relations};

mod follow_up;
mod opening;
mod orders;
mod overdue;
mod rule_sets;
mod steps;

pub(crate) use follow_up::complete_follow_up;
pub use follow_up::{FollowUpOrderInput, FollowUpView, SamplerChoice, follow_up_of_task, order_follow_up_check};
pub use opening::close_on_retest_qualified;
pub(crate) use opening::{close_on_corrected_qualified, open_for_refusal, open_for_unqualified};
pub use orders::order_pdf;
pub use overdue::*;
pub use rule_sets::*;
pub use steps::{RectificationInput, StepInput, my_cases, step, step_document, submit_rectification};

// ---- Rule sets ----------------------------------------------------------------------------------

/// The divisions whose selection may apply to a bureau, most specific first: its own, its city's,
/// its province's, then the national default.
fn selection_divisions(division: Option<&str>) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(d) = division.filter(|d| d.len() == 6 && d.chars().all(|c| c.is_ascii_digit())) {
        for cand in [d.to_string(), format!("{}00", &d[..4]), format!("{}0000", &d[..2])] {
            if !out.contains(&cand) {
                out.push(cand);
            }
        }
    }
    out.push(NATIONAL.to_string());
    out
}

/// The rule set a bureau applies now.
async fn rule_set_for(s: &Services, bureau_division: Option<&str>) -> Result<RuleSetRow> {
    let db = s.store.reader();
    let sel = store::rule_selection_for(db, &selection_divisions(bureau_division)).await?;
    let id = sel
        .map(|r| r.rule_set_id)
        .ok_or_else(|| ServiceError::internal("the national rule-set selection (000000) is missing"))?;
    Ok(store::get_rule_set(db, id).await?)
}

fn limits_of(r: &RuleSetRow) -> Result<CaseLimits> {
    serde_json::from_str(&r.limits_json).map_err(ServiceError::internal)
}

fn dates_of(c: &CaseRow) -> CaseDates {
    CaseDates {
        opened_on: Some(c.opened_on),
        stop_ordered_on: c.stop_ordered_on,
        correction_ordered_on: c.correction_ordered_on,
        escalated_on: c.escalated_on,
    }
}

/// The case's deadlines under its own rule set; a correction order's own (shorter) deadline wins.
async fn deadlines_of(s: &Services, cal: &WorkCalendar, c: &CaseRow) -> Result<CaseDeadlines> {
    let set = store::get_rule_set(s.store.reader(), c.rule_set_id).await?;
    let mut dl = rules::deadlines(&limits_of(&set)?, cal, dates_of(c));
    if c.rectify_due.is_some() {
        dl.rectify_due = c.rectify_due;
    }
    Ok(dl)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StepView {
    pub id: i64,
    pub action: String,
    pub action_label: String,
    pub happened_on: NaiveDate,
    pub actor_name: String,
    pub note: String,
    /// Step data: the correction deadline, the 复查 report number, the sanction, the document.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    /// The step data in words.
    pub details: String,
    pub has_document: bool,
    /// A stop or correction order, whose notice (责令…通知书) can be printed.
    pub has_order: bool,
    pub created_at: DateTime<Utc>,
}

/// A step's data in words: the deadline, the 复查 report and result, the sanction.
fn details_of(data: &serde_json::Value) -> String {
    let mut out = Vec::new();
    if let Some(d) = data.get("deadline").and_then(|v| v.as_str()) {
        out.push(format!("整改期限至{d}"));
    }
    if let Some(n) = data.get("report_no").and_then(|v| v.as_str()) {
        let q = data.get("qualified").and_then(|v| v.as_bool()).unwrap_or(false);
        out.push(format!("复查报告{n}，{}，不向企业收费", if q { "合格" } else { "不合格" }));
    }
    match data.get("sanction").and_then(|v| v.as_str()) {
        Some("suspension") => out.push("停业整顿".into()),
        Some("revocation") => out.push("吊销许可证".into()),
        _ => {}
    }
    out.join("；")
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseView {
    pub id: i64,
    /// unqualified | refusal
    pub kind: String,
    pub kind_label: String,
    pub plan_id: i64,
    pub plan_title: String,
    pub product: String,
    pub report_no: String,
    pub enterprise_id: i64,
    pub enterprise_name: String,
    pub bureau_org_id: i64,
    pub bureau_name: String,
    pub organising_name: String,
    pub producer_name: String,
    pub producer_bureau_name: String,
    pub rule_set_id: i64,
    /// The rule set the case was opened under, with its version.
    pub rule_set: String,
    pub state: CaseState,
    pub state_label: String,
    /// The step the bureau owes now.
    pub next_step: String,
    /// Its deadline (none when the rule set sets none).
    pub due_on: Option<NaiveDate>,
    pub overdue: bool,
    pub opened_on: NaiveDate,
    pub stop_ordered_on: Option<NaiveDate>,
    pub correction_ordered_on: Option<NaiveDate>,
    /// The end of rectification (the enterprise's report is due by then).
    pub rectify_due: Option<NaiveDate>,
    pub follow_up_check_due: Option<NaiveDate>,
    pub escalated_on: Option<NaiveDate>,
    pub second_follow_up_check_from: Option<NaiveDate>,
    pub second_follow_up_check_due: Option<NaiveDate>,
    pub closed_on: Option<NaiveDate>,
    pub closed_reason: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseDetail {
    pub case: CaseView,
    pub steps: Vec<StepView>,
    /// The actions the caller may take now.
    pub actions: Vec<String>,
    /// The 复查 sampling tasks ordered on the case, oldest first.
    pub follow_ups: Vec<FollowUpView>,
    /// Whether the caller may order a 复查 task now (the case owes one and none is open).
    pub may_order_follow_up: bool,
    /// The samplers a 复查 team may be made of (only for who may order one).
    pub follow_up_samplers: Vec<SamplerChoice>,
}

async fn org_name(s: &Services, id: Option<i64>) -> Result<String> {
    Ok(match id {
        Some(i) => organisations::get(s.store.reader(), i).await?.name,
        None => String::new(),
    })
}

/// A case as shown; `cal` is the working-day calendar (loaded once per list).
async fn view(s: &Services, cal: &WorkCalendar, c: CaseRow) -> Result<CaseView> {
    let db = s.store.reader();
    let dl = deadlines_of(s, cal, &c).await?;
    let set = store::get_rule_set(db, c.rule_set_id).await?;
    let plan = store_plans::get_plan(db, c.plan_id).await?;
    let ent = enterprises::get(db, c.enterprise_id).await?;
    let state = c.state;
    Ok(CaseView {
        id: c.id,
        kind_label: (if c.kind == "refusal" { CaseKind::Refusal } else { CaseKind::Unqualified }).label().into(),
        kind: c.kind.clone(),
        plan_id: c.plan_id,
        plan_title: plan.title,
        product: c.product.clone(),
        report_no: c.report_no.clone(),
        enterprise_id: c.enterprise_id,
        enterprise_name: ent.name,
        bureau_org_id: c.bureau_org_id,
        bureau_name: org_name(s, Some(c.bureau_org_id)).await?,
        organising_name: org_name(s, Some(c.organising_org_id)).await?,
        producer_name: c.producer_name.clone(),
        producer_bureau_name: org_name(s, c.producer_org_id).await?,
        rule_set_id: set.id,
        rule_set: format!("{}（第{}版）", set.name, set.version),
        state_label: state.label().into(),
        next_step: state.next_step_label().into(),
        overdue: c.due_on.is_some_and(|d| d < s.today()) && state != CaseState::Closed,
        due_on: c.due_on,
        state: c.state,
        opened_on: c.opened_on,
        stop_ordered_on: c.stop_ordered_on,
        correction_ordered_on: c.correction_ordered_on,
        rectify_due: dl.rectify_due,
        follow_up_check_due: dl.follow_up_check_due,
        escalated_on: c.escalated_on,
        second_follow_up_check_from: dl.second_follow_up_check_from,
        second_follow_up_check_due: dl.second_follow_up_check_due,
        closed_on: c.closed_on,
        closed_reason: c.closed_reason,
    })
}

/// Whose cases the caller sees; institution staff and users without an organisation are refused.
fn scope_of(actor: &Actor) -> Result<CaseScope> {
    let refused = || ServiceError::Forbidden("后处理案件由市场监管部门办理，企业只能查看本企业的案件".into());
    match actor.scope(Action::ListCases).map_err(|_| refused())? {
        Scope::All => Ok(CaseScope::All),
        Scope::Bureau(o) => Ok(CaseScope::Bureau(o)),
        Scope::Enterprise(e) => Ok(CaseScope::Enterprise(e)),
        Scope::Institution(_) => Err(refused()),
    }
}

/// A case with the caller's relations towards it; not found for anyone who may not see it.
async fn load(s: &Services, actor: &Actor, id: i64) -> Result<(CaseRow, Relations)> {
    scope_of(actor)?;
    let c = store::get_case(s.store.reader(), id).await.map_err(ServiceError::not_found("后处理案件"))?;
    let parties = CaseParties {
        bureau_org_id: c.bureau_org_id,
        organising_org_id: c.organising_org_id,
        producer_org_id: c.producer_org_id,
        enterprise_id: c.enterprise_id,
    };
    let same_province = actor.system().contains(Relation::ProvincialRegulator) && province_sees(s, actor, &c).await?;
    let rel = actor.to_case(parties, same_province);
    if !(rel.may(Action::ViewCase) || rel.may(Action::ViewOwnCases)) {
        return Err(ServiceError::NotFound("后处理案件"));
    }
    Ok((c, rel))
}

/// Whether the case's bureau lies in the (provincial) caller's province: a failed 复查 comes to
/// the provincial bureau for announcement.
async fn province_sees(s: &Services, actor: &Actor, c: &CaseRow) -> Result<bool> {
    let bureau = organisations::get(s.store.reader(), c.bureau_org_id).await?;
    Ok(actor.org_division.is_some()
        && province_of(bureau.division_code.as_deref()) == province_of(actor.org_division.as_deref()))
}

/// Which action a step needs: the rectification report may come from the enterprise itself.
fn step_action(a: CaseAction) -> Action {
    if a == CaseAction::RectificationReport { Action::ReportRectification } else { Action::RunCase }
}

/// A case with its steps and what the caller may do next.
pub async fn get(s: &Services, actor: &Actor, id: i64) -> Result<CaseDetail> {
    let (c, rel) = load(s, actor, id).await?;
    let state = c.state;
    let actions = CaseAction::ALL
        .into_iter()
        .filter(|a| workflow::allows(state, *a))
        .filter(|a| rel.may(step_action(*a)))
        .map(|a| a.as_str().to_string())
        .collect();
    let steps = store::steps_of(s.store.reader(), c.id)
        .await?
        .into_iter()
        .map(|st| {
            let data: serde_json::Value = serde_json::from_str(&st.data_json).unwrap_or(serde_json::Value::Null);
            let has_order =
                matches!(CaseAction::parse(&st.action), Some(CaseAction::StopOrder | CaseAction::CorrectionOrder));
            StepView {
                id: st.id,
                action_label: CaseAction::parse(&st.action).map(CaseAction::label).unwrap_or_default().into(),
                action: st.action,
                happened_on: st.happened_on,
                actor_name: st.actor_name,
                note: st.note,
                details: details_of(&data),
                has_document: data.get("document").is_some(),
                has_order,
                data,
                created_at: st.created_at,
            }
        })
        .collect();
    let cal = crate::calendar::load(s).await?;
    let follow_ups = follow_up::follow_ups(s, &c).await?;
    let may_order_follow_up = rel.may(Action::OrderFollowUpCheck)
        && matches!(state, CaseState::CorrectionOrdered | CaseState::ReportSubmitted | CaseState::Escalated)
        && !follow_ups.iter().any(|f| f.open);
    let follow_up_samplers = if may_order_follow_up { follow_up::sampler_choices(s, &c).await? } else { Vec::new() };
    Ok(CaseDetail {
        case: view(s, &cal, c).await?,
        steps,
        actions,
        follow_ups,
        may_order_follow_up,
        follow_up_samplers,
    })
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CaseQuery {
    /// open (the default) | overdue | closed | all. `overdue`: the bureau's current step is past its
    /// deadline — for a bureau, the cases it runs (what it owes).
    #[serde(default)]
    pub filter: Option<String>,
    #[serde(default)]
    pub cursor: Option<String>,
    #[serde(default)]
    pub limit: Option<u64>,
}

/// The caller's cases, newest first: a bureau's, an enterprise's own, or all (admins).
pub async fn list(s: &Services, actor: &Actor, q: CaseQuery) -> Result<Page<CaseView>> {
    let mut scope = scope_of(actor)?;
    let f = match q.filter.as_deref().unwrap_or("open") {
        "open" => CaseFilter::Open,
        "closed" => CaseFilter::Closed,
        "all" => CaseFilter::All,
        "overdue" => {
            if let CaseScope::Bureau(o) = scope {
                scope = CaseScope::Runs(o);
            }
            CaseFilter::OverdueBefore(s.today())
        }
        _ => {
            return Err(ServiceError::invalid(
                RuleViolation::new("invalid_filter", "筛选条件应为 open、overdue、closed 或 all").on_field("filter"),
            ));
        }
    };
    let before = q.cursor.as_deref().and_then(|c| c.trim().parse::<i64>().ok());
    let p = store::list_cases(s.store.reader(), scope, f, before, page_limit(q.limit)?).await?;
    let cal = crate::calendar::load(s).await?;
    let mut items = Vec::with_capacity(p.items.len());
    for c in p.items {
        items.push(view(s, &cal, c).await?);
    }
    Ok(Page { items, next: p.next })
}

/// How many cases the caller's bureau runs whose current step is past its deadline.
pub async fn overdue_count(s: &Services, actor: &Actor) -> Result<u64> {
    let scope = match scope_of(actor)? {
        CaseScope::Bureau(o) => CaseScope::Runs(o),
        other => other,
    };
    Ok(store::count_cases(s.store.reader(), scope, CaseFilter::OverdueBefore(s.today())).await?)
}

// ---- Steps ------------------------------------------------------------------------------------
