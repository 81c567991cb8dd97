//! Roles of DESIGN.md ("Who uses it"). What a role may do is the permission matrix (`crate::access`).
//! One person may hold several roles; separation of duties is checked per sample elsewhere.

use std::str::FromStr;

use crate::RuleViolation;

crate::stored_enum! {
    pub enum Role : "角色", parsed by hand {
        /// 系统管理员 (users, organisations, calendars, settings)
        SystemAdmin = "system_admin", "系统管理员";
        /// 安全管理员 (roles, unlocking, security policy)
        SecurityAdmin = "security_admin", "安全管理员";
        /// 审计管理员 (the audit log, only)
        AuditAdmin = "audit_admin", "审计管理员";
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
    /// The three administrators (三权分立): an account holding one holds no other role.
    pub const ADMINISTRATORS: [Role; 3] = [Role::SystemAdmin, Role::SecurityAdmin, Role::AuditAdmin];

    pub fn is_administrator(self) -> bool {
        Self::ADMINISTRATORS.contains(&self)
    }

    /// Which kind of organisation a holder of this role belongs to.
    pub fn fits_org(self, kind: crate::organisation::OrgKind) -> bool {
        use crate::organisation::OrgKind as K;
        match self {
            Role::SystemAdmin | Role::SecurityAdmin | Role::AuditAdmin => true,
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
        let t = s.trim();
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == t || r.label() == t)
            .or_else(|| {
                // The single administrator of earlier versions is now the system administrator.
                matches!(t, "admin" | "管理员").then_some(Role::SystemAdmin)
            })
            .ok_or_else(|| RuleViolation::new("invalid_role", format!("未知角色“{s}”")).on_field("role"))
    }
}

/// 三权分立: an administrator's account holds that one role and nothing else.
pub fn check_separation(roles: &[Role]) -> Result<(), RuleViolation> {
    let admins = roles.iter().filter(|r| r.is_administrator()).count();
    if admins > 0 && roles.len() > 1 {
        return Err(RuleViolation::new(
            "separation_of_duties",
            "系统管理员、安全管理员、审计管理员三者分设：管理员账号只能担任其中一个角色，且不能兼任业务角色",
        )
        .on_field("roles"));
    }
    Ok(())
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
        assert_eq!("admin".parse::<Role>(), Ok(Role::SystemAdmin));
    }

    #[test]
    fn an_administrator_holds_one_role_only() {
        for a in Role::ADMINISTRATORS {
            assert!(check_separation(&[a]).is_ok());
            for other in Role::ALL.into_iter().filter(|r| *r != a) {
                assert!(check_separation(&[a, other]).is_err(), "{a:?} with {other:?}");
            }
        }
        assert!(check_separation(&[Role::Regulator, Role::LocalRegulator]).is_ok());
        assert!(check_separation(&[]).is_ok());
    }
}
