//! What the conformance suite cannot know about PostgreSQL: migrations, races between pools,
//! the order in which positions become visible, the LISTEN/NOTIFY bus and error mapping.
//!
//! Each test needs `CEM_TEST_POSTGRES_URL` (an administrator URL) and creates its own
//! database; without it at build time the tests are reported as ignored, with that reason.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use cem_core::QueueEventStoreExt;
use cem_core::chrono::{DateTime, TimeDelta, Utc};
use cem_core::{
    BranchId, Delivery, EventBus, NewEvent, QueueEventStore, RecordedEvent, StoreError,
    Subscription,
};
use cem_store_postgres::testing::{TestDatabase, admin_url};
use cem_store_postgres::{PgBus, PgStore, PgStoreOptions};
use serde_json::json;
use tokio::sync::Barrier;
use tokio::time::timeout;

/// A fresh database on the server named by `CEM_TEST_POSTGRES_URL` (the tests are ignored when
/// it was not set at build time).
async fn fresh_database() -> TestDatabase {
    let url = admin_url().expect("CEM_TEST_POSTGRES_URL names the server");
    TestDatabase::create(&url)
        .await
        .expect("create a test database")
}

async fn store(db: &TestDatabase, connections: u32) -> PgStore {
    PgStore::connect_with(
        db.url(),
        &PgStoreOptions::default().max_connections(connections),
    )
    .await
    .expect("connect")
}

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_796_025_600, 0).expect("valid instant")
}

fn events(n: usize, tag: &str) -> Vec<NewEvent> {
    (0..n)
        .map(|i| NewEvent {
            at: t0() + TimeDelta::seconds(i as i64),
            kind: "test_event".to_owned(),
            payload: json!({ "type": "test_event", "tag": tag, "i": i }),
        })
        .collect()
}

const WAIT: Duration = Duration::from_secs(10);

async fn next(sub: &mut Box<dyn Subscription>) -> Delivery {
    timeout(WAIT, sub.next())
        .await
        .expect("a delivery in time")
        .expect("the bus is alive")
}

#[tokio::test]
#[cfg_attr(not(cem_postgres), ignore = "CEM_TEST_POSTGRES_URL not set")]
async fn migrations_run_twice_and_concurrently() {
    let db = fresh_database().await;
    // Several instances starting at once on an empty database.
    let starts: Vec<_> = (0..4)
        .map(|_| {
            let url = db.url().to_owned();
            tokio::spawn(async move { PgStore::connect(&url).await })
        })
        .collect();
    for start in starts {
        start.await.expect("task ran").expect("migrated");
    }
    // And once more on a migrated one, after data was written.
    let first = store(&db, 2).await;
    first
        .append(BranchId::from_u128(1), 0, &events(2, "a"))
        .await
        .unwrap();
    first.close().await;
    let again = store(&db, 2).await;
    assert_eq!(
        again.stream_version(BranchId::from_u128(1)).await.unwrap(),
        2
    );
    let (applied,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM _sqlx_migrations")
        .fetch_one(again.pool())
        .await
        .unwrap();
    let migrations = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
        .unwrap()
        .filter(|entry| {
            let path = entry.as_ref().unwrap().path();
            path.extension().is_some_and(|ext| ext == "sql")
        })
        .count();
    assert_eq!(
        applied,
        i64::try_from(migrations).unwrap(),
        "each migration is applied once"
    );
    again.close().await;
    db.drop_database().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(not(cem_postgres), ignore = "CEM_TEST_POSTGRES_URL not set")]
async fn concurrent_appends_from_several_pools_have_one_winner() {
    let db = fresh_database().await;
    let mut stores = Vec::new();
    for _ in 0..4 {
        stores.push(Arc::new(store(&db, 4).await));
    }
    let branch = BranchId::from_u128(7);
    const TASKS: usize = 16;
    for round in 0..10u64 {
        // Every round starts from the same version: 0 for the first (a new stream).
        let expected = round * 2;
        let barrier = Arc::new(Barrier::new(TASKS));
        let tasks: Vec<_> = (0..TASKS)
            .map(|i| {
                let store = stores[i % stores.len()].clone();
                let barrier = barrier.clone();
                tokio::spawn(async move {
                    barrier.wait().await;
                    store.append(branch, expected, &events(2, "race")).await
                })
            })
            .collect();
        let mut winners = Vec::new();
        for task in tasks {
            match task.await.expect("task ran") {
                Ok(recorded) => winners.push(recorded),
                Err(StoreError::Conflict { .. }) => {}
                Err(other) => panic!("round {round}: {other:?}"),
            }
        }
        assert_eq!(winners.len(), 1, "round {round}: exactly one append wins");
        let versions: Vec<u64> = winners[0].iter().map(|e| e.version).collect();
        assert_eq!(versions, [expected + 1, expected + 2]);
    }
    let stream = stores[1].read_stream(branch, 0, 1_000).await.unwrap();
    assert_eq!(
        stream.iter().map(|e| e.version).collect::<Vec<_>>(),
        (1..=20).collect::<Vec<_>>()
    );
    // Losers left no trace: positions are exactly the winners'.
    let all = stores[2].read_all(0, 1_000).await.unwrap();
    assert_eq!(all, stream);
    db.drop_database().await.unwrap();
}

/// The unique key refuses a second event at a version even from a writer that bypasses the
/// append function (the function's version check is not the only guard).
#[tokio::test]
#[cfg_attr(not(cem_postgres), ignore = "CEM_TEST_POSTGRES_URL not set")]
async fn the_unique_key_guards_versions() {
    let db = fresh_database().await;
    let s = store(&db, 2).await;
    let branch = BranchId::from_u128(3);
    s.append(branch, 0, &events(1, "a")).await.unwrap();
    let err = sqlx::query(
        "INSERT INTO cem_queue_events (position, branch, version, at, kind, payload) \
         VALUES (99, $1, 1, now(), 'rogue', '{}')",
    )
    .bind(branch.as_uuid())
    .execute(s.pool())
    .await
    .unwrap_err();
    assert_eq!(
        err.as_database_error().and_then(|e| e.code()).as_deref(),
        Some("23505")
    );
    s.close().await;
    db.drop_database().await.unwrap();
}

/// Regression guard for the classic BIGSERIAL bug: a sequence value taken by a transaction
/// that commits late becomes visible below positions readers have already passed. Many
/// writers on several pools append while readers page through `read_all` from their last
/// position; in the end every reader must have seen every event, each page starting right
/// after the last position seen (this adapter's positions have no holes).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(not(cem_postgres), ignore = "CEM_TEST_POSTGRES_URL not set")]
async fn positions_become_visible_in_commit_order() {
    let db = fresh_database().await;
    const WRITERS: u128 = 12;
    const APPENDS: u64 = 25;
    let mut stores = Vec::new();
    for _ in 0..3 {
        stores.push(Arc::new(store(&db, 4).await));
    }
    let done = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|r| {
            let store = stores[r % stores.len()].clone();
            let done = done.clone();
            tokio::spawn(async move {
                let mut seen = Vec::new();
                let mut last = 0;
                loop {
                    // Read `done` before reading, so the last pass sees every write.
                    let finished = done.load(Ordering::SeqCst);
                    let page = store.read_all(last, 64).await.expect("read_all");
                    for event in &page {
                        assert_eq!(
                            event.position,
                            last + 1,
                            "position {} appeared after {} was seen",
                            event.position,
                            last
                        );
                        last = event.position;
                        seen.push(event.position);
                    }
                    if finished && page.is_empty() {
                        return seen;
                    }
                }
            })
        })
        .collect();
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let store = stores[w as usize % stores.len()].clone();
            tokio::spawn(async move {
                let branch = BranchId::from_u128(100 + w);
                for version in 0..APPENDS {
                    // Uneven batches make the transactions' lengths differ.
                    let n = 1 + (version as usize + w as usize) % 3;
                    let expected = store.stream_version(branch).await.unwrap();
                    store
                        .append(branch, expected, &events(n, "w"))
                        .await
                        .expect("no one else writes this stream");
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.expect("writer ran");
    }
    done.store(true, Ordering::SeqCst);
    let all: Vec<u64> = stores[0]
        .read_all_after(0)
        .await
        .unwrap()
        .iter()
        .map(|e| e.position)
        .collect();
    assert_eq!(all, (1..=all.len() as u64).collect::<Vec<_>>());
    for reader in readers {
        assert_eq!(
            reader.await.expect("reader ran"),
            all,
            "a reader missed events"
        );
    }
    db.drop_database().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(cem_postgres), ignore = "CEM_TEST_POSTGRES_URL not set")]
async fn an_event_published_on_one_pool_reaches_a_subscriber_on_another() {
    let db = fresh_database().await;
    let (a, b) = (store(&db, 2).await, store(&db, 2).await);
    let (bus_a, bus_b) = (PgBus::new(&a).await.unwrap(), PgBus::new(&b).await.unwrap());
    let mut on_b = bus_b.subscribe().await.unwrap();
    let mut on_a = bus_a.subscribe().await.unwrap();

    let branch = BranchId::from_u128(1);
    let recorded = a.append(branch, 0, &events(3, "a")).await.unwrap();
    bus_a.publish(&recorded).await.unwrap();
    for event in &recorded {
        assert_eq!(next(&mut on_b).await, Delivery::Event(event.clone()));
        assert_eq!(next(&mut on_a).await, Delivery::Event(event.clone()));
    }

    // Too large for a notification: it travels by position and is read from the store.
    let big = NewEvent {
        at: t0(),
        kind: "test_event".to_owned(),
        payload: json!({ "type": "test_event", "text": "ق".repeat(10_000) }),
    };
    let recorded = a.append(branch, 3, &[big]).await.unwrap();
    bus_a.publish(&recorded).await.unwrap();
    assert_eq!(next(&mut on_b).await, Delivery::Event(recorded[0].clone()));

    // A notification nobody can read is a gap.
    sqlx::query("SELECT pg_notify($1, 'not json')")
        .bind(bus_b.channel())
        .execute(a.pool())
        .await
        .unwrap();
    assert_eq!(next(&mut on_b).await, Delivery::Gap);

    // Dropping a bus ends its subscriptions.
    drop(bus_b);
    assert_eq!(timeout(WAIT, on_b.next()).await.expect("in time"), None);
    drop((bus_a, on_a));
    db.drop_database().await.unwrap();
}

/// What a subscriber that must miss nothing does: handle events in position order, skip
/// what it has seen, and close a gap from the store.
struct Follower {
    last: u64,
    handled: Vec<u64>,
}

impl Follower {
    async fn handle(&mut self, delivery: Delivery, store: &dyn QueueEventStore) {
        let events: Vec<RecordedEvent> = match delivery {
            Delivery::Event(event) if event.position == self.last + 1 => vec![event],
            Delivery::Event(event) if event.position <= self.last => Vec::new(),
            // Out of order or after a loss: the store has everything.
            Delivery::Event(_) | Delivery::Gap => store.read_all_after(self.last).await.unwrap(),
        };
        for event in events {
            assert_eq!(event.position, self.last + 1, "no gap after catching up");
            self.last = event.position;
            self.handled.push(event.position);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(cem_postgres), ignore = "CEM_TEST_POSTGRES_URL not set")]
async fn a_subscriber_whose_connection_dropped_catches_up_without_a_gap() {
    let db = fresh_database().await;
    let (a, b) = (store(&db, 2).await, store(&db, 2).await);
    let (bus_a, bus_b) = (PgBus::new(&a).await.unwrap(), PgBus::new(&b).await.unwrap());
    let mut sub = bus_b.subscribe().await.unwrap();
    let mut follower = Follower {
        last: 0,
        handled: Vec::new(),
    };
    let branch = BranchId::from_u128(1);

    let recorded = a.append(branch, 0, &events(2, "before")).await.unwrap();
    bus_a.publish(&recorded).await.unwrap();
    for _ in 0..2 {
        let delivery = next(&mut sub).await;
        assert!(matches!(delivery, Delivery::Event(_)));
        follower.handle(delivery, &b).await;
    }
    assert_eq!(follower.last, 2);

    // Cut every listening connection on this database, as a network blip or a restarted
    // pooler would, and write while they are away.
    let (terminated,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid() \
         AND query LIKE 'LISTEN%') t",
    )
    .fetch_one(a.pool())
    .await
    .unwrap();
    assert!(terminated >= 1, "the listeners were found");
    let mut version = 2;
    for tag in ["during-1", "during-2", "during-3"] {
        let recorded = a.append(branch, version, &events(1, tag)).await.unwrap();
        version += 1;
        // Published or not, a subscriber must end up with it.
        let _ = bus_a.publish(&recorded).await;
    }

    // The bus reports the gap once it listens again; the follower closes it from the store.
    let mut saw_gap = false;
    while !saw_gap {
        let delivery = next(&mut sub).await;
        saw_gap = delivery == Delivery::Gap;
        follower.handle(delivery, &b).await;
    }
    assert_eq!(follower.handled, [1, 2, 3, 4, 5]);

    // And it is live again.
    let recorded = a
        .append(branch, version, &events(1, "after"))
        .await
        .unwrap();
    bus_a.publish(&recorded).await.unwrap();
    loop {
        let delivery = next(&mut sub).await;
        follower.handle(delivery, &b).await;
        if follower.last == 6 {
            break;
        }
    }
    assert_eq!(follower.handled, [1, 2, 3, 4, 5, 6]);
    drop((bus_a, bus_b, sub));
    db.drop_database().await.unwrap();
}

/// The listening connection drops and cannot come back at once (the database refuses new
/// connections for a while): the bus keeps trying and reports the gap once it listens again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(cem_postgres), ignore = "CEM_TEST_POSTGRES_URL not set")]
async fn a_bus_that_cannot_reconnect_at_once_reports_the_gap_when_it_does() {
    let db = fresh_database().await;
    let s = store(&db, 2).await;
    let bus = PgBus::new(&s).await.unwrap();
    let mut sub = bus.subscribe().await.unwrap();
    let branch = BranchId::from_u128(1);
    // A pool connection opened now stays usable while new ones are refused.
    s.append(branch, 0, &events(1, "before")).await.unwrap();

    let admin = admin_url().unwrap();
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin)
        .await
        .unwrap();
    let allow = |on: bool| format!(r#"ALTER DATABASE "{}" ALLOW_CONNECTIONS {on}"#, db.name());
    sqlx::query(&allow(false)).execute(&mut conn).await.unwrap();
    let (terminated,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = $1 AND query LIKE 'LISTEN%') t",
    )
    .bind(db.name())
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(terminated, 1, "the bus's one listening connection");
    let missed = s.append(branch, 1, &events(2, "while away")).await.unwrap();
    let _ = bus.publish(&missed).await;
    // Give the listener time to fail at least once (not an assertion on timing).
    tokio::time::sleep(Duration::from_millis(300)).await;
    sqlx::query(&allow(true)).execute(&mut conn).await.unwrap();

    let mut follower = Follower {
        last: 1,
        handled: vec![1],
    };
    loop {
        let delivery = next(&mut sub).await;
        let gap = delivery == Delivery::Gap;
        follower.handle(delivery, &s).await;
        if gap {
            break;
        }
    }
    assert_eq!(follower.handled, [1, 2, 3]);
    let live = s.append(branch, 3, &events(1, "after")).await.unwrap();
    bus.publish(&live).await.unwrap();
    assert_eq!(next(&mut sub).await, Delivery::Event(live[0].clone()));
    drop((bus, sub));
    s.close().await;
    db.drop_database().await.unwrap();
}

#[tokio::test]
#[cfg_attr(not(cem_postgres), ignore = "CEM_TEST_POSTGRES_URL not set")]
async fn a_busy_pool_is_unavailable() {
    let db = fresh_database().await;
    let s = PgStore::connect_with(
        db.url(),
        &PgStoreOptions::default()
            .max_connections(1)
            .acquire_timeout(Duration::from_millis(200)),
    )
    .await
    .unwrap();
    let held = s.pool().acquire().await.unwrap();
    let err = s.stream_version(BranchId::from_u128(1)).await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable { .. }), "{err:?}");
    drop(held);
    assert_eq!(s.stream_version(BranchId::from_u128(1)).await.unwrap(), 0);
    s.close().await;
    db.drop_database().await.unwrap();
}

#[tokio::test]
#[cfg_attr(not(cem_postgres), ignore = "CEM_TEST_POSTGRES_URL not set")]
async fn an_unreachable_server_is_unavailable() {
    // Nothing listens on port 1.
    let err = PgStore::connect_with(
        "postgres://postgres@127.0.0.1:1/postgres",
        &PgStoreOptions::default().acquire_timeout(Duration::from_secs(2)),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, StoreError::Unavailable { .. }), "{err:?}");
}

#[tokio::test]
#[cfg_attr(not(cem_postgres), ignore = "CEM_TEST_POSTGRES_URL not set")]
async fn instants_keep_microseconds_and_payloads_their_values() {
    let db = fresh_database().await;
    let s = store(&db, 2).await;
    let branch = BranchId::from_u128(1);
    let at = DateTime::from_timestamp(1_796_025_600, 123_456_789).unwrap();
    let before_2000 = DateTime::from_timestamp(800_000_000, 987_654_321).unwrap();
    let written = [at, before_2000].map(|at| NewEvent {
        at,
        kind: "test_event".to_owned(),
        payload: json!({ "big": u64::MAX, "neg": i64::MIN, "float": 0.1, "text": "شعبه" }),
    });
    let recorded = s.append(branch, 0, &written).await.unwrap();
    let read = s.read_stream(branch, 0, 10).await.unwrap();
    // What append returns is what a read returns: sub-microsecond digits are dropped by both.
    assert_eq!(recorded, read);
    assert_eq!(read[0].at.timestamp_subsec_nanos(), 123_456_000);
    assert_eq!(read[0].payload, written[0].payload);
    s.close().await;
    db.drop_database().await.unwrap();
}

// Group commit: appends made at the same time through one store share a transaction.

/// The advisory lock every append takes (`b"CEMQUEUE"` as a big-endian integer).
const POSITION_LOCK: i64 = 4_847_365_585_652_503_877;

/// A connection to the test database that holds the position lock, so the store's writer
/// stalls on its current batch while the test lines up the next one.
struct LockHolder {
    conn: sqlx::PgConnection,
}

impl LockHolder {
    async fn take(db: &TestDatabase) -> Self {
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(db.url())
            .await
            .unwrap();
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(POSITION_LOCK)
            .execute(&mut conn)
            .await
            .unwrap();
        Self { conn }
    }

    /// Waits until a backend other than `except` waits for the lock, and returns its pid.
    async fn waiter(&mut self, except: Option<i32>) -> i32 {
        let wait = async {
            loop {
                let pid: Option<i32> = sqlx::query_scalar(
                    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND NOT granted \
                     AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
                     AND pid IS DISTINCT FROM $1 LIMIT 1",
                )
                .bind(except)
                .fetch_optional(&mut self.conn)
                .await
                .unwrap();
                if let Some(pid) = pid {
                    return pid;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        };
        timeout(WAIT, wait)
            .await
            .expect("an append waits for the lock")
    }

    async fn terminate(&mut self, pid: i32) {
        let (done,): (bool,) = sqlx::query_as("SELECT pg_terminate_backend($1)")
            .bind(pid)
            .fetch_one(&mut self.conn)
            .await
            .unwrap();
        assert!(done, "backend {pid} terminated");
    }

    async fn release(&mut self) {
        sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(POSITION_LOCK)
            .execute(&mut self.conn)
            .await
            .unwrap();
    }
}

/// Starts an append that becomes the writer's current batch and stalls on the held lock.
async fn stalled_append(
    s: &PgStore,
    lock: &mut LockHolder,
) -> (
    tokio::task::JoinHandle<Result<Vec<RecordedEvent>, StoreError>>,
    i32,
) {
    let blocker = {
        let s = s.clone();
        tokio::spawn(async move {
            s.append(BranchId::from_u128(999), 0, &events(1, "blocker"))
                .await
        })
    };
    let pid = lock.waiter(None).await;
    (blocker, pid)
}

/// `s.append` of `n` events tagged `tag`, owning them.
async fn append(
    s: &PgStore,
    branch: BranchId,
    expected: u64,
    n: usize,
    tag: &str,
) -> Result<Vec<RecordedEvent>, StoreError> {
    s.append(branch, expected, &events(n, tag)).await
}

fn tag_of(event: &RecordedEvent) -> &str {
    event.payload["tag"].as_str().expect("a tag")
}

/// Members of one batch behave as sequential appends in queue order: a later append to the
/// same stream sees the version an earlier one left, a stale one conflicts alone, and the
/// whole batch is one transaction.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(cem_postgres), ignore = "CEM_TEST_POSTGRES_URL not set")]
async fn one_batch_behaves_as_sequential_appends() {
    let db = fresh_database().await;
    let s = store(&db, 4).await;
    let mut lock = LockHolder::take(&db).await;
    let (blocker, _) = stalled_append(&s, &mut lock).await;

    let (x, y) = (BranchId::from_u128(1), BranchId::from_u128(2));
    // A biased `join!` polls its futures in order, so they are queued in this order before the lock is
    // released: all of them wait for the blocker's batch and form the next one.
    let (a, b, c, d, e, ()) = tokio::join!(
        biased;
        append(&s, x, 0, 2, "a"),
        append(&s, x, 2, 1, "b"),
        append(&s, x, 2, 1, "c"),
        append(&s, y, 0, 1, "d"),
        append(&s, x, 3, 1, "e"),
        lock.release(),
    );
    assert_eq!(blocker.await.unwrap().unwrap()[0].position, 1);
    let a = a.unwrap();
    assert_eq!(
        a.iter()
            .map(|e| (e.version, e.position))
            .collect::<Vec<_>>(),
        [(1, 2), (2, 3)]
    );
    let b = b.unwrap();
    assert_eq!((b[0].version, b[0].position), (3, 4));
    match c {
        Err(StoreError::Conflict { what }) => assert!(what.contains("version 3"), "{what}"),
        other => panic!("c is stale after b: {other:?}"),
    }
    let d = d.unwrap();
    assert_eq!((d[0].branch, d[0].version, d[0].position), (y, 1, 5));
    let e = e.unwrap();
    assert_eq!((e[0].version, e[0].position), (4, 6));
    for (recorded, tag) in [(&a, "a"), (&b, "b"), (&d, "d"), (&e, "e")] {
        assert!(recorded.iter().all(|event| tag_of(event) == tag));
    }

    let all = s.read_all_after(0).await.unwrap();
    let mut expected: Vec<RecordedEvent> = Vec::new();
    for recorded in [&a, &b, &d, &e] {
        expected.extend(recorded.iter().cloned());
    }
    assert_eq!(
        all[1..],
        expected[..],
        "what the callers got is what is stored"
    );
    // One transaction wrote the whole batch.
    let (transactions,): (i64,) = sqlx::query_as(
        "SELECT COUNT(DISTINCT xmin::text) FROM cem_queue_events WHERE position > 1",
    )
    .fetch_one(s.pool())
    .await
    .unwrap();
    assert_eq!(
        transactions, 1,
        "the five appends were written as one batch"
    );
    s.close().await;
    db.drop_database().await.unwrap();
}

/// A member whose data the server refuses (PostgreSQL cannot store `\u0000` in JSONB) fails
/// the batch's statement; it alone gets the error, the others are appended.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(cem_postgres), ignore = "CEM_TEST_POSTGRES_URL not set")]
async fn a_member_the_server_refuses_fails_alone() {
    let db = fresh_database().await;
    let s = store(&db, 4).await;
    let mut lock = LockHolder::take(&db).await;
    let (blocker, _) = stalled_append(&s, &mut lock).await;

    let (x, y) = (BranchId::from_u128(1), BranchId::from_u128(2));
    let poison = [NewEvent {
        at: t0(),
        kind: "test_event".to_owned(),
        payload: json!({ "type": "test_event", "tag": "nul\u{0}" }),
    }];
    let (a, bad, b, ()) = tokio::join!(
        biased;
        append(&s, x, 0, 1, "a"),
        s.append(y, 0, &poison),
        append(&s, x, 1, 1, "b"),
        lock.release(),
    );
    blocker.await.unwrap().unwrap();
    assert!(matches!(bad, Err(StoreError::Backend { .. })), "{bad:?}");
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!((tag_of(&a[0]), a[0].version), ("a", 1));
    assert_eq!((tag_of(&b[0]), b[0].version), ("b", 2));
    assert_eq!(s.stream_version(y).await.unwrap(), 0);
    let all = s.read_all_after(0).await.unwrap();
    assert_eq!(
        all.iter().map(|e| e.position).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert_eq!(all[1..], [a[0].clone(), b[0].clone()]);
    s.close().await;
    db.drop_database().await.unwrap();
}

/// A batch whose connection is lost fails every member with `Unavailable`, nothing of it is
/// stored, and the store goes on appending afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(cem_postgres), ignore = "CEM_TEST_POSTGRES_URL not set")]
async fn a_batch_that_loses_its_connection_fails_every_member() {
    let db = fresh_database().await;
    let s = store(&db, 4).await;
    let mut lock = LockHolder::take(&db).await;
    let (blocker, blocker_pid) = stalled_append(&s, &mut lock).await;

    let (x, y) = (BranchId::from_u128(1), BranchId::from_u128(2));
    let cut = async {
        // The blocker's connection goes first; then the batch of the three below, once it
        // waits for the lock in turn.
        lock.terminate(blocker_pid).await;
        let pid = lock.waiter(Some(blocker_pid)).await;
        lock.terminate(pid).await;
        lock.release().await;
    };
    let (a, b, c, ()) = tokio::join!(
        biased;
        append(&s, x, 0, 2, "a"),
        append(&s, x, 2, 1, "b"),
        append(&s, y, 0, 1, "c"),
        cut,
    );
    for outcome in [blocker.await.unwrap(), a, b, c] {
        assert!(
            matches!(outcome, Err(StoreError::Unavailable { .. })),
            "{outcome:?}"
        );
    }
    assert!(
        s.read_all_after(0).await.unwrap().is_empty(),
        "nothing stored"
    );

    let after = append(&s, x, 0, 1, "after").await.unwrap();
    assert_eq!((after[0].version, after[0].position), (1, 1));
    s.close().await;
    db.drop_database().await.unwrap();
}

/// Sixteen callers on one store (clones share its queue), started together round after round:
/// callers on their own stream with the right version succeed, callers with a stale version
/// get `Conflict` (and only they), of several racing for one version exactly one wins, each
/// caller gets back its own events, and the history has no holes.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(not(cem_postgres), ignore = "CEM_TEST_POSTGRES_URL not set")]
async fn concurrent_callers_of_one_store_each_get_their_own_outcome() {
    const TASKS: usize = 16;
    const ROUNDS: u64 = 15;
    /// Tasks 0..8 append to their own stream; 8..12 to the streams of tasks 0..4 with a stale
    /// version; 12..16 race for one version of a stream of their own.
    const FRESH: usize = 8;
    const STALE: usize = 12;
    let db = fresh_database().await;
    let s = store(&db, 4).await;
    // Task t appends to stream `stream(t)`: 0..8 their own, 8..12 those of tasks 0..4, and
    // 12..16 the same stream 12.
    let stream = |t: usize| match t {
        _ if t < FRESH => t,
        _ if t < STALE => t - FRESH,
        _ => STALE,
    };
    let branch = |stream: usize| BranchId::from_u128(100 + stream as u128);
    // Every stream starts with two events, so "one below the current version" is a version.
    let mut versions = [0u64; STALE + 1];
    for (i, version) in versions.iter_mut().enumerate() {
        s.append(branch(i), 0, &events(2, "setup")).await.unwrap();
        *version = 2;
    }
    let mut recorded: Vec<RecordedEvent> = s.read_all_after(0).await.unwrap();

    for round in 0..ROUNDS {
        let barrier = Arc::new(Barrier::new(TASKS));
        let tasks: Vec<_> = (0..TASKS)
            .map(|t| {
                let (s, barrier) = (s.clone(), barrier.clone());
                let (branch, tag) = (branch(stream(t)), format!("r{round}-t{t}"));
                let n = 1 + (t + round as usize) % 3;
                let current = versions[stream(t)];
                let expected = if (FRESH..STALE).contains(&t) {
                    current - 1
                } else {
                    current
                };
                tokio::spawn(async move {
                    let written = events(n, &tag);
                    barrier.wait().await;
                    let outcome = s.append(branch, expected, &written).await;
                    (t, branch, expected, written, outcome)
                })
            })
            .collect();
        let mut winners = 0;
        for task in tasks {
            let (t, branch, expected, written, outcome) = task.await.expect("task ran");
            match outcome {
                Ok(got) => {
                    assert!(
                        !(FRESH..STALE).contains(&t),
                        "round {round}: stale task {t} won"
                    );
                    assert_eq!(got.len(), written.len());
                    for (i, (event, new)) in got.iter().zip(&written).enumerate() {
                        // Its own events, in its own stream, at the versions it asked for.
                        assert_eq!(event.branch, branch);
                        assert_eq!(event.version, expected + 1 + i as u64);
                        assert_eq!(event.payload, new.payload);
                        assert_eq!(event.position, got[0].position + i as u64);
                    }
                    versions[stream(t)] = expected + written.len() as u64;
                    if t >= STALE {
                        winners += 1;
                    }
                    recorded.extend(got);
                }
                Err(StoreError::Conflict { .. }) => {
                    assert!(t >= FRESH, "round {round}: task {t} had the right version");
                }
                Err(other) => panic!("round {round}, task {t}: {other:?}"),
            }
        }
        assert_eq!(winners, 1, "round {round}: one of the racers wins");
    }

    // The history is exactly what the callers were told, with no holes.
    recorded.sort_by_key(|e| e.position);
    let all = s.read_all_after(0).await.unwrap();
    assert_eq!(
        all.iter().map(|e| e.position).collect::<Vec<_>>(),
        (1..=all.len() as u64).collect::<Vec<_>>()
    );
    assert_eq!(all, recorded);
    for (i, version) in versions.iter().enumerate() {
        let read = s.read_stream(branch(i), 0, 10_000).await.unwrap();
        assert_eq!(
            read.iter().map(|e| e.version).collect::<Vec<_>>(),
            (1..=*version).collect::<Vec<_>>()
        );
    }
    s.close().await;
    db.drop_database().await.unwrap();
}

/// A caller that gives up while its append waits in the queue does not disturb the others,
/// and its append is left out; dropping every handle of a store leaves nothing running: its
/// connections close once the last batch is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(cem_postgres), ignore = "CEM_TEST_POSTGRES_URL not set")]
async fn callers_that_give_up_and_dropped_stores_leave_nothing_behind() {
    let db = fresh_database().await;
    let s = store(&db, 4).await;
    let mut lock = LockHolder::take(&db).await;
    let (blocker, _) = stalled_append(&s, &mut lock).await;

    let x = BranchId::from_u128(1);
    let give_up = async {
        // Queued behind the blocker's batch, then dropped: a caller's timeout.
        tokio::select! {
            biased;
            outcome = append(&s, x, 0, 1, "gave up") => panic!("answered early: {outcome:?}"),
            () = std::future::ready(()) => {}
        }
        lock.release().await;
    };
    let (stays, ()) = tokio::join!(
        biased;
        append(&s, x, 0, 1, "stays"),
        give_up,
    );
    blocker.await.unwrap().unwrap();
    let stays = stays.unwrap();
    assert_eq!((tag_of(&stays[0]), stays[0].version), ("stays", 1));
    assert_eq!(s.read_stream(x, 0, 10).await.unwrap(), stays);

    drop(s);
    drop(lock);
    let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&admin_url().unwrap())
        .await
        .unwrap();
    let closed = async {
        loop {
            let (open,): (i64,) =
                sqlx::query_as("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = $1")
                    .bind(db.name())
                    .fetch_one(&mut admin)
                    .await
                    .unwrap();
            if open == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    timeout(WAIT, closed)
        .await
        .expect("the store's connections close once it is dropped");
    db.drop_database().await.unwrap();
}
