//! The courier over an in-memory outbox, with a notifier scripted per recipient.

use std::sync::Arc;

use cem_core::chrono::{DateTime, Duration, Utc};
use cem_core::{
    Channel, Clock, Language, ManualClock, MessageId, Notifier, OrganizationId, OutboundMessage,
    OutboxState, OutboxStore, SendError, async_trait,
};
use cem_notify::{Courier, Pass, RetryPolicy};
use cem_store_memory::MemoryStore;

/// Sends SMS only: to `ok` it succeeds, to `down` it fails for now, to `refused` for good.
#[derive(Debug)]
struct Scripted;

#[async_trait]
impl Notifier for Scripted {
    fn handles(&self, channel: Channel) -> bool {
        channel == Channel::Sms
    }

    async fn send(&self, message: &OutboundMessage) -> Result<(), SendError> {
        match message.to.as_str() {
            "ok" => Ok(()),
            "down" => Err(SendError::Retryable {
                reason: "503".into(),
            }),
            _ => Err(SendError::Permanent {
                reason: "404".into(),
            }),
        }
    }
}

fn t0() -> DateTime<Utc> {
    "2026-11-30T08:00:00Z".parse().unwrap()
}

fn message(n: u128, channel: Channel, to: &str) -> OutboundMessage {
    OutboundMessage {
        id: MessageId::from_u128(n),
        organization: OrganizationId::from_u128(1),
        channel,
        to: to.into(),
        kind: "ticket_called".into(),
        language: Language::en(),
        subject: None,
        body: "A-001, please go to counter 1.".into(),
        created_at: t0(),
    }
}

#[tokio::test]
async fn outcomes_follow_the_notifier_and_the_policy() {
    let outbox = Arc::new(MemoryStore::new());
    let clock = Arc::new(ManualClock::new(t0()));
    let policy = RetryPolicy {
        max_attempts: 3,
        ..RetryPolicy::default()
    };
    let courier =
        Courier::new(outbox.clone(), vec![Arc::new(Scripted)], clock.clone()).with_policy(policy);
    outbox
        .enqueue(
            &[
                message(1, Channel::Sms, "ok"),
                message(2, Channel::Sms, "down"),
                message(3, Channel::Sms, "refused"),
                message(4, Channel::Email, "ana@example.org"),
            ],
            t0(),
            None,
        )
        .await
        .unwrap();
    let state = |n| {
        let outbox = outbox.clone();
        async move { outbox.message(MessageId::from_u128(n)).await.unwrap() }
    };

    let first = courier.deliver_all_due().await.unwrap();
    assert_eq!(
        first,
        Pass {
            claimed: 4,
            delivered: 1,
            retrying: 1,
            dead: 2,
            unsettled: 0
        }
    );
    assert_eq!(state(1).await.state, OutboxState::Delivered);
    let no_notifier = state(4).await;
    assert_eq!(no_notifier.state, OutboxState::Dead);
    assert!(no_notifier.last_error.unwrap().contains("Email"));
    assert!(state(3).await.last_error.unwrap().contains("404"));

    // The failing one waits as the policy says, then is tried until its attempts run out.
    let waiting = state(2).await;
    assert_eq!(waiting.state, OutboxState::Pending);
    assert_eq!(
        Some(waiting.next_attempt_at),
        policy.next_attempt(1, MessageId::from_u128(2), t0())
    );
    assert_eq!(
        courier.deliver_all_due().await.unwrap().claimed,
        0,
        "not due yet"
    );
    for attempt in 2..=3 {
        clock.set(state(2).await.next_attempt_at);
        let pass = courier.deliver_all_due().await.unwrap();
        assert_eq!(pass.claimed, 1);
        assert_eq!(state(2).await.attempts, attempt);
    }
    let dead = state(2).await;
    assert_eq!(dead.state, OutboxState::Dead);
    assert!(dead.last_error.unwrap().contains("after 3 attempts"));

    // Replayed by an administrator, it is tried again at once.
    outbox
        .replay(MessageId::from_u128(2), clock.now())
        .await
        .unwrap();
    assert_eq!(courier.deliver_all_due().await.unwrap().retrying, 1);
}

#[tokio::test]
async fn a_courier_whose_lease_ran_out_does_not_overwrite_the_next_one() {
    let outbox = Arc::new(MemoryStore::new());
    let clock = Arc::new(ManualClock::new(t0()));
    outbox
        .enqueue(&[message(1, Channel::Sms, "ok")], t0(), None)
        .await
        .unwrap();
    // A first courier claimed it and died; its lease runs out; the next one delivers.
    let stale = outbox
        .claim(t0(), t0() + Duration::seconds(60), 10)
        .await
        .unwrap();
    assert_eq!(stale[0].attempts, 1);
    clock.advance(Duration::seconds(61));
    let courier = Courier::new(outbox.clone(), vec![Arc::new(Scripted)], clock.clone());
    assert_eq!(courier.deliver_all_due().await.unwrap().delivered, 1);
    // The first courier's late failure changes nothing.
    let late = cem_core::Outcome::Dead {
        error: "late".into(),
    };
    let id = MessageId::from_u128(1);
    assert!(!outbox.settle(id, 1, &late, clock.now()).await.unwrap());
    let entry = outbox.message(id).await.unwrap();
    assert_eq!((entry.state, entry.attempts), (OutboxState::Delivered, 2));
}
