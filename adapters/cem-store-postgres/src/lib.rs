//! CEM's PostgreSQL adapter: the queue event store and the event bus across server instances.
//!
//! - [`PgStore`] implements [`QueueEventStore`] on a connection pool. `connect` applies the
//!   embedded migrations (tables `cem_queue_events`, `cem_queue_snapshots` and the function
//!   `cem_append_events`). The stream version is guarded by a `UNIQUE (branch, version)` key and
//!   global positions are handed out under a transaction-scoped advisory lock, so they become
//!   visible in commit order across any number of pools and processes.
//! - [`PgBus`] implements [`EventBus`](cem_core::EventBus) with LISTEN/NOTIFY: an event
//!   published on one instance reaches the subscribers of every instance on the same database.
//! - [`testing`] creates throwaway databases for tests against a real server.
//! - [`catch_up`] reads the global history after a position: what a subscriber does when its
//!   subscription reports [`Delivery::Gap`](cem_core::Delivery::Gap).
//!
//! Driver errors map onto [`StoreError`]: a unique violation is `Conflict`, a connection that
//! cannot be had (refused, pool timed out, server shutting down) is `Unavailable`, anything
//! else is `Backend`.
//!
//! # Concurrency and throughput
//! Appends to all streams of one database commit one at a time (the position lock is held
//! until the commit is visible). That is the price of the port's promise that a reader never
//! sees a position appear below one it has seen; it caps appends at about one per commit flush
//! of the server (hundreds to a few thousand per second), while reads are not affected.
//!
//! # Tests
//! Tests, the conformance suite and the bench run against a real server named by
//! `CEM_TEST_POSTGRES_URL` (an administrator URL such as
//! `postgres://postgres@127.0.0.1:5432/postgres`); each test creates and drops a database of
//! its own. Without the variable they print `skipped: CEM_TEST_POSTGRES_URL not set`.
//!
//! # Example
//! ```no_run
//! use cem_core::{BranchId, EventBus, NewEvent, QueueEventStore, StoreError, chrono::Utc};
//! use cem_store_postgres::{PgBus, PgStore};
//!
//! # async fn example() -> Result<(), StoreError> {
//! let store = PgStore::connect("postgres://postgres@127.0.0.1:5432/cem").await?;
//! let bus = PgBus::new(&store).await?;
//! let branch = BranchId::from_u128(1);
//! let event = NewEvent {
//!     at: Utc::now(),
//!     kind: "ticket_issued".to_owned(),
//!     payload: serde_json::json!({"type": "ticket_issued", "number": "A-001"}),
//! };
//! let recorded = store.append(branch, 0, &[event]).await?;
//! bus.publish(&recorded).await?;
//! # Ok(())
//! # }
//! ```

mod bus;
mod error;
mod store;
pub mod testing;

pub use bus::{PgBus, PgBusOptions};
pub use store::{PgStore, PgStoreOptions};

use cem_core::{QueueEventStore, RecordedEvent, StoreError};

/// Events read per query by [`catch_up`].
const CATCH_UP_PAGE: usize = 512;

/// Every event of the global history after `last_position`, in position order, read page by
/// page: how a subscriber that remembers the last position it handled closes a
/// [`Delivery::Gap`](cem_core::Delivery::Gap).
///
/// Works on any [`QueueEventStore`]; the contract of `read_all` makes it complete (positions
/// become visible in commit order, so nothing appears later below the last one read).
///
/// # Errors
/// Whatever `read_all` returns.
pub async fn catch_up(
    store: &dyn QueueEventStore,
    last_position: u64,
) -> Result<Vec<RecordedEvent>, StoreError> {
    let mut events = Vec::new();
    let mut after = last_position;
    loop {
        let page = store.read_all(after, CATCH_UP_PAGE).await?;
        let full = page.len() == CATCH_UP_PAGE;
        if let Some(last) = page.last() {
            after = last.position;
        }
        events.extend(page);
        if !full {
            return Ok(events);
        }
    }
}
