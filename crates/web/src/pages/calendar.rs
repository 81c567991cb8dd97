//! The working-day calendar page (`/calendar`), open to every signed-in user: a year's holidays and
//! make-up workdays, a deadline calculator, and for admins the forms to add, change and delete a
//! special day.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use choucha_domain::access::Action;
use choucha_domain::calendar::DayKind;
use choucha_service::calendar::{self, DayInput, DayView, DeadlineView};
use choucha_service::{Actor, ServiceError};
use chrono::Datelike;
use serde::Deserialize;
use tower_sessions::Session;

use crate::AppState;
use crate::auth::Page;
use crate::error::{PageError, PageForm};
use crate::extract::PagePath;
use crate::pages::respond::{flash_to, saved_or_again};
use crate::pages::users::{Choice, FieldErrors, FormData};
use crate::pages::{Chrome, chrome};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/calendar", get(page))
        .route("/calendar/days", post(set_day))
        .route("/calendar/days/{date}/delete", post(delete_day))
}

#[derive(Debug, Default, Deserialize)]
pub struct CalendarQuery {
    #[serde(default)]
    year: Option<String>,
    /// A special day to load into the edit form.
    #[serde(default)]
    edit: Option<String>,
    #[serde(default)]
    start: Option<String>,
    #[serde(default)]
    days: Option<String>,
    /// `working` (default) or `calendar`.
    #[serde(default)]
    unit: Option<String>,
}

/// The special-day form, as typed.
#[derive(Debug, Default)]
pub struct DayFormValues {
    pub date: String,
    pub kind: String,
    pub name: String,
}

/// The deadline calculator's fields, as typed.
#[derive(Debug, Default)]
pub struct CalcValues {
    pub start: String,
    pub days: String,
    pub working: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "calendar.html")]
pub struct CalendarPage {
    pub chrome: Chrome,
    pub year: i32,
    pub years: Vec<i32>,
    pub days: Vec<DayView>,
    pub holidays: usize,
    pub workdays: usize,
    pub can_edit: bool,
    pub form: DayFormValues,
    pub kinds: Vec<Choice>,
    pub errors: FieldErrors,
    pub calc: CalcValues,
    pub result: Option<DeadlineView>,
    pub calc_errors: FieldErrors,
}

fn kind_choices(selected: &str) -> Vec<Choice> {
    [DayKind::Holiday, DayKind::Workday]
        .into_iter()
        .map(|k| Choice { value: k.as_str(), label: k.label(), checked: k.as_str() == selected })
        .collect()
}

struct Rendered {
    year: i32,
    form: DayFormValues,
    errors: FieldErrors,
    calc: CalcValues,
    result: Option<DeadlineView>,
    calc_errors: FieldErrors,
}

async fn render(state: &AppState, session: &Session, actor: &Actor, r: Rendered) -> Result<CalendarPage, ServiceError> {
    let view = calendar::year(&state.services, actor, r.year).await?;
    let this_year = state.services.today().year();
    let mut years = view.years.clone();
    years.extend([this_year - 1, this_year, this_year + 1, r.year]);
    years.sort_unstable();
    years.dedup();
    let holidays = view.days.iter().filter(|d| d.kind == DayKind::Holiday.as_str()).count();
    let workdays = view.days.len() - holidays;
    Ok(CalendarPage {
        year: r.year,
        years,
        days: view.days,
        holidays,
        workdays,
        can_edit: actor.may(Action::ManageCalendar),
        kinds: kind_choices(&r.form.kind),
        form: r.form,
        errors: r.errors,
        calc: r.calc,
        result: r.result,
        calc_errors: r.calc_errors,
        chrome: chrome(session, Some(actor), "calendar").await,
    })
}

async fn page(Page { state, session, actor }: Page, Query(q): Query<CalendarQuery>) -> Response {
    let s = &state.services;
    let year =
        q.year.as_deref().and_then(|y| y.trim().parse::<i32>().ok()).unwrap_or_else(|| state.services.today().year());
    let mut form = DayFormValues { kind: DayKind::Holiday.as_str().into(), ..Default::default() };
    if let Some(edit) = q.edit.as_deref().filter(|e| !e.trim().is_empty())
        && let Ok(view) = calendar::year(s, &actor, year).await
        && let Some(d) = view.days.iter().find(|d| d.date.to_string() == edit.trim())
    {
        form = DayFormValues { date: d.date.to_string(), kind: d.kind.clone(), name: d.name.clone() };
    }
    // The calculator runs when a start date was given.
    let mut calc_errors = FieldErrors::default();
    let calc = CalcValues {
        start: q.start.clone().unwrap_or_default(),
        days: q.days.clone().unwrap_or_default(),
        working: q.unit.as_deref() != Some("calendar"),
    };
    let mut result = None;
    if !calc.start.trim().is_empty() || !calc.days.trim().is_empty() {
        let days = match calc.days.trim().parse::<u32>() {
            Ok(n) => Some(n),
            Err(_) => {
                calc_errors.add("days", "天数应为0至3650之间的整数");
                None
            }
        };
        if calc.start.trim().is_empty() {
            calc_errors.add("start", "请填写起算日期");
        }
        if let (Some(n), true) = (days, calc_errors.is_empty()) {
            match calendar::deadline(s, &actor, &calc.start, n, calc.working).await {
                Ok(d) => result = Some(d),
                Err(e) => match FieldErrors::from_service(e) {
                    Ok(errs) => calc_errors = errs.rename("date", "start"),
                    Err(e) => return PageError(e).into_response(),
                },
            }
        }
    }
    let status = if calc_errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let r = Rendered { year, form, errors: FieldErrors::default(), calc, result, calc_errors };
    match render(&state, &session, &actor, r).await {
        Ok(p) => (status, p).into_response(),
        Err(e) => PageError(e).into_response(),
    }
}

fn year_of(date: &str) -> Option<i32> {
    choucha_domain::enterprise::parse_date(date).map(|d| d.year())
}

async fn set_day(Page { state, session, actor }: Page, PageForm(pairs): PageForm<Vec<(String, String)>>) -> Response {
    let f = FormData(pairs);
    let form = DayFormValues { date: f.get("date"), kind: f.get("kind"), name: f.get("name") };
    let input = DayInput { date: form.date.clone(), kind: form.kind.clone(), name: form.name.clone() };
    let saved = calendar::set_day(&state.services, &actor, input).await;
    let (session, actor, state) = (&session, &actor, &state);
    saved_or_again(
        session,
        saved,
        |d| {
            let message = format!("已保存：{} {}（{}，{}）", d.date, d.weekday, d.kind_label, d.name);
            (format!("/calendar?year={}", d.date.year()), message)
        },
        |errors| async move {
            let year = year_of(&form.date).unwrap_or_else(|| state.services.today().year());
            let r = Rendered {
                year,
                form,
                errors,
                calc: CalcValues { working: true, ..Default::default() },
                result: None,
                calc_errors: FieldErrors::default(),
            };
            Ok::<_, PageError>(render(state, session, actor, r).await?)
        },
    )
    .await
}

async fn delete_day(Page { state, session, actor }: Page, PagePath(date): PagePath<String>) -> Response {
    match calendar::delete_day(&state.services, &actor, &date).await {
        Ok(()) => {
            let year = year_of(&date).unwrap_or_else(|| state.services.today().year());
            let message = format!("已删除 {date} 的节假日安排，该日恢复按星期计算");
            flash_to(&session, &message, &format!("/calendar?year={year}")).await.into_response()
        }
        Err(e) => PageError(e).into_response(),
    }
}
