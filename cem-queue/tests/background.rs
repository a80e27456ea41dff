//! Snapshots written through the `Background` port.

use std::sync::{Arc, Mutex};

use cem_core::{Background, BackgroundTask, QueueEventStore, TicketId};
use cem_queue::service::decode;
use cem_queue::testing::branch_config;
use cem_queue::{BranchQueue, Command, IssueTicket, QueueService, ServiceOptions, TicketSource};
use cem_store_memory::MemoryStore;

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
        let issue = Command::Issue(IssueTicket {
            ticket: TicketId::from_u128(n),
            service,
            class: None,
            source: TicketSource::Kiosk,
            customer: None,
            appointment_at: None,
        });
        queue.execute(branch, &issue, now).await.unwrap();
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
