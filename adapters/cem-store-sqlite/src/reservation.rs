//! [`ReservationStore`] for [`SqliteStore`]: the tables `reservation_plans` and `bookings`
//! (migration 0009).
//!
//! Reads and plan writes are one statement each. A booking's insert or update is one
//! `BEGIN IMMEDIATE` transaction: it takes SQLite's write lock before it reads, so the checks
//! (id, code, revision, the seats held at the slot), the write and the messages' insert into
//! the outbox see no other writer in between, whichever pool or process the writers use. A
//! refused write rolls back at once, releasing the lock.

use async_trait::async_trait;
use cem_core::{
    Booking, BookingCode, BookingHolder, BookingId, BookingState, BranchId, CODE_TAKEN, CustomerId,
    HolderKey, Language, OrganizationId, OutboundMessage, ReservationPlan, ReservationStore,
    SLOT_FULL, STALE, ServiceId, StoreError, TicketId,
};
use chrono::{DateTime, Utc};
use sqlx::query::Query;
use sqlx::sqlite::{SqliteArguments, SqliteConnection, SqliteRow};
use sqlx::{Row, Sqlite, Transaction};
use uuid::Uuid;

use crate::outbox::insert_messages;
use crate::{SqliteStore, backend, ceil_micros, from_micros, map_sqlx};

/// The columns of a booking, in [`decode`]'s order (a literal, so `concat!` can use it).
macro_rules! booking_columns {
    () => {
        "id, organization, branch, service, code, start_at, end_at, state, customer, \
         holder_name, holder_phone, holder_email, holder_language, offer_expires_at, ticket, \
         checked_in_at, created_at, changed_at, revision"
    };
}

/// The states that hold a seat, as SQL: [`BookingState::holds_seat`].
macro_rules! holds_seat {
    () => {
        "state IN ('confirmed', 'offered', 'checked_in')"
    };
}

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

fn uuid(bytes: &[u8], what: &str) -> Result<Uuid, StoreError> {
    Uuid::from_slice(bytes).map_err(|e| backend(format!("corrupt {what} id: {e}")))
}

fn decode(row: &SqliteRow) -> Result<Booking, StoreError> {
    let id_at = |i: usize, what: &str| -> Result<Uuid, StoreError> {
        uuid(&row.try_get::<Vec<u8>, _>(i).map_err(map_sqlx)?, what)
    };
    let optional_id_at = |i: usize, what: &str| -> Result<Option<Uuid>, StoreError> {
        row.try_get::<Option<Vec<u8>>, _>(i)
            .map_err(map_sqlx)?
            .map(|b| uuid(&b, what))
            .transpose()
    };
    let instant_at = |i: usize| from_micros(row.try_get(i).map_err(map_sqlx)?);
    let optional_instant_at = |i: usize| -> Result<Option<DateTime<Utc>>, StoreError> {
        row.try_get::<Option<i64>, _>(i)
            .map_err(map_sqlx)?
            .map(from_micros)
            .transpose()
    };
    let text_at = |i: usize| row.try_get::<Option<String>, _>(i).map_err(map_sqlx);
    let id = BookingId::new(id_at(0, "booking")?);
    let revision: i64 = row.try_get(18).map_err(map_sqlx)?;
    Ok(Booking {
        id,
        organization: OrganizationId::new(id_at(1, "organization")?),
        branch: BranchId::new(id_at(2, "branch")?),
        service: ServiceId::new(id_at(3, "service")?),
        code: BookingCode(row.try_get(4).map_err(map_sqlx)?),
        start: instant_at(5)?,
        end: instant_at(6)?,
        state: parse_state(&row.try_get::<String, _>(7).map_err(map_sqlx)?)?,
        customer: optional_id_at(8, "customer")?.map(CustomerId::new),
        holder: BookingHolder {
            name: text_at(9)?,
            phone: text_at(10)?,
            email: text_at(11)?,
            language: Language::new(row.try_get::<String, _>(12).map_err(map_sqlx)?),
        },
        offer_expires_at: optional_instant_at(13)?,
        ticket: optional_id_at(14, "ticket")?.map(TicketId::new),
        checked_in_at: optional_instant_at(15)?,
        created_at: instant_at(16)?,
        changed_at: instant_at(17)?,
        revision: u32::try_from(revision)
            .map_err(|_| backend(format!("corrupt revision {revision} of booking {id}")))?,
    })
}

fn conflict(what: impl Into<String>) -> StoreError {
    StoreError::Conflict { what: what.into() }
}

fn booking_not_found(id: BookingId) -> StoreError {
    StoreError::NotFound {
        what: format!("booking {id}"),
    }
}

/// Commits `tx` when `written` succeeded; otherwise rolls it back now, releasing the write
/// lock at once rather than when the dropped transaction is cleaned up.
async fn finish(
    tx: Transaction<'static, Sqlite>,
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

/// The seats held at `booking`'s slot by other bookings, under the caller's write lock.
async fn seats_held(conn: &mut SqliteConnection, booking: &Booking) -> Result<i64, StoreError> {
    sqlx::query_scalar(concat!(
        "SELECT count(*) FROM bookings \
         WHERE branch = ?1 AND service = ?2 AND start_at = ?3 AND id <> ?4 AND ",
        holds_seat!()
    ))
    .bind(booking.branch.0.as_bytes().as_slice())
    .bind(booking.service.0.as_bytes().as_slice())
    .bind(booking.start.timestamp_micros())
    .bind(booking.id.0.as_bytes().as_slice())
    .fetch_one(conn)
    .await
    .map_err(map_sqlx)
}

/// Refuses the write when `booking` would take a seat of a slot already holding `capacity`.
async fn check_capacity(
    conn: &mut SqliteConnection,
    booking: &Booking,
    capacity: u32,
) -> Result<(), StoreError> {
    if seats_held(conn, booking).await? >= i64::from(capacity) {
        return Err(conflict(SLOT_FULL));
    }
    Ok(())
}

async fn insert_in(
    conn: &mut SqliteConnection,
    booking: &Booking,
    capacity: u32,
    messages: &[OutboundMessage],
) -> Result<(), StoreError> {
    // Under the write lock, so these checks stay true until the commit; the unique keys would
    // refuse the insert too, but without saying which one.
    let clashes: Vec<Vec<u8>> = sqlx::query_scalar(
        "SELECT id FROM bookings WHERE id = ?1 OR (organization = ?2 AND code = ?3)",
    )
    .bind(booking.id.0.as_bytes().as_slice())
    .bind(booking.organization.0.as_bytes().as_slice())
    .bind(booking.code.as_str())
    .fetch_all(&mut *conn)
    .await
    .map_err(map_sqlx)?;
    if clashes.iter().any(|id| id == booking.id.0.as_bytes()) {
        return Err(conflict(format!("booking {} exists", booking.id)));
    }
    if !clashes.is_empty() {
        return Err(conflict(CODE_TAKEN));
    }
    if booking.state.holds_seat() {
        check_capacity(conn, booking, capacity).await?;
    }
    let insert = sqlx::query(concat!(
        "INSERT INTO bookings (",
        booking_columns!(),
        ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, \
         ?18, ?19)"
    ))
    .bind(booking.id.0.as_bytes().as_slice())
    .bind(booking.organization.0.as_bytes().as_slice())
    .bind(booking.branch.0.as_bytes().as_slice())
    .bind(booking.service.0.as_bytes().as_slice())
    .bind(booking.code.as_str());
    bind_changeable(insert, booking)
        .execute(&mut *conn)
        .await
        .map_err(map_sqlx)?;
    // Due at once: at the instant of the change.
    insert_messages(conn, messages, booking.changed_at.timestamp_micros())
        .await
        .map_err(map_sqlx)
}

/// Binds what an update may change, from `start_at` to `revision` in [`booking_columns`]'s
/// order: the tail of an insert's values and all of an update's after the id.
fn bind_changeable<'q>(
    query: Query<'q, Sqlite, SqliteArguments<'q>>,
    booking: &'q Booking,
) -> Query<'q, Sqlite, SqliteArguments<'q>> {
    query
        .bind(booking.start.timestamp_micros())
        .bind(booking.end.timestamp_micros())
        .bind(state_name(booking.state))
        .bind(booking.customer.as_ref().map(|c| c.0.as_bytes().as_slice()))
        .bind(booking.holder.name.as_deref())
        .bind(booking.holder.phone.as_deref())
        .bind(booking.holder.email.as_deref())
        .bind(booking.holder.language.as_str())
        .bind(booking.offer_expires_at.map(|t| t.timestamp_micros()))
        .bind(booking.ticket.as_ref().map(|t| t.0.as_bytes().as_slice()))
        .bind(booking.checked_in_at.map(|t| t.timestamp_micros()))
        .bind(booking.created_at.timestamp_micros())
        .bind(booking.changed_at.timestamp_micros())
        .bind(i64::from(booking.revision))
}

/// Branch, service, state, start, revision of a stored booking.
type StoredRow = (Vec<u8>, Vec<u8>, String, i64, i64);

async fn update_in(
    conn: &mut SqliteConnection,
    booking: &Booking,
    capacity: u32,
    messages: &[OutboundMessage],
) -> Result<(), StoreError> {
    let stored: Option<StoredRow> = sqlx::query_as(
        "SELECT branch, service, state, start_at, revision FROM bookings WHERE id = ?1",
    )
    .bind(booking.id.0.as_bytes().as_slice())
    .fetch_optional(&mut *conn)
    .await
    .map_err(map_sqlx)?;
    let Some((branch, service, state, start, revision)) = stored else {
        return Err(booking_not_found(booking.id));
    };
    if booking.revision.checked_sub(1).map(i64::from) != Some(revision) {
        return Err(conflict(STALE));
    }
    let kept_seat = parse_state(&state)?.holds_seat() && start == booking.start.timestamp_micros();
    if booking.state.holds_seat() && !kept_seat {
        // The slot is the stored branch and service's: those never change.
        let slot = Booking {
            branch: BranchId::new(uuid(&branch, "branch")?),
            service: ServiceId::new(uuid(&service, "service")?),
            ..booking.clone()
        };
        check_capacity(conn, &slot, capacity).await?;
    }
    let update = sqlx::query(
        "UPDATE bookings SET start_at = ?2, end_at = ?3, state = ?4, customer = ?5, \
         holder_name = ?6, holder_phone = ?7, holder_email = ?8, holder_language = ?9, \
         offer_expires_at = ?10, ticket = ?11, checked_in_at = ?12, created_at = ?13, \
         changed_at = ?14, revision = ?15 WHERE id = ?1",
    )
    .bind(booking.id.0.as_bytes().as_slice());
    bind_changeable(update, booking)
        .execute(&mut *conn)
        .await
        .map_err(map_sqlx)?;
    insert_messages(conn, messages, booking.changed_at.timestamp_micros())
        .await
        .map_err(map_sqlx)
}

#[async_trait]
impl ReservationStore for SqliteStore {
    async fn put_plan(&self, plan: &ReservationPlan) -> Result<(), StoreError> {
        let doc = serde_json::to_string(plan).map_err(backend)?;
        sqlx::query(
            "INSERT INTO reservation_plans (branch, service, organization, doc) \
             VALUES (?1, ?2, ?3, ?4) ON CONFLICT (branch, service) DO UPDATE \
             SET organization = excluded.organization, doc = excluded.doc",
        )
        .bind(plan.branch.0.as_bytes().as_slice())
        .bind(plan.service.0.as_bytes().as_slice())
        .bind(plan.organization.0.as_bytes().as_slice())
        .bind(doc)
        .execute(&self.pool)
        .await
        .map_err(map_sqlx)?;
        Ok(())
    }

    async fn plans(&self, branch: BranchId) -> Result<Vec<ReservationPlan>, StoreError> {
        let docs: Vec<String> = sqlx::query_scalar(
            "SELECT doc FROM reservation_plans WHERE branch = ?1 ORDER BY service",
        )
        .bind(branch.0.as_bytes().as_slice())
        .fetch_all(&self.pool)
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
        let done = sqlx::query("DELETE FROM reservation_plans WHERE branch = ?1 AND service = ?2")
            .bind(branch.0.as_bytes().as_slice())
            .bind(service.0.as_bytes().as_slice())
            .execute(&self.pool)
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
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(map_sqlx)?;
        let written = insert_in(&mut tx, booking, capacity, messages).await;
        finish(tx, written).await
    }

    async fn update_booking(
        &self,
        booking: &Booking,
        capacity: u32,
        messages: &[OutboundMessage],
    ) -> Result<(), StoreError> {
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(map_sqlx)?;
        let written = update_in(&mut tx, booking, capacity, messages).await;
        finish(tx, written).await
    }

    async fn booking(&self, id: BookingId) -> Result<Booking, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            booking_columns!(),
            " FROM bookings WHERE id = ?1"
        ))
        .bind(id.0.as_bytes().as_slice())
        .fetch_optional(&self.pool)
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
            " FROM bookings WHERE organization = ?1 AND code = ?2"
        ))
        .bind(organization.0.as_bytes().as_slice())
        .bind(code.as_str())
        .fetch_optional(&self.pool)
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
        // Stored starts are whole microseconds: `start >= from` is `start >= ceil(from)`, and
        // likewise for `to`.
        let rows = sqlx::query(concat!(
            "SELECT ",
            booking_columns!(),
            " FROM bookings WHERE branch = ?1 AND start_at >= ?2 AND start_at < ?3 \
             ORDER BY start_at, created_at, id"
        ))
        .bind(branch.0.as_bytes().as_slice())
        .bind(ceil_micros(from))
        .bind(ceil_micros(to))
        .fetch_all(&self.pool)
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
            " FROM bookings WHERE organization = ?1 AND start_at >= ?2 \
             AND (customer = ?3 OR holder_phone = ?4 OR holder_email = ?5) \
             ORDER BY start_at, created_at, id"
        ))
        .bind(organization.0.as_bytes().as_slice())
        .bind(ceil_micros(from))
        .bind(holder.customer.as_ref().map(|c| c.0.as_bytes().as_slice()))
        .bind(holder.phone.as_deref())
        .bind(holder.email.as_deref())
        .fetch_all(&self.pool)
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
            "UPDATE bookings SET holder_name = NULL, holder_phone = NULL, holder_email = NULL, \
             revision = revision + 1 \
             WHERE organization = ?1 AND (holder_phone = ?2 OR holder_email = ?2)",
        )
        .bind(organization.0.as_bytes().as_slice())
        .bind(to)
        .execute(&self.pool)
        .await
        .map_err(map_sqlx)?;
        Ok(done.rows_affected())
    }
}
