//! The conformance suite against SQLite: each store a fresh file, each handle its own pool.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use cem_core::{
    ContactStore, OrgStore, OutboxStore, QueueEventStore, ReportStore, SignageStore,
    SubscriptionStore,
};
use cem_store_sqlite::SqliteStore;
use cem_store_testkit::{
    AuthHarness, ContactHarness, Harness, OrgAuthStore, OrgHarness, OutboxHarness, ReportHarness,
    ReservationHarness, ReservationOutboxStore, SignageHarness, SubscriptionHarness, SurveyHarness,
    SurveyOutboxStore,
};
use tempfile::TempDir;

/// Files in one temporary directory, removed when the test's harness is dropped.
struct SqliteHarness {
    dir: TempDir,
    files: AtomicUsize,
}

impl SqliteHarness {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("a temporary directory"),
            files: AtomicUsize::new(0),
        }
    }
}

#[async_trait]
impl Harness for SqliteHarness {
    async fn open(&self, handles: usize) -> Vec<Arc<dyn QueueEventStore>> {
        let n = self.files.fetch_add(1, Ordering::Relaxed);
        let path = self.dir.path().join(format!("store-{n}.db"));
        let path = path.to_str().expect("a UTF-8 temporary path");
        let mut stores: Vec<Arc<dyn QueueEventStore>> = Vec::new();
        for _ in 0..handles.max(1) {
            let store = SqliteStore::open(path).await.expect("open the SQLite file");
            stores.push(Arc::new(store));
        }
        stores
    }
}

cem_store_testkit::queue_store_conformance!(Ok::<_, String>(SqliteHarness::new()));

#[async_trait]
impl OrgHarness for SqliteHarness {
    async fn open_org(&self) -> Arc<dyn OrgStore> {
        let n = self.files.fetch_add(1, Ordering::Relaxed);
        let path = self.dir.path().join(format!("org-{n}.db"));
        let path = path.to_str().expect("a UTF-8 temporary path");
        Arc::new(SqliteStore::open(path).await.expect("open the SQLite file"))
    }
}

cem_store_testkit::org_store_conformance!(Ok::<_, String>(SqliteHarness::new()));

#[async_trait]
impl AuthHarness for SqliteHarness {
    async fn open_auth(&self) -> Arc<dyn OrgAuthStore> {
        let n = self.files.fetch_add(1, Ordering::Relaxed);
        let path = self.dir.path().join(format!("auth-{n}.db"));
        let path = path.to_str().expect("a UTF-8 temporary path");
        Arc::new(SqliteStore::open(path).await.expect("open the SQLite file"))
    }
}

cem_store_testkit::auth_store_conformance!(Ok::<_, String>(SqliteHarness::new()));

#[async_trait]
impl OutboxHarness for SqliteHarness {
    async fn open_outbox(&self, handles: usize) -> Vec<Arc<dyn OutboxStore>> {
        let n = self.files.fetch_add(1, Ordering::Relaxed);
        let path = self.dir.path().join(format!("outbox-{n}.db"));
        let path = path.to_str().expect("a UTF-8 temporary path");
        let mut stores: Vec<Arc<dyn OutboxStore>> = Vec::new();
        for _ in 0..handles.max(1) {
            let store = SqliteStore::open(path).await.expect("open the SQLite file");
            stores.push(Arc::new(store));
        }
        stores
    }
}

cem_store_testkit::outbox_store_conformance!(Ok::<_, String>(SqliteHarness::new()));

impl SqliteHarness {
    /// `handles` stores, each with its own pool, onto one fresh file named after `prefix`.
    async fn stores(&self, prefix: &str, handles: usize) -> Vec<SqliteStore> {
        let n = self.files.fetch_add(1, Ordering::Relaxed);
        let path = self.dir.path().join(format!("{prefix}-{n}.db"));
        let path = path.to_str().expect("a UTF-8 temporary path");
        let mut stores = Vec::new();
        for _ in 0..handles.max(1) {
            stores.push(SqliteStore::open(path).await.expect("open the SQLite file"));
        }
        stores
    }
}

#[async_trait]
impl ContactHarness for SqliteHarness {
    async fn open_contacts(&self, handles: usize) -> Vec<Arc<dyn ContactStore>> {
        let stores = self.stores("contacts", handles).await;
        stores
            .into_iter()
            .map(|s| Arc::new(s) as Arc<dyn ContactStore>)
            .collect()
    }
}

cem_store_testkit::contact_store_conformance!(Ok::<_, String>(SqliteHarness::new()));

#[async_trait]
impl SubscriptionHarness for SqliteHarness {
    async fn open_subscriptions(&self, handles: usize) -> Vec<Arc<dyn SubscriptionStore>> {
        let stores = self.stores("subscriptions", handles).await;
        stores
            .into_iter()
            .map(|s| Arc::new(s) as Arc<dyn SubscriptionStore>)
            .collect()
    }
}

cem_store_testkit::subscription_store_conformance!(Ok::<_, String>(SqliteHarness::new()));

#[async_trait]
impl ReservationHarness for SqliteHarness {
    async fn open_reservations(&self, handles: usize) -> Vec<Arc<dyn ReservationOutboxStore>> {
        let stores = self.stores("reservations", handles).await;
        stores
            .into_iter()
            .map(|s| Arc::new(s) as Arc<dyn ReservationOutboxStore>)
            .collect()
    }
}

cem_store_testkit::reservation_store_conformance!(Ok::<_, String>(SqliteHarness::new()));

#[async_trait]
impl SurveyHarness for SqliteHarness {
    async fn open_surveys(&self, handles: usize) -> Vec<Arc<dyn SurveyOutboxStore>> {
        let stores = self.stores("surveys", handles).await;
        stores
            .into_iter()
            .map(|s| Arc::new(s) as Arc<dyn SurveyOutboxStore>)
            .collect()
    }
}

cem_store_testkit::survey_store_conformance!(Ok::<_, String>(SqliteHarness::new()));

#[async_trait]
impl SignageHarness for SqliteHarness {
    async fn open_signage(&self, handles: usize) -> Vec<Arc<dyn SignageStore>> {
        let stores = self.stores("signage", handles).await;
        stores
            .into_iter()
            .map(|s| Arc::new(s) as Arc<dyn SignageStore>)
            .collect()
    }
}

cem_store_testkit::signage_store_conformance!(Ok::<_, String>(SqliteHarness::new()));

#[async_trait]
impl ReportHarness for SqliteHarness {
    async fn open_reports(&self, handles: usize) -> Vec<Arc<dyn ReportStore>> {
        let stores = self.stores("reports", handles).await;
        stores
            .into_iter()
            .map(|s| Arc::new(s) as Arc<dyn ReportStore>)
            .collect()
    }
}

cem_store_testkit::report_store_conformance!(Ok::<_, String>(SqliteHarness::new()));
