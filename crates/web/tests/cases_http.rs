//! Post-processing cases over HTTP (rule 20): a case run by the local bureau through the API and
//! the pages, the enterprise's rectification report, and who may choose the rule set of time limits.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;

use choucha_service::fixtures::lab_world::{ENTERPRISE, issued, world};
use common::{TestServer, png, send_form};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_case_is_run_by_the_local_bureau_and_the_enterprise_uploads_its_rectification_report() {
    let w = world().await;
    w.fx.user("pc_reg", &["local_regulator"], Some("dt-pc")).await;
    let s = &w.fx.services;
    choucha_service::fixtures::Fixture::make_user(
        s,
        "ent_user",
        "王站长",
        &["enterprise"],
        None,
        Some(w.uscc.as_str()),
    )
    .await;
    let other = w.fx.enterprise("大同市平城区另一加油站", "140213", "销售者、加油站", 9).await;
    choucha_service::fixtures::Fixture::make_user(
        s,
        "ent_other",
        "李经理",
        &["enterprise"],
        None,
        Some(other.uscc.as_str()),
    )
    .await;
    issued(&w, 12.5).await;
    let srv = TestServer::start_with(w.fx).await;

    let county = srv.api("pc_reg").await;
    let (st, list) = county.get("/api/v1/cases").await;
    assert_eq!(st, StatusCode::OK, "{list}");
    let c = list["items"][0].clone();
    assert_eq!(c["bureau_name"], "大同市平城区市场监督管理局");
    assert!(c["rule_set"].as_str().unwrap().contains("2019"));
    let id = c["id"].as_i64().unwrap();
    let (st, b) = srv.api("lab_t1").await.get("/api/v1/cases").await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")));
    let (st, _) = srv.api("lab_t1").await.get(&format!("/api/v1/cases/{id}")).await;
    assert_eq!(st, StatusCode::FORBIDDEN);

    let (st, b) = county.post(&format!("/api/v1/cases/{id}/steps"), json!({"action": "correction_order"})).await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::CONFLICT, Some("rule20_stop_first")), "{b}");
    let (st, b) =
        srv.api("dt_reg").await.post(&format!("/api/v1/cases/{id}/steps"), json!({"action": "stop_order"})).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{b}");
    assert_eq!(
        county.post(&format!("/api/v1/cases/{id}/steps"), json!({"action": "stop_order"})).await.0,
        StatusCode::OK
    );
    let (st, b) = county
        .post(
            &format!("/api/v1/cases/{id}/steps"),
            json!({"action": "correction_order", "note": "平市监责改〔2025〕1号"}),
        )
        .await;
    assert_eq!((st, b["case"]["state"].as_str()), (StatusCode::OK, Some("correction_ordered")), "{b}");

    let owner = srv.api("ent_user").await;
    let stranger = srv.api("ent_other").await;
    let (_, mine) = owner.get("/api/v1/my/cases").await;
    assert_eq!(mine.as_array().unwrap().len(), 1, "{mine}");
    assert_eq!(stranger.get("/api/v1/my/cases").await.1, json!([]));
    let upload = json!({"note": "已整改", "document": {"file_name": "report.pdf", "content_type": "application/pdf", "data_base64": "JVBERi0xLjQK"}});
    let (st, _) = stranger.post(&format!("/api/v1/my/cases/{id}/rectification"), upload).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // The enterprise's portal form (multipart, the report as a file).
    let b = srv.browser("ent_user").await;
    let (_, page) = b.get("/my/cases").await;
    assert!(page.contains("提交整改报告"), "{page}");
    let to =
        send_form(&b, "/my/cases", &format!("/my/cases/{id}/rectification"), &[("note", "已整改")], Some(&png())).await;
    assert_eq!(to, "/my/cases");
    let (_, b) = owner.get(&format!("/api/v1/cases/{id}")).await;
    assert_eq!(b["case"]["state"], "report_submitted", "{b}");
    let step = b["steps"].as_array().unwrap().last().unwrap()["id"].as_i64().unwrap();
    let r = owner
        .client
        .get(srv.url(&format!("/api/v1/cases/{id}/steps/{step}/document")))
        .bearer_auth(&owner.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    // The pages: the enterprise's portal, the bureau's case with its steps; testers have neither.
    let (st, page) = srv.browser("ent_user").await.get("/my/cases").await;
    assert_eq!(st, StatusCode::OK);
    assert!(page.contains("车用柴油") && page.contains("已提交整改报告"), "{page}");
    let (_, page) = srv.browser("ent_other").await.get("/my/cases").await;
    assert!(page.contains("暂无后处理案件"), "{page}");
    let (st, page) = srv.browser("pc_reg").await.get(&format!("/cases/{id}")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(page.contains("责令整改") && page.contains("平市监责改") && page.contains("复查不合格"), "{page}");
    let (_, page) = srv.browser("pc_reg").await.get("/cases").await;
    assert!(page.contains(ENTERPRISE), "{page}");
    let (_, page) = srv.browser("pc_reg").await.get("/inbox").await;
    assert!(page.contains(&format!("/cases/{id}")) && page.contains("后处理"), "{page}");
    for path in ["/cases".to_string(), format!("/cases/{id}"), "/my/cases".to_string()] {
        let (st, page) = srv.browser("lab_t1").await.get(&path).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{path}");
        assert!(!page.contains(ENTERPRISE));
    }

    // Rule sets: bureaus read them, admins add versions; the plan's overdue work for its bureau.
    let reg = srv.api("dt_reg").await;
    let (_, sets) = reg.get("/api/v1/case-rule-sets").await;
    assert_eq!(sets["sets"].as_array().unwrap().len(), 2, "{sets}");
    let new_set = json!({"name": "山西省后处理规定", "limits": {"rectify_within": {"unit": "calendar_days", "days": 45},
        "second_follow_up_check_after": {"unit": "calendar_days", "days": 60}, "second_follow_up_check_within": {"unit": "calendar_days", "days": 90}}});
    assert_eq!(reg.post("/api/v1/case-rule-sets", new_set.clone()).await.0, StatusCode::FORBIDDEN);
    let (st, b) = srv.api("admin").await.post("/api/v1/case-rule-sets", new_set).await;
    assert_eq!((st, b["version"].as_i64()), (StatusCode::CREATED, Some(1)), "{b}");
    let (st, page) = srv.browser("admin").await.get("/admin/followup-rules").await;
    assert_eq!(st, StatusCode::OK);
    assert!(page.contains("山西省后处理规定") && page.contains("2015"), "{page}");
    let plan = c["plan_id"].as_i64().unwrap();
    let (st, work) = reg.get(&format!("/api/v1/plans/{plan}/followup-overdue")).await;
    assert_eq!((st, work), (StatusCode::OK, json!([])));
    srv.fx.services.shift_today(76);
    let (_, work) = reg.get(&format!("/api/v1/plans/{plan}/followup-overdue")).await;
    assert_eq!(work[0]["owed_by"], "大同市平城区市场监督管理局", "{work}");
    let (_, over) = county.get("/api/v1/cases?filter=overdue").await;
    assert_eq!(over["items"].as_array().unwrap().len(), 1, "{over}");
    let (_, home) = srv.browser("pc_reg").await.get("/").await;
    assert!(home.contains("逾期未办 1"), "{home}");
    // The 复查 through the bureau's page form closes the case.
    let b = srv.browser("pc_reg").await;
    let to = send_form(
        &b,
        &format!("/cases/{id}"),
        &format!("/cases/{id}/steps"),
        &[("action", "follow_up_check_passed")],
        None,
    )
    .await;
    let (_, page) = b.get(&to).await;
    assert!(page.contains("复查检验报告编号"), "{page}");
    let fields = [("action", "follow_up_check_passed"), ("report_no", "FC-2025-009"), ("happened_on", "")];
    send_form(&b, &format!("/cases/{id}"), &format!("/cases/{id}/steps"), &fields, None).await;
    let (_, c) = county.get(&format!("/api/v1/cases/{id}")).await;
    assert_eq!(c["case"]["state"], "closed", "{c}");
}

#[tokio::test]
async fn the_county_bureau_cannot_move_its_enterprises_onto_another_rule_set_over_http() {
    let w = world().await;
    let srv = TestServer::start_with(w.fx).await;
    srv.fx.user("pc_reg", &["local_regulator"], Some("dt-pc")).await;
    srv.fx.user("sx_reg", &["regulator"], Some("sx")).await;
    let county = srv.api("pc_reg").await;
    let (_, sets) = county.get("/api/v1/case-rule-sets").await;
    let r2015 = sets["sets"].as_array().unwrap().iter().find(|x| x["name"].as_str().unwrap().contains("2015")).unwrap()
        ["id"]
        .as_i64()
        .unwrap();
    let (st, b) = county.put("/api/v1/case-rule-selections/140213", json!({"rule_set_id": r2015})).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{b}");
    assert_eq!(b["code"], "forbidden");
    assert!(b["message"].as_str().unwrap().contains("省级"), "{b}");
    let (_, after) = county.get("/api/v1/case-rule-sets").await;
    assert_eq!(after, sets, "nothing written");
    let (st, b) =
        srv.api("sx_reg").await.put("/api/v1/case-rule-selections/140213", json!({"rule_set_id": r2015})).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert!(b["selections"].to_string().contains("140213"), "{b}");
}

#[tokio::test]
async fn the_local_bureau_orders_a_follow_up_check_as_a_sampling_task_over_http() {
    let w = world().await;
    w.fx.user("pc_reg", &["local_regulator"], Some("dt-pc")).await;
    choucha_service::fixtures::lab_world::enterprise_user(&w).await;
    issued(&w, 12.5).await;
    let srv = TestServer::start_with(w.fx).await;
    let county = srv.api("pc_reg").await;
    let (_, list) = county.get("/api/v1/cases").await;
    let id = list["items"][0]["id"].as_i64().unwrap();
    let path = format!("/api/v1/cases/{id}/follow-up-checks");

    // Not before the correction order.
    let (st, b) = county.post(&path, json!({"team": [1, 2]})).await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::CONFLICT, Some("rule20_order_first")), "{b}");
    for step in ["stop_order", "correction_order"] {
        let (st, b) = county.post(&format!("/api/v1/cases/{id}/steps"), json!({"action": step})).await;
        assert_eq!(st, StatusCode::OK, "{b}");
    }
    let (_, d) = county.get(&format!("/api/v1/cases/{id}")).await;
    assert_eq!(d["may_order_follow_up"], true, "{d}");
    let team: Vec<i64> =
        d["follow_up_samplers"].as_array().unwrap().iter().map(|u| u["id"].as_i64().unwrap()).collect();
    assert_eq!(team.len(), 2, "the item's samplers: {d}");

    // The organising bureau and the enterprise may not order it; one sampler is not a team.
    let (st, b) = srv.api("dt_reg").await.post(&path, json!({"team": team})).await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")), "{b}");
    let (st, _) = srv.api("ent_user").await.post(&path, json!({"team": team})).await;
    assert!(st == StatusCode::FORBIDDEN || st == StatusCode::NOT_FOUND, "{st}");
    let (st, b) = county.post(&path, json!({"team": [team[0]]})).await;
    assert_eq!((st, b["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("team")), "{b}");

    let (st, d) = county.post(&path, json!({"team": team})).await;
    assert_eq!(st, StatusCode::OK, "{d}");
    let task = d["follow_ups"][0]["task_id"].as_i64().unwrap();
    assert_eq!((d["follow_ups"][0]["open"].as_bool(), d["may_order_follow_up"].as_bool()), (Some(true), Some(false)));
    let (st, b) = county.post(&path, json!({"team": team})).await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::CONFLICT, Some("rule20_follow_up_open")), "{b}");

    // The case page shows the task and its state; the sampler's task names its case.
    let (_, page) = srv.browser("pc_reg").await.get(&format!("/cases/{id}")).await;
    assert!(page.contains("复查抽样") && page.contains("待抽样") && page.contains("待出具报告"), "{page}");
    let (_, page) = srv.browser("lab_s1").await.get(&format!("/tasks/{task}")).await;
    assert!(page.contains(&format!("复查：后处理案件{id}")) && page.contains(ENTERPRISE), "{page}");
    let (_, t) = srv.api("lab_s1").await.get(&format!("/api/v1/tasks/{task}")).await;
    assert_eq!(t["follow_up_of_case"].as_i64(), Some(id), "{t}");

    // The 复查 sample is bought like any other (the notices pay the 复查 from the budget, nothing is
    // charged to the enterprise): a zero price is refused by rule 8, the price paid is recorded.
    let s1 = srv.api("lab_s1").await;
    assert_eq!(s1.post(&format!("/api/v1/tasks/{task}/start"), json!({})).await.0, StatusCode::OK);
    let record = |price: f64| {
        json!({"product_name": "车用柴油", "brand": "中国石化", "model": "0号", "sampling_base": 12000.0, "test_quantity": 2.0,
               "backup_quantity": 2.0, "unit": "L", "unit_price": price, "place": "3号枪", "domain": "circulation",
               "sampled_at": "2025-12-01 09:30", "test_seals": ["SXGH-000223"], "backup_seals": ["SXGH-000224"]})
    };
    let (st, b) = s1.put(&format!("/api/v1/tasks/{task}/record"), record(0.0)).await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("rule8_price")), "{b}");
    let (st, r) = s1.put(&format!("/api/v1/tasks/{task}/record"), record(7.35)).await;
    assert_eq!((st, r["total_paid_yuan"].as_str()), (StatusCode::OK, Some("14.70")), "{r}");
}
