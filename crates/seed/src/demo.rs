//! Demo data: the organisations of the two source notices (the Shanxi provincial bureau and its city
//! bureaus, the Datong city bureau with its county/district bureaus and the development-zone branch,
//! and the five institutions), one user for every role, and a synthetic enterprise registry of
//! Datong. Everything is created through the use cases or the store with its audit records, and
//! loading is idempotent: each step creates only what is missing, so a second load changes nothing.
//!
//! The registry is generated from a fixed seed with a small documented generator (SplitMix64), so
//! every load produces the same enterprises. Steps run in order — organisations, registry, users —
//! and a later step (the plans of both notices) is added as one more function in `load`.

use std::collections::HashSet;

use choucha_domain::division::DivisionCode;
use choucha_domain::enterprise::{EnterpriseData, EnterpriseKind, EnterpriseStatus, KindSet, SizeClass};
use choucha_domain::role::Role;
use choucha_domain::uscc::{ALPHABET, Uscc};
use choucha_store::audit::{self, AuditActor, AuditEntry};
use choucha_store::{enterprises, users as store_users};
use chrono::NaiveDate;
use serde::Serialize;
use serde_json::json;

use choucha_service::organisations::{self, OrgInput};
use choucha_service::users::{self, NewUserInput};

pub use crate::demo_plans::{
    CITY_ORG, GUOHAI_ORG, PASSWORD, PROVINCE_ORG, SHANXI_CENTRE_ORG, TIANFANGBIAO_ORG, TIANJIN51_ORG, WEINUO_ORG,
};
use choucha_service::{Result, Services};

/// The name the demo's audit records carry.
pub const AUDIT_NAME: &str = "demo";
/// Enterprises in the synthetic registry.
pub const ENTERPRISE_COUNT: usize = 3000;
/// Seed of the registry generator (the date of the Datong notice).
pub const SEED: u64 = 20250928;

/// A step of the load, for progress reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoProgress {
    Organisations { done: usize, total: usize },
    Enterprises { done: usize, total: usize },
    Users { done: usize, total: usize },
}

impl std::fmt::Display for DemoProgress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DemoProgress::Organisations { done, total } => write!(f, "机构 {done}/{total}"),
            DemoProgress::Enterprises { done, total } => write!(f, "企业名录 {done}/{total}"),
            DemoProgress::Users { done, total } => write!(f, "用户 {done}/{total}"),
        }
    }
}

/// A demo account as printed for people trying the system.
#[derive(Debug, Clone, Serialize)]
pub struct DemoAccount {
    pub username: String,
    pub display_name: String,
    /// Role codes.
    pub roles: Vec<String>,
    /// Chinese role names.
    pub role_labels: String,
    /// The organisation (or, for the enterprise user, the enterprise) the account belongs to.
    pub belongs_to: Option<String>,
    /// Whether this load created the account (false: it existed already and was left alone).
    pub created: bool,
}

/// What a load did.
#[derive(Debug, Clone, Serialize)]
pub struct DemoSummary {
    /// Nothing was missing: the demo had been loaded before.
    pub already_loaded: bool,
    pub organisations_created: usize,
    pub enterprises_created: usize,
    pub users_created: usize,
    /// The two notices' plans (see `demo_plans`).
    pub plans_created: usize,
    pub accounts: Vec<DemoAccount>,
    pub password: &'static str,
}

/// Load the demo data; creates only what is missing.
#[tracing::instrument(skip_all)]
pub async fn load(s: &Services, mut progress: impl FnMut(DemoProgress)) -> Result<DemoSummary> {
    let organisations_created = load_organisations(s, &mut progress).await?;
    let enterprises_created = load_registry(s, &mut progress).await?;
    let (users_created, accounts) = load_users(s, &mut progress).await?;
    let plans_created = crate::demo_plans::load_plans(s).await?.len();
    let mut accounts = accounts;
    for (username, name) in crate::demo_plans::GUOHAI_SAMPLERS {
        accounts.push(DemoAccount {
            username: username.into(),
            display_name: name.into(),
            roles: vec![Role::Sampler.as_str().into()],
            role_labels: Role::Sampler.label().into(),
            belongs_to: Some("山西国海质检技术服务有限公司（车用柴油抽样）".into()),
            created: plans_created > 0,
        });
    }
    Ok(DemoSummary {
        already_loaded: organisations_created + enterprises_created + users_created + plans_created == 0,
        organisations_created,
        enterprises_created,
        users_created,
        plans_created,
        accounts,
        password: PASSWORD,
    })
}

// ---------------------------------------------------------------------------------------------
// Organisations
// ---------------------------------------------------------------------------------------------

/// Code of the Pingcheng district bureau (the demo local regulator's).
pub const LOCAL_ORG: &str = "dt-pingcheng";

/// Division code used for the Datong economic and technological development zone. GB/T 2260 has no
/// code for it; 140271 follows the statistical practice of numbering such zones 71 and up.
pub const DEV_ZONE_DIVISION: &str = "140271";

struct DemoOrg {
    code: &'static str,
    name: &'static str,
    kind: &'static str,
    parent: Option<&'static str>,
    division: &'static str,
    /// CMA number (synthetic) of an institution.
    qualification: Option<&'static str>,
    /// (sampling, testing, screening)
    caps: (bool, bool, bool),
    address: &'static str,
}

const fn bureau(
    code: &'static str,
    name: &'static str,
    kind: &'static str,
    parent: Option<&'static str>,
    division: &'static str,
    address: &'static str,
) -> DemoOrg {
    DemoOrg { code, name, kind, parent, division, qualification: None, caps: (false, false, false), address }
}

const PB: &str = "province_bureau";
const CB: &str = "city_bureau";
const LB: &str = "local_bureau";

/// Parents come before their children.
const ORGS: &[DemoOrg] = &[
    bureau(PROVINCE_ORG, "山西省市场监督管理局", PB, None, "140000", "山西省太原市"),
    bureau("ty-amr", "太原市市场监督管理局", CB, Some(PROVINCE_ORG), "140100", "山西省太原市"),
    bureau(CITY_ORG, "大同市市场监督管理局", CB, Some(PROVINCE_ORG), "140200", "山西省大同市平城区"),
    bureau("yq-amr", "阳泉市市场监督管理局", CB, Some(PROVINCE_ORG), "140300", "山西省阳泉市"),
    bureau("cz-amr", "长治市市场监督管理局", CB, Some(PROVINCE_ORG), "140400", "山西省长治市"),
    bureau("jc-amr", "晋城市市场监督管理局", CB, Some(PROVINCE_ORG), "140500", "山西省晋城市"),
    bureau("sz-amr", "朔州市市场监督管理局", CB, Some(PROVINCE_ORG), "140600", "山西省朔州市"),
    bureau("jz-amr", "晋中市市场监督管理局", CB, Some(PROVINCE_ORG), "140700", "山西省晋中市"),
    bureau("yc-amr", "运城市市场监督管理局", CB, Some(PROVINCE_ORG), "140800", "山西省运城市"),
    bureau("xz-amr", "忻州市市场监督管理局", CB, Some(PROVINCE_ORG), "140900", "山西省忻州市"),
    bureau("lf-amr", "临汾市市场监督管理局", CB, Some(PROVINCE_ORG), "141000", "山西省临汾市"),
    bureau("ll-amr", "吕梁市市场监督管理局", CB, Some(PROVINCE_ORG), "141100", "山西省吕梁市"),
    bureau("dt-xinrong", "大同市新荣区市场监督管理局", LB, Some(CITY_ORG), "140212", "山西省大同市新荣区"),
    bureau(LOCAL_ORG, "大同市平城区市场监督管理局", LB, Some(CITY_ORG), "140213", "山西省大同市平城区"),
    bureau("dt-yungang", "大同市云冈区市场监督管理局", LB, Some(CITY_ORG), "140214", "山西省大同市云冈区"),
    bureau("dt-yunzhou", "大同市云州区市场监督管理局", LB, Some(CITY_ORG), "140215", "山西省大同市云州区"),
    bureau("dt-yanggao", "大同市阳高县市场监督管理局", LB, Some(CITY_ORG), "140221", "山西省大同市阳高县"),
    bureau("dt-tianzhen", "大同市天镇县市场监督管理局", LB, Some(CITY_ORG), "140222", "山西省大同市天镇县"),
    bureau("dt-guangling", "大同市广灵县市场监督管理局", LB, Some(CITY_ORG), "140223", "山西省大同市广灵县"),
    bureau("dt-lingqiu", "大同市灵丘县市场监督管理局", LB, Some(CITY_ORG), "140224", "山西省大同市灵丘县"),
    bureau("dt-hunyuan", "大同市浑源县市场监督管理局", LB, Some(CITY_ORG), "140225", "山西省大同市浑源县"),
    bureau("dt-zuoyun", "大同市左云县市场监督管理局", LB, Some(CITY_ORG), "140226", "山西省大同市左云县"),
    bureau(
        "dt-kfq",
        "大同市市场监督管理局经济技术开发区分局",
        LB,
        Some(CITY_ORG),
        DEV_ZONE_DIVISION,
        "山西省大同市经济技术开发区",
    ),
    DemoOrg {
        code: SHANXI_CENTRE_ORG,
        name: "山西省检验检测中心",
        kind: "institution",
        parent: None,
        division: "140000",
        qualification: Some("CMA 210414050123"),
        caps: (true, true, false),
        address: "山西省太原市",
    },
    DemoOrg {
        code: TIANJIN51_ORG,
        name: "天津五十一站质量检验中心有限公司",
        kind: "institution",
        parent: None,
        division: "120000",
        qualification: Some("CMA 201201070345"),
        caps: (true, true, false),
        address: "天津市",
    },
    DemoOrg {
        code: GUOHAI_ORG,
        name: "山西国海质检技术服务有限公司",
        kind: "institution",
        parent: None,
        division: "140000",
        qualification: Some("CMA 221404110287"),
        caps: (true, false, false),
        address: "山西省太原市",
    },
    DemoOrg {
        code: WEINUO_ORG,
        name: "江苏威诺检测技术有限公司",
        kind: "institution",
        parent: None,
        division: "320000",
        qualification: Some("CMA 193210340619"),
        caps: (false, false, true),
        address: "江苏省",
    },
    DemoOrg {
        code: TIANFANGBIAO_ORG,
        name: "天纺标检测认证股份有限公司",
        kind: "institution",
        parent: None,
        division: "120000",
        qualification: Some("CMA 211210010458"),
        caps: (false, true, false),
        address: "天津市",
    },
];

async fn load_organisations(s: &Services, progress: &mut impl FnMut(DemoProgress)) -> Result<usize> {
    let mut created = 0;
    for (i, o) in ORGS.iter().enumerate() {
        if organisations::get_by_code(s, o.code).await?.is_none() {
            let input = OrgInput {
                code: o.code.into(),
                name: o.name.into(),
                kind: o.kind.into(),
                parent_code: o.parent.map(str::to_string),
                division_code: Some(o.division.into()),
                qualification_no: o.qualification.map(str::to_string),
                cap_sampling: o.caps.0,
                cap_testing: o.caps.1,
                cap_screening: o.caps.2,
                address: o.address.into(),
                phone: String::new(),
                active: true,
            };
            organisations::create_as_system(s, AUDIT_NAME, input).await?;
            created += 1;
        }
        progress(DemoProgress::Organisations { done: i + 1, total: ORGS.len() });
    }
    Ok(created)
}

// ---------------------------------------------------------------------------------------------
// Registry
// ---------------------------------------------------------------------------------------------

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

use EnterpriseKind::{ECommerce as EC, FuelStation as FS, Producer as PR, Seller as SE};
use SizeClass::{Large, Medium, Micro, Small};

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
fn demo_enterprise() -> EnterpriseData {
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

async fn load_registry(s: &Services, progress: &mut impl FnMut(DemoProgress)) -> Result<usize> {
    let all = generate_registry(ENTERPRISE_COUNT);
    let keys: Vec<String> = all.iter().map(|e| e.uscc.to_string()).collect();
    let existing: HashSet<String> = enterprises::existing_usccs(s.store.reader(), &keys).await?.into_iter().collect();
    let missing: Vec<EnterpriseData> = all.into_iter().filter(|e| !existing.contains(e.uscc.as_str())).collect();
    let total = missing.len();
    if total == 0 {
        progress(DemoProgress::Enterprises { done: ENTERPRISE_COUNT, total: ENTERPRISE_COUNT });
        return Ok(0);
    }
    let tx = s.store.begin().await?;
    let n = enterprises::insert_many(&tx, &missing, |done| progress(DemoProgress::Enterprises { done, total })).await?;
    audit::append(
        &tx,
        &AuditActor::system(AUDIT_NAME),
        AuditEntry::new(
            "demo.load",
            "enterprise",
            "registry",
            json!(null),
            json!({"enterprises": n, "seed": SEED, "generator": "splitmix64", "divisions": AREAS.iter().map(|a| a.division).collect::<Vec<_>>()}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(n)
}

// ---------------------------------------------------------------------------------------------
// Users
// ---------------------------------------------------------------------------------------------

struct DemoUser {
    username: &'static str,
    display_name: &'static str,
    role: Role,
    org: Option<&'static str>,
    phone: &'static str,
    /// Samplers show their identity on site (DESIGN.md rule 2): a synthetic number with a valid
    /// GB 11643 check digit is derived from this birth date and sequence.
    id_card: Option<(&'static str, &'static str, &'static str)>,
}

/// One account per role; two samplers, since a sampling needs at least two (DESIGN.md rule 2).
/// Samplers and testers work for different institutions (抽检分离, rule 1).
const USERS: &[DemoUser] = &[
    DemoUser {
        username: "admin", display_name: "系统管理员", role: Role::Admin, org: None, phone: "", id_card: None
    },
    DemoUser {
        username: "regulator",
        display_name: "王建国",
        role: Role::Regulator,
        org: Some(CITY_ORG),
        phone: "0352-0000001",
        id_card: None,
    },
    // A second regulator of the bureau: an announcement is approved by someone other than its drafter.
    DemoUser {
        username: "regulator2",
        display_name: "李秀英",
        role: Role::Regulator,
        org: Some(CITY_ORG),
        phone: "0352-0000002",
        id_card: None,
    },
    DemoUser {
        username: "local_regulator",
        display_name: "李秀英",
        role: Role::LocalRegulator,
        org: Some(LOCAL_ORG),
        phone: "0352-0000002",
        id_card: None,
    },
    DemoUser {
        username: "sampler",
        display_name: "张伟",
        role: Role::Sampler,
        org: Some(TIANJIN51_ORG),
        phone: "13800000001",
        id_card: Some(("120104", "19880512", "031")),
    },
    DemoUser {
        username: "sampler2",
        display_name: "刘洋",
        role: Role::Sampler,
        org: Some(TIANJIN51_ORG),
        phone: "13800000002",
        id_card: Some(("120105", "19920807", "052")),
    },
    DemoUser {
        username: "sample_custodian",
        display_name: "陈静",
        role: Role::SampleCustodian,
        org: Some(TIANFANGBIAO_ORG),
        phone: "13800000003",
        id_card: None,
    },
    DemoUser {
        username: "tester",
        display_name: "赵磊",
        role: Role::Tester,
        org: Some(TIANFANGBIAO_ORG),
        phone: "13800000004",
        id_card: None,
    },
    DemoUser {
        username: "report_approver",
        display_name: "孙丽",
        role: Role::ReportApprover,
        org: Some(TIANFANGBIAO_ORG),
        phone: "13800000005",
        id_card: None,
    },
    // The laboratory of 天津五十一站, which tests Datong's 车用柴油: a custodian, two testers and two
    // reviewers/approvers, so a report can be prepared, reviewed and approved by three people (rule 15).
    DemoUser {
        username: "tj_custodian",
        display_name: "马丽",
        role: Role::SampleCustodian,
        org: Some(TIANJIN51_ORG),
        phone: "13800000011",
        id_card: None,
    },
    DemoUser {
        username: "tj_tester",
        display_name: "高强",
        role: Role::Tester,
        org: Some(TIANJIN51_ORG),
        phone: "13800000012",
        id_card: None,
    },
    DemoUser {
        username: "tj_tester2",
        display_name: "林芳",
        role: Role::Tester,
        org: Some(TIANJIN51_ORG),
        phone: "13800000013",
        id_card: None,
    },
    DemoUser {
        username: "tj_reviewer",
        display_name: "郭明",
        role: Role::ReportApprover,
        org: Some(TIANJIN51_ORG),
        phone: "13800000014",
        id_card: None,
    },
    DemoUser {
        username: "tj_approver",
        display_name: "何平",
        role: Role::ReportApprover,
        org: Some(TIANJIN51_ORG),
        phone: "13800000015",
        id_card: None,
    },
    // The laboratory of 山西省检验检测中心, which takes re-tests of other institutions' samples
    // (rule 18: another institution where possible).
    DemoUser {
        username: "sx_custodian",
        display_name: "韩雪",
        role: Role::SampleCustodian,
        org: Some(SHANXI_CENTRE_ORG),
        phone: "13800000021",
        id_card: None,
    },
    DemoUser {
        username: "sx_tester",
        display_name: "冯涛",
        role: Role::Tester,
        org: Some(SHANXI_CENTRE_ORG),
        phone: "13800000022",
        id_card: None,
    },
    DemoUser {
        username: "sx_reviewer",
        display_name: "曹颖",
        role: Role::ReportApprover,
        org: Some(SHANXI_CENTRE_ORG),
        phone: "13800000023",
        id_card: None,
    },
    DemoUser {
        username: "sx_approver",
        display_name: "彭军",
        role: Role::ReportApprover,
        org: Some(SHANXI_CENTRE_ORG),
        phone: "13800000024",
        id_card: None,
    },
    DemoUser {
        username: "enterprise",
        display_name: "周涛",
        role: Role::Enterprise,
        org: None,
        phone: "13800000006",
        id_card: None,
    },
];

/// The demo usernames by role (the browser tests sign in as each).
pub fn usernames() -> Vec<(&'static str, Role)> {
    USERS.iter().map(|u| (u.username, u.role)).collect()
}

/// A resident identity number (GB 11643): region (6), birth date (8), sequence (3), check character.
fn id_card_no(region: &str, birth: &str, seq: &str) -> String {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];
    let body = format!("{region}{birth}{seq}");
    let sum: u32 = body.chars().zip(WEIGHTS).map(|(c, w)| c.to_digit(10).unwrap_or(0) * w).sum();
    format!("{body}{}", CHECK[(sum % 11) as usize])
}

async fn load_users(s: &Services, progress: &mut impl FnMut(DemoProgress)) -> Result<(usize, Vec<DemoAccount>)> {
    let enterprise_uscc = demo_enterprise_uscc().to_string();
    let enterprise_name = demo_enterprise().name;
    let mut created = 0;
    let mut accounts = Vec::with_capacity(USERS.len());
    for (i, u) in USERS.iter().enumerate() {
        let exists = store_users::find_by_username(s.store.reader(), u.username).await?.is_some();
        if !exists {
            let input = NewUserInput {
                username: u.username.into(),
                display_name: u.display_name.into(),
                password: PASSWORD.into(),
                roles: vec![u.role.as_str().into()],
                org_code: u.org.map(str::to_string),
                enterprise_uscc: (u.role == Role::Enterprise).then(|| enterprise_uscc.clone()),
                phone: u.phone.into(),
                id_card_no: u.id_card.map(|(r, b, q)| id_card_no(r, b, q)).unwrap_or_default(),
            };
            users::create_as_system(s, AUDIT_NAME, input).await?;
            created += 1;
        }
        let belongs_to = match (u.org, u.role) {
            (Some(code), _) => ORGS.iter().find(|o| o.code == code).map(|o| o.name.to_string()),
            (None, Role::Enterprise) => Some(enterprise_name.clone()),
            (None, _) => None,
        };
        accounts.push(DemoAccount {
            username: u.username.into(),
            display_name: u.display_name.into(),
            roles: vec![u.role.as_str().into()],
            role_labels: u.role.label().into(),
            belongs_to,
            created: !exists,
        });
        progress(DemoProgress::Users { done: i + 1, total: USERS.len() });
    }
    Ok((created, accounts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use choucha_store::audit::Verification;
    use choucha_store::fixtures::TestDb;

    #[test]
    fn registry_is_deterministic_valid_and_in_datong() {
        let a = generate_registry(ENTERPRISE_COUNT);
        let b = generate_registry(ENTERPRISE_COUNT);
        assert_eq!(a, b);
        assert_eq!(a.len(), ENTERPRISE_COUNT);
        let usccs: HashSet<_> = a.iter().map(|e| e.uscc.clone()).collect();
        let names: HashSet<_> = a.iter().map(|e| e.name.clone()).collect();
        assert_eq!(usccs.len(), a.len(), "USCCs are unique");
        assert_eq!(names.len(), a.len(), "names are unique");
        for e in &a {
            assert!(Uscc::parse(e.uscc.as_str()).is_ok());
            assert_eq!(e.uscc.division(), e.division_code, "{}", e.name);
            assert!(e.division_code.as_str().starts_with("1402"), "{}", e.division_code);
            assert!(!e.product_lines.is_empty());
        }
        let count = |k: EnterpriseKind| a.iter().filter(|e| e.kinds.contains(k)).count();
        assert!(count(FS) > 200, "fuel stations for 车用柴油");
        assert!(count(PR) > 200);
        assert!(count(EC) > 50);
        assert!(a.iter().any(|e| e.licence_no.is_some() && e.licence_valid_until.is_some()));
        assert!(a.iter().any(|e| e.ccc_cert_no.is_some()));
        assert!(a.iter().any(|e| e.status == EnterpriseStatus::Suspended));
        assert!(a.iter().any(|e| e.status == EnterpriseStatus::Deregistered));
        for p in ["车用柴油", "电冰箱", "家用电动洗衣机", "羊绒针织衫", "羽绒服装"] {
            assert!(a.iter().filter(|e| e.product_lines.iter().any(|l| l == p)).count() > 30, "{p}");
        }
        assert_eq!(a[0].uscc, demo_enterprise_uscc());
    }

    #[test]
    fn sampler_identity_numbers_have_valid_check_characters() {
        // The GB 11643 example number.
        assert_eq!(id_card_no("110105", "19491231", "002"), "11010519491231002X");
    }

    #[tokio::test]
    async fn loads_once_and_a_second_load_changes_nothing() {
        let db = TestDb::new().await.expect("db");
        let s = Services::new(db.store.clone(), std::env::temp_dir());
        let mut steps = 0;
        let first = load(&s, |_| steps += 1).await.expect("load");
        assert!(!first.already_loaded);
        assert_eq!(first.organisations_created, ORGS.len());
        assert_eq!(first.enterprises_created, ENTERPRISE_COUNT);
        assert_eq!(first.users_created, USERS.len());
        assert!(steps > 0);
        for role in Role::ALL {
            assert!(first.accounts.iter().any(|a| a.roles == vec![role.as_str().to_string()]), "{role}");
        }
        assert_eq!(first.plans_created, 2);
        let admin = choucha_service::auth::login(&s, "admin", PASSWORD).await.expect("admin");
        let plans = choucha_service::plans::list(&s, &admin, &Default::default()).await.expect("plans");
        let mut totals: Vec<(i64, usize)> = Vec::new();
        for p in &plans.items {
            let v = choucha_service::plans::get(&s, &admin, p.id).await.expect("plan");
            assert_eq!(v.state, choucha_domain::plan::PlanState::Issued);
            totals.push((v.total_quota, v.items.len()));
        }
        totals.sort();
        // Datong 2025: 5 items, 190 batches; Shanxi 2022 batch 4: 22 items (two under 6), 745.
        assert_eq!(totals, vec![(190, 5), (745, 22)]);
        let second = load(&s, |_| {}).await.expect("second load");
        assert!(second.already_loaded);
        assert_eq!(second.plans_created, 0);
        assert_eq!(second.enterprises_created, 0);
        assert!(second.accounts.iter().all(|a| !a.created));
        match choucha_store::audit::verify(&s.store, |_| {}).await.expect("verify") {
            // Plus the plans (2 samplers of 山西国海, 2 plans created and issued, 1 rules published)
            // the 车用柴油 draw run and published, and the admin's audited sign-in above.
            Verification::Intact { records } => {
                assert_eq!(records as usize, ORGS.len() + 1 + USERS.len() + 2 + 4 + 1 + 2 + 1)
            }
            other => panic!("chain broken: {other:?}"),
        }
        let who = choucha_service::auth::login(&s, "enterprise", PASSWORD).await.expect("enterprise signs in");
        let own = choucha_service::registry::own_enterprise(&s, &who).await.expect("own").expect("bound");
        assert_eq!(own.uscc, demo_enterprise_uscc().to_string());
        let local = choucha_service::auth::login(&s, "local_regulator", PASSWORD).await.expect("local signs in");
        assert_eq!(local.registry_scope().as_deref(), Some("140213"));
    }
}
