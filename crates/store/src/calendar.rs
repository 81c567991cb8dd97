//! The working-day calendar's special days.

use choucha_domain::calendar::{DayKind, WorkCalendar};
use chrono::NaiveDate;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::entity::calendar_day;
use crate::{StoreError, Tx};

pub type DayRow = calendar_day::Model;

/// The special days of one year, in date order.
pub async fn list_year(db: &impl ConnectionTrait, year: i32) -> Result<Vec<DayRow>, StoreError> {
    let from = NaiveDate::from_ymd_opt(year, 1, 1).ok_or(StoreError::NotFound)?;
    let to = NaiveDate::from_ymd_opt(year + 1, 1, 1).ok_or(StoreError::NotFound)?;
    Ok(calendar_day::Entity::find()
        .filter(calendar_day::Column::Day.gte(from))
        .filter(calendar_day::Column::Day.lt(to))
        .order_by_asc(calendar_day::Column::Day)
        .all(db)
        .await?)
}

/// The whole calendar in force (a few hundred rows at most: one row per special day).
pub async fn load(db: &impl ConnectionTrait) -> Result<WorkCalendar, StoreError> {
    let rows = calendar_day::Entity::find().all(db).await?;
    let mut days = Vec::with_capacity(rows.len());
    for r in rows {
        let kind: DayKind = r.kind.parse().map_err(|_| StoreError::Corrupt(format!("日历类型“{}”无效", r.kind)))?;
        days.push((r.day, kind));
    }
    Ok(WorkCalendar::new(days))
}

pub async fn get(db: &impl ConnectionTrait, day: NaiveDate) -> Result<Option<DayRow>, StoreError> {
    Ok(calendar_day::Entity::find_by_id(day).one(db).await?)
}

pub async fn upsert(tx: &Tx, day: NaiveDate, kind: DayKind, name: &str) -> Result<(), StoreError> {
    calendar_day::Entity::insert(calendar_day::ActiveModel {
        day: Set(day),
        kind: Set(kind.as_str().to_string()),
        name: Set(name.to_string()),
    })
    .on_conflict(
        OnConflict::column(calendar_day::Column::Day)
            .update_columns([calendar_day::Column::Kind, calendar_day::Column::Name])
            .to_owned(),
    )
    .exec(&**tx)
    .await?;
    Ok(())
}

pub async fn delete(tx: &Tx, day: NaiveDate) -> Result<bool, StoreError> {
    Ok(calendar_day::Entity::delete_by_id(day).exec(&**tx).await?.rows_affected > 0)
}

/// Years that have at least one special day.
pub async fn years(db: &impl ConnectionTrait) -> Result<Vec<i32>, StoreError> {
    use chrono::Datelike;
    let rows = calendar_day::Entity::find().order_by_asc(calendar_day::Column::Day).all(db).await?;
    let mut ys: Vec<i32> = rows.iter().map(|r| r.day.year()).collect();
    ys.dedup();
    Ok(ys)
}
