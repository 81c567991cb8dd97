//! The random draw (双随机, DESIGN.md rule 4): which enterprises are sampled, and by which samplers.
//! A draw is a pure function of its record — seed text, ordered candidate list, quota, strata and
//! sampler pool — so anyone holding the record can re-run it and get the same result (一公开).
//!
//! Algorithm `choucha-draw-v1`, stated so it can be re-implemented independently:
//! 1. Candidates are ordered by USCC (ascending, byte order). Their hash is SHA-256 over the lines
//!    `"{uscc}\n"` in that order, hex-encoded.
//! 2. The generator is ChaCha20 (RFC 8439 block function as in `rand_chacha::ChaCha20Rng`) seeded
//!    with SHA-256(`"choucha-draw-v1\n" + seed text + "\n" + candidate hash`).
//! 3. A uniform index below `n` is drawn by rejection: take `r = next_u64()`; accept `r % n` when
//!    `r < n * floor(2^64 / n)`, else draw again.
//! 4. `k` of `n` are chosen by partial Fisher–Yates: for `i` in `0..k`, swap position `i` with
//!    `i + uniform(n - i)`; the chosen are positions `0..k` in that order.
//! 5. Stratified draws (by division) give each stratum `quota * size / total` places, the remaining
//!    places going to the largest remainders (ties: lower division code first); strata are drawn in
//!    division-code order, each by step 4, from the one generator.
//! 6. Teams: for each chosen enterprise in order, `team_size` samplers are chosen by step 4 from the
//!    pool (ordered by username) minus those who declared a conflict (回避) with that enterprise.
//!
//! A risk-weighted draw (`choucha-draw-risk-v1`, [`risk`]) runs the same steps class by class.

use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

use crate::RuleViolation;

pub mod risk;

use risk::{RISK_ALGORITHM, RiskClass, RiskWeights};

pub const ALGORITHM: &str = "choucha-draw-v1";

/// Fewest samplers in a team (DESIGN.md rule 2).
pub const MIN_TEAM: usize = 2;

/// One enterprise that may be drawn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    pub uscc: String,
    /// Stratum key (the division code).
    pub division_code: String,
    /// The risk class, in a risk-weighted draw only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk_class: Option<RiskClass>,
}

/// One sampler of the sampling institution, with the enterprises they declared a conflict with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SamplerCandidate {
    pub username: String,
    /// USCCs of enterprises this sampler must not visit (回避).
    #[serde(default)]
    pub conflicts: BTreeSet<String>,
}

/// Everything a draw depends on: its record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrawInput {
    pub seed: String,
    pub candidates: Vec<Candidate>,
    pub quota: usize,
    pub stratified: bool,
    pub samplers: Vec<SamplerCandidate>,
    pub team_size: usize,
    /// Weights per risk class: present, the draw is risk-weighted (`choucha-draw-risk-v1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk_weights: Option<RiskWeights>,
}

impl DrawInput {
    /// The algorithm this record is drawn by.
    pub fn algorithm(&self) -> &'static str {
        if self.risk_weights.is_some() { RISK_ALGORITHM } else { ALGORITHM }
    }

    /// The hash of the candidate list (as given: canonical order is the caller's) by this
    /// record's algorithm.
    pub fn candidate_hash(&self) -> String {
        if self.risk_weights.is_some() {
            risk_candidate_hash(&self.candidates)
        } else {
            candidate_hash(&self.candidates)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrawnEnterprise {
    pub uscc: String,
    pub division_code: String,
    /// Usernames of the team, in drawing order.
    pub team: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrawResult {
    pub algorithm: String,
    pub candidate_hash: String,
    pub drawn: Vec<DrawnEnterprise>,
}

/// SHA-256 over the candidates' USCCs in canonical order.
pub fn candidate_hash(candidates: &[Candidate]) -> String {
    let mut h = Sha256::new();
    for c in candidates {
        h.update(c.uscc.as_bytes());
        h.update(b"\n");
    }
    hex::encode(h.finalize())
}

/// SHA-256 over the candidates' USCCs and risk classes (`"{uscc}\t{class}\n"`) in canonical order.
pub fn risk_candidate_hash(candidates: &[Candidate]) -> String {
    let mut h = Sha256::new();
    for c in candidates {
        h.update(c.uscc.as_bytes());
        h.update(b"\t");
        h.update(c.risk_class.map(RiskClass::as_str).unwrap_or_default().as_bytes());
        h.update(b"\n");
    }
    hex::encode(h.finalize())
}

/// The generator of a uniform draw.
pub fn generator(seed: &str, candidate_hash: &str) -> ChaCha20Rng {
    generator_of(ALGORITHM, seed, candidate_hash)
}

/// The generator of a draw by the named algorithm.
pub fn generator_of(algorithm: &str, seed: &str, candidate_hash: &str) -> ChaCha20Rng {
    let mut h = Sha256::new();
    h.update(format!("{algorithm}\n{seed}\n{candidate_hash}").as_bytes());
    let digest = h.finalize();
    let mut key = [0u8; 32];
    key.copy_from_slice(&digest);
    ChaCha20Rng::from_seed(key)
}

/// A uniform integer in `0..n` (n > 0), by rejection sampling (no modulo bias).
pub fn uniform(rng: &mut impl Rng, n: u64) -> u64 {
    debug_assert!(n > 0);
    let zone = (u64::MAX / n) * n;
    loop {
        let r = rng.next_u64();
        if r < zone {
            return r % n;
        }
    }
}

/// Choose `k` of `items` by partial Fisher–Yates; returns them in drawing order.
pub fn choose<T: Clone>(rng: &mut impl Rng, items: &[T], k: usize) -> Vec<T> {
    let mut v: Vec<T> = items.to_vec();
    let k = k.min(v.len());
    for i in 0..k {
        let j = i + uniform(rng, (v.len() - i) as u64) as usize;
        v.swap(i, j);
    }
    v.truncate(k);
    v
}

/// Places per stratum, proportional to its size (largest remainder; ties to the lower key).
pub fn allocate(sizes: &BTreeMap<String, usize>, quota: usize) -> BTreeMap<String, usize> {
    let total: usize = sizes.values().sum();
    let mut out: BTreeMap<String, usize> = BTreeMap::new();
    if total == 0 {
        return out;
    }
    let quota = quota.min(total);
    let mut rema: Vec<(usize, String)> = Vec::new();
    let mut given = 0;
    for (k, &n) in sizes {
        let exact = quota * n;
        let base = exact / total;
        given += base;
        out.insert(k.clone(), base);
        rema.push((exact % total, k.clone()));
    }
    // Largest remainder first; BTreeMap order already puts lower keys first among equals.
    rema.sort_by_key(|r| std::cmp::Reverse(r.0));
    for (_, k) in rema.into_iter() {
        if given >= quota {
            break;
        }
        let cap = sizes.get(&k).copied().unwrap_or(0);
        let slot = out.entry(k).or_insert(0);
        if *slot < cap {
            *slot += 1;
            given += 1;
        }
    }
    out
}

/// Run a draw. Candidates are put in canonical order first, so the caller's order does not matter.
pub fn run(input: &DrawInput) -> Result<DrawResult, RuleViolation> {
    if input.quota == 0 {
        return Err(RuleViolation::new("draw_quota", "抽取数量须大于0").on_field("quota"));
    }
    if input.seed.trim().is_empty() {
        return Err(RuleViolation::new(
            "draw_seed",
            "随机种子不能为空（公开摇号时由组织部门当场录入，或由系统生成并先行公示）",
        )
        .on_field("seed"));
    }
    if input.team_size < MIN_TEAM {
        return Err(
            RuleViolation::new("rule2_min_samplers", "每个抽样组不得少于2名抽样人员（规则2）").on_field("team_size")
        );
    }
    let mut candidates = input.candidates.clone();
    candidates.sort_by(|a, b| a.uscc.cmp(&b.uscc));
    candidates.dedup_by(|a, b| a.uscc == b.uscc);
    if candidates.is_empty() {
        return Err(RuleViolation::new("draw_no_candidates", "没有符合条件的候选企业"));
    }
    let mut samplers = input.samplers.clone();
    samplers.sort_by(|a, b| a.username.cmp(&b.username));
    samplers.dedup_by(|a, b| a.username == b.username);
    if samplers.len() < input.team_size {
        return Err(RuleViolation::new(
            "rule2_min_samplers",
            format!("抽样机构可选派的抽样人员只有{}人，不足每组{}人（规则2）", samplers.len(), input.team_size),
        ));
    }
    let chosen: Vec<Candidate>;
    let (hash, mut rng);
    match &input.risk_weights {
        None => {
            hash = candidate_hash(&candidates);
            rng = generator(&input.seed, &hash);
            chosen = draw_from(&mut rng, &candidates, input.quota, input.stratified);
        }
        Some(weights) => {
            risk::check_weights(weights)?;
            if candidates.iter().any(|c| c.risk_class.is_none()) {
                return Err(RuleViolation::new("draw_risk_class", "按风险等级抽取时每个候选企业都须有风险等级"));
            }
            hash = risk_candidate_hash(&candidates);
            rng = generator_of(RISK_ALGORITHM, &input.seed, &hash);
            let mut classes: BTreeMap<RiskClass, Vec<Candidate>> = BTreeMap::new();
            for c in &candidates {
                classes.entry(c.risk_class.unwrap_or(RiskClass::General)).or_default().push(c.clone());
            }
            let sizes = classes.iter().map(|(k, v)| (*k, v.len())).collect();
            let alloc = risk::allocate_weighted(&sizes, weights, input.quota);
            let mut out = Vec::new();
            for (k, members) in &classes {
                let n = alloc.get(k).copied().unwrap_or(0);
                out.extend(draw_from(&mut rng, members, n, input.stratified));
            }
            if out.is_empty() {
                return Err(RuleViolation::new("draw_no_candidates", "权重大于0的风险等级中没有候选企业"));
            }
            chosen = out;
        }
    }
    let mut drawn = Vec::with_capacity(chosen.len());
    for c in chosen {
        let eligible: Vec<&SamplerCandidate> = samplers.iter().filter(|s| !s.conflicts.contains(&c.uscc)).collect();
        if eligible.len() < input.team_size {
            return Err(RuleViolation::new(
                "rule2_min_samplers",
                format!("企业{}回避后可选派的抽样人员不足{}人（规则2）", c.uscc, input.team_size),
            ));
        }
        let team = choose(&mut rng, &eligible, input.team_size).into_iter().map(|s| s.username.clone()).collect();
        drawn.push(DrawnEnterprise { uscc: c.uscc, division_code: c.division_code, team });
    }
    Ok(DrawResult { algorithm: input.algorithm().to_string(), candidate_hash: hash, drawn })
}

/// `k` of `members` (in canonical order): by step 4, or by division by step 5 when stratified.
fn draw_from(rng: &mut ChaCha20Rng, members: &[Candidate], k: usize, stratified: bool) -> Vec<Candidate> {
    if !stratified {
        return choose(rng, members, k);
    }
    let mut strata: BTreeMap<String, Vec<Candidate>> = BTreeMap::new();
    for c in members {
        strata.entry(c.division_code.clone()).or_default().push(c.clone());
    }
    let sizes = strata.iter().map(|(k, v)| (k.clone(), v.len())).collect();
    let alloc = allocate(&sizes, k);
    let mut out = Vec::new();
    for (key, members) in &strata {
        let n = alloc.get(key).copied().unwrap_or(0);
        out.extend(choose(rng, members, n));
    }
    out
}

/// Re-run a draw from its record and compare with the stored result.
pub fn verify(input: &DrawInput, recorded: &DrawResult) -> Result<bool, RuleViolation> {
    if recorded.algorithm != input.algorithm() {
        return Err(RuleViolation::new("draw_algorithm", format!("不支持的抽取算法版本“{}”", recorded.algorithm)));
    }
    Ok(run(input)? == *recorded)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cands(n: usize) -> Vec<Candidate> {
        (0..n)
            .map(|i| Candidate {
                uscc: format!("91140213MA{i:07}X"),
                division_code: if i % 3 == 0 { "140213".into() } else { "140221".into() },
                risk_class: None,
            })
            .collect()
    }

    fn samplers(n: usize) -> Vec<SamplerCandidate> {
        (0..n).map(|i| SamplerCandidate { username: format!("s{i:02}"), conflicts: BTreeSet::new() }).collect()
    }

    fn input(seed: &str, n: usize, quota: usize) -> DrawInput {
        DrawInput {
            seed: seed.into(),
            candidates: cands(n),
            quota,
            stratified: false,
            samplers: samplers(6),
            team_size: 2,
            risk_weights: None,
        }
    }

    #[test]
    fn same_record_same_result_whatever_the_candidate_order() {
        let a = run(&input("2025-10-08 大同公开摇号 739201", 50, 10)).expect("draw");
        let mut shuffled = input("2025-10-08 大同公开摇号 739201", 50, 10);
        shuffled.candidates.reverse();
        let b = run(&shuffled).expect("draw");
        assert_eq!(a, b);
        assert!(verify(&shuffled, &a).expect("verify"));
        let other = run(&input("another seed", 50, 10)).expect("draw");
        assert_ne!(a.drawn, other.drawn);
        assert!(!verify(&input("another seed", 50, 10), &a).expect("verify"));
    }

    #[test]
    fn draws_distinct_enterprises_and_teams_of_two_distinct_samplers() {
        let r = run(&input("seed", 30, 12)).expect("draw");
        assert_eq!(r.drawn.len(), 12);
        let set: BTreeSet<_> = r.drawn.iter().map(|d| d.uscc.clone()).collect();
        assert_eq!(set.len(), 12);
        for d in &r.drawn {
            assert_eq!(d.team.len(), 2);
            assert_ne!(d.team[0], d.team[1]);
        }
        // Asking for more than there are draws everyone.
        assert_eq!(run(&input("seed", 5, 10)).expect("draw").drawn.len(), 5);
    }

    #[test]
    fn refuses_teams_below_two_and_respects_conflicts() {
        let mut i = input("seed", 10, 3);
        i.team_size = 1;
        assert_eq!(run(&i).unwrap_err().code, "rule2_min_samplers");
        let mut i = input("seed", 10, 10);
        i.samplers = samplers(3);
        let target = i.candidates[0].uscc.clone();
        i.samplers[0].conflicts.insert(target.clone());
        let r = run(&i).expect("draw");
        let d = r.drawn.iter().find(|d| d.uscc == target).expect("drawn");
        assert!(
            !d.team.contains(&"s00".to_string()),
            "a sampler never visits an enterprise they declared a conflict with"
        );
        i.samplers[1].conflicts.insert(target);
        assert_eq!(run(&i).unwrap_err().code, "rule2_min_samplers");
    }

    #[test]
    fn stratified_allocation_is_proportional() {
        let sizes: BTreeMap<String, usize> =
            [("140213".to_string(), 60), ("140221".to_string(), 30), ("140222".to_string(), 10)].into();
        let a = allocate(&sizes, 10);
        assert_eq!(a["140213"], 6);
        assert_eq!(a["140221"], 3);
        assert_eq!(a["140222"], 1);
        let a = allocate(&sizes, 7);
        assert_eq!(a.values().sum::<usize>(), 7);
        assert_eq!(a["140213"], 4); // 4.2
        assert_eq!(a["140221"], 2); // 2.1
        assert_eq!(a["140222"], 1); // 0.7: largest remainder
        let mut i = input("seed", 30, 9);
        i.stratified = true;
        let r = run(&i).expect("draw");
        assert_eq!(r.drawn.iter().filter(|d| d.division_code == "140213").count(), 3);
        assert_eq!(r.drawn.iter().filter(|d| d.division_code == "140221").count(), 6);
    }

    #[test]
    fn risk_weighted_draw_gives_each_class_its_places_and_reruns_from_its_record() {
        let mut i = input("2025-10-08 风险加权", 60, 12);
        for (n, c) in i.candidates.iter_mut().enumerate() {
            c.risk_class = Some(RiskClass::ALL[n % 4]);
        }
        i.risk_weights = Some(risk::default_weights());
        let r = run(&i).expect("draw");
        assert_eq!(r.algorithm, RISK_ALGORITHM);
        // 15 per class, weights 1, 2, 10, 30 (Σ 645): D 8.37, C 2.79, B 0.56, A 0.28 → 8, 3, 1, 0.
        let class_of = |u: &str| i.candidates.iter().find(|c| c.uscc == u).and_then(|c| c.risk_class);
        let count = |k| r.drawn.iter().filter(|d| class_of(&d.uscc) == Some(k)).count();
        assert_eq!(
            [count(RiskClass::Low), count(RiskClass::General), count(RiskClass::Elevated), count(RiskClass::High)],
            [0, 1, 3, 8]
        );
        assert!(verify(&i, &r).expect("verify"));
        // The classes are part of the record: moving one candidate to another class is caught.
        let mut moved = i.clone();
        moved.candidates[0].risk_class = Some(RiskClass::High);
        assert_ne!(run(&moved).expect("draw").candidate_hash, r.candidate_hash);
        assert!(!verify(&moved, &r).expect("verify"));
        // So are the weights, and a uniform record is not a weighted one.
        let mut reweighted = i.clone();
        reweighted.risk_weights = Some([(RiskClass::Low, 1)].into());
        assert!(!verify(&reweighted, &r).expect("verify"));
        let mut uniform = i.clone();
        uniform.risk_weights = None;
        assert!(verify(&uniform, &r).is_err(), "the algorithm named in the record must match");
        // A weighted draw needs every class.
        let mut unclassed = i.clone();
        unclassed.candidates[3].risk_class = None;
        assert_eq!(run(&unclassed).unwrap_err().code, "draw_risk_class");
    }

    /// Chi-square over many seeded draws: each of 20 candidates is drawn about equally often.
    #[test]
    fn draw_is_uniform() {
        let n = 20;
        let k = 5;
        let trials = 4000;
        let mut counts = vec![0u32; n];
        let base = cands(n);
        for t in 0..trials {
            let i = DrawInput {
                seed: format!("trial-{t}"),
                candidates: base.clone(),
                quota: k,
                stratified: false,
                samplers: samplers(2),
                team_size: 2,
                risk_weights: None,
            };
            for d in run(&i).expect("draw").drawn {
                let idx = base.iter().position(|c| c.uscc == d.uscc).expect("known");
                counts[idx] += 1;
            }
        }
        let expected = (trials * k) as f64 / n as f64;
        let chi2: f64 = counts.iter().map(|&c| (c as f64 - expected).powi(2) / expected).sum();
        // 19 degrees of freedom: the 0.999 quantile is 43.82.
        assert!(chi2 < 43.82, "chi-square {chi2} too large: {counts:?}");
        // And not suspiciously perfect (0.001 quantile is 5.41).
        assert!(chi2 > 5.41, "chi-square {chi2} too small: {counts:?}");
    }

    #[test]
    fn uniform_has_no_modulo_bias_and_stays_in_range() {
        let mut rng = generator("x", "y");
        for n in [1u64, 2, 3, 7, 1000, u64::MAX / 2 + 1] {
            for _ in 0..100 {
                assert!(uniform(&mut rng, n) < n);
            }
        }
    }
}
