//! The working-day calendar (rule 16). China's public holidays and 调休 make-up workdays are published
//! by the State Council every year, so they are data: `official_days` seeds a new deployment and the
//! admin edits the rest. A day is a working day when it is a make-up workday, or a Monday–Friday that is
//! not a holiday.

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::str::FromStr;

use crate::RuleViolation;

crate::stored_enum! {
    pub enum DayKind : "日期类型", parsed by hand {
        /// 法定节假日 (a rest day, whatever the weekday)
        Holiday = "holiday", "放假";
        /// 调休上班日 (a working day, whatever the weekday)
        Workday = "workday", "调休上班";
    }
}

impl DayKind {}

impl FromStr for DayKind {
    type Err = RuleViolation;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "holiday" | "放假" => Ok(DayKind::Holiday),
            "workday" | "调休上班" | "上班" => Ok(DayKind::Workday),
            other => Err(RuleViolation::new("invalid_day_kind", format!("未知日期类型“{other}”")).on_field("kind")),
        }
    }
}

/// A special day of the calendar: a holiday or a make-up workday, with the festival's name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecialDay {
    pub date: NaiveDate,
    pub kind: DayKind,
    pub name: String,
}

/// How a time limit counts: calendar days or working days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "unit", content = "days", rename_all = "snake_case")]
pub enum TimeLimit {
    CalendarDays(u32),
    WorkingDays(u32),
}

/// The calendar in force: special days by date. Days not listed follow the weekday.
#[derive(Debug, Clone, Default)]
pub struct WorkCalendar {
    days: BTreeMap<NaiveDate, DayKind>,
}

impl WorkCalendar {
    pub fn new(days: impl IntoIterator<Item = (NaiveDate, DayKind)>) -> Self {
        Self { days: days.into_iter().collect() }
    }

    /// The calendar with the State Council's published days (`official_days`).
    pub fn official() -> Self {
        Self::new(official_days().into_iter().map(|d| (d.date, d.kind)))
    }

    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        match self.days.get(&date) {
            Some(DayKind::Workday) => true,
            Some(DayKind::Holiday) => false,
            None => !matches!(date.weekday(), Weekday::Sat | Weekday::Sun),
        }
    }

    /// Whether the calendar holds data for `year` (a year with no special day is probably missing).
    pub fn covers_year(&self, year: i32) -> bool {
        self.days.keys().any(|d| d.year() == year)
    }

    /// The `n`-th working day after `start` (`start` itself does not count). `n = 0` gives `start`.
    pub fn add_working_days(&self, start: NaiveDate, n: u32) -> NaiveDate {
        let mut d = start;
        let mut left = n;
        while left > 0 {
            d += Duration::days(1);
            if self.is_working_day(d) {
                left -= 1;
            }
        }
        d
    }

    /// The last day of a time limit that starts the day after `start`.
    pub fn deadline(&self, start: NaiveDate, limit: TimeLimit) -> NaiveDate {
        match limit {
            TimeLimit::CalendarDays(n) => add_calendar_days(start, n),
            TimeLimit::WorkingDays(n) => self.add_working_days(start, n),
        }
    }

    /// Working days in `(from, to]`.
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> u32 {
        let mut n = 0;
        let mut d = from;
        while d < to {
            d += Duration::days(1);
            if self.is_working_day(d) {
                n += 1;
            }
        }
        n
    }
}

pub fn add_calendar_days(start: NaiveDate, n: u32) -> NaiveDate {
    start + Duration::days(i64::from(n))
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap_or(NaiveDate::MIN)
}

/// The State Council's notices on public holidays (国务院办公厅关于…部分节假日安排的通知), 2022–2026.
/// 2025 and 2026 as in DESIGN.md's calendar facts.
pub fn official_days() -> Vec<SpecialDay> {
    // (name, holiday ranges inclusive, make-up workdays)
    type Ymd = (i32, u32, u32);
    type Span = (Ymd, Ymd);
    type Festival<'a> = (&'a str, &'a [Span], &'a [Ymd]);
    let table: &[Festival] = &[
        // 2022
        ("元旦", &[((2022, 1, 1), (2022, 1, 3))], &[]),
        ("春节", &[((2022, 1, 31), (2022, 2, 6))], &[(2022, 1, 29), (2022, 1, 30)]),
        ("清明节", &[((2022, 4, 3), (2022, 4, 5))], &[(2022, 4, 2)]),
        ("劳动节", &[((2022, 4, 30), (2022, 5, 4))], &[(2022, 4, 24), (2022, 5, 7)]),
        ("端午节", &[((2022, 6, 3), (2022, 6, 5))], &[]),
        ("中秋节", &[((2022, 9, 10), (2022, 9, 12))], &[]),
        ("国庆节", &[((2022, 10, 1), (2022, 10, 7))], &[(2022, 10, 8), (2022, 10, 9)]),
        // 2023
        ("元旦", &[((2022, 12, 31), (2023, 1, 2))], &[]),
        ("春节", &[((2023, 1, 21), (2023, 1, 27))], &[(2023, 1, 28), (2023, 1, 29)]),
        ("清明节", &[((2023, 4, 5), (2023, 4, 5))], &[]),
        ("劳动节", &[((2023, 4, 29), (2023, 5, 3))], &[(2023, 4, 23), (2023, 5, 6)]),
        ("端午节", &[((2023, 6, 22), (2023, 6, 24))], &[(2023, 6, 25)]),
        ("中秋节、国庆节", &[((2023, 9, 29), (2023, 10, 6))], &[(2023, 10, 7), (2023, 10, 8)]),
        // 2024
        ("元旦", &[((2024, 1, 1), (2024, 1, 1))], &[]),
        ("春节", &[((2024, 2, 10), (2024, 2, 17))], &[(2024, 2, 4), (2024, 2, 18)]),
        ("清明节", &[((2024, 4, 4), (2024, 4, 6))], &[(2024, 4, 7)]),
        ("劳动节", &[((2024, 5, 1), (2024, 5, 5))], &[(2024, 4, 28), (2024, 5, 11)]),
        ("端午节", &[((2024, 6, 10), (2024, 6, 10))], &[]),
        ("中秋节", &[((2024, 9, 15), (2024, 9, 17))], &[(2024, 9, 14)]),
        ("国庆节", &[((2024, 10, 1), (2024, 10, 7))], &[(2024, 9, 29), (2024, 10, 12)]),
        // 2025
        ("元旦", &[((2025, 1, 1), (2025, 1, 1))], &[]),
        ("春节", &[((2025, 1, 28), (2025, 2, 4))], &[(2025, 1, 26), (2025, 2, 8)]),
        ("清明节", &[((2025, 4, 4), (2025, 4, 6))], &[]),
        ("劳动节", &[((2025, 5, 1), (2025, 5, 5))], &[(2025, 4, 27)]),
        ("端午节", &[((2025, 5, 31), (2025, 6, 2))], &[]),
        ("国庆节、中秋节", &[((2025, 10, 1), (2025, 10, 8))], &[(2025, 9, 28), (2025, 10, 11)]),
        // 2026
        ("元旦", &[((2026, 1, 1), (2026, 1, 3))], &[(2026, 1, 4)]),
        ("春节", &[((2026, 2, 15), (2026, 2, 23))], &[(2026, 2, 14), (2026, 2, 28)]),
        ("清明节", &[((2026, 4, 4), (2026, 4, 6))], &[]),
        ("劳动节", &[((2026, 5, 1), (2026, 5, 5))], &[(2026, 5, 9)]),
        ("端午节", &[((2026, 6, 19), (2026, 6, 21))], &[]),
        ("中秋节", &[((2026, 9, 25), (2026, 9, 27))], &[(2026, 9, 20)]),
        ("国庆节", &[((2026, 10, 1), (2026, 10, 7))], &[(2026, 10, 10)]),
    ];
    let mut out = Vec::new();
    for (name, spans, workdays) in table {
        for ((y1, m1, d1), (y2, m2, d2)) in spans.iter() {
            let mut day = d(*y1, *m1, *d1);
            let end = d(*y2, *m2, *d2);
            while day <= end {
                out.push(SpecialDay { date: day, kind: DayKind::Holiday, name: (*name).to_string() });
                day += Duration::days(1);
            }
        }
        for (y, m, dd) in workdays.iter() {
            out.push(SpecialDay { date: d(*y, *m, *dd), kind: DayKind::Workday, name: (*name).to_string() });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cal() -> WorkCalendar {
        WorkCalendar::official()
    }

    #[test]
    fn national_day_2025_is_skipped_and_make_up_saturday_counts() {
        let c = cal();
        // Tuesday 2025-09-30: three working days later skips 10-01..10-08 and lands on Thu 10-09,
        // Fri 10-10, Sat 10-11 (a make-up workday).
        assert_eq!(c.add_working_days(d(2025, 9, 30), 3), d(2025, 10, 11));
        assert!(c.is_working_day(d(2025, 9, 28)), "Sunday 09-28 is a make-up workday");
        assert!(!c.is_working_day(d(2025, 10, 8)));
        // Test results within 3 working days of finishing testing on Friday 2025-09-26:
        // Sun 09-28 (make-up), Mon 09-29, Tue 09-30.
        assert_eq!(c.add_working_days(d(2025, 9, 26), 3), d(2025, 9, 30));
    }

    #[test]
    fn spring_festival_2026_is_skipped() {
        let c = cal();
        // Friday 2026-02-13 → Sat 02-14 is a make-up workday, then 02-15..02-23 rest.
        assert_eq!(c.add_working_days(d(2026, 2, 13), 1), d(2026, 2, 14));
        assert_eq!(c.add_working_days(d(2026, 2, 13), 2), d(2026, 2, 24));
        assert_eq!(c.working_days_between(d(2026, 2, 13), d(2026, 2, 28)), 1 + 4 + 1);
    }

    #[test]
    fn spring_festival_2025_is_skipped() {
        let c = cal();
        // Friday 2025-01-24: Sun 01-26 is a make-up workday, Mon 01-27 works, 01-28..02-04 rest.
        assert_eq!(c.add_working_days(d(2025, 1, 24), 1), d(2025, 1, 26));
        assert_eq!(c.add_working_days(d(2025, 1, 24), 3), d(2025, 2, 5));
    }

    #[test]
    fn calendar_days_ignore_holidays() {
        let c = cal();
        assert_eq!(c.deadline(d(2025, 9, 28), TimeLimit::CalendarDays(15)), d(2025, 10, 13));
        assert_eq!(c.deadline(d(2025, 9, 28), TimeLimit::WorkingDays(5)), d(2025, 10, 11));
    }

    #[test]
    fn plain_weekends_without_data_are_rest_days() {
        let c = WorkCalendar::default();
        // Friday 2030-03-01 + 1 working day = Monday 03-04.
        assert_eq!(c.add_working_days(d(2030, 3, 1), 1), d(2030, 3, 4));
        assert!(!c.covers_year(2030));
        assert!(cal().covers_year(2026));
    }

    #[test]
    fn official_days_have_no_conflicts() {
        let days = official_days();
        let mut seen = std::collections::BTreeSet::new();
        for s in &days {
            assert!(seen.insert(s.date), "{} listed twice", s.date);
            if s.kind == DayKind::Workday {
                assert!(matches!(s.date.weekday(), Weekday::Sat | Weekday::Sun), "{} is no weekend", s.date);
            }
        }
    }
}
