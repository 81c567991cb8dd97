//! Browsing and verifying the audit chain.

use choucha_domain::access::Action;
use choucha_store::Page;
use choucha_store::audit::{self as store_audit};
pub use choucha_store::audit::{AuditFilter, AuditRow, Verification};

use std::io::{Seek, Write};

use choucha_domain::RuleViolation;
use choucha_domain::clock;
use choucha_store::audit::AuditEntry;
use chrono::{Duration, NaiveDate, SecondsFormat};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use zip::CompressionMethod;
use zip::ZipWriter;
use zip::write::SimpleFileOptions;

use crate::{Actor, Result, ServiceError, Services, page_limit};

pub async fn list(
    s: &Services,
    actor: &Actor,
    f: &AuditFilter,
    before_seq: Option<i64>,
    limit: Option<u64>,
) -> Result<Page<AuditRow>> {
    actor.require(Action::ViewAudit)?;
    Ok(store_audit::list(s.store.reader(), f, before_seq, page_limit(limit)?).await?)
}

/// The people the audit records name as their object (`user #id`), by name: "姓名（用户名）".
pub async fn people_named(
    s: &Services,
    actor: &Actor,
    rows: &[AuditRow],
) -> Result<std::collections::HashMap<i64, String>> {
    actor.require(Action::ViewAudit)?;
    let mut ids: Vec<i64> =
        rows.iter().filter(|r| r.object_type == "user").filter_map(|r| r.object_id.parse().ok()).collect();
    ids.sort_unstable();
    ids.dedup();
    let users = choucha_store::users::get_many(s.store.reader(), &ids).await?;
    Ok(users.into_iter().map(|u| (u.id, format!("{}（{}）", u.display_name, u.username))).collect())
}

pub async fn get(s: &Services, actor: &Actor, seq: i64) -> Result<AuditRow> {
    actor.require(Action::ViewAudit)?;
    store_audit::get(s.store.reader(), seq).await.map_err(crate::ServiceError::not_found("审计记录"))
}

/// At most this many records in an archive downloaded from the pages or the API; the CLI's export
/// (`choucha audit export`) has no limit and writes to a file.
pub const EXPORT_LIMIT: u64 = 100_000;

/// What an export wrote.
#[derive(Debug, Clone, Serialize)]
pub struct ExportSummary {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub records: u64,
    pub first_seq: Option<i64>,
    pub last_seq: Option<i64>,
    /// The hash before the first record and of the last: the range's place in the chain.
    pub prev_hash: Option<String>,
    pub last_hash: Option<String>,
    /// SHA-256 (hex) of `audit.jsonl` in the archive.
    pub jsonl_sha256: String,
    pub exported_at: String,
}

/// The audit administrator downloads the records of a range of Beijing days as a zip archive:
/// `audit.jsonl` (every stored field, so the chain can be re-verified off-line) and
/// `manifest.json`. The export itself is an audit record.
pub async fn export(s: &Services, actor: &Actor, from: NaiveDate, to: NaiveDate) -> Result<Vec<u8>> {
    actor.require(Action::VerifyAudit)?;
    let mut out = std::io::Cursor::new(Vec::new());
    let summary = write_archive(s, from, to, Some(EXPORT_LIMIT), None, &mut out).await?;
    let tx = s.write(actor).await?;
    tx.commit(AuditEntry::new("audit.export", "audit_log", 0, json!(null), json!(summary))).await?;
    Ok(out.into_inner())
}

/// The server's operator exports from the CLI (`choucha audit export`), with no limit, into a file;
/// recorded in the audit log in the CLI's name.
pub async fn export_as_system<W: Write + Seek>(
    s: &Services,
    who: &str,
    from: NaiveDate,
    to: NaiveDate,
    checkpoints: Option<&[u8]>,
    out: W,
) -> Result<ExportSummary> {
    let summary = write_archive(s, from, to, None, checkpoints, out).await?;
    let tx = s.write(&choucha_store::audit::AuditActor::system(who)).await?;
    tx.commit(AuditEntry::new("audit.export", "audit_log", 0, json!(null), json!(summary))).await?;
    Ok(summary)
}

/// The archive of a range of Beijing days (`from` to `to`, both included) into `out`, with the
/// signed checkpoints when given (`checkpoints.json`). More than `limit` records are refused.
pub async fn write_archive<W: Write + Seek>(
    s: &Services,
    from: NaiveDate,
    to: NaiveDate,
    limit: Option<u64>,
    checkpoints: Option<&[u8]>,
    out: W,
) -> Result<ExportSummary> {
    if from > to {
        return Err(ServiceError::invalid(
            RuleViolation::new("invalid_range", "起始日期不能晚于结束日期").on_field("to"),
        ));
    }
    let since = rfc3339(clock::beijing_day_start(from));
    let until = rfc3339(clock::beijing_day_start(to + Duration::days(1)));
    let db = s.store.reader();
    let mut zip = ZipWriter::new(out);
    let opts = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    zip.start_file("audit.jsonl", opts).map_err(ServiceError::internal)?;
    let (mut after, mut records, mut digest) = (0i64, 0u64, Sha256::new());
    let mut summary = ExportSummary {
        from,
        to,
        records: 0,
        first_seq: None,
        last_seq: None,
        prev_hash: None,
        last_hash: None,
        jsonl_sha256: String::new(),
        exported_at: rfc3339(s.clock().now()),
    };
    loop {
        let rows = store_audit::range(db, &since, &until, after, 2000).await?;
        let Some(last) = rows.last() else { break };
        after = last.seq;
        for r in rows {
            records += 1;
            if limit.is_some_and(|l| records > l) {
                return Err(ServiceError::invalid(
                    RuleViolation::new(
                        "too_many_records",
                        format!(
                            "该时间段的审计记录超过{}条，请缩小日期范围，或在服务器上用 choucha audit export 导出",
                            limit.unwrap_or_default()
                        ),
                    )
                    .on_field("from"),
                ));
            }
            if summary.first_seq.is_none() {
                summary.first_seq = Some(r.seq);
                summary.prev_hash = Some(r.prev_hash.clone());
            }
            summary.last_seq = Some(r.seq);
            summary.last_hash = Some(r.hash.clone());
            let mut line = serde_json::to_vec(&r).map_err(ServiceError::internal)?;
            line.push(b'\n');
            digest.update(&line);
            zip.write_all(&line).map_err(ServiceError::internal)?;
        }
    }
    summary.records = records;
    summary.jsonl_sha256 = hex::encode(digest.finalize());
    if let Some(c) = checkpoints {
        zip.start_file("checkpoints.json", opts).map_err(ServiceError::internal)?;
        zip.write_all(c).map_err(ServiceError::internal)?;
    }
    zip.start_file("manifest.json", opts).map_err(ServiceError::internal)?;
    let manifest = serde_json::to_vec_pretty(&summary).map_err(ServiceError::internal)?;
    zip.write_all(&manifest).map_err(ServiceError::internal)?;
    zip.finish().map_err(ServiceError::internal)?;
    Ok(summary)
}

fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Verify the whole chain (the audit administrator; the CLI calls the store directly).
pub async fn verify(s: &Services, actor: &Actor) -> Result<Verification> {
    actor.require(Action::VerifyAudit)?;
    Ok(store_audit::verify(&s.store, |_| {}).await?)
}
