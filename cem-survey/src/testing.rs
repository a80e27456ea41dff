//! Ready-made surveys, answers, responses and invitations for tests, examples and
//! documentation.

use cem_core::chrono::{DateTime, Duration, Utc};
use cem_core::{
    AfterService, Answer, AnswerValue, CesDirection, Choice, Condition, ConditionTest, Invitation,
    InvitationId, InvitationSource, Language, LocalizedText, Question, QuestionKind, Response,
    ResponseId, Survey, Triggers, VisitRef,
};
use cem_core::{BranchId, OrganizationId, SurveyId};

/// The organization of [`survey`].
pub const ORGANIZATION: OrganizationId = OrganizationId::from_u128(1);
/// The branch of [`response`] and [`invitation`].
pub const BRANCH: BranchId = BranchId::from_u128(1);
/// The id of [`survey`].
pub const SURVEY: SurveyId = SurveyId::from_u128(1);

/// An instant in RFC 3339 form (`2026-11-30T08:00:00Z`).
///
/// # Panics
/// On text that is not one.
pub fn utc(s: &str) -> DateTime<Utc> {
    s.parse().expect("an RFC 3339 instant")
}

/// English text.
pub fn en(s: &str) -> LocalizedText {
    LocalizedText::single(Language::en(), s)
}

/// The sample survey, version 1, active, created `2026-11-01T00:00:00Z`:
///
/// | key | kind | required | shown when |
/// |---|---|---|---|
/// | `nps` | NPS 0–10 | yes | always |
/// | `reason` | single choice `waiting_time`, `staff`, `other` | yes | `nps` ≤ 6 |
/// | `csat` | CSAT 1–5 | no | always |
/// | `ces` | CES 1–7, 7 is easy | no | always |
/// | `comment` | free text, 500 characters | no | always |
///
/// Offered after service to everyone (sample rate 1, 30-day cooldown, valid 72 hours) and
/// by link.
pub fn survey() -> Survey {
    let option = |key: &str, label: &str| Choice {
        key: key.into(),
        label: en(label),
    };
    Survey {
        id: SURVEY,
        organization: ORGANIZATION,
        version: 1,
        name: "After visit".into(),
        title: en("How was your visit?"),
        questions: vec![
            Question {
                required: true,
                ..score_question("nps", QuestionKind::Nps)
            },
            Question {
                key: "reason".into(),
                prompt: en("What went wrong?"),
                kind: QuestionKind::SingleChoice {
                    options: vec![
                        option("waiting_time", "The wait"),
                        option("staff", "The staff"),
                        option("other", "Something else"),
                    ],
                },
                required: true,
                show_if: Some(Condition {
                    question: "nps".into(),
                    test: ConditionTest::ScoreAtMost(6),
                }),
            },
            score_question("csat", QuestionKind::Csat),
            score_question(
                "ces",
                QuestionKind::Ces {
                    direction: CesDirection::HighIsEasy,
                },
            ),
            free_text("comment", 500),
        ],
        triggers: Triggers {
            after_service: Some(AfterService {
                branches: vec![],
                services: vec![],
                classes: vec![],
                sample_rate: 1.0,
                cooldown_days: 30,
                valid_hours: 72,
            }),
            link: true,
            kiosk: false,
        },
        active: true,
        created_at: utc("2026-11-01T00:00:00Z"),
    }
}

/// An optional question of a score kind, its prompt its key.
pub fn score_question(key: &str, kind: QuestionKind) -> Question {
    Question {
        key: key.into(),
        prompt: en(key),
        kind,
        required: false,
        show_if: None,
    }
}

/// An optional free-text question.
pub fn free_text(key: &str, max_chars: u32) -> Question {
    Question {
        key: key.into(),
        prompt: en(key),
        kind: QuestionKind::FreeText { max_chars },
        required: false,
        show_if: None,
    }
}

/// A score answer.
pub fn score(question: &str, value: i32) -> Answer {
    Answer {
        question: question.into(),
        value: AnswerValue::Score(value),
    }
}

/// A text answer.
pub fn text(question: &str, value: &str) -> Answer {
    Answer {
        question: question.into(),
        value: AnswerValue::Text(value.into()),
    }
}

/// A choice answer.
pub fn chose(question: &str, options: &[&str]) -> Answer {
    Answer {
        question: question.into(),
        value: AnswerValue::Choices(options.iter().map(|o| (*o).to_owned()).collect()),
    }
}

/// Response `n` to [`survey`] version 1 at [`BRANCH`], by link, submitted
/// `2026-11-30T10:00:00Z`, with these answers and no visit, analysis or contact.
pub fn response(n: u128, answers: Vec<Answer>) -> Response {
    Response {
        id: ResponseId::from_u128(n),
        organization: ORGANIZATION,
        survey: SURVEY,
        version: 1,
        invitation: InvitationId::from_u128(n),
        branch: BRANCH,
        source: InvitationSource::Link,
        visit: VisitRef::default(),
        language: Language::en(),
        answers,
        analysis: None,
        reply_to: None,
        submitted_at: utc("2026-11-30T10:00:00Z"),
    }
}

/// Invitation `n` to [`survey`] at [`BRANCH`] after service, made `now`, valid 72 hours,
/// unanswered.
pub fn invitation(n: u128, now: DateTime<Utc>) -> Invitation {
    Invitation {
        id: InvitationId::from_u128(n),
        token: format!("token-{n}"),
        organization: ORGANIZATION,
        survey: SURVEY,
        branch: BRANCH,
        source: InvitationSource::AfterService,
        visit: VisitRef::default(),
        recipient_key: None,
        language: Language::en(),
        created_at: now,
        expires_at: now + Duration::hours(72),
        answered_at: None,
    }
}
