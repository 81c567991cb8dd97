//! The working-day calendar: every signed-in user reads it and computes deadlines; admins edit the
//! special days when the State Council publishes the next year's arrangement.

use choucha_domain::RuleViolation;
use choucha_domain::access::Action;
use choucha_domain::calendar::{DayKind, TimeLimit, WorkCalendar};
use choucha_domain::enterprise::parse_date;
use choucha_store::audit::AuditEntry;
use choucha_store::calendar::{self as store_cal, DayRow};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{Actor, Result, ServiceError, Services};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct YearView {
    pub year: i32,
    pub days: Vec<DayView>,
    /// Years that have data.
    pub years: Vec<i32>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DayView {
    pub date: NaiveDate,
    pub kind: String,
    pub kind_label: String,
    pub name: String,
    pub weekday: String,
}

fn weekday_cn(d: NaiveDate) -> String {
    use chrono::Datelike;
    ["星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日"][d.weekday().num_days_from_monday() as usize]
        .to_string()
}

impl From<DayRow> for DayView {
    fn from(r: DayRow) -> Self {
        let kind_label = r.kind.parse::<DayKind>().map(|k| k.label().to_string()).unwrap_or_default();
        DayView { weekday: weekday_cn(r.day), date: r.day, kind: r.kind, kind_label, name: r.name }
    }
}

pub async fn year(s: &Services, actor: &Actor, year: i32) -> Result<YearView> {
    actor.require(Action::ViewCalendar)?;
    if !(2000..=2100).contains(&year) {
        return Err(ServiceError::invalid(
            RuleViolation::new("invalid_year", "年份应在2000至2100之间").on_field("year"),
        ));
    }
    let db = s.store.reader();
    let days = store_cal::list_year(db, year).await?.into_iter().map(DayView::from).collect();
    Ok(YearView { year, days, years: store_cal::years(db).await? })
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct DayInput {
    /// YYYY-MM-DD
    pub date: String,
    /// holiday | workday
    pub kind: String,
    /// Festival name, e.g. 国庆节
    pub name: String,
}

fn parse_day(s: &str) -> std::result::Result<NaiveDate, RuleViolation> {
    parse_date(s).ok_or_else(|| {
        RuleViolation::new("invalid_date", format!("日期“{s}”无效（格式：2026-10-01）")).on_field("date")
    })
}

pub async fn set_day(s: &Services, actor: &Actor, input: DayInput) -> Result<DayView> {
    actor.require(Action::ManageCalendar)?;
    let mut errs = Vec::new();
    let date = parse_day(&input.date).map_err(|e| errs.push(e)).ok();
    let kind = input.kind.parse::<DayKind>().map_err(|e| errs.push(e)).ok();
    let name = input.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 30 {
        errs.push(RuleViolation::new("required", "请填写节日名称（不超过30字）").on_field("name"));
    }
    let (Some(date), Some(kind)) = (date, kind) else { return Err(ServiceError::Invalid(errs)) };
    if !errs.is_empty() {
        return Err(ServiceError::Invalid(errs));
    }
    let before = store_cal::get(s.store.reader(), date).await?;
    let tx = s.write(actor).await?;
    store_cal::upsert(&tx, date, kind, &name).await?;
    tx.commit(AuditEntry::new(
        "calendar.set",
        "calendar_day",
        date,
        json!(before),
        json!({"day": date, "kind": kind.as_str(), "name": name}),
    ))
    .await?;
    Ok(DayView { weekday: weekday_cn(date), date, kind: kind.as_str().into(), kind_label: kind.label().into(), name })
}

pub async fn delete_day(s: &Services, actor: &Actor, date: &str) -> Result<()> {
    actor.require(Action::ManageCalendar)?;
    let date = parse_day(date)?;
    let before = store_cal::get(s.store.reader(), date).await?.ok_or(ServiceError::NotFound("该日期的节假日安排"))?;
    let tx = s.write(actor).await?;
    store_cal::delete(&tx, date).await?;
    tx.commit(AuditEntry::new("calendar.delete", "calendar_day", date, json!(before), json!(null))).await?;
    Ok(())
}

/// The calendar in force, for use cases that compute deadlines.
pub async fn load(s: &Services) -> Result<WorkCalendar> {
    Ok(store_cal::load(s.store.reader()).await?)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DeadlineView {
    pub start: NaiveDate,
    pub days: u32,
    pub working: bool,
    pub deadline: NaiveDate,
    pub weekday: String,
    /// False when the calendar has no data for a year the period touches (weekends only were used).
    pub calendar_covers: bool,
}

/// "N working days after" / "N calendar days after" a date.
pub async fn deadline(s: &Services, actor: &Actor, start: &str, days: u32, working: bool) -> Result<DeadlineView> {
    actor.require(Action::ViewCalendar)?;
    let start = parse_day(start)?;
    if days > 3650 {
        return Err(ServiceError::invalid(RuleViolation::new("invalid_days", "天数应在0至3650之间").on_field("days")));
    }
    let cal = load(s).await?;
    let limit = if working { TimeLimit::WorkingDays(days) } else { TimeLimit::CalendarDays(days) };
    let deadline = cal.deadline(start, limit);
    use chrono::Datelike;
    let calendar_covers = (start.year()..=deadline.year()).all(|y| cal.covers_year(y));
    Ok(DeadlineView { start, days, working, weekday: weekday_cn(deadline), deadline, calendar_covers })
}
