//! `cem serve`: opens the database, loads the demo into an empty one, and serves the API until
//! a signal, finishing the requests in flight.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use cem_bus_local::LocalBus;
use cem_core::chrono::Utc;
use cem_core::{Language, LocalizedText, Organization, OrganizationId, Role, User, UserId};
use cem_http::{AppState, HttpSettings, Stores, SystemClock};
use cem_queue::ServiceOptions;
use cem_store_postgres::{PgBus, PgStore, PgStoreOptions};
use cem_store_sqlite::{SqliteStore, SqliteStoreOptions};
use tracing_subscriber::EnvFilter;

use crate::config::Config;
use crate::demo;

/// Starts logging as configured.
fn init_logging(config: &Config) -> anyhow::Result<()> {
    let filter = EnvFilter::try_new(&config.log).context("parsing the log filter")?;
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let result = if config.log_format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
    result.map_err(|e| anyhow::anyhow!("starting the logs: {e}"))
}

/// The stores of the configured database.
pub(crate) async fn open_stores(config: &Config) -> anyhow::Result<Stores> {
    let url = config.database_url.as_str();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let options = PgStoreOptions::default().max_connections(config.db_connections);
        let store = Arc::new(
            PgStore::connect_with(url, &options)
                .await
                .context("connecting to PostgreSQL")?,
        );
        let bus = Arc::new(
            PgBus::new(&store)
                .await
                .context("listening on PostgreSQL")?,
        );
        Ok(Stores::single(store, bus))
    } else {
        let options = SqliteStoreOptions::new().max_connections(config.db_connections);
        let store = Arc::new(
            SqliteStore::open_with(url, &options)
                .await
                .with_context(|| format!("opening the SQLite database {url}"))?,
        );
        Ok(Stores::single(store, Arc::new(LocalBus::new(4096))))
    }
}

/// Fills an empty database: the demo, or an organization with its first administrator.
async fn first_start(config: &Config, stores: &Stores) -> anyhow::Result<()> {
    if !demo::is_empty(&*stores.org).await? {
        return Ok(());
    }
    if config.demo {
        let started = std::time::Instant::now();
        // Every demo user has the password `demo`: one hash serves them all.
        let hash = cem_http::hash_password("demo").map_err(|e| anyhow::anyhow!("{e}"))?;
        let summary = demo::load(
            &*stores.org,
            &*stores.events,
            &*stores.surveys,
            &*stores.signage,
            &|_| hash.clone(),
            Utc::now(),
        )
        .await
        .context("loading the demo organization")?;
        tracing::info!(
            ?summary,
            secs = started.elapsed().as_secs_f64(),
            "loaded the demo organization; sign in as `admin` with the password `demo`"
        );
        return Ok(());
    }
    let Some(password) = &config.admin_password else {
        tracing::warn!(
            "the database is empty and the demo is off: set CEM_ADMIN_PASSWORD to create the first administrator"
        );
        return Ok(());
    };
    let organization = Organization {
        id: OrganizationId::new(uuid::Uuid::new_v4()),
        name: LocalizedText::single(Language::en(), "Organization"),
        default_language: Language::en(),
    };
    stores.org.put_organization(&organization).await?;
    stores
        .org
        .put_user(&User {
            id: UserId::new(uuid::Uuid::new_v4()),
            organization: organization.id,
            login: config.admin_login.clone(),
            name: "Administrator".into(),
            role: Role::Admin,
            branches: Vec::new(),
            agent: None,
            language: None,
            password_hash: cem_http::hash_password(password).map_err(|e| anyhow::anyhow!("{e}"))?,
            active: true,
        })
        .await?;
    tracing::info!(login = %config.admin_login, "created the first administrator");
    Ok(())
}

/// Serves until SIGINT or SIGTERM.
pub(crate) async fn serve(config: Config) -> anyhow::Result<()> {
    init_logging(&config)?;
    let stores = open_stores(&config).await?;
    first_start(&config, &stores).await?;
    let settings = HttpSettings {
        public_per_minute: config.public_per_minute,
        logins_per_minute: config.logins_per_minute,
        token_lifetime: Duration::from_secs(config.token_hours * 3600),
        body_limit: config.body_limit,
        request_timeout: Duration::from_secs(config.request_timeout_secs),
        cors_origins: config.cors_origins.clone(),
        public_url: config.public_url(),
        ..HttpSettings::default()
    };
    let notifiers = crate::notify::notifiers(&config, Arc::clone(&stores.subscriptions))?;
    let courier = crate::notify::start_courier(Arc::clone(&stores.outbox), notifiers);
    let state = AppState::new(
        stores,
        Arc::new(SystemClock),
        settings,
        ServiceOptions::default(),
    )
    .await
    .map_err(|e| anyhow::anyhow!("loading the branches: {e}"))?;
    let messenger = crate::notify::start_messenger(&state, &config);
    let sweeps = crate::reservations::start_sweeps(&state, config.public_url());
    let surveys = crate::surveys::start_surveys(&state, config.public_url());
    let alerts = start_alerts(&state);
    let visits = crate::customers::start_visits(&state);
    crate::reports::start_reports(&state);
    let app = cem_http::router(state.clone()).merge(cem_web::router(web_settings(&state).await?));
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    tracing::info!("CEM listening on http://{}", listener.local_addr()?);

    let (stopped_tx, stopped_rx) = tokio::sync::oneshot::channel::<()>();
    let stopping = {
        let state = state.clone();
        async move {
            shutdown_signal().await;
            tracing::info!("shutting down: finishing requests in flight");
            state.stop_streams();
            let _ = stopped_tx.send(());
        }
    };
    let server = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(stopping);
    let grace = Duration::from_secs(config.shutdown_grace_secs);
    tokio::select! {
        result = server => result.context("serving")?,
        () = async {
            let _ = stopped_rx.await;
            tokio::time::sleep(grace).await;
        } => tracing::warn!("requests still in flight after {grace:?}; stopping anyway"),
    }
    messenger.abort();
    sweeps.abort();
    surveys.abort();
    alerts.abort();
    visits.abort();
    courier.abort();
    tracing::info!("stopped");
    Ok(())
}

/// What the web pages are told: the home page links to the first organization's branch finder.
async fn web_settings(state: &AppState) -> anyhow::Result<cem_web::WebSettings> {
    let organizations = state.stores().org.organizations().await?;
    Ok(cem_web::WebSettings {
        home_organization: organizations.first().map(|o| o.id.to_string()),
    })
}

/// Looks at every branch's waits every 15 seconds, so a wait that passes its limit between two
/// events raises its alert on the staff streams (events trigger the same check themselves).
fn start_alerts(state: &AppState) -> tokio::task::JoinHandle<()> {
    let state = state.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(15));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            state.check_alerts().await;
        }
    })
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `cem` does on a fresh machine: a new SQLite file gets the demo, the API answers, and
    /// a second start on the same file keeps what is there.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_fresh_sqlite_file_gets_the_demo_and_serves_it() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            database_url: dir.path().join("cem.db").display().to_string(),
            ..Config::default()
        };
        let stores = open_stores(&config).await.unwrap();
        first_start(&config, &stores).await.unwrap();
        let organizations = stores.org.organizations().await.unwrap();
        let branches = stores.org.branches(organizations[0].id).await.unwrap();
        assert_eq!(branches.len(), 3);
        let state = AppState::new(
            stores,
            Arc::new(SystemClock),
            HttpSettings::default(),
            ServiceOptions::default(),
        )
        .await
        .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = cem_http::router(state).into_make_service_with_connect_info::<SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let http = reqwest::Client::new();
        assert!(
            http.get(format!("{base}/ready"))
                .send()
                .await
                .unwrap()
                .status()
                .is_success()
        );
        let login = http
            .post(format!("{base}/api/v1/auth/login"))
            .json(&serde_json::json!({ "login": "admin", "password": "demo" }))
            .send()
            .await
            .unwrap();
        assert!(login.status().is_success());
        for b in &branches {
            let status: serde_json::Value = http
                .get(format!("{base}/api/v1/branches/{}/status", b.id))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert!(status["version"].as_u64().unwrap() > 1_000, "{status}");
        }

        let again = open_stores(&config).await.unwrap();
        first_start(&config, &again).await.unwrap();
        assert_eq!(again.org.organizations().await.unwrap().len(), 1);
    }
}
