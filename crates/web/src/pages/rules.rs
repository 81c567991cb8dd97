//! Implementation rules pages (实施细则) of a plan item at `/items/{id}/rules`: the versions with
//! their state, the testing institution's form for a draft (standards, test items with typed
//! limits, portions, judgement, re-test terms, licence check), and the lifecycle buttons of each
//! party: 提交备案 (institution), 退回 / 备案通过 / 向社会公开 (organising bureau). The lifecycle and
//! who may act are `choucha_domain::implementation_rules::transition`, called by `choucha_service::implementation_rules`.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use choucha_domain::access::Action;
use choucha_domain::implementation_rules::RulesState;
use choucha_domain::implementation_rules::{Limit, RulesAction};
use choucha_domain::plan::PlanState;
use choucha_service::Actor;
use choucha_service::access::Ask;
use choucha_service::implementation_rules::{self as irules, LicenceRequirement, RulesBody, RulesView, TestItemInput};
use choucha_service::plans::ItemView;
use serde::Deserialize;
use tower_sessions::Session;

use crate::AppState;
use crate::api::draws::parse_action;
use crate::auth::PageActor;
use crate::error::{PageForm, PageResult, body_of, status_of};
use crate::extract::PagePath;
use crate::filters;
use crate::pages::plans::{id_of, shown_on_page};
use crate::pages::users::{FieldErrors, FormData};
use crate::pages::{Chrome, chrome, set_flash};

pub fn router() -> Router<AppState> {
    Router::new().route("/items/{id}/rules", get(page).post(save)).route("/items/{id}/rules/{rid}/step", post(step))
}

// ---------------------------------------------------------------------------------------------
// Reading a version (shared with the public page)

pub struct TestLine {
    pub name: String,
    pub method: String,
    /// The limit as printed, with its unit (`Limit::display`).
    pub requirement: String,
    pub class: String,
}

/// A rules version's content as shown to people.
pub struct BodyDisplay {
    pub standards: Vec<String>,
    pub tests: Vec<TestLine>,
    pub test_portion: String,
    pub backup_portion: String,
    pub min_base: String,
    pub judgement_principle: String,
    pub retest_terms: String,
    /// 实施方案 (empty where it is not shown: the public sees only the rules).
    pub scheme: String,
    pub licence: &'static str,
}

pub fn licence_label(l: LicenceRequirement) -> &'static str {
    match l {
        LicenceRequirement::None => "无需核查",
        LicenceRequirement::ProductionLicence => "检验前核查生产许可证",
        LicenceRequirement::Ccc => "检验前核查强制性产品认证（CCC）",
    }
}

impl BodyDisplay {
    pub fn of(b: &RulesBody) -> BodyDisplay {
        BodyDisplay {
            standards: b.standards.iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
            tests: b
                .test_items
                .iter()
                .map(|t| TestLine {
                    name: t.name.clone(),
                    method: t.method.clone(),
                    requirement: t.limit.display(&t.unit),
                    class: t.class.clone().unwrap_or_default(),
                })
                .collect(),
            test_portion: b.test_portion.clone(),
            backup_portion: b.backup_portion.clone(),
            min_base: b.min_base.clone(),
            judgement_principle: b.judgement_principle.clone(),
            retest_terms: b.retest_terms.clone(),
            scheme: b.scheme.clone(),
            licence: licence_label(b.licence),
        }
    }
}

/// A version in the list.
pub struct VersionLine {
    pub id: i64,
    pub version: i32,
    pub state: RulesState,
    pub state_label: String,
    pub submitted_at: Option<chrono::DateTime<chrono::Utc>>,
    pub approved_at: Option<chrono::DateTime<chrono::Utc>>,
    pub published_at: Option<chrono::DateTime<chrono::Utc>>,
    pub returned_reason: String,
    pub selected: bool,
}

pub fn rules_badge(state: &RulesState) -> &'static str {
    match state {
        RulesState::Published => "ok",
        RulesState::Draft | RulesState::Submitted | RulesState::Approved => "warn",
        RulesState::Superseded => "",
    }
}

// ---------------------------------------------------------------------------------------------
// The form

/// The kinds of limit offered in the form, with how they are written.
pub struct KindChoice {
    pub value: &'static str,
    pub label: &'static str,
}

const KINDS: [(&str, &str); 7] = [
    ("max", "≤ 不大于"),
    ("max_lt", "< 小于"),
    ("min", "≥ 不小于"),
    ("min_gt", "> 大于"),
    ("range", "范围（下限～上限）"),
    ("text", "文字等于"),
    ("pass_fail", "符合与否"),
];

/// One test item row as typed: `a` is the value (or the lower bound, or the text), `b` the upper bound.
#[derive(Debug, Default, Clone)]
pub struct TestValues {
    pub name: String,
    pub method: String,
    pub kind: String,
    pub a: String,
    pub b: String,
    pub unit: String,
    pub class: String,
}

impl TestValues {
    fn is_blank(&self) -> bool {
        [&self.name, &self.method, &self.a, &self.b, &self.unit, &self.class].iter().all(|v| v.trim().is_empty())
    }

    fn of(t: &TestItemInput) -> TestValues {
        let n = |v: f64| format!("{v}");
        let (kind, a, b) = match &t.limit {
            Limit::Max { max, inclusive: true } => ("max", n(*max), String::new()),
            Limit::Max { max, inclusive: false } => ("max_lt", n(*max), String::new()),
            Limit::Min { min, inclusive: true } => ("min", n(*min), String::new()),
            Limit::Min { min, inclusive: false } => ("min_gt", n(*min), String::new()),
            Limit::Range { min, max } => ("range", n(*min), n(*max)),
            Limit::EqualsText { text } => ("text", text.clone(), String::new()),
            Limit::PassFail => ("pass_fail", String::new(), String::new()),
        };
        TestValues {
            name: t.name.clone(),
            method: t.method.clone(),
            kind: kind.to_string(),
            a,
            b,
            unit: t.unit.clone(),
            class: t.class.clone().unwrap_or_default(),
        }
    }

    /// The typed limit; a number that is not a number is refused here, at the edge.
    fn limit(&self, n: usize, errors: &mut FieldErrors) -> Limit {
        let mut num = |raw: &str, what: &str| -> f64 {
            let t = raw.trim().replace('，', ".");
            match t.parse::<f64>() {
                Ok(v) if v.is_finite() => v,
                _ => {
                    errors.add(
                        "test_items",
                        &format!("第{n}个检验项目“{}”：{what}“{raw}”不是有效数字", self.name.trim()),
                    );
                    0.0
                }
            }
        };
        match self.kind.as_str() {
            "max" => Limit::Max { max: num(&self.a, "限值"), inclusive: true },
            "max_lt" => Limit::Max { max: num(&self.a, "限值"), inclusive: false },
            "min" => Limit::Min { min: num(&self.a, "限值"), inclusive: true },
            "min_gt" => Limit::Min { min: num(&self.a, "限值"), inclusive: false },
            "range" => Limit::Range { min: num(&self.a, "下限"), max: num(&self.b, "上限") },
            "text" => Limit::EqualsText { text: self.a.trim().to_string() },
            _ => Limit::PassFail,
        }
    }
}

/// The whole form as typed.
#[derive(Debug, Default, Clone)]
pub struct RulesValues {
    /// The draft being edited; empty for a new version.
    pub rules_id: String,
    pub standards: String,
    pub tests: Vec<TestValues>,
    pub test_portion: String,
    pub backup_portion: String,
    pub min_base: String,
    pub judgement_principle: String,
    pub retest_terms: String,
    pub scheme: String,
    pub licence: String,
    pub test_quantity: String,
    pub backup_quantity: String,
    pub min_base_quantity: String,
    pub quantity_unit: String,
}

/// An optional non-negative number typed in a form.
fn number(v: &str, field: &str, label: &str, errors: &mut FieldErrors) -> Option<f64> {
    let t = v.trim();
    if t.is_empty() {
        return None;
    }
    match t.parse::<f64>() {
        Ok(n) if n.is_finite() && n >= 0.0 => Some(n),
        _ => {
            errors.add(field, &format!("{label}“{t}”应为不小于0的数"));
            None
        }
    }
}

fn licence_code(l: LicenceRequirement) -> &'static str {
    match l {
        LicenceRequirement::None => "none",
        LicenceRequirement::ProductionLicence => "production_licence",
        LicenceRequirement::Ccc => "ccc",
    }
}

impl RulesValues {
    fn of(rules_id: Option<i64>, b: &RulesBody) -> RulesValues {
        RulesValues {
            rules_id: rules_id.map(|i| i.to_string()).unwrap_or_default(),
            standards: b.standards.join("\n"),
            tests: b.test_items.iter().map(TestValues::of).collect(),
            test_portion: b.test_portion.clone(),
            backup_portion: b.backup_portion.clone(),
            min_base: b.min_base.clone(),
            judgement_principle: b.judgement_principle.clone(),
            retest_terms: b.retest_terms.clone(),
            scheme: b.scheme.clone(),
            test_quantity: b.test_quantity.map(|n| n.to_string()).unwrap_or_default(),
            backup_quantity: b.backup_quantity.map(|n| n.to_string()).unwrap_or_default(),
            min_base_quantity: b.min_base_quantity.map(|n| n.to_string()).unwrap_or_default(),
            quantity_unit: b.quantity_unit.clone(),
            licence: licence_code(b.licence).to_string(),
        }
    }

    fn parse(f: &FormData) -> RulesValues {
        let cols: Vec<Vec<String>> = ["ti_name", "ti_method", "ti_kind", "ti_a", "ti_b", "ti_unit", "ti_class"]
            .iter()
            .map(|k| f.all(k))
            .collect();
        let n = cols.iter().map(Vec::len).max().unwrap_or(0);
        let at = |c: usize, i: usize| {
            cols.get(c).and_then(|col| col.get(i)).map(|s| s.trim().to_string()).unwrap_or_default()
        };
        RulesValues {
            rules_id: f.get("rules_id").trim().to_string(),
            standards: f.get("standards"),
            tests: (0..n)
                .map(|i| TestValues {
                    name: at(0, i),
                    method: at(1, i),
                    kind: at(2, i),
                    a: at(3, i),
                    b: at(4, i),
                    unit: at(5, i),
                    class: at(6, i),
                })
                .filter(|t| !t.is_blank())
                .collect(),
            test_portion: f.get("test_portion"),
            backup_portion: f.get("backup_portion"),
            min_base: f.get("min_base"),
            judgement_principle: f.get("judgement_principle"),
            retest_terms: f.get("retest_terms"),
            scheme: f.get("scheme"),
            test_quantity: f.get("test_quantity"),
            backup_quantity: f.get("backup_quantity"),
            min_base_quantity: f.get("min_base_quantity"),
            quantity_unit: f.get("quantity_unit"),
            licence: f.get("licence"),
        }
    }

    fn body(&self, errors: &mut FieldErrors) -> RulesBody {
        RulesBody {
            standards: self.standards.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect(),
            test_items: self
                .tests
                .iter()
                .enumerate()
                .map(|(i, t)| TestItemInput {
                    name: t.name.clone(),
                    method: t.method.clone(),
                    limit: t.limit(i + 1, errors),
                    unit: t.unit.clone(),
                    class: Some(t.class.trim().to_string()).filter(|c| !c.is_empty()),
                })
                .collect(),
            test_portion: self.test_portion.trim().to_string(),
            backup_portion: self.backup_portion.trim().to_string(),
            min_base: self.min_base.trim().to_string(),
            judgement_principle: self.judgement_principle.trim().to_string(),
            retest_terms: self.retest_terms.trim().to_string(),
            test_quantity: number(&self.test_quantity, "test_quantity", "检验样品数量", errors),
            backup_quantity: number(&self.backup_quantity, "backup_quantity", "备用样品数量", errors),
            min_base_quantity: number(&self.min_base_quantity, "min_base_quantity", "最低抽样基数", errors),
            quantity_unit: self.quantity_unit.trim().to_string(),
            scheme: self.scheme.trim().to_string(),
            licence: match self.licence.as_str() {
                "production_licence" => LicenceRequirement::ProductionLicence,
                "ccc" => LicenceRequirement::Ccc,
                _ => LicenceRequirement::None,
            },
        }
    }
}

/// The version being read.
pub struct ShownVersion {
    pub v: VersionLine,
    pub b: BodyDisplay,
}

/// A lifecycle button.
pub struct StepButton {
    pub action: &'static str,
    pub label: &'static str,
    pub confirm: &'static str,
    pub danger: bool,
}

// ---------------------------------------------------------------------------------------------
// The page

#[derive(Template, WebTemplate)]
#[template(path = "rules/page.html")]
pub struct RulesPage {
    pub chrome: Chrome,
    pub plan_id: i64,
    pub plan_title: String,
    pub plan_state: PlanState,
    pub item: ItemView,
    pub versions: Vec<VersionLine>,
    /// The version being read and its content.
    pub shown: Option<ShownVersion>,
    /// The newest version (the one the buttons act on).
    pub newest_id: Option<i64>,
    pub newest_version: i32,
    pub steps: Vec<StepButton>,
    /// The bureau may return the newest version with a reason.
    pub can_return: bool,
    pub form: Option<RulesValues>,
    pub form_heading: String,
    pub blank: Vec<TestValues>,
    pub kinds: Vec<KindChoice>,
    pub errors: FieldErrors,
    pub error: Option<String>,
    pub published: bool,
}

/// The caller's part in this item's rules, for which buttons to offer (the service decides).
fn parties(actor: &Actor, item: &ItemView, organising_org_id: i64) -> (bool, bool) {
    let r = actor.to_item(organising_org_id, item.sampling_org_id, item.testing_org_id);
    (r.may(Action::EditRules), r.may(Action::ApproveRules))
}

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    version: Option<String>,
}

struct Shown {
    selected: Option<i64>,
    form: Option<RulesValues>,
    errors: FieldErrors,
    error: Option<String>,
}

async fn render(
    state: &AppState,
    session: &Session,
    actor: &Actor,
    item_id: i64,
    shown: Shown,
    status: StatusCode,
) -> PageResult<Response> {
    let s = &state.services;
    let (plan, item) = choucha_service::plans::get_item(s, actor, item_id).await?;
    let versions: Vec<RulesView> = irules::versions(s, actor, item_id).await?;
    let (institution, bureau) = parties(actor, &item, plan.organising_org_id);
    let newest = versions.first();
    let selected = shown.selected.and_then(|id| versions.iter().find(|v| v.id == id)).or(newest);
    let line = |v: &RulesView| VersionLine {
        id: v.id,
        version: v.version,
        state: v.state,
        state_label: v.state_label.clone(),
        submitted_at: v.submitted_at,
        approved_at: v.approved_at,
        published_at: v.published_at,
        returned_reason: v.returned_reason.clone(),
        selected: selected.is_some_and(|s| s.id == v.id),
    };
    let newest_state = newest.map(|v| v.state);
    let mut steps = Vec::new();
    if institution && newest_state == Some(RulesState::Draft) {
        steps.push(StepButton {
            action: "submit",
            label: "提交备案",
            confirm: "提交后草稿不能再修改，确定提交组织部门备案？",
            danger: false,
        });
    }
    if bureau && newest_state == Some(RulesState::Submitted) {
        steps.push(StepButton {
            action: "approve",
            label: "备案通过",
            confirm: "确定该版实施细则备案通过？",
            danger: false,
        });
    }
    if bureau && newest_state == Some(RulesState::Approved) {
        steps.push(StepButton {
            action: "publish",
            label: "向社会公开",
            confirm: "公开后社会公众均可查阅，且不能撤回；此后该产品方可开始抽样。确定向社会公开？",
            danger: false,
        });
    }
    // The institution edits the open draft, or starts a new version after the last publication.
    let editable = institution
        && plan.state != PlanState::Closed
        && matches!(newest_state, None | Some(RulesState::Draft | RulesState::Published | RulesState::Superseded));
    let (form, form_heading) = if editable {
        let next = newest.map(|v| v.version + 1).unwrap_or(1);
        let (values, heading) = match newest {
            Some(v) if v.state == RulesState::Draft => {
                (RulesValues::of(Some(v.id), &v.body), format!("修改第{}版草稿", v.version))
            }
            Some(v) => (RulesValues::of(None, &v.body), format!("起草第{next}版（在已公开版本基础上修改）")),
            None => (
                RulesValues {
                    tests: vec![TestValues::default(), TestValues::default(), TestValues::default()],
                    ..Default::default()
                },
                "起草第1版".to_string(),
            ),
        };
        let mut values = shown.form.unwrap_or(values);
        if values.tests.is_empty() {
            values.tests.push(TestValues::default());
        }
        (Some(values), heading)
    } else {
        (None, String::new())
    };
    let page = RulesPage {
        plan_id: plan.id,
        plan_title: plan.title.clone(),
        plan_state: plan.state,
        versions: versions.iter().map(line).collect(),
        shown: selected.map(|v| ShownVersion { v: line(v), b: BodyDisplay::of(&v.body) }),
        newest_id: newest.map(|v| v.id),
        newest_version: newest.map(|v| v.version).unwrap_or(0),
        can_return: bureau && newest_state == Some(RulesState::Submitted),
        published: item.rules_published_version.is_some(),
        steps,
        form,
        form_heading,
        blank: vec![TestValues { kind: "max".into(), ..Default::default() }],
        kinds: KINDS.iter().map(|(value, label)| KindChoice { value, label }).collect(),
        errors: shown.errors,
        error: shown.error,
        item,
        chrome: chrome(session, Some(actor), "plans").await,
    };
    Ok((status, page).into_response())
}

async fn page(
    State(state): State<AppState>,
    session: Session,
    PageActor(actor): PageActor,
    PagePath(id): PagePath<String>,
    Query(q): Query<PageQuery>,
) -> PageResult<Response> {
    let id = id_of(&id, "计划条目")?;
    let selected = q.version.as_deref().and_then(|v| v.parse().ok());
    let shown = Shown { selected, form: None, errors: FieldErrors::default(), error: None };
    render(&state, &session, &actor, id, shown, StatusCode::OK).await
}

async fn save(
    State(state): State<AppState>,
    session: Session,
    PageActor(actor): PageActor,
    PagePath(id): PagePath<String>,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> PageResult<Response> {
    let item_id = id_of(&id, "计划条目")?;
    let values = RulesValues::parse(&FormData(pairs));
    let mut errors = FieldErrors::default();
    let body = values.body(&mut errors);
    let mut status = StatusCode::UNPROCESSABLE_ENTITY;
    if errors.is_empty() {
        let s = &state.services;
        let saved = match values.rules_id.parse::<i64>() {
            Ok(rid) => irules::update_draft(s, &actor, rid, body).await,
            Err(_) => irules::create_draft(s, &actor, item_id, body).await,
        };
        match saved {
            Ok(v) => {
                set_flash(&session, &format!("已保存实施细则第{}版草稿", v.version)).await;
                return Ok(Redirect::to(&format!("/items/{item_id}/rules")).into_response());
            }
            Err(e) => {
                status = status_of(&e);
                match FieldErrors::from_service(e) {
                    Ok(fe) => errors = fe,
                    Err(e) if shown_on_page(&e) => errors.add("", &body_of(&e).message),
                    Err(e) => return Err(e.into()),
                }
            }
        }
    }
    let shown = Shown { selected: None, form: Some(values), errors, error: None };
    render(&state, &session, &actor, item_id, shown, status).await
}

async fn step(
    State(state): State<AppState>,
    session: Session,
    PageActor(actor): PageActor,
    PagePath((id, rid)): PagePath<(String, String)>,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> PageResult<Response> {
    let item_id = id_of(&id, "计划条目")?;
    let rid = id_of(&rid, "实施细则")?;
    let f = FormData(pairs);
    let reason = f.opt("reason");
    let result = match parse_action(&f.get("action")) {
        Ok(action) => irules::step(&state.services, &actor, rid, action, reason.as_deref()).await.map(|v| (action, v)),
        Err(e) => Err(e),
    };
    match result {
        Ok((action, v)) => {
            let done = match action {
                RulesAction::Submit => "已提交组织部门备案",
                RulesAction::Return => "已退回检验机构修改",
                RulesAction::Approve => "已备案通过",
                RulesAction::Publish => "已向社会公开，该产品可以开始抽样",
                RulesAction::Edit | RulesAction::Supersede => "已保存",
            };
            set_flash(&session, &format!("实施细则第{}版{}", v.version, done)).await;
            Ok(Redirect::to(&format!("/items/{item_id}/rules")).into_response())
        }
        Err(e) if shown_on_page(&e) => {
            let status = status_of(&e);
            let shown = Shown {
                selected: None,
                form: None,
                errors: FieldErrors::default(),
                error: Some(format!("操作未执行：{}", body_of(&e).message)),
            };
            render(&state, &session, &actor, item_id, shown, status).await
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_round_trip_through_the_form() {
        let limits = [
            Limit::Max { max: 10.0, inclusive: true },
            Limit::Max { max: 0.5, inclusive: false },
            Limit::Min { min: 60.0, inclusive: true },
            Limit::Min { min: 1.0, inclusive: false },
            Limit::Range { min: 45.0, max: 55.0 },
            Limit::EqualsText { text: "无".into() },
            Limit::PassFail,
        ];
        for l in limits {
            let t = TestItemInput { name: "x".into(), limit: l.clone(), ..Default::default() };
            let mut errors = FieldErrors::default();
            assert_eq!(TestValues::of(&t).limit(1, &mut errors), l);
            assert!(errors.is_empty());
        }
        let bad = TestValues { name: "硫含量".into(), kind: "max".into(), a: "十".into(), ..Default::default() };
        let mut errors = FieldErrors::default();
        bad.limit(2, &mut errors);
        assert!(errors.all[0].contains("第2个检验项目“硫含量”"));
    }
}
