//! The closed loop: a poor response opens a [`Case`] for the branch's managers, who take it,
//! find the root cause and resolve it before its deadline, or see it escalate.
//!
//! # Life of a case
//! - [`case_for`] opens it: `open`, no owner, a deadline;
//! - [`take`]: `in_progress` with an owner (taking it again reassigns it);
//! - [`resolve`], from `open` or `in_progress`: `resolved`, with a root cause and a resolution;
//! - [`reopen`] a resolved case: back to `in_progress` with its owner, or `open` without;
//! - [`escalate`] an unresolved case past its deadline.
//!
//! Every change returns a new case with its `revision` one higher and `updated_at` set to
//! `now`; the store writes it only over the revision it was read at. A case is resolved
//! exactly when it has a root cause, a resolution and `resolved_at`. An unresolved case past
//! its deadline [escalates](escalate): its escalation count goes up and its deadline moves
//! `escalate_every_hours` on, so a pass that finds it again before then leaves it alone.

use cem_core::chrono::{DateTime, Duration, Utc};
use cem_core::{
    AnswerValue, Case, CaseId, CaseReason, CaseStatus, QuestionKind, Response, Survey, UserId,
};
use serde::{Deserialize, Serialize};

use crate::definition::question;
use crate::error::SurveyError;

/// The longest root cause or resolution note, in characters.
pub const MAX_NOTE_CHARS: usize = 5000;

/// When a response opens a case, and how long it has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CaseRules {
    /// An NPS answer at most this opens a case (6: every detractor).
    pub detractor_max: i32,
    /// A CSAT answer at most this opens a case (2: unsatisfied or very unsatisfied).
    pub csat_max: i32,
    /// Whether negative or very negative free text opens a case.
    pub negative_sentiment: bool,
    /// Hours from opening (or reopening) to the deadline.
    pub resolve_within_hours: u32,
    /// Hours from an escalation to the next deadline (at least 1 is used).
    pub escalate_every_hours: u32,
}

impl Default for CaseRules {
    fn default() -> Self {
        Self {
            detractor_max: 6,
            csat_max: 2,
            negative_sentiment: true,
            resolve_within_hours: 48,
            escalate_every_hours: 24,
        }
    }
}

/// Why the response opens a case under the rules, the first found of: a detractor's NPS, a
/// low CSAT (the first such answer, in question order), negative text. Answers are read
/// against `survey`, the version answered; with another survey or version only the text can
/// open a case.
pub fn reason(response: &Response, survey: &Survey, rules: &CaseRules) -> Option<CaseReason> {
    let same = survey.id == response.survey && survey.version == response.version;
    let first = |kind: fn(&QuestionKind) -> bool, max: i32| {
        response.answers.iter().filter(|_| same).find_map(|a| {
            match (&a.value, question(survey, &a.question)) {
                (AnswerValue::Score(v), Some(q)) if kind(&q.kind) && *v <= max => Some(*v),
                _ => None,
            }
        })
    };
    if let Some(v) = first(|k| matches!(k, QuestionKind::Nps), rules.detractor_max) {
        return Some(CaseReason::Detractor(v));
    }
    if let Some(v) = first(|k| matches!(k, QuestionKind::Csat), rules.csat_max) {
        return Some(CaseReason::LowCsat(v));
    }
    let negative = response
        .analysis
        .as_ref()
        .is_some_and(|a| a.sentiment.is_negative());
    (rules.negative_sentiment && negative).then_some(CaseReason::NegativeText)
}

/// The case a response opens, if any (see [`reason`]): open, unowned, due
/// `resolve_within_hours` after `now`, revision 1, with the respondent's contact.
pub fn case_for(
    response: &Response,
    survey: &Survey,
    rules: &CaseRules,
    id: CaseId,
    now: DateTime<Utc>,
) -> Option<Case> {
    let reason = reason(response, survey, rules)?;
    Some(Case {
        id,
        organization: response.organization,
        branch: response.branch,
        response: response.id,
        survey: response.survey,
        reason,
        status: CaseStatus::Open,
        owner: None,
        deadline: after_hours(now, rules.resolve_within_hours),
        escalations: 0,
        root_cause: None,
        resolution: None,
        reply_to: response.reply_to.clone(),
        created_at: now,
        updated_at: now,
        resolved_at: None,
        revision: 1,
    })
}

/// `owner` takes the case (or it is reassigned to them): in progress.
///
/// # Errors
/// [`CaseResolved`](SurveyError::CaseResolved) when it is resolved (reopen it first).
pub fn take(case: &Case, owner: UserId, now: DateTime<Utc>) -> Result<Case, SurveyError> {
    if case.status == CaseStatus::Resolved {
        return Err(SurveyError::CaseResolved {
            case: case.id,
            action: "taken",
        });
    }
    let mut next = bump(case, now);
    next.status = CaseStatus::InProgress;
    next.owner = Some(owner);
    Ok(next)
}

/// Resolves the case with its root cause and what was done, both required (trimmed, at
/// most [`MAX_NOTE_CHARS`] characters). The owner stays as it was.
///
/// # Errors
/// [`CaseResolved`](SurveyError::CaseResolved) when it is resolved already;
/// [`NoteRequired`](SurveyError::NoteRequired) or [`NoteTooLong`](SurveyError::NoteTooLong).
pub fn resolve(
    case: &Case,
    root_cause: String,
    resolution: String,
    now: DateTime<Utc>,
) -> Result<Case, SurveyError> {
    if case.status == CaseStatus::Resolved {
        return Err(SurveyError::CaseResolved {
            case: case.id,
            action: "resolved",
        });
    }
    let root_cause = note("root cause", root_cause)?;
    let resolution = note("resolution", resolution)?;
    let mut next = bump(case, now);
    next.status = CaseStatus::Resolved;
    next.root_cause = Some(root_cause);
    next.resolution = Some(resolution);
    next.resolved_at = Some(now);
    Ok(next)
}

/// Reopens a resolved case: in progress when it has an owner, else open; its notes and
/// `resolved_at` cleared; due `resolve_within_hours` after `now`. Escalations stay counted.
///
/// # Errors
/// [`CaseNotResolved`](SurveyError::CaseNotResolved) when it is not resolved.
pub fn reopen(case: &Case, rules: &CaseRules, now: DateTime<Utc>) -> Result<Case, SurveyError> {
    if case.status != CaseStatus::Resolved {
        return Err(SurveyError::CaseNotResolved {
            case: case.id,
            status: case.status,
        });
    }
    let mut next = bump(case, now);
    next.status = if case.owner.is_some() {
        CaseStatus::InProgress
    } else {
        CaseStatus::Open
    };
    next.root_cause = None;
    next.resolution = None;
    next.resolved_at = None;
    next.deadline = after_hours(now, rules.resolve_within_hours);
    Ok(next)
}

/// Whether the case is unresolved with its deadline at or before `now`.
pub fn is_overdue(case: &Case, now: DateTime<Utc>) -> bool {
    case.status != CaseStatus::Resolved && case.deadline <= now
}

/// Escalates an [overdue](is_overdue) case: one more escalation, the next deadline
/// `escalate_every_hours` (at least 1) after `now`. `None` when the case is resolved or not
/// yet due: nothing to change.
pub fn escalate(case: &Case, rules: &CaseRules, now: DateTime<Utc>) -> Option<Case> {
    if !is_overdue(case, now) {
        return None;
    }
    let mut next = bump(case, now);
    next.escalations = case.escalations.saturating_add(1);
    next.deadline = after_hours(now, rules.escalate_every_hours.max(1));
    Some(next)
}

fn bump(case: &Case, now: DateTime<Utc>) -> Case {
    let mut next = case.clone();
    next.revision += 1;
    next.updated_at = now;
    next
}

fn after_hours(now: DateTime<Utc>, hours: u32) -> DateTime<Utc> {
    now.checked_add_signed(Duration::hours(i64::from(hours)))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

fn note(field: &'static str, text: String) -> Result<String, SurveyError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(SurveyError::NoteRequired { field });
    }
    let chars = t.chars().count();
    if chars > MAX_NOTE_CHARS {
        return Err(SurveyError::NoteTooLong {
            field,
            chars,
            max: MAX_NOTE_CHARS,
        });
    }
    Ok(if t.len() == text.len() {
        text
    } else {
        t.to_owned()
    })
}

#[cfg(test)]
mod tests {
    use cem_core::{Language, ReplyTo, SentimentLabel, TextAnalysis};
    use proptest::prelude::*;

    use super::*;
    use crate::testing::{response, score, survey, utc};

    fn now() -> DateTime<Utc> {
        utc("2026-11-30T10:00:00Z")
    }

    fn negative(mut r: Response) -> Response {
        r.analysis = Some(TextAnalysis {
            language: None,
            score: -0.7,
            sentiment: SentimentLabel::Negative,
            tags: vec![],
        });
        r
    }

    fn opened() -> Case {
        case_for(
            &response(1, vec![score("nps", 3)]),
            &survey(),
            &CaseRules::default(),
            CaseId::from_u128(1),
            now(),
        )
        .unwrap()
    }

    #[test]
    fn reasons_in_order() {
        let s = survey();
        let rules = CaseRules::default();
        let of = |r: Response| reason(&r, &s, &rules);
        assert_eq!(
            of(negative(response(
                1,
                vec![score("nps", 6), score("csat", 1)]
            ))),
            Some(CaseReason::Detractor(6))
        );
        assert_eq!(
            of(negative(response(
                1,
                vec![score("nps", 7), score("csat", 2)]
            ))),
            Some(CaseReason::LowCsat(2))
        );
        assert_eq!(
            of(negative(response(
                1,
                vec![score("nps", 7), score("csat", 3)]
            ))),
            Some(CaseReason::NegativeText)
        );
        assert_eq!(
            of(response(1, vec![score("nps", 7), score("csat", 3)])),
            None
        );
        let quiet = CaseRules {
            negative_sentiment: false,
            detractor_max: 4,
            ..CaseRules::default()
        };
        assert_eq!(
            reason(&negative(response(1, vec![score("nps", 5)])), &s, &quiet),
            None
        );
        // Another version's answers are not read; its text still is.
        let mut other = response(1, vec![score("nps", 0)]);
        other.version = 2;
        assert_eq!(of(other.clone()), None);
        assert_eq!(of(negative(other)), Some(CaseReason::NegativeText));
    }

    #[test]
    fn a_detractor_opens_an_open_case_due_in_48_hours() {
        let mut r = response(7, vec![score("nps", 2)]);
        r.reply_to = Some(ReplyTo {
            phone: Some("+989121234567".into()),
            email: None,
            language: Language::fa(),
        });
        let c = case_for(
            &r,
            &survey(),
            &CaseRules::default(),
            CaseId::from_u128(3),
            now(),
        )
        .unwrap();
        assert_eq!(c.id, CaseId::from_u128(3));
        assert_eq!((c.response, c.branch, c.survey), (r.id, r.branch, r.survey));
        assert_eq!(c.reason, CaseReason::Detractor(2));
        assert_eq!(
            (c.status, c.owner, c.escalations),
            (CaseStatus::Open, None, 0)
        );
        assert_eq!(c.deadline, utc("2026-12-02T10:00:00Z"));
        assert_eq!((c.created_at, c.updated_at, c.revision), (now(), now(), 1));
        assert_eq!(c.reply_to, r.reply_to);
        assert!(
            case_for(
                &response(1, vec![score("nps", 9)]),
                &survey(),
                &CaseRules::default(),
                CaseId::from_u128(3),
                now()
            )
            .is_none()
        );
    }

    #[test]
    fn take_and_resolve() {
        let c = opened();
        let later = now() + Duration::hours(1);
        let taken = take(&c, UserId::from_u128(5), later).unwrap();
        assert_eq!(
            (taken.status, taken.owner, taken.revision, taken.updated_at),
            (CaseStatus::InProgress, Some(UserId::from_u128(5)), 2, later)
        );
        assert_eq!(
            resolve(&taken, " ".into(), "called back".into(), later),
            Err(SurveyError::NoteRequired {
                field: "root cause"
            })
        );
        assert_eq!(
            resolve(&taken, "understaffed".into(), "".into(), later)
                .unwrap_err()
                .code(),
            "note_required"
        );
        assert_eq!(
            resolve(&taken, "x".repeat(5001), "y".into(), later)
                .unwrap_err()
                .code(),
            "note_too_long"
        );
        let done = resolve(
            &taken,
            " understaffed on Mondays ".into(),
            "a second counter opens at 9".into(),
            later,
        )
        .unwrap();
        assert_eq!(done.status, CaseStatus::Resolved);
        assert_eq!(done.root_cause.as_deref(), Some("understaffed on Mondays"));
        assert_eq!(done.resolved_at, Some(later));
        assert_eq!(done.revision, 3);
        assert_eq!(done.owner, Some(UserId::from_u128(5)));
        assert_eq!(
            resolve(&done, "a".into(), "b".into(), later)
                .unwrap_err()
                .code(),
            "case_resolved"
        );
        assert_eq!(
            take(&done, UserId::from_u128(6), later).unwrap_err().code(),
            "case_resolved"
        );
    }

    #[test]
    fn reopen_clears_the_notes() {
        let rules = CaseRules::default();
        let c = opened();
        assert_eq!(
            reopen(&c, &rules, now()).unwrap_err().code(),
            "case_not_resolved"
        );
        let done = resolve(&c, "a".into(), "b".into(), now()).unwrap();
        let later = now() + Duration::days(3);
        let again = reopen(&done, &rules, later).unwrap();
        assert_eq!(again.status, CaseStatus::Open);
        assert_eq!(
            (again.root_cause, again.resolution, again.resolved_at),
            (None, None, None)
        );
        assert_eq!(again.deadline, later + Duration::hours(48));
        let owned = take(&c, UserId::from_u128(1), now()).unwrap();
        let done = resolve(&owned, "a".into(), "b".into(), now()).unwrap();
        assert_eq!(
            reopen(&done, &rules, later).unwrap().status,
            CaseStatus::InProgress
        );
    }

    #[test]
    fn escalates_when_the_deadline_passes_unresolved() {
        let rules = CaseRules::default();
        let c = opened();
        assert_eq!(
            escalate(&c, &rules, c.deadline - Duration::seconds(1)),
            None
        );
        let e = escalate(&c, &rules, c.deadline).unwrap();
        assert_eq!((e.escalations, e.revision), (1, 2));
        assert_eq!(e.deadline, c.deadline + Duration::hours(24));
        // Found again before the next deadline: left alone.
        assert_eq!(escalate(&e, &rules, c.deadline + Duration::hours(1)), None);
        let zero = CaseRules {
            escalate_every_hours: 0,
            ..rules.clone()
        };
        let e = escalate(&c, &zero, c.deadline).unwrap();
        assert_eq!(e.deadline, c.deadline + Duration::hours(1));
        let done = resolve(&c, "a".into(), "b".into(), now()).unwrap();
        assert_eq!(
            escalate(&done, &rules, done.deadline + Duration::days(9)),
            None
        );
    }

    #[derive(Debug, Clone)]
    enum Op {
        Take(u128),
        Resolve(bool),
        Reopen,
        Escalate,
    }

    fn any_op() -> impl Strategy<Value = (Op, u32)> {
        (
            prop_oneof![
                (1..4u128).prop_map(Op::Take),
                any::<bool>().prop_map(Op::Resolve),
                Just(Op::Reopen),
                Just(Op::Escalate),
            ],
            0..72u32,
        )
    }

    proptest! {
        #[test]
        fn changes_bump_the_revision_and_escalation_spares_resolved_cases(
            ops in prop::collection::vec(any_op(), 0..40),
        ) {
            let rules = CaseRules::default();
            let mut case = opened();
            let mut t = now();
            for (op, hours) in ops {
                t += Duration::hours(i64::from(hours));
                let next = match op {
                    Op::Take(u) => take(&case, UserId::from_u128(u), t).ok(),
                    Op::Resolve(with_notes) => {
                        let n = if with_notes { "noted" } else { "" };
                        resolve(&case, n.into(), n.into(), t).ok()
                    }
                    Op::Reopen => reopen(&case, &rules, t).ok(),
                    Op::Escalate => {
                        let e = escalate(&case, &rules, t);
                        if case.status == CaseStatus::Resolved {
                            prop_assert!(e.is_none());
                        }
                        if let Some(e) = &e {
                            prop_assert_eq!(e.escalations, case.escalations + 1);
                            prop_assert!(e.deadline > t);
                        }
                        e
                    }
                };
                if let Some(next) = next {
                    prop_assert_eq!(next.revision, case.revision + 1);
                    prop_assert_eq!(next.updated_at, t);
                    prop_assert!(next.escalations >= case.escalations);
                    prop_assert_eq!(
                        (next.id, next.response, next.created_at),
                        (case.id, case.response, case.created_at)
                    );
                    case = next;
                }
                let resolved = case.status == CaseStatus::Resolved;
                prop_assert_eq!(resolved, case.resolved_at.is_some());
                prop_assert_eq!(resolved, case.root_cause.is_some());
                prop_assert_eq!(resolved, case.resolution.is_some());
                if case.status == CaseStatus::InProgress {
                    prop_assert!(case.owner.is_some());
                }
            }
        }
    }
}
