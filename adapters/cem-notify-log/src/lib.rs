//! # cem-notify-log
//!
//! [`LogNotifier`]: a [`Notifier`] for development and tests. It handles every channel, never
//! fails, and instead of delivering writes one `tracing` event per message at info level (id,
//! channel, kind, language, subject, body and the recipient masked by [`mask_recipient`]), and
//! keeps the latest messages in memory, unmasked, for [`LogNotifier::recent`].
//!
//! ```
//! use cem_core::{Channel, Language, MessageId, Notifier, OrganizationId, OutboundMessage};
//! use cem_core::chrono::{TimeZone, Utc};
//! use cem_notify_log::LogNotifier;
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let notifier = LogNotifier::new(10);
//! let message = OutboundMessage {
//!     id: MessageId::from_u128(1),
//!     organization: OrganizationId::from_u128(1),
//!     channel: Channel::Sms,
//!     to: "+4930123456".into(),
//!     kind: "ticket_called".into(),
//!     language: Language::en(),
//!     subject: None,
//!     body: "A-042, please go to counter 3".into(),
//!     created_at: Utc.with_ymd_and_hms(2025, 3, 21, 9, 30, 0).unwrap(),
//! };
//! notifier.send(&message).await.unwrap();
//! assert_eq!(notifier.recent(), vec![message]);
//! # });
//! ```

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;
use cem_core::{Channel, Notifier, OutboundMessage, SendError};

/// How many messages [`LogNotifier::default`] keeps.
pub const DEFAULT_CAPACITY: usize = 100;

/// A notifier that logs messages instead of sending them; see the crate docs.
#[derive(Debug)]
pub struct LogNotifier {
    capacity: usize,
    recent: Mutex<VecDeque<OutboundMessage>>,
}

impl LogNotifier {
    /// A notifier that keeps the last `capacity` messages (none when `capacity` is 0).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            recent: Mutex::new(VecDeque::with_capacity(capacity.min(DEFAULT_CAPACITY))),
        }
    }

    /// The messages kept, oldest first, with their recipients unmasked.
    pub fn recent(&self) -> Vec<OutboundMessage> {
        self.lock().iter().cloned().collect()
    }

    /// Forgets the messages kept.
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<OutboundMessage>> {
        // The deque stays consistent even if a holder panicked: every change is one call.
        self.recent.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Default for LogNotifier {
    fn default() -> Self {
        Self::new(DEFAULT_CAPACITY)
    }
}

#[async_trait]
impl Notifier for LogNotifier {
    fn handles(&self, _channel: Channel) -> bool {
        true
    }

    async fn send(&self, message: &OutboundMessage) -> Result<(), SendError> {
        tracing::info!(
            message_id = %message.id,
            channel = ?message.channel,
            kind = %message.kind,
            language = message.language.as_str(),
            to = %mask_recipient(message.channel, &message.to),
            subject = message.subject.as_deref(),
            body = %message.body,
            "notification"
        );
        if self.capacity > 0 {
            let mut recent = self.lock();
            while recent.len() >= self.capacity {
                recent.pop_front();
            }
            recent.push_back(message.clone());
        }
        Ok(())
    }
}

/// A recipient as logs may show it: a phone number keeps its last 2 characters
/// (`"********12"`), an e-mail address its domain (`"***@example.org"`), a webhook URL stays
/// as it is.
pub fn mask_recipient(channel: Channel, to: &str) -> String {
    match channel {
        Channel::Sms => {
            let chars: Vec<char> = to.trim().chars().collect();
            // A number too short to hide anything if its end is shown is hidden whole.
            let shown = if chars.len() > 4 { 2 } else { 0 };
            let hidden = chars.len() - shown;
            std::iter::repeat_n('*', hidden)
                .chain(chars[hidden..].iter().copied())
                .collect()
        }
        Channel::Email => match to.trim().rsplit_once('@') {
            Some((_, domain)) if !domain.is_empty() => format!("***@{domain}"),
            _ => "***".to_owned(),
        },
        Channel::Webhook => to.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_keep_their_last_two_characters() {
        assert_eq!(
            mask_recipient(Channel::Sms, "+989121234512"),
            "***********12"
        );
        assert_eq!(mask_recipient(Channel::Sms, "0912345612"), "********12");
        assert_eq!(mask_recipient(Channel::Sms, " 12345 "), "***45");
        assert_eq!(mask_recipient(Channel::Sms, "1234"), "****");
        assert_eq!(mask_recipient(Channel::Sms, ""), "");
    }

    #[test]
    fn email_addresses_keep_their_domain() {
        assert_eq!(
            mask_recipient(Channel::Email, "sara.ahmadi@example.org"),
            "***@example.org"
        );
        assert_eq!(
            mask_recipient(Channel::Email, "\"a@b\"@mail.example.org"),
            "***@mail.example.org"
        );
        assert_eq!(mask_recipient(Channel::Email, "no-at-sign"), "***");
        assert_eq!(mask_recipient(Channel::Email, "user@"), "***");
    }

    #[test]
    fn webhook_urls_stay_as_they_are() {
        let url = "https://crm.example.org/hooks/cem?tenant=7";
        assert_eq!(mask_recipient(Channel::Webhook, url), url);
    }
}
