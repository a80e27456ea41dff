//! [`AuthStore`] for [`PgStore`]: devices in a table of the organization tables' shape and
//! tokens one row each (migration 0004, tables `cem_devices` and `cem_access_tokens`).
//!
//! Every write is one statement, except `delete_device`, one transaction. A token for a device
//! is inserted under a key-share lock on the device's row, which a deletion must wait for (and
//! which waits for a deletion in progress), so no token outlives its device.

use async_trait::async_trait;
use cem_core::{
    AccessToken, AuthStore, BranchId, Device, DeviceId, OrganizationId, StoreError, Subject,
};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::PgStore;
use crate::error::map_sqlx;

/// The columns of a token, in [`TokenRow`]'s order.
macro_rules! token_columns {
    () => {
        "digest, organization, subject_kind, subject_id, label, created_at, expires_at, revoked_at"
    };
}

/// digest, organization, subject kind, subject id, label, created, expires, revoked.
type TokenRow = (
    String,
    Uuid,
    String,
    Uuid,
    String,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
);

/// The subject as stored: its kind and its id.
fn subject_key(subject: &Subject) -> (&'static str, Uuid) {
    match subject {
        Subject::User(id) => ("user", id.0),
        Subject::Device(id) => ("device", id.0),
    }
}

fn decode_token(
    (digest, organization, kind, id, label, created_at, expires_at, revoked_at): TokenRow,
) -> Result<AccessToken, StoreError> {
    let subject = match kind.as_str() {
        "user" => Subject::User(id.into()),
        "device" => Subject::Device(id.into()),
        other => return Err(backend(format!("corrupt subject kind {other:?}"))),
    };
    Ok(AccessToken {
        digest,
        organization: OrganizationId::new(organization),
        subject,
        label,
        created_at,
        expires_at,
        revoked_at,
    })
}

fn decode_device(doc: &str) -> Result<Device, StoreError> {
    serde_json::from_str(doc).map_err(|e| backend(format!("unreadable record: {e}")))
}

fn device_not_found(id: DeviceId) -> StoreError {
    StoreError::NotFound {
        what: format!("device {id}"),
    }
}

fn token_not_found() -> StoreError {
    // The digest stays out of messages: it names a credential.
    StoreError::NotFound {
        what: "access token".to_owned(),
    }
}

fn backend(message: impl ToString) -> StoreError {
    StoreError::Backend {
        message: message.to_string(),
    }
}

#[async_trait]
impl AuthStore for PgStore {
    async fn put_device(&self, device: &Device) -> Result<(), StoreError> {
        let doc = serde_json::to_string(device).map_err(backend)?;
        // One statement: written only under a branch of the device's organization, and replaced
        // only under the branch it has.
        let done = sqlx::query(
            "INSERT INTO cem_devices (id, owner, key, doc) SELECT $1, $2, NULL, $3::jsonb \
             WHERE EXISTS (SELECT 1 FROM cem_branches WHERE id = $2 AND owner = $4) \
             ON CONFLICT (id) DO UPDATE SET doc = excluded.doc \
             WHERE cem_devices.owner = excluded.owner",
        )
        .bind(device.id.0)
        .bind(device.branch.0)
        .bind(doc)
        .bind(device.organization.0)
        .execute(self.pool())
        .await
        .map_err(map_sqlx)?;
        if done.rows_affected() == 1 {
            return Ok(());
        }
        // Nothing written: say why. A device never changes branch, so this read cannot
        // contradict the statement above.
        let owner: Option<Uuid> = sqlx::query_scalar("SELECT owner FROM cem_devices WHERE id = $1")
            .bind(device.id.0)
            .fetch_optional(self.pool())
            .await
            .map_err(map_sqlx)?;
        match owner {
            Some(owner) if owner != device.branch.0 => Err(StoreError::Conflict {
                what: format!("device {} belongs to another branch", device.id),
            }),
            _ => Err(StoreError::NotFound {
                what: format!(
                    "branch {} of organization {}",
                    device.branch, device.organization
                ),
            }),
        }
    }

    async fn device(&self, id: DeviceId) -> Result<Device, StoreError> {
        let doc: Option<String> =
            sqlx::query_scalar("SELECT doc::text FROM cem_devices WHERE id = $1")
                .bind(id.0)
                .fetch_optional(self.pool())
                .await
                .map_err(map_sqlx)?;
        match doc {
            Some(doc) => decode_device(&doc),
            None => Err(device_not_found(id)),
        }
    }

    async fn devices(&self, branch: BranchId) -> Result<Vec<Device>, StoreError> {
        let docs: Vec<String> =
            sqlx::query_scalar("SELECT doc::text FROM cem_devices WHERE owner = $1 ORDER BY seq")
                .bind(branch.0)
                .fetch_all(self.pool())
                .await
                .map_err(map_sqlx)?;
        docs.iter().map(|d| decode_device(d)).collect()
    }

    async fn delete_device(&self, id: DeviceId) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await.map_err(map_sqlx)?;
        // The device first: its row lock makes a token insert in flight finish (and be deleted
        // below) or wait and find no device.
        let done = sqlx::query("DELETE FROM cem_devices WHERE id = $1")
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(map_sqlx)?;
        if done.rows_affected() == 0 {
            tx.rollback().await.map_err(map_sqlx)?;
            return Err(device_not_found(id));
        }
        sqlx::query(
            "DELETE FROM cem_access_tokens WHERE subject_kind = 'device' AND subject_id = $1",
        )
        .bind(id.0)
        .execute(&mut *tx)
        .await
        .map_err(map_sqlx)?;
        tx.commit().await.map_err(map_sqlx)
    }

    async fn insert_token(&self, token: &AccessToken) -> Result<(), StoreError> {
        // One statement: the row goes in only if the subject exists in the organization; a
        // taken digest is a unique violation.
        let sql = match token.subject {
            Subject::User(_) => concat!(
                "INSERT INTO cem_access_tokens (",
                token_columns!(),
                ") SELECT $1, $2, $3, $4, $5, $6, $7, $8 \
                 WHERE EXISTS (SELECT 1 FROM cem_users WHERE id = $4 AND owner = $2)"
            ),
            Subject::Device(_) => concat!(
                "INSERT INTO cem_access_tokens (",
                token_columns!(),
                ") SELECT $1, $2, $3, d.id, $5, $6, $7, $8 \
                 FROM cem_devices d JOIN cem_branches b ON b.id = d.owner \
                 WHERE d.id = $4 AND b.owner = $2 FOR KEY SHARE OF d"
            ),
        };
        let (kind, subject) = subject_key(&token.subject);
        let done = sqlx::query(sql)
            .bind(&token.digest)
            .bind(token.organization.0)
            .bind(kind)
            .bind(subject)
            .bind(&token.label)
            .bind(token.created_at)
            .bind(token.expires_at)
            .bind(token.revoked_at)
            .execute(self.pool())
            .await
            .map_err(|e| match map_sqlx(e) {
                StoreError::Conflict { .. } => StoreError::Conflict {
                    what: "an access token with this digest exists".to_owned(),
                },
                other => other,
            })?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                what: format!("{kind} {subject} of organization {}", token.organization),
            });
        }
        Ok(())
    }

    async fn token(&self, digest: &str) -> Result<AccessToken, StoreError> {
        let row: Option<TokenRow> = sqlx::query_as(concat!(
            "SELECT ",
            token_columns!(),
            " FROM cem_access_tokens WHERE digest = $1"
        ))
        .bind(digest)
        .fetch_optional(self.pool())
        .await
        .map_err(map_sqlx)?;
        row.map_or_else(|| Err(token_not_found()), decode_token)
    }

    async fn revoke_token(
        &self,
        digest: &str,
        at: DateTime<Utc>,
    ) -> Result<AccessToken, StoreError> {
        let row: Option<TokenRow> = sqlx::query_as(concat!(
            "UPDATE cem_access_tokens SET revoked_at = COALESCE(revoked_at, $2) \
             WHERE digest = $1 RETURNING ",
            token_columns!()
        ))
        .bind(digest)
        .bind(at)
        .fetch_optional(self.pool())
        .await
        .map_err(map_sqlx)?;
        row.map_or_else(|| Err(token_not_found()), decode_token)
    }

    async fn revoke_subject(
        &self,
        subject: &Subject,
        at: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let (kind, id) = subject_key(subject);
        // Valid at `at` as `AccessToken::is_valid_at` reads it: stored instants are whole
        // microseconds, and `at` is sent cut to the microsecond, which gives the same answer.
        // A row revoked by a concurrent call is re-checked after its lock and skipped.
        let done = sqlx::query(
            "UPDATE cem_access_tokens SET revoked_at = $3 \
             WHERE subject_kind = $1 AND subject_id = $2 AND revoked_at IS NULL \
             AND (expires_at IS NULL OR expires_at > $3)",
        )
        .bind(kind)
        .bind(id)
        .bind(at)
        .execute(self.pool())
        .await
        .map_err(map_sqlx)?;
        Ok(done.rows_affected())
    }

    async fn tokens(&self, subject: &Subject) -> Result<Vec<AccessToken>, StoreError> {
        let (kind, id) = subject_key(subject);
        let rows: Vec<TokenRow> = sqlx::query_as(concat!(
            "SELECT ",
            token_columns!(),
            " FROM cem_access_tokens WHERE subject_kind = $1 AND subject_id = $2 ORDER BY seq"
        ))
        .bind(kind)
        .bind(id)
        .fetch_all(self.pool())
        .await
        .map_err(map_sqlx)?;
        rows.into_iter().map(decode_token).collect()
    }
}
