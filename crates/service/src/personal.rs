//! Personal data at rest (issue 15, item 8; GB/T 22239-2019 8.1.4.8 b and 8.1.4.11): the phone
//! and identity-document numbers of people are stored encrypted with SM4-GCM (GB/T 32907, the
//! national block cipher) under a key derived from the audit keyring, which is kept outside the
//! database (`audit.key`, or `CHOUCHA_AUDIT_KEY`); lists show them masked. This module is the one
//! place to change the cipher.
//!
//! Stored form: `sm4gcm:<key id>:<base64 of nonce ‖ ciphertext>`. The key id names the audit key
//! the data key was derived from, so values sealed before a key rotation still open. A value
//! without the prefix is plain text written before this existed (or by the benchmark's bulk
//! loader) and is read as it is.

use aes_gcm::aead::consts::U12;
use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{AesGcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sm4::Sm4;

use crate::{Result, ServiceError, Services};

type Sm4Gcm = AesGcm<Sm4, U12>;

const PREFIX: &str = "sm4gcm:";
const PURPOSE: &str = "personal-data-sm4";

fn cipher(key: &choucha_domain::audit::AuditKey) -> Result<Sm4Gcm> {
    let derived = key.derive(PURPOSE);
    Sm4Gcm::new_from_slice(&derived[..16]).map_err(ServiceError::internal)
}

fn keyring(s: &Services) -> Result<&choucha_domain::audit::AuditKeyring> {
    s.store.audit_keys().ok_or_else(|| ServiceError::internal("个人信息加密密钥未配置（审计密钥）"))
}

/// The stored form of `plain` (empty stays empty).
pub fn seal(s: &Services, plain: &str) -> Result<String> {
    if plain.is_empty() {
        return Ok(String::new());
    }
    let key = keyring(s)?.current();
    let nonce: [u8; 12] = rand::random();
    let sealed = cipher(key)?
        .encrypt(&Nonce::<U12>::from(nonce), plain.as_bytes())
        .map_err(|_| ServiceError::internal("个人信息加密失败"))?;
    let mut body = nonce.to_vec();
    body.extend_from_slice(&sealed);
    Ok(format!("{PREFIX}{}:{}", key.id(), STANDARD.encode(body)))
}

/// The plain text of a stored value.
pub fn open(s: &Services, stored: &str) -> Result<String> {
    let Some(rest) = stored.strip_prefix(PREFIX) else {
        return Ok(stored.to_string());
    };
    let broken = || ServiceError::internal("个人信息无法解密（密钥不符或数据已损坏）");
    let (id, body) = rest.split_once(':').ok_or_else(broken)?;
    let key = keyring(s)?.find(id).ok_or_else(broken)?;
    let body = STANDARD.decode(body).map_err(|_| broken())?;
    if body.len() < 12 {
        return Err(broken());
    }
    let (nonce, sealed) = body.split_at(12);
    let nonce: [u8; 12] = nonce.try_into().map_err(|_| broken())?;
    let plain = cipher(key)?.decrypt(&Nonce::<U12>::from(nonce), sealed).map_err(|_| broken())?;
    String::from_utf8(plain).map_err(|_| broken())
}

/// Whether a stored value is sealed (tests, and the re-sealing of old rows).
pub fn is_sealed(stored: &str) -> bool {
    stored.starts_with(PREFIX)
}

/// Seal every user's phone and identity-document number still stored in plain text (rows written
/// before encryption, or by the benchmark's bulk loader): run by `serve` and `migrate` at start.
/// One write per batch, with its audit record; returns how many users were sealed.
pub async fn seal_stored(s: &Services) -> Result<u64> {
    use choucha_store::audit::{AuditActor, AuditEntry};
    use choucha_store::users as store_users;
    let mut sealed = 0u64;
    loop {
        // Sealed rows drop out of the query, so each batch starts from the beginning.
        let rows = store_users::with_plain_personal_data(s.store.reader(), PREFIX, 0, 500).await?;
        if rows.is_empty() {
            return Ok(sealed);
        }
        let tx = s.write(&AuditActor::system("personal-data")).await?;
        let ids: Vec<i64> = rows.iter().map(|u| u.id).collect();
        for u in rows {
            let phone = if is_sealed(&u.phone) { u.phone } else { seal(s, &u.phone)? };
            let id_card_no = if is_sealed(&u.id_card_no) { u.id_card_no } else { seal(s, &u.id_card_no)? };
            store_users::set_personal_data(&tx, u.id, phone, id_card_no).await?;
        }
        sealed += ids.len() as u64;
        tx.commit(AuditEntry::new(
            "user.personal_data_sealed",
            "user",
            ids.first().copied().unwrap_or_default(),
            serde_json::json!(null),
            serde_json::json!({ "users": ids }),
        ))
        .await?;
    }
}

/// A phone number as lists show it: the first three and last four digits (138****5678).
pub fn mask_phone(p: &str) -> String {
    mask(p, 3, 4)
}

/// An identity-document number as lists show it: the first four and last four characters.
pub fn mask_id(id: &str) -> String {
    mask(id, 4, 4)
}

fn mask(v: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = v.chars().collect();
    if chars.len() <= head + tail {
        return "*".repeat(chars.len());
    }
    let middle = "*".repeat(chars.len() - head - tail);
    format!(
        "{}{}{}",
        chars[..head].iter().collect::<String>(),
        middle,
        chars[chars.len() - tail..].iter().collect::<String>()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keep_only_the_ends() {
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_id("140202199001011234"), "1402**********1234");
        assert_eq!(mask_phone("12345"), "*****");
        assert_eq!(mask_phone(""), "");
    }
}
