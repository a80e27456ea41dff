//! The store conformance suite against PostgreSQL: a fresh database per `open`, one pool per
//! handle. Skipped (visibly) when `CEM_TEST_POSTGRES_URL` is not set.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use cem_core::{
    ContactStore, OrgStore, OutboxStore, QueueEventStore, ReportStore, SignageStore,
    SubscriptionStore,
};
use cem_store_postgres::testing::{TestDatabase, admin_url};
use cem_store_postgres::{PgStore, PgStoreOptions};
use cem_store_testkit::{
    AuthHarness, ContactHarness, Harness, OrgAuthStore, OrgHarness, OutboxHarness, ReportHarness,
    ReservationHarness, ReservationOutboxStore, SignageHarness, SubscriptionHarness, SurveyHarness,
    SurveyOutboxStore,
};

/// Opens handles onto fresh databases; drops them all when the test is over.
struct PgHarness {
    admin_url: String,
    databases: Mutex<Vec<TestDatabase>>,
}

impl PgHarness {
    fn from_env() -> Result<Self, String> {
        Ok(Self {
            admin_url: admin_url()?,
            databases: Mutex::new(Vec::new()),
        })
    }
}

impl PgHarness {
    /// `handles` stores onto one fresh database, each with its own pool, as separate server
    /// instances would hold.
    async fn handles(&self, handles: usize) -> Vec<Arc<PgStore>> {
        let db = TestDatabase::create(&self.admin_url)
            .await
            .expect("create a test database");
        let options = PgStoreOptions::default().max_connections(3);
        let mut stores = Vec::new();
        for _ in 0..handles.max(1) {
            let store = PgStore::connect_with(db.url(), &options)
                .await
                .expect("connect to the test database");
            stores.push(Arc::new(store));
        }
        self.databases.lock().expect("not poisoned").push(db);
        stores
    }
}

#[async_trait]
impl Harness for PgHarness {
    async fn open(&self, handles: usize) -> Vec<Arc<dyn QueueEventStore>> {
        self.handles(handles)
            .await
            .into_iter()
            .map(|s| s as Arc<dyn QueueEventStore>)
            .collect()
    }
}

#[async_trait]
impl OrgHarness for PgHarness {
    async fn open_org(&self) -> Arc<dyn OrgStore> {
        let db = TestDatabase::create(&self.admin_url)
            .await
            .expect("create a test database");
        let store = PgStore::connect_with(db.url(), &PgStoreOptions::default().max_connections(8))
            .await
            .expect("connect to the test database");
        self.databases.lock().expect("not poisoned").push(db);
        Arc::new(store)
    }
}

#[async_trait]
impl AuthHarness for PgHarness {
    async fn open_auth(&self) -> Arc<dyn OrgAuthStore> {
        let db = TestDatabase::create(&self.admin_url)
            .await
            .expect("create a test database");
        let store = PgStore::connect_with(db.url(), &PgStoreOptions::default().max_connections(8))
            .await
            .expect("connect to the test database");
        self.databases.lock().expect("not poisoned").push(db);
        Arc::new(store)
    }
}

#[async_trait]
impl OutboxHarness for PgHarness {
    async fn open_outbox(&self, handles: usize) -> Vec<Arc<dyn OutboxStore>> {
        self.handles(handles)
            .await
            .into_iter()
            .map(|s| s as Arc<dyn OutboxStore>)
            .collect()
    }
}

cem_store_testkit::queue_store_conformance!(
    PgHarness::from_env(),
    ignore_unless(cem_postgres),
    "CEM_TEST_POSTGRES_URL not set"
);

cem_store_testkit::org_store_conformance!(
    PgHarness::from_env(),
    ignore_unless(cem_postgres),
    "CEM_TEST_POSTGRES_URL not set"
);

cem_store_testkit::auth_store_conformance!(
    PgHarness::from_env(),
    ignore_unless(cem_postgres),
    "CEM_TEST_POSTGRES_URL not set"
);

cem_store_testkit::outbox_store_conformance!(
    PgHarness::from_env(),
    ignore_unless(cem_postgres),
    "CEM_TEST_POSTGRES_URL not set"
);

#[async_trait]
impl ContactHarness for PgHarness {
    async fn open_contacts(&self, handles: usize) -> Vec<Arc<dyn ContactStore>> {
        self.handles(handles)
            .await
            .into_iter()
            .map(|s| s as Arc<dyn ContactStore>)
            .collect()
    }
}

cem_store_testkit::contact_store_conformance!(
    PgHarness::from_env(),
    ignore_unless(cem_postgres),
    "CEM_TEST_POSTGRES_URL not set"
);

#[async_trait]
impl SubscriptionHarness for PgHarness {
    async fn open_subscriptions(&self, handles: usize) -> Vec<Arc<dyn SubscriptionStore>> {
        self.handles(handles)
            .await
            .into_iter()
            .map(|s| s as Arc<dyn SubscriptionStore>)
            .collect()
    }
}

cem_store_testkit::subscription_store_conformance!(
    PgHarness::from_env(),
    ignore_unless(cem_postgres),
    "CEM_TEST_POSTGRES_URL not set"
);

#[async_trait]
impl ReservationHarness for PgHarness {
    async fn open_reservations(&self, handles: usize) -> Vec<Arc<dyn ReservationOutboxStore>> {
        self.handles(handles)
            .await
            .into_iter()
            .map(|s| s as Arc<dyn ReservationOutboxStore>)
            .collect()
    }
}

cem_store_testkit::reservation_store_conformance!(
    PgHarness::from_env(),
    ignore_unless(cem_postgres),
    "CEM_TEST_POSTGRES_URL not set"
);

#[async_trait]
impl SurveyHarness for PgHarness {
    async fn open_surveys(&self, handles: usize) -> Vec<Arc<dyn SurveyOutboxStore>> {
        self.handles(handles)
            .await
            .into_iter()
            .map(|s| s as Arc<dyn SurveyOutboxStore>)
            .collect()
    }
}

cem_store_testkit::survey_store_conformance!(
    PgHarness::from_env(),
    ignore_unless(cem_postgres),
    "CEM_TEST_POSTGRES_URL not set"
);

#[async_trait]
impl SignageHarness for PgHarness {
    async fn open_signage(&self, handles: usize) -> Vec<Arc<dyn SignageStore>> {
        self.handles(handles)
            .await
            .into_iter()
            .map(|s| s as Arc<dyn SignageStore>)
            .collect()
    }
}

cem_store_testkit::signage_store_conformance!(
    PgHarness::from_env(),
    ignore_unless(cem_postgres),
    "CEM_TEST_POSTGRES_URL not set"
);

#[async_trait]
impl ReportHarness for PgHarness {
    async fn open_reports(&self, handles: usize) -> Vec<Arc<dyn ReportStore>> {
        self.handles(handles)
            .await
            .into_iter()
            .map(|s| s as Arc<dyn ReportStore>)
            .collect()
    }
}

cem_store_testkit::report_store_conformance!(
    PgHarness::from_env(),
    ignore_unless(cem_postgres),
    "CEM_TEST_POSTGRES_URL not set"
);
