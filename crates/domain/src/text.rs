//! Which characters a text typed or uploaded by a person may hold. Control characters (Unicode
//! category Cc) other than tab and line breaks have no place in a name, an address or a note: NUL
//! is refused by PostgreSQL (`invalid byte sequence for encoding "UTF8": 0x00`) and stored by
//! SQLite, the others print as nothing or garble the forms. The bidirectional overrides and
//! isolates (U+202A–U+202E, U+2066–U+2069) are refused too: they reorder what a printed form shows
//! without changing what is stored, the classic spoofing of names and numbers. Every edge that
//! takes text (the HTTP layer, uploaded tables, the CLI) asks [`forbidden_char`] once.

/// The first character a text input may not hold, with its character index (0-based), or `None`.
pub fn forbidden_char(text: &str) -> Option<(usize, char)> {
    text.chars().enumerate().find(|&(_, c)| is_forbidden(c))
}

/// Whether `phone` reads as a telephone number (0352-1234567, 13912345678, 0352-1234567转801):
/// at least seven digits, at most 30 characters, digits and the usual separators only.
pub fn is_phone(phone: &str) -> bool {
    let phone = phone.trim();
    phone.chars().filter(char::is_ascii_digit).count() >= 7
        && phone.chars().count() <= 30
        && phone.chars().all(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | ' ' | '(' | ')' | '（' | '）' | '转'))
}

/// Whether `c` is refused in text input: a control character other than tab, line feed and
/// carriage return, or a bidirectional override or isolate.
pub fn is_forbidden(c: char) -> bool {
    (c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// How a refused character is named to a person: its code point, e.g. `U+0000`.
pub fn code_point(c: char) -> String {
    format!("U+{:04X}", u32::from(c))
}

/// The Chinese message for a refused character in a named field.
pub fn refusal_message(field: &str, c: char) -> String {
    if field.is_empty() {
        format!("输入内容含有不允许的控制字符（{}），请删除后重试", code_point(c))
    } else {
        format!("“{field}”含有不允许的控制字符（{}），请删除后重试", code_point(c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_nul_and_other_control_characters() {
        for bad in ["恒信\0羊绒", "\u{1}", "a\u{7f}b", "x\u{85}", "\u{1b}[31m", "\u{202e}gnp.exe", "\u{2066}x"] {
            assert!(forbidden_char(bad).is_some(), "{bad:?} should be refused");
        }
        assert_eq!(forbidden_char("恒信\0羊绒"), Some((2, '\0')));
    }

    #[test]
    fn allows_tabs_line_breaks_and_ordinary_chinese_text() {
        for good in [
            "大同市平城区恒信羊绒制品有限公司",
            "第一行\r\n第二行\t制表",
            "GB 19147-2016 《车用柴油》",
            "zero\u{200b}width",
            "",
        ] {
            assert_eq!(forbidden_char(good), None, "{good:?} should be allowed");
        }
    }

    #[test]
    fn names_the_field_and_the_code_point() {
        assert_eq!(refusal_message("name", '\0'), "“name”含有不允许的控制字符（U+0000），请删除后重试");
        assert_eq!(code_point('\u{202e}'), "U+202E");
    }
}
