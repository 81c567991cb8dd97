//! Evidence of a sampling task (DESIGN.md rule 7): photos and videos of the site, storage, labels,
//! stock, the sampling, the seals and the documents, kept unaltered with their SHA-256.
//!
//! Files are stored content-addressed under `<data_dir>/evidence/<first two hex>/<sha256>`: a file is
//! placed with a hard link (atomic, and it fails rather than replace an existing file), so a stored
//! file is never overwritten and a half-written file is never visible under its hash. Large videos
//! come in resumable uploads: the upload row is in the database and the bytes received so far are the
//! staged file `<data_dir>/evidence/uploads/<upload id>` itself (its length is the offset), so an
//! upload survives a restart without a write per chunk. On the last chunk the staged file is hashed
//! (streamed in 1 MiB blocks), checked against the hash the client declared, placed and recorded
//! together with its audit record.
//!
//! Storage is plain `tokio::fs`/`std::fs`, not object_store: resuming needs appending at an offset
//! and an atomic no-overwrite placement, which object_store's `fs` backend does not offer (its
//! multipart uploads do not survive a restart), so staging would be a local file anyway. An
//! S3-compatible store can be added behind `place`/`open` when a deployment needs it.

use std::collections::{BTreeMap, HashSet};
use std::io::{Read, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex};

use choucha_domain::RuleViolation;
use choucha_domain::sampling::{TaskState, UploadAction, UploadState};
use choucha_domain::workflow;
use choucha_store::audit::AuditEntry;
use choucha_store::draws::{self as store_draws, TaskRow};
use choucha_store::evidence::{self as store_evidence, EvidenceRow, NewEvidence, NewUpload, UploadRow};
use choucha_store::{plans as store_plans, users};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncSeekExt, AsyncWriteExt};

use crate::access::Ask;
use crate::{Actor, Result, ServiceError, Services};
use choucha_domain::access::Action;

/// Largest evidence file: a long sampling video at phone quality.
pub const MAX_EVIDENCE_BYTES: u64 = 8 * 1024 * 1024 * 1024;

/// What a piece of evidence shows (the checklist of DESIGN.md rule 7 and the notices).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceCategory {
    /// 抽样场所
    Site,
    /// 贮存环境
    Storage,
    /// 标签标识
    Labels,
    /// 库存数量
    Stock,
    /// 抽样过程
    Process,
    /// 封样
    Seals,
    /// 文书
    Documents,
}

impl EvidenceCategory {
    pub const ALL: [EvidenceCategory; 7] = [
        EvidenceCategory::Site,
        EvidenceCategory::Storage,
        EvidenceCategory::Labels,
        EvidenceCategory::Stock,
        EvidenceCategory::Process,
        EvidenceCategory::Seals,
        EvidenceCategory::Documents,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EvidenceCategory::Site => "site",
            EvidenceCategory::Storage => "storage",
            EvidenceCategory::Labels => "labels",
            EvidenceCategory::Stock => "stock",
            EvidenceCategory::Process => "process",
            EvidenceCategory::Seals => "seals",
            EvidenceCategory::Documents => "documents",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            EvidenceCategory::Site => "抽样场所",
            EvidenceCategory::Storage => "贮存环境",
            EvidenceCategory::Labels => "标签标识",
            EvidenceCategory::Stock => "库存数量",
            EvidenceCategory::Process => "抽样过程",
            EvidenceCategory::Seals => "封样",
            EvidenceCategory::Documents => "文书",
        }
    }

    /// The English name or the Chinese label.
    pub fn parse(s: &str) -> Result<EvidenceCategory> {
        let s = s.trim();
        EvidenceCategory::ALL.into_iter().find(|c| c.as_str() == s || c.label() == s).ok_or_else(|| {
            ServiceError::invalid(
                RuleViolation::new(
                    "unknown_category",
                    format!(
                        "未知的证据类别“{s}”（应为 site 抽样场所、storage 贮存环境、labels 标签标识、stock 库存数量、\
                         process 抽样过程、seals 封样 或 documents 文书）"
                    ),
                )
                .on_field("category"),
            )
        })
    }
}

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
}

/// A task's evidence and which categories still have nothing.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EvidenceList {
    pub task_id: i64,
    pub items: Vec<EvidenceView>,
    /// The seven categories in order, with how many items each has.
    pub checklist: Vec<ChecklistEntry>,
    /// Categories without any item yet.
    pub missing: Vec<EvidenceCategory>,
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

/// A stored file to send back.
#[derive(Debug, Clone)]
pub struct EvidenceContent {
    pub evidence: EvidenceView,
    pub path: PathBuf,
}

fn evidence_root(s: &Services) -> PathBuf {
    s.data_dir.join("evidence")
}

fn uploads_dir(s: &Services) -> PathBuf {
    evidence_root(s).join("uploads")
}

/// `<data_dir>/evidence/<sha256 prefix>/<sha256>`.
pub fn stored_path(s: &Services, sha256: &str) -> PathBuf {
    evidence_root(s).join(sha256.get(..2).unwrap_or("00")).join(sha256)
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
    let cat = EvidenceCategory::parse(category)?;
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

/// The team, the organising bureau and admins see the evidence; testers never (盲样, DESIGN.md
/// rule 13: the photos show the enterprise). Others learn nothing, not even that the task exists.
async fn check_viewer(s: &Services, actor: &Actor, task: &TaskRow) -> Result<()> {
    let db = s.store.reader();
    let team = store_draws::team_of(db, task.id).await?;
    let plan = store_plans::get_plan(db, task.plan_id).await?;
    let parties = crate::access::TaskParties {
        organising_org_id: plan.organising_org_id,
        sampling_org_id: None,
        testing_org_id: None,
        team: &team,
        local_org_id: None,
    };
    actor.to_task(parties).visible(Action::ViewEvidence, "抽样任务")
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
    let category = EvidenceCategory::parse(&e.category).map_err(|_| ServiceError::internal("bad evidence category"))?;
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

/// SHA-256 (hex) and length of a file, read in 1 MiB blocks off the async runtime.
async fn hash_file(path: PathBuf) -> Result<(String, u64)> {
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

/// Put a finished file at its content address. A hard link is atomic and never replaces an existing
/// file: if the same bytes are already stored, the stored file stays as it is (rule 7).
async fn place(s: &Services, staged: &Path, sha256: &str) -> Result<()> {
    let dest = stored_path(s, sha256);
    if let Some(dir) = dest.parent() {
        tokio::fs::create_dir_all(dir).await.map_err(io_error)?;
    }
    match tokio::fs::hard_link(staged, &dest).await {
        Ok(()) => {
            let mut perms = tokio::fs::metadata(&dest).await.map_err(io_error)?.permissions();
            perms.set_readonly(true);
            tokio::fs::set_permissions(&dest, perms).await.map_err(io_error)?;
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(io_error(e)),
    }
}

/// Store bytes at their content address (evidence sent in one request, the laboratory's receipt
/// photos). Returns (SHA-256, size).
pub(crate) async fn store_bytes(s: &Services, bytes: &[u8]) -> Result<(String, u64)> {
    let dir = uploads_dir(s);
    tokio::fs::create_dir_all(&dir).await.map_err(io_error)?;
    // A name no resumable upload can have (those are 32 hex digits).
    let staged = dir.join(format!("{}.one", uuid::Uuid::new_v4().simple()));
    let result = async {
        let mut f = tokio::fs::File::create(&staged).await.map_err(io_error)?;
        f.write_all(bytes).await.map_err(io_error)?;
        f.sync_all().await.map_err(io_error)?;
        drop(f);
        let (sha256, size) = hash_file(staged.clone()).await?;
        place(s, &staged, &sha256).await?;
        Ok((sha256, size))
    }
    .await;
    let _ = tokio::fs::remove_file(&staged).await;
    result
}

/// Record a placed file with its audit record ("evidence.add"), closing its upload if there is one.
async fn record(s: &Services, actor: &Actor, new: NewEvidence, upload_id: Option<&str>) -> Result<EvidenceRow> {
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
        UploadState::Open => match tokio::fs::metadata(staged_path(s, &u.id)).await {
            Ok(m) => Ok(m.len()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
            Err(e) => Err(io_error(e)),
        },
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
        tokio::fs::create_dir_all(uploads_dir(s)).await.map_err(io_error)?;
        let mut f = tokio::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(false)
            .open(staged_path(s, &u.id))
            .await
            .map_err(io_error)?;
        f.seek(SeekFrom::Start(offset)).await.map_err(io_error)?;
        f.write_all(chunk).await.map_err(io_error)?;
        // The length of the staged file is the offset a client resumes from: make it durable.
        f.sync_data().await.map_err(io_error)?;
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
    let staged = staged_path(s, &u.id);
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
        let _ = tokio::fs::remove_file(&staged).await;
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
    let _ = tokio::fs::remove_file(&staged).await;
    Ok(row)
}

/// A task's evidence with the checklist of the seven categories.
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
    let checklist: Vec<ChecklistEntry> = EvidenceCategory::ALL
        .into_iter()
        .map(|c| ChecklistEntry {
            category: c,
            label: c.label().to_string(),
            count: items.iter().filter(|i| i.category == c).count(),
        })
        .collect();
    let missing = checklist.iter().filter(|c| c.count == 0).map(|c| c.category).collect();
    Ok(EvidenceList { task_id, items, checklist, missing })
}

/// A stored file, for download.
pub async fn content(s: &Services, actor: &Actor, evidence_id: i64) -> Result<EvidenceContent> {
    let e = store_evidence::get(s.store.reader(), evidence_id).await.map_err(ServiceError::not_found("证据"))?;
    let task = load_task(s, e.task_id).await?;
    check_viewer(s, actor, &task).await.map_err(ServiceError::hidden("证据"))?;
    let path = stored_path(s, &e.sha256);
    if tokio::fs::metadata(&path).await.is_err() {
        return Err(ServiceError::internal(format!("evidence file {} missing", e.sha256)));
    }
    Ok(EvidenceContent { evidence: view(s, e, &mut BTreeMap::new()).await?, path })
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
