//! Two-factor sign-in (issue 15, item 2; GB/T 22239-2019 8.1.4.1 d): a time-based one-time password
//! (TOTP, RFC 6238: SHA-1, 6 digits, 30-second steps, one step of clock skew each way) as the second
//! factor after the password. The QR code is drawn by the server (no outside service); the secret is
//! stored sealed like personal data; a code is accepted once (§5.2); ten one-time recovery codes are
//! shown once and kept only as SHA-256. The security administrator resets a user's second factor.

use choucha_domain::RuleViolation;
use choucha_domain::access::Action;
use choucha_store::audit::{AuditActor, AuditEntry};
use choucha_store::second_factors as store;
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use totp_rs::{Algorithm, Builder, Secret, Totp};

use crate::{Actor, Result, ServiceError, Services, personal};

/// How many recovery codes an enrolment gives.
pub const RECOVERY_CODES: usize = 10;
const ISSUER: &str = "Choucha";
/// Letters and digits a person does not confuse (no 0/o, 1/l/i).
const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

/// What the enrolment page shows: the QR code, and the secret to type instead.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Enrolment {
    /// The secret in base32, for apps that cannot scan.
    pub secret: String,
    /// `otpauth://totp/…`, what the QR code holds.
    pub otpauth_url: String,
    /// The QR code as a PNG, base64 (a `data:image/png;base64,` URL on the page).
    pub qr_png_base64: String,
}

/// The caller's second factor.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SecondFactorStatus {
    pub enrolled: bool,
    /// Recovery codes not used yet.
    pub recovery_codes_left: u64,
}

fn totp(secret: Vec<u8>, username: &str) -> Result<Totp> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(secret)
        .with_account_name(username)
        .with_issuer(Some(ISSUER))
        .build()
        .map_err(|e| ServiceError::internal(format!("TOTP: {e:?}")))
}

fn secret_bytes(b32: &str) -> Result<Vec<u8>> {
    Secret::try_from_base32(b32)
        .map(|s| s.as_bytes().to_vec())
        .map_err(|_| ServiceError::internal("第二因素密钥无法读取"))
}

fn now_unix(s: &Services) -> u64 {
    u64::try_from(s.clock().real_now().timestamp()).unwrap_or_default()
}

fn code_hash(code: &str) -> String {
    let normal: String = code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect();
    hex::encode(Sha256::digest(normal.as_bytes()))
}

fn wrong_code() -> ServiceError {
    ServiceError::invalid(
        RuleViolation::new("second_factor", "动态验证码不正确或已使用，请输入验证器应用中当前显示的6位数字")
            .on_field("code"),
    )
}

/// The caller's status.
pub async fn status(s: &Services, actor: &Actor) -> Result<SecondFactorStatus> {
    let db = s.store.reader();
    let row = store::get(db, actor.user_id).await?;
    let enrolled = row.is_some_and(|r| r.confirmed_at.is_some());
    let recovery_codes_left = if enrolled { store::recovery_codes_left(db, actor.user_id).await? } else { 0 };
    Ok(SecondFactorStatus { enrolled, recovery_codes_left })
}

/// Whether the user has a confirmed second factor.
pub async fn enrolled(s: &Services, user_id: i64) -> Result<bool> {
    Ok(store::get(s.store.reader(), user_id).await?.is_some_and(|r| r.confirmed_at.is_some()))
}

/// A new secret for the caller, not in force until confirmed with a code. Refused while one is in
/// force (the security administrator resets it first).
pub async fn start(s: &Services, actor: &Actor) -> Result<Enrolment> {
    if enrolled(s, actor.user_id).await? {
        return Err(ServiceError::Rule(RuleViolation::new(
            "second_factor_state",
            "已启用动态验证码；如需更换验证器，请联系安全管理员重置",
        )));
    }
    let raw: [u8; 20] = rand::random();
    let enrolment = enrolment(raw.to_vec(), &actor.username)?;
    let secret = enrolment.secret.clone();
    let tx = s.write(actor).await?;
    store::start(&tx, actor.user_id, personal::seal(s, &secret)?).await?;
    tx.commit(AuditEntry::new("auth.second_factor_start", "user", actor.user_id, json!(null), json!(null))).await?;
    Ok(enrolment)
}

/// What the authenticator app is given for `secret`.
fn enrolment(secret: Vec<u8>, username: &str) -> Result<Enrolment> {
    let t = totp(secret, username)?;
    Ok(Enrolment {
        otpauth_url: t.to_url().map_err(|e| ServiceError::internal(format!("TOTP: {e:?}")))?,
        qr_png_base64: t.to_qr_base64().map_err(|e| ServiceError::internal(format!("TOTP QR: {e:?}")))?,
        secret: t.secret().to_base32(),
    })
}

/// The caller's enrolment started and not confirmed yet (the page shows its QR code again until
/// it is confirmed).
pub async fn pending(s: &Services, actor: &Actor) -> Result<Option<Enrolment>> {
    let Some(row) = store::get(s.store.reader(), actor.user_id).await?.filter(|r| r.confirmed_at.is_none()) else {
        return Ok(None);
    };
    let secret = personal::open(s, &row.secret)?;
    Ok(Some(enrolment(secret_bytes(&secret)?, &actor.username)?))
}

/// The caller confirms the new secret with a current code; answers the recovery codes, shown once.
pub async fn confirm(s: &Services, actor: &Actor, code: &str) -> Result<Vec<String>> {
    let row = store::get(s.store.reader(), actor.user_id)
        .await?
        .filter(|r| r.confirmed_at.is_none())
        .ok_or_else(|| ServiceError::Rule(RuleViolation::new("second_factor_state", "请先开始绑定验证器")))?;
    let secret = personal::open(s, &row.secret)?;
    let step = totp(secret_bytes(&secret)?, &actor.username)?.check(code.trim(), now_unix(s)).ok_or_else(wrong_code)?;
    let codes: Vec<String> = (0..RECOVERY_CODES)
        .map(|_| {
            let bytes: [u8; 8] = rand::random();
            let c: String = bytes.iter().map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char).collect();
            format!("{}-{}", &c[..4], &c[4..])
        })
        .collect();
    let hashes: Vec<String> = codes.iter().map(|c| code_hash(c)).collect();
    let tx = s.write(actor).await?;
    store::confirm(&tx, actor.user_id, i64::try_from(step).unwrap_or(i64::MAX), &hashes).await?;
    tx.commit(AuditEntry::new("auth.second_factor_enrol", "user", actor.user_id, json!(null), json!(null))).await?;
    Ok(codes)
}

/// Check the second factor of a sign-in that passed the password: a current TOTP code (each time
/// step once) or an unused recovery code (then used up, and audited in the user's name).
pub async fn check(s: &Services, user_id: i64, username: &str, code: &str) -> Result<()> {
    let code = code.trim();
    let row = store::get(s.store.reader(), user_id)
        .await?
        .filter(|r| r.confirmed_at.is_some())
        .ok_or_else(|| ServiceError::Rule(RuleViolation::new("second_factor_state", "该账号尚未绑定验证器")))?;
    let who = AuditActor { id: Some(user_id), name: username.to_string() };
    if code.len() == 6 && code.chars().all(|c| c.is_ascii_digit()) {
        let secret = personal::open(s, &row.secret)?;
        let step = totp(secret_bytes(&secret)?, username)?.check(code, now_unix(s)).ok_or_else(wrong_code)?;
        let tx = s.write(&who).await?;
        if !store::accept_step(&tx, user_id, i64::try_from(step).unwrap_or(i64::MAX)).await? {
            tx.rollback().await?;
            return Err(wrong_code());
        }
        tx.commit(AuditEntry::new("auth.second_factor", "user", user_id, json!(null), json!({"by": "totp"}))).await?;
        return Ok(());
    }
    let tx = s.write(&who).await?;
    if !store::use_recovery_code(&tx, user_id, &code_hash(code), s.clock().real_now()).await? {
        tx.rollback().await?;
        return Err(wrong_code());
    }
    tx.commit(AuditEntry::new("auth.recovery_code_used", "user", user_id, json!(null), json!(null))).await?;
    Ok(())
}

/// The security administrator removes a user's second factor (a lost phone); the user enrols again.
pub async fn reset(s: &Services, actor: &Actor, user_id: i64) -> Result<()> {
    actor.require(Action::ResetSecondFactor)?;
    let u = choucha_store::users::get(s.store.reader(), user_id).await.map_err(ServiceError::not_found("用户"))?;
    crate::organisations::check_admin_scope(s, actor, u.org_id).await?;
    let tx = s.write(actor).await?;
    if !store::remove(&tx, user_id).await? {
        tx.rollback().await?;
        return Err(ServiceError::Rule(RuleViolation::new("second_factor_state", "该用户未绑定验证器")));
    }
    tx.commit(AuditEntry::new("auth.second_factor_reset", "user", user_id, json!(null), json!(null))).await?;
    Ok(())
}
