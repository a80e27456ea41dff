//! The queue service: branch queues kept in memory over the storage ports.
//!
//! A command loads the branch (its latest snapshot plus a replay of the events after it, then
//! kept in memory), catches up with events other instances appended, runs the pure core,
//! appends the new events with the version it started from, and publishes them. When another
//! instance appended first, the store refuses the append (`Conflict`); the service reloads and
//! runs the command again, so two instances never call the same ticket. Commands of one branch
//! are serialized inside an instance; commands of different branches run in parallel.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use cem_core::chrono::{DateTime, Utc};
use cem_core::{
    BranchConfig, BranchId, EventBus, EventEnvelope, NewEvent, QueueEventStore, RecordedEvent,
    Snapshot, StoreError,
};
// Eventually fair: a command waiting for its branch is not overtaken indefinitely by newer ones
// (a barging mutex starved some callers for seconds under load).
use async_lock::Mutex as AsyncMutex;
use thiserror::Error;

use crate::queue::SNAPSHOT_FORMAT;
use crate::{BranchQueue, Command, QueueError, QueueEvent};

/// Why a service call failed.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// The queue refused the command; nothing was stored.
    #[error(transparent)]
    Queue(#[from] QueueError),
    /// The store failed; nothing the command did was stored.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The branch is not known to this service.
    #[error("unknown branch {branch}")]
    UnknownBranch {
        /// Branch.
        branch: BranchId,
    },
    /// A stored event does not decode as a queue event.
    #[error("stored event {version} of branch {branch} does not decode: {reason}")]
    Corrupt {
        /// Branch.
        branch: BranchId,
        /// Version of the event.
        version: u64,
        /// The decoder's words.
        reason: String,
    },
    /// Other instances kept appending first; the command gave up after its retries.
    #[error("branch {branch} is too contended: gave up after {attempts} attempts")]
    Contended {
        /// Branch.
        branch: BranchId,
        /// Attempts made.
        attempts: u32,
    },
}

impl ServiceError {
    /// A stable machine-readable code (`ticket_not_found`, `store_unavailable`…).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Queue(e) => e.code(),
            Self::Store(StoreError::NotFound { .. }) => "not_found",
            Self::Store(StoreError::Conflict { .. }) => "conflict",
            Self::Store(StoreError::Unavailable { .. }) => "store_unavailable",
            Self::Store(_) => "store_error",
            Self::UnknownBranch { .. } => "unknown_branch",
            Self::Corrupt { .. } => "corrupt_stream",
            Self::Contended { .. } => "contended",
        }
    }
}

/// Tuning of a [`QueueService`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceOptions {
    /// A snapshot is saved each time a branch's version crosses a multiple of this.
    pub snapshot_every: u64,
    /// Attempts of one command before [`ServiceError::Contended`].
    pub max_attempts: u32,
    /// Events read per page when loading or catching up.
    pub page: usize,
}

impl Default for ServiceOptions {
    fn default() -> Self {
        Self {
            snapshot_every: 1_000,
            max_attempts: 64,
            page: 10_000,
        }
    }
}

type Cell = Arc<AsyncMutex<Option<BranchQueue>>>;

/// Branch queues over a [`QueueEventStore`], publishing to an optional [`EventBus`].
#[derive(Debug)]
pub struct QueueService {
    store: Arc<dyn QueueEventStore>,
    bus: Option<Arc<dyn EventBus>>,
    options: ServiceOptions,
    configs: Mutex<HashMap<BranchId, BranchConfig>>,
    cells: Mutex<HashMap<BranchId, Cell>>,
}

impl QueueService {
    /// A service over `store`, publishing recorded events to `bus` when given.
    pub fn new(
        store: Arc<dyn QueueEventStore>,
        bus: Option<Arc<dyn EventBus>>,
        options: ServiceOptions,
    ) -> Self {
        Self {
            store,
            bus,
            options,
            configs: Mutex::new(HashMap::new()),
            cells: Mutex::new(HashMap::new()),
        }
    }

    /// Makes a branch known (or replaces its configuration; its state is reloaded on next use).
    ///
    /// # Errors
    /// [`QueueError::InvalidConfig`] when the configuration breaks a rule of the model.
    pub fn add_branch(&self, config: BranchConfig) -> Result<(), ServiceError> {
        config.validate().map_err(QueueError::from)?;
        let id = config.branch.id;
        lock(&self.configs).insert(id, config);
        lock(&self.cells).remove(&id);
        Ok(())
    }

    /// Runs a command on a branch and returns the events it stored, with their versions.
    ///
    /// # Errors
    /// [`ServiceError::Queue`] when the queue refuses it (nothing stored), `Store` when the
    /// store fails, `Contended` when other instances kept winning, `UnknownBranch`, `Corrupt`.
    pub async fn execute(
        &self,
        branch: BranchId,
        command: &Command,
        now: DateTime<Utc>,
    ) -> Result<Vec<EventEnvelope<QueueEvent>>, ServiceError> {
        let cell = self.cell(branch)?;
        let mut slot = cell.lock().await;
        for _ in 0..self.options.max_attempts {
            let queue = self.current(branch, &mut slot).await?;
            let expected = queue.version();
            let events = queue.handle(command, now)?;
            let new: Vec<NewEvent> = events.iter().map(encode).collect();
            match self.store.append(branch, expected, &new).await {
                Ok(recorded) => {
                    let version = queue.version();
                    let snapshot = self.snapshot_due(expected, version).then(|| Snapshot {
                        branch,
                        version,
                        format: SNAPSHOT_FORMAT,
                        data: queue.to_snapshot(),
                    });
                    drop(slot);
                    self.after_append(&recorded, snapshot).await;
                    return Ok(recorded
                        .into_iter()
                        .zip(events)
                        .map(|(r, event)| EventEnvelope {
                            branch,
                            version: r.version,
                            at: r.at,
                            event,
                        })
                        .collect());
                }
                // Another instance appended first: our state ran ahead of the store. Reload.
                Err(StoreError::Conflict { .. }) => *slot = None,
                Err(e) => {
                    *slot = None;
                    return Err(e.into());
                }
            }
        }
        Err(ServiceError::Contended {
            branch,
            attempts: self.options.max_attempts,
        })
    }

    /// Runs `f` on the branch's current state (caught up with the store).
    ///
    /// # Errors
    /// `UnknownBranch`, `Store`, `Corrupt`.
    pub async fn read<R>(
        &self,
        branch: BranchId,
        f: impl FnOnce(&BranchQueue) -> R,
    ) -> Result<R, ServiceError> {
        let cell = self.cell(branch)?;
        let mut slot = cell.lock().await;
        Ok(f(self.current(branch, &mut slot).await?))
    }

    /// Loads a branch from the store: its latest usable snapshot, then the events after it.
    ///
    /// # Errors
    /// `UnknownBranch`, `Store`, `Corrupt`.
    pub async fn load(&self, branch: BranchId) -> Result<BranchQueue, ServiceError> {
        let config = lock(&self.configs)
            .get(&branch)
            .cloned()
            .ok_or(ServiceError::UnknownBranch { branch })?;
        let snapshot = self.store.load_snapshot(branch).await?;
        let mut queue = snapshot
            .filter(|s| s.format == SNAPSHOT_FORMAT)
            .and_then(|s| BranchQueue::from_snapshot(&config, &s.data).ok())
            .map_or_else(|| BranchQueue::new(config), Ok)?;
        self.catch_up(branch, &mut queue).await?;
        Ok(queue)
    }

    /// The branch's state in `slot`, loaded if absent and caught up with the store. On an
    /// error the slot is emptied, so the next call reloads from the store.
    async fn current<'a>(
        &self,
        branch: BranchId,
        slot: &'a mut Option<BranchQueue>,
    ) -> Result<&'a mut BranchQueue, ServiceError> {
        if slot.is_none() {
            *slot = Some(self.load(branch).await?);
        }
        let queue = slot.as_mut().expect("loaded above");
        if let Err(e) = self.catch_up(branch, queue).await {
            *slot = None;
            return Err(e);
        }
        Ok(slot.as_mut().expect("still loaded"))
    }

    /// Applies the events stored after the state's version.
    async fn catch_up(
        &self,
        branch: BranchId,
        queue: &mut BranchQueue,
    ) -> Result<(), ServiceError> {
        loop {
            let page = self
                .store
                .read_stream(branch, queue.version(), self.options.page)
                .await?;
            let done = page.len() < self.options.page;
            for r in page {
                let event = decode(&r)?;
                queue.apply(&event).map_err(|e| ServiceError::Corrupt {
                    branch,
                    version: r.version,
                    reason: e.to_string(),
                })?;
            }
            if done {
                return Ok(());
            }
        }
    }

    fn snapshot_due(&self, before: u64, after: u64) -> bool {
        let every = self.options.snapshot_every.max(1);
        before / every != after / every
    }

    /// Publishing and snapshots are best effort: the events are stored, subscribers catch up
    /// from the store after a gap, and a missing snapshot only makes the next load replay more.
    async fn after_append(&self, recorded: &[RecordedEvent], snapshot: Option<Snapshot>) {
        if let Some(bus) = &self.bus {
            let _ = bus.publish(recorded).await;
        }
        if let Some(s) = snapshot {
            let _ = self.store.save_snapshot(&s).await;
        }
    }

    fn cell(&self, branch: BranchId) -> Result<Cell, ServiceError> {
        if !lock(&self.configs).contains_key(&branch) {
            return Err(ServiceError::UnknownBranch { branch });
        }
        Ok(lock(&self.cells).entry(branch).or_default().clone())
    }
}

/// A queue event as the ports carry it.
pub fn encode(event: &QueueEvent) -> NewEvent {
    NewEvent {
        at: event.at(),
        kind: event.kind().to_string(),
        payload: serde_json::to_value(event).expect("queue events serialize"),
    }
}

/// A stored event back as a queue event.
///
/// # Errors
/// [`ServiceError::Corrupt`] when the payload is not a queue event.
pub fn decode(r: &RecordedEvent) -> Result<QueueEvent, ServiceError> {
    serde_json::from_value(r.payload.clone()).map_err(|e| ServiceError::Corrupt {
        branch: r.branch,
        version: r.version,
        reason: e.to_string(),
    })
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
