//! Ready-made plans, zones and instants for tests, examples and documentation.

use cem_core::chrono::{DateTime, NaiveDate, NaiveTime, Utc, Weekday};
use cem_core::chrono_tz::Tz;
use cem_core::{
    BookingHolder, BookingId, BranchId, Language, OpeningInterval, OrganizationId, ReservationPlan,
    ServiceId,
};

use crate::booking::BookingRequest;

/// Europe/Berlin: UTC+1, UTC+2 from the last Sunday of March to the last Sunday of October.
pub fn berlin() -> Tz {
    cem_core::chrono_tz::Europe::Berlin
}

/// America/New_York: UTC−5, UTC−4 from the second Sunday of March to the first Sunday of
/// November, changing at 02:00.
pub fn new_york() -> Tz {
    cem_core::chrono_tz::America::New_York
}

/// Asia/Tehran: UTC+3:30, with DST (UTC+4:30) changing at midnight until 2022, none since.
pub fn tehran() -> Tz {
    cem_core::chrono_tz::Asia::Tehran
}

/// A local time of day.
///
/// # Panics
/// On an hour or minute out of range.
pub fn t(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).expect("valid time of day")
}

/// A local date.
///
/// # Panics
/// On a date that does not exist.
pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

/// An instant in RFC 3339 form (`2026-11-30T08:00:00Z`).
///
/// # Panics
/// On text that is not one.
pub fn utc(s: &str) -> DateTime<Utc> {
    s.parse().expect("an RFC 3339 instant")
}

/// The organization, branch and service of [`plan_every_day`].
pub const ORGANIZATION: OrganizationId = OrganizationId::from_u128(1);
/// The branch of [`plan_every_day`].
pub const BRANCH: BranchId = BranchId::from_u128(1);
/// The service of [`plan_every_day`].
pub const SERVICE: ServiceId = ServiceId::from_u128(1);

/// A plan open `open..close` every day of the week, slots every `interval_secs`, lasting
/// `duration_secs`; no breaks, buffers, overrides or closures; one seat; no notice; 60 days
/// ahead; no limits, reminder or waitlist.
pub fn plan_every_day(
    open: NaiveTime,
    close: NaiveTime,
    interval_secs: u32,
    duration_secs: u32,
) -> ReservationPlan {
    let days = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ];
    ReservationPlan {
        organization: ORGANIZATION,
        branch: BRANCH,
        service: SERVICE,
        weekly: days
            .into_iter()
            .map(|day| OpeningInterval { day, open, close })
            .collect(),
        breaks: vec![],
        overrides: vec![],
        closures: vec![],
        slot_interval_secs: interval_secs,
        duration_secs,
        buffer_before_secs: 0,
        buffer_after_secs: 0,
        capacity: 1,
        min_notice_secs: 0,
        change_notice_secs: 0,
        horizon_days: 60,
        max_active_per_holder: None,
        max_per_holder_per_day: None,
        reminder_lead_secs: None,
        waitlist_offer_secs: None,
    }
}

/// A request for the slot at `start` by a guest reading English, booking id and code bytes
/// derived from `id`.
pub fn request(id: u128, start: DateTime<Utc>) -> BookingRequest {
    let b = id.to_be_bytes();
    BookingRequest {
        id: BookingId::from_u128(id),
        start,
        customer: None,
        holder: BookingHolder {
            language: Language::en(),
            ..BookingHolder::default()
        },
        code_random: [b[15], b[14], b[13], b[12], b[11]],
    }
}
