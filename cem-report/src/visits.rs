//! Customers' visits from the queue's history: what each event changes in the visit of a
//! known customer's ticket ([`VisitChange`]), for [`OrgStore::apply_visits`].
//!
//! [`OrgStore::apply_visits`]: cem_core::OrgStore::apply_visits

use std::collections::HashSet;

use cem_core::{BranchId, RecordedEvent, ServiceId, TicketId, Visit, VisitChange, VisitOutcome};
use cem_queue::service::decode;
use cem_queue::{QueueEvent, TransferTarget, display_number};

use crate::error::ReportError;

/// Follows the tickets of known customers through the history.
///
/// Only tickets issued with a customer become visits; the follower remembers them while they
/// are open, so the events of every other ticket change nothing. After a restart, seed it
/// with [`OrgStore::open_visits`](cem_core::OrgStore::open_visits).
#[derive(Debug, Default, Clone)]
pub struct VisitFollower {
    open: HashSet<TicketId>,
}

impl VisitFollower {
    /// A follower that knows these open visits' tickets.
    pub fn new(open: impl IntoIterator<Item = TicketId>) -> Self {
        Self {
            open: open.into_iter().collect(),
        }
    }

    /// The changes `events` make, in order. `prefix` gives a service's ticket prefix (for
    /// the display number); a service it does not know gets none.
    ///
    /// # Errors
    /// An event that cannot be decoded.
    pub fn changes(
        &mut self,
        events: &[RecordedEvent],
        prefix: impl Fn(BranchId, ServiceId) -> Option<String>,
    ) -> Result<Vec<VisitChange>, ReportError> {
        let mut out = Vec::new();
        for recorded in events {
            let event = decode(recorded)?;
            if let QueueEvent::TicketIssued {
                ticket,
                service,
                customer: Some(customer),
                number,
                at,
                ..
            } = event
            {
                self.open.insert(ticket);
                out.push(VisitChange::Issued(Visit {
                    ticket,
                    customer,
                    branch: recorded.branch,
                    service,
                    display: prefix(recorded.branch, service)
                        .map(|p| display_number(&p, number))
                        .unwrap_or_else(|| number.to_string()),
                    issued_at: at,
                    called_at: None,
                    finished_at: None,
                    outcome: VisitOutcome::Waiting,
                }));
                continue;
            }
            let Some(ticket) = ticket_of(&event) else {
                continue;
            };
            if !self.open.contains(&ticket) {
                continue;
            }
            let change = match event {
                QueueEvent::TicketCalled { at, .. } | QueueEvent::TicketRecalled { at, .. } => {
                    VisitChange::Called { ticket, at }
                }
                QueueEvent::ServiceFinished { at, .. } => {
                    self.open.remove(&ticket);
                    VisitChange::Finished { ticket, at }
                }
                QueueEvent::TicketNoShow { .. } => {
                    self.open.remove(&ticket);
                    VisitChange::Ended {
                        ticket,
                        outcome: VisitOutcome::NoShow,
                    }
                }
                QueueEvent::TicketCancelled { .. } => {
                    self.open.remove(&ticket);
                    VisitChange::Ended {
                        ticket,
                        outcome: VisitOutcome::Cancelled,
                    }
                }
                QueueEvent::TicketTransferred { to, .. } => VisitChange::Requeued {
                    ticket,
                    service: match to {
                        TransferTarget::Service(service) => Some(service),
                        TransferTarget::Counter(_) => None,
                    },
                },
                QueueEvent::TicketParked { .. } | QueueEvent::TicketResumed { .. } => {
                    VisitChange::Requeued {
                        ticket,
                        service: None,
                    }
                }
                _ => continue,
            };
            out.push(change);
        }
        Ok(out)
    }
}

fn ticket_of(event: &QueueEvent) -> Option<TicketId> {
    match event {
        QueueEvent::TicketIssued { ticket, .. }
        | QueueEvent::TicketCalled { ticket, .. }
        | QueueEvent::TicketRecalled { ticket, .. }
        | QueueEvent::ServiceStarted { ticket, .. }
        | QueueEvent::ServiceFinished { ticket, .. }
        | QueueEvent::TicketNoShow { ticket, .. }
        | QueueEvent::TicketCancelled { ticket, .. }
        | QueueEvent::TicketParked { ticket, .. }
        | QueueEvent::TicketResumed { ticket, .. }
        | QueueEvent::TicketTransferred { ticket, .. } => Some(*ticket),
        _ => None,
    }
}
