//! Users and organisations over the API (bearer tokens): each route refusing the wrong caller or
//! input and allowing the right one, and the OpenAPI document listing the administration routes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::TestServer;
use common::admin::{create_user, enterprise_user, first_field, new_user, token_status};
use reqwest::StatusCode;
use serde_json::{Value, json};

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
    let (status, u) = create_user(&srv, new_user("wang.jc", &["tester", "sample_custodian"], "lab")).await;
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
    let (status, body) = create_user(&srv, new_user("tester.county", &["tester"], "dt-pc")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["code"], "role_org_mismatch");
    assert_eq!(first_field(&body), "roles");
    assert!(body["message"].as_str().unwrap().contains("检验人员"), "{body}");
    let (status, _) = create_user(&srv, new_user("local.county", &["local_regulator"], "dt-pc")).await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn duplicate_usernames_and_weak_passwords_are_422() {
    let srv = TestServer::start().await;
    assert_eq!(create_user(&srv, new_user("li.si", &["sampler"], "lab")).await.0, StatusCode::CREATED);
    let (status, body) = create_user(&srv, new_user("li.si", &["sampler"], "lab")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(first_field(&body), "username");
    assert!(body["message"].as_str().unwrap().contains("已被使用"));

    let mut weak = new_user("zhao.liu", &["sampler"], "lab");
    weak["password"] = json!("abcdefgh");
    let (status, body) = create_user(&srv, weak).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["code"], "weak_password");
    assert_eq!(first_field(&body), "password");
}

#[tokio::test]
async fn a_deactivated_user_cannot_get_a_token() {
    let srv = TestServer::start().await;
    let admin = srv.api("admin").await;
    let (_, u) = create_user(&srv, new_user("leaver", &["sampler"], "lab")).await;
    let (status, old) = token_status(&srv, "leaver", "good-pass-2025").await;
    assert_eq!(status, StatusCode::OK);
    let update = json!({"display_name": "离职人员", "org_code": "lab", "active": false});
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

#[tokio::test]
async fn the_openapi_document_lists_the_administration_routes() {
    let srv = TestServer::start().await;
    let doc: Value = reqwest::get(srv.url("/api/openapi.json")).await.unwrap().json().await.unwrap();
    for (path, method) in [
        ("/api/v1/users", "get"),
        ("/api/v1/users", "post"),
        ("/api/v1/users/{id}", "put"),
        ("/api/v1/users/{id}/password", "post"),
        ("/api/v1/users/{id}/roles", "put"),
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

/// 三权分立 over the API: the system administrator gets 403 on the audit log and on granting
/// roles; the security administrator grants roles but creates no account; the audit administrator
/// reads and verifies the log and gets 403 on everything else.
#[tokio::test]
async fn the_three_administrators_each_get_403_outside_their_duty() {
    let srv = TestServer::start().await;
    let (admin, security, auditor) = (srv.api("admin").await, srv.api("security").await, srv.api("auditor").await);
    assert_eq!(admin.get("/api/v1/audit").await.0, StatusCode::FORBIDDEN);
    assert_eq!(admin.post("/api/v1/audit/verify", json!({})).await.0, StatusCode::FORBIDDEN);
    assert_eq!(admin.get("/api/v1/plans").await.0, StatusCode::FORBIDDEN);
    let (status, body) = admin.post("/api/v1/users", new_user("with.roles", &["tester"], "lab")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, u) = admin.post("/api/v1/users", new_user("no.roles", &[], "lab")).await;
    assert_eq!(status, StatusCode::CREATED, "{u}");
    let roles = format!("/api/v1/users/{}/roles", u["id"]);
    assert_eq!(admin.put(&roles, json!({"roles": ["tester"]})).await.0, StatusCode::FORBIDDEN);

    assert_eq!(security.post("/api/v1/users", new_user("by.security", &[], "lab")).await.0, StatusCode::FORBIDDEN);
    assert_eq!(security.get("/api/v1/audit").await.0, StatusCode::FORBIDDEN);
    let (status, granted) = security.put(&roles, json!({"roles": ["tester"]})).await;
    assert_eq!(status, StatusCode::OK, "{granted}");
    assert_eq!(granted["roles"], json!(["tester"]));
    let (status, body) = security.put(&roles, json!({"roles": ["tester", "audit_admin"]})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["code"], "separation_of_duties");

    let (status, log) = auditor.get("/api/v1/audit?action=user.roles").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(log["items"][0]["actor_id"], srv.fx.security.user_id, "{log}");
    assert_eq!(auditor.post("/api/v1/audit/verify", json!({})).await.0, StatusCode::OK);
    let today = srv.fx.services.today();
    let export = format!("/api/v1/audit/export?from={today}&to={today}");
    let r = reqwest::Client::new().get(srv.url(&export)).bearer_auth(&auditor.token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/zip");
    assert!(r.bytes().await.unwrap().starts_with(b"PK"));
    assert_eq!(admin.get(&export).await.0, StatusCode::FORBIDDEN);
    let (status, body) = auditor.get("/api/v1/audit/export?from=2025-13-01").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(first_field(&body), "from");
    for path in
        ["/api/v1/users", "/api/v1/plans", "/api/v1/enterprises", "/api/v1/organisations", "/api/v1/calendar/2025"]
    {
        assert_eq!(auditor.get(path).await.0, StatusCode::FORBIDDEN, "{path}");
    }
}

#[tokio::test]
async fn a_signed_in_user_deactivated_meanwhile_is_refused_on_the_next_request() {
    let fx = choucha_service::fixtures::Fixture::new().await;
    let busy = fx.user("busy", &["sampler"], Some("lab")).await;
    let srv = TestServer::start_with(fx).await;
    let page = srv.browser("busy").await;
    // A burst of requests reads the signed-in user once (the actor cache) ...
    for _ in 0..3 {
        assert_eq!(page.get("/api/v1/me").await.0, StatusCode::OK);
    }
    let admin = srv.api("admin").await;
    let update = json!({"display_name": "离职人员", "org_code": "lab", "active": false});
    let (status, after) = admin.put(&format!("/api/v1/users/{}", busy.user_id), update).await;
    assert_eq!(status, StatusCode::OK, "{after}");
    // ... and the deactivation counts from the very next one.
    assert_eq!(page.get("/api/v1/me").await.0, StatusCode::UNAUTHORIZED);
}
