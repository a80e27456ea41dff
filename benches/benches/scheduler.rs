//! Criterion benches of the branch queue's hot paths, by number of waiting tickets (10³, 10⁵,
//! 10⁶; 20% VIP over 16 services) and by counter shape (counters serving 1, 4 or 16 services).
//!
//! Groups and ids (`<group>/<id>`; criterion stores each under
//! `target/criterion/<group>/<function with '/' as '_'>/<size>/new/`):
//!
//! - `call_next/queue/{1,4,16}svc/N`: one `call_next` on a branch with N waiting; the called
//!   ticket is finished and replaced outside the clock, so N stays constant;
//! - `call_next/baseline_vecdeque/N`, `call_next/baseline_binaryheap/N`: a bare
//!   `VecDeque` pop_front + push_back and a `BinaryHeap` pop + push at the same sizes;
//! - `call_next/stuck_backlog/B`: `call_next` for counters serving 15 services while B tickets
//!   wait in the 16th, which no counter serves (B = 0 and 10⁵, 1000 tickets in the others);
//! - `cycle/queue/16svc/N`: `call_next` + `finish` + the issue of a replacement, all timed;
//! - `issue/queue/N`: one `issue` (cancelled again outside the clock);
//! - `cancel/queue/N`: one `cancel` of a random waiting ticket by id (replaced outside the clock);
//! - `estimates/queue/{1,4,16}svc/N`: `estimates(now)` of every waiting ticket, with only the
//!   counters of that shape open (10 samples), on beds built afresh for this group.
//!
//! Beds are built lazily, once per size, the first time a bench that matches the filter needs
//! them, and shared by every group after it. Run without `--bench` (as `cargo test --benches`
//! does) only the 10³ sizes run, once each, as a smoke test. `.ci/bench-guard` reads the results.

use std::collections::{BTreeMap, BinaryHeap, VecDeque};
use std::hint::black_box;
use std::time::Duration;

use cem_benches::{Bed, SHAPES};
use criterion::{BenchmarkId, Criterion, SamplingMode};

const SIZES: [usize; 3] = [1_000, 100_000, 1_000_000];
const STUCK_BACKLOG: usize = 100_000;

/// Beds built so far, by size.
#[derive(Default)]
struct Beds {
    branch: BTreeMap<usize, Bed>,
    stuck: BTreeMap<usize, Bed>,
}

impl Beds {
    fn branch(&mut self, n: usize) -> &mut Bed {
        self.branch.entry(n).or_insert_with(|| Bed::branch(n))
    }

    fn stuck(&mut self, backlog: usize) -> &mut Bed {
        self.stuck
            .entry(backlog)
            .or_insert_with(|| Bed::stuck(backlog))
    }
}

fn sizes() -> Vec<usize> {
    if std::env::args().any(|a| a == "--bench") {
        SIZES.to_vec()
    } else {
        SIZES[..1].to_vec()
    }
}

fn call_next(c: &mut Criterion, beds: &mut Beds) {
    let mut group = c.benchmark_group("call_next");
    for n in sizes() {
        group.bench_function(BenchmarkId::new("baseline_vecdeque", n), |b| {
            let mut line: VecDeque<(u32, u64)> = (0..n as u64).map(|i| (i as u32, i)).collect();
            b.iter(|| {
                let e = line.pop_front().expect("not empty");
                line.push_back(black_box(e));
            });
        });
        group.bench_function(BenchmarkId::new("baseline_binaryheap", n), |b| {
            // Min-heap on (class, sequence): one VIP in five goes ahead of every normal.
            let key = |seq: u64| (u64::from(!seq.is_multiple_of(5)) << 40) | seq;
            let mut heap: BinaryHeap<std::cmp::Reverse<(u64, u32)>> = (0..n as u64)
                .map(|i| std::cmp::Reverse((key(i), i as u32)))
                .collect();
            let mut seq = n as u64;
            b.iter(|| {
                let std::cmp::Reverse((_, slot)) = heap.pop().expect("not empty");
                seq += 1;
                heap.push(std::cmp::Reverse((key(seq), black_box(slot))));
            });
        });
        for (shape, k) in SHAPES.iter().enumerate() {
            group.bench_function(BenchmarkId::new(format!("queue/{k}svc"), n), |b| {
                let bed = beds.branch(n);
                bed.open_only(Bed::shape_counters(shape));
                b.iter_custom(|iters| bed.time_call_next(Bed::shape_counters(shape), iters));
            });
        }
    }
    for backlog in [0, STUCK_BACKLOG] {
        group.bench_function(BenchmarkId::new("stuck_backlog", backlog), |b| {
            let bed = beds.stuck(backlog);
            b.iter_custom(|iters| bed.time_call_next(Bed::stuck_counters(), iters));
        });
    }
    group.finish();
}

fn cycle(c: &mut Criterion, beds: &mut Beds) {
    let mut group = c.benchmark_group("cycle");
    let shape = SHAPES.len() - 1;
    for n in sizes() {
        group.bench_function(BenchmarkId::new("queue/16svc", n), |b| {
            let bed = beds.branch(n);
            bed.open_only(Bed::shape_counters(shape));
            let counter = Bed::shape_counters(shape).start;
            b.iter(|| bed.cycle(counter));
        });
    }
    group.finish();
}

fn issue(c: &mut Criterion, beds: &mut Beds) {
    let mut group = c.benchmark_group("issue");
    for n in sizes() {
        group.bench_function(BenchmarkId::new("queue", n), |b| {
            let bed = beds.branch(n);
            b.iter_custom(|iters| bed.time_issue(iters));
        });
    }
    group.finish();
}

fn cancel(c: &mut Criterion, beds: &mut Beds) {
    let mut group = c.benchmark_group("cancel");
    for n in sizes() {
        group.bench_function(BenchmarkId::new("queue", n), |b| {
            let bed = beds.branch(n);
            b.iter_custom(|iters| bed.time_cancel(iters));
        });
    }
    group.finish();
}

fn estimates(c: &mut Criterion, beds: &mut Beds) {
    // Fresh beds: the refresh is measured on lines without the stale entries that the issue and
    // cancel benches leave behind. (It also sidesteps a bug: `estimates` panics on a stale entry
    // whose record a business-day change swept away, which those benches' day changes cause.)
    beds.branch.clear();
    let mut group = c.benchmark_group("estimates");
    // A refresh of 10⁶ estimates takes a good fraction of a second.
    group.sample_size(10).sampling_mode(SamplingMode::Flat);
    for n in sizes() {
        for (shape, k) in SHAPES.iter().enumerate() {
            group.bench_function(BenchmarkId::new(format!("queue/{k}svc"), n), |b| {
                let bed = beds.branch(n);
                bed.open_only(Bed::shape_counters(shape));
                b.iter(|| bed.estimates());
            });
        }
    }
    group.finish();
}

fn main() {
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    let mut beds = Beds::default();
    call_next(&mut c, &mut beds);
    cycle(&mut c, &mut beds);
    issue(&mut c, &mut beds);
    cancel(&mut c, &mut beds);
    estimates(&mut c, &mut beds);
    c.final_summary();
}
