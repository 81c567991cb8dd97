//! The audit log: one record per write, appended in the write's own transaction, chained by hash
//! (`choucha_domain::audit`). Appending locks the single head row, so records are strictly ordered
//! and the previous hash is read from the head, never by scanning.

use choucha_domain::audit::{AuditContent, ChainBreak, ChainVerifier, StoredAudit, chain_hash};
use chrono::{SecondsFormat, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use serde_json::Value;

use crate::entity::{audit_head, audit_log};
use crate::{Page, Store, StoreError, Tx};

/// Who acts: a user, or the system itself (migrations, CLI bootstrap).
#[derive(Debug, Clone)]
pub struct AuditActor {
    pub id: Option<i64>,
    pub name: String,
}

impl AuditActor {
    pub fn system(name: &str) -> Self {
        Self { id: None, name: name.to_string() }
    }
}

/// One change to record.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub before: Value,
    pub after: Value,
}

impl AuditEntry {
    pub fn new(action: &str, object_type: &str, object_id: impl ToString, before: Value, after: Value) -> Self {
        Self {
            action: action.to_string(),
            object_type: object_type.to_string(),
            object_id: object_id.to_string(),
            before,
            after,
        }
    }
}

pub type AuditRow = audit_log::Model;

/// Append a record to the chain inside `tx`. Returns its sequence number.
#[tracing::instrument(skip_all, fields(action = %entry.action))]
pub async fn append(tx: &Tx, actor: &AuditActor, entry: AuditEntry) -> Result<i64, StoreError> {
    let head = audit_head::Entity::find_by_id(1)
        .lock_exclusive()
        .one(&**tx)
        .await?
        .ok_or_else(|| StoreError::Corrupt("审计链头缺失".into()))?;
    let content = AuditContent {
        seq: head.seq + 1,
        at: Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true),
        actor_id: actor.id,
        actor_name: actor.name.clone(),
        action: entry.action,
        object_type: entry.object_type,
        object_id: entry.object_id,
        before: entry.before.to_string(),
        after: entry.after.to_string(),
    };
    let hash = chain_hash(&head.hash, &content);
    let seq = content.seq;
    audit_log::ActiveModel {
        seq: Set(seq),
        at: Set(content.at),
        actor_id: Set(content.actor_id),
        actor_name: Set(content.actor_name),
        action: Set(content.action),
        object_type: Set(content.object_type),
        object_id: Set(content.object_id),
        before_json: Set(content.before),
        after_json: Set(content.after),
        prev_hash: Set(head.hash.clone()),
        hash: Set(hash.clone()),
    }
    .insert(&**tx)
    .await?;
    let updated = audit_head::Entity::update_many()
        .col_expr(audit_head::Column::Seq, seq.into())
        .col_expr(audit_head::Column::Hash, hash.into())
        .filter(audit_head::Column::Id.eq(1))
        .filter(audit_head::Column::Seq.eq(head.seq))
        .exec(&**tx)
        .await?;
    if updated.rows_affected != 1 {
        return Err(StoreError::Conflict);
    }
    tx.mark_audited();
    Ok(seq)
}

/// Result of verifying the whole chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    Intact { records: i64 },
    Broken(ChainBreak),
}

/// Verify the whole chain, reading it in batches. `progress` is called with the records checked.
pub async fn verify(store: &Store, mut progress: impl FnMut(i64)) -> Result<Verification, StoreError> {
    let db = store.reader();
    let mut v = ChainVerifier::default();
    let mut after = 0i64;
    loop {
        let rows = audit_log::Entity::find()
            .filter(audit_log::Column::Seq.gt(after))
            .order_by_asc(audit_log::Column::Seq)
            .limit(5000)
            .all(db)
            .await?;
        let Some(last) = rows.last() else { break };
        after = last.seq;
        for r in rows {
            let stored = StoredAudit {
                content: AuditContent {
                    seq: r.seq,
                    at: r.at,
                    actor_id: r.actor_id,
                    actor_name: r.actor_name,
                    action: r.action,
                    object_type: r.object_type,
                    object_id: r.object_id,
                    before: r.before_json,
                    after: r.after_json,
                },
                prev_hash: r.prev_hash,
                hash: r.hash,
            };
            if let Err(b) = v.push(&stored) {
                return Ok(Verification::Broken(b));
            }
        }
        progress(v.count());
    }
    let head =
        audit_head::Entity::find_by_id(1).one(db).await?.ok_or_else(|| StoreError::Corrupt("审计链头缺失".into()))?;
    Ok(match v.finish(head.seq, &head.hash) {
        Ok(n) => Verification::Intact { records: n },
        Err(b) => Verification::Broken(b),
    })
}

/// Filters of the audit browser.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor_id: Option<i64>,
    /// Action, or an action prefix ending in '.' (e.g. "user.").
    pub action: Option<String>,
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    /// RFC 3339 lower bound (inclusive) and upper bound (exclusive) of `at`.
    pub from: Option<String>,
    pub until: Option<String>,
}

/// Newest first, keyset by `seq`.
pub async fn list(
    db: &impl ConnectionTrait,
    f: &AuditFilter,
    before_seq: Option<i64>,
    limit: u64,
) -> Result<Page<AuditRow>, StoreError> {
    let mut q = audit_log::Entity::find();
    if let Some(a) = f.actor_id {
        q = q.filter(audit_log::Column::ActorId.eq(a));
    }
    if let Some(a) = f.action.as_deref().filter(|s| !s.is_empty()) {
        q = if a.ends_with('.') {
            q.filter(audit_log::Column::Action.starts_with(a))
        } else {
            q.filter(audit_log::Column::Action.eq(a))
        };
    }
    if let Some(t) = f.object_type.as_deref().filter(|s| !s.is_empty()) {
        q = q.filter(audit_log::Column::ObjectType.eq(t));
    }
    if let Some(o) = f.object_id.as_deref().filter(|s| !s.is_empty()) {
        q = q.filter(audit_log::Column::ObjectId.eq(o));
    }
    if let Some(from) = f.from.as_deref() {
        q = q.filter(audit_log::Column::At.gte(from));
    }
    if let Some(until) = f.until.as_deref() {
        q = q.filter(audit_log::Column::At.lt(until));
    }
    if let Some(b) = before_seq {
        q = q.filter(audit_log::Column::Seq.lt(b));
    }
    let items = q.order_by_desc(audit_log::Column::Seq).limit(limit + 1).all(db).await?;
    Ok(Page::cut(items, limit, |r| r.seq.to_string()))
}

pub async fn get(db: &impl ConnectionTrait, seq: i64) -> Result<AuditRow, StoreError> {
    audit_log::Entity::find_by_id(seq).one(db).await?.ok_or(StoreError::NotFound)
}

/// The head of the chain: (last sequence number, its hash).
pub async fn head(db: &impl ConnectionTrait) -> Result<(i64, String), StoreError> {
    let h =
        audit_head::Entity::find_by_id(1).one(db).await?.ok_or_else(|| StoreError::Corrupt("审计链头缺失".into()))?;
    Ok((h.seq, h.hash))
}
