//! 统一社会信用代码 (USCC), GB 32100-2015: 18 characters from a 31-character alphabet (no I, O, S, V,
//! Z); characters 3–8 hold the registering division's code (GB/T 2260); the 18th is a check
//! character computed with weights 3^(i) mod 31 over the first 17.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::RuleViolation;
use crate::division::DivisionCode;

/// The alphabet of GB 32100, in value order (0–30).
pub const ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/// A USCC whose alphabet, division part and check character are valid. Valid by construction.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Uscc(String);

fn value_of(c: char) -> Option<u32> {
    ALPHABET.find(c).map(|i| i as u32)
}

/// The check character (18th) for the first 17 characters, which must be in the alphabet.
pub fn check_char(first17: &str) -> Option<char> {
    if first17.chars().count() != 17 {
        return None;
    }
    let mut sum = 0u32;
    for (c, w) in first17.chars().zip(WEIGHTS) {
        sum += value_of(c)? * w;
    }
    let v = (31 - sum % 31) % 31;
    ALPHABET.chars().nth(v as usize)
}

impl Uscc {
    pub fn parse(input: &str) -> Result<Self, RuleViolation> {
        let s: String = input.trim().to_uppercase();
        let err = |msg: String| RuleViolation::new("invalid_uscc", msg).on_field("uscc");
        let n = s.chars().count();
        if n != 18 {
            return Err(err(format!("统一社会信用代码应为18位，“{}”为{}位", input.trim(), n)));
        }
        if let Some((pos, c)) = s.chars().enumerate().find(|(_, c)| value_of(*c).is_none()) {
            return Err(err(format!("统一社会信用代码第{}位“{}”不是合法字符（不使用I、O、S、V、Z）", pos + 1, c)));
        }
        let division = &s[2..8];
        if DivisionCode::parse(division).is_err() {
            return Err(err(format!("统一社会信用代码第3至8位“{division}”不是有效的行政区划代码")));
        }
        let expected = check_char(&s[..17]).ok_or_else(|| err("统一社会信用代码格式错误".into()))?;
        let actual = s.chars().nth(17).unwrap_or('?');
        if expected != actual {
            return Err(err(format!("统一社会信用代码校验位错误：第18位应为“{expected}”，实为“{actual}”（GB 32100）")));
        }
        Ok(Uscc(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The registering division (characters 3–8).
    pub fn division(&self) -> DivisionCode {
        DivisionCode::parse(&self.0[2..8]).unwrap_or_else(|_| DivisionCode::unchecked(&self.0[2..8]))
    }

    /// Build a valid USCC from its first 17 characters (used by synthetic data and tests).
    pub fn from_first17(first17: &str) -> Result<Self, RuleViolation> {
        let c = check_char(first17)
            .ok_or_else(|| RuleViolation::new("invalid_uscc", "前17位含非法字符或长度不符").on_field("uscc"))?;
        Uscc::parse(&format!("{first17}{c}"))
    }
}

impl fmt::Display for Uscc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Uscc {
    type Error = RuleViolation;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Uscc::parse(&s)
    }
}

impl From<Uscc> for String {
    fn from(u: Uscc) -> String {
        u.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_published_example() {
        // The example of GB 32100 guidance material.
        let u = Uscc::parse("91350100M000100Y43").expect("valid");
        assert_eq!(u.division().as_str(), "350100");
        // Lower case is normalised.
        assert!(Uscc::parse(" 91350100m000100y43 ").is_ok());
    }

    #[test]
    fn refuses_wrong_check_character_with_the_expected_one() {
        let e = Uscc::parse("91350100M000100Y44").unwrap_err();
        assert_eq!(e.code, "invalid_uscc");
        assert!(e.message.contains("第18位应为“3”"), "{}", e.message);
    }

    #[test]
    fn refuses_bad_length_alphabet_and_division() {
        assert!(Uscc::parse("91350100M000100Y4").unwrap_err().message.contains("18位"));
        assert!(Uscc::parse("91350100M000100I43").unwrap_err().message.contains("第16位"));
        assert!(Uscc::parse("91000000M000100Y43").unwrap_err().message.contains("行政区划"));
    }

    #[test]
    fn builds_from_first17() {
        let u = Uscc::from_first17("91140213MA0K12345").expect("valid");
        assert_eq!(u.division().as_str(), "140213");
        assert!(Uscc::parse(u.as_str()).is_ok());
    }
}
