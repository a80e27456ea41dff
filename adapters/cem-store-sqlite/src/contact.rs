//! [`ContactStore`] for [`SqliteStore`]: the table `contacts` (migration 0007). Every method
//! is one statement, except a read of more tickets than one statement binds, which reads its
//! chunks in one transaction, so it sees one state of the table.

use async_trait::async_trait;
use cem_core::{Contact, ContactStore, Language, OrganizationId, StoreError, TicketId};
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteConnection;
use sqlx::{QueryBuilder, Sqlite};
use uuid::Uuid;

use crate::{SqliteStore, backend, ceil_micros, from_micros, map_sqlx};

/// Tickets per `SELECT … IN (…)`: far below SQLite's limit of 32 766 bound variables.
const TICKETS_PER_SELECT: usize = 500;

/// The columns of a contact, in [`ContactRow`]'s order.
const CONTACT_COLUMNS: &str = "ticket, organization, phone, email, language, created_at";

/// ticket, organization, phone, email, language, created.
type ContactRow = (
    Vec<u8>,
    Vec<u8>,
    Option<String>,
    Option<String>,
    String,
    i64,
);

fn uuid(bytes: &[u8], what: &str) -> Result<Uuid, StoreError> {
    Uuid::from_slice(bytes).map_err(|e| backend(format!("corrupt {what} id: {e}")))
}

fn decode(
    (ticket, organization, phone, email, language, created_at): ContactRow,
) -> Result<Contact, StoreError> {
    Ok(Contact {
        ticket: TicketId::new(uuid(&ticket, "ticket")?),
        organization: OrganizationId::new(uuid(&organization, "organization")?),
        phone,
        email,
        language: Language::new(language),
        created_at: from_micros(created_at)?,
    })
}

/// The contacts of `tickets`, in one statement.
async fn select_contacts(
    conn: &mut SqliteConnection,
    tickets: &[TicketId],
) -> Result<Vec<ContactRow>, sqlx::Error> {
    let mut select: QueryBuilder<'_, Sqlite> = QueryBuilder::new("SELECT ");
    select.push(CONTACT_COLUMNS);
    select.push(" FROM contacts WHERE ticket IN (");
    let mut ids = select.separated(", ");
    for t in tickets {
        ids.push_bind(t.0.as_bytes().as_slice());
    }
    select.push(")");
    select.build_query_as().fetch_all(conn).await
}

#[async_trait]
impl ContactStore for SqliteStore {
    async fn save_contact(&self, contact: &Contact) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO contacts (ticket, organization, phone, email, language, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
             ON CONFLICT (ticket) DO UPDATE SET organization = excluded.organization, \
             phone = excluded.phone, email = excluded.email, language = excluded.language, \
             created_at = excluded.created_at",
        )
        .bind(contact.ticket.0.as_bytes().as_slice())
        .bind(contact.organization.0.as_bytes().as_slice())
        .bind(contact.phone.as_deref())
        .bind(contact.email.as_deref())
        .bind(contact.language.as_str())
        .bind(contact.created_at.timestamp_micros())
        .execute(&self.pool)
        .await
        .map_err(map_sqlx)?;
        Ok(())
    }

    async fn contacts(&self, tickets: &[TicketId]) -> Result<Vec<Contact>, StoreError> {
        // Each ticket once: `IN` matches a row once per statement, not once per chunk.
        let mut tickets = tickets.to_vec();
        tickets.sort_unstable();
        tickets.dedup();
        let rows = if tickets.is_empty() {
            Vec::new()
        } else if tickets.len() <= TICKETS_PER_SELECT {
            let mut conn = self.pool.acquire().await.map_err(map_sqlx)?;
            select_contacts(&mut conn, &tickets)
                .await
                .map_err(map_sqlx)?
        } else {
            // A deferred transaction reads one snapshot of the file (WAL) across the chunks.
            let mut tx = self.pool.begin().await.map_err(map_sqlx)?;
            let mut rows = Vec::new();
            for chunk in tickets.chunks(TICKETS_PER_SELECT) {
                rows.extend(select_contacts(&mut tx, chunk).await.map_err(map_sqlx)?);
            }
            tx.commit().await.map_err(map_sqlx)?;
            rows
        };
        rows.into_iter().map(decode).collect()
    }

    async fn erase_contacts(
        &self,
        organization: OrganizationId,
        to: &str,
    ) -> Result<u64, StoreError> {
        // A blank address is nobody's.
        if to.is_empty() {
            return Ok(0);
        }
        let done = sqlx::query(
            "DELETE FROM contacts WHERE organization = ?1 AND (phone = ?2 OR email = ?2)",
        )
        .bind(organization.0.as_bytes().as_slice())
        .bind(to)
        .execute(&self.pool)
        .await
        .map_err(map_sqlx)?;
        Ok(done.rows_affected())
    }

    async fn forget_contacts_before(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        // Stored instants are whole microseconds, so `created_at < before` holds exactly when it
        // holds against `before` rounded up to the next microsecond.
        let done = sqlx::query("DELETE FROM contacts WHERE created_at < ?1")
            .bind(ceil_micros(before))
            .execute(&self.pool)
            .await
            .map_err(map_sqlx)?;
        Ok(done.rows_affected())
    }
}
