//! `LogNotifier`: what it logs and what it keeps.

use std::io::Write;
use std::sync::{Arc, Mutex};

use cem_core::chrono::{TimeZone, Utc};
use cem_core::{Channel, Language, MessageId, Notifier, OrganizationId, OutboundMessage};
use cem_notify_log::LogNotifier;

fn message(n: u128, channel: Channel, to: &str) -> OutboundMessage {
    OutboundMessage {
        id: MessageId::from_u128(n),
        organization: OrganizationId::from_u128(1),
        channel,
        to: to.to_owned(),
        kind: "ticket_called".to_owned(),
        language: Language::fa(),
        subject: None,
        body: format!("نوبت شما: A-{n:03}"),
        created_at: Utc.with_ymd_and_hms(2025, 3, 21, 9, 30, 0).unwrap(),
    }
}

/// A log sink the test can read.
#[derive(Debug, Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn logs_one_event_per_message_with_the_recipient_masked() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::INFO)
        .with_writer(move || writer.clone())
        .finish();
    // The test runs on one thread, so the default subscriber covers the whole send.
    let _guard = tracing::subscriber::set_default(subscriber);

    let notifier = LogNotifier::default();
    let sms = message(1, Channel::Sms, "+989121234512");
    let mut email = message(2, Channel::Email, "sara.ahmadi@example.org");
    email.subject = Some("Your booking".to_owned());
    let webhook = message(3, Channel::Webhook, "https://crm.example.org/hooks/cem");
    for m in [&sms, &email, &webhook] {
        assert!(notifier.handles(m.channel));
        notifier.send(m).await.unwrap();
    }

    let text = captured.text();
    let events: Vec<serde_json::Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(events.len(), 3, "{text}");
    for event in &events {
        assert_eq!(event["level"], "INFO");
    }
    let fields: Vec<&serde_json::Value> = events.iter().map(|e| &e["fields"]).collect();
    assert_eq!(fields[0]["to"], "***********12");
    assert_eq!(fields[0]["message_id"], sms.id.to_string());
    assert_eq!(fields[0]["channel"], "Sms");
    assert_eq!(fields[0]["kind"], "ticket_called");
    assert_eq!(fields[0]["language"], "fa");
    assert_eq!(fields[0]["body"], sms.body);
    assert_eq!(fields[1]["to"], "***@example.org");
    assert_eq!(fields[1]["subject"], "Your booking");
    assert_eq!(fields[2]["to"], "https://crm.example.org/hooks/cem");
    assert!(!text.contains("9121234512"), "{text}");
    assert!(!text.contains("sara.ahmadi"), "{text}");
}

#[tokio::test]
async fn recent_keeps_the_last_messages_in_order() {
    let notifier = LogNotifier::new(3);
    assert!(notifier.recent().is_empty());
    let sent: Vec<OutboundMessage> = (1..=5)
        .map(|n| message(n, Channel::Sms, "+4930123456"))
        .collect();
    for m in &sent {
        notifier.send(m).await.unwrap();
    }
    // Unmasked, oldest first, only the last three.
    assert_eq!(notifier.recent(), sent[2..].to_vec());
    notifier.clear();
    assert!(notifier.recent().is_empty());

    let none = LogNotifier::new(0);
    none.send(&sent[0]).await.unwrap();
    assert!(none.recent().is_empty());
}
