//! The bound volume (合订本) of a plan: all issued reports (the stored, signed PDFs), each followed
//! by its issued re-test reports and its sampling record with the sample's evidence list (files and
//! SHA-256), in report-number order, with a table of contents whose page numbers are the ones
//! printed on the volume's pages. A plan larger than one volume is split: volume `n` holds reports
//! `(n-1)·133 + 1 …`, so one render holds at most 400 PDFs in memory whatever the size of the plan.
//! For the organising bureau.

use choucha_documents::{BoundVolume, EvidenceEntry, EvidenceSheet, VolumeDocument};
use choucha_domain::clock::beijing_minutes;
use choucha_domain::sampling::EvidenceCategory;
use choucha_store::{announcements as store, evidence, organisations, retests};

use crate::statistics::{lines_of_reports, require_organiser};
use crate::{Actor, Result, ServiceError, Services};

/// Reports per volume (each with its re-test report, if any, and its sampling record).
pub const REPORTS_PER_VOLUME: usize = BoundVolume::MAX_DOCUMENTS / 3;

fn category_label(c: &str) -> String {
    c.parse::<EvidenceCategory>().map(|c| c.label().to_string()).unwrap_or_else(|_| "其他".into())
}

/// The sample's evidence list: every photo and video with its hash, and the recorded reasons.
async fn evidence_sheet(s: &Services, task_id: i64) -> Result<EvidenceSheet> {
    let db = s.store.reader();
    let mut items = Vec::new();
    for e in evidence::of_task(db, task_id).await? {
        items.push(EvidenceEntry {
            category: category_label(&e.category),
            file_name: e.file_name,
            uploaded_at: beijing_minutes(e.uploaded_at),
            uploaded_by: crate::lab::user_name(s, e.uploaded_by).await,
            sha256: e.sha256,
        });
    }
    let reasons = evidence::waivers_of(db, task_id)
        .await?
        .into_iter()
        .map(|w| format!("{}：{}", category_label(&w.category), w.reason))
        .collect();
    Ok(EvidenceSheet { items, reasons })
}

/// How many volumes the plan's bound volume has (at least one).
pub async fn volume_count(s: &Services, actor: &Actor, plan_id: i64) -> Result<usize> {
    require_organiser(s, actor, plan_id).await?;
    let n = store::issued_report_numbers(s.store.reader(), plan_id).await?.len();
    Ok(n.div_ceil(REPORTS_PER_VOLUME).max(1))
}

/// Volume `volume` (1-based) of the plan's bound volume, as PDF.
pub async fn bound_volume_pdf(s: &Services, actor: &Actor, plan_id: i64, volume: usize) -> Result<Vec<u8>> {
    let plan = require_organiser(s, actor, plan_id).await?;
    let numbers = store::issued_report_numbers(s.store.reader(), plan_id).await?;
    if numbers.is_empty() {
        return Err(ServiceError::Rule(choucha_domain::RuleViolation::new(
            "bound_volume_empty",
            "该计划尚无已签发的检验报告，不能生成合订本",
        )));
    }
    let count = numbers.len().div_ceil(REPORTS_PER_VOLUME);
    if volume == 0 || volume > count {
        return Err(ServiceError::NotFound("合订本分册"));
    }
    // Only this volume's rows are built.
    let start = (volume - 1) * REPORTS_PER_VOLUME;
    let end = (start + REPORTS_PER_VOLUME).min(numbers.len());
    let lines = lines_of_reports(s.store.reader(), plan_id, &numbers[start..end]).await?;
    let db = s.store.reader();
    let mut documents = Vec::new();
    for line in &lines {
        let report = choucha_store::lab::get_report(db, line.report_id).await?;
        if report.pdf_path.is_empty() {
            return Err(ServiceError::NotFound("已签发的报告文件"));
        }
        let pdf = s.files().get(&report.pdf_path).await?;
        let who = format!("{}，{}", line.product, line.enterprise);
        documents
            .push(VolumeDocument { title: format!("检验报告 {}（{who}）", line.report_no), pdf, evidence: None });
        for r in retests::retests_of_sample(db, report.sample_id).await? {
            let (Some(no), false) = (r.report_no, r.pdf_path.is_empty()) else { continue };
            let pdf = s.files().get(&r.pdf_path).await?;
            documents.push(VolumeDocument { title: format!("复检报告 {no}（{who}）"), pdf, evidence: None });
        }
        let record = crate::sampling::record_pdf_unchecked(s, line.task_id).await?;
        documents.push(VolumeDocument {
            title: format!("抽样单及抽样证据清单（{who}）"),
            pdf: record,
            evidence: Some(evidence_sheet(s, line.task_id).await?),
        });
    }
    let meta = BoundVolume {
        title: format!("{}检验报告及抽样单合订本", plan.title),
        organising_bureau: organisations::get(db, plan.organising_org_id).await?.name,
        date: s.today(),
        volume,
        volume_count: count,
    };
    let renderer = s.renderer().await?;
    tokio::task::spawn_blocking(move || choucha_documents::bound_volume_pdf(&renderer, &meta, documents))
        .await
        .map_err(ServiceError::internal)?
        .map_err(|e| ServiceError::internal(format!("bound volume PDF: {e}")))
}
