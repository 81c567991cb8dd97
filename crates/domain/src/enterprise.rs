//! The enterprise registry's values (检查对象名录库): kinds, size class, status, licences, and the
//! validation of a new or edited entry. Import parsing builds on `EnterpriseDraft::validate`.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::str::FromStr;

use crate::RuleViolation;
use crate::division::DivisionCode;
use crate::uscc::Uscc;

crate::stored_enum! {
    /// Kinds of enterprise, stored as a bit set so one enterprise can be several.
    pub enum EnterpriseKind : "企业类型", parsed by hand {
        /// 生产者
        Producer = "producer", "生产者";
        /// 销售者
        Seller = "seller", "销售者";
        /// 加油站
        FuelStation = "fuel_station", "加油站";
        /// 电子商务经营者
        ECommerce = "e_commerce", "电商";
    }
}

impl EnterpriseKind {
    pub fn bit(self) -> i32 {
        match self {
            EnterpriseKind::Producer => 1,
            EnterpriseKind::Seller => 2,
            EnterpriseKind::FuelStation => 4,
            EnterpriseKind::ECommerce => 8,
        }
    }
}

impl FromStr for EnterpriseKind {
    type Err = RuleViolation;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        EnterpriseKind::ALL
            .into_iter()
            .find(|k| k.as_str() == t || k.label() == t || (t == "电子商务" && *k == EnterpriseKind::ECommerce))
            .ok_or_else(|| {
                RuleViolation::new("invalid_kind", format!("未知企业类型“{t}”（应为生产者、销售者、加油站或电商）"))
                    .on_field("kinds")
            })
    }
}

/// A set of kinds as stored (bit mask).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct KindSet(pub i32);

impl KindSet {
    pub fn from_kinds(kinds: impl IntoIterator<Item = EnterpriseKind>) -> Self {
        KindSet(kinds.into_iter().fold(0, |acc, k| acc | k.bit()))
    }
    pub fn contains(self, k: EnterpriseKind) -> bool {
        self.0 & k.bit() != 0
    }
    pub fn kinds(self) -> Vec<EnterpriseKind> {
        EnterpriseKind::ALL.into_iter().filter(|k| self.contains(*k)).collect()
    }
    pub fn labels(self) -> String {
        self.kinds().into_iter().map(EnterpriseKind::label).collect::<Vec<_>>().join("、")
    }
    /// Parse a list like "生产者、销售者" or "producer,seller" (separators: 、,，;；/ and spaces).
    pub fn parse(s: &str) -> Result<Self, RuleViolation> {
        let parts: Vec<&str> = s
            .split(|c: char| matches!(c, '、' | ',' | '，' | ';' | '；' | '/' | '|') || c.is_whitespace())
            .filter(|p| !p.is_empty())
            .collect();
        if parts.is_empty() {
            return Err(RuleViolation::new("invalid_kind", "企业类型不能为空").on_field("kinds"));
        }
        let kinds = parts.into_iter().map(EnterpriseKind::from_str).collect::<Result<Vec<_>, _>>()?;
        Ok(KindSet::from_kinds(kinds))
    }
}

crate::stored_enum! {
    pub enum SizeClass : "企业规模", parsed by hand {
        Large = "large", "大型";
        Medium = "medium", "中型";
        Small = "small", "小型";
        Micro = "micro", "微型";
    }
}

impl SizeClass {}

impl FromStr for SizeClass {
    type Err = RuleViolation;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        SizeClass::ALL
            .into_iter()
            .find(|k| k.as_str() == t || k.label() == t || k.label().trim_end_matches('型') == t)
            .ok_or_else(|| {
                RuleViolation::new("invalid_size_class", format!("未知企业规模“{t}”（应为大型、中型、小型或微型）"))
                    .on_field("size_class")
            })
    }
}

crate::stored_enum! {
    pub enum EnterpriseStatus : "经营状态", parsed by hand {
        /// 在营（开业）
        Operating = "operating", "在营";
        /// 停业（歇业）
        Suspended = "suspended", "停业";
        /// 注销
        Deregistered = "deregistered", "注销";
    }
}

impl EnterpriseStatus {}

impl FromStr for EnterpriseStatus {
    type Err = RuleViolation;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        EnterpriseStatus::ALL
            .into_iter()
            .find(|k| {
                k.as_str() == t
                    || k.label() == t
                    || (t == "开业" && *k == EnterpriseStatus::Operating)
                    || (t == "歇业" && *k == EnterpriseStatus::Suspended)
            })
            .ok_or_else(|| {
                RuleViolation::new("invalid_status", format!("未知经营状态“{t}”（应为在营、停业或注销）"))
                    .on_field("status")
            })
    }
}

/// An entry as typed by a person or read from an import row, before validation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnterpriseDraft {
    pub name: String,
    pub uscc: String,
    pub division_code: String,
    pub address: String,
    /// e.g. "生产者、销售者"
    pub kinds: String,
    pub size_class: String,
    /// e.g. "电冰箱；洗衣机"
    pub product_lines: String,
    pub licence_no: String,
    /// YYYY-MM-DD
    pub licence_valid_until: String,
    pub ccc_cert_no: String,
    pub status: String,
}

/// A valid registry entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnterpriseData {
    pub name: String,
    pub uscc: Uscc,
    pub division_code: DivisionCode,
    pub address: String,
    pub kinds: KindSet,
    pub size_class: Option<SizeClass>,
    pub product_lines: Vec<String>,
    pub licence_no: Option<String>,
    pub licence_valid_until: Option<NaiveDate>,
    pub ccc_cert_no: Option<String>,
    pub status: EnterpriseStatus,
}

fn opt(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// Split a product-line list (、,，;； or new lines).
pub fn split_product_lines(s: &str) -> Vec<String> {
    s.split(['、', ',', '，', ';', '；', '\n']).map(str::trim).filter(|p| !p.is_empty()).map(str::to_string).collect()
}

/// The distinct product lines of a list, as the draw's product-line index keeps them (issue 17).
pub fn product_line_set(s: &str) -> std::collections::BTreeSet<String> {
    split_product_lines(s).into_iter().collect()
}

/// Whether a product-line filter can be answered line by line: it names no separator, so a list
/// contains it exactly when one of its lines does.
pub fn is_single_product_line(filter: &str) -> bool {
    !filter.is_empty() && !filter.contains(['、', ',', '，', ';', '；', '\n'])
}

impl EnterpriseDraft {
    /// Validate every field; returns all problems, not just the first.
    pub fn validate(&self) -> Result<EnterpriseData, Vec<RuleViolation>> {
        let mut errs = Vec::new();
        let name = self.name.trim().to_string();
        if name.is_empty() {
            errs.push(RuleViolation::new("required", "企业名称不能为空").on_field("name"));
        } else if name.chars().count() > 200 {
            errs.push(RuleViolation::new("too_long", "企业名称不能超过200个字").on_field("name"));
        }
        let uscc = Uscc::parse(&self.uscc).map_err(|e| errs.push(e)).ok();
        let division_code = if self.division_code.trim().is_empty() {
            // Default to the registering division held in the USCC (characters 3–8).
            uscc.as_ref().map(Uscc::division)
        } else {
            DivisionCode::parse(&self.division_code).map_err(|e| errs.push(e)).ok()
        };
        if division_code.is_none() && self.division_code.trim().is_empty() && uscc.is_some() {
            errs.push(RuleViolation::new("required", "行政区划代码不能为空").on_field("division_code"));
        }
        let address = self.address.trim().to_string();
        if address.chars().count() > 300 {
            errs.push(RuleViolation::new("too_long", "地址不能超过300个字").on_field("address"));
        }
        let kinds = KindSet::parse(&self.kinds).map_err(|e| errs.push(e)).ok();
        let size_class = match opt(&self.size_class) {
            None => None,
            Some(s) => SizeClass::from_str(&s).map_err(|e| errs.push(e)).ok(),
        };
        let licence_valid_until = match opt(&self.licence_valid_until) {
            None => None,
            Some(s) => parse_date(&s)
                .ok_or_else(|| {
                    errs.push(
                        RuleViolation::new(
                            "invalid_date",
                            format!("许可证有效期“{s}”不是有效日期（格式：2026-12-31）"),
                        )
                        .on_field("licence_valid_until"),
                    )
                })
                .ok(),
        };
        let licence_no = opt(&self.licence_no);
        if licence_valid_until.is_some() && licence_no.is_none() {
            errs.push(
                RuleViolation::new("required", "填写了许可证有效期，但未填写生产许可证编号").on_field("licence_no"),
            );
        }
        let status = match opt(&self.status) {
            None => Some(EnterpriseStatus::Operating),
            Some(s) => EnterpriseStatus::from_str(&s).map_err(|e| errs.push(e)).ok(),
        };
        match (uscc, division_code, kinds, status) {
            (Some(uscc), Some(division_code), Some(kinds), Some(status)) if errs.is_empty() => Ok(EnterpriseData {
                name,
                uscc,
                division_code,
                address,
                kinds,
                size_class,
                product_lines: split_product_lines(&self.product_lines),
                licence_no,
                licence_valid_until,
                ccc_cert_no: opt(&self.ccc_cert_no),
                status,
            }),
            _ => Err(errs),
        }
    }
}

/// Dates as people type them: 2026-12-31, 2026/12/31, 2026.12.31, 20261231, 2026年12月31日.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let t = s.trim();
    for f in ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日"] {
        if let Ok(d) = NaiveDate::parse_from_str(t, f) {
            return Some(d);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> EnterpriseDraft {
        EnterpriseDraft {
            name: "大同市平城区示例家电商场".into(),
            uscc: Uscc::from_first17("91140213MA0K12345").expect("ok").to_string(),
            kinds: "销售者、电商".into(),
            product_lines: "电冰箱；洗衣机".into(),
            ..Default::default()
        }
    }

    #[test]
    fn valid_draft_defaults_division_from_uscc() {
        let e = good().validate().expect("valid");
        assert_eq!(e.division_code.as_str(), "140213");
        assert!(e.kinds.contains(EnterpriseKind::ECommerce));
        assert!(!e.kinds.contains(EnterpriseKind::Producer));
        assert_eq!(e.product_lines, vec!["电冰箱", "洗衣机"]);
        assert_eq!(e.status, EnterpriseStatus::Operating);
    }

    #[test]
    fn collects_every_problem() {
        let mut d = good();
        d.name = " ".into();
        d.uscc = "91140213MA0K123450".into();
        d.kinds = "批发商".into();
        d.licence_valid_until = "2026-13-01".into();
        let errs = d.validate().unwrap_err();
        let fields: Vec<_> = errs.iter().filter_map(|e| e.field.as_deref()).collect();
        assert!(fields.contains(&"name"));
        assert!(fields.contains(&"uscc"));
        assert!(fields.contains(&"kinds"));
        assert!(fields.contains(&"licence_valid_until"));
    }

    #[test]
    fn dates_in_common_forms() {
        let want = NaiveDate::from_ymd_opt(2026, 12, 31);
        for s in ["2026-12-31", "2026/12/31", "20261231", "2026年12月31日"] {
            assert_eq!(parse_date(s), want, "{s}");
        }
    }
}

crate::stored_enum! {
    /// What a registry import does with a row whose enterprise is already in the registry.
    #[derive(Default)]
    pub enum OnExisting : "已有企业的处理方式", parsed by hand {
        /// Refuse the file (the default: nothing is overwritten by accident).
        #[default]
        Error = "error", "视为错误，拒绝导入";
        /// Leave the registry's entry as it is.
        Skip = "skip", "跳过已有企业";
        /// Replace the registry's entry with the row.
        Update = "update", "用文件内容更新已有企业";
    }
}

/// The stored name, a short Chinese word, or empty for the default.
impl std::str::FromStr for OnExisting {
    type Err = crate::RuleViolation;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        match t {
            "" | "error" | "报错" => Ok(OnExisting::Error),
            "skip" | "跳过" => Ok(OnExisting::Skip),
            "update" | "更新" => Ok(OnExisting::Update),
            _ => Err(crate::RuleViolation::new(
                "invalid_on_existing",
                format!("“{t}”无效：已有企业的处理方式应为 error、skip 或 update"),
            )
            .on_field("on_existing")),
        }
    }
}
