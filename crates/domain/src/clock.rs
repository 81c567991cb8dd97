//! The one clock of Choucha. Every instant the system stamps and every calendar date it counts comes
//! from a [`Clock`]; this module is the only place that reads the machine's time. Dates are Beijing
//! dates (China's civil time, UTC+8 all year, no daylight saving): the deadlines of the rules count
//! calendar days in China, and every page and document shows Beijing time.
//!
//! A clock follows the machine's time by default. Tests (and the training clock of a later issue)
//! move it forward or back, or freeze it at an instant; every clone of a clock sees the move.

use std::sync::{Arc, RwLock};

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc};

/// Beijing's offset from UTC in seconds (UTC+8, no daylight saving).
pub const BEIJING_OFFSET_SECS: i32 = 8 * 3600;

/// How a clock tells the time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Setting {
    /// The machine's time moved by an offset (zero in production).
    Offset(Duration),
    /// A fixed instant: the clock does not run.
    Fixed(DateTime<Utc>),
}

/// The clock: cheap to clone, shared by every clone (`Send + Sync`).
#[derive(Debug, Clone)]
pub struct Clock {
    setting: Arc<RwLock<Setting>>,
    /// How far credentials' real time is moved (zero but in tests of session and token expiry).
    real_offset: Arc<RwLock<Duration>>,
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

impl Clock {
    /// The machine's time, unmoved.
    pub fn system() -> Clock {
        Clock {
            setting: Arc::new(RwLock::new(Setting::Offset(Duration::zero()))),
            real_offset: Arc::new(RwLock::new(Duration::zero())),
        }
    }

    /// A clock stopped at `at` (tests).
    pub fn fixed(at: DateTime<Utc>) -> Clock {
        Clock {
            setting: Arc::new(RwLock::new(Setting::Fixed(at))),
            real_offset: Arc::new(RwLock::new(Duration::zero())),
        }
    }

    fn setting(&self) -> Setting {
        *self.setting.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn set_setting(&self, s: Setting) {
        *self.setting.write().unwrap_or_else(std::sync::PoisonError::into_inner) = s;
    }

    /// The current instant (UTC) as Choucha counts it.
    pub fn now(&self) -> DateTime<Utc> {
        match self.setting() {
            Setting::Offset(d) => Utc::now() + d,
            Setting::Fixed(at) => at,
        }
    }

    /// The current time in Beijing.
    pub fn now_beijing(&self) -> NaiveDateTime {
        beijing(self.now())
    }

    /// Today's date in Beijing.
    pub fn today(&self) -> NaiveDate {
        beijing_date(self.now())
    }

    /// The machine's real time, never moved. Only for credentials: sessions (whose expiry
    /// tower-sessions stamps with the system clock itself) and API tokens live in real time, so
    /// moving the business clock (tests, training) neither logs anybody out nor keeps a credential
    /// alive. Never for a business date or a stamp.
    pub fn real_now(&self) -> DateTime<Utc> {
        Utc::now() + *self.real_offset.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Moves credentials' real time by `by`, for every clone: only tests of session and token
    /// expiry do this (nothing in the product moves it).
    pub fn advance_real(&self, by: Duration) {
        *self.real_offset.write().unwrap_or_else(std::sync::PoisonError::into_inner) += by;
    }

    /// Moves the clock by `by` (forward or back), for every clone.
    pub fn advance(&self, by: Duration) {
        let mut s = self.setting.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        *s = match *s {
            Setting::Offset(d) => Setting::Offset(d + by),
            Setting::Fixed(at) => Setting::Fixed(at + by),
        };
    }

    /// Stops the clock at `at`, for every clone.
    pub fn set(&self, at: DateTime<Utc>) {
        self.set_setting(Setting::Fixed(at));
    }

    /// Lets the clock run from `at` on (it keeps the distance to the machine's time), for every clone.
    pub fn run_from(&self, at: DateTime<Utc>) {
        self.set_setting(Setting::Offset(at - Utc::now()));
    }

    /// Whether the clock is moved away from the machine's time (advanced, set back or stopped): a
    /// training instance shows its moved date on every page.
    pub fn is_moved(&self) -> bool {
        self.setting() != Setting::Offset(Duration::zero())
    }

    /// Back to the machine's time, for every clone.
    pub fn reset(&self) {
        self.set_setting(Setting::Offset(Duration::zero()));
    }
}

/// A UTC instant as Beijing's local time.
pub fn beijing(t: DateTime<Utc>) -> NaiveDateTime {
    t.naive_utc() + Duration::seconds(i64::from(BEIJING_OFFSET_SECS))
}

/// The Beijing date of a UTC instant.
pub fn beijing_date(t: DateTime<Utc>) -> NaiveDate {
    beijing(t).date()
}

/// A UTC instant as Beijing time `YYYY-MM-DD HH:MM`, as pages and documents show it.
pub fn beijing_minutes(t: DateTime<Utc>) -> String {
    beijing(t).format("%Y-%m-%d %H:%M").to_string()
}

/// A Beijing local time as a UTC instant.
pub fn from_beijing(t: NaiveDateTime) -> DateTime<Utc> {
    (t - Duration::seconds(i64::from(BEIJING_OFFSET_SECS))).and_utc()
}

/// The instant a Beijing calendar day begins (00:00 Beijing), in UTC.
pub fn beijing_day_start(day: NaiveDate) -> DateTime<Utc> {
    from_beijing(day.and_time(NaiveTime::MIN))
}

/// Beijing's offset as a chrono offset, for RFC 3339 text with `+08:00`.
pub fn beijing_offset() -> chrono::FixedOffset {
    use chrono::Offset;
    chrono::FixedOffset::east_opt(BEIJING_OFFSET_SECS).unwrap_or_else(|| Utc.fix())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).single().expect("valid instant")
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    #[test]
    fn late_evening_utc_is_the_next_day_in_beijing() {
        let clock = Clock::fixed(utc(2026, 3, 1, 23, 30));
        assert_eq!(clock.today(), date(2026, 3, 2));
        assert_eq!(beijing_minutes(clock.now()), "2026-03-02 07:30");
    }

    #[test]
    fn beijing_morning_before_eight_belongs_to_that_beijing_day() {
        // 00:00 Beijing on 2 March is 16:00 UTC on 1 March; 07:59 Beijing is 23:59 UTC.
        assert_eq!(beijing_date(utc(2026, 3, 1, 16, 0)), date(2026, 3, 2));
        assert_eq!(beijing_date(utc(2026, 3, 1, 23, 59)), date(2026, 3, 2));
        assert_eq!(beijing_date(utc(2026, 3, 1, 15, 59)), date(2026, 3, 1));
        assert_eq!(beijing_date(utc(2026, 3, 2, 0, 0)), date(2026, 3, 2));
        assert_eq!(beijing_day_start(date(2026, 3, 2)), utc(2026, 3, 1, 16, 0));
    }

    #[test]
    fn from_beijing_undoes_beijing() {
        let t = utc(2026, 12, 31, 17, 45);
        assert_eq!(from_beijing(beijing(t)), t);
        assert_eq!(beijing(t).date(), date(2027, 1, 1));
    }

    #[test]
    fn a_move_is_seen_by_every_clone() {
        let clock = Clock::fixed(utc(2026, 3, 1, 12, 0));
        let other = clock.clone();
        clock.advance(Duration::days(16));
        assert_eq!(other.today(), date(2026, 3, 17));
        other.set(utc(2026, 5, 1, 0, 0));
        assert_eq!(clock.now(), utc(2026, 5, 1, 0, 0));
    }

    #[test]
    fn a_running_clock_moves_by_its_offset() {
        let clock = Clock::system();
        let before = clock.now();
        clock.advance(Duration::days(30));
        let after = clock.now();
        assert!(after - before >= Duration::days(30));
        assert!(after - before < Duration::days(30) + Duration::minutes(1));
        assert!(clock.is_moved());
        clock.reset();
        assert!(!clock.is_moved());
        assert!(clock.now() - before < Duration::minutes(1));
        clock.run_from(utc(2030, 1, 1, 0, 0));
        assert_eq!(clock.today(), date(2030, 1, 1));
    }

    #[test]
    fn real_time_moves_only_when_told() {
        let clock = Clock::system();
        clock.advance(Duration::days(3));
        assert!(clock.real_now() - Utc::now() < Duration::minutes(1), "the business clock leaves real time alone");
        let before = Utc::now();
        clock.clone().advance_real(Duration::minutes(31));
        // Read after `before`: at least 31 minutes ahead of it, whatever time passed in between.
        assert!(clock.real_now() - before >= Duration::minutes(31));
    }

    #[test]
    fn clock_is_send_and_sync() {
        fn check<T: Send + Sync + Clone>() {}
        check::<Clock>();
    }
}
