//! 产品质量改进建议书, the improvement letter sent with a failing result (Annex 2 of both official
//! notices): its data and its PDF. The layout lives in `templates/improvement_letter.typ`.

use chrono::NaiveDate;
use serde::Serialize;

use crate::{DocumentError, Renderer, Template};

/// The fields of the improvement letter, in the order of the form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImprovementLetter {
    /// 报告编号: the inspection report's number.
    pub report_no: String,
    /// 产品名称.
    pub product_name: String,
    /// 规格型号.
    pub model: String,
    /// 受检单位: where the sample was taken (shop, warehouse, factory).
    pub inspected_unit: String,
    /// 生产单位: the producer named on the product.
    pub producer: String,
    /// 检验机构: the testing institution that issues the letter.
    pub institution: String,
    /// 不合格项目: one test item per entry, shown one per line.
    pub failing_items: Vec<String>,
    /// 本次抽检质量问题描述. Line breaks start new paragraphs.
    pub problem_description: String,
    /// 原因分析. Line breaks start new paragraphs.
    pub cause_analysis: String,
    /// 改进建议. Line breaks start new paragraphs.
    pub suggestions: String,
    /// 备注 (may be empty).
    pub remarks: String,
    /// The date above the institution's seal, shown as 2025年10月20日; also the PDF's date.
    pub date: NaiveDate,
}

/// Renders the letter as a one- or multi-page A4 PDF.
///
/// # Errors
/// See [`Renderer::render_pdf`].
pub fn improvement_letter_pdf(renderer: &Renderer, letter: &ImprovementLetter) -> Result<Vec<u8>, DocumentError> {
    let data = serde_json::to_value(letter)?;
    renderer.render_pdf(Template::ImprovementLetter, &data)
}
