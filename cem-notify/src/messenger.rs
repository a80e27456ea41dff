//! [`Messenger`]: the queue's history turned into messages in the outbox.
//!
//! The messenger is a projection of the store's global history. Each pass reads the events
//! after its cursor, derives the messages they cause and enqueues them while it moves the
//! cursor past those events, in one transaction ([`OutboxStore::enqueue`]). A server that
//! dies at any point derives the same messages again, with the same ids, and the outbox keeps
//! each once: nothing is lost and nothing is sent twice.
//!
//! What it derives:
//! - for a customer who left a [`Contact`] for their ticket, by text message and e-mail as the
//!   contact allows: the ticket issued (with the link to follow it), the turn near (by the
//!   branch's [`turn_near_ahead`](cem_core::QueueSettings::turn_near_ahead) and
//!   [`turn_near_wait_secs`](cem_core::QueueSettings::turn_near_wait_secs), once per ticket,
//!   also to a ticket near as soon as issued, which a customer who joined from afar wants to
//!   know) and every call to a counter. Events older than [`MessengerSettings::stale_after`] when the
//!   messenger reads them (after an outage) tell the customer nothing: a late "please go to
//!   counter 3" is worse than none.
//! - for every active [`WebhookSubscription`] of the branch's organization that wants the
//!   event's type: the event, posted as a signed JSON document, late or not (but none from
//!   before the subscription was made).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use cem_core::chrono::{DateTime, TimeDelta, Utc};
use cem_core::{
    BranchConfig, BranchId, Channel, Clock, Contact, ContactStore, Language, LocalizedText,
    OutboundMessage, OutboxStore, QueueEventStore, RecordedEvent, ServiceId, StoreError,
    SubscriptionStore, TicketId, WebhookSubscription,
};
use cem_queue::service::decode;
use cem_queue::{QueueEvent, QueueService, ServiceError, TicketState};

use crate::address::{Recipient, addressed, message_id};
use crate::{MessageKind, RenderError};

/// The name of the messenger's cursor in the outbox.
pub const CURSOR: &str = "messages";

/// How the messenger works.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessengerSettings {
    /// The public address of the server, before the tracking links' paths
    /// (`https://queue.example.org`); a ticket is followed at
    /// `<public_url>/track/<branch>/<ticket>`.
    pub public_url: String,
    /// Events older than this when read give customers no message.
    pub stale_after: Duration,
    /// Events read per pass at most.
    pub page: usize,
}

impl Default for MessengerSettings {
    /// `http://127.0.0.1:8080`, stale after 15 minutes, pages of 500 events.
    fn default() -> Self {
        Self {
            public_url: "http://127.0.0.1:8080".into(),
            stale_after: Duration::from_secs(15 * 60),
            page: 500,
        }
    }
}

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MessengerPass {
    /// Events read.
    pub events: usize,
    /// Messages enqueued (some may have been in the outbox already).
    pub messages: usize,
    /// Events whose branch this server does not know, or that do not decode: they cause no
    /// message.
    pub skipped: usize,
}

/// Why a pass failed; it changed nothing, and the next pass starts from the same cursor.
#[derive(Debug, thiserror::Error)]
pub enum MessengerError {
    /// A store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A branch's state could not be read.
    #[error(transparent)]
    Queue(#[from] ServiceError),
    /// A catalogue cannot write a message.
    #[error(transparent)]
    Render(#[from] RenderError),
}

/// Derives messages from the queue's history; see the [module docs](self).
///
/// One messenger runs per server. Several (in several servers) may share an outbox: they
/// derive the same messages with the same ids, and the cursor never moves backwards.
#[derive(Debug)]
pub struct Messenger {
    events: Arc<dyn QueueEventStore>,
    queue: Arc<QueueService>,
    contacts: Arc<dyn ContactStore>,
    subscriptions: Arc<dyn SubscriptionStore>,
    outbox: Arc<dyn OutboxStore>,
    clock: Arc<dyn Clock>,
    settings: MessengerSettings,
    /// Per branch, the live tickets with a contact not yet told their turn is near; remembered
    /// across passes so that a pass looks only at them. Rebuilt from the branch's state when
    /// the branch first appears (after a start or a failed pass).
    watched: HashMap<BranchId, HashSet<TicketId>>,
}

/// A message to a customer, before its contact (and so its language) is known.
struct Draft {
    ticket: TicketId,
    config: Arc<BranchConfig>,
    /// What makes its id unique among the ticket's messages.
    cause: String,
    what: What,
    created_at: DateTime<Utc>,
}

enum What {
    Issued {
        display: String,
        service: ServiceId,
    },
    Near {
        display: String,
        ahead: u32,
        wait_secs: Option<f64>,
    },
    Called {
        display: String,
        counter: u16,
    },
}

/// What a pass learned of one branch's state, under its lock.
#[derive(Default)]
struct BranchView {
    /// Display numbers of the tickets the pass may tell about.
    displays: HashMap<TicketId, String>,
    /// Watched tickets whose turn is near: (ticket, ahead, estimated wait in seconds).
    near: Vec<(TicketId, u32, Option<f64>)>,
    /// Watched tickets whose life is over.
    gone: Vec<TicketId>,
}

impl Messenger {
    /// A messenger over the given ports, with its settings.
    pub fn new(
        events: Arc<dyn QueueEventStore>,
        queue: Arc<QueueService>,
        stores: MessengerStores,
        clock: Arc<dyn Clock>,
        settings: MessengerSettings,
    ) -> Self {
        Self {
            events,
            queue,
            contacts: stores.contacts,
            subscriptions: stores.subscriptions,
            outbox: stores.outbox,
            clock,
            settings,
            watched: HashMap::new(),
        }
    }

    /// One pass: reads a page of events after the cursor and enqueues their messages.
    ///
    /// # Errors
    /// A store or a branch could not be read, or the messages written; nothing was enqueued
    /// and the cursor did not move.
    pub async fn pass(&mut self) -> Result<MessengerPass, MessengerError> {
        let result = self.try_pass().await;
        if result.is_err() {
            // The next pass learns the branches again, from their state.
            self.watched.clear();
        }
        result
    }

    /// Passes until the history is read to its end; returns what they did together.
    ///
    /// # Errors
    /// As [`pass`](Self::pass); the passes before the failing one stand.
    pub async fn catch_up(&mut self) -> Result<MessengerPass, MessengerError> {
        let mut total = MessengerPass::default();
        loop {
            let pass = self.pass().await?;
            total.events += pass.events;
            total.messages += pass.messages;
            total.skipped += pass.skipped;
            if pass.events < self.settings.page.max(1) {
                return Ok(total);
            }
        }
    }

    async fn try_pass(&mut self) -> Result<MessengerPass, MessengerError> {
        let cursor = self.outbox.cursor(CURSOR).await?;
        let page = self
            .events
            .read_all(cursor, self.settings.page.max(1))
            .await?;
        let Some(last) = page.last().map(|e| e.position) else {
            return Ok(MessengerPass::default());
        };
        let now = self.clock.now();
        let stale_before =
            now - TimeDelta::from_std(self.settings.stale_after).unwrap_or(TimeDelta::MAX);
        let subscriptions: Vec<WebhookSubscription> = self
            .subscriptions
            .subscriptions(None)
            .await?
            .into_iter()
            .filter(|s| s.active)
            .collect();
        let mut pass = MessengerPass {
            events: page.len(),
            ..MessengerPass::default()
        };

        // Webhooks for every event; the page's events by branch, decoded.
        let mut messages = Vec::new();
        let mut by_branch: BTreeMap<BranchId, BranchEvents<'_>> = BTreeMap::new();
        for recorded in &page {
            let Some(config) = self.queue.config(recorded.branch) else {
                pass.skipped += 1;
                continue;
            };
            messages.extend(
                subscriptions
                    .iter()
                    .filter(|s| {
                        s.organization == config.branch.organization
                            && s.wants(&recorded.kind)
                            && recorded.at >= s.created_at
                    })
                    .map(|s| webhook_message(s, recorded)),
            );
            let Ok(event) = decode(recorded) else {
                pass.skipped += 1;
                continue;
            };
            let branch = by_branch
                .entry(recorded.branch)
                .or_insert_with(|| BranchEvents {
                    config,
                    version: 0,
                    events: Vec::new(),
                });
            branch.version = branch.version.max(recorded.version);
            branch.events.push((recorded, event));
        }

        // Whom the page may concern: the tickets it issues or calls and, in a branch seen for
        // the first time, its live tickets; only those with a contact are looked at further.
        let mut asked: Vec<TicketId> = Vec::new();
        let mut first_seen: HashMap<BranchId, Vec<TicketId>> = HashMap::new();
        for (&branch, page) in &by_branch {
            asked.extend(page.events.iter().filter_map(|(_, e)| concerns(e)));
            if !self.watched.contains_key(&branch) {
                let alive = self.queue.read_at(branch, page.version, |q| {
                    q.tickets()
                        .filter(|t| !t.state.is_terminal())
                        .map(|t| t.id)
                        .collect::<Vec<_>>()
                });
                match alive.await {
                    Ok(alive) => {
                        asked.extend(&alive);
                        first_seen.insert(branch, alive);
                    }
                    Err(ServiceError::UnknownBranch { .. }) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        let mut contacts = self.contacts_of(asked).await?;

        // Drafts for customers, from each branch's events and state.
        let mut drafts = Vec::new();
        let mut watch: Vec<(BranchId, TicketId)> = Vec::new();
        let mut forget: Vec<(BranchId, TicketId)> = Vec::new();
        for (&branch, page) in &by_branch {
            // Tickets to watch from now on: live ones with a contact, and new ones.
            let newly: Vec<TicketId> = first_seen
                .remove(&branch)
                .unwrap_or_default()
                .into_iter()
                .chain(page.events.iter().filter_map(|(_, e)| match e {
                    QueueEvent::TicketIssued { ticket, .. } => Some(*ticket),
                    _ => None,
                }))
                .filter(|t| contacts.contains_key(t))
                .collect();
            watch.extend(newly.iter().map(|&t| (branch, t)));
            let candidates: Vec<TicketId> = self
                .watched
                .get(&branch)
                .into_iter()
                .flatten()
                .chain(&newly)
                .copied()
                .collect();
            let fresh: Vec<&(&RecordedEvent, QueueEvent)> = page
                .events
                .iter()
                .filter(|(r, e)| {
                    r.at >= stale_before && concerns(e).is_some_and(|t| contacts.contains_key(&t))
                })
                .collect();
            let settings = &page.config.branch.queue;
            let view = self
                .queue
                .read_at(branch, page.version, |q| {
                    let mut view = BranchView::default();
                    for t in fresh.iter().filter_map(|(_, e)| e.ticket()) {
                        if let Some(ticket) = q.ticket(t) {
                            view.displays.insert(t, ticket.display.clone());
                        }
                    }
                    for t in candidates {
                        let Some(ticket) = q.ticket(t).filter(|t| !t.state.is_terminal()) else {
                            view.gone.push(t);
                            continue;
                        };
                        if ticket.state != TicketState::Waiting {
                            continue;
                        }
                        let Some(estimate) = q.estimate(t, now) else {
                            continue;
                        };
                        let soon = settings.turn_near_wait_secs > 0
                            && estimate
                                .wait_secs
                                .is_some_and(|w| w <= f64::from(settings.turn_near_wait_secs));
                        if estimate.ahead <= settings.turn_near_ahead || soon {
                            view.near.push((t, estimate.ahead, estimate.wait_secs));
                            view.displays.insert(t, ticket.display.clone());
                        }
                    }
                    view
                })
                .await;
            let view = match view {
                Ok(view) => view,
                Err(ServiceError::UnknownBranch { .. }) => {
                    pass.skipped += page.events.len();
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            for (recorded, event) in fresh {
                let Some(ticket) = event.ticket() else {
                    continue;
                };
                let Some(display) = view.displays.get(&ticket).cloned() else {
                    continue;
                };
                let draft = |cause: &str, what: What| Draft {
                    ticket,
                    config: Arc::clone(&page.config),
                    cause: format!("{cause}/{}", recorded.position),
                    what,
                    created_at: recorded.at,
                };
                match event {
                    QueueEvent::TicketIssued { service, .. } => drafts.push(draft(
                        "issued",
                        What::Issued {
                            display,
                            service: *service,
                        },
                    )),
                    QueueEvent::TicketCalled { counter, .. } => {
                        if let Some(counter) = page.config.counter(*counter) {
                            drafts.push(draft(
                                "called",
                                What::Called {
                                    display,
                                    counter: counter.number,
                                },
                            ));
                        }
                    }
                    _ => {}
                }
            }
            for (ticket, ahead, wait_secs) in view.near {
                forget.push((branch, ticket));
                drafts.push(Draft {
                    ticket,
                    config: Arc::clone(&page.config),
                    cause: "turn_near".into(),
                    what: What::Near {
                        display: view.displays.get(&ticket).cloned().unwrap_or_default(),
                        ahead,
                        wait_secs,
                    },
                    created_at: now,
                });
            }
            forget.extend(view.gone.into_iter().map(|t| (branch, t)));
        }

        // A watched ticket's contact may have been erased since: read it again.
        let unread: Vec<TicketId> = drafts
            .iter()
            .map(|d| d.ticket)
            .filter(|t| !contacts.contains_key(t))
            .collect();
        contacts.extend(self.contacts_of(unread).await?);
        for draft in &drafts {
            if let Some(contact) = contacts.get(&draft.ticket) {
                messages.extend(customer_messages(draft, contact, &self.settings)?);
            }
        }

        pass.messages = messages.len();
        self.outbox
            .enqueue(&messages, now, Some((CURSOR, last)))
            .await?;

        // Stored: remember whom to watch.
        for (branch, ticket) in watch {
            self.watched.entry(branch).or_default().insert(ticket);
        }
        for branch in by_branch.keys() {
            self.watched.entry(*branch).or_default();
        }
        for (branch, ticket) in forget {
            if let Some(watched) = self.watched.get_mut(&branch) {
                watched.remove(&ticket);
            }
        }
        Ok(pass)
    }

    /// The contacts of `tickets`, by ticket.
    async fn contacts_of(
        &self,
        mut tickets: Vec<TicketId>,
    ) -> Result<HashMap<TicketId, Contact>, StoreError> {
        tickets.sort_unstable();
        tickets.dedup();
        if tickets.is_empty() {
            return Ok(HashMap::new());
        }
        let found = self.contacts.contacts(&tickets).await?;
        Ok(found.into_iter().map(|c| (c.ticket, c)).collect())
    }
}

/// The ticket an event may tell its customer about: issued or called.
fn concerns(event: &QueueEvent) -> Option<TicketId> {
    match event {
        QueueEvent::TicketIssued { ticket, .. } | QueueEvent::TicketCalled { ticket, .. } => {
            Some(*ticket)
        }
        _ => None,
    }
}

/// The page's events of one branch.
struct BranchEvents<'a> {
    config: Arc<BranchConfig>,
    /// The newest version among them.
    version: u64,
    events: Vec<(&'a RecordedEvent, QueueEvent)>,
}

/// The stores a [`Messenger`] reads and writes, besides the queue's.
#[derive(Debug, Clone)]
pub struct MessengerStores {
    /// Customers' contacts.
    pub contacts: Arc<dyn ContactStore>,
    /// Integrations' subscriptions.
    pub subscriptions: Arc<dyn SubscriptionStore>,
    /// Where messages go.
    pub outbox: Arc<dyn OutboxStore>,
}

/// The text of `text` in `language` (else English, else any).
/// A name in the language, or English, or any.
pub(crate) fn name(text: &LocalizedText, language: &Language) -> String {
    text.get(language, &Language::en())
        .unwrap_or_default()
        .to_string()
}

/// The messages of `draft` to `contact`: one per channel the contact gives.
fn customer_messages(
    draft: &Draft,
    contact: &Contact,
    settings: &MessengerSettings,
) -> Result<Vec<OutboundMessage>, RenderError> {
    let language = &contact.language;
    let config = &draft.config;
    let branch = name(&config.branch.name, language);
    let kind = match &draft.what {
        What::Issued { display, service } => MessageKind::TicketIssued {
            display: display.clone(),
            service: config
                .service(*service)
                .map(|s| name(&s.name, language))
                .unwrap_or_default(),
            branch,
            tracking_link: format!(
                "{}/track/{}/{}",
                settings.public_url.trim_end_matches('/'),
                config.branch.id,
                draft.ticket
            ),
        },
        What::Near {
            display,
            ahead,
            wait_secs,
        } => MessageKind::TurnNear {
            display: display.clone(),
            position: *ahead,
            wait_minutes: wait_secs.map(|w| (w / 60.0).ceil() as u32),
            branch,
        },
        What::Called { display, counter } => MessageKind::TicketCalled {
            display: display.clone(),
            counter: *counter,
            branch,
        },
    };
    let recipient = Recipient {
        organization: contact.organization,
        phone: contact.phone.as_deref(),
        email: contact.email.as_deref(),
        language,
    };
    let ticket = draft.ticket.to_string();
    addressed(
        &kind,
        &recipient,
        &[&ticket, &draft.cause],
        draft.created_at,
    )
}

/// The document posted to a subscription for an event.
fn webhook_message(subscription: &WebhookSubscription, event: &RecordedEvent) -> OutboundMessage {
    let id = message_id(&[&subscription.id.to_string(), &event.position.to_string()]);
    let body = serde_json::json!({
        "id": id,
        "type": event.kind,
        "organization": subscription.organization,
        "branch": event.branch,
        "position": event.position,
        "version": event.version,
        "at": event.at,
        "data": event.payload,
    });
    OutboundMessage {
        id,
        organization: subscription.organization,
        channel: Channel::Webhook,
        to: subscription.url.clone(),
        kind: event.kind.clone(),
        language: Language::en(),
        subject: None,
        body: body.to_string(),
        created_at: event.at,
    }
}
