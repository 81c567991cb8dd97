//! 导出 Excel over HTTP: the lists a bureau works from (a plan's tasks with their state, the plan
//! overview, deliveries, objections and re-tests, post-processing cases, a task's evidence
//! checklist) download as XLSX with a Chinese file name and an ASCII fallback, with the rows of
//! their pages, for those who may see the page, and never for blind lab staff, another bureau or
//! an enterprise.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;

use choucha_documents::{TableFormat, read_rows};
use choucha_service::fixtures::lab_world::{ENTERPRISE, issued, world};
use choucha_service::objections::{self, ObjectionInput};

use common::{Browser, TestServer};
use reqwest::StatusCode;

/// The answer to a GET: status, content type, content disposition and body.
async fn download(b: &Browser, path: &str) -> (StatusCode, String, String, Vec<u8>) {
    let r = b.client.get(format!("{}{path}", b.base)).send().await.expect("get");
    let header = |name: &str| r.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let (content_type, disposition) = (header("content-type"), header("content-disposition"));
    (r.status(), content_type, disposition, r.bytes().await.expect("body").to_vec())
}

/// The rows of an exported workbook's first sheet, every cell as text.
async fn sheet(b: &Browser, path: &str, ascii_name: &str) -> Vec<Vec<String>> {
    let (status, content_type, disposition, body) = download(b, path).await;
    assert_eq!(status, StatusCode::OK, "{path}: {}", String::from_utf8_lossy(&body));
    assert_eq!(content_type, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "{path}");
    assert!(disposition.contains(&format!("filename=\"{ascii_name}")), "{path}: {disposition}");
    assert!(disposition.contains("filename*=UTF-8''%E"), "a Chinese name too: {disposition}");
    read_rows(&body, TableFormat::Xlsx).expect("a readable xlsx").into_iter().map(|(_, cells)| cells).collect()
}

fn holds(rows: &[Vec<String>], text: &str) -> bool {
    rows.iter().flatten().any(|c| c.contains(text))
}

#[tokio::test]
async fn a_bureau_exports_the_lists_it_works_from_and_others_are_refused() {
    let w = world().await;
    let s = w.fx.services.clone();
    w.fx.user("pc_reg", &["local_regulator"], Some("dt-pc")).await;
    w.fx.user("yg_reg", &["local_regulator"], Some("dt-yg")).await;
    w.fx.user("sx_reg", &["regulator"], Some("sx")).await;
    let owner = choucha_service::fixtures::lab_world::enterprise_user(&w).await;
    let other = w.fx.enterprise("大同市平城区另一加油站", "140213", "销售者、加油站", 9).await;
    choucha_service::fixtures::Fixture::make_user(&s, "ent_other", "李经理", &["enterprise"], None, Some(&other.uscc))
        .await;
    // An unqualified report (硫含量 12.5 > 10): deliveries, a case for 平城区; the enterprise
    // receives it and objects.
    let report = issued(&w, 12.5).await;
    let report_no = report.report_no.clone().unwrap();
    choucha_service::fixtures::lab_world::received_today(&s, &w.custodian, report.id).await;
    let objection = ObjectionInput {
        kind: "objection".into(),
        items: vec!["硫含量".into()],
        reason: "对硫含量结果有异议".into(),
        ..Default::default()
    };
    objections::file(&s, &owner, report.id, objection).await.unwrap();
    let (plan, task) = (w.plan, w.task);
    let srv = TestServer::start_with(w.fx).await;

    // The organising bureau.
    let reg = srv.browser("dt_reg").await;
    let tasks = sheet(&reg, &format!("/plans/{plan}/tasks.xlsx"), "sampling-tasks-2025-plan-").await;
    assert_eq!(tasks[1][..3], ["序号", "产品名称", "被抽样单位"], "title row, then the header");
    assert_eq!(tasks.len(), 3, "one task: {tasks:?}");
    assert_eq!((tasks[2][0].as_str(), tasks[2][2].as_str()), ("1", ENTERPRISE));
    assert_eq!(tasks[2][4], "大同市平城区", "the district's name, not its code: {tasks:?}");
    assert!(!tasks[2][6].is_empty(), "the task's state");

    let overview = sheet(&reg, &format!("/plans/{plan}/overview.xlsx"), "plan-overview-2025-plan-").await;
    assert!(holds(&overview, "车用柴油"), "{overview:?}");

    let deliveries = sheet(&reg, "/results.xlsx?state=all", "deliveries-").await;
    assert!(deliveries.len() > 2, "{deliveries:?}");
    assert!(deliveries[2..].iter().all(|r| r[1] == report_no), "{deliveries:?}");
    // The page's filter: nothing of this report is overdue.
    assert_eq!(sheet(&reg, "/results.xlsx?overdue=1", "deliveries-").await.len(), 2, "title and header only");

    let objections = sheet(&reg, "/retests.xlsx", "objections-retests-").await;
    assert_eq!(objections.len(), 3, "{objections:?}");
    assert_eq!((objections[2][2].as_str(), objections[2][4].as_str()), (report_no.as_str(), "硫含量"));

    let evidence =
        sheet(&reg, &format!("/tasks/{task}/evidence.xlsx"), &format!("evidence-checklist-task-{task}")).await;
    assert!(holds(&evidence, ENTERPRISE), "the title names the task: {evidence:?}");
    assert!(evidence[2..].iter().any(|r| r[2] != "0"), "photos counted per category: {evidence:?}");

    // The plan's own tables are named after what they are, in Chinese and in ASCII.
    let (_, _, summary, _) = download(&reg, &format!("/plans/{plan}/summary.xlsx")).await;
    assert!(summary.contains(&format!("filename=\"summary-table-2025-plan-{plan}.xlsx\"")), "{summary}");
    let (_, _, annex1, _) = download(&reg, &format!("/plans/{plan}/annex1.xlsx")).await;
    assert!(annex1.contains("filename=\"annex1-plan-table-2025-plan-"), "{annex1}");
    assert!(annex1.contains("%E9%99%84%E4%BB%B61"), "附件1 in the UTF-8 name: {annex1}");

    // The county bureau runs the case; the neighbouring county has none of it.
    let county = srv.browser("pc_reg").await;
    let cases = sheet(&county, "/cases.xlsx?filter=all", "post-processing-cases-").await;
    assert_eq!(cases.len(), 3, "{cases:?}");
    assert_eq!((cases[2][4].as_str(), cases[2][5].as_str()), (report_no.as_str(), ENTERPRISE));
    let neighbour = srv.browser("yg_reg").await;
    assert_eq!(sheet(&neighbour, "/cases.xlsx?filter=all", "post-processing-cases-").await.len(), 2);

    // The pages offer the export.
    for page in
        ["/results", "/cases", "/retests", &format!("/plans/{plan}/overview"), &format!("/tasks/{task}/evidence")]
    {
        let who = if page == "/cases" { &county } else { &reg };
        let (st, html) = who.get(page).await;
        assert_eq!(st, StatusCode::OK, "{page}");
        assert!(html.contains("导出 Excel") && html.contains(".xlsx"), "{page}");
    }

    // Blind lab staff, another province's bureau and enterprises get none of them.
    let refused = |status: StatusCode| status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND;
    let plan_paths = [
        format!("/plans/{plan}/tasks.xlsx"),
        format!("/plans/{plan}/overview.xlsx"),
        format!("/tasks/{task}/evidence.xlsx"),
    ];
    let lists = ["/results.xlsx?state=all", "/retests.xlsx", "/cases.xlsx?filter=all"];
    for who in ["lab_t1", "lab_a1", "ent_user", "ent_other"] {
        let b = srv.browser(who).await;
        for path in plan_paths.iter().map(String::as_str).chain(lists) {
            let (status, content_type, _, _) = download(&b, path).await;
            assert!(refused(status), "{who} {path}: {status}");
            assert!(!content_type.contains("spreadsheetml"), "{who} {path}");
        }
    }
    let b = srv.browser("sx_reg").await;
    for path in &plan_paths {
        assert!(refused(download(&b, path).await.0), "sx_reg {path}");
    }
}

/// The `<c …>` element of cell `reference` in the first sheet's XML.
fn cell_xml(bytes: &[u8], reference: &str) -> String {
    use std::io::Read as _;
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("xlsx is a zip");
    let mut xml = String::new();
    zip.by_name("xl/worksheets/sheet1.xml").expect("sheet1").read_to_string(&mut xml).expect("utf-8");
    let start = xml.find(&format!("<c r=\"{reference}\"")).unwrap_or_else(|| panic!("{reference} in {xml}"));
    let rest = &xml[start..];
    rest[..rest.find("</c>").map_or(rest.find("/>").unwrap() + 2, |e| e + 4)].to_string()
}

#[tokio::test]
async fn a_sampler_exports_only_their_own_tasks_with_the_pages_filters() {
    let w = world().await;
    // A sampler of the same institution on none of the world's tasks.
    w.fx.user("lab_s3", &["sampler"], Some("lab")).await;
    let task = w.task;
    let srv = TestServer::start_with(w.fx).await;

    let s1 = srv.browser("lab_s1").await;
    let (_, html) = s1.get("/tasks").await;
    assert!(html.contains("/tasks.xlsx?state="), "the list page offers the export");
    let rows = sheet(&s1, "/tasks.xlsx", "my-sampling-tasks-").await;
    assert_eq!(rows[1][..4], ["序号", "任务编号", "产品名称", "被抽样单位"], "title row, then the header: {rows:?}");
    assert_eq!(rows.len(), 3, "one task: {rows:?}");
    assert_eq!((rows[2][1].clone(), rows[2][3].as_str()), (task.to_string(), ENTERPRISE));
    assert!(rows[0][0].contains("的抽样任务"), "{rows:?}");
    // Typed cells: the sequence and the task number are numbers; the USCC stays text.
    let (_, _, _, body) = download(&s1, "/tasks.xlsx").await;
    for number in ["A3", "B3"] {
        let c = cell_xml(&body, number);
        assert!(!c.contains(" t=\"") && c.contains("<v>"), "{number} is a number: {c}");
    }
    assert!(cell_xml(&body, "E3").contains(" t=\""), "the USCC stays text");

    // The page's filters: a state the task is not in, a search that does not match, one that does.
    assert_eq!(sheet(&s1, "/tasks.xlsx?state=assigned", "my-sampling-tasks-").await.len(), 2, "header only");
    assert_eq!(sheet(&s1, "/tasks.xlsx?q=%E6%97%A0%E6%AD%A4%E4%BC%81%E4%B8%9A", "my-sampling-tasks-").await.len(), 2);
    assert_eq!(sheet(&s1, "/tasks.xlsx?q=%E5%8A%A0%E6%B2%B9%E7%AB%99", "my-sampling-tasks-").await.len(), 3);

    // Another sampler's tasks are never in it; non-samplers get none.
    let s3 = srv.browser("lab_s3").await;
    let other = sheet(&s3, "/tasks.xlsx", "my-sampling-tasks-").await;
    assert_eq!(other.len(), 2, "{other:?}");
    assert!(!holds(&other, ENTERPRISE));
    for who in ["lab_t1", "dt_reg"] {
        let (status, content_type, _, _) = download(&srv.browser(who).await, "/tasks.xlsx").await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{who}");
        assert!(!content_type.contains("spreadsheetml"), "{who}");
    }
}
