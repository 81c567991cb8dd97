// The laboratory's HTTP test world, shared by lab_http.rs and lab_pages.rs (included, not a module).

use common::diesel::{Diesel, PNG};
#[allow(dead_code)]
const ENTERPRISE: &str = "大同市平城区示例加油站";

/// A sampled diesel task whose portions were dispatched to the testing institution; the USCC.
pub async fn dispatched_task(srv: &TestServer) -> (i64, String) {
    let (task, uscc) = signed_task(srv).await;
    dispatch(srv, task).await;
    (task, uscc)
}

/// A diesel task sampled with its record signed (by lab_s1, lab_s2 and the enterprise), not yet
/// dispatched; the USCC.
#[allow(dead_code)]
pub async fn signed_task(srv: &TestServer) -> (i64, String) {
    srv.fx.user("dt_reg", &["regulator"], Some("dt")).await;
    srv.fx.user("lab_keeper", &["sample_custodian"], Some("lab")).await;
    srv.fx.user("lab_t1", &["tester"], Some("lab")).await;
    srv.fx.user("lab_a1", &["report_approver"], Some("lab")).await;
    srv.fx.user("lab_a2", &["report_approver"], Some("lab")).await;
    srv.fx.user("lab_s1", &["sampler", "tester"], Some("lab")).await;
    srv.fx.user("lab_s2", &["sampler"], Some("lab")).await;
    let e = srv.fx.enterprise(ENTERPRISE, "140213", "销售者、加油站", 1).await;
    let rules = json!({"standards": ["GB 19147-2016"],
               "test_items": [{"name": "硫含量", "method": "SH/T 0689", "limit": {"kind": "max", "max": 10.0, "inclusive": true}, "unit": "mg/kg"},
                              {"name": "十六烷值", "method": "GB/T 386", "limit": {"kind": "min", "min": 51.0, "inclusive": true}, "unit": ""}],
               "test_portion": "2瓶×1L", "backup_portion": "2瓶×1L", "judgement_principle": "全部符合为合格", "test_quantity": 2.0, "backup_quantity": 2.0, "min_base_quantity": 200.0, "quantity_unit": "L"});
    let d = Diesel { tester: "lab_t1", rules, ..Diesel::default() };
    let task = common::diesel::drawn_task(srv, d).await.task;
    let (s1, s2) = common::diesel::started(srv, task).await;
    let record = json!({"product_name": "车用柴油", "brand": "示例牌", "model": "0号", "sampling_base": 12000.0, "test_quantity": 2.0,
           "backup_quantity": 2.0, "unit": "L", "unit_price": 7.35, "place": "加油机3号枪", "domain": "circulation",
           "sampled_at": "2025-10-10 10:30", "test_seals": ["SXGH-000123"], "backup_seals": ["SXGH-000124"]});
    assert_eq!(s1.put(&format!("/api/v1/tasks/{task}/record"), record).await.0, StatusCode::OK);
    common::diesel::photographed(srv, task).await;
    for (who, signer) in [(&s1, "self"), (&s2, "self"), (&s1, "enterprise")] {
        let (st, b) = who
            .post(
                &format!("/api/v1/tasks/{task}/record/signatures"),
                json!({"signer": signer, "name": "王站长", "image_png_base64": PNG}),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{b}");
    }
    (task, e.uscc)
}

async fn dispatch(srv: &TestServer, task: i64) {
    choucha_service::fixtures::lab_world::dispatch(&srv.fx.services, task).await;
}

