//! CEM's PostgreSQL adapter: the queue event store and the event bus across server instances.
//!
//! - [`PgStore`] implements [`QueueEventStore`](cem_core::QueueEventStore) on a connection pool. `connect` applies the
//!   embedded migrations (tables `cem_queue_events`, `cem_queue_snapshots` and the functions
//!   `cem_append_events` and `cem_append_batch`). The stream version is guarded by a
//!   `UNIQUE (branch, version)` key and global positions are handed out under a
//!   transaction-scoped advisory lock, so they become visible in commit order across any
//!   number of pools and processes.
//! - [`PgStore`] also implements [`OrgStore`](cem_core::OrgStore): one table per kind of record
//!   (`cem_organizations`, `cem_branches`, …), each record a JSONB document beside its id, owner
//!   (a foreign key) and unique key.
//! - [`PgStore`] also implements [`OutboxStore`](cem_core::OutboxStore) (tables
//!   `cem_outbox_messages` and `cem_outbox_cursors`): workers claim due messages with
//!   `FOR UPDATE SKIP LOCKED`, so any number of pools claim side by side without sharing one.
//! - [`PgStore`] also implements [`ContactStore`](cem_core::ContactStore) (table
//!   `cem_contacts`) and [`SubscriptionStore`](cem_core::SubscriptionStore) (table
//!   `cem_webhook_subscriptions`, whose `UNIQUE (organization, url)` makes a second
//!   subscription to one URL a conflict).
//! - [`PgStore`] also implements [`ReservationStore`](cem_core::ReservationStore) (tables
//!   `cem_reservation_plans` and `cem_bookings`): a write that takes a seat first takes its
//!   slot's transaction-scoped advisory lock, so writers of one slot count its seats in turn.
//! - [`PgStore`] also implements [`SurveyStore`](cem_core::SurveyStore) (tables
//!   `cem_surveys`, `cem_survey_invitations`, `cem_survey_responses` and `cem_survey_cases`):
//!   an invitation for a customer first takes their key's transaction-scoped advisory lock, so
//!   passes inviting one customer check the cooldown in turn, and a response marks its
//!   invitation answered with a conditional UPDATE whose row count lets one submission win.
//! - [`PgStore`] also implements [`SignageStore`](cem_core::SignageStore) (tables
//!   `cem_layouts`, `cem_screens`, `cem_playlists`, `cem_news` and `cem_branch_info`): a
//!   screen's foreign key to its layout, in its organization, keeps a layout that screens show
//!   from being deleted, whatever the order of the two clients, and `UNIQUE (device)` binds a
//!   display device to one screen at most.
//! - [`PgStore`] also implements [`ReportStore`](cem_core::ReportStore) (tables
//!   `cem_report_hours` and `cem_report_cursors`): a write moves its cursor with a
//!   conditional statement that holds the cursor row's lock to the commit, so of two
//!   projectors writing from one cursor value one wins; reports sum the hour rows by group in
//!   SQL and merge the wait histograms with `unnest … GROUP BY`.
//! - [`PgBus`] implements [`EventBus`](cem_core::EventBus) with LISTEN/NOTIFY: an event
//!   published on one instance reaches the subscribers of every instance on the same database.
//! - [`testing`] creates throwaway databases for tests against a real server.
//! - A subscriber whose subscription reports [`Delivery::Gap`](cem_core::Delivery::Gap) reads
//!   the history after its last position with
//!   [`QueueEventStoreExt::read_all_after`](cem_core::QueueEventStoreExt::read_all_after).
//!
//! Driver errors map onto [`StoreError`](cem_core::StoreError): a unique violation is `Conflict`, a connection that
//! cannot be had (refused, pool timed out, server shutting down) is `Unavailable`, anything
//! else is `Backend`.
//!
//! # Concurrency and throughput
//! Transactions that append to any stream of one database commit one at a time (the position
//! lock is held until the commit is visible). That is the price of the port's promise that a
//! reader never sees a position appear below one it has seen. To keep it from capping appends
//! at one per commit flush, a store groups the appends its callers make while a transaction is
//! in flight into the next one (group commit, function `cem_append_batch`): each append keeps
//! its own version check and its own all-or-nothing outcome, but a batch shares one commit. An
//! append that finds nothing in flight is written at once, alone. Reads are not affected.
//!
//! # Tests
//! Tests, the conformance suite and the bench run against a real server named by
//! `CEM_TEST_POSTGRES_URL` (an administrator URL such as
//! `postgres://postgres@127.0.0.1:5432/postgres`); each test creates and drops a database of
//! its own. Without the variable at build time the tests are reported as ignored with the
//! reason `CEM_TEST_POSTGRES_URL not set`, and the bench prints that it skipped.
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

mod audit;
mod auth;
mod bus;
mod contact;
mod error;
mod group;
mod integration;
mod org;
mod outbox;
mod report;
mod reservation;
mod signage;
mod store;
mod survey;
pub mod testing;

pub use bus::{PgBus, PgBusOptions};
pub use store::{PgStore, PgStoreOptions};
