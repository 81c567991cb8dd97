//! Money on the sampling forms: amounts in fen (分), shown in figures (`1234.50`) and in Chinese
//! capital numerals (`壹仟贰佰叁拾肆元伍角整`) as cheques and receipts require.

use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

/// An amount of money in 人民币, kept in fen (0.01 元) so no float ever rounds it.
///
/// Serialises as `{"figures": "1234.50", "capital": "壹仟贰佰叁拾肆元伍角整"}` for the templates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Amount {
    fen: u64,
}

impl Amount {
    /// The amount of `fen` fen (1 元 = 100 fen).
    pub const fn from_fen(fen: u64) -> Amount {
        Amount { fen }
    }

    /// The amount in fen.
    pub const fn fen(self) -> u64 {
        self.fen
    }

    /// The amount in figures with two decimals, e.g. `1234.50`.
    pub fn figures(self) -> String {
        format!("{}.{:02}", self.fen / 100, self.fen % 100)
    }

    /// The amount in Chinese capital numerals, e.g. `壹仟贰佰叁拾肆元伍角整`, `零元整`,
    /// `壹仟零肆元零伍分`.
    pub fn capital(self) -> String {
        chinese_capital(self.fen)
    }
}

impl std::fmt::Display for Amount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.figures())
    }
}

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut state = serializer.serialize_struct("Amount", 2)?;
        state.serialize_field("figures", &self.figures())?;
        state.serialize_field("capital", &self.capital())?;
        state.end()
    }
}

const DIGITS: [char; 10] = ['零', '壹', '贰', '叁', '肆', '伍', '陆', '柒', '捌', '玖'];
/// Units inside a group of four digits, from the thousands down.
const PLACES: [&str; 4] = ["仟", "佰", "拾", ""];
/// Units of the groups of four digits, from the lowest.
const GROUPS: [&str; 5] = ["", "万", "亿", "万亿", "亿亿"];

/// `fen` fen in capital numerals, following the rules of 《支付结算办法》 (附件 正确填写票据和结算
/// 凭证的基本规定): `整` after 元 or 角 when there are no fen, `零` for a zero 角 before non-zero
/// fen and for zeros inside the yuan figure.
fn chinese_capital(fen: u64) -> String {
    let yuan = fen / 100;
    let jiao = (fen / 10 % 10) as usize;
    let fen = (fen % 10) as usize;
    let mut out = String::new();
    if yuan > 0 {
        out.push_str(&integer_capital(yuan));
        out.push('元');
    }
    if jiao == 0 && fen == 0 {
        if yuan == 0 {
            out.push_str("零元");
        }
        out.push('整');
        return out;
    }
    if jiao > 0 {
        out.push(DIGITS[jiao]);
        out.push('角');
    } else if yuan > 0 {
        out.push('零');
    }
    if fen > 0 {
        out.push(DIGITS[fen]);
        out.push('分');
    } else {
        out.push('整');
    }
    out
}

/// A positive integer in capital numerals with 仟佰拾 and 万/亿 groups (`10` → `壹拾`).
fn integer_capital(mut value: u64) -> String {
    let mut groups = Vec::new();
    while value > 0 {
        groups.push((value % 10_000) as usize);
        value /= 10_000;
    }
    let mut out = String::new();
    let mut zero_pending = false;
    for (index, &group) in groups.iter().enumerate().rev() {
        if group == 0 {
            zero_pending = !out.is_empty();
            continue;
        }
        if !out.is_empty() && (zero_pending || group < 1000) {
            out.push('零');
        }
        zero_pending = false;
        out.push_str(&group_capital(group));
        out.push_str(GROUPS.get(index).copied().unwrap_or_default());
    }
    out
}

/// A group of four digits (1..=9999) without leading zeros, one `零` per run of inner zeros.
fn group_capital(group: usize) -> String {
    let digits = [group / 1000, group / 100 % 10, group / 10 % 10, group % 10];
    let mut out = String::new();
    let mut started = false;
    let mut zero_pending = false;
    for (digit, place) in digits.into_iter().zip(PLACES) {
        if digit == 0 {
            zero_pending = started;
            continue;
        }
        if zero_pending {
            out.push('零');
            zero_pending = false;
        }
        out.push(DIGITS[digit]);
        out.push_str(place);
        started = true;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::Amount;

    fn capital(fen: u64) -> String {
        Amount::from_fen(fen).capital()
    }

    #[test]
    fn writes_capital_numerals() {
        for (fen, expected) in [
            (123_450, "壹仟贰佰叁拾肆元伍角整"),
            (123_400, "壹仟贰佰叁拾肆元整"),
            (123_405, "壹仟贰佰叁拾肆元零伍分"),
            (123_456, "壹仟贰佰叁拾肆元伍角陆分"),
            (100_456, "壹仟零肆元伍角陆分"),
            (3_008, "叁拾元零捌分"),
            (0, "零元整"),
            (5, "伍分"),
            (50, "伍角整"),
            (56, "伍角陆分"),
            (1_000, "壹拾元整"),
            (101_000, "壹仟零壹拾元整"),
            (10_000_000, "壹拾万元整"),
            (10_001_000, "壹拾万零壹拾元整"),
            (10_000_100, "壹拾万零壹元整"),
            (100_000_000, "壹佰万元整"),
            (1_000_000_000, "壹仟万元整"),
            (10_000_000_000, "壹亿元整"),
            (10_000_000_100, "壹亿零壹元整"),
            (10_001_000_000, "壹亿零壹万元整"),
            (11_000_000_000, "壹亿壹仟万元整"),
            (20_304_050_607, "贰亿零叁佰零肆万零伍佰零陆元零柒分"),
            (100_100_000, "壹佰万壹仟元整"),
        ] {
            assert_eq!(capital(fen), expected, "{fen} fen");
        }
        // The largest amount still has a name.
        assert!(capital(u64::MAX).starts_with("壹拾捌亿亿肆仟肆佰陆拾柒万亿"));
    }

    #[test]
    fn writes_figures() {
        assert_eq!(Amount::from_fen(123_450).figures(), "1234.50");
        assert_eq!(Amount::from_fen(5).to_string(), "0.05");
        assert_eq!(Amount::from_fen(0).figures(), "0.00");
        assert_eq!(
            serde_json::to_value(Amount::from_fen(3_008)).ok(),
            Some(serde_json::json!({ "figures": "30.08", "capital": "叁拾元零捌分" }))
        );
    }
}
