//! [`AuditStore`] for [`SqliteStore`]: the table `audit_log` (migration 0005).

use async_trait::async_trait;
use cem_core::{AuditEntry, AuditStore, OrganizationId, RecordedAudit, StoreError};
use uuid::Uuid;

use crate::{SqliteStore, backend, from_micros, map_sqlx, to_u64};

type AuditRow = (i64, Vec<u8>, i64, String, String, String, String);

#[async_trait]
impl AuditStore for SqliteStore {
    async fn append_audit(&self, entry: &AuditEntry) -> Result<u64, StoreError> {
        let detail = serde_json::to_string(&entry.detail).map_err(backend)?;
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO audit_log (organization, at, actor, action, target, detail) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING seq",
        )
        .bind(entry.organization.0.as_bytes().as_slice())
        .bind(entry.at.timestamp_micros())
        .bind(&entry.actor)
        .bind(&entry.action)
        .bind(&entry.target)
        .bind(detail)
        .fetch_one(&self.pool)
        .await
        .map_err(map_sqlx)?;
        to_u64(seq)
    }

    async fn audit(
        &self,
        organization: OrganizationId,
        before: Option<u64>,
        limit: usize,
    ) -> Result<Vec<RecordedAudit>, StoreError> {
        let before = before.map_or(i64::MAX, |b| i64::try_from(b).unwrap_or(i64::MAX));
        let rows: Vec<AuditRow> = sqlx::query_as(
            "SELECT seq, organization, at, actor, action, target, detail FROM audit_log \
             WHERE organization = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3",
        )
        .bind(organization.0.as_bytes().as_slice())
        .bind(before)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(map_sqlx)?;
        rows.into_iter()
            .map(|(seq, org, at, actor, action, target, detail)| {
                Ok(RecordedAudit {
                    seq: to_u64(seq)?,
                    entry: AuditEntry {
                        organization: OrganizationId::new(Uuid::from_slice(&org).map_err(backend)?),
                        at: from_micros(at)?,
                        actor,
                        action,
                        target,
                        detail: serde_json::from_str(&detail).map_err(backend)?,
                    },
                })
            })
            .collect()
    }
}
