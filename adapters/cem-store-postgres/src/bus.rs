//! [`PgBus`]: the event bus across server instances, on PostgreSQL LISTEN/NOTIFY.
//!
//! One listening connection per bus (not per subscriber) receives the notifications and fans
//! them out to the bus's subscriptions through a bounded broadcast channel, so a server with a
//! thousand screens still holds one connection for them.
//!
//! # Wire format
//! Each recorded event is one notification whose payload is JSON:
//! `{"type":"event","event":{…RecordedEvent…}}` when that fits PostgreSQL's payload limit
//! (under 8000 bytes), otherwise `{"type":"stored","position":p}` and the listening side reads
//! the event from `cem_queue_events` by its position (once per bus, not once per subscriber).
//! Queue events are small, so the inline form is the common one and costs no read.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use cem_core::{Delivery, EventBus, RecordedEvent, StoreError, Subscription};
use serde::{Deserialize, Serialize};
use sqlx::postgres::{PgListener, PgPool, PgPoolOptions};
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

use crate::PgStore;
use crate::error::map_sqlx;
use crate::store::{EVENT_COLUMNS, EventRow, event_from_row};

/// PostgreSQL refuses NOTIFY payloads of 8000 bytes or more.
const NOTIFY_PAYLOAD_LIMIT: usize = 8000;

/// Settings for [`PgBus::with_options`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PgBusOptions {
    /// The NOTIFY channel (default `cem_queue_events`). Buses on one database talk to each
    /// other only when they use the same channel.
    pub channel: String,
    /// Deliveries buffered per subscriber before a slow one is told [`Delivery::Gap`]
    /// (default 1024).
    pub capacity: usize,
}

impl Default for PgBusOptions {
    fn default() -> Self {
        Self {
            channel: "cem_queue_events".to_owned(),
            capacity: 1024,
        }
    }
}

impl PgBusOptions {
    /// Sets [`channel`](Self::channel).
    pub fn channel(mut self, channel: impl Into<String>) -> Self {
        self.channel = channel.into();
        self
    }

    /// Sets [`capacity`](Self::capacity).
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity.max(1);
        self
    }
}

/// The event bus across server instances: publish sends NOTIFY, subscriptions are fed by one
/// LISTEN connection per bus.
///
/// Cloning shares the bus. When the last clone is dropped the listening connection closes and
/// every subscription's [`next`](Subscription::next) returns `None`.
///
/// # Delivery
/// At most once, as the port says. [`Delivery::Gap`] is yielded when the listening connection
/// was lost and is back (after it listens again, so catching up from the store then misses
/// nothing), when a subscriber fell more than [`PgBusOptions::capacity`] behind, and when a
/// notification could not be decoded or its event could not be read.
///
/// Notifications arrive in the order the publishing transactions committed. Publishers on
/// different instances publish after their appends return, so two events appended at the same
/// moment on two instances may arrive out of position order.
#[derive(Debug, Clone)]
pub struct PgBus {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// Publishes, and reads events too large to travel inline.
    pool: PgPool,
    channel: String,
    sender: broadcast::Sender<Delivery>,
    listener: JoinHandle<()>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Ends the listening task; its sender goes with it and the subscriptions see `None`.
        self.listener.abort();
    }
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Wire<E> {
    /// The event itself.
    Event { event: E },
    /// Too large for a notification: read it from the store.
    Stored { position: u64 },
}

impl PgBus {
    /// A bus on the database of `store`, with the default [`PgBusOptions`].
    ///
    /// # Errors
    /// `Unavailable` or `Backend` when the listening connection cannot be set up.
    pub async fn new(store: &PgStore) -> Result<Self, StoreError> {
        Self::with_options(store, PgBusOptions::default()).await
    }

    /// A bus on the database of `store`. It publishes through the store's pool and listens on
    /// a connection of its own, outside that pool, so it never takes a connection from the
    /// store.
    ///
    /// # Errors
    /// As [`new`](Self::new).
    pub async fn with_options(store: &PgStore, options: PgBusOptions) -> Result<Self, StoreError> {
        let pool = store.pool().clone();
        // PgListener holds its connection from the pool it is given and reconnects through it;
        // a pool of one keeps that connection out of the store's pool.
        let listen_pool = PgPoolOptions::new()
            .max_connections(1)
            .min_connections(0)
            .max_lifetime(None)
            .idle_timeout(None)
            .acquire_timeout(Duration::from_secs(5))
            .connect_lazy_with((*pool.connect_options()).clone());
        let listener = listen(&listen_pool, &options.channel)
            .await
            .map_err(map_sqlx)?;
        let (sender, _) = broadcast::channel(options.capacity.max(1));
        let task = tokio::spawn(run_listener(
            listener,
            listen_pool,
            pool.clone(),
            options.channel.clone(),
            sender.clone(),
        ));
        Ok(Self {
            inner: Arc::new(Inner {
                pool,
                channel: options.channel,
                sender,
                listener: task,
            }),
        })
    }

    /// The NOTIFY channel.
    pub fn channel(&self) -> &str {
        &self.inner.channel
    }
}

async fn listen(pool: &PgPool, channel: &str) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(channel).await?;
    Ok(listener)
}

/// Receives notifications until the bus is dropped (the task is aborted then).
async fn run_listener(
    mut listener: PgListener,
    listen_pool: PgPool,
    pool: PgPool,
    channel: String,
    sender: broadcast::Sender<Delivery>,
) {
    loop {
        // `send` fails only when there is no subscriber, and then there is no one to tell.
        match listener.try_recv().await {
            Ok(Some(notification)) => {
                let delivery = decode(notification.payload(), &pool).await;
                let _ = sender.send(delivery);
            }
            // The connection dropped; PgListener has reconnected and listens again already
            // (eager reconnect), so whatever was missed can now be caught up from the store.
            Ok(None) => {
                let _ = sender.send(Delivery::Gap);
            }
            // The connection dropped and could not come back yet, or failed otherwise. Start
            // over with a fresh listener, so we know the moment it listens again.
            Err(_) => {
                drop(listener);
                listener = relisten(&listen_pool, &channel).await;
                let _ = sender.send(Delivery::Gap);
            }
        }
    }
}

/// A new listener on `channel`, retrying with backoff (up to 5 s apart) until it listens.
async fn relisten(pool: &PgPool, channel: &str) -> PgListener {
    let mut wait = Duration::from_millis(50);
    loop {
        if let Ok(listener) = listen(pool, channel).await {
            return listener;
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(Duration::from_secs(5));
    }
}

async fn decode(payload: &str, pool: &PgPool) -> Delivery {
    match serde_json::from_str::<Wire<RecordedEvent>>(payload) {
        Ok(Wire::Event { event }) => Delivery::Event(event),
        Ok(Wire::Stored { position }) => match fetch(pool, position).await {
            Ok(Some(event)) => Delivery::Event(event),
            _ => Delivery::Gap,
        },
        Err(_) => Delivery::Gap,
    }
}

async fn fetch(pool: &PgPool, position: u64) -> Result<Option<RecordedEvent>, StoreError> {
    let Ok(position) = i64::try_from(position) else {
        return Ok(None);
    };
    let row: Option<EventRow> = sqlx::query_as(&format!(
        "SELECT {EVENT_COLUMNS} FROM cem_queue_events WHERE position = $1"
    ))
    .bind(position)
    .fetch_optional(pool)
    .await
    .map_err(map_sqlx)?;
    row.map(event_from_row).transpose()
}

/// The notification payload of one event.
fn encode(event: &RecordedEvent) -> Result<String, StoreError> {
    let inline =
        serde_json::to_string(&Wire::Event { event }).map_err(|e| StoreError::Backend {
            message: format!("cannot encode event for NOTIFY: {e}"),
        })?;
    if inline.len() < NOTIFY_PAYLOAD_LIMIT {
        return Ok(inline);
    }
    serde_json::to_string(&Wire::<&RecordedEvent>::Stored {
        position: event.position,
    })
    .map_err(|e| StoreError::Backend {
        message: format!("cannot encode event for NOTIFY: {e}"),
    })
}

#[async_trait]
impl EventBus for PgBus {
    async fn publish(&self, events: &[RecordedEvent]) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        let payloads = events.iter().map(encode).collect::<Result<Vec<_>, _>>()?;
        // One statement, one transaction: the notifications go out together at commit, in
        // array order (PostgreSQL keeps the order of a transaction's notifications).
        sqlx::query("SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p")
            .bind(&self.inner.channel)
            .bind(&payloads)
            .execute(&self.inner.pool)
            .await
            .map_err(map_sqlx)?;
        Ok(())
    }

    async fn subscribe(&self) -> Result<Box<dyn Subscription>, StoreError> {
        // The bus listens from its creation on, so the new receiver gets everything published
        // from now on.
        Ok(Box::new(PgSubscription {
            receiver: self.inner.sender.subscribe(),
        }))
    }
}

#[derive(Debug)]
struct PgSubscription {
    receiver: broadcast::Receiver<Delivery>,
}

#[async_trait]
impl Subscription for PgSubscription {
    async fn next(&mut self) -> Option<Delivery> {
        match self.receiver.recv().await {
            Ok(delivery) => Some(delivery),
            Err(broadcast::error::RecvError::Lagged(_)) => Some(Delivery::Gap),
            Err(broadcast::error::RecvError::Closed) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cem_core::BranchId;
    use chrono::{DateTime, Utc};

    fn event(payload: serde_json::Value) -> RecordedEvent {
        RecordedEvent {
            branch: BranchId::from_u128(7),
            version: 3,
            position: 42,
            at: DateTime::<Utc>::from_timestamp(1_700_000_000, 123_456_789).unwrap(),
            kind: "ticket_called".to_owned(),
            payload,
        }
    }

    #[test]
    fn small_events_travel_inline() {
        let e = event(serde_json::json!({"type": "ticket_called", "counter": 3}));
        let wire = encode(&e).unwrap();
        match serde_json::from_str::<Wire<RecordedEvent>>(&wire).unwrap() {
            Wire::Event { event } => assert_eq!(event, e),
            Wire::Stored { .. } => panic!("expected inline"),
        }
    }

    #[test]
    fn large_events_travel_by_position() {
        let e = event(serde_json::json!({"text": "x".repeat(NOTIFY_PAYLOAD_LIMIT)}));
        let wire = encode(&e).unwrap();
        assert!(wire.len() < 100);
        match serde_json::from_str::<Wire<RecordedEvent>>(&wire).unwrap() {
            Wire::Stored { position } => assert_eq!(position, 42),
            Wire::Event { .. } => panic!("expected a reference"),
        }
    }
}
