//! Uploaded tables that try to exhaust the server (issue 13): every one is read within
//! `ReadLimits` and answered with a `DocumentError`, never an abort; ordinary files still read.
#![allow(clippy::expect_used, clippy::panic)] // a failing test should panic

use std::io::Write;

use choucha_documents::{DocumentError, Limit, ReadLimits, TableFormat, read_rows, read_table, read_table_with};
use proptest::prelude::*;
use zip::write::SimpleFileOptions;

const MAIN_NS: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";

/// A minimal XLSX: one worksheet with the given XML, and a shared strings table if given.
fn workbook(sheet_xml: &[u8], shared_strings: Option<&[u8]>) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let mut part = |name: &str, bytes: &[u8]| {
        zip.start_file(name, options).expect("zip entry");
        zip.write_all(bytes).expect("zip write");
    };
    part(
        "[Content_Types].xml",
        br#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#,
    );
    part(
        "_rels/.rels",
        br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
    );
    part(
        "xl/workbook.xml",
        format!(r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN_NS}" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#).as_bytes(),
    );
    part(
        "xl/_rels/workbook.xml.rels",
        br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#,
    );
    part("xl/worksheets/sheet1.xml", sheet_xml);
    if let Some(strings) = shared_strings {
        part("xl/sharedStrings.xml", strings);
    }
    zip.finish().expect("zip").into_inner()
}

/// Worksheet XML with a declared dimension and the given `<row>` elements.
fn sheet(dimension: &str, rows: &str) -> Vec<u8> {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN_NS}"><dimension ref="{dimension}"/><sheetData>{rows}</sheetData></worksheet>"#
    )
    .into_bytes()
}

fn inline(reference: &str, text: &str) -> String {
    format!(r#"<c r="{reference}" t="inlineStr"><is><t>{text}</t></is></c>"#)
}

fn too_large(result: Result<impl std::fmt::Debug, DocumentError>) -> choucha_documents::TooLarge {
    match result {
        Err(DocumentError::TooLarge(figures)) => figures,
        other => panic!("expected a refusal for size, got {other:?}"),
    }
}

#[test]
fn reads_an_ordinary_hand_written_workbook() {
    let rows = format!(
        r#"<row r="1">{}{}</row><row r="2">{}{}</row>"#,
        inline("A1", "企业名称"),
        inline("B1", "代码"),
        inline("A2", "某某电器"),
        r#"<c r="B2"><v>140213</v></c>"#
    );
    let table = read_table(&workbook(&sheet("A1:B2", &rows), None), TableFormat::Xlsx).expect("read");
    assert_eq!(table.headers(), ["企业名称", "代码"]);
    assert_eq!(table.rows(), [["某某电器", "140213"]]);
}

#[test]
fn refuses_two_far_apart_cells_by_their_column_without_laying_out_the_range() {
    // The issue's file: A1 and XFD1048576 only; a dense range would be 2^34 cells.
    let rows = format!(r#"<row r="1">{}</row><row r="1048576">{}</row>"#, inline("A1", "a"), inline("XFD1048576", "b"));
    let figures = too_large(read_table(&workbook(&sheet("A1:XFD1048576", &rows), None), TableFormat::Xlsx));
    assert_eq!((figures.limit_kind, figures.found, figures.limit), (Limit::Columns, 16384, 200));
    assert!(figures.to_string().contains("文件有 16384 列，上限为 200 列"), "{figures}");
}

#[test]
fn refuses_a_far_row_in_the_first_column() {
    let rows = format!(r#"<row r="1">{}</row><row r="1048576">{}</row>"#, inline("A1", "a"), inline("A1048576", "b"));
    let figures = too_large(read_table(&workbook(&sheet("A1:A1048576", &rows), None), TableFormat::Xlsx));
    assert_eq!((figures.limit_kind, figures.found), (Limit::Rows, 1_048_576));
}

#[test]
fn ignores_a_declared_dimension_far_beyond_the_data() {
    let rows = format!(
        r#"<row r="1">{}{}</row><row r="2">{}{}</row>"#,
        inline("A1", "名称"),
        inline("B1", "代码"),
        inline("A2", "甲"),
        inline("B2", "1")
    );
    let table = read_table(&workbook(&sheet("A1:XFD1048576", &rows), None), TableFormat::Xlsx).expect("read");
    assert_eq!(table.rows(), [["甲", "1"]]);
}

#[test]
fn refuses_a_reversed_dimension_that_panics_calamine() {
    let rows = format!(r#"<row r="1">{}</row>"#, inline("A1", "a"));
    let result = read_table(&workbook(&sheet("B2:A1", &rows), None), TableFormat::Xlsx);
    assert!(matches!(result, Err(DocumentError::Spreadsheet(_))), "{result:?}");
}

#[test]
fn refuses_too_many_shared_strings() {
    let limits = ReadLimits { max_shared_strings: 1_000, ..ReadLimits::default() };
    let strings = format!(r#"<sst xmlns="{MAIN_NS}">{}</sst>"#, "<si><t>x</t></si>".repeat(1_001));
    let rows = r#"<row r="1"><c r="A1" t="s"><v>0</v></c></row>"#;
    let file = workbook(&sheet("A1", rows), Some(strings.as_bytes()));
    let figures = too_large(read_table_with(&file, TableFormat::Xlsx, &limits));
    assert_eq!(figures.limit_kind, Limit::SharedStrings);
}

#[test]
fn refuses_one_long_shared_string_repeated_by_many_cells() {
    // 30,000 characters × 6,000 cells = 180 MB of text from a file of a few hundred KB.
    let strings = format!(r#"<sst xmlns="{MAIN_NS}"><si><t>{}</t></si></sst>"#, "x".repeat(30_000));
    let rows: String = (1..=600)
        .map(|row| {
            let cells: String =
                (0..10).map(|c| format!(r#"<c r="{}{row}" t="s"><v>0</v></c>"#, char::from(b'A' + c))).collect();
            format!(r#"<row r="{row}">{cells}</row>"#)
        })
        .collect();
    let figures =
        too_large(read_table(&workbook(&sheet("A1:J600", &rows), Some(strings.as_bytes())), TableFormat::Xlsx));
    assert_eq!(figures.limit_kind, Limit::TextBytes);
}

#[test]
fn refuses_a_zip_bomb_by_its_real_decompressed_size() {
    // 300 MB of worksheet XML compresses to well under a megabyte.
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("xl/worksheets/sheet1.xml", options).expect("entry");
    let chunk = "<row/>".repeat(10_000);
    for _ in 0..(300 * 1024 * 1024 / chunk.len()) {
        zip.write_all(chunk.as_bytes()).expect("write");
    }
    let bomb = zip.finish().expect("zip").into_inner();
    assert!(bomb.len() < 2 * 1024 * 1024, "the bomb is small: {} bytes", bomb.len());
    let figures = too_large(read_table(&bomb, TableFormat::Xlsx));
    assert_eq!(figures.limit_kind, Limit::UncompressedBytes);
    assert!(figures.to_string().starts_with("Excel 文件解压后的大小超过上限"), "{figures}");
}

#[test]
fn refuses_too_many_zip_entries() {
    let limits = ReadLimits { max_zip_entries: 10, ..ReadLimits::default() };
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for index in 0..11 {
        zip.start_file(format!("x/{index}.xml"), SimpleFileOptions::default()).expect("entry");
    }
    let file = zip.finish().expect("zip").into_inner();
    assert_eq!(too_large(read_table_with(&file, TableFormat::Xlsx, &limits)).found, 11);
}

#[test]
fn survives_deeply_nested_xml_in_a_cell_and_in_the_shared_strings() {
    let depth = 200_000;
    let nested = format!("{}{}", "<r><t>x</t>".repeat(depth), "</r>".repeat(depth));
    let rows = format!(r#"<row r="1"><c r="A1" t="inlineStr"><is>{nested}</is></c><c r="B1" t="s"><v>0</v></c></row>"#);
    let strings = format!(r#"<sst xmlns="{MAIN_NS}"><si>{nested}</si></sst>"#);
    // Whatever the reader makes of it, it answers instead of overflowing its stack.
    let result = read_table(&workbook(&sheet("A1:B1", &rows), Some(strings.as_bytes())), TableFormat::Xlsx);
    assert!(matches!(result, Ok(_) | Err(DocumentError::Spreadsheet(_) | DocumentError::TooLarge(_))), "{result:?}");
}

#[test]
fn refuses_workbook_formats_that_cannot_be_read_cell_by_cell() {
    let ole = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0, 0, 0];
    let refused = |bytes: &[u8]| match read_table(bytes, TableFormat::Xlsx) {
        Err(DocumentError::Spreadsheet(message)) => message,
        other => panic!("expected a refusal, got {other:?}"),
    };
    assert!(refused(&ole).contains(".xls"));
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file("xl/workbook.bin", SimpleFileOptions::default()).expect("entry");
    assert!(refused(&zip.finish().expect("zip").into_inner()).contains(".xlsb"));
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file("mimetype", SimpleFileOptions::default()).expect("entry");
    zip.write_all(b"application/vnd.oasis.opendocument.spreadsheet").expect("write");
    zip.start_file("content.xml", SimpleFileOptions::default()).expect("entry");
    assert!(refused(&zip.finish().expect("zip").into_inner()).contains(".ods"));
}

#[test]
fn refuses_csv_past_each_bound() {
    let small = ReadLimits {
        max_file_bytes: 10_000,
        max_rows: 50,
        max_columns: 5,
        max_cells: 60,
        max_cell_chars: 20,
        ..ReadLimits::default()
    };
    let csv = |text: String| too_large(read_table_with(text.as_bytes(), TableFormat::Csv, &small));
    assert_eq!(csv("a,".repeat(6_000)).limit_kind, Limit::FileBytes);
    let wide = csv("a,b,c,d,e,f\n".to_owned());
    assert_eq!((wide.limit_kind, wide.found), (Limit::Columns, 6));
    assert_eq!(csv("a\n".repeat(51)).limit_kind, Limit::Rows);
    assert_eq!(csv("a,b,c,d\n".repeat(16)).limit_kind, Limit::Cells);
    let long = csv(format!("名称\n{}\n", "长".repeat(21)));
    assert_eq!((long.limit_kind, long.found), (Limit::CellChars, 21));
    // Rows × the widest row is what the table takes in memory: 30 rows of one cell and one of five.
    let laid_out = csv(format!("{}a,b,c,d,e\n", "a\n".repeat(30)));
    assert_eq!((laid_out.limit_kind, laid_out.found), (Limit::Cells, 155));
}

#[test]
fn reads_a_csv_within_the_bounds() {
    let table = read_table("名称,代码\n甲,1\n乙,2\n".as_bytes(), TableFormat::Csv).expect("read");
    assert_eq!(table.len(), 2);
}

/// Arbitrary uploads: workbooks with cells anywhere up to XFD1048576, odd strings and dimensions,
/// truncated or random bytes. Whatever comes in, the readers answer `Ok` or a `DocumentError`.
fn column_name(mut index: u32) -> String {
    let mut name = Vec::new();
    loop {
        name.push(b'A' + u8::try_from(index % 26).expect("letter"));
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    name.reverse();
    String::from_utf8(name).expect("ascii")
}

fn xml_escape(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect::<String>()
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

prop_compose! {
    fn random_workbook()(
        cells in proptest::collection::vec((0u32..1_048_576, 0u32..16_384, ".{0,40}", any::<bool>()), 0..30),
        dimension in "[A-Z]{1,3}[0-9]{1,7}(:[A-Z]{1,3}[0-9]{1,7})?",
        strings in proptest::collection::vec(".{0,20}", 0..5),
        cut in proptest::option::of(0usize..4_000),
        raw in any::<bool>(),
    ) -> Vec<u8> {
        let rows: String = cells
            .iter()
            .map(|(row, column, text, shared)| {
                let reference = format!("{}{}", column_name(*column), row + 1);
                let cell = if *shared && !strings.is_empty() {
                    format!(r#"<c r="{reference}" t="s"><v>{}</v></c>"#, text.len() % strings.len())
                } else if raw {
                    format!(r#"<c r="{reference}" t="inlineStr"><is><t>{text}</t></is></c>"#)
                } else {
                    inline(&reference, &xml_escape(text))
                };
                format!(r#"<row r="{}">{cell}</row>"#, row + 1)
            })
            .collect();
        let sst = format!(
            r#"<sst xmlns="{MAIN_NS}">{}</sst>"#,
            strings.iter().map(|s| format!("<si><t>{}</t></si>", xml_escape(s))).collect::<String>()
        );
        let mut file = workbook(&sheet(&dimension, &rows), Some(sst.as_bytes()));
        if let Some(cut) = cut {
            file.truncate(cut);
        }
        file
    }
}

proptest! {
    // 200 cases unless PROPTEST_CASES says otherwise (CI runs the default as part of `cargo test`).
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(200),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn any_workbook_is_read_or_refused(file in random_workbook()) {
        match read_table(&file, TableFormat::Xlsx) {
            Ok(table) => prop_assert!(table.headers().len() <= 200),
            Err(
                DocumentError::Spreadsheet(_)
                | DocumentError::TooLarge(_)
                | DocumentError::ControlCharacter { .. }
                | DocumentError::EmptyTable,
            ) => {}
            Err(other) => prop_assert!(false, "unexpected error {other:?}"),
        }
        let _ = read_rows(&file, TableFormat::Xlsx);
    }

    #[test]
    fn any_bytes_are_read_or_refused(bytes in proptest::collection::vec(any::<u8>(), 0..2_000)) {
        let _ = read_table(&bytes, TableFormat::Xlsx);
        let _ = read_rows(&bytes, TableFormat::Csv);
    }

    #[test]
    fn any_csv_is_read_or_refused(
        records in proptest::collection::vec(proptest::collection::vec("[^\u{0}]{0,12}", 0..300), 0..40),
        separators in "[,\"\r\n]{0,5}",
    ) {
        let text: String = records.iter().map(|r| r.join(",") + &separators + "\n").collect();
        match read_table(text.as_bytes(), TableFormat::Csv) {
            Ok(table) => prop_assert!(table.headers().len() <= 200),
            Err(
                DocumentError::Csv { .. }
                | DocumentError::TooLarge(_)
                | DocumentError::ControlCharacter { .. }
                | DocumentError::EmptyTable,
            ) => {}
            Err(other) => prop_assert!(false, "unexpected error {other:?}"),
        }
    }
}
