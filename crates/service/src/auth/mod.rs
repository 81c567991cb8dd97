//! Sign-in: argon2 password hashes (computed off the async runtime), page sign-in, and API bearer
//! tokens (only their SHA-256 is stored); failed sign-ins lock an account (`lockout`), the
//! deployment's rules are its [`SecurityPolicy`] (`policy`), and a user sees and ends their own
//! sessions and tokens (`own_sessions`).

pub mod lockout;
pub mod own_sessions;
pub mod passwords;
pub mod policy;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use choucha_domain::role::Role;
use choucha_store::audit::AuditEntry;
use choucha_store::tokens::Issued;
use choucha_store::users::UserRow;
use choucha_store::{organisations, tokens, users};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

pub use policy::SecurityPolicy;

use crate::{Actor, Result, ServiceError, Services};

/// Where a request comes from: the peer's address and the user agent it names (both recorded
/// with sign-ins, failures and sessions).
#[derive(Debug, Clone, Default)]
pub struct Client {
    pub address: String,
    pub user_agent: String,
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

/// The signed-in user of a session or token, and whether they must change their password before
/// anything else (an administrator-set or bootstrap password, or an expired one).
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub actor: Actor,
    pub must_change_password: bool,
}

/// Whether the user must change the password before anything else.
fn must_change(s: &Services, u: &UserRow) -> bool {
    let expired = match (s.policy().password_max_age_days, u.password_changed_at) {
        (Some(days), Some(at)) => s.clock().real_now() - at > Duration::days(days),
        _ => false,
    };
    u.must_change_password || expired
}

/// The acting user for a user id (session or token), with roles and organisation.
pub async fn signed_in(s: &Services, user_id: i64) -> Result<SignedIn> {
    let db = s.store.reader();
    let u = users::get(db, user_id).await.map_err(|e| match e {
        choucha_store::StoreError::NotFound => ServiceError::Unauthenticated,
        other => other.into(),
    })?;
    if !u.active {
        return Err(ServiceError::Unauthenticated);
    }
    let must_change_password = must_change(s, &u);
    let roles = users::roles_of(db, u.id).await?.iter().filter_map(|r| r.parse::<Role>().ok()).collect();
    let org = match u.org_id {
        Some(id) => Some(organisations::get(db, id).await?),
        None => None,
    };
    let actor = Actor {
        user_id: u.id,
        username: u.username,
        display_name: u.display_name,
        roles,
        org_id: org.as_ref().map(|o| o.id),
        org_name: org.as_ref().map(|o| o.name.clone()),
        org_division: org.as_ref().and_then(|o| o.division_code.clone()),
        org_kind: org.as_ref().map(|o| o.kind.clone()),
        enterprise_id: u.enterprise_id,
    };
    Ok(SignedIn { actor, must_change_password })
}

/// The acting user for a user id (session or token), with roles and organisation.
pub async fn actor_for_user(s: &Services, user_id: i64) -> Result<Actor> {
    Ok(signed_in(s, user_id).await?.actor)
}

/// Page sign-in from an unknown place (tests, tools): see [`login_from`].
pub async fn login(s: &Services, username: &str, password: &str) -> Result<Actor> {
    Ok(login_from(s, username, password, &Client::default()).await?.actor)
}

/// Page sign-in: checks the password (a failure counts towards the lock, see [`lockout`]) and
/// records the sign-in, with the client's address, in the audit log.
pub async fn login_from(s: &Services, username: &str, password: &str, client: &Client) -> Result<SignedIn> {
    let user = lockout::check_credentials(s, username, password, client).await?;
    let who = signed_in(s, user.id).await?;
    let tx = s.write(&who.actor).await?;
    if user.failed_count > 0 || user.locked_until.is_some() {
        users::clear_failures(&tx, user.id).await?;
    }
    let after = json!({"via": "page", "address": client.address, "user_agent": client.user_agent});
    tx.commit(AuditEntry::new("auth.login", "user", user.id, json!(null), after)).await?;
    Ok(who)
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

pub(crate) fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A bearer token for username and password, from an unknown place: see [`issue_token_from`].
pub async fn issue_token(s: &Services, username: &str, password: &str) -> Result<IssuedToken> {
    issue_token_from(s, username, password, &Client::default()).await
}

/// `POST /api/v1/auth/token`: a bearer token for username and password, living the policy's
/// token life. A failure counts towards the lock like a page sign-in's.
pub async fn issue_token_from(s: &Services, username: &str, password: &str, client: &Client) -> Result<IssuedToken> {
    let user = lockout::check_credentials(s, username, password, client).await?;
    let actor = actor_for_user(s, user.id).await?;
    let token = format!("cc_{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
    // Credentials live in real time: moving the business clock (tests, training) neither expires
    // nor extends them.
    let now = s.clock().real_now();
    let expires_at = now + s.policy().token_life();
    let tx = s.write(&actor).await?;
    if user.failed_count > 0 || user.locked_until.is_some() {
        users::clear_failures(&tx, user.id).await?;
    }
    let to = Issued { address: client.address.clone(), user_agent: client.user_agent.clone() };
    let token_id = tokens::insert(&tx, user.id, token_hash(&token), "api".into(), now, expires_at, to).await?;
    tx.commit(AuditEntry::new(
        "auth.token_issue",
        "api_token",
        token_id,
        json!(null),
        json!({"user_id": user.id, "expires_at": expires_at, "address": client.address}),
    ))
    .await?;
    Ok(IssuedToken { token, token_type: "Bearer", expires_at })
}

/// The signed-in user of a bearer token (its last use is noted, at most once a minute).
pub async fn signed_in_by_token(s: &Services, token: &str) -> Result<SignedIn> {
    let now = s.clock().real_now();
    let row = tokens::live(s.store.reader(), &token_hash(token), now).await?.ok_or(ServiceError::Unauthenticated)?;
    if row.last_seen_at.is_none_or(|t| now - t > Duration::minutes(1)) {
        s.store.token_touch(row.id, now).await?;
    }
    signed_in(s, row.user_id).await
}

/// The acting user of a bearer token.
pub async fn actor_from_token(s: &Services, token: &str) -> Result<Actor> {
    Ok(signed_in_by_token(s, token).await?.actor)
}

pub async fn revoke_token(s: &Services, actor: &Actor, token: &str) -> Result<()> {
    let tx = s.write(actor).await?;
    tokens::delete(&tx, &token_hash(token)).await?;
    tx.commit(AuditEntry::new("auth.token_revoke", "user", actor.user_id, json!(null), json!(null))).await?;
    Ok(())
}
