//! # cem-core
//!
//! The foundation every CEM crate shares: newtype [ids], the [organization model](org)
//! (organizations, branches, services, counters with work profiles, agents, customers, priority
//! classes), [localized text](text), [time] (the [`Clock`] port, opening hours, business
//! days), the domain [event envelope](event), the storage and transport [ports](store)
//! ([`QueueEventStore`], [`EventBus`], [`OrgStore`](org_store), [`AuthStore`](auth_store) for
//! devices and access tokens) and shared [errors](error). [`reservation`] holds the records of
//! appointments: the [`ReservationPlan`] of a service at a branch and the [`Booking`]; [`survey`] the records of
//! surveys, invitations, responses and closed-loop cases; [`signage`] those of screens, layouts,
//! playlists, news and branches' public information.
//!
//! This crate does no IO: no runtime, no database, no system clock.
//!
//! ```
//! use cem_core::{Language, LocalizedText, ServiceId};
//!
//! let name = LocalizedText::single(Language::en(), "Deposits").with(Language::fa(), "واریز");
//! assert_eq!(name.get(&Language::fa(), &Language::en()), Some("واریز"));
//! let id = ServiceId::from_u128(7);
//! assert_eq!(id, ServiceId::from_u128(7));
//! ```

pub mod audit;
pub mod auth_store;
pub mod contact;
pub mod error;
pub mod event;
pub mod ids;
pub mod integration;
pub mod notify;
pub mod org;
pub mod org_store;
pub mod outbox;
pub mod report_store;
pub mod reservation;
pub mod reservation_store;
pub mod signage;
pub mod signage_store;
pub mod store;
pub mod survey;
pub mod survey_store;
pub mod task;
pub mod text;
pub mod time;

pub use audit::{AuditEntry, AuditStore, RecordedAudit};
pub use auth_store::{AccessToken, AuthStore, Device, DeviceKind, Subject};
pub use contact::{Contact, ContactStore};
pub use error::ValidationError;
pub use event::EventEnvelope;
pub use ids::{
    AgentId, BookingId, BranchId, CaseId, ClassId, CounterId, CustomerId, DeviceId, InvitationId,
    LayoutId, MessageId, NewsId, OrganizationId, PlaylistId, ResponseId, ScreenId, ServiceId,
    SubscriptionId, SurveyId, TicketId, UserId,
};
pub use integration::{SubscriptionStore, WebhookSubscription};
pub use notify::{Channel, Notifier, OutboundMessage, SendError};
pub use org::{
    Agent, Branch, BranchConfig, CallingPolicy, Counter, Customer, Organization, PriorityClass,
    ProfileService, QueueSettings, Service, Visit, VisitChange, VisitOutcome, WorkProfile,
};
pub use org_store::{OrgStore, OrgStoreExt, Role, User};
pub use outbox::{Attempt, OutboxEntry, OutboxState, OutboxStore, Outcome};
pub use report_store::{
    CURSOR_MOVED, HourFigures, HourKey, HourRow, LocalRange, ReportBatch, ReportBy, ReportGroup,
    ReportInputError, ReportKey, ReportQuery, ReportStore,
};
pub use reservation::{
    Booking, BookingCode, BookingHolder, BookingState, Closure, DateOverride, LocalTimeRange,
    PlanBreak, ReservationPlan,
};
pub use reservation_store::{CODE_TAKEN, HolderKey, ReservationStore, SLOT_FULL, STALE};
pub use signage::{
    Area, BranchInfo, Content, GeoPoint, Holiday, Layout, News, Playlist, PlaylistItem, Priority,
    Schedule, Screen, Targets, Zone, ZoneKind,
};
pub use signage_store::{DEVICE_TAKEN, LAYOUT_IN_USE, SignageStore};
pub use store::{
    Capabilities, Delivery, EventBus, NewEvent, QueueEventStore, QueueEventStoreExt, RecordedEvent,
    Snapshot, StoreError, Subscription,
};
pub use survey::{
    AfterService, Answer, AnswerValue, Case, CaseReason, CaseStatus, CesDirection, Choice,
    Condition, ConditionTest, Invitation, InvitationSource, Question, QuestionKind, ReplyTo,
    Response, SentimentLabel, Survey, TextAnalysis, Triggers, VisitRef,
};
pub use survey_store::{ALREADY_ANSWERED, COOLDOWN, CaseFilter, ResponseFilter, SurveyStore};
pub use task::{Background, BackgroundTask};
pub use text::{Language, LocalizedText};
pub use time::{Clock, Entropy, ManualClock, OpeningHours, OpeningInterval, business_day};

pub use async_trait::async_trait;
pub use chrono;
pub use chrono_tz;
pub use serde_json;
