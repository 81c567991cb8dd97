//! The reference tables the bench data draws from: provinces, Shanxi's cities and bureaus, trades,
//! name characters and the products with their standards.

/// (code, short name, cities, weight): the 31 provinces of GB/T 2260, weighted roughly by their
/// number of market entities; Shanxi's weight makes it a fifth of the registry.
pub(super) const PROVINCES: [(&str, &str, u32, u32); 31] = [
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
pub(super) const SHANXI_CITIES: [&str; 11] =
    ["太原市", "大同市", "阳泉市", "长治市", "晋城市", "朔州市", "晋中市", "运城市", "忻州市", "临汾市", "吕梁市"];

/// Demo codes of Shanxi's city bureaus, in city order (1401 … 1411).
pub(super) const CITY_BUREAUS: [&str; 11] =
    ["ty-amr", "dt-amr", "yq-amr", "cz-amr", "jc-amr", "sz-amr", "jz-amr", "yc-amr", "xz-amr", "lf-amr", "ll-amr"];

pub(super) struct Trade {
    /// producer 1, seller 2, fuel station 4, e-commerce 8
    pub(super) kinds: i32,
    pub(super) suffixes: &'static [&'static str],
    pub(super) products: &'static [&'static str],
    pub(super) weight: u32,
    pub(super) licence: Option<&'static str>,
    pub(super) ccc: Option<&'static str>,
}

pub(super) const TRADES: [Trade; 12] = [
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

pub(super) const NAME_CHARS: &str = "华鑫源泰恒盛兴隆昌达丰瑞祥宏嘉德福顺通安康宁晋汾云岳龙凤金银明亮光辉新宇腾飞远航博雅诚信志诚永久美佳旺鼎润泽汇聚中天合众创科";
pub(super) const STREETS: [&str; 8] = ["解放路", "建设路", "人民路", "迎宾街", "文化路", "和平街", "新华街", "开源路"];
pub(super) const SURNAMES: &str = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程";

/// (product, category, scopes, standard, unit, price)
pub(super) const PRODUCTS: [(&str, &str, &str, &str, &str, f64); 20] = [
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
pub(super) fn trades_of(product: &str) -> Vec<usize> {
    TRADES.iter().enumerate().filter(|(_, t)| t.products.contains(&product)).map(|(i, _)| i).collect()
}
