//! # cem-notify
//!
//! What CEM tells customers, and how insistently: the messages themselves, pure and
//! synchronous. Sending is the [`Notifier`](cem_core::Notifier) port's business, keeping
//! messages until they are sent an outbox's; this crate decides what they say and when the
//! next attempt is due.
//!
//! - [`MessageKind`]: each message (ticket issued, turn near, ticket called, booking confirmed,
//!   changed, cancelled and reminded, survey invitation) with the data it needs and no personal
//!   data of the customer.
//! - [`render`]: a kind written in a language for a channel, from the catalogues in
//!   `locales/` (one TOML file per language, embedded in the crate), as a [`Rendered`] subject
//!   and body. Persian writes its own digits and Jalali dates ([`JalaliDate`]); English writes
//!   Gregorian dates; both in the booking's time zone. [`check_catalogues`] finds every fault
//!   of every catalogue, and the tests run it.
//! - [`RetryPolicy`]: exponential backoff with jitter drawn from the message id, up to a
//!   number of attempts.
//! - [`Courier`]: the thin async layer that delivers what is due in an
//!   [`OutboxStore`](cem_core::OutboxStore) through the notifiers, by that policy.
//! - [`Messenger`] and [`SurveyInviter`]: projections of the queue's history that derive the
//!   messages customers get (ticket issued, turn near, called) and the survey invitations
//!   after a service, each behind its own cursor.
//!
//! ## Catalogues
//!
//! A catalogue has a `[format]` table (the ten digits, the calendar, month and weekday names,
//! the date and date-time patterns), a `[phrases]` table (pieces the code picks from, such as
//! `ahead_one` or `ahead_other` by the number of people ahead) and one
//! `[messages.<kind>]` table per kind with `sms`, `email_subject` and `email_body`. Templates
//! name their values in braces (`{display}`, `{counter}`, `{when}`); [`KINDS`] lists what each
//! kind provides, and `{{` writes a brace. Adding a language is one file and one line in the
//! catalogue list.
//!
//! ```
//! use cem_core::{Channel, Language};
//! use cem_notify::{MessageKind, render};
//!
//! let called = MessageKind::TicketCalled {
//!     display: "A-042".into(),
//!     counter: 7,
//!     branch: "Central".into(),
//! };
//! let sms = render(&called, &Language::en(), Channel::Sms)?;
//! assert_eq!(sms.body, "A-042, please go to counter 7 (Central).");
//! let fa = render(&called, &Language::fa(), Channel::Sms)?;
//! assert!(fa.body.contains("A-۰۴۲") && fa.body.contains("۷"));
//! # Ok::<(), cem_notify::RenderError>(())
//! ```
//!
//! This crate does no IO of its own and reads no clock: the courier talks only to the ports.

mod address;
mod bookings;
mod cases;
mod catalogue;
mod courier;
mod error;
mod invites;
mod jalali;
mod kind;
mod messenger;
mod render;
mod retry;
mod template;

pub use bookings::{BookingNotice, BookingPlace, booking_messages};
pub use cases::case_messages;
pub use catalogue::{check_catalogues, languages};
pub use courier::{Courier, Pass};
pub use error::RenderError;
pub use invites::{INVITE_CURSOR, InviterPass, InviterStores, SurveyInviter};
pub use jalali::JalaliDate;
pub use kind::{Booking, KINDS, MessageKind, placeholders_of};
pub use messenger::{
    CURSOR, Messenger, MessengerError, MessengerPass, MessengerSettings, MessengerStores,
};
pub use render::{Rendered, render};
pub use retry::RetryPolicy;
