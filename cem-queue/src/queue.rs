//! The state of one branch's queue: a fold over its events, and the commands that produce them.

use std::collections::{BTreeMap, VecDeque};

use cem_core::chrono::{DateTime, Duration, NaiveDate, Utc};
use cem_core::{
    AgentId, BranchConfig, CallingPolicy, ClassId, CounterId, ServiceId, TicketId, business_day,
};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::command::{Command, IssueTicket};
use crate::error::QueueError;
use crate::event::QueueEvent;
use crate::ticket::{
    CallReason, Lane, LinePosition, Ticket, TicketState, TransferTarget, display_number,
};

/// The encoding of [`BranchQueue::to_snapshot`]; bumped whenever the state's layout changes,
/// so older snapshots are ignored and the stream replayed.
pub const SNAPSHOT_FORMAT: u32 = 1;

/// Index of a ticket record in the slab.
pub(crate) type Slot = u32;

/// Scale of the interleave policy's stride: a class of weight `w` advances by `STRIDE / w` per call.
const STRIDE: u64 = 1 << 32;

/// Whether a counter is calling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CounterStatus {
    /// Closed: no agent.
    Closed,
    /// Open: calling.
    Open,
    /// Paused: agent present, calling nobody.
    Paused,
}

/// A counter's current state, for display.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CounterView {
    /// Counter.
    pub id: CounterId,
    /// Number shown to customers.
    pub number: u16,
    /// Status.
    pub status: CounterStatus,
    /// Agent signed in.
    pub agent: Option<AgentId>,
    /// Ticket held (called or serving).
    pub ticket: Option<TicketId>,
    /// Tickets waiting in its personal line.
    pub personal_waiting: u32,
}

/// A position in a line: the ticket's slot, the stamp it entered with and when it entered. An
/// entry whose stamp no longer matches its record is stale (the ticket left, and its slot may
/// even be empty or reused after a business-day change) and is skipped; stale entries are popped
/// from the front eagerly and compacted away when they outnumber live ones. Entries are pushed in
/// time order, so each deque is sorted by `since`, stale entries included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Entry {
    pub(crate) slot: Slot,
    pub(crate) stamp: u64,
    pub(crate) since: DateTime<Utc>,
}

/// The tickets of one (service, class) pair, or of one counter's personal line.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Line {
    /// Put "first in line": ahead of `main`, in the order they were put there.
    pub(crate) first: VecDeque<Entry>,
    /// Arrival order (transfers and resumes "last" join the tail).
    pub(crate) main: VecDeque<Entry>,
    /// Live entries in `first` and `main`.
    pub(crate) live: u32,
    /// Appointment tickets by (appointment time, stamp).
    pub(crate) appointments: BTreeMap<(DateTime<Utc>, u64), Entry>,
}

impl Line {
    /// The next walk-in of this line (front entries are always live).
    pub(crate) fn head(&self) -> Option<Entry> {
        self.first.front().or_else(|| self.main.front()).copied()
    }

    /// The earliest appointment, if it is eligible at `now`.
    pub(crate) fn due_appointment(
        &self,
        now: DateTime<Utc>,
        early: Duration,
    ) -> Option<(DateTime<Utc>, Entry)> {
        let (&(at, _), &entry) = self.appointments.first_key_value()?;
        (at - early <= now).then_some((at, entry))
    }

    pub(crate) fn waiting(&self) -> u32 {
        self.live + self.appointments.len() as u32
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Record {
    pub(crate) ticket: Ticket,
    pub(crate) service: u16,
    pub(crate) class: u8,
    /// Stamp of its current line entry; 0 when in no line.
    pub(crate) stamp: u64,
    pub(crate) place: Place,
}

/// Where a record waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Place {
    Nowhere,
    Walkin(u32),
    Appointment(u32),
    Counter(u16),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ServiceRt {
    pub(crate) id: ServiceId,
    pub(crate) prefix: String,
    #[serde(with = "opt_secs")]
    pub(crate) max_wait: Option<Duration>,
    pub(crate) daily_cap: Option<u32>,
    pub(crate) takes_appointments: bool,
    pub(crate) last_number: u32,
    /// Running mean service time, seconds (the configured expectation counts as one
    /// observation).
    pub(crate) service_secs: RunningMean,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ClassRt {
    pub(crate) id: ClassId,
    pub(crate) rank: u16,
    pub(crate) weight: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ProfileRt {
    pub(crate) service: u16,
    pub(crate) rank: u16,
    pub(crate) weight: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct CounterRt {
    pub(crate) id: CounterId,
    pub(crate) number: u16,
    pub(crate) status: CounterStatus,
    pub(crate) agent: Option<AgentId>,
    pub(crate) current: Option<Slot>,
    pub(crate) profile: Vec<ProfileRt>,
    /// Allowed classes, best rank first.
    pub(crate) classes: Vec<u8>,
    pub(crate) policy: CallingPolicy,
    /// Interleave: each class's pass value and the counter's virtual time.
    pub(crate) pass: Vec<u64>,
    pub(crate) vtime: u64,
    pub(crate) personal: Line,
    /// Running mean service time per branch service at this counter, seconds.
    pub(crate) service_secs: Vec<RunningMean>,
}

impl CounterRt {
    pub(crate) fn serves(&self, service: u16) -> bool {
        self.profile.iter().any(|p| p.service == service)
    }

    pub(crate) fn takes(&self, class: u8) -> bool {
        self.classes.contains(&class)
    }
}

/// An exponentially weighted running mean that starts as a plain mean: the weight of a new
/// observation is `max(alpha, 1/n)`, so the first observations are not drowned by the starting
/// value, and a small `alpha` (long memory) still adapts from the first day.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub(crate) struct RunningMean {
    pub(crate) mean: f64,
    pub(crate) n: u32,
}

impl RunningMean {
    /// A mean that counts `value` as one observation.
    pub(crate) fn starting_at(value: f64) -> Self {
        Self { mean: value, n: 1 }
    }

    pub(crate) fn observe(&mut self, x: f64, alpha: f64) {
        self.n = self.n.saturating_add(1);
        let weight = alpha.max(1.0 / f64::from(self.n));
        self.mean += weight * (x - self.mean);
    }

    /// The mean, if anything was observed.
    pub(crate) fn get(&self) -> Option<f64> {
        (self.n > 0).then_some(self.mean)
    }
}

/// Running arrival rate of one line: a running mean of inter-arrival seconds.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub(crate) struct ArrivalRate {
    last: Option<DateTime<Utc>>,
    gap: RunningMean,
}

impl ArrivalRate {
    fn observe(&mut self, at: DateTime<Utc>, alpha: f64) {
        if let Some(last) = self.last {
            self.gap
                .observe((at - last).as_seconds_f64().max(0.0), alpha);
        }
        self.last = Some(at);
    }

    /// Arrivals per second.
    pub(crate) fn per_sec(&self) -> f64 {
        match self.gap.get() {
            Some(g) if g > 0.0 => 1.0 / g,
            _ => 0.0,
        }
    }
}

/// The queue of one branch: tickets, lines and counters, changed only by [`QueueEvent`]s.
///
/// Commands ([`issue`](Self::issue), [`call_next`](Self::call_next), …) check the request against
/// the state, return the events that fulfil it, and apply them; a refused command returns a
/// [`QueueError`] and changes nothing. [`replay`](Self::replay) folds a stored stream into the
/// same state.
///
/// Waiting tickets sit in one line per (service, class) pair plus one personal line per counter,
/// so calling costs O(k·c + log n) for a counter serving k services and c classes with n
/// waiting, however long the lines of services it does not serve.
///
/// ```
/// use cem_core::chrono::{DateTime, Utc};
/// use cem_queue::{BranchQueue, IssueTicket, TicketSource};
/// # let config = cem_queue::testing::branch_config(2, 1);
/// let mut queue = BranchQueue::new(config.clone())?;
/// let now: DateTime<Utc> = "2026-11-28T08:00:00Z".parse().unwrap();
/// let counter = config.counters[0].id;
/// queue.open_counter(counter, None, now)?;
/// let ticket = cem_core::TicketId::from_u128(1);
/// queue.issue(
///     IssueTicket {
///         ticket,
///         service: config.services[0].id,
///         class: None,
///         source: TicketSource::Kiosk,
///         customer: None,
///         appointment_at: None,
///     },
///     now,
/// )?;
/// let events = queue.call_next(counter, now)?;
/// assert_eq!(events[0].ticket(), Some(ticket));
/// assert_eq!(queue.ticket(ticket).unwrap().display, "A-001");
/// # Ok::<(), cem_queue::QueueError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BranchQueue {
    pub(crate) config: BranchConfig,
    pub(crate) services: Vec<ServiceRt>,
    service_ix: FxHashMap<ServiceId, u16>,
    pub(crate) classes: Vec<ClassRt>,
    class_ix: FxHashMap<ClassId, u8>,
    default_class: u8,
    pub(crate) counters: Vec<CounterRt>,
    counter_ix: FxHashMap<CounterId, u16>,
    /// One line per (service, class): index `service * classes + class`.
    pub(crate) lines: Vec<Line>,
    pub(crate) arrivals: Vec<ArrivalRate>,
    pub(crate) records: Vec<Option<Record>>,
    free: Vec<Slot>,
    pub(crate) by_id: FxHashMap<TicketId, Slot>,
    stamp: u64,
    business_date: Option<NaiveDate>,
    next_day_at: Option<DateTime<Utc>>,
    last_at: Option<DateTime<Utc>>,
    version: u64,
    #[serde(with = "secs")]
    pub(crate) early: Duration,
    #[serde(with = "secs")]
    grace: Duration,
    service_alpha: f64,
    arrival_alpha: f64,
}

impl BranchQueue {
    /// An empty queue for a branch; every counter starts closed.
    ///
    /// # Errors
    /// [`QueueError::InvalidConfig`] when the configuration breaks a rule of the model.
    pub fn new(config: BranchConfig) -> Result<Self, QueueError> {
        config.validate()?;
        let n_classes = config.classes.len();
        if n_classes > usize::from(u8::MAX) || config.services.len() > usize::from(u16::MAX) {
            return Err(cem_core::ValidationError::InvalidField {
                field: "branch".into(),
                reason: "too many classes or services".into(),
            }
            .into());
        }
        let classes: Vec<ClassRt> = config
            .classes
            .iter()
            .map(|c| ClassRt {
                id: c.id,
                rank: c.rank,
                weight: c.weight,
            })
            .collect();
        let class_ix: FxHashMap<ClassId, u8> = classes
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id, i as u8))
            .collect();
        let default_class = config
            .default_class()
            .map(|c| class_ix[&c.id])
            .unwrap_or_default();
        let services: Vec<ServiceRt> = config
            .services
            .iter()
            .map(|s| ServiceRt {
                id: s.id,
                prefix: s.prefix.trim().to_string(),
                max_wait: s.max_wait_secs.map(|m| Duration::seconds(m.into())),
                daily_cap: s.daily_cap,
                takes_appointments: s.takes_appointments,
                last_number: 0,
                service_secs: RunningMean::starting_at(f64::from(s.expected_service_secs)),
            })
            .collect();
        let service_ix: FxHashMap<ServiceId, u16> = services
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id, i as u16))
            .collect();
        let counters: Vec<CounterRt> = config
            .counters
            .iter()
            .map(|c| {
                let mut allowed: Vec<u8> = (0..n_classes as u8)
                    .filter(|&k| c.profile.takes_class(classes[usize::from(k)].id))
                    .collect();
                allowed.sort_by_key(|&k| classes[usize::from(k)].rank);
                CounterRt {
                    id: c.id,
                    number: c.number,
                    status: CounterStatus::Closed,
                    agent: None,
                    current: None,
                    profile: c
                        .profile
                        .services
                        .iter()
                        .map(|p| ProfileRt {
                            service: service_ix[&p.service],
                            rank: p.rank,
                            weight: p.weight,
                        })
                        .collect(),
                    classes: allowed,
                    policy: c.profile.policy,
                    pass: vec![0; n_classes],
                    vtime: 0,
                    personal: Line::default(),
                    service_secs: vec![RunningMean::default(); services.len()],
                }
            })
            .collect();
        let counter_ix = counters
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id, i as u16))
            .collect();
        let q = &config.branch.queue;
        Ok(Self {
            lines: vec![Line::default(); services.len() * n_classes],
            arrivals: vec![ArrivalRate::default(); services.len() * n_classes],
            early: Duration::seconds(q.appointment_early_secs.into()),
            grace: Duration::seconds(q.appointment_grace_secs.into()),
            service_alpha: q.service_time_alpha,
            arrival_alpha: q.arrival_rate_alpha,
            config,
            services,
            service_ix,
            classes,
            class_ix,
            default_class,
            counters,
            counter_ix,
            records: Vec::new(),
            free: Vec::new(),
            by_id: FxHashMap::default(),
            stamp: 0,
            business_date: None,
            next_day_at: None,
            last_at: None,
            version: 0,
        })
    }

    /// The state in the compact binary form of a snapshot ([`SNAPSHOT_FORMAT`]).
    pub fn to_snapshot(&self) -> Vec<u8> {
        postcard::to_allocvec(self).expect("every part of the state serializes")
    }

    /// A state saved by [`to_snapshot`](Self::to_snapshot), if it was taken under `config`.
    ///
    /// # Errors
    /// [`QueueError::InconsistentEvent`] when the bytes do not decode or were taken under
    /// another configuration (counters or services changed since): replay the stream instead.
    pub fn from_snapshot(config: &BranchConfig, data: &[u8]) -> Result<Self, QueueError> {
        let queue: Self =
            postcard::from_bytes(data).map_err(|e| QueueError::InconsistentEvent {
                reason: format!("snapshot does not decode: {e}"),
            })?;
        if &queue.config != config {
            return Err(QueueError::InconsistentEvent {
                reason: "snapshot was taken under another branch configuration".into(),
            });
        }
        Ok(queue)
    }

    /// Rebuilds a queue by applying a stored stream to an empty one.
    ///
    /// # Errors
    /// [`QueueError::InvalidConfig`], or [`QueueError::InconsistentEvent`] (and the other
    /// reference errors) when an event does not fit the state before it.
    pub fn replay<'a>(
        config: BranchConfig,
        events: impl IntoIterator<Item = &'a QueueEvent>,
    ) -> Result<Self, QueueError> {
        let mut queue = Self::new(config)?;
        for event in events {
            queue.apply(event)?;
        }
        Ok(queue)
    }

    // ----- queries -------------------------------------------------------------------------

    /// The configuration the queue was built from.
    pub fn config(&self) -> &BranchConfig {
        &self.config
    }

    /// Events applied so far (the stream version this state reflects).
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The instant of the last event applied.
    pub fn last_event_at(&self) -> Option<DateTime<Utc>> {
        self.last_at
    }

    /// A ticket of the current business day (or still open from an earlier one).
    pub fn ticket(&self, id: TicketId) -> Option<&Ticket> {
        self.by_id.get(&id).map(|&s| &self.record(s).ticket)
    }

    /// How many tickets the state holds (those of the current business day and those still
    /// open from earlier ones).
    pub fn ticket_count(&self) -> usize {
        self.by_id.len()
    }

    /// Every ticket in the state, in no particular order.
    pub fn tickets(&self) -> impl Iterator<Item = &Ticket> {
        self.records.iter().flatten().map(|r| &r.ticket)
    }

    /// Waiting tickets of a service (all classes, personal lines excluded).
    pub fn waiting_count(&self, service: ServiceId) -> u32 {
        let Some(&s) = self.service_ix.get(&service) else {
            return 0;
        };
        let n = self.classes.len();
        self.lines[usize::from(s) * n..(usize::from(s) + 1) * n]
            .iter()
            .map(Line::waiting)
            .sum()
    }

    /// Waiting tickets a counter may call: its services in the classes it takes, and its
    /// personal line; 0 for an unknown counter. O(services × classes), not O(tickets).
    pub fn waiting_for_counter(&self, counter: CounterId) -> u32 {
        let Some(&k) = self.counter_ix.get(&counter) else {
            return 0;
        };
        let Some(profile) = self.config.counter(counter).map(|c| &c.profile) else {
            return 0;
        };
        let mut n = self.counters[usize::from(k)].personal.live;
        for p in &profile.services {
            let Some(&s) = self.service_ix.get(&p.service) else {
                continue;
            };
            for (c, class) in self.classes.iter().enumerate() {
                if profile.takes_class(class.id) {
                    n += self.lines[self.line_ix(s, c as u8)].waiting();
                }
            }
        }
        n
    }

    /// Every waiting ticket of the branch.
    pub fn total_waiting(&self) -> u32 {
        self.lines.iter().map(Line::waiting).sum::<u32>()
            + self.counters.iter().map(|c| c.personal.live).sum::<u32>()
    }

    /// A counter's current state.
    pub fn counter(&self, id: CounterId) -> Option<CounterView> {
        let c = &self.counters[usize::from(*self.counter_ix.get(&id)?)];
        Some(CounterView {
            id: c.id,
            number: c.number,
            status: c.status,
            agent: c.agent,
            ticket: c.current.map(|s| self.record(s).ticket.id),
            personal_waiting: c.personal.live,
        })
    }

    /// Every counter's current state, in configuration order.
    pub fn counters(&self) -> impl Iterator<Item = CounterView> + '_ {
        self.counters.iter().filter_map(|c| self.counter(c.id))
    }

    /// The running mean service time of a service, in seconds.
    pub fn mean_service_secs(&self, service: ServiceId) -> Option<f64> {
        let &s = self.service_ix.get(&service)?;
        Some(self.services[usize::from(s)].service_secs.mean)
    }

    pub(crate) fn record(&self, slot: Slot) -> &Record {
        self.records[slot as usize]
            .as_ref()
            .expect("line entries and counters point at live records")
    }

    fn record_mut(&mut self, slot: Slot) -> &mut Record {
        self.records[slot as usize]
            .as_mut()
            .expect("line entries and counters point at live records")
    }

    pub(crate) fn is_live(&self, e: Entry) -> bool {
        matches!(&self.records[e.slot as usize], Some(r) if r.stamp == e.stamp)
    }

    pub(crate) fn line_ix(&self, service: u16, class: u8) -> usize {
        usize::from(service) * self.classes.len() + usize::from(class)
    }

    // ----- commands ------------------------------------------------------------------------

    /// Runs a command given as data.
    ///
    /// # Errors
    /// As the command's own method.
    pub fn handle(
        &mut self,
        command: &Command,
        now: DateTime<Utc>,
    ) -> Result<Vec<QueueEvent>, QueueError> {
        let d = self.decision(command, now)?;
        self.commit(d.event, d.slot)
    }

    /// Issues a ticket: draws the next number of its service for the branch's business day and
    /// puts it in line (an appointment later than the grace period queues as a walk-in).
    ///
    /// # Errors
    /// `TicketExists`, `UnknownService`, `UnknownClass`, `AppointmentsNotAccepted`,
    /// `DailyCapReached`, and `BranchClosed` outside opening hours (staff may still issue).
    pub fn issue(
        &mut self,
        req: IssueTicket,
        now: DateTime<Utc>,
    ) -> Result<Vec<QueueEvent>, QueueError> {
        self.issue_event(req, now).map(|e| vec![e])
    }

    /// [`issue`](Self::issue) returning its one event without a `Vec` (the simulator's path).
    pub(crate) fn issue_event(
        &mut self,
        req: IssueTicket,
        now: DateTime<Utc>,
    ) -> Result<QueueEvent, QueueError> {
        let d = self.decide_issue(req, now)?;
        self.commit_one(d.event, d.slot)
    }

    /// Decides [`issue_event`](Self::issue_event) without changing the state.
    fn decide_issue(&self, req: IssueTicket, now: DateTime<Utc>) -> Result<Decided, QueueError> {
        let now = self.clamp(now);
        if self.by_id.contains_key(&req.ticket) {
            return Err(QueueError::TicketExists { ticket: req.ticket });
        }
        let s = self.service_index(req.service)?;
        let class = match req.class {
            Some(c) => {
                self.class_index(c)?;
                c
            }
            None => self.classes[usize::from(self.default_class)].id,
        };
        let svc = &self.services[usize::from(s)];
        if req.source != crate::TicketSource::Staff
            && !self
                .config
                .branch
                .opening_hours
                .is_open(self.config.branch.time_zone, now)
        {
            return Err(QueueError::BranchClosed);
        }
        let lane = match req.appointment_at {
            Some(_) if !svc.takes_appointments => {
                return Err(QueueError::AppointmentsNotAccepted {
                    service: req.service,
                });
            }
            Some(at) if now <= at + self.grace => Lane::Appointment,
            _ => Lane::Walkin,
        };
        let business_date = self.business_date_at(now);
        let number = if Some(business_date) == self.business_date {
            svc.last_number + 1
        } else {
            1
        };
        if let Some(cap) = svc.daily_cap
            && number > cap
        {
            return Err(QueueError::DailyCapReached {
                service: req.service,
                cap,
            });
        }
        decided(
            QueueEvent::TicketIssued {
                ticket: req.ticket,
                service: req.service,
                class,
                source: req.source,
                customer: req.customer,
                appointment_at: req.appointment_at,
                lane,
                number,
                business_date,
                at: now,
            },
            None,
        )
    }

    /// Calls the next ticket for a counter, by the rules of [`crate::scheduler`].
    ///
    /// # Errors
    /// `UnknownCounter`, `CounterNotOpen`, `CounterBusy`, `NothingToCall`.
    pub fn call_next(
        &mut self,
        counter: CounterId,
        now: DateTime<Utc>,
    ) -> Result<Vec<QueueEvent>, QueueError> {
        self.call_next_event(counter, now).map(|e| vec![e])
    }

    /// [`call_next`](Self::call_next) returning its one event without a `Vec` (the simulator's path).
    pub(crate) fn call_next_event(
        &mut self,
        counter: CounterId,
        now: DateTime<Utc>,
    ) -> Result<QueueEvent, QueueError> {
        let d = self.decide_call_next(counter, now)?;
        self.commit_one(d.event, d.slot)
    }

    /// Decides [`call_next_event`](Self::call_next_event) without changing the state.
    fn decide_call_next(
        &self,
        counter: CounterId,
        now: DateTime<Utc>,
    ) -> Result<Decided, QueueError> {
        let now = self.clamp(now);
        let k = self.free_open_counter(counter)?;
        let (slot, reason) = self
            .select(&self.counters[usize::from(k)], now)
            .ok_or(QueueError::NothingToCall { counter })?;
        let ticket = self.record(slot).ticket.id;
        decided(self.called(k, ticket, reason, now), Some(slot))
    }

    /// Calls a given waiting ticket out of order. The counter must serve the ticket's service and
    /// class, or the ticket must wait in the counter's personal line.
    ///
    /// # Errors
    /// `UnknownCounter`, `CounterNotOpen`, `CounterBusy`, `TicketNotFound`,
    /// `InvalidTicketState`, `NotServedByCounter`.
    pub fn call(
        &mut self,
        counter: CounterId,
        ticket: TicketId,
        now: DateTime<Utc>,
    ) -> Result<Vec<QueueEvent>, QueueError> {
        let d = self.decide_call(counter, ticket, now)?;
        self.commit(d.event, d.slot)
    }

    /// Decides [`call`](Self::call) without changing the state.
    fn decide_call(
        &self,
        counter: CounterId,
        ticket: TicketId,
        now: DateTime<Utc>,
    ) -> Result<Decided, QueueError> {
        let now = self.clamp(now);
        let k = self.free_open_counter(counter)?;
        let slot = self.slot(ticket)?;
        let r = self.record(slot);
        self.expect_state(r, &[TicketState::Waiting], "called")?;
        let c = &self.counters[usize::from(k)];
        let allowed = match r.place {
            Place::Counter(pk) => pk == k,
            _ => c.serves(r.service) && c.takes(r.class),
        };
        if !allowed {
            return Err(QueueError::NotServedByCounter { ticket, counter });
        }
        decided(
            self.called(k, ticket, CallReason::Specific, now),
            Some(slot),
        )
    }

    /// Announces the called ticket again; past the branch's recall limit it becomes a no-show.
    ///
    /// # Errors
    /// `UnknownCounter`, `CounterIdle`, `InvalidTicketState` (already serving).
    pub fn recall(
        &mut self,
        counter: CounterId,
        now: DateTime<Utc>,
    ) -> Result<Vec<QueueEvent>, QueueError> {
        let d = self.decide_recall(counter, now)?;
        self.commit(d.event, d.slot)
    }

    /// Decides [`recall`](Self::recall) without changing the state.
    fn decide_recall(&self, counter: CounterId, now: DateTime<Utc>) -> Result<Decided, QueueError> {
        let now = self.clamp(now);
        let (_, slot) = self.held(counter)?;
        let r = self.record(slot);
        self.expect_state(r, &[TicketState::Called], "recalled")?;
        let ticket = r.ticket.id;
        let event = if r.ticket.recalls >= self.config.branch.queue.recall_limit {
            QueueEvent::TicketNoShow {
                ticket,
                counter,
                at: now,
            }
        } else {
            QueueEvent::TicketRecalled {
                ticket,
                counter,
                recall: r.ticket.recalls + 1,
                at: now,
            }
        };
        decided(event, Some(slot))
    }

    /// Starts serving the called ticket.
    ///
    /// # Errors
    /// `UnknownCounter`, `CounterIdle`, `InvalidTicketState` (already serving).
    pub fn start(
        &mut self,
        counter: CounterId,
        now: DateTime<Utc>,
    ) -> Result<Vec<QueueEvent>, QueueError> {
        let d = self.decide_start(counter, now)?;
        self.commit(d.event, d.slot)
    }

    /// Decides [`start`](Self::start) without changing the state.
    fn decide_start(&self, counter: CounterId, now: DateTime<Utc>) -> Result<Decided, QueueError> {
        let now = self.clamp(now);
        let (_, slot) = self.held(counter)?;
        let r = self.record(slot);
        self.expect_state(r, &[TicketState::Called], "started")?;
        let ticket = r.ticket.id;
        decided(
            QueueEvent::ServiceStarted {
                ticket,
                counter,
                at: now,
            },
            Some(slot),
        )
    }

    /// Finishes the held ticket. Finishing a called ticket without a start counts its service
    /// from the call.
    ///
    /// # Errors
    /// `UnknownCounter`, `CounterIdle`.
    pub fn finish(
        &mut self,
        counter: CounterId,
        now: DateTime<Utc>,
    ) -> Result<Vec<QueueEvent>, QueueError> {
        self.finish_event(counter, now).map(|e| vec![e])
    }

    /// [`finish`](Self::finish) returning its one event without a `Vec` (the simulator's path).
    pub(crate) fn finish_event(
        &mut self,
        counter: CounterId,
        now: DateTime<Utc>,
    ) -> Result<QueueEvent, QueueError> {
        let d = self.decide_finish(counter, now)?;
        self.commit_one(d.event, d.slot)
    }

    /// Decides [`finish_event`](Self::finish_event) without changing the state.
    fn decide_finish(&self, counter: CounterId, now: DateTime<Utc>) -> Result<Decided, QueueError> {
        let now = self.clamp(now);
        let (_, slot) = self.held(counter)?;
        let ticket = self.record(slot).ticket.id;
        decided(
            QueueEvent::ServiceFinished {
                ticket,
                counter,
                at: now,
            },
            Some(slot),
        )
    }

    /// Marks the called ticket a no-show.
    ///
    /// # Errors
    /// `UnknownCounter`, `CounterIdle`, `InvalidTicketState` (already serving).
    pub fn no_show(
        &mut self,
        counter: CounterId,
        now: DateTime<Utc>,
    ) -> Result<Vec<QueueEvent>, QueueError> {
        let d = self.decide_no_show(counter, now)?;
        self.commit(d.event, d.slot)
    }

    /// Decides [`no_show`](Self::no_show) without changing the state.
    fn decide_no_show(
        &self,
        counter: CounterId,
        now: DateTime<Utc>,
    ) -> Result<Decided, QueueError> {
        let now = self.clamp(now);
        let (_, slot) = self.held(counter)?;
        let r = self.record(slot);
        self.expect_state(r, &[TicketState::Called], "marked a no-show")?;
        let ticket = r.ticket.id;
        decided(
            QueueEvent::TicketNoShow {
                ticket,
                counter,
                at: now,
            },
            Some(slot),
        )
    }

    /// The customer left: cancels a waiting, called or parked ticket.
    ///
    /// # Errors
    /// `TicketNotFound`, `InvalidTicketState`.
    pub fn cancel(
        &mut self,
        ticket: TicketId,
        now: DateTime<Utc>,
    ) -> Result<Vec<QueueEvent>, QueueError> {
        let d = self.decide_cancel(ticket, now)?;
        self.commit(d.event, d.slot)
    }

    /// Decides [`cancel`](Self::cancel) without changing the state.
    fn decide_cancel(&self, ticket: TicketId, now: DateTime<Utc>) -> Result<Decided, QueueError> {
        let now = self.clamp(now);
        let slot = self.slot(ticket)?;
        let r = self.record(slot);
        self.expect_state(
            r,
            &[
                TicketState::Waiting,
                TicketState::Called,
                TicketState::Parked,
            ],
            "cancelled",
        )?;
        decided(QueueEvent::TicketCancelled { ticket, at: now }, Some(slot))
    }

    /// Puts the held ticket on hold and frees the counter.
    ///
    /// # Errors
    /// `UnknownCounter`, `CounterIdle`.
    pub fn park(
        &mut self,
        counter: CounterId,
        now: DateTime<Utc>,
    ) -> Result<Vec<QueueEvent>, QueueError> {
        let d = self.decide_park(counter, now)?;
        self.commit(d.event, d.slot)
    }

    /// Decides [`park`](Self::park) without changing the state.
    fn decide_park(&self, counter: CounterId, now: DateTime<Utc>) -> Result<Decided, QueueError> {
        let now = self.clamp(now);
        let (_, slot) = self.held(counter)?;
        let ticket = self.record(slot).ticket.id;
        decided(
            QueueEvent::TicketParked {
                ticket,
                counter,
                at: now,
            },
            Some(slot),
        )
    }

    /// Brings a parked ticket back to its service's line.
    ///
    /// # Errors
    /// `TicketNotFound`, `InvalidTicketState`.
    pub fn resume(
        &mut self,
        ticket: TicketId,
        position: LinePosition,
        now: DateTime<Utc>,
    ) -> Result<Vec<QueueEvent>, QueueError> {
        let d = self.decide_resume(ticket, position, now)?;
        self.commit(d.event, d.slot)
    }

    /// Decides [`resume`](Self::resume) without changing the state.
    fn decide_resume(
        &self,
        ticket: TicketId,
        position: LinePosition,
        now: DateTime<Utc>,
    ) -> Result<Decided, QueueError> {
        let now = self.clamp(now);
        let slot = self.slot(ticket)?;
        let r = self.record(slot);
        self.expect_state(r, &[TicketState::Parked], "resumed")?;
        decided(
            QueueEvent::TicketResumed {
                ticket,
                position,
                at: now,
            },
            Some(slot),
        )
    }

    /// Moves a waiting, held or parked ticket to a service's line (keeping its class) or to a
    /// counter's personal line, first or last.
    ///
    /// # Errors
    /// `TicketNotFound`, `InvalidTicketState`, `UnknownService`, `UnknownCounter`.
    pub fn transfer(
        &mut self,
        ticket: TicketId,
        to: TransferTarget,
        position: LinePosition,
        now: DateTime<Utc>,
    ) -> Result<Vec<QueueEvent>, QueueError> {
        let d = self.decide_transfer(ticket, to, position, now)?;
        self.commit(d.event, d.slot)
    }

    /// Decides [`transfer`](Self::transfer) without changing the state.
    fn decide_transfer(
        &self,
        ticket: TicketId,
        to: TransferTarget,
        position: LinePosition,
        now: DateTime<Utc>,
    ) -> Result<Decided, QueueError> {
        let now = self.clamp(now);
        let slot = self.slot(ticket)?;
        let r = self.record(slot);
        self.expect_state(
            r,
            &[
                TicketState::Waiting,
                TicketState::Called,
                TicketState::Serving,
                TicketState::Parked,
            ],
            "transferred",
        )?;
        let from_counter = r
            .ticket
            .state
            .is_held()
            .then_some(r.ticket.counter)
            .flatten();
        match to {
            TransferTarget::Service(s) => {
                self.service_index(s)?;
            }
            TransferTarget::Counter(c) => {
                self.counter_index(c)?;
            }
        }
        decided(
            QueueEvent::TicketTransferred {
                ticket,
                from_counter,
                to,
                position,
                at: now,
            },
            Some(slot),
        )
    }

    /// Opens a counter, or ends its pause; an agent may sign in with it.
    ///
    /// # Errors
    /// `UnknownCounter`, `CounterAlready` when it is open.
    pub fn open_counter(
        &mut self,
        counter: CounterId,
        agent: Option<AgentId>,
        now: DateTime<Utc>,
    ) -> Result<Vec<QueueEvent>, QueueError> {
        let d = self.decide_open_counter(counter, agent, now)?;
        self.commit(d.event, d.slot)
    }

    /// Decides [`open_counter`](Self::open_counter) without changing the state.
    fn decide_open_counter(
        &self,
        counter: CounterId,
        agent: Option<AgentId>,
        now: DateTime<Utc>,
    ) -> Result<Decided, QueueError> {
        let now = self.clamp(now);
        let k = self.counter_index(counter)?;
        let status = self.counters[usize::from(k)].status;
        if status == CounterStatus::Open {
            return Err(QueueError::CounterAlready { counter, status });
        }
        decided(
            QueueEvent::CounterOpened {
                counter,
                agent,
                at: now,
            },
            None,
        )
    }

    /// Pauses an open counter; it may finish the ticket it holds but calls nobody.
    ///
    /// # Errors
    /// `UnknownCounter`, `CounterNotOpen`.
    pub fn pause_counter(
        &mut self,
        counter: CounterId,
        now: DateTime<Utc>,
    ) -> Result<Vec<QueueEvent>, QueueError> {
        let d = self.decide_pause_counter(counter, now)?;
        self.commit(d.event, d.slot)
    }

    /// Decides [`pause_counter`](Self::pause_counter) without changing the state.
    fn decide_pause_counter(
        &self,
        counter: CounterId,
        now: DateTime<Utc>,
    ) -> Result<Decided, QueueError> {
        let now = self.clamp(now);
        let k = self.counter_index(counter)?;
        let status = self.counters[usize::from(k)].status;
        if status != CounterStatus::Open {
            return Err(QueueError::CounterNotOpen { counter, status });
        }
        decided(QueueEvent::CounterPaused { counter, at: now }, None)
    }

    /// Closes a counter that holds no ticket.
    ///
    /// # Errors
    /// `UnknownCounter`, `CounterAlready` when closed, `CounterBusy` while it holds a ticket.
    pub fn close_counter(
        &mut self,
        counter: CounterId,
        now: DateTime<Utc>,
    ) -> Result<Vec<QueueEvent>, QueueError> {
        let d = self.decide_close_counter(counter, now)?;
        self.commit(d.event, d.slot)
    }

    /// Decides [`close_counter`](Self::close_counter) without changing the state.
    fn decide_close_counter(
        &self,
        counter: CounterId,
        now: DateTime<Utc>,
    ) -> Result<Decided, QueueError> {
        let now = self.clamp(now);
        let k = self.counter_index(counter)?;
        let c = &self.counters[usize::from(k)];
        if c.status == CounterStatus::Closed {
            return Err(QueueError::CounterAlready {
                counter,
                status: c.status,
            });
        }
        if let Some(slot) = c.current {
            return Err(QueueError::CounterBusy {
                counter,
                ticket: self.record(slot).ticket.id,
            });
        }
        decided(QueueEvent::CounterClosed { counter, at: now }, None)
    }

    // ----- command helpers -------------------------------------------------------------------

    /// The one event `command` would produce, without applying it: [`handle`](Self::handle)
    /// is this followed by [`apply`](Self::apply). A caller that stores events before it
    /// changes its state (the service) keeps the state as it was when the store refuses them.
    ///
    /// # Errors
    /// As `handle`; the state is unchanged either way.
    pub fn decide(&self, command: &Command, now: DateTime<Utc>) -> Result<QueueEvent, QueueError> {
        self.decision(command, now).map(|d| d.event)
    }

    fn decision(&self, command: &Command, now: DateTime<Utc>) -> Result<Decided, QueueError> {
        match command {
            Command::Issue(req) => self.decide_issue(req.clone(), now),
            Command::CallNext { counter } => self.decide_call_next(*counter, now),
            Command::Call { counter, ticket } => self.decide_call(*counter, *ticket, now),
            Command::Recall { counter } => self.decide_recall(*counter, now),
            Command::Start { counter } => self.decide_start(*counter, now),
            Command::Finish { counter } => self.decide_finish(*counter, now),
            Command::NoShow { counter } => self.decide_no_show(*counter, now),
            Command::Cancel { ticket } => self.decide_cancel(*ticket, now),
            Command::Park { counter } => self.decide_park(*counter, now),
            Command::Resume { ticket, position } => self.decide_resume(*ticket, *position, now),
            Command::Transfer {
                ticket,
                to,
                position,
            } => self.decide_transfer(*ticket, *to, *position, now),
            Command::OpenCounter { counter, agent } => {
                self.decide_open_counter(*counter, *agent, now)
            }
            Command::PauseCounter { counter } => self.decide_pause_counter(*counter, now),
            Command::CloseCounter { counter } => self.decide_close_counter(*counter, now),
        }
    }

    /// Time never runs backwards inside a stream: an instant before the last event is read as
    /// the last event's instant, so events stay ordered whatever the callers' clocks say.
    fn clamp(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        self.last_at.map_or(now, |last| now.max(last))
    }

    fn business_date_at(&self, now: DateTime<Utc>) -> NaiveDate {
        match (self.business_date, self.next_day_at) {
            (Some(d), Some(next)) if now < next => d,
            _ => business_day(self.config.branch.time_zone, now).0,
        }
    }

    /// Applies the one event a command produced and returns it (see [`commit_one`]).
    ///
    /// [`commit_one`]: Self::commit_one
    fn commit(
        &mut self,
        event: QueueEvent,
        slot: Option<Slot>,
    ) -> Result<Vec<QueueEvent>, QueueError> {
        self.commit_one(event, slot).map(|e| vec![e])
    }

    /// Applies the one event a command produced and returns it. `slot` is the record of the
    /// event's ticket when the command already found it: applying then skips the id lookup, a
    /// cache miss saved on the hot paths when a million tickets wait.
    fn commit_one(
        &mut self,
        event: QueueEvent,
        slot: Option<Slot>,
    ) -> Result<QueueEvent, QueueError> {
        self.apply_with(&event, slot)?;
        Ok(event)
    }

    fn called(
        &self,
        k: u16,
        ticket: TicketId,
        reason: CallReason,
        now: DateTime<Utc>,
    ) -> QueueEvent {
        let c = &self.counters[usize::from(k)];
        QueueEvent::TicketCalled {
            ticket,
            counter: c.id,
            agent: c.agent,
            reason,
            at: now,
        }
    }

    fn service_index(&self, service: ServiceId) -> Result<u16, QueueError> {
        self.service_ix
            .get(&service)
            .copied()
            .ok_or(QueueError::UnknownService { service })
    }

    fn class_index(&self, class: ClassId) -> Result<u8, QueueError> {
        self.class_ix
            .get(&class)
            .copied()
            .ok_or(QueueError::UnknownClass { class })
    }

    fn counter_index(&self, counter: CounterId) -> Result<u16, QueueError> {
        self.counter_ix
            .get(&counter)
            .copied()
            .ok_or(QueueError::UnknownCounter { counter })
    }

    fn slot(&self, ticket: TicketId) -> Result<Slot, QueueError> {
        self.by_id
            .get(&ticket)
            .copied()
            .ok_or(QueueError::TicketNotFound { ticket })
    }

    fn free_open_counter(&self, counter: CounterId) -> Result<u16, QueueError> {
        let k = self.counter_index(counter)?;
        let c = &self.counters[usize::from(k)];
        if c.status != CounterStatus::Open {
            return Err(QueueError::CounterNotOpen {
                counter,
                status: c.status,
            });
        }
        if let Some(slot) = c.current {
            return Err(QueueError::CounterBusy {
                counter,
                ticket: self.record(slot).ticket.id,
            });
        }
        Ok(k)
    }

    fn held(&self, counter: CounterId) -> Result<(u16, Slot), QueueError> {
        let k = self.counter_index(counter)?;
        let slot = self.counters[usize::from(k)]
            .current
            .ok_or(QueueError::CounterIdle { counter })?;
        Ok((k, slot))
    }

    fn expect_state(
        &self,
        r: &Record,
        allowed: &[TicketState],
        action: &'static str,
    ) -> Result<(), QueueError> {
        if allowed.contains(&r.ticket.state) {
            Ok(())
        } else {
            Err(QueueError::InvalidTicketState {
                ticket: r.ticket.id,
                state: r.ticket.state,
                action,
            })
        }
    }

    // ----- the fold ----------------------------------------------------------------------------

    /// Applies one event. This is the only place state changes; commands apply the events they
    /// return through it, and [`replay`](Self::replay) applies a stored stream.
    ///
    /// # Errors
    /// When the event does not fit the state (unknown references, a transition the state does
    /// not allow): the stream is corrupt or belongs to another branch. The state is unchanged.
    pub fn apply(&mut self, event: &QueueEvent) -> Result<(), QueueError> {
        self.apply_with(event, None)
    }

    /// [`apply`](Self::apply), with the slot of the event's ticket when the caller knows it.
    fn apply_with(&mut self, event: &QueueEvent, slot: Option<Slot>) -> Result<(), QueueError> {
        self.apply_inner(event, slot)?;
        self.version += 1;
        self.last_at = Some(self.last_at.map_or(event.at(), |l| l.max(event.at())));
        Ok(())
    }

    fn apply_inner(&mut self, event: &QueueEvent, hint: Option<Slot>) -> Result<(), QueueError> {
        match *event {
            QueueEvent::TicketIssued {
                ticket,
                service,
                class,
                source,
                customer,
                appointment_at,
                lane,
                number,
                business_date,
                at,
            } => {
                if self.by_id.contains_key(&ticket) {
                    return Err(QueueError::TicketExists { ticket });
                }
                let s = self.service_index(service)?;
                let k = self.class_index(class)?;
                if lane == Lane::Appointment && appointment_at.is_none() {
                    return Err(inconsistent("appointment lane without appointment time"));
                }
                if self.business_date != Some(business_date) {
                    self.start_business_day(business_date, at);
                }
                let svc = &mut self.services[usize::from(s)];
                svc.last_number = number;
                let display = display_number(&svc.prefix, number);
                let record = Record {
                    ticket: Ticket {
                        id: ticket,
                        service,
                        class,
                        source,
                        customer,
                        appointment_at,
                        lane,
                        number,
                        display,
                        business_date,
                        state: TicketState::Waiting,
                        issued_at: at,
                        waiting_since: at,
                        called_at: None,
                        started_at: None,
                        ended_at: None,
                        counter: None,
                        target_counter: None,
                        recalls: 0,
                        transfers: 0,
                    },
                    service: s,
                    class: k,
                    stamp: 0,
                    place: Place::Nowhere,
                };
                let slot = match self.free.pop() {
                    Some(slot) => {
                        self.records[slot as usize] = Some(record);
                        slot
                    }
                    None => {
                        self.records.push(Some(record));
                        (self.records.len() - 1) as Slot
                    }
                };
                self.by_id.insert(ticket, slot);
                let line = self.line_ix(s, k);
                let alpha = self.arrival_alpha;
                self.arrivals[line].observe(at, alpha);
                match lane {
                    Lane::Walkin => {
                        self.enqueue(slot, Place::Walkin(line as u32), LinePosition::Last)
                    }
                    Lane::Appointment => {
                        self.enqueue(slot, Place::Appointment(line as u32), LinePosition::Last)
                    }
                }
            }
            QueueEvent::TicketCalled {
                ticket,
                counter,
                agent: _,
                reason: _,
                at,
            } => {
                let k = self.counter_index(counter)?;
                let slot = self.slot_hinted(ticket, hint)?;
                self.check_state(slot, &[TicketState::Waiting])?;
                if self.counters[usize::from(k)].current.is_some() {
                    return Err(inconsistent("call by a counter that holds a ticket"));
                }
                self.dequeue(slot);
                let r = self.record_mut(slot);
                r.ticket.state = TicketState::Called;
                r.ticket.called_at = Some(at);
                r.ticket.counter = Some(counter);
                r.ticket.target_counter = None;
                r.ticket.recalls = 0;
                let class = usize::from(r.class);
                let stride = STRIDE / u64::from(self.classes[class].weight);
                let c = &mut self.counters[usize::from(k)];
                c.current = Some(slot);
                let start = c.pass[class].max(c.vtime);
                c.vtime = start;
                c.pass[class] = start.saturating_add(stride);
            }
            QueueEvent::TicketRecalled {
                ticket,
                counter,
                recall,
                at,
            } => {
                let slot = self.held_by(ticket, counter, hint)?;
                self.check_state(slot, &[TicketState::Called])?;
                let r = self.record_mut(slot);
                r.ticket.recalls = recall;
                r.ticket.called_at = Some(at);
            }
            QueueEvent::ServiceStarted {
                ticket,
                counter,
                at,
            } => {
                let slot = self.held_by(ticket, counter, hint)?;
                self.check_state(slot, &[TicketState::Called])?;
                let r = self.record_mut(slot);
                r.ticket.state = TicketState::Serving;
                r.ticket.started_at = Some(at);
            }
            QueueEvent::ServiceFinished {
                ticket,
                counter,
                at,
            } => {
                let slot = self.held_by(ticket, counter, hint)?;
                let k = self.counter_index(counter)?;
                let alpha = self.service_alpha;
                let r = self.record_mut(slot);
                let began = r.ticket.started_at.or(r.ticket.called_at).unwrap_or(at);
                r.ticket.state = TicketState::Done;
                r.ticket.ended_at = Some(at);
                let s = usize::from(r.service);
                let secs = (at - began).as_seconds_f64().max(0.0);
                self.services[s].service_secs.observe(secs, alpha);
                let c = &mut self.counters[usize::from(k)];
                c.current = None;
                c.service_secs[s].observe(secs, alpha);
            }
            QueueEvent::TicketNoShow {
                ticket,
                counter,
                at,
            } => {
                let slot = self.held_by(ticket, counter, hint)?;
                self.check_state(slot, &[TicketState::Called])?;
                self.release(slot);
                self.end(slot, TicketState::NoShow, at);
            }
            QueueEvent::TicketCancelled { ticket, at } => {
                let slot = self.slot_hinted(ticket, hint)?;
                self.check_state(
                    slot,
                    &[
                        TicketState::Waiting,
                        TicketState::Called,
                        TicketState::Parked,
                    ],
                )?;
                self.dequeue(slot);
                self.release(slot);
                self.end(slot, TicketState::Cancelled, at);
            }
            QueueEvent::TicketParked {
                ticket,
                counter,
                at: _,
            } => {
                let slot = self.held_by(ticket, counter, hint)?;
                self.release(slot);
                self.record_mut(slot).ticket.state = TicketState::Parked;
            }
            QueueEvent::TicketResumed {
                ticket,
                position,
                at,
            } => {
                let slot = self.slot_hinted(ticket, hint)?;
                self.check_state(slot, &[TicketState::Parked])?;
                let r = self.record_mut(slot);
                r.ticket.state = TicketState::Waiting;
                r.ticket.waiting_since = at;
                // Back in the walk-in line, whatever lane it was issued in.
                r.ticket.lane = Lane::Walkin;
                let (s, k) = (r.service, r.class);
                let line = self.line_ix(s, k);
                self.enqueue(slot, Place::Walkin(line as u32), position);
            }
            QueueEvent::TicketTransferred {
                ticket,
                from_counter: _,
                to,
                position,
                at,
            } => {
                let slot = self.slot_hinted(ticket, hint)?;
                self.check_state(
                    slot,
                    &[
                        TicketState::Waiting,
                        TicketState::Called,
                        TicketState::Serving,
                        TicketState::Parked,
                    ],
                )?;
                let (service, place) = match to {
                    TransferTarget::Service(id) => {
                        let s = self.service_index(id)?;
                        let line = self.line_ix(s, self.record(slot).class);
                        (Some((id, s)), Place::Walkin(line as u32))
                    }
                    TransferTarget::Counter(c) => (None, Place::Counter(self.counter_index(c)?)),
                };
                self.dequeue(slot);
                self.release(slot);
                let r = self.record_mut(slot);
                r.ticket.state = TicketState::Waiting;
                r.ticket.waiting_since = at;
                r.ticket.transfers = r.ticket.transfers.saturating_add(1);
                r.ticket.lane = Lane::Walkin;
                r.ticket.target_counter = match to {
                    TransferTarget::Counter(c) => Some(c),
                    TransferTarget::Service(_) => None,
                };
                if let Some((id, s)) = service {
                    r.ticket.service = id;
                    r.service = s;
                }
                self.enqueue(slot, place, position);
            }
            QueueEvent::CounterOpened {
                counter,
                agent,
                at: _,
            } => {
                let k = self.counter_index(counter)?;
                let c = &mut self.counters[usize::from(k)];
                if c.status == CounterStatus::Open {
                    return Err(inconsistent("opening an open counter"));
                }
                // Re-opening after a pause keeps the agent unless a new one signs in.
                if c.status == CounterStatus::Closed || agent.is_some() {
                    c.agent = agent;
                }
                c.status = CounterStatus::Open;
            }
            QueueEvent::CounterPaused { counter, at: _ } => {
                let k = self.counter_index(counter)?;
                let c = &mut self.counters[usize::from(k)];
                if c.status != CounterStatus::Open {
                    return Err(inconsistent("pausing a counter that is not open"));
                }
                c.status = CounterStatus::Paused;
            }
            QueueEvent::CounterClosed { counter, at: _ } => {
                let k = self.counter_index(counter)?;
                let c = &mut self.counters[usize::from(k)];
                if c.current.is_some() || c.status == CounterStatus::Closed {
                    return Err(inconsistent("closing a busy or closed counter"));
                }
                c.status = CounterStatus::Closed;
                c.agent = None;
            }
        }
        Ok(())
    }

    fn check_state(&self, slot: Slot, allowed: &[TicketState]) -> Result<(), QueueError> {
        self.expect_state(self.record(slot), allowed, "changed so")
            .map_err(|e| inconsistent(&e.to_string()))
    }

    /// The slot of `ticket`: `hint` when it holds that ticket, else looked up.
    fn slot_hinted(&self, ticket: TicketId, hint: Option<Slot>) -> Result<Slot, QueueError> {
        match hint {
            Some(s)
                if self.records[s as usize]
                    .as_ref()
                    .is_some_and(|r| r.ticket.id == ticket) =>
            {
                Ok(s)
            }
            _ => self.slot(ticket),
        }
    }

    fn held_by(
        &self,
        ticket: TicketId,
        counter: CounterId,
        hint: Option<Slot>,
    ) -> Result<Slot, QueueError> {
        let slot = self.slot_hinted(ticket, hint)?;
        let k = self.counter_index(counter)?;
        if self.counters[usize::from(k)].current != Some(slot) {
            return Err(inconsistent(&format!(
                "ticket {ticket} is not held by counter {counter}"
            )));
        }
        Ok(slot)
    }

    /// A new business day: numbering restarts, and the finished tickets of earlier days leave
    /// the state (their history stays in the event stream).
    fn start_business_day(&mut self, date: NaiveDate, at: DateTime<Utc>) {
        let (_, next) = business_day(self.config.branch.time_zone, at);
        self.business_date = Some(date);
        self.next_day_at = Some(next);
        for s in &mut self.services {
            s.last_number = 0;
        }
        for slot in 0..self.records.len() {
            if let Some(r) = &self.records[slot]
                && r.ticket.state.is_terminal()
            {
                self.by_id.remove(&r.ticket.id);
                self.records[slot] = None;
                self.free.push(slot as Slot);
            }
        }
    }

    fn next_stamp(&mut self) -> u64 {
        self.stamp += 1;
        self.stamp
    }

    fn enqueue(&mut self, slot: Slot, place: Place, position: LinePosition) {
        let stamp = self.next_stamp();
        let r = self.record_mut(slot);
        r.place = place;
        r.stamp = stamp;
        let entry = Entry {
            slot,
            stamp,
            since: r.ticket.waiting_since,
        };
        match place {
            Place::Nowhere => {}
            Place::Appointment(l) => {
                let at = r
                    .ticket
                    .appointment_at
                    .expect("appointment lane has a time");
                self.lines[l as usize]
                    .appointments
                    .insert((at, stamp), entry);
            }
            Place::Walkin(_) | Place::Counter(_) => {
                let line = self.walkin_line_mut(place);
                match position {
                    LinePosition::First => line.first.push_back(entry),
                    LinePosition::Last => line.main.push_back(entry),
                }
                line.live += 1;
            }
        }
    }

    /// Takes a record out of whatever line it waits in.
    fn dequeue(&mut self, slot: Slot) {
        let r = self.record_mut(slot);
        let place = std::mem::replace(&mut r.place, Place::Nowhere);
        match place {
            Place::Nowhere => {}
            Place::Appointment(l) => {
                let at = r
                    .ticket
                    .appointment_at
                    .expect("appointment lane has a time");
                let stamp = std::mem::take(&mut r.stamp);
                self.lines[l as usize].appointments.remove(&(at, stamp));
            }
            Place::Walkin(_) | Place::Counter(_) => {
                r.stamp = 0;
                let records = &self.records;
                let line = match place {
                    Place::Walkin(l) => &mut self.lines[l as usize],
                    Place::Counter(k) => &mut self.counters[usize::from(k)].personal,
                    _ => unreachable!(),
                };
                line.live -= 1;
                let live =
                    |e: &Entry| matches!(&records[e.slot as usize], Some(r) if r.stamp == e.stamp);
                while line.first.front().is_some_and(|e| !live(e)) {
                    line.first.pop_front();
                }
                while line.main.front().is_some_and(|e| !live(e)) {
                    line.main.pop_front();
                }
                if line.first.len() + line.main.len() > 2 * line.live as usize + 32 {
                    line.first.retain(live);
                    line.main.retain(live);
                }
            }
        }
    }

    fn walkin_line_mut(&mut self, place: Place) -> &mut Line {
        match place {
            Place::Walkin(l) => &mut self.lines[l as usize],
            Place::Counter(k) => &mut self.counters[usize::from(k)].personal,
            _ => unreachable!("appointments have no walk-in line"),
        }
    }

    /// Frees the counter holding the record, if any.
    fn release(&mut self, slot: Slot) {
        let r = self.record(slot);
        if r.ticket.state.is_held()
            && let Some(counter) = r.ticket.counter
        {
            let k = self.counter_ix[&counter];
            self.counters[usize::from(k)].current = None;
        }
    }

    fn end(&mut self, slot: Slot, state: TicketState, at: DateTime<Utc>) {
        let r = self.record_mut(slot);
        r.ticket.state = state;
        r.ticket.ended_at = Some(at);
    }
}

fn inconsistent(reason: &str) -> QueueError {
    QueueError::InconsistentEvent {
        reason: reason.to_string(),
    }
}

/// Durations as whole seconds in snapshots (chrono's `TimeDelta` has no serde form).
mod secs {
    use cem_core::chrono::Duration;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(d.num_seconds())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        i64::deserialize(d).map(Duration::seconds)
    }
}

/// Optional durations as whole seconds in snapshots.
mod opt_secs {
    use cem_core::chrono::Duration;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(super) fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        d.map(|d| d.num_seconds()).serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Duration>, D::Error> {
        Option::<i64>::deserialize(d).map(|o| o.map(Duration::seconds))
    }
}

/// The event a command decided on, with the record of its ticket when the command found it:
/// applying then skips the id lookup, a cache miss saved on the hot paths when a million
/// tickets wait.
#[derive(Debug)]
struct Decided {
    event: QueueEvent,
    slot: Option<Slot>,
}

/// A decision, as the command helpers return it.
#[allow(clippy::unnecessary_wraps)]
fn decided(event: QueueEvent, slot: Option<Slot>) -> Result<Decided, QueueError> {
    Ok(Decided { event, slot })
}
