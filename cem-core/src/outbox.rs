//! [`OutboxStore`]: messages waiting to leave, with their delivery record.
//!
//! A message enters the outbox in the same transaction as what caused it: a projection of the
//! event history moves its cursor past the events it turned into messages while it enqueues
//! them, so a server that dies in between derives the same messages (with the same ids) again
//! and nothing is lost or sent twice. Workers claim due messages with a lease, make one
//! delivery attempt through a [`Notifier`](crate::Notifier) and settle it: delivered, retry at
//! some instant, or dead. A worker that dies mid-attempt loses its lease, and the message is
//! claimed again once the lease runs out; the receiver tells the two attempts apart by the
//! message id.

use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{MessageId, OrganizationId, OutboundMessage, StoreError};

/// Where a message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxState {
    /// Waiting for its next attempt (or in one).
    Pending,
    /// Delivered; nothing more happens to it.
    Delivered,
    /// Given up on: refused for good, out of attempts, or erased. An administrator may replay
    /// it.
    Dead,
}

/// A message in the outbox with its delivery record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    /// The message.
    pub message: OutboundMessage,
    /// Where it stands.
    pub state: OutboxState,
    /// Attempts claimed so far (the one in progress included).
    pub attempts: u32,
    /// When the next attempt is due, for a pending message.
    pub next_attempt_at: DateTime<Utc>,
    /// Why the last attempt failed, if it did (none once delivered).
    pub last_error: Option<String>,
    /// When it was delivered, or died.
    pub settled_at: Option<DateTime<Utc>>,
}

/// How a delivery attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The receiver took it.
    Delivered,
    /// It failed; try again at `at`.
    Retry {
        /// When.
        at: DateTime<Utc>,
        /// Why it failed.
        error: String,
    },
    /// It failed for good.
    Dead {
        /// Why.
        error: String,
    },
}

/// One delivery attempt, as the outbox recorded it when the attempt was settled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    /// Its number: 1 for the first attempt (counting anew after a replay).
    pub number: u32,
    /// When it was settled.
    pub at: DateTime<Utc>,
    /// How it ended: the message's state afterwards (`pending` for an attempt to retry).
    pub state: OutboxState,
    /// Why it failed, if it did.
    pub error: Option<String>,
}

/// The outbox.
///
/// Every method is atomic. Instants are kept to the microsecond.
#[async_trait]
pub trait OutboxStore: Send + Sync + fmt::Debug + 'static {
    /// Adds `messages` as pending, due at `due`, and, when `cursor` is given, sets that named
    /// cursor to its position, all in one transaction.
    ///
    /// # Behavior
    /// A message whose id is already in the outbox is left as it is (enqueueing is idempotent,
    /// so deriving the same messages twice sends them once). A cursor never moves backwards: a
    /// position below the stored one leaves it where it is.
    ///
    /// # Errors
    /// `Unavailable` or `Backend`; nothing was written.
    async fn enqueue(
        &self,
        messages: &[OutboundMessage],
        due: DateTime<Utc>,
        cursor: Option<(&str, u64)>,
    ) -> Result<(), StoreError>;

    /// The position of a named cursor; 0 when it never moved.
    ///
    /// # Errors
    /// `Unavailable` or `Backend`.
    async fn cursor(&self, name: &str) -> Result<u64, StoreError>;

    /// Claims up to `limit` pending messages due at `now` and not leased (or whose lease ran
    /// out), earliest due first: each is leased until `lease_until` and its attempt counted.
    ///
    /// # Behavior
    /// Two callers never claim the same message while its lease holds, whatever the
    /// concurrency. The entries returned carry the attempt number to pass to
    /// [`settle`](Self::settle).
    ///
    /// # Errors
    /// `Unavailable` or `Backend`; nothing was claimed.
    async fn claim(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>, StoreError>;

    /// Records how attempt `attempt` of message `id` ended, at `at`, and releases its lease.
    ///
    /// # Behavior
    /// Returns `false` and changes nothing when the message is no longer pending or another
    /// attempt was claimed since (the lease ran out and another worker took over): a late
    /// outcome never overwrites a newer one.
    ///
    /// # Errors
    /// `NotFound` for an unknown id; `Unavailable` or `Backend`.
    ///
    /// A settled attempt is added to the message's [`attempts`](Self::attempts), in the same
    /// transaction.
    async fn settle(
        &self,
        id: MessageId,
        attempt: u32,
        outcome: &Outcome,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// One message.
    ///
    /// # Errors
    /// `NotFound`; `Unavailable` or `Backend`.
    async fn message(&self, id: MessageId) -> Result<OutboxEntry, StoreError>;

    /// The delivery log of one message: its settled attempts, oldest first (an attempt whose
    /// worker died before settling it leaves no record).
    ///
    /// # Errors
    /// `NotFound` for an unknown id; `Unavailable` or `Backend`.
    async fn attempts(&self, id: MessageId) -> Result<Vec<Attempt>, StoreError>;

    /// The messages of an organization to one recipient (a phone number, an address, a
    /// webhook's URL), the latest created first, at most `limit`: a recipient's delivery log.
    ///
    /// # Errors
    /// `Unavailable` or `Backend`.
    async fn sent_to(
        &self,
        organization: OrganizationId,
        to: &str,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>, StoreError>;

    /// The dead messages of an organization, the latest to die first, at most `limit`.
    ///
    /// # Errors
    /// `Unavailable` or `Backend`.
    async fn dead(
        &self,
        organization: OrganizationId,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>, StoreError>;

    /// Makes a dead message pending again, due at `now`, with its attempts counted anew.
    ///
    /// # Errors
    /// `NotFound`; `Conflict` when it is not dead, or was erased; `Unavailable` or `Backend`.
    async fn replay(&self, id: MessageId, now: DateTime<Utc>) -> Result<(), StoreError>;

    /// Erases a recipient's contact data in an organization: every message of `organization`
    /// to `to` keeps its id, kind and record
    /// but loses its address and text (and its last error and its attempts' errors, which may
    /// quote them, become `erased` and nothing), and those still pending die (`erased`). Returns how
    /// many messages were erased; the empty recipient (that of erased messages) erases none.
    ///
    /// # Errors
    /// `Unavailable` or `Backend`; nothing was erased.
    async fn erase_recipient(
        &self,
        organization: OrganizationId,
        to: &str,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError>;
}
