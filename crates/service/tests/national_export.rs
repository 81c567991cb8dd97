//! The national data exchange (issue 18 part 7) through the service layer: what is due for e-CQS
//! and when it is overdue by the calendar, a day's file with every field and its label, the mark of
//! what was exported (refused when the file changed, recorded again on a re-mark), and who may see
//! and mark which kind — never a blind tester, an enterprise or another bureau.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use choucha_domain::national_export::{ExportKind, FORMAT_VERSION, SAMPLING_FIELDS};
use choucha_service::fixtures::lab_world::*;
use choucha_service::national_export::{self as national, MarkInput, NationalDue, Rows};
use chrono::{NaiveDate, TimeZone};

/// Monday 2026-11-16, 10:00 in Beijing.
fn monday() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc.with_ymd_and_hms(2026, 11, 16, 2, 0, 0).unwrap()
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn kind(n: &NationalDue, k: ExportKind) -> &choucha_service::national_export::KindSummary {
    n.kinds.iter().find(|x| x.kind == k).unwrap()
}

/// The world's task sampled on 2025-10-10 (long overdue) and a second one sampled this morning.
async fn two_sampled() -> (World, i64) {
    let w = world_with(Options { clock_at: Some(monday()), ..Default::default() }).await;
    let t2 = another_task(&w, "大同市平城区今日加油站", 7).await;
    choucha_service::draws::start_task(s(&w), &w.s1, t2).await.unwrap();
    sampled(&w, t2, choucha_domain::sampling::RecordFields { sampled_at: "2026-11-16 09:00".into(), ..record() }).await;
    (w, t2)
}

#[tokio::test]
async fn sampling_information_is_due_the_day_after_sampling_and_overdue_after_it() {
    let (w, t2) = two_sampled().await;
    let n = national::due(s(&w), &w.regulator, w.plan).await.unwrap();
    assert_eq!(n.today, day(2026, 11, 16));
    let sampling = kind(&n, ExportKind::Sampling);
    assert_eq!((sampling.due, sampling.overdue, sampling.exported), (2, 1, 0));
    assert_eq!((n.due_total, n.due.len()), (2, 2), "every due entry listed under the list's bound");
    assert!(n.due.iter().all(|d| !d.enterprise_name.is_empty()), "names read in one query");
    let old = n.due.iter().find(|d| d.task_id == w.task).unwrap();
    assert_eq!((old.day, old.deadline, old.overdue), (day(2025, 10, 10), day(2025, 10, 11), true));
    let new = n.due.iter().find(|d| d.task_id == t2).unwrap();
    assert_eq!((new.deadline, new.overdue), (day(2026, 11, 17), false));
    assert_eq!(new.enterprise_name, "大同市平城区今日加油站");
    // The day after sampling is still in time; the day after that is not.
    s(&w).shift_today(1);
    let n = national::due(s(&w), &w.regulator, w.plan).await.unwrap();
    assert_eq!(kind(&n, ExportKind::Sampling).overdue, 1);
    s(&w).shift_today(1);
    let n = national::due(s(&w), &w.regulator, w.plan).await.unwrap();
    assert_eq!(kind(&n, ExportKind::Sampling).overdue, 2);
}

#[tokio::test]
async fn results_are_due_three_working_days_after_testing_ended() {
    let w = world_with(Options { clock_at: Some(monday()), ..Default::default() }).await;
    let report = issued(&w, 12.5).await;
    let n = national::due(s(&w), &w.custodian, w.plan).await.unwrap();
    let results = kind(&n, ExportKind::Results);
    assert_eq!((results.due, results.overdue), (1, 0));
    let d = n.due.iter().find(|d| d.kind == ExportKind::Results).unwrap();
    // Testing ended Monday 16 November: Tuesday, Wednesday, Thursday.
    assert_eq!((d.day, d.deadline), (day(2026, 11, 16), day(2026, 11, 19)));
    assert_eq!(d.number, report.report_no.clone().unwrap());
    s(&w).shift_today(3);
    let n = national::due(s(&w), &w.custodian, w.plan).await.unwrap();
    assert_eq!(kind(&n, ExportKind::Results).overdue, 0, "Thursday is the last day");
    s(&w).shift_today(1);
    let n = national::due(s(&w), &w.custodian, w.plan).await.unwrap();
    assert_eq!(kind(&n, ExportKind::Results).overdue, 1);
}

#[tokio::test]
async fn a_days_sampling_file_carries_every_field_of_the_record_with_its_label() {
    let (w, t2) = two_sampled().await;
    let f = national::export(s(&w), &w.s1, w.plan, ExportKind::Sampling, day(2025, 10, 10)).await.unwrap();
    assert_eq!(f.format_version, FORMAT_VERSION);
    assert_eq!(f.fields.len(), SAMPLING_FIELDS.len());
    assert!(f.fields.iter().any(|x| x.key == "enterprise_uscc" && x.label == "被抽样单位统一社会信用代码"));
    let Rows::Sampling(rows) = &f.rows else { panic!("sampling rows") };
    assert_eq!(rows.len(), 1, "only the day's sample");
    let r = &rows[0];
    assert_eq!(r.keys.task_id, w.task);
    assert_eq!(r.enterprise_name, ENTERPRISE);
    assert_eq!(r.enterprise_uscc, w.uscc);
    assert_eq!((r.brand.as_str(), r.model.as_str(), r.batch.as_str()), ("示例牌", "0号", "20251008"));
    assert_eq!((r.sampling_base, r.test_quantity, r.backup_quantity), (12000.0, 2.0, 2.0));
    assert_eq!((r.unit_price, r.total_paid), (7.35, 14.7));
    assert_eq!(r.sampled_at, "2025-10-10T10:30:00+08:00");
    assert_eq!((r.test_seals.as_str(), r.backup_seals.as_str()), ("SXGH-000123", "SXGH-000124"));
    assert_eq!(r.domain, "流通");
    assert!(r.samplers.contains('、'), "both samplers: {}", r.samplers);
    assert!(r.enterprise_signature.starts_with("王站长"), "{}", r.enterprise_signature);
    assert!(r.locked_at.ends_with("+08:00"));
    assert!(r.record_no.starts_with("2025-"));
    // The other day holds the other sample; a day without sampling holds none.
    let today = national::export(s(&w), &w.s1, w.plan, ExportKind::Sampling, day(2026, 11, 16)).await.unwrap();
    let Rows::Sampling(rows) = &today.rows else { panic!() };
    assert_eq!(rows.iter().map(|r| r.keys.task_id).collect::<Vec<_>>(), vec![t2]);
    assert_ne!(today.content_sha256, f.content_sha256);
    let none = national::export(s(&w), &w.s1, w.plan, ExportKind::Sampling, day(2026, 1, 1)).await.unwrap();
    assert_eq!(none.row_count, 0);
}

#[tokio::test]
async fn a_days_results_file_carries_the_report_and_each_item() {
    let w = world_with(Options { clock_at: Some(monday()), ..Default::default() }).await;
    let report = issued(&w, 12.5).await;
    let f = national::export(s(&w), &w.custodian, w.plan, ExportKind::Results, day(2026, 11, 16)).await.unwrap();
    let Rows::Results(rows) = &f.rows else { panic!("result rows") };
    assert_eq!(rows.len(), 1);
    let r = &rows[0];
    assert_eq!(r.report_no, report.report_no.clone().unwrap());
    assert_eq!(r.keys.report_id, Some(report.id));
    assert_eq!((r.qualified.as_str(), r.failing_items.as_str()), ("不合格", "硫含量"));
    assert_eq!((r.inspected_unit.as_str(), r.inspected_uscc.as_str()), (ENTERPRISE, w.uscc.as_str()));
    assert_eq!((r.issued_on.as_str(), r.tested_to.as_str()), ("2026-11-16", "2026-11-16"));
    assert_eq!(r.item_count, 3);
    let sulfur = &r.items[0];
    assert_eq!((sulfur.name.as_str(), sulfur.judgement.as_str()), ("硫含量", "不符合"));
    assert!(!sulfur.requirement.is_empty() && sulfur.result.contains("12.5"));
    assert_eq!(r.report_sha256.len(), 64);
    assert!(r.blind_code.len() > 3 && r.record_no.starts_with("2025-"));
    assert_eq!(f.item_fields.len(), choucha_domain::national_export::ITEM_FIELDS.len());
}

#[tokio::test]
async fn marking_records_the_file_refuses_a_changed_one_and_may_be_repeated() {
    let (w, _) = two_sampled().await;
    let d = day(2025, 10, 10);
    let f = national::export(s(&w), &w.s1, w.plan, ExportKind::Sampling, d).await.unwrap();
    let wrong = MarkInput { day: d.to_string(), content_sha256: "0".repeat(64) };
    let e = national::mark(s(&w), &w.s1, w.plan, ExportKind::Sampling, wrong).await.unwrap_err();
    assert_eq!(code(&e), "export_changed");
    let empty = MarkInput { day: "2026-01-01".into(), content_sha256: f.content_sha256.clone() };
    let e = national::mark(s(&w), &w.s1, w.plan, ExportKind::Sampling, empty).await.unwrap_err();
    assert_eq!(code(&e), "nothing_to_mark");
    let bad = MarkInput { day: "十月十日".into(), content_sha256: f.content_sha256.clone() };
    let e = national::mark(s(&w), &w.s1, w.plan, ExportKind::Sampling, bad).await.unwrap_err();
    assert_eq!(code(&e), "invalid_date");
    let n = national::due(s(&w), &w.regulator, w.plan).await.unwrap();
    assert!(n.marks.is_empty(), "a refused mark writes nothing");

    let input = || MarkInput { day: d.to_string(), content_sha256: f.content_sha256.clone() };
    let m = national::mark(s(&w), &w.s1, w.plan, ExportKind::Sampling, input()).await.unwrap();
    assert_eq!((m.marked, m.content_sha256.as_str()), (1, f.content_sha256.as_str()));
    let n = national::due(s(&w), &w.regulator, w.plan).await.unwrap();
    let sampling = kind(&n, ExportKind::Sampling);
    assert_eq!((sampling.due, sampling.overdue, sampling.exported), (1, 0, 1));
    assert!(n.due.iter().all(|x| x.task_id != w.task));
    assert_eq!(n.marks.len(), 1);
    assert_eq!((n.marks[0].day, n.marks[0].rows), (d, 1));
    assert_eq!(n.marks[0].content_sha256, f.content_sha256);
    // Exporting is no marking; a re-export of the day is marked and recorded again.
    national::export(s(&w), &w.s1, w.plan, ExportKind::Sampling, day(2026, 11, 16)).await.unwrap();
    s(&w).clock().advance(chrono::Duration::minutes(5));
    national::mark(s(&w), &w.s1, w.plan, ExportKind::Sampling, input()).await.unwrap();
    let n = national::due(s(&w), &w.regulator, w.plan).await.unwrap();
    assert_eq!(n.marks.len(), 2);
    assert_eq!(kind(&n, ExportKind::Sampling).due, 1, "the other day is still due");
    // The mark is in the audit log with its file's hash.
    let filter =
        choucha_store::audit::AuditFilter { action: Some("plan.national_export_mark".into()), ..Default::default() };
    let log = choucha_store::audit::list(s(&w).store().reader(), &filter, None, 50).await.unwrap();
    let marks: Vec<_> = log.items.iter().collect();
    assert_eq!(marks.len(), 2);
    assert!(marks[0].after_json.contains(&f.content_sha256));
}

#[tokio::test]
async fn each_institution_sees_and_marks_its_own_kind_and_the_bureau_only_supervises() {
    let w = world_with(Options { clock_at: Some(monday()), ..Default::default() }).await;
    issued(&w, 9.0).await;
    let today = day(2026, 11, 16);
    let results = national::export(s(&w), &w.custodian, w.plan, ExportKind::Results, today).await.unwrap();
    let sampling = national::export(s(&w), &w.s1, w.plan, ExportKind::Sampling, day(2025, 10, 10)).await.unwrap();
    let mark = |sha: &str, d: NaiveDate| MarkInput { day: d.to_string(), content_sha256: sha.to_string() };

    // The organising bureau sees both kinds and downloads, but marks neither.
    let n = national::due(s(&w), &w.regulator, w.plan).await.unwrap();
    assert!(n.kinds.iter().all(|k| k.visible && !k.may_mark));
    national::export(s(&w), &w.regulator, w.plan, ExportKind::Results, today).await.unwrap();
    let e = national::mark(s(&w), &w.regulator, w.plan, ExportKind::Results, mark(&results.content_sha256, today))
        .await
        .unwrap_err();
    assert_eq!(code(&e), "forbidden");

    // The sampler: sampling information only; the custodian: results only.
    let n = national::due(s(&w), &w.s1, w.plan).await.unwrap();
    assert!(kind(&n, ExportKind::Sampling).may_mark && !kind(&n, ExportKind::Results).visible);
    let e = national::export(s(&w), &w.s1, w.plan, ExportKind::Results, today).await.unwrap_err();
    assert_eq!(code(&e), "not_found");
    let e = national::mark(
        s(&w),
        &w.custodian,
        w.plan,
        ExportKind::Sampling,
        mark(&sampling.content_sha256, day(2025, 10, 10)),
    )
    .await
    .unwrap_err();
    assert_eq!(code(&e), "not_found");
    national::mark(s(&w), &w.custodian, w.plan, ExportKind::Results, mark(&results.content_sha256, today))
        .await
        .unwrap();

    // Blind testers and approvers, the sampled enterprise and another bureau learn nothing.
    let ent = enterprise_user(&w).await;
    let other = w.fx.user("sx_reg", &["regulator"], Some("sx")).await;
    for who in [&w.t1, &w.a1, &ent, &other] {
        let e = national::due(s(&w), who, w.plan).await.unwrap_err();
        assert_eq!(code(&e), "not_found", "{}", who.username);
        for k in ExportKind::ALL {
            let e = national::export(s(&w), who, w.plan, k, today).await.unwrap_err();
            assert_eq!(code(&e), "not_found", "{} {k:?}", who.username);
        }
        let e = national::mark(s(&w), who, w.plan, ExportKind::Results, mark(&results.content_sha256, today))
            .await
            .unwrap_err();
        assert_eq!(code(&e), "not_found", "{}", who.username);
    }
}
