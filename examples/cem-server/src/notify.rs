//! Messages: a messenger that turns the queue's history into messages in the outbox, and a
//! courier that delivers them through the notifiers the configuration names; each runs a pass
//! every second.

use std::sync::Arc;
use std::time::Duration;

use cem_core::chrono::TimeDelta;
use cem_core::{
    Channel, Notifier, OutboundMessage, OutboxStore, SendError, SubscriptionStore, async_trait,
};
use cem_http::{AppState, SystemClock};
use cem_notify::{Courier, Messenger, MessengerSettings, MessengerStores};
use cem_notify_http::{HttpNotifier, HttpNotifierSettings, SigningKeys};
use cem_notify_log::LogNotifier;
use cem_notify_smtp::{SmtpNotifier, SmtpSecurity, SmtpSettings};
use tokio::task::JoinHandle;

use crate::config::Config;

/// How often the messenger reads new events and the courier looks for messages due.
const PASS_EVERY: Duration = Duration::from_secs(1);

/// How long customers' contacts are kept after they were left: their tickets are long over.
const KEEP_CONTACTS: TimeDelta = TimeDelta::days(2);

/// Runs the messenger over the server's stores and queue every second, and forgets old
/// contacts every hour, until the returned task is aborted.
pub(crate) fn start_messenger(state: &AppState, config: &Config) -> JoinHandle<()> {
    let stores = state.stores();
    let settings = MessengerSettings {
        public_url: config.public_url(),
        ..MessengerSettings::default()
    };
    let mut messenger = Messenger::new(
        Arc::clone(&stores.events),
        Arc::clone(state.queue()),
        MessengerStores {
            contacts: Arc::clone(&stores.contacts),
            subscriptions: Arc::clone(&stores.subscriptions),
            outbox: Arc::clone(&stores.outbox),
        },
        Arc::new(SystemClock),
        settings,
    );
    let state = state.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(PASS_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut forgot_at = None;
        loop {
            tick.tick().await;
            match messenger.catch_up().await {
                Ok(pass) if pass.messages > 0 => tracing::info!(
                    events = pass.events,
                    messages = pass.messages,
                    "messages derived"
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "cannot derive messages; retrying"),
            }
            let now = state.now();
            if forgot_at.is_none_or(|at| now - at >= TimeDelta::hours(1)) {
                forgot_at = Some(now);
                let before = now - KEEP_CONTACTS;
                match state.stores().contacts.forget_contacts_before(before).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(contacts = n, "old contacts forgotten"),
                    Err(e) => tracing::warn!(error = %e, "cannot forget old contacts"),
                }
            }
        }
    })
}

/// The notifiers of `config`, first match wins: the SMS gateway and the SMTP relay when
/// configured, webhooks signed with their subscription's secret, and the log for the rest.
pub(crate) fn notifiers(
    config: &Config,
    subscriptions: Arc<dyn SubscriptionStore>,
) -> anyhow::Result<Vec<Arc<dyn Notifier>>> {
    let mut notifiers: Vec<Arc<dyn Notifier>> = Vec::new();
    if let Some(url) = &config.sms_gateway_url {
        let mut sms = HttpNotifierSettings::new(vec![Channel::Sms]);
        sms.url = Some(url.clone());
        sms.secret.clone_from(&config.notify_secret);
        notifiers.push(Arc::new(HttpNotifier::new(sms)?));
    }
    if let Some(host) = &config.smtp_host {
        let security = match config.smtp_security.as_str() {
            "none" => SmtpSecurity::None,
            "tls" => SmtpSecurity::Tls,
            _ => SmtpSecurity::StartTls,
        };
        let port = match config.smtp_port {
            0 => security.default_port(),
            port => port,
        };
        let mut smtp = SmtpSettings::new(host, port, security, &config.smtp_from);
        if let (Some(user), Some(password)) = (&config.smtp_user, &config.smtp_password) {
            smtp = smtp.with_credentials(user, password);
        }
        notifiers.push(Arc::new(SmtpNotifier::new(smtp)?));
    }
    let webhooks = HttpNotifierSettings::new(vec![Channel::Webhook]);
    let keys = SubscriptionKeys(subscriptions);
    notifiers.push(Arc::new(
        HttpNotifier::new(webhooks)?.with_signing_keys(Arc::new(keys)),
    ));
    notifiers.push(Arc::new(LogNotifier::default()));
    Ok(notifiers)
}

/// Finds the secret of the subscription a webhook message goes to. A message whose
/// subscription was deleted (or moved to another URL) is not sent: it dies.
#[derive(Debug)]
struct SubscriptionKeys(Arc<dyn SubscriptionStore>);

#[async_trait]
impl SigningKeys for SubscriptionKeys {
    async fn key(&self, message: &OutboundMessage) -> Result<Option<Vec<u8>>, SendError> {
        let subscriptions = self
            .0
            .subscriptions(Some(message.organization))
            .await
            .map_err(|e| SendError::Retryable {
                reason: format!("cannot read the subscriptions: {e}"),
            })?;
        match subscriptions.into_iter().find(|s| s.url == message.to) {
            Some(s) => Ok(Some(s.secret.into_bytes())),
            None => Err(SendError::Permanent {
                reason: "no subscription to this URL any more".into(),
            }),
        }
    }
}

/// Runs a courier pass over `outbox` every second until the returned task is aborted.
pub(crate) fn start_courier(
    outbox: Arc<dyn OutboxStore>,
    notifiers: Vec<Arc<dyn Notifier>>,
) -> JoinHandle<()> {
    let courier = Courier::new(outbox, notifiers, Arc::new(SystemClock));
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(PASS_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match courier.deliver_all_due().await {
                Ok(pass) if pass.claimed > 0 => tracing::info!(
                    delivered = pass.delivered,
                    retrying = pass.retrying,
                    dead = pass.dead,
                    unsettled = pass.unsettled,
                    "outbox pass"
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "cannot read the outbox; retrying"),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use axum::Router;
    use axum::http::HeaderMap;
    use axum::routing::post;
    use cem_core::chrono::Utc;
    use cem_core::{Language, MessageId, OrganizationId, OutboundMessage, OutboxState};
    use cem_store_memory::MemoryStore;

    use super::*;

    fn message(n: u128, channel: Channel, to: &str) -> OutboundMessage {
        OutboundMessage {
            id: MessageId::from_u128(n),
            organization: OrganizationId::from_u128(1),
            channel,
            to: to.into(),
            kind: "ticket_called".into(),
            language: Language::en(),
            subject: Some("Your turn".into()),
            body: "A-001, please go to counter 1.".into(),
            created_at: Utc::now(),
        }
    }

    /// The server's courier sends SMS through the configured gateway, signed, and logs what no
    /// notifier is configured for (e-mail here).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_courier_sends_through_the_configured_gateway_and_logs_the_rest() {
        let received: Arc<Mutex<Vec<HeaderMap>>> = Arc::default();
        let seen = Arc::clone(&received);
        let app = Router::new().route(
            "/sms",
            post(move |headers: HeaderMap| async move {
                seen.lock().unwrap().push(headers);
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/sms", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let config = Config {
            sms_gateway_url: Some(url),
            notify_secret: Some("gateway secret".into()),
            ..Config::default()
        };
        let outbox = Arc::new(MemoryStore::new());
        let courier = start_courier(outbox.clone(), notifiers(&config, outbox.clone()).unwrap());
        outbox
            .enqueue(
                &[
                    message(1, Channel::Sms, "+4930123"),
                    message(2, Channel::Email, "ana@example.org"),
                ],
                Utc::now(),
                None,
            )
            .await
            .unwrap();
        let delivered = |n| {
            let outbox = outbox.clone();
            async move {
                outbox.message(MessageId::from_u128(n)).await.unwrap().state
                    == OutboxState::Delivered
            }
        };
        let started = std::time::Instant::now();
        while !(delivered(1).await && delivered(2).await) {
            assert!(started.elapsed().as_secs() < 20, "not delivered");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        courier.abort();
        let received = received.lock().unwrap();
        assert_eq!(received.len(), 1, "only the SMS went to the gateway");
        assert!(received[0].contains_key("x-cem-signature"));
        assert_eq!(
            received[0]["idempotency-key"],
            MessageId::from_u128(1).to_string().as_str()
        );
    }

    /// The whole path of a message: a ticket issued with a contact, under a subscription,
    /// becomes an SMS at the gateway and a webhook call signed with the subscription's secret.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_issued_ticket_reaches_the_customer_and_the_subscribed_integration() {
        use cem_core::{
            Contact, ContactStore, OrgStore, Organization, SubscriptionId, WebhookSubscription,
        };
        use cem_http::{HttpSettings, Stores};
        use cem_queue::testing::branch_config;
        use cem_queue::{Command, IssueTicket, ServiceOptions, TicketSource};

        type Seen = Arc<Mutex<Vec<(String, HeaderMap, String)>>>;
        let received: Seen = Arc::default();
        let seen = Arc::clone(&received);
        let app = Router::new().route(
            "/{path}",
            post(
                move |axum::extract::Path(path): axum::extract::Path<String>,
                      headers: HeaderMap,
                      body: String| async move {
                    seen.lock().unwrap().push((path, headers, body));
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });

        let store = Arc::new(MemoryStore::new());
        let branch = branch_config(1, 1);
        let organization = branch.branch.organization;
        store
            .put_organization(&Organization {
                id: organization,
                name: cem_core::LocalizedText::single(Language::en(), "Bank"),
                default_language: Language::en(),
            })
            .await
            .unwrap();
        for class in &branch.classes {
            store.put_class(organization, class).await.unwrap();
        }
        store.put_branch(&branch.branch).await.unwrap();
        for service in &branch.services {
            store.put_service(branch.branch.id, service).await.unwrap();
        }
        store
            .put_subscription(&WebhookSubscription {
                id: SubscriptionId::from_u128(1),
                organization,
                url: format!("{base}/hook"),
                events: vec!["ticket_issued".into()],
                secret: "hook secret".into(),
                active: true,
                created_at: Utc::now() - TimeDelta::seconds(1),
            })
            .await
            .unwrap();
        let bus = Arc::new(cem_bus_local::LocalBus::new(64));
        let state = AppState::new(
            Stores::single(store.clone(), bus),
            Arc::new(SystemClock),
            HttpSettings::default(),
            ServiceOptions::default(),
        )
        .await
        .unwrap();
        let config = Config {
            sms_gateway_url: Some(format!("{base}/sms")),
            public_url: Some("https://queue.example.org".into()),
            ..Config::default()
        };
        let messenger = start_messenger(&state, &config);
        let courier = start_courier(store.clone(), notifiers(&config, store.clone()).unwrap());

        let ticket = cem_core::TicketId::from_u128(42);
        store
            .save_contact(&Contact {
                ticket,
                organization,
                phone: Some("+4930123456".into()),
                email: None,
                language: Language::en(),
                created_at: Utc::now(),
            })
            .await
            .unwrap();
        let issue = Command::Issue(IssueTicket {
            ticket,
            service: branch.services[0].id,
            class: None,
            source: TicketSource::Web,
            customer: None,
            appointment_at: None,
        });
        state
            .queue()
            .execute(branch.branch.id, &issue, Utc::now())
            .await
            .unwrap();

        let started = std::time::Instant::now();
        // The ticket is issued and, with no one ahead, its turn is near: two SMS, one call.
        while received.lock().unwrap().len() < 3 {
            assert!(started.elapsed().as_secs() < 20, "not delivered");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        messenger.abort();
        courier.abort();
        let received = received.lock().unwrap();
        let by_kind = |p: &str, kind: &str| {
            received
                .iter()
                .find(|(path, headers, _)| path == p && headers["x-cem-message-kind"] == kind)
                .unwrap()
        };
        let (_, _, sms) = by_kind("sms", "ticket_issued");
        let (_, _, near) = by_kind("sms", "turn_near");
        assert!(near.contains("you are next"), "{near}");
        assert!(sms.contains("+4930123456"), "{sms}");
        assert!(
            sms.contains(&format!(
                "https://queue.example.org/track/{}/{ticket}",
                branch.branch.id
            )),
            "{sms}"
        );
        let (_, headers, hook) = by_kind("hook", "ticket_issued");
        let header = |name: &str| headers[name].to_str().unwrap().to_owned();
        let now = Utc::now().timestamp();
        let (ts, signature) = (header("x-cem-timestamp"), header("x-cem-signature"));
        let verify = |secret: &[u8]| {
            cem_notify_http::verify_signature(secret, &ts, &signature, hook.as_bytes(), now, 300)
        };
        assert!(
            verify(b"hook secret"),
            "signed with the subscription's secret"
        );
        assert!(!verify(b"another secret"));
        let posted: serde_json::Value = serde_json::from_str(hook).unwrap();
        let event = &posted["body"];
        assert_eq!(event["type"], "ticket_issued", "{posted}");
        assert_eq!(event["data"]["ticket"], ticket.to_string());
    }
}
