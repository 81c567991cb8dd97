//! Import of the enterprise registry (检查对象名录库) from XLSX and CSV, the file layout it shares
//! with the export and the downloadable template, and the in-memory list of running imports that
//! the pages poll for progress.
//!
//! An import is all or nothing: the whole file is validated first (every row, every column: the
//! domain's rules, USCCs repeated inside the file, USCCs already in the registry, the actor's area)
//! and any problem refuses the file with every bad row reported and nothing written. A good file
//! is written in one transaction with one summary audit record, not one record per enterprise.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use choucha_documents::{CellValue, Table, TableFormat, read_table, write_table};
use choucha_domain::RuleViolation;
use choucha_domain::access::Action;
use choucha_domain::enterprise::{EnterpriseData, EnterpriseDraft};
use choucha_domain::uscc::Uscc;
use choucha_store::StoreError;
use choucha_store::audit::AuditEntry;
use choucha_store::enterprises::{self as store_ent, EnterpriseCursor, EnterpriseRow};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::registry::{EnterpriseView, RegistryQuery, check_entry, in_scope};
use crate::{Actor, Result, ServiceError, Services};

/// At most this many row errors are listed in a report; `error_count` has the total.
pub const MAX_LISTED_ERRORS: usize = 1000;

/// Rows between two progress reports.
const PROGRESS_EVERY: usize = 1000;

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

    fn of_key(key: &str) -> Option<Field> {
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

fn column_for_header(h: &str) -> Option<&'static ColumnSpec> {
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
            Field::LicenceValidUntil => "2027-12-31".into(),
            Field::CccCertNo => "2024010701234567".into(),
            Field::Status => "在营".into(),
        })
        .collect();
    write_table("企业名录", None, &headers(), std::iter::once(example))
        .map_err(|e| ServiceError::internal(format!("import template: {e}")))
}

/// What to do with a row whose USCC is already in the registry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OnExisting {
    /// Refuse the file (the default: nothing is overwritten by accident).
    #[default]
    Error,
    /// Leave the registry's entry as it is.
    Skip,
    /// Replace the registry's entry with the row.
    Update,
}

impl OnExisting {
    pub const ALL: [OnExisting; 3] = [OnExisting::Error, OnExisting::Skip, OnExisting::Update];

    pub fn as_str(self) -> &'static str {
        match self {
            OnExisting::Error => "error",
            OnExisting::Skip => "skip",
            OnExisting::Update => "update",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            OnExisting::Error => "视为错误，拒绝导入",
            OnExisting::Skip => "跳过已有企业",
            OnExisting::Update => "用文件内容更新已有企业",
        }
    }
}

impl FromStr for OnExisting {
    type Err = RuleViolation;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        let t = s.trim();
        match t {
            "" | "error" | "报错" => Ok(OnExisting::Error),
            "skip" | "跳过" => Ok(OnExisting::Skip),
            "update" | "更新" => Ok(OnExisting::Update),
            _ => Err(RuleViolation::new(
                "invalid_on_existing",
                format!("“{t}”无效：已有企业的处理方式应为 error、skip 或 update"),
            )
            .on_field("on_existing")),
        }
    }
}

/// How to import a file.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// The uploaded file's name (its extension selects XLSX or CSV; recorded in the audit).
    pub file_name: String,
    /// Validate only; write nothing.
    pub dry_run: bool,
    pub on_existing: OnExisting,
}

/// One problem of an import file, where the user sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RowError {
    /// The spreadsheet's row number (the header is row 1 in a plain sheet).
    pub row: u32,
    /// The column's header as written in the file (or the expected header when it is missing).
    pub column: String,
    /// The cell's value.
    pub value: String,
    /// Why the row is refused (Chinese).
    pub message: String,
}

/// The outcome of an import or a dry run.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub file_name: String,
    /// SHA-256 of the uploaded file (hex).
    pub sha256: String,
    /// Data rows in the file (blank rows not counted).
    pub total_rows: usize,
    /// Every problem found; when non-zero, nothing was written.
    pub error_count: usize,
    /// The first `MAX_LISTED_ERRORS` problems, by row.
    pub errors: Vec<RowError>,
    pub dry_run: bool,
    pub on_existing: OnExisting,
    /// New entries (in a dry run: that would be added).
    pub inserted: usize,
    /// Existing entries replaced (in a dry run: that would be).
    pub updated: usize,
    /// Rows left out because their USCC is already in the registry (`on_existing = skip`).
    pub skipped: usize,
    /// Rows written: `inserted + updated`, or 0 for a dry run or a refused file.
    pub imported: usize,
}

impl ImportReport {
    /// Whether the file was refused for bad rows.
    pub fn is_refused(&self) -> bool {
        self.error_count > 0
    }

    /// Whether more errors exist than are listed.
    pub fn errors_truncated(&self) -> bool {
        self.error_count > self.errors.len()
    }
}

/// The stage an import is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImportPhase {
    Reading,
    Checking,
    Validating,
    Writing,
}

impl ImportPhase {
    pub fn label(self) -> &'static str {
        match self {
            ImportPhase::Reading => "读取文件",
            ImportPhase::Checking => "核对名录库中已有企业",
            ImportPhase::Validating => "逐行校验",
            ImportPhase::Writing => "写入名录库",
        }
    }
}

/// Where an import is: `done` of `total` rows in `phase`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ImportProgress {
    pub phase: ImportPhase,
    pub done: usize,
    pub total: usize,
}

impl ImportProgress {
    pub fn percent(&self) -> usize {
        self.done.saturating_mul(100).checked_div(self.total).unwrap_or(0)
    }
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

/// Errors of one file: counted in full, listed up to `MAX_LISTED_ERRORS`.
#[derive(Default)]
struct Errors {
    count: usize,
    listed: Vec<RowError>,
}

impl Errors {
    fn push(&mut self, row: u32, column: &str, value: &str, message: impl Into<String>) {
        self.count += 1;
        if self.listed.len() < MAX_LISTED_ERRORS {
            self.listed.push(RowError {
                row,
                column: column.to_string(),
                value: value.to_string(),
                message: message.into(),
            });
        }
    }
}

/// Which file column holds each field.
struct Layout {
    index: HashMap<Field, usize>,
    headers: Vec<String>,
}

impl Layout {
    fn cell<'a>(&self, row: &'a [String], f: Field) -> &'a str {
        self.index.get(&f).and_then(|&i| row.get(i)).map_or("", String::as_str)
    }

    /// The header as the user wrote it, or the canonical one when the file lacks the column.
    fn header(&self, f: Field) -> String {
        self.index.get(&f).and_then(|&i| self.headers.get(i)).cloned().unwrap_or_else(|| f.header().to_string())
    }

    fn draft(&self, row: &[String]) -> EnterpriseDraft {
        let c = |f| self.cell(row, f).to_string();
        EnterpriseDraft {
            name: c(Field::Name),
            uscc: c(Field::Uscc),
            division_code: c(Field::Division),
            address: c(Field::Address),
            kinds: c(Field::Kinds),
            size_class: c(Field::SizeClass),
            product_lines: c(Field::ProductLines),
            licence_no: c(Field::LicenceNo),
            licence_valid_until: c(Field::LicenceValidUntil),
            ccc_cert_no: c(Field::CccCertNo),
            status: c(Field::Status),
        }
    }
}

/// Map the header row to fields; a missing required column or a column given twice is reported
/// once, on the header row.
fn layout_of(table: &Table, errors: &mut Errors) -> Layout {
    let header_row = table.header_row();
    let mut index: HashMap<Field, usize> = HashMap::new();
    for (i, h) in table.headers().iter().enumerate() {
        let Some(spec) = column_for_header(h) else {
            continue;
        };
        match index.get(&spec.field) {
            Some(&first) => errors.push(
                header_row,
                h,
                h,
                format!("列“{h}”与列“{}”都表示“{}”，只能保留一列", table.headers()[first], spec.header),
            ),
            None => {
                index.insert(spec.field, i);
            }
        }
    }
    for spec in COLUMNS.iter().filter(|c| c.required && !index.contains_key(&c.field)) {
        errors.push(header_row, spec.header, "", format!("缺少必填列“{}”（表头应在第{header_row}行）", spec.header));
    }
    Layout { index, headers: table.headers().to_vec() }
}

/// Import `bytes` (an XLSX or CSV file) into the registry, or only validate it (`dry_run`).
///
/// Returns the report; a report with errors means nothing was written. Errors of the request itself
/// (no permission, an unreadable file) are `Err`. `progress` is called as the work advances (about
/// every thousand rows).
#[tracing::instrument(skip_all, fields(file = %opts.file_name, dry_run = opts.dry_run))]
pub async fn import(
    s: &Services,
    actor: &Actor,
    bytes: Vec<u8>,
    opts: &ImportOptions,
    mut progress: impl FnMut(ImportProgress) + Send,
) -> Result<ImportReport> {
    actor.require(Action::EditRegistry)?;
    progress(ImportProgress { phase: ImportPhase::Reading, done: 0, total: 0 });
    let format = detect_format(&opts.file_name, &bytes);
    // Reading a large workbook and hashing it are CPU-bound: off the async runtime.
    let (table, sha256) = tokio::task::spawn_blocking(move || {
        let sha = hex::encode(Sha256::digest(&bytes));
        (read_table(&bytes, format), sha)
    })
    .await
    .map_err(ServiceError::internal)?;
    let table = table.map_err(|e| ServiceError::unreadable_table("unreadable_file", "", e))?;
    let total = table.len();
    let mut report = ImportReport {
        file_name: opts.file_name.clone(),
        sha256,
        total_rows: total,
        error_count: 0,
        errors: Vec::new(),
        dry_run: opts.dry_run,
        on_existing: opts.on_existing,
        inserted: 0,
        updated: 0,
        skipped: 0,
        imported: 0,
    };
    let mut errors = Errors::default();
    let layout = layout_of(&table, &mut errors);
    if errors.count == 0 && total == 0 {
        errors.push(table.header_row() + 1, "", "", "文件中只有表头，没有企业数据");
    }
    if errors.count > 0 {
        report.error_count = errors.count;
        report.errors = errors.listed;
        return Ok(report);
    }

    // The registry's entries among the file's USCCs, looked up before the row checks so that each
    // row's problems are reported together, in row order.
    let usccs: Vec<String> = {
        let mut v: Vec<String> = table
            .rows()
            .iter()
            .filter_map(|r| Uscc::parse(layout.cell(r, Field::Uscc)).ok())
            .map(String::from)
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let mut existing = HashMap::new();
    for (i, chunk) in usccs.chunks(PROGRESS_EVERY).enumerate() {
        progress(ImportProgress { phase: ImportPhase::Checking, done: i * PROGRESS_EVERY, total: usccs.len() });
        for e in store_ent::existing_by_uscc(s.store.reader(), chunk).await? {
            existing.insert(e.uscc.clone(), e);
        }
    }

    let mut first_row_of: HashMap<String, u32> = HashMap::new();
    let mut inserts: Vec<EnterpriseData> = Vec::new();
    let mut updates: Vec<(i64, EnterpriseData)> = Vec::new();
    for (i, (row_no, row)) in table.numbered_rows().enumerate() {
        if i % PROGRESS_EVERY == 0 {
            progress(ImportProgress { phase: ImportPhase::Validating, done: i, total });
            // Validation is quick but a file may hold a million rows: let other requests run.
            tokio::task::yield_now().await;
        }
        let draft = layout.draft(row);
        let uscc_header = layout.header(Field::Uscc);
        let uscc_cell = layout.cell(row, Field::Uscc);
        let mut row_ok = true;
        let checked = check_entry(actor, &draft);
        if let Err(violations) = &checked {
            row_ok = false;
            for v in violations {
                let field = v.field.as_deref().and_then(Field::of_key);
                let (column, mut value) = match field {
                    Some(f) => (layout.header(f), layout.cell(row, f).to_string()),
                    None => (String::new(), String::new()),
                };
                if field == Some(Field::Division) && value.is_empty() {
                    // The division came from the USCC (characters 3–8).
                    value = Uscc::parse(uscc_cell).map(|u| u.division().to_string()).unwrap_or_default();
                }
                errors.push(row_no, &column, &value, v.message.clone());
            }
        }
        // Repeats and registry entries are checked for every readable USCC, so a row with several
        // problems shows them all at once.
        let Ok(uscc) = Uscc::parse(uscc_cell) else {
            continue;
        };
        let uscc = uscc.to_string();
        if let Some(&first) = first_row_of.get(&uscc) {
            errors.push(
                row_no,
                &uscc_header,
                uscc_cell,
                format!("统一社会信用代码在文件中重复：第{first}行与第{row_no}行是同一企业"),
            );
            row_ok = false;
        } else {
            first_row_of.insert(uscc.clone(), row_no);
        }
        let known = existing.get(&uscc);
        match (known, opts.on_existing) {
            (None, _) => {}
            (Some(_), OnExisting::Error) => {
                errors.push(
                    row_no,
                    &uscc_header,
                    uscc_cell,
                    "该企业已在名录库中（统一社会信用代码已存在）；如需用文件内容更新，请选择“更新已有企业”，或选择“跳过已有企业”",
                );
                row_ok = false;
            }
            (Some(_), OnExisting::Skip) => {}
            (Some(e), OnExisting::Update) if !in_scope(actor, &e.division_code) => {
                errors.push(
                    row_no,
                    &uscc_header,
                    uscc_cell,
                    format!("该企业已在名录库中，属于其他辖区（行政区划代码{}），无权更新", e.division_code),
                );
                row_ok = false;
            }
            (Some(_), OnExisting::Update) => {}
        }
        if let (true, Ok(data)) = (row_ok, checked) {
            match (known, opts.on_existing) {
                (None, _) => inserts.push(data),
                (Some(_), OnExisting::Skip) => report.skipped += 1,
                (Some(e), _) => updates.push((e.id, data)),
            }
        }
    }
    progress(ImportProgress { phase: ImportPhase::Validating, done: total, total });
    report.inserted = inserts.len();
    report.updated = updates.len();
    if errors.count > 0 {
        report.error_count = errors.count;
        report.errors = errors.listed;
        report.inserted = 0;
        report.updated = 0;
        report.skipped = 0;
        return Ok(report);
    }
    if opts.dry_run {
        return Ok(report);
    }
    write(s, actor, &mut report, &inserts, &updates, &mut progress).await?;
    Ok(report)
}

/// Write a validated file: one transaction, one summary audit record.
async fn write(
    s: &Services,
    actor: &Actor,
    report: &mut ImportReport,
    inserts: &[EnterpriseData],
    updates: &[(i64, EnterpriseData)],
    progress: &mut (impl FnMut(ImportProgress) + Send),
) -> Result<()> {
    let total = inserts.len() + updates.len();
    progress(ImportProgress { phase: ImportPhase::Writing, done: 0, total });
    let changed_meanwhile = |e: StoreError| match e {
        StoreError::Duplicate(_) | StoreError::Conflict => ServiceError::Duplicate(
            "导入期间名录库已被他人修改（统一社会信用代码重复或企业已变更），未写入任何数据，请重新导入".into(),
        ),
        other => other.into(),
    };
    let tx = s.write(actor).await?;
    store_ent::insert_many(&tx, inserts, |done| progress(ImportProgress { phase: ImportPhase::Writing, done, total }))
        .await
        .map_err(changed_meanwhile)?;
    let base = inserts.len();
    store_ent::update_many(&tx, updates, |done| {
        progress(ImportProgress { phase: ImportPhase::Writing, done: base + done, total })
    })
    .await
    .map_err(changed_meanwhile)?;
    let after = json!({
        "file_name": report.file_name,
        "sha256": report.sha256,
        "rows": report.total_rows,
        "inserted": inserts.len(),
        "updated": updates.len(),
        "skipped": report.skipped,
        "on_existing": report.on_existing,
    });
    tx.commit(AuditEntry::new("enterprise.import", "enterprise", &report.sha256, json!(null), after)).await?;
    report.imported = total;
    progress(ImportProgress { phase: ImportPhase::Writing, done: total, total });
    Ok(())
}

/// An import running in the background, as its owner sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportJobView {
    pub id: String,
    pub file_name: String,
    pub dry_run: bool,
    pub state: ImportJobState,
    /// Seconds since the upload.
    pub elapsed_secs: u64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ImportJobState {
    Running(ImportProgress),
    /// Finished: imported, validated (dry run) or refused with its row errors.
    Finished(ImportReport),
    /// The request itself failed (unreadable file, no permission, database error): the message.
    Failed {
        message: String,
    },
}

struct Job {
    owner: i64,
    file_name: String,
    dry_run: bool,
    started: Instant,
    finished: Option<Instant>,
    state: ImportJobState,
}

/// Imports running in the background, so that a page can upload a large file and then poll its
/// progress. Kept in memory: a restart loses the list (and rolls back an unfinished import, which
/// runs in one transaction).
#[derive(Clone, Default)]
pub struct ImportJobs {
    jobs: Arc<Mutex<HashMap<String, Job>>>,
}

impl std::fmt::Debug for ImportJobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImportJobs").finish_non_exhaustive()
    }
}

/// Finished jobs are forgotten after this long.
const KEEP_FINISHED: Duration = Duration::from_secs(3600);

impl ImportJobs {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Job>> {
        // A panic while holding the lock leaves the map usable (each entry is replaced whole).
        self.jobs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Start importing in the background; returns the job's id. Permission is checked at once.
    pub fn start(&self, s: &Services, actor: &Actor, bytes: Vec<u8>, opts: ImportOptions) -> Result<String> {
        actor.require(Action::EditRegistry)?;
        let id = uuid::Uuid::new_v4().simple().to_string();
        {
            let mut jobs = self.lock();
            jobs.retain(|_, j| j.finished.is_none_or(|t| t.elapsed() < KEEP_FINISHED));
            if jobs.values().any(|j| j.owner == actor.user_id && j.finished.is_none()) {
                return Err(ServiceError::Rule(RuleViolation::new(
                    "import_running",
                    "您已有一个导入正在进行，请等它完成后再上传",
                )));
            }
            jobs.insert(
                id.clone(),
                Job {
                    owner: actor.user_id,
                    file_name: opts.file_name.clone(),
                    dry_run: opts.dry_run,
                    started: Instant::now(),
                    finished: None,
                    state: ImportJobState::Running(ImportProgress { phase: ImportPhase::Reading, done: 0, total: 0 }),
                },
            );
        }
        let (s, actor, jobs, job_id) = (s.clone(), actor.clone(), self.clone(), id.clone());
        tokio::spawn(async move {
            let reporter = jobs.clone();
            let rid = job_id.clone();
            let work = tokio::spawn(async move {
                import(&s, &actor, bytes, &opts, move |p| reporter.set(&rid, ImportJobState::Running(p), false)).await
            });
            let state = match work.await {
                Ok(Ok(report)) => ImportJobState::Finished(report),
                Ok(Err(e)) => ImportJobState::Failed { message: e.to_string() },
                Err(e) => ImportJobState::Failed { message: ServiceError::internal(e).to_string() },
            };
            jobs.set(&job_id, state, true);
        });
        Ok(id)
    }

    fn set(&self, id: &str, state: ImportJobState, finished: bool) {
        if let Some(j) = self.lock().get_mut(id) {
            j.state = state;
            if finished {
                j.finished = Some(Instant::now());
            }
        }
    }

    /// A job of the actor's (another user's job is not found).
    pub fn get(&self, actor: &Actor, id: &str) -> Result<ImportJobView> {
        let jobs = self.lock();
        let j = jobs.get(id).filter(|j| j.owner == actor.user_id).ok_or(ServiceError::NotFound("导入任务"))?;
        Ok(ImportJobView {
            id: id.to_string(),
            file_name: j.file_name.clone(),
            dry_run: j.dry_run,
            state: j.state.clone(),
            elapsed_secs: j.finished.unwrap_or_else(Instant::now).duration_since(j.started).as_secs(),
        })
    }
}

/// The rows of an export: entries to text cells (kept here with the layout).
pub(crate) fn export_rows(rows: Vec<EnterpriseRow>) -> Vec<Vec<CellValue>> {
    rows.into_iter().map(|r| row_cells(&EnterpriseView::from(r))).collect()
}

// ---------------------------------------------------------------------------------------------
// Export: the same layout the import reads

/// Excel's last row is 1,048,576; one is the header.
pub const EXPORT_MAX_ROWS: u64 = 1_048_575;

/// Rows fetched per keyset page while exporting.
const EXPORT_PAGE: u64 = 2000;

/// The current search (same filters, same area) as an XLSX file in the import layout, so an
/// exported file can be edited and imported back. Rows stream from keyset pages into the writer,
/// which runs off the async runtime. More than `max_rows` matches is refused with a message.
#[tracing::instrument(skip_all)]
pub async fn export_xlsx(s: &Services, actor: &Actor, q: &RegistryQuery, max_rows: u64) -> Result<Vec<u8>> {
    actor.require(Action::ViewRegistry)?;
    let f = crate::registry::filter_for(actor, q)?;
    let reader = s.store.reader();
    let n = store_ent::count_up_to(reader, &f, max_rows + 1).await?;
    if n > max_rows {
        return Err(ServiceError::invalid(RuleViolation::new(
            "export_too_large",
            format!(
                "符合条件的企业超过{max_rows}家（Excel 单个工作表的上限），请按行政区划、类型或状态缩小范围后分批导出"
            ),
        )));
    }
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<Vec<choucha_documents::CellValue>>>(4);
    let writer = tokio::task::spawn_blocking(move || {
        let headers = headers();
        let rows = std::iter::from_fn(move || rx.blocking_recv()).flatten();
        choucha_documents::write_table("企业名录", None, &headers, rows)
    });
    let mut cursor: Option<EnterpriseCursor> = None;
    loop {
        let page = store_ent::search(reader, &f, cursor.as_ref(), EXPORT_PAGE).await?;
        let next = page.next.as_deref().and_then(EnterpriseCursor::decode);
        if tx.send(export_rows(page.items)).await.is_err() {
            // The writer stopped early; its error is reported below.
            break;
        }
        match next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    drop(tx);
    writer.await.map_err(ServiceError::internal)?.map_err(|e| ServiceError::internal(format!("registry export: {e}")))
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
