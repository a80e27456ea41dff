//! [`OutboxStore`] for [`SqliteStore`]: the tables `outbox_messages` and `outbox_cursors`
//! (migration 0006) and the delivery log `outbox_attempts` (migration 0008). Every method is
//! one statement or one `BEGIN IMMEDIATE` transaction, so writers take turns on SQLite's write
//! lock, across pools and processes too.

use async_trait::async_trait;
use cem_core::{
    Attempt, Channel, Language, MessageId, OrganizationId, OutboundMessage, OutboxEntry,
    OutboxState, OutboxStore, Outcome, StoreError,
};
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteConnection;
use sqlx::{QueryBuilder, Sqlite};
use uuid::Uuid;

use crate::{SqliteStore, backend, clamp, from_micros, map_sqlx, to_u64};

/// Messages per `INSERT`: ten bound values each stays far below SQLite's variable limit.
const ROWS_PER_INSERT: usize = 256;

/// The columns of an entry, in [`EntryRow`]'s order (a literal, so `concat!` can use it).
macro_rules! entry_columns {
    () => {
        "id, organization, channel, recipient, kind, language, subject, body, created_at, \
         state, attempts, next_attempt_at, last_error, settled_at"
    };
}

/// id, organization, channel, recipient, kind, language, subject, body, created, state,
/// attempts, next attempt, last error, settled.
type EntryRow = (
    Vec<u8>,
    Vec<u8>,
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    i64,
    String,
    i64,
    i64,
    Option<String>,
    Option<i64>,
);

/// number, at, state, error of an attempt; all `NULL` for a message without one (the log is
/// read through a left join, so an unknown message gives no row at all).
type AttemptRow = (Option<i64>, Option<i64>, Option<String>, Option<String>);

fn channel_name(channel: Channel) -> &'static str {
    match channel {
        Channel::Sms => "sms",
        Channel::Email => "email",
        Channel::Webhook => "webhook",
    }
}

fn uuid(bytes: &[u8], what: &str) -> Result<Uuid, StoreError> {
    Uuid::from_slice(bytes).map_err(|e| backend(format!("corrupt {what} id: {e}")))
}

fn decode(
    (
        id,
        organization,
        channel,
        to,
        kind,
        language,
        subject,
        body,
        created_at,
        state,
        attempts,
        next_attempt_at,
        last_error,
        settled_at,
    ): EntryRow,
) -> Result<OutboxEntry, StoreError> {
    let id = MessageId::new(uuid(&id, "message")?);
    let channel = match channel.as_str() {
        "sms" => Channel::Sms,
        "email" => Channel::Email,
        "webhook" => Channel::Webhook,
        other => {
            return Err(backend(format!(
                "corrupt channel {other:?} of message {id}"
            )));
        }
    };
    let state = decode_state(&state, id)?;
    Ok(OutboxEntry {
        message: OutboundMessage {
            id,
            organization: OrganizationId::new(uuid(&organization, "organization")?),
            channel,
            to,
            kind,
            language: Language::new(language),
            subject,
            body,
            created_at: from_micros(created_at)?,
        },
        state,
        attempts: u32::try_from(attempts)
            .map_err(|_| backend(format!("corrupt attempts {attempts} of message {id}")))?,
        next_attempt_at: from_micros(next_attempt_at)?,
        last_error,
        settled_at: settled_at.map(from_micros).transpose()?,
    })
}

fn decode_state(state: &str, id: MessageId) -> Result<OutboxState, StoreError> {
    match state {
        "pending" => Ok(OutboxState::Pending),
        "delivered" => Ok(OutboxState::Delivered),
        "dead" => Ok(OutboxState::Dead),
        other => Err(backend(format!("corrupt state {other:?} of message {id}"))),
    }
}

fn state_name(state: OutboxState) -> &'static str {
    match state {
        OutboxState::Pending => "pending",
        OutboxState::Delivered => "delivered",
        OutboxState::Dead => "dead",
    }
}

/// The attempts of message `id` from its log's rows (one row of `NULL`s when it has none).
fn decode_attempts(id: MessageId, rows: Vec<AttemptRow>) -> Result<Vec<Attempt>, StoreError> {
    let mut attempts = Vec::with_capacity(rows.len());
    for row in rows {
        let (number, at, state, error) = match row {
            (None, None, None, None) => continue,
            (Some(number), Some(at), Some(state), error) => (number, at, state, error),
            _ => return Err(backend(format!("corrupt attempt of message {id}"))),
        };
        attempts.push(Attempt {
            number: u32::try_from(number)
                .map_err(|_| backend(format!("corrupt attempt {number} of message {id}")))?,
            at: from_micros(at)?,
            state: decode_state(&state, id)?,
            error,
        });
    }
    Ok(attempts)
}

fn not_found(id: MessageId) -> StoreError {
    StoreError::NotFound {
        what: format!("message {id}"),
    }
}

impl SqliteStore {
    /// The state of message `id`, if it exists.
    async fn outbox_state(&self, id: MessageId) -> Result<Option<String>, StoreError> {
        sqlx::query_scalar("SELECT state FROM outbox_messages WHERE id = ?1")
            .bind(id.0.as_bytes().as_slice())
            .fetch_optional(&self.pool)
            .await
            .map_err(map_sqlx)
    }
}

/// Adds `messages` as pending, due at `due` (microseconds since the Unix epoch), on `conn`:
/// what `enqueue` writes, for writes that enqueue inside their own transaction.
pub(crate) async fn insert_messages(
    conn: &mut SqliteConnection,
    messages: &[OutboundMessage],
    due: i64,
) -> Result<(), sqlx::Error> {
    for chunk in messages.chunks(ROWS_PER_INSERT) {
        let mut insert: QueryBuilder<'_, Sqlite> = QueryBuilder::new(
            "INSERT INTO outbox_messages (id, organization, channel, recipient, kind, \
             language, subject, body, created_at, state, attempts, next_attempt_at) ",
        );
        insert.push_values(chunk, |mut values, m| {
            values
                .push_bind(m.id.0.as_bytes().as_slice())
                .push_bind(m.organization.0.as_bytes().as_slice())
                .push_bind(channel_name(m.channel))
                .push_bind(&m.to)
                .push_bind(&m.kind)
                .push_bind(m.language.as_str())
                .push_bind(m.subject.as_deref())
                .push_bind(&m.body)
                .push_bind(m.created_at.timestamp_micros())
                .push("'pending'")
                .push("0")
                .push_bind(due);
        });
        // An id already enqueued keeps its row as it is: deriving a message twice sends it once.
        insert.push(" ON CONFLICT (id) DO NOTHING");
        insert.build().execute(&mut *conn).await?;
    }
    Ok(())
}

#[async_trait]
impl OutboxStore for SqliteStore {
    async fn enqueue(
        &self,
        messages: &[OutboundMessage],
        due: DateTime<Utc>,
        cursor: Option<(&str, u64)>,
    ) -> Result<(), StoreError> {
        let cursor = cursor
            .map(|(name, position)| {
                i64::try_from(position)
                    .map(|p| (name, p))
                    .map_err(|_| backend(format!("cursor position {position} too large")))
            })
            .transpose()?;
        if messages.is_empty() && cursor.is_none() {
            return Ok(());
        }
        let due = due.timestamp_micros();
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(map_sqlx)?;
        insert_messages(&mut tx, messages, due)
            .await
            .map_err(map_sqlx)?;
        if let Some((name, position)) = cursor {
            sqlx::query(
                "INSERT INTO outbox_cursors (name, position) VALUES (?1, ?2) \
                 ON CONFLICT (name) DO UPDATE \
                 SET position = MAX(outbox_cursors.position, excluded.position)",
            )
            .bind(name)
            .bind(position)
            .execute(&mut *tx)
            .await
            .map_err(map_sqlx)?;
        }
        tx.commit().await.map_err(map_sqlx)
    }

    async fn cursor(&self, name: &str) -> Result<u64, StoreError> {
        let position: Option<i64> =
            sqlx::query_scalar("SELECT position FROM outbox_cursors WHERE name = ?1")
                .bind(name)
                .fetch_optional(&self.pool)
                .await
                .map_err(map_sqlx)?;
        position.map_or(Ok(0), to_u64)
    }

    async fn claim(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        // One writing statement takes SQLite's write lock before it reads (in autocommit mode it
        // has `BEGIN IMMEDIATE` semantics), so concurrent claimers, in any pool, take turns and
        // each sees the leases the others took. Stored instants are whole microseconds, so
        // comparing them with `now` truncated keeps `<=` exact.
        let mut rows: Vec<EntryRow> = sqlx::query_as(concat!(
            "UPDATE outbox_messages SET attempts = attempts + 1, lease_until = ?2 \
             WHERE id IN (SELECT id FROM outbox_messages \
               WHERE state = 'pending' AND next_attempt_at <= ?1 \
               AND (lease_until IS NULL OR lease_until <= ?1) \
               ORDER BY next_attempt_at, id LIMIT ?3) \
             RETURNING ",
            entry_columns!()
        ))
        .bind(now.timestamp_micros())
        .bind(lease_until.timestamp_micros())
        .bind(clamp(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(map_sqlx)?;
        // RETURNING yields rows in no promised order.
        rows.sort_unstable_by(|a, b| (a.11, &a.0).cmp(&(b.11, &b.0)));
        rows.into_iter().map(decode).collect()
    }

    async fn settle(
        &self,
        id: MessageId,
        attempt: u32,
        outcome: &Outcome,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        // Compare-and-set on (state, attempts): a late outcome of an older attempt, or one on a
        // settled message, matches no row.
        let (state, error) = match outcome {
            Outcome::Delivered => (OutboxState::Delivered, None),
            Outcome::Retry { error, .. } => (OutboxState::Pending, Some(error.as_str())),
            Outcome::Dead { error } => (OutboxState::Dead, Some(error.as_str())),
        };
        let query = match outcome {
            Outcome::Delivered => sqlx::query(
                "UPDATE outbox_messages \
                 SET state = 'delivered', lease_until = NULL, last_error = NULL, settled_at = ?3 \
                 WHERE id = ?1 AND state = 'pending' AND attempts = ?2",
            )
            .bind(id.0.as_bytes().as_slice())
            .bind(i64::from(attempt))
            .bind(at.timestamp_micros()),
            Outcome::Retry { at: next, error } => sqlx::query(
                "UPDATE outbox_messages \
                 SET next_attempt_at = ?3, lease_until = NULL, last_error = ?4 \
                 WHERE id = ?1 AND state = 'pending' AND attempts = ?2",
            )
            .bind(id.0.as_bytes().as_slice())
            .bind(i64::from(attempt))
            .bind(next.timestamp_micros())
            .bind(error.as_str()),
            Outcome::Dead { error } => sqlx::query(
                "UPDATE outbox_messages \
                 SET state = 'dead', lease_until = NULL, last_error = ?4, settled_at = ?3 \
                 WHERE id = ?1 AND state = 'pending' AND attempts = ?2",
            )
            .bind(id.0.as_bytes().as_slice())
            .bind(i64::from(attempt))
            .bind(at.timestamp_micros())
            .bind(error.as_str()),
        };
        // The outcome and its line in the log, together.
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(map_sqlx)?;
        let done = query.execute(&mut *tx).await.map_err(map_sqlx)?;
        if done.rows_affected() > 0 {
            sqlx::query(
                "INSERT INTO outbox_attempts (message, number, at, state, error) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .bind(id.0.as_bytes().as_slice())
            .bind(i64::from(attempt))
            .bind(at.timestamp_micros())
            .bind(state_name(state))
            .bind(error)
            .execute(&mut *tx)
            .await
            .map_err(map_sqlx)?;
            tx.commit().await.map_err(map_sqlx)?;
            return Ok(true);
        }
        tx.rollback().await.map_err(map_sqlx)?;
        // Messages are never deleted, so this read cannot contradict the statement above.
        match self.outbox_state(id).await? {
            Some(_) => Ok(false),
            None => Err(not_found(id)),
        }
    }

    async fn message(&self, id: MessageId) -> Result<OutboxEntry, StoreError> {
        let row: Option<EntryRow> = sqlx::query_as(concat!(
            "SELECT ",
            entry_columns!(),
            " FROM outbox_messages WHERE id = ?1"
        ))
        .bind(id.0.as_bytes().as_slice())
        .fetch_optional(&self.pool)
        .await
        .map_err(map_sqlx)?;
        row.map_or_else(|| Err(not_found(id)), decode)
    }

    async fn attempts(&self, id: MessageId) -> Result<Vec<Attempt>, StoreError> {
        // One statement: the message and its log as of one instant.
        let rows: Vec<AttemptRow> = sqlx::query_as(
            "SELECT a.number, a.at, a.state, a.error \
             FROM outbox_messages AS m LEFT JOIN outbox_attempts AS a ON a.message = m.id \
             WHERE m.id = ?1 ORDER BY a.seq",
        )
        .bind(id.0.as_bytes().as_slice())
        .fetch_all(&self.pool)
        .await
        .map_err(map_sqlx)?;
        if rows.is_empty() {
            return Err(not_found(id));
        }
        decode_attempts(id, rows)
    }

    async fn sent_to(
        &self,
        organization: OrganizationId,
        to: &str,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let rows: Vec<EntryRow> = sqlx::query_as(concat!(
            "SELECT ",
            entry_columns!(),
            " FROM outbox_messages WHERE organization = ?1 AND recipient = ?2 \
             ORDER BY created_at DESC, id DESC LIMIT ?3"
        ))
        .bind(organization.0.as_bytes().as_slice())
        .bind(to)
        .bind(clamp(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(map_sqlx)?;
        rows.into_iter().map(decode).collect()
    }

    async fn dead(
        &self,
        organization: OrganizationId,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        // `state = 'dead'` as a literal, so the planner can use the partial index.
        let rows: Vec<EntryRow> = sqlx::query_as(concat!(
            "SELECT ",
            entry_columns!(),
            " FROM outbox_messages WHERE organization = ?1 AND state = 'dead' \
             ORDER BY settled_at DESC, id DESC LIMIT ?2"
        ))
        .bind(organization.0.as_bytes().as_slice())
        .bind(clamp(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(map_sqlx)?;
        rows.into_iter().map(decode).collect()
    }

    async fn replay(&self, id: MessageId, now: DateTime<Utc>) -> Result<(), StoreError> {
        // `last_error` stays: it says why the message died, until a new attempt says otherwise.
        let done = sqlx::query(
            "UPDATE outbox_messages \
             SET state = 'pending', attempts = 0, next_attempt_at = ?2, lease_until = NULL, \
                 settled_at = NULL \
             WHERE id = ?1 AND state = 'dead' AND recipient <> ''",
        )
        .bind(id.0.as_bytes().as_slice())
        .bind(now.timestamp_micros())
        .execute(&self.pool)
        .await
        .map_err(map_sqlx)?;
        if done.rows_affected() > 0 {
            return Ok(());
        }
        match self.outbox_state(id).await? {
            Some(state) if state == "dead" => Err(StoreError::Conflict {
                what: format!("message {id} was erased"),
            }),
            Some(state) => Err(StoreError::Conflict {
                what: format!("message {id} is {state}, not dead"),
            }),
            None => Err(not_found(id)),
        }
    }

    async fn erase_recipient(
        &self,
        organization: OrganizationId,
        to: &str,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        // Erased messages have the empty recipient: erasing it would count them again.
        if to.is_empty() {
            return Ok(0);
        }
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(map_sqlx)?;
        // The log first, while the messages still name the recipient.
        sqlx::query(
            "UPDATE outbox_attempts SET error = NULL \
             WHERE error IS NOT NULL AND message IN (SELECT id FROM outbox_messages \
               WHERE recipient = ?1 AND organization = ?2)",
        )
        .bind(to)
        .bind(organization.0.as_bytes().as_slice())
        .execute(&mut *tx)
        .await
        .map_err(map_sqlx)?;
        // Every SET expression sees the row as it was, so `state` in the CASEs is the state
        // before the erasure.
        let done = sqlx::query(
            "UPDATE outbox_messages \
             SET recipient = '', body = '', subject = NULL, \
                 last_error = CASE WHEN state = 'pending' OR last_error IS NOT NULL \
                     THEN 'erased' END, \
                 settled_at = CASE WHEN state = 'pending' THEN ?2 ELSE settled_at END, \
                 lease_until = CASE WHEN state = 'pending' THEN NULL ELSE lease_until END, \
                 state = CASE WHEN state = 'pending' THEN 'dead' ELSE state END \
             WHERE recipient = ?1 AND organization = ?3",
        )
        .bind(to)
        .bind(now.timestamp_micros())
        .bind(organization.0.as_bytes().as_slice())
        .execute(&mut *tx)
        .await
        .map_err(map_sqlx)?;
        tx.commit().await.map_err(map_sqlx)?;
        Ok(done.rows_affected())
    }
}
