//! Renders the 检验报告 and the blind-code label with the machine's fonts and reads the PDF back
//! with `pdftotext` (poppler-utils; skipped when missing, except under `CI=true`).

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use choucha_documents::{
    ReportLine, ResultNotice, SampleLabel, Signature, TestReport, qr_matrix, result_notice_pdf, sample_label_pdf,
    test_report_pdf,
};
use chrono::NaiveDate;

mod common;
use common::{RENDERER, pdf_text, poppler};

/// Three different signatures, as the signature pads send them.
const SIGNATURES: [&[u8]; 3] =
    [include_bytes!("fixtures/sig1.png"), include_bytes!("fixtures/sig2.png"), include_bytes!("fixtures/sig3.png")];

fn signed(name: &str, day: u32) -> Signature {
    Signature {
        signer: name.into(),
        image: Some(SIGNATURES[(day % 3) as usize].to_vec()),
        signed_at: NaiveDate::from_ymd_opt(2025, 10, day).and_then(|d| d.and_hms_opt(9, 30, 0)),
    }
}

/// How many images the PDF embeds (`pdfimages -list`), when poppler-utils is installed.
fn image_count(pdf: &[u8]) -> Option<usize> {
    // Two header lines, then one line per image.
    poppler("pdfimages", &["-list"], pdf).map(|list| list.lines().skip(2).filter(|l| !l.trim().is_empty()).count())
}

fn line(name: &str, unit: &str, req: &str, result: &str, j: &str) -> ReportLine {
    ReportLine {
        name: name.into(),
        unit: unit.into(),
        requirement: req.into(),
        result: result.into(),
        judgement: j.into(),
        method: "GB/T 0000".into(),
    }
}

fn diesel_report() -> TestReport {
    TestReport {
        draft: false,
        report_no: "TJ51-2025-000017".into(),
        institution: "天津五十一站质量检验中心有限公司".into(),
        qualification_no: "CMA 120012345678".into(),
        institution_address: "天津市某区某路1号".into(),
        institution_phone: "022-00000000".into(),
        product: "车用柴油".into(),
        sample_code: "M2025-7KQ4X9PA".into(),
        test_kind: "监督抽查".into(),
        task_source: "2025年车用柴油监督抽查（大同市市场监督管理局）".into(),
        inspected_unit: "大同市平城区示例加油站".into(),
        producer: "某石化有限公司 #[evil]".into(),
        brand: "示例牌".into(),
        model: "0号".into(),
        batch: "20251008".into(),
        sampled_on: "2025-10-10".into(),
        received_on: "2025-10-11".into(),
        tested_period: "2025-10-12 至 2025-10-14".into(),
        test_portion: "2L".into(),
        standards: vec!["GB 19147-2016".into()],
        items: vec![
            line("硫含量", "mg/kg", "≤10mg/kg", "12.5mg/kg", "不符合"),
            line("闪点（闭口）", "℃", "≥60℃", "65℃", "符合"),
            line("外观", "", "清澈透明", "清澈透明", "符合"),
        ],
        qualified: false,
        conclusion: "经抽样检验，硫含量项目不符合GB 19147-2016的要求，检验结论为不合格。".into(),
        prepared_by: signed("高强", 14),
        reviewed_by: signed("郭明", 15),
        approved_by: signed("何平", 16),
        issued_on: NaiveDate::from_ymd_opt(2025, 10, 16).unwrap(),
        supersedes: None,
        correction_reason: String::new(),
        retest: false,
        sampling_unit: "山西国海质检技术服务有限公司".into(),
        sampling_base: "12000L".into(),
        seal: None,
        verification: None,
    }
}

#[test]
fn the_report_shows_cover_conclusion_every_item_and_three_signers() {
    let report = diesel_report();
    let pdf = test_report_pdf(&RENDERER, &report).expect("render");
    assert!(pdf.starts_with(b"%PDF"));
    let Some(text) = pdf_text(&pdf) else { return };
    for needle in [
        "检验报告",
        "TJ51-2025-000017",
        "资质认定证书编号",
        "CMA120012345678",
        "M2025-7KQ4X9PA",
        "大同市平城区示例加油站",
        "硫含量",
        "闪点（闭口）",
        "外观",
        "≤10mg/kg",
        "12.5mg/kg",
        "不符合",
        "检验结论为不合格",
        "编制",
        "高强",
        "审核",
        "郭明",
        "批准",
        "何平",
        "#[evil]",
        "2025年10月16日",
    ] {
        assert!(text.contains(needle), "report lacks {needle:?}:\n{text}");
    }
    assert!(!text.contains("更正报告"));
    for needle in ["抽样单位", "山西国海质检技术服务有限公司", "抽样基数", "12000L", "声明", "检验检测专用章", "15日内"]
    {
        assert!(text.contains(needle), "report lacks {needle:?}:\n{text}");
    }
    // Pages numbered 第N页 共M页 on every page, not the "— 1 —" of notices.
    let pages = text.matches("共4页").count();
    assert_eq!(pages, 4, "every page says 第N页 共4页:\n{text}");
    assert!(text.contains("第1页") && text.contains("第4页") && !text.contains("— 1 —"), "{text}");
    assert!(text.contains("2025年10月14日") && text.contains("2025年10月15日"), "signing dates: {text}");
    assert_eq!(image_count(&pdf), Some(3), "the three handwritten signatures are placed");
}

#[test]
fn an_issued_report_carries_the_seal_a_draft_never_and_a_retest_is_titled_so() {
    let seal =
        Signature { signer: String::new(), image: Some(include_bytes!("fixtures/seal.png").to_vec()), signed_at: None };
    let sealed = TestReport { seal: Some(seal.clone()), ..diesel_report() };
    let pdf = test_report_pdf(&RENDERER, &sealed).expect("render");
    // The three signatures and the seal (on the cover and on the conclusion page).
    if let (Some(with), Some(without)) =
        (image_count(&pdf), image_count(&test_report_pdf(&RENDERER, &diesel_report()).unwrap()))
    {
        assert!(with > without, "the seal is placed: {with} images against {without}");
        let draft = TestReport { seal: Some(seal), draft: true, ..diesel_report() };
        let d = image_count(&test_report_pdf(&RENDERER, &draft).expect("render"));
        assert_eq!(d, Some(without), "no seal on a draft");
    }
    let retest = TestReport { retest: true, test_portion: "备用样品（2L）".into(), ..diesel_report() };
    let Some(text) = pdf_text(&test_report_pdf(&RENDERER, &retest).expect("render")) else { return };
    assert!(text.contains("复检报告") && text.contains("备用样品（2L）"), "{text}");
    assert!(!text.replace("复检报告", "").contains("检验报告编号"), "titled 复检报告 throughout");
}

#[test]
fn a_correction_names_the_report_it_replaces() {
    let mut report = diesel_report();
    report.report_no = "TJ51-2025-000018".into();
    report.supersedes = Some("TJ51-2025-000017".into());
    report.correction_reason = "硫含量数据复核更正".into();
    let pdf = test_report_pdf(&RENDERER, &report).expect("render");
    let Some(text) = pdf_text(&pdf) else { return };
    assert!(
        text.contains("更正报告") && text.contains("TJ51-2025-000017") && text.contains("硫含量数据复核更正"),
        "{text}"
    );
}

#[test]
fn the_label_carries_the_blind_code_and_a_qr_code_of_it() {
    let m = qr_matrix("M2025-7KQ4X9PA").unwrap();
    assert!(m.len() >= 21 && m.iter().all(|r| r.len() == m.len()));
    // The finder pattern's corner module is dark.
    assert!(m[0][0] && m[0][m.len() - 1]);
    let label = SampleLabel {
        blind_code: "M2025-7KQ4X9PA".into(),
        product: "车用柴油".into(),
        portion: "检验样品 2瓶×1L".into(),
        institution: "天津五十一站质量检验中心有限公司".into(),
        received_on: NaiveDate::from_ymd_opt(2025, 10, 11).unwrap(),
    };
    let pdf = sample_label_pdf(&RENDERER, &[label.clone(), SampleLabel { portion: "备用样品 2瓶×1L".into(), ..label }])
        .unwrap();
    let Some(text) = pdf_text(&pdf) else { return };
    assert!(text.contains("M2025-7KQ4X9PA") && text.contains("检验样品") && text.contains("备用样品"), "{text}");
}

#[test]
fn the_result_notice_names_the_failing_items_and_the_fifteen_day_window() {
    let notice = ResultNotice {
        notice_no: "TJ51-2025-000017-GZ".into(),
        addressee: "大同市平城区示例加油站".into(),
        organising_bureau: "大同市市场监督管理局".into(),
        plan_title: "2025年车用柴油监督抽查".into(),
        institution: "天津五十一站质量检验中心有限公司".into(),
        product: "车用柴油".into(),
        brand: "示例牌".into(),
        model: "0号".into(),
        batch: "20251008".into(),
        inspected_unit: "大同市平城区示例加油站".into(),
        producer: "某石化有限公司 #[evil]".into(),
        sampled_on: "2025-10-10".into(),
        report_no: "TJ51-2025-000017".into(),
        qualified: false,
        conclusion: "经抽样检验，硫含量项目不符合GB 19147-2016的要求，检验结论为不合格。".into(),
        failing_items: vec!["硫含量".into()],
        objection_to: "大同市市场监督管理局".into(),
        objection_days: 15,
        issued_on: NaiveDate::from_ymd_opt(2025, 10, 16).unwrap(),
        verification: None,
    };
    let pdf = result_notice_pdf(&RENDERER, &notice).expect("render");
    let Some(text) = pdf_text(&pdf) else { return };
    for needle in [
        "检验结果告知书",
        "大同市平城区示例加油站",
        "TJ51-2025-000017",
        "不合格项目",
        "硫含量",
        "15日内",
        "#[evil]",
        "停止生产、销售",
    ] {
        assert!(text.contains(needle), "notice lacks {needle:?}:\n{text}");
    }
    let qualified =
        ResultNotice {
            qualified: true, failing_items: vec![], conclusion: "所检项目未发现不合格".into(), ..notice
        };
    let text = pdf_text(&result_notice_pdf(&RENDERER, &qualified).expect("render")).unwrap_or_default();
    assert!(!text.contains("不合格项目") && !text.contains("停止生产"), "{text}");
}
