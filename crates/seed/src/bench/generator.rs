//! The seeded generator of the bench data (ChaCha20 from the seed text) and what it makes: registry
//! entries, record fields and blind-code bits.

use choucha_domain::clock;
use choucha_domain::implementation_rules::Limit;
use choucha_domain::sampling::RecordFields;
use choucha_domain::uscc::{ALPHABET, Uscc};
use choucha_service::implementation_rules::{RulesBody, TestItemInput};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use sha2::{Digest, Sha256};

use super::reference::{NAME_CHARS, PRODUCTS, PROVINCES, SHANXI_CITIES, STREETS, TRADES};

/// The generator: every generated value is drawn from it, in a fixed order.
pub struct Gen {
    rng: ChaCha20Rng,
    /// Multiplier offset of the USCC org-code permutation.
    offset: u64,
}

impl Gen {
    pub fn new(seed: &str) -> Gen {
        let digest = Sha256::digest(format!("choucha-bench-data-v1\n{seed}").as_bytes());
        let mut key = [0u8; 32];
        key.copy_from_slice(&digest);
        let mut rng = ChaCha20Rng::from_seed(key);
        let offset = rng.next_u64() % ORG_SPACE;
        Gen { rng, offset }
    }
    pub(super) fn below(&mut self, n: u64) -> u64 {
        choucha_domain::draw::uniform(&mut self.rng, n.max(1))
    }
    pub(super) fn percent(&mut self, p: u64) -> bool {
        self.below(100) < p
    }
    pub(super) fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len() as u64) as usize]
    }
    pub(super) fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u64 = weights.iter().map(|w| u64::from(*w)).sum();
        let mut r = self.below(total);
        for (i, w) in weights.iter().enumerate() {
            if r < u64::from(*w) {
                return i;
            }
            r -= u64::from(*w);
        }
        weights.len() - 1
    }
    pub(super) fn chars(&mut self, set: &str, n: usize) -> String {
        let cs: Vec<char> = set.chars().collect();
        (0..n).map(|_| *self.pick(&cs)).collect()
    }
}

/// 31^7: org codes "MB" + seven characters of the USCC alphabet (the demo uses "MA0…", so the two
/// never collide); index i maps to a distinct code through a multiplicative permutation.
const ORG_SPACE: u64 = 27_512_614_111;

fn org_code(i: u64, offset: u64) -> String {
    let alphabet: Vec<char> = ALPHABET.chars().collect();
    let mut x = (i.wrapping_mul(1_000_003) % ORG_SPACE + offset) % ORG_SPACE;
    let mut s = [' '; 7];
    for c in s.iter_mut().rev() {
        *c = alphabet[(x % 31) as usize];
        x /= 31;
    }
    format!("MB{}", s.iter().collect::<String>())
}

/// County codes of a city: districts 02…, then counties 21….
fn county(g: &mut Gen, province: &str, city: u32) -> String {
    let k = g.below(10) as u32;
    let c = if k < 4 { 2 + k } else { 21 + k - 4 };
    format!("{province}{city:02}{c:02}")
}

/// One registry entry (without id and timestamps).
pub(super) struct GenEnterprise {
    pub uscc: String,
    pub name: String,
    pub division: String,
    pub address: String,
    pub kinds: i32,
    pub size: &'static str,
    pub product_lines: String,
    pub licence_no: Option<String>,
    pub licence_until: Option<NaiveDate>,
    pub ccc: Option<String>,
    pub status: &'static str,
    pub trade: usize,
}

pub(super) fn enterprise(g: &mut Gen, i: u64, as_of: NaiveDate) -> GenEnterprise {
    let p = g.weighted(&PROVINCES.map(|p| p.3));
    let (pcode, pname, cities, _) = PROVINCES[p];
    let city = 1 + g.below(u64::from(cities)) as u32;
    let division = county(g, pcode, city);
    let t = g.weighted(&TRADES.each_ref().map(|t| t.weight));
    let trade = &TRADES[t];
    let suffix = *g.pick(trade.suffixes);
    let place = if pcode == "14" { SHANXI_CITIES[(city - 1) as usize % 11].to_string() } else { pname.to_string() };
    let name = format!("{place}{}{suffix}", g.chars(NAME_CHARS, 3));
    let company = suffix.contains("公司") || suffix.ends_with("加油站");
    let first17 = format!("{}{division}{}", if company { "91" } else { "92" }, org_code(i, g.offset));
    let uscc = Uscc::from_first17(&first17).map(|u| u.to_string()).unwrap_or(first17);
    let mut products = vec![trade.products[0]];
    for pr in &trade.products[1..] {
        if g.percent(50) {
            products.push(pr);
        }
    }
    let producer = trade.kinds & 1 != 0;
    let (licence_no, licence_until) = match trade.licence {
        Some(prefix) if producer && g.percent(85) => {
            let no = format!("{prefix}-{:05}", 10000 + g.below(90000));
            (Some(no), Some(as_of - Duration::days(500) + Duration::days(g.below(2400) as i64)))
        }
        _ => (None, None),
    };
    let ccc = match trade.ccc {
        Some(cat) if producer => Some(format!("{}{}{:08}", 2019 + g.below(7), cat, g.below(100_000_000))),
        _ => None,
    };
    let status = match g.below(100) {
        0..=2 => "suspended",
        3..=4 => "deregistered",
        _ => "operating",
    };
    let size = *g.pick(&["large", "medium", "small", "small", "micro", "micro", "micro"]);
    let address = format!("{pname}{place}{}{}号", g.pick(&STREETS), 1 + g.below(398));
    GenEnterprise {
        uscc,
        name,
        division,
        address,
        kinds: trade.kinds,
        size,
        product_lines: products.join("；"),
        licence_no,
        licence_until,
        ccc,
        status,
        trade: t,
    }
}

pub(super) fn midnight(d: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
}

pub(super) fn record_hash(task_id: i64, version: i32, fields_json: &str) -> String {
    hex::encode(Sha256::digest(format!("{task_id}\n{version}\n{fields_json}").as_bytes()))
}

pub(super) fn rules_body(product: &str, standard: &str, unit: &str) -> RulesBody {
    RulesBody {
        standards: vec![standard.into()],
        test_items: vec![TestItemInput {
            name: "标志和说明".into(),
            method: standard.into(),
            limit: Limit::PassFail,
            unit: String::new(),
            class: Some("A".into()),
        }],
        test_portion: format!("2{unit}"),
        backup_portion: format!("2{unit}"),
        min_base: format!("不少于10{unit}"),
        judgement_principle: format!("{product}全部检验项目符合{standard}要求的，判定为合格"),
        test_quantity: Some(2.0),
        backup_quantity: Some(2.0),
        min_base_quantity: Some(10.0),
        quantity_unit: unit.into(),
        ..Default::default()
    }
}

/// Record fields of a generated sample, valid against `rules_body`.
pub fn record_fields(g: &mut Gen, product: usize, sampled_at: DateTime<Utc>, n: i64) -> RecordFields {
    let (name, _, _, standard, unit, price) = PRODUCTS[product];
    RecordFields {
        product_name: name.into(),
        brand: format!("{}牌", g.chars(NAME_CHARS, 2)),
        model: format!("{}-{}", g.chars("ABCDEFGHJK", 2), 100 + g.below(900)),
        batch: (sampled_at - Duration::days(g.below(200) as i64)).format("%Y%m%d").to_string(),
        standard: standard.into(),
        sampling_base: 10.0 + g.below(5000) as f64,
        test_quantity: 2.0,
        backup_quantity: 2.0,
        unit: unit.into(),
        unit_price: price,
        place: format!("{}号库房", 1 + g.below(9)),
        domain: "circulation".into(),
        sampled_at: clock::beijing_minutes(sampled_at),
        test_seals: vec![format!("FB-{n:08}-1")],
        backup_seals: vec![format!("FB-{n:08}-2")],
        ..Default::default()
    }
}

/// The 40 random bits of the `n`-th generated blind code: a bijection of 0..2^40 (multiply by an
/// odd constant, xor-shift, multiply again, all mod 2^40), so the codes of one year never collide
/// and still look random, as the receipt's codes do (rule 13).
pub(super) fn blind_bits(n: u64, offset: u64) -> u64 {
    const MASK: u64 = (1 << 40) - 1;
    let mut x = (n.wrapping_mul(0x9E37_79B9_7F4B) + offset) & MASK;
    x ^= x >> 21;
    x = x.wrapping_mul(0x5851_F42D_4C95) & MASK;
    x ^= x >> 17;
    x
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn usccs_are_valid_distinct_and_seeded() {
        let day = NaiveDate::from_ymd_opt(2025, 11, 1).unwrap_or_default();
        let mut g = Gen::new("s");
        let a: Vec<String> = (0..2000).map(|i| enterprise(&mut g, i, day).uscc).collect();
        let distinct: HashSet<&String> = a.iter().collect();
        assert_eq!(distinct.len(), a.len());
        for u in &a {
            Uscc::parse(u).unwrap_or_else(|e| panic!("{u}: {e:?}"));
        }
        let mut g2 = Gen::new("s");
        let b: Vec<String> = (0..2000).map(|i| enterprise(&mut g2, i, day).uscc).collect();
        assert_eq!(a, b);
        let mut g3 = Gen::new("t");
        let c: Vec<String> = (0..2000).map(|i| enterprise(&mut g3, i, day).uscc).collect();
        assert_ne!(a, c);
    }
}
