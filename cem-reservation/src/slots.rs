//! Slots: where a plan's appointments can start, and which of them can be booked now.
//!
//! # Wall-clock time and elapsed time
//! Plans are written in the branch's wall-clock time; slots are instants. The grid is read on
//! the wall clock (the opening time, then every `slot_interval_secs` of wall-clock time, so
//! slots keep their round local times across a DST change), and everything measured from a
//! slot start (duration, buffers, notice) is elapsed time.
//!
//! Across DST changes:
//! - a grid time that does not exist (the hour skipped when clocks spring forward, or a
//!   skipped midnight in Asia/Tehran until 2022) gives **no slot**;
//! - a grid time that exists twice (the hour repeated when clocks fall back) gives **two
//!   slots**, one at each instant: the repeated hour really passes twice, so staff serve
//!   during both and each has its own seats. Their local start reads the same; the UTC start
//!   tells them apart;
//! - a local boundary of an interval, break or closure is turned into an instant so that the
//!   range never shrinks: a start takes the first occurrence of its time (or, inside a skipped
//!   hour, the instant the clocks jumped), an end the last occurrence (or the jump).

use std::collections::BTreeMap;
use std::ops::RangeInclusive;

use cem_core::ReservationPlan;
use cem_core::chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone,
    Timelike, Utc,
};
use cem_core::chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// A slot as the plan defines it, before anyone books it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PlanSlot {
    /// When the appointment starts.
    pub start: DateTime<Utc>,
    /// When it ends (`start` plus the duration, elapsed time).
    pub end: DateTime<Utc>,
    /// The start on the branch's wall clock (for display).
    pub local_start: NaiveDateTime,
}

/// Whether a slot can be booked now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlotStatus {
    /// Seats are free and it can be booked.
    Open,
    /// Every seat is taken (a waitlist may take more).
    Full,
    /// It has started or ended.
    Past,
    /// It starts within the plan's minimum notice.
    TooSoon,
    /// It is beyond the booking horizon.
    BeyondHorizon,
}

/// A slot with its seats, as a customer choosing one sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    /// When the appointment starts.
    pub start: DateTime<Utc>,
    /// When it ends.
    pub end: DateTime<Utc>,
    /// The start on the branch's wall clock.
    pub local_start: NaiveDateTime,
    /// Seats of the slot.
    pub capacity: u32,
    /// Seats taken.
    pub taken: u32,
    /// Seats that can be booked now: 0 unless the status is `Open`.
    pub available: u32,
    /// Whether it can be booked now, and why not.
    pub status: SlotStatus,
}

/// The instant a local start of a range means: its first occurrence, or the end of the gap
/// it falls in.
pub fn resolve_start(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
        LocalResult::None => gap_end(tz, local),
    }
}

/// The instant a local end of a range means: its last occurrence, or the end of the gap it
/// falls in.
pub fn resolve_end(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) | LocalResult::Ambiguous(_, t) => t.with_timezone(&Utc),
        LocalResult::None => gap_end(tz, local),
    }
}

/// Every instant that reads `local` on the wall clock: none in a gap, two in a repeated hour.
pub fn local_instants(tz: Tz, local: NaiveDateTime) -> Vec<DateTime<Utc>> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => vec![t.with_timezone(&Utc)],
        LocalResult::Ambiguous(a, b) => vec![a.with_timezone(&Utc), b.with_timezone(&Utc)],
        LocalResult::None => vec![],
    }
}

/// The instant the clocks jumped over `local`, a wall-clock time that does not exist.
/// Offsets change on whole minutes, so the first existing minute after `local` is the jump.
fn gap_end(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    let minute = local.with_second(0).and_then(|t| t.with_nanosecond(0));
    let minute = minute.unwrap_or(local);
    // The longest jump on record is a whole day (Samoa, 2011-12-30).
    for k in 1..=(26 * 60) {
        if let Some(t) = tz
            .from_local_datetime(&(minute + Duration::minutes(k)))
            .earliest()
        {
            return t.with_timezone(&Utc);
        }
    }
    // Not reached for any real zone; read the time with the offset of the day before.
    let offset = tz
        .from_local_datetime(&(local - Duration::days(1)))
        .earliest()
        .map_or(0, |t| t.offset_secs());
    Utc.from_utc_datetime(&(local - Duration::seconds(offset.into())))
}

trait OffsetSecs {
    fn offset_secs(&self) -> i32;
}

impl OffsetSecs for DateTime<Tz> {
    fn offset_secs(&self) -> i32 {
        use cem_core::chrono::Offset;
        self.offset().fix().local_minus_utc()
    }
}

/// A range of instants, start inclusive, end exclusive.
type Span = (DateTime<Utc>, DateTime<Utc>);

fn overlaps(a: Span, b: Span) -> bool {
    a.0 < b.1 && b.0 < a.1
}

/// Local time ranges of one day.
type Ranges = Vec<(NaiveTime, NaiveTime)>;

/// The local intervals and breaks of `date`: the override's intervals without breaks, or the
/// weekday's intervals with the breaks that apply on that weekday.
fn day_plan(plan: &ReservationPlan, date: NaiveDate) -> (Ranges, Ranges) {
    if let Some(o) = plan.overrides.iter().find(|o| o.date == date) {
        return (
            o.intervals.iter().map(|r| (r.start, r.end)).collect(),
            vec![],
        );
    }
    let day = date.weekday();
    let intervals = plan
        .weekly
        .iter()
        .filter(|i| i.day == day)
        .map(|i| (i.open, i.close))
        .collect();
    let breaks = plan
        .breaks
        .iter()
        .filter(|b| b.days.is_empty() || b.days.contains(&day))
        .map(|b| (b.start, b.end))
        .collect();
    (intervals, breaks)
}

/// The slots `plan` defines on the local `date`, in order of start. Availability is not
/// considered (see [`slots`]).
///
/// A slot starts at each interval's opening time and then every slot interval of wall-clock
/// time before the closing time; it is kept when its occupied window,
/// `[start − buffer_before, start + duration + buffer_after)`, lies inside the interval and
/// overlaps no break of the date and no closure.
pub fn day_slots(plan: &ReservationPlan, tz: Tz, date: NaiveDate) -> Vec<PlanSlot> {
    let mut out = Vec::new();
    if plan.slot_interval_secs == 0 {
        return out;
    }
    let (intervals, breaks) = day_plan(plan, date);
    if intervals.is_empty() {
        return out;
    }
    let span =
        |from: NaiveDateTime, to: NaiveDateTime| (resolve_start(tz, from), resolve_end(tz, to));
    let at = |t: NaiveTime| date.and_time(t);
    let breaks: Vec<Span> = breaks.iter().map(|&(s, e)| span(at(s), at(e))).collect();
    // Closures that can reach this date's windows (a day either side covers any offset).
    let (lo, hi) = (
        (date - Duration::days(1)).and_time(NaiveTime::MIN),
        (date + Duration::days(2)).and_time(NaiveTime::MIN),
    );
    let closures: Vec<Span> = plan
        .closures
        .iter()
        .filter(|c| c.start < hi && c.end > lo)
        .map(|c| span(c.start, c.end))
        .collect();
    let step = Duration::seconds(plan.slot_interval_secs.into());
    let duration = Duration::seconds(plan.duration_secs.into());
    let before = Duration::seconds(plan.buffer_before_secs.into());
    let after = Duration::seconds(plan.buffer_after_secs.into());
    for (open, close) in intervals {
        let (open_at, close_at) = span(at(open), at(close));
        let mut local = at(open);
        while local < at(close) {
            for start in local_instants(tz, local) {
                let window = (start - before, start + duration + after);
                if window.0 >= open_at
                    && window.1 <= close_at
                    && !breaks.iter().any(|&b| overlaps(window, b))
                    && !closures.iter().any(|&c| overlaps(window, c))
                {
                    out.push(PlanSlot {
                        start,
                        end: start + duration,
                        local_start: local,
                    });
                }
            }
            local += step;
        }
    }
    out.sort();
    out
}

/// The slot of `plan` that starts at `start`, if there is one.
pub fn slot_at(plan: &ReservationPlan, tz: Tz, start: DateTime<Utc>) -> Option<PlanSlot> {
    let date = start.with_timezone(&tz).date_naive();
    day_slots(plan, tz, date)
        .into_iter()
        .find(|s| s.start == start)
}

/// The last local date whose slots can be booked at `now`: today plus the horizon.
pub fn last_bookable_date(plan: &ReservationPlan, tz: Tz, now: DateTime<Utc>) -> NaiveDate {
    let today = now.with_timezone(&tz).date_naive();
    today
        .checked_add_days(cem_core::chrono::Days::new(plan.horizon_days.into()))
        .unwrap_or(NaiveDate::MAX)
}

/// The last instant a slot starting at `start` can be booked: its start minus the minimum
/// notice.
pub fn booking_deadline(plan: &ReservationPlan, start: DateTime<Utc>) -> DateTime<Utc> {
    start - Duration::seconds(plan.min_notice_secs.into())
}

/// The last instant the holder can cancel or reschedule a booking starting at `start`.
pub fn change_deadline(plan: &ReservationPlan, start: DateTime<Utc>) -> DateTime<Utc> {
    start - Duration::seconds(plan.change_notice_secs.into())
}

/// Whether a slot starting at `start` can be booked at `now` as far as time goes (past,
/// notice, horizon); seats are not considered. `Open` when it can.
pub fn timing(
    plan: &ReservationPlan,
    tz: Tz,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
) -> SlotStatus {
    if start <= now {
        SlotStatus::Past
    } else if now > booking_deadline(plan, start) {
        SlotStatus::TooSoon
    } else if start.with_timezone(&tz).date_naive() > last_bookable_date(plan, tz, now) {
        SlotStatus::BeyondHorizon
    } else {
        SlotStatus::Open
    }
}

/// The slots of the local dates `dates`, in order, with their seats as seen at `now`.
///
/// `taken` gives the seats taken per slot start (a start not in it has none taken;
/// [`seats_taken`](crate::seats_taken) counts them from bookings). A slot's `available` is
/// its free seats when it can be booked, else 0, and its status says why.
pub fn slots(
    plan: &ReservationPlan,
    tz: Tz,
    dates: RangeInclusive<NaiveDate>,
    now: DateTime<Utc>,
    taken: &BTreeMap<DateTime<Utc>, u32>,
) -> Vec<Slot> {
    let mut out = Vec::new();
    let (mut date, last) = dates.into_inner();
    while date <= last {
        for s in day_slots(plan, tz, date) {
            let seats = taken.get(&s.start).copied().unwrap_or(0);
            let status = match timing(plan, tz, s.start, now) {
                SlotStatus::Open if seats >= plan.capacity => SlotStatus::Full,
                other => other,
            };
            out.push(Slot {
                start: s.start,
                end: s.end,
                local_start: s.local_start,
                capacity: plan.capacity,
                taken: seats,
                available: if status == SlotStatus::Open {
                    plan.capacity - seats
                } else {
                    0
                },
                status,
            });
        }
        match date.succ_opt() {
            Some(next) => date = next,
            None => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::*;
    use cem_core::chrono::Weekday;
    use cem_core::{Closure, DateOverride, LocalTimeRange, OpeningInterval, PlanBreak};

    fn starts(slots: &[PlanSlot]) -> Vec<String> {
        slots.iter().map(|s| s.start.to_rfc3339()).collect()
    }

    fn locals(slots: &[PlanSlot]) -> Vec<String> {
        slots
            .iter()
            .map(|s| s.local_start.format("%H:%M").to_string())
            .collect()
    }

    #[test]
    fn a_plain_day_has_slots_on_the_grid_in_local_time() {
        // 2026-11-30 is a Monday; Berlin is UTC+1 in winter.
        let mut p = plan_every_day(t(9, 0), t(10, 0), 15 * 60, 15 * 60);
        p.weekly.retain(|i| i.day == Weekday::Mon);
        let s = day_slots(&p, berlin(), date(2026, 11, 30));
        assert_eq!(locals(&s), ["09:00", "09:15", "09:30", "09:45"]);
        assert_eq!(s[0].start, utc("2026-11-30T08:00:00Z"));
        assert_eq!(s[0].end, utc("2026-11-30T08:15:00Z"));
        assert!(day_slots(&p, berlin(), date(2026, 12, 1)).is_empty());
    }

    #[test]
    fn buffers_breaks_and_closures_remove_the_slots_they_touch() {
        let mut p = plan_every_day(t(9, 0), t(12, 0), 30 * 60, 20 * 60);
        p.buffer_before_secs = 5 * 60;
        p.buffer_after_secs = 10 * 60;
        p.breaks = vec![PlanBreak {
            days: vec![],
            start: t(10, 30),
            end: t(11, 0),
        }];
        // 09:00 needs 08:55 (outside); 10:00 runs to 10:30 with its buffer (touches the break
        // only at its edge: kept); 10:30 is in the break; 11:00 needs 10:55 (in the break);
        // 11:30 ends at 12:00 with its buffer.
        let d = date(2026, 11, 30);
        assert_eq!(
            locals(&day_slots(&p, berlin(), d)),
            ["09:30", "10:00", "11:30"]
        );
        p.closures = vec![Closure {
            start: d.and_time(t(10, 20)),
            end: d.and_time(t(10, 25)),
            reason: None,
        }];
        // 10:00's window runs to 10:30, through the closure; 09:30's ends at 10:00.
        assert_eq!(locals(&day_slots(&p, berlin(), d)), ["09:30", "11:30"]);
        p.closures = vec![Closure::days(d, d, "holiday")];
        assert!(day_slots(&p, berlin(), d).is_empty());
        assert!(!day_slots(&p, berlin(), d.succ_opt().unwrap()).is_empty());
    }

    #[test]
    fn an_override_replaces_the_day_and_its_breaks() {
        let mut p = plan_every_day(t(9, 0), t(12, 0), 60 * 60, 60 * 60);
        p.breaks = vec![PlanBreak {
            days: vec![Weekday::Mon],
            start: t(10, 0),
            end: t(11, 0),
        }];
        let d = date(2026, 11, 30);
        assert_eq!(locals(&day_slots(&p, berlin(), d)), ["09:00", "11:00"]);
        // Tuesday has no break.
        let tue = date(2026, 12, 1);
        assert_eq!(
            locals(&day_slots(&p, berlin(), tue)),
            ["09:00", "10:00", "11:00"]
        );
        p.overrides = vec![
            DateOverride {
                date: d,
                intervals: vec![LocalTimeRange {
                    start: t(14, 0),
                    end: t(16, 0),
                }],
            },
            DateOverride {
                date: tue,
                intervals: vec![],
            },
        ];
        assert_eq!(locals(&day_slots(&p, berlin(), d)), ["14:00", "15:00"]);
        assert!(day_slots(&p, berlin(), tue).is_empty());
    }

    #[test]
    fn spring_forward_skips_the_missing_hour_in_berlin() {
        // 2026-03-29: 02:00 CET becomes 03:00 CEST (01:00 UTC).
        let p = plan_every_day(t(1, 0), t(4, 0), 30 * 60, 30 * 60);
        let s = day_slots(&p, berlin(), date(2026, 3, 29));
        assert_eq!(locals(&s), ["01:00", "01:30", "03:00", "03:30"]);
        assert_eq!(
            starts(&s),
            [
                "2026-03-29T00:00:00+00:00",
                "2026-03-29T00:30:00+00:00",
                "2026-03-29T01:00:00+00:00",
                "2026-03-29T01:30:00+00:00",
            ]
        );
        // Durations are elapsed time: an hour from 01:30 CET ends at 03:30 CEST.
        let mut long = p.clone();
        long.duration_secs = 3600;
        let s = day_slots(&long, berlin(), date(2026, 3, 29));
        assert_eq!(locals(&s), ["01:00", "01:30", "03:00"]);
        assert_eq!(s[1].end, utc("2026-03-29T01:30:00Z"));
    }

    #[test]
    fn fall_back_gives_both_occurrences_of_the_repeated_hour_in_berlin() {
        // 2026-10-25: 03:00 CEST becomes 02:00 CET (01:00 UTC); 02:xx happens twice.
        let p = plan_every_day(t(1, 0), t(4, 0), 30 * 60, 30 * 60);
        let s = day_slots(&p, berlin(), date(2026, 10, 25));
        assert_eq!(
            locals(&s),
            [
                "01:00", "01:30", "02:00", "02:30", "02:00", "02:30", "03:00", "03:30"
            ]
        );
        assert_eq!(s[2].start, utc("2026-10-25T00:00:00Z"));
        assert_eq!(s[4].start, utc("2026-10-25T01:00:00Z"));
        assert_eq!(s[7].start, utc("2026-10-25T02:30:00Z"));
        // A break written in the repeated hour covers both occurrences.
        let mut p = p;
        p.breaks = vec![PlanBreak {
            days: vec![],
            start: t(2, 0),
            end: t(2, 30),
        }];
        let s = day_slots(&p, berlin(), date(2026, 10, 25));
        assert_eq!(locals(&s), ["01:00", "01:30", "02:30", "03:00", "03:30"]);
        assert_eq!(s[2].start, utc("2026-10-25T01:30:00Z"));
    }

    #[test]
    fn new_york_changes_at_two_in_the_morning() {
        // 2026-03-08: 02:00 EST becomes 03:00 EDT; 2026-11-01: 02:00 EDT becomes 01:00 EST.
        let p = plan_every_day(t(0, 0), t(4, 0), 60 * 60, 60 * 60);
        let spring = day_slots(&p, new_york(), date(2026, 3, 8));
        assert_eq!(locals(&spring), ["00:00", "01:00", "03:00"]);
        assert_eq!(spring[2].start, utc("2026-03-08T07:00:00Z"));
        let fall = day_slots(&p, new_york(), date(2026, 11, 1));
        assert_eq!(locals(&fall), ["00:00", "01:00", "01:00", "02:00", "03:00"]);
        assert_eq!(fall[1].start, utc("2026-11-01T05:00:00Z"));
        assert_eq!(fall[2].start, utc("2026-11-01T06:00:00Z"));
        // Office hours are untouched.
        let office = plan_every_day(t(9, 0), t(10, 0), 30 * 60, 30 * 60);
        let s = day_slots(&office, new_york(), date(2026, 3, 8));
        assert_eq!(
            starts(&s),
            ["2026-03-08T13:00:00+00:00", "2026-03-08T13:30:00+00:00"]
        );
    }

    #[test]
    fn tehran_skipped_and_repeated_midnights_in_2021() {
        // 2021-03-22 00:00 +0330 became 01:00 +0430: midnight did not exist.
        let p = plan_every_day(t(0, 0), t(2, 0), 30 * 60, 30 * 60);
        let s = day_slots(&p, tehran(), date(2021, 3, 22));
        assert_eq!(locals(&s), ["01:00", "01:30"]);
        assert_eq!(s[0].start, utc("2021-03-21T20:30:00Z"));
        // 2021-09-22 00:00 +0430 became 2021-09-21 23:00 +0330: 23:xx on the 21st happened twice.
        let late = plan_every_day(t(22, 0), t(23, 59), 30 * 60, 30 * 60);
        let s = day_slots(&late, tehran(), date(2021, 9, 21));
        assert_eq!(locals(&s), ["22:00", "22:30", "23:00", "23:30", "23:00"]);
        assert_eq!(s[2].start, utc("2021-09-21T18:30:00Z"));
        assert_eq!(s[4].start, utc("2021-09-21T19:30:00Z"));
        // From 2023 on Tehran keeps +0330 all year.
        let s = day_slots(&p, tehran(), date(2024, 3, 21));
        assert_eq!(locals(&s), ["00:00", "00:30", "01:00", "01:30"]);
        assert_eq!(s[0].start, utc("2024-03-20T20:30:00Z"));
    }

    #[test]
    fn availability_reports_notice_horizon_and_seats() {
        let mut p = plan_every_day(t(9, 0), t(11, 0), 60 * 60, 60 * 60);
        p.capacity = 2;
        p.min_notice_secs = 3600;
        p.horizon_days = 1;
        let now = utc("2026-11-30T07:30:00Z"); // 08:30 in Berlin
        let mut taken = BTreeMap::new();
        taken.insert(utc("2026-12-01T08:00:00Z"), 2);
        taken.insert(utc("2026-12-01T09:00:00Z"), 1);
        let s = slots(
            &p,
            berlin(),
            date(2026, 11, 30)..=date(2026, 12, 2),
            now,
            &taken,
        );
        let got: Vec<(SlotStatus, u32)> = s.iter().map(|s| (s.status, s.available)).collect();
        assert_eq!(
            got,
            [
                (SlotStatus::TooSoon, 0),
                (SlotStatus::Open, 2),
                (SlotStatus::Full, 0),
                (SlotStatus::Open, 1),
                (SlotStatus::BeyondHorizon, 0),
                (SlotStatus::BeyondHorizon, 0),
            ]
        );
        let later = slots(
            &p,
            berlin(),
            date(2026, 11, 30)..=date(2026, 11, 30),
            utc("2026-11-30T09:00:00Z"),
            &taken,
        );
        assert_eq!(later[0].status, SlotStatus::Past);
        assert_eq!(
            slot_at(&p, berlin(), utc("2026-12-01T09:00:00Z")).map(|s| s.local_start.hour()),
            Some(10)
        );
        assert_eq!(slot_at(&p, berlin(), utc("2026-12-01T09:30:00Z")), None);
    }

    #[test]
    fn opening_interval_type_is_shared_with_branch_hours() {
        let i = OpeningInterval {
            day: Weekday::Sat,
            open: t(8, 0),
            close: t(9, 0),
        };
        let p = ReservationPlan {
            weekly: vec![i],
            ..plan_every_day(t(8, 0), t(9, 0), 3600, 3600)
        };
        // 2026-11-28 is a Saturday; Tehran is UTC+3:30.
        assert_eq!(
            starts(&day_slots(&p, tehran(), date(2026, 11, 28))),
            ["2026-11-28T04:30:00+00:00"]
        );
    }
}
