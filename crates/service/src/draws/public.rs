//! A published draw as the public reads it (一公开), its whole record for a re-run by anyone, and
//! the re-run of a draw from its record.

use choucha_domain::draw::risk::{RiskClass, RiskWeights};
use choucha_domain::draw::{self, Candidate, DrawInput, DrawResult, SamplerCandidate};
use choucha_store::draws::{self as store_draws};
use chrono::Utc;
use serde::{Deserialize, Serialize};

use crate::{Result, ServiceError, Services};

use super::{DrawVerification, DrawView, Exclusion, build_view};

/// One drawn enterprise as the public reads it (一公开): its name, USCC and division, no internal ids.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicDrawn {
    pub uscc: String,
    pub name: String,
    pub division_code: String,
}

/// A published draw as the public reads it: enough to re-run it (seed, candidate count and hash,
/// algorithm, filters, exclusions) and its result, but no task, enterprise or user id and no task
/// state: a task id is what the lab side's records carry, so publishing it beside the enterprise
/// would join a blind sample to its enterprise (rule 13). The plan and item ids are the public
/// pages' own keys.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicDrawView {
    pub id: i64,
    pub plan_id: i64,
    pub plan_title: String,
    pub item_id: i64,
    pub product: String,
    pub quota: i32,
    pub seed: String,
    pub stratified: bool,
    pub team_size: i32,
    pub algorithm: String,
    pub filters: serde_json::Value,
    pub candidate_count: i32,
    pub candidate_hash: String,
    /// The weights per risk class of a risk-weighted draw.
    #[schema(value_type = Option<Object>)]
    pub risk_weights: Option<RiskWeights>,
    /// Candidates per risk class, in a risk-weighted draw.
    #[schema(value_type = Object)]
    pub risk_classes: std::collections::BTreeMap<RiskClass, usize>,
    pub exclusions: Vec<Exclusion>,
    pub drawn: Vec<PublicDrawn>,
    pub reason: String,
    pub replaces_draw_id: Option<i64>,
    pub created_at: chrono::DateTime<Utc>,
}

fn public_view(d: DrawView) -> PublicDrawView {
    PublicDrawView {
        id: d.id,
        plan_id: d.plan_id,
        plan_title: d.plan_title,
        item_id: d.item_id,
        product: d.product,
        quota: d.quota,
        seed: d.seed,
        stratified: d.stratified,
        team_size: d.team_size,
        algorithm: d.algorithm,
        filters: d.filters,
        candidate_count: d.candidate_count,
        candidate_hash: d.candidate_hash,
        risk_weights: d.risk_weights,
        risk_classes: d.risk_classes,
        exclusions: d.exclusions,
        drawn: d
            .drawn
            .into_iter()
            .map(|e| PublicDrawn { uscc: e.uscc, name: e.name, division_code: e.division_code })
            .collect(),
        reason: d.reason,
        replaces_draw_id: d.replaces_draw_id,
        created_at: d.created_at,
    }
}

/// A published draw, for everyone (teams are not published).
pub async fn get_published(s: &Services, id: i64) -> Result<PublicDrawView> {
    let row = store_draws::get(s.store.reader(), id).await.map_err(ServiceError::not_found("抽取记录"))?;
    if !row.published {
        return Err(ServiceError::NotFound("抽取记录"));
    }
    Ok(public_view(build_view(s, row, false).await?))
}

/// The published draws of an issued plan, for everyone (teams are not published).
pub async fn published_for_plan(s: &Services, plan_id: i64) -> Result<Vec<PublicDrawView>> {
    let mut out = Vec::new();
    for row in store_draws::of_plan(s.store.reader(), plan_id).await?.into_iter().filter(|d| d.published) {
        out.push(public_view(build_view(s, row, false).await?));
    }
    Ok(out)
}

/// Re-run a draw from its stored record and compare (anyone may ask for a published draw; the
/// organising bureau for any).
pub async fn verify(s: &Services, id: i64) -> Result<DrawVerification> {
    let row = store_draws::get(s.store.reader(), id).await.map_err(ServiceError::not_found("抽取记录"))?;
    let candidates: Vec<Candidate> = serde_json::from_str(&row.candidates_json).map_err(ServiceError::internal)?;
    let samplers: Vec<SamplerCandidate> = serde_json::from_str(&row.samplers_json).map_err(ServiceError::internal)?;
    let recorded: DrawResult = serde_json::from_str(&row.result_json).map_err(ServiceError::internal)?;
    let input = DrawInput {
        seed: row.seed.clone(),
        candidates,
        quota: row.quota as usize,
        stratified: row.stratified,
        samplers,
        team_size: row.team_size as usize,
        risk_weights: super::risk_of(&row)?.0,
    };
    let hash_ok = input.candidate_hash() == row.candidate_hash;
    // A committed seed: its hash is the one published, before the draw.
    let commitment = super::commitment::of_draw(s, id).await?;
    let commitment_ok = commitment
        .as_ref()
        .is_none_or(|c| super::commitment::seed_sha256(&row.seed) == c.seed_sha256 && c.committed_at <= row.created_at);
    let verified = hash_ok && commitment_ok && draw::verify(&input, &recorded)?;
    let message = if verified {
        let committed = if commitment.is_some() { "，种子与事先公示的承诺相符" } else { "" };
        format!(
            "复核一致：按记录的种子与候选名单（{}家）重新抽取，结果与原抽取结果完全相同{committed}",
            row.candidate_count
        )
    } else if !commitment_ok {
        "复核不一致：种子与事先公示的种子承诺不符".to_string()
    } else if !hash_ok {
        "复核不一致：候选名单与记录的哈希值不符".to_string()
    } else {
        "复核不一致：重新抽取的结果与记录不同".to_string()
    };
    Ok(DrawVerification {
        draw_id: id,
        algorithm: row.algorithm,
        candidate_hash: row.candidate_hash,
        verified,
        message,
    })
}

/// The format of [`PublicDrawRecord`]; a change that a third party's re-run would notice gets a
/// new name.
pub const RECORD_FORMAT: &str = "choucha-draw-record-v1";

/// One candidate in the record, in canonical order (by USCC).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RecordCandidate {
    pub uscc: String,
    pub division_code: String,
    /// The risk class (A–D), in a risk-weighted draw only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub risk_class: Option<RiskClass>,
}

/// A sampler of the pool under the draw's own public identifier (`S01`, `S02`…, numbered in the
/// order the algorithm sorts the pool), with the enterprises they declared a conflict with. Who
/// the samplers are is not published: an enterprise must not learn who will come.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RecordSampler {
    pub id: String,
    pub conflicts: Vec<String>,
}

/// One drawn enterprise and its team (by the samplers' public identifiers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RecordDrawn {
    pub uscc: String,
    pub division_code: String,
    pub team: Vec<String>,
}

/// Everything a third party needs to re-run a published draw without Choucha (docs/DRAW.md, and
/// the reference implementation docs/draw_reference.py): the seed, the algorithm and its
/// parameters, the candidate list in order, the excluded enterprises with the rule, the sampler
/// pool under public identifiers, and the result.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicDrawRecord {
    pub format: String,
    pub draw_id: i64,
    pub plan_title: String,
    pub product: String,
    pub algorithm: String,
    pub seed: String,
    pub quota: i32,
    pub stratified: bool,
    pub team_size: i32,
    /// The weights per risk class (A–D) of a risk-weighted draw (`choucha-draw-risk-v1`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub risk_weights: Option<RiskWeights>,
    pub candidate_count: i32,
    pub candidate_hash: String,
    pub candidates: Vec<RecordCandidate>,
    pub exclusions: Vec<Exclusion>,
    pub samplers: Vec<RecordSampler>,
    pub result: Vec<RecordDrawn>,
    /// When the draw was made (Beijing time, RFC 3339).
    pub drawn_at: String,
    /// The seed's commitment published before the draw, when the draw used one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed_commitment: Option<RecordCommitment>,
}

/// A seed commitment as the record gives it: check that SHA-256(`seed`) is `seed_sha256` and that
/// `committed_at` comes before `drawn_at`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RecordCommitment {
    pub seed_sha256: String,
    /// Beijing time, RFC 3339.
    pub committed_at: String,
}

fn rfc3339_beijing(t: chrono::DateTime<Utc>) -> String {
    t.with_timezone(&choucha_domain::clock::beijing_offset()).to_rfc3339()
}

/// The whole record of a published draw, for everyone.
pub async fn published_record(s: &Services, id: i64) -> Result<PublicDrawRecord> {
    let row = store_draws::get(s.store.reader(), id).await.map_err(ServiceError::not_found("抽取记录"))?;
    if !row.published {
        return Err(ServiceError::NotFound("抽取记录"));
    }
    let mut candidates: Vec<Candidate> = serde_json::from_str(&row.candidates_json).map_err(ServiceError::internal)?;
    candidates.sort_by(|a, b| a.uscc.cmp(&b.uscc));
    candidates.dedup_by(|a, b| a.uscc == b.uscc);
    let mut pool: Vec<SamplerCandidate> = serde_json::from_str(&row.samplers_json).map_err(ServiceError::internal)?;
    pool.sort_by(|a, b| a.username.cmp(&b.username));
    pool.dedup_by(|a, b| a.username == b.username);
    let width = pool.len().to_string().len().max(2);
    let public_id: std::collections::BTreeMap<String, String> =
        pool.iter().enumerate().map(|(i, p)| (p.username.clone(), format!("S{:0width$}", i + 1))).collect();
    let recorded: DrawResult = serde_json::from_str(&row.result_json).map_err(ServiceError::internal)?;
    let result = recorded
        .drawn
        .into_iter()
        .map(|d| RecordDrawn {
            team: d.team.iter().map(|u| public_id.get(u).cloned().unwrap_or_default()).collect(),
            uscc: d.uscc,
            division_code: d.division_code,
        })
        .collect();
    let view = public_view(build_view(s, row.clone(), false).await?);
    let risk_weights = super::risk_of(&row)?.0;
    Ok(PublicDrawRecord {
        format: RECORD_FORMAT.into(),
        draw_id: row.id,
        plan_title: view.plan_title,
        product: view.product,
        algorithm: row.algorithm,
        seed: row.seed,
        quota: row.quota,
        stratified: row.stratified,
        team_size: row.team_size,
        risk_weights,
        candidate_count: row.candidate_count,
        candidate_hash: row.candidate_hash,
        candidates: candidates
            .into_iter()
            .map(|c| RecordCandidate { uscc: c.uscc, division_code: c.division_code, risk_class: c.risk_class })
            .collect(),
        exclusions: view.exclusions,
        samplers: pool
            .into_iter()
            .map(|p| RecordSampler {
                id: public_id.get(&p.username).cloned().unwrap_or_default(),
                conflicts: p.conflicts.into_iter().collect(),
            })
            .collect(),
        result,
        drawn_at: rfc3339_beijing(row.created_at),
        seed_commitment: super::commitment::of_draw(s, row.id)
            .await?
            .map(|c| RecordCommitment { seed_sha256: c.seed_sha256, committed_at: rfc3339_beijing(c.committed_at) }),
    })
}
