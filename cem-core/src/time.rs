//! Time: the [`Clock`] port, weekly opening hours and business days in a branch's time zone.

use std::fmt;
use std::sync::Mutex;

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// The source of the current time.
///
/// Domain crates never read the system clock: a service layer asks its `Clock` and passes the
/// instant down to the pure core, which keeps every rule reproducible in tests and simulations.
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
}

/// Draws random bytes: a service layer's only source of chance (booking codes, invitation
/// tokens). Like the [`Clock`], it is a port, so tests draw what they choose.
pub trait Entropy: Send + Sync + fmt::Debug + 'static {
    /// Fills `bytes` with random bytes.
    fn fill(&self, bytes: &mut [u8]);
}

/// A clock that only moves when told to; for tests and embedding.
#[derive(Debug)]
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    /// A clock stopped at `start`.
    pub fn new(start: DateTime<Utc>) -> Self {
        Self(Mutex::new(start))
    }

    /// Moves the clock to `to`.
    pub fn set(&self, to: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = to;
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: chrono::Duration) {
        let mut now = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// One opening interval on a weekday, in local wall-clock time (`close` after `open`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpeningInterval {
    /// The weekday.
    pub day: Weekday,
    /// Local opening time.
    pub open: NaiveTime,
    /// Local closing time.
    pub close: NaiveTime,
}

/// A branch's weekly opening plan. An empty plan means "always open" (for example a 24/7 kiosk).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OpeningHours(pub Vec<OpeningInterval>);

impl OpeningHours {
    /// Always open.
    pub fn always() -> Self {
        Self::default()
    }

    /// The same hours on each of `days`.
    pub fn weekly(days: &[Weekday], open: NaiveTime, close: NaiveTime) -> Self {
        Self(
            days.iter()
                .map(|&day| OpeningInterval { day, open, close })
                .collect(),
        )
    }

    /// Whether the branch is open at `at`, read in the branch's time zone `tz`.
    pub fn is_open(&self, tz: Tz, at: DateTime<Utc>) -> bool {
        if self.0.is_empty() {
            return true;
        }
        let local = at.with_timezone(&tz);
        let (day, time) = (local.weekday(), local.time());
        self.0
            .iter()
            .any(|i| i.day == day && i.open <= time && time < i.close)
    }
}

/// The business day (local calendar date in `tz`) that contains `at`, and the instant the next one
/// starts, so callers can cache the date until that instant instead of converting every time.
pub fn business_day(tz: Tz, at: DateTime<Utc>) -> (NaiveDate, DateTime<Utc>) {
    let date = at.with_timezone(&tz).date_naive();
    let next = date.succ_opt().unwrap_or(date);
    // Midnight may not exist (a DST jump at 00:00, as in some years in Asia/Tehran); the day then
    // starts at the first local instant that does.
    let start = (0..=3)
        .find_map(|h| {
            tz.from_local_datetime(&next.and_hms_opt(h, 0, 0)?)
                .earliest()
        })
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or(at + chrono::Duration::days(1));
    (date, start)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn opening_hours_are_read_in_local_time() {
        let hours = OpeningHours::weekly(
            &[Weekday::Sat, Weekday::Sun],
            NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
            NaiveTime::from_hms_opt(14, 0, 0).unwrap(),
        );
        let tehran: Tz = "Asia/Tehran".parse().unwrap();
        // Saturday 2026-11-28 05:00 UTC is 08:30 in Tehran (UTC+3:30, no DST since 2022).
        assert!(hours.is_open(tehran, utc("2026-11-28T05:00:00Z")));
        assert!(!hours.is_open(tehran, utc("2026-11-28T04:00:00Z")));
        assert!(!hours.is_open(tehran, utc("2026-11-27T05:00:00Z")));
        assert!(OpeningHours::always().is_open(tehran, utc("2026-11-27T05:00:00Z")));
    }

    #[test]
    fn business_day_follows_the_branch_time_zone() {
        let ny: Tz = "America/New_York".parse().unwrap();
        let (date, next) = business_day(ny, utc("2026-03-08T04:30:00Z"));
        assert_eq!(date, NaiveDate::from_ymd_opt(2026, 3, 7).unwrap());
        assert_eq!(next, utc("2026-03-08T05:00:00Z"));
        // The day after the spring-forward change is 23 hours long.
        let (date, next) = business_day(ny, utc("2026-03-08T05:00:00Z"));
        assert_eq!(date, NaiveDate::from_ymd_opt(2026, 3, 8).unwrap());
        assert_eq!(next, utc("2026-03-09T04:00:00Z"));
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = ManualClock::new(utc("2026-01-01T00:00:00Z"));
        clock.advance(chrono::Duration::seconds(90));
        assert_eq!(clock.now(), utc("2026-01-01T00:01:30Z"));
        clock.set(utc("2026-02-01T00:00:00Z"));
        assert_eq!(clock.now(), utc("2026-02-01T00:00:00Z"));
    }
}
