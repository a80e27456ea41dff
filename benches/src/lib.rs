//! Fixtures for the criterion benches of CEM's hot paths (`benches/scheduler.rs`) and for the
//! memory figure (`benches/memory.rs`).
//!
//! A [`Bed`] is a [`BranchQueue`] filled with a fixed number of waiting tickets, spread evenly
//! over [`SERVICES`] services with one ticket in five of class [`VIP`] and the rest [`NORMAL`]. Its
//! `time_*` methods run an operation a given number of times and return the time spent in the
//! operation alone: whatever keeps the number of waiting tickets constant (finishing a called
//! ticket and issuing a replacement, cancelling an issued ticket, …) runs outside the clock, so
//! a bed built once serves every sample of a bench.
//!
//! Finished and cancelled tickets stay in the queue's state until the branch's next business day;
//! a bed therefore moves its clock to the next day (outside the clock) every so often, so a long
//! run neither grows without bound nor pays for that sweep inside a measurement.

use std::hint::black_box;
use std::ops::Range;
use std::time::{Duration, Instant};

use cem_core::chrono::{DateTime, Days, NaiveTime, TimeDelta, Utc};
use cem_core::{BranchConfig, CallingPolicy, ClassId, ServiceId, TicketId, WorkProfile};
use cem_queue::testing::{NORMAL, VIP, branch_config, counter_id, service_id};
use cem_queue::{BranchQueue, Estimate, IssueTicket, TicketSource, TicketState};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Services of every bench branch.
pub const SERVICES: usize = 16;

/// Counters of each shape of [`Bed::branch`].
pub const COUNTERS_PER_SHAPE: usize = 16;

/// The counter shapes of [`Bed::branch`]: how many of the 16 services each counter serves.
pub const SHAPES: [usize; 3] = [1, 4, 16];

/// Waiting tickets of the staffed services of [`Bed::stuck`].
pub const STUCK_BASE_LOAD: usize = 1_000;

/// Counters calling in one timed batch at most; the clock is read once per batch, so its own
/// cost (a few tens of nanoseconds) is spread over the batch.
const BATCH: usize = 16;

/// [`VIP`] one time in five, [`NORMAL`] otherwise.
fn random_class(rng: &mut StdRng) -> ClassId {
    if rng.random_ratio(1, 5) { VIP } else { NORMAL }
}

/// A branch queue with a constant number of waiting tickets, and the operations the benches time.
#[derive(Debug)]
pub struct Bed {
    queue: BranchQueue,
    now: DateTime<Utc>,
    next_ticket: u128,
    /// Seeded, so every run builds the same beds.
    rng: StdRng,
    /// Services new tickets are drawn from (every one, or the staffed ones of a stuck branch).
    services: Range<usize>,
    /// Tickets ended since the last business-day change.
    ended: usize,
    /// Ended tickets after which the clock moves to the next day.
    roll_every: usize,
    /// Ids of the waiting tickets, for [`Bed::time_cancel`]; rebuilt when `stale`.
    waiting: Vec<TicketId>,
    stale: bool,
}

/// The first instant of every bench: a Monday, 09:00 in Berlin.
fn start() -> DateTime<Utc> {
    "2026-11-30T08:00:00Z".parse().expect("a valid instant")
}

fn with_profiles(services: usize, profiles: Vec<Vec<usize>>) -> BranchConfig {
    let mut config = branch_config(services, profiles.len());
    for (counter, served) in config.counters.iter_mut().zip(profiles) {
        counter.profile =
            WorkProfile::serving(served.into_iter().map(service_id), CallingPolicy::Strict);
    }
    config
}

impl Bed {
    /// A branch of [`SERVICES`] services and three shapes of [`COUNTERS_PER_SHAPE`] counters each,
    /// all open: shape `j` ([`Bed::shape_counters`]) serves [`SHAPES`]`[j]` consecutive services
    /// (counter `i` of a shape starts at service `i`, wrapping around), so every service is
    /// served by every shape. `waiting` tickets wait, spread evenly over the services, 20% VIP.
    pub fn branch(waiting: usize) -> Self {
        let profiles = SHAPES
            .iter()
            .flat_map(|&k| {
                (0..COUNTERS_PER_SHAPE).map(move |i| (i..i + k).map(|s| s % SERVICES).collect())
            })
            .collect();
        let mut bed = Self::new(with_profiles(SERVICES, profiles), 0..SERVICES, waiting);
        bed.fill(0..SERVICES, waiting);
        bed
    }

    /// A branch whose last service no counter serves, with `backlog` tickets (20% VIP) stuck in
    /// it, [`STUCK_BASE_LOAD`] tickets spread over the other services, and
    /// [`COUNTERS_PER_SHAPE`] open counters that serve every service but the last.
    pub fn stuck(backlog: usize) -> Self {
        let staffed = 0..SERVICES - 1;
        let profiles = vec![staffed.clone().collect(); COUNTERS_PER_SHAPE];
        let mut bed = Self::new(
            with_profiles(SERVICES, profiles),
            staffed.clone(),
            STUCK_BASE_LOAD + backlog,
        );
        bed.fill(SERVICES - 1..SERVICES, backlog);
        bed.fill(staffed, STUCK_BASE_LOAD);
        bed
    }

    fn new(config: BranchConfig, services: Range<usize>, waiting: usize) -> Self {
        let counters = config.counters.len();
        let mut bed = Self {
            queue: BranchQueue::new(config).expect("a valid bench configuration"),
            now: start(),
            next_ticket: 1,
            rng: StdRng::seed_from_u64(0x5EED),
            services,
            ended: 0,
            roll_every: (waiting / 2).max(1 << 16),
            waiting: Vec::new(),
            stale: true,
        };
        for c in 0..counters {
            bed.queue
                .open_counter(counter_id(c), None, bed.now)
                .expect("a closed counter opens");
        }
        bed
    }

    /// Issues `count` tickets spread evenly over `services`, 20% VIP.
    fn fill(&mut self, services: Range<usize>, count: usize) {
        let span = services.len();
        for i in 0..count {
            let class = random_class(&mut self.rng);
            self.tick();
            self.issue(service_id(services.start + i % span), class);
        }
    }

    /// The counters of shape `shape` (an index into [`SHAPES`]) of [`Bed::branch`].
    pub fn shape_counters(shape: usize) -> Range<usize> {
        shape * COUNTERS_PER_SHAPE..(shape + 1) * COUNTERS_PER_SHAPE
    }

    /// Every counter of a [`Bed::stuck`] branch.
    pub fn stuck_counters() -> Range<usize> {
        0..COUNTERS_PER_SHAPE
    }

    /// The queue.
    pub fn queue(&self) -> &BranchQueue {
        &self.queue
    }

    /// Waiting tickets.
    pub fn waiting(&self) -> u32 {
        self.queue.total_waiting()
    }

    /// Opens the counters in `open` and closes the others (every counter is idle between timed
    /// batches). Estimates depend on which counters are open; calling does not.
    pub fn open_only(&mut self, open: Range<usize>) {
        let views: Vec<_> = self.queue.counters().collect();
        for (i, view) in views.iter().enumerate() {
            let should = open.contains(&i);
            let is = view.status == cem_queue::CounterStatus::Open;
            if should && !is {
                self.queue
                    .open_counter(view.id, None, self.now)
                    .expect("opens");
            } else if !should && is {
                self.queue.close_counter(view.id, self.now).expect("closes");
            }
        }
    }

    fn tick(&mut self) -> DateTime<Utc> {
        self.now += TimeDelta::milliseconds(1);
        self.now
    }

    fn new_id(&mut self) -> TicketId {
        self.next_ticket += 1;
        TicketId::from_u128(self.next_ticket)
    }

    fn request(&mut self, service: ServiceId, class: ClassId) -> IssueTicket {
        IssueTicket {
            ticket: self.new_id(),
            service,
            class: Some(class),
            source: TicketSource::Kiosk,
            customer: None,
            appointment_at: None,
        }
    }

    fn issue(&mut self, service: ServiceId, class: ClassId) -> TicketId {
        let req = self.request(service, class);
        let id = req.ticket;
        self.queue.issue(req, self.now).expect("issue succeeds");
        id
    }

    /// A new ticket like the ones the bed was filled with.
    fn random_request(&mut self) -> IssueTicket {
        let service =
            service_id(self.services.start + self.rng.random_range(0..self.services.len()));
        let class = random_class(&mut self.rng);
        self.request(service, class)
    }

    /// Moves to the next business day once enough tickets ended, which sweeps the ended ones out
    /// of the state (by issuing and cancelling one ticket on the new day).
    fn roll_if_due(&mut self) {
        if self.ended < self.roll_every {
            return;
        }
        let next = (self.now.date_naive() + Days::new(1)).and_time(NaiveTime::MIN);
        self.now = next.and_utc() + TimeDelta::hours(8);
        let id = self.issue(service_id(self.services.start), NORMAL);
        self.queue.cancel(id, self.now).expect("cancel succeeds");
        self.ended = 0;
    }

    /// Times `calls` calls of `call_next` on the counters of `counters` (in batches of at most
    /// 16, one call per counter). Outside the clock, each called ticket is finished and a
    /// ticket of the same service and class is issued in its place.
    pub fn time_call_next(&mut self, counters: Range<usize>, calls: u64) -> Duration {
        let ids: Vec<_> = counters.map(counter_id).take(BATCH).collect();
        let mut left = calls;
        let mut total = Duration::ZERO;
        while left > 0 {
            let batch = &ids[..ids.len().min(left as usize)];
            let now = self.tick();
            let started = Instant::now();
            for &c in batch {
                black_box(self.queue.call_next(c, now).expect("a ticket to call"));
            }
            total += started.elapsed();
            left -= batch.len() as u64;
            for &c in batch {
                self.replace_called(c);
            }
            self.roll_if_due();
        }
        self.stale = true;
        total
    }

    /// Finishes the ticket counter `c` holds and issues one of the same service and class.
    fn replace_called(&mut self, c: cem_core::CounterId) {
        let held = self.queue.counter(c).and_then(|v| v.ticket).expect("held");
        let t = self.queue.ticket(held).expect("known ticket");
        let (service, class) = (t.service, t.class);
        let now = self.tick();
        self.queue.finish(c, now).expect("finish succeeds");
        self.issue(service, class);
        self.ended += 1;
    }

    /// One whole turn of a counter, all of it for the caller's clock: `call_next`, `finish`,
    /// and the issue of a ticket of the same service and class as the one called.
    pub fn cycle(&mut self, counter: usize) {
        let c = counter_id(counter);
        let now = self.tick();
        black_box(self.queue.call_next(c, now).expect("a ticket to call"));
        self.replace_called(c);
        self.roll_if_due();
        self.stale = true;
    }

    /// Times `count` issues of new tickets (service and class drawn like the bed's own), in
    /// batches of 16; outside the clock each batch is cancelled again.
    pub fn time_issue(&mut self, count: u64) -> Duration {
        let mut left = count;
        let mut total = Duration::ZERO;
        let mut batch = Vec::with_capacity(BATCH);
        while left > 0 {
            let n = BATCH.min(left as usize);
            batch.clear();
            batch.extend((0..n).map(|_| self.random_request()));
            let ids: Vec<TicketId> = batch.iter().map(|r| r.ticket).collect();
            let now = self.tick();
            let started = Instant::now();
            for req in batch.drain(..) {
                black_box(self.queue.issue(req, now).expect("issue succeeds"));
            }
            total += started.elapsed();
            left -= n as u64;
            let now = self.tick();
            for id in ids {
                self.queue.cancel(id, now).expect("cancel succeeds");
            }
            self.ended += n;
            self.roll_if_due();
        }
        total
    }

    /// Times `count` cancels of waiting tickets drawn at random (anywhere in their lines), in
    /// batches of 16; outside the clock each cancelled ticket is replaced by a new one of the
    /// same service and class.
    pub fn time_cancel(&mut self, count: u64) -> Duration {
        if self.stale {
            self.waiting = self
                .queue
                .tickets()
                .filter(|t| t.state == TicketState::Waiting)
                .map(|t| t.id)
                .collect();
            self.stale = false;
        }
        let mut left = count;
        let mut total = Duration::ZERO;
        let mut batch = Vec::with_capacity(BATCH);
        while left > 0 {
            let n = BATCH.min(left as usize);
            batch.clear();
            for _ in 0..n {
                let j = self.rng.random_range(0..self.waiting.len());
                batch.push(self.waiting.swap_remove(j));
            }
            let now = self.tick();
            let started = Instant::now();
            for &id in &batch {
                black_box(self.queue.cancel(id, now).expect("cancel succeeds"));
            }
            total += started.elapsed();
            left -= n as u64;
            self.tick();
            for &id in &batch {
                let t = self.queue.ticket(id).expect("known ticket");
                let (service, class) = (t.service, t.class);
                let new = self.issue(service, class);
                self.waiting.push(new);
            }
            self.ended += n;
            self.roll_if_due();
        }
        total
    }

    /// Refreshes the estimate of every waiting ticket.
    pub fn estimates(&self) -> Vec<Estimate> {
        self.queue.estimates(self.now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beds_keep_their_waiting_count() {
        let mut bed = Bed::branch(2_000);
        assert_eq!(bed.waiting(), 2_000);
        for shape in 0..SHAPES.len() {
            bed.open_only(Bed::shape_counters(shape));
            bed.time_call_next(Bed::shape_counters(shape), 100);
            assert_eq!(bed.waiting(), 2_000);
        }
        bed.cycle(Bed::shape_counters(2).start);
        bed.time_issue(50);
        bed.time_cancel(50);
        assert_eq!(bed.waiting(), 2_000);
        assert_eq!(bed.estimates().len(), 2_000);
        let vip = bed
            .queue()
            .tickets()
            .filter(|t| t.state == TicketState::Waiting && t.class == VIP)
            .count();
        assert!((300..500).contains(&vip), "{vip} VIP tickets of 2000");
    }

    #[test]
    fn stuck_backlog_waits_where_nobody_serves() {
        let mut bed = Bed::stuck(500);
        assert_eq!(bed.waiting() as usize, STUCK_BASE_LOAD + 500);
        assert_eq!(bed.queue().waiting_count(service_id(SERVICES - 1)), 500);
        bed.time_call_next(Bed::stuck_counters(), 200);
        assert_eq!(bed.queue().waiting_count(service_id(SERVICES - 1)), 500);
        assert_eq!(bed.waiting() as usize, STUCK_BASE_LOAD + 500);
    }

    #[test]
    fn rolling_the_day_sweeps_ended_tickets() {
        let mut bed = Bed::branch(100);
        bed.roll_every = 64;
        bed.time_call_next(Bed::shape_counters(2), 1_000);
        assert!(bed.queue().tickets().count() < 100 + 64 + 32);
        assert_eq!(bed.waiting(), 100);
    }
}
