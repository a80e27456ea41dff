//! # cem-report
//!
//! Reporting for managers: KPIs over the queue's event history, incremental hourly
//! aggregates, a staffing forecast, live branch status with service-level alerts,
//! satisfaction next to the KPIs, and CSV export. Like every domain crate it is pure: it does
//! no IO and never reads the clock (instants come in as arguments); callers read the events
//! from a [`QueueEventStore`](cem_core::QueueEventStore) and the responses from a
//! [`SurveyStore`](cem_core::SurveyStore).
//!
//! - [`kpi`]: the KPI definitions (each written out in its docs); [`Fold`] reads
//!   `(BranchId, &QueueEvent)` in stream order and keeps [`Totals`] per group [`Key`] for the
//!   groupings of its [`KpiSpec`] ([`GroupBy`] branch, service, counter, agent, class, hour of
//!   day, day, weekday); [`Fold::report`] gives a serializable [`Row`] per group. Folds of
//!   disjoint streams merge exactly.
//! - [`incremental`]: the [`HourCube`], a [`Cell`] per branch, service and local hour updated
//!   event by event, from which day, branch and service rows come without reading the
//!   events again (percentiles from a [`WaitHistogram`] with a documented error).
//! - [`projection`]: the [`Projection`] that folds the global history into the hour rows of
//!   a [`ReportStore`](cem_core::ReportStore), a branch-day at a time, so reports over a
//!   year read aggregates in the database instead of events.
//! - [`forecast`]: expected arrivals per hour of the week, the counters an hour needs for a
//!   service level by Erlang C ([`counters_needed`](forecast::counters_needed)), and
//!   [`what_if`](forecast::what_if) on the queue's simulator.
//! - [`live`]: [`LiveStatus`] of a [`BranchQueue`](cem_queue::BranchQueue), [`alerts`] when a
//!   service passes its target (the critical point) or a limit, and the edge-triggered
//!   [`AlertTracker`].
//! - [`satisfaction`]: NPS, CSAT, CES and sentiment from `cem-survey` [`join`]ed to the KPI
//!   rows, hiding a person's scores below the minimum group size.
//! - [`csv`]: RFC 4180 export of the rows.
//! - [`chart`]: SVG charts (with `plotters`) of the wait distribution, arrivals by weekday and
//!   hour, service level over time, and NPS and CSAT trends, in English or Persian.
//! - [`testing`]: event scripts written as data.
//!
//! ```
//! use cem_report::testing::{Step::*, script, service, utc, BRANCH};
//! use cem_report::{Fold, GroupBy, Key, KpiSpec, Window, csv};
//!
//! let t0 = utc("2026-01-05T08:00:00Z");
//! let events = script(t0, &[
//!     (0, Open(1)),
//!     (0, Issue(1, 1)),
//!     (60, Issue(2, 1)),
//!     (120, Call(1, 1)),   // ticket 1 waited 120 s
//!     (130, Start(1, 1)),
//!     (430, Finish(1, 1)), // served in 300 s
//!     (440, Call(2, 1)),   // ticket 2 waited 380 s
//!     (500, NoShow(2, 1)),
//! ]);
//! let window = Window::new(t0, utc("2026-01-05T09:00:00Z"))?;
//! let mut spec = KpiSpec::new(window, [GroupBy::Service]);
//! spec.targets.insert(service(1), 300);
//! let fold = Fold::of(spec, events.iter().map(|e| (BRANCH, e)))?;
//!
//! let rows = fold.report();
//! let row = &rows[0];
//! assert_eq!(row.key, Key::Service(service(1)));
//! assert_eq!((row.arrived, row.called, row.served, row.no_show), (2, 2, 1, 1));
//! assert_eq!(row.wait_mean_secs, Some(250.0));
//! assert_eq!(row.wait_max_secs, Some(380.0));
//! assert_eq!(row.service_time_mean_secs, Some(300.0));
//! assert_eq!(row.service_level_pct, Some(50.0)); // one of two waits within 300 s
//! assert!(csv::to_csv(&rows).starts_with("group,key,arrived,"));
//! # Ok::<(), cem_report::ReportError>(())
//! ```

pub mod chart;
pub mod csv;
mod error;
mod facts;
pub mod forecast;
pub mod incremental;
pub mod kpi;
pub mod live;
pub mod projection;
pub mod satisfaction;
pub mod testing;
pub mod visits;

pub use error::ReportError;
pub use forecast::{ArrivalProfile, ServiceForecast, StaffingHour, WhatIf, WhatIfResult};
pub use incremental::{Cell, CellKey, CubeBy, CubeSpec, HourCube, WaitHistogram};
pub use kpi::{Counts, Fold, GroupBy, Key, KpiSpec, Row, Samples, Totals, Window};
pub use live::{
    Alert, AlertChange, AlertKind, AlertTracker, LiveStatus, ServiceStatus, Thresholds, alerts,
};
pub use projection::Projection;
pub use satisfaction::{SatisfactionRow, join};

/// A map as a sequence of pairs, for keys JSON cannot name.
mod pairs {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(crate) fn serialize<K: Serialize, V: Serialize, S: Serializer>(
        map: &BTreeMap<K, V>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_seq(map.iter())
    }

    pub(crate) fn deserialize<'de, K, V, D>(d: D) -> Result<BTreeMap<K, V>, D::Error>
    where
        K: Deserialize<'de> + Ord,
        V: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        Ok(Vec::<(K, V)>::deserialize(d)?.into_iter().collect())
    }
}
