//! The Excel files a bureau prints: typed cells (numbers, amounts and dates as Excel values, codes
//! as text) and the print set-up of every sheet (A4, landscape when wide, fit to one page wide,
//! title and header rows repeated), checked in the sheet XML itself.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)] // a failing test should panic

use std::io::Read;

use choucha_documents::{
    Annex1, Annex1Row, CellValue, Sheet, SummaryRow, SummaryTable, TableFormat, read_rows, summary_table_xlsx,
    write_annex1, write_table, write_workbook,
};
use chrono::{NaiveDate, TimeZone, Utc};

/// The text of one entry of the XLSX container.
fn entry(bytes: &[u8], name: &str) -> String {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("xlsx is a zip");
    let mut text = String::new();
    zip.by_name(name).unwrap_or_else(|_| panic!("{name} in the xlsx")).read_to_string(&mut text).expect("utf-8");
    text
}

/// The `<c …>…</c>` element of cell `reference` (e.g. `A3`) in a sheet's XML.
fn cell<'a>(sheet: &'a str, reference: &str) -> &'a str {
    let start = sheet.find(&format!("<c r=\"{reference}\"")).unwrap_or_else(|| panic!("cell {reference} in {sheet}"));
    let rest = &sheet[start..];
    let end = if rest[..rest.find('>').unwrap()].ends_with('/') {
        rest.find('>').unwrap() + 1
    } else {
        rest.find("</c>").unwrap() + 4
    };
    &rest[..end]
}

fn attribute<'a>(element: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let at = element.find(&key)? + key.len();
    element[at..].split('"').next()
}

/// A number cell: no string type (`t="s"`, `t="str"`, `t="inlineStr"`), and a value.
fn is_number(c: &str) -> bool {
    attribute(c, "t").is_none() && c.contains("<v>")
}

fn is_text(c: &str) -> bool {
    matches!(attribute(c, "t"), Some("s" | "str" | "inlineStr"))
}

/// The number format code of a cell (`General` for the default).
fn number_format(xlsx: &[u8], c: &str) -> String {
    let styles = entry(xlsx, "xl/styles.xml");
    let index: usize = attribute(c, "s").unwrap_or("0").parse().unwrap();
    let xfs = &styles[styles.find("<cellXfs").unwrap()..];
    let xf = xfs.split("<xf ").nth(index + 1).expect("the cell's style");
    let id = attribute(&format!(" {xf}"), "numFmtId").unwrap_or("0").to_string();
    if id == "0" {
        return "General".into();
    }
    for f in styles.split("<numFmt ").skip(1) {
        let f = format!(" {f}");
        if attribute(&f, "numFmtId") == Some(id.as_str()) {
            return attribute(&f, "formatCode").unwrap().to_string();
        }
    }
    format!("builtin {id}")
}

fn summary() -> SummaryTable {
    SummaryTable {
        title: "2025年车用柴油产品质量监督抽查检验情况汇总表".into(),
        rows: vec![SummaryRow {
            product: "车用柴油".into(),
            enterprise: "大同市平城区示例加油站".into(),
            sampled_on: "2025-10-20".into(),
            // A report number made of digits stays text (it is a code, not an amount).
            report_no: "2025001234".into(),
            conclusion: "不合格".into(),
            ..Default::default()
        }],
        sampled: 1,
        qualified: 0,
        unqualified: 1,
        refusals: 0,
    }
}

#[test]
fn the_summary_table_stores_numbers_and_dates_as_excel_values_and_codes_as_text() {
    let xlsx = summary_table_xlsx(&summary()).unwrap();
    let sheet = entry(&xlsx, "xl/worksheets/sheet1.xml");
    // Row 1 title, row 2 header, row 3 the first line.
    let serial = cell(&sheet, "A3");
    assert!(is_number(serial), "序号 is a number: {serial}");
    let sampled = cell(&sheet, "H3");
    assert!(is_number(sampled), "抽样日期 is a date serial: {sampled}");
    assert_eq!(number_format(&xlsx, sampled), "yyyy-mm-dd");
    let report_no = cell(&sheet, "J3");
    assert!(is_text(report_no), "报告编号 stays text: {report_no}");
    // Read back, the date is the same day.
    let rows = read_rows(&xlsx, TableFormat::Xlsx).unwrap();
    assert_eq!((rows[2].1[7].as_str(), rows[2].1[9].as_str()), ("2025-10-20", "2025001234"));
}

#[test]
fn the_summary_table_prints_on_a4_landscape_one_page_wide_with_its_title_and_header_on_every_page() {
    let xlsx = summary_table_xlsx(&summary()).unwrap();
    let sheet = entry(&xlsx, "xl/worksheets/sheet1.xml");
    let setup = &sheet[sheet.find("<pageSetup").expect("page setup")..];
    let setup = &setup[..setup.find("/>").unwrap()];
    assert_eq!(attribute(setup, "paperSize"), Some("9"), "A4: {setup}");
    assert_eq!(attribute(setup, "orientation"), Some("landscape"), "{setup}");
    assert_eq!(attribute(setup, "fitToHeight"), Some("0"), "as many pages down as needed: {setup}");
    assert!(sheet.contains("<pageSetUpPr fitToPage=\"1\"/>"), "fit to page: {sheet}");
    assert!(!sheet.contains("fitToWidth=\"0\""), "one page wide");
    let workbook = entry(&xlsx, "xl/workbook.xml");
    assert!(
        workbook.contains("name=\"_xlnm.Print_Titles\"") && workbook.contains("检验情况汇总表!$1:$2"),
        "title and header rows repeat on each page: {workbook}"
    );
    assert!(sheet.contains("第 &amp;P 页 共 &amp;N 页"), "page numbers in the footer");
}

#[test]
fn a_narrow_sheet_prints_portrait_and_repeats_its_header() {
    let rows = std::iter::once(vec!["甲".into(), CellValue::Number(1.0)]);
    let xlsx = write_table("名录", None, &["名称", "数量"], rows).unwrap();
    let sheet = entry(&xlsx, "xl/worksheets/sheet1.xml");
    assert!(!sheet.contains("orientation=\"landscape\""), "{sheet}");
    assert!(sheet.contains("paperSize=\"9\""));
    assert!(entry(&xlsx, "xl/workbook.xml").contains("名录!$1:$1"));
}

#[test]
fn amounts_have_two_decimals_and_times_are_beijing_time() {
    let mut sheet = Sheet::new("费用", &["金额", "时间", "日期", "电话"]);
    // 2026-12-02 16:30 UTC is 2026-12-03 00:30 in Beijing: the next day there.
    let at = Utc.with_ymd_and_hms(2026, 12, 2, 16, 30, 0).unwrap();
    sheet.push(vec![
        CellValue::amount_text("12.5"),
        at.into(),
        NaiveDate::from_ymd_opt(2026, 12, 3).into(),
        "13812345678".into(),
    ]);
    let xlsx = write_workbook(&[sheet]).unwrap();
    let xml = entry(&xlsx, "xl/worksheets/sheet1.xml");
    let amount = cell(&xml, "A2");
    assert!(is_number(amount), "{amount}");
    assert_eq!(number_format(&xlsx, amount), "0.00");
    let time = cell(&xml, "B2");
    assert!(is_number(time), "{time}");
    assert_eq!(number_format(&xlsx, time), "yyyy-mm-dd hh:mm");
    assert!(is_text(cell(&xml, "D2")), "a phone number stays text");
    let rows = read_rows(&xlsx, TableFormat::Xlsx).unwrap();
    assert_eq!(rows[1].1[..3], ["12.5", "2026-12-03 00:30:00", "2026-12-03"]);
}

#[test]
fn text_that_is_not_a_date_or_amount_stays_as_typed() {
    assert_eq!(CellValue::date_text("2025-10-20"), CellValue::Date(NaiveDate::from_ymd_opt(2025, 10, 20).unwrap()));
    assert_eq!(CellValue::date_text("2025年10月"), CellValue::Text("2025年10月".into()));
    assert_eq!(CellValue::date_text(""), CellValue::Empty);
    assert_eq!(CellValue::amount_text("1200"), CellValue::Amount(1200.0));
    assert_eq!(CellValue::amount_text("约一千元"), CellValue::Text("约一千元".into()));
}

#[test]
fn a_workbook_of_several_sheets_sets_up_each_one() {
    let wide: Vec<&str> = vec!["列"; 10];
    let sheets = vec![Sheet::new("进度", &["产品", "批次"]).titled("看板"), Sheet::new("进度", &wide)];
    let xlsx = write_workbook(&sheets).unwrap();
    let workbook = entry(&xlsx, "xl/workbook.xml");
    assert!(workbook.contains("name=\"进度\"") && workbook.contains("name=\"进度(2)\""), "{workbook}");
    assert!(workbook.contains("进度!$1:$2"), "title and header of the first: {workbook}");
    assert!(!entry(&xlsx, "xl/worksheets/sheet1.xml").contains("landscape"));
    assert!(entry(&xlsx, "xl/worksheets/sheet2.xml").contains("orientation=\"landscape\""));
}

#[test]
fn annex1_quotas_are_numbers_and_its_title_and_header_repeat() {
    let a = Annex1 {
        title: "2025年第一批产品质量监督抽查计划".into(),
        rows: vec![
            Annex1Row {
                number: "1".into(),
                category: "家用电器".into(),
                product: "电冰箱".into(),
                quota: Some(20),
                scopes: "生产、销售".into(),
            },
            Annex1Row {
                number: "1".into(),
                category: "家用电器".into(),
                product: "洗衣机".into(),
                quota: None,
                scopes: "生产、销售".into(),
            },
        ],
        total_text: "20".into(),
        remark: String::new(),
    };
    let xlsx = write_annex1(&a).unwrap();
    let sheet = entry(&xlsx, "xl/worksheets/sheet1.xml");
    assert!(is_number(cell(&sheet, "D3")), "the quota: {}", cell(&sheet, "D3"));
    assert!(is_number(cell(&sheet, "D5")), "the total: {}", cell(&sheet, "D5"));
    assert!(sheet.contains("paperSize=\"9\"") && sheet.contains("<pageSetUpPr fitToPage=\"1\"/>"));
    assert!(entry(&xlsx, "xl/workbook.xml").contains("附件1!$1:$2"));
    // It still reads back as the same plan (the shared quota stays merged).
    let back = choucha_documents::read_annex1(&xlsx, TableFormat::Xlsx).unwrap().unwrap();
    assert_eq!((back.rows[0].quota, back.rows[1].quota, back.total()), (Some(20), None, 20));
}
