//! The organization store port: organizations, priority classes, branches, services, counters
//! with their work profiles, agents and users.
//!
//! These are ordinary records, not event streams. The store keeps them and enforces the keys
//! that must be unique (reported as [`StoreError::Conflict`]) and that every record's owner
//! exists; the rules of the model ([`BranchConfig::validate`]) are the caller's to check before
//! writing, since only the caller sees the whole configuration it is changing.

use std::fmt;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::ids::{
    AgentId, BranchId, ClassId, CounterId, CustomerId, OrganizationId, ServiceId, TicketId, UserId,
};
use crate::org::{
    Agent, Branch, BranchConfig, Counter, Customer, Organization, PriorityClass, Service, Visit,
    VisitChange,
};
use crate::store::StoreError;
use crate::text::Language;

/// What a user may do. Devices (kiosks, displays) and the public are not users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything in the organization.
    Admin,
    /// Their branches ([`User::branches`]): configuration, live status, reports.
    BranchManager,
    /// Serving at counters of their branches, as their [`User::agent`].
    Agent,
}

/// A person who signs in.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// Id.
    pub id: UserId,
    /// Organization.
    pub organization: OrganizationId,
    /// Sign-in name, unique across the store regardless of case.
    pub login: String,
    /// Display name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// The branches a branch manager or an agent works with; empty for an admin.
    #[serde(default)]
    pub branches: Vec<BranchId>,
    /// The agent record of a user who serves at counters.
    #[serde(default)]
    pub agent: Option<AgentId>,
    /// Preferred language of the user's pages.
    #[serde(default)]
    pub language: Option<Language>,
    /// The password hash in PHC string format; the store never sees a password.
    pub password_hash: String,
    /// A disabled user cannot sign in.
    pub active: bool,
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("organization", &self.organization)
            .field("login", &self.login)
            .field("role", &self.role)
            .field("branches", &self.branches)
            .field("active", &self.active)
            .finish_non_exhaustive()
    }
}

/// The unique keys that stores enforce, as normalized strings: adapters store and compare them
/// so every backend agrees on what counts as "the same".
pub mod keys {
    use super::{Counter, PriorityClass, Service, User};

    /// A class code, unique within its organization (case-insensitive).
    pub fn class(class: &PriorityClass) -> String {
        class.code.trim().to_lowercase()
    }

    /// A service's display prefix, unique within its branch (case-insensitive).
    pub fn service(service: &Service) -> String {
        service.prefix.trim().to_uppercase()
    }

    /// A counter number, unique within its branch.
    pub fn counter(counter: &Counter) -> String {
        counter.number.to_string()
    }

    /// A login, unique across the store (case-insensitive).
    pub fn user(user: &User) -> String {
        login(&user.login)
    }

    /// A login as it is compared.
    pub fn login(login: &str) -> String {
        login.trim().to_lowercase()
    }

    /// A customer number as it is compared, unique within its organization: spaces removed,
    /// letters in upper case.
    pub fn customer_number(number: &str) -> String {
        number
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_uppercase()
    }
}

/// The organizations and everything configured under them.
///
/// # Behavior (every method)
/// - `put_*` creates a record or replaces the one with the same id. The owner named (the
///   organization of a class, branch, agent or user; the branch of a service or counter) must
///   exist, and a record never moves to another owner.
/// - Lists return records in the order they were first put; replacing a record keeps its place.
/// - Reads of what does not exist: `get`-style methods return [`StoreError::NotFound`]; lists
///   under an unknown owner are empty.
///
/// # Errors (every method)
/// - [`StoreError::NotFound`]: the owner of a record put, or the record read or deleted, does
///   not exist.
/// - [`StoreError::Conflict`]: a unique key is taken by another record (see [`keys`]), or a
///   record put exists under another owner. Nothing was written.
/// - `Unavailable` or `Backend` as for every store.
#[async_trait]
pub trait OrgStore: Send + Sync + fmt::Debug + 'static {
    /// Creates or replaces an organization.
    async fn put_organization(&self, organization: &Organization) -> Result<(), StoreError>;
    /// One organization.
    async fn organization(&self, id: OrganizationId) -> Result<Organization, StoreError>;
    /// Every organization.
    async fn organizations(&self) -> Result<Vec<Organization>, StoreError>;

    /// Creates or replaces a priority class of `organization`; its code is unique there.
    async fn put_class(
        &self,
        organization: OrganizationId,
        class: &PriorityClass,
    ) -> Result<(), StoreError>;
    /// The classes of an organization.
    async fn classes(&self, organization: OrganizationId)
    -> Result<Vec<PriorityClass>, StoreError>;
    /// Deletes a class.
    async fn delete_class(&self, id: ClassId) -> Result<(), StoreError>;

    /// Creates or replaces a branch of `branch.organization`.
    async fn put_branch(&self, branch: &Branch) -> Result<(), StoreError>;
    /// One branch.
    async fn branch(&self, id: BranchId) -> Result<Branch, StoreError>;
    /// The branches of an organization.
    async fn branches(&self, organization: OrganizationId) -> Result<Vec<Branch>, StoreError>;

    /// Creates or replaces a service of `branch`; its prefix is unique there.
    async fn put_service(&self, branch: BranchId, service: &Service) -> Result<(), StoreError>;
    /// The services of a branch.
    async fn services(&self, branch: BranchId) -> Result<Vec<Service>, StoreError>;
    /// Deletes a service.
    async fn delete_service(&self, id: ServiceId) -> Result<(), StoreError>;

    /// Creates or replaces a counter of `branch`, work profile included; its number is unique
    /// there.
    async fn put_counter(&self, branch: BranchId, counter: &Counter) -> Result<(), StoreError>;
    /// The counters of a branch.
    async fn counters(&self, branch: BranchId) -> Result<Vec<Counter>, StoreError>;
    /// Deletes a counter.
    async fn delete_counter(&self, id: CounterId) -> Result<(), StoreError>;

    /// Creates or replaces an agent of `agent.organization`.
    async fn put_agent(&self, agent: &Agent) -> Result<(), StoreError>;
    /// One agent.
    async fn agent(&self, id: AgentId) -> Result<Agent, StoreError>;
    /// The agents of an organization.
    async fn agents(&self, organization: OrganizationId) -> Result<Vec<Agent>, StoreError>;
    /// Deletes an agent.
    async fn delete_agent(&self, id: AgentId) -> Result<(), StoreError>;

    /// Creates or replaces a user of `user.organization`; the login is unique in the store.
    async fn put_user(&self, user: &User) -> Result<(), StoreError>;
    /// One user.
    async fn user(&self, id: UserId) -> Result<User, StoreError>;
    /// The user signing in as `login` (compared as [`keys::login`]).
    async fn user_by_login(&self, login: &str) -> Result<User, StoreError>;
    /// The users of an organization.
    async fn users(&self, organization: OrganizationId) -> Result<Vec<User>, StoreError>;
    /// Deletes a user. Their access tokens stay in the [`AuthStore`](crate::AuthStore), as
    /// the record of past sessions: revoke them first
    /// ([`AuthStore::revoke_subject`](crate::AuthStore::revoke_subject)).
    async fn delete_user(&self, id: UserId) -> Result<(), StoreError>;

    /// Creates or replaces a customer; its number (if any) is unique within the organization
    /// ([`keys::customer_number`]).
    async fn put_customer(&self, customer: &Customer) -> Result<(), StoreError>;
    /// A customer.
    async fn customer(&self, id: CustomerId) -> Result<Customer, StoreError>;
    /// The customer of an organization with this number (compared as
    /// [`keys::customer_number`]).
    async fn customer_by_number(
        &self,
        organization: OrganizationId,
        number: &str,
    ) -> Result<Customer, StoreError>;

    /// Applies changes to the visits of known customers, in order, in one transaction.
    /// `Issued` records a visit unless its ticket has one already; the other changes update
    /// the visit of their ticket and are ignored for a ticket without one. Applying the same
    /// changes again leaves the same visits.
    async fn apply_visits(&self, changes: &[VisitChange]) -> Result<(), StoreError>;
    /// A customer's visits, the latest issued first, at most `limit`.
    async fn visits(&self, customer: CustomerId, limit: usize) -> Result<Vec<Visit>, StoreError>;
    /// The tickets of visits still going on (waiting or called), whatever the customer.
    async fn open_visits(&self) -> Result<Vec<TicketId>, StoreError>;
}

/// Helpers over any [`OrgStore`], built from its required methods.
#[async_trait]
pub trait OrgStoreExt: OrgStore {
    /// Everything the queue of `branch` needs, read in one go. The caller validates it.
    ///
    /// # Errors
    /// `NotFound` for an unknown branch; otherwise what the reads return.
    async fn branch_config(&self, branch: BranchId) -> Result<BranchConfig, StoreError> {
        let branch = self.branch(branch).await?;
        Ok(BranchConfig {
            classes: self.classes(branch.organization).await?,
            services: self.services(branch.id).await?,
            counters: self.counters(branch.id).await?,
            branch,
        })
    }
}

impl<T: OrgStore + ?Sized> OrgStoreExt for T {}
