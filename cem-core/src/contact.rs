//! [`ContactStore`]: how to reach the customer of a ticket, kept apart from the queue.
//!
//! The queue's event history is append-only and never holds personal data; a customer who
//! wants messages about a ticket (a link to follow it, "your turn is near", the call) leaves a
//! phone number or an e-mail address here, beside the ticket. It is used only for that
//! ticket's messages and is erased on request, without touching the history.

use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Language, OrganizationId, StoreError, TicketId, ValidationError};

/// How to reach the customer of one ticket.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// The ticket.
    pub ticket: TicketId,
    /// The organization whose ticket it is.
    pub organization: OrganizationId,
    /// A phone number for text messages (E.164, `+4930…`).
    #[serde(default)]
    pub phone: Option<String>,
    /// An e-mail address.
    #[serde(default)]
    pub email: Option<String>,
    /// The language the customer reads.
    pub language: Language,
    /// When it was left.
    pub created_at: DateTime<Utc>,
}

impl Contact {
    /// Checks that the contact reaches someone; see [`check_reach`].
    ///
    /// # Errors
    /// As [`check_reach`].
    pub fn validate(&self) -> Result<(), ValidationError> {
        check_reach(self.phone.as_deref(), self.email.as_deref())
    }
}

/// Checks a way to reach a customer (a ticket's contact, a booking's holder): a phone number in
/// E.164 form (`+`, then 8 to 15 digits, the first not 0) or an e-mail address (one `@`
/// between non-empty parts, no spaces, at most 254 characters), or both.
///
/// # Errors
/// [`ValidationError::InvalidField`] naming `phone`, `email`, or `contact` when neither is
/// given.
pub fn check_reach(phone: Option<&str>, email: Option<&str>) -> Result<(), ValidationError> {
    let invalid = |field: &str, reason: &str| ValidationError::InvalidField {
        field: field.into(),
        reason: reason.into(),
    };
    if let Some(phone) = phone {
        let digits = phone.strip_prefix('+').unwrap_or("");
        if !(8..=15).contains(&digits.len())
            || !digits.bytes().all(|b| b.is_ascii_digit())
            || digits.starts_with('0')
        {
            return Err(invalid(
                "phone",
                "write the number in international form, such as +4930123456",
            ));
        }
    }
    if let Some(email) = email {
        let parts: Vec<&str> = email.split('@').collect();
        if email.len() > 254
            || email.chars().any(char::is_whitespace)
            || parts.len() != 2
            || parts.iter().any(|p| p.is_empty())
        {
            return Err(invalid("email", "not an e-mail address"));
        }
    }
    if phone.is_none() && email.is_none() {
        return Err(invalid(
            "contact",
            "give a phone number, an e-mail address or both",
        ));
    }
    Ok(())
}

// Phone numbers and addresses are personal data: logs see only whether they are there.
impl fmt::Debug for Contact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Contact")
            .field("ticket", &self.ticket)
            .field("organization", &self.organization)
            .field("phone", &self.phone.as_ref().map(|_| "<redacted>"))
            .field("email", &self.email.as_ref().map(|_| "<redacted>"))
            .field("language", &self.language)
            .field("created_at", &self.created_at)
            .finish()
    }
}

/// The contacts of tickets.
///
/// Every method is atomic. Instants are kept to the microsecond.
#[async_trait]
pub trait ContactStore: Send + Sync + fmt::Debug + 'static {
    /// Keeps `contact` for its ticket, replacing the one the ticket had.
    ///
    /// # Errors
    /// `Unavailable` or `Backend`; nothing was written.
    async fn save_contact(&self, contact: &Contact) -> Result<(), StoreError>;

    /// The contacts of those of `tickets` that have one, in no particular order.
    ///
    /// # Errors
    /// `Unavailable` or `Backend`.
    async fn contacts(&self, tickets: &[TicketId]) -> Result<Vec<Contact>, StoreError>;

    /// Erases a customer's contact data in an organization: every contact of `organization`
    /// whose phone number or e-mail address is `to` is deleted. Returns how many were.
    ///
    /// # Errors
    /// `Unavailable` or `Backend`; nothing was erased.
    async fn erase_contacts(
        &self,
        organization: OrganizationId,
        to: &str,
    ) -> Result<u64, StoreError>;

    /// Deletes the contacts left before `before` (their tickets are long over), returning how
    /// many: contact data is kept no longer than it is useful.
    ///
    /// # Errors
    /// `Unavailable` or `Backend`.
    async fn forget_contacts_before(&self, before: DateTime<Utc>) -> Result<u64, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contact(phone: Option<&str>, email: Option<&str>) -> Contact {
        Contact {
            ticket: TicketId::from_u128(1),
            organization: OrganizationId::from_u128(1),
            phone: phone.map(Into::into),
            email: email.map(Into::into),
            language: Language::en(),
            created_at: DateTime::UNIX_EPOCH,
        }
    }

    fn field(c: &Contact) -> Option<String> {
        match c.validate() {
            Ok(()) => None,
            Err(ValidationError::InvalidField { field, .. }) => Some(field),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn a_contact_needs_a_well_formed_phone_number_or_address() {
        assert_eq!(field(&contact(Some("+4930123456"), None)), None);
        assert_eq!(field(&contact(None, Some("ana@example.org"))), None);
        assert_eq!(field(&contact(Some("+989121234567"), Some("a@b"))), None);
        for phone in [
            "4930123456",
            "+49 30 123456",
            "+0123456789",
            "+1234567",
            "+1234567890123456",
        ] {
            assert_eq!(
                field(&contact(Some(phone), None)).as_deref(),
                Some("phone"),
                "{phone}"
            );
        }
        for email in ["ana", "ana@", "@example.org", "a@b@c", "ana @example.org"] {
            assert_eq!(
                field(&contact(None, Some(email))).as_deref(),
                Some("email"),
                "{email}"
            );
        }
        assert_eq!(field(&contact(None, None)).as_deref(), Some("contact"));
    }

    #[test]
    fn debug_output_hides_the_contact_data() {
        let shown = format!(
            "{:?}",
            contact(Some("+4930123456"), Some("ana@example.org"))
        );
        assert!(
            !shown.contains("4930123456") && !shown.contains("ana@"),
            "{shown}"
        );
    }
}
