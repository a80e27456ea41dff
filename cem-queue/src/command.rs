//! Commands: what callers ask a branch queue to do.

use cem_core::chrono::{DateTime, Utc};
use cem_core::{AgentId, ClassId, CounterId, CustomerId, ServiceId, TicketId};
use serde::{Deserialize, Serialize};

use crate::ticket::{LinePosition, TicketSource, TransferTarget};

/// A request to issue a ticket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IssueTicket {
    /// The new ticket's id, chosen by the caller (the core draws no randomness).
    pub ticket: TicketId,
    /// Service.
    pub service: ServiceId,
    /// Class; `None` takes the last-ranked class.
    #[serde(default)]
    pub class: Option<ClassId>,
    /// Source.
    pub source: TicketSource,
    /// Customer, when known.
    #[serde(default)]
    pub customer: Option<CustomerId>,
    /// Appointment time, for a checked-in booking.
    #[serde(default)]
    pub appointment_at: Option<DateTime<Utc>>,
}

/// Every command a branch queue accepts, for callers that route commands as data
/// (service layers, HTTP handlers, property tests).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    /// Issue a ticket.
    Issue(IssueTicket),
    /// Call the next ticket by the scheduling rules.
    CallNext {
        /// Counter.
        counter: CounterId,
    },
    /// Call a given waiting ticket out of order.
    Call {
        /// Counter.
        counter: CounterId,
        /// Ticket.
        ticket: TicketId,
    },
    /// Announce the called ticket again (past the limit it becomes a no-show).
    Recall {
        /// Counter.
        counter: CounterId,
    },
    /// Start serving the called ticket.
    Start {
        /// Counter.
        counter: CounterId,
    },
    /// Finish the ticket held (called or serving).
    Finish {
        /// Counter.
        counter: CounterId,
    },
    /// Mark the called ticket a no-show.
    NoShow {
        /// Counter.
        counter: CounterId,
    },
    /// The customer left.
    Cancel {
        /// Ticket.
        ticket: TicketId,
    },
    /// Put the held ticket on hold.
    Park {
        /// Counter.
        counter: CounterId,
    },
    /// Bring a parked ticket back to its service's line.
    Resume {
        /// Ticket.
        ticket: TicketId,
        /// Where in line.
        #[serde(default)]
        position: LinePosition,
    },
    /// Move a waiting, held or parked ticket to another line.
    Transfer {
        /// Ticket.
        ticket: TicketId,
        /// Destination.
        to: TransferTarget,
        /// Where in line.
        #[serde(default)]
        position: LinePosition,
    },
    /// Open a counter (or end its pause).
    OpenCounter {
        /// Counter.
        counter: CounterId,
        /// Agent signing in.
        #[serde(default)]
        agent: Option<AgentId>,
    },
    /// Pause a counter.
    PauseCounter {
        /// Counter.
        counter: CounterId,
    },
    /// Close a counter.
    CloseCounter {
        /// Counter.
        counter: CounterId,
    },
}
