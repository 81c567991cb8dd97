//! A user's own page sessions and API tokens: listed (created, last used, address, user agent)
//! and ended one by one. A session is named by a digest of its id, never the id (the cookie's
//! secret) itself.

use choucha_domain::RuleViolation;
use choucha_store::audit::AuditEntry;
use choucha_store::{sessions, tokens};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::{Actor, Result, ServiceError, Services};

/// The public name of a page session: `s` and a digest of its id.
pub fn session_handle(session_id: &str) -> String {
    format!("s{}", &hex::encode(Sha256::digest(session_id.as_bytes()))[..16])
}

/// The public name of an API token: `t` and its number.
fn token_handle(id: i64) -> String {
    format!("t{id}")
}

/// A page session or an API token of the user.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SessionView {
    /// `s…` a page session, `t…` an API token.
    pub id: String,
    /// `page` or `api`.
    pub kind: &'static str,
    pub created_at: Option<DateTime<Utc>>,
    pub last_seen_at: Option<DateTime<Utc>>,
    pub expires_at: DateTime<Utc>,
    pub address: String,
    pub user_agent: String,
    /// The session or token of this very request.
    pub current: bool,
}

/// The caller's live sessions and tokens; `current` is this request's session id or token.
pub async fn list(s: &Services, actor: &Actor, current: Option<&str>) -> Result<Vec<SessionView>> {
    let now = s.clock().real_now();
    let current_session = current.map(session_handle);
    let current_token = current.map(super::token_hash);
    let mut out = Vec::new();
    for r in s.store.sessions_of_user(actor.user_id, now).await? {
        let id = session_handle(&r.id);
        out.push(SessionView {
            current: current_session.as_deref() == Some(id.as_str()),
            id,
            kind: "page",
            created_at: r.created_at,
            last_seen_at: r.last_seen_at,
            expires_at: r.expires_at,
            address: r.address,
            user_agent: r.user_agent,
        });
    }
    for t in tokens::list_for_user(s.store.reader(), actor.user_id, now).await? {
        out.push(SessionView {
            id: token_handle(t.id),
            kind: "api",
            current: current_token.as_deref() == Some(t.token_hash.as_str()),
            created_at: Some(t.created_at),
            last_seen_at: t.last_seen_at,
            expires_at: t.expires_at,
            address: t.address,
            user_agent: t.user_agent,
        });
    }
    Ok(out)
}

/// The caller ends one of their own sessions or tokens (by the id [`list`] gives); recorded.
pub async fn end(s: &Services, actor: &Actor, id: &str) -> Result<()> {
    let unknown = || ServiceError::NotFound("会话");
    let tx = s.write(actor).await?;
    let after = if let Some(n) = id.strip_prefix('t') {
        let n: i64 = n.parse().map_err(|_| unknown())?;
        if !tokens::delete_of_user(&tx, actor.user_id, n).await? {
            return Err(unknown());
        }
        json!({"kind": "api", "id": id})
    } else if id.starts_with('s') {
        let now = s.clock().real_now();
        let rows = s.store.sessions_of_user(actor.user_id, now).await?;
        let row = rows.iter().find(|r| session_handle(&r.id) == id).ok_or_else(unknown)?;
        sessions::delete_one(tx.conn(), &row.id).await?;
        json!({"kind": "page", "id": id})
    } else {
        return Err(ServiceError::invalid(RuleViolation::new("invalid_session", "会话编号有误").on_field("id")));
    };
    tx.commit(AuditEntry::new("auth.session_end", "user", actor.user_id, json!(null), after)).await?;
    Ok(())
}
