//! Annex 1 of a spot-check notice (抽查计划表) as XLSX: the layout of the official notices — a
//! title, the header 序号 / 产品分类 / 产品名称 / 抽查批次 / 抽查范围, one row per product with the
//! quota cell merged over products that share a quota (and the 序号 cell merged over products that
//! share a number), a 合计 row and a 备注 row. Reading accepts the same layout back, merged cells
//! or blanks alike.

use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook};

use crate::DocumentError;
use crate::xlsx::{TableFormat, read_rows};

pub const HEADERS: [&str; 5] = ["序号", "产品分类", "产品名称", "抽查批次", "抽查范围"];

/// One product row. `quota: None` shares the quota of the row above (a merged cell).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Annex1Row {
    pub number: String,
    pub category: String,
    pub product: String,
    pub quota: Option<u32>,
    pub scopes: String,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Annex1 {
    /// e.g. 2022年第四批产品质量监督抽查计划
    pub title: String,
    pub rows: Vec<Annex1Row>,
    /// Text of the 合计 cell, e.g. "190批次" or "745".
    pub total_text: String,
    pub remark: String,
}

impl Annex1 {
    pub fn total(&self) -> u32 {
        self.rows.iter().filter_map(|r| r.quota).sum()
    }
}

/// A problem of an uploaded Annex 1, at a sheet row.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Annex1Error {
    pub row: u32,
    pub column: String,
    pub message: String,
}

fn xlsx_err(e: rust_xlsxwriter::XlsxError) -> DocumentError {
    DocumentError::Xlsx(e.to_string())
}

/// The notice's table as an `.xlsx` file.
pub fn write_annex1(a: &Annex1) -> Result<Vec<u8>, DocumentError> {
    let mut wb = Workbook::new();
    let sheet = wb.add_worksheet();
    sheet.set_name("附件1").map_err(xlsx_err)?;
    let border = Format::new()
        .set_border(FormatBorder::Thin)
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_text_wrap();
    let header = border.clone().set_bold().set_background_color("#F0F4F8");
    let title = Format::new()
        .set_bold()
        .set_font_size(16)
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter);
    let text = border.clone().set_num_format("@");
    sheet.merge_range(0, 0, 0, 4, &a.title, &title).map_err(xlsx_err)?;
    sheet.set_row_height(0, 32).map_err(xlsx_err)?;
    for (c, h) in HEADERS.iter().enumerate() {
        sheet.write_string_with_format(1, c as u16, *h, &header).map_err(xlsx_err)?;
    }
    let first = 2u32;
    let n = a.rows.len() as u32;
    for (i, r) in a.rows.iter().enumerate() {
        let row = first + i as u32;
        sheet.write_string_with_format(row, 1, &r.category, &text).map_err(xlsx_err)?;
        sheet.write_string_with_format(row, 2, &r.product, &text).map_err(xlsx_err)?;
        sheet.write_string_with_format(row, 4, &r.scopes, &text).map_err(xlsx_err)?;
    }
    // Merged runs: the number over equal consecutive numbers, the quota over its sharing rows.
    let mut i = 0usize;
    while i < a.rows.len() {
        let mut j = i + 1;
        while j < a.rows.len() && a.rows[j].number == a.rows[i].number {
            j += 1;
        }
        merge_or_write(sheet, first + i as u32, first + j as u32 - 1, 0, &a.rows[i].number, &text)?;
        i = j;
    }
    let mut i = 0usize;
    while i < a.rows.len() {
        let mut j = i + 1;
        while j < a.rows.len() && a.rows[j].quota.is_none() {
            j += 1;
        }
        let q = a.rows[i].quota.map(|q| q.to_string()).unwrap_or_default();
        merge_or_write(sheet, first + i as u32, first + j as u32 - 1, 3, &q, &border)?;
        // The quota is a number (it sums in Excel); the merge above drew the borders.
        if let Some(quota) = a.rows[i].quota {
            sheet.write_number_with_format(first + i as u32, 3, f64::from(quota), &border).map_err(xlsx_err)?;
        }
        i = j;
    }
    let total_row = first + n;
    sheet.merge_range(total_row, 0, total_row, 2, "合计", &header).map_err(xlsx_err)?;
    let total = if a.total_text.trim().is_empty() { a.total().to_string() } else { a.total_text.clone() };
    sheet.merge_range(total_row, 3, total_row, 4, &total, &border).map_err(xlsx_err)?;
    if let Ok(total) = total.trim().parse::<u32>() {
        sheet.write_number_with_format(total_row, 3, f64::from(total), &border).map_err(xlsx_err)?;
    }
    sheet.write_string_with_format(total_row + 1, 0, "备注", &header).map_err(xlsx_err)?;
    sheet.merge_range(total_row + 1, 1, total_row + 1, 4, &a.remark, &text).map_err(xlsx_err)?;
    for (c, w) in [6.0, 22.0, 28.0, 12.0, 24.0].into_iter().enumerate() {
        sheet.set_column_width(c as u16, w).map_err(xlsx_err)?;
    }
    // Title and header on every printed page.
    crate::xlsx::print_setup(sheet, HEADERS.len(), 1)?;
    wb.save_to_buffer().map_err(xlsx_err)
}

fn merge_or_write(
    sheet: &mut rust_xlsxwriter::Worksheet,
    r1: u32,
    r2: u32,
    col: u16,
    value: &str,
    f: &Format,
) -> Result<(), DocumentError> {
    if r2 > r1 {
        sheet.merge_range(r1, col, r2, col, value, f).map_err(xlsx_err)?;
    } else {
        sheet.write_string_with_format(r1, col, value, f).map_err(xlsx_err)?;
    }
    Ok(())
}

/// Read an Annex 1 table (XLSX or CSV). Every problem is reported with its sheet row.
pub fn read_annex1(bytes: &[u8], format: TableFormat) -> Result<Result<Annex1, Vec<Annex1Error>>, DocumentError> {
    let rows = read_rows(bytes, format)?;
    let mut errs = Vec::new();
    let Some(hpos) = rows.iter().position(|(_, cells)| cells.iter().any(|c| c == "产品名称")) else {
        return Ok(Err(vec![Annex1Error {
            row: 1,
            column: String::new(),
            message: "未找到表头（须含“序号、产品分类、产品名称、抽查批次、抽查范围”）".into(),
        }]));
    };
    let (hrow, hcells) = &rows[hpos];
    let col = |name: &str| hcells.iter().position(|c| c.replace(char::is_whitespace, "") == name);
    let mut idx = [0usize; 5];
    for (k, h) in HEADERS.iter().enumerate() {
        match col(h) {
            Some(c) => idx[k] = c,
            None => errs.push(Annex1Error { row: *hrow, column: (*h).into(), message: format!("缺少“{h}”列") }),
        }
    }
    if !errs.is_empty() {
        return Ok(Err(errs));
    }
    let title = rows[..hpos]
        .iter()
        .rev()
        .flat_map(|(_, cells)| cells.iter())
        .find(|c| !c.is_empty() && !c.starts_with("附件"))
        .cloned()
        .unwrap_or_default();
    let get = |cells: &Vec<String>, k: usize| cells.get(idx[k]).map(|c| c.trim().to_string()).unwrap_or_default();
    let mut out: Vec<Annex1Row> = Vec::new();
    let mut total_text = String::new();
    let mut total_row = None;
    let mut remark = String::new();
    for (number, cells) in &rows[hpos + 1..] {
        let first = cells.iter().find(|c| !c.is_empty()).cloned().unwrap_or_default();
        if first.replace(char::is_whitespace, "") == "合计" {
            total_text = cells.iter().filter(|c| !c.is_empty()).nth(1).cloned().unwrap_or_default();
            total_row = Some(*number);
            continue;
        }
        if first.replace(char::is_whitespace, "") == "备注" {
            remark = cells.iter().filter(|c| !c.is_empty()).skip(1).cloned().collect::<Vec<_>>().join(" ");
            continue;
        }
        if total_row.is_some() {
            continue;
        }
        let mut num = get(cells, 0);
        if num.is_empty() {
            num = out.last().map(|r| r.number.clone()).unwrap_or_default();
        }
        let product = get(cells, 2);
        if product.is_empty() {
            errs.push(Annex1Error {
                row: *number, column: "产品名称".into(), message: "产品名称不能为空".into()
            });
        }
        let mut category = get(cells, 1);
        if category.is_empty() {
            category = out.last().map(|r| r.category.clone()).unwrap_or_default();
        }
        if category.is_empty() {
            errs.push(Annex1Error {
                row: *number, column: "产品分类".into(), message: "产品分类不能为空".into()
            });
        }
        let q = get(cells, 3);
        let quota = if q.is_empty() {
            if out.is_empty() {
                errs.push(Annex1Error {
                    row: *number,
                    column: "抽查批次".into(),
                    message: "第一个产品须填写抽查批次".into(),
                });
            }
            None
        } else {
            match q.trim_end_matches("批次").trim().parse::<u32>() {
                Ok(v) if v > 0 => Some(v),
                _ => {
                    errs.push(Annex1Error {
                        row: *number,
                        column: "抽查批次".into(),
                        message: format!("抽查批次“{q}”应为正整数"),
                    });
                    None
                }
            }
        };
        let scopes = get(cells, 4);
        if scopes.is_empty() {
            errs.push(Annex1Error {
                row: *number, column: "抽查范围".into(), message: "抽查范围不能为空".into()
            });
        }
        out.push(Annex1Row { number: num, category, product, quota, scopes });
    }
    if out.is_empty() {
        errs.push(Annex1Error { row: *hrow + 1, column: String::new(), message: "表中没有产品".into() });
    }
    let a = Annex1 { title, rows: out, total_text: total_text.clone(), remark };
    if let Some(r) = total_row {
        let digits: String = total_text.chars().filter(|c| c.is_ascii_digit()).collect();
        if let Ok(t) = digits.parse::<u32>()
            && t != a.total()
        {
            errs.push(Annex1Error {
                row: r,
                column: "合计".into(),
                message: format!("合计{t}与各产品批次之和{}不符", a.total()),
            });
        }
    }
    Ok(if errs.is_empty() { Ok(a) } else { Err(errs) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(n: &str, c: &str, p: &str, q: Option<u32>, s: &str) -> Annex1Row {
        Annex1Row { number: n.into(), category: c.into(), product: p.into(), quota: q, scopes: s.into() }
    }

    fn datong() -> Annex1 {
        Annex1 {
            title: "2025年车用柴油、家电产品、羊绒衫、羽绒服等质量监督抽查计划".into(),
            rows: vec![
                row("1", "机械及安防", "车用柴油", Some(70), "生产者、销售者"),
                row("2", "电子电器", "电冰箱", Some(60), "生产者、销售者"),
                row("3", "电子电器", "家用电动洗衣机", None, "生产者、销售者"),
                row("4", "日用及纺织品", "羊绒针织衫", Some(60), "生产者、销售者"),
                row("5", "日用及纺织品", "羽绒服装", None, "生产者、销售者"),
            ],
            total_text: "190批次".into(),
            remark: String::new(),
        }
    }

    #[test]
    fn round_trips_shared_quotas_and_shared_numbers() {
        let a = datong();
        let back = read_annex1(&write_annex1(&a).expect("write"), TableFormat::Xlsx).expect("read").expect("valid");
        assert_eq!(back, a);
        assert_eq!(back.total(), 190);
        let shanxi = Annex1 {
            title: "2022年第四批产品质量监督抽查计划".into(),
            rows: vec![
                row("6", "食品相关产品", "食品接触用纸制品", Some(10), "生产者、销售者"),
                row("6", "食品相关产品", "食品接触用塑料制品", Some(10), "生产者、销售者"),
                row("7", "日用杂品", "眼镜（配装眼镜）", Some(40), "生产者、销售者"),
            ],
            total_text: "60".into(),
            remark: String::new(),
        };
        let back =
            read_annex1(&write_annex1(&shanxi).expect("write"), TableFormat::Xlsx).expect("read").expect("valid");
        assert_eq!(back, shanxi);
    }

    #[test]
    fn reports_bad_rows_and_a_wrong_total() {
        let csv = "附件1\n计划\n序号,产品分类,产品名称,抽查批次,抽查范围\n1,电子电器,电冰箱,abc,生产者\n2,电子电器,,5,销售者\n合计,,,100,\n";
        let errs = read_annex1(csv.as_bytes(), TableFormat::Csv).expect("read").unwrap_err();
        assert!(errs.iter().any(|e| e.row == 4 && e.column == "抽查批次"), "{errs:?}");
        assert!(errs.iter().any(|e| e.row == 5 && e.column == "产品名称"), "{errs:?}");
        assert!(errs.iter().any(|e| e.column == "合计"), "{errs:?}");
    }
}
