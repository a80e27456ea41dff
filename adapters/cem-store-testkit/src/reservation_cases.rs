//! The conformance cases of [`ReservationStore`](cem_core::ReservationStore), one per contract
//! clause. The store is also an [`OutboxStore`](cem_core::OutboxStore): the cases read the
//! messages a write enqueued through it.

use std::sync::Arc;

use cem_core::chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc, Weekday};
use cem_core::{
    Booking, BookingCode, BookingHolder, BookingId, BookingState, BranchId, CODE_TAKEN, Channel,
    Closure, CustomerId, DateOverride, HolderKey, Language, LocalTimeRange, MessageId,
    OpeningInterval, OrganizationId, OutboundMessage, OutboxState, PlanBreak, ReservationPlan,
    SLOT_FULL, STALE, ServiceId, StoreError, TicketId,
};

use crate::fixtures::{secs, t0};
use crate::{ReservationHarness, ReservationOutboxStore};

const ORG: OrganizationId = OrganizationId::from_u128(0x0_0D1);
const OTHER_ORG: OrganizationId = OrganizationId::from_u128(0x0_0D2);
const BRANCH: BranchId = BranchId::from_u128(0x0_0D11);
const OTHER_BRANCH: BranchId = BranchId::from_u128(0x0_0D12);
const SERVICE: ServiceId = ServiceId::from_u128(0x0_0D21);
const OTHER_SERVICE: ServiceId = ServiceId::from_u128(0x0_0D22);
/// Enough seats for cases about something else than capacity.
const ROOMY: u32 = 100;

fn time(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).expect("a valid time")
}

fn date(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, d).expect("a valid date")
}

/// A plan using every field.
fn plan(branch: BranchId, service: ServiceId, capacity: u32) -> ReservationPlan {
    ReservationPlan {
        organization: ORG,
        branch,
        service,
        weekly: vec![
            OpeningInterval {
                day: Weekday::Mon,
                open: time(9, 0),
                close: time(12, 0),
            },
            OpeningInterval {
                day: Weekday::Sat,
                open: time(10, 0),
                close: time(14, 0),
            },
        ],
        breaks: vec![PlanBreak {
            days: vec![Weekday::Mon],
            start: time(10, 30),
            end: time(10, 45),
        }],
        overrides: vec![DateOverride {
            date: date(24),
            intervals: vec![LocalTimeRange {
                start: time(9, 0),
                end: time(11, 0),
            }],
        }],
        closures: vec![Closure::days(date(25), date(26), "Holidays")],
        slot_interval_secs: 900,
        duration_secs: 600,
        buffer_before_secs: 60,
        buffer_after_secs: 120,
        capacity,
        min_notice_secs: 3600,
        change_notice_secs: 7200,
        horizon_days: 30,
        max_active_per_holder: Some(2),
        max_per_holder_per_day: Some(1),
        reminder_lead_secs: Some(86_400),
        waitlist_offer_secs: Some(900),
    }
}

fn id(n: u128) -> BookingId {
    BookingId::from_u128(0xB00C_0000 + n)
}

fn code(n: u128) -> BookingCode {
    BookingCode(format!("K{n:07}"))
}

/// Slot `k`: every 15 minutes from a day after `t0` (so with its microseconds).
fn slot(k: i64) -> DateTime<Utc> {
    t0() + secs(86_400 + 900 * k)
}

/// Booking `n` of the organization's branch and service at `start`, made `n` seconds after
/// `t0`.
fn booking(n: u128, start: DateTime<Utc>, state: BookingState) -> Booking {
    let made = t0() + secs(n as i64);
    Booking {
        id: id(n),
        organization: ORG,
        branch: BRANCH,
        service: SERVICE,
        code: code(n),
        start,
        end: start + secs(600),
        customer: None,
        holder: BookingHolder {
            name: Some(format!("Holder {n}")),
            phone: Some(format!("+49301{n:05}")),
            email: None,
            language: Language::fa(),
        },
        state,
        offer_expires_at: None,
        ticket: None,
        checked_in_at: None,
        created_at: made,
        changed_at: made,
        revision: 0,
    }
}

fn confirmed(n: u128, start: DateTime<Utc>) -> Booking {
    booking(n, start, BookingState::Confirmed)
}

/// `b`'s next revision, changed a minute later.
fn changed(b: &Booking) -> Booking {
    let mut next = b.clone();
    next.revision += 1;
    next.changed_at = b.changed_at + secs(60);
    next
}

/// `b`'s next revision in `state`.
fn moved_to(b: &Booking, state: BookingState) -> Booking {
    let mut next = changed(b);
    next.state = state;
    next
}

/// `b`'s next revision at `start`.
fn rescheduled(b: &Booking, start: DateTime<Utc>) -> Booking {
    let mut next = changed(b);
    next.start = start;
    next.end = start + secs(600);
    next
}

/// Message `n`, made at `at`.
fn message(n: u128, at: DateTime<Utc>) -> OutboundMessage {
    OutboundMessage {
        id: MessageId::from_u128(0xD000 + n),
        organization: ORG,
        channel: Channel::Sms,
        to: "+4930123456".to_owned(),
        kind: "booking_confirmed".to_owned(),
        language: Language::fa(),
        subject: None,
        body: format!("نوبت شما ثبت شد: {n}"),
        created_at: at,
    }
}

/// The `what` of a conflict.
fn conflict(r: Result<(), StoreError>) -> String {
    match r {
        Err(StoreError::Conflict { what }) => what,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

fn is_not_found<T: std::fmt::Debug>(r: Result<T, StoreError>) -> bool {
    matches!(r, Err(StoreError::NotFound { .. }))
}

async fn one(h: &dyn ReservationHarness) -> Arc<dyn ReservationOutboxStore> {
    h.open_reservations(1).await.remove(0)
}

async fn insert_all(s: &dyn ReservationOutboxStore, bookings: &[&Booking]) {
    for b in bookings {
        s.insert_booking(b, ROOMY, &[]).await.unwrap();
    }
}

/// The seats held at `start` of the branch's service.
async fn seats(s: &dyn ReservationOutboxStore, start: DateTime<Utc>) -> usize {
    s.bookings(BRANCH, start, start + Duration::microseconds(1))
        .await
        .unwrap()
        .iter()
        .filter(|b| b.service == SERVICE && b.state.holds_seat())
        .count()
}

fn ids(bookings: &[Booking]) -> Vec<BookingId> {
    bookings.iter().map(|b| b.id).collect()
}

/// Plans are put, listed by service, replaced and deleted, once; their bookings stay.
pub async fn plans_are_put_replaced_listed_and_deleted(h: &dyn ReservationHarness) {
    let s = one(h).await;
    assert!(s.plans(BRANCH).await.unwrap().is_empty());
    let first = plan(BRANCH, SERVICE, 2);
    let mut second = plan(BRANCH, OTHER_SERVICE, 1);
    second.breaks.clear();
    second.overrides.clear();
    second.max_active_per_holder = None;
    let elsewhere = plan(OTHER_BRANCH, SERVICE, 3);
    for p in [&second, &elsewhere, &first] {
        s.put_plan(p).await.unwrap();
    }
    assert_eq!(
        s.plans(BRANCH).await.unwrap(),
        [first.clone(), second.clone()],
        "a branch's plans, by service id"
    );
    assert_eq!(
        s.plans(OTHER_BRANCH).await.unwrap(),
        std::slice::from_ref(&elsewhere)
    );

    let replaced = ReservationPlan {
        capacity: 5,
        closures: vec![],
        waitlist_offer_secs: None,
        ..first.clone()
    };
    s.put_plan(&replaced).await.unwrap();
    assert_eq!(
        s.plans(BRANCH).await.unwrap(),
        [replaced, second.clone()],
        "one plan per branch and service, the last put"
    );

    let b = confirmed(1, slot(0));
    s.insert_booking(&b, 5, &[]).await.unwrap();
    s.delete_plan(BRANCH, SERVICE).await.unwrap();
    assert_eq!(s.plans(BRANCH).await.unwrap(), [second]);
    assert!(
        is_not_found(s.delete_plan(BRANCH, SERVICE).await),
        "deleted once"
    );
    assert!(is_not_found(
        s.delete_plan(BRANCH, ServiceId::from_u128(9)).await
    ));
    assert_eq!(
        s.plans(OTHER_BRANCH).await.unwrap(),
        [elsewhere],
        "deleting is per branch"
    );
    assert_eq!(s.booking(b.id).await.unwrap(), b, "its bookings stay");
}

/// A booking reads back whole, by id and by its organization's code, instants to the
/// microsecond; unknown ones are not found.
pub async fn bookings_round_trip_by_id_and_by_code(h: &dyn ReservationHarness) {
    let s = one(h).await;
    let full = Booking {
        customer: Some(CustomerId::from_u128(0xC1)),
        holder: BookingHolder {
            name: Some("Zahra \"Z\" Ahmadi\nline two".to_owned()),
            phone: Some("+989121234567".to_owned()),
            email: Some("zahra@example.org".to_owned()),
            language: Language::new("de-AT"),
        },
        offer_expires_at: Some(t0() + Duration::microseconds(7)),
        ticket: Some(TicketId::from_u128(0x7001)),
        checked_in_at: Some(slot(0) - secs(300)),
        changed_at: t0() + secs(5) + Duration::microseconds(1),
        revision: 3,
        ..booking(1, slot(0), BookingState::CheckedIn)
    };
    let bare = Booking {
        holder: BookingHolder::default(),
        ..booking(2, slot(1), BookingState::Waitlisted)
    };
    s.insert_booking(&full, 1, &[]).await.unwrap();
    s.insert_booking(&bare, 1, &[]).await.unwrap();

    assert_eq!(s.booking(full.id).await.unwrap(), full);
    assert_eq!(s.booking(bare.id).await.unwrap(), bare);
    assert_eq!(s.booking_by_code(ORG, &full.code).await.unwrap(), full);
    assert_eq!(s.booking_by_code(ORG, &bare.code).await.unwrap(), bare);

    assert!(is_not_found(s.booking(id(99)).await));
    assert!(is_not_found(s.booking_by_code(ORG, &code(99)).await));
    assert!(
        is_not_found(s.booking_by_code(OTHER_ORG, &full.code).await),
        "codes are per organization"
    );
}

/// A code is taken once per organization (`CODE_TAKEN`, nothing written), and free in
/// another.
pub async fn a_code_is_unique_in_its_organization(h: &dyn ReservationHarness) {
    let s = one(h).await;
    let first = confirmed(1, slot(0));
    s.insert_booking(&first, ROOMY, &[]).await.unwrap();
    for state in [BookingState::Confirmed, BookingState::Waitlisted] {
        let again = Booking {
            code: first.code.clone(),
            ..booking(2, slot(1), state)
        };
        assert_eq!(
            conflict(s.insert_booking(&again, ROOMY, &[]).await),
            CODE_TAKEN
        );
        assert!(is_not_found(s.booking(again.id).await), "nothing written");
    }

    let theirs = Booking {
        organization: OTHER_ORG,
        code: first.code.clone(),
        ..confirmed(2, slot(1))
    };
    s.insert_booking(&theirs, ROOMY, &[]).await.unwrap();
    assert_eq!(
        s.booking_by_code(OTHER_ORG, &first.code).await.unwrap(),
        theirs
    );
    assert_eq!(s.booking_by_code(ORG, &first.code).await.unwrap(), first);
}

/// Inserting an id that exists is a conflict and writes nothing.
pub async fn an_existing_id_conflicts(h: &dyn ReservationHarness) {
    let s = one(h).await;
    let first = confirmed(1, slot(0));
    s.insert_booking(&first, ROOMY, &[]).await.unwrap();
    let same_id = Booking {
        id: first.id,
        ..booking(2, slot(1), BookingState::Waitlisted)
    };
    let what = conflict(s.insert_booking(&same_id, ROOMY, &[]).await);
    assert_ne!(what, SLOT_FULL);
    assert_eq!(s.booking(first.id).await.unwrap(), first);
    assert!(is_not_found(s.booking_by_code(ORG, &same_id.code).await));
}

/// A slot takes `capacity` seat-holding bookings (confirmed, offered, checked in); one more
/// is `SLOT_FULL`, while the waitlist and the other states go in unchecked. Slots are by
/// branch, service and start.
pub async fn a_full_slot_refuses_seats_but_takes_the_waitlist(h: &dyn ReservationHarness) {
    let s = one(h).await;
    s.insert_booking(&confirmed(1, slot(0)), 2, &[])
        .await
        .unwrap();
    s.insert_booking(&booking(2, slot(0), BookingState::Offered), 2, &[])
        .await
        .unwrap();
    for (n, state) in [
        (3, BookingState::Confirmed),
        (4, BookingState::Offered),
        (5, BookingState::CheckedIn),
    ] {
        let late = booking(n, slot(0), state);
        assert_eq!(
            conflict(s.insert_booking(&late, 2, &[]).await),
            SLOT_FULL,
            "{state:?}"
        );
        assert!(is_not_found(s.booking(late.id).await), "nothing written");
    }
    assert_eq!(
        conflict(s.insert_booking(&confirmed(6, slot(0)), 1, &[]).await),
        SLOT_FULL,
        "a capacity below the seats held is full too"
    );
    for (n, state) in [
        (7, BookingState::Waitlisted),
        (8, BookingState::Cancelled),
        (9, BookingState::NoShow),
        (10, BookingState::Lapsed),
    ] {
        s.insert_booking(&booking(n, slot(0), state), 2, &[])
            .await
            .unwrap();
    }
    assert_eq!(seats(&*s, slot(0)).await, 2);

    // Other slots are independent: another start, another service, another branch.
    s.insert_booking(&confirmed(11, slot(1)), 2, &[])
        .await
        .unwrap();
    let other_service = Booking {
        service: OTHER_SERVICE,
        ..confirmed(12, slot(0))
    };
    s.insert_booking(&other_service, 2, &[]).await.unwrap();
    let other_branch = Booking {
        branch: OTHER_BRANCH,
        ..confirmed(13, slot(0))
    };
    s.insert_booking(&other_branch, 2, &[]).await.unwrap();

    // A checked-in booking holds its seat; states that hold none are not counted.
    s.insert_booking(&booking(14, slot(2), BookingState::CheckedIn), 1, &[])
        .await
        .unwrap();
    assert_eq!(
        conflict(s.insert_booking(&confirmed(15, slot(2)), 1, &[]).await),
        SLOT_FULL
    );
    s.insert_booking(&booking(16, slot(3), BookingState::Cancelled), 1, &[])
        .await
        .unwrap();
    s.insert_booking(&confirmed(17, slot(3)), 1, &[])
        .await
        .unwrap();
    assert_eq!(
        conflict(s.insert_booking(&confirmed(18, slot(4)), 0, &[]).await),
        SLOT_FULL,
        "no capacity, no seat"
    );
}

/// Cancelling (the next revision, cancelled) frees the seat for a new booking.
pub async fn cancelling_frees_the_seat(h: &dyn ReservationHarness) {
    let s = one(h).await;
    let first = confirmed(1, slot(0));
    let second = confirmed(2, slot(0));
    s.insert_booking(&first, 1, &[]).await.unwrap();
    assert_eq!(conflict(s.insert_booking(&second, 1, &[]).await), SLOT_FULL);
    let cancelled = moved_to(&first, BookingState::Cancelled);
    s.update_booking(&cancelled, 1, &[]).await.unwrap();
    assert_eq!(s.booking(first.id).await.unwrap(), cancelled);
    s.insert_booking(&second, 1, &[]).await.unwrap();
    assert_eq!(seats(&*s, slot(0)).await, 1);
}

/// An update whose revision is not the stored one plus one is `STALE` and changes nothing;
/// an unknown booking is not found.
pub async fn a_stale_revision_changes_nothing(h: &dyn ReservationHarness) {
    let s = one(h).await;
    let first = confirmed(1, slot(0));
    s.insert_booking(&first, ROOMY, &[]).await.unwrap();
    let mut next = changed(&first);
    next.holder.name = Some("Renamed".to_owned());
    for revision in [0, 2, u32::MAX] {
        let stale = Booking {
            revision,
            ..next.clone()
        };
        assert_eq!(
            conflict(s.update_booking(&stale, ROOMY, &[]).await),
            STALE,
            "revision {revision}"
        );
    }
    assert_eq!(s.booking(first.id).await.unwrap(), first);

    s.update_booking(&next, ROOMY, &[]).await.unwrap();
    assert_eq!(
        conflict(s.update_booking(&next, ROOMY, &[]).await),
        STALE,
        "the revision moved"
    );
    assert_eq!(s.booking(first.id).await.unwrap(), next);

    let ghost = changed(&confirmed(9, slot(0)));
    assert!(is_not_found(s.update_booking(&ghost, ROOMY, &[]).await));
    assert!(is_not_found(s.booking(ghost.id).await));
}

/// An update never changes a booking's organization, branch, service or code.
pub async fn an_update_keeps_what_identifies_the_booking(h: &dyn ReservationHarness) {
    let s = one(h).await;
    let first = confirmed(1, slot(0));
    s.insert_booking(&first, ROOMY, &[]).await.unwrap();
    let mut next = changed(&first);
    next.holder.name = Some("Renamed".to_owned());
    let attempt = Booking {
        organization: OTHER_ORG,
        branch: OTHER_BRANCH,
        service: OTHER_SERVICE,
        code: code(99),
        ..next.clone()
    };
    s.update_booking(&attempt, ROOMY, &[]).await.unwrap();
    assert_eq!(s.booking(first.id).await.unwrap(), next);
    assert_eq!(s.booking_by_code(ORG, &first.code).await.unwrap(), next);
    assert!(is_not_found(s.booking_by_code(ORG, &code(99)).await));
    assert!(is_not_found(s.booking_by_code(OTHER_ORG, &code(99)).await));
    assert_eq!(
        ids(&s.bookings(BRANCH, slot(0), slot(1)).await.unwrap()),
        [first.id]
    );
}

/// Rescheduling into a full slot is `SLOT_FULL` and changes nothing; a change that keeps its
/// seat needs no free one.
pub async fn rescheduling_into_a_full_slot_changes_nothing(h: &dyn ReservationHarness) {
    let s = one(h).await;
    let first = confirmed(1, slot(0));
    let second = confirmed(2, slot(1));
    s.insert_booking(&first, 1, &[]).await.unwrap();
    s.insert_booking(&second, 1, &[]).await.unwrap();

    let into_full = rescheduled(&second, slot(0));
    assert_eq!(
        conflict(s.update_booking(&into_full, 1, &[]).await),
        SLOT_FULL
    );
    assert_eq!(s.booking(second.id).await.unwrap(), second);

    // Renaming the holder of a booking in its full slot keeps its seat.
    let mut renamed = changed(&first);
    renamed.holder.name = Some("Renamed".to_owned());
    s.update_booking(&renamed, 1, &[]).await.unwrap();
    // So does checking in.
    let checked_in = Booking {
        checked_in_at: Some(slot(0) - secs(60)),
        ticket: Some(TicketId::from_u128(0x7001)),
        ..moved_to(&renamed, BookingState::CheckedIn)
    };
    s.update_booking(&checked_in, 1, &[]).await.unwrap();

    // Into a free slot, then the first into the seat the second left.
    let away = rescheduled(&second, slot(2));
    s.update_booking(&away, 1, &[]).await.unwrap();
    let back = Booking {
        state: BookingState::Confirmed,
        ..rescheduled(&checked_in, slot(1))
    };
    s.update_booking(&back, 1, &[]).await.unwrap();
    assert_eq!(s.booking(first.id).await.unwrap(), back);
    assert_eq!(s.booking(second.id).await.unwrap(), away);
    assert_eq!(
        (
            seats(&*s, slot(0)).await,
            seats(&*s, slot(1)).await,
            seats(&*s, slot(2)).await
        ),
        (0, 1, 1)
    );
}

/// Offering a seat to a waitlisted booking checks the slot's capacity.
pub async fn offering_a_waitlisted_booking_checks_capacity(h: &dyn ReservationHarness) {
    let s = one(h).await;
    let first = confirmed(1, slot(0));
    let waiting = booking(2, slot(0), BookingState::Waitlisted);
    let behind = booking(3, slot(0), BookingState::Waitlisted);
    for b in [&first, &waiting, &behind] {
        s.insert_booking(b, 1, &[]).await.unwrap();
    }
    let offer = Booking {
        offer_expires_at: Some(slot(-4)),
        ..moved_to(&waiting, BookingState::Offered)
    };
    assert_eq!(conflict(s.update_booking(&offer, 1, &[]).await), SLOT_FULL);
    assert_eq!(s.booking(waiting.id).await.unwrap(), waiting);

    s.update_booking(&moved_to(&first, BookingState::Cancelled), 1, &[])
        .await
        .unwrap();
    s.update_booking(&offer, 1, &[]).await.unwrap();
    assert_eq!(s.booking(waiting.id).await.unwrap(), offer);
    assert_eq!(
        conflict(
            s.update_booking(&moved_to(&behind, BookingState::Confirmed), 1, &[])
                .await
        ),
        SLOT_FULL,
        "the offered seat is held"
    );
    // Accepting the offer keeps the seat it holds.
    let accepted = Booking {
        offer_expires_at: None,
        ..moved_to(&offer, BookingState::Confirmed)
    };
    s.update_booking(&accepted, 1, &[]).await.unwrap();
    assert_eq!(seats(&*s, slot(0)).await, 1);
}

/// The messages given to a write are in the outbox, pending and due at once, when the write
/// succeeds, and absent when it was refused; an id already enqueued stays as it was.
pub async fn messages_are_enqueued_only_with_their_write(h: &dyn ReservationHarness) {
    let s = one(h).await;
    let first = confirmed(1, slot(0));
    let at = first.changed_at;
    let (m1, m2) = (message(1, at), message(2, at));
    s.insert_booking(&first, 1, &[m1.clone(), m2.clone()])
        .await
        .unwrap();
    let entry = s.message(m1.id).await.unwrap();
    assert_eq!(entry.message, m1);
    assert_eq!((entry.state, entry.attempts), (OutboxState::Pending, 0));
    let mut claimed: Vec<MessageId> = s
        .claim(at, at + secs(3600), 10)
        .await
        .unwrap()
        .iter()
        .map(|e| e.message.id)
        .collect();
    claimed.sort();
    assert_eq!(claimed, [m1.id, m2.id], "due at once");

    let refused = [
        // The slot is full.
        s.insert_booking(&confirmed(2, slot(0)), 1, &[message(3, at)])
            .await,
        // The code is taken.
        s.insert_booking(
            &Booking {
                code: first.code.clone(),
                ..confirmed(3, slot(1))
            },
            1,
            &[message(4, at)],
        )
        .await,
        // The id exists.
        s.insert_booking(
            &Booking {
                id: first.id,
                ..confirmed(4, slot(2))
            },
            1,
            &[message(5, at)],
        )
        .await,
        // The revision is stale.
        s.update_booking(
            &Booking {
                revision: 2,
                ..moved_to(&first, BookingState::Cancelled)
            },
            1,
            &[message(6, at)],
        )
        .await,
    ];
    for (n, r) in (3..).zip(refused) {
        assert!(matches!(r, Err(StoreError::Conflict { .. })), "{r:?}");
        assert!(
            is_not_found(s.message(message(n, at).id).await),
            "message {n} of a refused write"
        );
    }
    let second = confirmed(2, slot(1));
    s.insert_booking(&second, 1, &[]).await.unwrap();
    let full = rescheduled(&second, slot(0));
    assert_eq!(
        conflict(s.update_booking(&full, 1, &[message(7, at)]).await),
        SLOT_FULL
    );
    assert!(is_not_found(s.message(message(7, at).id).await));
    let ghost = changed(&confirmed(9, slot(5)));
    assert!(is_not_found(
        s.update_booking(&ghost, 1, &[message(8, at)]).await
    ));
    assert!(is_not_found(s.message(message(8, at).id).await));

    let cancelled = moved_to(&first, BookingState::Cancelled);
    let m9 = message(9, cancelled.changed_at);
    // Message 1 again, with another body: the one enqueued stays as it is.
    let again = OutboundMessage {
        body: "other".to_owned(),
        ..m1.clone()
    };
    s.update_booking(&cancelled, 1, &[m9.clone(), again])
        .await
        .unwrap();
    let entry = s.message(m9.id).await.unwrap();
    assert_eq!(
        (entry.message, entry.state),
        (m9.clone(), OutboxState::Pending)
    );
    let kept = s.message(m1.id).await.unwrap();
    assert_eq!((kept.message, kept.attempts), (m1, 1));
    let due: Vec<MessageId> = s
        .claim(cancelled.changed_at, cancelled.changed_at + secs(60), 10)
        .await
        .unwrap()
        .iter()
        .map(|e| e.message.id)
        .collect();
    assert_eq!(due, [m9.id]);
}

/// A branch's bookings of every service and state starting in `from..to`, by start, then
/// creation, then id.
pub async fn bookings_of_a_branch_by_start_then_creation_then_id(h: &dyn ReservationHarness) {
    let s = one(h).await;
    let late = confirmed(5, slot(2));
    let made_second = confirmed(3, slot(0));
    let made_first = Booking {
        created_at: t0() + secs(1),
        ..booking(4, slot(0), BookingState::Waitlisted)
    };
    let twin_a = Booking {
        created_at: t0() + secs(10),
        ..confirmed(6, slot(1))
    };
    let twin_b = Booking {
        created_at: t0() + secs(10),
        ..booking(7, slot(1), BookingState::NoShow)
    };
    let other_service = Booking {
        service: OTHER_SERVICE,
        ..booking(8, slot(1), BookingState::Cancelled)
    };
    let at_end = confirmed(9, slot(3));
    let before = confirmed(10, slot(-1));
    let other_branch = Booking {
        branch: OTHER_BRANCH,
        ..confirmed(11, slot(0))
    };
    insert_all(
        &*s,
        &[
            &late,
            &twin_b,
            &made_second,
            &at_end,
            &other_service,
            &made_first,
            &before,
            &twin_a,
            &other_branch,
        ],
    )
    .await;

    assert_eq!(
        s.bookings(BRANCH, slot(0), slot(3)).await.unwrap(),
        [
            made_first,
            made_second,
            other_service.clone(),
            twin_a.clone(),
            twin_b.clone(),
            late.clone()
        ]
    );
    assert_eq!(
        ids(&s
            .bookings(
                BRANCH,
                slot(0) + Duration::microseconds(1),
                slot(3) + Duration::microseconds(1)
            )
            .await
            .unwrap()),
        [other_service.id, twin_a.id, twin_b.id, late.id, at_end.id],
        "from is inclusive, to exclusive"
    );
    assert_eq!(
        s.bookings(OTHER_BRANCH, slot(-10), slot(10)).await.unwrap(),
        [other_branch]
    );
    assert!(
        s.bookings(BRANCH, slot(3), slot(3))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.bookings(BranchId::from_u128(9), slot(-10), slot(10))
            .await
            .unwrap()
            .is_empty()
    );
}

/// A holder's bookings in an organization, from `from` on, by start: those of the customer,
/// the phone number or the e-mail address given, any field matching.
pub async fn holder_bookings_match_customer_phone_or_email(h: &dyn ReservationHarness) {
    const PHONE: &str = "+4930111";
    const EMAIL: &str = "ana@example.org";
    let customer = CustomerId::from_u128(0xC1);
    let s = one(h).await;
    let holder = |phone: Option<&str>, email: Option<&str>| BookingHolder {
        name: Some("Ana".to_owned()),
        phone: phone.map(str::to_owned),
        email: email.map(str::to_owned),
        language: Language::en(),
    };
    let by_customer = Booking {
        customer: Some(customer),
        holder: holder(None, None),
        ..confirmed(1, slot(1))
    };
    let by_phone = Booking {
        holder: holder(Some(PHONE), None),
        ..confirmed(2, slot(0))
    };
    let by_email = Booking {
        holder: holder(None, Some(EMAIL)),
        ..booking(3, slot(2), BookingState::Waitlisted)
    };
    let by_all = Booking {
        customer: Some(customer),
        holder: holder(Some(PHONE), Some(EMAIL)),
        ..confirmed(4, slot(3))
    };
    let earlier = Booking {
        customer: Some(customer),
        ..confirmed(5, slot(-2))
    };
    let theirs = Booking {
        organization: OTHER_ORG,
        customer: Some(customer),
        holder: holder(Some(PHONE), Some(EMAIL)),
        ..confirmed(6, slot(1))
    };
    let someone_else = Booking {
        customer: Some(CustomerId::from_u128(0xC2)),
        holder: holder(Some("+4930999"), Some("other@example.org")),
        ..confirmed(7, slot(1))
    };
    let cancelled = Booking {
        holder: holder(Some(PHONE), None),
        ..booking(8, slot(4), BookingState::Cancelled)
    };
    insert_all(
        &*s,
        &[
            &cancelled,
            &by_all,
            &theirs,
            &by_email,
            &earlier,
            &by_phone,
            &someone_else,
            &by_customer,
        ],
    )
    .await;
    let key = |c: bool, p: bool, e: bool| HolderKey {
        customer: c.then_some(customer),
        phone: p.then(|| PHONE.to_owned()),
        email: e.then(|| EMAIL.to_owned()),
    };
    let read = |organization, key: HolderKey, from| {
        let s = Arc::clone(&s);
        async move { ids(&s.holder_bookings(organization, &key, from).await.unwrap()) }
    };

    assert_eq!(
        read(ORG, key(true, false, false), slot(0)).await,
        [by_customer.id, by_all.id]
    );
    assert_eq!(
        read(ORG, key(false, true, false), slot(0)).await,
        [by_phone.id, by_all.id, cancelled.id]
    );
    assert_eq!(
        read(ORG, key(false, false, true), slot(0)).await,
        [by_email.id, by_all.id]
    );
    assert_eq!(
        read(ORG, key(true, true, false), slot(0)).await,
        [by_phone.id, by_customer.id, by_all.id, cancelled.id]
    );
    assert_eq!(
        read(ORG, key(true, true, true), slot(0)).await,
        [
            by_phone.id,
            by_customer.id,
            by_email.id,
            by_all.id,
            cancelled.id
        ]
    );
    assert!(
        read(ORG, HolderKey::default(), slot(-10)).await.is_empty(),
        "no field, no holder"
    );
    assert_eq!(
        read(ORG, key(true, false, false), slot(-2)).await,
        [earlier.id, by_customer.id, by_all.id]
    );
    assert_eq!(
        read(ORG, key(false, true, false), slot(4)).await,
        [cancelled.id],
        "from is inclusive"
    );
    assert_eq!(
        read(OTHER_ORG, key(true, true, true), slot(-10)).await,
        [theirs.id]
    );
    let whole = s
        .holder_bookings(ORG, &key(false, false, true), slot(0))
        .await
        .unwrap();
    assert_eq!(whole, [by_email, by_all], "whole bookings");
}

/// Erasing a holder blanks the name, phone number and e-mail address of the organization's
/// bookings whose phone number or e-mail address is the one given, and says how many; the
/// bookings stay, and the empty string erases none.
pub async fn erasing_a_holder_blanks_name_phone_and_email(h: &dyn ReservationHarness) {
    const PHONE: &str = "+4930111";
    const EMAIL: &str = "ana@example.org";
    let s = one(h).await;
    let holder = |phone: Option<&str>, email: Option<&str>| BookingHolder {
        name: Some("Ana".to_owned()),
        phone: phone.map(str::to_owned),
        email: email.map(str::to_owned),
        language: Language::new("de-AT"),
    };
    let by_phone = Booking {
        customer: Some(CustomerId::from_u128(0xC1)),
        holder: holder(Some(PHONE), Some("ana.old@example.org")),
        ..confirmed(1, slot(0))
    };
    let by_email = Booking {
        holder: holder(Some("+4930222"), Some(EMAIL)),
        ..booking(2, slot(1), BookingState::Cancelled)
    };
    let theirs = Booking {
        organization: OTHER_ORG,
        holder: holder(Some(PHONE), None),
        ..confirmed(3, slot(0))
    };
    let blank_email = Booking {
        holder: holder(Some("+4930333"), Some("")),
        ..confirmed(4, slot(2))
    };
    let no_contact = Booking {
        holder: holder(None, None),
        ..confirmed(5, slot(3))
    };
    let all = [&by_phone, &by_email, &theirs, &blank_email, &no_contact];
    insert_all(&*s, &all).await;
    let erased = |b: &Booking| Booking {
        holder: BookingHolder {
            name: None,
            phone: None,
            email: None,
            language: b.holder.language.clone(),
        },
        // An update prepared before the erasure must not write the data back.
        revision: b.revision + 1,
        ..b.clone()
    };

    assert_eq!(s.erase_holders(ORG, "").await.unwrap(), 0, "nobody's");
    assert_eq!(
        s.erase_holders(ORG, "+4930").await.unwrap(),
        0,
        "whole numbers"
    );
    assert_eq!(s.erase_holders(ORG, "Ana").await.unwrap(), 0, "not by name");
    for b in all {
        assert_eq!(&s.booking(b.id).await.unwrap(), b, "nothing erased yet");
    }

    assert_eq!(s.erase_holders(ORG, PHONE).await.unwrap(), 1);
    assert_eq!(s.booking(by_phone.id).await.unwrap(), erased(&by_phone));
    let prepared_before = Booking {
        revision: by_phone.revision + 1,
        ..by_phone.clone()
    };
    let stale = s.update_booking(&prepared_before, 10, &[]).await;
    assert!(
        matches!(&stale, Err(StoreError::Conflict { what }) if what == STALE),
        "{stale:?}"
    );
    assert_eq!(s.booking(by_phone.id).await.unwrap(), erased(&by_phone));
    assert_eq!(s.erase_holders(ORG, EMAIL).await.unwrap(), 1);
    assert_eq!(s.booking(by_email.id).await.unwrap(), erased(&by_email));
    assert_eq!(
        s.erase_holders(ORG, PHONE).await.unwrap(),
        0,
        "already erased"
    );
    let phone_key = HolderKey {
        phone: Some(PHONE.to_owned()),
        ..HolderKey::default()
    };
    assert!(
        s.holder_bookings(ORG, &phone_key, slot(-10))
            .await
            .unwrap()
            .is_empty()
    );
    for b in [&theirs, &blank_email, &no_contact] {
        assert_eq!(
            &s.booking(b.id).await.unwrap(),
            b,
            "what did not match stays"
        );
    }
    assert_eq!(s.erase_holders(OTHER_ORG, PHONE).await.unwrap(), 1);
    assert_eq!(s.booking(theirs.id).await.unwrap(), erased(&theirs));
}

/// Many clients on separate handles racing for the seats of one slot: exactly `capacity` win,
/// every other one is `SLOT_FULL` and wrote nothing, its messages neither.
pub async fn concurrent_inserts_take_exactly_the_free_seats(h: &dyn ReservationHarness) {
    const CLIENTS: u128 = 16;
    const CAPACITY: u32 = 3;
    let handles = h.open_reservations(4).await;
    let mut tasks = Vec::new();
    for n in 1..=CLIENTS {
        let s = Arc::clone(&handles[n as usize % handles.len()]);
        tasks.push(tokio::spawn(async move {
            let b = confirmed(n, slot(0));
            let r = s
                .insert_booking(&b, CAPACITY, &[message(n, b.changed_at)])
                .await;
            (n, r)
        }));
    }
    let (mut won, mut full) = (Vec::new(), Vec::new());
    for t in tasks {
        match t.await.unwrap() {
            (n, Ok(())) => won.push(n),
            (n, Err(StoreError::Conflict { what })) if what == SLOT_FULL => full.push(n),
            (n, other) => panic!("booking {n}: {other:?}"),
        }
    }
    assert_eq!((won.len(), full.len()), (CAPACITY as usize, 13));
    let s = &handles[1];
    let stored = s.bookings(BRANCH, slot(0), slot(1)).await.unwrap();
    assert_eq!(seats(&**s, slot(0)).await, CAPACITY as usize);
    let mut stored = ids(&stored);
    stored.sort();
    assert_eq!(stored, won.iter().map(|&n| id(n)).collect::<Vec<_>>());
    for n in won {
        assert!(s.message(message(n, t0()).id).await.is_ok(), "message {n}");
    }
    for n in full {
        assert!(
            is_not_found(s.message(message(n, t0()).id).await),
            "message {n}"
        );
    }
}

/// Clients on separate handles updating one booking at the same revision: exactly one wins,
/// the others are `STALE`.
pub async fn concurrent_updates_of_one_revision_have_one_winner(h: &dyn ReservationHarness) {
    const WRITERS: u128 = 8;
    let handles = h.open_reservations(4).await;
    let first = confirmed(1, slot(0));
    handles[0].insert_booking(&first, 1, &[]).await.unwrap();
    let mut tasks = Vec::new();
    for w in 1..=WRITERS {
        let s = Arc::clone(&handles[w as usize % handles.len()]);
        let mut next = changed(&first);
        next.holder.name = Some(format!("Writer {w}"));
        tasks.push(tokio::spawn(async move {
            let r = s
                .update_booking(&next, 1, &[message(w, next.changed_at)])
                .await;
            (w, next, r)
        }));
    }
    let mut winners = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            (_, next, Ok(())) => winners.push(next),
            (_, _, Err(StoreError::Conflict { what })) if what == STALE => {}
            (w, _, other) => panic!("writer {w}: {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "one winner");
    let s = &handles[2];
    assert_eq!(s.booking(first.id).await.unwrap(), winners[0]);
    let mut enqueued = 0;
    for w in 1..=WRITERS {
        if s.message(message(w, t0()).id).await.is_ok() {
            enqueued += 1;
        }
    }
    assert_eq!(enqueued, 1, "only the winner's message");
}

/// Clients on separate handles offering the one free seat of a slot to different waitlisted
/// bookings: exactly one gets it.
pub async fn concurrent_offers_of_one_seat_have_one_winner(h: &dyn ReservationHarness) {
    const WAITING: u128 = 8;
    let handles = h.open_reservations(4).await;
    let mut waiting = Vec::new();
    for n in 1..=WAITING {
        let b = booking(n, slot(0), BookingState::Waitlisted);
        handles[0].insert_booking(&b, 1, &[]).await.unwrap();
        waiting.push(b);
    }
    let mut tasks = Vec::new();
    for (i, b) in waiting.into_iter().enumerate() {
        let s = Arc::clone(&handles[i % handles.len()]);
        tasks.push(tokio::spawn(async move {
            let offer = moved_to(&b, BookingState::Offered);
            s.update_booking(&offer, 1, &[]).await
        }));
    }
    let mut won = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(()) => won += 1,
            Err(StoreError::Conflict { what }) if what == SLOT_FULL => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(won, 1);
    assert_eq!(seats(&*handles[3], slot(0)).await, 1);
}
