//! A discrete-event simulator that drives the real scheduler.
//!
//! A [`Scenario`] describes a branch (classes, services, counters with work profiles and daily
//! shifts), how customers arrive (Poisson streams per service and class, or a recorded trace),
//! how long service takes (exponential, log-normal or fixed), how patient customers are, a seed
//! and a number of customers. [`run`] feeds the events to a [`BranchQueue`], exactly as a server
//! would, and returns a [`SimReport`]: waits (mean, median, p90, p95), service level,
//! abandonment and utilization per class, per service and per counter, and the accuracy of the
//! waiting-time estimate (bias and mean absolute error per position bucket).
//!
//! The same seed gives the same report. Simulated time starts on a Monday at midnight UTC; shift
//! times are read in UTC.
//!
//! **Service level** is the share of customers (warm-up excluded) called within their service's
//! target, over those called or abandoned: abandonment counts against it.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use cem_core::chrono::{DateTime, NaiveTime, Utc};
use cem_core::{
    Branch, BranchConfig, BranchId, CallingPolicy, ClassId, Counter, CounterId, Language,
    LocalizedText, OpeningHours, OrganizationId, PriorityClass, ProfileService, QueueSettings,
    Service, ServiceId, TicketId, WorkProfile,
};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution as _, Exp, LogNormal};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::{BranchQueue, IssueTicket, QueueError, QueueEvent, TicketSource, TicketState};

/// A simulation scenario (the TOML or JSON file of the `simulate` command).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Seed of the random streams.
    #[serde(default)]
    pub seed: u64,
    /// Customers to generate (Poisson arrivals); a trace brings its own.
    #[serde(default)]
    pub customers: u64,
    /// The first customers, excluded from the statistics while the queue fills up.
    #[serde(default)]
    pub warmup: u64,
    /// Whether to record each ticket's estimate when it is issued (for the accuracy report).
    #[serde(default = "yes")]
    pub estimate: bool,
    /// Default calling policy of the counters.
    #[serde(default)]
    pub policy: CallingPolicy,
    /// Priority classes.
    pub classes: Vec<ClassSpec>,
    /// Services.
    pub services: Vec<ServiceSpec>,
    /// Counters (each entry may stand for several identical ones).
    pub counters: Vec<CounterSpec>,
    /// Poisson arrival streams.
    #[serde(default)]
    pub arrivals: Vec<ArrivalSpec>,
    /// A recorded trace of arrivals, instead of (or besides) the Poisson streams.
    #[serde(default)]
    pub trace: Vec<TraceArrival>,
    /// How long a customer waits before leaving; none: customers never leave.
    #[serde(default)]
    pub patience: Option<Dist>,
    /// The branch's queue rules (recall limit, running-average smoothing…).
    #[serde(default)]
    pub queue: QueueSettings,
}

fn yes() -> bool {
    true
}

/// A priority class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassSpec {
    /// Code, referred to by arrivals and counters.
    pub code: String,
    /// Rank (1 first).
    pub rank: u16,
    /// Weight for `interleave` and `weighted_wait`.
    #[serde(default = "one")]
    pub weight: u32,
}

fn one() -> u32 {
    1
}

/// A service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSpec {
    /// Display prefix, referred to by arrivals and counters.
    pub prefix: String,
    /// Service time distribution.
    pub service_time: Dist,
    /// Target wait, seconds.
    pub target_wait_secs: u32,
    /// Maximum wait before escalation, seconds.
    #[serde(default)]
    pub max_wait_secs: Option<u32>,
}

/// A counter, or `count` identical ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CounterSpec {
    /// How many identical counters.
    #[serde(default = "one")]
    pub count: u32,
    /// Services served, by prefix, in rank order unless `ranks` is given.
    pub services: Vec<String>,
    /// Rank of each listed service (default: all 1).
    #[serde(default)]
    pub ranks: Option<Vec<u16>>,
    /// Classes taken, by code (default: all).
    #[serde(default)]
    pub classes: Option<Vec<String>>,
    /// Calling policy (default: the scenario's).
    #[serde(default)]
    pub policy: Option<CallingPolicy>,
    /// Daily shifts in UTC (default: open all the time).
    #[serde(default)]
    pub shifts: Vec<Shift>,
}

/// A daily shift.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shift {
    /// Opening time (`"08:00"`).
    pub from: NaiveTime,
    /// Closing time, after `from`.
    pub to: NaiveTime,
}

/// A Poisson stream of arrivals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArrivalSpec {
    /// Service prefix.
    pub service: String,
    /// Class code.
    pub class: String,
    /// Mean arrivals per hour, while the stream runs.
    pub per_hour: f64,
    /// Daily hours (UTC) when customers arrive, as a branch's opening hours; default: always.
    #[serde(default)]
    pub hours: Option<Shift>,
}

/// One recorded arrival.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceArrival {
    /// Seconds after the start.
    pub at_secs: f64,
    /// Service prefix.
    pub service: String,
    /// Class code.
    pub class: String,
    /// Its recorded service time; default: drawn from the service's distribution.
    #[serde(default)]
    pub service_secs: Option<f64>,
}

/// A distribution of durations in seconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Dist {
    /// Exponential with the given mean.
    Exponential {
        /// Mean, seconds.
        mean_secs: f64,
    },
    /// Log-normal with the given mean and standard deviation (of the durations themselves).
    LogNormal {
        /// Mean, seconds.
        mean_secs: f64,
        /// Standard deviation, seconds.
        sd_secs: f64,
    },
    /// Always the same.
    Fixed {
        /// Seconds.
        secs: f64,
    },
}

impl Dist {
    /// The mean duration, seconds.
    pub fn mean_secs(&self) -> f64 {
        match *self {
            Self::Exponential { mean_secs } | Self::LogNormal { mean_secs, .. } => mean_secs,
            Self::Fixed { secs } => secs,
        }
    }
}

/// A distribution ready to draw from.
#[derive(Debug, Clone)]
enum Sampler {
    Exp(Exp<f64>),
    LogNormal(LogNormal<f64>),
    Fixed(f64),
}

impl Sampler {
    fn new(d: &Dist, what: &str) -> Result<Self, SimError> {
        let bad = |reason: &str| SimError::Invalid(format!("{what}: {reason}"));
        match *d {
            Dist::Exponential { mean_secs } if mean_secs > 0.0 => Ok(Self::Exp(
                Exp::new(1.0 / mean_secs).map_err(|_| bad("bad mean"))?,
            )),
            Dist::LogNormal { mean_secs, sd_secs } if mean_secs > 0.0 && sd_secs >= 0.0 => {
                // Parameters of the underlying normal from the mean and deviation wanted.
                let sigma2 = (1.0 + (sd_secs / mean_secs).powi(2)).ln();
                let mu = mean_secs.ln() - sigma2 / 2.0;
                Ok(Self::LogNormal(
                    LogNormal::new(mu, sigma2.sqrt()).map_err(|_| bad("bad deviation"))?,
                ))
            }
            Dist::Fixed { secs } if secs >= 0.0 => Ok(Self::Fixed(secs)),
            _ => Err(bad("durations must be positive")),
        }
    }

    fn sample(&self, rng: &mut StdRng) -> f64 {
        match self {
            Self::Exp(d) => d.sample(rng),
            Self::LogNormal(d) => d.sample(rng),
            Self::Fixed(s) => *s,
        }
    }
}

/// Why a scenario cannot run.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum SimError {
    /// The scenario is inconsistent.
    #[error("invalid scenario: {0}")]
    Invalid(String),
    /// The branch it describes breaks a rule of the queue.
    #[error(transparent)]
    Queue(#[from] QueueError),
}

/// Statistics of a group of customers (a class, a service, or everyone).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GroupStats {
    /// Customers who arrived (warm-up excluded).
    pub arrived: u64,
    /// Customers called.
    pub served: u64,
    /// Customers who left before being called.
    pub abandoned: u64,
    /// Customers refused a ticket (daily cap).
    pub refused: u64,
    /// Customers still waiting when the simulation ended.
    pub unserved: u64,
    /// Mean wait of those called, seconds.
    pub wait_mean: f64,
    /// Median wait, seconds.
    pub wait_median: f64,
    /// 90th percentile wait, seconds.
    pub wait_p90: f64,
    /// 95th percentile wait, seconds.
    pub wait_p95: f64,
    /// Longest wait, seconds.
    pub wait_max: f64,
    /// Share called within target, over called and abandoned.
    pub service_level: f64,
    /// Share of arrivals who left.
    pub abandonment: f64,
}

/// Use of one counter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CounterStats {
    /// Counter number.
    pub number: u16,
    /// Customers served.
    pub served: u64,
    /// Busy time over open time.
    pub utilization: f64,
}

/// Accuracy of the estimate given at issue, for tickets that had `ahead` in `from..=to`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EtaBucket {
    /// Smallest number of tickets ahead in the bucket.
    pub from: u32,
    /// Largest (inclusive; `u32::MAX` for the last bucket).
    pub to: u32,
    /// Tickets in the bucket that were called.
    pub n: u64,
    /// Mean real wait, seconds.
    pub actual_mean: f64,
    /// Mean estimate, seconds.
    pub estimate_mean: f64,
    /// Mean of estimate − real, seconds (positive: estimates too long).
    pub bias_secs: f64,
    /// Bias relative to the mean real wait, percent.
    pub bias_pct: f64,
    /// Mean absolute error, seconds.
    pub mae_secs: f64,
}

/// What a simulation found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimReport {
    /// Customers generated.
    pub customers: u64,
    /// Simulated time, seconds.
    pub simulated_secs: f64,
    /// Everyone.
    pub overall: GroupStats,
    /// Per class code.
    pub by_class: BTreeMap<String, GroupStats>,
    /// Per service prefix.
    pub by_service: BTreeMap<String, GroupStats>,
    /// Per counter.
    pub counters: Vec<CounterStats>,
    /// Estimate accuracy per position bucket.
    pub eta: Vec<EtaBucket>,
}

/// Bucket bounds of the estimate report: tickets ahead at issue.
const ETA_BUCKETS: [(u32, u32); 7] = [
    (0, 0),
    (1, 2),
    (3, 5),
    (6, 10),
    (11, 20),
    (21, 50),
    (51, u32::MAX),
];

/// Microseconds of simulated time.
type Micros = u64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Ev {
    /// Next arrival of Poisson stream `i`.
    Arrival(u32),
    /// Trace arrival `i`.
    Trace(u32),
    /// Counter `k` finishes its customer.
    Finish(u32),
    /// Customer `i` runs out of patience.
    Abandon(u32),
    /// Counter `k` opens (`true`) or closes.
    Shift(u32, bool),
}

#[derive(Debug, Clone)]
struct Customer {
    service: u16,
    class: u8,
    arrived: Micros,
    service_secs: Option<f64>,
    estimate: Option<(u32, f64)>,
    outcome: Outcome,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Outcome {
    Waiting,
    Called(f64),
    Abandoned,
    Refused,
}

#[derive(Debug, Clone)]
struct CounterSim {
    id: CounterId,
    number: u16,
    shifts: Vec<(Micros, Micros)>,
    open: bool,
    closing: bool,
    busy_with: Option<u32>,
    busy_since: Micros,
    opened_at: Micros,
    busy_total: Micros,
    open_total: Micros,
    served: u64,
}

const DAY: Micros = 86_400_000_000;

/// Simulated time starts on a Monday, midnight UTC: 2026-01-05T00:00:00Z.
const START_UNIX_SECS: i64 = 1_767_571_200;

/// The branch a scenario describes, with deterministic ids (service `i` is
/// `ServiceId::from_u128(i + 1)`, and so on), in UTC.
///
/// # Errors
/// [`SimError::Invalid`] for unknown references or empty lists.
pub fn branch_config(s: &Scenario) -> Result<BranchConfig, SimError> {
    let en = Language::en();
    let text = |t: &str| LocalizedText::single(en.clone(), t);
    if s.classes.is_empty() || s.services.is_empty() || s.counters.is_empty() {
        return Err(SimError::Invalid(
            "classes, services and counters must not be empty".into(),
        ));
    }
    let mut services = Vec::new();
    for (i, sv) in s.services.iter().enumerate() {
        Sampler::new(&sv.service_time, &sv.prefix)?;
        let mean = sv.service_time.mean_secs();
        services.push(Service {
            id: ServiceId::from_u128(i as u128 + 1),
            prefix: sv.prefix.clone(),
            name: text(&sv.prefix),
            expected_service_secs: mean.round().max(1.0) as u32,
            target_wait_secs: sv.target_wait_secs,
            max_wait_secs: sv.max_wait_secs,
            daily_cap: None,
            takes_appointments: false,
        });
    }
    let classes: Vec<PriorityClass> = s
        .classes
        .iter()
        .enumerate()
        .map(|(i, c)| PriorityClass {
            id: ClassId::from_u128(i as u128 + 1),
            code: c.code.clone(),
            name: text(&c.code),
            rank: c.rank,
            weight: c.weight,
        })
        .collect();
    let mut counters = Vec::new();
    for spec in &s.counters {
        let mut profile = Vec::new();
        for (j, prefix) in spec.services.iter().enumerate() {
            let rank = match &spec.ranks {
                Some(r) => *r.get(j).ok_or_else(|| {
                    SimError::Invalid("a counter lists fewer ranks than services".into())
                })?,
                None => 1,
            };
            profile.push(ProfileService {
                service: services[service_ix(s, prefix)?].id,
                rank,
                weight: 1,
            });
        }
        let taken = spec
            .classes
            .as_ref()
            .map(|codes| {
                codes
                    .iter()
                    .map(|c| class_ix(s, c).map(|k| classes[k].id))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        for _ in 0..spec.count {
            let n = counters.len() as u16 + 1;
            counters.push(Counter {
                id: CounterId::from_u128(u128::from(n)),
                number: n,
                name: None,
                profile: WorkProfile {
                    services: profile.clone(),
                    classes: taken.clone(),
                    policy: spec.policy.unwrap_or(s.policy),
                },
            });
        }
    }
    Ok(BranchConfig {
        branch: Branch {
            id: BranchId::from_u128(1),
            organization: OrganizationId::from_u128(1),
            name: text("Simulated branch"),
            time_zone: cem_core::chrono_tz::UTC,
            opening_hours: OpeningHours::always(),
            queue: s.queue.clone(),
        },
        classes,
        services,
        counters,
    })
}

fn service_ix(s: &Scenario, prefix: &str) -> Result<usize, SimError> {
    s.services
        .iter()
        .position(|x| x.prefix == prefix)
        .ok_or_else(|| SimError::Invalid(format!("unknown service {prefix:?}")))
}

fn class_ix(s: &Scenario, code: &str) -> Result<usize, SimError> {
    s.classes
        .iter()
        .position(|x| x.code == code)
        .ok_or_else(|| SimError::Invalid(format!("unknown class {code:?}")))
}

/// A daily window in microseconds after midnight.
fn window(sh: &Shift) -> Result<(Micros, Micros), SimError> {
    let of_day = |t: NaiveTime| {
        t.signed_duration_since(NaiveTime::MIN)
            .num_microseconds()
            .unwrap_or(0) as Micros
    };
    if sh.to <= sh.from {
        return Err(SimError::Invalid("hours must end after they start".into()));
    }
    Ok((of_day(sh.from), of_day(sh.to)))
}

/// The instant `gap` of open time after `from`, counting only the daily `window`. Exponential
/// gaps are memoryless, so carrying what is left at closing into the next opening gives exactly
/// a Poisson process that runs during the window and stops outside it.
fn after_open_time(from: Micros, mut gap: Micros, (open, close): (Micros, Micros)) -> Micros {
    let mut t = from;
    loop {
        let day = t / DAY * DAY;
        let tod = t - day;
        if tod < open {
            t = day + open;
        } else if tod >= close {
            t = day + DAY + open;
        } else if tod + gap < close {
            return t + gap;
        } else {
            gap -= close - tod;
            t = day + DAY + open;
        }
    }
}

fn micros(secs: f64) -> Micros {
    (secs.max(0.0) * 1e6).round() as Micros
}

fn instant(t: Micros) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(START_UNIX_SECS * 1_000_000 + t as i64)
        .expect("simulated time stays within chrono's range")
}

/// Runs a scenario.
///
/// # Errors
/// [`SimError`] when the scenario is inconsistent.
pub fn run(s: &Scenario) -> Result<SimReport, SimError> {
    Sim::new(s)?.run()
}

/// Runs a scenario and hands `tap` every event the queue records, in order, as a server
/// would store them (to build a history for reports, say).
///
/// # Errors
/// [`SimError`] when the scenario is inconsistent.
pub fn run_with_events(s: &Scenario, tap: impl FnMut(&QueueEvent)) -> Result<SimReport, SimError> {
    let mut sim = Sim::new(s)?;
    sim.tap = Some(Box::new(tap));
    sim.run()
}

/// A Poisson stream of arrivals, ready to run.
#[derive(Debug)]
struct Stream {
    service: u16,
    class: u8,
    gap: Exp<f64>,
    /// Daily window in microseconds after midnight, when the stream runs.
    hours: Option<(Micros, Micros)>,
}

/// What receives the events of a run.
type Tap<'a> = Box<dyn FnMut(&QueueEvent) + 'a>;

struct Sim<'a> {
    s: &'a Scenario,
    queue: BranchQueue,
    rng: StdRng,
    events: BinaryHeap<Reverse<(Micros, u64, Ev)>>,
    seq: u64,
    now: Micros,
    /// `now` as an instant, converted once per event.
    now_at: DateTime<Utc>,
    streams: Vec<Stream>,
    service_time: Vec<Sampler>,
    patience: Option<Sampler>,
    customers: Vec<Customer>,
    counters: Vec<CounterSim>,
    /// Poisson arrivals scheduled so far.
    generated: u64,
    /// Trace arrivals seen so far.
    traced: usize,
    ids: Vec<ServiceId>,
    class_ids: Vec<ClassId>,
    /// Receives every event recorded, when set.
    tap: Option<Tap<'a>>,
}

impl std::fmt::Debug for Sim<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sim").field("now", &self.now).finish()
    }
}

impl<'a> Sim<'a> {
    fn new(s: &'a Scenario) -> Result<Self, SimError> {
        let config = branch_config(s)?;
        let queue = BranchQueue::new(config.clone())?;
        let mut streams = Vec::new();
        for a in &s.arrivals {
            if !(a.per_hour > 0.0 && a.per_hour.is_finite()) {
                return Err(SimError::Invalid(format!(
                    "arrivals of {}/{} must be positive",
                    a.service, a.class
                )));
            }
            streams.push(Stream {
                service: service_ix(s, &a.service)? as u16,
                class: class_ix(s, &a.class)? as u8,
                gap: Exp::new(a.per_hour / 3600.0).map_err(|e| SimError::Invalid(e.to_string()))?,
                hours: a.hours.as_ref().map(window).transpose()?,
            });
        }
        if s.arrivals.is_empty() && s.trace.is_empty() {
            return Err(SimError::Invalid("no arrivals and no trace".into()));
        }
        let service_time = s
            .services
            .iter()
            .map(|sv| Sampler::new(&sv.service_time, &sv.prefix))
            .collect::<Result<Vec<_>, _>>()?;
        let patience = s
            .patience
            .as_ref()
            .map(|p| Sampler::new(p, "patience"))
            .transpose()?;
        let mut counters = Vec::new();
        let mut n = 0;
        for spec in &s.counters {
            for _ in 0..spec.count {
                let c = &config.counters[n];
                n += 1;
                let shifts = spec
                    .shifts
                    .iter()
                    .map(window)
                    .collect::<Result<Vec<_>, _>>()?;
                counters.push(CounterSim {
                    id: c.id,
                    number: c.number,
                    shifts,
                    open: false,
                    closing: false,
                    busy_with: None,
                    busy_since: 0,
                    opened_at: 0,
                    busy_total: 0,
                    open_total: 0,
                    served: 0,
                });
            }
        }
        Ok(Self {
            s,
            queue,
            rng: StdRng::seed_from_u64(s.seed),
            events: BinaryHeap::new(),
            seq: 0,
            now: 0,
            now_at: instant(0),
            streams,
            service_time,
            patience,
            customers: Vec::with_capacity((s.customers as usize).max(s.trace.len())),
            counters,
            generated: 0,
            traced: 0,
            ids: config.services.iter().map(|x| x.id).collect(),
            class_ids: config.classes.iter().map(|x| x.id).collect(),
            tap: None,
        })
    }

    /// Hands recorded events to the tap, if any.
    fn emit<'e>(&mut self, events: impl IntoIterator<Item = &'e QueueEvent>) {
        if let Some(tap) = &mut self.tap {
            for e in events {
                tap(e);
            }
        }
    }

    fn push(&mut self, at: Micros, ev: Ev) {
        self.seq += 1;
        self.events.push(Reverse((at, self.seq, ev)));
    }

    fn run(mut self) -> Result<SimReport, SimError> {
        for i in 0..self.streams.len() {
            self.next_arrival(i as u32);
        }
        for (i, a) in self.s.trace.iter().enumerate() {
            service_ix(self.s, &a.service)?;
            class_ix(self.s, &a.class)?;
            self.push(micros(a.at_secs), Ev::Trace(i as u32));
        }
        for k in 0..self.counters.len() {
            match self.counters[k].shifts.first() {
                None => self.open(k)?,
                Some(&(from, _)) => self.push(from, Ev::Shift(k as u32, true)),
            }
        }
        let mut shift_ends_after_arrivals = 0;
        while let Some(Reverse((at, _, ev))) = self.events.pop() {
            self.now = at;
            self.now_at = instant(at);
            match ev {
                Ev::Arrival(i) => {
                    let Stream { service, class, .. } = self.streams[i as usize];
                    self.arrive(service, class, None)?;
                    self.next_arrival(i);
                }
                Ev::Trace(i) => {
                    self.traced += 1;
                    let a = &self.s.trace[i as usize];
                    let (service, class) = (
                        service_ix(self.s, &a.service)? as u16,
                        class_ix(self.s, &a.class)? as u8,
                    );
                    self.arrive(service, class, a.service_secs)?;
                }
                Ev::Finish(k) => self.finish(k as usize)?,
                Ev::Abandon(i) => {
                    let id = TicketId::from_u128(u128::from(i) + 1);
                    if self.queue.ticket(id).map(|t| t.state) == Some(TicketState::Waiting) {
                        let events = self.queue.cancel(id, self.now_at)?;
                        self.emit(&events);
                        self.customers[i as usize].outcome = Outcome::Abandoned;
                    }
                }
                Ev::Shift(k, true) => {
                    let k = k as usize;
                    self.counters[k].closing = false;
                    if !self.counters[k].open {
                        self.open(k)?;
                    }
                    let end = self.shift_end(k);
                    self.push(end, Ev::Shift(k as u32, false));
                }
                Ev::Shift(k, false) => {
                    let k = k as usize;
                    if self.counters[k].busy_with.is_some() {
                        self.counters[k].closing = true;
                    } else {
                        self.close(k)?;
                    }
                    let next = self.next_shift_start(k);
                    if self.arrivals_done() {
                        let idle = self.queue.total_waiting() == 0
                            && self.counters.iter().all(|c| c.busy_with.is_none());
                        // Stop when everyone is served, or after a week of shifts that served
                        // nobody new (tickets of a service no counter serves).
                        shift_ends_after_arrivals += 1;
                        if idle || shift_ends_after_arrivals > 7 * self.counters.len() * 4 {
                            continue;
                        }
                    }
                    self.push(next, Ev::Shift(k as u32, true));
                }
            }
        }
        for k in 0..self.counters.len() {
            if self.counters[k].open {
                self.counters[k].open_total += self.now - self.counters[k].opened_at;
            }
        }
        Ok(self.report())
    }

    /// Whether every customer has arrived.
    fn arrivals_done(&self) -> bool {
        (self.streams.is_empty() || self.generated >= self.s.customers)
            && self.traced == self.s.trace.len()
            && !self.events.iter().any(|e| matches!(e.0.2, Ev::Arrival(_)))
    }

    fn next_arrival(&mut self, i: u32) {
        // Each stream schedules its own next arrival until the total is reached.
        if self.generated >= self.s.customers {
            return;
        }
        let stream = &self.streams[i as usize];
        let gap = micros(stream.gap.sample(&mut self.rng));
        let at = match stream.hours {
            None => self.now + gap,
            Some(window) => after_open_time(self.now, gap, window),
        };
        self.generated += 1;
        self.push(at, Ev::Arrival(i));
    }

    fn arrive(
        &mut self,
        service: u16,
        class: u8,
        service_secs: Option<f64>,
    ) -> Result<(), SimError> {
        let i = self.customers.len() as u32;
        let id = TicketId::from_u128(u128::from(i) + 1);
        let now = self.now_at;
        let issued = self.queue.issue_event(
            IssueTicket {
                ticket: id,
                service: self.ids[usize::from(service)],
                class: Some(self.class_ids[usize::from(class)]),
                source: TicketSource::Kiosk,
                customer: None,
                appointment_at: None,
            },
            now,
        );
        let outcome = match issued {
            Ok(event) => {
                self.emit([&event]);
                Outcome::Waiting
            }
            Err(QueueError::DailyCapReached { .. }) => Outcome::Refused,
            Err(e) => return Err(e.into()),
        };
        let estimate = if self.s.estimate && outcome == Outcome::Waiting {
            self.queue
                .estimate(id, now)
                .and_then(|e| Some((e.ahead, e.wait_secs?)))
        } else {
            None
        };
        self.customers.push(Customer {
            service,
            class,
            arrived: self.now,
            service_secs,
            estimate,
            outcome,
        });
        if outcome != Outcome::Waiting {
            return Ok(());
        }
        if let Some(p) = &self.patience {
            let at = self.now + micros(p.sample(&mut self.rng));
            self.push(at, Ev::Abandon(i));
        }
        for k in 0..self.counters.len() {
            if self.counters[k].open
                && self.counters[k].busy_with.is_none()
                && !self.counters[k].closing
            {
                self.call(k)?;
                if self.customers[i as usize].outcome != Outcome::Waiting {
                    break;
                }
            }
        }
        Ok(())
    }

    /// Counter `k`, open and free, calls next; returns whether it got someone.
    fn call(&mut self, k: usize) -> Result<bool, SimError> {
        let now = self.now_at;
        let id = self.counters[k].id;
        let event = match self.queue.call_next_event(id, now) {
            Ok(event) => event,
            Err(QueueError::NothingToCall { .. }) => return Ok(false),
            Err(e) => return Err(e.into()),
        };
        self.emit([&event]);
        // Service starts at the call (walking to the counter is not modelled), so the queue's
        // `finish` counts it from the call; no separate start event is needed.
        let ticket = event.ticket().expect("a call names its ticket");
        let i = (ticket.0.as_u128() - 1) as u32;
        let c = &mut self.customers[i as usize];
        c.outcome = Outcome::Called((self.now - c.arrived) as f64 / 1e6);
        let secs = match c.service_secs {
            Some(s) => s,
            None => self.service_time[usize::from(c.service)].sample(&mut self.rng),
        };
        let counter = &mut self.counters[k];
        counter.busy_with = Some(i);
        counter.busy_since = self.now;
        let end = self.now + micros(secs);
        self.push(end, Ev::Finish(k as u32));
        Ok(true)
    }

    fn finish(&mut self, k: usize) -> Result<(), SimError> {
        let id = self.counters[k].id;
        let event = self.queue.finish_event(id, self.now_at)?;
        self.emit([&event]);
        let c = &mut self.counters[k];
        c.busy_with = None;
        c.busy_total += self.now - c.busy_since;
        c.served += 1;
        if c.closing {
            self.close(k)
        } else {
            self.call(k).map(|_| ())
        }
    }

    fn open(&mut self, k: usize) -> Result<(), SimError> {
        let id = self.counters[k].id;
        let events = self.queue.open_counter(id, None, self.now_at)?;
        self.emit(&events);
        self.counters[k].open = true;
        self.counters[k].opened_at = self.now;
        self.call(k).map(|_| ())
    }

    fn close(&mut self, k: usize) -> Result<(), SimError> {
        let id = self.counters[k].id;
        let events = self.queue.close_counter(id, self.now_at)?;
        self.emit(&events);
        let c = &mut self.counters[k];
        c.open = false;
        c.closing = false;
        c.open_total += self.now - c.opened_at;
        Ok(())
    }

    /// The end of the shift that contains now.
    fn shift_end(&self, k: usize) -> Micros {
        let day = self.now / DAY * DAY;
        let tod = self.now - day;
        let shifts = &self.counters[k].shifts;
        shifts
            .iter()
            .find(|&&(from, to)| from <= tod && tod < to)
            .map_or(self.now, |&(_, to)| day + to)
    }

    /// The start of the next shift after now.
    fn next_shift_start(&self, k: usize) -> Micros {
        let day = self.now / DAY * DAY;
        let tod = self.now - day;
        let shifts = &self.counters[k].shifts;
        shifts
            .iter()
            .filter(|&&(from, _)| from > tod)
            .map(|&(from, _)| day + from)
            .min()
            .unwrap_or_else(|| day + DAY + shifts.iter().map(|s| s.0).min().unwrap_or(0))
    }

    fn report(&self) -> SimReport {
        let warm = self.s.warmup as usize;
        let measured = self.customers.get(warm..).unwrap_or_default();
        let target =
            |c: &Customer| f64::from(self.s.services[usize::from(c.service)].target_wait_secs);
        let group = |filter: &dyn Fn(&Customer) -> bool| {
            group_stats(measured.iter().filter(|c| filter(c)), &target)
        };
        let by_class = self
            .s
            .classes
            .iter()
            .enumerate()
            .map(|(k, c)| {
                (
                    c.code.clone(),
                    group(&|x: &Customer| usize::from(x.class) == k),
                )
            })
            .collect();
        let by_service = self
            .s
            .services
            .iter()
            .enumerate()
            .map(|(s, sv)| {
                (
                    sv.prefix.clone(),
                    group(&|x: &Customer| usize::from(x.service) == s),
                )
            })
            .collect();
        let counters = self
            .counters
            .iter()
            .map(|c| CounterStats {
                number: c.number,
                served: c.served,
                utilization: if c.open_total == 0 {
                    0.0
                } else {
                    c.busy_total as f64 / c.open_total as f64
                },
            })
            .collect();
        let eta = ETA_BUCKETS
            .iter()
            .map(|&(from, to)| {
                let pairs: Vec<(f64, f64)> = measured
                    .iter()
                    .filter_map(|c| match (c.estimate, c.outcome) {
                        (Some((ahead, est)), Outcome::Called(wait))
                            if (from..=to).contains(&ahead) =>
                        {
                            Some((est, wait))
                        }
                        _ => None,
                    })
                    .collect();
                let n = pairs.len() as f64;
                let mean = |f: &dyn Fn(&(f64, f64)) -> f64| {
                    if n == 0.0 {
                        0.0
                    } else {
                        pairs.iter().map(f).sum::<f64>() / n
                    }
                };
                let actual_mean = mean(&|p| p.1);
                let bias_secs = mean(&|p| p.0 - p.1);
                EtaBucket {
                    from,
                    to,
                    n: pairs.len() as u64,
                    actual_mean,
                    estimate_mean: mean(&|p| p.0),
                    bias_secs,
                    bias_pct: if actual_mean > 0.0 {
                        100.0 * bias_secs / actual_mean
                    } else {
                        0.0
                    },
                    mae_secs: mean(&|p| (p.0 - p.1).abs()),
                }
            })
            .collect();
        SimReport {
            customers: self.customers.len() as u64,
            simulated_secs: self.now as f64 / 1e6,
            overall: group(&|_| true),
            by_class,
            by_service,
            counters,
            eta,
        }
    }
}

fn group_stats<'c>(
    customers: impl Iterator<Item = &'c Customer>,
    target: &dyn Fn(&Customer) -> f64,
) -> GroupStats {
    let mut g = GroupStats::default();
    let mut waits = Vec::new();
    let mut within = 0u64;
    for c in customers {
        g.arrived += 1;
        match c.outcome {
            Outcome::Called(w) => {
                g.served += 1;
                waits.push(w);
                within += u64::from(w <= target(c));
            }
            Outcome::Abandoned => g.abandoned += 1,
            Outcome::Refused => g.refused += 1,
            Outcome::Waiting => g.unserved += 1,
        }
    }
    // Order statistics by selection, O(n) each: a full sort of millions of waits costs more
    // than the rest of the report.
    let mut pct = |p: f64| {
        if waits.is_empty() {
            return 0.0;
        }
        let i = ((waits.len() - 1) as f64 * p).round() as usize;
        *waits.select_nth_unstable_by(i, f64::total_cmp).1
    };
    g.wait_median = pct(0.5);
    g.wait_p90 = pct(0.9);
    g.wait_p95 = pct(0.95);
    g.wait_max = pct(1.0);
    g.wait_mean = if waits.is_empty() {
        0.0
    } else {
        waits.iter().sum::<f64>() / waits.len() as f64
    };
    let decided = g.served + g.abandoned;
    g.service_level = if decided == 0 {
        0.0
    } else {
        within as f64 / decided as f64
    };
    g.abandonment = if g.arrived == 0 {
        0.0
    } else {
        g.abandoned as f64 / g.arrived as f64
    };
    g
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: Micros = 3_600_000_000;

    #[test]
    fn open_time_skips_the_closed_hours() {
        let window = (9 * H, 17 * H);
        // Inside the window, a gap that fits.
        assert_eq!(after_open_time(10 * H, H, window), 11 * H);
        // Before opening: counts from the opening.
        assert_eq!(after_open_time(2 * H, H, window), 10 * H);
        // Across closing: what is left continues at the next opening.
        assert_eq!(after_open_time(16 * H, 3 * H, window), DAY + 11 * H);
        // After closing, and across days: 8 h open on day 1, 8 h on day 2, 4 h on day 3.
        assert_eq!(after_open_time(18 * H, 20 * H, window), 3 * DAY + 13 * H);
    }

    #[test]
    fn windowed_arrivals_keep_their_rate_while_open() {
        // 60 an hour for two hours a day: 120 a day, so 2 400 customers take 20 days.
        let mut s = crate::testing::one_service_scenario(4, 60.0);
        s.customers = 2_400;
        s.arrivals[0].hours = Some(Shift {
            from: NaiveTime::from_hms_opt(9, 0, 0).expect("valid"),
            to: NaiveTime::from_hms_opt(11, 0, 0).expect("valid"),
        });
        let r = run(&s).expect("valid scenario");
        let days = r.simulated_secs / 86_400.0;
        assert!((18.5..21.0).contains(&days), "{days} days");
    }

    #[test]
    fn the_tap_sees_every_event_a_replayed_queue_needs() {
        let mut s = crate::testing::one_service_scenario(2, 40.0);
        s.customers = 300;
        s.patience = Some(Dist::Exponential { mean_secs: 600.0 });
        let mut events = Vec::new();
        let report = run_with_events(&s, |e| events.push(e.clone())).expect("valid scenario");
        // The same run with and without a tap.
        assert_eq!(report, run(&s).expect("valid scenario"));
        let issued = (events.iter())
            .filter(|e| matches!(e, QueueEvent::TicketIssued { .. }))
            .count();
        assert_eq!(issued, 300);
        assert!(
            events
                .iter()
                .any(|e| matches!(e, QueueEvent::TicketCancelled { .. }))
        );
        // Replaying the events rebuilds a queue that accepts them all, in order.
        let mut queue = BranchQueue::new(branch_config(&s).expect("valid")).expect("valid");
        for e in &events {
            queue.apply(e).expect("a recorded event applies");
        }
        assert_eq!(queue.ticket_count(), 300);
    }
}
