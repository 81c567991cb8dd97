//! The enterprise registry over the API: `/api/v1/enterprises` (search, create, update, import,
//! export, template).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use choucha_documents::{CellValue, TableFormat, read_table, write_table};
use choucha_service::fixtures::test_uscc;
use choucha_store::audit::{self as store_audit, AuditFilter};
use common::registry::{api_import, csv, good_row, registry_count, urlencode, with_wrong_check_char};
use common::{Api, TestServer};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn api_bytes(api: &Api, path: &str) -> (StatusCode, String, Vec<u8>) {
    let r = api.client.get(format!("{}{}", api.base, path)).bearer_auth(&api.token).send().await.unwrap();
    let status = r.status();
    let ct = r.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    (status, ct, r.bytes().await.unwrap().to_vec())
}

async fn import_audit_count(srv: &TestServer) -> usize {
    let f = AuditFilter { action: Some("enterprise.import".into()), ..Default::default() };
    store_audit::list(srv.fx.services.store().reader(), &f, None, 100).await.unwrap().items.len()
}

#[tokio::test]
async fn import_with_one_wrong_uscc_is_refused_with_its_row_and_reason_and_registry_unchanged() {
    let srv = TestServer::start().await;
    let api = srv.api("admin").await;
    let mut rows: Vec<String> = (1..=10).map(|n| good_row("140213", n)).collect();
    let good = test_uscc("140213", 6).to_string();
    let bad = with_wrong_check_char(&good);
    rows[5] = rows[5].replace(&good, &bad); // sheet row 7

    let (status, report) = api_import(&api, "平城区名录.csv", &csv(&rows), &[]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{report}");
    assert_eq!(report["error_count"], 1);
    assert_eq!(report["imported"], 0);
    let e = &report["errors"][0];
    assert_eq!(e["row"], 7);
    assert_eq!(e["column"], "统一社会信用代码");
    assert_eq!(e["value"], bad.as_str());
    let message = e["message"].as_str().unwrap();
    assert!(message.contains("校验位") && message.contains("GB 32100"), "{message}");

    assert_eq!(registry_count(&srv).await, 0, "registry unchanged");
    assert_eq!(import_audit_count(&srv).await, 0);
    let (_, list) = api.get("/api/v1/enterprises").await;
    assert_eq!(list["items"], json!([]));
}

#[tokio::test]
async fn good_csv_and_xlsx_files_import_every_row_with_one_audit_record_each() {
    let srv = TestServer::start().await;
    let api = srv.api("admin").await;
    let rows: Vec<String> = (1..=20).map(|n| good_row("140213", n)).collect();
    let (status, report) = api_import(&api, "名录.csv", &csv(&rows), &[]).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(
        (report["total_rows"].as_u64(), report["inserted"].as_u64(), report["imported"].as_u64()),
        (Some(20), Some(20), Some(20))
    );
    assert_eq!(import_audit_count(&srv).await, 1);

    let xlsx = write_table(
        "名录",
        None,
        &["企业名称", "统一社会信用代码", "企业类型", "经营状态"],
        (1..=15u32).map(|n| {
            vec![
                CellValue::from(format!("大同市云冈区塞上加油站{n:02}")),
                CellValue::from(test_uscc("140214", n).to_string()),
                CellValue::from("加油站"),
                CellValue::from(if n == 1 { "停业" } else { "在营" }),
            ]
        }),
    )
    .unwrap();
    let (status, report) = api_import(&api, "云冈区加油站.xlsx", &xlsx, &[]).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["imported"], 15);
    assert_eq!(registry_count(&srv).await, 35);
    assert_eq!(import_audit_count(&srv).await, 2, "one summary record per file");

    let (_, found) = api.get("/api/v1/enterprises?kind=fuel_station&status=suspended").await;
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
    assert_eq!(found["items"][0]["division_code"], "140214");
}

#[tokio::test]
async fn duplicate_rows_dry_run_and_existing_entries_over_the_api() {
    let srv = TestServer::start().await;
    let api = srv.api("admin").await;
    let mut rows: Vec<String> = (1..=4).map(|n| good_row("140213", n)).collect();
    rows.push(good_row("140213", 1));
    let (status, report) = api_import(&api, "dup.csv", &csv(&rows), &[]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(report["errors"][0]["row"], 6);
    let m = report["errors"][0]["message"].as_str().unwrap();
    assert!(m.contains("第2行") && m.contains("第6行"), "{m}");

    rows.pop();
    let (status, report) = api_import(&api, "dry.csv", &csv(&rows), &[("dry_run", "true")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (report["dry_run"].as_bool(), report["inserted"].as_u64(), report["imported"].as_u64()),
        (Some(true), Some(4), Some(0))
    );
    assert_eq!(registry_count(&srv).await, 0, "a dry run writes nothing");

    assert_eq!(api_import(&api, "a.csv", &csv(&rows[..2]), &[]).await.0, StatusCode::OK);
    let (status, report) = api_import(&api, "b.csv", &csv(&rows), &[]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "existing entries are an error by default");
    assert_eq!(report["error_count"], 2);
    let (status, report) = api_import(&api, "b.csv", &csv(&rows), &[("on_existing", "skip")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((report["inserted"].as_u64(), report["skipped"].as_u64()), (Some(2), Some(2)));
    let (status, report) = api_import(&api, "b.csv", &csv(&rows), &[("on_existing", "update")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(report["updated"], 4);
    assert_eq!(registry_count(&srv).await, 4);

    let (status, body) = api_import(&api, "b.csv", &csv(&rows), &[("on_existing", "replace")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["code"], "invalid_on_existing");
}

#[tokio::test]
async fn create_get_and_update_an_entry_over_the_api() {
    let srv = TestServer::start().await;
    let api = srv.api("admin").await;
    let uscc = test_uscc("140213", 77).to_string();
    let (status, body) = api
        .post(
            "/api/v1/enterprises",
            json!({"name": "", "uscc": with_wrong_check_char(&uscc), "kinds": ["批发商"], "licence_valid_until": "2026-02-30"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    for f in ["name", "uscc", "kinds", "licence_valid_until"] {
        assert!(fields.contains(&f), "{f} in {fields:?}");
    }

    let (status, created) = api
        .post(
            "/api/v1/enterprises",
            json!({"name": "大同市平城区华兴家电商场", "uscc": uscc, "kinds": ["seller", "e_commerce"],
                   "product_lines": ["电冰箱", "洗衣机"], "licence_no": "XK08-001-00077", "licence_valid_until": "2027-01-31",
                   "ccc_cert_no": "2024010701234567", "size_class": "中型"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["division_code"], "140213");
    assert_eq!(created["kind_labels"], "销售者、电商");
    let id = created["id"].as_i64().unwrap();

    let (status, again) =
        api.post("/api/v1/enterprises", json!({"name": "重复", "uscc": uscc, "kinds": "销售者"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(again["errors"][0]["field"], "uscc");

    let (status, updated) = api
        .put(
            &format!("/api/v1/enterprises/{id}"),
            json!({"name": "大同市平城区华兴家电商场", "uscc": uscc, "kinds": "销售者", "status": "停业"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    let (status, got) = api.get(&format!("/api/v1/enterprises/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got["status"], "suspended");
    assert_eq!(got["kinds"], json!(["seller"]));
    assert_eq!(api.get("/api/v1/enterprises/999999").await.0, StatusCode::NOT_FOUND);
    assert_eq!(api.get("/api/v1/enterprises/abc").await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn tester_gets_403_on_the_registry_api() {
    let srv = TestServer::start().await;
    srv.fx.user("tester1", &["tester"], Some("lab")).await;
    let e = srv.fx.enterprise("大同市某某电器有限公司", "140213", "生产者", 1).await;
    let api = srv.api("tester1").await;
    for path in [
        "/api/v1/enterprises".to_string(),
        format!("/api/v1/enterprises/{}", e.id),
        "/api/v1/enterprises/export.xlsx".to_string(),
        "/api/v1/enterprises/import-template.xlsx".to_string(),
    ] {
        let (status, body) = api.get(&path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(body["code"], "forbidden");
    }
    let (status, _) = api
        .post(
            "/api/v1/enterprises",
            json!({"name": "x", "uscc": test_uscc("140213", 2).to_string(), "kinds": "销售者"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = api_import(&api, "x.csv", &csv(&[good_row("140213", 3)]), &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(registry_count(&srv).await, 1);
}

#[tokio::test]
async fn county_bureau_user_is_limited_to_its_division() {
    let srv = TestServer::start().await;
    srv.fx.user("pc-staff", &["local_regulator"], Some("dt-pc")).await;
    let mine = srv.fx.enterprise("平城区某某超市", "140213", "销售者", 1).await;
    srv.fx.enterprise("阳高县某某超市", "140221", "销售者", 2).await;
    let api = srv.api("pc-staff").await;

    let (_, list) = api.get("/api/v1/enterprises").await;
    let ids: Vec<i64> = list["items"].as_array().unwrap().iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [mine.id]);
    assert_eq!(api.get("/api/v1/enterprises?division=140221").await.0, StatusCode::FORBIDDEN);

    let (status, body) = api
        .post(
            "/api/v1/enterprises",
            json!({"name": "阳高县某某五金店", "uscc": test_uscc("140221", 3).to_string(), "kinds": "销售者"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["field"], "division_code");

    let (status, report) = api_import(&api, "x.csv", &csv(&[good_row("140213", 4), good_row("140221", 5)]), &[]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(report["errors"][0]["row"], 3);
    assert_eq!(report["errors"][0]["column"], "行政区划代码");
    assert_eq!(registry_count(&srv).await, 2);

    let (status, report) = api_import(&api, "y.csv", &csv(&[good_row("140213", 4)]), &[]).await;
    assert_eq!(status, StatusCode::OK, "{report}");
}

#[tokio::test]
async fn search_filters_and_keyset_pages_over_the_api() {
    let srv = TestServer::start().await;
    let api = srv.api("admin").await;
    let rows: Vec<String> = (1..=120).map(|n| good_row(if n <= 80 { "140213" } else { "140221" }, n)).collect();
    assert_eq!(api_import(&api, "120.csv", &csv(&rows), &[]).await.0, StatusCode::OK);

    for base in [
        "/api/v1/enterprises?limit=50",
        "/api/v1/enterprises?limit=50&division=1402",
        "/api/v1/enterprises?limit=50&q=%E5%A4%A7%E5%90%8C%E5%B8%82",
    ] {
        let mut ids = Vec::new();
        let mut path = base.to_string();
        let mut pages = 0;
        loop {
            let (status, page) = api.get(&path).await;
            assert_eq!(status, StatusCode::OK, "{path}: {page}");
            pages += 1;
            ids.extend(page["items"].as_array().unwrap().iter().map(|e| e["id"].as_i64().unwrap()));
            match page["next"].as_str() {
                Some(next) => path = format!("{base}&cursor={next}"),
                None => break,
            }
        }
        let mut unique = ids.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!((pages, ids.len(), unique.len()), (3, 120, 120), "{base}");
    }

    let (_, by_division) = api.get("/api/v1/enterprises?division=140221&limit=200").await;
    assert_eq!(by_division["items"].as_array().unwrap().len(), 40);
    let uscc = test_uscc("140221", 99).to_string();
    let (_, by_uscc) = api.get(&format!("/api/v1/enterprises?q={uscc}")).await;
    assert_eq!(by_uscc["items"][0]["uscc"], uscc.as_str());
    assert_eq!(by_uscc["items"].as_array().unwrap().len(), 1);
    let prefix = "大同市云冈商贸有限公司01"; // n % 6 == 2: 0104, 0110, 0116
    let (_, by_name) = api.get(&format!("/api/v1/enterprises?q={}", urlencode(prefix))).await;
    let names: Vec<&str> = by_name["items"].as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["大同市云冈商贸有限公司0104", "大同市云冈商贸有限公司0110", "大同市云冈商贸有限公司0116"]);
    let (_, producers) = api.get("/api/v1/enterprises?kind=producer").await;
    assert_eq!(producers["items"], json!([]));
    let (status, bad) = api.get("/api/v1/enterprises?division=14x").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad["code"], "invalid_division");
}

#[tokio::test]
async fn export_and_template_are_xlsx_files_in_the_import_layout() {
    let srv = TestServer::start().await;
    let api = srv.api("admin").await;
    let rows: Vec<String> = (1..=30).map(|n| good_row(if n % 2 == 0 { "140213" } else { "140221" }, n)).collect();
    api_import(&api, "30.csv", &csv(&rows), &[]).await;

    let (status, ct, bytes) = api_bytes(&api, "/api/v1/enterprises/export.xlsx?division=140213").await;
    assert_eq!(status, StatusCode::OK);
    assert!(ct.contains("spreadsheetml"), "{ct}");
    let table = read_table(&bytes, TableFormat::Xlsx).unwrap();
    assert_eq!(table.len(), 15);
    let uscc = table.column("统一社会信用代码").unwrap();
    let division = table.column("行政区划代码").unwrap();
    assert!(table.rows().iter().all(|r| r[division] == "140213" && r[uscc].len() == 18));
    assert_eq!(table.rows()[0][uscc], test_uscc("140213", 2).to_string());

    let (status, _, template) = api_bytes(&api, "/api/v1/enterprises/import-template.xlsx").await;
    assert_eq!(status, StatusCode::OK);
    let t = read_table(&template, TableFormat::Xlsx).unwrap();
    assert_eq!(t.headers(), table.headers());
    assert_eq!(t.len(), 1);
}

#[tokio::test]
async fn openapi_documents_the_registry_routes() {
    let srv = TestServer::start().await;
    let doc: Value = reqwest::get(srv.url("/api/openapi.json")).await.unwrap().json().await.unwrap();
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/api/v1/enterprises",
        "/api/v1/enterprises/{id}",
        "/api/v1/enterprises/import",
        "/api/v1/enterprises/export.xlsx",
        "/api/v1/enterprises/import-template.xlsx",
    ] {
        assert!(paths.contains_key(p), "{p} missing");
    }
    assert!(paths["/api/v1/enterprises"].get("post").is_some());
    assert!(paths["/api/v1/enterprises/{id}"].get("put").is_some());
    assert!(doc["components"]["schemas"].get("ImportReport").is_some());
}
