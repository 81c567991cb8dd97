//! Results: the deadline across a holiday (rule 16), XLSX import by blind code, screening (rule 24)
//! and the dashboards.

use super::*;

#[tokio::test]
async fn results_are_due_three_working_days_after_testing_across_national_day() {
    let w = world().await;
    let bc = accepted(&w).await;
    let ended = NaiveDate::from_ymd_opt(2026, 9, 30).unwrap();
    for i in 0..2 {
        let mut r = number(i, if i == 0 { 5.0 } else { 65.0 });
        r.tested_on = Some(ended);
        lab::enter_result(s(&w), &w.t1, &bc, r).await.unwrap();
    }
    let text = ResultInput {
        item_index: Some(2),
        text: Some("清澈透明".into()),
        tested_on: Some(ended),
        ..Default::default()
    };
    let v = lab::enter_result(s(&w), &w.t1, &bc, text).await.unwrap();
    // 10-01..10-07 are holidays; Thu 10-08, Fri 10-09 and the make-up workday Sat 10-10 count.
    assert_eq!(v.results_due, Some(NaiveDate::from_ymd_opt(2026, 10, 10).unwrap()));
    let today = s(&w).today();
    assert_eq!(v.overdue, today > NaiveDate::from_ymd_opt(2026, 10, 10).unwrap());
    if v.overdue {
        let overdue =
            lab::worklist(s(&w), &w.t1, WorklistQuery { overdue: Some(true), ..Default::default() }).await.unwrap();
        assert_eq!(overdue.items.len(), 1);
        assert!(lab::dashboard(s(&w), &w.custodian).await.unwrap().overdue >= 1);
        let done = lab::complete_results(s(&w), &w.t1, &bc).await.unwrap();
        assert!(done.results_late);
        let inbox = sampling::inbox(s(&w), &w.regulator, None, None).await.unwrap();
        assert!(inbox.items.iter().any(|i| i.kind == "lab_results_late"));
    }
    // Results tested today are not overdue.
    let w2 = world().await;
    let bc2 = accepted(&w2).await;
    let v = lab::enter_result(s(&w2), &w2.t1, &bc2, number(0, 5.0)).await.unwrap();
    assert!(!v.overdue);
    assert!(v.results_due.unwrap() > today);
}

fn xlsx(rows: &[[&str; 4]]) -> Vec<u8> {
    use choucha_documents::CellValue;
    choucha_documents::write_table(
        "结果",
        None,
        &["盲样编号", "检验项目", "检验结果", "仪器设备"],
        rows.iter().map(|r| r.iter().map(|c| CellValue::Text(c.to_string())).collect()),
    )
    .unwrap()
}

#[tokio::test]
async fn xlsx_import_by_blind_code_writes_nothing_when_any_row_is_wrong() {
    let w = world().await;
    let bc = accepted(&w).await;
    let bad = xlsx(&[
        [&bc, "硫含量", "12.5", "XRF-01"],
        [&bc, "闪点（闭口）", "六十五", ""],
        ["M2025-ZZZZZZZZ", "硫含量", "1", ""],
        [&bc, "密度", "830", ""],
    ]);
    let out = lab::import_results(s(&w), &w.t1, "结果.xlsx", bad).await.unwrap();
    assert_eq!(out.written, 0);
    let rows: Vec<u32> = out.errors.iter().map(|e| e.row).collect();
    assert_eq!(rows, vec![3, 4, 5], "{:?}", out.errors);
    assert!(lab::sample(s(&w), &w.t1, &bc).await.unwrap().items.iter().all(|i| i.result.is_none()));
    // The error about an unknown code does not say whose sample anything is.
    assert!(!serde_json::to_string(&out).unwrap().contains(ENTERPRISE));
    let good =
        xlsx(&[[&bc, "硫含量", "12.5", "XRF-01"], [&bc, "闪点（闭口）", "65", ""], [&bc, "外观", "清澈透明", ""]]);
    let out = lab::import_results(s(&w), &w.t1, "结果.xlsx", good).await.unwrap();
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert_eq!(out.written, 3);
    let v = lab::complete_results(s(&w), &w.t1, &bc).await.unwrap();
    assert_eq!(v.qualified, Some(false));
    // A sampler of the sample may not import its results either.
    let again = xlsx(&[[&bc, "硫含量", "1", ""]]);
    let out = lab::import_results(s(&w), &w.s1, "r.xlsx", again).await.unwrap();
    assert_eq!(out.written, 0);
    assert!(out.errors[0].message.contains("规则1"), "{:?}", out.errors);
}

#[tokio::test]
async fn all_items_of_a_sample_in_one_save_are_written_together_or_not_at_all() {
    let w = world().await;
    let bc = accepted(&w).await;
    // One wrong item (a word for a number) refuses the whole form, naming every problem.
    let wrong = ResultInput { item_index: Some(1), text: Some("高".into()), ..Default::default() };
    let e = lab::enter_results(s(&w), &w.t1, &bc, vec![number(0, 12.5), wrong]).await.unwrap_err();
    assert_eq!(code(&e), "result_kind");
    assert!(lab::sample(s(&w), &w.t1, &bc).await.unwrap().items.iter().all(|i| i.result.is_none()), "nothing written");
    // The same item twice, or nothing at all, is refused.
    assert_eq!(
        code(&lab::enter_results(s(&w), &w.t1, &bc, vec![number(0, 5.0), number(0, 6.0)]).await.unwrap_err()),
        "duplicate_item"
    );
    assert_eq!(code(&lab::enter_results(s(&w), &w.t1, &bc, vec![]).await.unwrap_err()), "required");
    let text = ResultInput { item_index: Some(2), text: Some("清澈透明".into()), ..Default::default() };
    let v = lab::enter_results(s(&w), &w.t1, &bc, vec![number(0, 12.5), number(1, 65.0), text]).await.unwrap();
    let judged: Vec<&str> = v.items.iter().map(|i| i.result.as_ref().unwrap().judgement_label.as_str()).collect();
    assert_eq!(judged, ["不符合", "符合", "符合"]);
    // The sample is now the first tester's: another tester of the institution is refused.
    assert_eq!(code(&lab::enter_results(s(&w), &w.t2, &bc, vec![number(0, 5.0)]).await.unwrap_err()), "forbidden");
    let done = lab::complete_results(s(&w), &w.t1, &bc).await.unwrap();
    assert!(!done.qualified.unwrap_or(true));
}

#[tokio::test]
async fn one_samples_instrument_sheet_imports_only_into_that_sample() {
    let w = world().await;
    let bc = accepted(&w).await;
    let other = "盲样编号,检验项目,检验结果\nZZ-0001,硫含量,5\n".as_bytes().to_vec();
    let out = lab::import_sample_results(s(&w), &w.t1, &bc, "r.csv", other).await.unwrap();
    assert_eq!(out.written, 0);
    assert!(out.errors[0].message.contains("不是本样品"), "{:?}", out.errors);
    let sheet = "检验项目,检验结果,仪器设备\n硫含量,5,XRF-01\n闪点（闭口）,65,闪点仪\n".as_bytes().to_vec();
    let out = lab::import_sample_results(s(&w), &w.t1, &bc, "r.csv", sheet.clone()).await.unwrap();
    assert_eq!((out.written, out.errors.len()), (2, 0), "{:?}", out.errors);
    // Another tester of the institution cannot import into a sample not assigned to them.
    assert_eq!(code(&lab::import_sample_results(s(&w), &w.t2, &bc, "r.csv", sheet).await.unwrap_err()), "forbidden");
}

#[tokio::test]
async fn screening_flags_a_sample_for_full_testing_and_is_never_a_report() {
    let w = world_with(Options { screening: true, ..Default::default() }).await;
    let bc = accepted(&w).await;
    let screener = auth::login(s(&w), "wn_screener", PASSWORD).await.unwrap();
    assert_eq!(lab::sample(s(&w), &w.t1, &bc).await.unwrap().state.as_str(), "screening");
    let e = lab::enter_result(s(&w), &w.t1, &bc, number(0, 5.0)).await.unwrap_err();
    assert_eq!(code(&e), "rule24_screening_pending");
    // The testing institution's testers may not record the screening.
    let flag = ScreeningInput { result: "flagged".into(), note: "硫含量快筛偏高".into() };
    assert_eq!(code(&lab::screen(s(&w), &w.t1, &bc, flag.clone()).await.unwrap_err()), "forbidden");
    let list = lab::worklist(s(&w), &screener, WorklistQuery::default()).await.unwrap();
    assert_eq!(list.items.len(), 1);
    let json = serde_json::to_string(&list).unwrap();
    assert!(!json.contains(ENTERPRISE) && !json.contains(&w.uscc));
    let v = lab::screen(s(&w), &screener, &bc, flag).await.unwrap();
    assert_eq!(v.state.as_str(), "accepted");
    // The screener cannot prepare a report; testing goes on at the testing institution.
    assert_eq!(code(&lab::prepare_report(s(&w), &screener, &bc, sig()).await.unwrap_err()), "forbidden");
    lab::enter_result(s(&w), &w.t1, &bc, number(0, 5.0)).await.unwrap();
}

#[tokio::test]
async fn a_cleared_screening_ends_without_testing_or_report() {
    let w = world_with(Options { screening: true, ..Default::default() }).await;
    let bc = accepted(&w).await;
    let screener = auth::login(s(&w), "wn_screener", PASSWORD).await.unwrap();
    let v = lab::screen(s(&w), &screener, &bc, ScreeningInput { result: "cleared".into(), note: String::new() })
        .await
        .unwrap();
    assert_eq!(v.state.as_str(), "cleared");
    assert_eq!(code(&lab::enter_result(s(&w), &w.t1, &bc, number(0, 5.0)).await.unwrap_err()), "rule24_cleared");
    assert_eq!(code(&lab::prepare_report(s(&w), &w.t1, &bc, sig()).await.unwrap_err()), "sample_state");
}

#[tokio::test]
async fn dashboards_count_per_state_tester_and_institution() {
    let w = world().await;
    let bc = accepted(&w).await;
    let d = lab::dashboard(s(&w), &w.custodian).await.unwrap();
    assert_eq!(d.awaiting_test, 1);
    assert_eq!(d.incoming, Some(0));
    lab::enter_result(s(&w), &w.t1, &bc, number(0, 5.0)).await.unwrap();
    let d = lab::dashboard(s(&w), &w.a1).await.unwrap();
    assert_eq!(d.testers.len(), 1);
    assert_eq!((d.testers[0].tester.as_str(), d.testers[0].testing), ("lab_t1", 1));
    let d = lab::dashboard(s(&w), &w.regulator).await.unwrap();
    assert_eq!(d.institutions.len(), 1);
    assert_eq!(d.institutions[0].org_name, "山西省检验检测中心");
    assert_eq!(d.institutions[0].total, 1);
    let sampler = w.fx.user("plain_sampler", &["sampler"], Some("lab")).await;
    assert_eq!(code(&lab::dashboard(s(&w), &sampler).await.unwrap_err()), "forbidden");
}
