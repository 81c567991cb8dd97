//! The documents of a plan's results (issue 6): the summary table's totals row, and the bound
//! volume, whose table of contents gives each document's first page and whose pages are the
//! documents' own, in order.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::process::Command;

use choucha_documents::{
    BoundVolume, EvidenceEntry, EvidenceSheet, Renderer, ResultNotice, SummaryRow, SummaryTable, TableFormat,
    VolumeDocument, bound_volume_pdf, pdf_page_count, read_rows, result_notice_pdf, summary_table_xlsx,
};
use chrono::NaiveDate;

fn notice(n: usize) -> ResultNotice {
    ResultNotice {
        notice_no: format!("LAB-2025-{n:06}-GZ"),
        addressee: format!("示例加油站{n}"),
        organising_bureau: "大同市市场监督管理局".into(),
        plan_title: "2025年车用柴油监督抽查".into(),
        institution: "山西省检验检测中心".into(),
        product: "车用柴油".into(),
        brand: "示例牌".into(),
        model: "0号".into(),
        batch: "20251008".into(),
        inspected_unit: format!("示例加油站{n}"),
        producer: "示例石化".into(),
        sampled_on: "2025-10-10".into(),
        report_no: format!("LAB-2025-{n:06}"),
        qualified: true,
        conclusion: "所检项目符合标准要求，判定为合格。".into(),
        failing_items: vec![],
        objection_to: "大同市市场监督管理局".into(),
        objection_days: 15,
        issued_on: NaiveDate::from_ymd_opt(2025, 10, 20).unwrap(),
        verification: None,
    }
}

/// The text of page `n` (1-based) of the PDF, without white space.
fn page_text(pdf: &[u8], n: usize) -> String {
    let path = std::env::temp_dir().join(format!("choucha-volume-page-{}-{n}.pdf", std::process::id()));
    std::fs::write(&path, pdf).unwrap();
    let (f, l) = (n.to_string(), n.to_string());
    let out = Command::new("pdftotext")
        .args(["-raw", "-enc", "UTF-8", "-f", &f, "-l", &l])
        .arg(&path)
        .arg("-")
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    String::from_utf8(out.stdout).unwrap().chars().filter(|c| !c.is_whitespace()).collect()
}

fn pdf_text(pdf: &[u8]) -> String {
    let path = std::env::temp_dir().join(format!("choucha-volume-{}.pdf", std::process::id()));
    std::fs::write(&path, pdf).unwrap();
    let out = Command::new("pdftotext").args(["-raw", "-enc", "UTF-8"]).arg(&path).arg("-").output().unwrap();
    let _ = std::fs::remove_file(&path);
    String::from_utf8(out.stdout).unwrap().chars().filter(|c| !c.is_whitespace()).collect()
}

#[test]
fn the_bound_volume_lists_each_document_at_its_first_page_in_order() {
    let renderer = Renderer::load(&[]).unwrap();
    // CHOUCHA_BOUND_VOLUME_DOCS=400 times a full volume by hand.
    let n: usize = std::env::var("CHOUCHA_BOUND_VOLUME_DOCS").ok().and_then(|v| v.parse().ok()).unwrap_or(4);
    let docs: Vec<VolumeDocument> = (1..=n)
        .map(|i| VolumeDocument {
            title: format!("检验结果告知书LAB-2025-{i:06}"),
            pdf: result_notice_pdf(&renderer, &notice(i)).unwrap(),
            evidence: None,
        })
        .collect();
    let per_doc = pdf_page_count(&docs[0].pdf).unwrap();
    let meta = BoundVolume {
        title: "2025年车用柴油监督抽查检验报告及抽样单合订本".into(),
        organising_bureau: "大同市市场监督管理局".into(),
        date: NaiveDate::from_ymd_opt(2025, 11, 20).unwrap(),
        volume: 1,
        volume_count: 1,
    };
    let started = std::time::Instant::now();
    let pdf = bound_volume_pdf(&renderer, &meta, docs).unwrap();
    eprintln!("{n} documents: {} ms, {} KB", started.elapsed().as_millis(), pdf.len() / 1024);
    let pages = pdf_page_count(&pdf).unwrap();
    let toc_pages = pages - 1 - n * per_doc;
    assert!((1..=n.div_ceil(30) + 1).contains(&toc_pages), "cover, contents, then every page: {pages}");
    let text = pdf_text(&pdf);
    // Contents: entry i starts at page 1 (cover) + contents + (i-1)·per_doc + 1.
    for i in 1..=n.min(5) {
        let first = 1 + toc_pages + (i - 1) * per_doc + 1;
        assert!(text.contains(&format!("检验结果告知书LAB-2025-{i:06}")), "entry {i}");
        assert!(text.contains(&format!("{i}检验结果告知书LAB-2025-{i:06}")), "entry {i} numbered");
        let after = text.split(&format!("检验结果告知书LAB-2025-{i:06}")).nth(1).unwrap();
        let digits: String = after.trim_start_matches('.').chars().take_while(char::is_ascii_digit).collect();
        assert!(digits.starts_with(&first.to_string()), "entry {i} at page {first}, got {digits}");
        // The page the contents give prints that number, and is the document's first page.
        let page = page_text(&pdf, first);
        assert!(page.contains(&format!("合订本第{first}页")), "page {first} is numbered so: {page}");
        assert!(page.contains(&format!("LAB-2025-{i:06}-GZ")), "page {first} is entry {i}'s first page");
    }
    // The documents follow in order.
    let a = text.rfind("LAB-2025-000001-GZ").unwrap();
    let b = text.rfind("LAB-2025-000002-GZ").unwrap();
    assert!(a < b);
}

#[test]
fn a_records_evidence_list_follows_it_and_the_next_entry_starts_after_it() {
    let renderer = Renderer::load(&[]).unwrap();
    let sha = "ab".repeat(32);
    let sheet = EvidenceSheet {
        items: vec![EvidenceEntry {
            category: "样品标签".into(),
            file_name: "label.jpg".into(),
            uploaded_at: "2025-10-10 09:31".into(),
            uploaded_by: "郭海峰".into(),
            sha256: sha.clone(),
        }],
        reasons: vec!["库存：现场无库存".into()],
    };
    let docs = vec![
        VolumeDocument {
            title: "抽样单及抽样证据清单（一）".into(),
            pdf: result_notice_pdf(&renderer, &notice(1)).unwrap(),
            evidence: Some(sheet),
        },
        VolumeDocument {
            title: "检验报告（二）".into(),
            pdf: result_notice_pdf(&renderer, &notice(2)).unwrap(),
            evidence: None,
        },
    ];
    let per_doc = pdf_page_count(&docs[0].pdf).unwrap();
    let meta = BoundVolume {
        title: "合订本".into(),
        organising_bureau: "大同市市场监督管理局".into(),
        date: NaiveDate::from_ymd_opt(2025, 11, 20).unwrap(),
        volume: 1,
        volume_count: 1,
    };
    let pdf = bound_volume_pdf(&renderer, &meta, docs).unwrap();
    // Cover, contents, the first document, its evidence list, the second document.
    assert_eq!(pdf_page_count(&pdf).unwrap(), 2 + per_doc + 1 + per_doc);
    let list = page_text(&pdf, 3 + per_doc);
    assert!(list.contains("抽样证据清单") && list.contains(&sha) && list.contains("库存：现场无库存"), "{list}");
    assert!(list.contains(&format!("合订本第{}页", 3 + per_doc)), "{list}");
    let second = 4 + per_doc;
    let toc = page_text(&pdf, 2);
    let after = toc.split("检验报告（二）").nth(1).unwrap().trim_start_matches('.');
    assert!(after.starts_with(&second.to_string()), "the contents count the evidence page: {toc}");
    assert!(page_text(&pdf, second).contains("LAB-2025-000002-GZ"));
}

#[test]
fn the_summary_table_ends_with_its_totals() {
    let t = SummaryTable {
        title: "2025年车用柴油监督抽查检验情况汇总表".into(),
        rows: vec![
            SummaryRow {
                product: "车用柴油".into(),
                conclusion: "合格".into(),
                report_no: "LAB-1".into(),
                ..Default::default()
            },
            SummaryRow { product: "车用柴油".into(), conclusion: "拒检".into(), ..Default::default() },
        ],
        sampled: 1,
        qualified: 1,
        unqualified: 0,
        refusals: 1,
    };
    let rows = read_rows(&summary_table_xlsx(&t).unwrap(), TableFormat::Xlsx).unwrap();
    assert_eq!(rows.len(), 5, "title, header, two rows, totals");
    assert_eq!(rows[2].1[9], "LAB-1");
    let totals = &rows[4].1;
    assert_eq!((totals[0].as_str(), totals[10].as_str()), ("合计", "检验1批次，合格1批次，不合格0批次，拒检1家"));
}
