//! Template filters of the pages. `beijing` shows an instant as Beijing time `YYYY-MM-DD HH:MM`:
//! every time a page shows goes through it (or through `clock::beijing_minutes`, which it calls), so
//! no page shows UTC. A page module whose template uses a filter imports this module as `filters`.

use choucha_domain::clock;
use chrono::{DateTime, Utc};

/// Something a page shows as a Beijing time.
pub trait BeijingTime {
    fn beijing_text(&self) -> String;
}

impl BeijingTime for DateTime<Utc> {
    fn beijing_text(&self) -> String {
        clock::beijing_minutes(*self)
    }
}

impl<T: BeijingTime> BeijingTime for Option<T> {
    fn beijing_text(&self) -> String {
        self.as_ref().map(BeijingTime::beijing_text).unwrap_or_default()
    }
}

/// A stored RFC 3339 text (the audit log keeps its times so); anything else is shown as it is.
impl BeijingTime for str {
    fn beijing_text(&self) -> String {
        DateTime::parse_from_rfc3339(self)
            .map(|t| clock::beijing_minutes(t.with_timezone(&Utc)))
            .unwrap_or_else(|_| self.to_string())
    }
}

impl BeijingTime for String {
    fn beijing_text(&self) -> String {
        self.as_str().beijing_text()
    }
}

impl<T: BeijingTime + ?Sized> BeijingTime for &T {
    fn beijing_text(&self) -> String {
        (**self).beijing_text()
    }
}

/// `{{ t|beijing }}`: an instant as Beijing time, `YYYY-MM-DD HH:MM`.
#[askama::filter_fn]
pub fn beijing<T: BeijingTime>(t: T, _: &dyn askama::Values) -> askama::Result<String> {
    Ok(t.beijing_text())
}

/// `{{ code|division }}`: a division code as its name (大同市平城区), never the bare code where the
/// name is known.
#[askama::filter_fn]
pub fn division<T: std::fmt::Display>(code: T, _: &dyn askama::Values) -> askama::Result<String> {
    Ok(choucha_domain::division::name_of(&code.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn shows_an_instant_as_beijing_minutes() {
        let t = Utc.with_ymd_and_hms(2026, 3, 1, 23, 30, 0).unwrap();
        assert_eq!(t.beijing_text(), "2026-03-02 07:30");
        assert_eq!(Some(t).beijing_text(), "2026-03-02 07:30");
        assert_eq!(None::<DateTime<Utc>>.beijing_text(), "");
        assert_eq!("2026-03-01T23:30:00.000000Z".beijing_text(), "2026-03-02 07:30");
        assert_eq!("不是时间".beijing_text(), "不是时间");
    }
}

/// `{{ n|file_size }}`: a size in bytes as people read it (3.2 MB, 640 KB, 12 字节).
#[askama::filter_fn]
pub fn file_size<T: std::borrow::Borrow<i64>>(n: T, _: &dyn askama::Values) -> askama::Result<String> {
    let n: i64 = *n.borrow();
    let f = n as f64;
    Ok(if n >= 1 << 30 {
        format!("{:.1} GB", f / f64::from(1u32 << 30))
    } else if n >= 1 << 20 {
        format!("{:.1} MB", f / f64::from(1u32 << 20))
    } else if n >= 1 << 10 {
        format!("{:.0} KB", f / 1024.0)
    } else {
        format!("{n} 字节")
    })
}
