//! 行政区划代码 (GB/T 2260): six digits, province (2) + city (2) + county (2).

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::RuleViolation;

/// Province-level prefixes in GB/T 2260.
const PROVINCES: [&str; 34] = [
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42", "43", "44",
    "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82",
];

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DivisionCode(String);

impl DivisionCode {
    pub fn parse(input: &str) -> Result<Self, RuleViolation> {
        let s = input.trim();
        if s.len() != 6 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(RuleViolation::new("invalid_division", format!("行政区划代码“{s}”应为6位数字"))
                .on_field("division_code"));
        }
        if !PROVINCES.contains(&&s[..2]) {
            return Err(RuleViolation::new(
                "invalid_division",
                format!("行政区划代码“{s}”的省级代码“{}”不存在", &s[..2]),
            )
            .on_field("division_code"));
        }
        Ok(DivisionCode(s.to_string()))
    }

    pub(crate) fn unchecked(s: &str) -> Self {
        DivisionCode(s.to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The prefix that selects this division and everything under it: "14" for a province,
    /// "1402" for a city, the full code for a county.
    pub fn scope_prefix(&self) -> &str {
        if self.0.ends_with("0000") {
            &self.0[..2]
        } else if self.0.ends_with("00") {
            &self.0[..4]
        } else {
            &self.0
        }
    }

    pub fn contains(&self, other: &DivisionCode) -> bool {
        other.0.starts_with(self.scope_prefix())
    }
}

impl fmt::Display for DivisionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for DivisionCode {
    type Error = RuleViolation;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        DivisionCode::parse(&s)
    }
}

impl From<DivisionCode> for String {
    fn from(d: DivisionCode) -> String {
        d.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_scopes() {
        let shanxi = DivisionCode::parse("140000").expect("ok");
        let datong = DivisionCode::parse("140200").expect("ok");
        let pingcheng = DivisionCode::parse("140213").expect("ok");
        assert!(shanxi.contains(&pingcheng));
        assert!(datong.contains(&pingcheng));
        assert!(!pingcheng.contains(&datong));
        assert!(!DivisionCode::parse("130200").expect("ok").contains(&pingcheng));
        assert!(DivisionCode::parse("14021").is_err());
        assert!(DivisionCode::parse("990000").is_err());
    }
}
