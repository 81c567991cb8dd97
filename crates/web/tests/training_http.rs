//! The training clock through the pages: on a training instance the system administrator moves
//! the business date forward (audited, the banner on every page says the date); a production
//! instance refuses the move (409) and shows no banner; nobody else may move it (403).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use choucha_service::fixtures::Fixture;
use common::TestServer;
use reqwest::StatusCode;

async fn training_server() -> TestServer {
    let mut fx = Fixture::new().await;
    fx.services = fx.services.clone().with_training(true);
    TestServer::start_with(fx).await
}

#[tokio::test]
async fn moving_the_date_is_refused_on_production() {
    let srv = TestServer::start().await;
    let admin = srv.browser("admin").await;
    let (status, html) = admin.get("/admin/training").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("本系统是生产实例"), "{html}");
    assert!(!html.contains("培训模式"), "no banner on production");
    let before = srv.fx.services.today();
    let csrf = admin.csrf_of("/admin/training").await;
    let r = admin.post_form("/admin/training/move", &[("csrf", csrf.as_str()), ("days", "16")]).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.text().await.unwrap().contains("不是培训实例"));
    assert_eq!(srv.fx.services.today(), before, "the date did not move");
    // The menu offers no training page on production.
    let (_, home) = admin.get("/").await;
    assert!(!home.contains("/admin/training"), "{home}");
}

#[tokio::test]
async fn the_administrator_moves_the_date_of_a_training_instance() {
    let srv = training_server().await;
    let admin = srv.browser("admin").await;
    let (_, home) = admin.get("/").await;
    assert!(home.contains("href=\"/admin/training\""), "the menu offers the training page");
    let before = srv.fx.services.today();
    let csrf = admin.csrf_of("/admin/training").await;
    let r = admin.post_form("/admin/training/move", &[("csrf", csrf.as_str()), ("days", "16")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let after = before + chrono::Duration::days(16);
    assert_eq!(srv.fx.services.today(), after);
    let (_, html) = admin.get("/admin/training").await;
    assert!(html.contains(&format!("系统日期已调整为 {after}")), "{html}");
    assert!(html.contains(&format!("培训模式：系统日期为 {after}")), "the banner: {html}");
    // Every page, for everyone, carries the banner.
    let auditor = srv.browser("auditor").await;
    let (_, log) = auditor.get("/admin/audit").await;
    assert!(log.contains(&format!("培训模式：系统日期为 {after}")), "{log}");
    // The move is audited, named in Chinese with the administrator's name.
    let (_, log) = auditor.get("/admin/audit?action=training.move_date").await;
    assert!(log.contains("调整培训系统日期") && log.contains("系统管理员"), "{log}");
    assert!(log.contains(&format!("培训系统日期 #{after}")), "{log}");

    // To a date: forward only.
    let target = after + chrono::Duration::days(10);
    let r = admin
        .post_form("/admin/training/move", &[("csrf", csrf.as_str()), ("date", target.to_string().as_str())])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(srv.fx.services.today(), target);
    let r = admin
        .post_form("/admin/training/move", &[("csrf", csrf.as_str()), ("date", before.to_string().as_str())])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = admin.get("/admin/training").await;
    assert!(html.contains("未执行：系统日期只能向后调整"), "{html}");
    assert_eq!(srv.fx.services.today(), target);

    // Nobody but the system administrator.
    for who in ["auditor", "security"] {
        let b = srv.browser(who).await;
        let (status, _) = b.get("/admin/training").await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{who}");
        let csrf = b.csrf_of("/").await;
        let r = b.post_form("/admin/training/move", &[("csrf", csrf.as_str()), ("days", "1")]).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{who}");
    }
    assert_eq!(srv.fx.services.today(), target);
}
