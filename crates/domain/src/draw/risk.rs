//! The risk-based draw (双随机 weighted by credit risk): every candidate is put in one of the four
//! risk classes of the market-regulation credit risk classification (A 低风险 … D 高风险) from what
//! the system knows of it, and the organising bureau gives each class a weight (Henan's ratios of
//! 1%, 2%, 10% and 30% are the default). Places go to the classes in proportion to
//! `candidates in the class × weight`, and within a class every candidate is equally likely, so the
//! weighted draw is the uniform draw of DESIGN.md rule 4 run per class: reproducible from its
//! record by the same steps.
//!
//! Algorithm `choucha-draw-risk-v1` differs from `choucha-draw-v1` in three places only:
//! 1. the candidate hash covers each candidate's class: lines `"{uscc}\t{class}\n"`;
//! 2. the generator's key is SHA-256(`"choucha-draw-risk-v1\n" + seed + "\n" + hash`);
//! 3. places are allocated to the classes by [`allocate_weighted`] and drawn class by class in the
//!    order A, B, C, D (within a class by division when stratified, as v1 does for the whole list).

use std::collections::BTreeMap;

use crate::RuleViolation;

pub const RISK_ALGORITHM: &str = "choucha-draw-risk-v1";

/// The largest weight a class may be given.
pub const MAX_WEIGHT: u32 = 1000;

/// Years of history that place an enterprise by its results and refusals.
pub const HISTORY_YEARS: u32 = 3;

crate::stored_enum! {
    /// Credit risk class (信用风险分类), low to high.
    pub enum RiskClass: "风险等级" {
        Low = "A", "低风险（A类）";
        General = "B", "一般风险（B类）";
        Elevated = "C", "较高风险（C类）";
        High = "D", "高风险（D类）";
    }
}

/// Weights per class; a class left out weighs 0 (never drawn).
pub type RiskWeights = BTreeMap<RiskClass, u32>;

/// Henan's ratios (1%, 2%, 10%, 30%), the default offered to the organising bureau.
pub fn default_weights() -> RiskWeights {
    [(RiskClass::Low, 1), (RiskClass::General, 2), (RiskClass::Elevated, 10), (RiskClass::High, 30)].into()
}

/// What the system knows of a candidate that bears on its risk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RiskFactors {
    /// A sample of it was found unqualified within [`HISTORY_YEARS`].
    pub unqualified: bool,
    /// It refused a spot check (拒检 recorded) within [`HISTORY_YEARS`].
    pub refused: bool,
    /// Its production licence (生产许可证) or certificate is recorded as expired.
    pub licence_lapsed: bool,
    /// It was sampled within [`HISTORY_YEARS`] and every result was qualified.
    pub qualified_history: bool,
    /// A large enterprise (规模以上).
    pub large: bool,
}

/// The class of a candidate: D after an unqualified result or a refusal; C when its licence has
/// lapsed; A when it passed every check of the last three years, or is a large enterprise with no
/// adverse record; B otherwise.
pub fn classify(f: RiskFactors) -> RiskClass {
    if f.unqualified || f.refused {
        RiskClass::High
    } else if f.licence_lapsed {
        RiskClass::Elevated
    } else if f.qualified_history || f.large {
        RiskClass::Low
    } else {
        RiskClass::General
    }
}

/// Why a candidate is in its class, in words for the draw page.
pub fn reason(f: RiskFactors) -> &'static str {
    if f.unqualified && f.refused {
        "近三年有不合格结果和拒检记录"
    } else if f.unqualified {
        "近三年有不合格结果"
    } else if f.refused {
        "近三年有拒检记录"
    } else if f.licence_lapsed {
        "许可证已过有效期"
    } else if f.qualified_history {
        "近三年抽查均合格"
    } else if f.large {
        "规模以上企业，无不良记录"
    } else {
        "无抽查记录"
    }
}

/// Checks the bureau's weights: each at most [`MAX_WEIGHT`], and some class weighs more than 0.
pub fn check_weights(w: &RiskWeights) -> Result<(), RuleViolation> {
    if w.values().any(|&v| v > MAX_WEIGHT) {
        return Err(RuleViolation::new("draw_risk_weight", format!("各风险等级的权重须在0至{MAX_WEIGHT}之间"))
            .on_field("risk_weights"));
    }
    if w.values().all(|&v| v == 0) {
        return Err(RuleViolation::new("draw_risk_weight", "至少一个风险等级的权重须大于0").on_field("risk_weights"));
    }
    Ok(())
}

/// Places per class in proportion to `size × weight`, never more than a class holds:
/// 1. the classes taking part are those with candidates and a weight above 0; the places are the
///    quota, at most their candidates;
/// 2. each class gets `⌊places × size × weight / Σ size × weight⌋`; if that fills a class (it is at
///    least its size), the class gets exactly its size, leaves, and step 2 runs again for the rest
///    with the places left;
/// 3. otherwise the places still left go one each to the classes with the largest remainders
///    (`places × size × weight mod Σ`), ties to the lower class (A first).
pub fn allocate_weighted(
    sizes: &BTreeMap<RiskClass, usize>,
    weights: &RiskWeights,
    quota: usize,
) -> BTreeMap<RiskClass, usize> {
    let mut out = BTreeMap::new();
    let mut open: Vec<(RiskClass, u128, u128)> = sizes
        .iter()
        .filter_map(|(&c, &n)| {
            let w = u128::from(weights.get(&c).copied().unwrap_or(0));
            (n > 0 && w > 0).then_some((c, n as u128, w))
        })
        .collect();
    let mut places = (quota as u128).min(open.iter().map(|o| o.1).sum());
    loop {
        let total: u128 = open.iter().map(|(_, n, w)| n * w).sum();
        if open.is_empty() || total == 0 {
            return out;
        }
        let full: Vec<usize> =
            (0..open.len()).filter(|&i| places * open[i].1 * open[i].2 / total >= open[i].1).collect();
        if !full.is_empty() {
            for &i in full.iter().rev() {
                let (c, n, _) = open.remove(i);
                out.insert(c, n as usize);
                places -= n;
            }
            continue;
        }
        let mut given = 0;
        let mut rema = Vec::new();
        for &(c, n, w) in &open {
            let exact = places * n * w;
            out.insert(c, (exact / total) as usize);
            given += exact / total;
            rema.push((exact % total, c));
        }
        // Largest remainder first; the stable sort keeps the lower class first among equals.
        rema.sort_by_key(|r| std::cmp::Reverse(r.0));
        for (_, c) in rema.into_iter().take((places - given) as usize) {
            *out.entry(c).or_insert(0) += 1;
        }
        return out;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sizes(v: [usize; 4]) -> BTreeMap<RiskClass, usize> {
        RiskClass::ALL.iter().copied().zip(v).collect()
    }

    #[test]
    fn places_follow_size_times_weight() {
        // Henan's ratios: 1000 low, 500 general, 100 elevated, 50 high → 10 + 10 + 10 + 15 = 45.
        let a = allocate_weighted(&sizes([1000, 500, 100, 50]), &default_weights(), 45);
        assert_eq!(a.values().sum::<usize>(), 45);
        assert_eq!(a[&RiskClass::Low], 10);
        assert_eq!(a[&RiskClass::General], 10);
        assert_eq!(a[&RiskClass::Elevated], 10);
        assert_eq!(a[&RiskClass::High], 15);
    }

    #[test]
    fn a_class_never_gets_more_than_it_holds_and_the_rest_goes_to_the_others() {
        // 3 high-risk candidates at weight 30 would take 90% of 20 places: they get 3, the rest 17.
        let a = allocate_weighted(&sizes([100, 0, 0, 3]), &default_weights(), 20);
        assert_eq!(a[&RiskClass::High], 3);
        assert_eq!(a[&RiskClass::Low], 17);
        // Asking for more than there are candidates gives everyone.
        let a = allocate_weighted(&sizes([2, 3, 0, 1]), &default_weights(), 50);
        assert_eq!(a.values().sum::<usize>(), 6);
    }

    #[test]
    fn a_class_weighing_nothing_is_never_drawn_and_remainders_favour_the_lower_class() {
        let mut w = default_weights();
        w.insert(RiskClass::Low, 0);
        let a = allocate_weighted(&sizes([1000, 10, 10, 0]), &w, 5);
        assert_eq!(a.get(&RiskClass::Low).copied().unwrap_or(0), 0);
        assert_eq!(a.values().sum::<usize>(), 5);
        // Equal products: 3 places over two equal classes, the odd one to the lower class.
        let w: RiskWeights = [(RiskClass::General, 1), (RiskClass::Elevated, 1)].into();
        let a = allocate_weighted(&sizes([0, 10, 10, 0]), &w, 3);
        assert_eq!((a[&RiskClass::General], a[&RiskClass::Elevated]), (2, 1));
    }

    #[test]
    fn classes_from_history_licence_and_size() {
        let f = RiskFactors::default();
        assert_eq!(classify(f), RiskClass::General);
        assert_eq!(classify(RiskFactors { large: true, ..f }), RiskClass::Low);
        assert_eq!(classify(RiskFactors { qualified_history: true, ..f }), RiskClass::Low);
        assert_eq!(classify(RiskFactors { licence_lapsed: true, large: true, ..f }), RiskClass::Elevated);
        assert_eq!(classify(RiskFactors { refused: true, qualified_history: true, ..f }), RiskClass::High);
        assert_eq!(classify(RiskFactors { unqualified: true, ..f }), RiskClass::High);
    }

    #[test]
    fn weights_are_checked() {
        assert!(check_weights(&default_weights()).is_ok());
        assert_eq!(check_weights(&[(RiskClass::Low, 0)].into()).unwrap_err().code, "draw_risk_weight");
        assert_eq!(check_weights(&[(RiskClass::Low, 1001)].into()).unwrap_err().code, "draw_risk_weight");
        let parsed: RiskWeights = serde_json::from_str(r#"{"A":1,"D":30}"#).expect("json");
        assert_eq!(parsed[&RiskClass::High], 30);
        assert!(serde_json::from_str::<RiskWeights>(r#"{"E":1}"#).is_err(), "only the four classes");
    }
}
