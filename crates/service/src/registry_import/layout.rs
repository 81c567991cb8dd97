//! The registry's file layout, shared by the import, the export and the downloadable template.

use choucha_documents::{CellValue, TableFormat, write_table};
use choucha_domain::access::Action;
use choucha_domain::uscc::Uscc;
use choucha_store::enterprises::ListedEnterprise;

use crate::registry::EnterpriseView;
use crate::{Actor, Result, ServiceError};

/// A column of the registry's file layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    Name,
    Uscc,
    Division,
    Address,
    Kinds,
    SizeClass,
    ProductLines,
    LicenceNo,
    LicenceValidUntil,
    CccCertNo,
    Status,
}

impl Field {
    /// The field name used by `EnterpriseDraft` and its `RuleViolation`s.
    pub fn key(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::Uscc => "uscc",
            Field::Division => "division_code",
            Field::Address => "address",
            Field::Kinds => "kinds",
            Field::SizeClass => "size_class",
            Field::ProductLines => "product_lines",
            Field::LicenceNo => "licence_no",
            Field::LicenceValidUntil => "licence_valid_until",
            Field::CccCertNo => "ccc_cert_no",
            Field::Status => "status",
        }
    }

    pub(super) fn of_key(key: &str) -> Option<Field> {
        COLUMNS.iter().map(|c| c.field).find(|f| f.key() == key)
    }

    /// The canonical Chinese header.
    pub fn header(self) -> &'static str {
        COLUMNS.iter().find(|c| c.field == self).map_or("", |c| c.header)
    }
}

/// One column: its canonical header (used by the export and the template), the other headers
/// people use for it, and whether a file must have it.
#[derive(Debug, Clone, Copy)]
pub struct ColumnSpec {
    pub field: Field,
    pub header: &'static str,
    pub aliases: &'static [&'static str],
    pub required: bool,
}

/// The registry's file layout, in the export's column order. Columns of an import may come in any
/// order; headers are compared without spaces, `*` marks and "（必填）".
pub const COLUMNS: [ColumnSpec; 11] = [
    ColumnSpec {
        field: Field::Name,
        header: "企业名称",
        aliases: &["名称", "单位名称", "企业（单位）名称", "市场主体名称", "被抽样单位名称", "检查对象名称"],
        required: true,
    },
    ColumnSpec {
        field: Field::Uscc,
        header: "统一社会信用代码",
        aliases: &["社会信用代码", "信用代码", "统一代码", "USCC"],
        required: true,
    },
    ColumnSpec {
        field: Field::Division,
        header: "行政区划代码",
        aliases: &["行政区划", "区划代码", "所在地行政区划代码", "所属行政区划代码"],
        required: false,
    },
    ColumnSpec {
        field: Field::Address,
        header: "地址",
        aliases: &["企业地址", "住所", "经营场所", "住所（经营场所）", "生产地址", "经营地址", "详细地址"],
        required: false,
    },
    ColumnSpec {
        field: Field::Kinds,
        header: "企业类型",
        aliases: &["类型", "主体类型", "检查对象类型", "对象类型", "抽查范围"],
        required: true,
    },
    ColumnSpec { field: Field::SizeClass, header: "企业规模", aliases: &["规模"], required: false },
    ColumnSpec {
        field: Field::ProductLines,
        header: "生产/经营产品",
        aliases: &["生产经营产品", "生产/销售产品", "主要产品", "产品", "经营产品", "生产产品", "产品名称"],
        required: false,
    },
    ColumnSpec {
        field: Field::LicenceNo,
        header: "生产许可证编号",
        aliases: &["生产许可证", "生产许可证号", "许可证编号", "许可证号"],
        required: false,
    },
    ColumnSpec {
        field: Field::LicenceValidUntil,
        header: "许可证有效期至",
        aliases: &["许可证有效期", "生产许可证有效期", "生产许可证有效期至", "有效期至", "有效期"],
        required: false,
    },
    ColumnSpec {
        field: Field::CccCertNo,
        header: "CCC证书编号",
        aliases: &["CCC证书", "CCC证书号", "3C证书编号", "CCC认证证书编号", "强制性产品认证证书编号"],
        required: false,
    },
    ColumnSpec {
        field: Field::Status,
        header: "经营状态",
        aliases: &["状态", "登记状态", "企业状态"],
        required: false,
    },
];

/// The canonical headers, in order.
pub fn headers() -> Vec<&'static str> {
    COLUMNS.iter().map(|c| c.header).collect()
}

/// An entry as one row of the layout (codes as text, so Excel keeps them exact).
pub fn row_cells(e: &EnterpriseView) -> Vec<CellValue> {
    COLUMNS
        .iter()
        .map(|c| match c.field {
            Field::Name => CellValue::from(e.name.as_str()),
            Field::Uscc => CellValue::from(e.uscc.as_str()),
            Field::Division => CellValue::from(e.division_code.as_str()),
            Field::Address => CellValue::from(e.address.as_str()),
            Field::Kinds => CellValue::from(e.kind_labels.as_str()),
            Field::SizeClass => CellValue::from(e.size_class_label.clone()),
            Field::ProductLines => CellValue::from(e.product_lines.join("；")),
            Field::LicenceNo => CellValue::from(e.licence_no.clone()),
            Field::LicenceValidUntil => CellValue::from(e.licence_valid_until),
            Field::CccCertNo => CellValue::from(e.ccc_cert_no.clone()),
            Field::Status => CellValue::from(e.status_label.as_str()),
        })
        .collect()
}

/// Headers compare without spaces, required marks and full-width/half-width differences.
fn normalise_header(h: &str) -> String {
    let mut s: String = h
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '*' | '＊'))
        .map(|c| match c {
            '（' => '(',
            '）' => ')',
            '／' => '/',
            c => c,
        })
        .collect();
    for suffix in ["(必填)", "(选填)", "(可选)", "(非必填)"] {
        if let Some(t) = s.strip_suffix(suffix) {
            s = t.to_string();
        }
    }
    s.to_uppercase()
}

pub(super) fn column_for_header(h: &str) -> Option<&'static ColumnSpec> {
    let n = normalise_header(h);
    if n.is_empty() {
        return None;
    }
    COLUMNS.iter().find(|c| normalise_header(c.header) == n || c.aliases.iter().any(|a| normalise_header(a) == n))
}

/// The downloadable template: the headers and one example row.
pub fn template_xlsx(actor: &Actor) -> Result<Vec<u8>> {
    actor.require(Action::ViewRegistry)?;
    let example_uscc = Uscc::from_first17("91140213MA0K12345").map(|u| u.to_string()).unwrap_or_default();
    let example: Vec<CellValue> = COLUMNS
        .iter()
        .map(|c| match c.field {
            Field::Name => "大同市平城区示例家电商场有限公司".into(),
            Field::Uscc => example_uscc.clone().into(),
            Field::Division => "140213".into(),
            Field::Address => "山西省大同市平城区示例路1号".into(),
            Field::Kinds => "生产者、销售者".into(),
            Field::SizeClass => "小型".into(),
            Field::ProductLines => "电冰箱；洗衣机".into(),
            Field::LicenceNo => "XK08-001-00001".into(),
            Field::LicenceValidUntil => CellValue::date_text("2027-12-31"),
            Field::CccCertNo => "2024010701234567".into(),
            Field::Status => "在营".into(),
        })
        .collect();
    write_table("企业名录", None, &headers(), std::iter::once(example))
        .map_err(|e| ServiceError::internal(format!("import template: {e}")))
}

/// XLSX or CSV: by the file's extension, else by its first bytes (a zip or an OLE file is a workbook).
pub fn detect_format(file_name: &str, bytes: &[u8]) -> TableFormat {
    TableFormat::from_file_name(file_name).unwrap_or({
        if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
            TableFormat::Xlsx
        } else {
            TableFormat::Csv
        }
    })
}

/// The rows of an export, in the import layout: codes (USCC, division, licence and certificate
/// numbers) stay text, the licence's end a real date; the import reads both back unchanged.
pub(crate) fn export_rows(rows: Vec<ListedEnterprise>) -> Vec<Vec<CellValue>> {
    rows.into_iter().map(|r| row_cells(&EnterpriseView::from(r))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_match_with_aliases_marks_and_width_variants() {
        assert_eq!(column_for_header("*企业名称").map(|c| c.field), Some(Field::Name));
        assert_eq!(column_for_header(" 统一社会信用代码（必填）").map(|c| c.field), Some(Field::Uscc));
        assert_eq!(column_for_header("住所(经营场所)").map(|c| c.field), Some(Field::Address));
        assert_eq!(column_for_header("ccc证书编号").map(|c| c.field), Some(Field::CccCertNo));
        assert_eq!(column_for_header("生产／经营产品").map(|c| c.field), Some(Field::ProductLines));
        assert_eq!(column_for_header("备注").map(|c| c.field), None);
    }

    #[test]
    fn every_field_key_round_trips() {
        for c in COLUMNS {
            assert_eq!(Field::of_key(c.field.key()), Some(c.field));
        }
    }

    #[test]
    fn format_from_name_then_content() {
        assert_eq!(detect_format("名录.CSV", b"PK\x03\x04"), TableFormat::Csv);
        assert_eq!(detect_format("upload", b"PK\x03\x04rest"), TableFormat::Xlsx);
        assert_eq!(detect_format("upload", "企业名称,统一社会信用代码".as_bytes()), TableFormat::Csv);
    }
}
