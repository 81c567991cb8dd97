//! 合订本, the bound volume of a plan: a cover, a table of contents with page numbers, then each
//! document (issued report, re-test report, sampling record with its evidence list) in order, every
//! page of the stored PDF placed whole on a page of the volume (typst embeds PDF pages as vector
//! graphics). Every page after the cover prints the volume's own page number (合订本第N页), the
//! number the contents give. Page counts are read with
//! `hayro-syntax`, the PDF parser typst itself uses.
//!
//! A volume embeds at most [`BoundVolume::MAX_DOCUMENTS`] documents; the service splits a larger
//! plan into several volumes so that one render holds a bounded number of PDFs in memory.

use chrono::NaiveDate;
use serde::Serialize;

use crate::{DocumentError, Renderer, Template};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BoundVolume {
    pub title: String,
    pub organising_bureau: String,
    pub date: NaiveDate,
    /// 1-based number of this volume, and how many there are.
    pub volume: usize,
    pub volume_count: usize,
}

impl BoundVolume {
    /// Documents per volume (a report and its sampling record are two).
    pub const MAX_DOCUMENTS: usize = 400;
}

/// One document of the volume: its line in the table of contents and its PDF, followed (for a
/// sampling record) by the sample's evidence list printed on pages of its own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VolumeDocument {
    pub title: String,
    pub pdf: Vec<u8>,
    pub evidence: Option<EvidenceSheet>,
}

/// 抽样证据清单: a sample's photos and videos with their hashes, and the categories not
/// photographed with the reason recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EvidenceSheet {
    pub items: Vec<EvidenceEntry>,
    /// "库存：现场无库存" — a required category's recorded reason.
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EvidenceEntry {
    pub category: String,
    pub file_name: String,
    /// Beijing time, to the minute.
    pub uploaded_at: String,
    pub uploaded_by: String,
    pub sha256: String,
}

#[derive(Serialize)]
struct Entry<'a> {
    title: &'a str,
    pages: usize,
    evidence: Option<&'a EvidenceSheet>,
}

/// The number of pages of a PDF.
///
/// # Errors
/// [`DocumentError::Template`] when the bytes are not a readable PDF.
pub fn pdf_page_count(pdf: &[u8]) -> Result<usize, DocumentError> {
    hayro_syntax::Pdf::new(pdf.to_vec()).map(|p| p.pages().len()).map_err(|e| DocumentError::Template {
        template: Template::BoundVolume.name(),
        message: format!("无法读取PDF：{e:?}"),
    })
}

/// Renders the volume.
///
/// # Errors
/// [`DocumentError::Template`] when there are more than [`BoundVolume::MAX_DOCUMENTS`] documents or
/// one is not a readable PDF; see also [`Renderer::render_pdf`].
pub fn bound_volume_pdf(
    renderer: &Renderer,
    volume: &BoundVolume,
    documents: Vec<VolumeDocument>,
) -> Result<Vec<u8>, DocumentError> {
    if documents.len() > BoundVolume::MAX_DOCUMENTS {
        return Err(DocumentError::Template {
            template: Template::BoundVolume.name(),
            message: format!("一册最多{}份文件", BoundVolume::MAX_DOCUMENTS),
        });
    }
    let entries = documents
        .iter()
        .map(|d| Ok(Entry { title: &d.title, pages: pdf_page_count(&d.pdf)?, evidence: d.evidence.as_ref() }))
        .collect::<Result<Vec<_>, DocumentError>>()?;
    let mut data = serde_json::to_value(volume)?;
    if let Some(obj) = data.as_object_mut() {
        obj.insert("entries".into(), serde_json::to_value(&entries)?);
    }
    drop(entries);
    renderer.render_pdf_with_documents(Template::BoundVolume, &data, documents.into_iter().map(|d| d.pdf).collect())
}
