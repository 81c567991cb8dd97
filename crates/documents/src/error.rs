//! The one error type of this crate. Messages are in Chinese because the web layer may show them to
//! users; details that only help developers (typst diagnostics) are kept in the message too, since
//! they name the template line and never contain secrets.

use std::path::PathBuf;

/// Everything that can go wrong while loading fonts, rendering a PDF or reading/writing a table.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DocumentError {
    /// No font on this machine covers Chinese text, so no official form can be rendered.
    #[error(
        "未找到中文字体：请安装 fonts-noto-cjk（Debian/Ubuntu：apt-get install fonts-noto-cjk），\
         或把中文字体文件（.ttf/.otf/.ttc）放入字体目录。已查找：{}",
        display_dirs(.searched)
    )]
    NoChineseFont {
        /// The folders that were searched, in order.
        searched: Vec<PathBuf>,
    },

    /// The document data could not be turned into JSON for the template.
    #[error("文书数据无法序列化：{0}")]
    Data(#[from] serde_json::Error),

    /// Typst could not lay out the template (a bug in a template, or data it cannot handle).
    #[error("文书“{template}”排版失败：{message}")]
    Template {
        /// The template's name.
        template: &'static str,
        /// The typst diagnostics, one per line.
        message: String,
    },

    /// The laid-out document could not be written as PDF.
    #[error("文书“{template}”生成 PDF 失败：{message}")]
    Pdf {
        /// The template's name.
        template: &'static str,
        /// The typst diagnostics, one per line.
        message: String,
    },

    /// The uploaded spreadsheet could not be opened or its first sheet read.
    #[error("无法读取 Excel 文件：{0}")]
    Spreadsheet(String),

    /// The uploaded CSV file is malformed.
    #[error("无法读取 CSV 文件：第 {row} 行：{message}")]
    Csv {
        /// The 1-based row number, as a spreadsheet program would show it.
        row: u32,
        /// What is wrong.
        message: String,
    },

    /// A cell holds a character no text input may hold (`choucha_domain::text`): a control character
    /// other than tab and line breaks, or a bidirectional override.
    #[error(
        "第 {row} 行第 {column} 列（{}列）含有不允许的控制字符（{}），请删除后重新上传",
        column_letters(*.column),
        choucha_domain::text::code_point(*.character)
    )]
    ControlCharacter {
        /// The 1-based sheet row.
        row: u64,
        /// The 1-based column.
        column: u64,
        /// The refused character.
        character: char,
    },

    /// The CSV file is neither UTF-8 nor GB18030/GBK.
    #[error("CSV 文件编码无法识别：请另存为“CSV UTF-8（逗号分隔）”格式后重新上传")]
    CsvEncoding,

    /// The upload exceeds a bound of [`ReadLimits`](crate::ReadLimits); nothing of it is used.
    #[error("{0}")]
    TooLarge(crate::xlsx::TooLarge),

    /// The table has no header row.
    #[error("表格为空：第一行应为表头")]
    EmptyTable,

    /// Writing an XLSX file failed (e.g. a text longer than Excel's 32,767 characters per cell).
    #[error("无法生成 Excel 文件：{0}")]
    Xlsx(String),
}

/// A 1-based column number as a spreadsheet names it: 1 → A, 27 → AA.
fn column_letters(mut column: u64) -> String {
    let mut letters = Vec::new();
    while column > 0 {
        let rem = u8::try_from((column - 1) % 26).unwrap_or(0);
        letters.push(char::from(b'A' + rem));
        column = (column - 1) / 26;
    }
    letters.iter().rev().collect()
}

fn display_dirs(dirs: &[PathBuf]) -> String {
    if dirs.is_empty() {
        return "（无）".to_owned();
    }
    dirs.iter().map(|dir| dir.display().to_string()).collect::<Vec<_>>().join("、")
}
