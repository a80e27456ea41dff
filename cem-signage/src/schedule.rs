//! When an item may show ([`applies`], [`next_change`]) and whom a playlist or a piece of news
//! is for ([`targets`]).
//!
//! A [`Schedule`] is read on the branch's local calendar and clock: its dates, weekdays and
//! times of day are those of the wall clock in the branch's time zone, so an item scheduled
//! for 07:00–11:00 shows from 07:00 local time on both sides of a daylight-saving change.
//! A time range never spans midnight (`start < end`); split 22:00–02:00 into two ranges.
//!
//! The crate also needs to know *when* such a rule next changes its answer (when the media a
//! screen shows must change, when a branch next opens). Rules that depend only on the local
//! date and time of day change only where the local wall clock crosses one of a few times of
//! day, or where the offset of the time zone changes; the search here visits exactly those
//! instants, so it is exact at any precision and correct across daylight-saving changes
//! (skipped and repeated hours, changes at midnight) without stepping through time.

use cem_core::chrono::{DateTime, Datelike, Duration, NaiveTime, Offset, TimeZone, Utc};
use cem_core::chrono_tz::Tz;
use cem_core::{Schedule, Screen, Targets};

/// Whether `schedule` lets an item show at `at`, read in the time zone `tz`: the local date is
/// within `from..=until` (each bound optional), its weekday is listed (or none is), and the
/// local time of day is in one of the ranges (`start` inclusive, `end` exclusive; or no range
/// is listed).
pub fn applies(schedule: &Schedule, tz: Tz, at: DateTime<Utc>) -> bool {
    let local = at.with_timezone(&tz).naive_local();
    let date = local.date();
    if schedule.from.is_some_and(|from| date < from)
        || schedule.until.is_some_and(|until| date > until)
    {
        return false;
    }
    if !schedule.weekdays.is_empty() && !schedule.weekdays.contains(&date.weekday()) {
        return false;
    }
    let time = local.time();
    schedule.times.is_empty()
        || schedule
            .times
            .iter()
            .any(|r| r.start <= time && time < r.end)
}

/// Whether `targets` names `screen`: every screen, the screen's branch, or the screen itself.
///
/// The organization is not checked here: [`Targets::All`] means every screen *of the record's
/// organization*, which the callers in this crate check alongside.
pub fn targets(targets: &Targets, screen: &Screen) -> bool {
    match targets {
        Targets::All => true,
        Targets::Branches(branches) => branches.contains(&screen.branch),
        Targets::Screens(screens) => screens.contains(&screen.id),
    }
}

/// The first instant in `(at, until)` at which [`applies`] gives another answer than at `at`;
/// `None` when it keeps its answer over the whole window.
///
/// The answer is exact: a schedule entering at 07:00 local time gives the instant of 07:00 on
/// the wall clock, and a range that a daylight-saving change skips into (02:30 on a night
/// that jumps from 02:00 to 03:00) starts at the jump.
pub fn next_change(
    schedule: &Schedule,
    tz: Tz,
    at: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    if is_always(schedule) || at >= until {
        return None;
    }
    let shifts = offset_changes(tz, at, until);
    next_change_with(schedule, tz, at, until, &shifts)
}

/// [`next_change`] with the time zone's offset changes in the window already found (see
/// [`offset_changes`]), for callers that ask about many schedules over one window.
pub(crate) fn next_change_with(
    schedule: &Schedule,
    tz: Tz,
    at: DateTime<Utc>,
    until: DateTime<Utc>,
    shifts: &[DateTime<Utc>],
) -> Option<DateTime<Utc>> {
    if is_always(schedule) {
        return None;
    }
    let mut marks = vec![NaiveTime::MIN];
    for r in &schedule.times {
        marks.extend([r.start, r.end]);
    }
    first_change(tz, at, until, &marks, shifts, |u| applies(schedule, tz, u))
}

/// Whether a schedule holds at every instant, so never changes.
fn is_always(schedule: &Schedule) -> bool {
    schedule.from.is_none()
        && schedule.until.is_none()
        && schedule.weekdays.is_empty()
        && schedule.times.is_empty()
}

/// The instants in `(from, until)` at which the UTC offset of `tz` changes, in order.
///
/// Offsets are sampled every [`SAMPLE`] and each change is then found exactly by bisection;
/// no real time zone changes its offset twice within that span.
pub(crate) fn offset_changes(
    tz: Tz,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Vec<DateTime<Utc>> {
    let offset = |u: DateTime<Utc>| {
        tz.offset_from_utc_datetime(&u.naive_utc())
            .fix()
            .local_minus_utc()
    };
    let mut found = Vec::new();
    let mut lo = from;
    let mut lo_offset = offset(lo);
    while lo < until {
        let hi = (lo + SAMPLE).min(until);
        let hi_offset = offset(hi);
        if hi_offset != lo_offset {
            // The first instant in (lo, hi] with another offset than lo's.
            let (mut a, mut b) = (0_i64, (hi - lo).num_nanoseconds().unwrap_or(i64::MAX));
            while b - a > 1 {
                let mid = a + (b - a) / 2;
                if offset(lo + Duration::nanoseconds(mid)) == lo_offset {
                    a = mid;
                } else {
                    b = mid;
                }
            }
            let change = lo + Duration::nanoseconds(b);
            if change < until {
                found.push(change);
            }
        }
        lo = hi;
        lo_offset = hi_offset;
    }
    found
}

/// How far apart [`offset_changes`] samples the offset of a time zone.
const SAMPLE: Duration = Duration::hours(3);

/// How many days [`first_change`] looks at in one step, so that a near change is found
/// without listing the instants of a whole year.
const CHUNK_DAYS: i64 = 7;

/// The first instant in `(at, until)` at which `holds` differs from `holds(at)`.
///
/// `holds` must depend only on the local date and time of day of its instant in `tz`, and be
/// constant while the local time of day stays within two consecutive `marks` (midnight is
/// always one, as the date changes there). Between two consecutive instants where the local
/// wall clock shows a mark, or the offset changes (`shifts`, from [`offset_changes`] over at
/// least the window), the local time moves forward without crossing a mark, so `holds` is
/// constant: only those instants need asking.
pub(crate) fn first_change(
    tz: Tz,
    at: DateTime<Utc>,
    until: DateTime<Utc>,
    marks: &[NaiveTime],
    shifts: &[DateTime<Utc>],
    holds: impl Fn(DateTime<Utc>) -> bool,
) -> Option<DateTime<Utc>> {
    let before = holds(at);
    let mut lo = at;
    while lo < until {
        let hi = (lo + Duration::days(CHUNK_DAYS)).min(until);
        // Every instant in (lo, hi] where the wall clock shows a mark.
        let mut candidates = Vec::new();
        let first = lo.with_timezone(&tz).date_naive().pred_opt()?;
        let last = hi.with_timezone(&tz).date_naive().succ_opt()?;
        for date in first.iter_days().take_while(|d| *d <= last) {
            for mark in marks {
                let local = date.and_time(*mark);
                candidates.extend(tz.from_local_datetime(&local).earliest());
                candidates.extend(tz.from_local_datetime(&local).latest());
            }
        }
        let mut candidates: Vec<DateTime<Utc>> = candidates
            .into_iter()
            .map(|c| c.with_timezone(&Utc))
            .chain(shifts.iter().copied())
            .filter(|c| lo < *c && *c <= hi && *c < until)
            .collect();
        candidates.sort_unstable();
        candidates.dedup();
        if let Some(change) = candidates.into_iter().find(|c| holds(*c) != before) {
            return Some(change);
        }
        lo = hi;
    }
    None
}

/// The earlier of two optional deadlines, `None` meaning none.
pub(crate) fn earliest(
    a: Option<DateTime<Utc>>,
    b: Option<DateTime<Utc>>,
) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{berlin, date, screen, t, utc};
    use cem_core::chrono::Weekday;
    use cem_core::chrono_tz;
    use cem_core::{BranchId, LocalTimeRange, ScreenId};
    use proptest::prelude::*;

    fn mornings() -> Schedule {
        Schedule {
            weekdays: vec![
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
            ],
            times: vec![LocalTimeRange {
                start: t(7, 0),
                end: t(11, 0),
            }],
            ..Schedule::default()
        }
    }

    #[test]
    fn an_empty_schedule_always_applies_and_never_changes() {
        let at = utc("2026-03-29T00:59:59Z");
        assert!(applies(&Schedule::default(), berlin(), at));
        assert_eq!(
            next_change(&Schedule::default(), berlin(), at, at + Duration::days(400)),
            None
        );
    }

    #[test]
    fn a_schedule_is_read_on_the_local_clock() {
        let s = mornings();
        // Friday 2026-03-27: 07:00 in Berlin is 06:00 UTC (CET).
        assert!(!applies(&s, berlin(), utc("2026-03-27T05:59:59Z")));
        assert!(applies(&s, berlin(), utc("2026-03-27T06:00:00Z")));
        assert!(applies(&s, berlin(), utc("2026-03-27T09:59:59Z")));
        assert!(!applies(&s, berlin(), utc("2026-03-27T10:00:00Z")));
        // Sunday: no.
        assert!(!applies(&s, berlin(), utc("2026-03-29T08:00:00Z")));
        // Monday after the change to summer time: 07:00 is 05:00 UTC (CEST).
        assert!(applies(&s, berlin(), utc("2026-03-30T05:00:00Z")));
        assert!(!applies(&s, berlin(), utc("2026-03-30T09:00:00Z")));
    }

    #[test]
    fn dates_are_inclusive_local_dates() {
        let s = Schedule {
            from: Some(date(2026, 12, 24)),
            until: Some(date(2026, 12, 26)),
            ..Schedule::default()
        };
        // 2026-12-23T23:00Z is already the 24th in Berlin.
        assert!(!applies(&s, berlin(), utc("2026-12-23T22:59:59Z")));
        assert!(applies(&s, berlin(), utc("2026-12-23T23:00:00Z")));
        assert!(applies(&s, berlin(), utc("2026-12-26T22:59:59Z")));
        assert!(!applies(&s, berlin(), utc("2026-12-26T23:00:00Z")));
        assert_eq!(
            next_change(
                &s,
                berlin(),
                utc("2026-01-01T00:00:00Z"),
                utc("2027-01-01T00:00:00Z")
            ),
            Some(utc("2026-12-23T23:00:00Z"))
        );
        assert_eq!(
            next_change(
                &s,
                berlin(),
                utc("2026-12-25T12:00:00Z"),
                utc("2027-01-01T00:00:00Z")
            ),
            Some(utc("2026-12-26T23:00:00Z"))
        );
    }

    #[test]
    fn next_change_finds_the_next_edge_across_the_weekend_and_dst() {
        let s = mornings();
        // Friday 11:00 CET: next is Monday 07:00 CEST, after the change of 2026-03-29.
        assert_eq!(
            next_change(
                &s,
                berlin(),
                utc("2026-03-27T10:00:00Z"),
                utc("2026-04-10T00:00:00Z")
            ),
            Some(utc("2026-03-30T05:00:00Z"))
        );
        // Inside the window: the end at 11:00.
        assert_eq!(
            next_change(
                &s,
                berlin(),
                utc("2026-03-30T06:00:00Z"),
                utc("2026-04-10T00:00:00Z")
            ),
            Some(utc("2026-03-30T09:00:00Z"))
        );
        // Nothing before `until`, which is excluded.
        assert_eq!(
            next_change(
                &s,
                berlin(),
                utc("2026-03-27T10:00:00Z"),
                utc("2026-03-30T05:00:00Z")
            ),
            None
        );
    }

    #[test]
    fn a_range_inside_a_skipped_hour_starts_at_the_jump() {
        // 2026-03-29 in Berlin: 02:00 CET jumps to 03:00 CEST at 01:00 UTC.
        let s = Schedule {
            times: vec![LocalTimeRange {
                start: t(2, 30),
                end: t(4, 0),
            }],
            ..Schedule::default()
        };
        let at = utc("2026-03-29T00:00:00Z");
        assert_eq!(
            next_change(&s, berlin(), at, at + Duration::hours(6)),
            Some(utc("2026-03-29T01:00:00Z"))
        );
        assert!(applies(&s, berlin(), utc("2026-03-29T01:00:00Z")));
        assert!(!applies(&s, berlin(), utc("2026-03-29T00:59:59Z")));
    }

    #[test]
    fn a_repeated_hour_is_left_and_entered_again() {
        // 2026-10-25 in Berlin: 03:00 CEST goes back to 02:00 CET at 01:00 UTC.
        let s = Schedule {
            times: vec![LocalTimeRange {
                start: t(2, 30),
                end: t(3, 0),
            }],
            ..Schedule::default()
        };
        let at = utc("2026-10-25T00:45:00Z"); // 02:45 CEST, inside.
        assert!(applies(&s, berlin(), at));
        let leave = next_change(&s, berlin(), at, at + Duration::hours(6)).unwrap();
        assert_eq!(leave, utc("2026-10-25T01:00:00Z")); // back to 02:00 CET
        let enter = next_change(&s, berlin(), leave, at + Duration::hours(6)).unwrap();
        assert_eq!(enter, utc("2026-10-25T01:30:00Z")); // 02:30 CET
    }

    #[test]
    fn offset_changes_are_found_to_the_nanosecond() {
        let changes = offset_changes(
            berlin(),
            utc("2026-01-01T00:00:00Z"),
            utc("2027-01-01T00:00:00Z"),
        );
        assert_eq!(
            changes,
            vec![utc("2026-03-29T01:00:00Z"), utc("2026-10-25T01:00:00Z")]
        );
        assert!(
            offset_changes(
                chrono_tz::Asia::Tehran,
                utc("2026-01-01T00:00:00Z"),
                utc("2027-01-01T00:00:00Z")
            )
            .is_empty()
        );
    }

    #[test]
    fn targets_name_all_a_branch_or_a_screen() {
        let s = screen();
        assert!(targets(&Targets::All, &s));
        assert!(targets(&Targets::Branches(vec![s.branch]), &s));
        assert!(!targets(
            &Targets::Branches(vec![BranchId::from_u128(99)]),
            &s
        ));
        assert!(targets(&Targets::Screens(vec![s.id]), &s));
        assert!(!targets(
            &Targets::Screens(vec![ScreenId::from_u128(99)]),
            &s
        ));
        assert!(!targets(&Targets::Branches(vec![]), &s));
    }

    const ZONES: [Tz; 5] = [
        chrono_tz::Europe::Berlin,
        chrono_tz::America::New_York,
        chrono_tz::Asia::Tehran,
        // Half-hour daylight-saving shift.
        chrono_tz::Australia::Lord_Howe,
        chrono_tz::America::Santiago,
    ];

    /// Minutes in a day.
    const DAY: i64 = 24 * 60;

    fn weekday(i: u8) -> Weekday {
        Weekday::try_from(i % 7).unwrap()
    }

    /// A time of day on a 15-minute grid, most often in the small hours, where the offsets of
    /// the zones above change.
    fn quarter() -> impl Strategy<Value = u32> {
        prop_oneof![
            (0_u32..96).prop_map(|q| q * 15),
            (0_u32..20).prop_map(|q| q * 15),
            (22 * 4_u32..96).prop_map(|q| q * 15),
        ]
    }

    prop_compose! {
        fn schedules()(
            from in proptest::option::of(0_i64..250),
            span in proptest::option::of(0_i64..30),
            days in proptest::collection::vec(0_u8..7, 0..3),
            ranges in proptest::collection::vec((quarter(), 1_u32..40), 0..3),
        ) -> Schedule {
            let base = date(2026, 3, 1);
            Schedule {
                from: from.map(|d| base + Duration::days(d)),
                until: from.zip(span).map(|(d, s)| base + Duration::days(d + s)),
                weekdays: days.into_iter().map(weekday).collect(),
                times: ranges
                    .into_iter()
                    .map(|(start, len)| {
                        let end = (start + len * 15).min(24 * 60 - 1);
                        LocalTimeRange {
                            start: t(start / 60, start % 60),
                            end: t(end / 60, end % 60),
                        }
                    })
                    .filter(|r| r.start < r.end)
                    .collect(),
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]

        /// Checked against a walk minute by minute (the schedules' edges, the offsets and the
        /// start all fall on whole minutes, so a change falls on one too), over windows of 2.5
        /// days from around the zones' offset changes of 2026 (so also from inside a repeated hour)
        /// or from anywhere in the year.
        #[test]
        fn next_change_matches_a_walk_minute_by_minute(
            schedule in schedules(),
            zone in 0_usize..ZONES.len(),
            near in prop_oneof![3 => (0_usize..2).prop_map(Some), 1 => Just(None)],
            start in 0_i64..365 * DAY,
            around in -(3 * 60_i64)..(2 * 60),
        ) {
            let tz = ZONES[zone];
            let year = utc("2026-01-01T00:00:00Z");
            let changes = offset_changes(tz, year, utc("2027-01-01T00:00:00Z"));
            let at = match near.and_then(|i| changes.get(i)) {
                Some(change) => *change + Duration::minutes(around),
                None => year + Duration::minutes(start),
            };
            let until = at + Duration::hours(60);
            let before = applies(&schedule, tz, at);
            let walked = (1..)
                .map(|m| at + Duration::minutes(m))
                .take_while(|u| *u < until)
                .find(|u| applies(&schedule, tz, *u) != before);
            prop_assert_eq!(next_change(&schedule, tz, at, until), walked);
        }
    }
}
