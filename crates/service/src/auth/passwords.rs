//! Setting a password: the policy's rules, not one of the last passwords (their hashes are kept),
//! and every session and token of the user ended with the change.

use choucha_domain::RuleViolation;
use choucha_store::audit::{AuditActor, AuditEntry};
use choucha_store::users::UserRow;
use choucha_store::{sessions, tokens, users};
use serde_json::json;

use super::{hash_password, verify_password};
use crate::{Result, ServiceError, Services, Write};

/// The hash of `pw` as the new password of `user`, once it meets the policy and is none of the
/// user's last passwords (the current one included). Refusals are on the field `field`.
pub(crate) async fn new_hash(s: &Services, user: &UserRow, pw: &str, field: &'static str) -> Result<String> {
    let policy = s.policy();
    policy.check_password(&user.username, pw).map_err(|v| v.on_field(field))?;
    let n = policy.password_history;
    let mut previous = vec![user.password_hash.clone()];
    previous.extend(users::password_history(s.store.reader(), user.id, n.saturating_sub(1)).await?);
    for h in previous.iter().take(usize::try_from(n).unwrap_or(usize::MAX)) {
        if verify_password(pw, h).await? {
            return Err(ServiceError::invalid(
                RuleViolation::new("password_reused", format!("新密码不能与最近{n}次使用过的密码相同")).on_field(field),
            ));
        }
    }
    hash_password(pw).await
}

/// Replaces `user`'s password by `hash` in the write `tx`: the old hash joins the history, and
/// every page session and API token of the user ends. `must_change` when an administrator set it.
pub(crate) async fn replace(s: &Services, tx: &Write, user: &UserRow, hash: String, must_change: bool) -> Result<()> {
    let now = s.clock().real_now();
    let keep = s.policy().password_history.saturating_sub(1);
    if keep > 0 {
        users::push_password_history(tx, user.id, user.password_hash.clone(), now, keep).await?;
    }
    users::set_password_hash(tx, user.id, hash, must_change, now).await?;
    sessions::delete_for_user(tx.conn(), user.id).await?;
    tokens::delete_for_user(tx, user.id).await?;
    Ok(())
}

/// The bootstrap (`choucha user create`): the new user must change the password at the first
/// sign-in.
pub async fn require_change(s: &Services, who: &str, user_id: i64) -> Result<()> {
    let tx = s.write(AuditActor::system(who)).await?;
    users::set_must_change_password(&tx, user_id, true).await?;
    tx.commit(AuditEntry::new("user.password_change_required", "user", user_id, json!(null), json!(true))).await?;
    Ok(())
}
