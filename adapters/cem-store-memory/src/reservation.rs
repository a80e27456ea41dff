//! [`ReservationStore`] for [`MemoryStore`]: plans and bookings beside the outbox, under the
//! store's one lock, so a capacity check, its write and its messages are one step.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use cem_core::chrono::{DateTime, Utc};
use cem_core::{
    Booking, BookingCode, BookingId, BranchId, CODE_TAKEN, HolderKey, OrganizationId,
    OutboundMessage, ReservationPlan, ReservationStore, SLOT_FULL, STALE, ServiceId, StoreError,
};

use crate::{Inner, MemoryStore, to_micros};

/// The plans and bookings.
#[derive(Debug, Default)]
pub(crate) struct ReservationTables {
    plans: BTreeMap<(BranchId, ServiceId), ReservationPlan>,
    bookings: HashMap<BookingId, Booking>,
    /// The unique key: a code once per organization.
    codes: HashMap<(OrganizationId, BookingCode), BookingId>,
}

impl ReservationTables {
    /// Seats held at a slot, by bookings other than `except`.
    fn seats(&self, slot: &Booking, except: Option<BookingId>) -> usize {
        self.bookings
            .values()
            .filter(|b| {
                Some(b.id) != except
                    && b.state.holds_seat()
                    && b.branch == slot.branch
                    && b.service == slot.service
                    && b.start == slot.start
            })
            .count()
    }
}

/// The booking as the databases keep it: every instant to the microsecond.
fn stored(booking: &Booking) -> Booking {
    let mut b = booking.clone();
    b.start = to_micros(b.start);
    b.end = to_micros(b.end);
    b.offer_expires_at = b.offer_expires_at.map(to_micros);
    b.checked_in_at = b.checked_in_at.map(to_micros);
    b.created_at = to_micros(b.created_at);
    b.changed_at = to_micros(b.changed_at);
    b
}

fn conflict(what: &str) -> StoreError {
    StoreError::Conflict {
        what: what.to_owned(),
    }
}

fn not_found(what: String) -> StoreError {
    StoreError::NotFound { what }
}

/// The messages of a change go out due at the change's instant: at once.
fn enqueue(inner: &mut Inner, messages: &[OutboundMessage], due: DateTime<Utc>) {
    inner.outbox.add(messages, due);
}

/// Sorts bookings by start, then creation, then id.
fn by_start(bookings: &mut [Booking]) {
    bookings.sort_by_key(|b| (b.start, b.created_at, b.id));
}

#[async_trait]
impl ReservationStore for MemoryStore {
    async fn put_plan(&self, plan: &ReservationPlan) -> Result<(), StoreError> {
        self.inner()
            .reservations
            .plans
            .insert((plan.branch, plan.service), plan.clone());
        Ok(())
    }

    async fn plans(&self, branch: BranchId) -> Result<Vec<ReservationPlan>, StoreError> {
        let inner = self.inner();
        Ok(inner
            .reservations
            .plans
            .iter()
            .filter(|((b, _), _)| *b == branch)
            .map(|(_, p)| p.clone())
            .collect())
    }

    async fn delete_plan(&self, branch: BranchId, service: ServiceId) -> Result<(), StoreError> {
        self.inner()
            .reservations
            .plans
            .remove(&(branch, service))
            .map(drop)
            .ok_or_else(|| not_found(format!("plan of service {service} at branch {branch}")))
    }

    async fn insert_booking(
        &self,
        booking: &Booking,
        capacity: u32,
        messages: &[OutboundMessage],
    ) -> Result<(), StoreError> {
        let booking = stored(booking);
        let mut inner = self.inner();
        let tables = &mut inner.reservations;
        if tables.bookings.contains_key(&booking.id) {
            return Err(conflict(&format!("booking {} exists", booking.id)));
        }
        let code = (booking.organization, booking.code.clone());
        if tables.codes.contains_key(&code) {
            return Err(conflict(CODE_TAKEN));
        }
        if booking.state.holds_seat() && tables.seats(&booking, None) >= capacity as usize {
            return Err(conflict(SLOT_FULL));
        }
        tables.codes.insert(code, booking.id);
        let due = booking.changed_at;
        tables.bookings.insert(booking.id, booking);
        enqueue(&mut inner, messages, due);
        Ok(())
    }

    async fn update_booking(
        &self,
        booking: &Booking,
        capacity: u32,
        messages: &[OutboundMessage],
    ) -> Result<(), StoreError> {
        let mut new = stored(booking);
        let mut inner = self.inner();
        let tables = &mut inner.reservations;
        let old = tables
            .bookings
            .get(&new.id)
            .ok_or_else(|| not_found(format!("booking {}", new.id)))?;
        if Some(old.revision) != new.revision.checked_sub(1) {
            return Err(conflict(STALE));
        }
        // What identifies the booking and its slot's service stays as stored.
        new.organization = old.organization;
        new.branch = old.branch;
        new.service = old.service;
        new.code = old.code.clone();
        let kept_seat = old.state.holds_seat() && old.start == new.start;
        if new.state.holds_seat()
            && !kept_seat
            && tables.seats(&new, Some(new.id)) >= capacity as usize
        {
            return Err(conflict(SLOT_FULL));
        }
        let due = new.changed_at;
        tables.bookings.insert(new.id, new);
        enqueue(&mut inner, messages, due);
        Ok(())
    }

    async fn booking(&self, id: BookingId) -> Result<Booking, StoreError> {
        self.inner()
            .reservations
            .bookings
            .get(&id)
            .cloned()
            .ok_or_else(|| not_found(format!("booking {id}")))
    }

    async fn booking_by_code(
        &self,
        organization: OrganizationId,
        code: &BookingCode,
    ) -> Result<Booking, StoreError> {
        let inner = self.inner();
        let tables = &inner.reservations;
        tables
            .codes
            .get(&(organization, code.clone()))
            .and_then(|id| tables.bookings.get(id))
            .cloned()
            .ok_or_else(|| not_found(format!("booking {code} of organization {organization}")))
    }

    async fn bookings(
        &self,
        branch: BranchId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Booking>, StoreError> {
        let inner = self.inner();
        let mut found: Vec<Booking> = inner
            .reservations
            .bookings
            .values()
            .filter(|b| b.branch == branch && from <= b.start && b.start < to)
            .cloned()
            .collect();
        by_start(&mut found);
        Ok(found)
    }

    async fn holder_bookings(
        &self,
        organization: OrganizationId,
        holder: &HolderKey,
        from: DateTime<Utc>,
    ) -> Result<Vec<Booking>, StoreError> {
        let matches = |b: &Booking| {
            (holder.customer.is_some() && b.customer == holder.customer)
                || (holder.phone.is_some() && b.holder.phone == holder.phone)
                || (holder.email.is_some() && b.holder.email == holder.email)
        };
        let inner = self.inner();
        let mut found: Vec<Booking> = inner
            .reservations
            .bookings
            .values()
            .filter(|b| b.organization == organization && b.start >= from && matches(b))
            .cloned()
            .collect();
        by_start(&mut found);
        Ok(found)
    }

    async fn erase_holders(
        &self,
        organization: OrganizationId,
        to: &str,
    ) -> Result<u64, StoreError> {
        // A blank address is nobody's.
        if to.is_empty() {
            return Ok(0);
        }
        let mut inner = self.inner();
        let mut erased = 0;
        for b in inner.reservations.bookings.values_mut() {
            let h = &mut b.holder;
            if b.organization == organization
                && (h.phone.as_deref() == Some(to) || h.email.as_deref() == Some(to))
            {
                h.name = None;
                h.phone = None;
                h.email = None;
                b.revision += 1;
                erased += 1;
            }
        }
        Ok(erased)
    }
}
