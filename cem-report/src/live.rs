//! Live branch status and service-level alerts.
//!
//! [`LiveStatus::of`] reads a branch's current [`BranchQueue`] at an instant: per service,
//! who waits, the longest wait, the counters open for it and the queue's own estimate of the
//! wait of the last in line. An **appointment** ticket waits from its appointment time, not
//! from its early arrival: the branch owes nothing before the appointment.
//!
//! # Alerts
//! [`alerts`] lists the services that break a limit now (level-triggered):
//! - **Target exceeded** (the critical point): the longest current wait is longer than the
//!   service's target wait ([`Thresholds::targets`]).
//! - **Threshold exceeded**: the longest current wait is longer than a configured limit (per
//!   service, or one for every service).
//! - **Unstaffed**: tickets wait and no open counter serves the service.
//!
//! Between two refreshes of the status waits keep growing, so a wait read at `status.at` is
//! read at `now` as that much longer. An [`AlertTracker`] turns these levels into edges:
//! an alert is **raised** once when its limit is passed and **cleared** once when the wait
//! falls back to [`Thresholds::clear_below_pct`] % of the limit or less, or nobody waits. In
//! between it stays as it is (hysteresis), so a wait hovering around its target raises one
//! alert, not one per refresh. An unstaffed alert clears when a counter opens or nobody
//! waits.

use std::collections::BTreeMap;

use cem_core::chrono::{DateTime, Utc};
use cem_core::{BranchId, ServiceId, TicketId};
use cem_queue::{BranchQueue, CounterStatus, Lane, TicketState};
use serde::{Deserialize, Serialize};

/// The live state of one service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceStatus {
    /// Service.
    pub service: ServiceId,
    /// Its ticket prefix.
    pub prefix: String,
    /// Tickets waiting (personal lines of counters included).
    pub waiting: u32,
    /// The longest current wait, seconds; `None` when nobody waits.
    pub longest_wait_secs: Option<f64>,
    /// The ticket that waited longest.
    pub oldest: Option<TicketId>,
    /// The queue's estimate of the wait of the last in line, seconds; `None` when nobody
    /// waits or no open counter can call them.
    pub estimated_wait_secs: Option<f64>,
    /// The service's target wait, seconds.
    pub target_wait_secs: u32,
    /// Open counters (not paused) that serve it.
    pub open_counters: u32,
}

/// The live state of a branch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveStatus {
    /// Branch.
    pub branch: BranchId,
    /// When it was read.
    pub at: DateTime<Utc>,
    /// Each service, in configuration order.
    pub services: Vec<ServiceStatus>,
    /// Tickets waiting in the branch.
    pub waiting: u32,
    /// The longest current wait of the branch, seconds.
    pub longest_wait_secs: Option<f64>,
    /// Counters open.
    pub counters_open: u32,
    /// Counters paused.
    pub counters_paused: u32,
    /// Counters closed.
    pub counters_closed: u32,
    /// Counters holding a ticket (called or serving).
    pub counters_busy: u32,
}

impl LiveStatus {
    /// The status of `queue` at `now`.
    pub fn of(queue: &BranchQueue, now: DateTime<Utc>) -> Self {
        let config = queue.config();
        let mut services: Vec<ServiceStatus> = config
            .services
            .iter()
            .map(|s| ServiceStatus {
                service: s.id,
                prefix: s.prefix.clone(),
                waiting: 0,
                longest_wait_secs: None,
                oldest: None,
                estimated_wait_secs: None,
                target_wait_secs: s.target_wait_secs,
                open_counters: 0,
            })
            .collect();
        let index: BTreeMap<ServiceId, usize> = services
            .iter()
            .enumerate()
            .map(|(i, s)| (s.service, i))
            .collect();
        for t in queue.tickets().filter(|t| t.state == TicketState::Waiting) {
            let Some(&i) = index.get(&t.service) else {
                continue;
            };
            let since = match (t.lane, t.appointment_at) {
                (Lane::Appointment, Some(a)) => a.max(t.waiting_since),
                _ => t.waiting_since,
            };
            let wait = ((now - since).num_milliseconds().max(0)) as f64 / 1000.0;
            let s = &mut services[i];
            s.waiting += 1;
            if s.longest_wait_secs.is_none_or(|l| wait > l) {
                s.longest_wait_secs = Some(wait);
                s.oldest = Some(t.id);
            }
        }
        for e in queue.estimates(now) {
            let (Some(t), Some(wait)) = (queue.ticket(e.ticket), e.wait_secs) else {
                continue;
            };
            if let Some(&i) = index.get(&t.service) {
                let s = &mut services[i];
                s.estimated_wait_secs = Some(s.estimated_wait_secs.map_or(wait, |w| w.max(wait)));
            }
        }
        let (mut open, mut paused, mut closed, mut busy) = (0, 0, 0, 0);
        for c in queue.counters() {
            match c.status {
                CounterStatus::Open => open += 1,
                CounterStatus::Paused => paused += 1,
                CounterStatus::Closed => closed += 1,
            }
            busy += u32::from(c.ticket.is_some());
            if c.status != CounterStatus::Open {
                continue;
            }
            let Some(profile) = config.counter(c.id).map(|k| &k.profile) else {
                continue;
            };
            for p in &profile.services {
                if let Some(&i) = index.get(&p.service) {
                    services[i].open_counters += 1;
                }
            }
        }
        Self {
            branch: config.branch.id,
            at: now,
            waiting: services.iter().map(|s| s.waiting).sum(),
            longest_wait_secs: services
                .iter()
                .filter_map(|s| s.longest_wait_secs)
                .reduce(f64::max),
            services,
            counters_open: open,
            counters_paused: paused,
            counters_closed: closed,
            counters_busy: busy,
        }
    }
}

/// When alerts are raised and cleared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    /// Whether a wait past its service's target raises an alert (the critical point).
    pub targets: bool,
    /// A limit on the longest wait of every service, seconds.
    pub absolute_wait_secs: Option<u32>,
    /// Limits of some services, seconds, instead of the absolute one.
    pub per_service_secs: BTreeMap<ServiceId, u32>,
    /// An alert clears when the wait falls to this % of its limit or less (100: no
    /// hysteresis).
    pub clear_below_pct: u8,
    /// Whether tickets waiting with no open counter for them raise an alert.
    pub unstaffed: bool,
}

impl Default for Thresholds {
    /// Targets and unstaffed services, no absolute limit, cleared at 90 %.
    fn default() -> Self {
        Self {
            targets: true,
            absolute_wait_secs: None,
            per_service_secs: BTreeMap::new(),
            clear_below_pct: 90,
            unstaffed: true,
        }
    }
}

/// What an alert is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// The longest wait passed the service's target.
    TargetExceeded,
    /// The longest wait passed a configured limit.
    ThresholdExceeded,
    /// Tickets wait and no open counter serves the service.
    Unstaffed,
}

/// A service breaking a limit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Branch.
    pub branch: BranchId,
    /// Service.
    pub service: ServiceId,
    /// What it is about.
    pub kind: AlertKind,
    /// The limit passed, seconds (none for unstaffed).
    pub limit_secs: Option<u32>,
    /// The longest wait at `at`, seconds (0 when nobody waits).
    pub longest_wait_secs: f64,
    /// Tickets waiting.
    pub waiting: u32,
    /// When.
    pub at: DateTime<Utc>,
}

/// An alert's state under the thresholds: the alert, whether it breaks its limit, whether it
/// is low enough to clear.
fn conditions(
    status: &LiveStatus,
    th: &Thresholds,
    now: DateTime<Utc>,
) -> Vec<(Alert, bool, bool)> {
    let later = ((now - status.at).num_milliseconds().max(0)) as f64 / 1000.0;
    let mut out = Vec::new();
    for s in &status.services {
        let longest = s.longest_wait_secs.map_or(0.0, |l| l + later);
        let alert = |kind, limit_secs| Alert {
            branch: status.branch,
            service: s.service,
            kind,
            limit_secs,
            longest_wait_secs: longest,
            waiting: s.waiting,
            at: now,
        };
        let mut limit = |kind, limit: u32| {
            let limit_f = f64::from(limit);
            let broken = s.waiting > 0 && longest > limit_f;
            let clear = s.waiting == 0
                || longest <= limit_f * f64::from(th.clear_below_pct.min(100)) / 100.0;
            out.push((alert(kind, Some(limit)), broken, clear));
        };
        if th.targets {
            limit(AlertKind::TargetExceeded, s.target_wait_secs);
        }
        if let Some(l) = th
            .per_service_secs
            .get(&s.service)
            .copied()
            .or(th.absolute_wait_secs)
        {
            limit(AlertKind::ThresholdExceeded, l);
        }
        if th.unstaffed {
            let broken = s.waiting > 0 && s.open_counters == 0;
            out.push((alert(AlertKind::Unstaffed, None), broken, !broken));
        }
    }
    out
}

/// The alerts of a status read at `now` (see [alerts](self#alerts)): every limit broken now.
pub fn alerts(status: &LiveStatus, thresholds: &Thresholds, now: DateTime<Utc>) -> Vec<Alert> {
    conditions(status, thresholds, now)
        .into_iter()
        .filter(|(_, broken, _)| *broken)
        .map(|(a, _, _)| a)
        .collect()
}

/// An edge of an alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "change", content = "alert", rename_all = "snake_case")]
pub enum AlertChange {
    /// A limit was passed.
    Raised(Alert),
    /// The alert is over; the alert as last seen.
    Cleared(Alert),
}

/// Raises each alert once and clears it once, with hysteresis (see [alerts](self#alerts)).
/// Pure: it changes only when given a status.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AlertTracker {
    #[serde(with = "crate::pairs")]
    active: BTreeMap<(BranchId, ServiceId, AlertKind), Alert>,
}

impl AlertTracker {
    /// No alert active.
    pub fn new() -> Self {
        Self::default()
    }

    /// The alerts raised and not cleared, as raised.
    pub fn active(&self) -> impl Iterator<Item = &Alert> {
        self.active.values()
    }

    /// Reads a branch's status at `now` and returns what changed: alerts raised, and alerts
    /// of the branch cleared (also those of a service or kind no longer watched).
    pub fn update(
        &mut self,
        status: &LiveStatus,
        thresholds: &Thresholds,
        now: DateTime<Utc>,
    ) -> Vec<AlertChange> {
        let mut changes = Vec::new();
        let mut seen = Vec::new();
        for (alert, broken, clear) in conditions(status, thresholds, now) {
            let key = (alert.branch, alert.service, alert.kind);
            seen.push(key);
            match self.active.get(&key) {
                None if broken => {
                    self.active.insert(key, alert.clone());
                    changes.push(AlertChange::Raised(alert));
                }
                Some(_) if clear => {
                    self.active.remove(&key);
                    changes.push(AlertChange::Cleared(alert));
                }
                _ => {}
            }
        }
        let gone: Vec<_> = self
            .active
            .keys()
            .filter(|k| k.0 == status.branch && !seen.contains(k))
            .copied()
            .collect();
        for key in gone {
            if let Some(mut a) = self.active.remove(&key) {
                a.at = now;
                changes.push(AlertChange::Cleared(a));
            }
        }
        changes
    }
}
