//! Queue events: the only way a branch queue changes.

use cem_core::chrono::{DateTime, NaiveDate, Utc};
use cem_core::{AgentId, ClassId, CounterId, CustomerId, ServiceId, TicketId};
use serde::{Deserialize, Serialize};

use crate::ticket::{CallReason, Lane, LinePosition, TicketSource, TransferTarget};

/// Something that happened in a branch's queue.
///
/// A command validates against the current state and returns the events it produced; the state
/// is a left fold of [`BranchQueue::apply`](crate::BranchQueue::apply) over the stream, so a
/// replay rebuilds exactly the state the commands left. Events carry every decision the command
/// made (the number drawn, the lane chosen), so applying never decides anything.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum QueueEvent {
    /// A ticket was issued.
    TicketIssued {
        /// Ticket.
        ticket: TicketId,
        /// Service.
        service: ServiceId,
        /// Class.
        class: ClassId,
        /// Source.
        source: TicketSource,
        /// Customer, when known.
        customer: Option<CustomerId>,
        /// Appointment time, for booked visits.
        appointment_at: Option<DateTime<Utc>>,
        /// Ordering chosen: appointment, or walk-in (also for late appointments).
        lane: Lane,
        /// Number drawn.
        number: u32,
        /// Business day of the number.
        business_date: NaiveDate,
        /// When.
        at: DateTime<Utc>,
    },
    /// A counter called a ticket.
    TicketCalled {
        /// Ticket.
        ticket: TicketId,
        /// Counter.
        counter: CounterId,
        /// Agent at the counter.
        agent: Option<AgentId>,
        /// Why this ticket.
        reason: CallReason,
        /// When.
        at: DateTime<Utc>,
    },
    /// A called ticket was announced again.
    TicketRecalled {
        /// Ticket.
        ticket: TicketId,
        /// Counter.
        counter: CounterId,
        /// Recalls so far, this one included.
        recall: u8,
        /// When.
        at: DateTime<Utc>,
    },
    /// Service started.
    ServiceStarted {
        /// Ticket.
        ticket: TicketId,
        /// Counter.
        counter: CounterId,
        /// When.
        at: DateTime<Utc>,
    },
    /// Service finished.
    ServiceFinished {
        /// Ticket.
        ticket: TicketId,
        /// Counter.
        counter: CounterId,
        /// When.
        at: DateTime<Utc>,
    },
    /// The customer did not come.
    TicketNoShow {
        /// Ticket.
        ticket: TicketId,
        /// Counter that called.
        counter: CounterId,
        /// When.
        at: DateTime<Utc>,
    },
    /// The customer left.
    TicketCancelled {
        /// Ticket.
        ticket: TicketId,
        /// When.
        at: DateTime<Utc>,
    },
    /// Put on hold by the counter holding it.
    TicketParked {
        /// Ticket.
        ticket: TicketId,
        /// Counter.
        counter: CounterId,
        /// When.
        at: DateTime<Utc>,
    },
    /// Back from hold into its service's line.
    TicketResumed {
        /// Ticket.
        ticket: TicketId,
        /// Where in line.
        position: LinePosition,
        /// When.
        at: DateTime<Utc>,
    },
    /// Moved to another line.
    TicketTransferred {
        /// Ticket.
        ticket: TicketId,
        /// Counter that held it, if any.
        from_counter: Option<CounterId>,
        /// Destination.
        to: TransferTarget,
        /// Where in line.
        position: LinePosition,
        /// When.
        at: DateTime<Utc>,
    },
    /// A counter opened (or resumed from a pause).
    CounterOpened {
        /// Counter.
        counter: CounterId,
        /// Agent signing in.
        agent: Option<AgentId>,
        /// When.
        at: DateTime<Utc>,
    },
    /// A counter paused: it keeps its agent but calls nobody.
    CounterPaused {
        /// Counter.
        counter: CounterId,
        /// When.
        at: DateTime<Utc>,
    },
    /// A counter closed.
    CounterClosed {
        /// Counter.
        counter: CounterId,
        /// When.
        at: DateTime<Utc>,
    },
}

impl QueueEvent {
    /// When it happened.
    pub fn at(&self) -> DateTime<Utc> {
        match self {
            Self::TicketIssued { at, .. }
            | Self::TicketCalled { at, .. }
            | Self::TicketRecalled { at, .. }
            | Self::ServiceStarted { at, .. }
            | Self::ServiceFinished { at, .. }
            | Self::TicketNoShow { at, .. }
            | Self::TicketCancelled { at, .. }
            | Self::TicketParked { at, .. }
            | Self::TicketResumed { at, .. }
            | Self::TicketTransferred { at, .. }
            | Self::CounterOpened { at, .. }
            | Self::CounterPaused { at, .. }
            | Self::CounterClosed { at, .. } => *at,
        }
    }

    /// The ticket it concerns, if any.
    pub fn ticket(&self) -> Option<TicketId> {
        match self {
            Self::TicketIssued { ticket, .. }
            | Self::TicketCalled { ticket, .. }
            | Self::TicketRecalled { ticket, .. }
            | Self::ServiceStarted { ticket, .. }
            | Self::ServiceFinished { ticket, .. }
            | Self::TicketNoShow { ticket, .. }
            | Self::TicketCancelled { ticket, .. }
            | Self::TicketParked { ticket, .. }
            | Self::TicketResumed { ticket, .. }
            | Self::TicketTransferred { ticket, .. } => Some(*ticket),
            Self::CounterOpened { .. }
            | Self::CounterPaused { .. }
            | Self::CounterClosed { .. } => None,
        }
    }

    /// Every event type's name, as [`kind`](Self::kind) gives it.
    pub const KINDS: &[&str] = &[
        "ticket_issued",
        "ticket_called",
        "ticket_recalled",
        "service_started",
        "service_finished",
        "ticket_no_show",
        "ticket_cancelled",
        "ticket_parked",
        "ticket_resumed",
        "ticket_transferred",
        "counter_opened",
        "counter_paused",
        "counter_closed",
    ];

    /// A stable snake_case name of the event type (as in its JSON `type` field).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::TicketIssued { .. } => "ticket_issued",
            Self::TicketCalled { .. } => "ticket_called",
            Self::TicketRecalled { .. } => "ticket_recalled",
            Self::ServiceStarted { .. } => "service_started",
            Self::ServiceFinished { .. } => "service_finished",
            Self::TicketNoShow { .. } => "ticket_no_show",
            Self::TicketCancelled { .. } => "ticket_cancelled",
            Self::TicketParked { .. } => "ticket_parked",
            Self::TicketResumed { .. } => "ticket_resumed",
            Self::TicketTransferred { .. } => "ticket_transferred",
            Self::CounterOpened { .. } => "counter_opened",
            Self::CounterPaused { .. } => "counter_paused",
            Self::CounterClosed { .. } => "counter_closed",
        }
    }
}
