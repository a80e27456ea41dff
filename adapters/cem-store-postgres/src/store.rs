//! [`PgStore`]: the queue event store on PostgreSQL.

use std::time::Duration;

use async_trait::async_trait;
use cem_core::{
    BranchId, Capabilities, NewEvent, QueueEventStore, RecordedEvent, Snapshot, StoreError,
};
use chrono::{DateTime, TimeDelta, Utc};
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use uuid::Uuid;

use crate::error::{map_migrate, map_sqlx};
use crate::group::Appender;

/// The schema, embedded at compile time from `migrations/`.
static MIGRATOR: Migrator = sqlx::migrate!();

/// The columns of a recorded event, in the order [`EventRow`] reads them.
pub(crate) const EVENT_COLUMNS: &str = "branch, version, position, at, kind, payload";

/// A row of `cem_queue_events` as selected with [`EVENT_COLUMNS`].
pub(crate) type EventRow = (Uuid, i64, i64, DateTime<Utc>, String, serde_json::Value);

/// Pool settings for [`PgStore::connect_with`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PgStoreOptions {
    /// Most connections the pool opens (default 10).
    pub max_connections: u32,
    /// Connections the pool keeps open when idle (default 0).
    pub min_connections: u32,
    /// How long a call waits for a free connection before it fails with
    /// [`StoreError::Unavailable`] (default 10 s).
    pub acquire_timeout: Duration,
    /// Ping an idle connection before handing it out (default true): one more round trip per
    /// call, but a connection the server dropped is replaced instead of failing the call.
    pub test_before_acquire: bool,
}

impl Default for PgStoreOptions {
    fn default() -> Self {
        Self {
            max_connections: 10,
            min_connections: 0,
            acquire_timeout: Duration::from_secs(10),
            test_before_acquire: true,
        }
    }
}

impl PgStoreOptions {
    /// Sets [`max_connections`](Self::max_connections).
    pub fn max_connections(mut self, n: u32) -> Self {
        self.max_connections = n;
        self
    }

    /// Sets [`min_connections`](Self::min_connections).
    pub fn min_connections(mut self, n: u32) -> Self {
        self.min_connections = n;
        self
    }

    /// Sets [`acquire_timeout`](Self::acquire_timeout).
    pub fn acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }

    /// Sets [`test_before_acquire`](Self::test_before_acquire).
    pub fn test_before_acquire(mut self, test: bool) -> Self {
        self.test_before_acquire = test;
        self
    }
}

/// The queue event store on a PostgreSQL connection pool.
///
/// Cloning is cheap and shares the pool. Any number of `PgStore`s, in any number of processes,
/// may point at one database: the optimistic version check and the order of global positions
/// hold across all of them.
///
/// Appends made at the same time through one store and its clones are written together, in
/// one transaction per batch (group commit), each keeping its own version check; an append
/// that finds no other one in progress is written at once.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    appender: Appender,
}

impl PgStore {
    /// Connects with the default [`PgStoreOptions`] and brings the schema up to date.
    ///
    /// # Errors
    /// `Unavailable` when the server cannot be reached; `Backend` for a malformed URL or a
    /// failed migration.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(url, &PgStoreOptions::default()).await
    }

    /// Connects with the given pool settings and brings the schema up to date.
    ///
    /// # Errors
    /// As [`connect`](Self::connect).
    pub async fn connect_with(url: &str, options: &PgStoreOptions) -> Result<Self, StoreError> {
        let connect: PgConnectOptions = url.parse().map_err(map_sqlx)?;
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections)
            .min_connections(options.min_connections)
            .acquire_timeout(options.acquire_timeout)
            .test_before_acquire(options.test_before_acquire)
            .connect_with(connect)
            .await
            .map_err(map_sqlx)?;
        Self::from_pool(pool).await
    }

    /// Wraps an existing pool and brings its schema up to date.
    ///
    /// Running the migrations again, or from several processes at once, is harmless: sqlx
    /// records what was applied and serializes migrators with an advisory lock.
    ///
    /// # Errors
    /// `Unavailable` or `Backend` when a migration could not be applied.
    pub async fn from_pool(pool: PgPool) -> Result<Self, StoreError> {
        MIGRATOR.run(&pool).await.map_err(map_migrate)?;
        Ok(Self {
            appender: Appender::new(pool.clone()),
            pool,
        })
    }

    /// The pool underneath (for a [`PgBus`](crate::PgBus), or the embedder's own tables).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Closes the pool: waits for the connections in use to come back, then closes them all.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// The position or version as PostgreSQL stores it; values beyond `i64` cannot be stored, so
/// no stored event is beyond them.
fn to_db(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn limit_to_db(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

pub(crate) fn from_db(n: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(n).map_err(|_| StoreError::Backend {
        message: format!("negative {what} {n} in cem_queue_events"),
    })
}

/// The instant PostgreSQL will hold for `at`: sqlx sends microseconds since 2000-01-01
/// (truncated toward that epoch), so the recorded event says what a later read returns.
pub(crate) fn as_stored(at: DateTime<Utc>) -> DateTime<Utc> {
    let epoch = DateTime::<Utc>::from_timestamp(946_684_800, 0).unwrap_or_default();
    match (at - epoch).num_microseconds() {
        Some(micros) => epoch + TimeDelta::microseconds(micros),
        None => at,
    }
}

pub(crate) fn event_from_row(row: EventRow) -> Result<RecordedEvent, StoreError> {
    let (branch, version, position, at, kind, payload) = row;
    Ok(RecordedEvent {
        branch: BranchId::new(branch),
        version: from_db(version, "version")?,
        position: from_db(position, "position")?,
        at,
        kind,
        payload,
    })
}

fn events_from_rows(rows: Vec<EventRow>) -> Result<Vec<RecordedEvent>, StoreError> {
    rows.into_iter().map(event_from_row).collect()
}

pub(crate) fn version_conflict(branch: BranchId, current: u64, expected: u64) -> StoreError {
    StoreError::Conflict {
        what: format!("stream {branch} is at version {current}, not {expected}"),
    }
}

#[async_trait]
impl QueueEventStore for PgStore {
    async fn append(
        &self,
        branch: BranchId,
        expected: u64,
        events: &[NewEvent],
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        if events.is_empty() {
            let current = self.stream_version(branch).await?;
            return if current == expected {
                Ok(Vec::new())
            } else {
                Err(version_conflict(branch, current, expected))
            };
        }
        // A stored version never exceeds i64::MAX, so a larger `expected` is simply not the
        // stream's version.
        let count = i64::try_from(events.len()).ok();
        let Some(expected_db) = i64::try_from(expected)
            .ok()
            .filter(|e| count.and_then(|n| e.checked_add(n)).is_some())
        else {
            let current = self.stream_version(branch).await?;
            return Err(version_conflict(branch, current, expected));
        };

        self.appender
            .append(branch, expected_db, events.to_vec())
            .await
    }

    async fn read_stream(
        &self,
        branch: BranchId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let rows: Vec<EventRow> = sqlx::query_as(&format!(
            "SELECT {EVENT_COLUMNS} FROM cem_queue_events \
             WHERE branch = $1 AND version > $2 ORDER BY version LIMIT $3"
        ))
        .bind(branch.as_uuid())
        .bind(to_db(after))
        .bind(limit_to_db(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(map_sqlx)?;
        events_from_rows(rows)
    }

    async fn stream_version(&self, branch: BranchId) -> Result<u64, StoreError> {
        let (version,): (i64,) = sqlx::query_as(
            "SELECT COALESCE(MAX(version), 0) FROM cem_queue_events WHERE branch = $1",
        )
        .bind(branch.as_uuid())
        .fetch_one(&self.pool)
        .await
        .map_err(map_sqlx)?;
        from_db(version, "version")
    }

    async fn read_all(&self, after: u64, limit: usize) -> Result<Vec<RecordedEvent>, StoreError> {
        let rows: Vec<EventRow> = sqlx::query_as(&format!(
            "SELECT {EVENT_COLUMNS} FROM cem_queue_events \
             WHERE position > $1 ORDER BY position LIMIT $2"
        ))
        .bind(to_db(after))
        .bind(limit_to_db(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(map_sqlx)?;
        events_from_rows(rows)
    }

    async fn read_time_range(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        after: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let rows: Vec<EventRow> = sqlx::query_as(&format!(
            "SELECT {EVENT_COLUMNS} FROM cem_queue_events \
             WHERE at >= $1 AND at < $2 AND position > $3 ORDER BY position LIMIT $4"
        ))
        .bind(from)
        .bind(to)
        .bind(to_db(after))
        .bind(limit_to_db(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(map_sqlx)?;
        events_from_rows(rows)
    }

    async fn save_snapshot(&self, snapshot: &Snapshot) -> Result<(), StoreError> {
        // An equal version replaces the stored one (a newer encoding of the same state); only a
        // lower one is ignored. The conditional upsert is atomic, so racing writers cannot move
        // the snapshot backwards.
        sqlx::query(
            "INSERT INTO cem_queue_snapshots AS s (branch, version, format, data) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (branch) DO UPDATE \
             SET version = EXCLUDED.version, format = EXCLUDED.format, data = EXCLUDED.data \
             WHERE s.version <= EXCLUDED.version",
        )
        .bind(snapshot.branch.as_uuid())
        .bind(to_db(snapshot.version))
        .bind(i64::from(snapshot.format))
        .bind(&snapshot.data)
        .execute(&self.pool)
        .await
        .map_err(map_sqlx)?;
        Ok(())
    }

    async fn load_snapshot(&self, branch: BranchId) -> Result<Option<Snapshot>, StoreError> {
        let row: Option<(i64, i64, Vec<u8>)> = sqlx::query_as(
            "SELECT version, format, data FROM cem_queue_snapshots WHERE branch = $1",
        )
        .bind(branch.as_uuid())
        .fetch_optional(&self.pool)
        .await
        .map_err(map_sqlx)?;
        row.map(|(version, format, data)| {
            Ok(Snapshot {
                branch,
                version: from_db(version, "snapshot version")?,
                format: u32::try_from(format).map_err(|_| StoreError::Backend {
                    message: format!("snapshot format {format} out of range"),
                })?,
                data,
            })
        })
        .transpose()
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            shared_across_handles: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_instants_keep_microseconds() {
        let at = DateTime::<Utc>::from_timestamp(1_700_000_000, 123_456_789).unwrap();
        let stored = as_stored(at);
        assert_eq!(stored.timestamp(), 1_700_000_000);
        assert_eq!(stored.timestamp_subsec_nanos(), 123_456_000);
        let exact = DateTime::<Utc>::from_timestamp(1_700_000_000, 123_456_000).unwrap();
        assert_eq!(as_stored(exact), exact);
    }

    #[test]
    fn huge_numbers_saturate() {
        assert_eq!(to_db(u64::MAX), i64::MAX);
        assert_eq!(limit_to_db(usize::MAX), i64::MAX);
        assert!(from_db(-1, "version").is_err());
    }
}
