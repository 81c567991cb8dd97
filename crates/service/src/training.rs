//! The training clock. A training instance (`[training] enabled = true` in the configuration, or
//! `choucha serve --demo`) runs on a business date of its own: started on a given day
//! (`serve --today 2025-10-20`, [`start_on`]) and moved forward by the system administrator
//! ([`move_forward`], audited), so that an objection window, a disposal and a case's first deadline
//! can be tried in one afternoon. Credentials keep real time (`Clock::real_now`): moving the date
//! signs nobody out. A production instance refuses both.

use choucha_domain::RuleViolation;
use choucha_domain::access::Action;
use choucha_domain::clock::{self, Clock};
use choucha_store::audit::AuditEntry;
use chrono::{Duration, NaiveDate};
use serde::Serialize;
use serde_json::json;

use crate::{Actor, Result, ServiceError, Services};

/// The furthest one move may go.
pub const MAX_DAYS: i64 = 400;

/// The training clock as the administrator's page shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TrainingView {
    /// A training instance.
    pub training: bool,
    /// The business date (Beijing).
    pub today: NaiveDate,
    /// The date differs from the machine's.
    pub moved: bool,
}

/// The moved business date of a training instance, when it is moved (the banner of every page).
pub fn moved_today(s: &Services) -> Option<NaiveDate> {
    (s.is_training() && s.clock().is_moved()).then(|| s.today())
}

/// Lets `clock` run from `day` on, at the machine's current Beijing time of day (composition root:
/// `serve --today`).
pub fn start_on(clock: &Clock, day: NaiveDate) {
    let time = clock::beijing(clock.real_now()).time();
    clock.run_from(clock::from_beijing(day.and_time(time)));
}

fn not_training() -> ServiceError {
    ServiceError::Rule(RuleViolation::new(
        "not_training",
        "本系统不是培训实例，不能调整系统日期（培训实例须在配置中设置 [training] enabled = true，或以 --demo 启动）",
    ))
}

/// The training clock (system administrator).
pub fn view(s: &Services, actor: &Actor) -> Result<TrainingView> {
    actor.require(Action::MoveTrainingClock)?;
    Ok(TrainingView { training: s.is_training(), today: s.today(), moved: s.clock().is_moved() })
}

/// Moves the business date of a training instance forward by `days` (1 to [`MAX_DAYS`]), audited
/// as `training.move_date`; refused on a production instance. Returns the new date.
pub async fn move_forward(s: &Services, actor: &Actor, days: i64) -> Result<NaiveDate> {
    actor.require(Action::MoveTrainingClock)?;
    if !s.is_training() {
        return Err(not_training());
    }
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(ServiceError::invalid(
            RuleViolation::new("invalid_days", format!("前进天数须在1到{MAX_DAYS}之间，收到{days}")).on_field("days"),
        ));
    }
    let before = s.today();
    let after = before + Duration::days(days);
    let tx = s.write(actor).await?;
    tx.commit(AuditEntry::new(
        "training.move_date",
        "training_clock",
        after,
        json!({ "today": before }),
        json!({ "today": after, "days": days }),
    ))
    .await?;
    s.clock().advance(Duration::days(days));
    Ok(s.today())
}

/// Moves the business date forward to `day` (after today).
pub async fn move_to(s: &Services, actor: &Actor, day: NaiveDate) -> Result<NaiveDate> {
    actor.require(Action::MoveTrainingClock)?;
    if !s.is_training() {
        return Err(not_training());
    }
    let days = (day - s.today()).num_days();
    if days < 1 {
        return Err(ServiceError::invalid(
            RuleViolation::new("not_forward", format!("系统日期只能向后调整：{day} 不晚于当前日期 {}", s.today()))
                .on_field("date"),
        ));
    }
    move_forward(s, actor, days).await
}
