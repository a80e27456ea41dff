//! The survey inviter over the in-memory store: who is invited after their service, once per
//! visit and per cooldown, and what a pass repeated from the start changes (nothing).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use cem_core::chrono::{DateTime, TimeDelta, Utc};
use cem_core::{
    AfterService, Channel, Clock, Contact, ContactStore, Entropy, InvitationSource, Language,
    ManualClock, OutboxStore, SurveyId, SurveyStore, TicketId, Triggers,
};
use cem_notify::{InviterStores, SurveyInviter};
use cem_queue::testing::{branch_config, counter_id};
use cem_queue::{Command, IssueTicket, QueueService, ServiceOptions, TicketSource};
use cem_store_memory::MemoryStore;

/// Distinct bytes on every draw.
#[derive(Debug, Default)]
struct Counter(AtomicU64);

impl Entropy for Counter {
    fn fill(&self, bytes: &mut [u8]) {
        let n = (self.0.fetch_add(1, Ordering::SeqCst) + 1).to_le_bytes();
        for (b, n) in bytes.iter_mut().zip(n.iter().cycle()) {
            *b = *n;
        }
    }
}

fn start() -> DateTime<Utc> {
    "2026-11-28T08:00:00Z".parse().unwrap()
}

/// A survey of the branch's organization inviting after service at `sample_rate`, with a
/// 30-day cooldown.
fn survey(
    n: u128,
    name: &str,
    sample_rate: f64,
    organization: cem_core::OrganizationId,
) -> cem_core::Survey {
    let mut s = cem_survey::testing::survey();
    s.id = SurveyId::from_u128(n);
    s.organization = organization;
    s.name = name.into();
    s.created_at = start();
    s.triggers = Triggers {
        after_service: Some(AfterService {
            branches: vec![],
            services: vec![],
            classes: vec![],
            sample_rate,
            cooldown_days: 30,
            valid_hours: 48,
        }),
        link: false,
        kiosk: false,
    };
    s
}

#[tokio::test]
async fn customers_are_invited_once_per_visit_and_cooldown_and_never_twice() {
    let config = branch_config(1, 1);
    let organization = config.branch.organization;
    let store = Arc::new(MemoryStore::new());
    let queue = Arc::new(QueueService::new(
        store.clone(),
        None,
        ServiceOptions::default(),
    ));
    queue.add_branch(config.clone()).unwrap();
    let clock = Arc::new(ManualClock::new(start()));
    // "A" samples nobody, so every visit falls to "B".
    store
        .put_survey(&survey(1, "A never", 0.0, organization))
        .await
        .unwrap();
    store
        .put_survey(&survey(2, "B always", 1.0, organization))
        .await
        .unwrap();
    let run = |command: Command| {
        let (queue, branch, now) = (queue.clone(), config.branch.id, clock.now());
        async move { queue.execute(branch, &command, now).await.unwrap() }
    };
    let counter = counter_id(0);
    run(Command::OpenCounter {
        counter,
        agent: None,
    })
    .await;
    // Ana (by phone) twice, Ben (by e-mail) once, Carl who left no contact.
    let contacts = [
        (1, Some("+4930111"), None),
        (2, None, Some("ben@example.org")),
        (3, None, None),
        (4, Some("+4930111"), None),
    ];
    for (n, phone, email) in contacts {
        let ticket = TicketId::from_u128(n);
        run(Command::Issue(IssueTicket {
            ticket,
            service: config.services[0].id,
            class: None,
            source: TicketSource::Kiosk,
            customer: None,
            appointment_at: None,
        }))
        .await;
        if phone.is_some() || email.is_some() {
            store
                .save_contact(&Contact {
                    ticket,
                    organization,
                    phone: phone.map(Into::into),
                    email: email.map(Into::into),
                    language: Language::en(),
                    created_at: clock.now(),
                })
                .await
                .unwrap();
        }
        run(Command::CallNext { counter }).await;
        run(Command::Finish { counter }).await;
    }

    let inviter = |cursor: Arc<dyn OutboxStore>| {
        SurveyInviter::new(
            store.clone(),
            queue.clone(),
            InviterStores {
                contacts: store.clone(),
                surveys: store.clone(),
                outbox: cursor,
            },
            clock.clone(),
            Arc::new(Counter::default()),
            "https://queue.example.org".into(),
            3,
        )
    };
    let first = inviter(store.clone()).catch_up().await.unwrap();
    assert_eq!(
        (first.invited, first.cooling_down),
        (2, 1),
        "Ana's first visit and Ben's; her second falls in her cooldown"
    );
    let sent = store
        .claim(
            start() + TimeDelta::days(1),
            start() + TimeDelta::days(2),
            100,
        )
        .await
        .unwrap();
    let mut to: Vec<(&str, Channel)> = sent
        .iter()
        .map(|e| (e.message.to.as_str(), e.message.channel))
        .collect();
    to.sort_by_key(|(t, _)| t.to_string());
    assert_eq!(
        to,
        [
            ("+4930111", Channel::Sms),
            ("ben@example.org", Channel::Email)
        ]
    );
    assert!(sent.iter().all(|e| e.message.kind == "survey_invitation"));

    // The link holds the invitation's token; the invitation knows the visit.
    let sms = &sent
        .iter()
        .find(|e| e.message.channel == Channel::Sms)
        .unwrap()
        .message;
    let token = sms
        .body
        .split("https://queue.example.org/survey/")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap();
    assert_eq!(token.len(), 32, "{}", sms.body);
    let invitation = store.invitation(token).await.unwrap();
    assert_eq!(invitation.survey, SurveyId::from_u128(2));
    assert_eq!(invitation.source, InvitationSource::AfterService);
    assert_eq!(invitation.visit.ticket, Some(TicketId::from_u128(1)));
    assert_eq!(invitation.visit.service, Some(config.services[0].id));
    assert_eq!(invitation.visit.counter, Some(counter));
    assert_eq!(
        invitation.expires_at,
        invitation.created_at + TimeDelta::hours(48)
    );
    assert!(
        invitation
            .recipient_key
            .as_deref()
            .is_some_and(|k| !k.contains("4930111")),
        "the key names no address"
    );

    // A pass from the start of the history (a lost cursor) invites nobody again.
    let again = inviter(Arc::new(MemoryStore::new()))
        .catch_up()
        .await
        .unwrap();
    assert_eq!((again.invited, again.events), (0, first.events));
    for address in ["+4930111", "ben@example.org"] {
        let told = store.sent_to(organization, address, 10).await.unwrap();
        assert_eq!(told.len(), 1, "{address}: {told:?}");
    }
}
