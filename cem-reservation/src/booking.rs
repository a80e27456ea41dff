//! Booking decisions: book, join a waitlist, cancel, reschedule, offers to the waitlist,
//! check-in, no-shows and reminders.
//!
//! Every decision takes the records it judges and `now`, and returns the changed record (its
//! `revision` one higher and `changed_at` set to `now`) or a [`ReservationError`]; it reads no
//! store and no clock. Counting the seats of a slot is the caller's: a store enforces capacity
//! when it writes (the count given here is what it read), so two customers racing for the last
//! seat never both get it.
//!
//! # Seats and limits
//! A booking **holds a seat** while `confirmed`, `offered` or `checked_in`. It is **live**
//! while it holds a seat or is `waitlisted`. The plan's per-holder limits count the holder's
//! live bookings *of the same plan* (branch and service) among those the caller passes: which
//! bookings are the holder's (same customer id, or the same phone or e-mail for a guest) is the
//! caller's choice.
//!
//! Plans are checked with [`ReservationPlan::validate`] when they are saved, not on every
//! decision; an invalid plan is not a panic here (a zero slot interval simply offers no slot).

use std::collections::BTreeMap;

use cem_core::chrono::{DateTime, Duration, Utc};
use cem_core::chrono_tz::Tz;
use cem_core::{
    Booking, BookingCode, BookingHolder, BookingId, BookingState, CustomerId, QueueSettings,
    ReservationPlan, TicketId,
};
use serde::{Deserialize, Serialize};

use crate::error::ReservationError;
use crate::slots::{
    PlanSlot, SlotStatus, booking_deadline, change_deadline, last_bookable_date, slot_at, timing,
};

/// Crockford's base32 alphabet: no `I`, `L`, `O` or `U`, so a code read aloud or copied by hand
/// survives.
pub const CODE_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// The booking code of 40 random bits, 8 characters of [`CODE_ALPHABET`]. The caller draws the
/// bytes (the core draws no randomness) and draws again when the store finds the code taken.
pub fn booking_code(random: [u8; 5]) -> BookingCode {
    let mut bits = random.iter().fold(0u64, |acc, &b| acc << 8 | u64::from(b));
    let mut out = [0u8; 8];
    for c in out.iter_mut().rev() {
        *c = CODE_ALPHABET[(bits & 31) as usize];
        bits >>= 5;
    }
    BookingCode(out.iter().map(|&b| char::from(b)).collect())
}

/// Reads a code as a person typed it: case, spaces and hyphens do not matter, and `O`, `I`
/// and `L` are read as `0`, `1` and `1` (Crockford's rule).
///
/// # Errors
/// [`ReservationError::InvalidCode`] unless 8 symbols of the alphabet remain.
pub fn parse_code(input: &str) -> Result<BookingCode, ReservationError> {
    let mut out = String::with_capacity(8);
    for c in input.chars() {
        let c = match c.to_ascii_uppercase() {
            ' ' | '-' => continue,
            'O' => '0',
            'I' | 'L' => '1',
            c if c.is_ascii() && CODE_ALPHABET.contains(&(c as u8)) => c,
            _ => return Err(ReservationError::InvalidCode),
        };
        out.push(c);
    }
    if out.len() != 8 {
        return Err(ReservationError::InvalidCode);
    }
    Ok(BookingCode(out))
}

/// Whether the booking holds a seat of its slot (`confirmed`, `offered`, `checked_in`).
pub fn holds_seat(b: &Booking) -> bool {
    b.state.holds_seat()
}

/// Whether the booking counts toward the holder's limits: it holds a seat or is waitlisted.
pub fn is_live(b: &Booking) -> bool {
    holds_seat(b) || b.state == BookingState::Waitlisted
}

/// The seats taken per slot start among `bookings` (those that hold a seat), the `taken` map
/// [`slots`](crate::slots()) reads.
pub fn seats_taken<'a>(
    bookings: impl IntoIterator<Item = &'a Booking>,
) -> BTreeMap<DateTime<Utc>, u32> {
    let mut taken = BTreeMap::new();
    for b in bookings.into_iter().filter(|b| holds_seat(b)) {
        *taken.entry(b.start).or_insert(0) += 1;
    }
    taken
}

/// What a customer asks to book.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BookingRequest {
    /// The new booking's id, chosen by the caller.
    pub id: BookingId,
    /// The slot's start.
    pub start: DateTime<Utc>,
    /// The customer, when known.
    #[serde(default)]
    pub customer: Option<CustomerId>,
    /// How to reach the holder.
    #[serde(default)]
    pub holder: BookingHolder,
    /// Random bytes for the booking code (see [`booking_code`]).
    pub code_random: [u8; 5],
}

/// Who asks for a change: the holder keeps to the change notice, staff do not (a counter
/// closed at short notice).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    /// The holder of the booking.
    Holder,
    /// A member of staff.
    Staff,
}

fn changed(b: &Booking, now: DateTime<Utc>) -> Booking {
    let mut next = b.clone();
    next.changed_at = now;
    next.revision = b.revision.wrapping_add(1);
    next
}

fn refuse(b: &Booking, action: &'static str) -> ReservationError {
    ReservationError::InvalidState {
        booking: b.id,
        state: b.state,
        action,
    }
}

fn of_plan(plan: &ReservationPlan, b: &Booking) -> Result<(), ReservationError> {
    if b.branch == plan.branch && b.service == plan.service {
        Ok(())
    } else {
        Err(ReservationError::WrongPlan { booking: b.id })
    }
}

/// The slot at `start` if it exists and can be booked at `now` as far as time goes.
fn bookable_slot(
    plan: &ReservationPlan,
    tz: Tz,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<PlanSlot, ReservationError> {
    let slot = slot_at(plan, tz, start).ok_or(ReservationError::NoSuchSlot { start })?;
    match timing(plan, tz, start, now) {
        SlotStatus::Open => Ok(slot),
        SlotStatus::BeyondHorizon => Err(ReservationError::BeyondHorizon {
            last_date: last_bookable_date(plan, tz, now),
        }),
        _ => Err(ReservationError::TooLateToBook {
            deadline: booking_deadline(plan, start),
        }),
    }
}

/// Checks the plan's per-holder limits for a booking at `start`, ignoring `except` (the
/// booking being rescheduled).
fn check_limits(
    plan: &ReservationPlan,
    tz: Tz,
    start: DateTime<Utc>,
    holder_bookings: &[Booking],
    except: BookingId,
    now: DateTime<Utc>,
) -> Result<(), ReservationError> {
    let mine = || {
        holder_bookings
            .iter()
            .filter(|b| b.id != except && is_live(b) && of_plan(plan, b).is_ok())
    };
    if let Some(limit) = plan.max_active_per_holder {
        let active = mine().filter(|b| b.start > now).count();
        if active >= limit as usize {
            return Err(ReservationError::ActiveLimitReached { limit });
        }
    }
    if let Some(limit) = plan.max_per_holder_per_day {
        let date = start.with_timezone(&tz).date_naive();
        let same_day = mine()
            .filter(|b| b.start.with_timezone(&tz).date_naive() == date)
            .count();
        if same_day >= limit as usize {
            return Err(ReservationError::DailyLimitReached { limit, date });
        }
    }
    Ok(())
}

fn new_booking(
    plan: &ReservationPlan,
    slot: PlanSlot,
    req: BookingRequest,
    state: BookingState,
    now: DateTime<Utc>,
) -> Booking {
    Booking {
        id: req.id,
        organization: plan.organization,
        branch: plan.branch,
        service: plan.service,
        code: booking_code(req.code_random),
        start: slot.start,
        end: slot.end,
        customer: req.customer,
        holder: req.holder,
        state,
        offer_expires_at: None,
        ticket: None,
        checked_in_at: None,
        created_at: now,
        changed_at: now,
        revision: 0,
    }
}

/// Books a seat of the slot at `req.start`: a new `confirmed` booking.
///
/// `taken` is the slot's seats taken; `holder_bookings` the holder's other bookings (see the
/// [module docs](self) for the limits).
///
/// # Errors
/// `NoSuchSlot`, `TooLateToBook` (past or within the minimum notice), `BeyondHorizon`,
/// `SlotFull`, `ActiveLimitReached`, `DailyLimitReached`.
pub fn book(
    plan: &ReservationPlan,
    tz: Tz,
    req: BookingRequest,
    taken: u32,
    holder_bookings: &[Booking],
    now: DateTime<Utc>,
) -> Result<Booking, ReservationError> {
    let slot = bookable_slot(plan, tz, req.start, now)?;
    if taken >= plan.capacity {
        return Err(ReservationError::SlotFull { start: slot.start });
    }
    check_limits(plan, tz, slot.start, holder_bookings, req.id, now)?;
    Ok(new_booking(plan, slot, req, BookingState::Confirmed, now))
}

/// Puts the holder on the waitlist of a full slot: a new `waitlisted` booking, whose
/// `created_at` is its place in line. It holds no seat until offered one
/// ([`waitlist_offers`]).
///
/// # Errors
/// `NoWaitlist` when the plan keeps none, `SlotNotFull` when a seat is free (book it), and
/// those of [`book`] except `SlotFull`.
pub fn join_waitlist(
    plan: &ReservationPlan,
    tz: Tz,
    req: BookingRequest,
    taken: u32,
    holder_bookings: &[Booking],
    now: DateTime<Utc>,
) -> Result<Booking, ReservationError> {
    if plan.waitlist_offer_secs.is_none() {
        return Err(ReservationError::NoWaitlist);
    }
    let slot = bookable_slot(plan, tz, req.start, now)?;
    if taken < plan.capacity {
        return Err(ReservationError::SlotNotFull { start: slot.start });
    }
    check_limits(plan, tz, slot.start, holder_bookings, req.id, now)?;
    Ok(new_booking(plan, slot, req, BookingState::Waitlisted, now))
}

/// Cancels a booking or leaves its waitlist (an offered seat declined is a cancel too).
///
/// The holder may cancel a `confirmed` booking until the change notice before its start, and
/// leave a waitlist (`waitlisted`, `offered`) at any time; staff may cancel any of these at any
/// time. The seat it freed goes to the waitlist through [`waitlist_offers`].
///
/// # Errors
/// `WrongPlan`, `InvalidState` (checked in, no-show, already cancelled or lapsed),
/// `TooLateToChange`.
pub fn cancel(
    plan: &ReservationPlan,
    booking: &Booking,
    by: Actor,
    now: DateTime<Utc>,
) -> Result<Booking, ReservationError> {
    of_plan(plan, booking)?;
    match booking.state {
        BookingState::Confirmed => {
            let deadline = change_deadline(plan, booking.start);
            if by == Actor::Holder && now > deadline {
                return Err(ReservationError::TooLateToChange { deadline });
            }
        }
        BookingState::Waitlisted | BookingState::Offered => {}
        _ => return Err(refuse(booking, "cancelled")),
    }
    let mut next = changed(booking, now);
    next.state = BookingState::Cancelled;
    next.offer_expires_at = None;
    Ok(next)
}

/// Moves a `confirmed` booking to the slot at `new_start`, keeping its id and code.
///
/// The old slot must be at least the change notice away (for the holder; staff skip that),
/// and the new one bookable as by [`book`]: it exists, within notice and horizon, with a free
/// seat (`taken_new` seats taken), within the holder's daily limit (this booking not counted).
/// The seat it freed goes to the waitlist through [`waitlist_offers`].
///
/// # Errors
/// `WrongPlan`, `InvalidState`, `SameSlot`, `TooLateToChange`, and those of [`book`].
#[allow(clippy::too_many_arguments)]
pub fn reschedule(
    plan: &ReservationPlan,
    tz: Tz,
    booking: &Booking,
    new_start: DateTime<Utc>,
    taken_new: u32,
    holder_bookings: &[Booking],
    by: Actor,
    now: DateTime<Utc>,
) -> Result<Booking, ReservationError> {
    of_plan(plan, booking)?;
    if booking.state != BookingState::Confirmed {
        return Err(refuse(booking, "rescheduled"));
    }
    if new_start == booking.start {
        return Err(ReservationError::SameSlot { start: new_start });
    }
    let deadline = change_deadline(plan, booking.start);
    if by == Actor::Holder && now > deadline {
        return Err(ReservationError::TooLateToChange { deadline });
    }
    let slot = bookable_slot(plan, tz, new_start, now)?;
    if taken_new >= plan.capacity {
        return Err(ReservationError::SlotFull { start: slot.start });
    }
    check_limits(plan, tz, slot.start, holder_bookings, booking.id, now)?;
    let mut next = changed(booking, now);
    next.start = slot.start;
    next.end = slot.end;
    Ok(next)
}

/// The bookings of one slot that should leave its waitlist at `now`: offers past their expiry
/// and waitlisted places whose slot can no longer be booked. Each is returned `lapsed`.
/// Run it before [`waitlist_offers`], so an expired offer's seat goes to the next in line.
pub fn lapse_waitlist(
    plan: &ReservationPlan,
    slot_bookings: &[Booking],
    now: DateTime<Utc>,
) -> Vec<Booking> {
    slot_bookings
        .iter()
        .filter(|b| match b.state {
            BookingState::Offered => b.offer_expires_at.is_none_or(|at| at <= now),
            BookingState::Waitlisted => now >= booking_deadline(plan, b.start),
            _ => false,
        })
        .map(|b| {
            let mut next = changed(b, now);
            next.state = BookingState::Lapsed;
            next.offer_expires_at = None;
            next
        })
        .collect()
}

/// Offers the free seats of one slot to its waitlist, first come first served: for each free
/// seat (capacity minus the bookings among `slot_bookings` that hold one), the waitlisted
/// booking made earliest (then the smallest id) becomes `offered`, held for the plan's
/// `waitlist_offer_secs`, but never past the slot's booking deadline. Returns the offered
/// bookings (tell each holder), none when the plan keeps no waitlist or the deadline has
/// passed.
///
/// `slot_bookings` are all the bookings of the slot; an offer accepted in time
/// ([`accept_offer`]) becomes `confirmed`, one left to expire is lapsed by
/// [`lapse_waitlist`] and its seat offered again.
pub fn waitlist_offers(
    plan: &ReservationPlan,
    slot_bookings: &[Booking],
    now: DateTime<Utc>,
) -> Vec<Booking> {
    let Some(offer_secs) = plan.waitlist_offer_secs else {
        return vec![];
    };
    let held = slot_bookings.iter().filter(|b| holds_seat(b)).count();
    let free = (plan.capacity as usize).saturating_sub(held);
    let mut line: Vec<&Booking> = slot_bookings
        .iter()
        .filter(|b| b.state == BookingState::Waitlisted)
        .collect();
    line.sort_by_key(|b| (b.created_at, b.id));
    line.into_iter()
        .take(free)
        .filter_map(|b| {
            let expires =
                (now + Duration::seconds(offer_secs.into())).min(booking_deadline(plan, b.start));
            (expires > now).then(|| {
                let mut next = changed(b, now);
                next.state = BookingState::Offered;
                next.offer_expires_at = Some(expires);
                next
            })
        })
        .collect()
}

/// Accepts an offered seat before the offer expires: the booking becomes `confirmed`.
///
/// # Errors
/// `InvalidState` unless `offered`; `OfferExpired` at or after the expiry.
pub fn accept_offer(booking: &Booking, now: DateTime<Utc>) -> Result<Booking, ReservationError> {
    if booking.state != BookingState::Offered {
        return Err(refuse(booking, "accepted"));
    }
    let expired_at = booking.offer_expires_at.unwrap_or(booking.changed_at);
    if now >= expired_at {
        return Err(ReservationError::OfferExpired { expired_at });
    }
    let mut next = changed(booking, now);
    next.state = BookingState::Confirmed;
    next.offer_expires_at = None;
    Ok(next)
}

/// How a checked-in customer joins the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "as", rename_all = "snake_case")]
pub enum CheckIn {
    /// In time: an appointment ticket at the booking's start (the queue calls it from
    /// `appointment_at − early` and before walk-ins of its class once due).
    Appointment {
        /// The ticket's appointment time: the booking's start.
        appointment_at: DateTime<Utc>,
    },
    /// Later than the grace period: an ordinary walk-in ticket from now.
    WalkIn {
        /// Seconds after the booking's start.
        late_secs: i64,
    },
}

impl CheckIn {
    /// The appointment time for the queue ticket (`IssueTicket::appointment_at` in
    /// `cem-queue`, with the source `reservation`); `None` for a walk-in.
    pub fn appointment_at(&self) -> Option<DateTime<Utc>> {
        match self {
            Self::Appointment { appointment_at } => Some(*appointment_at),
            Self::WalkIn { .. } => None,
        }
    }
}

/// Checks a customer in (the booking found by its code) and records the queue ticket the
/// caller will issue, with the queue's arrival window from `settings`:
/// - before `start − appointment_early_secs`: refused, come back then;
/// - until `start + appointment_grace_secs`: an appointment ticket at the booking's start;
/// - later on the appointment's local date: a walk-in ticket (a booking already marked
///   `no_show` may still check in this way);
/// - after that date: refused.
///
/// The queue applies the same window when it issues the ticket, so both agree.
///
/// # Errors
/// `InvalidState` unless `confirmed` or `no_show`; `TooEarly`; `CheckInClosed`.
pub fn check_in(
    booking: &Booking,
    tz: Tz,
    settings: &QueueSettings,
    ticket: TicketId,
    now: DateTime<Utc>,
) -> Result<(Booking, CheckIn), ReservationError> {
    if !matches!(
        booking.state,
        BookingState::Confirmed | BookingState::NoShow
    ) {
        return Err(refuse(booking, "checked in"));
    }
    let opens = booking.start - Duration::seconds(settings.appointment_early_secs.into());
    if now < opens {
        return Err(ReservationError::TooEarly {
            come_back_at: opens,
        });
    }
    let grace_end = booking.start + Duration::seconds(settings.appointment_grace_secs.into());
    let how = if now <= grace_end {
        CheckIn::Appointment {
            appointment_at: booking.start,
        }
    } else {
        let date = booking.start.with_timezone(&tz).date_naive();
        if now.with_timezone(&tz).date_naive() > date {
            return Err(ReservationError::CheckInClosed { date });
        }
        CheckIn::WalkIn {
            late_secs: (now - booking.start).num_seconds(),
        }
    };
    let mut next = changed(booking, now);
    next.state = BookingState::CheckedIn;
    next.ticket = Some(ticket);
    next.checked_in_at = Some(now);
    Ok((next, how))
}

/// The instant a `confirmed` booking becomes a no-show if nobody checked in: the end of the
/// grace period.
pub fn no_show_at(booking: &Booking, settings: &QueueSettings) -> DateTime<Utc> {
    booking.start + Duration::seconds(settings.appointment_grace_secs.into())
}

/// Whether the booking is still `confirmed` after its grace period: nobody came.
pub fn no_show_due(booking: &Booking, settings: &QueueSettings, now: DateTime<Utc>) -> bool {
    booking.state == BookingState::Confirmed && now > no_show_at(booking, settings)
}

/// Marks a booking nobody came for as `no_show`.
///
/// # Errors
/// `InvalidState` unless [`no_show_due`].
pub fn mark_no_show(
    booking: &Booking,
    settings: &QueueSettings,
    now: DateTime<Utc>,
) -> Result<Booking, ReservationError> {
    if !no_show_due(booking, settings, now) {
        return Err(refuse(booking, "marked a no-show"));
    }
    let mut next = changed(booking, now);
    next.state = BookingState::NoShow;
    Ok(next)
}

/// When to remind the holder of a `confirmed` booking: the plan's reminder lead before its
/// start, or `None` when the plan sends none. A reminder whose time passed before the booking
/// was made (a booking for the next hour) is not sent: also `None`.
pub fn reminder_at(plan: &ReservationPlan, booking: &Booking) -> Option<DateTime<Utc>> {
    let lead = plan.reminder_lead_secs?;
    let at = booking.start - Duration::seconds(lead.into());
    (booking.state == BookingState::Confirmed && at > booking.created_at).then_some(at)
}

/// Erases the holder's personal data (name, phone, e-mail) from a booking, keeping the rest
/// for the reports. Returns the changed booking.
pub fn erase_holder(booking: &Booking, now: DateTime<Utc>) -> Booking {
    let mut next = changed(booking, now);
    next.holder = BookingHolder {
        language: booking.holder.language.clone(),
        ..BookingHolder::default()
    };
    next
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::*;

    /// Monday 2026-11-30, 09:00–12:00 in Berlin (UTC+1), 30-minute slots, 2 seats,
    /// 1 h notice to book, 2 h to change, 14 days ahead, 15-minute offers.
    fn plan() -> ReservationPlan {
        let mut p = plan_every_day(t(9, 0), t(12, 0), 30 * 60, 30 * 60);
        p.capacity = 2;
        p.min_notice_secs = 3600;
        p.change_notice_secs = 2 * 3600;
        p.horizon_days = 14;
        p.waitlist_offer_secs = Some(15 * 60);
        p
    }

    /// Sunday evening before.
    fn now() -> DateTime<Utc> {
        utc("2026-11-29T18:00:00Z")
    }

    /// Monday 10:00 Berlin.
    fn ten() -> DateTime<Utc> {
        utc("2026-11-30T09:00:00Z")
    }

    fn booked(id: u128, start: DateTime<Utc>) -> Booking {
        book(&plan(), berlin(), request(id, start), 0, &[], now()).unwrap()
    }

    #[test]
    fn codes_are_eight_crockford_symbols_and_read_back_forgivingly() {
        assert_eq!(booking_code([0; 5]).as_str(), "00000000");
        assert_eq!(booking_code([0xff; 5]).as_str(), "ZZZZZZZZ");
        assert_eq!(booking_code([0, 0, 0, 0, 33]).as_str(), "00000011");
        let code = booking_code([0x12, 0x34, 0x56, 0x78, 0x9a]);
        assert_eq!(code.as_str(), "28T5CY4T");
        assert_eq!(parse_code("28t5-cy4t").unwrap(), code);
        assert_eq!(parse_code(" 28T5 CY4T ").unwrap(), code);
        assert_eq!(parse_code("OIL00000").unwrap().as_str(), "01100000");
        for bad in ["28T5CY4", "28T5CY4TT", "28T5CY4U", "28T5CY4؟", ""] {
            assert_eq!(parse_code(bad), Err(ReservationError::InvalidCode), "{bad}");
        }
    }

    #[test]
    fn book_takes_a_seat_of_an_existing_slot() {
        let b = booked(1, ten());
        assert_eq!(b.state, BookingState::Confirmed);
        assert_eq!(b.end, utc("2026-11-30T09:30:00Z"));
        assert_eq!((b.created_at, b.revision), (now(), 0));
        assert_eq!(b.code, booking_code([1, 0, 0, 0, 0]));
        let err = book(
            &plan(),
            berlin(),
            request(2, utc("2026-11-30T09:10:00Z")),
            0,
            &[],
            now(),
        );
        assert_eq!(err.unwrap_err().code(), "no_such_slot");
        let full = book(&plan(), berlin(), request(2, ten()), 2, &[], now());
        assert_eq!(full, Err(ReservationError::SlotFull { start: ten() }));
    }

    #[test]
    fn book_keeps_to_notice_and_horizon() {
        let late = book(
            &plan(),
            berlin(),
            request(1, ten()),
            0,
            &[],
            utc("2026-11-30T08:00:01Z"),
        );
        assert_eq!(
            late,
            Err(ReservationError::TooLateToBook {
                deadline: utc("2026-11-30T08:00:00Z")
            })
        );
        assert!(
            book(
                &plan(),
                berlin(),
                request(1, ten()),
                0,
                &[],
                utc("2026-11-30T08:00:00Z")
            )
            .is_ok()
        );
        // 14 days after Sunday 2026-11-29 is Sunday 2026-12-13; Monday the 14th is too far.
        let far = book(
            &plan(),
            berlin(),
            request(1, utc("2026-12-14T09:00:00Z")),
            0,
            &[],
            now(),
        );
        assert_eq!(far.unwrap_err().code(), "beyond_horizon");
        assert!(
            book(
                &plan(),
                berlin(),
                request(1, utc("2026-12-13T09:00:00Z")),
                0,
                &[],
                now()
            )
            .is_ok()
        );
    }

    #[test]
    fn per_holder_limits_count_live_bookings_of_the_plan() {
        let mut p = plan();
        p.max_active_per_holder = Some(2);
        p.max_per_holder_per_day = Some(1);
        let mine = vec![booked(1, ten())];
        let same_day = book(
            &p,
            berlin(),
            request(2, utc("2026-11-30T10:00:00Z")),
            0,
            &mine,
            now(),
        );
        assert_eq!(same_day.unwrap_err().code(), "daily_limit_reached");
        let next_day = utc("2026-12-01T09:00:00Z");
        let second = book(&p, berlin(), request(2, next_day), 0, &mine, now()).unwrap();
        let both = vec![mine[0].clone(), second];
        let third = book(
            &p,
            berlin(),
            request(3, utc("2026-12-02T09:00:00Z")),
            0,
            &both,
            now(),
        );
        assert_eq!(
            third,
            Err(ReservationError::ActiveLimitReached { limit: 2 })
        );
        // A cancelled booking and another service's booking do not count.
        let mut other = both.clone();
        other[0] = cancel(&p, &other[0], Actor::Holder, now()).unwrap();
        other[1].service = cem_core::ServiceId::from_u128(99);
        assert!(book(&p, berlin(), request(3, ten()), 0, &other, now()).is_ok());
    }

    #[test]
    fn cancel_keeps_to_the_change_notice_for_holders_only() {
        let b = booked(1, ten());
        let deadline = utc("2026-11-30T07:00:00Z");
        let late = utc("2026-11-30T07:00:01Z");
        assert_eq!(
            cancel(&plan(), &b, Actor::Holder, late),
            Err(ReservationError::TooLateToChange { deadline })
        );
        let c = cancel(&plan(), &b, Actor::Holder, deadline).unwrap();
        assert_eq!(
            (c.state, c.revision, c.changed_at),
            (BookingState::Cancelled, 1, deadline)
        );
        assert!(cancel(&plan(), &b, Actor::Staff, late).is_ok());
        assert_eq!(
            cancel(&plan(), &c, Actor::Staff, late).unwrap_err().code(),
            "invalid_state"
        );
    }

    #[test]
    fn reschedule_checks_the_old_and_the_new_slot() {
        let b = booked(1, ten());
        let eleven = utc("2026-11-30T10:00:00Z");
        let moved =
            reschedule(&plan(), berlin(), &b, eleven, 1, &[], Actor::Holder, now()).unwrap();
        assert_eq!(
            (moved.start, moved.end),
            (eleven, utc("2026-11-30T10:30:00Z"))
        );
        assert_eq!((moved.id, &moved.code, moved.revision), (b.id, &b.code, 1));
        // The old slot is within the change notice.
        let at = utc("2026-11-30T07:30:00Z");
        let err = reschedule(&plan(), berlin(), &b, eleven, 0, &[], Actor::Holder, at);
        assert_eq!(err.unwrap_err().code(), "too_late_to_change");
        // The new slot is within the booking notice (even for staff).
        let at = utc("2026-11-30T09:30:00Z");
        let err = reschedule(&plan(), berlin(), &b, eleven, 0, &[], Actor::Staff, at);
        assert_eq!(err.unwrap_err().code(), "too_late_to_book");
        let err = reschedule(&plan(), berlin(), &b, eleven, 2, &[], Actor::Holder, now());
        assert_eq!(err.unwrap_err().code(), "slot_full");
        let err = reschedule(&plan(), berlin(), &b, ten(), 0, &[], Actor::Holder, now());
        assert_eq!(err.unwrap_err().code(), "same_slot");
        // The booking itself does not count toward the daily limit.
        let mut p = plan();
        p.max_per_holder_per_day = Some(1);
        assert!(
            reschedule(
                &p,
                berlin(),
                &b,
                eleven,
                0,
                std::slice::from_ref(&b),
                Actor::Holder,
                now()
            )
            .is_ok()
        );
    }

    #[test]
    fn a_freed_seat_goes_to_the_first_in_line() {
        let p = plan();
        let a = booked(1, ten());
        let b = booked(2, ten());
        assert_eq!(
            join_waitlist(&p, berlin(), request(3, ten()), 1, &[], now())
                .unwrap_err()
                .code(),
            "slot_not_full"
        );
        let w1 = join_waitlist(
            &p,
            berlin(),
            request(3, ten()),
            2,
            &[],
            utc("2026-11-29T18:01:00Z"),
        )
        .unwrap();
        let w2 = join_waitlist(
            &p,
            berlin(),
            request(4, ten()),
            2,
            &[],
            utc("2026-11-29T18:02:00Z"),
        )
        .unwrap();
        assert_eq!(w1.state, BookingState::Waitlisted);
        // Full: nobody is offered anything.
        let slot = vec![a.clone(), b.clone(), w2.clone(), w1.clone()];
        assert!(waitlist_offers(&p, &slot, now()).is_empty());
        // A seat frees: the earlier waitlisted is offered it for 15 minutes.
        let t1 = utc("2026-11-29T20:00:00Z");
        let a = cancel(&p, &a, Actor::Holder, t1).unwrap();
        let slot = vec![a.clone(), b.clone(), w2.clone(), w1.clone()];
        let offers = waitlist_offers(&p, &slot, t1);
        assert_eq!(offers.len(), 1);
        assert_eq!(offers[0].id, w1.id);
        assert_eq!(offers[0].state, BookingState::Offered);
        assert_eq!(
            offers[0].offer_expires_at,
            Some(utc("2026-11-29T20:15:00Z"))
        );
        // The offered seat is held: no second offer.
        let slot = vec![a.clone(), b.clone(), w2.clone(), offers[0].clone()];
        assert!(waitlist_offers(&p, &slot, t1).is_empty());
        assert_eq!(seats_taken(&slot)[&ten()], 2);
        // It expires unanswered: lapsed, and the seat goes to the next.
        let t2 = utc("2026-11-29T20:15:00Z");
        assert_eq!(
            accept_offer(&offers[0], t2).unwrap_err().code(),
            "offer_expired"
        );
        let lapsed = lapse_waitlist(&p, &slot, t2);
        assert_eq!(lapsed.len(), 1);
        assert_eq!(lapsed[0].state, BookingState::Lapsed);
        let slot = vec![a, b, w2.clone(), lapsed[0].clone()];
        let offers = waitlist_offers(&p, &slot, t2);
        assert_eq!(offers.iter().map(|o| o.id).collect::<Vec<_>>(), [w2.id]);
        let ok = accept_offer(&offers[0], utc("2026-11-29T20:20:00Z")).unwrap();
        assert_eq!(
            (ok.state, ok.offer_expires_at),
            (BookingState::Confirmed, None)
        );
    }

    #[test]
    fn offers_never_outlast_the_booking_deadline() {
        let p = plan();
        let mut w = join_waitlist(&p, berlin(), request(3, ten()), 2, &[], now()).unwrap();
        // 10 minutes before the deadline (08:00 UTC): the offer ends at the deadline.
        let at = utc("2026-11-30T07:50:00Z");
        let offers = waitlist_offers(&p, std::slice::from_ref(&w), at);
        assert_eq!(
            offers[0].offer_expires_at,
            Some(utc("2026-11-30T08:00:00Z"))
        );
        // Past it, no offer; the place lapses.
        let at = utc("2026-11-30T08:00:00Z");
        assert!(waitlist_offers(&p, std::slice::from_ref(&w), at).is_empty());
        assert_eq!(lapse_waitlist(&p, std::slice::from_ref(&w), at).len(), 1);
        let mut no_list = p.clone();
        no_list.waitlist_offer_secs = None;
        assert_eq!(
            join_waitlist(&no_list, berlin(), request(4, ten()), 2, &[], now()),
            Err(ReservationError::NoWaitlist)
        );
        w.state = BookingState::Offered;
        assert_eq!(
            cancel(&p, &w, Actor::Holder, at).unwrap().state,
            BookingState::Cancelled
        );
    }

    #[test]
    fn check_in_follows_the_queue_arrival_window() {
        let s = QueueSettings::default(); // 10 minutes early, 10 minutes grace
        let b = booked(1, ten());
        let ticket = TicketId::from_u128(7);
        let early = check_in(&b, berlin(), &s, ticket, utc("2026-11-30T08:49:59Z"));
        assert_eq!(
            early,
            Err(ReservationError::TooEarly {
                come_back_at: utc("2026-11-30T08:50:00Z")
            })
        );
        let (c, how) = check_in(&b, berlin(), &s, ticket, utc("2026-11-30T08:50:00Z")).unwrap();
        assert_eq!(
            how,
            CheckIn::Appointment {
                appointment_at: ten()
            }
        );
        assert_eq!((c.state, c.ticket), (BookingState::CheckedIn, Some(ticket)));
        let (_, how) = check_in(&b, berlin(), &s, ticket, utc("2026-11-30T09:10:00Z")).unwrap();
        assert_eq!(how.appointment_at(), Some(ten()));
        let (_, how) = check_in(&b, berlin(), &s, ticket, utc("2026-11-30T09:10:01Z")).unwrap();
        assert_eq!(how, CheckIn::WalkIn { late_secs: 601 });
        assert_eq!(how.appointment_at(), None);
        // 23:30 Berlin is still the same day; 00:00 on Tuesday is not.
        assert!(check_in(&b, berlin(), &s, ticket, utc("2026-11-30T22:30:00Z")).is_ok());
        let next_day = check_in(&b, berlin(), &s, ticket, utc("2026-11-30T23:00:00Z"));
        assert_eq!(next_day.unwrap_err().code(), "check_in_closed");
        assert_eq!(
            check_in(&c, berlin(), &s, ticket, utc("2026-11-30T09:00:00Z"))
                .unwrap_err()
                .code(),
            "invalid_state"
        );
    }

    #[test]
    fn no_show_after_grace_and_a_late_walk_in_still_checks_in() {
        let s = QueueSettings::default();
        let b = booked(1, ten());
        assert_eq!(no_show_at(&b, &s), utc("2026-11-30T09:10:00Z"));
        assert!(!no_show_due(&b, &s, utc("2026-11-30T09:10:00Z")));
        assert!(no_show_due(&b, &s, utc("2026-11-30T09:10:01Z")));
        assert!(mark_no_show(&b, &s, utc("2026-11-30T09:05:00Z")).is_err());
        let n = mark_no_show(&b, &s, utc("2026-11-30T09:11:00Z")).unwrap();
        assert_eq!(n.state, BookingState::NoShow);
        assert!(!no_show_due(&n, &s, utc("2026-11-30T10:00:00Z")));
        let (c, how) = check_in(
            &n,
            berlin(),
            &s,
            TicketId::from_u128(1),
            utc("2026-11-30T09:40:00Z"),
        )
        .unwrap();
        assert_eq!(how, CheckIn::WalkIn { late_secs: 2400 });
        assert_eq!(c.state, BookingState::CheckedIn);
    }

    #[test]
    fn reminders_and_erasure() {
        let mut p = plan();
        p.reminder_lead_secs = Some(24 * 3600);
        let b = booked(1, ten());
        // Made 15 hours ahead: a day's lead is already past.
        assert_eq!(reminder_at(&p, &b), None);
        p.reminder_lead_secs = Some(3 * 3600);
        assert_eq!(reminder_at(&p, &b), Some(utc("2026-11-30T06:00:00Z")));
        p.reminder_lead_secs = None;
        assert_eq!(reminder_at(&p, &b), None);
        let mut b = b;
        b.holder.name = Some("Sara".into());
        b.holder.phone = Some("+989121234567".into());
        b.holder.language = cem_core::Language::fa();
        let e = erase_holder(&b, now());
        assert_eq!(
            (e.holder.name.as_deref(), e.holder.phone.as_deref()),
            (None, None)
        );
        assert_eq!(e.holder.language, cem_core::Language::fa());
        assert_eq!((e.code, e.start, e.revision), (b.code, b.start, 1));
    }

    #[test]
    fn bookings_of_another_plan_are_refused() {
        let mut b = booked(1, ten());
        b.branch = cem_core::BranchId::from_u128(42);
        assert_eq!(
            cancel(&plan(), &b, Actor::Staff, now()),
            Err(ReservationError::WrongPlan { booking: b.id })
        );
    }
}
