//! Survey records: a [`Survey`] definition in versions, the single-use [`Invitation`] to answer
//! it, the [`Response`] given, and the closed-loop [`Case`] a poor response opens, as a store
//! keeps them.
//!
//! These are plain data. Every rule (validating a definition, skip logic, checking answers,
//! triggers and sampling, the metrics, text analytics, when a case opens and escalates) lives in
//! the `cem-survey` crate.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{
    AgentId, BranchId, CaseId, ClassId, CounterId, InvitationId, OrganizationId, ResponseId,
    ServiceId, SurveyId, TicketId, UserId,
};
use crate::text::{Language, LocalizedText};

/// A survey definition at one version.
///
/// A definition is never edited in place: every change is stored as the next version, and a
/// response keeps the version it answered, so results always read against the questions the
/// customer saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Survey {
    /// Id, the same across versions.
    pub id: SurveyId,
    /// The organization whose survey it is.
    pub organization: OrganizationId,
    /// Version, from 1, one more on every change.
    pub version: u32,
    /// Name shown to managers.
    pub name: String,
    /// Title shown to customers.
    pub title: LocalizedText,
    /// The questions, in the order asked.
    pub questions: Vec<Question>,
    /// When and to whom the survey is offered.
    pub triggers: Triggers,
    /// An inactive survey invites no one and takes no response.
    pub active: bool,
    /// When this version was stored.
    pub created_at: DateTime<Utc>,
}

/// One question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Question {
    /// Key, unique in the survey and kept across versions (`nps`, `comment`).
    pub key: String,
    /// What is asked.
    pub prompt: LocalizedText,
    /// The kind of answer it takes.
    pub kind: QuestionKind,
    /// Whether an answer is required (when the question is shown).
    #[serde(default)]
    pub required: bool,
    /// Shown only when this condition on an earlier answer holds (simple skip logic).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show_if: Option<Condition>,
}

/// The kind of a question and the answers it takes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum QuestionKind {
    /// Net Promoter Score: "how likely are you to recommend …", 0 to 10.
    Nps,
    /// Customer satisfaction, 1 (very unsatisfied) to 5 (very satisfied).
    Csat,
    /// Customer effort, 1 to 7, with the direction of its scale stored.
    Ces {
        /// Which end of the scale is the easy one.
        direction: CesDirection,
    },
    /// A rating on a scale from `min` to `max`.
    Rating {
        /// Lowest score.
        min: i32,
        /// Highest score.
        max: i32,
    },
    /// One of several options.
    SingleChoice {
        /// The options.
        options: Vec<Choice>,
    },
    /// Any number of several options.
    MultipleChoice {
        /// The options.
        options: Vec<Choice>,
    },
    /// Free text up to `max_chars` characters.
    FreeText {
        /// The longest answer, in characters.
        max_chars: u32,
    },
}

/// Which end of a customer effort scale means "easy".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CesDirection {
    /// 7 is "very easy" (agreement with "the organization made it easy").
    HighIsEasy,
    /// 1 is "very easy" (effort asked directly: "how much effort did it take").
    LowIsEasy,
}

/// An option of a choice question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    /// Key, unique in the question.
    pub key: String,
    /// The label shown.
    pub label: LocalizedText,
}

/// A condition on the answer to an earlier question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Condition {
    /// The key of an earlier question.
    pub question: String,
    /// What its answer must be.
    #[serde(flatten)]
    pub test: ConditionTest,
}

/// What a [`Condition`] tests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "test", content = "value", rename_all = "snake_case")]
pub enum ConditionTest {
    /// The question was answered.
    Answered,
    /// A score at most this.
    ScoreAtMost(i32),
    /// A score at least this.
    ScoreAtLeast(i32),
    /// This option was chosen.
    Chose(String),
}

/// When and to whom a survey is offered.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Triggers {
    /// Invite customers whose service has finished, when they left a contact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_service: Option<AfterService>,
    /// Offer the survey by a link and QR code per branch, for walk-up feedback.
    #[serde(default)]
    pub link: bool,
    /// Offer the survey on a kiosk or tablet that resets after each respondent.
    #[serde(default)]
    pub kiosk: bool,
}

/// The rule that invites customers after their service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AfterService {
    /// Only tickets of these branches; empty means all.
    #[serde(default)]
    pub branches: Vec<BranchId>,
    /// Only tickets of these services; empty means all.
    #[serde(default)]
    pub services: Vec<ServiceId>,
    /// Only tickets of these classes; empty means all.
    #[serde(default)]
    pub classes: Vec<ClassId>,
    /// The share of eligible customers invited, from 0 to 1.
    pub sample_rate: f64,
    /// A customer invited to any survey of the organization is not invited again for this
    /// many days.
    #[serde(default)]
    pub cooldown_days: u32,
    /// How long an invitation may be answered, in hours.
    pub valid_hours: u32,
}

/// How an invitation came about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvitationSource {
    /// Sent to the customer after their service.
    AfterService,
    /// Opened from the branch's survey link or QR code.
    Link,
    /// Started on a kiosk or tablet.
    Kiosk,
}

impl InvitationSource {
    /// The name used in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AfterService => "after_service",
            Self::Link => "link",
            Self::Kiosk => "kiosk",
        }
    }

    /// The source named `s`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "after_service" => Some(Self::AfterService),
            "link" => Some(Self::Link),
            "kiosk" => Some(Self::Kiosk),
            _ => None,
        }
    }
}

/// What is known of the visit a response is about; every field a report groups by.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitRef {
    /// The ticket, when the visit had one.
    #[serde(default)]
    pub ticket: Option<TicketId>,
    /// The service.
    #[serde(default)]
    pub service: Option<ServiceId>,
    /// The counter that served.
    #[serde(default)]
    pub counter: Option<CounterId>,
    /// The agent who served.
    #[serde(default)]
    pub agent: Option<AgentId>,
    /// The customer's class.
    #[serde(default)]
    pub class: Option<ClassId>,
}

/// A single-use invitation to answer a survey: one response at most, whatever the concurrency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Invitation {
    /// Id; an invitation after a service has an id derived from its ticket and survey, so
    /// deriving it again finds the one stored.
    pub id: InvitationId,
    /// The unguessable token the customer answers with.
    pub token: String,
    /// The organization.
    pub organization: OrganizationId,
    /// The survey.
    pub survey: SurveyId,
    /// The branch of the visit.
    pub branch: BranchId,
    /// How it came about.
    pub source: InvitationSource,
    /// The visit it asks about.
    #[serde(default)]
    pub visit: VisitRef,
    /// An opaque key of the customer for the cooldown (a digest of their phone, e-mail or
    /// customer number); `None` when unknown.
    #[serde(default)]
    pub recipient_key: Option<String>,
    /// The language to ask in.
    pub language: Language,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// After this it can no longer be answered.
    pub expires_at: DateTime<Utc>,
    /// When it was answered.
    #[serde(default)]
    pub answered_at: Option<DateTime<Utc>>,
}

/// One answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    /// The question's key.
    pub question: String,
    /// The value given.
    pub value: AnswerValue,
}

/// The value of an answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AnswerValue {
    /// A score (NPS, CSAT, CES, rating).
    Score(i32),
    /// Options chosen (one for a single choice).
    Choices(Vec<String>),
    /// Free text.
    Text(String),
}

/// The sentiment of a text, from very negative to very positive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SentimentLabel {
    /// Very negative.
    VeryNegative,
    /// Negative.
    Negative,
    /// Neither.
    Neutral,
    /// Positive.
    Positive,
    /// Very positive.
    VeryPositive,
}

impl SentimentLabel {
    /// The name used in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VeryNegative => "very_negative",
            Self::Negative => "negative",
            Self::Neutral => "neutral",
            Self::Positive => "positive",
            Self::VeryPositive => "very_positive",
        }
    }

    /// Whether it is negative or very negative.
    pub fn is_negative(self) -> bool {
        matches!(self, Self::VeryNegative | Self::Negative)
    }
}

/// What text analytics found in a response's free text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextAnalysis {
    /// The language detected, when one was.
    #[serde(default)]
    pub language: Option<Language>,
    /// Sentiment score from -1 (very negative) to 1 (very positive).
    pub score: f32,
    /// The score's label.
    pub sentiment: SentimentLabel,
    /// Topic tags found (`waiting_time`, `staff`), sorted, each once.
    #[serde(default)]
    pub tags: Vec<String>,
}

/// Where a respondent may be contacted back (they chose to leave it), for the follow-up when
/// their case is resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyTo {
    /// A phone number (E.164).
    #[serde(default)]
    pub phone: Option<String>,
    /// An e-mail address.
    #[serde(default)]
    pub email: Option<String>,
    /// The language they read.
    pub language: Language,
}

/// A response to a survey.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Response {
    /// Id.
    pub id: ResponseId,
    /// The organization.
    pub organization: OrganizationId,
    /// The survey.
    pub survey: SurveyId,
    /// The version of the survey answered.
    pub version: u32,
    /// The invitation answered.
    pub invitation: InvitationId,
    /// The branch of the visit.
    pub branch: BranchId,
    /// How the invitation came about.
    pub source: InvitationSource,
    /// The visit.
    #[serde(default)]
    pub visit: VisitRef,
    /// The language answered in.
    pub language: Language,
    /// The answers, in question order.
    pub answers: Vec<Answer>,
    /// What text analytics found in the free-text answers.
    #[serde(default)]
    pub analysis: Option<TextAnalysis>,
    /// Where the respondent may be contacted back.
    #[serde(default)]
    pub reply_to: Option<ReplyTo>,
    /// When it was submitted.
    pub submitted_at: DateTime<Utc>,
}

/// Why a case was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "score", rename_all = "snake_case")]
pub enum CaseReason {
    /// A detractor's NPS (0–6).
    Detractor(i32),
    /// A CSAT of 1 or 2.
    LowCsat(i32),
    /// Negative free text.
    NegativeText,
}

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    /// Waiting for someone to take it.
    Open,
    /// Someone works on it.
    InProgress,
    /// Resolved, with a root cause and a resolution note.
    Resolved,
}

impl CaseStatus {
    /// The name used in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::InProgress => "in_progress",
            Self::Resolved => "resolved",
        }
    }

    /// The status named `s`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "open" => Some(Self::Open),
            "in_progress" => Some(Self::InProgress),
            "resolved" => Some(Self::Resolved),
            _ => None,
        }
    }
}

impl fmt::Display for CaseStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A closed-loop case: a poor response, followed up by the branch's manager.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    /// Id.
    pub id: CaseId,
    /// The organization.
    pub organization: OrganizationId,
    /// The branch, whose managers own it.
    pub branch: BranchId,
    /// The response that opened it.
    pub response: ResponseId,
    /// The survey answered.
    pub survey: SurveyId,
    /// Why it was opened (the first reason found).
    pub reason: CaseReason,
    /// Where it stands.
    pub status: CaseStatus,
    /// Who works on it.
    #[serde(default)]
    pub owner: Option<UserId>,
    /// When it should be resolved.
    pub deadline: DateTime<Utc>,
    /// How many times it escalated: once each time it passed a deadline unresolved.
    #[serde(default)]
    pub escalations: u32,
    /// The root cause found.
    #[serde(default)]
    pub root_cause: Option<String>,
    /// What was done.
    #[serde(default)]
    pub resolution: Option<String>,
    /// Where the customer may be told the case is resolved.
    #[serde(default)]
    pub reply_to: Option<ReplyTo>,
    /// When it was opened.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// When it was resolved.
    #[serde(default)]
    pub resolved_at: Option<DateTime<Utc>>,
    /// Revision, from 1, one more on every change; an update states the revision it read.
    pub revision: u64,
}
