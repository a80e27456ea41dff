//! The conformance cases, one per contract clause of [`QueueEventStore`].

use std::collections::HashSet;
use std::sync::Arc;

use cem_core::chrono::Duration;
use cem_core::{
    BranchId, NewEvent, QueueEventStore, RecordedEvent, Snapshot, StoreError, TicketId,
};
use cem_queue::testing::{NORMAL, VIP, branch_config, counter_id, service_id};
use cem_queue::{
    BranchQueue, Command, IssueTicket, QueueError, QueueService, ServiceError, ServiceOptions,
    TicketSource,
};
use serde_json::json;

use crate::Harness;
use crate::fixtures::t0;

fn branch(n: u128) -> BranchId {
    BranchId::from_u128(0xB_0000 + n)
}

fn events(n: usize, tag: &str) -> Vec<NewEvent> {
    (0..n)
        .map(|i| NewEvent {
            at: t0() + Duration::seconds(i as i64),
            kind: "test_event".into(),
            payload: json!({ "tag": tag, "i": i }),
        })
        .collect()
}

async fn one(h: &dyn Harness) -> Arc<dyn QueueEventStore> {
    h.open(1).await.remove(0)
}

fn versions(events: &[RecordedEvent]) -> Vec<u64> {
    events.iter().map(|e| e.version).collect()
}

/// Appends get contiguous versions and increasing positions, and read back as written.
pub async fn appends_and_reads_back(h: &dyn Harness) {
    let s = one(h).await;
    let b = branch(1);
    let first = s
        .append(b, 0, &events(3, "a"))
        .await
        .expect("append to a new stream");
    assert_eq!(versions(&first), [1, 2, 3]);
    assert!(first.windows(2).all(|w| w[0].position < w[1].position));
    let second = s
        .append(b, 3, &events(2, "b"))
        .await
        .expect("append at version 3");
    assert_eq!(versions(&second), [4, 5]);
    assert!(first[2].position < second[0].position);
    assert_eq!(s.stream_version(b).await.unwrap(), 5);
    let all = s.read_stream(b, 0, 100).await.unwrap();
    assert_eq!(all, [first.clone(), second.clone()].concat());
    assert_eq!(versions(&s.read_stream(b, 2, 2).await.unwrap()), [3, 4]);
    assert!(s.read_stream(b, 5, 10).await.unwrap().is_empty());
    assert!(all.iter().all(|e| e.branch == b && e.kind == "test_event"));
}

/// A stream nobody wrote is empty at version 0, with no snapshot.
pub async fn unknown_streams_read_empty(h: &dyn Harness) {
    let s = one(h).await;
    assert_eq!(s.stream_version(branch(9)).await.unwrap(), 0);
    assert!(s.read_stream(branch(9), 0, 10).await.unwrap().is_empty());
    assert!(s.load_snapshot(branch(9)).await.unwrap().is_none());
    assert!(s.read_all(0, 10).await.unwrap().is_empty());
}

/// An append expecting another version is refused with `Conflict` and appends nothing.
pub async fn a_stale_expected_version_conflicts_and_appends_nothing(h: &dyn Harness) {
    let s = one(h).await;
    let b = branch(1);
    s.append(b, 0, &events(3, "a")).await.unwrap();
    for expected in [0, 2, 4, 100] {
        let err = s.append(b, expected, &events(2, "late")).await.unwrap_err();
        assert!(
            matches!(err, StoreError::Conflict { .. }),
            "expected {expected}: {err:?}"
        );
    }
    assert_eq!(s.stream_version(b).await.unwrap(), 3);
    assert_eq!(s.read_all(0, 100).await.unwrap().len(), 3);
}

/// Appending nothing checks the version and records nothing.
pub async fn an_empty_append_checks_the_version(h: &dyn Harness) {
    let s = one(h).await;
    let b = branch(1);
    assert!(s.append(b, 0, &[]).await.unwrap().is_empty());
    s.append(b, 0, &events(1, "a")).await.unwrap();
    assert!(matches!(
        s.append(b, 0, &[]).await,
        Err(StoreError::Conflict { .. })
    ));
    assert!(s.append(b, 1, &[]).await.unwrap().is_empty());
    assert_eq!(s.stream_version(b).await.unwrap(), 1);
}

/// The global history lists every stream's events in position order, paged by position.
pub async fn global_history_is_in_position_order(h: &dyn Harness) {
    let s = one(h).await;
    let (a, b) = (branch(1), branch(2));
    let mut written = Vec::new();
    written.extend(s.append(a, 0, &events(2, "a")).await.unwrap());
    written.extend(s.append(b, 0, &events(3, "b")).await.unwrap());
    written.extend(s.append(a, 2, &events(1, "a")).await.unwrap());
    let all = s.read_all(0, 100).await.unwrap();
    assert_eq!(all, written);
    let positions: Vec<u64> = all.iter().map(|e| e.position).collect();
    assert_eq!(
        positions,
        (1..=6).collect::<Vec<_>>(),
        "positions are contiguous from 1"
    );
    let mut paged = Vec::new();
    let mut after = 0;
    loop {
        let page = s.read_all(after, 2).await.unwrap();
        let Some(last) = page.last() else { break };
        after = last.position;
        paged.extend(page);
    }
    assert_eq!(paged, written);
}

/// Time-range reads take `from <= at < to`, across streams, in position order, paged.
pub async fn time_range_reads_are_half_open_and_paged(h: &dyn Harness) {
    let s = one(h).await;
    s.append(branch(1), 0, &events(5, "a")).await.unwrap(); // t0 + 0..4 s
    s.append(branch(2), 0, &events(5, "b")).await.unwrap();
    let from = t0() + Duration::seconds(1);
    let to = t0() + Duration::seconds(3);
    let hits = s.read_time_range(from, to, 0, 100).await.unwrap();
    assert_eq!(hits.len(), 4, "seconds 1 and 2 of both streams");
    assert!(hits.iter().all(|e| from <= e.at && e.at < to));
    assert!(hits.windows(2).all(|w| w[0].position < w[1].position));
    let page = s.read_time_range(from, to, 0, 3).await.unwrap();
    let rest = s
        .read_time_range(from, to, page.last().unwrap().position, 3)
        .await
        .unwrap();
    assert_eq!([page, rest].concat(), hits);
}

/// Payloads (non-ASCII text included) and instants (to the microsecond) come back unchanged;
/// finer digits are cut, and `append` already returns the instant as stored.
pub async fn payloads_and_instants_round_trip(h: &dyn Harness) {
    let s = one(h).await;
    let e = NewEvent {
        at: t0(),
        kind: "ticket_issued".into(),
        payload: json!({
            "type": "ticket_issued",
            "name": "شعبه مرکزی — Zentrale",
            "nested": { "list": [1, 2.5, null, true], "quote": "\"'\\" },
        }),
    };
    s.append(branch(1), 0, std::slice::from_ref(&e))
        .await
        .unwrap();
    let back = s.read_stream(branch(1), 0, 1).await.unwrap().remove(0);
    assert_eq!(
        (back.at, back.kind, back.payload),
        (e.at, e.kind.clone(), e.payload.clone())
    );
    let fine = NewEvent {
        at: t0() + Duration::nanoseconds(789),
        ..e
    };
    let appended = s.append(branch(2), 0, &[fine]).await.unwrap().remove(0);
    assert_eq!(appended.at, t0(), "instants are kept to the microsecond");
    let read = s.read_stream(branch(2), 0, 1).await.unwrap().remove(0);
    assert_eq!(read, appended);
}

/// A snapshot older than the stored one is ignored; snapshots are per stream.
pub async fn snapshots_never_move_backwards(h: &dyn Harness) {
    let s = one(h).await;
    let snap = |b, version, byte| Snapshot {
        branch: b,
        version,
        format: 1,
        data: vec![byte; 300],
    };
    s.save_snapshot(&snap(branch(1), 5, 5)).await.unwrap();
    s.save_snapshot(&snap(branch(1), 3, 3)).await.unwrap();
    assert_eq!(
        s.load_snapshot(branch(1)).await.unwrap(),
        Some(snap(branch(1), 5, 5))
    );
    // The same version replaces: a state re-encoded in a newer format.
    s.save_snapshot(&snap(branch(1), 5, 6)).await.unwrap();
    assert_eq!(
        s.load_snapshot(branch(1)).await.unwrap(),
        Some(snap(branch(1), 5, 6))
    );
    s.save_snapshot(&snap(branch(1), 7, 7)).await.unwrap();
    s.save_snapshot(&snap(branch(2), 1, 1)).await.unwrap();
    assert_eq!(
        s.load_snapshot(branch(1)).await.unwrap(),
        Some(snap(branch(1), 7, 7))
    );
    assert_eq!(
        s.load_snapshot(branch(2)).await.unwrap(),
        Some(snap(branch(2), 1, 1))
    );
}

/// Many tasks on several handles append at the same expected version: exactly one wins.
pub async fn concurrent_appends_have_one_winner(h: &dyn Harness) {
    let handles = h.open(4).await;
    let b = branch(1);
    handles[0].append(b, 0, &events(1, "base")).await.unwrap();
    for round in 0..5 {
        let expected = handles[round % handles.len()]
            .stream_version(b)
            .await
            .unwrap();
        let tasks: Vec<_> = (0..16)
            .map(|i| {
                let s = handles[i % handles.len()].clone();
                tokio::spawn(async move { s.append(b, expected, &events(2, "race")).await })
            })
            .collect();
        let mut wins = 0;
        for t in tasks {
            match t.await.expect("task ran") {
                Ok(r) => {
                    wins += 1;
                    assert_eq!(versions(&r), [expected + 1, expected + 2]);
                }
                Err(StoreError::Conflict { .. }) => {}
                Err(e) => panic!("round {round}: {e:?}"),
            }
        }
        assert_eq!(wins, 1, "round {round}: one append must win");
    }
    let stream = handles[3].read_stream(b, 0, 1_000).await.unwrap();
    assert_eq!(versions(&stream), (1..=11).collect::<Vec<_>>());
}

fn issue(n: u128, service: usize) -> Command {
    Command::Issue(IssueTicket {
        ticket: TicketId::from_u128(n),
        service: service_id(service),
        class: Some(if n.is_multiple_of(5) { VIP } else { NORMAL }),
        source: TicketSource::Kiosk,
        customer: None,
        appointment_at: None,
    })
}

/// Counters on separate service instances (one per handle) race to call next on one branch:
/// no ticket is called twice, none is lost, and the stream's versions are contiguous.
pub async fn concurrent_counters_never_share_a_ticket(h: &dyn Harness) {
    const TICKETS: u128 = 120;
    const COUNTERS: usize = 8;
    let handles = h.open(4).await;
    let config = branch_config(2, COUNTERS);
    let b = config.branch.id;
    let services: Vec<Arc<QueueService>> = handles
        .iter()
        .map(|s| {
            let svc = QueueService::new(
                s.clone(),
                None,
                ServiceOptions {
                    snapshot_every: 25,
                    ..ServiceOptions::default()
                },
            );
            svc.add_branch(config.clone()).expect("valid config");
            Arc::new(svc)
        })
        .collect();
    let now = t0();
    for c in 0..COUNTERS {
        let open = Command::OpenCounter {
            counter: counter_id(c),
            agent: None,
        };
        services[c % services.len()]
            .execute(b, &open, now)
            .await
            .unwrap();
    }
    for n in 1..=TICKETS {
        services[n as usize % services.len()]
            .execute(b, &issue(n, n as usize % 2), now)
            .await
            .unwrap();
    }
    let tasks: Vec<_> = (0..COUNTERS)
        .map(|c| {
            let svc = services[c % services.len()].clone();
            tokio::spawn(async move {
                let counter = counter_id(c);
                let mut called = Vec::new();
                loop {
                    match svc.execute(b, &Command::CallNext { counter }, now).await {
                        Ok(events) => called.push(events[0].event.ticket().expect("a ticket")),
                        Err(ServiceError::Queue(QueueError::NothingToCall { .. })) => break,
                        Err(e) => panic!("counter {c}: {e}"),
                    }
                    svc.execute(b, &Command::Finish { counter }, now)
                        .await
                        .unwrap();
                }
                called
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("task ran"));
    }
    let distinct: HashSet<_> = all.iter().collect();
    assert_eq!(distinct.len(), all.len(), "a ticket was called twice");
    assert_eq!(all.len() as u128, TICKETS, "a ticket was lost");
    let stream = handles[0].read_stream(b, 0, 100_000).await.unwrap();
    assert_eq!(
        versions(&stream),
        (1..=stream.len() as u64).collect::<Vec<_>>()
    );
    let events: Vec<_> = stream
        .iter()
        .map(|r| cem_queue::service::decode(r).expect("queue events"))
        .collect();
    let replayed = BranchQueue::replay(config, &events).expect("the stream replays");
    let state = services[0].read(b, BranchQueue::clone).await.unwrap();
    assert_eq!(replayed, state);
}

/// A branch loaded by a new service (a restart), from its snapshot and the events after it,
/// equals the branch the old service held.
pub async fn a_reloaded_branch_equals_the_branch_before(h: &dyn Harness) {
    let handles = h.open(2).await;
    let config = branch_config(2, 2);
    let b = config.branch.id;
    let options = ServiceOptions {
        snapshot_every: 10,
        ..ServiceOptions::default()
    };
    let before = QueueService::new(handles[0].clone(), None, options.clone());
    before.add_branch(config.clone()).unwrap();
    let now = t0();
    let open = Command::OpenCounter {
        counter: counter_id(0),
        agent: None,
    };
    before.execute(b, &open, now).await.unwrap();
    for n in 1..=26 {
        before
            .execute(b, &issue(n, n as usize % 2), now)
            .await
            .unwrap();
        if n.is_multiple_of(3) {
            let call = Command::CallNext {
                counter: counter_id(0),
            };
            before.execute(b, &call, now).await.unwrap();
            let finish = Command::Finish {
                counter: counter_id(0),
            };
            before.execute(b, &finish, now).await.unwrap();
        }
    }
    let snapshot = handles[1]
        .load_snapshot(b)
        .await
        .unwrap()
        .expect("a snapshot was saved");
    let version = before.read(b, BranchQueue::version).await.unwrap();
    assert!(
        snapshot.version < version,
        "the tail after the snapshot is replayed too"
    );
    let after = QueueService::new(handles[1].clone(), None, options);
    after.add_branch(config.clone()).unwrap();
    let reloaded = after.load(b).await.unwrap();
    assert_eq!(reloaded, before.read(b, BranchQueue::clone).await.unwrap());
    let events: Vec<_> = handles[1]
        .read_stream(b, 0, 10_000)
        .await
        .unwrap()
        .iter()
        .map(|r| cem_queue::service::decode(r).unwrap())
        .collect();
    assert_eq!(BranchQueue::replay(config, &events).unwrap(), reloaded);
}

/// Two instances over separate handles: a command the stale instance's state would refuse
/// runs on the state caught up with the store, and a write from a stale state conflicts,
/// reloads and lands at the right version, with nothing lost or written twice.
pub async fn a_stale_instance_catches_up_before_refusing_or_writing(h: &dyn Harness) {
    let handles = h.open(2).await;
    let config = branch_config(1, 1);
    let b = config.branch.id;
    let now = t0();
    let a = QueueService::new(handles[0].clone(), None, ServiceOptions::default());
    let other = QueueService::new(handles[1].clone(), None, ServiceOptions::default());
    a.add_branch(config.clone()).unwrap();
    other.add_branch(config.clone()).unwrap();
    let counter = counter_id(0);
    let open = Command::OpenCounter {
        counter,
        agent: None,
    };
    a.execute(b, &open, now).await.unwrap();
    // `other` loads now, then falls behind: `a` issues a ticket.
    assert_eq!(other.read(b, BranchQueue::total_waiting).await.unwrap(), 0);
    a.execute(b, &issue(1, 0), now).await.unwrap();
    // Its state has nobody waiting, yet the call finds the ticket.
    let called = other
        .execute(b, &Command::CallNext { counter }, now)
        .await
        .expect("the stale state's refusal is checked against the store");
    assert_eq!(called.last().unwrap().version, 3);
    // Now `a` is stale: its issue conflicts, reloads and lands after the call.
    let issued = a.execute(b, &issue(2, 0), now).await.unwrap();
    assert_eq!(issued[0].version, 4);
    let events: Vec<_> = handles[0]
        .read_stream(b, 0, 100)
        .await
        .unwrap()
        .iter()
        .map(|r| cem_queue::service::decode(r).unwrap())
        .collect();
    assert_eq!(events.len(), 4);
    let replayed = BranchQueue::replay(config, &events).unwrap();
    assert_eq!(replayed, a.read(b, BranchQueue::clone).await.unwrap());
    assert_eq!(replayed, other.read(b, BranchQueue::clone).await.unwrap());
}
