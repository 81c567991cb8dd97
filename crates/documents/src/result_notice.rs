//! 检验结果告知书, the result notice that goes with a report to the sampled enterprise (and to the
//! nominal producer of an unqualified sample taken from a seller, rule 17): what was tested, the
//! conclusion with the failing items, and the right to object or ask for a re-test within 15 days
//! of receipt (rule 18). The layout lives in `templates/result_notice.typ`.

use chrono::NaiveDate;
use serde::Serialize;

use crate::{DocumentError, Renderer, Template};

/// The data of a result notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResultNotice {
    /// 告知书编号 (the report number with a suffix).
    pub notice_no: String,
    /// Whom it is addressed to (the enterprise or the nominal producer).
    pub addressee: String,
    pub organising_bureau: String,
    pub plan_title: String,
    pub institution: String,
    pub product: String,
    pub brand: String,
    pub model: String,
    pub batch: String,
    /// 受检单位 (where the sample was taken).
    pub inspected_unit: String,
    pub producer: String,
    pub sampled_on: String,
    pub report_no: String,
    pub qualified: bool,
    pub conclusion: String,
    /// The failing items (unqualified only).
    pub failing_items: Vec<String>,
    /// Where objections go (the organising bureau) and in how many days.
    pub objection_to: String,
    pub objection_days: u32,
    pub issued_on: NaiveDate,
    /// The verification block of the SM2-signed notice (issue 18): the institution's key
    /// fingerprint and the public verification page, also drawn as a QR code.
    pub verification: Option<crate::Verification>,
}

/// Renders the result notice as an A4 PDF.
///
/// # Errors
/// See [`Renderer::render_pdf`].
pub fn result_notice_pdf(renderer: &Renderer, notice: &ResultNotice) -> Result<Vec<u8>, DocumentError> {
    let mut data = serde_json::to_value(notice)?;
    if let Some(v) = &notice.verification {
        data["verification_qr"] = serde_json::to_value(crate::label::qr_rows(&v.url)?)?;
    }
    renderer.render_pdf(Template::ResultNotice, &data)
}
