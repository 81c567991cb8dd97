//! The bound volume (合订本) of a plan: all issued reports (the stored, signed PDFs) and their
//! sampling records, in report-number order, with a table of contents. A plan larger than one
//! volume is split: volume `n` holds reports `(n-1)·200 + 1 …`, so one render holds at most 400
//! PDFs in memory whatever the size of the plan. For the organising bureau.

use choucha_documents::{BoundVolume, VolumeDocument};
use choucha_store::{announcements as store, organisations};

use crate::statistics::{lines_of_reports, require_organiser};
use crate::{Actor, Result, ServiceError, Services};

/// Reports per volume (each with its sampling record).
pub const REPORTS_PER_VOLUME: usize = BoundVolume::MAX_DOCUMENTS / 2;

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
    let lines = lines_of_reports(s, plan_id, &numbers[start..end]).await?;
    let db = s.store.reader();
    let mut documents = Vec::new();
    for line in &lines {
        let report = choucha_store::lab::get_report(db, line.report_id).await?;
        if report.pdf_path.is_empty() {
            return Err(ServiceError::NotFound("已签发的报告文件"));
        }
        let pdf = s.files().get(&report.pdf_path).await?;
        let who = format!("{}，{}", line.product, line.enterprise);
        documents.push(VolumeDocument { title: format!("检验报告 {}（{who}）", line.report_no), pdf });
        let record = crate::sampling::record_pdf_unchecked(s, line.task_id).await?;
        documents.push(VolumeDocument { title: format!("抽样单（{who}）"), pdf: record });
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
