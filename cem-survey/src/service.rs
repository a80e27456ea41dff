//! [`SurveyService`]: the thin async layer that reads surveys, invitations, responses and cases
//! through the [`SurveyStore`] port, runs the pure rules of this crate, and writes the result.
//!
//! The rules judge records read a moment before the write; the store keeps the two that must
//! hold under concurrency (one response per invitation, one invitation per cooldown), and a
//! case changed by two managers at once is decided again on the fresh record.

use std::sync::Arc;

use cem_core::chrono::{DateTime, TimeDelta, Utc};
use cem_core::{
    ALREADY_ANSWERED, Answer, BranchId, Case, CaseFilter, CaseId, Clock, Entropy, Invitation,
    InvitationId, InvitationSource, Language, OrganizationId, OutboundMessage, ReplyTo, Response,
    ResponseFilter, ResponseId, STALE, StoreError, Survey, SurveyId, SurveyStore, UserId, VisitRef,
};

use crate::text::TextAnalyzer;
use crate::{
    CaseRules, Group, GroupBy, Summary, SurveyError, accepts, case_for, check_answers, escalate,
    free_text, group, needed_versions, next_version, offered, resolve, response_rate, take,
    validate,
};

/// How long an invitation opened from a branch's link or on a kiosk may be answered.
pub const WALK_UP_VALID_HOURS: i64 = 2;

/// How many times a case change that lost a race is decided again.
const ATTEMPTS: usize = 5;

/// Why a service call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// A rule refused it.
    #[error(transparent)]
    Refused(#[from] SurveyError),
    /// The survey does not offer itself this way (inactive, or not by link or kiosk).
    #[error("survey {survey} is not offered by {way}")]
    NotOffered {
        /// The survey.
        survey: SurveyId,
        /// How it was asked for.
        way: &'static str,
    },
    /// A store failed (`NotFound` for an unknown survey, invitation or case; `Conflict` for a
    /// survey changed meanwhile).
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ServiceError {
    /// A stable, machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Refused(e) => e.code(),
            Self::NotOffered { .. } => "survey_not_offered",
            Self::Store(StoreError::NotFound { .. }) => "not_found",
            Self::Store(StoreError::Conflict { .. }) => "conflict",
            Self::Store(_) => "store_unavailable",
        }
    }
}

/// What a customer submits.
#[derive(Debug, Clone, PartialEq)]
pub struct Submission {
    /// The survey version the customer was shown.
    pub version: u32,
    /// The language they answered in.
    pub language: Language,
    /// Their answers.
    pub answers: Vec<Answer>,
    /// Where they may be contacted back, when they chose to leave it.
    pub reply_to: Option<ReplyTo>,
}

/// Results of a survey (or of all) over a period, grouped.
#[derive(Debug, Clone, PartialEq)]
pub struct Results {
    /// Every response of the selection together.
    pub overall: Summary,
    /// Invitations made in the period.
    pub invitations: u64,
    /// Responses over invitations, in percent; `None` without invitations.
    pub response_rate: Option<f64>,
    /// The groups, with those of people too small to show hidden.
    pub groups: Vec<Group>,
}

/// What a resolved case tells the customer, given the case as stored: the messages to enqueue
/// with it (in the same transaction).
pub type FollowUp<'a> = &'a (dyn Fn(&Case) -> Vec<OutboundMessage> + Send + Sync);

/// Surveys over a [`SurveyStore`], with a [`TextAnalyzer`] for free text and the
/// [`CaseRules`] of the closed loop.
#[derive(Debug, Clone)]
pub struct SurveyService {
    store: Arc<dyn SurveyStore>,
    analyzer: Arc<dyn TextAnalyzer>,
    clock: Arc<dyn Clock>,
    entropy: Arc<dyn Entropy>,
    rules: CaseRules,
}

impl SurveyService {
    /// A service over the given ports.
    pub fn new(
        store: Arc<dyn SurveyStore>,
        analyzer: Arc<dyn TextAnalyzer>,
        clock: Arc<dyn Clock>,
        entropy: Arc<dyn Entropy>,
        rules: CaseRules,
    ) -> Self {
        Self {
            store,
            analyzer,
            clock,
            entropy,
            rules,
        }
    }

    /// The rules of the closed loop.
    pub fn rules(&self) -> &CaseRules {
        &self.rules
    }

    /// 128 random bits.
    fn random(&self) -> uuid::Uuid {
        let mut bytes = [0_u8; 16];
        self.entropy.fill(&mut bytes);
        uuid::Uuid::from_bytes(bytes)
    }

    /// A new unguessable token (see [`invitation_token`](crate::invitation_token)).
    pub fn token(&self) -> String {
        crate::invitation_token(&*self.entropy)
    }

    /// Stores a new survey as version 1 (its `version` and `created_at` are set here).
    ///
    /// # Errors
    /// `Refused(InvalidSurvey)`; `Store(Conflict)` when the id exists.
    pub async fn create(&self, mut survey: Survey) -> Result<Survey, ServiceError> {
        survey.version = 1;
        survey.created_at = self.clock.now();
        validate(&survey)?;
        self.store.put_survey(&survey).await?;
        Ok(survey)
    }

    /// Stores `changed` as the next version of the survey whose latest version is `expected`.
    ///
    /// # Errors
    /// `Refused` (see [`next_version`]); `Store(Conflict)` when the latest version is not
    /// `expected` (someone else changed it first); `Store(NotFound)`.
    pub async fn change(
        &self,
        id: SurveyId,
        expected: u32,
        changed: Survey,
    ) -> Result<Survey, ServiceError> {
        let previous = self.store.survey(id, None).await?;
        if previous.version != expected {
            return Err(StoreError::Conflict { what: STALE.into() }.into());
        }
        let next = next_version(&previous, changed, self.clock.now())?;
        self.store.put_survey(&next).await?;
        Ok(next)
    }

    /// A survey's latest version, or the version asked.
    ///
    /// # Errors
    /// `Store(NotFound)`.
    pub async fn survey(&self, id: SurveyId, version: Option<u32>) -> Result<Survey, ServiceError> {
        Ok(self.store.survey(id, version).await?)
    }

    /// The latest version of every survey of an organization.
    ///
    /// # Errors
    /// `Store`.
    pub async fn surveys(&self, organization: OrganizationId) -> Result<Vec<Survey>, ServiceError> {
        Ok(self.store.surveys(organization).await?)
    }

    /// Opens an invitation for a walk-up respondent at a branch: from the branch's survey link
    /// or QR code, or on a kiosk, which opens one for each respondent in turn. It may be
    /// answered for [`WALK_UP_VALID_HOURS`].
    ///
    /// # Errors
    /// `NotOffered` unless the survey is active and offered this way; `Store(NotFound)`.
    pub async fn open(
        &self,
        survey: SurveyId,
        branch: BranchId,
        source: InvitationSource,
        language: Language,
    ) -> Result<(Invitation, Survey), ServiceError> {
        let s = self.store.survey(survey, None).await?;
        if source == InvitationSource::AfterService || !offered(&s, source) {
            return Err(ServiceError::NotOffered {
                survey,
                way: source.as_str(),
            });
        }
        let now = self.clock.now();
        let invitation = Invitation {
            id: InvitationId::new(self.random()),
            token: self.token(),
            organization: s.organization,
            survey,
            branch,
            source,
            visit: VisitRef::default(),
            recipient_key: None,
            language,
            created_at: now,
            expires_at: now + TimeDelta::hours(WALK_UP_VALID_HOURS),
            answered_at: None,
        };
        self.store.insert_invitation(&invitation, None, &[]).await?;
        Ok((invitation, s))
    }

    /// The invitation with a token and the survey to show: the latest version.
    ///
    /// # Errors
    /// `Refused` when it can no longer be answered (see [`accepts`]); `Store(NotFound)`.
    pub async fn invitation(&self, token: &str) -> Result<(Invitation, Survey), ServiceError> {
        let invitation = self.store.invitation(token).await?;
        let survey = self.store.survey(invitation.survey, None).await?;
        accepts(&invitation, &survey, self.clock.now())?;
        Ok((invitation, survey))
    }

    /// Takes a response to the invitation with `token`: checks the answers against the version
    /// shown, analyzes the free text, and stores the response with the case it opens. Of many
    /// submissions for one invitation, exactly one is taken.
    ///
    /// # Errors
    /// `Refused` for answers that break the survey's rules, an invitation expired or answered
    /// (`AlreadyAnswered`), a survey no longer active; `Store(NotFound)` for an unknown token
    /// or version.
    pub async fn submit(
        &self,
        token: &str,
        submission: Submission,
        response_id: ResponseId,
        case_id: CaseId,
    ) -> Result<(Response, Option<Case>), ServiceError> {
        let invitation = self.store.invitation(token).await?;
        let now = self.clock.now();
        // Whether it is still answered is the latest version's say (a survey made inactive
        // since takes no response); the answers are judged against the version shown.
        let latest = self.store.survey(invitation.survey, None).await?;
        accepts(&invitation, &latest, now)?;
        let survey = if latest.version == submission.version {
            latest
        } else {
            self.store
                .survey(invitation.survey, Some(submission.version))
                .await?
        };
        let answers = check_answers(&survey, submission.answers)?;
        let text = free_text(&survey, &answers);
        let analysis = (!text.trim().is_empty())
            .then(|| self.analyzer.analyze(&text, Some(&submission.language)));
        let response = Response {
            id: response_id,
            organization: invitation.organization,
            survey: survey.id,
            version: survey.version,
            invitation: invitation.id,
            branch: invitation.branch,
            source: invitation.source,
            visit: invitation.visit.clone(),
            language: submission.language,
            answers,
            analysis,
            reply_to: submission.reply_to,
            submitted_at: now,
        };
        let case = case_for(&response, &survey, &self.rules, case_id, now);
        match self.store.submit_response(&response, case.as_ref()).await {
            Ok(()) => Ok((response, case)),
            Err(StoreError::Conflict { what }) if what == ALREADY_ANSWERED => {
                Err(SurveyError::AlreadyAnswered { answered_at: now }.into())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The results of an organization's responses selected by `filter`, grouped by `by`, with
    /// the groups of people (agents, counters) of fewer than `min_group` responses hidden.
    ///
    /// # Errors
    /// `Store`.
    pub async fn results(
        &self,
        filter: &ResponseFilter,
        by: GroupBy,
        min_group: u32,
    ) -> Result<Results, ServiceError> {
        let responses = self.store.responses(filter).await?;
        let mut surveys = Vec::new();
        for (id, version) in needed_versions(&responses) {
            match self.store.survey(id, Some(version)).await {
                Ok(s) => surveys.push(s),
                Err(StoreError::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        let invitations = self.store.invitations_made(filter).await?;
        let overall = crate::Scores::of(&responses, &surveys).summary();
        Ok(Results {
            overall,
            invitations,
            response_rate: response_rate(responses.len() as u64, invitations),
            groups: group(&responses, &surveys, by, min_group),
        })
    }

    /// The cases a filter selects.
    ///
    /// # Errors
    /// `Store`.
    pub async fn cases(&self, filter: &CaseFilter) -> Result<Vec<Case>, ServiceError> {
        Ok(self.store.cases(filter).await?)
    }

    /// One case.
    ///
    /// # Errors
    /// `Store(NotFound)`.
    pub async fn case(&self, id: CaseId) -> Result<Case, ServiceError> {
        Ok(self.store.case(id).await?)
    }

    /// The response that opened a case.
    ///
    /// # Errors
    /// `Store(NotFound)`.
    pub async fn response(&self, id: ResponseId) -> Result<Response, ServiceError> {
        Ok(self.store.response(id).await?)
    }

    /// Gives a case to `owner`, who works on it.
    ///
    /// # Errors
    /// `Refused` for a resolved case; `Store(NotFound)`.
    pub async fn take(&self, id: CaseId, owner: UserId) -> Result<Case, ServiceError> {
        self.change_case(id, &|_| Vec::new(), |c, now| take(c, owner, now))
            .await
    }

    /// Resolves a case with its root cause and resolution; `follow_up(&case)` are the
    /// messages that tell the customer, written with it.
    ///
    /// # Errors
    /// `Refused` for a resolved case or a missing note; `Store(NotFound)`.
    pub async fn resolve(
        &self,
        id: CaseId,
        root_cause: String,
        resolution: String,
        follow_up: FollowUp<'_>,
    ) -> Result<Case, ServiceError> {
        self.change_case(id, follow_up, |c, now| {
            resolve(c, root_cause.clone(), resolution.clone(), now)
        })
        .await
    }

    /// Escalates an organization's unresolved cases past their deadline, once per deadline
    /// passed, and returns them.
    ///
    /// # Errors
    /// `Store`.
    pub async fn escalate_overdue(
        &self,
        organization: OrganizationId,
    ) -> Result<Vec<Case>, ServiceError> {
        let now = self.clock.now();
        let overdue = self
            .store
            .cases(&CaseFilter {
                organization,
                branches: None,
                status: None,
                overdue_at: Some(now),
            })
            .await?;
        let mut escalated = Vec::new();
        for case in overdue {
            let Some(next) = escalate(&case, &self.rules, now) else {
                continue;
            };
            match self.store.update_case(&next, &[]).await {
                Ok(()) => escalated.push(next),
                // Changed meanwhile: the next sweep looks again.
                Err(StoreError::Conflict { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(escalated)
    }

    /// Applies `decide` to the stored case and writes the result with `messages`, deciding
    /// again on the fresh record when another writer got there first.
    async fn change_case(
        &self,
        id: CaseId,
        messages: FollowUp<'_>,
        decide: impl Fn(&Case, DateTime<Utc>) -> Result<Case, SurveyError>,
    ) -> Result<Case, ServiceError> {
        for _ in 0..ATTEMPTS {
            let current = self.store.case(id).await?;
            let next = decide(&current, self.clock.now())?;
            match self.store.update_case(&next, &messages(&next)).await {
                Ok(()) => return Ok(next),
                Err(StoreError::Conflict { what }) if what == STALE => {}
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Conflict { what: STALE.into() }.into())
    }
}
