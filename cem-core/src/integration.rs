//! [`SubscriptionStore`]: integrations (a CRM, an ERP) that follow an organization's events
//! through signed webhooks.
//!
//! A subscription names a URL, the event types it wants and the secret that signs what is
//! posted to it. Every matching event becomes a message in the outbox, delivered and retried
//! like any other, so the outbox's record of those messages is the subscription's delivery
//! log.

use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{OrganizationId, StoreError, SubscriptionId};

/// An integration's subscription to events.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookSubscription {
    /// Id.
    pub id: SubscriptionId,
    /// The organization whose events it follows.
    pub organization: OrganizationId,
    /// Where events are posted (`https://crm.example.org/cem`); unique in the organization.
    pub url: String,
    /// The event types it wants (`ticket_called`); empty for every type.
    #[serde(default)]
    pub events: Vec<String>,
    /// The secret that signs every request (`X-CEM-Signature`), shared with the receiver.
    pub secret: String,
    /// An inactive subscription receives nothing new (what is in the outbox still leaves).
    pub active: bool,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

impl WebhookSubscription {
    /// Whether it wants events of type `kind`.
    pub fn wants(&self, kind: &str) -> bool {
        self.active && (self.events.is_empty() || self.events.iter().any(|e| e == kind))
    }
}

// The secret is a credential: logs see only that there is one.
impl fmt::Debug for WebhookSubscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookSubscription")
            .field("id", &self.id)
            .field("organization", &self.organization)
            .field("url", &self.url)
            .field("events", &self.events)
            .field("secret", &"<redacted>")
            .field("active", &self.active)
            .field("created_at", &self.created_at)
            .finish()
    }
}

/// The webhook subscriptions of every organization.
///
/// Every method is atomic.
#[async_trait]
pub trait SubscriptionStore: Send + Sync + fmt::Debug + 'static {
    /// Creates a subscription, or replaces the one with the same id.
    ///
    /// # Errors
    /// `Conflict` when another subscription of the organization has the same URL, or when the
    /// id belongs to another organization's subscription (a subscription never changes
    /// owner); `Unavailable` or `Backend`.
    async fn put_subscription(&self, subscription: &WebhookSubscription) -> Result<(), StoreError>;

    /// One subscription of an organization.
    ///
    /// # Errors
    /// `NotFound` when the organization has no such subscription; `Unavailable` or `Backend`.
    async fn subscription(
        &self,
        organization: OrganizationId,
        id: SubscriptionId,
    ) -> Result<WebhookSubscription, StoreError>;

    /// The subscriptions of an organization, oldest first; of every organization with `None`.
    ///
    /// # Errors
    /// `Unavailable` or `Backend`.
    async fn subscriptions(
        &self,
        organization: Option<OrganizationId>,
    ) -> Result<Vec<WebhookSubscription>, StoreError>;

    /// Deletes a subscription of an organization.
    ///
    /// # Errors
    /// `NotFound` when the organization has no such subscription; `Unavailable` or `Backend`.
    async fn delete_subscription(
        &self,
        organization: OrganizationId,
        id: SubscriptionId,
    ) -> Result<(), StoreError>;
}
