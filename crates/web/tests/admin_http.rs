//! Administration over HTTP: users, organisations, the audit log, the working-day calendar and the
//! improvement letter, through the API (bearer tokens) and the pages (cookie sessions with CSRF).
//! Each route is shown refusing the wrong caller or input and allowing the right one.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::Command;

use choucha_service::fixtures::Fixture;
use common::TestServer;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn new_user(username: &str, roles: &[&str], org: &str) -> Value {
    json!({
        "username": username,
        "display_name": "王检验",
        "password": "good-pass-2025",
        "roles": roles,
        "org_code": org,
        "phone": "13800000000",
    })
}

async fn token_status(srv: &TestServer, username: &str, password: &str) -> (StatusCode, Value) {
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
async fn enterprise_user(srv: &TestServer) {
    let ent = srv.fx.enterprise("大同市某某电器有限公司", "140213", "生产者", 5).await;
    Fixture::make_user(&srv.fx.services, "ent-user", "企业联系人", &["enterprise"], None, Some(&ent.uscc)).await;
}

fn first_field(body: &Value) -> &str {
    body["errors"][0]["field"].as_str().unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Users and organisations over the API.

#[tokio::test]
async fn non_admins_get_403_on_user_and_organisation_administration() {
    let srv = TestServer::start().await;
    srv.fx.user("tester1", &["tester"], Some("lab")).await;
    let tester = srv.api("tester1").await;
    assert_eq!(tester.get("/api/v1/users").await.0, StatusCode::FORBIDDEN);
    let (status, body) = tester.post("/api/v1/users", new_user("x-user", &["tester"], "lab")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["code"], "forbidden");
    assert_eq!(tester.get(&format!("/api/v1/users/{}", srv.fx.admin.user_id)).await.0, StatusCode::FORBIDDEN);
    let org = json!({"code": "dt-tz", "name": "天镇县市场监督管理局", "kind": "local_bureau", "parent_code": "dt", "division_code": "140222"});
    assert_eq!(tester.post("/api/v1/organisations", org.clone()).await.0, StatusCode::FORBIDDEN);
    assert_eq!(
        tester.put(&format!("/api/v1/organisations/{}", srv.fx.county.id), org.clone()).await.0,
        StatusCode::FORBIDDEN
    );
    // Staff read organisations (forms need them); enterprises do not.
    assert_eq!(tester.get("/api/v1/organisations").await.0, StatusCode::OK);
    enterprise_user(&srv).await;
    let ent = srv.api("ent-user").await;
    assert_eq!(ent.get("/api/v1/organisations").await.0, StatusCode::FORBIDDEN);

    let admin = srv.api("admin").await;
    let (status, created) = admin.post("/api/v1/organisations", org).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["parent_id"], srv.fx.city.id);
    let (status, page) = admin.get("/api/v1/users").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page["items"].as_array().unwrap().iter().any(|u| u["username"] == "tester1"));
}

#[tokio::test]
async fn admin_creates_a_user_with_two_roles_who_signs_in_and_holds_both() {
    let srv = TestServer::start().await;
    let admin = srv.api("admin").await;
    let (status, u) = admin.post("/api/v1/users", new_user("wang.jc", &["tester", "sample_custodian"], "lab")).await;
    assert_eq!(status, StatusCode::CREATED, "{u}");
    assert_eq!(u["roles"], json!(["sample_custodian", "tester"]));
    assert_eq!(u["org_code"], "lab");

    let (status, t) = token_status(&srv, "wang.jc", "good-pass-2025").await;
    assert_eq!(status, StatusCode::OK);
    let me: Value = reqwest::Client::new()
        .get(srv.url("/api/v1/me"))
        .bearer_auth(t["token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let roles = me["roles"].as_array().unwrap();
    assert!(roles.contains(&json!("tester")) && roles.contains(&json!("sample_custodian")), "{me}");

    // Found by role and by organisation, and by id.
    let (_, by_role) = admin.get("/api/v1/users?role=sample_custodian").await;
    assert_eq!(by_role["items"].as_array().unwrap().len(), 1);
    let (_, by_org) = admin.get("/api/v1/users?org_code=lab&q=wang").await;
    assert_eq!(by_org["items"][0]["username"], "wang.jc");
    let (status, one) = admin.get(&format!("/api/v1/users/{}", u["id"])).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one["phone"], "13800000000");
}

#[tokio::test]
async fn user_list_pages_by_keyset() {
    let srv = TestServer::start().await;
    for n in 0..5 {
        srv.fx.user(&format!("sampler{n}"), &["sampler"], Some("lab")).await;
    }
    let admin = srv.api("admin").await;
    let (_, p1) = admin.get("/api/v1/users?role=sampler&limit=2").await;
    assert_eq!(p1["items"].as_array().unwrap().len(), 2);
    let next = p1["next"].as_str().unwrap();
    let (_, p2) = admin.get(&format!("/api/v1/users?role=sampler&limit=2&after={next}")).await;
    assert_eq!(p2["items"][0]["username"], "sampler2");
    let (status, body) = admin.get("/api/v1/users?org_code=nowhere").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(first_field(&body), "org_code");
}

#[tokio::test]
async fn a_role_that_does_not_fit_the_organisation_is_422_naming_roles() {
    let srv = TestServer::start().await;
    let admin = srv.api("admin").await;
    let (status, body) = admin.post("/api/v1/users", new_user("tester.county", &["tester"], "dt-pc")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["code"], "role_org_mismatch");
    assert_eq!(first_field(&body), "roles");
    assert!(body["message"].as_str().unwrap().contains("检验人员"), "{body}");
    let (status, _) = admin.post("/api/v1/users", new_user("local.county", &["local_regulator"], "dt-pc")).await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn duplicate_usernames_and_weak_passwords_are_422() {
    let srv = TestServer::start().await;
    let admin = srv.api("admin").await;
    assert_eq!(admin.post("/api/v1/users", new_user("li.si", &["sampler"], "lab")).await.0, StatusCode::CREATED);
    let (status, body) = admin.post("/api/v1/users", new_user("li.si", &["sampler"], "lab")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(first_field(&body), "username");
    assert!(body["message"].as_str().unwrap().contains("已被使用"));

    let mut weak = new_user("zhao.liu", &["sampler"], "lab");
    weak["password"] = json!("abcdefgh");
    let (status, body) = admin.post("/api/v1/users", weak).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["code"], "weak_password");
    assert_eq!(first_field(&body), "password");
}

#[tokio::test]
async fn a_deactivated_user_cannot_get_a_token() {
    let srv = TestServer::start().await;
    let admin = srv.api("admin").await;
    let (_, u) = admin.post("/api/v1/users", new_user("leaver", &["sampler"], "lab")).await;
    let (status, old) = token_status(&srv, "leaver", "good-pass-2025").await;
    assert_eq!(status, StatusCode::OK);
    let update = json!({"display_name": "离职人员", "roles": ["sampler"], "org_code": "lab", "active": false});
    let (status, after) = admin.put(&format!("/api/v1/users/{}", u["id"]), update).await;
    assert_eq!(status, StatusCode::OK, "{after}");
    assert_eq!(after["active"], false);
    let (status, body) = token_status(&srv, "leaver", "good-pass-2025").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body["message"].as_str().unwrap().contains("停用"));
    let r = reqwest::Client::new()
        .get(srv.url("/api/v1/me"))
        .bearer_auth(old["token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn password_reset_revokes_tokens_and_users_change_their_own() {
    let srv = TestServer::start().await;
    let u = srv.fx.user("forgetful", &["sampler"], Some("lab")).await;
    let user = srv.api("forgetful").await;
    let admin = srv.api("admin").await;
    let path = format!("/api/v1/users/{}/password", u.user_id);
    let (status, body) = admin.post(&path, json!({"password": "short"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(first_field(&body), "password");
    assert_eq!(user.post(&path, json!({"password": "new-pass-2025"})).await.0, StatusCode::FORBIDDEN);
    assert_eq!(admin.post(&path, json!({"password": "new-pass-2025"})).await.0, StatusCode::NO_CONTENT);
    assert_eq!(user.get("/api/v1/me").await.0, StatusCode::UNAUTHORIZED, "the old token is revoked");

    let (status, t) = token_status(&srv, "forgetful", "new-pass-2025").await;
    assert_eq!(status, StatusCode::OK);
    let client = reqwest::Client::new();
    let change = |old: &str, new: &str| {
        client
            .post(srv.url("/api/v1/me/password"))
            .bearer_auth(t["token"].as_str().unwrap())
            .json(&json!({"old_password": old, "new_password": new}))
            .send()
    };
    let r = change("wrong-pass-1", "third-pass-2025").await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(first_field(&r.json::<Value>().await.unwrap()), "old_password");
    assert_eq!(change("new-pass-2025", "third-pass-2025").await.unwrap().status(), StatusCode::NO_CONTENT);
    assert_eq!(token_status(&srv, "forgetful", "third-pass-2025").await.0, StatusCode::OK);
}

#[tokio::test]
async fn organisations_with_a_bad_division_code_or_an_orphan_local_bureau_are_422() {
    let srv = TestServer::start().await;
    let admin = srv.api("admin").await;
    let bad = json!({"code": "dt-xr", "name": "新荣区市场监督管理局", "kind": "local_bureau", "parent_code": "dt", "division_code": "14021"});
    let (status, body) = admin.post("/api/v1/organisations", bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["code"], "invalid_division");
    assert_eq!(first_field(&body), "division_code");

    let orphan =
        json!({"code": "dt-xr", "name": "新荣区市场监督管理局", "kind": "local_bureau", "division_code": "140212"});
    let (status, body) = admin.post("/api/v1/organisations", orphan).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(first_field(&body), "parent_code");
    assert!(body["message"].as_str().unwrap().contains("上级机构"), "{body}");

    let good = json!({"code": "dt-xr", "name": "新荣区市场监督管理局", "kind": "local_bureau", "parent_code": "dt", "division_code": "140212"});
    let (status, created) = admin.post("/api/v1/organisations", good.clone()).await;
    assert_eq!(status, StatusCode::CREATED);
    let mut renamed = good;
    renamed["name"] = json!("大同市新荣区市场监督管理局");
    let (status, edited) = admin.put(&format!("/api/v1/organisations/{}", created["id"]), renamed).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(edited["name"], "大同市新荣区市场监督管理局");
    let (_, children) = admin.get("/api/v1/organisations?parent_code=dt").await;
    assert_eq!(children["items"].as_array().unwrap().len(), 3, "pc, yg and xr under the city");
}

// ---------------------------------------------------------------------------------------------
// Audit.

#[tokio::test]
async fn the_audit_log_shows_user_creation_with_actor_and_after_and_the_chain_is_intact() {
    let srv = TestServer::start().await;
    let admin = srv.api("admin").await;
    let (_, u) = admin.post("/api/v1/users", new_user("audited", &["sampler"], "lab")).await;
    let (status, page) = admin.get(&format!("/api/v1/audit?action=user.&object_id={}", u["id"])).await;
    assert_eq!(status, StatusCode::OK);
    let rec = &page["items"][0];
    assert_eq!(rec["action"], "user.create");
    assert_eq!(rec["action_label"], "新建用户");
    assert_eq!(rec["actor_id"], srv.fx.admin.user_id);
    assert!(rec["actor_name"].as_str().unwrap().contains("admin"));
    assert_eq!(rec["after"]["username"], "audited");
    assert!(rec["before"].is_null());

    let (status, one) = admin.get(&format!("/api/v1/audit/{}", rec["seq"])).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one["hash"], rec["hash"]);
    let (_, verified) = admin.post("/api/v1/audit/verify", json!({})).await;
    assert_eq!(verified["intact"], true, "{verified}");
    assert!(verified["records"].as_i64().unwrap() >= rec["seq"].as_i64().unwrap());

    // Newest first with an older page; a bad date is a field error.
    let (_, p1) = admin.get("/api/v1/audit?limit=2").await;
    let seqs: Vec<i64> = p1["items"].as_array().unwrap().iter().map(|r| r["seq"].as_i64().unwrap()).collect();
    assert!(seqs[0] > seqs[1]);
    let (_, p2) = admin.get(&format!("/api/v1/audit?limit=2&before={}", p1["next"].as_str().unwrap())).await;
    assert!(p2["items"][0]["seq"].as_i64().unwrap() < seqs[1]);
    let (status, body) = admin.get("/api/v1/audit?from=yesterday").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(first_field(&body), "from");
    let today = (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive();
    let (_, today_page) = admin.get(&format!("/api/v1/audit?from={today}&until={today}&action=user.create")).await;
    assert!(!today_page["items"].as_array().unwrap().is_empty());

    srv.fx.user("tester1", &["tester"], Some("lab")).await;
    let tester = srv.api("tester1").await;
    assert_eq!(tester.get("/api/v1/audit").await.0, StatusCode::FORBIDDEN);
    assert_eq!(tester.post("/api/v1/audit/verify", json!({})).await.0, StatusCode::FORBIDDEN);
}

// ---------------------------------------------------------------------------------------------
// Calendar.

#[tokio::test]
async fn a_make_up_workday_changes_the_deadline_and_only_admins_edit_the_calendar() {
    let srv = TestServer::start().await;
    srv.fx.user("tester1", &["tester"], Some("lab")).await;
    let tester = srv.api("tester1").await;
    let admin = srv.api("admin").await;

    let (status, year) = tester.get("/api/v1/calendar/2025").await;
    assert_eq!(status, StatusCode::OK);
    let days = year["days"].as_array().unwrap();
    assert!(days.iter().any(|d| d["date"] == "2025-10-11" && d["kind"] == "workday" && d["weekday"] == "星期六"));

    let deadline = "/api/v1/calendar/deadline?start=2025-09-30&days=3&working=true";
    let (status, d) = tester.get(deadline).await;
    assert_eq!(status, StatusCode::OK, "{d}");
    assert_eq!(d["deadline"], "2025-10-11");
    assert_eq!(d["calendar_covers"], true);

    let day = json!({"date": "2025-10-08", "kind": "workday", "name": "调休上班（测试）"});
    assert_eq!(tester.put("/api/v1/calendar/days", day.clone()).await.0, StatusCode::FORBIDDEN);
    let r = tester
        .client
        .delete(srv.url("/api/v1/calendar/days/2025-10-11"))
        .bearer_auth(&tester.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    let (status, set) = admin.put("/api/v1/calendar/days", day).await;
    assert_eq!(status, StatusCode::OK, "{set}");
    assert_eq!(set["kind_label"], "调休上班");
    assert_eq!(tester.get(deadline).await.1["deadline"], "2025-10-10");

    let r = admin
        .client
        .delete(srv.url("/api/v1/calendar/days/2025-10-08"))
        .bearer_auth(&admin.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    // Without a special day, Wednesday 10-08 follows its weekday: the first working day after 09-30.
    let (_, one_day) = tester.get("/api/v1/calendar/deadline?start=2025-09-30&days=1").await;
    assert_eq!(one_day["deadline"], "2025-10-08");

    let (status, calendar_days) = tester.get("/api/v1/calendar/deadline?start=2025-09-30&days=15&working=false").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(calendar_days["deadline"], "2025-10-15");
    let (_, far) = tester.get("/api/v1/calendar/deadline?start=2031-01-10&days=3").await;
    assert_eq!(far["calendar_covers"], false);
    let (status, body) =
        admin.put("/api/v1/calendar/days", json!({"date": "2025-02-30", "kind": "workday", "name": "x"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(first_field(&body), "date");
}

// ---------------------------------------------------------------------------------------------
// Improvement letter.

fn letter() -> Value {
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
fn pdf_text(pdf: &[u8]) -> String {
    let path = std::env::temp_dir().join(format!("choucha-web-letter-{}.pdf", uuid_like()));
    std::fs::write(&path, pdf).unwrap();
    let out = Command::new("pdftotext").args(["-raw", "-enc", "UTF-8"]).arg(&path).arg("-").output();
    let _ = std::fs::remove_file(&path);
    let out = out.expect("pdftotext (poppler-utils) is installed");
    assert!(out.status.success(), "pdftotext failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().chars().filter(|c| !c.is_whitespace()).collect()
}

fn uuid_like() -> String {
    format!("{}-{:?}", std::process::id(), std::thread::current().id()).replace(['(', ')'], "")
}

fn squeeze(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

#[tokio::test]
async fn the_improvement_letter_pdf_shows_every_field_and_label_of_annex_2() {
    let srv = TestServer::start().await;
    srv.fx.user("tester1", &["tester"], Some("lab")).await;
    let tester = srv.api("tester1").await;
    let r = tester
        .client
        .post(srv.url("/api/v1/documents/improvement-letter"))
        .bearer_auth(&tester.token)
        .json(&letter())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let disposition = r.headers()["content-disposition"].to_str().unwrap().to_string();
    assert!(disposition.starts_with("attachment;") && disposition.contains("filename*=UTF-8''"), "{disposition}");
    assert!(disposition.contains("SXJC-2025-CJ-00731.pdf"), "{disposition}");
    let pdf = r.bytes().await.unwrap();
    assert!(pdf.starts_with(b"%PDF-"));

    let text = pdf_text(&pdf);
    for label in [
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
    ] {
        assert!(text.contains(label), "label {label} missing from:\n{text}");
    }
    let l = letter();
    for key in [
        "report_no",
        "product_name",
        "model",
        "inspected_unit",
        "producer",
        "institution",
        "problem_description",
        "cause_analysis",
        "suggestions",
        "remarks",
    ] {
        let v = squeeze(l[key].as_str().unwrap());
        assert!(text.contains(&v), "{key} = {v} missing from:\n{text}");
    }
    for item in ["能效等级", "噪声"] {
        assert!(text.contains(item), "failing item {item} missing");
    }
    assert!(text.contains("2025年10月20日"), "date missing from:\n{text}");
}

#[tokio::test]
async fn enterprises_get_403_and_missing_fields_get_422_for_the_improvement_letter() {
    let srv = TestServer::start().await;
    enterprise_user(&srv).await;
    let ent = srv.api("ent-user").await;
    let (status, body) = ent.post("/api/v1/documents/improvement-letter", letter()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body["message"].as_str().unwrap().contains("改进建议书"));

    let admin = srv.api("admin").await;
    let (status, body) = admin.post("/api/v1/documents/improvement-letter", json!({"report_no": "", "product_name": "电冰箱", "inspected_unit": "某商场", "institution": "某所", "failing_items": []})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, vec!["report_no", "failing_items"]);
    assert!(body["message"].as_str().unwrap().contains("请填写报告编号"));
}

// ---------------------------------------------------------------------------------------------
// Pages.

#[tokio::test]
async fn the_users_page_renders_for_admins_and_is_403_for_testers() {
    let srv = TestServer::start().await;
    srv.fx.user("tester1", &["tester"], Some("lab")).await;
    let admin = srv.browser("admin").await;
    let (status, html) = admin.get("/admin/users").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("用户管理") && html.contains("data-user=\"tester1\""));
    assert!(html.contains("data-label=\"角色\""), "phone-friendly table");
    let (status, html) = admin.get("/admin/users?role=tester&q=tester").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("data-user=\"tester1\"") && !html.contains("data-user=\"admin\""));
    assert_eq!(admin.get("/admin/users/new").await.0, StatusCode::OK);

    let tester = srv.browser("tester1").await;
    let (status, html) = tester.get("/admin/users").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("无权"));
    assert_eq!(tester.get("/admin/users/new").await.0, StatusCode::FORBIDDEN);
    assert_eq!(tester.get(&format!("/admin/users/{}", srv.fx.admin.user_id)).await.0, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn creating_a_user_on_the_page_shows_chinese_field_errors_and_keeps_typed_values() {
    let srv = TestServer::start().await;
    let b = srv.browser("admin").await;
    let csrf = b.csrf_of("/admin/users/new").await;
    let mut mistyped = choucha_service::fixtures::test_uscc("140213", 1).to_string();
    let last = mistyped.pop().unwrap();
    mistyped.push(if last == '0' { '1' } else { '0' });

    // An enterprise user with a mistyped USCC (wrong check character).
    let r = b
        .post_form(
            "/admin/users/new",
            &[
                ("csrf", &csrf),
                ("username", "ent.zhang"),
                ("display_name", "张企业联系人"),
                ("password", "good-pass-2025"),
                ("roles", "enterprise"),
                ("enterprise_uscc", &mistyped),
                ("phone", "13912345678"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("data-field-error=\"enterprise_uscc\""), "{html}");
    assert!(html.contains("统一社会信用代码校验位错误"), "{html}");
    assert!(
        html.contains("value=\"ent.zhang\"")
            && html.contains("value=\"张企业联系人\"")
            && html.contains("value=\"13912345678\"")
    );
    assert!(html.contains(&format!("value=\"{mistyped}\"")));
    assert!(html.contains("value=\"enterprise\" checked"));

    // Two roles, one of which does not fit a county bureau.
    let r = b
        .post_form(
            "/admin/users/new",
            &[
                ("csrf", &csrf),
                ("username", "mixed.roles"),
                ("display_name", "李混合"),
                ("password", "good-pass-2025"),
                ("roles", "local_regulator"),
                ("roles", "tester"),
                ("org_code", "dt-pc"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("data-field-error=\"roles\""));
    assert!(html.contains("角色“检验人员”不能属于县（区）局/分局"), "{html}");
    assert!(html.contains("value=\"local_regulator\" checked") && html.contains("value=\"tester\" checked"));
    assert!(html.contains("value=\"dt-pc\""));

    // Corrected: saved, then the list with a flash message.
    let r = b
        .post_form(
            "/admin/users/new",
            &[
                ("csrf", &csrf),
                ("username", "mixed.roles"),
                ("display_name", "李混合"),
                ("password", "good-pass-2025"),
                ("roles", "local_regulator"),
                ("org_code", "dt-pc"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/admin/users");
    let (_, html) = b.get("/admin/users").await;
    assert!(html.contains("已新建用户“李混合”"));
    assert!(html.contains("data-user=\"mixed.roles\""));
}

#[tokio::test]
async fn editing_and_resetting_a_user_on_the_page() {
    let srv = TestServer::start().await;
    let u = srv.fx.user("sampler1", &["sampler"], Some("lab")).await;
    let b = srv.browser("admin").await;
    let path = format!("/admin/users/{}", u.user_id);
    let (status, html) = b.get(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("data-confirm=") && html.contains("重置密码"));
    let csrf = b.csrf_of(&path).await;
    let r = b
        .post_form(
            &path,
            &[
                ("csrf", &csrf),
                ("display_name", "抽样员甲"),
                ("roles", "sampler"),
                ("roles", "tester"),
                ("org_code", "lab"),
                ("active", "1"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = b.get(&path).await;
    assert!(html.contains("已保存用户“抽样员甲”"));
    assert!(html.contains("value=\"tester\" checked"));

    let reset = format!("{path}/password");
    let r = b
        .post_form(&reset, &[("csrf", &csrf), ("password", "new-pass-2025"), ("password_confirm", "other-pass-2025")])
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("两次输入的新密码不一致"));
    let r = b
        .post_form(&reset, &[("csrf", &csrf), ("password", "new-pass-2025"), ("password_confirm", "new-pass-2025")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(token_status(&srv, "sampler1", "new-pass-2025").await.0, StatusCode::OK);
}

#[tokio::test]
async fn organisation_pages_list_the_tree_and_show_field_errors() {
    let srv = TestServer::start().await;
    let b = srv.browser("admin").await;
    let (status, html) = b.get("/admin/orgs").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("data-org=\"dt-pc\"") && html.contains("大同市市场监督管理局"));
    assert!(html.contains("CMA 160412345678"));
    let (_, html) = b.get("/admin/orgs?parent=dt").await;
    assert!(html.contains("data-org=\"dt-yg\"") && !html.contains("data-org=\"lab\""));

    let csrf = b.csrf_of("/admin/orgs/new").await;
    let form = [
        ("csrf", csrf.as_str()),
        ("name", "大同市天镇县市场监督管理局"),
        ("code", "dt-tz"),
        ("kind", "local_bureau"),
        ("parent_code", ""),
        ("division_code", "1402"),
    ];
    let r = b.post_form("/admin/orgs/new", &form).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("data-field-error=\"division_code\"") && html.contains("应为6位数字"));
    assert!(html.contains("data-field-error=\"parent_code\""));
    assert!(html.contains("value=\"大同市天镇县市场监督管理局\""));

    let mut good = form;
    good[4] = ("parent_code", "dt");
    good[5] = ("division_code", "140222");
    let r = b.post_form("/admin/orgs/new", &good).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = b.get("/admin/orgs").await;
    assert!(html.contains("已新建机构") && html.contains("data-org=\"dt-tz\""));

    let (status, _) = b.get(&format!("/admin/orgs/{}", srv.fx.institution.id)).await;
    assert_eq!(status, StatusCode::OK);
    srv.fx.user("tester1", &["tester"], Some("lab")).await;
    let tester = srv.browser("tester1").await;
    assert_eq!(tester.get("/admin/orgs/new").await.0, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_audit_pages_filter_show_details_and_verify_the_chain() {
    let srv = TestServer::start().await;
    srv.fx.user("sampler1", &["sampler"], Some("lab")).await;
    let b = srv.browser("admin").await;
    let (status, html) = b.get("/admin/audit?action=user.").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("data-action=\"user.create\"") && !html.contains("data-action=\"organisation.create\""));
    let seq = html.split("data-seq=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let (status, detail) = b.get(&format!("/admin/audit/{seq}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(detail.contains("前一条哈希") && detail.contains("username") && detail.contains("sampler1"), "{detail}");

    let csrf = b.csrf_of("/admin/audit").await;
    let r = b.post_form("/admin/audit/verify", &[("csrf", &csrf)]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("审计链完整"), "{html}");

    let (status, html) = b.get("/admin/audit?from=2025-13-01").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("日期“2025-13-01”无效"));
    let tester = {
        srv.fx.user("tester1", &["tester"], Some("lab")).await;
        srv.browser("tester1").await
    };
    assert_eq!(tester.get("/admin/audit").await.0, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_calendar_page_computes_deadlines_for_everyone_and_admins_edit_days() {
    let srv = TestServer::start().await;
    srv.fx.user("tester1", &["tester"], Some("lab")).await;
    let tester = srv.browser("tester1").await;
    let (status, html) = tester.get("/calendar?year=2025&start=2025-09-30&days=3&unit=working").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("data-date=\"2025-10-11\"") && html.contains("调休上班"));
    assert!(html.contains("2025-10-11（星期六）"), "{html}");
    assert!(!html.contains("data-testid=\"day-form\""), "a tester does not edit the calendar");
    let (_, html) = tester.get("/calendar?year=2031&start=2031-03-01&days=3").await;
    assert!(html.contains("data-testid=\"no-data\"") && html.contains("data-testid=\"deadline-warning\""));

    let b = srv.browser("admin").await;
    let (_, html) = b.get("/calendar?year=2025").await;
    assert!(html.contains("data-testid=\"day-form\"") && html.contains("data-confirm="));
    let csrf = b.csrf_of("/calendar").await;
    let r = b
        .post_form("/calendar/days", &[("csrf", &csrf), ("date", "2025-10-08"), ("kind", "workday"), ("name", "")])
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("请填写节日名称") && html.contains("value=\"2025-10-08\""));
    let r = b
        .post_form(
            "/calendar/days",
            &[("csrf", &csrf), ("date", "2025-10-08"), ("kind", "workday"), ("name", "测试调休")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = b.get("/calendar?year=2025&start=2025-09-30&days=3").await;
    assert!(html.contains("已保存：2025-10-08") && html.contains("2025-10-10（星期五）"));
    let r = b.post_form("/calendar/days/2025-10-08/delete", &[("csrf", &csrf)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = b.get("/calendar?year=2025").await;
    assert!(html.contains("已删除 2025-10-08"));

    let tcsrf = tester.csrf_of("/calendar").await;
    let r = tester.post_form("/calendar/days/2025-10-11/delete", &[("csrf", &tcsrf)]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_account_page_changes_the_own_password() {
    let srv = TestServer::start().await;
    srv.fx.user("sampler1", &["sampler"], Some("lab")).await;
    let b = srv.browser("sampler1").await;
    let csrf = b.csrf_of("/account/password").await;
    let r = b
        .post_form(
            "/account/password",
            &[
                ("csrf", &csrf),
                ("old_password", "wrong-pass-1"),
                ("new_password", "next-pass-2025"),
                ("new_password_confirm", "next-pass-2025"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("原密码不正确"));
    let r = b
        .post_form(
            "/account/password",
            &[
                ("csrf", &csrf),
                ("old_password", common_password()),
                ("new_password", "next-pass-2025"),
                ("new_password_confirm", "next-pass-2025"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = b.get("/account/password").await;
    assert!(html.contains("密码已修改"));
    assert_eq!(token_status(&srv, "sampler1", "next-pass-2025").await.0, StatusCode::OK);
}

fn common_password() -> &'static str {
    choucha_service::fixtures::PASSWORD
}

#[tokio::test]
async fn the_improvement_letter_page_downloads_the_pdf_or_shows_field_errors() {
    let srv = TestServer::start().await;
    srv.fx.user("tester1", &["tester"], Some("lab")).await;
    let b = srv.browser("tester1").await;
    let (status, html) = b.get("/documents/improvement-letter").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("value=\"山西省检验检测中心\""), "the tester's institution is filled in");
    assert!(html.contains("本次抽检质量问题描述") && html.contains("改进建议书"));
    let csrf = b.csrf_of("/documents/improvement-letter").await;
    let r = b
        .post_form(
            "/documents/improvement-letter",
            &[
                ("csrf", &csrf),
                ("product_name", "电冰箱"),
                ("institution", "山西省检验检测中心"),
                ("failing_items", "\r\n"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("请填写报告编号")
            && html.contains("请至少填写一个不合格项目")
            && html.contains("value=\"电冰箱\"")
    );
    let r = b
        .post_form(
            "/documents/improvement-letter",
            &[
                ("csrf", &csrf),
                ("report_no", "SXJC-2025-0002"),
                ("product_name", "电冰箱"),
                ("inspected_unit", "某商场"),
                ("institution", "山西省检验检测中心"),
                ("failing_items", "能效等级\r\n噪声"),
                ("date", "2025-10-20"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let text = pdf_text(&r.bytes().await.unwrap());
    assert!(text.contains("SXJC-2025-0002") && text.contains("能效等级") && text.contains("噪声"));

    enterprise_user(&srv).await;
    let ent = srv.browser("ent-user").await;
    assert_eq!(ent.get("/documents/improvement-letter").await.0, StatusCode::FORBIDDEN);
    let (_, home) = ent.get("/").await;
    assert!(!home.contains("/documents/improvement-letter"));
}

#[tokio::test]
async fn the_openapi_document_lists_the_administration_routes() {
    let srv = TestServer::start().await;
    let doc: Value = reqwest::get(srv.url("/api/openapi.json")).await.unwrap().json().await.unwrap();
    for (path, method) in [
        ("/api/v1/users", "get"),
        ("/api/v1/users", "post"),
        ("/api/v1/users/{id}", "put"),
        ("/api/v1/users/{id}/password", "post"),
        ("/api/v1/me/password", "post"),
        ("/api/v1/organisations", "post"),
        ("/api/v1/organisations/{id}", "put"),
        ("/api/v1/audit", "get"),
        ("/api/v1/audit/{seq}", "get"),
        ("/api/v1/audit/verify", "post"),
        ("/api/v1/calendar/{year}", "get"),
        ("/api/v1/calendar/days", "put"),
        ("/api/v1/calendar/days/{date}", "delete"),
        ("/api/v1/calendar/deadline", "get"),
        ("/api/v1/documents/improvement-letter", "post"),
    ] {
        assert!(doc["paths"][path][method].is_object(), "{method} {path} missing from the OpenAPI document");
    }
}
