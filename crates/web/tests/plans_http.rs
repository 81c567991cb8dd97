//! Plans, Annex 1 XLSX, rules, draws and tasks over HTTP.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;

use common::TestServer;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn datong_json() -> Value {
    let it = |n: &str, c: &str, p: &str, q: Option<u32>| json!({"number": n, "category": c, "product": p, "quota": q, "scopes": "生产者、销售者", "sampling_org_code": "lab", "testing_org_code": "lab"});
    json!({
        "plan": {"year": 2025, "title": "2025年车用柴油、家电产品、羊绒衫、羽绒服等质量监督抽查", "organising_org_code": "dt", "deadline_delivery": "2025-11-15"},
        "items": [
            it("1", "机械及安防", "车用柴油", Some(70)),
            it("2", "电子电器", "电冰箱", Some(60)),
            it("3", "电子电器", "家用电动洗衣机", None),
            it("4", "日用及纺织品", "羊绒针织衫", Some(60)),
            it("5", "日用及纺织品", "羽绒服装", None),
        ]
    })
}

/// A public (no sign-in) JSON answer.
async fn public_json(srv: &TestServer, path: &str) -> Value {
    reqwest::Client::new().get(srv.url(path)).send().await.unwrap().json().await.unwrap()
}

async fn setup() -> TestServer {
    let srv = TestServer::start().await;
    srv.fx.user("dt_reg", &["regulator"], Some("dt")).await;
    srv.fx.user("lab_tester", &["tester"], Some("lab")).await;
    srv.fx.user("lab_s1", &["sampler"], Some("lab")).await;
    srv.fx.user("lab_s2", &["sampler"], Some("lab")).await;
    for i in 0..8 {
        srv.fx.enterprise(&format!("大同市平城区示例加油站{i}"), "140213", "销售者、加油站", i + 1).await;
    }
    srv
}

#[tokio::test]
async fn annex1_exports_and_imports_back_to_an_equal_plan() {
    let srv = setup().await;
    let reg = srv.api("dt_reg").await;
    let (status, plan) = reg.post("/api/v1/plans", datong_json()).await;
    assert_eq!(status, StatusCode::CREATED, "{plan}");
    assert_eq!(plan["total_quota"], 190);
    let id = plan["id"].as_i64().unwrap();
    let r = reg
        .client
        .get(srv.url(&format!("/api/v1/plans/{id}/annex1.xlsx")))
        .bearer_auth(&reg.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let bytes = r.bytes().await.unwrap().to_vec();
    let annex = choucha_documents::read_annex1(&bytes, choucha_documents::TableFormat::Xlsx).unwrap().unwrap();
    assert_eq!(annex.rows.len(), 5);
    assert_eq!(annex.total(), 190);
    assert_eq!(annex.rows[2].quota, None, "洗衣机 shares 电冰箱's merged quota cell");

    let form = reqwest::multipart::Form::new()
        .text("year", "2025")
        .text("organising_org_code", "dt")
        .part("file", reqwest::multipart::Part::bytes(bytes).file_name("annex1.xlsx"));
    let r =
        reg.client.post(srv.url("/api/v1/plans/import")).bearer_auth(&reg.token).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let copy: Value = r.json().await.unwrap();
    assert_eq!(copy["total_quota"], 190);
    let strip = |v: &Value| {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["number"].clone(),
                    i["product"].clone(),
                    i["group_quota"].clone(),
                    i["group_first"].clone(),
                    i["scopes_label"].clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&copy), strip(&plan));

    let bad = "序号,产品分类,产品名称,抽查批次,抽查范围\n1,电子电器,电冰箱,六十,生产者\n合计,,,60,\n";
    let form = reqwest::multipart::Form::new()
        .text("year", "2025")
        .part("file", reqwest::multipart::Part::bytes(bad.as_bytes().to_vec()).file_name("a.csv"));
    let r =
        reg.client.post(srv.url("/api/v1/plans/import")).bearer_auth(&reg.token).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["errors"][0]["row"], 2);
    assert_eq!(body["errors"][0]["column"], "抽查批次");
}

#[tokio::test]
async fn draw_over_http_verifies_and_sampling_waits_for_published_rules() {
    let srv = setup().await;
    let reg = srv.api("dt_reg").await;
    let (_, plan) = reg.post("/api/v1/plans", datong_json()).await;
    let id = plan["id"].as_i64().unwrap();
    let diesel = plan["items"][0]["id"].as_i64().unwrap();
    // Not before the plan is issued: the rule code comes back.
    let (status, body) =
        reg.post("/api/v1/draws", json!({"item_id": diesel, "quota": 3, "seed": "公开摇号 2025-10-08"})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["code"], "plan_state");
    assert_eq!(reg.post(&format!("/api/v1/plans/{id}/issue"), json!({})).await.0, StatusCode::OK);
    let (_, preview) = reg.get(&format!("/api/v1/items/{diesel}/draw-preview")).await;
    assert_eq!(preview["candidate_count"], 8);
    let (status, draw) =
        reg.post("/api/v1/draws", json!({"item_id": diesel, "quota": 3, "seed": "公开摇号 2025-10-08"})).await;
    assert_eq!(status, StatusCode::CREATED, "{draw}");
    assert_eq!(draw["drawn"].as_array().unwrap().len(), 3);
    let draw_id = draw["id"].as_i64().unwrap();
    let (_, v) = reg.post(&format!("/api/v1/draws/{draw_id}/verify"), json!({})).await;
    assert_eq!(v["verified"], true);

    // The public sees nothing until the draw is published; then sees it and can verify it.
    let anon = reqwest::Client::new();
    for path in [
        format!("/api/v1/public/draws/{draw_id}"),
        format!("/api/v1/public/draws/{draw_id}/record"),
        format!("/public/draws/{draw_id}/record.json"),
        format!("/public/draws/{draw_id}/candidates.csv"),
    ] {
        assert_eq!(anon.get(srv.url(&path)).send().await.unwrap().status(), StatusCode::NOT_FOUND, "{path}");
    }
    reg.post(&format!("/api/v1/draws/{draw_id}/publish"), json!({})).await;
    // Its whole record, for a re-run without Choucha: the candidates in order, the pool under
    // public identifiers (never a username), the result.
    let record: Value = public_json(&srv, &format!("/public/draws/{draw_id}/record.json")).await;
    assert_eq!(record["format"], "choucha-draw-record-v1");
    assert_eq!(record["candidates"].as_array().unwrap().len(), 8);
    assert_eq!(record["candidate_hash"], draw["candidate_hash"]);
    let usccs: Vec<&str> =
        record["candidates"].as_array().unwrap().iter().map(|c| c["uscc"].as_str().unwrap()).collect();
    assert!(usccs.windows(2).all(|w| w[0] < w[1]), "canonical order");
    let pool = serde_json::to_string(&record["samplers"]).unwrap();
    assert!(pool.contains("\"S01\"") && !pool.contains("lab_s"), "{pool}");
    assert_eq!(record["result"].as_array().unwrap().len(), 3);
    let api = public_json(&srv, &format!("/api/v1/public/draws/{draw_id}/record")).await;
    assert_eq!(api, record);
    let csv = anon.get(srv.url(&format!("/public/draws/{draw_id}/candidates.csv"))).send().await.unwrap();
    assert_eq!(csv.status(), StatusCode::OK);
    let csv = csv.text().await.unwrap();
    assert!(csv.starts_with("\u{feff}序号,统一社会信用代码,行政区划代码"), "{csv}");
    assert_eq!(csv.lines().count(), 9);
    let script = anon.get(srv.url("/public/draw-reference.py")).send().await.unwrap().text().await.unwrap();
    assert!(script.contains("def run(") && script.contains("class ChaCha20"), "the reference implementation is served");
    assert_eq!(
        anon.get(srv.url(&format!("/public/draws/{draw_id}/passwords.csv"))).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let public = public_json(&srv, &format!("/api/v1/public/draws/{draw_id}")).await;
    assert_eq!(public["drawn"].as_array().unwrap().len(), 3);
    let pv: Value = anon
        .post(srv.url(&format!("/api/v1/public/draws/{draw_id}/verify")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(pv["verified"], true);

    // A sampler sees the task; starting it is refused with rule 3 until the rules are published.
    let s1 = srv.api("lab_s1").await;
    let (_, tasks) = s1.get("/api/v1/tasks").await;
    let task = tasks["items"][0]["id"].as_i64().expect("lab_s1 is on a team (2 samplers, teams of 2)");
    let (status, body) = s1.post(&format!("/api/v1/tasks/{task}/start"), json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["code"], "rule3_rules_unpublished");

    let tester = srv.api("lab_tester").await;
    let rules = json!({
        "standards": ["GB 19147-2016"],
        "test_items": [{"name": "硫含量", "method": "SH/T 0689", "limit": {"kind": "max", "max": 10.0, "inclusive": true}, "unit": "mg/kg"}],
        "test_portion": "1L×2", "backup_portion": "1L×2", "judgement_principle": "全部符合为合格"
    });
    let (status, r) = tester.post(&format!("/api/v1/items/{diesel}/rules"), rules).await;
    assert_eq!(status, StatusCode::CREATED, "{r}");
    let rid = r["id"].as_i64().unwrap();
    // The tester cannot publish.
    let (status, body) = tester.post(&format!("/api/v1/rules/{rid}/steps"), json!({"action": "publish"})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["code"], "rule3_wrong_party");
    tester.post(&format!("/api/v1/rules/{rid}/steps"), json!({"action": "submit"})).await;
    reg.post(&format!("/api/v1/rules/{rid}/steps"), json!({"action": "approve"})).await;
    let (status, _) = reg.post(&format!("/api/v1/rules/{rid}/steps"), json!({"action": "publish"})).await;
    assert_eq!(status, StatusCode::OK);
    let public = public_json(&srv, &format!("/api/v1/public/items/{diesel}/rules")).await;
    assert_eq!(public["body"]["test_items"][0]["name"], "硫含量");
    let (status, t) = s1.post(&format!("/api/v1/tasks/{task}/start"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{t}");
    assert_eq!(t["state"], "in_progress");
}

#[tokio::test]
async fn plans_refuse_the_wrong_people() {
    let srv = setup().await;
    let tester = srv.api("lab_tester").await;
    let (status, body) = tester.post("/api/v1/plans", datong_json()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["code"], "forbidden");
    let reg = srv.api("dt_reg").await;
    let mut bad = datong_json();
    bad["items"][0]["quota"] = json!(0);
    let (status, body) = reg.post("/api/v1/plans", bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["code"], "invalid_quota");
    // A draft is invisible to the public and to institutions.
    let (_, plan) = reg.post("/api/v1/plans", datong_json()).await;
    let id = plan["id"].as_i64().unwrap();
    assert_eq!(
        reqwest::get(srv.url(&format!("/api/v1/public/plans/{id}"))).await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(tester.get(&format!("/api/v1/plans/{id}")).await.0, StatusCode::NOT_FOUND);
    reg.post(&format!("/api/v1/plans/{id}/issue"), json!({})).await;
    assert_eq!(reqwest::get(srv.url(&format!("/api/v1/public/plans/{id}"))).await.unwrap().status(), StatusCode::OK);
    assert_eq!(tester.get(&format!("/api/v1/plans/{id}")).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_draft_plan_is_deleted_over_http_and_on_its_page_until_issued() {
    let srv = setup().await;
    let reg = srv.api("dt_reg").await;
    let tester = srv.api("lab_tester").await;
    let (_, plan) = reg.post("/api/v1/plans", datong_json()).await;
    let id = plan["id"].as_i64().unwrap();
    let (status, _) = tester.send(reqwest::Method::DELETE, &format!("/api/v1/plans/{id}"), Value::Null).await;
    assert!(status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND, "{status}");
    let (status, _) = reg.send(reqwest::Method::DELETE, &format!("/api/v1/plans/{id}"), Value::Null).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(reg.get(&format!("/api/v1/plans/{id}")).await.0, StatusCode::NOT_FOUND);

    // On the page: the button on a draft, with a confirmation; gone once issued.
    let (_, plan) = reg.post("/api/v1/plans", datong_json()).await;
    let id = plan["id"].as_i64().unwrap();
    let b = srv.browser("dt_reg").await;
    let (_, html) = b.get(&format!("/plans/{id}")).await;
    assert!(html.contains("data-testid=\"delete-plan\" data-confirm="), "{html}");
    let csrf = b.csrf_of(&format!("/plans/{id}")).await;
    let r = b.post_form(&format!("/plans/{id}/delete"), &[("csrf", &csrf)]).await;
    assert_eq!(r.headers()["location"], "/plans");
    let (_, list) = b.get("/plans").await;
    assert!(list.contains("已删除该计划草稿"), "the flash says so");
    let (_, plan) = reg.post("/api/v1/plans", datong_json()).await;
    let id = plan["id"].as_i64().unwrap();
    reg.post(&format!("/api/v1/plans/{id}/issue"), json!({})).await;
    let (_, html) = b.get(&format!("/plans/{id}")).await;
    assert!(!html.contains("delete-plan"));
    let (status, body) = reg.send(reqwest::Method::DELETE, &format!("/api/v1/plans/{id}"), Value::Null).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::CONFLICT, Some("plan_state")));
}

/// A seed committed before the draw over HTTP: only its hash is public, a typed seed is refused,
/// the draw uses it and its public record names the commitment; the public reads every commitment.
#[tokio::test]
async fn a_committed_seed_over_http() {
    let srv = setup().await;
    let reg = srv.api("dt_reg").await;
    let (_, plan) = reg.post("/api/v1/plans", datong_json()).await;
    let id = plan["id"].as_i64().unwrap();
    let diesel = plan["items"][0]["id"].as_i64().unwrap();
    assert_eq!(reg.post(&format!("/api/v1/plans/{id}/issue"), json!({})).await.0, StatusCode::OK);
    let tester = srv.api("lab_tester").await;
    let (status, body) = tester.post(&format!("/api/v1/items/{diesel}/seed-commitment"), json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, c) = reg.post(&format!("/api/v1/items/{diesel}/seed-commitment"), json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{c}");
    assert!(c.get("seed").is_none());
    let (status, body) = reg.post(&format!("/api/v1/items/{diesel}/seed-commitment"), json!({})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::CONFLICT, Some("draw_seed_committed")));
    let (_, open) = reg.get(&format!("/api/v1/items/{diesel}/seed-commitment")).await;
    assert_eq!(open["seed_sha256"], c["seed_sha256"]);
    let anon = reqwest::Client::new();
    let public = public_json(&srv, &format!("/api/v1/public/plans/{id}/seed-commitments")).await;
    assert_eq!(public[0]["seed_sha256"], c["seed_sha256"]);
    let (status, body) = reg.post("/api/v1/draws", json!({"item_id": diesel, "quota": 2, "seed": "我选的种子"})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("draw_seed_committed")));
    let (status, draw) = reg.post("/api/v1/draws", json!({"item_id": diesel, "quota": 2})).await;
    assert_eq!(status, StatusCode::CREATED, "{draw}");
    let draw_id = draw["id"].as_i64().unwrap();
    reg.post(&format!("/api/v1/draws/{draw_id}/publish"), json!({})).await;
    let record = public_json(&srv, &format!("/api/v1/public/draws/{draw_id}/record")).await;
    assert_eq!(record["seed_commitment"]["seed_sha256"], c["seed_sha256"]);
    let seed = record["seed"].as_str().unwrap();
    assert_eq!(choucha_service::draws::seed_sha256(seed), c["seed_sha256"].as_str().unwrap());
    let html = anon.get(srv.url(&format!("/public/plans/{id}"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(c["seed_sha256"].as_str().unwrap()) && html.contains("已用于抽取"), "{html}");
}

/// A risk-weighted draw over HTTP (issue 18, part 4): the weights are checked, the draw names its
/// algorithm and each drawn enterprise's class, and the public record and candidate list carry the
/// weights and classes a third party needs to re-run it.
#[tokio::test]
async fn a_risk_weighted_draw_over_http() {
    let srv = setup().await;
    let reg = srv.api("dt_reg").await;
    let (_, plan) = reg.post("/api/v1/plans", datong_json()).await;
    let id = plan["id"].as_i64().unwrap();
    let diesel = plan["items"][0]["id"].as_i64().unwrap();
    assert_eq!(reg.post(&format!("/api/v1/plans/{id}/issue"), json!({})).await.0, StatusCode::OK);
    for (weights, what) in
        [(json!({"D": 5000}), "a weight above 1000"), (json!({"A": 0, "B": 0, "C": 0, "D": 0}), "every weight 0")]
    {
        let (status, body) = reg
            .post("/api/v1/draws", json!({"item_id": diesel, "quota": 2, "seed": "x", "risk_weights": weights}))
            .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("draw_risk_weight")),
            "{what}: {body}"
        );
    }
    let (status, body) =
        reg.post("/api/v1/draws", json!({"item_id": diesel, "quota": 2, "seed": "x", "risk_weights": {"E": 1}})).await;
    assert!(status.is_client_error() && body["message"].is_string(), "an unknown class: {status} {body}");
    let tester = srv.api("lab_tester").await;
    let (status, _) = tester
        .post("/api/v1/draws", json!({"item_id": diesel, "quota": 2, "seed": "x", "risk_weights": {"B": 1}}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let weights = json!({"A": 1, "B": 2, "C": 10, "D": 30});
    let (status, draw) = reg
        .post("/api/v1/draws", json!({"item_id": diesel, "quota": 3, "seed": "风险加权 2026", "risk_weights": weights}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{draw}");
    assert_eq!(draw["algorithm"], "choucha-draw-risk-v1");
    assert_eq!(draw["risk_weights"], weights);
    // No history, no licence, no size: every fixture seller is of the general class.
    assert_eq!(draw["risk_classes"]["B"], 8, "{draw}");
    assert!(draw["drawn"].as_array().unwrap().iter().all(|d| d["risk_class"] == "B"), "{draw}");
    let draw_id = draw["id"].as_i64().unwrap();
    let (_, v) = reg.post(&format!("/api/v1/draws/{draw_id}/verify"), json!({})).await;
    assert_eq!(v["verified"], true, "{v}");
    reg.post(&format!("/api/v1/draws/{draw_id}/publish"), json!({})).await;
    let record = public_json(&srv, &format!("/api/v1/public/draws/{draw_id}/record")).await;
    assert_eq!(record["risk_weights"], weights);
    assert!(record["candidates"].as_array().unwrap().iter().all(|c| c["risk_class"] == "B"), "{record}");
    let csv =
        reqwest::get(srv.url(&format!("/public/draws/{draw_id}/candidates.csv"))).await.unwrap().text().await.unwrap();
    assert!(csv.lines().next().unwrap().ends_with("风险等级"), "{csv}");
    assert!(csv.lines().skip(1).all(|l| l.ends_with(",B")), "{csv}");
    let html = reqwest::get(srv.url(&format!("/public/draws/{draw_id}"))).await.unwrap().text().await.unwrap();
    assert!(html.contains("风险等级权重") && html.contains("高风险（D类） 30"), "{html}");
}
