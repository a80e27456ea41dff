//! Messages written and addressed to a customer, with ids derived from what caused them.

use cem_core::chrono::{DateTime, Utc};
use cem_core::{Channel, Language, MessageId, OrganizationId, OutboundMessage};
use uuid::Uuid;

use crate::{MessageKind, RenderError, render};

/// The namespace of derived message ids (UUID version 5 of what caused each message).
const NAMESPACE: Uuid = Uuid::from_u128(0x6a0d_5c1e_8f4b_4b8e_9a53_2f1c_7d6e_0b91);

/// The id of a message: the same for the same cause, whoever derives it and however often.
pub(crate) fn message_id(parts: &[&str]) -> MessageId {
    MessageId::new(Uuid::new_v5(&NAMESPACE, parts.join("/").as_bytes()))
}

/// Where a customer may be reached.
pub(crate) struct Recipient<'a> {
    pub(crate) organization: OrganizationId,
    pub(crate) phone: Option<&'a str>,
    pub(crate) email: Option<&'a str>,
    pub(crate) language: &'a Language,
}

/// `kind` in the recipient's language, one message per channel they can be reached on (a text
/// message to the phone, an e-mail to the address), with ids from `cause` and the channel.
pub(crate) fn addressed(
    kind: &MessageKind,
    to: &Recipient<'_>,
    cause: &[&str],
    created_at: DateTime<Utc>,
) -> Result<Vec<OutboundMessage>, RenderError> {
    let mut out = Vec::new();
    for (channel, address) in [(Channel::Sms, to.phone), (Channel::Email, to.email)] {
        let Some(address) = address.filter(|a| !a.is_empty()) else {
            continue;
        };
        let rendered = render(kind, to.language, channel)?;
        let channel_name = format!("{channel:?}");
        let mut parts = cause.to_vec();
        parts.push(&channel_name);
        out.push(OutboundMessage {
            id: message_id(&parts),
            organization: to.organization,
            channel,
            to: address.to_owned(),
            kind: kind.kind().to_owned(),
            language: to.language.clone(),
            subject: rendered.subject,
            body: rendered.body,
            created_at,
        });
    }
    Ok(out)
}
