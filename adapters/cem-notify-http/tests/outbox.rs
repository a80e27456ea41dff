//! The outbox end to end: a courier delivering through `HttpNotifier` to a real receiver on
//! 127.0.0.1 that fails on purpose part of the time, sometimes after it took the message.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use cem_core::chrono::{DateTime, Utc};
use cem_core::{Channel, ManualClock, Notifier, OutboxStore};
use cem_notify::{Courier, RetryPolicy};
use cem_notify_http::{HttpNotifier, HttpNotifierSettings};

mod common;
use cem_store_memory::MemoryStore;

/// An idempotent receiver: it processes each `Idempotency-Key` once. Of every five requests it
/// answers one with 503 before processing and one with 500 after processing (the answer is
/// lost, as when a connection drops), so the sender must retry both and the second retry is a
/// duplicate the receiver must recognise.
#[derive(Debug, Clone, Default)]
struct Flaky {
    requests: Arc<AtomicU64>,
    /// Per idempotency key, how many requests carried it (processed on the first).
    processed: Arc<Mutex<HashMap<String, u32>>>,
}

async fn receive(State(r): State<Flaky>, headers: HeaderMap) -> StatusCode {
    let n = r.requests.fetch_add(1, Ordering::SeqCst);
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    if n % 5 == 1 {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    // Processing happens once per key; a key seen again is a duplicate, answered as done.
    *r.processed.lock().unwrap().entry(key).or_default() += 1;
    if n % 5 == 3 {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    }
}

fn t0() -> DateTime<Utc> {
    "2026-11-30T08:00:00Z".parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_message_reaches_an_idempotent_receiver_exactly_once() {
    const MESSAGES: u128 = 200;
    let receiver = Flaky::default();
    let app = Router::new()
        .route("/sms", post(receive))
        .with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });

    let mut settings = HttpNotifierSettings::new(vec![Channel::Sms]);
    settings.url = Some(format!("http://{addr}/sms"));
    let notifier: Arc<dyn Notifier> = Arc::new(HttpNotifier::new(settings).unwrap());
    let outbox = Arc::new(MemoryStore::new());
    let clock = Arc::new(ManualClock::new(t0()));
    let messages = common::messages(MESSAGES, t0());
    outbox.enqueue(&messages, t0(), None).await.unwrap();

    // Two couriers share the outbox, as two server instances would.
    let courier = |batch| {
        Courier::new(outbox.clone(), vec![Arc::clone(&notifier)], clock.clone())
            .with_policy(RetryPolicy {
                max_attempts: 50,
                ..RetryPolicy::default()
            })
            .with_lease(Duration::from_secs(30))
            .with_batch(batch)
    };
    let (a, b) = (courier(16), courier(7));
    let mut rounds = 0;
    loop {
        let (pa, pb) = tokio::join!(a.deliver_all_due(), b.deliver_all_due());
        let (pa, pb) = (pa.unwrap(), pb.unwrap());
        assert_eq!(pa.dead + pb.dead, 0, "nothing is refused for good here");
        if common::undelivered(outbox.as_ref(), MESSAGES).await == 0 {
            break;
        }
        rounds += 1;
        assert!(rounds < 100, "still undelivered after 100 rounds");
        // The retries come due.
        clock.advance(cem_core::chrono::Duration::hours(2));
    }

    // One processing per message: the keys are exactly the message ids, the same on every
    // attempt, so the duplicates sent after a lost answer were recognised.
    let processed = receiver.processed.lock().unwrap().clone();
    common::assert_each_arrived_under_its_id(&processed, MESSAGES);
    assert!(
        processed.values().any(|&times| times > 1),
        "answers were lost after processing, so duplicates did arrive"
    );
    assert!(
        receiver.requests.load(Ordering::SeqCst) > MESSAGES as u64,
        "failures made the couriers retry"
    );
}
