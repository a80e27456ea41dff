//! Bookings over time: every minute, the reminders that came due go to the outbox, the
//! bookings nobody came for become no-shows, and waitlist offers left to expire lapse, their
//! seats offered to the next in line.

use std::time::Duration;

use cem_core::Booking;
use cem_http::AppState;
use cem_notify::{BookingNotice, BookingPlace, booking_messages};
use tokio::task::JoinHandle;

/// How often bookings are looked at.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// Sweeps every branch every minute until the returned task is aborted; `public_url` starts
/// the links in reminders.
pub(crate) fn start_sweeps(state: &AppState, public_url: String) -> JoinHandle<()> {
    let state = state.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(SWEEP_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = sweep(&state, &public_url).await {
                tracing::warn!(error = %e, "cannot sweep the bookings; retrying");
            }
        }
    })
}

/// One sweep of every branch: reminders due (their ids make a reminder enqueued twice one
/// message), no-shows due, and waitlists.
pub(crate) async fn sweep(state: &AppState, public_url: &str) -> anyhow::Result<()> {
    let stores = state.stores();
    for organization in stores.org.organizations().await? {
        for branch in stores.org.branches(organization.id).await? {
            let Some(config) = state.queue().config(branch.id) else {
                continue;
            };
            let place = |booking: &Booking| {
                config.service(booking.service).map(|service| BookingPlace {
                    branch: &config.branch.name,
                    service: &service.name,
                    time_zone: config.branch.time_zone,
                    public_url,
                })
            };
            let mut messages = Vec::new();
            for booking in state.reservations().reminders_due(branch.id).await? {
                if let Some(place) = place(&booking) {
                    messages.extend(booking_messages(BookingNotice::Reminder, &booking, &place)?);
                }
            }
            if !messages.is_empty() {
                stores.outbox.enqueue(&messages, state.now(), None).await?;
            }
            let marked = state.reservations().sweep_no_shows(branch.id).await?;
            if !marked.is_empty() {
                tracing::info!(branch = %branch.id, no_shows = marked.len(), "bookings nobody came for");
            }
            let offer = |booking: &Booking| {
                place(booking)
                    .map(|place| booking_messages(BookingNotice::Offered, booking, &place))
                    .transpose()
                    .unwrap_or_else(|e| {
                        tracing::error!(error = %e, booking = %booking.id, "cannot write an offer");
                        None
                    })
                    .unwrap_or_default()
            };
            let offered = state
                .reservations()
                .sweep_waitlists(branch.id, &offer)
                .await?;
            if !offered.is_empty() {
                tracing::info!(branch = %branch.id, offers = offered.len(), "freed seats offered to waitlists");
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use cem_core::chrono::{DateTime, TimeDelta, Utc};
    use cem_core::{
        BookingHolder, BookingId, BookingState, Clock, Language, ManualClock, OrgStore,
        Organization, OutboxStore, ReservationStore,
    };
    use cem_http::{HttpSettings, Stores};
    use cem_queue::ServiceOptions;
    use cem_queue::testing::branch_config;
    use cem_reservation::testing::{plan_every_day, t};
    use cem_store_memory::MemoryStore;

    use super::*;

    /// A reminder leaves once its lead is reached, in the holder's language and once however
    /// many sweeps see it; a booking nobody came for becomes a no-show.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sweeps_send_reminders_once_and_mark_no_shows() {
        let store = Arc::new(MemoryStore::new());
        let mut config = branch_config(1, 1);
        config.services[0].takes_appointments = true;
        let organization = config.branch.organization;
        store
            .put_organization(&Organization {
                id: organization,
                name: cem_core::LocalizedText::single(Language::en(), "Bank"),
                default_language: Language::en(),
            })
            .await
            .unwrap();
        for class in &config.classes {
            store.put_class(organization, class).await.unwrap();
        }
        store.put_branch(&config.branch).await.unwrap();
        store
            .put_service(config.branch.id, &config.services[0])
            .await
            .unwrap();
        let mut plan = plan_every_day(t(9, 0), t(12, 0), 30 * 60, 20 * 60);
        (plan.organization, plan.branch, plan.service) =
            (organization, config.branch.id, config.services[0].id);
        plan.reminder_lead_secs = Some(3600);
        store.put_plan(&plan).await.unwrap();

        // Monday 2026-11-30 09:00 in Berlin is 08:00 UTC.
        let start: DateTime<Utc> = "2026-11-30T08:00:00Z".parse().unwrap();
        let clock = Arc::new(ManualClock::new(start - TimeDelta::days(2)));
        let bus = Arc::new(cem_bus_local::LocalBus::new(64));
        let state = AppState::new(
            Stores::single(store.clone(), bus),
            clock.clone(),
            HttpSettings::default(),
            ServiceOptions::default(),
        )
        .await
        .unwrap();
        let holder = BookingHolder {
            name: Some("Ana".into()),
            phone: Some("+4930123456".into()),
            email: None,
            language: Language::fa(),
        };
        let booking = state
            .reservations()
            .book(
                config.branch.id,
                config.services[0].id,
                BookingId::from_u128(1),
                start,
                None,
                holder,
                false,
                &|_| Vec::new(),
            )
            .await
            .unwrap();
        let due = |clock: &ManualClock| {
            let now = clock.now();
            let store = store.clone();
            async move { store.claim(now, now, 100).await.unwrap() }
        };

        sweep(&state, "https://queue.example.org").await.unwrap();
        assert!(
            due(&clock).await.is_empty(),
            "two days ahead: no reminder yet"
        );
        clock.set(start - TimeDelta::minutes(59));
        sweep(&state, "https://queue.example.org").await.unwrap();
        sweep(&state, "https://queue.example.org").await.unwrap();
        let sent = due(&clock).await;
        assert_eq!(sent.len(), 1, "once, however many sweeps: {sent:?}");
        let reminder = &sent[0].message;
        assert_eq!(
            (reminder.kind.as_str(), reminder.to.as_str()),
            ("booking_reminder", "+4930123456")
        );
        assert!(reminder.body.contains("۰۹:۰۰"), "{}", reminder.body);
        assert!(
            reminder.body.contains(&format!(
                "https://queue.example.org/booking/{}/",
                config.branch.id
            )),
            "{}",
            reminder.body
        );

        clock.set(start + TimeDelta::minutes(11));
        sweep(&state, "https://queue.example.org").await.unwrap();
        assert_eq!(
            store.booking(booking.id).await.unwrap().state,
            BookingState::NoShow
        );
    }
}
