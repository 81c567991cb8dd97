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
use choucha_domain::lab::{self as lab_rules, LabDuty};
use choucha_domain::results::ObjectionAction;
use choucha_domain::retest::{
    self as rules, RetestAction, RetestState, check_retest_institution, parse_fee_advance, retest_outcome,
};
use choucha_domain::workflow;
use choucha_store::audit::AuditEntry;
use choucha_store::custody::{self, NewCustodyEvent};
use choucha_store::lab as store_lab;
use choucha_store::retests::{self as store, NewRetest, RetestApproval, RetestChange, RetestRow, RetestScope};
use choucha_store::{Page, StoreError, draws as store_draws, enterprises, organisations};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::access::{Ask, Scope};
use crate::lab::{ReceiptPhoto, ReceiptPhotoInput, ReportContent, ResultInput, SignOffInput, display_of};
use crate::{Actor, Result, ServiceError, Services, page_limit};
use choucha_domain::access::{Action, Relations};

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
}

/// The actions a re-test view offers.
const RETEST_ACTIONS: &[Action] =
    &[Action::ViewRetestLink, Action::ReceiveBackup, Action::RetestResults, Action::SignRetest];

/// The view for a caller standing in `rel`: blinded for blind staff, with the actions they may take.
async fn view_for(s: &Services, r: &RetestRow, rel: Relations) -> Result<RetestView> {
    let mut v = view_as(s, r, rel.may(Action::ViewRetestLink)).await?;
    v.actions = rel.actions(RETEST_ACTIONS);
    Ok(if rel.only_blind() { blinded(v) } else { v })
}

/// How the caller stands to a re-test.
fn relations(actor: &Actor, r: &RetestRow) -> Relations {
    actor.to_retest(r.organising_org_id, r.retest_org_id)
}

/// Blank what a blind viewer must not see: values that the enterprise's own records carry too.
fn blinded(mut v: RetestView) -> RetestView {
    v.objection_id = 0;
    v.first_report_id = 0;
    v.first_report_no = String::new();
    v.seal_note = String::new();
    v.seal_photos = Vec::new();
    v.received_at = None;
    v
}

async fn first_content(s: &Services, r: &RetestRow) -> Result<(ReportContent, String)> {
    let report = store_lab::get_report(s.store.reader(), r.report_id).await?;
    let content: ReportContent = serde_json::from_str(&report.content_json).map_err(ServiceError::internal)?;
    Ok((content, report.report_no.unwrap_or_default()))
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
    })
}

/// A re-test with the caller's relations towards it; not found for anyone without one. Staff of
/// the re-test institution other than its custodian are blind (rule 13): they see the re-test only
/// through its blind code — no first report number, no seal note or photo, no receipt time, no
/// report PDF (it names the enterprise), exactly as the first institution's testers.
async fn load(s: &Services, actor: &Actor, id: i64) -> Result<(RetestRow, Relations)> {
    let r = store::get_retest(s.store.reader(), id).await.map_err(ServiceError::not_found("复检"))?;
    let rel = relations(actor, &r);
    rel.visible(Action::ViewRetest, "复检")?;
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

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct AssignRetestInput {
    pub institution_id: i64,
    /// Required when the first institution is chosen while another exists.
    #[serde(default)]
    pub same_institution_reason: String,
    /// The fee the applicant paid in advance, in yuan.
    #[serde(default)]
    pub fee_advance: String,
}

/// The organising bureau arranges the re-test of an accepted objection or re-test request.
pub async fn assign(s: &Services, actor: &Actor, objection_id: i64, input: AssignRetestInput) -> Result<RetestView> {
    let db = s.store.reader();
    let o = choucha_store::results::get_objection(db, objection_id).await.map_err(ServiceError::not_found("申请"))?;
    actor.to_plan(o.organising_org_id).visible(Action::DecideObjection, "申请")?;
    let existing = store::retest_of_objection(db, o.id).await?.map(|r| r.state);
    rules::check_arrangeable(o.state, existing)?;
    let sample = store_lab::get_sample(db, o.sample_id).await?;
    let institutions = testing_institutions(s).await?;
    let mut errs = Vec::new();
    if !institutions.iter().any(|i| i.id == input.institution_id) {
        errs.push(RuleViolation::new("invalid_institution", "请选择一家检验机构").on_field("institution_id"));
    }
    let another = institutions.iter().any(|i| i.id != sample.testing_org_id);
    if let Err(v) =
        check_retest_institution(sample.testing_org_id, input.institution_id, another, &input.same_institution_reason)
    {
        errs.push(v);
    }
    let fee = match parse_fee_advance(&input.fee_advance) {
        Ok(f) => Some(f),
        Err(v) => {
            errs.push(v);
            None
        }
    };
    if !errs.is_empty() {
        return Err(ServiceError::Invalid(errs));
    }
    let report = store_lab::get_report(db, o.report_id).await?;
    let content: ReportContent = serde_json::from_str(&report.content_json).map_err(ServiceError::internal)?;
    let year = s.today().format("%Y").to_string().parse().unwrap_or(2025);
    let code = format!("FJ-{}", crate::lab::new_blind_code(year));
    let tx = s.write(actor).await?;
    let row = store::insert_retest(
        &tx,
        NewRetest {
            objection_id: o.id,
            report_id: o.report_id,
            sample_id: sample.id,
            task_id: sample.task_id,
            plan_id: sample.plan_id,
            organising_org_id: o.organising_org_id,
            first_org_id: sample.testing_org_id,
            retest_org_id: input.institution_id,
            same_institution_reason: if input.institution_id == sample.testing_org_id {
                input.same_institution_reason.trim().to_string()
            } else {
                String::new()
            },
            items: o.items.clone(),
            fee_advance_fen: fee.unwrap_or_default(),
            state: RetestState::Assigned,
            blind_code: code,
            assigned_by: actor.user_id,
            first_qualified: content.qualified,
            first_conclusion: content.conclusion.clone(),
        },
    )
    .await?;
    choucha_store::sampling::insert_inbox(
        &tx,
        input.institution_id,
        "retest",
        &format!("复检任务：{}（{}）", content.product, o.items.lines().collect::<Vec<_>>().join("、")),
        "retest",
        row.id,
    )
    .await?;
    tx.commit(AuditEntry::new(
        "retest.assign",
        "retest",
        row.id,
        json!(null),
        json!({"objection_id": o.id, "institution_id": input.institution_id, "fee_advance_fen": fee,
                   "same_institution_reason": row.same_institution_reason}),
    ))
    .await?;
    view_as(s, &row, true).await
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct RetestReceiptInput {
    /// The backup portion's seal as found: intact and matching the sampling record.
    pub seal_intact: bool,
    /// What was checked (seal number, state); required when the seal is not intact.
    #[serde(default)]
    pub seal_note: String,
    /// Photos of the seal (at least one).
    #[serde(default)]
    pub photos: Vec<ReceiptPhotoInput>,
}

/// The re-test institution's custodian receives the backup portion: the seal is photographed and
/// checked first (rule 18). Intact: testing may start. Broken: the re-test stops and the bureau is told.
pub async fn receive(s: &Services, actor: &Actor, id: i64, input: RetestReceiptInput) -> Result<RetestView> {
    let (r, rel) = load(s, actor, id).await?;
    rel.require_or(Action::ReceiveBackup, "复检样品由复检机构的样品管理员接收")?;
    let next = workflow::step(r.state, RetestAction::receive(input.seal_intact))?;
    let photos = crate::lab::decode_photos(&input.photos).map_err(|e| match e {
        ServiceError::Invalid(v) if v.iter().any(|x| x.code == "rule12_photos") => ServiceError::invalid(
            RuleViolation::new("rule18_seal_photo", "复检前须拍照记录备用样品的封条（规则18）").on_field("photos"),
        ),
        other => other,
    })?;
    if !input.seal_intact && input.seal_note.trim().is_empty() {
        return Err(ServiceError::invalid(
            RuleViolation::new("required", "请说明封条的异常情况").on_field("seal_note"),
        ));
    }
    let mut stored = Vec::with_capacity(photos.len());
    for (mut photo, bytes) in photos {
        let (sha, size) = crate::evidence::store_bytes(s, &bytes).await?;
        photo.sha256 = sha;
        photo.size = size;
        stored.push(photo);
    }
    let institution = org_name(s, r.retest_org_id).await;
    let tx = s.write(actor).await?;
    store::update_retest(
        &tx,
        r.id,
        next,
        RetestChange::Received {
            by: actor.user_id,
            seal_note: input.seal_note.trim().into(),
            seal_photos: serde_json::to_string(&stored).map_err(ServiceError::internal)?,
        },
    )
    .await
    .map_err(conflict)?;
    custody::insert(
        &tx,
        NewCustodyEvent {
            task_id: r.task_id,
            portion: "backup".into(),
            kind: "to_retest".into(),
            seal_state: choucha_domain::lab::SealState::of(input.seal_intact),
            location: institution,
            note: format!("复检接收（{}）{}", r.blind_code, input.seal_note.trim()),
            actor_id: Some(actor.user_id),
            actor_name: actor.display_name.clone(),
            ..Default::default()
        },
    )
    .await?;
    if next.to() == RetestState::SealBroken {
        choucha_store::sampling::insert_inbox(
            &tx,
            r.organising_org_id,
            "retest",
            &format!("复检备用样品封条异常，复检中止：{}", input.seal_note.trim()),
            "retest",
            r.id,
        )
        .await?;
    }
    tx.commit(AuditEntry::new(
        "retest.receive",
        "retest",
        r.id,
        json!({"state": r.state}),
        json!({"state": next.to().as_str(), "seal_intact": input.seal_intact,
                   "photos": stored.iter().map(|p| &p.sha256).collect::<Vec<_>>()}),
    ))
    .await?;
    get(s, actor, id).await
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

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct RetestResultsInput {
    /// One result per objected item (by name or rules index).
    pub results: Vec<ResultInput>,
}

/// A tester of the re-test institution enters the objected items' results (only those), by the
/// re-test's blind code; the sample's samplers may not (rule 1).
pub async fn enter_results(s: &Services, actor: &Actor, id: i64, input: RetestResultsInput) -> Result<RetestView> {
    let (r, rel) = load(s, actor, id).await?;
    rel.require_or(Action::RetestResults, "复检结果由复检机构的检验人员录入")?;
    let next = workflow::step(r.state, RetestAction::EnterResults)?;
    let sample = store_lab::get_sample(s.store.reader(), r.sample_id).await?;
    lab_rules::check_not_sampler(actor.user_id, &crate::lab::samplers_of(s, &sample).await?, LabDuty::Test)?;
    let c = crate::lab::ctx_of(s, &sample).await?;
    let (first, _) = first_content(s, &r).await?;
    let objected: Vec<&str> = r.items.lines().collect();
    let mut errs = Vec::new();
    let mut lines: Vec<RetestLine> = Vec::new();
    for input in &input.results {
        match crate::lab::check_result(&c.body, input, s.today()) {
            Ok(ch) if !objected.contains(&ch.name.as_str()) => errs.push(
                RuleViolation::new(
                    "rule18_items_only",
                    format!("复检只检验有异议的项目，“{}”不在申请之列（规则18）", ch.name),
                )
                .on_field("results"),
            ),
            Ok(ch) if lines.iter().any(|l| l.name == ch.name) => {
                errs.push(RuleViolation::new("duplicate_item", format!("“{}”重复填写", ch.name)).on_field("results"))
            }
            Ok(ch) => {
                let f = first.items.iter().find(|i| i.name == ch.name);
                lines.push(RetestLine {
                    index: ch.index,
                    result: display_of(&ch.measured, &ch.unit),
                    name: ch.name,
                    unit: ch.unit,
                    requirement: ch.requirement,
                    judgement: match ch.judgement {
                        ItemJudgement::Conforming => "conforming".into(),
                        ItemJudgement::NonConforming => "non_conforming".into(),
                    },
                    judgement_label: judgement_label(ch.judgement).into(),
                    method: ch.method,
                    instrument: ch.instrument,
                    tested_on: ch.tested_on,
                    first_judgement: f.map(|i| i.judgement.clone()).unwrap_or_default(),
                    first_result: f.map(|i| i.result.clone()).unwrap_or_default(),
                });
            }
            Err(v) => errs.push(v.on_field("results")),
        }
    }
    for name in &objected {
        if !lines.iter().any(|l| l.name == *name) && !errs.iter().any(|e| e.message.contains(name)) {
            errs.push(
                RuleViolation::new("required", format!("请填写有异议项目“{name}”的复检结果")).on_field("results"),
            );
        }
    }
    if !errs.is_empty() {
        return Err(ServiceError::Invalid(errs));
    }
    lines.sort_by_key(|l| l.index);
    let tx = s.write(actor).await?;
    store::update_retest(
        &tx,
        r.id,
        next,
        RetestChange::Results {
            tester: actor.user_id,
            results_json: serde_json::to_string(&lines).map_err(ServiceError::internal)?,
        },
    )
    .await
    .map_err(conflict)?;
    tx.commit(AuditEntry::new(
            "retest.results",
            "retest",
            r.id,
            json!({"state": r.state}),
            json!({"state": next.to().as_str(),
                   "results": lines.iter().map(|l| json!({"item": l.name, "result": l.result, "judgement": l.judgement_label})).collect::<Vec<_>>()}),
        )).await?;
    get(s, actor, id).await
}

/// The step of the re-test report a signature is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignStep {
    Prepare,
    Review,
    Approve,
}

/// Prepare (a tester), review and approve (approvers) the re-test report, each signing on the
/// screen; three different people (rule 15), none a sampler of the sample (rule 1). Approval
/// renders and stores the report PDF, makes the conclusion final and applies the fee rule.
pub async fn sign(s: &Services, actor: &Actor, id: i64, step: SignStep, input: SignOffInput) -> Result<RetestView> {
    let (r, rel) = load(s, actor, id).await?;
    let (action, duty, may, who) = match step {
        SignStep::Prepare => (RetestAction::Prepare, LabDuty::PrepareReport, Action::RetestResults, "检验人员编制"),
        SignStep::Review => (RetestAction::Review, LabDuty::Review, Action::SignRetest, "审核人审核"),
        SignStep::Approve => (RetestAction::Approve, LabDuty::Approve, Action::SignRetest, "批准人批准"),
    };
    rel.require_or(may, &format!("复检报告由复检机构的{who}"))?;
    let next = workflow::step(r.state, action)?;
    if step != SignStep::Prepare {
        let prepared_by = r.prepared_by.unwrap_or_default();
        lab_rules::check_report_signer(actor.user_id, prepared_by, r.reviewed_by, duty)?;
    }
    let sample = store_lab::get_sample(s.store.reader(), r.sample_id).await?;
    lab_rules::check_not_sampler(actor.user_id, &crate::lab::samplers_of(s, &sample).await?, duty)?;
    let sig = crate::lab::signature_of(&input)?;
    let now = s.now();
    let mut after = json!({"state": next.to().as_str()});
    let mut finish = None;
    let change = match step {
        SignStep::Prepare => RetestChange::Prepared { by: actor.user_id, sig_b64: sig },
        SignStep::Review => RetestChange::Reviewed { by: actor.user_id, sig_b64: sig },
        SignStep::Approve => {
            let (first, _) = first_content(s, &r).await?;
            let lines: Vec<RetestLine> = serde_json::from_str(&r.results_json).map_err(ServiceError::internal)?;
            let first_j: Vec<(String, ItemJudgement)> =
                first.items.iter().map(|i| (i.name.clone(), judgement_of(&i.judgement))).collect();
            let retest_j: Vec<(String, ItemJudgement)> =
                lines.iter().map(|l| (l.name.clone(), judgement_of(&l.judgement))).collect();
            let outcome = retest_outcome(&first_j, &retest_j);
            let org = organisations::get(s.store.reader(), r.retest_org_id).await?;
            let report_no = format!("FJ-{}-{}-{:06}", org.code.to_uppercase(), s.today().format("%Y"), r.id);
            let pdf = render(s, &r, &lines, &outcome, &report_no, actor, &sig, now).await?;
            let sha = hex::encode(Sha256::digest(&pdf));
            let rel = format!("reports/retest-{}-{}.pdf", r.id, uuid::Uuid::new_v4().simple());
            tokio::fs::create_dir_all(s.data_dir.join("reports")).await.map_err(ServiceError::internal)?;
            tokio::fs::write(s.data_dir.join(&rel), &pdf).await.map_err(ServiceError::internal)?;
            after = json!({"state": next.to().as_str(), "report_no": report_no, "pdf_sha256": sha,
                           "qualified": outcome.qualified, "agrees": outcome.agrees,
                           "fee_payer": outcome.fee_payer.as_str(), "first_qualified": r.first_qualified});
            let change = RetestChange::Approved(RetestApproval {
                by: actor.user_id,
                sig_b64: sig,
                report_no,
                pdf_path: rel,
                pdf_sha256: sha,
                qualified: outcome.qualified,
                conclusion: outcome.text.clone(),
                agrees: outcome.agrees,
                fee_payer: outcome.fee_payer.as_str().into(),
            });
            finish = Some(outcome);
            change
        }
    };
    let tx = s.write(actor).await?;
    store::update_retest(&tx, r.id, next, change).await.map_err(conflict)?;
    if let Some(outcome) = &finish {
        // The re-test's conclusion is final and replaces the first in the sample's result.
        store::set_final_result(&tx, r.sample_id, outcome.qualified, &outcome.text).await?;
        let o = choucha_store::results::get_objection(tx.conn(), r.objection_id).await?;
        let to = workflow::step(o.state, ObjectionAction::ConcludeRetest)?;
        store::set_objection_state(&tx, o.id, to).await.map_err(conflict)?;
        // A qualified final result ends the post-processing the first result opened (rule 20).
        if outcome.qualified {
            crate::cases::close_on_retest_qualified(s, &tx, r.sample_id, actor).await?;
        }
        // Rule 19 follows the final result: what the open disposals require changes with it, and
        // the backup portion is now held by the re-test institution.
        for d in choucha_store::disposals::open_disposals_of_sample(tx.conn(), r.sample_id).await? {
            let required = choucha_domain::disposal::required_disposal(d.paid, outcome.qualified);
            let holder = if d.portion == "backup" { r.retest_org_id } else { d.testing_org_id };
            let t = workflow::step(d.state, choucha_domain::disposal::DisposalAction::Retarget)?;
            choucha_store::disposals::retarget_disposal(&tx, d.id, t, outcome.qualified, required.as_str(), holder)
                .await
                .map_err(conflict)?;
        }
        choucha_store::sampling::insert_inbox(
            &tx,
            r.organising_org_id,
            "retest",
            &format!("复检结论：{}；{}", if outcome.qualified { "合格" } else { "不合格" }, outcome.fee_payer.label()),
            "retest",
            r.id,
        )
        .await?;
    }
    tx.commit(AuditEntry::new(
        match step {
            SignStep::Prepare => "retest.prepare",
            SignStep::Review => "retest.review",
            SignStep::Approve => "retest.approve",
        },
        "retest",
        r.id,
        json!({"state": r.state}),
        after,
    ))
    .await?;
    get(s, actor, id).await
}

#[allow(clippy::too_many_arguments)]
async fn render(
    s: &Services,
    r: &RetestRow,
    lines: &[RetestLine],
    outcome: &rules::RetestOutcome,
    report_no: &str,
    approver: &Actor,
    approver_sig: &str,
    at: chrono::DateTime<Utc>,
) -> Result<Vec<u8>> {
    use choucha_documents as docs;
    use choucha_domain::sampling::utc_to_local;
    let mut data = crate::lab::issued_report_data(s, r.report_id).await?;
    let first_no = data.report_no.clone();
    let org = organisations::get(s.store.reader(), r.retest_org_id).await?;
    data.report_no = report_no.to_string();
    data.institution = org.name;
    data.qualification_no = org.qualification_no.unwrap_or_default();
    data.institution_address = org.address;
    data.institution_phone = org.phone;
    data.sample_code = r.blind_code.clone();
    data.test_kind = "监督抽查复检".into();
    data.received_on = r.received_at.map(|t| utc_to_local(t).date().to_string()).unwrap_or_default();
    let from = lines.iter().map(|l| l.tested_on).min();
    let to = lines.iter().map(|l| l.tested_on).max();
    data.tested_period = match (from, to) {
        (Some(a), Some(b)) if a == b => a.to_string(),
        (Some(a), Some(b)) => format!("{a} 至 {b}"),
        _ => String::new(),
    };
    data.test_portion = "备用样品".into();
    data.items = lines
        .iter()
        .map(|l| docs::ReportLine {
            name: l.name.clone(),
            unit: l.unit.clone(),
            requirement: l.requirement.clone(),
            result: l.result.clone(),
            judgement: l.judgement_label.clone(),
            method: l.method.clone(),
        })
        .collect();
    data.qualified = outcome.qualified;
    data.conclusion = outcome.text.clone();
    let sig = |by: Option<i64>, b64: &str, t: Option<chrono::DateTime<Utc>>| {
        let b64 = b64.to_string();
        async move {
            docs::Signature {
                signer: match by {
                    Some(u) => crate::lab::user_name(s, u).await,
                    None => String::new(),
                },
                image: crate::lab::signature_png(&b64),
                signed_at: t.map(utc_to_local),
            }
        }
    };
    data.prepared_by = sig(r.prepared_by, &r.prepared_sig_b64, r.prepared_at).await;
    data.reviewed_by = sig(r.reviewed_by, &r.reviewed_sig_b64, r.reviewed_at).await;
    data.approved_by = sig(Some(approver.user_id), approver_sig, Some(at)).await;
    data.issued_on = s.today();
    data.supersedes = None;
    data.correction_reason = format!("本报告为检验报告{first_no}的复检报告，复检结论为最终结论。");
    let renderer = s.renderer().await?;
    tokio::task::spawn_blocking(move || docs::test_report_pdf(&renderer, &data))
        .await
        .map_err(ServiceError::internal)?
        .map_err(|e| ServiceError::internal(format!("retest report PDF: {e}")))
}

/// The re-test report's stored PDF: for the bureau, the re-test institution and the applicant.
pub async fn report_pdf(s: &Services, actor: &Actor, id: i64) -> Result<(String, Vec<u8>)> {
    let r = store::get_retest(s.store.reader(), id).await.map_err(ServiceError::not_found("复检"))?;
    let rel = relations(actor, &r);
    if rel.only_blind() {
        return Err(crate::lab::report_pdf_refused());
    }
    if !rel.may(Action::ViewRetest) {
        let o = choucha_store::results::get_objection(s.store.reader(), r.objection_id).await?;
        actor.to_enterprise(o.enterprise_id).visible(Action::ViewOwnReport, "复检")?;
    }
    let (Some(no), false) = (r.report_no.clone(), r.pdf_path.is_empty()) else {
        return Err(ServiceError::NotFound("复检报告"));
    };
    let pdf = tokio::fs::read(s.data_dir.join(&r.pdf_path)).await.map_err(ServiceError::internal)?;
    if hex::encode(Sha256::digest(&pdf)) != r.pdf_sha256 {
        return Err(ServiceError::internal("stored retest report does not match its SHA-256"));
    }
    Ok((no, pdf))
}

/// A seal photo of a re-test, for the bureau and the re-test institution.
pub async fn seal_photo(
    s: &Services,
    actor: &Actor,
    id: i64,
    sha256: &str,
) -> Result<(ReceiptPhoto, std::path::PathBuf)> {
    let v = get(s, actor, id).await?;
    let p = v.seal_photos.into_iter().find(|p| p.sha256 == sha256).ok_or(ServiceError::NotFound("照片"))?;
    let path = crate::evidence::stored_path(s, &p.sha256);
    Ok((p, path))
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
        items.push(view_for(s, r, relations(actor, r)).await?);
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
