//! Renders the 产品质量改进建议书 with the machine's fonts and reads the PDF back with `pdftotext`
//! (poppler-utils). Without pdftotext these tests are skipped, except under `CI=true`, where they
//! fail.

#![allow(clippy::expect_used, clippy::panic)] // a failing test should panic

use std::time::Instant;

use choucha_documents::{DocumentError, ImprovementLetter, Renderer, Template, improvement_letter_pdf};
use chrono::NaiveDate;

mod common;
use common::{RENDERER, keep, pdf_raw_text, squeeze};

const LABELS: [&str; 13] = [
    "产品质量改进建议书",
    "报告编号",
    "产品名称",
    "规格型号",
    "受检单位",
    "生产单位",
    "检验机构",
    "不合格项目",
    "本次抽检质量问题描述",
    "原因分析",
    "改进建议",
    "备注",
    "检验机构盖章（公章）",
];

fn refrigerator_letter() -> ImprovementLetter {
    ImprovementLetter {
        report_no: "SXJC-2025-CJ-00731".to_owned(),
        product_name: "电冰箱".to_owned(),
        model: "BCD-520WKPZM(E)".to_owned(),
        inspected_unit: "大同市平城区某某家电商场".to_owned(),
        producer: "某某电器股份有限公司".to_owned(),
        institution: "山西省检验检测中心".to_owned(),
        failing_items: vec!["能效等级".to_owned(), "噪声".to_owned()],
        problem_description: "经检验，该样品实测耗电量为0.92 kW·h/24h，超出标注能效等级限定值；\
            运行噪声实测值为42 dB(A)，超过GB 4706.13-2014及产品明示值38 dB(A)。"
            .to_owned(),
        cause_analysis: "压缩机选型与箱体保温层厚度不匹配，导致开机率偏高；\n\
            减振垫材料硬度偏大，未能有效隔离压缩机振动。"
            .to_owned(),
        suggestions: "一、优化压缩机与制冷系统匹配设计，复核能效标识备案数据；\n\
            二、更换减振材料并加强出厂噪声抽查；\n三、对同批次库存产品开展自查。"
            .to_owned(),
        remarks: "请于收到本建议书之日起30日内将整改情况报送所在地市场监督管理部门。".to_owned(),
        date: NaiveDate::from_ymd_opt(2025, 10, 20).expect("valid date"),
    }
}

fn assert_contains(haystack: &str, needle: &str) {
    let needle = squeeze(needle);
    assert!(haystack.contains(&needle), "PDF text lacks {needle:?}; text was:\n{haystack}");
}

#[test]
fn shows_every_field_and_label_of_the_improvement_letter() {
    let letter = refrigerator_letter();
    let started = Instant::now();
    let renderer = &*RENDERER;
    let fonts = started.elapsed();
    let started = Instant::now();
    let pdf = improvement_letter_pdf(renderer, &letter).expect("render");
    let first = started.elapsed();
    let started = Instant::now();
    let again = improvement_letter_pdf(renderer, &letter).expect("render again");
    let repeated = started.elapsed();
    let mut other = letter.clone();
    other.report_no.push_str("-B");
    other.producer = "另一家电器有限公司".to_owned();
    let started = Instant::now();
    improvement_letter_pdf(renderer, &other).expect("render other data");
    let other_data = started.elapsed();
    // Timings for the record (not asserted): font discovery, first render, repeated render.
    eprintln!(
        "improvement letter: fonts {fonts:?}, first render {first:?}, repeated {repeated:?}, \
         other data {other_data:?}, {} bytes",
        pdf.len()
    );
    assert!(pdf.starts_with(b"%PDF-"));
    assert_eq!(pdf, again, "the same letter must give the same bytes");
    keep("improvement_letter.pdf", &pdf);

    let Some(text) = pdf_raw_text(&pdf) else { return };
    let text = squeeze(&text);
    for label in LABELS {
        assert_contains(&text, label);
    }
    for field in [
        &letter.report_no,
        &letter.product_name,
        &letter.model,
        &letter.inspected_unit,
        &letter.producer,
        &letter.institution,
        &letter.problem_description,
        &letter.cause_analysis,
        &letter.suggestions,
        &letter.remarks,
    ] {
        assert_contains(&text, field);
    }
    for item in &letter.failing_items {
        assert_contains(&text, item);
    }
    assert_contains(&text, "2025年10月20日");
}

#[test]
fn prints_markup_characters_in_data_literally() {
    let mut letter = refrigerator_letter();
    letter.product_name = r#"#set page(width: 1cm) *粗体* $x^2$"#.to_owned();
    letter.model = r#"[链接] "引号" \ 反斜杠"#.to_owned();
    letter.producer = r#"#panic("注入") #import "/data.json""#.to_owned();
    letter.failing_items = vec!["#(1 + 1)".to_owned(), "_下划线_ `代码` @引用 <标签>".to_owned()];
    letter.remarks = "// 不是注释 /* 也不是 */ = 不是标题".to_owned();
    let pdf = improvement_letter_pdf(&RENDERER, &letter).expect("render");
    keep("improvement_letter_markup.pdf", &pdf);

    let Some(text) = pdf_raw_text(&pdf) else { return };
    let text = squeeze(&text);
    for field in [&letter.product_name, &letter.model, &letter.producer, &letter.remarks] {
        assert_contains(&text, field);
    }
    for item in &letter.failing_items {
        assert_contains(&text, item);
    }
}

#[test]
fn breaks_long_texts_across_pages() {
    let mut letter = refrigerator_letter();
    let paragraph = "经对比同类产品设计资料与生产过程记录，压缩机、冷凝器与保温层的匹配存在不足，需系统复核。";
    letter.cause_analysis = (1..=40).map(|n| format!("{n}. {paragraph}")).collect::<Vec<_>>().join("\n");
    letter.suggestions = format!("{}最后一条建议。", "请企业逐项整改并保存记录。".repeat(60));
    let pdf = improvement_letter_pdf(&RENDERER, &letter).expect("render");
    keep("improvement_letter_long.pdf", &pdf);

    let Some(text) = pdf_raw_text(&pdf) else { return };
    let pages = text.matches('\u{c}').count();
    assert!(pages >= 2, "expected several pages, got {pages}");
    let text = squeeze(&text);
    assert_contains(&text, "40.经对比同类产品设计资料");
    assert_contains(&text, "最后一条建议。");
    assert_contains(&text, "检验机构盖章（公章）");
    assert_contains(&text, "—2—");
}

#[test]
fn reports_data_the_template_cannot_use() {
    let result = RENDERER.render_pdf(Template::ImprovementLetter, &serde_json::json!({ "report_no": 1 }));
    match result {
        Err(err @ DocumentError::Template { .. }) => {
            let message = err.to_string();
            assert!(message.contains("产品质量改进建议书"), "{message}");
            assert!(message.contains("/improvement_letter.typ:"), "{message}");
        }
        other => panic!("expected a template error, got {other:?}"),
    }
}

#[test]
fn renders_from_several_threads_at_once() {
    let handles: Vec<_> = (0..4)
        .map(|n| {
            let renderer = RENDERER.clone();
            std::thread::spawn(move || {
                let mut letter = refrigerator_letter();
                letter.report_no = format!("SXJC-2025-CJ-{n:05}");
                improvement_letter_pdf(&renderer, &letter).map(|pdf| pdf.len())
            })
        })
        .collect();
    for handle in handles {
        let size = handle.join().expect("no panic").expect("render");
        assert!(size > 1000);
    }
}

#[test]
fn renderer_is_shareable() {
    fn shareable<T: Send + Sync + Clone + 'static>() {}
    shareable::<Renderer>();
}

#[test]
fn renders_a_letter_with_empty_fields() {
    let mut letter = refrigerator_letter();
    letter.failing_items.clear();
    letter.remarks.clear();
    letter.cause_analysis = "\n\r\n".to_owned();
    letter.model.clear();
    let pdf = improvement_letter_pdf(&RENDERER, &letter).expect("render");

    let Some(text) = pdf_raw_text(&pdf) else { return };
    let text = squeeze(&text);
    for label in LABELS {
        assert_contains(&text, label);
    }
}
