//! Skip logic and the check of a submission.
//!
//! # Skip logic
//! A question is **shown** when it has no `show_if`, or when its condition holds on the
//! answer given to the earlier question it names *and that question is shown*. A condition
//! on a question that is hidden or unanswered does not hold, so the question is hidden
//! (`answered` included: an unanswered question was not answered). Visibility is decided in
//! question order and reads only earlier answers (conditions name earlier questions, see
//! [`validate`](crate::validate)), so a form can show the next question as soon as the
//! previous ones are answered.
//!
//! # Not answered
//! A score is always an answer. An empty list of options, or a text that is empty once
//! trimmed, means "not answered", whatever the question: forms send empty fields.
//!
//! # Answers to hidden questions are dropped
//! [`check_answers`] drops the answer to a question the skip logic hides rather than refusing
//! the submission: a customer who answers a follow-up and then changes the answer that
//! opened it submits a form that still carries the follow-up, and losing their whole
//! response for it would be wrong. The response stored reads as the form they ended with.
//! A dropped answer is not checked (it is not kept), but it must still name a known
//! question, once.

use std::collections::{HashMap, HashSet};

use cem_core::{Answer, AnswerValue, Choice, ConditionTest, Question, QuestionKind, Survey};

use crate::definition::{question, scale};
use crate::error::SurveyError;

/// The questions shown for these answers, in question order (see [skip logic](self#skip-logic)).
///
/// `answers` may be partial and unchecked, as a form holds them while the customer answers;
/// the first answer to a question counts.
pub fn visible_questions<'a>(survey: &'a Survey, answers: &[Answer]) -> Vec<&'a Question> {
    let mut shown: Vec<&Question> = Vec::new();
    for q in &survey.questions {
        let visible = is_shown(q, &shown, |key| answer(answers, key));
        if visible {
            shown.push(q);
        }
    }
    shown
}

/// Checks a submission and returns the answers to keep, in question order.
///
/// Each answer must name a question of the survey, once. The answers to hidden questions are
/// [dropped](self#answers-to-hidden-questions-are-dropped); the others are checked against
/// their question and normalized:
/// - a score lies on the question's [`scale`];
/// - a single choice is one option the question offers (a text holding an option's key is
///   read as that option);
/// - a multiple choice is a list of distinct options the question offers, kept in the
///   question's option order;
/// - a text is trimmed and holds at most `max_chars` characters (Unicode scalar values).
///
/// Empty answers are [not answered](self#not-answered) and dropped. Every shown required
/// question must be answered.
///
/// # Errors
/// [`UnknownQuestion`](SurveyError::UnknownQuestion),
/// [`DuplicateAnswer`](SurveyError::DuplicateAnswer) (checked first, over all answers), then
/// in question order [`WrongAnswerType`](SurveyError::WrongAnswerType),
/// [`AnswerOutOfRange`](SurveyError::AnswerOutOfRange),
/// [`UnknownChoice`](SurveyError::UnknownChoice),
/// [`DuplicateChoice`](SurveyError::DuplicateChoice),
/// [`OneChoiceOnly`](SurveyError::OneChoiceOnly), [`TextTooLong`](SurveyError::TextTooLong)
/// or [`AnswerRequired`](SurveyError::AnswerRequired).
pub fn check_answers(survey: &Survey, answers: Vec<Answer>) -> Result<Vec<Answer>, SurveyError> {
    let mut given: HashMap<String, AnswerValue> = HashMap::with_capacity(answers.len());
    for a in answers {
        if question(survey, &a.question).is_none() {
            return Err(SurveyError::UnknownQuestion {
                question: a.question,
            });
        }
        if given.contains_key(&a.question) {
            return Err(SurveyError::DuplicateAnswer {
                question: a.question,
            });
        }
        given.insert(a.question, a.value);
    }
    let mut kept: Vec<Answer> = Vec::new();
    let mut shown: Vec<&Question> = Vec::new();
    for q in &survey.questions {
        if !is_shown(q, &shown, |key| answer(&kept, key)) {
            continue;
        }
        shown.push(q);
        let value = match given.remove(&q.key) {
            Some(v) => normalize(q, v)?,
            None => None,
        };
        match value {
            Some(value) => kept.push(Answer {
                question: q.key.clone(),
                value,
            }),
            None if q.required => {
                return Err(SurveyError::AnswerRequired {
                    question: q.key.clone(),
                });
            }
            None => {}
        }
    }
    Ok(kept)
}

/// The free-text answers, in question order, trimmed and joined by a line break: the text
/// the analytics read. Empty when there is none.
pub fn free_text(survey: &Survey, answers: &[Answer]) -> String {
    let mut parts = Vec::new();
    for q in &survey.questions {
        if let (QuestionKind::FreeText { .. }, Some(AnswerValue::Text(t))) =
            (&q.kind, answer(answers, &q.key))
        {
            let t = t.trim();
            if !t.is_empty() {
                parts.push(t);
            }
        }
    }
    parts.join("\n")
}

/// The value of the first answer to a question.
pub fn answer<'a>(answers: &'a [Answer], question: &str) -> Option<&'a AnswerValue> {
    answers
        .iter()
        .find(|a| a.question == question)
        .map(|a| &a.value)
}

/// Whether a value counts as an answer (see [not answered](self#not-answered)).
pub fn is_answered(value: &AnswerValue) -> bool {
    match value {
        AnswerValue::Score(_) => true,
        AnswerValue::Choices(c) => !c.is_empty(),
        AnswerValue::Text(t) => !t.trim().is_empty(),
    }
}

/// Whether `q` is shown, given the earlier questions shown and a lookup of their answers.
fn is_shown<'v>(
    q: &Question,
    shown: &[&Question],
    answer_to: impl Fn(&str) -> Option<&'v AnswerValue>,
) -> bool {
    let Some(cond) = &q.show_if else {
        return true;
    };
    if !shown.iter().any(|s| s.key == cond.question) {
        return false;
    }
    answer_to(&cond.question).is_some_and(|v| holds(&cond.test, v))
}

fn holds(test: &ConditionTest, value: &AnswerValue) -> bool {
    match (test, value) {
        (ConditionTest::Answered, v) => is_answered(v),
        (ConditionTest::ScoreAtMost(n), AnswerValue::Score(s)) => s <= n,
        (ConditionTest::ScoreAtLeast(n), AnswerValue::Score(s)) => s >= n,
        (ConditionTest::Chose(k), AnswerValue::Choices(c)) => c.contains(k),
        // A single choice may come as the option's key in a text.
        (ConditionTest::Chose(k), AnswerValue::Text(t)) => t.trim() == k,
        _ => false,
    }
}

/// The checked, normalized value, or `None` when it is not an answer.
fn normalize(q: &Question, value: AnswerValue) -> Result<Option<AnswerValue>, SurveyError> {
    if !is_answered(&value) {
        return Ok(None);
    }
    let wrong = |expected| SurveyError::WrongAnswerType {
        question: q.key.clone(),
        expected,
    };
    if let Some((min, max)) = scale(&q.kind) {
        let AnswerValue::Score(s) = value else {
            return Err(wrong("a score"));
        };
        if !(min..=max).contains(&s) {
            return Err(SurveyError::AnswerOutOfRange {
                question: q.key.clone(),
                value: s,
                min,
                max,
            });
        }
        return Ok(Some(AnswerValue::Score(s)));
    }
    match (&q.kind, value) {
        (QuestionKind::SingleChoice { options }, AnswerValue::Choices(mut chosen)) => {
            if chosen.len() > 1 {
                return Err(SurveyError::OneChoiceOnly {
                    question: q.key.clone(),
                });
            }
            let c = chosen.pop().unwrap_or_default();
            known(q, options, &c)?;
            Ok(Some(AnswerValue::Choices(vec![c])))
        }
        (QuestionKind::SingleChoice { options }, AnswerValue::Text(t)) => {
            let c = t.trim().to_owned();
            known(q, options, &c)?;
            Ok(Some(AnswerValue::Choices(vec![c])))
        }
        (QuestionKind::SingleChoice { .. }, AnswerValue::Score(_)) => Err(wrong("an option")),
        (QuestionKind::MultipleChoice { options }, AnswerValue::Choices(chosen)) => {
            let mut seen = HashSet::with_capacity(chosen.len());
            for c in &chosen {
                known(q, options, c)?;
                if !seen.insert(c.as_str()) {
                    return Err(SurveyError::DuplicateChoice {
                        question: q.key.clone(),
                        choice: c.clone(),
                    });
                }
            }
            let ordered = options
                .iter()
                .filter(|o| seen.contains(o.key.as_str()))
                .map(|o| o.key.clone())
                .collect();
            Ok(Some(AnswerValue::Choices(ordered)))
        }
        (QuestionKind::MultipleChoice { .. }, _) => Err(wrong("a list of options")),
        (QuestionKind::FreeText { max_chars }, AnswerValue::Text(t)) => {
            let t = t.trim();
            let chars = t.chars().count();
            if chars > *max_chars as usize {
                return Err(SurveyError::TextTooLong {
                    question: q.key.clone(),
                    chars,
                    max: *max_chars,
                });
            }
            Ok(Some(AnswerValue::Text(t.to_owned())))
        }
        (QuestionKind::FreeText { .. }, _) => Err(wrong("a text")),
        // Score kinds were handled above.
        (
            QuestionKind::Nps
            | QuestionKind::Csat
            | QuestionKind::Ces { .. }
            | QuestionKind::Rating { .. },
            _,
        ) => unreachable!("score kinds have a scale"),
    }
}

fn known(q: &Question, options: &[Choice], choice: &str) -> Result<(), SurveyError> {
    if options.iter().any(|o| o.key == choice) {
        Ok(())
    } else {
        Err(SurveyError::UnknownChoice {
            question: q.key.clone(),
            choice: choice.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use cem_core::{Condition, LocalizedText};
    use proptest::prelude::*;

    use super::*;
    use crate::testing::{chose, en, free_text as text_question, score, survey, text};

    fn keys(qs: &[&Question]) -> Vec<String> {
        qs.iter().map(|q| q.key.clone()).collect()
    }

    fn checked_keys(answers: &[Answer]) -> Vec<&str> {
        answers.iter().map(|a| a.question.as_str()).collect()
    }

    #[test]
    fn follow_up_shows_only_for_detractors() {
        let s = survey();
        let all = ["nps", "reason", "csat", "ces", "comment"];
        let without = ["nps", "csat", "ces", "comment"];
        assert_eq!(keys(&visible_questions(&s, &[])), without);
        assert_eq!(keys(&visible_questions(&s, &[score("nps", 9)])), without);
        assert_eq!(keys(&visible_questions(&s, &[score("nps", 6)])), all);
        assert_eq!(keys(&visible_questions(&s, &[score("nps", 0)])), all);
        // A text is not a score: the condition does not hold.
        assert_eq!(keys(&visible_questions(&s, &[text("nps", "3")])), without);
    }

    #[test]
    fn a_condition_on_a_hidden_question_hides() {
        let mut s = survey();
        // `detail` is shown when `reason` is `staff`; `reason` only for detractors.
        s.questions.push(Question {
            show_if: Some(Condition {
                question: "reason".into(),
                test: ConditionTest::Answered,
            }),
            ..text_question("detail", 100)
        });
        let stale = [score("nps", 10), chose("reason", &["staff"])];
        assert!(!keys(&visible_questions(&s, &stale)).contains(&"detail".to_owned()));
        let fresh = [score("nps", 2), chose("reason", &["staff"])];
        assert!(keys(&visible_questions(&s, &fresh)).contains(&"detail".to_owned()));
        let empty = [score("nps", 2), chose("reason", &[])];
        assert!(!keys(&visible_questions(&s, &empty)).contains(&"detail".to_owned()));
    }

    #[test]
    fn chose_tests_options_and_text_keys() {
        let mut s = survey();
        s.questions.push(Question {
            show_if: Some(Condition {
                question: "reason".into(),
                test: ConditionTest::Chose("staff".into()),
            }),
            ..text_question("who", 100)
        });
        let shows = |a: &[Answer]| keys(&visible_questions(&s, a)).contains(&"who".to_owned());
        assert!(shows(&[score("nps", 1), chose("reason", &["staff"])]));
        assert!(shows(&[score("nps", 1), text("reason", " staff ")]));
        assert!(!shows(&[score("nps", 1), chose("reason", &["other"])]));
    }

    #[test]
    fn a_promoter_answers_without_the_follow_up() {
        let s = survey();
        let out = check_answers(
            &s,
            vec![
                text("comment", "  Quick and friendly!  "),
                score("csat", 5),
                score("nps", 10),
            ],
        )
        .unwrap();
        assert_eq!(
            out,
            vec![
                score("nps", 10),
                score("csat", 5),
                text("comment", "Quick and friendly!")
            ]
        );
    }

    #[test]
    fn required_questions_are_required_when_shown() {
        let s = survey();
        assert_eq!(
            check_answers(&s, vec![score("csat", 4)]),
            Err(SurveyError::AnswerRequired {
                question: "nps".into()
            })
        );
        assert_eq!(
            check_answers(&s, vec![score("nps", 3)]),
            Err(SurveyError::AnswerRequired {
                question: "reason".into()
            })
        );
        // An empty answer is no answer.
        assert_eq!(
            check_answers(&s, vec![score("nps", 3), text("reason", " ")])
                .unwrap_err()
                .code(),
            "answer_required"
        );
        let out = check_answers(&s, vec![score("nps", 3), text("reason", "staff")]).unwrap();
        assert_eq!(out, vec![score("nps", 3), chose("reason", &["staff"])]);
    }

    #[test]
    fn answers_to_hidden_questions_are_dropped() {
        let s = survey();
        // The customer said 3, picked a reason, then changed their mind to 9.
        let out = check_answers(
            &s,
            vec![score("nps", 9), chose("reason", &["not_even_an_option"])],
        )
        .unwrap();
        assert_eq!(checked_keys(&out), ["nps"]);
        // But the question must exist.
        assert_eq!(
            check_answers(&s, vec![score("nps", 9), score("nope", 1)]),
            Err(SurveyError::UnknownQuestion {
                question: "nope".into()
            })
        );
    }

    #[test]
    fn unknown_and_duplicate_answers_are_refused() {
        let s = survey();
        assert_eq!(
            check_answers(&s, vec![score("nps", 9), score("nps", 8)]),
            Err(SurveyError::DuplicateAnswer {
                question: "nps".into()
            })
        );
        assert_eq!(
            check_answers(&s, vec![score("nps", 9), score("NPS", 8)])
                .unwrap_err()
                .code(),
            "unknown_question"
        );
    }

    #[test]
    fn scores_lie_on_the_scale() {
        let s = survey();
        for (key, value, ok) in [
            ("nps", 0, true),
            ("nps", 10, true),
            ("nps", -1, false),
            ("nps", 11, false),
            ("csat", 1, true),
            ("csat", 0, false),
            ("csat", 6, false),
            ("ces", 7, true),
            ("ces", 8, false),
        ] {
            // A detractor's required reason is given (and dropped for others).
            let mut answers = vec![score(key, value), chose("reason", &["staff"])];
            if key != "nps" {
                answers.push(score("nps", 10));
            }
            let r = check_answers(&s, answers);
            assert_eq!(r.is_ok(), ok, "{key}={value}");
            if !ok {
                assert_eq!(r.unwrap_err().code(), "answer_out_of_range");
            }
        }
        assert_eq!(
            check_answers(&s, vec![text("nps", "ten")]),
            Err(SurveyError::WrongAnswerType {
                question: "nps".into(),
                expected: "a score"
            })
        );
    }

    #[test]
    fn single_choice_takes_one_known_option() {
        let s = survey();
        let with = |a: Answer| check_answers(&s, vec![score("nps", 0), a]);
        assert_eq!(
            with(chose("reason", &["staff", "other"]))
                .unwrap_err()
                .code(),
            "one_choice_only"
        );
        assert_eq!(
            with(chose("reason", &["rude"])),
            Err(SurveyError::UnknownChoice {
                question: "reason".into(),
                choice: "rude".into()
            })
        );
        assert_eq!(
            with(score("reason", 1)).unwrap_err().code(),
            "wrong_answer_type"
        );
        assert_eq!(
            with(chose("reason", &["other"])).unwrap()[1],
            chose("reason", &["other"])
        );
    }

    #[test]
    fn multiple_choice_takes_distinct_known_options_in_option_order() {
        let mut s = survey();
        s.questions.push(Question {
            key: "liked".into(),
            prompt: en("What did you like?"),
            kind: QuestionKind::MultipleChoice {
                options: ["speed", "staff", "place"]
                    .iter()
                    .map(|k| Choice {
                        key: (*k).into(),
                        label: LocalizedText::single(cem_core::Language::en(), *k),
                    })
                    .collect(),
            },
            required: false,
            show_if: None,
        });
        let with = |a: Answer| check_answers(&s, vec![score("nps", 10), a]);
        assert_eq!(
            with(chose("liked", &["place", "speed"])).unwrap()[1],
            chose("liked", &["speed", "place"])
        );
        assert_eq!(
            with(chose("liked", &["place", "place"])),
            Err(SurveyError::DuplicateChoice {
                question: "liked".into(),
                choice: "place".into()
            })
        );
        assert_eq!(
            with(chose("liked", &["place", "price"]))
                .unwrap_err()
                .code(),
            "unknown_choice"
        );
        assert_eq!(
            with(text("liked", "place")).unwrap_err().code(),
            "wrong_answer_type"
        );
        assert_eq!(with(chose("liked", &[])).unwrap().len(), 1);
    }

    #[test]
    fn text_is_trimmed_and_counted_in_characters() {
        let mut s = survey();
        s.questions.push(text_question("short", 5));
        let with = |t: &str| check_answers(&s, vec![score("nps", 10), text("short", t)]);
        // Five Persian letters are ten bytes but five characters.
        assert_eq!(with("  سلامم  ").unwrap()[1], text("short", "سلامم"));
        assert_eq!(
            with("abcdef"),
            Err(SurveyError::TextTooLong {
                question: "short".into(),
                chars: 6,
                max: 5
            })
        );
        assert_eq!(with("   ").unwrap().len(), 1);
        assert_eq!(
            check_answers(&s, vec![score("nps", 10), score("short", 1)])
                .unwrap_err()
                .code(),
            "wrong_answer_type"
        );
    }

    #[test]
    fn free_text_joins_the_text_answers_in_question_order() {
        let mut s = survey();
        s.questions.insert(1, text_question("first", 100));
        let answers = [
            score("nps", 3),
            text("comment", " too slow "),
            text("first", "hello"),
            text("reason", "staff"),
        ];
        assert_eq!(free_text(&s, &answers), "hello\ntoo slow");
        assert_eq!(free_text(&s, &[score("nps", 3)]), "");
    }

    /// A survey whose questions chain conditions, to stress the skip logic.
    fn chain() -> Survey {
        let opts = |keys: &[&str]| {
            keys.iter()
                .map(|k| Choice {
                    key: (*k).into(),
                    label: en(k),
                })
                .collect::<Vec<_>>()
        };
        let cond = |question: &str, test| {
            Some(Condition {
                question: question.into(),
                test,
            })
        };
        let mut s = survey();
        s.questions = vec![
            crate::testing::score_question("q0", QuestionKind::Nps),
            Question {
                kind: QuestionKind::SingleChoice {
                    options: opts(&["a", "b"]),
                },
                show_if: cond("q0", ConditionTest::ScoreAtMost(6)),
                required: true,
                ..crate::testing::score_question("q1", QuestionKind::Csat)
            },
            Question {
                show_if: cond("q1", ConditionTest::Chose("a".into())),
                ..crate::testing::score_question("q2", QuestionKind::Csat)
            },
            Question {
                kind: QuestionKind::MultipleChoice {
                    options: opts(&["x", "y", "z"]),
                },
                show_if: cond("q0", ConditionTest::ScoreAtLeast(5)),
                ..crate::testing::score_question("q3", QuestionKind::Csat)
            },
            Question {
                show_if: cond("q3", ConditionTest::Answered),
                required: true,
                ..text_question("q4", 5)
            },
            Question {
                show_if: cond("q2", ConditionTest::ScoreAtLeast(3)),
                ..crate::testing::score_question("q5", QuestionKind::Rating { min: -3, max: 3 })
            },
        ];
        crate::validate(&s).unwrap();
        s
    }

    fn any_value() -> impl Strategy<Value = AnswerValue> {
        prop_oneof![
            (-5..15i32).prop_map(AnswerValue::Score),
            prop::collection::vec(
                prop::sample::select(vec!["a", "b", "x", "y", "z", "w"]),
                0..4
            )
            .prop_map(|v| AnswerValue::Choices(v.into_iter().map(String::from).collect())),
            prop::sample::select(vec!["", " ", "a", "ok", "too long text"])
                .prop_map(|t| AnswerValue::Text(t.into())),
        ]
    }

    /// Up to one answer per question of [`chain`], as a vector by question index.
    fn any_answers() -> impl Strategy<Value = Vec<Option<AnswerValue>>> {
        prop::collection::vec(prop::option::weighted(0.8, any_value()), 6)
    }

    fn to_answers(s: &Survey, v: &[Option<AnswerValue>]) -> Vec<Answer> {
        s.questions
            .iter()
            .zip(v)
            .filter_map(|(q, v)| {
                v.clone().map(|value| Answer {
                    question: q.key.clone(),
                    value,
                })
            })
            .collect()
    }

    proptest! {
        #[test]
        fn visibility_depends_only_on_earlier_answers(
            a in any_answers(),
            b in any_answers(),
            at in 0..6usize,
        ) {
            let s = chain();
            // Earlier answers from `a`, this and later ones from `b`.
            let mixed: Vec<_> = a[..at].iter().chain(&b[at..]).cloned().collect();
            let key = &s.questions[at].key;
            let shown = |v: &[Option<AnswerValue>]| {
                keys(&visible_questions(&s, &to_answers(&s, v))).contains(key)
            };
            prop_assert_eq!(shown(&a), shown(&mixed));
        }

        #[test]
        fn accepted_answers_lie_on_their_scale_and_are_shown(a in any_answers()) {
            let s = chain();
            if let Ok(out) = check_answers(&s, to_answers(&s, &a)) {
                let visible = keys(&visible_questions(&s, &out));
                for ans in &out {
                    let q = question(&s, &ans.question).unwrap();
                    prop_assert!(visible.contains(&q.key));
                    prop_assert!(is_answered(&ans.value));
                    match (&ans.value, scale(&q.kind)) {
                        (AnswerValue::Score(v), Some((min, max))) => {
                            prop_assert!((min..=max).contains(v), "{} = {v}", q.key);
                        }
                        (AnswerValue::Score(_), None) => prop_assert!(false, "a score for {}", q.key),
                        (_, Some(_)) => prop_assert!(false, "not a score for {}", q.key),
                        _ => {}
                    }
                }
                // Checking again changes nothing.
                prop_assert_eq!(check_answers(&s, out.clone()), Ok(out));
            }
        }

        #[test]
        fn out_of_scale_scores_are_never_accepted(value in any::<i32>(), which in 0..4usize) {
            let mut s = survey();
            s.questions.push(crate::testing::score_question("r", QuestionKind::Rating { min: -5, max: 20 }));
            let key = ["nps", "csat", "ces", "r"][which];
            let (min, max) = scale(&question(&s, key).unwrap().kind).unwrap();
            // The follow-up is required for a detractor and dropped otherwise.
            let mut answers = vec![score(key, value), chose("reason", &["staff"])];
            if key != "nps" {
                answers.push(score("nps", 10));
            }
            let r = check_answers(&s, answers);
            prop_assert_eq!(r.is_ok(), (min..=max).contains(&value));
        }
    }
}
