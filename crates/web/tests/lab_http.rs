//! The laboratory over HTTP: receipt, blind coding checked by searching every response a tester
//! gets (API and pages) for the enterprise's name and USCC, rule codes of refusals (rules 1, 12,
//! 15), the automatic judgement, the three-person report and its hash check.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;

use common::TestServer;
use reqwest::StatusCode;
use serde_json::{Value, json};

include!("common/lab_world.rs");

fn receipt(decision: &str, test_seal: &str) -> Value {
    json!({"delivered_by": "EMS快递员", "carrier": "EMS", "tracking_no": "EA123456789CN",
           "observed": {"test_seals": [test_seal], "backup_seals": ["SXGH-000124"], "test_quantity": 2.0, "backup_quantity": 2.0,
                        "seals_intact": true, "labels_match": true, "appearance": "完好"},
           "decision": decision, "reason": if decision == "reject" { "封条编号与抽样单不符" } else { "" },
           "backup_location": "样品库A区",
           "photos": [{"file_name": "seals.png", "content_type": "image/png", "data_base64": PNG}]})
}

#[tokio::test]
async fn a_tester_never_sees_the_enterprise_in_any_answer_and_the_report_is_signed_by_three() {
    let srv = TestServer::start().await;
    let (task, uscc) = dispatched_task(&srv).await;
    let keeper = srv.api("lab_keeper").await;
    let tester = srv.api("lab_t1").await;
    let a1 = srv.api("lab_a1").await;
    let a2 = srv.api("lab_a2").await;

    // The custodian sees what is coming, with the enterprise, and receives it.
    let (st, inc) = keeper.get("/api/v1/lab/incoming").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(inc["items"][0]["enterprise_name"], ENTERPRISE);
    let (st, b) = tester.post(&format!("/api/v1/lab/incoming/{task}/receipt"), receipt("accept", "SXGH-000123")).await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")));
    let (st, b) = keeper.post(&format!("/api/v1/lab/incoming/{task}/receipt"), receipt("accept", "SXGH-999")).await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::CONFLICT, Some("rule12_mismatch")), "{b}");
    let (st, out) =
        keeper.post(&format!("/api/v1/lab/incoming/{task}/receipt"), receipt("accept", "SXGH-000123")).await;
    assert_eq!(st, StatusCode::OK, "{out}");
    let code = out["blind_code"].as_str().unwrap().to_string();
    let sample_id = out["sample_id"].as_i64().unwrap();
    let (_, link) = keeper.get(&format!("/api/v1/lab/received/{sample_id}")).await;
    assert_eq!(link["enterprise_uscc"], uscc.as_str());
    let (st, pdf) = {
        let r = keeper
            .client
            .get(srv.url(&format!("/api/v1/lab/received/{sample_id}/label.pdf")))
            .bearer_auth(&keeper.token)
            .send()
            .await
            .unwrap();
        (r.status(), r.bytes().await.unwrap())
    };
    assert_eq!(st, StatusCode::OK);
    assert!(pdf.starts_with(b"%PDF"));

    // Everything the tester gets, collected and searched.
    let mut seen = String::new();
    let mut keep = |v: &Value| seen.push_str(&v.to_string());
    let (st, b) = tester.get("/api/v1/lab/samples").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(b["items"][0]["blind_code"], code.as_str());
    keep(&b);
    keep(&tester.get(&format!("/api/v1/lab/samples?q={}", &code[..7])).await.1);
    keep(&tester.get("/api/v1/lab/dashboard").await.1);
    // Errors: the link, the label, another's receipt, a sampler's refusal.
    let (st, b) = tester.get(&format!("/api/v1/lab/received/{sample_id}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    keep(&b);
    keep(&tester.get(&format!("/api/v1/lab/received/{sample_id}/label.pdf")).await.1);
    keep(&tester.get("/api/v1/lab/incoming").await.1);
    keep(&tester.get("/api/v1/lab/received").await.1);
    let s1 = srv.api("lab_s1").await;
    let (st, b) = s1.put(&format!("/api/v1/lab/samples/{code}/results"), json!({"item_index": 0, "value": 5.0})).await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::CONFLICT, Some("rule1_sampler_conflict")));
    keep(&b);
    // Results: sulfur above the limit fails the item and the sample.
    let (st, b) = tester
        .put(
            &format!("/api/v1/lab/samples/{code}/results"),
            json!({"item_index": 0, "value": 12.5, "instrument": "XRF-01"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(b["items"][0]["result"]["judgement"], "non_conforming");
    keep(&b);
    let (st, b) =
        tester.put(&format!("/api/v1/lab/samples/{code}/results"), json!({"item_index": 1, "text": "高"})).await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("result_kind")));
    keep(&b);
    keep(&tester.put(&format!("/api/v1/lab/samples/{code}/results"), json!({"item_index": 1, "value": 52.0})).await.1);
    let (st, b) = tester.post(&format!("/api/v1/lab/samples/{code}/complete"), json!({})).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(b["qualified"], false);
    assert!(b["conclusion"].as_str().unwrap().contains("硫含量"));
    keep(&b);
    let signed = json!({"signature_png_base64": PNG});
    let (st, b) = tester.post(&format!("/api/v1/lab/samples/{code}/reports"), json!({})).await;
    assert_eq!(
        (st, b["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("signature_png_base64"))
    );
    keep(&b);
    let (st, rep) = tester.post(&format!("/api/v1/lab/samples/{code}/reports"), signed.clone()).await;
    assert_eq!(st, StatusCode::OK, "{rep}");
    keep(&rep);
    let rid = rep["id"].as_i64().unwrap();
    // The reviewer reads the draft before signing; the tester who prepared it does not sign it.
    let r = reqwest::Client::new()
        .get(srv.url(&format!("/api/v1/lab/reports/{rid}/review.pdf")))
        .bearer_auth(&a1.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert!(r.bytes().await.unwrap().starts_with(b"%PDF"));
    assert_eq!(tester.get(&format!("/api/v1/lab/reports/{rid}/review.pdf")).await.0, StatusCode::FORBIDDEN);
    // Rule 15 over the API: the same approver may not review and approve.
    assert_eq!(a1.post(&format!("/api/v1/lab/reports/{rid}/review"), signed.clone()).await.0, StatusCode::OK);
    let (st, b) = a1.post(&format!("/api/v1/lab/reports/{rid}/approve"), signed.clone()).await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::CONFLICT, Some("rule15_same_person")));
    let (st, issued) = a2.post(&format!("/api/v1/lab/reports/{rid}/approve"), signed.clone()).await;
    assert_eq!(st, StatusCode::OK, "{issued}");
    assert!(issued["report_no"].as_str().is_some());
    keep(&tester.get(&format!("/api/v1/lab/samples/{code}")).await.1);
    keep(&tester.get("/api/v1/lab/reports?state=approved").await.1);
    let (st, b) = tester.get(&format!("/api/v1/lab/reports/{rid}/report.pdf")).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    keep(&b);
    let (st, v) = tester.get(&format!("/api/v1/lab/reports/{rid}/verify")).await;
    assert_eq!((st, v["intact"].as_bool()), (StatusCode::OK, Some(true)));
    keep(&v);
    // Deliveries and the result notice are not for blind staff: not found, naming nobody.
    for path in [
        format!("/api/v1/lab/reports/{rid}/deliveries"),
        format!("/api/v1/lab/reports/{rid}/result-notice.pdf"),
        "/api/v1/deliveries".to_string(),
    ] {
        let (st, b) = tester.get(&path).await;
        assert!(matches!(st, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN), "{path}: {st}");
        keep(&b);
    }
    // Approvers' answers too.
    keep(&a1.get("/api/v1/lab/reports?state=approved").await.1);
    keep(&a2.get(&format!("/api/v1/lab/samples/{code}")).await.1);

    // And every page the tester opens.
    let browser = srv.browser("lab_t1").await;
    for path in [
        "/lab".to_string(),
        "/lab/samples".into(),
        format!("/lab/samples/{code}"),
        "/lab/reports?state=approved".into(),
        format!("/lab/received/{sample_id}"),
        "/lab/incoming".into(),
        "/lab/received".into(),
        format!("/lab/samples?q={code}"),
        format!("/lab/reports/{rid}/report.pdf"),
        format!("/lab/received/{sample_id}/label.pdf"),
        "/results".into(),
        format!("/results/reports/{rid}/result-notice.pdf"),
    ] {
        let (_, html) = browser.get(&path).await;
        seen.push_str(&html);
    }
    let (_, page) = browser.get(&format!("/lab/samples/{code}")).await;
    assert!(page.contains(&code) && page.contains("不符合"), "{page}");
    for secret in [ENTERPRISE, uscc.as_str(), "加油机3号枪", "示例牌"] {
        assert!(!seen.contains(secret), "a tester's response reveals {secret}");
    }

    // The custodian gets the stored PDF; altering the file is detected by its hash.
    let r = keeper
        .client
        .get(srv.url(&format!("/api/v1/lab/reports/{rid}/report.pdf")))
        .bearer_auth(&keeper.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let stored = r.bytes().await.unwrap();
    assert!(stored.starts_with(b"%PDF"));
    let path = choucha_service::lab::report_file(&srv.fx.services, rid).await.unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend_from_slice(b"%tampered");
    // Stored files are read-only: the tamperer makes it writable first.
    let mut perms = std::fs::metadata(&path).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&path, perms).unwrap();
    std::fs::write(&path, &bytes).unwrap();
    let (_, v) = keeper.get(&format!("/api/v1/lab/reports/{rid}/verify")).await;
    assert_eq!(v["intact"], false);

    // Delivery (rule 17): the unqualified report goes to the enterprise and, 3 copies, to the bureau.
    let (st, ds) = keeper.get(&format!("/api/v1/lab/reports/{rid}/deliveries")).await;
    assert_eq!(st, StatusCode::OK, "{ds}");
    let ds = ds.as_array().unwrap().clone();
    assert_eq!(
        ds.iter().map(|d| d["recipient"].as_str().unwrap()).collect::<Vec<_>>(),
        ["enterprise", "organising_bureau"]
    );
    let id = ds[0]["id"].as_i64().unwrap();
    let (st, b) = keeper.post(&format!("/api/v1/deliveries/{id}"), json!({"method": "ems"})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert_eq!(b["errors"][0]["field"], "tracking_no");
    let today = srv.fx.services.today().to_string();
    let (st, d) = keeper
        .post(
            &format!("/api/v1/deliveries/{id}"),
            json!({"method": "ems", "tracking_no": "1190012345678", "sent_on": today}),
        )
        .await;
    assert_eq!((st, d["state"].as_str()), (StatusCode::OK, Some("sent")), "{d}");
    let r = keeper
        .client
        .get(srv.url(&format!("/api/v1/lab/reports/{rid}/result-notice.pdf")))
        .bearer_auth(&keeper.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.bytes().await.unwrap().starts_with(b"%PDF"));
    // The bureau's list and the custodian's page show it sent.
    let (_, open) = srv.api("dt_reg").await.get("/api/v1/deliveries").await;
    assert_eq!(open["items"].as_array().unwrap().len(), 2, "{open}");
    let (_, page) = srv.browser("lab_keeper").await.get("/results").await;
    assert!(page.contains("已寄出，待签收") && page.contains("1190012345678") && page.contains(ENTERPRISE), "{page}");

    // The improvement letter form comes pre-filled from the report; a tester gets not found.
    let (st, form) = srv.browser("lab_keeper").await.get(&format!("/documents/improvement-letter?report={rid}")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(form.contains(ENTERPRISE) && form.contains("硫含量") && form.contains("实测"), "{form}");
    let (st, form) = srv.browser("lab_t1").await.get(&format!("/documents/improvement-letter?report={rid}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert!(!form.contains(ENTERPRISE));

    // Received today: the enterprise sees only its own result and may ask for a re-test (rule 18).
    let (st, d) = keeper.post(&format!("/api/v1/deliveries/{id}"), json!({"received_on": today})).await;
    assert_eq!((st, d["state"].as_str()), (StatusCode::OK, Some("received")), "{d}");
    let s = &srv.fx.services;
    choucha_service::fixtures::Fixture::make_user(s, "ent_user", "王站长", &["enterprise"], None, Some(uscc.as_str()))
        .await;
    let other = srv.fx.enterprise("大同市平城区另一加油站", "140213", "销售者、加油站", 9).await;
    choucha_service::fixtures::Fixture::make_user(
        s,
        "ent_other",
        "李经理",
        &["enterprise"],
        None,
        Some(other.uscc.as_str()),
    )
    .await;
    let owner = srv.api("ent_user").await;
    let (_, mine) = owner.get("/api/v1/my/results").await;
    assert_eq!(mine.as_array().unwrap().len(), 1, "{mine}");
    assert_eq!(mine[0]["may_object"], true);
    let stranger = srv.api("ent_other").await;
    let (_, theirs) = stranger.get("/api/v1/my/results").await;
    assert_eq!(theirs, json!([]));
    let retest = json!({"kind": "retest", "items": ["硫含量"], "reason": "对硫含量结果有异议"});
    let (st, _) = stranger.post(&format!("/api/v1/my/results/{rid}/objections"), retest.clone()).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // Attachments: images or PDF only, at most five.
    let pdf = json!({"file_name": "复检申请书.pdf", "content_type": "application/pdf", "data_base64": "JVBERi0xLjQK"});
    let mut bad = retest.clone();
    bad["attachments"] =
        json!([{"file_name": "a.exe", "content_type": "application/x-msdownload", "data_base64": "TVo="}]);
    let (st, b) = owner.post(&format!("/api/v1/my/results/{rid}/objections"), bad).await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("file_content_type")), "{b}");
    let mut many = retest.clone();
    many["attachments"] = json!(vec![pdf.clone(); 6]);
    let (st, b) = owner.post(&format!("/api/v1/my/results/{rid}/objections"), many).await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("too_many_files")), "{b}");
    let mut retest = retest;
    retest["attachments"] = json!([pdf]);
    let (st, o) = owner.post(&format!("/api/v1/my/results/{rid}/objections"), retest).await;
    assert_eq!(st, StatusCode::CREATED, "{o}");
    let sha = o["attachments"][0]["sha256"].as_str().unwrap().to_string();
    let oid = o["id"].as_i64().unwrap();
    let path = format!("/api/v1/objections/{oid}/attachments/{sha}");
    for (who, want) in [
        ("ent_user", StatusCode::OK),
        ("dt_reg", StatusCode::OK),
        ("ent_other", StatusCode::NOT_FOUND),
        ("lab_t1", StatusCode::NOT_FOUND),
        ("lab_keeper", StatusCode::NOT_FOUND),
    ] {
        let api = srv.api(who).await;
        let r = api.client.get(srv.url(&path)).bearer_auth(&api.token).send().await.unwrap();
        assert_eq!(r.status(), want, "{who}");
        if want == StatusCode::OK {
            assert_eq!(r.bytes().await.unwrap().as_ref(), b"%PDF-1.4\n");
        }
    }
    let (_, page) = srv.browser("ent_user").await.get("/my/results").await;
    assert!(page.contains("复检申请") && page.contains("待组织抽查的部门处理"), "{page}");
    let (_, page) = srv.browser("ent_other").await.get("/my/results").await;
    assert!(!page.contains(issued["report_no"].as_str().unwrap()), "another enterprise's page");
    let reg = srv.api("dt_reg").await;
    let (_, list) = reg.get("/api/v1/objections?state=pending").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    let oid = o["id"].as_i64().unwrap();
    let (st, b) = reg.post(&format!("/api/v1/objections/{oid}/decision"), json!({"accept": false})).await;
    assert_eq!((st, b["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("reason")));
    let (st, b) =
        reg.post(&format!("/api/v1/objections/{oid}/decision"), json!({"accept": true, "reason": "受理"})).await;
    assert_eq!((st, b["state"].as_str()), (StatusCode::OK, Some("accepted")));
}

#[tokio::test]
async fn a_rejected_sample_reaches_the_bureau_inbox_with_its_reason() {
    let srv = TestServer::start().await;
    let (task, _) = dispatched_task(&srv).await;
    let keeper = srv.api("lab_keeper").await;
    let mut bad = receipt("reject", "SXGH-999");
    bad["reason"] = json!("");
    let (st, b) = keeper.post(&format!("/api/v1/lab/incoming/{task}/receipt"), bad.clone()).await;
    assert_eq!((st, b["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("rule12_reason_required")));
    let (st, out) = keeper.post(&format!("/api/v1/lab/incoming/{task}/receipt"), receipt("reject", "SXGH-999")).await;
    assert_eq!(st, StatusCode::OK, "{out}");
    assert_eq!(out["state"], "rejected");
    let reg = srv.api("dt_reg").await;
    let (_, inbox) = reg.get("/api/v1/inbox").await;
    let items = inbox["items"].as_array().unwrap();
    assert!(
        items
            .iter()
            .any(|i| i["kind"] == "lab_rejected" && i["title"].as_str().unwrap().contains("封条编号与抽样单不符")),
        "{inbox}"
    );
    let (st, d) = reg.get("/api/v1/lab/dashboard").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(d["institutions"][0]["states"][0]["state"], "rejected");
}

#[tokio::test]
async fn results_import_by_blind_code_over_http() {
    let srv = TestServer::start().await;
    let (task, _) = dispatched_task(&srv).await;
    let keeper = srv.api("lab_keeper").await;
    let (_, out) = keeper.post(&format!("/api/v1/lab/incoming/{task}/receipt"), receipt("accept", "SXGH-000123")).await;
    let code = out["blind_code"].as_str().unwrap().to_string();
    let tester = srv.api("lab_t1").await;
    let csv = format!("盲样编号,检验项目,检验结果\n{code},硫含量,8.1\n{code},十六烷值,abc\n");
    let send = |body: String| {
        tester
            .client
            .post(srv.url("/api/v1/lab/results/import?file_name=r.csv"))
            .bearer_auth(&tester.token)
            .body(body)
            .send()
    };
    let r = send(csv).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["written"], 0);
    assert_eq!(b["errors"][0]["row"], 3);
    let (_, v) = tester.get(&format!("/api/v1/lab/samples/{code}")).await;
    assert!(v["items"][0]["result"].is_null(), "nothing written");
    let r = send(format!("盲样编号,检验项目,检验结果\n{code},硫含量,8.1\n{code},十六烷值,52\n")).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (_, v) = tester.get(&format!("/api/v1/lab/samples/{code}")).await;
    assert_eq!(v["items"][1]["result"]["judgement"], "conforming");
}
