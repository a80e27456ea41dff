//! [`SurveyStore`]: survey definitions in versions, single-use invitations, responses and
//! closed-loop cases.
//!
//! Two rules are the store's own, because only it can keep them under concurrency: an
//! invitation takes one response at most (of many clients submitting with one token, exactly
//! one succeeds), and a customer in their cooldown gets no second invitation (of many passes
//! inviting one customer at once, exactly one succeeds). Messages a change causes (the
//! invitation, the follow-up of a resolved case) are enqueued in the outbox in the same
//! transaction.

use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::survey::{Case, CaseStatus, Invitation, Response, Survey};
use crate::{BranchId, CaseId, OrganizationId, OutboundMessage, ResponseId, StoreError, SurveyId};

/// The `what` of the [`StoreError::Conflict`] an invitation already answered gives.
pub const ALREADY_ANSWERED: &str = "already_answered";
/// The `what` of the [`StoreError::Conflict`] a customer still in their cooldown gives.
pub const COOLDOWN: &str = "cooldown";

/// Which responses to read: an organization's, narrowed by any given field. Instants are
/// `from..to` on the submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseFilter {
    /// The organization.
    pub organization: OrganizationId,
    /// Only this survey's.
    pub survey: Option<SurveyId>,
    /// Only these branches'; `None` means all.
    pub branches: Option<Vec<BranchId>>,
    /// Submitted at or after.
    pub from: DateTime<Utc>,
    /// Submitted before.
    pub to: DateTime<Utc>,
}

/// Which cases to read: an organization's, narrowed by any given field, by creation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseFilter {
    /// The organization.
    pub organization: OrganizationId,
    /// Only these branches'; `None` means all.
    pub branches: Option<Vec<BranchId>>,
    /// Only cases with this status.
    pub status: Option<CaseStatus>,
    /// Only unresolved cases whose deadline is at or before this instant.
    pub overdue_at: Option<DateTime<Utc>>,
}

/// Survey definitions, invitations, responses and cases.
///
/// Every method is atomic. Instants are kept to the microsecond.
#[async_trait]
pub trait SurveyStore: Send + Sync + fmt::Debug + 'static {
    /// Stores a survey's next version.
    ///
    /// # Behavior
    /// Version 1 creates the survey; version `n` is stored only when version `n - 1` is the
    /// latest. Earlier versions stay readable. A survey stays in the organization of its first
    /// version.
    ///
    /// # Errors
    /// `Conflict` with `stale` when the version is not the next one (another change came
    /// first); `NotFound` when `n > 1` and the survey does not exist in `survey.organization`;
    /// `Unavailable` or `Backend`. Nothing was written.
    async fn put_survey(&self, survey: &Survey) -> Result<(), StoreError>;

    /// A survey's latest version, or the version asked.
    ///
    /// # Errors
    /// `NotFound`; `Unavailable` or `Backend`.
    async fn survey(&self, id: SurveyId, version: Option<u32>) -> Result<Survey, StoreError>;

    /// The latest version of every survey of an organization, by name then id.
    ///
    /// # Errors
    /// `Unavailable` or `Backend`.
    async fn surveys(&self, organization: OrganizationId) -> Result<Vec<Survey>, StoreError>;

    /// Stores an invitation and enqueues `messages` (pending, due at once), in one
    /// transaction.
    ///
    /// # Behavior
    /// With `cooldown_since` and a `recipient_key`, it is stored only if the organization has
    /// no invitation for that key made at or after `cooldown_since`: of many passes inviting
    /// one customer at once, exactly one does.
    ///
    /// # Errors
    /// `Conflict` with [`COOLDOWN`] when the customer is in their cooldown; `Conflict` with
    /// `exists` when the id or the token exists (an invitation derived again); `Unavailable`
    /// or `Backend`. Nothing was written.
    async fn insert_invitation(
        &self,
        invitation: &Invitation,
        cooldown_since: Option<DateTime<Utc>>,
        messages: &[OutboundMessage],
    ) -> Result<(), StoreError>;

    /// The invitation with a token.
    ///
    /// # Errors
    /// `NotFound`; `Unavailable` or `Backend`.
    async fn invitation(&self, token: &str) -> Result<Invitation, StoreError>;

    /// Stores a response, marks its invitation answered at `response.submitted_at`, and
    /// stores the case it opens, in one transaction.
    ///
    /// # Behavior
    /// Of many clients submitting for one invitation, exactly one succeeds.
    ///
    /// # Errors
    /// `NotFound` when the invitation does not exist in `response.organization`; `Conflict`
    /// with [`ALREADY_ANSWERED`] when it was answered; `Conflict` when the response or case id
    /// exists; `Unavailable` or `Backend`. Nothing was written.
    async fn submit_response(
        &self,
        response: &Response,
        case: Option<&Case>,
    ) -> Result<(), StoreError>;

    /// One response.
    ///
    /// # Errors
    /// `NotFound`; `Unavailable` or `Backend`.
    async fn response(&self, id: ResponseId) -> Result<Response, StoreError>;

    /// The responses a filter selects, by submission then id.
    ///
    /// # Errors
    /// `Unavailable` or `Backend`.
    async fn responses(&self, filter: &ResponseFilter) -> Result<Vec<Response>, StoreError>;

    /// How many invitations a filter selects, by the instant they were made (in `from..to`)
    /// and their survey and branch: the denominator of the response rate.
    ///
    /// # Errors
    /// `Unavailable` or `Backend`.
    async fn invitations_made(&self, filter: &ResponseFilter) -> Result<u64, StoreError>;

    /// Replaces a case whose stored revision is `case.revision - 1`, and enqueues `messages`,
    /// in one transaction. The id, organization, branch, response and survey never change.
    ///
    /// # Errors
    /// `NotFound`; `Conflict` with `stale` when the revision moved; `Unavailable` or
    /// `Backend`. Nothing was written.
    async fn update_case(
        &self,
        case: &Case,
        messages: &[OutboundMessage],
    ) -> Result<(), StoreError>;

    /// One case.
    ///
    /// # Errors
    /// `NotFound`; `Unavailable` or `Backend`.
    async fn case(&self, id: CaseId) -> Result<Case, StoreError>;

    /// The cases a filter selects, by creation then id.
    ///
    /// # Errors
    /// `Unavailable` or `Backend`.
    async fn cases(&self, filter: &CaseFilter) -> Result<Vec<Case>, StoreError>;

    /// Erases a respondent's contact in an organization: every response and case whose
    /// `reply_to` has the phone number or e-mail address `to` loses it (cases move their
    /// revision on). Returns how many records changed; the empty string erases none.
    ///
    /// # Errors
    /// `Unavailable` or `Backend`.
    async fn erase_reply_to(
        &self,
        organization: OrganizationId,
        to: &str,
    ) -> Result<u64, StoreError>;
}
