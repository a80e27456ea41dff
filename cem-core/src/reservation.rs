//! Reservation records: the [`ReservationPlan`] of one service at one branch and the
//! [`Booking`] of one customer, as a store keeps them.
//!
//! These are plain data. Every rule (slot generation, booking, cancelling, the waitlist,
//! check-in, no-shows, iCalendar) lives in the `cem-reservation` crate; the only rule here is
//! [`ReservationPlan::validate`], the shape a plan must have before anything reads it.
//!
//! Times of day and dates are local wall-clock values in the branch's time zone
//! ([`Branch::time_zone`](crate::Branch::time_zone)); instants are UTC. Durations are whole
//! seconds in fields named `*_secs`, as in the organization model.

use std::fmt;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc, Weekday};
use serde::{Deserialize, Serialize};

use crate::error::ValidationError;
use crate::ids::{BookingId, BranchId, CustomerId, OrganizationId, ServiceId, TicketId};
use crate::text::Language;
use crate::time::OpeningInterval;

/// The longest booking horizon a plan may have, in days (two years).
pub const MAX_HORIZON_DAYS: u32 = 731;

/// A range of local wall-clock time within one day (`end` after `start`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalTimeRange {
    /// Local start time (inclusive).
    pub start: NaiveTime,
    /// Local end time (exclusive).
    pub end: NaiveTime,
}

/// A break when no appointment runs (lunch, a team meeting), on every day of the weekly plan
/// or only on some weekdays. Breaks do not apply on dates with a [`DateOverride`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanBreak {
    /// The weekdays it applies to; empty means every day.
    #[serde(default)]
    pub days: Vec<Weekday>,
    /// Local start time (inclusive).
    pub start: NaiveTime,
    /// Local end time (exclusive).
    pub end: NaiveTime,
}

/// A date whose appointment hours differ from the weekly plan. It replaces the weekday's
/// intervals and breaks for that date; no interval means closed all day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DateOverride {
    /// The local date.
    pub date: NaiveDate,
    /// The intervals when appointments run on that date (a break is a gap between two).
    #[serde(default)]
    pub intervals: Vec<LocalTimeRange>,
}

/// A closure: a holiday or any other local date-time range when no appointment may touch.
/// A holiday is a whole-day closure from one midnight to the next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Closure {
    /// Local start (inclusive).
    pub start: NaiveDateTime,
    /// Local end (exclusive).
    pub end: NaiveDateTime,
    /// Why (shown to staff, such as "Nowruz").
    #[serde(default)]
    pub reason: Option<String>,
}

impl Closure {
    /// A closure of the whole local dates `from..=to` (a holiday).
    pub fn days(from: NaiveDate, to: NaiveDate, reason: impl Into<String>) -> Self {
        Self {
            start: from.and_time(NaiveTime::MIN),
            end: to.succ_opt().unwrap_or(to).and_time(NaiveTime::MIN),
            reason: Some(reason.into()),
        }
    }
}

/// When and how appointments of one service of one branch can be booked.
///
/// Slots start on a grid: at each interval's opening time and then every
/// [`slot_interval_secs`](Self::slot_interval_secs) of wall-clock time. A slot is offered when
/// its occupied window, `[start − buffer_before, start + duration + buffer_after)` in elapsed
/// time, lies inside the interval and overlaps no break and no closure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReservationPlan {
    /// The organization.
    pub organization: OrganizationId,
    /// The branch; its time zone is the plan's.
    pub branch: BranchId,
    /// The service booked.
    pub service: ServiceId,
    /// Weekly intervals when appointments run (not overlapping on one weekday).
    pub weekly: Vec<OpeningInterval>,
    /// Breaks inside the weekly intervals.
    #[serde(default)]
    pub breaks: Vec<PlanBreak>,
    /// Dates with other intervals, or closed (one per date).
    #[serde(default)]
    pub overrides: Vec<DateOverride>,
    /// Holidays and other closures.
    #[serde(default)]
    pub closures: Vec<Closure>,
    /// Wall-clock time between two slot starts.
    pub slot_interval_secs: u32,
    /// Length of an appointment.
    pub duration_secs: u32,
    /// Time kept free before each appointment (preparation).
    #[serde(default)]
    pub buffer_before_secs: u32,
    /// Time kept free after each appointment (paperwork, cleaning).
    #[serde(default)]
    pub buffer_after_secs: u32,
    /// Bookings a slot takes (the counters reserved for appointments), at least 1.
    pub capacity: u32,
    /// A slot can be booked until this long before it starts.
    #[serde(default)]
    pub min_notice_secs: u32,
    /// A booking can be cancelled or rescheduled by its holder until this long before it
    /// starts.
    #[serde(default)]
    pub change_notice_secs: u32,
    /// Slots can be booked up to this many local dates after today (0: today only).
    pub horizon_days: u32,
    /// Live bookings (confirmed, offered or waitlisted, not yet started) a holder may have
    /// at once in this plan; `None` for no limit.
    #[serde(default)]
    pub max_active_per_holder: Option<u32>,
    /// Live bookings a holder may have on one local date in this plan; `None` for no limit.
    #[serde(default)]
    pub max_per_holder_per_day: Option<u32>,
    /// A reminder goes out this long before the appointment; `None` for no reminder.
    #[serde(default)]
    pub reminder_lead_secs: Option<u32>,
    /// Full slots take a waitlist when set: a freed seat is offered to the next in line, who
    /// has this long to accept it. `None` disables the waitlist.
    #[serde(default)]
    pub waitlist_offer_secs: Option<u32>,
}

impl ReservationPlan {
    /// Checks the plan's shape: intervals, breaks and closures end after they start; intervals
    /// of one day do not overlap; one override per date; interval, duration and capacity at
    /// least 1 (duration plus buffers at most a day); horizon at most [`MAX_HORIZON_DAYS`];
    /// limits and the waitlist's offer time at least 1 when set.
    ///
    /// # Errors
    /// The first [`ValidationError::InvalidField`] found.
    pub fn validate(&self) -> Result<(), ValidationError> {
        const DAY: u64 = 86_400;
        for day in [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
            Weekday::Sat,
            Weekday::Sun,
        ] {
            let ranges: Vec<(NaiveTime, NaiveTime)> = self
                .weekly
                .iter()
                .filter(|i| i.day == day)
                .map(|i| (i.open, i.close))
                .collect();
            ordered_apart(&format!("weekly on {day}"), ranges)?;
        }
        for b in &self.breaks {
            if b.start >= b.end {
                return Err(invalid("breaks", "a break must end after it starts"));
            }
        }
        let mut dates = std::collections::HashSet::new();
        for o in &self.overrides {
            if !dates.insert(o.date) {
                return Err(invalid(
                    format!("overrides on {}", o.date),
                    "one override per date",
                ));
            }
            ordered_apart(
                &format!("overrides on {}", o.date),
                o.intervals.iter().map(|r| (r.start, r.end)).collect(),
            )?;
        }
        for c in &self.closures {
            if c.start >= c.end {
                return Err(invalid(
                    format!("closures from {}", c.start),
                    "a closure must end after it starts",
                ));
            }
        }
        if self.slot_interval_secs == 0 || u64::from(self.slot_interval_secs) > DAY {
            return Err(invalid("slot_interval_secs", "must be 1 s to one day"));
        }
        if self.duration_secs == 0 {
            return Err(invalid("duration_secs", "must be at least 1"));
        }
        let window = u64::from(self.buffer_before_secs)
            + u64::from(self.duration_secs)
            + u64::from(self.buffer_after_secs);
        if window > DAY {
            return Err(invalid(
                "duration_secs",
                "duration and buffers must fit in one day",
            ));
        }
        if self.capacity == 0 {
            return Err(invalid("capacity", "must be at least 1"));
        }
        if self.horizon_days > MAX_HORIZON_DAYS {
            return Err(invalid(
                "horizon_days",
                &format!("must be at most {MAX_HORIZON_DAYS}"),
            ));
        }
        for (field, value) in [
            ("max_active_per_holder", self.max_active_per_holder),
            ("max_per_holder_per_day", self.max_per_holder_per_day),
            ("waitlist_offer_secs", self.waitlist_offer_secs),
        ] {
            if value == Some(0) {
                return Err(invalid(field, "must be at least 1 when set"));
            }
        }
        Ok(())
    }
}

/// Checks that every range ends after it starts and that no two overlap.
fn ordered_apart(
    field: &str,
    mut ranges: Vec<(NaiveTime, NaiveTime)>,
) -> Result<(), ValidationError> {
    if ranges.iter().any(|(open, close)| open >= close) {
        return Err(invalid(field, "an interval must end after it starts"));
    }
    ranges.sort();
    if ranges.windows(2).any(|w| w[1].0 < w[0].1) {
        return Err(invalid(field, "intervals overlap"));
    }
    Ok(())
}

fn invalid(field: impl Into<String>, reason: &str) -> ValidationError {
    ValidationError::InvalidField {
        field: field.into(),
        reason: reason.into(),
    }
}

/// The short code a customer shows to check in: 8 characters of Crockford's base32 alphabet
/// (digits and capitals without `I`, `L`, `O`, `U`), unique among an organization's bookings.
/// `cem-reservation` makes and parses it; here it is only carried.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BookingCode(pub String);

impl BookingCode {
    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BookingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How to reach the holder of a booking.
///
/// Personal data: kept only with the booking, never in the queue's history, and erasable on
/// request (the booking itself stays, without it, for the reports).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingHolder {
    /// The name staff greet the holder by.
    #[serde(default)]
    pub name: Option<String>,
    /// A phone number for text messages (E.164, `+4930…`).
    #[serde(default)]
    pub phone: Option<String>,
    /// An e-mail address.
    #[serde(default)]
    pub email: Option<String>,
    /// The language the holder reads (messages, the calendar entry).
    #[serde(default = "Language::en")]
    pub language: Language,
}

impl Default for BookingHolder {
    /// No contact, English.
    fn default() -> Self {
        Self {
            name: None,
            phone: None,
            email: None,
            language: Language::en(),
        }
    }
}

// Names, numbers and addresses are personal data: logs see only whether they are there.
impl fmt::Debug for BookingHolder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |v: &Option<String>| v.as_ref().map(|_| "<redacted>");
        f.debug_struct("BookingHolder")
            .field("name", &redacted(&self.name))
            .field("phone", &redacted(&self.phone))
            .field("email", &redacted(&self.email))
            .field("language", &self.language)
            .finish()
    }
}

/// Where a booking stands.
///
/// ```text
/// waitlisted ──► offered ──► confirmed ──► checked_in
///     │             │            │    └──► no_show ──► checked_in (late, as a walk-in)
///     └──► lapsed ◄─┘            └──► cancelled ◄── (waitlisted, offered)
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookingState {
    /// Holds a seat of its slot.
    Confirmed,
    /// The holder arrived and was given a queue ticket.
    CheckedIn,
    /// Cancelled by the holder or by staff (a declined offer too).
    Cancelled,
    /// The holder did not check in by the end of the grace period.
    NoShow,
    /// Waiting for a seat of a full slot.
    Waitlisted,
    /// A freed seat is held for this waitlisted holder until the offer expires.
    Offered,
    /// Left the waitlist unserved: the offer expired, or the slot came too close.
    Lapsed,
}

impl BookingState {
    /// Whether a booking in this state holds a seat of its slot: confirmed, offered or checked
    /// in.
    pub fn holds_seat(self) -> bool {
        matches!(self, Self::Confirmed | Self::Offered | Self::CheckedIn)
    }
}

/// One booking of one slot (or a place on its waitlist).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Booking {
    /// Id, chosen by the caller.
    pub id: BookingId,
    /// The organization.
    pub organization: OrganizationId,
    /// The branch.
    pub branch: BranchId,
    /// The service.
    pub service: ServiceId,
    /// The code shown at check-in.
    pub code: BookingCode,
    /// When the appointment starts.
    pub start: DateTime<Utc>,
    /// When it ends (`start` plus the plan's duration, in elapsed time).
    pub end: DateTime<Utc>,
    /// The customer, when known to the organization.
    #[serde(default)]
    pub customer: Option<CustomerId>,
    /// How to reach the holder (personal data, erasable).
    #[serde(default)]
    pub holder: BookingHolder,
    /// Where it stands.
    pub state: BookingState,
    /// Until when an offered seat is held (state `offered` only).
    #[serde(default)]
    pub offer_expires_at: Option<DateTime<Utc>>,
    /// The queue ticket given at check-in.
    #[serde(default)]
    pub ticket: Option<TicketId>,
    /// When the holder checked in.
    #[serde(default)]
    pub checked_in_at: Option<DateTime<Utc>>,
    /// When it was made (its place in a waitlist).
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub changed_at: DateTime<Utc>,
    /// Counts the changes since it was made (0 when new): the store's compare-and-set version
    /// and the iCalendar `SEQUENCE`.
    #[serde(default)]
    pub revision: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    fn plan() -> ReservationPlan {
        ReservationPlan {
            organization: OrganizationId::from_u128(1),
            branch: BranchId::from_u128(1),
            service: ServiceId::from_u128(1),
            weekly: vec![
                OpeningInterval {
                    day: Weekday::Mon,
                    open: t(9, 0),
                    close: t(12, 0),
                },
                OpeningInterval {
                    day: Weekday::Mon,
                    open: t(13, 0),
                    close: t(17, 0),
                },
            ],
            breaks: vec![],
            overrides: vec![],
            closures: vec![],
            slot_interval_secs: 900,
            duration_secs: 900,
            buffer_before_secs: 0,
            buffer_after_secs: 0,
            capacity: 2,
            min_notice_secs: 3600,
            change_notice_secs: 3600,
            horizon_days: 30,
            max_active_per_holder: None,
            max_per_holder_per_day: None,
            reminder_lead_secs: Some(86_400),
            waitlist_offer_secs: Some(900),
        }
    }

    fn field(r: Result<(), ValidationError>) -> String {
        match r {
            Err(ValidationError::InvalidField { field, .. }) => field,
            other => panic!("expected an invalid field, got {other:?}"),
        }
    }

    #[test]
    fn a_sound_plan_validates_and_round_trips_through_json() {
        let p = plan();
        p.validate().unwrap();
        let json = serde_json::to_string(&p).unwrap();
        let back: ReservationPlan = serde_json::from_str(&json).unwrap();
        assert_eq!(back, p);
    }

    #[test]
    fn validate_names_what_to_fix() {
        let mut p = plan();
        p.weekly[1].open = t(11, 0);
        assert_eq!(field(p.validate()), "weekly on Mon");
        let mut p = plan();
        p.capacity = 0;
        assert_eq!(field(p.validate()), "capacity");
        let mut p = plan();
        p.slot_interval_secs = 0;
        assert_eq!(field(p.validate()), "slot_interval_secs");
        let mut p = plan();
        p.buffer_after_secs = 86_400;
        assert_eq!(field(p.validate()), "duration_secs");
        let mut p = plan();
        p.max_per_holder_per_day = Some(0);
        assert_eq!(field(p.validate()), "max_per_holder_per_day");
        let mut p = plan();
        let date = NaiveDate::from_ymd_opt(2026, 3, 20).unwrap();
        let closed = DateOverride {
            date,
            intervals: vec![],
        };
        p.overrides = vec![closed.clone(), closed];
        assert_eq!(field(p.validate()), "overrides on 2026-03-20");
        let mut p = plan();
        p.closures = vec![Closure::days(date, date, "Nowruz")];
        p.validate().unwrap();
        p.closures[0].end = p.closures[0].start;
        assert_eq!(field(p.validate()), "closures from 2026-03-20 00:00:00");
    }

    #[test]
    fn a_holiday_closes_whole_days() {
        let from = NaiveDate::from_ymd_opt(2026, 3, 20).unwrap();
        let to = NaiveDate::from_ymd_opt(2026, 3, 23).unwrap();
        let c = Closure::days(from, to, "Nowruz");
        assert_eq!(c.start.to_string(), "2026-03-20 00:00:00");
        assert_eq!(c.end.to_string(), "2026-03-24 00:00:00");
    }

    #[test]
    fn holder_contact_never_reaches_debug_output() {
        let h = BookingHolder {
            name: Some("Sara".into()),
            phone: Some("+4930123456".into()),
            email: None,
            language: Language::fa(),
        };
        let s = format!("{h:?}");
        assert!(!s.contains("Sara") && !s.contains("+4930"), "{s}");
        assert!(s.contains("<redacted>"));
    }
}
