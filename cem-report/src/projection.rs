//! The report projection: the global queue history folded into hour rows, branch-day by
//! branch-day, for a [`ReportStore`](cem_core::ReportStore).
//!
//! A [`Projection`] follows the global history in position order from a cursor (the last
//! position it folded). For each branch it keeps the [`HourCube`] of the branch's current
//! local business day, a fresh cube each day, so a branch-day's rows are exactly what a
//! [`Fold`](crate::Fold) reading that day's events from its start counts (a ticket issued on
//! an earlier day is ignored by both). [`Projection::batch`] gives every branch-day changed
//! since the last write, whole, with the cursor move, for one
//! [`write_report_days`](cem_core::ReportStore::write_report_days); replacing whole days keeps
//! the write idempotent and lets a later event (a recall, a late finish) change an earlier
//! hour of the day.
//!
//! # After a restart
//! A projection made from a stored cursor knows no day yet. Before the first event after the
//! cursor of a branch ([`Projection::needs_day`] says so), the caller replays that branch's
//! events from the start of the event's local day up to the cursor with
//! [`Projection::replay`]: they rebuild the tickets and the cube of the day and move nothing.
//! The day is then written whole again with the next batch.
//!
//! An event dated before its branch's current day (a clock set back) is skipped and counted in
//! [`Projection::ignored`]: the day it belongs to is no longer in memory.

use std::collections::{BTreeMap, BTreeSet};

use cem_core::chrono::NaiveDate;
use cem_core::{BranchId, HourFigures, HourRow, RecordedEvent, ReportBatch, ReportInputError};

use crate::incremental::{Cell, CubeSpec, HourCube, WaitHistogram};
use crate::kpi::Counts;

/// The name of the cursor the server's projection keeps.
pub const CURSOR: &str = "hourly_kpis";

/// A branch's day in memory.
#[derive(Debug, Clone)]
struct Day {
    date: NaiveDate,
    cube: HourCube,
}

/// Folds the global history into hour rows (see the [module docs](self)).
#[derive(Debug, Clone)]
pub struct Projection {
    spec: CubeSpec,
    /// The position of the last event applied.
    position: u64,
    /// The cursor value the store holds (the position of the last batch written).
    written: u64,
    days: BTreeMap<BranchId, Day>,
    /// Days changed since the last batch: current ones, and past ones kept until written.
    dirty: BTreeSet<(BranchId, NaiveDate)>,
    finished: BTreeMap<(BranchId, NaiveDate), HourCube>,
    ignored: u64,
}

impl From<&Cell> for HourFigures {
    fn from(c: &Cell) -> Self {
        let k = &c.counts;
        HourFigures {
            arrived: k.arrived,
            transferred_in: k.transferred_in,
            called: k.called,
            served: k.served,
            no_show: k.no_show,
            cancelled: k.cancelled,
            transferred_out: k.transferred_out,
            wait_ms: k.wait_ms,
            wait_max_ms: k.wait_max_ms,
            with_target: k.with_target,
            within_target: k.within_target,
            service_ms: k.service_ms,
            appointments: k.appointments,
            appointments_on_time: k.appointments_on_time,
            lateness_ms: k.lateness_ms,
            waits: c.histogram.iter().collect(),
        }
    }
}

impl From<&HourFigures> for Cell {
    fn from(f: &HourFigures) -> Self {
        Cell {
            counts: Counts {
                arrived: f.arrived,
                transferred_in: f.transferred_in,
                called: f.called,
                served: f.served,
                no_show: f.no_show,
                cancelled: f.cancelled,
                transferred_out: f.transferred_out,
                wait_ms: f.wait_ms,
                wait_max_ms: f.wait_max_ms,
                with_target: f.with_target,
                within_target: f.within_target,
                service_ms: f.service_ms,
                appointments: f.appointments,
                appointments_on_time: f.appointments_on_time,
                lateness_ms: f.lateness_ms,
                ..Counts::default()
            },
            histogram: WaitHistogram::from_buckets(f.waits.iter().copied()),
        }
    }
}

/// The rows of a cube's cells.
pub fn rows_of(cube: &HourCube) -> impl Iterator<Item = HourRow> + '_ {
    cube.cells().iter().map(|(k, c)| HourRow {
        key: cem_core::HourKey {
            branch: k.branch,
            service: k.service,
            date: k.date,
            hour: k.hour,
        },
        figures: c.into(),
    })
}

impl Projection {
    /// A projection resuming after position `cursor` (0: from the beginning), with the zones
    /// and targets of `spec`.
    pub fn new(spec: CubeSpec, cursor: u64) -> Self {
        Self {
            spec,
            position: cursor,
            written: cursor,
            days: BTreeMap::new(),
            dirty: BTreeSet::new(),
            finished: BTreeMap::new(),
            ignored: 0,
        }
    }

    /// The spec.
    pub fn spec(&self) -> &CubeSpec {
        &self.spec
    }

    /// The position of the last event applied.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Events skipped: dated before their branch's day, not queue events, or not fitting
    /// what the day's cube knew.
    pub fn ignored(&self) -> u64 {
        self.ignored + self.days.values().map(|d| d.cube.ignored()).sum::<u64>()
    }

    /// The local date of `event` in its branch's zone.
    pub fn date_of(&self, event: &RecordedEvent) -> NaiveDate {
        let tz = self.spec.zone(event.branch);
        event.at.with_timezone(&tz).date_naive()
    }

    /// The day whose events up to the cursor must be [replayed](Self::replay) before
    /// `event` is [applied](Self::apply): `Some(date)` when the projection holds no day of the
    /// event's branch yet and the event is not the first of the history.
    pub fn needs_day(&self, event: &RecordedEvent) -> Option<NaiveDate> {
        (self.written > 0 && !self.days.contains_key(&event.branch)).then(|| self.date_of(event))
    }

    /// The cube of `branch`'s day `date`, made fresh when the branch is on an earlier day
    /// (that day is kept until written); `None` when the branch is on a later day.
    fn day(&mut self, branch: BranchId, date: NaiveDate) -> Option<&mut HourCube> {
        match self.days.get(&branch) {
            Some(d) if d.date > date => return None,
            Some(d) if d.date == date => {}
            _ => {
                let spec = CubeSpec {
                    zones: [(branch, self.spec.zone(branch))].into(),
                    ..self.spec.clone()
                };
                let fresh = Day {
                    date,
                    cube: HourCube::new(spec),
                };
                if let Some(old) = self.days.insert(branch, fresh) {
                    self.ignored += old.cube.ignored();
                    if self.dirty.contains(&(branch, old.date)) {
                        self.finished.insert((branch, old.date), old.cube);
                    }
                }
            }
        }
        self.days.get_mut(&branch).map(|d| &mut d.cube)
    }

    /// Reads an event at or before the cursor again, after a restart: it rebuilds its day's
    /// state and changes no row by itself.
    pub fn replay(&mut self, event: &RecordedEvent) {
        let date = self.date_of(event);
        match self.day(event.branch, date) {
            Some(cube) => {
                if cube.apply_recorded(event).is_err() {
                    self.ignored += 1;
                }
            }
            None => self.ignored += 1,
        }
    }

    /// Reads the next event of the global history; events at or before the position already
    /// applied are skipped (a page read twice).
    pub fn apply(&mut self, event: &RecordedEvent) {
        if event.position <= self.position {
            return;
        }
        self.position = event.position;
        let date = self.date_of(event);
        let applied = match self.day(event.branch, date) {
            Some(cube) => cube.apply_recorded(event).is_ok(),
            None => false,
        };
        if applied {
            self.dirty.insert((event.branch, date));
        } else {
            self.ignored += 1;
        }
    }

    /// The write that brings the store up to [`position`](Self::position): every day changed
    /// since the last write, whole, and the cursor from its stored value; `None` when nothing
    /// was read since.
    ///
    /// # Errors
    /// [`ReportInputError`] for an unnamed cursor.
    pub fn batch(&self, cursor: &str) -> Result<Option<ReportBatch>, ReportInputError> {
        if self.position == self.written {
            return Ok(None);
        }
        let mut rows = Vec::new();
        for &(branch, date) in &self.dirty {
            let cube = match self.days.get(&branch) {
                Some(d) if d.date == date => Some(&d.cube),
                _ => self.finished.get(&(branch, date)),
            };
            rows.extend(cube.into_iter().flat_map(rows_of));
        }
        ReportBatch::new(
            cursor,
            self.written,
            self.position,
            self.dirty.iter().copied(),
            rows,
        )
        .map(Some)
    }

    /// Records that the last [`batch`](Self::batch) was written: past days leave memory.
    pub fn written(&mut self, batch: &ReportBatch) {
        self.written = batch.to();
        for day in batch.days() {
            self.dirty.remove(day);
            self.finished.remove(day);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{BRANCH, Step::*, script, service, utc};
    use crate::{CubeBy, Fold, GroupBy, KpiSpec, Window};
    use cem_core::chrono::{DateTime, Utc};
    use cem_core::{HourKey, ReportBy, ReportKey};

    /// Events of two days (a ticket issued late on the first is called on the second),
    /// recorded with positions.
    fn history() -> Vec<RecordedEvent> {
        let day1 = script(
            utc("2026-03-02T08:00:00Z"),
            &[
                (0, Open(1)),
                (0, Issue(1, 1)),
                (60, Issue(2, 1)),
                (120, Call(1, 1)),
                (130, Start(1, 1)),
                (430, Finish(1, 1)),
                (3_700, Call(2, 1)),
                (3_710, Recall(2, 1)),
                (3_800, Finish(2, 1)),
                (57_000, Issue(3, 1)),
            ],
        );
        let day2 = script(
            utc("2026-03-03T08:00:00Z"),
            &[
                (0, Call(3, 1)),
                (10, Finish(3, 1)),
                (20, Issue(4, 1)),
                (50, Call(4, 1)),
                (90, Finish(4, 1)),
            ],
        );
        crate::testing::recorded(BRANCH, day1.into_iter().chain(day2))
    }

    fn spec() -> CubeSpec {
        let mut spec = CubeSpec::default();
        spec.targets.insert(service(1), 300);
        spec
    }

    /// The rows a store would hold after the batches.
    fn stored(batches: &[ReportBatch]) -> BTreeMap<HourKey, HourFigures> {
        let mut rows = BTreeMap::new();
        for b in batches {
            rows.retain(|k: &HourKey, _| !b.days().contains(&(k.branch, k.date)));
            rows.extend(b.rows().iter().map(|r| (r.key, r.figures.clone())));
        }
        rows
    }

    fn fold_rows(events: &[RecordedEvent], from: &str, to: &str) -> Vec<crate::Row> {
        let window = Window::new(utc(from), utc(to)).unwrap();
        let mut spec = KpiSpec::new(window, [GroupBy::Service]);
        spec.targets.insert(service(1), 300);
        let mut fold = Fold::new(spec).unwrap();
        let start: DateTime<Utc> = window.from;
        for e in events.iter().filter(|e| e.at >= start && e.at < window.to) {
            fold.apply_recorded(e).unwrap();
        }
        fold.report()
    }

    #[test]
    fn batches_replace_whole_days_and_equal_a_fold_of_each_day() {
        let events = history();
        let mut p = Projection::new(spec(), 0);
        let mut batches = Vec::new();
        for chunk in events.chunks(4) {
            for e in chunk {
                p.apply(e);
            }
            let b = p.batch(CURSOR).unwrap().unwrap();
            p.written(&b);
            batches.push(b);
        }
        assert_eq!(p.batch(CURSOR).unwrap(), None, "nothing new");
        assert_eq!(batches.last().unwrap().to(), events.len() as u64);
        // The cursor moves from each batch's end to the next's.
        for w in batches.windows(2) {
            assert_eq!(w[0].to(), w[1].expected());
        }
        let rows = stored(&batches);
        for (day, from, to) in [
            ("2026-03-02", "2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z"),
            ("2026-03-03", "2026-03-03T00:00:00Z", "2026-03-04T00:00:00Z"),
        ] {
            let date: NaiveDate = day.parse().unwrap();
            let mut cell = Cell::default();
            for (_, f) in rows.iter().filter(|(k, _)| k.date == date) {
                cell.merge(&Cell::from(f));
            }
            let mut expected = fold_rows(&events, from, to).remove(0);
            let got = cell.row(expected.key);
            // Percentiles from the histogram are within 30 s above the exact ones.
            for (h, x) in [
                (got.wait_median_secs, expected.wait_median_secs),
                (got.wait_p90_secs, expected.wait_p90_secs),
            ] {
                let (h, x) = (h.unwrap(), x.unwrap());
                assert!(x <= h && h <= x + 30.0, "{h} vs {x}");
            }
            expected.wait_median_secs = got.wait_median_secs;
            expected.wait_p90_secs = got.wait_p90_secs;
            // The cube keeps no counter time.
            expected.busy_secs = 0.0;
            expected.utilization_pct = None;
            assert_eq!(got, expected, "{day}");
        }
        // Ticket 3, issued on day 1 and called on day 2, is ignored by both.
        let day2: NaiveDate = "2026-03-03".parse().unwrap();
        let called: u64 = rows
            .iter()
            .filter(|(k, _)| k.date == day2)
            .map(|(_, f)| f.called)
            .sum();
        assert_eq!(called, 1);
    }

    #[test]
    fn a_restart_replays_the_day_up_to_the_cursor_and_writes_the_same_rows() {
        let events = history();
        let mut straight = Projection::new(spec(), 0);
        for e in &events {
            straight.apply(e);
        }
        let whole = straight.batch(CURSOR).unwrap().unwrap();
        for cut in 1..events.len() {
            let mut first = Projection::new(spec(), 0);
            for e in &events[..cut] {
                first.apply(e);
            }
            let b1 = first.batch(CURSOR).unwrap().unwrap();
            // A new projection from the stored cursor.
            let mut again = Projection::new(spec(), b1.to());
            let mut batches = vec![b1];
            for e in &events[cut..] {
                if let Some(date) = again.needs_day(e) {
                    let day: Vec<_> = (events[..cut].iter())
                        .filter(|o| again.date_of(o) == date)
                        .collect();
                    for old in day {
                        again.replay(old);
                    }
                }
                again.apply(e);
            }
            let b2 = again.batch(CURSOR).unwrap().unwrap();
            assert_eq!(b2.expected(), cut as u64);
            batches.push(b2);
            assert_eq!(
                stored(&batches),
                stored(std::slice::from_ref(&whole)),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn cells_and_figures_convert_both_ways() {
        let events = history();
        let mut cube = HourCube::new(spec());
        for e in &events {
            cube.apply_recorded(e).unwrap();
        }
        for (k, c) in cube.cells() {
            let f = HourFigures::from(c);
            assert_eq!(&Cell::from(&f), c, "{k:?}");
        }
        let by_day = cube.rows(CubeBy::Day, |_| true);
        assert_eq!(by_day.len(), 2);
        let key = HourKey {
            branch: BRANCH,
            service: service(1),
            date: "2026-03-02".parse().unwrap(),
            hour: 8,
        };
        assert_eq!(ReportBy::Hour.key(&key), ReportKey::Hour(8));
    }
}
