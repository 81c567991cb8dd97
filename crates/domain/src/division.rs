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

/// Names of divisions (GB/T 2260): the provinces, Shanxi's cities, and the districts and counties
/// of Datong (with its development zone, whose code is the zone's own). Pages and documents show
/// these names instead of codes (`name_of`).
pub const NAMES: &[(&str, &str)] = &[
    ("110000", "北京市"),
    ("120000", "天津市"),
    ("130000", "河北省"),
    ("140000", "山西省"),
    ("150000", "内蒙古自治区"),
    ("210000", "辽宁省"),
    ("220000", "吉林省"),
    ("230000", "黑龙江省"),
    ("310000", "上海市"),
    ("320000", "江苏省"),
    ("330000", "浙江省"),
    ("340000", "安徽省"),
    ("350000", "福建省"),
    ("360000", "江西省"),
    ("370000", "山东省"),
    ("410000", "河南省"),
    ("420000", "湖北省"),
    ("430000", "湖南省"),
    ("440000", "广东省"),
    ("450000", "广西壮族自治区"),
    ("460000", "海南省"),
    ("500000", "重庆市"),
    ("510000", "四川省"),
    ("520000", "贵州省"),
    ("530000", "云南省"),
    ("540000", "西藏自治区"),
    ("610000", "陕西省"),
    ("620000", "甘肃省"),
    ("630000", "青海省"),
    ("640000", "宁夏回族自治区"),
    ("650000", "新疆维吾尔自治区"),
    ("710000", "台湾省"),
    ("810000", "香港特别行政区"),
    ("820000", "澳门特别行政区"),
    ("140100", "太原市"),
    ("140200", "大同市"),
    ("140300", "阳泉市"),
    ("140400", "长治市"),
    ("140500", "晋城市"),
    ("140600", "朔州市"),
    ("140700", "晋中市"),
    ("140800", "运城市"),
    ("140900", "忻州市"),
    ("141000", "临汾市"),
    ("141100", "吕梁市"),
    ("140212", "新荣区"),
    ("140213", "平城区"),
    ("140214", "云冈区"),
    ("140215", "云州区"),
    ("140221", "阳高县"),
    ("140222", "天镇县"),
    ("140223", "广灵县"),
    ("140224", "灵丘县"),
    ("140225", "浑源县"),
    ("140226", "左云县"),
    ("140271", "大同经济技术开发区"),
];

fn known(code: &str) -> Option<&'static str> {
    NAMES.iter().find(|(c, _)| *c == code).map(|(_, n)| *n)
}

/// A division code as people read it: 大同市平城区, 大同市, 山西省; a county the table does not
/// know is named by its city with the code (大同市 140299); an unknown code is shown as it is.
pub fn name_of(code: &str) -> String {
    let code = code.trim();
    if code.len() != 6 || !code.is_ascii() {
        return code.to_string();
    }
    let city_code = format!("{}00", &code[..4]);
    let province_code = format!("{}0000", &code[..2]);
    match known(code) {
        Some(n) if code.ends_with("0000") => n.to_string(),
        Some(n) if code.ends_with("00") => n.to_string(),
        Some(n) if n.contains("开发区") => n.to_string(),
        Some(n) => format!("{}{n}", known(&city_code).unwrap_or_default()),
        None => match known(&city_code).or_else(|| known(&province_code)) {
            Some(n) => format!("{n} {code}"),
            None => code.to_string(),
        },
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

    #[test]
    fn divisions_are_named() {
        assert_eq!(super::name_of("140213"), "大同市平城区");
        assert_eq!(super::name_of("140200"), "大同市");
        assert_eq!(super::name_of("140000"), "山西省");
        assert_eq!(super::name_of("140271"), "大同经济技术开发区");
        assert_eq!(super::name_of("140299"), "大同市 140299");
        assert_eq!(super::name_of("990101"), "990101");
    }
}
