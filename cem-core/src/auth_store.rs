//! The authentication store port: devices (kiosks, display screens) and the access tokens that
//! users and devices present.
//!
//! A token is a random secret handed to its holder once; the store keeps only its
//! [digest](AccessToken::digest), the hex SHA-256 of the secret, computed by the caller (as
//! password hashes are: the store never sees a secret). Looking a token up by its digest leaks
//! nothing useful through timing, since a digest cannot be turned back into a secret.
//!
//! Authenticating a request is the caller's work: hash the presented secret, read the token
//! ([`AuthStore::token`]), check [`AccessToken::is_valid_at`], then read its subject (the user
//! or the device) and check that it may still act (a user deleted or disabled, a device
//! deleted, authenticates nobody). Deleting a device deletes its tokens; deleting a user
//! ([`OrgStore::delete_user`](crate::OrgStore::delete_user)) does not, so revoke them first
//! with [`AuthStore::revoke_subject`].

use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{BranchId, DeviceId, OrganizationId, UserId};
use crate::store::StoreError;
use crate::text::Language;

/// What a device is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceKind {
    /// A ticket kiosk: customers take tickets and check in on it.
    Kiosk,
    /// A display screen: it shows who is called to which counter.
    Display,
}

/// A device of a branch that signs in with a device token rather than a password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    /// Id.
    pub id: DeviceId,
    /// Organization, the one its branch belongs to.
    pub organization: OrganizationId,
    /// The branch it stands in; a device never moves to another branch.
    pub branch: BranchId,
    /// Kiosk or display.
    pub kind: DeviceKind,
    /// A name for administrators (`Entrance kiosk`).
    pub name: String,
    /// The language it shows first, when not the branch's default.
    #[serde(default)]
    pub language: Option<Language>,
}

/// Who holds a token.
///
/// Serialized externally tagged: `{"user": "<uuid>"}` or `{"device": "<uuid>"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Subject {
    /// A person, signed in with a password.
    User(UserId),
    /// A kiosk or a display.
    Device(DeviceId),
}

/// A revocable bearer token, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessToken {
    /// The lowercase hex SHA-256 of the secret, unique in the store. The store compares digests
    /// byte for byte and never sees the secret.
    pub digest: String,
    /// The organization the subject belongs to.
    pub organization: OrganizationId,
    /// Who holds it.
    pub subject: Subject,
    /// What it was issued for (`Firefox on Windows`, `kiosk setup`), for the holder's list of
    /// sessions.
    pub label: String,
    /// When it was issued.
    pub created_at: DateTime<Utc>,
    /// When it stops being valid, if ever.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was revoked, if it was.
    #[serde(default)]
    pub revoked_at: Option<DateTime<Utc>>,
}

impl AccessToken {
    /// Whether the token authenticates its subject at `now`: it was never revoked and has not
    /// expired (`now` is before `expires_at`).
    ///
    /// A revoked token is invalid whatever instant its revocation records, so a revocation
    /// takes effect at once even on a server whose clock is behind the revoker's.
    pub fn is_valid_at(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|expires| now < expires)
    }
}

/// The devices of branches and the access tokens of users and devices.
///
/// # Behavior (every method)
/// - Instants are kept to the microsecond (finer digits are cut), as the event store keeps
///   them: what a read returns is the instant written, truncated.
/// - Lists return records in the order they were first put or inserted; replacing a device
///   keeps its place.
/// - Reads of what does not exist: `get`-style methods return [`StoreError::NotFound`]; lists
///   under an unknown owner or subject are empty.
/// - The owners named (the organization and branch of a device, the organization and subject of
///   a token) are those of the [`OrgStore`](crate::OrgStore) tables of the same store.
///
/// # Errors (every method)
/// - [`StoreError::NotFound`]: the owner of a record written, or the record read, revoked or
///   deleted, does not exist. Nothing was written.
/// - [`StoreError::Conflict`]: a token's digest is taken, or a device put exists under another
///   branch. Nothing was written.
/// - `Unavailable` or `Backend` as for every store.
///
/// # Concurrency
/// Every method is one atomic step. A token inserted for a device while the device is deleted
/// is either refused (`NotFound`) or deleted with it: no token outlives its device.
/// [`revoke_subject`](Self::revoke_subject) revokes every token of the subject inserted before
/// it was called; tokens inserted while it runs may stay live.
#[async_trait]
pub trait AuthStore: Send + Sync + fmt::Debug + 'static {
    /// Creates or replaces a device.
    ///
    /// # Errors
    /// `NotFound` unless `device.branch` exists and belongs to `device.organization`;
    /// `Conflict` when the device exists under another branch.
    async fn put_device(&self, device: &Device) -> Result<(), StoreError>;

    /// One device.
    ///
    /// # Errors
    /// `NotFound` for an unknown device.
    async fn device(&self, id: DeviceId) -> Result<Device, StoreError>;

    /// The devices of a branch, in the order first put.
    ///
    /// # Errors
    /// `Unavailable` or `Backend`.
    async fn devices(&self, branch: BranchId) -> Result<Vec<Device>, StoreError>;

    /// Deletes a device and every token it holds (revoked or not), in one step.
    ///
    /// # Errors
    /// `NotFound` for an unknown device.
    async fn delete_device(&self, id: DeviceId) -> Result<(), StoreError>;

    /// Inserts a new token, stored as given (instants cut to the microsecond).
    ///
    /// # Errors
    /// `Conflict` when a token with the same digest exists (whatever its subject or state);
    /// `NotFound` unless the subject exists in `token.organization` (a user of that
    /// organization, or a device of one of its branches).
    async fn insert_token(&self, token: &AccessToken) -> Result<(), StoreError>;

    /// The token with this digest, revoked and expired ones included.
    ///
    /// # Errors
    /// `NotFound` for an unknown digest.
    async fn token(&self, digest: &str) -> Result<AccessToken, StoreError>;

    /// Revokes a token at `at`, and returns it as stored.
    ///
    /// # Behavior
    /// Sets `revoked_at` if it is not set; a token revoked again keeps the first instant.
    /// Expired tokens are revoked all the same.
    ///
    /// # Errors
    /// `NotFound` for an unknown digest.
    async fn revoke_token(
        &self,
        digest: &str,
        at: DateTime<Utc>,
    ) -> Result<AccessToken, StoreError>;

    /// Revokes at `at` every token of `subject` that is valid at `at`
    /// ([`AccessToken::is_valid_at`]) and returns how many it revoked: revoked tokens keep
    /// their first instant and expired ones stay as they are. Tokens of other subjects are not
    /// touched; an unknown subject has nothing to revoke.
    ///
    /// # Errors
    /// `Unavailable` or `Backend`.
    async fn revoke_subject(&self, subject: &Subject, at: DateTime<Utc>)
    -> Result<u64, StoreError>;

    /// The tokens of a subject, revoked and expired ones included, in the order inserted.
    ///
    /// # Errors
    /// `Unavailable` or `Backend`.
    async fn tokens(&self, subject: &Subject) -> Result<Vec<AccessToken>, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + secs, 0).unwrap()
    }

    fn token() -> AccessToken {
        AccessToken {
            digest: "ab".repeat(32),
            organization: OrganizationId::from_u128(1),
            subject: Subject::User(UserId::from_u128(2)),
            label: "browser".into(),
            created_at: at(0),
            expires_at: None,
            revoked_at: None,
        }
    }

    #[test]
    fn a_token_is_valid_until_it_expires_or_is_revoked() {
        let mut t = token();
        assert!(t.is_valid_at(at(1_000_000)));
        t.expires_at = Some(at(60));
        assert!(t.is_valid_at(at(59)));
        assert!(!t.is_valid_at(at(60)));
        t.expires_at = None;
        // Revoked "in the future" by a clock ahead of ours: revoked all the same.
        t.revoked_at = Some(at(120));
        assert!(!t.is_valid_at(at(0)));
    }

    #[test]
    fn subjects_and_kinds_serialize_as_documented() {
        let user = Subject::User(UserId::from_u128(2));
        let json = serde_json::to_value(user).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"user": "00000000-0000-0000-0000-000000000002"})
        );
        assert_eq!(serde_json::from_value::<Subject>(json).unwrap(), user);
        let device = Subject::Device(DeviceId::from_u128(3));
        let json = serde_json::to_value(device).unwrap();
        assert!(json.get("device").is_some());
        assert_eq!(
            serde_json::to_value(DeviceKind::Display).unwrap(),
            serde_json::json!("display")
        );
        let t = token();
        let back: AccessToken = serde_json::from_value(serde_json::to_value(&t).unwrap()).unwrap();
        assert_eq!(back, t);
    }
}
