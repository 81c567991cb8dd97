//! Import of the enterprise registry (检查对象名录库) from XLSX and CSV, the file layout it shares
//! with the export and the downloadable template, and the in-memory list of running imports that
//! the pages poll for progress.
//!
//! An import is all or nothing: the whole file is validated first (every row, every column: the
//! domain's rules, USCCs repeated inside the file, USCCs already in the registry, the actor's area)
//! and any problem refuses the file with every bad row reported and nothing written. A good file
//! is written in one transaction with one summary audit record, not one record per enterprise.

use choucha_domain::RuleViolation;
use choucha_domain::access::Action;
use choucha_store::enterprises::{self as store_ent, EnterpriseCursor};
use serde::{Deserialize, Serialize};

use crate::registry::RegistryQuery;
use crate::{Actor, Result, ServiceError, Services};

mod import;
mod jobs;
mod layout;

pub use import::import;
pub use jobs::{ImportJobState, ImportJobView, ImportJobs};
pub(crate) use layout::export_rows;
pub use layout::{COLUMNS, ColumnSpec, Field, detect_format, headers, row_cells, template_xlsx};

/// At most this many row errors are listed in a report; `error_count` has the total.
pub const MAX_LISTED_ERRORS: usize = 1000;

/// Rows between two progress reports.
const PROGRESS_EVERY: usize = 1000;

pub use choucha_domain::enterprise::OnExisting;

/// How to import a file.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// The uploaded file's name (its extension selects XLSX or CSV; recorded in the audit).
    pub file_name: String,
    /// Validate only; write nothing.
    pub dry_run: bool,
    pub on_existing: OnExisting,
}

/// One problem of an import file, where the user sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RowError {
    /// The spreadsheet's row number (the header is row 1 in a plain sheet).
    pub row: u32,
    /// The column's header as written in the file (or the expected header when it is missing).
    pub column: String,
    /// The cell's value.
    pub value: String,
    /// Why the row is refused (Chinese).
    pub message: String,
}

/// The outcome of an import or a dry run.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub file_name: String,
    /// SHA-256 of the uploaded file (hex).
    pub sha256: String,
    /// Data rows in the file (blank rows not counted).
    pub total_rows: usize,
    /// Every problem found; when non-zero, nothing was written.
    pub error_count: usize,
    /// The first `MAX_LISTED_ERRORS` problems, by row.
    pub errors: Vec<RowError>,
    pub dry_run: bool,
    pub on_existing: OnExisting,
    /// New entries (in a dry run: that would be added).
    pub inserted: usize,
    /// Existing entries replaced (in a dry run: that would be).
    pub updated: usize,
    /// Rows left out because their USCC is already in the registry (`on_existing = skip`).
    pub skipped: usize,
    /// Rows written: `inserted + updated`, or 0 for a dry run or a refused file.
    pub imported: usize,
}

impl ImportReport {
    /// Whether the file was refused for bad rows.
    pub fn is_refused(&self) -> bool {
        self.error_count > 0
    }

    /// Whether more errors exist than are listed.
    pub fn errors_truncated(&self) -> bool {
        self.error_count > self.errors.len()
    }
}

/// The stage an import is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImportPhase {
    Reading,
    Checking,
    Validating,
    Writing,
}

impl ImportPhase {
    pub fn label(self) -> &'static str {
        match self {
            ImportPhase::Reading => "读取文件",
            ImportPhase::Checking => "核对名录库中已有企业",
            ImportPhase::Validating => "逐行校验",
            ImportPhase::Writing => "写入名录库",
        }
    }
}

/// Where an import is: `done` of `total` rows in `phase`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ImportProgress {
    pub phase: ImportPhase,
    pub done: usize,
    pub total: usize,
}

impl ImportProgress {
    pub fn percent(&self) -> usize {
        self.done.saturating_mul(100).checked_div(self.total).unwrap_or(0)
    }
}

// ---------------------------------------------------------------------------------------------
// Export: the same layout the import reads

/// Excel's last row is 1,048,576; one is the header.
pub const EXPORT_MAX_ROWS: u64 = 1_048_575;

/// Rows fetched per keyset page while exporting.
const EXPORT_PAGE: u64 = 2000;

/// The current search (same filters, same area) as an XLSX file in the import layout, so an
/// exported file can be edited and imported back. Rows stream from keyset pages into the writer,
/// which runs off the async runtime. More than `max_rows` matches is refused with a message.
#[tracing::instrument(skip_all)]
pub async fn export_xlsx(s: &Services, actor: &Actor, q: &RegistryQuery, max_rows: u64) -> Result<Vec<u8>> {
    actor.require(Action::ViewRegistry)?;
    let f = crate::registry::filter_for(actor, q)?;
    let reader = s.store.reader();
    let n = store_ent::count_up_to(reader, &f, max_rows + 1).await?;
    if n > max_rows {
        return Err(ServiceError::invalid(RuleViolation::new(
            "export_too_large",
            format!(
                "符合条件的企业超过{max_rows}家（Excel 单个工作表的上限），请按行政区划、类型或状态缩小范围后分批导出"
            ),
        )));
    }
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<Vec<choucha_documents::CellValue>>>(4);
    let writer = tokio::task::spawn_blocking(move || {
        let headers = headers();
        let rows = std::iter::from_fn(move || rx.blocking_recv()).flatten();
        choucha_documents::write_table("企业名录", None, &headers, rows)
    });
    let mut cursor: Option<EnterpriseCursor> = None;
    loop {
        let page = store_ent::search(reader, &f, cursor.as_ref(), EXPORT_PAGE).await?;
        let next = page.next.as_deref().and_then(EnterpriseCursor::decode);
        if tx.send(export_rows(page.items)).await.is_err() {
            // The writer stopped early; its error is reported below.
            break;
        }
        match next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    drop(tx);
    writer.await.map_err(ServiceError::internal)?.map_err(|e| ServiceError::internal(format!("registry export: {e}")))
}
