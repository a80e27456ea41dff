//! Service-level alerts pushed to staff, and the live status of a branch.
//!
//! The server keeps one [`AlertTracker`] per branch (edge-triggered, with the hysteresis of
//! `cem_report::live`). It reads the branch's [`LiveStatus`] and updates the tracker:
//! - after every event of the branch: a task of [`AppState`] follows the live hub, so events
//!   appended through any instance count; events that arrive together are read as one update
//!   per branch;
//! - when [`AppState::check_alerts`] is called, for every branch the server knows: waits grow
//!   without events, so a server calls it on a timer (every 15 s or so);
//! - when someone reads `GET /api/v1/branches/{branch}/live`, so what it lists agrees with the
//!   stream.
//!
//! Each change (`raised` or `cleared`) goes out as an `alert` message on the staff streams of
//! the branch (`/api/v1/branches/{branch}/events`), never on a screen's or the public's. The
//! thresholds are each service's target wait, the optional `alert_wait_secs` of
//! [`HttpSettings`](crate::HttpSettings) for every service, and, when `alert_unstaffed` is set,
//! tickets waiting with no open counter for them.
//!
//! Each instance keeps its own trackers and tells its own clients: the trackers of two
//! instances read the same events, so a client sees each alert once whichever instance it is
//! connected to (the timer may make one instance notice a wait a few seconds before another).
//! A restarted server starts with no alert active and raises again those still broken.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::{Path, State};
use cem_core::BranchId;
use cem_report::{Alert, AlertChange, AlertTracker, LiveStatus, Thresholds};
use serde::Serialize;
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::state::{AppState, HttpSettings};

/// An `alert` message ready to send to the staff streams of a branch.
#[derive(Debug)]
pub(crate) struct AlertMessage {
    /// The branch whose streams it goes to.
    pub(crate) branch: BranchId,
    /// Its JSON.
    pub(crate) data: String,
}

/// The body of an `alert` message: `change` (`raised` or `cleared`) and the alert's fields
/// (`branch`, `service`, `kind`, `limit_secs`, `longest_wait_secs`, `waiting`, `at`).
#[derive(Debug, Serialize)]
struct AlertBody<'a> {
    change: &'static str,
    #[serde(flatten)]
    alert: &'a Alert,
}

fn body(change: &AlertChange) -> String {
    let (change, alert) = match change {
        AlertChange::Raised(a) => ("raised", a),
        AlertChange::Cleared(a) => ("cleared", a),
    };
    serde_json::to_string(&AlertBody { change, alert }).unwrap_or_default()
}

/// The server's alert trackers and the channel of their changes.
#[derive(Debug)]
pub(crate) struct Alerts {
    thresholds: Thresholds,
    /// One tracker per branch; its lock is held from reading the status to sending the
    /// changes, so two checks of a branch never interleave.
    trackers: Mutex<HashMap<BranchId, Arc<tokio::sync::Mutex<AlertTracker>>>>,
    sender: broadcast::Sender<Arc<AlertMessage>>,
}

impl Alerts {
    /// No alert active, thresholds from the settings.
    pub(crate) fn new(settings: &HttpSettings) -> Self {
        Self {
            thresholds: Thresholds {
                targets: true,
                absolute_wait_secs: settings.alert_wait_secs,
                unstaffed: settings.alert_unstaffed,
                ..Thresholds::default()
            },
            trackers: Mutex::new(HashMap::new()),
            sender: broadcast::channel(1024).0,
        }
    }

    /// The alert changes from now.
    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Arc<AlertMessage>> {
        self.sender.subscribe()
    }

    fn tracker(&self, branch: BranchId) -> Arc<tokio::sync::Mutex<AlertTracker>> {
        let mut trackers = self.trackers.lock().unwrap_or_else(|p| p.into_inner());
        Arc::clone(trackers.entry(branch).or_default())
    }
}

impl AppState {
    /// Reads the live status of every branch this server knows and updates its alerts, sending
    /// what changed to the staff streams. Waits grow without events, so a server calls this on
    /// a timer, every 15 seconds or so (events themselves update the alerts as they come).
    /// Errors of single branches are logged and the others checked all the same.
    pub async fn check_alerts(&self) {
        let branches: Vec<BranchId> = self
            .0
            .branches
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .copied()
            .collect();
        for branch in branches {
            if let Err(error) = self.check_branch_alerts(branch, None).await {
                tracing::warn!(%error, %branch, "cannot check the branch's alerts");
            }
        }
    }

    /// Reads the live status of `branch` now (from its state as this server holds it when it
    /// reflects `version`, else caught up with the store) and updates its alerts; returns the
    /// status and the branch's active alerts.
    pub(crate) async fn check_branch_alerts(
        &self,
        branch: BranchId,
        version: Option<u64>,
    ) -> Result<(LiveStatus, Vec<Alert>), ApiError> {
        let alerts = &self.0.alerts;
        let tracker = alerts.tracker(branch);
        let mut tracker = tracker.lock().await;
        let now = self.now();
        let of = |q: &cem_queue::BranchQueue| LiveStatus::of(q, now);
        let status = match version {
            Some(v) => self.queue().read_at(branch, v, of).await?,
            None => self.queue().read(branch, of).await?,
        };
        for change in tracker.update(&status, &alerts.thresholds, now) {
            // Nobody listening is not an error.
            let _ = alerts.sender.send(Arc::new(AlertMessage {
                branch,
                data: body(&change),
            }));
        }
        let active = tracker
            .active()
            .filter(|a| a.branch == branch)
            .cloned()
            .collect();
        Ok((status, active))
    }

    /// Follows the live hub and checks the alerts of each branch an event came for. The task
    /// ends when the state is dropped.
    pub(crate) fn watch_alerts(&self) {
        let weak = Arc::downgrade(&self.0);
        let mut rx = self.0.hub.subscribe();
        tokio::spawn(async move {
            loop {
                // What arrived together is one update per branch, at its newest version.
                let mut due: HashMap<BranchId, u64> = HashMap::new();
                let mut everything = false;
                match rx.recv().await {
                    Ok(e) => {
                        due.insert(e.branch, e.version);
                    }
                    Err(RecvError::Lagged(_)) => everything = true,
                    Err(RecvError::Closed) => return,
                }
                loop {
                    match rx.try_recv() {
                        Ok(e) => {
                            let v = due.entry(e.branch).or_default();
                            *v = (*v).max(e.version);
                        }
                        Err(TryRecvError::Lagged(_)) => everything = true,
                        Err(TryRecvError::Empty | TryRecvError::Closed) => break,
                    }
                }
                let Some(inner) = weak.upgrade() else { return };
                let state = AppState(inner);
                if everything {
                    state.check_alerts().await;
                    continue;
                }
                for (branch, version) in due {
                    // A branch of another instance this one has not loaded yet is skipped:
                    // the next check after it is known covers it.
                    if let Err(error) = state.check_branch_alerts(branch, Some(version)).await {
                        tracing::debug!(%error, %branch, "cannot check the branch's alerts");
                    }
                }
            }
        });
    }
}

/// A branch right now, as managers and agents watch it, with its active alerts.
#[derive(Debug, Serialize, ToSchema)]
pub struct LiveView {
    /// The status: per service (`service`, `prefix`, `waiting`, `longest_wait_secs`,
    /// `oldest`, `estimated_wait_secs`, `target_wait_secs`, `open_counters`), and the
    /// branch's `waiting`, `longest_wait_secs` and counters open, paused, closed and busy. An
    /// appointment ticket waits from its appointment, not from its early arrival.
    #[schema(value_type = Object)]
    pub status: LiveStatus,
    /// The alerts raised and not cleared: `service`, `kind` (`target_exceeded`,
    /// `threshold_exceeded` or `unstaffed`), `limit_secs`, `longest_wait_secs` and `waiting`
    /// as when raised, and `at`, when raised.
    #[schema(value_type = Vec<Object>)]
    pub alerts: Vec<Alert>,
}

/// The live status of a branch with its active alerts (the same the staff stream announces
/// as `alert` messages).
#[utoipa::path(get, path = "/api/v1/branches/{branch}/live", tag = "reports",
    params(("branch" = String, Path)),
    responses((status = 200, body = LiveView), (status = 403, body = crate::Problem),
        (status = 404, body = crate::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn live(
    State(state): State<AppState>,
    Path(branch): Path<BranchId>,
) -> Result<Json<LiveView>, ApiError> {
    let (status, alerts) = state.check_branch_alerts(branch, None).await?;
    Ok(Json(LiveView { status, alerts }))
}
