//! Satisfaction next to the queue KPIs.
//!
//! [`join`] groups survey responses with [`cem_survey::group`] by the kind of key the KPI rows
//! have, where surveys have one: all, branch, service, counter, agent and day. Classes, hours
//! of the day and weekdays have no survey grouping and get no figures. The survey figures
//! (NPS, CSAT, CES, sentiment) keep their definitions from [`cem_survey::metrics`].
//!
//! - A person's scores (agent, counter) are hidden below the minimum group size exactly as
//!   `cem_survey` hides them, with its complementary suppression; a person's row with no
//!   response at all is hidden too (when the minimum is above 0), so a missing row tells
//!   nothing.
//! - A response's day is the local date it was *submitted*, while a KPI's day is the date of
//!   the queue event: a visit late in the evening answered the next morning counts on two
//!   days.
//! - A response joins by what its visit names (its branch, and the service, counter and agent
//!   of [`VisitRef`](cem_core::VisitRef)); responses without them fall in no service,
//!   counter or agent row.

use std::collections::BTreeMap;

use cem_core::{Response, Survey};
use cem_survey::{GroupKey, Scores, Summary};
use serde::{Deserialize, Serialize};

use crate::kpi::{GroupBy, Key, Row};

/// A KPI row with the satisfaction of the same group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SatisfactionRow {
    /// The queue KPIs.
    pub kpi: Row,
    /// Whether the survey figures are hidden (a person's group below the minimum size).
    pub suppressed: bool,
    /// The survey figures; `None` when hidden or when the kind of key has no survey grouping;
    /// a group without responses has figures of 0 responses.
    pub satisfaction: Option<Summary>,
}

fn survey_grouping(by: GroupBy) -> Option<cem_survey::GroupBy> {
    Some(match by {
        GroupBy::All => cem_survey::GroupBy::All,
        GroupBy::Branch => cem_survey::GroupBy::Branch,
        GroupBy::Service => cem_survey::GroupBy::Service,
        GroupBy::Counter => cem_survey::GroupBy::Counter,
        GroupBy::Agent => cem_survey::GroupBy::Agent,
        GroupBy::Day(tz) => cem_survey::GroupBy::Day(tz),
        _ => return None,
    })
}

fn survey_key(key: &Key) -> Option<GroupKey> {
    Some(match *key {
        Key::All => GroupKey::All,
        Key::Branch(b) => GroupKey::Branch(b),
        Key::Service(s) => GroupKey::Service(Some(s)),
        Key::Counter(c) => GroupKey::Counter(Some(c)),
        Key::Agent(a) => GroupKey::Agent(a),
        Key::Day(d) => GroupKey::Day(d),
        _ => return None,
    })
}

/// The rows of `rows` whose key is of `by`'s kind, each with the satisfaction of its group:
/// `responses` grouped by `by`, each read against its survey version among `surveys`, a
/// person's group hidden below `min_group` responses.
pub fn join(
    by: GroupBy,
    rows: &[Row],
    responses: &[Response],
    surveys: &[Survey],
    min_group: u32,
) -> Vec<SatisfactionRow> {
    let groups: BTreeMap<GroupKey, cem_survey::Group> = match survey_grouping(by) {
        Some(sb) => cem_survey::group(responses, surveys, sb, min_group)
            .into_iter()
            .map(|g| (g.key, g))
            .collect(),
        None => BTreeMap::new(),
    };
    rows.iter()
        .filter(|r| r.key.kind() == by.kind())
        .map(|r| {
            let (suppressed, satisfaction) = match survey_key(&r.key) {
                None => (false, None),
                Some(k) => match groups.get(&k) {
                    Some(g) => (g.suppressed, g.scores.as_ref().map(Scores::summary)),
                    None if k.is_person() && min_group > 0 => (true, None),
                    None => (false, Some(Scores::default().summary())),
                },
            };
            SatisfactionRow {
                kpi: r.clone(),
                suppressed,
                satisfaction,
            }
        })
        .collect()
}
