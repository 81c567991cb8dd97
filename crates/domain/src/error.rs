//! The domain's one error type: a rule that a value or a transition breaks. Each variant carries a
//! stable code (for the API) and a Chinese message (for people).

use std::borrow::Cow;
use std::fmt;

/// A refusal by a domain rule. `code` is stable and machine-readable; `message` is Chinese and names
/// the rule that refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleViolation {
    pub code: &'static str,
    pub message: String,
    /// The field the refusal is about, when there is one (for form errors): a name (`quota`) or,
    /// for an item of a list, its path (`items[2].quota`, counted from 0, see [`RuleViolation::at`]).
    pub field: Option<Cow<'static, str>>,
}

impl RuleViolation {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), field: None }
    }

    pub fn on_field(mut self, field: &'static str) -> Self {
        self.field = Some(Cow::Borrowed(field));
        self
    }

    /// The refusal as one about item `index` (from 0) of the list `list`: `quota` becomes
    /// `items[2].quota`; a refusal without a field is about the item itself (`items[2]`).
    pub fn at(mut self, list: &str, index: usize) -> Self {
        let path = match &self.field {
            Some(f) => format!("{list}[{index}].{f}"),
            None => format!("{list}[{index}]"),
        };
        self.field = Some(Cow::Owned(path));
        self
    }

    /// The item index of list `list` this refusal is about, if its field is such a path.
    pub fn index_in(&self, list: &str) -> Option<usize> {
        let rest = self.field.as_deref()?.strip_prefix(list)?.strip_prefix('[')?;
        rest.split_once(']')?.0.parse().ok()
    }
}

impl fmt::Display for RuleViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)
    }
}

impl std::error::Error for RuleViolation {}

#[cfg(test)]
mod tests {
    use super::RuleViolation;

    #[test]
    fn an_item_refusal_carries_its_indexed_path() {
        let v = RuleViolation::new("invalid_quota", "抽查批次须大于0").on_field("quota").at("items", 2);
        assert_eq!(v.field.as_deref(), Some("items[2].quota"));
        assert_eq!(v.index_in("items"), Some(2));
        assert_eq!(v.index_in("rows"), None);
        let v = RuleViolation::new("x", "y").at("items", 0);
        assert_eq!(v.field.as_deref(), Some("items[0]"));
        assert_eq!(RuleViolation::new("x", "y").on_field("items").index_in("items"), None);
    }
}
