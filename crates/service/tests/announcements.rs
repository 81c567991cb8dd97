//! A plan's results through the service layer (issue 6): the result announcement drafted from the
//! issued reports and final refusals, approved by a second regulator, published as a frozen public
//! snapshot, withdrawn or corrected on the record; the summary table whose totals equal the plan's
//! figures; the quality analysis report with its charts; the bound volume with every report in
//! order and a table of contents. Testers and other bureaus are refused.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use choucha_domain::lab::ObservedSample;
use choucha_domain::sampling::RecordFields;
use choucha_service::announcements::{self as ann, AnnouncementEdit, Exclusion, PublishInput};
use choucha_service::draws;
use choucha_service::fixtures::Fixture;
use choucha_service::fixtures::lab_world::{self, ENTERPRISE};
use choucha_service::lab::ReceiptInput;
use choucha_service::plans::{self, ItemInput, PlanDraft, PlanInput};
use choucha_service::sampling::{self, CosignInput, RefusalInput};
use choucha_service::{Actor, ServiceError, Services, bound_volume, statistics};

struct World {
    fx: Fixture,
    reg: Actor,
    reg2: Actor,
    tester: Actor,
    custodian: Actor,
    plan: i64,
    /// (enterprise name, report number) of the qualified and the unqualified sample.
    qualified: (String, String),
    unqualified: (String, String),
    refusing: String,
}

fn s(w: &World) -> &Services {
    &w.fx.services
}

/// The unqualified sample's record: its own seals, batch and producer.
fn record_1() -> RecordFields {
    RecordFields {
        batch: "20251001".into(),
        producer_name: "示例石化1厂".into(),
        test_seals: vec!["SXGH-0011".into()],
        backup_seals: vec!["SXGH-0012".into()],
        ..lab_world::record()
    }
}

/// The lab world's diesel plan of the Datong bureau with three drawn enterprises: one qualified and
/// one unqualified issued report, and one refusal co-signed by the county bureau.
async fn world() -> World {
    let lab = lab_world::world().await;
    let svc = &lab.fx.services;
    let reg2 = lab.fx.user("dt_reg2", &["regulator"], Some("dt")).await;
    let county = lab.fx.user("pc_reg", &["local_regulator"], Some("dt-pc")).await;
    let qualified = lab_world::issued(&lab, 5.0).await;

    let name = "大同市平城区示例加油站1";
    let task = lab_world::another_task(&lab, name, 2).await;
    draws::start_task(svc, &lab.s1, task).await.unwrap();
    let rec = record_1();
    lab_world::sampled(&lab, task, rec.clone()).await;
    let observed =
        ObservedSample { test_seals: rec.test_seals, backup_seals: rec.backup_seals, ..lab_world::observed() };
    let receipt = ReceiptInput { observed, ..lab_world::accept() };
    let unqualified = lab_world::issued_task(&lab, task, receipt, 12.5).await;

    let refusing = "大同市平城区示例加油站2";
    let task = lab_world::another_task(&lab, refusing, 3).await;
    draws::start_task(svc, &lab.s1, task).await.unwrap();
    sampling::refuse(
        svc,
        &lab.s1,
        task,
        RefusalInput {
            facts: "拒绝在抽样单上签字并阻碍抽样".into(),
            reasons: "认为样品价格过低".into(),
            witness_name: String::new(),
        },
    )
    .await
    .unwrap();
    sampling::cosign_refusal(svc, &county, task, CosignInput { opinion: "经核实，认定为拒检".into() }).await.unwrap();
    let plan = lab_world::plan_of(&lab).await;
    let lab_world::World { fx, regulator, t1, custodian, .. } = lab;
    World {
        fx,
        reg: regulator,
        reg2,
        tester: t1,
        custodian,
        plan,
        qualified: (ENTERPRISE.to_string(), qualified.report_no.unwrap()),
        unqualified: (name.to_string(), unqualified.report_no.unwrap()),
        refusing: refusing.to_string(),
    }
}

/// Publishing while the objection windows are open (the world's results are not delivered yet).
fn anyway() -> PublishInput {
    PublishInput { open_objection_reason: "按上级部门统一部署提前公告".into() }
}

fn code(e: ServiceError) -> &'static str {
    e.code()
}

/// The PDF's text without white space (pdftotext puts spaces between Chinese and Latin text).
fn pdf_text(pdf: &[u8]) -> String {
    lab_world::pdf_layout_text(pdf).expect("pdftotext")
}

#[tokio::test]
async fn the_published_announcement_lists_failures_and_refusals_and_only_it_is_public() {
    let w = world().await;
    let a = ann::draft(s(&w), &w.reg, w.plan).await.unwrap();
    assert_eq!(a.state.as_str(), "draft");
    assert_eq!((a.content.rows.len(), a.content.refusals.len()), (2, 1));
    // A draft is not public.
    assert_eq!(code(ann::get_public(s(&w), a.id).await.unwrap_err()), "not_found");
    assert!(ann::list_public(s(&w), None, None).await.unwrap().items.is_empty());
    // The drafter never approves; publishing needs the approval.
    assert_eq!(code(ann::approve(s(&w), &w.reg, a.id).await.unwrap_err()), "announcement_same_person");
    assert_eq!(code(ann::publish(s(&w), &w.reg, a.id, anyway()).await.unwrap_err()), "announcement_not_approved");
    ann::approve(s(&w), &w.reg2, a.id).await.unwrap();
    let p = ann::publish(s(&w), &w.reg, a.id, anyway()).await.unwrap();
    assert_eq!(p.state.as_str(), "published");
    assert_eq!(p.snapshot_sha256.len(), 64);

    let public = ann::get_public(s(&w), a.id).await.unwrap();
    let failed = public.snapshot.rows.iter().find(|r| !r.qualified).unwrap();
    assert_eq!(failed.enterprise, w.unqualified.0);
    let json = serde_json::to_value(&public).unwrap();
    for key in ["report_no", "report_id", "task_id", "item_id"] {
        assert!(json["snapshot"]["rows"][0].get(key).is_none(), "{key} is not public: {json}");
    }
    assert!(!json.to_string().contains(&w.unqualified.1), "the report number is not public");
    assert_eq!(failed.failing_items, vec!["硫含量".to_string()]);
    assert_eq!(failed.producer, "示例石化1厂");
    assert_eq!((failed.model.as_str(), failed.batch.as_str()), ("0号", "20251001"));
    assert_eq!(failed.institution, "山西省检验检测中心");
    assert!(public.snapshot.rows.iter().any(|r| r.qualified && r.enterprise == w.qualified.0));
    assert_eq!(public.snapshot.refusals.len(), 1);
    assert_eq!(public.snapshot.refusals[0].enterprise, w.refusing);
    assert_eq!((public.snapshot.sampled, public.snapshot.qualified, public.snapshot.unqualified), (2, 1, 1));
    assert_eq!(ann::list_public(s(&w), None, None).await.unwrap().items.len(), 1);
    // Frozen: no edit after publication.
    let edit = AnnouncementEdit { title: "改".into(), ..Default::default() };
    assert_eq!(code(ann::update(s(&w), &w.reg, a.id, edit).await.unwrap_err()), "announcement_frozen");
    let text = pdf_text(&ann::public_pdf(s(&w), a.id).await.unwrap());
    // Table cells wrap long names, so the refusing enterprise (a wide column) is searched whole.
    assert!(text.contains(&w.refusing) && text.contains("硫含量") && text.contains("不合格1批次"), "{text}");
}

#[tokio::test]
async fn publishing_while_an_objection_window_is_open_needs_a_reason_which_is_recorded() {
    let w = world().await;
    let a = ann::draft(s(&w), &w.reg, w.plan).await.unwrap();
    // Neither result has reached its enterprise: both windows are open, and the page lists them.
    assert_eq!(a.open_windows.len(), 2, "{:?}", a.open_windows);
    assert!(a.open_windows.iter().all(|o| o.why.contains("尚未送达")));
    ann::approve(s(&w), &w.reg2, a.id).await.unwrap();
    let err = ann::publish(s(&w), &w.reg, a.id, PublishInput::default()).await.unwrap_err();
    assert_eq!(err.code(), "announcement_objection_open");
    assert!(err.to_string().contains(&w.unqualified.0), "the refusal names the sample: {err}");
    let blank = PublishInput { open_objection_reason: "   ".into() };
    assert_eq!(code(ann::publish(s(&w), &w.reg, a.id, blank).await.unwrap_err()), "announcement_objection_open");
    assert_eq!(ann::get(s(&w), &w.reg, a.id).await.unwrap().state.as_str(), "approved", "nothing was published");
    let p = ann::publish(s(&w), &w.reg, a.id, anyway()).await.unwrap();
    assert_eq!((p.state.as_str(), p.publish_note.as_str()), ("published", "按上级部门统一部署提前公告"));
    let f = choucha_store::audit::AuditFilter { action: Some("announcement.publish".into()), ..Default::default() };
    let audit = choucha_store::audit::list(s(&w).store().reader(), &f, None, 10).await.unwrap();
    assert!(audit.items[0].after_json.contains("按上级部门统一部署提前公告"), "{:?}", audit.items[0].after_json);
}

#[tokio::test]
async fn once_every_window_has_closed_an_announcement_publishes_without_a_reason() {
    let w = world().await;
    let a = ann::draft(s(&w), &w.reg, w.plan).await.unwrap();
    for r in &a.content.rows {
        lab_world::received_today(s(&w), &w.custodian, r.line.report_id).await;
    }
    let v = ann::get(s(&w), &w.reg, a.id).await.unwrap();
    assert_eq!(v.open_windows.len(), 2);
    assert!(v.open_windows.iter().all(|o| o.why.starts_with("异议期至")), "{:?}", v.open_windows);
    // Sixteen days later the windows have closed.
    s(&w).clock().advance(chrono::Duration::days(16));
    assert!(ann::get(s(&w), &w.reg, a.id).await.unwrap().open_windows.is_empty());
    let edit =
        AnnouncementEdit {
            title: v.title.clone(), doc_number: "大市监公告〔2025〕12号".into(), ..Default::default()
        };
    ann::update(s(&w), &w.reg, a.id, edit).await.unwrap();
    ann::approve(s(&w), &w.reg2, a.id).await.unwrap();
    let p = ann::publish(s(&w), &w.reg, a.id, PublishInput::default()).await.unwrap();
    assert_eq!((p.state.as_str(), p.publish_note.as_str()), ("published", ""));
    let public = ann::get_public(s(&w), a.id).await.unwrap();
    assert_eq!(public.snapshot.doc_number, "大市监公告〔2025〕12号");
    let text = pdf_text(&ann::public_pdf(s(&w), a.id).await.unwrap());
    assert!(text.contains("大市监公告〔2025〕12号"), "{text}");
}

#[tokio::test]
async fn a_malformed_doc_number_is_refused_on_its_field() {
    let w = world().await;
    let a = ann::draft(s(&w), &w.reg, w.plan).await.unwrap();
    for bad in ["12号", "大市监公告〔2025〕12"] {
        let edit = AnnouncementEdit { title: a.title.clone(), doc_number: bad.into(), ..Default::default() };
        assert_eq!(code(ann::update(s(&w), &w.reg, a.id, edit).await.unwrap_err()), "doc_number", "{bad}");
    }
    assert_eq!(ann::get(s(&w), &w.reg, a.id).await.unwrap().doc_number, "");
}

#[tokio::test]
async fn a_left_out_row_needs_a_reason_and_is_not_published() {
    let w = world().await;
    let a = ann::draft(s(&w), &w.reg, w.plan).await.unwrap();
    let key = format!("report:{}", a.content.rows.iter().find(|r| r.line.qualified).unwrap().line.report_id);
    let mut edit = AnnouncementEdit {
        title: "大同市市场监督管理局关于车用柴油产品质量监督抽查结果的公告".into(),
        preface: "现将结果公告如下。".into(),
        exclusions: vec![Exclusion { key: key.clone(), reason: " ".into() }],
        ..Default::default()
    };
    assert_eq!(code(ann::update(s(&w), &w.reg, a.id, edit.clone()).await.unwrap_err()), "exclusion_reason");
    edit.exclusions[0].reason = "企业名称有误，待核实".into();
    let v = ann::update(s(&w), &w.reg, a.id, edit).await.unwrap();
    assert!(v.content.rows.iter().any(|r| r.excluded && r.exclusion_reason == "企业名称有误，待核实"));
    ann::approve(s(&w), &w.reg2, a.id).await.unwrap();
    ann::publish(s(&w), &w.reg2, a.id, anyway()).await.unwrap();
    let public = ann::get_public(s(&w), a.id).await.unwrap();
    assert_eq!(public.snapshot.rows.len(), 1);
    assert!(!public.snapshot.rows[0].qualified);
    assert!(public.snapshot.title.starts_with("大同市市场监督管理局关于车用柴油"));
}

#[tokio::test]
async fn withdrawal_and_correction_are_recorded_and_stay_public() {
    let w = world().await;
    let a = ann::draft(s(&w), &w.reg, w.plan).await.unwrap();
    ann::approve(s(&w), &w.reg2, a.id).await.unwrap();
    ann::publish(s(&w), &w.reg, a.id, anyway()).await.unwrap();
    // A correction: drafted, approved by another, published; the earlier one is marked corrected.
    assert_eq!(code(ann::draft_correction(s(&w), &w.reg, a.id, "").await.unwrap_err()), "required");
    let c = ann::draft_correction(s(&w), &w.reg2, a.id, "更正一家企业的名称").await.unwrap();
    assert_eq!(c.corrects_id, Some(a.id));
    assert_eq!(code(ann::approve(s(&w), &w.reg2, c.id).await.unwrap_err()), "announcement_same_person");
    ann::approve(s(&w), &w.reg, c.id).await.unwrap();
    ann::publish(s(&w), &w.reg, c.id, anyway()).await.unwrap();
    let earlier = ann::get_public(s(&w), a.id).await.unwrap();
    assert_eq!((earlier.state.as_str(), earlier.corrected_by_id), ("corrected", Some(c.id)));
    let corrected = ann::get_public(s(&w), c.id).await.unwrap();
    assert_eq!((corrected.corrects_id, corrected.correction_reason.as_str()), (Some(a.id), "更正一家企业的名称"));
    // A withdrawal, with its reason, on the record.
    assert_eq!(code(ann::withdraw(s(&w), &w.reg, c.id, "  ").await.unwrap_err()), "required");
    let v = ann::withdraw(s(&w), &w.reg, c.id, "数据需重新核对").await.unwrap();
    assert_eq!((v.state.as_str(), v.withdrawn_by.as_str()), ("withdrawn", "dt_reg"));
    let public = ann::get_public(s(&w), c.id).await.unwrap();
    assert_eq!((public.state.as_str(), public.withdrawal_reason.as_str()), ("withdrawn", "数据需重新核对"));
    assert!(public.withdrawn_at.is_some());
    assert_eq!(code(ann::withdraw(s(&w), &w.reg, c.id, "再次").await.unwrap_err()), "announcement_state");
    let text = pdf_text(&ann::public_pdf(s(&w), c.id).await.unwrap());
    assert!(text.contains("撤回") && text.contains("数据需重新核对"), "{text}");
}

#[tokio::test]
async fn testers_and_other_bureaus_are_refused() {
    let w = world().await;
    let a = ann::draft(s(&w), &w.reg, w.plan).await.unwrap();
    let province = w.fx.user("sx_reg", &["regulator"], Some("sx")).await;
    for who in [&w.tester, &province] {
        assert_eq!(code(ann::draft(s(&w), who, w.plan).await.unwrap_err()), "forbidden");
        assert_eq!(code(ann::get(s(&w), who, a.id).await.unwrap_err()), "forbidden");
        assert_eq!(code(ann::approve(s(&w), who, a.id).await.unwrap_err()), "forbidden");
        assert_eq!(code(statistics::summary_xlsx(s(&w), who, w.plan).await.unwrap_err()), "forbidden");
        assert_eq!(code(statistics::quality_analysis_pdf(s(&w), who, w.plan).await.unwrap_err()), "forbidden");
        assert_eq!(code(bound_volume::bound_volume_pdf(s(&w), who, w.plan, 1).await.unwrap_err()), "forbidden");
    }
}

#[tokio::test]
async fn the_summary_table_opens_and_its_totals_equal_the_plan_figures() {
    let w = world().await;
    let f = statistics::plan_figures(s(&w), &w.reg, w.plan).await.unwrap();
    assert_eq!((f.sampled, f.qualified, f.unqualified, f.refusals), (2, 1, 1, 1));
    assert_eq!(f.by_item[0].rate, 50.0);
    let bytes = statistics::summary_xlsx(s(&w), &w.reg, w.plan).await.unwrap();
    let rows = choucha_documents::read_rows(&bytes, choucha_documents::TableFormat::Xlsx).unwrap();
    let cells: Vec<&Vec<String>> = rows.iter().map(|(_, r)| r).collect();
    assert!(cells[0][0].contains("检验情况汇总表"));
    assert_eq!(cells[1][..4], ["序号", "产品名称", "被抽样单位", "所在地"]);
    let body: Vec<&&Vec<String>> = cells.iter().skip(2).filter(|r| r[0] != "合计").collect();
    assert_eq!(body.len() as i64, f.sampled + f.refusals);
    let count = |c: &str| body.iter().filter(|r| r[10] == c).count() as i64;
    assert_eq!((count("合格"), count("不合格"), count("拒检")), (f.qualified, f.unqualified, f.refusals));
    let failed = body.iter().find(|r| r[10] == "不合格").unwrap();
    assert_eq!(
        (failed[2].as_str(), failed[9].as_str(), failed[11].as_str()),
        (w.unqualified.0.as_str(), w.unqualified.1.as_str(), "硫含量")
    );
    let totals = cells.last().unwrap();
    assert_eq!(totals[0], "合计");
    assert_eq!(
        totals[10],
        format!("检验{}批次，合格{}批次，不合格{}批次，拒检{}家", f.sampled, f.qualified, f.unqualified, f.refusals)
    );
}

#[tokio::test]
async fn the_quality_analysis_report_has_its_charts() {
    let w = world().await;
    let a = statistics::quality_analysis(s(&w), &w.reg, w.plan).await.unwrap();
    assert_eq!(a.failing_items, vec![("硫含量".to_string(), 1)]);
    assert_eq!(a.by_division.len(), 1);
    assert!(a.by_division[0].label.contains("平城区"), "{:?}", a.by_division);
    assert_eq!((a.by_division[0].qualified, a.by_division[0].unqualified), (1, 1));
    assert_eq!(a.by_size[0].label, "未登记");
    assert_eq!((a.by_domain.len(), a.by_domain[0].label.as_str(), a.by_domain[0].sampled), (1, "流通领域", 2));
    let text = pdf_text(&statistics::quality_analysis_pdf(s(&w), &w.reg, w.plan).await.unwrap());
    for needle in [
        "质量分析报告",
        "各产品合格率",
        "车用柴油",
        "50%（1/2）",
        "不合格项目分布",
        "硫含量",
        "1批次",
        "与往期抽查对比",
    ] {
        assert!(text.contains(needle), "{needle} missing from:\n{text}");
    }
}

#[tokio::test]
async fn the_bound_volume_has_every_report_in_order_with_a_table_of_contents() {
    let w = world().await;
    assert_eq!(bound_volume::volume_count(s(&w), &w.reg, w.plan).await.unwrap(), 1);
    let pdf = bound_volume::bound_volume_pdf(s(&w), &w.reg, w.plan, 1).await.unwrap();
    let pages = choucha_documents::pdf_page_count(&pdf).unwrap();
    assert!(pages >= 6, "cover, contents, two reports and two records: {pages} pages");
    let text = pdf_text(&pdf);
    assert!(text.contains("目") && text.contains("合订本"), "{text}");
    let (mut first, mut second) = (w.qualified.1.clone(), w.unqualified.1.clone());
    if first > second {
        std::mem::swap(&mut first, &mut second);
    }
    let toc_a = text.find(&format!("检验报告{first}")).unwrap();
    let toc_b = text.find(&format!("检验报告{second}")).unwrap();
    assert!(toc_a < toc_b, "contents in report-number order");
    // The reports' own pages follow, in the same order (each report prints its number).
    assert!(text.rfind(&first).unwrap() > toc_b, "the first report's pages follow the contents");
    assert!(text.rfind(&first).unwrap() < text.rfind(&second).unwrap(), "reports in report-number order");
    assert_eq!(code(bound_volume::bound_volume_pdf(s(&w), &w.reg, w.plan, 2).await.unwrap_err()), "not_found");
}

#[tokio::test]
async fn a_plan_without_issued_reports_or_refusals_has_nothing_to_announce() {
    let w = world().await;
    let draft = PlanDraft {
        plan: PlanInput {
            year: 2025,
            title: "2025年电冰箱监督抽查".into(),
            organising_org_code: Some("dt".into()),
            ..Default::default()
        },
        items: vec![ItemInput {
            number: "1".into(),
            category: "家用电器".into(),
            product: "电冰箱".into(),
            quota: Some(5),
            scopes: "生产者".into(),
            sampling_org_code: Some("lab".into()),
            testing_org_code: Some("lab".into()),
            screening_org_code: None,
        }],
    };
    let plan = plans::create(s(&w), &w.reg, draft).await.unwrap();
    plans::issue(s(&w), &w.reg, plan.id).await.unwrap();
    assert_eq!(code(ann::draft(s(&w), &w.reg, plan.id).await.unwrap_err()), "announcement_no_results");
    let f = statistics::plan_figures(s(&w), &w.reg, plan.id).await.unwrap();
    assert_eq!((f.sampled, f.refusals, f.rate), (0, 0, 0.0));
    assert_eq!(
        code(bound_volume::bound_volume_pdf(s(&w), &w.reg, plan.id, 1).await.unwrap_err()),
        "bound_volume_empty"
    );
    // The analysis report still renders (with "no data" sections), and compares with the diesel plan
    // only for the same product: none here.
    let a = statistics::quality_analysis(s(&w), &w.reg, plan.id).await.unwrap();
    assert!(a.earlier.is_empty());
    let pdf = statistics::quality_analysis_pdf(s(&w), &w.reg, plan.id).await.unwrap();
    let text: String = pdf_text(&pdf).chars().filter(|c| !c.is_whitespace()).collect();
    // A plan (and a product) without results says so, never "0%（0/0）".
    assert!(text.contains("批次合格率无检验结果") && text.contains("电冰箱"), "{text}");
    assert!(!text.contains("0%（0/0）") && !text.contains("0/0"), "{text}");
}

#[tokio::test]
async fn a_later_plan_of_the_same_product_is_compared_with_the_earlier_one() {
    let w = world().await;
    let draft = PlanDraft {
        plan: PlanInput {
            year: 2026,
            title: "2026年车用柴油监督抽查".into(),
            organising_org_code: Some("dt".into()),
            ..Default::default()
        },
        items: vec![ItemInput {
            number: "1".into(),
            category: "机械及安防".into(),
            product: "车用柴油".into(),
            quota: Some(5),
            scopes: "销售者".into(),
            sampling_org_code: Some("lab".into()),
            testing_org_code: Some("lab".into()),
            screening_org_code: None,
        }],
    };
    let later = plans::create(s(&w), &w.reg, draft).await.unwrap();
    let a = statistics::quality_analysis(s(&w), &w.reg, later.id).await.unwrap();
    assert_eq!(a.earlier.len(), 1);
    let e = &a.earlier[0];
    assert_eq!(
        (e.plan_title.as_str(), e.product.as_str(), e.sampled, e.rate),
        ("2025年车用柴油监督抽查", "车用柴油", 2, 50.0)
    );
    let text = pdf_text(&statistics::quality_analysis_pdf(s(&w), &w.reg, later.id).await.unwrap());
    assert!(text.contains("2025年车用柴油监督抽查") && text.contains("车用柴油（往期）"), "{text}");
}

#[tokio::test]
async fn the_testing_institution_writes_and_submits_the_analysis_that_the_report_prints() {
    use choucha_service::analysis_texts::{self as texts, AnalysisTextInput};
    let w = world().await;
    // A blind tester and the organising bureau do not write it; the testing institution's custodian does.
    assert_eq!(code(texts::mine(s(&w), &w.tester, w.plan).await.unwrap_err()), "forbidden");
    assert_eq!(code(texts::mine(s(&w), &w.reg, w.plan).await.unwrap_err()), "forbidden");
    let draft = AnalysisTextInput { problems: "硫含量超标1批次。".into(), ..Default::default() };
    let v = texts::save(s(&w), &w.custodian, w.plan, draft.clone()).await.unwrap();
    assert!(!v.submitted && v.problems == "硫含量超标1批次。");
    // The bureau sees that nothing is submitted yet, and never the draft's text.
    let parts = texts::of_plan(s(&w), &w.reg, w.plan).await.unwrap();
    assert_eq!(parts.len(), 1);
    assert!(!parts[0].submitted && parts[0].problems.is_empty());
    assert_eq!(code(texts::of_plan(s(&w), &w.custodian, w.plan).await.unwrap_err()), "forbidden");
    // Submitting needs every section.
    let incomplete = AnalysisTextInput { submit: true, ..draft.clone() };
    assert_eq!(code(texts::save(s(&w), &w.custodian, w.plan, incomplete).await.unwrap_err()), "required");
    let full = AnalysisTextInput {
        problems: "硫含量超标1批次。".into(),
        causes: "油品来源把关不严。".into(),
        suggestions: "加强进货查验。".into(),
        submit: true,
    };
    assert!(texts::save(s(&w), &w.custodian, w.plan, full.clone()).await.unwrap().submitted);
    // Submitted: no more edits until the bureau sends it back.
    assert_eq!(code(texts::save(s(&w), &w.custodian, w.plan, draft.clone()).await.unwrap_err()), "analysis_submitted");
    let parts = texts::of_plan(s(&w), &w.reg, w.plan).await.unwrap();
    assert!(parts[0].submitted && parts[0].causes == "油品来源把关不严。");
    // The report prints it; the custodian reads the figures it writes about, the tester never.
    let text: String = pdf_text(&statistics::quality_analysis_pdf(s(&w), &w.reg, w.plan).await.unwrap())
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    assert!(
        text.contains("油品来源把关不严") && text.contains("加强进货查验") && text.contains("山西省检验检测中心"),
        "{text}"
    );
    assert!(statistics::quality_analysis(s(&w), &w.custodian, w.plan).await.is_ok());
    assert_eq!(code(statistics::quality_analysis(s(&w), &w.tester, w.plan).await.unwrap_err()), "forbidden");
    // Sent back with a reason, it is a draft again, and the report no longer prints it.
    let org = parts[0].org_id;
    assert_eq!(code(texts::send_back(s(&w), &w.reg, w.plan, org, " ").await.unwrap_err()), "required");
    assert_eq!(code(texts::send_back(s(&w), &w.custodian, w.plan, org, "请补充").await.unwrap_err()), "forbidden");
    texts::send_back(s(&w), &w.reg, w.plan, org, "请补充不合格原因的调查情况").await.unwrap();
    assert!(!texts::mine(s(&w), &w.custodian, w.plan).await.unwrap().submitted);
    assert_eq!(code(texts::send_back(s(&w), &w.reg, w.plan, org, "再次").await.unwrap_err()), "analysis_not_submitted");
    assert!(texts::save(s(&w), &w.custodian, w.plan, full).await.unwrap().submitted);
}

/// Issue 18: the announcement as published is SM2-signed by the publishing bureau; the public PDF
/// is that file (verifying offline, one changed byte refused), its public check shows the bureau,
/// the 文号 and the totals; withdrawn, the check says so and the public PDF prints the withdrawal.
#[tokio::test]
async fn the_published_announcement_is_signed_by_the_bureau_and_checked_publicly() {
    use choucha_service::{signing, verify};
    let w = world().await;
    let a = ann::draft(s(&w), &w.reg, w.plan).await.unwrap();
    let edit = AnnouncementEdit {
        title: a.title.clone(),
        doc_number: "大市监公告〔2025〕12号".into(),
        preface: a.preface.clone(),
        exclusions: Vec::new(),
    };
    ann::update(s(&w), &w.reg, a.id, edit).await.unwrap();
    ann::approve(s(&w), &w.reg2, a.id).await.unwrap();
    ann::publish(s(&w), &w.reg, a.id, anyway()).await.unwrap();
    let pdf = ann::public_pdf(s(&w), a.id).await.unwrap();
    let stored =
        choucha_store::signing::signature_of(s(&w).store().reader(), "announcement", a.id).await.unwrap().unwrap();
    assert_eq!(stored.pdf_sha256, choucha_domain::signed_pdf::sha256_hex(&pdf), "the public file is the signed one");
    assert_eq!(pdf, ann::public_pdf(s(&w), a.id).await.unwrap(), "the same file every time");
    let keys = signing::export_keys(s(&w)).await.unwrap();
    let key = signing::check_file(&pdf, &keys).expect("verifies offline");
    assert_eq!(key.org_code, "dt", "signed by the publishing bureau");
    let text = pdf_text(&pdf);
    assert!(text.contains("本公告经发布机关") && text.contains(&format!("/verify/{}", stored.token)), "{text}");
    let mut tampered = pdf.clone();
    let at = tampered.len() / 2;
    tampered[at] ^= 0x04;
    assert!(signing::check_file(&tampered, &keys).is_err());
    let v = verify::view(s(&w), &stored.token).await.unwrap();
    assert!(v.is_announcement && v.document == "抽查结果公告", "{v:?}");
    assert_eq!(v.report_no, "大市监公告〔2025〕12号");
    assert!(v.conclusion.contains("不合格1批次") && v.status == "有效", "{v:?}");
    assert!(!v.institution.is_empty() && !v.superseded);
    let (_, ok) = verify::check_upload(s(&w), &stored.token, &pdf).await.unwrap();
    assert!(ok.authentic, "{}", ok.message);
    let (_, bad) = verify::check_upload(s(&w), &stored.token, &tampered).await.unwrap();
    assert!(!bad.authentic && bad.message.contains("抽查结果公告"), "{}", bad.message);
    ann::withdraw(s(&w), &w.reg, a.id, "数据需重新核对").await.unwrap();
    let v = verify::view(s(&w), &stored.token).await.unwrap();
    assert!(v.superseded && v.status.contains("已撤回") && v.status.contains("数据需重新核对"), "{v:?}");
    let text = pdf_text(&ann::public_pdf(s(&w), a.id).await.unwrap());
    assert!(text.contains("撤回"), "withdrawn, the public PDF prints the withdrawal: {text}");
}
