//! [`MessageKind`]: what a message says, with the data it needs and nothing more.

use cem_core::chrono_tz::Tz;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A message to a customer, before it is written in a language.
///
/// Each variant carries exactly the data its text needs. None carries personal data of the
/// customer (no name, phone number or e-mail address): the recipient travels beside the
/// message, in [`OutboundMessage::to`](cem_core::OutboundMessage::to), and never inside its
/// text. Names of services and branches come already localized by the caller, in the
/// message's language, and are written as given.
///
/// Serialized with a `kind` tag in snake case (`{"kind": "ticket_called", …}`); that document
/// is also what a webhook receives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MessageKind {
    /// A ticket was issued: its number and where to follow it.
    TicketIssued {
        /// The display number, such as `A-042`.
        display: String,
        /// The service's name.
        service: String,
        /// The branch's name.
        branch: String,
        /// The page where the customer follows the ticket.
        tracking_link: String,
    },
    /// The customer's turn is near.
    TurnNear {
        /// The display number.
        display: String,
        /// How many customers are called before this one (0: this one is next).
        position: u32,
        /// The estimated wait in minutes, when there is an estimate.
        wait_minutes: Option<u32>,
        /// The branch's name.
        branch: String,
    },
    /// The ticket was called to a counter.
    TicketCalled {
        /// The display number.
        display: String,
        /// The counter's number.
        counter: u16,
        /// The branch's name.
        branch: String,
    },
    /// A booking was made.
    BookingConfirmed {
        /// The booking.
        #[serde(flatten)]
        booking: Booking,
        /// The page where the customer changes or cancels the booking.
        manage_link: String,
    },
    /// A booking was moved or otherwise changed; the booking is the new one.
    BookingChanged {
        /// The booking as it is now.
        #[serde(flatten)]
        booking: Booking,
        /// The page where the customer changes or cancels the booking.
        manage_link: String,
    },
    /// A booking was cancelled.
    BookingCancelled {
        /// The booking that was cancelled.
        #[serde(flatten)]
        booking: Booking,
    },
    /// A booking is coming up.
    BookingReminder {
        /// The booking.
        #[serde(flatten)]
        booking: Booking,
        /// The page where the customer changes or cancels the booking.
        manage_link: String,
    },
    /// A seat freed at a full slot is offered to a customer on its waitlist, held until
    /// `until`; they take it on the booking's page.
    BookingOffered {
        /// The booking waiting for the seat.
        #[serde(flatten)]
        booking: Booking,
        /// The page where the customer takes the seat.
        manage_link: String,
        /// When the offer lapses.
        until: DateTime<Utc>,
    },
    /// An invitation to answer a survey after a visit.
    SurveyInvitation {
        /// The branch's name.
        branch: String,
        /// The survey's page.
        survey_link: String,
    },
    /// The follow-up of a customer's feedback: the branch looked into it.
    CaseResolved {
        /// The branch's name.
        branch: String,
        /// What the branch tells the customer.
        reply: String,
    },
}

/// What every booking message says of its booking (serialized inline, beside the kind's other
/// fields).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Booking {
    /// The booking code the customer shows on arrival.
    pub code: String,
    /// The service's name.
    pub service: String,
    /// The branch's name.
    pub branch: String,
    /// The appointment's start.
    pub at: DateTime<Utc>,
    /// The branch's time zone, in which the appointment is written.
    pub time_zone: Tz,
}

/// The name of every kind, in declaration order, with the placeholders its templates may use.
///
/// Booking kinds offer `{when}` (date and time), `{date}` and `{time}`, all in the booking's
/// time zone and the language's calendar. `turn_near` offers `{ahead}` and `{wait}`, phrases
/// from the catalogue's `[phrases]` table (see the crate docs).
pub const KINDS: &[(&str, &[&str])] = &[
    (
        "ticket_issued",
        &["display", "service", "branch", "tracking_link"],
    ),
    (
        "turn_near",
        &["display", "position", "ahead", "wait", "branch"],
    ),
    ("ticket_called", &["display", "counter", "branch"]),
    ("booking_confirmed", BOOKING_WITH_LINK),
    ("booking_changed", BOOKING_WITH_LINK),
    (
        "booking_cancelled",
        &["code", "service", "branch", "when", "date", "time"],
    ),
    ("booking_reminder", BOOKING_WITH_LINK),
    (
        "booking_offered",
        &[
            "code",
            "service",
            "branch",
            "when",
            "date",
            "time",
            "manage_link",
            "until",
        ],
    ),
    ("survey_invitation", &["branch", "survey_link"]),
    ("case_resolved", &["branch", "reply"]),
];

const BOOKING_WITH_LINK: &[&str] = &[
    "code",
    "service",
    "branch",
    "when",
    "date",
    "time",
    "manage_link",
];

impl MessageKind {
    /// The kind's snake-case name (`ticket_called`), as in its serialized tag and in
    /// [`OutboundMessage::kind`](cem_core::OutboundMessage::kind).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::TicketIssued { .. } => "ticket_issued",
            Self::TurnNear { .. } => "turn_near",
            Self::TicketCalled { .. } => "ticket_called",
            Self::BookingConfirmed { .. } => "booking_confirmed",
            Self::BookingChanged { .. } => "booking_changed",
            Self::BookingCancelled { .. } => "booking_cancelled",
            Self::BookingReminder { .. } => "booking_reminder",
            Self::BookingOffered { .. } => "booking_offered",
            Self::SurveyInvitation { .. } => "survey_invitation",
            Self::CaseResolved { .. } => "case_resolved",
        }
    }

    /// The placeholders this kind's templates may use.
    pub fn placeholders(&self) -> &'static [&'static str] {
        placeholders_of(self.kind()).unwrap_or_default()
    }
}

/// The placeholders of the kind named `kind`, or `None` for a name that is no kind.
pub fn placeholders_of(kind: &str) -> Option<&'static [&'static str]> {
    KINDS
        .iter()
        .find(|(name, _)| *name == kind)
        .map(|(_, names)| *names)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn serializes_with_a_snake_case_kind_tag_and_back() {
        let kind = MessageKind::BookingReminder {
            booking: Booking {
                code: "K7-2931".into(),
                service: "Passports".into(),
                branch: "Berlin".into(),
                at: Utc.with_ymd_and_hms(2026, 3, 29, 1, 30, 0).unwrap(),
                time_zone: cem_core::chrono_tz::Europe::Berlin,
            },
            manage_link: "https://cem.example/b/K7-2931".into(),
        };
        let json = serde_json::to_value(&kind).unwrap();
        assert_eq!(json["kind"], "booking_reminder");
        assert_eq!(json["time_zone"], "Europe/Berlin");
        assert_eq!(json["at"], "2026-03-29T01:30:00Z");
        let back: MessageKind = serde_json::from_value(json).unwrap();
        assert_eq!(back, kind);
        assert_eq!(back.kind(), "booking_reminder");
    }

    #[test]
    fn every_kind_is_listed_once() {
        let mut names: Vec<_> = KINDS.iter().map(|(n, _)| *n).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), KINDS.len());
        assert_eq!(
            placeholders_of("ticket_called"),
            Some(&["display", "counter", "branch"][..])
        );
        assert_eq!(placeholders_of("ticket_lost"), None);
    }
}
