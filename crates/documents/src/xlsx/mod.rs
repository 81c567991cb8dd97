//! Spreadsheets in and out: reading an uploaded XLSX/CSV into a [`Table`] of trimmed strings, and
//! writing rows of [`CellValue`]s to an XLSX file for download. Import and export features build on
//! these two functions and do their own column mapping and validation.
//!
//! Two promises matter to those features:
//! - Row numbers in messages are the spreadsheet's own 1-based row numbers (header = row 1 in a
//!   plain sheet); [`Table::sheet_row`] gives them, so "第 7 行" points at the row the user sees.
//! - Codes stay exact: text cells are read and written as text, so a USCC such as
//!   `91140213MA0K123456` or a division code such as `140213` never becomes a number.

mod limits;
mod read;
mod write;
mod zip_scan;

pub use limits::{Limit, ReadLimits, TooLarge};
pub use read::{TableFormat, read_rows, read_rows_with, read_table, read_table_with};
pub(crate) use write::print_setup;
pub use write::{CellValue, PORTRAIT_MAX_COLUMNS, Sheet, write_table, write_workbook};

/// A table read from the first sheet of a spreadsheet or from a CSV file: a header row and the
/// non-blank rows below it, every cell a trimmed string, every row as wide as the widest row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
    /// The sheet row number (1-based) of each entry of `rows`; blank rows are skipped, so the
    /// numbers may have gaps.
    row_numbers: Vec<u32>,
    header_row: u32,
}

impl Table {
    /// A table whose header is sheet row 1 and whose rows are sheet rows 2, 3, … (for tests and
    /// for callers that build tables themselves). Rows are padded to a common width.
    pub fn new(headers: Vec<String>, rows: Vec<Vec<String>>) -> Table {
        let numbered = rows.into_iter().enumerate().map(|(index, row)| (row_number_after(1, index), row));
        Table::from_numbered(1, headers, numbered)
    }

    pub(crate) fn from_numbered(
        header_row: u32,
        mut headers: Vec<String>,
        numbered: impl Iterator<Item = (u32, Vec<String>)>,
    ) -> Table {
        let (row_numbers, mut rows): (Vec<u32>, Vec<Vec<String>>) = numbered.unzip();
        let width = rows.iter().map(Vec::len).chain([headers.len()]).max().unwrap_or(0);
        headers.resize(width, String::new());
        for row in &mut rows {
            row.resize(width, String::new());
        }
        Table { headers, rows, row_numbers, header_row }
    }

    /// The header cells, trimmed; empty strings for columns without a header.
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// The data rows, each exactly `headers().len()` cells wide.
    pub fn rows(&self) -> &[Vec<String>] {
        &self.rows
    }

    /// Number of data rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there are no data rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The sheet row number (1-based, as the spreadsheet program shows it) of the header.
    pub fn header_row(&self) -> u32 {
        self.header_row
    }

    /// The sheet row number (1-based, as the spreadsheet program shows it) of data row `index`.
    /// For an index past the end, the number the row would have had after the last one.
    pub fn sheet_row(&self, index: usize) -> u32 {
        match self.row_numbers.get(index) {
            Some(&number) => number,
            None => {
                let last = self.row_numbers.last().copied().unwrap_or(self.header_row);
                row_number_after(last, index.saturating_sub(self.row_numbers.len()))
            }
        }
    }

    /// The data rows with their sheet row numbers.
    pub fn numbered_rows(&self) -> impl Iterator<Item = (u32, &[String])> + '_ {
        self.row_numbers.iter().copied().zip(self.rows.iter().map(Vec::as_slice))
    }

    /// The index of the first column whose header equals `header` (both trimmed).
    pub fn column(&self, header: &str) -> Option<usize> {
        let header = header.trim();
        self.headers.iter().position(|known| known == header)
    }
}

/// `base + 1 + offset`, saturating (a sheet never has 4 billion rows).
fn row_number_after(base: u32, offset: usize) -> u32 {
    let offset = u32::try_from(offset).unwrap_or(u32::MAX);
    base.saturating_add(1).saturating_add(offset)
}
