//! 检验情况汇总表, the summary table of a plan as XLSX, with the columns of the national template
//! and a totals row (sampled, qualified, unqualified, refusals) below the rows.

use serde::Serialize;

use crate::{CellValue, DocumentError, write_table};

/// The columns, in the national template's order.
pub const SUMMARY_HEADERS: [&str; 13] = [
    "序号",
    "产品名称",
    "被抽样单位",
    "所在地",
    "标称生产者",
    "规格型号",
    "生产日期/批号",
    "抽样日期",
    "检验机构",
    "报告编号",
    "检验结论",
    "不合格项目",
    "企业规模",
];

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SummaryRow {
    pub product: String,
    pub enterprise: String,
    pub location: String,
    pub producer: String,
    pub model: String,
    pub batch: String,
    pub sampled_on: String,
    pub institution: String,
    pub report_no: String,
    /// 合格 | 不合格 | 拒检
    pub conclusion: String,
    pub failing_items: String,
    pub size: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SummaryTable {
    pub title: String,
    pub rows: Vec<SummaryRow>,
    pub sampled: i64,
    pub qualified: i64,
    pub unqualified: i64,
    pub refusals: i64,
}

/// The totals row's text in the 检验结论 column, e.g. "检验12批次，合格10批次，不合格2批次，拒检1家".
pub fn summary_totals_text(t: &SummaryTable) -> String {
    format!("检验{}批次，合格{}批次，不合格{}批次，拒检{}家", t.sampled, t.qualified, t.unqualified, t.refusals)
}

/// Writes the summary table: title row, header, one row per entry, then the totals row
/// (`合计` in 序号, the counts in 检验结论).
///
/// # Errors
/// See [`write_table`].
pub fn summary_table_xlsx(t: &SummaryTable) -> Result<Vec<u8>, DocumentError> {
    let rows = t.rows.iter().enumerate().map(|(i, r)| {
        vec![
            CellValue::Number((i + 1) as f64),
            r.product.as_str().into(),
            r.enterprise.as_str().into(),
            r.location.as_str().into(),
            r.producer.as_str().into(),
            r.model.as_str().into(),
            r.batch.as_str().into(),
            CellValue::date_text(&r.sampled_on),
            r.institution.as_str().into(),
            r.report_no.as_str().into(),
            r.conclusion.as_str().into(),
            r.failing_items.as_str().into(),
            r.size.as_str().into(),
        ]
    });
    let mut totals = vec![CellValue::Empty; SUMMARY_HEADERS.len()];
    totals[0] = "合计".into();
    totals[10] = summary_totals_text(t).into();
    write_table("检验情况汇总表", Some(&t.title), &SUMMARY_HEADERS, rows.chain(std::iter::once(totals)))
}
