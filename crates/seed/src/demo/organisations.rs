//! The demo's organisations: the Shanxi provincial bureau and its city bureaus, the Datong city
//! bureau with its county/district bureaus and the development-zone branch, and the five
//! institutions. Parents come before their children.

use choucha_service::organisations::{self, OrgInput};
use choucha_service::{Result, Services};

use super::{
    AUDIT_NAME, CITY_ORG, DemoProgress, GUOHAI_ORG, PROVINCE_ORG, SHANXI_CENTRE_ORG, TIANFANGBIAO_ORG, TIANJIN51_ORG,
    WEINUO_ORG,
};

/// Code of the Pingcheng district bureau (the demo local regulator's).
pub const LOCAL_ORG: &str = "dt-pingcheng";

/// Division code used for the Datong economic and technological development zone. GB/T 2260 has no
/// code for it; 140271 follows the statistical practice of numbering such zones 71 and up.
pub const DEV_ZONE_DIVISION: &str = "140271";

pub(super) struct DemoOrg {
    pub(super) code: &'static str,
    pub(super) name: &'static str,
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
pub(super) const ORGS: &[DemoOrg] = &[
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

pub(super) async fn load_organisations(s: &Services, progress: &mut impl FnMut(DemoProgress)) -> Result<usize> {
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
