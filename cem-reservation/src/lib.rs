//! # cem-reservation
//!
//! Appointments: which slots a service of a branch offers, and the decisions about bookings.
//! This is the pure core: it does no IO, draws no random numbers and never reads the clock
//! (every decision takes `now`). The records it judges, [`ReservationPlan`] and
//! [`Booking`](cem_core::Booking), live in [`cem_core::reservation`] so a store can keep them.
//!
//! - [`slots`](mod@slots): the slot grid of a plan in the branch's time zone, correct across
//!   DST changes ([`day_slots`], [`slots()`] with seats, notice and horizon, [`slot_at`]).
//! - [`booking`]: [`book`], [`join_waitlist`], [`cancel`], [`reschedule`], the waitlist's
//!   [`waitlist_offers`], [`accept_offer`] and [`lapse_waitlist`], [`check_in`] into the
//!   queue, [`mark_no_show`], [`reminder_at`], booking codes ([`booking_code`],
//!   [`parse_code`]).
//! - [`ics`]: a booking or an agenda as an RFC 5545 iCalendar file.
//! - [`ReservationError`]: why a decision was refused, with a stable [`code`](ReservationError::code).
//!
//! Capacity is counted by the caller and enforced by the store that writes the booking: the
//! core judges the count it is given, so concurrent bookings never exceed a slot's seats as
//! long as the store refuses a write that would.
//!
//! ```
//! use cem_core::chrono::{DateTime, Utc};
//! use cem_core::{BookingState, QueueSettings, TicketId};
//! use cem_reservation::testing::{berlin, date, plan_every_day, request, t, utc};
//! use cem_reservation::{CheckIn, SlotStatus, book, check_in, seats_taken, slots, to_ics};
//!
//! // Every day 09:00–12:00 in Berlin, a 20-minute appointment every 30 minutes, 2 seats.
//! let mut plan = plan_every_day(t(9, 0), t(12, 0), 30 * 60, 20 * 60);
//! plan.capacity = 2;
//! plan.validate()?;
//! let now: DateTime<Utc> = utc("2026-11-29T18:00:00Z");
//!
//! // Monday's slots: 09:00 Berlin is 08:00 UTC.
//! let monday = slots(&plan, berlin(), date(2026, 11, 30)..=date(2026, 11, 30), now, &Default::default());
//! assert_eq!(monday.len(), 6);
//! assert_eq!(monday[0].start, utc("2026-11-30T08:00:00Z"));
//! assert_eq!((monday[0].status, monday[0].available), (SlotStatus::Open, 2));
//!
//! // Book the first one; it then has one seat left.
//! let booking = book(&plan, berlin(), request(1, monday[0].start), 0, &[], now)?;
//! assert_eq!(booking.state, BookingState::Confirmed);
//! let taken = seats_taken([&booking]);
//! let monday = slots(&plan, berlin(), date(2026, 11, 30)..=date(2026, 11, 30), now, &taken);
//! assert_eq!(monday[0].available, 1);
//!
//! // The holder arrives 5 minutes early: an appointment ticket at 09:00.
//! let arrival = utc("2026-11-30T07:55:00Z");
//! let (checked_in, how) =
//!     check_in(&booking, berlin(), &QueueSettings::default(), TicketId::from_u128(7), arrival)?;
//! assert_eq!(how, CheckIn::Appointment { appointment_at: booking.start });
//! assert_eq!(checked_in.state, BookingState::CheckedIn);
//!
//! // A calendar entry to keep.
//! let ics = to_ics(&booking, "Main branch", "Passports", berlin(), "cem.example");
//! assert!(ics.contains("DTSTART:20261130T080000Z\r\n"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod booking;
pub mod error;
pub mod ics;
pub mod service;
pub mod slots;
pub mod testing;

pub use booking::{
    Actor, BookingRequest, CODE_ALPHABET, CheckIn, accept_offer, book, booking_code, cancel,
    check_in, erase_holder, holds_seat, is_live, join_waitlist, lapse_waitlist, mark_no_show,
    no_show_at, no_show_due, parse_code, reminder_at, reschedule, seats_taken, waitlist_offers,
};
pub use cem_core::Entropy;
pub use error::ReservationError;
pub use ics::{CalendarEntry, agenda_ics, to_ics};
pub use service::{Notices, ReservationService, ServiceError};
pub use slots::{
    PlanSlot, Slot, SlotStatus, booking_deadline, change_deadline, day_slots, last_bookable_date,
    slot_at, slots, timing,
};

pub use cem_core;
pub use cem_core::ReservationPlan;
