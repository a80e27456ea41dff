//! # cem-store-memory
//!
//! [`MemoryStore`]: every store port in the memory of one process, for tests and for embedding
//! where durability is not needed. It keeps the whole contract of [`QueueEventStore`],
//! [`OrgStore`](cem_core::OrgStore), [`AuthStore`](cem_core::AuthStore),
//! [`AuditStore`](cem_core::AuditStore), [`OutboxStore`](cem_core::OutboxStore),
//! [`ContactStore`](cem_core::ContactStore),
//! [`SubscriptionStore`](cem_core::SubscriptionStore),
//! [`ReservationStore`](cem_core::ReservationStore),
//! [`SurveyStore`](cem_core::SurveyStore), [`SignageStore`](cem_core::SignageStore) and
//! [`ReportStore`](cem_core::ReportStore),
//! concurrency included; only its data dies with the process.
//!
//! ```
//! use cem_core::{BranchId, QueueEventStore};
//! use cem_store_memory::MemoryStore;
//!
//! # futures_lite(async {
//! let store = MemoryStore::new();
//! assert_eq!(store.stream_version(BranchId::from_u128(1)).await.unwrap(), 0);
//! # });
//! # fn futures_lite(f: impl std::future::Future<Output = ()>) {
//! #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
//! # }
//! ```

mod audit;
mod auth;
mod contact;
mod integration;
mod org;
mod outbox;
mod report;
mod reservation;
mod signage;
mod survey;

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use cem_core::chrono::{DateTime, Utc};
use cem_core::{
    BranchId, Capabilities, NewEvent, QueueEventStore, RecordedEvent, Snapshot, StoreError,
};

/// A queue event store in memory.
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Every event in position order; position `p` is at index `p - 1`.
    all: Vec<RecordedEvent>,
    /// Per stream, the indices into `all` in version order.
    streams: HashMap<BranchId, Vec<usize>>,
    snapshots: HashMap<BranchId, Snapshot>,
    org: org::OrgTables,
    auth: auth::AuthTables,
    audit: Vec<cem_core::RecordedAudit>,
    outbox: outbox::OutboxTables,
    contacts: contact::ContactTable,
    subscriptions: integration::SubscriptionTable,
    reservations: reservation::ReservationTables,
    surveys: survey::SurveyTables,
    signage: signage::SignageTables,
    reports: report::ReportTables,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Instants are kept to the microsecond, as every store keeps them.
fn to_micros(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(at.timestamp_micros()).unwrap_or(at)
}

#[async_trait]
impl QueueEventStore for MemoryStore {
    async fn append(
        &self,
        branch: BranchId,
        expected: u64,
        events: &[NewEvent],
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let mut inner = self.inner();
        let current = inner.streams.get(&branch).map_or(0, Vec::len) as u64;
        if current != expected {
            return Err(StoreError::Conflict {
                what: format!("branch {branch} is at version {current}, not {expected}"),
            });
        }
        let mut recorded = Vec::with_capacity(events.len());
        for (i, e) in events.iter().enumerate() {
            let index = inner.all.len();
            let r = RecordedEvent {
                branch,
                version: expected + 1 + i as u64,
                position: index as u64 + 1,
                at: to_micros(e.at),
                kind: e.kind.clone(),
                payload: e.payload.clone(),
            };
            inner.all.push(r.clone());
            inner.streams.entry(branch).or_default().push(index);
            recorded.push(r);
        }
        Ok(recorded)
    }

    async fn read_stream(
        &self,
        branch: BranchId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let inner = self.inner();
        let Some(stream) = inner.streams.get(&branch) else {
            return Ok(Vec::new());
        };
        Ok(stream
            .iter()
            .skip(after as usize)
            .take(limit)
            .map(|&i| inner.all[i].clone())
            .collect())
    }

    async fn stream_version(&self, branch: BranchId) -> Result<u64, StoreError> {
        Ok(self.inner().streams.get(&branch).map_or(0, Vec::len) as u64)
    }

    async fn read_all(&self, after: u64, limit: usize) -> Result<Vec<RecordedEvent>, StoreError> {
        let inner = self.inner();
        Ok(inner
            .all
            .iter()
            .skip(after as usize)
            .take(limit)
            .cloned()
            .collect())
    }

    async fn read_time_range(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        after: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let inner = self.inner();
        Ok(inner
            .all
            .iter()
            .skip(after as usize)
            .filter(|e| from <= e.at && e.at < to)
            .take(limit)
            .cloned()
            .collect())
    }

    async fn save_snapshot(&self, snapshot: &Snapshot) -> Result<(), StoreError> {
        let mut inner = self.inner();
        let newer = inner
            .snapshots
            .get(&snapshot.branch)
            .is_none_or(|s| s.version <= snapshot.version);
        if newer {
            inner.snapshots.insert(snapshot.branch, snapshot.clone());
        }
        Ok(())
    }

    async fn load_snapshot(&self, branch: BranchId) -> Result<Option<Snapshot>, StoreError> {
        Ok(self.inner().snapshots.get(&branch).cloned())
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            shared_across_handles: false,
        }
    }
}
