//! Errors of surveys.

use cem_core::chrono::{DateTime, Utc};
use cem_core::{CaseId, CaseStatus, InvitationId, SurveyId, ValidationError};
use thiserror::Error;

/// Why a survey decision was refused. Nothing is changed by a refused decision.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum SurveyError {
    /// The definition breaks a rule of its shape; the inner error names the field
    /// (`questions.nps.prompt`) or the repeated key.
    #[error("invalid survey: {0}")]
    InvalidSurvey(#[from] ValidationError),
    /// An answer names a question the survey does not have.
    #[error("unknown question {question:?}")]
    UnknownQuestion {
        /// The key given.
        question: String,
    },
    /// Two answers name the same question.
    #[error("question {question:?} is answered twice")]
    DuplicateAnswer {
        /// The question's key.
        question: String,
    },
    /// A required question that is shown was not answered.
    #[error("question {question:?} requires an answer")]
    AnswerRequired {
        /// The question's key.
        question: String,
    },
    /// The answer is of the wrong type for its question (a text for a score…).
    #[error("question {question:?} takes {expected}")]
    WrongAnswerType {
        /// The question's key.
        question: String,
        /// What it takes (`a score`, `options`, `a text`).
        expected: &'static str,
    },
    /// A score outside the question's scale.
    #[error("{value} is outside {min}..={max} for question {question:?}")]
    AnswerOutOfRange {
        /// The question's key.
        question: String,
        /// The score given.
        value: i32,
        /// Lowest score of the scale.
        min: i32,
        /// Highest score of the scale.
        max: i32,
    },
    /// An option the question does not offer.
    #[error("question {question:?} has no option {choice:?}")]
    UnknownChoice {
        /// The question's key.
        question: String,
        /// The option given.
        choice: String,
    },
    /// An option chosen twice.
    #[error("option {choice:?} of question {question:?} is chosen twice")]
    DuplicateChoice {
        /// The question's key.
        question: String,
        /// The repeated option.
        choice: String,
    },
    /// Several options for a single-choice question.
    #[error("question {question:?} takes one option")]
    OneChoiceOnly {
        /// The question's key.
        question: String,
    },
    /// A free-text answer longer than the question allows.
    #[error("the answer to question {question:?} has {chars} characters, at most {max} allowed")]
    TextTooLong {
        /// The question's key.
        question: String,
        /// Its length in characters, once trimmed.
        chars: usize,
        /// The question's limit.
        max: u32,
    },
    /// The invitation can no longer be answered.
    #[error("the invitation expired at {expired_at}")]
    InvitationExpired {
        /// When it expired.
        expired_at: DateTime<Utc>,
    },
    /// The invitation was answered already: one response per invitation.
    #[error("the invitation was answered at {answered_at}")]
    AlreadyAnswered {
        /// When it was answered.
        answered_at: DateTime<Utc>,
    },
    /// The survey is inactive: it invites no one and takes no response.
    #[error("survey {survey} is inactive")]
    SurveyInactive {
        /// The survey.
        survey: SurveyId,
    },
    /// The invitation is for another survey (or organization) than the one given.
    #[error("invitation {invitation} is not for survey {survey}")]
    WrongSurvey {
        /// The invitation.
        invitation: InvitationId,
        /// The survey given.
        survey: SurveyId,
    },
    /// The case is resolved and cannot be changed so (taken, resolved, escalated).
    #[error("case {case} is resolved and cannot be {action}")]
    CaseResolved {
        /// The case.
        case: CaseId,
        /// What was asked (`taken`, `resolved`).
        action: &'static str,
    },
    /// The case is not resolved, so it cannot be reopened.
    #[error("case {case} is {status} and cannot be reopened")]
    CaseNotResolved {
        /// The case.
        case: CaseId,
        /// Its status.
        status: CaseStatus,
    },
    /// A note a case needs is empty.
    #[error("the {field} is required")]
    NoteRequired {
        /// Which note (`root cause`, `resolution`).
        field: &'static str,
    },
    /// A note of a case is longer than allowed.
    #[error("the {field} has {chars} characters, at most {max} allowed")]
    NoteTooLong {
        /// Which note (`root cause`, `resolution`).
        field: &'static str,
        /// Its length in characters, once trimmed.
        chars: usize,
        /// The limit.
        max: usize,
    },
}

impl SurveyError {
    /// A stable machine-readable code for the error (`answer_out_of_range`), for APIs and logs.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidSurvey(_) => "invalid_survey",
            Self::UnknownQuestion { .. } => "unknown_question",
            Self::DuplicateAnswer { .. } => "duplicate_answer",
            Self::AnswerRequired { .. } => "answer_required",
            Self::WrongAnswerType { .. } => "wrong_answer_type",
            Self::AnswerOutOfRange { .. } => "answer_out_of_range",
            Self::UnknownChoice { .. } => "unknown_choice",
            Self::DuplicateChoice { .. } => "duplicate_choice",
            Self::OneChoiceOnly { .. } => "one_choice_only",
            Self::TextTooLong { .. } => "text_too_long",
            Self::InvitationExpired { .. } => "invitation_expired",
            Self::AlreadyAnswered { .. } => "already_answered",
            Self::SurveyInactive { .. } => "survey_inactive",
            Self::WrongSurvey { .. } => "wrong_survey",
            Self::CaseResolved { .. } => "case_resolved",
            Self::CaseNotResolved { .. } => "case_not_resolved",
            Self::NoteRequired { .. } => "note_required",
            Self::NoteTooLong { .. } => "note_too_long",
        }
    }

    /// Whether the error is about the answers submitted (the respondent can correct them),
    /// rather than about the definition, the invitation or a case.
    pub fn is_answer_error(&self) -> bool {
        matches!(
            self,
            Self::UnknownQuestion { .. }
                | Self::DuplicateAnswer { .. }
                | Self::AnswerRequired { .. }
                | Self::WrongAnswerType { .. }
                | Self::AnswerOutOfRange { .. }
                | Self::UnknownChoice { .. }
                | Self::DuplicateChoice { .. }
                | Self::OneChoiceOnly { .. }
                | Self::TextTooLong { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_snake_case_and_messages_lowercase() {
        let errors = [
            SurveyError::InvalidSurvey(ValidationError::InvalidField {
                field: "name".into(),
                reason: "is empty".into(),
            }),
            SurveyError::UnknownQuestion {
                question: "x".into(),
            },
            SurveyError::AnswerOutOfRange {
                question: "nps".into(),
                value: 11,
                min: 0,
                max: 10,
            },
            SurveyError::SurveyInactive {
                survey: SurveyId::from_u128(1),
            },
            SurveyError::NoteRequired {
                field: "root cause",
            },
        ];
        for e in errors {
            assert!(e.code().chars().all(|c| c.is_ascii_lowercase() || c == '_'));
            let msg = e.to_string();
            assert!(!msg.starts_with(char::is_uppercase), "{msg}");
            assert!(!msg.ends_with('.'), "{msg}");
        }
        assert_eq!(
            SurveyError::AnswerOutOfRange {
                question: "nps".into(),
                value: 11,
                min: 0,
                max: 10
            }
            .to_string(),
            "11 is outside 0..=10 for question \"nps\""
        );
    }

    #[test]
    fn answer_errors_are_told_apart() {
        assert!(
            SurveyError::AnswerRequired {
                question: "nps".into()
            }
            .is_answer_error()
        );
        assert!(
            !SurveyError::SurveyInactive {
                survey: SurveyId::from_u128(1)
            }
            .is_answer_error()
        );
    }
}
