//! Ready-made configurations and simulation scenarios for tests, benches, examples and
//! documentation.

use crate::sim::{ArrivalSpec, ClassSpec, CounterSpec, Dist, Scenario, ServiceSpec};
use cem_core::chrono_tz::Tz;
use cem_core::{
    Branch, BranchConfig, BranchId, CallingPolicy, ClassId, Counter, CounterId, Language,
    LocalizedText, OpeningHours, OrganizationId, PriorityClass, QueueSettings, Service, ServiceId,
    WorkProfile,
};

/// Id of the `vip` class of [`branch_config`] (rank 1, weight 2).
pub const VIP: ClassId = ClassId::from_u128(0x000C_1A55_0001);
/// Id of the `normal` class of [`branch_config`] (rank 2, weight 1).
pub const NORMAL: ClassId = ClassId::from_u128(0x000C_1A55_0002);

/// The id of service number `i` (0-based) of [`branch_config`].
pub fn service_id(i: usize) -> ServiceId {
    ServiceId::from_u128(0x5E2_0000 + i as u128)
}

/// The id of counter number `i` (0-based) of [`branch_config`].
pub fn counter_id(i: usize) -> CounterId {
    CounterId::from_u128(0xC0_0000 + i as u128)
}

/// A branch in Europe/Berlin, always open, with classes `vip` and `normal`, `services` services
/// (prefixes `A`, `B`, … then `S16`, …; 5 minutes expected, 10 minutes target, no maximum wait,
/// appointments accepted) and `counters` counters that serve every service under `strict`.
pub fn branch_config(services: usize, counters: usize) -> BranchConfig {
    let en = Language::en();
    let text = |s: String| LocalizedText::single(en.clone(), s);
    let tz: Tz = cem_core::chrono_tz::Europe::Berlin;
    let services: Vec<Service> = (0..services)
        .map(|i| {
            let prefix = if i < 26 {
                char::from(b'A' + i as u8).to_string()
            } else {
                format!("S{i}")
            };
            Service {
                id: service_id(i),
                name: text(format!("Service {prefix}")),
                prefix,
                expected_service_secs: 300,
                target_wait_secs: 600,
                max_wait_secs: None,
                daily_cap: None,
                takes_appointments: true,
            }
        })
        .collect();
    let counters = (0..counters)
        .map(|i| Counter {
            id: counter_id(i),
            number: i as u16 + 1,
            name: None,
            profile: WorkProfile::serving(services.iter().map(|s| s.id), CallingPolicy::Strict),
        })
        .collect();
    BranchConfig {
        branch: Branch {
            id: BranchId::from_u128(0xB2A4C4),
            organization: OrganizationId::from_u128(0x0A6),
            name: text("Test branch".into()),
            time_zone: tz,
            opening_hours: OpeningHours::always(),
            queue: QueueSettings::default(),
        },
        classes: vec![
            PriorityClass {
                id: VIP,
                code: "vip".into(),
                name: text("VIP".into()),
                rank: 1,
                weight: 2,
            },
            PriorityClass {
                id: NORMAL,
                code: "normal".into(),
                name: text("Normal".into()),
                rank: 2,
                weight: 1,
            },
        ],
        services,
        counters,
    }
}

/// A simulation of one service `A` (exponential service of 300 s, target 300 s) at `counters`
/// counters with one class `normal` arriving `per_hour`: an M/M/c queue under FIFO. 10 000
/// customers, seed 1, no warm-up, no estimates.
pub fn one_service_scenario(counters: u32, per_hour: f64) -> Scenario {
    Scenario {
        seed: 1,
        customers: 10_000,
        warmup: 0,
        estimate: false,
        policy: CallingPolicy::Strict,
        classes: vec![ClassSpec {
            code: "normal".into(),
            rank: 1,
            weight: 1,
        }],
        services: vec![ServiceSpec {
            prefix: "A".into(),
            service_time: Dist::Exponential { mean_secs: 300.0 },
            target_wait_secs: 300,
            max_wait_secs: None,
        }],
        counters: vec![CounterSpec {
            count: counters,
            services: vec!["A".into()],
            ranks: None,
            classes: None,
            policy: None,
            shifts: vec![],
        }],
        arrivals: vec![ArrivalSpec {
            service: "A".into(),
            class: "normal".into(),
            per_hour,
            hours: None,
        }],
        trace: vec![],
        patience: None,
        queue: Default::default(),
    }
}

/// M/M/4 at 87.5 % load with 20 % VIP (classes `vip` rank 1 weight 2, `normal` rank 2), the
/// branch of `examples/scenarios/mmc-strict-vip.toml`: `customers` customers, seed 42, 1 000 of
/// warm-up, estimates recorded, counters under `policy`.
pub fn vip_scenario(policy: CallingPolicy, customers: u64) -> Scenario {
    let mut s = one_service_scenario(4, 33.6);
    s.seed = 42;
    s.customers = customers;
    s.warmup = 1_000;
    s.estimate = true;
    s.policy = policy;
    s.services[0].target_wait_secs = 600;
    s.classes = vec![
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
    ];
    s.arrivals.push(ArrivalSpec {
        service: "A".into(),
        class: "vip".into(),
        per_hour: 8.4,
        hours: None,
    });
    s
}
