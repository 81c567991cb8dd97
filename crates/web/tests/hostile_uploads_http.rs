//! Issue 13: no uploaded spreadsheet or CSV can take the server down. Hostile files, posted to
//! every route that reads a table (API and pages), answer 4xx with a Chinese message, write
//! nothing, and the server keeps answering `/healthz`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Write;

use choucha_store::audit::{self as store_audit, AuditFilter};
use choucha_store::enterprises::{self as store_ent, EnterpriseFilter};
use common::{Browser, TestServer};
use reqwest::StatusCode;
use serde_json::Value;
use zip::write::SimpleFileOptions;

const MAIN_NS: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";

fn deflated() -> SimpleFileOptions {
    SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated)
}

/// A minimal XLSX: one worksheet with the given XML, and a shared strings table if given.
fn workbook(sheet_xml: &[u8], shared_strings: Option<&[u8]>) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let mut part = |name: &str, bytes: &[u8]| {
        zip.start_file(name, deflated()).unwrap();
        zip.write_all(bytes).unwrap();
    };
    part(
        "_rels/.rels",
        br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
    );
    part(
        "xl/workbook.xml",
        format!(r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN_NS}" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#).as_bytes(),
    );
    part(
        "xl/_rels/workbook.xml.rels",
        br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#,
    );
    part("xl/worksheets/sheet1.xml", sheet_xml);
    if let Some(strings) = shared_strings {
        part("xl/sharedStrings.xml", strings);
    }
    zip.finish().unwrap().into_inner()
}

fn sheet(dimension: &str, rows: &str) -> Vec<u8> {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN_NS}"><dimension ref="{dimension}"/><sheetData>{rows}</sheetData></worksheet>"#
    )
    .into_bytes()
}

fn inline(reference: &str, text: &str) -> String {
    format!(r#"<c r="{reference}" t="inlineStr"><is><t>{text}</t></is></c>"#)
}

/// The hostile files, each with what its refusal must say (`None`: any Chinese message).
fn hostile_files() -> Vec<(&'static str, &'static str, Vec<u8>, Option<&'static str>)> {
    // The issue's 1.5 KB file: A1 and XFD1048576 only.
    let sparse =
        format!(r#"<row r="1">{}</row><row r="1048576">{}</row>"#, inline("A1", "a"), inline("XFD1048576", "b"));
    let declared = format!(r#"<row r="1">{}{}</row>"#, inline("A1", "甲"), inline("B1", "乙"));
    let long = "x".repeat(30_000);
    let strings = format!(r#"<sst xmlns="{MAIN_NS}"><si><t>{long}</t></si></sst>"#);
    let repeated: String = (1..=600)
        .map(|row| {
            let cells: String =
                (b'A'..=b'J').map(|c| format!(r#"<c r="{}{row}" t="s"><v>0</v></c>"#, char::from(c))).collect();
            format!(r#"<row r="{row}">{cells}</row>"#)
        })
        .collect();
    let mut bomb = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    bomb.start_file("xl/worksheets/sheet1.xml", deflated()).unwrap();
    let chunk = "<row/>".repeat(10_000);
    for _ in 0..(300 * 1024 * 1024 / chunk.len()) {
        bomb.write_all(chunk.as_bytes()).unwrap();
    }
    let bomb = bomb.finish().unwrap().into_inner();
    let depth = 200_000;
    let nested = format!(
        r#"<row r="1"><c r="A1" t="inlineStr"><is>{}{}</is></c></row>"#,
        "<r><t>x</t>".repeat(depth),
        "</r>".repeat(depth)
    );
    let wide_csv = (0..300).map(|i| format!("列{i}")).collect::<Vec<_>>().join(",") + "\n";
    vec![
        (
            "sparse.xlsx",
            "sparse A1 + XFD1048576",
            workbook(&sheet("A1:XFD1048576", &sparse), None),
            Some("表格列数超过上限：文件有 16384 列，上限为 200 列"),
        ),
        (
            "declared.xlsx",
            "declared dimension far beyond the data",
            workbook(&sheet("A1:XFD1048576", &declared), None),
            None,
        ),
        (
            "strings.xlsx",
            "shared-strings bomb",
            workbook(&sheet("A1:J600", &repeated), Some(strings.as_bytes())),
            Some("表格文字总量超过上限"),
        ),
        ("bomb.xlsx", "zip bomb", bomb, Some("Excel 文件解压后的大小超过上限")),
        ("nested.xlsx", "deeply nested XML", workbook(&sheet("A1", &nested), None), None),
        (
            "wide.csv",
            "CSV of 300 columns",
            wide_csv.into_bytes(),
            Some("表格列数超过上限：文件有 201 列，上限为 200 列"),
        ),
    ]
}

fn has_chinese(text: &str) -> bool {
    text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

async fn audit_records(srv: &TestServer) -> usize {
    store_audit::list(srv.fx.services.store().reader(), &AuditFilter::default(), None, 10_000)
        .await
        .unwrap()
        .items
        .len()
}

async fn assert_alive(srv: &TestServer, what: &str) {
    let r = reqwest::get(srv.url("/healthz")).await.unwrap_or_else(|e| panic!("server down after {what}: {e}"));
    assert_eq!(r.status(), StatusCode::OK, "healthz after {what}");
}

fn multipart(file_name: &str, bytes: &[u8], fields: &[(&'static str, &'static str)]) -> reqwest::multipart::Form {
    let mut form = reqwest::multipart::Form::new();
    for (k, v) in fields {
        form = form.text(*k, *v);
    }
    form.part("file", reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(file_name.to_owned()))
}

/// Checks a JSON refusal: 4xx with a Chinese message, naming the bound when one is expected.
async fn assert_json_refusal(r: reqwest::Response, what: &str, expected: Option<&str>) {
    let status = r.status();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    assert!(status.is_client_error(), "{what}: {status} {body}");
    let text = body.to_string();
    assert!(has_chinese(&text), "{what}: {body}");
    if let Some(expected) = expected {
        assert!(text.contains(expected), "{what}: {body}");
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{what}");
        assert!(text.contains("file_too_large"), "{what}: {body}");
    }
}

#[tokio::test]
async fn hostile_tables_are_refused_by_every_api_route_and_the_server_keeps_answering() {
    let srv = TestServer::start().await;
    srv.fx.user("dt_reg", &["regulator"], Some("dt")).await;
    srv.fx.user("pc_reg", &["local_regulator"], Some("dt-pc")).await;
    srv.fx.user("lab_tester", &["tester"], Some("lab")).await;
    let regulator = srv.api("dt_reg").await;
    let local = srv.api("pc_reg").await;
    let tester = srv.api("lab_tester").await;
    let audits = audit_records(&srv).await;

    for (file_name, what, bytes, expected) in hostile_files() {
        for api in [&regulator, &local] {
            let r = api
                .client
                .post(srv.url("/api/v1/enterprises/import"))
                .bearer_auth(&api.token)
                .multipart(multipart(file_name, &bytes, &[]))
                .send()
                .await
                .unwrap();
            assert_json_refusal(r, &format!("registry import of {what}"), expected).await;
            assert_alive(&srv, what).await;
        }
        let r = tester
            .client
            .post(srv.url(&format!("/api/v1/lab/results/import?file_name={file_name}")))
            .bearer_auth(&tester.token)
            .body(bytes.clone())
            .send()
            .await
            .unwrap();
        assert_json_refusal(r, &format!("results import of {what}"), expected).await;
        assert_alive(&srv, what).await;
        let r = regulator
            .client
            .post(srv.url("/api/v1/plans/import"))
            .bearer_auth(&regulator.token)
            .multipart(multipart(file_name, &bytes, &[("year", "2025"), ("organising_org_code", "dt")]))
            .send()
            .await
            .unwrap();
        assert_json_refusal(r, &format!("plan import of {what}"), expected).await;
        assert_alive(&srv, what).await;
    }

    let registry =
        store_ent::count_up_to(srv.fx.services.store().reader(), &EnterpriseFilter::default(), 10).await.unwrap();
    assert_eq!(registry, 0, "no enterprise was written");
    let (_, plans) = regulator.get("/api/v1/plans").await;
    assert_eq!(plans["items"].as_array().map_or(0, Vec::len), 0, "no plan was written: {plans}");
    assert_eq!(audit_records(&srv).await, audits, "nothing was written at all");
}

#[tokio::test]
async fn plan_import_reads_no_file_for_those_who_may_not_create_plans() {
    let srv = TestServer::start().await;
    srv.fx.user("lab_tester", &["tester"], Some("lab")).await;
    let tester = srv.api("lab_tester").await;
    let (file_name, _, bytes, _) = hostile_files().swap_remove(0);
    let r = tester
        .client
        .post(srv.url("/api/v1/plans/import"))
        .bearer_auth(&tester.token)
        .multipart(multipart(file_name, &bytes, &[("year", "2025")]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "forbidden");
}

#[tokio::test]
async fn an_upload_over_the_body_limit_answers_413_json_in_chinese() {
    let srv = TestServer::start().await;
    srv.fx.user("lab_tester", &["tester"], Some("lab")).await;
    let tester = srv.api("lab_tester").await;
    let r = tester
        .client
        .post(srv.url("/api/v1/lab/results/import?file_name=big.csv"))
        .bearer_auth(&tester.token)
        .body(vec![b'a'; 3 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "payload_too_large");
    assert!(has_chinese(body["message"].as_str().unwrap()), "{body}");
    assert_alive(&srv, "an over-size upload").await;
}

async fn poll_registry_job(b: &Browser, job_page: &str) -> String {
    for _ in 0..400 {
        let (status, html) = b.get(&format!("{job_page}/status")).await;
        assert_eq!(status, StatusCode::OK);
        if !html.contains("data-state=\"running\"") {
            return html;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("import did not finish");
}

#[tokio::test]
async fn hostile_tables_are_refused_by_the_upload_pages_with_the_reason_shown() {
    let srv = TestServer::start().await;
    srv.fx.user("dt_reg", &["regulator"], Some("dt")).await;
    let b = srv.browser("dt_reg").await;
    let audits = audit_records(&srv).await;

    for (file_name, what, bytes, expected) in hostile_files() {
        // The registry page starts a background job; its status fragment tells the outcome.
        let csrf = b.csrf_of("/registry/import").await;
        let r = b
            .client
            .post(srv.url("/registry/import"))
            .header("x-csrf-token", csrf.to_string())
            .multipart(multipart(file_name, &bytes, &[]))
            .send()
            .await
            .unwrap();
        let html = if r.status() == StatusCode::SEE_OTHER {
            let job_page = r.headers()["location"].to_str().unwrap().to_string();
            poll_registry_job(&b, &job_page).await
        } else {
            assert!(r.status().is_client_error(), "registry page, {what}: {}", r.status());
            r.text().await.unwrap()
        };
        assert!(
            html.contains("data-state=\"failed\"") || html.contains("data-state=\"refused\""),
            "registry page, {what}: {html}"
        );
        if let Some(expected) = expected {
            assert!(html.contains(expected), "registry page, {what}: {html}");
        }
        assert_alive(&srv, what).await;

        let csrf = b.csrf_of("/plans/import").await;
        let r = b
            .client
            .post(srv.url("/plans/import"))
            .header("x-csrf-token", csrf.to_string())
            .multipart(multipart(file_name, &bytes, &[("year", "2025"), ("organising_org_code", "dt")]))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "plans page, {what}");
        let html = r.text().await.unwrap();
        if let Some(expected) = expected {
            assert!(html.contains(expected), "plans page, {what}: {html}");
        }
        assert_alive(&srv, what).await;
    }
    let registry =
        store_ent::count_up_to(srv.fx.services.store().reader(), &EnterpriseFilter::default(), 10).await.unwrap();
    assert_eq!(registry, 0);
    assert_eq!(audit_records(&srv).await, audits, "nothing was written");
}
