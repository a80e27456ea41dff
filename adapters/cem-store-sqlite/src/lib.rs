//! # cem-store-sqlite
//!
//! The embedded storage adapter: [`SqliteStore`] implements cem-core's [`QueueEventStore`],
//! [`OrgStore`](cem_core::OrgStore), [`AuthStore`](cem_core::AuthStore),
//! [`AuditStore`](cem_core::AuditStore), [`OutboxStore`](cem_core::OutboxStore),
//! [`ContactStore`](cem_core::ContactStore),
//! [`SubscriptionStore`](cem_core::SubscriptionStore),
//! [`ReservationStore`](cem_core::ReservationStore),
//! [`SurveyStore`](cem_core::SurveyStore), [`SignageStore`](cem_core::SignageStore) and
//! [`ReportStore`](cem_core::ReportStore) on one
//! SQLite file in WAL mode, so a single server needs no database service. Several stores
//! (pools, processes) may open the same file; the concurrency contract holds across them.
//!
//! - Each event is a row of `queue_events`; `UNIQUE (branch, version)` is the
//!   optimistic-concurrency key and `position` (AUTOINCREMENT) the global history.
//! - An append is one transaction with `BEGIN IMMEDIATE` semantics (usually a single
//!   `INSERT … SELECT … WHERE` statement): writers serialize on SQLite's write lock, check the
//!   stream's version and insert all rows, or nothing.
//! - Instants are stored as microseconds since the Unix epoch: they round-trip exactly at that
//!   precision, and finer digits are dropped (the recorded event says so).
//! - The schema is created and upgraded by migrations embedded in the binary, run at
//!   [`SqliteStore::open`].
//!
//! ```
//! use cem_core::chrono::DateTime;
//! use cem_core::serde_json::json;
//! use cem_core::{BranchId, NewEvent, QueueEventStore};
//! use cem_store_sqlite::SqliteStore;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), cem_core::StoreError> {
//! // A file path (`cem.db`), a URL (`sqlite://data/cem.db`) or an in-memory database.
//! let store = SqliteStore::open("sqlite::memory:").await?;
//! let branch = BranchId::from_u128(1);
//! let issued = NewEvent {
//!     at: DateTime::from_timestamp(1_700_000_000, 0).expect("a valid instant"),
//!     kind: "ticket_issued".to_owned(),
//!     payload: json!({ "type": "ticket_issued", "number": "A001" }),
//! };
//! let recorded = store.append(branch, 0, &[issued]).await?;
//! assert_eq!(recorded[0].version, 1);
//! assert_eq!(store.stream_version(branch).await?, 1);
//! // A second writer that still expects version 0 loses.
//! assert!(store.append(branch, 0, &[]).await.is_err());
//! store.close().await;
//! # Ok(())
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

use std::str::FromStr;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use cem_core::{
    BranchId, Capabilities, NewEvent, QueueEventStore, RecordedEvent, Snapshot, StoreError,
};
use chrono::{DateTime, Utc};
use sqlx::error::{DatabaseError, ErrorKind};
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{QueryBuilder, Sqlite};
use uuid::Uuid;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Rows per `INSERT`: four bound values each stays far below SQLite's limit of 32 766
/// variables; appends of this many events or fewer take one statement and one round trip.
const ROWS_PER_INSERT: usize = 256;

/// A query on events, its columns in [`EventRow`]'s order (a literal, so `concat!` can use it).
macro_rules! select_events {
    ($rest:literal) => {
        concat!(
            "SELECT position, branch, version, at, kind, payload FROM queue_events ",
            $rest
        )
    };
}

/// How to open a [`SqliteStore`].
///
/// The defaults suit a server: WAL with `synchronous = NORMAL`, a five-second busy timeout and
/// four pooled connections.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SqliteStoreOptions {
    /// `synchronous = FULL` instead of `NORMAL`.
    ///
    /// In WAL mode `NORMAL` syncs only at checkpoints: a committed append survives a crash of
    /// the process, but the last transactions before a power loss or an operating-system crash
    /// may roll back (the file stays consistent). `FULL` syncs the WAL at every commit, so an
    /// acknowledged append survives those too, at the cost of one `fsync` per append.
    pub durable: bool,
    /// How long a statement waits for another connection's lock before the store reports
    /// [`StoreError::Unavailable`].
    pub busy_timeout: Duration,
    /// Connections in the pool. Readers run in parallel in WAL mode; writers take turns.
    pub max_connections: u32,
}

impl Default for SqliteStoreOptions {
    fn default() -> Self {
        Self {
            durable: false,
            busy_timeout: Duration::from_secs(5),
            max_connections: 4,
        }
    }
}

impl SqliteStoreOptions {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets [`durable`](Self::durable).
    #[must_use]
    pub fn durable(mut self, durable: bool) -> Self {
        self.durable = durable;
        self
    }

    /// Sets [`busy_timeout`](Self::busy_timeout).
    #[must_use]
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// Sets [`max_connections`](Self::max_connections) (at least 1).
    #[must_use]
    pub fn max_connections(mut self, connections: u32) -> Self {
        self.max_connections = connections.max(1);
        self
    }
}

/// The queue event store on a SQLite file.
///
/// A cheap handle: clones share one connection pool. Separate [`open`](Self::open) calls on the
/// same file make separate pools that see the same data.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    shared: bool,
}

impl SqliteStore {
    /// Opens (creating it if missing) the database at `path_or_url` with the default
    /// [options](SqliteStoreOptions), and brings its schema up to date.
    ///
    /// `path_or_url` is a file path (`cem.db`), a `sqlite:` URL (`sqlite://data/cem.db`,
    /// `sqlite:cem.db?mode=rwc`) or `sqlite::memory:` for a private in-memory database.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the file cannot be opened or stays locked past the busy
    /// timeout; [`StoreError::Backend`] for an invalid URL, a file that is not a database, or a
    /// schema written by a newer version of this crate.
    pub async fn open(path_or_url: &str) -> Result<Self, StoreError> {
        Self::open_with(path_or_url, &SqliteStoreOptions::default()).await
    }

    /// Opens the database at `path_or_url` (see [`open`](Self::open)) with `options`.
    ///
    /// # Errors
    /// As [`open`](Self::open).
    pub async fn open_with(
        path_or_url: &str,
        options: &SqliteStoreOptions,
    ) -> Result<Self, StoreError> {
        let in_memory = path_or_url.contains(":memory:") || path_or_url.contains("mode=memory");
        let connect = if path_or_url.starts_with("sqlite:") {
            SqliteConnectOptions::from_str(path_or_url).map_err(map_sqlx)?
        } else if path_or_url == ":memory:" {
            SqliteConnectOptions::from_str("sqlite::memory:").map_err(map_sqlx)?
        } else {
            SqliteConnectOptions::new().filename(path_or_url)
        };
        let connect = connect
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(if options.durable {
                SqliteSynchronous::Full
            } else {
                SqliteSynchronous::Normal
            })
            .busy_timeout(options.busy_timeout)
            .foreign_keys(true);
        let pool_options = || {
            let pool = if in_memory {
                // A shared-cache memory database lives as long as one of its connections does,
                // and takes table locks that the busy timeout does not cover: keep one.
                SqlitePoolOptions::new()
                    .max_connections(1)
                    .min_connections(1)
                    .idle_timeout(None)
                    .max_lifetime(None)
            } else {
                SqlitePoolOptions::new().max_connections(options.max_connections)
            };
            pool
                // A local file needs no liveness probe, which costs a round trip per query.
                .test_before_acquire(false)
                .acquire_timeout(options.busy_timeout.max(Duration::from_secs(1)) * 2)
        };
        // Switching a new file to WAL takes an exclusive lock, and SQLite refuses it at once
        // with SQLITE_BUSY, without waiting in the busy handler, while another connection is
        // doing the same: stores opening a new file together retry within the busy timeout.
        let deadline = Instant::now() + options.busy_timeout;
        let pool = loop {
            match pool_options().connect_with(connect.clone()).await {
                Ok(pool) => break pool,
                Err(error) if is_busy(&error) && Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                Err(error) => return Err(map_sqlx(error)),
            }
        };
        migrate(&pool).await?;
        Ok(Self {
            pool,
            shared: !in_memory,
        })
    }

    /// Closes the pool, waiting for connections in use to come back. Further calls return
    /// [`StoreError::Unavailable`].
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Runs the embedded migrations inside one `BEGIN IMMEDIATE` transaction, so stores opening a
/// new file at the same moment take turns instead of racing to create the same tables (sqlx's
/// SQLite migrator takes no lock of its own).
async fn migrate(pool: &SqlitePool) -> Result<(), StoreError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(map_sqlx)?;
    // `run_direct` is `run` without the `Acquire` bound, whose higher-ranked lifetime makes
    // the future unprovably `Send` when it borrows a transaction (sqlx says so at its
    // definition); it is hidden from sqlx's docs, hence the pinned sqlx version.
    MIGRATOR.run_direct(&mut *tx).await.map_err(map_migrate)?;
    tx.commit().await.map_err(map_sqlx)
}

#[async_trait]
impl QueueEventStore for SqliteStore {
    async fn append(
        &self,
        branch: BranchId,
        expected: u64,
        events: &[NewEvent],
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let key = branch.as_uuid().as_bytes();
        if events.is_empty() {
            let current = self.stream_version(branch).await?;
            return if current == expected {
                Ok(Vec::new())
            } else {
                Err(version_conflict(branch, expected, current))
            };
        }
        // A stream never reaches i64::MAX, so such an expectation cannot match.
        let Some(first) = i64::try_from(expected).ok().and_then(|v| v.checked_add(1)) else {
            let current = self.stream_version(branch).await?;
            return Err(version_conflict(branch, expected, current));
        };
        // Encode before taking the write lock, to hold it as briefly as possible.
        let rows = events
            .iter()
            .zip(first..)
            .map(|(event, version)| {
                Ok(Row {
                    version,
                    at: event.at.timestamp_micros(),
                    kind: &event.kind,
                    payload: serde_json::to_string(&event.payload).map_err(backend)?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;

        // Every INSERT carries the version check, so one statement is a whole append: a
        // writing statement takes SQLite's write lock when it starts (waiting up to the busy
        // timeout), so in autocommit mode it has `BEGIN IMMEDIATE` semantics, at one round
        // trip to the connection's worker thread instead of four. Appends too large for one
        // statement run their chunks in one `BEGIN IMMEDIATE` transaction.
        let mut assigned = if rows.len() <= ROWS_PER_INSERT {
            let mut conn = self.pool.acquire().await.map_err(map_sqlx)?;
            insert_checked(&mut conn, key, &rows)
                .await
                .map_err(map_sqlx)?
        } else {
            let mut tx = self
                .pool
                .begin_with("BEGIN IMMEDIATE")
                .await
                .map_err(map_sqlx)?;
            let mut assigned = Vec::with_capacity(rows.len());
            for chunk in rows.chunks(ROWS_PER_INSERT) {
                let returned = insert_checked(&mut tx, key, chunk)
                    .await
                    .map_err(map_sqlx)?;
                let complete = returned.len() == chunk.len();
                assigned.extend(returned);
                if !complete {
                    break;
                }
            }
            if assigned.len() == rows.len() {
                tx.commit().await.map_err(map_sqlx)?;
            } else {
                // Release the write lock now rather than when the dropped transaction is
                // cleaned up.
                tx.rollback().await.map_err(map_sqlx)?;
            }
            assigned
        };
        if assigned.is_empty() {
            let current = self.stream_version(branch).await?;
            return Err(version_conflict(branch, expected, current));
        }

        // RETURNING yields rows in no promised order.
        assigned.sort_unstable();
        if assigned.len() != events.len() {
            // Only a bug (or a schema changed behind the store's back) leads here.
            return Err(backend(format!(
                "inserted {} rows for {} events",
                assigned.len(),
                events.len()
            )));
        }
        events
            .iter()
            .zip(&rows)
            .zip(assigned)
            .map(|((event, row), (version, position))| {
                Ok(RecordedEvent {
                    branch,
                    version: to_u64(version)?,
                    position: to_u64(position)?,
                    at: from_micros(row.at)?,
                    kind: event.kind.clone(),
                    payload: event.payload.clone(),
                })
            })
            .collect()
    }

    async fn read_stream(
        &self,
        branch: BranchId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let rows: Vec<EventRow> = sqlx::query_as(select_events!(
            "WHERE branch = ? AND version > ? ORDER BY version LIMIT ?"
        ))
        .bind(&branch.as_uuid().as_bytes()[..])
        .bind(clamp(after))
        .bind(clamp(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(map_sqlx)?;
        rows.into_iter().map(decode).collect()
    }

    async fn stream_version(&self, branch: BranchId) -> Result<u64, StoreError> {
        let version: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(version), 0) FROM queue_events WHERE branch = ?",
        )
        .bind(&branch.as_uuid().as_bytes()[..])
        .fetch_one(&self.pool)
        .await
        .map_err(map_sqlx)?;
        to_u64(version)
    }

    async fn read_all(&self, after: u64, limit: usize) -> Result<Vec<RecordedEvent>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let rows: Vec<EventRow> = sqlx::query_as(select_events!(
            "WHERE position > ? ORDER BY position LIMIT ?"
        ))
        .bind(clamp(after))
        .bind(clamp(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(map_sqlx)?;
        rows.into_iter().map(decode).collect()
    }

    async fn read_time_range(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        after: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        if limit == 0 || from >= to {
            return Ok(Vec::new());
        }
        // Stored instants are whole microseconds, so `at >= from` and `at < to` hold exactly
        // when they hold against the bounds rounded up to the next microsecond.
        let rows: Vec<EventRow> = sqlx::query_as(select_events!(
            "WHERE at >= ? AND at < ? AND position > ? ORDER BY position LIMIT ?"
        ))
        .bind(ceil_micros(from))
        .bind(ceil_micros(to))
        .bind(clamp(after))
        .bind(clamp(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(map_sqlx)?;
        rows.into_iter().map(decode).collect()
    }

    async fn save_snapshot(&self, snapshot: &Snapshot) -> Result<(), StoreError> {
        let version = i64::try_from(snapshot.version)
            .map_err(|_| backend(format!("snapshot version {} too large", snapshot.version)))?;
        // One statement, so racing writers cannot move the snapshot backwards: the highest
        // version wins whatever the commit order. An equal version replaces (the contract
        // ignores only older ones), so a state re-encoded in a new format takes over at once.
        sqlx::query(
            "INSERT INTO queue_snapshots (branch, version, format, data) VALUES (?, ?, ?, ?)
             ON CONFLICT (branch) DO UPDATE
             SET version = excluded.version, format = excluded.format, data = excluded.data
             WHERE excluded.version >= queue_snapshots.version",
        )
        .bind(&snapshot.branch.as_uuid().as_bytes()[..])
        .bind(version)
        .bind(i64::from(snapshot.format))
        .bind(&snapshot.data[..])
        .execute(&self.pool)
        .await
        .map_err(map_sqlx)?;
        Ok(())
    }

    async fn load_snapshot(&self, branch: BranchId) -> Result<Option<Snapshot>, StoreError> {
        let row: Option<(i64, i64, Vec<u8>)> =
            sqlx::query_as("SELECT version, format, data FROM queue_snapshots WHERE branch = ?")
                .bind(&branch.as_uuid().as_bytes()[..])
                .fetch_optional(&self.pool)
                .await
                .map_err(map_sqlx)?;
        row.map(|(version, format, data)| {
            Ok(Snapshot {
                branch,
                version: to_u64(version)?,
                format: u32::try_from(format)
                    .map_err(|_| backend(format!("corrupt snapshot format {format}")))?,
                data,
            })
        })
        .transpose()
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            shared_across_handles: self.shared,
        }
    }
}

/// Inserts `rows` (consecutive versions of the stream `key`) if the stream's version is the one
/// just before the first, in version order, and returns each row's (version, position); returns
/// nothing when the stream has moved.
async fn insert_checked(
    conn: &mut SqliteConnection,
    key: &[u8],
    rows: &[Row<'_>],
) -> Result<Vec<(i64, i64)>, sqlx::Error> {
    let Some(first) = rows.first() else {
        return Ok(Vec::new());
    };
    let mut insert: QueryBuilder<'_, Sqlite> =
        QueryBuilder::new("WITH new (version, at, kind, payload) AS (");
    insert.push_values(rows, |mut values, row| {
        values
            .push_bind(row.version)
            .push_bind(row.at)
            .push_bind(row.kind)
            .push_bind(&row.payload);
    });
    insert.push(
        ") INSERT INTO queue_events (branch, version, at, kind, payload) \
         SELECT ",
    );
    insert.push_bind(key);
    insert.push(
        ", version, at, kind, payload FROM new \
         WHERE (SELECT COALESCE(MAX(version), 0) FROM queue_events WHERE branch = ",
    );
    insert.push_bind(key);
    insert.push(") = ");
    insert.push_bind(first.version - 1);
    // Positions follow versions; RETURNING yields rows in no promised order.
    insert.push(" ORDER BY version RETURNING version, position");
    insert.build_query_as().fetch_all(conn).await
}

/// One event's row, encoded.
struct Row<'a> {
    version: i64,
    at: i64,
    kind: &'a str,
    payload: String,
}

/// position, branch, version, at, kind, payload.
type EventRow = (i64, Vec<u8>, i64, i64, String, String);

fn decode(
    (position, branch, version, at, kind, payload): EventRow,
) -> Result<RecordedEvent, StoreError> {
    let branch = Uuid::from_slice(&branch)
        .map_err(|e| backend(format!("corrupt branch id at position {position}: {e}")))?;
    Ok(RecordedEvent {
        branch: BranchId::new(branch),
        version: to_u64(version)?,
        position: to_u64(position)?,
        at: from_micros(at)?,
        kind,
        payload: serde_json::from_str(&payload)
            .map_err(|e| backend(format!("corrupt payload at position {position}: {e}")))?,
    })
}

fn from_micros(micros: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_micros(micros)
        .ok_or_else(|| backend(format!("instant out of range: {micros} µs")))
}

/// The smallest whole microsecond at or after `t`.
fn ceil_micros(t: DateTime<Utc>) -> i64 {
    let floor = t.timestamp_micros();
    if t.timestamp_subsec_nanos().is_multiple_of(1_000) {
        floor
    } else {
        floor.saturating_add(1)
    }
}

fn to_u64(value: i64) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| backend(format!("corrupt row: negative number {value}")))
}

/// A bound for SQL: every stored number is below i64::MAX, so clamping keeps the meaning.
fn clamp<T: TryInto<i64>>(value: T) -> i64 {
    value.try_into().unwrap_or(i64::MAX)
}

fn version_conflict(branch: BranchId, expected: u64, current: u64) -> StoreError {
    StoreError::Conflict {
        what: format!("stream {branch} is not at version {expected} (now {current})"),
    }
}

fn backend(message: impl ToString) -> StoreError {
    StoreError::Backend {
        message: message.to_string(),
    }
}

/// SQLite primary result codes that mean "not now" rather than "never".
const TRANSIENT_CODES: [i64; 7] = [
    5,  // SQLITE_BUSY: another connection holds the lock past the busy timeout
    6,  // SQLITE_LOCKED
    7,  // SQLITE_NOMEM
    10, // SQLITE_IOERR
    13, // SQLITE_FULL: the disk is full
    14, // SQLITE_CANTOPEN
    15, // SQLITE_PROTOCOL: WAL lock protocol race
];

/// The SQLite primary result code of a driver error: the driver reports the extended code,
/// whose low byte is the primary.
fn primary_code(db: &dyn DatabaseError) -> Option<i64> {
    db.code()
        .and_then(|code| code.parse::<i64>().ok())
        .map(|code| code & 0xff)
}

fn is_busy(error: &sqlx::Error) -> bool {
    const SQLITE_BUSY: i64 = 5;
    matches!(error, sqlx::Error::Database(db) if primary_code(db.as_ref()) == Some(SQLITE_BUSY))
}

fn map_sqlx(error: sqlx::Error) -> StoreError {
    match error {
        sqlx::Error::Database(db) => {
            if db.kind() == ErrorKind::UniqueViolation {
                return StoreError::Conflict {
                    what: db.message().to_owned(),
                };
            }
            if primary_code(db.as_ref()).is_some_and(|code| TRANSIENT_CODES.contains(&code)) {
                StoreError::Unavailable {
                    message: db.to_string(),
                }
            } else {
                backend(db)
            }
        }
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::WorkerCrashed => StoreError::Unavailable {
            message: error.to_string(),
        },
        other => backend(other),
    }
}

fn map_migrate(error: MigrateError) -> StoreError {
    match error {
        MigrateError::Execute(e) | MigrateError::ExecuteMigration(e, _) => map_sqlx(e),
        other => backend(format!("migration failed: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_unique_violation_is_a_conflict() {
        let store = SqliteStore::open("sqlite::memory:").await.unwrap();
        let insert = "INSERT INTO queue_events (branch, version, at, kind, payload)
                      VALUES (?, 1, 0, 'k', '{}')";
        let key = [7u8; 16];
        sqlx::query(insert)
            .bind(&key[..])
            .execute(&store.pool)
            .await
            .unwrap();
        let error = sqlx::query(insert)
            .bind(&key[..])
            .execute(&store.pool)
            .await
            .unwrap_err();
        assert!(
            matches!(map_sqlx(error), StoreError::Conflict { .. }),
            "a duplicate (branch, version) must map to Conflict"
        );
    }

    #[tokio::test]
    async fn a_lock_held_past_the_busy_timeout_is_unavailable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("locked.db");
        let path = path.to_str().unwrap();
        let options = SqliteStoreOptions::new().busy_timeout(Duration::from_millis(50));
        let holder = SqliteStore::open_with(path, &options).await.unwrap();
        let waiter = SqliteStore::open_with(path, &options).await.unwrap();
        let tx = holder.pool.begin_with("BEGIN IMMEDIATE").await.unwrap();
        let event = NewEvent {
            at: DateTime::from_timestamp(0, 0).unwrap(),
            kind: "k".to_owned(),
            payload: serde_json::json!({}),
        };
        let error = waiter
            .append(BranchId::from_u128(1), 0, &[event])
            .await
            .unwrap_err();
        assert!(
            matches!(error, StoreError::Unavailable { .. }),
            "got {error:?}"
        );
        drop(tx);
    }

    #[test]
    fn bounds_round_up_to_whole_microseconds() {
        let t = DateTime::from_timestamp(-1, 1).unwrap();
        assert_eq!(ceil_micros(t), -999_999);
        let t = DateTime::from_timestamp(1, 1_000).unwrap();
        assert_eq!(ceil_micros(t), 1_000_001);
    }
}
