//! The 复查 of a case (follow-up check, rule 20) as a real sampling task: the bureau that runs the
//! case orders it, which creates a sampling task for the same enterprise and product, assigned to
//! samplers of the item's sampling institution, that runs the normal path (record, evidence,
//! hand-over, testing, report). The task and the case are linked both ways; when the 复查 sample's
//! report is issued, the case's 复查 step is recorded from its result, in the approval's transaction.
//! A 复查 is exempt from rules 5 and 22 (it repeats the plan's batch on purpose), and its sample
//! is free to the enterprise (rules 20, 21).

use choucha_domain::RuleViolation;
use choucha_domain::access::Action;
use choucha_domain::cases::{self as rules, CaseAction, CaseState};
use choucha_domain::sampling::TaskState;
use choucha_domain::workflow;
use choucha_store::audit::AuditEntry;
use choucha_store::cases::{self as store, CaseRow, FollowUpRow};
use choucha_store::{draws as store_draws, plans as store_plans, users};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::steps::{Recorded, record};
use super::{CaseDetail, dates_of, get, limits_of, load};
use crate::access::Ask;
use crate::write::Write;
use crate::{Actor, Result, ServiceError, Services};

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct FollowUpOrderInput {
    /// The samplers (user ids): at least 2, of the item's sampling institution (rule 2).
    #[serde(default)]
    pub team: Vec<i64>,
    /// When the 复查 sampling is due (the rule set's 复查 deadline when absent).
    #[serde(default)]
    pub due_date: Option<NaiveDate>,
}

/// A 复查 task of a case as the case page shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FollowUpView {
    pub task_id: i64,
    /// 1: the 复查; 2: the second 复查.
    pub round: i32,
    pub round_label: String,
    pub task_state: TaskState,
    pub task_state_label: String,
    pub team: Vec<String>,
    pub due_date: Option<NaiveDate>,
    /// The 复查 report's number once issued.
    pub report_no: String,
    /// 合格 / 不合格 once the report is issued, else empty.
    pub result: String,
    /// Still running: sampling or testing, no result yet.
    pub open: bool,
}

/// A sampler the bureau may put on a 复查 team.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SamplerChoice {
    pub id: i64,
    pub name: String,
}

fn round_label(round: i32) -> &'static str {
    if round >= 2 { "再次复查" } else { "复查" }
}

/// The 复查 step recorded from a task's result, if any: (report number, qualified).
fn result_of(steps: &[store::CaseStepRow], task_id: i64) -> Option<(String, bool)> {
    steps.iter().find_map(|st| {
        let data: serde_json::Value = serde_json::from_str(&st.data_json).ok()?;
        (data.get("task_id").and_then(|v| v.as_i64()) == Some(task_id)).then(|| {
            (
                data.get("report_no").and_then(|v| v.as_str()).unwrap_or_default().to_string(),
                data.get("qualified").and_then(|v| v.as_bool()).unwrap_or(false),
            )
        })
    })
}

/// A task still running towards a result: not ended without a sample, no result recorded.
fn is_open(state: TaskState, result: Option<&(String, bool)>) -> bool {
    result.is_none()
        && matches!(state, TaskState::Assigned | TaskState::InProgress | TaskState::Sampled | TaskState::RefusalPending)
}

/// The 复查 tasks of a case with their state and result.
pub(super) async fn follow_ups(s: &Services, c: &CaseRow) -> Result<Vec<FollowUpView>> {
    let db = s.store.reader();
    let rows = store::follow_ups_of_case(db, c.id).await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let steps = store::steps_of(db, c.id).await?;
    let mut out = Vec::with_capacity(rows.len());
    for f in rows {
        let t = store_draws::get_task(db, f.task_id).await?;
        let team_ids = store_draws::team_of(db, f.task_id).await?;
        let team = users::get_many(db, &team_ids).await?.into_iter().map(|u| u.display_name).collect();
        let result = result_of(&steps, f.task_id);
        out.push(FollowUpView {
            task_id: f.task_id,
            round: f.round,
            round_label: round_label(f.round).into(),
            task_state: t.state,
            task_state_label: t.state.label().into(),
            team,
            due_date: t.due_date,
            open: is_open(t.state, result.as_ref()),
            report_no: result.as_ref().map(|r| r.0.clone()).unwrap_or_default(),
            result: result.map(|r| if r.1 { "合格" } else { "不合格" }.to_string()).unwrap_or_default(),
        });
    }
    Ok(out)
}

/// The open 复查 task of a case, if one is running.
pub(super) async fn open_follow_up(s: &Services, c: &CaseRow) -> Result<Option<i64>> {
    Ok(follow_ups(s, c).await?.into_iter().find(|f| f.open).map(|f| f.task_id))
}

fn follow_up_open(task_id: i64) -> ServiceError {
    ServiceError::Rule(RuleViolation::new(
        "rule20_follow_up_open",
        format!("该案件已有进行中的复查抽样任务（任务{task_id}），出具结果前不能再安排复查或登记复查结果（规则20）"),
    ))
}

/// Refuses a 复查 step typed by hand while a 复查 task of the case is still running.
pub(super) async fn check_none_open(s: &Services, c: &CaseRow) -> Result<()> {
    match open_follow_up(s, c).await? {
        Some(t) => Err(follow_up_open(t)),
        None => Ok(()),
    }
}

/// The samplers of the sampling institution of the case's plan item (those a 复查 team is made of).
pub(super) async fn sampler_choices(s: &Services, c: &CaseRow) -> Result<Vec<SamplerChoice>> {
    let db = s.store.reader();
    let task = store_draws::get_task(db, c.task_id).await?;
    let item = store_plans::get_item(db, task.item_id).await?;
    let Some(org) = item.sampling_org_id else { return Ok(Vec::new()) };
    Ok(store_draws::users_with_role(db, org, "sampler")
        .await?
        .into_iter()
        .map(|(id, _, name)| SamplerChoice { id, name })
        .collect())
}

/// The round a case in `state` is due for: 1 after the correction order, 2 after escalation.
fn round_for(state: CaseState) -> Option<i32> {
    match state {
        CaseState::CorrectionOrdered | CaseState::ReportSubmitted => Some(1),
        CaseState::Escalated => Some(2),
        _ => None,
    }
}

/// The bureau that runs the case orders its 复查: a new sampling task for the same enterprise and
/// product, assigned to `input.team`. Refused for anyone else (the matrix), in a state that owes no
/// 复查, before the second 复查's earliest day, and while another 复查 task of the case is open.
pub async fn order_follow_up_check(
    s: &Services,
    actor: &Actor,
    case_id: i64,
    input: FollowUpOrderInput,
) -> Result<CaseDetail> {
    let (c, rel) = load(s, actor, case_id).await?;
    rel.require_or(Action::OrderFollowUpCheck, "复查由被抽样企业所在地市场监管部门安排（规则20）")?;
    let Some(round) = round_for(c.state) else {
        return Err(ServiceError::Rule(RuleViolation::new(
            "rule20_order_first",
            format!("案件当前为“{}”，不能安排复查：复查在责令整改之后进行（规则20）", c.state.label()),
        )));
    };
    check_none_open(s, &c).await?;
    let db = s.store.reader();
    let set = store::get_rule_set(db, c.rule_set_id).await?;
    let cal = crate::calendar::load(s).await?;
    let dl = rules::deadlines(&limits_of(&set)?, &cal, dates_of(&c));
    let today = s.today();
    if round == 2 {
        rules::check_second_follow_up_check_window(&dl, today).map_err(|mut v| {
            v.field = None;
            ServiceError::Rule(v)
        })?;
    }
    let mut errs = Vec::new();
    let choices = sampler_choices(s, &c).await?;
    let mut team = input.team.clone();
    team.sort_unstable();
    team.dedup();
    if team.len() < 2 {
        errs.push(RuleViolation::new("rule2_team", "复查抽样至少需要2名抽样人员（规则2）").on_field("team"));
    }
    if team.iter().any(|u| !choices.iter().any(|c| c.id == *u)) {
        errs.push(RuleViolation::new("team_not_sampler", "复查抽样人员应为该产品抽样机构的抽样人员").on_field("team"));
    }
    if input.due_date.is_some_and(|d| d < today) {
        errs.push(RuleViolation::new("invalid_deadline", "复查抽样期限不能早于今天").on_field("due_date"));
    }
    // Without a date given, the rule set's deadline; a case already past it (overdue) owes the
    // 复查 at once: due today rather than refused for a date nobody typed.
    let due = input
        .due_date
        .or(if round == 2 { dl.second_follow_up_check_due } else { dl.follow_up_check_due }.map(|d| d.max(today)));
    if !errs.is_empty() {
        return Err(ServiceError::Invalid(errs));
    }
    let first = store_draws::get_task(db, c.task_id).await?;
    let tx = s.write(actor).await?;
    // The 复查 task keeps the first task's draw: it is the same plan item and enterprise, chosen
    // by the case, not drawn again.
    let task =
        store_draws::insert_task(&tx, first.plan_id, first.item_id, first.draw_id, c.enterprise_id, due, &team).await?;
    store::insert_follow_up(&tx, c.id, task.id, round, actor.user_id).await?;
    tx.commit(AuditEntry::new(
        "case.follow_up_order",
        "case",
        c.id,
        json!(null),
        json!({"task_id": task.id, "round": round, "team": team, "due_date": due}),
    ))
    .await?;
    get(s, actor, case_id).await
}

/// The case a task is the 复查 of, if it is one.
pub async fn follow_up_of_task(s: &Services, task_id: i64) -> Result<Option<FollowUpRow>> {
    Ok(store::follow_up_of_task(s.store.reader(), task_id).await?)
}

/// A 复查 sample's report is issued: the case's 复查 step is recorded from its result, in the
/// approval's transaction. A case that has moved on meanwhile (closed, or a result typed by hand)
/// is left as it is.
pub(crate) async fn complete_follow_up(
    s: &Services,
    tx: &Write,
    actor: &Actor,
    f: &FollowUpRow,
    qualified: bool,
    report_no: &str,
) -> Result<()> {
    let db = s.store.reader();
    let c = store::get_case(db, f.case_id).await?;
    let action = match (f.round >= 2, qualified) {
        (false, true) => CaseAction::FollowUpCheckPassed,
        (false, false) => CaseAction::FollowUpCheckFailed,
        (true, true) => CaseAction::SecondFollowUpCheckPassed,
        (true, false) => CaseAction::SecondFollowUpCheckFailed,
    };
    let Ok(next) = workflow::step(c.state, action) else { return Ok(()) };
    let on = s.today();
    let mut dates = dates_of(&c);
    if action == CaseAction::FollowUpCheckFailed {
        dates.escalated_on = Some(on);
    }
    let set = store::get_rule_set(db, c.rule_set_id).await?;
    let cal = crate::calendar::load(s).await?;
    let mut dl = rules::deadlines(&limits_of(&set)?, &cal, dates);
    if c.rectify_due.is_some() {
        dl.rectify_due = c.rectify_due;
    }
    let mut data = serde_json::Map::new();
    data.insert("report_no".into(), json!(report_no));
    data.insert("qualified".into(), json!(qualified));
    // 复查 samples are free to the enterprise (rules 20 and 21).
    data.insert("fee_to_enterprise".into(), json!(0));
    data.insert("task_id".into(), json!(f.task_id));
    let note = format!("{}抽样任务{}的检验报告签发", round_label(f.round), f.task_id);
    let (step, due_on) = record(
        s,
        tx,
        &c,
        Recorded { next, action, on, note, data: &data, dates, rectify_due: c.rectify_due, dl: &dl },
        actor,
    )
    .await?;
    tx.audit(AuditEntry::new(
        "case.follow_up_result",
        "case",
        c.id,
        json!({"state": c.state}),
        json!({"state": next.to().as_str(), "action": action.as_str(), "step_id": step.id, "task_id": f.task_id,
               "report_no": report_no, "qualified": qualified, "due_on": due_on}),
    ));
    Ok(())
}
