//! The security policy of a deployment (the `[security]` table of the configuration) and the
//! password rules it sets.

use choucha_domain::RuleViolation;
use choucha_domain::role::Role;
use chrono::Duration;

/// What deployments set differently about signing in. `Default` is the production setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityPolicy {
    /// Consecutive failed sign-ins that lock an account.
    pub max_failed_sign_ins: u32,
    /// How long a lock lasts, in minutes.
    pub lockout_minutes: i64,
    /// Sign-in attempts (page and API token) one address may make at once…
    pub sign_in_burst: u32,
    /// …and one more every this many seconds after that.
    pub sign_in_refill_seconds: u64,
    /// A page session ends after this many minutes without a request…
    pub session_idle_minutes: i64,
    /// …and this many hours after sign-in in any case.
    pub session_absolute_hours: i64,
    /// How long an API token lives, in minutes.
    pub token_minutes: i64,
    /// The least number of characters of a password.
    pub password_min_length: usize,
    /// How many previous passwords may not be used again.
    pub password_history: u64,
    /// A password must be changed after this many days (none: never).
    pub password_max_age_days: Option<i64>,
    /// The roles whose holders must sign in with a second factor (TOTP): until enrolled, such a
    /// user may only enrol, and gets no API token.
    pub second_factor_roles: Vec<Role>,
}

impl Default for SecurityPolicy {
    fn default() -> Self {
        Self {
            max_failed_sign_ins: 5,
            lockout_minutes: 15,
            sign_in_burst: 20,
            sign_in_refill_seconds: 3,
            session_idle_minutes: 30,
            session_absolute_hours: 12,
            token_minutes: 120,
            password_min_length: 10,
            password_history: 5,
            password_max_age_days: None,
            second_factor_roles: Self::STAFF_ROLES.to_vec(),
        }
    }
}

impl SecurityPolicy {
    /// Every bureau, lab and administrator role: those that must use a second factor in a
    /// production configuration (an enterprise's user is not staff).
    pub const STAFF_ROLES: [Role; 9] = [
        Role::SystemAdmin,
        Role::SecurityAdmin,
        Role::AuditAdmin,
        Role::Regulator,
        Role::LocalRegulator,
        Role::Sampler,
        Role::SampleCustodian,
        Role::Tester,
        Role::ReportApprover,
    ];

    /// The production policy with no second factor required (the demo, tests and training
    /// copies; a second factor a user enrolled is still asked for).
    pub fn without_second_factor() -> Self {
        Self { second_factor_roles: Vec::new(), ..Self::default() }
    }

    /// Whether a holder of `roles` must sign in with a second factor.
    pub fn requires_second_factor(&self, roles: &[Role]) -> bool {
        roles.iter().any(|r| self.second_factor_roles.contains(r))
    }

    pub fn lockout(&self) -> Duration {
        Duration::minutes(self.lockout_minutes)
    }

    pub fn session_idle(&self) -> Duration {
        Duration::minutes(self.session_idle_minutes)
    }

    pub fn session_absolute(&self) -> Duration {
        Duration::hours(self.session_absolute_hours)
    }

    pub fn token_life(&self) -> Duration {
        Duration::minutes(self.token_minutes)
    }

    /// The password rules, checked before anything is hashed: length, three of the four classes
    /// of characters, not containing the username, not a common password. (The last passwords are
    /// checked by the caller against their hashes.) Every problem is reported on the field `password`.
    pub fn check_password(&self, username: &str, pw: &str) -> Result<(), RuleViolation> {
        let n = pw.chars().count();
        let min = self.password_min_length;
        if n < min || n > 128 {
            return Err(weak(format!("密码须为{min}至128位")));
        }
        let classes = [
            pw.chars().any(|c| c.is_ascii_uppercase()),
            pw.chars().any(|c| c.is_ascii_lowercase()),
            pw.chars().any(|c| c.is_ascii_digit()),
            pw.chars().any(|c| !c.is_ascii_alphanumeric()),
        ];
        if classes.iter().filter(|c| **c).count() < 3 {
            return Err(weak("密码须包含大写字母、小写字母、数字、其他符号四类中的至少三类".into()));
        }
        let name = username.trim().to_lowercase();
        if !name.is_empty() && pw.to_lowercase().contains(&name) {
            return Err(RuleViolation::new("password_contains_username", "密码不能包含用户名").on_field("password"));
        }
        if is_common(pw) {
            return Err(
                RuleViolation::new("common_password", "该密码过于常见，容易被猜中，请换一个").on_field("password")
            );
        }
        Ok(())
    }
}

/// The policy as an audit record holds it.
pub fn policy_json(p: &SecurityPolicy) -> serde_json::Value {
    serde_json::json!({
        "max_failed_sign_ins": p.max_failed_sign_ins,
        "lockout_minutes": p.lockout_minutes,
        "sign_in_burst": p.sign_in_burst,
        "sign_in_refill_seconds": p.sign_in_refill_seconds,
        "session_idle_minutes": p.session_idle_minutes,
        "session_absolute_hours": p.session_absolute_hours,
        "token_minutes": p.token_minutes,
        "password_min_length": p.password_min_length,
        "password_history": p.password_history,
        "password_max_age_days": p.password_max_age_days,
        "second_factor_roles": p.second_factor_roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
    })
}

fn weak(message: String) -> RuleViolation {
    RuleViolation::new("weak_password", message).on_field("password")
}

/// The common passwords shipped with the binary (the most used passwords of public leaks, and
/// ones common in China), lower-case, one a line.
const COMMON: &str = include_str!("common_passwords.txt");

/// Whether `pw` is a common password (case does not matter).
pub fn is_common(pw: &str) -> bool {
    use std::collections::HashSet;
    use std::sync::OnceLock;
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| COMMON.lines().map(str::trim).filter(|l| !l.is_empty()).collect())
        .contains(pw.to_lowercase().as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(r: Result<(), RuleViolation>) -> &'static str {
        r.err().map(|v| v.code).unwrap_or("ok")
    }

    #[test]
    fn each_rule_refuses_and_a_good_password_passes() {
        let p = SecurityPolicy::default();
        assert_eq!(code(p.check_password("wang", "Ab1!xyz")), "weak_password");
        assert_eq!(code(p.check_password("wang", "abcdefgh1234")), "weak_password");
        assert_eq!(code(p.check_password("wangwei", "Xx-WangWei-2025")), "password_contains_username");
        assert_eq!(code(p.check_password("wang", "Password123")), "common_password");
        assert_eq!(code(p.check_password("wang", "a123456789")), "weak_password");
        assert!(is_common("a123456789") && is_common("WOAINI1314") && is_common("qwertyuiop"));
        assert_eq!(code(p.check_password("wang", "Choucha2025")), "ok");
        assert_eq!(code(p.check_password("wang", "test-pass-2025")), "ok");
        assert_eq!(code(p.check_password("wang", "密码很长但是没有数字也没有字母")), "weak_password");
    }
}
