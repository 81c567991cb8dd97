//! Plans (抽查计划) and their items: states, scopes, shared quotas, and the two limits that decide
//! who may be sampled for an item: batches per enterprise per plan (DESIGN.md rule 5) and no repeated
//! check within six months (rule 22).

use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

use crate::RuleViolation;

crate::stored_enum! {
    pub enum PlanState: "计划状态" {
        Draft = "draft", "草稿";
        Issued = "issued", "已下达";
        Closed = "closed", "已结束";
    }
}

crate::stored_enum! {
    pub enum PlanAction: "计划操作" {
        Issue = "issue", "下达";
        Close = "close", "结束";
    }
}

crate::workflow! {
    PlanState, PlanAction, "计划", "plan_state",
    initial: [Draft],
    table: {
        Draft, Issue => Issued;
        Issued, Close => Closed;
    }
}

/// A plan may be deleted only while it is a draft (a plan created by mistake); once issued it is
/// closed, never deleted.
pub fn check_deletable(state: PlanState) -> Result<(), RuleViolation> {
    match state {
        PlanState::Draft => Ok(()),
        _ => Err(RuleViolation::new("plan_state", "只有草稿状态的计划可以删除；已下达的计划只能结束")),
    }
}

/// What a plan needs before it can be issued, as facts the caller gathers.
#[derive(Debug, Clone, Default)]
pub struct PlanReadiness {
    pub items: usize,
    /// Product names of items without a testing institution.
    pub items_without_testing: Vec<String>,
    /// Product names of items without a sampling institution.
    pub items_without_sampling: Vec<String>,
    pub total_quota: u32,
}

pub fn issue(state: PlanState, r: &PlanReadiness) -> Result<crate::workflow::Transition<PlanState>, RuleViolation> {
    let t = crate::workflow::step(state, PlanAction::Issue)?;
    if r.items == 0 || r.total_quota == 0 {
        return Err(RuleViolation::new("plan_empty", "计划没有产品条目或抽查批次为0，不能下达"));
    }
    if !r.items_without_testing.is_empty() {
        return Err(RuleViolation::new(
            "plan_unassigned",
            format!("以下产品尚未指定检验机构：{}", r.items_without_testing.join("、")),
        ));
    }
    if !r.items_without_sampling.is_empty() {
        return Err(RuleViolation::new(
            "plan_unassigned",
            format!("以下产品尚未指定抽样机构：{}", r.items_without_sampling.join("、")),
        ));
    }
    Ok(t)
}

pub fn close(state: PlanState) -> Result<crate::workflow::Transition<PlanState>, RuleViolation> {
    crate::workflow::step(state, PlanAction::Close)
}

/// Items and quotas change freely in a draft; an issued plan's quotas change only by a recorded
/// amendment (with its reason); a closed plan does not change.
pub fn check_quota_change(state: PlanState, amendment_reason: Option<&str>) -> Result<(), RuleViolation> {
    match state {
        PlanState::Draft => Ok(()),
        PlanState::Issued if amendment_reason.is_some_and(|r| !r.trim().is_empty()) => Ok(()),
        PlanState::Issued => {
            Err(RuleViolation::new("plan_amendment_required", "计划已下达，调整抽查批次须以变更记录方式进行并说明理由")
                .on_field("reason"))
        }
        PlanState::Closed => Err(RuleViolation::new("plan_state", "计划已结束，不能修改")),
    }
}

crate::stored_enum! {
    /// Who may be sampled for an item (抽查范围).
    pub enum Scope : "抽查范围" {
        Producer = "producer", "生产者";
        Seller = "seller", "销售者";
        FuelStation = "fuel_station", "加油站";
    }
}

impl Scope {
    /// The registry kind bit an enterprise needs for this scope.
    pub fn kind(self) -> crate::enterprise::EnterpriseKind {
        use crate::enterprise::EnterpriseKind as K;
        match self {
            Scope::Producer => K::Producer,
            Scope::Seller => K::Seller,
            Scope::FuelStation => K::FuelStation,
        }
    }
}

/// Parse "生产者、销售者" / "加油站" / "producer,seller".
pub fn parse_scopes(s: &str) -> Result<BTreeSet<Scope>, RuleViolation> {
    let mut out = BTreeSet::new();
    for part in s.split(['、', ',', '，', ';', '；', '/', ' ']).map(str::trim).filter(|p| !p.is_empty()) {
        let scope = Scope::ALL.into_iter().find(|k| k.as_str() == part || k.label() == part).ok_or_else(|| {
            RuleViolation::new("invalid_scope", format!("未知的抽查范围“{part}”（应为生产者、销售者或加油站）"))
                .on_field("scope")
        })?;
        out.insert(scope);
    }
    if out.is_empty() {
        return Err(RuleViolation::new("invalid_scope", "抽查范围不能为空").on_field("scope"));
    }
    Ok(out)
}

pub fn scopes_label(scopes: &BTreeSet<Scope>) -> String {
    scopes.iter().map(|s| s.label()).collect::<Vec<_>>().join("、")
}

/// The bureau's per-enterprise exception of rule 5 (large shopping centres and supermarkets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchAllowance {
    pub max_total: u32,
    pub max_per_product: u32,
    pub reason: String,
}

/// Default limits of rule 5.
pub const MAX_BATCHES_PER_PRODUCT: u32 = 1;
pub const MAX_BATCHES_PER_ENTERPRISE: u32 = 2;

/// DESIGN.md rule 5: may this enterprise give one more batch of `product` in this plan?
/// `existing` lists the products (plan item ids) it already gives in this plan, one entry a batch.
pub fn check_batch_limits(
    existing: &[i64],
    product: i64,
    allowance: Option<&BatchAllowance>,
) -> Result<(), RuleViolation> {
    let (per_product, total) = allowance
        .map(|a| (a.max_per_product, a.max_total))
        .unwrap_or((MAX_BATCHES_PER_PRODUCT, MAX_BATCHES_PER_ENTERPRISE));
    let same = existing.iter().filter(|p| **p == product).count() as u32;
    if same >= per_product {
        return Err(RuleViolation::new(
            "rule5_same_product",
            format!("同一企业同一产品在本计划中只抽1个批次，该企业已有该产品{same}个批次（规则5）"),
        ));
    }
    if existing.len() as u32 >= total {
        return Err(RuleViolation::new(
            "rule5_two_batches",
            format!("1家企业在本计划中抽取的样品不得多于{total}个批次，该企业已有{}个批次（规则5）", existing.len()),
        ));
    }
    Ok(())
}

/// Level of the bureau that organises a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BureauLevel {
    National,
    Province,
    City,
    County,
}

impl BureauLevel {
    /// The level of a bureau of this kind (institutions and local bureaus count as county level).
    pub fn of(kind: crate::organisation::OrgKind) -> BureauLevel {
        use crate::organisation::OrgKind as K;
        match kind {
            K::ProvinceBureau => BureauLevel::Province,
            K::CityBureau => BureauLevel::City,
            K::LocalBureau | K::Institution => BureauLevel::County,
        }
    }

    /// The level of a bureau given its stored kind code.
    pub fn of_code(kind: &str) -> BureauLevel {
        kind.parse().map(BureauLevel::of).unwrap_or(BureauLevel::County)
    }
}

/// The identity of a product for rule 22: the same producer, standard, trademark and
/// specification/model. Unknown parts (at draw time only the producer and product are known) do not
/// tell two products apart.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductKey {
    /// The producer's USCC, or its name when the USCC is unknown.
    pub producer: String,
    pub product: String,
    pub standard: Option<String>,
    pub trademark: Option<String>,
    pub model: Option<String>,
}

impl ProductKey {
    pub fn same_as(&self, other: &ProductKey) -> bool {
        fn part(a: &Option<String>, b: &Option<String>) -> bool {
            match (a, b) {
                (Some(x), Some(y)) => x.trim() == y.trim(),
                _ => true,
            }
        }
        self.producer.trim() == other.producer.trim()
            && self.product.trim() == other.product.trim()
            && part(&self.standard, &other.standard)
            && part(&self.trademark, &other.trademark)
            && part(&self.model, &other.model)
    }
}

/// An earlier check of a product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PastCheck {
    pub bureau_id: i64,
    pub bureau_name: String,
    pub level: BureauLevel,
    pub key: ProductKey,
    pub sampled_on: NaiveDate,
}

/// Months within which a product is not checked again (rule 22).
pub const REPEAT_WINDOW_MONTHS: u32 = 6;

/// DESIGN.md rule 22: the same bureau does not check the same product twice within six months, and a
/// lower level does not repeat a higher level's check. Follow-up checks of failed products and
/// emergency checks (`exempt`) are not limited.
pub fn check_repeat(
    past: &[PastCheck],
    bureau_id: i64,
    level: BureauLevel,
    key: &ProductKey,
    on: NaiveDate,
    exempt: bool,
) -> Result<(), RuleViolation> {
    if exempt {
        return Ok(());
    }
    let from = on.checked_sub_months(Months::new(REPEAT_WINDOW_MONTHS)).unwrap_or(NaiveDate::MIN);
    for p in past {
        if p.sampled_on <= from || p.sampled_on > on || !p.key.same_as(key) {
            continue;
        }
        if p.bureau_id == bureau_id {
            return Err(RuleViolation::new(
                "rule22_repeat",
                format!("同一产品已于{}被本部门抽查，6个月内不得重复抽查（规则22）", p.sampled_on),
            ));
        }
        if p.level < level {
            return Err(RuleViolation::new(
                "rule22_higher_level",
                format!("同一产品已于{}被上级部门（{}）抽查，下级不得重复抽查（规则22）", p.sampled_on, p.bureau_name),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    #[test]
    fn plan_lifecycle() {
        let ready = PlanReadiness { items: 5, total_quota: 190, ..Default::default() };
        assert_eq!(issue(PlanState::Draft, &ready).map(|t| t.to()), Ok(PlanState::Issued));
        assert_eq!(issue(PlanState::Issued, &ready).unwrap_err().code, "plan_state");
        let unassigned = PlanReadiness { items_without_testing: vec!["电冰箱".into()], ..ready.clone() };
        assert!(issue(PlanState::Draft, &unassigned).unwrap_err().message.contains("电冰箱"));
        assert_eq!(close(PlanState::Issued).map(|t| t.to()), Ok(PlanState::Closed));
        assert!(close(PlanState::Draft).is_err());
        assert!(check_quota_change(PlanState::Draft, None).is_ok());
        assert!(check_deletable(PlanState::Draft).is_ok());
        assert_eq!(check_deletable(PlanState::Issued).unwrap_err().code, "plan_state");
        assert_eq!(check_deletable(PlanState::Closed).unwrap_err().code, "plan_state");
        assert_eq!(check_quota_change(PlanState::Issued, None).unwrap_err().code, "plan_amendment_required");
        assert!(check_quota_change(PlanState::Issued, Some("补充抽查洗衣机")).is_ok());
        assert!(check_quota_change(PlanState::Closed, Some("x")).is_err());
    }

    #[test]
    fn scopes_parse_the_notices_wording() {
        let s = parse_scopes("生产者、销售者").expect("ok");
        assert_eq!(scopes_label(&s), "生产者、销售者");
        assert_eq!(parse_scopes("加油站").expect("ok").len(), 1);
        assert!(parse_scopes("批发商").is_err());
    }

    #[test]
    fn rule5_one_batch_per_product_two_in_all() {
        assert!(check_batch_limits(&[], 1, None).is_ok());
        assert!(check_batch_limits(&[1], 2, None).is_ok());
        assert_eq!(check_batch_limits(&[1], 1, None).unwrap_err().code, "rule5_same_product");
        assert_eq!(check_batch_limits(&[1, 2], 3, None).unwrap_err().code, "rule5_two_batches");
        let mall = BatchAllowance { max_total: 6, max_per_product: 2, reason: "大型超市，销售品牌多".into() };
        assert!(check_batch_limits(&[1, 2, 3], 1, Some(&mall)).is_ok());
        assert!(check_batch_limits(&[1, 1], 1, Some(&mall)).is_err());
    }

    #[test]
    fn bureau_levels_follow_the_organisation_kind() {
        assert_eq!(BureauLevel::of_code("province_bureau"), BureauLevel::Province);
        assert_eq!(BureauLevel::of_code("city_bureau"), BureauLevel::City);
        assert_eq!(BureauLevel::of_code("local_bureau"), BureauLevel::County);
        assert!(BureauLevel::Province < BureauLevel::County, "a lower level compares greater");
    }

    #[test]
    fn rule22_no_repeat_within_six_months() {
        let key =
            ProductKey { producer: "91140213MA0000001X".into(), product: "车用柴油".into(), ..Default::default() };
        let past = vec![PastCheck {
            bureau_id: 2,
            bureau_name: "大同市市场监督管理局".into(),
            level: BureauLevel::City,
            key: key.clone(),
            sampled_on: d(2025, 5, 10),
        }];
        // Same bureau, 5 months later: refused; 7 months later: allowed.
        assert_eq!(
            check_repeat(&past, 2, BureauLevel::City, &key, d(2025, 10, 9), false).unwrap_err().code,
            "rule22_repeat"
        );
        assert!(check_repeat(&past, 2, BureauLevel::City, &key, d(2025, 12, 11), false).is_ok());
        // A county bureau does not repeat the city's check; the province may.
        assert_eq!(
            check_repeat(&past, 7, BureauLevel::County, &key, d(2025, 8, 1), false).unwrap_err().code,
            "rule22_higher_level"
        );
        assert!(check_repeat(&past, 1, BureauLevel::Province, &key, d(2025, 8, 1), false).is_ok());
        // Follow-up and emergency checks are exempt.
        assert!(check_repeat(&past, 2, BureauLevel::City, &key, d(2025, 6, 1), true).is_ok());
        // Another model of the same producer's product is another product.
        let mut other = key.clone();
        other.model = Some("0号".into());
        let mut with_model = past.clone();
        with_model[0].key.model = Some("-10号".into());
        assert!(check_repeat(&with_model, 2, BureauLevel::City, &other, d(2025, 8, 1), false).is_ok());
    }
}
