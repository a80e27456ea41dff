//! Facts: what the reports count, read from queue events.
//!
//! The [`Tracker`] follows every live ticket and counter of the streams it reads and turns each
//! queue event into the facts it completes: a point fact (an arrival, a call with its wait, a
//! finished service with its length…) at the event's instant, or a span (a counter open, a
//! counter busy) when the span ends. The KPI [`Fold`](crate::Fold) and the
//! [`HourCube`](crate::HourCube) aggregate the same facts, so both read the events in exactly
//! one way; the definitions are in the [`kpi`](crate::kpi) module docs.

use std::collections::BTreeMap;

use cem_core::chrono::{DateTime, Utc};
use cem_core::{AgentId, BranchId, ClassId, CounterId, ServiceId, TicketId};
use cem_queue::{Lane, QueueEvent, TransferTarget};
use serde::{Deserialize, Serialize};

/// Who and what a fact concerns; `None` where the fact has no such side (an arrival has no
/// counter, a counter's open span no service).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Dims {
    pub(crate) branch: BranchId,
    pub(crate) service: Option<ServiceId>,
    pub(crate) class: Option<ClassId>,
    pub(crate) counter: Option<CounterId>,
    pub(crate) agent: Option<AgentId>,
}

/// What a point fact measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Measure {
    /// A ticket was issued.
    Arrived,
    /// A ticket came in from another service.
    TransferredIn,
    /// A ticket left for another service.
    TransferredOut,
    /// A wait ended with a call.
    Called { wait_ms: i64 },
    /// A service finished, after `service_ms`.
    Served { service_ms: i64 },
    /// A called customer did not come.
    NoShow,
    /// A ticket was cancelled.
    Cancelled,
    /// An appointment ticket was called for the first time, `lateness_ms` after its appointment
    /// (negative when early).
    AppointmentCalled { lateness_ms: i64 },
}

/// A fact at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Point {
    pub(crate) at: DateTime<Utc>,
    pub(crate) dims: Dims,
    pub(crate) measure: Measure,
}

/// What a span measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SpanKind {
    /// A counter open (not paused).
    Open,
    /// A counter open and serving.
    Busy,
}

/// A fact over `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) from: DateTime<Utc>,
    pub(crate) to: DateTime<Utc>,
    pub(crate) dims: Dims,
    pub(crate) kind: SpanKind,
}

/// Receives facts.
pub(crate) trait Sink {
    fn point(&mut self, p: Point);
    fn span(&mut self, s: Span);
}

/// A live ticket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct TicketRt {
    service: ServiceId,
    class: ClassId,
    /// When it entered the line it waits in; `None` unless waiting.
    entered_at: Option<DateTime<Utc>>,
    /// Its appointment, until its first call; only for tickets issued in the appointment lane.
    appointment_at: Option<DateTime<Utc>>,
    /// The counter holding it (called or serving).
    counter: Option<CounterId>,
    /// The agent who called it.
    agent: Option<AgentId>,
    /// When it was last called (recalls excluded).
    called_at: Option<DateTime<Utc>>,
    /// When its service started.
    started_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum Status {
    Closed,
    Open,
    Paused,
}

/// A counter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct CounterRt {
    status: Status,
    agent: Option<AgentId>,
    /// Start of the current open span.
    open_since: Option<DateTime<Utc>>,
    /// The ticket it holds.
    holding: Option<TicketId>,
    /// Open spans ended since the held ticket was called, with their agent: a service that
    /// spans a pause is busy only while open.
    log: Vec<(DateTime<Utc>, DateTime<Utc>, Option<AgentId>)>,
}

impl CounterRt {
    fn closed() -> Self {
        Self {
            status: Status::Closed,
            agent: None,
            open_since: None,
            holding: None,
            log: Vec::new(),
        }
    }
}

/// Follows the tickets and counters of the streams it reads and emits facts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Tracker {
    #[serde(with = "crate::pairs")]
    tickets: BTreeMap<(BranchId, TicketId), TicketRt>,
    #[serde(with = "crate::pairs")]
    counters: BTreeMap<(BranchId, CounterId), CounterRt>,
    ignored: u64,
}

fn ms(from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
    (to - from).num_milliseconds()
}

impl Tracker {
    /// Events that did not fit what the tracker knew (a ticket issued before it started
    /// reading, a second issue of one ticket…), skipped.
    pub(crate) fn ignored(&self) -> u64 {
        self.ignored
    }

    /// Takes the other tracker's tickets and counters (its entries win).
    pub(crate) fn absorb(&mut self, other: &Tracker) {
        self.tickets
            .extend(other.tickets.iter().map(|(k, v)| (*k, v.clone())));
        self.counters
            .extend(other.counters.iter().map(|(k, v)| (*k, v.clone())));
        self.ignored += other.ignored;
    }

    /// Reads one event of `branch`'s stream.
    pub(crate) fn apply(&mut self, branch: BranchId, event: &QueueEvent, sink: &mut dyn Sink) {
        if !self.step(branch, event, sink) {
            self.ignored += 1;
        }
    }

    /// The spans still running at `until`, as if they ended then: open counters, and services
    /// under way. Changes nothing.
    pub(crate) fn pending(&self, until: DateTime<Utc>, sink: &mut dyn Sink) {
        for (&(branch, counter), c) in &self.counters {
            if let (Status::Open, Some(since)) = (c.status, c.open_since)
                && since < until
            {
                sink.span(Span {
                    from: since,
                    to: until,
                    dims: counter_dims(branch, counter, c.agent),
                    kind: SpanKind::Open,
                });
            }
            let Some(t) = c.holding.and_then(|t| self.tickets.get(&(branch, t))) else {
                continue;
            };
            if let Some(start) = t.started_at {
                busy(branch, counter, c, t, start, until, sink);
            }
        }
    }

    /// Applies an event; `false` when it did not fit.
    fn step(&mut self, branch: BranchId, event: &QueueEvent, sink: &mut dyn Sink) -> bool {
        match *event {
            QueueEvent::TicketIssued {
                ticket,
                service,
                class,
                appointment_at,
                lane,
                at,
                ..
            } => {
                if self.tickets.contains_key(&(branch, ticket)) {
                    return false;
                }
                let t = TicketRt {
                    service,
                    class,
                    entered_at: Some(at),
                    appointment_at: appointment_at.filter(|_| lane == Lane::Appointment),
                    counter: None,
                    agent: None,
                    called_at: None,
                    started_at: None,
                };
                point(sink, at, ticket_dims(branch, &t), Measure::Arrived);
                self.tickets.insert((branch, ticket), t);
            }
            QueueEvent::TicketCalled {
                ticket,
                counter,
                agent,
                at,
                ..
            } => {
                let Some(t) = self.tickets.get_mut(&(branch, ticket)) else {
                    return false;
                };
                let c = self
                    .counters
                    .entry((branch, counter))
                    .or_insert_with(CounterRt::closed);
                t.counter = Some(counter);
                t.agent = agent.or(c.agent);
                t.called_at = Some(at);
                t.started_at = None;
                c.holding = Some(ticket);
                c.log.clear();
                let dims = ticket_dims(branch, t);
                if let Some(entered) = t.entered_at.take() {
                    let wait_ms = ms(entered, at).max(0);
                    point(sink, at, dims, Measure::Called { wait_ms });
                }
                if let Some(appointment) = t.appointment_at.take() {
                    let lateness_ms = ms(appointment, at);
                    point(sink, at, dims, Measure::AppointmentCalled { lateness_ms });
                }
            }
            // A recall announces a called ticket again: its wait ended at the call.
            QueueEvent::TicketRecalled { ticket, .. } => {
                return self.tickets.contains_key(&(branch, ticket));
            }
            QueueEvent::ServiceStarted { ticket, at, .. } => {
                let Some(t) = self.tickets.get_mut(&(branch, ticket)) else {
                    return false;
                };
                t.started_at = Some(at);
            }
            QueueEvent::ServiceFinished {
                ticket,
                counter,
                at,
            } => {
                let Some(mut t) = self.tickets.remove(&(branch, ticket)) else {
                    return false;
                };
                // A console that skips the start step serves from the call, as the queue's
                // own running mean assumes.
                let start = t.started_at.or(t.called_at).unwrap_or(at);
                t.counter = Some(counter);
                let service_ms = ms(start, at).max(0);
                point(
                    sink,
                    at,
                    ticket_dims(branch, &t),
                    Measure::Served { service_ms },
                );
                t.started_at = Some(start);
                self.release(branch, &t, at, sink);
            }
            QueueEvent::TicketNoShow {
                ticket,
                counter,
                at,
            } => {
                let Some(mut t) = self.tickets.remove(&(branch, ticket)) else {
                    return false;
                };
                t.counter = Some(counter);
                point(sink, at, ticket_dims(branch, &t), Measure::NoShow);
                self.release(branch, &t, at, sink);
            }
            QueueEvent::TicketCancelled { ticket, at } => {
                let Some(t) = self.tickets.remove(&(branch, ticket)) else {
                    return false;
                };
                point(sink, at, ticket_dims(branch, &t), Measure::Cancelled);
                self.release(branch, &t, at, sink);
            }
            QueueEvent::TicketParked { ticket, at, .. } => {
                let Some(t) = self.tickets.get(&(branch, ticket)).cloned() else {
                    return false;
                };
                self.release(branch, &t, at, sink);
                let t = self.tickets.get_mut(&(branch, ticket)).expect("looked up");
                unhold(t);
                t.entered_at = None;
            }
            QueueEvent::TicketResumed { ticket, at, .. } => {
                let Some(t) = self.tickets.get_mut(&(branch, ticket)) else {
                    return false;
                };
                t.entered_at = Some(at);
            }
            QueueEvent::TicketTransferred {
                ticket,
                from_counter,
                to,
                at,
                ..
            } => {
                let Some(t) = self.tickets.get(&(branch, ticket)).cloned() else {
                    return false;
                };
                if let TransferTarget::Service(to) = to
                    && to != t.service
                {
                    let mut out = ticket_dims(branch, &t);
                    out.counter = out.counter.or(from_counter);
                    point(sink, at, out, Measure::TransferredOut);
                    let into = Dims {
                        service: Some(to),
                        counter: None,
                        agent: None,
                        ..out
                    };
                    point(sink, at, into, Measure::TransferredIn);
                }
                self.release(branch, &t, at, sink);
                let t = self.tickets.get_mut(&(branch, ticket)).expect("looked up");
                unhold(t);
                if let TransferTarget::Service(to) = to {
                    t.service = to;
                }
                // A new wait in the new line; an appointment not yet called is forgotten, as
                // the ticket now follows the walk-in order.
                t.entered_at = Some(at);
                t.appointment_at = None;
            }
            QueueEvent::CounterOpened { counter, agent, at } => {
                let c = self
                    .counters
                    .entry((branch, counter))
                    .or_insert_with(CounterRt::closed);
                if c.status == Status::Open {
                    return false;
                }
                // Re-opening after a pause keeps the agent unless a new one signs in.
                if c.status == Status::Closed || agent.is_some() {
                    c.agent = agent;
                }
                c.status = Status::Open;
                c.open_since = Some(at);
            }
            QueueEvent::CounterPaused { counter, at } => {
                let Some(c) = self.counters.get_mut(&(branch, counter)) else {
                    return false;
                };
                if c.status != Status::Open {
                    return false;
                }
                end_open(branch, counter, c, at, sink);
                c.status = Status::Paused;
            }
            QueueEvent::CounterClosed { counter, at } => {
                let Some(c) = self.counters.get_mut(&(branch, counter)) else {
                    return false;
                };
                if c.status == Status::Closed {
                    return false;
                }
                if c.status == Status::Open {
                    end_open(branch, counter, c, at, sink);
                }
                c.status = Status::Closed;
                c.agent = None;
                c.log.clear();
            }
        }
        true
    }

    /// Ends `t`'s hold on its counter at `at`: the counter was busy from the service's start
    /// (if it started) while open.
    fn release(&mut self, branch: BranchId, t: &TicketRt, at: DateTime<Utc>, sink: &mut dyn Sink) {
        let Some(counter) = t.counter else {
            return;
        };
        let Some(c) = self.counters.get_mut(&(branch, counter)) else {
            return;
        };
        if let Some(start) = t.started_at {
            busy(branch, counter, c, t, start, at, sink);
        }
        c.holding = None;
        c.log.clear();
    }
}

fn unhold(t: &mut TicketRt) {
    t.counter = None;
    t.agent = None;
    t.called_at = None;
    t.started_at = None;
}

fn point(sink: &mut dyn Sink, at: DateTime<Utc>, dims: Dims, measure: Measure) {
    sink.point(Point { at, dims, measure });
}

fn ticket_dims(branch: BranchId, t: &TicketRt) -> Dims {
    Dims {
        branch,
        service: Some(t.service),
        class: Some(t.class),
        counter: t.counter,
        agent: t.agent,
    }
}

fn counter_dims(branch: BranchId, counter: CounterId, agent: Option<AgentId>) -> Dims {
    Dims {
        branch,
        service: None,
        class: None,
        counter: Some(counter),
        agent,
    }
}

/// Ends the counter's open span at `at`, keeping it in the log while it holds a ticket.
fn end_open(
    branch: BranchId,
    counter: CounterId,
    c: &mut CounterRt,
    at: DateTime<Utc>,
    sink: &mut dyn Sink,
) {
    if let Some(since) = c.open_since.take() {
        sink.span(Span {
            from: since,
            to: at,
            dims: counter_dims(branch, counter, c.agent),
            kind: SpanKind::Open,
        });
        if c.holding.is_some() {
            c.log.push((since, at, c.agent));
        }
    }
}

/// The busy spans of serving `t` over `[start, end)`: its parts while the counter was open.
fn busy(
    branch: BranchId,
    counter: CounterId,
    c: &CounterRt,
    t: &TicketRt,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    sink: &mut dyn Sink,
) {
    let current = match (c.status, c.open_since) {
        (Status::Open, Some(since)) => Some((since, end, c.agent)),
        _ => None,
    };
    for (from, to, agent) in c.log.iter().copied().chain(current) {
        let (from, to) = (from.max(start), to.min(end));
        if from < to {
            sink.span(Span {
                from,
                to,
                dims: Dims {
                    branch,
                    service: Some(t.service),
                    class: Some(t.class),
                    counter: Some(counter),
                    agent,
                },
                kind: SpanKind::Busy,
            });
        }
    }
}
