//! [`SubscriptionStore`] for [`SqliteStore`]: the table `webhook_subscriptions` (migration
//! 0007). Every method is one statement; `UNIQUE (organization, url)` turns a second
//! subscription to one URL into a conflict, whichever pool or process writes it.

use async_trait::async_trait;
use cem_core::{
    OrganizationId, StoreError, SubscriptionId, SubscriptionStore, WebhookSubscription,
};
use uuid::Uuid;

use crate::{SqliteStore, backend, from_micros, map_sqlx};

/// The columns of a subscription, in [`SubscriptionRow`]'s order (a literal, so `concat!` can
/// use it).
macro_rules! subscription_columns {
    () => {
        "id, organization, url, events, secret, active, created_at"
    };
}

/// id, organization, url, events (JSON), secret, active, created.
type SubscriptionRow = (Vec<u8>, Vec<u8>, String, String, String, bool, i64);

fn uuid(bytes: &[u8], what: &str) -> Result<Uuid, StoreError> {
    Uuid::from_slice(bytes).map_err(|e| backend(format!("corrupt {what} id: {e}")))
}

fn decode(
    (id, organization, url, events, secret, active, created_at): SubscriptionRow,
) -> Result<WebhookSubscription, StoreError> {
    let id = SubscriptionId::new(uuid(&id, "subscription")?);
    Ok(WebhookSubscription {
        id,
        organization: OrganizationId::new(uuid(&organization, "organization")?),
        url,
        events: serde_json::from_str(&events)
            .map_err(|e| backend(format!("corrupt events of subscription {id}: {e}")))?,
        secret,
        active,
        created_at: from_micros(created_at)?,
    })
}

fn not_found(id: SubscriptionId) -> StoreError {
    StoreError::NotFound {
        what: format!("subscription {id}"),
    }
}

#[async_trait]
impl SubscriptionStore for SqliteStore {
    async fn put_subscription(&self, subscription: &WebhookSubscription) -> Result<(), StoreError> {
        let events = serde_json::to_string(&subscription.events).map_err(backend)?;
        // One statement: a URL taken by another subscription of the organization is a unique
        // violation (`Conflict`); an id of another organization's updates no row.
        let done = sqlx::query(
            "INSERT INTO webhook_subscriptions \
             (id, organization, url, events, secret, active, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
             ON CONFLICT (id) DO UPDATE SET url = excluded.url, events = excluded.events, \
             secret = excluded.secret, active = excluded.active, \
             created_at = excluded.created_at \
             WHERE webhook_subscriptions.organization = excluded.organization",
        )
        .bind(subscription.id.0.as_bytes().as_slice())
        .bind(subscription.organization.0.as_bytes().as_slice())
        .bind(&subscription.url)
        .bind(events)
        .bind(&subscription.secret)
        .bind(subscription.active)
        .bind(subscription.created_at.timestamp_micros())
        .execute(&self.pool)
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
            " FROM webhook_subscriptions WHERE id = ?1 AND organization = ?2"
        ))
        .bind(id.0.as_bytes().as_slice())
        .bind(organization.0.as_bytes().as_slice())
        .fetch_optional(&self.pool)
        .await
        .map_err(map_sqlx)?;
        row.map_or_else(|| Err(not_found(id)), decode)
    }

    async fn subscriptions(
        &self,
        organization: Option<OrganizationId>,
    ) -> Result<Vec<WebhookSubscription>, StoreError> {
        let rows: Vec<SubscriptionRow> = match organization {
            Some(organization) => sqlx::query_as(concat!(
                "SELECT ",
                subscription_columns!(),
                " FROM webhook_subscriptions WHERE organization = ?1 ORDER BY created_at, id"
            ))
            .bind(organization.0.as_bytes().as_slice())
            .fetch_all(&self.pool)
            .await
            .map_err(map_sqlx)?,
            None => sqlx::query_as(concat!(
                "SELECT ",
                subscription_columns!(),
                " FROM webhook_subscriptions ORDER BY created_at, id"
            ))
            .fetch_all(&self.pool)
            .await
            .map_err(map_sqlx)?,
        };
        rows.into_iter().map(decode).collect()
    }

    async fn delete_subscription(
        &self,
        organization: OrganizationId,
        id: SubscriptionId,
    ) -> Result<(), StoreError> {
        let done =
            sqlx::query("DELETE FROM webhook_subscriptions WHERE id = ?1 AND organization = ?2")
                .bind(id.0.as_bytes().as_slice())
                .bind(organization.0.as_bytes().as_slice())
                .execute(&self.pool)
                .await
                .map_err(map_sqlx)?;
        if done.rows_affected() == 0 {
            return Err(not_found(id));
        }
        Ok(())
    }
}
