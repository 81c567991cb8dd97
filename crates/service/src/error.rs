//! The service's error: what the web layer maps once to HTTP status, `{code, message}` JSON and
//! page messages. Internal errors are logged with an id; their text never reaches a user.

use choucha_domain::RuleViolation;
use choucha_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("请先登录")]
    Unauthenticated,
    #[error("用户名或密码错误，或账号因多次输错密码已被暂时锁定，请稍后再试或联系管理员")]
    BadCredentials,
    #[error("{0}")]
    Forbidden(String),
    /// The password was right and the account has a second factor: the code is asked for.
    #[error("该账号已启用动态验证码：请输入验证器应用中当前显示的6位数字（或一个恢复码）")]
    SecondFactorRequired,
    /// The code given with a right password is wrong or used (counts towards the lock).
    #[error("动态验证码不正确或已使用，请输入验证器应用中当前显示的6位数字")]
    BadSecondFactor,
    /// The deployment requires a second factor of this user's roles and none is enrolled yet: only
    /// the enrolment is open.
    #[error("按本系统的安全策略，您的角色须使用动态验证码登录：请先在“账号安全 → 动态验证码”页面绑定验证器")]
    SecondFactorEnrolmentRequired,
    #[error("{0}不存在")]
    NotFound(&'static str),
    /// Input that fails validation: every problem, with the field it concerns.
    #[error("{}", .0.first().map(|v| v.message.as_str()).unwrap_or("输入有误"))]
    Invalid(Vec<RuleViolation>),
    /// A rule of DESIGN.md refuses the action.
    #[error("{0}")]
    Rule(RuleViolation),
    #[error("{0}")]
    Duplicate(String),
    #[error("数据已被他人修改，请刷新后重试")]
    Conflict,
    #[error("服务器内部错误（错误编号 {0}），请联系管理员")]
    Internal(String),
}

impl ServiceError {
    pub fn forbidden() -> Self {
        ServiceError::Forbidden("无权执行此操作".into())
    }

    pub fn invalid(v: RuleViolation) -> Self {
        ServiceError::Invalid(vec![v])
    }

    /// Stable, machine-readable code for the API.
    pub fn code(&self) -> &'static str {
        match self {
            ServiceError::Unauthenticated => "unauthenticated",
            ServiceError::BadCredentials => "bad_credentials",
            ServiceError::Forbidden(_) => "forbidden",
            ServiceError::SecondFactorRequired => "second_factor_required",
            ServiceError::BadSecondFactor => "bad_second_factor",
            ServiceError::SecondFactorEnrolmentRequired => "second_factor_enrolment_required",
            ServiceError::NotFound(_) => "not_found",
            ServiceError::Invalid(v) => v.first().map(|v| v.code).unwrap_or("invalid"),
            ServiceError::Rule(v) => v.code,
            ServiceError::Duplicate(_) => "duplicate",
            ServiceError::Conflict => "conflict",
            ServiceError::Internal(_) => "internal",
        }
    }

    /// An uploaded table that could not be read: `file_too_large` when it exceeds a bound of
    /// `ReadLimits` (issue 13), else `code`; always a 422 on the `file` field. `prefix` goes before
    /// the reader's message of an unreadable file.
    pub fn unreadable_table(code: &'static str, prefix: &str, e: choucha_documents::DocumentError) -> Self {
        let v = match e {
            choucha_documents::DocumentError::TooLarge(_) => RuleViolation::new("file_too_large", e.to_string()),
            choucha_documents::DocumentError::ControlCharacter { .. } => {
                RuleViolation::new("control_character", e.to_string())
            }
            other => RuleViolation::new(code, format!("{prefix}{other}")),
        };
        ServiceError::invalid(v.on_field("file"))
    }

    /// For `map_err` on a store read of one object: a missing row is "`what`不存在" (404), anything
    /// else (a database outage, a corrupt row) stays an internal error instead of a silent 404.
    pub fn not_found(what: &'static str) -> impl FnOnce(StoreError) -> ServiceError {
        move |e| match e {
            StoreError::NotFound => ServiceError::NotFound(what),
            other => ServiceError::from(other),
        }
    }

    /// A refusal shown as "not found" (a caller with no relation must not learn the object
    /// exists); any other error (a database outage) passes through unchanged.
    pub fn hidden(what: &'static str) -> impl FnOnce(ServiceError) -> ServiceError {
        move |e| match e {
            ServiceError::Forbidden(_) | ServiceError::NotFound(_) | ServiceError::Unauthenticated => {
                ServiceError::NotFound(what)
            }
            other => other,
        }
    }

    /// An internal error: logged with a short id that the user can quote.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        let id = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
        tracing::error!(error_id = %id, "internal error: {detail}");
        ServiceError::Internal(id)
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ServiceError::NotFound("记录"),
            StoreError::Duplicate(_) => ServiceError::Duplicate("记录已存在（重复）".into()),
            StoreError::Conflict => ServiceError::Conflict,
            other => ServiceError::internal(other),
        }
    }
}

impl From<RuleViolation> for ServiceError {
    fn from(v: RuleViolation) -> Self {
        if v.field.is_some() { ServiceError::Invalid(vec![v]) } else { ServiceError::Rule(v) }
    }
}
