//! [`SurveyInviter`]: customers invited to a survey after their service, from the queue's
//! history.
//!
//! Like the [`Messenger`](crate::Messenger), the inviter is a projection of the store's global
//! history with its own cursor ([`INVITE_CURSOR`]). For each service finished by a customer who
//! left a [`Contact`], it asks each active survey of the organization with an
//! [`AfterService`](cem_core::AfterService) rule, in name order, whether it invites this
//! visit (branch, service and class filters, the deterministic sample), and the first that does
//! gets an [`Invitation`] and its message, written together by
//! [`SurveyStore::insert_invitation`], which also keeps the customer's cooldown. The
//! invitation's id derives from the ticket and the survey, so a pass repeated after a crash
//! finds it stored and sends nothing twice. One visit gets one survey at most.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use cem_core::chrono::{DateTime, Utc};
use cem_core::{
    AgentId, BranchConfig, BranchId, COOLDOWN, ClassId, Clock, Contact, ContactStore, CounterId,
    Entropy, Invitation, InvitationSource, OrganizationId, OutboxStore, QueueEventStore, ServiceId,
    StoreError, Survey, SurveyStore, TicketId, VisitRef,
};
use cem_queue::service::decode;
use cem_queue::{QueueEvent, QueueService};
use cem_survey::{
    cooldown_since, expires_at, invitation_id, invitation_token, invites_after_service,
};
use uuid::Uuid;

use crate::MessageKind;
use crate::address::{Recipient, addressed};
use crate::messenger::{MessengerError, name};

/// The name of the inviter's cursor in the outbox.
pub const INVITE_CURSOR: &str = "surveys";

/// The namespace of recipient keys (UUID version 5 of an organization and an address).
const RECIPIENT_NAMESPACE: Uuid = Uuid::from_u128(0x1f7c_93d2_5a40_4c6e_b1d8_72e0_4a9f_3c15);

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InviterPass {
    /// Events read.
    pub events: usize,
    /// Invitations made (with their messages).
    pub invited: usize,
    /// Finished services not invited because the customer is in their cooldown.
    pub cooling_down: usize,
}

/// The stores the inviter reads and writes.
#[derive(Debug, Clone)]
pub struct InviterStores {
    /// Customers' contacts for their tickets.
    pub contacts: Arc<dyn ContactStore>,
    /// Surveys and invitations.
    pub surveys: Arc<dyn SurveyStore>,
    /// The outbox, for the inviter's cursor.
    pub outbox: Arc<dyn OutboxStore>,
}

/// Invites customers to surveys after their service; see the [module docs](self).
#[derive(Debug)]
pub struct SurveyInviter {
    events: Arc<dyn QueueEventStore>,
    queue: Arc<QueueService>,
    contacts: Arc<dyn ContactStore>,
    surveys: Arc<dyn SurveyStore>,
    outbox: Arc<dyn OutboxStore>,
    clock: Arc<dyn Clock>,
    entropy: Arc<dyn Entropy>,
    public_url: String,
    page: usize,
}

/// A finished service, as the inviter needs it.
struct Finished {
    branch: BranchId,
    version: u64,
    ticket: TicketId,
    counter: CounterId,
    at: DateTime<Utc>,
}

impl SurveyInviter {
    /// An inviter over the given ports; `public_url` starts the survey links
    /// (`<public_url>/survey/<token>`), and a pass reads `page` events at most.
    pub fn new(
        events: Arc<dyn QueueEventStore>,
        queue: Arc<QueueService>,
        stores: InviterStores,
        clock: Arc<dyn Clock>,
        entropy: Arc<dyn Entropy>,
        public_url: String,
        page: usize,
    ) -> Self {
        Self {
            events,
            queue,
            contacts: stores.contacts,
            surveys: stores.surveys,
            outbox: stores.outbox,
            clock,
            entropy,
            public_url,
            page: page.max(1),
        }
    }

    /// One pass: reads a page of events after the cursor, invites, and moves the cursor.
    ///
    /// # Errors
    /// A store or a branch could not be read or written. The invitations made before the
    /// failure stand (the next pass finds them stored); the cursor did not move.
    pub async fn pass(&self) -> Result<InviterPass, MessengerError> {
        let cursor = self.outbox.cursor(INVITE_CURSOR).await?;
        let page = self.events.read_all(cursor, self.page).await?;
        let Some(last) = page.last().map(|e| e.position) else {
            return Ok(InviterPass::default());
        };
        let mut pass = InviterPass {
            events: page.len(),
            ..InviterPass::default()
        };
        let finished: Vec<Finished> = page
            .iter()
            .filter_map(|recorded| match decode(recorded) {
                Ok(QueueEvent::ServiceFinished {
                    ticket,
                    counter,
                    at,
                    ..
                }) => Some(Finished {
                    branch: recorded.branch,
                    version: recorded.version,
                    ticket,
                    counter,
                    at,
                }),
                _ => None,
            })
            .collect();
        let mut tickets: Vec<TicketId> = finished.iter().map(|f| f.ticket).collect();
        tickets.sort_unstable();
        tickets.dedup();
        let contacts: HashMap<TicketId, Contact> = if tickets.is_empty() {
            HashMap::new()
        } else {
            self.contacts
                .contacts(&tickets)
                .await?
                .into_iter()
                .map(|c| (c.ticket, c))
                .collect()
        };
        let mut surveys: BTreeMap<OrganizationId, Vec<Survey>> = BTreeMap::new();
        let now = self.clock.now();
        for f in finished {
            let (Some(contact), Some(config)) =
                (contacts.get(&f.ticket), self.queue.config(f.branch))
            else {
                continue;
            };
            let organization = config.branch.organization;
            if let std::collections::btree_map::Entry::Vacant(e) = surveys.entry(organization) {
                let mut active = self.surveys.surveys(organization).await?;
                active.retain(|s| s.active && s.triggers.after_service.is_some());
                e.insert(active);
            }
            let Some(visit) = self.visit(&f).await? else {
                continue;
            };
            let (Some(service), Some(class)) = (visit.service, visit.class) else {
                continue;
            };
            for survey in &surveys[&organization] {
                let Some(rule) = &survey.triggers.after_service else {
                    continue;
                };
                let until = expires_at(rule, f.at);
                if until <= now
                    || !invites_after_service(survey, f.ticket, f.branch, service, class)
                {
                    continue;
                }
                let invitation = Invitation {
                    id: invitation_id(f.ticket, survey.id),
                    token: invitation_token(&*self.entropy),
                    organization,
                    survey: survey.id,
                    branch: f.branch,
                    source: InvitationSource::AfterService,
                    visit: visit.clone(),
                    recipient_key: recipient_key(contact),
                    language: contact.language.clone(),
                    created_at: now,
                    expires_at: until,
                    answered_at: None,
                };
                let messages = self.messages(&invitation, contact, &config, f.at)?;
                match self
                    .surveys
                    .insert_invitation(&invitation, cooldown_since(rule, now), &messages)
                    .await
                {
                    Ok(()) => pass.invited += 1,
                    Err(StoreError::Conflict { what }) if what == COOLDOWN => {
                        pass.cooling_down += 1;
                    }
                    // Invited by an earlier pass.
                    Err(StoreError::Conflict { .. }) => {}
                    Err(e) => return Err(e.into()),
                }
                break;
            }
        }
        self.outbox
            .enqueue(&[], now, Some((INVITE_CURSOR, last)))
            .await?;
        Ok(pass)
    }

    /// Passes until the history is read to its end; returns what they did together.
    ///
    /// # Errors
    /// As [`pass`](Self::pass); the passes before the failing one stand.
    pub async fn catch_up(&self) -> Result<InviterPass, MessengerError> {
        let mut total = InviterPass::default();
        loop {
            let pass = self.pass().await?;
            total.events += pass.events;
            total.invited += pass.invited;
            total.cooling_down += pass.cooling_down;
            if pass.events < self.page {
                return Ok(total);
            }
        }
    }

    /// The visit of a finished service: its ticket's service and class, the counter, and the
    /// agent signed in there when the branch is read (the one who served, unless they left
    /// since). `None` when the ticket is no longer in the branch's state.
    async fn visit(&self, f: &Finished) -> Result<Option<VisitRef>, MessengerError> {
        let (ticket, counter) = (f.ticket, f.counter);
        let read = self.queue.read_at(f.branch, f.version, move |q| {
            let agent: Option<AgentId> =
                q.counters().find(|c| c.id == counter).and_then(|c| c.agent);
            q.ticket(ticket).map(|t| (t.service, t.class, agent))
        });
        match read.await {
            Ok(found) => Ok(found.map(|(service, class, agent)| VisitRef {
                ticket: Some(ticket),
                service: Some::<ServiceId>(service),
                counter: Some(counter),
                agent,
                class: Some::<ClassId>(class),
            })),
            Err(cem_queue::ServiceError::UnknownBranch { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The invitation's message to the customer, on each channel their contact gives.
    fn messages(
        &self,
        invitation: &Invitation,
        contact: &Contact,
        config: &BranchConfig,
        finished_at: DateTime<Utc>,
    ) -> Result<Vec<cem_core::OutboundMessage>, MessengerError> {
        let kind = MessageKind::SurveyInvitation {
            branch: name(&config.branch.name, &contact.language),
            survey_link: format!(
                "{}/survey/{}",
                self.public_url.trim_end_matches('/'),
                invitation.token
            ),
        };
        let recipient = Recipient {
            organization: contact.organization,
            phone: contact.phone.as_deref(),
            email: contact.email.as_deref(),
            language: &contact.language,
        };
        let id = invitation.id.to_string();
        Ok(addressed(
            &kind,
            &recipient,
            &[&id, kind.kind()],
            finished_at,
        )?)
    }
}

/// The key of a customer for the cooldown: an opaque digest of their organization and phone
/// number (or e-mail address, lowercased, without a phone), so the invitations table holds no
/// address. `None` for a contact with neither.
fn recipient_key(contact: &Contact) -> Option<String> {
    let address = contact
        .phone
        .clone()
        .or_else(|| contact.email.as_ref().map(|e| e.trim().to_lowercase()))?;
    let key = format!("{}/{address}", contact.organization);
    Some(
        Uuid::new_v5(&RECIPIENT_NAMESPACE, key.as_bytes())
            .simple()
            .to_string(),
    )
}
