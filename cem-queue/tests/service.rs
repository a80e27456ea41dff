//! The queue service over a store that misbehaves on purpose: appends that never return, and
//! snapshots written through the `Background` port.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use cem_core::chrono::{DateTime, Utc};
use cem_core::{
    Background, BackgroundTask, BranchId, Capabilities, NewEvent, QueueEventStore, RecordedEvent,
    Snapshot, StoreError, TicketId, async_trait,
};
use cem_queue::service::decode;
use cem_queue::testing::{branch_config, counter_id};
use cem_queue::{
    BranchQueue, Command, IssueTicket, QueueService, ServiceOptions, TicketSource, TicketState,
};
use cem_store_memory::MemoryStore;

/// A store whose appends hang, never reaching the store, while `hang` is set.
#[derive(Debug)]
struct Hanging {
    inner: Arc<MemoryStore>,
    hang: AtomicBool,
}

#[async_trait]
impl QueueEventStore for Hanging {
    async fn append(
        &self,
        branch: BranchId,
        expected: u64,
        events: &[NewEvent],
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        if self.hang.load(Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
        self.inner.append(branch, expected, events).await
    }

    async fn read_stream(
        &self,
        branch: BranchId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        self.inner.read_stream(branch, after, limit).await
    }

    async fn stream_version(&self, branch: BranchId) -> Result<u64, StoreError> {
        self.inner.stream_version(branch).await
    }

    async fn read_all(&self, after: u64, limit: usize) -> Result<Vec<RecordedEvent>, StoreError> {
        self.inner.read_all(after, limit).await
    }

    async fn read_time_range(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        after: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        self.inner.read_time_range(from, to, after, limit).await
    }

    async fn save_snapshot(&self, snapshot: &Snapshot) -> Result<(), StoreError> {
        self.inner.save_snapshot(snapshot).await
    }

    async fn load_snapshot(&self, branch: BranchId) -> Result<Option<Snapshot>, StoreError> {
        self.inner.load_snapshot(branch).await
    }

    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
}

fn issue(n: u128, service: cem_core::ServiceId) -> Command {
    Command::Issue(IssueTicket {
        ticket: TicketId::from_u128(n),
        service,
        class: None,
        source: TicketSource::Kiosk,
        customer: None,
        appointment_at: None,
    })
}

/// A caller that gives up while its append is in flight (a request past its time limit) must
/// not leave the state in memory ahead of the store: another instance may append at that
/// version meanwhile, and a state that still holds the lost event would write on top of it.
#[tokio::test]
async fn a_command_abandoned_during_its_append_leaves_the_state_as_stored() {
    let config = branch_config(1, 2);
    let (branch, service) = (config.branch.id, config.services[0].id);
    let (mine, other) = (counter_id(0), counter_id(1));
    let store = Arc::new(MemoryStore::new());
    let hanging = Arc::new(Hanging {
        inner: store.clone(),
        hang: AtomicBool::new(false),
    });
    let a = QueueService::new(hanging.clone(), None, ServiceOptions::default());
    let b = QueueService::new(store.clone(), None, ServiceOptions::default());
    a.add_branch(config.clone()).unwrap();
    b.add_branch(config.clone()).unwrap();
    let now = "2026-11-28T08:00:00Z".parse().unwrap();
    for command in [
        Command::OpenCounter {
            counter: mine,
            agent: None,
        },
        Command::OpenCounter {
            counter: other,
            agent: None,
        },
        issue(1, service),
        issue(2, service),
    ] {
        a.execute(branch, &command, now).await.unwrap();
    }

    // A's call of ticket 1 never reaches the store; its caller gives up.
    hanging.hang.store(true, Ordering::SeqCst);
    let call = Command::CallNext { counter: mine };
    let abandoned = tokio::time::timeout(
        std::time::Duration::from_millis(50),
        a.execute(branch, &call, now),
    )
    .await;
    assert!(abandoned.is_err(), "the append hung");
    hanging.hang.store(false, Ordering::SeqCst);
    // Meanwhile B calls ticket 1 at that very version.
    let called = b
        .execute(branch, &Command::CallNext { counter: other }, now)
        .await
        .unwrap();
    assert_eq!(called[0].event.ticket(), Some(TicketId::from_u128(1)));

    // A's counter is free and calls ticket 2; the stream replays; both agree.
    let called = a.execute(branch, &call, now).await.unwrap();
    assert_eq!(called[0].event.ticket(), Some(TicketId::from_u128(2)));
    let events: Vec<_> = store
        .read_stream(branch, 0, 100)
        .await
        .unwrap()
        .iter()
        .map(|r| decode(r).unwrap())
        .collect();
    let replayed = BranchQueue::replay(config, &events).expect("a consistent stream");
    assert_eq!(replayed, a.read(branch, BranchQueue::clone).await.unwrap());
    let states: Vec<TicketState> = [1, 2]
        .map(|n| replayed.ticket(TicketId::from_u128(n)).unwrap().state)
        .to_vec();
    assert_eq!(states, [TicketState::Called, TicketState::Called]);
}

/// Holds the work handed to it until the test runs it.
#[derive(Default)]
struct Held(Mutex<Vec<BackgroundTask>>);

impl std::fmt::Debug for Held {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Held")
    }
}

impl Background for Held {
    fn run(&self, task: BackgroundTask) {
        self.0.lock().unwrap().push(task);
    }
}

#[tokio::test]
async fn a_due_snapshot_is_written_in_the_background_not_by_the_command() {
    let config = branch_config(1, 1);
    let (branch, service) = (config.branch.id, config.services[0].id);
    let store = Arc::new(MemoryStore::new());
    let held = Arc::new(Held::default());
    let options = ServiceOptions {
        snapshot_every: 10,
        ..ServiceOptions::default()
    };
    let queue = QueueService::new(store.clone(), None, options).with_background(held.clone());
    queue.add_branch(config.clone()).unwrap();
    let now = "2026-11-28T08:00:00Z".parse().unwrap();
    for n in 1..=12 {
        queue
            .execute(branch, &issue(n, service), now)
            .await
            .unwrap();
    }

    assert!(store.load_snapshot(branch).await.unwrap().is_none());
    let tasks = std::mem::take(&mut *held.0.lock().unwrap());
    assert_eq!(tasks.len(), 1, "one snapshot was due, at version 10");
    for task in tasks {
        task.await;
    }
    let snapshot = store.load_snapshot(branch).await.unwrap().expect("written");
    assert_eq!(snapshot.version, 10);
    // It holds the state as it was at its version, though the branch went on meanwhile.
    let events: Vec<_> = store
        .read_stream(branch, 0, 10)
        .await
        .unwrap()
        .iter()
        .map(|r| decode(r).unwrap())
        .collect();
    let saved = BranchQueue::from_snapshot(&config, &snapshot.data).unwrap();
    assert_eq!(saved, BranchQueue::replay(config, &events).unwrap());
}
