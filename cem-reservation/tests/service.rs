//! The reservation service over real stores: many customers racing for the last seats of a
//! slot through two connection pools on one SQLite file, and the life of a booking (notices
//! in the outbox, waitlist offers, check-in, no-show) over the memory store.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use cem_core::chrono::{DateTime, TimeDelta, Utc};
use cem_core::{
    Booking, BookingHolder, BookingId, BookingState, Branch, Channel, Clock, Language,
    LocalizedText, ManualClock, MessageId, OrgStore, Organization, OutboundMessage, OutboxStore,
    QueueSettings, ReservationStore, StoreError, TicketId,
};
use cem_reservation::testing::{BRANCH, ORGANIZATION, SERVICE, berlin, plan_every_day, t, utc};
use cem_reservation::{
    Actor, CheckIn, Entropy, ReservationError, ReservationService, ServiceError, SlotStatus,
};
use cem_store_memory::MemoryStore;
use cem_store_sqlite::SqliteStore;

/// Deterministic, distinct bytes for each code.
#[derive(Debug, Default)]
struct Counter(AtomicU64);

impl Entropy for Counter {
    fn fill(&self, bytes: &mut [u8]) {
        let n = self
            .0
            .fetch_add(1, Ordering::SeqCst)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = (n >> (8 * i)) as u8;
        }
    }
}

fn now() -> DateTime<Utc> {
    utc("2026-11-27T12:00:00Z")
}

/// Monday 2026-11-30, 09:00 in Berlin.
fn monday_nine() -> DateTime<Utc> {
    utc("2026-11-30T08:00:00Z")
}

async fn put_branch(store: &dyn OrgStore) {
    store
        .put_organization(&Organization {
            id: ORGANIZATION,
            name: LocalizedText::single(Language::en(), "Bank"),
            default_language: Language::en(),
        })
        .await
        .unwrap();
    store
        .put_branch(&Branch {
            id: BRANCH,
            organization: ORGANIZATION,
            name: LocalizedText::single(Language::en(), "Main"),
            time_zone: berlin(),
            opening_hours: Default::default(),
            queue: QueueSettings::default(),
        })
        .await
        .unwrap();
}

fn holder(n: u32) -> BookingHolder {
    BookingHolder {
        name: Some(format!("Customer {n}")),
        phone: Some(format!("+49301000{n:03}")),
        email: None,
        language: Language::en(),
    }
}

/// A confirmation to the holder, with an id of its own.
fn confirmation(b: &Booking) -> Vec<OutboundMessage> {
    vec![OutboundMessage {
        id: MessageId::new(b.id.0),
        organization: b.organization,
        channel: Channel::Sms,
        to: b.holder.phone.clone().unwrap_or_default(),
        kind: "booking_confirmed".into(),
        language: Language::en(),
        subject: None,
        body: format!("Booked: {}", b.code.as_str()),
        created_at: b.changed_at,
    }]
}

fn none(_: &Booking) -> Vec<OutboundMessage> {
    Vec::new()
}

/// The offer of a freed seat, with an id of its own.
fn offer(b: &Booking) -> Vec<OutboundMessage> {
    let mut m = confirmation(b);
    m[0].id = MessageId::from_u128(b.id.0.as_u128() + 1_000_000);
    m[0].kind = "booking_offered".into();
    m
}

async fn offer_sent(store: &MemoryStore, b: &Booking) -> bool {
    store
        .message(MessageId::from_u128(b.id.0.as_u128() + 1_000_000))
        .await
        .is_ok()
}

/// A plan of one seat per slot whose freed seats are offered for an hour, and a service over
/// `store` at a manual clock set to [`now`].
async fn one_seat_with_a_waitlist(
    store: &Arc<MemoryStore>,
) -> (Arc<ManualClock>, ReservationService) {
    let mut plan = plan_every_day(t(9, 0), t(12, 0), 30 * 60, 20 * 60);
    plan.capacity = 1;
    plan.waitlist_offer_secs = Some(3600);
    store.put_plan(&plan).await.unwrap();
    let clock = Arc::new(ManualClock::new(now()));
    let service = ReservationService::new(
        store.clone(),
        store.clone(),
        clock.clone(),
        Arc::new(Counter::default()),
    );
    (clock, service)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_customers_racing_for_the_last_seats_never_overbook() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("cem.db").display());
    let first = Arc::new(SqliteStore::open(&url).await.unwrap());
    let second = Arc::new(SqliteStore::open(&url).await.unwrap());
    put_branch(&*first).await;
    let mut plan = plan_every_day(t(9, 0), t(12, 0), 30 * 60, 20 * 60);
    plan.capacity = 3;
    first.put_plan(&plan).await.unwrap();
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(now()));
    let entropy = Arc::new(Counter::default());
    let services = [first.clone(), second.clone()]
        .map(|store| ReservationService::new(store.clone(), store, clock.clone(), entropy.clone()));

    let mut racers = Vec::new();
    for n in 0..24_u32 {
        let service = services[n as usize % 2].clone();
        racers.push(tokio::spawn(async move {
            service
                .book(
                    BRANCH,
                    SERVICE,
                    BookingId::from_u128(u128::from(n) + 1),
                    monday_nine(),
                    None,
                    holder(n),
                    false,
                    &confirmation,
                )
                .await
        }));
    }
    let (mut booked, mut full) = (0, 0);
    for racer in racers {
        match racer.await.unwrap() {
            Ok(b) => {
                assert_eq!(b.state, BookingState::Confirmed);
                booked += 1;
            }
            Err(ServiceError::Refused(ReservationError::SlotFull { start })) => {
                assert_eq!(start, monday_nine());
                full += 1;
            }
            Err(e) => panic!("{e}"),
        }
    }
    println!("24 customers, 3 seats: {booked} booked, {full} told the slot is full");
    assert_eq!((booked, full), (3, 21));
    let stored = first
        .bookings(BRANCH, monday_nine(), monday_nine() + TimeDelta::hours(1))
        .await
        .unwrap();
    let seats: Vec<&Booking> = stored.iter().filter(|b| b.state.holds_seat()).collect();
    assert_eq!(seats.len(), 3);
    // Each booking came with its confirmation; the refused ones left none.
    for b in &stored {
        assert!(first.message(MessageId::new(b.id.0)).await.is_ok());
    }
    let refused = stored.len() as u128 + 1..=24;
    for n in refused {
        let id = MessageId::from_u128(n);
        if !stored.iter().any(|b| MessageId::new(b.id.0) == id) {
            assert!(matches!(
                first.message(id).await,
                Err(StoreError::NotFound { .. })
            ));
        }
    }
    let slots = services[1]
        .slots(
            BRANCH,
            SERVICE,
            monday_nine().date_naive()..=monday_nine().date_naive(),
        )
        .await
        .unwrap();
    assert_eq!((slots[0].status, slots[0].available), (SlotStatus::Full, 0));
}

#[tokio::test]
async fn a_booking_lives_through_waitlist_reschedule_check_in_and_no_show() {
    let store = Arc::new(MemoryStore::new());
    put_branch(&*store).await;
    let (clock, service) = one_seat_with_a_waitlist(&store).await;
    let book = |n: u128, start, waitlist| {
        service.book(
            BRANCH,
            SERVICE,
            BookingId::from_u128(n),
            start,
            None,
            holder(n as u32),
            waitlist,
            &confirmation,
        )
    };

    // Ana books 09:00; Ben finds it full and joins its waitlist.
    let ana = book(1, monday_nine(), false).await.unwrap();
    let refused = book(2, monday_nine(), false).await.unwrap_err();
    assert!(matches!(
        refused,
        ServiceError::Refused(ReservationError::SlotFull { .. })
    ));
    let ben = book(2, monday_nine(), true).await.unwrap();
    assert_eq!(ben.state, BookingState::Waitlisted);
    // Ana moves to 10:00: her seat at 09:00 is offered to Ben.
    let ten = monday_nine() + TimeDelta::hours(1);
    let moved = service
        .reschedule(ana.id, ten, Actor::Holder, &none, &offer)
        .await
        .unwrap();
    assert_eq!(
        (moved.start, moved.code.clone(), moved.revision),
        (ten, ana.code, 1)
    );
    let ben = store.booking(ben.id).await.unwrap();
    assert_eq!(ben.state, BookingState::Offered);
    assert!(ben.offer_expires_at.is_some());
    assert!(offer_sent(&store, &ben).await, "Ben is told of the seat");
    // Found by its code (as a person types it), at its branch only.
    let typed = cem_reservation::parse_code(&moved.code.as_str().to_lowercase()).unwrap();
    assert_eq!(service.by_code(BRANCH, &typed).await.unwrap().id, ana.id);

    // Monday 09:55 Berlin: Ana checks in for 10:00, on time.
    clock.set(ten - TimeDelta::minutes(5));
    let ticket = TicketId::from_u128(77);
    let (checked, how) = service.check_in(ana.id, ticket).await.unwrap();
    assert_eq!(
        how,
        CheckIn::Appointment {
            appointment_at: ten
        }
    );
    assert_eq!(
        (checked.state, checked.ticket),
        (BookingState::CheckedIn, Some(ticket))
    );
    // Twice is refused, and changes nothing.
    assert!(matches!(
        service.check_in(ana.id, TicketId::from_u128(78)).await,
        Err(ServiceError::Refused(_))
    ));
    assert_eq!(store.booking(ana.id).await.unwrap().ticket, Some(ticket));

    // Carl books 11:00 and never comes: a no-show once the grace period is over.
    clock.set(now());
    let eleven = monday_nine() + TimeDelta::hours(2);
    let carl = book(3, eleven, false).await.unwrap();
    clock.set(eleven + TimeDelta::minutes(5));
    assert!(matches!(
        service.no_show(carl.id).await,
        Err(ServiceError::Refused(_))
    ));
    clock.set(eleven + TimeDelta::minutes(11));
    assert_eq!(
        service.no_show(carl.id).await.unwrap().state,
        BookingState::NoShow
    );
    // Cancelling a checked-in booking is refused.
    assert!(matches!(
        service.cancel(ana.id, Actor::Staff, &none, &none).await,
        Err(ServiceError::Refused(_))
    ));
}

#[tokio::test]
async fn an_offer_left_to_expire_lapses_and_the_seat_passes_to_the_next_in_line() {
    let store = Arc::new(MemoryStore::new());
    put_branch(&*store).await;
    let (clock, service) = one_seat_with_a_waitlist(&store).await;
    let mut line = Vec::new();
    for n in 1..=3_u32 {
        clock.set(now() + TimeDelta::minutes(n.into()));
        let b = service
            .book(
                BRANCH,
                SERVICE,
                BookingId::from_u128(n.into()),
                monday_nine(),
                None,
                holder(n),
                n > 1,
                &none,
            )
            .await
            .unwrap();
        line.push(b);
    }
    let [ana, ben, cleo] = [&line[0], &line[1], &line[2]];
    assert_eq!(cleo.state, BookingState::Waitlisted);

    // Ana cancels: Ben, first in line, is offered her seat for an hour, and told.
    service
        .cancel(ana.id, Actor::Holder, &none, &offer)
        .await
        .unwrap();
    assert_eq!(
        store.booking(ben.id).await.unwrap().state,
        BookingState::Offered
    );
    assert!(offer_sent(&store, ben).await);
    assert!(!offer_sent(&store, cleo).await, "one seat, one offer");
    // Within the hour a sweep changes nothing.
    clock.set(now() + TimeDelta::minutes(30));
    assert!(
        service
            .sweep_waitlists(BRANCH, &offer)
            .await
            .unwrap()
            .is_empty()
    );

    // Ben lets it expire: the sweep lapses his place and offers the seat to Cleo.
    clock.set(now() + TimeDelta::minutes(64));
    let offered = service.sweep_waitlists(BRANCH, &offer).await.unwrap();
    assert_eq!(offered.iter().map(|b| b.id).collect::<Vec<_>>(), [cleo.id]);
    assert_eq!(
        store.booking(ben.id).await.unwrap().state,
        BookingState::Lapsed
    );
    assert!(offer_sent(&store, cleo).await);
    assert!(matches!(
        service.accept_offer(ben.id, &none).await,
        Err(ServiceError::Refused(_))
    ));
    let taken = service.accept_offer(cleo.id, &confirmation).await.unwrap();
    assert_eq!(taken.state, BookingState::Confirmed);
    assert!(
        service
            .sweep_waitlists(BRANCH, &offer)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn reminders_come_due_at_their_lead_and_no_shows_after_the_grace_period() {
    let store = Arc::new(MemoryStore::new());
    put_branch(&*store).await;
    let mut plan = plan_every_day(t(9, 0), t(12, 0), 30 * 60, 20 * 60);
    plan.reminder_lead_secs = Some(24 * 3600);
    store.put_plan(&plan).await.unwrap();
    let clock = Arc::new(ManualClock::new(now()));
    let service = ReservationService::new(
        store.clone(),
        store.clone(),
        clock.clone(),
        Arc::new(Counter::default()),
    );
    let mut ids = Vec::new();
    for (n, start) in [(1, monday_nine()), (2, monday_nine() + TimeDelta::hours(1))] {
        let b = service
            .book(
                BRANCH,
                SERVICE,
                BookingId::from_u128(n),
                start,
                None,
                holder(n as u32),
                false,
                &none,
            )
            .await
            .unwrap();
        ids.push(b.id);
    }
    let due = |service: &ReservationService| {
        let service = service.clone();
        async move {
            service
                .reminders_due(BRANCH)
                .await
                .unwrap()
                .iter()
                .map(|b| b.id)
                .collect::<Vec<_>>()
        }
    };
    assert!(due(&service).await.is_empty(), "days ahead");
    clock.set(monday_nine() - TimeDelta::hours(24));
    assert_eq!(due(&service).await, ids[..1]);
    clock.set(monday_nine() - TimeDelta::hours(1));
    assert_eq!(due(&service).await, ids);
    clock.set(monday_nine() + TimeDelta::minutes(1));
    assert_eq!(due(&service).await, ids[1..], "the first has started");

    // The grace period (10 minutes) of the first ends at 09:10; the second is checked in.
    clock.set(monday_nine() + TimeDelta::hours(1) - TimeDelta::minutes(5));
    service
        .check_in(ids[1], TicketId::from_u128(9))
        .await
        .unwrap();
    clock.set(monday_nine() + TimeDelta::hours(2));
    let marked = service.sweep_no_shows(BRANCH).await.unwrap();
    assert_eq!(marked.iter().map(|b| b.id).collect::<Vec<_>>(), ids[..1]);
    assert_eq!(
        store.booking(ids[0]).await.unwrap().state,
        BookingState::NoShow
    );
    assert_eq!(
        store.booking(ids[1]).await.unwrap().state,
        BookingState::CheckedIn
    );
    assert!(
        service.sweep_no_shows(BRANCH).await.unwrap().is_empty(),
        "once"
    );
}
