//! Live status of a real queue, and alerts raised and cleared on the edges.

use std::collections::BTreeMap;

use cem_core::chrono::{DateTime, Duration, Utc};
use cem_core::{BranchId, ServiceId, TicketId};
use cem_queue::testing::{branch_config, counter_id, service_id};
use cem_queue::{BranchQueue, IssueTicket, TicketSource};
use cem_report::testing::utc;
use cem_report::{
    AlertChange, AlertKind, AlertTracker, LiveStatus, ServiceStatus, Thresholds, alerts,
};

fn issue(
    q: &mut BranchQueue,
    n: u128,
    service: usize,
    appointment: Option<DateTime<Utc>>,
    at: DateTime<Utc>,
) {
    q.issue(
        IssueTicket {
            ticket: TicketId::from_u128(n),
            service: service_id(service),
            class: None,
            source: TicketSource::Kiosk,
            customer: None,
            appointment_at: appointment,
        },
        at,
    )
    .unwrap();
}

#[test]
fn status_of_a_branch_queue() {
    // Two services (target 600 s) and two counters serving both; counter 0 open.
    let t0 = utc("2026-01-05T08:00:00Z");
    let s = |secs| t0 + Duration::seconds(secs);
    let mut q = BranchQueue::new(branch_config(2, 2)).unwrap();
    q.open_counter(counter_id(0), None, t0).unwrap();
    issue(&mut q, 1, 0, None, t0);
    issue(&mut q, 2, 0, None, s(10));
    q.call_next(counter_id(0), s(60)).unwrap();
    issue(&mut q, 3, 1, None, s(100));
    // An appointment at 1 000 s, checked in early: it waits from its appointment.
    issue(&mut q, 4, 0, Some(s(1000)), s(650));

    let status = LiveStatus::of(&q, s(700));
    assert_eq!(status.waiting, 3);
    assert_eq!(
        (
            status.counters_open,
            status.counters_paused,
            status.counters_closed,
            status.counters_busy
        ),
        (1, 0, 1, 1)
    );
    let a = &status.services[0];
    assert_eq!((a.prefix.as_str(), a.waiting), ("A", 2));
    assert_eq!(a.longest_wait_secs, Some(690.0));
    assert_eq!(a.oldest, Some(TicketId::from_u128(2)));
    assert_eq!((a.target_wait_secs, a.open_counters), (600, 1));
    assert!(a.estimated_wait_secs.is_some());
    let b = &status.services[1];
    assert_eq!((b.waiting, b.longest_wait_secs), (1, Some(600.0)));
    assert_eq!(status.longest_wait_secs, Some(690.0));

    // A passed its target (690 > 600); B is at it, not past it.
    let found: Vec<(ServiceId, AlertKind)> = alerts(&status, &Thresholds::default(), s(700))
        .iter()
        .map(|a| (a.service, a.kind))
        .collect();
    assert_eq!(found, [(service_id(0), AlertKind::TargetExceeded)]);

    // With the counter paused, both services wait unstaffed.
    q.pause_counter(counter_id(0), s(700)).unwrap();
    let paused = LiveStatus::of(&q, s(700));
    let unstaffed: Vec<ServiceId> = alerts(&paused, &Thresholds::default(), s(700))
        .iter()
        .filter(|a| a.kind == AlertKind::Unstaffed)
        .map(|a| a.service)
        .collect();
    assert_eq!(unstaffed, [service_id(0), service_id(1)]);
}

const BRANCH: BranchId = BranchId::from_u128(7);

fn svc() -> ServiceId {
    ServiceId::from_u128(1)
}

/// A branch with one service (target 600 s) whose longest wait is `longest` seconds.
fn status(at: DateTime<Utc>, waiting: u32, longest: f64, open_counters: u32) -> LiveStatus {
    LiveStatus {
        branch: BRANCH,
        at,
        services: vec![ServiceStatus {
            service: svc(),
            prefix: "A".into(),
            waiting,
            longest_wait_secs: (waiting > 0).then_some(longest),
            oldest: None,
            estimated_wait_secs: None,
            target_wait_secs: 600,
            open_counters,
        }],
        waiting,
        longest_wait_secs: (waiting > 0).then_some(longest),
        counters_open: open_counters,
        counters_paused: 0,
        counters_closed: 0,
        counters_busy: 0,
    }
}

/// What each refresh changed: `+kind` raised, `-kind` cleared.
fn edges(steps: &[(u32, f64, u32)], thresholds: &Thresholds) -> Vec<Vec<String>> {
    let t0 = utc("2026-01-05T08:00:00Z");
    let mut tracker = AlertTracker::new();
    steps
        .iter()
        .enumerate()
        .map(|(i, &(waiting, longest, open))| {
            let at = t0 + Duration::seconds(10 * i as i64);
            tracker
                .update(&status(at, waiting, longest, open), thresholds, at)
                .iter()
                .map(|c| match c {
                    AlertChange::Raised(a) => format!("+{:?}", a.kind),
                    AlertChange::Cleared(a) => format!("-{:?}", a.kind),
                })
                .collect()
        })
        .collect()
}

#[test]
fn alerts_are_raised_once_and_cleared_below_the_hysteresis() {
    let th = Thresholds::default();
    let none: Vec<String> = vec![];
    assert_eq!(
        edges(
            &[
                (3, 590.0, 1), // under the target
                (3, 610.0, 1), // past it: raised
                (3, 650.0, 1), // still past: nothing new
                (3, 560.0, 1), // under, but above 90 % (540): stays
                (3, 540.0, 1), // at 90 %: cleared
                (3, 601.0, 1), // raised again
                (0, 0.0, 1),   // nobody waits: cleared
            ],
            &th
        ),
        [
            none.clone(),
            vec!["+TargetExceeded".to_string()],
            none.clone(),
            none.clone(),
            vec!["-TargetExceeded".to_string()],
            vec!["+TargetExceeded".to_string()],
            vec!["-TargetExceeded".to_string()],
        ]
    );
}

#[test]
fn limits_and_unstaffed_services() {
    let th = Thresholds {
        targets: false,
        absolute_wait_secs: Some(300),
        per_service_secs: BTreeMap::new(),
        clear_below_pct: 100,
        unstaffed: true,
    };
    let e = |s: &str| vec![s.to_string()];
    assert_eq!(
        edges(
            &[(2, 400.0, 1), (2, 300.0, 0), (2, 10.0, 1), (0, 0.0, 0)],
            &th
        ),
        [
            e("+ThresholdExceeded"),
            // Back to the limit clears at once without hysteresis; no counter open.
            vec!["-ThresholdExceeded".to_string(), "+Unstaffed".to_string()],
            e("-Unstaffed"),
            vec![],
        ]
    );
    // A per-service limit wins over the absolute one.
    let mut per = th.clone();
    per.per_service_secs.insert(svc(), 500);
    assert_eq!(edges(&[(2, 400.0, 1)], &per), [Vec::<String>::new()]);
}

#[test]
fn waits_grow_between_refreshes_and_unwatched_alerts_clear() {
    let t0 = utc("2026-01-05T08:00:00Z");
    let read = status(t0, 1, 550.0, 1);
    // Read at 550 s, looked at 100 s later: 650 s, past the target.
    let later = alerts(&read, &Thresholds::default(), t0 + Duration::seconds(100));
    assert_eq!(later.len(), 1);
    assert_eq!(later[0].longest_wait_secs, 650.0);
    assert!(alerts(&read, &Thresholds::default(), t0).is_empty());

    let mut tracker = AlertTracker::new();
    let over = status(t0, 1, 700.0, 1);
    assert_eq!(tracker.update(&over, &Thresholds::default(), t0).len(), 1);
    assert_eq!(tracker.active().count(), 1);
    // Targets no longer watched: the alert clears.
    let off = Thresholds {
        targets: false,
        ..Thresholds::default()
    };
    let changes = tracker.update(&over, &off, t0);
    assert!(
        matches!(&changes[..], [AlertChange::Cleared(a)] if a.kind == AlertKind::TargetExceeded)
    );
    assert_eq!(tracker.active().count(), 0);
}
