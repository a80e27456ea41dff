//! Property tests: random plans checked against an independent reading of their rules, random
//! DST days, and random booking scripts driven through the decisions with a small store.
//!
//! - In a zone without DST (Asia/Tehran from 2023, UTC) wall-clock arithmetic is exact, so an
//!   oracle enumerates the grid in local time and the slots must be exactly those whose window
//!   lies inside an interval and touches no break, closure or override-closed day.
//! - On DST change days (Berlin, New York, Tehran until 2022) every slot starts at a local time
//!   that exists and is on the grid, lasts its duration in elapsed time, and no minute of its
//!   window reads on the wall clock as inside a break or a closure.
//! - A [`Store`] keeps bookings by id and counts seats the way a store will; scripts of book,
//!   waitlist, cancel, reschedule, offer, accept and lapse never put more bookings in a slot
//!   than it has seats, and cancelling then booking again restores availability.

use std::collections::{BTreeMap, BTreeSet};

use cem_core::chrono::{
    DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc, Weekday,
};
use cem_core::chrono_tz::Tz;
use cem_core::{
    Booking, BookingState, Closure, DateOverride, LocalTimeRange, OpeningInterval, PlanBreak,
    ReservationPlan,
};
use cem_reservation::testing::{berlin, new_york, plan_every_day, request, t, tehran, utc};
use cem_reservation::{
    Actor, SlotStatus, accept_offer, book, cancel, day_slots, holds_seat, join_waitlist,
    lapse_waitlist, reschedule, seats_taken, slots, waitlist_offers,
};
use proptest::prelude::*;

const WEEK: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

/// A time of day on a 5-minute grid (`units` of 5 minutes, below 24:00).
fn five(units: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(units / 12, units % 12 * 5, 0).unwrap()
}

// ----- generators ------------------------------------------------------------------------------

/// Up to two non-overlapping ranges of a day, from sorted distinct 5-minute points.
fn day_ranges() -> impl Strategy<Value = Vec<(NaiveTime, NaiveTime)>> {
    prop::collection::btree_set(0u32..288, 0..=4).prop_map(|points| {
        let p: Vec<u32> = points.into_iter().collect();
        p.chunks_exact(2)
            .map(|c| (five(c[0]), five(c[1])))
            .collect()
    })
}

prop_compose! {
    /// A plan over `first..first + 14 days` with weekly intervals, breaks, overrides and
    /// closures, on 5-minute grids.
    fn any_plan(first: NaiveDate)(
        weekly in prop::collection::vec(day_ranges(), 7),
        breaks in prop::collection::vec((0u32..280, 1u32..24, prop::collection::vec(0usize..7, 0..3)), 0..3),
        overrides in prop::collection::vec((0i64..14, prop::option::of((0u32..250, 1u32..36))), 0..3),
        closures in prop::collection::vec((0i64..14 * 288, 1i64..600), 0..3),
        interval in prop::sample::select(vec![5u32, 10, 15, 20, 30, 45, 60, 90]),
        duration in 1u32..=18,
        before in 0u32..=3,
        after in 0u32..=3,
    ) -> ReservationPlan {
        let mut p = plan_every_day(t(9, 0), t(10, 0), interval * 60, duration * 300);
        p.weekly = WEEK
            .iter()
            .zip(weekly)
            .flat_map(|(&day, ranges)| {
                ranges.into_iter().map(move |(open, close)| OpeningInterval { day, open, close })
            })
            .collect();
        p.breaks = breaks
            .into_iter()
            .map(|(start, len, days)| PlanBreak {
                days: days.into_iter().map(|d| WEEK[d]).collect(),
                start: five(start),
                end: five((start + len).min(287)),
            })
            .filter(|b| b.start < b.end)
            .collect();
        let mut seen = BTreeSet::new();
        p.overrides = overrides
            .into_iter()
            .filter(|(d, _)| seen.insert(*d))
            .map(|(d, range)| DateOverride {
                date: first + Duration::days(d),
                intervals: range
                    .map(|(s, len)| LocalTimeRange { start: five(s), end: five(s + len) })
                    .into_iter()
                    .collect(),
            })
            .collect();
        let base = first.and_time(NaiveTime::MIN);
        p.closures = closures
            .into_iter()
            .map(|(start, len)| Closure {
                start: base + Duration::minutes(start * 5),
                end: base + Duration::minutes((start + len) * 5),
                reason: None,
            })
            .collect();
        p.buffer_before_secs = before * 300;
        p.buffer_after_secs = after * 300;
        p
    }
}

// ----- an independent reading of the plan, for zones without DST ----------------------------

/// Local time ranges of one day.
type Ranges = Vec<(NaiveTime, NaiveTime)>;

/// The day's intervals and breaks, read straight from the plan.
fn day_rules(p: &ReservationPlan, date: NaiveDate) -> (Ranges, Ranges) {
    match p.overrides.iter().find(|o| o.date == date) {
        Some(o) => (
            o.intervals.iter().map(|r| (r.start, r.end)).collect(),
            vec![],
        ),
        None => (
            p.weekly
                .iter()
                .filter(|i| i.day == date.weekday())
                .map(|i| (i.open, i.close))
                .collect(),
            p.breaks
                .iter()
                .filter(|b| b.days.is_empty() || b.days.contains(&date.weekday()))
                .map(|b| (b.start, b.end))
                .collect(),
        ),
    }
}

/// Every local start the rules allow on `date`, in wall-clock arithmetic.
fn oracle(p: &ReservationPlan, date: NaiveDate) -> BTreeSet<NaiveDateTime> {
    let (intervals, breaks) = day_rules(p, date);
    let secs = |s: u32| Duration::seconds(s.into());
    let mut out = BTreeSet::new();
    for (open, close) in intervals {
        let (open, close) = (date.and_time(open), date.and_time(close));
        let mut start = open;
        while start < close {
            let ws = start - secs(p.buffer_before_secs);
            let we = start + secs(p.duration_secs + p.buffer_after_secs);
            let hits = |(a, b): (NaiveDateTime, NaiveDateTime)| ws < b && a < we;
            if ws >= open
                && we <= close
                && !breaks
                    .iter()
                    .any(|&(a, b)| hits((date.and_time(a), date.and_time(b))))
                && !p.closures.iter().any(|c| hits((c.start, c.end)))
            {
                out.insert(start);
            }
            start += secs(p.slot_interval_secs);
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// No slot outside opening hours or touching a break, closure or buffer; every slot on
    /// the grid; and every grid time the rules allow is a slot.
    #[test]
    fn slots_are_exactly_what_the_rules_allow_without_dst(
        (first, p) in (0i64..1000).prop_map(|d| NaiveDate::from_ymd_opt(2023, 1, 1).unwrap() + Duration::days(d))
            .prop_flat_map(|first| (Just(first), any_plan(first))),
        zone in prop::sample::select(vec![tehran(), Tz::UTC]),
    ) {
        prop_assert!(p.validate().is_ok(), "{:?}", p.validate());
        for d in 0..14 {
            let date = first + Duration::days(d);
            let got = day_slots(&p, zone, date);
            let local: BTreeSet<NaiveDateTime> = got.iter().map(|s| s.local_start).collect();
            prop_assert_eq!(local.len(), got.len());
            prop_assert_eq!(&local, &oracle(&p, date), "on {}", date);
            for s in &got {
                prop_assert_eq!(s.start.with_timezone(&zone).naive_local(), s.local_start);
                prop_assert_eq!(s.end - s.start, Duration::seconds(p.duration_secs.into()));
            }
        }
    }
}

// ----- DST change days -------------------------------------------------------------------------

/// Days with a DST change, and the days either side.
fn change_days() -> impl Strategy<Value = (Tz, NaiveDate)> {
    let days: Vec<(Tz, NaiveDate)> = [
        (berlin(), (2026, 3, 29)),
        (berlin(), (2026, 10, 25)),
        (berlin(), (2025, 3, 30)),
        (berlin(), (2025, 10, 26)),
        (new_york(), (2026, 3, 8)),
        (new_york(), (2026, 11, 1)),
        (new_york(), (2025, 3, 9)),
        (new_york(), (2025, 11, 2)),
        (tehran(), (2021, 3, 22)),
        (tehran(), (2021, 9, 21)),
        (tehran(), (2021, 9, 22)),
        (tehran(), (2022, 3, 22)),
        (tehran(), (2022, 9, 21)),
    ]
    .into_iter()
    .map(|(tz, (y, m, d))| (tz, NaiveDate::from_ymd_opt(y, m, d).unwrap()))
    .collect();
    (prop::sample::select(days), -1i64..=1)
        .prop_map(|((tz, d), shift)| (tz, d + Duration::days(shift)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Across DST changes, slots start only at local times that exist, on the grid, in order,
    /// last their duration in elapsed time, and never run through a break or closure as read
    /// on the wall clock.
    #[test]
    fn dst_days_give_slots_only_at_existing_local_times(
        (tz, date) in change_days(),
        p in any_plan(NaiveDate::from_ymd_opt(2021, 3, 20).unwrap()),
    ) {
        // Move the plan's overrides and closures next to the change day.
        let mut p = p;
        let shift = date - NaiveDate::from_ymd_opt(2021, 3, 22).unwrap();
        for o in &mut p.overrides {
            o.date += shift;
        }
        for c in &mut p.closures {
            c.start += shift;
            c.end += shift;
        }
        let got = day_slots(&p, tz, date);
        let (intervals, breaks) = day_rules(&p, date);
        for w in got.windows(2) {
            prop_assert!(w[0].start < w[1].start);
        }
        for s in &got {
            let local = s.start.with_timezone(&tz).naive_local();
            prop_assert_eq!(local, s.local_start);
            prop_assert!(tz.from_local_datetime(&local).earliest().is_some());
            prop_assert_eq!(s.end - s.start, Duration::seconds(p.duration_secs.into()));
            prop_assert!(intervals.iter().any(|&(open, close)| {
                let from_open = (local - date.and_time(open)).num_seconds();
                local.date() == date
                    && local.time() >= open
                    && local.time() < close
                    && from_open % i64::from(p.slot_interval_secs) == 0
            }), "{} is off the grid", local);
            let ws = s.start - Duration::seconds(p.buffer_before_secs.into());
            let we = s.end + Duration::seconds(p.buffer_after_secs.into());
            let mut at = ws;
            while at < we {
                let wall = at.with_timezone(&tz).naive_local();
                prop_assert!(!breaks.iter().any(|&(a, b)| {
                    wall.date() == date && a <= wall.time() && wall.time() < b
                }), "{} reads {} inside a break", at, wall);
                prop_assert!(!p.closures.iter().any(|c| c.start <= wall && wall < c.end),
                    "{} reads {} inside a closure", at, wall);
                at += Duration::minutes(1);
            }
        }
    }
}

// ----- booking scripts -------------------------------------------------------------------------

/// Bookings by id, as a store keeps them.
#[derive(Debug, Default)]
struct Store(BTreeMap<u128, Booking>);

impl Store {
    fn put(&mut self, b: Booking) {
        self.0.insert(b.id.as_uuid().as_u128(), b);
    }

    fn all(&self) -> Vec<Booking> {
        self.0.values().cloned().collect()
    }

    fn taken(&self, start: DateTime<Utc>) -> u32 {
        seats_taken(self.0.values())
            .get(&start)
            .copied()
            .unwrap_or(0)
    }

    fn of_slot(&self, start: DateTime<Utc>) -> Vec<Booking> {
        self.0
            .values()
            .filter(|b| b.start == start)
            .cloned()
            .collect()
    }

    fn pick(&self, i: prop::sample::Index) -> Option<Booking> {
        (!self.0.is_empty()).then(|| self.0.values().nth(i.index(self.0.len())).unwrap().clone())
    }
}

#[derive(Debug, Clone)]
enum Op {
    Book(usize),
    Wait(usize),
    Cancel(prop::sample::Index, bool),
    Reschedule(prop::sample::Index, usize),
    Offer(usize),
    Accept(prop::sample::Index),
    Advance(i64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0usize..12).prop_map(Op::Book),
        2 => (0usize..12).prop_map(Op::Wait),
        2 => (any::<prop::sample::Index>(), any::<bool>()).prop_map(|(i, s)| Op::Cancel(i, s)),
        1 => (any::<prop::sample::Index>(), 0usize..12).prop_map(|(i, s)| Op::Reschedule(i, s)),
        2 => (0usize..12).prop_map(Op::Offer),
        2 => any::<prop::sample::Index>().prop_map(Op::Accept),
        1 => (0i64..4 * 3600).prop_map(Op::Advance),
    ]
}

/// 09:00–12:00 in Berlin, 30-minute slots, the given seats, a waitlist; 12 slots over two
/// days starting 2026-11-30.
fn script_plan(capacity: u32) -> (ReservationPlan, Vec<DateTime<Utc>>) {
    let mut p = plan_every_day(t(9, 0), t(12, 0), 1800, 1800);
    p.capacity = capacity;
    p.min_notice_secs = 1800;
    p.change_notice_secs = 3600;
    p.waitlist_offer_secs = Some(900);
    let starts = (0..2)
        .flat_map(|d| {
            (0..6).map(move |i| {
                utc("2026-11-30T08:00:00Z") + Duration::days(d) + Duration::minutes(30 * i)
            })
        })
        .collect();
    (p, starts)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever the script, no slot holds more bookings than it has seats.
    #[test]
    fn bookings_never_exceed_capacity(capacity in 1u32..=3, ops in prop::collection::vec(op(), 1..120)) {
        let (p, starts) = script_plan(capacity);
        let tz = berlin();
        let mut store = Store::default();
        let mut now = utc("2026-11-29T12:00:00Z");
        let mut next_id = 1u128;
        for op in ops {
            match op {
                Op::Book(s) => {
                    let start = starts[s];
                    if let Ok(b) = book(&p, tz, request(next_id, start), store.taken(start), &[], now) {
                        store.put(b);
                    }
                    next_id += 1;
                }
                Op::Wait(s) => {
                    let start = starts[s];
                    if let Ok(b) = join_waitlist(&p, tz, request(next_id, start), store.taken(start), &[], now) {
                        store.put(b);
                    }
                    next_id += 1;
                }
                Op::Cancel(i, staff) => {
                    if let Some(b) = store.pick(i) {
                        let by = if staff { Actor::Staff } else { Actor::Holder };
                        if let Ok(b) = cancel(&p, &b, by, now) {
                            store.put(b);
                        }
                    }
                }
                Op::Reschedule(i, s) => {
                    if let Some(b) = store.pick(i) {
                        let start = starts[s];
                        let all = store.all();
                        if let Ok(b) = reschedule(&p, tz, &b, start, store.taken(start), &all, Actor::Holder, now) {
                            store.put(b);
                        }
                    }
                }
                Op::Offer(s) => {
                    let start = starts[s];
                    for b in lapse_waitlist(&p, &store.of_slot(start), now) {
                        store.put(b);
                    }
                    for b in waitlist_offers(&p, &store.of_slot(start), now) {
                        prop_assert_eq!(b.state, BookingState::Offered);
                        store.put(b);
                    }
                }
                Op::Accept(i) => {
                    if let Some(b) = store.pick(i)
                        && let Ok(b) = accept_offer(&b, now)
                    {
                        store.put(b);
                    }
                }
                Op::Advance(secs) => now += Duration::seconds(secs),
            }
            for (start, seats) in seats_taken(store.0.values()) {
                prop_assert!(seats <= capacity, "{} seats taken at {}", seats, start);
            }
        }
    }

    /// Cancelling a booking and booking again gives back the seat: availability returns to
    /// what it was, and the new booking succeeds.
    #[test]
    fn cancel_then_book_again_restores_availability(
        capacity in 1u32..=3,
        fill in prop::collection::vec(0usize..12, 1..20),
        victim in any::<prop::sample::Index>(),
    ) {
        let (p, starts) = script_plan(capacity);
        let tz = berlin();
        let now = utc("2026-11-29T12:00:00Z");
        let days = starts[0].with_timezone(&tz).date_naive()..=starts[11].with_timezone(&tz).date_naive();
        let mut store = Store::default();
        for (i, s) in fill.into_iter().enumerate() {
            let start = starts[s];
            if let Ok(b) = book(&p, tz, request(i as u128 + 1, start), store.taken(start), &[], now) {
                store.put(b);
            }
        }
        let before = slots(&p, tz, days.clone(), now, &seats_taken(store.0.values()));
        let b = store.pick(victim).unwrap();
        prop_assert!(holds_seat(&b));
        store.put(cancel(&p, &b, Actor::Holder, now).unwrap());
        let freed = slots(&p, tz, days.clone(), now, &seats_taken(store.0.values()));
        for (x, y) in before.iter().zip(&freed) {
            let gained = if x.start == b.start { 1 } else { 0 };
            prop_assert_eq!(y.available, x.available + gained);
            if gained == 1 {
                prop_assert_eq!(y.status, SlotStatus::Open);
            }
        }
        let again = book(&p, tz, request(1000, b.start), store.taken(b.start), &[], now).unwrap();
        store.put(again);
        let after = slots(&p, tz, days, now, &seats_taken(store.0.values()));
        prop_assert_eq!(before, after);
    }
}
