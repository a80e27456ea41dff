//! [`SubscriptionStore`] for [`MemoryStore`].

use std::collections::HashMap;

use async_trait::async_trait;
use cem_core::{
    OrganizationId, StoreError, SubscriptionId, SubscriptionStore, WebhookSubscription,
};

use crate::{MemoryStore, to_micros};

/// The webhook subscriptions, by id.
pub(crate) type SubscriptionTable = HashMap<SubscriptionId, WebhookSubscription>;

fn not_found(id: SubscriptionId) -> StoreError {
    StoreError::NotFound {
        what: format!("subscription {id}"),
    }
}

#[async_trait]
impl SubscriptionStore for MemoryStore {
    async fn put_subscription(&self, subscription: &WebhookSubscription) -> Result<(), StoreError> {
        let mut inner = self.inner();
        let table = &mut inner.subscriptions;
        let id = subscription.id;
        if table
            .get(&id)
            .is_some_and(|s| s.organization != subscription.organization)
        {
            return Err(StoreError::Conflict {
                what: format!("subscription {id} belongs to another organization"),
            });
        }
        if table.values().any(|s| {
            s.id != id && s.organization == subscription.organization && s.url == subscription.url
        }) {
            return Err(StoreError::Conflict {
                what: format!(
                    "organization {} already has a subscription to {}",
                    subscription.organization, subscription.url
                ),
            });
        }
        let mut subscription = subscription.clone();
        subscription.created_at = to_micros(subscription.created_at);
        table.insert(id, subscription);
        Ok(())
    }

    async fn subscription(
        &self,
        organization: OrganizationId,
        id: SubscriptionId,
    ) -> Result<WebhookSubscription, StoreError> {
        self.inner()
            .subscriptions
            .get(&id)
            .filter(|s| s.organization == organization)
            .cloned()
            .ok_or_else(|| not_found(id))
    }

    async fn subscriptions(
        &self,
        organization: Option<OrganizationId>,
    ) -> Result<Vec<WebhookSubscription>, StoreError> {
        let inner = self.inner();
        let mut listed: Vec<WebhookSubscription> = inner
            .subscriptions
            .values()
            .filter(|s| organization.is_none_or(|o| s.organization == o))
            .cloned()
            .collect();
        listed.sort_by_key(|s| (s.created_at, s.id));
        Ok(listed)
    }

    async fn delete_subscription(
        &self,
        organization: OrganizationId,
        id: SubscriptionId,
    ) -> Result<(), StoreError> {
        let mut inner = self.inner();
        match inner.subscriptions.get(&id) {
            Some(s) if s.organization == organization => {
                inner.subscriptions.remove(&id);
                Ok(())
            }
            _ => Err(not_found(id)),
        }
    }
}
