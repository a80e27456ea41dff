//! Metrics scenarios as data: a table of responses, how they are grouped, and the figures
//! expected of each group, computed by hand in the comments.

use cem_survey::cem_core::chrono_tz::Asia::Tehran;
use cem_survey::cem_core::chrono_tz::Tz;
use cem_survey::cem_core::{AgentId, BranchId, QuestionKind, Response, Survey, chrono::NaiveDate};
use cem_survey::testing::{response, score, score_question, survey, utc};
use cem_survey::{Group, GroupBy, GroupKey, group, next_version, response_rate};

/// One response of a scenario.
struct Row {
    branch: u128,
    agent: Option<u128>,
    /// When it was submitted (RFC 3339).
    at: &'static str,
    /// The survey version answered (the sample survey; version 2 adds a CSAT question
    /// `csat2`; version 3 is not known to the report).
    version: u32,
    nps: Option<i32>,
    csat: Option<i32>,
    ces: Option<i32>,
}

/// A row of version 1 at branch 1, on 2026-11-30 at noon UTC, without agent.
const R: Row = Row {
    branch: 1,
    agent: None,
    at: "2026-11-30T12:00:00Z",
    version: 1,
    nps: None,
    csat: None,
    ces: None,
};

/// What a group should show.
#[derive(Debug)]
enum Expect {
    /// Its figures: responses, NPS, CSAT, CES mean and, with invitations, response rate.
    Shown {
        responses: u64,
        nps: Option<f64>,
        csat: Option<f64>,
        ces: Option<f64>,
        invitations: u64,
        rate: Option<f64>,
    },
    /// Hidden below the minimum group size.
    Hidden,
}

fn shown(
    responses: u64,
    nps: Option<f64>,
    csat: Option<f64>,
    ces: Option<f64>,
    invitations: u64,
    rate: Option<f64>,
) -> Expect {
    Expect::Shown {
        responses,
        nps,
        csat,
        ces,
        invitations,
        rate,
    }
}

fn surveys() -> Vec<Survey> {
    let v1 = survey();
    let mut changed = v1.clone();
    changed
        .questions
        .push(score_question("csat2", QuestionKind::Csat));
    let v2 = next_version(&v1, changed, utc("2026-11-15T00:00:00Z")).unwrap();
    vec![v1, v2]
}

fn responses(rows: &[Row]) -> Vec<Response> {
    rows.iter()
        .enumerate()
        .map(|(i, row)| {
            let mut answers = Vec::new();
            answers.extend(row.nps.map(|v| score("nps", v)));
            answers.extend(row.csat.map(|v| score("csat", v)));
            answers.extend(row.ces.map(|v| score("ces", v)));
            let mut r = response(i as u128 + 1, answers);
            r.branch = BranchId::from_u128(row.branch);
            r.visit.agent = row.agent.map(AgentId::from_u128);
            r.submitted_at = utc(row.at);
            r.version = row.version;
            r
        })
        .collect()
}

/// Groups the rows and compares each group with what is expected, in key order.
fn scenario(rows: &[Row], by: GroupBy, min_group: u32, expected: &[(GroupKey, Expect)]) {
    let groups: Vec<Group> = group(&responses(rows), &surveys(), by, min_group);
    let keys: Vec<_> = groups.iter().map(|g| g.key).collect();
    let want: Vec<_> = expected.iter().map(|(k, _)| *k).collect();
    assert_eq!(keys, want, "group keys");
    for (g, (key, e)) in groups.iter().zip(expected) {
        match e {
            Expect::Hidden => {
                assert!(g.suppressed, "{key:?} should be hidden");
                assert_eq!(g.scores, None, "{key:?} hides its figures");
            }
            Expect::Shown {
                responses,
                nps,
                csat,
                ces,
                invitations,
                rate,
            } => {
                assert!(!g.suppressed, "{key:?} should be shown");
                let s = g.scores.as_ref().unwrap();
                assert_eq!(s.responses, *responses, "{key:?} responses");
                close(s.nps(), *nps, &format!("{key:?} nps"));
                close(s.csat(), *csat, &format!("{key:?} csat"));
                close(s.ces_mean().map(|m| m.mean), *ces, &format!("{key:?} ces"));
                close(
                    response_rate(s.responses, *invitations),
                    *rate,
                    &format!("{key:?} rate"),
                );
            }
        }
    }
}

fn close(got: Option<f64>, want: Option<f64>, what: &str) {
    match (got, want) {
        (Some(g), Some(w)) => assert!((g - w).abs() < 0.005, "{what}: got {g}, want {w}"),
        (g, w) => assert_eq!(g, w, "{what}"),
    }
}

fn branch(n: u128) -> GroupKey {
    GroupKey::Branch(BranchId::from_u128(n))
}

fn agent(n: u128) -> GroupKey {
    GroupKey::Agent(Some(AgentId::from_u128(n)))
}

fn day(s: &str) -> GroupKey {
    GroupKey::Day(s.parse::<NaiveDate>().unwrap())
}

/// Two branches.
#[rustfmt::skip]
fn two_branches() -> Vec<Row> {
    vec![
        // Branch 1.
        Row { nps: Some(10), csat: Some(5), ces: Some(7), ..R },
        Row { nps: Some(9), csat: Some(4), ces: Some(6), ..R },
        Row { nps: Some(8), csat: Some(3), ces: Some(5), ..R },
        Row { nps: Some(6), csat: Some(2), ..R },
        Row { nps: Some(3), csat: Some(5), ces: Some(1), ..R },
        Row { nps: Some(10), version: 2, ..R },
        // Branch 2.
        Row { branch: 2, nps: Some(0), csat: Some(1), ..R },
        Row { branch: 2, nps: Some(5), csat: Some(2), ..R },
        Row { branch: 2, nps: Some(7), ..R },
        Row { branch: 2, nps: Some(9), csat: Some(4), ..R },
        // Version 3 is unknown: a response, but no scores.
        Row { branch: 2, nps: Some(0), csat: Some(1), version: 3, ..R },
    ]
}

#[test]
fn by_branch() {
    scenario(
        &two_branches(),
        GroupBy::Branch,
        100,
        &[
            // NPS: promoters 10, 9, 10; passive 8; detractors 6, 3 → (3 − 2) / 6 = 16.67.
            // CSAT: 5, 4, 3, 2, 5 → 3 of 5 = 60. CES: 7, 6, 5, 1 → 19 / 4 = 4.75.
            // 12 invitations → 6 / 12 = 50 %.
            (
                branch(1),
                shown(6, Some(16.67), Some(60.0), Some(4.75), 12, Some(50.0)),
            ),
            // NPS: promoter 9; passive 7; detractors 0, 5 → (1 − 2) / 4 = −25 (the fifth
            // response is of an unknown version). CSAT: 1, 2, 4 → 1 of 3 = 33.33. No CES.
            // 20 invitations → 5 / 20 = 25 %.
            (
                branch(2),
                shown(5, Some(-25.0), Some(33.33), None, 20, Some(25.0)),
            ),
        ],
    );
}

#[test]
fn all_together() {
    scenario(
        &two_branches(),
        GroupBy::All,
        100,
        &[
            // NPS: 4 promoters, 2 passives, 4 detractors of 10 → 0. CSAT: 4 of 8 = 50.
            // CES 4.75. 11 responses of 12 + 20 invitations = 34.375 %.
            (
                GroupKey::All,
                shown(11, Some(0.0), Some(50.0), Some(4.75), 32, Some(34.375)),
            ),
        ],
    );
}

#[test]
fn by_agent_with_a_minimum_group_size_of_three() {
    #[rustfmt::skip]
    let rows = vec![
        // Agent 1: 3 responses, NPS (1 − 1) / 3 = 0.
        Row { agent: Some(1), nps: Some(10), ..R },
        Row { agent: Some(1), nps: Some(8), ..R },
        Row { agent: Some(1), nps: Some(2), ..R },
        // Agent 2: 2 responses, below the minimum: hidden.
        Row { agent: Some(2), nps: Some(0), ..R },
        Row { agent: Some(2), nps: Some(1), ..R },
        // Agent 3: 4 responses, NPS (2 − 0) / 4 = 50; CSAT 5, 5 → 100.
        Row { agent: Some(3), nps: Some(9), csat: Some(5), ..R },
        Row { agent: Some(3), nps: Some(9), csat: Some(5), ..R },
        Row { agent: Some(3), nps: Some(7), ..R },
        Row { agent: Some(3), nps: Some(8), ..R },
        // No agent (by link): 5 responses, NPS (0 − 5) / 5 = −100; shown, not a person.
        Row { nps: Some(3), ..R },
        Row { nps: Some(3), ..R },
        Row { nps: Some(3), ..R },
        Row { nps: Some(3), ..R },
        Row { nps: Some(3), ..R },
    ];
    scenario(
        &rows,
        GroupBy::Agent,
        3,
        &[
            (
                GroupKey::Agent(None),
                shown(5, Some(-100.0), None, None, 0, None),
            ),
            // Agent 1 is the smallest group beside the single hidden one: hidden with it,
            // so agent 2's figures cannot be had by subtraction from the branch's.
            (agent(1), Expect::Hidden),
            (agent(2), Expect::Hidden),
            (agent(3), shown(4, Some(50.0), Some(100.0), None, 0, None)),
        ],
    );
    // With a minimum of 2, nobody is hidden.
    scenario(
        &rows,
        GroupBy::Agent,
        2,
        &[
            (
                GroupKey::Agent(None),
                shown(5, Some(-100.0), None, None, 0, None),
            ),
            (agent(1), shown(3, Some(0.0), None, None, 0, None)),
            (agent(2), shown(2, Some(-100.0), None, None, 0, None)),
            (agent(3), shown(4, Some(50.0), Some(100.0), None, 0, None)),
        ],
    );
    // By branch, the same responses are never hidden: 14 responses, NPS (3 − 8) / 14.
    scenario(
        &rows,
        GroupBy::Branch,
        1000,
        &[(
            branch(1),
            shown(14, Some(-35.71), Some(100.0), None, 28, Some(50.0)),
        )],
    );
}

#[test]
fn by_day_in_tehran() {
    #[rustfmt::skip]
    let rows = vec![
        // 20:00 UTC is 23:30 in Tehran: still the 30th.
        Row { at: "2026-11-30T20:00:00Z", nps: Some(10), ..R },
        // 20:30 UTC is 00:00 on December 1st in Tehran.
        Row { at: "2026-11-30T20:30:00Z", nps: Some(0), ..R },
        Row { at: "2026-12-01T08:00:00Z", nps: Some(9), ..R },
    ];
    scenario(
        &rows,
        GroupBy::Day(Tehran),
        0,
        &[
            (
                day("2026-11-30"),
                shown(1, Some(100.0), None, None, 0, None),
            ),
            // (1 − 1) / 2 = 0.
            (day("2026-12-01"), shown(2, Some(0.0), None, None, 0, None)),
        ],
    );
    // In UTC the first two fall on the 30th: (1 − 1) / 2 = 0, then 100.
    scenario(
        &rows,
        GroupBy::Day(Tz::UTC),
        0,
        &[
            (day("2026-11-30"), shown(2, Some(0.0), None, None, 0, None)),
            (
                day("2026-12-01"),
                shown(1, Some(100.0), None, None, 0, None),
            ),
        ],
    );
}
