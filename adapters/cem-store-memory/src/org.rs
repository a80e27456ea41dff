//! [`OrgStore`] for [`MemoryStore`].

use async_trait::async_trait;
use cem_core::org_store::keys;
use cem_core::{
    Agent, AgentId, Branch, BranchId, ClassId, Counter, CounterId, Customer, CustomerId, OrgStore,
    Organization, OrganizationId, PriorityClass, Service, ServiceId, StoreError, TicketId, User,
    UserId, Visit, VisitChange,
};
use uuid::Uuid;

use crate::MemoryStore;

/// The records of one kind, in the order they were first put.
#[derive(Debug)]
pub(crate) struct Table<T> {
    what: &'static str,
    rows: Vec<Row<T>>,
}

#[derive(Debug)]
struct Row<T> {
    id: Uuid,
    owner: Uuid,
    /// The unique key and the scope it is unique in.
    key: Option<(Uuid, String)>,
    record: T,
}

impl<T: Clone> Table<T> {
    pub(crate) const fn new(what: &'static str) -> Self {
        Self {
            what,
            rows: Vec::new(),
        }
    }

    fn contains(&self, id: Uuid) -> bool {
        self.rows.iter().any(|r| r.id == id)
    }

    fn put(
        &mut self,
        id: Uuid,
        owner: Uuid,
        key: Option<(Uuid, String)>,
        record: &T,
    ) -> Result<(), StoreError> {
        if let Some(key) = &key
            && self
                .rows
                .iter()
                .any(|r| r.id != id && r.key.as_ref() == Some(key))
        {
            return Err(StoreError::Conflict {
                what: format!("another {} already has the key {:?}", self.what, key.1),
            });
        }
        let row = Row {
            id,
            owner,
            key,
            record: record.clone(),
        };
        match self.rows.iter_mut().find(|r| r.id == id) {
            Some(existing) if existing.owner != owner => Err(StoreError::Conflict {
                what: format!("{} {id} belongs to another owner", self.what),
            }),
            Some(existing) => {
                *existing = row;
                Ok(())
            }
            None => {
                self.rows.push(row);
                Ok(())
            }
        }
    }

    fn get(&self, id: Uuid) -> Result<T, StoreError> {
        self.rows
            .iter()
            .find(|r| r.id == id)
            .map(|r| r.record.clone())
            .ok_or_else(|| self.not_found(id))
    }

    fn find(&self, key: &(Uuid, String)) -> Option<T> {
        self.rows
            .iter()
            .find(|r| r.key.as_ref() == Some(key))
            .map(|r| r.record.clone())
    }

    fn list(&self, owner: Uuid) -> Vec<T> {
        self.rows
            .iter()
            .filter(|r| r.owner == owner)
            .map(|r| r.record.clone())
            .collect()
    }

    fn all(&self) -> Vec<T> {
        self.rows.iter().map(|r| r.record.clone()).collect()
    }

    fn delete(&mut self, id: Uuid) -> Result<(), StoreError> {
        let before = self.rows.len();
        self.rows.retain(|r| r.id != id);
        if self.rows.len() == before {
            return Err(self.not_found(id));
        }
        Ok(())
    }

    fn not_found(&self, id: Uuid) -> StoreError {
        StoreError::NotFound {
            what: format!("{} {id}", self.what),
        }
    }
}

/// Every table of the organization store.
#[derive(Debug)]
pub(crate) struct OrgTables {
    organizations: Table<Organization>,
    classes: Table<PriorityClass>,
    branches: Table<Branch>,
    services: Table<Service>,
    counters: Table<Counter>,
    agents: Table<Agent>,
    users: Table<User>,
    customers: Table<Customer>,
    /// Visits by ticket, in the order they began.
    visits: Vec<Visit>,
}

impl Default for OrgTables {
    fn default() -> Self {
        Self {
            organizations: Table::new("organization"),
            classes: Table::new("class"),
            branches: Table::new("branch"),
            services: Table::new("service"),
            customers: Table::new("customer"),
            visits: Vec::new(),
            counters: Table::new("counter"),
            agents: Table::new("agent"),
            users: Table::new("user"),
        }
    }
}

/// `Ok` when `table` holds `id`, the owner of a record about to be put.
fn owner<T: Clone>(table: &Table<T>, id: Uuid) -> Result<Uuid, StoreError> {
    if table.contains(id) {
        Ok(id)
    } else {
        Err(table.not_found(id))
    }
}

#[async_trait]
impl OrgStore for MemoryStore {
    async fn put_organization(&self, organization: &Organization) -> Result<(), StoreError> {
        let id = organization.id.0;
        self.inner()
            .org
            .organizations
            .put(id, id, None, organization)
    }

    async fn organization(&self, id: OrganizationId) -> Result<Organization, StoreError> {
        self.inner().org.organizations.get(id.0)
    }

    async fn organizations(&self) -> Result<Vec<Organization>, StoreError> {
        Ok(self.inner().org.organizations.all())
    }

    async fn put_class(
        &self,
        organization: OrganizationId,
        class: &PriorityClass,
    ) -> Result<(), StoreError> {
        let org = &mut self.inner().org;
        let owner = owner(&org.organizations, organization.0)?;
        let key = (owner, keys::class(class));
        org.classes.put(class.id.0, owner, Some(key), class)
    }

    async fn classes(
        &self,
        organization: OrganizationId,
    ) -> Result<Vec<PriorityClass>, StoreError> {
        Ok(self.inner().org.classes.list(organization.0))
    }

    async fn delete_class(&self, id: ClassId) -> Result<(), StoreError> {
        self.inner().org.classes.delete(id.0)
    }

    async fn put_branch(&self, branch: &Branch) -> Result<(), StoreError> {
        let org = &mut self.inner().org;
        let owner = owner(&org.organizations, branch.organization.0)?;
        org.branches.put(branch.id.0, owner, None, branch)
    }

    async fn branch(&self, id: BranchId) -> Result<Branch, StoreError> {
        self.inner().org.branches.get(id.0)
    }

    async fn branches(&self, organization: OrganizationId) -> Result<Vec<Branch>, StoreError> {
        Ok(self.inner().org.branches.list(organization.0))
    }

    async fn put_service(&self, branch: BranchId, service: &Service) -> Result<(), StoreError> {
        let org = &mut self.inner().org;
        let owner = owner(&org.branches, branch.0)?;
        let key = (owner, keys::service(service));
        org.services.put(service.id.0, owner, Some(key), service)
    }

    async fn services(&self, branch: BranchId) -> Result<Vec<Service>, StoreError> {
        Ok(self.inner().org.services.list(branch.0))
    }

    async fn delete_service(&self, id: ServiceId) -> Result<(), StoreError> {
        self.inner().org.services.delete(id.0)
    }

    async fn put_counter(&self, branch: BranchId, counter: &Counter) -> Result<(), StoreError> {
        let org = &mut self.inner().org;
        let owner = owner(&org.branches, branch.0)?;
        let key = (owner, keys::counter(counter));
        org.counters.put(counter.id.0, owner, Some(key), counter)
    }

    async fn counters(&self, branch: BranchId) -> Result<Vec<Counter>, StoreError> {
        Ok(self.inner().org.counters.list(branch.0))
    }

    async fn delete_counter(&self, id: CounterId) -> Result<(), StoreError> {
        self.inner().org.counters.delete(id.0)
    }

    async fn put_agent(&self, agent: &Agent) -> Result<(), StoreError> {
        let org = &mut self.inner().org;
        let owner = owner(&org.organizations, agent.organization.0)?;
        org.agents.put(agent.id.0, owner, None, agent)
    }

    async fn agent(&self, id: AgentId) -> Result<Agent, StoreError> {
        self.inner().org.agents.get(id.0)
    }

    async fn agents(&self, organization: OrganizationId) -> Result<Vec<Agent>, StoreError> {
        Ok(self.inner().org.agents.list(organization.0))
    }

    async fn delete_agent(&self, id: AgentId) -> Result<(), StoreError> {
        self.inner().org.agents.delete(id.0)
    }

    async fn put_user(&self, user: &User) -> Result<(), StoreError> {
        let org = &mut self.inner().org;
        let owner = owner(&org.organizations, user.organization.0)?;
        // Logins are unique across the store: the scope is the same for everyone.
        let key = (Uuid::nil(), keys::user(user));
        org.users.put(user.id.0, owner, Some(key), user)
    }

    async fn user(&self, id: UserId) -> Result<User, StoreError> {
        self.inner().org.users.get(id.0)
    }

    async fn user_by_login(&self, login: &str) -> Result<User, StoreError> {
        self.inner()
            .org
            .users
            .find(&(Uuid::nil(), keys::login(login)))
            .ok_or_else(|| StoreError::NotFound {
                what: format!("user {login:?}"),
            })
    }

    async fn users(&self, organization: OrganizationId) -> Result<Vec<User>, StoreError> {
        Ok(self.inner().org.users.list(organization.0))
    }

    async fn delete_user(&self, id: UserId) -> Result<(), StoreError> {
        self.inner().org.users.delete(id.0)
    }

    async fn put_customer(&self, customer: &Customer) -> Result<(), StoreError> {
        let org = &mut self.inner().org;
        let owner = owner(&org.organizations, customer.organization.0)?;
        let key = customer
            .number
            .as_deref()
            .map(|n| (owner, keys::customer_number(n)));
        org.customers.put(customer.id.0, owner, key, customer)
    }

    async fn customer(&self, id: CustomerId) -> Result<Customer, StoreError> {
        self.inner().org.customers.get(id.0)
    }

    async fn customer_by_number(
        &self,
        organization: OrganizationId,
        number: &str,
    ) -> Result<Customer, StoreError> {
        self.inner()
            .org
            .customers
            .find(&(organization.0, keys::customer_number(number)))
            .ok_or_else(|| StoreError::NotFound {
                what: format!("customer number {number:?}"),
            })
    }

    async fn apply_visits(&self, changes: &[VisitChange]) -> Result<(), StoreError> {
        let visits = &mut self.inner().org.visits;
        for change in changes {
            match change {
                VisitChange::Issued(visit) => {
                    if !visits.iter().any(|v| v.ticket == visit.ticket) {
                        visits.push(visit.clone());
                    }
                }
                other => {
                    if let Some(v) = visits.iter_mut().find(|v| v.ticket == other.ticket()) {
                        v.apply(other);
                    }
                }
            }
        }
        Ok(())
    }

    async fn visits(&self, customer: CustomerId, limit: usize) -> Result<Vec<Visit>, StoreError> {
        let mut found: Vec<Visit> = self
            .inner()
            .org
            .visits
            .iter()
            .filter(|v| v.customer == customer)
            .cloned()
            .collect();
        found.sort_by(|a, b| b.issued_at.cmp(&a.issued_at).then(b.ticket.cmp(&a.ticket)));
        found.truncate(limit);
        Ok(found)
    }

    async fn open_visits(&self) -> Result<Vec<TicketId>, StoreError> {
        Ok(self
            .inner()
            .org
            .visits
            .iter()
            .filter(|v| v.outcome.is_open())
            .map(|v| v.ticket)
            .collect())
    }
}
