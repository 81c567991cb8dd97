//! The training clock page (`/admin/training`): on a training instance the system administrator
//! moves the business date forward (audited), so an objection window, a disposal and a case's first
//! deadline can be tried in one afternoon. A production instance shows that it is one and refuses
//! the move (409).

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use choucha_service::ServiceError;
use choucha_service::training::{self, TrainingView};
use serde::Deserialize;
use tower_sessions::Session;

use crate::AppState;
use crate::auth::{Page, PageActor};
use crate::error::{PageError, PageForm};
use crate::pages::respond::{flash_to, not_done};
use crate::pages::{Chrome, chrome};

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/training", get(page)).route("/admin/training/move", post(move_date))
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/training.html")]
pub struct TrainingPage {
    pub chrome: Chrome,
    pub v: TrainingView,
    /// The quick moves offered: (days, what they let one try).
    pub steps: Vec<(i64, &'static str)>,
}

async fn page(State(state): State<AppState>, session: Session, PageActor(actor): PageActor) -> Response {
    match training::view(&state.services, &actor) {
        Ok(v) => TrainingPage {
            chrome: chrome(&session, Some(&actor), "training").await,
            v,
            steps: vec![(1, "次日"), (7, "一周后"), (16, "异议期（15日）届满后"), (30, "一个月后")],
        }
        .into_response(),
        Err(e) => PageError(e).into_response(),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct MoveForm {
    #[serde(default)]
    days: Option<String>,
    #[serde(default)]
    date: Option<String>,
}

async fn move_date(Page { state, session, actor }: Page, PageForm(f): PageForm<MoveForm>) -> Response {
    let s = &state.services;
    let date = f.date.as_deref().map(str::trim).filter(|d| !d.is_empty());
    let result = match (date, f.days.as_deref().map(str::trim).filter(|d| !d.is_empty())) {
        (Some(d), _) => match chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d") {
            Ok(day) => training::move_to(s, &actor, day).await,
            Err(_) => Err(ServiceError::invalid(
                choucha_domain::RuleViolation::new("invalid_date", format!("日期“{d}”无效（格式：2025-11-05）"))
                    .on_field("date"),
            )),
        },
        (None, Some(n)) => match n.parse::<i64>() {
            Ok(days) => training::move_forward(s, &actor, days).await,
            Err(_) => Err(ServiceError::invalid(
                choucha_domain::RuleViolation::new("invalid_days", format!("天数“{n}”无效")).on_field("days"),
            )),
        },
        (None, None) => Err(ServiceError::invalid(
            choucha_domain::RuleViolation::new("missing", "请填写前进的天数或目标日期").on_field("days"),
        )),
    };
    match result {
        Ok(today) => flash_to(&session, &format!("系统日期已调整为 {today}"), "/admin/training").await.into_response(),
        Err(ServiceError::Invalid(v)) => {
            let message = v.iter().map(|v| v.message.as_str()).collect::<Vec<_>>().join("；");
            not_done(&session, &message, "/admin/training").await.into_response()
        }
        Err(e) => PageError(e).into_response(),
    }
}
