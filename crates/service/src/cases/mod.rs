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

use crate::Write;
use choucha_domain::RuleViolation;
use choucha_domain::calendar::WorkCalendar;
use choucha_domain::cases::{
    self as rules, CaseAction, CaseDates, CaseDeadlines, CaseKind, CaseLimits, CaseState, bureau_due,
};
use choucha_domain::workflow;
use choucha_store::audit::AuditEntry;
use choucha_store::cases::{
    self as store, CaseFilter, CasePatch, CaseRow, CaseScope, NATIONAL, NewCase, NewStep, RuleSetRow,
};
use choucha_store::lab::{ReportRow, SampleRow};
use choucha_store::{Page, draws as store_draws, enterprises, organisations, plans as store_plans};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::access::{Ask, CaseParties, Scope};
use crate::disposal::{FileInput, StoredFile, province_of, store_file};
use crate::lab::{ReportContent, signed_record};
use crate::{Actor, Result, ServiceError, Services, page_limit};
use choucha_domain::access::{Action, Relation, Relations};

mod overdue;
mod rule_sets;

pub use overdue::*;
pub use rule_sets::*;

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

// ---- Opening ------------------------------------------------------------------------------------

struct Opening {
    kind: CaseKind,
    task_id: i64,
    sample_id: Option<i64>,
    report_id: Option<i64>,
    report_no: String,
    product: String,
    producer_name: String,
    producer_uscc: String,
}

async fn open_case(s: &Services, tx: &Write, o: Opening) -> Result<Option<CaseRow>> {
    let db = s.store.reader();
    if store::case_of_task(db, o.kind.as_str(), o.task_id).await?.is_some() {
        // A corrected report (rule 15) or a repeated call: the case is already open.
        return Ok(None);
    }
    let task = store_draws::get_task(db, o.task_id).await?;
    let item = store_plans::get_item(db, task.item_id).await?;
    let plan = store_plans::get_plan(db, item.plan_id).await?;
    let ent = enterprises::get(db, task.enterprise_id).await?;
    // Rule 20: the enterprise's local bureau runs the case; without one, the organising bureau.
    let bureau =
        choucha_store::sampling::local_bureau_of(db, &ent.division_code).await?.unwrap_or(plan.organising_org_id);
    let bureau_org = organisations::get(db, bureau).await?;
    // A producer registered elsewhere (its USCC's division) is told through its own bureau.
    let producer_division = o.producer_uscc.trim().get(2..8).map(str::to_string);
    let producer_org = match producer_division {
        Some(d) if !o.producer_name.trim().is_empty() && o.producer_name.trim() != ent.name => {
            choucha_store::sampling::local_bureau_of(db, &d).await?.filter(|p| *p != bureau)
        }
        _ => None,
    };
    let set = rule_set_for(s, bureau_org.division_code.as_deref()).await?;
    let limits = limits_of(&set)?;
    let opened_on = s.today();
    let cal = crate::calendar::load(s).await?;
    let dl = rules::deadlines(&limits, &cal, CaseDates { opened_on: Some(opened_on), ..Default::default() });
    let c = store::insert_case(
        tx,
        NewCase {
            kind: o.kind.as_str().into(),
            plan_id: plan.id,
            task_id: o.task_id,
            sample_id: o.sample_id,
            report_id: o.report_id,
            report_no: o.report_no,
            product: o.product.clone(),
            enterprise_id: ent.id,
            bureau_org_id: bureau,
            organising_org_id: plan.organising_org_id,
            producer_name: o.producer_name.trim().into(),
            producer_org_id: producer_org,
            rule_set_id: set.id,
            opened_on,
            due_on: bureau_due(CaseState::Open, &dl),
        },
    )
    .await?;
    let todo = match o.kind {
        CaseKind::Unqualified => "请责令停止生产销售并依法处理",
        CaseKind::Refusal => "请依法处理",
    };
    let title = format!("后处理：{}（{}）{}，{todo}", ent.name, o.product, o.kind.label());
    choucha_store::sampling::insert_inbox(tx, bureau, "case", &title, "case", c.id).await?;
    if let Some(p) = producer_org {
        let title = format!(
            "后处理通报：贵辖区生产者{}的产品{}在{}被抽查{}，由{}后处理",
            o.producer_name.trim(),
            o.product,
            ent.name,
            o.kind.label(),
            bureau_org.name
        );
        choucha_store::sampling::insert_inbox(tx, p, "case_producer", &title, "case", c.id).await?;
    }
    tx.audit(AuditEntry::new(
            "case.open",
            "case",
            c.id,
            json!(null),
            json!({"kind": o.kind.as_str(), "task_id": o.task_id, "bureau_org_id": bureau, "producer_org_id": producer_org, "rule_set_id": set.id, "due_on": c.due_on}),
        ));
    Ok(Some(c))
}

/// Opens the case of an unqualified issued report (rule 20), in the approval's transaction.
pub(crate) async fn open_for_unqualified(
    s: &Services,
    tx: &Write,
    _actor: &Actor,
    report: &ReportRow,
    sample: &SampleRow,
    report_no: &str,
) -> Result<()> {
    let content: ReportContent = serde_json::from_str(&report.content_json).map_err(ServiceError::internal)?;
    let rec = signed_record(s, sample.task_id).await?.map(|(f, _)| f).unwrap_or_default();
    let elsewhere = rec.domain != "production";
    open_case(
        s,
        tx,
        Opening {
            kind: CaseKind::Unqualified,
            task_id: sample.task_id,
            sample_id: Some(sample.id),
            report_id: Some(report.id),
            report_no: report_no.into(),
            product: content.product,
            producer_name: if elsewhere { rec.producer_name } else { String::new() },
            producer_uscc: if elsewhere { rec.producer_uscc } else { String::new() },
        },
    )
    .await?;
    Ok(())
}

/// Opens the case of a final refusal (拒检, rules 11 and 20), in the co-signature's transaction.
pub(crate) async fn open_for_refusal(s: &Services, tx: &Write, _actor: &Actor, task_id: i64) -> Result<()> {
    let db = s.store.reader();
    let task = store_draws::get_task(db, task_id).await?;
    let item = store_plans::get_item(db, task.item_id).await?;
    open_case(
        s,
        tx,
        Opening {
            kind: CaseKind::Refusal,
            task_id,
            sample_id: None,
            report_id: None,
            report_no: String::new(),
            product: item.product,
            producer_name: String::new(),
            producer_uscc: String::new(),
        },
    )
    .await?;
    Ok(())
}

/// Closes the open cases of a sample whose re-test (复检, rule 18) found it qualified: the re-test
/// conclusion is final, so the unqualified result the case rests on no longer stands. Runs in the
/// caller's transaction (which carries the caller's audit record as well).
pub async fn close_on_retest_qualified(s: &Services, tx: &Write, sample_id: i64, actor: &Actor) -> Result<()> {
    close_for_sample(s, tx, sample_id, actor, "复检结论为合格，原检验结论不再作为后处理依据", "case.close_retest").await
}

/// Closes the open cases of a sample whose corrected report (rule 15) finds it qualified, in the
/// approval's transaction.
pub(crate) async fn close_on_corrected_qualified(
    s: &Services,
    tx: &Write,
    sample_id: i64,
    actor: &Actor,
) -> Result<()> {
    close_for_sample(
        s,
        tx,
        sample_id,
        actor,
        "更正后的检验报告结论为合格，原检验结论不再作为后处理依据",
        "case.close_corrected",
    )
    .await
}

async fn close_for_sample(
    s: &Services,
    tx: &Write,
    sample_id: i64,
    actor: &Actor,
    reason: &str,
    audit_action: &'static str,
) -> Result<()> {
    let today = s.today();
    for c in store::open_cases_of_sample(s.store.reader(), sample_id).await? {
        store::update_case(
            tx,
            c.id,
            CasePatch {
                transition: workflow::step(c.state, CaseAction::Close)?,
                stop_ordered_on: c.stop_ordered_on,
                correction_ordered_on: c.correction_ordered_on,
                escalated_on: c.escalated_on,
                due_on: None,
                rectify_due: c.rectify_due,
                closed_on: Some(today),
                closed_reason: reason.into(),
            },
        )
        .await?;
        store::insert_step(
            tx,
            NewStep {
                case_id: c.id,
                action: CaseAction::Close.as_str().into(),
                happened_on: today,
                actor_id: actor.user_id,
                actor_name: actor.display_name.clone(),
                note: reason.into(),
                data_json: json!({"reason": audit_action}).to_string(),
            },
        )
        .await?;
        tx.audit(AuditEntry::new(
            audit_action,
            "case",
            c.id,
            json!({"state": c.state}),
            json!({"state": CaseState::Closed, "reason": reason}),
        ));
    }
    Ok(())
}

// ---- Views ------------------------------------------------------------------------------------

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
            StepView {
                id: st.id,
                action_label: CaseAction::parse(&st.action).map(CaseAction::label).unwrap_or_default().into(),
                action: st.action,
                happened_on: st.happened_on,
                actor_name: st.actor_name,
                note: st.note,
                details: details_of(&data),
                has_document: data.get("document").is_some(),
                data,
                created_at: st.created_at,
            }
        })
        .collect();
    let cal = crate::calendar::load(s).await?;
    Ok(CaseDetail { case: view(s, &cal, c).await?, steps, actions })
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

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[schema(as = CaseStepInput)]
pub struct StepInput {
    /// stop_order | correction_order | rectification_report | follow_up_check_passed | follow_up_check_failed |
    /// second_follow_up_check_passed | second_follow_up_check_failed | sanction | close
    pub action: String,
    /// The day of the step (today when absent).
    #[serde(default)]
    pub happened_on: Option<NaiveDate>,
    /// The order's document number, the 复查's findings, the reason for closing…
    #[serde(default)]
    pub note: String,
    /// correction_order: the rectification deadline, no later than the rule set allows (the rule
    /// set's limit when absent).
    #[serde(default)]
    pub deadline: Option<NaiveDate>,
    /// 复查 steps: the number of the 复查 test report.
    #[serde(default)]
    pub report_no: String,
    /// sanction: suspension (停业整顿) | revocation (吊销许可证/营业执照)
    #[serde(default)]
    pub sanction: String,
    /// A scanned order, report or decision (the enterprise's rectification report is required).
    #[serde(default)]
    pub document: Option<FileInput>,
}

/// Records a step of a case: the bureau that runs it for its own steps; the enterprise (or the
/// bureau for a report handed in on paper) for the rectification report. Refused when the case's
/// state does not allow it (rule 20 names the order of steps) and for a second 复查 before the rule
/// set's earliest day. Pending objections do not hold it back (rule 18).
pub async fn step(s: &Services, actor: &Actor, id: i64, input: StepInput) -> Result<CaseDetail> {
    let (c, rel) = load(s, actor, id).await?;
    let Some(action) = CaseAction::parse(&input.action) else {
        return Err(ServiceError::invalid(RuleViolation::new("invalid_action", "未知的后处理步骤").on_field("action")));
    };
    if !rel.may(step_action(action)) {
        return Err(ServiceError::Forbidden(if rel.contains(Relation::SampledEnterprise) {
            "企业只能提交本企业的整改报告".into()
        } else {
            "后处理由被抽样企业所在地市场监管部门办理（规则20）".into()
        }));
    }
    let from = c.state;
    let next = workflow::step(from, action)?;
    let today = s.today();
    let on = input.happened_on.unwrap_or(today);
    let mut errs = Vec::new();
    if on > today {
        errs.push(RuleViolation::new("future_date", "日期不能晚于今天").on_field("happened_on"));
    }
    if on < c.opened_on {
        errs.push(RuleViolation::new("before_open", "日期不能早于立案日期").on_field("happened_on"));
    }
    let note = input.note.trim().to_string();
    let has_doc = input.document.as_ref().is_some_and(|d| !d.data_base64.trim().is_empty());
    let mut data = serde_json::Map::new();
    match action {
        CaseAction::RectificationReport if !has_doc => errs.push(
            RuleViolation::new("rule20_report_file", "请上传整改报告（PDF或照片）（规则20）").on_field("document"),
        ),
        a if a.is_follow_up_check() => {
            if input.report_no.trim().is_empty() {
                errs.push(RuleViolation::new("required", "请填写复查检验报告编号").on_field("report_no"));
            }
            data.insert("report_no".into(), json!(input.report_no.trim()));
            data.insert(
                "qualified".into(),
                json!(matches!(a, CaseAction::FollowUpCheckPassed | CaseAction::SecondFollowUpCheckPassed)),
            );
            // 复查 samples are free to the enterprise (rules 20 and 21).
            data.insert("fee_to_enterprise".into(), json!(0));
        }
        CaseAction::Sanction => match input.sanction.trim() {
            "suspension" | "revocation" => {
                data.insert("sanction".into(), json!(input.sanction.trim()));
            }
            _ => errs.push(
                RuleViolation::new("required", "请选择处理决定：停业整顿（suspension）或吊销许可证（revocation）")
                    .on_field("sanction"),
            ),
        },
        CaseAction::Close if note.is_empty() => {
            errs.push(RuleViolation::new("required", "请填写结案理由").on_field("note"));
        }
        _ => {}
    }
    // The new dates and deadlines.
    let mut dates = dates_of(&c);
    let mut rectify_due = c.rectify_due;
    match action {
        CaseAction::StopOrder => dates.stop_ordered_on = Some(on),
        CaseAction::CorrectionOrder => dates.correction_ordered_on = Some(on),
        CaseAction::FollowUpCheckFailed => dates.escalated_on = Some(on),
        _ => {}
    }
    let set = store::get_rule_set(s.store.reader(), c.rule_set_id).await?;
    let limits = limits_of(&set)?;
    let cal = crate::calendar::load(s).await?;
    let mut dl = rules::deadlines(&limits, &cal, dates);
    if action == CaseAction::CorrectionOrder {
        let longest = dl.rectify_due;
        match (input.deadline, longest) {
            (Some(d), Some(max)) if d > max => errs.push(
                RuleViolation::new(
                    "rule20_rectify_limit",
                    format!("整改期限不得超过所适用规则（{}）规定的{max}（规则20）", set.name),
                )
                .on_field("deadline"),
            ),
            (Some(d), _) if d < on => {
                errs.push(RuleViolation::new("invalid_deadline", "整改期限不能早于责令整改日期").on_field("deadline"))
            }
            _ => {}
        }
        rectify_due = input.deadline.or(longest);
        data.insert("deadline".into(), json!(rectify_due));
    }
    if rectify_due.is_some() {
        dl.rectify_due = rectify_due;
    }
    if matches!(action, CaseAction::SecondFollowUpCheckPassed | CaseAction::SecondFollowUpCheckFailed)
        && let Err(v) = rules::check_second_follow_up_check_window(&dl, on)
    {
        errs.push(v);
    }
    if !errs.is_empty() {
        return Err(ServiceError::Invalid(errs));
    }
    if let Some(doc) = input.document.as_ref().filter(|_| has_doc) {
        let stored = store_file(s, doc, "document").await?;
        data.insert("document".into(), serde_json::to_value(stored).map_err(ServiceError::internal)?);
    }
    let closed = next.to() == CaseState::Closed;
    let due_on = bureau_due(next.to(), &dl);
    let tx = s.write(actor).await?;
    store::update_case(
        &tx,
        c.id,
        CasePatch {
            transition: next,
            stop_ordered_on: dates.stop_ordered_on,
            correction_ordered_on: dates.correction_ordered_on,
            escalated_on: dates.escalated_on,
            due_on,
            rectify_due,
            closed_on: closed.then_some(on),
            closed_reason: if closed {
                if note.is_empty() { action.label().to_string() } else { note.clone() }
            } else {
                String::new()
            },
        },
    )
    .await?;
    let step = store::insert_step(
        &tx,
        NewStep {
            case_id: c.id,
            action: action.as_str().into(),
            happened_on: on,
            actor_id: actor.user_id,
            actor_name: format!("{}（{}）", actor.display_name, actor.org_name.clone().unwrap_or_default()),
            note: note.clone(),
            data_json: serde_json::Value::Object(data.clone()).to_string(),
        },
    )
    .await?;
    if action == CaseAction::FollowUpCheckFailed {
        // A failed 复查 goes up to the provincial bureau for public announcement (rule 20).
        let db = s.store.reader();
        let bureau = organisations::get(db, c.bureau_org_id).await?;
        let province = province_of(bureau.division_code.as_deref());
        let target = store::province_bureau(db, &province).await?.unwrap_or(c.organising_org_id);
        let ent = enterprises::get(db, c.enterprise_id).await?;
        let title = format!("复查不合格，报请公告：{}（{}），{}", ent.name, c.product, bureau.name);
        choucha_store::sampling::insert_inbox(&tx, target, "case_escalated", &title, "case", c.id).await?;
        if target != c.organising_org_id {
            choucha_store::sampling::insert_inbox(&tx, c.organising_org_id, "case_escalated", &title, "case", c.id)
                .await?;
        }
    }
    tx.commit(AuditEntry::new(
            "case.step",
            "case",
            c.id,
            json!({"state": c.state}),
            json!({"state": next.to().as_str(), "action": action.as_str(), "step_id": step.id, "happened_on": on, "due_on": due_on, "data": data}),
        )).await?;
    get(s, actor, id).await
}

/// The enterprise's own cases (its portal), newest first.
pub async fn my_cases(s: &Services, actor: &Actor) -> Result<Vec<CaseView>> {
    let Ok(Scope::Enterprise(e)) = actor.scope(Action::ListCases) else {
        return Err(ServiceError::Forbidden("只有绑定了企业的企业用户可以查看本企业的后处理案件".into()));
    };
    let p = store::list_cases(s.store.reader(), CaseScope::Enterprise(e), CaseFilter::All, None, 200).await?;
    let cal = crate::calendar::load(s).await?;
    let mut out = Vec::with_capacity(p.items.len());
    for c in p.items {
        out.push(view(s, &cal, c).await?);
    }
    Ok(out)
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct RectificationInput {
    #[serde(default)]
    pub note: String,
    /// The rectification report (PDF or photos of it).
    pub document: FileInput,
}

/// The enterprise uploads its rectification report (整改报告) on its own case.
pub async fn submit_rectification(
    s: &Services,
    actor: &Actor,
    id: i64,
    input: RectificationInput,
) -> Result<CaseDetail> {
    step(
        s,
        actor,
        id,
        StepInput {
            action: CaseAction::RectificationReport.as_str().into(),
            note: input.note,
            document: Some(input.document),
            ..Default::default()
        },
    )
    .await
}

/// A document of a step (the rectification report, a scanned order), for those who see the case.
pub async fn step_document(
    s: &Services,
    actor: &Actor,
    case_id: i64,
    step_id: i64,
) -> Result<(StoredFile, std::path::PathBuf)> {
    let (c, _) = load(s, actor, case_id).await?;
    let st = store::steps_of(s.store.reader(), c.id)
        .await?
        .into_iter()
        .find(|st| st.id == step_id)
        .ok_or(ServiceError::NotFound("文件"))?;
    let data: serde_json::Value = serde_json::from_str(&st.data_json).unwrap_or_default();
    let f: StoredFile = serde_json::from_value(data.get("document").cloned().unwrap_or_default())
        .map_err(|_| ServiceError::NotFound("文件"))?;
    let path = crate::evidence::stored_path(s, &f.sha256);
    Ok((f, path))
}
