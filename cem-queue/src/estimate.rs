//! Waiting-time estimates for waiting tickets.
//!
//! For a ticket of service `s` and class `c`, the *pool* is the set of open counters that may
//! call it (its counter alone for a personal line). With `n` counters in the pool, `i` of them
//! idle, a running mean service time `T` (the pool's per-counter running means for `s`, falling
//! back to the service's), and `p` tickets that the pool will call before it:
//!
//! ```text
//! wait = max(0, p + 1 − i) · T / n / (1 − ρ)
//! ```
//!
//! `(p + 1) · T / n` is the exact mean wait behind `p` others when `n` busy counters finish at
//! exponential times. `ρ` is the load that better classes will add while the ticket waits under
//! the `strict` policy: their running arrival rate times `T / n` (capped at 0.95). Tickets ahead:
//! personal lines of the pool's counters, due appointments of the same class, tickets of the
//! same class in the pool's other services that waited longer, the ticket's own line ahead of it,
//! and the other classes: all of the better ones under `strict`, their weighted share under
//! `interleave` and `weighted_wait`. An appointment never waits less than the time left until
//! its early window opens. A ticket that no open counter can call has no estimate.
//!
//! [`BranchQueue::estimates`] refreshes every waiting ticket in O(k·n) for n waiting; the
//! accuracy is measured by the simulator ([`crate::sim`]) as bias and mean absolute error per
//! position bucket.

use cem_core::chrono::{DateTime, Utc};
use cem_core::{CallingPolicy, TicketId};
use serde::{Deserialize, Serialize};

use crate::queue::{BranchQueue, CounterStatus, Line, Place, Slot};

/// The estimated wait of one waiting ticket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// Ticket.
    pub ticket: TicketId,
    /// Tickets expected to be called before it.
    pub ahead: u32,
    /// Open counters that may call it.
    pub counters: u16,
    /// Expected seconds until it is called; `None` when no open counter can call it.
    pub wait_secs: Option<f64>,
}

/// What every ticket of one line shares.
struct Pool {
    /// Counter indices of the pool.
    counters: Vec<usize>,
    idle: u32,
    mean_secs: f64,
    /// Tickets ahead of every ticket of the line, whatever its place in it.
    base_ahead: f64,
    /// Load of better classes arriving meanwhile.
    rho: f64,
    /// Under interleave: (waiting, weight ratio) of each other class, for the share ahead.
    shares: Vec<(f64, f64)>,
}

impl BranchQueue {
    /// The estimate of one waiting ticket; `None` when the ticket is not waiting.
    pub fn estimate(&self, ticket: TicketId, now: DateTime<Utc>) -> Option<Estimate> {
        let slot = *self.by_id.get(&ticket)?;
        let r = self.record(slot);
        let pool = self.pool(r.service, r.class, r.place, now);
        let own = match r.place {
            Place::Walkin(l) => position_from_back(self, &self.lines[l as usize], r.stamp),
            Place::Counter(k) => {
                position_from_back(self, &self.counters[usize::from(k)].personal, r.stamp)
            }
            Place::Appointment(l) => {
                let at = r.ticket.appointment_at?;
                self.lines[l as usize]
                    .appointments
                    .range(..(at, r.stamp))
                    .count() as u32
            }
            Place::Nowhere => return None,
        };
        let older = match r.place {
            Place::Walkin(_) => {
                self.older_elsewhere(&pool, r.service, r.class, r.ticket.waiting_since, r.stamp)
            }
            _ => 0,
        };
        Some(self.finish_estimate(&pool, slot, own, older, now))
    }

    /// Estimates of every waiting ticket, refreshed together in O(k·n).
    pub fn estimates(&self, now: DateTime<Utc>) -> Vec<Estimate> {
        let mut out = Vec::with_capacity(self.total_waiting() as usize);
        for s in 0..self.services.len() as u16 {
            for k in 0..self.classes.len() as u8 {
                let l = self.line_ix(s, k);
                let line = &self.lines[l];
                if line.waiting() == 0 {
                    continue;
                }
                let pool = self.pool(s, k, Place::Walkin(l as u32), now);
                // Other services of the pool, same class: a cursor per line over its main deque
                // (sorted by waiting_since), advanced as this line's tickets get older.
                let others: Vec<&Line> = self
                    .pool_services(&pool)
                    .filter(|&o| o != s)
                    .map(|o| &self.lines[self.line_ix(o, k)])
                    .collect();
                let firsts: u32 = others
                    .iter()
                    .map(|o| o.first.iter().filter(|e| self.is_live(**e)).count() as u32)
                    .sum();
                let mut own = 0u32;
                // This line's two deques are each sorted by waiting_since, but not together (a
                // ticket put first entered after the main deque's head): one cursor pass each.
                for deque in [&line.first, &line.main] {
                    let mut cursors = vec![(0usize, 0u32); others.len()];
                    for e in deque {
                        if !self.is_live(*e) {
                            continue;
                        }
                        let mut older = firsts;
                        for (o, (pos, count)) in others.iter().zip(cursors.iter_mut()) {
                            while let Some(x) = o.main.get(*pos)
                                && (x.since, x.stamp) < (e.since, e.stamp)
                            {
                                *count += u32::from(self.is_live(*x));
                                *pos += 1;
                            }
                            older += *count;
                        }
                        out.push(self.finish_estimate(&pool, e.slot, own, older, now));
                        own += 1;
                    }
                }
                if !line.appointments.is_empty() {
                    let pool = self.pool(s, k, Place::Appointment(l as u32), now);
                    for (own, e) in line.appointments.values().enumerate() {
                        out.push(self.finish_estimate(&pool, e.slot, own as u32, 0, now));
                    }
                }
            }
        }
        for (k, c) in self.counters.iter().enumerate() {
            for (own, e) in c
                .personal
                .first
                .iter()
                .chain(c.personal.main.iter())
                .filter(|e| self.is_live(**e))
                .enumerate()
            {
                let r = self.record(e.slot);
                let pool = self.pool(r.service, r.class, Place::Counter(k as u16), now);
                out.push(self.finish_estimate(&pool, e.slot, own as u32, 0, now));
            }
        }
        out
    }

    fn pool(&self, s: u16, k: u8, place: Place, now: DateTime<Utc>) -> Pool {
        let counters: Vec<usize> = match place {
            Place::Counter(c) => vec![usize::from(c)],
            _ => self
                .counters
                .iter()
                .enumerate()
                .filter(|(_, c)| c.serves(s) && c.takes(k))
                .map(|(i, _)| i)
                .collect(),
        }
        .into_iter()
        .filter(|&i| self.counters[i].status == CounterStatus::Open)
        .collect();
        let n = counters.len().max(1) as f64;
        let idle = counters
            .iter()
            .filter(|&&i| self.counters[i].current.is_none())
            .count() as u32;
        let mean_secs = counters
            .iter()
            .map(|&i| {
                self.counters[i].service_secs[usize::from(s)]
                    .get()
                    .unwrap_or(self.services[usize::from(s)].service_secs.mean)
            })
            .sum::<f64>()
            / n;
        let mut pool = Pool {
            counters,
            idle,
            mean_secs,
            base_ahead: 0.0,
            rho: 0.0,
            shares: Vec::new(),
        };
        if matches!(place, Place::Counter(_)) {
            return pool;
        }
        let strict = pool
            .counters
            .first()
            .is_none_or(|&i| self.counters[i].policy == CallingPolicy::Strict);
        let personal: u32 = pool
            .counters
            .iter()
            .map(|&i| self.counters[i].personal.live)
            .sum();
        let mut base = f64::from(personal);
        let my_rank = self.classes[usize::from(k)].rank;
        let my_weight = f64::from(self.classes[usize::from(k)].weight);
        for (kk, class) in self.classes.iter().enumerate() {
            let kk = kk as u8;
            if kk == k || !pool.counters.iter().any(|&i| self.counters[i].takes(kk)) {
                continue;
            }
            let waiting: u32 = self
                .pool_services(&pool)
                .map(|o| self.lines[self.line_ix(o, kk)].waiting())
                .sum();
            if strict {
                if class.rank < my_rank {
                    base += f64::from(waiting);
                    let rate: f64 = self
                        .pool_services(&pool)
                        .map(|o| self.arrivals[self.line_ix(o, kk)].per_sec())
                        .sum();
                    pool.rho += rate * mean_secs / n;
                }
            } else {
                pool.shares
                    .push((f64::from(waiting), f64::from(class.weight) / my_weight));
            }
        }
        pool.rho = pool.rho.min(0.95);
        // Due appointments of the same class go before walk-ins.
        if matches!(place, Place::Walkin(_)) {
            base += self
                .pool_services(&pool)
                .map(|o| {
                    let line = &self.lines[self.line_ix(o, k)];
                    line.appointments
                        .keys()
                        .take_while(|(at, _)| *at - self.early <= now)
                        .count() as f64
                })
                .sum::<f64>();
        }
        pool.base_ahead = base;
        pool
    }

    /// Services served by any counter of the pool.
    fn pool_services<'a>(&'a self, pool: &'a Pool) -> impl Iterator<Item = u16> + 'a {
        (0..self.services.len() as u16)
            .filter(move |&o| pool.counters.iter().any(|&i| self.counters[i].serves(o)))
    }

    /// Tickets of class `k` in the pool's other services that entered their line before the
    /// entry at (`since`, `stamp`).
    fn older_elsewhere(&self, pool: &Pool, s: u16, k: u8, since: DateTime<Utc>, stamp: u64) -> u32 {
        self.pool_services(pool)
            .filter(|&o| o != s)
            .map(|o| {
                let line = &self.lines[self.line_ix(o, k)];
                let firsts = line.first.iter().filter(|e| self.is_live(**e)).count();
                // Entries are sorted by `since`, stale ones included; only live ones count.
                let older = line
                    .main
                    .iter()
                    .take_while(|e| (e.since, e.stamp) < (since, stamp))
                    .filter(|e| self.is_live(**e))
                    .count();
                (firsts + older) as u32
            })
            .sum()
    }

    fn finish_estimate(
        &self,
        pool: &Pool,
        slot: Slot,
        own: u32,
        older: u32,
        now: DateTime<Utc>,
    ) -> Estimate {
        let r = self.record(slot);
        let mut ahead = pool.base_ahead + f64::from(own) + f64::from(older);
        for &(waiting, ratio) in &pool.shares {
            ahead += waiting.min((f64::from(own) + 1.0) * ratio);
        }
        let n = pool.counters.len();
        let wait_secs = (n > 0).then(|| {
            let busy_turns = (ahead + 1.0 - f64::from(pool.idle)).max(0.0);
            let mut wait = busy_turns * pool.mean_secs / n as f64 / (1.0 - pool.rho);
            if let (Place::Appointment(_), Some(at)) = (r.place, r.ticket.appointment_at) {
                wait = wait.max((at - self.early - now).as_seconds_f64());
            }
            wait
        });
        Estimate {
            ticket: r.ticket.id,
            ahead: ahead.round() as u32,
            counters: n as u16,
            wait_secs,
        }
    }
}

/// Live entries ahead of the entry with `stamp`, counted from the back (cheap for new tickets).
fn position_from_back(queue: &BranchQueue, line: &Line, stamp: u64) -> u32 {
    let mut behind = 0u32;
    for e in line.main.iter().rev().chain(line.first.iter().rev()) {
        if e.stamp == stamp {
            return line.live - 1 - behind;
        }
        if queue.is_live(*e) {
            behind += 1;
        }
    }
    0
}
