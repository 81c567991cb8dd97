//! The blind-code label (盲样标签) the sample custodian prints and sticks on a portion at receipt:
//! the blind code in large type and as a QR code, the product and the portion — nothing that names
//! the enterprise (DESIGN.md rule 13). The layout lives in `templates/sample_label.typ`.

use chrono::NaiveDate;
use serde::Serialize;

use crate::{DocumentError, Renderer, Template};

/// One label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SampleLabel {
    pub blind_code: String,
    pub product: String,
    /// e.g. 检验样品 / 备用样品.
    pub portion: String,
    pub institution: String,
    pub received_on: NaiveDate,
}

/// The QR code of `text` as rows of dark (true) and light modules, with no quiet zone.
///
/// # Errors
/// [`DocumentError::Template`] when the text is too long for a QR code.
pub fn qr_matrix(text: &str) -> Result<Vec<Vec<bool>>, DocumentError> {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M).map_err(|e| {
        DocumentError::Template {
            template: Template::SampleLabel.name(), message: format!("二维码生成失败：{e}")
        }
    })?;
    let width = code.width();
    let colors = code.to_colors();
    Ok(colors.chunks(width).map(|row| row.iter().map(|c| *c == qrcode::Color::Dark).collect()).collect())
}

/// The QR code of `text` as rows of "0"/"1" (what the templates draw).
///
/// # Errors
/// See [`qr_matrix`].
pub fn qr_rows(text: &str) -> Result<Vec<String>, DocumentError> {
    Ok(qr_matrix(text)?.iter().map(|row| row.iter().map(|d| if *d { '1' } else { '0' }).collect()).collect())
}

/// Renders labels (one per portion), each on its own 60×40 mm page.
///
/// # Errors
/// See [`Renderer::render_pdf`] and [`qr_matrix`].
pub fn sample_label_pdf(renderer: &Renderer, labels: &[SampleLabel]) -> Result<Vec<u8>, DocumentError> {
    let mut pages = Vec::with_capacity(labels.len());
    for l in labels {
        let qr = qr_rows(&l.blind_code)?;
        let mut v = serde_json::to_value(l)?;
        v["qr"] = serde_json::to_value(qr)?;
        pages.push(v);
    }
    renderer.render_pdf(Template::SampleLabel, &serde_json::json!({ "labels": pages }))
}
