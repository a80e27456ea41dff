//! Satisfaction joined to the KPI rows, the hourly cube's reports, the forecast from history,
//! and CSV export.

use cem_core::chrono::{Duration, NaiveDate};
use cem_core::chrono_tz::Tz;
use cem_core::{Response, VisitRef};
use cem_report::csv::{CsvRow, to_csv};
use cem_report::forecast::{self, ArrivalProfile};
use cem_report::testing::{BRANCH, Step, Step::*, agent, script, service, utc};
use cem_report::{CubeBy, CubeSpec, Fold, GroupBy, HourCube, Key, KpiSpec, Row, Window, join};
use cem_survey::testing::{response, score, survey};

fn fold(by: Vec<GroupBy>, steps: &[(i64, Step)]) -> Fold {
    let t0 = utc("2026-01-05T08:00:00Z");
    let w = Window::new(t0, t0 + Duration::hours(2)).unwrap();
    let events = script(t0, steps);
    Fold::of(KpiSpec::new(w, by), events.iter().map(|e| (BRANCH, e))).unwrap()
}

fn served_by_three_agents() -> Vec<(i64, Step)> {
    vec![
        (0, OpenBy(1, 1)),
        (0, OpenBy(2, 2)),
        (0, OpenBy(3, 3)),
        (0, Issue(1, 1)),
        (0, Issue(2, 1)),
        (0, Issue(3, 2)),
        (60, Call(1, 1)),
        (120, Finish(1, 1)),
        (130, Call(2, 1)),
        (200, Finish(2, 1)),
        (90, Call(3, 2)),
        (300, Finish(3, 2)),
    ]
}

fn rated(n: u128, nps: i32, visit: VisitRef) -> Response {
    let mut r = response(n, vec![score("nps", nps)]);
    r.branch = BRANCH;
    r.visit = visit;
    r
}

#[test]
fn satisfaction_next_to_the_agents_kpis() {
    let f = fold(vec![GroupBy::Agent], &served_by_three_agents());
    let by_agent = |a: u128| VisitRef {
        agent: Some(agent(a)),
        ..VisitRef::default()
    };
    let mut responses = Vec::new();
    // Agent 1: 3 promoters, a passive, a detractor → NPS 40. Agent 2: one response.
    // Agent 4 (no KPI row): four responses.
    for (i, nps) in [10, 10, 9, 7, 3].into_iter().enumerate() {
        responses.push(rated(i as u128, nps, by_agent(1)));
    }
    responses.push(rated(10, 10, by_agent(2)));
    for i in 0..4 {
        responses.push(rated(20 + i, 8, by_agent(4)));
    }
    let rows = join(GroupBy::Agent, &f.report(), &responses, &[survey()], 3);
    let shown: Vec<(Key, u64, bool, Option<f64>)> = rows
        .iter()
        .map(|r| {
            (
                r.kpi.key,
                r.kpi.served,
                r.suppressed,
                r.satisfaction.as_ref().and_then(|s| s.nps),
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            (Key::Agent(Some(agent(1))), 2, false, Some(40.0)),
            // One response: below the minimum of 3.
            (Key::Agent(Some(agent(2))), 1, true, None),
            // No response at all: hidden too, so the missing row tells nothing.
            (Key::Agent(Some(agent(3))), 0, true, None),
        ]
    );
    // Agent 1 stays shown because cem-survey's complement hides agent 4, the smallest other
    // group, beside agent 2.
    let csv = to_csv(&rows);
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert!(lines[0].ends_with(",suppressed,responses,nps,csat,ces_ease,sentiment"));
    assert!(lines[1].ends_with(",false,5,40,,,"), "{}", lines[1]);
    assert!(lines[2].ends_with(",true,,,,,"), "{}", lines[2]);
}

#[test]
fn services_join_and_classes_have_no_survey_figures() {
    let f = fold(
        vec![GroupBy::Service, GroupBy::Class],
        &served_by_three_agents(),
    );
    let visit = VisitRef {
        service: Some(service(1)),
        ..VisitRef::default()
    };
    let responses = [rated(1, 10, visit.clone()), rated(2, 0, visit)];
    let rows = join(GroupBy::Service, &f.report(), &responses, &[survey()], 3);
    assert_eq!(rows.len(), 2);
    let s1 = rows[0].satisfaction.as_ref().unwrap();
    assert_eq!((s1.responses, s1.nps), (2, Some(0.0)));
    // Service 2 had no response: figures of none, never hidden.
    let s2 = rows[1].satisfaction.as_ref().unwrap();
    assert_eq!((s2.responses, s2.nps), (0, None));
    assert!(!rows[1].suppressed);
    let classes = join(GroupBy::Class, &f.report(), &responses, &[survey()], 3);
    assert_eq!(classes.len(), 1);
    assert_eq!(
        (classes[0].suppressed, &classes[0].satisfaction),
        (false, &None)
    );
}

#[test]
fn csv_of_kpi_rows() {
    let f = fold(
        vec![GroupBy::All],
        &[(0, Issue(1, 1)), (90, Call(1, 1)), (190, Finish(1, 1))],
    );
    let csv = to_csv(&f.report());
    assert_eq!(
        csv,
        "group,key,arrived,transferred_in,called,served,no_show,cancelled,transferred_out,\
         wait_mean_secs,wait_median_secs,wait_p90_secs,wait_max_secs,service_time_mean_secs,\
         service_level_pct,busy_secs,open_secs,utilization_pct,appointments,\
         appointments_on_time,punctuality_pct,lateness_mean_secs\r\n\
         all,,1,0,1,1,0,0,0,90,90,90,90,100,,0,0,,0,0,,\r\n"
    );
    assert_eq!(Row::header().len(), f.report()[0].fields().len());
}

#[test]
fn day_reports_from_the_cube() {
    // Two days of one service in Berlin; 30 s and 90 s waits on the first, 45 s on the second.
    let t0 = utc("2026-01-05T08:00:00Z");
    let day2 = 86_400;
    let events = script(
        t0,
        &[
            (0, Issue(1, 1)),
            (30, Call(1, 1)),
            (330, Finish(1, 1)),
            (0, Issue(2, 1)),
            (90, Call(2, 1)),
            (100, Finish(2, 1)),
            (day2, Issue(3, 1)),
            (day2 + 45, Call(3, 1)),
        ],
    );
    let mut spec = CubeSpec::default();
    spec.zones.insert(BRANCH, Tz::Europe__Berlin);
    spec.targets.insert(service(1), 60);
    let mut cube = HourCube::new(spec);
    for e in &events {
        cube.apply(BRANCH, e);
    }
    let rows = cube.rows(CubeBy::Day, |_| true);
    let d = |s: &str| Key::Day(s.parse().unwrap());
    assert_eq!(rows.len(), 2);
    let first = &rows[0];
    assert_eq!(first.key, d("2026-01-05"));
    assert_eq!((first.arrived, first.called, first.served), (2, 2, 2));
    assert_eq!(first.wait_mean_secs, Some(60.0));
    assert_eq!(first.wait_max_secs, Some(90.0));
    // The median's bucket is 30–60 s: read as 60 s; the p90's is 90–120 s, capped at 90 s.
    assert_eq!(first.wait_median_secs, Some(60.0));
    assert_eq!(first.wait_p90_secs, Some(90.0));
    // 300 s and 10 s, each from its call (no start event).
    assert_eq!(first.service_time_mean_secs, Some(155.0));
    assert_eq!(first.service_level_pct, Some(50.0));
    assert_eq!(first.utilization_pct, None);
    assert_eq!((rows[1].key, rows[1].called), (d("2026-01-06"), 1));
    // The hours are local: 08:00 UTC is 09:00 in Berlin.
    let hours = cube.rows(CubeBy::HourOfDay, |_| true);
    assert_eq!(hours[0].key, Key::HourOfDay(9));
    // The cube serializes and reads back.
    let back: HourCube = serde_json::from_str(&serde_json::to_string(&cube).unwrap()).unwrap();
    assert_eq!(back, cube);
}

#[test]
fn forecast_from_two_weeks_of_history() {
    // Mondays 5 and 12 January 2026 at 09:00 Berlin (08:00 UTC): 30 and 50 arrivals of 180 s
    // each → 40 an hour expected, 2 erlangs: 4 counters for 80 % within 20 s.
    let mut steps = Vec::new();
    let mut n = 0;
    for (week, count) in [(0i64, 30u32), (7, 50)] {
        for i in 0..count {
            n += 1;
            let at = week * 86_400 + i64::from(i) * 60;
            steps.push((at, Issue(n, 1)));
            steps.push((at, Call(n, 1)));
            steps.push((at + 180, Finish(n, 1)));
        }
    }
    let events = script(utc("2026-01-05T08:00:00Z"), &steps);
    let mut spec = CubeSpec::default();
    spec.zones.insert(BRANCH, Tz::Europe__Berlin);
    let mut cube = HourCube::new(spec);
    for e in &events {
        cube.apply(BRANCH, e);
    }
    let from: NaiveDate = "2026-01-05".parse().unwrap();
    let to: NaiveDate = "2026-01-19".parse().unwrap();
    let profile = ArrivalProfile::from_cube(&cube, from, to, |_| true).unwrap();
    assert_eq!(profile.days, [2; 7]);
    assert_eq!(profile.expected(0, 9), Some(40.0));
    assert_eq!(profile.expected(1, 9), Some(0.0));
    assert_eq!(
        forecast::mean_service_secs(&cube, from, to, |_| true),
        Some(180.0)
    );
    let plan = forecast::staffing(&profile, 180.0, 20.0, 0.8).unwrap();
    assert_eq!(plan.len(), 7 * 24);
    let monday_9 = plan.iter().find(|h| (h.weekday, h.hour) == (1, 9)).unwrap();
    assert_eq!(monday_9.counters, 4);
    assert!((monday_9.load_erlangs - 2.0).abs() < 1e-12);
    assert!((monday_9.service_level - 0.8607).abs() < 1e-4);
    assert!(
        plan.iter()
            .filter(|h| (h.weekday, h.hour) != (1, 9))
            .all(|h| h.counters == 0)
    );
    // A week holds one day of each weekday; a window without Mondays has no expectation.
    let tuesday_only = ArrivalProfile::from_cube(
        &cube,
        "2026-01-06".parse().unwrap(),
        "2026-01-07".parse().unwrap(),
        |_| true,
    )
    .unwrap();
    assert_eq!(tuesday_only.expected(0, 9), None);
    assert!(ArrivalProfile::from_cube(&cube, to, from, |_| true).is_err());

    // The branch-level forecast of cem-queue's test branch (services A and B, 600 s target).
    let mut config = cem_queue::testing::branch_config(2, 1);
    config.branch.id = BRANCH;
    config.services[0].id = service(1);
    let all = forecast::forecast(&cube, &config, from, to, 0.8).unwrap();
    assert_eq!(all.len(), 2);
    assert!(all[0].from_history);
    assert_eq!(all[0].mean_service_secs, 180.0);
    // B has no history: its configured 300 s, and no arrivals.
    assert!(!all[1].from_history);
    assert_eq!(all[1].mean_service_secs, 300.0);
    let total = forecast::total_counters(&all);
    // 2 erlangs with a 600 s target: 3 counters reach 80 %.
    assert_eq!(total[&(1, 9)], 3);
}
