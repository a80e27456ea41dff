//! The calling rules: which waiting ticket a counter gets when it calls next.
//!
//! Among the tickets of the services in the counter's work profile and the classes it takes:
//!
//! 1. **Escalation.** A ticket that has waited past its service's maximum wait goes first; among
//!    several, the one furthest past its maximum (then the better class).
//! 2. **Personal line.** Tickets transferred to this very counter.
//! 3. **Class.** The profile's policy chooses a class that has an eligible ticket:
//!    - `strict`: the best rank;
//!    - `interleave`: stride scheduling by class weight (2 VIP : 1 normal). Each call advances the
//!      called class's pass by `1 / weight`; the class with the lowest pass goes next. A class
//!      that had nobody waiting re-enters at the counter's current virtual time, so it gets its
//!      share from then on but no burst for the time it was absent;
//!    - `weighted_wait`: the line head with the highest
//!      `class weight × service weight × time waited` is called directly (aging).
//! 4. **Inside the class.** Due appointments first (eligible from `appointment_early_secs` before
//!    their time), by appointment time; then the profile's service ranks (1 first), equal ranks
//!    going to the head that waited longest; inside a line, tickets put "first" ahead of the
//!    rest, then arrival order.
//!
//! Each line keeps its head live, so a call looks at O(k·c) heads for k services and c classes,
//! plus O(log n) for the appointment maps: the length of other lines never matters.

use cem_core::CallingPolicy;
use cem_core::chrono::{DateTime, Duration, Utc};

use crate::queue::{BranchQueue, CounterRt, Entry, Slot};
use crate::ticket::CallReason;

impl BranchQueue {
    /// The ticket `counter` would call at `now`, without calling it.
    pub(crate) fn select(&self, c: &CounterRt, now: DateTime<Utc>) -> Option<(Slot, CallReason)> {
        if let Some(slot) = self.escalated(c, now) {
            return Some((slot, CallReason::Escalated));
        }
        if let Some(e) = c.personal.head() {
            return Some((e.slot, CallReason::Personal));
        }
        match c.policy {
            CallingPolicy::Strict => c
                .classes
                .iter()
                .find_map(|&k| self.best_in_class(c, k, now)),
            CallingPolicy::Interleave => c
                .classes
                .iter()
                .filter_map(|&k| {
                    let pick = self.best_in_class(c, k, now)?;
                    // `classes` is in rank order and `min_by_key` keeps the first minimum, so
                    // equal passes go to the better class.
                    Some((c.pass[usize::from(k)].max(c.vtime), pick))
                })
                .min_by_key(|(pass, _)| *pass)
                .map(|(_, pick)| pick),
            CallingPolicy::WeightedWait => self.weighted_wait(c, now),
        }
    }

    /// The ticket furthest past its service's maximum wait, if any is past it.
    fn escalated(&self, c: &CounterRt, now: DateTime<Utc>) -> Option<Slot> {
        let mut best: Option<(Duration, Slot)> = None;
        for p in &c.profile {
            let Some(max_wait) = self.services[usize::from(p.service)].max_wait else {
                continue;
            };
            for &k in &c.classes {
                let line = &self.lines[self.line_ix(p.service, k)];
                let heads = [line.first.front().copied(), line.main.front().copied()]
                    .into_iter()
                    .flatten()
                    .chain(line.due_appointment(now, self.early).map(|(_, e)| e));
                for e in heads {
                    let over = now - e.since - max_wait;
                    // Strictly greater: on a tie the earlier candidate (better class) stays.
                    if over >= Duration::zero() && best.is_none_or(|(b, _)| over > b) {
                        best = Some((over, e.slot));
                    }
                }
            }
        }
        best.map(|(_, slot)| slot)
    }

    /// The ticket of class `k` this counter calls next, if any is eligible.
    fn best_in_class(
        &self,
        c: &CounterRt,
        k: u8,
        now: DateTime<Utc>,
    ) -> Option<(Slot, CallReason)> {
        let mut appointment: Option<(DateTime<Utc>, Entry)> = None;
        let mut walkin: Option<(u16, DateTime<Utc>, u64, Slot)> = None;
        for p in &c.profile {
            let line = &self.lines[self.line_ix(p.service, k)];
            if let Some(due) = line.due_appointment(now, self.early)
                && appointment.is_none_or(|best| due.0 < best.0)
            {
                appointment = Some(due);
            }
            if appointment.is_none()
                && let Some(head) = line.head()
            {
                // Entries carry their entry time: no ticket record is read while choosing. Equal
                // times go to the earlier entry (stamps grow with every entry).
                let key = (p.rank, head.since, head.stamp, head.slot);
                if walkin.is_none_or(|best| (key.0, key.1, key.2) < (best.0, best.1, best.2)) {
                    walkin = Some(key);
                }
            }
        }
        appointment
            .map(|(_, e)| (e.slot, CallReason::Appointment))
            .or(walkin.map(|(_, _, _, slot)| (slot, CallReason::Policy)))
    }

    /// Aging: the eligible head with the highest `class weight × service weight × waited`.
    fn weighted_wait(&self, c: &CounterRt, now: DateTime<Utc>) -> Option<(Slot, CallReason)> {
        let mut best: Option<(f64, Slot, CallReason)> = None;
        for p in &c.profile {
            for &k in &c.classes {
                let line = &self.lines[self.line_ix(p.service, k)];
                let weight = f64::from(self.classes[usize::from(k)].weight) * f64::from(p.weight);
                let heads = line
                    .due_appointment(now, self.early)
                    .map(|(_, e)| (e, CallReason::Appointment))
                    .into_iter()
                    .chain(line.head().map(|e| (e, CallReason::Policy)));
                for (e, reason) in heads {
                    // One second added so fresh tickets still compare by weight.
                    let waited = (now - e.since).as_seconds_f64().max(0.0) + 1.0;
                    let score = weight * waited;
                    if best.is_none_or(|(b, _, _)| score > b) {
                        best = Some((score, e.slot, reason));
                    }
                }
            }
        }
        best.map(|(_, slot, reason)| (slot, reason))
    }
}
