//! A courier killed in the middle of delivery loses nothing: a child process delivers from a
//! SQLite outbox to a receiver on 127.0.0.1 and is killed with SIGKILL while messages are in
//! flight; a courier started afterwards on the same file delivers the rest, and the receiver
//! has every message once (by its idempotency key).

use std::collections::HashMap;
use std::process::{Command as Process, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use cem_core::chrono::{DateTime, Utc};
use cem_core::{Channel, Clock, ManualClock, Notifier, OutboxStore};
use cem_notify::{Courier, RetryPolicy};
use cem_notify_http::{HttpNotifier, HttpNotifierSettings};
use cem_store_sqlite::SqliteStore;

mod common;

const CHILD_DB: &str = "CEM_OUTBOX_CRASH_DB";
const CHILD_URL: &str = "CEM_OUTBOX_CRASH_URL";
const MESSAGES: u128 = 400;
/// Requests the receiver takes before the parent kills the child.
const KILL_AFTER: u64 = 120;

/// The system clock, for the child.
#[derive(Debug)]
struct Wall;

impl Clock for Wall {
    fn now(&self) -> DateTime<Utc> {
        SystemTime::now().into()
    }
}

fn notifier(url: String) -> Arc<dyn Notifier> {
    let mut settings = HttpNotifierSettings::new(vec![Channel::Sms]);
    settings.url = Some(url);
    Arc::new(HttpNotifier::new(settings).unwrap())
}

/// The child: delivers from the outbox at `CHILD_DB` until it is killed. Run only by the parent
/// test below (hence ignored on its own).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "child process of a_courier_killed_mid_delivery_loses_nothing"]
async fn outbox_crash_child_courier() {
    let path = std::env::var(CHILD_DB).expect("run by the parent test");
    let url = std::env::var(CHILD_URL).expect("run by the parent test");
    let outbox = Arc::new(SqliteStore::open(&path).await.unwrap());
    let courier = Courier::new(outbox, vec![notifier(url)], Arc::new(Wall))
        .with_lease(Duration::from_secs(30))
        .with_batch(8);
    loop {
        courier.deliver_all_due().await.unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Processes each idempotency key once and counts the requests; each takes a few
/// milliseconds, so the kill finds some in flight.
#[derive(Debug, Clone, Default)]
struct Receiver {
    requests: Arc<AtomicU64>,
    seen: Arc<Mutex<HashMap<String, u32>>>,
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap) -> StatusCode {
    tokio::time::sleep(Duration::from_millis(3)).await;
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    *r.seen.lock().unwrap().entry(key).or_default() += 1;
    r.requests.fetch_add(1, Ordering::SeqCst);
    StatusCode::OK
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_courier_killed_mid_delivery_loses_nothing() {
    let receiver = Receiver::default();
    let app = Router::new()
        .route("/sms", post(receive))
        .with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/sms", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let dir = std::env::temp_dir().join(format!("cem-outbox-crash-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("outbox.sqlite").to_str().unwrap().to_owned();
    let created: DateTime<Utc> = SystemTime::now().into();
    let messages = common::messages(MESSAGES, created);
    {
        let outbox = SqliteStore::open(&path).await.unwrap();
        outbox.enqueue(&messages, created, None).await.unwrap();
    }

    let mut child = Process::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "outbox_crash_child_courier",
            "--nocapture",
        ])
        .env(CHILD_DB, &path)
        .env(CHILD_URL, &url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while receiver.requests.load(Ordering::SeqCst) < KILL_AFTER
        && started.elapsed() < Duration::from_secs(120)
    {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    // SIGKILL, while the child has messages claimed and requests in flight.
    child.kill().unwrap();
    child.wait().unwrap();
    let before = receiver.requests.load(Ordering::SeqCst);
    assert!(before >= KILL_AFTER, "the child delivered only {before}");
    assert!(
        before < MESSAGES as u64,
        "the child finished before the kill"
    );

    // A new courier on the same file, its clock past the dead one's leases.
    let outbox = Arc::new(SqliteStore::open(&path).await.unwrap());
    let clock = Arc::new(ManualClock::new(
        created + cem_core::chrono::Duration::minutes(5),
    ));
    let courier = Courier::new(outbox.clone(), vec![notifier(url)], clock.clone())
        .with_policy(RetryPolicy::default());
    let mut rounds = 0;
    loop {
        courier.deliver_all_due().await.unwrap();
        let undelivered = common::undelivered(outbox.as_ref(), MESSAGES).await;
        if undelivered == 0 {
            break;
        }
        rounds += 1;
        assert!(rounds < 20, "{undelivered} still undelivered");
        clock.advance(cem_core::chrono::Duration::hours(1));
    }

    let seen = receiver.seen.lock().unwrap().clone();
    common::assert_each_arrived_under_its_id(&seen, MESSAGES);
    let twice = seen.values().filter(|&&n| n > 1).count();
    println!(
        "outbox crash test: killed after {before} requests; {} messages, {twice} sent again \
         after the kill and recognised by their key",
        seen.len()
    );
    std::fs::remove_dir_all(&dir).ok();
}
