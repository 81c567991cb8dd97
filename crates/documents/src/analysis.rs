//! 质量分析报告, the quality analysis report of a plan: overall figures, qualification rates by
//! product, sampling domain, division and enterprise size, failing items by frequency and a comparison with the
//! bureau's earlier plans, with bar charts drawn in plain typst (`templates/quality_analysis.typ`,
//! no packages: the machine is offline).
//!
//! The data is computed by the service (by `GROUP BY` in the database) and passed as any
//! serialisable value with the fields the template reads: `plan_title`, `organising_bureau`,
//! `date` ("YYYY-MM-DD"), `figures` (`sampled`, `qualified`, `unqualified`, `refusals`, `rate`,
//! `by_item[]` with `product`, `sampled`, `qualified`, `unqualified`, `refusals`, `rate`),
//! `by_domain[]`, `by_division[]` and `by_size[]` (`label`, `sampled`, `qualified`, `rate`), `failing_items[]`
//! (`[name, count]`) and `earlier[]` (`product`, `plan_title`, `sampled`, `rate`, `current_rate`).

use serde::Serialize;

use crate::{DocumentError, Renderer, Template};

/// Renders the quality analysis report.
///
/// # Errors
/// See [`Renderer::render_pdf`]; a missing field is a [`DocumentError::Template`].
pub fn quality_analysis_pdf(renderer: &Renderer, data: &impl Serialize) -> Result<Vec<u8>, DocumentError> {
    renderer.render_pdf(Template::QualityAnalysis, &serde_json::to_value(data)?)
}
