//! The `[security]` table of the configuration: sign-in protection, passwords and sessions.

use choucha_domain::role::Role;
use choucha_service::auth::SecurityPolicy;
use serde::{Deserialize, Serialize};

/// The `[security]` table: each key optional, the default being the production setting of
/// [`SecurityPolicy`].
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecurityConfig {
    /// Consecutive failed sign-ins that lock an account (default 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_failed_sign_ins: Option<u32>,
    /// Minutes an account stays locked (default 15).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lockout_minutes: Option<i64>,
    /// Sign-in attempts one address may make at once (default 20)…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_in_burst: Option<u32>,
    /// …and one more every this many seconds (default 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_in_refill_seconds: Option<u64>,
    /// Minutes without a request that end a page session (default 30).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_idle_minutes: Option<i64>,
    /// Hours after sign-in that end a page session in any case (default 12).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_absolute_hours: Option<i64>,
    /// Minutes an API token lives (default 120).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_minutes: Option<i64>,
    /// Least length of a password (default 10; never below 8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_min_length: Option<usize>,
    /// Previous passwords that may not be used again (default 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_history: Option<u64>,
    /// Days after which a password must be changed (default: never).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_max_age_days: Option<i64>,
    /// Roles that must sign in with a second factor (default: every bureau, lab and administrator
    /// role; `[]` for none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub second_factor_roles: Option<Vec<String>>,
}

impl SecurityConfig {
    /// The policy, with every problem named in Chinese in `errs`.
    pub(super) fn policy(&self, errs: &mut Vec<String>) -> SecurityPolicy {
        let d = SecurityPolicy::default();
        let second_factor_roles = match &self.second_factor_roles {
            None => d.second_factor_roles.clone(),
            Some(names) => names
                .iter()
                .filter_map(|n| match n.parse::<Role>() {
                    Ok(r) => Some(r),
                    Err(_) => {
                        errs.push(format!("安全配置 security.second_factor_roles 中的角色“{n}”不存在"));
                        None
                    }
                })
                .collect(),
        };
        let mut positive = |name: &str, v: i64| {
            if v <= 0 {
                errs.push(format!("安全配置 security.{name} 须大于 0，收到 {v}"));
            }
        };
        let p = SecurityPolicy {
            max_failed_sign_ins: self.max_failed_sign_ins.unwrap_or(d.max_failed_sign_ins),
            lockout_minutes: self.lockout_minutes.unwrap_or(d.lockout_minutes),
            sign_in_burst: self.sign_in_burst.unwrap_or(d.sign_in_burst),
            sign_in_refill_seconds: self.sign_in_refill_seconds.unwrap_or(d.sign_in_refill_seconds),
            session_idle_minutes: self.session_idle_minutes.unwrap_or(d.session_idle_minutes),
            session_absolute_hours: self.session_absolute_hours.unwrap_or(d.session_absolute_hours),
            token_minutes: self.token_minutes.unwrap_or(d.token_minutes),
            password_min_length: self.password_min_length.unwrap_or(d.password_min_length),
            password_history: self.password_history.unwrap_or(d.password_history),
            password_max_age_days: self.password_max_age_days.or(d.password_max_age_days),
            second_factor_roles,
        };
        positive("max_failed_sign_ins", i64::from(p.max_failed_sign_ins));
        positive("lockout_minutes", p.lockout_minutes);
        positive("sign_in_burst", i64::from(p.sign_in_burst));
        positive("sign_in_refill_seconds", i64::try_from(p.sign_in_refill_seconds).unwrap_or(i64::MAX));
        positive("session_idle_minutes", p.session_idle_minutes);
        positive("session_absolute_hours", p.session_absolute_hours);
        positive("token_minutes", p.token_minutes);
        positive("password_history", i64::try_from(p.password_history).unwrap_or(i64::MAX));
        if let Some(days) = p.password_max_age_days {
            positive("password_max_age_days", days);
        }
        if p.password_min_length < 8 {
            errs.push(format!("安全配置 security.password_min_length 不能小于 8，收到 {}", p.password_min_length));
        }
        p
    }
}
