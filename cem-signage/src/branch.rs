//! Public information about branches: whether one is open ([`open_now`]), when it opens
//! ([`next_opening`]) or closes ([`next_closing`]), how far it is ([`distance_m`]) and which
//! to go to ([`best_branches`]).
//!
//! A branch is open at an instant when its weekly [opening hours](cem_core::OpeningHours)
//! (read in its time zone; none means always open) say so and the local date is not one of
//! the holidays of its [`BranchInfo`]: a holiday closes the whole local date.

use std::cmp::Ordering;

use cem_core::chrono::{DateTime, Duration, NaiveTime, Utc};
use cem_core::{Branch, BranchId, BranchInfo, GeoPoint};
use serde::{Deserialize, Serialize};

use crate::schedule::{first_change, offset_changes};

/// How far ahead [`next_opening`] and [`next_closing`] look, in days.
pub const LOOKAHEAD_DAYS: i64 = 366;

/// The mean radius of the Earth (IUGG), in metres.
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// Whether `branch` is open at `at`: within its weekly hours and not on a holiday of `info`.
/// Information of another branch than `branch` is ignored.
pub fn open_now(branch: &Branch, info: Option<&BranchInfo>, at: DateTime<Utc>) -> bool {
    let holiday = info.filter(|i| i.branch == branch.id).is_some_and(|i| {
        let date = at.with_timezone(&branch.time_zone).date_naive();
        i.holidays.iter().any(|h| h.date == date)
    });
    !holiday && branch.opening_hours.is_open(branch.time_zone, at)
}

/// The first instant from `at` on when `branch` is open: `at` itself when it is open then,
/// otherwise the next opening, holidays skipped; `None` when it does not open within
/// [`LOOKAHEAD_DAYS`] (closed for good, or every open day a holiday).
///
/// An always-open branch gives `at`, or the end of the holidays it is in.
pub fn next_opening(
    branch: &Branch,
    info: Option<&BranchInfo>,
    at: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    next_state(branch, info, at, true)
}

/// The first instant from `at` on when `branch` is closed: `at` itself when it is closed then,
/// otherwise the end of the current opening (or the start of a holiday); `None` when it stays
/// open over the next [`LOOKAHEAD_DAYS`] (an always-open branch without holidays).
pub fn next_closing(
    branch: &Branch,
    info: Option<&BranchInfo>,
    at: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    next_state(branch, info, at, false)
}

fn next_state(
    branch: &Branch,
    info: Option<&BranchInfo>,
    at: DateTime<Utc>,
    open: bool,
) -> Option<DateTime<Utc>> {
    let holds = |u| open_now(branch, info, u);
    if holds(at) == open {
        return Some(at);
    }
    // Whether the branch is open changes only where the local clock shows an opening or a
    // closing time, or midnight (a holiday starts or ends).
    let mut marks = vec![NaiveTime::MIN];
    for i in &branch.opening_hours.0 {
        marks.extend([i.open, i.close]);
    }
    let until = at + Duration::days(LOOKAHEAD_DAYS);
    let shifts = offset_changes(branch.time_zone, at, until);
    first_change(branch.time_zone, at, until, &marks, &shifts, holds)
}

/// The great-circle distance between two points, in metres, by the haversine formula on a
/// sphere of radius [`EARTH_RADIUS_M`] (within 0.5 % of the distance on the WGS 84 ellipsoid).
pub fn distance_m(a: GeoPoint, b: GeoPoint) -> f64 {
    let (lat1, lat2) = (a.lat.to_radians(), b.lat.to_radians());
    let dlat = lat2 - lat1;
    let dlon = (b.lon - a.lon).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlon / 2.0).sin().powi(2);
    // Rounding may push `h` a hair above 1 for antipodes.
    2.0 * EARTH_RADIUS_M * h.clamp(0.0, 1.0).sqrt().asin()
}

/// A branch to rank: where it is, whether it is open, and the expected wait there.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// The branch.
    pub branch: BranchId,
    /// Where it is.
    pub location: GeoPoint,
    /// The expected wait for the service asked, in seconds, when there is an estimate.
    pub wait_secs: Option<f64>,
    /// Whether it is open (see [`open_now`]).
    pub open: bool,
}

/// A branch ranked by [`best_branches`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Ranked {
    /// The branch.
    pub branch: BranchId,
    /// How far it is, in metres.
    pub distance_m: f64,
    /// How long getting there takes, in seconds.
    pub travel_secs: f64,
    /// The expected wait, when there is an estimate.
    pub wait_secs: Option<f64>,
    /// Travel and wait (none counted as zero), in seconds: the rank.
    pub total_secs: f64,
}

/// The open branches of `candidates`, best first, for a customer at `origin` travelling at
/// `speed_m_per_s` along the great circle.
///
/// A branch ranks by its total: travel time plus expected wait. A branch without an estimate
/// counts as no wait, but of two equal totals the one with an estimate comes first (it is a
/// measure, the other a guess); then the nearer; then by id, so the order is total.
///
/// Closed branches and branches whose coordinates are not finite numbers are left out. An
/// estimate that is not a finite number counts as none, a negative one as zero. A speed that is
/// not a positive finite number ranks nothing: the result is empty.
pub fn best_branches(
    origin: GeoPoint,
    candidates: &[Candidate],
    speed_m_per_s: f64,
) -> Vec<Ranked> {
    if !(speed_m_per_s.is_finite() && speed_m_per_s > 0.0) {
        return Vec::new();
    }
    let mut ranked: Vec<Ranked> = candidates
        .iter()
        .filter(|c| c.open && c.location.lat.is_finite() && c.location.lon.is_finite())
        .map(|c| {
            let distance_m = distance_m(origin, c.location);
            let travel_secs = distance_m / speed_m_per_s;
            let wait_secs = c.wait_secs.filter(|w| w.is_finite()).map(|w| w.max(0.0));
            Ranked {
                branch: c.branch,
                distance_m,
                travel_secs,
                wait_secs,
                total_secs: travel_secs + wait_secs.unwrap_or(0.0),
            }
        })
        .filter(|r| r.distance_m.is_finite())
        .collect();
    ranked.sort_by(|a, b| {
        a.total_secs
            .total_cmp(&b.total_secs)
            .then_with(|| match (a.wait_secs, b.wait_secs) {
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                _ => Ordering::Equal,
            })
            .then_with(|| a.distance_m.total_cmp(&b.distance_m))
            .then_with(|| a.branch.cmp(&b.branch))
    });
    ranked
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{BRANCH, ORGANIZATION, branch, date, t, tehran, utc};
    use cem_core::chrono::Weekday;
    use cem_core::{Holiday, LocalizedText, OpeningHours, OpeningInterval};
    use proptest::prelude::*;

    fn info(holidays: &[(i32, u32, u32)]) -> BranchInfo {
        BranchInfo {
            branch: BRANCH,
            organization: ORGANIZATION,
            address: LocalizedText::new(),
            location: None,
            phone: None,
            holidays: holidays
                .iter()
                .map(|&(y, m, d)| Holiday {
                    date: date(y, m, d),
                    name: LocalizedText::new(),
                })
                .collect(),
        }
    }

    #[test]
    fn open_follows_weekly_hours_and_holidays() {
        let b = branch(); // Mon–Fri 09:00–17:00, Berlin
        let easter = info(&[(2026, 4, 3), (2026, 4, 6)]);
        // Thursday 2026-04-02 10:00 CEST.
        assert!(open_now(&b, Some(&easter), utc("2026-04-02T08:00:00Z")));
        // Good Friday.
        assert!(!open_now(&b, Some(&easter), utc("2026-04-03T08:00:00Z")));
        assert!(open_now(&b, None, utc("2026-04-03T08:00:00Z")));
        // Information of another branch is ignored.
        let mut other = easter.clone();
        other.branch = BranchId::from_u128(9);
        assert!(open_now(&b, Some(&other), utc("2026-04-03T08:00:00Z")));
    }

    #[test]
    fn next_opening_skips_closed_days_holidays_and_crosses_dst() {
        let b = branch();
        // Saturday 2026-03-28 noon: Monday 09:00 CEST, after the change, is 07:00 UTC.
        assert_eq!(
            next_opening(&b, None, utc("2026-03-28T11:00:00Z")),
            Some(utc("2026-03-30T07:00:00Z"))
        );
        // Thursday 2026-04-02 after closing, with Good Friday and Easter Monday off.
        let easter = info(&[(2026, 4, 3), (2026, 4, 6)]);
        assert_eq!(
            next_opening(&b, Some(&easter), utc("2026-04-02T16:00:00Z")),
            Some(utc("2026-04-07T07:00:00Z"))
        );
        // Open now: now.
        let at = utc("2026-04-02T08:00:00Z");
        assert_eq!(next_opening(&b, Some(&easter), at), Some(at));
        // And it closes at 17:00 CEST.
        assert_eq!(
            next_closing(&b, Some(&easter), at),
            Some(utc("2026-04-02T15:00:00Z"))
        );
        assert_eq!(
            next_closing(&b, None, utc("2026-04-03T03:00:00Z")),
            Some(utc("2026-04-03T03:00:00Z"))
        );
    }

    #[test]
    fn always_open_branches_open_now_or_after_their_holidays() {
        let mut b = branch();
        b.opening_hours = OpeningHours::always();
        let at = utc("2026-12-24T12:00:00Z");
        assert_eq!(next_opening(&b, None, at), Some(at));
        assert_eq!(next_closing(&b, None, at), None);
        let christmas = info(&[(2026, 12, 25), (2026, 12, 26)]);
        // The 25th starts at 23:00 UTC on the 24th; the 27th at 23:00 UTC on the 26th.
        assert_eq!(
            next_closing(&b, Some(&christmas), at),
            Some(utc("2026-12-24T23:00:00Z"))
        );
        assert_eq!(
            next_opening(&b, Some(&christmas), utc("2026-12-25T12:00:00Z")),
            Some(utc("2026-12-26T23:00:00Z"))
        );
    }

    #[test]
    fn a_branch_that_never_opens_has_no_next_opening() {
        let mut b = branch();
        b.opening_hours = OpeningHours(vec![OpeningInterval {
            day: Weekday::Sun,
            open: t(10, 0),
            close: t(12, 0),
        }]);
        // Every Sunday of the coming year a holiday.
        let start = date(2026, 1, 4);
        let mut sundays = info(&[]);
        for w in 0..60 {
            sundays.holidays.push(Holiday {
                date: start + Duration::weeks(w),
                name: LocalizedText::new(),
            });
        }
        assert_eq!(
            next_opening(&b, Some(&sundays), utc("2026-01-01T00:00:00Z")),
            None
        );
        assert_eq!(
            next_opening(&b, None, utc("2026-01-01T00:00:00Z")),
            Some(utc("2026-01-04T09:00:00Z"))
        );
    }

    #[test]
    fn tehran_opens_on_saturday() {
        let mut b = branch();
        b.time_zone = tehran();
        b.opening_hours = OpeningHours::weekly(
            &[
                Weekday::Sat,
                Weekday::Sun,
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
            ],
            t(8, 0),
            t(14, 0),
        );
        // Thursday 2026-11-26 noon in Tehran: Saturday 08:00 is 04:30 UTC.
        assert_eq!(
            next_opening(&b, None, utc("2026-11-26T08:30:00Z")),
            Some(utc("2026-11-28T04:30:00Z"))
        );
    }

    fn point(lat: f64, lon: f64) -> GeoPoint {
        GeoPoint { lat, lon }
    }

    #[test]
    fn distances_match_known_ones() {
        // Reference distances on the WGS 84 ellipsoid (Vincenty); the sphere is within 1 %.
        let cases = [
            (
                point(52.5200, 13.4050),
                point(35.6892, 51.3890),
                3_510_668.0,
            ), // Berlin–Tehran
            (point(51.5074, -0.1278), point(48.8566, 2.3522), 343_923.0), // London–Paris
            (
                point(40.6413, -73.7781),
                point(51.4700, -0.4543),
                5_554_909.0,
            ), // JFK–Heathrow
        ];
        for (a, b, expected) in cases {
            let d = distance_m(a, b);
            assert!((d - expected).abs() / expected < 0.01, "{d} vs {expected}");
            assert!((d - distance_m(b, a)).abs() < 1e-6);
        }
        // On the sphere itself: a degree of a meridian, a quarter and half the circumference.
        let degree = EARTH_RADIUS_M * std::f64::consts::PI / 180.0;
        assert!((distance_m(point(0.0, 0.0), point(1.0, 0.0)) - degree).abs() < 1e-6);
        assert!((distance_m(point(0.0, 0.0), point(0.0, 90.0)) - 90.0 * degree).abs() < 1e-3);
        assert!((distance_m(point(0.0, 0.0), point(0.0, 180.0)) - 180.0 * degree).abs() < 1e-3);
        assert!((distance_m(point(90.0, 0.0), point(-90.0, 0.0)) - 180.0 * degree).abs() < 1e-3);
        assert_eq!(distance_m(point(35.0, 51.0), point(35.0, 51.0)), 0.0);
        // Across the antimeridian.
        assert!((distance_m(point(0.0, 179.5), point(0.0, -179.5)) - degree).abs() < 1e-3);
    }

    fn candidate(n: u128, lat: f64, wait: Option<f64>, open: bool) -> Candidate {
        Candidate {
            branch: BranchId::from_u128(n),
            location: point(lat, 0.0),
            wait_secs: wait,
            open,
        }
    }

    #[test]
    fn branches_rank_by_travel_and_wait() {
        let origin = point(0.0, 0.0);
        let degree = EARTH_RADIUS_M * std::f64::consts::PI / 180.0;
        // At 1 degree per 1000 s.
        let speed = degree / 1000.0;
        let ranked = best_branches(
            origin,
            &[
                candidate(1, 1.0, Some(2000.0), true), // 1000 + 2000
                candidate(2, 2.0, Some(0.0), true),    // 2000
                candidate(3, 0.5, Some(10.0), false),  // closed
                candidate(4, 1.5, None, true),         // 1500, no estimate
                candidate(5, 3.2, Some(-50.0), true),  // 3200, a negative estimate is zero
                candidate(6, 2.5, Some(900.0), true),  // 2500 + 900
            ],
            speed,
        );
        let ids = |r: &[Ranked]| r.iter().map(|r| r.branch.0.as_u128()).collect::<Vec<_>>();
        assert_eq!(ids(&ranked), [4, 2, 1, 5, 6]);
        let first = ranked[0];
        assert!((first.travel_secs - 1500.0).abs() < 1e-6);
        assert_eq!(first.wait_secs, None);
        assert!((first.total_secs - 1500.0).abs() < 1e-6);
        assert_eq!(ranked[3].wait_secs, Some(0.0));
        // At an equal total, an estimate comes before none; then the lower id.
        let tie = best_branches(
            origin,
            &[
                candidate(7, 1.0, Some(0.0), true),
                candidate(1, 1.0, None, true),
                candidate(3, 1.0, Some(0.0), true),
            ],
            speed,
        );
        assert_eq!(ids(&tie), [3, 7, 1]);
        assert!(best_branches(origin, &[candidate(1, 1.0, None, true)], 0.0).is_empty());
        assert!(best_branches(origin, &[candidate(1, 1.0, None, true)], f64::NAN).is_empty());
        assert!(best_branches(origin, &[candidate(1, f64::NAN, None, true)], 1.0).is_empty());
    }

    proptest! {
        #[test]
        fn ranking_keeps_open_branches_in_order_of_total(
            cands in proptest::collection::vec(
                (-80.0_f64..80.0, -170.0_f64..170.0, proptest::option::of(0.0_f64..7200.0), any::<bool>()),
                0..12,
            ),
        ) {
            let cands: Vec<Candidate> = cands
                .into_iter()
                .enumerate()
                .map(|(n, (lat, lon, wait_secs, open))| Candidate {
                    branch: BranchId::from_u128(n as u128),
                    location: point(lat, lon),
                    wait_secs,
                    open,
                })
                .collect();
            let ranked = best_branches(point(52.5, 13.4), &cands, 14.0);
            prop_assert_eq!(ranked.len(), cands.iter().filter(|c| c.open).count());
            for w in ranked.windows(2) {
                prop_assert!(w[0].total_secs <= w[1].total_secs);
            }
            for r in &ranked {
                prop_assert!(r.distance_m >= 0.0 && r.distance_m <= EARTH_RADIUS_M * std::f64::consts::PI + 1.0);
                prop_assert!((r.total_secs - r.travel_secs - r.wait_secs.unwrap_or(0.0)).abs() < 1e-6);
            }
        }
    }
}
