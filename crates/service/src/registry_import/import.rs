//! The import itself: the whole file validated first, then written in one transaction.

use std::collections::HashMap;

use choucha_documents::{Table, read_table};
use choucha_domain::access::Action;
use choucha_domain::enterprise::{EnterpriseData, EnterpriseDraft};
use choucha_domain::uscc::Uscc;
use choucha_store::StoreError;
use choucha_store::audit::AuditEntry;
use choucha_store::enterprises::{self as store_ent};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::registry::{check_entry, in_scope};
use crate::{Actor, Result, ServiceError, Services};

use super::layout::column_for_header;
use super::{
    COLUMNS, Field, ImportOptions, ImportPhase, ImportProgress, ImportReport, MAX_LISTED_ERRORS, OnExisting,
    PROGRESS_EVERY, RowError, detect_format,
};

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
