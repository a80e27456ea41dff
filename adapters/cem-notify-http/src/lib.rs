//! # cem-notify-http
//!
//! [`HttpNotifier`]: a [`Notifier`] that delivers messages as HTTP requests, to an SMS or e-mail
//! gateway at a fixed URL, or to the URL of an outbound integration webhook (a CRM or ERP
//! following CEM's events). [`HttpNotifierSettings`] says which channels it serves, where, with
//! which method, extra headers, body template and signing secret.
//!
//! Webhooks of integrations each have their own secret: give the notifier [`SigningKeys`]
//! with [`HttpNotifier::with_signing_keys`] and it signs each message with the key looked up
//! for it, falling back to the settings' secret when the lookup has none.
//!
//! ## The request
//!
//! Every request carries:
//!
//! | Header | Value |
//! |---|---|
//! | `Idempotency-Key` | the message id, the same on every attempt: a receiver that remembers it drops a message delivered twice |
//! | `X-CEM-Message-Kind` | the message's kind (`ticket_called`, an event type, …) |
//! | `X-CEM-Timestamp` | when the request was signed, in Unix seconds |
//! | `X-CEM-Signature` | only with a secret (the message's key from [`SigningKeys`], else the settings' secret): `sha256=` and the lowercase hex HMAC-SHA256 of `<timestamp>.<body>` |
//!
//! The default body is the JSON document
//! `{"id":…,"kind":…,"to":…,"language":…,"subject":…,"body":…,"created_at":…}` (`subject` may be
//! `null`, `created_at` is RFC 3339). For a [`Channel::Webhook`] message the `body` is itself a
//! JSON document and is embedded as one, not as a string. A custom template is text with the
//! placeholders `{id}`, `{kind}`, `{to}`, `{language}`, `{subject}`, `{body}` and
//! `{created_at}`; each value is escaped for the content type (JSON string escaping for a JSON
//! type, so it belongs between quotes in the template; form encoding for
//! `application/x-www-form-urlencoded`), so a body with quotes or newlines cannot break the
//! document. Any other text in braces is left as it is.
//!
//! ## Verifying a request
//!
//! The signature covers the timestamp and the exact bytes of the body, so a receiver:
//!
//! 1. reads the raw body bytes before parsing them;
//! 2. computes HMAC-SHA256 with the shared secret over the `X-CEM-Timestamp` value, a `.`,
//!    and the body bytes, and compares it, in constant time, with the hex after `sha256=` in
//!    `X-CEM-Signature`;
//! 3. rejects a timestamp further than a few minutes from its own clock, so a recorded request
//!    cannot be replayed later; within that window, it drops an `Idempotency-Key` it has seen.
//!
//! [`verify_signature`] does steps 2 and 3 for receivers written in Rust:
//!
//! ```
//! use cem_notify_http::{sign, verify_signature};
//!
//! let body = br#"{"event":"ticket_called"}"#;
//! let signature = sign(b"shared secret", 1_700_000_000, body);
//! assert!(verify_signature(b"shared secret", "1700000000", &signature, body, 1_700_000_030, 300));
//! // Another body, another secret or a request too old: refused.
//! assert!(!verify_signature(b"shared secret", "1700000000", &signature, b"{}", 1_700_000_030, 300));
//! assert!(!verify_signature(b"other secret", "1700000000", &signature, body, 1_700_000_030, 300));
//! assert!(!verify_signature(b"shared secret", "1700000000", &signature, body, 1_700_003_600, 300));
//! ```
//!
//! ## Outcomes
//!
//! A 2xx answer is a delivery. 408, 429, 5xx, a connection that fails and a timeout are
//! [`SendError::Retryable`]; other 4xx and 3xx answers (redirects are not followed), a channel
//! the notifier does not handle and a URL that is not `http` or `https` are
//! [`SendError::Permanent`]. The reason holds the status and the start of the answer's body.
//!
//! ```no_run
//! use cem_core::Channel;
//! use cem_notify_http::{HttpNotifier, HttpNotifierSettings};
//!
//! let webhooks = HttpNotifier::new(HttpNotifierSettings {
//!     secret: Some("shared secret".into()),
//!     ..HttpNotifierSettings::new(vec![Channel::Webhook])
//! })
//! .unwrap();
//! let sms = HttpNotifier::new(HttpNotifierSettings {
//!     url: Some("https://sms.example.org/send".into()),
//!     headers: vec![("Authorization".into(), "Bearer token".into())],
//!     ..HttpNotifierSettings::new(vec![Channel::Sms])
//! })
//! .unwrap();
//! # let _ = (webhooks, sms);
//! ```

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use cem_core::{Channel, Notifier, OutboundMessage, SendError};
use hmac::{Hmac, Mac};
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode, Url, redirect};
use sha2::Sha256;
use thiserror::Error;

/// The header carrying the message id.
pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";
/// The header carrying the message kind.
pub const KIND_HEADER: &str = "x-cem-message-kind";
/// The header carrying the signing time in Unix seconds.
pub const TIMESTAMP_HEADER: &str = "x-cem-timestamp";
/// The header carrying the signature, `sha256=<hex>`.
pub const SIGNATURE_HEADER: &str = "x-cem-signature";

/// How much of an answer's body a failure reason quotes, in characters.
const EXCERPT_CHARS: usize = 200;
/// How much of an answer's body is read for the excerpt, in bytes.
const EXCERPT_BYTES: usize = 1024;

type HmacSha256 = Hmac<Sha256>;

/// The HTTP method of the requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum HttpMethod {
    /// `POST`, the default.
    #[default]
    Post,
    /// `PUT`.
    Put,
    /// `PATCH`.
    Patch,
}

impl HttpMethod {
    fn as_reqwest(self) -> Method {
        match self {
            Self::Post => Method::POST,
            Self::Put => Method::PUT,
            Self::Patch => Method::PATCH,
        }
    }
}

/// How an [`HttpNotifier`] delivers.
#[derive(Clone)]
pub struct HttpNotifierSettings {
    /// The channels it handles.
    pub channels: Vec<Channel>,
    /// Where requests go. Required for SMS and e-mail (the gateway); for a webhook the
    /// message's `to` is the URL unless this is set.
    pub url: Option<String>,
    /// The method, `POST` by default.
    pub method: HttpMethod,
    /// Extra headers sent with every request (a gateway's `Authorization`, for example). The
    /// headers the notifier sets itself may not be given here.
    pub headers: Vec<(String, String)>,
    /// The `Content-Type` of the body, `application/json` by default.
    pub content_type: String,
    /// A body template with placeholders (see the crate docs); `None` for the default JSON
    /// document.
    pub body_template: Option<String>,
    /// The secret that signs requests (`X-CEM-Signature`); no signature without it. A
    /// message the notifier's [`SigningKeys`] have a key for is signed with that key instead.
    pub secret: Option<String>,
    /// How long one attempt may take, from connecting to the end of the answer's headers.
    pub timeout: Duration,
}

impl HttpNotifierSettings {
    /// Settings for `channels` with every default: no fixed URL, `POST`, no extra header,
    /// JSON, the default body, no secret, a 10 s timeout.
    pub fn new(channels: Vec<Channel>) -> Self {
        Self {
            channels,
            url: None,
            method: HttpMethod::Post,
            headers: Vec::new(),
            content_type: "application/json".to_owned(),
            body_template: None,
            secret: None,
            timeout: Duration::from_secs(10),
        }
    }
}

// Header values and the secret are credentials: only their names and presence are shown.
impl fmt::Debug for HttpNotifierSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpNotifierSettings")
            .field("channels", &self.channels)
            .field("url", &self.url)
            .field("method", &self.method)
            .field(
                "headers",
                &self
                    .headers
                    .iter()
                    .map(|(name, _)| name)
                    .collect::<Vec<_>>(),
            )
            .field("content_type", &self.content_type)
            .field("body_template", &self.body_template)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Settings an [`HttpNotifier`] cannot work with.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum HttpNotifierError {
    /// The fixed URL does not parse or is not `http` or `https`.
    #[error("invalid url {url:?}: {reason}")]
    InvalidUrl {
        /// The URL given.
        url: String,
        /// Why it was refused.
        reason: String,
    },
    /// SMS or e-mail is handled but no gateway URL is set.
    #[error("channel {channel:?} needs a gateway url")]
    MissingUrl {
        /// The channel without a destination.
        channel: Channel,
    },
    /// An extra header has an invalid name or value.
    #[error("invalid header {name:?}")]
    InvalidHeader {
        /// The header's name.
        name: String,
    },
    /// An extra header is one the notifier sets itself.
    #[error("header {name:?} is set by the notifier")]
    ReservedHeader {
        /// The header's name.
        name: String,
    },
    /// The content type is not a valid header value.
    #[error("invalid content type {content_type:?}")]
    InvalidContentType {
        /// The content type given.
        content_type: String,
    },
    /// With a JSON content type, the template does not render to a JSON document.
    #[error("body template does not render to json: {reason}")]
    InvalidTemplate {
        /// The parser's complaint.
        reason: String,
    },
    /// The HTTP client could not be built.
    #[error("http client: {reason}")]
    Client {
        /// What went wrong.
        reason: String,
    },
}

/// How placeholder values are escaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Escaping {
    Json,
    Form,
    Raw,
}

impl Escaping {
    fn for_content_type(content_type: &str) -> Self {
        let media = content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if media == "application/json" || media.ends_with("+json") {
            Self::Json
        } else if media == "application/x-www-form-urlencoded" {
            Self::Form
        } else {
            Self::Raw
        }
    }

    fn escape(self, value: &str, out: &mut String) {
        match self {
            Self::Json => {
                let quoted = serde_json::Value::from(value).to_string();
                out.push_str(&quoted[1..quoted.len() - 1]);
            }
            Self::Form => out.extend(form_urlencoded::byte_serialize(value.as_bytes())),
            Self::Raw => out.push_str(value),
        }
    }
}

/// Where an [`HttpNotifier`] finds the secret that signs one message: the secret of the
/// webhook subscription the message goes to, for example.
#[async_trait]
pub trait SigningKeys: Send + Sync + fmt::Debug + 'static {
    /// The secret that signs `message`, or `None` to use the notifier's own secret (if any).
    ///
    /// # Errors
    /// A [`SendError`] the notifier returns, unchanged, as the outcome of the attempt, which
    /// then sends nothing: `Retryable` when the keys cannot be read now, `Permanent` when the
    /// message must not be sent at all.
    async fn key(&self, message: &OutboundMessage) -> Result<Option<Vec<u8>>, SendError>;
}

/// A [`Notifier`] over HTTP; see the crate docs.
#[derive(Clone)]
pub struct HttpNotifier {
    client: reqwest::Client,
    channels: Vec<Channel>,
    url: Option<Url>,
    method: Method,
    headers: HeaderMap,
    escaping: Escaping,
    template: Option<String>,
    secret: Option<Vec<u8>>,
    keys: Option<Arc<dyn SigningKeys>>,
}

impl fmt::Debug for HttpNotifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpNotifier")
            .field("channels", &self.channels)
            .field("url", &self.url.as_ref().map(Url::as_str))
            .field("method", &self.method)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("signed", &self.secret.is_some())
            .field("signing_keys", &self.keys.is_some())
            .finish_non_exhaustive()
    }
}

impl HttpNotifier {
    /// A notifier with these settings.
    ///
    /// # Errors
    /// [`HttpNotifierError`] when the settings cannot work: a fixed URL that is not `http` or
    /// `https`, SMS or e-mail without one, an invalid or reserved header, a JSON template that
    /// does not render to JSON, or a client that cannot be built.
    pub fn new(settings: HttpNotifierSettings) -> Result<Self, HttpNotifierError> {
        let url = settings
            .url
            .as_deref()
            .map(|raw| {
                parse_http_url(raw).map_err(|reason| HttpNotifierError::InvalidUrl {
                    url: raw.to_owned(),
                    reason,
                })
            })
            .transpose()?;
        if url.is_none()
            && let Some(&channel) = settings
                .channels
                .iter()
                .find(|c| !matches!(c, Channel::Webhook))
        {
            return Err(HttpNotifierError::MissingUrl { channel });
        }

        let reserved = [
            CONTENT_TYPE.as_str(),
            IDEMPOTENCY_KEY_HEADER,
            KIND_HEADER,
            TIMESTAMP_HEADER,
            SIGNATURE_HEADER,
        ];
        let mut headers = HeaderMap::new();
        for (name, value) in &settings.headers {
            let invalid = || HttpNotifierError::InvalidHeader { name: name.clone() };
            let header_name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| invalid())?;
            if reserved.contains(&header_name.as_str()) {
                return Err(HttpNotifierError::ReservedHeader { name: name.clone() });
            }
            let mut header_value = HeaderValue::from_str(value).map_err(|_| invalid())?;
            header_value.set_sensitive(true);
            headers.append(header_name, header_value);
        }
        let content_type = HeaderValue::from_str(&settings.content_type).map_err(|_| {
            HttpNotifierError::InvalidContentType {
                content_type: settings.content_type.clone(),
            }
        })?;
        headers.insert(CONTENT_TYPE, content_type);

        let escaping = Escaping::for_content_type(&settings.content_type);
        if let (Some(template), Escaping::Json) = (&settings.body_template, escaping) {
            let sample = render_template(template, escaping, &PlaceholderValues::sample());
            serde_json::from_str::<serde_json::Value>(&sample).map_err(|e| {
                HttpNotifierError::InvalidTemplate {
                    reason: e.to_string(),
                }
            })?;
        }

        let client = reqwest::Client::builder()
            .redirect(redirect::Policy::none())
            .timeout(settings.timeout)
            .build()
            .map_err(|e| HttpNotifierError::Client {
                reason: e.to_string(),
            })?;

        Ok(Self {
            client,
            channels: settings.channels,
            url,
            method: settings.method.as_reqwest(),
            headers,
            escaping,
            template: settings.body_template,
            secret: settings.secret.map(String::into_bytes),
            keys: None,
        })
    }

    /// The same notifier, signing each message with the key `keys` gives for it; a message
    /// they have no key for is signed with the settings' secret, if there is one.
    #[must_use]
    pub fn with_signing_keys(mut self, keys: Arc<dyn SigningKeys>) -> Self {
        self.keys = Some(keys);
        self
    }

    /// The secret that signs `message`, if any.
    async fn signing_key(&self, message: &OutboundMessage) -> Result<Option<Vec<u8>>, SendError> {
        let key = match &self.keys {
            Some(keys) => keys.key(message).await?,
            None => None,
        };
        Ok(key.or_else(|| self.secret.clone()))
    }

    /// The URL a message goes to.
    fn destination(&self, message: &OutboundMessage) -> Result<Url, SendError> {
        if let Some(url) = &self.url {
            return Ok(url.clone());
        }
        // Without a fixed URL only webhooks are handled (checked in `new`).
        parse_http_url(&message.to).map_err(|reason| SendError::Permanent {
            reason: format!("webhook url refused: {reason}"),
        })
    }

    /// The request body.
    fn body(&self, message: &OutboundMessage) -> Result<String, SendError> {
        let values = PlaceholderValues::of(message);
        if let Some(template) = &self.template {
            return Ok(render_template(template, self.escaping, &values));
        }
        let body = if message.channel == Channel::Webhook {
            serde_json::from_str::<serde_json::Value>(&message.body).map_err(|e| {
                SendError::Permanent {
                    reason: format!("webhook body is not json: {e}"),
                }
            })?
        } else {
            serde_json::Value::from(message.body.as_str())
        };
        let document = serde_json::json!({
            "id": values.id,
            "kind": message.kind,
            "to": message.to,
            "language": message.language.as_str(),
            "subject": message.subject,
            "body": body,
            "created_at": values.created_at,
        });
        Ok(document.to_string())
    }
}

#[async_trait]
impl Notifier for HttpNotifier {
    fn handles(&self, channel: Channel) -> bool {
        self.channels.contains(&channel)
    }

    async fn send(&self, message: &OutboundMessage) -> Result<(), SendError> {
        if !self.handles(message.channel) {
            return Err(SendError::Permanent {
                reason: format!("channel {:?} is not handled", message.channel),
            });
        }
        let url = self.destination(message)?;
        let body = self.body(message)?;
        let kind = HeaderValue::from_str(&message.kind).map_err(|_| SendError::Permanent {
            reason: format!("kind {:?} is not a valid header value", message.kind),
        })?;
        let secret = self.signing_key(message).await?;
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());

        let mut headers = self.headers.clone();
        headers.insert(
            HeaderName::from_static(IDEMPOTENCY_KEY_HEADER),
            header_value(&message.id.to_string()),
        );
        headers.insert(HeaderName::from_static(KIND_HEADER), kind);
        headers.insert(
            HeaderName::from_static(TIMESTAMP_HEADER),
            header_value(&timestamp.to_string()),
        );
        if let Some(secret) = &secret {
            headers.insert(
                HeaderName::from_static(SIGNATURE_HEADER),
                header_value(&sign(secret, timestamp, body.as_bytes())),
            );
        }

        let response = self
            .client
            .request(self.method.clone(), url)
            .headers(headers)
            .body(body)
            .send()
            .await
            .map_err(request_error)?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let reason = format!("HTTP {status}: {}", excerpt(response).await);
        if status == StatusCode::REQUEST_TIMEOUT
            || status == StatusCode::TOO_MANY_REQUESTS
            || status.is_server_error()
        {
            Err(SendError::Retryable { reason })
        } else {
            Err(SendError::Permanent { reason })
        }
    }
}

/// `sha256=` and the lowercase hex HMAC-SHA256, keyed with `secret`, of `<timestamp>.<body>`:
/// the value of `X-CEM-Signature`.
pub fn sign(secret: &[u8], timestamp: u64, body: &[u8]) -> String {
    let mut mac = keyed_mac(secret, timestamp.to_string().as_bytes());
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Whether a request is signed with `secret` and recent: `signature_header` (the value of
/// `X-CEM-Signature`) must be the signature of `timestamp_header` (the value of
/// `X-CEM-Timestamp`) and the raw `body`, and the timestamp at most `tolerance_secs` away from
/// `now_unix` (Unix seconds), in either direction. The comparison takes constant time.
pub fn verify_signature(
    secret: &[u8],
    timestamp_header: &str,
    signature_header: &str,
    body: &[u8],
    now_unix: i64,
    tolerance_secs: u64,
) -> bool {
    let timestamp_text = timestamp_header.trim();
    let Ok(timestamp) = timestamp_text.parse::<i64>() else {
        return false;
    };
    if timestamp.abs_diff(now_unix) > tolerance_secs {
        return false;
    }
    let Some(hex_signature) = signature_header.trim().strip_prefix("sha256=") else {
        return false;
    };
    let Ok(signature) = hex::decode(hex_signature) else {
        return false;
    };
    let mut mac = keyed_mac(secret, timestamp_text.as_bytes());
    mac.update(body);
    mac.verify_slice(&signature).is_ok()
}

/// An HMAC-SHA256 over `<timestamp>.`, ready for the body.
fn keyed_mac(secret: &[u8], timestamp: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac = HmacSha256::new_from_slice(secret).expect("hmac accepts keys of any length");
    mac.update(timestamp);
    mac.update(b".");
    mac
}

/// A header value from text that is always visible ASCII (ids, numbers, hex).
fn header_value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).expect("ids, numbers and hex are valid header values")
}

/// Parses `raw` and accepts only `http` and `https`.
fn parse_http_url(raw: &str) -> Result<Url, String> {
    let url = Url::parse(raw.trim()).map_err(|e| e.to_string())?;
    match url.scheme() {
        "http" | "https" => Ok(url),
        other => Err(format!("scheme {other:?} is not http or https")),
    }
}

/// Maps a failure to get an answer. Connection failures and timeouts may pass; a request that
/// cannot even be built will not.
fn request_error(error: reqwest::Error) -> SendError {
    let retryable =
        !error.is_builder() && (error.is_timeout() || error.is_connect() || error.is_request());
    // The URL may carry a token in its query: keep it out of reasons, which end up in logs.
    let reason = describe(&error.without_url());
    if retryable {
        SendError::Retryable { reason }
    } else {
        SendError::Permanent { reason }
    }
}

/// An error and its sources, on one line.
fn describe(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The start of an answer's body, on one line, for a failure reason.
async fn excerpt(mut response: reqwest::Response) -> String {
    let mut bytes = Vec::new();
    while bytes.len() < EXCERPT_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            Ok(None) | Err(_) => break,
        }
    }
    bytes.truncate(EXCERPT_BYTES);
    let text = String::from_utf8_lossy(&bytes);
    let mut one_line: String = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(EXCERPT_CHARS)
        .collect();
    if one_line.is_empty() {
        one_line.push_str("(empty body)");
    }
    one_line
}

/// The values of a template's placeholders, unescaped.
#[derive(Debug)]
struct PlaceholderValues {
    id: String,
    kind: String,
    to: String,
    language: String,
    subject: String,
    body: String,
    created_at: String,
}

impl PlaceholderValues {
    fn of(message: &OutboundMessage) -> Self {
        Self {
            id: message.id.to_string(),
            kind: message.kind.clone(),
            to: message.to.clone(),
            language: message.language.as_str().to_owned(),
            subject: message.subject.clone().unwrap_or_default(),
            body: message.body.clone(),
            created_at: message.created_at.to_rfc3339(),
        }
    }

    /// Values with the characters that break documents, to check a template once.
    fn sample() -> Self {
        let tricky = "sample \"quoted\" {body}\n\\ text";
        Self {
            id: "00000000-0000-0000-0000-000000000000".to_owned(),
            kind: tricky.to_owned(),
            to: tricky.to_owned(),
            language: "en".to_owned(),
            subject: tricky.to_owned(),
            body: tricky.to_owned(),
            created_at: "2025-01-01T00:00:00+00:00".to_owned(),
        }
    }

    fn get(&self, name: &str) -> Option<&str> {
        Some(match name {
            "id" => &self.id,
            "kind" => &self.kind,
            "to" => &self.to,
            "language" => &self.language,
            "subject" => &self.subject,
            "body" => &self.body,
            "created_at" => &self.created_at,
            _ => return None,
        })
    }
}

/// Replaces the placeholders of `template` in one pass, so a value that contains a
/// placeholder's text is never expanded again.
fn render_template(template: &str, escaping: Escaping, values: &PlaceholderValues) -> String {
    let mut out = String::with_capacity(template.len() + values.body.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let placeholder = after
            .find('}')
            .and_then(|close| values.get(&after[..close]).map(|value| (close, value)));
        match placeholder {
            Some((close, value)) => {
                escaping.escape(value, &mut out);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_a_known_answer() {
        // HMAC-SHA256("key", "1700000000.hello") computed independently.
        assert_eq!(
            sign(b"key", 1_700_000_000, b"hello"),
            "sha256=4d583a269f4f276a3fa80ff31b5a01879a848096983222a17893d198418939aa"
        );
    }

    #[test]
    fn verification_refuses_tampering_and_old_or_future_timestamps() {
        let signature = sign(b"secret", 1_000, b"body");
        assert!(verify_signature(
            b"secret", "1000", &signature, b"body", 1_000, 0
        ));
        assert!(verify_signature(
            b"secret", "1000", &signature, b"body", 1_300, 300
        ));
        assert!(!verify_signature(
            b"secret", "1000", &signature, b"body", 1_301, 300
        ));
        assert!(!verify_signature(
            b"secret", "1000", &signature, b"body", 699, 300
        ));
        assert!(!verify_signature(
            b"secret", "1000", &signature, b"bodY", 1_000, 300
        ));
        assert!(!verify_signature(
            b"secret", "1001", &signature, b"body", 1_000, 300
        ));
        assert!(!verify_signature(
            b"Secret", "1000", &signature, b"body", 1_000, 300
        ));
        let bare = signature.trim_start_matches("sha256=");
        assert!(!verify_signature(
            b"secret", "1000", bare, b"body", 1_000, 300
        ));
        assert!(!verify_signature(
            b"secret",
            "1000",
            "sha256=zz",
            b"body",
            1_000,
            300
        ));
        assert!(!verify_signature(
            b"secret", "soon", &signature, b"body", 1_000, 300
        ));
    }

    #[test]
    fn templates_replace_known_placeholders_once_and_keep_other_braces() {
        let values = PlaceholderValues {
            body: "say {id} \"hi\"".to_owned(),
            ..PlaceholderValues::sample()
        };
        let rendered = render_template(
            "{\"text\": \"{body}\", \"x\": \"{unknown}\", \"l\": \"{language}\"}{",
            Escaping::Json,
            &values,
        );
        assert_eq!(
            rendered,
            "{\"text\": \"say {id} \\\"hi\\\"\", \"x\": \"{unknown}\", \"l\": \"en\"}{"
        );
        let form = render_template("to={to}&text={body}", Escaping::Form, &values);
        assert!(form.starts_with("to=sample+%22quoted%22+%7Bbody%7D%0A%5C+text&text=say"));
    }

    #[test]
    fn content_types_choose_the_escaping() {
        assert_eq!(
            Escaping::for_content_type("application/json; charset=utf-8"),
            Escaping::Json
        );
        assert_eq!(
            Escaping::for_content_type("application/vnd.gateway+json"),
            Escaping::Json
        );
        assert_eq!(
            Escaping::for_content_type("application/x-www-form-urlencoded"),
            Escaping::Form
        );
        assert_eq!(Escaping::for_content_type("text/plain"), Escaping::Raw);
    }

    #[test]
    fn settings_that_cannot_work_are_refused() {
        let sms = HttpNotifierSettings::new(vec![Channel::Sms]);
        assert!(matches!(
            HttpNotifier::new(sms.clone()),
            Err(HttpNotifierError::MissingUrl {
                channel: Channel::Sms
            })
        ));
        let ftp = HttpNotifierSettings {
            url: Some("ftp://gateway.example.org/".into()),
            ..sms.clone()
        };
        assert!(matches!(
            HttpNotifier::new(ftp),
            Err(HttpNotifierError::InvalidUrl { .. })
        ));
        let with_url = HttpNotifierSettings {
            url: Some("https://gateway.example.org/send".into()),
            ..sms
        };
        let reserved = HttpNotifierSettings {
            headers: vec![("Idempotency-Key".into(), "x".into())],
            ..with_url.clone()
        };
        assert!(matches!(
            HttpNotifier::new(reserved),
            Err(HttpNotifierError::ReservedHeader { .. })
        ));
        let unquoted = HttpNotifierSettings {
            body_template: Some("{\"text\": {body}}".into()),
            ..with_url.clone()
        };
        assert!(matches!(
            HttpNotifier::new(unquoted),
            Err(HttpNotifierError::InvalidTemplate { .. })
        ));
        let secret = HttpNotifierSettings {
            secret: Some("hunter2".into()),
            headers: vec![("Authorization".into(), "Bearer abc".into())],
            ..with_url
        };
        let debug = format!(
            "{secret:?} {:?}",
            HttpNotifier::new(secret.clone()).unwrap()
        );
        assert!(!debug.contains("hunter2") && !debug.contains("Bearer abc"));
    }
}
