//! Staffing forecast: expected arrivals per hour of the week, and the counters they need.
//!
//! # Method
//! - **Expected arrivals** of a (weekday, local hour) = the tickets issued in that hour over
//!   the history window, ÷ the number of days of that weekday in the window: the mean over
//!   the weeks of the window ([`ArrivalProfile`]). The window is whole local dates
//!   `[from, to)`; a weekday the window does not hold has no expectation (`None`), and a day
//!   when clocks go back counts its two 02:00 hours as one. Four to eight weeks make a good
//!   window: long enough to smooth a week's accidents, short enough to follow a trend.
//! - **Mean service time** of a service = its finished services' mean over the window
//!   ([`mean_service_secs`]), or the service's configured `expected_service_secs` when the
//!   window finished none.
//! - **Counters needed** in an hour = the fewest counters with which an M/M/c queue with those
//!   arrivals and that mean service time calls the asked share of customers within the
//!   service's target wait ([`counters_needed`], by Erlang C from
//!   [`cem_queue::theory`]). Each service is staffed on its own, as if its counters served
//!   it alone: counters shared between services need fewer in total than the sum
//!   ([`total_counters`]), which is an upper bound.
//! - **What if**: [`what_if`] runs the queue's own simulator ([`cem_queue::sim`]), with the
//!   real scheduler, for one hour's arrival rate held steady and a number of counters, and
//!   reports the service level it finds beside Erlang C's.

use std::collections::BTreeMap;

use cem_core::chrono::{Datelike, Duration, NaiveDate};
use cem_core::{BranchConfig, BranchId, CallingPolicy, ServiceId};
use cem_queue::sim::{self, ArrivalSpec, ClassSpec, CounterSpec, Dist, Scenario, ServiceSpec};
use cem_queue::theory;
use serde::{Deserialize, Serialize};

use crate::error::ReportError;
use crate::incremental::{CellKey, CubeBy, HourCube};
use crate::kpi::Key;

/// Arrivals per (weekday, local hour) over a window of whole local dates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArrivalProfile {
    /// Tickets issued, by weekday (0 = Monday … 6 = Sunday) and hour.
    pub arrivals: [[u64; 24]; 7],
    /// Days of each weekday in the window.
    pub days: [u32; 7],
}

impl ArrivalProfile {
    /// The arrivals of the cube's cells that `filter` keeps, dated in `[from, to)`.
    ///
    /// # Errors
    /// [`ReportError::OutOfRange`] when `to` is not after `from`.
    pub fn from_cube(
        cube: &HourCube,
        from: NaiveDate,
        to: NaiveDate,
        filter: impl Fn(&CellKey) -> bool,
    ) -> Result<Self, ReportError> {
        if to <= from {
            return Err(ReportError::OutOfRange {
                field: "history window",
                expected: "at least one day long",
                value: (to - from).num_days() as f64,
            });
        }
        let mut p = Self {
            arrivals: [[0; 24]; 7],
            days: [0; 7],
        };
        let mut d = from;
        while d < to {
            p.days[d.weekday().num_days_from_monday() as usize] += 1;
            d += Duration::days(1);
        }
        for (k, c) in cube.cells() {
            if k.date >= from && k.date < to && filter(k) {
                let w = k.date.weekday().num_days_from_monday() as usize;
                p.arrivals[w][usize::from(k.hour.min(23))] += c.counts.arrived;
            }
        }
        Ok(p)
    }

    /// Expected arrivals in an hour of a weekday (0 = Monday), the mean over the window's
    /// days of that weekday; `None` when the window holds none.
    pub fn expected(&self, weekday: usize, hour: usize) -> Option<f64> {
        let days = *self.days.get(weekday)?;
        let n = *self.arrivals.get(weekday)?.get(hour)?;
        (days > 0).then(|| n as f64 / f64::from(days))
    }
}

/// The mean service time of the cube's cells that `filter` keeps, dated in `[from, to)`,
/// seconds; `None` when none finished.
pub fn mean_service_secs(
    cube: &HourCube,
    from: NaiveDate,
    to: NaiveDate,
    filter: impl Fn(&CellKey) -> bool,
) -> Option<f64> {
    let all = cube.rollup(CubeBy::All, |k| k.date >= from && k.date < to && filter(k));
    let c = &all.get(&Key::All)?.counts;
    (c.served > 0).then(|| c.service_ms as f64 / c.served as f64 / 1000.0)
}

fn check(
    field: &'static str,
    expected: &'static str,
    value: f64,
    ok: bool,
) -> Result<(), ReportError> {
    if ok && value.is_finite() {
        Ok(())
    } else {
        Err(ReportError::OutOfRange {
            field,
            expected,
            value,
        })
    }
}

/// The fewest counters that call `service_level` (a share, in (0, 1)) of the customers
/// within `target_wait_secs`, for `arrivals_per_hour` customers an hour served in
/// `mean_service_secs` on average, by Erlang C; 0 without arrivals.
///
/// # Errors
/// [`ReportError::OutOfRange`] for negative arrivals or target, a mean service time that is
/// not positive, or a service level outside (0, 1) (a level of 1 is never reached).
pub fn counters_needed(
    arrivals_per_hour: f64,
    mean_service_secs: f64,
    target_wait_secs: f64,
    service_level: f64,
) -> Result<u32, ReportError> {
    check(
        "arrivals_per_hour",
        "at least 0",
        arrivals_per_hour,
        arrivals_per_hour >= 0.0,
    )?;
    check(
        "mean_service_secs",
        "positive",
        mean_service_secs,
        mean_service_secs > 0.0,
    )?;
    check(
        "target_wait_secs",
        "at least 0",
        target_wait_secs,
        target_wait_secs >= 0.0,
    )?;
    check(
        "service_level",
        "in (0, 1)",
        service_level,
        service_level > 0.0 && service_level < 1.0,
    )?;
    if arrivals_per_hour == 0.0 {
        return Ok(0);
    }
    Ok(theory::servers_for_service_level(
        arrivals_per_hour / 3600.0,
        mean_service_secs,
        target_wait_secs,
        service_level,
    ))
}

/// The staffing of one hour of the week.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StaffingHour {
    /// Day of the week, 1 (Monday) to 7 (Sunday).
    pub weekday: u8,
    /// Local hour, 0–23.
    pub hour: u8,
    /// Expected arrivals in the hour.
    pub arrivals: f64,
    /// Offered load, erlangs (arrivals × mean service time ÷ one hour).
    pub load_erlangs: f64,
    /// Counters needed.
    pub counters: u32,
    /// The share called within the target with that many counters, by Erlang C (1 without
    /// arrivals).
    pub service_level: f64,
}

/// The counters each hour of the week needs; hours the window does not hold are left out.
///
/// # Errors
/// As [`counters_needed`].
pub fn staffing(
    profile: &ArrivalProfile,
    mean_service_secs: f64,
    target_wait_secs: f64,
    service_level: f64,
) -> Result<Vec<StaffingHour>, ReportError> {
    let mut out = Vec::new();
    for weekday in 0..7 {
        for hour in 0..24 {
            let Some(arrivals) = profile.expected(weekday, hour) else {
                continue;
            };
            let counters =
                counters_needed(arrivals, mean_service_secs, target_wait_secs, service_level)?;
            let rate = arrivals / 3600.0;
            out.push(StaffingHour {
                weekday: weekday as u8 + 1,
                hour: hour as u8,
                arrivals,
                load_erlangs: rate * mean_service_secs,
                counters,
                service_level: if counters == 0 {
                    1.0
                } else {
                    theory::mmc_service_level(counters, rate, mean_service_secs, target_wait_secs)
                },
            });
        }
    }
    Ok(out)
}

/// The forecast of one service of a branch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceForecast {
    /// Service.
    pub service: ServiceId,
    /// Mean service time used, seconds.
    pub mean_service_secs: f64,
    /// Whether it came from the history (or from the configured expectation).
    pub from_history: bool,
    /// The service's target wait, seconds.
    pub target_wait_secs: u32,
    /// The staffing of each hour of the week.
    pub hours: Vec<StaffingHour>,
}

/// The forecast of every service of a branch from its history in the cube over the local
/// dates `[from, to)`, to call `service_level` (a share, in (0, 1)) within each service's
/// target.
///
/// # Errors
/// As [`ArrivalProfile::from_cube`] and [`counters_needed`].
pub fn forecast(
    cube: &HourCube,
    config: &BranchConfig,
    from: NaiveDate,
    to: NaiveDate,
    service_level: f64,
) -> Result<Vec<ServiceForecast>, ReportError> {
    let branch: BranchId = config.branch.id;
    config
        .services
        .iter()
        .map(|s| {
            let of = |k: &CellKey| k.branch == branch && k.service == s.id;
            let profile = ArrivalProfile::from_cube(cube, from, to, of)?;
            let history = mean_service_secs(cube, from, to, of);
            let mean = history.unwrap_or(f64::from(s.expected_service_secs.max(1)));
            Ok(ServiceForecast {
                service: s.id,
                mean_service_secs: mean,
                from_history: history.is_some(),
                target_wait_secs: s.target_wait_secs,
                hours: staffing(&profile, mean, f64::from(s.target_wait_secs), service_level)?,
            })
        })
        .collect()
}

/// The counters each (weekday, hour) needs over all the services: the sum of their needs,
/// an upper bound when counters serve several services.
pub fn total_counters(forecasts: &[ServiceForecast]) -> BTreeMap<(u8, u8), u32> {
    let mut out = BTreeMap::new();
    for f in forecasts {
        for h in &f.hours {
            *out.entry((h.weekday, h.hour)).or_default() += h.counters;
        }
    }
    out
}

/// A what-if question: this many counters for a steady arrival rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WhatIf {
    /// Arrivals an hour.
    pub arrivals_per_hour: f64,
    /// Counters open.
    pub counters: u32,
    /// Mean service time, seconds (exponential).
    pub mean_service_secs: f64,
    /// Target wait, seconds.
    pub target_wait_secs: u32,
    /// Customers simulated; the first tenth warm the queue up and are not counted.
    pub customers: u64,
    /// Seed of the simulation (the same seed gives the same answer).
    pub seed: u64,
}

impl WhatIf {
    /// The question for 10 000 customers with seed 1.
    pub fn new(
        arrivals_per_hour: f64,
        counters: u32,
        mean_service_secs: f64,
        target_wait_secs: u32,
    ) -> Self {
        Self {
            arrivals_per_hour,
            counters,
            mean_service_secs,
            target_wait_secs,
            customers: 10_000,
            seed: 1,
        }
    }
}

/// What the simulator found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WhatIfResult {
    /// Share called within the target (0–1), as the simulator counts it.
    pub service_level: f64,
    /// Erlang C's answer to the same question (0 when the load is too high for the counters).
    pub theory_service_level: f64,
    /// Mean wait, seconds.
    pub wait_mean_secs: f64,
    /// 90th percentile wait, seconds.
    pub wait_p90_secs: f64,
    /// Mean utilization of the counters (0–1).
    pub utilization: f64,
}

/// Runs the simulator on a what-if question: one service, one class, exponential service
/// times, the counters open all the time, and Poisson arrivals at the given rate.
///
/// # Errors
/// [`ReportError::OutOfRange`] for no arrivals, no counters, no customers or a mean service
/// time that is not positive; [`ReportError::Simulation`] when the simulator refuses.
pub fn what_if(q: &WhatIf) -> Result<WhatIfResult, ReportError> {
    check(
        "arrivals_per_hour",
        "positive",
        q.arrivals_per_hour,
        q.arrivals_per_hour > 0.0,
    )?;
    check(
        "mean_service_secs",
        "positive",
        q.mean_service_secs,
        q.mean_service_secs > 0.0,
    )?;
    check(
        "counters",
        "at least 1",
        f64::from(q.counters),
        q.counters > 0,
    )?;
    check(
        "customers",
        "at least 1",
        q.customers as f64,
        q.customers > 0,
    )?;
    let scenario = Scenario {
        seed: q.seed,
        customers: q.customers,
        warmup: q.customers / 10,
        estimate: false,
        policy: CallingPolicy::Strict,
        classes: vec![ClassSpec {
            code: "all".into(),
            rank: 1,
            weight: 1,
        }],
        services: vec![ServiceSpec {
            prefix: "S".into(),
            service_time: Dist::Exponential {
                mean_secs: q.mean_service_secs,
            },
            target_wait_secs: q.target_wait_secs,
            max_wait_secs: None,
        }],
        counters: vec![CounterSpec {
            count: q.counters,
            services: vec!["S".into()],
            ranks: None,
            classes: None,
            policy: None,
            shifts: vec![],
        }],
        arrivals: vec![ArrivalSpec {
            service: "S".into(),
            class: "all".into(),
            per_hour: q.arrivals_per_hour,
            hours: None,
        }],
        trace: vec![],
        patience: None,
        queue: Default::default(),
    };
    let report = sim::run(&scenario)?;
    let utilization = if report.counters.is_empty() {
        0.0
    } else {
        report.counters.iter().map(|c| c.utilization).sum::<f64>() / report.counters.len() as f64
    };
    Ok(WhatIfResult {
        service_level: report.overall.service_level,
        theory_service_level: theory::mmc_service_level(
            q.counters,
            q.arrivals_per_hour / 3600.0,
            q.mean_service_secs,
            f64::from(q.target_wait_secs),
        ),
        wait_mean_secs: report.overall.wait_mean,
        wait_p90_secs: report.overall.wait_p90,
        utilization,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erlang_c_of_the_textbook_table() {
        // 2 erlangs on 3 agents: P(wait) = 4/9.
        assert!((theory::erlang_c(3, 2.0) - 4.0 / 9.0).abs() < 1e-12);
        // … on 4 agents: 4/23.
        assert!((theory::erlang_c(4, 2.0) - 4.0 / 23.0).abs() < 1e-12);
    }

    #[test]
    fn counters_for_two_erlangs() {
        // 40 an hour of 180 s = 2 erlangs. With 3 counters, 1 − 4/9 · e^(−20/180) ≈ 0.6023
        // are called within 20 s; with 4, 1 − 4/23 · e^(−40/180) ≈ 0.8607.
        let sl3 = theory::mmc_service_level(3, 40.0 / 3600.0, 180.0, 20.0);
        let sl4 = theory::mmc_service_level(4, 40.0 / 3600.0, 180.0, 20.0);
        assert!((sl3 - (1.0 - 4.0 / 9.0 * (-20.0f64 / 180.0).exp())).abs() < 1e-12);
        assert!((sl3 - 0.6023).abs() < 1e-4, "{sl3}");
        assert!((sl4 - 0.8607).abs() < 1e-4, "{sl4}");
        assert_eq!(counters_needed(40.0, 180.0, 20.0, 0.8).unwrap(), 4);
        assert_eq!(counters_needed(40.0, 180.0, 20.0, 0.6).unwrap(), 3);
        // The classic call-centre answer: 100 calls an hour of 3 minutes, 80 % in 20 s → 8.
        assert_eq!(counters_needed(100.0, 180.0, 20.0, 0.8).unwrap(), 8);
        assert_eq!(counters_needed(0.0, 180.0, 20.0, 0.8).unwrap(), 0);
    }

    #[test]
    fn impossible_levels_are_refused() {
        for (a, m, t, sl) in [
            (10.0, 180.0, 20.0, 1.0),
            (10.0, 180.0, 20.0, 0.0),
            (10.0, 0.0, 20.0, 0.8),
            (-1.0, 180.0, 20.0, 0.8),
            (f64::NAN, 180.0, 20.0, 0.8),
        ] {
            assert!(
                matches!(
                    counters_needed(a, m, t, sl),
                    Err(ReportError::OutOfRange { .. })
                ),
                "{a} {m} {t} {sl}"
            );
        }
    }

    #[test]
    fn the_simulator_agrees_with_erlang_c() {
        // 2 erlangs on 3 counters, 20 s target: Erlang C says 0.602.
        let mut q = WhatIf::new(40.0, 3, 180.0, 20);
        q.customers = 40_000;
        let r = what_if(&q).unwrap();
        assert!((r.theory_service_level - 0.6023).abs() < 1e-4);
        assert!(
            (r.service_level - r.theory_service_level).abs() < 0.03,
            "{r:?}"
        );
        // Utilization ρ = 2/3.
        assert!((r.utilization - 2.0 / 3.0).abs() < 0.03, "{r:?}");
        // A fourth counter lifts the level.
        q.counters = 4;
        assert!(what_if(&q).unwrap().service_level > r.service_level);
        assert!(what_if(&WhatIf::new(40.0, 0, 180.0, 20)).is_err());
    }
}
