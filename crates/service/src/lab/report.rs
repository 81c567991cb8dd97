//! The test report (rule 15): prepared by a tester, reviewed by a second person, approved by a
//! third; on approval it gets its number, its content is frozen and its PDF is stored with its
//! SHA-256, which `verify_report` checks against the stored file. A correction is a new report
//! that supersedes the old one; both are kept. Also the blind-code label PDF.

use crate::Write;
use choucha_documents as docs;
use choucha_domain::RuleViolation;
use choucha_domain::access::{Action, Relations};
use choucha_domain::clock;
use choucha_domain::lab::{self as rules, LabDuty, ReportAction, ReportState, SampleAction, SampleState};
use choucha_domain::sampling as rules_time;
use choucha_domain::workflow::{self, Transition, Workflow};
use choucha_store::audit::AuditEntry;
use choucha_store::lab::{self as store, NewReport, ReportRow, SampleChanges, SamplePatch, SampleRow};
use choucha_store::{Page, draws as store_draws, enterprises, organisations};
use sea_orm::ActiveValue::{NotSet, Set};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::path::PathBuf;

use super::{
    ReportContent, ReportItem, ReportView, by_code, ctx_of, lab_relations, report_view, samplers_of, signed_record,
    standing, user_name,
};
use crate::access::{Ask, Scope};
use crate::{Actor, Result, ServiceError, Services, page_limit};

async fn content_of(s: &Services, sample: &SampleRow) -> Result<ReportContent> {
    let c = ctx_of(s, sample).await?;
    let results = store::results_of(s.store.reader(), sample.id).await?;
    let from = results.iter().map(|r| r.tested_on).min();
    let to = results.iter().map(|r| r.tested_on).max();
    let test_portion = match signed_record(s, sample.task_id).await? {
        Some((f, _)) => format!("{}{}", f.test_quantity, f.unit),
        None => c.body.test_portion.clone(),
    };
    Ok(ReportContent {
        blind_code: sample.blind_code.clone().unwrap_or_default(),
        product: c.item.product.clone(),
        standards: c.body.standards.clone(),
        rules_version: c.rules_version,
        test_portion,
        received_on: clock::beijing_date(sample.received_at).to_string(),
        tested_from: from.map(|d| d.to_string()).unwrap_or_default(),
        tested_to: to.map(|d| d.to_string()).unwrap_or_default(),
        items: results
            .iter()
            .map(|r| ReportItem {
                name: r.item_name.clone(),
                unit: r.unit.clone(),
                requirement: r.requirement.clone(),
                result: r.display.clone(),
                judgement: if r.judgement == "conforming" { "符合" } else { "不符合" }.into(),
                method: r.method.clone(),
            })
            .collect(),
        qualified: sample.qualified.unwrap_or(false),
        conclusion: sample.conclusion.clone(),
        judgement_principle: c.body.judgement_principle.clone(),
    })
}

/// A signature on the screen with a step of the report (prepare, review, approve).
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct SignOffInput {
    /// PNG image, base64, drawn now; empty when signing with the stored signature.
    #[serde(default)]
    pub signature_png_base64: String,
    /// Sign with the signature the signer stored (我的签名) instead of drawing it again.
    #[serde(default)]
    pub use_stored_signature: bool,
}

/// The signature's PNG (drawn now, or the signer's stored one on their confirmation), checked; its
/// base64 as stored.
pub(crate) async fn signature_of(s: &Services, actor: &Actor, input: &SignOffInput) -> Result<String> {
    crate::signature::for_signing(
        s,
        actor,
        &input.signature_png_base64,
        input.use_stored_signature,
        "signature_png_base64",
    )
    .await
}

pub(crate) fn signature_png(b64: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    if b64.is_empty() {
        return None;
    }
    base64::engine::general_purpose::STANDARD.decode(b64).ok()
}

/// A tester prepares the report of a tested sample (its results complete) and signs it.
pub async fn prepare_report(s: &Services, actor: &Actor, code: &str, sign: SignOffInput) -> Result<ReportView> {
    let (sample, st) = by_code(s, actor, code).await?;
    st.require_or(Action::PrepareReport, "检验报告由承检机构的检验人员编制")?;
    rules::check_not_sampler(actor.user_id, &samplers_of(s, &sample).await?, LabDuty::PrepareReport)?;
    if sample.state != SampleState::Tested {
        return Err(ServiceError::Rule(RuleViolation::new(
            "sample_state",
            "检验结果尚未全部录入并得出结论，不能编制报告；快速筛查结果不作为检验报告出具（规则24）",
        )));
    }
    let existing = store::reports_of(s.store.reader(), sample.id).await?;
    if existing.iter().any(|r| matches!(r.state, ReportState::Prepared | ReportState::Reviewed)) {
        return Err(ServiceError::Rule(RuleViolation::new("report_open", "该样品已有待审核或待批准的报告")));
    }
    let superseded = existing.iter().find(|r| r.state == ReportState::Approved);
    let sig = signature_of(s, actor, &sign).await?;
    let content = content_of(s, &sample).await?;
    let tx = s.write(actor).await?;
    let row = store::insert_report(
        &tx,
        NewReport {
            sample_id: sample.id,
            testing_org_id: sample.testing_org_id,
            version: existing.first().map(|r| r.version + 1).unwrap_or(1),
            content_json: serde_json::to_string(&content).map_err(ServiceError::internal)?,
            prepared_by: actor.user_id,
            supersedes_id: superseded.map(|r| r.id),
            correction_reason: if superseded.is_some() { sample.pending_correction.clone() } else { String::new() },
            prepared_sig_b64: sig,
        },
    )
    .await?;
    tx.commit(AuditEntry::new(
        "report.prepare",
        "lab_report",
        row.id,
        json!(null),
        json!({"sample_id": sample.id, "version": row.version}),
    ))
    .await?;
    report_view(s, &row).await
}

pub(crate) async fn load_report(
    s: &Services,
    actor: &Actor,
    report_id: i64,
) -> Result<(ReportRow, SampleRow, Relations)> {
    let db = s.store.reader();
    let r = store::get_report(db, report_id).await.map_err(ServiceError::not_found("检验报告"))?;
    let sample = store::get_sample(db, r.sample_id).await?;
    let st = standing(s, actor, &sample).await?;
    Ok((r, sample, st))
}

pub(crate) fn require_approver(actor: &Actor, sample: &SampleRow, what: &str) -> Result<()> {
    lab_relations(actor, sample).require_or(Action::SignReport, &format!("检验报告由承检机构的审核/批准人{what}"))
}

/// A second person reviews the prepared report and signs it (rules 1 and 15).
pub async fn review_report(s: &Services, actor: &Actor, report_id: i64, sign: SignOffInput) -> Result<ReportView> {
    let (r, sample, _) = load_report(s, actor, report_id).await?;
    require_approver(actor, &sample, "审核")?;
    rules::check_report_signer(actor.user_id, r.prepared_by, None, LabDuty::Review)?;
    rules::check_not_sampler(actor.user_id, &samplers_of(s, &sample).await?, LabDuty::Review)?;
    let t = workflow::step(r.state, ReportAction::Review)?;
    let sig = signature_of(s, actor, &sign).await?;
    let tx = s.write(actor).await?;
    store::set_reviewed(&tx, r.id, t, actor.user_id, &sig).await?;
    tx.commit(AuditEntry::new(
        "report.review",
        "lab_report",
        r.id,
        json!({"state": t.from()}),
        json!({"state": t.to()}),
    ))
    .await?;
    report_view(s, &store::get_report(s.store.reader(), r.id).await?).await
}

/// The issue data of the PDF: the report content with the sample's link, the institution and the signers.
pub(crate) async fn pdf_data(
    s: &Services,
    r: &ReportRow,
    sample: &SampleRow,
    report_no: &str,
    approver: i64,
    approver_sig: &str,
    approved_at: chrono::DateTime<chrono::Utc>,
) -> Result<choucha_documents::TestReport> {
    let db = s.store.reader();
    let content: ReportContent = serde_json::from_str(&r.content_json).map_err(ServiceError::internal)?;
    let c = ctx_of(s, sample).await?;
    let org = organisations::get(db, sample.testing_org_id).await?;
    let organiser = organisations::get(db, c.plan.organising_org_id).await?;
    let task = store_draws::get_task(db, sample.task_id).await?;
    let ent = enterprises::get(db, task.enterprise_id).await?;
    let rec = signed_record(s, sample.task_id).await?.map(|(f, _)| f).unwrap_or_default();
    let supersedes = match r.supersedes_id {
        Some(id) => store::get_report(db, id).await?.report_no,
        None => None,
    };
    let period = if content.tested_from == content.tested_to {
        content.tested_from.clone()
    } else {
        format!("{} 至 {}", content.tested_from, content.tested_to)
    };
    Ok(choucha_documents::TestReport {
        report_no: report_no.to_string(),
        institution: org.name,
        qualification_no: org.qualification_no.unwrap_or_default(),
        institution_address: org.address,
        institution_phone: org.phone,
        product: content.product.clone(),
        sample_code: content.blind_code.clone(),
        test_kind: "监督抽查".into(),
        task_source: format!("{}（{}）", c.plan.title, organiser.name),
        inspected_unit: ent.name.clone(),
        producer: if rec.producer_name.trim().is_empty() { ent.name } else { rec.producer_name.clone() },
        brand: rec.brand,
        model: rec.model,
        batch: rec.batch,
        sampled_on: rec.sampled_at.get(..10).unwrap_or_default().to_string(),
        received_on: content.received_on.clone(),
        tested_period: period,
        test_portion: content.test_portion.clone(),
        standards: content.standards.clone(),
        items: content
            .items
            .iter()
            .map(|i| choucha_documents::ReportLine {
                name: i.name.clone(),
                unit: i.unit.clone(),
                requirement: i.requirement.clone(),
                result: i.result.clone(),
                judgement: i.judgement.clone(),
                method: i.method.clone(),
            })
            .collect(),
        qualified: content.qualified,
        conclusion: content.conclusion.clone(),
        prepared_by: docs::Signature {
            signer: user_name(s, r.prepared_by).await,
            image: signature_png(&r.prepared_sig_b64),
            signed_at: Some(rules_time::utc_to_local(r.prepared_at)),
        },
        reviewed_by: docs::Signature {
            signer: match r.reviewed_by {
                Some(u) => user_name(s, u).await,
                None => String::new(),
            },
            image: signature_png(&r.reviewed_sig_b64),
            signed_at: r.reviewed_at.map(rules_time::utc_to_local),
        },
        approved_by: docs::Signature {
            signer: user_name(s, approver).await,
            image: signature_png(approver_sig),
            signed_at: Some(rules_time::utc_to_local(approved_at)),
        },
        issued_on: s.today(),
        supersedes,
        correction_reason: r.correction_reason.clone(),
        draft: false,
        retest: false,
        sampling_unit: match c.item.sampling_org_id {
            Some(o) => organisations::get(db, o).await?.name,
            None => String::new(),
        },
        sampling_base: if rec.sampling_base > 0.0 {
            format!("{}{}", rec.sampling_base, rec.unit)
        } else {
            String::new()
        },
        seal: crate::seals::placed_seal(s, sample.testing_org_id, crate::seals::SealKind::Inspection).await?,
        verification: None,
    })
}

/// What a blind reviewer reads instead of who was sampled.
const HIDDEN_FOR_BLIND_REVIEW: &str = "（盲样：审核时不显示）";

/// The report as it will be printed, for the reviewer and the approver to read before they sign
/// (they sign what they have read): marked 审核稿 on every page, with no report number or
/// approver's signature yet, and, since they work blind, without the enterprise — 受检单位,
/// 标称生产者, 商标, 规格型号 and 批号 read “盲样：审核时不显示”.
pub async fn review_pdf(s: &Services, actor: &Actor, report_id: i64) -> Result<Vec<u8>> {
    let (r, sample, _) = load_report(s, actor, report_id).await?;
    require_approver(actor, &sample, "审核、批准前阅读")?;
    if !matches!(r.state, ReportState::Prepared | ReportState::Reviewed) {
        return Err(ServiceError::Rule(RuleViolation::new(
            "report_state",
            "审核稿只在报告待审核、待批准时提供；已签发的报告请下载正本",
        )));
    }
    let mut data = pdf_data(s, &r, &sample, "（签发时编号）", r.prepared_by, "", s.clock().now()).await?;
    data.approved_by = docs::Signature { signer: String::new(), image: None, signed_at: None };
    for field in [&mut data.inspected_unit, &mut data.producer, &mut data.brand, &mut data.model, &mut data.batch] {
        *field = HIDDEN_FOR_BLIND_REVIEW.to_string();
    }
    data.draft = true;
    data.seal = None;
    let renderer = s.renderer().await?;
    tokio::task::spawn_blocking(move || choucha_documents::test_report_pdf(&renderer, &data))
        .await
        .map_err(ServiceError::internal)?
        .map_err(|e| ServiceError::internal(format!("review PDF: {e}")))
}

/// The data of an issued report's PDF as its approval rendered it (benchmarks re-render it).
pub async fn issued_report_data(s: &Services, report_id: i64) -> Result<choucha_documents::TestReport> {
    let db = s.store.reader();
    let r = store::get_report(db, report_id).await.map_err(ServiceError::not_found("检验报告"))?;
    let (Some(report_no), Some(approver), Some(at)) = (r.report_no.clone(), r.approved_by, r.approved_at) else {
        return Err(ServiceError::Rule(RuleViolation::new("report_state", "该报告尚未签发")));
    };
    let sample = store::get_sample(db, r.sample_id).await?;
    pdf_data(s, &r, &sample, &report_no, approver, &r.approved_sig_b64, at).await
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct SendBackInput {
    /// What is wrong (shown to the tester who prepares it again).
    #[serde(default)]
    pub reason: String,
}

/// The reviewer (a prepared report) or the approver (a reviewed one) sends the report back with a
/// reason instead of passing it: the report is kept as returned, the sample's results reopen, and
/// a tester prepares a new version once they are complete again.
pub async fn send_back_report(s: &Services, actor: &Actor, report_id: i64, input: SendBackInput) -> Result<ReportView> {
    let (r, sample, _) = load_report(s, actor, report_id).await?;
    require_approver(actor, &sample, "退回")?;
    let reviewed = r.state == ReportState::Reviewed;
    let duty = if reviewed { LabDuty::Approve } else { LabDuty::Review };
    rules::check_report_signer(actor.user_id, r.prepared_by, r.reviewed_by.filter(|_| reviewed), duty)?;
    rules::check_not_sampler(actor.user_id, &samplers_of(s, &sample).await?, duty)?;
    let t = workflow::step(r.state, ReportAction::SendBack)?;
    let reason = input.reason.trim();
    if reason.is_empty() {
        return Err(ServiceError::invalid(RuleViolation::new("required", "请说明退回原因").on_field("reason")));
    }
    let next = workflow::step(sample.state, SampleAction::SendBack)?;
    let tx = s.write(actor).await?;
    store::set_returned(&tx, r.id, t, actor.user_id, reason).await?;
    reopen_results(&tx, &sample, next, None).await?;
    tx.commit(AuditEntry::new(
        "report.send_back",
        "lab_report",
        r.id,
        json!({"state": t.from()}),
        json!({"state": t.to(), "reason": reason}),
    ))
    .await?;
    report_view(s, &store::get_report(s.store.reader(), r.id).await?).await
}

/// The sample's results open again for entry (a send-back, a correction): no conclusion until they
/// are completed again; a correction keeps its reason for the report that will supersede.
async fn reopen_results(
    tx: &Write,
    sample: &SampleRow,
    next: Transition<SampleState>,
    correction: Option<String>,
) -> Result<()> {
    store::update_sample(
        tx,
        sample.id,
        sample.state,
        SamplePatch {
            state: Some(next),
            set: SampleChanges {
                results_completed_at: Set(None),
                qualified: Set(None),
                conclusion: Set(String::new()),
                pending_correction: correction.map_or(NotSet, Set),
                ..Default::default()
            },
            ..Default::default()
        },
    )
    .await?;
    Ok(())
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[schema(as = ReportCorrectionInput)]
pub struct CorrectionInput {
    pub reason: String,
}

/// Start a correction of an issued report (rule 15): the results reopen; the next report prepared
/// supersedes this one, which is kept.
pub async fn correct_report(s: &Services, actor: &Actor, report_id: i64, input: CorrectionInput) -> Result<ReportView> {
    let (r, sample, st) = load_report(s, actor, report_id).await?;
    st.require_or(Action::PrepareReport, "更正报告由承检机构的检验人员提出")?;
    rules::check_not_sampler(actor.user_id, &samplers_of(s, &sample).await?, LabDuty::Test)?;
    if !workflow::allows(r.state, ReportAction::Supersede) {
        return Err(ServiceError::Rule(r.state.refusal(ReportAction::Supersede)));
    }
    if input.reason.trim().is_empty() {
        return Err(ServiceError::invalid(RuleViolation::new("required", "请说明更正原因").on_field("reason")));
    }
    let next = workflow::step(sample.state, SampleAction::Correct)?;
    let tx = s.write(actor).await?;
    reopen_results(&tx, &sample, next, Some(input.reason.trim().to_string())).await?;
    tx.commit(AuditEntry::new(
        "report.correct",
        "lab_report",
        r.id,
        json!(null),
        json!({"reason": input.reason.trim()}),
    ))
    .await?;
    report_view(s, &r).await
}

/// Reports awaiting the caller (review or approval) in their institution.
pub async fn report_worklist(
    s: &Services,
    actor: &Actor,
    state: ReportState,
    before: Option<i64>,
    limit: Option<u64>,
) -> Result<Page<(String, ReportView)>> {
    let Ok(Scope::Institution(org)) = actor.scope(Action::ViewLabBoard) else {
        return Err(crate::access::refusal(Action::ViewLabBoard));
    };
    let p = store::list_reports(s.store.reader(), org, state, before, page_limit(limit)?).await?;
    let mut items = Vec::with_capacity(p.items.len());
    for r in &p.items {
        let sample = store::get_sample(s.store.reader(), r.sample_id).await?;
        items.push((sample.blind_code.unwrap_or_default(), report_view(s, r).await?));
    }
    Ok(Page { items, next: p.next })
}

/// Whether the caller signs its institution's reports in the worklist (reads the draft, reviews,
/// approves, sends back): the reviewers/approvers the table's `Approver` relation names for every
/// report of their institution. Custodians and testers follow the list without these forms.
pub fn signs_reports(actor: &Actor) -> bool {
    // Asked of the permission table as for a sample of the caller's own institution.
    actor.org_id.is_some_and(|org| {
        let own = crate::access::SampleParties { organising_org_id: 0, testing_org_id: org, screening_org_id: None };
        actor.to_sample(own).may(Action::SignReport)
    })
}

/// The stored PDF of an issued report. It names the enterprise, so only the link holders (the
/// custodian who issues it, the organising bureau, admins) may fetch it.
pub async fn report_pdf(s: &Services, actor: &Actor, report_id: i64) -> Result<(String, Vec<u8>)> {
    let (r, _, st) = load_report(s, actor, report_id).await?;
    if !st.may(Action::ReportPdf) {
        return Err(crate::lab::report_pdf_refused());
    }
    if r.pdf_path.is_empty() {
        return Err(ServiceError::NotFound("已签发的报告文件"));
    }
    let bytes = s.files().get(&r.pdf_path).await?;
    Ok((r.report_no.unwrap_or_default(), bytes))
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReportVerification {
    pub report_id: i64,
    pub report_no: Option<String>,
    /// The stored file still has the hash recorded at approval.
    pub intact: bool,
    pub recorded_sha256: String,
    pub actual_sha256: String,
}

/// Check the stored PDF against the SHA-256 recorded at approval: any alteration is detected.
pub async fn verify_report(s: &Services, actor: &Actor, report_id: i64) -> Result<ReportVerification> {
    let (r, _, _) = load_report(s, actor, report_id).await?;
    if r.pdf_path.is_empty() {
        return Err(ServiceError::NotFound("已签发的报告文件"));
    }
    let actual = match s.files().get(&r.pdf_path).await {
        Ok(bytes) => hex::encode(Sha256::digest(&bytes)),
        Err(_) => String::new(),
    };
    Ok(ReportVerification {
        report_id: r.id,
        report_no: r.report_no,
        intact: actual == r.pdf_sha256,
        recorded_sha256: r.pdf_sha256,
        actual_sha256: actual,
    })
}

/// The local file of a report's PDF (for tests and the admin's checks; local file store only).
pub async fn report_file(s: &Services, report_id: i64) -> Result<PathBuf> {
    let r = store::get_report(s.store.reader(), report_id).await?;
    s.files().local_path(&r.pdf_path).ok_or_else(|| ServiceError::internal("report file is not in a local folder"))
}

/// The blind-code labels (test and backup portions) as PDF, for the custodian to print.
pub async fn label_pdf(s: &Services, actor: &Actor, sample_id: i64) -> Result<Vec<u8>> {
    let sample = store::get_sample(s.store.reader(), sample_id).await.map_err(ServiceError::not_found("样品"))?;
    lab_relations(actor, &sample).require_or(Action::ManageSample, "盲样标签由本机构的样品管理员打印")?;
    let Some(code) = sample.blind_code.clone() else {
        return Err(ServiceError::Rule(RuleViolation::new("rule12_rejected", "拒收的样品没有盲样编号（规则12）")));
    };
    let c = ctx_of(s, &sample).await?;
    let org = organisations::get(s.store.reader(), sample.testing_org_id).await?;
    let received_on = clock::beijing_date(sample.received_at);
    let labels: Vec<choucha_documents::SampleLabel> =
        [("检验样品", &c.body.test_portion), ("备用样品", &c.body.backup_portion)]
            .into_iter()
            .map(|(what, qty)| choucha_documents::SampleLabel {
                blind_code: code.clone(),
                product: c.item.product.clone(),
                portion: format!("{what} {qty}"),
                institution: org.name.clone(),
                received_on,
            })
            .collect();
    let renderer = s.renderer().await?;
    tokio::task::spawn_blocking(move || choucha_documents::sample_label_pdf(&renderer, &labels))
        .await
        .map_err(ServiceError::internal)?
        .map_err(|e| ServiceError::internal(format!("label PDF: {e}")))
}
