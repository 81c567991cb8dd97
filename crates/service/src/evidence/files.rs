//! Content-addressed evidence files: hashed, placed without overwriting, and recorded.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use choucha_domain::sampling::UploadAction;
use choucha_domain::workflow;
use choucha_store::audit::AuditEntry;
use choucha_store::evidence::{self as store_evidence, EvidenceRow, NewEvidence};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::{Actor, Result, Services};

use super::{EvidenceInput, EvidenceView, check_uploader, evidence_key, io_error, load_task, validate, view};

/// SHA-256 (hex) and length of a file, read in 1 MiB blocks off the async runtime.
pub(super) async fn hash_file(path: PathBuf) -> Result<(String, u64)> {
    tokio::task::spawn_blocking(move || -> std::io::Result<(String, u64)> {
        let mut f = std::fs::File::open(&path)?;
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 1024 * 1024];
        let mut n = 0u64;
        loop {
            let read = f.read(&mut buf)?;
            if read == 0 {
                break;
            }
            h.update(&buf[..read]);
            n += read as u64;
        }
        Ok((hex::encode(h.finalize()), n))
    })
    .await
    .map_err(io_error)?
    .map_err(io_error)
}

/// Put a finished file at its content address in the file store. An existing stored file stays as
/// it is (rule 7).
pub(super) async fn place(s: &Services, staged: &Path, sha256: &str) -> Result<()> {
    s.files().put_file(&evidence_key(sha256), staged).await
}

/// Store bytes at their content address (evidence sent in one request, the laboratory's receipt
/// photos). Returns (SHA-256, size).
pub(crate) async fn store_bytes(s: &Services, bytes: &[u8]) -> Result<(String, u64)> {
    let owned = bytes.to_vec();
    // Up to 64 MiB in one request: hashed off the async runtime.
    let (sha256, owned) =
        tokio::task::spawn_blocking(move || (hex::encode(Sha256::digest(&owned)), owned)).await.map_err(io_error)?;
    s.files().put_bytes(&evidence_key(&sha256), owned).await?;
    Ok((sha256, bytes.len() as u64))
}

/// Record a placed file with its audit record ("evidence.add"), closing its upload if there is one.
pub(super) async fn record(
    s: &Services,
    actor: &Actor,
    new: NewEvidence,
    upload_id: Option<&str>,
) -> Result<EvidenceRow> {
    let tx = s.write(actor).await?;
    let row = store_evidence::insert(&tx, new).await?;
    if let Some(u) = upload_id {
        let state = store_evidence::get_upload(tx.conn(), u).await?.state;
        store_evidence::close_upload(&tx, u, workflow::step(state, UploadAction::Complete)?, Some(row.id)).await?;
    }
    tx.commit(AuditEntry::new(
        "evidence.add",
        "evidence",
        row.id,
        json!(null),
        json!({
            "task_id": row.task_id,
            "category": row.category,
            "file_name": row.file_name,
            "content_type": row.content_type,
            "size": row.size,
            "sha256": row.sha256,
            "upload_id": upload_id,
        }),
    ))
    .await?;
    Ok(row)
}

/// Upload a small file in one request.
#[tracing::instrument(skip_all, fields(task_id))]
pub async fn add(
    s: &Services,
    actor: &Actor,
    task_id: i64,
    input: EvidenceInput,
    bytes: &[u8],
) -> Result<EvidenceView> {
    let task = load_task(s, task_id).await?;
    check_uploader(s, actor, &task).await?;
    let (cat, name, ct) = validate(&input.category, &input.file_name, &input.content_type, bytes.len() as u64)?;
    let (sha256, size) = store_bytes(s, bytes).await?;
    let new = NewEvidence {
        task_id,
        category: cat.as_str().to_string(),
        file_name: name,
        content_type: ct,
        size: size as i64,
        sha256,
        uploaded_by: actor.user_id,
    };
    let row = record(s, actor, new, None).await?;
    view(s, row, &mut BTreeMap::new()).await
}
