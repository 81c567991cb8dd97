//! Re-tests (复检, rule 18). The organising bureau, having accepted an objection or a re-test
//! request, arranges the re-test: an institution other than the first where possible (the first
//! only with a stated reason), the fee the applicant paid in advance. The re-test institution's
//! custodian receives the sealed backup portion and photographs and checks its seal before anything
//! else; a broken seal stops the re-test and reaches the bureau. A tester of that institution, who
//! sees only the re-test's blind code (rule 13), enters results for the objected items only; the
//! re-test report is prepared, reviewed and approved by three people (rule 15). Its conclusion is
//! final: it replaces the first in the sample's result, and the fee rule is applied and recorded
//! (the applicant bears the cost when the re-test agrees, the bureau when it differs).

use choucha_domain::RuleViolation;
use choucha_domain::implementation_rules::ItemJudgement;
use choucha_domain::retest::{self as rules, RetestState};
use choucha_store::lab as store_lab;
use choucha_store::retests::{self as store, RetestRow, RetestScope};
use choucha_store::{Page, StoreError, draws as store_draws, enterprises, organisations};
use chrono::Utc;
use serde::{Deserialize, Serialize};

use crate::access::{Ask, Scope};
use crate::lab::{ReceiptPhoto, ReportContent};
use crate::{Actor, Result, ServiceError, Services, page_limit};
use choucha_domain::access::{Action, Relations};

mod assign;
mod dispatch;
mod report;
mod results;

pub use assign::{AssignRetestInput, RetestReceiptInput, assign, receive};
pub use dispatch::{RetestDispatchInput, RetestDispatchView, dispatch};
pub use report::{SignStep, report_pdf, seal_photo, sign};
pub use results::{RetestResultsInput, enter_results};

/// One re-tested item with its result.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct RetestLine {
    pub index: i32,
    pub name: String,
    pub unit: String,
    pub requirement: String,
    pub result: String,
    /// conforming | non_conforming
    pub judgement: String,
    pub judgement_label: String,
    pub method: String,
    pub instrument: String,
    pub tested_on: chrono::NaiveDate,
    /// The first report's judgement of the item (符合 / 不符合).
    pub first_judgement: String,
    pub first_result: String,
}

/// A re-test as its viewer may see it. `enterprise` is filled only for the organising bureau and
/// administrators: the re-test institution works blind (rule 13).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RetestView {
    pub id: i64,
    pub objection_id: i64,
    pub first_report_id: i64,
    pub first_report_no: String,
    pub product: String,
    pub enterprise: Option<String>,
    pub items: Vec<String>,
    pub state: RetestState,
    pub state_label: String,
    pub first_institution: String,
    pub institution_id: i64,
    pub institution: String,
    pub same_institution_reason: String,
    /// 元, paid in advance by the applicant.
    pub fee_advance: String,
    pub blind_code: String,
    pub seal_note: String,
    /// The backup portion's seal numbers as the sampling record gives them: what the receiving
    /// custodian checks on the package (never shown to blind staff).
    pub expected_seals: Vec<String>,
    /// The backup portion's dispatch from the first laboratory (rule 18), once recorded.
    pub dispatch: Option<RetestDispatchView>,
    /// The portion travels to another laboratory and has not been dispatched yet: it cannot be
    /// received.
    pub awaiting_dispatch: bool,
    pub seal_photos: Vec<ReceiptPhoto>,
    pub received_at: Option<chrono::DateTime<Utc>>,
    pub results: Vec<RetestLine>,
    pub first_qualified: bool,
    pub first_conclusion: String,
    pub report_no: Option<String>,
    pub qualified: Option<bool>,
    pub conclusion: String,
    pub agrees: Option<bool>,
    /// applicant | bureau once concluded.
    pub fee_payer: String,
    pub fee_payer_label: String,
    /// Who has signed the re-test report: prepare, review, approve.
    pub signed: Vec<String>,
    pub pdf_sha256: String,
    /// What the caller may do with this re-test (the permission matrix's answer; pages draw their
    /// buttons from it).
    #[schema(value_type = Vec<String>)]
    pub actions: Vec<Action>,
    /// The caller may download the re-test report (not blind staff: the report names the enterprise).
    pub may_download_report: bool,
}

/// The actions a re-test view offers.
const RETEST_ACTIONS: &[Action] =
    &[Action::ViewRetestLink, Action::DispatchBackup, Action::ReceiveBackup, Action::RetestResults, Action::SignRetest];

/// The view for a caller standing in `rel`: blinded for blind staff, with the actions they may take.
async fn view_for(s: &Services, r: &RetestRow, rel: Relations) -> Result<RetestView> {
    let mut v = view_as(s, r, rel.may(Action::ViewRetestLink)).await?;
    v.actions = rel.actions(RETEST_ACTIONS);
    v.may_download_report = v.report_no.is_some() && rel.may(Action::ViewRetest) && !rel.only_blind();
    Ok(if rel.only_blind() { blinded(v) } else { v })
}

/// How the caller stands to a re-test.
fn relations(actor: &Actor, r: &RetestRow) -> Relations {
    actor.to_retest_from(r.organising_org_id, r.retest_org_id, r.first_org_id)
}

/// Blank what a blind viewer must not see: values that the enterprise's own records carry too.
fn blinded(mut v: RetestView) -> RetestView {
    v.objection_id = 0;
    v.first_report_id = 0;
    v.first_report_no = String::new();
    v.seal_note = String::new();
    v.expected_seals = Vec::new();
    v.dispatch = None;
    v.seal_photos = Vec::new();
    v.received_at = None;
    v
}

async fn first_content(s: &Services, r: &RetestRow) -> Result<(ReportContent, String)> {
    let report = store_lab::get_report(s.store.reader(), r.report_id).await?;
    let content: ReportContent = serde_json::from_str(&report.content_json).map_err(ServiceError::internal)?;
    Ok((content, report.report_no.unwrap_or_default()))
}

/// The backup portion's seal numbers from the signed sampling record.
pub(crate) async fn expected_seals(s: &Services, task_id: i64) -> Result<Vec<String>> {
    Ok(crate::lab::signed_record(s, task_id).await?.map(|(f, _)| f.backup_seals).unwrap_or_default())
}

/// The seal numbers the receiving custodian checks: those dispatched by the first laboratory,
/// else (the portion did not travel) the sampling record's.
pub(crate) async fn seals_to_check(s: &Services, r: &RetestRow) -> Result<Vec<String>> {
    match store::dispatch_of(s.store.reader(), r.id).await? {
        Some(d) => Ok(dispatch::seals_of(&d)),
        None => expected_seals(s, r.task_id).await,
    }
}

async fn org_name(s: &Services, id: i64) -> String {
    organisations::get(s.store.reader(), id).await.map(|o| o.name).unwrap_or_default()
}

pub(crate) async fn view_as(s: &Services, r: &RetestRow, with_enterprise: bool) -> Result<RetestView> {
    let (content, first_no) = first_content(s, r).await?;
    let enterprise = if with_enterprise {
        let task = store_draws::get_task(s.store.reader(), r.task_id).await?;
        Some(enterprises::get(s.store.reader(), task.enterprise_id).await?.name)
    } else {
        None
    };
    let st = r.state;
    let dispatch_row = store::dispatch_of(s.store.reader(), r.id).await?;
    let mut signed = Vec::new();
    for (who, what) in [(r.prepared_by, "编制"), (r.reviewed_by, "审核"), (r.approved_by, "批准")] {
        if let Some(u) = who {
            signed.push(format!("{what}：{}", crate::lab::user_name(s, u).await));
        }
    }
    Ok(RetestView {
        id: r.id,
        objection_id: r.objection_id,
        first_report_id: r.report_id,
        first_report_no: first_no,
        product: content.product,
        enterprise,
        items: r.items.lines().map(str::to_string).collect(),
        state: r.state,
        state_label: st.label().into(),
        first_institution: org_name(s, r.first_org_id).await,
        institution_id: r.retest_org_id,
        institution: org_name(s, r.retest_org_id).await,
        same_institution_reason: r.same_institution_reason.clone(),
        fee_advance: choucha_domain::money::yuan(r.fee_advance_fen),
        blind_code: r.blind_code.clone(),
        seal_note: r.seal_note.clone(),
        expected_seals: seals_to_check(s, r).await?,
        awaiting_dispatch: dispatch::travels(r) && r.state == RetestState::Assigned && dispatch_row.is_none(),
        dispatch: dispatch_row.as_ref().map(dispatch::dispatch_view),
        seal_photos: serde_json::from_str(&r.seal_photos).unwrap_or_default(),
        received_at: r.received_at,
        results: serde_json::from_str(&r.results_json).unwrap_or_default(),
        first_qualified: r.first_qualified,
        first_conclusion: r.first_conclusion.clone(),
        report_no: r.report_no.clone(),
        qualified: r.qualified,
        conclusion: r.conclusion.clone(),
        agrees: r.agrees,
        fee_payer: r.fee_payer.clone(),
        fee_payer_label: match r.fee_payer.as_str() {
            "applicant" => rules::FeePayer::Applicant.label().into(),
            "bureau" => rules::FeePayer::Bureau.label().into(),
            _ => String::new(),
        },
        signed,
        pdf_sha256: r.pdf_sha256.clone(),
        actions: Vec::new(),
        may_download_report: false,
    })
}

/// A re-test with the caller's relations towards it; not found for anyone without one. Staff of
/// the re-test institution other than its custodian are blind (rule 13): they see the re-test only
/// through its blind code — no first report number, no seal note or photo, no receipt time, no
/// report PDF (it names the enterprise), exactly as the first institution's testers.
async fn load(s: &Services, actor: &Actor, id: i64) -> Result<(RetestRow, Relations)> {
    let r = store::get_retest(s.store.reader(), id).await.map_err(ServiceError::not_found("复检"))?;
    let rel = relations(actor, &r);
    if !rel.may(Action::DispatchBackup) {
        rel.visible(Action::ViewRetest, "复检")?;
    }
    Ok((r, rel))
}

/// A re-test, for the bureau (with the enterprise) or the re-test institution (blind).
pub async fn get(s: &Services, actor: &Actor, id: i64) -> Result<RetestView> {
    let (r, rel) = load(s, actor, id).await?;
    view_for(s, &r, rel).await
}

/// A testing institution the bureau may choose.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InstitutionChoice {
    pub id: i64,
    pub name: String,
    /// The institution that did the first test.
    pub first: bool,
}

async fn testing_institutions(s: &Services) -> Result<Vec<choucha_store::organisations::OrgRow>> {
    let f = choucha_store::organisations::OrgFilter { capability: Some("testing".into()), ..Default::default() };
    Ok(choucha_store::organisations::list(s.store.reader(), &f, None, 500).await?.items)
}

/// The institutions a re-test of this objection may go to, the first one marked.
pub async fn institutions_for(s: &Services, actor: &Actor, objection_id: i64) -> Result<Vec<InstitutionChoice>> {
    let o = choucha_store::results::get_objection(s.store.reader(), objection_id)
        .await
        .map_err(ServiceError::not_found("申请"))?;
    actor.to_plan(o.organising_org_id).visible(Action::DecideObjection, "申请")?;
    let sample = store_lab::get_sample(s.store.reader(), o.sample_id).await?;
    Ok(testing_institutions(s)
        .await?
        .into_iter()
        .map(|org| InstitutionChoice { first: org.id == sample.testing_org_id, id: org.id, name: org.name })
        .collect())
}

fn conflict(e: StoreError) -> ServiceError {
    match e {
        StoreError::Conflict => ServiceError::Rule(RuleViolation::new("conflict", "复检已被他人处理，请刷新后重试")),
        other => other.into(),
    }
}

/// A judgement as stored on a report (符合 / 不符合) or a re-test line (conforming / non_conforming).
pub(crate) fn judgement_of(j: &str) -> ItemJudgement {
    if j == "符合" || j == "conforming" { ItemJudgement::Conforming } else { ItemJudgement::NonConforming }
}

fn judgement_label(j: ItemJudgement) -> &'static str {
    j.label()
}

/// Re-tests newest first: the bureau's (with the enterprise) or the institution's (blind).
pub async fn list(
    s: &Services,
    actor: &Actor,
    states: &[RetestState],
    before: Option<i64>,
    limit: Option<u64>,
) -> Result<Page<RetestView>> {
    let scope = match actor.scope(Action::ListRetests)? {
        Scope::All => RetestScope::All,
        Scope::Bureau(org) => RetestScope::Organising(org),
        Scope::Institution(org) => RetestScope::Institution(org),
        Scope::Enterprise(_) => return Err(crate::access::refusal(Action::ListRetests)),
    };
    let p = store::list_retests(s.store.reader(), scope, states, before, page_limit(limit)?).await?;
    let mut items = Vec::with_capacity(p.items.len());
    for r in &p.items {
        let rel = relations(actor, r);
        // The first laboratory's list holds the re-tests whose backup it sends; its other staff see none.
        if rel.may(Action::ViewRetest) || rel.may(Action::DispatchBackup) {
            items.push(view_for(s, r, rel).await?);
        }
    }
    Ok(Page { items, next: p.next })
}

/// The re-test of an objection, if one is arranged (for the bureau and the applicant's views).
pub(crate) async fn of_objection(s: &Services, objection_id: i64, with_enterprise: bool) -> Result<Option<RetestView>> {
    match store::retest_of_objection(s.store.reader(), objection_id).await? {
        Some(r) => Ok(Some(view_as(s, &r, with_enterprise).await?)),
        None => Ok(None),
    }
}
