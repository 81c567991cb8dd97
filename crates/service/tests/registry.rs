//! The enterprise registry through the service: import (all or nothing, every bad row reported),
//! search with keyset pages, area scoping, export. Runs on SQLite, and on PostgreSQL when
//! CHOUCHA_TEST_DATABASE_URL is set.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use choucha_documents::{CellValue, TableFormat, read_table, write_table};
use choucha_domain::enterprise::EnterpriseDraft;
use choucha_service::fixtures::{Fixture, test_uscc};
use choucha_service::registry::{self, RegistryQuery};
use choucha_service::registry_import::{self, ImportOptions, ImportPhase, ImportReport, OnExisting};
use choucha_service::{Actor, ServiceError};
use choucha_store::audit::{self as store_audit, AuditFilter};
use choucha_store::enterprises::{self as store_ent, EnterpriseFilter};

const HEADER: &str = "企业名称,统一社会信用代码,行政区划代码,地址,企业类型,企业规模,生产/经营产品,生产许可证编号,许可证有效期至,CCC证书编号,经营状态";

const TRADE_NAMES: [&str; 8] = ["华兴", "晋北", "云冈", "御河", "恒泰", "同煤", "塞上", "鑫源"];

/// A good row of the full layout for enterprise `n` in `division`.
fn good_row(division: &str, n: u32) -> String {
    let trade = TRADE_NAMES[n as usize % TRADE_NAMES.len()];
    format!(
        "大同市{trade}电器有限公司{n:04},{},{division},山西省大同市某路{n}号,生产者、销售者,小型,电冰箱；洗衣机,XK08-001-{n:05},2027-12-31,20240107{n:08},在营",
        test_uscc(division, n)
    )
}

fn csv(rows: &[String]) -> Vec<u8> {
    // With a BOM, as Excel saves "CSV UTF-8".
    let mut text = String::from("\u{feff}");
    text.push_str(HEADER);
    for r in rows {
        text.push('\n');
        text.push_str(r);
    }
    text.push('\n');
    text.into_bytes()
}

fn opts(file_name: &str) -> ImportOptions {
    ImportOptions { file_name: file_name.into(), ..Default::default() }
}

async fn import(fx: &Fixture, actor: &Actor, bytes: Vec<u8>, o: &ImportOptions) -> ImportReport {
    registry_import::import(&fx.services, actor, bytes, o, |_| {}).await.expect("import runs")
}

async fn registry_count(fx: &Fixture) -> u64 {
    store_ent::count_up_to(fx.services.store().reader(), &EnterpriseFilter::default(), 10_000_000).await.unwrap()
}

async fn import_audits(fx: &Fixture) -> Vec<store_audit::AuditRow> {
    let f = AuditFilter { action: Some("enterprise.import".into()), ..Default::default() };
    store_audit::list(fx.services.store().reader(), &f, None, 100).await.unwrap().items
}

/// A valid USCC with its check character replaced by a wrong one.
fn with_wrong_check_char(uscc: &str) -> String {
    let last = uscc.chars().last().unwrap();
    let wrong = if last == '0' { '1' } else { '0' };
    format!("{}{wrong}", &uscc[..17])
}

#[tokio::test]
async fn file_with_one_wrong_uscc_is_refused_with_its_row_and_reason_and_registry_unchanged() {
    let fx = Fixture::new().await;
    fx.enterprise("大同市平城区既有商贸有限公司", "140213", "销售者", 1).await;
    let before = registry_count(&fx).await;

    let mut rows: Vec<String> = (100..106).map(|n| good_row("140213", n)).collect();
    let good = test_uscc("140213", 103).to_string();
    let bad = with_wrong_check_char(&good);
    rows[3] = rows[3].replace(&good, &bad); // the 4th data row = sheet row 5
    let report = import(&fx, &fx.admin, csv(&rows), &opts("名录.csv")).await;

    assert!(report.is_refused());
    assert_eq!(report.total_rows, 6);
    assert_eq!(report.error_count, 1, "{:?}", report.errors);
    let e = &report.errors[0];
    assert_eq!(e.row, 5);
    assert_eq!(e.column, "统一社会信用代码");
    assert_eq!(e.value, bad);
    assert!(e.message.contains("校验位") && e.message.contains("GB 32100"), "{}", e.message);
    assert!(e.message.contains(&format!("应为“{}”", good.chars().last().unwrap())), "{}", e.message);
    assert_eq!(report.imported, 0);
    assert_eq!(registry_count(&fx).await, before, "nothing written");
    assert!(import_audits(&fx).await.is_empty());
}

#[tokio::test]
async fn good_csv_imports_every_row_in_one_transaction_with_one_audit_record() {
    let fx = Fixture::new().await;
    let rows: Vec<String> = (1..=30).map(|n| good_row("140213", n)).collect();
    let mut phases = Vec::new();
    let report =
        registry_import::import(&fx.services, &fx.admin, csv(&rows), &opts("平城区名录.csv"), |p| phases.push(p))
            .await
            .unwrap();

    assert!(!report.is_refused(), "{:?}", report.errors);
    assert_eq!((report.total_rows, report.inserted, report.updated, report.imported), (30, 30, 0, 30));
    assert_eq!(registry_count(&fx).await, 30);
    let last = phases.last().unwrap();
    assert_eq!((last.phase, last.done, last.total), (ImportPhase::Writing, 30, 30));

    let audits = import_audits(&fx).await;
    assert_eq!(audits.len(), 1, "one summary record, not one per enterprise");
    let after: serde_json::Value = serde_json::from_str(&audits[0].after_json).unwrap();
    assert_eq!(after["file_name"], "平城区名录.csv");
    assert_eq!(after["rows"], 30);
    assert_eq!(after["inserted"], 30);
    assert_eq!(after["sha256"].as_str().unwrap().len(), 64);
    let creates = store_audit::list(
        fx.services.store().reader(),
        &AuditFilter { action: Some("enterprise.create".into()), ..Default::default() },
        None,
        100,
    )
    .await
    .unwrap();
    assert!(creates.items.is_empty());

    let found = registry::search(
        &fx.services,
        &fx.admin,
        &RegistryQuery { q: Some(test_uscc("140213", 7).to_string()), ..Default::default() },
    )
    .await
    .unwrap();
    let e = &found.items[0];
    assert_eq!(e.name, "大同市鑫源电器有限公司0007");
    assert_eq!(e.kinds, ["producer", "seller"]);
    assert_eq!(e.product_lines, ["电冰箱", "洗衣机"]);
    assert_eq!(e.licence_no.as_deref(), Some("XK08-001-00007"));
    assert_eq!(e.licence_valid_until.map(|d| d.to_string()).as_deref(), Some("2027-12-31"));
    assert_eq!(e.status, "operating");
}

#[tokio::test]
async fn good_xlsx_imports_with_columns_in_any_order_and_other_header_names() {
    let fx = Fixture::new().await;
    // Aliases, another order, no division column (taken from the USCC), a required mark.
    let headers = ["类型", "*名称", "社会信用代码", "住所（经营场所）", "有效期至", "生产许可证号", "备注"];
    let rows = (1..=12u32).map(|n| {
        vec![
            CellValue::from(if n % 2 == 0 { "销售者" } else { "生产者、电商" }),
            CellValue::from(format!("大同市云州区塞上食品有限公司{n:02}")),
            CellValue::from(test_uscc("140215", n).to_string()),
            CellValue::from(format!("大同市云州区西坪镇{n}号")),
            if n == 1 {
                CellValue::Date(chrono::NaiveDate::from_ymd_opt(2026, 6, 30).unwrap())
            } else {
                CellValue::Empty
            },
            if n == 1 { CellValue::from("XK13-014-00012") } else { CellValue::Empty },
            CellValue::from("无"),
        ]
    });
    let bytes = write_table("名录", None, &headers, rows).unwrap();
    let report = import(&fx, &fx.admin, bytes, &opts("云州区.xlsx")).await;
    assert!(!report.is_refused(), "{:?}", report.errors);
    assert_eq!(report.imported, 12);
    assert_eq!(import_audits(&fx).await.len(), 1);

    let p = registry::search(
        &fx.services,
        &fx.admin,
        &RegistryQuery { division: Some("140215".into()), ..Default::default() },
    )
    .await
    .unwrap();
    assert_eq!(p.items.len(), 12);
    let first = p.items.iter().find(|e| e.uscc == test_uscc("140215", 1).to_string()).unwrap();
    assert_eq!(first.division_code, "140215");
    assert_eq!(first.kind_labels, "生产者、电商");
    assert_eq!(first.licence_no.as_deref(), Some("XK13-014-00012"));
    assert_eq!(first.licence_valid_until, chrono::NaiveDate::from_ymd_opt(2026, 6, 30));
}

#[tokio::test]
async fn every_problem_of_every_row_is_reported_with_the_column_and_value() {
    let fx = Fixture::new().await;
    let mut rows: Vec<String> = (1..=4).map(|n| good_row("140213", n)).collect();
    rows[1] = format!(",{},140213,某地址,批发商,超大型,,,2026-13-01,,营业", test_uscc("140213", 2));
    let report = import(&fx, &fx.admin, csv(&rows), &opts("x.csv")).await;
    let on_row_3: Vec<_> = report.errors.iter().filter(|e| e.row == 3).collect();
    let columns: Vec<&str> = on_row_3.iter().map(|e| e.column.as_str()).collect();
    for c in ["企业名称", "企业类型", "企业规模", "许可证有效期至", "经营状态"] {
        assert!(columns.contains(&c), "{c} missing in {columns:?}");
    }
    let kind = on_row_3.iter().find(|e| e.column == "企业类型").unwrap();
    assert_eq!(kind.value, "批发商");
    assert!(kind.message.contains("批发商"));
    assert_eq!(report.error_count, on_row_3.len());
    assert_eq!(registry_count(&fx).await, 0);
}

#[tokio::test]
async fn errors_are_counted_in_full_and_listed_up_to_the_cap() {
    let fx = Fixture::new().await;
    let rows: Vec<String> = (1..=1005).map(|n| good_row("140213", n).replacen("生产者、销售者", "批发商", 1)).collect();
    let report = import(&fx, &fx.admin, csv(&rows), &opts("big.csv")).await;
    assert_eq!(report.error_count, 1005);
    assert_eq!(report.errors.len(), registry_import::MAX_LISTED_ERRORS);
    assert!(report.errors_truncated());
    assert_eq!(report.errors[0].row, 2);
}

#[tokio::test]
async fn missing_required_column_is_reported_once() {
    let fx = Fixture::new().await;
    let text = format!("企业名称,地址\n大同市某某商行,某路1号\n大同市某某超市,某路2号\n{}\n", "大同市某某电器,某路3号");
    let report = import(&fx, &fx.admin, text.into_bytes(), &opts("x.csv")).await;
    assert!(report.is_refused());
    let cols: Vec<&str> = report.errors.iter().map(|e| e.column.as_str()).collect();
    assert_eq!(cols, ["统一社会信用代码", "企业类型"]);
    assert!(report.errors.iter().all(|e| e.row == 1 && e.message.contains("缺少必填列")));
}

#[tokio::test]
async fn duplicate_uscc_inside_the_file_names_both_rows() {
    let fx = Fixture::new().await;
    let mut rows: Vec<String> = (1..=5).map(|n| good_row("140213", n)).collect();
    rows.push(good_row("140213", 2).replace("华兴", "另一家")); // sheet row 7 repeats row 3
    let report = import(&fx, &fx.admin, csv(&rows), &opts("dup.csv")).await;
    assert_eq!(report.error_count, 1, "{:?}", report.errors);
    let e = &report.errors[0];
    assert_eq!((e.row, e.column.as_str()), (7, "统一社会信用代码"));
    assert!(e.message.contains("第3行") && e.message.contains("第7行"), "{}", e.message);
    assert_eq!(registry_count(&fx).await, 0);
}

#[tokio::test]
async fn existing_uscc_is_refused_by_default_and_can_be_skipped_or_updated() {
    let fx = Fixture::new().await;
    fx.enterprise("大同市华兴电器有限公司（旧名）", "140213", "销售者", 2).await;
    let rows: Vec<String> = (1..=3).map(|n| good_row("140213", n)).collect();

    let refused = import(&fx, &fx.admin, csv(&rows), &opts("a.csv")).await;
    assert_eq!(refused.error_count, 1);
    assert_eq!(refused.errors[0].row, 3);
    assert!(refused.errors[0].message.contains("已在名录库中"));
    assert_eq!(registry_count(&fx).await, 1);

    let skip = ImportOptions { on_existing: OnExisting::Skip, ..opts("a.csv") };
    let skipped = import(&fx, &fx.admin, csv(&rows), &skip).await;
    assert_eq!((skipped.inserted, skipped.updated, skipped.skipped, skipped.imported), (2, 0, 1, 2));
    let old =
        store_ent::find_by_uscc(fx.services.store().reader(), test_uscc("140213", 2).as_str()).await.unwrap().unwrap();
    assert_eq!(old.name, "大同市华兴电器有限公司（旧名）");

    let update = ImportOptions { on_existing: OnExisting::Update, ..opts("a.csv") };
    let updated = import(&fx, &fx.admin, csv(&rows), &update).await;
    assert_eq!((updated.inserted, updated.updated, updated.imported), (0, 3, 3));
    let now =
        store_ent::find_by_uscc(fx.services.store().reader(), test_uscc("140213", 2).as_str()).await.unwrap().unwrap();
    assert_eq!(now.id, old.id);
    assert_eq!(now.name, "大同市云冈电器有限公司0002");
    assert_eq!(now.licence_no.as_deref(), Some("XK08-001-00002"));
    assert_eq!(registry_count(&fx).await, 3);
    assert_eq!(import_audits(&fx).await.len(), 2);
}

#[tokio::test]
async fn dry_run_validates_and_writes_nothing() {
    let fx = Fixture::new().await;
    let rows: Vec<String> = (1..=8).map(|n| good_row("140213", n)).collect();
    let o = ImportOptions { dry_run: true, ..opts("试运行.csv") };
    let report = import(&fx, &fx.admin, csv(&rows), &o).await;
    assert!(!report.is_refused());
    assert!(report.dry_run);
    assert_eq!((report.inserted, report.imported), (8, 0));
    assert_eq!(registry_count(&fx).await, 0);
    assert!(import_audits(&fx).await.is_empty());
}

#[tokio::test]
async fn county_bureau_cannot_import_or_create_outside_its_division() {
    let fx = Fixture::new().await;
    let county = fx.user("pc-staff", &["local_regulator"], Some("dt-pc")).await;
    let foreign = fx.enterprise("阳高县既有农资商店", "140221", "销售者", 9).await;

    let rows = vec![good_row("140213", 1), good_row("140221", 2), good_row("140213", 3)];
    let report = import(&fx, &county, csv(&rows), &opts("x.csv")).await;
    assert_eq!(report.error_count, 1, "{:?}", report.errors);
    let e = &report.errors[0];
    assert_eq!((e.row, e.column.as_str(), e.value.as_str()), (3, "行政区划代码", "140221"));
    assert!(e.message.contains("不在本辖区"));

    // Updating another area's entry by USCC is refused too (even with an in-area division).
    let takeover = good_row("140213", 9).replace(&test_uscc("140213", 9).to_string(), &foreign.uscc);
    let upd = ImportOptions { on_existing: OnExisting::Update, ..opts("y.csv") };
    let report = import(&fx, &county, csv(&[takeover]), &upd).await;
    assert_eq!(report.error_count, 1, "{:?}", report.errors);
    assert!(report.errors[0].message.contains("其他辖区"));

    let draft = EnterpriseDraft {
        name: "阳高县某某五金店".into(),
        uscc: test_uscc("140221", 5).to_string(),
        kinds: "销售者".into(),
        ..Default::default()
    };
    match registry::create(&fx.services, &county, draft).await {
        Err(ServiceError::Invalid(v)) => assert_eq!(v[0].field.as_deref(), Some("division_code")),
        other => panic!("expected out-of-area refusal, got {other:?}"),
    }
    assert_eq!(registry_count(&fx).await, 1);
}

#[tokio::test]
async fn county_bureau_sees_only_its_division() {
    let fx = Fixture::new().await;
    let county = fx.user("pc-staff", &["local_regulator"], Some("dt-pc")).await;
    let mine = fx.enterprise("平城区某某商场", "140213", "销售者", 1).await;
    let theirs = fx.enterprise("阳高县某某商场", "140221", "销售者", 2).await;

    let p = registry::search(&fx.services, &county, &RegistryQuery::default()).await.unwrap();
    let ids: Vec<i64> = p.items.iter().map(|e| e.id).collect();
    assert_eq!(ids, [mine.id]);
    // Asking for the whole city is narrowed to the county; asking for another county is refused.
    let city = RegistryQuery { division: Some("140200".into()), ..Default::default() };
    assert_eq!(registry::search(&fx.services, &county, &city).await.unwrap().items.len(), 1);
    let other = RegistryQuery { division: Some("140221".into()), ..Default::default() };
    assert!(matches!(registry::search(&fx.services, &county, &other).await, Err(ServiceError::Forbidden(_))));
    assert!(matches!(registry::get(&fx.services, &county, theirs.id).await, Err(ServiceError::NotFound(_))));
    // The export is scoped the same way.
    let bytes = choucha_service::registry_import::export_xlsx(&fx.services, &county, &RegistryQuery::default(), 100)
        .await
        .unwrap();
    assert_eq!(read_table(&bytes, TableFormat::Xlsx).unwrap().len(), 1);
}

#[tokio::test]
async fn tester_cannot_read_or_change_the_registry() {
    let fx = Fixture::new().await;
    let tester = fx.user("tester1", &["tester"], Some("lab")).await;
    let rows = vec![good_row("140213", 1)];
    assert!(matches!(
        registry_import::import(&fx.services, &tester, csv(&rows), &opts("x.csv"), |_| {}).await,
        Err(ServiceError::Forbidden(_))
    ));
    assert!(matches!(
        registry::search(&fx.services, &tester, &RegistryQuery::default()).await,
        Err(ServiceError::Forbidden(_))
    ));
    assert!(matches!(
        choucha_service::registry_import::export_xlsx(&fx.services, &tester, &RegistryQuery::default(), 100).await,
        Err(ServiceError::Forbidden(_))
    ));
    assert!(matches!(registry_import::template_xlsx(&tester), Err(ServiceError::Forbidden(_))));
}

#[tokio::test]
async fn search_by_name_prefix_uscc_division_and_kind() {
    let fx = Fixture::new().await;
    let a = fx.enterprise("大同市华兴电器有限公司", "140213", "生产者", 1).await;
    let b = fx.enterprise("大同市华兴超市", "140221", "销售者", 2).await;
    let c = fx.enterprise("大同市云冈加油站", "140214", "加油站、销售者", 3).await;
    let s = &fx.services;
    let ids = |p: choucha_store::Page<registry::EnterpriseView>| p.items.into_iter().map(|e| e.id).collect::<Vec<_>>();
    let q = |q: &str| RegistryQuery { q: Some(q.into()), ..Default::default() };

    assert_eq!(
        ids(registry::search(s, &fx.admin, &q("大同市华兴")).await.unwrap()),
        [a.id, b.id],
        "by name, in code-point order"
    );
    assert_eq!(ids(registry::search(s, &fx.admin, &q(&c.uscc.to_lowercase())).await.unwrap()), [c.id]);
    let div = RegistryQuery { division: Some("140221".into()), ..Default::default() };
    assert_eq!(ids(registry::search(s, &fx.admin, &div).await.unwrap()), [b.id]);
    let city = RegistryQuery { division: Some("1402".into()), ..Default::default() };
    assert_eq!(ids(registry::search(s, &fx.admin, &city).await.unwrap()), [a.id, c.id, b.id], "in division order");
    let sellers = RegistryQuery { kind: Some("seller".into()), ..Default::default() };
    assert_eq!(ids(registry::search(s, &fx.admin, &sellers).await.unwrap()), [b.id, c.id]);
    let fuel = RegistryQuery { kind: Some("加油站".into()), division: Some("140214".into()), ..Default::default() };
    assert_eq!(ids(registry::search(s, &fx.admin, &fuel).await.unwrap()), [c.id]);
    let suspended = RegistryQuery { status: Some("suspended".into()), ..Default::default() };
    assert!(registry::search(s, &fx.admin, &suspended).await.unwrap().items.is_empty());
}

#[tokio::test]
async fn keyset_pages_return_every_row_exactly_once() {
    let fx = Fixture::new().await;
    // 120 entries over two counties, through one import.
    let rows: Vec<String> = (1..=120).map(|n| good_row(if n % 3 == 0 { "140221" } else { "140213" }, n)).collect();
    assert_eq!(import(&fx, &fx.admin, csv(&rows), &opts("120.csv")).await.imported, 120);

    for base in [
        RegistryQuery::default(),                                              // by id
        RegistryQuery { division: Some("1402".into()), ..Default::default() }, // by division
        RegistryQuery { q: Some("大同市".into()), ..Default::default() },      // by name
    ] {
        let mut seen = Vec::new();
        let mut cursor = None;
        let mut pages = 0;
        loop {
            let q = RegistryQuery { cursor: cursor.clone(), limit: Some(50), ..base.clone() };
            let p = registry::search(&fx.services, &fx.admin, &q).await.unwrap();
            pages += 1;
            seen.extend(p.items.into_iter().map(|e| e.id));
            match p.next {
                Some(n) => cursor = Some(n),
                None => break,
            }
        }
        assert_eq!(pages, 3, "{base:?}");
        let mut unique = seen.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!((seen.len(), unique.len()), (120, 120), "{base:?}");
    }
}

#[tokio::test]
async fn export_round_trips_through_read_table_and_imports_back() {
    let fx = Fixture::new().await;
    let rows: Vec<String> = (1..=25).map(|n| good_row("140213", n)).collect();
    import(&fx, &fx.admin, csv(&rows), &opts("25.csv")).await;

    let q = RegistryQuery { division: Some("140213".into()), ..Default::default() };
    let bytes = choucha_service::registry_import::export_xlsx(
        &fx.services,
        &fx.admin,
        &q,
        choucha_service::registry_import::EXPORT_MAX_ROWS,
    )
    .await
    .unwrap();
    let table = read_table(&bytes, TableFormat::Xlsx).unwrap();
    assert_eq!(table.headers(), registry_import::headers());
    assert_eq!(table.len(), 25);
    let uscc = table.column("统一社会信用代码").unwrap();
    let division = table.column("行政区划代码").unwrap();
    let until = table.column("许可证有效期至").unwrap();
    let first = &table.rows()[0];
    assert_eq!(first[uscc], test_uscc("140213", 1).to_string(), "codes stay text");
    assert_eq!(first[division], "140213");
    assert_eq!(first[until], "2027-12-31");

    // Typed cells: the licence's end is a date cell (a number with a date style), the codes text.
    let sheet_xml = {
        use std::io::Read as _;
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(&bytes)).unwrap();
        let mut xml = String::new();
        zip.by_name("xl/worksheets/sheet1.xml").unwrap().read_to_string(&mut xml).unwrap();
        xml
    };
    let cell = |r: &str| {
        let at = sheet_xml.find(&format!("<c r=\"{r}\"")).unwrap_or_else(|| panic!("{r}"));
        let rest = &sheet_xml[at..];
        rest[..rest.find("</c>").unwrap()].to_string()
    };
    assert!(!cell("I2").contains(" t=\"") && cell("I2").contains("<v>"), "a date cell: {}", cell("I2"));
    for code in ["B2", "C2", "H2", "J2"] {
        assert!(cell(code).contains(" t=\""), "{code} stays text: {}", cell(code));
    }

    // The export is in the import layout: it goes back in as updates of the same entries, and
    // nothing changes (exported again, the same rows).
    let upd = ImportOptions { on_existing: OnExisting::Update, ..opts("导出.xlsx") };
    let back = import(&fx, &fx.admin, bytes, &upd).await;
    assert!(!back.is_refused(), "{:?}", back.errors);
    assert_eq!((back.inserted, back.updated), (0, 25));
    let again = choucha_service::registry_import::export_xlsx(&fx.services, &fx.admin, &q, 25).await.unwrap();
    let again = read_table(&again, TableFormat::Xlsx).unwrap();
    assert_eq!(again.rows(), table.rows(), "re-imported unchanged");

    // More matches than a sheet holds: refused with a message, no file.
    match choucha_service::registry_import::export_xlsx(&fx.services, &fx.admin, &q, 10).await {
        Err(ServiceError::Invalid(v)) => {
            assert!(v[0].message.contains("缩小范围"), "{}", v[0].message)
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn template_has_the_headers_and_an_example_row_that_validates() {
    let fx = Fixture::new().await;
    let bytes = registry_import::template_xlsx(&fx.admin).unwrap();
    let table = read_table(&bytes, TableFormat::Xlsx).unwrap();
    assert_eq!(table.headers(), registry_import::headers());
    assert_eq!(table.len(), 1);
    let o = ImportOptions { dry_run: true, ..opts("模板.xlsx") };
    let report = import(&fx, &fx.admin, bytes, &o).await;
    assert!(!report.is_refused(), "{:?}", report.errors);
}

#[tokio::test]
async fn background_import_reports_progress_and_its_result_to_its_owner_only() {
    let fx = Fixture::new().await;
    let jobs = registry_import::ImportJobs::default();
    let rows: Vec<String> = (1..=40).map(|n| good_row("140213", n)).collect();
    let id = jobs.start(&fx.services, &fx.admin, csv(&rows), opts("bg.csv")).unwrap();
    let other = fx.user("city-staff", &["regulator"], Some("dt")).await;
    assert!(matches!(jobs.get(&other, &id), Err(ServiceError::NotFound(_))));
    let report = loop {
        match jobs.get(&fx.admin, &id).unwrap().state {
            registry_import::ImportJobState::Finished(r) => break r,
            registry_import::ImportJobState::Failed { message } => panic!("{message}"),
            registry_import::ImportJobState::Running(_) => {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await
            }
        }
    };
    assert_eq!(report.imported, 40);
    assert_eq!(registry_count(&fx).await, 40);
}

/// 100,000 rows: the size the progress page is for. Slow in a debug build, so run on demand:
/// `cargo test -p choucha-service --test registry -- --ignored`.
#[tokio::test]
#[ignore]
async fn large_file_imports_with_progress_through_every_phase() {
    let fx = Fixture::new().await;
    let rows: Vec<String> = (1..=100_000).map(|n| good_row("140213", n)).collect();
    let started = std::time::Instant::now();
    let mut seen = Vec::new();
    let report = registry_import::import(&fx.services, &fx.admin, csv(&rows), &opts("十万行.csv"), |p| seen.push(p))
        .await
        .unwrap();
    let took = started.elapsed();
    assert_eq!(report.imported, 100_000, "{:?}", report.errors.first());
    for phase in [ImportPhase::Reading, ImportPhase::Checking, ImportPhase::Validating, ImportPhase::Writing] {
        assert!(seen.iter().filter(|p| p.phase == phase).count() >= 1, "{phase:?}");
    }
    assert!(seen.iter().filter(|p| p.phase == ImportPhase::Writing).count() >= 100);
    eprintln!("100,000 rows imported in {took:?} ({} progress reports)", seen.len());
    let p = registry::search(
        &fx.services,
        &fx.admin,
        &RegistryQuery { q: Some("大同市鑫源".into()), limit: Some(50), ..Default::default() },
    )
    .await
    .unwrap();
    assert_eq!(p.items.len(), 50);
}
