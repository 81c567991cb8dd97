//! Reading uploads: the first sheet of an Excel workbook (calamine) or a CSV file (UTF-8 with or
//! without BOM, or GB18030/GBK as saved by Excel and WPS on Chinese Windows) into a [`Table`].

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::Cursor;
use std::panic::AssertUnwindSafe;

use calamine::{Data, Reader, Xlsx};

use super::Table;
use super::limits::{Limit, ReadLimits, TooLarge};
use super::zip_scan::{self, ZipKind};
use crate::DocumentError;

/// The format of an uploaded table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TableFormat {
    /// An Excel workbook: `.xlsx` or `.xlsm`. `.xls`, `.xlsb` and `.ods` are recognised by name and by
    /// content, and refused with a hint to save the file as `.xlsx`.
    Xlsx,
    /// Comma-separated values.
    Csv,
}

impl TableFormat {
    /// The format for an uploaded file's name, by extension (case-insensitive).
    pub fn from_file_name(name: &str) -> Option<TableFormat> {
        let extension = name.rsplit_once('.')?.1.to_ascii_lowercase();
        match extension.as_str() {
            "xlsx" | "xlsm" | "xlsb" | "xls" | "ods" => Some(TableFormat::Xlsx),
            "csv" => Some(TableFormat::Csv),
            _ => None,
        }
    }
}

/// Reads the header and data rows of an uploaded table, within the default [`ReadLimits`].
///
/// The header is the first non-blank row, except that a leading row with a single filled cell
/// followed by a row with several (a title such as [`write_table`](super::write_table) writes) is
/// skipped. Blank rows are skipped; [`Table::sheet_row`] still gives each row's own number.
/// Cells become trimmed strings: whole numbers without ".0", other numbers with at most 15
/// significant digits (what Excel shows), dates as `YYYY-MM-DD` (with ` HH:MM:SS` if they have a
/// time), text exactly as typed.
///
/// # Errors
/// [`DocumentError::Spreadsheet`] or [`DocumentError::Csv`] for unreadable files (and for the
/// workbook formats refused outright: `.xls`, `.xlsb`, `.ods`), [`DocumentError::CsvEncoding`] for a
/// CSV in an unknown encoding, [`DocumentError::TooLarge`] for a file past a bound,
/// [`DocumentError::EmptyTable`] when there is no non-blank row.
pub fn read_table(bytes: &[u8], format: TableFormat) -> Result<Table, DocumentError> {
    read_table_with(bytes, format, &ReadLimits::default())
}

/// [`read_table`] within the given limits.
///
/// # Errors
/// As [`read_table`].
pub fn read_table_with(bytes: &[u8], format: TableFormat, limits: &ReadLimits) -> Result<Table, DocumentError> {
    build_table(read_numbered_rows(bytes, format, limits)?.into_iter())
}

/// Every non-blank row of the first sheet (or of a CSV), with its 1-based sheet row number, cells as
/// [`read_table`] reads them; for layouts that are not one header over rows (e.g. Annex 1 tables
/// with a title, merged cells and a 合计 row).
///
/// # Errors
/// As [`read_table`].
pub fn read_rows(bytes: &[u8], format: TableFormat) -> Result<Vec<(u32, Vec<String>)>, DocumentError> {
    read_rows_with(bytes, format, &ReadLimits::default())
}

/// [`read_rows`] within the given limits.
///
/// # Errors
/// As [`read_table`].
pub fn read_rows_with(
    bytes: &[u8],
    format: TableFormat,
    limits: &ReadLimits,
) -> Result<Vec<(u32, Vec<String>)>, DocumentError> {
    let rows = read_numbered_rows(bytes, format, limits)?;
    Ok(rows.into_iter().filter(|(_, cells)| cells.iter().any(|c| !c.is_empty())).collect())
}

/// The rows of the first sheet or of a CSV, each as wide as its last non-empty cell, blank rows
/// left out; the whole table as laid out (rows × widest row) is within `limits.max_cells`.
fn read_numbered_rows(
    bytes: &[u8],
    format: TableFormat,
    limits: &ReadLimits,
) -> Result<Vec<(u32, Vec<String>)>, DocumentError> {
    let file_bytes = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if file_bytes > limits.max_file_bytes {
        return Err(too_large(TooLarge::exact(Limit::FileBytes, limits.max_file_bytes, file_bytes)));
    }
    let sheet = match format {
        TableFormat::Xlsx => read_workbook(bytes, limits)?,
        TableFormat::Csv => read_csv(bytes, limits)?,
    };
    sheet.into_rows()
}

/// The first sheet of a workbook, cell by cell: only XLSX (and XLSM) has a reader that does not lay
/// out the whole used range in memory, so the other workbook formats are refused with a hint.
fn read_workbook<'l>(bytes: &[u8], limits: &'l ReadLimits) -> Result<SparseSheet<'l>, DocumentError> {
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        // An OLE compound file: Excel 97-2003, or an XLSX encrypted with a password.
        return Err(DocumentError::Spreadsheet(
            "不支持 Excel 97-2003（.xls）格式或设置了打开密码的文件：请在 Excel 或 WPS 中取消密码并另存为 .xlsx 后重新上传"
                .to_owned(),
        ));
    }
    match zip_scan::scan_zip(bytes, limits)? {
        ZipKind::Xlsx => {}
        ZipKind::Xlsb => {
            return Err(DocumentError::Spreadsheet(
                "不支持 Excel 二进制工作簿（.xlsb）：请在 Excel 中另存为 .xlsx 后重新上传".to_owned(),
            ));
        }
        ZipKind::Ods => {
            return Err(DocumentError::Spreadsheet(
                "不支持 OpenDocument 表格（.ods）：请在 WPS 或 LibreOffice 中另存为 .xlsx 后重新上传".to_owned(),
            ));
        }
    }
    // calamine can panic on malformed input (a reversed `<dimension ref="B2:A1">` overflows a
    // subtraction in 0.38): a bad upload is refused as unreadable, not answered with a crash.
    std::panic::catch_unwind(AssertUnwindSafe(|| read_first_sheet(bytes, limits))).unwrap_or_else(|_| {
        Err(DocumentError::Spreadsheet("文件已损坏或不是 Excel 格式（内部结构无法解析）".to_owned()))
    })
}

fn read_first_sheet<'l>(bytes: &[u8], limits: &'l ReadLimits) -> Result<SparseSheet<'l>, DocumentError> {
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes))
        .map_err(|err| DocumentError::Spreadsheet(format!("文件已损坏或不是 Excel 格式（{err}）")))?;
    let first = workbook.sheet_names().into_iter().next().ok_or(DocumentError::EmptyTable)?;
    let unreadable = |err: calamine::XlsxError| DocumentError::Spreadsheet(format!("第一个工作表无法读取（{err}）"));
    let mut cells = workbook.worksheet_cells_reader(&first).map_err(unreadable)?;
    let mut sheet = SparseSheet::new(limits, true);
    while let Some(cell) = cells.next_cell().map_err(unreadable)? {
        let (row, column) = cell.get_position();
        let text = cell_text(&Data::from(cell.get_value().clone()));
        sheet.push(u64::from(row) + 1, u64::from(column) + 1, text)?;
    }
    Ok(sheet)
}

fn read_csv<'l>(bytes: &[u8], limits: &'l ReadLimits) -> Result<SparseSheet<'l>, DocumentError> {
    let text = decode_csv(bytes)?;
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut lines = LineCounter::new(&text);
    let mut sheet = SparseSheet::new(limits, false);
    for record in reader.records() {
        let record = record.map_err(|err| DocumentError::Csv {
            row: err.position().map_or(1, |position| lines.sheet_row(position.byte())),
            message: csv_error_message(&err),
        })?;
        let row = record.position().map_or(1, |position| lines.sheet_row(position.byte()));
        lines.newlines_in_cells += record.iter().map(|cell| cell.matches('\n').count()).sum::<usize>();
        for (column, cell) in record.iter().enumerate() {
            let column = u64::try_from(column).unwrap_or(u64::MAX).saturating_add(1);
            sheet.push(u64::from(row), column, cell.trim().to_owned())?;
        }
    }
    Ok(sheet)
}

fn too_large(figures: TooLarge) -> DocumentError {
    DocumentError::TooLarge(figures)
}

/// Non-empty cells by row, checked against the limits as each arrives, so that memory follows the
/// cells present and reading stops at the first bound exceeded.
struct SparseSheet<'a> {
    limits: &'a ReadLimits,
    rows: BTreeMap<u64, Vec<(u64, String)>>,
    cells: u64,
    text_bytes: u64,
    /// Whether the first column laid out is the leftmost filled one rather than column A (as a
    /// workbook's used range starts; a CSV keeps its empty leading columns).
    from_first_filled_column: bool,
}

impl<'a> SparseSheet<'a> {
    fn new(limits: &'a ReadLimits, from_first_filled_column: bool) -> Self {
        SparseSheet { limits, rows: BTreeMap::new(), cells: 0, text_bytes: 0, from_first_filled_column }
    }

    /// Adds a cell at a 1-based sheet row and column; empty cells are dropped.
    fn push(&mut self, row: u64, column: u64, text: String) -> Result<(), DocumentError> {
        if text.is_empty() {
            return Ok(());
        }
        if let Some((_, character)) = choucha_domain::text::forbidden_char(&text) {
            return Err(DocumentError::ControlCharacter { row, column, character });
        }
        let l = self.limits;
        if column > l.max_columns {
            return Err(too_large(TooLarge::exact(Limit::Columns, l.max_columns, column)));
        }
        if row > l.max_rows {
            return Err(too_large(TooLarge::at_least(Limit::Rows, l.max_rows, row)));
        }
        let chars = u64::try_from(text.chars().count()).unwrap_or(u64::MAX);
        if chars > l.max_cell_chars {
            return Err(too_large(TooLarge::exact(Limit::CellChars, l.max_cell_chars, chars)));
        }
        self.cells += 1;
        if self.cells > l.max_cells {
            return Err(too_large(TooLarge::at_least(Limit::Cells, l.max_cells, self.cells)));
        }
        self.text_bytes = self.text_bytes.saturating_add(u64::try_from(text.len()).unwrap_or(u64::MAX));
        if self.text_bytes > l.max_text_bytes {
            return Err(too_large(TooLarge::at_least(Limit::TextBytes, l.max_text_bytes, self.text_bytes)));
        }
        self.rows.entry(row).or_default().push((column, text));
        Ok(())
    }

    /// The rows laid out as cells (empty strings between filled ones), refused when the table they
    /// make (rows × the widest row) exceeds the cell limit.
    fn into_rows(self) -> Result<Vec<(u32, Vec<String>)>, DocumentError> {
        let columns = || self.rows.values().flat_map(|cells| cells.iter().map(|(column, _)| *column));
        let first = if self.from_first_filled_column { columns().min().unwrap_or(1) } else { 1 };
        let width = columns().max().map_or(0, |last| last + 1 - first);
        let laid_out = u64::try_from(self.rows.len()).unwrap_or(u64::MAX).saturating_mul(width);
        if laid_out > self.limits.max_cells {
            return Err(too_large(TooLarge::exact(Limit::Cells, self.limits.max_cells, laid_out)));
        }
        let mut rows = Vec::with_capacity(self.rows.len());
        for (row, mut cells) in self.rows {
            cells.sort_by_key(|(column, _)| *column);
            let row_width = cells.last().map_or(0, |(column, _)| *column + 1 - first);
            let mut line = vec![String::new(); usize::try_from(row_width).unwrap_or(0)];
            for (column, text) in cells {
                if let Some(slot) = usize::try_from(column - first).ok().and_then(|index| line.get_mut(index)) {
                    *slot = text;
                }
            }
            rows.push((u32::try_from(row).unwrap_or(u32::MAX), line));
        }
        Ok(rows)
    }
}

/// Maps a CSV record's byte offset to the row a spreadsheet program shows: one row per physical
/// line, blank lines included, except that line breaks inside quoted cells do not start rows.
/// (The csv crate's own line numbers count from before skipped blank lines, so they are off.)
struct LineCounter<'a> {
    text: &'a str,
    counted_to: usize,
    newlines_before: usize,
    newlines_in_cells: usize,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a str) -> Self {
        LineCounter { text, counted_to: 0, newlines_before: 0, newlines_in_cells: 0 }
    }

    /// Offsets must not decrease between calls.
    fn sheet_row(&mut self, record_offset: u64) -> u32 {
        let bytes = self.text.as_bytes();
        let offset = usize::try_from(record_offset).unwrap_or(usize::MAX).min(bytes.len());
        // The reported offset is where the reader started, before the blank lines it skipped.
        let skipped = bytes[offset..].iter().take_while(|&&byte| byte == b'\r' || byte == b'\n').count();
        let start = offset + skipped;
        if start > self.counted_to {
            self.newlines_before += bytes[self.counted_to..start].iter().filter(|&&byte| byte == b'\n').count();
            self.counted_to = start;
        }
        let row = (self.newlines_before + 1).saturating_sub(self.newlines_in_cells).max(1);
        u32::try_from(row).unwrap_or(u32::MAX)
    }
}

fn csv_error_message(err: &csv::Error) -> String {
    match err.kind() {
        csv::ErrorKind::Utf8 { .. } => "含有无法识别的字符".to_owned(),
        _ => format!("格式错误（{err}）"),
    }
}

/// UTF-8 (a BOM is dropped) or, failing that, GB18030, the superset of GBK that Chinese Windows
/// uses for "CSV (逗号分隔)".
fn decode_csv(bytes: &[u8]) -> Result<Cow<'_, str>, DocumentError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(Cow::Borrowed(text));
    }
    encoding_rs::GB18030.decode_without_bom_handling_and_without_replacement(bytes).ok_or(DocumentError::CsvEncoding)
}

/// Finds the header among numbered rows and collects the non-blank rows below it.
fn build_table(rows: impl Iterator<Item = (u32, Vec<String>)>) -> Result<Table, DocumentError> {
    let mut rows = rows
        .filter(|(_, cells)| cells.iter().any(|cell| !cell.is_empty()))
        .map(|(number, mut cells)| {
            let filled = cells.iter().rposition(|cell| !cell.is_empty()).map_or(0, |last| last + 1);
            cells.truncate(filled);
            (number, cells)
        })
        .peekable();
    let (mut header_row, mut headers) = rows.next().ok_or(DocumentError::EmptyTable)?;
    if filled_cells(&headers) == 1
        && let Some((_, next)) = rows.peek()
        && filled_cells(next) >= 2
        && let Some((row, cells)) = rows.next()
    {
        (header_row, headers) = (row, cells);
    }
    Ok(Table::from_numbered(header_row, headers, rows))
}

fn filled_cells(cells: &[String]) -> usize {
    cells.iter().filter(|cell| !cell.is_empty()).count()
}

fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(text) => text.trim().to_owned(),
        Data::Int(number) => number.to_string(),
        Data::Float(number) => number_text(*number),
        Data::Bool(value) => if *value { "TRUE" } else { "FALSE" }.to_owned(),
        Data::DateTime(datetime) => {
            let (year, month, day, hour, minute, second, _) = datetime.to_ymd_hms_milli();
            let has_time = (hour, minute, second) != (0, 0, 0);
            if datetime.is_duration() || datetime.as_f64() < 1.0 {
                format!("{hour:02}:{minute:02}:{second:02}")
            } else if has_time {
                format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02}")
            } else {
                format!("{year:04}-{month:02}-{day:02}")
            }
        }
        Data::DateTimeIso(text) => {
            let text = text.trim();
            text.strip_suffix("T00:00:00").unwrap_or(text).replace('T', " ")
        }
        Data::DurationIso(text) => text.trim().to_owned(),
        Data::Error(error) => error.to_string(),
    }
}

/// A number as Excel shows it: at most 15 significant digits, no exponent, no trailing ".0".
fn number_text(number: f64) -> String {
    if !number.is_finite() {
        return number.to_string();
    }
    let rounded: f64 = format!("{number:.14e}").parse().unwrap_or(number);
    if rounded == 0.0 { "0".to_owned() } else { rounded.to_string() }
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::panic)] // a failing test should panic
mod tests {
    use super::*;

    #[test]
    fn refuses_a_cell_with_a_control_character_naming_its_row_and_column() {
        let result = read_table("名称,代码\n甲,1\n乙\u{0},2\n".as_bytes(), TableFormat::Csv);
        let Err(err @ DocumentError::ControlCharacter { row: 3, column: 1, character: '\0' }) = result else {
            panic!("{result:?}");
        };
        assert_eq!(err.to_string(), "第 3 行第 1 列（A列）含有不允许的控制字符（U+0000），请删除后重新上传");
        let result = read_table("名称,代码\n甲,\u{1b}[31m\n".as_bytes(), TableFormat::Csv);
        assert!(matches!(result, Err(DocumentError::ControlCharacter { row: 2, column: 2, .. })), "{result:?}");
        // Tabs and line breaks inside a cell are text, not control characters to refuse.
        let table = read_table("名称,说明\n甲,\"第一行\n第二行\t制表\"\n".as_bytes(), TableFormat::Csv).expect("CSV");
        assert_eq!(table.rows()[0][1], "第一行\n第二行\t制表");
    }

    #[test]
    fn shows_numbers_as_excel_does() {
        assert_eq!(number_text(140213.0), "140213");
        assert_eq!(number_text(0.1 + 0.2), "0.3");
        assert_eq!(number_text(12.5), "12.5");
        assert_eq!(number_text(-0.0), "0");
        assert_eq!(number_text(1e16), "10000000000000000");
    }

    #[test]
    fn recognises_formats_by_file_name() {
        assert_eq!(TableFormat::from_file_name("抽样单.XLSX"), Some(TableFormat::Xlsx));
        assert_eq!(TableFormat::from_file_name("企业名录.csv"), Some(TableFormat::Csv));
        assert_eq!(TableFormat::from_file_name("说明.docx"), None);
        assert_eq!(TableFormat::from_file_name("无扩展名"), None);
    }

    #[test]
    fn reads_gbk_csv() {
        let (bytes, _, _) =
            encoding_rs::GBK.encode("企业名称,统一社会信用代码\n某某电器股份有限公司,91140213MA0K123456\n");
        let table = read_table(&bytes, TableFormat::Csv).expect("GBK CSV");
        assert_eq!(table.headers(), ["企业名称", "统一社会信用代码"]);
        assert_eq!(table.rows()[0], ["某某电器股份有限公司", "91140213MA0K123456"]);
    }

    #[test]
    fn refuses_csv_in_unknown_encoding() {
        // 0x80 alone is invalid in UTF-8, and 0xFF is never valid in GB18030.
        let result = read_table(b"a,b\n\x80\xFF,1\n", TableFormat::Csv);
        assert!(matches!(result, Err(DocumentError::CsvEncoding)), "{result:?}");
    }

    #[test]
    fn numbers_csv_rows_as_a_spreadsheet_shows_them() {
        let csv = "名称,说明\n甲,\"第一行\r\n第二行\"\n\n乙,x\n,,\n丙,y\r\n\r\n丁\r\n";
        let table = read_table(csv.as_bytes(), TableFormat::Csv).expect("CSV");
        let numbered: Vec<(u32, &str)> = table.numbered_rows().map(|(row, cells)| (row, cells[0].as_str())).collect();
        // Row 3 is the blank line (skipped), row 5 the empty record ",,".
        assert_eq!(numbered, [(2, "甲"), (4, "乙"), (6, "丙"), (8, "丁")]);
        assert_eq!(table.sheet_row(1), 4);
    }

    #[test]
    fn skips_a_title_row_above_the_header() {
        let csv = "2025年抽检企业名录,,\n名称,代码,地址\n甲,1,x\n";
        let table = read_table(csv.as_bytes(), TableFormat::Csv).expect("CSV");
        assert_eq!(table.header_row(), 2);
        assert_eq!(table.headers(), ["名称", "代码", "地址"]);
        assert_eq!(table.sheet_row(0), 3);
    }

    #[test]
    fn keeps_a_one_column_table_header() {
        let table = read_table("代码\n140213\n".as_bytes(), TableFormat::Csv).expect("CSV");
        assert_eq!(table.headers(), ["代码"]);
        assert_eq!(table.rows(), [["140213"]]);
    }

    #[test]
    fn refuses_an_empty_file() {
        assert!(matches!(read_table(b"", TableFormat::Csv), Err(DocumentError::EmptyTable)));
        assert!(matches!(read_table(b"\xEF\xBB\xBF\n,,\n", TableFormat::Csv), Err(DocumentError::EmptyTable)));
    }

    #[test]
    fn refuses_a_file_that_is_not_a_workbook() {
        let result = read_table(b"not a workbook", TableFormat::Xlsx);
        assert!(matches!(result, Err(DocumentError::Spreadsheet(_))), "{result:?}");
    }
}
