//! 导出 Excel: the lists a bureau works from as workbooks to print and file — a plan's sampling
//! tasks with their state, the plan overview, deliveries, objections and re-tests, post-processing
//! cases, a task's evidence checklist, and a sampler's own task list.
//!
//! Each export calls the same use case as its page, with the page's filters, so it answers exactly
//! what the page shows to the same person and refuses whom the page refuses (blind lab staff reach
//! none of these lists). Rows are typed cells (`CellValue`): numbers, dates and Beijing times are
//! real Excel values, codes (USCC, report numbers) stay text; the sheets and downloads are built by
//! `crate::xlsx` and `choucha_documents::write_workbook` (print set-up included).

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::Query;
use axum::response::Response;
use axum::routing::get;
use choucha_documents::{CellValue, Sheet};
use choucha_domain::access::Action;
use choucha_domain::division;
use choucha_service::cases::{self, CaseQuery};
use choucha_service::results::{self, DeliveryQuery};
use choucha_service::{ServiceError, draws, evidence, objections, overview, plans};
use serde::Deserialize;

use crate::AppState;
use crate::auth::Page;
use crate::error::PageResult;
use crate::extract::PagePath;
use crate::pages::cases::has_cases;
use crate::pages::plans::id_of;
use crate::xlsx::{every_page, workbook};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/plans/{id}/tasks.xlsx", get(plan_tasks))
        .route("/plans/{id}/overview.xlsx", get(plan_overview))
        .route("/results.xlsx", get(deliveries))
        .route("/retests.xlsx", get(objections_and_retests))
        .route("/cases.xlsx", get(case_list))
        .route("/tasks/{id}/evidence.xlsx", get(evidence_checklist))
        .route("/tasks.xlsx", get(my_tasks))
}

fn yes_no(b: bool) -> CellValue {
    if b { "是" } else { "否" }.into()
}

/// A sequence number (序号) as a number cell.
fn number(i: usize) -> CellValue {
    CellValue::from(i + 1)
}

// ---- 抽样任务 -------------------------------------------------------------------------------------

const TASK_HEADERS: [&str; 8] =
    ["序号", "产品名称", "被抽样单位", "统一社会信用代码", "所在地", "抽样人员", "任务状态", "抽取时间"];

/// The plan's sampling tasks with their state (from its draws, a redraw's task replacing the
/// one it replaced), for the organising bureau: the draws of the plan page.
async fn plan_tasks(Page { state: st, actor: a, .. }: Page, PagePath(id): PagePath<String>) -> PageResult<Response> {
    let id = id_of(&id, "计划")?;
    let s = &st.services;
    let plan = plans::get(s, &a, id).await?;
    let mut tasks: BTreeMap<i64, Vec<CellValue>> = BTreeMap::new();
    for d in draws::list_for_plan(s, &a, id).await? {
        for e in d.drawn {
            let (Some(task), Some(state)) = (e.task_id, e.task_state) else { continue };
            tasks.insert(
                task,
                vec![
                    d.product.as_str().into(),
                    e.name.into(),
                    e.uscc.into(),
                    division::name_of(&e.division_code).into(),
                    e.team.join("、").into(),
                    state.label().into(),
                    d.created_at.into(),
                ],
            );
        }
    }
    let mut sheet = Sheet::new("抽样任务", &TASK_HEADERS).titled(format!("{}抽样任务", plan.title));
    for (i, row) in tasks.into_values().enumerate() {
        sheet.push([vec![number(i)], row].concat());
    }
    Ok(workbook(
        vec![sheet],
        &format!("抽样任务-{}.xlsx", plan.title),
        &format!("sampling-tasks-{}-plan-{id}.xlsx", plan.year),
    )
    .await?)
}

// ---- 我的抽样任务 ---------------------------------------------------------------------------------

/// The filters of the sampler's task list page (`/tasks`).
#[derive(Debug, Default, Deserialize)]
pub struct MyTaskFilter {
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    q: Option<String>,
}

const MY_TASK_HEADERS: [&str; 11] = [
    "序号",
    "任务编号",
    "产品名称",
    "被抽样单位",
    "统一社会信用代码",
    "地址",
    "抽查计划",
    "抽样组",
    "任务状态",
    "完成期限",
    "备注",
];

/// The sampler's own tasks with the list page's filters (state and search): only the caller's.
async fn my_tasks(Page { state: st, actor: a, .. }: Page, Query(f): Query<MyTaskFilter>) -> PageResult<Response> {
    let s = &st.services;
    let state_code = f.state.unwrap_or_default();
    let filter = draws::TaskFilter {
        state: choucha_domain::sampling::TaskState::ALL.into_iter().find(|x| x.as_str() == state_code),
        text: f.q.filter(|t| !t.trim().is_empty()),
    };
    let (actor, filter_ref) = (&a, &filter);
    let items = every_page(|cursor, limit| async move {
        let before = cursor.as_deref().and_then(|c| c.parse::<i64>().ok());
        let p = draws::my_tasks_filtered(s, actor, filter_ref, before, Some(limit)).await?;
        Ok::<_, ServiceError>((p.items, p.next))
    })
    .await?;
    let today = s.today();
    let mut title = format!("{}的抽样任务（截至{today}）", a.display_name);
    if let Some(x) = filter.state {
        title.push_str(&format!("：{}", x.label()));
    }
    let mut sheet = Sheet::new("抽样任务", &MY_TASK_HEADERS).titled(title);
    for (i, t) in items.into_iter().enumerate() {
        let mut notes = Vec::new();
        if t.overdue {
            notes.push("已逾期".to_string());
        }
        if let Some(c) = t.follow_up_of_case {
            notes.push(format!("{}（后处理案件{c}）", t.follow_up_label));
        }
        sheet.push(vec![
            number(i),
            t.id.into(),
            t.product.into(),
            t.enterprise_name.into(),
            t.enterprise_uscc.into(),
            t.enterprise_address.into(),
            t.plan_title.into(),
            t.team.join("、").into(),
            t.state_label.into(),
            t.due_date.into(),
            notes.join("；").into(),
        ]);
    }
    Ok(workbook(vec![sheet], &format!("我的抽样任务-{today}.xlsx"), &format!("my-sampling-tasks-{today}.xlsx")).await?)
}

// ---- 抽查看板 -------------------------------------------------------------------------------------

/// The plan overview (抽查看板) as three sheets: quota progress, states, overdue duties.
async fn plan_overview(Page { state: st, actor: a, .. }: Page, PagePath(id): PagePath<String>) -> PageResult<Response> {
    let id = id_of(&id, "计划")?;
    let o = overview::plan_overview(&st.services, &a, id).await?;
    let year = plans::get(&st.services, &a, id).await?.year;
    let title = format!("{}抽查看板（截至{}）", o.title, o.today);

    let mut progress = Sheet::new("抽取进度", &["序号", "产品", "批次", "已抽取"]).titled(title.clone());
    for q in &o.quotas {
        let number = q.number.trim().parse::<u32>().map_or_else(|_| q.number.as_str().into(), CellValue::from);
        let products = if q.shared { format!("{}（共用批次）", q.products) } else { q.products.clone() };
        progress.push(vec![number, products.into(), q.quota.into(), q.tasks.into()]);
    }
    progress.push(vec!["合计".into(), CellValue::Empty, o.total_quota.into(), o.total_tasks.into()]);

    let mut states = Sheet::new("抽样与检验", &["类别", "状态", "数量"]).titled(title.clone());
    for (kind, counts) in [("抽样任务", &o.tasks_by_state), ("样品", &o.samples_by_state)] {
        for c in counts {
            states.push(vec![kind.into(), c.label.as_str().into(), c.count.into()]);
        }
    }
    states.push(vec!["已出具报告".into(), "合格".into(), o.qualified.into()]);
    states.push(vec!["已出具报告".into(), "不合格".into(), o.unqualified.into()]);
    states.push(vec!["已出具报告".into(), "合计".into(), o.reported.into()]);

    let mut duties = Sheet::new("逾期事项", &["序号", "事项", "内容", "期限", "责任单位"]).titled(title);
    for (i, d) in o.duties.iter().enumerate() {
        duties.push(vec![
            number(i),
            d.kind_label.as_str().into(),
            d.what.as_str().into(),
            d.due.into(),
            d.owed_by.as_str().into(),
        ]);
    }
    Ok(workbook(
        vec![progress, states, duties],
        &format!("抽查看板-{}.xlsx", o.title),
        &format!("plan-overview-{year}-plan-{id}.xlsx"),
    )
    .await?)
}

// ---- 结果送达 -------------------------------------------------------------------------------------

/// The filters of the 结果送达 page.
#[derive(Debug, Default, Deserialize)]
pub struct DeliveryFilter {
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    overdue: Option<String>,
}

const DELIVERY_HEADERS: [&str; 15] = [
    "序号",
    "报告编号",
    "产品名称",
    "送达对象",
    "收件单位",
    "地址",
    "送达文书",
    "份数",
    "送达期限",
    "状态",
    "送达方式",
    "快递单号",
    "寄出日期",
    "签收日期",
    "签收人",
];

async fn deliveries(Page { state: st, actor: a, .. }: Page, Query(f): Query<DeliveryFilter>) -> PageResult<Response> {
    let s = &st.services;
    let overdue = f.overdue.as_deref() == Some("1");
    let state = f.state.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| "open".into());
    let actor = &a;
    let items = every_page(|cursor, limit| {
        let q = DeliveryQuery { state: Some(state.clone()), overdue: Some(overdue), cursor, limit: Some(limit) };
        async move {
            let p = results::list(s, actor, q).await?;
            Ok::<_, ServiceError>((p.items, p.next))
        }
    })
    .await?;
    let today = s.today();
    let mut sheet = Sheet::new("结果送达", &DELIVERY_HEADERS).titled(format!("检验结果送达情况（截至{today}）"));
    for (i, d) in items.into_iter().enumerate() {
        let state = if d.overdue { format!("已逾期·{}", d.state_label) } else { d.state_label };
        let method = match d.method.as_str() {
            "ems" => "EMS邮寄",
            "in_person" => "直接送达",
            _ => "",
        };
        sheet.push(vec![
            number(i),
            d.report_no.into(),
            d.product.into(),
            d.recipient_label.into(),
            d.recipient_name.into(),
            d.recipient_address.into(),
            d.document_labels.join("、").into(),
            d.copies.into(),
            d.due_on.into(),
            state.into(),
            method.into(),
            d.tracking_no.into(),
            d.sent_on.into(),
            d.received_on.into(),
            d.receiver_name.into(),
        ]);
    }
    Ok(workbook(vec![sheet], &format!("结果送达-{today}.xlsx"), &format!("deliveries-{today}.xlsx")).await?)
}

// ---- 异议与复检 -----------------------------------------------------------------------------------

const OBJECTION_HEADERS: [&str; 16] = [
    "序号",
    "类型",
    "报告编号",
    "产品名称",
    "异议项目",
    "理由",
    "收到结果日期",
    "提出日期",
    "状态",
    "处理意见",
    "处理时间",
    "复检机构",
    "复检状态",
    "复检报告编号",
    "复检结论",
    "复检费用（元）",
];

/// The objections and re-test requests the bureau received, each with its re-test: the bureau's
/// part of the 复检 page (the lab's blind re-test work is not exported).
async fn objections_and_retests(Page { state: st, actor: a, .. }: Page) -> PageResult<Response> {
    let s = &st.services;
    let actor = &a;
    let items = every_page(|cursor, limit| async move {
        let before = cursor.as_deref().and_then(|c| c.parse::<i64>().ok());
        let p = objections::of_bureau(s, actor, None, before, Some(limit)).await?;
        Ok::<_, ServiceError>((p.items, p.next))
    })
    .await?;
    let today = s.today();
    let mut sheet = Sheet::new("异议与复检", &OBJECTION_HEADERS).titled(format!("异议与复检申请（截至{today}）"));
    for (i, o) in items.into_iter().enumerate() {
        let mut row = vec![
            number(i),
            o.kind_label.into(),
            o.report_no.into(),
            o.product.into(),
            o.items.join("、").into(),
            o.reason.into(),
            o.received_on.into(),
            o.filed_on.into(),
            o.state_label.into(),
            (if o.answer.is_empty() { o.decision_reason } else { o.answer }).into(),
            o.decided_at.into(),
        ];
        match o.retest {
            Some(r) => row.extend([
                r.institution.into(),
                r.state_label.into(),
                r.report_no.into(),
                r.conclusion.into(),
                CellValue::amount_text(&r.fee_advance),
            ]),
            None => row.extend(std::iter::repeat_n(CellValue::Empty, 5)),
        }
        sheet.push(row);
    }
    Ok(workbook(vec![sheet], &format!("异议与复检-{today}.xlsx"), &format!("objections-retests-{today}.xlsx")).await?)
}

// ---- 后处理 ---------------------------------------------------------------------------------------

/// The filter of the 后处理 page.
#[derive(Debug, Default, Deserialize)]
pub struct CaseFilter {
    #[serde(default)]
    filter: Option<String>,
}

const CASE_HEADERS: [&str; 18] = [
    "序号",
    "类型",
    "抽查计划",
    "产品名称",
    "报告编号",
    "被抽样单位",
    "标称生产者",
    "承办部门",
    "状态",
    "当前应办",
    "期限",
    "是否逾期",
    "立案日期",
    "责令停止生产销售日期",
    "责令整改日期",
    "整改期限",
    "复查期限",
    "结案日期",
];

async fn case_list(Page { state: st, actor: a, .. }: Page, Query(f): Query<CaseFilter>) -> PageResult<Response> {
    // The bureaus' list (enterprises have their own page, not this one).
    if !has_cases(&a) {
        return Err(choucha_service::access::refusal(Action::ListCases).into());
    }
    let s = &st.services;
    let filter = f.filter.filter(|f| !f.is_empty()).unwrap_or_else(|| "open".into());
    let actor = &a;
    let items = every_page(|cursor, limit| {
        let q = CaseQuery { filter: Some(filter.clone()), cursor, limit: Some(limit) };
        async move {
            let p = cases::list(s, actor, q).await?;
            Ok::<_, ServiceError>((p.items, p.next))
        }
    })
    .await?;
    let today = s.today();
    let mut sheet = Sheet::new("后处理", &CASE_HEADERS).titled(format!("不合格产品后处理（截至{today}）"));
    for (i, c) in items.into_iter().enumerate() {
        sheet.push(vec![
            number(i),
            c.kind_label.into(),
            c.plan_title.into(),
            c.product.into(),
            c.report_no.into(),
            c.enterprise_name.into(),
            c.producer_name.into(),
            c.bureau_name.into(),
            c.state_label.into(),
            c.next_step.into(),
            c.due_on.into(),
            yes_no(c.overdue),
            c.opened_on.into(),
            c.stop_ordered_on.into(),
            c.correction_ordered_on.into(),
            c.rectify_due.into(),
            c.follow_up_check_due.into(),
            c.closed_on.into(),
        ]);
    }
    Ok(workbook(vec![sheet], &format!("后处理案件-{today}.xlsx"), &format!("post-processing-cases-{today}.xlsx"))
        .await?)
}

// ---- 现场证据 -------------------------------------------------------------------------------------

/// A task's evidence checklist (the categories, required or not, how many items, the reason where
/// there is none) and its files with their hashes, for those who may view the evidence.
async fn evidence_checklist(
    Page { state: st, actor: a, .. }: Page,
    PagePath(id): PagePath<String>,
) -> PageResult<Response> {
    let id = id_of(&id, "抽样任务")?;
    let s = &st.services;
    let ev = evidence::list(s, &a, id).await?;
    let title = match draws::get_task(s, &a, id).await {
        Ok(t) => format!("{}（{}）现场证据", t.enterprise_name, t.product),
        Err(ServiceError::NotFound(_) | ServiceError::Forbidden(_)) => format!("抽样任务{id}现场证据"),
        Err(e) => return Err(e.into()),
    };
    let mut checklist = Sheet::new("证据清单", &["类别", "实施细则要求", "数量", "未拍摄原因"]).titled(title.clone());
    for c in &ev.checklist {
        checklist.push(vec![c.label.as_str().into(), yes_no(c.required), c.count.into(), c.reason.clone().into()]);
    }
    let mut files =
        Sheet::new("证据文件", &["序号", "类别", "文件名", "类型", "大小（字节）", "SHA-256", "上传人", "上传时间"])
            .titled(title);
    for (i, e) in ev.items.into_iter().enumerate() {
        let kind = if e.content_type.starts_with("video/") { "视频" } else { "照片" };
        files.push(vec![
            number(i),
            e.category_label.into(),
            e.file_name.into(),
            kind.into(),
            e.size.into(),
            e.sha256.into(),
            e.uploaded_by_name.into(),
            e.uploaded_at.into(),
        ]);
    }
    Ok(workbook(
        vec![checklist, files],
        &format!("现场证据清单-任务{id}.xlsx"),
        &format!("evidence-checklist-task-{id}.xlsx"),
    )
    .await?)
}
