//! The audit log and the working-day calendar over HTTP, through the API and the pages.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::TestServer;
use common::admin::{first_field, new_user};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn the_audit_log_shows_user_creation_with_actor_and_after_and_the_chain_is_intact() {
    let srv = TestServer::start().await;
    let (_, u) = srv.api("admin").await.post("/api/v1/users", new_user("audited", &[], "lab")).await;
    // The audit administrator reads the log (三权分立).
    let admin = srv.api("auditor").await;
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
    let today = choucha_domain::clock::Clock::system().today();
    let (_, today_page) = admin.get(&format!("/api/v1/audit?from={today}&until={today}&action=user.create")).await;
    assert!(!today_page["items"].as_array().unwrap().is_empty());

    srv.fx.user("tester1", &["tester"], Some("lab")).await;
    let tester = srv.api("tester1").await;
    assert_eq!(tester.get("/api/v1/audit").await.0, StatusCode::FORBIDDEN);
    assert_eq!(tester.post("/api/v1/audit/verify", json!({})).await.0, StatusCode::FORBIDDEN);
}

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

#[tokio::test]
async fn the_audit_pages_filter_show_details_and_verify_the_chain() {
    let srv = TestServer::start().await;
    srv.fx.user("sampler1", &["sampler"], Some("lab")).await;
    // The system administrator does not read the log; the audit administrator does (三权分立).
    assert_eq!(srv.browser("admin").await.get("/admin/audit").await.0, StatusCode::FORBIDDEN);
    let b = srv.browser("auditor").await;
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

/// The text a person reads on a page: tags, scripts and attribute values left out.
fn visible_text(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.split("<pre class=\"json\"").next().unwrap_or(html).chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

#[tokio::test]
async fn the_audit_log_names_actions_and_people_in_chinese_and_filters_by_a_persons_name() {
    let srv = TestServer::start().await;
    let (_, u) = srv.api("admin").await.post("/api/v1/users", new_user("audited", &[], "lab")).await;
    let auditor = srv.browser("auditor").await;
    let (status, html) = auditor.get("/admin/audit").await;
    assert_eq!(status, StatusCode::OK);
    let text = visible_text(&html);
    assert!(text.contains("新建用户") && text.contains("登录"), "{text}");
    for code in ["user.create", "auth.login", "auth.token_issue", "user #", "organisation #"] {
        assert!(!text.contains(code), "the page shows “{code}”: {text}");
    }
    // The new user is named as a person, not as "user #id".
    assert!(text.contains("用户 王检验（audited）"), "{text}");

    // One record in detail: its action, its time in Beijing and its object named.
    let (_, one) = auditor.get(&format!("/admin/audit?action=user.create&object_id={}", u["id"])).await;
    let seq = one.split("data-seq=\"").nth(1).and_then(|s| s.split('"').next()).expect("a record").to_string();
    let (_, detail) = auditor.get(&format!("/admin/audit/{seq}")).await;
    let text = visible_text(&detail);
    assert!(text.contains("新建用户") && text.contains("用户 王检验（audited）"), "{text}");
    let chars: Vec<char> = text.chars().collect();
    let iso = chars.windows(3).any(|w| w[0].is_ascii_digit() && w[1] == 'T' && w[2].is_ascii_digit());
    assert!(!text.contains("UTC") && !text.contains("user.create") && !iso, "{text}");

    // Filtered by a person's name (display name or username), not a number.
    let (_, by_name) = auditor.get("/admin/audit?actor=%E7%B3%BB%E7%BB%9F%E7%AE%A1%E7%90%86%E5%91%98").await;
    assert!(by_name.contains("data-action=\"user.create\""), "{by_name}");
    let (_, by_username) = auditor.get("/admin/audit?actor=auditor").await;
    assert!(!by_username.contains("data-action=\"user.create\""), "the auditor created nobody");
    assert!(by_username.contains("data-seq"), "the auditor's own sign-in is listed");
    let (_, nobody) = auditor.get("/admin/audit?actor=nobody-at-all").await;
    assert!(nobody.contains("没有符合条件的审计记录"), "{nobody}");
}
