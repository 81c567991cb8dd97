//! The audit chain's content and hash. Each record hashes its own content together with the previous
//! record's hash, so altering or deleting any row breaks the chain from there on. The hash function
//! lives only in `chain_hash`: change it there (with a new `HASH_ALGORITHM`) and nowhere else.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Named in every record so a later change of function is visible in the data.
pub const HASH_ALGORITHM: &str = "sha256";

/// The `prev_hash` of the first record.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What one audit record says: who, when, what action, which object, before and after.
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
}

/// The hash of a record: SHA-256 over the previous hash and a canonical JSON array of the content.
pub fn chain_hash(prev_hash: &str, c: &AuditContent) -> String {
    let canonical = serde_json::json!([
        HASH_ALGORITHM,
        prev_hash,
        c.seq,
        c.at,
        c.actor_id,
        c.actor_name,
        c.action,
        c.object_type,
        c.object_id,
        c.before,
        c.after
    ]);
    let digest = Sha256::digest(canonical.to_string().as_bytes());
    hex::encode(digest)
}

/// A stored record as read back for verification.
#[derive(Debug, Clone)]
pub struct StoredAudit {
    pub content: AuditContent,
    pub prev_hash: String,
    pub hash: String,
}

/// Why a chain is broken, naming the first bad record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainBreak {
    /// The record's content does not hash to its stored hash (it was altered).
    Altered { seq: i64 },
    /// The record does not point at the previous record's hash (a record before it was altered or removed).
    Unlinked { seq: i64 },
    /// A sequence number is missing (a record was deleted).
    Gap { expected: i64, found: i64 },
    /// The chain ends before the recorded head (records were deleted at the end).
    Truncated { head_seq: i64, last_seq: i64 },
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
        }
    }
}

/// Incremental verifier: feed records in `seq` order, then `finish` with the stored head.
#[derive(Debug)]
pub struct ChainVerifier {
    expected_seq: i64,
    prev_hash: String,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self { expected_seq: 1, prev_hash: GENESIS_HASH.to_string() }
    }
}

impl ChainVerifier {
    pub fn push(&mut self, r: &StoredAudit) -> Result<(), ChainBreak> {
        let seq = r.content.seq;
        if seq != self.expected_seq {
            return Err(ChainBreak::Gap { expected: self.expected_seq, found: seq });
        }
        if chain_hash(&r.prev_hash, &r.content) != r.hash {
            return Err(ChainBreak::Altered { seq });
        }
        if r.prev_hash != self.prev_hash {
            return Err(ChainBreak::Unlinked { seq });
        }
        self.prev_hash = r.hash.clone();
        self.expected_seq += 1;
        Ok(())
    }

    /// Records checked so far.
    pub fn count(&self) -> i64 {
        self.expected_seq - 1
    }

    pub fn finish(self, head_seq: i64, head_hash: &str) -> Result<i64, ChainBreak> {
        let last = self.expected_seq - 1;
        if head_seq != last || (last > 0 && head_hash != self.prev_hash) {
            return Err(ChainBreak::Truncated { head_seq, last_seq: last });
        }
        Ok(last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<StoredAudit> {
        let mut prev = GENESIS_HASH.to_string();
        (1..=n)
            .map(|seq| {
                let content = AuditContent {
                    seq,
                    at: format!("2025-10-0{seq}T08:00:00.000000Z"),
                    actor_id: Some(1),
                    actor_name: "admin".into(),
                    action: "user.create".into(),
                    object_type: "user".into(),
                    object_id: seq.to_string(),
                    before: "null".into(),
                    after: format!("{{\"username\":\"u{seq}\"}}"),
                };
                let hash = chain_hash(&prev, &content);
                let r = StoredAudit { content, prev_hash: prev.clone(), hash: hash.clone() };
                prev = hash;
                r
            })
            .collect()
    }

    fn verify(records: &[StoredAudit], head: (i64, &str)) -> Result<i64, ChainBreak> {
        let mut v = ChainVerifier::default();
        for r in records {
            v.push(r)?;
        }
        v.finish(head.0, head.1)
    }

    #[test]
    fn intact_chain_verifies() {
        let c = chain(4);
        let head = c[3].hash.clone();
        assert_eq!(verify(&c, (4, &head)), Ok(4));
    }

    #[test]
    fn altered_record_is_named() {
        let mut c = chain(4);
        let head = c[3].hash.clone();
        c[1].content.after = "{\"username\":\"mallory\"}".into();
        assert_eq!(verify(&c, (4, &head)), Err(ChainBreak::Altered { seq: 2 }));
    }

    #[test]
    fn rehashed_record_breaks_the_link_of_the_next() {
        let mut c = chain(4);
        let head = c[3].hash.clone();
        c[1].content.after = "{}".into();
        c[1].hash = chain_hash(&c[1].prev_hash, &c[1].content);
        assert_eq!(verify(&c, (4, &head)), Err(ChainBreak::Unlinked { seq: 3 }));
    }

    #[test]
    fn deleted_records_are_found() {
        let c = chain(4);
        let head = c[3].hash.clone();
        let mut middle = c.clone();
        middle.remove(2);
        assert_eq!(verify(&middle, (4, &head)), Err(ChainBreak::Gap { expected: 3, found: 4 }));
        let mut tail = c;
        tail.pop();
        assert_eq!(verify(&tail, (4, &head)), Err(ChainBreak::Truncated { head_seq: 4, last_seq: 3 }));
    }
}
