//! `choucha bench-data`: a synthetic national-scale deployment, the same for a given seed and day.
//!
//! On top of the demo deployment (its bureaus, institutions, accounts and published 车用柴油 rules,
//! loaded first when missing) it adds, with bulk inserts:
//! - `--enterprises` registry entries with valid USCCs over real-looking division codes of all 31
//!   provinces (a fifth of them in Shanxi, whose bureaus the demo has), each with kinds, size, product
//!   lines, licences and a status;
//! - 180 samplers of the three sampling institutions (password as the demo's);
//! - plans by the Shanxi bureaus: one of 100,000 samples (20 items) and the rest in plans of 10,000
//!   (10 items), spread over the last year, each item with a published implementation rules version and
//!   its draw record; and a draw plan for Datong (quota left open) that `choucha bench` draws from;
//! - `--samples` sampling tasks in every state with their teams; signed (locked) sampling records with
//!   the signatures of both samplers and the enterprise, draft records of tasks in progress, refusals
//!   (co-signed or pending) and problem reports, and the sealed and dispatched custody events; no
//!   enterprise gets more than two batches of a plan or two of one item (rule 5);
//! - 20 testers, 3 report approvers and a sample custodian per testing institution, and the
//!   laboratory side of sampled tasks (`lab_samples` with unique random-looking blind codes, results,
//!   prepared / reviewed / approved reports, and the received and stored custody events).
//!
//! The generated rows are a deployment snapshot, not user actions: the load writes ONE audit record
//! (`bench_data.load`, with the seed and the counts), so the audit chain stays valid.
//! Deterministic: the generator is ChaCha20 seeded from the seed text; timestamps count back from
//! `--as-of` (default: today, UTC).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use choucha_domain::clock;
use choucha_domain::implementation_rules::{ItemJudgement, Limit, Measured};
use choucha_domain::lab::conclude;
use choucha_domain::sampling::RecordFields;
use choucha_domain::uscc::{ALPHABET, Uscc};
use choucha_service::implementation_rules::{RulesBody, TestItemInput};
use choucha_service::lab::{ReportContent, ReportItem};
use choucha_store::audit::{self, AuditActor, AuditEntry};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use sea_orm::sqlx::{self, Row};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::sink::{Batch, SavedIndex, Sink, V};
use crate::commands::{load_demo, open};
use crate::config::Settings;

/// The marker of generated plans (their document number starts with it).
pub const DOC_PREFIX: &str = "基准数据";
/// Title of the plan `choucha bench` draws from.
pub const DRAW_PLAN_TITLE: &str = "基准数据：大同市随机抽取计划";
/// Prefix of the generated samplers' usernames.
pub const SAMPLER_PREFIX: &str = "bench_s";
/// Prefix of the generated testers' usernames (`bench_t0_00` …), approvers' (`bench_r0_0` …) and
/// custodians' (`bench_c0` …).
pub const TESTER_PREFIX: &str = "bench_t";
const SAMPLERS_PER_ORG: usize = 60;
const TESTERS_PER_ORG: usize = 20;
const APPROVERS_PER_ORG: usize = 3;
const BIG_PLAN_SAMPLES: u64 = 100_000;
const PLAN_SAMPLES: u64 = 10_000;
/// Rows a bulk batch carries.
const BATCH: usize = 20_000;
/// A 1×1 PNG: the signature image of generated signatures.
pub const PNG: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

#[derive(Debug, Clone)]
pub struct DataArgs {
    pub enterprises: u64,
    pub samples: u64,
    pub seed: String,
    pub as_of: Option<NaiveDate>,
}

/// What was generated.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Counts {
    pub enterprises: u64,
    pub users: u64,
    pub plans: u64,
    pub items: u64,
    pub tasks: u64,
    pub records: u64,
    pub signatures: u64,
    pub outcomes: u64,
    pub custody_events: u64,
    pub lab_samples: u64,
    pub lab_results: u64,
    pub lab_reports: u64,
}

// ---------------------------------------------------------------------------------------------
// Reference tables
// ---------------------------------------------------------------------------------------------

/// (code, short name, cities, weight): the 31 provinces of GB/T 2260, weighted roughly by their
/// number of market entities; Shanxi's weight makes it a fifth of the registry.
const PROVINCES: [(&str, &str, u32, u32); 31] = [
    ("11", "北京", 16, 30),
    ("12", "天津", 16, 15),
    ("13", "河北", 11, 40),
    ("14", "山西", 11, 250),
    ("15", "内蒙古", 12, 15),
    ("21", "辽宁", 14, 25),
    ("22", "吉林", 9, 15),
    ("23", "黑龙江", 13, 15),
    ("31", "上海", 16, 30),
    ("32", "江苏", 13, 75),
    ("33", "浙江", 11, 65),
    ("34", "安徽", 16, 40),
    ("35", "福建", 9, 35),
    ("36", "江西", 11, 25),
    ("37", "山东", 16, 70),
    ("41", "河南", 17, 55),
    ("42", "湖北", 13, 35),
    ("43", "湖南", 14, 35),
    ("44", "广东", 21, 95),
    ("45", "广西", 14, 25),
    ("46", "海南", 4, 10),
    ("50", "重庆", 12, 20),
    ("51", "四川", 18, 45),
    ("52", "贵州", 9, 20),
    ("53", "云南", 16, 25),
    ("54", "西藏", 7, 3),
    ("61", "陕西", 10, 25),
    ("62", "甘肃", 14, 10),
    ("63", "青海", 8, 3),
    ("64", "宁夏", 5, 5),
    ("65", "新疆", 14, 12),
];

/// Shanxi's cities (GB/T 2260 1401…1411), for names and the bureaus of the demo.
const SHANXI_CITIES: [&str; 11] =
    ["太原市", "大同市", "阳泉市", "长治市", "晋城市", "朔州市", "晋中市", "运城市", "忻州市", "临汾市", "吕梁市"];

/// Demo codes of Shanxi's city bureaus, in city order (1401 … 1411).
const CITY_BUREAUS: [&str; 11] =
    ["ty-amr", "dt-amr", "yq-amr", "cz-amr", "jc-amr", "sz-amr", "jz-amr", "yc-amr", "xz-amr", "lf-amr", "ll-amr"];

struct Trade {
    /// producer 1, seller 2, fuel station 4, e-commerce 8
    kinds: i32,
    suffixes: &'static [&'static str],
    products: &'static [&'static str],
    weight: u32,
    licence: Option<&'static str>,
    ccc: Option<&'static str>,
}

const TRADES: [Trade; 12] = [
    Trade {
        kinds: 2 | 4,
        suffixes: &["加油站", "石化加油站", "能源有限公司"],
        products: &["车用柴油", "车用汽油"],
        weight: 6,
        licence: None,
        ccc: None,
    },
    Trade {
        kinds: 1,
        suffixes: &["电器有限公司", "家电制造有限公司"],
        products: &["电冰箱", "家用电动洗衣机", "电热水器"],
        weight: 5,
        licence: None,
        ccc: Some("0107"),
    },
    Trade {
        kinds: 2,
        suffixes: &["家电商场", "电器商行", "家电销售有限公司"],
        products: &["电冰箱", "家用电动洗衣机", "电热水器", "电饭锅"],
        weight: 10,
        licence: None,
        ccc: None,
    },
    Trade {
        kinds: 1 | 2,
        suffixes: &["羊绒制品有限公司", "毛纺有限公司", "针织厂"],
        products: &["羊绒针织衫", "围巾披肩"],
        weight: 5,
        licence: None,
        ccc: None,
    },
    Trade {
        kinds: 1,
        suffixes: &["服饰有限公司", "制衣厂"],
        products: &["羽绒服装", "童装", "衬衫"],
        weight: 8,
        licence: None,
        ccc: None,
    },
    Trade {
        kinds: 1,
        suffixes: &["电缆有限公司", "线缆有限公司"],
        products: &["电线电缆"],
        weight: 3,
        licence: Some("XK06-001"),
        ccc: Some("0101"),
    },
    Trade {
        kinds: 1,
        suffixes: &["建材有限公司", "水泥有限公司"],
        products: &["水泥", "建筑防水卷材"],
        weight: 4,
        licence: Some("XK08-001"),
        ccc: None,
    },
    Trade {
        kinds: 1,
        suffixes: &["塑业有限公司", "管业有限公司"],
        products: &["塑料管材", "食品用塑料包装"],
        weight: 4,
        licence: Some("XK16-204"),
        ccc: None,
    },
    Trade {
        kinds: 1 | 2,
        suffixes: &["玩具有限公司", "童车厂"],
        products: &["儿童玩具", "童车"],
        weight: 3,
        licence: None,
        ccc: Some("2201"),
    },
    Trade {
        kinds: 1 | 2,
        suffixes: &["车业有限公司", "电动车商行"],
        products: &["电动自行车", "头盔"],
        weight: 4,
        licence: None,
        ccc: Some("1119"),
    },
    Trade {
        kinds: 2,
        suffixes: &["商贸有限公司", "超市", "百货商店"],
        products: &["电饭锅", "衬衫", "童装", "头盔", "儿童玩具", "食品用塑料包装"],
        weight: 40,
        licence: None,
        ccc: None,
    },
    Trade {
        kinds: 2 | 8,
        suffixes: &["电子商务有限公司", "网络科技有限公司"],
        products: &["电饭锅", "童装", "儿童玩具", "电热水器"],
        weight: 8,
        licence: None,
        ccc: None,
    },
];

const NAME_CHARS: &str = "华鑫源泰恒盛兴隆昌达丰瑞祥宏嘉德福顺通安康宁晋汾云岳龙凤金银明亮光辉新宇腾飞远航博雅诚信志诚永久美佳旺鼎润泽汇聚中天合众创科";
const STREETS: [&str; 8] = ["解放路", "建设路", "人民路", "迎宾街", "文化路", "和平街", "新华街", "开源路"];
const SURNAMES: &str = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程";

/// (product, category, scopes, standard, unit, price)
const PRODUCTS: [(&str, &str, &str, &str, &str, f64); 20] = [
    ("车用柴油", "石油产品", "销售者、加油站", "GB 19147-2016", "L", 7.35),
    ("车用汽油", "石油产品", "销售者、加油站", "GB 17930-2016", "L", 7.90),
    ("电冰箱", "家用电器", "生产者、销售者", "GB 4706.13-2014", "台", 2399.0),
    ("家用电动洗衣机", "家用电器", "生产者、销售者", "GB 4706.24-2008", "台", 1599.0),
    ("电热水器", "家用电器", "生产者、销售者", "GB 4706.12-2006", "台", 1299.0),
    ("电饭锅", "家用电器", "生产者、销售者", "GB 4706.19-2008", "台", 299.0),
    ("羊绒针织衫", "纺织品", "生产者、销售者", "GB/T 29862-2013", "件", 899.0),
    ("围巾披肩", "纺织品", "生产者、销售者", "FZ/T 73009-2021", "条", 399.0),
    ("羽绒服装", "纺织品", "生产者", "GB/T 14272-2021", "件", 699.0),
    ("童装", "纺织品", "生产者、销售者", "GB 31701-2015", "件", 129.0),
    ("衬衫", "纺织品", "生产者、销售者", "GB/T 2660-2017", "件", 199.0),
    ("电线电缆", "电工及材料", "生产者", "GB/T 5023-2008", "卷", 320.0),
    ("水泥", "建筑材料", "生产者", "GB 175-2023", "kg", 0.5),
    ("建筑防水卷材", "建筑材料", "生产者", "GB 12952-2011", "卷", 180.0),
    ("塑料管材", "建筑材料", "生产者", "GB/T 10002.1-2023", "m", 18.0),
    ("食品用塑料包装", "食品相关产品", "生产者、销售者", "GB 4806.7-2023", "个", 2.0),
    ("儿童玩具", "儿童用品", "生产者、销售者", "GB 6675.1-2014", "件", 89.0),
    ("童车", "儿童用品", "生产者、销售者", "GB 14748-2006", "辆", 459.0),
    ("电动自行车", "交通用品", "生产者、销售者", "GB 17761-2018", "辆", 2599.0),
    ("头盔", "交通用品", "生产者、销售者", "GB 811-2022", "个", 99.0),
];

/// Position of a product in the generated product list (0 when unknown).
pub fn product_index(product: &str) -> usize {
    PRODUCTS.iter().position(|p| p.0 == product).unwrap_or(0)
}

/// The trades that hold a product (for the enterprises a task of that product goes to).
fn trades_of(product: &str) -> Vec<usize> {
    TRADES.iter().enumerate().filter(|(_, t)| t.products.contains(&product)).map(|(i, _)| i).collect()
}

// ---------------------------------------------------------------------------------------------
// The generator
// ---------------------------------------------------------------------------------------------

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
    fn below(&mut self, n: u64) -> u64 {
        choucha_domain::draw::uniform(&mut self.rng, n.max(1))
    }
    fn percent(&mut self, p: u64) -> bool {
        self.below(100) < p
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len() as u64) as usize]
    }
    fn weighted(&mut self, weights: &[u32]) -> usize {
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
    fn chars(&mut self, set: &str, n: usize) -> String {
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
pub struct GenEnterprise {
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

pub fn enterprise(g: &mut Gen, i: u64, as_of: NaiveDate) -> GenEnterprise {
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

fn midnight(d: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
}

fn record_hash(task_id: i64, version: i32, fields_json: &str) -> String {
    hex::encode(Sha256::digest(format!("{task_id}\n{version}\n{fields_json}").as_bytes()))
}

fn rules_body(product: &str, standard: &str, unit: &str) -> RulesBody {
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
pub fn blind_bits(n: u64, offset: u64) -> u64 {
    const MASK: u64 = (1 << 40) - 1;
    let mut x = (n.wrapping_mul(0x9E37_79B9_7F4B) + offset) & MASK;
    x ^= x >> 21;
    x = x.wrapping_mul(0x5851_F42D_4C95) & MASK;
    x ^= x >> 17;
    x
}

// ---------------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------------

const ENTERPRISE_COLS: [&str; 14] = [
    "id",
    "uscc",
    "name",
    "division_code",
    "address",
    "kinds",
    "size_class",
    "product_lines",
    "licence_no",
    "licence_valid_until",
    "ccc_cert_no",
    "status",
    "created_at",
    "updated_at",
];
const TASK_COLS: [&str; 9] =
    ["id", "plan_id", "item_id", "draw_id", "enterprise_id", "state", "due_date", "created_at", "updated_at"];
const MEMBER_COLS: [&str; 2] = ["task_id", "user_id"];
const RECORD_COLS: [&str; 11] = [
    "id",
    "task_id",
    "version",
    "state",
    "fields_json",
    "record_hash",
    "diff_json",
    "correction_reason",
    "created_by",
    "created_at",
    "locked_at",
];
const SIGNATURE_COLS: [&str; 13] = [
    "id",
    "record_id",
    "signer",
    "user_id",
    "signer_name",
    "image_b64",
    "image_sha256",
    "refused",
    "refusal_reason",
    "witness_name",
    "witness_image_b64",
    "record_hash",
    "signed_at",
];
const OUTCOME_COLS: [&str; 9] = [
    "id",
    "task_id",
    "kind",
    "details_json",
    "created_by",
    "created_at",
    "cosigned_by",
    "cosigned_at",
    "cosign_opinion",
];
const CUSTODY_COLS: [&str; 14] = [
    "id",
    "task_id",
    "portion",
    "kind",
    "seal_state",
    "location",
    "mode",
    "carrier",
    "tracking_no",
    "note",
    "actor_id",
    "actor_name",
    "happened_at",
    "created_at",
];

// Only the columns of m0006_lab: later migrations add columns with defaults.
const LAB_SAMPLE_COLS: [&str; 30] = [
    "id",
    "task_id",
    "plan_id",
    "item_id",
    "testing_org_id",
    "screening_org_id",
    "rules_version_id",
    "blind_code",
    "state",
    "received_at",
    "received_by",
    "delivered_by",
    "carrier",
    "tracking_no",
    "receipt_json",
    "reject_reason",
    "backup_location",
    "licence_required",
    "licence_state",
    "licence_note",
    "tester_id",
    "testing_ended_on",
    "results_due",
    "results_completed_at",
    "results_late",
    "qualified",
    "conclusion",
    "pending_correction",
    "created_at",
    "updated_at",
];
const LAB_RESULT_COLS: [&str; 15] = [
    "id",
    "sample_id",
    "item_index",
    "item_name",
    "unit",
    "requirement",
    "limit_json",
    "measured_json",
    "display",
    "method",
    "instrument",
    "judgement",
    "tested_on",
    "entered_by",
    "entered_at",
];
const LAB_REPORT_COLS: [&str; 17] = [
    "id",
    "sample_id",
    "testing_org_id",
    "version",
    "state",
    "report_no",
    "content_json",
    "prepared_by",
    "prepared_at",
    "reviewed_by",
    "reviewed_at",
    "approved_by",
    "approved_at",
    "pdf_path",
    "pdf_sha256",
    "supersedes_id",
    "correction_reason",
];

/// Tables whose secondary indexes are dropped during the load.
const BULK_TABLES: [&str; 10] = [
    "enterprises",
    "sampling_tasks",
    "sampling_task_members",
    "sampling_records",
    "record_signatures",
    "task_outcomes",
    "custody_events",
    "lab_samples",
    "lab_results",
    "lab_reports",
];
const ID_TABLES: [&str; 16] = [
    "enterprises",
    "users",
    "plans",
    "quota_groups",
    "plan_items",
    "rules_versions",
    "draws",
    "sampling_tasks",
    "sampling_records",
    "record_signatures",
    "task_outcomes",
    "custody_events",
    "organisations",
    "lab_samples",
    "lab_results",
    "lab_reports",
];

struct Org {
    id: i64,
}

async fn orgs(sink: &Sink) -> anyhow::Result<BTreeMap<String, Org>> {
    let rows: Vec<(i64, String)> = match sink {
        Sink::Pg(p) => sqlx::query("SELECT id, code FROM organisations")
            .fetch_all(p)
            .await?
            .into_iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<_, sqlx::Error>>()?,
        Sink::Lite(p) => sqlx::query("SELECT id, code FROM organisations")
            .fetch_all(p)
            .await?
            .into_iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<_, sqlx::Error>>()?,
    };
    Ok(rows.into_iter().map(|(id, code)| (code, Org { id })).collect())
}

async fn user_id(sink: &Sink, username: &str) -> anyhow::Result<i64> {
    let id = sink.scalar_i64(&format!("SELECT MAX(id) FROM users WHERE username = '{username}'")).await?;
    if id == 0 {
        bail!("演示账号 {username} 不存在");
    }
    Ok(id)
}

struct Progress {
    bar: ProgressBar,
}

impl Progress {
    fn new(total: u64) -> Progress {
        let bar = if std::io::stderr().is_terminal() { ProgressBar::new(total) } else { ProgressBar::hidden() };
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} {msg:<12} [{bar:32}] {human_pos}/{human_len} 行 {per_sec:>12} 已用 {elapsed} 剩余 {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        Progress { bar }
    }
    fn stage(&self, msg: &'static str) {
        self.bar.set_message(msg);
    }
    fn inc(&self, n: usize) {
        self.bar.inc(n as u64);
    }
}

pub async fn run(settings: &Settings, args: DataArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let services = open(settings).await?;
    let store = &services.store;
    let pg = match store.backend() {
        sea_orm::DbBackend::Postgres => Some(store.reader().get_postgres_connection_pool().clone()),
        _ => None,
    };
    let sink = Sink::open(&settings.database_url, pg.as_ref()).await?;
    if sink.scalar_i64("SELECT COUNT(*) FROM organisations WHERE code = 'sx-amr'").await? == 0 {
        eprintln!("正在载入演示部署（机构、账号、计划）……");
        load_demo(&services).await?;
    }
    if sink.scalar_i64(&format!("SELECT COUNT(*) FROM plans WHERE doc_no LIKE '{DOC_PREFIX}%'")).await? > 0 {
        bail!("该数据库已生成过基准数据；请使用新的数据库");
    }
    let as_of = args.as_of.unwrap_or_else(|| services.today());
    let counts = load(&sink, &args, as_of).await?;
    sink.close().await;

    // One audit record for the whole snapshot.
    let tx = store.begin().await?;
    audit::append(
        &tx,
        &AuditActor::system("bench-data"),
        AuditEntry::new(
            "bench_data.load",
            "deployment",
            &args.seed,
            json!(null),
            json!({"seed": args.seed, "as_of": as_of, "counts": counts}),
        ),
    )
    .await?;
    tx.commit().await?;
    services.store.close().await?;
    println!(
        "基准数据已生成（种子“{}”，基准日 {as_of}，用时 {:.1} 秒）：企业 {} 家，抽样人员 {} 个，计划 {} 个（条目 {} 个），\
         抽样任务 {} 个，抽样单 {} 份，签字 {} 个，拒检/问题 {} 条，流转记录 {} 条，\
         实验室样品 {} 个（检验结果 {} 条，检验报告 {} 份）。",
        args.seed,
        started.elapsed().as_secs_f64(),
        counts.enterprises,
        counts.users,
        counts.plans,
        counts.items,
        counts.tasks,
        counts.records,
        counts.signatures,
        counts.outcomes,
        counts.custody_events,
        counts.lab_samples,
        counts.lab_results,
        counts.lab_reports
    );
    Ok(ExitCode::SUCCESS)
}

/// (samples, items, area, organiser id, created, state) of a generated plan.
type PlanSpec = (u64, u64, String, i64, DateTime<Utc>, &'static str);

struct ItemPlan {
    id: i64,
    plan_id: i64,
    draw_id: i64,
    /// The published implementation rules version.
    rules_id: i64,
    product: usize,
    sampling_org: usize,
    /// Index of the testing institution (in `testing_orgs`).
    testing_org: usize,
    tasks: u64,
    created: DateTime<Utc>,
    /// Division prefix of the organiser's area ("14" or "14xx").
    area: String,
    due: NaiveDate,
}

async fn load(sink: &Sink, args: &DataArgs, as_of: NaiveDate) -> anyhow::Result<Counts> {
    let mut g = Gen::new(&args.seed);
    let mut counts = Counts::default();
    let progress = Progress::new(args.enterprises + args.samples);
    let orgs = orgs(sink).await?;
    let org = |code: &str| orgs.get(code).map(|o| o.id).with_context(|| format!("演示机构 {code} 不存在"));
    let sampling_orgs = [org("sxjc")?, org("tj51")?, org("sxgh")?];
    let testing_orgs = [org("sxjc")?, org("tj51")?, org("tfb")?];
    let regulator = user_id(sink, "regulator").await?;
    let local_regulator = user_id(sink, "local_regulator").await?;
    let now = midnight(as_of);

    let mut saved: Vec<SavedIndex> = Vec::new();
    for t in BULK_TABLES {
        saved.extend(sink.drop_indexes(t).await?);
    }

    // Samplers of the three sampling institutions.
    progress.stage("抽样人员");
    let hash =
        choucha_service::auth::hash_password(choucha_seed::demo::PASSWORD).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut users = Batch::default();
    let mut roles = Batch::default();
    let mut samplers: Vec<Vec<(i64, String)>> = vec![Vec::new(); 3];
    let mut uid = sink.next_id("users").await?;
    for (k, o) in sampling_orgs.iter().enumerate() {
        for n in 0..SAMPLERS_PER_ORG {
            let name = format!("{}{}", g.chars(SURNAMES, 1), g.chars(NAME_CHARS, 2));
            let id_card = format!("140202{}{:04}{:04}", 1970 + g.below(35), 101 + g.below(1100), g.below(10_000));
            users.push(vec![
                uid.into(),
                format!("{SAMPLER_PREFIX}{k}_{n:02}").into(),
                name.clone().into(),
                hash.clone().into(),
                (*o).into(),
                V::Null,
                format!("139{:08}", g.below(100_000_000)).into(),
                id_card.into(),
                true.into(),
                now.into(),
                now.into(),
            ]);
            roles.push(vec![uid.into(), "sampler".into()]);
            samplers[k].push((uid, name));
            uid += 1;
        }
    }
    // Laboratory staff of the three testing institutions: testers, report approvers, a custodian.
    let mut testers: Vec<Vec<(i64, String)>> = vec![Vec::new(); 3];
    let mut approvers: Vec<Vec<(i64, String)>> = vec![Vec::new(); 3];
    let mut custodians: Vec<(i64, String)> = Vec::new();
    for (k, o) in testing_orgs.iter().enumerate() {
        let staff = (0..TESTERS_PER_ORG)
            .map(|n| (format!("{TESTER_PREFIX}{k}_{n:02}"), "tester"))
            .chain((0..APPROVERS_PER_ORG).map(|n| (format!("bench_r{k}_{n}"), "report_approver")))
            .chain(std::iter::once((format!("bench_c{k}"), "sample_custodian")));
        for (username, role) in staff {
            let name = format!("{}{}", g.chars(SURNAMES, 1), g.chars(NAME_CHARS, 2));
            users.push(vec![
                uid.into(),
                username.into(),
                name.clone().into(),
                hash.clone().into(),
                (*o).into(),
                V::Null,
                format!("138{:08}", g.below(100_000_000)).into(),
                "".into(),
                true.into(),
                now.into(),
                now.into(),
            ]);
            roles.push(vec![uid.into(), role.into()]);
            match role {
                "tester" => testers[k].push((uid, name)),
                "report_approver" => approvers[k].push((uid, name)),
                _ => custodians.push((uid, name)),
            }
            uid += 1;
        }
    }
    sink.write(
        "users",
        &[
            "id",
            "username",
            "display_name",
            "password_hash",
            "org_id",
            "enterprise_id",
            "phone",
            "id_card_no",
            "active",
            "created_at",
            "updated_at",
        ],
        &users,
    )
    .await?;
    sink.write("user_roles", &["user_id", "role"], &roles).await?;
    counts.users = users.len() as u64;

    // The registry. Shanxi's entries are kept by (city, trade) for the tasks.
    progress.stage("企业名录");
    let mut shanxi: Vec<Vec<Vec<i64>>> = vec![vec![Vec::new(); TRADES.len()]; 11];
    let mut eid = sink.next_id("enterprises").await?;
    let mut batch = Batch::default();
    for i in 0..args.enterprises {
        let e = enterprise(&mut g, i, as_of);
        if e.division.starts_with("14") {
            let city = e.division[2..4].parse::<usize>().unwrap_or(1).clamp(1, 11) - 1;
            if e.status == "operating" {
                shanxi[city][e.trade].push(eid);
            }
        }
        let created = now - Duration::days(30 + g.below(3650) as i64);
        batch.push(vec![
            eid.into(),
            e.uscc.into(),
            e.name.into(),
            e.division.into(),
            e.address.into(),
            e.kinds.into(),
            e.size.into(),
            e.product_lines.into(),
            e.licence_no.into(),
            e.licence_until.into(),
            e.ccc.into(),
            e.status.into(),
            created.into(),
            created.into(),
        ]);
        eid += 1;
        if batch.len() >= BATCH {
            sink.write("enterprises", &ENTERPRISE_COLS, &batch).await?;
            progress.inc(batch.len());
            batch = Batch::default();
        }
    }
    sink.write("enterprises", &ENTERPRISE_COLS, &batch).await?;
    progress.inc(batch.len());
    counts.enterprises = args.enterprises;

    // Plans, items (each its own quota group), published rules and the draw record of each item.
    progress.stage("计划");
    let mut sizes = Vec::new();
    let mut left = args.samples;
    let big = BIG_PLAN_SAMPLES.min(left / 10).max(left.min(1));
    if big > 0 {
        sizes.push((big, 20u64));
        left -= big;
    }
    let per = if args.samples >= 10 * PLAN_SAMPLES { PLAN_SAMPLES } else { (args.samples / 10).max(1) };
    while left > 0 {
        let n = per.min(left);
        sizes.push((n, 10));
        left -= n;
    }
    let mut plan_id = sink.next_id("plans").await?;
    let mut group_id = sink.next_id("quota_groups").await?;
    let mut item_id = sink.next_id("plan_items").await?;
    let mut rules_id = sink.next_id("rules_versions").await?;
    let mut draw_id = sink.next_id("draws").await?;
    let (mut plans, mut groups, mut items, mut rules, mut draws) =
        (Batch::default(), Batch::default(), Batch::default(), Batch::default(), Batch::default());
    let mut item_plans: Vec<ItemPlan> = Vec::new();
    let n_plans = sizes.len() as i64;
    // The draw plan of Datong: one item per product, quotas left open, no tasks of its own.
    let mut all_plans: Vec<PlanSpec> = Vec::new();
    let mut titles = Vec::new();
    for (k, (samples, n_items)) in sizes.iter().enumerate() {
        let age = (k as i64 * 360) / n_plans.max(1);
        let created = now - Duration::days(age + 5);
        let year = created.format("%Y");
        // The first plan and every twelfth are the province's; the others go round the cities.
        let city = if k == 0 || (k - 1) % 12 == 11 { None } else { Some((k - 1) % 12) };
        let (code, area, title) = match city {
            None if k == 0 => ("sx-amr", "14".to_string(), format!("{year}年山西省产品质量省级监督抽查")),
            None => ("sx-amr", "14".to_string(), format!("{year}年山西省产品质量监督抽查（第{k}批）")),
            Some(c) => (
                CITY_BUREAUS[c],
                format!("14{:02}", c + 1),
                format!("{year}年{}产品质量监督抽查（第{k}批）", SHANXI_CITIES[c]),
            ),
        };
        let state = if age > 270 { "closed" } else { "issued" };
        all_plans.push((*samples, *n_items, area, org(code)?, created, state));
        titles.push(title);
    }
    all_plans.push((0, PRODUCTS.len() as u64, "1402".into(), org("dt-amr")?, now - Duration::days(3), "issued"));
    titles.push(DRAW_PLAN_TITLE.into());
    for (k, (samples, n_items, area, organiser, created, state)) in all_plans.iter().enumerate() {
        let draw_plan = k == all_plans.len() - 1;
        let deadline = (*created + Duration::days(90)).date_naive();
        plans.push(vec![
            plan_id.into(),
            (created.format("%Y").to_string().parse::<i32>().unwrap_or(2025)).into(),
            titles[k].clone().into(),
            (*organiser).into(),
            format!("{DOC_PREFIX}〔{}〕{}号", created.format("%Y"), k + 1).into(),
            "流通、生产".into(),
            (*state).into(),
            deadline.into(),
            (deadline + Duration::days(10)).into(),
            (deadline + Duration::days(30)).into(),
            V::I(5),
            V::I((*samples as i64) * 100_000),
            "".into(),
            (*created).into(),
            (*created - Duration::days(2)).into(),
            (*created).into(),
        ]);
        let first = g.below(PRODUCTS.len() as u64) as usize;
        for n in 0..*n_items {
            let product = if draw_plan { n as usize } else { (first + n as usize * 7) % PRODUCTS.len() };
            let (name, category, scopes, standard, unit, _) = PRODUCTS[product];
            let tasks = if draw_plan { 0 } else { samples / n_items + u64::from(n < samples % n_items) };
            let so = if draw_plan { 2 } else { (k + n as usize) % 3 };
            let quota = if draw_plan { 1_000_000 } else { tasks as i64 };
            groups.push(vec![group_id.into(), plan_id.into(), quota.into()]);
            items.push(vec![
                item_id.into(),
                plan_id.into(),
                group_id.into(),
                (n as i64).into(),
                (n + 1).to_string().into(),
                category.into(),
                name.into(),
                scopes.into(),
                sampling_orgs[so].into(),
                testing_orgs[(k + n as usize) % 3].into(),
                V::Null,
            ]);
            let body = serde_json::to_string(&rules_body(name, standard, unit))?;
            rules.push(vec![
                rules_id.into(),
                item_id.into(),
                1i64.into(),
                "published".into(),
                body.into(),
                "".into(),
                (*created).into(),
                (*created).into(),
                regulator.into(),
                (*created).into(),
                (*created).into(),
                (*created).into(),
            ]);
            if !draw_plan {
                draws.push(vec![
                    draw_id.into(),
                    plan_id.into(),
                    item_id.into(),
                    (tasks as i64).into(),
                    format!("{}-{k}-{n}", args.seed).into(),
                    false.into(),
                    2i64.into(),
                    choucha_domain::draw::ALGORITHM.into(),
                    json!({"division": area, "snapshot": "bench-data"}).to_string().into(),
                    (tasks as i64 * 20).into(),
                    "".into(),
                    "[]".into(),
                    "[]".into(),
                    "[]".into(),
                    json!({"algorithm": choucha_domain::draw::ALGORITHM, "candidate_hash": "", "drawn": []})
                        .to_string()
                        .into(),
                    "".into(),
                    V::Null,
                    V::Null,
                    true.into(),
                    regulator.into(),
                    (*created).into(),
                ]);
                item_plans.push(ItemPlan {
                    id: item_id,
                    plan_id,
                    draw_id,
                    rules_id,
                    product,
                    sampling_org: so,
                    testing_org: (k + n as usize) % 3,
                    tasks,
                    created: *created,
                    area: area.clone(),
                    due: deadline,
                });
                draw_id += 1;
            }
            group_id += 1;
            item_id += 1;
            rules_id += 1;
            counts.items += 1;
        }
        plan_id += 1;
        counts.plans += 1;
    }
    sink.write(
        "plans",
        &[
            "id",
            "year",
            "title",
            "organising_org_id",
            "doc_no",
            "domains",
            "state",
            "deadline_delivery",
            "deadline_data_entry",
            "deadline_summary",
            "unqualified_report_days",
            "budget_cents",
            "notes",
            "issued_at",
            "created_at",
            "updated_at",
        ],
        &plans,
    )
    .await?;
    sink.write("quota_groups", &["id", "plan_id", "quota"], &groups).await?;
    sink.write(
        "plan_items",
        &[
            "id",
            "plan_id",
            "group_id",
            "position",
            "number",
            "category",
            "product",
            "scopes",
            "sampling_org_id",
            "testing_org_id",
            "screening_org_id",
        ],
        &items,
    )
    .await?;
    sink.write(
        "rules_versions",
        &[
            "id",
            "item_id",
            "version",
            "state",
            "body_json",
            "returned_reason",
            "submitted_at",
            "approved_at",
            "approved_by",
            "published_at",
            "created_at",
            "updated_at",
        ],
        &rules,
    )
    .await?;
    sink.write(
        "draws",
        &[
            "id",
            "plan_id",
            "item_id",
            "quota",
            "seed",
            "stratified",
            "team_size",
            "algorithm",
            "filters_json",
            "candidate_count",
            "candidate_hash",
            "candidates_json",
            "exclusions_json",
            "samplers_json",
            "result_json",
            "reason",
            "replaces_draw_id",
            "replaces_enterprise_id",
            "published",
            "created_by",
            "created_at",
        ],
        &draws,
    )
    .await?;

    // Samples: tasks with teams, records, signatures, outcomes and custody events.
    progress.stage("抽样任务");
    let sig_sha = {
        use base64::Engine;
        hex::encode(Sha256::digest(base64::engine::general_purpose::STANDARD.decode(PNG)?))
    };
    let mut task_id = sink.next_id("sampling_tasks").await?;
    let mut record_id = sink.next_id("sampling_records").await?;
    let mut sig_id = sink.next_id("record_signatures").await?;
    let mut outcome_id = sink.next_id("task_outcomes").await?;
    let mut custody_id = sink.next_id("custody_events").await?;
    let mut lab = LabIds {
        sample: sink.next_id("lab_samples").await?,
        result: sink.next_id("lab_results").await?,
        report: sink.next_id("lab_reports").await?,
        blind_n: 0,
        blind_offset: g.below(1 << 40),
        sample_count: 0,
        result_count: 0,
        report_count: 0,
    };
    let staff = LabStaff {
        orgs: testing_orgs,
        testers: &testers,
        approvers: &approvers,
        custodians: &custodians,
        codes: TESTING_CODES,
    };
    let mut rows = TaskRows::default();
    // Rule 5: batches of each enterprise in the current plan (items of a plan come one after another).
    let mut plan_batches: HashMap<i64, u8> = HashMap::new();
    let mut batches_of_plan = 0i64;
    let all_shanxi: Vec<i64> = shanxi.iter().flatten().flatten().copied().collect();
    for ip in &item_plans {
        let trades = trades_of(PRODUCTS[ip.product].0);
        let cities: Vec<usize> = if ip.area.len() == 4 {
            vec![ip.area[2..4].parse::<usize>().unwrap_or(1).clamp(1, 11) - 1]
        } else {
            (0..11).collect()
        };
        // The area's enterprises of the trades holding the product, as buckets (never copied).
        let mut buckets: Vec<&[i64]> = cities
            .iter()
            .flat_map(|c| trades.iter().map(|t| shanxi[*c][*t].as_slice()))
            .filter(|b| !b.is_empty())
            .collect();
        if buckets.is_empty() {
            buckets.push(all_shanxi.as_slice());
        }
        let total: usize = buckets.iter().map(|b| b.len()).sum();
        let pick = |g: &mut Gen| -> i64 {
            if total == 0 {
                return 1;
            }
            let mut r = g.below(total as u64) as usize;
            for b in &buckets {
                if r < b.len() {
                    return b[r];
                }
                r -= b.len();
            }
            1
        };
        let mut used: HashSet<i64> = HashSet::new();
        if batches_of_plan != ip.plan_id {
            plan_batches.clear();
            batches_of_plan = ip.plan_id;
        }
        let age = (now - ip.created).num_days();
        let team_pool = &samplers[ip.sampling_org];
        for _ in 0..ip.tasks {
            // One batch of an item and two of a plan per enterprise (rule 5), when the area allows.
            let mut enterprise_id = pick(&mut g);
            for _ in 0..8 {
                if !used.contains(&enterprise_id) && plan_batches.get(&enterprise_id).copied().unwrap_or(0) < 2 {
                    break;
                }
                enterprise_id = pick(&mut g);
            }
            used.insert(enterprise_id);
            *plan_batches.entry(enterprise_id).or_default() += 1;
            let roll = g.below(100);
            let state = if age < 60 {
                match roll {
                    0..=24 => "assigned",
                    25..=44 => "in_progress",
                    45..=89 => "sampled",
                    90..=91 => "refusal_pending",
                    92..=93 => "refused",
                    94 => "problem",
                    _ => "not_sampled",
                }
            } else {
                match roll {
                    0..=84 => "sampled",
                    85..=88 => "refused",
                    89 => "problem",
                    _ => "not_sampled",
                }
            };
            let created = ip.created + Duration::minutes(g.below(60 * 24 * 3) as i64);
            let updated = created + Duration::minutes(g.below(60 * 24 * 20.min(age.max(1) as u64)) as i64);
            rows.tasks.push(vec![
                task_id.into(),
                ip.plan_id.into(),
                ip.id.into(),
                ip.draw_id.into(),
                enterprise_id.into(),
                state.into(),
                ip.due.into(),
                created.into(),
                updated.into(),
            ]);
            let a = g.below(team_pool.len() as u64) as usize;
            let b = (a + 1 + g.below(team_pool.len() as u64 - 1) as usize) % team_pool.len();
            let team = [&team_pool[a], &team_pool[b]];
            for m in team {
                rows.members.push(vec![task_id.into(), m.0.into()]);
            }
            let draft = state == "in_progress" && g.percent(50);
            if state == "sampled" || draft {
                let f = record_fields(&mut g, ip.product, updated, task_id);
                let fields_json = serde_json::to_string(&f)?;
                let hash = record_hash(task_id, 1, &fields_json);
                rows.records.push(vec![
                    record_id.into(),
                    task_id.into(),
                    1i64.into(),
                    (if draft { "draft" } else { "signed" }).into(),
                    fields_json.into(),
                    hash.clone().into(),
                    "[]".into(),
                    "".into(),
                    team[0].0.into(),
                    updated.into(),
                    (if draft { None } else { Some(updated) }).into(),
                ]);
                if !draft {
                    let signers = [
                        (format!("sampler:{}", team[0].0), Some(team[0].0), team[0].1.clone()),
                        (format!("sampler:{}", team[1].0), Some(team[1].0), team[1].1.clone()),
                        ("enterprise".to_string(), None, format!("{}{}", g.chars(SURNAMES, 1), g.chars(NAME_CHARS, 1))),
                    ];
                    for (signer, user, name) in signers {
                        rows.sigs.push(vec![
                            sig_id.into(),
                            record_id.into(),
                            signer.into(),
                            user.into(),
                            name.into(),
                            PNG.into(),
                            sig_sha.clone().into(),
                            false.into(),
                            "".into(),
                            "".into(),
                            "".into(),
                            hash.clone().into(),
                            updated.into(),
                        ]);
                        sig_id += 1;
                        counts.signatures += 1;
                    }
                    for (portion, kind, mode) in [("all", "sealed", ""), ("test", "dispatched", "carried")] {
                        rows.custody.push(vec![
                            custody_id.into(),
                            task_id.into(),
                            portion.into(),
                            kind.into(),
                            "intact".into(),
                            f.place.clone().into(),
                            mode.into(),
                            "".into(),
                            "".into(),
                            "".into(),
                            team[0].0.into(),
                            team[0].1.clone().into(),
                            updated.into(),
                            updated.into(),
                        ]);
                        custody_id += 1;
                        counts.custody_events += 1;
                    }
                    let task = LabTask { id: task_id, ip, fields: &f, dispatched: updated, age };
                    lab_side(&mut g, &mut rows, &mut lab, &staff, &task, now, &mut custody_id, &mut counts)?;
                }
                record_id += 1;
                counts.records += 1;
            }
            if matches!(state, "refusal_pending" | "refused" | "problem") {
                let (kind, details) = if state == "problem" {
                    ("problem", json!({"violation": "无生产许可证生产", "facts": "现场发现无证生产"}))
                } else {
                    ("refusal", json!({"facts": "企业负责人拒绝抽样，拒绝在文书上签字"}))
                };
                let cosigned = state == "refused";
                rows.outcomes.push(vec![
                    outcome_id.into(),
                    task_id.into(),
                    kind.into(),
                    details.to_string().into(),
                    team[0].0.into(),
                    updated.into(),
                    (if cosigned { Some(local_regulator) } else { None }).into(),
                    (if cosigned { Some(updated + Duration::days(1)) } else { None }).into(),
                    (if cosigned { "经核实，企业无正当理由拒绝抽样" } else { "" }).into(),
                ]);
                outcome_id += 1;
                counts.outcomes += 1;
            }
            task_id += 1;
            counts.tasks += 1;
            if rows.tasks.len() >= BATCH {
                rows.flush(sink).await?;
                progress.inc(BATCH);
            }
        }
    }
    let n = rows.tasks.len();
    rows.flush(sink).await?;
    progress.inc(n);
    counts.lab_samples = lab.sample_count;
    counts.lab_results = lab.result_count;
    counts.lab_reports = lab.report_count;
    progress.stage("建立索引");
    sink.restore_indexes(&saved).await?;
    progress.stage("统计信息");
    let mut all: Vec<&str> = BULK_TABLES.to_vec();
    all.extend(["users", "user_roles", "plans", "quota_groups", "plan_items", "rules_versions", "draws"]);
    sink.finish(&ID_TABLES, &all).await?;
    progress.bar.finish_and_clear();
    Ok(counts)
}

/// The rows of a batch of tasks, written in foreign-key order.
#[derive(Default)]
struct TaskRows {
    tasks: Batch,
    members: Batch,
    records: Batch,
    sigs: Batch,
    outcomes: Batch,
    custody: Batch,
    labs: Batch,
    results: Batch,
    reports: Batch,
}

impl TaskRows {
    async fn flush(&mut self, sink: &Sink) -> anyhow::Result<()> {
        sink.write("sampling_tasks", &TASK_COLS, &self.tasks).await?;
        sink.write("sampling_task_members", &MEMBER_COLS, &self.members).await?;
        sink.write("sampling_records", &RECORD_COLS, &self.records).await?;
        sink.write("record_signatures", &SIGNATURE_COLS, &self.sigs).await?;
        sink.write("task_outcomes", &OUTCOME_COLS, &self.outcomes).await?;
        sink.write("custody_events", &CUSTODY_COLS, &self.custody).await?;
        sink.write("lab_samples", &LAB_SAMPLE_COLS, &self.labs).await?;
        sink.write("lab_results", &LAB_RESULT_COLS, &self.results).await?;
        sink.write("lab_reports", &LAB_REPORT_COLS, &self.reports).await?;
        *self = TaskRows::default();
        Ok(())
    }
}

/// Codes of the testing institutions, in the order of `testing_orgs` (report numbers start with them).
const TESTING_CODES: [&str; 3] = ["sxjc", "tj51", "tfb"];

struct LabStaff<'a> {
    /// The testing institutions' ids.
    orgs: [i64; 3],
    testers: &'a [Vec<(i64, String)>],
    approvers: &'a [Vec<(i64, String)>],
    custodians: &'a [(i64, String)],
    codes: [&'static str; 3],
}

struct LabIds {
    sample: i64,
    result: i64,
    report: i64,
    /// Blind codes handed out so far, and the offset of their permutation.
    blind_n: u64,
    blind_offset: u64,
    sample_count: u64,
    result_count: u64,
    report_count: u64,
}

/// A signed, dispatched task on its way to the testing institution.
struct LabTask<'a> {
    id: i64,
    ip: &'a ItemPlan,
    fields: &'a RecordFields,
    dispatched: DateTime<Utc>,
    /// Age of the plan in days.
    age: i64,
}

/// The laboratory side of a dispatched sample: not yet received, rejected, or received with its blind
/// code and a state that follows the plan's age (results, conclusion, reports prepared, reviewed or
/// approved), with the received / stored (or rejected) custody events.
#[allow(clippy::too_many_arguments)]
fn lab_side(
    g: &mut Gen,
    rows: &mut TaskRows,
    lab: &mut LabIds,
    staff: &LabStaff<'_>,
    t: &LabTask<'_>,
    now: DateTime<Utc>,
    custody_id: &mut i64,
    counts: &mut Counts,
) -> anyhow::Result<()> {
    let received_at = t.dispatched + Duration::hours(20 + g.below(72) as i64);
    let recent = t.age < 60;
    if received_at >= now || g.percent(if recent { 12 } else { 1 }) {
        return Ok(());
    }
    let roll = g.below(100);
    let state = if recent {
        match roll {
            0..=1 => "rejected",
            2 => "stopped",
            3..=24 => "accepted",
            25..=49 => "testing",
            50..=69 => "tested",
            _ => "reported",
        }
    } else {
        match roll {
            0..=1 => "rejected",
            2 => "stopped",
            3..=4 => "testing",
            5..=7 => "tested",
            _ => "reported",
        }
    };
    let k = t.ip.testing_org;
    let (custodian, custodian_name) = staff.custodians[k].clone();
    let (_, _, _, standard, _, _) = PRODUCTS[t.ip.product];
    let f = t.fields;
    let received_on = clock::beijing_date(received_at);
    let rejected = state == "rejected";
    let blind_code = (!rejected).then(|| {
        let year = received_on.format("%Y").to_string().parse::<i32>().unwrap_or(2025);
        lab.blind_n += 1;
        choucha_domain::lab::BlindCode::from_random(year, blind_bits(lab.blind_n, lab.blind_offset)).to_string()
    });
    let tester = match state {
        "rejected" => None,
        "accepted" if g.percent(50) => None,
        _ => Some(g.pick(&staff.testers[k]).0),
    };
    let ended = received_on + Duration::days(3 + g.below(8) as i64);
    let done = matches!(state, "tested" | "reported");
    let qualified = done.then(|| !g.percent(8));
    let conclusion = qualified.map(|q| {
        let j = if q { ItemJudgement::Conforming } else { ItemJudgement::NonConforming };
        conclude(&[("标志和说明".to_string(), j)], &[standard.to_string()]).text
    });
    let completed = done.then(|| midnight(ended) + Duration::hours(10 + g.below(20) as i64));
    let stopped = state == "stopped";
    let receipt = json!({
        "observed": {
            "test_seals": f.test_seals, "backup_seals": f.backup_seals,
            "test_quantity": f.test_quantity, "backup_quantity": f.backup_quantity,
            "seals_intact": !rejected, "labels_match": true, "appearance": "外观完好，封条完整",
        },
        "mismatches": if rejected { vec!["封条有破损"] } else { Vec::new() },
        "photos": [],
    });
    let updated = completed.unwrap_or(received_at).min(now);
    let sample_id = lab.sample;
    rows.labs.push(vec![
        sample_id.into(),
        t.id.into(),
        t.ip.plan_id.into(),
        t.ip.id.into(),
        staff.orgs[k].into(),
        V::Null,
        t.ip.rules_id.into(),
        blind_code.clone().into(),
        state.into(),
        received_at.into(),
        custodian.into(),
        format!("{}（抽样人员）", g.chars(SURNAMES, 1)).into(),
        "".into(),
        "".into(),
        receipt.to_string().into(),
        (if rejected { "封条有破损，样品与抽样单不符" } else { "" }).into(),
        (if rejected { String::new() } else { format!("备样库{}号柜", 1 + g.below(40)) }).into(),
        (if stopped { "production_licence" } else { "none" }).into(),
        (if stopped { "failed" } else { "not_required" }).into(),
        (if stopped { "标称生产者未取得生产许可证" } else { "" }).into(),
        tester.into(),
        (if done { Some(ended) } else { None }).into(),
        (if done || state == "testing" { Some(ended + Duration::days(5)) } else { None }).into(),
        completed.into(),
        false.into(),
        qualified.into(),
        conclusion.clone().unwrap_or_default().into(),
        "".into(),
        received_at.into(),
        updated.into(),
    ]);
    lab.sample += 1;
    lab.sample_count += 1;
    // Custody at the institution (the receipt writes these).
    let events: Vec<(&str, &str, String, String)> = if rejected {
        vec![("all", "rejected", String::new(), "封条有破损，样品与抽样单不符".into())]
    } else {
        vec![
            ("all", "received", String::new(), "送样人：抽样人员".into()),
            ("backup", "stored", "备样库".into(), String::new()),
        ]
    };
    for (portion, kind, location, note) in events {
        rows.custody.push(vec![
            (*custody_id).into(),
            t.id.into(),
            portion.into(),
            kind.into(),
            (if rejected { "broken" } else { "intact" }).into(),
            location.into(),
            "".into(),
            "".into(),
            "".into(),
            note.into(),
            custodian.into(),
            custodian_name.clone().into(),
            received_at.into(),
            received_at.into(),
        ]);
        *custody_id += 1;
        counts.custody_events += 1;
    }
    // One result (the rules have one test item) once testing started.
    let has_result = done || (state == "testing" && g.percent(50));
    if let (true, Some(tester)) = (has_result, tester) {
        let pass = qualified.unwrap_or(true);
        let display = if pass { "符合" } else { "不符合" };
        rows.results.push(vec![
            lab.result.into(),
            sample_id.into(),
            0i64.into(),
            "标志和说明".into(),
            "".into(),
            Limit::PassFail.display("").into(),
            serde_json::to_string(&Limit::PassFail)?.into(),
            serde_json::to_string(&Measured::Pass(pass))?.into(),
            display.into(),
            standard.into(),
            "".into(),
            (if pass { "conforming" } else { "non_conforming" }).into(),
            ended.into(),
            tester.into(),
            completed.unwrap_or(received_at).min(now).into(),
        ]);
        lab.result += 1;
        lab.result_count += 1;
    }
    // Reports: the issued one of a reported sample; a tested sample's prepared or reviewed one.
    let report_state = match state {
        "reported" => Some("approved"),
        "tested" => match g.below(10) {
            0..=3 => Some("prepared"),
            4..=6 => Some("reviewed"),
            _ => None,
        },
        _ => None,
    };
    if let (Some(rs), Some(tester), Some(done_at), Some(q)) = (report_state, tester, completed, qualified) {
        let approvers = &staff.approvers[k];
        let reviewer = approvers[g.below(approvers.len() as u64) as usize].0;
        let approver = approvers.iter().map(|a| a.0).find(|a| *a != reviewer).unwrap_or(reviewer);
        let prepared_at = (done_at + Duration::hours(20)).min(now);
        let reviewed_at = (prepared_at + Duration::hours(20)).min(now);
        let approved_at = (reviewed_at + Duration::hours(20)).min(now);
        let pass = if q { "符合" } else { "不符合" };
        let content = ReportContent {
            blind_code: blind_code.clone().unwrap_or_default(),
            product: PRODUCTS[t.ip.product].0.into(),
            standards: vec![standard.into()],
            rules_version: 1,
            test_portion: format!("{}{}", f.test_quantity, f.unit),
            received_on: received_on.to_string(),
            tested_from: ended.to_string(),
            tested_to: ended.to_string(),
            items: vec![ReportItem {
                name: "标志和说明".into(),
                unit: String::new(),
                requirement: Limit::PassFail.display(""),
                result: pass.into(),
                judgement: pass.into(),
                method: standard.into(),
            }],
            qualified: q,
            conclusion: conclusion.clone().unwrap_or_default(),
            judgement_principle: format!("{}全部检验项目符合{standard}要求的，判定为合格", PRODUCTS[t.ip.product].0),
        };
        let mut content = serde_json::to_value(&content)?;
        let approved = rs == "approved";
        let report_no = approved.then(|| {
            format!(
                "{}-{}-{:06}",
                staff.codes[k].to_uppercase(),
                clock::beijing_date(approved_at).format("%Y"),
                lab.report
            )
        });
        if let Some(no) = &report_no {
            content["report_no"] = json!(no);
        }
        let reviewed = rs != "prepared";
        rows.reports.push(vec![
            lab.report.into(),
            sample_id.into(),
            staff.orgs[k].into(),
            1i64.into(),
            rs.into(),
            report_no.into(),
            content.to_string().into(),
            tester.into(),
            prepared_at.into(),
            (if reviewed { Some(reviewer) } else { None }).into(),
            (if reviewed { Some(reviewed_at) } else { None }).into(),
            (if approved { Some(approver) } else { None }).into(),
            (if approved { Some(approved_at) } else { None }).into(),
            "".into(),
            "".into(),
            V::Null,
            "".into(),
        ]);
        lab.report += 1;
        lab.report_count += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
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
