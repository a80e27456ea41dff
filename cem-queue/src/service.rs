//! The queue service: branch queues kept in memory over the storage ports.
//!
//! A command loads the branch (its latest snapshot plus a replay of the events after it, then
//! kept in memory), catches up with events other instances appended, lets the pure core decide
//! the command's event, appends it with the version it started from, applies it once stored,
//! and publishes it. When another instance appended first, the store refuses the append
//! (`Conflict`); the service catches up with what that instance wrote and decides again, so two
//! instances never call the same ticket. Commands of one branch are serialized inside an
//! instance; commands of different branches run in parallel.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use cem_core::chrono::{DateTime, Utc};
use cem_core::{
    Background, BranchConfig, BranchId, EventBus, EventEnvelope, NewEvent, QueueEventStore,
    RecordedEvent, Snapshot, StoreError,
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
    /// A snapshot is saved once this many events were stored since the last one, and at least
    /// half as many as the branch holds tickets, so the cost of snapshots stays proportional
    /// to the events however large the day grows.
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

type Cell = Arc<AsyncMutex<Slot>>;

/// Commands that read the store before they write, after a sign of another writer.
const READ_FIRST_AFTER_OTHERS: u32 = 256;

/// A branch as a service holds it.
#[derive(Debug, Default)]
struct Slot {
    /// The state, once loaded; emptied when it may have run ahead of the store.
    queue: Option<BranchQueue>,
    /// While above zero, commands catch up with the store before they run: another writer
    /// (an instance sharing the store) appended recently. Each command counts it down.
    read_first: u32,
    /// The version of the last snapshot saved or loaded.
    snapshot_at: u64,
}

/// Branch queues over a [`QueueEventStore`], publishing to an optional [`EventBus`].
#[derive(Debug)]
pub struct QueueService {
    store: Arc<dyn QueueEventStore>,
    bus: Option<Arc<dyn EventBus>>,
    /// Where snapshots are written, when not by the command that made them due.
    background: Option<Arc<dyn Background>>,
    options: ServiceOptions,
    configs: Mutex<HashMap<BranchId, Arc<BranchConfig>>>,
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
            background: None,
            options,
            configs: Mutex::new(HashMap::new()),
            cells: Mutex::new(HashMap::new()),
        }
    }

    /// Writes snapshots through `background`: the command that makes one due then copies the
    /// state and returns, and the copy is encoded and saved there. Without it that command
    /// encodes and saves the snapshot before it returns, which for a branch holding tens of
    /// thousands of tickets takes tens of milliseconds.
    #[must_use]
    pub fn with_background(mut self, background: Arc<dyn Background>) -> Self {
        self.background = Some(background);
        self
    }

    /// Makes a branch known (or replaces its configuration; its state is reloaded on next use).
    ///
    /// # Errors
    /// [`QueueError::InvalidConfig`] when the configuration breaks a rule of the model.
    pub fn add_branch(&self, config: BranchConfig) -> Result<(), ServiceError> {
        config.validate().map_err(QueueError::from)?;
        let id = config.branch.id;
        lock(&self.configs).insert(id, Arc::new(config));
        lock(&self.cells).remove(&id);
        Ok(())
    }

    /// The configuration of a known branch, without waiting for its state.
    pub fn config(&self, branch: BranchId) -> Option<Arc<BranchConfig>> {
        lock(&self.configs).get(&branch).cloned()
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
        Ok(self.execute_then(branch, command, now, |_| ()).await?.0)
    }

    /// Runs a command, then `f` on the branch's state right after it (to answer the caller
    /// without reading the state again), and returns both.
    ///
    /// The state in memory is used as it is, without reading the store first: when another
    /// instance appended meanwhile, the append conflicts and the command runs again on the
    /// state caught up with the store, and a command the state in memory refuses is tried once
    /// more on the caught-up state before the refusal stands. A lone instance thus writes
    /// without a read. The state changes only after the store took the event, so dropping the
    /// returned future at any point leaves it as the store has it.
    ///
    /// # Errors
    /// As [`execute`](Self::execute).
    pub async fn execute_then<R>(
        &self,
        branch: BranchId,
        command: &Command,
        now: DateTime<Utc>,
        f: impl FnOnce(&BranchQueue) -> R,
    ) -> Result<(Vec<EventEnvelope<QueueEvent>>, R), ServiceError> {
        let cell = self.cell(branch)?;
        let mut guard = cell.lock().await;
        let slot = &mut *guard;
        let mut caught_up = slot.read_first > 0;
        slot.read_first = slot.read_first.saturating_sub(1);
        for _ in 0..self.options.max_attempts {
            caught_up |= slot.queue.is_none();
            if caught_up {
                self.current(branch, slot).await?;
            }
            let queue = slot.queue.as_mut().expect("loaded");
            let expected = queue.version();
            // Decided, not applied: the state changes only once the store took the event, so a
            // refused append, a failed one or a caller that gives up while it is in flight
            // leaves the state as the store had it (an append that did land unseen makes the
            // next one conflict and catch up).
            let event = match queue.decide(command, now) {
                Ok(event) => event,
                Err(_) if !caught_up => {
                    caught_up = true;
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            match self.store.append(branch, expected, &[encode(&event)]).await {
                Ok(recorded) => {
                    if let Err(e) = queue.apply(&event) {
                        slot.queue = None;
                        return Err(ServiceError::Corrupt {
                            branch,
                            version: expected + 1,
                            reason: e.to_string(),
                        });
                    }
                    let version = queue.version();
                    let due = snapshot_due(
                        self.options.snapshot_every,
                        slot.snapshot_at,
                        version,
                        queue.ticket_count(),
                    );
                    let snapshot = due.then(|| match self.background {
                        Some(_) => DueSnapshot::State(Box::new(queue.clone())),
                        None => DueSnapshot::Encoded(queue.to_snapshot()),
                    });
                    let answer = f(queue);
                    if snapshot.is_some() {
                        slot.snapshot_at = version;
                    }
                    drop(guard);
                    self.after_append(&recorded, snapshot.map(|s| (branch, version, s)))
                        .await;
                    let envelopes = recorded
                        .into_iter()
                        .zip([event])
                        .map(|(r, event)| EventEnvelope {
                            branch,
                            version: r.version,
                            at: r.at,
                            event,
                        })
                        .collect();
                    return Ok((envelopes, answer));
                }
                // Another instance appended first: catch up with it and decide again.
                Err(StoreError::Conflict { .. }) => {
                    caught_up = true;
                    slot.read_first = READ_FIRST_AFTER_OTHERS;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(ServiceError::Contended {
            branch,
            attempts: self.options.max_attempts,
        })
    }

    /// Runs `f` on the branch's state as this service holds it, reading the store first only
    /// when that state is older than `version`: for a subscriber handling an event it was
    /// just told of.
    ///
    /// # Errors
    /// `UnknownBranch`, `Store`, `Corrupt`.
    pub async fn read_at<R>(
        &self,
        branch: BranchId,
        version: u64,
        f: impl FnOnce(&BranchQueue) -> R,
    ) -> Result<R, ServiceError> {
        let cell = self.cell(branch)?;
        let mut slot = cell.lock().await;
        match slot.queue.as_ref() {
            Some(queue) if queue.version() >= version => Ok(f(queue)),
            _ => Ok(f(self.current(branch, &mut slot).await?)),
        }
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
        Ok(self.load_with_snapshot(branch).await?.0)
    }

    /// As [`load`](Self::load), with the version of the snapshot it started from (0 for none).
    async fn load_with_snapshot(
        &self,
        branch: BranchId,
    ) -> Result<(BranchQueue, u64), ServiceError> {
        let config = self
            .config(branch)
            .ok_or(ServiceError::UnknownBranch { branch })?;
        let snapshot = self.store.load_snapshot(branch).await?;
        let mut queue = snapshot
            .filter(|s| s.format == SNAPSHOT_FORMAT)
            .and_then(|s| BranchQueue::from_snapshot(&config, &s.data).ok())
            .map_or_else(|| BranchQueue::new((*config).clone()), Ok)?;
        let snapshot_at = queue.version();
        self.catch_up(branch, &mut queue).await?;
        Ok((queue, snapshot_at))
    }

    /// The branch's state in `slot`, loaded if absent and caught up with the store. Events
    /// found by catching up were written by someone else: the next commands read first. On an
    /// error the state is dropped, so the next call reloads from the store.
    async fn current<'a>(
        &self,
        branch: BranchId,
        slot: &'a mut Slot,
    ) -> Result<&'a mut BranchQueue, ServiceError> {
        let queue = match &mut slot.queue {
            Some(queue) => queue,
            none => {
                let (queue, snapshot_at) = self.load_with_snapshot(branch).await?;
                slot.snapshot_at = snapshot_at;
                none.insert(queue)
            }
        };
        match self.catch_up(branch, queue).await {
            Ok(0) => {}
            Ok(_) => slot.read_first = READ_FIRST_AFTER_OTHERS,
            Err(e) => {
                slot.queue = None;
                return Err(e);
            }
        }
        Ok(slot.queue.as_mut().expect("still loaded"))
    }

    /// Applies the events stored after the state's version; returns how many.
    async fn catch_up(
        &self,
        branch: BranchId,
        queue: &mut BranchQueue,
    ) -> Result<usize, ServiceError> {
        let mut applied = 0;
        loop {
            let page = self
                .store
                .read_stream(branch, queue.version(), self.options.page)
                .await?;
            let done = page.len() < self.options.page;
            applied += page.len();
            for r in page {
                let event = decode(&r)?;
                queue.apply(&event).map_err(|e| ServiceError::Corrupt {
                    branch,
                    version: r.version,
                    reason: e.to_string(),
                })?;
            }
            if done {
                return Ok(applied);
            }
        }
    }

    /// Publishing and snapshots are best effort: the events are stored, subscribers catch up
    /// from the store after a gap, and a missing snapshot only makes the next load replay more.
    async fn after_append(
        &self,
        recorded: &[RecordedEvent],
        snapshot: Option<(BranchId, u64, DueSnapshot)>,
    ) {
        if let Some(bus) = &self.bus {
            let _ = bus.publish(recorded).await;
        }
        let Some((branch, version, due)) = snapshot else {
            return;
        };
        let store = Arc::clone(&self.store);
        let save = async move {
            let data = match due {
                DueSnapshot::State(queue) => queue.to_snapshot(),
                DueSnapshot::Encoded(data) => data,
            };
            let snapshot = Snapshot {
                branch,
                version,
                format: SNAPSHOT_FORMAT,
                data,
            };
            let _ = store.save_snapshot(&snapshot).await;
        };
        match &self.background {
            Some(background) => background.run(Box::pin(save)),
            None => save.await,
        }
    }

    fn cell(&self, branch: BranchId) -> Result<Cell, ServiceError> {
        if !lock(&self.configs).contains_key(&branch) {
            return Err(ServiceError::UnknownBranch { branch });
        }
        Ok(lock(&self.cells).entry(branch).or_default().clone())
    }
}

/// A snapshot made due by a command.
enum DueSnapshot {
    /// A copy of the state, encoded in the background.
    State(Box<BranchQueue>),
    /// The state encoded by the command.
    Encoded(Vec<u8>),
}

/// Whether a branch at `version`, holding `tickets`, is due a snapshot after the one at `last`:
/// `every` events later, and no sooner than half as many events as it holds tickets, since
/// writing one costs in proportion to them (so each event pays for two tickets at most).
fn snapshot_due(every: u64, last: u64, version: u64, tickets: usize) -> bool {
    let interval = every.max(tickets as u64 / 2).max(1);
    version >= last.saturating_add(interval)
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

#[cfg(test)]
mod tests {
    use super::snapshot_due;

    #[test]
    fn snapshots_come_every_so_many_events_and_thin_out_as_the_day_grows() {
        assert!(!snapshot_due(1_000, 0, 999, 10));
        assert!(snapshot_due(1_000, 0, 1_000, 10));
        assert!(snapshot_due(1_000, 1_000, 2_000, 1_000));
        // With 5,000 tickets held, the next one waits 2,500 events.
        assert!(!snapshot_due(1_000, 1_000, 3_499, 5_000));
        assert!(snapshot_due(1_000, 1_000, 3_500, 5_000));
        // A day of issues only, one ticket per event: the snapshots written up to 10^6 events
        // come at doubling versions.
        let (mut last, mut written) = (0, 0);
        for version in 1..=1_000_000_u64 {
            if snapshot_due(1_000, last, version, version as usize) {
                last = version;
                written += 1;
            }
        }
        assert_eq!(written, 10, "about 1000, 2000, 4000, … 512000");
        assert!((500_000..=512_000).contains(&last), "{last}");
        assert!(snapshot_due(0, 0, 1, 0), "never an interval of zero");
    }
}
