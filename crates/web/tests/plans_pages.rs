//! The plan, rules, draw, task and public pages over real HTTP, as a browser uses them.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;

use common::{Browser, TestServer};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn item(n: &str, c: &str, p: &str, q: Option<u32>) -> Value {
    json!({"number": n, "category": c, "product": p, "quota": q, "scopes": "生产者、销售者", "sampling_org_code": "lab", "testing_org_code": "lab"})
}

fn datong_json(title: &str) -> Value {
    json!({
        "plan": {"year": 2025, "title": title, "organising_org_code": "dt", "deadline_delivery": "2025-11-15"},
        "items": [
            item("1", "机械及安防", "车用柴油", Some(70)),
            item("2", "电子电器", "电冰箱", Some(60)),
            item("3", "电子电器", "家用电动洗衣机", None),
            item("4", "日用及纺织品", "羊绒针织衫", Some(60)),
            item("5", "日用及纺织品", "羽绒服装", None),
        ]
    })
}

const DATONG: &str = "2025年车用柴油、家电产品、羊绒衫、羽绒服等质量监督抽查";

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

/// A plan made through the API: (plan id, id of its first item, 车用柴油).
async fn plan_via_api(srv: &TestServer, body: Value, issue: bool) -> (i64, i64) {
    let (id, plan) = plan_json_via_api(srv, body, issue).await;
    (id, plan["items"][0]["id"].as_i64().unwrap())
}

async fn plan_json_via_api(srv: &TestServer, body: Value, issue: bool) -> (i64, Value) {
    let reg = srv.api("dt_reg").await;
    let (status, plan) = reg.post("/api/v1/plans", body).await;
    assert_eq!(status, StatusCode::CREATED, "{plan}");
    let id = plan["id"].as_i64().unwrap();
    if issue {
        let (status, body) = reg.post(&format!("/api/v1/plans/{id}/issue"), json!({})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    (id, plan)
}

/// A draw of three enterprises through the API.
async fn draw_via_api(srv: &TestServer, item_id: i64) -> i64 {
    let reg = srv.api("dt_reg").await;
    let (status, draw) =
        reg.post("/api/v1/draws", json!({"item_id": item_id, "quota": 3, "seed": "公开摇号 2025-10-08"})).await;
    assert_eq!(status, StatusCode::CREATED, "{draw}");
    draw["id"].as_i64().unwrap()
}

fn location(r: &reqwest::Response) -> String {
    r.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}

/// The number after `prefix` in `html` (e.g. the id in `data-task="12"`).
fn number_after(html: &str, prefix: &str) -> i64 {
    let at = html.find(prefix).unwrap_or_else(|| panic!("no {prefix} in page")) + prefix.len();
    html[at..].chars().take_while(char::is_ascii_digit).collect::<String>().parse().unwrap()
}

/// The draw form's risk weighting: a bad weight is named on the form with what was typed kept; a
/// good one draws by class and the record shows the weights and each drawn enterprise's class.
#[tokio::test]
async fn the_draw_form_draws_by_risk_class() {
    let srv = setup().await;
    let (_, diesel) = plan_via_api(&srv, datong_json(DATONG), true).await;
    let b = srv.browser("dt_reg").await;
    let page = format!("/items/{diesel}/draw");
    let (_, html) = b.get(&page).await;
    assert!(html.contains("按信用风险等级加权抽取") && html.contains("value=\"30\""), "default weights: {html}");
    let form = |high: &'static str| {
        vec![
            ("quota", "3"),
            ("seed", "风险加权 表单"),
            ("team_size", "2"),
            ("risk", "1"),
            ("risk_weight_A", "1"),
            ("risk_weight_B", "2"),
            ("risk_weight_C", "10"),
            ("risk_weight_D", high),
        ]
    };
    let (status, _, html) = post(&b, &page, &page, &form("三十")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("高风险（D类）的权重“三十”应为0至1000的整数") && html.contains("value=\"三十\""), "{html}");
    let (status, loc, _) = post(&b, &page, &page, &form("30")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, html) = b.get(&loc).await;
    assert!(html.contains("choucha-draw-risk-v1") && html.contains("风险等级权重"), "{html}");
    assert_eq!(html.matches("data-testid=\"risk-class\">一般风险（B类）<").count(), 3, "{html}");
}

async fn post(b: &Browser, csrf_page: &str, path: &str, fields: &[(&str, &str)]) -> (StatusCode, String, String) {
    let csrf = b.csrf_of(csrf_page).await;
    let mut form = vec![("csrf", csrf.as_str())];
    form.extend_from_slice(fields);
    let r = b.post_form(path, &form).await;
    let status = r.status();
    let loc = location(&r);
    (status, loc, r.text().await.unwrap_or_default())
}

#[tokio::test]
async fn plan_page_prints_annex1_with_merged_quota_cells_and_the_total() {
    let srv = setup().await;
    let (id, _) = plan_via_api(&srv, datong_json(DATONG), false).await;
    let b = srv.browser("dt_reg").await;
    let (status, html) = b.get(&format!("/plans/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("data-testid=\"annex1\""));
    // 电冰箱 + 家用电动洗衣机 and 羊绒针织衫 + 羽绒服装 share 60 each: one merged cell per pair.
    assert_eq!(html.matches("data-testid=\"quota\" rowspan=\"2\">60</td>").count(), 2, "{html}");
    assert!(html.contains("data-testid=\"quota\">70</td>"));
    assert!(html.contains("合计"));
    assert!(html.contains("data-testid=\"total-quota\"><strong>190</strong>"));
    assert!(html.contains("草稿"));
    assert!(html.contains("2025-11-15"));
    // Two products under one 序号 (Shanxi 2022, item 6): the number cell spans both rows.
    let shanxi = json!({
        "plan": {"year": 2022, "title": "2022年第四批产品质量监督抽查", "organising_org_code": "dt"},
        "items": [item("6", "食品相关产品", "食品接触用纸制品", Some(10)), item("6", "食品相关产品", "食品接触用塑料制品", Some(10))]
    });
    let (id2, _) = plan_via_api(&srv, shanxi, false).await;
    let (_, html) = b.get(&format!("/plans/{id2}")).await;
    assert!(html.contains("<td rowspan=\"2\">6</td>"), "{html}");
    assert!(html.contains("data-testid=\"total-quota\"><strong>20</strong>"));
    // The export downloads the notice's XLSX.
    let r = b.client.get(srv.url(&format!("/plans/{id}/annex1.xlsx"))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"].to_str().unwrap().contains("spreadsheetml"));
    // The list shows it; the navigation offers the plans.
    let (_, list) = b.get("/plans?year=2025").await;
    assert!(list.contains(DATONG));
    assert!(list.contains("href=\"/plans\""));
}

#[tokio::test]
async fn plan_form_refuses_an_empty_product_and_keeps_what_was_typed() {
    let srv = setup().await;
    let b = srv.browser("dt_reg").await;
    let (status, html) = b.get("/plans/new").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("空白表示") || html.contains("抽查批次留空表示与上一行产品共用批次"));
    let row = |product: &'static str| -> Vec<(&'static str, &'static str)> {
        vec![
            ("number", "1"),
            ("category", "机械及安防"),
            ("product", product),
            ("quota", "70"),
            ("scopes", "生产者、销售者"),
            ("sampling_org_code", "lab"),
            ("testing_org_code", "lab"),
            ("screening_org_code", ""),
            ("number", "2"),
            ("category", "电子电器"),
            ("product", "电冰箱"),
            ("quota", "60"),
            ("scopes", "生产者、销售者"),
            ("sampling_org_code", "lab"),
            ("testing_org_code", "lab"),
            ("screening_org_code", ""),
            ("number", "3"),
            ("category", "电子电器"),
            ("product", "家用电动洗衣机"),
            ("quota", ""),
            ("scopes", "生产者、销售者"),
            ("sampling_org_code", "lab"),
            ("testing_org_code", "lab"),
            ("screening_org_code", ""),
            // A blank row left over in the form is ignored.
            ("number", ""),
            ("category", ""),
            ("product", ""),
            ("quota", ""),
            ("scopes", ""),
            ("sampling_org_code", ""),
            ("testing_org_code", ""),
            ("screening_org_code", ""),
        ]
    };
    let mut fields = vec![
        ("year", "2025"),
        ("title", "2025年页面新建计划"),
        ("organising_org_code", "dt"),
        ("deadline_delivery", "2025-11-15"),
    ];
    fields.extend(row(""));
    let (status, _, html) = post(&b, "/plans/new", "/plans/new", &fields).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("第1个产品：产品名称不能为空"), "{html}");
    assert!(html.contains("value=\"2025年页面新建计划\""));
    assert!(html.contains("value=\"机械及安防\""));
    assert!(html.contains("value=\"家用电动洗衣机\""));
    assert!(html.contains("value=\"2025-11-15\""));
    assert!(html.contains("<option value=\"lab\" selected>"));

    let mut fields = vec![
        ("year", "2025"),
        ("title", "2025年页面新建计划"),
        ("organising_org_code", "dt"),
        ("deadline_delivery", "2025-11-15"),
    ];
    fields.extend(row("车用柴油"));
    let (status, loc, _) = post(&b, "/plans/new", "/plans/new", &fields).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(loc.starts_with("/plans/"), "{loc}");
    let (_, html) = b.get(&loc).await;
    assert!(html.contains("已保存计划草稿"));
    assert!(html.contains("data-testid=\"quota\" rowspan=\"2\">60</td>"));
    assert!(html.contains("data-testid=\"total-quota\"><strong>130</strong>"));
    // The edit form comes back with the shared quota blank.
    let (status, edit) = b.get(&format!("{loc}/edit")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(edit.contains("value=\"家用电动洗衣机\""));
}

#[tokio::test]
async fn issuing_closing_and_amending_from_the_plan_page() {
    let srv = setup().await;
    // Without a testing institution the plan is not issued, and the page says why.
    let mut unassigned = datong_json("2025年未指定机构的计划");
    unassigned["items"][1]["testing_org_code"] = Value::Null;
    let (bad, _) = plan_via_api(&srv, unassigned, false).await;
    let b = srv.browser("dt_reg").await;
    let page = format!("/plans/{bad}");
    let (status, _, html) = post(&b, &page, &format!("{page}/issue"), &[]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(html.contains("以下产品尚未指定检验机构：电冰箱"), "{html}");

    let (id, plan) = plan_json_via_api(&srv, datong_json(DATONG), false).await;
    let page = format!("/plans/{id}");
    let (_, html) = b.get(&page).await;
    assert!(html.contains("data-confirm="), "issuing asks first");
    let (status, loc, _) = post(&b, &page, &format!("{page}/issue"), &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(loc, page);
    let (_, html) = b.get(&page).await;
    assert!(html.contains("data-testid=\"plan-state\">已下达"), "{html}");
    assert!(html.contains("随机抽取"));

    // An amendment needs its reason; then it is recorded.
    let fridge_s = plan["items"][1]["id"].as_i64().unwrap().to_string();
    let (status, _, html) =
        post(&b, &page, &format!("{page}/amend"), &[("item_id", &fridge_s), ("quota", "80"), ("reason", "")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("说明理由"), "{html}");
    assert!(html.contains("value=\"80\""));
    let (status, _, _) = post(
        &b,
        &page,
        &format!("{page}/amend"),
        &[("item_id", &fridge_s), ("quota", "80"), ("reason", "补充抽查加油站")],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, html) = b.get(&page).await;
    assert!(html.contains("补充抽查加油站"));
    assert!(html.contains("data-testid=\"total-quota\"><strong>210</strong>"), "190 - 60 + 80");

    let (status, _, _) = post(&b, &page, &format!("{page}/close"), &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, html) = b.get(&page).await;
    assert!(html.contains("已结束"));
}

#[tokio::test]
async fn draw_page_previews_draws_lists_teams_and_verifies() {
    let srv = setup().await;
    let (plan, diesel) = plan_via_api(&srv, datong_json(DATONG), true).await;
    let b = srv.browser("dt_reg").await;
    let page = format!("/items/{diesel}/draw");
    let (status, html) = b.get(&page).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("data-testid=\"candidate-count\">8<"), "{html}");
    assert!(html.contains("data-testid=\"samplers\">2 人"));
    assert!(html.contains("抽取前"), "the seed is shown before drawing");

    let form = |quota: &'static str| {
        vec![
            ("division", ""),
            ("product_line", ""),
            ("size_class", ""),
            ("status", ""),
            ("quota", quota),
            ("seed", "公开摇号 2025-10-08"),
            ("team_size", "2"),
        ]
    };
    // More than the quota left: refused with the service's message, values kept.
    let (status, _, html) = post(&b, &page, &page, &form("999")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("抽取数量须在1至剩余批次70之间"), "{html}");
    assert!(html.contains("value=\"公开摇号 2025-10-08\""));

    let (status, loc, _) = post(&b, &page, &page, &form("3")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(loc.starts_with("/draws/"), "{loc}");
    let (status, html) = b.get(&loc).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("随机抽取完成"));
    assert_eq!(html.matches("data-testid=\"drawn-name\">大同市平城区示例加油站").count(), 3, "{html}");
    assert!(html.contains("lab_s1、lab_s2") || html.contains("lab_s2、lab_s1"), "teams of two");
    assert!(html.contains("公开摇号 2025-10-08"));
    assert!(html.contains("choucha-draw-v1"));
    assert!(html.contains("待抽样"));
    let (_, verified) = b.get(&format!("{loc}?verify=1")).await;
    assert!(verified.contains("复核一致"), "{verified}");
    // The plan page lists the draw and the progress.
    let (_, html) = b.get(&format!("/plans/{plan}")).await;
    assert!(html.contains(&format!("href=\"{loc}\"")));
    assert!(html.contains("data-testid=\"progress\">3 / 70</td>"));
    // Publishing asks first and then shows the public link.
    let (status, _, _) = post(&b, &loc, &format!("{loc}/publish"), &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, html) = b.get(&loc).await;
    assert!(html.contains("data-testid=\"published\""));
}

#[tokio::test]
async fn sampler_sees_the_task_and_cannot_start_before_rules_are_published() {
    let srv = setup().await;
    let (_, diesel) = plan_via_api(&srv, datong_json(DATONG), true).await;
    draw_via_api(&srv, diesel).await;
    let s1 = srv.browser("lab_s1").await;
    let (status, html) = s1.get("/tasks").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("大同市平城区示例加油站"));
    assert!(html.contains("车用柴油"));
    assert!(html.contains("尚未公开，暂不能抽样"));
    let task = number_after(&html, "data-task=\"");
    let page = format!("/tasks/{task}");
    let (status, html) = s1.get(&page).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("开始抽样"));
    let (status, _, html) = post(&s1, &page, &format!("{page}/start"), &[]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(html.contains("该产品的实施细则尚未经组织部门备案并向社会公开，不能开始抽样（规则3）"), "{html}");
    // A regulator has no task list.
    let reg = srv.browser("dt_reg").await;
    assert_eq!(reg.get("/tasks").await.0, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn rules_pages_go_from_draft_to_public_and_then_sampling_starts() {
    let srv = setup().await;
    let (_, diesel) = plan_via_api(&srv, datong_json(DATONG), true).await;
    draw_via_api(&srv, diesel).await;
    let tester = srv.browser("lab_tester").await;
    let page = format!("/items/{diesel}/rules");
    let (status, html) = tester.get(&page).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("起草第1版"));
    let rules = |limit: &'static str| {
        vec![
            ("rules_id", ""),
            ("standards", "GB 19147-2016"),
            ("ti_name", "硫含量"),
            ("ti_method", "SH/T 0689"),
            ("ti_kind", "max"),
            ("ti_a", limit),
            ("ti_b", ""),
            ("ti_unit", "mg/kg"),
            ("ti_class", ""),
            ("ti_name", "闪点（闭口）"),
            ("ti_method", "GB/T 261"),
            ("ti_kind", "min"),
            ("ti_a", "60"),
            ("ti_b", ""),
            ("ti_unit", "℃"),
            ("ti_class", ""),
            ("test_portion", "1L×2"),
            ("backup_portion", "1L×2"),
            ("min_base", ""),
            ("judgement_principle", "所检项目全部符合标准要求为合格"),
            ("retest_terms", ""),
            ("licence", "none"),
        ]
    };
    let (status, _, html) = post(&tester, &page, &page, &rules("十")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("第1个检验项目“硫含量”：限值“十”不是有效数字"), "{html}");
    assert!(html.contains("value=\"闪点（闭口）\""));
    let (status, _, _) = post(&tester, &page, &page, &rules("10")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, html) = tester.get(&page).await;
    assert!(html.contains("≤10mg/kg"), "{html}");
    assert!(html.contains("≥60℃"));
    assert!(html.contains("修改第1版草稿"));
    let rid = number_after(&html, &format!("/items/{diesel}/rules/"));
    let step = format!("/items/{diesel}/rules/{rid}/step");
    // The institution cannot publish: the rule 3 party message.
    let (status, _, html) = post(&tester, &page, &step, &[("action", "publish")]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(html.contains("只能由组织监督抽查的部门进行（规则3）"), "{html}");
    let (status, _, _) = post(&tester, &page, &step, &[("action", "submit")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);

    let reg = srv.browser("dt_reg").await;
    let (_, html) = reg.get(&page).await;
    assert!(html.contains("已提交备案"));
    assert!(html.contains("备案通过"));
    let (status, _, html) = post(&reg, &page, &step, &[("action", "return"), ("reason", "")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("退回须说明理由"));
    for action in ["approve", "publish"] {
        let (status, _, html) = post(&reg, &page, &step, &[("action", action)]).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{action}: {html}");
    }
    let anon = reqwest::Client::new();
    let html = anon.get(srv.url(&format!("/public/rules/{diesel}"))).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("≤10mg/kg"));
    assert!(html.contains("GB 19147-2016"));
    assert!(html.contains("所检项目全部符合标准要求为合格"));

    let s1 = srv.browser("lab_s1").await;
    let (_, html) = s1.get("/tasks").await;
    let task = number_after(&html, "data-task=\"");
    let page = format!("/tasks/{task}");
    let (status, _, _) = post(&s1, &page, &format!("{page}/start"), &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, html) = s1.get(&page).await;
    assert!(html.contains("data-testid=\"task-state\">抽样中"), "{html}");
}

#[tokio::test]
async fn public_pages_need_no_sign_in_and_hide_drafts_and_unpublished_draws() {
    let srv = setup().await;
    let (draft, _) = plan_via_api(&srv, datong_json("2026年尚未下达的计划"), false).await;
    let (issued, diesel) = plan_via_api(&srv, datong_json(DATONG), true).await;
    let draw = draw_via_api(&srv, diesel).await;
    let anon = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let get = |path: String| {
        let anon = anon.clone();
        let url = srv.url(&path);
        async move {
            let r = anon.get(url).send().await.unwrap();
            let cookie = r.headers().get("set-cookie").is_some();
            (r.status(), cookie, r.text().await.unwrap())
        }
    };
    let (status, cookie, html) = get("/public".into()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!cookie, "no session for visitors");
    assert!(html.contains(DATONG));
    assert!(!html.contains("2026年尚未下达的计划"));
    let (status, _, html) = get(format!("/public/plans/{issued}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("rowspan=\"2\">60</td>"));
    assert!(html.contains("data-testid=\"total-quota\"><strong>190</strong>"));
    assert!(html.contains("尚未公开"));
    assert_eq!(get(format!("/public/plans/{draft}")).await.0, StatusCode::NOT_FOUND);
    assert_eq!(get(format!("/public/rules/{diesel}")).await.0, StatusCode::NOT_FOUND);
    assert_eq!(get(format!("/public/draws/{draw}")).await.0, StatusCode::NOT_FOUND);
    assert_eq!(get("/public/plans/abc".into()).await.0, StatusCode::NOT_FOUND);

    let reg = srv.api("dt_reg").await;
    reg.post(&format!("/api/v1/draws/{draw}/publish"), json!({})).await;
    let (status, _, html) = get(format!("/public/draws/{draw}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(html.matches("大同市平城区示例加油站").count(), 3);
    assert!(!html.contains("lab_s1"), "teams are not published");
    assert!(html.contains("公开摇号 2025-10-08"));
    let (_, _, html) = get(format!("/public/draws/{draw}?verify=1")).await;
    assert!(html.contains("复核一致"), "{html}");
    // The plan's public page lists the published draw.
    let (_, _, html) = get(format!("/public/plans/{issued}")).await;
    assert!(html.contains(&format!("/public/draws/{draw}")), "{html}");
    // The sign-in page points visitors here.
    let (_, _, html) = get("/login".into()).await;
    assert!(html.contains("href=\"/public\""));
}

#[tokio::test]
async fn tester_cannot_open_the_draw_page_or_a_draw() {
    let srv = setup().await;
    let (_, diesel) = plan_via_api(&srv, datong_json(DATONG), true).await;
    let draw = draw_via_api(&srv, diesel).await;
    let tester = srv.browser("lab_tester").await;
    let (status, html) = tester.get(&format!("/items/{diesel}/draw")).await;
    assert!(status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND, "{status}");
    assert!(html.contains("无权"), "{html}");
    assert_eq!(tester.get(&format!("/draws/{draw}")).await.0, StatusCode::NOT_FOUND);
    assert_eq!(tester.get("/plans/new").await.0, StatusCode::FORBIDDEN);
    // The tester sees the plan (its institution tests the products) without the draw links.
    let (status, html) = tester.get("/plans").await;
    assert_eq!(status, StatusCode::OK);
    let plan = number_after(&html, "href=\"/plans/");
    let (_, html) = tester.get(&format!("/plans/{plan}")).await;
    assert!(!html.contains("/draw\""));
    assert!(html.contains(&format!("/items/{diesel}/rules")));
}

#[tokio::test]
async fn annex1_import_page_lists_row_errors_or_opens_the_new_draft() {
    let srv = setup().await;
    let b = srv.browser("dt_reg").await;
    let (status, html) = b.get("/plans/import").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("value=\"dt\""), "the caller's bureau is proposed");
    let csrf = b.csrf_of("/plans/import").await;
    let upload = |csv: &'static str| {
        reqwest::multipart::Form::new()
            .text("year", "2025")
            .text("organising_org_code", "dt")
            .text("title", "2025年家电产品质量监督抽查")
            .part("file", reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("附件1.csv"))
    };
    let bad = "序号,产品分类,产品名称,抽查批次,抽查范围\n1,电子电器,电冰箱,六十,生产者\n合计,,,60,\n";
    let r = b
        .client
        .post(srv.url("/plans/import"))
        .header("x-csrf-token", csrf.to_string())
        .multipart(upload(bad))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("data-row=\"2\""), "{html}");
    assert!(html.contains("抽查批次“六十”应为正整数"));
    assert!(html.contains("未创建计划"));

    let good = "序号,产品分类,产品名称,抽查批次,抽查范围\n1,电子电器,电冰箱,60,生产者、销售者\n2,电子电器,家用电动洗衣机,,生产者、销售者\n合计,,,60,\n";
    let r = b
        .client
        .post(srv.url("/plans/import"))
        .header("x-csrf-token", csrf.to_string())
        .multipart(upload(good))
        .send()
        .await
        .unwrap();
    let status = r.status();
    if status != StatusCode::SEE_OTHER {
        panic!("{status}: {}", r.text().await.unwrap());
    }
    let loc = location(&r);
    let (_, html) = b.get(&loc).await;
    assert!(html.contains("已从附件1创建计划草稿"), "{html}");
    assert!(html.contains("data-testid=\"quota\" rowspan=\"2\">60</td>"));
    assert!(html.contains("未指定"), "institutions are assigned afterwards");
}
