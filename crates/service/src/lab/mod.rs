//! The laboratory: receipt, blind coding, separation of duties, licence check, test results with
//! judgement and the three-person report (DESIGN.md rules 1, 12–16, 24).
//!
//! Two kinds of answer, never mixed: [`BlindSampleView`] (testers, report reviewers and approvers,
//! screening institutions) carries the blind code, the product, the rules version and the portion —
//! nothing that names the enterprise, the nominal producer, the place or the samplers (rule 13);
//! [`LinkView`] (the institution's sample custodian, the organising bureau, admins) links the blind
//! code to the sampled task. Errors reached by blind callers name the blind code only.

mod dashboard;
mod receipt;
mod report;
mod results_import;
mod testing;

pub use dashboard::*;
pub use receipt::*;
pub use report::*;
pub use results_import::*;
pub use testing::*;

use choucha_domain::access::{Action, Relation, Relations};
use choucha_domain::clock;
use choucha_domain::implementation_rules::{ItemJudgement, Limit, Measured};
use choucha_domain::lab::{LicenceState, ReportState, SampleState};
use choucha_domain::sampling::{RecordFields, RecordState};
use choucha_store::draws as store_draws;
use choucha_store::implementation_rules as store_rules;
use choucha_store::lab::{self as store, ReportRow, ResultRow, SampleRow};
use choucha_store::plans::{self as store_plans, ItemRow, PlanRow};
use chrono::{NaiveDate, Utc};
use serde::Serialize;

use crate::access::{Ask, SampleParties};
use crate::implementation_rules::RulesBody;
use crate::{Actor, Result, ServiceError, Services};

/// The refusal of an issued report's PDF (it names the enterprise) to blind staff (rule 13): the
/// same for the first institution's report and a re-test report.
pub(crate) fn report_pdf_refused() -> ServiceError {
    ServiceError::Forbidden("检验报告正本由样品管理员签发送达；检验人员按盲样编号查看报告内容".into())
}

/// How the caller stands towards a sample, or not found (a sample of another institution does
/// not exist for them). The plan is read only for a regulator (the organising bureau).
pub(crate) async fn standing(s: &Services, actor: &Actor, sample: &SampleRow) -> Result<Relations> {
    let organising_org_id = if actor.system().contains(Relation::Regulator) {
        store_plans::get_plan(s.store.reader(), sample.plan_id).await?.organising_org_id
    } else {
        0
    };
    let rel = actor.to_sample(parties(sample, organising_org_id));
    rel.visible(Action::ViewBlindSample, "样品")?;
    Ok(rel)
}

/// The parties of a sample.
pub(crate) fn parties(sample: &SampleRow, organising_org_id: i64) -> SampleParties {
    SampleParties {
        organising_org_id,
        testing_org_id: sample.testing_org_id,
        screening_org_id: sample.screening_org_id,
    }
}

/// The caller's relations towards a sample without the visibility check (the organising bureau
/// is not looked up: for custodian and lab-staff actions).
pub(crate) fn lab_relations(actor: &Actor, sample: &SampleRow) -> Relations {
    actor.to_sample(parties(sample, 0))
}

/// A sample by its blind code, for a caller who may see it.
pub(crate) async fn by_code(s: &Services, actor: &Actor, code: &str) -> Result<(SampleRow, Relations)> {
    let code = choucha_domain::lab::BlindCode::parse(code).map_err(|_| ServiceError::NotFound("样品"))?;
    let sample =
        store::sample_by_blind_code(s.store.reader(), code.as_str()).await?.ok_or(ServiceError::NotFound("样品"))?;
    let st = standing(s, actor, &sample).await?;
    Ok((sample, st))
}

pub(crate) async fn samplers_of(s: &Services, sample: &SampleRow) -> Result<Vec<i64>> {
    Ok(store_draws::team_of(s.store.reader(), sample.task_id).await?)
}

pub(crate) struct SampleCtx {
    pub item: ItemRow,
    pub plan: PlanRow,
    pub rules_version: i32,
    pub body: RulesBody,
}

pub(crate) async fn ctx_of(s: &Services, sample: &SampleRow) -> Result<SampleCtx> {
    let db = s.store.reader();
    let item = store_plans::get_item(db, sample.item_id).await?;
    let plan = store_plans::get_plan(db, sample.plan_id).await?;
    let rules = store_rules::get(db, sample.rules_version_id).await?;
    let body: RulesBody = serde_json::from_str(&rules.body_json).map_err(ServiceError::internal)?;
    Ok(SampleCtx { item, plan, rules_version: rules.version, body })
}

/// The signed sampling record in force for a task.
pub(crate) async fn signed_record(s: &Services, task_id: i64) -> Result<Option<(RecordFields, chrono::DateTime<Utc>)>> {
    let versions = choucha_store::sampling::records_of_task(s.store.reader(), task_id).await?;
    let Some(r) = versions.into_iter().find(|v| v.state == RecordState::Signed) else { return Ok(None) };
    let f: RecordFields = serde_json::from_str(&r.fields_json).map_err(ServiceError::internal)?;
    Ok(Some((f, r.locked_at.unwrap_or(r.created_at))))
}

/// One test item of the sample's rules with its result, as a blind caller sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = TestItemView)]
pub struct ItemView {
    pub index: i32,
    pub name: String,
    /// The rules' method standard.
    pub method: String,
    pub unit: String,
    /// number | text | pass_fail
    pub result_kind: String,
    /// The requirement as printed (e.g. ≤10mg/kg).
    pub requirement: String,
    pub result: Option<ResultView>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ResultView {
    pub display: String,
    pub method: String,
    pub instrument: String,
    /// conforming | non_conforming
    pub judgement: String,
    /// 符合 | 不符合
    pub judgement_label: String,
    pub tested_on: NaiveDate,
}

pub(crate) fn result_kind(limit: &Limit) -> &'static str {
    match limit {
        Limit::Max { .. } | Limit::Min { .. } | Limit::Range { .. } => "number",
        Limit::EqualsText { .. } => "text",
        Limit::PassFail => "pass_fail",
    }
}

fn result_view(r: &ResultRow) -> ResultView {
    let j = if r.judgement == "conforming" { ItemJudgement::Conforming } else { ItemJudgement::NonConforming };
    ResultView {
        display: r.display.clone(),
        method: r.method.clone(),
        instrument: r.instrument.clone(),
        judgement: r.judgement.clone(),
        judgement_label: j.label().to_string(),
        tested_on: r.tested_on,
    }
}

pub(crate) fn display_of(m: &Measured, unit: &str) -> String {
    match m {
        Measured::Number(v) => {
            let s = format!("{v}");
            format!("{}{}", s.strip_suffix(".0").unwrap_or(&s), unit)
        }
        Measured::Text(t) => t.trim().to_string(),
        Measured::Pass(true) => "符合".into(),
        Measured::Pass(false) => "不符合".into(),
    }
}

/// A report as every lab role sees it (no enterprise in it).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReportView {
    pub id: i64,
    pub version: i32,
    pub state: ReportState,
    pub state_label: String,
    pub report_no: Option<String>,
    pub prepared_by: String,
    pub reviewed_by: Option<String>,
    pub approved_by: Option<String>,
    pub approved_at: Option<chrono::DateTime<Utc>>,
    pub pdf_sha256: String,
    pub supersedes_id: Option<i64>,
    pub correction_reason: String,
    pub qualified: bool,
    pub conclusion: String,
    /// Why the reviewer or approver sent it back (state `returned`).
    pub returned_reason: String,
    pub returned_by: Option<String>,
    /// Who has signed on the screen so far: prepare, review, approve.
    pub signed: Vec<String>,
}

pub(crate) async fn user_name(s: &Services, id: i64) -> String {
    choucha_store::users::get(s.store.reader(), id).await.map(|u| u.display_name).unwrap_or_default()
}

pub(crate) async fn report_view(s: &Services, r: &ReportRow) -> Result<ReportView> {
    let content: ReportContent = serde_json::from_str(&r.content_json).map_err(ServiceError::internal)?;
    Ok(ReportView {
        id: r.id,
        version: r.version,
        state: r.state,
        state_label: r.state.label().to_string(),
        report_no: r.report_no.clone(),
        prepared_by: user_name(s, r.prepared_by).await,
        reviewed_by: match r.reviewed_by {
            Some(u) => Some(user_name(s, u).await),
            None => None,
        },
        approved_by: match r.approved_by {
            Some(u) => Some(user_name(s, u).await),
            None => None,
        },
        approved_at: r.approved_at,
        pdf_sha256: r.pdf_sha256.clone(),
        supersedes_id: r.supersedes_id,
        correction_reason: r.correction_reason.clone(),
        qualified: content.qualified,
        conclusion: content.conclusion,
        returned_reason: r.returned_reason.clone(),
        returned_by: match r.returned_by {
            Some(u) => Some(user_name(s, u).await),
            None => None,
        },
        signed: [("prepare", &r.prepared_sig_b64), ("review", &r.reviewed_sig_b64), ("approve", &r.approved_sig_b64)]
            .into_iter()
            .filter(|(_, b)| !b.is_empty())
            .map(|(d, _)| d.to_string())
            .collect(),
    })
}

/// A sample as testers, reviewers, approvers and screeners see it: never the enterprise, the
/// nominal producer, the place or the samplers (rule 13).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BlindSampleView {
    pub blind_code: String,
    pub product: String,
    pub rules_version: i32,
    pub standards: Vec<String>,
    /// The test portion as received, e.g. "2瓶×1L（2L）".
    pub test_portion: String,
    pub state: SampleState,
    pub state_label: String,
    pub received_on: NaiveDate,
    /// none | production_licence | ccc
    pub licence_required: String,
    pub licence_state: LicenceState,
    pub licence_state_label: String,
    /// Whether a screening institution screens this item (rule 24).
    pub screened: bool,
    pub tester: Option<String>,
    pub testing_ended_on: Option<NaiveDate>,
    pub results_due: Option<NaiveDate>,
    /// Results not entered by their due day (rule 16).
    pub overdue: bool,
    /// Results were entered after their due day.
    pub results_late: bool,
    pub qualified: Option<bool>,
    pub conclusion: String,
    pub judgement_principle: String,
    pub items: Vec<ItemView>,
    pub reports: Vec<ReportView>,
    /// What the caller may do with the sample (the permission matrix's answer; pages draw their
    /// buttons from it).
    #[schema(value_type = Vec<String>)]
    pub actions: Vec<Action>,
}

/// The actions a sample view offers.
pub(crate) const SAMPLE_ACTIONS: &[Action] = &[
    Action::ViewLink,
    Action::ManageSample,
    Action::CheckLicence,
    Action::RecordResults,
    Action::Screen,
    Action::PrepareReport,
    Action::SignReport,
    Action::ReportPdf,
];

/// The short line of a blind worklist.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BlindSampleSummary {
    pub blind_code: String,
    pub product: String,
    pub state: SampleState,
    pub state_label: String,
    pub licence_state: LicenceState,
    pub tester: Option<String>,
    pub results_due: Option<NaiveDate>,
    pub overdue: bool,
    pub results_late: bool,
    pub qualified: Option<bool>,
}

pub(crate) fn is_overdue(sample: &SampleRow, today: NaiveDate) -> bool {
    sample.results_completed_at.is_none() && sample.results_due.is_some_and(|d| d < today)
}

/// A worklist line; `tester` is the name of the sample's tester (looked up for the whole page).
pub(crate) fn summary_of(
    sample: &SampleRow,
    product: String,
    tester: Option<String>,
    today: NaiveDate,
) -> BlindSampleSummary {
    BlindSampleSummary {
        blind_code: sample.blind_code.clone().unwrap_or_default(),
        product,
        state_label: sample.state.label().to_string(),
        state: sample.state,
        licence_state: sample.licence_state,
        tester: sample.tester_id.map(|_| tester.unwrap_or_default()),
        results_due: sample.results_due,
        overdue: is_overdue(sample, today),
        results_late: sample.results_late,
        qualified: sample.qualified,
    }
}

pub(crate) async fn blind_view(s: &Services, sample: &SampleRow) -> Result<BlindSampleView> {
    let c = ctx_of(s, sample).await?;
    let results = store::results_of(s.store.reader(), sample.id).await?;
    let items = c
        .body
        .test_items
        .iter()
        .enumerate()
        .map(|(i, t)| ItemView {
            index: i as i32,
            name: t.name.clone(),
            method: t.method.clone(),
            unit: t.unit.clone(),
            result_kind: result_kind(&t.limit).to_string(),
            requirement: t.limit.display(&t.unit),
            result: results.iter().find(|r| r.item_index == i as i32).map(result_view),
        })
        .collect();
    let mut reports = Vec::new();
    for r in store::reports_of(s.store.reader(), sample.id).await? {
        reports.push(report_view(s, &r).await?);
    }
    let test_portion = match signed_record(s, sample.task_id).await? {
        Some((f, _)) => format!("{}（{}{}）", c.body.test_portion, f.test_quantity, f.unit),
        None => c.body.test_portion.clone(),
    };
    Ok(BlindSampleView {
        blind_code: sample.blind_code.clone().unwrap_or_default(),
        product: c.item.product.clone(),
        rules_version: c.rules_version,
        standards: c.body.standards.clone(),
        test_portion,
        state_label: sample.state.label().to_string(),
        state: sample.state,
        received_on: clock::beijing_date(sample.received_at),
        licence_required: sample.licence_required.clone(),
        licence_state_label: sample.licence_state.label().to_string(),
        licence_state: sample.licence_state,
        screened: sample.screening_org_id.is_some(),
        tester: match sample.tester_id {
            Some(t) => Some(user_name(s, t).await),
            None => None,
        },
        testing_ended_on: sample.testing_ended_on,
        results_due: sample.results_due,
        overdue: is_overdue(sample, s.today()),
        results_late: sample.results_late,
        qualified: sample.qualified,
        conclusion: sample.conclusion.clone(),
        judgement_principle: c.body.judgement_principle.clone(),
        items,
        reports,
        actions: Vec::new(),
    })
}

/// The frozen content of a report (also what its PDF shows, with the issue data added on approval).
#[derive(Debug, Clone, Default, serde::Deserialize, Serialize)]
pub struct ReportContent {
    pub blind_code: String,
    pub product: String,
    pub standards: Vec<String>,
    pub rules_version: i32,
    pub test_portion: String,
    pub received_on: String,
    pub tested_from: String,
    pub tested_to: String,
    pub items: Vec<ReportItem>,
    pub qualified: bool,
    pub conclusion: String,
    pub judgement_principle: String,
}

#[derive(Debug, Clone, Default, serde::Deserialize, Serialize)]
pub struct ReportItem {
    pub name: String,
    pub unit: String,
    pub requirement: String,
    pub result: String,
    pub judgement: String,
    pub method: String,
}
