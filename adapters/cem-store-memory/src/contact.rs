//! [`ContactStore`] for [`MemoryStore`].

use std::collections::{BTreeSet, HashMap};

use async_trait::async_trait;
use cem_core::chrono::{DateTime, Utc};
use cem_core::{Contact, ContactStore, OrganizationId, StoreError, TicketId};

use crate::{MemoryStore, to_micros};

/// The contacts, by ticket.
pub(crate) type ContactTable = HashMap<TicketId, Contact>;

#[async_trait]
impl ContactStore for MemoryStore {
    async fn save_contact(&self, contact: &Contact) -> Result<(), StoreError> {
        let mut contact = contact.clone();
        contact.created_at = to_micros(contact.created_at);
        self.inner().contacts.insert(contact.ticket, contact);
        Ok(())
    }

    async fn contacts(&self, tickets: &[TicketId]) -> Result<Vec<Contact>, StoreError> {
        let inner = self.inner();
        // Each ticket once, however often it is asked for, as the databases answer.
        let tickets: BTreeSet<&TicketId> = tickets.iter().collect();
        Ok(tickets
            .into_iter()
            .filter_map(|t| inner.contacts.get(t).cloned())
            .collect())
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
        let mut inner = self.inner();
        let before = inner.contacts.len();
        inner.contacts.retain(|_, c| {
            c.organization != organization
                || (c.phone.as_deref() != Some(to) && c.email.as_deref() != Some(to))
        });
        Ok((before - inner.contacts.len()) as u64)
    }

    async fn forget_contacts_before(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let mut inner = self.inner();
        let count = inner.contacts.len();
        inner.contacts.retain(|_, c| c.created_at >= before);
        Ok((count - inner.contacts.len()) as u64)
    }
}
