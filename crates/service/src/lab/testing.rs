//! Testing by blind code: worklists, results with the item judgement from the typed limit, the
//! conclusion, XLSX import, the results deadline (rule 16) and screening (rule 24).

use crate::Write;
use choucha_domain::RuleViolation;
use choucha_domain::access::{Action, Relations};
use choucha_domain::implementation_rules::{ItemJudgement, Limit, Measured, judge};
use choucha_domain::lab::{self as rules, LabDuty, LicenceState, SampleAction, SampleState};
use choucha_domain::workflow::{self, Transition};
use choucha_store::audit::AuditEntry;
use choucha_store::lab::{self as store, NewResult, SampleChanges, SampleFilter, SamplePatch, SampleRow};
use choucha_store::{Page, calendar as store_cal, plans as store_plans};
use chrono::NaiveDate;
use sea_orm::ActiveValue::Set;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;

use super::{BlindSampleSummary, BlindSampleView, blind_view, by_code, ctx_of, display_of, samplers_of, summary_of};
use crate::access::{Ask, Scope};
use crate::{Actor, Result, ServiceError, Services, page_limit};

/// Which worklist (testers and approvers of the institution; screeners of the screening institution).
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::IntoParams, utoipa::ToSchema)]
#[into_params(parameter_in = Query)]
pub struct WorklistQuery {
    /// A sample state (accepted, testing, tested, reported…); all when empty.
    #[serde(default)]
    pub state: Option<SampleState>,
    /// Only the caller's own samples.
    #[serde(default)]
    pub mine: Option<bool>,
    /// Only samples whose results are overdue (rule 16).
    #[serde(default)]
    pub overdue: Option<bool>,
    /// Blind code prefix.
    #[serde(default)]
    pub q: Option<String>,
    #[serde(default)]
    pub cursor: Option<String>,
    #[serde(default)]
    pub limit: Option<u64>,
}

/// The caller's worklist by blind code, newest first.
pub async fn worklist(s: &Services, actor: &Actor, q: WorklistQuery) -> Result<Page<BlindSampleSummary>> {
    let Some(org) = actor.org_id else { return Err(ServiceError::forbidden()) };
    if !matches!(actor.scope_any(), Some(Scope::Institution(_))) {
        return Err(crate::access::refusal(Action::ViewLabBoard));
    }
    actor.require(Action::ViewLabBoard)?;
    let db = s.store.reader();
    let org_row = choucha_store::organisations::get(db, org).await?;
    let mut f =
        SampleFilter { states: q.state.into_iter().collect(), blind_code_prefix: q.q.clone(), ..Default::default() };
    // A screening-only institution sees the samples it screens; a testing institution its own.
    if org_row.cap_screening && !org_row.cap_testing {
        f.screening_org_id = Some(org);
    } else {
        f.testing_org_id = Some(org);
        // Rejected samples have no blind code and are the custodian's business.
        if f.states.is_empty() {
            f.states = SampleState::ALL.into_iter().filter(|s| *s != SampleState::Rejected).collect();
        }
    }
    if q.mine.unwrap_or(false) {
        f.tester_id = Some(actor.user_id);
    }
    if q.overdue.unwrap_or(false) {
        f.due_before = Some(s.today());
        f.states = vec![SampleState::Testing];
    }
    let before = q.cursor.as_deref().and_then(|c| c.trim().parse::<i64>().ok());
    let p = store::list_samples(db, &f, before, page_limit(q.limit)?).await?;
    // The page's products and testers' names in one query each.
    let item_ids: Vec<i64> = p.items.iter().map(|r| r.item_id).collect();
    let products: HashMap<i64, String> =
        store_plans::get_items(db, &item_ids).await?.into_iter().map(|i| (i.id, i.product)).collect();
    let tester_ids: Vec<i64> = p.items.iter().filter_map(|r| r.tester_id).collect();
    let testers: HashMap<i64, String> =
        choucha_store::users::get_many(db, &tester_ids).await?.into_iter().map(|u| (u.id, u.display_name)).collect();
    let mut items = Vec::with_capacity(p.items.len());
    for r in &p.items {
        let product = products.get(&r.item_id).cloned().ok_or(choucha_store::StoreError::NotFound)?;
        items.push(summary_of(r, product, r.tester_id.and_then(|t| testers.get(&t).cloned()), s.today()));
    }
    Ok(Page { items, next: p.next })
}

/// One sample by blind code (blind callers; the custodian and the bureau too).
pub async fn sample(s: &Services, actor: &Actor, code: &str) -> Result<BlindSampleView> {
    let (sample, st) = by_code(s, actor, code).await?;
    let mut v = blind_view(s, &sample).await?;
    v.actions = st.actions(super::SAMPLE_ACTIONS);
    Ok(v)
}

/// One result as entered: exactly one of `value`, `text`, `pass`, matching the item's requirement.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct ResultInput {
    /// The test item's position in the rules (0-based), or its name.
    #[serde(default)]
    pub item_index: Option<i32>,
    #[serde(default)]
    pub item_name: Option<String>,
    #[serde(default)]
    pub value: Option<f64>,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub pass: Option<bool>,
    #[serde(default)]
    pub method: String,
    #[serde(default)]
    pub instrument: String,
    /// The day the item was tested; today when empty.
    #[serde(default)]
    pub tested_on: Option<NaiveDate>,
}

/// Whether the caller may test this sample: a tester of the testing institution, not one of its
/// samplers (rule 1), and the assigned tester once one is assigned.
pub(super) async fn check_tester(s: &Services, actor: &Actor, sample: &SampleRow, st: Relations) -> Result<()> {
    st.require_or(Action::RecordResults, "只有承检机构的检验人员可以录入检验结果")?;
    rules::check_not_sampler(actor.user_id, &samplers_of(s, sample).await?, LabDuty::Test)?;
    if sample.tester_id.is_some_and(|t| t != actor.user_id) {
        return Err(ServiceError::Forbidden("该样品已分配给其他检验人员".into()));
    }
    Ok(())
}

/// The gate before any result (rules 12, 14, 24).
pub(super) fn check_testable(sample: &SampleRow) -> Result<Transition<SampleState>> {
    let next = workflow::step(sample.state, SampleAction::EnterResult)?;
    if sample.licence_state == LicenceState::Pending {
        return Err(ServiceError::Rule(RuleViolation::new(
            "rule14_licence_unchecked",
            "该产品实行生产许可/强制性认证管理，检验前须先核查生产者的许可证（规则14）",
        )));
    }
    if sample.licence_state == LicenceState::Failed {
        return Err(ServiceError::Rule(RuleViolation::new(
            "rule14_stopped",
            "生产者未通过许可证核查，检验已终止（规则14）",
        )));
    }
    Ok(next)
}

pub(crate) struct Checked {
    pub index: i32,
    pub name: String,
    pub unit: String,
    pub requirement: String,
    pub limit: Limit,
    pub measured: Measured,
    pub judgement: ItemJudgement,
    pub method: String,
    pub instrument: String,
    pub tested_on: NaiveDate,
}

pub(crate) fn check_result(
    body: &crate::implementation_rules::RulesBody,
    input: &ResultInput,
    today: NaiveDate,
) -> std::result::Result<Checked, RuleViolation> {
    let found = match (&input.item_index, &input.item_name) {
        (Some(i), _) => body.test_items.get(*i as usize).map(|t| (*i, t)),
        (None, Some(n)) => {
            body.test_items.iter().enumerate().find(|(_, t)| t.name.trim() == n.trim()).map(|(i, t)| (i as i32, t))
        }
        _ => None,
    };
    let Some((index, item)) = found else {
        return Err(RuleViolation::new("unknown_item", "实施细则中没有该检验项目").on_field("item_index"));
    };
    let measured = match (input.value, input.text.as_deref().map(str::trim).filter(|t| !t.is_empty()), input.pass) {
        (Some(v), None, None) => Measured::Number(v),
        (None, Some(t), None) => Measured::Text(t.to_string()),
        (None, None, Some(p)) => Measured::Pass(p),
        _ => {
            return Err(RuleViolation::new(
                "result_kind",
                format!("“{}”：请填写一个检验结果（数值、文字或符合与否）", item.name),
            )
            .on_field("value"));
        }
    };
    let judgement = judge(&item.limit, &measured)
        .map_err(|e| RuleViolation::new(e.code, format!("“{}”：{}", item.name, e.message)).on_field("value"))?;
    let tested_on = input.tested_on.unwrap_or(today);
    if tested_on > today {
        return Err(RuleViolation::new("future_date", "检验日期不能晚于今天").on_field("tested_on"));
    }
    Ok(Checked {
        index,
        name: item.name.clone(),
        unit: item.unit.clone(),
        requirement: item.limit.display(&item.unit),
        limit: item.limit.clone(),
        measured,
        judgement,
        method: if input.method.trim().is_empty() { item.method.clone() } else { input.method.trim().to_string() },
        instrument: input.instrument.trim().to_string(),
        tested_on,
    })
}

/// Write checked results and move the sample on; the deadline of rule 16 follows the last day tested.
pub(super) async fn write_results(
    s: &Services,
    tx: &Write,
    actor: &Actor,
    sample: &SampleRow,
    next: Transition<SampleState>,
    results: &[Checked],
) -> Result<()> {
    for c in results {
        store::put_result(
            tx,
            NewResult {
                sample_id: sample.id,
                item_index: c.index,
                item_name: c.name.clone(),
                unit: c.unit.clone(),
                requirement: c.requirement.clone(),
                limit_json: serde_json::to_string(&c.limit).map_err(ServiceError::internal)?,
                measured_json: serde_json::to_string(&c.measured).map_err(ServiceError::internal)?,
                display: display_of(&c.measured, &c.unit),
                method: c.method.clone(),
                instrument: c.instrument.clone(),
                judgement: match c.judgement {
                    ItemJudgement::Conforming => "conforming".into(),
                    ItemJudgement::NonConforming => "non_conforming".into(),
                },
                tested_on: c.tested_on,
                entered_by: actor.user_id,
            },
        )
        .await?;
    }
    let ended = store::results_of(tx.conn(), sample.id).await?.iter().map(|r| r.tested_on).max();
    let cal = store_cal::load(s.store.reader()).await?;
    store::update_sample(
        tx,
        sample.id,
        sample.state,
        SamplePatch {
            state: Some(next),
            set: SampleChanges {
                tester_id: Set(Some(sample.tester_id.unwrap_or(actor.user_id))),
                testing_ended_on: Set(ended),
                results_due: Set(ended.map(|d| rules::results_due(&cal, d))),
                ..Default::default()
            },
            ..Default::default()
        },
    )
    .await?;
    Ok(())
}

/// Enter (or correct, until the results are completed) one test item's result.
pub async fn enter_result(s: &Services, actor: &Actor, code: &str, input: ResultInput) -> Result<BlindSampleView> {
    let (sample, st) = by_code(s, actor, code).await?;
    check_tester(s, actor, &sample, st).await?;
    let next = check_testable(&sample)?;
    let c = ctx_of(s, &sample).await?;
    let checked = check_result(&c.body, &input, s.today()).map_err(|e| ServiceError::Invalid(vec![e]))?;
    let tx = s.write(actor).await?;
    write_results(s, &tx, actor, &sample, next, std::slice::from_ref(&checked)).await?;
    tx.commit(AuditEntry::new(
        "lab.result",
        "lab_sample",
        sample.id,
        json!(null),
        json!({"item": checked.name, "result": display_of(&checked.measured, &checked.unit),
                   "judgement": checked.judgement.label()}),
    ))
    .await?;
    let fresh = store::get_sample(s.store.reader(), sample.id).await?;
    blind_view(s, &fresh).await
}

/// Enter the results of several test items of one sample at once (the one form of the sample page):
/// every item is checked first, and if any is wrong nothing is written and every problem is named;
/// otherwise all are written in one transaction with one audit record.
pub async fn enter_results(
    s: &Services,
    actor: &Actor,
    code: &str,
    inputs: Vec<ResultInput>,
) -> Result<BlindSampleView> {
    let (sample, st) = by_code(s, actor, code).await?;
    check_tester(s, actor, &sample, st).await?;
    let next = check_testable(&sample)?;
    if inputs.is_empty() {
        return Err(ServiceError::invalid(
            RuleViolation::new("required", "请至少填写一个检验项目的结果").on_field("value"),
        ));
    }
    let c = ctx_of(s, &sample).await?;
    let today = s.today();
    let mut checked: Vec<Checked> = Vec::with_capacity(inputs.len());
    let mut errs = Vec::new();
    for input in &inputs {
        match check_result(&c.body, input, today) {
            Ok(k) if checked.iter().any(|x| x.index == k.index) => errs
                .push(RuleViolation::new("duplicate_item", format!("“{}”填写了两次", k.name)).on_field("item_index")),
            Ok(k) => checked.push(k),
            Err(e) => errs.push(e),
        }
    }
    if !errs.is_empty() {
        return Err(ServiceError::Invalid(errs));
    }
    let tx = s.write(actor).await?;
    write_results(s, &tx, actor, &sample, next, &checked).await?;
    let items: Vec<serde_json::Value> = checked
        .iter()
        .map(|k| json!({"item": k.name, "result": display_of(&k.measured, &k.unit), "judgement": k.judgement.label()}))
        .collect();
    tx.commit(AuditEntry::new("lab.results", "lab_sample", sample.id, json!(null), json!({"items": items}))).await?;
    let fresh = store::get_sample(s.store.reader(), sample.id).await?;
    blind_view(s, &fresh).await
}

/// All results in: the conclusion per the rules' judgement principle; results entered after their
/// due day are flagged and reported to the organising bureau (rule 16).
pub async fn complete_results(s: &Services, actor: &Actor, code: &str) -> Result<BlindSampleView> {
    let (sample, st) = by_code(s, actor, code).await?;
    check_tester(s, actor, &sample, st).await?;
    let next = workflow::step(sample.state, SampleAction::CompleteResults)?;
    let c = ctx_of(s, &sample).await?;
    let results = store::results_of(s.store.reader(), sample.id).await?;
    let missing: Vec<String> = c
        .body
        .test_items
        .iter()
        .enumerate()
        .filter(|(i, _)| !results.iter().any(|r| r.item_index == *i as i32))
        .map(|(_, t)| t.name.clone())
        .collect();
    if !missing.is_empty() {
        return Err(ServiceError::Rule(RuleViolation::new(
            "results_incomplete",
            format!("还有检验项目未录入结果：{}", missing.join("、")),
        )));
    }
    let judgements: Vec<(String, ItemJudgement)> = results
        .iter()
        .map(|r| {
            let j = if r.judgement == "conforming" { ItemJudgement::Conforming } else { ItemJudgement::NonConforming };
            (r.item_name.clone(), j)
        })
        .collect();
    let conclusion = rules::conclude(&judgements, &c.body.standards);
    let today = s.today();
    let late = sample.results_due.is_some_and(|d| today > d);
    let tx = s.write(actor).await?;
    store::update_sample(
        &tx,
        sample.id,
        sample.state,
        SamplePatch {
            state: Some(next),
            set: SampleChanges {
                results_completed_at: Set(Some(s.now())),
                results_late: Set(late),
                qualified: Set(Some(conclusion.qualified)),
                conclusion: Set(conclusion.text.clone()),
                ..Default::default()
            },
            ..Default::default()
        },
    )
    .await?;
    if late {
        choucha_store::sampling::insert_inbox(
            &tx,
            c.plan.organising_org_id,
            "lab_results_late",
            &format!(
                "检验结果录入超期：样品{}（{}）应于{}前录入（规则16）",
                sample.blind_code.clone().unwrap_or_default(),
                c.item.product,
                sample.results_due.map(|d| d.to_string()).unwrap_or_default()
            ),
            "sampling_task",
            sample.task_id,
        )
        .await?;
    }
    tx.commit(AuditEntry::new(
        "lab.complete",
        "lab_sample",
        sample.id,
        json!({"state": sample.state}),
        json!({"state": next.to().as_str(), "qualified": conclusion.qualified, "late": late}),
    ))
    .await?;
    let fresh = store::get_sample(s.store.reader(), sample.id).await?;
    blind_view(s, &fresh).await
}

/// A quick-screening result (rule 24).
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct ScreeningInput {
    /// flagged (goes on to full testing) | cleared
    pub result: String,
    #[serde(default)]
    pub note: String,
}

/// The screening institution records its quick result by blind code; a flagged sample goes on to
/// full testing by the testing institution. A screening result is never a report.
pub async fn screen(s: &Services, actor: &Actor, code: &str, input: ScreeningInput) -> Result<BlindSampleView> {
    let (sample, st) = by_code(s, actor, code).await?;
    st.require_or(Action::Screen, "只有承担快速筛查的机构可以录入筛查结果（规则24）")?;
    let action = match input.result.as_str() {
        "flagged" => SampleAction::ScreeningFlagged,
        "cleared" => SampleAction::ScreeningCleared,
        _ => {
            return Err(ServiceError::invalid(
                RuleViolation::new("invalid_result", "筛查结果应为“发现问题”或“未见异常”").on_field("result"),
            ));
        }
    };
    let next = workflow::step(sample.state, action)?;
    let org = actor.org_id.ok_or_else(ServiceError::forbidden)?;
    let tx = s.write(actor).await?;
    store::insert_screening(&tx, sample.id, org, &input.result, input.note.trim(), actor.user_id).await?;
    store::update_sample(&tx, sample.id, sample.state, SamplePatch { state: Some(next), ..Default::default() }).await?;
    tx.commit(AuditEntry::new(
        "lab.screen",
        "lab_sample",
        sample.id,
        json!({"state": sample.state}),
        json!({"state": next.to().as_str(), "result": input.result}),
    ))
    .await?;
    let fresh = store::get_sample(s.store.reader(), sample.id).await?;
    blind_view(s, &fresh).await
}
