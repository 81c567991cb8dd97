//! 后处理 pages (rule 20, post-processing cases): the bureaus' cases with their deadlines and a form
//! for the next step; the enterprise's own cases with the upload of its rectification report; and
//! the rules page (provincial disposal rules, versioned rule sets of time limits and their
//! selection). Everything is checked in `choucha_service::cases` and `choucha_service::disposal`.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use choucha_domain::access::Action;
use choucha_domain::calendar::TimeLimit;
use choucha_domain::cases::CaseState;
use choucha_domain::cases::{CaseAction, CaseLimits};
use choucha_service::Actor;
use choucha_service::access::{Ask, Scope};
use choucha_service::cases::{
    self, CaseDetail, CaseQuery, CaseView, FollowUpOrderInput, RuleSetInput, RuleSetsView, SelectionInput, StepInput,
};
use choucha_service::disposal::{self, DisposalRuleInput, DisposalRuleView};
use serde::Deserialize;
use tower_sessions::Session;

use crate::AppState;
use crate::api::disposals::file_response;
use crate::auth::{Page, PageActor};
use crate::error::{PageForm, PageResult};
use crate::extract::PagePath;
#[allow(unused_imports)]
use crate::filters;
use crate::pages::disposals::{ListQuery, UPLOAD_MAX, date_field, field, next_of, read_multipart};
use crate::pages::plans::id_of;
use crate::pages::respond::{done, not_done};
use crate::pages::{Chrome, chrome};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/cases", get(case_list))
        .route("/cases/{id}", get(case_page))
        .route("/cases/{id}/steps", post(case_step).layer(DefaultBodyLimit::max(UPLOAD_MAX)))
        .route("/cases/{id}/follow-up-checks", post(order_follow_up_check))
        .route("/cases/{id}/steps/{step}/document", get(step_document))
        .route("/cases/{id}/steps/{step}/order", get(step_order))
        .route("/my/cases", get(my_cases))
        .route("/my/cases/{id}/rectification", post(my_rectification).layer(DefaultBodyLimit::max(UPLOAD_MAX)))
        .route("/admin/followup-rules", get(rules_page))
        .route("/admin/followup-rules/disposal", post(set_disposal_rule))
        .route("/admin/followup-rules/sets", post(add_rule_set))
        .route("/admin/followup-rules/selection", post(select_rule_set))
}

/// Who has the 后处理 page: bureau staff and admins (enterprises have their own).
pub fn has_cases(actor: &Actor) -> bool {
    actor.may(Action::ListCases) && !matches!(actor.scope_any(), Some(Scope::Enterprise(_)))
}

// ---- 后处理 --------------------------------------------------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "cases/list.html")]
pub struct CasesPage {
    pub chrome: Chrome,
    pub items: Vec<CaseView>,
    pub filter: String,
    pub today: String,
    pub admin: bool,
    pub next_href: Option<String>,
}

async fn case_list(Page { state: st, session, actor: a }: Page, Query(q): Query<ListQuery>) -> PageResult<Response> {
    if a.may(Action::ViewOwnResults) && !has_cases(&a) {
        return Ok(Redirect::to("/my/cases").into_response());
    }
    let filter = q.filter.clone().filter(|f| !f.is_empty()).unwrap_or_else(|| "open".into());
    let p = cases::list(
        &st.services,
        &a,
        CaseQuery { filter: Some(filter.clone()), cursor: q.cursor.clone(), limit: Some(30) },
    )
    .await?;
    Ok(CasesPage {
        next_href: next_of("/cases", &filter, p.next),
        items: p.items,
        filter,
        today: st.services.today().to_string(),
        admin: a.may(Action::AddRuleSet),
        chrome: chrome(&session, Some(&a), "cases").await,
    }
    .into_response())
}

/// An action the caller may take, with its label.
pub struct ActionChoice {
    pub key: String,
    pub label: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "cases/case.html")]
pub struct CasePage {
    pub chrome: Chrome,
    pub d: CaseDetail,
    pub actions: Vec<ActionChoice>,
    pub today: String,
    /// Where the forms return (the enterprise's portal or the bureau's page).
    pub back: String,
}

fn choices(d: &CaseDetail) -> Vec<ActionChoice> {
    d.actions
        .iter()
        .filter_map(|k| CaseAction::parse(k).map(|a| ActionChoice { key: k.clone(), label: a.label() }))
        .collect()
}

async fn case_page(
    Page { state: st, session, actor: a }: Page,
    PagePath(id): PagePath<String>,
) -> PageResult<CasePage> {
    let id = id_of(&id, "后处理案件")?;
    let d = cases::get(&st.services, &a, id).await?;
    Ok(CasePage {
        actions: choices(&d),
        back: if a.may(Action::ViewOwnResults) && !has_cases(&a) { "/my/cases".into() } else { format!("/cases/{id}") },
        d,
        today: st.services.today().to_string(),
        chrome: chrome(&session, Some(&a), if a.may(Action::ViewOwnResults) { "my_cases" } else { "cases" }).await,
    })
}

/// A case form's fields (multipart, with an optional file) as `parse` reads them; a form that
/// cannot be read goes back to the case page with its message.
async fn case_form<T>(
    session: &Session,
    back: &str,
    multipart: Result<Multipart, MultipartRejection>,
    parse: impl FnOnce(Vec<(String, String)>, Option<choucha_service::disposal::FileInput>) -> Result<T, String>,
) -> PageResult<Result<T, Response>> {
    match read_multipart(multipart).await.and_then(|(fields, file)| parse(fields, file)) {
        Ok(input) => Ok(Ok(input)),
        Err(m) => Ok(Err(not_done(session, &m, back).await?)),
    }
}

async fn case_step(
    Page { state: st, session, actor: a }: Page,
    PagePath(id): PagePath<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> PageResult<Response> {
    let id = id_of(&id, "后处理案件")?;
    let back = format!("/cases/{id}");
    let read = case_form(&session, &back, multipart, |fields, file| {
        Ok(StepInput {
            action: field(&fields, "action"),
            happened_on: date_field(&fields, "happened_on")?,
            note: field(&fields, "note"),
            deadline: date_field(&fields, "deadline")?,
            report_no: field(&fields, "report_no"),
            sanction: field(&fields, "sanction"),
            document: file,
        })
    });
    let input = match read.await? {
        Ok(i) => i,
        Err(r) => return Ok(r),
    };
    done(&session, cases::step(&st.services, &a, id, input).await, &back, |d| {
        format!("已登记，案件现为：{}", d.case.state_label)
    })
    .await
}

/// The bureau orders the case's 复查 as a sampling task (samplers ticked, a due date).
async fn order_follow_up_check(
    Page { state: st, session, actor: a }: Page,
    PagePath(id): PagePath<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> PageResult<Response> {
    let id = id_of(&id, "后处理案件")?;
    let back = format!("/cases/{id}");
    let read = case_form(&session, &back, multipart, |fields, _| {
        let team = fields
            .iter()
            .filter(|(k, _)| k == "team")
            .map(|(_, v)| v.trim().parse::<i64>().map_err(|_| "请选择抽样人员".to_string()))
            .collect::<Result<Vec<i64>, String>>()?;
        Ok(FollowUpOrderInput { team, due_date: date_field(&fields, "due_date")? })
    });
    let input = match read.await? {
        Ok(i) => i,
        Err(r) => return Ok(r),
    };
    done(&session, cases::order_follow_up_check(&st.services, &a, id, input).await, &back, |d| {
        let t = d.follow_ups.last().map(|f| f.task_id).unwrap_or_default();
        format!("已安排复查抽样任务{t}")
    })
    .await
}

async fn step_document(
    State(st): State<AppState>,
    PageActor(a): PageActor,
    PagePath((id, step)): PagePath<(String, String)>,
) -> PageResult<Response> {
    let (id, step) = (id_of(&id, "后处理案件")?, id_of(&step, "文件")?);
    let (f, bytes) = cases::step_document(&st.services, &a, id, step).await?;
    Ok(file_response(f, bytes))
}

/// The 责令…通知书 of an order step, to print and stamp.
async fn step_order(
    State(st): State<AppState>,
    PageActor(a): PageActor,
    PagePath((id, step)): PagePath<(String, String)>,
) -> PageResult<Response> {
    let (id, step) = (id_of(&id, "后处理案件")?, id_of(&step, "通知书")?);
    let pdf = cases::order_pdf(&st.services, &a, id, step).await?;
    Ok(crate::api::lab::pdf_response(pdf, &format!("case-{id}-order-{step}.pdf")))
}

#[derive(Template, WebTemplate)]
#[template(path = "cases/mine.html")]
pub struct MinePage {
    pub chrome: Chrome,
    pub items: Vec<CaseView>,
    pub today: String,
}

/// The enterprise's own cases (only its own: the service finds them by the user's enterprise).
async fn my_cases(State(st): State<AppState>, session: Session, PageActor(a): PageActor) -> PageResult<MinePage> {
    let items = cases::my_cases(&st.services, &a).await?;
    Ok(MinePage { items, today: st.services.today().to_string(), chrome: chrome(&session, Some(&a), "my_cases").await })
}

async fn my_rectification(
    Page { state: st, session, actor: a }: Page,
    PagePath(id): PagePath<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> PageResult<Response> {
    let id = id_of(&id, "后处理案件")?;
    let back = "/my/cases";
    let (fields, file) = match read_multipart(multipart).await {
        Ok(x) => x,
        Err(m) => return not_done(&session, &m, back).await,
    };
    let input = StepInput {
        action: CaseAction::RectificationReport.as_str().into(),
        note: field(&fields, "note"),
        document: file,
        ..Default::default()
    };
    done(&session, cases::step(&st.services, &a, id, input).await, back, |_| "整改报告已提交，等待市场监管部门复查")
        .await
}

// ---- Rules --------------------------------------------------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "cases/rules.html")]
pub struct RulesPage {
    pub chrome: Chrome,
    pub sets: RuleSetsView,
    pub disposal_rules: Vec<DisposalRuleView>,
    pub admin: bool,
    /// The division a regulator may select for (its own bureau's).
    pub own_division: Option<String>,
}

async fn rules_page(State(st): State<AppState>, session: Session, PageActor(a): PageActor) -> PageResult<RulesPage> {
    let sets = cases::rule_sets(&st.services, &a).await?;
    let disposal_rules = disposal::rules_list(&st.services, &a).await?;
    Ok(RulesPage {
        sets,
        disposal_rules,
        admin: a.may(Action::AddRuleSet),
        own_division: a.org_division.clone().filter(|d| a.to_division(d).may(Action::ManageRuleSets)),
        chrome: chrome(&session, Some(&a), "cases").await,
    })
}

const RULES: &str = "/admin/followup-rules";

#[derive(Debug, Default, Deserialize)]
pub struct DisposalRuleForm {
    #[serde(default)]
    division_code: String,
    #[serde(default)]
    paid_rule: String,
    #[serde(default)]
    overdue_days: String,
}

async fn set_disposal_rule(
    Page { state: st, session, actor: a }: Page,
    PageForm(f): PageForm<DisposalRuleForm>,
) -> PageResult<Response> {
    let input = DisposalRuleInput { paid_rule: f.paid_rule, overdue_days: f.overdue_days.trim().parse().unwrap_or(0) };
    done(&session, disposal::set_rule(&st.services, &a, &f.division_code, input).await, RULES, |r| {
        format!("已保存{}的样品处置规定", r.division_code)
    })
    .await
}

#[derive(Debug, Default, Deserialize)]
pub struct RuleSetForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    stop_order_days: String,
    #[serde(default)]
    correction_order_days: String,
    #[serde(default)]
    rectify_days: String,
    #[serde(default)]
    follow_up_check_days: String,
    #[serde(default)]
    second_follow_up_check_after: String,
    #[serde(default)]
    second_follow_up_check_within: String,
    /// "working" when the first two limits count working days.
    #[serde(default)]
    working: String,
}

/// A number of days from the form: empty is no limit; anything else must be a number.
fn days(s: &str, working: bool) -> Result<Option<TimeLimit>, String> {
    match s.trim() {
        "" => Ok(None),
        t => t
            .parse::<u32>()
            .map(|n| Some(if working { TimeLimit::WorkingDays(n) } else { TimeLimit::CalendarDays(n) }))
            .map_err(|_| format!("天数“{t}”应为整数")),
    }
}

fn limits_of_form(f: &RuleSetForm) -> Result<CaseLimits, String> {
    let working = f.working == "working";
    let required = |s: &str, what: &str| days(s, false)?.ok_or_else(|| format!("请填写{what}"));
    Ok(CaseLimits {
        stop_order_within: days(&f.stop_order_days, working)?,
        correction_order_within: days(&f.correction_order_days, working)?,
        rectify_within: required(&f.rectify_days, "整改期限")?,
        follow_up_check_within: days(&f.follow_up_check_days, false)?,
        second_follow_up_check_after: required(&f.second_follow_up_check_after, "再次复查的最早天数")?,
        second_follow_up_check_within: required(&f.second_follow_up_check_within, "再次复查的最迟天数")?,
    })
}

async fn add_rule_set(
    Page { state: st, session, actor: a }: Page,
    PageForm(f): PageForm<RuleSetForm>,
) -> PageResult<Response> {
    let limits = match limits_of_form(&f) {
        Ok(l) => l,
        Err(m) => return not_done(&session, &m, RULES).await,
    };
    done(
        &session,
        cases::add_rule_set(&st.services, &a, RuleSetInput { name: f.name, note: f.note, limits }).await,
        RULES,
        |r| format!("已新增：{}（第{}版）", r.name, r.version),
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
pub struct SelectionForm {
    #[serde(default)]
    division_code: String,
    #[serde(default)]
    rule_set_id: String,
}

async fn select_rule_set(
    Page { state: st, session, actor: a }: Page,
    PageForm(f): PageForm<SelectionForm>,
) -> PageResult<Response> {
    let input = SelectionInput { rule_set_id: f.rule_set_id.trim().parse().unwrap_or(0) };
    done(&session, cases::select_rule_set(&st.services, &a, &f.division_code, input).await, RULES, |_| {
        format!("{}今后新立案件适用所选规则", f.division_code.trim())
    })
    .await
}
