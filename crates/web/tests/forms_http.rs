//! Issue 16 over HTTP: the evidence viewer (team, organising bureau, the enterprise's county bureau;
//! never a tester), stored signatures, and an institution's seals.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;

use common::TestServer;
use common::diesel::{self, Diesel, PNG};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn the_evidence_viewer_shows_photos_with_hashes_to_those_who_may_see_them() {
    let srv = TestServer::start().await;
    diesel::team(&srv).await;
    srv.fx.user("pc_reg", &["local_regulator"], Some("dt-pc")).await;
    srv.fx.user("yg_reg", &["local_regulator"], Some("dt-yg")).await;
    srv.fx.enterprise("大同市平城区示例加油站", "140213", "销售者、加油站", 1).await;
    let task = diesel::drawn_task(&srv, Diesel::default()).await.task;
    let (s1, _s2) = diesel::started(&srv, task).await;
    // Before any photo, the task page says what is missing before signing.
    let b1 = srv.browser("lab_s1").await;
    let (_, html) = b1.get(&format!("/tasks/{task}")).await;
    assert!(html.contains("签字前尚缺") && html.contains("data-testid=\"explain-stock\""), "{html}");
    let (status, body) = s1
        .post(
            &format!("/api/v1/tasks/{task}/evidence/reasons"),
            json!({"category": "stock", "reason": "企业不允许拍摄库存"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    diesel::photographed(&srv, task).await;

    let viewer = format!("/tasks/{task}/evidence");
    for who in ["lab_s1", "dt_reg", "pc_reg"] {
        let (status, html) = srv.browser(who).await.get(&viewer).await;
        assert_eq!(status, StatusCode::OK, "{who}");
        assert_eq!(html.matches("data-testid=\"shot\"").count(), 6, "{who}: six photos");
        assert!(html.contains("SHA-256") && html.contains("/api/v1/evidence/"), "{who}");
        assert!(html.contains("无法拍摄：企业不允许拍摄库存"), "{who}: the reason is shown");
        assert!(!html.contains(" UTC"), "{who}: Beijing time");
    }
    // The tester (blind) and another county bureau learn nothing, not even that the task exists.
    for who in ["lab_tester", "yg_reg"] {
        let (status, html) = srv.browser(who).await.get(&viewer).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{who}");
        assert!(!html.contains("示例加油站"), "{who}");
    }
    // The photo itself: to the county bureau, not to the tester.
    let (_, list) = srv.api("pc_reg").await.get(&format!("/api/v1/tasks/{task}/evidence")).await;
    let id = list["items"][0]["id"].as_i64().unwrap();
    let photo = format!("/api/v1/evidence/{id}/content");
    assert_eq!(srv.browser("pc_reg").await.client.get(srv.url(&photo)).send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(
        srv.browser("lab_tester").await.client.get(srv.url(&photo)).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_stored_signature_is_kept_shown_and_removed_by_its_owner() {
    let srv = TestServer::start().await;
    srv.fx.user("lab_a1", &["report_approver"], Some("lab")).await;
    let a1 = srv.api("lab_a1").await;
    assert_eq!(a1.get("/api/v1/me/signature").await.0, StatusCode::NOT_FOUND);
    let (status, body) = a1.put("/api/v1/me/signature", json!({"image_png_base64": "bm90IGEgcG5n"})).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_signature")),
        "{body}"
    );
    assert_eq!(body["errors"][0]["field"], "image_png_base64");
    let (status, body) = a1.put("/api/v1/me/signature", json!({"image_png_base64": PNG})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["image_png_base64"], PNG);
    let (_, html) = srv.browser("lab_a1").await.get("/account/signature").await;
    assert!(html.contains("data-testid=\"stored-signature-image\"") && html.contains("删除签名"), "{html}");
    let r = a1.client.delete(srv.url("/api/v1/me/signature")).bearer_auth(&a1.token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(a1.get("/api/v1/me/signature").await.0, StatusCode::NOT_FOUND);
    // The sign-off forms offer the stored signature.
    let (_, html) = srv.browser("lab_a1").await.get("/account/signature").await;
    assert!(!html.contains("data-testid=\"stored-signature-image\""));
}

#[tokio::test]
async fn only_the_system_administrator_manages_an_institutions_seals() {
    let srv = TestServer::start().await;
    srv.fx.user("sys", &["system_admin"], None).await;
    let a1 = srv.fx.user("lab_a1", &["report_approver"], Some("lab")).await;
    let lab = a1.org_id.unwrap();
    let page = format!("/admin/orgs/{lab}/seals");
    let admin = srv.browser("sys").await;
    let (status, html) = admin.get(&page).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("检验检测专用章") && html.contains("公章") && html.contains("尚未上传"), "{html}");
    let csrf = admin.csrf_of(&page).await;
    let form = reqwest::multipart::Form::new().text("csrf", csrf.clone()).text("kind", "inspection").part(
        "file",
        reqwest::multipart::Part::bytes(common::png()).file_name("seal.png").mime_str("image/png").unwrap(),
    );
    let r = admin.client.post(srv.url(&page)).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = admin.get(&page).await;
    assert!(html.contains("data-testid=\"seal-image-inspection\""), "{html}");
    // A text file is not a seal.
    let form = reqwest::multipart::Form::new().text("csrf", csrf).text("kind", "official").part(
        "file",
        reqwest::multipart::Part::bytes(b"hello".to_vec()).file_name("x.png").mime_str("image/png").unwrap(),
    );
    admin.client.post(srv.url(&page)).multipart(form).send().await.unwrap();
    let (_, html) = admin.get(&page).await;
    assert!(!html.contains("data-testid=\"seal-image-official\""), "nothing stored");
    assert!(html.contains("PNG"), "{html}");
    // The approver may not see or change them.
    assert_eq!(srv.browser("lab_a1").await.get(&page).await.0, StatusCode::FORBIDDEN);
}
