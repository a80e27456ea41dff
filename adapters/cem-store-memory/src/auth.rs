//! [`AuthStore`] for [`MemoryStore`].

use std::collections::HashMap;

use async_trait::async_trait;
use cem_core::chrono::{DateTime, Utc};
use cem_core::{AccessToken, AuthStore, BranchId, Device, DeviceId, OrgStore, StoreError, Subject};

use crate::{MemoryStore, to_micros};

/// The devices and tokens.
#[derive(Debug, Default)]
pub(crate) struct AuthTables {
    /// In the order first put.
    devices: Vec<Device>,
    /// By digest, each with its insertion number (for lists in insertion order).
    tokens: HashMap<String, (u64, AccessToken)>,
    inserted: u64,
}

impl AuthTables {
    fn device(&self, id: DeviceId) -> Option<&Device> {
        self.devices.iter().find(|d| d.id == id)
    }

    /// The tokens of `subject`, in insertion order.
    fn tokens_of(&self, subject: &Subject) -> Vec<&(u64, AccessToken)> {
        let mut tokens: Vec<_> = self
            .tokens
            .values()
            .filter(|(_, t)| t.subject == *subject)
            .collect();
        tokens.sort_unstable_by_key(|(n, _)| *n);
        tokens
    }
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

fn with_micros(token: &AccessToken) -> AccessToken {
    AccessToken {
        created_at: to_micros(token.created_at),
        expires_at: token.expires_at.map(to_micros),
        revoked_at: token.revoked_at.map(to_micros),
        ..token.clone()
    }
}

#[async_trait]
impl AuthStore for MemoryStore {
    async fn put_device(&self, device: &Device) -> Result<(), StoreError> {
        // Branches are never deleted nor moved to another organization, so what this read
        // finds stays true when the device is written under the lock below.
        match OrgStore::branch(self, device.branch).await {
            Ok(branch) if branch.organization == device.organization => {}
            Ok(_) | Err(StoreError::NotFound { .. }) => {
                return Err(StoreError::NotFound {
                    what: format!(
                        "branch {} of organization {}",
                        device.branch, device.organization
                    ),
                });
            }
            Err(e) => return Err(e),
        }
        let auth = &mut self.inner().auth;
        match auth.devices.iter_mut().find(|d| d.id == device.id) {
            Some(existing) if existing.branch != device.branch => Err(StoreError::Conflict {
                what: format!("device {} belongs to another branch", device.id),
            }),
            Some(existing) => {
                existing.clone_from(device);
                Ok(())
            }
            None => {
                auth.devices.push(device.clone());
                Ok(())
            }
        }
    }

    async fn device(&self, id: DeviceId) -> Result<Device, StoreError> {
        self.inner()
            .auth
            .device(id)
            .cloned()
            .ok_or_else(|| device_not_found(id))
    }

    async fn devices(&self, branch: BranchId) -> Result<Vec<Device>, StoreError> {
        Ok(self
            .inner()
            .auth
            .devices
            .iter()
            .filter(|d| d.branch == branch)
            .cloned()
            .collect())
    }

    async fn delete_device(&self, id: DeviceId) -> Result<(), StoreError> {
        let auth = &mut self.inner().auth;
        let before = auth.devices.len();
        auth.devices.retain(|d| d.id != id);
        if auth.devices.len() == before {
            return Err(device_not_found(id));
        }
        auth.tokens
            .retain(|_, (_, t)| t.subject != Subject::Device(id));
        Ok(())
    }

    async fn insert_token(&self, token: &AccessToken) -> Result<(), StoreError> {
        let org = token.organization;
        if let Subject::User(user) = token.subject {
            // Users never move to another organization; one deleted after this read leaves its
            // tokens behind in every store (see `OrgStore::delete_user`).
            match OrgStore::user(self, user).await {
                Ok(u) if u.organization == org => {}
                Ok(_) | Err(StoreError::NotFound { .. }) => {
                    return Err(StoreError::NotFound {
                        what: format!("user {user} of organization {org}"),
                    });
                }
                Err(e) => return Err(e),
            }
        }
        let auth = &mut self.inner().auth;
        if let Subject::Device(device) = token.subject
            && auth.device(device).is_none_or(|d| d.organization != org)
        {
            return Err(StoreError::NotFound {
                what: format!("device {device} of organization {org}"),
            });
        }
        if auth.tokens.contains_key(&token.digest) {
            return Err(StoreError::Conflict {
                what: "an access token with this digest exists".to_owned(),
            });
        }
        auth.inserted += 1;
        let n = auth.inserted;
        auth.tokens
            .insert(token.digest.clone(), (n, with_micros(token)));
        Ok(())
    }

    async fn token(&self, digest: &str) -> Result<AccessToken, StoreError> {
        self.inner()
            .auth
            .tokens
            .get(digest)
            .map(|(_, t)| t.clone())
            .ok_or_else(token_not_found)
    }

    async fn revoke_token(
        &self,
        digest: &str,
        at: DateTime<Utc>,
    ) -> Result<AccessToken, StoreError> {
        let auth = &mut self.inner().auth;
        let (_, token) = auth.tokens.get_mut(digest).ok_or_else(token_not_found)?;
        token.revoked_at.get_or_insert(to_micros(at));
        Ok(token.clone())
    }

    async fn revoke_subject(
        &self,
        subject: &Subject,
        at: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let at = to_micros(at);
        let mut revoked = 0;
        for (_, token) in self.inner().auth.tokens.values_mut() {
            if token.subject == *subject && token.is_valid_at(at) {
                token.revoked_at = Some(at);
                revoked += 1;
            }
        }
        Ok(revoked)
    }

    async fn tokens(&self, subject: &Subject) -> Result<Vec<AccessToken>, StoreError> {
        Ok(self
            .inner()
            .auth
            .tokens_of(subject)
            .into_iter()
            .map(|(_, t)| t.clone())
            .collect())
    }
}
