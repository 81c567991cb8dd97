//! The audit log: one record per write, chained by keyed hash (`choucha_domain::audit`) in the
//! write's own transaction. `append` queues the record; `Tx::commit` chains the queued records just
//! before committing, locking the single head row, so records are strictly ordered, the previous
//! hash is read from the head (never by scanning), and the last record of the transaction carries
//! the hashes of the business rows it wrote (`audit_rows`). `verify` streams the chain in batches,
//! optionally against a signed checkpoint and, deep, against the business rows.

use std::collections::HashMap;

use choucha_domain::audit::{
    AuditContent, AuditHash, ChainBreak, ChainVerifier, RowHash, Seal, StoredAudit, chain_hash,
};
use chrono::SecondsFormat;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::Value;

use crate::audit_rows::{self, RowTable};
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

/// Record a change in `tx`; the record is chained when `tx` commits.
#[tracing::instrument(skip_all, fields(action = %entry.action))]
pub async fn append(tx: &Tx, actor: &AuditActor, entry: AuditEntry) -> Result<(), StoreError> {
    tx.queue_audit(actor.clone(), entry);
    Ok(())
}

/// Chain the queued records of `tx` (called by `Tx::commit`).
pub(crate) async fn chain_pending(tx: &Tx) -> Result<(), StoreError> {
    let (pending, touched) = tx.take_pending();
    if pending.is_empty() {
        return Ok(());
    }
    let head = audit_head::Entity::find_by_id(1)
        .lock_exclusive()
        .one(&**tx)
        .await?
        .ok_or_else(|| StoreError::Corrupt("审计链头缺失".into()))?;
    let keys = tx.audit_keys();
    let seal = match keys {
        Some(k) => Seal { hash: k.hash(), key_id: k.current().id().to_string() },
        None => Seal { hash: AuditHash::Sha256, key_id: String::new() },
    };
    // Row hashes only in keyed records: the unkeyed form has no place for them.
    let rows = if seal.hash.is_keyed() && !touched.is_empty() {
        let hashes = audit_rows::hash_touched(&**tx, seal.hash, &touched).await?;
        serde_json::to_string(&hashes).map_err(|e| StoreError::Corrupt(e.to_string()))?
    } else {
        String::new()
    };
    let last = pending.len() - 1;
    let mut prev = head.hash.clone();
    let mut seq = head.seq;
    for (i, (actor, entry)) in pending.into_iter().enumerate() {
        seq += 1;
        let content = AuditContent {
            seq,
            at: tx.now().to_rfc3339_opts(SecondsFormat::Micros, true),
            actor_id: actor.id,
            actor_name: actor.name,
            action: entry.action,
            object_type: entry.object_type,
            object_id: entry.object_id,
            before: entry.before.to_string(),
            after: entry.after.to_string(),
            rows: if i == last { rows.clone() } else { String::new() },
        };
        let hash = chain_hash(&seal, keys.map(|k| k.current()), &prev, &content);
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
            rows_json: Set(content.rows),
            hash_alg: Set(seal.hash.as_str().to_string()),
            key_id: Set(seal.key_id.clone()),
            prev_hash: Set(prev.clone()),
            hash: Set(hash.clone()),
        }
        .insert(&**tx)
        .await?;
        prev = hash;
    }
    let updated = audit_head::Entity::update_many()
        .col_expr(audit_head::Column::Seq, seq.into())
        .col_expr(audit_head::Column::Hash, prev.into())
        .filter(audit_head::Column::Id.eq(1))
        .filter(audit_head::Column::Seq.eq(head.seq))
        .exec(&**tx)
        .await?;
    if updated.rows_affected != 1 {
        return Err(StoreError::Conflict);
    }
    Ok(())
}

/// Result of verifying the whole chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    Intact { records: i64 },
    Broken(ChainBreak),
}

/// What to check beyond the keyed chain itself.
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// A signed checkpoint's (sequence, hash), its signature already checked.
    pub checkpoint: Option<(i64, String)>,
    /// Re-hash the business rows and compare them with their latest audit record.
    pub deep: bool,
}

/// The outcome with what was covered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    pub verification: Verification,
    /// Unkeyed records from before the chain was keyed (the chain's prefix).
    pub legacy: i64,
    /// Business rows re-hashed (deep only).
    pub rows_checked: i64,
}

/// Verify the whole chain, reading it in batches. `progress` is called with the records checked.
pub async fn verify(store: &Store, progress: impl FnMut(i64)) -> Result<Verification, StoreError> {
    Ok(verify_with(store, &VerifyOptions::default(), progress).await?.verification)
}

/// The latest row hash an audit record carries, by row.
type LatestRows = HashMap<(RowTable, i64), (i64, AuditHash, Option<String>)>;

/// Verify the chain with the store's keyring, against a checkpoint and the business rows as asked.
pub async fn verify_with(
    store: &Store,
    opts: &VerifyOptions,
    mut progress: impl FnMut(i64),
) -> Result<VerifyReport, StoreError> {
    let db = store.reader();
    let mut v = ChainVerifier::new(store.audit_keys());
    if let Some((seq, hash)) = &opts.checkpoint {
        v = v.with_checkpoint(*seq, hash);
    }
    let mut latest: LatestRows = HashMap::new();
    let mut after = 0i64;
    let broken = |b, v: &ChainVerifier| VerifyReport {
        verification: Verification::Broken(b),
        legacy: v.legacy(),
        rows_checked: 0,
    };
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
            let Some(hash) = AuditHash::parse(&r.hash_alg) else {
                return Ok(broken(ChainBreak::Altered { seq: r.seq }, &v));
            };
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
                    rows: r.rows_json,
                },
                seal: Seal { hash, key_id: r.key_id },
                prev_hash: r.prev_hash,
                hash: r.hash,
            };
            if let Err(b) = v.push(&stored) {
                return Ok(broken(b, &v));
            }
            if opts.deep && !stored.content.rows.is_empty() {
                // The record verified, so its row list is what was written.
                let rows: Vec<RowHash> = serde_json::from_str(&stored.content.rows)
                    .map_err(|_| StoreError::Corrupt(format!("审计记录 #{} 的业务数据哈希无法解析", r.seq)))?;
                for row in rows {
                    if let Some(t) = RowTable::parse(&row.table) {
                        latest.insert((t, row.id), (r.seq, hash, row.hash));
                    }
                }
            }
        }
        progress(v.count());
    }
    let head =
        audit_head::Entity::find_by_id(1).one(db).await?.ok_or_else(|| StoreError::Corrupt("审计链头缺失".into()))?;
    let legacy = v.legacy();
    let records = match v.finish(head.seq, &head.hash) {
        Ok(n) => n,
        Err(b) => return Ok(VerifyReport { verification: Verification::Broken(b), legacy, rows_checked: 0 }),
    };
    let mut rows_checked = 0;
    if opts.deep
        && let Some(b) = compare_rows(db, &mut latest, &mut rows_checked).await?
    {
        return Ok(VerifyReport { verification: Verification::Broken(b), legacy, rows_checked });
    }
    Ok(VerifyReport { verification: Verification::Intact { records }, legacy, rows_checked })
}

/// Re-hash every covered row and compare with its latest audit record; the first difference, table by
/// table in id order, then rows gone.
async fn compare_rows(
    db: &impl ConnectionTrait,
    latest: &mut LatestRows,
    checked: &mut i64,
) -> Result<Option<ChainBreak>, StoreError> {
    for table in RowTable::ALL {
        let mut after = 0i64;
        loop {
            let page = table.page(db, after, 2000).await?;
            let Some((last, _)) = page.last() else { break };
            after = *last;
            for (id, content) in page {
                let Some((seq, hash, expected)) = latest.remove(&(table, id)) else { continue };
                *checked += 1;
                if expected.as_deref() != Some(hash.digest(content.as_bytes()).as_str()) {
                    return Ok(Some(ChainBreak::RowChanged { table: table.table().into(), id, seq }));
                }
            }
        }
    }
    let mut missing: Vec<_> =
        latest.iter().filter(|(_, (_, _, h))| h.is_some()).map(|((t, id), (seq, ..))| (*t, *id, *seq)).collect();
    missing.sort_unstable();
    Ok(missing.first().map(|(t, id, seq)| ChainBreak::RowMissing { table: t.table().into(), id: *id, seq: *seq }))
}

/// Filters of the audit browser.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor_id: Option<i64>,
    /// A person by name: the records whose actor's username or display name contains this text
    /// (or whose recorded actor name does, for records of a deleted or renamed account).
    pub actor: Option<String>,
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
    if let Some(name) = f.actor.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let ids: Vec<i64> = crate::entity::user::Entity::find()
            .filter(
                Condition::any()
                    .add(crate::entity::user::Column::Username.contains(name))
                    .add(crate::entity::user::Column::DisplayName.contains(name)),
            )
            .all(db)
            .await?
            .into_iter()
            .map(|u| u.id)
            .collect();
        q = q.filter(
            Condition::any()
                .add(audit_log::Column::ActorName.contains(name))
                .add(audit_log::Column::ActorId.is_in(ids)),
        );
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

/// Records of a time range (`from` inclusive, `until` exclusive, RFC 3339 UTC as stored), oldest
/// first, after `after_seq`, at most `limit`: the pages of an export.
pub async fn range(
    db: &impl ConnectionTrait,
    from: &str,
    until: &str,
    after_seq: i64,
    limit: u64,
) -> Result<Vec<AuditRow>, StoreError> {
    Ok(audit_log::Entity::find()
        .filter(audit_log::Column::Seq.gt(after_seq))
        .filter(audit_log::Column::At.gte(from))
        .filter(audit_log::Column::At.lt(until))
        .order_by_asc(audit_log::Column::Seq)
        .limit(limit)
        .all(db)
        .await?)
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
