//! [`ReservationStore`]: reservation plans and bookings, with the capacity of every slot
//! enforced by the store itself.
//!
//! The rules of booking live in `cem-reservation` and decide against counts read a moment
//! earlier; between that read and the write another client may take the last seat. So every
//! write that makes a booking hold a seat states the slot's capacity, and the store refuses it
//! (`Conflict`) when the seats already held at that slot reach it, atomically, whatever the
//! number of clients, pools or servers. Messages a change causes (a confirmation, a change, a
//! cancellation) are enqueued in the outbox in the same transaction.

use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::reservation::{Booking, BookingCode, ReservationPlan};
use crate::{
    BookingId, BranchId, CustomerId, OrganizationId, OutboundMessage, ServiceId, StoreError,
};

/// The `what` of the [`StoreError::Conflict`] a full slot gives.
pub const SLOT_FULL: &str = "slot_full";
/// The `what` of the [`StoreError::Conflict`] a booking code already used in the organization
/// gives.
pub const CODE_TAKEN: &str = "code_taken";
/// The `what` of the [`StoreError::Conflict`] a stale revision gives.
pub const STALE: &str = "stale";

/// Who a booking's holder is, to count their bookings: the customer, or a guest by phone
/// number or e-mail address. A booking matches when any given field matches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HolderKey {
    /// The customer id.
    pub customer: Option<CustomerId>,
    /// A phone number, exactly as stored.
    pub phone: Option<String>,
    /// An e-mail address, exactly as stored.
    pub email: Option<String>,
}

/// Reservation plans and bookings.
///
/// Every method is atomic. Instants are kept to the microsecond.
#[async_trait]
pub trait ReservationStore: Send + Sync + fmt::Debug + 'static {
    /// Creates or replaces the plan of a service at a branch.
    ///
    /// # Errors
    /// `Unavailable` or `Backend`.
    async fn put_plan(&self, plan: &ReservationPlan) -> Result<(), StoreError>;

    /// The plans of a branch, by service id.
    ///
    /// # Errors
    /// `Unavailable` or `Backend`.
    async fn plans(&self, branch: BranchId) -> Result<Vec<ReservationPlan>, StoreError>;

    /// Deletes the plan of a service at a branch; its bookings stay.
    ///
    /// # Errors
    /// `NotFound`; `Unavailable` or `Backend`.
    async fn delete_plan(&self, branch: BranchId, service: ServiceId) -> Result<(), StoreError>;

    /// Stores a new booking and enqueues `messages` (pending, due at once), in one
    /// transaction.
    ///
    /// # Behavior
    /// When the booking holds a seat ([`BookingState::holds_seat`](crate::reservation::BookingState::holds_seat)), it is stored only if fewer than
    /// `capacity` bookings of the same branch, service and start hold one: of many clients
    /// racing for the last seat, exactly one gets it. A booking that holds no seat (a place
    /// on the waitlist) is stored without the check.
    ///
    /// # Errors
    /// `Conflict` with `what` [`SLOT_FULL`] when the slot is full, [`CODE_TAKEN`] when the
    /// organization has a booking with that code; `Conflict` too when the id exists;
    /// `Unavailable` or `Backend`. Nothing was written.
    async fn insert_booking(
        &self,
        booking: &Booking,
        capacity: u32,
        messages: &[OutboundMessage],
    ) -> Result<(), StoreError>;

    /// Replaces a booking whose stored revision is `booking.revision - 1`, and enqueues
    /// `messages`, in one transaction.
    ///
    /// # Behavior
    /// When the new booking holds a seat at a slot (start) where the stored one held none, the
    /// capacity check of [`insert_booking`](Self::insert_booking) applies to the new slot. The
    /// id, organization, branch, service and code never change.
    ///
    /// # Errors
    /// `NotFound`; `Conflict` with [`STALE`] when the revision moved, [`SLOT_FULL`] when the
    /// new slot is full; `Unavailable` or `Backend`. Nothing was written.
    async fn update_booking(
        &self,
        booking: &Booking,
        capacity: u32,
        messages: &[OutboundMessage],
    ) -> Result<(), StoreError>;

    /// One booking.
    ///
    /// # Errors
    /// `NotFound`; `Unavailable` or `Backend`.
    async fn booking(&self, id: BookingId) -> Result<Booking, StoreError>;

    /// The booking of an organization with a code.
    ///
    /// # Errors
    /// `NotFound`; `Unavailable` or `Backend`.
    async fn booking_by_code(
        &self,
        organization: OrganizationId,
        code: &BookingCode,
    ) -> Result<Booking, StoreError>;

    /// The bookings of a branch (every service and state) starting in `from..to`, by start,
    /// then creation, then id.
    ///
    /// # Errors
    /// `Unavailable` or `Backend`.
    async fn bookings(
        &self,
        branch: BranchId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Booking>, StoreError>;

    /// The bookings of an organization's holder (see [`HolderKey`]) starting at or after
    /// `from`, by start: what per-holder limits count.
    ///
    /// # Errors
    /// `Unavailable` or `Backend`.
    async fn holder_bookings(
        &self,
        organization: OrganizationId,
        holder: &HolderKey,
        from: DateTime<Utc>,
    ) -> Result<Vec<Booking>, StoreError>;

    /// Erases a holder's personal data in an organization: every booking whose holder's phone
    /// number or e-mail address is `to` loses the holder's name, phone number and e-mail
    /// address (the booking itself stays), and its revision moves on, so an update prepared
    /// before the erasure is `STALE` and cannot write the data back. Returns how many bookings
    /// changed; the empty string erases none.
    ///
    /// # Errors
    /// `Unavailable` or `Backend`.
    async fn erase_holders(
        &self,
        organization: OrganizationId,
        to: &str,
    ) -> Result<u64, StoreError>;
}
