//! The audit chain's content and hash. Each record hashes its own content together with the previous
//! record's hash, so altering or deleting any row breaks the chain from there on. Records are keyed:
//! an HMAC (SHA-256 or SM3) with a key kept outside the database, so a database writer cannot
//! recompute the chain after an edit. The hash function lives only in `AuditHash` (`seal`, `digest`):
//! change it there and nowhere else. Records written before keying carry `sha256` (unkeyed) and stay
//! verifiable, but only as the chain's prefix: an unkeyed record after a keyed one is a downgrade.

use std::collections::HashMap;

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sm3::Sm3;

/// The algorithm of the records written before the chain was keyed (plain SHA-256, no key).
pub const HASH_ALGORITHM: &str = "sha256";

/// The `prev_hash` of the first record.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The hash function of a record, named in every record so a change of function or key is visible
/// in the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AuditHash {
    /// Plain SHA-256 without a key: the records written before keying (legacy, read only).
    Sha256,
    /// HMAC-SHA-256 with the audit key.
    HmacSha256,
    /// HMAC-SM3 (GB/T 32905) with the audit key.
    HmacSm3,
}

impl AuditHash {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditHash::Sha256 => HASH_ALGORITHM,
            AuditHash::HmacSha256 => "hmac-sha256",
            AuditHash::HmacSm3 => "hmac-sm3",
        }
    }

    pub fn parse(s: &str) -> Option<AuditHash> {
        [AuditHash::Sha256, AuditHash::HmacSha256, AuditHash::HmacSm3].into_iter().find(|h| h.as_str() == s)
    }

    pub fn is_keyed(self) -> bool {
        self != AuditHash::Sha256
    }

    /// The keyed hash (MAC) of `bytes`, hex; the unkeyed legacy function ignores the key.
    fn seal(self, key: &[u8], bytes: &[u8]) -> String {
        match self {
            AuditHash::Sha256 => hex::encode(Sha256::digest(bytes)),
            AuditHash::HmacSha256 => match <Hmac<Sha256> as KeyInit>::new_from_slice(key) {
                Ok(mut m) => {
                    m.update(bytes);
                    hex::encode(m.finalize().into_bytes())
                }
                // HMAC takes keys of any length; this branch cannot be reached.
                Err(_) => String::new(),
            },
            AuditHash::HmacSm3 => match <Hmac<Sm3> as KeyInit>::new_from_slice(key) {
                Ok(mut m) => {
                    m.update(bytes);
                    hex::encode(m.finalize().into_bytes())
                }
                Err(_) => String::new(),
            },
        }
    }

    /// The plain digest of a business row's content, hex: SM3 for the SM3 chain, else SHA-256.
    pub fn digest(self, bytes: &[u8]) -> String {
        match self {
            AuditHash::HmacSm3 => hex::encode(Sm3::digest(bytes)),
            AuditHash::Sha256 | AuditHash::HmacSha256 => hex::encode(Sha256::digest(bytes)),
        }
    }
}

/// A secret audit key. Its id (a short hash of the key) is stored with every record it sealed.
#[derive(Clone, PartialEq, Eq)]
pub struct AuditKey {
    id: String,
    secret: Vec<u8>,
}

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditKey").field("id", &self.id).field("secret", &"***").finish()
    }
}

impl AuditKey {
    /// At least 16 bytes; keys are 32 random bytes.
    pub fn new(secret: Vec<u8>) -> Option<AuditKey> {
        if secret.len() < 16 {
            return None;
        }
        let mut h = Sha256::new();
        h.update(b"choucha-audit-key-id\n");
        h.update(&secret);
        let id = hex::encode(h.finalize())[..16].to_string();
        Some(AuditKey { id, secret })
    }

    /// A key for another purpose derived from this one (HMAC-SM3 over the purpose's name), so that
    /// one secret kept outside the database serves both without the two uses meeting.
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        let mac = AuditHash::HmacSm3.seal(&self.secret, format!("choucha-derive\n{purpose}").as_bytes());
        let mut out = [0u8; 32];
        // 64 hex digits of an SM3 MAC always decode into 32 bytes.
        let _ = hex::decode_to_slice(mac, &mut out);
        out
    }

    /// From hex text (a line of the key file, or the environment).
    pub fn from_hex(text: &str) -> Option<AuditKey> {
        hex::decode(text.trim()).ok().and_then(AuditKey::new)
    }

    pub fn id(&self) -> &str {
        &self.id
    }
}

/// The keys of the chain: the current one seals new records, retired ones (after a rotation) still
/// verify the records they sealed.
#[derive(Debug, Clone)]
pub struct AuditKeyring {
    hash: AuditHash,
    current: AuditKey,
    retired: Vec<AuditKey>,
}

impl AuditKeyring {
    /// `hash` must be keyed (the unkeyed function is only read, never written).
    pub fn new(hash: AuditHash, current: AuditKey, retired: Vec<AuditKey>) -> Option<AuditKeyring> {
        hash.is_keyed().then_some(AuditKeyring { hash, current, retired })
    }

    pub fn hash(&self) -> AuditHash {
        self.hash
    }

    pub fn current(&self) -> &AuditKey {
        &self.current
    }

    pub fn find(&self, id: &str) -> Option<&AuditKey> {
        std::iter::once(&self.current).chain(&self.retired).find(|k| k.id == id)
    }

    /// All key ids, current first.
    pub fn ids(&self) -> Vec<String> {
        std::iter::once(&self.current).chain(&self.retired).map(|k| k.id.clone()).collect()
    }
}

/// What one audit record says: who, when, what action, which object, before and after, and the
/// hashes of the business rows its transaction wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditContent {
    /// Position in the chain, from 1, without gaps.
    pub seq: i64,
    /// RFC 3339 timestamp, UTC, microseconds.
    pub at: String,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    /// JSON text of the object before the change (`null` for a creation).
    pub before: String,
    /// JSON text of the object after the change (`null` for a deletion).
    pub after: String,
    /// JSON array of `RowHash` of the business rows written (empty text when none; keyed records only).
    pub rows: String,
}

/// How a record is sealed: the function and the key's id (empty for the unkeyed legacy function).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seal {
    pub hash: AuditHash,
    pub key_id: String,
}

/// The hash of a record over the previous hash and a canonical JSON array of the content. Legacy
/// records keep their original canonical form (without function name beyond `sha256`, key or rows).
pub fn chain_hash(seal: &Seal, key: Option<&AuditKey>, prev_hash: &str, c: &AuditContent) -> String {
    use serde_json::{Value, json};
    let keyed = seal.hash.is_keyed();
    // Keyed: [function, key id, previous hash, content…, rows]; legacy: ["sha256", previous hash, content…].
    let mut canonical =
        if keyed { vec![json!(seal.hash.as_str()), json!(seal.key_id)] } else { vec![json!(HASH_ALGORITHM)] };
    canonical.extend([
        json!(prev_hash),
        json!(c.seq),
        json!(c.at),
        json!(c.actor_id),
        json!(c.actor_name),
        json!(c.action),
        json!(c.object_type),
        json!(c.object_id),
        json!(c.before),
        json!(c.after),
    ]);
    if keyed {
        canonical.push(json!(c.rows));
    }
    let secret = key.map(|k| k.secret.as_slice()).unwrap_or_default();
    seal.hash.seal(secret, Value::Array(canonical).to_string().as_bytes())
}

/// The hash of one business row as an audit record carries it (`hash` is `None` for a deleted row).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowHash {
    pub table: String,
    pub id: i64,
    pub hash: Option<String>,
}

/// A stored record as read back for verification.
#[derive(Debug, Clone)]
pub struct StoredAudit {
    pub content: AuditContent,
    pub seal: Seal,
    pub prev_hash: String,
    pub hash: String,
}

/// What a business-row table is called in messages.
pub fn row_table_label(table: &str) -> &str {
    match table {
        "lab_results" => "检验结果",
        "lab_reports" => "检验报告",
        "sampling_records" => "抽样单",
        other => other,
    }
}

/// Why a chain is broken, naming the first bad record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainBreak {
    /// The record's content does not hash to its stored hash (it was altered, or re-hashed without
    /// the key).
    Altered { seq: i64 },
    /// The record does not point at the previous record's hash (a record before it was altered or removed).
    Unlinked { seq: i64 },
    /// A sequence number is missing (a record was deleted).
    Gap { expected: i64, found: i64 },
    /// The chain ends before the recorded head (records were deleted at the end).
    Truncated { head_seq: i64, last_seq: i64 },
    /// The record names a key this installation does not hold (forged with another key, or a key
    /// missing from the keyring after a rotation).
    UnknownKey { seq: i64, key_id: String },
    /// An unkeyed record after a keyed one: the chain was rewritten without the key.
    Downgraded { seq: i64 },
    /// A signed checkpoint saw the chain up to `checkpoint_seq`; the database now ends before it.
    CheckpointTruncated { checkpoint_seq: i64, last_seq: i64 },
    /// The record at a signed checkpoint has another hash than the one signed: the chain up to it
    /// was rewritten and re-hashed.
    Rehashed { seq: i64 },
    /// A business row differs from the hash its latest audit record carries.
    RowChanged { table: String, id: i64, seq: i64 },
    /// A business row its latest audit record says exists is gone.
    RowMissing { table: String, id: i64, seq: i64 },
}

impl ChainBreak {
    /// The first audit record concerned.
    pub fn seq(&self) -> i64 {
        match self {
            ChainBreak::Altered { seq }
            | ChainBreak::Unlinked { seq }
            | ChainBreak::UnknownKey { seq, .. }
            | ChainBreak::Downgraded { seq }
            | ChainBreak::Rehashed { seq }
            | ChainBreak::RowChanged { seq, .. }
            | ChainBreak::RowMissing { seq, .. } => *seq,
            ChainBreak::Gap { expected, .. } => *expected,
            ChainBreak::Truncated { last_seq, .. } | ChainBreak::CheckpointTruncated { last_seq, .. } => last_seq + 1,
        }
    }
}

impl std::fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChainBreak::Altered { seq } => write!(f, "审计记录 #{seq} 内容被篡改（哈希不符）"),
            ChainBreak::Unlinked { seq } => write!(f, "审计记录 #{seq} 与前一条记录的哈希不衔接"),
            ChainBreak::Gap { expected, found } => {
                write!(f, "审计记录 #{expected} 缺失（下一条为 #{found}），记录被删除")
            }
            ChainBreak::Truncated { head_seq, last_seq } => {
                write!(f, "审计链末尾缺失：链头为 #{head_seq}，最后一条为 #{last_seq}")
            }
            ChainBreak::UnknownKey { seq, key_id } => {
                write!(f, "审计记录 #{seq} 由未知密钥（{key_id}）签署：记录被伪造，或密钥环缺少轮换前的密钥")
            }
            ChainBreak::Downgraded { seq } => {
                write!(f, "审计记录 #{seq} 在有密钥的记录之后改为无密钥哈希：审计链被无密钥重算")
            }
            ChainBreak::CheckpointTruncated { checkpoint_seq, last_seq } => {
                write!(f, "审计链已被截断：检查点记录到 #{checkpoint_seq}，数据库只到 #{last_seq}")
            }
            ChainBreak::Rehashed { seq } => {
                write!(f, "审计链已被改写并重新计算哈希：审计记录 #{seq} 与签名检查点不符")
            }
            ChainBreak::RowChanged { table, id, seq } => write!(
                f,
                "业务数据被改动：{} #{id}（最后一条审计记录 #{seq}）内容与审计记录不符",
                row_table_label(table)
            ),
            ChainBreak::RowMissing { table, id, seq } => {
                write!(f, "业务数据被删除：{} #{id}（最后一条审计记录 #{seq}）已不存在", row_table_label(table))
            }
        }
    }
}

/// Incremental verifier: feed records in `seq` order, then `finish` with the stored head.
#[derive(Debug)]
pub struct ChainVerifier {
    expected_seq: i64,
    prev_hash: String,
    keys: HashMap<String, AuditKey>,
    keyed_seen: bool,
    legacy: i64,
    checkpoint: Option<(i64, String)>,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self {
            expected_seq: 1,
            prev_hash: GENESIS_HASH.to_string(),
            keys: HashMap::new(),
            keyed_seen: false,
            legacy: 0,
            checkpoint: None,
        }
    }
}

impl ChainVerifier {
    /// A verifier holding the keys of `keyring` (without one, only unkeyed records verify).
    pub fn new(keyring: Option<&AuditKeyring>) -> Self {
        let mut v = Self::default();
        if let Some(k) = keyring {
            for key in std::iter::once(&k.current).chain(&k.retired) {
                v.keys.insert(key.id.clone(), key.clone());
            }
        }
        v
    }

    /// Also check the chain against a signed checkpoint's (sequence, hash).
    pub fn with_checkpoint(mut self, seq: i64, hash: &str) -> Self {
        self.checkpoint = Some((seq, hash.to_string()));
        self
    }

    pub fn push(&mut self, r: &StoredAudit) -> Result<(), ChainBreak> {
        let seq = r.content.seq;
        if seq != self.expected_seq {
            return Err(ChainBreak::Gap { expected: self.expected_seq, found: seq });
        }
        let key = if r.seal.hash.is_keyed() {
            self.keyed_seen = true;
            match self.keys.get(&r.seal.key_id) {
                Some(k) => Some(k),
                None => return Err(ChainBreak::UnknownKey { seq, key_id: r.seal.key_id.clone() }),
            }
        } else if self.keyed_seen {
            return Err(ChainBreak::Downgraded { seq });
        } else {
            self.legacy += 1;
            None
        };
        if chain_hash(&r.seal, key, &r.prev_hash, &r.content) != r.hash {
            return Err(ChainBreak::Altered { seq });
        }
        if r.prev_hash != self.prev_hash {
            return Err(ChainBreak::Unlinked { seq });
        }
        if let Some((cp_seq, cp_hash)) = &self.checkpoint
            && *cp_seq == seq
            && *cp_hash != r.hash
        {
            return Err(ChainBreak::Rehashed { seq });
        }
        self.prev_hash = r.hash.clone();
        self.expected_seq += 1;
        Ok(())
    }

    /// Records checked so far.
    pub fn count(&self) -> i64 {
        self.expected_seq - 1
    }

    /// Unkeyed records (written before keying) among those checked.
    pub fn legacy(&self) -> i64 {
        self.legacy
    }

    pub fn finish(self, head_seq: i64, head_hash: &str) -> Result<i64, ChainBreak> {
        let last = self.expected_seq - 1;
        if let Some((cp_seq, _)) = self.checkpoint
            && cp_seq > last
        {
            return Err(ChainBreak::CheckpointTruncated { checkpoint_seq: cp_seq, last_seq: last });
        }
        if head_seq != last || (last > 0 && head_hash != self.prev_hash) {
            return Err(ChainBreak::Truncated { head_seq, last_seq: last });
        }
        Ok(last)
    }
}

#[cfg(test)]
mod tests;
