//! Event scripts written as data, for tests, examples and documentation.
//!
//! A script is a list of `(seconds after a base instant, step)`; [`script`] turns it into the
//! queue events a branch would have stored. Numbers stand for ids: ticket `1` is
//! [`ticket(1)`](ticket), service `2` is [`service(2)`](service), and so on.
//!
//! ```
//! use cem_report::testing::{Step::*, script, utc};
//!
//! let events = script(utc("2026-01-05T08:00:00Z"), &[
//!     (0, Open(1)),
//!     (0, Issue(1, 1)),
//!     (90, Call(1, 1)),
//!     (100, Start(1, 1)),
//!     (400, Finish(1, 1)),
//! ]);
//! assert_eq!(events.len(), 5);
//! ```

use cem_core::chrono::{DateTime, Duration, Utc};
use cem_core::{AgentId, BranchId, ClassId, CounterId, ServiceId, TicketId};
use cem_queue::{CallReason, Lane, LinePosition, QueueEvent, TicketSource, TransferTarget};

/// The branch of single-branch examples.
pub const BRANCH: BranchId = BranchId::from_u128(0xB);

/// Ticket `n`.
pub fn ticket(n: u128) -> TicketId {
    TicketId::from_u128(n)
}

/// Service `n`.
pub fn service(n: u128) -> ServiceId {
    ServiceId::from_u128(0x5E00 + n)
}

/// Counter `n`.
pub fn counter(n: u128) -> CounterId {
    CounterId::from_u128(0xC000 + n)
}

/// Agent `n`.
pub fn agent(n: u128) -> AgentId {
    AgentId::from_u128(0xA000 + n)
}

/// Class `n`; scripts issue in class 1 unless told otherwise.
pub fn class(n: u128) -> ClassId {
    ClassId::from_u128(0xC1A0 + n)
}

/// An instant in RFC 3339 form (`2026-01-05T08:00:00Z`).
///
/// # Panics
/// On text that is not one.
pub fn utc(s: &str) -> DateTime<Utc> {
    s.parse().expect("an RFC 3339 instant")
}

/// One step of a script; the numbers are of [`ticket`], [`service`], [`counter`], [`agent`]
/// and [`class`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// `Issue(ticket, service)`: a walk-in ticket of class 1.
    Issue(u128, u128),
    /// `IssueClass(ticket, service, class)`.
    IssueClass(u128, u128, u128),
    /// `Book(ticket, service, appointment)`: an appointment-lane ticket whose appointment is
    /// `appointment` seconds after the base instant.
    Book(u128, u128, i64),
    /// `LateBook(ticket, service, appointment)`: a ticket with an appointment that came too
    /// late and queues as a walk-in.
    LateBook(u128, u128, i64),
    /// `Call(ticket, counter)`, with no agent named in the call.
    Call(u128, u128),
    /// `CallBy(ticket, counter, agent)`.
    CallBy(u128, u128, u128),
    /// `Recall(ticket, counter)`.
    Recall(u128, u128),
    /// `Start(ticket, counter)`.
    Start(u128, u128),
    /// `Finish(ticket, counter)`.
    Finish(u128, u128),
    /// `NoShow(ticket, counter)`.
    NoShow(u128, u128),
    /// `Cancel(ticket)`.
    Cancel(u128),
    /// `Park(ticket, counter)`.
    Park(u128, u128),
    /// `Resume(ticket)`.
    Resume(u128),
    /// `Transfer(ticket, service)`: to the line of a service, from the counter holding it (if
    /// any; give it with [`TransferFrom`](Step::TransferFrom)).
    Transfer(u128, u128),
    /// `TransferFrom(ticket, counter, service)`.
    TransferFrom(u128, u128, u128),
    /// `TransferToCounter(ticket, counter)`: to a counter's personal line.
    TransferToCounter(u128, u128),
    /// `Open(counter)`, no agent.
    Open(u128),
    /// `OpenBy(counter, agent)`.
    OpenBy(u128, u128),
    /// `Pause(counter)`.
    Pause(u128),
    /// `Close(counter)`.
    Close(u128),
}

/// Queue events of one branch as a store records them: one stream, versions and global
/// positions `1, 2, …`.
pub fn recorded(
    branch: BranchId,
    events: impl IntoIterator<Item = QueueEvent>,
) -> Vec<cem_core::RecordedEvent> {
    (events.into_iter().enumerate())
        .map(|(i, e)| {
            let new = cem_queue::service::encode(&e);
            cem_core::RecordedEvent {
                branch,
                version: i as u64 + 1,
                position: i as u64 + 1,
                at: new.at,
                kind: new.kind,
                payload: new.payload,
            }
        })
        .collect()
}

/// The events of a script of `(seconds after base, step)`.
pub fn script(base: DateTime<Utc>, steps: &[(i64, Step)]) -> Vec<QueueEvent> {
    steps
        .iter()
        .map(|&(s, step)| event(base, s, step))
        .collect()
}

fn event(base: DateTime<Utc>, secs: i64, step: Step) -> QueueEvent {
    use Step::*;
    let at = base + Duration::seconds(secs);
    let issue = |t: u128, s: u128, k: u128, appointment: Option<i64>, lane: Lane| {
        QueueEvent::TicketIssued {
            ticket: ticket(t),
            service: service(s),
            class: class(k),
            source: TicketSource::Kiosk,
            customer: None,
            appointment_at: appointment.map(|a| base + Duration::seconds(a)),
            lane,
            number: t as u32,
            business_date: at.date_naive(),
            at,
        }
    };
    let call = |t: u128, k: u128, agent: Option<AgentId>| QueueEvent::TicketCalled {
        ticket: ticket(t),
        counter: counter(k),
        agent,
        reason: CallReason::Policy,
        at,
    };
    let transfer =
        |t: u128, from: Option<u128>, to: TransferTarget| QueueEvent::TicketTransferred {
            ticket: ticket(t),
            from_counter: from.map(counter),
            to,
            position: LinePosition::Last,
            at,
        };
    match step {
        Issue(t, s) => issue(t, s, 1, None, Lane::Walkin),
        IssueClass(t, s, k) => issue(t, s, k, None, Lane::Walkin),
        Book(t, s, a) => issue(t, s, 1, Some(a), Lane::Appointment),
        LateBook(t, s, a) => issue(t, s, 1, Some(a), Lane::Walkin),
        Call(t, k) => call(t, k, None),
        CallBy(t, k, a) => call(t, k, Some(agent(a))),
        Recall(t, k) => QueueEvent::TicketRecalled {
            ticket: ticket(t),
            counter: counter(k),
            recall: 1,
            at,
        },
        Start(t, k) => QueueEvent::ServiceStarted {
            ticket: ticket(t),
            counter: counter(k),
            at,
        },
        Finish(t, k) => QueueEvent::ServiceFinished {
            ticket: ticket(t),
            counter: counter(k),
            at,
        },
        NoShow(t, k) => QueueEvent::TicketNoShow {
            ticket: ticket(t),
            counter: counter(k),
            at,
        },
        Cancel(t) => QueueEvent::TicketCancelled {
            ticket: ticket(t),
            at,
        },
        Park(t, k) => QueueEvent::TicketParked {
            ticket: ticket(t),
            counter: counter(k),
            at,
        },
        Resume(t) => QueueEvent::TicketResumed {
            ticket: ticket(t),
            position: LinePosition::Last,
            at,
        },
        Transfer(t, s) => transfer(t, None, TransferTarget::Service(service(s))),
        TransferFrom(t, k, s) => transfer(t, Some(k), TransferTarget::Service(service(s))),
        TransferToCounter(t, k) => transfer(t, None, TransferTarget::Counter(counter(k))),
        Open(k) => QueueEvent::CounterOpened {
            counter: counter(k),
            agent: None,
            at,
        },
        OpenBy(k, a) => QueueEvent::CounterOpened {
            counter: counter(k),
            agent: Some(agent(a)),
            at,
        },
        Pause(k) => QueueEvent::CounterPaused {
            counter: counter(k),
            at,
        },
        Close(k) => QueueEvent::CounterClosed {
            counter: counter(k),
            at,
        },
    }
}
