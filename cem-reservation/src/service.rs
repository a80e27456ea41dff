//! [`ReservationService`]: the thin async layer that loads a plan and bookings through the
//! ports, runs the pure decisions of this crate, and writes the result.
//!
//! The decisions judge seat counts read a moment before the write; the store refuses a write
//! that would overfill a slot ([`ReservationStore::insert_booking`]), so whatever the
//! concurrency no slot holds more bookings than its capacity. A refused write is reported as
//! [`ReservationError::SlotFull`]; a write that lost a race on the same booking (its revision
//! moved) is decided again on the fresh record.

use std::ops::RangeInclusive;
use std::sync::Arc;

use cem_core::chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use cem_core::chrono_tz::Tz;
use cem_core::{
    Booking, BookingCode, BookingHolder, BookingId, BookingState, BranchId, CODE_TAKEN, Clock,
    CustomerId, Entropy, HolderKey, OrgStore, OutboundMessage, QueueSettings, ReservationPlan,
    ReservationStore, SLOT_FULL, STALE, ServiceId, StoreError, TicketId,
};

use crate::{
    Actor, BookingRequest, CheckIn, ReservationError, Slot, accept_offer, book, cancel, check_in,
    join_waitlist, lapse_waitlist, mark_no_show, no_show_due, reminder_at, reschedule, seats_taken,
    slots, waitlist_offers,
};

/// Why a service call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// A rule refused it.
    #[error(transparent)]
    Refused(#[from] ReservationError),
    /// The service takes no appointments at the branch (no plan).
    #[error("service {service} takes no appointments at branch {branch}")]
    NoPlan {
        /// The branch.
        branch: BranchId,
        /// The service.
        service: ServiceId,
    },
    /// A store failed (`NotFound` for an unknown branch or booking).
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How many times a write that lost a race is decided again.
const ATTEMPTS: usize = 5;

/// What a booking change tells its holder: given the stored booking, the messages to enqueue
/// with it (in the same transaction).
pub type Notices<'a> = &'a (dyn Fn(&Booking) -> Vec<OutboundMessage> + Send + Sync);

/// Bookings over a [`ReservationStore`] and an [`OrgStore`] (for the branch's time zone and
/// arrival window).
#[derive(Debug, Clone)]
pub struct ReservationService {
    store: Arc<dyn ReservationStore>,
    org: Arc<dyn OrgStore>,
    clock: Arc<dyn Clock>,
    entropy: Arc<dyn Entropy>,
}

/// A branch's plan for one service, with the branch's time zone and queue rules.
struct Context {
    plan: ReservationPlan,
    tz: Tz,
    queue: QueueSettings,
}

impl ReservationService {
    /// A service over the given ports.
    pub fn new(
        store: Arc<dyn ReservationStore>,
        org: Arc<dyn OrgStore>,
        clock: Arc<dyn Clock>,
        entropy: Arc<dyn Entropy>,
    ) -> Self {
        Self {
            store,
            org,
            clock,
            entropy,
        }
    }

    async fn context(&self, branch: BranchId, service: ServiceId) -> Result<Context, ServiceError> {
        let b = self.org.branch(branch).await?;
        let plan = self
            .store
            .plans(branch)
            .await?
            .into_iter()
            .find(|p| p.service == service)
            .ok_or(ServiceError::NoPlan { branch, service })?;
        Ok(Context {
            plan,
            tz: b.time_zone,
            queue: b.queue,
        })
    }

    /// The bookings holding or awaiting seats of the plan's slots from `from` to `to`.
    async fn plan_bookings(
        &self,
        plan: &ReservationPlan,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Booking>, ServiceError> {
        let mut all = self.store.bookings(plan.branch, from, to).await?;
        all.retain(|b| b.service == plan.service);
        Ok(all)
    }

    async fn taken_at(
        &self,
        plan: &ReservationPlan,
        start: DateTime<Utc>,
    ) -> Result<u32, ServiceError> {
        let at = self
            .plan_bookings(plan, start, start + TimeDelta::microseconds(1))
            .await?;
        Ok(seats_taken(&at).get(&start).copied().unwrap_or(0))
    }

    async fn holder_bookings(
        &self,
        plan: &ReservationPlan,
        customer: Option<CustomerId>,
        holder: &BookingHolder,
        now: DateTime<Utc>,
    ) -> Result<Vec<Booking>, ServiceError> {
        let key = HolderKey {
            customer,
            phone: holder.phone.clone(),
            email: holder.email.clone(),
        };
        if key == HolderKey::default() {
            return Ok(Vec::new());
        }
        let mut mine = self
            .store
            .holder_bookings(plan.organization, &key, now - TimeDelta::days(1))
            .await?;
        mine.retain(|b| b.branch == plan.branch && b.service == plan.service);
        Ok(mine)
    }

    /// The slots of a service at a branch on the local dates `dates`, with their seats.
    ///
    /// # Errors
    /// `NoPlan`; `Store` (`NotFound` for an unknown branch).
    pub async fn slots(
        &self,
        branch: BranchId,
        service: ServiceId,
        dates: RangeInclusive<NaiveDate>,
    ) -> Result<Vec<Slot>, ServiceError> {
        let cx = self.context(branch, service).await?;
        let (first, last) = (*dates.start(), *dates.end());
        let day = |d: NaiveDate| crate::slots::resolve_start(cx.tz, d.and_time(Default::default()));
        let from = day(first) - TimeDelta::days(1);
        let to = day(last.succ_opt().unwrap_or(last)) + TimeDelta::days(1);
        let bookings = self.plan_bookings(&cx.plan, from, to).await?;
        Ok(slots(
            &cx.plan,
            cx.tz,
            dates,
            self.clock.now(),
            &seats_taken(&bookings),
        ))
    }

    /// Books the slot at `start` for a holder, or, with `waitlist`, puts them on the waitlist
    /// of a full slot. The booking and `notices(&booking)` are written together.
    ///
    /// # Errors
    /// `Refused` (see [`book`] and [`join_waitlist`]; `SlotFull` also when another client took
    /// the last seat meanwhile); `NoPlan`; `Store`.
    #[allow(clippy::too_many_arguments)]
    pub async fn book(
        &self,
        branch: BranchId,
        service: ServiceId,
        id: BookingId,
        start: DateTime<Utc>,
        customer: Option<CustomerId>,
        holder: BookingHolder,
        waitlist: bool,
        notices: Notices<'_>,
    ) -> Result<Booking, ServiceError> {
        let cx = self.context(branch, service).await?;
        let now = self.clock.now();
        let mine = self
            .holder_bookings(&cx.plan, customer, &holder, now)
            .await?;
        for _ in 0..ATTEMPTS {
            let taken = self.taken_at(&cx.plan, start).await?;
            let request = BookingRequest {
                id,
                start,
                customer,
                holder: holder.clone(),
                code_random: self.random_code_bytes(),
            };
            let booking = if waitlist {
                join_waitlist(&cx.plan, cx.tz, request, taken, &mine, now)?
            } else {
                book(&cx.plan, cx.tz, request, taken, &mine, now)?
            };
            match self
                .store
                .insert_booking(&booking, cx.plan.capacity, &notices(&booking))
                .await
            {
                Ok(()) => return Ok(booking),
                // Another code: draw again.
                Err(StoreError::Conflict { what }) if what == CODE_TAKEN => {}
                Err(StoreError::Conflict { what }) if what == SLOT_FULL => {
                    return Err(ReservationError::SlotFull { start }.into());
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Conflict {
            what: CODE_TAKEN.into(),
        }
        .into())
    }

    fn random_code_bytes(&self) -> [u8; 5] {
        let mut bytes = [0; 5];
        self.entropy.fill(&mut bytes);
        bytes
    }

    /// A booking of a branch by its code.
    ///
    /// # Errors
    /// `Store(NotFound)` when the branch has no booking with that code.
    pub async fn by_code(
        &self,
        branch: BranchId,
        code: &BookingCode,
    ) -> Result<Booking, ServiceError> {
        let b = self.org.branch(branch).await?;
        let booking = self.store.booking_by_code(b.organization, code).await?;
        if booking.branch != branch {
            return Err(StoreError::NotFound {
                what: format!("booking {}", code.as_str()),
            }
            .into());
        }
        Ok(booking)
    }

    /// Applies `decide` to the stored booking and writes the result with its notices,
    /// deciding again on the fresh record when another writer got there first.
    async fn change<T>(
        &self,
        id: BookingId,
        notices: Notices<'_>,
        offered: Notices<'_>,
        decide: impl Fn(
            &Context,
            &Booking,
            u32,
            DateTime<Utc>,
        ) -> Result<(Booking, T), ReservationError>,
        seats_at: Option<DateTime<Utc>>,
    ) -> Result<(Booking, T), ServiceError> {
        for _ in 0..ATTEMPTS {
            let current = self.store.booking(id).await?;
            let cx = self.context(current.branch, current.service).await?;
            let now = self.clock.now();
            let taken = match seats_at {
                Some(start) => self.taken_at(&cx.plan, start).await?,
                None => 0,
            };
            let (next, extra) = decide(&cx, &current, taken, now)?;
            match self
                .store
                .update_booking(&next, cx.plan.capacity, &notices(&next))
                .await
            {
                Ok(()) => {
                    if current.state.holds_seat()
                        && (!next.state.holds_seat() || next.start != current.start)
                    {
                        self.settle_waitlist(&cx, current.start, now, offered)
                            .await?;
                    }
                    return Ok((next, extra));
                }
                Err(StoreError::Conflict { what }) if what == STALE => {}
                Err(StoreError::Conflict { what }) if what == SLOT_FULL => {
                    return Err(ReservationError::SlotFull { start: next.start }.into());
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Conflict { what: STALE.into() }.into())
    }

    /// Settles the waitlist of one slot: lapses the offers that expired and the places whose
    /// slot can no longer be booked, then offers the free seats to the next in line, first
    /// come first served, with `offered(&booking)` for each offer. A lost race is left to the
    /// next change or sweep of the slot. Returns the bookings offered a seat.
    async fn settle_waitlist(
        &self,
        cx: &Context,
        start: DateTime<Utc>,
        now: DateTime<Utc>,
        offered: Notices<'_>,
    ) -> Result<Vec<Booking>, ServiceError> {
        if cx.plan.waitlist_offer_secs.is_none() {
            return Ok(Vec::new());
        }
        let mut at = self
            .plan_bookings(&cx.plan, start, start + TimeDelta::microseconds(1))
            .await?;
        for lapsed in lapse_waitlist(&cx.plan, &at, now) {
            match self
                .store
                .update_booking(&lapsed, cx.plan.capacity, &[])
                .await
            {
                Ok(()) => {
                    if let Some(b) = at.iter_mut().find(|b| b.id == lapsed.id) {
                        *b = lapsed;
                    }
                }
                // Accepted or changed meanwhile: the next sweep reads it afresh.
                Err(StoreError::Conflict { .. }) => return Ok(Vec::new()),
                Err(e) => return Err(e.into()),
            }
        }
        let mut made = Vec::new();
        for offer in waitlist_offers(&cx.plan, &at, now) {
            match self
                .store
                .update_booking(&offer, cx.plan.capacity, &offered(&offer))
                .await
            {
                Ok(()) => made.push(offer),
                Err(StoreError::Conflict { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(made)
    }

    /// Cancels a booking (or leaves its waitlist) with `notices`; a freed seat is offered to
    /// the waitlist with `offered`.
    ///
    /// # Errors
    /// `Refused` (see [`cancel`]); `Store(NotFound)`.
    pub async fn cancel(
        &self,
        id: BookingId,
        by: Actor,
        notices: Notices<'_>,
        offered: Notices<'_>,
    ) -> Result<Booking, ServiceError> {
        let decide = |cx: &Context, b: &Booking, _, now| Ok((cancel(&cx.plan, b, by, now)?, ()));
        Ok(self.change(id, notices, offered, decide, None).await?.0)
    }

    /// Moves a booking to the slot at `new_start` with `notices`; a freed seat is offered to
    /// the waitlist with `offered`.
    ///
    /// # Errors
    /// `Refused` (see [`reschedule`]); `Store(NotFound)`.
    pub async fn reschedule(
        &self,
        id: BookingId,
        new_start: DateTime<Utc>,
        by: Actor,
        notices: Notices<'_>,
        offered: Notices<'_>,
    ) -> Result<Booking, ServiceError> {
        let b = self.store.booking(id).await?;
        let cx = self.context(b.branch, b.service).await?;
        let mine = self
            .holder_bookings(&cx.plan, b.customer, &b.holder, self.clock.now())
            .await?;
        let decide = |cx: &Context, b: &Booking, taken, now| {
            let next = reschedule(&cx.plan, cx.tz, b, new_start, taken, &mine, by, now)?;
            Ok((next, ()))
        };
        Ok(self
            .change(id, notices, offered, decide, Some(new_start))
            .await?
            .0)
    }

    /// Takes the seat offered to a waitlisted holder, before the offer expires: the booking is
    /// confirmed.
    ///
    /// # Errors
    /// `Refused` (see [`accept_offer`]); `Store(NotFound)`.
    pub async fn accept_offer(
        &self,
        id: BookingId,
        notices: Notices<'_>,
    ) -> Result<Booking, ServiceError> {
        let decide = |_: &Context, b: &Booking, _, now| Ok((accept_offer(b, now)?, ()));
        Ok(self
            .change(id, notices, &|_| Vec::new(), decide, None)
            .await?
            .0)
    }

    /// Checks the holder of a booking in, recording `ticket` as the queue ticket the caller
    /// issues next (with [`CheckIn::appointment_at`] and the source `reservation`).
    ///
    /// # Errors
    /// `Refused` (see [`check_in`]); `Store(NotFound)`.
    pub async fn check_in(
        &self,
        id: BookingId,
        ticket: TicketId,
    ) -> Result<(Booking, CheckIn), ServiceError> {
        let decide = |cx: &Context, b: &Booking, _, now| check_in(b, cx.tz, &cx.queue, ticket, now);
        self.change(id, &|_| Vec::new(), &|_| Vec::new(), decide, None)
            .await
    }

    /// Marks a booking nobody came for as a no-show.
    ///
    /// # Errors
    /// `Refused` (see [`mark_no_show`]); `Store(NotFound)`.
    pub async fn no_show(&self, id: BookingId) -> Result<Booking, ServiceError> {
        let decide = |cx: &Context, b: &Booking, _, now| Ok((mark_no_show(b, &cx.queue, now)?, ()));
        Ok(self
            .change(id, &|_| Vec::new(), &|_| Vec::new(), decide, None)
            .await?
            .0)
    }

    /// The bookings of a branch whose reminder is due at the current instant: confirmed, the
    /// plan's reminder lead before their start passed, not started yet. The host enqueues
    /// their reminders now and then; their ids make a reminder written twice one message.
    ///
    /// # Errors
    /// `Store`.
    pub async fn reminders_due(&self, branch: BranchId) -> Result<Vec<Booking>, ServiceError> {
        let plans = self.store.plans(branch).await?;
        let Some(lead) = plans.iter().filter_map(|p| p.reminder_lead_secs).max() else {
            return Ok(Vec::new());
        };
        let now = self.clock.now();
        let mut due = self
            .store
            .bookings(
                branch,
                now,
                now + TimeDelta::seconds(lead.into()) + TimeDelta::seconds(1),
            )
            .await?;
        due.retain(|b| {
            plans
                .iter()
                .find(|p| p.service == b.service)
                .and_then(|p| reminder_at(p, b))
                .is_some_and(|at| at <= now)
        });
        Ok(due)
    }

    /// Marks as no-shows the confirmed bookings of a branch whose grace period ended in the
    /// last day, and returns them.
    ///
    /// # Errors
    /// `Store`.
    pub async fn sweep_no_shows(&self, branch: BranchId) -> Result<Vec<Booking>, ServiceError> {
        let queue = self.org.branch(branch).await?.queue;
        let now = self.clock.now();
        let recent = self
            .store
            .bookings(branch, now - TimeDelta::days(1), now)
            .await?;
        let mut marked = Vec::new();
        for b in recent.iter().filter(|b| no_show_due(b, &queue, now)) {
            match self.no_show(b.id).await {
                Ok(done) => marked.push(done),
                // Checked in or changed meanwhile.
                Err(ServiceError::Refused(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(marked)
    }

    /// Settles the waitlists of a branch's slots from a day ago to the end of their plans'
    /// horizons: offers that expired and places whose slot can no longer be booked lapse,
    /// and the seats they free go to the next in line, each told with `offered`. Returns the
    /// bookings offered a seat.
    ///
    /// # Errors
    /// `Store`.
    pub async fn sweep_waitlists(
        &self,
        branch: BranchId,
        offered: Notices<'_>,
    ) -> Result<Vec<Booking>, ServiceError> {
        let plans = self.store.plans(branch).await?;
        let Some(horizon) = plans
            .iter()
            .filter(|p| p.waitlist_offer_secs.is_some())
            .map(|p| p.horizon_days)
            .max()
        else {
            return Ok(Vec::new());
        };
        let now = self.clock.now();
        let waiting = self
            .store
            .bookings(
                branch,
                now - TimeDelta::days(1),
                now + TimeDelta::days(i64::from(horizon) + 1),
            )
            .await?;
        let mut slots: Vec<(ServiceId, DateTime<Utc>)> = waiting
            .iter()
            .filter(|b| matches!(b.state, BookingState::Waitlisted | BookingState::Offered))
            .map(|b| (b.service, b.start))
            .collect();
        slots.sort_unstable();
        slots.dedup();
        let mut made = Vec::new();
        for (service, start) in slots {
            let cx = self.context(branch, service).await?;
            made.extend(self.settle_waitlist(&cx, start, now, offered).await?);
        }
        Ok(made)
    }
}
