//! Roles of DESIGN.md ("Who uses it"). What a role may do is the permission matrix (`crate::access`).
//! One person may hold several roles; separation of duties is checked per sample elsewhere.

use std::str::FromStr;

use crate::RuleViolation;

crate::stored_enum! {
    pub enum Role : "角色", parsed by hand {
        /// 管理员
        Admin = "admin", "管理员";
        /// 监管人员 (organising bureau)
        Regulator = "regulator", "监管人员";
        /// 县局人员 (county / district bureau, branch bureau)
        LocalRegulator = "local_regulator", "县局人员";
        /// 抽样人员
        Sampler = "sampler", "抽样人员";
        /// 样品管理员
        SampleCustodian = "sample_custodian", "样品管理员";
        /// 检验人员
        Tester = "tester", "检验人员";
        /// 审核/批准人
        ReportApprover = "report_approver", "审核/批准人";
        /// 企业用户
        Enterprise = "enterprise", "企业用户";
    }
}

impl Role {
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
