//! # cem-survey
//!
//! CEM survey: survey definitions, triggers, responses, NPS/CSAT/CES metrics, text analytics and
//! closed-loop cases. The records themselves ([`Survey`](cem_core::Survey),
//! [`Invitation`](cem_core::Invitation), [`Response`](cem_core::Response),
//! [`Case`](cem_core::Case)) live in [`cem_core::survey`] with the
//! [`SurveyStore`](cem_core::SurveyStore) port; this crate holds their rules and does no IO.
//! It never reads the clock (every decision takes `now`) and draws no random numbers (callers
//! pass ids and tokens; sampling is a deterministic hash).
//!
//! - [`definition`]: [`validate`] a survey, [`next_version`] to change it, the [`scale`] of a
//!   score question.
//! - [`answers`]: the skip logic ([`visible_questions`]), [`check_answers`] of a submission,
//!   the [`free_text`] the analytics read.
//! - [`trigger`]: who is invited after a service ([`eligible`], [`sampled`],
//!   [`invites_after_service`]), the invitation's [`invitation_id`], [`cooldown_since`] and
//!   [`expires_at`], and whether it [`accepts`] a response.
//! - [`metrics`]: NPS, CSAT, CES, response rate and sentiment with written definitions;
//!   [`Scores`] fold and merge, [`group`] them by branch, service, counter, agent, survey or
//!   period, hiding a person's scores below a minimum group size.
//! - [`case`]: the closed loop: [`case_for`] a poor response, then [`take`], [`resolve`],
//!   [`reopen`] and [`escalate`].
//! - [`text`]: text analytics of free-text answers (language, sentiment, topic tags).
//! - [`SurveyError`]: why a decision was refused, with a stable [`code`](SurveyError::code).
//! - [`testing`]: a sample survey, answers, responses and invitations for tests and examples.
//!
//! ```
//! use cem_survey::testing::{response, score, survey, text};
//! use cem_survey::{Scores, check_answers, validate};
//!
//! // The sample survey: NPS, a reason asked of detractors only, CSAT, CES, a comment.
//! let survey = survey();
//! validate(&survey)?;
//!
//! // A promoter needs not give a reason; their comment is trimmed.
//! let answers = check_answers(&survey, vec![score("nps", 10), text("comment", " Fast! ")])?;
//! assert_eq!(answers, vec![score("nps", 10), text("comment", "Fast!")]);
//!
//! // A detractor must.
//! let refused = check_answers(&survey, vec![score("nps", 4)]).unwrap_err();
//! assert_eq!(refused.code(), "answer_required");
//!
//! // Two promoters, a passive and a detractor: 50 % − 25 % = NPS 25.
//! let responses: Vec<_> = [10, 9, 7, 3]
//!     .into_iter()
//!     .enumerate()
//!     .map(|(i, nps)| response(i as u128, vec![score("nps", nps)]))
//!     .collect();
//! let scores = Scores::of(&responses, &[survey]);
//! assert_eq!(scores.nps(), Some(25.0));
//! # Ok::<(), cem_survey::SurveyError>(())
//! ```

pub mod answers;
pub mod case;
pub mod definition;
pub mod error;
pub mod metrics;
pub mod service;
pub mod testing;
pub mod text;
pub mod trigger;

pub use answers::{answer, check_answers, free_text, is_answered, visible_questions};
pub use case::{
    CaseRules, MAX_NOTE_CHARS, case_for, escalate, is_overdue, reason, reopen, resolve, take,
};
pub use definition::{
    CES_SCALE, CSAT_SCALE, MAX_COOLDOWN_DAYS, MAX_FREE_TEXT_CHARS, MAX_KEY_LEN, MAX_RATING_SPAN,
    MAX_VALID_HOURS, NPS_SCALE, kind_name, next_version, question, scale, validate,
};
pub use error::SurveyError;
pub use metrics::{
    CesMean, Group, GroupBy, GroupKey, Scores, Summary, group, needed_versions, response_rate,
    suppress,
};
pub use service::{
    FollowUp, Results, ServiceError, Submission, SurveyService, WALK_UP_VALID_HOURS,
};
pub use trigger::{
    INVITATION_NAMESPACE, accepts, cooldown_since, eligible, expires_at, invitation_id,
    invitation_token, invites_after_service, offered, sample_key, sample_point, sampled,
};

pub use cem_core;
