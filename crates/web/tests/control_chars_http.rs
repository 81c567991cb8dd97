//! Control characters in text input (issue 13, part 2): NUL and the other control characters but tab
//! and line breaks, and the bidirectional overrides, are refused once at the edge with the same 422
//! `control_character` on SQLite and PostgreSQL (PostgreSQL used to answer 500 to a NUL), in JSON
//! bodies, query strings, paths, page forms and multipart fields, before anything is written.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use choucha_service::fixtures::test_uscc;
use common::TestServer;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn assert_refused(status: StatusCode, body: &Value, field: Option<&str>) {
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["code"], "control_character", "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("控制字符") && message.contains("U+"), "{message}");
    if let Some(field) = field {
        assert_eq!(body["errors"][0]["field"], field, "{body}");
        // The key is a code: it stays in `field`, and the message a person reads never names it.
        assert!(!message.contains(&format!("“{field}”")), "{message}");
    }
}

async fn enterprise_count(srv: &TestServer) -> usize {
    let api = srv.api("admin").await;
    let (status, list) = api.get("/api/v1/enterprises?limit=100").await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list["items"].as_array().unwrap().len()
}

#[tokio::test]
async fn refuses_a_nul_in_an_enterprise_name_or_address_and_writes_nothing() {
    let srv = TestServer::start().await;
    let api = srv.api("admin").await;
    let before = enterprise_count(&srv).await;
    let uscc = test_uscc("140213", 7);
    for (field, body) in [
        ("name", json!({"name": "大同市平城区恒信\u{0}羊绒制品有限公司", "uscc": uscc, "kinds": ["producer"]})),
        (
            "address",
            json!({"name": "大同市平城区恒信羊绒制品有限公司", "uscc": uscc, "kinds": ["producer"], "address": "平城区\u{0}某街1号"}),
        ),
        ("name", json!({"name": "恒信\u{1b}[31m羊绒", "uscc": uscc, "kinds": ["producer"]})),
        ("name", json!({"name": "恒信\u{202e}绒羊", "uscc": uscc, "kinds": ["producer"]})),
    ] {
        let (status, refused) = api.post("/api/v1/enterprises", body).await;
        assert_refused(status, &refused, Some(field));
    }
    assert_eq!(enterprise_count(&srv).await, before, "nothing written");

    // The same entry without the control character is created; tabs and line breaks are no reason to refuse.
    let (status, created) = api
        .post(
            "/api/v1/enterprises",
            json!({"name": "大同市平城区恒信羊绒制品有限公司", "uscc": uscc, "kinds": ["producer"], "address": "平城区某街1号"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
}

#[tokio::test]
async fn refuses_a_nul_in_the_search_query_and_in_a_path() {
    let srv = TestServer::start().await;
    let api = srv.api("admin").await;
    let (status, body) = api.get("/api/v1/enterprises?q=%E6%81%92%E4%BF%A1%00").await;
    assert_refused(status, &body, Some("q"));
    let (status, body) = api.get("/api/v1/enterprises?q=%E6%81%92%E4%BF%A1").await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let reg = srv.api("admin").await;
    let (status, body) = reg.put("/api/v1/case-rule-selections/140213%00", json!({"rule_set": "x"})).await;
    assert_refused(status, &body, None);
}

#[tokio::test]
async fn refuses_a_nul_in_a_plans_organisation_code() {
    let srv = TestServer::start().await;
    srv.fx.user("dt_reg", &["regulator"], Some("dt")).await;
    let reg = srv.api("dt_reg").await;
    let plan = json!({
        "plan": {"year": 2025, "title": "2025年车用柴油质量监督抽查", "organising_org_code": "dt\u{0}", "deadline_delivery": "2025-11-15"},
        "items": [{"number": "1", "category": "机械及安防", "product": "车用柴油", "quota": 10, "scopes": "销售者",
                   "sampling_org_code": "lab", "testing_org_code": "lab"}]
    });
    let (status, body) = reg.post("/api/v1/plans", plan).await;
    assert_refused(status, &body, Some("plan.organising_org_code"));
    let (_, plans) = reg.get("/api/v1/plans").await;
    assert_eq!(plans["items"], json!([]), "no plan written");
}

#[tokio::test]
async fn an_anonymous_token_request_with_a_nul_username_is_refused_not_a_server_error() {
    let srv = TestServer::start().await;
    let client = reqwest::Client::new();
    for username in ["admin\u{0}", "\u{0}", "ad\u{7f}min"] {
        let r = client
            .post(srv.url("/api/v1/auth/token"))
            .json(&json!({"username": username, "password": "whatever"}))
            .send()
            .await
            .unwrap();
        let status = r.status();
        let body: Value = r.json().await.unwrap();
        assert_refused(status, &body, Some("username"));
    }
    // The server is still there, and an honest sign-in still works.
    srv.token("admin").await;
}

#[tokio::test]
async fn page_forms_and_uploads_refuse_control_characters_with_a_chinese_page() {
    let srv = TestServer::start().await;
    let anonymous = reqwest::Client::new();
    let r = anonymous
        .post(srv.url("/login"))
        .form(&[("username", "admin\u{0}"), ("password", "x"), ("next", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("控制字符") && html.contains("U+0000"), "{html}");

    // A multipart upload whose text field or file name holds a control character, over the API. (A raw
    // control character in a part's header makes the part unreadable, which the route refuses too.)
    let api = srv.api("admin").await;
    for (file_name, mode) in [("名录.csv", "ins\u{0}ert"), ("名录\u{1}.csv", "insert")] {
        let form = reqwest::multipart::Form::new()
            .text("mode", mode.to_owned())
            .part("file", reqwest::multipart::Part::bytes(b"a,b\n1,2\n".to_vec()).file_name(file_name.to_owned()));
        let (status, body) = api.post_multipart("/api/v1/enterprises/import", form).await;
        if file_name.contains('\u{1}') {
            assert!(status.is_client_error(), "{status} {body}");
            assert!(["control_character", "invalid_upload"].contains(&body["code"].as_str().unwrap()), "{body}");
        } else {
            assert_refused(status, &body, Some("mode"));
        }
    }
    let (_, list) = api.get("/api/v1/enterprises").await;
    assert_eq!(list["items"], json!([]), "nothing imported");
}

#[tokio::test]
async fn an_imported_table_with_a_control_character_in_a_cell_is_refused_naming_the_cell() {
    let srv = TestServer::start().await;
    let api = srv.api("admin").await;
    let csv = format!(
        "企业名称,统一社会信用代码,行政区划代码,地址,企业类型,企业规模,生产/经营产品,生产许可证编号,许可证有效期至,CCC证书编号,经营状态\n\
         大同市平城区恒信\u{0}羊绒制品有限公司,{},140213,平城区某街1号,生产者,小型,羊绒针织衫,,,,在营\n",
        test_uscc("140213", 9)
    );
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("名录.csv".to_owned()));
    let r = api
        .client
        .post(srv.url("/api/v1/enterprises/import"))
        .bearer_auth(&api.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_refused(status, &body, Some("file"));
    assert!(body["message"].as_str().unwrap().contains("第 2 行第 1 列"), "{body}");
    let (_, list) = api.get("/api/v1/enterprises").await;
    assert_eq!(list["items"], json!([]), "nothing imported");
}
