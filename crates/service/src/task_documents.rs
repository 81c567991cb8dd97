//! The forms a sampling task leaves with the enterprise and the bureaus, as PDFs from the stored
//! data: notice, payment form, feedback form, refusal, problem report, sealing notice, and the
//! sampling record. Only the team, the organising bureau and the enterprise's local bureau see them.

use choucha_documents as docs;
use choucha_domain::sampling::{self as rules, BackupRequestState, TaskState};
use choucha_store::handover::{self as store};
use choucha_store::sampling::{self as store_sampling, RecordRow};
use choucha_store::{enterprises, organisations, users};
use serde::Serialize;

use crate::task_context::{Ctx, documents_ctx, in_force, rule};
use crate::{Actor, Result, ServiceError, Services};

/// The team as the forms print it, with their signatures on `record` when given.
async fn samplers(
    s: &Services,
    c: &Ctx,
    record: Option<&RecordRow>,
) -> Result<(Vec<docs::Sampler>, Vec<docs::Signature>)> {
    let db = s.store.reader();
    let sigs = match record {
        Some(r) => store_sampling::signatures_of(db, r.id).await?,
        None => Vec::new(),
    };
    let mut people = Vec::new();
    let mut signatures = Vec::new();
    for u in &c.team {
        let user = users::get(db, *u).await?;
        let sig = sigs.iter().find(|g| g.signer == format!("sampler:{u}"));
        signatures.push(docs::Signature {
            signer: user.display_name.clone(),
            image: sig.and_then(|g| png_of(&g.image_b64)),
            signed_at: sig.map(|g| rules::utc_to_local(g.signed_at)),
        });
        let id_number = crate::personal::open(s, &user.id_card_no)?;
        people.push(docs::Sampler { name: user.display_name, id_number });
    }
    Ok((people, signatures))
}

/// The task's photos and videos as a form lists them: category, file name, Beijing time, SHA-256.
async fn evidence_lines(s: &Services, task_id: i64) -> Result<Vec<String>> {
    Ok(choucha_store::evidence::of_task(s.store.reader(), task_id)
        .await?
        .into_iter()
        .map(|e| {
            let label =
                e.category.parse::<choucha_domain::sampling::EvidenceCategory>().map(|c| c.label()).unwrap_or("其他");
            format!(
                "{label}：{}（{}）SHA-256 {}",
                e.file_name,
                choucha_domain::clock::beijing_minutes(e.uploaded_at),
                e.sha256
            )
        })
        .collect())
}

fn png_of(b64: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    (!b64.trim().is_empty()).then(|| base64::engine::general_purpose::STANDARD.decode(b64.trim()).ok()).flatten()
}

fn blank_signature() -> docs::Signature {
    docs::Signature { signer: String::new(), image: None, signed_at: None }
}

async fn institution(s: &Services, c: &Ctx) -> Result<String> {
    Ok(match c.item.sampling_org_id {
        Some(o) => organisations::get(s.store.reader(), o).await?.name,
        None => String::new(),
    })
}

async fn enterprise_doc(s: &Services, c: &Ctx) -> Result<docs::Enterprise> {
    let e = enterprises::get(s.store.reader(), c.task.enterprise_id).await?;
    // The contact asked on site, from the newest version of the record, where there is one.
    let fields: Option<choucha_domain::sampling::RecordFields> =
        store_sampling::records_of_task(s.store.reader(), c.task.id)
            .await?
            .first()
            .and_then(|r| serde_json::from_str(&r.fields_json).ok());
    let (contact, phone) = fields.map(|f| (f.contact_name, f.contact_phone)).unwrap_or_default();
    Ok(docs::Enterprise {
        name: e.name,
        uscc: e.uscc,
        address: e.address,
        licence_no: e.licence_no.unwrap_or_default(),
        contact,
        phone,
    })
}

async fn render<T: Send + 'static>(
    s: &Services,
    data: T,
    f: fn(&docs::Renderer, &T) -> std::result::Result<Vec<u8>, docs::DocumentError>,
) -> Result<Vec<u8>> {
    let renderer = s.renderer().await?;
    tokio::task::spawn_blocking(move || f(&renderer, &data))
        .await
        .map_err(ServiceError::internal)?
        .map_err(|e| ServiceError::internal(format!("PDF: {e}")))
}

fn started(c: &Ctx) -> bool {
    c.task.state != TaskState::Assigned
}

/// The spot-check notice (抽查通知书), once the task is started.
pub async fn notice_pdf(s: &Services, actor: &Actor, task_id: i64) -> Result<Vec<u8>> {
    let c = documents_ctx(s, actor, task_id).await?;
    if !started(&c) {
        return Err(rule("task_state", "开始抽样后才能生成抽查通知书"));
    }
    let db = s.store.reader();
    let organiser = organisations::get(db, c.plan.organising_org_id).await?;
    let ent = enterprises::get(db, c.task.enterprise_id).await?;
    let arrival = store::arrival_of(db, task_id).await?;
    let (people, _) = samplers(s, &c, None).await?;
    let notice = docs::SpotCheckNotice {
        notice_no: format!("TZ-{}-{:06}", c.plan.year, task_id),
        organising_bureau: organiser.name.clone(),
        enterprise_name: ent.name,
        enterprise_address: ent.address,
        plan_title: c.plan.title.clone(),
        product_name: c.item.product.clone(),
        sampling_institution: institution(s, &c).await?,
        samplers: people,
        contact: c.plan.contact_name.clone(),
        phone: if c.plan.contact_phone.is_empty() { organiser.phone.clone() } else { c.plan.contact_phone.clone() },
        date: arrival.map(|a| rules::utc_to_local(a.arrived_at).date()).unwrap_or_else(|| s.today()),
    };
    render(s, notice, docs::spot_check_notice_pdf).await
}

/// The sample payment form (样品付费单) for the test portion: quantity × unit price, marked or
/// market price; paid from public funds, never charged to the enterprise (rules 8 and 21).
pub async fn payment_form_pdf(s: &Services, actor: &Actor, task_id: i64) -> Result<Vec<u8>> {
    let c = documents_ctx(s, actor, task_id).await?;
    let (r, f) = in_force(s, task_id).await?.ok_or_else(|| rule("no_record", "填写抽样单后才能生成样品付费单"))?;
    let organiser = organisations::get(s.store.reader(), c.plan.organising_org_id).await?;
    let (_, signatures) = samplers(s, &c, Some(&r)).await?;
    let payee = store_sampling::signatures_of(s.store.reader(), r.id)
        .await?
        .into_iter()
        .find(|g| g.signer == "enterprise" && !g.refused)
        .map(|g| docs::Signature {
            signer: g.signer_name.clone(),
            image: png_of(&g.image_b64),
            signed_at: Some(rules::utc_to_local(g.signed_at)),
        });
    let form = docs::SamplePaymentForm {
        record_no: c.record_no(r.version),
        enterprise_name: enterprises::get(s.store.reader(), c.task.enterprise_id).await?.name,
        product_name: f.product_name.clone(),
        model: f.model.clone(),
        quantity: format!("{}", f.test_quantity),
        unit: f.unit.clone(),
        unit_price: docs::Amount::from_fen((f.unit_price * 100.0).round().max(0.0) as u64),
        price_basis: match f.price_basis {
            rules::PriceBasis::Marked => docs::PriceBasis::MarkedPrice,
            rules::PriceBasis::Market => docs::PriceBasis::MarketPrice,
        },
        total: docs::Amount::from_fen(f.total_paid_fen().max(0) as u64),
        payer_institution: format!("{}（抽查经费，由{}经办）", organiser.name, institution(s, &c).await?),
        date: rules::parse_local_time(&f.sampled_at).map(|t| t.date()).unwrap_or_else(|| s.today()),
        payer_signatures: signatures,
        payee_signature: payee,
    };
    render(s, form, docs::sample_payment_form_pdf).await
}

/// The conduct feedback form (工作质量及工作纪律反馈单), blank, left with the enterprise.
pub async fn feedback_form_pdf(s: &Services, actor: &Actor, task_id: i64) -> Result<Vec<u8>> {
    let c = documents_ctx(s, actor, task_id).await?;
    if !started(&c) {
        return Err(rule("task_state", "开始抽样后才能生成反馈单"));
    }
    let record = in_force(s, task_id).await?;
    let (people, _) = samplers(s, &c, None).await?;
    let organiser = organisations::get(s.store.reader(), c.plan.organising_org_id).await?;
    let form = docs::ConductFeedbackForm {
        record_no: record.as_ref().map(|(r, _)| c.record_no(r.version)).unwrap_or_default(),
        enterprise_name: enterprises::get(s.store.reader(), c.task.enterprise_id).await?.name,
        product_name: c.item.product.clone(),
        sampling_institution: institution(s, &c).await?,
        sampler_names: people.into_iter().map(|p| p.name).collect(),
        sampled_on: record
            .as_ref()
            .and_then(|(_, f)| rules::parse_local_time(&f.sampled_at))
            .map(|t| t.date())
            .unwrap_or_else(|| s.today()),
        answers: docs::ConductAnswers::default(),
        satisfaction: None,
        comments: String::new(),
        complaint_phone: if c.plan.contact_phone.is_empty() {
            organiser.phone.clone()
        } else {
            c.plan.contact_phone.clone()
        },
        feedback_to: organiser.name,
        enterprise_signature: None,
        date: None,
    };
    render(s, form, docs::conduct_feedback_form_pdf).await
}

async fn outcome(s: &Services, task_id: i64, kind: &str) -> Result<Option<store_sampling::OutcomeRow>> {
    Ok(store_sampling::outcomes_of(s.store.reader(), task_id).await?.into_iter().rev().find(|o| o.kind == kind))
}

async fn local_bureau_name(s: &Services, c: &Ctx) -> Result<String> {
    let db = s.store.reader();
    let ent = enterprises::get(db, c.task.enterprise_id).await?;
    Ok(match store_sampling::local_bureau_of(db, &ent.division_code).await? {
        Some(o) => organisations::get(db, o).await?.name,
        None => String::new(),
    })
}

/// The refusal determination (拒检认定表), after a refusal; with the county bureau's co-signature
/// once given (rule 11).
pub async fn refusal_pdf(s: &Services, actor: &Actor, task_id: i64) -> Result<Vec<u8>> {
    let c = documents_ctx(s, actor, task_id).await?;
    let o = outcome(s, task_id, "refusal").await?.ok_or_else(|| rule("no_refusal", "该任务没有拒检记录"))?;
    let details: serde_json::Value = serde_json::from_str(&o.details_json).unwrap_or_default();
    let (people, signatures) = samplers(s, &c, None).await?;
    let enterprise = enterprise_doc(s, &c).await?;
    let cosigner = match o.cosigned_by {
        Some(u) => vec![docs::Signature {
            signer: users::get(s.store.reader(), u).await?.display_name,
            image: None,
            signed_at: o.cosigned_at.map(rules::utc_to_local),
        }],
        None => Vec::new(),
    };
    let form = docs::RefusalDetermination {
        plan: c.plan.title.clone(),
        place: enterprise.address.clone(),
        enterprise,
        product_name: c.item.product.clone(),
        sampling_institution: institution(s, &c).await?,
        samplers: people,
        occurred_at: rules::utc_to_local(o.created_at),
        circumstances: details["facts"].as_str().unwrap_or_default().to_string(),
        reasons: details["reasons"].as_str().unwrap_or_default().to_string(),
        witness: details["witness_name"].as_str().unwrap_or_default().to_string(),
        evidence: evidence_lines(s, task_id).await?,
        sampler_signatures: signatures,
        enterprise_signature: docs::EnterpriseSignature::Signed(blank_signature()),
        local_bureau: local_bureau_name(s, &c).await?,
        local_bureau_opinion: o.cosign_opinion.clone(),
        local_bureau_signatures: cosigner,
        date: o
            .cosigned_at
            .map(|t| rules::utc_to_local(t).date())
            .unwrap_or_else(|| rules::utc_to_local(o.created_at).date()),
    };
    render(s, form, docs::refusal_determination_pdf).await
}

/// The problem report (问题报送单), after sampling stopped on a violation (rule 10).
pub async fn problem_report_pdf(s: &Services, actor: &Actor, task_id: i64) -> Result<Vec<u8>> {
    let c = documents_ctx(s, actor, task_id).await?;
    let o = outcome(s, task_id, "problem").await?.ok_or_else(|| rule("no_problem", "该任务没有问题报送记录"))?;
    let details: serde_json::Value = serde_json::from_str(&o.details_json).unwrap_or_default();
    let (people, signatures) = samplers(s, &c, None).await?;
    let organiser = organisations::get(s.store.reader(), c.plan.organising_org_id).await?;
    let evidence = choucha_store::evidence::of_task(s.store.reader(), task_id).await?.len();
    let form = docs::ProblemReport {
        report_no: format!("WT-{}-{:06}", c.plan.year, task_id),
        plan: c.plan.title.clone(),
        enterprise: enterprise_doc(s, &c).await?,
        product_name: c.item.product.clone(),
        suspected_violations: vec![details["violation"].as_str().unwrap_or_default().to_string()],
        facts: details["facts"].as_str().unwrap_or_default().to_string(),
        evidence: if evidence > 0 {
            format!("现场照片/视频{evidence}份（系统留存，附哈希值）")
        } else {
            String::new()
        },
        sampling_stopped: true,
        found_at: rules::utc_to_local(o.created_at),
        organising_bureau: organiser.name,
        local_bureau: local_bureau_name(s, &c).await?,
        sampling_institution: institution(s, &c).await?,
        samplers: people,
        sampler_signatures: signatures,
        date: rules::utc_to_local(o.created_at).date(),
    };
    render(s, form, docs::problem_report_pdf).await
}

/// The backup sealing notice (封存和处置告知单), once the organising bureau approved keeping the
/// backup at the enterprise (rule 9).
pub async fn sealing_notice_pdf(s: &Services, actor: &Actor, task_id: i64) -> Result<Vec<u8>> {
    let c = documents_ctx(s, actor, task_id).await?;
    let db = s.store.reader();
    let Some(req) =
        store::backup_requests_of(db, task_id).await?.into_iter().find(|r| r.state == BackupRequestState::Approved)
    else {
        return Err(rule(
            "rule9_not_approved",
            "备用样品在被抽样单位封存尚未经组织监督抽查的部门批准，批准后才能生成封存和处置告知单（规则9）",
        ));
    };
    let (r, f) = in_force(s, task_id).await?.ok_or(ServiceError::NotFound("抽样单"))?;
    let (_, signatures) = samplers(s, &c, Some(&r)).await?;
    let ent = enterprises::get(db, c.task.enterprise_id).await?;
    let organiser = organisations::get(db, c.plan.organising_org_id).await?;
    let notice = docs::BackupSealingNotice {
        notice_no: format!("FC-{}-{:06}", c.plan.year, task_id),
        record_no: c.record_no(r.version),
        enterprise_name: ent.name,
        enterprise_address: ent.address,
        product_name: f.product_name.clone(),
        model: f.model.clone(),
        batch: f.batch.clone(),
        backup_portion_qty: format!("{}{}", f.backup_quantity, f.unit),
        reason: req.reason.clone(),
        approving_bureau: organiser.name,
        approval_ref: format!("备用样品封存审批第{}号", req.id),
        seal_numbers: f.backup_seals.clone(),
        storage_place: [req.storage_place.clone(), req.storage_conditions.clone()]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("；"),
        sealed_at: rules::parse_local_time(&f.sampled_at).unwrap_or_else(|| rules::utc_to_local(r.created_at)),
        sampling_institution: institution(s, &c).await?,
        phone: match c.item.sampling_org_id {
            Some(o) => organisations::get(db, o).await?.phone,
            None => String::new(),
        },
        date: req.decided_at.map(|t| rules::utc_to_local(t).date()).unwrap_or_else(|| s.today()),
        sampler_signatures: signatures,
        enterprise_signature: docs::EnterpriseSignature::Signed(blank_signature()),
    };
    render(s, notice, docs::backup_sealing_notice_pdf).await
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DocumentEntry {
    /// notice | record | payment_form | feedback_form | sealing_notice | refusal | problem_report
    pub kind: String,
    pub name: String,
    pub url: String,
    /// Left with the enterprise (notice, sampling record, conduct feedback form).
    pub left_with_enterprise: bool,
}

/// Which forms exist for a task, with where to fetch each.
pub async fn documents(s: &Services, actor: &Actor, task_id: i64) -> Result<Vec<DocumentEntry>> {
    let c = documents_ctx(s, actor, task_id).await?;
    let has_record = in_force(s, task_id).await?.is_some();
    let approved = store::backup_requests_of(s.store.reader(), task_id)
        .await?
        .iter()
        .any(|r| r.state == BackupRequestState::Approved);
    let refusal = outcome(s, task_id, "refusal").await?.is_some();
    let problem = outcome(s, task_id, "problem").await?.is_some();
    let mut out = Vec::new();
    let mut add = |kind: &str, name: &str, file: &str, left: bool| {
        out.push(DocumentEntry {
            kind: kind.into(),
            name: name.into(),
            url: format!("/api/v1/tasks/{task_id}/{file}"),
            left_with_enterprise: left,
        })
    };
    if started(&c) {
        add("notice", "产品质量监督抽查通知书", "notice.pdf", true);
    }
    if has_record {
        add("record", "产品质量监督抽查抽样单", "record.pdf", true);
        add("payment_form", "样品付费单", "payment-form.pdf", false);
    }
    if started(&c) {
        add("feedback_form", "工作质量及工作纪律反馈单", "feedback-form.pdf", true);
    }
    if approved {
        add("sealing_notice", "样品封存和处置告知单", "sealing-notice.pdf", true);
    }
    if refusal {
        add("refusal", "拒检认定表", "refusal.pdf", false);
    }
    if problem {
        add("problem_report", "问题报送单", "problem-report.pdf", false);
    }
    Ok(out)
}

/// A task document by its kind (see [`documents`]), as PDF bytes and a file name.
pub async fn document_pdf(s: &Services, actor: &Actor, task_id: i64, kind: &str) -> Result<(Vec<u8>, String)> {
    let bytes = match kind {
        "notice" => notice_pdf(s, actor, task_id).await?,
        "record" => crate::sampling::record_pdf(s, actor, task_id).await?,
        "payment_form" => payment_form_pdf(s, actor, task_id).await?,
        "feedback_form" => feedback_form_pdf(s, actor, task_id).await?,
        "sealing_notice" => sealing_notice_pdf(s, actor, task_id).await?,
        "refusal" => refusal_pdf(s, actor, task_id).await?,
        "problem_report" => problem_report_pdf(s, actor, task_id).await?,
        _ => return Err(ServiceError::NotFound("文书")),
    };
    Ok((bytes, format!("{}-{task_id}.pdf", kind.replace('_', "-"))))
}
