//! The national data exchange export (issue 18 part 7): the sampling information and the test
//! results of a plan, per day, in a documented and versioned structure, so that entry into the
//! national system (e-CQS) is a copy and not a retyping.
//!
//! The notices: “抽样机构应安排专人负责e-CQS系统录入工作，务于当日完成前一天抽样信息的录入，在检验工作
//! 结束后三个工作日内完成检验结果的录入” — sampling information by the day after sampling (rule 16, the
//! same calendar-day limit as [`crate::sampling::entry_deadline`]), results within 3 working days
//! after testing ended ([`crate::lab::results_due`]).
//!
//! One row per sample. Every field has a stable English key (the JSON) and its Chinese label (the
//! JSON header's field table and the Excel header row); the tables below are the format, and a test
//! holds the row types to them. Internal numeric ids travel only under a row's `keys`.

use chrono::NaiveDate;
use serde::Serialize;

use crate::calendar::WorkCalendar;

/// The format's name and version. A change that removes or renames a key, or changes a value's
/// kind, makes a new version; adding a field at the end does not.
pub const FORMAT_VERSION: &str = "choucha-ecqs/1";

crate::stored_enum! {
    /// What an export carries.
    pub enum ExportKind: "报送类别" {
        /// 抽样信息: the signed sampling records, by sampling day.
        Sampling = "sampling", "抽样信息";
        /// 检验结果: the issued reports, by issue day.
        Results = "results", "检验结果";
    }
}

impl ExportKind {
    /// The day an export of this kind files a sample under, and the limit it must be entered by:
    /// the day after sampling (calendar days), or 3 working days after testing ended.
    pub fn deadline(self, calendar: &WorkCalendar, start: NaiveDate) -> NaiveDate {
        match self {
            ExportKind::Sampling => sampling_deadline(start),
            ExportKind::Results => crate::lab::results_due(calendar, start),
        }
    }

    /// The fields of a row of this kind, in column order.
    pub fn fields(self) -> &'static [Field] {
        match self {
            ExportKind::Sampling => SAMPLING_FIELDS,
            ExportKind::Results => RESULT_FIELDS,
        }
    }
}

/// Sampling information is entered on the day after sampling (当日完成前一天抽样信息的录入).
pub fn sampling_deadline(sampled_on: NaiveDate) -> NaiveDate {
    sampled_on + chrono::Days::new(1)
}

/// Where an entry stands: its last day, and whether that day has passed without an export mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    pub deadline: NaiveDate,
    pub overdue: bool,
}

/// An entry not yet exported is overdue once `today` (Beijing) is past its last day.
pub fn due(deadline: NaiveDate, exported: bool, today: NaiveDate) -> Due {
    Due { deadline, overdue: !exported && today > deadline }
}

/// How a field's value is written: JSON types and Excel cell types follow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    /// A string (codes stay text).
    Text,
    /// A number.
    Number,
    /// An amount in yuan, a number with two decimals.
    Amount,
    /// A date, `YYYY-MM-DD`.
    Date,
    /// A Beijing time, RFC 3339 with `+08:00`.
    Time,
}

/// One field of the format: its key, its Chinese label, its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = NationalExportField))]
pub struct Field {
    pub key: &'static str,
    pub label: &'static str,
    pub kind: FieldKind,
}

const fn f(key: &'static str, label: &'static str, kind: FieldKind) -> Field {
    Field { key, label, kind }
}

use FieldKind::{Amount, Date, Number, Text, Time};

/// 抽样信息: every field of the sampling record (抽样单), in the order of the form.
pub const SAMPLING_FIELDS: &[Field] = &[
    f("record_no", "抽样单编号", Text),
    f("plan_title", "抽查计划", Text),
    f("organising_bureau", "组织监督抽查的部门", Text),
    f("check_kind", "抽查类别", Text),
    f("plan_product", "计划产品", Text),
    f("enterprise_name", "被抽样单位名称", Text),
    f("enterprise_uscc", "被抽样单位统一社会信用代码", Text),
    f("enterprise_address", "被抽样单位地址", Text),
    f("enterprise_licence_no", "被抽样单位许可证编号", Text),
    f("contact_name", "被抽样单位联系人", Text),
    f("contact_phone", "被抽样单位联系电话", Text),
    f("producer_name", "标称生产者名称", Text),
    f("producer_address", "标称生产者地址", Text),
    f("producer_uscc", "标称生产者统一社会信用代码", Text),
    f("product_name", "样品名称", Text),
    f("brand", "商标", Text),
    f("model", "规格型号", Text),
    f("batch", "生产日期/批号", Text),
    f("standard", "执行标准", Text),
    f("grade", "质量等级", Text),
    f("sampling_base", "抽样基数", Number),
    f("test_quantity", "检验样品数量", Number),
    f("backup_quantity", "备用样品数量", Number),
    f("unit", "数量单位", Text),
    f("unit_price", "单价（元）", Amount),
    f("price_basis", "价格依据", Text),
    f("total_paid", "检验样品费用（元）", Amount),
    f("domain", "抽样领域", Text),
    f("place", "抽样地点", Text),
    f("sampled_at", "抽样时间", Time),
    f("test_seals", "检验样品封条编号", Text),
    f("backup_seals", "备用样品封条编号", Text),
    f("backup_kept_at", "备用样品存放地点", Text),
    f("sampling_institution", "抽样单位", Text),
    f("samplers", "抽样人员", Text),
    f("enterprise_signature", "被抽样单位签字", Text),
    f("locked_at", "抽样单签字锁定时间", Time),
    f("corrections", "更正记录", Text),
    f("remarks", "备注", Text),
];

/// 检验结果: the sample as the report names it, and every field of the report (检验报告).
pub const RESULT_FIELDS: &[Field] = &[
    f("record_no", "抽样单编号", Text),
    f("blind_code", "样品编号", Text),
    f("product", "样品名称", Text),
    f("inspected_unit", "受检单位", Text),
    f("inspected_uscc", "受检单位统一社会信用代码", Text),
    f("producer", "标称生产者", Text),
    f("brand", "商标", Text),
    f("model", "规格型号", Text),
    f("batch", "生产日期/批号", Text),
    f("sampled_on", "抽样日期", Date),
    f("sampling_unit", "抽样单位", Text),
    f("sampling_base", "抽样基数", Text),
    f("report_no", "报告编号", Text),
    f("institution", "检验机构", Text),
    f("qualification_no", "资质认定证书编号", Text),
    f("test_kind", "检验类别", Text),
    f("task_source", "任务来源", Text),
    f("received_on", "到样日期", Date),
    f("tested_from", "检验开始日期", Date),
    f("tested_to", "检验结束日期", Date),
    f("test_portion", "样品数量", Text),
    f("standards", "检验依据", Text),
    f("qualified", "检验结论", Text),
    f("conclusion", "结论说明", Text),
    f("failing_items", "不合格项目", Text),
    f("item_count", "检验项目数", Number),
    f("items_text", "检验项目及结果", Text),
    f("prepared_by", "编制人", Text),
    f("reviewed_by", "审核人", Text),
    f("approved_by", "批准人", Text),
    f("issued_on", "签发日期", Date),
    f("supersedes", "替代的报告编号", Text),
    f("correction_reason", "更正原因", Text),
    f("report_sha256", "报告文件SHA-256", Text),
];

/// One test item of a report (a row's `items`, and the Excel sheet 检验项目).
pub const ITEM_FIELDS: &[Field] = &[
    f("report_no", "报告编号", Text),
    f("blind_code", "样品编号", Text),
    f("index", "序号", Number),
    f("name", "检验项目", Text),
    f("unit", "单位", Text),
    f("requirement", "标准要求", Text),
    f("result", "检验结果", Text),
    f("judgement", "单项判定", Text),
    f("method", "检验方法", Text),
];

/// The internal ids of a row, for programs that match rows (never retyped by a person).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = NationalExportKeys))]
pub struct RowKeys {
    pub plan_id: i64,
    pub task_id: i64,
    /// The sampling record version exported (抽样信息).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record_id: Option<i64>,
    /// The report exported (检验结果).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report_id: Option<i64>,
}

/// One row of 抽样信息: the keys of [`SAMPLING_FIELDS`] (declared in their order), then `keys`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = NationalSamplingRow))]
pub struct SamplingRow {
    pub record_no: String,
    pub plan_title: String,
    pub organising_bureau: String,
    pub check_kind: String,
    pub plan_product: String,
    pub enterprise_name: String,
    pub enterprise_uscc: String,
    pub enterprise_address: String,
    pub enterprise_licence_no: String,
    pub contact_name: String,
    pub contact_phone: String,
    pub producer_name: String,
    pub producer_address: String,
    pub producer_uscc: String,
    pub product_name: String,
    pub brand: String,
    pub model: String,
    pub batch: String,
    pub standard: String,
    pub grade: String,
    pub sampling_base: f64,
    pub test_quantity: f64,
    pub backup_quantity: f64,
    pub unit: String,
    pub unit_price: f64,
    pub price_basis: String,
    pub total_paid: f64,
    pub domain: String,
    pub place: String,
    /// RFC 3339, Beijing time.
    pub sampled_at: String,
    pub test_seals: String,
    pub backup_seals: String,
    pub backup_kept_at: String,
    pub sampling_institution: String,
    pub samplers: String,
    pub enterprise_signature: String,
    /// RFC 3339, Beijing time.
    pub locked_at: String,
    pub corrections: String,
    pub remarks: String,
    pub keys: RowKeys,
}

/// One test item of a [`ResultRow`] (the keys of [`ITEM_FIELDS`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = NationalResultItem))]
pub struct ResultItem {
    pub report_no: String,
    pub blind_code: String,
    pub index: u32,
    pub name: String,
    pub unit: String,
    pub requirement: String,
    pub result: String,
    pub judgement: String,
    pub method: String,
}

/// One row of 检验结果: the keys of [`RESULT_FIELDS`] (declared in their order), then `items` and `keys`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = NationalResultRow))]
pub struct ResultRow {
    pub record_no: String,
    pub blind_code: String,
    pub product: String,
    pub inspected_unit: String,
    pub inspected_uscc: String,
    pub producer: String,
    pub brand: String,
    pub model: String,
    pub batch: String,
    pub sampled_on: String,
    pub sampling_unit: String,
    pub sampling_base: String,
    pub report_no: String,
    pub institution: String,
    pub qualification_no: String,
    pub test_kind: String,
    pub task_source: String,
    pub received_on: String,
    pub tested_from: String,
    pub tested_to: String,
    pub test_portion: String,
    pub standards: String,
    /// 合格 / 不合格.
    pub qualified: String,
    pub conclusion: String,
    pub failing_items: String,
    pub item_count: u32,
    pub items_text: String,
    pub prepared_by: String,
    pub reviewed_by: String,
    pub approved_by: String,
    pub issued_on: String,
    pub supersedes: String,
    pub correction_reason: String,
    pub report_sha256: String,
    pub items: Vec<ResultItem>,
    pub keys: RowKeys,
}

impl ResultRow {
    /// The items as one cell: “硫含量：≤10 mg/kg，结果 12.5，不符合；…”.
    pub fn items_as_text(items: &[ResultItem]) -> String {
        items
            .iter()
            .map(|i| {
                let unit = if i.unit.is_empty() { String::new() } else { format!(" {}", i.unit) };
                format!("{}：要求 {}{unit}，结果 {}，{}", i.name, i.requirement, i.result, i.judgement)
            })
            .collect::<Vec<_>>()
            .join("；")
    }
}

/// A list written as one text cell (seal numbers, samplers).
pub fn joined(values: &[String]) -> String {
    values.iter().map(|v| v.trim()).filter(|v| !v.is_empty()).collect::<Vec<_>>().join("、")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys_of(v: &serde_json::Value) -> std::collections::BTreeSet<String> {
        v.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default()
    }

    fn table_keys(fields: &[Field], extra: &[&str]) -> std::collections::BTreeSet<String> {
        fields.iter().map(|f| f.key.to_string()).chain(extra.iter().map(|k| k.to_string())).collect()
    }

    #[test]
    fn every_key_of_a_row_has_its_label_and_every_label_its_key() {
        let sampling = serde_json::to_value(SamplingRow::default()).unwrap();
        assert_eq!(keys_of(&sampling), table_keys(SAMPLING_FIELDS, &["keys"]));
        let result = serde_json::to_value(ResultRow::default()).unwrap();
        assert_eq!(keys_of(&result), table_keys(RESULT_FIELDS, &["items", "keys"]));
        let item = serde_json::to_value(ResultItem::default()).unwrap();
        assert_eq!(keys_of(&item), table_keys(ITEM_FIELDS, &[]));
        for table in [SAMPLING_FIELDS, RESULT_FIELDS, ITEM_FIELDS] {
            let mut seen = std::collections::BTreeSet::new();
            for field in table {
                assert!(seen.insert(field.key), "{} twice", field.key);
                assert!(field.label.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "{}", field.key);
            }
        }
    }

    #[test]
    fn sampling_is_due_the_day_after_and_results_three_working_days_after_testing_across_a_holiday() {
        let cal = WorkCalendar::official();
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
        // Sampled on a Saturday: the entry is still due on the Sunday (calendar days).
        assert_eq!(ExportKind::Sampling.deadline(&cal, d(11, 14)), d(11, 15));
        // Testing ended 2026-09-30, before the National Day holiday: due after three working days.
        assert_eq!(ExportKind::Results.deadline(&cal, d(9, 30)), d(10, 10));
        // Testing ended on a Friday: Monday, Tuesday, Wednesday.
        assert_eq!(ExportKind::Results.deadline(&cal, d(11, 13)), d(11, 18));
    }

    #[test]
    fn overdue_only_past_the_last_day_and_never_once_exported() {
        let last = NaiveDate::from_ymd_opt(2026, 11, 18).unwrap();
        assert!(!due(last, false, last).overdue);
        assert!(due(last, false, last + chrono::Days::new(1)).overdue);
        assert!(!due(last, true, last + chrono::Days::new(30)).overdue);
    }

    #[test]
    fn items_read_as_one_cell() {
        let i = ResultItem {
            name: "硫含量".into(),
            unit: "mg/kg".into(),
            requirement: "≤10".into(),
            result: "12.5".into(),
            judgement: "不符合".into(),
            ..Default::default()
        };
        assert_eq!(ResultRow::items_as_text(&[i]), "硫含量：要求 ≤10 mg/kg，结果 12.5，不符合");
        assert_eq!(joined(&["A1".into(), " ".into(), "A2".into()]), "A1、A2");
    }
}
