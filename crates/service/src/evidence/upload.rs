//! Resumable uploads of large files: the staged file is the upload's progress.

use std::collections::{BTreeMap, HashSet};
use std::sync::{LazyLock, Mutex};

use choucha_domain::RuleViolation;
use choucha_domain::sampling::{UploadAction, UploadState};
use choucha_domain::workflow;
use choucha_store::audit::AuditEntry;
use choucha_store::evidence::{self as store_evidence, EvidenceRow, NewEvidence, NewUpload, UploadRow};
use serde_json::json;

use crate::{Actor, Result, ServiceError, Services};

use super::files::{hash_file, place, record};
use super::staging;
use super::{
    ChunkOutcome, UploadStart, UploadView, check_uploader, check_viewer, is_hex64, is_upload_id, load_task, validate,
    view,
};

/// Start a resumable upload; chunks follow with `put_chunk`.
#[tracing::instrument(skip_all, fields(task_id))]
pub async fn start_upload(s: &Services, actor: &Actor, task_id: i64, input: UploadStart) -> Result<UploadView> {
    let task = load_task(s, task_id).await?;
    check_uploader(s, actor, &task).await?;
    let (cat, name, ct) = validate(&input.category, &input.file_name, &input.content_type, input.total_size)?;
    let expected = match input.expected_sha256.as_deref().map(str::trim).filter(|h| !h.is_empty()) {
        Some(h) if is_hex64(h) => Some(h.to_ascii_lowercase()),
        Some(_) => {
            return Err(ServiceError::invalid(
                RuleViolation::new("invalid_sha256", "SHA-256 应为64位十六进制数").on_field("expected_sha256"),
            ));
        }
        None => None,
    };
    let id = uuid::Uuid::new_v4().simple().to_string();
    let tx = s.write(actor).await?;
    let row = store_evidence::insert_upload(
        &tx,
        NewUpload {
            id: id.clone(),
            task_id,
            category: cat.as_str().to_string(),
            file_name: name,
            content_type: ct,
            total_size: input.total_size as i64,
            expected_sha256: expected,
            created_by: actor.user_id,
        },
    )
    .await?;
    tx.commit(AuditEntry::new(
        "evidence.upload_start",
        "evidence_upload",
        &id,
        json!(null),
        json!({"task_id": task_id, "category": row.category, "file_name": row.file_name, "total_size": row.total_size}),
    ))
    .await?;
    upload_view(s, row).await
}

async fn load_upload(s: &Services, id: &str) -> Result<UploadRow> {
    if !is_upload_id(id) {
        return Err(ServiceError::NotFound("上传"));
    }
    store_evidence::get_upload(s.store.reader(), id).await.map_err(ServiceError::not_found("上传"))
}

async fn received_of(s: &Services, u: &UploadRow) -> Result<u64> {
    match u.state {
        UploadState::Complete => Ok(u.total_size as u64),
        UploadState::Rejected => Ok(0),
        UploadState::Open => staging::received(s, &u.id).await,
    }
}

async fn upload_view(s: &Services, u: UploadRow) -> Result<UploadView> {
    let received = received_of(s, &u).await?;
    let evidence = match u.evidence_id {
        Some(id) => Some(view(s, store_evidence::get(s.store.reader(), id).await?, &mut BTreeMap::new()).await?),
        None => None,
    };
    Ok(UploadView {
        id: u.id,
        task_id: u.task_id,
        category: u.category,
        file_name: u.file_name,
        content_type: u.content_type,
        total_size: u.total_size as u64,
        received,
        state: u.state,
        expected_sha256: u.expected_sha256,
        evidence,
    })
}

/// How far an upload got (the offset of the next chunk).
pub async fn upload_status(s: &Services, actor: &Actor, upload_id: &str) -> Result<UploadView> {
    let u = load_upload(s, upload_id).await?;
    let task = load_task(s, u.task_id).await?;
    check_viewer(s, actor, &task).await.map_err(ServiceError::hidden("上传"))?;
    upload_view(s, u).await
}

/// Uploads being written in this process: one chunk at a time per upload, so two writers never
/// interleave in a staged file (a second writer is told to retry).
static BUSY: LazyLock<Mutex<HashSet<String>>> = LazyLock::new(Mutex::default);

struct Claim(String);

impl Claim {
    fn take(id: &str) -> Result<Claim> {
        let mut busy = BUSY.lock().unwrap_or_else(|p| p.into_inner());
        if busy.insert(id.to_string()) {
            Ok(Claim(id.to_string()))
        } else {
            Err(ServiceError::Rule(RuleViolation::new("upload_busy", "该上传正在写入另一个分片，请稍后重试")))
        }
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        BUSY.lock().unwrap_or_else(|p| p.into_inner()).remove(&self.0);
    }
}

/// Append a chunk at `offset`, which must be the bytes received so far. The chunk that completes the
/// file (or an empty chunk at the end, to retry a completion) verifies and records the evidence.
#[tracing::instrument(skip_all, fields(upload_id, offset))]
pub async fn put_chunk(
    s: &Services,
    actor: &Actor,
    upload_id: &str,
    offset: u64,
    chunk: &[u8],
) -> Result<ChunkOutcome> {
    let u = load_upload(s, upload_id).await?;
    let task = load_task(s, u.task_id).await?;
    check_uploader(s, actor, &task).await?;
    if u.state != UploadState::Open {
        return Err(ServiceError::Rule(RuleViolation::new(
            "upload_closed",
            if u.state == UploadState::Complete {
                "该上传已完成，证据已保存"
            } else {
                "该上传已被拒绝，请重新上传"
            },
        )));
    }
    let _claim = Claim::take(&u.id)?;
    let received = received_of(s, &u).await?;
    if offset != received {
        return Ok(ChunkOutcome::WrongOffset { received });
    }
    let total = u.total_size as u64;
    let end = offset + chunk.len() as u64;
    if end > total {
        return Err(ServiceError::invalid(
            RuleViolation::new(
                "upload_too_long",
                format!("分片超出文件总大小（总大小{total}字节，已收到{received}字节，本分片{}字节）", chunk.len()),
            )
            .on_field("offset"),
        ));
    }
    if !chunk.is_empty() {
        staging::keep(s, &u.id, offset, chunk).await?;
    }
    if end == total {
        finish(s, actor, &u).await?;
        let u = load_upload(s, upload_id).await?;
        return Ok(ChunkOutcome::Accepted(Box::new(upload_view(s, u).await?)));
    }
    Ok(ChunkOutcome::Accepted(Box::new(upload_view(s, u).await?)))
}

/// Verify the staged file, place it and record it; a hash that differs from the declared one
/// rejects the upload (and drops its bytes) with its own audit record.
async fn finish(s: &Services, actor: &Actor, u: &UploadRow) -> Result<EvidenceRow> {
    let staged = staging::gather(s, &u.id).await?;
    let (sha256, size) = hash_file(staged.clone()).await?;
    if size != u.total_size as u64 {
        return Err(ServiceError::Conflict);
    }
    if let Some(expected) = u.expected_sha256.as_deref().filter(|e| *e != sha256) {
        let tx = s.write(actor).await?;
        let t = workflow::step(u.state, UploadAction::Reject)?;
        store_evidence::close_upload(&tx, &u.id, t, None).await?;
        tx.commit(AuditEntry::new(
            "evidence.upload_rejected",
            "evidence_upload",
            &u.id,
            json!({"state": t.from()}),
            json!({"state": t.to(), "expected_sha256": expected, "received_sha256": sha256}),
        ))
        .await?;
        staging::discard(s, &u.id).await;
        return Err(ServiceError::invalid(
            RuleViolation::new(
                "evidence_hash_mismatch",
                format!(
                    "文件校验失败：收到的文件 SHA-256 为 {sha256}，与声明的 {expected} 不一致，文件未保存，请重新上传"
                ),
            )
            .on_field("expected_sha256"),
        ));
    }
    place(s, &staged, &sha256).await?;
    let row = record(
        s,
        actor,
        NewEvidence {
            task_id: u.task_id,
            category: u.category.clone(),
            file_name: u.file_name.clone(),
            content_type: u.content_type.clone(),
            size: size as i64,
            sha256,
            uploaded_by: actor.user_id,
        },
        Some(&u.id),
    )
    .await?;
    staging::discard(s, &u.id).await;
    Ok(row)
}
