//! HTML pages. Each page is an askama template struct holding a `Chrome` (the signed-in user, the
//! navigation and the CSRF token) and its own data; handlers call the same use cases as the API.

pub mod account;
pub mod analysis;
pub mod announcements;
pub mod audit;
pub mod calendar;
pub mod cases;
pub mod disposals;
pub mod documents;
pub mod draw_record;
pub mod draws;
pub mod exports;
pub mod home;
pub mod implementation_rules;
pub mod inbox;
pub mod lab;
pub mod login;
pub mod national_export;
pub mod organisations;
pub mod overview;
pub mod plans;
pub mod public;
pub mod registry;
pub mod respond;
pub mod results;
pub mod retests;
pub mod seals;
pub mod tasks;
pub mod training;
pub mod users;
pub mod verify;

use axum::Router;
use choucha_domain::access::Action;
use choucha_domain::role::Role;
use choucha_service::Actor;
use tower_sessions::Session;

use crate::AppState;
use crate::auth::csrf_token;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(login::router())
        .merge(draw_record::router())
        .merge(home::router())
        .merge(users::router())
        .merge(organisations::router())
        .merge(seals::router())
        .merge(audit::router())
        .merge(calendar::router())
        .merge(training::router())
        .merge(account::router())
        .merge(documents::router())
        .merge(registry::router())
        .merge(plans::router())
        .merge(implementation_rules::router())
        .merge(draws::router())
        .merge(disposals::router())
        .merge(cases::router())
        .merge(tasks::router())
        .merge(inbox::router())
        .merge(lab::router())
        .merge(results::router())
        .merge(retests::router())
        .merge(overview::router())
        .merge(national_export::router())
        .merge(exports::router())
        .merge(public::router())
        .merge(verify::router())
        .merge(announcements::router())
        .merge(analysis::router())
}

/// The signed-in user as shown in the header.
pub struct UserChip {
    pub display_name: String,
    pub role_labels: String,
    pub org_name: Option<String>,
}

pub struct NavItem {
    pub key: &'static str,
    pub href: &'static str,
    pub label: &'static str,
}

/// What every page around its content needs.
pub struct Chrome {
    pub user: Option<UserChip>,
    pub csrf: String,
    pub nav: Vec<NavItem>,
    /// The navigation entry of this page.
    pub active: &'static str,
    /// A one-time message (e.g. "已保存").
    pub flash: Option<String>,
    /// The moved business date of a training instance: the banner 培训模式：系统日期为 … .
    pub training_today: Option<chrono::NaiveDate>,
}

/// The training clock as the pages of one request see it.
#[derive(Debug, Clone, Copy, Default)]
struct Training {
    /// A training instance.
    instance: bool,
    /// Its business date, when moved.
    moved_today: Option<chrono::NaiveDate>,
}

tokio::task_local! {
    /// The training clock during one request (set by [`training_banner`], read by [`chrome`]).
    static TRAINING: Training;
}

/// Middleware: every page of a training instance whose date is moved carries the banner.
pub async fn training_banner(
    axum::extract::State(state): axum::extract::State<crate::AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let t = Training {
        instance: state.services.is_training(),
        moved_today: choucha_service::training::moved_today(&state.services),
    };
    TRAINING.scope(t, next.run(request)).await
}

/// The banner's date for the current request, when the date of a training instance is moved.
pub fn training_today() -> Option<chrono::NaiveDate> {
    TRAINING.try_with(|t| t.moved_today).ok().flatten()
}

fn training_instance() -> bool {
    TRAINING.try_with(|t| t.instance).unwrap_or(false)
}

const FLASH: &str = "flash";

/// Keep a message for the next page (after a redirect).
pub async fn set_flash(session: &Session, message: &str) {
    let _ = session.insert(FLASH, message).await;
}

/// When a navigation entry is shown.
type Shown = fn(&Actor) -> bool;

/// The navigation, in order: key, link, label and who sees it. Every test is the permission table's
/// (directly or through the page module's own `has_…`, which asks it).
const NAV: &[(&str, &str, &str, Shown)] = &[
    ("home", "/", "首页", |_| true),
    ("registry", "/registry", "企业名录库", |a| a.may(Action::ViewRegistry)),
    ("plans", "/plans", "抽查计划", |a| a.may(Action::ViewPlans)),
    ("tasks", "/tasks", "抽样任务", |a| a.may(Action::ClaimTask)),
    ("lab", "/lab", "检验工作台", lab::is_lab),
    ("inbox", "/inbox", "待办事项", inbox::has_inbox),
    ("results", "/results", "结果送达", results::has_results),
    ("retests", "/retests", "复检与确认", retests::has_retests),
    ("my_results", "/my/results", "检验结果", |a| a.may(Action::ViewOwnResults)),
    ("my_cases", "/my/cases", "后处理", |a| a.may(Action::ViewOwnResults)),
    ("disposals", "/disposals", "处置", disposals::has_disposals),
    ("cases", "/cases", "后处理", cases::has_cases),
    ("calendar", "/calendar", "工作日历", |a| a.may(Action::ViewCalendar)),
    ("users", "/admin/users", "用户管理", |a| a.may(Action::ViewUsers)),
    ("orgs", "/admin/orgs", "机构管理", |a| a.may(Action::ManageOrganisations)),
    ("audit", "/admin/audit", "审计日志", |a| a.may(Action::ViewAudit)),
    ("training", "/admin/training", "培训日期", |a| a.may(Action::MoveTrainingClock) && training_instance()),
    ("documents", "/documents/improvement-letter", "改进建议书", choucha_service::documents::may_write_letters),
    ("account", "/account/password", "账号安全", |_| true),
];

/// The navigation a user sees: only what their roles may open.
pub fn nav_for(actor: &Actor) -> Vec<NavItem> {
    NAV.iter().filter(|(.., shown)| shown(actor)).map(|&(key, href, label, _)| NavItem { key, href, label }).collect()
}

pub async fn chrome(session: &Session, actor: Option<&Actor>, active: &'static str) -> Chrome {
    let flash = session.remove::<String>(FLASH).await.ok().flatten();
    Chrome {
        user: actor.map(|a| UserChip {
            display_name: a.display_name.clone(),
            role_labels: a.roles.iter().map(|r| r.label()).collect::<Vec<_>>().join("、"),
            org_name: a.org_name.clone(),
        }),
        csrf: csrf_token(session).await,
        nav: actor.map(nav_for).unwrap_or_default(),
        active,
        flash,
        training_today: training_today(),
    }
}

/// Role codes of an actor, for templates.
pub fn has_role(actor: &Actor, code: &str) -> bool {
    actor.roles.iter().any(|r: &Role| r.as_str() == code)
}
