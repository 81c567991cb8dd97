//! The domain's one error type: a rule that a value or a transition breaks. Each variant carries a
//! stable code (for the API) and a Chinese message (for people).

use std::fmt;

/// A refusal by a domain rule. `code` is stable and machine-readable; `message` is Chinese and names
/// the rule that refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleViolation {
    pub code: &'static str,
    pub message: String,
    /// The field the refusal is about, when there is one (for form errors).
    pub field: Option<&'static str>,
}

impl RuleViolation {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), field: None }
    }

    pub fn on_field(mut self, field: &'static str) -> Self {
        self.field = Some(field);
        self
    }
}

impl fmt::Display for RuleViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)
    }
}

impl std::error::Error for RuleViolation {}
