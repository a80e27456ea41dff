//! [`AuthStore`] for [`SqliteStore`]: devices in a table of the organization tables' shape and
//! tokens one row each (migration 0004). Every write is one statement, or one `BEGIN
//! IMMEDIATE` transaction, so writers take turns on SQLite's write lock and each sees the
//! others' work whole.

use async_trait::async_trait;
use cem_core::{
    AccessToken, AuthStore, BranchId, Device, DeviceId, OrganizationId, StoreError, Subject,
};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{SqliteStore, backend, from_micros, map_sqlx};

/// The columns of a token, in [`TokenRow`]'s order.
macro_rules! token_columns {
    () => {
        "digest, organization, subject_kind, subject_id, label, created_at, expires_at, revoked_at"
    };
}

/// digest, organization, subject kind, subject id, label, created, expires, revoked.
type TokenRow = (
    String,
    Vec<u8>,
    String,
    Vec<u8>,
    String,
    i64,
    Option<i64>,
    Option<i64>,
);

/// The subject as stored: its kind and its id.
fn subject_key(subject: &Subject) -> (&'static str, Uuid) {
    match subject {
        Subject::User(id) => ("user", id.0),
        Subject::Device(id) => ("device", id.0),
    }
}

fn uuid(bytes: &[u8], what: &str) -> Result<Uuid, StoreError> {
    Uuid::from_slice(bytes).map_err(|e| backend(format!("corrupt {what} id: {e}")))
}

fn decode_token(
    (digest, organization, kind, subject, label, created, expires, revoked): TokenRow,
) -> Result<AccessToken, StoreError> {
    let id = uuid(&subject, "subject")?;
    let subject = match kind.as_str() {
        "user" => Subject::User(id.into()),
        "device" => Subject::Device(id.into()),
        other => return Err(backend(format!("corrupt subject kind {other:?}"))),
    };
    Ok(AccessToken {
        digest,
        organization: OrganizationId::new(uuid(&organization, "organization")?),
        subject,
        label,
        created_at: from_micros(created)?,
        expires_at: expires.map(from_micros).transpose()?,
        revoked_at: revoked.map(from_micros).transpose()?,
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

#[async_trait]
impl AuthStore for SqliteStore {
    async fn put_device(&self, device: &Device) -> Result<(), StoreError> {
        let doc = serde_json::to_string(device).map_err(backend)?;
        let (id, branch) = (device.id.0, device.branch.0);
        // One statement: written only under a branch of the device's organization, and replaced
        // only under the branch it has.
        let done = sqlx::query(
            "INSERT INTO devices (id, owner, key, doc) SELECT ?1, ?2, NULL, ?3 \
             WHERE EXISTS (SELECT 1 FROM branches WHERE id = ?2 AND owner = ?4) \
             ON CONFLICT (id) DO UPDATE SET doc = excluded.doc \
             WHERE devices.owner = excluded.owner",
        )
        .bind(id.as_bytes().as_slice())
        .bind(branch.as_bytes().as_slice())
        .bind(doc)
        .bind(device.organization.0.as_bytes().as_slice())
        .execute(&self.pool)
        .await
        .map_err(map_sqlx)?;
        if done.rows_affected() == 1 {
            return Ok(());
        }
        // Nothing written: say why. A device never changes branch, so this read cannot
        // contradict the statement above.
        let owner: Option<Vec<u8>> = sqlx::query_scalar("SELECT owner FROM devices WHERE id = ?1")
            .bind(id.as_bytes().as_slice())
            .fetch_optional(&self.pool)
            .await
            .map_err(map_sqlx)?;
        match owner {
            Some(owner) if owner != branch.as_bytes() => Err(StoreError::Conflict {
                what: format!("device {id} belongs to another branch"),
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
        let doc: Option<String> = sqlx::query_scalar("SELECT doc FROM devices WHERE id = ?1")
            .bind(id.0.as_bytes().as_slice())
            .fetch_optional(&self.pool)
            .await
            .map_err(map_sqlx)?;
        match doc {
            Some(doc) => decode_device(&doc),
            None => Err(device_not_found(id)),
        }
    }

    async fn devices(&self, branch: BranchId) -> Result<Vec<Device>, StoreError> {
        let docs: Vec<String> =
            sqlx::query_scalar("SELECT doc FROM devices WHERE owner = ?1 ORDER BY seq")
                .bind(branch.0.as_bytes().as_slice())
                .fetch_all(&self.pool)
                .await
                .map_err(map_sqlx)?;
        docs.iter().map(|d| decode_device(d)).collect()
    }

    async fn delete_device(&self, id: DeviceId) -> Result<(), StoreError> {
        let key = id.0.as_bytes().as_slice();
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(map_sqlx)?;
        let done = sqlx::query("DELETE FROM devices WHERE id = ?1")
            .bind(key)
            .execute(&mut *tx)
            .await
            .map_err(map_sqlx)?;
        if done.rows_affected() == 0 {
            tx.rollback().await.map_err(map_sqlx)?;
            return Err(device_not_found(id));
        }
        sqlx::query("DELETE FROM access_tokens WHERE subject_kind = 'device' AND subject_id = ?1")
            .bind(key)
            .execute(&mut *tx)
            .await
            .map_err(map_sqlx)?;
        tx.commit().await.map_err(map_sqlx)
    }

    async fn insert_token(&self, token: &AccessToken) -> Result<(), StoreError> {
        // One statement: the row goes in only if the subject exists in the organization (so it
        // cannot slip in beside a device being deleted); a taken digest is a unique violation.
        let sql = match token.subject {
            Subject::User(_) => concat!(
                "INSERT INTO access_tokens (",
                token_columns!(),
                ") SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8 \
                 WHERE EXISTS (SELECT 1 FROM users WHERE id = ?4 AND owner = ?2)"
            ),
            Subject::Device(_) => concat!(
                "INSERT INTO access_tokens (",
                token_columns!(),
                ") SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8 \
                 WHERE EXISTS (SELECT 1 FROM devices d JOIN branches b ON b.id = d.owner \
                 WHERE d.id = ?4 AND b.owner = ?2)"
            ),
        };
        let (kind, subject) = subject_key(&token.subject);
        let done = sqlx::query(sql)
            .bind(&token.digest)
            .bind(token.organization.0.as_bytes().as_slice())
            .bind(kind)
            .bind(subject.as_bytes().as_slice())
            .bind(&token.label)
            .bind(token.created_at.timestamp_micros())
            .bind(token.expires_at.map(|t| t.timestamp_micros()))
            .bind(token.revoked_at.map(|t| t.timestamp_micros()))
            .execute(&self.pool)
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
            " FROM access_tokens WHERE digest = ?1"
        ))
        .bind(digest)
        .fetch_optional(&self.pool)
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
            "UPDATE access_tokens SET revoked_at = COALESCE(revoked_at, ?2) WHERE digest = ?1 \
             RETURNING ",
            token_columns!()
        ))
        .bind(digest)
        .bind(at.timestamp_micros())
        .fetch_optional(&self.pool)
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
        // microseconds, so comparing with `at` cut to the microsecond gives the same answer.
        let done = sqlx::query(
            "UPDATE access_tokens SET revoked_at = ?3 \
             WHERE subject_kind = ?1 AND subject_id = ?2 AND revoked_at IS NULL \
             AND (expires_at IS NULL OR expires_at > ?3)",
        )
        .bind(kind)
        .bind(id.as_bytes().as_slice())
        .bind(at.timestamp_micros())
        .execute(&self.pool)
        .await
        .map_err(map_sqlx)?;
        Ok(done.rows_affected())
    }

    async fn tokens(&self, subject: &Subject) -> Result<Vec<AccessToken>, StoreError> {
        let (kind, id) = subject_key(subject);
        let rows: Vec<TokenRow> = sqlx::query_as(concat!(
            "SELECT ",
            token_columns!(),
            " FROM access_tokens WHERE subject_kind = ?1 AND subject_id = ?2 ORDER BY seq"
        ))
        .bind(kind)
        .bind(id.as_bytes().as_slice())
        .fetch_all(&self.pool)
        .await
        .map_err(map_sqlx)?;
        rows.into_iter().map(decode_token).collect()
    }
}
