//! Roles of DESIGN.md ("Who uses it"). What a role may do is the permission matrix (`crate::access`).
//! One person may hold several roles; separation of duties is checked per sample elsewhere.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::RuleViolation;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 管理员
    Admin,
    /// 监管人员 (organising bureau)
    Regulator,
    /// 县局人员 (county / district bureau, branch bureau)
    LocalRegulator,
    /// 抽样人员
    Sampler,
    /// 样品管理员
    SampleCustodian,
    /// 检验人员
    Tester,
    /// 审核/批准人
    ReportApprover,
    /// 企业用户
    Enterprise,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::Admin,
        Role::Regulator,
        Role::LocalRegulator,
        Role::Sampler,
        Role::SampleCustodian,
        Role::Tester,
        Role::ReportApprover,
        Role::Enterprise,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Regulator => "regulator",
            Role::LocalRegulator => "local_regulator",
            Role::Sampler => "sampler",
            Role::SampleCustodian => "sample_custodian",
            Role::Tester => "tester",
            Role::ReportApprover => "report_approver",
            Role::Enterprise => "enterprise",
        }
    }

    /// The Chinese name shown in the UI.
    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "管理员",
            Role::Regulator => "监管人员",
            Role::LocalRegulator => "县局人员",
            Role::Sampler => "抽样人员",
            Role::SampleCustodian => "样品管理员",
            Role::Tester => "检验人员",
            Role::ReportApprover => "审核/批准人",
            Role::Enterprise => "企业用户",
        }
    }

    /// Which kind of organisation a holder of this role belongs to.
    pub fn fits_org(self, kind: crate::organisation::OrgKind) -> bool {
        use crate::organisation::OrgKind as K;
        match self {
            Role::Admin => true,
            Role::Regulator => matches!(kind, K::ProvinceBureau | K::CityBureau),
            Role::LocalRegulator => matches!(kind, K::LocalBureau),
            Role::Sampler | Role::SampleCustodian | Role::Tester | Role::ReportApprover => {
                matches!(kind, K::Institution)
            }
            Role::Enterprise => false,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = RuleViolation;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim() || r.label() == s.trim())
            .ok_or_else(|| RuleViolation::new("invalid_role", format!("未知角色“{s}”")).on_field("role"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_by_code_and_label() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
            assert_eq!(r.label().parse::<Role>(), Ok(r));
        }
        assert!("boss".parse::<Role>().is_err());
    }
}
