//! What the administration tests share: users to create, tokens to ask for, the improvement letter.

use std::process::Command;

use choucha_service::fixtures::Fixture;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::TestServer;

pub fn new_user(username: &str, roles: &[&str], org: &str) -> Value {
    json!({
        "username": username,
        "display_name": "王检验",
        "password": "good-pass-2025",
        "roles": roles,
        "org_code": org,
        "phone": "13800000000",
    })
}

/// A user made as a deployment makes one (三权分立): `admin` creates the account, `security`
/// grants its roles. The answer is the first refusal, or 201 with the user as granted.
pub async fn create_user(srv: &TestServer, body: Value) -> (StatusCode, Value) {
    let mut account = body;
    let roles = account["roles"].take();
    account["roles"] = json!([]);
    let (status, u) = srv.api("admin").await.post("/api/v1/users", account).await;
    if status != StatusCode::CREATED || roles.as_array().is_none_or(|r| r.is_empty()) {
        return (status, u);
    }
    let path = format!("/api/v1/users/{}/roles", u["id"]);
    match srv.api("security").await.put(&path, json!({ "roles": roles })).await {
        (StatusCode::OK, granted) => (StatusCode::CREATED, granted),
        other => other,
    }
}

pub async fn token_status(srv: &TestServer, username: &str, password: &str) -> (StatusCode, Value) {
    let r = reqwest::Client::new()
        .post(srv.url("/api/v1/auth/token"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// A user of the registry's enterprise, for the enterprise-only refusals.
pub async fn enterprise_user(srv: &TestServer) {
    let ent = srv.fx.enterprise("大同市某某电器有限公司", "140213", "生产者", 5).await;
    Fixture::make_user(&srv.fx.services, "ent-user", "企业联系人", &["enterprise"], None, Some(&ent.uscc)).await;
}

pub fn first_field(body: &Value) -> &str {
    body["errors"][0]["field"].as_str().unwrap_or_default()
}

pub fn letter() -> Value {
    json!({
        "report_no": "SXJC-2025-CJ-00731",
        "product_name": "电冰箱",
        "model": "BCD-520WKPZM(E)",
        "inspected_unit": "大同市平城区某某家电商场",
        "producer": "某某电器股份有限公司",
        "institution": "山西省检验检测中心",
        "failing_items": ["能效等级", "噪声"],
        "problem_description": "实测耗电量超出标注能效等级限定值。",
        "cause_analysis": "压缩机选型与箱体保温层厚度不匹配。",
        "suggestions": "优化压缩机与制冷系统匹配设计。",
        "remarks": "请于30日内报送整改情况。",
        "date": "2025-10-20"
    })
}

/// The PDF's text with all whitespace removed (pdftotext splits CJK runs with spaces and lines).
pub fn pdf_text(pdf: &[u8]) -> String {
    let path = std::env::temp_dir().join(format!("choucha-web-letter-{}.pdf", uuid_like()));
    std::fs::write(&path, pdf).unwrap();
    let out = Command::new("pdftotext").args(["-raw", "-enc", "UTF-8"]).arg(&path).arg("-").output();
    let _ = std::fs::remove_file(&path);
    let out = out.expect("pdftotext (poppler-utils) is installed");
    assert!(out.status.success(), "pdftotext failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().chars().filter(|c| !c.is_whitespace()).collect()
}

pub fn uuid_like() -> String {
    format!("{}-{:?}", std::process::id(), std::thread::current().id()).replace(['(', ')'], "")
}
