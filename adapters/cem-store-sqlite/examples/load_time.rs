//! How long a branch with a long history takes to load, with and without its snapshot.
//!
//! Writes a branch of `EVENTS` queue events (a month of issue, call and finish at two
//! counters) to a fresh SQLite file, saves a snapshot at the end, then times a fresh
//! service's load from the snapshot plus the tail, and a full replay of the stream.
//!
//! ```sh
//! cargo run --release -p cem-store-sqlite --example load_time [EVENTS]
//! ```

use std::sync::Arc;
use std::time::Instant;

use cem_core::chrono::{DateTime, Duration, Utc};
use cem_core::{QueueEventStore, Snapshot, TicketId};
use cem_queue::testing::{NORMAL, branch_config, counter_id, service_id};
use cem_queue::{
    BranchQueue, IssueTicket, QueueService, SNAPSHOT_FORMAT, ServiceOptions, TicketSource,
};
use cem_store_sqlite::SqliteStore;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let events: usize = std::env::args()
        .nth(1)
        .map_or(Ok(1_000_000), |a| a.parse())?;
    let dir = std::env::temp_dir().join(format!("cem-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("load.sqlite");
    let store = Arc::new(SqliteStore::open(path.to_str().ok_or("path")?).await?);
    let config = branch_config(2, 2);
    let branch = config.branch.id;

    // The history, made by the pure core and appended in large batches.
    let started = Instant::now();
    let mut queue = BranchQueue::new(config.clone())?;
    let mut now: DateTime<Utc> = "2026-11-02T08:00:00Z".parse()?;
    let mut batch = Vec::new();
    for c in 0..2 {
        batch.extend(queue.open_counter(counter_id(c), None, now)?);
    }
    let mut n = 0u128;
    while queue.version() < events as u64 {
        n += 1;
        now += Duration::seconds(10);
        batch.extend(queue.issue(
            IssueTicket {
                ticket: TicketId::from_u128(n),
                service: service_id(n as usize % 2),
                class: Some(NORMAL),
                source: TicketSource::Kiosk,
                customer: None,
                appointment_at: None,
            },
            now,
        )?);
        let counter = counter_id(n as usize % 2);
        if queue.counter(counter).and_then(|c| c.ticket).is_some() {
            batch.extend(queue.finish(counter, now)?);
        }
        batch.extend(queue.call_next(counter, now)?);
        if batch.len() >= 10_000 {
            let expected = queue.version() - batch.len() as u64;
            let new: Vec<_> = batch.iter().map(cem_queue::service::encode).collect();
            store.append(branch, expected, &new).await?;
            batch.clear();
        }
    }
    let expected = queue.version() - batch.len() as u64;
    let new: Vec<_> = batch.iter().map(cem_queue::service::encode).collect();
    store.append(branch, expected, &new).await?;
    let version = queue.version();
    println!(
        "wrote {version} events in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let service = || {
        let svc = QueueService::new(store.clone(), None, ServiceOptions::default());
        svc.add_branch(config.clone()).map(|()| svc)
    };

    // Without a snapshot: replay everything.
    let started = Instant::now();
    let replayed = service()?.load(branch).await?;
    let replay_secs = started.elapsed().as_secs_f64();

    // With a snapshot a little before the end, as the service saves them.
    let snapshot_at = version - 500;
    let mut older = BranchQueue::new(config.clone())?;
    for r in store.read_stream(branch, 0, snapshot_at as usize).await? {
        older.apply(&cem_queue::service::decode(&r)?)?;
    }
    store
        .save_snapshot(&Snapshot {
            branch,
            version: snapshot_at,
            format: SNAPSHOT_FORMAT,
            data: older.to_snapshot(),
        })
        .await?;
    let started = Instant::now();
    let loaded = service()?.load(branch).await?;
    let snapshot_secs = started.elapsed().as_secs_f64();
    assert_eq!(loaded, replayed);
    assert_eq!(loaded, queue);
    println!(
        "load of {version} events: {snapshot_secs:.3} s from a snapshot at {snapshot_at} \
         plus the tail; {replay_secs:.3} s by full replay ({:.0}x); snapshot {} bytes",
        replay_secs / snapshot_secs,
        older.to_snapshot().len()
    );
    store.close().await;
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
