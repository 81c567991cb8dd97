//! The bounds every uploaded table is read within (issue 13): memory follows the cells actually
//! present and never the size a file declares, and each bound refused is named with the file's own
//! figure. One struct with defaults, so a later config can change them.

use std::fmt;

/// How much of an uploaded spreadsheet or CSV file is read before it is refused.
///
/// The defaults fit a registry import of several hundred thousand enterprises (eleven columns)
/// and keep the worst case of one upload to a few hundred MB of memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadLimits {
    /// Size of the uploaded file itself.
    pub max_file_bytes: u64,
    /// Entries of a zip container (XLSX); a real workbook has a few dozen.
    pub max_zip_entries: u64,
    /// Decompressed size of all entries of a zip container together (each entry is decompressed
    /// to count it: the sizes a zip declares can lie).
    pub max_uncompressed_bytes: u64,
    /// Entries of the shared strings table, which the reader keeps in memory.
    pub max_shared_strings: u64,
    /// The sheet row number of the last row read (row 1 is the first).
    pub max_rows: u64,
    /// The column number of the last column read (column A is 1).
    pub max_columns: u64,
    /// Non-empty cells, and also rows × columns of the table as it is laid out.
    pub max_cells: u64,
    /// Characters in one cell (Excel's own limit is 32,767).
    pub max_cell_chars: u64,
    /// Bytes of text in all cells together (a short shared string can be repeated by many cells).
    pub max_text_bytes: u64,
}

impl Default for ReadLimits {
    fn default() -> Self {
        const MIB: u64 = 1024 * 1024;
        ReadLimits {
            max_file_bytes: 100 * MIB,
            max_zip_entries: 1_000,
            max_uncompressed_bytes: 256 * MIB,
            max_shared_strings: 2_000_000,
            max_rows: 1_000_000,
            max_columns: 200,
            max_cells: 5_000_000,
            max_cell_chars: 32_767,
            max_text_bytes: 128 * MIB,
        }
    }
}

/// Which bound of [`ReadLimits`] a file exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Limit {
    FileBytes,
    ZipEntries,
    UncompressedBytes,
    SharedStrings,
    Rows,
    Columns,
    Cells,
    CellChars,
    TextBytes,
}

impl Limit {
    /// What is measured, as the message names it.
    fn subject(self) -> &'static str {
        match self {
            Limit::FileBytes => "文件大小",
            Limit::ZipEntries => "Excel 文件内部条目数",
            Limit::UncompressedBytes => "Excel 文件解压后的大小",
            Limit::SharedStrings => "Excel 文件共享字符串数",
            Limit::Rows => "表格行数",
            Limit::Columns => "表格列数",
            Limit::Cells => "表格单元格数",
            Limit::CellChars => "单元格内容长度",
            Limit::TextBytes => "表格文字总量",
        }
    }

    fn amount(self, n: u64) -> String {
        match self {
            Limit::FileBytes | Limit::UncompressedBytes | Limit::TextBytes => size_text(n),
            Limit::ZipEntries | Limit::SharedStrings => format!("{n} 个"),
            Limit::Rows => format!("{n} 行"),
            Limit::Columns => format!("{n} 列"),
            Limit::Cells => format!("{n} 个单元格"),
            Limit::CellChars => format!("{n} 个字符"),
        }
    }
}

/// The figures of a refusal, shown as e.g. "表格列数超过上限：文件有 16384 列，上限为 200 列".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLarge {
    pub limit_kind: Limit,
    pub limit: u64,
    /// The file's figure; when `exact` is false, reading stopped there and the file has at least this.
    pub found: u64,
    pub exact: bool,
}

impl TooLarge {
    pub(crate) fn exact(limit_kind: Limit, limit: u64, found: u64) -> TooLarge {
        TooLarge { limit_kind, limit, found, exact: true }
    }

    pub(crate) fn at_least(limit_kind: Limit, limit: u64, found: u64) -> TooLarge {
        TooLarge { limit_kind, limit, found, exact: false }
    }
}

impl fmt::Display for TooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = self.limit_kind;
        let has = if self.exact { "有" } else { "至少有" };
        let detail = match kind {
            Limit::CellChars => "有单元格".to_owned(),
            _ => format!("文件{has}"),
        };
        write!(
            f,
            "{}超过上限：{detail} {}，上限为 {}。请拆分或精简文件后重新上传",
            kind.subject(),
            kind.amount(self.found),
            kind.amount(self.limit)
        )
    }
}

fn size_text(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB {
        // One decimal, rounded down so that a file just over the bound never shows the bound itself.
        let tenths = bytes.saturating_mul(10) / MIB;
        format!("{}.{} MB", tenths / 10, tenths % 10)
    } else if bytes >= 1024 {
        format!("{} KB", bytes / 1024)
    } else {
        format!("{bytes} 字节")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_limit_and_the_files_figure() {
        let columns = TooLarge::exact(Limit::Columns, 200, 16384);
        assert_eq!(columns.to_string(), "表格列数超过上限：文件有 16384 列，上限为 200 列。请拆分或精简文件后重新上传");
        let unzipped = TooLarge::at_least(Limit::UncompressedBytes, 256 * 1024 * 1024, 256 * 1024 * 1024 + 1);
        assert!(unzipped.to_string().contains("文件至少有 256.0 MB，上限为 256.0 MB"), "{unzipped}");
        let chars = TooLarge::exact(Limit::CellChars, 32767, 40000);
        assert!(chars.to_string().starts_with("单元格内容长度超过上限：有单元格 40000 个字符"), "{chars}");
    }
}
