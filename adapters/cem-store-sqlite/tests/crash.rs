//! Durability under a crash: a child process issues tickets through the queue service on a
//! SQLite file and reports each acknowledged command on its standard output; the parent kills
//! it with SIGKILL mid-stream, reopens the file and checks that every acknowledged event is
//! there, nothing is duplicated, the versions are contiguous and the branch state equals a
//! replay of its stream.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command as Process, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cem_core::{QueueEventStore, TicketId};
use cem_queue::testing::{NORMAL, branch_config, service_id};
use cem_queue::{BranchQueue, Command, IssueTicket, QueueService, ServiceOptions, TicketSource};
use cem_store_sqlite::SqliteStore;

const CHILD_ENV: &str = "CEM_CRASH_CHILD_DB";
/// Acknowledged commands after which the parent pulls the plug.
const KILL_AFTER: usize = 1_500;

fn service(store: Arc<dyn QueueEventStore>) -> QueueService {
    let svc = QueueService::new(
        store,
        None,
        ServiceOptions {
            snapshot_every: 200,
            ..ServiceOptions::default()
        },
    );
    svc.add_branch(branch_config(2, 2)).expect("valid config");
    svc
}

/// The child: issues tickets as fast as it can and prints `ack <ticket> <version>` after each
/// acknowledged command. Run only by the parent test below (hence ignored on its own).
#[tokio::test]
#[ignore = "child process of a_killed_writer_loses_no_acknowledged_event"]
async fn crash_child_appender() {
    let path = std::env::var(CHILD_ENV).expect("run by the parent test");
    let store: Arc<dyn QueueEventStore> = Arc::new(SqliteStore::open(&path).await.unwrap());
    let svc = service(store);
    let branch = branch_config(2, 2).branch.id;
    let now = "2026-11-30T08:00:00Z".parse().unwrap();
    for n in 1u128.. {
        let issue = Command::Issue(IssueTicket {
            ticket: TicketId::from_u128(n),
            service: service_id(n as usize % 2),
            class: Some(NORMAL),
            source: TicketSource::Kiosk,
            customer: None,
            appointment_at: None,
        });
        let events = svc.execute(branch, &issue, now).await.unwrap();
        println!("ack {n} {}", events[0].version);
    }
}

#[tokio::test]
async fn a_killed_writer_loses_no_acknowledged_event() {
    let dir = std::env::temp_dir().join(format!("cem-crash-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("crash.sqlite");
    let path = path.to_str().unwrap().to_string();
    let mut child = Process::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "crash_child_appender",
            "--nocapture",
        ])
        .env(CHILD_ENV, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut acked: HashMap<u128, u64> = HashMap::new();
    let started = Instant::now();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    while acked.len() < KILL_AFTER && started.elapsed() < Duration::from_secs(120) {
        let Some(Ok(line)) = lines.next() else { break };
        let mut parts = line.split_whitespace();
        if parts.next() == Some("ack") {
            let ticket: u128 = parts.next().unwrap().parse().unwrap();
            let version: u64 = parts.next().unwrap().parse().unwrap();
            acked.insert(ticket, version);
        }
    }
    // SIGKILL, in the middle of the child's stream of appends.
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        acked.len() >= KILL_AFTER,
        "the child acknowledged only {}",
        acked.len()
    );

    let store: Arc<dyn QueueEventStore> = Arc::new(SqliteStore::open(&path).await.unwrap());
    let config = branch_config(2, 2);
    let branch = config.branch.id;
    let stream = store.read_stream(branch, 0, 1_000_000).await.unwrap();
    let versions: Vec<u64> = stream.iter().map(|e| e.version).collect();
    assert_eq!(
        versions,
        (1..=stream.len() as u64).collect::<Vec<_>>(),
        "versions not contiguous"
    );
    let events: Vec<_> = stream
        .iter()
        .map(|r| cem_queue::service::decode(r).unwrap())
        .collect();
    let mut stored: HashMap<TicketId, u64> = HashMap::new();
    for (e, r) in events.iter().zip(&stream) {
        let ticket = e.ticket().expect("only issues were appended");
        assert!(
            stored.insert(ticket, r.version).is_none(),
            "ticket {ticket} stored twice"
        );
    }
    for (n, version) in &acked {
        assert_eq!(
            stored.get(&TicketId::from_u128(*n)),
            Some(version),
            "acknowledged ticket {n} missing or moved"
        );
    }
    // The state a restarted service loads (snapshot plus tail) equals a full replay.
    let loaded = service(store).load(branch).await.unwrap();
    assert_eq!(loaded, BranchQueue::replay(config, &events).unwrap());
    println!(
        "crash test: {} acknowledged appends checked, {} events stored",
        acked.len(),
        stream.len()
    );
    std::fs::remove_dir_all(&dir).ok();
}
