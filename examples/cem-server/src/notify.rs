//! Delivering the outbox: the notifiers the configuration names, and a courier that runs a
//! pass every second.

use std::sync::Arc;
use std::time::Duration;

use cem_core::{Channel, Notifier, OutboxStore};
use cem_http::SystemClock;
use cem_notify::Courier;
use cem_notify_http::{HttpNotifier, HttpNotifierSettings};
use cem_notify_log::LogNotifier;
use cem_notify_smtp::{SmtpNotifier, SmtpSecurity, SmtpSettings};
use tokio::task::JoinHandle;

use crate::config::Config;

/// How often the courier looks for messages due.
const PASS_EVERY: Duration = Duration::from_secs(1);

/// The notifiers of `config`, first match wins: the SMS gateway and the SMTP relay when
/// configured, signed webhooks to the URL each message names, and the log for the rest.
pub(crate) fn notifiers(config: &Config) -> anyhow::Result<Vec<Arc<dyn Notifier>>> {
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
    let mut webhooks = HttpNotifierSettings::new(vec![Channel::Webhook]);
    webhooks.secret.clone_from(&config.notify_secret);
    notifiers.push(Arc::new(HttpNotifier::new(webhooks)?));
    notifiers.push(Arc::new(LogNotifier::default()));
    Ok(notifiers)
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
        let courier = start_courier(outbox.clone(), notifiers(&config).unwrap());
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
}
