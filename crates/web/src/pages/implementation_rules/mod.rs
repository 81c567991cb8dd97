//! Implementation rules pages (实施细则) of a plan item at `/items/{id}/rules`: the versions with
//! their state, the testing institution's form for a draft (standards, test items with typed
//! limits, portions, judgement, re-test terms, licence check), and the lifecycle buttons of each
//! party: 提交备案 (institution), 退回 / 备案通过 / 向社会公开 (organising bureau). The lifecycle and
//! who may act are `choucha_domain::implementation_rules::transition`, called by `choucha_service::implementation_rules`.

mod display;
mod form;

use choucha_domain::sampling::EvidenceCategory;
pub use display::*;
pub use form::*;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
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
use crate::auth::Page;
use crate::error::{PageForm, PageResult, body_of, status_of};
use crate::extract::PagePath;
use crate::filters;
use crate::pages::plans::id_of;
use crate::pages::respond::{done_or_again, flash_to};
use crate::pages::users::{FieldErrors, FormData};
use crate::pages::{Chrome, chrome};

pub fn router() -> Router<AppState> {
    Router::new().route("/items/{id}/rules", get(page).post(save)).route("/items/{id}/rules/{rid}/step", post(step))
}

#[derive(Template, WebTemplate)]
#[template(path = "implementation_rules/page.html")]
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
                    required_evidence: EvidenceCategory::REQUIRED_BY_NOTICE
                        .iter()
                        .map(|c| c.as_str().to_string())
                        .collect(),
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
    Page { state, session, actor }: Page,
    PagePath(id): PagePath<String>,
    Query(q): Query<PageQuery>,
) -> PageResult<Response> {
    let id = id_of(&id, "计划条目")?;
    let selected = q.version.as_deref().and_then(|v| v.parse().ok());
    let shown = Shown { selected, form: None, errors: FieldErrors::default(), error: None };
    render(&state, &session, &actor, id, shown, StatusCode::OK).await
}

async fn save(
    Page { state, session, actor }: Page,
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
                let to = format!("/items/{item_id}/rules");
                return flash_to(&session, &format!("已保存实施细则第{}版草稿", v.version), &to).await;
            }
            Err(e) => {
                status = status_of(&e);
                errors = FieldErrors::from_refusal(e)?;
            }
        }
    }
    let shown = Shown { selected: None, form: Some(values), errors, error: None };
    render(&state, &session, &actor, item_id, shown, status).await
}

async fn step(
    Page { state, session, actor }: Page,
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
    let then = |(action, v): (RulesAction, RulesView)| {
        let done = match action {
            RulesAction::Submit => "已提交组织部门备案",
            RulesAction::Return => "已退回检验机构修改",
            RulesAction::Approve => "已备案通过",
            RulesAction::Publish => "已向社会公开，该产品可以开始抽样",
            RulesAction::Edit | RulesAction::Supersede => "已保存",
        };
        (format!("/items/{item_id}/rules"), format!("实施细则第{}版{}", v.version, done))
    };
    done_or_again(&session, result, then, |e| {
        let shown = Shown {
            selected: None,
            form: None,
            errors: FieldErrors::default(),
            error: Some(format!("操作未执行：{}", body_of(&e).message)),
        };
        render(&state, &session, &actor, item_id, shown, status_of(&e))
    })
    .await
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
