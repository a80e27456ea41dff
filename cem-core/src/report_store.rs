//! [`ReportStore`]: hourly report aggregates kept by a projection of the queue history, and
//! the SQL-side aggregation reports read them with.
//!
//! A projection (`cem-report`'s hour cube, run by the server) folds the global history of
//! queue events into one [`HourRow`] per branch, service, local date and local hour, and
//! records how far it has read in a named cursor (the last global event position folded).
//! A write ([`ReportStore::write_report_days`]) *replaces* every row of the branch-days it
//! names and moves the cursor from an expected value to a new one, all in one transaction:
//! replacing whole branch-days instead of adding deltas keeps a write idempotent (a retry or
//! a second projector writes the same rows) and lets a later event change an earlier hour of
//! the day. The cursor's compare-and-set is the store's own rule: of two projectors writing
//! from one cursor value, one wins and the other gets a [`StoreError::Conflict`] with
//! [`CURSOR_MOVED`], its rows unwritten, so no fact is counted twice and the cursor never
//! moves back.
//!
//! Reads ([`ReportStore::report`]) sum the rows of a range of local hours over a set of
//! branches, grouped by branch, service, date, hour of the day or weekday, in the store
//! (`SUM`/`MAX … GROUP BY` in the SQL adapters): a report reads one row per group, not one
//! per hour, and never an event.

use std::collections::BTreeSet;
use std::fmt;

use async_trait::async_trait;
use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::{BranchId, ServiceId, StoreError};

/// The `what` of the [`StoreError::Conflict`] a write from a cursor value that has moved
/// gives.
pub const CURSOR_MOVED: &str = "report_cursor_moved";

/// Where an hour row is: a branch, a service, a local date and hour in the branch's zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct HourKey {
    /// Branch.
    pub branch: BranchId,
    /// Service.
    pub service: ServiceId,
    /// Local date.
    pub date: NaiveDate,
    /// Local hour, 0–23.
    pub hour: u8,
}

/// The additive figures of an hour (or of a group of hours): counts and sums add up, the
/// longest wait is the maximum, and the waits histogram adds bucket by bucket. What each
/// means is `cem-report`'s KPI definitions (its `Counts` and `WaitHistogram`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HourFigures {
    /// Tickets issued.
    pub arrived: u64,
    /// Tickets transferred in from another service.
    pub transferred_in: u64,
    /// Waits ended by a call.
    pub called: u64,
    /// Services finished.
    pub served: u64,
    /// Called customers who did not come.
    pub no_show: u64,
    /// Tickets cancelled.
    pub cancelled: u64,
    /// Tickets transferred out to another service.
    pub transferred_out: u64,
    /// The sum of the waits, ms.
    pub wait_ms: i64,
    /// The longest wait, ms; 0 without waits.
    pub wait_max_ms: i64,
    /// Waits of services with a known target.
    pub with_target: u64,
    /// … of which no longer than the target.
    pub within_target: u64,
    /// The sum of the service times, ms.
    pub service_ms: i64,
    /// First calls of appointment-lane tickets.
    pub appointments: u64,
    /// … at most the punctuality limit after the appointment.
    pub appointments_on_time: u64,
    /// The sum of their lateness, ms.
    pub lateness_ms: i64,
    /// The waits histogram: `(bucket, waits)` for each bucket holding waits, ascending by
    /// bucket.
    pub waits: Vec<(u16, u64)>,
}

impl HourFigures {
    /// The names of the counts, in the order of [`counts`](Self::counts): the columns of the
    /// SQL adapters.
    pub const COLUMNS: [&'static str; 15] = [
        "arrived",
        "transferred_in",
        "called",
        "served",
        "no_show",
        "cancelled",
        "transferred_out",
        "wait_ms",
        "wait_max_ms",
        "with_target",
        "within_target",
        "service_ms",
        "appointments",
        "appointments_on_time",
        "lateness_ms",
    ];

    /// The counts as signed 64-bit integers (as SQL keeps them), in [`COLUMNS`](Self::COLUMNS)'
    /// order.
    pub fn counts(&self) -> [i64; 15] {
        let i = |n: u64| n as i64;
        [
            i(self.arrived),
            i(self.transferred_in),
            i(self.called),
            i(self.served),
            i(self.no_show),
            i(self.cancelled),
            i(self.transferred_out),
            self.wait_ms,
            self.wait_max_ms,
            i(self.with_target),
            i(self.within_target),
            self.service_ms,
            i(self.appointments),
            i(self.appointments_on_time),
            self.lateness_ms,
        ]
    }

    /// Figures of counts in [`COLUMNS`](Self::COLUMNS)' order, with these waits.
    pub fn from_counts(c: [i64; 15], waits: Vec<(u16, u64)>) -> Self {
        let u = |n: i64| n as u64;
        Self {
            arrived: u(c[0]),
            transferred_in: u(c[1]),
            called: u(c[2]),
            served: u(c[3]),
            no_show: u(c[4]),
            cancelled: u(c[5]),
            transferred_out: u(c[6]),
            wait_ms: c[7],
            wait_max_ms: c[8],
            with_target: u(c[9]),
            within_target: u(c[10]),
            service_ms: c[11],
            appointments: u(c[12]),
            appointments_on_time: u(c[13]),
            lateness_ms: c[14],
            waits,
        }
    }

    /// Adds another group's figures.
    pub fn merge(&mut self, o: &HourFigures) {
        self.arrived += o.arrived;
        self.transferred_in += o.transferred_in;
        self.called += o.called;
        self.served += o.served;
        self.no_show += o.no_show;
        self.cancelled += o.cancelled;
        self.transferred_out += o.transferred_out;
        self.wait_ms += o.wait_ms;
        self.wait_max_ms = self.wait_max_ms.max(o.wait_max_ms);
        self.with_target += o.with_target;
        self.within_target += o.within_target;
        self.service_ms += o.service_ms;
        self.appointments += o.appointments;
        self.appointments_on_time += o.appointments_on_time;
        self.lateness_ms += o.lateness_ms;
        self.waits = merge_buckets(&self.waits, &o.waits);
    }
}

/// Two ascending histograms added bucket by bucket.
pub fn merge_buckets(a: &[(u16, u64)], b: &[(u16, u64)]) -> Vec<(u16, u64)> {
    let mut out = Vec::with_capacity(a.len().max(b.len()));
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        match (a.get(i), b.get(j)) {
            (Some(&(x, n)), Some(&(y, m))) if x == y => {
                out.push((x, n + m));
                i += 1;
                j += 1;
            }
            (Some(&(x, n)), Some(&(y, _))) if x < y => {
                out.push((x, n));
                i += 1;
            }
            (Some(_), Some(&(y, m))) | (None, Some(&(y, m))) => {
                out.push((y, m));
                j += 1;
            }
            (Some(&(x, n)), None) => {
                out.push((x, n));
                i += 1;
            }
            (None, None) => break,
        }
    }
    out
}

/// The figures of one hour of one service at one branch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HourRow {
    /// Where.
    pub key: HourKey,
    /// What.
    pub figures: HourFigures,
}

/// A batch that cannot be written or a range that cannot be read, found before any store is
/// asked.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ReportInputError {
    /// The cursor has no name.
    #[error("a report cursor needs a name")]
    UnnamedCursor,
    /// The cursor would move back.
    #[error("a report cursor moves forward only: from {expected} to {to}")]
    CursorBackwards {
        /// The value expected.
        expected: u64,
        /// The value asked for.
        to: u64,
    },
    /// A row's branch-day is not among those the batch replaces.
    #[error("row of branch {branch} on {date} is outside the days the batch replaces")]
    RowOutsideDays {
        /// Its branch.
        branch: BranchId,
        /// Its date.
        date: NaiveDate,
    },
    /// Two rows of one key.
    #[error("two rows for branch {branch}, service {service}, {date} hour {hour}")]
    DuplicateRow {
        /// Branch.
        branch: BranchId,
        /// Service.
        service: ServiceId,
        /// Date.
        date: NaiveDate,
        /// Hour.
        hour: u8,
    },
    /// An hour past 23, or a histogram not ascending.
    #[error("row of branch {branch} on {date}: {what}")]
    MalformedRow {
        /// Its branch.
        branch: BranchId,
        /// Its date.
        date: NaiveDate,
        /// What is wrong.
        what: &'static str,
    },
    /// A range that is empty or not on whole hours.
    #[error("a report range runs forward over whole local hours: {from} to {to}")]
    BadRange {
        /// First local hour.
        from: NaiveDateTime,
        /// First local hour after.
        to: NaiveDateTime,
    },
}

impl ReportInputError {
    /// A stable machine-readable name of the error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnnamedCursor => "unnamed_cursor",
            Self::CursorBackwards { .. } => "cursor_backwards",
            Self::RowOutsideDays { .. } => "row_outside_days",
            Self::DuplicateRow { .. } => "duplicate_row",
            Self::MalformedRow { .. } => "malformed_row",
            Self::BadRange { .. } => "bad_range",
        }
    }
}

/// What one write does: replace the rows of some branch-days and move a cursor (see the
/// [module docs](self)). Checked when made, so a store receives only well-formed batches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportBatch {
    cursor: String,
    expected: u64,
    to: u64,
    days: BTreeSet<(BranchId, NaiveDate)>,
    rows: Vec<HourRow>,
}

impl ReportBatch {
    /// A batch replacing the rows of `days` with `rows` and moving `cursor` from `expected`
    /// to `to` (equal values write the rows and leave the cursor).
    ///
    /// # Errors
    /// [`ReportInputError`] for a cursor without a name or moving back, a row outside
    /// `days`, two rows of one key, an hour past 23 or a histogram not strictly ascending.
    pub fn new(
        cursor: impl Into<String>,
        expected: u64,
        to: u64,
        days: impl IntoIterator<Item = (BranchId, NaiveDate)>,
        rows: Vec<HourRow>,
    ) -> Result<Self, ReportInputError> {
        let cursor = cursor.into();
        if cursor.is_empty() {
            return Err(ReportInputError::UnnamedCursor);
        }
        if to < expected {
            return Err(ReportInputError::CursorBackwards { expected, to });
        }
        let days: BTreeSet<_> = days.into_iter().collect();
        let mut keys = BTreeSet::new();
        for r in &rows {
            let k = r.key;
            if !days.contains(&(k.branch, k.date)) {
                return Err(ReportInputError::RowOutsideDays {
                    branch: k.branch,
                    date: k.date,
                });
            }
            let malformed = |what| ReportInputError::MalformedRow {
                branch: k.branch,
                date: k.date,
                what,
            };
            if k.hour > 23 {
                return Err(malformed("hour past 23"));
            }
            if r.figures.waits.windows(2).any(|w| w[0].0 >= w[1].0) {
                return Err(malformed("histogram buckets not ascending"));
            }
            if !keys.insert(k) {
                return Err(ReportInputError::DuplicateRow {
                    branch: k.branch,
                    service: k.service,
                    date: k.date,
                    hour: k.hour,
                });
            }
        }
        Ok(Self {
            cursor,
            expected,
            to,
            days,
            rows,
        })
    }

    /// The cursor's name.
    pub fn cursor(&self) -> &str {
        &self.cursor
    }

    /// The cursor value the write expects.
    pub fn expected(&self) -> u64 {
        self.expected
    }

    /// The cursor value after the write.
    pub fn to(&self) -> u64 {
        self.to
    }

    /// The branch-days whose rows are replaced.
    pub fn days(&self) -> &BTreeSet<(BranchId, NaiveDate)> {
        &self.days
    }

    /// The new rows, each in one of [`days`](Self::days).
    pub fn rows(&self) -> &[HourRow] {
        &self.rows
    }
}

/// What report rows are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ReportBy {
    /// One group of everything.
    All,
    /// The branch.
    Branch,
    /// The service.
    Service,
    /// The local date (each branch's own).
    Day,
    /// The local hour of the day.
    Hour,
    /// The local day of the week, 1 (Monday) to 7.
    Weekday,
}

/// The key of a group of report rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
pub enum ReportKey {
    /// Everything.
    All,
    /// A branch.
    Branch(BranchId),
    /// A service.
    Service(ServiceId),
    /// A local date.
    Day(NaiveDate),
    /// A local hour of the day.
    Hour(u8),
    /// A local day of the week, 1 (Monday) to 7.
    Weekday(u8),
}

impl ReportBy {
    /// The key of the group an hour row belongs to.
    pub fn key(&self, k: &HourKey) -> ReportKey {
        match self {
            Self::All => ReportKey::All,
            Self::Branch => ReportKey::Branch(k.branch),
            Self::Service => ReportKey::Service(k.service),
            Self::Day => ReportKey::Day(k.date),
            Self::Hour => ReportKey::Hour(k.hour),
            Self::Weekday => ReportKey::Weekday(k.date.weekday().number_from_monday() as u8),
        }
    }
}

/// A range of local hours `[from, to)`, on whole hours, read the same in every branch's zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalRange {
    from: NaiveDateTime,
    to: NaiveDateTime,
}

impl LocalRange {
    /// The hours from `from` up to `to`.
    ///
    /// # Errors
    /// [`ReportInputError::BadRange`] unless both are on whole hours and `from < to`.
    pub fn new(from: NaiveDateTime, to: NaiveDateTime) -> Result<Self, ReportInputError> {
        let whole = |t: NaiveDateTime| t.minute() == 0 && t.second() == 0 && t.nanosecond() == 0;
        if from < to && whole(from) && whole(to) {
            Ok(Self { from, to })
        } else {
            Err(ReportInputError::BadRange { from, to })
        }
    }

    /// The first hour.
    pub fn from(&self) -> NaiveDateTime {
        self.from
    }

    /// The first hour after.
    pub fn to(&self) -> NaiveDateTime {
        self.to
    }

    /// Whether an hour row's date and hour lie in the range.
    pub fn contains(&self, k: &HourKey) -> bool {
        let at = (k.date, u32::from(k.hour));
        (self.from.date(), self.from.hour()) <= at && at < (self.to.date(), self.to.hour())
    }
}

/// A question to the aggregates: the rows of these branches in a range, grouped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportQuery {
    /// The branches; none gives no rows.
    pub branches: Vec<BranchId>,
    /// The local hours.
    pub range: LocalRange,
    /// The grouping.
    pub by: ReportBy,
}

/// The figures of a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportGroup {
    /// The group.
    pub key: ReportKey,
    /// Its figures, summed over its hour rows.
    pub figures: HourFigures,
}

/// Hourly report aggregates and the cursors of the projections that write them.
///
/// Every method is atomic.
#[async_trait]
pub trait ReportStore: Send + Sync + fmt::Debug + 'static {
    /// The last global event position the projection `cursor` folded; 0 before its first
    /// write.
    ///
    /// # Errors
    /// `Unavailable` or `Backend`.
    async fn report_cursor(&self, cursor: &str) -> Result<u64, StoreError>;

    /// Replaces every row of the batch's branch-days with its rows and moves its cursor.
    ///
    /// # Behavior
    /// One transaction: when the cursor is at [`ReportBatch::expected`] it deletes the rows of
    /// the branch-days, inserts the new ones and sets the cursor to [`ReportBatch::to`];
    /// otherwise nothing changes. Of concurrent writers expecting one value, one wins.
    ///
    /// # Errors
    /// `Conflict` with [`CURSOR_MOVED`] when the cursor is not at the expected value (another
    /// projector wrote first: read the cursor again); `Unavailable` or `Backend`.
    async fn write_report_days(&self, batch: &ReportBatch) -> Result<(), StoreError>;

    /// The hour rows of the query's branches in its range, summed by group, ascending by key;
    /// groups without rows are absent.
    ///
    /// # Errors
    /// `Unavailable` or `Backend`.
    async fn report(&self, query: &ReportQuery) -> Result<Vec<ReportGroup>, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn row(branch: u128, d: &str, hour: u8, waits: Vec<(u16, u64)>) -> HourRow {
        HourRow {
            key: HourKey {
                branch: BranchId::from_u128(branch),
                service: ServiceId::from_u128(1),
                date: date(d),
                hour,
            },
            figures: HourFigures {
                waits,
                ..HourFigures::default()
            },
        }
    }

    #[test]
    fn batches_are_checked() {
        let day = (BranchId::from_u128(1), date("2026-03-02"));
        let ok = ReportBatch::new("p", 3, 5, [day], vec![row(1, "2026-03-02", 9, vec![])]);
        assert!(ok.is_ok());
        let code = |r: Result<ReportBatch, ReportInputError>| r.unwrap_err().code();
        assert_eq!(
            code(ReportBatch::new("", 0, 1, [day], vec![])),
            "unnamed_cursor"
        );
        assert_eq!(
            code(ReportBatch::new("p", 5, 4, [day], vec![])),
            "cursor_backwards"
        );
        let outside = vec![row(1, "2026-03-03", 9, vec![])];
        assert_eq!(
            code(ReportBatch::new("p", 0, 1, [day], outside)),
            "row_outside_days"
        );
        let twice = vec![
            row(1, "2026-03-02", 9, vec![]),
            row(1, "2026-03-02", 9, vec![]),
        ];
        assert_eq!(
            code(ReportBatch::new("p", 0, 1, [day], twice)),
            "duplicate_row"
        );
        let late = vec![row(1, "2026-03-02", 24, vec![])];
        assert_eq!(
            code(ReportBatch::new("p", 0, 1, [day], late)),
            "malformed_row"
        );
        let unsorted = vec![row(1, "2026-03-02", 9, vec![(3, 1), (2, 1)])];
        assert_eq!(
            code(ReportBatch::new("p", 0, 1, [day], unsorted)),
            "malformed_row"
        );
    }

    #[test]
    fn ranges_are_whole_hours_forward() {
        let at = |s: &str| s.parse::<NaiveDateTime>().unwrap();
        let r = LocalRange::new(at("2026-03-02T09:00:00"), at("2026-03-03T10:00:00")).unwrap();
        let key = |d: &str, hour| HourKey {
            branch: BranchId::from_u128(1),
            service: ServiceId::from_u128(1),
            date: date(d),
            hour,
        };
        assert!(!r.contains(&key("2026-03-02", 8)));
        assert!(r.contains(&key("2026-03-02", 9)));
        assert!(r.contains(&key("2026-03-03", 9)));
        assert!(!r.contains(&key("2026-03-03", 10)));
        assert!(LocalRange::new(at("2026-03-02T09:30:00"), at("2026-03-02T11:00:00")).is_err());
        assert!(LocalRange::new(at("2026-03-02T09:00:00"), at("2026-03-02T09:00:00")).is_err());
    }

    #[test]
    fn counts_round_trip_in_column_order() {
        let c: [i64; 15] = std::array::from_fn(|i| i as i64 + 1);
        let f = HourFigures::from_counts(c, vec![(1, 2)]);
        assert_eq!(f.counts(), c);
        assert_eq!((f.arrived, f.wait_max_ms, f.lateness_ms), (1, 9, 15));
        assert_eq!(HourFigures::COLUMNS[8], "wait_max_ms");
    }

    #[test]
    fn histograms_merge_bucket_by_bucket() {
        assert_eq!(
            merge_buckets(&[(1, 2), (4, 1)], &[(0, 1), (4, 3), (9, 1)]),
            vec![(0, 1), (1, 2), (4, 4), (9, 1)]
        );
        assert_eq!(merge_buckets(&[], &[(2, 1)]), vec![(2, 1)]);
    }
}
