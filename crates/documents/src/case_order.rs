//! 责令停止生产销售通知书 and 责令整改通知书, the orders of post-processing (rule 20) that the
//! enterprise's local bureau issues after an unqualified result or a refusal: generated from the
//! case and the step that recorded the order, with the bureau's 公章 placed where it stores one.
//! The layout lives in `templates/case_order.typ`.

use chrono::NaiveDate;
use serde::Serialize;

use crate::sampling::Images;
use crate::{DocumentError, Renderer, Signature, Template};

/// Which order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseOrderKind {
    /// 责令停止生产销售通知书
    StopOrder,
    /// 责令整改通知书
    CorrectionOrder,
}

impl CaseOrderKind {
    pub fn title(self) -> &'static str {
        match self {
            CaseOrderKind::StopOrder => "责令停止生产销售通知书",
            CaseOrderKind::CorrectionOrder => "责令整改通知书",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseOrder {
    pub kind: CaseOrderKind,
    /// The title, from `kind`.
    pub title: String,
    /// 文号 as recorded with the step (may be empty).
    pub doc_no: String,
    /// 被责令单位 and its particulars.
    pub enterprise: String,
    pub enterprise_address: String,
    pub uscc: String,
    /// Whether the case is a refusal (拒检) rather than an unqualified result.
    pub refusal: bool,
    pub organising_bureau: String,
    pub plan_title: String,
    pub product: String,
    pub model: String,
    pub batch: String,
    pub report_no: String,
    pub institution: String,
    pub failing_items: Vec<String>,
    /// The rectification deadline (correction order).
    pub deadline: Option<NaiveDate>,
    /// The bureau that issues the order, and the day of the order.
    pub bureau: String,
    pub date: NaiveDate,
    /// The bureau's 公章 (PNG), placed over its name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seal: Option<Signature>,
}

/// Renders the order as an A4 PDF.
///
/// # Errors
/// See [`Renderer::render_pdf`].
pub fn case_order_pdf(renderer: &Renderer, order: &CaseOrder) -> Result<Vec<u8>, DocumentError> {
    let mut data = serde_json::to_value(order)?;
    let mut images = Images::new();
    images.attach(&mut data, "/seal", order.seal.as_ref());
    images.render(renderer, Template::CaseOrder, &data)
}
