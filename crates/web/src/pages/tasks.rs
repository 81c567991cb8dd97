//! The sampler's pages, phone first: `/tasks` lists the caller's sampling tasks as cards (who, where,
//! what, team, due date, whether the item's implementation rules are published) and
//! `/tasks/{id}` starts sampling on site — refused with rule 3's message until the rules are
//! published (`choucha_service::draws::start_task`).

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use choucha_domain::role::Role;
use choucha_service::Actor;
use choucha_service::draws::{self, TaskView};
use serde::Deserialize;
use tower_sessions::Session;

use crate::AppState;
use crate::auth::PageActor;
use crate::error::{PageResult, body_of, status_of};
use crate::pages::draws::task_badge;
use crate::pages::plans::{id_of, shown_on_page};
use crate::pages::users::query_string;
use crate::pages::{Chrome, chrome, set_flash};

pub fn router() -> Router<AppState> {
    Router::new().route("/tasks", get(list)).route("/tasks/{id}", get(detail)).route("/tasks/{id}/start", post(start))
}

/// A task as its card shows it.
pub struct TaskCard {
    pub t: TaskView,
    pub team: String,
    pub badge: &'static str,
}

fn card(t: TaskView) -> TaskCard {
    TaskCard { team: t.team.join("、"), badge: task_badge(&t.state), t }
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    cursor: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "tasks/list.html")]
pub struct ListPage {
    pub chrome: Chrome,
    pub tasks: Vec<TaskCard>,
    pub next_href: Option<String>,
    pub first_href: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    session: Session,
    PageActor(actor): PageActor,
    Query(q): Query<ListQuery>,
) -> PageResult<ListPage> {
    let cursor = q.cursor.as_deref().and_then(|c| c.trim().parse::<i64>().ok());
    let page = draws::my_tasks(&state.services, &actor, cursor, Some(30)).await?;
    Ok(ListPage {
        tasks: page.items.into_iter().map(card).collect(),
        next_href: page.next.map(|c| format!("/tasks{}", query_string(&[("cursor", Some(c.as_str()))]))),
        first_href: cursor.map(|_| "/tasks".to_string()),
        chrome: chrome(&session, Some(&actor), "tasks").await,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "tasks/detail.html")]
pub struct DetailPage {
    pub chrome: Chrome,
    pub c: TaskCard,
    /// Samplers see the start button; the service checks team membership.
    pub is_sampler: bool,
    pub error: Option<String>,
}

async fn render(
    state: &AppState,
    session: &Session,
    actor: &Actor,
    id: i64,
    error: Option<String>,
    status: StatusCode,
) -> PageResult<Response> {
    let t = draws::get_task(&state.services, actor, id).await?;
    let page = DetailPage {
        is_sampler: actor.has(Role::Sampler),
        c: card(t),
        error,
        chrome: chrome(session, Some(actor), "tasks").await,
    };
    Ok((status, page).into_response())
}

async fn detail(
    State(state): State<AppState>,
    session: Session,
    PageActor(actor): PageActor,
    Path(id): Path<String>,
) -> PageResult<Response> {
    let id = id_of(&id, "抽样任务")?;
    render(&state, &session, &actor, id, None, StatusCode::OK).await
}

async fn start(
    State(state): State<AppState>,
    session: Session,
    PageActor(actor): PageActor,
    Path(id): Path<String>,
) -> PageResult<Response> {
    let id = id_of(&id, "抽样任务")?;
    match draws::start_task(&state.services, &actor, id).await {
        Ok(t) => {
            set_flash(&session, &format!("已开始在“{}”抽样", t.enterprise_name)).await;
            Ok(Redirect::to(&format!("/tasks/{id}")).into_response())
        }
        Err(e) if shown_on_page(&e) => {
            let msg = format!("不能开始抽样：{}", body_of(&e).message);
            render(&state, &session, &actor, id, Some(msg), status_of(&e)).await
        }
        Err(e) => Err(e.into()),
    }
}
