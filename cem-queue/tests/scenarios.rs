//! Scenario tests: each rule of the queue as a script of commands and the expected outcome.

use cem_core::chrono::{DateTime, Duration, Utc};
use cem_core::{BranchConfig, CallingPolicy, ClassId, CounterId, ServiceId, TicketId};
use cem_queue::testing::{NORMAL, VIP, branch_config, counter_id, service_id};
use cem_queue::{
    BranchQueue, CallReason, Command, IssueTicket, LinePosition, QueueEvent, TicketSource,
    TicketState, TransferTarget,
};

/// A ticket id from a short name, so scripts read as data.
fn t(name: &str) -> TicketId {
    let mut h: u128 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h = (h ^ u128::from(b)).wrapping_mul(0x1000_0000_01b3);
    }
    TicketId::from_u128(h)
}

fn start() -> DateTime<Utc> {
    "2026-11-30T08:00:00Z".parse().unwrap()
}

/// What a step expects.
#[derive(Debug)]
enum Expect {
    /// The command succeeds.
    Ok,
    /// The command calls this ticket (by name).
    Calls(&'static str),
    /// The command calls this ticket for this reason.
    CallsFor(&'static str, CallReason),
    /// The command is refused with this error code.
    Err(&'static str),
}

struct Step {
    /// Seconds after the start.
    at: i64,
    command: Command,
    expect: Expect,
}

fn issue(name: &str, service: usize, class: ClassId) -> Command {
    Command::Issue(IssueTicket {
        ticket: t(name),
        service: service_id(service),
        class: Some(class),
        source: TicketSource::Kiosk,
        customer: None,
        appointment_at: None,
    })
}

fn appointment(name: &str, service: usize, class: ClassId, at_secs: i64) -> Command {
    Command::Issue(IssueTicket {
        ticket: t(name),
        service: service_id(service),
        class: Some(class),
        source: TicketSource::Reservation,
        customer: None,
        appointment_at: Some(start() + Duration::seconds(at_secs)),
    })
}

fn open(counter: usize) -> Command {
    Command::OpenCounter {
        counter: counter_id(counter),
        agent: None,
    }
}

fn next(counter: usize) -> Command {
    Command::CallNext {
        counter: counter_id(counter),
    }
}

fn finish(counter: usize) -> Command {
    Command::Finish {
        counter: counter_id(counter),
    }
}

fn step(at: i64, command: Command, expect: Expect) -> Step {
    Step {
        at,
        command,
        expect,
    }
}

/// Runs the script; checks each step, then that replaying the events rebuilds the final state.
fn run(config: BranchConfig, script: Vec<Step>) -> BranchQueue {
    let mut queue = BranchQueue::new(config.clone()).unwrap();
    let mut stream: Vec<QueueEvent> = Vec::new();
    for (i, s) in script.into_iter().enumerate() {
        let before = queue.clone();
        let result = queue.handle(&s.command, start() + Duration::seconds(s.at));
        let called = |events: &[QueueEvent]| {
            events.iter().find_map(|e| match e {
                QueueEvent::TicketCalled { ticket, reason, .. } => Some((*ticket, *reason)),
                _ => None,
            })
        };
        match (&s.expect, &result) {
            (Expect::Ok, Ok(_)) => {}
            (Expect::Calls(name), Ok(events)) => {
                assert_eq!(
                    called(events).map(|c| c.0),
                    Some(t(name)),
                    "step {i}: {:?}",
                    s.command
                )
            }
            (Expect::CallsFor(name, reason), Ok(events)) => assert_eq!(
                called(events),
                Some((t(name), *reason)),
                "step {i}: {:?}",
                s.command
            ),
            (Expect::Err(code), Err(e)) => {
                assert_eq!(e.code(), *code, "step {i}: {e}");
                assert_eq!(
                    queue, before,
                    "step {i}: a refused command changed the state"
                );
            }
            (expect, got) => panic!("step {i}: {:?} expected {expect:?}, got {got:?}", s.command),
        }
        if let Ok(events) = result {
            stream.extend(events);
        }
    }
    assert_eq!(
        BranchQueue::replay(config, &stream).unwrap(),
        queue,
        "replay differs"
    );
    queue
}

fn with_policy(mut config: BranchConfig, policy: CallingPolicy) -> BranchConfig {
    for c in &mut config.counters {
        c.profile.policy = policy;
    }
    config
}

#[test]
fn display_numbers_count_per_service_and_restart_each_business_day() {
    let q = run(
        branch_config(2, 1),
        vec![
            step(0, issue("a1", 0, NORMAL), Expect::Ok),
            step(1, issue("a2", 0, NORMAL), Expect::Ok),
            step(2, issue("b1", 1, VIP), Expect::Ok),
            // 2026-11-30T23:30Z is 00:30 on December 1st in Berlin: a new business day.
            step(15 * 3600 + 1800, issue("a3", 0, NORMAL), Expect::Ok),
        ],
    );
    let display = |n| q.ticket(t(n)).unwrap().display.clone();
    assert_eq!(display("a1"), "A-001");
    assert_eq!(display("a2"), "A-002");
    assert_eq!(display("b1"), "B-001");
    assert_eq!(display("a3"), "A-001");
}

#[test]
fn daily_cap_refuses_the_ticket_past_it() {
    let mut config = branch_config(1, 1);
    config.services[0].daily_cap = Some(2);
    run(
        config,
        vec![
            step(0, issue("1", 0, NORMAL), Expect::Ok),
            step(1, issue("2", 0, NORMAL), Expect::Ok),
            step(2, issue("3", 0, NORMAL), Expect::Err("daily_cap_reached")),
            step(3, issue("2", 0, NORMAL), Expect::Err("ticket_exists")),
        ],
    );
}

#[test]
fn strict_serves_vip_first_then_arrival_order() {
    run(
        branch_config(1, 1),
        vec![
            step(0, open(0), Expect::Ok),
            step(1, issue("n1", 0, NORMAL), Expect::Ok),
            step(2, issue("n2", 0, NORMAL), Expect::Ok),
            step(3, issue("v1", 0, VIP), Expect::Ok),
            step(4, next(0), Expect::Calls("v1")),
            step(5, next(0), Expect::Err("counter_busy")),
            step(6, finish(0), Expect::Ok),
            step(7, next(0), Expect::Calls("n1")),
            step(8, finish(0), Expect::Ok),
            step(9, next(0), Expect::Calls("n2")),
            step(10, finish(0), Expect::Ok),
            step(11, next(0), Expect::Err("nothing_to_call")),
        ],
    );
}

#[test]
fn interleave_alternates_two_vip_to_one_normal() {
    let mut script = vec![step(0, open(0), Expect::Ok)];
    for i in 0..6 {
        script.push(step(1, issue(&format!("v{i}"), 0, VIP), Expect::Ok));
        script.push(step(1, issue(&format!("n{i}"), 0, NORMAL), Expect::Ok));
    }
    let order = ["v0", "n0", "v1", "v2", "n1", "v3", "v4", "n2", "v5"];
    for (i, name) in order.iter().enumerate() {
        script.push(step(10 + 2 * i as i64, next(0), Expect::Calls(name)));
        script.push(step(11 + 2 * i as i64, finish(0), Expect::Ok));
    }
    run(
        with_policy(branch_config(1, 1), CallingPolicy::Interleave),
        script,
    );
}

#[test]
fn interleave_gives_no_burst_to_a_class_that_was_absent() {
    let mut script = vec![step(0, open(0), Expect::Ok)];
    // Ten normal customers served while no VIP was there.
    for i in 0..10 {
        script.push(step(i, issue(&format!("n{i}"), 0, NORMAL), Expect::Ok));
        script.push(step(
            i,
            next(0),
            Expect::Calls(Box::leak(format!("n{i}").into_boxed_str())),
        ));
        script.push(step(i, finish(0), Expect::Ok));
    }
    // Then both classes wait. The returning VIP class re-enters at the counter's virtual time:
    // it gets one call of credit (three in a row instead of two), then the 2:1 pattern, never
    // the ten calls it "missed".
    for i in 0..4 {
        script.push(step(20, issue(&format!("v{i}"), 0, VIP), Expect::Ok));
        script.push(step(20, issue(&format!("m{i}"), 0, NORMAL), Expect::Ok));
    }
    for name in ["v0", "v1", "v2", "m0", "v3", "m1"] {
        script.push(step(30, next(0), Expect::Calls(name)));
        script.push(step(30, finish(0), Expect::Ok));
    }
    run(
        with_policy(branch_config(1, 1), CallingPolicy::Interleave),
        script,
    );
}

#[test]
fn weighted_wait_lets_a_long_waiting_normal_pass_a_fresh_vip() {
    run(
        with_policy(branch_config(1, 1), CallingPolicy::WeightedWait),
        vec![
            step(0, open(0), Expect::Ok),
            step(0, issue("n1", 0, NORMAL), Expect::Ok),
            // At 600 s: normal scores 1 × 601, VIP 2 × 201: the normal goes first.
            step(400, issue("v1", 0, VIP), Expect::Ok),
            step(600, next(0), Expect::Calls("n1")),
            step(601, finish(0), Expect::Ok),
            step(601, issue("n2", 0, NORMAL), Expect::Ok),
            step(602, next(0), Expect::Calls("v1")),
        ],
    );
}

#[test]
fn escalation_past_max_wait_beats_every_class() {
    let mut config = branch_config(2, 1);
    config.services[1].max_wait_secs = Some(900);
    run(
        config,
        vec![
            step(0, open(0), Expect::Ok),
            step(0, issue("b-normal", 1, NORMAL), Expect::Ok),
            step(100, issue("a-vip", 0, VIP), Expect::Ok),
            step(800, next(0), Expect::CallsFor("a-vip", CallReason::Policy)),
            step(801, finish(0), Expect::Ok),
            step(850, issue("a-vip2", 0, VIP), Expect::Ok),
            step(
                900,
                next(0),
                Expect::CallsFor("b-normal", CallReason::Escalated),
            ),
        ],
    );
}

#[test]
fn service_rank_decides_between_services_then_longest_wait() {
    let mut config = branch_config(3, 1);
    // Counter 1: service C is its first choice; A and B share rank 2.
    for p in &mut config.counters[0].profile.services {
        p.rank = if p.service == service_id(2) { 1 } else { 2 };
    }
    run(
        config,
        vec![
            step(0, open(0), Expect::Ok),
            step(1, issue("b1", 1, NORMAL), Expect::Ok),
            step(2, issue("a1", 0, NORMAL), Expect::Ok),
            step(3, issue("c1", 2, NORMAL), Expect::Ok),
            step(4, next(0), Expect::Calls("c1")),
            step(5, finish(0), Expect::Ok),
            step(6, next(0), Expect::Calls("b1")),
            step(7, finish(0), Expect::Ok),
            step(8, next(0), Expect::Calls("a1")),
        ],
    );
}

#[test]
fn vip_only_counter_never_calls_normal_tickets() {
    let mut config = branch_config(1, 2);
    config.counters[0].profile.classes = Some(vec![VIP]);
    run(
        config,
        vec![
            step(0, open(0), Expect::Ok),
            step(0, open(1), Expect::Ok),
            step(1, issue("n1", 0, NORMAL), Expect::Ok),
            step(2, next(0), Expect::Err("nothing_to_call")),
            step(
                3,
                Command::Call {
                    counter: counter_id(0),
                    ticket: t("n1"),
                },
                Expect::Err("not_served_by_counter"),
            ),
            step(4, issue("v1", 0, VIP), Expect::Ok),
            step(5, next(0), Expect::Calls("v1")),
            step(6, next(1), Expect::Calls("n1")),
        ],
    );
}

#[test]
fn appointments_are_due_from_the_early_window_and_precede_walkins_of_their_class() {
    // Early window and grace: 10 minutes each (the defaults).
    run(
        branch_config(1, 1),
        vec![
            step(0, open(0), Expect::Ok),
            step(0, issue("walkin", 0, NORMAL), Expect::Ok),
            // Checked in 30 minutes before a 09:00 appointment: not yet eligible.
            step(60, appointment("appt-0900", 0, NORMAL, 3600), Expect::Ok),
            step(120, appointment("appt-0850", 0, NORMAL, 3000), Expect::Ok),
            step(600, next(0), Expect::CallsFor("walkin", CallReason::Policy)),
            step(601, finish(0), Expect::Ok),
            step(700, issue("walkin2", 0, NORMAL), Expect::Ok),
            // 08:41: the 08:50 appointment is inside its early window.
            step(
                2460,
                next(0),
                Expect::CallsFor("appt-0850", CallReason::Appointment),
            ),
            step(2461, finish(0), Expect::Ok),
            step(
                2462,
                next(0),
                Expect::CallsFor("walkin2", CallReason::Policy),
            ),
            step(2463, finish(0), Expect::Ok),
            step(2464, next(0), Expect::Err("nothing_to_call")),
            step(
                3000,
                next(0),
                Expect::CallsFor("appt-0900", CallReason::Appointment),
            ),
        ],
    );
}

#[test]
fn a_late_appointment_queues_as_a_walkin_from_check_in() {
    let q = run(
        branch_config(1, 1),
        vec![
            step(0, open(0), Expect::Ok),
            step(10, issue("walkin", 0, NORMAL), Expect::Ok),
            // Appointment at 08:00, checked in at 08:15: past the 10 minute grace.
            step(900, appointment("late", 0, NORMAL, 0), Expect::Ok),
            step(901, next(0), Expect::Calls("walkin")),
            step(902, finish(0), Expect::Ok),
            step(903, next(0), Expect::CallsFor("late", CallReason::Policy)),
        ],
    );
    assert_eq!(q.ticket(t("late")).unwrap().lane, cem_queue::Lane::Walkin);
}

#[test]
fn appointments_need_a_service_that_takes_them() {
    let mut config = branch_config(1, 1);
    config.services[0].takes_appointments = false;
    run(
        config,
        vec![step(
            0,
            appointment("x", 0, NORMAL, 60),
            Expect::Err("appointments_not_accepted"),
        )],
    );
}

#[test]
fn recall_past_the_limit_is_a_no_show() {
    let recall = Command::Recall {
        counter: counter_id(0),
    };
    let q = run(
        branch_config(1, 1),
        vec![
            step(0, open(0), Expect::Ok),
            step(0, issue("x", 0, NORMAL), Expect::Ok),
            step(1, next(0), Expect::Calls("x")),
            step(2, recall.clone(), Expect::Ok),
            step(3, recall.clone(), Expect::Ok),
            step(4, recall.clone(), Expect::Ok),
            step(5, recall, Expect::Err("counter_idle")),
        ],
    );
    let x = q.ticket(t("x")).unwrap();
    assert_eq!(x.state, TicketState::NoShow);
    assert_eq!(x.recalls, 2);
    assert_eq!(q.counter(counter_id(0)).unwrap().ticket, None);
}

#[test]
fn lifecycle_start_finish_no_show_cancel() {
    let c = counter_id(0);
    let q = run(
        branch_config(1, 1),
        vec![
            step(0, next(0), Expect::Err("counter_not_open")),
            step(0, open(0), Expect::Ok),
            step(0, open(0), Expect::Err("counter_already")),
            step(0, issue("a", 0, NORMAL), Expect::Ok),
            step(0, issue("b", 0, NORMAL), Expect::Ok),
            step(0, issue("c", 0, NORMAL), Expect::Ok),
            step(
                1,
                Command::Start { counter: c },
                Expect::Err("counter_idle"),
            ),
            step(1, next(0), Expect::Calls("a")),
            step(2, Command::Start { counter: c }, Expect::Ok),
            step(
                3,
                Command::Start { counter: c },
                Expect::Err("invalid_ticket_state"),
            ),
            step(
                3,
                Command::NoShow { counter: c },
                Expect::Err("invalid_ticket_state"),
            ),
            step(
                3,
                Command::CloseCounter { counter: c },
                Expect::Err("counter_busy"),
            ),
            step(300, finish(0), Expect::Ok),
            step(301, next(0), Expect::Calls("b")),
            step(302, Command::NoShow { counter: c }, Expect::Ok),
            step(303, Command::Cancel { ticket: t("c") }, Expect::Ok),
            step(
                304,
                Command::Cancel { ticket: t("c") },
                Expect::Err("invalid_ticket_state"),
            ),
            step(
                304,
                Command::Cancel { ticket: t("zz") },
                Expect::Err("ticket_not_found"),
            ),
            step(305, next(0), Expect::Err("nothing_to_call")),
            step(306, Command::CloseCounter { counter: c }, Expect::Ok),
        ],
    );
    assert_eq!(q.ticket(t("a")).unwrap().state, TicketState::Done);
    assert_eq!(q.ticket(t("b")).unwrap().state, TicketState::NoShow);
    assert_eq!(q.ticket(t("c")).unwrap().state, TicketState::Cancelled);
    // The configured 300 s counts as one observation; 298 s of service makes the mean 299 s.
    let mean = q.mean_service_secs(service_id(0)).unwrap();
    assert!((mean - 299.0).abs() < 1e-9, "{mean}");
}

#[test]
fn park_and_resume_first_in_line() {
    let c = counter_id(0);
    run(
        branch_config(1, 1),
        vec![
            step(0, open(0), Expect::Ok),
            step(0, issue("a", 0, NORMAL), Expect::Ok),
            step(0, issue("b", 0, NORMAL), Expect::Ok),
            step(0, issue("c", 0, NORMAL), Expect::Ok),
            step(1, next(0), Expect::Calls("a")),
            step(2, Command::Park { counter: c }, Expect::Ok),
            step(3, next(0), Expect::Calls("b")),
            step(
                4,
                Command::Resume {
                    ticket: t("a"),
                    position: LinePosition::First,
                },
                Expect::Ok,
            ),
            step(
                5,
                Command::Resume {
                    ticket: t("a"),
                    position: LinePosition::First,
                },
                Expect::Err("invalid_ticket_state"),
            ),
            step(6, finish(0), Expect::Ok),
            step(7, next(0), Expect::Calls("a")),
            step(8, finish(0), Expect::Ok),
            step(9, next(0), Expect::Calls("c")),
        ],
    );
}

#[test]
fn transfers_to_a_service_first_or_last_and_to_a_counter() {
    let c0 = counter_id(0);
    let mut config = branch_config(2, 2);
    // Counter 2 serves only service B.
    config.counters[1]
        .profile
        .services
        .retain(|p| p.service == service_id(1));
    let q = run(
        config,
        vec![
            step(0, open(0), Expect::Ok),
            step(0, open(1), Expect::Ok),
            step(0, issue("a1", 0, NORMAL), Expect::Ok),
            step(0, issue("b1", 1, NORMAL), Expect::Ok),
            step(0, issue("b2", 1, NORMAL), Expect::Ok),
            step(1, next(0), Expect::Calls("a1")),
            step(2, Command::Start { counter: c0 }, Expect::Ok),
            // After service A, the customer needs service B: straight to the head of its line.
            step(
                3,
                Command::Transfer {
                    ticket: t("a1"),
                    to: TransferTarget::Service(service_id(1)),
                    position: LinePosition::First,
                },
                Expect::Ok,
            ),
            step(4, next(1), Expect::Calls("a1")),
            // Then to counter 1 personally, which calls it before anything else.
            step(
                5,
                Command::Transfer {
                    ticket: t("a1"),
                    to: TransferTarget::Counter(c0),
                    position: LinePosition::Last,
                },
                Expect::Ok,
            ),
            step(6, next(1), Expect::Calls("b1")),
            step(7, next(0), Expect::CallsFor("a1", CallReason::Personal)),
            // A waiting ticket moved to the tail of another line.
            step(
                8,
                Command::Transfer {
                    ticket: t("b2"),
                    to: TransferTarget::Service(service_id(0)),
                    position: LinePosition::Last,
                },
                Expect::Ok,
            ),
            step(
                9,
                Command::Transfer {
                    ticket: t("b2"),
                    to: TransferTarget::Counter(CounterId::from_u128(9)),
                    position: LinePosition::Last,
                },
                Expect::Err("unknown_counter"),
            ),
            step(
                10,
                Command::Transfer {
                    ticket: t("b2"),
                    to: TransferTarget::Service(ServiceId::from_u128(9)),
                    position: LinePosition::Last,
                },
                Expect::Err("unknown_service"),
            ),
            step(11, finish(0), Expect::Ok),
            step(12, next(0), Expect::Calls("b2")),
        ],
    );
    let a1 = q.ticket(t("a1")).unwrap();
    assert_eq!((a1.transfers, a1.service), (2, service_id(1)));
    assert_eq!(q.ticket(t("b2")).unwrap().service, service_id(0));
}

#[test]
fn call_a_specific_ticket_out_of_order() {
    run(
        branch_config(1, 1),
        vec![
            step(0, open(0), Expect::Ok),
            step(0, issue("a", 0, NORMAL), Expect::Ok),
            step(0, issue("b", 0, NORMAL), Expect::Ok),
            step(
                1,
                Command::Call {
                    counter: counter_id(0),
                    ticket: t("b"),
                },
                Expect::CallsFor("b", CallReason::Specific),
            ),
            step(2, finish(0), Expect::Ok),
            step(
                3,
                Command::Call {
                    counter: counter_id(0),
                    ticket: t("b"),
                },
                Expect::Err("invalid_ticket_state"),
            ),
            step(4, next(0), Expect::Calls("a")),
        ],
    );
}

#[test]
fn paused_counters_call_nobody_and_keep_their_agent() {
    let c = counter_id(0);
    let agent = cem_core::AgentId::from_u128(7);
    let q = run(
        branch_config(1, 1),
        vec![
            step(
                0,
                Command::OpenCounter {
                    counter: c,
                    agent: Some(agent),
                },
                Expect::Ok,
            ),
            step(0, issue("a", 0, NORMAL), Expect::Ok),
            step(1, Command::PauseCounter { counter: c }, Expect::Ok),
            step(2, next(0), Expect::Err("counter_not_open")),
            step(3, open(0), Expect::Ok),
            step(4, next(0), Expect::Calls("a")),
        ],
    );
    assert_eq!(q.counter(c).unwrap().agent, Some(agent));
}

#[test]
fn closed_branch_refuses_kiosk_tickets_but_not_staff() {
    use cem_core::chrono::{NaiveTime, Weekday};
    let mut config = branch_config(1, 1);
    config.branch.opening_hours = cem_core::OpeningHours::weekly(
        &[Weekday::Mon],
        NaiveTime::from_hms_opt(10, 0, 0).unwrap(),
        NaiveTime::from_hms_opt(16, 0, 0).unwrap(),
    );
    let mut staff = issue("s", 0, NORMAL);
    if let Command::Issue(req) = &mut staff {
        req.source = TicketSource::Staff;
    }
    // Monday 08:00 UTC is 09:00 in Berlin: closed until 10:00.
    run(
        config,
        vec![
            step(0, issue("k", 0, NORMAL), Expect::Err("branch_closed")),
            step(0, staff, Expect::Ok),
            step(3600, issue("k", 0, NORMAL), Expect::Ok),
        ],
    );
}

#[test]
fn a_clock_running_backwards_never_reorders_the_stream() {
    let q = run(
        branch_config(1, 1),
        vec![
            step(100, issue("a", 0, NORMAL), Expect::Ok),
            step(50, issue("b", 0, NORMAL), Expect::Ok),
        ],
    );
    assert_eq!(
        q.ticket(t("b")).unwrap().issued_at,
        start() + Duration::seconds(100)
    );
}

#[test]
fn replay_refuses_an_inconsistent_stream() {
    let config = branch_config(1, 1);
    let bogus = QueueEvent::TicketCalled {
        ticket: t("ghost"),
        counter: counter_id(0),
        agent: None,
        reason: CallReason::Policy,
        at: start(),
    };
    let err = BranchQueue::replay(config, &[bogus]).unwrap_err();
    assert_eq!(err.code(), "ticket_not_found");
}

#[test]
fn estimates_grow_with_position_and_shrink_with_open_counters() {
    let mut q = BranchQueue::new(branch_config(1, 2)).unwrap();
    let now = start();
    for i in 0..6 {
        q.handle(&issue(&format!("n{i}"), 0, NORMAL), now).unwrap();
    }
    assert_eq!(
        q.estimate(t("n0"), now).unwrap().wait_secs,
        None,
        "no counter open"
    );
    q.handle(&open(0), now).unwrap();
    q.handle(&next(0), now).unwrap();
    // One counter, busy, 300 s mean: n1 waits one turn, n5 five.
    let one: Vec<f64> = (1..6)
        .map(|i| {
            q.estimate(t(&format!("n{i}")), now)
                .unwrap()
                .wait_secs
                .unwrap()
        })
        .collect();
    assert_eq!(one, [300.0, 600.0, 900.0, 1200.0, 1500.0]);
    q.handle(&open(1), now).unwrap();
    q.handle(&next(1), now).unwrap();
    let two = q.estimate(t("n5"), now).unwrap();
    assert_eq!((two.ahead, two.counters), (3, 2));
    assert_eq!(two.wait_secs, Some(600.0));
    // The batch refresh agrees with the one-by-one estimates.
    let all = q.estimates(now);
    assert_eq!(all.len(), 4);
    for e in all {
        assert_eq!(Some(&e), q.estimate(e.ticket, now).as_ref());
    }
}

#[test]
fn estimates_count_better_classes_under_strict() {
    let mut q = BranchQueue::new(branch_config(2, 1)).unwrap();
    let now = start();
    q.handle(&open(0), now).unwrap();
    q.handle(&issue("n0", 0, NORMAL), now).unwrap();
    q.handle(&next(0), now).unwrap();
    q.handle(&issue("n1", 0, NORMAL), now).unwrap();
    q.handle(&issue("nb", 1, NORMAL), now + Duration::seconds(1))
        .unwrap();
    q.handle(&issue("v1", 1, VIP), now + Duration::seconds(2))
        .unwrap();
    let now = now + Duration::seconds(2);
    assert_eq!(q.estimate(t("v1"), now).unwrap().ahead, 0);
    assert_eq!(q.estimate(t("n1"), now).unwrap().ahead, 1);
    // Behind the VIP and the older normal ticket of service A.
    assert_eq!(q.estimate(t("nb"), now).unwrap().ahead, 2);
    let all = q.estimates(now);
    for e in all {
        assert_eq!(Some(&e), q.estimate(e.ticket, now).as_ref());
    }
}

#[test]
fn estimates_survive_a_business_day_change_with_cancelled_tickets_mid_line() {
    // Regression: tickets cancelled in the middle of a line leave stale entries; the business
    // day change frees their records, and estimates then read an empty slot and panicked.
    let mut q = BranchQueue::new(branch_config(2, 1)).unwrap();
    let now = start();
    q.handle(&open(0), now).unwrap();
    for i in 0..4 {
        q.handle(&issue(&format!("a{i}"), 0, NORMAL), now).unwrap();
    }
    q.handle(&issue("b0", 1, NORMAL), now + Duration::seconds(1))
        .unwrap();
    q.handle(&Command::Cancel { ticket: t("a1") }, now).unwrap();
    q.handle(&Command::Cancel { ticket: t("a2") }, now).unwrap();
    let tomorrow = now + Duration::days(1);
    q.handle(&issue("next-day", 0, NORMAL), tomorrow).unwrap();
    assert!(
        q.ticket(t("a1")).is_none(),
        "finished tickets leave with the day"
    );
    let all = q.estimates(tomorrow);
    assert_eq!(all.len(), 4);
    for e in &all {
        assert_eq!(Some(e), q.estimate(e.ticket, tomorrow).as_ref());
    }
    // b0 waits behind the two older tickets of service A that are still there.
    assert_eq!(q.estimate(t("b0"), tomorrow).unwrap().ahead, 2);
}
