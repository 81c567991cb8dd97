//! Signed checkpoints of the audit chain: the head (sequence, hash, time) signed with Ed25519 and kept
//! outside the database, so that deleting the last records and moving the head back, or rewriting
//! the chain and re-hashing it, no longer goes unseen. The signature covers a fixed text form of
//! the head; the public key travels with every checkpoint so the organising bureau can check its copy.

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The only signature algorithm for now (the SM2 option comes later).
pub const CHECKPOINT_ALGORITHM: &str = "ed25519";

/// One signed head of the chain, as one JSON line of the checkpoint file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub seq: i64,
    pub hash: String,
    /// RFC 3339, Beijing time (+08:00).
    pub at: String,
    pub algorithm: String,
    /// Short id of the public key (a hash of it).
    pub key_id: String,
    /// The public key, hex.
    pub public_key: String,
    /// The signature over `signed_text`, hex.
    pub signature: String,
}

/// The exact text signed: the head and the time, one per line.
fn signed_text(seq: i64, hash: &str, at: &str) -> String {
    format!("choucha-audit-checkpoint\n{CHECKPOINT_ALGORITHM}\n{seq}\n{hash}\n{at}")
}

/// The id of a public key.
pub fn key_id_of(public_key: &[u8; 32]) -> String {
    hex::encode(Sha256::digest(public_key))[..16].to_string()
}

/// The key that signs checkpoints (its secret half stays in a 0600 file of the data folder).
pub struct CheckpointSigner(SigningKey);

impl std::fmt::Debug for CheckpointSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("CheckpointSigner").field(&self.key_id()).finish()
    }
}

impl CheckpointSigner {
    pub fn from_seed(seed: [u8; 32]) -> Self {
        CheckpointSigner(SigningKey::from_bytes(&seed))
    }

    pub fn public_key(&self) -> [u8; 32] {
        self.0.verifying_key().to_bytes()
    }

    pub fn public_key_hex(&self) -> String {
        hex::encode(self.public_key())
    }

    pub fn key_id(&self) -> String {
        key_id_of(&self.public_key())
    }

    pub fn sign(&self, seq: i64, hash: &str, at: &str) -> Checkpoint {
        let sig = self.0.sign(signed_text(seq, hash, at).as_bytes());
        Checkpoint {
            seq,
            hash: hash.to_string(),
            at: at.to_string(),
            algorithm: CHECKPOINT_ALGORITHM.into(),
            key_id: self.key_id(),
            public_key: self.public_key_hex(),
            signature: hex::encode(sig.to_bytes()),
        }
    }
}

/// Why a checkpoint is not to be trusted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error("检查点（记录 #{seq}）的签名无效：检查点文件被改动")]
    BadSignature { seq: i64 },
    #[error("检查点（记录 #{seq}）由其他签名密钥（{key_id}）签署，与本系统的公钥不符")]
    ForeignKey { seq: i64, key_id: String },
    #[error("检查点（记录 #{seq}）的签名算法“{algorithm}”不受支持")]
    Algorithm { seq: i64, algorithm: String },
}

/// Check a checkpoint's signature against the trusted public key.
pub fn verify_checkpoint(cp: &Checkpoint, trusted: &[u8; 32]) -> Result<(), CheckpointError> {
    if cp.algorithm != CHECKPOINT_ALGORITHM {
        return Err(CheckpointError::Algorithm { seq: cp.seq, algorithm: cp.algorithm.clone() });
    }
    if cp.public_key != hex::encode(trusted) {
        return Err(CheckpointError::ForeignKey { seq: cp.seq, key_id: cp.key_id.clone() });
    }
    let bad = || CheckpointError::BadSignature { seq: cp.seq };
    let key = VerifyingKey::from_bytes(trusted).map_err(|_| bad())?;
    let bytes: [u8; 64] = hex::decode(&cp.signature).ok().and_then(|b| b.try_into().ok()).ok_or_else(bad)?;
    key.verify_strict(signed_text(cp.seq, &cp.hash, &cp.at).as_bytes(), &Signature::from_bytes(&bytes))
        .map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_checkpoint_verifies_and_any_change_is_refused() {
        let signer = CheckpointSigner::from_seed([9; 32]);
        let cp = signer.sign(120, "ab12", "2026-12-01T10:00:00+08:00");
        assert_eq!(verify_checkpoint(&cp, &signer.public_key()), Ok(()));
        let mut moved = cp.clone();
        moved.seq = 100;
        assert_eq!(verify_checkpoint(&moved, &signer.public_key()), Err(CheckpointError::BadSignature { seq: 100 }));
        let other = CheckpointSigner::from_seed([1; 32]);
        let forged = other.sign(100, "ab12", "2026-12-01T10:00:00+08:00");
        assert!(matches!(verify_checkpoint(&forged, &signer.public_key()), Err(CheckpointError::ForeignKey { .. })));
    }
}
