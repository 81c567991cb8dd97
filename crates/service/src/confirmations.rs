//! Sample confirmation by the nominal producer (后置样品确认, rule 23). When a report of a sample
//! taken from a seller is issued, the testing institution sends the result and the report to the
//! nominal producer, which confirms or denies within the plan's period that the sample is its
//! product. The producer answers in its portal (an enterprise user bound to its USCC), or the
//! institution's custodian records an answer received by letter. No answer by the deadline is
//! recorded as such. A denial opens an investigation for the organising bureau; until its finding is
//! recorded the result is not final for that producer.

use crate::Write;
use choucha_domain::RuleViolation;
use choucha_domain::retest::{ConfirmationAction, ConfirmationState, confirmation_due, confirmation_step};
use choucha_domain::workflow::Transition;
use choucha_store::audit::AuditEntry;
use choucha_store::lab::{ReportRow, SampleRow};
use choucha_store::retests::{self as store, ConfirmationChange, ConfirmationRow, ConfirmationScope, NewConfirmation};
use choucha_store::{Page, StoreError, enterprises};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::access::{Ask, Scope};
use crate::lab::ReportContent;
use crate::{Actor, Result, ServiceError, Services, page_limit};
use choucha_domain::access::{Action, Relations};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ConfirmationView {
    pub id: i64,
    pub report_id: i64,
    pub report_no: String,
    pub product: String,
    pub qualified: bool,
    pub producer_name: String,
    pub producer_uscc: String,
    pub sent_on: NaiveDate,
    pub due_on: NaiveDate,
    /// awaiting | confirmed | denied | lapsed | investigated
    pub state: ConfirmationState,
    pub state_label: String,
    /// Awaited past its deadline: the lapse is to be recorded.
    pub overdue: bool,
    pub answer_note: String,
    pub finding: String,
    /// The result is final for the producer (not awaited, no open denial).
    pub final_for_producer: bool,
}

async fn view(s: &Services, c: &ConfirmationRow) -> Result<ConfirmationView> {
    let report = choucha_store::lab::get_report(s.store.reader(), c.report_id).await?;
    let content: ReportContent = serde_json::from_str(&report.content_json).map_err(ServiceError::internal)?;
    let st = c.state;
    Ok(ConfirmationView {
        id: c.id,
        report_id: c.report_id,
        report_no: report.report_no.unwrap_or_default(),
        product: content.product,
        qualified: content.qualified,
        producer_name: c.producer_name.clone(),
        producer_uscc: c.producer_uscc.clone(),
        sent_on: c.sent_on,
        due_on: c.due_on,
        state: c.state,
        state_label: st.label().into(),
        overdue: st == ConfirmationState::Awaiting && s.today() > c.due_on,
        answer_note: c.answer_note.clone(),
        finding: c.finding.clone(),
        final_for_producer: st.is_final_for_producer(),
    })
}

/// Opens the sample confirmation of an issued report of a sample taken from a seller, in the
/// approval's transaction. A corrected report keeps the confirmation of the one it supersedes.
pub(crate) async fn open_for_report(
    s: &Services,
    tx: &Write,
    report: &ReportRow,
    sample: &SampleRow,
    issued_on: NaiveDate,
) -> Result<()> {
    let db = s.store.reader();
    if let Some(old) = report.supersedes_id
        && store::confirmation_of_report(db, old).await?.is_some()
    {
        return Ok(());
    }
    let task = choucha_store::draws::get_task(db, sample.task_id).await?;
    let ent = enterprises::get(db, task.enterprise_id).await?;
    let rec = crate::lab::signed_record(s, sample.task_id).await?.map(|(f, _)| f).unwrap_or_default();
    let producer = rec.producer_name.trim();
    if rec.domain == "production" || producer.is_empty() || producer == ent.name {
        return Ok(());
    }
    let (days, working) = store::confirmation_period(db, sample.plan_id).await?;
    let cal = choucha_store::calendar::load(db).await?;
    let plan = choucha_store::plans::get_plan(db, sample.plan_id).await?;
    let row = store::insert_confirmation(
        tx,
        NewConfirmation {
            report_id: report.id,
            sample_id: sample.id,
            plan_id: sample.plan_id,
            organising_org_id: plan.organising_org_id,
            testing_org_id: sample.testing_org_id,
            producer_name: producer.into(),
            producer_uscc: rec.producer_uscc.trim().to_uppercase(),
            producer_address: rec.producer_address.trim().into(),
            sent_on: issued_on,
            due_on: confirmation_due(&cal, issued_on, days, working),
            state: ConfirmationState::Awaiting,
        },
    )
    .await?;
    tx.audit(AuditEntry::new(
        "confirmation.open",
        "sample_confirmation",
        row.id,
        json!(null),
        json!({"report_id": report.id, "due_on": row.due_on, "days": days, "working_days": working}),
    ));
    Ok(())
}

async fn own_uscc(s: &Services, actor: &Actor) -> Result<Option<String>> {
    match actor.enterprise_id {
        Some(e) if actor.may(Action::ViewOwnResults) => Ok(Some(enterprises::get(s.store.reader(), e).await?.uscc)),
        _ => Ok(None),
    }
}

/// A confirmation with the caller's relations towards it; not found for anyone without one.
async fn load(s: &Services, actor: &Actor, id: i64) -> Result<(ConfirmationRow, Relations)> {
    let c = store::get_confirmation(s.store.reader(), id).await.map_err(ServiceError::not_found("样品确认"))?;
    let producer =
        !c.producer_uscc.is_empty() && own_uscc(s, actor).await?.as_deref() == Some(c.producer_uscc.as_str());
    let rel = actor.to_confirmation(c.organising_org_id, c.testing_org_id, producer);
    rel.visible(Action::ViewConfirmation, "样品确认")?;
    Ok((c, rel))
}

pub async fn get(s: &Services, actor: &Actor, id: i64) -> Result<ConfirmationView> {
    let (c, _) = load(s, actor, id).await?;
    view(s, &c).await
}

fn conflict(e: StoreError) -> ServiceError {
    match e {
        StoreError::Conflict => {
            ServiceError::Rule(RuleViolation::new("conflict", "样品确认已被他人处理，请刷新后重试"))
        }
        other => other.into(),
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct AnswerInput {
    /// The producer confirms the sample is its product (true) or denies it (false).
    pub confirmed: bool,
    /// Why it denies; how the answer came (the custodian recording a letter).
    #[serde(default)]
    pub note: String,
}

/// The producer's answer, by the producer in its portal or recorded by the institution's
/// custodian; within the period only. A denial goes to the organising bureau for investigation.
pub async fn answer(s: &Services, actor: &Actor, id: i64, input: AnswerInput) -> Result<ConfirmationView> {
    let (c, rel) = load(s, actor, id).await?;
    rel.require_or(Action::AnswerConfirmation, "样品确认由标称生产者答复，或由检验机构登记其书面答复")?;
    let action = if input.confirmed { ConfirmationAction::Confirm } else { ConfirmationAction::Deny };
    let next = confirmation_step(c.state, action, c.due_on, s.today())?;
    let note = input.note.trim();
    if !input.confirmed && note.is_empty() {
        return Err(ServiceError::invalid(
            RuleViolation::new("required", "否认样品为本企业产品的，请说明理由并提供证明材料").on_field("note"),
        ));
    }
    if rel.contains(choucha_domain::access::Relation::Custodian) && note.is_empty() {
        return Err(ServiceError::invalid(
            RuleViolation::new("required", "请注明答复的方式（如回函日期、文号）").on_field("note"),
        ));
    }
    let inbox = (next.to() == ConfirmationState::Denied)
        .then(|| format!("样品确认：{}否认样品为其产品，待调查核实", c.producer_name));
    let change = ConfirmationChange::Answered { note: note.into(), by: actor.user_id };
    apply(s, actor, &c, next, change, "confirmation.answer", json!({"note": note}), inbox).await
}

/// One step of a confirmation, in one transaction with its audit record (and the bureau's inbox
/// item when there is one).
#[allow(clippy::too_many_arguments)]
async fn apply(
    s: &Services,
    actor: &Actor,
    c: &ConfirmationRow,
    next: Transition<ConfirmationState>,
    change: ConfirmationChange,
    action: &str,
    mut after: serde_json::Value,
    inbox: Option<String>,
) -> Result<ConfirmationView> {
    let tx = s.write(actor).await?;
    store::update_confirmation(&tx, c.id, next, change).await.map_err(conflict)?;
    if let Some(title) = inbox {
        choucha_store::sampling::insert_inbox(
            &tx,
            c.organising_org_id,
            "confirmation",
            &title,
            "sample_confirmation",
            c.id,
        )
        .await?;
    }
    after["state"] = json!(next.to());
    tx.commit(AuditEntry::new(action, "sample_confirmation", c.id, json!({"state": c.state}), after)).await?;
    get(s, actor, c.id).await
}

/// Records that no answer came by the deadline (the institution or the bureau).
pub async fn record_lapse(s: &Services, actor: &Actor, id: i64) -> Result<ConfirmationView> {
    let (c, rel) = load(s, actor, id).await?;
    rel.require(Action::RecordLapse)?;
    let next = confirmation_step(c.state, ConfirmationAction::Lapse, c.due_on, s.today())?;
    let change = ConfirmationChange::Answered { note: format!("截至{}未答复", c.due_on), by: actor.user_id };
    apply(s, actor, &c, next, change, "confirmation.lapse", json!({"due_on": c.due_on}), None).await
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct InvestigationInput {
    /// What the investigation found (e.g. the sample is the producer's product after all, or it
    /// is counterfeit and the case goes to the seller).
    pub finding: String,
}

/// The organising bureau records its investigation of a denial; the result is then final for the producer.
pub async fn investigate(s: &Services, actor: &Actor, id: i64, input: InvestigationInput) -> Result<ConfirmationView> {
    let (c, rel) = load(s, actor, id).await?;
    rel.require_or(Action::DecideConfirmation, "标称生产者否认的，由组织监督抽查的部门调查核实（规则23）")?;
    let next = confirmation_step(c.state, ConfirmationAction::Investigate, c.due_on, s.today())?;
    let finding = input.finding.trim();
    if finding.is_empty() {
        return Err(ServiceError::invalid(RuleViolation::new("required", "请填写调查核实的结论").on_field("finding")));
    }
    let change = ConfirmationChange::Investigated { finding: finding.into(), by: actor.user_id };
    apply(s, actor, &c, next, change, "confirmation.investigate", json!({"finding": finding}), None).await
}

/// Confirmations newest first: the bureau's, the institution's (custodian) or the producer's own.
pub async fn list(
    s: &Services,
    actor: &Actor,
    states: &[ConfirmationState],
    before: Option<i64>,
    limit: Option<u64>,
) -> Result<Page<ConfirmationView>> {
    let uscc = own_uscc(s, actor).await?;
    let scope = match (actor.scope(Action::ListConfirmations)?, uscc.as_deref()) {
        (Scope::All, _) => ConfirmationScope::All,
        (Scope::Bureau(org), _) => ConfirmationScope::Organising(org),
        (Scope::Institution(org), _) => ConfirmationScope::Testing(org),
        (Scope::Enterprise(_), Some(u)) => ConfirmationScope::Producer(u),
        (Scope::Enterprise(_), None) => return Err(crate::access::refusal(Action::ListConfirmations)),
    };
    let p = store::list_confirmations(s.store.reader(), scope, states, None, before, page_limit(limit)?).await?;
    let mut items = Vec::with_capacity(p.items.len());
    for c in &p.items {
        items.push(view(s, c).await?);
    }
    Ok(Page { items, next: p.next })
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct PeriodInput {
    pub days: u32,
    /// Counted in working days (China's calendar) rather than calendar days.
    #[serde(default)]
    pub working_days: bool,
}

/// The organising bureau sets a plan's confirmation period (applies to confirmations opened later).
pub async fn set_period(s: &Services, actor: &Actor, plan_id: i64, input: PeriodInput) -> Result<PeriodInput> {
    let plan =
        choucha_store::plans::get_plan(s.store.reader(), plan_id).await.map_err(ServiceError::not_found("抽查计划"))?;
    actor.to_plan(plan.organising_org_id).visible(Action::ManagePlan, "抽查计划")?;
    if !(1..=90).contains(&input.days) {
        return Err(ServiceError::invalid(
            RuleViolation::new("invalid_days", "样品确认期限应为1至90天").on_field("days"),
        ));
    }
    let before = store::confirmation_period(s.store.reader(), plan_id).await?;
    let tx = s.write(actor).await?;
    store::set_confirmation_period(&tx, plan_id, input.days, input.working_days).await?;
    tx.commit(AuditEntry::new(
        "plan.confirmation_period",
        "plan",
        plan_id,
        json!({"days": before.0, "working_days": before.1}),
        json!({"days": input.days, "working_days": input.working_days}),
    ))
    .await?;
    Ok(input)
}

/// A plan's confirmation period.
pub async fn period(s: &Services, plan_id: i64) -> Result<PeriodInput> {
    let (days, working_days) = store::confirmation_period(s.store.reader(), plan_id).await?;
    Ok(PeriodInput { days, working_days })
}
