//! Properties over random event histories, produced by the real queue from random commands:
//! the incremental cube equals a full recompute, and folds (and cubes) merge associatively
//! into the fold of everything.

use std::collections::BTreeMap;

use cem_core::chrono::{DateTime, Duration, Utc};
use cem_core::chrono_tz::Tz;
use cem_core::{AgentId, BranchConfig, BranchId, TicketId};
use cem_queue::testing::{NORMAL, VIP, branch_config, counter_id, service_id};
use cem_queue::{BranchQueue, IssueTicket, LinePosition, QueueEvent, TicketSource, TransferTarget};
use cem_report::{
    Counts, CubeBy, CubeSpec, Fold, GroupBy, HourCube, Key, KpiSpec, Row, WaitHistogram, Window,
};
use proptest::prelude::*;

/// A command to try; refused ones are skipped.
#[derive(Debug, Clone)]
enum Op {
    Issue {
        service: usize,
        vip: bool,
        appointment: Option<i64>,
    },
    Call(usize),
    Recall(usize),
    Start(usize),
    Finish(usize),
    NoShow(usize),
    Park(usize),
    Cancel(usize),
    Resume(usize),
    TransferToService(usize, usize),
    TransferToCounter(usize, usize),
    Open(usize, Option<u8>),
    Pause(usize),
    Close(usize),
}

fn op() -> impl Strategy<Value = Op> {
    let k = 0..2usize;
    let t = 0..64usize;
    prop_oneof![
        4 => (0..2usize, any::<bool>(), prop::option::of(-1800..3600i64)).prop_map(
            |(service, vip, appointment)| Op::Issue { service, vip, appointment }
        ),
        4 => k.clone().prop_map(Op::Call),
        1 => k.clone().prop_map(Op::Recall),
        3 => k.clone().prop_map(Op::Start),
        4 => k.clone().prop_map(Op::Finish),
        1 => k.clone().prop_map(Op::NoShow),
        2 => k.clone().prop_map(Op::Park),
        1 => t.clone().prop_map(Op::Cancel),
        3 => t.clone().prop_map(Op::Resume),
        1 => (t.clone(), 0..2usize).prop_map(|(t, s)| Op::TransferToService(t, s)),
        1 => (t, k.clone()).prop_map(|(t, c)| Op::TransferToCounter(t, c)),
        2 => (k.clone(), prop::option::of(0..3u8)).prop_map(|(c, a)| Op::Open(c, a)),
        1 => k.clone().prop_map(Op::Pause),
        1 => k.prop_map(Op::Close),
    ]
}

/// A script: steps of (seconds later, command).
fn steps() -> impl Strategy<Value = Vec<(i64, Op)>> {
    prop::collection::vec((0..300i64, op()), 0..120)
}

/// Half an hour before midnight in Berlin, the night clocks go back (at 01:00 UTC), so
/// histories cross midnight and often the repeated hour.
fn start() -> DateTime<Utc> {
    "2026-10-24T21:30:00Z".parse().unwrap()
}

fn config(b: u128) -> BranchConfig {
    let mut c = branch_config(2, 2);
    c.branch.id = BranchId::from_u128(b);
    c
}

/// The events the queue of branch `b` stores for a script.
fn history(b: u128, steps: &[(i64, Op)]) -> Vec<QueueEvent> {
    let mut q = BranchQueue::new(config(b)).unwrap();
    let mut now = start();
    let mut tickets: Vec<TicketId> = Vec::new();
    let mut out = Vec::new();
    let pick = |tickets: &[TicketId], i: usize| tickets.get(i % tickets.len().max(1)).copied();
    for (dt, op) in steps {
        now += Duration::seconds(*dt);
        let k = |i: &usize| counter_id(*i);
        let r = match op {
            Op::Issue {
                service,
                vip,
                appointment,
            } => {
                let id = TicketId::from_u128(b << 64 | tickets.len() as u128);
                tickets.push(id);
                q.issue(
                    IssueTicket {
                        ticket: id,
                        service: service_id(*service),
                        class: Some(if *vip { VIP } else { NORMAL }),
                        source: TicketSource::Kiosk,
                        customer: None,
                        appointment_at: appointment.map(|a| now + Duration::seconds(a)),
                    },
                    now,
                )
            }
            Op::Call(c) => q.call_next(k(c), now),
            Op::Recall(c) => q.recall(k(c), now),
            Op::Start(c) => q.start(k(c), now),
            Op::Finish(c) => q.finish(k(c), now),
            Op::NoShow(c) => q.no_show(k(c), now),
            Op::Park(c) => q.park(k(c), now),
            Op::Cancel(t) => match pick(&tickets, *t) {
                Some(t) => q.cancel(t, now),
                None => continue,
            },
            Op::Resume(t) => match pick(&tickets, *t) {
                Some(t) => q.resume(t, LinePosition::Last, now),
                None => continue,
            },
            Op::TransferToService(t, s) => match pick(&tickets, *t) {
                Some(t) => q.transfer(
                    t,
                    TransferTarget::Service(service_id(*s)),
                    LinePosition::Last,
                    now,
                ),
                None => continue,
            },
            Op::TransferToCounter(t, c) => match pick(&tickets, *t) {
                Some(t) => q.transfer(t, TransferTarget::Counter(k(c)), LinePosition::First, now),
                None => continue,
            },
            Op::Open(c, a) => q.open_counter(k(c), a.map(|a| AgentId::from_u128(a.into())), now),
            Op::Pause(c) => q.pause_counter(k(c), now),
            Op::Close(c) => q.close_counter(k(c), now),
        };
        if let Ok(events) = r {
            out.extend(events);
        }
    }
    out
}

/// A window over every history: from the start to four days later.
fn window() -> Window {
    Window::new(start() - Duration::hours(1), start() + Duration::days(4)).unwrap()
}

fn spec(group_by: Vec<GroupBy>) -> KpiSpec {
    let mut s = KpiSpec::new(window(), group_by).with_targets_of(&config(1));
    s.punctuality_secs = 120;
    s
}

fn cube_spec(branches: &[u128]) -> CubeSpec {
    let configs: Vec<BranchConfig> = branches.iter().map(|b| config(*b)).collect();
    let mut s = CubeSpec::of(&configs);
    s.punctuality_secs = 120;
    s
}

fn fold(spec: &KpiSpec, b: u128, events: &[QueueEvent]) -> Fold {
    Fold::of(
        spec.clone(),
        events.iter().map(|e| (BranchId::from_u128(b), e)),
    )
    .unwrap()
}

fn cube(spec: &CubeSpec, b: u128, events: &[QueueEvent]) -> HourCube {
    let mut c = HourCube::new(spec.clone());
    for e in events {
        c.apply(BranchId::from_u128(b), e);
    }
    c
}

/// The fold's groups of one kind without their spans (the cube keeps none), as the cube's
/// rows would show them: counts, the histogram of the exact waits, and the row.
fn recomputed(fold: &Fold, kind: &str) -> BTreeMap<Key, (Counts, WaitHistogram, Row)> {
    fold.totals()
        .into_iter()
        .filter(|(k, _)| k.kind() == kind)
        .filter_map(|(k, t)| {
            let mut counts = t.counts.clone();
            counts.busy_ms = 0;
            counts.open_ms = 0;
            if counts == Counts::default() {
                return None;
            }
            let h = WaitHistogram::of(&t.waits);
            let max = counts.wait_max_ms;
            let row = Row::from_counts(
                k,
                &counts,
                h.percentile_ms(50, max),
                h.percentile_ms(90, max),
            );
            Some((k, (counts, h, row)))
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn the_cube_equals_a_full_recompute(a in steps(), b in steps()) {
        let (ea, eb) = (history(1, &a), history(2, &b));
        let berlin = Tz::Europe__Berlin;
        let full = {
            let mut f = fold(
                &spec(vec![
                    GroupBy::All,
                    GroupBy::Branch,
                    GroupBy::Service,
                    GroupBy::Day(berlin),
                    GroupBy::HourOfDay(berlin),
                    GroupBy::Weekday(berlin),
                ]),
                1,
                &ea,
            );
            f.merge(&fold(f.spec(), 2, &eb)).unwrap();
            f
        };
        // The cube, event by event, one per branch, merged.
        let cs = cube_spec(&[1, 2]);
        let mut incremental = cube(&cs, 1, &ea);
        incremental.merge(&cube(&cs, 2, &eb)).unwrap();
        for (by, kind) in [
            (CubeBy::All, "all"),
            (CubeBy::Branch, "branch"),
            (CubeBy::Service, "service"),
            (CubeBy::Day, "day"),
            (CubeBy::HourOfDay, "hour"),
            (CubeBy::Weekday, "weekday"),
        ] {
            let want = recomputed(&full, kind);
            let got: BTreeMap<Key, (Counts, WaitHistogram, Row)> = incremental
                .rollup(by, |_| true)
                .into_iter()
                .map(|(k, c)| {
                    let row = c.row(k);
                    (k, (c.counts, c.histogram, row))
                })
                .collect();
            prop_assert_eq!(&got, &want, "{:?}", by);
            // The histogram's figure is never below the exact one, and at most a bucket
            // above it under two hours.
            for (k, t) in full.totals().iter().filter(|(k, _)| k.kind() == kind) {
                for pct in [50, 90] {
                    let (Some(exact), Some(read)) = (
                        t.waits.percentile_ms(pct),
                        want.get(k).and_then(|w| w.1.percentile_ms(pct, w.0.wait_max_ms)),
                    ) else {
                        continue;
                    };
                    prop_assert!(read >= exact);
                    if exact < 7_200_000 {
                        prop_assert!(read - exact <= 30_000);
                    }
                }
            }
        }
    }

    #[test]
    fn merges_are_associative_and_equal_one_fold(
        a in steps(),
        b in steps(),
        c in steps(),
    ) {
        let s = spec(vec![
            GroupBy::All,
            GroupBy::Counter,
            GroupBy::Agent,
            GroupBy::HourOfDay(Tz::Europe__Berlin),
        ]);
        let (ea, eb, ec) = (history(1, &a), history(2, &b), history(3, &c));
        let (fa, fb, fc) = (fold(&s, 1, &ea), fold(&s, 2, &eb), fold(&s, 3, &ec));
        let mut left = fa.clone();
        left.merge(&fb).unwrap();
        left.merge(&fc).unwrap();
        let mut bc = fb.clone();
        bc.merge(&fc).unwrap();
        let mut right = fa.clone();
        right.merge(&bc).unwrap();
        // All streams in one fold, interleaved.
        let mut all = Fold::new(s.clone()).unwrap();
        let tagged: Vec<(u128, &QueueEvent)> = ea
            .iter()
            .map(|e| (1, e))
            .chain(eb.iter().map(|e| (2, e)))
            .chain(ec.iter().map(|e| (3, e)))
            .collect();
        let mut order: Vec<usize> = (0..tagged.len()).collect();
        order.sort_by_key(|&i| (tagged[i].1.at(), i));
        for i in order {
            all.apply(BranchId::from_u128(tagged[i].0), tagged[i].1);
        }
        prop_assert_eq!(&left, &right);
        prop_assert_eq!(left.totals(), all.totals());
        prop_assert_eq!(left.report(), all.report());
        // Commutative too.
        let mut swapped = fb.clone();
        swapped.merge(&fa).unwrap();
        let mut ab = fa.clone();
        ab.merge(&fb).unwrap();
        prop_assert_eq!(swapped.totals(), ab.totals());

        // Cubes likewise.
        let cs = cube_spec(&[1, 2, 3]);
        let (ca, cb, cc) = (cube(&cs, 1, &ea), cube(&cs, 2, &eb), cube(&cs, 3, &ec));
        let mut left = ca.clone();
        left.merge(&cb).unwrap();
        left.merge(&cc).unwrap();
        let mut right = cb.clone();
        right.merge(&cc).unwrap();
        let mut r = ca.clone();
        r.merge(&right).unwrap();
        prop_assert_eq!(left.cells(), r.cells());
    }

    #[test]
    fn figures_stay_in_range(a in steps()) {
        let s = spec(vec![GroupBy::All, GroupBy::Counter, GroupBy::Service]);
        let f = fold(&s, 1, &history(1, &a));
        prop_assert_eq!(f.ignored(), 0);
        for (key, t) in f.totals() {
            let c = &t.counts;
            prop_assert!(c.busy_ms <= c.open_ms || matches!(key, Key::Service(_)), "{key:?}");
            prop_assert!(c.within_target <= c.with_target);
            prop_assert!(c.appointments_on_time <= c.appointments);
            prop_assert_eq!(t.waits.len(), c.called);
            if key == Key::All {
                // Every ticket ends once at most.
                prop_assert!(c.served + c.no_show + c.cancelled <= c.arrived);
                prop_assert_eq!(c.transferred_in, c.transferred_out);
            }
            let row = t.row(key);
            for p in [row.service_level_pct, row.utilization_pct, row.punctuality_pct]
                .into_iter()
                .flatten()
            {
                prop_assert!((0.0..=100.0).contains(&p));
            }
            if let (Some(m), Some(p90), Some(max)) =
                (row.wait_median_secs, row.wait_p90_secs, row.wait_max_secs)
            {
                prop_assert!(m <= p90 && p90 <= max);
            }
        }
    }
}
