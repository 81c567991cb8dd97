//! Failed sign-ins and the lock. After the policy's number of consecutive failures an account is
//! locked for the policy's minutes; during the lock even the right password is refused. Every
//! refusal reads the same ([`ServiceError::BadCredentials`]: wrong name, wrong password or locked),
//! so it never tells whether a username exists. Every failure, lock and unlock is an audit record
//! with the client's address; failures of an unknown name are recorded with the name tried.

use choucha_domain::access::Action;
use choucha_store::audit::{AuditActor, AuditEntry};
use choucha_store::users::UserRow;
use choucha_store::{sessions, tokens, users};
use serde_json::json;

use super::{Client, hash_password, verify_password};
use crate::{Actor, Result, ServiceError, Services};

/// Who failed sign-ins are recorded in the name of (nobody is signed in).
fn anonymous() -> AuditActor {
    AuditActor::system("anonymous")
}

/// The name tried, cut to what an audit record's object id holds.
fn tried(username: &str) -> String {
    username.trim().chars().take(64).collect()
}

/// The user whose password this is, if the account may sign in now; every failure is recorded
/// and counted.
pub(crate) async fn check_credentials(
    s: &Services,
    username: &str,
    password: &str,
    client: &Client,
) -> Result<UserRow> {
    let now = s.clock().real_now();
    let user = users::find_by_username(s.store.reader(), username.trim()).await?;
    let Some(user) = user else {
        // Spend the same time as a real check, so a wrong name is not told apart by timing.
        let _ = hash_password(password).await;
        let tx = s.write(anonymous()).await?;
        let after = json!({"username": tried(username), "reason": "unknown_user", "address": client.address});
        tx.commit(AuditEntry::new("auth.login_failed", "user", tried(username), json!(null), after)).await?;
        return Err(ServiceError::BadCredentials);
    };
    let right = verify_password(password, &user.password_hash).await?;
    if user.locked_until.is_some_and(|until| until > now) {
        let tx = s.write(anonymous()).await?;
        let after =
            json!({"username": user.username, "reason": "locked", "right_password": right, "address": client.address});
        tx.commit(AuditEntry::new("auth.login_failed", "user", user.id, json!(null), after)).await?;
        return Err(ServiceError::BadCredentials);
    }
    if !right {
        record_failure(s, &user, "wrong_password", client).await?;
        return Err(ServiceError::BadCredentials);
    }
    if !user.active {
        return Err(ServiceError::Forbidden("该账号已停用，请联系管理员".into()));
    }
    Ok(user)
}

/// Count a failed sign-in of a known user (a wrong password, or a wrong second-factor code after
/// the right password) and lock the account when the policy's number is reached: its sessions and
/// tokens end with the lock.
pub(crate) async fn record_failure(s: &Services, user: &UserRow, reason: &str, client: &Client) -> Result<()> {
    tracing::info!(username = %user.username, reason, "failed sign-in");
    let now = s.clock().real_now();
    let policy = s.policy();
    let tx = s.write(anonymous()).await?;
    let failures = users::record_failure(&tx, user.id).await?;
    let failed = json!({"username": user.username, "reason": reason, "failures": failures, "address": client.address});
    if u32::try_from(failures).unwrap_or(u32::MAX) >= policy.max_failed_sign_ins {
        let until = now + policy.lockout();
        users::lock(&tx, user.id, until).await?;
        sessions::delete_for_user(tx.conn(), user.id).await?;
        tokens::delete_for_user(&tx, user.id).await?;
        tx.audit(AuditEntry::new("auth.login_failed", "user", user.id, json!(null), failed));
        let after =
            json!({"username": user.username, "locked_until": until, "failures": failures, "address": client.address});
        tx.commit(AuditEntry::new("auth.lockout", "user", user.id, json!(null), after)).await?;
    } else {
        tx.commit(AuditEntry::new("auth.login_failed", "user", user.id, json!(null), failed)).await?;
    }
    Ok(())
}

/// Whether an account is locked now, and until when.
pub async fn locked_until(s: &Services, user_id: i64) -> Result<Option<chrono::DateTime<chrono::Utc>>> {
    let u = users::get(s.store.reader(), user_id).await.map_err(ServiceError::not_found("用户"))?;
    Ok(u.locked_until.filter(|t| *t > s.clock().real_now()))
}

/// The administrator unlocks an account (and clears its failures); recorded with the address.
pub async fn unlock(s: &Services, actor: &Actor, user_id: i64, client: &Client) -> Result<()> {
    actor.require(Action::UnlockAccount)?;
    let u = users::get(s.store.reader(), user_id).await.map_err(ServiceError::not_found("用户"))?;
    crate::organisations::check_admin_scope(s, actor, u.org_id).await?;
    let tx = s.write(actor).await?;
    users::clear_failures(&tx, user_id).await?;
    let before = json!({"locked_until": u.locked_until, "failures": u.failed_count});
    let after = json!({"username": u.username, "address": client.address});
    tx.commit(AuditEntry::new("auth.unlock", "user", user_id, before, after)).await?;
    Ok(())
}
