//! Plan pages (抽查计划): the list with year/state filters, the new/edit form with its Annex 1
//! items, the plan page with the Annex 1 table as the notice prints it (merged 抽查批次 and 序号
//! cells, 合计 row), issuing, closing and amending, the XLSX export and the Annex 1 import. Every
//! rule lives in `choucha_service::plans`; these handlers translate forms and show its messages.

use std::collections::BTreeMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::multipart::MultipartRejection;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Multipart, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use choucha_domain::RuleViolation;
use choucha_domain::access::Action;
use choucha_domain::plan::PlanState;
use choucha_service::access::Ask;
use choucha_service::draws::{self, DrawView};
use choucha_service::organisations::OrgFilter;
use choucha_service::plans::{
    self, AmendmentInput, ItemInput, ItemView, PlanDraft, PlanInput, PlanQuery, PlanSummary, PlanView, QuotaChange,
};
use choucha_service::{Actor, ServiceError, Services, organisations};
use serde::Deserialize;
use tower_sessions::Session;

use crate::AppState;
use crate::api::plans::{Annex1Problem, annex1_items, annex1_xlsx, xlsx_response};
use crate::auth::PageActor;
use crate::error::{PageError, PageForm, PageResult, body_of, error_page, status_of};
use crate::extract::{MultipartForm, PagePath};
use crate::filters;
use crate::pages::users::{FieldErrors, FormData, query_string};
use crate::pages::{Chrome, chrome, set_flash};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/plans", get(list))
        .route("/plans/new", get(new_form).post(create))
        .route("/plans/import", get(import_page).post(import_upload))
        .route("/plans/{id}", get(detail))
        .route("/plans/{id}/edit", get(edit_form).post(update))
        .route("/plans/{id}/issue", post(issue))
        .route("/plans/{id}/close", post(close))
        .route("/plans/{id}/amend", post(amend))
        .route("/plans/{id}/annex1.xlsx", get(export))
}

// ---------------------------------------------------------------------------------------------
// Helpers shared with the rules, draw and public pages.

/// A path id; anything else is "not found" (as for an id that does not exist).
pub fn id_of(raw: &str, what: &'static str) -> Result<i64, PageError> {
    raw.parse().map_err(|_| PageError(ServiceError::NotFound(what)))
}

/// Whether to offer the organising bureau's buttons. Only a hint for the page: the service
/// decides, and refuses with its own message.
pub fn manages(actor: &Actor, organising_org_id: i64) -> bool {
    actor.to_plan(organising_org_id).may(Action::ManagePlan)
}

/// One row of the Annex 1 table with the height of its merged 序号 cell (two products may share a
/// number, as 食品接触用纸制品/塑料制品 under 6 in the Shanxi notice). The 抽查批次 cell uses the
/// item's own `group_first` / `group_rows`.
pub struct Annex1Line {
    pub item: ItemView,
    pub number_first: bool,
    pub number_rows: usize,
    /// The state of the item's newest implementation rules, in Chinese.
    pub rules_label: String,
}

pub fn annex1_lines(items: &[ItemView]) -> Vec<Annex1Line> {
    let mut out = Vec::with_capacity(items.len());
    let mut i = 0;
    while i < items.len() {
        let mut j = i + 1;
        while j < items.len() && !items[i].number.trim().is_empty() && items[j].number == items[i].number {
            j += 1;
        }
        for (k, item) in items[i..j].iter().enumerate() {
            out.push(Annex1Line {
                item: item.clone(),
                number_first: k == 0,
                number_rows: j - i,
                rules_label: rules_state_label(&item.rules_state),
            });
        }
        i = j;
    }
    out
}

/// The badge class of a plan state.
pub fn plan_badge(state: &PlanState) -> &'static str {
    match state {
        PlanState::Draft => "warn",
        PlanState::Issued => "ok",
        PlanState::Closed => "",
    }
}

/// The label of a rules state code (the newest version of an item).
pub fn rules_state_label(state: &Option<choucha_domain::implementation_rules::RulesState>) -> String {
    match state {
        None => "未提交".to_string(),
        Some(s) => s.label().to_string(),
    }
}

/// A refusal shown on the page (rule and input problems); anything else becomes an error page.
pub fn shown_on_page(e: &ServiceError) -> bool {
    matches!(e, ServiceError::Invalid(_) | ServiceError::Rule(_) | ServiceError::Conflict | ServiceError::Duplicate(_))
}

// ---------------------------------------------------------------------------------------------
// List

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    year: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    cursor: Option<String>,
}

pub struct StateChoice {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "plans/list.html")]
pub struct ListPage {
    pub chrome: Chrome,
    pub year: String,
    pub states: Vec<StateChoice>,
    pub plans: Vec<PlanSummary>,
    pub error: Option<String>,
    pub next_href: Option<String>,
    pub first_href: Option<String>,
    pub can_create: bool,
}

async fn list(
    State(state): State<AppState>,
    session: Session,
    PageActor(actor): PageActor,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> PageResult<Response> {
    let Ok(Query(q)) = query else {
        return Ok(error_page(StatusCode::BAD_REQUEST, "查询条件有误", "查询条件格式错误，请返回计划列表重新查询。"));
    };
    actor.require(Action::ViewPlans)?;
    let year_text = q.year.as_deref().map(str::trim).unwrap_or_default().to_string();
    let state_code = q.state.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    let mut error = None;
    let state_filter = match crate::extract::parse_state::<PlanState>(state_code.as_deref()) {
        Ok(s) => s,
        Err(_) => {
            error = Some("状态应为草稿、已下达或已结束".to_string());
            None
        }
    };
    let year = if year_text.is_empty() {
        None
    } else {
        match year_text.parse::<i32>() {
            Ok(y) => Some(y),
            Err(_) => {
                error = Some(format!("年度“{year_text}”应为4位数字，如 2025"));
                None
            }
        }
    };
    let cursor = q.cursor.as_deref().and_then(|c| c.trim().parse::<i64>().ok());
    let (plans, next) = if error.is_none() {
        let page =
            plans::list(&state.services, &actor, &PlanQuery { year, state: state_filter, cursor, limit: Some(50) })
                .await?;
        (page.items, page.next)
    } else {
        (Vec::new(), None)
    };
    let filters = [("year", Some(year_text.as_str())), ("state", state_code.as_deref())];
    let next_href = next.map(|c| {
        let mut pairs = filters.to_vec();
        pairs.push(("cursor", Some(c.as_str())));
        format!("/plans{}", query_string(&pairs))
    });
    let page = ListPage {
        states: [PlanState::Draft, PlanState::Issued, PlanState::Closed]
            .into_iter()
            .map(|s| StateChoice {
                value: s.as_str(),
                label: s.label(),
                selected: state_code.as_deref() == Some(s.as_str()),
            })
            .collect(),
        year: year_text.clone(),
        plans,
        error,
        next_href,
        first_href: cursor.map(|_| format!("/plans{}", query_string(&filters))),
        can_create: actor.may(Action::CreatePlan),
        chrome: chrome(&session, Some(&actor), "plans").await,
    };
    Ok(page.into_response())
}

// ---------------------------------------------------------------------------------------------
// New and edit

/// An organisation offered in a select.
#[derive(Clone)]
pub struct OrgChoice {
    pub id: i64,
    pub code: String,
    pub name: String,
}

async fn org_choices(s: &Services, actor: &Actor, filter: OrgFilter) -> Result<Vec<OrgChoice>, ServiceError> {
    let page = organisations::list(s, actor, &filter, None, Some(200)).await?;
    Ok(page
        .items
        .into_iter()
        .map(|o| OrgChoice {
            id: o.id,
            name: if o.active { o.name } else { format!("{}（已停用）", o.name) },
            code: o.code,
        })
        .collect())
}

/// The institutions of each capability, and the bureaus that may organise a check.
pub struct OrgLists {
    pub sampling: Vec<OrgChoice>,
    pub testing: Vec<OrgChoice>,
    pub screening: Vec<OrgChoice>,
    pub bureaus: Vec<OrgChoice>,
}

impl OrgLists {
    async fn load(s: &Services, actor: &Actor) -> Result<OrgLists, ServiceError> {
        let cap = |c: &str| OrgFilter { capability: Some(c.to_string()), ..Default::default() };
        let kind = |k: &str| OrgFilter { kind: Some(k.to_string()), ..Default::default() };
        let mut bureaus = org_choices(s, actor, kind("province_bureau")).await?;
        bureaus.extend(org_choices(s, actor, kind("city_bureau")).await?);
        Ok(OrgLists {
            sampling: org_choices(s, actor, cap("sampling")).await?,
            testing: org_choices(s, actor, cap("testing")).await?,
            screening: org_choices(s, actor, cap("screening")).await?,
            bureaus,
        })
    }

    fn codes(&self) -> BTreeMap<i64, String> {
        [&self.sampling, &self.testing, &self.screening, &self.bureaus]
            .into_iter()
            .flatten()
            .map(|o| (o.id, o.code.clone()))
            .collect()
    }
}

/// The plan header as typed.
#[derive(Debug, Default, Clone)]
pub struct PlanValues {
    pub year: String,
    pub title: String,
    pub organising_org_code: String,
    pub doc_no: String,
    pub domains: String,
    pub deadline_delivery: String,
    pub deadline_data_entry: String,
    pub deadline_summary: String,
    pub unqualified_report_days: String,
    pub budget_yuan: String,
    pub notes: String,
}

/// One item row as typed, with its problems.
#[derive(Debug, Default, Clone)]
pub struct ItemValues {
    pub number: String,
    pub category: String,
    pub product: String,
    pub quota: String,
    pub scopes: String,
    pub sampling: String,
    pub testing: String,
    pub screening: String,
    pub errors: Vec<String>,
}

impl ItemValues {
    fn is_blank(&self) -> bool {
        [&self.number, &self.category, &self.product, &self.quota, &self.scopes].iter().all(|v| v.trim().is_empty())
    }
}

fn values_of(d: &PlanDraft) -> (PlanValues, Vec<ItemValues>) {
    let p = &d.plan;
    let v = PlanValues {
        year: if p.year == 0 { String::new() } else { p.year.to_string() },
        title: p.title.clone(),
        organising_org_code: p.organising_org_code.clone().unwrap_or_default(),
        doc_no: p.doc_no.clone(),
        domains: p.domains.clone(),
        deadline_delivery: p.deadline_delivery.clone().unwrap_or_default(),
        deadline_data_entry: p.deadline_data_entry.clone().unwrap_or_default(),
        deadline_summary: p.deadline_summary.clone().unwrap_or_default(),
        unqualified_report_days: p.unqualified_report_days.map(|d| d.to_string()).unwrap_or_default(),
        budget_yuan: p.budget_yuan.clone().unwrap_or_default(),
        notes: p.notes.clone(),
    };
    let rows = d
        .items
        .iter()
        .map(|i| ItemValues {
            number: i.number.clone(),
            category: i.category.clone(),
            product: i.product.clone(),
            quota: i.quota.map(|q| q.to_string()).unwrap_or_default(),
            scopes: i.scopes.clone(),
            sampling: i.sampling_org_code.clone().unwrap_or_default(),
            testing: i.testing_org_code.clone().unwrap_or_default(),
            screening: i.screening_org_code.clone().unwrap_or_default(),
            errors: Vec::new(),
        })
        .collect();
    (v, rows)
}

/// The posted form: the header and one value of each item field per row (selects always post, so
/// the repeated fields line up). Blank rows are dropped.
fn parse_form(f: &FormData) -> (PlanValues, Vec<ItemValues>) {
    let v = PlanValues {
        year: f.get("year").trim().to_string(),
        title: f.get("title"),
        organising_org_code: f.get("organising_org_code").trim().to_string(),
        doc_no: f.get("doc_no"),
        domains: f.get("domains"),
        deadline_delivery: f.get("deadline_delivery").trim().to_string(),
        deadline_data_entry: f.get("deadline_data_entry").trim().to_string(),
        deadline_summary: f.get("deadline_summary").trim().to_string(),
        unqualified_report_days: f.get("unqualified_report_days").trim().to_string(),
        budget_yuan: f.get("budget_yuan").trim().to_string(),
        notes: f.get("notes"),
    };
    let cols: Vec<Vec<String>> = [
        "number",
        "category",
        "product",
        "quota",
        "scopes",
        "sampling_org_code",
        "testing_org_code",
        "screening_org_code",
    ]
    .iter()
    .map(|k| f.all(k))
    .collect();
    let n = cols.iter().map(Vec::len).max().unwrap_or(0);
    let at =
        |c: usize, i: usize| cols.get(c).and_then(|col| col.get(i)).map(|s| s.trim().to_string()).unwrap_or_default();
    let rows = (0..n)
        .map(|i| ItemValues {
            number: at(0, i),
            category: at(1, i),
            product: at(2, i),
            quota: at(3, i),
            scopes: at(4, i),
            sampling: at(5, i),
            testing: at(6, i),
            screening: at(7, i),
            errors: Vec::new(),
        })
        .filter(|r| !r.is_blank())
        .collect();
    (v, rows)
}

fn opt(s: &str) -> Option<String> {
    let t = s.trim();
    if t.is_empty() { None } else { Some(t.to_string()) }
}

/// The draft the service checks. Numbers that are not numbers are refused here, at the edge.
fn draft_of(v: &PlanValues, rows: &mut [ItemValues], errors: &mut FieldErrors) -> PlanDraft {
    let days = match opt(&v.unqualified_report_days) {
        None => None,
        Some(d) => d.parse::<i32>().map(Some).unwrap_or_else(|_| {
            errors.add("unqualified_report_days", &format!("不合格报告报送期限“{d}”应为天数（整数）"));
            None
        }),
    };
    let plan = PlanInput {
        // A year that is not a number is refused by the service's range check.
        year: v.year.parse().unwrap_or(0),
        title: v.title.clone(),
        organising_org_code: opt(&v.organising_org_code),
        doc_no: v.doc_no.clone(),
        domains: v.domains.clone(),
        deadline_delivery: opt(&v.deadline_delivery),
        deadline_data_entry: opt(&v.deadline_data_entry),
        deadline_summary: opt(&v.deadline_summary),
        unqualified_report_days: days,
        budget_yuan: opt(&v.budget_yuan),
        notes: v.notes.clone(),
    };
    let mut items = Vec::with_capacity(rows.len());
    for (i, r) in rows.iter_mut().enumerate() {
        let q = r.quota.trim().trim_end_matches("批次").trim().to_string();
        let quota = if q.is_empty() {
            None
        } else {
            match q.parse::<u32>() {
                Ok(n) => Some(n),
                Err(_) => {
                    let m = format!("第{}个产品：抽查批次“{}”应为正整数（留空表示与上一行共用批次）", i + 1, r.quota);
                    errors.add("quota", &m);
                    r.errors.push(m);
                    None
                }
            }
        };
        items.push(ItemInput {
            number: r.number.clone(),
            category: r.category.clone(),
            product: r.product.clone(),
            quota,
            scopes: r.scopes.clone(),
            sampling_org_code: opt(&r.sampling),
            testing_org_code: opt(&r.testing),
            screening_org_code: opt(&r.screening),
        });
    }
    PlanDraft { plan, items }
}

/// Spread the service's problems over the header fields and the item rows.
fn place_errors(e: ServiceError, rows: &mut [ItemValues], errors: &mut FieldErrors) -> Result<(), ServiceError> {
    match e {
        ServiceError::Invalid(vs) => {
            for v in vs {
                if let Some(r) = v.index_in("items").and_then(|i| rows.get_mut(i)) {
                    r.errors.push(v.message.clone());
                    errors.add("items", &v.message);
                } else {
                    errors.add(v.field.as_deref().unwrap_or(""), &v.message);
                }
            }
            Ok(())
        }
        e @ (ServiceError::Rule(_) | ServiceError::Duplicate(_) | ServiceError::Conflict) => {
            errors.add("", &body_of(&e).message);
            Ok(())
        }
        other => Err(other),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "plans/form.html")]
pub struct FormPage {
    pub chrome: Chrome,
    pub heading: String,
    pub action: String,
    pub cancel_href: String,
    pub v: PlanValues,
    pub rows: Vec<ItemValues>,
    /// The blank row the "添加一行" button copies.
    pub blank: Vec<ItemValues>,
    pub orgs: OrgLists,
    pub errors: FieldErrors,
}

/// What the form shows: the values as typed (or stored) and their problems.
pub struct Typed {
    pub v: PlanValues,
    pub rows: Vec<ItemValues>,
    pub errors: FieldErrors,
}

impl FormPage {
    async fn render(
        s: &Services,
        session: &Session,
        actor: &Actor,
        (heading, action, cancel_href): (String, String, String),
        Typed { v, mut rows, errors }: Typed,
        status: StatusCode,
    ) -> PageResult<Response> {
        if rows.is_empty() {
            rows.push(ItemValues::default());
        }
        let page = FormPage {
            heading,
            action,
            cancel_href,
            v,
            rows,
            blank: vec![ItemValues::default()],
            orgs: OrgLists::load(s, actor).await?,
            errors,
            chrome: chrome(session, Some(actor), "plans").await,
        };
        Ok((status, page).into_response())
    }
}

fn new_labels() -> (String, String, String) {
    ("新建抽查计划".into(), "/plans/new".into(), "/plans".into())
}

fn edit_labels(id: i64, title: &str) -> (String, String, String) {
    (format!("编辑计划草稿：{title}"), format!("/plans/{id}/edit"), format!("/plans/{id}"))
}

async fn new_form(
    State(state): State<AppState>,
    session: Session,
    PageActor(actor): PageActor,
) -> PageResult<Response> {
    actor.require(Action::CreatePlan)?;
    let s = &state.services;
    let own_code = match actor.org_id {
        Some(id) => organisations::get(s, &actor, id).await.ok().map(|o| o.code).unwrap_or_default(),
        None => String::new(),
    };
    let v = PlanValues { year: this_year(s).to_string(), organising_org_code: own_code, ..Default::default() };
    let rows = vec![ItemValues::default(), ItemValues::default(), ItemValues::default()];
    let typed = Typed { v, rows, errors: FieldErrors::default() };
    FormPage::render(s, &session, &actor, new_labels(), typed, StatusCode::OK).await
}

/// The current year in Beijing, by the clock.
pub fn this_year(s: &Services) -> i32 {
    use chrono::Datelike;
    s.today().year()
}

async fn create(
    State(state): State<AppState>,
    session: Session,
    PageActor(actor): PageActor,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> PageResult<Response> {
    let s = &state.services;
    let (v, mut rows) = parse_form(&FormData(pairs));
    let mut errors = FieldErrors::default();
    let draft = draft_of(&v, &mut rows, &mut errors);
    if errors.is_empty() {
        match plans::create(s, &actor, draft).await {
            Ok(view) => {
                set_flash(&session, &format!("已保存计划草稿“{}”", view.title)).await;
                return Ok(Redirect::to(&format!("/plans/{}", view.id)).into_response());
            }
            Err(e) => place_errors(e, &mut rows, &mut errors)?,
        }
    }
    let typed = Typed { v, rows, errors };
    FormPage::render(s, &session, &actor, new_labels(), typed, StatusCode::UNPROCESSABLE_ENTITY).await
}

async fn edit_form(
    State(state): State<AppState>,
    session: Session,
    PageActor(actor): PageActor,
    PagePath(id): PagePath<String>,
) -> PageResult<Response> {
    let s = &state.services;
    let view = plans::get(s, &actor, id_of(&id, "计划")?).await?;
    if !manages(&actor, view.organising_org_id) {
        return Err(ServiceError::Forbidden("只有组织该抽查的部门可以修改此计划".into()).into());
    }
    if view.state != PlanState::Draft {
        return Err(ServiceError::Rule(RuleViolation::new("plan_state", "计划已下达，只能通过变更记录调整批次")).into());
    }
    let mut codes = OrgLists::load(s, &actor).await?.codes();
    if let Ok(o) = organisations::get(s, &actor, view.organising_org_id).await {
        codes.insert(o.id, o.code);
    }
    let (v, rows) = values_of(&plans::to_draft(&view, &codes));
    let typed = Typed { v, rows, errors: FieldErrors::default() };
    FormPage::render(s, &session, &actor, edit_labels(view.id, &view.title), typed, StatusCode::OK).await
}

async fn update(
    State(state): State<AppState>,
    session: Session,
    PageActor(actor): PageActor,
    PagePath(id): PagePath<String>,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> PageResult<Response> {
    let s = &state.services;
    let id = id_of(&id, "计划")?;
    let (v, mut rows) = parse_form(&FormData(pairs));
    let mut errors = FieldErrors::default();
    let draft = draft_of(&v, &mut rows, &mut errors);
    if errors.is_empty() {
        match plans::update_draft(s, &actor, id, draft).await {
            Ok(view) => {
                set_flash(&session, &format!("已保存计划草稿“{}”", view.title)).await;
                return Ok(Redirect::to(&format!("/plans/{id}")).into_response());
            }
            Err(e) => place_errors(e, &mut rows, &mut errors)?,
        }
    }
    let title = if v.title.trim().is_empty() { "计划".to_string() } else { v.title.clone() };
    let typed = Typed { v, rows, errors };
    FormPage::render(s, &session, &actor, edit_labels(id, &title), typed, StatusCode::UNPROCESSABLE_ENTITY).await
}

// ---------------------------------------------------------------------------------------------
// The plan page

/// One amendment as a line of text per change.
pub struct AmendmentLine {
    pub at: chrono::DateTime<chrono::Utc>,
    pub reason: String,
    pub changes: Vec<String>,
}

fn amendment_lines(v: &PlanView) -> Vec<AmendmentLine> {
    v.amendments
        .iter()
        .map(|a| {
            let before = a.before.as_array().cloned().unwrap_or_default();
            let after = a.after.as_array().cloned().unwrap_or_default();
            let changes = after
                .iter()
                .enumerate()
                .map(|(i, n)| {
                    let product = n["product"].as_str().unwrap_or_default();
                    let old = before.get(i).map(|b| b["quota"].to_string()).unwrap_or_default();
                    format!("{product}：{old} → {} 批次", n["quota"])
                })
                .collect();
            AmendmentLine { at: a.created_at, reason: a.reason.clone(), changes }
        })
        .collect()
}

/// One draw of the plan, as listed on the plan page.
pub struct DrawLine {
    pub id: i64,
    pub product: String,
    pub at: chrono::DateTime<chrono::Utc>,
    pub drawn: usize,
    pub candidate_count: i32,
    pub published: bool,
    pub redraw: bool,
}

fn draw_line(d: DrawView) -> DrawLine {
    DrawLine {
        at: d.created_at,
        id: d.id,
        product: d.product,
        drawn: d.drawn.len(),
        candidate_count: d.candidate_count,
        published: d.published,
        redraw: d.replaces_draw_id.is_some(),
    }
}

/// A quota group offered in the amendment form (its first item stands for the group).
pub struct GroupChoice {
    pub item_id: i64,
    pub label: String,
    pub selected: bool,
}

#[derive(Debug, Default, Clone)]
pub struct AmendValues {
    pub item_id: String,
    pub quota: String,
    pub reason: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "plans/detail.html")]
pub struct DetailPage {
    pub chrome: Chrome,
    pub plan: PlanView,
    pub lines: Vec<Annex1Line>,
    pub can_manage: bool,
    pub draws: Vec<DrawLine>,
    pub amendments: Vec<AmendmentLine>,
    pub groups: Vec<GroupChoice>,
    pub amend: AmendValues,
    pub amend_errors: FieldErrors,
    /// A refusal of the last action.
    pub error: Option<String>,
    /// Test portions paid against the budget (rule 21), for the organising bureau.
    pub costs: Option<choucha_service::handover::PlanCosts>,
    /// The sample-confirmation period (rule 23), for the organising bureau to set.
    pub confirmation: Option<choucha_service::confirmations::PeriodInput>,
}

impl DetailPage {
    pub fn badge(&self) -> &'static str {
        plan_badge(&self.plan.state)
    }
}

/// What the plan page shows besides the plan: a refused action, the amendment form as typed.
#[derive(Default)]
pub struct DetailExtras {
    pub error: Option<String>,
    pub amend: AmendValues,
    pub amend_errors: FieldErrors,
}

impl DetailExtras {
    fn refused(what: &str, e: &ServiceError) -> DetailExtras {
        DetailExtras { error: Some(format!("{what}：{}", body_of(e).message)), ..Default::default() }
    }
}

async fn render_detail(
    state: &AppState,
    session: &Session,
    actor: &Actor,
    id: i64,
    DetailExtras { error, amend, amend_errors }: DetailExtras,
    status: StatusCode,
) -> PageResult<Response> {
    let s = &state.services;
    let plan = plans::get(s, actor, id).await?;
    let can_manage = manages(actor, plan.organising_org_id);
    let draws = match draws::list_for_plan(s, actor, id).await {
        Ok(d) => d.into_iter().map(draw_line).collect(),
        Err(ServiceError::NotFound(_) | ServiceError::Forbidden(_)) => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    let groups = plan
        .items
        .iter()
        .filter(|i| i.group_first)
        .map(|first| {
            let products: Vec<&str> =
                plan.items.iter().filter(|i| i.group_id == first.group_id).map(|i| i.product.as_str()).collect();
            let shared = if products.len() > 1 { "共用" } else { "" };
            GroupChoice {
                item_id: first.id,
                label: format!(
                    "{}（{}{} 批次，已抽取 {}）",
                    products.join("、"),
                    shared,
                    first.group_quota,
                    first.group_tasks
                ),
                selected: amend.item_id == first.id.to_string(),
            }
        })
        .collect();
    let costs = choucha_service::handover::plan_costs(&state.services, actor, plan.id).await.ok();
    let confirmation = if can_manage { choucha_service::confirmations::period(s, id).await.ok() } else { None };
    let page = DetailPage {
        confirmation,
        costs,
        lines: annex1_lines(&plan.items),
        amendments: amendment_lines(&plan),
        can_manage,
        draws,
        groups,
        amend,
        amend_errors,
        error,
        plan,
        chrome: chrome(session, Some(actor), "plans").await,
    };
    Ok((status, page).into_response())
}

async fn detail(
    State(state): State<AppState>,
    session: Session,
    PageActor(actor): PageActor,
    PagePath(id): PagePath<String>,
) -> PageResult<Response> {
    let id = id_of(&id, "计划")?;
    render_detail(&state, &session, &actor, id, DetailExtras::default(), StatusCode::OK).await
}

async fn issue(
    State(state): State<AppState>,
    session: Session,
    PageActor(actor): PageActor,
    PagePath(id): PagePath<String>,
) -> PageResult<Response> {
    let id = id_of(&id, "计划")?;
    match plans::issue(&state.services, &actor, id).await {
        Ok(v) => {
            set_flash(&session, &format!("计划“{}”已下达", v.title)).await;
            Ok(Redirect::to(&format!("/plans/{id}")).into_response())
        }
        Err(e) if shown_on_page(&e) => {
            render_detail(&state, &session, &actor, id, DetailExtras::refused("未能下达", &e), status_of(&e)).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn close(
    State(state): State<AppState>,
    session: Session,
    PageActor(actor): PageActor,
    PagePath(id): PagePath<String>,
) -> PageResult<Response> {
    let id = id_of(&id, "计划")?;
    match plans::close(&state.services, &actor, id).await {
        Ok(v) => {
            set_flash(&session, &format!("计划“{}”已结束", v.title)).await;
            Ok(Redirect::to(&format!("/plans/{id}")).into_response())
        }
        Err(e) if shown_on_page(&e) => {
            render_detail(&state, &session, &actor, id, DetailExtras::refused("未能结束", &e), status_of(&e)).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn amend(
    State(state): State<AppState>,
    session: Session,
    PageActor(actor): PageActor,
    PagePath(id): PagePath<String>,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> PageResult<Response> {
    let id = id_of(&id, "计划")?;
    let f = FormData(pairs);
    let values = AmendValues {
        item_id: f.get("item_id").trim().to_string(),
        quota: f.get("quota").trim().to_string(),
        reason: f.get("reason"),
    };
    let mut errors = FieldErrors::default();
    let item_id = values.item_id.parse::<i64>().ok();
    if item_id.is_none() {
        errors.add("item_id", "请选择要调整批次的产品");
    }
    let quota = values.quota.trim_end_matches("批次").trim().parse::<u32>().ok();
    if quota.is_none() {
        errors.add("quota", &format!("新的抽查批次“{}”应为正整数", values.quota));
    }
    let status = match (item_id, quota) {
        (Some(item_id), Some(quota)) => {
            let input = AmendmentInput { reason: values.reason.clone(), changes: vec![QuotaChange { item_id, quota }] };
            match plans::amend(&state.services, &actor, id, input).await {
                Ok(_) => {
                    set_flash(&session, "已记录计划变更，抽查批次已调整").await;
                    return Ok(Redirect::to(&format!("/plans/{id}#amendments")).into_response());
                }
                Err(e) => {
                    let status = status_of(&e);
                    match FieldErrors::from_service(e) {
                        Ok(fe) => errors = fe,
                        Err(e) if shown_on_page(&e) => errors.add("", &body_of(&e).message),
                        Err(e) => return Err(e.into()),
                    }
                    status
                }
            }
        }
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    let extras = DetailExtras { error: None, amend: values, amend_errors: errors };
    render_detail(&state, &session, &actor, id, extras, status).await
}

async fn export(
    State(state): State<AppState>,
    PageActor(actor): PageActor,
    PagePath(id): PagePath<String>,
) -> PageResult<Response> {
    let v = plans::get(&state.services, &actor, id_of(&id, "计划")?).await?;
    let bytes = annex1_xlsx(&state.services, &v).await?;
    Ok(xlsx_response(bytes, &format!("{}-附件1.xlsx", v.title)))
}

// ---------------------------------------------------------------------------------------------
// Import of Annex 1

#[derive(Debug, Default, Clone)]
pub struct ImportValues {
    pub year: String,
    pub title: String,
    pub doc_no: String,
    pub organising_org_code: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "plans/import.html")]
pub struct ImportPage {
    pub chrome: Chrome,
    pub v: ImportValues,
    pub bureaus: Vec<OrgChoice>,
    pub errors: FieldErrors,
    pub problems: Vec<Annex1Problem>,
}

async fn render_import(
    s: &Services,
    session: &Session,
    actor: &Actor,
    v: ImportValues,
    errors: FieldErrors,
    problems: Vec<Annex1Problem>,
    status: StatusCode,
) -> PageResult<Response> {
    let page = ImportPage {
        bureaus: OrgLists::load(s, actor).await?.bureaus,
        v,
        errors,
        problems,
        chrome: chrome(session, Some(actor), "plans").await,
    };
    Ok((status, page).into_response())
}

async fn import_page(
    State(state): State<AppState>,
    session: Session,
    PageActor(actor): PageActor,
) -> PageResult<Response> {
    actor.require(Action::CreatePlan)?;
    let s = &state.services;
    let own_code = match actor.org_id {
        Some(id) => organisations::get(s, &actor, id).await.ok().map(|o| o.code).unwrap_or_default(),
        None => String::new(),
    };
    let v = ImportValues { year: this_year(s).to_string(), organising_org_code: own_code, ..Default::default() };
    render_import(s, &session, &actor, v, FieldErrors::default(), Vec::new(), StatusCode::OK).await
}

async fn import_upload(
    State(state): State<AppState>,
    session: Session,
    PageActor(actor): PageActor,
    multipart: Result<Multipart, MultipartRejection>,
) -> PageResult<Response> {
    actor.require(Action::CreatePlan)?;
    let s = &state.services;
    let mut v = ImportValues::default();
    let mut errors = FieldErrors::default();
    let mut file: Option<(String, Vec<u8>)> = None;
    match multipart {
        Err(_) => errors.add("file", "上传失败：请求不是有效的文件上传表单"),
        Ok(mp) => match MultipartForm::read(mp, &["file"]).await {
            Ok(mut form) => {
                let text = |name: &str| form.text(name).unwrap_or_default().to_owned();
                v.year = text("year").trim().to_owned();
                v.title = text("title");
                v.doc_no = text("doc_no");
                v.organising_org_code = text("organising_org_code").trim().to_owned();
                file = form.take_file("file").filter(|f| !f.bytes.is_empty()).map(|f| (f.file_name, f.bytes.to_vec()));
            }
            Err(_) => errors.add("file", "文件上传失败（文件过大或连接中断），请重试"),
        },
    }
    let year = v.year.parse::<i32>().ok();
    if year.is_none() {
        errors.add("year", &format!("年度“{}”应为4位数字，如 2025", v.year));
    }
    let Some((fname, bytes)) = file else {
        if !errors.has("file") {
            errors.add("file", "请选择附件1表格文件（.xlsx 或 .csv）");
        }
        return render_import(s, &session, &actor, v, errors, Vec::new(), StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    if !errors.is_empty() {
        return render_import(s, &session, &actor, v, errors, Vec::new(), StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let parsed = match annex1_items(bytes, &fname).await {
        Ok(p) => p,
        Err(e) => {
            let fe = FieldErrors::from_service(e)?;
            return render_import(
                s,
                &session,
                &actor,
                v,
                fe.rename("", "file"),
                Vec::new(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    match parsed {
        Err(problems) => {
            errors.add("", &format!("表格有 {} 处错误，未创建计划。请修改文件后重新上传。", problems.len()));
            render_import(s, &session, &actor, v, errors, problems, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Ok((sheet_title, items)) => {
            let draft = PlanDraft {
                plan: PlanInput {
                    year: year.unwrap_or(0),
                    title: if v.title.trim().is_empty() { sheet_title } else { v.title.clone() },
                    organising_org_code: opt(&v.organising_org_code),
                    doc_no: v.doc_no.clone(),
                    ..Default::default()
                },
                items,
            };
            match plans::create(s, &actor, draft).await {
                Ok(view) => {
                    set_flash(
                        &session,
                        &format!(
                            "已从附件1创建计划草稿“{}”（{} 个产品，{} 批次）。请编辑草稿指定抽样、检验机构后再下达。",
                            view.title,
                            view.items.len(),
                            view.total_quota
                        ),
                    )
                    .await;
                    Ok(Redirect::to(&format!("/plans/{}", view.id)).into_response())
                }
                Err(e) => {
                    let status = status_of(&e);
                    match FieldErrors::from_service(e) {
                        Ok(fe) => errors = fe,
                        Err(e) if shown_on_page(&e) => errors.add("", &body_of(&e).message),
                        Err(e) => return Err(e.into()),
                    }
                    render_import(s, &session, &actor, v, errors, Vec::new(), status).await
                }
            }
        }
    }
}
