//! Custody signed by both hands (issue 18) over HTTP: the sampler's dispatch with the courier's
//! signature and the temperature, the custodian's receipt confirming it, custodian → tester and
//! back confirmed by the assigned tester only, a witnessed disposal; refusals for every other
//! party; the chain as holdings with its gaps, never shown to a blind tester.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;

use common::TestServer;
use reqwest::StatusCode;
use serde_json::{Value, json};

include!("common/lab_world.rs");

fn receipt() -> Value {
    json!({"delivered_by": "李快递", "carrier": "EMS", "tracking_no": "EA123456789CN",
           "observed": {"test_seals": ["SXGH-000123"], "backup_seals": ["SXGH-000124"], "test_quantity": 2.0, "backup_quantity": 2.0,
                        "seals_intact": true, "labels_match": true, "appearance": "完好"},
           "decision": "accept", "reason": "", "backup_location": "样品库A区",
           "photos": [{"file_name": "seals.png", "content_type": "image/png", "data_base64": PNG}]})
}

fn portion<'a>(chain: &'a Value, p: &str) -> &'a Value {
    chain["portions"].as_array().unwrap().iter().find(|x| x["portion"] == p).unwrap()
}

fn hand_over_id(chain: &Value, kind: &str) -> i64 {
    chain["portions"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["hand_overs"].as_array().unwrap().iter())
        .filter(|h| h["kind"] == kind)
        .map(|h| h["id"].as_i64().unwrap())
        .max()
        .unwrap()
}

fn flag_codes(p: &Value) -> Vec<String> {
    p["flags"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn every_hand_over_carries_both_hands_and_only_the_other_party_confirms() {
    let srv = TestServer::start().await;
    let (task, uscc) = signed_task(&srv).await;
    srv.enterprise_user("ent_user", &uscc).await;
    let lab2 = choucha_service::organisations::OrgInput {
        code: "lab2".into(),
        name: "山西省产品质量监督检验研究院".into(),
        kind: "institution".into(),
        active: true,
        cap_testing: true,
        qualification_no: Some("CMA 200000000002".into()),
        ..Default::default()
    };
    choucha_service::organisations::create_as_system(&srv.fx.services, "test", lab2).await.unwrap();
    srv.fx.user("lab2_t", &["tester"], Some("lab2")).await;
    srv.fx.user("lab2_keeper", &["sample_custodian"], Some("lab2")).await;
    srv.fx.user("lab_keeper2", &["sample_custodian"], Some("lab")).await;
    let s1 = srv.api("lab_s1").await;
    let keeper = srv.api("lab_keeper").await;
    let tester = srv.api("lab_t1").await;
    let others = [
        ("lab_s1", srv.api("lab_s1").await),
        ("lab_s2", srv.api("lab_s2").await),
        ("lab_a1", srv.api("lab_a1").await),
        ("dt_reg", srv.api("dt_reg").await),
        ("lab2_t", srv.api("lab2_t").await),
        ("lab2_keeper", srv.api("lab2_keeper").await),
        ("ent_user", srv.api("ent_user").await),
    ];
    let chain_url = format!("/api/v1/tasks/{task}/custody/chain");

    // Sampler → courier: a temperature out of range is refused; the courier signs on the phone.
    let mut d = json!({"mode": "shipped", "carrier": "EMS", "tracking_no": "EA123456789CN",
                       "courier_name": "李快递", "courier_signature_png_base64": PNG, "temperature_c": 61});
    let (st, b) = s1.post(&format!("/api/v1/tasks/{task}/dispatch"), d.clone()).await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_temperature")), "{b}");
    assert!(common::is_chinese(b["message"].as_str().unwrap()));
    d["temperature_c"] = json!(4.5);
    let (st, b) = s1.post(&format!("/api/v1/tasks/{task}/dispatch"), d).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let (st, chain) = keeper.get(&chain_url).await;
    assert_eq!(st, StatusCode::OK, "{chain}");
    let test = portion(&chain, "test");
    assert!(flag_codes(test).contains(&"unconfirmed".into()) && flag_codes(test).contains(&"no_holder".into()));
    let dispatch = hand_over_id(&chain, "dispatched");
    for (who, a) in others.iter().chain([("lab_t1", srv.api("lab_t1").await)].iter()) {
        let (st, b) = a.post(&format!("/api/v1/custody/{dispatch}/confirm"), json!({})).await;
        assert!(matches!(st, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND), "{who}: {st} {b}");
    }
    // Courier → custodian: the receipt is the custodian's hand.
    let (st, out) = keeper.post(&format!("/api/v1/lab/incoming/{task}/receipt"), receipt()).await;
    assert_eq!(st, StatusCode::OK, "{out}");
    let (sample, code) = (out["sample_id"].as_i64().unwrap(), out["blind_code"].as_str().unwrap().to_string());
    let (_, chain) = keeper.get(&chain_url).await;
    assert_eq!(chain["gaps"], 0, "{chain}");
    for p in chain["portions"].as_array().unwrap() {
        let d = p["hand_overs"].as_array().unwrap().iter().find(|h| h["kind"] == "dispatched").unwrap();
        assert_eq!(d["confirmation"]["confirmed_name"], "lab_keeper", "{d}");
        assert_eq!(d["temperature_c"], 4.5);
    }
    let (st, b) = keeper.post(&format!("/api/v1/custody/{dispatch}/confirm"), json!({})).await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::CONFLICT, Some("already_confirmed")));

    // Custodian → tester, confirmed by the assigned tester only.
    let (st, b) = keeper
        .post(&format!("/api/v1/lab/received/{sample}/tester"), json!({"tester_id": tester_id(&srv).await}))
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{b}");
    let movement =
        |kind: &str, t: Value| json!({"portion": "test", "kind": kind, "seal_state": "intact", "temperature_c": t});
    let (st, b) =
        keeper.post(&format!("/api/v1/lab/received/{sample}/custody"), movement("to_testing", json!(-81))).await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_temperature")));
    let (st, _) =
        keeper.post(&format!("/api/v1/lab/received/{sample}/custody"), movement("to_testing", json!(-18))).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (_, chain) = keeper.get(&chain_url).await;
    let to_testing = hand_over_id(&chain, "to_testing");
    for (who, a) in others.iter().chain([("lab_keeper", srv.api("lab_keeper").await)].iter()) {
        let (st, b) = a.post(&format!("/api/v1/custody/{to_testing}/confirm"), json!({})).await;
        assert!(matches!(st, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND), "{who}: {st} {b}");
        assert!(common::is_chinese(b["message"].as_str().unwrap()));
    }
    // The tester finds it by blind code — nothing names the enterprise — and confirms, once.
    let (st, mine) = tester.get(&format!("/api/v1/lab/samples/{code}/hand-overs")).await;
    assert_eq!(st, StatusCode::OK, "{mine}");
    let text = mine.to_string();
    assert!(!text.contains(ENTERPRISE) && !text.contains(&uscc), "{text}");
    assert!(mine.as_array().unwrap().iter().any(|h| h["id"] == to_testing && h["confirmation"].is_null()));
    let (st, b) = tester
        .post(&format!("/api/v1/custody/{to_testing}/confirm"), json!({"note": "已领取", "image_png_base64": PNG}))
        .await;
    assert_eq!((st, b["confirmation"]["signed"].as_bool()), (StatusCode::OK, Some(true)), "{b}");
    assert!(!b.to_string().contains(ENTERPRISE));
    let (st, b) = tester.post(&format!("/api/v1/custody/{to_testing}/confirm"), json!({})).await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::CONFLICT, Some("already_confirmed")));
    let (st, _) = tester.get(&chain_url).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "the blind tester never reads the chain");

    // Tester → custodian, the tester confirming with a drawn signature.
    let (st, _) =
        keeper.post(&format!("/api/v1/lab/received/{sample}/custody"), movement("returned", Value::Null)).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (_, chain) = keeper.get(&chain_url).await;
    let returned = hand_over_id(&chain, "returned");
    let (st, b) = srv.api("lab_s1").await.post(&format!("/api/v1/custody/{returned}/confirm"), json!({})).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{b}");
    // … on the sample's page, which names no enterprise.
    let page = srv.browser("lab_t1").await;
    let href = format!("/lab/samples/{code}");
    let (st, html) = page.get(&href).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("confirm-hand-over") && !html.contains(ENTERPRISE) && !html.contains(&uscc));
    let csrf = page.csrf_of(&href).await;
    let r =
        page.post_form(&format!("/lab/samples/{code}/hand-overs/{returned}/confirm"), &[("csrf", csrf.as_str())]).await;
    assert!(r.status().is_success() || r.status().is_redirection(), "{}", r.status());
    let (_, mine) = tester.get(&format!("/api/v1/lab/samples/{code}/hand-overs")).await;
    let back = mine.as_array().unwrap().iter().find(|h| h["id"] == returned).unwrap();
    assert_eq!(back["confirmation"]["in_app"], true, "{back}");

    // Custodian → disposal: a second custodian witnesses in the app; the writer may not.
    let (st, _) =
        keeper.post(&format!("/api/v1/lab/received/{sample}/custody"), movement("disposed", Value::Null)).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (_, chain) = keeper.get(&chain_url).await;
    let disposed = hand_over_id(&chain, "disposed");
    let (st, _) = keeper.post(&format!("/api/v1/custody/{disposed}/confirm"), json!({})).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, b) = srv.api("lab_keeper2").await.post(&format!("/api/v1/custody/{disposed}/confirm"), json!({})).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    // A received event is no hand-over to confirm.
    let (_, events) = keeper.get(&format!("/api/v1/tasks/{task}/custody")).await;
    let received = events.as_array().unwrap().iter().find(|e| e["kind"] == "received").unwrap()["id"].as_i64().unwrap();
    let (st, b) = keeper.post(&format!("/api/v1/custody/{received}/confirm"), json!({})).await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::CONFLICT, Some("not_a_handover")));

    // On the custodian's own page: the backup portion disposed before a witness who signs on the
    // custodian's phone. A temperature that is no number, or the tester posting the form, writes nothing.
    let disposals = |chain: &Value| {
        portion(chain, "backup")["hand_overs"].as_array().unwrap().iter().filter(|h| h["kind"] == "disposed").count()
    };
    let page = srv.browser("lab_keeper").await;
    let href = format!("/lab/received/{sample}");
    let csrf = page.csrf_of(&href).await;
    let url = format!("/lab/received/{sample}/custody");
    let form = |t: &str, c: String| -> Vec<(&'static str, String)> {
        vec![
            ("csrf", c),
            ("portion", "backup".into()),
            ("kind", "disposed".into()),
            ("seal_state", "intact".into()),
            ("temperature_c", t.into()),
            ("witness_name", "赵见证".into()),
            ("witness_signature_png_base64", PNG.into()),
        ]
    };
    post_pairs(&page, &url, &form("四度", csrf.clone())).await;
    let mut hostile = form("4", csrf.clone());
    hostile[5].1 = "赵\u{0}见\u{202E}证".into();
    post_pairs(&page, &url, &hostile).await;
    let (_, chain) = keeper.get(&chain_url).await;
    assert_eq!(disposals(&chain), 0, "a temperature that is no number, or control characters, write nothing");
    let tester_page = srv.browser("lab_t1").await;
    let tester_csrf = tester_page.csrf_of("/lab/samples").await;
    post_pairs(&tester_page, &url, &form("", tester_csrf)).await;
    let (_, chain) = keeper.get(&chain_url).await;
    assert_eq!(disposals(&chain), 0, "the tester may not record a movement");
    let st = post_pairs(&page, &url, &form("-18.5", csrf)).await;
    assert!(st.is_success() || st.is_redirection(), "{st}");
    let (_, chain) = keeper.get(&chain_url).await;
    let d =
        portion(&chain, "backup")["hand_overs"].as_array().unwrap().iter().find(|h| h["kind"] == "disposed").cloned();
    let d = d.expect("the page recorded the disposal");
    assert_eq!(
        (d["confirmation"]["confirmed_name"].as_str(), d["temperature_c"].as_f64()),
        (Some("赵见证"), Some(-18.5))
    );
    let (_, html) = page.get(&href).await;
    assert!(html.contains("hand-over-confirmed") && html.contains("赵见证 已确认"), "the page shows both hands");

    // Both hands at every hand-over of the test portion; the holdings end with the disposal.
    let (_, chain) = srv.api("dt_reg").await.get(&chain_url).await;
    let test = portion(&chain, "test");
    assert!(flag_codes(test).is_empty(), "{test}");
    assert!(test["hand_overs"].as_array().unwrap().iter().all(|h| !h["confirmation"].is_null()));
    assert!(test["holdings"].as_array().unwrap().iter().all(|h| !h["to"].is_null()));
    let (st, _) = srv.api("ent_user").await.get(&chain_url).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

async fn tester_id(srv: &TestServer) -> i64 {
    let (_, me) = srv.api("lab_t1").await.get("/api/v1/me").await;
    me["user_id"].as_i64().unwrap()
}

/// A page form posted as the browser posts it; its status.
async fn post_pairs(b: &common::Browser, url: &str, f: &[(&str, String)]) -> StatusCode {
    let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    b.post_form(url, &pairs).await.status()
}
