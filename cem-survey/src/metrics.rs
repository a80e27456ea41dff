//! Satisfaction metrics, with their definitions.
//!
//! # Definitions
//! Figures are read from the answers to questions of the NPS, CSAT and CES kinds of the
//! survey version each response answered; a response whose version is unknown counts as a
//! response (and for its text analysis) but adds no score. A score off its kind's scale (not
//! possible through [`check_answers`](crate::check_answers)) is ignored.
//!
//! - **NPS** (Net Promoter Score) = % promoters − % detractors, over the respondents who
//!   answered the NPS question: a promoter answered 9 or 10, a passive 7 or 8, a detractor 0
//!   to 6. From −100 (all detractors) to 100 (all promoters); `None` when no one answered.
//!   Example: 5 promoters, 3 passives, 2 detractors → 50 % − 20 % = **30**.
//! - **CSAT** (customer satisfaction) = % of CSAT answers that are 4 or 5 (satisfied or very
//!   satisfied), from 0 to 100; `None` without answers. A survey may ask several CSAT
//!   questions: each answer counts.
//! - **CES** (customer effort) = the mean of the CES answers on their stored 1–7 scale,
//!   reported with the scale's direction ([`CesMean`]), since 7 is "very easy" on some
//!   questions and "very hard" on others. When answers of both directions are folded
//!   together, their raw mean means nothing and is `None`; the **ease** is then the figure
//!   to read: each answer mapped to 0 (hardest) … 1 (easiest) with its direction, averaged.
//! - **Response rate** = responses ÷ invitations, in % ([`response_rate`]); `None` without
//!   invitations. Count the responses *to the invitations counted*, or the rate of a window
//!   can exceed 100.
//! - **Sentiment** = the mean of the text-analysis scores (−1 … 1) of the responses that have
//!   one; also the count per sentiment label and per topic tag (a tag counts once per
//!   response).
//!
//! [`Scores`] holds only counts and integer sums (the sentiment in thousandths), so merging
//! groups is exact, associative and commutative: the figures of merged groups equal the
//! figures of their union.
//!
//! # Groups and the minimum group size
//! [`group`] folds responses by branch, service, counter, agent, survey or period. Scores
//! **of a person** are hidden when their group is smaller than the minimum size: groups keyed
//! by an agent, and by a counter too, because a counter is staffed by one agent at a time and
//! its scores are theirs. A hidden group keeps its key but carries no figure, not even its
//! number of responses. When exactly one such group is hidden, the smallest other group is
//! hidden with it (complementary suppression), or the hidden figures could be had by
//! subtracting the shown groups from a total. Groups by branch, service, survey and period
//! are never hidden.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use cem_core::chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};
use cem_core::chrono_tz::Tz;
use cem_core::{
    AgentId, AnswerValue, BranchId, CesDirection, CounterId, QuestionKind, Response,
    SentimentLabel, ServiceId, Survey, SurveyId,
};
use serde::{Deserialize, Serialize};

use crate::definition::question;

/// Counts folded from responses; every figure is derived from them (see
/// [definitions](self#definitions)).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scores {
    /// Responses folded.
    pub responses: u64,
    /// Answers to NPS questions.
    pub nps_answers: u64,
    /// NPS answers of 9 or 10.
    pub promoters: u64,
    /// NPS answers of 7 or 8.
    pub passives: u64,
    /// NPS answers of 0 to 6.
    pub detractors: u64,
    /// Answers to CSAT questions.
    pub csat_answers: u64,
    /// CSAT answers of 4 or 5.
    pub csat_satisfied: u64,
    /// Answers to CES questions.
    pub ces_answers: u64,
    /// The sum of the CES answers, as answered (1–7).
    pub ces_sum: i64,
    /// CES answers to questions where 7 is easy (the others are to questions where 1 is).
    pub ces_high_is_easy: u64,
    /// The sum of the CES answers as ease points: 0 for the hardest end, 6 for the easiest.
    pub ces_ease_points: i64,
    /// Responses with a sentiment score.
    pub sentiment_count: u64,
    /// The sum of their sentiment scores, in thousandths (rounded).
    pub sentiment_milli_sum: i64,
    /// Responses per sentiment label.
    #[serde(default)]
    pub sentiment_labels: BTreeMap<SentimentLabel, u64>,
    /// Responses per topic tag.
    #[serde(default)]
    pub tags: BTreeMap<String, u64>,
}

/// The mean of CES answers and the direction of their scale.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CesMean {
    /// The mean, from 1 to 7.
    pub mean: f64,
    /// Which end is easy.
    pub direction: CesDirection,
}

/// The figures of a [`Scores`], ready to show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Responses folded.
    pub responses: u64,
    /// NPS, −100 … 100.
    pub nps: Option<f64>,
    /// Respondents who answered the NPS question.
    pub nps_answers: u64,
    /// CSAT, % satisfied.
    pub csat: Option<f64>,
    /// CSAT answers.
    pub csat_answers: u64,
    /// CES mean as answered, with its direction.
    pub ces: Option<CesMean>,
    /// CES as ease, 0 (hardest) … 1 (easiest).
    pub ces_ease: Option<f64>,
    /// CES answers.
    pub ces_answers: u64,
    /// Mean sentiment, −1 … 1.
    pub sentiment: Option<f64>,
    /// Responses per sentiment label.
    pub sentiment_labels: BTreeMap<SentimentLabel, u64>,
    /// Responses per topic tag.
    pub tags: BTreeMap<String, u64>,
}

impl Scores {
    /// The scores of responses, each read against its survey version among `surveys`.
    pub fn of(responses: &[Response], surveys: &[Survey]) -> Self {
        let index = index(surveys);
        let mut s = Self::default();
        for r in responses {
            s.add(r, index.get(&(r.survey, r.version)).copied());
        }
        s
    }

    /// Folds one response in. `survey` is the version it answered, which tells which question
    /// is of which kind; with `None` (or another survey or version) the response counts, and
    /// its text analysis, but none of its answers.
    pub fn add(&mut self, response: &Response, survey: Option<&Survey>) {
        self.responses += 1;
        if let Some(a) = &response.analysis {
            if a.score.is_finite() {
                self.sentiment_count += 1;
                self.sentiment_milli_sum +=
                    (f64::from(a.score).clamp(-1.0, 1.0) * 1000.0).round() as i64;
            }
            *self.sentiment_labels.entry(a.sentiment).or_default() += 1;
            let tags: BTreeSet<&str> = a.tags.iter().map(String::as_str).collect();
            for t in tags {
                *self.tags.entry(t.to_owned()).or_default() += 1;
            }
        }
        let Some(survey) =
            survey.filter(|s| s.id == response.survey && s.version == response.version)
        else {
            return;
        };
        for answer in &response.answers {
            let (Some(q), AnswerValue::Score(v)) =
                (question(survey, &answer.question), &answer.value)
            else {
                continue;
            };
            let v = *v;
            match q.kind {
                QuestionKind::Nps if (0..=10).contains(&v) => {
                    self.nps_answers += 1;
                    match v {
                        9..=10 => self.promoters += 1,
                        7..=8 => self.passives += 1,
                        _ => self.detractors += 1,
                    }
                }
                QuestionKind::Csat if (1..=5).contains(&v) => {
                    self.csat_answers += 1;
                    if v >= 4 {
                        self.csat_satisfied += 1;
                    }
                }
                QuestionKind::Ces { direction } if (1..=7).contains(&v) => {
                    self.ces_answers += 1;
                    self.ces_sum += i64::from(v);
                    match direction {
                        CesDirection::HighIsEasy => {
                            self.ces_high_is_easy += 1;
                            self.ces_ease_points += i64::from(v - 1);
                        }
                        CesDirection::LowIsEasy => self.ces_ease_points += i64::from(7 - v),
                    }
                }
                _ => {}
            }
        }
    }

    /// Adds another group's counts to these.
    pub fn merge(&mut self, other: &Scores) {
        self.responses += other.responses;
        self.nps_answers += other.nps_answers;
        self.promoters += other.promoters;
        self.passives += other.passives;
        self.detractors += other.detractors;
        self.csat_answers += other.csat_answers;
        self.csat_satisfied += other.csat_satisfied;
        self.ces_answers += other.ces_answers;
        self.ces_sum += other.ces_sum;
        self.ces_high_is_easy += other.ces_high_is_easy;
        self.ces_ease_points += other.ces_ease_points;
        self.sentiment_count += other.sentiment_count;
        self.sentiment_milli_sum += other.sentiment_milli_sum;
        for (k, n) in &other.sentiment_labels {
            *self.sentiment_labels.entry(*k).or_default() += n;
        }
        for (k, n) in &other.tags {
            *self.tags.entry(k.clone()).or_default() += n;
        }
    }

    /// NPS, −100 … 100; `None` when no one answered an NPS question.
    pub fn nps(&self) -> Option<f64> {
        percent(
            self.promoters as f64 - self.detractors as f64,
            self.nps_answers,
        )
    }

    /// CSAT, the % of CSAT answers of 4 or 5; `None` without answers.
    pub fn csat(&self) -> Option<f64> {
        percent(self.csat_satisfied as f64, self.csat_answers)
    }

    /// The mean CES as answered with its direction; `None` without answers or when answers
    /// of both directions are folded together (read [`ces_ease`](Self::ces_ease) then).
    pub fn ces_mean(&self) -> Option<CesMean> {
        if self.ces_answers == 0 {
            return None;
        }
        let direction = if self.ces_high_is_easy == self.ces_answers {
            CesDirection::HighIsEasy
        } else if self.ces_high_is_easy == 0 {
            CesDirection::LowIsEasy
        } else {
            return None;
        };
        Some(CesMean {
            mean: self.ces_sum as f64 / self.ces_answers as f64,
            direction,
        })
    }

    /// The mean ease of the CES answers, 0 (hardest) … 1 (easiest), whatever their
    /// direction; `None` without answers.
    pub fn ces_ease(&self) -> Option<f64> {
        (self.ces_answers > 0)
            .then(|| self.ces_ease_points as f64 / (6.0 * self.ces_answers as f64))
    }

    /// The mean sentiment score, −1 … 1; `None` when no response had one.
    pub fn sentiment(&self) -> Option<f64> {
        (self.sentiment_count > 0)
            .then(|| self.sentiment_milli_sum as f64 / 1000.0 / self.sentiment_count as f64)
    }

    /// The figures, ready to show.
    pub fn summary(&self) -> Summary {
        Summary {
            responses: self.responses,
            nps: self.nps(),
            nps_answers: self.nps_answers,
            csat: self.csat(),
            csat_answers: self.csat_answers,
            ces: self.ces_mean(),
            ces_ease: self.ces_ease(),
            ces_answers: self.ces_answers,
            sentiment: self.sentiment(),
            sentiment_labels: self.sentiment_labels.clone(),
            tags: self.tags.clone(),
        }
    }
}

/// The response rate: `responses` ÷ `invitations` in %; `None` without invitations.
pub fn response_rate(responses: u64, invitations: u64) -> Option<f64> {
    percent(responses as f64, invitations)
}

fn percent(part: f64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| 100.0 * part / whole as f64)
}

/// The survey versions responses answered, to load before folding them.
pub fn needed_versions(responses: &[Response]) -> BTreeSet<(SurveyId, u32)> {
    responses.iter().map(|r| (r.survey, r.version)).collect()
}

fn index(surveys: &[Survey]) -> HashMap<(SurveyId, u32), &Survey> {
    let mut map = HashMap::with_capacity(surveys.len());
    for s in surveys {
        map.entry((s.id, s.version)).or_insert(s);
    }
    map
}

/// What responses are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum GroupBy {
    /// One group of every response.
    All,
    /// The branch of the visit.
    Branch,
    /// The service of the visit.
    Service,
    /// The counter that served (a person's scores: see the minimum group size).
    Counter,
    /// The agent who served (a person's scores: see the minimum group size).
    Agent,
    /// The survey (all its versions).
    Survey,
    /// The local date of submission in a time zone.
    Day(Tz),
    /// The local week of submission in a time zone, starting on a weekday (Monday in ISO
    /// 8601, Saturday in Iran).
    Week(Tz, Weekday),
    /// The local month of submission in a time zone.
    Month(Tz),
}

/// The key of a group. Visits without a service, counter or agent (a walk-up survey by
/// link) group under `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "by", content = "key", rename_all = "snake_case")]
pub enum GroupKey {
    /// Every response.
    All,
    /// A branch.
    Branch(BranchId),
    /// A service.
    Service(Option<ServiceId>),
    /// A counter.
    Counter(Option<CounterId>),
    /// An agent.
    Agent(Option<AgentId>),
    /// A survey.
    Survey(SurveyId),
    /// A local date.
    Day(NaiveDate),
    /// A week, by its first local date.
    Week(NaiveDate),
    /// A month, by its first local date.
    Month(NaiveDate),
}

impl GroupKey {
    /// The key of a response.
    pub fn of(response: &Response, by: GroupBy) -> Self {
        let v = &response.visit;
        match by {
            GroupBy::All => Self::All,
            GroupBy::Branch => Self::Branch(response.branch),
            GroupBy::Service => Self::Service(v.service),
            GroupBy::Counter => Self::Counter(v.counter),
            GroupBy::Agent => Self::Agent(v.agent),
            GroupBy::Survey => Self::Survey(response.survey),
            GroupBy::Day(tz) => Self::Day(local_date(response.submitted_at, tz)),
            GroupBy::Week(tz, first) => {
                let d = local_date(response.submitted_at, tz);
                Self::Week(d - Duration::days(i64::from(d.weekday().days_since(first))))
            }
            GroupBy::Month(tz) => {
                let d = local_date(response.submitted_at, tz);
                Self::Month(d.with_day(1).unwrap_or(d))
            }
        }
    }

    /// Whether the key names a person, whose scores are hidden in small groups: an agent or
    /// a counter.
    pub fn is_person(&self) -> bool {
        matches!(self, Self::Agent(Some(_)) | Self::Counter(Some(_)))
    }
}

fn local_date(at: DateTime<Utc>, tz: Tz) -> NaiveDate {
    at.with_timezone(&tz).date_naive()
}

/// A group of responses and its scores, unless they are hidden.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    /// What the responses share.
    pub key: GroupKey,
    /// Whether the figures are hidden (a person's group below the minimum size).
    pub suppressed: bool,
    /// The scores; `None` exactly when suppressed.
    pub scores: Option<Scores>,
}

/// Folds responses into groups, sorted by key, hiding the scores of a person's group with
/// fewer than `min_group` responses (see [groups](self#groups-and-the-minimum-group-size)).
/// Each response is read against its survey version among `surveys` (see [`Scores::add`]).
pub fn group(
    responses: &[Response],
    surveys: &[Survey],
    by: GroupBy,
    min_group: u32,
) -> Vec<Group> {
    let index = index(surveys);
    let mut groups: BTreeMap<GroupKey, Scores> = BTreeMap::new();
    for r in responses {
        groups
            .entry(GroupKey::of(r, by))
            .or_default()
            .add(r, index.get(&(r.survey, r.version)).copied());
    }
    suppress(groups.into_iter().collect(), min_group)
}

/// Hides the scores of a person's group with fewer than `min_group` responses, and when
/// exactly one is hidden, of the smallest other group too (see
/// [groups](self#groups-and-the-minimum-group-size)). Keeps the order.
pub fn suppress(groups: Vec<(GroupKey, Scores)>, min_group: u32) -> Vec<Group> {
    let small = |key: &GroupKey, s: &Scores| key.is_person() && s.responses < u64::from(min_group);
    let hidden = groups.iter().filter(|(k, s)| small(k, s)).count();
    let complement = if hidden == 1 {
        groups
            .iter()
            .enumerate()
            .filter(|(_, (k, s))| !small(k, s))
            .min_by_key(|(_, (_, s))| s.responses)
            .map(|(i, _)| i)
    } else {
        None
    };
    groups
        .into_iter()
        .enumerate()
        .map(|(i, (key, scores))| {
            let suppressed = small(&key, &scores) || complement == Some(i);
            Group {
                key,
                suppressed,
                scores: (!suppressed).then_some(scores),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use cem_core::{Answer, TextAnalysis, VisitRef};
    use proptest::prelude::*;

    use super::*;
    use crate::testing::{response, score, survey, utc};

    fn nps_csat(n: u128, nps: i32, csat: i32) -> Response {
        response(n, vec![score("nps", nps), score("csat", csat)])
    }

    #[test]
    fn nps_of_hand_counted_answers() {
        // 5 promoters (9, 10, 10, 9, 9), 3 passives (7, 8, 8), 2 detractors (0, 6):
        // 50 % − 20 % = 30.
        let values = [9, 10, 10, 9, 9, 7, 8, 8, 0, 6];
        let rs: Vec<_> = values
            .iter()
            .enumerate()
            .map(|(i, v)| response(i as u128, vec![score("nps", *v)]))
            .collect();
        let s = Scores::of(&rs, &[survey()]);
        assert_eq!(
            (
                s.responses,
                s.nps_answers,
                s.promoters,
                s.passives,
                s.detractors
            ),
            (10, 10, 5, 3, 2)
        );
        assert_eq!(s.nps(), Some(30.0));
        // All detractors, all promoters.
        let s = Scores::of(&[response(1, vec![score("nps", 6)])], &[survey()]);
        assert_eq!(s.nps(), Some(-100.0));
        let s = Scores::of(&[response(1, vec![score("nps", 10)])], &[survey()]);
        assert_eq!(s.nps(), Some(100.0));
        // No NPS answer: no NPS, though a response.
        let s = Scores::of(&[response(1, vec![score("csat", 5)])], &[survey()]);
        assert_eq!((s.responses, s.nps()), (1, None));
    }

    #[test]
    fn csat_is_the_share_of_four_and_five() {
        // 1 2 3 4 5 5 → 3 of 6 satisfied = 50 %.
        let rs: Vec<_> = [1, 2, 3, 4, 5, 5]
            .iter()
            .enumerate()
            .map(|(i, v)| nps_csat(i as u128, 10, *v))
            .collect();
        let s = Scores::of(&rs, &[survey()]);
        assert_eq!((s.csat_answers, s.csat_satisfied), (6, 3));
        assert_eq!(s.csat(), Some(50.0));
        assert_eq!(Scores::default().csat(), None);
    }

    #[test]
    fn ces_mean_keeps_its_direction_and_ease_mixes_them() {
        let high = survey(); // `ces` is 7 = easy
        let mut low = survey();
        low.id = SurveyId::from_u128(2);
        low.questions[3].kind = QuestionKind::Ces {
            direction: CesDirection::LowIsEasy,
        };
        // High-is-easy answers 7 and 4: mean 5.5; ease (6 + 3) / 12 = 0.75.
        let rs = [
            response(1, vec![score("nps", 10), score("ces", 7)]),
            response(2, vec![score("nps", 10), score("ces", 4)]),
        ];
        let s = Scores::of(&rs, &[high.clone(), low.clone()]);
        assert_eq!(
            s.ces_mean(),
            Some(CesMean {
                mean: 5.5,
                direction: CesDirection::HighIsEasy
            })
        );
        assert_eq!(s.ces_ease(), Some(0.75));
        // A low-is-easy answer of 1 (very easy): ease 6 more points, 3 answers → 15 / 18.
        let mut r3 = response(3, vec![score("nps", 10), score("ces", 1)]);
        r3.survey = low.id;
        let mut both = s.clone();
        both.add(&r3, Some(&low));
        assert_eq!(both.ces_mean(), None, "mixed directions have no raw mean");
        assert_eq!(both.ces_ease(), Some(15.0 / 18.0));
        let only_low = Scores::of(&[r3], &[low]);
        assert_eq!(
            only_low.ces_mean().map(|m| m.direction),
            Some(CesDirection::LowIsEasy)
        );
        assert_eq!(only_low.ces_ease(), Some(1.0));
    }

    #[test]
    fn a_response_of_an_unknown_version_counts_without_scores() {
        let mut r = nps_csat(1, 0, 1);
        r.version = 9;
        let s = Scores::of(&[r.clone()], &[survey()]);
        assert_eq!((s.responses, s.nps_answers, s.csat_answers), (1, 0, 0));
        let mut s = Scores::default();
        s.add(&r, Some(&survey()));
        assert_eq!(s.nps_answers, 0, "the wrong version is not read");
    }

    #[test]
    fn scores_off_the_scale_and_other_kinds_are_ignored() {
        let r = response(
            1,
            vec![
                score("nps", 11),
                score("csat", 0),
                Answer {
                    question: "comment".into(),
                    value: AnswerValue::Score(3),
                },
                score("nope", 3),
            ],
        );
        let s = Scores::of(&[r], &[survey()]);
        assert_eq!((s.responses, s.nps_answers, s.csat_answers), (1, 0, 0));
    }

    #[test]
    fn sentiment_mean_and_tags() {
        let with = |n: u128, score: f32, sentiment: SentimentLabel, tags: &[&str]| {
            let mut r = response(n, vec![]);
            r.analysis = Some(TextAnalysis {
                language: None,
                score,
                sentiment,
                tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            });
            r
        };
        let rs = [
            with(
                1,
                -0.8,
                SentimentLabel::VeryNegative,
                &["waiting_time", "staff"],
            ),
            with(
                2,
                0.2,
                SentimentLabel::Neutral,
                &["waiting_time", "waiting_time"],
            ),
            with(3, f32::NAN, SentimentLabel::Neutral, &[]),
            response(4, vec![]),
        ];
        let s = Scores::of(&rs, &[survey()]);
        // (−0.8 + 0.2) / 2 = −0.3; the NaN score is not counted.
        assert_eq!(s.sentiment_count, 2);
        assert!((s.sentiment().unwrap() + 0.3).abs() < 1e-9);
        assert_eq!(s.tags.get("waiting_time"), Some(&2));
        assert_eq!(s.tags.get("staff"), Some(&1));
        assert_eq!(s.sentiment_labels.get(&SentimentLabel::Neutral), Some(&2));
        assert_eq!(Scores::default().sentiment(), None);
    }

    #[test]
    fn response_rate_in_percent() {
        assert_eq!(response_rate(25, 100), Some(25.0));
        assert_eq!(response_rate(0, 0), None);
        assert_eq!(response_rate(3, 0), None);
    }

    #[test]
    fn periods_in_the_local_time_zone() {
        let tehran = cem_core::chrono_tz::Asia::Tehran;
        let mut r = response(1, vec![]);
        // 21:00 UTC on Friday 2026-11-27 is 00:30 on Saturday the 28th in Tehran.
        r.submitted_at = utc("2026-11-27T21:00:00Z");
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(
            GroupKey::of(&r, GroupBy::Day(Tz::UTC)),
            GroupKey::Day(d("2026-11-27"))
        );
        assert_eq!(
            GroupKey::of(&r, GroupBy::Day(tehran)),
            GroupKey::Day(d("2026-11-28"))
        );
        // The Iranian week starts on Saturday, the ISO week on Monday.
        assert_eq!(
            GroupKey::of(&r, GroupBy::Week(tehran, Weekday::Sat)),
            GroupKey::Week(d("2026-11-28"))
        );
        assert_eq!(
            GroupKey::of(&r, GroupBy::Week(tehran, Weekday::Mon)),
            GroupKey::Week(d("2026-11-23"))
        );
        r.submitted_at = utc("2026-11-30T21:00:00Z");
        assert_eq!(
            GroupKey::of(&r, GroupBy::Month(tehran)),
            GroupKey::Month(d("2026-12-01"))
        );
        assert_eq!(
            GroupKey::of(&r, GroupBy::Month(Tz::UTC)),
            GroupKey::Month(d("2026-11-01"))
        );
    }

    fn by_agent(n: u128, agent: Option<u128>, nps: i32) -> Response {
        let mut r = response(n, vec![score("nps", nps)]);
        r.visit = VisitRef {
            agent: agent.map(AgentId::from_u128),
            ..VisitRef::default()
        };
        r
    }

    #[test]
    fn small_agent_groups_are_hidden_with_a_complement() {
        // Agent 1: 3 responses, agent 2: 5, agent 3: 4, no agent: 1; minimum 4.
        let mut rs = Vec::new();
        let mut n = 0;
        for (agent, count) in [(Some(1), 3), (Some(2), 5), (Some(3), 4), (None, 1)] {
            for _ in 0..count {
                n += 1;
                rs.push(by_agent(n, agent, 10));
            }
        }
        let groups = group(&rs, &[survey()], GroupBy::Agent, 4);
        let shown: Vec<_> = groups
            .iter()
            .map(|g| (g.key, g.suppressed, g.scores.as_ref().map(|s| s.responses)))
            .collect();
        let agent = |n| GroupKey::Agent(Some(AgentId::from_u128(n)));
        assert_eq!(
            shown,
            [
                // No agent: the smallest other group, hidden so agent 1 cannot be subtracted
                // from a total.
                (GroupKey::Agent(None), true, None),
                (agent(1), true, None),
                (agent(2), false, Some(5)),
                (agent(3), false, Some(4)),
            ]
        );
        // Two small groups need no complement.
        let groups = group(&rs, &[survey()], GroupBy::Agent, 5);
        let hidden: Vec<_> = groups
            .iter()
            .filter(|g| g.suppressed)
            .map(|g| g.key)
            .collect();
        assert_eq!(hidden, [agent(1), agent(3)]);
        // Branch groups are never hidden.
        let groups = group(&rs, &[survey()], GroupBy::Branch, 1000);
        assert_eq!(groups.len(), 1);
        assert!(!groups[0].suppressed);
        assert_eq!(groups[0].scores.as_ref().unwrap().responses, 13);
    }

    #[test]
    fn counters_are_people_too() {
        let mut r = response(1, vec![score("nps", 1)]);
        r.visit.counter = Some(CounterId::from_u128(1));
        let groups = group(&[r], &[survey()], GroupBy::Counter, 2);
        assert!(groups[0].suppressed);
        assert_eq!(groups[0].scores, None);
        let json = serde_json::to_value(&groups[0]).unwrap();
        assert_eq!(json["suppressed"], true);
        assert!(json["scores"].is_null());
    }

    fn any_scores() -> impl Strategy<Value = Scores> {
        prop::collection::vec(
            (
                prop::option::of(0..=10i32),
                prop::option::of(1..=5i32),
                prop::option::of(1..=7i32),
                prop::option::of((-1000..=1000i32, prop::sample::select(vec!["a", "b", "c"]))),
            ),
            0..20,
        )
        .prop_map(|rows| {
            let s = survey();
            let mut scores = Scores::default();
            for (i, (nps, csat, ces, text)) in rows.into_iter().enumerate() {
                let mut answers = Vec::new();
                answers.extend(nps.map(|v| score("nps", v)));
                answers.extend(csat.map(|v| score("csat", v)));
                answers.extend(ces.map(|v| score("ces", v)));
                let mut r = response(i as u128, answers);
                r.analysis = text.map(|(milli, tag)| TextAnalysis {
                    language: None,
                    score: milli as f32 / 1000.0,
                    sentiment: SentimentLabel::Neutral,
                    tags: vec![tag.to_owned()],
                });
                scores.add(&r, Some(&s));
            }
            scores
        })
    }

    fn merged(a: &Scores, b: &Scores) -> Scores {
        let mut m = a.clone();
        m.merge(b);
        m
    }

    proptest! {
        #[test]
        fn nps_and_percentages_stay_in_range(s in any_scores()) {
            if let Some(nps) = s.nps() {
                prop_assert!((-100.0..=100.0).contains(&nps));
            }
            if let Some(csat) = s.csat() {
                prop_assert!((0.0..=100.0).contains(&csat));
            }
            if let Some(ease) = s.ces_ease() {
                prop_assert!((0.0..=1.0).contains(&ease));
            }
            if let Some(m) = s.ces_mean() {
                prop_assert!((1.0..=7.0).contains(&m.mean));
            }
            if let Some(x) = s.sentiment() {
                prop_assert!((-1.0..=1.0).contains(&x));
            }
            prop_assert_eq!(s.promoters + s.passives + s.detractors, s.nps_answers);
        }

        #[test]
        fn merge_is_associative_and_commutative(a in any_scores(), b in any_scores(), c in any_scores()) {
            prop_assert_eq!(merged(&a, &b), merged(&b, &a));
            prop_assert_eq!(merged(&merged(&a, &b), &c), merged(&a, &merged(&b, &c)));
            prop_assert_eq!(merged(&a, &Scores::default()), a);
        }

        #[test]
        fn merged_groups_have_the_figures_of_their_union(
            rows in prop::collection::vec((0..=10i32, 1..=5i32, 0..3u128), 0..60),
        ) {
            let rs: Vec<_> = rows
                .iter()
                .enumerate()
                .map(|(i, (nps, csat, agent))| {
                    let mut r = nps_csat(i as u128, *nps, *csat);
                    r.visit.agent = Some(AgentId::from_u128(*agent));
                    r
                })
                .collect();
            let union = Scores::of(&rs, &[survey()]);
            let mut folded = Scores::default();
            for g in group(&rs, &[survey()], GroupBy::Agent, 0) {
                folded.merge(g.scores.as_ref().unwrap());
            }
            prop_assert_eq!(folded.nps(), union.nps());
            prop_assert_eq!(folded.csat(), union.csat());
            prop_assert_eq!(folded, union);
        }

        #[test]
        fn suppressed_groups_carry_no_figures(
            sizes in prop::collection::vec(0..6usize, 1..6),
            min in 0..6u32,
        ) {
            let mut rs = Vec::new();
            for (agent, count) in sizes.iter().enumerate() {
                for _ in 0..*count {
                    rs.push(by_agent(rs.len() as u128, Some(agent as u128), 5));
                }
            }
            let groups = group(&rs, &[survey()], GroupBy::Agent, min);
            for g in &groups {
                prop_assert_eq!(g.suppressed, g.scores.is_none());
                if let Some(s) = &g.scores {
                    prop_assert!(s.responses >= u64::from(min));
                }
            }
            // Never exactly one hidden group beside shown ones.
            if groups.len() > 1 {
                prop_assert_ne!(groups.iter().filter(|g| g.suppressed).count(), 1);
            }
        }
    }
}
