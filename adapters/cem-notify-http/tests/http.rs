//! `HttpNotifier` against a real axum receiver on 127.0.0.1.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{any, post};
use bytes::Bytes;
use cem_core::chrono::{TimeZone, Utc};
use cem_core::serde_json::{self, Value, json};
use cem_core::{
    Channel, Language, MessageId, Notifier, OrganizationId, OutboundMessage, SendError,
};
use cem_notify_http::{HttpNotifier, HttpNotifierSettings, SigningKeys, verify_signature};

const SECRET: &str = "receiver shared secret";

/// One request the receiver accepted.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    headers: HeaderMap,
    body: Bytes,
}

#[derive(Debug, Clone, Default)]
struct Receiver {
    received: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    fn all(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    fn only(&self) -> Received {
        let all = self.all();
        assert_eq!(all.len(), 1, "expected exactly one request, got {all:?}");
        all.into_iter().next().unwrap()
    }
}

fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .try_into()
        .unwrap()
}

/// Accepts a request only when it is signed with `SECRET` and recent, then records it.
async fn signed(
    State(receiver): State<Receiver>,
    Path(path): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    let ok = verify_signature(
        SECRET.as_bytes(),
        header("x-cem-timestamp"),
        header("x-cem-signature"),
        &body,
        now_unix(),
        300,
    );
    if !ok {
        return StatusCode::UNAUTHORIZED;
    }
    receiver.received.lock().unwrap().push(Received {
        path,
        headers,
        body,
    });
    StatusCode::NO_CONTENT
}

/// Records a request whatever its signature, for the test to check.
async fn open(
    State(receiver): State<Receiver>,
    Path(path): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    receiver.received.lock().unwrap().push(Received {
        path,
        headers,
        body,
    });
    StatusCode::NO_CONTENT
}

/// Answers with the status in the path and a body naming it.
async fn status(State(receiver): State<Receiver>, Path(code): Path<u16>) -> impl IntoResponse {
    receiver.received.lock().unwrap().push(Received {
        path: format!("status/{code}"),
        headers: HeaderMap::new(),
        body: Bytes::new(),
    });
    let status = StatusCode::from_u16(code).unwrap();
    (
        status,
        [(header::LOCATION, "/hooks/redirected")],
        format!("gateway says\n{code}"),
    )
}

async fn hang() -> StatusCode {
    std::future::pending::<()>().await;
    StatusCode::OK
}

async fn start_receiver() -> (SocketAddr, Receiver) {
    let receiver = Receiver::default();
    let app = Router::new()
        .route("/hooks/{path}", post(signed))
        .route("/open/{path}", post(open))
        .route("/status/{code}", any(status))
        .route("/hang", post(hang))
        .with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, receiver)
}

fn message(channel: Channel, to: &str, body: &str) -> OutboundMessage {
    OutboundMessage {
        id: MessageId::from_u128(0x5eed),
        organization: OrganizationId::from_u128(1),
        channel,
        to: to.to_owned(),
        kind: "ticket_called".to_owned(),
        language: Language::fa(),
        subject: None,
        body: body.to_owned(),
        created_at: Utc.with_ymd_and_hms(2025, 3, 21, 9, 30, 0).unwrap(),
    }
}

fn webhooks() -> HttpNotifier {
    HttpNotifier::new(HttpNotifierSettings {
        secret: Some(SECRET.to_owned()),
        ..HttpNotifierSettings::new(vec![Channel::Webhook])
    })
    .unwrap()
}

fn gateway(url: String, channel: Channel) -> HttpNotifierSettings {
    HttpNotifierSettings {
        url: Some(url),
        secret: Some(SECRET.to_owned()),
        ..HttpNotifierSettings::new(vec![channel])
    }
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> &'h str {
    headers.get(name).unwrap().to_str().unwrap()
}

#[tokio::test]
async fn webhook_default_body_round_trips_signed_with_its_headers() {
    let (addr, receiver) = start_receiver().await;
    let event = json!({"type": "ticket_called", "ticket": "A-042", "counter": 3});
    let mut msg = message(
        Channel::Webhook,
        &format!("http://{addr}/hooks/crm?tenant=7"),
        &event.to_string(),
    );
    msg.subject = Some("ignored by webhooks".to_owned());

    webhooks().send(&msg).await.unwrap();

    let got = receiver.only();
    assert_eq!(got.path, "crm");
    assert_eq!(header(&got.headers, "idempotency-key"), msg.id.to_string());
    assert_eq!(header(&got.headers, "x-cem-message-kind"), "ticket_called");
    assert_eq!(header(&got.headers, "content-type"), "application/json");
    assert!(header(&got.headers, "x-cem-signature").starts_with("sha256="));
    let document: Value = serde_json::from_slice(&got.body).unwrap();
    assert_eq!(
        document,
        json!({
            "id": msg.id.to_string(),
            "kind": "ticket_called",
            "to": msg.to,
            "language": "fa",
            "subject": "ignored by webhooks",
            "body": event,
            "created_at": "2025-03-21T09:30:00+00:00",
        })
    );
}

#[tokio::test]
async fn gateway_default_body_carries_the_text_as_a_string() {
    let (addr, receiver) = start_receiver().await;
    let notifier =
        HttpNotifier::new(gateway(format!("http://{addr}/hooks/sms"), Channel::Sms)).unwrap();
    let msg = message(Channel::Sms, "+989121234567", "{\"not\": \"parsed\"}");

    notifier.send(&msg).await.unwrap();

    let document: Value = serde_json::from_slice(&receiver.only().body).unwrap();
    assert_eq!(document["to"], "+989121234567");
    assert_eq!(document["body"], "{\"not\": \"parsed\"}");
    assert_eq!(document["subject"], Value::Null);
}

#[tokio::test]
async fn custom_template_stays_valid_json_whatever_the_text() {
    let (addr, receiver) = start_receiver().await;
    let notifier = HttpNotifier::new(HttpNotifierSettings {
        body_template: Some(
            r#"{"recipient": "{to}", "message": {"text": "{body}", "subject": "{subject}", "ref": "{id}"}, "lang": "{language}"}"#
                .to_owned(),
        ),
        headers: vec![("Authorization".to_owned(), "Bearer gateway-token".to_owned())],
        ..gateway(format!("http://{addr}/hooks/email"), Channel::Email)
    })
    .unwrap();
    let text = "نوبت شما رسید: \"A-042\"\nباجه ۳ \\ {body} {id}\t✓";
    let mut msg = message(Channel::Email, "customer@example.org", text);
    msg.subject = Some("نوبت \"شما\"".to_owned());

    notifier.send(&msg).await.unwrap();

    let got = receiver.only();
    assert_eq!(
        header(&got.headers, "authorization"),
        "Bearer gateway-token"
    );
    let document: Value = serde_json::from_slice(&got.body).unwrap();
    assert_eq!(
        document,
        json!({
            "recipient": "customer@example.org",
            "message": {"text": text, "subject": "نوبت \"شما\"", "ref": msg.id.to_string()},
            "lang": "fa",
        })
    );
}

#[tokio::test]
async fn statuses_map_to_the_right_outcome() {
    let (addr, receiver) = start_receiver().await;
    let cases = [
        (200, None),
        (202, None),
        (408, Some(true)),
        (429, Some(true)),
        (500, Some(true)),
        (503, Some(true)),
        (400, Some(false)),
        (401, Some(false)),
        (404, Some(false)),
        (422, Some(false)),
        (301, Some(false)),
        (302, Some(false)),
    ];
    for (code, expected) in cases {
        let notifier = webhooks();
        let msg = message(
            Channel::Webhook,
            &format!("http://{addr}/status/{code}"),
            "{}",
        );
        let outcome = notifier.send(&msg).await;
        match (expected, outcome) {
            (None, Ok(())) => {}
            (Some(retryable), Err(error)) => {
                assert_eq!(error.is_retryable(), retryable, "{code}: {error}");
                let text = error.to_string();
                assert!(text.contains(&code.to_string()), "{code}: {text}");
                assert!(text.contains("gateway says"), "{code}: {text}");
            }
            (expected, outcome) => panic!("{code}: expected {expected:?}, got {outcome:?}"),
        }
    }
    // Redirects were answered, never followed.
    assert!(receiver.all().iter().all(|r| r.path.starts_with("status/")));
    assert_eq!(receiver.all().len(), cases.len());
}

#[tokio::test]
async fn a_receiver_that_never_answers_is_retryable() {
    let (addr, _receiver) = start_receiver().await;
    let notifier = HttpNotifier::new(HttpNotifierSettings {
        timeout: Duration::from_millis(300),
        ..HttpNotifierSettings::new(vec![Channel::Webhook])
    })
    .unwrap();
    let outcome = notifier
        .send(&message(
            Channel::Webhook,
            &format!("http://{addr}/hang"),
            "{}",
        ))
        .await;
    assert!(
        matches!(outcome, Err(SendError::Retryable { .. })),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn a_refused_connection_is_retryable() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let outcome = webhooks()
        .send(&message(
            Channel::Webhook,
            &format!("http://127.0.0.1:{port}/hooks/gone?token=secret-in-url"),
            "{}",
        ))
        .await;
    let Err(SendError::Retryable { reason }) = outcome else {
        panic!("expected a retryable error, got {outcome:?}");
    };
    assert!(!reason.contains("secret-in-url"), "{reason}");
}

#[tokio::test]
async fn refused_before_any_request() {
    let (addr, receiver) = start_receiver().await;
    let notifier = webhooks();
    let cases = [
        message(Channel::Sms, &format!("http://{addr}/hooks/sms"), "{}"),
        message(Channel::Webhook, "ftp://example.org/hook", "{}"),
        message(Channel::Webhook, "file:///etc/passwd", "{}"),
        message(Channel::Webhook, "not a url", "{}"),
        message(
            Channel::Webhook,
            &format!("http://{addr}/hooks/x"),
            "not json",
        ),
    ];
    for msg in cases {
        let outcome = notifier.send(&msg).await;
        assert!(
            matches!(outcome, Err(SendError::Permanent { .. })),
            "{}: {outcome:?}",
            msg.to
        );
    }
    assert!(notifier.handles(Channel::Webhook) && !notifier.handles(Channel::Sms));
    assert!(receiver.all().is_empty());
}

#[tokio::test]
async fn an_unsigned_or_wrongly_signed_request_is_refused_by_the_receiver() {
    let (addr, receiver) = start_receiver().await;
    let url = format!("http://{addr}/hooks/crm");
    let unsigned = HttpNotifier::new(HttpNotifierSettings::new(vec![Channel::Webhook])).unwrap();
    let other_secret = HttpNotifier::new(HttpNotifierSettings {
        secret: Some("another secret".to_owned()),
        ..HttpNotifierSettings::new(vec![Channel::Webhook])
    })
    .unwrap();
    for notifier in [unsigned, other_secret] {
        let outcome = notifier.send(&message(Channel::Webhook, &url, "{}")).await;
        let Err(SendError::Permanent { reason }) = outcome else {
            panic!("expected a refusal, got {outcome:?}");
        };
        assert!(reason.contains("401"), "{reason}");
    }
    assert!(receiver.all().is_empty());
}

#[tokio::test]
async fn a_tampered_body_or_an_old_timestamp_fails_verification() {
    let (addr, receiver) = start_receiver().await;
    webhooks()
        .send(&message(
            Channel::Webhook,
            &format!("http://{addr}/hooks/crm"),
            r#"{"amount": 10}"#,
        ))
        .await
        .unwrap();
    let got = receiver.only();
    let timestamp = header(&got.headers, "x-cem-timestamp");
    let signature = header(&got.headers, "x-cem-signature");
    let sent_at: i64 = timestamp.parse().unwrap();
    let secret = SECRET.as_bytes();

    assert!(verify_signature(
        secret, timestamp, signature, &got.body, sent_at, 300
    ));

    let tampered = String::from_utf8(got.body.to_vec())
        .unwrap()
        .replace("10", "1000");
    assert_ne!(tampered.as_bytes(), &got.body[..]);
    assert!(!verify_signature(
        secret,
        timestamp,
        signature,
        tampered.as_bytes(),
        sent_at,
        300
    ));

    // A replay ten minutes later, with a tolerance of five.
    assert!(!verify_signature(
        secret,
        timestamp,
        signature,
        &got.body,
        sent_at + 600,
        300
    ));
    // The same signature presented with a fresh timestamp.
    let fresh = (sent_at + 600).to_string();
    assert!(!verify_signature(
        secret,
        &fresh,
        signature,
        &got.body,
        sent_at + 600,
        300
    ));
}

/// Signing keys by message id, as a subscription store would give them by webhook.
#[derive(Debug, Default)]
struct KeysById(HashMap<MessageId, Result<Option<Vec<u8>>, SendError>>);

impl KeysById {
    fn with(mut self, id: u128, key: Result<Option<&str>, SendError>) -> Self {
        let key = key.map(|k| k.map(|k| k.as_bytes().to_vec()));
        self.0.insert(MessageId::from_u128(id), key);
        self
    }
}

#[async_trait]
impl SigningKeys for KeysById {
    async fn key(&self, message: &OutboundMessage) -> Result<Option<Vec<u8>>, SendError> {
        self.0
            .get(&message.id)
            .cloned()
            .unwrap_or_else(|| panic!("no key asked for {}", message.id))
    }
}

fn webhook_message(id: u128, url: &str) -> OutboundMessage {
    OutboundMessage {
        id: MessageId::from_u128(id),
        ..message(Channel::Webhook, url, &format!(r#"{{"n": {id}}}"#))
    }
}

/// Whether a received request is signed with `key`, at the time it says it was signed.
fn signed_with(got: &Received, key: &str) -> bool {
    let timestamp = header(&got.headers, "x-cem-timestamp");
    verify_signature(
        key.as_bytes(),
        timestamp,
        header(&got.headers, "x-cem-signature"),
        &got.body,
        timestamp.parse().unwrap(),
        0,
    )
}

#[tokio::test]
async fn each_message_is_signed_with_the_key_looked_up_for_it() {
    let (addr, receiver) = start_receiver().await;
    let url = format!("http://{addr}/open/crm");
    let keys = KeysById::default()
        .with(1, Ok(Some("first subscription")))
        .with(2, Ok(Some("second subscription")));
    let notifier = webhooks().with_signing_keys(Arc::new(keys));

    notifier.send(&webhook_message(1, &url)).await.unwrap();
    notifier.send(&webhook_message(2, &url)).await.unwrap();

    let all = receiver.all();
    assert_eq!(all.len(), 2);
    for got in &all {
        let id = header(&got.headers, "idempotency-key");
        let (own, other) = if id == MessageId::from_u128(1).to_string() {
            ("first subscription", "second subscription")
        } else {
            assert_eq!(id, MessageId::from_u128(2).to_string());
            ("second subscription", "first subscription")
        };
        assert!(signed_with(got, own), "{id} is signed with its own key");
        assert!(
            !signed_with(got, other),
            "{id} is not signed with the other key"
        );
        assert!(
            !signed_with(got, SECRET),
            "{id}'s key replaces the settings' secret"
        );
    }
    assert_ne!(
        all[0].headers["idempotency-key"],
        all[1].headers["idempotency-key"]
    );
}

#[tokio::test]
async fn a_message_without_a_key_is_signed_with_the_settings_secret() {
    let (addr, receiver) = start_receiver().await;
    let keys: Arc<dyn SigningKeys> = Arc::new(KeysById::default().with(1, Ok(None)));
    // `/hooks/` accepts only requests signed with `SECRET`.
    webhooks()
        .with_signing_keys(Arc::clone(&keys))
        .send(&webhook_message(1, &format!("http://{addr}/hooks/crm")))
        .await
        .unwrap();
    assert!(signed_with(&receiver.only(), SECRET));

    // Without a secret in the settings either, the request goes unsigned.
    let (addr, receiver) = start_receiver().await;
    HttpNotifier::new(HttpNotifierSettings::new(vec![Channel::Webhook]))
        .unwrap()
        .with_signing_keys(keys)
        .send(&webhook_message(1, &format!("http://{addr}/open/crm")))
        .await
        .unwrap();
    assert!(!receiver.only().headers.contains_key("x-cem-signature"));
}

#[tokio::test]
async fn a_failed_key_lookup_is_the_sends_outcome_and_sends_nothing() {
    let (addr, receiver) = start_receiver().await;
    let unavailable = SendError::Retryable {
        reason: "subscriptions unavailable".to_owned(),
    };
    let gone = SendError::Permanent {
        reason: "subscription deleted".to_owned(),
    };
    let keys = KeysById::default()
        .with(1, Err(unavailable.clone()))
        .with(2, Err(gone.clone()));
    let notifier = webhooks().with_signing_keys(Arc::new(keys));
    let url = format!("http://{addr}/open/crm");

    assert_eq!(
        notifier.send(&webhook_message(1, &url)).await,
        Err(unavailable)
    );
    assert_eq!(notifier.send(&webhook_message(2, &url)).await, Err(gone));
    assert!(receiver.all().is_empty());
}
