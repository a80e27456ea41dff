//! The organization model: organizations, branches, services, counters with work profiles,
//! agents, customers and priority classes.
//!
//! Durations are whole seconds in fields named `*_secs`: configuration files stay readable and
//! the serialized form is the same in every language a client may be written in.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::error::ValidationError;
use crate::ids::{
    AgentId, BranchId, ClassId, CounterId, CustomerId, OrganizationId, ServiceId, TicketId,
};
use crate::text::{Language, LocalizedText};
use crate::time::OpeningHours;

/// An organization (tenant) with many branches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Organization {
    /// Id.
    pub id: OrganizationId,
    /// Display name.
    pub name: LocalizedText,
    /// Language used when nothing else is chosen.
    pub default_language: Language,
}

/// A priority class of customers, such as `vip`, `priority` (elderly, disabled) or `normal`.
/// Classes belong to an organization and are shared by all its branches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriorityClass {
    /// Id.
    pub id: ClassId,
    /// Short stable code (`vip`).
    pub code: String,
    /// Display name.
    pub name: LocalizedText,
    /// Rank: 1 is served first under the `strict` policy, then 2, and so on.
    pub rank: u16,
    /// Relative weight (at least 1) for the `interleave` and `weighted_wait` policies.
    pub weight: u32,
}

/// Per-branch rules of the queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct QueueSettings {
    /// Recalls allowed for a called ticket; one more recall makes it a no-show.
    pub recall_limit: u8,
    /// An appointment ticket may be called this long before its appointment time.
    pub appointment_early_secs: u32,
    /// A customer arriving later than this after the appointment time queues as a walk-in.
    pub appointment_grace_secs: u32,
    /// Smoothing factor of the running mean service time per service and counter: the weight
    /// of the newest observation once there are more than `1 / alpha` (before that, a plain
    /// mean), in (0, 1].
    ///
    /// Small values keep waiting-time estimates unbiased: a queue grows long precisely after a
    /// run of slow services, so a fast-moving mean overestimates the waits of long queues. In
    /// an M/M/4 simulation at 87.5 % load the bias for 21 to 50 tickets ahead is about +23 % at
    /// 0.1 and +5 % at the default 0.005.
    pub service_time_alpha: f64,
    /// Smoothing factor of the running inter-arrival time per service and class, used to
    /// foresee better classes arriving while a ticket waits; same rules as above.
    pub arrival_rate_alpha: f64,
    /// A customer who left a contact is told their turn is near once at most this many
    /// tickets are expected to be called before theirs.
    pub turn_near_ahead: u32,
    /// … or once their estimated wait is this short, whichever comes first (0: by position
    /// only).
    pub turn_near_wait_secs: u32,
}

impl Default for QueueSettings {
    fn default() -> Self {
        Self {
            recall_limit: 2,
            appointment_early_secs: 10 * 60,
            appointment_grace_secs: 10 * 60,
            service_time_alpha: 0.005,
            arrival_rate_alpha: 0.02,
            turn_near_ahead: 3,
            turn_near_wait_secs: 5 * 60,
        }
    }
}

/// A branch of an organization.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Branch {
    /// Id.
    pub id: BranchId,
    /// Owning organization.
    pub organization: OrganizationId,
    /// Display name.
    pub name: LocalizedText,
    /// IANA time zone; business days and opening hours are read in it.
    pub time_zone: Tz,
    /// Weekly opening plan.
    #[serde(default)]
    pub opening_hours: OpeningHours,
    /// Queue rules.
    #[serde(default)]
    pub queue: QueueSettings,
}

/// A service offered at a branch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Service {
    /// Id.
    pub id: ServiceId,
    /// Display prefix of its ticket numbers (`A` gives `A-042`).
    pub prefix: String,
    /// Display name.
    pub name: LocalizedText,
    /// Expected service time, the starting point of the running average.
    pub expected_service_secs: u32,
    /// Target waiting time: the service level is the share called within it.
    pub target_wait_secs: u32,
    /// Waiting past this escalates a ticket ahead of every class (anti-starvation).
    #[serde(default)]
    pub max_wait_secs: Option<u32>,
    /// Tickets that may be issued per business day.
    #[serde(default)]
    pub daily_cap: Option<u32>,
    /// Whether appointments can be booked for it.
    #[serde(default)]
    pub takes_appointments: bool,
}

/// How a counter chooses between priority classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallingPolicy {
    /// The best-ranked class with a waiting ticket always goes first (non-preemptive priority).
    #[default]
    Strict,
    /// Weighted round robin between classes by their weights (2 VIP : 1 normal), so none starves.
    Interleave,
    /// Highest `class weight × service weight × seconds waited` first (aging).
    WeightedWait,
}

/// One service in a work profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileService {
    /// The service.
    pub service: ServiceId,
    /// Rank: 1 is the counter's first choice; equal ranks go to the longest waiting.
    #[serde(default = "one_u16")]
    pub rank: u16,
    /// Weight (at least 1) for the `weighted_wait` policy.
    #[serde(default = "one_u32")]
    pub weight: u32,
}

fn one_u16() -> u16 {
    1
}

fn one_u32() -> u32 {
    1
}

/// What a counter serves and how it calls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkProfile {
    /// The services it serves.
    pub services: Vec<ProfileService>,
    /// The classes it takes; `None` takes every class (a VIP counter lists only `vip`).
    #[serde(default)]
    pub classes: Option<Vec<ClassId>>,
    /// How it chooses between classes.
    #[serde(default)]
    pub policy: CallingPolicy,
}

impl WorkProfile {
    /// Every listed service at rank 1 and weight 1, every class, the given policy.
    pub fn serving(services: impl IntoIterator<Item = ServiceId>, policy: CallingPolicy) -> Self {
        Self {
            services: services
                .into_iter()
                .map(|service| ProfileService {
                    service,
                    rank: 1,
                    weight: 1,
                })
                .collect(),
            classes: None,
            policy,
        }
    }

    /// Whether the profile takes tickets of `class`.
    pub fn takes_class(&self, class: ClassId) -> bool {
        self.classes.as_ref().is_none_or(|c| c.contains(&class))
    }
}

/// A counter (service point).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Counter {
    /// Id.
    pub id: CounterId,
    /// Number shown to customers ("counter 3").
    pub number: u16,
    /// Optional display name ("Cash desk").
    #[serde(default)]
    pub name: Option<LocalizedText>,
    /// What it serves.
    pub profile: WorkProfile,
}

/// An agent (employee serving at counters).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Agent {
    /// Id.
    pub id: AgentId,
    /// Organization.
    pub organization: OrganizationId,
    /// Display name.
    pub name: String,
    /// Branches where the agent may work.
    pub branches: Vec<BranchId>,
}

/// A customer known to the organization. Personal data stays here; queue events carry only the id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    /// Id.
    pub id: CustomerId,
    /// Organization.
    pub organization: OrganizationId,
    /// The organization's own customer number (looked up at the kiosk).
    pub number: Option<String>,
    /// The class the customer's tickets take by default (a VIP customer's `vip`).
    pub class: Option<ClassId>,
    /// Preferred language.
    pub language: Option<Language>,
}

/// One visit of a known customer: a ticket issued with the customer's id, followed through
/// the queue. Kept for staff, who see a customer's earlier visits before calling them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Visit {
    /// The ticket.
    pub ticket: TicketId,
    /// The customer.
    pub customer: CustomerId,
    /// The branch.
    pub branch: BranchId,
    /// The service (the last one, after transfers).
    pub service: ServiceId,
    /// The ticket's display number (`A-042`).
    pub display: String,
    /// When the ticket was issued.
    pub issued_at: DateTime<Utc>,
    /// The last call, if any.
    pub called_at: Option<DateTime<Utc>>,
    /// When the service ended, if it did.
    pub finished_at: Option<DateTime<Utc>>,
    /// How it went.
    pub outcome: VisitOutcome,
}

impl Visit {
    /// Seconds from issue to the last call, if called.
    pub fn wait_secs(&self) -> Option<i64> {
        self.called_at.map(|c| (c - self.issued_at).num_seconds())
    }

    /// The visit after `change` (a change of another ticket leaves it as it is).
    pub fn apply(&mut self, change: &VisitChange) {
        if change.ticket() != self.ticket {
            return;
        }
        match change {
            VisitChange::Issued(_) => {}
            VisitChange::Called { at, .. } => {
                self.called_at = Some(*at);
                self.outcome = VisitOutcome::Called;
            }
            VisitChange::Finished { at, .. } => {
                self.finished_at = Some(*at);
                self.outcome = VisitOutcome::Served;
            }
            VisitChange::Ended { outcome, .. } => self.outcome = *outcome,
            VisitChange::Requeued { service, .. } => {
                if let Some(service) = service {
                    self.service = *service;
                }
                self.outcome = VisitOutcome::Waiting;
            }
        }
    }
}

/// How a visit went, so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VisitOutcome {
    /// In the queue.
    Waiting,
    /// Called (or being served).
    Called,
    /// Served to the end.
    Served,
    /// Called and did not come.
    NoShow,
    /// Left before the turn, or the ticket was cancelled.
    Cancelled,
}

impl VisitOutcome {
    /// Its name: `waiting`, `called`, `served`, `no_show`, `cancelled`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::Called => "called",
            Self::Served => "served",
            Self::NoShow => "no_show",
            Self::Cancelled => "cancelled",
        }
    }

    /// The outcome of a name given by [`as_str`](Self::as_str).
    pub fn parse(name: &str) -> Option<Self> {
        [
            Self::Waiting,
            Self::Called,
            Self::Served,
            Self::NoShow,
            Self::Cancelled,
        ]
        .into_iter()
        .find(|o| o.as_str() == name)
    }

    /// Whether the visit is still going on.
    pub fn is_open(self) -> bool {
        matches!(self, Self::Waiting | Self::Called)
    }
}

/// What the queue's history changes in the visits: applied in order by
/// [`OrgStore::apply_visits`](crate::OrgStore::apply_visits).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum VisitChange {
    /// A known customer's ticket was issued: the visit begins (a visit already recorded for
    /// the ticket is left as it is, so replaying history changes nothing).
    Issued(Visit),
    /// The ticket was called (or recalled).
    Called {
        /// Ticket.
        ticket: TicketId,
        /// When.
        at: DateTime<Utc>,
    },
    /// The service ended.
    Finished {
        /// Ticket.
        ticket: TicketId,
        /// When.
        at: DateTime<Utc>,
    },
    /// The visit ended without service (`no_show`, `cancelled`).
    Ended {
        /// Ticket.
        ticket: TicketId,
        /// How.
        outcome: VisitOutcome,
    },
    /// Back in the queue (transferred, parked, resumed), maybe for another service.
    Requeued {
        /// Ticket.
        ticket: TicketId,
        /// The service it waits for now, when it changed.
        service: Option<ServiceId>,
    },
}

impl VisitChange {
    /// The ticket changed.
    pub fn ticket(&self) -> TicketId {
        match self {
            Self::Issued(v) => v.ticket,
            Self::Called { ticket, .. }
            | Self::Finished { ticket, .. }
            | Self::Ended { ticket, .. }
            | Self::Requeued { ticket, .. } => *ticket,
        }
    }
}

/// Everything the queue of one branch needs to know about its configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BranchConfig {
    /// The branch.
    pub branch: Branch,
    /// The organization's priority classes.
    pub classes: Vec<PriorityClass>,
    /// The branch's services.
    pub services: Vec<Service>,
    /// The branch's counters.
    pub counters: Vec<Counter>,
}

impl BranchConfig {
    /// Checks the rules of the model: unique ids, prefixes and counter numbers; every reference
    /// resolves; ranks and weights in range; at least one class.
    ///
    /// # Errors
    /// The first [`ValidationError`] found.
    pub fn validate(&self) -> Result<(), ValidationError> {
        unique("class", self.classes.iter().map(|c| c.id))?;
        unique("service", self.services.iter().map(|s| s.id))?;
        unique("counter", self.counters.iter().map(|c| c.id))?;
        if self.classes.is_empty() {
            return Err(invalid("classes", "at least one priority class is needed"));
        }
        let q = &self.branch.queue;
        for (field, alpha) in [
            ("queue.service_time_alpha", q.service_time_alpha),
            ("queue.arrival_rate_alpha", q.arrival_rate_alpha),
        ] {
            if !(alpha > 0.0 && alpha <= 1.0) {
                return Err(invalid(field, "must be in (0, 1]"));
            }
        }
        for c in &self.classes {
            if c.rank == 0 || c.weight == 0 {
                return Err(invalid(
                    format!("class {}", c.code),
                    "rank and weight must be at least 1",
                ));
            }
        }
        for i in &self.branch.opening_hours.0 {
            if i.open >= i.close {
                return Err(invalid(
                    format!("opening hours on {}", i.day),
                    "must close after opening on the same day",
                ));
            }
        }
        let mut prefixes = std::collections::HashSet::new();
        for s in &self.services {
            let prefix = s.prefix.trim();
            if prefix.is_empty() || prefix.chars().count() > 3 {
                return Err(invalid(
                    format!("service {}.prefix", s.prefix),
                    "must be 1 to 3 characters",
                ));
            }
            if !prefixes.insert(prefix.to_uppercase()) {
                return Err(ValidationError::DuplicatePrefix {
                    prefix: s.prefix.clone(),
                });
            }
            if s.expected_service_secs == 0 {
                return Err(invalid(
                    format!("service {}.expected_service_secs", s.prefix),
                    "must be at least 1",
                ));
            }
        }
        let mut numbers = std::collections::HashSet::new();
        for c in &self.counters {
            if !numbers.insert(c.number) {
                return Err(ValidationError::DuplicateCounterNumber { number: c.number });
            }
            let from = format!("counter {}", c.number);
            if c.profile.services.is_empty() {
                return Err(invalid(from, "work profile lists no service"));
            }
            unique(
                "profile service",
                c.profile.services.iter().map(|p| p.service),
            )?;
            for p in &c.profile.services {
                if !self.services.iter().any(|s| s.id == p.service) {
                    return Err(unknown(&from, "service", p.service));
                }
                if p.rank == 0 || p.weight == 0 {
                    return Err(invalid(&from, "profile rank and weight must be at least 1"));
                }
            }
            for class in c.profile.classes.iter().flatten() {
                if !self.classes.iter().any(|k| k.id == *class) {
                    return Err(unknown(&from, "class", class));
                }
            }
        }
        Ok(())
    }

    /// The service with `id`.
    pub fn service(&self, id: ServiceId) -> Option<&Service> {
        self.services.iter().find(|s| s.id == id)
    }

    /// The counter with `id`.
    pub fn counter(&self, id: CounterId) -> Option<&Counter> {
        self.counters.iter().find(|c| c.id == id)
    }

    /// The class given to tickets that name none: the last-ranked one.
    pub fn default_class(&self) -> Option<&PriorityClass> {
        self.classes.iter().max_by_key(|c| c.rank)
    }
}

fn unique<T: std::hash::Hash + Eq + std::fmt::Display>(
    kind: &'static str,
    ids: impl Iterator<Item = T>,
) -> Result<(), ValidationError> {
    let mut seen = std::collections::HashSet::new();
    for id in ids {
        if let Some(dup) = seen.replace(id) {
            return Err(ValidationError::DuplicateId {
                kind,
                id: dup.to_string(),
            });
        }
    }
    Ok(())
}

fn invalid(field: impl Into<String>, reason: &str) -> ValidationError {
    ValidationError::InvalidField {
        field: field.into(),
        reason: reason.into(),
    }
}

fn unknown(from: &str, kind: &'static str, id: impl std::fmt::Display) -> ValidationError {
    ValidationError::UnknownReference {
        from: from.into(),
        kind,
        id: id.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> BranchConfig {
        let en = Language::en();
        BranchConfig {
            branch: Branch {
                id: BranchId::from_u128(1),
                organization: OrganizationId::from_u128(1),
                name: LocalizedText::single(en.clone(), "Main"),
                time_zone: chrono_tz::Europe::Berlin,
                opening_hours: OpeningHours::always(),
                queue: QueueSettings::default(),
            },
            classes: vec![PriorityClass {
                id: ClassId::from_u128(1),
                code: "normal".into(),
                name: LocalizedText::single(en.clone(), "Normal"),
                rank: 1,
                weight: 1,
            }],
            services: vec![Service {
                id: ServiceId::from_u128(1),
                prefix: "A".into(),
                name: LocalizedText::single(en, "Accounts"),
                expected_service_secs: 300,
                target_wait_secs: 600,
                max_wait_secs: None,
                daily_cap: None,
                takes_appointments: false,
            }],
            counters: vec![Counter {
                id: CounterId::from_u128(1),
                number: 1,
                name: None,
                profile: WorkProfile::serving([ServiceId::from_u128(1)], CallingPolicy::Strict),
            }],
        }
    }

    #[test]
    fn a_sound_config_validates() {
        assert_eq!(config().validate(), Ok(()));
    }

    #[test]
    fn broken_configs_name_what_to_fix() {
        let mut c = config();
        c.services.push(c.services[0].clone());
        assert!(matches!(
            c.validate(),
            Err(ValidationError::DuplicateId {
                kind: "service",
                ..
            })
        ));

        let mut c = config();
        let mut b = c.services[0].clone();
        b.id = ServiceId::from_u128(2);
        b.prefix = "a".into();
        c.services.push(b);
        assert!(matches!(
            c.validate(),
            Err(ValidationError::DuplicatePrefix { .. })
        ));

        let mut c = config();
        c.counters[0].profile.services[0].service = ServiceId::from_u128(9);
        assert!(matches!(
            c.validate(),
            Err(ValidationError::UnknownReference {
                kind: "service",
                ..
            })
        ));

        let mut c = config();
        c.classes[0].weight = 0;
        assert!(matches!(
            c.validate(),
            Err(ValidationError::InvalidField { .. })
        ));
    }

    #[test]
    fn config_round_trips_through_json() {
        let c = config();
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<BranchConfig>(&json).unwrap(), c);
    }
}
