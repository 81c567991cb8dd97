//! Issuing a test report (rule 15's third signature) and everything it sets off, in one place and
//! one transaction: the report's number, frozen content and PDF; the superseded version; the
//! deliveries the result requires (rule 17); the producer's sample confirmation (rule 23); the
//! sample's disposals (rule 19); the SM2 signature of the PDF (issue 18); and the post-processing case of an unqualified result, or the
//! closing of one a corrected qualified report ends (rule 20).

use choucha_documents::Verification;
use choucha_domain::lab::{self as rules, LabDuty, ReportAction, SampleAction};
use choucha_domain::workflow;
use choucha_store::audit::AuditEntry;
use choucha_store::lab::{self as store, SamplePatch};
use choucha_store::organisations;
use serde_json::json;

use crate::lab::{self, ReportContent, ReportView, SignOffInput};
use crate::{Actor, Result, ServiceError, Services, cases, confirmations, disposal, results, signing};

/// A third person approves and signs: the report gets its number, is frozen, and its PDF (with the
/// three signatures) is stored with its SHA-256.
pub async fn approve_report(s: &Services, actor: &Actor, report_id: i64, sign: SignOffInput) -> Result<ReportView> {
    let (r, sample, _) = lab::load_report(s, actor, report_id).await?;
    lab::require_approver(actor, &sample, "批准")?;
    rules::check_report_signer(actor.user_id, r.prepared_by, r.reviewed_by, LabDuty::Approve)?;
    rules::check_not_sampler(actor.user_id, &lab::samplers_of(s, &sample).await?, LabDuty::Approve)?;
    let t = workflow::step(r.state, ReportAction::Approve)?;
    let sig = lab::signature_of(s, actor, &sign).await?;
    let org = organisations::get(s.store.reader(), sample.testing_org_id).await?;
    let year = s.today().format("%Y").to_string();
    let report_no = format!("{}-{year}-{:06}", org.code.to_uppercase(), r.id);
    let mut data = lab::pdf_data(s, &r, &sample, &report_no, actor.user_id, &sig, s.now()).await?;
    // Issue 18: the institution's SM2 key signs the PDF; the printed block names the key and the
    // public verification page (an unguessable token, not the report number).
    let key = signing::issuing_key(s, org.id)?;
    let token = signing::new_token();
    data.verification = Some(Verification { key_id: key.key_id(), url: s.verify_url(&token) });
    let renderer = s.renderer().await?;
    let body = tokio::task::spawn_blocking(move || choucha_documents::test_report_pdf(&renderer, &data))
        .await
        .map_err(ServiceError::internal)?
        .map_err(|e| ServiceError::internal(format!("test report PDF: {e}")))?;
    let signed = signing::sign(&key, &body, token);
    let sha = signed.sha256.clone();
    // A fresh name per issue: a stored report is never overwritten.
    let rel = format!("reports/{}-v{}-{}.pdf", r.sample_id, r.version, uuid::Uuid::new_v4().simple());
    s.files().put_bytes(&rel, signed.bytes.clone()).await?;
    let mut content: serde_json::Value = serde_json::from_str(&r.content_json).map_err(ServiceError::internal)?;
    content["report_no"] = json!(report_no);
    let next_sample = workflow::step(sample.state, SampleAction::Report)?;
    let tx = s.write(actor).await?;
    store::set_approved(
        &tx,
        r.id,
        t,
        store::Approval {
            by: actor.user_id,
            report_no: &report_no,
            content_json: content.to_string(),
            pdf_path: &rel,
            pdf_sha256: &sha,
            sig_b64: &sig,
        },
    )
    .await?;
    signing::record(&tx, signing::REPORT, r.id, org.id, &key, &signed).await?;
    if let Some(old) = r.supersedes_id {
        let old_state = store::get_report(tx.conn(), old).await?.state;
        store::set_superseded(&tx, old, workflow::step(old_state, ReportAction::Supersede)?).await?;
    }
    // Rule 17: the deliveries this report requires are opened with its issue.
    let issued: ReportContent = serde_json::from_str(&r.content_json).map_err(ServiceError::internal)?;
    results::open_deliveries(s, &tx, &r, &sample, issued.qualified, s.today()).await?;
    // Rule 23: a sample taken from a seller is confirmed by its nominal producer.
    confirmations::open_for_report(s, &tx, &r, &sample, s.today()).await?;
    store::update_sample(&tx, sample.id, sample.state, SamplePatch { state: Some(next_sample), ..Default::default() })
        .await?;
    // Rules 19 and 20: the sample's disposals, and the post-processing case of an unqualified result.
    disposal::open_for_report(s, &tx, &r, &sample, issued.qualified).await?;
    if let Some(f) = cases::follow_up_of_task(s, sample.task_id).await? {
        // A 复查 sample's result completes its case's 复查 step; it opens no case of its own.
        cases::complete_follow_up(s, &tx, actor, &f, issued.qualified, &report_no).await?;
    } else if !issued.qualified {
        cases::open_for_unqualified(s, &tx, actor, &r, &sample, &report_no).await?;
    } else if r.supersedes_id.is_some() {
        cases::close_on_corrected_qualified(s, &tx, sample.id, actor).await?;
    }
    tx.commit(AuditEntry::new(
        "report.approve",
        "lab_report",
        r.id,
        json!({"state": t.from()}),
        json!({"state": t.to(), "report_no": report_no, "pdf_sha256": sha, "pdf_sm3": signed.sm3, "signing_key": signed.key_id, "supersedes": r.supersedes_id}),
    ))
    .await?;
    lab::report_view(s, &store::get_report(s.store.reader(), r.id).await?).await
}
