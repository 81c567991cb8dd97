//! The `/registry` pages: list, form, and the upload with its progress.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use choucha_documents::{TableFormat, read_table};
use choucha_service::fixtures::test_uscc;
use common::registry::{
    BOUNDARY, api_import, csv, good_row, multipart, multipart_type, registry_count, urlencode, with_wrong_check_char,
};
use common::{Browser, TestServer};
use reqwest::StatusCode;

async fn upload(b: &Browser, file_name: &str, bytes: &[u8], fields: &[(&str, &str)]) -> reqwest::Response {
    let csrf = b.csrf_of("/registry/import").await;
    b.client
        .post(format!("{}/registry/import", b.base))
        .header("x-csrf-token", csrf.to_string())
        .header("content-type", multipart_type())
        .body(multipart(file_name, bytes, fields))
        .send()
        .await
        .unwrap()
}

/// Follow an upload to its job page and poll the status fragment (as htmx does) until it is done.
async fn finished_job_html(b: &Browser, r: reqwest::Response) -> String {
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());
    let job_page = r.headers()["location"].to_str().unwrap().to_string();
    poll_job(b, &job_page).await
}

async fn poll_job(b: &Browser, job_page: &str) -> String {
    assert!(job_page.starts_with("/registry/import/"), "{job_page}");
    let (status, first) = b.get(job_page).await;
    assert_eq!(status, StatusCode::OK);
    assert!(first.contains("data-testid=\"import-job\""));
    for _ in 0..200 {
        let (status, html) = b.get(&format!("{job_page}/status")).await;
        assert_eq!(status, StatusCode::OK);
        if !html.contains("data-state=\"running\"") {
            assert!(!html.contains("hx-trigger"), "polling stops when done");
            return html;
        }
        assert!(html.contains("hx-trigger=\"every 1s\""));
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("import did not finish");
}

#[tokio::test]
async fn upload_page_shows_the_bad_rows_or_the_summary() {
    let srv = TestServer::start().await;
    let b = srv.browser("admin").await;
    let (status, page) = b.get("/registry/import").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("enctype=\"multipart/form-data\"") && page.contains("统一社会信用代码"));

    let mut rows: Vec<String> = (1..=6).map(|n| good_row("140213", n)).collect();
    let good = test_uscc("140213", 3).to_string();
    rows[2] = rows[2].replace(&good, &with_wrong_check_char(&good)); // sheet row 4
    let html = finished_job_html(&b, upload(&b, "名录.csv", &csv(&rows), &[]).await).await;
    assert!(html.contains("data-state=\"refused\""), "{html}");
    assert!(html.contains("data-testid=\"import-errors\""));
    assert!(html.contains("data-row=\"4\""));
    assert!(html.contains("GB 32100"));
    assert!(html.contains("名录库未作任何修改"));
    assert_eq!(registry_count(&srv).await, 0);

    rows[2] = good_row("140213", 3);
    let html = finished_job_html(&b, upload(&b, "名录.csv", &csv(&rows), &[("dry_run", "true")]).await).await;
    assert!(html.contains("data-state=\"validated\""), "{html}");
    assert_eq!(registry_count(&srv).await, 0);

    let html = finished_job_html(&b, upload(&b, "名录.csv", &csv(&rows), &[("on_existing", "error")]).await).await;
    assert!(html.contains("data-state=\"imported\""), "{html}");
    assert!(html.contains("新增 6 家"));
    assert_eq!(registry_count(&srv).await, 6);

    // No file: the upload page again, with the reason.
    let csrf = b.csrf_of("/registry/import").await;
    let body =
        format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"dry_run\"\r\n\r\ntrue\r\n--{BOUNDARY}--\r\n");
    let r = b
        .client
        .post(format!("{}/registry/import", b.base))
        .header("x-csrf-token", csrf.to_string())
        .header("content-type", multipart_type())
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("请选择要导入的文件"));

    // Another user cannot look at this user's import.
    srv.fx.user("city-staff", &["regulator"], Some("dt")).await;
    let other = srv.browser("city-staff").await;
    let r = upload(&b, "名录.csv", &csv(&rows), &[("on_existing", "skip")]).await;
    let job_page = r.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(other.get(&job_page).await.0, StatusCode::NOT_FOUND);
    assert_eq!(other.get(&format!("{job_page}/status")).await.0, StatusCode::NOT_FOUND);
    let html = poll_job(&b, &job_page).await;
    assert!(html.contains("跳过 6 家"), "{html}");
}

#[tokio::test]
async fn list_page_searches_and_pages_with_next_and_first_links() {
    let srv = TestServer::start().await;
    let api = srv.api("admin").await;
    let rows: Vec<String> = (1..=60).map(|n| good_row("140213", n)).collect();
    assert_eq!(api_import(&api, "60.csv", &csv(&rows), &[]).await.0, StatusCode::OK);
    let b = srv.browser("admin").await;

    let (status, html) = b.get("/registry").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("data-testid=\"enterprises\""));
    assert!(html.contains("共 60 家"));
    assert_eq!(html.matches("<tr data-id=").count(), 50);
    assert!(!html.contains("data-testid=\"first-page\""));
    let next = attr_after(&html, "data-testid=\"next-page\"").expect("next link");
    let (_, page2) = b.get(&next.replace("&amp;", "&")).await;
    assert_eq!(page2.matches("<tr data-id=").count(), 10);
    assert!(page2.contains("返回第一页"));
    assert!(!page2.contains("data-testid=\"next-page\""));

    let (_, found) = b.get(&format!("/registry?q={}&kind=seller&division=140213", urlencode("大同市恒泰"))).await;
    assert!(found.contains("共 10 家"), "{found}");
    assert!(found.contains("大同市恒泰商贸有限公司0004"));
    // The division is shown by its name, never as the bare code.
    assert!(found.contains(">大同市平城区</td>"), "{found}");
    assert!(!found.contains(">140213</td>"), "{found}");
    let (_, none) = b.get("/registry?kind=producer").await;
    assert!(none.contains("没有符合条件的企业"));
    let (_, bad) = b.get("/registry?division=abc").await;
    assert!(bad.contains("data-testid=\"search-error\""));

    let r = b.client.get(format!("{}/registry/export.xlsx?division=140213", b.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-disposition"].to_str().unwrap().contains("filename*=UTF-8''"));
    assert_eq!(read_table(&r.bytes().await.unwrap(), TableFormat::Xlsx).unwrap().len(), 60);
}

/// The href of the link carrying `marker`.
fn attr_after(html: &str, marker: &str) -> Option<String> {
    let at = html.find(marker)?;
    let start = html[..at].rfind("href=\"")? + 6;
    Some(html[start..].split('"').next()?.to_string())
}

#[tokio::test]
async fn form_keeps_typed_values_and_shows_each_fields_error_then_saves() {
    let srv = TestServer::start().await;
    let b = srv.browser("admin").await;
    let csrf = b.csrf_of("/registry/new").await;
    let uscc = test_uscc("140213", 42).to_string();
    let bad = with_wrong_check_char(&uscc);
    let r = b
        .post_form(
            "/registry/new",
            &[
                ("csrf", &csrf),
                ("name", "大同市平城区御河五金商店"),
                ("uscc", &bad),
                ("address", "御河西路8号"),
                ("kind_seller", "on"),
                ("status", "operating"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("data-field=\"uscc\""), "{html}");
    assert!(html.contains("GB 32100"));
    assert!(html.contains("value=\"大同市平城区御河五金商店\""), "typed name kept");
    assert!(html.contains(&format!("value=\"{bad}\"")), "typed USCC kept");
    assert!(html.contains("name=\"kind_seller\" checked"), "checked kind kept");

    let r = b
        .post_form(
            "/registry/new",
            &[("csrf", &csrf), ("name", "大同市平城区御河五金商店"), ("uscc", &uscc), ("kind_seller", "on")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let (status, detail) = b.get(&location).await;
    assert_eq!(status, StatusCode::OK);
    assert!(detail.contains("已新增企业"));
    assert!(detail.contains(&uscc) && detail.contains("大同市平城区（140213）"), "{detail}");

    let (_, edit) = b.get(&format!("{location}/edit")).await;
    assert!(edit.contains("name=\"kind_seller\" checked"));
    let r = b
        .post_form(
            &format!("{location}/edit"),
            &[("csrf", &csrf), ("name", "大同市平城区御河五金商店"), ("uscc", &uscc), ("status", "suspended")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "no kind chosen");
    assert!(r.text().await.unwrap().contains("data-field=\"kinds\""));
    let r = b
        .post_form(
            &format!("{location}/edit"),
            &[
                ("csrf", &csrf),
                ("name", "大同市平城区御河五金商店"),
                ("uscc", &uscc),
                ("kind_producer", "on"),
                ("status", "suspended"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, detail) = b.get(&location).await;
    assert!(detail.contains("停业") && detail.contains("生产者"));
}

#[tokio::test]
async fn only_editors_see_edit_and_import_buttons() {
    let srv = TestServer::start().await;
    srv.fx.user("sampler1", &["sampler"], Some("lab")).await;
    srv.fx.user("pc-staff", &["local_regulator"], Some("dt-pc")).await;
    srv.fx.user("tester1", &["tester"], Some("lab")).await;
    let e = srv.fx.enterprise("平城区某某超市", "140213", "销售者", 1).await;

    let sampler = srv.browser("sampler1").await;
    let (status, html) = sampler.get("/registry").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("平城区某某超市"));
    assert!(!html.contains("data-testid=\"new-enterprise\"") && !html.contains("data-testid=\"import-link\""));
    let (_, detail) = sampler.get(&format!("/registry/{}", e.id)).await;
    assert!(!detail.contains("data-testid=\"edit-link\""));
    assert_eq!(sampler.get("/registry/import").await.0, StatusCode::FORBIDDEN);
    assert_eq!(sampler.get("/registry/new").await.0, StatusCode::FORBIDDEN);

    let county = srv.browser("pc-staff").await;
    let (_, html) = county.get("/registry").await;
    assert!(html.contains("data-testid=\"new-enterprise\"") && html.contains("data-testid=\"import-link\""));

    let tester = srv.browser("tester1").await;
    assert_eq!(tester.get("/registry").await.0, StatusCode::FORBIDDEN);
    assert_eq!(tester.get(&format!("/registry/{}", e.id)).await.0, StatusCode::FORBIDDEN);
}
