//! The enterprise's results and its objections (rule 18). An enterprise user (bound to one
//! enterprise by its USCC) sees only the issued reports of its own samples, with the result notice
//! and the report, and files an objection or a re-test request within 15 days of the recorded
//! receipt of the result; a late one is refused with the day the window closed. The organising
//! bureau accepts or rejects each request with its reasons.

use choucha_domain::RuleViolation;
use choucha_domain::lab::ReportState;
use choucha_domain::results::{ObjectionAction, ObjectionState, check_objection_in_time, objection_deadline};
use choucha_domain::workflow;
use choucha_store::audit::AuditEntry;
use choucha_store::lab::{self as store_lab, ReportRow, SampleRow};
use choucha_store::results::{self as store, NewObjection, ObjectionRow};
use choucha_store::{Page, draws as store_draws, plans as store_plans};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::access::{Ask, Scope};
use crate::disposal::{FileInput, StoredFile, store_file};
use crate::lab::ReportContent;
use crate::{Actor, Result, ServiceError, Services, page_limit};
use choucha_domain::access::Action;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ObjectionView {
    pub id: i64,
    pub report_id: i64,
    pub report_no: String,
    pub product: String,
    /// objection | retest
    pub kind: String,
    pub kind_label: String,
    pub items: Vec<String>,
    pub reason: String,
    pub received_on: NaiveDate,
    pub filed_on: NaiveDate,
    /// pending | accepted | rejected
    pub state: ObjectionState,
    pub state_label: String,
    pub decision_reason: String,
    pub decided_at: Option<DateTime<Utc>>,
    /// The bureau's written answer when it closed the request.
    pub answer: String,
    /// The re-test arranged on it, if any (rule 18).
    pub retest: Option<crate::retests::RetestView>,
    /// The enterprise's attachments: its written application, its own test report.
    pub attachments: Vec<StoredFile>,
}

fn kind_label(k: &str) -> &'static str {
    if k == "retest" { "复检申请" } else { "异议" }
}

async fn view(s: &Services, o: ObjectionRow) -> Result<ObjectionView> {
    let report = store_lab::get_report(s.store.reader(), o.report_id).await?;
    let content: ReportContent = serde_json::from_str(&report.content_json).map_err(ServiceError::internal)?;
    Ok(ObjectionView {
        id: o.id,
        report_id: o.report_id,
        report_no: report.report_no.unwrap_or_default(),
        product: content.product,
        kind_label: kind_label(&o.kind).into(),
        kind: o.kind,
        items: o.items.lines().map(str::to_string).filter(|l| !l.is_empty()).collect(),
        reason: o.reason,
        received_on: o.received_on,
        filed_on: o.filed_on,
        state_label: o.state.label().into(),
        state: o.state,
        decision_reason: o.decision_reason,
        decided_at: o.decided_at,
        answer: o.answer,
        retest: crate::retests::of_objection(s, o.id, false).await?,
        attachments: serde_json::from_str(&o.attachments_json).unwrap_or_default(),
    })
}

/// One issued result of the enterprise's own samples.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OwnResult {
    pub report_id: i64,
    pub report_no: String,
    pub product: String,
    pub qualified: bool,
    pub conclusion: String,
    /// The items of the report (objections name some of them).
    pub items: Vec<String>,
    pub received_on: Option<NaiveDate>,
    /// The last day to object or ask for a re-test (15 days after receipt).
    pub objection_deadline: Option<NaiveDate>,
    pub may_object: bool,
    pub objections: Vec<ObjectionView>,
}

fn own_enterprise(actor: &Actor) -> Result<i64> {
    match actor.scope(Action::ViewOwnResults) {
        Ok(Scope::Enterprise(e)) => Ok(e),
        _ => Err(ServiceError::Forbidden("只有绑定了企业的企业用户可以查看本企业的检验结果".into())),
    }
}

/// The enterprise's own issued results, newest first.
pub async fn my_results(s: &Services, actor: &Actor) -> Result<Vec<OwnResult>> {
    let enterprise = own_enterprise(actor)?;
    let db = s.store.reader();
    let today = s.today();
    let mut out = Vec::new();
    for d in store::to_enterprise(db, enterprise).await? {
        let report = store_lab::get_report(db, d.report_id).await?;
        let content: ReportContent = serde_json::from_str(&report.content_json).map_err(ServiceError::internal)?;
        let mut objections = Vec::new();
        for o in store::objections_of_report(db, report.id).await? {
            objections.push(view(s, o).await?);
        }
        let deadline = d.received_on.map(objection_deadline);
        out.push(OwnResult {
            report_id: report.id,
            report_no: report.report_no.clone().unwrap_or_default(),
            product: content.product,
            qualified: content.qualified,
            conclusion: content.conclusion,
            items: content.items.iter().map(|i| i.name.clone()).collect(),
            received_on: d.received_on,
            objection_deadline: deadline,
            may_object: deadline.is_some_and(|dl| today <= dl)
                && report.state == ReportState::Approved
                && !objections.iter().any(|o| o.state.is_open()),
            objections,
        });
    }
    Ok(out)
}

/// A report of the enterprise's own samples (issued), or not found.
async fn own_report(s: &Services, actor: &Actor, report_id: i64) -> Result<(ReportRow, SampleRow, i64)> {
    let enterprise = own_enterprise(actor)?;
    let db = s.store.reader();
    let report = store_lab::get_report(db, report_id).await.map_err(ServiceError::not_found("检验报告"))?;
    let sample = store_lab::get_sample(db, report.sample_id).await?;
    let task = store_draws::get_task(db, sample.task_id).await?;
    if task.enterprise_id != enterprise || !matches!(report.state, ReportState::Approved | ReportState::Superseded) {
        return Err(ServiceError::NotFound("检验报告"));
    }
    Ok((report, sample, enterprise))
}

/// The issued report's stored PDF, for the enterprise it is about.
pub async fn my_report_pdf(s: &Services, actor: &Actor, report_id: i64) -> Result<Vec<u8>> {
    own_report(s, actor, report_id).await?;
    let path = crate::lab::report_file(s, report_id).await?;
    tokio::fs::read(&path).await.map_err(ServiceError::internal)
}

/// The result notice addressed to the enterprise, for the enterprise.
pub async fn my_result_notice_pdf(s: &Services, actor: &Actor, report_id: i64) -> Result<Vec<u8>> {
    let (report, sample, _) = own_report(s, actor, report_id).await?;
    crate::results::render_notice(s, actor, &report, &sample, Some("enterprise")).await
}

/// The improvement letter of the enterprise's own unqualified result (rule 17).
pub async fn my_improvement_letter_pdf(s: &Services, actor: &Actor, report_id: i64) -> Result<Vec<u8>> {
    let (report, sample, _) = own_report(s, actor, report_id).await?;
    let input = crate::results::letter_input_of(s, &report, &sample).await?;
    crate::documents::render_letter(s, input).await
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct ObjectionInput {
    /// objection (异议) | retest (复检申请)
    pub kind: String,
    /// The test items objected to (names from the report); at least one.
    #[serde(default)]
    pub items: Vec<String>,
    pub reason: String,
    /// Attachments (images or PDF, at most 5): the written application, the enterprise's own
    /// test report.
    #[serde(default)]
    pub attachments: Vec<FileInput>,
}

/// Attachments an objection may carry.
pub const MAX_ATTACHMENTS: usize = 5;

/// The enterprise files an objection or a re-test request on one of its results, within 15 days of
/// the recorded receipt (rule 18). One open request at a time.
pub async fn file(s: &Services, actor: &Actor, report_id: i64, input: ObjectionInput) -> Result<ObjectionView> {
    let (report, sample, enterprise) = own_report(s, actor, report_id).await?;
    if report.state != ReportState::Approved {
        return Err(ServiceError::Rule(RuleViolation::new("report_state", "该报告已被更正报告替代，请对现行报告提出")));
    }
    let db = s.store.reader();
    let delivery = store::of_report(db, report.id).await?.into_iter().find(|d| d.recipient == "enterprise");
    let received = delivery.and_then(|d| d.received_on);
    let today = s.today();
    check_objection_in_time(received, today).map_err(ServiceError::Rule)?;
    let content: ReportContent = serde_json::from_str(&report.content_json).map_err(ServiceError::internal)?;
    let mut errs = Vec::new();
    let kind = input.kind.trim();
    if !matches!(kind, "objection" | "retest") {
        errs.push(
            RuleViolation::new("invalid_kind", "申请类型应为异议（objection）或复检申请（retest）").on_field("kind"),
        );
    }
    let items: Vec<String> = input.items.iter().map(|i| i.trim().to_string()).filter(|i| !i.is_empty()).collect();
    if items.is_empty() {
        errs.push(RuleViolation::new("required", "请选择有异议的检验项目").on_field("items"));
    }
    for i in &items {
        if !content.items.iter().any(|x| &x.name == i) {
            errs.push(RuleViolation::new("unknown_item", format!("报告中没有检验项目“{i}”")).on_field("items"));
        }
    }
    if input.reason.trim().is_empty() {
        errs.push(RuleViolation::new("required", "请说明异议或复检的理由").on_field("reason"));
    }
    if input.attachments.len() > MAX_ATTACHMENTS {
        errs.push(RuleViolation::new("too_many_files", format!("附件最多{MAX_ATTACHMENTS}个")).on_field("attachments"));
    }
    if !errs.is_empty() {
        return Err(ServiceError::Invalid(errs));
    }
    if store::objections_of_report(db, report.id).await?.iter().any(|o| o.state.is_open()) {
        return Err(ServiceError::Rule(RuleViolation::new("objection_open", "该结果已有待处理的申请")));
    }
    let plan = store_plans::get_plan(db, sample.plan_id).await?;
    let mut attachments = Vec::with_capacity(input.attachments.len());
    for f in &input.attachments {
        attachments.push(store_file(s, f, "attachments").await?);
    }
    let tx = s.write(actor).await?;
    let row = store::insert_objection(
        &tx,
        NewObjection {
            report_id: report.id,
            sample_id: sample.id,
            enterprise_id: enterprise,
            organising_org_id: plan.organising_org_id,
            kind: kind.into(),
            items: items.join("\n"),
            reason: input.reason.trim().into(),
            received_on: received.unwrap_or(today),
            filed_on: today,
            filed_by: actor.user_id,
            attachments_json: serde_json::to_string(&attachments).map_err(ServiceError::internal)?,
        },
    )
    .await?;
    choucha_store::sampling::insert_inbox(
        &tx,
        plan.organising_org_id,
        "objection",
        &format!("{}：{}（报告{}）", kind_label(kind), content.product, report.report_no.clone().unwrap_or_default()),
        "objection",
        row.id,
    )
    .await?;
    tx.commit(AuditEntry::new(
        "objection.file",
        "objection",
        row.id,
        json!(null),
        json!({"report_id": report.id, "kind": kind, "items": items, "filed_on": today, "received_on": received,
               "attachments": attachments.iter().map(|a| &a.sha256).collect::<Vec<_>>()}),
    ))
    .await?;
    view(s, row).await
}

/// An attachment of an objection, for the enterprise that filed it and the organising bureau only
/// (it names the enterprise: never for laboratory staff).
pub async fn attachment(s: &Services, actor: &Actor, id: i64, sha256: &str) -> Result<(StoredFile, Vec<u8>)> {
    let o = store::get_objection(s.store.reader(), id).await.map_err(ServiceError::not_found("申请"))?;
    let bureau = actor.to_plan(o.organising_org_id).may(Action::DecideObjection);
    let own = actor.to_enterprise(o.enterprise_id).may(Action::FileObjection);
    if !(bureau || own) {
        return Err(ServiceError::NotFound("申请"));
    }
    let files: Vec<StoredFile> = serde_json::from_str(&o.attachments_json).unwrap_or_default();
    let f = files.into_iter().find(|f| f.sha256 == sha256).ok_or(ServiceError::NotFound("附件"))?;
    let bytes = crate::evidence::read_stored(s, &f.sha256).await?;
    Ok((f, bytes))
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct DecisionInput {
    pub accept: bool,
    /// Required when rejecting; shown to the enterprise.
    #[serde(default)]
    pub reason: String,
}

fn require_bureau(actor: &Actor, o: &ObjectionRow) -> Result<()> {
    actor.to_plan(o.organising_org_id).visible(Action::DecideObjection, "申请")
}

/// The organising bureau accepts or rejects an objection or re-test request, with its reasons.
pub async fn decide(s: &Services, actor: &Actor, id: i64, input: DecisionInput) -> Result<ObjectionView> {
    let o = store::get_objection(s.store.reader(), id).await.map_err(ServiceError::not_found("申请"))?;
    require_bureau(actor, &o)?;
    let action = if input.accept { ObjectionAction::Accept } else { ObjectionAction::Reject };
    let next = workflow::step(o.state, action)?;
    let reason = input.reason.trim();
    if !input.accept && reason.is_empty() {
        return Err(ServiceError::invalid(RuleViolation::new("required", "不予受理须说明理由").on_field("reason")));
    }
    let tx = s.write(actor).await?;
    store::decide_objection(&tx, id, next, actor.user_id, reason).await.map_err(|e| match e {
        choucha_store::StoreError::Conflict => {
            ServiceError::Rule(RuleViolation::new("already_decided", "该申请已处理"))
        }
        other => other.into(),
    })?;
    tx.commit(AuditEntry::new(
        "objection.decide",
        "objection",
        id,
        json!({"state": next.from()}),
        json!({"state": next.to(), "reason": reason}),
    ))
    .await?;
    view(s, store::get_objection(s.store.reader(), id).await?).await
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct CloseInput {
    /// The bureau's written answer to the applicant.
    pub answer: String,
}

/// The organising bureau closes an accepted request with its written answer: an objection handled
/// without a re-test, or one whose re-test stopped at a broken seal. A re-test under way, or one
/// concluded, is not overridden.
pub async fn close(s: &Services, actor: &Actor, id: i64, input: CloseInput) -> Result<ObjectionView> {
    let o = store::get_objection(s.store.reader(), id).await.map_err(ServiceError::not_found("申请"))?;
    require_bureau(actor, &o)?;
    let next = workflow::step(o.state, ObjectionAction::Close)?;
    let retest = choucha_store::retests::retest_of_objection(s.store.reader(), o.id).await?.map(|r| r.state);
    choucha_domain::retest::check_closable_without_retest(retest)?;
    let answer = input.answer.trim();
    if answer.is_empty() {
        return Err(ServiceError::invalid(RuleViolation::new("required", "请填写办结答复").on_field("answer")));
    }
    let tx = s.write(actor).await?;
    choucha_store::retests::close_objection(&tx, id, next, answer).await.map_err(|e| match e {
        choucha_store::StoreError::Conflict => {
            ServiceError::Rule(RuleViolation::new("already_decided", "该申请已处理"))
        }
        other => other.into(),
    })?;
    tx.commit(AuditEntry::new(
        "objection.close",
        "objection",
        id,
        json!({"state": o.state}),
        json!({"state": next.to(), "answer": answer}),
    ))
    .await?;
    view(s, store::get_objection(s.store.reader(), id).await?).await
}

/// The bureau's objections (`state` pending | accepted | rejected, all when absent), newest first.
pub async fn of_bureau(
    s: &Services,
    actor: &Actor,
    state: Option<ObjectionState>,
    before: Option<i64>,
    limit: Option<u64>,
) -> Result<Page<ObjectionView>> {
    actor.require(Action::ListObjections)?;
    let Some(org) = actor.org_id else { return Err(crate::access::refusal(Action::ListObjections)) };
    let p = store::objections_of_bureau(s.store.reader(), org, state, before, page_limit(limit)?).await?;
    let mut items = Vec::with_capacity(p.items.len());
    for o in p.items {
        items.push(view(s, o).await?);
    }
    Ok(Page { items, next: p.next })
}
