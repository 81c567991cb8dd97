//! Delivery of results (送达, rules 16 and 17). When a report is issued, the deliveries it requires
//! are opened in the same transaction: who receives what (the enterprise, the nominal producer of an
//! unqualified sample taken from a seller, the local bureau, the organising bureau with 3 copies) and
//! by when (the plan's delivery date; 7 days for the organising bureau). The testing institution's
//! sample custodian or the organising bureau records each delivery, in person with the receiver's
//! signature or by EMS with its tracking number; the date received starts the objection window
//! (rule 18). The result notice (检验结果告知书) is generated from the issued report.
//!
//! Who sees deliveries: those who see a sample's link (the custodian of the testing institution,
//! the organising bureau, admins). Testers, reviewers and approvers are blind (rule 13) and never
//! see them.

use crate::Write;
use choucha_domain::RuleViolation;
use choucha_domain::clock;
use choucha_domain::lab::ReportState;
use choucha_domain::results::{
    self as rules, DeliveredDocument, DeliveryAction, DeliveryFacts, DeliveryState, Recipient,
};
use choucha_domain::workflow;
use choucha_store::audit::AuditEntry;
use choucha_store::lab::{self as store_lab, ReportRow, SampleRow};
use choucha_store::results::{self as store, DeliveryRecord, DeliveryRow, DeliveryScope, NewDelivery};
use choucha_store::{Page, draws as store_draws, enterprises, organisations, plans as store_plans};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::access::{Ask, Scope};
use crate::lab::{ReportContent, signed_record, standing};
use crate::{Actor, Result, ServiceError, Services, page_limit};
use choucha_domain::access::{Action, Relations};

pub use choucha_domain::results::OBJECTION_DAYS;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DeliveryView {
    pub id: i64,
    pub report_id: i64,
    pub report_no: String,
    pub product: String,
    /// enterprise | producer | local_bureau | organising_bureau
    pub recipient: String,
    pub recipient_label: String,
    pub recipient_name: String,
    pub recipient_address: String,
    pub documents: Vec<String>,
    pub document_labels: Vec<String>,
    pub copies: i32,
    pub due_on: Option<NaiveDate>,
    /// pending | sent | received
    pub state: DeliveryState,
    pub state_label: String,
    /// Not delivered and past its due date (China's date).
    pub overdue: bool,
    /// in_person | ems
    pub method: String,
    pub tracking_no: String,
    pub sent_on: Option<NaiveDate>,
    pub received_on: Option<NaiveDate>,
    pub receiver_name: String,
    pub signed: bool,
    pub note: String,
    pub recorded_by: String,
    pub recorded_at: Option<DateTime<Utc>>,
}

async fn view(s: &Services, r: DeliveryRow) -> Result<DeliveryView> {
    let db = s.store.reader();
    let report = store_lab::get_report(db, r.report_id).await?;
    let content: ReportContent = serde_json::from_str(&report.content_json).map_err(ServiceError::internal)?;
    let docs: Vec<String> = r.documents.split(',').filter(|d| !d.is_empty()).map(str::to_string).collect();
    let recorded_by = match r.recorded_by {
        Some(u) => crate::lab::user_name(s, u).await,
        None => String::new(),
    };
    Ok(DeliveryView {
        id: r.id,
        report_id: r.report_id,
        report_no: report.report_no.unwrap_or_default(),
        product: content.product,
        recipient_label: Recipient::parse(&r.recipient).map(Recipient::label).unwrap_or_default().into(),
        recipient: r.recipient,
        recipient_name: r.recipient_name,
        recipient_address: r.recipient_address,
        document_labels: docs
            .iter()
            .filter_map(|d| DeliveredDocument::parse(d))
            .map(|d| d.label().to_string())
            .collect(),
        documents: docs,
        copies: r.copies,
        due_on: r.due_on,
        overdue: r.state == DeliveryState::Pending && r.due_on.is_some_and(|d| d < s.today()),
        state_label: r.state.label().into(),
        state: r.state,
        method: r.method,
        tracking_no: r.tracking_no,
        sent_on: r.sent_on,
        received_on: r.received_on,
        receiver_name: r.receiver_name,
        signed: !r.receiver_sig_b64.is_empty(),
        note: r.note,
        recorded_by,
        recorded_at: r.recorded_at,
    })
}

/// Opens the deliveries an issued report requires (rule 17), in the approval's transaction.
pub(crate) async fn open_deliveries(
    s: &Services,
    tx: &Write,
    report: &ReportRow,
    sample: &SampleRow,
    qualified: bool,
    issued_on: NaiveDate,
) -> Result<()> {
    let db = s.store.reader();
    let task = store_draws::get_task(db, sample.task_id).await?;
    let plan = store_plans::get_plan(db, sample.plan_id).await?;
    let ent = enterprises::get(db, task.enterprise_id).await?;
    let rec = signed_record(s, sample.task_id).await?.map(|(f, _)| f).unwrap_or_default();
    let producer = rec.producer_name.trim();
    let producer_elsewhere = rec.domain != "production" && !producer.is_empty() && producer != ent.name;
    let organiser = organisations::get(db, plan.organising_org_id).await?;
    let local = choucha_store::sampling::local_bureau_of(db, &ent.division_code).await?;
    let local_name = match local {
        Some(o) => organisations::get(db, o).await?.name,
        None => "被抽样单位所在地县级市场监督管理部门".into(),
    };
    for need in rules::required_deliveries(qualified, producer_elsewhere) {
        let (name, address) = match need.recipient {
            Recipient::Enterprise => (ent.name.clone(), ent.address.clone()),
            Recipient::Producer => (producer.to_string(), rec.producer_address.trim().to_string()),
            Recipient::LocalBureau => (local_name.clone(), String::new()),
            Recipient::OrganisingBureau => (organiser.name.clone(), organiser.address.clone()),
        };
        store::insert(
            tx,
            NewDelivery {
                report_id: report.id,
                sample_id: sample.id,
                plan_id: plan.id,
                testing_org_id: sample.testing_org_id,
                organising_org_id: plan.organising_org_id,
                recipient: need.recipient.as_str().into(),
                recipient_name: name,
                recipient_address: address,
                documents: need.documents.iter().map(|d| d.as_str()).collect::<Vec<_>>().join(","),
                copies: need.copies as i32,
                due_on: rules::delivery_due(need.recipient, issued_on, plan.deadline_delivery),
            },
        )
        .await?;
    }
    Ok(())
}

async fn sample_of_report(s: &Services, actor: &Actor, report_id: i64) -> Result<(ReportRow, SampleRow, Relations)> {
    let db = s.store.reader();
    let report = store_lab::get_report(db, report_id).await.map_err(ServiceError::not_found("检验报告"))?;
    let sample = store_lab::get_sample(db, report.sample_id).await?;
    // Testers, reviewers and approvers are blind: for them the deliveries do not exist.
    let rel = standing(s, actor, &sample).await?;
    rel.visible(Action::ViewLink, "检验报告")?;
    Ok((report, sample, rel))
}

/// The deliveries of an issued report.
pub async fn of_report(s: &Services, actor: &Actor, report_id: i64) -> Result<Vec<DeliveryView>> {
    sample_of_report(s, actor, report_id).await?;
    let mut out = Vec::new();
    for r in store::of_report(s.store.reader(), report_id).await? {
        out.push(view(s, r).await?);
    }
    Ok(out)
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct DeliveryInput {
    /// in_person (直接送达) | ems (EMS邮寄); may be left out when recording the receipt of a
    /// delivery already sent by EMS.
    #[serde(default)]
    pub method: String,
    #[serde(default)]
    pub tracking_no: String,
    /// Date sent (EMS); an in-person delivery is sent and received the same day.
    #[serde(default)]
    pub sent_on: Option<NaiveDate>,
    /// Date received (the objection window of rule 18 runs from it).
    #[serde(default)]
    pub received_on: Option<NaiveDate>,
    #[serde(default)]
    pub receiver_name: String,
    /// The receiver's signature on the screen (PNG, base64): required in person.
    #[serde(default)]
    pub receiver_signature_png_base64: String,
    #[serde(default)]
    pub note: String,
}

/// Records a delivery (or, for one sent by EMS, its receipt later): the custodian of the testing
/// institution or the organising bureau.
pub async fn record_delivery(s: &Services, actor: &Actor, id: i64, input: DeliveryInput) -> Result<DeliveryView> {
    let db = s.store.reader();
    let d = store::get(db, id).await.map_err(ServiceError::not_found("送达记录"))?;
    let (report, _, rel) = sample_of_report(s, actor, d.report_id).await?;
    rel.require_or(Action::RecordDelivery, "送达由检验机构的样品管理员或组织抽查的部门登记")?;
    let action = if input.received_on.is_some() { DeliveryAction::Receive } else { DeliveryAction::Send };
    let next = workflow::step(d.state, action)?;
    let issued_on = report.approved_at.map(clock::beijing_date).unwrap_or_else(|| s.today());
    // An EMS delivery recorded as sent keeps its method and tracking number when its receipt follows.
    let (method, tracking_no, sent_on) = if d.state == DeliveryState::Sent && input.method.trim().is_empty() {
        (d.method.clone(), d.tracking_no.clone(), d.sent_on)
    } else {
        (input.method.trim().to_string(), input.tracking_no.trim().to_string(), input.sent_on)
    };
    let signature = input.receiver_signature_png_base64.trim();
    if !signature.is_empty() {
        crate::signature::png_sha(signature)
            .map_err(|v| ServiceError::invalid(v.on_field("receiver_signature_png_base64")))?;
    }
    let facts = DeliveryFacts {
        method: &method,
        tracking_no: &tracking_no,
        sent_on: if method == "in_person" { input.received_on } else { sent_on },
        received_on: input.received_on,
        receiver_name: &input.receiver_name,
        has_signature: !signature.is_empty(),
    };
    let m = rules::check_delivery(&facts, issued_on, s.today()).map_err(ServiceError::Invalid)?;
    let tx = s.write(actor).await?;
    store::record(
        &tx,
        id,
        DeliveryRecord {
            transition: next,
            method: m.as_str().into(),
            tracking_no: tracking_no.clone(),
            sent_on: facts.sent_on,
            received_on: facts.received_on,
            receiver_name: input.receiver_name.trim().into(),
            receiver_sig_b64: signature.into(),
            note: input.note.trim().into(),
            recorded_by: actor.user_id,
        },
    )
    .await
    .map_err(|e| match e {
        choucha_store::StoreError::Conflict => {
            ServiceError::Rule(RuleViolation::new("already_delivered", "该送达已登记签收，不能重复登记"))
        }
        other => other.into(),
    })?;
    tx.commit(AuditEntry::new(
            "delivery.record",
            "delivery",
            id,
            json!({"state": d.state}),
            json!({"state": next.to(), "method": m.as_str(), "tracking_no": tracking_no, "sent_on": facts.sent_on, "received_on": facts.received_on, "receiver_name": input.receiver_name.trim()}),
        )).await?;
    view(s, store::get(s.store.reader(), id).await?).await
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    /// open (pending or sent, the default) | pending | sent | received | all
    #[serde(default)]
    pub state: Option<String>,
    /// Only those past their due date and not yet delivered.
    #[serde(default)]
    pub overdue: Option<bool>,
    #[serde(default)]
    pub cursor: Option<String>,
    #[serde(default)]
    pub limit: Option<u64>,
}

/// The caller's deliveries: the custodian's institution's, or the organising bureau's; newest first.
pub async fn list(s: &Services, actor: &Actor, q: DeliveryQuery) -> Result<Page<DeliveryView>> {
    let scope = match actor.scope(Action::ViewDeliveries)? {
        Scope::All => DeliveryScope::All,
        Scope::Institution(o) => DeliveryScope::Testing(o),
        Scope::Bureau(o) => DeliveryScope::Organising(o),
        Scope::Enterprise(_) => return Err(crate::access::refusal(Action::ViewDeliveries)),
    };
    let overdue = q.overdue.unwrap_or(false);
    let states: Vec<DeliveryState> = if overdue {
        vec![DeliveryState::Pending]
    } else {
        match q.state.as_deref().unwrap_or("open") {
            "open" => vec![DeliveryState::Pending, DeliveryState::Sent],
            "all" => vec![],
            other => match DeliveryState::parse(other) {
                Some(st) => vec![st],
                None => {
                    return Err(ServiceError::invalid(
                        RuleViolation::new("invalid_state", "状态应为 open、pending、sent、received 或 all")
                            .on_field("state"),
                    ));
                }
            },
        }
    };
    // Overdue: due before today.
    let due_by = overdue.then(|| s.today() - chrono::Duration::days(1));
    let before = q.cursor.as_deref().and_then(|c| c.trim().parse::<i64>().ok());
    let p = store::list(s.store.reader(), scope, &states, due_by, before, page_limit(q.limit)?).await?;
    let mut items = Vec::with_capacity(p.items.len());
    for r in p.items {
        items.push(view(s, r).await?);
    }
    Ok(Page { items, next: p.next })
}

/// The result notice (检验结果告知书) of an issued report, addressed to `recipient` (enterprise or
/// producer; the enterprise when absent).
pub async fn result_notice_pdf(
    s: &Services,
    actor: &Actor,
    report_id: i64,
    recipient: Option<&str>,
) -> Result<Vec<u8>> {
    let (report, sample, _) = sample_of_report(s, actor, report_id).await?;
    render_notice(s, actor, &report, &sample, recipient).await
}

/// The result notice of `report` (the caller's right to it checked already), SM2-signed by the
/// testing institution the first time it is asked for and the same file ever after
/// ([`crate::result_notice`]).
pub(crate) async fn render_notice(
    s: &Services,
    actor: &Actor,
    report: &ReportRow,
    sample: &SampleRow,
    recipient: Option<&str>,
) -> Result<Vec<u8>> {
    let Some(report_no) =
        report.report_no.clone().filter(|_| matches!(report.state, ReportState::Approved | ReportState::Superseded))
    else {
        return Err(ServiceError::Rule(RuleViolation::new("report_state", "报告签发后才能出具检验结果告知书")));
    };
    let db = s.store.reader();
    let content: ReportContent = serde_json::from_str(&report.content_json).map_err(ServiceError::internal)?;
    let task = store_draws::get_task(db, sample.task_id).await?;
    let ent = enterprises::get(db, task.enterprise_id).await?;
    let plan = store_plans::get_plan(db, sample.plan_id).await?;
    let organiser = organisations::get(db, plan.organising_org_id).await?;
    let institution = organisations::get(db, sample.testing_org_id).await?;
    let rec = signed_record(s, sample.task_id).await?.map(|(f, _)| f).unwrap_or_default();
    let producer = if rec.producer_name.trim().is_empty() { ent.name.clone() } else { rec.producer_name.clone() };
    let (addressee, kind) = match recipient.unwrap_or("enterprise") {
        "enterprise" => (ent.name.clone(), crate::signing::RESULT_NOTICE),
        "producer" => (producer.clone(), crate::signing::RESULT_NOTICE_PRODUCER),
        _ => return Err(ServiceError::NotFound("告知对象")),
    };
    let notice = choucha_documents::ResultNotice {
        notice_no: format!("{report_no}-GZ"),
        addressee,
        organising_bureau: organiser.name.clone(),
        plan_title: plan.title,
        institution: institution.name,
        product: content.product,
        brand: rec.brand,
        model: rec.model,
        batch: rec.batch,
        inspected_unit: ent.name,
        producer,
        sampled_on: rec.sampled_at.get(..10).unwrap_or_default().to_string(),
        report_no,
        qualified: content.qualified,
        conclusion: content.conclusion,
        failing_items: content.items.iter().filter(|i| i.judgement == "不符合").map(|i| i.name.clone()).collect(),
        objection_to: organiser.name,
        objection_days: OBJECTION_DAYS,
        issued_on: report.approved_at.map(clock::beijing_date).unwrap_or_else(|| s.today()),
        verification: None,
    };
    crate::result_notice::signed(s, actor, report.id, sample.testing_org_id, kind, notice).await
}

/// An improvement letter (产品质量改进建议书, Annex 2) pre-filled from an unqualified issued report:
/// its number, product, model, inspected unit, producer, institution and failing items, with the
/// description, cause analysis and suggestions the tester wrote on the sample (`write_letter`), or
/// a description of each failure (requirement and result) when the tester has written none. For
/// those who see the sample's link (testers are blind).
pub async fn improvement_letter_prefill(
    s: &Services,
    actor: &Actor,
    report_id: i64,
) -> Result<crate::documents::ImprovementLetterInput> {
    crate::documents::require_letter_writer(actor)?;
    let (report, sample, _) = sample_of_report(s, actor, report_id).await?;
    letter_input_of(s, &report, &sample).await
}

/// The pre-filled letter of an issued unqualified report, whoever asks (callers check access).
pub(crate) async fn letter_input_of(
    s: &Services,
    report: &ReportRow,
    sample: &SampleRow,
) -> Result<crate::documents::ImprovementLetterInput> {
    let Some(report_no) = report.report_no.clone().filter(|_| report.state == ReportState::Approved) else {
        return Err(ServiceError::Rule(RuleViolation::new("report_state", "报告签发后才能出具产品质量改进建议书")));
    };
    let content: ReportContent = serde_json::from_str(&report.content_json).map_err(ServiceError::internal)?;
    if content.qualified {
        return Err(ServiceError::Rule(RuleViolation::new(
            "report_qualified",
            "该报告结论为合格，无需出具产品质量改进建议书（规则17）",
        )));
    }
    let db = s.store.reader();
    let task = store_draws::get_task(db, sample.task_id).await?;
    let ent = enterprises::get(db, task.enterprise_id).await?;
    let institution = organisations::get(db, sample.testing_org_id).await?;
    let rec = signed_record(s, sample.task_id).await?.map(|(f, _)| f).unwrap_or_default();
    let failing: Vec<_> = content.items.iter().filter(|i| i.judgement == "不符合").collect();
    // The tester's own text, written blind on the sample, fills the parts it wrote.
    let letter = choucha_store::retests::letter_of_sample(db, sample.id).await?;
    let description = failing
        .iter()
        .map(|i| {
            format!(
                "{}：标准要求{}，实测{}，不符合{}的要求。",
                i.name,
                i.requirement,
                i.result,
                content.standards.join("、")
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    Ok(crate::documents::ImprovementLetterInput {
        report_no,
        product_name: content.product,
        model: rec.model,
        inspected_unit: ent.name.clone(),
        producer: if rec.producer_name.trim().is_empty() { ent.name } else { rec.producer_name },
        institution: institution.name,
        failing_items: failing.iter().map(|i| i.name.clone()).collect(),
        problem_description: match &letter {
            Some(l) if !l.description.trim().is_empty() => l.description.clone(),
            _ => description,
        },
        cause_analysis: letter.as_ref().map(|l| l.cause_analysis.clone()).unwrap_or_default(),
        suggestions: letter.as_ref().map(|l| l.suggestions.clone()).unwrap_or_default(),
        remarks: String::new(),
        date: Some(s.today().to_string()),
    })
}

/// The tester's part of an improvement letter.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct LetterTextInput {
    /// 本次抽检质量问题描述.
    #[serde(default)]
    pub description: String,
    /// 原因分析.
    pub cause_analysis: String,
    /// 改进建议.
    pub suggestions: String,
}

/// What the tester has written of a sample's improvement letter.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct LetterTextView {
    pub blind_code: String,
    pub description: String,
    pub cause_analysis: String,
    pub suggestions: String,
    pub written_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Still editable: not yet delivered to anyone.
    pub editable: bool,
}

async fn letter_sample(s: &Services, actor: &Actor, code: &str) -> Result<SampleRow> {
    let (sample, st) = crate::lab::by_code(s, actor, code).await?;
    if !st.may(Action::PrepareReport) {
        return Err(ServiceError::Forbidden("产品质量改进建议书的问题描述、原因分析和改进建议由检验人员填写".into()));
    }
    Ok(sample)
}

async fn letter_delivered(s: &Services, sample_id: i64) -> Result<bool> {
    let db = s.store.reader();
    for r in store_lab::reports_of(db, sample_id).await? {
        if store::of_report(db, r.id)
            .await?
            .iter()
            .any(|d| d.documents.contains("improvement_letter") && d.state != DeliveryState::Pending)
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The tester's text of a sample's improvement letter (blind, by code).
pub async fn letter_text(s: &Services, actor: &Actor, code: &str) -> Result<LetterTextView> {
    let sample = letter_sample(s, actor, code).await?;
    let l = choucha_store::retests::letter_of_sample(s.store.reader(), sample.id).await?;
    Ok(LetterTextView {
        blind_code: sample.blind_code.clone().unwrap_or_default(),
        description: l.as_ref().map(|l| l.description.clone()).unwrap_or_default(),
        cause_analysis: l.as_ref().map(|l| l.cause_analysis.clone()).unwrap_or_default(),
        suggestions: l.as_ref().map(|l| l.suggestions.clone()).unwrap_or_default(),
        written_at: l.map(|l| l.written_at),
        editable: !letter_delivered(s, sample.id).await?,
    })
}

/// A tester writes the description, cause analysis and suggestions of the improvement letter of an
/// unqualified sample, by its blind code, until the letter has been delivered.
pub async fn write_letter(s: &Services, actor: &Actor, code: &str, input: LetterTextInput) -> Result<LetterTextView> {
    let sample = letter_sample(s, actor, code).await?;
    if sample.qualified != Some(false) {
        return Err(ServiceError::Rule(RuleViolation::new(
            "report_qualified",
            "只有检验结论为不合格的样品才需要填写产品质量改进建议书（规则17）",
        )));
    }
    if letter_delivered(s, sample.id).await? {
        return Err(ServiceError::Rule(RuleViolation::new("letter_delivered", "产品质量改进建议书已送达，不能再修改")));
    }
    let mut errs = Vec::new();
    if input.cause_analysis.trim().is_empty() {
        errs.push(RuleViolation::new("required", "请填写原因分析").on_field("cause_analysis"));
    }
    if input.suggestions.trim().is_empty() {
        errs.push(RuleViolation::new("required", "请填写改进建议").on_field("suggestions"));
    }
    for (f, v) in [
        ("description", &input.description),
        ("cause_analysis", &input.cause_analysis),
        ("suggestions", &input.suggestions),
    ] {
        if v.chars().count() > 5000 {
            errs.push(RuleViolation::new("too_long", "每部分不超过5000字").on_field(f));
        }
    }
    if !errs.is_empty() {
        return Err(ServiceError::Invalid(errs));
    }
    let tx = s.write(actor).await?;
    let row = choucha_store::retests::put_letter(
        &tx,
        sample.id,
        input.description.trim(),
        input.cause_analysis.trim(),
        input.suggestions.trim(),
        actor.user_id,
    )
    .await?;
    tx.commit(AuditEntry::new(
        "letter.write",
        "improvement_letter",
        row.id,
        json!(null),
        json!({"sample_id": sample.id, "description": row.description, "cause_analysis": row.cause_analysis,
                   "suggestions": row.suggestions}),
    ))
    .await?;
    letter_text(s, actor, code).await
}

/// The improvement letter of an unqualified issued report as a PDF, pre-filled from the report with
/// the tester's text (for those who see the sample's link).
pub async fn improvement_letter_of_report(s: &Services, actor: &Actor, report_id: i64) -> Result<Vec<u8>> {
    let input = improvement_letter_prefill(s, actor, report_id).await?;
    crate::documents::improvement_letter_pdf(s, actor, input).await
}
