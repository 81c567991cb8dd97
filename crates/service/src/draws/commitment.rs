//! Seed commitments (issue 18, a draw anyone can re-run): so that nobody can choose a draw's seed
//! after seeing its candidates, the organising bureau has the system draw the seed in advance and
//! publish only its SHA-256, with the time. The next draw of the item must use that seed (nobody
//! types one); the draw record then gives the seed in full, and anyone checks that its hash is the
//! one published before the draw. Every commitment stays public, used or not, and an item has one
//! open commitment at a time, so a bureau cannot commit to several seeds and keep the one it likes.

use choucha_domain::RuleViolation;
use choucha_store::audit::AuditEntry;
use choucha_store::seed_commitments::{self as store, CommitmentRow};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::{Actor, Result, ServiceError, Services};

use super::{check_organiser, load, propose_seed};

/// A commitment as everyone reads it: never the seed before its draw.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SeedCommitmentView {
    pub item_id: i64,
    pub product: String,
    /// SHA-256 (hex) of the seed's UTF-8 text.
    pub seed_sha256: String,
    pub committed_at: DateTime<Utc>,
    /// The draw that used it (its record gives the seed); none while it is open.
    pub draw_id: Option<i64>,
}

fn view(c: CommitmentRow, product: String) -> SeedCommitmentView {
    SeedCommitmentView {
        item_id: c.item_id,
        product,
        seed_sha256: c.seed_sha256,
        committed_at: c.committed_at,
        draw_id: c.draw_id,
    }
}

/// SHA-256 of a seed, as published.
pub fn seed_sha256(seed: &str) -> String {
    hex::encode(Sha256::digest(seed.as_bytes()))
}

/// The organising bureau commits to the seed of the item's next draw.
pub async fn commit_seed(s: &Services, actor: &Actor, item_id: i64) -> Result<SeedCommitmentView> {
    let (item, plan) = load(s, item_id).await?;
    check_organiser(actor, &plan)?;
    if plan.state != choucha_domain::plan::PlanState::Issued {
        return Err(ServiceError::Rule(RuleViolation::new("plan_state", "计划下达后才能公示随机抽取的种子承诺")));
    }
    if store::open_of_item(s.store.reader(), item_id).await?.is_some() {
        return Err(ServiceError::Rule(RuleViolation::new(
            "draw_seed_committed",
            "本项已有尚未使用的种子承诺：先用它完成抽取，才能再次公示",
        )));
    }
    let seed = propose_seed(s);
    let hash = seed_sha256(&seed);
    let tx = s.write(actor).await?;
    let row = store::insert(&tx, item_id, &seed, &hash, actor.user_id).await?;
    // The audit record keeps the hash, not the seed: the seed is secret until the draw.
    tx.commit(AuditEntry::new(
        "draw.seed_commit",
        "seed_commitment",
        row.id,
        json!(null),
        json!({"item_id": item_id, "seed_sha256": hash}),
    ))
    .await?;
    Ok(view(row, item.product))
}

/// The item's open commitment, for the organising bureau's draw page.
pub async fn open_commitment(s: &Services, actor: &Actor, item_id: i64) -> Result<Option<SeedCommitmentView>> {
    let (item, plan) = load(s, item_id).await?;
    check_organiser(actor, &plan)?;
    Ok(store::open_of_item(s.store.reader(), item_id).await?.map(|c| view(c, item.product)))
}

/// Every commitment of an issued plan's items, for everyone (the public plan page).
pub async fn commitments_of_plan(s: &Services, plan_id: i64) -> Result<Vec<SeedCommitmentView>> {
    let items = choucha_store::plans::items_of(s.store.reader(), plan_id).await?;
    let ids: Vec<i64> = items.iter().map(|i| i.id).collect();
    let products: std::collections::BTreeMap<i64, String> = items.into_iter().map(|i| (i.id, i.product)).collect();
    Ok(store::of_items(s.store.reader(), &ids)
        .await?
        .into_iter()
        .map(|c| {
            let product = products.get(&c.item_id).cloned().unwrap_or_default();
            view(c, product)
        })
        .collect())
}

/// The commitment a draw used, if any.
pub async fn of_draw(s: &Services, draw_id: i64) -> Result<Option<CommitmentRow>> {
    Ok(store::of_draw(s.store.reader(), draw_id).await?)
}

/// The seed a new draw of the item uses: the open commitment's, when there is one (then nobody may
/// type another), else the one typed (a public draw's seed read out on the spot).
pub(super) async fn seed_for(s: &Services, item_id: i64, typed: &str) -> Result<(String, Option<CommitmentRow>)> {
    match store::open_of_item(s.store.reader(), item_id).await? {
        Some(c) if typed.trim().is_empty() => Ok((c.seed.clone(), Some(c))),
        Some(_) => Err(ServiceError::invalid(
            RuleViolation::new("draw_seed_committed", "本项已公示种子承诺，抽取须使用承诺的种子：请将随机种子留空")
                .on_field("seed"),
        )),
        None => Ok((typed.trim().to_string(), None)),
    }
}

/// Mark the commitment used by the draw, in the draw's transaction.
pub(super) async fn use_for(tx: &choucha_store::Tx, c: &CommitmentRow, draw_id: i64) -> Result<()> {
    if store::use_for(tx, c.id, draw_id).await? { Ok(()) } else { Err(ServiceError::Conflict) }
}
