//! A published draw as the public reads it (一公开), and the re-run of a draw from its record.

use choucha_domain::draw::{self, Candidate, DrawInput, DrawResult, SamplerCandidate};
use choucha_store::draws::{self as store_draws};
use chrono::Utc;
use serde::Serialize;

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
    };
    let hash_ok = draw::candidate_hash(&input.candidates) == row.candidate_hash;
    let verified = hash_ok && draw::verify(&input, &recorded)?;
    let message = if verified {
        format!("复核一致：按记录的种子与候选名单（{}家）重新抽取，结果与原抽取结果完全相同", row.candidate_count)
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
