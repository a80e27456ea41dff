//! Group commit of appends: the appends that callers of one [`PgStore`](crate::PgStore) (and its
//! clones) start while an earlier batch is being written are written together, in one
//! statement and so one transaction and one WAL flush, by `cem_append_batch` (migration 0003).
//!
//! Every caller puts its append on a shared queue. The caller that finds no writer at work
//! spawns one: a task that takes everything queued (up to [`MAX_BATCH_APPENDS`] appends and
//! [`MAX_BATCH_EVENTS`] events), writes it, answers each caller, and repeats on the same
//! connection until the queue is empty, then ends. Nothing waits for company: there is no
//! timer, and an append that finds the writer idle is written at once, alone, so an uncontended
//! append costs one task spawn more than a direct call. Between two batches the writer yields to
//! the runtime once, so that callers it has just answered, already runnable, can queue their
//! next append before it looks at the queue; without that, a steady load settles into two
//! alternating batches of half the size, each paying its own commit.
//!
//! The writer is a task of its own rather than one of the callers, so a caller that gives up
//! (a timeout drops its future) never interrupts a batch that carries other callers' appends.
//! Its append is left out if its batch has not started yet, and written otherwise (as with a
//! direct call that is dropped once the statement is sent, the caller cannot know which).
//! There is no long-lived task either: dropping the store leaves nothing running once the queue
//! is empty.
//!
//! Each member of a batch keeps its own version check (a stale one gets `Conflict`, the others
//! are written); members on the same stream are checked in queue order, as sequential appends
//! would be. When the statement fails as a whole, nothing of the batch is visible: a connection
//! that cannot be had or is lost fails every member with that error, while a statement the
//! server refused (one member's data, say a payload PostgreSQL cannot store) is retried member
//! by member so that only the culprit fails.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use cem_core::{BranchId, NewEvent, RecordedEvent, StoreError};
use chrono::{DateTime, Utc};
use sqlx::pool::PoolConnection;
use sqlx::{PgConnection, PgPool, Postgres};
use tokio::sync::oneshot;
use uuid::Uuid;

use crate::error::map_sqlx;
use crate::store::{as_stored, from_db, version_conflict};

/// Most appends written in one transaction.
const MAX_BATCH_APPENDS: usize = 64;

/// Most events written in one transaction, unless a single append has more.
const MAX_BATCH_EVENTS: usize = 1_024;

/// What one caller gets back.
type Outcome = Result<Vec<RecordedEvent>, StoreError>;

/// A row of `cem_append_batch`: member (1-based), first position (NULL on a version conflict),
/// the stream's version just before the member.
type BatchRow = (i32, Option<i64>, i64);

/// The group-commit queue of one store and its clones.
#[derive(Clone)]
pub(crate) struct Appender {
    shared: Arc<Shared>,
}

struct Shared {
    pool: PgPool,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Pending>,
    /// A writer task is running; it will see anything queued before it sets this back.
    writing: bool,
}

/// One caller's append, waiting in the queue or in the batch being written.
struct Pending {
    branch: BranchId,
    /// Checked by the caller: `expected + events.len()` fits in an `i64`.
    expected: i64,
    /// Not empty, at most `i32::MAX` of them.
    events: Vec<NewEvent>,
    reply: oneshot::Sender<Outcome>,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        // No code panics while holding the lock; a poisoned queue is still consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for Appender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.shared.state();
        f.debug_struct("Appender")
            .field("queued", &state.queue.len())
            .field("writing", &state.writing)
            .finish()
    }
}

impl Appender {
    pub(crate) fn new(pool: PgPool) -> Self {
        Self {
            shared: Arc::new(Shared {
                pool,
                state: Mutex::new(State::default()),
            }),
        }
    }

    /// Appends `events` (not empty) to `branch` if it is at version `expected`, in whatever
    /// batch is written next. The caller has checked that `expected + events.len()` fits in an
    /// `i64`.
    pub(crate) async fn append(
        &self,
        branch: BranchId,
        expected: i64,
        events: Vec<NewEvent>,
    ) -> Outcome {
        if i32::try_from(events.len()).is_err() {
            return Err(StoreError::Backend {
                message: format!("an append of {} events is too large", events.len()),
            });
        }
        let runtime = tokio::runtime::Handle::try_current().map_err(|e| StoreError::Backend {
            message: format!("PgStore::append needs a tokio runtime: {e}"),
        })?;
        let (reply, answer) = oneshot::channel();
        let start_writer = {
            let mut state = self.shared.state();
            state.queue.push_back(Pending {
                branch,
                expected,
                events,
                reply,
            });
            !std::mem::replace(&mut state.writing, true)
        };
        if start_writer {
            // The writer is built here, not inside the task, so that a task dropped before it
            // first runs (the runtime shutting down) still hands the queue back.
            runtime.spawn(
                Writer {
                    shared: self.shared.clone(),
                    idle: false,
                }
                .run(),
            );
        }
        answer.await.unwrap_or_else(|_| {
            Err(StoreError::Unavailable {
                message: "the append writer stopped before answering (runtime shutting down); \
                          the append may or may not have been stored"
                    .to_owned(),
            })
        })
    }
}

/// The writer task's state. If the task ends before it found the queue empty (its runtime shut
/// down), dropping it clears the `writing` flag, so the next append starts a new writer, and
/// drops what is queued, so those callers get an error instead of waiting forever.
struct Writer {
    shared: Arc<Shared>,
    idle: bool,
}

impl Writer {
    async fn run(mut self) {
        // The connection of the last batch, kept while batches follow one another so the next
        // one needs no trip through the pool; dropped after a failure.
        let mut conn: Option<PoolConnection<Postgres>> = None;
        let mut first = true;
        loop {
            if !first {
                // Let the callers just answered, already runnable, queue their next append
                // before the batch is taken (no timer: an idle runtime resumes at once).
                tokio::task::yield_now().await;
            }
            first = false;
            let batch = self.next_batch();
            if batch.is_empty() {
                return;
            }
            let mut held = match conn.take().filter(|_| !self.shared.pool.is_closed()) {
                Some(held) => held,
                None => match self.shared.pool.acquire().await {
                    Ok(held) => held,
                    Err(error) => {
                        let error = map_sqlx(error);
                        for pending in batch {
                            pending.fail(error.clone());
                        }
                        continue;
                    }
                },
            };
            if write_batch(&mut held, batch).await {
                conn = Some(held);
            }
        }
    }

    /// Takes what is queued, up to the batch limits. When nothing is, clears `writing` in the
    /// same critical section, so an append queued right after starts a new writer.
    fn next_batch(&mut self) -> Vec<Pending> {
        let mut state = self.shared.state();
        let mut batch = Vec::new();
        let mut events = 0;
        while let Some(next) = state.queue.front() {
            if next.reply.is_closed() {
                // The caller gave up before its append was sent: leave it unwritten.
                state.queue.pop_front();
                continue;
            }
            let fits =
                batch.len() < MAX_BATCH_APPENDS && events + next.events.len() <= MAX_BATCH_EVENTS;
            if !batch.is_empty() && !fits {
                break;
            }
            events += next.events.len();
            batch.extend(state.queue.pop_front());
        }
        if batch.is_empty() {
            state.writing = false;
            self.idle = true;
        }
        batch
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        if self.idle {
            return;
        }
        let abandoned = {
            let mut state = self.shared.state();
            state.writing = false;
            std::mem::take(&mut state.queue)
        };
        // Dropping the reply senders outside the lock tells each caller the writer is gone.
        drop(abandoned);
    }
}

/// Writes one batch and answers every member. Returns whether the connection is still fit for
/// the next batch (no error, or only statements the server refused).
async fn write_batch(conn: &mut PgConnection, batch: Vec<Pending>) -> bool {
    match insert(conn, &batch).await {
        Ok(rows) => {
            for (pending, row) in batch.into_iter().zip(rows) {
                pending.answer(row);
            }
            true
        }
        Err(error) => {
            // A database error means the server refused the statement and rolled it back: no
            // member was written, so each may be tried again on its own.
            let refused = matches!(error, sqlx::Error::Database(_));
            let error = map_sqlx(error);
            if batch.len() > 1 && refused && !matches!(error, StoreError::Unavailable { .. }) {
                // One member may have failed the statement for everyone; appending the members
                // one by one, in queue order, fails only that one.
                // If the connection is lost meanwhile, the rest fail with that error.
                let mut lost: Option<StoreError> = None;
                for pending in batch {
                    if let Some(error) = &lost {
                        pending.fail(error.clone());
                        continue;
                    }
                    match insert(conn, std::slice::from_ref(&pending)).await {
                        Ok(mut rows) => match rows.pop() {
                            Some(row) => pending.answer(row),
                            None => pending.fail(missing_row()),
                        },
                        Err(error) => {
                            let refused = matches!(error, sqlx::Error::Database(_));
                            let error = map_sqlx(error);
                            if !refused || matches!(error, StoreError::Unavailable { .. }) {
                                lost = Some(error.clone());
                            }
                            pending.fail(error);
                        }
                    }
                }
                lost.is_none()
            } else {
                for pending in batch {
                    pending.fail(error.clone());
                }
                false
            }
        }
    }
}

fn missing_row() -> StoreError {
    StoreError::Backend {
        message: "cem_append_batch returned no row for an append".to_owned(),
    }
}

/// Runs `cem_append_batch` for `batch`: one statement, so one transaction, all of it or none.
/// Returns one row per member, in order.
async fn insert(conn: &mut PgConnection, batch: &[Pending]) -> Result<Vec<BatchRow>, sqlx::Error> {
    let total = batch.iter().map(|p| p.events.len()).sum();
    let mut branches: Vec<Uuid> = Vec::with_capacity(batch.len());
    let mut expected: Vec<i64> = Vec::with_capacity(batch.len());
    let mut counts: Vec<i32> = Vec::with_capacity(batch.len());
    let mut ats: Vec<DateTime<Utc>> = Vec::with_capacity(total);
    let mut kinds: Vec<&str> = Vec::with_capacity(total);
    let mut payloads: Vec<&serde_json::Value> = Vec::with_capacity(total);
    for pending in batch {
        branches.push(*pending.branch.as_uuid());
        expected.push(pending.expected);
        // Checked when queued.
        counts.push(i32::try_from(pending.events.len()).unwrap_or(i32::MAX));
        for event in &pending.events {
            ats.push(event.at);
            kinds.push(&event.kind);
            payloads.push(&event.payload);
        }
    }
    let mut rows: Vec<BatchRow> = sqlx::query_as(
        "SELECT member, first_position, current_version \
         FROM cem_append_batch($1, $2, $3, $4, $5, $6)",
    )
    .bind(&branches)
    .bind(&expected)
    .bind(&counts)
    .bind(&ats)
    .bind(&kinds)
    .bind(&payloads)
    .fetch_all(&mut *conn)
    .await?;
    // They come in order; sorting here rather than in SQL keeps a sort out of every append.
    rows.sort_unstable_by_key(|(member, _, _)| *member);
    let in_order = rows.len() == batch.len()
        && rows
            .iter()
            .zip(1..)
            .all(|((member, _, _), n): (&BatchRow, i32)| *member == n);
    if !in_order {
        // The statement ran, so it may have committed: this is not a refusal to retry.
        return Err(sqlx::Error::Protocol(format!(
            "cem_append_batch returned {} rows for {} appends",
            rows.len(),
            batch.len()
        )));
    }
    Ok(rows)
}

impl Pending {
    fn answer(self, row: BatchRow) {
        let Self {
            branch,
            expected,
            events,
            reply,
        } = self;
        let (_, first_position, current_version) = row;
        let outcome = recorded(branch, expected, events, first_position, current_version);
        // A caller that gave up no longer listens; its append stands all the same.
        let _ = reply.send(outcome);
    }

    fn fail(self, error: StoreError) {
        let _ = self.reply.send(Err(error));
    }
}

/// What the caller of a written (or refused) member gets back.
fn recorded(
    branch: BranchId,
    expected: i64,
    events: Vec<NewEvent>,
    first_position: Option<i64>,
    current_version: i64,
) -> Outcome {
    let expected = from_db(expected, "expected version")?;
    let Some(first_position) = first_position else {
        let current = from_db(current_version, "version")?;
        return Err(version_conflict(branch, current, expected));
    };
    let first_position = from_db(first_position, "position")?;
    Ok(events
        .into_iter()
        .zip(0u64..)
        .map(|(event, i)| RecordedEvent {
            branch,
            version: expected + 1 + i,
            position: first_position + i,
            at: as_stored(event.at),
            kind: event.kind,
            payload: event.payload,
        })
        .collect())
}
