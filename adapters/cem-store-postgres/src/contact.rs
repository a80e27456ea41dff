//! [`ContactStore`] for [`PgStore`]: the table `cem_contacts` (migration 0007). Every method
//! is one statement; a read takes all its tickets as one array (`= ANY($1)`), however many.

use async_trait::async_trait;
use cem_core::{Contact, ContactStore, Language, OrganizationId, StoreError, TicketId};
use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

use crate::PgStore;
use crate::error::map_sqlx;

/// The columns of a contact, in [`ContactRow`]'s order (a literal, so `concat!` can use it).
macro_rules! contact_columns {
    () => {
        "ticket, organization, phone, email, language, created_at"
    };
}

/// ticket, organization, phone, email, language, created.
type ContactRow = (
    Uuid,
    Uuid,
    Option<String>,
    Option<String>,
    String,
    DateTime<Utc>,
);

fn decode((ticket, organization, phone, email, language, created_at): ContactRow) -> Contact {
    Contact {
        ticket: TicketId::new(ticket),
        organization: OrganizationId::new(organization),
        phone,
        email,
        language: Language::new(language),
        created_at,
    }
}

/// The smallest whole microsecond at or after `t`: stored instants are whole microseconds, so
/// `created_at < t` holds exactly when it holds against this bound (sqlx would cut `t`).
fn ceil_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    match DateTime::from_timestamp_micros(t.timestamp_micros()) {
        Some(floor) if floor < t => floor + TimeDelta::microseconds(1),
        _ => t,
    }
}

#[async_trait]
impl ContactStore for PgStore {
    async fn save_contact(&self, contact: &Contact) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO cem_contacts (ticket, organization, phone, email, language, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (ticket) DO UPDATE SET organization = excluded.organization, \
             phone = excluded.phone, email = excluded.email, language = excluded.language, \
             created_at = excluded.created_at",
        )
        .bind(contact.ticket.0)
        .bind(contact.organization.0)
        .bind(contact.phone.as_deref())
        .bind(contact.email.as_deref())
        .bind(contact.language.as_str())
        .bind(contact.created_at)
        .execute(self.pool())
        .await
        .map_err(map_sqlx)?;
        Ok(())
    }

    async fn contacts(&self, tickets: &[TicketId]) -> Result<Vec<Contact>, StoreError> {
        if tickets.is_empty() {
            return Ok(Vec::new());
        }
        // `= ANY` matches each row once, however often its ticket is in the array.
        let tickets: Vec<Uuid> = tickets.iter().map(|t| t.0).collect();
        let rows: Vec<ContactRow> = sqlx::query_as(concat!(
            "SELECT ",
            contact_columns!(),
            " FROM cem_contacts WHERE ticket = ANY($1)"
        ))
        .bind(tickets)
        .fetch_all(self.pool())
        .await
        .map_err(map_sqlx)?;
        Ok(rows.into_iter().map(decode).collect())
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
            "DELETE FROM cem_contacts WHERE organization = $1 AND (phone = $2 OR email = $2)",
        )
        .bind(organization.0)
        .bind(to)
        .execute(self.pool())
        .await
        .map_err(map_sqlx)?;
        Ok(done.rows_affected())
    }

    async fn forget_contacts_before(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM cem_contacts WHERE created_at < $1")
            .bind(ceil_micros(before))
            .execute(self.pool())
            .await
            .map_err(map_sqlx)?;
        Ok(done.rows_affected())
    }
}
