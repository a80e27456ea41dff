//! The conformance cases of [`ReportStore`], one per contract clause.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use cem_core::chrono::{NaiveDate, NaiveDateTime};
use cem_core::{
    BranchId, CURSOR_MOVED, HourFigures, HourKey, HourRow, LocalRange, ReportBatch, ReportBy,
    ReportGroup, ReportKey, ReportQuery, ReportStore, ServiceId, StoreError,
};

use crate::ReportHarness;

const CURSOR: &str = "hourly";
const BRANCH: BranchId = BranchId::from_u128(0x4E90_0001);
const OTHER_BRANCH: BranchId = BranchId::from_u128(0x4E90_0002);
const THIRD_BRANCH: BranchId = BranchId::from_u128(0x4E90_0003);

fn service(n: u128) -> ServiceId {
    ServiceId::from_u128(0x4E95_0000 + n)
}

/// 2026-03-02 (a Monday) plus `n` days.
fn day(n: u64) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 2)
        .expect("a valid date")
        .checked_add_days(cem_core::chrono::Days::new(n))
        .expect("a valid date")
}

fn at(date: NaiveDate, hour: u32) -> NaiveDateTime {
    date.and_hms_opt(hour, 0, 0).expect("a valid time")
}

/// Figures that differ in every column, with a histogram of `seed`'s shape.
fn figures(seed: u64) -> HourFigures {
    HourFigures {
        arrived: seed + 1,
        transferred_in: seed % 3,
        called: seed + 2,
        served: seed,
        no_show: seed % 2,
        cancelled: seed % 5,
        transferred_out: seed % 4,
        wait_ms: 61_000 * seed as i64 + 17,
        wait_max_ms: 7_000 * seed as i64 + 9,
        with_target: seed + 2,
        within_target: seed,
        service_ms: 300_001 * seed as i64,
        appointments: seed % 6,
        appointments_on_time: seed % 3,
        lateness_ms: 5_000 * (seed as i64 % 6),
        waits: vec![(0, 1), ((seed % 200) as u16 + 1, seed + 1), (240, 1)],
    }
}

fn row(branch: BranchId, svc: u128, date: NaiveDate, hour: u8, seed: u64) -> HourRow {
    HourRow {
        key: HourKey {
            branch,
            service: service(svc),
            date,
            hour,
        },
        figures: figures(seed),
    }
}

/// The batch replacing the days of `rows` (and `extra_days`).
fn batch(
    expected: u64,
    to: u64,
    rows: Vec<HourRow>,
    extra_days: &[(BranchId, NaiveDate)],
) -> ReportBatch {
    let days: BTreeSet<_> = (rows.iter().map(|r| (r.key.branch, r.key.date)))
        .chain(extra_days.iter().copied())
        .collect();
    ReportBatch::new(CURSOR, expected, to, days, rows).expect("a well-formed batch")
}

/// What the store must answer: the rows in the range, summed by group in memory.
fn expected_groups(rows: &[HourRow], query: &ReportQuery) -> Vec<ReportGroup> {
    let mut groups: BTreeMap<ReportKey, HourFigures> = BTreeMap::new();
    for r in rows {
        if query.branches.contains(&r.key.branch) && query.range.contains(&r.key) {
            groups
                .entry(query.by.key(&r.key))
                .or_default()
                .merge(&r.figures);
        }
    }
    (groups.into_iter())
        .map(|(key, figures)| ReportGroup { key, figures })
        .collect()
}

fn query(
    branches: &[BranchId],
    from: NaiveDateTime,
    to: NaiveDateTime,
    by: ReportBy,
) -> ReportQuery {
    ReportQuery {
        branches: branches.to_vec(),
        range: LocalRange::new(from, to).expect("a valid range"),
        by,
    }
}

/// Rows of three branches, two services, eight days (across a weekend), several hours.
fn sample() -> Vec<HourRow> {
    let mut rows = Vec::new();
    let mut seed = 0;
    for branch in [BRANCH, OTHER_BRANCH, THIRD_BRANCH] {
        for d in 0..8 {
            for hour in [0, 8, 9, 13, 23] {
                for svc in 1..=2 {
                    if (seed + d) % 4 != 3 {
                        rows.push(row(branch, svc, day(d), hour, seed));
                    }
                    seed += 1;
                }
            }
        }
    }
    rows
}

async fn one(h: &dyn ReportHarness) -> Arc<dyn ReportStore> {
    h.open_reports(1).await.remove(0)
}

/// A fresh store's cursors are at 0 and it has no rows.
pub async fn a_fresh_store_has_no_rows_and_cursors_at_zero(h: &dyn ReportHarness) {
    let s = one(h).await;
    assert_eq!(s.report_cursor(CURSOR).await.unwrap(), 0);
    let q = query(&[BRANCH], at(day(0), 0), at(day(30), 0), ReportBy::All);
    assert_eq!(s.report(&q).await.unwrap(), vec![]);
}

/// Rows read back summed by every grouping, over the branches asked only, every column and
/// histogram bucket exact (the overflow bucket and 64-bit sums included).
pub async fn rows_are_summed_by_every_grouping(h: &dyn ReportHarness) {
    let s = one(h).await;
    let mut rows = sample();
    // Sums past 32 bits.
    rows[0].figures.wait_ms = 9_000_000_000_000;
    rows[0].figures.waits = vec![(7, 5_000_000_000)];
    s.write_report_days(&batch(0, 10, rows.clone(), &[]))
        .await
        .unwrap();
    let everything = (at(day(0), 0), at(day(8), 0));
    for by in [
        ReportBy::All,
        ReportBy::Branch,
        ReportBy::Service,
        ReportBy::Day,
        ReportBy::Hour,
        ReportBy::Weekday,
    ] {
        for branches in [
            &[BRANCH, OTHER_BRANCH, THIRD_BRANCH][..],
            &[OTHER_BRANCH, BRANCH],
            &[THIRD_BRANCH],
        ] {
            let q = query(branches, everything.0, everything.1, by);
            assert_eq!(
                s.report(&q).await.unwrap(),
                expected_groups(&rows, &q),
                "{by:?}"
            );
        }
    }
    let q = query(&[BRANCH], everything.0, everything.1, ReportBy::Weekday);
    let weekdays: Vec<_> = s
        .report(&q)
        .await
        .unwrap()
        .into_iter()
        .map(|g| g.key)
        .collect();
    // 2026-03-02 is a Monday: eight days cover every weekday once, Monday twice.
    assert_eq!(
        weekdays,
        (1..=7).map(ReportKey::Weekday).collect::<Vec<_>>()
    );
}

/// A range is half open on local hours: it starts at its first hour, ends before its last,
/// and runs across midnight.
pub async fn ranges_are_half_open_on_local_hours(h: &dyn ReportHarness) {
    let s = one(h).await;
    let rows = sample();
    s.write_report_days(&batch(0, 1, rows.clone(), &[]))
        .await
        .unwrap();
    for (from, to) in [
        (at(day(1), 9), at(day(1), 13)),
        (at(day(1), 9), at(day(1), 14)),
        (at(day(1), 13), at(day(2), 9)),
        (at(day(2), 0), at(day(2), 1)),
        (at(day(7), 23), at(day(9), 0)),
    ] {
        for by in [ReportBy::Hour, ReportBy::Day] {
            let q = query(&[BRANCH, OTHER_BRANCH], from, to, by);
            let got = s.report(&q).await.unwrap();
            assert!(!got.is_empty(), "rows between {from} and {to}");
            assert_eq!(got, expected_groups(&rows, &q), "{from} to {to} by {by:?}");
        }
    }
}

/// A write replaces every row of its branch-days (rows it does not repeat are gone) and
/// leaves other days and branches alone; a day named without rows is emptied.
pub async fn a_write_replaces_whole_branch_days(h: &dyn ReportHarness) {
    let s = one(h).await;
    let rows = sample();
    s.write_report_days(&batch(0, 5, rows.clone(), &[]))
        .await
        .unwrap();
    let again = vec![row(BRANCH, 1, day(2), 11, 999)];
    let emptied = (OTHER_BRANCH, day(3));
    s.write_report_days(&batch(5, 9, again.clone(), &[emptied]))
        .await
        .unwrap();
    let mut now: Vec<HourRow> = (rows.into_iter())
        .filter(|r| {
            let d = (r.key.branch, r.key.date);
            d != (BRANCH, day(2)) && d != emptied
        })
        .collect();
    now.extend(again);
    let q = query(
        &[BRANCH, OTHER_BRANCH, THIRD_BRANCH],
        at(day(0), 0),
        at(day(8), 0),
        ReportBy::Day,
    );
    assert_eq!(s.report(&q).await.unwrap(), expected_groups(&now, &q));
    let q = query(&[BRANCH], at(day(2), 0), at(day(3), 0), ReportBy::Hour);
    let hours: Vec<_> = s
        .report(&q)
        .await
        .unwrap()
        .into_iter()
        .map(|g| g.key)
        .collect();
    assert_eq!(hours, vec![ReportKey::Hour(11)]);
    assert_eq!(s.report_cursor(CURSOR).await.unwrap(), 9);
}

/// A write from a cursor value that has moved conflicts with [`CURSOR_MOVED`] and changes
/// nothing; cursors are independent by name; a write to the same value rewrites rows.
pub async fn a_stale_cursor_conflicts_and_writes_nothing(h: &dyn ReportHarness) {
    let s = one(h).await;
    let first = vec![row(BRANCH, 1, day(0), 9, 1)];
    s.write_report_days(&batch(0, 7, first.clone(), &[]))
        .await
        .unwrap();
    let q = query(&[BRANCH], at(day(0), 0), at(day(1), 0), ReportBy::All);
    let before = s.report(&q).await.unwrap();
    for (expected, to) in [(0, 8), (6, 8), (8, 9)] {
        let stale = batch(expected, to, vec![row(BRANCH, 1, day(0), 9, 50)], &[]);
        match s.write_report_days(&stale).await {
            Err(StoreError::Conflict { what }) => assert!(what.contains(CURSOR_MOVED), "{what}"),
            other => panic!("a write from {expected} at 7: {other:?}"),
        }
    }
    assert_eq!(s.report(&q).await.unwrap(), before);
    assert_eq!(s.report_cursor(CURSOR).await.unwrap(), 7);
    // Another cursor starts at 0.
    assert_eq!(s.report_cursor("other").await.unwrap(), 0);
    // Same value: the rows change, the cursor stays.
    let second = vec![row(BRANCH, 1, day(0), 9, 2)];
    s.write_report_days(&batch(7, 7, second.clone(), &[]))
        .await
        .unwrap();
    assert_eq!(s.report(&q).await.unwrap(), expected_groups(&second, &q));
    assert_eq!(s.report_cursor(CURSOR).await.unwrap(), 7);
}

/// Events of the synthetic history of [`two_projectors_count_every_event_once`].
const EVENTS: u64 = 90;

/// The branch-day, service and hour of synthetic event `i` (1-based): events move through
/// four days, alternating branches and services.
fn event_key(i: u64) -> HourKey {
    HourKey {
        branch: if i.is_multiple_of(2) {
            BRANCH
        } else {
            OTHER_BRANCH
        },
        service: service(u128::from(i % 3)),
        date: day((i - 1) * 4 / EVENTS),
        hour: 8 + (i % 5) as u8,
    }
}

/// The rows of `days` after events `1..=upto`: each event one arrival, one wait of `i`
/// seconds.
fn projected(upto: u64, days: &BTreeSet<(BranchId, NaiveDate)>) -> Vec<HourRow> {
    let mut cells: BTreeMap<HourKey, HourFigures> = BTreeMap::new();
    for i in 1..=upto {
        let k = event_key(i);
        if days.contains(&(k.branch, k.date)) {
            let f = HourFigures {
                arrived: 1,
                called: 1,
                wait_ms: i as i64 * 1000,
                wait_max_ms: i as i64 * 1000,
                waits: vec![(i as u16 / 30, 1)],
                ..HourFigures::default()
            };
            cells.entry(k).or_default().merge(&f);
        }
    }
    (cells.into_iter())
        .map(|(key, figures)| HourRow { key, figures })
        .collect()
}

/// Two projectors on two handles follow one history from one cursor: each round both read
/// the cursor, then (a barrier lets both read first) both write the branch-days their next
/// events touch and move the cursor from the value they read. The writes that win cover the
/// history exactly once, end to end (no event counted twice, none skipped), each projector
/// sees the cursor only move forward, and the rows are those of the whole history.
pub async fn two_projectors_count_every_event_once(h: &dyn ReportHarness) {
    let handles = h.open_reports(2).await;
    let barrier = Arc::new(tokio::sync::Barrier::new(handles.len()));
    let mut tasks = Vec::new();
    for (n, s) in handles.iter().enumerate() {
        let s = Arc::clone(s);
        let barrier = Arc::clone(&barrier);
        let step = 2 + n as u64;
        tasks.push(tokio::spawn(async move {
            let mut won = Vec::new();
            let mut seen = 0;
            loop {
                let cursor = s.report_cursor(CURSOR).await.unwrap();
                assert!(
                    cursor >= seen,
                    "the cursor moved back from {seen} to {cursor}"
                );
                seen = cursor;
                barrier.wait().await;
                if cursor >= EVENTS {
                    return won;
                }
                let to = (cursor + step).min(EVENTS);
                let days: BTreeSet<_> = (cursor + 1..=to)
                    .map(|i| (event_key(i).branch, event_key(i).date))
                    .collect();
                let rows = projected(to, &days);
                let b = ReportBatch::new(CURSOR, cursor, to, days, rows).unwrap();
                match s.write_report_days(&b).await {
                    Ok(()) => won.push((cursor, to)),
                    Err(StoreError::Conflict { what }) if what.contains(CURSOR_MOVED) => {}
                    Err(e) => panic!("projector {n}: {e:?}"),
                }
                barrier.wait().await;
            }
        }));
    }
    let mut won = Vec::new();
    for t in tasks {
        won.extend(t.await.unwrap());
    }
    won.sort();
    let mut end = 0;
    for (from, to) in &won {
        assert_eq!(*from, end, "writes won: {won:?}");
        end = *to;
    }
    assert_eq!(end, EVENTS);
    let all_days: BTreeSet<_> = (1..=EVENTS)
        .map(|i| (event_key(i).branch, event_key(i).date))
        .collect();
    let everything = projected(EVENTS, &all_days);
    for by in [ReportBy::All, ReportBy::Day, ReportBy::Hour] {
        let q = query(&[BRANCH, OTHER_BRANCH], at(day(0), 0), at(day(9), 0), by);
        assert_eq!(
            handles[1].report(&q).await.unwrap(),
            expected_groups(&everything, &q)
        );
    }
    let q = query(
        &[BRANCH, OTHER_BRANCH],
        at(day(0), 0),
        at(day(9), 0),
        ReportBy::All,
    );
    assert_eq!(
        handles[0].report(&q).await.unwrap()[0].figures.arrived,
        EVENTS
    );
}
