//! Errors of the queue.

use cem_core::{ClassId, CounterId, ServiceId, TicketId, ValidationError};
use thiserror::Error;

use crate::queue::CounterStatus;
use crate::ticket::TicketState;

/// Why a command was refused (nothing changed) or an event could not be applied.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum QueueError {
    /// The branch configuration is invalid.
    #[error("invalid branch configuration: {0}")]
    InvalidConfig(#[from] ValidationError),
    /// No such service in the branch.
    #[error("unknown service {service}")]
    UnknownService {
        /// Service.
        service: ServiceId,
    },
    /// No such class in the organization.
    #[error("unknown priority class {class}")]
    UnknownClass {
        /// Class.
        class: ClassId,
    },
    /// No such counter in the branch.
    #[error("unknown counter {counter}")]
    UnknownCounter {
        /// Counter.
        counter: CounterId,
    },
    /// No such ticket in the branch's current state.
    #[error("ticket {ticket} not found")]
    TicketNotFound {
        /// Ticket.
        ticket: TicketId,
    },
    /// A ticket with this id already exists.
    #[error("ticket {ticket} already exists")]
    TicketExists {
        /// Ticket.
        ticket: TicketId,
    },
    /// The ticket's state does not allow the action.
    #[error("ticket {ticket} is {state:?} and cannot be {action}")]
    InvalidTicketState {
        /// Ticket.
        ticket: TicketId,
        /// Its state.
        state: TicketState,
        /// What was asked (`called`, `resumed`…).
        action: &'static str,
    },
    /// The counter is not open.
    #[error("counter {counter} is {status:?}, not open")]
    CounterNotOpen {
        /// Counter.
        counter: CounterId,
        /// Its status.
        status: CounterStatus,
    },
    /// The counter already holds a ticket.
    #[error("counter {counter} still holds ticket {ticket}")]
    CounterBusy {
        /// Counter.
        counter: CounterId,
        /// The ticket it holds.
        ticket: TicketId,
    },
    /// The counter holds no ticket.
    #[error("counter {counter} holds no ticket")]
    CounterIdle {
        /// Counter.
        counter: CounterId,
    },
    /// The counter is already in the asked status.
    #[error("counter {counter} is already {status:?}")]
    CounterAlready {
        /// Counter.
        counter: CounterId,
        /// Its status.
        status: CounterStatus,
    },
    /// No ticket the counter may call is waiting.
    #[error("no ticket is waiting for counter {counter}")]
    NothingToCall {
        /// Counter.
        counter: CounterId,
    },
    /// The ticket's service or class is outside the counter's work profile.
    #[error("counter {counter} does not serve ticket {ticket}")]
    NotServedByCounter {
        /// Ticket.
        ticket: TicketId,
        /// Counter.
        counter: CounterId,
    },
    /// The service's daily cap is reached.
    #[error("service {service} has issued its {cap} tickets for today")]
    DailyCapReached {
        /// Service.
        service: ServiceId,
        /// The cap.
        cap: u32,
    },
    /// The service takes no appointments.
    #[error("service {service} takes no appointments")]
    AppointmentsNotAccepted {
        /// Service.
        service: ServiceId,
    },
    /// The branch is outside its opening hours.
    #[error("the branch is closed")]
    BranchClosed,
    /// An event contradicts the state it is applied to (a corrupt or foreign stream).
    #[error("event cannot be applied: {reason}")]
    InconsistentEvent {
        /// What did not fit.
        reason: String,
    },
}

impl QueueError {
    /// A stable machine-readable code for the error (`ticket_not_found`), for APIs and logs.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidConfig(_) => "invalid_config",
            Self::UnknownService { .. } => "unknown_service",
            Self::UnknownClass { .. } => "unknown_class",
            Self::UnknownCounter { .. } => "unknown_counter",
            Self::TicketNotFound { .. } => "ticket_not_found",
            Self::TicketExists { .. } => "ticket_exists",
            Self::InvalidTicketState { .. } => "invalid_ticket_state",
            Self::CounterNotOpen { .. } => "counter_not_open",
            Self::CounterBusy { .. } => "counter_busy",
            Self::CounterIdle { .. } => "counter_idle",
            Self::CounterAlready { .. } => "counter_already",
            Self::NothingToCall { .. } => "nothing_to_call",
            Self::NotServedByCounter { .. } => "not_served_by_counter",
            Self::DailyCapReached { .. } => "daily_cap_reached",
            Self::AppointmentsNotAccepted { .. } => "appointments_not_accepted",
            Self::BranchClosed => "branch_closed",
            Self::InconsistentEvent { .. } => "inconsistent_event",
        }
    }
}
