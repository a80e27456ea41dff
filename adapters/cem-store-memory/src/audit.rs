//! [`AuditStore`] for [`MemoryStore`].

use async_trait::async_trait;
use cem_core::chrono::{DateTime, Utc};
use cem_core::{AuditEntry, AuditStore, OrganizationId, RecordedAudit, StoreError};

use crate::MemoryStore;

#[async_trait]
impl AuditStore for MemoryStore {
    async fn append_audit(&self, entry: &AuditEntry) -> Result<u64, StoreError> {
        let mut inner = self.inner();
        let seq = inner.audit.len() as u64 + 1;
        let mut entry = entry.clone();
        entry.at =
            DateTime::<Utc>::from_timestamp_micros(entry.at.timestamp_micros()).unwrap_or(entry.at);
        inner.audit.push(RecordedAudit { seq, entry });
        Ok(seq)
    }

    async fn audit(
        &self,
        organization: OrganizationId,
        before: Option<u64>,
        limit: usize,
    ) -> Result<Vec<RecordedAudit>, StoreError> {
        Ok(self
            .inner()
            .audit
            .iter()
            .rev()
            .filter(|r| before.is_none_or(|b| r.seq < b) && r.entry.organization == organization)
            .take(limit)
            .cloned()
            .collect())
    }
}
