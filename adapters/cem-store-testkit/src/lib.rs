//! # cem-store-testkit
//!
//! The conformance suites every store adapter runs: [`QueueEventStore`] cases in [`cases`],
//! each a plain `async fn(&dyn Harness)`, [`OrgStore`] cases in [`org_cases`], each an
//! `async fn(&dyn OrgHarness)`, [`AuthStore`] cases in [`auth_cases`], each an
//! `async fn(&dyn AuthHarness)`, [`OutboxStore`] cases in [`outbox_cases`], each an
//! `async fn(&dyn OutboxHarness)`, and [`ContactStore`] and [`SubscriptionStore`] cases in
//! [`contact_cases`] and [`subscription_cases`] (`&dyn ContactHarness`,
//! `&dyn SubscriptionHarness`), [`ReservationStore`] cases in [`reservation_cases`]
//! (`&dyn ReservationHarness`), [`SurveyStore`] cases in [`survey_cases`]
//! (`&dyn SurveyHarness`) and [`SignageStore`] cases in [`signage_cases`]
//! (`&dyn SignageHarness`), and [`ReportStore`] cases in [`report_cases`]
//! (`&dyn ReportHarness`). [`queue_store_conformance!`], [`org_store_conformance!`],
//! [`auth_store_conformance!`], [`outbox_store_conformance!`], [`contact_store_conformance!`],
//! [`subscription_store_conformance!`], [`reservation_store_conformance!`],
//! [`survey_store_conformance!`], [`signage_store_conformance!`] and
//! [`report_store_conformance!`] emit one test per case, so
//! an adapter's test file is a line per suite:
//!
//! ```ignore
//! cem_store_testkit::queue_store_conformance!(Ok::<_, String>(MyHarness::new()));
//! cem_store_testkit::org_store_conformance!(Ok::<_, String>(MyHarness::new()));
//! cem_store_testkit::auth_store_conformance!(Ok::<_, String>(MyHarness::new()));
//! cem_store_testkit::outbox_store_conformance!(Ok::<_, String>(MyHarness::new()));
//! ```
//!
//! The expression gives `Result<impl Harness, String>`. A backend that needs a service can add
//! `ignore_unless(CFG), "reason"`: without the cfg (set by the adapter's build script when the
//! service is configured) every case is reported as ignored with that reason, so a machine
//! without the backend says so instead of failing or pretending to pass. An `Err(reason)` from
//! the harness at run time fails the case. CI sets the backends up.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use cem_core::{
    AuditStore, AuthStore, ContactStore, OrgStore, OutboxStore, QueueEventStore, ReportStore,
    ReservationStore, SignageStore, SubscriptionStore, SurveyStore,
};

pub mod auth_cases;
pub mod cases;
pub mod contact_cases;
pub mod org_cases;
pub mod outbox_cases;
pub mod report_cases;
pub mod reservation_cases;
pub mod signage_cases;
pub mod subscription_cases;
pub mod survey_cases;

/// Opens stores for the cases.
#[async_trait]
pub trait Harness: Send + Sync + 'static {
    /// `handles` handles onto one fresh, empty store: separate pools or connections where the
    /// backend has them, as separate server instances would hold.
    async fn open(&self, handles: usize) -> Vec<Arc<dyn QueueEventStore>>;
}

/// Opens organization stores for the cases.
#[async_trait]
pub trait OrgHarness: Send + Sync + 'static {
    /// A fresh, empty store.
    async fn open_org(&self) -> Arc<dyn OrgStore>;
}

/// A store holding both the organization tables and the authentication tables, as the
/// [`auth_cases`] need: a device's branch and a token's subject are organization records; the
/// audit log of administrative changes lives beside them.
pub trait OrgAuthStore: OrgStore + AuthStore + AuditStore {}

impl<T: OrgStore + AuthStore + AuditStore> OrgAuthStore for T {}

/// Opens authentication stores for the cases.
#[async_trait]
pub trait AuthHarness: Send + Sync + 'static {
    /// A fresh, empty store.
    async fn open_auth(&self) -> Arc<dyn OrgAuthStore>;
}

/// Opens outboxes for the cases.
#[async_trait]
pub trait OutboxHarness: Send + Sync + 'static {
    /// `handles` handles onto one fresh, empty outbox: separate pools where the backend has
    /// them, as separate server instances would hold.
    async fn open_outbox(&self, handles: usize) -> Vec<Arc<dyn OutboxStore>>;
}

/// Opens contact stores for the cases.
#[async_trait]
pub trait ContactHarness: Send + Sync + 'static {
    /// `handles` handles onto one fresh, empty store: separate pools where the backend has
    /// them, as separate server instances would hold.
    async fn open_contacts(&self, handles: usize) -> Vec<Arc<dyn ContactStore>>;
}

/// Opens webhook subscription stores for the cases.
#[async_trait]
pub trait SubscriptionHarness: Send + Sync + 'static {
    /// `handles` handles onto one fresh, empty store: separate pools where the backend has
    /// them, as separate server instances would hold.
    async fn open_subscriptions(&self, handles: usize) -> Vec<Arc<dyn SubscriptionStore>>;
}

/// A store holding both the reservation tables and the outbox, as the [`reservation_cases`]
/// need: a booking's messages are enqueued in the transaction that writes it.
pub trait ReservationOutboxStore: ReservationStore + OutboxStore {}

impl<T: ReservationStore + OutboxStore> ReservationOutboxStore for T {}

/// Opens reservation stores for the cases.
#[async_trait]
pub trait ReservationHarness: Send + Sync + 'static {
    /// `handles` handles onto one fresh, empty store: separate pools where the backend has
    /// them, as separate server instances would hold.
    async fn open_reservations(&self, handles: usize) -> Vec<Arc<dyn ReservationOutboxStore>>;
}

/// A store holding both the survey tables and the outbox, as the [`survey_cases`] need: an
/// invitation's and a case's messages are enqueued in the transaction that writes them.
pub trait SurveyOutboxStore: SurveyStore + OutboxStore {}

impl<T: SurveyStore + OutboxStore> SurveyOutboxStore for T {}

/// Opens survey stores for the cases.
#[async_trait]
pub trait SurveyHarness: Send + Sync + 'static {
    /// `handles` handles onto one fresh, empty store: separate pools where the backend has
    /// them, as separate server instances would hold.
    async fn open_surveys(&self, handles: usize) -> Vec<Arc<dyn SurveyOutboxStore>>;
}

/// Opens signage stores for the cases.
#[async_trait]
pub trait SignageHarness: Send + Sync + 'static {
    /// `handles` handles onto one fresh, empty store: separate pools where the backend has
    /// them, as separate server instances would hold.
    async fn open_signage(&self, handles: usize) -> Vec<Arc<dyn SignageStore>>;
}

/// Opens report stores for the cases.
#[async_trait]
pub trait ReportHarness: Send + Sync + 'static {
    /// `handles` handles onto one fresh, empty store: separate pools where the backend has
    /// them, as separate server instances would hold.
    async fn open_reports(&self, handles: usize) -> Vec<Arc<dyn ReportStore>>;
}

/// A harness for stores that live in one handle (in memory): every handle is the same store.
pub struct SharedHarness<F>(F);

impl<F> SharedHarness<F> {
    /// A harness making each fresh store with `make`.
    pub fn new(make: F) -> Self {
        Self(make)
    }
}

impl<F> fmt::Debug for SharedHarness<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SharedHarness")
    }
}

#[async_trait]
impl<F, S> Harness for SharedHarness<F>
where
    F: Fn() -> S + Send + Sync + 'static,
    S: QueueEventStore,
{
    async fn open(&self, handles: usize) -> Vec<Arc<dyn QueueEventStore>> {
        let store: Arc<dyn QueueEventStore> = Arc::new((self.0)());
        vec![store; handles.max(1)]
    }
}

#[async_trait]
impl<F, S> OrgHarness for SharedHarness<F>
where
    F: Fn() -> S + Send + Sync + 'static,
    S: OrgStore,
{
    async fn open_org(&self) -> Arc<dyn OrgStore> {
        Arc::new((self.0)())
    }
}

#[async_trait]
impl<F, S> OutboxHarness for SharedHarness<F>
where
    F: Fn() -> S + Send + Sync + 'static,
    S: OutboxStore,
{
    async fn open_outbox(&self, handles: usize) -> Vec<Arc<dyn OutboxStore>> {
        let store: Arc<dyn OutboxStore> = Arc::new((self.0)());
        vec![store; handles.max(1)]
    }
}

#[async_trait]
impl<F, S> ContactHarness for SharedHarness<F>
where
    F: Fn() -> S + Send + Sync + 'static,
    S: ContactStore,
{
    async fn open_contacts(&self, handles: usize) -> Vec<Arc<dyn ContactStore>> {
        let store: Arc<dyn ContactStore> = Arc::new((self.0)());
        vec![store; handles.max(1)]
    }
}

#[async_trait]
impl<F, S> SubscriptionHarness for SharedHarness<F>
where
    F: Fn() -> S + Send + Sync + 'static,
    S: SubscriptionStore,
{
    async fn open_subscriptions(&self, handles: usize) -> Vec<Arc<dyn SubscriptionStore>> {
        let store: Arc<dyn SubscriptionStore> = Arc::new((self.0)());
        vec![store; handles.max(1)]
    }
}

#[async_trait]
impl<F, S> ReservationHarness for SharedHarness<F>
where
    F: Fn() -> S + Send + Sync + 'static,
    S: ReservationStore + OutboxStore,
{
    async fn open_reservations(&self, handles: usize) -> Vec<Arc<dyn ReservationOutboxStore>> {
        let store: Arc<dyn ReservationOutboxStore> = Arc::new((self.0)());
        vec![store; handles.max(1)]
    }
}

#[async_trait]
impl<F, S> SurveyHarness for SharedHarness<F>
where
    F: Fn() -> S + Send + Sync + 'static,
    S: SurveyStore + OutboxStore,
{
    async fn open_surveys(&self, handles: usize) -> Vec<Arc<dyn SurveyOutboxStore>> {
        let store: Arc<dyn SurveyOutboxStore> = Arc::new((self.0)());
        vec![store; handles.max(1)]
    }
}

#[async_trait]
impl<F, S> SignageHarness for SharedHarness<F>
where
    F: Fn() -> S + Send + Sync + 'static,
    S: SignageStore,
{
    async fn open_signage(&self, handles: usize) -> Vec<Arc<dyn SignageStore>> {
        let store: Arc<dyn SignageStore> = Arc::new((self.0)());
        vec![store; handles.max(1)]
    }
}

#[async_trait]
impl<F, S> ReportHarness for SharedHarness<F>
where
    F: Fn() -> S + Send + Sync + 'static,
    S: ReportStore,
{
    async fn open_reports(&self, handles: usize) -> Vec<Arc<dyn ReportStore>> {
        let store: Arc<dyn ReportStore> = Arc::new((self.0)());
        vec![store; handles.max(1)]
    }
}

#[async_trait]
impl<F, S> AuthHarness for SharedHarness<F>
where
    F: Fn() -> S + Send + Sync + 'static,
    S: OrgStore + AuthStore + AuditStore,
{
    async fn open_auth(&self) -> Arc<dyn OrgAuthStore> {
        Arc::new((self.0)())
    }
}

/// Emits one `#[tokio::test]` per conformance case for the harness expression given, of type
/// `Result<impl Harness, String>`.
#[macro_export]
macro_rules! queue_store_conformance {
    ($harness:expr) => {
        $crate::queue_store_conformance!($harness, ignore_unless(all()), "");
    };
    ($harness:expr, ignore_unless($cfg:meta), $reason:literal) => {
        $crate::queue_store_conformance!(@cases $harness, $cfg, $reason, cases;
            appends_and_reads_back,
            unknown_streams_read_empty,
            a_stale_expected_version_conflicts_and_appends_nothing,
            an_empty_append_checks_the_version,
            global_history_is_in_position_order,
            time_range_reads_are_half_open_and_paged,
            payloads_and_instants_round_trip,
            snapshots_never_move_backwards,
            concurrent_appends_have_one_winner,
            concurrent_counters_never_share_a_ticket,
            a_reloaded_branch_equals_the_branch_before,
            a_stale_instance_catches_up_before_refusing_or_writing,
        );
    };
    (@cases $harness:expr, $cfg:meta, $reason:literal, $module:ident; $($case:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            #[cfg_attr(not($cfg), ignore = $reason)]
            async fn $case() {
                let harness = match $harness {
                    Ok(h) => h,
                    Err(reason) => panic!("no store to test: {}", reason),
                };
                $crate::$module::$case(&harness).await;
            }
        )+
    };
}

/// Emits one `#[tokio::test]` per [`OrgStore`] conformance case for the harness expression
/// given, of type `Result<impl OrgHarness, String>`; the same forms as
/// [`queue_store_conformance!`].
#[macro_export]
macro_rules! org_store_conformance {
    ($harness:expr) => {
        $crate::org_store_conformance!($harness, ignore_unless(all()), "");
    };
    ($harness:expr, ignore_unless($cfg:meta), $reason:literal) => {
        $crate::queue_store_conformance!(@cases $harness, $cfg, $reason, org_cases;
            records_round_trip_in_put_order,
            unknown_records_and_owners_are_not_found,
            unique_keys_conflict,
            records_never_change_owner,
            concurrent_puts_of_one_key_have_one_winner,
            customers_are_found_by_a_number_unique_in_their_organization,
            visits_follow_the_changes_applied_in_order,
            concurrent_visit_changes_lose_nothing,
        );
    };
}

/// Emits one `#[tokio::test]` per [`AuthStore`] conformance case for the harness expression
/// given, of type `Result<impl AuthHarness, String>`; the same forms as
/// [`queue_store_conformance!`].
#[macro_export]
macro_rules! auth_store_conformance {
    ($harness:expr) => {
        $crate::auth_store_conformance!($harness, ignore_unless(all()), "");
    };
    ($harness:expr, ignore_unless($cfg:meta), $reason:literal) => {
        $crate::queue_store_conformance!(@cases $harness, $cfg, $reason, auth_cases;
            devices_and_tokens_round_trip,
            unknown_devices_and_tokens_are_not_found,
            owners_must_exist_and_devices_never_move,
            a_taken_digest_conflicts,
            revoking_a_token_keeps_the_first_instant,
            revoking_a_subject_revokes_its_live_tokens_only,
            deleting_a_device_deletes_its_tokens,
            concurrent_inserts_of_one_digest_have_one_winner,
            revoking_a_subject_during_inserts_misses_no_earlier_token,
            deleting_a_device_during_inserts_leaves_no_token,
            the_audit_log_pages_newest_first_per_organization,
        );
    };
}

/// Emits one `#[tokio::test]` per [`OutboxStore`] conformance case for the harness expression
/// given, of type `Result<impl OutboxHarness, String>`; the same forms as
/// [`queue_store_conformance!`].
#[macro_export]
macro_rules! outbox_store_conformance {
    ($harness:expr) => {
        $crate::outbox_store_conformance!($harness, ignore_unless(all()), "");
    };
    ($harness:expr, ignore_unless($cfg:meta), $reason:literal) => {
        $crate::queue_store_conformance!(@cases $harness, $cfg, $reason, outbox_cases;
            enqueued_messages_read_back_and_enqueueing_is_idempotent,
            cursors_move_with_their_messages_and_never_back,
            claims_take_due_messages_earliest_first_and_lease_them,
            settling_records_outcomes_and_ignores_late_ones,
            dead_messages_are_listed_and_replayed,
            erasing_a_recipient_blanks_its_messages,
            concurrent_claims_never_share_a_message,
            settled_attempts_are_logged_oldest_first,
            a_refused_settle_logs_nothing,
            a_replayed_message_logs_after_its_old_attempts,
            sent_to_lists_a_recipients_messages_latest_first,
            erasing_a_recipient_clears_its_attempts_errors,
        );
    };
}

/// Emits one `#[tokio::test]` per [`ContactStore`] conformance case for the harness expression
/// given, of type `Result<impl ContactHarness, String>`; the same forms as
/// [`queue_store_conformance!`].
#[macro_export]
macro_rules! contact_store_conformance {
    ($harness:expr) => {
        $crate::contact_store_conformance!($harness, ignore_unless(all()), "");
    };
    ($harness:expr, ignore_unless($cfg:meta), $reason:literal) => {
        $crate::queue_store_conformance!(@cases $harness, $cfg, $reason, contact_cases;
            contacts_round_trip_and_saving_replaces,
            contacts_reads_only_tickets_that_have_one,
            erasing_deletes_an_organizations_contacts_by_phone_or_email,
            forgetting_deletes_only_older_contacts,
            concurrent_saves_of_one_ticket_keep_one_contact,
        );
    };
}

/// Emits one `#[tokio::test]` per [`SubscriptionStore`] conformance case for the harness
/// expression given, of type `Result<impl SubscriptionHarness, String>`; the same forms as
/// [`queue_store_conformance!`].
#[macro_export]
macro_rules! subscription_store_conformance {
    ($harness:expr) => {
        $crate::subscription_store_conformance!($harness, ignore_unless(all()), "");
    };
    ($harness:expr, ignore_unless($cfg:meta), $reason:literal) => {
        $crate::queue_store_conformance!(@cases $harness, $cfg, $reason, subscription_cases;
            subscriptions_round_trip_and_putting_replaces,
            a_url_is_unique_in_its_organization,
            subscriptions_belong_to_their_organization,
            subscriptions_are_listed_oldest_first,
            deleting_removes_a_subscription_once,
            concurrent_puts_of_one_url_have_one_winner,
        );
    };
}

/// Emits one `#[tokio::test]` per [`ReservationStore`] conformance case for the harness
/// expression given, of type `Result<impl ReservationHarness, String>`; the same forms as
/// [`queue_store_conformance!`].
#[macro_export]
macro_rules! reservation_store_conformance {
    ($harness:expr) => {
        $crate::reservation_store_conformance!($harness, ignore_unless(all()), "");
    };
    ($harness:expr, ignore_unless($cfg:meta), $reason:literal) => {
        $crate::queue_store_conformance!(@cases $harness, $cfg, $reason, reservation_cases;
            plans_are_put_replaced_listed_and_deleted,
            bookings_round_trip_by_id_and_by_code,
            a_code_is_unique_in_its_organization,
            an_existing_id_conflicts,
            a_full_slot_refuses_seats_but_takes_the_waitlist,
            cancelling_frees_the_seat,
            a_stale_revision_changes_nothing,
            an_update_keeps_what_identifies_the_booking,
            rescheduling_into_a_full_slot_changes_nothing,
            offering_a_waitlisted_booking_checks_capacity,
            messages_are_enqueued_only_with_their_write,
            bookings_of_a_branch_by_start_then_creation_then_id,
            holder_bookings_match_customer_phone_or_email,
            erasing_a_holder_blanks_name_phone_and_email,
            concurrent_inserts_take_exactly_the_free_seats,
            concurrent_updates_of_one_revision_have_one_winner,
            concurrent_offers_of_one_seat_have_one_winner,
        );
    };
}

/// Emits one `#[tokio::test]` per [`SurveyStore`] conformance case for the harness expression
/// given, of type `Result<impl SurveyHarness, String>`; the same forms as
/// [`queue_store_conformance!`].
#[macro_export]
macro_rules! survey_store_conformance {
    ($harness:expr) => {
        $crate::survey_store_conformance!($harness, ignore_unless(all()), "");
    };
    ($harness:expr, ignore_unless($cfg:meta), $reason:literal) => {
        $crate::queue_store_conformance!(@cases $harness, $cfg, $reason, survey_cases;
            survey_versions_are_stored_one_after_another,
            a_survey_stays_in_its_organization,
            surveys_lists_latest_versions_by_name_then_id,
            invitations_round_trip_by_token,
            an_existing_invitation_id_or_token_conflicts,
            a_customer_in_their_cooldown_is_not_invited_again,
            invitation_messages_are_enqueued_only_with_their_write,
            concurrent_invitations_of_one_customer_have_one_winner,
            an_invitation_takes_one_response,
            concurrent_submits_for_one_invitation_have_one_winner,
            a_response_and_its_case_are_stored_all_or_nothing,
            responses_are_filtered_and_ordered_by_submission,
            invitations_made_counts_a_half_open_window,
            a_case_update_needs_the_next_revision_and_keeps_its_identity,
            case_messages_are_enqueued_only_with_their_write,
            concurrent_case_updates_of_one_revision_have_one_winner,
            cases_are_filtered_by_branch_status_and_deadline,
            erasing_a_reply_to_clears_responses_and_cases,
            instants_are_kept_to_the_microsecond,
        );
    };
}

/// Emits one `#[tokio::test]` per [`SignageStore`] conformance case for the harness
/// expression given, of type `Result<impl SignageHarness, String>`; the same forms as
/// [`queue_store_conformance!`].
#[macro_export]
macro_rules! signage_store_conformance {
    ($harness:expr) => {
        $crate::signage_store_conformance!($harness, ignore_unless(all()), "");
    };
    ($harness:expr, ignore_unless($cfg:meta), $reason:literal) => {
        $crate::queue_store_conformance!(@cases $harness, $cfg, $reason, signage_cases;
            layouts_round_trip_and_putting_replaces,
            screens_round_trip_by_id_branch_and_device,
            playlists_round_trip_and_putting_replaces,
            news_round_trip_and_list_by_publication_then_id,
            branch_info_round_trips_with_exact_coordinates,
            lists_come_by_name_then_id,
            records_stay_in_their_organization,
            unknown_records_are_not_found,
            a_device_is_one_screens_at_most,
            a_screen_needs_a_layout_of_its_organization,
            a_layout_in_use_is_not_deleted,
            concurrent_screens_and_deletes_of_one_layout_never_orphan_a_screen,
            concurrent_puts_of_one_device_have_one_winner,
            news_instants_are_kept_to_the_microsecond,
        );
    };
}

/// Emits one `#[tokio::test]` per [`ReportStore`] conformance case for the harness
/// expression given, of type `Result<impl ReportHarness, String>`; the same forms as
/// [`queue_store_conformance!`].
#[macro_export]
macro_rules! report_store_conformance {
    ($harness:expr) => {
        $crate::report_store_conformance!($harness, ignore_unless(all()), "");
    };
    ($harness:expr, ignore_unless($cfg:meta), $reason:literal) => {
        $crate::queue_store_conformance!(@cases $harness, $cfg, $reason, report_cases;
            a_fresh_store_has_no_rows_and_cursors_at_zero,
            rows_are_summed_by_every_grouping,
            ranges_are_half_open_on_local_hours,
            a_write_replaces_whole_branch_days,
            a_stale_cursor_conflicts_and_writes_nothing,
            two_projectors_count_every_event_once,
        );
    };
}

/// Instants the cases share.
mod fixtures {
    use cem_core::chrono::{DateTime, Duration, Utc};

    /// A fixed instant with microseconds, which stores must keep.
    pub(crate) fn t0() -> DateTime<Utc> {
        "2026-11-30T08:00:00.123456Z"
            .parse()
            .expect("valid instant")
    }

    /// `n` seconds.
    pub(crate) fn secs(n: i64) -> Duration {
        Duration::seconds(n)
    }
}
