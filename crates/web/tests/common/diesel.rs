//! The sampling tests' world over the API: a 车用柴油 plan of the bureau "dt" with one item for the
//! institution "lab", issued; its implementation rules submitted, approved and published; one task
//! drawn from it for the samplers `lab_s1` and `lab_s2`.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{Api, TestServer};

/// The one-pixel PNG the sampling tests sign with.
pub const PNG: &str = choucha_service::fixtures::lab_world::PNG;

/// The organising bureau's regulator, a tester and the two samplers of "lab".
pub async fn team(srv: &TestServer) {
    srv.fx.user("dt_reg", &["regulator"], Some("dt")).await;
    srv.fx.user("lab_tester", &["tester"], Some("lab")).await;
    srv.fx.user("lab_s1", &["sampler"], Some("lab")).await;
    srv.fx.user("lab_s2", &["sampler"], Some("lab")).await;
}

/// The 车用柴油 rules with one test item (硫含量 at most 10 mg/kg), 2 L for testing and backup.
pub fn rules() -> Value {
    json!({"standards": ["GB 19147-2016"], "test_items": [{"name": "硫含量", "limit": {"kind": "max", "max": 10.0, "inclusive": true}, "unit": "mg/kg"}],
           "test_portion": "2L", "backup_portion": "2L", "judgement_principle": "全部符合为合格", "test_quantity": 2.0, "backup_quantity": 2.0, "min_base_quantity": 200.0, "quantity_unit": "L"})
}

/// How the plan is made: its quota, its budget, who writes the rules and what they say.
pub struct Diesel {
    pub quota: u32,
    pub budget_yuan: Option<&'static str>,
    pub tester: &'static str,
    pub rules: Value,
}

impl Default for Diesel {
    fn default() -> Self {
        Diesel { quota: 5, budget_yuan: None, tester: "lab_tester", rules: rules() }
    }
}

/// The regulator and the tester who made the plan, the plan, its item and the drawn task.
pub struct DrawnTask {
    pub reg: Api,
    pub tester: Api,
    pub plan: i64,
    pub item: i64,
    pub task: i64,
}

/// The plan issued, its rules published and one task drawn (not started). The users and the
/// enterprises to draw from are the caller's.
pub async fn drawn_task(srv: &TestServer, d: Diesel) -> DrawnTask {
    let reg = srv.api("dt_reg").await;
    let mut header = json!({"year": 2025, "title": "2025年车用柴油抽查", "organising_org_code": "dt"});
    if let Some(b) = d.budget_yuan {
        header["budget_yuan"] = json!(b);
    }
    let (_, plan) = reg
        .post(
            "/api/v1/plans",
            json!({"plan": header,
                   "items": [{"number": "1", "category": "机械及安防", "product": "车用柴油", "quota": d.quota, "scopes": "销售者", "sampling_org_code": "lab", "testing_org_code": "lab"}]}),
        )
        .await;
    let (id, item) = (plan["id"].as_i64().unwrap(), plan["items"][0]["id"].as_i64().unwrap());
    reg.post(&format!("/api/v1/plans/{id}/issue"), json!({})).await;
    let tester = srv.api(d.tester).await;
    let (_, r) = tester.post(&format!("/api/v1/items/{item}/rules"), d.rules).await;
    let rid = r["id"].as_i64().unwrap();
    tester.post(&format!("/api/v1/rules/{rid}/steps"), json!({"action": "submit"})).await;
    reg.post(&format!("/api/v1/rules/{rid}/steps"), json!({"action": "approve"})).await;
    reg.post(&format!("/api/v1/rules/{rid}/steps"), json!({"action": "publish"})).await;
    let (_, drawn) = reg.post("/api/v1/draws", json!({"item_id": item, "quota": 1, "seed": "s"})).await;
    let task = drawn["drawn"][0]["task_id"].as_i64().unwrap();
    DrawnTask { reg, tester, plan: id, item, task }
}

/// The two samplers, the first having started the task.
pub async fn started(srv: &TestServer, task: i64) -> (Api, Api) {
    let s1 = srv.api("lab_s1").await;
    let s2 = srv.api("lab_s2").await;
    assert_eq!(s1.post(&format!("/api/v1/tasks/{task}/start"), json!({})).await.0, StatusCode::OK);
    (s1, s2)
}

/// A photo of every category the notices require, taken by lab_s1 before anyone signs (rule 7).
#[allow(dead_code)]
pub async fn photographed(srv: &TestServer, task: i64) {
    let svc = &srv.fx.services;
    let s1 = choucha_service::auth::login(svc, "lab_s1", choucha_service::fixtures::PASSWORD).await.unwrap();
    choucha_service::fixtures::lab_world::photograph(svc, &s1, task).await;
}
