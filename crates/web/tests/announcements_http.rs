//! A plan's results over HTTP (issue 6): the announcement drafted, approved by a second regulator
//! and published is readable without signing in (page, JSON, PDF) with the failed and the refusing
//! enterprises, while a draft is not; a correction and a withdrawal show on the public pages; the organising
//! bureau downloads the summary table, the quality analysis report and the bound volume; testers
//! and other bureaus are refused.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;

use choucha_service::draws;
use choucha_service::fixtures::lab_world::{self, ENTERPRISE};
use choucha_service::sampling::{self, CosignInput, RefusalInput};
use common::TestServer;
use reqwest::StatusCode;
use serde_json::{Value, json};

const REFUSING: &str = "大同市平城区拒检加油站";

/// The lab world's diesel sample issued as an unqualified report, and a second drawn enterprise's
/// refusal co-signed by the county bureau; the server and the plan id.
async fn results_world() -> (TestServer, i64) {
    let w = lab_world::world().await;
    w.fx.user("dt_reg2", &["regulator"], Some("dt")).await;
    let county = w.fx.user("pc_reg", &["local_regulator"], Some("dt-pc")).await;
    lab_world::issued(&w, 12.5).await;
    let refused = lab_world::another_task(&w, REFUSING, 2).await;
    let s = lab_world::s(&w);
    draws::start_task(s, &w.s1, refused).await.unwrap();
    sampling::refuse(
        s,
        &w.s1,
        refused,
        RefusalInput {
            facts: "拒绝抽样".into(), reasons: "认为样品价格过低".into(), witness_name: String::new()
        },
    )
    .await
    .unwrap();
    sampling::cosign_refusal(s, &county, refused, CosignInput { opinion: "认定为拒检".into() }).await.unwrap();
    let plan = w.plan;
    (TestServer::start_with(w.fx).await, plan)
}

async fn anonymous(srv: &TestServer, path: &str) -> (StatusCode, String) {
    let r = reqwest::get(srv.url(path)).await.unwrap();
    (r.status(), r.text().await.unwrap())
}

async fn bytes(api: &common::Api, srv: &TestServer, path: &str) -> (StatusCode, Vec<u8>) {
    let r = api.client.get(srv.url(path)).bearer_auth(&api.token).send().await.unwrap();
    (r.status(), r.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn a_published_announcement_is_public_with_failures_and_refusals_and_a_withdrawal_shows() {
    let (srv, plan) = results_world().await;
    let reg = srv.api("dt_reg").await;
    let reg2 = srv.api("dt_reg2").await;
    let (st, a) = reg.post(&format!("/api/v1/plans/{plan}/announcements"), json!({})).await;
    assert_eq!(st, StatusCode::OK, "{a}");
    let id = a["id"].as_i64().unwrap();
    assert_eq!(a["content"]["rows"].as_array().unwrap().len(), 1);
    assert_eq!(a["content"]["refusals"][0]["enterprise"], REFUSING);

    // A draft is not public.
    assert_eq!(anonymous(&srv, &format!("/public/announcements/{id}")).await.0, StatusCode::NOT_FOUND);
    assert_eq!(anonymous(&srv, &format!("/api/v1/public/announcements/{id}")).await.0, StatusCode::NOT_FOUND);
    let (_, list) = anonymous(&srv, "/public/announcements").await;
    assert!(!list.contains(&format!("/public/announcements/{id}")));

    // The same person cannot draft and approve.
    let (st, b) = reg.post(&format!("/api/v1/announcements/{id}/approve"), json!({})).await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::CONFLICT, Some("announcement_same_person")));
    assert_eq!(reg2.post(&format!("/api/v1/announcements/{id}/approve"), json!({})).await.0, StatusCode::OK);
    // The result has not reached the enterprise: its objection window is open, so publishing needs
    // a reason, which is recorded.
    let (st, p) = reg.post(&format!("/api/v1/announcements/{id}/publish"), json!({})).await;
    assert_eq!((st, p["code"].as_str()), (StatusCode::CONFLICT, Some("announcement_objection_open")), "{p}");
    assert!(p["message"].as_str().unwrap().contains(ENTERPRISE), "{p}");
    let anyway = json!({"open_objection_reason": "按省局统一部署提前公告"});
    let (st, p) = reg.post(&format!("/api/v1/announcements/{id}/publish"), anyway.clone()).await;
    assert_eq!((st, p["state"].as_str()), (StatusCode::OK, Some("published")), "{p}");
    assert_eq!(p["publish_note"], "按省局统一部署提前公告");

    let (st, page) = anonymous(&srv, &format!("/public/announcements/{id}")).await;
    assert_eq!(st, StatusCode::OK);
    for needle in [ENTERPRISE, REFUSING, "硫含量", "不合格", "山西省检验检测中心"] {
        assert!(page.contains(needle), "{needle} missing");
    }
    let (_, list) = anonymous(&srv, "/public/announcements").await;
    assert!(list.contains(&format!("/public/announcements/{id}")));
    let (st, json_body) = anonymous(&srv, &format!("/api/v1/public/announcements/{id}")).await;
    assert_eq!(st, StatusCode::OK);
    let v: Value = serde_json::from_str(&json_body).unwrap();
    assert_eq!(v["snapshot"]["rows"][0]["failing_items"][0], "硫含量");
    let r = reqwest::get(srv.url(&format!("/public/announcements/{id}/pdf"))).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.bytes().await.unwrap().starts_with(b"%PDF"));

    // Published content is frozen; a withdrawal is recorded and shown.
    let (st, b) = reg.put(&format!("/api/v1/announcements/{id}"), json!({"title": "改", "preface": ""})).await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::CONFLICT, Some("announcement_frozen")));
    // A correction: the new announcement shows its note and links the earlier one, which shows it
    // was corrected.
    let (st, c) =
        reg.post(&format!("/api/v1/announcements/{id}/corrections"), json!({"reason": "更正标称生产者"})).await;
    assert_eq!(st, StatusCode::OK, "{c}");
    let cid = c["id"].as_i64().unwrap();
    assert_eq!(reg2.post(&format!("/api/v1/announcements/{cid}/approve"), json!({})).await.0, StatusCode::OK);
    assert_eq!(reg2.post(&format!("/api/v1/announcements/{cid}/publish"), anyway).await.0, StatusCode::OK);
    let (_, page) = anonymous(&srv, &format!("/public/announcements/{cid}")).await;
    assert!(page.contains("更正说明") && page.contains("更正标称生产者"));
    assert!(page.contains(&format!("href=\"/public/announcements/{id}\"")));
    let (_, page) = anonymous(&srv, &format!("/public/announcements/{id}")).await;
    assert!(page.contains("本公告已被更正") && page.contains(&format!("href=\"/public/announcements/{cid}\"")));
    // A withdrawal is recorded and shown.
    let (st, b) = reg.post(&format!("/api/v1/announcements/{cid}/withdraw"), json!({"reason": ""})).await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("required")));
    let (st, _) =
        reg2.post(&format!("/api/v1/announcements/{cid}/withdraw"), json!({"reason": "检验数据需复核"})).await;
    assert_eq!(st, StatusCode::OK);
    let (st, page) = anonymous(&srv, &format!("/public/announcements/{cid}")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(page.contains("已撤回") && page.contains("检验数据需复核"));
}

#[tokio::test]
async fn the_testing_institution_submits_its_analysis_and_the_bureau_reads_or_sends_it_back() {
    let (srv, plan) = results_world().await;
    let keeper = srv.api("lab_keeper").await;
    let mine = format!("/api/v1/plans/{plan}/analysis/mine");
    let body = json!({"problems": "硫含量超标1批次", "causes": "进货查验把关不严", "suggestions": "加强进货查验", "submit": true});
    // A blind tester and the bureau do not write it.
    for who in ["lab_t1", "dt_reg"] {
        let (st, b) = srv.api(who).await.put(&mine, body.clone()).await;
        assert_eq!((st, b["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")), "{who}");
    }
    let (st, b) = keeper.put(&mine, json!({"problems": "硫含量超标1批次", "submit": true})).await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("required")), "{b}");
    let (st, b) = keeper.put(&mine, body.clone()).await;
    assert_eq!((st, b["submitted"].as_bool()), (StatusCode::OK, Some(true)), "{b}");
    let (st, b) = keeper.put(&mine, body).await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::CONFLICT, Some("analysis_submitted")));
    let reg = srv.api("dt_reg").await;
    let (st, parts) = reg.get(&format!("/api/v1/plans/{plan}/analysis/parts")).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(parts[0]["causes"], "进货查验把关不严");
    assert_eq!(keeper.get(&format!("/api/v1/plans/{plan}/analysis/parts")).await.0, StatusCode::FORBIDDEN);
    // The pages: the custodian's plan page leads to the form; the bureau's lists the part and sends it back.
    let (_, page) = srv.browser("lab_keeper").await.get(&format!("/plans/{plan}")).await;
    assert!(page.contains("data-testid=\"write-analysis\""), "the custodian finds the form");
    let rb = srv.browser("dt_reg").await;
    let (st, page) = rb.get(&format!("/plans/{plan}/analysis")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(page.contains("进货查验把关不严") && page.contains("data-testid=\"send-back\""));
    let csrf = rb.csrf_of(&format!("/plans/{plan}/analysis")).await;
    let org = parts[0]["org_id"].as_i64().unwrap();
    let r = rb
        .post_form(&format!("/plans/{plan}/analysis/{org}/send-back"), &[("csrf", &csrf), ("reason", "请补充原因调查")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, b) = keeper.get(&mine).await;
    assert_eq!(b["submitted"].as_bool(), Some(false), "sent back: a draft again");
    let (st, _) = srv.browser("lab_t1").await.get(&format!("/plans/{plan}/analysis")).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "a blind tester never opens it");
}

#[tokio::test]
async fn the_bureau_downloads_the_results_and_testers_and_other_bureaus_are_refused() {
    let (srv, plan) = results_world().await;
    let reg = srv.api("dt_reg").await;
    let (st, f) = reg.get(&format!("/api/v1/plans/{plan}/figures")).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!((f["sampled"].as_i64(), f["unqualified"].as_i64(), f["refusals"].as_i64()), (Some(1), Some(1), Some(1)));
    let (st, x) = bytes(&reg, &srv, &format!("/api/v1/plans/{plan}/summary.xlsx")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(x.starts_with(b"PK"));
    let (st, p) = bytes(&reg, &srv, &format!("/api/v1/plans/{plan}/quality-analysis.pdf")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(p.starts_with(b"%PDF"));
    let (st, p) = bytes(&reg, &srv, &format!("/api/v1/plans/{plan}/bound-volume.pdf")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(p.starts_with(b"%PDF"));

    // The pages: the plan page links the results; the results page offers the downloads.
    let browser = srv.browser("dt_reg").await;
    let (st, page) = browser.get(&format!("/plans/{plan}")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(page.contains(&format!("/plans/{plan}/results")));
    let (st, page) = browser.get(&format!("/plans/{plan}/results")).await;
    assert_eq!(st, StatusCode::OK);
    for link in ["summary.xlsx", "quality-analysis.pdf", "bound-volume.pdf"] {
        assert!(page.contains(link), "{link}");
    }

    srv.fx.user("sx_reg", &["regulator"], Some("sx")).await;
    for who in ["lab_t1", "sx_reg"] {
        let api = srv.api(who).await;
        for path in [
            format!("/api/v1/plans/{plan}/announcements"),
            format!("/api/v1/plans/{plan}/figures"),
            format!("/api/v1/plans/{plan}/summary.xlsx"),
            format!("/api/v1/plans/{plan}/quality-analysis.pdf"),
            format!("/api/v1/plans/{plan}/bound-volume.pdf"),
        ] {
            assert_eq!(bytes(&api, &srv, &path).await.0, StatusCode::FORBIDDEN, "{who} {path}");
        }
        let (st, b) = api.post(&format!("/api/v1/plans/{plan}/announcements"), json!({})).await;
        assert_eq!((st, b["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")), "{who}");
        let (st, _) = srv.browser(who).await.get(&format!("/plans/{plan}/results")).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{who}");
    }
}

#[tokio::test]
async fn the_pages_draft_edit_approve_and_publish_an_announcement() {
    let (srv, plan) = results_world().await;
    let reg = srv.browser("dt_reg").await;
    let csrf = reg.csrf_of(&format!("/plans/{plan}/results")).await;
    let r = reg.post_form(&format!("/plans/{plan}/announcements"), &[("csrf", &csrf)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    let id: i64 = to.rsplit('/').next().unwrap().parse().unwrap();
    let (st, page) = reg.get(&to).await;
    assert_eq!(st, StatusCode::OK);
    assert!(page.contains(ENTERPRISE) && page.contains(REFUSING) && page.contains("不予公告原因"));
    // Leave the refusal out, with a reason; the title is edited.
    let key = page.split("name=\"reason:task:").nth(1).unwrap().split('"').next().unwrap().to_string();
    let field = format!("reason:task:{key}");
    let title = "大同市市场监督管理局关于车用柴油抽查结果的公告";
    let bad = [("csrf", csrf.as_str()), ("title", title), ("doc_number", "12号")];
    reg.post_form(&format!("/announcements/{id}"), &bad).await;
    let (_, page) = reg.get(&to).await;
    assert!(page.contains("文号格式应如"), "a malformed 文号 is refused with the format");
    let form = [
        ("csrf", csrf.as_str()),
        ("title", title),
        ("doc_number", "大市监公告〔2025〕12号"),
        ("preface", "现公告如下。"),
        (field.as_str(), "认定文书待补正"),
    ];
    assert_eq!(reg.post_form(&format!("/announcements/{id}"), &form).await.status(), StatusCode::SEE_OTHER);
    let (_, page) = reg.get(&to).await;
    assert!(page.contains("认定文书待补正"));
    assert!(page.contains("data-testid=\"open-windows\"") && page.contains("尚未送达"), "the open window is warned");
    // The drafter's approval is refused with the rule's message; a second regulator approves.
    reg.post_form(&format!("/announcements/{id}/approve"), &[("csrf", &csrf)]).await;
    let (_, page) = reg.get(&to).await;
    assert!(page.contains("草稿") && page.contains("另一名监管人员"), "the refusal is flashed");
    let reg2 = srv.browser("dt_reg2").await;
    let csrf2 = reg2.csrf_of(&to).await;
    assert_eq!(
        reg2.post_form(&format!("/announcements/{id}/approve"), &[("csrf", &csrf2)]).await.status(),
        StatusCode::SEE_OTHER
    );
    // Without the reason the publication is refused with the rule's message; with it, published.
    reg.post_form(&format!("/announcements/{id}/publish"), &[("csrf", &csrf)]).await;
    let (_, page) = reg.get(&to).await;
    assert!(page.contains("异议期尚未结束") && page.contains("已审核"), "refused and flashed");
    assert_eq!(
        reg.post_form(
            &format!("/announcements/{id}/publish"),
            &[("csrf", &csrf), ("reason", "按省局统一部署提前公告")]
        )
        .await
        .status(),
        StatusCode::SEE_OTHER
    );
    let (_, page) = reg.get(&to).await;
    assert!(page.contains("异议期内发布理由") && page.contains("按省局统一部署提前公告"));
    let (st, public) = anonymous(&srv, &format!("/public/announcements/{id}")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(public.contains(title) && public.contains(ENTERPRISE));
    assert!(public.contains("大市监公告〔2025〕12号"), "the 文号 is public");
    assert!(!public.contains(REFUSING), "the refusal was left out");
}
