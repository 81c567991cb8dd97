//! Choucha's documents: the official forms as PDF (typst, Chinese fonts from the machine) and
//! tables in and out as XLSX/CSV.
//!
//! Everything here is synchronous and CPU- or disk-bound; callers on an async runtime run it in
//! `spawn_blocking` or a bounded pool.
//!
//! - [`Fonts`] finds fonts once at start-up; [`Renderer`] (cheap to clone, `Send + Sync`) renders a
//!   [`Template`] with JSON data to PDF bytes. Data reaches the template as a virtual JSON file,
//!   never as markup, so user text cannot inject typst code.
//! - [`improvement_letter_pdf`] renders the 产品质量改进建议书 from a typed [`ImprovementLetter`].
//! - The forms of on-site sampling, each a typed struct rendered by its own function:
//!   [`spot_check_notice_pdf`] (抽查通知书), [`sampling_record_pdf`] (抽样单, with optional PNG
//!   signatures), [`sample_payment_form_pdf`] (样品付费单, with the total in capital numerals, see
//!   [`Amount`]), [`backup_sealing_notice_pdf`] (封存和处置告知单), [`refusal_determination_pdf`]
//!   (拒检认定表), [`problem_report_pdf`] (问题报送单) and [`conduct_feedback_form_pdf`]
//!   (工作质量及工作纪律反馈单).
//! - [`read_table`] reads the first sheet of an upload into a [`Table`] of trimmed strings with the
//!   spreadsheet's own row numbers; [`write_table`] writes rows of [`CellValue`]s to an XLSX file
//!   with text kept as text, numbers, amounts and dates typed, set up to print on A4;
//!   [`write_workbook`] writes several [`Sheet`]s the same way.
//!
//! ```no_run
//! # fn main() -> Result<(), choucha_documents::DocumentError> {
//! use choucha_documents::{Renderer, improvement_letter_pdf};
//! # let letter: choucha_documents::ImprovementLetter = todo!();
//! let renderer = Renderer::load(&["/etc/choucha/fonts".into()])?;
//! let pdf: Vec<u8> = improvement_letter_pdf(&renderer, &letter)?;
//! # Ok(()) }
//! ```

mod amount;
mod analysis;
mod annex1;
mod announcement;
mod bound_volume;
mod case_order;
mod error;
mod fonts;
mod improvement_letter;
mod label;
mod pdf;
mod report;
mod result_notice;
mod sampling;
mod summary_table;
mod xlsx;

pub use amount::Amount;
pub use analysis::quality_analysis_pdf;
pub use annex1::{Annex1, Annex1Error, Annex1Row, read_annex1, write_annex1};
pub use announcement::{
    AnnouncementCorrection, AnnouncementDocument, AnnouncementRefusal, AnnouncementRow, AnnouncementTotals,
    AnnouncementWithdrawal, announcement_pdf,
};
pub use bound_volume::{BoundVolume, EvidenceEntry, EvidenceSheet, VolumeDocument, bound_volume_pdf, pdf_page_count};
pub use case_order::{CaseOrder, CaseOrderKind, case_order_pdf};
pub use error::DocumentError;
pub use fonts::{Fonts, SYSTEM_FONT_DIRS};
pub use improvement_letter::{ImprovementLetter, improvement_letter_pdf};
pub use label::{SampleLabel, qr_matrix, sample_label_pdf};
pub use pdf::{DOCUMENT_SLOTS, Renderer, Template};
pub use report::{ReportLine, TestReport, Verification, test_report_pdf};
pub use result_notice::{ResultNotice, result_notice_pdf};
pub use sampling::{
    BackupSealingNotice, ConductAnswers, ConductFeedbackForm, Correction, Enterprise, EnterpriseSignature,
    NominalProducer, PriceBasis, ProblemReport, RefusalDetermination, SamplePaymentForm, Sampler, SamplingDomain,
    SamplingKind, SamplingRecord, Satisfaction, Signature, SpotCheckNotice, backup_sealing_notice_pdf,
    conduct_feedback_form_pdf, problem_report_pdf, refusal_determination_pdf, sample_payment_form_pdf,
    sampling_record_pdf, spot_check_notice_pdf,
};
pub use summary_table::{SUMMARY_HEADERS, SummaryRow, SummaryTable, summary_table_xlsx, summary_totals_text};
pub use xlsx::{
    CellValue, Limit, PORTRAIT_MAX_COLUMNS, ReadLimits, Sheet, Table, TableFormat, TooLarge, read_rows, read_rows_with,
    read_table, read_table_with, write_table, write_workbook,
};
