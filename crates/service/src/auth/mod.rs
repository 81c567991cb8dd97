//! Sign-in: argon2 password hashes (computed off the async runtime), page sign-in, and API bearer
//! tokens (only their SHA-256 is stored); failed sign-ins lock an account (`lockout`), the
//! deployment's rules are its [`SecurityPolicy`] (`policy`), and a user sees and ends their own
//! sessions and tokens (`own_sessions`).

pub mod actor_cache;
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
    /// The deployment requires a second factor of the user's roles and none is enrolled: only the
    /// enrolment (and the password change, signing out) is open.
    pub must_enrol_second_factor: bool,
}

/// The outcome of a right password at the page's sign-in.
#[derive(Debug, Clone)]
pub enum SignIn {
    /// Signed in.
    Done(SignedIn),
    /// The account has a second factor: the code is asked for next ([`finish_sign_in`]).
    CodeNeeded { user_id: i64 },
}

/// Whether the user must change the password before anything else.
fn must_change(s: &Services, u: &UserRow) -> bool {
    let expired = match (s.policy().password_max_age_days, u.password_changed_at) {
        (Some(days), Some(at)) => s.clock().real_now() - at > Duration::days(days),
        _ => false,
    };
    u.must_change_password || expired
}

/// The acting user for a user id (session or token), with roles and organisation; kept a few
/// seconds per user (see [`actor_cache`]).
pub async fn signed_in(s: &Services, user_id: i64) -> Result<SignedIn> {
    let now = s.clock().real_now();
    if let Some(who) = s.actors.get(user_id, now) {
        return Ok(who);
    }
    let generation = s.actors.generation();
    let who = load_signed_in(s, user_id).await?;
    s.actors.put(user_id, &who, generation, now);
    Ok(who)
}

async fn load_signed_in(s: &Services, user_id: i64) -> Result<SignedIn> {
    let db = s.store.reader();
    let u = users::get(db, user_id).await.map_err(|e| match e {
        choucha_store::StoreError::NotFound => ServiceError::Unauthenticated,
        other => other.into(),
    })?;
    if !u.active {
        return Err(ServiceError::Unauthenticated);
    }
    let must_change_password = must_change(s, &u);
    let roles: Vec<Role> = users::roles_of(db, u.id).await?.iter().filter_map(|r| r.parse::<Role>().ok()).collect();
    // Asked only where the policy requires it (one read by primary key).
    let must_enrol_second_factor =
        s.policy().requires_second_factor(&roles) && !crate::second_factor::enrolled(s, u.id).await?;
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
    Ok(SignedIn { actor, must_change_password, must_enrol_second_factor })
}

/// The acting user for a user id (session or token), with roles and organisation.
pub async fn actor_for_user(s: &Services, user_id: i64) -> Result<Actor> {
    Ok(signed_in(s, user_id).await?.actor)
}

/// Page sign-in from an unknown place (tests, tools): see [`login_from`].
pub async fn login(s: &Services, username: &str, password: &str) -> Result<Actor> {
    Ok(login_from(s, username, password, &Client::default()).await?.actor)
}

/// Page sign-in in one step: see [`sign_in`]; an account with a second factor gets
/// [`ServiceError::SecondFactorRequired`] (the pages ask for the code with [`finish_sign_in`]).
pub async fn login_from(s: &Services, username: &str, password: &str, client: &Client) -> Result<SignedIn> {
    match sign_in(s, username, password, client).await? {
        SignIn::Done(who) => Ok(who),
        SignIn::CodeNeeded { .. } => Err(ServiceError::SecondFactorRequired),
    }
}

/// Page sign-in: checks the password (a failure counts towards the lock, see [`lockout`]). An
/// account with a second factor is not signed in yet: the code comes next. Otherwise the sign-in
/// is recorded, with the client's address, in the audit log.
pub async fn sign_in(s: &Services, username: &str, password: &str, client: &Client) -> Result<SignIn> {
    let user = lockout::check_credentials(s, username, password, client).await?;
    if crate::second_factor::enrolled(s, user.id).await? {
        return Ok(SignIn::CodeNeeded { user_id: user.id });
    }
    Ok(SignIn::Done(record_sign_in(s, &user, client, false).await?))
}

/// The second step of a page sign-in: the code of the user's authenticator (or a recovery code).
/// A wrong code counts towards the lock like a wrong password; a locked or disabled account is
/// refused here too.
pub async fn finish_sign_in(s: &Services, user_id: i64, code: &str, client: &Client) -> Result<SignedIn> {
    let user = users::get(s.store.reader(), user_id).await.map_err(|_| ServiceError::BadCredentials)?;
    check_code(s, &user, code, client).await?;
    record_sign_in(s, &user, client, true).await
}

/// A second-factor code of a user whose password was right (and who is not locked).
async fn check_code(s: &Services, user: &UserRow, code: &str, client: &Client) -> Result<()> {
    if user.locked_until.is_some_and(|until| until > s.clock().real_now()) {
        return Err(ServiceError::BadCredentials);
    }
    if !user.active {
        return Err(ServiceError::Forbidden("该账号已停用，请联系管理员".into()));
    }
    match crate::second_factor::check(s, user.id, &user.username, code).await {
        Ok(()) => Ok(()),
        Err(ServiceError::Invalid(_)) => {
            lockout::record_failure(s, user, "wrong_second_factor", client).await?;
            Err(ServiceError::BadSecondFactor)
        }
        Err(e) => Err(e),
    }
}

/// Record a completed sign-in (clearing earlier failures).
async fn record_sign_in(s: &Services, user: &UserRow, client: &Client, second_factor: bool) -> Result<SignedIn> {
    let who = signed_in(s, user.id).await?;
    let tx = s.write(&who.actor).await?;
    if user.failed_count > 0 || user.locked_until.is_some() {
        users::clear_failures(&tx, user.id).await?;
    }
    let after = json!({"via": "page", "second_factor": second_factor, "address": client.address, "user_agent": client.user_agent});
    tx.commit(AuditEntry::new("auth.login", "user", user.id, json!(null), after)).await?;
    Ok(who)
}

/// Record the deployment's security policy (its `[security]` table) in the audit log when it
/// differs from the last one recorded, before and after: a server started with a changed policy
/// leaves the change in the log. Answers whether a record was written.
pub async fn record_policy(s: &Services, who: &str) -> Result<bool> {
    use choucha_store::audit::{AuditActor, AuditFilter};
    let now = policy::policy_json(s.policy());
    let f = AuditFilter { action: Some("security.policy".into()), ..Default::default() };
    let last = choucha_store::audit::list(s.store.reader(), &f, None, 1).await?.items.into_iter().next();
    let before = last.and_then(|r| serde_json::from_str::<serde_json::Value>(&r.after_json).ok());
    if before.as_ref() == Some(&now) {
        return Ok(false);
    }
    let tx = s.write(AuditActor::system(who)).await?;
    tx.commit(AuditEntry::new("security.policy", "security_policy", "security", before.unwrap_or_default(), now))
        .await?;
    Ok(true)
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

/// A bearer token for username and password without a second-factor code: see
/// [`issue_token_with_code`].
pub async fn issue_token_from(s: &Services, username: &str, password: &str, client: &Client) -> Result<IssuedToken> {
    issue_token_with_code(s, username, password, None, client).await
}

/// `POST /api/v1/auth/token`: a bearer token for username and password (and the second factor's
/// code where the account has one), living the policy's token life. A wrong password or code
/// counts towards the lock like a page sign-in's. A user whose roles require a second factor and
/// who has none enrolled gets no token ([`ServiceError::SecondFactorEnrolmentRequired`]).
pub async fn issue_token_with_code(
    s: &Services,
    username: &str,
    password: &str,
    code: Option<&str>,
    client: &Client,
) -> Result<IssuedToken> {
    let user = lockout::check_credentials(s, username, password, client).await?;
    let who = signed_in(s, user.id).await?;
    if crate::second_factor::enrolled(s, user.id).await? {
        match code.map(str::trim).filter(|c| !c.is_empty()) {
            Some(c) => check_code(s, &user, c, client).await?,
            None => return Err(ServiceError::SecondFactorRequired),
        }
    } else if who.must_enrol_second_factor {
        return Err(ServiceError::SecondFactorEnrolmentRequired);
    }
    let actor = who.actor;
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
    let (id, user_id, last_seen_at) =
        tokens::live(s.store.reader(), &token_hash(token), now).await?.ok_or(ServiceError::Unauthenticated)?;
    if last_seen_at.is_none_or(|t| now - t > Duration::minutes(1)) {
        s.store.token_touch(id, now).await?;
    }
    signed_in(s, user_id).await
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
