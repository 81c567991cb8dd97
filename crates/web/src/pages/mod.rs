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
pub mod draws;
pub mod exports;
pub mod home;
pub mod implementation_rules;
pub mod inbox;
pub mod lab;
pub mod login;
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

/// The navigation a user sees: only what their roles may open.
pub fn nav_for(actor: &Actor) -> Vec<NavItem> {
    let mut nav = vec![NavItem { key: "home", href: "/", label: "首页" }];
    if actor.may(Action::ViewRegistry) {
        nav.push(NavItem { key: "registry", href: "/registry", label: "企业名录库" });
    }
    if actor.may(Action::ViewPlans) {
        nav.push(NavItem { key: "plans", href: "/plans", label: "抽查计划" });
    }
    if actor.may(Action::ClaimTask) {
        nav.push(NavItem { key: "tasks", href: "/tasks", label: "抽样任务" });
    }
    if lab::is_lab(actor) {
        nav.push(NavItem { key: "lab", href: "/lab", label: "检验工作台" });
    }
    if inbox::has_inbox(actor) {
        nav.push(NavItem { key: "inbox", href: "/inbox", label: "待办事项" });
    }
    if results::has_results(actor) {
        nav.push(NavItem { key: "results", href: "/results", label: "结果送达" });
    }
    if retests::has_retests(actor) {
        nav.push(NavItem { key: "retests", href: "/retests", label: "复检与确认" });
    }
    if actor.may(Action::ViewOwnResults) {
        nav.push(NavItem { key: "my_results", href: "/my/results", label: "检验结果" });
    }
    if actor.may(Action::ViewOwnResults) {
        nav.push(NavItem { key: "my_cases", href: "/my/cases", label: "后处理" });
    }
    if disposals::has_disposals(actor) {
        nav.push(NavItem { key: "disposals", href: "/disposals", label: "处置" });
    }
    if cases::has_cases(actor) {
        nav.push(NavItem { key: "cases", href: "/cases", label: "后处理" });
    }
    if actor.may(Action::ViewCalendar) {
        nav.push(NavItem { key: "calendar", href: "/calendar", label: "工作日历" });
    }
    if actor.may(Action::ViewUsers) {
        nav.push(NavItem { key: "users", href: "/admin/users", label: "用户管理" });
    }
    if actor.may(Action::ManageOrganisations) {
        nav.push(NavItem { key: "orgs", href: "/admin/orgs", label: "机构管理" });
    }
    if actor.may(Action::ViewAudit) {
        nav.push(NavItem { key: "audit", href: "/admin/audit", label: "审计日志" });
    }
    if actor.may(Action::MoveTrainingClock) && training_instance() {
        nav.push(NavItem { key: "training", href: "/admin/training", label: "培训日期" });
    }
    if choucha_service::documents::may_write_letters(actor) {
        nav.push(NavItem { key: "documents", href: "/documents/improvement-letter", label: "改进建议书" });
    }
    nav.push(NavItem { key: "account", href: "/account/password", label: "账号安全" });
    nav
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
