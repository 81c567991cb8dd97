//! Evidence of a sampling task (DESIGN.md rule 7): photos and videos of the site, storage, labels,
//! stock, the sampling, the seals and the documents, kept unaltered with their SHA-256.
//!
//! Files are stored content-addressed in the file store (`crate::files`) under
//! `evidence/<first two hex>/<sha256>`: a stored file is never replaced, and a half-written file is
//! never visible under its hash. Large videos come in resumable uploads: the upload row is in the
//! database and the bytes received so far wait in staging (`staging`: one local file with files on
//! local disk; one object per chunk with object storage, so that any server of a deployment takes
//! the next chunk), which survives a restart without a write per chunk beyond the chunk itself. On
//! the last chunk the bytes are hashed (streamed in 1 MiB blocks), checked against the hash the
//! client declared, placed in the store and recorded together with its audit record.

use std::collections::BTreeMap;
use std::path::PathBuf;

use choucha_domain::RuleViolation;
use choucha_domain::sampling::{TaskState, UploadState};
use choucha_store::draws::{self as store_draws, TaskRow};
use choucha_store::evidence::{self as store_evidence, EvidenceRow, WaiverRow};
use choucha_store::users;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::access::Ask;
use crate::files::{ByteStream, FileStore};
use crate::{Actor, Result, ServiceError, Services};
use choucha_domain::access::Action;

mod files;
mod staging;
mod upload;
mod waivers;

pub use files::add;
pub(crate) use files::store_bytes;
pub use upload::{put_chunk, start_upload, upload_status};
pub(crate) use waivers::check_complete;
pub use waivers::{WaiverInput, explain_missing};

/// Largest evidence file: a long sampling video at phone quality.
pub const MAX_EVIDENCE_BYTES: u64 = 8 * 1024 * 1024 * 1024;

pub use choucha_domain::sampling::EvidenceCategory;

/// Describes the file of a one-request upload.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct EvidenceInput {
    /// site | storage | labels | stock | process | seals | documents (or the Chinese label)
    pub category: String,
    pub file_name: String,
    /// image/* or video/*
    pub content_type: String,
}

/// Starts a resumable upload.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct UploadStart {
    /// site | storage | labels | stock | process | seals | documents (or the Chinese label)
    pub category: String,
    pub file_name: String,
    /// image/* or video/*
    pub content_type: String,
    /// Size of the whole file in bytes.
    pub total_size: u64,
    /// SHA-256 (hex) the client computed; the finished upload is refused if it differs.
    #[serde(default)]
    pub expected_sha256: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EvidenceView {
    pub id: i64,
    pub task_id: i64,
    pub category: EvidenceCategory,
    pub category_label: String,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    /// SHA-256 (hex) of the stored file.
    pub sha256: String,
    pub uploaded_by: i64,
    pub uploaded_by_name: String,
    pub uploaded_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChecklistEntry {
    pub category: EvidenceCategory,
    pub label: String,
    pub count: usize,
    /// Required by the item's implementation rules (rule 7).
    pub required: bool,
    /// Why there is nothing, where the team recorded it.
    pub reason: Option<String>,
}

/// A required category the team could not photograph, with the reason (seen by the organising
/// bureau with the evidence).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WaiverView {
    pub category: EvidenceCategory,
    pub label: String,
    pub reason: String,
    pub recorded_by_name: String,
    pub recorded_at: DateTime<Utc>,
}

/// A task's evidence and which categories still have nothing.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EvidenceList {
    pub task_id: i64,
    pub items: Vec<EvidenceView>,
    /// The seven categories in order, with how many items each has.
    pub checklist: Vec<ChecklistEntry>,
    /// The categories the item's implementation rules require (rule 7).
    pub required: Vec<EvidenceCategory>,
    /// Required categories recorded as impossible to photograph, with the reason.
    pub waivers: Vec<WaiverView>,
    /// Required categories with neither an item nor a reason: the record cannot be signed yet.
    pub missing: Vec<EvidenceCategory>,
    /// Whether the caller may still add evidence or reasons (a team member, sampling under way,
    /// nobody has signed the record yet).
    pub can_add: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UploadView {
    pub id: String,
    pub task_id: i64,
    pub category: String,
    pub file_name: String,
    pub content_type: String,
    pub total_size: u64,
    /// Bytes received so far: the offset of the next chunk.
    pub received: u64,
    /// open | complete | rejected
    pub state: UploadState,
    pub expected_sha256: Option<String>,
    /// The evidence item, once the upload is complete.
    pub evidence: Option<EvidenceView>,
}

/// What became of a chunk.
#[derive(Debug, Clone)]
pub enum ChunkOutcome {
    /// Written (and, if it was the last, the evidence is recorded).
    Accepted(Box<UploadView>),
    /// The chunk's offset is not the bytes received so far; the client resumes from `received`.
    WrongOffset { received: u64 },
}

/// A stored file to send back, read from the file store as a stream.
#[derive(Debug, Clone)]
pub struct EvidenceContent {
    pub evidence: EvidenceView,
    /// Its size in the store.
    pub size: u64,
    files: FileStore,
}

impl EvidenceContent {
    /// The bytes `range` of the file (all when `None`; a range must lie within `size`).
    pub async fn stream(&self, range: Option<std::ops::Range<u64>>) -> Result<ByteStream> {
        self.files.stream(&evidence_key(&self.evidence.sha256), range).await
    }
}

fn uploads_dir(s: &Services) -> PathBuf {
    s.data_dir.join("evidence").join("uploads")
}

/// The file store's key of a stored file: `evidence/<sha256 prefix>/<sha256>`.
pub fn evidence_key(sha256: &str) -> String {
    format!("evidence/{}/{sha256}", sha256.get(..2).unwrap_or("00"))
}

/// The whole stored file of `sha256` (a photo, a proof document: bounded by
/// `files::MAX_READ_BYTES`).
pub(crate) async fn read_stored(s: &Services, sha256: &str) -> Result<Vec<u8>> {
    if !is_hex64(sha256) {
        return Err(ServiceError::NotFound("文件"));
    }
    s.files().get(&evidence_key(sha256)).await
}

fn staged_path(s: &Services, upload_id: &str) -> PathBuf {
    uploads_dir(s).join(upload_id)
}

fn io_error(e: impl std::fmt::Display) -> ServiceError {
    ServiceError::internal(format!("evidence storage: {e}"))
}

fn is_hex64(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Upload ids are 32 hex digits; anything else never reaches the file system.
fn is_upload_id(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Validated description of a file: (category, file name, content type).
fn validate(
    category: &str,
    file_name: &str,
    content_type: &str,
    size: u64,
) -> Result<(EvidenceCategory, String, String)> {
    let cat: EvidenceCategory = category.parse()?;
    // Keep the last path component only: the name is shown, never used as a path.
    let name = file_name.rsplit(['/', '\\']).next().unwrap_or_default().trim().to_string();
    if name.is_empty() || name.chars().count() > 255 {
        return Err(ServiceError::invalid(
            RuleViolation::new("invalid_file_name", "请提供文件名（不超过255个字符）").on_field("file_name"),
        ));
    }
    let ct = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    let media_ok = match ct.split_once('/') {
        Some(("image" | "video", sub)) => !sub.is_empty() && ct.len() <= 100,
        _ => false,
    };
    if !media_ok {
        return Err(ServiceError::invalid(
            RuleViolation::new(
                "evidence_content_type",
                format!("证据只能是照片或视频（image/*、video/*），不接受“{}”类型的文件", content_type.trim()),
            )
            .on_field("content_type"),
        ));
    }
    if size == 0 || size > MAX_EVIDENCE_BYTES {
        return Err(ServiceError::invalid(
            RuleViolation::new(
                "evidence_size",
                format!("文件大小应在1字节到{}GB之间", MAX_EVIDENCE_BYTES / 1024 / 1024 / 1024),
            )
            .on_field("total_size"),
        ));
    }
    Ok((cat, name, ct))
}

async fn load_task(s: &Services, id: i64) -> Result<TaskRow> {
    store_draws::get_task(s.store.reader(), id).await.map_err(ServiceError::not_found("抽样任务"))
}

/// Only the task's team uploads, and only while sampling is under way.
async fn check_uploader(s: &Services, actor: &Actor, task: &TaskRow) -> Result<()> {
    if !store_draws::team_of(s.store.reader(), task.id).await?.contains(&actor.user_id) {
        return Err(ServiceError::Forbidden("只有该任务抽样组的成员可以上传证据".into()));
    }
    if task.state != TaskState::InProgress {
        return Err(ServiceError::Rule(RuleViolation::new(
            "task_state",
            "只有“抽样中”的任务可以上传证据（请先开始抽样；抽样结束后证据不可再增加）",
        )));
    }
    Ok(())
}

/// The team, the organising bureau and the enterprise's local bureau see the evidence; testers never
/// (盲样, DESIGN.md rule 13: the photos show the enterprise). Others learn nothing, not even that the
/// task exists.
async fn check_viewer(s: &Services, actor: &Actor, task: &TaskRow) -> Result<()> {
    let c = crate::task_context::ctx(s, task.id).await?;
    c.rel_with_local(s, actor).await?.visible(Action::ViewEvidence, "抽样任务")
}

async fn view(s: &Services, e: EvidenceRow, names: &mut BTreeMap<i64, String>) -> Result<EvidenceView> {
    let name = match names.get(&e.uploaded_by) {
        Some(n) => n.clone(),
        None => {
            let n = users::get(s.store.reader(), e.uploaded_by).await?.display_name;
            names.insert(e.uploaded_by, n.clone());
            n
        }
    };
    let category =
        e.category.parse::<EvidenceCategory>().map_err(|_| ServiceError::internal("bad evidence category"))?;
    Ok(EvidenceView {
        id: e.id,
        task_id: e.task_id,
        category,
        category_label: category.label().to_string(),
        file_name: e.file_name,
        content_type: e.content_type,
        size: e.size,
        sha256: e.sha256,
        uploaded_by: e.uploaded_by,
        uploaded_by_name: name,
        uploaded_at: e.uploaded_at,
    })
}

/// A task's evidence with the checklist of the seven categories, what rule 7 requires and what is
/// still missing.
#[tracing::instrument(skip_all, fields(task_id))]
pub async fn list(s: &Services, actor: &Actor, task_id: i64) -> Result<EvidenceList> {
    let task = load_task(s, task_id).await?;
    check_viewer(s, actor, &task).await?;
    let rows = store_evidence::of_task(s.store.reader(), task_id).await?;
    let mut names = BTreeMap::new();
    let mut items = Vec::with_capacity(rows.len());
    for r in rows {
        items.push(view(s, r, &mut names).await?);
    }
    let mut waivers = Vec::new();
    for w in store_evidence::waivers_of(s.store.reader(), task_id).await? {
        waivers.push(waiver_view(s, w, &mut names).await?);
    }
    let required = waivers::required_of(s, task.item_id).await?;
    let checklist: Vec<ChecklistEntry> = EvidenceCategory::ALL
        .into_iter()
        .map(|c| ChecklistEntry {
            category: c,
            label: c.label().to_string(),
            count: items.iter().filter(|i| i.category == c).count(),
            required: required.contains(&c),
            reason: waivers.iter().find(|w| w.category == c).map(|w| w.reason.clone()),
        })
        .collect();
    let present: Vec<EvidenceCategory> = items.iter().map(|i| i.category).collect();
    let explained: Vec<EvidenceCategory> = waivers.iter().map(|w| w.category).collect();
    let missing = choucha_domain::sampling::missing_evidence(&required, &present, &explained);
    let can_add = check_uploader(s, actor, &task).await.is_ok();
    Ok(EvidenceList { task_id, items, checklist, required, waivers, missing, can_add })
}

async fn waiver_view(s: &Services, w: WaiverRow, names: &mut BTreeMap<i64, String>) -> Result<WaiverView> {
    let category =
        w.category.parse::<EvidenceCategory>().map_err(|_| ServiceError::internal("bad evidence category"))?;
    let recorded_by_name = match names.get(&w.recorded_by) {
        Some(n) => n.clone(),
        None => {
            let n = users::get(s.store.reader(), w.recorded_by).await?.display_name;
            names.insert(w.recorded_by, n.clone());
            n
        }
    };
    Ok(WaiverView {
        category,
        label: category.label().to_string(),
        reason: w.reason,
        recorded_by_name,
        recorded_at: w.recorded_at,
    })
}

/// A stored file, for download.
pub async fn content(s: &Services, actor: &Actor, evidence_id: i64) -> Result<EvidenceContent> {
    let e = store_evidence::get(s.store.reader(), evidence_id).await.map_err(ServiceError::not_found("证据"))?;
    let task = load_task(s, e.task_id).await?;
    check_viewer(s, actor, &task).await.map_err(ServiceError::hidden("证据"))?;
    let Some(size) = s.files().len(&evidence_key(&e.sha256)).await? else {
        return Err(ServiceError::internal(format!("evidence file {} missing", e.sha256)));
    };
    Ok(EvidenceContent { evidence: view(s, e, &mut BTreeMap::new()).await?, size, files: s.files().clone() })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn accepts_photos_and_videos_only() {
        assert!(validate("site", "a.jpg", "image/jpeg", 10).is_ok());
        assert!(validate("封样", "b.mp4", "video/mp4; codecs=avc1", 10).is_ok());
        for bad in ["application/pdf", "text/html", "image/", "imagejpeg", ""] {
            let e = validate("site", "a", bad, 10).err().map(|e| e.code());
            assert_eq!(e, Some("evidence_content_type"), "{bad}");
        }
        assert_eq!(validate("nope", "a", "image/png", 1).err().map(|e| e.code()), Some("unknown_category"));
        assert_eq!(validate("site", "a", "image/png", 0).err().map(|e| e.code()), Some("evidence_size"));
    }

    #[test]
    fn keeps_only_the_last_path_component_of_a_name() {
        let (_, name, _) = validate("site", "../../etc/现场.jpg", "image/jpeg", 1).unwrap();
        assert_eq!(name, "现场.jpg");
        assert!(!is_upload_id("../../../etc/passwd"));
    }
}
