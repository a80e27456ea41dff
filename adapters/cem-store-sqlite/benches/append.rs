//! Append throughput of [`SqliteStore`] next to its floor: raw sqlx single-row `INSERT`s into an
//! equivalent table of the same file, through a pool with the same settings. Both serialize the
//! JSON payload per row. The ratio of the two throughputs is the adapter's cost (a transaction
//! with the version check, `RETURNING`, building the recorded event).

use std::path::Path;
use std::time::{Duration, Instant};

use cem_core::chrono::DateTime;
use cem_core::serde_json::json;
use cem_core::{BranchId, NewEvent, QueueEventStore};
use cem_store_sqlite::SqliteStore;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sqlx::sqlite::SqliteSynchronous;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use tokio::runtime::Runtime;

/// The store's settings (WAL, `synchronous = NORMAL`, four connections, no liveness probe) and
/// its table's shape, without the version check.
async fn raw_pool(path: &Path) -> SqlitePool {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(5))
        .foreign_keys(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        .test_before_acquire(false)
        .connect_with(options)
        .await
        .expect("open the raw pool");
    sqlx::query(
        "CREATE TABLE raw_events (
            position INTEGER PRIMARY KEY AUTOINCREMENT,
            branch   BLOB    NOT NULL,
            version  INTEGER NOT NULL,
            at       INTEGER NOT NULL,
            kind     TEXT    NOT NULL,
            payload  TEXT    NOT NULL,
            UNIQUE (branch, version)
        )",
    )
    .execute(&pool)
    .await
    .expect("create the raw table");
    pool
}

fn event() -> NewEvent {
    NewEvent {
        at: DateTime::from_timestamp(1_700_000_000, 123_000).expect("a valid instant"),
        kind: "ticket_issued".to_owned(),
        payload: json!({
            "type": "ticket_issued",
            "ticket": "5f0c9d2e-8f3a-4c1b-9e7d-2a6b4c8d0e1f",
            "number": "A042",
            "service": "deposits",
            "class": "normal",
        }),
    }
}

fn single_appends(c: &mut Criterion) {
    let rt = Runtime::new().expect("a tokio runtime");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("bench.db");
    let store = rt
        .block_on(SqliteStore::open(path.to_str().expect("a UTF-8 path")))
        .expect("open the store");
    let raw = rt.block_on(raw_pool(&path));
    let branch = BranchId::from_u128(1);
    let key = branch.as_uuid().as_bytes().to_vec();
    let event = event();

    let mut group = c.benchmark_group("sqlite_single_event_append");
    group.throughput(Throughput::Elements(1));

    let mut raw_version = 0_i64;
    group.bench_function("raw_sqlx_insert", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    raw_version += 1;
                    let payload = cem_core::serde_json::to_string(&event.payload).unwrap();
                    sqlx::query(
                        "INSERT INTO raw_events (branch, version, at, kind, payload)
                         VALUES (?, ?, ?, ?, ?)",
                    )
                    .bind(&key[..])
                    .bind(raw_version)
                    .bind(event.at.timestamp_micros())
                    .bind(&event.kind)
                    .bind(payload)
                    .execute(&raw)
                    .await
                    .expect("raw insert");
                }
                start.elapsed()
            })
        });
    });

    let mut version = 0_u64;
    let events = std::slice::from_ref(&event);
    group.bench_function("store_append", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let recorded = store.append(branch, version, events).await.expect("append");
                    version = recorded[0].version;
                }
                start.elapsed()
            })
        });
    });

    group.finish();
    rt.block_on(async {
        store.close().await;
        raw.close().await;
    });
}

criterion_group!(benches, single_appends);
criterion_main!(benches);
