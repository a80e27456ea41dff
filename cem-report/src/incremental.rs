//! Incremental aggregates: the hourly cube.
//!
//! An [`HourCube`] keeps one [`Cell`] per branch, service and local hour (a date and an hour
//! of the day in the branch's time zone), updated event by event as the history grows, so day,
//! branch and service reports come from the cells ([`HourCube::rows`]) without reading the
//! events again. A cell holds the integer [`Counts`] of the [KPI definitions](crate::kpi)
//! (exact: counts, sums and maxima add up across cells) and a [`WaitHistogram`] of the waits,
//! from which medians and p90s are read with a bounded error. The cube reads the facts exactly
//! as the [`Fold`](crate::Fold) does: a fact falls in the hour of its instant.
//!
//! Counter open and busy time belong to no service, so the cube does not keep them (its
//! utilization is `None`); fold the events for utilization.
//!
//! # The histogram and its error
//! Waits fall in buckets of [`BUCKET_SECS`] seconds from 0 to [`HISTOGRAM_SECS`] (two hours),
//! the last bucket taking every longer wait. The nearest-rank percentile (as in
//! [`Samples::percentile_ms`](crate::Samples::percentile_ms)) is read as the upper end of the
//! bucket that holds the wait of that rank, capped by the exact longest wait: for a wait `w`
//! of that rank in the first two hours the figure lies in `[w, w + 30 s]`, never below `w`;
//! past two hours it is the longest wait.

use std::collections::BTreeMap;

use cem_core::chrono::{Datelike, NaiveDate, Timelike};
use cem_core::chrono_tz::Tz;
use cem_core::{BranchConfig, BranchId, RecordedEvent, ServiceId};
use cem_queue::QueueEvent;
use serde::{Deserialize, Serialize};

use crate::error::ReportError;
use crate::facts::{Measure, Point, Sink, Span, Tracker};
use crate::kpi::{Counts, DEFAULT_PUNCTUALITY_SECS, Key, Row, Samples, nearest_rank, targets_of};

/// Width of a histogram bucket, seconds.
pub const BUCKET_SECS: i64 = 30;
/// The waits the buckets cover, seconds; longer ones share the overflow bucket.
pub const HISTOGRAM_SECS: i64 = 2 * 60 * 60;
/// Buckets below [`HISTOGRAM_SECS`]; the overflow bucket has this index.
pub const BUCKETS: u16 = (HISTOGRAM_SECS / BUCKET_SECS) as u16;

/// Waits counted in fixed buckets (see [the error](self#the-histogram-and-its-error)); only
/// buckets holding waits are stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitHistogram {
    buckets: BTreeMap<u16, u64>,
}

impl WaitHistogram {
    /// The histogram of every wait of `samples`.
    pub fn of(samples: &Samples) -> Self {
        let mut h = Self::default();
        for (ms, n) in samples.iter() {
            *h.buckets.entry(Self::bucket(ms)).or_default() += n;
        }
        h
    }

    /// A histogram of `(bucket, waits)` pairs (a bucket given twice adds up).
    pub fn from_buckets(buckets: impl IntoIterator<Item = (u16, u64)>) -> Self {
        let mut h = Self::default();
        for (b, n) in buckets.into_iter().filter(|&(_, n)| n > 0) {
            *h.buckets.entry(b.min(BUCKETS)).or_default() += n;
        }
        h
    }

    /// The bucket of a wait: `ms / 30 000`, or [`BUCKETS`] for two hours and more.
    pub fn bucket(ms: i64) -> u16 {
        (ms.max(0) / (BUCKET_SECS * 1000)).min(i64::from(BUCKETS)) as u16
    }

    /// Adds a wait.
    pub fn insert(&mut self, ms: i64) {
        *self.buckets.entry(Self::bucket(ms)).or_default() += 1;
    }

    /// Adds another histogram.
    pub fn merge(&mut self, other: &WaitHistogram) {
        for (&b, &n) in &other.buckets {
            *self.buckets.entry(b).or_default() += n;
        }
    }

    /// Waits counted.
    pub fn len(&self) -> u64 {
        self.buckets.values().sum()
    }

    /// Whether no wait was counted.
    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }

    /// Each non-empty bucket with its count, ascending.
    pub fn iter(&self) -> impl Iterator<Item = (u16, u64)> + '_ {
        self.buckets.iter().map(|(&b, &n)| (b, n))
    }

    /// The nearest-rank `pct`-th percentile read from the buckets, capped by the longest wait
    /// `max_ms` (see [the error](self#the-histogram-and-its-error)); `None` without waits.
    pub fn percentile_ms(&self, pct: u32, max_ms: i64) -> Option<i64> {
        let rank = nearest_rank(pct, self.len())?;
        let mut seen = 0;
        let bucket = self.buckets.iter().find_map(|(&b, &n)| {
            seen += n;
            (seen >= rank).then_some(b)
        })?;
        Some(if bucket >= BUCKETS {
            max_ms
        } else {
            ((i64::from(bucket) + 1) * BUCKET_SECS * 1000).min(max_ms)
        })
    }
}

/// Where a cell is: a branch, a service, a local date and hour in the branch's zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CellKey {
    /// Branch.
    pub branch: BranchId,
    /// Service.
    pub service: ServiceId,
    /// Local date.
    pub date: NaiveDate,
    /// Local hour, 0–23 (the two 02:00 hours of a day when clocks go back share one cell).
    pub hour: u8,
}

/// The counts and wait histogram of an hour (or of several, rolled up).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cell {
    /// Counts, as a fold's (open and busy time stay 0).
    pub counts: Counts,
    /// Waits.
    pub histogram: WaitHistogram,
}

impl Cell {
    /// Adds another cell.
    pub fn merge(&mut self, other: &Cell) {
        self.counts.merge(&other.counts);
        self.histogram.merge(&other.histogram);
    }

    /// The figures of the cell; median and p90 from the histogram.
    pub fn row(&self, key: Key) -> Row {
        let max = self.counts.wait_max_ms;
        Row::from_counts(
            key,
            &self.counts,
            self.histogram.percentile_ms(50, max),
            self.histogram.percentile_ms(90, max),
        )
    }
}

/// What a cube needs to know of the branches.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CubeSpec {
    /// Each branch's time zone; UTC for a branch not listed.
    pub zones: BTreeMap<BranchId, Tz>,
    /// Target wait of each service, seconds.
    pub targets: BTreeMap<ServiceId, u32>,
    /// How late after an appointment a first call is still on time, seconds.
    pub punctuality_secs: u32,
}

impl CubeSpec {
    /// The zones and targets of these branches, and the default punctuality.
    pub fn of(configs: &[BranchConfig]) -> Self {
        Self {
            zones: configs
                .iter()
                .map(|c| (c.branch.id, c.branch.time_zone))
                .collect(),
            targets: configs.iter().flat_map(targets_of).collect(),
            punctuality_secs: DEFAULT_PUNCTUALITY_SECS,
        }
    }

    /// The zone of a branch.
    pub fn zone(&self, branch: BranchId) -> Tz {
        self.zones.get(&branch).copied().unwrap_or(Tz::UTC)
    }
}

/// How cells are rolled up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CubeBy {
    /// Into one.
    All,
    /// By branch.
    Branch,
    /// By service.
    Service,
    /// By local date (each branch's own).
    Day,
    /// By local hour of the day.
    HourOfDay,
    /// By local day of the week.
    Weekday,
}

impl CubeBy {
    /// The key of a cell.
    pub fn key(&self, k: &CellKey) -> Key {
        match self {
            Self::All => Key::All,
            Self::Branch => Key::Branch(k.branch),
            Self::Service => Key::Service(k.service),
            Self::Day => Key::Day(k.date),
            Self::HourOfDay => Key::HourOfDay(k.hour),
            Self::Weekday => Key::Weekday(k.date.weekday().number_from_monday() as u8),
        }
    }
}

/// Hourly aggregates per branch and service, updated event by event (see the
/// [module docs](self)).
///
/// Cubes merge ([`merge`](Self::merge)) by adding their cells. Like folds, cubes that read
/// disjoint sets of streams merge exactly; a cube that goes on reading a stream must be the
/// one that read its earlier events (it follows the live tickets).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HourCube {
    spec: CubeSpec,
    tracker: Tracker,
    #[serde(with = "crate::pairs")]
    cells: BTreeMap<CellKey, Cell>,
}

struct CubeSink<'a> {
    spec: &'a CubeSpec,
    cells: &'a mut BTreeMap<CellKey, Cell>,
}

impl Sink for CubeSink<'_> {
    fn point(&mut self, p: Point) {
        let Some(service) = p.dims.service else {
            return;
        };
        let local = p.at.with_timezone(&self.spec.zone(p.dims.branch));
        let key = CellKey {
            branch: p.dims.branch,
            service,
            date: local.date_naive(),
            hour: local.hour() as u8,
        };
        let cell = self.cells.entry(key).or_default();
        cell.counts.add(
            &p.dims,
            p.measure,
            &self.spec.targets,
            self.spec.punctuality_secs,
        );
        if let Measure::Called { wait_ms } = p.measure {
            cell.histogram.insert(wait_ms);
        }
    }

    fn span(&mut self, _: Span) {}
}

impl HourCube {
    /// An empty cube.
    pub fn new(spec: CubeSpec) -> Self {
        Self {
            spec,
            tracker: Tracker::default(),
            cells: BTreeMap::new(),
        }
    }

    /// The spec.
    pub fn spec(&self) -> &CubeSpec {
        &self.spec
    }

    /// Reads the next event of `branch`'s stream.
    pub fn apply(&mut self, branch: BranchId, event: &QueueEvent) {
        let mut sink = CubeSink {
            spec: &self.spec,
            cells: &mut self.cells,
        };
        self.tracker.apply(branch, event, &mut sink);
    }

    /// Reads the next stored event.
    ///
    /// # Errors
    /// [`ReportError::Decode`] when it is not a queue event; the cube is unchanged.
    pub fn apply_recorded(&mut self, event: &RecordedEvent) -> Result<(), ReportError> {
        let e = cem_queue::service::decode(event)?;
        self.apply(event.branch, &e);
        Ok(())
    }

    /// Events skipped because they did not fit what the cube knew.
    pub fn ignored(&self) -> u64 {
        self.tracker.ignored()
    }

    /// Adds another cube of the same spec, over other streams.
    ///
    /// # Errors
    /// [`ReportError::SpecMismatch`] when the specs differ; nothing is changed.
    pub fn merge(&mut self, other: &HourCube) -> Result<(), ReportError> {
        if self.spec != other.spec {
            return Err(ReportError::SpecMismatch);
        }
        self.tracker.absorb(&other.tracker);
        for (k, c) in &other.cells {
            self.cells.entry(*k).or_default().merge(c);
        }
        Ok(())
    }

    /// Every cell, by key.
    pub fn cells(&self) -> &BTreeMap<CellKey, Cell> {
        &self.cells
    }

    /// The cells `filter` keeps, rolled up by `by`.
    pub fn rollup(&self, by: CubeBy, filter: impl Fn(&CellKey) -> bool) -> BTreeMap<Key, Cell> {
        let mut out: BTreeMap<Key, Cell> = BTreeMap::new();
        for (k, c) in self.cells.iter().filter(|(k, _)| filter(k)) {
            out.entry(by.key(k)).or_default().merge(c);
        }
        out
    }

    /// The rows of the cells `filter` keeps, rolled up by `by`, sorted by key.
    pub fn rows(&self, by: CubeBy, filter: impl Fn(&CellKey) -> bool) -> Vec<Row> {
        self.rollup(by, filter)
            .iter()
            .map(|(k, c)| c.row(*k))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_percentiles_are_bucket_ends_capped_by_the_max() {
        let mut h = WaitHistogram::default();
        // 10 s, 40 s, 70 s, 3 h.
        for ms in [10_000, 40_000, 70_000, 3 * 3_600_000] {
            h.insert(ms);
        }
        assert_eq!(h.percentile_ms(25, 3 * 3_600_000), Some(30_000));
        assert_eq!(h.percentile_ms(50, 3 * 3_600_000), Some(60_000));
        assert_eq!(h.percentile_ms(75, 3 * 3_600_000), Some(90_000));
        // The overflow bucket reads as the longest wait.
        assert_eq!(h.percentile_ms(100, 3 * 3_600_000), Some(3 * 3_600_000));
        // Capped by the max: one wait of 12 s reads as 12 s, not 30 s.
        let mut one = WaitHistogram::default();
        one.insert(12_000);
        assert_eq!(one.percentile_ms(90, 12_000), Some(12_000));
        assert_eq!(WaitHistogram::default().percentile_ms(50, 0), None);
        assert_eq!(WaitHistogram::bucket(7_199_999), BUCKETS - 1);
        assert_eq!(WaitHistogram::bucket(7_200_000), BUCKETS);
    }
}
