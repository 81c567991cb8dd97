//! The demo's synthetic registry of Datong: the same enterprises on every load (SplitMix64 from a
//! fixed seed), the first of them the demo enterprise user's, bulk-inserted with one audit record.

use std::collections::HashSet;

use choucha_domain::division::DivisionCode;
use choucha_domain::enterprise::{EnterpriseData, EnterpriseKind, EnterpriseStatus, KindSet, SizeClass};
use choucha_domain::uscc::{ALPHABET, Uscc};
use choucha_service::{Result, Services};
use choucha_store::audit::{AuditActor, AuditEntry};
use choucha_store::enterprises;
use chrono::NaiveDate;
use serde_json::json;

use super::organisations::DEV_ZONE_DIVISION;
use super::{AUDIT_NAME, DemoProgress, ENTERPRISE_COUNT, SEED};

/// The demo generator: SplitMix64 (Steele, Lea and Flood 2014), which anyone can re-implement in a
/// few lines; `below` draws without modulo bias by rejection. Only demo data uses it.
struct DemoRng(u64);

impl DemoRng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in 0..n (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        let n = n.max(1);
        let zone = u64::MAX - (u64::MAX % n);
        loop {
            let x = self.next_u64();
            if x < zone {
                return x % n;
            }
        }
    }

    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }

    fn weighted<'a, T>(&mut self, xs: &'a [(T, u32)]) -> &'a T {
        let total: u64 = xs.iter().map(|(_, w)| u64::from(*w)).sum();
        let mut r = self.below(total);
        for (x, w) in xs {
            if r < u64::from(*w) {
                return x;
            }
            r -= u64::from(*w);
        }
        &xs[xs.len() - 1].0
    }

    fn percent(&mut self, p: u64) -> bool {
        self.below(100) < p
    }
}

/// Datong's divisions with their share of the registry and a few street names.
struct Area {
    division: &'static str,
    /// How the area appears in names ("平城区").
    name: &'static str,
    weight: u32,
    streets: &'static [&'static str],
}

const AREAS: &[Area] = &[
    Area {
        division: "140212", name: "新荣区", weight: 5, streets: &["新荣街", "长城路", "堡子湾路", "郭家窑路"]
    },
    Area {
        division: "140213",
        name: "平城区",
        weight: 26,
        streets: &["魏都大道", "御河西路", "永泰南路", "迎宾街", "文兴路", "大庆路", "新建北路", "鼓楼东街", "柳航街"],
    },
    Area {
        division: "140214",
        name: "云冈区",
        weight: 15,
        streets: &["云冈路", "新平旺街", "同煤快线", "口泉路", "和瑞街"],
    },
    Area {
        division: "140215", name: "云州区", weight: 7, streets: &["西坪路", "吉家庄路", "云州街", "峰峪街"]
    },
    Area {
        division: "140221", name: "阳高县", weight: 7, streets: &["振华街", "龙泉路", "古城路", "东大街"]
    },
    Area { division: "140222", name: "天镇县", weight: 5, streets: &["新平路", "玉泉路", "南河街"] },
    Area { division: "140223", name: "广灵县", weight: 5, streets: &["壶泉路", "东关街", "文化路"] },
    Area { division: "140224", name: "灵丘县", weight: 6, streets: &["武灵路", "平型关路", "城关街"] },
    Area { division: "140225", name: "浑源县", weight: 7, streets: &["恒山路", "永安街", "神溪路"] },
    Area { division: "140226", name: "左云县", weight: 5, streets: &["云兴路", "北关街", "长城街"] },
    Area {
        division: DEV_ZONE_DIVISION,
        name: "经济技术开发区",
        weight: 12,
        streets: &["开源街", "恒安街", "太和路", "湖东路", "兴云街"],
    },
];

/// Characters of trade names (字号); two distinct ones form a name.
const TRADE_CHARS: &[char] = &[
    '鑫', '恒', '盛', '泰', '华', '瑞', '隆', '昌', '祥', '宏', '远', '达', '兴', '旺', '嘉', '和', '金', '鼎', '福',
    '源', '诚', '信', '永', '丰', '顺', '通', '佳', '益', '德', '利', '凯', '晋', '云', '同', '魏', '平', '安', '康',
    '博', '润', '辉', '明', '正', '天', '宇', '新', '海', '峰', '杰', '创', '捷', '汇', '聚', '荣', '乐', '美', '优',
    '锦', '翔', '赢',
];

pub(super) use EnterpriseKind::{ECommerce as EC, FuelStation as FS, Producer as PR, Seller as SE};
pub(super) use SizeClass::{Large, Medium, Micro, Small};

/// A line of business: how its enterprises are named, what they are and what they make or sell
/// (the products of both notices).
struct Trade {
    weight: u32,
    /// Name endings; an ending without 公司 is an individual business (USCC prefix 92).
    suffixes: &'static [&'static str],
    kinds: &'static [EnterpriseKind],
    /// Product lines: the first is always carried, the others by chance.
    products: &'static [&'static str],
    sizes: &'static [(SizeClass, u32)],
    /// 生产许可证 number prefix (工业产品生产许可证, e.g. XK16-204 food-contact plastics).
    licence: Option<&'static str>,
    /// CCC product-category code for a 强制性产品认证 certificate number.
    ccc: Option<&'static str>,
}

const SMALL_SHOP: &[(SizeClass, u32)] = &[(Micro, 70), (Small, 28), (Medium, 2)];
const FACTORY: &[(SizeClass, u32)] = &[(Small, 50), (Medium, 30), (Micro, 12), (Large, 8)];

const TRADES: &[Trade] = &[
    Trade {
        weight: 16,
        suffixes: &["加油站", "加油站有限公司", "能源有限公司加油站"],
        kinds: &[FS, SE],
        products: &["车用柴油", "车用汽油", "车用尿素水溶液"],
        sizes: &[(Small, 60), (Micro, 25), (Medium, 15)],
        licence: None,
        ccc: None,
    },
    Trade {
        weight: 3,
        suffixes: &["石油化工有限公司", "油品销售有限公司", "能源贸易有限公司"],
        kinds: &[SE],
        products: &["车用柴油", "车用汽油", "车用尿素水溶液"],
        sizes: &[(Small, 50), (Medium, 40), (Large, 10)],
        licence: None,
        ccc: None,
    },
    Trade {
        weight: 1,
        suffixes: &["化工有限公司", "精细化工有限公司"],
        kinds: &[PR, SE],
        products: &["车用尿素水溶液", "氯碱"],
        sizes: FACTORY,
        licence: Some("XK13-014"),
        ccc: None,
    },
    Trade {
        weight: 13,
        suffixes: &["家电商场", "家用电器销售有限公司", "电器商行", "家电经营部"],
        kinds: &[SE],
        products: &["电冰箱", "家用电动洗衣机", "室内加热器", "加湿器", "储热式电热暖手器"],
        sizes: &[(Micro, 45), (Small, 40), (Medium, 13), (Large, 2)],
        licence: None,
        ccc: None,
    },
    Trade {
        weight: 4,
        suffixes: &["电子商务有限公司", "网络科技有限公司"],
        kinds: &[EC, SE],
        products: &["家用电动洗衣机", "电冰箱", "加湿器", "灯串", "电池（储能电池、原电池）"],
        sizes: &[(Micro, 70), (Small, 30)],
        licence: None,
        ccc: None,
    },
    Trade {
        weight: 2,
        suffixes: &["电器有限公司", "电器制造有限公司"],
        kinds: &[PR, SE],
        products: &["室内加热器", "储热式电热暖手器", "加湿器"],
        sizes: FACTORY,
        licence: None,
        ccc: Some("0701"),
    },
    Trade {
        weight: 1,
        suffixes: &["制冷设备有限公司", "家电制造有限公司"],
        kinds: &[PR],
        products: &["电冰箱", "家用电动洗衣机"],
        sizes: &[(Medium, 50), (Large, 30), (Small, 20)],
        licence: None,
        ccc: Some("0701"),
    },
    Trade {
        weight: 4,
        suffixes: &["绒业有限公司", "羊绒制品有限公司", "毛纺有限公司"],
        kinds: &[PR, SE],
        products: &["羊绒针织衫", "围巾披肩"],
        sizes: FACTORY,
        licence: None,
        ccc: None,
    },
    Trade {
        weight: 3,
        suffixes: &["服装有限公司", "服饰有限公司", "制衣厂"],
        kinds: &[PR, SE],
        products: &["羽绒服装", "棉服装", "冲锋衣", "运动服装"],
        sizes: FACTORY,
        licence: None,
        ccc: None,
    },
    Trade {
        weight: 11,
        suffixes: &["服装店", "服饰商行", "服装销售有限公司", "羽绒服专卖店"],
        kinds: &[SE],
        products: &["羽绒服装", "棉服装", "冲锋衣", "运动服装", "羊绒针织衫", "围巾披肩"],
        sizes: SMALL_SHOP,
        licence: None,
        ccc: None,
    },
    Trade {
        weight: 5,
        suffixes: &["羊绒专卖店", "羊绒服饰商行", "羊绒制品销售有限公司"],
        kinds: &[SE],
        products: &["羊绒针织衫", "围巾披肩", "羽绒服装"],
        sizes: SMALL_SHOP,
        licence: None,
        ccc: None,
    },
    Trade {
        weight: 4,
        suffixes: &["服饰电子商务有限公司", "电子商务商行"],
        kinds: &[EC, SE],
        products: &["羊绒针织衫", "羽绒服装", "围巾披肩", "运动服装"],
        sizes: &[(Micro, 80), (Small, 20)],
        licence: None,
        ccc: None,
    },
    Trade {
        weight: 5,
        suffixes: &["超市有限公司", "购物中心有限公司", "百货有限公司", "超市"],
        kinds: &[SE],
        products: &[
            "食品接触用塑料制品",
            "食品接触用纸制品",
            "电池（储能电池、原电池）",
            "化纤被",
            "羽绒服装",
            "电冰箱",
            "灯串",
        ],
        sizes: &[(Medium, 40), (Small, 30), (Large, 30)],
        licence: None,
        ccc: None,
    },
    Trade {
        weight: 6,
        suffixes: &["眼镜店", "眼镜有限公司", "视光眼镜店"],
        kinds: &[PR, SE],
        products: &["眼镜（配装眼镜）", "眼镜镜片", "眼镜架"],
        sizes: SMALL_SHOP,
        licence: None,
        ccc: None,
    },
    Trade {
        weight: 2,
        suffixes: &["塑料制品有限公司", "塑业有限公司"],
        kinds: &[PR],
        products: &["食品接触用塑料制品"],
        sizes: FACTORY,
        licence: Some("XK16-204"),
        ccc: None,
    },
    Trade {
        weight: 2,
        suffixes: &["纸制品有限公司", "包装有限公司"],
        kinds: &[PR],
        products: &["食品接触用纸制品"],
        sizes: FACTORY,
        licence: Some("XK16-205"),
        ccc: None,
    },
    Trade {
        weight: 2,
        suffixes: &["轴承有限公司", "轴承商行", "机电设备有限公司"],
        kinds: &[SE],
        products: &["轴承"],
        sizes: &[(Small, 60), (Micro, 30), (Medium, 10)],
        licence: None,
        ccc: None,
    },
    Trade {
        weight: 4,
        suffixes: &["五金电器商行", "灯饰商行", "五金交电经营部"],
        kinds: &[SE],
        products: &["灯串", "电池（储能电池、原电池）", "室内加热器", "储热式电热暖手器"],
        sizes: SMALL_SHOP,
        licence: None,
        ccc: None,
    },
    Trade {
        weight: 3,
        suffixes: &["家纺店", "床上用品商行", "家纺有限公司"],
        kinds: &[SE],
        products: &["化纤被"],
        sizes: SMALL_SHOP,
        licence: None,
        ccc: None,
    },
    Trade {
        weight: 2,
        suffixes: &["劳保用品商行", "安全防护用品有限公司"],
        kinds: &[SE],
        products: &["安全帽"],
        sizes: SMALL_SHOP,
        licence: None,
        ccc: None,
    },
];

/// USCC of the enterprise the demo enterprise user acts for (the registry's first entry).
#[expect(clippy::expect_used, reason = "a constant, valid USCC (checked by a test)")]
pub fn demo_enterprise_uscc() -> Uscc {
    Uscc::from_first17("91140213MA0DT0001").expect("valid demo USCC")
}

fn generated_uscc(prefix: &str, division: &str, org_code: &str) -> Option<Uscc> {
    Uscc::from_first17(&format!("{prefix}{division}{org_code}")).ok()
}

/// The enterprise the demo enterprise user belongs to: a cashmere producer in Pingcheng district.
pub(super) fn demo_enterprise() -> EnterpriseData {
    let uscc = demo_enterprise_uscc();
    EnterpriseData {
        name: "大同市平城区恒信羊绒制品有限公司".into(),
        division_code: uscc.division(),
        uscc,
        address: "山西省大同市平城区魏都大道118号".into(),
        kinds: KindSet::from_kinds([PR, SE]),
        size_class: Some(Small),
        product_lines: vec!["羊绒针织衫".into(), "围巾披肩".into()],
        licence_no: None,
        licence_valid_until: None,
        ccc_cert_no: None,
        status: EnterpriseStatus::Operating,
    }
}

/// The synthetic registry: the same `count` enterprises on every call. The first is the demo
/// enterprise user's; the rest are spread over Datong's divisions by weight.
pub fn generate_registry(count: usize) -> Vec<EnterpriseData> {
    let mut rng = DemoRng(SEED);
    let mut out = Vec::with_capacity(count);
    let first = demo_enterprise();
    let mut names: HashSet<String> = HashSet::from([first.name.clone()]);
    let mut usccs: HashSet<Uscc> = HashSet::from([first.uscc.clone()]);
    if count > 0 {
        out.push(first);
    }
    let areas: Vec<(&Area, u32)> = AREAS.iter().map(|a| (a, a.weight)).collect();
    let trades: Vec<(&Trade, u32)> = TRADES.iter().map(|t| (t, t.weight)).collect();
    let alphabet: Vec<char> = ALPHABET.chars().collect();
    while out.len() < count {
        let area = *rng.weighted(&areas);
        let trade = *rng.weighted(&trades);
        let suffix = *rng.pick(trade.suffixes);
        let a = *rng.pick(TRADE_CHARS);
        let b = *rng.pick(TRADE_CHARS);
        if a == b {
            continue;
        }
        let prefix = match rng.below(10) {
            0..=5 if area.division == DEV_ZONE_DIVISION => "大同经济技术开发区".to_string(),
            0..=5 => format!("大同市{}", area.name),
            6..=7 if area.division != DEV_ZONE_DIVISION => area.name.to_string(),
            _ => "大同".to_string(),
        };
        let name = format!("{prefix}{a}{b}{suffix}");
        if !names.insert(name.clone()) {
            continue;
        }
        // 91: enterprise (company); 92: individual business (个体工商户).
        let company = suffix.contains("公司") || suffix.ends_with("加油站") || suffix.ends_with("制衣厂");
        let org_code: String =
            std::iter::once("MA0".to_string()).chain((0..6).map(|_| rng.pick(&alphabet).to_string())).collect();
        let Some(uscc) = generated_uscc(if company { "91" } else { "92" }, area.division, &org_code) else {
            continue;
        };
        if !usccs.insert(uscc.clone()) {
            continue;
        }
        let mut products: Vec<String> = vec![trade.products[0].to_string()];
        for p in &trade.products[1..] {
            if rng.percent(45) {
                products.push((*p).to_string());
            }
        }
        let producer = trade.kinds.contains(&PR);
        let (licence_no, licence_valid_until) = match trade.licence {
            Some(prefix) if producer && rng.percent(85) => {
                let no = format!("{prefix}-{:05}", 10000 + rng.below(90000));
                // Valid until 2024-07 … 2030-12: about one in ten has lapsed by the 2025 checks.
                let day = NaiveDate::from_ymd_opt(2024, 7, 1).map(|d| d + chrono::Days::new(rng.below(2375)));
                (Some(no), day)
            }
            _ => (None, None),
        };
        let ccc_cert_no = match trade.ccc {
            Some(cat) if producer => Some(format!("{}{}{:08}", 2019 + rng.below(7), cat, rng.below(100_000_000))),
            _ => None,
        };
        let status = match rng.below(100) {
            0..=2 => EnterpriseStatus::Suspended,
            3..=4 => EnterpriseStatus::Deregistered,
            _ => EnterpriseStatus::Operating,
        };
        let street = *rng.pick(area.streets);
        let address = format!("山西省大同市{}{}{}号", area.name, street, 1 + rng.below(398));
        out.push(EnterpriseData {
            name,
            division_code: DivisionCode::parse(area.division).unwrap_or_else(|_| uscc.division()),
            uscc,
            address,
            kinds: KindSet::from_kinds(trade.kinds.iter().copied()),
            size_class: Some(*rng.weighted(trade.sizes)),
            product_lines: products,
            licence_no,
            licence_valid_until,
            ccc_cert_no,
            status,
        });
    }
    out
}

pub(super) async fn load_registry(s: &Services, progress: &mut impl FnMut(DemoProgress)) -> Result<usize> {
    let all = generate_registry(ENTERPRISE_COUNT);
    let keys: Vec<String> = all.iter().map(|e| e.uscc.to_string()).collect();
    let existing: HashSet<String> = enterprises::existing_usccs(s.store().reader(), &keys).await?.into_iter().collect();
    let missing: Vec<EnterpriseData> = all.into_iter().filter(|e| !existing.contains(e.uscc.as_str())).collect();
    let total = missing.len();
    if total == 0 {
        progress(DemoProgress::Enterprises { done: ENTERPRISE_COUNT, total: ENTERPRISE_COUNT });
        return Ok(0);
    }
    let tx = s.write(AuditActor::system(AUDIT_NAME)).await?;
    let n = enterprises::insert_many(&tx, &missing, |done| progress(DemoProgress::Enterprises { done, total })).await?;
    tx.commit(AuditEntry::new(
        "demo.load",
        "enterprise",
        "registry",
        json!(null),
        json!({"enterprises": n, "seed": SEED, "generator": "splitmix64", "divisions": AREAS.iter().map(|a| a.division).collect::<Vec<_>>()}),
    ))
    .await?;
    Ok(n)
}
