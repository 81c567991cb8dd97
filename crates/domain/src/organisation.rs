//! Organisations: the bureau tree (province → city → county/district/branch) and the sampling,
//! testing and screening institutions. Enterprises are not organisations here: they live in the
//! enterprise registry.

use serde::{Deserialize, Serialize};
use std::str::FromStr;

use crate::RuleViolation;

crate::stored_enum! {
    pub enum OrgKind : "机构类型", parsed by hand {
        /// 省局
        ProvinceBureau = "province_bureau", "省级市场监管局";
        /// 市局
        CityBureau = "city_bureau", "市级市场监管局";
        /// 县（区）局、分局
        LocalBureau = "local_bureau", "县（区）局/分局";
        /// 检验检测机构 (sampling, testing and/or screening)
        Institution = "institution", "检验检测机构";
    }
}

impl OrgKind {
    pub fn is_bureau(self) -> bool {
        !matches!(self, OrgKind::Institution)
    }

    /// The kind of parent an organisation of this kind may have (`None`: a root).
    pub fn parent_allowed(self, parent: Option<OrgKind>) -> Result<(), RuleViolation> {
        let ok = matches!(
            (self, parent),
            (OrgKind::ProvinceBureau, None)
                | (OrgKind::CityBureau, Some(OrgKind::ProvinceBureau) | None)
                | (OrgKind::LocalBureau, Some(OrgKind::CityBureau | OrgKind::ProvinceBureau))
                | (OrgKind::Institution, _)
        );
        if ok {
            Ok(())
        } else {
            Err(RuleViolation::new(
                "invalid_parent",
                format!("{}的上级机构不能是{}", self.label(), parent.map(OrgKind::label).unwrap_or("空（顶级）")),
            )
            .on_field("parent"))
        }
    }
}

impl FromStr for OrgKind {
    type Err = RuleViolation;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OrgKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s.trim() || k.label() == s.trim())
            .ok_or_else(|| RuleViolation::new("invalid_org_kind", format!("未知机构类型“{s}”")).on_field("kind"))
    }
}

/// What an institution is accredited and assigned to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Capabilities {
    pub sampling: bool,
    pub testing: bool,
    pub screening: bool,
}

impl Capabilities {
    pub fn labels(self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.sampling {
            v.push("抽样");
        }
        if self.testing {
            v.push("检验");
        }
        if self.screening {
            v.push("快速筛查");
        }
        v
    }
}

/// An organisation code: letters, digits, `-` and `_`, 2–40 characters; used in URLs and the CLI.
pub fn validate_org_code(code: &str) -> Result<String, RuleViolation> {
    let c = code.trim();
    if c.len() < 2 || c.len() > 40 || !c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_') {
        return Err(RuleViolation::new("invalid_org_code", "机构代码须为2至40位字母、数字、“-”或“_”").on_field("code"));
    }
    Ok(c.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bureau_tree_shape_is_enforced() {
        assert!(OrgKind::ProvinceBureau.parent_allowed(None).is_ok());
        assert!(OrgKind::CityBureau.parent_allowed(Some(OrgKind::ProvinceBureau)).is_ok());
        assert!(OrgKind::LocalBureau.parent_allowed(Some(OrgKind::CityBureau)).is_ok());
        assert!(OrgKind::LocalBureau.parent_allowed(None).is_err());
        assert!(OrgKind::ProvinceBureau.parent_allowed(Some(OrgKind::CityBureau)).is_err());
        assert!(OrgKind::CityBureau.parent_allowed(Some(OrgKind::LocalBureau)).is_err());
    }

    #[test]
    fn org_codes_are_checked() {
        assert!(validate_org_code("sx-amr").is_ok());
        assert!(validate_org_code("a").is_err());
        assert!(validate_org_code("大同").is_err());
    }
}
