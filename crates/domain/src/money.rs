//! Amounts of money in yuan, held as whole fen (分): parsed exactly from what people type, shown
//! with two decimals (or without them when whole, for forms).

/// Parses an amount in yuan: digits, an optional point with at most two decimals, thousands
/// separators (`,` `，`) allowed. `None` when it is not such an amount or is absurdly large.
pub fn parse_yuan(s: &str) -> Option<i64> {
    let t: String = s.trim().chars().filter(|c| *c != ',' && *c != '，').collect();
    let (int, dec) = t.split_once('.').unwrap_or((&t, ""));
    if int.is_empty() || int.len() > 13 || !int.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    if dec.len() > 2 || !dec.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let y: i64 = int.parse().ok()?;
    let f: i64 = if dec.is_empty() { 0 } else { format!("{dec:0<2}").parse().ok()? };
    y.checked_mul(100)?.checked_add(f)
}

/// Fen as yuan with two decimals: 120050 → "1200.50", -5 → "-0.05".
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", fen.abs() / 100, fen.abs() % 100)
}

/// Fen as yuan, without decimals when whole (what a form shows back): 10000 → "100", 10050 → "100.50".
pub fn yuan_compact(fen: i64) -> String {
    if fen % 100 == 0 { format!("{}", fen / 100) } else { yuan(fen) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_parse_exactly_and_show_with_two_decimals() {
        assert_eq!(parse_yuan("1200"), Some(120000));
        assert_eq!(parse_yuan(" 1,200.5 "), Some(120050));
        assert_eq!(parse_yuan("0.01"), Some(1));
        assert_eq!(parse_yuan("0"), Some(0));
        for bad in ["", "-5", "12.345", "abc", ".5", "1e3", "1.2.3", "99999999999999"] {
            assert_eq!(parse_yuan(bad), None, "{bad:?}");
        }
        assert_eq!(yuan(120050), "1200.50");
        assert_eq!(yuan(-5), "-0.05");
        assert_eq!((yuan_compact(10000), yuan_compact(10050)), ("100".to_string(), "100.50".to_string()));
    }
}
