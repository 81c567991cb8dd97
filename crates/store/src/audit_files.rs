//! The audit chain's secrets and witnesses kept outside the database: the audit keyring (HMAC keys,
//! hex, one a line, the last one current), the Ed25519 key that signs checkpoints, and the checkpoint
//! file (one signed head a line, JSON). Secret files are created with mode 0600 and refused when
//! others may read them. See docs/SECURITY-audit.md for rotation.

use std::io::Write;
use std::path::Path;

use choucha_domain::audit::{AuditHash, AuditKey, AuditKeyring};
use choucha_domain::audit_checkpoint::{CHECKPOINT_ALGORITHM, Checkpoint, CheckpointSigner};
use choucha_domain::clock;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use crate::{Store, StoreError, audit};

fn io_error(what: &str, path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Config(format!("{what}“{}”：{e}", path.display()))
}

/// 32 random bytes from the operating system's generator, hex.
fn random_hex() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

/// Create `path` with `text`, readable by the owner only (0600), creating its folder; fails if it
/// exists (a key file is never overwritten).
pub fn create_secret(path: &Path, text: &str) -> Result<(), StoreError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| io_error("无法创建目录", dir, e))?;
    }
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    let mut f = o.open(path).map_err(|e| io_error("无法创建密钥文件", path, e))?;
    f.write_all(text.as_bytes()).and_then(|()| f.sync_all()).map_err(|e| io_error("无法写入密钥文件", path, e))
}

/// Read a secret file, refusing one that others may read.
pub fn read_secret(path: &Path) -> Result<String, StoreError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).map_err(|e| io_error("无法读取密钥文件", path, e))?.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(StoreError::Config(format!(
                "密钥文件“{}”的权限过宽（{:o}）：只应允许所有者读写，请执行 chmod 600 {}",
                path.display(),
                mode & 0o777,
                path.display()
            )));
        }
    }
    std::fs::read_to_string(path).map_err(|e| io_error("无法读取密钥文件", path, e))
}

/// A keyring from hex keys separated by new lines, commas or spaces; the last is current.
pub fn keyring_from_text(text: &str, hash: AuditHash, source: &str) -> Result<AuditKeyring, StoreError> {
    let mut keys = Vec::new();
    for (i, part) in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .flat_map(|l| l.split([',', ' ']))
        .filter(|p| !p.is_empty())
        .enumerate()
    {
        keys.push(AuditKey::from_hex(part).ok_or_else(|| {
            StoreError::Config(format!("{source}中的第 {} 个审计密钥无效：应为至少 16 字节的十六进制", i + 1))
        })?);
    }
    let current = keys.pop().ok_or_else(|| StoreError::Config(format!("{source}中没有审计密钥")))?;
    AuditKeyring::new(hash, current, keys.into_iter().rev().collect())
        .ok_or_else(|| StoreError::Config("审计链必须使用带密钥的哈希（hmac-sha256 或 hmac-sm3）".into()))
}

/// The keyring in `path`, created with one random key (mode 0600) if absent.
pub fn load_or_create_keyring(path: &Path, hash: AuditHash) -> Result<AuditKeyring, StoreError> {
    if !path.exists() {
        create_secret(path, &format!("{}\n", random_hex()))?;
        tracing::info!(path = %path.display(), "created the audit key");
    }
    keyring_from_text(&read_secret(path)?, hash, &format!("审计密钥文件“{}”", path.display()))
}

/// Rotate: a new random key becomes current; the old ones stay in the file to verify older records.
/// Returns the new key's id.
pub fn rotate_key(path: &Path, hash: AuditHash) -> Result<String, StoreError> {
    let old = read_secret(path)?;
    keyring_from_text(&old, hash, &format!("审计密钥文件“{}”", path.display()))?;
    let new = random_hex();
    let tmp = path.with_extension("key.new");
    let _ = std::fs::remove_file(&tmp);
    create_secret(&tmp, &format!("{}\n{new}\n", old.trim_end()))?;
    std::fs::rename(&tmp, path).map_err(|e| io_error("无法替换密钥文件", path, e))?;
    let ring = keyring_from_text(&read_secret(path)?, hash, "新密钥文件")?;
    Ok(ring.current().id().to_string())
}

/// The checkpoint signing key in `path`, created (random seed, 0600) if absent.
pub fn load_or_create_signer(path: &Path) -> Result<CheckpointSigner, StoreError> {
    if !path.exists() {
        create_secret(path, &format!("{}\n", random_hex()))?;
        tracing::info!(path = %path.display(), "created the checkpoint signing key");
    }
    let seed: [u8; 32] = hex::decode(read_secret(path)?.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| StoreError::Config(format!("签名密钥文件“{}”无效：应为 32 字节的十六进制", path.display())))?;
    Ok(CheckpointSigner::from_seed(seed))
}

/// What `audit checkpoint export` writes for the organising bureau.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckpointExport {
    pub algorithm: String,
    pub public_key: String,
    pub key_id: String,
    /// RFC 3339, Beijing time.
    pub exported_at: String,
    pub checkpoints: Vec<Checkpoint>,
}

/// An instant as Beijing time, RFC 3339.
fn rfc3339_beijing(t: DateTime<Utc>) -> String {
    t.with_timezone(&clock::beijing_offset()).to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// The checkpoints in a checkpoint file (JSON lines) or an export (one JSON document); none when the
/// file does not exist.
pub fn read_checkpoints(path: &Path) -> Result<Vec<Checkpoint>, StoreError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_error("无法读取检查点文件", path, e)),
    };
    if let Ok(export) = serde_json::from_str::<CheckpointExport>(&text) {
        return Ok(export.checkpoints);
    }
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l)
                .map_err(|_| StoreError::Config(format!("检查点文件“{}”第 {} 行无法解析", path.display(), i + 1)))
        })
        .collect()
}

/// Sign the chain's head and append it to the checkpoint file. With `only_if_moved`, nothing is
/// written when the last checkpoint already has this head (or the chain is empty).
pub async fn write_checkpoint(
    store: &Store,
    signer: &CheckpointSigner,
    path: &Path,
    only_if_moved: bool,
) -> Result<Option<Checkpoint>, StoreError> {
    let (seq, hash) = audit::head(store.reader()).await?;
    if only_if_moved {
        let last = read_checkpoints(path)?.into_iter().last();
        if seq == 0 || last.is_some_and(|c| c.seq == seq && c.hash == hash) {
            return Ok(None);
        }
    }
    let cp = signer.sign(seq, &hash, &rfc3339_beijing(store.now()));
    let line = serde_json::to_string(&cp).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| io_error("无法创建目录", dir, e))?;
    }
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| io_error("无法写入检查点文件", path, e))?;
    f.write_all(format!("{line}\n").as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|e| io_error("无法写入检查点文件", path, e))?;
    Ok(Some(cp))
}

/// All checkpoints with the public key, for the organising bureau to keep.
pub fn export_checkpoints(
    signer: &CheckpointSigner,
    path: &Path,
    now: DateTime<Utc>,
) -> Result<CheckpointExport, StoreError> {
    Ok(CheckpointExport {
        algorithm: CHECKPOINT_ALGORITHM.into(),
        public_key: signer.public_key_hex(),
        key_id: signer.key_id(),
        exported_at: rfc3339_beijing(now),
        checkpoints: read_checkpoints(path)?,
    })
}
