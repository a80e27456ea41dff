//! Customers' visits, followed from the queue's history every second, so staff see a
//! customer's earlier visits before calling them.

use std::time::Duration;

use cem_http::AppState;
use cem_report::visits::VisitFollower;
use tokio::task::JoinHandle;

/// The name of the visits' cursor in the outbox.
pub(crate) const VISITS_CURSOR: &str = "visits";

/// How often new events are read.
const EVERY: Duration = Duration::from_secs(1);

/// Events read per page at most.
const PAGE: usize = 1000;

/// Follows the history until the returned task is aborted.
pub(crate) fn start_visits(state: &AppState) -> JoinHandle<()> {
    let state = state.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut follower = None;
        loop {
            tick.tick().await;
            if let Err(e) = catch_up(&state, &mut follower).await {
                // The follower may have moved past what was written: start again from the store.
                follower = None;
                tracing::warn!(error = %e, "cannot follow customers' visits; retrying");
            }
        }
    })
}

/// Applies every event after the cursor to the visits, a page at a time, moving the cursor
/// after each page (the changes are idempotent, so a page applied twice does no harm).
pub(crate) async fn catch_up(
    state: &AppState,
    follower: &mut Option<VisitFollower>,
) -> anyhow::Result<()> {
    let stores = state.stores();
    let follower = match follower {
        Some(f) => f,
        None => follower.insert(VisitFollower::new(stores.org.open_visits().await?)),
    };
    loop {
        let cursor = stores.outbox.cursor(VISITS_CURSOR).await?;
        let page = stores.events.read_all(cursor, PAGE).await?;
        let Some(last) = page.last().map(|e| e.position) else {
            return Ok(());
        };
        let changes = follower.changes(&page, |branch, service| {
            let config = state.queue().config(branch)?;
            config.service(service).map(|s| s.prefix.clone())
        })?;
        stores.org.apply_visits(&changes).await?;
        stores
            .outbox
            .enqueue(&[], state.now(), Some((VISITS_CURSOR, last)))
            .await?;
        if page.len() < PAGE {
            return Ok(());
        }
    }
}
