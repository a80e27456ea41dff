//! [`ReservationStore`] for [`PgStore`]: the tables `cem_reservation_plans` and
//! `cem_bookings` (migration 0009).
//!
//! Reads and plan writes are one statement each. A booking's insert or update is one
//! transaction at PostgreSQL's default READ COMMITTED, which alone would let two writers count
//! the same free seat. So a write that makes a booking hold a seat first takes the slot's
//! transaction-scoped advisory lock ([`lock_slot`]): writers of one slot take turns, each
//! counting, in a statement after the lock (a fresh snapshot), the seats of every writer
//! before it, which committed before releasing the lock. Writers of other slots do not wait.
//! An update locks its booking's row first (`FOR UPDATE`), so concurrent updates of one
//! booking take turns too and all but one find the revision moved. The messages are inserted
//! in the same transaction, by the statement `enqueue` uses.

use async_trait::async_trait;
use cem_core::{
    Booking, BookingCode, BookingHolder, BookingId, BookingState, BranchId, CODE_TAKEN, CustomerId,
    HolderKey, Language, OrganizationId, OutboundMessage, ReservationPlan, ReservationStore,
    SLOT_FULL, STALE, ServiceId, StoreError, TicketId,
};
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::Query;
use sqlx::{PgConnection, Postgres, Row, Transaction};
use uuid::Uuid;

use crate::PgStore;
use crate::error::map_sqlx;
use crate::outbox::insert_messages;
use crate::store::as_stored;

/// The columns of a booking, in [`decode`]'s order (a literal, so `concat!` can use it).
macro_rules! booking_columns {
    () => {
        "id, organization, branch, service, code, start_at, end_at, state, customer, \
         holder_name, holder_phone, holder_email, holder_language, offer_expires_at, ticket, \
         checked_in_at, created_at, changed_at, revision"
    };
}

/// The states that hold a seat, as SQL: [`BookingState::holds_seat`]. The same text as the
/// partial index `cem_bookings_slot`, so the planner uses it.
macro_rules! holds_seat {
    () => {
        "state IN ('confirmed', 'offered', 'checked_in')"
    };
}

/// The first key of the slots' advisory locks: b"CEMR" read as a big-endian integer. The
/// two-key lock space is apart from the one-key space of the queue's position lock.
const SLOT_LOCK_SPACE: i32 = 1_128_615_250;

/// The name of the unique key on (organization, code), in migration 0009.
const CODE_KEY: &str = "cem_bookings_code_key";

/// SQLSTATE of a unique-key violation.
const UNIQUE_VIOLATION: &str = "23505";

fn state_name(state: BookingState) -> &'static str {
    match state {
        BookingState::Confirmed => "confirmed",
        BookingState::CheckedIn => "checked_in",
        BookingState::Cancelled => "cancelled",
        BookingState::NoShow => "no_show",
        BookingState::Waitlisted => "waitlisted",
        BookingState::Offered => "offered",
        BookingState::Lapsed => "lapsed",
    }
}

fn parse_state(state: &str) -> Result<BookingState, StoreError> {
    Ok(match state {
        "confirmed" => BookingState::Confirmed,
        "checked_in" => BookingState::CheckedIn,
        "cancelled" => BookingState::Cancelled,
        "no_show" => BookingState::NoShow,
        "waitlisted" => BookingState::Waitlisted,
        "offered" => BookingState::Offered,
        "lapsed" => BookingState::Lapsed,
        other => return Err(backend(format!("corrupt booking state {other:?}"))),
    })
}

fn backend(message: impl ToString) -> StoreError {
    StoreError::Backend {
        message: message.to_string(),
    }
}

fn conflict(what: impl Into<String>) -> StoreError {
    StoreError::Conflict { what: what.into() }
}

fn booking_not_found(id: BookingId) -> StoreError {
    StoreError::NotFound {
        what: format!("booking {id}"),
    }
}

fn decode(row: &PgRow) -> Result<Booking, StoreError> {
    let id = BookingId::new(row.try_get(0).map_err(map_sqlx)?);
    let revision: i64 = row.try_get(18).map_err(map_sqlx)?;
    Ok(Booking {
        id,
        organization: OrganizationId::new(row.try_get(1).map_err(map_sqlx)?),
        branch: BranchId::new(row.try_get(2).map_err(map_sqlx)?),
        service: ServiceId::new(row.try_get(3).map_err(map_sqlx)?),
        code: BookingCode(row.try_get(4).map_err(map_sqlx)?),
        start: row.try_get(5).map_err(map_sqlx)?,
        end: row.try_get(6).map_err(map_sqlx)?,
        state: parse_state(row.try_get(7).map_err(map_sqlx)?)?,
        customer: row
            .try_get::<Option<Uuid>, _>(8)
            .map_err(map_sqlx)?
            .map(CustomerId::new),
        holder: BookingHolder {
            name: row.try_get(9).map_err(map_sqlx)?,
            phone: row.try_get(10).map_err(map_sqlx)?,
            email: row.try_get(11).map_err(map_sqlx)?,
            language: Language::new(row.try_get::<String, _>(12).map_err(map_sqlx)?),
        },
        offer_expires_at: row.try_get(13).map_err(map_sqlx)?,
        ticket: row
            .try_get::<Option<Uuid>, _>(14)
            .map_err(map_sqlx)?
            .map(TicketId::new),
        checked_in_at: row.try_get(15).map_err(map_sqlx)?,
        created_at: row.try_get(16).map_err(map_sqlx)?,
        changed_at: row.try_get(17).map_err(map_sqlx)?,
        revision: u32::try_from(revision)
            .map_err(|_| backend(format!("corrupt revision {revision} of booking {id}")))?,
    })
}

/// Commits `tx` when `written` succeeded; otherwise rolls it back now.
async fn finish(
    tx: Transaction<'static, Postgres>,
    written: Result<(), StoreError>,
) -> Result<(), StoreError> {
    match written {
        Ok(()) => tx.commit().await.map_err(map_sqlx),
        Err(refused) => {
            // The refusal is the answer; a failed rollback closes the connection anyway.
            let _ = tx.rollback().await;
            Err(refused)
        }
    }
}

/// Takes the advisory lock of `booking`'s slot until the end of the transaction.
///
/// The key is the slot as PostgreSQL will hold it (the start to the microsecond), hashed by
/// the server, so every instance on the database computes the same one whatever its clock's
/// precision or its session's time zone.
async fn lock_slot(conn: &mut PgConnection, booking: &Booking) -> Result<(), StoreError> {
    let slot = format!(
        "{}/{}/{}",
        booking.branch,
        booking.service,
        as_stored(booking.start).timestamp_micros()
    );
    sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
        .bind(SLOT_LOCK_SPACE)
        .bind(slot)
        .execute(conn)
        .await
        .map_err(map_sqlx)?;
    Ok(())
}

/// Refuses the write when `booking` would take a seat of a slot already holding `capacity`:
/// locks the slot, then counts the seats the other bookings hold there.
async fn check_capacity(
    conn: &mut PgConnection,
    booking: &Booking,
    capacity: u32,
) -> Result<(), StoreError> {
    lock_slot(&mut *conn, booking).await?;
    let held: i64 = sqlx::query_scalar(concat!(
        "SELECT count(*) FROM cem_bookings \
         WHERE branch = $1 AND service = $2 AND start_at = $3 AND id <> $4 AND ",
        holds_seat!()
    ))
    .bind(booking.branch.0)
    .bind(booking.service.0)
    .bind(booking.start)
    .bind(booking.id.0)
    .fetch_one(conn)
    .await
    .map_err(map_sqlx)?;
    if held >= i64::from(capacity) {
        return Err(conflict(SLOT_FULL));
    }
    Ok(())
}

/// A unique violation of the insert: the code's key says `CODE_TAKEN`, the other one (the
/// primary key) a taken id.
fn map_insert(error: sqlx::Error, id: BookingId) -> StoreError {
    if let sqlx::Error::Database(db) = &error
        && db.code().as_deref() == Some(UNIQUE_VIOLATION)
    {
        return if db.constraint() == Some(CODE_KEY) {
            conflict(CODE_TAKEN)
        } else {
            conflict(format!("booking {id} exists"))
        };
    }
    map_sqlx(error)
}

async fn insert_in(
    conn: &mut PgConnection,
    booking: &Booking,
    capacity: u32,
    messages: &[OutboundMessage],
) -> Result<(), StoreError> {
    // Says which key is taken before the capacity is looked at, as the other stores do; the
    // unique keys decide when a racing insert commits after this read.
    let clashes: Vec<Uuid> = sqlx::query_scalar(
        "SELECT id FROM cem_bookings WHERE id = $1 OR (organization = $2 AND code = $3)",
    )
    .bind(booking.id.0)
    .bind(booking.organization.0)
    .bind(booking.code.as_str())
    .fetch_all(&mut *conn)
    .await
    .map_err(map_sqlx)?;
    if clashes.contains(&booking.id.0) {
        return Err(conflict(format!("booking {} exists", booking.id)));
    }
    if !clashes.is_empty() {
        return Err(conflict(CODE_TAKEN));
    }
    if booking.state.holds_seat() {
        check_capacity(&mut *conn, booking, capacity).await?;
    }
    let insert = sqlx::query(concat!(
        "INSERT INTO cem_bookings (",
        booking_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
         $18, $19)"
    ))
    .bind(booking.id.0)
    .bind(booking.organization.0)
    .bind(booking.branch.0)
    .bind(booking.service.0)
    .bind(booking.code.as_str());
    bind_changeable(insert, booking)
        .execute(&mut *conn)
        .await
        .map_err(|e| map_insert(e, booking.id))?;
    // Due at once: at the instant of the change.
    insert_messages(conn, messages, booking.changed_at).await
}

/// Binds what an update may change, from `start_at` to `revision` in [`booking_columns`]'s
/// order: the tail of an insert's values and all of an update's after the id.
fn bind_changeable<'q>(
    query: Query<'q, Postgres, PgArguments>,
    booking: &'q Booking,
) -> Query<'q, Postgres, PgArguments> {
    query
        .bind(booking.start)
        .bind(booking.end)
        .bind(state_name(booking.state))
        .bind(booking.customer.map(|c| c.0))
        .bind(booking.holder.name.as_deref())
        .bind(booking.holder.phone.as_deref())
        .bind(booking.holder.email.as_deref())
        .bind(booking.holder.language.as_str())
        .bind(booking.offer_expires_at)
        .bind(booking.ticket.map(|t| t.0))
        .bind(booking.checked_in_at)
        .bind(booking.created_at)
        .bind(booking.changed_at)
        .bind(i64::from(booking.revision))
}

/// Branch, service, state, start, revision of a stored booking.
type StoredRow = (Uuid, Uuid, String, DateTime<Utc>, i64);

async fn update_in(
    conn: &mut PgConnection,
    booking: &Booking,
    capacity: u32,
    messages: &[OutboundMessage],
) -> Result<(), StoreError> {
    // The row lock makes concurrent updates of this booking take turns: a later one reads
    // the revision the earlier one wrote.
    let stored: Option<StoredRow> = sqlx::query_as(
        "SELECT branch, service, state, start_at, revision FROM cem_bookings \
         WHERE id = $1 FOR UPDATE",
    )
    .bind(booking.id.0)
    .fetch_optional(&mut *conn)
    .await
    .map_err(map_sqlx)?;
    let Some((branch, service, state, start, revision)) = stored else {
        return Err(booking_not_found(booking.id));
    };
    if booking.revision.checked_sub(1).map(i64::from) != Some(revision) {
        return Err(conflict(STALE));
    }
    let kept_seat = parse_state(&state)?.holds_seat() && start == as_stored(booking.start);
    if booking.state.holds_seat() && !kept_seat {
        // The slot is the stored branch and service's: those never change.
        let slot = Booking {
            branch: BranchId::new(branch),
            service: ServiceId::new(service),
            ..booking.clone()
        };
        check_capacity(&mut *conn, &slot, capacity).await?;
    }
    let update = sqlx::query(
        "UPDATE cem_bookings SET start_at = $2, end_at = $3, state = $4, customer = $5, \
         holder_name = $6, holder_phone = $7, holder_email = $8, holder_language = $9, \
         offer_expires_at = $10, ticket = $11, checked_in_at = $12, created_at = $13, \
         changed_at = $14, revision = $15 WHERE id = $1",
    )
    .bind(booking.id.0);
    bind_changeable(update, booking)
        .execute(&mut *conn)
        .await
        .map_err(map_sqlx)?;
    insert_messages(conn, messages, booking.changed_at).await
}

#[async_trait]
impl ReservationStore for PgStore {
    async fn put_plan(&self, plan: &ReservationPlan) -> Result<(), StoreError> {
        let doc = serde_json::to_string(plan).map_err(backend)?;
        sqlx::query(
            "INSERT INTO cem_reservation_plans (branch, service, organization, doc) \
             VALUES ($1, $2, $3, $4::jsonb) ON CONFLICT (branch, service) DO UPDATE \
             SET organization = excluded.organization, doc = excluded.doc",
        )
        .bind(plan.branch.0)
        .bind(plan.service.0)
        .bind(plan.organization.0)
        .bind(doc)
        .execute(self.pool())
        .await
        .map_err(map_sqlx)?;
        Ok(())
    }

    async fn plans(&self, branch: BranchId) -> Result<Vec<ReservationPlan>, StoreError> {
        let docs: Vec<String> = sqlx::query_scalar(
            "SELECT doc::text FROM cem_reservation_plans WHERE branch = $1 ORDER BY service",
        )
        .bind(branch.0)
        .fetch_all(self.pool())
        .await
        .map_err(map_sqlx)?;
        docs.iter()
            .map(|d| {
                serde_json::from_str(d)
                    .map_err(|e| backend(format!("corrupt plan of branch {branch}: {e}")))
            })
            .collect()
    }

    async fn delete_plan(&self, branch: BranchId, service: ServiceId) -> Result<(), StoreError> {
        let done =
            sqlx::query("DELETE FROM cem_reservation_plans WHERE branch = $1 AND service = $2")
                .bind(branch.0)
                .bind(service.0)
                .execute(self.pool())
                .await
                .map_err(map_sqlx)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                what: format!("plan of service {service} at branch {branch}"),
            });
        }
        Ok(())
    }

    async fn insert_booking(
        &self,
        booking: &Booking,
        capacity: u32,
        messages: &[OutboundMessage],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await.map_err(map_sqlx)?;
        let written = insert_in(&mut tx, booking, capacity, messages).await;
        finish(tx, written).await
    }

    async fn update_booking(
        &self,
        booking: &Booking,
        capacity: u32,
        messages: &[OutboundMessage],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await.map_err(map_sqlx)?;
        let written = update_in(&mut tx, booking, capacity, messages).await;
        finish(tx, written).await
    }

    async fn booking(&self, id: BookingId) -> Result<Booking, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            booking_columns!(),
            " FROM cem_bookings WHERE id = $1"
        ))
        .bind(id.0)
        .fetch_optional(self.pool())
        .await
        .map_err(map_sqlx)?;
        row.map_or_else(|| Err(booking_not_found(id)), |r| decode(&r))
    }

    async fn booking_by_code(
        &self,
        organization: OrganizationId,
        code: &BookingCode,
    ) -> Result<Booking, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            booking_columns!(),
            " FROM cem_bookings WHERE organization = $1 AND code = $2"
        ))
        .bind(organization.0)
        .bind(code.as_str())
        .fetch_optional(self.pool())
        .await
        .map_err(map_sqlx)?;
        row.map_or_else(
            || {
                Err(StoreError::NotFound {
                    what: format!("booking {code} of organization {organization}"),
                })
            },
            |r| decode(&r),
        )
    }

    async fn bookings(
        &self,
        branch: BranchId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Booking>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            booking_columns!(),
            " FROM cem_bookings WHERE branch = $1 AND start_at >= $2 AND start_at < $3 \
             ORDER BY start_at, created_at, id"
        ))
        .bind(branch.0)
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await
        .map_err(map_sqlx)?;
        rows.iter().map(decode).collect()
    }

    async fn holder_bookings(
        &self,
        organization: OrganizationId,
        holder: &HolderKey,
        from: DateTime<Utc>,
    ) -> Result<Vec<Booking>, StoreError> {
        if holder.customer.is_none() && holder.phone.is_none() && holder.email.is_none() {
            return Ok(Vec::new());
        }
        // A field not given binds NULL, which equals nothing.
        let rows = sqlx::query(concat!(
            "SELECT ",
            booking_columns!(),
            " FROM cem_bookings WHERE organization = $1 AND start_at >= $2 \
             AND (customer = $3 OR holder_phone = $4 OR holder_email = $5) \
             ORDER BY start_at, created_at, id"
        ))
        .bind(organization.0)
        .bind(from)
        .bind(holder.customer.map(|c| c.0))
        .bind(holder.phone.as_deref())
        .bind(holder.email.as_deref())
        .fetch_all(self.pool())
        .await
        .map_err(map_sqlx)?;
        rows.iter().map(decode).collect()
    }

    async fn erase_holders(
        &self,
        organization: OrganizationId,
        to: &str,
    ) -> Result<u64, StoreError> {
        // A blank address is nobody's.
        if to.is_empty() {
            return Ok(0);
        }
        let done = sqlx::query(
            "UPDATE cem_bookings SET holder_name = NULL, holder_phone = NULL, \
             holder_email = NULL, revision = revision + 1 \
             WHERE organization = $1 AND (holder_phone = $2 OR holder_email = $2)",
        )
        .bind(organization.0)
        .bind(to)
        .execute(self.pool())
        .await
        .map_err(map_sqlx)?;
        Ok(done.rows_affected())
    }
}
