//! The re-test report: prepared, reviewed and approved by three people (rule 15), its PDF, and the
//! seal photo of the received portion.

use choucha_domain::implementation_rules::ItemJudgement;
use choucha_domain::lab::{self as lab_rules, LabDuty};
use choucha_domain::results::ObjectionAction;
use choucha_domain::retest::{self as rules, RetestAction, retest_outcome};
use choucha_domain::workflow;
use choucha_store::audit::AuditEntry;
use choucha_store::lab as store_lab;
use choucha_store::organisations;
use choucha_store::retests::{self as store, RetestApproval, RetestChange, RetestRow};
use chrono::Utc;
use serde_json::json;

use crate::access::Ask;
use crate::lab::{ReceiptPhoto, SignOffInput};
use crate::{Actor, Result, ServiceError, Services};
use choucha_domain::access::Action;

use super::{RetestLine, RetestView, conflict, first_content, get, judgement_of, load, relations};

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
    let sig = crate::lab::signature_of(s, actor, &input).await?;
    let now = s.now();
    let mut after = json!({"state": next.to().as_str()});
    let mut finish = None;
    let mut signature = None;
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
            // Issue 18: the re-test institution's SM2 key signs the PDF, as a first report's.
            let key = crate::signing::issuing_key(s, org.id)?;
            let token = crate::signing::new_token();
            let verification = choucha_documents::Verification { key_id: key.key_id(), url: s.verify_url(&token) };
            let pdf = render(s, &r, &lines, &outcome, &report_no, actor, &sig, now, verification).await?;
            let signed = crate::signing::sign(&key, &pdf, token);
            let sha = signed.sha256.clone();
            let rel = format!("reports/retest-{}-{}.pdf", r.id, uuid::Uuid::new_v4().simple());
            s.files().put_bytes(&rel, signed.bytes.clone()).await?;
            signature = Some((org.id, key, signed));
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
    if let Some((org_id, key, signed)) = &signature {
        crate::signing::record(&tx, crate::signing::RETEST_REPORT, r.id, *org_id, key, signed).await?;
        after["pdf_sm3"] = json!(signed.sm3);
        after["signing_key"] = json!(signed.key_id);
    }
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
    verification: choucha_documents::Verification,
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
    data.retest = true;
    data.seal = crate::seals::placed_seal(s, r.retest_org_id, crate::seals::SealKind::Inspection).await?;
    // The re-test tests the backup portion: its quantity, as the record gives it.
    let sample = choucha_store::lab::get_sample(s.store.reader(), r.sample_id).await?;
    data.test_portion = match crate::lab::signed_record(s, sample.task_id).await? {
        Some((f, _)) => format!("备用样品（{}{}）", f.backup_quantity, f.unit),
        None => "备用样品".into(),
    };
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
    data.verification = Some(verification);
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
    let pdf = s.files().get(&r.pdf_path).await?;
    if choucha_domain::signed_pdf::sha256_hex(&pdf) != r.pdf_sha256 {
        return Err(ServiceError::internal("stored retest report does not match its SHA-256"));
    }
    Ok((no, pdf))
}

/// A seal photo of a re-test, for the bureau and the re-test institution.
pub async fn seal_photo(s: &Services, actor: &Actor, id: i64, sha256: &str) -> Result<(ReceiptPhoto, Vec<u8>)> {
    let v = get(s, actor, id).await?;
    let p = v.seal_photos.into_iter().find(|p| p.sha256 == sha256).ok_or(ServiceError::NotFound("照片"))?;
    let bytes = crate::evidence::read_stored(s, &p.sha256).await?;
    Ok((p, bytes))
}
