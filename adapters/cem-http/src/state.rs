//! The shared state of every request: stores, the queue service, the live hub, settings.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use cem_core::chrono::{DateTime, Utc};
use cem_core::{
    AuditStore, AuthStore, Background, BackgroundTask, BranchConfig, BranchId, Clock, ContactStore,
    Entropy, EventBus, OrgStore, OrgStoreExt, OrganizationId, OutboxStore, QueueEventStore,
    ReportStore, ReservationStore, SignageStore, SubscriptionStore, SurveyStore,
};
use cem_queue::{BranchQueue, Command, QueueService, ServiceError, ServiceOptions};
use cem_reservation::ReservationService;
use cem_survey::text::LexiconAnalyzer;
use cem_survey::{CaseRules, SurveyService};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::error::ApiError;
use crate::live::Hub;

/// The system clock, for servers.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// The operating system's randomness, for servers: booking codes and survey tokens are their
/// records' secrets.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemEntropy;

impl Entropy for SystemEntropy {
    fn fill(&self, bytes: &mut [u8]) {
        // Without randomness no code would be secret: better no booking than a guessable one.
        if let Err(e) = getrandom::fill(bytes) {
            panic!("the system gives no randomness for codes and tokens: {e}");
        }
    }
}

/// How often a server looks for configuration changes made through other instances.
pub(crate) const FOLLOW_CHANGES_EVERY: Duration = Duration::from_secs(2);

/// Runs the queue service's background work (snapshots of large branches) on tokio's blocking
/// pool, off the threads that serve requests.
#[derive(Debug)]
struct BlockingPool(tokio::runtime::Handle);

impl Background for BlockingPool {
    fn run(&self, task: BackgroundTask) {
        let handle = self.0.clone();
        self.0.spawn_blocking(move || handle.block_on(task));
    }
}

/// Settings of the HTTP layer; build them with `..HttpSettings::default()`.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Public calls (no token) allowed per client address and minute, with a burst of the same
    /// size (default 60).
    pub public_per_minute: u32,
    /// Sign-in attempts allowed per client address and minute (default 10).
    pub logins_per_minute: u32,
    /// Lifetime of a user's token (default 12 hours).
    pub token_lifetime: Duration,
    /// Largest request body accepted (default 64 KiB).
    pub body_limit: usize,
    /// Time allowed for a request, streams excepted (default 10 s).
    pub request_timeout: Duration,
    /// Origins allowed to call the API from a browser; empty allows none but the server's own.
    pub cors_origins: Vec<String>,
    /// Most events replayed to a live client resuming from an old position; beyond it the
    /// client is told to reload (default 10,000).
    pub resume_limit: usize,
    /// The server's public address, for the links in messages to customers (default
    /// `http://127.0.0.1:8080`).
    pub public_url: String,
    /// When a response opens a case, and how soon it must be resolved.
    pub case_rules: CaseRules,
    /// Fewer responses than this and an agent's or a counter's survey figures are hidden
    /// (default 5).
    pub min_group: u32,
    /// A limit on the longest wait of every service, seconds, past which staff are alerted,
    /// besides each service's own target wait (default none).
    pub alert_wait_secs: Option<u32>,
    /// Whether tickets waiting with no open counter for their service alert staff (default
    /// no: before the first counter opens in the morning every service would).
    pub alert_unstaffed: bool,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            public_per_minute: 60,
            logins_per_minute: 10,
            token_lifetime: Duration::from_secs(12 * 3600),
            body_limit: 64 * 1024,
            request_timeout: Duration::from_secs(10),
            cors_origins: Vec::new(),
            resume_limit: 10_000,
            public_url: "http://127.0.0.1:8080".to_owned(),
            case_rules: CaseRules::default(),
            min_group: 5,
            alert_wait_secs: None,
            alert_unstaffed: false,
        }
    }
}

/// The stores the API works on. One backend usually implements them all; they are separate
/// so a vendor can mix.
#[derive(Debug, Clone)]
pub struct Stores {
    /// Queue event streams.
    pub events: Arc<dyn QueueEventStore>,
    /// Organizations and their configuration.
    pub org: Arc<dyn OrgStore>,
    /// Devices and tokens.
    pub auth: Arc<dyn AuthStore>,
    /// The audit log.
    pub audit: Arc<dyn AuditStore>,
    /// Messages waiting to leave, and their delivery record.
    pub outbox: Arc<dyn OutboxStore>,
    /// Customers' contacts for their tickets' messages.
    pub contacts: Arc<dyn ContactStore>,
    /// Integrations' webhook subscriptions.
    pub subscriptions: Arc<dyn SubscriptionStore>,
    /// Reservation plans and bookings.
    pub reservations: Arc<dyn ReservationStore>,
    /// Surveys, invitations, responses and cases.
    pub surveys: Arc<dyn SurveyStore>,
    /// Screens, layouts, playlists, news and the public information of branches.
    pub signage: Arc<dyn SignageStore>,
    /// Hourly report aggregates and their projection's cursor.
    pub reports: Arc<dyn ReportStore>,
    /// The event bus between instances (or within one).
    pub bus: Arc<dyn EventBus>,
}

impl Stores {
    /// Every store from one backend that implements them all (every CEM store adapter).
    pub fn single<S>(store: Arc<S>, bus: Arc<dyn EventBus>) -> Self
    where
        S: QueueEventStore
            + OrgStore
            + AuthStore
            + AuditStore
            + OutboxStore
            + ContactStore
            + SubscriptionStore
            + ReservationStore
            + SurveyStore
            + SignageStore
            + ReportStore,
    {
        Self {
            events: store.clone(),
            org: store.clone(),
            auth: store.clone(),
            audit: store.clone(),
            outbox: store.clone(),
            contacts: store.clone(),
            subscriptions: store.clone(),
            reservations: store.clone(),
            surveys: store.clone(),
            signage: store.clone(),
            reports: store,
            bus,
        }
    }
}

/// What every handler reaches: cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState(pub(crate) Arc<Inner>);

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) stores: Stores,
    pub(crate) queue: Arc<QueueService>,
    pub(crate) reservations: ReservationService,
    pub(crate) surveys: SurveyService,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) settings: HttpSettings,
    /// The organization of every known branch.
    pub(crate) branches: RwLock<HashMap<BranchId, OrganizationId>>,
    pub(crate) hub: Hub,
    /// Service-level alerts of the branches, for staff streams.
    pub(crate) alerts: crate::reports::alerts::Alerts,
    pub(crate) public_limiter: DefaultKeyedRateLimiter<IpAddr>,
    pub(crate) login_limiter: DefaultKeyedRateLimiter<IpAddr>,
    /// Principals of recently used tokens.
    pub(crate) principals: crate::auth::Principals,
    pub(crate) metrics: metrics_exporter_prometheus::PrometheusHandle,
    /// Set when the server stops: live streams end so in-flight requests can finish.
    pub(crate) stopping: tokio::sync::watch::Sender<bool>,
}

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN))
}

impl AppState {
    /// Assembles the state and loads every branch of every organization into the queue service.
    ///
    /// # Errors
    /// A store error, or a stored branch whose configuration does not validate.
    pub async fn new(
        stores: Stores,
        clock: Arc<dyn Clock>,
        settings: HttpSettings,
        queue_options: ServiceOptions,
    ) -> Result<Self, ApiError> {
        let queue = Arc::new(
            QueueService::new(
                Arc::clone(&stores.events),
                Some(Arc::clone(&stores.bus)),
                queue_options,
            )
            .with_background(Arc::new(BlockingPool(tokio::runtime::Handle::current()))),
        );
        let hub = Hub::start(
            Arc::clone(&stores.events),
            Arc::clone(&stores.bus),
            Arc::clone(&queue),
        );
        let reservations = ReservationService::new(
            Arc::clone(&stores.reservations),
            Arc::clone(&stores.org),
            Arc::clone(&clock),
            Arc::new(SystemEntropy),
        );
        let surveys = SurveyService::new(
            Arc::clone(&stores.surveys),
            Arc::new(LexiconAnalyzer::default()),
            Arc::clone(&clock),
            Arc::new(SystemEntropy),
            settings.case_rules.clone(),
        );
        let state = Self(Arc::new(Inner {
            queue,
            reservations,
            surveys,
            clock,
            branches: RwLock::new(HashMap::new()),
            hub,
            public_limiter: DefaultKeyedRateLimiter::keyed(per_minute(settings.public_per_minute)),
            login_limiter: DefaultKeyedRateLimiter::keyed(per_minute(settings.logins_per_minute)),
            principals: Default::default(),
            metrics: crate::ops::recorder(),
            stopping: tokio::sync::watch::Sender::new(false),
            alerts: crate::reports::alerts::Alerts::new(&settings),
            settings,
            stores,
        }));
        // What the audit logs say before the branches are read: a change after this is followed.
        let mut seen = HashMap::new();
        state.changed_organizations(&mut seen).await?;
        for org in state.0.stores.org.organizations().await? {
            for branch in state.0.stores.org.branches(org.id).await? {
                state.reload_branch(branch.id).await?;
            }
        }
        state.follow_changes(seen);
        state.watch_alerts();
        Ok(state)
    }

    /// Every [`FOLLOW_CHANGES_EVERY`], reloads the branches of each organization whose audit
    /// log moved and whose configuration differs from the one in use: a change made through
    /// another instance sharing the stores reaches this one within that time. The task ends
    /// when the state is dropped.
    fn follow_changes(&self, mut seen: HashMap<OrganizationId, u64>) {
        let weak = Arc::downgrade(&self.0);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(FOLLOW_CHANGES_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tick.tick().await;
                let Some(inner) = weak.upgrade() else { return };
                let state = Self(inner);
                let changed = match state.changed_organizations(&mut seen).await {
                    Ok(changed) => changed,
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot read the audit logs; retrying");
                        continue;
                    }
                };
                for org in changed {
                    if let Err(e) = state.refresh_organization(org).await {
                        tracing::warn!(error = %e, %org, "cannot reload an organization's branches");
                    }
                }
            }
        });
    }

    /// The organizations whose newest audit entry is not the one in `seen`, which is updated.
    async fn changed_organizations(
        &self,
        seen: &mut HashMap<OrganizationId, u64>,
    ) -> Result<Vec<OrganizationId>, ApiError> {
        let mut changed = Vec::new();
        for org in self.0.stores.org.organizations().await? {
            let newest = self.0.stores.audit.audit(org.id, None, 1).await?;
            let newest = newest.first().map_or(0, |a| a.seq);
            if seen.insert(org.id, newest) != Some(newest) {
                changed.push(org.id);
            }
        }
        Ok(changed)
    }

    /// Hands the queue service each branch of `org` whose stored configuration differs from
    /// the one it uses.
    async fn refresh_organization(&self, org: OrganizationId) -> Result<(), ApiError> {
        for branch in self.0.stores.org.branches(org).await? {
            let config = self.0.stores.org.branch_config(branch.id).await?;
            if self.0.queue.config(branch.id).as_deref() != Some(&config) {
                tracing::info!(branch = %branch.id, "configuration changed elsewhere; reloading");
                self.install(config)?;
            }
        }
        Ok(())
    }

    /// The current instant.
    pub fn now(&self) -> DateTime<Utc> {
        self.0.clock.now()
    }

    /// The queue service.
    pub fn queue(&self) -> &Arc<QueueService> {
        &self.0.queue
    }

    /// The reservation service.
    pub fn reservations(&self) -> &ReservationService {
        &self.0.reservations
    }

    /// Surveys over the stores, with the closed loop's rules.
    pub fn surveys(&self) -> &SurveyService {
        &self.0.surveys
    }

    /// The stores.
    pub fn stores(&self) -> &Stores {
        &self.0.stores
    }

    /// Reads a branch's configuration from the organization store and hands it to the queue
    /// service (after a change of services, counters or queue rules).
    ///
    /// # Errors
    /// `NotFound`, a store error, or `invalid_config`.
    pub async fn reload_branch(&self, branch: BranchId) -> Result<BranchConfig, ApiError> {
        let config = self.0.stores.org.branch_config(branch).await?;
        self.install(config.clone())?;
        Ok(config)
    }

    /// Hands a branch's configuration to the queue service.
    fn install(&self, config: BranchConfig) -> Result<(), ApiError> {
        config.validate()?;
        let (branch, organization) = (config.branch.id, config.branch.organization);
        self.0.queue.add_branch(config)?;
        self.0
            .branches
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(branch, organization);
        Ok(())
    }

    /// Ends every live stream, so a graceful shutdown waits only for ordinary requests.
    pub fn stop_streams(&self) {
        self.0.stopping.send_replace(true);
    }

    /// The organization of a branch: known to this server, or found in the store (a branch
    /// another instance created), or `None`.
    pub(crate) async fn find_branch_organization(
        &self,
        branch: BranchId,
    ) -> Result<Option<OrganizationId>, ApiError> {
        if let Some(org) = self.branch_organization(branch) {
            return Ok(Some(org));
        }
        match self.reload_branch(branch).await {
            Ok(config) => Ok(Some(config.branch.organization)),
            Err(e) if e.status() == axum::http::StatusCode::NOT_FOUND => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Runs a queue command now, then `f` on the branch's state right after it. A service or
    /// counter the queue does not know may have been added through another instance: the
    /// branch's configuration is read again and the command retried once.
    pub(crate) async fn execute<R>(
        &self,
        branch: BranchId,
        command: &Command,
        f: impl Fn(&BranchQueue) -> R,
    ) -> Result<R, ApiError> {
        let queue = &self.0.queue;
        match queue.execute_then(branch, command, self.now(), &f).await {
            Ok((_, answer)) => Ok(answer),
            Err(ServiceError::Queue(e))
                if matches!(
                    e.code(),
                    "unknown_service" | "unknown_counter" | "unknown_class"
                ) =>
            {
                self.reload_branch(branch).await?;
                Ok(queue.execute_then(branch, command, self.now(), &f).await?.1)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The organization of a branch known to this server.
    pub(crate) fn branch_organization(&self, branch: BranchId) -> Option<OrganizationId> {
        self.0
            .branches
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&branch)
            .copied()
    }
}
