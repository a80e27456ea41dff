//! Append throughput of [`PgStore`] next to raw sqlx INSERTs of one row into an equivalent
//! table (same columns, keys and indexes; positions from a BIGSERIAL), measured in the same
//! run on the same server, so the figure to read is the ratio (goal: at least 0.5).
//!
//! - `single_event_append`: one task, one event per append, each its own transaction.
//! - `concurrent_append`: 8 tasks on 8 streams sharing one store. Transactions that append
//!   commit one at a time under the global position lock, while raw INSERTs share commit
//!   flushes; the store's group commit (appends queued while a batch is written go into the
//!   next batch, one transaction) is what keeps this group near the raw figure.
//!
//! Needs `CEM_TEST_POSTGRES_URL`; without it the bench says so and does nothing.
//! Run: `CEM_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench -p cem-store-postgres`

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use cem_core::chrono::{DateTime, Utc};
use cem_core::{BranchId, NewEvent, QueueEventStore};
use cem_store_postgres::testing::{TestDatabase, admin_url};
use cem_store_postgres::{PgStore, PgStoreOptions};
use criterion::{Criterion, Throughput};
use serde_json::json;
use sqlx::PgPool;
use tokio::runtime::Runtime;

const TASKS: usize = 8;
/// Alternating rounds of 100 operations per task for the printed ratio.
const RATIO_ROUNDS: u64 = 10;

const RAW_TABLE: &str = "
CREATE TABLE raw_events (
    position BIGSERIAL   PRIMARY KEY,
    branch   UUID        NOT NULL,
    version  BIGINT      NOT NULL,
    at       TIMESTAMPTZ NOT NULL,
    kind     TEXT        NOT NULL,
    payload  JSONB       NOT NULL,
    UNIQUE (branch, version)
);
CREATE INDEX raw_events_at ON raw_events (at, position);
CREATE INDEX raw_events_kind_at ON raw_events (kind, at);
";

const RAW_INSERT: &str =
    "INSERT INTO raw_events (branch, version, at, kind, payload) VALUES ($1, $2, $3, $4, $5)";

fn event(at: DateTime<Utc>) -> NewEvent {
    NewEvent {
        at,
        kind: "ticket_called".to_owned(),
        payload: json!({
            "type": "ticket_called",
            "ticket": "6f1c2a52-35d4-4f0e-9d59-2a8f1b7c0e11",
            "counter": "0b8f7e3a-98a4-4c55-8f1e-5a1d2c3b4a59",
            "number": "A-042",
        }),
    }
}

/// Next version of each stream the bench appends to.
struct Streams {
    versions: Vec<AtomicU64>,
    base: u128,
}

impl Streams {
    fn new(base: u128, n: usize) -> Self {
        Self {
            versions: (0..n).map(|_| AtomicU64::new(0)).collect(),
            base,
        }
    }

    fn branch(&self, i: usize) -> BranchId {
        BranchId::from_u128(self.base + i as u128)
    }
}

async fn store_appends(store: &PgStore, streams: &Streams, task: usize, n: u64) {
    let branch = streams.branch(task);
    for _ in 0..n {
        let expected = streams.versions[task].load(Ordering::Relaxed);
        store
            .append(branch, expected, &[event(Utc::now())])
            .await
            .expect("append");
        streams.versions[task].store(expected + 1, Ordering::Relaxed);
    }
}

async fn raw_inserts(pool: &PgPool, streams: &Streams, task: usize, n: u64) {
    let branch = streams.branch(task);
    for _ in 0..n {
        let version = streams.versions[task].load(Ordering::Relaxed) + 1;
        let e = event(Utc::now());
        sqlx::query(RAW_INSERT)
            .bind(branch.as_uuid())
            .bind(version as i64)
            .bind(e.at)
            .bind(&e.kind)
            .bind(&e.payload)
            .execute(pool)
            .await
            .expect("insert");
        streams.versions[task].store(version, Ordering::Relaxed);
    }
}

/// Runs `iters` operations spread over `tasks` tasks and returns the wall time.
fn run<F, Fut>(rt: &Runtime, tasks: usize, iters: u64, op: F) -> Duration
where
    F: Fn(usize, u64) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    rt.block_on(async {
        let start = Instant::now();
        let handles: Vec<_> = (0..tasks)
            .map(|t| {
                let share = iters / tasks as u64 + u64::from((t as u64) < iters % tasks as u64);
                tokio::spawn(op(t, share))
            })
            .collect();
        for handle in handles {
            handle.await.expect("bench task");
        }
        start.elapsed()
    })
}

fn main() {
    let admin = match admin_url() {
        Ok(url) => url,
        Err(reason) => {
            println!("skipped: {reason}");
            return;
        }
    };
    let rt = Runtime::new().expect("tokio runtime");
    let db = rt
        .block_on(TestDatabase::create(&admin))
        .expect("create a bench database");
    let options = PgStoreOptions::default().max_connections(TASKS as u32);
    let store = Arc::new(
        rt.block_on(PgStore::connect_with(db.url(), &options))
            .expect("connect"),
    );
    // The raw side gets a pool of its own with the same settings.
    let raw = rt.block_on(async {
        let raw = PgStore::connect_with(db.url(), &options)
            .await
            .expect("connect")
            .pool()
            .clone();
        sqlx::raw_sql(RAW_TABLE)
            .execute(&raw)
            .await
            .expect("raw table");
        raw
    });

    let mut criterion = Criterion::default().configure_from_args();
    for (group_name, tasks) in [("single_event_append", 1), ("concurrent_append", TASKS)] {
        let base = if tasks == 1 { 1_000 } else { 2_000 };
        let store_streams = Arc::new(Streams::new(base, tasks));
        let raw_streams = Arc::new(Streams::new(base, tasks));
        let store_op = |t, n| {
            let (store, streams) = (store.clone(), store_streams.clone());
            async move { store_appends(&store, &streams, t, n).await }
        };
        let raw_op = |t, n| {
            let (raw, streams) = (raw.clone(), raw_streams.clone());
            async move { raw_inserts(&raw, &streams, t, n).await }
        };

        let mut group = criterion.benchmark_group(group_name);
        group.throughput(Throughput::Elements(1));
        group.bench_function("pg_store", |b| {
            b.iter_custom(|iters| run(&rt, tasks, iters, store_op))
        });
        group.bench_function("raw_insert", |b| {
            b.iter_custom(|iters| run(&rt, tasks, iters, raw_op))
        });
        group.finish();

        // The ratio from alternating rounds, so both sides see the same load on a machine
        // shared with other work (criterion measures the two one after the other).
        let (mut store_time, mut raw_time) = (Duration::ZERO, Duration::ZERO);
        let ops = 100 * tasks as u64;
        for _ in 0..RATIO_ROUNDS {
            store_time += run(&rt, tasks, ops, store_op);
            raw_time += run(&rt, tasks, ops, raw_op);
        }
        let total = (ops * RATIO_ROUNDS) as f64;
        let (s, r) = (
            total / store_time.as_secs_f64(),
            total / raw_time.as_secs_f64(),
        );
        println!(
            "{group_name} ({tasks} task(s)): PgStore {s:.0} appends/s, raw INSERT {r:.0} rows/s, \
             ratio {:.2} (goal >= 0.5)",
            s / r
        );
    }
    criterion.final_summary();

    drop(store);
    rt.block_on(db.drop_database())
        .expect("drop the bench database");
}
