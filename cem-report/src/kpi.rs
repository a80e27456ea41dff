//! Queue KPIs folded from the event history, with their definitions.
//!
//! # Definitions
//! A [`Fold`] reads the queue events of one or more branches, each stream in its order, and
//! counts *facts*. Each fact belongs to the instant of the event that completes it (an arrival
//! to its issue, a wait to its call, a service to its finish) and is counted when that instant
//! lies in the report [`Window`] `[from, to)`; spans (a counter open, a counter busy) are cut at
//! the window's ends. Feed the events from before the window too (from the start of the
//! business day, say): a ticket issued before the window and called inside it needs its issue
//! to know its wait. Events of tickets the fold never saw issued are skipped and counted by
//! [`Fold::ignored`].
//!
//! - **Arrived**: tickets issued.
//! - **Transferred in / out**: transfers of a ticket from one service's line to another
//!   service's line, counted out of the service left (with the counter that held it) and into
//!   the service entered. A transfer to a counter's personal line, or back into the same
//!   service, changes no service and is not counted; it starts a new wait all the same.
//! - **Called**: waits ended by a call; **served**: services finished; **no-show**: called
//!   customers who did not come; **cancelled**: tickets cancelled (waiting, called or parked).
//! - **Wait**: a ticket waits from the moment it enters a line (its issue, a transfer, or a
//!   resume after being parked) to the next call (`TicketCalled`) that takes it out. A ticket
//!   therefore has one wait per line it was called from: after a park and resume, or a
//!   transfer, the next call ends a new wait. A recall (`TicketRecalled`) only announces a
//!   called ticket again: it neither ends nor restarts a wait, so the wait ends at the call,
//!   not at the last recall (the queue's own `Ticket::called_at` moves with recalls; this report
//!   does not). A stay in a line that ends without a call (cancelled, transferred while
//!   waiting) gives no wait. A wait is counted in the group of its call: the service whose
//!   line it was, the calling counter, and the agent of the call (or of the counter).
//! - **Mean, median, p90 and max wait**: over the waits of the group. Percentiles are
//!   *nearest-rank*: the p-th percentile of n waits sorted ascending is the one at rank
//!   ⌈p·n/100⌉ (1-based), so the median of an even count is the lower middle one, and every
//!   percentile is a wait that happened. The fold keeps every wait (a count per distinct
//!   millisecond value), so its percentiles are exact and merge exactly.
//! - **Service time**: from the service's start (`ServiceStarted`) to its finish, or from the
//!   call when the counter finished without a start event (as the queue's running mean does);
//!   the mean is over the services finished.
//! - **Service level**: of the waits ended in the group whose service has a target wait
//!   ([`KpiSpec::targets`]), the % no longer than the target (`wait ≤ target`). Waits of
//!   services without a known target are left out of it.
//! - **Utilization**: busy time ÷ open time, in %. A counter is *open* from `CounterOpened` to
//!   `CounterPaused` or `CounterClosed` (pauses are not open time; a counter still open at the
//!   window's end counts until it). It is *busy* while it serves (from the service's start,
//!   or the call when no start event came, until the finish, a park, a transfer or a cancel)
//!   *and* is open: a service carried on through a pause is not busy time, so utilization
//!   never passes 100 %. Open time belongs to the counter and the agent signed in; busy time
//!   also to the service and class served. Groups without open time (services, classes) show
//!   their busy time and no utilization.
//! - **Appointment punctuality**: of the tickets issued in the appointment lane (the customer
//!   came in time; a late one queued as a walk-in is left out), the % whose first call came at
//!   most N seconds after the appointment ([`KpiSpec::punctuality_secs`], 5 minutes by
//!   default; an early call is on time), and the mean **lateness**: how long after the
//!   appointment the first call came, an early call counting as 0.
//!
//! Every figure is derived from the integer [`Counts`] and the wait [`Samples`] of a group, so
//! [`Totals::merge`] is exact, associative and commutative.
//!
//! # Groups
//! [`GroupBy`] chooses the groups; a fold may keep several groupings at once, each giving its
//! own rows. A fact counts in a counter (or agent) group only when it happened at a counter:
//! an arrival is in no counter's group, and a counter's open time is in no service's group.
//! Groupings by time read the fact's instant in a time zone: `HourOfDay` puts the two 02:00
//! hours of a day when clocks go back into hour 2, and a spring-forward day has no hour 2.
//! Spans are cut at every local hour (or day) boundary of the zone, found on the UTC quarter
//! hours (every zone in use today has a whole number of quarter hours of offset).

use std::collections::BTreeMap;
use std::fmt;

use cem_core::chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use cem_core::chrono_tz::Tz;
use cem_core::{AgentId, BranchConfig, BranchId, ClassId, CounterId, RecordedEvent, ServiceId};
use cem_queue::QueueEvent;
use serde::{Deserialize, Serialize};

use crate::error::ReportError;
use crate::facts::{Dims, Measure, Point, Sink, Span, SpanKind, Tracker};

/// Default [`KpiSpec::punctuality_secs`]: five minutes.
pub const DEFAULT_PUNCTUALITY_SECS: u32 = 300;

/// The instants a report covers: `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// First instant covered.
    pub from: DateTime<Utc>,
    /// First instant after.
    pub to: DateTime<Utc>,
}

impl Window {
    /// The window `[from, to)`.
    ///
    /// # Errors
    /// [`ReportError::EmptyWindow`] unless `from < to`.
    pub fn new(from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Self, ReportError> {
        if from < to {
            Ok(Self { from, to })
        } else {
            Err(ReportError::EmptyWindow { from, to })
        }
    }

    /// Whether `at` lies in the window.
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.from <= at && at < self.to
    }

    /// The part of `[from, to)` inside the window, if any.
    pub fn clip(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let (from, to) = (from.max(self.from), to.min(self.to));
        (from < to).then_some((from, to))
    }
}

/// What facts are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", content = "tz", rename_all = "snake_case")]
#[non_exhaustive]
pub enum GroupBy {
    /// One group of everything.
    All,
    /// The branch.
    Branch,
    /// The service (of the line a wait was in, of the ticket served…).
    Service,
    /// The counter (facts that happened at a counter only).
    Counter,
    /// The agent signed in at the counter (facts that happened at a counter only).
    Agent,
    /// The ticket's priority class.
    Class,
    /// The local hour of the day (0–23) in a time zone.
    HourOfDay(Tz),
    /// The local date in a time zone.
    Day(Tz),
    /// The local day of the week in a time zone.
    Weekday(Tz),
}

impl GroupBy {
    /// The name of the kind of key it gives (`service`, `hour`…), as [`Key::kind`].
    pub fn kind(&self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Branch => "branch",
            Self::Service => "service",
            Self::Counter => "counter",
            Self::Agent => "agent",
            Self::Class => "class",
            Self::HourOfDay(_) => "hour",
            Self::Day(_) => "day",
            Self::Weekday(_) => "weekday",
        }
    }

    fn zone(&self) -> Option<Tz> {
        match *self {
            Self::HourOfDay(tz) | Self::Day(tz) | Self::Weekday(tz) => Some(tz),
            _ => None,
        }
    }

    /// The key of a fact at `at` with `dims`; `None` when the fact has no such side.
    pub(crate) fn key(&self, at: DateTime<Utc>, dims: &Dims) -> Option<Key> {
        Some(match *self {
            Self::All => Key::All,
            Self::Branch => Key::Branch(dims.branch),
            Self::Service => Key::Service(dims.service?),
            Self::Counter => Key::Counter(dims.counter?),
            Self::Agent => {
                dims.counter?;
                Key::Agent(dims.agent)
            }
            Self::Class => Key::Class(dims.class?),
            Self::HourOfDay(tz) => Key::HourOfDay(at.with_timezone(&tz).hour() as u8),
            Self::Day(tz) => Key::Day(at.with_timezone(&tz).date_naive()),
            Self::Weekday(tz) => {
                Key::Weekday(at.with_timezone(&tz).weekday().number_from_monday() as u8)
            }
        })
    }
}

/// The key of a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "by", content = "key", rename_all = "snake_case")]
pub enum Key {
    /// Everything.
    All,
    /// A branch.
    Branch(BranchId),
    /// A service.
    Service(ServiceId),
    /// A counter.
    Counter(CounterId),
    /// An agent; `None` for counters open without a signed-in agent.
    Agent(Option<AgentId>),
    /// A priority class.
    Class(ClassId),
    /// A local hour of the day, 0–23.
    #[serde(rename = "hour")]
    HourOfDay(u8),
    /// A local date.
    Day(NaiveDate),
    /// A local day of the week, 1 (Monday) to 7 (Sunday) as in ISO 8601.
    Weekday(u8),
}

impl Key {
    /// The name of its kind: `all`, `branch`, `service`, `counter`, `agent`, `class`, `hour`,
    /// `day` or `weekday`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Branch(_) => "branch",
            Self::Service(_) => "service",
            Self::Counter(_) => "counter",
            Self::Agent(_) => "agent",
            Self::Class(_) => "class",
            Self::HourOfDay(_) => "hour",
            Self::Day(_) => "day",
            Self::Weekday(_) => "weekday",
        }
    }
}

/// The key's value: an id, `2026-11-28`, an hour `0`–`23`, a weekday `1`–`7`; empty for
/// [`Key::All`] and for `Agent(None)`.
impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::All | Self::Agent(None) => Ok(()),
            Self::Branch(id) => id.fmt(f),
            Self::Service(id) => id.fmt(f),
            Self::Counter(id) => id.fmt(f),
            Self::Agent(Some(id)) => id.fmt(f),
            Self::Class(id) => id.fmt(f),
            Self::HourOfDay(h) => h.fmt(f),
            Self::Day(d) => d.fmt(f),
            Self::Weekday(w) => w.fmt(f),
        }
    }
}

/// What a [`Fold`] computes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KpiSpec {
    /// The instants reported on.
    pub window: Window,
    /// The groupings, each giving its own rows.
    pub group_by: Vec<GroupBy>,
    /// Target wait of each service, seconds (the service level's).
    pub targets: BTreeMap<ServiceId, u32>,
    /// How late after an appointment a first call is still on time, seconds.
    pub punctuality_secs: u32,
}

impl KpiSpec {
    /// A spec over `window` with these groupings, no targets, and the default punctuality.
    pub fn new(window: Window, group_by: impl IntoIterator<Item = GroupBy>) -> Self {
        Self {
            window,
            group_by: group_by.into_iter().collect(),
            targets: BTreeMap::new(),
            punctuality_secs: DEFAULT_PUNCTUALITY_SECS,
        }
    }

    /// Adds the target waits of a branch's services.
    pub fn with_targets_of(mut self, config: &BranchConfig) -> Self {
        self.targets.extend(targets_of(config));
        self
    }
}

/// The target wait of each service of a branch, seconds.
pub fn targets_of(config: &BranchConfig) -> BTreeMap<ServiceId, u32> {
    config
        .services
        .iter()
        .map(|s| (s.id, s.target_wait_secs))
        .collect()
}

/// The integer counts of a group; every figure of a [`Row`] is derived from them (see
/// [definitions](self#definitions)). Durations are in milliseconds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
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
    /// The sum of the waits.
    pub wait_ms: i64,
    /// The longest wait; 0 without waits.
    pub wait_max_ms: i64,
    /// Waits of services with a known target.
    pub with_target: u64,
    /// … of which no longer than the target.
    pub within_target: u64,
    /// The sum of the service times.
    pub service_ms: i64,
    /// Busy time.
    pub busy_ms: i64,
    /// Open time.
    pub open_ms: i64,
    /// First calls of appointment-lane tickets.
    pub appointments: u64,
    /// … at most the punctuality limit after the appointment.
    pub appointments_on_time: u64,
    /// The sum of their lateness (an early call counting as 0).
    pub lateness_ms: i64,
}

impl Counts {
    /// Counts one point fact.
    pub(crate) fn add(
        &mut self,
        dims: &Dims,
        measure: Measure,
        targets: &BTreeMap<ServiceId, u32>,
        punctuality_secs: u32,
    ) {
        match measure {
            Measure::Arrived => self.arrived += 1,
            Measure::TransferredIn => self.transferred_in += 1,
            Measure::TransferredOut => self.transferred_out += 1,
            Measure::Called { wait_ms } => {
                self.called += 1;
                self.wait_ms += wait_ms;
                self.wait_max_ms = self.wait_max_ms.max(wait_ms);
                if let Some(&target) = dims.service.and_then(|s| targets.get(&s)) {
                    self.with_target += 1;
                    if wait_ms <= i64::from(target) * 1000 {
                        self.within_target += 1;
                    }
                }
            }
            Measure::Served { service_ms } => {
                self.served += 1;
                self.service_ms += service_ms;
            }
            Measure::NoShow => self.no_show += 1,
            Measure::Cancelled => self.cancelled += 1,
            Measure::AppointmentCalled { lateness_ms } => {
                self.appointments += 1;
                if lateness_ms <= i64::from(punctuality_secs) * 1000 {
                    self.appointments_on_time += 1;
                }
                self.lateness_ms += lateness_ms.max(0);
            }
        }
    }

    /// Adds another group's counts to these.
    pub fn merge(&mut self, o: &Counts) {
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
        self.busy_ms += o.busy_ms;
        self.open_ms += o.open_ms;
        self.appointments += o.appointments;
        self.appointments_on_time += o.appointments_on_time;
        self.lateness_ms += o.lateness_ms;
    }
}

/// Every wait of a group, as a count per distinct value in milliseconds: exact percentiles,
/// exact merges.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Samples {
    counts: BTreeMap<i64, u64>,
    len: u64,
}

impl Samples {
    /// Adds a wait.
    pub fn insert(&mut self, ms: i64) {
        *self.counts.entry(ms).or_default() += 1;
        self.len += 1;
    }

    /// Adds another group's waits.
    pub fn merge(&mut self, other: &Samples) {
        for (&ms, &n) in &other.counts {
            *self.counts.entry(ms).or_default() += n;
        }
        self.len += other.len;
    }

    /// How many waits.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Each distinct wait with how many times it occurred, ascending.
    pub fn iter(&self) -> impl Iterator<Item = (i64, u64)> + '_ {
        self.counts.iter().map(|(&ms, &n)| (ms, n))
    }

    /// The nearest-rank `pct`-th percentile (the wait at rank ⌈pct·n/100⌉); `None` without
    /// waits. `pct` above 100 reads as 100, and 0 as the smallest.
    pub fn percentile_ms(&self, pct: u32) -> Option<i64> {
        let rank = nearest_rank(pct, self.len)?;
        let mut seen = 0;
        self.counts.iter().find_map(|(&ms, &n)| {
            seen += n;
            (seen >= rank).then_some(ms)
        })
    }
}

/// The 1-based nearest rank of the `pct`-th percentile of `n` values; `None` when `n` is 0.
pub(crate) fn nearest_rank(pct: u32, n: u64) -> Option<u64> {
    if n == 0 {
        return None;
    }
    let pct = u128::from(pct.min(100));
    let rank = (pct * u128::from(n)).div_ceil(100) as u64;
    Some(rank.max(1))
}

/// The counts and waits of one group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Counts.
    pub counts: Counts,
    /// Every wait.
    pub waits: Samples,
}

impl Totals {
    /// Adds another group's counts and waits to these.
    pub fn merge(&mut self, other: &Totals) {
        self.counts.merge(&other.counts);
        self.waits.merge(&other.waits);
    }

    /// The figures of the group.
    pub fn row(&self, key: Key) -> Row {
        Row::from_counts(
            key,
            &self.counts,
            self.waits.percentile_ms(50),
            self.waits.percentile_ms(90),
        )
    }
}

/// The figures of one group, ready to show or export (see [definitions](self#definitions)).
/// Times are in seconds, shares in %; a figure without a denominator is `None`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// The group.
    pub key: Key,
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
    /// Mean wait.
    pub wait_mean_secs: Option<f64>,
    /// Median wait (nearest rank).
    pub wait_median_secs: Option<f64>,
    /// 90th percentile wait (nearest rank).
    pub wait_p90_secs: Option<f64>,
    /// Longest wait.
    pub wait_max_secs: Option<f64>,
    /// Mean service time.
    pub service_time_mean_secs: Option<f64>,
    /// % of waits within their service's target.
    pub service_level_pct: Option<f64>,
    /// Busy time.
    pub busy_secs: f64,
    /// Open time.
    pub open_secs: f64,
    /// Busy time ÷ open time, %.
    pub utilization_pct: Option<f64>,
    /// Appointment tickets called.
    pub appointments: u64,
    /// … on time.
    pub appointments_on_time: u64,
    /// % of appointment tickets called on time.
    pub punctuality_pct: Option<f64>,
    /// Mean lateness of their first call (early counting as 0).
    pub lateness_mean_secs: Option<f64>,
}

fn secs(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

fn mean_secs(sum_ms: i64, n: u64) -> Option<f64> {
    (n > 0).then(|| sum_ms as f64 / n as f64 / 1000.0)
}

fn pct(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| 100.0 * part as f64 / whole as f64)
}

impl Row {
    /// The figures of `counts`, with the median and p90 wait found elsewhere (exact from
    /// [`Samples`], or from a histogram).
    pub fn from_counts(key: Key, c: &Counts, median_ms: Option<i64>, p90_ms: Option<i64>) -> Self {
        Self {
            key,
            arrived: c.arrived,
            transferred_in: c.transferred_in,
            called: c.called,
            served: c.served,
            no_show: c.no_show,
            cancelled: c.cancelled,
            transferred_out: c.transferred_out,
            wait_mean_secs: mean_secs(c.wait_ms, c.called),
            wait_median_secs: median_ms.map(secs),
            wait_p90_secs: p90_ms.map(secs),
            wait_max_secs: (c.called > 0).then(|| secs(c.wait_max_ms)),
            service_time_mean_secs: mean_secs(c.service_ms, c.served),
            service_level_pct: pct(c.within_target, c.with_target),
            busy_secs: secs(c.busy_ms),
            open_secs: secs(c.open_ms),
            utilization_pct: (c.open_ms > 0).then(|| 100.0 * c.busy_ms as f64 / c.open_ms as f64),
            appointments: c.appointments,
            appointments_on_time: c.appointments_on_time,
            punctuality_pct: pct(c.appointments_on_time, c.appointments),
            lateness_mean_secs: mean_secs(c.lateness_ms, c.appointments),
        }
    }
}

/// Folds queue events into KPI groups (see [definitions](self#definitions)).
///
/// Two folds merge exactly ([`merge`](Self::merge)) when they read disjoint sets of streams
/// (say one fold per branch, folded in parallel): every event of a ticket or counter must
/// reach the same fold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fold {
    spec: KpiSpec,
    tracker: Tracker,
    #[serde(with = "crate::pairs")]
    groups: BTreeMap<Key, Totals>,
}

/// Adds facts to the groups of a spec.
struct Acc<'a> {
    spec: &'a KpiSpec,
    groups: &'a mut BTreeMap<Key, Totals>,
}

impl Sink for Acc<'_> {
    fn point(&mut self, p: Point) {
        if !self.spec.window.contains(p.at) {
            return;
        }
        for by in &self.spec.group_by {
            let Some(key) = by.key(p.at, &p.dims) else {
                continue;
            };
            let g = self.groups.entry(key).or_default();
            g.counts.add(
                &p.dims,
                p.measure,
                &self.spec.targets,
                self.spec.punctuality_secs,
            );
            if let Measure::Called { wait_ms } = p.measure {
                g.waits.insert(wait_ms);
            }
        }
    }

    fn span(&mut self, s: Span) {
        let Some((from, to)) = self.spec.window.clip(s.from, s.to) else {
            return;
        };
        for by in &self.spec.group_by {
            for (key, ms) in pieces(by, from, to, &s.dims) {
                let c = &mut self.groups.entry(key).or_default().counts;
                match s.kind {
                    SpanKind::Open => c.open_ms += ms,
                    SpanKind::Busy => c.busy_ms += ms,
                }
            }
        }
    }
}

/// `[from, to)` cut into its parts under each key of `by`, in milliseconds.
fn pieces(by: &GroupBy, from: DateTime<Utc>, to: DateTime<Utc>, dims: &Dims) -> Vec<(Key, i64)> {
    if by.zone().is_none() {
        return by
            .key(from, dims)
            .map(|k| vec![(k, (to - from).num_milliseconds())])
            .unwrap_or_default();
    }
    const QUARTER_MS: i64 = 15 * 60 * 1000;
    let mut out: Vec<(Key, i64)> = Vec::new();
    let mut t = from;
    while t < to {
        let next_ms = t.timestamp_millis().div_euclid(QUARTER_MS) * QUARTER_MS + QUARTER_MS;
        let next = DateTime::from_timestamp_millis(next_ms)
            .unwrap_or(to)
            .min(to);
        if let Some(key) = by.key(t, dims) {
            let ms = (next - t).num_milliseconds();
            match out.last_mut() {
                Some((k, total)) if *k == key => *total += ms,
                _ => out.push((key, ms)),
            }
        }
        t = next;
    }
    out
}

impl Fold {
    /// An empty fold.
    ///
    /// # Errors
    /// [`ReportError::DuplicateGrouping`] when two groupings give keys of one kind.
    pub fn new(spec: KpiSpec) -> Result<Self, ReportError> {
        for (i, by) in spec.group_by.iter().enumerate() {
            if spec.group_by[..i].iter().any(|b| b.kind() == by.kind()) {
                return Err(ReportError::DuplicateGrouping { kind: by.kind() });
            }
        }
        Ok(Self {
            spec,
            tracker: Tracker::default(),
            groups: BTreeMap::new(),
        })
    }

    /// Folds the events of branches' streams, each in order.
    ///
    /// # Errors
    /// As [`new`](Self::new).
    pub fn of<'a>(
        spec: KpiSpec,
        events: impl IntoIterator<Item = (BranchId, &'a QueueEvent)>,
    ) -> Result<Self, ReportError> {
        let mut fold = Self::new(spec)?;
        for (branch, event) in events {
            fold.apply(branch, event);
        }
        Ok(fold)
    }

    /// The spec.
    pub fn spec(&self) -> &KpiSpec {
        &self.spec
    }

    /// Reads the next event of `branch`'s stream.
    pub fn apply(&mut self, branch: BranchId, event: &QueueEvent) {
        let mut acc = Acc {
            spec: &self.spec,
            groups: &mut self.groups,
        };
        self.tracker.apply(branch, event, &mut acc);
    }

    /// Reads the next stored event.
    ///
    /// # Errors
    /// [`ReportError::Decode`] when it is not a queue event; the fold is unchanged.
    pub fn apply_recorded(&mut self, event: &RecordedEvent) -> Result<(), ReportError> {
        let e = cem_queue::service::decode(event)?;
        self.apply(event.branch, &e);
        Ok(())
    }

    /// Events skipped because they did not fit what the fold knew (mostly events of tickets
    /// issued before the first event it read).
    pub fn ignored(&self) -> u64 {
        self.tracker.ignored()
    }

    /// Adds another fold of the same spec, over other streams.
    ///
    /// # Errors
    /// [`ReportError::SpecMismatch`] when the specs differ; nothing is changed.
    pub fn merge(&mut self, other: &Fold) -> Result<(), ReportError> {
        if self.spec != other.spec {
            return Err(ReportError::SpecMismatch);
        }
        self.tracker.absorb(&other.tracker);
        for (key, t) in &other.groups {
            self.groups.entry(*key).or_default().merge(t);
        }
        Ok(())
    }

    /// The totals of every group, sorted by key, counting the spans still running (open
    /// counters, services under way) up to the window's end.
    pub fn totals(&self) -> BTreeMap<Key, Totals> {
        let mut groups = self.groups.clone();
        let mut acc = Acc {
            spec: &self.spec,
            groups: &mut groups,
        };
        self.tracker.pending(self.spec.window.to, &mut acc);
        groups
    }

    /// The rows of every group, sorted by key.
    pub fn report(&self) -> Vec<Row> {
        self.totals().iter().map(|(k, t)| t.row(*k)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut s = Samples::default();
        for ms in [15, 20, 35, 40, 50] {
            s.insert(ms);
        }
        // The textbook example: p30 → rank 2, p40 → 2, p50 → 3, p100 → 5.
        assert_eq!(s.percentile_ms(30), Some(20));
        assert_eq!(s.percentile_ms(40), Some(20));
        assert_eq!(s.percentile_ms(50), Some(35));
        assert_eq!(s.percentile_ms(100), Some(50));
        assert_eq!(s.percentile_ms(0), Some(15));
        assert_eq!(Samples::default().percentile_ms(50), None);
        // Lower middle of an even count.
        s.insert(60);
        assert_eq!(s.percentile_ms(50), Some(35));
        assert_eq!(s.percentile_ms(90), Some(60));
    }

    #[test]
    fn duplicate_groupings_are_refused() {
        let w = Window::new(
            "2026-01-01T00:00:00Z".parse().unwrap(),
            "2026-01-02T00:00:00Z".parse().unwrap(),
        )
        .unwrap();
        let spec = KpiSpec::new(
            w,
            [
                GroupBy::HourOfDay(Tz::UTC),
                GroupBy::HourOfDay(Tz::Europe__Berlin),
            ],
        );
        assert_eq!(
            Fold::new(spec).unwrap_err(),
            ReportError::DuplicateGrouping { kind: "hour" }
        );
        assert!(Window::new(w.to, w.from).is_err());
    }

    #[test]
    fn spans_are_cut_at_local_hours_of_a_half_hour_zone() {
        // Tehran is UTC+3:30: 05:00–07:00 UTC is 08:30–10:30 local.
        let dims = Dims {
            branch: BranchId::from_u128(1),
            service: None,
            class: None,
            counter: None,
            agent: None,
        };
        let p = pieces(
            &GroupBy::HourOfDay(Tz::Asia__Tehran),
            "2026-01-05T05:00:00Z".parse().unwrap(),
            "2026-01-05T07:00:00Z".parse().unwrap(),
            &dims,
        );
        let m = 60_000;
        assert_eq!(
            p,
            [
                (Key::HourOfDay(8), 30 * m),
                (Key::HourOfDay(9), 60 * m),
                (Key::HourOfDay(10), 30 * m)
            ]
        );
    }
}
