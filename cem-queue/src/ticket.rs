//! Tickets and the vocabulary of their lifecycle.

use cem_core::chrono::{DateTime, NaiveDate, Utc};
use cem_core::{ClassId, CounterId, CustomerId, ServiceId, TicketId};
use serde::{Deserialize, Serialize};

/// Where a ticket came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketSource {
    /// A kiosk in the branch.
    Kiosk,
    /// The web pages (joined remotely).
    Web,
    /// A mobile app or the installed web app.
    Mobile,
    /// A checked-in reservation.
    Reservation,
    /// Issued by staff.
    Staff,
}

/// The state of a ticket.
///
/// A recall keeps a ticket `Called` (its `recalls` grows); a transfer puts it back to `Waiting`
/// in another line (its `transfers` grows). Both are visible as their own events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketState {
    /// In a line, waiting to be called.
    Waiting,
    /// Called to a counter; the customer is on the way.
    Called,
    /// Being served.
    Serving,
    /// On hold, out of every line until resumed.
    Parked,
    /// Served.
    Done,
    /// Did not come when called.
    NoShow,
    /// The customer left before being served.
    Cancelled,
}

impl TicketState {
    /// Whether the ticket's life is over.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Done | Self::NoShow | Self::Cancelled)
    }

    /// Whether a counter holds the ticket.
    pub fn is_held(self) -> bool {
        matches!(self, Self::Called | Self::Serving)
    }
}

/// Which ordering a waiting ticket follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lane {
    /// Arrival order.
    Walkin,
    /// Appointment order, eligible from the early window before the appointment.
    Appointment,
}

/// Where a ticket re-enters a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinePosition {
    /// At the head, behind others put first before it.
    First,
    /// At the tail.
    #[default]
    Last,
}

/// Where a transferred ticket goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum TransferTarget {
    /// The line of another (or the same) service, keeping its class.
    Service(ServiceId),
    /// The personal line of one counter, served before its other lines.
    Counter(CounterId),
}

/// Why a counter got the ticket it called.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallReason {
    /// Waited past its service's maximum wait.
    Escalated,
    /// Transferred to this counter.
    Personal,
    /// A due appointment.
    Appointment,
    /// The calling policy's choice.
    Policy,
    /// Called out of order by the agent.
    Specific,
}

/// A queue ticket as the branch sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ticket {
    /// Id.
    pub id: TicketId,
    /// The service it waits for (changes on transfer).
    pub service: ServiceId,
    /// Priority class.
    pub class: ClassId,
    /// Where it came from.
    pub source: TicketSource,
    /// The customer, when known.
    pub customer: Option<CustomerId>,
    /// Appointment time, for booked visits.
    pub appointment_at: Option<DateTime<Utc>>,
    /// The ordering it follows.
    pub lane: Lane,
    /// Number within its service and business day.
    pub number: u32,
    /// Display number (`A-042`).
    pub display: String,
    /// The branch-local business day it was issued on.
    pub business_date: NaiveDate,
    /// State.
    pub state: TicketState,
    /// When it was issued.
    pub issued_at: DateTime<Utc>,
    /// When it last entered a line (issue, transfer, resume).
    pub waiting_since: DateTime<Utc>,
    /// When it was last called (recalls included).
    pub called_at: Option<DateTime<Utc>>,
    /// When its service started.
    pub started_at: Option<DateTime<Utc>>,
    /// When its life ended.
    pub ended_at: Option<DateTime<Utc>>,
    /// The counter holding it, or that last held it.
    pub counter: Option<CounterId>,
    /// The counter whose personal line it waits in.
    pub target_counter: Option<CounterId>,
    /// Recalls since the last call.
    pub recalls: u8,
    /// Transfers so far.
    pub transfers: u8,
}

/// Formats a display number: prefix, dash, at least three digits (`A-042`, `B-1234`).
pub fn display_number(prefix: &str, number: u32) -> String {
    // Written by hand: this runs on every issue, and `format!` costs several times more.
    let mut digits = [0u8; 10];
    let mut n = number;
    let mut len = 0;
    while n > 0 || len < 3 {
        digits[len] = b'0' + (n % 10) as u8;
        n /= 10;
        len += 1;
    }
    let mut out = String::with_capacity(prefix.len() + 1 + len);
    out.push_str(prefix);
    out.push('-');
    out.extend(digits[..len].iter().rev().map(|&d| char::from(d)));
    out
}

#[cfg(test)]
mod tests {
    use super::display_number;

    #[test]
    fn display_numbers_have_at_least_three_digits() {
        assert_eq!(display_number("A", 0), "A-000");
        assert_eq!(display_number("A", 42), "A-042");
        assert_eq!(display_number("VIP", 999), "VIP-999");
        assert_eq!(display_number("B", 1234), "B-1234");
        assert_eq!(display_number("C", u32::MAX), "C-4294967295");
    }
}
