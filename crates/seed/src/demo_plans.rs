//! The two notices' plans for the demo, exactly as printed in their Annex 1 tables, with the
//! institutions each notice assigns; Datong's 车用柴油 also gets published implementation rules so
//! the draw and on-site sampling can be tried at once: a published draw of 车用柴油 at fuel stations
//! of 平城区 (fixed seed) gives the two 山西国海 samplers their tasks when the demo starts.

use choucha_domain::implementation_rules::Limit;

use choucha_service::draws::{self, DrawFilters, DrawRequest};
use choucha_service::implementation_rules::{self, RulesBody, TestItemInput};
use choucha_service::plans::{self, ItemInput, PlanDraft, PlanInput};
use choucha_service::users::{self, NewUserInput};
use choucha_service::{Result, Services};

// The demo organisations and password (the demo loader uses them too).
/// Code of the Datong city bureau (organiser of the 2025 notice).
pub const CITY_ORG: &str = "dt-amr";
/// 山西国海: 车用柴油 sampling of Datong 2025.
pub const GUOHAI_ORG: &str = "sxgh";
/// The password of every demo account (meets the policy: letters and digits, at least 8).
pub const PASSWORD: &str = "Choucha2025";
/// Code of the Shanxi provincial bureau (organiser of the 2022 batch-4 notice).
pub const PROVINCE_ORG: &str = "sx-amr";
/// 山西省检验检测中心: sampling and testing of the provincial 2022 batch.
pub const SHANXI_CENTRE_ORG: &str = "sxjc";
/// 天纺标: testing of 羊绒针织衫 and 羽绒服装 of Datong 2025.
pub const TIANFANGBIAO_ORG: &str = "tfb";
/// 天津五十一站: lead sampling institution and 车用柴油 testing of Datong 2025.
pub const TIANJIN51_ORG: &str = "tj51";
/// 江苏威诺: screening of the appliances of Datong 2025 (DESIGN.md rule 24).
pub const WEINUO_ORG: &str = "jswn";

const WHO: &str = "demo";

/// Samplers of 山西国海 (it samples Datong's 车用柴油).
pub const GUOHAI_SAMPLERS: [(&str, &str); 2] = [("gh_sampler1", "郭海峰"), ("gh_sampler2", "韩晓燕")];

/// Synthetic identity numbers of those samplers (shown on the sampling record).
const GUOHAI_SAMPLER_IDS: [&str; 2] = ["140211198706153318", "140203199002284526"];

/// The institutions of an item: sampling, testing, screening.
type Assigned<'a> = (&'a str, &'a str, Option<&'a str>);

fn item(
    n: &str,
    cat: &str,
    product: &str,
    quota: Option<u32>,
    scopes: &str,
    (sampling, testing, screening): Assigned,
) -> ItemInput {
    ItemInput {
        number: n.into(),
        category: cat.into(),
        product: product.into(),
        quota,
        scopes: scopes.into(),
        sampling_org_code: Some(sampling.into()),
        testing_org_code: Some(testing.into()),
        screening_org_code: screening.map(str::to_string),
    }
}

/// 大同市市场监督管理局, 2025-09-28: 5 products, 190 batches (电冰箱 + 家用电动洗衣机 share 60,
/// 羊绒针织衫 + 羽绒服装 share 60).
pub fn datong_2025() -> PlanDraft {
    let tj = TIANJIN51_ORG;
    PlanDraft {
        plan: PlanInput {
            year: 2025,
            title: "2025年车用柴油、家电产品、羊绒衫、羽绒服等产品质量监督抽查".into(),
            organising_org_code: Some(CITY_ORG.into()),
            doc_no: String::new(),
            contact_name: "质量监督科 李明".into(),
            contact_phone: "0352-5022345".into(),
            domains: "生产领域、流通领域".into(),
            deadline_delivery: Some("2025-11-15".into()),
            deadline_data_entry: Some("2025-11-20".into()),
            deadline_summary: Some("2025-11-20".into()),
            unqualified_report_days: None,
            budget_yuan: None,
            notes: "天津五十一站质量检验中心有限公司牵头负责抽（检）样工作；山西国海质检技术服务有限公司负责车用柴油监督抽样；江苏威诺检测技术有限公司承接家电产品快速筛查；天纺标检测认证股份有限公司承接羊绒衫、羽绒服检验。".into(),
        },
        items: vec![
            item("1", "机械及安防", "车用柴油", Some(70), "生产者、销售者", (GUOHAI_ORG, tj, None)),
            item("2", "电子电器", "电冰箱", Some(60), "生产者、销售者", (tj, tj, Some(WEINUO_ORG))),
            item("3", "电子电器", "家用电动洗衣机", None, "生产者、销售者", (tj, tj, Some(WEINUO_ORG))),
            item("4", "日用及纺织品", "羊绒针织衫", Some(60), "生产者、销售者", (tj, TIANFANGBIAO_ORG, None)),
            item("5", "日用及纺织品", "羽绒服装", None, "生产者、销售者", (tj, TIANFANGBIAO_ORG, None)),
        ],
    }
}

/// 山西省市场监督管理局, 晋市监函〔2022〕279号: 21 numbered products (22 items: 食品接触用纸制品
/// and 塑料制品 both under 6), 745 batches, all by 山西省检验检测中心.
pub fn shanxi_2022_batch4() -> PlanDraft {
    let c = SHANXI_CENTRE_ORG;
    let rows: [(&str, &str, &str, u32, &str); 22] = [
        ("1", "家用电器及电器附件", "电池（储能电池、原电池）", 5, "生产者、销售者"),
        ("2", "家用电器及电器附件", "储热式电热暖手器", 25, "销售者"),
        ("3", "家用电器及电器附件", "室内加热器", 25, "生产者、销售者"),
        ("4", "家用电器及电器附件", "加湿器", 10, "生产者、销售者"),
        ("5", "家用电器及电器附件", "灯串", 30, "生产者、销售者"),
        ("6", "食品相关产品", "食品接触用纸制品", 10, "生产者、销售者"),
        ("6", "食品相关产品", "食品接触用塑料制品", 10, "生产者、销售者"),
        ("7", "日用杂品", "眼镜（配装眼镜）", 40, "生产者、销售者"),
        ("8", "日用杂品", "眼镜镜片", 30, "生产者、销售者"),
        ("9", "日用杂品", "眼镜架", 30, "生产者、销售者"),
        ("10", "交通用具及相关产品", "车用柴油", 200, "加油站"),
        ("11", "交通用具及相关产品", "车用汽油", 100, "加油站"),
        ("12", "交通用具及相关产品", "车用尿素水溶液", 50, "生产者、加油站"),
        ("13", "工业生产资料", "氯碱", 5, "生产者"),
        ("14", "工业生产资料", "轴承", 25, "生产者、销售者"),
        ("15", "服装鞋帽及家用纺织品", "围巾披肩", 5, "销售者"),
        ("16", "服装鞋帽及家用纺织品", "冲锋衣", 20, "销售者"),
        ("17", "服装鞋帽及家用纺织品", "棉服装", 30, "生产者、销售者"),
        ("18", "服装鞋帽及家用纺织品", "羽绒服装", 30, "销售者"),
        ("19", "服装鞋帽及家用纺织品", "化纤被", 30, "生产者、销售者"),
        ("20", "服装鞋帽及家用纺织品", "安全帽", 5, "生产者、销售者"),
        ("21", "服装鞋帽及家用纺织品", "运动服装", 30, "生产者、销售者"),
    ];
    PlanDraft {
        plan: PlanInput {
            year: 2022,
            title: "2022年第四批产品质量监督抽查".into(),
            organising_org_code: Some(PROVINCE_ORG.into()),
            doc_no: "晋市监函〔2022〕279号".into(),
            contact_name: String::new(),
            contact_phone: String::new(),
            domains: "生产领域、流通领域（实体店抽查）".into(),
            deadline_delivery: Some("2022-12-20".into()),
            deadline_data_entry: Some("2022-12-23".into()),
            deadline_summary: Some("2022-12-20".into()),
            unqualified_report_days: Some(7),
            budget_yuan: None,
            notes: "山西省检验检测中心承担21种产品的监督抽检任务；对抽检发现的不合格产品开具《产品质量改进建议书》。"
                .into(),
        },
        items: rows.iter().map(|(n, cat, p, q, sc)| item(n, cat, p, Some(*q), sc, (c, c, None))).collect(),
    }
}

/// 车用柴油 rules after GB 19147-2016 (the main items of the standard's table).
pub fn diesel_rules() -> RulesBody {
    let t = |name: &str, method: &str, limit: Limit, unit: &str| TestItemInput {
        name: name.into(),
        method: method.into(),
        limit,
        unit: unit.into(),
        class: None,
    };
    RulesBody {
        standards: vec!["GB 19147-2016《车用柴油》".into()],
        test_items: vec![
            t("硫含量", "SH/T 0689", Limit::Max { max: 10.0, inclusive: true }, "mg/kg"),
            t("闪点（闭口）", "GB/T 261", Limit::Min { min: 60.0, inclusive: true }, "℃"),
            t("十六烷值", "GB/T 386", Limit::Min { min: 51.0, inclusive: true }, ""),
            t("多环芳烃含量（质量分数）", "SH/T 0806", Limit::Max { max: 7.0, inclusive: true }, "%"),
            t("密度（20℃）", "GB/T 1884、GB/T 1885", Limit::Range { min: 810.0, max: 845.0 }, "kg/m³"),
            t("水含量", "GB/T 260", Limit::EqualsText { text: "痕迹".into() }, ""),
        ],
        test_portion: "2L（1L×2瓶）".into(),
        backup_portion: "2L（1L×2瓶）".into(),
        min_base: "不少于200L".into(),
        judgement_principle: "依据GB 19147-2016判定，所检项目全部符合标准要求的，判定为所检项目未发现不合格；有一项及以上不符合的，判定为不合格。".into(),
        retest_terms: "复检在备用样品上进行，仅检验异议项目。".into(),
        licence: implementation_rules::LicenceRequirement::None,
        test_quantity: Some(2.0),
        backup_quantity: Some(2.0),
        min_base_quantity: Some(200.0),
        quantity_unit: "L".into(),
        scheme: "山西国海质检技术服务有限公司按随机抽取结果组织抽样，每组2人；样品由抽样人员当日送至天津五十一站质量检验中心有限公司，\
                 检验样品与备用样品分别封样，备用样品由检验机构保存至异议期满。"
            .into(),
        required_evidence: None,
    }
}

/// Seed of the demo's draw of Datong's 车用柴油: fixed, so every demo has the same tasks.
pub const DIESEL_DRAW_SEED: &str = "demo-2025-datong-diesel";

/// The district of the demo's local bureau (大同市平城区), where the demo's fuel stations are drawn.
const PINGCHENG: &str = "140213";

/// Fuel stations drawn for 车用柴油 in the demo.
pub const DIESEL_DRAW_QUOTA: u32 = 6;

/// The organising bureau's regulator draws fuel stations for Datong's 车用柴油 and publishes the
/// draw, through the draws use cases (recorded and audited like any draw). Skipped when the demo's
/// regulator account does not exist.
async fn draw_diesel(s: &Services, item_id: i64) -> Result<()> {
    let Some(regulator) = choucha_store::users::find_by_username(s.store().reader(), "regulator").await? else {
        return Ok(());
    };
    let actor = choucha_service::auth::actor_for_user(s, regulator.id).await?;
    let drawn = draws::run(
        s,
        &actor,
        DrawRequest {
            item_id,
            quota: DIESEL_DRAW_QUOTA,
            seed: DIESEL_DRAW_SEED.into(),
            stratified: false,
            team_size: Some(2),
            // Pingcheng: the demo's local bureau co-signs refusals and receives problem reports there.
            filters: DrawFilters {
                division: Some(PINGCHENG.into()),
                scopes: Some("加油站".into()),
                ..Default::default()
            },
            risk_weights: None,
        },
    )
    .await?;
    draws::publish(s, &actor, drawn.id).await?;
    Ok(())
}

/// The day the Datong notice's dates are written for: a demo started on it (`serve --demo --today
/// 2025-10-20`) gets the notice's own deadlines; a demo started on another day gets them moved by
/// the same number of days, so nothing is overdue the moment it is created.
pub const DATONG_REFERENCE_DAY: (i32, u32, u32) = (2025, 10, 20);
/// The same for the Shanxi 2022 notice.
pub const SHANXI_REFERENCE_DAY: (i32, u32, u32) = (2022, 10, 20);

/// `draft` with its deadlines moved from `reference` to `today` (the same distance after it).
pub fn on_today(mut draft: PlanDraft, reference: (i32, u32, u32), today: chrono::NaiveDate) -> PlanDraft {
    let Some(reference) = chrono::NaiveDate::from_ymd_opt(reference.0, reference.1, reference.2) else {
        return draft;
    };
    let shift = today - reference;
    let moved = |d: &mut Option<String>| {
        if let Some(day) = d.as_deref().and_then(|t| chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d").ok()) {
            *d = Some((day + shift).to_string());
        }
    };
    moved(&mut draft.plan.deadline_delivery);
    moved(&mut draft.plan.deadline_data_entry);
    moved(&mut draft.plan.deadline_summary);
    draft
}

/// Load both plans (issued), two samplers of 山西国海, Datong's 车用柴油 rules (published) and
/// its published draw at fuel stations.
/// Creates only what is missing; returns the ids of the plans it created.
pub async fn load_plans(s: &Services) -> Result<Vec<i64>> {
    for ((username, name), id_card_no) in GUOHAI_SAMPLERS.into_iter().zip(GUOHAI_SAMPLER_IDS) {
        if choucha_store::users::find_by_username(s.store().reader(), username).await?.is_none() {
            users::create_as_system(
                s,
                WHO,
                NewUserInput {
                    username: username.into(),
                    display_name: name.into(),
                    password: PASSWORD.into(),
                    roles: vec!["sampler".into()],
                    org_code: Some(GUOHAI_ORG.into()),
                    id_card_no: id_card_no.into(),
                    ..Default::default()
                },
            )
            .await?;
        }
    }
    let mut ids = Vec::new();
    // The deadlines follow the clock's today (a training instance's moved date included).
    let today = s.today();
    let drafts = [
        on_today(datong_2025(), DATONG_REFERENCE_DAY, today),
        on_today(shanxi_2022_batch4(), SHANXI_REFERENCE_DAY, today),
    ];
    for (i, draft) in drafts.into_iter().enumerate() {
        let org = choucha_service::organisations::get_by_code(
            s,
            draft.plan.organising_org_code.as_deref().unwrap_or_default(),
        )
        .await?
        .ok_or(choucha_service::ServiceError::NotFound("演示机构"))?;
        if choucha_store::plans::find_by_title(s.store().reader(), org.id, &draft.plan.title).await?.is_some() {
            continue;
        }
        let id = plans::create_as_system(s, WHO, draft).await?;
        plans::issue_as_system(s, WHO, id).await?;
        if i == 0 {
            let datong = plans::get_public(s, id).await?;
            if let Some(diesel) = datong.items.iter().find(|i| i.product == "车用柴油") {
                implementation_rules::publish_as_system(s, WHO, diesel.id, diesel_rules()).await?;
                draw_diesel(s, diesel.id).await?;
            }
        }
        ids.push(id);
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> chrono::NaiveDate {
        chrono::NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    #[test]
    fn the_notice_dates_on_their_own_day_and_moved_with_the_clock() {
        let on_day = on_today(datong_2025(), DATONG_REFERENCE_DAY, day(2025, 10, 20));
        assert_eq!(on_day.plan.deadline_delivery.as_deref(), Some("2025-11-15"));
        assert_eq!(on_day.plan.deadline_summary.as_deref(), Some("2025-11-20"));
        let later = on_today(datong_2025(), DATONG_REFERENCE_DAY, day(2026, 12, 3));
        assert_eq!(later.plan.deadline_delivery.as_deref(), Some("2026-12-29"));
        let shanxi = on_today(shanxi_2022_batch4(), SHANXI_REFERENCE_DAY, day(2025, 10, 20));
        assert_eq!(shanxi.plan.deadline_delivery.as_deref(), Some("2025-12-20"));
    }
}
