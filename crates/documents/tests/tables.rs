//! XLSX/CSV round trips: what `write_table` writes, `read_table` reads back exactly.

#![allow(clippy::expect_used, clippy::panic)] // a failing test should panic

use choucha_documents::{CellValue, TableFormat, read_table, write_table};
use chrono::NaiveDate;

fn enterprise_rows() -> Vec<Vec<CellValue>> {
    vec![
        vec![
            "某某电器股份有限公司".into(),
            "91140213MA0K123456".into(),
            "140213".into(),
            "0012".into(),
            CellValue::Number(3.0),
            CellValue::Number(12.5),
            NaiveDate::from_ymd_opt(2025, 10, 20).into(),
        ],
        vec![
            "大同市平城区某某家电商场".into(),
            "92140202MA0H00000X".into(),
            "140202".into(),
            "1234567890123456789".into(),
            CellValue::Empty,
            CellValue::Number(-0.5),
            CellValue::Empty,
        ],
    ]
}

const HEADERS: [&str; 7] = ["企业名称", "统一社会信用代码", "区划代码", "编号", "批次", "金额", "抽样日期"];

#[test]
fn reads_back_what_it_writes() {
    let bytes = write_table("企业名录", None, &HEADERS, enterprise_rows().into_iter()).expect("write");
    let table = read_table(&bytes, TableFormat::Xlsx).expect("read");
    assert_eq!(table.headers(), HEADERS);
    assert_eq!(table.header_row(), 1);
    assert_eq!(
        table.rows()[0],
        ["某某电器股份有限公司", "91140213MA0K123456", "140213", "0012", "3", "12.5", "2025-10-20"]
    );
    assert_eq!(
        table.rows()[1],
        ["大同市平城区某某家电商场", "92140202MA0H00000X", "140202", "1234567890123456789", "", "-0.5", ""]
    );
    assert_eq!(table.sheet_row(0), 2);
    assert_eq!(table.sheet_row(1), 3);
}

#[test]
fn skips_its_own_title_row_when_reading_back() {
    let bytes =
        write_table("抽检结果", Some("2025年电冰箱产品质量监督抽查结果"), &HEADERS, enterprise_rows().into_iter())
            .expect("write");
    let table = read_table(&bytes, TableFormat::Xlsx).expect("read");
    assert_eq!(table.header_row(), 2);
    assert_eq!(table.headers(), HEADERS);
    assert_eq!(table.len(), 2);
    assert_eq!(table.sheet_row(0), 3, "the first data row is sheet row 3 under a title");
    assert_eq!(table.column("区划代码"), Some(2));
    assert_eq!(table.rows()[1][2], "140202");
}

#[test]
fn keeps_number_like_text_exact_in_csv() {
    let csv = "\u{feff}企业名称,统一社会信用代码,区划代码,联系电话\r\n\
               某某电器股份有限公司,91140213MA0K123456,140213,03512345678\r\n\
               \"某某家电商场, 平城区\",911402000000000001,0140,\r\n";
    let table = read_table(csv.as_bytes(), TableFormat::Csv).expect("read");
    assert_eq!(table.headers(), ["企业名称", "统一社会信用代码", "区划代码", "联系电话"]);
    assert_eq!(table.rows()[0], ["某某电器股份有限公司", "91140213MA0K123456", "140213", "03512345678"]);
    assert_eq!(table.rows()[1], ["某某家电商场, 平城区", "911402000000000001", "0140", ""]);
    assert_eq!(table.numbered_rows().map(|(row, _)| row).collect::<Vec<_>>(), [2, 3]);
}

#[test]
fn reads_csv_without_bom_and_pads_short_rows() {
    let table = read_table("名称,代码,备注\n 甲 ,1\n".as_bytes(), TableFormat::Csv).expect("read");
    assert_eq!(table.rows(), [["甲", "1", ""]]);
}

#[test]
fn writes_a_header_only_table() {
    let bytes = write_table("导入模板", None, &HEADERS, std::iter::empty()).expect("write");
    let table = read_table(&bytes, TableFormat::Xlsx).expect("read");
    assert_eq!(table.headers(), HEADERS);
    assert!(table.is_empty());
}
