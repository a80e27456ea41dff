//! The messenger over the in-memory store: which messages the queue's history causes, to whom,
//! once each, and what a failed pass or a restart changes (nothing).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use cem_core::chrono::{DateTime, TimeDelta, Utc};
use cem_core::{
    BranchConfig, Channel, Clock, Contact, ContactStore, Language, ManualClock, MessageId,
    OrganizationId, OutboundMessage, OutboxEntry, OutboxStore, Outcome, QueueEventStore,
    StoreError, SubscriptionId, SubscriptionStore, TicketId, WebhookSubscription, async_trait,
};
use cem_notify::{CURSOR, Messenger, MessengerSettings, MessengerStores};
use cem_queue::testing::{branch_config, counter_id};
use cem_queue::{Command, IssueTicket, QueueService, ServiceOptions, TicketSource};
use cem_store_memory::MemoryStore;

struct World {
    store: Arc<MemoryStore>,
    queue: Arc<QueueService>,
    clock: Arc<ManualClock>,
    config: BranchConfig,
}

fn start() -> DateTime<Utc> {
    "2026-11-28T08:00:00Z".parse().unwrap()
}

impl World {
    async fn new(counters: usize) -> Self {
        let config = branch_config(1, counters);
        let store = Arc::new(MemoryStore::new());
        let queue = Arc::new(QueueService::new(
            store.clone(),
            None,
            ServiceOptions::default(),
        ));
        queue.add_branch(config.clone()).unwrap();
        let world = Self {
            store,
            queue,
            clock: Arc::new(ManualClock::new(start())),
            config,
        };
        for i in 0..counters {
            world
                .run(Command::OpenCounter {
                    counter: counter_id(i),
                    agent: None,
                })
                .await;
        }
        world
    }

    fn messenger_over(&self, outbox: Arc<dyn OutboxStore>) -> Messenger {
        Messenger::new(
            self.store.clone(),
            self.queue.clone(),
            MessengerStores {
                contacts: self.store.clone(),
                subscriptions: self.store.clone(),
                outbox,
            },
            self.clock.clone(),
            MessengerSettings {
                public_url: "https://queue.example.org/".into(),
                page: 7,
                ..MessengerSettings::default()
            },
        )
    }

    fn messenger(&self) -> Messenger {
        self.messenger_over(self.store.clone())
    }

    async fn run(&self, command: Command) {
        self.queue
            .execute(self.config.branch.id, &command, self.clock.now())
            .await
            .unwrap();
    }

    /// Finishes what the counter holds, if anything, and calls the next ticket.
    async fn next(&self, i: usize) {
        let counter = counter_id(i);
        let _nothing_held = self
            .queue
            .execute(
                self.config.branch.id,
                &Command::Finish { counter },
                self.clock.now(),
            )
            .await;
        self.run(Command::CallNext { counter }).await;
    }

    async fn issue(&self, n: u128) -> TicketId {
        let ticket = TicketId::from_u128(n);
        self.run(Command::Issue(IssueTicket {
            ticket,
            service: self.config.services[0].id,
            class: None,
            source: TicketSource::Web,
            customer: None,
            appointment_at: None,
        }))
        .await;
        ticket
    }

    async fn contact(&self, ticket: TicketId, phone: Option<&str>, email: Option<&str>, fa: bool) {
        self.store
            .save_contact(&Contact {
                ticket,
                organization: self.config.branch.organization,
                phone: phone.map(Into::into),
                email: email.map(Into::into),
                language: if fa { Language::fa() } else { Language::en() },
                created_at: self.clock.now(),
            })
            .await
            .unwrap();
    }

    /// Every message in the outbox, by kind and recipient, in a stable order.
    async fn sent(&self, outbox: &dyn OutboxStore) -> Vec<OutboxEntry> {
        let claimed = outbox
            .claim(
                self.clock.now() + TimeDelta::days(1),
                self.clock.now() + TimeDelta::days(2),
                10_000,
            )
            .await
            .unwrap();
        for entry in &claimed {
            outbox
                .settle(
                    entry.message.id,
                    entry.attempts,
                    &Outcome::Delivered,
                    self.clock.now(),
                )
                .await
                .unwrap();
        }
        claimed
    }
}

fn summary(entries: &[OutboxEntry]) -> BTreeSet<(String, String)> {
    entries
        .iter()
        .map(|e| (e.message.kind.clone(), e.message.to.clone()))
        .collect()
}

fn pair(kind: &str, to: &str) -> (String, String) {
    (kind.to_string(), to.to_string())
}

/// A customer who left a phone number hears of the ticket, of the turn coming near once, and
/// of the call; one who left nothing hears nothing; the e-mail is in the customer's language.
#[tokio::test]
async fn customers_with_a_contact_hear_of_issue_turn_near_and_call() {
    let w = World::new(1).await;
    let mut messenger = w.messenger();
    let mut tickets = Vec::new();
    for n in 1..=6 {
        let ticket = w.issue(n).await;
        if n == 6 {
            w.contact(ticket, Some("+4930111"), Some("sara@example.org"), true)
                .await;
        }
        tickets.push(ticket);
    }
    messenger.catch_up().await.unwrap();
    let sent = w.sent(&*w.store).await;
    assert_eq!(
        summary(&sent),
        BTreeSet::from([
            pair("ticket_issued", "+4930111"),
            pair("ticket_issued", "sara@example.org"),
        ]),
        "ticket 6 is issued with 5 ahead: not near yet"
    );
    let email = sent
        .iter()
        .find(|e| e.message.channel == Channel::Email)
        .unwrap();
    assert_eq!(email.message.language, Language::fa());
    assert!(
        email.message.body.contains(&format!(
            "https://queue.example.org/track/{}/{}",
            w.config.branch.id, tickets[5]
        )),
        "{}",
        email.message.body
    );
    assert!(
        email.message.body.contains("A-۰۰۶"),
        "{}",
        email.message.body
    );

    // Calls move ticket 6 up: at 3 ahead (the default) its turn is near, and it is told once.
    let mut near_after = Vec::new();
    for call in 1..=5 {
        w.next(0).await;
        messenger.catch_up().await.unwrap();
        let sent = w.sent(&*w.store).await;
        if sent.iter().any(|e| e.message.kind == "turn_near") {
            near_after.push(call);
            assert_eq!(
                summary(&sent),
                BTreeSet::from([
                    pair("turn_near", "+4930111"),
                    pair("turn_near", "sara@example.org"),
                ])
            );
        } else {
            assert!(sent.is_empty(), "call {call}: {sent:?}");
        }
    }
    assert_eq!(near_after, [2], "with tickets 3, 4, 5 ahead");

    // Ticket 6 is called to counter 1.
    w.next(0).await;
    messenger.catch_up().await.unwrap();
    let sent = w.sent(&*w.store).await;
    assert_eq!(
        summary(&sent),
        BTreeSet::from([
            pair("ticket_called", "+4930111"),
            pair("ticket_called", "sara@example.org"),
        ])
    );
    let sms = sent
        .iter()
        .find(|e| e.message.channel == Channel::Sms)
        .unwrap();
    assert!(
        sms.message.body.contains('۱'),
        "counter 1 in Persian digits: {}",
        sms.message.body
    );
}

/// A webhook subscription receives the event types it asked for, from its organization only,
/// as signed-to-be JSON documents naming the event; an inactive one receives nothing.
#[tokio::test]
async fn subscriptions_receive_the_events_they_want() {
    let w = World::new(1).await;
    let subscription =
        |n: u128, organization: OrganizationId, url: &str, events: &[&str]| WebhookSubscription {
            id: SubscriptionId::from_u128(n),
            organization,
            url: url.into(),
            events: events.iter().map(|e| e.to_string()).collect(),
            secret: "s3cret".into(),
            active: true,
            created_at: start(),
        };
    let ours = w.config.branch.organization;
    for s in [
        subscription(1, ours, "https://crm.example.org/all", &[]),
        subscription(2, ours, "https://crm.example.org/calls", &["ticket_called"]),
        subscription(
            3,
            OrganizationId::from_u128(99),
            "https://other.example.org",
            &[],
        ),
        WebhookSubscription {
            active: false,
            ..subscription(4, ours, "https://old.example.org", &[])
        },
    ] {
        w.store.put_subscription(&s).await.unwrap();
    }
    let ticket = w.issue(1).await;
    w.run(Command::CallNext {
        counter: counter_id(0),
    })
    .await;
    let mut messenger = w.messenger();
    messenger.catch_up().await.unwrap();
    let sent = w.sent(&*w.store).await;
    assert_eq!(
        summary(&sent),
        BTreeSet::from([
            pair("counter_opened", "https://crm.example.org/all"),
            pair("ticket_issued", "https://crm.example.org/all"),
            pair("ticket_called", "https://crm.example.org/all"),
            pair("ticket_called", "https://crm.example.org/calls"),
        ])
    );
    let called = sent
        .iter()
        .find(|e| e.message.to.ends_with("/calls"))
        .unwrap();
    assert_eq!(called.message.channel, Channel::Webhook);
    let body: serde_json::Value = serde_json::from_str(&called.message.body).unwrap();
    assert_eq!(body["type"], "ticket_called");
    assert_eq!(body["id"], called.message.id.to_string());
    assert_eq!(body["branch"], w.config.branch.id.to_string());
    assert_eq!(body["data"]["ticket"], ticket.to_string());
}

/// After an outage, old events still reach integrations, but tell customers nothing.
#[tokio::test]
async fn stale_events_reach_webhooks_but_not_customers() {
    let w = World::new(1).await;
    w.store
        .put_subscription(&WebhookSubscription {
            id: SubscriptionId::from_u128(1),
            organization: w.config.branch.organization,
            url: "https://crm.example.org".into(),
            events: vec!["ticket_called".into()],
            secret: "s3cret".into(),
            active: true,
            created_at: start(),
        })
        .await
        .unwrap();
    let ticket = w.issue(1).await;
    w.contact(ticket, Some("+4930111"), None, false).await;
    w.run(Command::CallNext {
        counter: counter_id(0),
    })
    .await;
    w.clock.advance(TimeDelta::minutes(16));
    w.messenger().catch_up().await.unwrap();
    assert_eq!(
        summary(&w.sent(&*w.store).await),
        BTreeSet::from([pair("ticket_called", "https://crm.example.org")])
    );
}

/// An outbox that refuses writes while `fail` is set.
#[derive(Debug)]
struct Flaky {
    inner: Arc<MemoryStore>,
    fail: AtomicBool,
}

#[async_trait]
impl OutboxStore for Flaky {
    async fn enqueue(
        &self,
        messages: &[OutboundMessage],
        due: DateTime<Utc>,
        cursor: Option<(&str, u64)>,
    ) -> Result<(), StoreError> {
        if self.fail.load(Ordering::SeqCst) {
            return Err(StoreError::Unavailable {
                message: "down on purpose".into(),
            });
        }
        self.inner.enqueue(messages, due, cursor).await
    }
    async fn cursor(&self, name: &str) -> Result<u64, StoreError> {
        self.inner.cursor(name).await
    }
    async fn claim(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        self.inner.claim(now, lease_until, limit).await
    }
    async fn settle(
        &self,
        id: MessageId,
        attempt: u32,
        outcome: &Outcome,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.inner.settle(id, attempt, outcome, at).await
    }
    async fn message(&self, id: MessageId) -> Result<OutboxEntry, StoreError> {
        self.inner.message(id).await
    }
    async fn attempts(&self, id: MessageId) -> Result<Vec<cem_core::Attempt>, StoreError> {
        self.inner.attempts(id).await
    }
    async fn sent_to(
        &self,
        organization: OrganizationId,
        to: &str,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        self.inner.sent_to(organization, to, limit).await
    }
    async fn dead(
        &self,
        organization: OrganizationId,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        self.inner.dead(organization, limit).await
    }
    async fn replay(&self, id: MessageId, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.inner.replay(id, now).await
    }
    async fn erase_recipient(
        &self,
        organization: OrganizationId,
        to: &str,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        self.inner.erase_recipient(organization, to, now).await
    }
}

/// A pass whose write fails changes nothing; the next pass, or another messenger started
/// afresh (a restart), derives the very same messages, which the outbox keeps once.
#[tokio::test]
async fn failed_passes_and_restarts_lose_nothing_and_repeat_nothing() {
    let w = World::new(2).await;
    let flaky = Arc::new(Flaky {
        inner: w.store.clone(),
        fail: AtomicBool::new(false),
    });
    let mut messenger = w.messenger_over(flaky.clone());
    let mut expected = BTreeSet::new();
    for n in 1..=12 {
        let ticket = w.issue(n).await;
        let phone = format!("+49301{n:02}");
        w.contact(ticket, Some(&phone), None, false).await;
        expected.insert(pair("ticket_issued", &phone));
        if n % 3 == 0 {
            flaky.fail.store(true, Ordering::SeqCst);
            assert!(messenger.pass().await.is_err());
            flaky.fail.store(false, Ordering::SeqCst);
        }
    }
    messenger.catch_up().await.unwrap();
    for i in 0..2 {
        w.run(Command::CallNext {
            counter: counter_id(i),
        })
        .await;
    }
    // With two counters open, tickets 1 to 4 were near as soon as issued; once 1 and 2 are
    // called, 5 and 6 are (at most 3 ahead). Each is told once, whatever the failures.
    for n in 1..=2 {
        expected.insert(pair("ticket_called", &format!("+49301{n:02}")));
    }
    for n in 1..=6 {
        expected.insert(pair("turn_near", &format!("+49301{n:02}")));
    }
    flaky.fail.store(true, Ordering::SeqCst);
    assert!(messenger.pass().await.is_err());
    flaky.fail.store(false, Ordering::SeqCst);
    // A restart: a new messenger, from the stored cursor.
    let mut restarted = w.messenger();
    restarted.catch_up().await.unwrap();
    messenger.catch_up().await.unwrap();

    let sent = w.sent(&*w.store).await;
    assert_eq!(summary(&sent), expected);
    assert_eq!(sent.len(), expected.len(), "each message once");
    let head = w
        .store
        .read_all(0, 10_000)
        .await
        .unwrap()
        .last()
        .unwrap()
        .position;
    assert_eq!(w.store.cursor(CURSOR).await.unwrap(), head);

    // Derived again from the start into another outbox, the messages of events carry the same
    // ids. (Whose turn is near depends on the state when the messenger looks, so those are
    // left out: tickets 1 and 2 are no longer waiting.)
    let again = Arc::new(MemoryStore::new());
    w.messenger_over(again.clone()).catch_up().await.unwrap();
    let ids = |entries: &[OutboxEntry]| -> BTreeSet<MessageId> {
        entries
            .iter()
            .filter(|e| e.message.kind != "turn_near")
            .map(|e| e.message.id)
            .collect()
    };
    assert_eq!(ids(&w.sent(&*again).await), ids(&sent));
}

/// A customer whose contact was erased hears nothing more.
#[tokio::test]
async fn an_erased_contact_hears_nothing_more() {
    let w = World::new(1).await;
    let mut messenger = w.messenger();
    for n in 1..=5 {
        let ticket = w.issue(n).await;
        if n == 5 {
            w.contact(ticket, Some("+4930555"), None, false).await;
        }
    }
    messenger.catch_up().await.unwrap();
    assert_eq!(w.sent(&*w.store).await.len(), 1);
    let erased = w
        .store
        .erase_contacts(w.config.branch.organization, "+4930555")
        .await
        .unwrap();
    assert_eq!(erased, 1);
    for _ in 0..5 {
        w.next(0).await;
        messenger.catch_up().await.unwrap();
    }
    let sent = w.sent(&*w.store).await;
    assert!(sent.is_empty(), "no turn near, no call: {sent:?}");
}
