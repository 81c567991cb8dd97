//! Sign-in: argon2 password hashes (computed off the async runtime), page sign-in, and API bearer
//! tokens (only their SHA-256 is stored).

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use choucha_domain::RuleViolation;
use choucha_domain::role::Role;
use choucha_store::audit::AuditEntry;
use choucha_store::{organisations, tokens, users};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::{Actor, Result, ServiceError, Services};

/// How long an API token lives.
pub const TOKEN_LIFETIME_HOURS: i64 = 12;

/// The minimum a password must meet.
pub fn check_password_policy(pw: &str) -> std::result::Result<(), RuleViolation> {
    let n = pw.chars().count();
    let has_letter = pw.chars().any(|c| c.is_alphabetic());
    let has_digit = pw.chars().any(|c| c.is_ascii_digit());
    if !(8..=128).contains(&n) || !has_letter || !has_digit {
        return Err(RuleViolation::new("weak_password", "密码须为8至128位，且同时包含字母和数字").on_field("password"));
    }
    Ok(())
}

pub async fn hash_password(pw: &str) -> Result<String> {
    let pw = pw.to_string();
    tokio::task::spawn_blocking(move || {
        Argon2::default().hash_password(pw.as_bytes()).map(|h| h.to_string()).map_err(ServiceError::internal)
    })
    .await
    .map_err(ServiceError::internal)?
}

pub async fn verify_password(pw: &str, hash: &str) -> Result<bool> {
    let pw = pw.to_string();
    let hash = hash.to_string();
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&hash).map_err(ServiceError::internal)?;
        Ok(Argon2::default().verify_password(pw.as_bytes(), &parsed).is_ok())
    })
    .await
    .map_err(ServiceError::internal)?
}

/// The acting user for a user id (session or token), with roles and organisation.
pub async fn actor_for_user(s: &Services, user_id: i64) -> Result<Actor> {
    let db = s.store.reader();
    let u = users::get(db, user_id).await.map_err(|e| match e {
        choucha_store::StoreError::NotFound => ServiceError::Unauthenticated,
        other => other.into(),
    })?;
    if !u.active {
        return Err(ServiceError::Unauthenticated);
    }
    let roles = users::roles_of(db, u.id).await?.iter().filter_map(|r| r.parse::<Role>().ok()).collect();
    let org = match u.org_id {
        Some(id) => Some(organisations::get(db, id).await?),
        None => None,
    };
    Ok(Actor {
        user_id: u.id,
        username: u.username,
        display_name: u.display_name,
        roles,
        org_id: org.as_ref().map(|o| o.id),
        org_name: org.as_ref().map(|o| o.name.clone()),
        org_division: org.as_ref().and_then(|o| o.division_code.clone()),
        org_kind: org.as_ref().map(|o| o.kind.clone()),
        enterprise_id: u.enterprise_id,
    })
}

async fn check_credentials(s: &Services, username: &str, password: &str) -> Result<i64> {
    let user = users::find_by_username(s.store.reader(), username.trim()).await?;
    let Some(user) = user else {
        // Spend the same time as a real check, so a wrong name is not told apart by timing.
        let _ = hash_password(password).await;
        return Err(ServiceError::BadCredentials);
    };
    if !verify_password(password, &user.password_hash).await? {
        tracing::info!(username = %user.username, "failed sign-in");
        return Err(ServiceError::BadCredentials);
    }
    if !user.active {
        return Err(ServiceError::Forbidden("该账号已停用，请联系管理员".into()));
    }
    Ok(user.id)
}

/// Page sign-in: checks the password and records the sign-in in the audit log.
pub async fn login(s: &Services, username: &str, password: &str) -> Result<Actor> {
    let id = check_credentials(s, username, password).await?;
    let actor = actor_for_user(s, id).await?;
    let tx = s.write(&actor).await?;
    tx.commit(AuditEntry::new("auth.login", "user", id, json!(null), json!({"via": "page"}))).await?;
    Ok(actor)
}

pub async fn logout(s: &Services, actor: &Actor) -> Result<()> {
    let tx = s.write(actor).await?;
    tx.commit(AuditEntry::new("auth.logout", "user", actor.user_id, json!(null), json!(null))).await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize)]
pub struct IssuedToken {
    pub token: String,
    pub token_type: &'static str,
    pub expires_at: DateTime<Utc>,
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// `POST /api/v1/auth/token`: a bearer token for username and password.
pub async fn issue_token(s: &Services, username: &str, password: &str) -> Result<IssuedToken> {
    let id = check_credentials(s, username, password).await?;
    let actor = actor_for_user(s, id).await?;
    let token = format!("cc_{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
    // Credentials live in real time: moving the business clock (tests, training) neither expires
    // nor extends them.
    let expires_at = s.clock().real_now() + Duration::hours(TOKEN_LIFETIME_HOURS);
    let tx = s.write(&actor).await?;
    let token_id = tokens::insert(&tx, id, token_hash(&token), "api".into(), expires_at).await?;
    tx.commit(AuditEntry::new(
        "auth.token_issue",
        "api_token",
        token_id,
        json!(null),
        json!({"user_id": id, "expires_at": expires_at}),
    ))
    .await?;
    Ok(IssuedToken { token, token_type: "Bearer", expires_at })
}

/// The acting user of a bearer token.
pub async fn actor_from_token(s: &Services, token: &str) -> Result<Actor> {
    let uid = tokens::user_of(s.store.reader(), &token_hash(token), s.clock().real_now())
        .await?
        .ok_or(ServiceError::Unauthenticated)?;
    actor_for_user(s, uid).await
}

pub async fn revoke_token(s: &Services, actor: &Actor, token: &str) -> Result<()> {
    let tx = s.write(actor).await?;
    tokens::delete(&tx, &token_hash(token)).await?;
    tx.commit(AuditEntry::new("auth.token_revoke", "user", actor.user_id, json!(null), json!(null))).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_policy() {
        assert!(check_password_policy("abc12345").is_ok());
        assert!(check_password_policy("abcdefgh").is_err());
        assert!(check_password_policy("1234567").is_err());
        assert!(check_password_policy("密码很长但是没有数字").is_err());
    }
}
