//! Errors of reservations.

use cem_core::chrono::{DateTime, NaiveDate, Utc};
use cem_core::{BookingId, BookingState, ValidationError};
use thiserror::Error;

/// Why a reservation decision was refused. Nothing is changed by a refused decision.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum ReservationError {
    /// The plan breaks a rule of its shape.
    #[error("invalid reservation plan: {0}")]
    InvalidPlan(#[from] ValidationError),
    /// The booking belongs to another branch or service than the plan.
    #[error("booking {booking} is not of this plan's branch and service")]
    WrongPlan {
        /// The booking.
        booking: BookingId,
    },
    /// No slot of the plan starts at this instant.
    #[error("no slot starts at {start}")]
    NoSuchSlot {
        /// The asked start.
        start: DateTime<Utc>,
    },
    /// The slot starts too soon (or has started): booking closed at `deadline`.
    #[error("booking closed at {deadline}")]
    TooLateToBook {
        /// The last instant the slot could be booked.
        deadline: DateTime<Utc>,
    },
    /// The slot is beyond the booking horizon.
    #[error("slots can be booked up to {last_date}")]
    BeyondHorizon {
        /// The last local date that can be booked today.
        last_date: NaiveDate,
    },
    /// Every seat of the slot is taken.
    #[error("the slot at {start} is full")]
    SlotFull {
        /// The slot's start.
        start: DateTime<Utc>,
    },
    /// A waitlist was asked for a slot with free seats: book it instead.
    #[error("the slot at {start} has free seats")]
    SlotNotFull {
        /// The slot's start.
        start: DateTime<Utc>,
    },
    /// The plan keeps no waitlist.
    #[error("this service keeps no waitlist")]
    NoWaitlist,
    /// A reschedule to the slot the booking already has.
    #[error("the booking is already at {start}")]
    SameSlot {
        /// The slot's start.
        start: DateTime<Utc>,
    },
    /// The holder has as many live bookings as the plan allows.
    #[error("at most {limit} bookings at once")]
    ActiveLimitReached {
        /// The limit.
        limit: u32,
    },
    /// The holder has as many bookings on that date as the plan allows.
    #[error("at most {limit} bookings on {date}")]
    DailyLimitReached {
        /// The limit.
        limit: u32,
        /// The local date.
        date: NaiveDate,
    },
    /// The holder may no longer cancel or reschedule: the change notice ended at `deadline`.
    #[error("changes closed at {deadline}")]
    TooLateToChange {
        /// The last instant the holder could change the booking.
        deadline: DateTime<Utc>,
    },
    /// The booking's state does not allow the action.
    #[error("booking {booking} is {state:?} and cannot be {action}")]
    InvalidState {
        /// The booking.
        booking: BookingId,
        /// Its state.
        state: BookingState,
        /// What was asked (`cancelled`, `checked in`…).
        action: &'static str,
    },
    /// The offered seat is no longer held: the offer expired at `expired_at`.
    #[error("the offer expired at {expired_at}")]
    OfferExpired {
        /// When the offer expired.
        expired_at: DateTime<Utc>,
    },
    /// Check-in before the arrival window opens.
    #[error("check-in opens at {come_back_at}")]
    TooEarly {
        /// When the arrival window opens.
        come_back_at: DateTime<Utc>,
    },
    /// Check-in after the appointment's local date has ended.
    #[error("check-in for this booking closed at the end of {date}")]
    CheckInClosed {
        /// The appointment's local date.
        date: NaiveDate,
    },
    /// The text is not a booking code.
    #[error("not a booking code")]
    InvalidCode,
}

impl ReservationError {
    /// A stable machine-readable code for the error (`slot_full`), for APIs and logs.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidPlan(_) => "invalid_plan",
            Self::WrongPlan { .. } => "wrong_plan",
            Self::NoSuchSlot { .. } => "no_such_slot",
            Self::TooLateToBook { .. } => "too_late_to_book",
            Self::BeyondHorizon { .. } => "beyond_horizon",
            Self::SlotFull { .. } => "slot_full",
            Self::SlotNotFull { .. } => "slot_not_full",
            Self::NoWaitlist => "no_waitlist",
            Self::SameSlot { .. } => "same_slot",
            Self::ActiveLimitReached { .. } => "active_limit_reached",
            Self::DailyLimitReached { .. } => "daily_limit_reached",
            Self::TooLateToChange { .. } => "too_late_to_change",
            Self::InvalidState { .. } => "invalid_state",
            Self::OfferExpired { .. } => "offer_expired",
            Self::TooEarly { .. } => "too_early",
            Self::CheckInClosed { .. } => "check_in_closed",
            Self::InvalidCode => "invalid_code",
        }
    }
}
