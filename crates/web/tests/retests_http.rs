//! Re-tests (rule 18), sample confirmations (rule 23), the improvement letter's text and sending a
//! report back, over HTTP: the API's status codes and `{code, message}`, and the pages' forms.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;

use choucha_service::fixtures::lab_world::*;
use choucha_service::lab;
use common::TestServer;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn png_photo() -> Value {
    json!([{"file_name": "seal.png", "content_type": "image/png", "data_base64": PNG}])
}

#[tokio::test]
async fn a_retest_over_http_replaces_the_conclusion_and_charges_the_bureau() {
    let w = world().await;
    let lab2 = second_lab(&w).await;
    let r = issued(&w, 12.5).await;
    let first_org = sample_of_report(&w, r.id).await.testing_org_id;
    let uscc = w.uscc.clone();
    let srv = TestServer::start_with(w.fx).await;
    srv.enterprise_user("ent_user", &uscc).await;
    let keeper = srv.api("lab_keeper").await;
    let (_, ds) = keeper.get(&format!("/api/v1/lab/reports/{}/deliveries", r.id)).await;
    let today = srv.fx.services.today().to_string();
    let d = ds[0]["id"].as_i64().unwrap();
    let (st, b) = keeper
        .post(
            &format!("/api/v1/deliveries/{d}"),
            json!({"method": "ems", "tracking_no": "1190012345678", "sent_on": today, "received_on": today}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let owner = srv.api("ent_user").await;
    let (st, o) = owner
        .post(
            &format!("/api/v1/my/results/{}/objections", r.id),
            json!({"kind": "retest", "items": ["硫含量"], "reason": "对硫含量结果有异议"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{o}");
    let oid = o["id"].as_i64().unwrap();
    let reg = srv.api("dt_reg").await;
    let (st, b) = reg
        .post(
            &format!("/api/v1/objections/{oid}/retest"),
            json!({"institution_id": lab2.org_id, "fee_advance": "1200"}),
        )
        .await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::CONFLICT, Some("objection_state")), "{b}");
    reg.post(&format!("/api/v1/objections/{oid}/decision"), json!({"accept": true, "reason": "受理"})).await;

    // The bureau's page offers the institutions; the first needs a reason; the fee is required.
    let (_, page) = srv.browser("dt_reg").await.get("/retests").await;
    assert!(
        page.contains("待安排复检") && page.contains("山西省产品质量监督检验研究院") && page.contains("（原检验机构）"),
        "{page}"
    );
    let (st, b) = reg
        .post(&format!("/api/v1/objections/{oid}/retest"), json!({"institution_id": first_org, "fee_advance": "1200"}))
        .await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("rule18_same_institution")), "{b}");
    let (st, b) = reg
        .post(&format!("/api/v1/objections/{oid}/retest"), json!({"institution_id": lab2.org_id, "fee_advance": "-3"}))
        .await;
    assert_eq!((st, b["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("fee_advance")), "{b}");
    let (st, rt) = reg
        .post(
            &format!("/api/v1/objections/{oid}/retest"),
            json!({"institution_id": lab2.org_id, "fee_advance": "1200.5"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{rt}");
    let id = rt["id"].as_i64().unwrap();
    // Once arranged, the request can't be closed another way: the re-test's conclusion is final.
    let (st, b) = reg.post(&format!("/api/v1/objections/{oid}/close"), json!({"answer": "维持原结论"})).await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::CONFLICT, Some("retest_in_progress")), "{b}");

    // The re-test institution works blind.
    let t = srv.api("lab2_t").await;
    let (st, seen) = t.get(&format!("/api/v1/retests/{id}")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(seen["enterprise"].is_null() && !seen.to_string().contains(&uscc), "{seen}");
    let (_, page) = srv.browser("lab2_t").await.get(&format!("/retests/{id}")).await;
    assert!(!page.contains("大同市平城区示例加油站"), "the tester's page names no enterprise");
    // The first institution's custodian sends the backup portion on, before it can be received.
    let keeper = srv.api("lab_keeper").await;
    let (st, seen) = keeper.get(&format!("/api/v1/retests/{id}")).await;
    assert_eq!((st, seen["awaiting_dispatch"].as_bool()), (StatusCode::OK, Some(true)), "{seen}");
    assert!(seen["enterprise"].is_null(), "{seen}");
    let (st, _) = srv.api("lab_t1").await.get(&format!("/api/v1/retests/{id}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "the first institution's testers have no part in it");
    let k2 = srv.api("lab2_keeper").await;
    let receipt =
        json!({"seal_intact": true, "seal_note": "封条完好", "seals_seen": ["SXGH-000124"], "photos": png_photo()});
    let (st, b) = k2.post(&format!("/api/v1/retests/{id}/receipt"), receipt.clone()).await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::CONFLICT, Some("rule18_not_dispatched")), "{b}");
    let sent = json!({"dispatched_at": "2020-01-02 09:15", "carrier": "EMS EA987654321CN", "seals": ["SXGH-000124"], "seal_intact": true});
    let (st, b) = k2.post(&format!("/api/v1/retests/{id}/dispatch"), sent.clone()).await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")), "{b}");
    let (st, b) =
        keeper.post(&format!("/api/v1/retests/{id}/dispatch"), json!({"carrier": "", "seal_intact": true})).await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("required")), "{b}");
    let (st, b) = keeper.post(&format!("/api/v1/retests/{id}/dispatch"), sent.clone()).await;
    assert_eq!((st, b["dispatch"]["dispatched_at"].as_str()), (StatusCode::OK, Some("2020-01-02 09:15")), "{b}");
    let (st, b) = keeper.post(&format!("/api/v1/retests/{id}/dispatch"), sent).await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::CONFLICT, Some("rule18_already_dispatched")), "{b}");
    let (_, seen) = t.get(&format!("/api/v1/retests/{id}")).await;
    assert!(seen["dispatch"].is_null() && !seen.to_string().contains("SXGH"), "blind staff never see seals: {seen}");

    let results = |v: f64| json!({"results": [{"item_name": "硫含量", "value": v}]});
    let (st, b) = t.post(&format!("/api/v1/retests/{id}/results"), results(8.0)).await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::CONFLICT, Some("rule18_seal_unchecked")));
    let (st, b) = k2.post(&format!("/api/v1/retests/{id}/receipt"), json!({"seal_intact": true, "photos": []})).await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("rule18_seal_photo")));
    let (st, b) = k2.post(&format!("/api/v1/retests/{id}/receipt"), receipt).await;
    assert_eq!((st, b["state"].as_str()), (StatusCode::OK, Some("testing")), "{b}");
    let extra =
        json!({"results": [{"item_name": "硫含量", "value": 8.0}, {"item_name": "闪点（闭口）", "value": 66.0}]});
    let (st, b) = t.post(&format!("/api/v1/retests/{id}/results"), extra).await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("rule18_items_only")), "{b}");
    let (st, _) = t.post(&format!("/api/v1/retests/{id}/results"), results(8.0)).await;
    assert_eq!(st, StatusCode::OK);

    let sig = json!({"signature_png_base64": PNG});
    let (st, _) = t.post(&format!("/api/v1/retests/{id}/prepare"), sig.clone()).await;
    assert_eq!(st, StatusCode::OK);
    let a1 = srv.api("lab2_a1").await;
    assert_eq!(a1.post(&format!("/api/v1/retests/{id}/review"), sig.clone()).await.0, StatusCode::OK);
    let (st, b) = a1.post(&format!("/api/v1/retests/{id}/approve"), sig.clone()).await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::CONFLICT, Some("rule15_same_person")));
    let (st, done) = srv.api("lab2_a2").await.post(&format!("/api/v1/retests/{id}/approve"), sig).await;
    assert_eq!(st, StatusCode::OK, "{done}");
    assert_eq!((done["qualified"].as_bool(), done["fee_payer"].as_str()), (Some(true), Some("bureau")));

    // The enterprise sees the final conclusion and downloads the re-test report; nobody else does.
    let (_, mine) = owner.get("/api/v1/my/results").await;
    assert_eq!(mine[0]["objections"][0]["state"], "concluded", "{mine}");
    assert_eq!(mine[0]["objections"][0]["retest"]["qualified"], true);
    let (_, page) = srv.browser("ent_user").await.get("/my/results").await;
    assert!(page.contains("复检结论已出具") && page.contains("组织监督抽查的部门承担"), "{page}");
    let r = owner
        .client
        .get(srv.url(&format!("/api/v1/retests/{id}/report.pdf")))
        .bearer_auth(&owner.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.bytes().await.unwrap().starts_with(b"%PDF"));
    let other = srv.fx.enterprise("大同市平城区另一加油站", "140213", "销售者、加油站", 9).await;
    srv.enterprise_user("ent_other", &other.uscc).await;
    let (st, _) = srv.api("ent_other").await.get(&format!("/api/v1/retests/{id}/report.pdf")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_retest_pages_take_the_seal_photo_results_and_signatures() {
    let w = world().await;
    let lab2 = second_lab(&w).await;
    let r = issued(&w, 12.5).await;
    let uscc = w.uscc.clone();
    let svc = w.fx.services.clone();
    // Received and an accepted request, through the service.
    let d = choucha_service::results::of_report(&svc, &w.custodian, r.id).await.unwrap()[0].id;
    let today = svc.today();
    choucha_service::results::record_delivery(
        &svc,
        &w.custodian,
        d,
        choucha_service::results::DeliveryInput {
            method: "ems".into(),
            tracking_no: "1190012345678".into(),
            sent_on: Some(today),
            received_on: Some(today),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let srv = TestServer::start_with(w.fx).await;
    srv.enterprise_user("ent_user", &uscc).await;
    let (_, o) = srv
        .api("ent_user")
        .await
        .post(
            &format!("/api/v1/my/results/{}/objections", r.id),
            json!({"kind": "retest", "items": ["硫含量"], "reason": "有异议"}),
        )
        .await;
    let oid = o["id"].as_i64().unwrap();
    srv.api("dt_reg")
        .await
        .post(&format!("/api/v1/objections/{oid}/decision"), json!({"accept": true, "reason": "受理"}))
        .await;

    // Closing it without a re-test needs a written answer; the refusal writes nothing.
    let reg = srv.browser("dt_reg").await;
    let csrf = reg.csrf_of("/retests").await;
    let resp = reg.post_form(&format!("/results/objections/{oid}/close"), &[("csrf", &csrf), ("answer", " ")]).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let (_, page) = reg.get("/retests").await;
    assert!(page.contains("请填写办结答复") && page.contains("待安排复检或办结"), "{page}");
    // The bureau arranges it on the page; a missing fee comes back as a message.
    let org = lab2.org_id.to_string();
    let resp = reg
        .post_form(
            &format!("/results/objections/{oid}/retest"),
            &[("csrf", &csrf), ("institution_id", &org), ("fee_advance", "")],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let (_, page) = reg.get("/retests").await;
    assert!(page.contains("未执行") && page.contains("预先支付"), "{page}");
    let resp = reg
        .post_form(
            &format!("/results/objections/{oid}/retest"),
            &[("csrf", &csrf), ("institution_id", &org), ("fee_advance", "800")],
        )
        .await;
    let to = resp.headers()["location"].to_str().unwrap().to_string();
    assert!(to.starts_with("/retests/"), "{to}");
    let id: i64 = to.trim_start_matches("/retests/").parse().unwrap();

    // The first institution's custodian records the dispatch on the page.
    let k1 = srv.browser("lab_keeper").await;
    let csrf = k1.csrf_of(&format!("/retests/{id}")).await;
    let resp = k1
        .post_form(
            &format!("/retests/{id}/dispatch"),
            &[("csrf", &csrf), ("carrier", "专人送样（张三）"), ("seals", "SXGH-000124"), ("seal", "intact")],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let (_, page) = k1.get(&format!("/retests/{id}")).await;
    assert!(page.contains("专人送样（张三）") && !page.contains("大同市平城区示例加油站"), "{page}");

    // The custodian receives it with a photo of the seal (multipart).
    let k2 = srv.browser("lab2_keeper").await;
    let csrf = k2.csrf_of(&format!("/retests/{id}")).await;
    let (_, page) = k2.get(&format!("/retests/{id}")).await;
    assert!(page.contains("SXGH-000124"), "the receiving custodian is shown the record's seal numbers");
    let form = reqwest::multipart::Form::new()
        .text("seal", "intact")
        .text("seal_note", "封条完好")
        .text("seals_seen", "SXGH-000124")
        .part(
            "photos",
            reqwest::multipart::Part::bytes(png_bytes()).file_name("seal.png").mime_str("image/png").unwrap(),
        );
    let resp = k2
        .client
        .post(srv.url(&format!("/retests/{id}/receipt")))
        .header("x-csrf-token", csrf.to_string())
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let (_, page) = k2.get(&format!("/retests/{id}")).await;
    assert!(page.contains("复检中") && page.contains("seal.png"), "{page}");

    // The tester enters the objected item; the report is signed by three people.
    let t = srv.browser("lab2_t").await;
    let csrf = t.csrf_of(&format!("/retests/{id}")).await;
    let resp = t
        .post_form(&format!("/retests/{id}/results"), &[("csrf", &csrf), ("value_硫含量", "9.1"), ("tested_on", "")])
        .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let resp =
        t.post_form(&format!("/retests/{id}/sign/prepare"), &[("csrf", &csrf), ("signature_png_base64", "")]).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let (_, page) = t.get(&format!("/retests/{id}")).await;
    assert!(page.contains("请在签名框内签名"), "an empty pad is refused on the page: {page}");
    t.post_form(&format!("/retests/{id}/sign/prepare"), &[("csrf", &csrf), ("signature_png_base64", PNG)]).await;
    for who in ["lab2_a1", "lab2_a2"] {
        let b = srv.browser(who).await;
        let csrf = b.csrf_of(&format!("/retests/{id}")).await;
        let step = if who == "lab2_a1" { "review" } else { "approve" };
        let resp =
            b.post_form(&format!("/retests/{id}/sign/{step}"), &[("csrf", &csrf), ("signature_png_base64", PNG)]).await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    }
    let (_, page) = reg.get(&format!("/retests/{id}")).await;
    assert!(
        page.contains("复检结论为合格") && page.contains("大同市平城区示例加油站") && page.contains("复检报告"),
        "{page}"
    );
    let resp = reg.client.get(srv.url(&format!("/retests/{id}/report.pdf"))).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

fn png_bytes() -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(PNG).unwrap()
}

#[tokio::test]
async fn the_producer_answers_its_sample_confirmation_and_the_bureau_investigates_a_denial() {
    let w = world_with(Options { producer: true, ..Default::default() }).await;
    let plan = plan_of(&w).await;
    let r = issued(&w, 12.5).await;
    let srv = TestServer::start_with(w.fx).await;
    let p = srv.fx.enterprise(PRODUCER, "140105", "生产者", 3).await;
    srv.enterprise_user("producer_user", &p.uscc).await;

    let (st, _) = srv.api("lab_t1").await.get("/api/v1/confirmations").await;
    assert_eq!(st, StatusCode::FORBIDDEN, "testers never see who produced the sample");
    let producer = srv.api("producer_user").await;
    let (_, list) = producer.get("/api/v1/confirmations").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list["items"][0]["report_id"].as_i64(), Some(r.id));
    let cid = list["items"][0]["id"].as_i64().unwrap();
    let (st, b) = srv.api("lab_keeper").await.post(&format!("/api/v1/confirmations/{cid}/lapse"), json!({})).await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::CONFLICT, Some("rule23_not_due")), "not yet past its deadline");
    let (st, b) = producer.post(&format!("/api/v1/confirmations/{cid}/answer"), json!({"confirmed": false})).await;
    assert_eq!((st, b["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("note")));
    let (_, page) = srv.browser("producer_user").await.get("/my/results").await;
    assert!(page.contains("样品确认") && page.contains("不是本企业产品"), "{page}");
    let (st, b) = producer
        .post(&format!("/api/v1/confirmations/{cid}/answer"), json!({"confirmed": false, "note": "非本公司生产"}))
        .await;
    assert_eq!((st, b["state"].as_str()), (StatusCode::OK, Some("denied")), "{b}");
    let (st, b) = producer.post(&format!("/api/v1/confirmations/{cid}/answer"), json!({"confirmed": true})).await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::CONFLICT, Some("confirmation_answered")));
    let (st, _) = srv
        .api("lab_keeper")
        .await
        .post(&format!("/api/v1/confirmations/{cid}/investigation"), json!({"finding": "x"}))
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (_, page) = srv.browser("dt_reg").await.get("/retests").await;
    assert!(page.contains("否认") && page.contains("登记调查结论"), "{page}");
    let (_, inbox) = srv.browser("dt_reg").await.get("/inbox").await;
    assert!(inbox.contains("样品确认") && inbox.contains("data-testid=\"confirmation-link\""), "{inbox}");
    let (st, b) = srv
        .api("dt_reg")
        .await
        .post(&format!("/api/v1/confirmations/{cid}/investigation"), json!({"finding": "系仿冒产品"}))
        .await;
    assert_eq!((st, b["final_for_producer"].as_bool()), (StatusCode::OK, Some(true)), "{b}");

    // The period is the bureau's to set, on the API and on the plan page.
    let (st, _) = srv
        .api("lab_keeper")
        .await
        .put(&format!("/api/v1/plans/{plan}/confirmation-period"), json!({"days": 10}))
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, b) =
        srv.api("dt_reg").await.put(&format!("/api/v1/plans/{plan}/confirmation-period"), json!({"days": 100})).await;
    assert_eq!((st, b["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("days")));
    let reg = srv.browser("dt_reg").await;
    let csrf = reg.csrf_of(&format!("/plans/{plan}")).await;
    reg.post_form(
        &format!("/plans/{plan}/confirmation-period"),
        &[("csrf", &csrf), ("days", "10"), ("unit", "calendar")],
    )
    .await;
    let (_, page) = reg.get(&format!("/plans/{plan}")).await;
    assert!(page.contains("报告签发后 10 日内由标称生产者确认"), "{page}");
}

#[tokio::test]
async fn the_tester_writes_the_letter_and_reviewers_send_reports_back_over_http() {
    let w = world().await;
    let bc = accepted(&w).await;
    enter_all(&w, &bc, 12.5).await;
    lab::complete_results(s(&w), &w.t1, &bc).await.unwrap();
    let rep = lab::prepare_report(s(&w), &w.t1, &bc, sig()).await.unwrap();
    let srv = TestServer::start_with(w.fx).await;

    // The improvement letter's text: testers only, by blind code.
    let (st, _) = srv
        .api("lab_keeper")
        .await
        .put(
            &format!("/api/v1/lab/samples/{bc}/improvement-letter"),
            json!({"cause_analysis": "a", "suggestions": "b"}),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let t1 = srv.api("lab_t1").await;
    let (st, b) = t1
        .put(&format!("/api/v1/lab/samples/{bc}/improvement-letter"), json!({"cause_analysis": "", "suggestions": "b"}))
        .await;
    assert_eq!((st, b["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("cause_analysis")));
    let (st, b) = t1
        .put(
            &format!("/api/v1/lab/samples/{bc}/improvement-letter"),
            json!({"cause_analysis": "脱硫工艺控制不当", "suggestions": "完善工艺"}),
        )
        .await;
    assert_eq!((st, b["editable"].as_bool()), (StatusCode::OK, Some(true)), "{b}");
    let t1_page = srv.browser("lab_t1").await;
    let csrf = t1_page.csrf_of(&format!("/lab/samples/{bc}/improvement-letter")).await;
    let resp = t1_page
        .post_form(
            &format!("/lab/samples/{bc}/improvement-letter"),
            &[("csrf", &csrf), ("cause_analysis", ""), ("suggestions", "完善工艺")],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let (_, html) = t1_page.get(&format!("/lab/samples/{bc}/improvement-letter")).await;
    assert!(html.contains("请填写原因分析"), "refused on the page: {html}");
    assert!(
        html.contains("脱硫工艺控制不当") && !html.contains("大同市平城区示例加油站"),
        "nothing overwritten: {html}"
    );

    // Sending back: the preparer may not; a reason is required (API and page).
    let (st, b) = srv
        .api("lab_t1")
        .await
        .post(&format!("/api/v1/lab/reports/{}/send-back", rep.id), json!({"reason": "x"}))
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{b}");
    let a1 = srv.api("lab_a1").await;
    let (st, b) = a1.post(&format!("/api/v1/lab/reports/{}/send-back", rep.id), json!({"reason": " "})).await;
    assert_eq!((st, b["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("reason")));
    let page = srv.browser("lab_a1").await;
    let csrf = page.csrf_of("/lab/reports").await;
    let resp = page.post_form(&format!("/lab/reports/{}/send-back", rep.id), &[("csrf", &csrf), ("reason", "")]).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let (_, html) = page.get("/lab/reports").await;
    assert!(html.contains("请说明退回原因"), "{html}");
    let (st, b) = a1.post(&format!("/api/v1/lab/reports/{}/send-back", rep.id), json!({"reason": "硫含量复核"})).await;
    assert_eq!((st, b["state"].as_str()), (StatusCode::OK, Some("returned")), "{b}");
}

#[tokio::test]
async fn the_plan_overview_is_the_organising_bureaus_page() {
    let w = world().await;
    let plan = plan_of(&w).await;
    issued(&w, 12.5).await;
    let srv = TestServer::start_with(w.fx).await;
    let (st, o) = srv.api("dt_reg").await.get(&format!("/api/v1/plans/{plan}/overview")).await;
    assert_eq!(st, StatusCode::OK, "{o}");
    assert_eq!(o["unqualified"], 1);
    assert!(o["duties"].as_array().unwrap().iter().any(|d| d["kind"] == "delivery"), "{o}");
    let (st, _) = srv.api("lab_keeper").await.get(&format!("/api/v1/plans/{plan}/overview")).await;
    assert!(st == StatusCode::FORBIDDEN || st == StatusCode::NOT_FOUND, "{st}");
    let b = srv.browser("dt_reg").await;
    let (_, detail) = b.get(&format!("/plans/{plan}")).await;
    assert!(detail.contains(&format!("/plans/{plan}/overview")), "the plan page links its overview");
    let (st, page) = b.get(&format!("/plans/{plan}/overview")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(page.contains("逾期事项") && page.contains("结果送达") && page.contains("山西省检验检测中心"), "{page}");
}
