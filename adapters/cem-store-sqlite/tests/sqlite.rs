//! What the shared conformance suite cannot know about SQLite: files, migrations, reopening,
//! several pools on one file, and the exact round trip of what SQLite stores.

use std::sync::Arc;

use cem_core::chrono::{DateTime, Utc};
use cem_core::serde_json::json;
use cem_core::{BranchId, NewEvent, QueueEventStore, Snapshot, StoreError};
use cem_store_sqlite::{SqliteStore, SqliteStoreOptions};
use tempfile::TempDir;
use tokio::sync::Barrier;

fn event(seconds: i64, n: u64) -> NewEvent {
    NewEvent {
        at: DateTime::from_timestamp(seconds, 0).unwrap(),
        kind: "ticket_issued".to_owned(),
        payload: json!({ "type": "ticket_issued", "n": n }),
    }
}

fn db(dir: &TempDir, name: &str) -> String {
    dir.path().join(name).to_str().unwrap().to_owned()
}

#[tokio::test]
async fn migrations_run_again_on_an_existing_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = db(&dir, "cem.db");
    let first = SqliteStore::open(&path).await.unwrap();
    first
        .append(BranchId::from_u128(1), 0, &[event(10, 1)])
        .await
        .unwrap();
    // A second pool while the first is open, then a third after both are closed.
    let second = SqliteStore::open(&path).await.unwrap();
    first.close().await;
    second.close().await;
    let third = SqliteStore::open(&format!("sqlite://{path}"))
        .await
        .unwrap();
    assert_eq!(
        third.stream_version(BranchId::from_u128(1)).await.unwrap(),
        1
    );
}

/// Regression: sqlx's SQLite migrator takes no lock, so stores opening a new file at once raced
/// to create the same tables until `open` wrapped the migrations in `BEGIN IMMEDIATE`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stores_opening_a_new_file_at_once_all_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let path = Arc::new(db(&dir, "new.db"));
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let path = Arc::clone(&path);
            tokio::spawn(async move { SqliteStore::open(&path).await })
        })
        .collect();
    for task in tasks {
        let store = task
            .await
            .unwrap()
            .expect("every concurrent open migrates or sees it done");
        assert_eq!(store.read_all(0, 10).await.unwrap(), vec![]);
    }
}

#[tokio::test]
async fn data_survives_closing_and_reopening_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = db(&dir, "cem.db");
    let (a, b) = (BranchId::from_u128(1), BranchId::from_u128(2));
    let store = SqliteStore::open(&path).await.unwrap();
    store
        .append(a, 0, &[event(10, 1), event(11, 2)])
        .await
        .unwrap();
    store.append(b, 0, &[event(12, 3)]).await.unwrap();
    let snapshot = Snapshot {
        branch: a,
        version: 2,
        format: 3,
        data: vec![1, 2, 3],
    };
    store.save_snapshot(&snapshot).await.unwrap();
    let before = store.read_all(0, 100).await.unwrap();
    store.close().await;
    drop(store);

    let store = SqliteStore::open(&path).await.unwrap();
    assert_eq!(store.read_all(0, 100).await.unwrap(), before);
    assert_eq!(store.stream_version(a).await.unwrap(), 2);
    assert_eq!(store.load_snapshot(a).await.unwrap(), Some(snapshot));
    let next = store.append(a, 2, &[event(13, 4)]).await.unwrap();
    assert_eq!(next[0].version, 3);
    assert!(next[0].position > before.last().unwrap().position);
}

#[tokio::test]
async fn a_stale_expected_version_is_a_conflict() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&db(&dir, "cem.db")).await.unwrap();
    let branch = BranchId::from_u128(1);
    store.append(branch, 0, &[event(10, 1)]).await.unwrap();
    for expected in [0, 2, u64::MAX] {
        let error = store
            .append(branch, expected, &[event(11, 2)])
            .await
            .unwrap_err();
        assert!(matches!(error, StoreError::Conflict { .. }), "{error:?}");
    }
    assert_eq!(store.stream_version(branch).await.unwrap(), 1);
}

/// Several pools on one file, every task appending with the same expected version at the same
/// moment: SQLite's write lock and the version check let exactly one through per round. (With a
/// deferred `BEGIN` the losers get `database is locked`, `Unavailable`, instead of `Conflict`.)
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_concurrent_appends_from_several_pools_exactly_one_wins() {
    const POOLS: usize = 6;
    const ROUNDS: u64 = 25;
    let dir = tempfile::tempdir().unwrap();
    let path = db(&dir, "race.db");
    let mut stores = Vec::new();
    for _ in 0..POOLS {
        stores.push(Arc::new(SqliteStore::open(&path).await.unwrap()));
    }
    let branch = BranchId::from_u128(9);
    for round in 0..ROUNDS {
        let barrier = Arc::new(Barrier::new(POOLS));
        let tasks: Vec<_> = stores
            .iter()
            .enumerate()
            .map(|(i, store)| {
                let (store, barrier) = (Arc::clone(store), Arc::clone(&barrier));
                tokio::spawn(async move {
                    barrier.wait().await;
                    let events = [event(100, i as u64), event(101, i as u64)];
                    store.append(branch, round * 2, &events).await
                })
            })
            .collect();
        let mut winners = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(recorded) => {
                    winners += 1;
                    assert_eq!(recorded.len(), 2);
                    assert_eq!(recorded[0].version, round * 2 + 1);
                }
                Err(StoreError::Conflict { .. }) => {}
                Err(other) => panic!("round {round}: {other:?}"),
            }
        }
        assert_eq!(winners, 1, "round {round}");
    }
    let stream = stores[0].read_stream(branch, 0, usize::MAX).await.unwrap();
    assert_eq!(stream.len() as u64, ROUNDS * 2);
    for (i, pair) in stream.chunks(2).enumerate() {
        assert_eq!(pair[0].version, i as u64 * 2 + 1);
        assert_eq!(pair[1].version, i as u64 * 2 + 2);
        assert_eq!(
            pair[0].payload, pair[1].payload,
            "an append is all or nothing"
        );
        assert!(pair[0].position < pair[1].position);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_to_different_streams_all_commit_in_position_order() {
    const POOLS: u128 = 4;
    const APPENDS: u64 = 30;
    let dir = tempfile::tempdir().unwrap();
    let path = db(&dir, "many.db");
    let mut tasks = Vec::new();
    for p in 0..POOLS {
        let store = SqliteStore::open(&path).await.unwrap();
        tasks.push(tokio::spawn(async move {
            let branch = BranchId::from_u128(p);
            for v in 0..APPENDS {
                store.append(branch, v, &[event(1, v)]).await.unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let store = SqliteStore::open(&path).await.unwrap();
    let all = store.read_all(0, usize::MAX).await.unwrap();
    assert_eq!(all.len() as u64, POOLS as u64 * APPENDS);
    assert!(all.windows(2).all(|w| w[0].position < w[1].position));
}

#[tokio::test]
async fn instants_round_trip_to_the_microsecond() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&db(&dir, "time.db")).await.unwrap();
    let branch = BranchId::from_u128(1);
    let instants = [
        DateTime::from_timestamp(1_700_000_000, 123_456_000).unwrap(),
        DateTime::from_timestamp(-86_400, 999_999_000).unwrap(),
        DateTime::<Utc>::MIN_UTC + cem_core::chrono::TimeDelta::microseconds(1),
        DateTime::<Utc>::MAX_UTC - cem_core::chrono::TimeDelta::microseconds(1),
    ];
    let events: Vec<_> = instants
        .iter()
        .map(|&at| NewEvent {
            at: DateTime::from_timestamp_micros(at.timestamp_micros()).unwrap(),
            ..event(0, 0)
        })
        .collect();
    let recorded = store.append(branch, 0, &events).await.unwrap();
    let read = store.read_stream(branch, 0, 10).await.unwrap();
    assert_eq!(read, recorded);
    for (event, read) in events.iter().zip(&read) {
        assert_eq!(event.at, read.at);
    }
}

#[tokio::test]
async fn finer_than_microsecond_instants_are_truncated_and_reported_so() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&db(&dir, "nanos.db")).await.unwrap();
    let branch = BranchId::from_u128(1);
    let at = DateTime::from_timestamp(1_000, 1_999).unwrap();
    let recorded = store
        .append(branch, 0, &[NewEvent { at, ..event(0, 0) }])
        .await
        .unwrap();
    let stored = DateTime::from_timestamp(1_000, 1_000).unwrap();
    assert_eq!(recorded[0].at, stored);
    assert_eq!(store.read_stream(branch, 0, 1).await.unwrap(), recorded);
    // The range bounds compare against the stored instant.
    let in_range = |from, to| store.read_time_range(from, to, 0, 10);
    assert_eq!(in_range(stored, at).await.unwrap().len(), 1);
    assert_eq!(
        in_range(at, stored + cem_core::chrono::TimeDelta::hours(1))
            .await
            .unwrap()
            .len(),
        0
    );
}

#[tokio::test]
async fn payloads_round_trip_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&db(&dir, "json.db")).await.unwrap();
    let branch = BranchId::from_u128(1);
    let payload = json!({
        "type": "survey_answered",
        "text": "خیلی خوب بود — \"quoted\" \u{0}",
        "floats": [0.1, 1.0 / 3.0, 2.0_f64.sqrt(), 1e-300, f64::MAX, -0.0],
        "big": u64::MAX,
        "small": i64::MIN,
        "nested": { "b": [], "a": {} , "null": null },
    });
    let new = NewEvent {
        payload: payload.clone(),
        ..event(0, 0)
    };
    store.append(branch, 0, &[new]).await.unwrap();
    let read = store.read_stream(branch, 0, 1).await.unwrap();
    assert_eq!(read[0].payload, payload);
}

#[tokio::test]
async fn an_in_memory_store_works_and_says_it_is_not_shared() {
    let store = SqliteStore::open("sqlite::memory:").await.unwrap();
    assert!(!store.capabilities().shared_across_handles);
    let branch = BranchId::from_u128(1);
    store.append(branch, 0, &[event(1, 1)]).await.unwrap();
    assert_eq!(store.stream_version(branch).await.unwrap(), 1);
    let other = SqliteStore::open("sqlite::memory:").await.unwrap();
    assert_eq!(other.stream_version(branch).await.unwrap(), 0);
}

#[tokio::test]
async fn a_durable_store_opens_and_appends() {
    let dir = tempfile::tempdir().unwrap();
    let options = SqliteStoreOptions::new().durable(true).max_connections(2);
    let store = SqliteStore::open_with(&db(&dir, "full.db"), &options)
        .await
        .unwrap();
    assert!(store.capabilities().shared_across_handles);
    let branch = BranchId::from_u128(1);
    store.append(branch, 0, &[event(1, 1)]).await.unwrap();
    assert_eq!(store.stream_version(branch).await.unwrap(), 1);
}

#[tokio::test]
async fn a_large_append_spans_several_insert_statements() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&db(&dir, "big.db")).await.unwrap();
    let branch = BranchId::from_u128(1);
    let events: Vec<_> = (0..1_000).map(|n| event(n as i64, n)).collect();
    let recorded = store.append(branch, 0, &events).await.unwrap();
    assert_eq!(recorded.len(), 1_000);
    for (i, (new, rec)) in events.iter().zip(&recorded).enumerate() {
        assert_eq!(rec.version, i as u64 + 1);
        assert_eq!(rec.payload, new.payload);
    }
    assert!(recorded.windows(2).all(|w| w[0].position < w[1].position));
    assert_eq!(store.read_all(0, usize::MAX).await.unwrap(), recorded);
}

#[tokio::test]
async fn opening_a_file_that_is_not_a_database_fails_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let path = db(&dir, "junk.db");
    std::fs::write(&path, vec![0x42; 8192]).unwrap();
    let error = SqliteStore::open(&path).await.unwrap_err();
    assert!(matches!(error, StoreError::Backend { .. }), "{error:?}");
}

#[tokio::test]
async fn a_snapshot_of_the_same_version_replaces_the_stored_one() {
    // The contract ignores only older snapshots: re-encoding a state in a new format at the same
    // version must take over, or the stale format would stay until the next event.
    let store = SqliteStore::open("sqlite::memory:").await.unwrap();
    let snapshot = |format, byte| Snapshot {
        branch: BranchId::from_u128(1),
        version: 4,
        format,
        data: vec![byte; 3],
    };
    store.save_snapshot(&snapshot(1, 1)).await.unwrap();
    store.save_snapshot(&snapshot(2, 2)).await.unwrap();
    assert_eq!(
        store.load_snapshot(BranchId::from_u128(1)).await.unwrap(),
        Some(snapshot(2, 2))
    );
}
