//! [`OutboxStore`] for [`PgStore`]: the tables `cem_outbox_messages` and `cem_outbox_cursors`
//! (migration 0006) and the delivery log `cem_outbox_attempts` (migration 0008).
//!
//! Every method is one statement, except `enqueue`, one transaction (the messages in one
//! multi-row insert, then the cursor), and `erase_recipient`, another (the messages, then
//! their log). A claim locks the rows it picks with `FOR UPDATE SKIP LOCKED`, so concurrent
//! claims on any number of pools pass each other by instead of waiting or taking the same
//! message; a settle is a compare-and-set on the attempt number that writes its line in the
//! log in the same statement.

use async_trait::async_trait;
use cem_core::{
    Attempt, Channel, Language, MessageId, OrganizationId, OutboundMessage, OutboxEntry,
    OutboxState, OutboxStore, Outcome, StoreError,
};
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::PgStore;
use crate::error::map_sqlx;

/// The columns of a message, in [`MessageRow`]'s order.
macro_rules! message_columns {
    () => {
        "id, organization, channel, recipient, kind, language, subject, body, created_at, \
         state, attempts, next_attempt_at, last_error, settled_at"
    };
}

/// id, organization, channel, recipient, kind, language, subject, body, created, state,
/// attempts, next attempt, last error, settled.
type MessageRow = (
    Uuid,
    Uuid,
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    DateTime<Utc>,
    String,
    i32,
    DateTime<Utc>,
    Option<String>,
    Option<DateTime<Utc>>,
);

/// number, at, state, error of an attempt; all `NULL` for a message without one (the log is
/// read through a left join, so an unknown message gives no row at all).
type AttemptRow = (
    Option<i32>,
    Option<DateTime<Utc>>,
    Option<String>,
    Option<String>,
);

fn channel_name(channel: Channel) -> &'static str {
    match channel {
        Channel::Sms => "sms",
        Channel::Email => "email",
        Channel::Webhook => "webhook",
    }
}

fn decode_entry(
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
    ): MessageRow,
) -> Result<OutboxEntry, StoreError> {
    let channel = match channel.as_str() {
        "sms" => Channel::Sms,
        "email" => Channel::Email,
        "webhook" => Channel::Webhook,
        other => return Err(backend(format!("corrupt channel {other:?}"))),
    };
    let state = decode_state(&state)?;
    Ok(OutboxEntry {
        message: OutboundMessage {
            id: MessageId::new(id),
            organization: OrganizationId::new(organization),
            channel,
            to,
            kind,
            language: Language::new(language),
            subject,
            body,
            created_at,
        },
        state,
        attempts: u32::try_from(attempts).map_err(backend)?,
        next_attempt_at,
        last_error,
        settled_at,
    })
}

fn decode_state(state: &str) -> Result<OutboxState, StoreError> {
    match state {
        "pending" => Ok(OutboxState::Pending),
        "delivered" => Ok(OutboxState::Delivered),
        "dead" => Ok(OutboxState::Dead),
        other => Err(backend(format!("corrupt outbox state {other:?}"))),
    }
}

/// The attempts of a message from its log's rows (one row of `NULL`s when it has none).
fn decode_attempts(rows: Vec<AttemptRow>) -> Result<Vec<Attempt>, StoreError> {
    let mut attempts = Vec::with_capacity(rows.len());
    for row in rows {
        let (number, at, state, error) = match row {
            (None, None, None, None) => continue,
            (Some(number), Some(at), Some(state), error) => (number, at, state, error),
            _ => return Err(backend("corrupt outbox attempt")),
        };
        attempts.push(Attempt {
            number: u32::try_from(number).map_err(backend)?,
            at,
            state: decode_state(&state)?,
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

fn backend(message: impl ToString) -> StoreError {
    StoreError::Backend {
        message: message.to_string(),
    }
}

/// A count or limit as PostgreSQL's `bigint`, saturating (no table holds `i64::MAX` rows).
fn as_bigint(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl PgStore {
    /// The state of message `id`, if there is one (to say why a conditional write did nothing).
    async fn outbox_state(&self, id: MessageId) -> Result<Option<String>, StoreError> {
        sqlx::query_scalar("SELECT state FROM cem_outbox_messages WHERE id = $1")
            .bind(id.0)
            .fetch_optional(self.pool())
            .await
            .map_err(map_sqlx)
    }
}

/// Adds `messages` as pending, due at `due`, on `conn`: what `enqueue` writes, for writes that
/// enqueue inside their own transaction.
pub(crate) async fn insert_messages(
    conn: &mut PgConnection,
    messages: &[OutboundMessage],
    due: DateTime<Utc>,
) -> Result<(), StoreError> {
    if messages.is_empty() {
        return Ok(());
    }
    let mut ids = Vec::with_capacity(messages.len());
    let mut organizations = Vec::with_capacity(messages.len());
    let mut channels = Vec::with_capacity(messages.len());
    let mut recipients = Vec::with_capacity(messages.len());
    let mut kinds = Vec::with_capacity(messages.len());
    let mut languages = Vec::with_capacity(messages.len());
    let mut subjects = Vec::with_capacity(messages.len());
    let mut bodies = Vec::with_capacity(messages.len());
    let mut created = Vec::with_capacity(messages.len());
    for m in messages {
        ids.push(m.id.0);
        organizations.push(m.organization.0);
        channels.push(channel_name(m.channel));
        recipients.push(m.to.as_str());
        kinds.push(m.kind.as_str());
        languages.push(m.language.as_str());
        subjects.push(m.subject.as_deref());
        bodies.push(m.body.as_str());
        created.push(m.created_at);
    }
    // An id already there (or twice in this batch) keeps the row it has.
    sqlx::query(
        "INSERT INTO cem_outbox_messages (id, organization, channel, recipient, kind, \
         language, subject, body, created_at, state, attempts, next_attempt_at) \
         SELECT m.*, 'pending', 0, $10 FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], \
         $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::timestamptz[]) \
         AS m ON CONFLICT (id) DO NOTHING",
    )
    .bind(ids)
    .bind(organizations)
    .bind(channels)
    .bind(recipients)
    .bind(kinds)
    .bind(languages)
    .bind(subjects)
    .bind(bodies)
    .bind(created)
    .bind(due)
    .execute(conn)
    .await
    .map_err(map_sqlx)?;
    Ok(())
}

#[async_trait]
impl OutboxStore for PgStore {
    async fn enqueue(
        &self,
        messages: &[OutboundMessage],
        due: DateTime<Utc>,
        cursor: Option<(&str, u64)>,
    ) -> Result<(), StoreError> {
        // Checked before anything is written.
        let cursor = cursor
            .map(|(name, position)| {
                i64::try_from(position)
                    .map(|p| (name, p))
                    .map_err(|_| backend(format!("cursor position {position} out of range")))
            })
            .transpose()?;
        if messages.is_empty() && cursor.is_none() {
            return Ok(());
        }
        let mut tx = self.pool().begin().await.map_err(map_sqlx)?;
        insert_messages(&mut tx, messages, due).await?;
        if let Some((name, position)) = cursor {
            sqlx::query(
                "INSERT INTO cem_outbox_cursors (name, position) VALUES ($1, $2) \
                 ON CONFLICT (name) DO UPDATE \
                 SET position = GREATEST(cem_outbox_cursors.position, excluded.position)",
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
            sqlx::query_scalar("SELECT position FROM cem_outbox_cursors WHERE name = $1")
                .bind(name)
                .fetch_optional(self.pool())
                .await
                .map_err(map_sqlx)?;
        u64::try_from(position.unwrap_or(0)).map_err(backend)
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
        // The rows another claim holds are skipped, not waited for; a row committed by one
        // while this statement waited is checked again against the conditions.
        let rows: Vec<MessageRow> = sqlx::query_as(concat!(
            "WITH claimed AS (UPDATE cem_outbox_messages \
             SET attempts = attempts + 1, lease_until = $2 \
             WHERE id IN (SELECT id FROM cem_outbox_messages \
             WHERE state = 'pending' AND next_attempt_at <= $1 \
             AND (lease_until IS NULL OR lease_until <= $1) \
             ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED) \
             RETURNING ",
            message_columns!(),
            ") SELECT ",
            message_columns!(),
            " FROM claimed ORDER BY next_attempt_at, id"
        ))
        .bind(now)
        .bind(lease_until)
        .bind(as_bigint(limit))
        .fetch_all(self.pool())
        .await
        .map_err(map_sqlx)?;
        rows.into_iter().map(decode_entry).collect()
    }

    async fn settle(
        &self,
        id: MessageId,
        attempt: u32,
        outcome: &Outcome,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        // An attempt number beyond the column's range was never claimed.
        let Ok(attempt) = i32::try_from(attempt) else {
            return match self.outbox_state(id).await? {
                Some(_) => Ok(false),
                None => Err(not_found(id)),
            };
        };
        // (state, next attempt or NULL to keep it, last error or NULL to clear it, settled at)
        let (state, next_attempt_at, error, settled_at) = match outcome {
            Outcome::Delivered => ("delivered", None, None, Some(at)),
            Outcome::Retry { at: next, error } => ("pending", Some(*next), Some(error), None),
            Outcome::Dead { error } => ("dead", None, Some(error), Some(at)),
        };
        // The log's line is inserted only for the row the compare-and-set updated, in the same
        // statement, so an outcome is never recorded without its line or the other way round.
        let done = sqlx::query(
            "WITH settled AS (UPDATE cem_outbox_messages SET state = $3, \
             next_attempt_at = COALESCE($4, next_attempt_at), \
             last_error = $5, settled_at = $6, lease_until = NULL \
             WHERE id = $1 AND state = 'pending' AND attempts = $2 RETURNING id) \
             INSERT INTO cem_outbox_attempts (message, number, at, state, error) \
             SELECT id, $2, $7, $3, $5 FROM settled",
        )
        .bind(id.0)
        .bind(attempt)
        .bind(state)
        .bind(next_attempt_at)
        .bind(error)
        .bind(settled_at)
        .bind(at)
        .execute(self.pool())
        .await
        .map_err(map_sqlx)?;
        if done.rows_affected() == 1 {
            return Ok(true);
        }
        // Messages are never deleted, so a row missing now was never there.
        match self.outbox_state(id).await? {
            Some(_) => Ok(false),
            None => Err(not_found(id)),
        }
    }

    async fn message(&self, id: MessageId) -> Result<OutboxEntry, StoreError> {
        let row: Option<MessageRow> = sqlx::query_as(concat!(
            "SELECT ",
            message_columns!(),
            " FROM cem_outbox_messages WHERE id = $1"
        ))
        .bind(id.0)
        .fetch_optional(self.pool())
        .await
        .map_err(map_sqlx)?;
        row.map_or_else(|| Err(not_found(id)), decode_entry)
    }

    async fn attempts(&self, id: MessageId) -> Result<Vec<Attempt>, StoreError> {
        // One statement: the message and its log as of one snapshot.
        let rows: Vec<AttemptRow> = sqlx::query_as(
            "SELECT a.number, a.at, a.state, a.error \
             FROM cem_outbox_messages AS m \
             LEFT JOIN cem_outbox_attempts AS a ON a.message = m.id \
             WHERE m.id = $1 ORDER BY a.seq",
        )
        .bind(id.0)
        .fetch_all(self.pool())
        .await
        .map_err(map_sqlx)?;
        if rows.is_empty() {
            return Err(not_found(id));
        }
        decode_attempts(rows)
    }

    async fn sent_to(
        &self,
        organization: OrganizationId,
        to: &str,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let rows: Vec<MessageRow> = sqlx::query_as(concat!(
            "SELECT ",
            message_columns!(),
            " FROM cem_outbox_messages WHERE organization = $1 AND recipient = $2 \
             ORDER BY created_at DESC, id DESC LIMIT $3"
        ))
        .bind(organization.0)
        .bind(to)
        .bind(as_bigint(limit))
        .fetch_all(self.pool())
        .await
        .map_err(map_sqlx)?;
        rows.into_iter().map(decode_entry).collect()
    }

    async fn dead(
        &self,
        organization: OrganizationId,
        limit: usize,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let rows: Vec<MessageRow> = sqlx::query_as(concat!(
            "SELECT ",
            message_columns!(),
            " FROM cem_outbox_messages WHERE organization = $1 AND state = 'dead' \
             ORDER BY settled_at DESC, id DESC LIMIT $2"
        ))
        .bind(organization.0)
        .bind(as_bigint(limit))
        .fetch_all(self.pool())
        .await
        .map_err(map_sqlx)?;
        rows.into_iter().map(decode_entry).collect()
    }

    async fn replay(&self, id: MessageId, now: DateTime<Utc>) -> Result<(), StoreError> {
        // The last error stays: it is why the message died, until a new attempt says otherwise.
        let done = sqlx::query(
            "UPDATE cem_outbox_messages SET state = 'pending', attempts = 0, \
             next_attempt_at = $2, lease_until = NULL, settled_at = NULL \
             WHERE id = $1 AND state = 'dead' AND recipient <> ''",
        )
        .bind(id.0)
        .bind(now)
        .execute(self.pool())
        .await
        .map_err(map_sqlx)?;
        if done.rows_affected() == 1 {
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
        let mut tx = self.pool().begin().await.map_err(map_sqlx)?;
        // The CASEs read the row's state before this update: pending ones die, the others keep
        // their record.
        let erased: Vec<Uuid> = sqlx::query_scalar(
            "UPDATE cem_outbox_messages SET recipient = '', body = '', subject = NULL, \
             last_error = CASE WHEN state = 'pending' OR last_error IS NOT NULL \
                     THEN 'erased' END, \
             settled_at = CASE WHEN state = 'pending' THEN $2 ELSE settled_at END, \
             lease_until = CASE WHEN state = 'pending' THEN NULL ELSE lease_until END, \
             state = CASE WHEN state = 'pending' THEN 'dead' ELSE state END \
             WHERE recipient = $1 AND organization = $3 RETURNING id",
        )
        .bind(to)
        .bind(now)
        .bind(organization.0)
        .fetch_all(&mut *tx)
        .await
        .map_err(map_sqlx)?;
        if !erased.is_empty() {
            // A statement of its own, so its snapshot is taken once the messages are locked: it
            // sees every line a settle committed before, and no settle can add one after (a
            // settle needs the message's lock, and finds it no longer pending).
            sqlx::query(
                "UPDATE cem_outbox_attempts SET error = NULL \
                 WHERE message = ANY($1) AND error IS NOT NULL",
            )
            .bind(&erased)
            .execute(&mut *tx)
            .await
            .map_err(map_sqlx)?;
        }
        tx.commit().await.map_err(map_sqlx)?;
        Ok(u64::try_from(erased.len()).unwrap_or(u64::MAX))
    }
}
