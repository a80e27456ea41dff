//! [`SurveyStore`] for [`MemoryStore`]: survey versions, invitations, responses and cases
//! beside the outbox, under the store's one lock, so a check (the latest version, the
//! cooldown, the invitation unanswered, the revision), its write and its messages are one step.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use cem_core::chrono::{DateTime, Utc};
use cem_core::{
    ALREADY_ANSWERED, COOLDOWN, Case, CaseFilter, CaseId, CaseStatus, Invitation, InvitationId,
    OrganizationId, OutboundMessage, ReplyTo, Response, ResponseFilter, ResponseId, STALE,
    StoreError, Survey, SurveyId, SurveyStore,
};

use crate::{MemoryStore, to_micros};

/// The `what` of the conflict a taken id or token gives.
const EXISTS: &str = "exists";

/// Survey versions, invitations, responses and cases.
#[derive(Debug, Default)]
pub(crate) struct SurveyTables {
    /// Every version of every survey, by id then version.
    surveys: BTreeMap<(SurveyId, u32), Survey>,
    invitations: HashMap<InvitationId, Invitation>,
    /// The unique key: a token once.
    tokens: HashMap<String, InvitationId>,
    responses: HashMap<ResponseId, Response>,
    cases: HashMap<CaseId, Case>,
}

impl SurveyTables {
    fn latest(&self, id: SurveyId) -> Option<&Survey> {
        self.surveys
            .range((id, 0)..=(id, u32::MAX))
            .next_back()
            .map(|(_, s)| s)
    }
}

/// The records as the databases keep them: every instant to the microsecond.
fn stored_survey(survey: &Survey) -> Survey {
    Survey {
        created_at: to_micros(survey.created_at),
        ..survey.clone()
    }
}

fn stored_invitation(invitation: &Invitation) -> Invitation {
    Invitation {
        created_at: to_micros(invitation.created_at),
        expires_at: to_micros(invitation.expires_at),
        answered_at: invitation.answered_at.map(to_micros),
        ..invitation.clone()
    }
}

fn stored_response(response: &Response) -> Response {
    Response {
        submitted_at: to_micros(response.submitted_at),
        ..response.clone()
    }
}

fn stored_case(case: &Case) -> Case {
    Case {
        deadline: to_micros(case.deadline),
        created_at: to_micros(case.created_at),
        updated_at: to_micros(case.updated_at),
        resolved_at: case.resolved_at.map(to_micros),
        ..case.clone()
    }
}

fn conflict(what: &str) -> StoreError {
    StoreError::Conflict {
        what: what.to_owned(),
    }
}

fn not_found(what: String) -> StoreError {
    StoreError::NotFound { what }
}

/// Whether `reply_to` has the phone number or e-mail address `to`.
fn reaches(reply_to: Option<&ReplyTo>, to: &str) -> bool {
    reply_to.is_some_and(|r| r.phone.as_deref() == Some(to) || r.email.as_deref() == Some(to))
}

#[async_trait]
impl SurveyStore for MemoryStore {
    async fn put_survey(&self, survey: &Survey) -> Result<(), StoreError> {
        let survey = stored_survey(survey);
        let mut inner = self.inner();
        let tables = &mut inner.surveys;
        let latest = tables.latest(survey.id);
        let ours = latest.filter(|l| l.organization == survey.organization);
        if survey.version > 1 && ours.is_none() {
            return Err(not_found(format!("survey {}", survey.id)));
        }
        let current = latest.map_or(0, |l| l.version);
        if current.checked_add(1) != Some(survey.version) {
            return Err(conflict(STALE));
        }
        tables.surveys.insert((survey.id, survey.version), survey);
        Ok(())
    }

    async fn survey(&self, id: SurveyId, version: Option<u32>) -> Result<Survey, StoreError> {
        let inner = self.inner();
        let tables = &inner.surveys;
        match version {
            Some(v) => tables.surveys.get(&(id, v)),
            None => tables.latest(id),
        }
        .cloned()
        .ok_or_else(|| not_found(format!("survey {id}")))
    }

    async fn surveys(&self, organization: OrganizationId) -> Result<Vec<Survey>, StoreError> {
        let inner = self.inner();
        // By id then version: the last of each id is its latest.
        let mut latest: BTreeMap<SurveyId, &Survey> = BTreeMap::new();
        for ((id, _), s) in &inner.surveys.surveys {
            latest.insert(*id, s);
        }
        let mut found: Vec<Survey> = latest
            .into_values()
            .filter(|s| s.organization == organization)
            .cloned()
            .collect();
        found.sort_by(|a, b| (&a.name, a.id).cmp(&(&b.name, b.id)));
        Ok(found)
    }

    async fn insert_invitation(
        &self,
        invitation: &Invitation,
        cooldown_since: Option<DateTime<Utc>>,
        messages: &[OutboundMessage],
    ) -> Result<(), StoreError> {
        let invitation = stored_invitation(invitation);
        let mut inner = self.inner();
        let tables = &mut inner.surveys;
        if tables.invitations.contains_key(&invitation.id)
            || tables.tokens.contains_key(&invitation.token)
        {
            return Err(conflict(EXISTS));
        }
        if let (Some(since), Some(key)) = (cooldown_since, &invitation.recipient_key) {
            let in_cooldown = tables.invitations.values().any(|i| {
                i.organization == invitation.organization
                    && i.recipient_key.as_ref() == Some(key)
                    && i.created_at >= since
            });
            if in_cooldown {
                return Err(conflict(COOLDOWN));
            }
        }
        let due = invitation.created_at;
        tables
            .tokens
            .insert(invitation.token.clone(), invitation.id);
        tables.invitations.insert(invitation.id, invitation);
        inner.outbox.add(messages, due);
        Ok(())
    }

    async fn invitation(&self, token: &str) -> Result<Invitation, StoreError> {
        let inner = self.inner();
        let tables = &inner.surveys;
        tables
            .tokens
            .get(token)
            .and_then(|id| tables.invitations.get(id))
            .cloned()
            .ok_or_else(|| not_found("invitation with that token".to_owned()))
    }

    async fn submit_response(
        &self,
        response: &Response,
        case: Option<&Case>,
    ) -> Result<(), StoreError> {
        let response = stored_response(response);
        let case = case.map(stored_case);
        let mut inner = self.inner();
        let tables = &mut inner.surveys;
        let invitation = tables
            .invitations
            .get(&response.invitation)
            .filter(|i| i.organization == response.organization)
            .ok_or_else(|| not_found(format!("invitation {}", response.invitation)))?;
        if invitation.answered_at.is_some() {
            return Err(conflict(ALREADY_ANSWERED));
        }
        if tables.responses.contains_key(&response.id)
            || case
                .as_ref()
                .is_some_and(|c| tables.cases.contains_key(&c.id))
        {
            return Err(conflict(EXISTS));
        }
        if let Some(i) = tables.invitations.get_mut(&response.invitation) {
            i.answered_at = Some(response.submitted_at);
        }
        if let Some(c) = case {
            tables.cases.insert(c.id, c);
        }
        tables.responses.insert(response.id, response);
        Ok(())
    }

    async fn response(&self, id: ResponseId) -> Result<Response, StoreError> {
        self.inner()
            .surveys
            .responses
            .get(&id)
            .cloned()
            .ok_or_else(|| not_found(format!("response {id}")))
    }

    async fn responses(&self, filter: &ResponseFilter) -> Result<Vec<Response>, StoreError> {
        let inner = self.inner();
        let mut found: Vec<Response> = inner
            .surveys
            .responses
            .values()
            .filter(|r| {
                r.organization == filter.organization
                    && filter.survey.is_none_or(|s| r.survey == s)
                    && filter
                        .branches
                        .as_ref()
                        .is_none_or(|b| b.contains(&r.branch))
                    && filter.from <= r.submitted_at
                    && r.submitted_at < filter.to
            })
            .cloned()
            .collect();
        found.sort_by_key(|r| (r.submitted_at, r.id));
        Ok(found)
    }

    async fn invitations_made(&self, filter: &ResponseFilter) -> Result<u64, StoreError> {
        let inner = self.inner();
        let made = inner
            .surveys
            .invitations
            .values()
            .filter(|i| {
                i.organization == filter.organization
                    && filter.survey.is_none_or(|s| i.survey == s)
                    && filter
                        .branches
                        .as_ref()
                        .is_none_or(|b| b.contains(&i.branch))
                    && filter.from <= i.created_at
                    && i.created_at < filter.to
            })
            .count();
        Ok(made as u64)
    }

    async fn update_case(
        &self,
        case: &Case,
        messages: &[OutboundMessage],
    ) -> Result<(), StoreError> {
        let mut new = stored_case(case);
        let mut inner = self.inner();
        let tables = &mut inner.surveys;
        let old = tables
            .cases
            .get(&new.id)
            .ok_or_else(|| not_found(format!("case {}", new.id)))?;
        if Some(old.revision) != new.revision.checked_sub(1) {
            return Err(conflict(STALE));
        }
        // What identifies the case stays as stored.
        new.organization = old.organization;
        new.branch = old.branch;
        new.response = old.response;
        new.survey = old.survey;
        let due = new.updated_at;
        tables.cases.insert(new.id, new);
        inner.outbox.add(messages, due);
        Ok(())
    }

    async fn case(&self, id: CaseId) -> Result<Case, StoreError> {
        self.inner()
            .surveys
            .cases
            .get(&id)
            .cloned()
            .ok_or_else(|| not_found(format!("case {id}")))
    }

    async fn cases(&self, filter: &CaseFilter) -> Result<Vec<Case>, StoreError> {
        let inner = self.inner();
        let mut found: Vec<Case> = inner
            .surveys
            .cases
            .values()
            .filter(|c| {
                c.organization == filter.organization
                    && filter
                        .branches
                        .as_ref()
                        .is_none_or(|b| b.contains(&c.branch))
                    && filter.status.is_none_or(|s| c.status == s)
                    && filter
                        .overdue_at
                        .is_none_or(|t| c.status != CaseStatus::Resolved && c.deadline <= t)
            })
            .cloned()
            .collect();
        found.sort_by_key(|c| (c.created_at, c.id));
        Ok(found)
    }

    async fn erase_reply_to(
        &self,
        organization: OrganizationId,
        to: &str,
    ) -> Result<u64, StoreError> {
        // A blank address is nobody's.
        if to.is_empty() {
            return Ok(0);
        }
        let mut inner = self.inner();
        let tables = &mut inner.surveys;
        let mut erased = 0;
        for r in tables.responses.values_mut() {
            if r.organization == organization && reaches(r.reply_to.as_ref(), to) {
                r.reply_to = None;
                erased += 1;
            }
        }
        for c in tables.cases.values_mut() {
            if c.organization == organization && reaches(c.reply_to.as_ref(), to) {
                c.reply_to = None;
                // An update prepared before the erasure must not write the contact back.
                c.revision += 1;
                erased += 1;
            }
        }
        Ok(erased)
    }
}
