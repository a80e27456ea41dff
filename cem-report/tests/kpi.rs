//! Every KPI definition on hand-computed event scripts.
//!
//! Each test is a script of `(seconds after T0, step)` and the rows it must give; the expected
//! rows spell out only what differs from an empty row.

use cem_core::chrono::{DateTime, Duration, Utc};
use cem_core::chrono_tz::Tz;
use cem_report::testing::{BRANCH, Step, Step::*, agent, class, counter, script, service, utc};
use cem_report::{Fold, GroupBy, Key, KpiSpec, Row, Window};

const T0: &str = "2026-01-05T08:00:00Z";

/// A row of a group where nothing happened.
fn blank(key: Key) -> Row {
    Row {
        key,
        arrived: 0,
        transferred_in: 0,
        called: 0,
        served: 0,
        no_show: 0,
        cancelled: 0,
        transferred_out: 0,
        wait_mean_secs: None,
        wait_median_secs: None,
        wait_p90_secs: None,
        wait_max_secs: None,
        service_time_mean_secs: None,
        service_level_pct: None,
        busy_secs: 0.0,
        open_secs: 0.0,
        utilization_pct: None,
        appointments: 0,
        appointments_on_time: 0,
        punctuality_pct: None,
        lateness_mean_secs: None,
    }
}

fn s1() -> Key {
    Key::Service(service(1))
}

fn s2() -> Key {
    Key::Service(service(2))
}

/// The fold of a script from `base`, over `[base + from, base + to)` seconds, with targets of
/// 300 s for service 1 and 600 s for service 2.
fn fold_at(base: DateTime<Utc>, window: (i64, i64), by: &[GroupBy], steps: &[(i64, Step)]) -> Fold {
    let window = Window::new(
        base + Duration::seconds(window.0),
        base + Duration::seconds(window.1),
    )
    .unwrap();
    let mut spec = KpiSpec::new(window, by.iter().copied());
    spec.targets.insert(service(1), 300);
    spec.targets.insert(service(2), 600);
    let events = script(base, steps);
    Fold::of(spec, events.iter().map(|e| (BRANCH, e))).unwrap()
}

/// Checks the rows of one grouping over the first hour after T0.
fn check(by: GroupBy, steps: &[(i64, Step)], expected: &[Row]) {
    check_in(utc(T0), (0, 3600), by, steps, expected);
}

fn check_in(
    base: DateTime<Utc>,
    window: (i64, i64),
    by: GroupBy,
    steps: &[(i64, Step)],
    expected: &[Row],
) {
    let fold = fold_at(base, window, &[by], steps);
    assert_eq!(fold.ignored(), 0, "every event fits");
    let rows: Vec<Row> = fold.report();
    assert_eq!(rows, expected);
}

#[test]
fn counts_waits_and_nearest_rank_percentiles() {
    // Waits of 60, 120, 180, 240 and 600 s; four served in 300 s each, one no-show.
    check(
        GroupBy::Service,
        &[
            (0, Open(1)),
            (0, Issue(1, 1)),
            (0, Issue(2, 1)),
            (0, Issue(3, 1)),
            (0, Issue(4, 1)),
            (0, Issue(5, 1)),
            (60, Call(1, 1)),
            (60, Start(1, 1)),
            (120, Finish(1, 1)),
            (120, Call(2, 1)),
            (120, Start(2, 1)),
            (180, Finish(2, 1)),
            (180, Call(3, 1)),
            (180, Start(3, 1)),
            (240, Finish(3, 1)),
            (240, Call(4, 1)),
            (240, Start(4, 1)),
            (300, Finish(4, 1)),
            (600, Call(5, 1)),
            (660, NoShow(5, 1)),
        ],
        &[Row {
            arrived: 5,
            called: 5,
            served: 4,
            no_show: 1,
            wait_mean_secs: Some(240.0),
            // Rank ⌈0.5·5⌉ = 3 and ⌈0.9·5⌉ = 5.
            wait_median_secs: Some(180.0),
            wait_p90_secs: Some(600.0),
            wait_max_secs: Some(600.0),
            service_time_mean_secs: Some(60.0),
            // 4 of 5 within 300 s; the 300 s wait is within (≤).
            service_level_pct: Some(80.0),
            busy_secs: 240.0,
            appointments: 0,
            ..blank(s1())
        }],
    );
}

#[test]
fn a_recall_neither_ends_nor_restarts_the_wait() {
    check(
        GroupBy::Service,
        &[
            (0, Issue(1, 1)),
            (100, Call(1, 1)),
            (200, Recall(1, 1)),
            (300, Recall(1, 1)),
            (320, Start(1, 1)),
            (620, Finish(1, 1)),
        ],
        &[Row {
            arrived: 1,
            called: 1,
            served: 1,
            wait_mean_secs: Some(100.0),
            wait_median_secs: Some(100.0),
            wait_p90_secs: Some(100.0),
            wait_max_secs: Some(100.0),
            service_time_mean_secs: Some(300.0),
            service_level_pct: Some(100.0),
            ..blank(s1())
        }],
    );
}

#[test]
fn a_finish_without_start_serves_from_the_call() {
    check(
        GroupBy::Service,
        &[
            (0, Issue(1, 1)),
            (50, Call(1, 1)),
            (80, Recall(1, 1)),
            (250, Finish(1, 1)),
        ],
        &[Row {
            arrived: 1,
            called: 1,
            served: 1,
            wait_mean_secs: Some(50.0),
            wait_median_secs: Some(50.0),
            wait_p90_secs: Some(50.0),
            wait_max_secs: Some(50.0),
            service_time_mean_secs: Some(200.0),
            service_level_pct: Some(100.0),
            ..blank(s1())
        }],
    );
}

#[test]
fn a_resume_starts_a_new_wait() {
    // Called after 60 s, parked during service, resumed at 400, called again 60 s later.
    check(
        GroupBy::Counter,
        &[
            (0, Open(1)),
            (0, Issue(1, 1)),
            (60, Call(1, 1)),
            (70, Start(1, 1)),
            (100, Park(1, 1)),
            (400, Resume(1)),
            (460, Call(1, 1)),
            (470, Start(1, 1)),
            (770, Finish(1, 1)),
            (3000, Close(1)),
        ],
        &[Row {
            called: 2,
            served: 1,
            wait_mean_secs: Some(60.0),
            wait_median_secs: Some(60.0),
            wait_p90_secs: Some(60.0),
            wait_max_secs: Some(60.0),
            service_time_mean_secs: Some(300.0),
            service_level_pct: Some(100.0),
            // Busy 70–100 and 470–770 of 3 000 s open.
            busy_secs: 330.0,
            open_secs: 3000.0,
            utilization_pct: Some(11.0),
            ..blank(Key::Counter(counter(1)))
        }],
    );
}

#[test]
fn transfers_leave_one_service_and_enter_another() {
    check(
        GroupBy::Service,
        &[
            // Ticket 1: called at service 1 after 30 s, sent on to service 2 during its
            // service, called there 150 s later and served.
            (0, Issue(1, 1)),
            (30, Call(1, 1)),
            (40, Start(1, 1)),
            (100, TransferFrom(1, 1, 2)),
            (250, Call(1, 2)),
            (260, Start(1, 2)),
            (560, Finish(1, 2)),
            // Ticket 2: moved while waiting; its first stay gives no wait.
            (0, Issue(2, 1)),
            (50, Transfer(2, 2)),
            (650, Call(2, 2)),
            (700, Finish(2, 2)),
            // Ticket 3: to a counter's personal line, same service: no transfer counted, but a
            // new wait from the transfer.
            (0, Issue(3, 1)),
            (20, Call(3, 1)),
            (40, TransferToCounter(3, 2)),
            (100, Call(3, 2)),
            (160, Finish(3, 2)),
        ],
        &[
            Row {
                arrived: 3,
                called: 3,
                served: 1,
                transferred_out: 2,
                // Ticket 1's 30 s, ticket 3's 20 s and then 60 s.
                wait_mean_secs: Some(110.0 / 3.0),
                wait_median_secs: Some(30.0),
                wait_p90_secs: Some(60.0),
                wait_max_secs: Some(60.0),
                service_time_mean_secs: Some(60.0),
                service_level_pct: Some(100.0),
                ..blank(s1())
            },
            Row {
                transferred_in: 2,
                called: 2,
                served: 2,
                // 150 s and 600 s.
                wait_mean_secs: Some(375.0),
                wait_median_secs: Some(150.0),
                wait_p90_secs: Some(600.0),
                wait_max_secs: Some(600.0),
                service_time_mean_secs: Some(175.0),
                service_level_pct: Some(100.0),
                ..blank(s2())
            },
        ],
    );
}

#[test]
fn cancels_and_no_shows_count_at_the_counter_only_when_it_held_them() {
    let steps = [
        (0, Issue(1, 1)),
        (10, Cancel(1)),
        (0, Issue(2, 1)),
        (30, CallBy(2, 1, 7)),
        (60, Cancel(2)),
        (0, Issue(3, 1)),
        (90, CallBy(3, 1, 7)),
        (150, NoShow(3, 1)),
    ];
    check(
        GroupBy::Service,
        &steps,
        &[Row {
            arrived: 3,
            called: 2,
            cancelled: 2,
            no_show: 1,
            wait_mean_secs: Some(60.0),
            wait_median_secs: Some(30.0),
            wait_p90_secs: Some(90.0),
            wait_max_secs: Some(90.0),
            service_level_pct: Some(100.0),
            ..blank(s1())
        }],
    );
    let at_counter = Row {
        called: 2,
        cancelled: 1,
        no_show: 1,
        wait_mean_secs: Some(60.0),
        wait_median_secs: Some(30.0),
        wait_p90_secs: Some(90.0),
        wait_max_secs: Some(90.0),
        service_level_pct: Some(100.0),
        ..blank(Key::Counter(counter(1)))
    };
    check(GroupBy::Counter, &steps, std::slice::from_ref(&at_counter));
    check(
        GroupBy::Agent,
        &steps,
        &[Row {
            key: Key::Agent(Some(agent(7))),
            ..at_counter
        }],
    );
}

#[test]
fn classes_group_apart() {
    check(
        GroupBy::Class,
        &[
            (0, IssueClass(1, 1, 1)),
            (0, IssueClass(2, 1, 2)),
            (100, Call(2, 1)),
            (400, Finish(2, 1)),
        ],
        &[
            Row {
                arrived: 1,
                ..blank(Key::Class(class(1)))
            },
            Row {
                arrived: 1,
                called: 1,
                served: 1,
                wait_mean_secs: Some(100.0),
                wait_median_secs: Some(100.0),
                wait_p90_secs: Some(100.0),
                wait_max_secs: Some(100.0),
                service_time_mean_secs: Some(300.0),
                service_level_pct: Some(100.0),
                ..blank(Key::Class(class(2)))
            },
        ],
    );
}

#[test]
fn appointments_early_late_and_walked_in() {
    // Appointments at 600 s (tickets 1, 2) and 1 200 s (ticket 3); ticket 4 came too late for
    // its appointment and queues as a walk-in: not counted.
    check(
        GroupBy::All,
        &[
            (0, Book(1, 1, 600)),
            (0, Book(2, 1, 600)),
            (0, Book(3, 1, 1200)),
            (900, LateBook(4, 1, 300)),
            (700, Call(1, 1)), // 100 s late: on time (≤ 300 s)
            (750, Finish(1, 1)),
            (1000, Call(2, 1)), // 400 s late
            (1050, Finish(2, 1)),
            (1100, Call(3, 1)), // 100 s early: on time, lateness 0
            (1150, Finish(3, 1)),
            (1200, Call(4, 1)),
            (1250, Finish(4, 1)),
        ],
        &[Row {
            arrived: 4,
            called: 4,
            served: 4,
            // 700, 1 000, 1 100 and 300 s since issue.
            wait_mean_secs: Some(775.0),
            wait_median_secs: Some(700.0),
            wait_p90_secs: Some(1100.0),
            wait_max_secs: Some(1100.0),
            service_time_mean_secs: Some(50.0),
            service_level_pct: Some(25.0),
            appointments: 3,
            appointments_on_time: 2,
            punctuality_pct: Some(200.0 / 3.0),
            lateness_mean_secs: Some(500.0 / 3.0),
            ..blank(Key::All)
        }],
    );
}

#[test]
fn utilization_excludes_pauses_and_service_through_a_pause() {
    // Counter 1: open 0–600 and 900–1 800 (1 500 s), serving 60–1 200 but busy only while
    // open: 540 + 300 = 840 s. Counter 2 opens at 3 000 and is still open at the window's end.
    let steps = [
        (0, OpenBy(1, 1)),
        (0, Issue(1, 1)),
        (0, Call(1, 1)),
        (60, Start(1, 1)),
        (600, Pause(1)),
        (900, Open(1)), // back from the pause, agent kept
        (1200, Finish(1, 1)),
        (1800, Close(1)),
        (3000, OpenBy(2, 2)),
    ];
    let served = Row {
        called: 1,
        served: 1,
        wait_mean_secs: Some(0.0),
        wait_median_secs: Some(0.0),
        wait_p90_secs: Some(0.0),
        wait_max_secs: Some(0.0),
        // The service time itself runs through the pause.
        service_time_mean_secs: Some(1140.0),
        service_level_pct: Some(100.0),
        busy_secs: 840.0,
        open_secs: 1500.0,
        utilization_pct: Some(56.0),
        ..blank(Key::Agent(Some(agent(1))))
    };
    let idle = Row {
        open_secs: 600.0,
        utilization_pct: Some(0.0),
        ..blank(Key::Agent(Some(agent(2))))
    };
    check(GroupBy::Agent, &steps, &[served.clone(), idle.clone()]);
    check(
        GroupBy::Counter,
        &steps,
        &[
            Row {
                key: Key::Counter(counter(1)),
                ..served.clone()
            },
            Row {
                key: Key::Counter(counter(2)),
                ..idle
            },
        ],
    );
    // A service has busy time but no open time of its own.
    check(
        GroupBy::Service,
        &steps,
        &[Row {
            arrived: 1,
            open_secs: 0.0,
            utilization_pct: None,
            ..Row {
                key: s1(),
                ..served
            }
        }],
    );
    // Clipped to a window from 300 to 1 000: open 300–600 and 900–1 000, busy the same.
    check_in(
        utc(T0),
        (300, 1000),
        GroupBy::Counter,
        &steps,
        &[Row {
            busy_secs: 400.0,
            open_secs: 400.0,
            utilization_pct: Some(100.0),
            ..blank(Key::Counter(counter(1)))
        }],
    );
}

#[test]
fn a_window_counts_what_happened_inside_it() {
    // Issued before the window, called inside it: the wait counts, the arrival does not.
    let fold = fold_at(
        utc(T0),
        (1000, 2000),
        &[GroupBy::All],
        &[
            (0, Issue(1, 1)),
            (1200, Call(1, 1)),
            (2500, Finish(1, 1)),
            (1500, Issue(2, 1)),
        ],
    );
    assert_eq!(
        fold.report(),
        [Row {
            arrived: 1,
            called: 1,
            wait_mean_secs: Some(1200.0),
            wait_median_secs: Some(1200.0),
            wait_p90_secs: Some(1200.0),
            wait_max_secs: Some(1200.0),
            service_level_pct: Some(0.0),
            ..blank(Key::All)
        }]
    );
}

#[test]
fn events_of_unknown_tickets_are_skipped_and_counted() {
    let fold = fold_at(
        utc(T0),
        (0, 3600),
        &[GroupBy::All],
        &[(0, Call(9, 1)), (10, Finish(9, 1)), (0, Issue(1, 1))],
    );
    assert_eq!(fold.ignored(), 2);
    assert_eq!(fold.report()[0].arrived, 1);
}

#[test]
fn hours_of_a_day_when_clocks_go_back() {
    // Berlin, 25 October 2026: 03:00 CEST becomes 02:00 CET at 01:00 UTC, so 02:30 happens
    // twice (00:30 and 01:30 UTC).
    let base = utc("2026-10-25T00:00:00Z");
    let by = GroupBy::HourOfDay(Tz::Europe__Berlin);
    check_in(
        base,
        (0, 86_400),
        by,
        &[
            (0, Open(1)),
            (1800, Issue(1, 1)),
            (5400, Issue(2, 1)),
            (7200, Close(1)),
        ],
        &[Row {
            arrived: 2,
            // Two real hours open, both in the local hour 2.
            open_secs: 7200.0,
            utilization_pct: Some(0.0),
            ..blank(Key::HourOfDay(2))
        }],
    );
}

#[test]
fn hours_of_a_day_when_clocks_go_forward() {
    // Berlin, 29 March 2026: 02:00 CET becomes 03:00 CEST at 01:00 UTC; there is no hour 2.
    let base = utc("2026-03-29T00:00:00Z");
    let by = GroupBy::HourOfDay(Tz::Europe__Berlin);
    check_in(
        base,
        (0, 86_400),
        by,
        &[
            (0, Open(1)),
            (3599, Issue(1, 1)),
            (3600, Issue(2, 1)),
            (7200, Close(1)),
        ],
        &[
            Row {
                arrived: 1,
                open_secs: 3600.0,
                utilization_pct: Some(0.0),
                ..blank(Key::HourOfDay(1))
            },
            Row {
                arrived: 1,
                open_secs: 3600.0,
                utilization_pct: Some(0.0),
                ..blank(Key::HourOfDay(3))
            },
        ],
    );
}

#[test]
fn days_and_weekdays_are_local() {
    // 23:30 UTC on Sunday 4 January is 00:30 on Monday the 5th in Berlin.
    let base = utc("2026-01-04T23:00:00Z");
    let steps = [(1800, Issue(1, 1)), (0, Issue(2, 1))];
    let fold = fold_at(
        base,
        (0, 3600),
        &[
            GroupBy::Day(Tz::Europe__Berlin),
            GroupBy::Weekday(Tz::Europe__Berlin),
        ],
        &steps,
    );
    let keys: Vec<(Key, u64)> = fold.report().iter().map(|r| (r.key, r.arrived)).collect();
    let d = |s: &str| Key::Day(s.parse().unwrap());
    assert_eq!(
        keys,
        [
            (d("2026-01-05"), 2),
            // Both are on Monday (1) in Berlin.
            (Key::Weekday(1), 2),
        ]
    );
    let utc_days = fold_at(base, (0, 3600), &[GroupBy::Day(Tz::UTC)], &steps);
    let keys: Vec<(Key, u64)> = utc_days
        .report()
        .iter()
        .map(|r| (r.key, r.arrived))
        .collect();
    assert_eq!(keys, [(d("2026-01-04"), 2)]);
}

#[test]
fn several_groupings_in_one_pass_and_branch_rows() {
    let fold = fold_at(
        utc(T0),
        (0, 3600),
        &[GroupBy::Branch, GroupBy::Service, GroupBy::All],
        &[(0, Issue(1, 1)), (0, Issue(2, 2)), (30, Call(2, 1))],
    );
    let keys: Vec<(Key, u64, u64)> = fold
        .report()
        .iter()
        .map(|r| (r.key, r.arrived, r.called))
        .collect();
    assert_eq!(
        keys,
        [
            (Key::All, 2, 1),
            (Key::Branch(BRANCH), 2, 1),
            (s1(), 1, 0),
            (s2(), 1, 1),
        ]
    );
}

#[test]
fn folds_serialize_and_read_back() {
    let fold = fold_at(
        utc(T0),
        (0, 3600),
        &[GroupBy::Service, GroupBy::HourOfDay(Tz::Asia__Tehran)],
        &[(0, Open(1)), (0, Issue(1, 1)), (30, Call(1, 1))],
    );
    let json = serde_json::to_string(&fold).unwrap();
    let back: Fold = serde_json::from_str(&json).unwrap();
    assert_eq!(back, fold);
    let row = serde_json::to_value(&fold.report()[0]).unwrap();
    assert_eq!(row["key"]["by"], "service");
}

#[test]
fn stored_events_are_decoded() {
    use cem_core::RecordedEvent;
    use cem_report::ReportError;

    let events = script(utc(T0), &[(0, Issue(1, 1)), (60, Call(1, 1))]);
    let stored = |i: usize, e: &cem_queue::QueueEvent| RecordedEvent {
        branch: BRANCH,
        version: i as u64 + 1,
        position: i as u64 + 1,
        at: e.at(),
        kind: e.kind().into(),
        payload: serde_json::to_value(e).unwrap(),
    };
    let window = Window::new(utc(T0), utc(T0) + Duration::hours(1)).unwrap();
    let mut fold = Fold::new(KpiSpec::new(window, [GroupBy::All])).unwrap();
    for (i, e) in events.iter().enumerate() {
        fold.apply_recorded(&stored(i, e)).unwrap();
    }
    assert_eq!(fold.report()[0].wait_max_secs, Some(60.0));
    let mut corrupt = stored(2, &events[0]);
    corrupt.payload = serde_json::json!({"type": "nonsense"});
    assert!(matches!(
        fold.apply_recorded(&corrupt),
        Err(ReportError::Decode(_))
    ));
}
