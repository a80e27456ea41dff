//! [`AuditStore`] for [`PgStore`]: the table `cem_audit_log` (migration 0005).

use async_trait::async_trait;
use cem_core::{AuditEntry, AuditStore, OrganizationId, RecordedAudit, StoreError};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::PgStore;
use crate::error::map_sqlx;

type AuditRow = (
    i64,
    Uuid,
    DateTime<Utc>,
    String,
    String,
    String,
    serde_json::Value,
);

fn backend(message: impl ToString) -> StoreError {
    StoreError::Backend {
        message: message.to_string(),
    }
}

#[async_trait]
impl AuditStore for PgStore {
    async fn append_audit(&self, entry: &AuditEntry) -> Result<u64, StoreError> {
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO cem_audit_log (organization, at, actor, action, target, detail) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING seq",
        )
        .bind(entry.organization.0)
        .bind(entry.at)
        .bind(&entry.actor)
        .bind(&entry.action)
        .bind(&entry.target)
        .bind(&entry.detail)
        .fetch_one(self.pool())
        .await
        .map_err(map_sqlx)?;
        u64::try_from(seq).map_err(backend)
    }

    async fn audit(
        &self,
        organization: OrganizationId,
        before: Option<u64>,
        limit: usize,
    ) -> Result<Vec<RecordedAudit>, StoreError> {
        let before = before.map_or(i64::MAX, |b| i64::try_from(b).unwrap_or(i64::MAX));
        let rows: Vec<AuditRow> = sqlx::query_as(
            "SELECT seq, organization, at, actor, action, target, detail FROM cem_audit_log \
             WHERE organization = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3",
        )
        .bind(organization.0)
        .bind(before)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(self.pool())
        .await
        .map_err(map_sqlx)?;
        rows.into_iter()
            .map(|(seq, org, at, actor, action, target, detail)| {
                Ok(RecordedAudit {
                    seq: u64::try_from(seq).map_err(backend)?,
                    entry: AuditEntry {
                        organization: OrganizationId::new(org),
                        at,
                        actor,
                        action,
                        target,
                        detail,
                    },
                })
            })
            .collect()
    }
}
