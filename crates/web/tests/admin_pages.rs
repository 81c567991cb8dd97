//! The administration pages (cookie sessions with CSRF): users, organisations and the own account.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::TestServer;
use common::admin::token_status;
use reqwest::StatusCode;

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
    // 三权分立: the system administrator's form asks for no roles.
    assert!(!html.contains("name=\"roles\"") && html.contains("由安全管理员授予角色"));

    // Saved, then the list with a flash message.
    let r = b
        .post_form(
            "/admin/users/new",
            &[
                ("csrf", &csrf),
                ("username", "mixed.roles"),
                ("display_name", "李混合"),
                ("password", "good-pass-2025"),
                ("org_code", "dt-pc"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/admin/users");
    let (_, html) = b.get("/admin/users").await;
    assert!(html.contains("已新建用户“李混合”"));
    assert!(html.contains("data-user=\"mixed.roles\""));

    // Roles a system administrator slips into the form are refused, nothing is written.
    let r = b
        .post_form(
            "/admin/users/new",
            &[
                ("csrf", &csrf),
                ("username", "sneaky"),
                ("display_name", "多角色"),
                ("password", "good-pass-2025"),
                ("roles", "regulator"),
                ("org_code", "dt"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("安全管理员"));
    let (_, html) = b.get("/admin/users").await;
    assert!(!html.contains("data-user=\"sneaky\""), "{html}");
}

/// The security administrator grants roles on the user's page: two roles of which one does not
/// fit a county bureau are refused with the field error and the ticks kept; the right one is saved.
#[tokio::test]
async fn the_security_administrator_grants_roles_on_the_page() {
    let srv = TestServer::start().await;
    let u = srv
        .fx
        .create_user(choucha_service::users::NewUserInput {
            username: "mixed.roles".into(),
            display_name: "李混合".into(),
            password: "good-pass-2025".into(),
            org_code: Some("dt-pc".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let path = format!("/admin/users/{}", u.id);
    // The system administrator sees the roles but has no form for them.
    let (_, html) = srv.browser("admin").await.get(&path).await;
    assert!(!html.contains("data-testid=\"roles-form\"") && html.contains("尚未授予角色"));
    let b = srv.browser("security").await;
    let (status, html) = b.get(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("data-testid=\"roles-form\"") && !html.contains("data-testid=\"user-form\""));
    assert!(!html.contains("重置密码"));
    let csrf = b.csrf_of(&path).await;
    let roles = format!("{path}/roles");
    let r = b.post_form(&roles, &[("csrf", &csrf), ("roles", "local_regulator"), ("roles", "tester")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("data-field-error=\"roles\""));
    assert!(html.contains("角色“检验人员”不能属于县（区）局/分局"), "{html}");
    assert!(html.contains("value=\"local_regulator\" checked") && html.contains("value=\"tester\" checked"));
    let r = b.post_form(&roles, &[("csrf", &csrf), ("roles", "local_regulator")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = b.get(&path).await;
    assert!(html.contains("已更新“李混合”的角色：县局人员"), "{html}");
    // The system administrator may not post the roles form.
    let a = srv.browser("admin").await;
    let csrf = a.csrf_of(&path).await;
    let r = a.post_form(&roles, &[("csrf", &csrf), ("roles", "local_regulator")]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
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
        .post_form(&path, &[("csrf", &csrf), ("display_name", "抽样员甲"), ("org_code", "lab"), ("active", "1")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = b.get(&path).await;
    assert!(html.contains("已保存用户“抽样员甲”"));
    assert!(html.contains("抽样人员"), "the roles stay as granted");

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
    // The change ended every session, this one too: the user signs in again.
    assert_eq!(r.headers()["location"], "/login?changed=1");
    let (_, html) = b.get("/login?changed=1").await;
    assert!(html.contains("密码已修改"));
    assert_eq!(token_status(&srv, "sampler1", "next-pass-2025").await.0, StatusCode::OK);
}

fn common_password() -> &'static str {
    choucha_service::fixtures::PASSWORD
}
