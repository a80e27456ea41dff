//! Simulated customers per second: the discrete-event simulator over the real scheduler, on an
//! M/M/4 branch at 87.5 % load with 20 % VIP under the strict policy, with and without the
//! waiting-time estimate recorded at every issue.

use cem_core::CallingPolicy;
use cem_queue::sim::{self, Scenario};
use cem_queue::testing;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const CUSTOMERS: u64 = 100_000;

fn scenario(estimate: bool) -> Scenario {
    let mut s = testing::vip_scenario(CallingPolicy::Strict, CUSTOMERS);
    s.estimate = estimate;
    s
}

fn simulate(c: &mut Criterion) {
    let mut group = c.benchmark_group("simulate");
    group.sample_size(10);
    group.throughput(Throughput::Elements(CUSTOMERS));
    for (name, estimate) in [("mmc4_vip20/estimates", true), ("mmc4_vip20/plain", false)] {
        let s = scenario(estimate);
        group.bench_function(name, |b| b.iter(|| sim::run(&s).expect("valid scenario")));
    }
    group.finish();
}

criterion_group!(benches, simulate);
criterion_main!(benches);
