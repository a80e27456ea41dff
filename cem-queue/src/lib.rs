//! # cem-queue
//!
//! The heart of CEM: the queue of a branch. It owns the ticket lifecycle (issue, call, recall,
//! start, finish, no-show, cancel, park, resume, transfer), counters (open, pause, close), the
//! calling rules of the [`scheduler`] (escalation, appointments, the `strict`, `interleave` and
//! `weighted_wait` policies, work-profile ranks, class restrictions), waiting-time
//! [estimates](estimate), a discrete-event [simulator](sim) that drives the real scheduler, and
//! the async [service] that keeps branch queues over the storage ports of `cem-core`.
//!
//! Everything here is pure and synchronous: time comes in as an argument, and the crate never
//! touches a clock, a file or a network. A [`BranchQueue`] changes only by [`QueueEvent`]s;
//! every command returns the events it produced, and replaying them rebuilds the same state.
//!
//! ```
//! use cem_core::TicketId;
//! use cem_queue::{BranchQueue, IssueTicket, QueueEvent, TicketSource, TicketState};
//!
//! let config = cem_queue::testing::branch_config(1, 1);
//! let (service, counter) = (config.services[0].id, config.counters[0].id);
//! let now = "2026-11-28T08:00:00Z".parse().unwrap();
//!
//! let mut queue = BranchQueue::new(config.clone())?;
//! let mut stream: Vec<QueueEvent> = Vec::new();
//! stream.extend(queue.open_counter(counter, None, now)?);
//! let ticket = TicketId::from_u128(1);
//! let issue = IssueTicket {
//!     ticket,
//!     service,
//!     class: None,
//!     source: TicketSource::Kiosk,
//!     customer: None,
//!     appointment_at: None,
//! };
//! stream.extend(queue.issue(issue, now)?);
//! stream.extend(queue.call_next(counter, now)?);
//! assert_eq!(queue.ticket(ticket).unwrap().state, TicketState::Called);
//!
//! // The state is a fold over the events.
//! assert_eq!(BranchQueue::replay(config, &stream)?, queue);
//! # Ok::<(), cem_queue::QueueError>(())
//! ```

mod command;
mod error;
pub mod estimate;
mod event;
mod queue;
pub mod scheduler;
pub mod service;
pub mod sim;
pub mod testing;
pub mod theory;
mod ticket;

pub use command::{Command, IssueTicket};
pub use error::QueueError;
pub use estimate::Estimate;
pub use event::QueueEvent;
pub use queue::{BranchQueue, CounterStatus, CounterView, SNAPSHOT_FORMAT};
pub use service::{QueueService, ServiceError, ServiceOptions};
pub use ticket::{
    CallReason, Lane, LinePosition, Ticket, TicketSource, TicketState, TransferTarget,
    display_number,
};

/// The README's Rust examples, compiled and run as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
