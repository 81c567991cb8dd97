//! Writing downloads: sheets with an optional title row, a bold bordered header row that stays in
//! view (frozen) and filters, and bordered data cells. Cells are typed: numbers, amounts (`0.00`),
//! dates and Beijing times are real Excel values; text cells carry the text number format (`@`),
//! so codes stay text even when a user edits them in Excel.
//!
//! Every sheet is set up to print as a bureau files it: A4, landscape when wider than
//! [`PORTRAIT_MAX_COLUMNS`] columns, fit to one page wide, the title and header rows repeated on
//! each page, 第 N 页 共 M 页 in the footer ([`print_setup`], also used by the Annex 1 writer).

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Timelike, Utc};
use rust_xlsxwriter::{ExcelDateTime, Format, FormatAlign, FormatBorder, Workbook, Worksheet};

use crate::DocumentError;

/// Excel's limits (rows per sheet, characters per cell).
const MAX_ROWS: u32 = 1_048_576;
const MAX_CELL_CHARS: usize = 32_767;

/// Column widths in Excel's character units: a Chinese character counts as two.
const MIN_COLUMN_WIDTH: usize = 6;
const MAX_COLUMN_WIDTH: usize = 60;

/// One cell of a written table.
#[derive(Debug, Clone, PartialEq)]
pub enum CellValue {
    /// Text, written as text even if it looks like a number (codes, USCCs, phone numbers).
    Text(String),
    /// A number (counts, amounts). Not-a-number and infinities are written as empty cells.
    Number(f64),
    /// An amount of money in yuan, shown with two decimals (`0.00`).
    Amount(f64),
    /// A date, shown as `yyyy-mm-dd`.
    Date(NaiveDate),
    /// A moment, shown in Beijing time as `yyyy-mm-dd hh:mm`.
    Time(DateTime<Utc>),
    /// An empty (but bordered) cell.
    Empty,
}

impl CellValue {
    /// A date held as `yyyy-mm-dd` text (a record's field): a real date when it is one, the text
    /// otherwise (so nothing typed by a person is lost).
    pub fn date_text(text: &str) -> CellValue {
        let text = text.trim();
        match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            Ok(date) => CellValue::Date(date),
            Err(_) if text.is_empty() => CellValue::Empty,
            Err(_) => CellValue::Text(text.to_owned()),
        }
    }

    /// An amount held as text (`"12.50"`): a number when it is one, the text otherwise.
    pub fn amount_text(text: &str) -> CellValue {
        let text = text.trim();
        match text.parse::<f64>() {
            Ok(amount) if amount.is_finite() => CellValue::Amount(amount),
            _ if text.is_empty() => CellValue::Empty,
            _ => CellValue::Text(text.to_owned()),
        }
    }
}

impl From<&str> for CellValue {
    fn from(text: &str) -> Self {
        CellValue::Text(text.to_owned())
    }
}

impl From<String> for CellValue {
    fn from(text: String) -> Self {
        CellValue::Text(text)
    }
}

impl From<f64> for CellValue {
    fn from(number: f64) -> Self {
        CellValue::Number(number)
    }
}

impl From<u32> for CellValue {
    fn from(number: u32) -> Self {
        CellValue::Number(f64::from(number))
    }
}

impl From<i32> for CellValue {
    fn from(number: i32) -> Self {
        CellValue::Number(f64::from(number))
    }
}

impl From<i64> for CellValue {
    fn from(number: i64) -> Self {
        // Counts and ids of a sheet are far below 2^53, exactly representable.
        CellValue::Number(number as f64)
    }
}

impl From<usize> for CellValue {
    fn from(number: usize) -> Self {
        CellValue::Number(number as f64)
    }
}

impl From<DateTime<Utc>> for CellValue {
    fn from(at: DateTime<Utc>) -> Self {
        CellValue::Time(at)
    }
}

impl From<NaiveDate> for CellValue {
    fn from(date: NaiveDate) -> Self {
        CellValue::Date(date)
    }
}

impl<T: Into<CellValue>> From<Option<T>> for CellValue {
    fn from(value: Option<T>) -> Self {
        value.map_or(CellValue::Empty, Into::into)
    }
}

/// The formats of one workbook.
struct Formats {
    title: Format,
    header: Format,
    text: Format,
    number: Format,
    amount: Format,
    date: Format,
    time: Format,
}

impl Formats {
    fn new() -> Formats {
        let cell = Format::new().set_border(FormatBorder::Thin).set_align(FormatAlign::VerticalCenter);
        Formats {
            title: Format::new()
                .set_bold()
                .set_font_size(16)
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter),
            header: cell
                .clone()
                .set_bold()
                .set_align(FormatAlign::Center)
                .set_text_wrap()
                .set_background_color("#F2F2F2")
                .set_num_format("@"),
            text: cell.clone().set_num_format("@").set_text_wrap(),
            number: cell.clone(),
            amount: cell.clone().set_num_format("0.00"),
            date: cell.clone().set_num_format("yyyy-mm-dd"),
            time: cell.set_num_format("yyyy-mm-dd hh:mm"),
        }
    }
}

/// Sheets wider than this many columns print in landscape.
pub const PORTRAIT_MAX_COLUMNS: usize = 8;

/// One sheet of a workbook: a name, an optional title row above the header, the header and the
/// rows. Rows shorter than the header are padded with empty (bordered) cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Sheet {
    pub name: String,
    pub title: Option<String>,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<CellValue>>,
}

impl Sheet {
    /// An empty sheet named `name` with the header `headers`.
    pub fn new(name: &str, headers: &[&str]) -> Sheet {
        Sheet {
            name: name.to_owned(),
            title: None,
            headers: headers.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    /// The sheet with the title row `title` (printed on every page with the header).
    pub fn titled(mut self, title: impl Into<String>) -> Sheet {
        self.title = Some(title.into());
        self
    }

    /// Appends one row.
    pub fn push(&mut self, row: Vec<CellValue>) {
        self.rows.push(row);
    }
}

/// Writes one sheet named `sheet_name` (characters Excel forbids are replaced, and the name is cut
/// to 31 characters) and returns the `.xlsx` bytes.
///
/// With a `title`, row 1 holds it (merged over all columns) and the header is row 2.
///
/// # Errors
/// [`DocumentError::Xlsx`] when the table exceeds Excel's limits (1,048,576 rows, 32,767
/// characters per cell) or the workbook cannot be written.
pub fn write_table(
    sheet_name: &str,
    title: Option<&str>,
    headers: &[&str],
    rows: impl Iterator<Item = Vec<CellValue>>,
) -> Result<Vec<u8>, DocumentError> {
    let formats = Formats::new();
    let mut workbook = Workbook::new();
    write_sheet(&mut workbook, &formats, sheet_name, title, headers, rows)?;
    workbook.save_to_buffer().map_err(xlsx_error)
}

/// Writes `sheets`, in order, to one workbook and returns the `.xlsx` bytes. Sheet names are
/// cleaned as [`write_table`] does, and a name used twice gets a number.
///
/// # Errors
/// See [`write_table`]; also when `sheets` is empty.
pub fn write_workbook(sheets: &[Sheet]) -> Result<Vec<u8>, DocumentError> {
    if sheets.is_empty() {
        return Err(DocumentError::Xlsx("工作簿中没有工作表".to_owned()));
    }
    let formats = Formats::new();
    let mut workbook = Workbook::new();
    let mut used: Vec<String> = Vec::new();
    for sheet in sheets {
        let mut name = safe_sheet_name(&sheet.name);
        let mut n = 2;
        while used.contains(&name) {
            let suffix = format!("({n})");
            name = format!("{}{suffix}", name.chars().take(31 - suffix.len()).collect::<String>());
            n += 1;
        }
        used.push(name.clone());
        let headers: Vec<&str> = sheet.headers.iter().map(String::as_str).collect();
        write_sheet(&mut workbook, &formats, &name, sheet.title.as_deref(), &headers, sheet.rows.iter().cloned())?;
    }
    workbook.save_to_buffer().map_err(xlsx_error)
}

fn write_sheet(
    workbook: &mut Workbook,
    formats: &Formats,
    sheet_name: &str,
    title: Option<&str>,
    headers: &[&str],
    rows: impl Iterator<Item = Vec<CellValue>>,
) -> Result<(), DocumentError> {
    let sheet = workbook.add_worksheet();
    sheet.set_name(safe_sheet_name(sheet_name)).map_err(xlsx_error)?;

    let mut widths: Vec<usize> = headers.iter().map(|header| display_width(header)).collect();
    let header_row: u32 = if title.is_some() { 1 } else { 0 };

    for (column, header) in headers.iter().enumerate() {
        sheet.write_string_with_format(header_row, to_column(column)?, *header, &formats.header).map_err(xlsx_error)?;
    }

    let mut last_row = header_row;
    for (index, row) in rows.enumerate() {
        let sheet_row = u32::try_from(index)
            .ok()
            .and_then(|index| header_row.checked_add(1)?.checked_add(index))
            .filter(|&row| row < MAX_ROWS)
            .ok_or_else(|| DocumentError::Xlsx(format!("行数超过 Excel 上限 {MAX_ROWS} 行")))?;
        last_row = sheet_row;
        let width = row.len().max(headers.len());
        if widths.len() < width {
            widths.resize(width, 0);
        }
        let mut cells = row.into_iter();
        for (column, width) in widths.iter_mut().enumerate().take(width) {
            let cell = cells.next().unwrap_or(CellValue::Empty);
            *width = (*width).max(write_cell(sheet, formats, sheet_row, to_column(column)?, cell)?);
        }
    }

    let last_column = to_column(widths.len().saturating_sub(1))?;
    if let Some(title) = title {
        if last_column > 0 {
            sheet.merge_range(0, 0, 0, last_column, title, &formats.title).map_err(xlsx_error)?;
        } else {
            sheet.write_string_with_format(0, 0, title, &formats.title).map_err(xlsx_error)?;
        }
        sheet.set_row_height(0, 28).map_err(xlsx_error)?;
    }
    for (column, width) in widths.iter().enumerate() {
        let width = (width + 2).clamp(MIN_COLUMN_WIDTH, MAX_COLUMN_WIDTH);
        // Widths are small integers, exactly representable.
        sheet.set_column_width(to_column(column)?, width as f64).map_err(xlsx_error)?;
    }
    if !headers.is_empty() {
        sheet.set_freeze_panes(header_row + 1, 0).map_err(xlsx_error)?;
        sheet.autofilter(header_row, 0, last_row, last_column).map_err(xlsx_error)?;
    }
    print_setup(sheet, widths.len(), header_row)
}

/// The print set-up of every sheet Choucha writes: A4, landscape when wider than
/// [`PORTRAIT_MAX_COLUMNS`] columns, fit to one page wide (as many pages down as needed), rows
/// 1 to `last_repeated_row + 1` (title and header) repeated on each printed page, centred, and
/// 第 N 页 共 M 页 in the footer.
pub(crate) fn print_setup(sheet: &mut Worksheet, columns: usize, last_repeated_row: u32) -> Result<(), DocumentError> {
    // Paper size 9 is A4 in Excel's numbering.
    sheet.set_paper_size(9);
    if columns > PORTRAIT_MAX_COLUMNS {
        sheet.set_landscape();
    } else {
        sheet.set_portrait();
    }
    sheet.set_print_fit_to_pages(1, 0);
    sheet.set_print_center_horizontally(true);
    sheet.set_margins(0.4, 0.4, 0.6, 0.6, 0.3, 0.3);
    sheet.set_footer("&C第 &P 页 共 &N 页");
    sheet.set_repeat_rows(0, last_repeated_row).map_err(xlsx_error)?;
    Ok(())
}

/// Writes one cell and returns its display width.
fn write_cell(
    sheet: &mut Worksheet,
    formats: &Formats,
    row: u32,
    column: u16,
    cell: CellValue,
) -> Result<usize, DocumentError> {
    match cell {
        CellValue::Text(text) => {
            if text.chars().count() > MAX_CELL_CHARS {
                return Err(DocumentError::Xlsx(format!(
                    "第 {} 行第 {} 列的文本超过 Excel 单元格上限 {MAX_CELL_CHARS} 个字符",
                    row + 1,
                    column + 1
                )));
            }
            sheet.write_string_with_format(row, column, &text, &formats.text).map_err(xlsx_error)?;
            Ok(text.lines().map(display_width).max().unwrap_or(0))
        }
        CellValue::Number(number) if number.is_finite() => {
            sheet.write_number_with_format(row, column, number, &formats.number).map_err(xlsx_error)?;
            Ok(number.to_string().len())
        }
        CellValue::Amount(amount) if amount.is_finite() => {
            sheet.write_number_with_format(row, column, amount, &formats.amount).map_err(xlsx_error)?;
            Ok(format!("{amount:.2}").len())
        }
        CellValue::Time(at) => {
            let local = choucha_domain::clock::beijing(at);
            match excel_datetime(local) {
                Some(excel) => {
                    sheet.write_datetime_with_format(row, column, &excel, &formats.time).map_err(xlsx_error)?;
                }
                None => {
                    let text = local.format("%Y-%m-%d %H:%M").to_string();
                    sheet.write_string_with_format(row, column, &text, &formats.text).map_err(xlsx_error)?;
                }
            }
            Ok(16)
        }
        CellValue::Date(date) => {
            let excel_date = u16::try_from(date.year())
                .ok()
                .and_then(|year| ExcelDateTime::from_ymd(year, date.month() as u8, date.day() as u8).ok());
            match excel_date {
                Some(excel_date) => {
                    sheet.write_datetime_with_format(row, column, &excel_date, &formats.date).map_err(xlsx_error)?;
                }
                // Outside Excel's calendar (before 1900): keep the date readable as text.
                None => {
                    let text = date.format("%Y-%m-%d").to_string();
                    sheet.write_string_with_format(row, column, &text, &formats.text).map_err(xlsx_error)?;
                }
            }
            Ok(10)
        }
        CellValue::Number(_) | CellValue::Amount(_) | CellValue::Empty => {
            sheet.write_blank(row, column, &formats.text).map_err(xlsx_error)?;
            Ok(0)
        }
    }
}

/// A Beijing wall-clock time as Excel's (minutes; seconds dropped as the pages show them).
fn excel_datetime(local: NaiveDateTime) -> Option<ExcelDateTime> {
    let year = u16::try_from(local.year()).ok()?;
    ExcelDateTime::from_ymd(year, local.month() as u8, local.day() as u8)
        .ok()?
        .and_hms(local.hour() as u16, local.minute() as u8, 0)
        .ok()
}

fn to_column(index: usize) -> Result<u16, DocumentError> {
    // Excel has 16,384 columns.
    u16::try_from(index)
        .ok()
        .filter(|&column| column < 16_384)
        .ok_or_else(|| DocumentError::Xlsx("列数超过 Excel 上限 16384 列".to_owned()))
}

/// Width in Excel character units: wide (CJK, full-width) characters count two.
fn display_width(text: &str) -> usize {
    text.chars().map(|c| if is_wide(c) { 2 } else { 1 }).sum()
}

fn is_wide(c: char) -> bool {
    matches!(u32::from(c),
        0x1100..=0x115F | 0x2E80..=0x303E | 0x3041..=0x33FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF
        | 0xA000..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF | 0xFE30..=0xFE4F | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6 | 0x20000..=0x3FFFD)
}

/// Excel forbids `[ ] : * ? / \` in sheet names, a leading or trailing apostrophe and more than
/// 31 characters.
fn safe_sheet_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| if matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\') { '_' } else { c })
        .take(31)
        .collect();
    let cleaned = cleaned.trim_matches('\'').trim();
    if cleaned.is_empty() { "Sheet1".to_owned() } else { cleaned.to_owned() }
}

fn xlsx_error(err: rust_xlsxwriter::XlsxError) -> DocumentError {
    DocumentError::Xlsx(err.to_string())
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::panic)] // a failing test should panic
mod tests {
    use super::*;

    #[test]
    fn cleans_sheet_names_excel_would_refuse() {
        assert_eq!(safe_sheet_name("2025/10 抽检[汇总]"), "2025_10 抽检_汇总_");
        assert_eq!(safe_sheet_name("''"), "Sheet1");
        assert_eq!(safe_sheet_name(&"样".repeat(40)).chars().count(), 31);
    }

    #[test]
    fn counts_chinese_characters_twice_for_widths() {
        assert_eq!(display_width("BCD-520"), 7);
        assert_eq!(display_width("电冰箱"), 6);
        assert_eq!(display_width("（）"), 4);
    }

    #[test]
    fn refuses_a_cell_longer_than_excel_allows() {
        let rows = std::iter::once(vec![CellValue::Text("长".repeat(MAX_CELL_CHARS + 1))]);
        let result = write_table("表", None, &["说明"], rows);
        assert!(
            matches!(result, Err(DocumentError::Xlsx(ref message)) if message.contains("第 2 行第 1 列")),
            "{result:?}"
        );
    }
}
