//! E-mail for CEM: a [`Notifier`] that sends [`Channel::Email`] messages over SMTP.
//!
//! [`SmtpNotifier`] hands each [`OutboundMessage`] to one SMTP relay (the organization's mail
//! server or a sending service) configured by [`SmtpSettings`]: plain SMTP for tests and local
//! relays, STARTTLS or implicit TLS (rustls, Mozilla's root certificates) in production,
//! optionally with credentials.
//!
//! Every message becomes a `text/plain; charset=utf-8` e-mail, 7-bit clean (quoted-printable or
//! base64 as the text needs, so Persian or any other script passes relays without `8BITMIME`),
//! with:
//! - the message's subject, or its kind when it has none;
//! - `Message-ID: <{message id}@cem>`, the same on every attempt, so a mail system can drop a
//!   message delivered twice;
//! - `Content-Language` with the message's language.
//!
//! The outcome follows the [`Notifier`] contract: an accepted message is `Ok`; a 4xx reply, a
//! refused or lost connection, a TLS failure or no answer within the timeout are
//! [`SendError::Retryable`]; a 5xx reply (the relay refused the recipient or the message), a
//! recipient that is not an e-mail address or a channel other than e-mail are
//! [`SendError::Permanent`]. One exception: a 5xx reply about authentication (530, 534, 535,
//! 538) is `Retryable`, because it says the relay's credentials are wrong, not the message:
//! calling it permanent would drop every message until the configuration is fixed.
//!
//! ```no_run
//! use cem_core::Notifier;
//! use cem_notify_smtp::{SmtpNotifier, SmtpSecurity, SmtpSettings};
//!
//! # fn main() -> Result<(), cem_notify_smtp::SmtpConfigError> {
//! let settings = SmtpSettings::new(
//!     "smtp.bank.example",
//!     587,
//!     SmtpSecurity::StartTls,
//!     "CEM <noreply@bank.example>",
//! )
//! .with_credentials("noreply@bank.example", "secret");
//! let notifier = SmtpNotifier::new(settings)?;
//! assert!(notifier.handles(cem_core::Channel::Email));
//! # Ok(())
//! # }
//! ```

use std::{fmt, time::Duration};

use async_trait::async_trait;
use cem_core::{Channel, Notifier, OutboundMessage, SendError};
use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{
        Mailbox, SinglePart,
        header::{HeaderName, HeaderValue},
    },
    transport::smtp::{
        self,
        authentication::Credentials,
        client::{Tls, TlsParameters},
    },
};
use thiserror::Error;

/// How the connection to the relay is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SmtpSecurity {
    /// Plain SMTP, nothing encrypted: tests and relays on the same host or network only.
    None,
    /// Plain SMTP upgraded with `STARTTLS`, which the relay must offer (usually port 587).
    /// Nothing, credentials included, is sent before the upgrade.
    StartTls,
    /// TLS from the first byte, "implicit TLS" (usually port 465).
    Tls,
}

impl SmtpSecurity {
    /// The port relays usually listen on for this kind of connection: 25, 587 or 465.
    pub fn default_port(self) -> u16 {
        match self {
            Self::None => 25,
            Self::StartTls => 587,
            Self::Tls => 465,
        }
    }
}

/// A user name and password for the relay (SMTP `AUTH PLAIN` or `LOGIN`).
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpCredentials {
    /// The user name.
    pub username: String,
    /// The password.
    pub password: String,
}

impl fmt::Debug for SmtpCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpCredentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Where and how an [`SmtpNotifier`] delivers.
///
/// Built with [`SmtpSettings::new`] and adjusted with the `with_*` methods or by setting the
/// fields.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SmtpSettings {
    /// The relay's host name (checked against its certificate under TLS) or IP address.
    pub host: String,
    /// The relay's port; see [`SmtpSecurity::default_port`].
    pub port: u16,
    /// How the connection is protected.
    pub security: SmtpSecurity,
    /// Credentials, when the relay wants them.
    pub credentials: Option<SmtpCredentials>,
    /// The sender, a mailbox such as `CEM <noreply@bank.example>` or a bare address.
    pub from: String,
    /// The longest one delivery attempt may take, from connecting to the relay's final answer.
    pub timeout: Duration,
}

impl SmtpSettings {
    /// The timeout [`SmtpSettings::new`] sets.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

    /// Settings without credentials and with [the default timeout](Self::DEFAULT_TIMEOUT).
    pub fn new(
        host: impl Into<String>,
        port: u16,
        security: SmtpSecurity,
        from: impl Into<String>,
    ) -> Self {
        Self {
            host: host.into(),
            port,
            security,
            credentials: None,
            from: from.into(),
            timeout: Self::DEFAULT_TIMEOUT,
        }
    }

    /// The same settings, authenticating with `username` and `password`.
    pub fn with_credentials(
        mut self,
        username: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        self.credentials = Some(SmtpCredentials {
            username: username.into(),
            password: password.into(),
        });
        self
    }

    /// The same settings with another timeout for a delivery attempt.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

/// Why [`SmtpSettings`] cannot make a notifier.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SmtpConfigError {
    /// The sender is not a mailbox.
    #[error("sender {from:?} is not an e-mail address: {reason}")]
    InvalidFrom {
        /// The sender as configured.
        from: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The host name is empty.
    #[error("the SMTP host is empty")]
    EmptyHost,
    /// The TLS configuration could not be built for the host.
    #[error("TLS for {host:?} cannot be set up: {reason}")]
    Tls {
        /// The relay's host.
        host: String,
        /// What went wrong.
        reason: String,
    },
}

/// Reply codes of a relay refusing to authenticate (RFC 4954): the configuration is wrong, not
/// the message, so these are worth retrying once it is fixed.
const AUTHENTICATION_CODES: [u16; 4] = [530, 534, 535, 538];

const CONTENT_LANGUAGE: HeaderName = HeaderName::new_from_ascii_str("Content-Language");

/// Sends [`Channel::Email`] messages through one SMTP relay.
///
/// Each [`send`](Notifier::send) opens its own connection and closes it after the relay's
/// answer. It needs a running tokio runtime.
#[derive(Clone)]
pub struct SmtpNotifier {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    settings: SmtpSettings,
}

impl fmt::Debug for SmtpNotifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpNotifier")
            .field("host", &self.settings.host)
            .field("port", &self.settings.port)
            .field("security", &self.settings.security)
            .field("from", &self.settings.from)
            .field("timeout", &self.settings.timeout)
            .finish_non_exhaustive()
    }
}

impl SmtpNotifier {
    /// A notifier delivering through the relay `settings` name. Nothing is connected yet.
    ///
    /// # Errors
    /// [`SmtpConfigError::InvalidFrom`] when the sender does not parse as a mailbox,
    /// [`SmtpConfigError::EmptyHost`] without a host, and [`SmtpConfigError::Tls`] when TLS
    /// parameters cannot be built for the host.
    pub fn new(settings: SmtpSettings) -> Result<Self, SmtpConfigError> {
        let from: Mailbox =
            settings
                .from
                .trim()
                .parse()
                .map_err(
                    |e: lettre::address::AddressError| SmtpConfigError::InvalidFrom {
                        from: settings.from.clone(),
                        reason: e.to_string(),
                    },
                )?;
        let host = settings.host.trim();
        if host.is_empty() {
            return Err(SmtpConfigError::EmptyHost);
        }
        let tls_parameters = || {
            TlsParameters::new(host.to_owned()).map_err(|e| SmtpConfigError::Tls {
                host: host.to_owned(),
                reason: e.to_string(),
            })
        };
        let tls = match settings.security {
            SmtpSecurity::None => Tls::None,
            SmtpSecurity::StartTls => Tls::Required(tls_parameters()?),
            SmtpSecurity::Tls => Tls::Wrapper(tls_parameters()?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(settings.port)
            .tls(tls)
            // Bounds connecting only; `send` bounds the whole attempt.
            .timeout(Some(settings.timeout));
        if let Some(credentials) = &settings.credentials {
            builder = builder.credentials(Credentials::new(
                credentials.username.clone(),
                credentials.password.clone(),
            ));
        }
        Ok(Self {
            transport: builder.build(),
            from,
            settings,
        })
    }

    /// The settings this notifier was made from.
    pub fn settings(&self) -> &SmtpSettings {
        &self.settings
    }

    /// The e-mail `message` becomes, or `Permanent` when its recipient is not an address.
    fn email(&self, message: &OutboundMessage) -> Result<Message, SendError> {
        let to: Mailbox =
            message
                .to
                .trim()
                .parse()
                .map_err(|e: lettre::address::AddressError| SendError::Permanent {
                    reason: format!("recipient {:?} is not an e-mail address: {e}", message.to),
                })?;
        let subject = message
            .subject
            .as_deref()
            .filter(|subject| !subject.trim().is_empty())
            .unwrap_or(&message.kind);
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .message_id(Some(format!("<{}@cem>", message.id)));
        let language = message.language.as_str();
        if !language.is_empty() {
            builder = builder.raw_header(HeaderValue::new(CONTENT_LANGUAGE, language.to_owned()));
        }
        builder
            .singlepart(SinglePart::plain(message.body.clone()))
            .map_err(|e| SendError::Permanent {
                reason: format!("the e-mail cannot be built: {e}"),
            })
    }
}

/// How a failed SMTP attempt counts for the outbox.
fn classify(error: &smtp::Error) -> SendError {
    let reason = error.to_string();
    match error.status().map(u16::from) {
        Some(code) if error.is_permanent() && !AUTHENTICATION_CODES.contains(&code) => {
            SendError::Permanent { reason }
        }
        // 4xx replies, authentication refused, and everything that is not a reply: refused or
        // lost connections, TLS failures, garbled answers, missing server capabilities.
        _ => SendError::Retryable { reason },
    }
}

#[async_trait]
impl Notifier for SmtpNotifier {
    fn handles(&self, channel: Channel) -> bool {
        channel == Channel::Email
    }

    async fn send(&self, message: &OutboundMessage) -> Result<(), SendError> {
        if !self.handles(message.channel) {
            return Err(SendError::Permanent {
                reason: format!(
                    "the SMTP notifier sends e-mail only, not {:?} messages",
                    message.channel
                ),
            });
        }
        let email = self.email(message)?;
        // lettre bounds connecting only; a relay that accepts the connection and then stays
        // silent must not hold the attempt (and the outbox) forever.
        match tokio::time::timeout(self.settings.timeout, self.transport.send(email)).await {
            Ok(Ok(_response)) => Ok(()),
            Ok(Err(error)) => Err(classify(&error)),
            Err(_elapsed) => Err(SendError::Retryable {
                reason: format!(
                    "no answer from {}:{} within {:?}",
                    self.settings.host, self.settings.port, self.settings.timeout
                ),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cem_core::{Language, MessageId, OrganizationId};

    fn message(to: &str, subject: Option<&str>) -> OutboundMessage {
        OutboundMessage {
            id: MessageId::from_u128(7),
            organization: OrganizationId::from_u128(1),
            channel: Channel::Email,
            to: to.to_owned(),
            kind: "ticket_called".to_owned(),
            language: Language::en(),
            subject: subject.map(str::to_owned),
            body: "Your turn: counter 3.".to_owned(),
            created_at: chrono::DateTime::UNIX_EPOCH,
        }
    }

    fn notifier() -> SmtpNotifier {
        SmtpNotifier::new(SmtpSettings::new(
            "127.0.0.1",
            25,
            SmtpSecurity::None,
            "CEM <noreply@bank.example>",
        ))
        .unwrap()
    }

    fn header_lines(email: &Message) -> Vec<String> {
        let text = String::from_utf8(email.formatted()).unwrap();
        let head = text.split("\r\n\r\n").next().unwrap().to_owned();
        head.split("\r\n").map(str::to_owned).collect()
    }

    #[test]
    fn a_subject_cannot_inject_headers() {
        let email = notifier()
            .email(&message(
                "client@example.com",
                Some("Hello\r\nBcc: spy@example.com"),
            ))
            .unwrap();
        let lines = header_lines(&email);
        assert!(
            !lines
                .iter()
                .any(|l| l.to_ascii_lowercase().starts_with("bcc:")),
            "{lines:?}"
        );
        assert_eq!(
            email.envelope().to(),
            ["client@example.com".parse::<lettre::Address>().unwrap()]
        );
    }

    #[test]
    fn a_recipient_with_a_line_break_is_not_an_address() {
        let error = notifier()
            .email(&message("client@example.com\r\nBcc: spy@example.com", None))
            .unwrap_err();
        assert!(!error.is_retryable(), "{error:?}");
    }

    #[test]
    fn an_empty_subject_falls_back_to_the_kind() {
        let email = notifier()
            .email(&message("client@example.com", Some("  ")))
            .unwrap();
        assert!(
            header_lines(&email).contains(&"Subject: ticket_called".to_owned()),
            "{:?}",
            header_lines(&email)
        );
    }

    #[test]
    fn settings_are_checked_when_the_notifier_is_made() {
        let bad_from = SmtpSettings::new("127.0.0.1", 25, SmtpSecurity::None, "not an address");
        assert!(matches!(
            SmtpNotifier::new(bad_from),
            Err(SmtpConfigError::InvalidFrom { .. })
        ));
        let no_host = SmtpSettings::new(" ", 25, SmtpSecurity::None, "noreply@bank.example");
        assert_eq!(
            SmtpNotifier::new(no_host).unwrap_err(),
            SmtpConfigError::EmptyHost
        );
        let tls = SmtpSettings::new(
            "smtp.bank.example",
            465,
            SmtpSecurity::Tls,
            "noreply@bank.example",
        );
        assert!(SmtpNotifier::new(tls).is_ok());
    }

    #[test]
    fn debug_output_hides_the_password() {
        let settings =
            SmtpSettings::new("127.0.0.1", 25, SmtpSecurity::None, "noreply@bank.example")
                .with_credentials("cem", "hunter2");
        assert!(!format!("{settings:?}").contains("hunter2"));
        let notifier = SmtpNotifier::new(settings).unwrap();
        assert!(!format!("{notifier:?}").contains("hunter2"));
    }
}
