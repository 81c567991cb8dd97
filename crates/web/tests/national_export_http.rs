//! The national data exchange over HTTP (issue 18 part 7): the due list, a day's file as JSON (its
//! shape and labels) and as an Excel workbook opened with calamine (typed cells, Chinese file name
//! with an ASCII fallback), the explicit mark, the refusals, and the pages that offer them.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;

use calamine::{Data, Reader};
use choucha_service::fixtures::lab_world::*;
use chrono::TimeZone;
use common::TestServer;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The lab world on Monday 2026-11-16 (Beijing) with its sample's report issued that day (sulfur
/// 12.5: unqualified); its record says sampled on 2025-10-10.
async fn served() -> (TestServer, i64, String) {
    let monday = chrono::Utc.with_ymd_and_hms(2026, 11, 16, 2, 0, 0).unwrap();
    let w = world_with(Options { clock_at: Some(monday), ..Default::default() }).await;
    issued(&w, 12.5).await;
    let plan = w.plan;
    let uscc = w.uscc.clone();
    let srv = TestServer::start_with(w.fx).await;
    srv.enterprise_user("ent_user", &uscc).await;
    (srv, plan, uscc)
}

async fn download(srv: &TestServer, user: &str, path: &str) -> (StatusCode, String, String, Vec<u8>) {
    let token = srv.token(user).await;
    let r = reqwest::Client::new().get(srv.url(path)).bearer_auth(token).send().await.unwrap();
    let header = |h: &str| r.headers().get(h).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let (ct, cd) = (header("content-type"), header("content-disposition"));
    (r.status(), ct, cd, r.bytes().await.unwrap().to_vec())
}

fn sheet(bytes: &[u8], name: &str) -> calamine::Range<Data> {
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).expect("xlsx");
    book.worksheet_range(name).expect("sheet")
}

/// The cell under `label` in the first data row (row 0 is the title, row 1 the header).
fn cell<'a>(range: &'a calamine::Range<Data>, label: &str) -> &'a Data {
    let header: Vec<String> = range.rows().nth(1).unwrap().iter().map(ToString::to_string).collect();
    let col = header.iter().position(|h| h == label).unwrap_or_else(|| panic!("no column {label}: {header:?}"));
    &range.rows().nth(2).expect("a data row")[col]
}

#[tokio::test]
async fn the_due_list_and_a_days_json_file_carry_the_format_labels_and_rows() {
    let (srv, plan, uscc) = served().await;
    let (st, n) = srv.api("dt_reg").await.get(&format!("/api/v1/plans/{plan}/national-export")).await;
    assert_eq!(st, StatusCode::OK, "{n}");
    assert_eq!(n["format_version"], "choucha-ecqs/1");
    let sampling = n["kinds"].as_array().unwrap().iter().find(|k| k["kind"] == "sampling").unwrap();
    assert_eq!((sampling["due"].as_u64(), sampling["overdue"].as_u64()), (Some(1), Some(1)));
    assert_eq!(sampling["kind_label"], "抽样信息");
    let due = n["due"].as_array().unwrap();
    assert!(due.iter().any(|d| d["kind"] == "results" && d["deadline"] == "2026-11-19" && d["overdue"] == false));

    let path = format!("/api/v1/plans/{plan}/national-export/sampling?day=2025-10-10");
    let (st, ct, cd, bytes) = download(&srv, "lab_s1", &path).await;
    assert_eq!(st, StatusCode::OK);
    assert!(ct.starts_with("application/json"), "{ct}");
    assert!(cd.contains("ecqs-sampling-plan-") && cd.contains("filename*=UTF-8''"), "{cd}");
    let f: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(
        (f["format_version"].as_str(), f["kind"].as_str(), f["day"].as_str()),
        (Some("choucha-ecqs/1"), Some("sampling"), Some("2025-10-10"))
    );
    assert_eq!(f["content_sha256"].as_str().unwrap().len(), 64);
    let fields = f["fields"].as_array().unwrap();
    assert!(fields.iter().any(|x| x["key"] == "unit_price" && x["label"] == "单价（元）" && x["kind"] == "amount"));
    let row = &f["rows"][0];
    assert_eq!(row["enterprise_name"], ENTERPRISE);
    assert_eq!(row["enterprise_uscc"], uscc.as_str());
    assert_eq!(row["unit_price"], 7.35);
    assert_eq!(row["sampled_at"], "2025-10-10T10:30:00+08:00");
    assert!(row["keys"]["task_id"].is_i64());
    for field in fields {
        assert!(row.get(field["key"].as_str().unwrap()).is_some(), "row lacks {field}");
    }

    let (st, r) =
        srv.api("lab_keeper").await.get(&format!("/api/v1/plans/{plan}/national-export/results?day=2026-11-16")).await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(r["rows"][0]["qualified"], "不合格");
    assert_eq!(r["rows"][0]["items"][0]["judgement"], "不符合");
    assert_eq!(r["item_fields"][3]["label"], "检验项目");
}

#[tokio::test]
async fn a_days_excel_file_opens_with_typed_cells_and_a_chinese_name() {
    let (srv, plan, uscc) = served().await;
    let path = format!("/api/v1/plans/{plan}/national-export/sampling/xlsx?day=2025-10-10");
    let (st, ct, cd, bytes) = download(&srv, "lab_s1", &path).await;
    assert_eq!(st, StatusCode::OK);
    assert!(ct.contains("spreadsheetml"), "{ct}");
    assert!(cd.contains("filename=\"ecqs-sampling-plan-") && cd.contains(".xlsx"), "{cd}");
    assert!(cd.contains("%E5%9B%BD%E5%AE%B6"), "the Chinese name (国家…): {cd}");
    let s = sheet(&bytes, "抽样信息");
    assert!(s.rows().next().unwrap()[0].to_string().contains("choucha-ecqs/1"), "the title names the format");
    assert_eq!(cell(&s, "被抽样单位统一社会信用代码"), &Data::String(uscc.clone()));
    assert_eq!(cell(&s, "单价（元）"), &Data::Float(7.35));
    assert_eq!(cell(&s, "抽样基数"), &Data::Float(12000.0));
    assert!(matches!(cell(&s, "抽样时间"), Data::DateTime(_)), "{:?}", cell(&s, "抽样时间"));
    assert_eq!(cell(&s, "检验样品封条编号"), &Data::String("SXGH-000123".into()));
    let legend = sheet(&bytes, "字段说明");
    assert!(legend.rows().any(|r| r.iter().any(|c| matches!(c, Data::String(k) if k == "enterprise_uscc"))));

    let path = format!("/api/v1/plans/{plan}/national-export/results/xlsx?day=2026-11-16");
    let (st, _, cd, bytes) = download(&srv, "lab_keeper", &path).await;
    assert_eq!(st, StatusCode::OK);
    assert!(cd.contains("ecqs-results-plan-"), "{cd}");
    let s = sheet(&bytes, "检验结果");
    assert!(matches!(cell(&s, "签发日期"), Data::DateTime(_)));
    assert_eq!(cell(&s, "检验项目数"), &Data::Float(3.0));
    assert_eq!(cell(&s, "检验结论"), &Data::String("不合格".into()));
    let items = sheet(&bytes, "检验项目");
    assert_eq!(items.rows().count(), 2 + 3, "title, header and the three items");
}

#[tokio::test]
async fn marking_is_a_post_of_the_institution_and_refused_to_the_others() {
    let (srv, plan, _) = served().await;
    let (_, f) =
        srv.api("lab_s1").await.get(&format!("/api/v1/plans/{plan}/national-export/sampling?day=2025-10-10")).await;
    let sha = f["content_sha256"].as_str().unwrap().to_string();
    let url = format!("/api/v1/plans/{plan}/national-export/sampling/marks");
    let (st, e) = srv.api("dt_reg").await.post(&url, json!({"day": "2025-10-10", "content_sha256": sha})).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{e}");
    assert!(common::is_chinese(e["message"].as_str().unwrap()));
    let (st, e) = srv.api("lab_s1").await.post(&url, json!({"day": "2025-10-10", "content_sha256": "ab"})).await;
    assert_eq!((st, e["code"].as_str()), (StatusCode::CONFLICT, Some("export_changed")), "{e}");
    let (st, m) = srv.api("lab_s1").await.post(&url, json!({"day": "2025-10-10", "content_sha256": sha})).await;
    assert_eq!(st, StatusCode::OK, "{m}");
    assert_eq!(m["marked"], 1);
    let (_, n) = srv.api("dt_reg").await.get(&format!("/api/v1/plans/{plan}/national-export")).await;
    let sampling = n["kinds"].as_array().unwrap().iter().find(|k| k["kind"] == "sampling").unwrap();
    assert_eq!((sampling["due"].as_u64(), sampling["exported"].as_u64()), (Some(0), Some(1)));
    assert_eq!(n["marks"][0]["content_sha256"], sha.as_str());
    // Blind testers and the sampled enterprise: as if the plan had no such thing.
    for user in ["lab_t1", "lab_a1", "ent_user"] {
        let (st, e) =
            srv.api(user).await.get(&format!("/api/v1/plans/{plan}/national-export/results?day=2026-11-16")).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{user}: {e}");
    }
    let (st, e) = srv.api("dt_reg").await.get(&format!("/api/v1/plans/{plan}/national-export/other")).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{e}");
    let (st, e) =
        srv.api("dt_reg").await.get(&format!("/api/v1/plans/{plan}/national-export/sampling?day=10-10")).await;
    assert_eq!((st, e["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_date")), "{e}");
}

#[tokio::test]
async fn the_overview_shows_what_is_due_and_the_institution_marks_from_its_page() {
    let (srv, plan, _) = served().await;
    let bureau = srv.browser("dt_reg").await;
    let (st, html) = bureau.get(&format!("/plans/{plan}/overview")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("国家平台报送") && html.contains("data-testid=\"national-export\""));
    assert!(html.contains(&format!("/api/v1/plans/{plan}/national-export/results/xlsx?day=2026-11-16")));
    let (st, html) = bureau.get(&format!("/plans/{plan}/national-export")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("2025-10-11") && html.contains("已逾期"), "the sampling deadline and its flag");
    assert!(!html.contains("data-testid=\"mark\""), "the bureau supervises, it does not mark");

    let clerk = srv.browser("lab_s1").await;
    let page = format!("/plans/{plan}/national-export?day=2025-10-10");
    let (st, html) = clerk.get(&page).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("data-testid=\"mark\"") && html.contains("data-confirm="));
    let key = "name=\"content_sha256\" value=\"";
    let at = html.find(key).unwrap() + key.len();
    let sha = html[at..].split('"').next().unwrap().to_string();
    let csrf = clerk.csrf_of(&page).await;
    let r = clerk
        .post_form(
            &format!("/plans/{plan}/national-export/sampling/mark"),
            &[("csrf", csrf.as_str()), ("day", "2025-10-10"), ("content_sha256", sha.as_str())],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = clerk.get(&page).await;
    assert!(html.contains("已将2025-10-10的1条抽样信息标记为已报送国家平台"), "{html}");
    let (st, _) = srv.browser("lab_t1").await.get(&format!("/plans/{plan}/national-export")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}
