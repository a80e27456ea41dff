//! [`Notifier`]: the port through which messages leave CEM (SMS, e-mail, webhook calls).
//!
//! A notifier sends one rendered, addressed message and says whether a failure is worth
//! retrying. Rendering (templates, languages) and the outbox that retries are not its business:
//! they come before it and around it.

use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::{Language, MessageId, OrganizationId};

/// How a message reaches its recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// A text message to a phone number (E.164, `+4930…`), through an SMS gateway.
    Sms,
    /// An e-mail to an address.
    Email,
    /// An HTTP call to a URL (an integration: a CRM or ERP following events).
    Webhook,
}

/// A message ready to send: rendered in its language and addressed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboundMessage {
    /// The message; also its idempotency key, the same on every attempt, so a receiver that
    /// remembers it can drop a message delivered twice.
    pub id: MessageId,
    /// The organization it is sent for.
    pub organization: OrganizationId,
    /// The channel.
    pub channel: Channel,
    /// The recipient: a phone number, an e-mail address or a URL, as the channel wants.
    pub to: String,
    /// What kind of message it is (`ticket_called`, `booking_reminder`, an event type for a
    /// webhook), for receivers and logs.
    pub kind: String,
    /// The language it is written in.
    pub language: Language,
    /// A subject line, for e-mail.
    #[serde(default)]
    pub subject: Option<String>,
    /// The text; for a webhook, the JSON document to post.
    pub body: String,
    /// When it was created (the event that caused it).
    pub created_at: DateTime<Utc>,
}

/// Why a message was not delivered.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SendError {
    /// Worth trying again later: the gateway or receiver is down, slow, overloaded, or said
    /// so (HTTP 5xx, 408, 429; a lost connection; a timeout).
    #[error("delivery failed, worth retrying: {reason}")]
    Retryable {
        /// What happened.
        reason: String,
    },
    /// Trying again would fail the same way: the recipient or the message was refused
    /// (HTTP 4xx other than 408 and 429, an address the server rejects, a channel the
    /// notifier does not handle).
    #[error("delivery refused: {reason}")]
    Permanent {
        /// What happened.
        reason: String,
    },
}

impl SendError {
    /// Whether another attempt may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Retryable { .. })
    }
}

/// Sends messages of one or more channels.
///
/// # Behavior
/// `send` makes one attempt and returns when the gateway or receiver accepted the message, or
/// with the reason it did not. It may be called again with the same message after any
/// failure, including a timeout after which the message did arrive: it passes
/// [`OutboundMessage::id`] on (as an `Idempotency-Key` header, a `Message-ID`, …) so the
/// receiver can tell.
#[async_trait]
pub trait Notifier: Send + Sync + fmt::Debug + 'static {
    /// Whether this notifier sends messages of `channel`.
    fn handles(&self, channel: Channel) -> bool;

    /// One delivery attempt.
    ///
    /// # Errors
    /// [`SendError::Retryable`] or [`SendError::Permanent`]; a channel the notifier does not
    /// handle is `Permanent`.
    async fn send(&self, message: &OutboundMessage) -> Result<(), SendError>;
}
