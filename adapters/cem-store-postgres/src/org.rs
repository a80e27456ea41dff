//! [`OrgStore`] for [`PgStore`]: one table per kind of record (migration 0002, tables `cem_*`), each
//! record a JSON document next to its id, owner and unique key.

use async_trait::async_trait;
use cem_core::org_store::keys;
use cem_core::{
    Agent, AgentId, Branch, BranchId, ClassId, Counter, CounterId, Customer, CustomerId, OrgStore,
    Organization, OrganizationId, PriorityClass, Service, ServiceId, StoreError, TicketId, User,
    UserId, Visit, VisitChange,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::PgPool;
use sqlx::error::ErrorKind;
use uuid::Uuid;

use crate::PgStore;
use crate::error::map_sqlx;

/// A table of records and what its rows are called in errors.
#[derive(Clone, Copy)]
struct Table {
    name: &'static str,
    what: &'static str,
}

const ORGANIZATIONS: Table = Table {
    name: "cem_organizations",
    what: "organization",
};
const CLASSES: Table = Table {
    name: "cem_priority_classes",
    what: "class",
};
const BRANCHES: Table = Table {
    name: "cem_branches",
    what: "branch",
};
const SERVICES: Table = Table {
    name: "cem_services",
    what: "service",
};
const COUNTERS: Table = Table {
    name: "cem_counters",
    what: "counter",
};
const AGENTS: Table = Table {
    name: "cem_agents",
    what: "agent",
};
const USERS: Table = Table {
    name: "cem_users",
    what: "user",
};
const CUSTOMERS: Table = Table {
    name: "cem_customers",
    what: "customer",
};

/// A customer number's key: unique across the table, so it names the organization.
fn customer_key(organization: OrganizationId, number: &str) -> String {
    format!("{organization}/{}", keys::customer_number(number))
}

impl Table {
    /// Creates or replaces the record `id` of `owner`, in one statement.
    async fn put<T: Serialize>(
        self,
        pool: &PgPool,
        id: Uuid,
        owner: Uuid,
        key: Option<String>,
        record: &T,
    ) -> Result<(), StoreError> {
        let doc = serde_json::to_string(record).map_err(backend)?;
        let sql = format!(
            "INSERT INTO {t} (id, owner, key, doc) VALUES ($1, $2, $3, $4::jsonb) \
             ON CONFLICT (id) DO UPDATE SET key = excluded.key, doc = excluded.doc \
             WHERE {t}.owner = excluded.owner",
            t = self.name
        );
        let done = sqlx::query(&sql)
            .bind(id)
            .bind(owner)
            .bind(key)
            .bind(doc)
            .execute(pool)
            .await
            .map_err(|e| self.map_put(e, owner))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict {
                what: format!("{} {id} belongs to another owner", self.what),
            });
        }
        Ok(())
    }

    fn map_put(self, error: sqlx::Error, owner: Uuid) -> StoreError {
        match &error {
            sqlx::Error::Database(db) if db.kind() == ErrorKind::ForeignKeyViolation => {
                StoreError::NotFound {
                    what: format!("owner {owner} of a {}", self.what),
                }
            }
            _ => map_sqlx(error),
        }
    }

    async fn get<T: DeserializeOwned>(self, pool: &PgPool, id: Uuid) -> Result<T, StoreError> {
        let sql = format!("SELECT doc::text FROM {} WHERE id = $1", self.name);
        let doc: Option<String> = sqlx::query_scalar(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await
            .map_err(map_sqlx)?;
        match doc {
            Some(doc) => decode(&doc),
            None => Err(self.not_found(id)),
        }
    }

    async fn get_by_key<T: DeserializeOwned>(
        self,
        pool: &PgPool,
        key: &str,
    ) -> Result<Option<T>, StoreError> {
        let sql = format!("SELECT doc::text FROM {} WHERE key = $1", self.name);
        let doc: Option<String> = sqlx::query_scalar(&sql)
            .bind(key)
            .fetch_optional(pool)
            .await
            .map_err(map_sqlx)?;
        doc.as_deref().map(decode).transpose()
    }

    /// The records of `owner`, or every record, in the order first put.
    async fn list<T: DeserializeOwned>(
        self,
        pool: &PgPool,
        owner: Option<Uuid>,
    ) -> Result<Vec<T>, StoreError> {
        let docs: Vec<String> = match owner {
            Some(owner) => {
                let sql = format!(
                    "SELECT doc::text FROM {} WHERE owner = $1 ORDER BY seq",
                    self.name
                );
                sqlx::query_scalar(&sql).bind(owner).fetch_all(pool).await
            }
            None => {
                let sql = format!("SELECT doc::text FROM {} ORDER BY seq", self.name);
                sqlx::query_scalar(&sql).fetch_all(pool).await
            }
        }
        .map_err(map_sqlx)?;
        docs.iter().map(|d| decode(d)).collect()
    }

    async fn delete(self, pool: &PgPool, id: Uuid) -> Result<(), StoreError> {
        let sql = format!("DELETE FROM {} WHERE id = $1", self.name);
        let done = sqlx::query(&sql)
            .bind(id)
            .execute(pool)
            .await
            .map_err(map_sqlx)?;
        if done.rows_affected() == 0 {
            return Err(self.not_found(id));
        }
        Ok(())
    }

    fn not_found(self, id: Uuid) -> StoreError {
        StoreError::NotFound {
            what: format!("{} {id}", self.what),
        }
    }
}

fn decode<T: DeserializeOwned>(doc: &str) -> Result<T, StoreError> {
    serde_json::from_str(doc).map_err(|e| backend(format!("unreadable record: {e}")))
}

#[async_trait]
impl OrgStore for PgStore {
    async fn put_organization(&self, organization: &Organization) -> Result<(), StoreError> {
        let id = organization.id.0;
        ORGANIZATIONS
            .put(self.pool(), id, id, None, organization)
            .await
    }

    async fn organization(&self, id: OrganizationId) -> Result<Organization, StoreError> {
        ORGANIZATIONS.get(self.pool(), id.0).await
    }

    async fn organizations(&self) -> Result<Vec<Organization>, StoreError> {
        ORGANIZATIONS.list(self.pool(), None).await
    }

    async fn put_class(
        &self,
        organization: OrganizationId,
        class: &PriorityClass,
    ) -> Result<(), StoreError> {
        let key = Some(keys::class(class));
        CLASSES
            .put(self.pool(), class.id.0, organization.0, key, class)
            .await
    }

    async fn classes(
        &self,
        organization: OrganizationId,
    ) -> Result<Vec<PriorityClass>, StoreError> {
        CLASSES.list(self.pool(), Some(organization.0)).await
    }

    async fn delete_class(&self, id: ClassId) -> Result<(), StoreError> {
        CLASSES.delete(self.pool(), id.0).await
    }

    async fn put_branch(&self, branch: &Branch) -> Result<(), StoreError> {
        BRANCHES
            .put(
                self.pool(),
                branch.id.0,
                branch.organization.0,
                None,
                branch,
            )
            .await
    }

    async fn branch(&self, id: BranchId) -> Result<Branch, StoreError> {
        BRANCHES.get(self.pool(), id.0).await
    }

    async fn branches(&self, organization: OrganizationId) -> Result<Vec<Branch>, StoreError> {
        BRANCHES.list(self.pool(), Some(organization.0)).await
    }

    async fn put_service(&self, branch: BranchId, service: &Service) -> Result<(), StoreError> {
        let key = Some(keys::service(service));
        SERVICES
            .put(self.pool(), service.id.0, branch.0, key, service)
            .await
    }

    async fn services(&self, branch: BranchId) -> Result<Vec<Service>, StoreError> {
        SERVICES.list(self.pool(), Some(branch.0)).await
    }

    async fn delete_service(&self, id: ServiceId) -> Result<(), StoreError> {
        SERVICES.delete(self.pool(), id.0).await
    }

    async fn put_counter(&self, branch: BranchId, counter: &Counter) -> Result<(), StoreError> {
        let key = Some(keys::counter(counter));
        COUNTERS
            .put(self.pool(), counter.id.0, branch.0, key, counter)
            .await
    }

    async fn counters(&self, branch: BranchId) -> Result<Vec<Counter>, StoreError> {
        COUNTERS.list(self.pool(), Some(branch.0)).await
    }

    async fn delete_counter(&self, id: CounterId) -> Result<(), StoreError> {
        COUNTERS.delete(self.pool(), id.0).await
    }

    async fn put_agent(&self, agent: &Agent) -> Result<(), StoreError> {
        AGENTS
            .put(self.pool(), agent.id.0, agent.organization.0, None, agent)
            .await
    }

    async fn agent(&self, id: AgentId) -> Result<Agent, StoreError> {
        AGENTS.get(self.pool(), id.0).await
    }

    async fn agents(&self, organization: OrganizationId) -> Result<Vec<Agent>, StoreError> {
        AGENTS.list(self.pool(), Some(organization.0)).await
    }

    async fn delete_agent(&self, id: AgentId) -> Result<(), StoreError> {
        AGENTS.delete(self.pool(), id.0).await
    }

    async fn put_user(&self, user: &User) -> Result<(), StoreError> {
        let key = Some(keys::user(user));
        USERS
            .put(self.pool(), user.id.0, user.organization.0, key, user)
            .await
    }

    async fn user(&self, id: UserId) -> Result<User, StoreError> {
        USERS.get(self.pool(), id.0).await
    }

    async fn user_by_login(&self, login: &str) -> Result<User, StoreError> {
        USERS
            .get_by_key(self.pool(), &keys::login(login))
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: format!("user {login:?}"),
            })
    }

    async fn users(&self, organization: OrganizationId) -> Result<Vec<User>, StoreError> {
        USERS.list(self.pool(), Some(organization.0)).await
    }

    async fn delete_user(&self, id: UserId) -> Result<(), StoreError> {
        USERS.delete(self.pool(), id.0).await
    }

    async fn put_customer(&self, customer: &Customer) -> Result<(), StoreError> {
        let key = customer
            .number
            .as_deref()
            .map(|n| customer_key(customer.organization, n));
        CUSTOMERS
            .put(
                self.pool(),
                customer.id.0,
                customer.organization.0,
                key,
                customer,
            )
            .await
    }

    async fn customer(&self, id: CustomerId) -> Result<Customer, StoreError> {
        CUSTOMERS.get(self.pool(), id.0).await
    }

    async fn customer_by_number(
        &self,
        organization: OrganizationId,
        number: &str,
    ) -> Result<Customer, StoreError> {
        CUSTOMERS
            .get_by_key(self.pool(), &customer_key(organization, number))
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: format!("customer number {number:?}"),
            })
    }

    async fn apply_visits(&self, changes: &[VisitChange]) -> Result<(), StoreError> {
        if changes.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool().begin().await.map_err(map_sqlx)?;
        for change in changes {
            let ticket = change.ticket().0;
            let visit = match change {
                VisitChange::Issued(visit) => {
                    sqlx::query(
                        "INSERT INTO cem_customer_visits (ticket, customer, issued_at, open, doc) \
                         VALUES ($1, $2, $3, $4, $5::jsonb) ON CONFLICT (ticket) DO NOTHING",
                    )
                    .bind(ticket)
                    .bind(visit.customer.0)
                    .bind(visit.issued_at)
                    .bind(visit.outcome.is_open())
                    .bind(serde_json::to_string(visit).map_err(backend)?)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_sqlx)?;
                    continue;
                }
                other => {
                    // Locked: two instances following the history update a visit in turn.
                    let doc: Option<String> = sqlx::query_scalar(
                        "SELECT doc::text FROM cem_customer_visits WHERE ticket = $1 FOR UPDATE",
                    )
                    .bind(ticket)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(map_sqlx)?;
                    let Some(doc) = doc else { continue };
                    let mut visit: Visit = decode(&doc)?;
                    visit.apply(other);
                    visit
                }
            };
            sqlx::query(
                "UPDATE cem_customer_visits SET open = $2, doc = $3::jsonb WHERE ticket = $1",
            )
            .bind(ticket)
            .bind(visit.outcome.is_open())
            .bind(serde_json::to_string(&visit).map_err(backend)?)
            .execute(&mut *tx)
            .await
            .map_err(map_sqlx)?;
        }
        tx.commit().await.map_err(map_sqlx)
    }

    async fn visits(&self, customer: CustomerId, limit: usize) -> Result<Vec<Visit>, StoreError> {
        let docs: Vec<String> = sqlx::query_scalar(
            "SELECT doc::text FROM cem_customer_visits WHERE customer = $1 \
             ORDER BY issued_at DESC, ticket DESC LIMIT $2",
        )
        .bind(customer.0)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(self.pool())
        .await
        .map_err(map_sqlx)?;
        docs.iter().map(|d| decode(d)).collect()
    }

    async fn open_visits(&self) -> Result<Vec<TicketId>, StoreError> {
        let tickets: Vec<Uuid> =
            sqlx::query_scalar("SELECT ticket FROM cem_customer_visits WHERE open")
                .fetch_all(self.pool())
                .await
                .map_err(map_sqlx)?;
        Ok(tickets.into_iter().map(TicketId::new).collect())
    }
}

fn backend(message: impl ToString) -> StoreError {
    StoreError::Backend {
        message: message.to_string(),
    }
}
