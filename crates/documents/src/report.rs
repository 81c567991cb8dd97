//! 检验报告, the test report a testing institution issues for one sample (DESIGN.md rule 15): a
//! cover, the conclusion page and the item table with requirement, result and judgement, signed by
//! the three people who prepared, reviewed and approved it, with the institution's qualification
//! number. The layout lives in `templates/test_report.typ`.

use chrono::NaiveDate;
use serde::Serialize;

use crate::sampling::Images;
use crate::{DocumentError, Renderer, Signature, Template};

/// The data of a test report, in the order the report shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TestReport {
    /// 报告编号.
    pub report_no: String,
    /// 检验机构.
    pub institution: String,
    /// 资质认定 (CMA) number.
    pub qualification_no: String,
    pub institution_address: String,
    pub institution_phone: String,
    /// 样品名称.
    pub product: String,
    /// 样品编号 (the blind code).
    pub sample_code: String,
    /// 检验类别, e.g. 监督抽查.
    pub test_kind: String,
    /// 任务来源 (the plan and its organising bureau).
    pub task_source: String,
    /// 受检单位 (where the sample was taken).
    pub inspected_unit: String,
    /// 标称生产者.
    pub producer: String,
    pub brand: String,
    pub model: String,
    pub batch: String,
    /// 抽样日期.
    pub sampled_on: String,
    /// 到样日期.
    pub received_on: String,
    /// 检验日期 (from – to).
    pub tested_period: String,
    /// 样品数量 (test portion as received).
    pub test_portion: String,
    /// 检验依据 / 判定依据.
    pub standards: Vec<String>,
    pub items: Vec<ReportLine>,
    pub qualified: bool,
    /// The conclusion as printed.
    pub conclusion: String,
    /// 编制 / 审核 / 批准: each name with its signature on the screen (when given) and time.
    pub prepared_by: Signature,
    pub reviewed_by: Signature,
    pub approved_by: Signature,
    /// 签发日期.
    pub issued_on: NaiveDate,
    /// Set on a correction: the number of the report it replaces and why.
    pub supersedes: Option<String>,
    pub correction_reason: String,
    /// A draft for the reviewer and the approver to read before signing: every page says so and it
    /// is no report (审核稿).
    pub draft: bool,
    /// A re-test report (复检报告): the title says so.
    pub retest: bool,
    /// 抽样单位: the sampling institution.
    pub sampling_unit: String,
    /// 抽样基数, with its unit.
    pub sampling_base: String,
    /// The institution's 检验检测专用章, placed on an issued report only (never on a draft).
    pub seal: Option<Signature>,
    /// The verification block of an issued, SM2-signed report (issue 18): the key's fingerprint and
    /// the public verification page, also drawn as a QR code.
    pub verification: Option<Verification>,
}

/// What the printed verification block says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// SM3 fingerprint of the institution's SM2 public key (hex).
    pub key_id: String,
    /// The public verification page.
    pub url: String,
}

/// One row of the item table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportLine {
    pub name: String,
    pub unit: String,
    pub requirement: String,
    pub result: String,
    /// 符合 / 不符合.
    pub judgement: String,
    pub method: String,
}

/// Renders the report as an A4 PDF (cover, conclusion page, item table).
///
/// # Errors
/// See [`Renderer::render_pdf`].
pub fn test_report_pdf(renderer: &Renderer, report: &TestReport) -> Result<Vec<u8>, DocumentError> {
    let mut data = serde_json::to_value(report)?;
    let mut images = Images::new();
    images.attach(&mut data, "/prepared_by", Some(&report.prepared_by));
    images.attach(&mut data, "/reviewed_by", Some(&report.reviewed_by));
    images.attach(&mut data, "/approved_by", Some(&report.approved_by));
    if !report.draft {
        images.attach(&mut data, "/seal", report.seal.as_ref());
    }
    if let Some(v) = &report.verification {
        data["verification_qr"] = serde_json::to_value(crate::label::qr_rows(&v.url)?)?;
    }
    images.render(renderer, Template::TestReport, &data)
}
