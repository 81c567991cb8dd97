//! The bureau's steps on a case, and the enterprise's rectification report from its portal.

use choucha_domain::RuleViolation;
use choucha_domain::cases::{self as rules, CaseAction, CaseState, bureau_due};
use choucha_domain::workflow;
use choucha_store::audit::AuditEntry;
use choucha_store::cases::{self as store, CaseFilter, CasePatch, CaseScope, NewStep};
use choucha_store::{enterprises, organisations};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::access::{Ask, Scope};
use crate::disposal::{FileInput, StoredFile, province_of, store_file};
use crate::{Actor, Result, ServiceError, Services};
use choucha_domain::access::{Action, Relation};

use super::{CaseDetail, CaseView, dates_of, get, limits_of, load, step_action, view};

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
    if action.is_follow_up_check() {
        super::follow_up::check_none_open(s, &c).await?;
    }
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
    let tx = s.write(actor).await?;
    let (step, due_on) = record(
        s,
        &tx,
        &c,
        Recorded { next, action, on, note: note.clone(), data: &data, dates, rectify_due, dl: &dl },
        actor,
    )
    .await?;
    tx.commit(AuditEntry::new(
            "case.step",
            "case",
            c.id,
            json!({"state": c.state}),
            json!({"state": next.to().as_str(), "action": action.as_str(), "step_id": step.id, "happened_on": on, "due_on": due_on, "data": data}),
        )).await?;
    get(s, actor, id).await
}

/// A step as it is written: the case's new state, dates and deadlines, and the step's data.
pub(super) struct Recorded<'a> {
    pub next: workflow::Transition<CaseState>,
    pub action: CaseAction,
    pub on: NaiveDate,
    pub note: String,
    pub data: &'a serde_json::Map<String, serde_json::Value>,
    pub dates: rules::CaseDates,
    pub rectify_due: Option<NaiveDate>,
    pub dl: &'a rules::CaseDeadlines,
}

/// Writes a step on `tx`: the case's new state and deadlines, the step row, and for a failed
/// 复查 the provincial bureau's inbox item (rule 20). Returns the step and the bureau's next due day.
pub(super) async fn record(
    s: &Services,
    tx: &crate::write::Write,
    c: &store::CaseRow,
    r: Recorded<'_>,
    actor: &Actor,
) -> Result<(store::CaseStepRow, Option<NaiveDate>)> {
    let Recorded { next, action, on, note, data, dates, rectify_due, dl } = r;
    let closed = next.to() == CaseState::Closed;
    let due_on = bureau_due(next.to(), dl);
    store::update_case(
        tx,
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
        tx,
        NewStep {
            case_id: c.id,
            action: action.as_str().into(),
            happened_on: on,
            actor_id: actor.user_id,
            actor_name: format!("{}（{}）", actor.display_name, actor.org_name.clone().unwrap_or_default()),
            note,
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
        choucha_store::sampling::insert_inbox(tx, target, "case_escalated", &title, "case", c.id).await?;
        if target != c.organising_org_id {
            choucha_store::sampling::insert_inbox(tx, c.organising_org_id, "case_escalated", &title, "case", c.id)
                .await?;
        }
    }
    Ok((step, due_on))
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
pub async fn step_document(s: &Services, actor: &Actor, case_id: i64, step_id: i64) -> Result<(StoredFile, Vec<u8>)> {
    let (c, _) = load(s, actor, case_id).await?;
    let st = store::steps_of(s.store.reader(), c.id)
        .await?
        .into_iter()
        .find(|st| st.id == step_id)
        .ok_or(ServiceError::NotFound("文件"))?;
    let data: serde_json::Value = serde_json::from_str(&st.data_json).unwrap_or_default();
    let f: StoredFile = serde_json::from_value(data.get("document").cloned().unwrap_or_default())
        .map_err(|_| ServiceError::NotFound("文件"))?;
    let bytes = crate::evidence::read_stored(s, &f.sha256).await?;
    Ok((f, bytes))
}
