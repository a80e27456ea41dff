//! Storage and transport ports: the queue event store and the event bus.
//!
//! Domain crates talk to storage only through these traits; adapters under `adapters/`
//! implement them (in memory, SQLite, PostgreSQL) and the conformance suite of
//! `cem-store-testkit` checks every adapter against the contracts written here.
//!
//! Payloads cross the port as JSON values: the ports know nothing of the domain's event types,
//! and every backend stores the same document.

use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::ids::BranchId;

/// What can go wrong in a store. Adapters map their driver's errors onto these variants; a
/// unique-key violation is always [`StoreError::Conflict`], never a backend error.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The thing asked for does not exist.
    #[error("not found: {what}")]
    NotFound {
        /// What was looked for.
        what: String,
    },
    /// An optimistic-concurrency check or a unique key refused the write; reload and retry.
    #[error("conflict: {what}")]
    Conflict {
        /// What conflicted.
        what: String,
    },
    /// The backend cannot be reached now (connection refused, pool timed out); try later.
    #[error("store unavailable: {message}")]
    Unavailable {
        /// The driver's words.
        message: String,
    },
    /// Anything else the backend reported: a bug or a corrupt database, never the caller's fault.
    #[error("store backend error: {message}")]
    Backend {
        /// The driver's words.
        message: String,
    },
}

/// An event to append: its instant, a type name and the payload. Stores keep instants to the
/// microsecond (finer digits are cut), so what `append` returns is what later reads return.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewEvent {
    /// When it happened (domain time).
    pub at: DateTime<Utc>,
    /// Its type, as the payload's `type` field (`ticket_called`): stores index it for reports.
    pub kind: String,
    /// The event itself.
    pub payload: serde_json::Value,
}

/// An event as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedEvent {
    /// The stream (branch).
    pub branch: BranchId,
    /// Version of the stream after this event: 1 for the first, contiguous.
    pub version: u64,
    /// Position in the store's global history: increasing, in commit order.
    pub position: u64,
    /// When it happened (domain time).
    pub at: DateTime<Utc>,
    /// Its type.
    pub kind: String,
    /// The event itself.
    pub payload: serde_json::Value,
}

/// A saved state of a stream at a version, in the domain crate's own encoding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The stream (branch).
    pub branch: BranchId,
    /// The version the state reflects.
    pub version: u64,
    /// A tag of the encoding (bump it when the state's layout changes; a loader ignores
    /// snapshots of another format and replays instead).
    pub format: u32,
    /// The encoded state.
    pub data: Vec<u8>,
}

/// What an adapter supports beyond the required contract, so the conformance suite skips (and
/// says so) only what a backend lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// Separate handles (pools, processes) share the data, so concurrency across handles can be
    /// tested. False for a store that lives in one handle's memory.
    pub shared_across_handles: bool,
}

/// The append-only event streams of branch queues, with a global history for reports.
///
/// # Concurrency
/// Appends to one stream are serialized by the expected version: of two appends expecting the
/// same version, exactly one succeeds and the other returns [`StoreError::Conflict`], whatever
/// the number of handles, pools or processes involved. Global positions are contiguous (1, 2,
/// 3, … with no holes) and assigned in commit order: once a reader has seen position `p`, no
/// event with a position at or below `p` appears later.
#[async_trait]
pub trait QueueEventStore: Send + Sync + fmt::Debug + 'static {
    /// Appends `events` to the stream of `branch`.
    ///
    /// # Behavior
    /// Succeeds only when the stream's current version is `expected` (0 for a new stream). The
    /// events get versions `expected + 1 ..= expected + n` and increasing global positions, all
    /// or none: a partial append is never visible. Returns the recorded events. Appending no
    /// events checks the version and returns nothing.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when the version is not `expected`; `Unavailable` or `Backend`
    /// when the write failed, in which case nothing was appended.
    async fn append(
        &self,
        branch: BranchId,
        expected: u64,
        events: &[NewEvent],
    ) -> Result<Vec<RecordedEvent>, StoreError>;

    /// Reads the events of one stream with a version above `after`, in version order, at most
    /// `limit` of them.
    ///
    /// # Behavior
    /// An unknown stream reads as empty.
    ///
    /// # Errors
    /// `Unavailable` or `Backend`.
    async fn read_stream(
        &self,
        branch: BranchId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError>;

    /// The current version of a stream (0 when it has no events).
    ///
    /// # Errors
    /// `Unavailable` or `Backend`.
    async fn stream_version(&self, branch: BranchId) -> Result<u64, StoreError>;

    /// Reads the global history: events with a position above `after`, in position order, at
    /// most `limit` of them. A subscriber that remembers the last position it saw catches up
    /// from it without a gap.
    ///
    /// # Errors
    /// `Unavailable` or `Backend`.
    async fn read_all(&self, after: u64, limit: usize) -> Result<Vec<RecordedEvent>, StoreError>;

    /// Reads the events whose domain instant is in `from..to`, across all streams, in position
    /// order, after position `after`, at most `limit` (page by passing the last position read).
    ///
    /// # Errors
    /// `Unavailable` or `Backend`.
    async fn read_time_range(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        after: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError>;

    /// Saves a snapshot, replacing an older one of the same stream.
    ///
    /// # Behavior
    /// A snapshot older than the one stored (lower version) is ignored, so racing writers
    /// never move a stream's snapshot backwards; one at the same or a higher version replaces
    /// it (a state re-encoded in a newer format replaces the old encoding).
    ///
    /// # Errors
    /// `Unavailable` or `Backend`.
    async fn save_snapshot(&self, snapshot: &Snapshot) -> Result<(), StoreError>;

    /// The latest snapshot of a stream, if any.
    ///
    /// # Errors
    /// `Unavailable` or `Backend`.
    async fn load_snapshot(&self, branch: BranchId) -> Result<Option<Snapshot>, StoreError>;

    /// What the adapter supports beyond the contract.
    fn capabilities(&self) -> Capabilities;
}

/// Helpers over any [`QueueEventStore`], built from its required methods; adapters do not
/// implement them.
#[async_trait]
pub trait QueueEventStoreExt: QueueEventStore {
    /// Every event of the global history after `last_position`, in position order, read page
    /// by page: how a subscriber that remembers the last position it handled closes a
    /// [`Delivery::Gap`]. The contract of `read_all` makes it complete.
    ///
    /// # Errors
    /// Whatever `read_all` returns.
    async fn read_all_after(&self, last_position: u64) -> Result<Vec<RecordedEvent>, StoreError> {
        const PAGE: usize = 1_000;
        let mut events = Vec::new();
        let mut after = last_position;
        loop {
            let page = self.read_all(after, PAGE).await?;
            let full = page.len() == PAGE;
            if let Some(last) = page.last() {
                after = last.position;
            }
            events.extend(page);
            if !full {
                return Ok(events);
            }
        }
    }
}

impl<T: QueueEventStore + ?Sized> QueueEventStoreExt for T {}

/// Publishes recorded events to subscribers: within a process, or across server instances.
///
/// # Behavior
/// Delivery is at most once and may lag or drop under load, and events published by different
/// instances may arrive out of position order. A subscriber that must miss nothing remembers
/// the last position it handled and catches up from the store's global history
/// ([`QueueEventStore::read_all`]) when [`Subscription::next`] reports a gap or delivers a
/// position other than the next one (positions are contiguous).
#[async_trait]
pub trait EventBus: Send + Sync + fmt::Debug + 'static {
    /// Publishes events that were just recorded, in position order.
    ///
    /// # Errors
    /// `Unavailable` or `Backend` when the events could not be handed on; they are stored all
    /// the same, and subscribers will find them by catching up.
    async fn publish(&self, events: &[RecordedEvent]) -> Result<(), StoreError>;

    /// A new subscription, receiving what is published from now on.
    ///
    /// # Errors
    /// `Unavailable` or `Backend`.
    async fn subscribe(&self) -> Result<Box<dyn Subscription>, StoreError>;
}

/// What a subscription yields.
#[derive(Debug, Clone, PartialEq)]
pub enum Delivery {
    /// The next event.
    Event(RecordedEvent),
    /// Some events were lost (the subscriber lagged or the connection dropped and came back):
    /// catch up from the store after the last position handled.
    Gap,
}

/// One subscriber's stream of deliveries.
#[async_trait]
pub trait Subscription: Send + fmt::Debug {
    /// The next delivery; `None` when the bus is gone.
    async fn next(&mut self) -> Option<Delivery>;
}
