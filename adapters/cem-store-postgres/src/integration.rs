//! [`SubscriptionStore`] for [`PgStore`]: the table `cem_webhook_subscriptions` (migration
//! 0007). Every method is one statement; `UNIQUE (organization, url)` turns a second
//! subscription to one URL into a conflict, whichever pool writes it.

use async_trait::async_trait;
use cem_core::{
    OrganizationId, StoreError, SubscriptionId, SubscriptionStore, WebhookSubscription,
};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::PgStore;
use crate::error::map_sqlx;

/// The columns of a subscription, in [`SubscriptionRow`]'s order (a literal, so `concat!` can
/// use it).
macro_rules! subscription_columns {
    () => {
        "id, organization, url, events, secret, active, created_at"
    };
}

/// id, organization, url, events, secret, active, created.
type SubscriptionRow = (Uuid, Uuid, String, Vec<String>, String, bool, DateTime<Utc>);

fn decode(
    (id, organization, url, events, secret, active, created_at): SubscriptionRow,
) -> WebhookSubscription {
    WebhookSubscription {
        id: SubscriptionId::new(id),
        organization: OrganizationId::new(organization),
        url,
        events,
        secret,
        active,
        created_at,
    }
}

fn not_found(id: SubscriptionId) -> StoreError {
    StoreError::NotFound {
        what: format!("subscription {id}"),
    }
}

#[async_trait]
impl SubscriptionStore for PgStore {
    async fn put_subscription(&self, subscription: &WebhookSubscription) -> Result<(), StoreError> {
        // One statement: a URL taken by another subscription of the organization is a unique
        // violation (`Conflict`; a concurrent insert of it waits for the first to commit, then
        // fails); an id of another organization's updates no row.
        let done = sqlx::query(
            "INSERT INTO cem_webhook_subscriptions \
             (id, organization, url, events, secret, active, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (id) DO UPDATE SET url = excluded.url, events = excluded.events, \
             secret = excluded.secret, active = excluded.active, \
             created_at = excluded.created_at \
             WHERE cem_webhook_subscriptions.organization = excluded.organization",
        )
        .bind(subscription.id.0)
        .bind(subscription.organization.0)
        .bind(&subscription.url)
        .bind(&subscription.events)
        .bind(&subscription.secret)
        .bind(subscription.active)
        .bind(subscription.created_at)
        .execute(self.pool())
        .await
        .map_err(map_sqlx)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict {
                what: format!(
                    "subscription {} belongs to another organization",
                    subscription.id
                ),
            });
        }
        Ok(())
    }

    async fn subscription(
        &self,
        organization: OrganizationId,
        id: SubscriptionId,
    ) -> Result<WebhookSubscription, StoreError> {
        let row: Option<SubscriptionRow> = sqlx::query_as(concat!(
            "SELECT ",
            subscription_columns!(),
            " FROM cem_webhook_subscriptions WHERE id = $1 AND organization = $2"
        ))
        .bind(id.0)
        .bind(organization.0)
        .fetch_optional(self.pool())
        .await
        .map_err(map_sqlx)?;
        row.map(decode).ok_or_else(|| not_found(id))
    }

    async fn subscriptions(
        &self,
        organization: Option<OrganizationId>,
    ) -> Result<Vec<WebhookSubscription>, StoreError> {
        let rows: Vec<SubscriptionRow> = match organization {
            Some(organization) => sqlx::query_as(concat!(
                "SELECT ",
                subscription_columns!(),
                " FROM cem_webhook_subscriptions WHERE organization = $1 \
                 ORDER BY created_at, id"
            ))
            .bind(organization.0)
            .fetch_all(self.pool())
            .await
            .map_err(map_sqlx)?,
            None => sqlx::query_as(concat!(
                "SELECT ",
                subscription_columns!(),
                " FROM cem_webhook_subscriptions ORDER BY created_at, id"
            ))
            .fetch_all(self.pool())
            .await
            .map_err(map_sqlx)?,
        };
        Ok(rows.into_iter().map(decode).collect())
    }

    async fn delete_subscription(
        &self,
        organization: OrganizationId,
        id: SubscriptionId,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(
            "DELETE FROM cem_webhook_subscriptions WHERE id = $1 AND organization = $2",
        )
        .bind(id.0)
        .bind(organization.0)
        .execute(self.pool())
        .await
        .map_err(map_sqlx)?;
        if done.rows_affected() == 0 {
            return Err(not_found(id));
        }
        Ok(())
    }
}
