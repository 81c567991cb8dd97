//! The laboratory's pages as their users click through them: the custodian receives a sample with
//! the form and prints its label; the tester enters a result by blind code and sees the judgement;
//! a refused action comes back with its rule; the lab roles get a navigation entry.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use base64::Engine as _;

mod common;

use common::TestServer;
use reqwest::StatusCode;
use serde_json::json;

include!("common/lab_world.rs");

fn location(r: &reqwest::Response) -> String {
    r.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}

#[tokio::test]
async fn custodian_receives_by_form_and_tester_enters_results_by_blind_code() {
    let srv = TestServer::start().await;
    let (task, _) = dispatched_task(&srv).await;
    let keeper = srv.browser("lab_keeper").await;
    let (st, home) = keeper.get("/").await;
    assert_eq!(st, StatusCode::OK);
    assert!(home.contains("href=\"/lab\""), "lab nav entry for the custodian");
    let (_, list) = keeper.get("/lab/incoming").await;
    assert!(list.contains(&format!("/lab/incoming/{task}")), "{list}");
    let csrf = keeper.csrf_of(&format!("/lab/incoming/{task}")).await;
    // A wrong seal number with "accept" is refused with rule 12's message, nothing received.
    let form = |seal: &'static str, decision: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("delivered_by", "张三".to_string()),
            ("carrier", "EMS".to_string()),
            ("tracking_no", "EA1".to_string()),
            ("test_seals", seal.to_string()),
            ("backup_seals", "SXGH-000124".to_string()),
            ("test_quantity", "2".to_string()),
            ("backup_quantity", "2".to_string()),
            ("seals_intact", "on".to_string()),
            ("labels_match", "on".to_string()),
            ("decision", decision.to_string()),
            ("backup_location", "样品库A区".to_string()),
        ]
    };
    // The form goes as the browser sends it: multipart, with the photos, the CSRF token in the URL.
    let png = base64::engine::general_purpose::STANDARD.decode(PNG).unwrap();
    let send = |pairs: Vec<(&'static str, String)>, photo: Option<&[u8]>| {
        let mut mp = reqwest::multipart::Form::new();
        for (k, v) in pairs {
            if k != "csrf" {
                mp = mp.text(k, v);
            }
        }
        if let Some(bytes) = photo {
            let part =
                reqwest::multipart::Part::bytes(bytes.to_vec()).file_name("seals.png").mime_str("image/png").unwrap();
            mp = mp.part("photos", part);
        }
        keeper
            .client
            .post(srv.url(&format!("/lab/incoming/{task}")))
            .header("x-csrf-token", csrf.to_string())
            .multipart(mp)
            .send()
    };
    let r = send(form("SXGH-0", "accept"), Some(&png)).await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), format!("/lab/incoming/{task}"));
    let (_, again) = keeper.get(&format!("/lab/incoming/{task}")).await;
    assert!(again.contains("规则12"), "{again}");
    // Without a photo: refused, the rule named.
    let r = send(form("SXGH-000123", "accept"), None).await.unwrap();
    assert_eq!(location(&r), format!("/lab/incoming/{task}"));
    let (_, again) = keeper.get(&format!("/lab/incoming/{task}")).await;
    assert!(again.contains("拍照记录"), "{again}");
    let r = send(form("SXGH-000123", "accept"), Some(&png)).await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = location(&r);
    assert!(to.starts_with("/lab/received/"), "{to}");
    let (_, page) = keeper.get(&to).await;
    // The photo is stored unaltered and shown to the custodian.
    let key = "/photos/";
    let at = page.find(key).expect("receipt photo shown") + key.len();
    let sha = page[at..].split('"').next().unwrap().to_string();
    let img = keeper.client.get(srv.url(&format!("{to}/photos/{sha}"))).send().await.unwrap();
    assert_eq!(img.headers()["content-type"], "image/png");
    assert_eq!(&img.bytes().await.unwrap()[..], &png[..]);
    let key = "data-testid=\"blind-code\">";
    let at = page.find(key).expect("blind code shown") + key.len();
    let code = page[at..].split('<').next().unwrap().to_string();
    assert!(page.contains("打印盲样标签") && page.contains(&format!("{to}/label.pdf")));
    let r = keeper.client.get(srv.url(&format!("{to}/label.pdf"))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.bytes().await.unwrap().starts_with(b"%PDF"));

    // The tester works by blind code.
    let tester = srv.browser("lab_t1").await;
    let (_, work) = tester.get("/lab/samples").await;
    assert!(work.contains(&code), "{work}");
    let csrf = tester.csrf_of(&format!("/lab/samples/{code}")).await;
    let r = tester
        .post_form(
            &format!("/lab/samples/{code}/results"),
            &[
                ("csrf", &csrf),
                ("item_index", "0"),
                ("kind", "number"),
                ("value", "12.5"),
                ("instrument", "XRF"),
                ("tested_on", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, detail) = tester.get(&format!("/lab/samples/{code}")).await;
    assert!(detail.contains("12.5mg/kg") && detail.contains("data-testid=\"judgement-0\">不符合"), "{detail}");
    // The whole sample in one form and one save: a wrong value refuses it all, naming the item.
    let form = [
        ("csrf", csrf.as_str()),
        ("kind_0", "number"),
        ("value_0", "8.0"),
        ("kind_1", "number"),
        ("value_1", "abc"),
        ("kind_2", "text"),
        ("value_2", ""),
        ("tested_on", ""),
    ];
    tester.post_form(&format!("/lab/samples/{code}/results"), &form).await;
    let (_, detail) = tester.get(&format!("/lab/samples/{code}")).await;
    assert!(detail.contains("第2项") && detail.contains("12.5mg/kg"), "refused, nothing changed: {detail}");
    let form = [
        ("csrf", csrf.as_str()),
        ("kind_0", "number"),
        ("value_0", "12.5"),
        ("kind_1", "number"),
        ("value_1", "65"),
        ("instrument_1", "闭口闪点仪"),
        ("kind_2", "text"),
        ("value_2", ""),
        ("tested_on", ""),
    ];
    let r = tester.post_form(&format!("/lab/samples/{code}/results"), &form).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, detail) = tester.get(&format!("/lab/samples/{code}")).await;
    assert!(detail.contains("已保存2个检验项目的结果") && detail.contains("闭口闪点仪"), "{detail}");
    assert!(detail.contains("data-testid=\"judgement-1\">符合"), "{detail}");
    // The instrument's sheet for this sample: rows naming another sample are refused, nothing written.
    let upload = |csv: &'static str| {
        reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(csv.as_bytes().to_vec())
                .file_name("results.csv")
                .mime_str("text/csv")
                .unwrap(),
        )
    };
    let send = |form: reqwest::multipart::Form| {
        tester
            .client
            .post(srv.url(&format!("/lab/samples/{code}/results/import")))
            .header("x-csrf-token", csrf.to_string())
            .multipart(form)
            .send()
    };
    let other = "盲样编号,检验项目,检验结果\nZZ-0001,硫含量,8.0\n";
    assert_eq!(send(upload(other)).await.unwrap().status(), StatusCode::SEE_OTHER);
    let (_, detail) = tester.get(&format!("/lab/samples/{code}")).await;
    assert!(detail.contains("不是本样品"), "{detail}");
    assert_eq!(
        send(upload("检验项目,检验结果,仪器设备\n硫含量,8.0,XRF-02\n")).await.unwrap().status(),
        StatusCode::SEE_OTHER
    );
    let (_, detail) = tester.get(&format!("/lab/samples/{code}")).await;
    assert!(detail.contains("已导入1个检验项目的结果") && detail.contains("XRF-02"), "{detail}");
    assert!(detail.contains("data-testid=\"judgement-0\">符合"), "the corrected sulfur conforms: {detail}");
    // Preparing a report before the results are complete is refused, with its reason on the page.
    let r = tester.post_form(&format!("/lab/samples/{code}/reports"), &[("csrf", &csrf)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, detail) = tester.get(&format!("/lab/samples/{code}")).await;
    assert!(detail.contains("未执行"), "{detail}");

    // A sampler has no lab entry; a tester's link to the custodian's page is not found.
    let sampler = srv.browser("lab_s2").await;
    let (_, home) = sampler.get("/").await;
    assert!(!home.contains("href=\"/lab\""));
    let (st, _) = tester.get(&to).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_sample_received_at_23_30_utc_is_shown_on_the_next_beijing_day_and_never_in_utc() {
    use chrono::TimeZone;
    // 2026-03-01 23:30 UTC is 2026-03-02 07:30 in Beijing.
    let at = chrono::Utc.with_ymd_and_hms(2026, 3, 1, 23, 30, 0).unwrap();
    let srv = TestServer::start().await;
    srv.fx.services.clock().run_from(at - chrono::Duration::hours(1));
    let (task, _) = dispatched_task(&srv).await;
    srv.fx.services.clock().run_from(at);
    let receipt = json!({"delivered_by": "EMS快递员", "carrier": "EMS", "tracking_no": "EA123456789CN",
           "observed": {"test_seals": ["SXGH-000123"], "backup_seals": ["SXGH-000124"], "test_quantity": 2.0, "backup_quantity": 2.0,
                        "seals_intact": true, "labels_match": true, "appearance": "完好"},
           "decision": "accept", "reason": "", "backup_location": "样品库A区",
           "photos": [{"file_name": "seals.png", "content_type": "image/png", "data_base64": PNG}]});
    let (st, out) = srv.api("lab_keeper").await.post(&format!("/api/v1/lab/incoming/{task}/receipt"), receipt).await;
    assert_eq!(st, StatusCode::OK, "{out}");
    let code = out["blind_code"].as_str().unwrap().to_string();
    let sample_id = out["sample_id"].as_i64().unwrap();
    // The custodian's pages: the receipt and its custody in Beijing time.
    let keeper = srv.browser("lab_keeper").await;
    let (_, link) = keeper.get(&format!("/lab/received/{sample_id}")).await;
    assert!(link.contains("接收：2026-03-02 07:30"), "{link}");
    assert!(!link.contains("UTC") && !link.contains("2026-03-01"), "{link}");
    // Its custody stages in Chinese, never the stored codes (test / sealed / intact).
    assert!(link.contains("<td>检验样品</td><td>封样</td><td>完好</td>"), "{link}");
    assert!(link.contains("<td>全部样品</td><td>检验机构接收</td>"), "{link}");
    assert!(!link.contains("<td>sealed</td>") && !link.contains("<td>received</td>"), "{link}");
    let (_, list) = keeper.get("/lab/received").await;
    assert!(list.contains("2026-03-02 07:30") && !list.contains("UTC"), "{list}");
    // The tester's page dates the arrival 2 March.
    let (_, sample) = srv.browser("lab_t1").await.get(&format!("/lab/samples/{code}")).await;
    assert!(sample.contains("到样日期：2026-03-02"), "{sample}");
}
