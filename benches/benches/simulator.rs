//! Simulated customers per second: the discrete-event simulator over the real scheduler, on an
//! M/M/4 branch at 87.5 % load with 20 % VIP under the strict policy, with and without the
//! waiting-time estimate recorded at every issue.

use cem_core::CallingPolicy;
use cem_queue::sim::{self, ArrivalSpec, ClassSpec, CounterSpec, Dist, Scenario, ServiceSpec};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const CUSTOMERS: u64 = 100_000;

fn scenario(estimate: bool) -> Scenario {
    let arrivals = |class: &str, per_hour: f64| ArrivalSpec {
        service: "A".into(),
        class: class.into(),
        per_hour,
    };
    Scenario {
        seed: 42,
        customers: CUSTOMERS,
        warmup: 1_000,
        estimate,
        policy: CallingPolicy::Strict,
        classes: vec![
            ClassSpec {
                code: "vip".into(),
                rank: 1,
                weight: 2,
            },
            ClassSpec {
                code: "normal".into(),
                rank: 2,
                weight: 1,
            },
        ],
        services: vec![ServiceSpec {
            prefix: "A".into(),
            service_time: Dist::Exponential { mean_secs: 300.0 },
            target_wait_secs: 600,
            max_wait_secs: None,
        }],
        counters: vec![CounterSpec {
            count: 4,
            services: vec!["A".into()],
            ranks: None,
            classes: None,
            policy: None,
            shifts: vec![],
        }],
        arrivals: vec![arrivals("vip", 8.4), arrivals("normal", 33.6)],
        trace: vec![],
        patience: None,
        queue: Default::default(),
    }
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
