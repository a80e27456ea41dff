//! The shape of a survey definition: [`validate`] it before storing, [`next_version`] to
//! change it, [`scale`] to read a score question's range.
//!
//! # Rules of a definition
//! - a non-empty name, a version from 1, at least one question;
//! - question keys unique, of 1 to [`MAX_KEY_LEN`] characters of `[a-z0-9_]` (they name the
//!   question in responses and reports, across versions); prompts non-empty in some language;
//! - at most one NPS question: NPS is a share of *respondents*, and a second NPS question
//!   would count a respondent twice (several CSAT or CES questions are fine, their figures
//!   are over answers);
//! - a rating has `min < max` and a span of at most [`MAX_RATING_SPAN`];
//! - a choice question has at least two options, with unique keys (same rule as question
//!   keys) and non-empty labels;
//! - a free-text question takes 1 to [`MAX_FREE_TEXT_CHARS`] characters;
//! - `show_if` names an **earlier** question (so the skip logic reads forward and never
//!   loops), and its test fits that question: a score test only on a score question and
//!   within its scale, `chose` only an option of a choice question;
//! - the after-service rule has a sample rate in `0..=1`, answers valid for 1 to
//!   [`MAX_VALID_HOURS`] hours and a cooldown of at most [`MAX_COOLDOWN_DAYS`] days.

use std::collections::HashSet;

use cem_core::chrono::{DateTime, Utc};
use cem_core::{ConditionTest, Question, QuestionKind, Survey, ValidationError};

use crate::error::SurveyError;

/// The NPS scale: 0 (not at all likely) to 10 (extremely likely).
pub const NPS_SCALE: (i32, i32) = (0, 10);
/// The CSAT scale: 1 (very unsatisfied) to 5 (very satisfied).
pub const CSAT_SCALE: (i32, i32) = (1, 5);
/// The CES scale: 1 to 7, its easy end given by the question's direction.
pub const CES_SCALE: (i32, i32) = (1, 7);
/// The widest rating: `max - min` at most this.
pub const MAX_RATING_SPAN: i32 = 100;
/// The longest free-text answer a question may allow, in characters.
pub const MAX_FREE_TEXT_CHARS: u32 = 5000;
/// The longest question or option key.
pub const MAX_KEY_LEN: usize = 64;
/// The longest an invitation may stay valid: a year.
pub const MAX_VALID_HOURS: u32 = 24 * 366;
/// The longest cooldown: ten years.
pub const MAX_COOLDOWN_DAYS: u32 = 3660;

/// The scale `(min, max)` of a score question (NPS, CSAT, CES, rating), both ends included;
/// `None` for choice and free-text questions.
pub fn scale(kind: &QuestionKind) -> Option<(i32, i32)> {
    match kind {
        QuestionKind::Nps => Some(NPS_SCALE),
        QuestionKind::Csat => Some(CSAT_SCALE),
        QuestionKind::Ces { .. } => Some(CES_SCALE),
        QuestionKind::Rating { min, max } => Some((*min, *max)),
        QuestionKind::SingleChoice { .. }
        | QuestionKind::MultipleChoice { .. }
        | QuestionKind::FreeText { .. } => None,
    }
}

/// The name of a kind as the API writes it (`nps`, `single_choice`).
pub fn kind_name(kind: &QuestionKind) -> &'static str {
    match kind {
        QuestionKind::Nps => "nps",
        QuestionKind::Csat => "csat",
        QuestionKind::Ces { .. } => "ces",
        QuestionKind::Rating { .. } => "rating",
        QuestionKind::SingleChoice { .. } => "single_choice",
        QuestionKind::MultipleChoice { .. } => "multiple_choice",
        QuestionKind::FreeText { .. } => "free_text",
    }
}

/// The question with a key.
pub fn question<'a>(survey: &'a Survey, key: &str) -> Option<&'a Question> {
    survey.questions.iter().find(|q| q.key == key)
}

/// Checks a definition against the [rules](self#rules-of-a-definition).
///
/// # Errors
/// [`SurveyError::InvalidSurvey`] naming the first field that breaks a rule.
pub fn validate(survey: &Survey) -> Result<(), SurveyError> {
    if survey.name.trim().is_empty() {
        return Err(invalid("name", "is empty"));
    }
    if survey.version == 0 {
        return Err(invalid("version", "starts at 1"));
    }
    if survey.questions.is_empty() {
        return Err(invalid("questions", "a survey asks at least one question"));
    }
    let mut seen: HashSet<&str> = HashSet::new();
    let mut nps = 0;
    for (i, q) in survey.questions.iter().enumerate() {
        check_key(&q.key).map_err(|reason| invalid(format!("questions[{i}].key"), reason))?;
        if !seen.insert(&q.key) {
            return Err(ValidationError::DuplicateId {
                kind: "question",
                id: q.key.clone(),
            }
            .into());
        }
        let field = |f: &str| format!("questions.{}.{f}", q.key);
        if q.prompt.is_empty() {
            return Err(invalid(field("prompt"), "is empty"));
        }
        check_kind(q, &field)?;
        if q.kind == QuestionKind::Nps {
            nps += 1;
            if nps > 1 {
                return Err(invalid(
                    field("kind"),
                    "a survey asks at most one nps question",
                ));
            }
        }
        if let Some(cond) = &q.show_if {
            let Some(earlier) = survey.questions[..i]
                .iter()
                .find(|e| e.key == cond.question)
            else {
                return Err(ValidationError::UnknownReference {
                    from: field("show_if"),
                    kind: "earlier question",
                    id: cond.question.clone(),
                }
                .into());
            };
            check_test(&cond.test, earlier).map_err(|reason| invalid(field("show_if"), reason))?;
        }
    }
    if let Some(rule) = &survey.triggers.after_service {
        if !(rule.sample_rate.is_finite() && (0.0..=1.0).contains(&rule.sample_rate)) {
            return Err(invalid(
                "triggers.after_service.sample_rate",
                "must be between 0 and 1",
            ));
        }
        if !(1..=MAX_VALID_HOURS).contains(&rule.valid_hours) {
            return Err(invalid(
                "triggers.after_service.valid_hours",
                format!("must be between 1 and {MAX_VALID_HOURS}"),
            ));
        }
        if rule.cooldown_days > MAX_COOLDOWN_DAYS {
            return Err(invalid(
                "triggers.after_service.cooldown_days",
                format!("must be at most {MAX_COOLDOWN_DAYS}"),
            ));
        }
    }
    Ok(())
}

/// The next version of `previous`: `changed` with the id and organization of `previous`
/// (they never change), its version one higher and `created_at` set to `now`, checked.
///
/// A question key kept across versions keeps its kind (`nps` stays an NPS question):
/// reports compare answers by key across versions, so a new meaning takes a new key.
///
/// # Errors
/// [`SurveyError::InvalidSurvey`] when the result breaks a rule of [`validate`] or a kept
/// key changed its kind.
pub fn next_version(
    previous: &Survey,
    mut changed: Survey,
    now: DateTime<Utc>,
) -> Result<Survey, SurveyError> {
    changed.id = previous.id;
    changed.organization = previous.organization;
    changed.version = previous
        .version
        .checked_add(1)
        .ok_or_else(|| invalid("version", "has no next version"))?;
    changed.created_at = now;
    validate(&changed)?;
    for q in &changed.questions {
        if let Some(old) = question(previous, &q.key) {
            let (was, is) = (kind_name(&old.kind), kind_name(&q.kind));
            if was != is {
                return Err(invalid(
                    format!("questions.{}.kind", q.key),
                    format!(
                        "was {was} in version {}; a question keeps its kind across versions, \
                         use a new key",
                        previous.version
                    ),
                ));
            }
        }
    }
    Ok(changed)
}

fn invalid(field: impl Into<String>, reason: impl Into<String>) -> SurveyError {
    ValidationError::InvalidField {
        field: field.into(),
        reason: reason.into(),
    }
    .into()
}

fn check_key(key: &str) -> Result<(), String> {
    if key.is_empty() || key.len() > MAX_KEY_LEN {
        return Err(format!("must have 1 to {MAX_KEY_LEN} characters"));
    }
    if !key
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(format!("{key:?} may hold only a-z, 0-9 and _"));
    }
    Ok(())
}

fn check_kind(q: &Question, field: &dyn Fn(&str) -> String) -> Result<(), SurveyError> {
    match &q.kind {
        QuestionKind::Rating { min, max } => {
            if min >= max {
                return Err(invalid(field("kind"), "a rating needs min < max"));
            }
            if i64::from(*max) - i64::from(*min) > i64::from(MAX_RATING_SPAN) {
                return Err(invalid(
                    field("kind"),
                    format!("a rating spans at most {MAX_RATING_SPAN}"),
                ));
            }
        }
        QuestionKind::SingleChoice { options } | QuestionKind::MultipleChoice { options } => {
            if options.len() < 2 {
                return Err(invalid(
                    field("options"),
                    "a choice needs at least two options",
                ));
            }
            let mut keys = HashSet::new();
            for o in options {
                check_key(&o.key).map_err(|reason| invalid(field("options"), reason))?;
                if !keys.insert(o.key.as_str()) {
                    return Err(invalid(
                        field("options"),
                        format!("option {:?} appears twice", o.key),
                    ));
                }
                if o.label.is_empty() {
                    return Err(invalid(
                        field(&format!("options.{}.label", o.key)),
                        "is empty",
                    ));
                }
            }
        }
        QuestionKind::FreeText { max_chars } => {
            if !(1..=MAX_FREE_TEXT_CHARS).contains(max_chars) {
                return Err(invalid(
                    field("kind"),
                    format!("max_chars must be between 1 and {MAX_FREE_TEXT_CHARS}"),
                ));
            }
        }
        QuestionKind::Nps | QuestionKind::Csat | QuestionKind::Ces { .. } => {}
    }
    Ok(())
}

fn check_test(test: &ConditionTest, earlier: &Question) -> Result<(), String> {
    match test {
        ConditionTest::Answered => Ok(()),
        ConditionTest::ScoreAtMost(n) | ConditionTest::ScoreAtLeast(n) => {
            match scale(&earlier.kind) {
                None => Err(format!(
                    "{:?} is not a score question",
                    earlier.key.as_str()
                )),
                Some((min, max)) if !(min..=max).contains(n) => Err(format!(
                    "{n} is outside the scale {min}..={max} of {:?}",
                    earlier.key.as_str()
                )),
                Some(_) => Ok(()),
            }
        }
        ConditionTest::Chose(option) => match &earlier.kind {
            QuestionKind::SingleChoice { options } | QuestionKind::MultipleChoice { options } => {
                if options.iter().any(|o| &o.key == option) {
                    Ok(())
                } else {
                    Err(format!(
                        "{:?} has no option {option:?}",
                        earlier.key.as_str()
                    ))
                }
            }
            _ => Err(format!(
                "{:?} is not a choice question",
                earlier.key.as_str()
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use cem_core::{AfterService, Choice, Condition, Language, LocalizedText, SurveyId};

    use super::*;
    use crate::testing::{free_text, score_question, survey, utc};

    fn err_field(s: &Survey) -> String {
        match validate(s) {
            Err(SurveyError::InvalidSurvey(ValidationError::InvalidField { field, .. })) => field,
            other => panic!("expected an invalid field, got {other:?}"),
        }
    }

    #[test]
    fn the_sample_survey_is_valid() {
        validate(&survey()).unwrap();
    }

    #[test]
    fn scales_of_score_kinds() {
        assert_eq!(scale(&QuestionKind::Nps), Some((0, 10)));
        assert_eq!(scale(&QuestionKind::Csat), Some((1, 5)));
        assert_eq!(
            scale(&QuestionKind::Ces {
                direction: cem_core::CesDirection::LowIsEasy
            }),
            Some((1, 7))
        );
        assert_eq!(
            scale(&QuestionKind::Rating { min: -2, max: 2 }),
            Some((-2, 2))
        );
        assert_eq!(scale(&QuestionKind::FreeText { max_chars: 10 }), None);
    }

    #[test]
    fn names_versions_and_question_lists_are_required() {
        let mut s = survey();
        s.name = "  ".into();
        assert_eq!(err_field(&s), "name");
        let mut s = survey();
        s.version = 0;
        assert_eq!(err_field(&s), "version");
        let mut s = survey();
        s.questions.clear();
        assert_eq!(err_field(&s), "questions");
    }

    #[test]
    fn keys_are_unique_and_plain() {
        let mut s = survey();
        s.questions[1].key = "nps".into();
        assert_eq!(
            validate(&s),
            Err(SurveyError::InvalidSurvey(ValidationError::DuplicateId {
                kind: "question",
                id: "nps".into()
            }))
        );
        for bad in ["", "Nps", "nps score", "نظر", &"k".repeat(65)] {
            let mut s = survey();
            s.questions[0].key = bad.into();
            assert_eq!(err_field(&s), "questions[0].key", "{bad:?}");
        }
        let mut s = survey();
        s.questions[0].prompt = LocalizedText::single(Language::en(), " ");
        assert_eq!(err_field(&s), "questions.nps.prompt");
    }

    #[test]
    fn one_nps_question_at_most() {
        let mut s = survey();
        s.questions.push(score_question("nps2", QuestionKind::Nps));
        assert_eq!(err_field(&s), "questions.nps2.kind");
        // Several CSAT questions are fine.
        let mut s = survey();
        s.questions
            .push(score_question("csat2", QuestionKind::Csat));
        validate(&s).unwrap();
    }

    #[test]
    fn ratings_have_a_sane_scale() {
        for (min, max, ok) in [
            (1, 5, true),
            (0, 100, true),
            (-50, 50, true),
            (5, 5, false),
            (5, 1, false),
            (0, 101, false),
            (i32::MIN, i32::MAX, false),
        ] {
            let mut s = survey();
            s.questions
                .push(score_question("r", QuestionKind::Rating { min, max }));
            assert_eq!(validate(&s).is_ok(), ok, "{min}..{max}");
        }
    }

    #[test]
    fn choices_need_two_distinct_labelled_options() {
        let opt = |k: &str| Choice {
            key: k.into(),
            label: LocalizedText::single(Language::en(), k),
        };
        let with = |options: Vec<Choice>| {
            let mut s = survey();
            s.questions.push(Question {
                key: "pick".into(),
                prompt: LocalizedText::single(Language::en(), "Pick"),
                kind: QuestionKind::MultipleChoice { options },
                required: false,
                show_if: None,
            });
            s
        };
        validate(&with(vec![opt("a"), opt("b")])).unwrap();
        assert_eq!(err_field(&with(vec![opt("a")])), "questions.pick.options");
        assert_eq!(
            err_field(&with(vec![opt("a"), opt("a")])),
            "questions.pick.options"
        );
        assert_eq!(
            err_field(&with(vec![opt("a"), opt("B")])),
            "questions.pick.options"
        );
        let mut unlabelled = opt("b");
        unlabelled.label = LocalizedText::new();
        assert_eq!(
            err_field(&with(vec![opt("a"), unlabelled])),
            "questions.pick.options.b.label"
        );
    }

    #[test]
    fn free_text_limits() {
        for (max, ok) in [(1, true), (5000, true), (0, false), (5001, false)] {
            let mut s = survey();
            s.questions.push(free_text("more", max));
            assert_eq!(validate(&s).is_ok(), ok, "{max}");
        }
    }

    #[test]
    fn show_if_refers_to_an_earlier_question_and_fits_it() {
        let cond = |question: &str, test: ConditionTest| {
            let mut s = survey();
            s.questions.last_mut().unwrap().show_if = Some(Condition {
                question: question.into(),
                test,
            });
            s
        };
        validate(&cond("nps", ConditionTest::ScoreAtMost(6))).unwrap();
        validate(&cond("nps", ConditionTest::ScoreAtLeast(0))).unwrap();
        validate(&cond("reason", ConditionTest::Chose("staff".into()))).unwrap();
        validate(&cond("csat", ConditionTest::Answered)).unwrap();
        // The last question refers to itself: not earlier.
        let last = survey().questions.last().unwrap().key.clone();
        let s = cond(&last, ConditionTest::Answered);
        assert!(matches!(
            validate(&s),
            Err(SurveyError::InvalidSurvey(ValidationError::UnknownReference { id, .. })) if id == last
        ));
        let s = cond("nope", ConditionTest::Answered);
        assert_eq!(validate(&s).unwrap_err().code(), "invalid_survey");
        // A later question.
        let mut s = survey();
        s.questions[0].show_if = Some(Condition {
            question: "csat".into(),
            test: ConditionTest::Answered,
        });
        assert!(matches!(
            validate(&s),
            Err(SurveyError::InvalidSurvey(
                ValidationError::UnknownReference { .. }
            ))
        ));
        // Tests that do not fit the question.
        let field = format!("questions.{last}.show_if");
        assert_eq!(
            err_field(&cond("nps", ConditionTest::ScoreAtMost(11))),
            field
        );
        assert_eq!(
            err_field(&cond("csat", ConditionTest::ScoreAtLeast(0))),
            field
        );
        assert_eq!(
            err_field(&cond("reason", ConditionTest::ScoreAtMost(1))),
            field
        );
        assert_eq!(
            err_field(&cond("reason", ConditionTest::Chose("nope".into()))),
            field
        );
        assert_eq!(
            err_field(&cond("nps", ConditionTest::Chose("staff".into()))),
            field
        );
    }

    #[test]
    fn after_service_rule_limits() {
        let rule = |sample_rate: f64, valid_hours: u32, cooldown_days: u32| {
            let mut s = survey();
            s.triggers.after_service = Some(AfterService {
                branches: vec![],
                services: vec![],
                classes: vec![],
                sample_rate,
                cooldown_days,
                valid_hours,
            });
            s
        };
        validate(&rule(0.0, 1, 0)).unwrap();
        validate(&rule(1.0, MAX_VALID_HOURS, MAX_COOLDOWN_DAYS)).unwrap();
        for (s, field) in [
            (rule(-0.1, 24, 0), "sample_rate"),
            (rule(1.01, 24, 0), "sample_rate"),
            (rule(f64::NAN, 24, 0), "sample_rate"),
            (rule(f64::INFINITY, 24, 0), "sample_rate"),
            (rule(0.5, 0, 0), "valid_hours"),
            (rule(0.5, MAX_VALID_HOURS + 1, 0), "valid_hours"),
            (rule(0.5, 24, MAX_COOLDOWN_DAYS + 1), "cooldown_days"),
        ] {
            assert_eq!(err_field(&s), format!("triggers.after_service.{field}"));
        }
    }

    #[test]
    fn next_version_bumps_and_keeps_identity() {
        let v1 = survey();
        let mut changed = v1.clone();
        changed.id = SurveyId::from_u128(99);
        changed.name = "Renamed".into();
        changed.questions.push(free_text("extra", 200));
        let now = utc("2026-12-01T10:00:00Z");
        let v2 = next_version(&v1, changed, now).unwrap();
        assert_eq!(
            (v2.id, v2.organization, v2.version, v2.created_at),
            (v1.id, v1.organization, 2, now)
        );
        assert_eq!(v2.name, "Renamed");
        // The result is checked.
        let mut bad = v2.clone();
        bad.name.clear();
        assert_eq!(
            next_version(&v2, bad, now).unwrap_err().code(),
            "invalid_survey"
        );
        // A kept key keeps its kind.
        let mut retyped = v2.clone();
        retyped.questions[1].kind = QuestionKind::Rating { min: 1, max: 5 };
        let key = retyped.questions[1].key.clone();
        let Err(SurveyError::InvalidSurvey(ValidationError::InvalidField { field, .. })) =
            next_version(&v2, retyped, now)
        else {
            panic!("a changed kind is refused");
        };
        assert_eq!(field, format!("questions.{key}.kind"));
        // Dropping a question and adding another is fine.
        let mut shorter = v2.clone();
        shorter.questions.retain(|q| q.key != "extra");
        assert_eq!(next_version(&v2, shorter, now).unwrap().version, 3);
    }
}
