//! The audit log port: who changed what, and when.

use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::OrganizationId;
use crate::store::StoreError;

/// One administrative change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// The organization changed.
    pub organization: OrganizationId,
    /// When.
    pub at: DateTime<Utc>,
    /// Who: `user:<id>` or `device:<id>`.
    pub actor: String,
    /// What was done (`service.put`, `user.delete`).
    pub action: String,
    /// The id of the record changed.
    pub target: String,
    /// The record as written, or nothing for a deletion. Never a secret.
    pub detail: serde_json::Value,
}

/// An entry as stored, with its sequence number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedAudit {
    /// Increasing with every entry of the store.
    pub seq: u64,
    /// The entry.
    #[serde(flatten)]
    pub entry: AuditEntry,
}

/// The append-only audit log.
#[async_trait]
pub trait AuditStore: Send + Sync + fmt::Debug + 'static {
    /// Appends an entry and returns its sequence number.
    ///
    /// # Behavior
    /// Sequence numbers increase with every entry, across organizations. Instants are kept to
    /// the microsecond.
    ///
    /// # Errors
    /// `Unavailable` or `Backend`; nothing was written.
    async fn append_audit(&self, entry: &AuditEntry) -> Result<u64, StoreError>;

    /// The entries of an organization with a sequence number below `before` (all when `None`),
    /// newest first, at most `limit`: page by passing the last `seq` read.
    ///
    /// # Errors
    /// `Unavailable` or `Backend`.
    async fn audit(
        &self,
        organization: OrganizationId,
        before: Option<u64>,
        limit: usize,
    ) -> Result<Vec<RecordedAudit>, StoreError>;
}
