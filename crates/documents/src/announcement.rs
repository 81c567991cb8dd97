//! 产品质量监督抽查结果公告, the announcement of a plan's results: every issued sample with its
//! conclusion and failing items, and the enterprises that refused the check (拒检, rule 11). A
//! withdrawn announcement carries the withdrawal; a correction carries its note. Landscape A4;
//! the layout lives in `templates/announcement.typ`.

use chrono::NaiveDate;
use serde::Serialize;

use crate::{DocumentError, Renderer, Template};

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AnnouncementDocument {
    pub title: String,
    /// 文号, printed under the title (empty: none printed).
    pub doc_number: String,
    pub organising_bureau: String,
    /// The publication date (or today's for a draft).
    pub date: NaiveDate,
    pub preface: String,
    pub rows: Vec<AnnouncementRow>,
    pub refusals: Vec<AnnouncementRefusal>,
    pub totals: AnnouncementTotals,
    pub correction: Option<AnnouncementCorrection>,
    pub withdrawn: Option<AnnouncementWithdrawal>,
    /// The verification block of the SM2-signed announcement as published (issue 18).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification: Option<crate::Verification>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AnnouncementRow {
    pub product: String,
    pub enterprise: String,
    pub producer: String,
    pub brand: String,
    pub model: String,
    pub batch: String,
    pub failing_items: Vec<String>,
    pub institution: String,
    pub qualified: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AnnouncementRefusal {
    pub product: String,
    pub enterprise: String,
    pub enterprise_address: String,
    pub determined_on: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AnnouncementTotals {
    pub sampled: i64,
    pub qualified: i64,
    pub unqualified: i64,
    pub refusals: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AnnouncementCorrection {
    pub reason: String,
    pub earlier_title: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AnnouncementWithdrawal {
    /// "YYYY年M月D日"-style date of the withdrawal, as text.
    pub at: String,
    pub reason: String,
}

/// Renders the announcement as a landscape A4 PDF.
///
/// # Errors
/// See [`Renderer::render_pdf`].
pub fn announcement_pdf(renderer: &Renderer, doc: &AnnouncementDocument) -> Result<Vec<u8>, DocumentError> {
    let mut data = serde_json::to_value(doc)?;
    if let Some(v) = &doc.verification {
        data["verification_qr"] = serde_json::to_value(crate::label::qr_rows(&v.url)?)?;
    }
    renderer.render_pdf(Template::Announcement, &data)
}
