//! Reports at scale: every few seconds the report projection reads the queue events written
//! since its cursor and writes the branch-days they change into the report store's hourly
//! aggregates, which KPI reports then read instead of the events (see `cem_http`'s reports
//! module). Several instances may each run it: the cursor's compare-and-set lets one write at
//! a time.

use std::sync::Arc;
use std::time::Duration;

use cem_http::{AppState, ReportProjector, report_spec};

/// How often the projection reads new events.
const EVERY: Duration = Duration::from_secs(5);

/// Events read per page (one write of the changed branch-days per page).
const PAGE: usize = 2_000;

/// Runs the projection every few seconds, in a task of its own, while the server runs.
pub(crate) fn start_reports(state: &AppState) {
    let stores = state.stores();
    let mut projector = ReportProjector::new(
        Arc::clone(&stores.events),
        Arc::clone(&stores.reports),
        PAGE,
    );
    let state = state.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let spec = match report_spec(&state).await {
                Ok(spec) => spec,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the branches for reports; retrying");
                    continue;
                }
            };
            match projector.catch_up(&spec).await {
                Ok(caught) if caught.events > 0 => tracing::debug!(
                    events = caught.events,
                    cursor = caught.cursor,
                    "report aggregates updated"
                ),
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "cannot update the report aggregates; retrying")
                }
            }
        }
    });
}
