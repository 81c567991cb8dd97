//! Official documents generated on request. For now the 产品质量改进建议书 (improvement letter, Annex 2
//! of both notices): the testing institution writes it for an unqualified product (rule 17), bureau
//! staff may prepare one too. Enterprises receive letters, they never write them. Rendering is CPU
//! work and runs off the async runtime.

use choucha_documents::ImprovementLetter;
use choucha_domain::RuleViolation;
use choucha_domain::access::Action;
use choucha_domain::enterprise::parse_date;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::{Actor, Result, ServiceError, Services};

/// Whether `actor` may write improvement letters (the testing institution's staff who handle
/// results and the organising bureau; pages use it to offer the form).
pub fn may_write_letters(actor: &Actor) -> bool {
    actor.may(Action::WriteLetter)
}

/// Refuse callers who may not write improvement letters.
pub fn require_letter_writer(actor: &Actor) -> Result<()> {
    if may_write_letters(actor) {
        Ok(())
    } else {
        Err(ServiceError::Forbidden("只有检验机构和监管部门人员可以出具产品质量改进建议书".into()))
    }
}

/// What a person fills in on the form of Annex 2.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct ImprovementLetterInput {
    /// 报告编号
    pub report_no: String,
    /// 产品名称
    pub product_name: String,
    /// 规格型号
    #[serde(default)]
    pub model: String,
    /// 受检单位
    pub inspected_unit: String,
    /// 生产单位
    #[serde(default)]
    pub producer: String,
    /// 检验机构
    pub institution: String,
    /// 不合格项目, one per entry
    #[serde(default)]
    pub failing_items: Vec<String>,
    /// 本次抽检质量问题描述
    #[serde(default)]
    pub problem_description: String,
    /// 原因分析
    #[serde(default)]
    pub cause_analysis: String,
    /// 改进建议
    #[serde(default)]
    pub suggestions: String,
    /// 备注
    #[serde(default)]
    pub remarks: String,
    /// Date of the letter, YYYY-MM-DD; today (Beijing time) when empty.
    #[serde(default)]
    pub date: Option<String>,
}

fn required(value: &str, field: &'static str, label: &str, max: usize, errs: &mut Vec<RuleViolation>) -> String {
    let v = value.trim().to_string();
    if v.is_empty() {
        errs.push(RuleViolation::new("required", format!("请填写{label}")).on_field(field));
    } else if v.chars().count() > max {
        errs.push(RuleViolation::new("too_long", format!("{label}不能超过{max}字")).on_field(field));
    }
    v
}

fn optional(value: &str, field: &'static str, label: &str, max: usize, errs: &mut Vec<RuleViolation>) -> String {
    let v = value.trim().to_string();
    if v.chars().count() > max {
        errs.push(RuleViolation::new("too_long", format!("{label}不能超过{max}字")).on_field(field));
    }
    v
}

/// Check the form and turn it into the document's data.
/// `today` (Beijing) dates a letter whose date is left empty.
pub fn validate_letter(input: &ImprovementLetterInput, today: NaiveDate) -> Result<ImprovementLetter> {
    let mut errs = Vec::new();
    let report_no = required(&input.report_no, "report_no", "报告编号", 100, &mut errs);
    let product_name = required(&input.product_name, "product_name", "产品名称", 200, &mut errs);
    let model = optional(&input.model, "model", "规格型号", 200, &mut errs);
    let inspected_unit = required(&input.inspected_unit, "inspected_unit", "受检单位", 200, &mut errs);
    let producer = optional(&input.producer, "producer", "生产单位", 200, &mut errs);
    let institution = required(&input.institution, "institution", "检验机构", 200, &mut errs);
    let failing_items: Vec<String> =
        input.failing_items.iter().map(|i| i.trim().to_string()).filter(|i| !i.is_empty()).collect();
    if failing_items.is_empty() {
        errs.push(RuleViolation::new("required", "请至少填写一个不合格项目").on_field("failing_items"));
    } else if failing_items.len() > 100 || failing_items.iter().any(|i| i.chars().count() > 200) {
        errs.push(RuleViolation::new("too_long", "不合格项目最多100项，每项不超过200字").on_field("failing_items"));
    }
    let problem_description =
        optional(&input.problem_description, "problem_description", "质量问题描述", 5000, &mut errs);
    let cause_analysis = optional(&input.cause_analysis, "cause_analysis", "原因分析", 5000, &mut errs);
    let suggestions = optional(&input.suggestions, "suggestions", "改进建议", 5000, &mut errs);
    let remarks = optional(&input.remarks, "remarks", "备注", 2000, &mut errs);
    let date = match input.date.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        None => Some(today),
        Some(d) => {
            let parsed = parse_date(d).filter(|x| (2000..=2100).contains(&chrono::Datelike::year(x)));
            if parsed.is_none() {
                errs.push(
                    RuleViolation::new("invalid_date", format!("日期“{d}”无效（格式：2025-10-20）")).on_field("date"),
                );
            }
            parsed
        }
    };
    match date {
        Some(date) if errs.is_empty() => Ok(ImprovementLetter {
            report_no,
            product_name,
            model,
            inspected_unit,
            producer,
            institution,
            failing_items,
            problem_description,
            cause_analysis,
            suggestions,
            remarks,
            date,
        }),
        _ => Err(ServiceError::Invalid(errs)),
    }
}

/// The PDF of an improvement letter.
#[tracing::instrument(skip_all)]
pub async fn improvement_letter_pdf(s: &Services, actor: &Actor, input: ImprovementLetterInput) -> Result<Vec<u8>> {
    require_letter_writer(actor)?;
    render_letter(s, input).await
}

/// Renders a letter whose reader the caller has checked (the enterprise reads its own).
pub(crate) async fn render_letter(s: &Services, input: ImprovementLetterInput) -> Result<Vec<u8>> {
    let letter = validate_letter(&input, s.today())?;
    let renderer = s.renderer().await?;
    tokio::task::spawn_blocking(move || choucha_documents::improvement_letter_pdf(&renderer, &letter))
        .await
        .map_err(ServiceError::internal)?
        .map_err(|e| ServiceError::internal(format!("improvement letter: {e}")))
}

/// The download name of a letter's PDF: `产品质量改进建议书-<报告编号>.pdf`, with characters that
/// file systems refuse replaced.
pub fn letter_file_name(report_no: &str) -> String {
    let safe: String =
        report_no
            .trim()
            .chars()
            .map(|c| {
                if c.is_control() || matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|') {
                    '_'
                } else {
                    c
                }
            })
            .take(80)
            .collect();
    if safe.is_empty() {
        "产品质量改进建议书.pdf".to_string()
    } else {
        format!("产品质量改进建议书-{safe}.pdf")
    }
}
