//! SM2 signatures on issued documents (issue 18): each issuing institution's key pair (the private
//! key in a key file, 0600, under the signing folder; the public keys with their validity in the
//! database), the signing of a rendered PDF, key rotation with history, the key export for offline
//! verification, and the check of a file against the known keys. The file format is
//! `choucha_domain::signed_pdf` (docs/SIGNATURES.md).

use std::path::{Path, PathBuf};

use choucha_domain::signed_pdf::{self, KeyPair, SignedPdfError};
use choucha_store::audit::{AuditActor, AuditEntry};
use choucha_store::signing::{self as store, NewSignature};
use choucha_store::{audit_files, organisations};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{Result, ServiceError, Services, Write};

/// The `kind` of a signed test report.
pub const REPORT: &str = "report";
/// The `kind` of a signed re-test report (复检报告).
pub const RETEST_REPORT: &str = "retest_report";
/// The `kind` of a signed results announcement (抽查结果公告), signed by the publishing bureau.
pub const ANNOUNCEMENT: &str = "announcement";
/// The `kind` of a signed result notice (检验结果告知书) addressed to the sampled enterprise, signed
/// by the testing institution; its `object_id` is the report's.
pub const RESULT_NOTICE: &str = "result_notice";
/// The same, addressed to the nominal producer (rule 17).
pub const RESULT_NOTICE_PRODUCER: &str = "result_notice_producer";

/// The key file of an institution in the signing folder.
pub fn key_path(dir: &Path, org_id: i64) -> PathBuf {
    dir.join(format!("org-{org_id}.sm2.key"))
}

fn read_key(path: &Path) -> Result<KeyPair> {
    let text = audit_files::read_secret(path)?;
    KeyPair::from_secret_hex(&text)
        .ok_or_else(|| ServiceError::internal(format!("SM2 key file {} holds no valid private key", path.display())))
}

fn new_pair() -> KeyPair {
    KeyPair::generate(rand::random::<[u8; 32]>)
}

/// The institution's current key pair from its key file, generated on first use.
pub(crate) fn issuing_key(s: &Services, org_id: i64) -> Result<KeyPair> {
    let path = key_path(s.signing_dir(), org_id);
    if !path.exists() {
        match audit_files::create_secret(&path, &format!("{}\n", new_pair().secret_hex())) {
            Ok(()) => tracing::info!(path = %path.display(), org_id, "created an SM2 signing key"),
            // Two issues at once: the other one created it first.
            Err(_) if path.exists() => {}
            Err(e) => return Err(e.into()),
        }
    }
    read_key(&path)
}

/// Records `key` as the institution's current public key in the write (once; a key file replaced
/// outside `rotate` retires the keys before it, which keep verifying what they signed).
pub(crate) async fn record_key(tx: &Write, org_id: i64, key: &KeyPair) -> Result<()> {
    let id = key.key_id();
    match store::key(tx.conn(), &id).await? {
        Some(row) if row.org_id == org_id && row.retired_at.is_none() => Ok(()),
        Some(_) => Err(ServiceError::internal(format!("SM2 key {id} of org {org_id} is retired or not its own"))),
        None => {
            store::retire_keys_except(tx, org_id, &id).await?;
            store::insert_key(tx, org_id, &id, &key.public_hex()).await?;
            Ok(())
        }
    }
}

/// A new unguessable token of a verification page: 128 random bits, hex.
pub(crate) fn new_token() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

/// A signed PDF and what is stored of it.
pub(crate) struct SignedDocument {
    pub bytes: Vec<u8>,
    pub token: String,
    pub key_id: String,
    pub signature: String,
    pub sm3: String,
    pub sha256: String,
}

/// Signs the rendered `body` with `key` and appends the signature line.
pub(crate) fn sign(key: &KeyPair, body: &[u8], token: String) -> SignedDocument {
    let key_id = key.key_id();
    let signature = key.sign(body);
    let bytes = signed_pdf::attach(body, &key_id, &signature);
    SignedDocument {
        sm3: signed_pdf::sm3_hex(&bytes),
        sha256: signed_pdf::sha256_hex(&bytes),
        bytes,
        token,
        key_id,
        signature,
    }
}

/// Stores the signature of the document `kind` / `object_id` (and the key) in the write.
pub(crate) async fn record(
    tx: &Write,
    kind: &str,
    object_id: i64,
    org_id: i64,
    key: &KeyPair,
    d: &SignedDocument,
) -> Result<()> {
    record_key(tx, org_id, key).await?;
    store::insert_signature(
        tx,
        NewSignature {
            kind,
            object_id,
            token: &d.token,
            key_id: &d.key_id,
            signature: &d.signature,
            pdf_sm3: &d.sm3,
            pdf_sha256: &d.sha256,
        },
    )
    .await?;
    Ok(())
}

/// One public key of the export (`choucha signing export-keys`), the input of an offline check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = SigningPublicKey)]
pub struct PublicKeyEntry {
    /// SM3 of the public key (hex): the `key=` of a signed file.
    pub key_id: String,
    /// The institution's code and name.
    pub org_code: String,
    pub org_name: String,
    /// `sm2`, with the default distinguishing identifier.
    pub algorithm: String,
    /// Uncompressed SEC1 point (04 ‖ x ‖ y), hex.
    pub public_key: String,
    /// Beijing time, RFC 3339.
    pub created_at: String,
    /// Set once rotated out: it still verifies what it signed before.
    pub retired_at: Option<String>,
}

/// Every public key ever used, oldest first.
pub async fn export_keys(s: &Services) -> Result<Vec<PublicKeyEntry>> {
    let db = s.store.reader();
    let rows = store::all_keys(db).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let org = organisations::get(db, r.org_id).await?;
        let time =
            |t: chrono::DateTime<chrono::Utc>| t.with_timezone(&choucha_domain::clock::beijing_offset()).to_rfc3339();
        out.push(PublicKeyEntry {
            key_id: r.key_id,
            org_code: org.code,
            org_name: org.name,
            algorithm: format!("sm2 (id {})", signed_pdf::DEFAULT_DIST_ID),
            public_key: r.public_key,
            created_at: time(r.created_at),
            retired_at: r.retired_at.map(time),
        });
    }
    Ok(out)
}

/// What a rotation did.
#[derive(Debug, Clone)]
pub struct Rotated {
    pub org_name: String,
    pub new_key_id: String,
    pub retired: u64,
    pub key_file: PathBuf,
}

/// Replaces the institution's key pair with a new one (`choucha signing rotate --org CODE`): the
/// new public key is recorded and the old ones retired in one write with its audit record, then the
/// key file is replaced. Retired keys still verify the documents they signed.
pub async fn rotate(s: &Services, who: &AuditActor, org_code: &str) -> Result<Rotated> {
    let org =
        organisations::find_by_code(s.store.reader(), org_code.trim()).await?.ok_or(ServiceError::NotFound("机构"))?;
    let path = key_path(s.signing_dir(), org.id);
    let next = path.with_extension("key-new");
    let _ = std::fs::remove_file(&next);
    let key = new_pair();
    audit_files::create_secret(&next, &format!("{}\n", key.secret_hex()))?;
    let done = async {
        let tx = s.write(who).await?;
        let id = key.key_id();
        let retired = store::retire_keys_except(&tx, org.id, &id).await?;
        store::insert_key(&tx, org.id, &id, &key.public_hex()).await?;
        tx.commit(AuditEntry::new(
            "signing_key.rotate",
            "organisation",
            org.id,
            json!({"retired": retired}),
            json!({"key_id": id}),
        ))
        .await?;
        Ok::<u64, ServiceError>(retired)
    }
    .await;
    let retired = match done {
        Ok(n) => n,
        Err(e) => {
            let _ = std::fs::remove_file(&next);
            return Err(e);
        }
    };
    std::fs::rename(&next, &path).map_err(ServiceError::internal)?;
    Ok(Rotated { org_name: org.name, new_key_id: key.key_id(), retired, key_file: path })
}

/// Checks a signed file against `keys` (an export, or the database's): the key's fingerprint.
///
/// # Errors
/// Why it does not verify, in Chinese.
pub fn check_file(file: &[u8], keys: &[PublicKeyEntry]) -> std::result::Result<PublicKeyEntry, SignedPdfError> {
    let mut found = None;
    signed_pdf::check(file, |id| {
        found = keys.iter().find(|k| k.key_id == id).cloned();
        found.as_ref().map(|k| k.public_key.clone())
    })?;
    found.ok_or(SignedPdfError::NotSigned)
}
