//! What the outbox tests share: their messages and their checks.

use std::collections::HashMap;

use cem_core::chrono::{DateTime, Utc};
use cem_core::{
    Channel, Language, MessageId, OrganizationId, OutboundMessage, OutboxState, OutboxStore,
};

/// Messages 1 to `count`: SMS through the gateway.
pub(crate) fn messages(count: u128, created: DateTime<Utc>) -> Vec<OutboundMessage> {
    (1..=count)
        .map(|n| OutboundMessage {
            id: MessageId::from_u128(n),
            organization: OrganizationId::from_u128(1),
            channel: Channel::Sms,
            to: format!("+49301234{n:03}"),
            kind: "ticket_called".into(),
            language: Language::en(),
            subject: None,
            body: format!("A-{n:03}, please go to counter 3."),
            created_at: created,
        })
        .collect()
}

/// How many of messages 1 to `count` are not delivered yet.
pub(crate) async fn undelivered(outbox: &dyn OutboxStore, count: u128) -> usize {
    let mut left = 0;
    for n in 1..=count {
        let entry = outbox.message(MessageId::from_u128(n)).await.unwrap();
        left += usize::from(entry.state != OutboxState::Delivered);
    }
    left
}

/// The receiver saw exactly the ids of messages 1 to `count` as idempotency keys: every
/// message arrived, and every repeat carried the same key, so it was processed once.
pub(crate) fn assert_each_arrived_under_its_id(seen: &HashMap<String, u32>, count: u128) {
    let mut keys: Vec<&String> = seen.keys().collect();
    keys.sort();
    let mut ids: Vec<String> = (1..=count)
        .map(|n| MessageId::from_u128(n).to_string())
        .collect();
    ids.sort();
    assert_eq!(
        keys,
        ids.iter().collect::<Vec<_>>(),
        "every message arrived, under its id"
    );
}
