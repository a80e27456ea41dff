//! The demo organization: what the reference server loads into an empty database, so a new
//! user finds every page working and reports with something to show.
//!
//! **Demo Bank** (`بانک نمونه`) has three priority classes (`vip`, `priority` for the elderly
//! and disabled, `normal`) and three branches in three time zones:
//!
//! | Branch   | Time zone          | Open                                              | Counters |
//! |----------|--------------------|---------------------------------------------------|----------|
//! | Berlin   | `Europe/Berlin`    | Mon–Fri 09:00–16:00, Thursday until 18:00         | 5        |
//! | New York | `America/New_York` | Mon–Fri 09:00–17:00, Saturday 09:00–13:00         | 6        |
//! | Tehran   | `Asia/Tehran`      | Sat–Wed 07:30–15:00, Thursday 07:30–12:30         | 5        |
//!
//! Each branch offers four services (one of them, loans and advice, takes appointments) and has
//! one VIP-only counter; the other counters mix services with ranks and the `strict`,
//! `interleave` and `weighted_wait` policies.
//!
//! The queue history is a simulation that drives the real [`BranchQueue`]: the last fourteen
//! business days of each branch in its own time zone, then today up to `now`, ending with a
//! small crowd walking in, so a branch open at `now` has customers waiting and counters
//! serving. Customers arrive as a Poisson process whose rate peaks around midday; about 5 % are
//! VIP and 10 % priority, about 5 % do not come when called and 3 % leave before their turn; a
//! few are transferred or parked. Counters open when the branch opens, take a break on long
//! days and close once the last customer is served. Ids and random draws are fixed, so the same
//! `now` gives the same demo: roughly 200 tickets per branch and business day, some 9 000
//! tickets and 37 000 events in all, loaded in under a second into memory and in about two into
//! a SQLite file (debug build).
//!
//! Two customers are known by number, for the kiosk: `1001` (VIP, English) and `1002`
//! (Persian); every tenth ticket of the history is one of theirs, so their earlier visits show.
//!
//! # Demo logins
//!
//! Every demo user's password is **`demo`**.
//!
//! | Login                                   | Role           | Branch       |
//! |-----------------------------------------|----------------|--------------|
//! | `admin`                                 | administrator  | all          |
//! | `manager-berlin`, `manager-new-york`, `manager-tehran` | branch manager | its city |
//! | `agent-berlin-1` … `agent-berlin-5`     | agent at counter 1…5 | Berlin |
//! | `agent-new-york-1` … `agent-new-york-6` | agent at counter 1…6 | New York |
//! | `agent-tehran-1` … `agent-tehran-5`     | agent at counter 1…5 | Tehran |

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use anyhow::{Context as _, bail, ensure};
use cem_core::CallingPolicy::{Interleave, Strict, WeightedWait};
use cem_core::{
    Agent, AgentId, Branch, BranchConfig, BranchId, CallingPolicy, ClassId, Counter, CounterId,
    Customer, CustomerId, Language, LocalizedText, NewEvent, OpeningHours, OpeningInterval,
    OrgStore, OrgStoreExt as _, Organization, OrganizationId, PriorityClass, ProfileService,
    QueueEventStore, QueueSettings, Role, Service, ServiceId, SignageStore, Snapshot, SurveyStore,
    TicketId, User, UserId, WorkProfile,
};
use cem_queue::service::encode;
use cem_queue::{
    BranchQueue, Command, CounterStatus, IssueTicket, LinePosition, QueueError, QueueEvent,
    SNAPSHOT_FORMAT, TicketSource, TicketState, TransferTarget,
};
use chrono::Weekday::{self, Fri, Mon, Sat, Sun, Thu, Tue, Wed};
use chrono::{
    DateTime, Datelike as _, Duration, NaiveDate, NaiveTime, TimeZone as _, Timelike as _, Utc,
};
use chrono_tz::Tz;
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use rand_distr::{Distribution as _, Exp, LogNormal};

/// The password of every demo user.
pub(crate) const PASSWORD: &str = "demo";

/// Business days of history before today, per branch.
const PAST_DAYS: usize = 14;

/// Events per `append`: few round trips, yet each transaction stays small.
const APPEND_CHUNK: usize = 1_000;

/// Seed of every random draw of the demo; a day's draws also depend on its branch and date.
const SEED: u64 = 0xCEDE_2026;

// ----- the organization, as data ---------------------------------------------------------------

/// A priority class of the demo.
#[derive(Debug)]
struct ClassSpec {
    code: &'static str,
    en: &'static str,
    fa: &'static str,
    rank: u16,
    weight: u32,
    /// Share of the customers in this class.
    share: f64,
}

/// The organization's classes, best first.
#[rustfmt::skip]
const CLASSES: [ClassSpec; 3] = [
    ClassSpec { code: "vip", en: "VIP", fa: "ویژه", rank: 1, weight: 3, share: 0.05 },
    ClassSpec {
        code: "priority",
        en: "Priority (elderly, disabled)",
        fa: "اولویت‌دار (سالمندان، توان‌خواهان)",
        rank: 2, weight: 2, share: 0.10,
    },
    ClassSpec { code: "normal", en: "Normal", fa: "عادی", rank: 3, weight: 1, share: 0.85 },
];

/// Index of the `vip` class in [`CLASSES`].
const VIP: usize = 0;

/// A service of a branch.
#[derive(Debug)]
struct ServiceSpec {
    prefix: &'static str,
    en: &'static str,
    fa: &'static str,
    /// Expected service time, minutes.
    service_min: u32,
    /// Target wait, minutes.
    target_min: u32,
    /// Waiting longer escalates a ticket, minutes.
    max_wait_min: Option<u32>,
    appointments: bool,
    /// Share of the branch's customers who come for it.
    share: f64,
}

/// A counter of a branch, with the agent who works there.
#[derive(Debug)]
struct CounterSpec {
    /// Services by prefix, with rank and weight in the work profile.
    services: &'static [(&'static str, u16, u32)],
    /// Takes only the `vip` class (and then every service).
    vip_only: bool,
    policy: CallingPolicy,
    /// Display name in English and Persian.
    name: Option<(&'static str, &'static str)>,
    agent: &'static str,
    /// The agent's pace: service times are multiplied by it.
    pace: f64,
}

/// One opening interval of a branch, local time.
#[derive(Debug)]
struct Day {
    day: Weekday,
    open: (u32, u32),
    close: (u32, u32),
    /// How busy the day is: arrival rates are multiplied by it.
    busy: f64,
}

/// A branch of the demo.
#[derive(Debug)]
struct BranchSpec {
    /// Its part of logins (`manager-berlin`).
    key: &'static str,
    en: &'static str,
    fa: &'static str,
    time_zone: Tz,
    /// Language of its staff's pages.
    language: &'static str,
    hours: &'static [Day],
    /// Customers per hour at the daily peak (on a day of `busy` 1).
    peak_per_hour: f64,
    /// Local time of the peak, hours.
    peak_at: f64,
    services: &'static [ServiceSpec],
    counters: &'static [CounterSpec],
    manager: &'static str,
}

/// A row of [`BranchSpec::hours`].
const fn day(day: Weekday, open: (u32, u32), close: (u32, u32), busy: f64) -> Day {
    Day {
        day,
        open,
        close,
        busy,
    }
}

/// A counter taking every class, unnamed.
const fn counter(
    services: &'static [(&'static str, u16, u32)],
    policy: CallingPolicy,
    agent: &'static str,
    pace: f64,
) -> CounterSpec {
    CounterSpec {
        services,
        vip_only: false,
        policy,
        name: None,
        agent,
        pace,
    }
}

/// The VIP desk: only the `vip` class, every service listed, `strict`.
const fn vip_counter(
    services: &'static [(&'static str, u16, u32)],
    agent: &'static str,
) -> CounterSpec {
    CounterSpec {
        services,
        vip_only: true,
        policy: CallingPolicy::Strict,
        name: Some(("VIP desk", "میز ویژه")),
        agent,
        pace: 1.1,
    }
}

/// A row of [`BranchSpec::services`].
#[allow(clippy::too_many_arguments, reason = "one row of a table")]
const fn service(
    prefix: &'static str,
    en: &'static str,
    fa: &'static str,
    service_min: u32,
    target_min: u32,
    max_wait_min: Option<u32>,
    appointments: bool,
    share: f64,
) -> ServiceSpec {
    ServiceSpec {
        prefix,
        en,
        fa,
        service_min,
        target_min,
        max_wait_min,
        appointments,
        share,
    }
}

/// The branches of Demo Bank.
#[rustfmt::skip]
static BRANCHES: [BranchSpec; 3] = [
    BranchSpec {
        key: "berlin",
        en: "Berlin",
        fa: "برلین",
        time_zone: chrono_tz::Europe::Berlin,
        language: "en",
        hours: &[
            day(Mon, (9, 0), (16, 0), 1.15),
            day(Tue, (9, 0), (16, 0), 1.0),
            day(Wed, (9, 0), (16, 0), 0.95),
            day(Thu, (9, 0), (18, 0), 1.0),
            day(Fri, (9, 0), (16, 0), 1.1),
        ],
        peak_per_hour: 37.0,
        peak_at: 12.5,
        services: &[
            //      prefix  English              Persian             min target max appt share
            service("A", "Cash & deposits",  "دریافت و پرداخت",   3, 10, Some(40), false, 0.40),
            service("B", "Accounts & cards", "حساب و کارت",       6, 12, Some(45), false, 0.30),
            service("C", "Loans & advice",   "تسهیلات و مشاوره",  10, 15, None,     true, 0.12),
            service("X", "Foreign exchange", "ارز",               4, 10, Some(40), false, 0.18),
        ],
        counters: &[
            counter(&[("A", 1, 1), ("B", 2, 1)], Strict, "Lukas Weber", 0.95),
            counter(&[("X", 1, 1), ("A", 2, 1)], Interleave, "Mia Fischer", 1.0),
            counter(&[("B", 1, 2), ("A", 1, 1)], WeightedWait, "Jonas Becker", 1.05),
            CounterSpec {
                name: Some(("Advice desk", "میز مشاوره")),
                ..counter(&[("C", 1, 1), ("B", 2, 1)], Strict, "Lea Hoffmann", 1.0)
            },
            vip_counter(&[("A", 1, 1), ("B", 1, 1), ("C", 1, 1), ("X", 1, 1)], "Felix Wagner"),
        ],
        manager: "Anna Schneider",
    },
    BranchSpec {
        key: "new-york",
        en: "New York",
        fa: "نیویورک",
        time_zone: chrono_tz::America::New_York,
        language: "en",
        hours: &[
            day(Mon, (9, 0), (17, 0), 1.1),
            day(Tue, (9, 0), (17, 0), 1.0),
            day(Wed, (9, 0), (17, 0), 0.95),
            day(Thu, (9, 0), (17, 0), 1.0),
            day(Fri, (9, 0), (17, 0), 1.15),
            day(Sat, (9, 0), (13, 0), 1.4),
        ],
        peak_per_hour: 40.0,
        peak_at: 12.5,
        services: &[
            //      prefix  English               Persian               min target max appt share
            service("A", "Teller services",   "دریافت و پرداخت",     3, 10, Some(40), false, 0.42),
            service("B", "Accounts & cards",  "حساب و کارت",         6, 15, Some(45), false, 0.28),
            service("C", "Mortgages & loans", "وام مسکن و تسهیلات",  10, 15, None,     true, 0.12),
            service("D", "Business banking",  "بانکداری شرکتی",      8, 15, Some(45), false, 0.18),
        ],
        counters: &[
            counter(&[("A", 1, 1)], Strict, "Emily Johnson", 0.9),
            counter(&[("A", 1, 1), ("B", 2, 1)], Interleave, "Michael Brown", 1.0),
            counter(&[("B", 1, 2), ("A", 1, 1)], WeightedWait, "Sarah Davis", 1.05),
            CounterSpec {
                name: Some(("Mortgage desk", "میز وام مسکن")),
                ..counter(&[("C", 1, 1), ("B", 2, 1)], Strict, "David Miller", 1.0)
            },
            CounterSpec {
                name: Some(("Business desk", "میز شرکتی")),
                ..counter(&[("D", 1, 1), ("C", 2, 1)], Interleave, "Jessica Wilson", 1.0)
            },
            vip_counter(&[("A", 1, 1), ("B", 1, 1), ("C", 1, 1), ("D", 1, 1)], "Daniel Moore"),
        ],
        manager: "Robert Taylor",
    },
    BranchSpec {
        key: "tehran",
        en: "Tehran",
        fa: "تهران",
        time_zone: chrono_tz::Asia::Tehran,
        language: "fa",
        hours: &[
            day(Sat, (7, 30), (15, 0), 1.15),
            day(Sun, (7, 30), (15, 0), 1.05),
            day(Mon, (7, 30), (15, 0), 1.0),
            day(Tue, (7, 30), (15, 0), 1.0),
            day(Wed, (7, 30), (15, 0), 1.05),
            day(Thu, (7, 30), (12, 30), 1.1),
        ],
        peak_per_hour: 37.0,
        peak_at: 10.5,
        services: &[
            //      prefix  English              Persian             min target max appt share
            service("A", "Cash & deposits",  "دریافت و پرداخت",   3, 10, Some(40), false, 0.45),
            service("B", "Accounts & cards", "حساب و کارت",       5, 12, Some(45), false, 0.25),
            service("C", "Loans & advice",   "تسهیلات و مشاوره",  9, 15, None,     true, 0.15),
            service("X", "Foreign exchange", "ارز",               5, 12, Some(40), false, 0.15),
        ],
        counters: &[
            counter(&[("A", 1, 1), ("X", 2, 1)], Strict, "مریم احمدی", 1.0),
            counter(&[("A", 1, 1), ("B", 1, 1)], Interleave, "علی رضایی", 0.95),
            counter(&[("B", 1, 2), ("X", 1, 1)], WeightedWait, "زهرا حسینی", 1.05),
            CounterSpec {
                name: Some(("Advice desk", "میز مشاوره")),
                ..counter(&[("C", 1, 1), ("A", 2, 1)], Strict, "محمد کریمی", 1.0)
            },
            vip_counter(&[("A", 1, 1), ("B", 1, 1), ("C", 1, 1), ("X", 1, 1)], "فاطمه موسوی"),
        ],
        manager: "رضا محمدی",
    },
];

// ----- ids ---------------------------------------------------------------------------------------

/// The kinds of record, a field of every demo id.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Organization = 1,
    Class,
    Branch,
    Service,
    Counter,
    Agent,
    User,
    Ticket,
    /// The survey, and each answer's invitation, response and case (the same number).
    Survey,
    /// Screens, their layout and playlist, news.
    Signage,
    /// Customers known by number.
    Customer,
}

/// A demo id, `cede0000-00KK-00BB-NNNN-NNNNNNNNNNNN`: kind, branch (or 0) and a number, so ids
/// are fixed, distinct across kinds and recognizable in a database.
fn demo_id(kind: Kind, branch: usize, n: u64) -> u128 {
    (0xCEDE_0000_u128 << 96) | (kind as u128) << 80 | (branch as u128) << 64 | u128::from(n)
}

/// Demo Bank.
fn organization_id() -> OrganizationId {
    OrganizationId::from_u128(demo_id(Kind::Organization, 0, 1))
}

/// The class at `class` in [`CLASSES`].
fn class_id(class: usize) -> ClassId {
    ClassId::from_u128(demo_id(Kind::Class, 0, class as u64 + 1))
}

/// The branch at `branch` in [`BRANCHES`].
fn branch_id(branch: usize) -> BranchId {
    BranchId::from_u128(demo_id(Kind::Branch, branch + 1, 0))
}

/// A branch's service, by its index in the branch's table.
fn service_id(branch: usize, service: usize) -> ServiceId {
    ServiceId::from_u128(demo_id(Kind::Service, branch + 1, service as u64 + 1))
}

/// A branch's counter, by its index in the branch's table.
fn counter_id(branch: usize, counter: usize) -> CounterId {
    CounterId::from_u128(demo_id(Kind::Counter, branch + 1, counter as u64 + 1))
}

/// The agent at a branch's counter.
fn agent_id(branch: usize, counter: usize) -> AgentId {
    AgentId::from_u128(demo_id(Kind::Agent, branch + 1, counter as u64 + 1))
}

/// Users: the admin is number 0 of branch 0; a branch's manager is its number 0, then one
/// agent per counter.
fn user_id(branch: Option<usize>, n: u64) -> UserId {
    UserId::from_u128(demo_id(Kind::User, branch.map_or(0, |b| b + 1), n))
}

/// The known customers: a number, whether VIP, and a language.
const CUSTOMERS: [(&str, bool, &str); 2] = [("1001", true, "en"), ("1002", false, "fa")];

/// The known customer at `n` in [`CUSTOMERS`].
fn customer_id(n: usize) -> CustomerId {
    CustomerId::from_u128(demo_id(Kind::Customer, 0, n as u64 + 1))
}

/// Every tenth customer through the door is one of the known customers, in turn, so staff
/// find earlier visits when they call them.
fn known_customer(issued: u64) -> Option<CustomerId> {
    issued
        .is_multiple_of(10)
        .then(|| customer_id((issued / 10 % CUSTOMERS.len() as u64) as usize))
}

/// A branch's `n`-th ticket of the demo.
fn ticket_id(branch: usize, n: u64) -> TicketId {
    TicketId::from_u128(demo_id(Kind::Ticket, branch + 1, n))
}

// ----- what the loader returns -----------------------------------------------------------------

/// What [`load`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Summary {
    /// Demo Bank.
    pub(crate) organization: OrganizationId,
    /// Its branches, in the order they were written.
    pub(crate) branches: Vec<BranchSummary>,
    /// Users written (every one with the password [`PASSWORD`]).
    pub(crate) users: usize,
    /// Survey responses written.
    pub(crate) responses: usize,
}

/// What [`load`] wrote for one branch.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BranchSummary {
    /// The branch.
    pub(crate) id: BranchId,
    /// Its English name.
    pub(crate) name: &'static str,
    /// Local business days with history, today included when it has begun.
    pub(crate) days: usize,
    /// Tickets issued.
    pub(crate) tickets: u64,
    /// Events written: the stream's version.
    pub(crate) events: u64,
}

// ----- loading ------------------------------------------------------------------------------------

/// Whether the store holds no organization yet: the server loads the demo only then.
///
/// # Errors
/// What the store returns.
pub(crate) async fn is_empty(org: &dyn OrgStore) -> anyhow::Result<bool> {
    Ok(org
        .organizations()
        .await
        .context("listing organizations")?
        .is_empty())
}

/// Loads the demo organization into empty stores: its records into `org`, the queue history
/// of its branches up to `now` into `events`, then a snapshot of each branch, its survey with
/// the answers of a share of the visits into `surveys`, and its screens, news and branches'
/// public information into `signage`. `hash` turns the
/// password [`PASSWORD`] into the stored hash.
///
/// Running it twice gives the same records and events for the same `now`.
///
/// # Errors
/// When `org` already holds an organization (nothing is written then), when a branch stream
/// already has events, or when a store fails. Two servers starting together on one empty
/// database both pass the first check, write the same records, and one of them fails on the
/// first append.
pub(crate) async fn load(
    org: &dyn OrgStore,
    events: &dyn QueueEventStore,
    surveys: &dyn SurveyStore,
    signage: &dyn SignageStore,
    hash: &(dyn Fn(&str) -> String + Sync),
    now: DateTime<Utc>,
) -> anyhow::Result<Summary> {
    if !is_empty(org).await? {
        bail!("the store already holds an organization: the demo loads only into an empty one");
    }
    // One hash for every user: the demo password is public anyway, and a deliberately slow
    // password hash run once per user would make start-up crawl in debug builds.
    let records = DemoOrg::build(&hash(PASSWORD));
    for config in &records.branches {
        let id = config.branch.id;
        config
            .validate()
            .with_context(|| format!("the demo branch {id}"))?;
    }
    records.write(org).await?;

    let mut summary = Summary {
        organization: records.organization.id,
        branches: Vec::with_capacity(BRANCHES.len()),
        users: records.users.len(),
        responses: 0,
    };
    for (no, spec) in BRANCHES.iter().enumerate() {
        let id = branch_id(no);
        // The queue runs on the configuration as the server will read it, so the snapshot
        // saved below is one the server accepts.
        let config = org
            .branch_config(id)
            .await
            .context("reading a demo branch")?;
        ensure!(
            config == records.branches[no],
            "the store returned another configuration of the demo branch {id} than was written"
        );
        let history = History::simulate(spec, no, config, now)?;
        history.write(events).await?;
        summary.branches.push(BranchSummary {
            id,
            name: spec.en,
            days: history.days,
            tickets: history.tickets,
            events: history.queue.version(),
        });
    }
    summary.responses = surveys::load(surveys, events, summary.organization, now).await?;
    signage::load(signage, summary.organization, now).await?;
    Ok(summary)
}

/// Every record of the demo organization.
#[derive(Debug)]
struct DemoOrg {
    organization: Organization,
    classes: Vec<PriorityClass>,
    /// Each branch with its classes, services and counters, in [`BRANCHES`] order.
    branches: Vec<BranchConfig>,
    agents: Vec<Agent>,
    users: Vec<User>,
}

impl DemoOrg {
    /// The records, every user's password hash being `password_hash`.
    fn build(password_hash: &str) -> Self {
        let (en, fa) = (Language::en(), Language::fa());
        let text = |e: &str, f: &str| LocalizedText::single(en.clone(), e).with(fa.clone(), f);
        let organization = Organization {
            id: organization_id(),
            name: text("Demo Bank", "بانک نمونه"),
            default_language: en.clone(),
        };
        let classes: Vec<PriorityClass> = CLASSES
            .iter()
            .enumerate()
            .map(|(i, c)| PriorityClass {
                id: class_id(i),
                code: c.code.into(),
                name: text(c.en, c.fa),
                rank: c.rank,
                weight: c.weight,
            })
            .collect();
        let user = |id, login: String, name: &str, role, branches, agent, language: &str| User {
            id,
            organization: organization.id,
            login,
            name: name.into(),
            role,
            branches,
            agent,
            language: Some(Language::new(language)),
            password_hash: password_hash.into(),
            active: true,
        };
        let mut users = vec![user(
            user_id(None, 0),
            "admin".into(),
            "Demo Admin",
            Role::Admin,
            Vec::new(),
            None,
            "en",
        )];
        let mut agents = Vec::new();
        let mut branches = Vec::new();
        for (no, spec) in BRANCHES.iter().enumerate() {
            let id = branch_id(no);
            branches.push(branch_config(no, spec, organization.id, &classes));
            users.push(user(
                user_id(Some(no), 0),
                format!("manager-{}", spec.key),
                spec.manager,
                Role::BranchManager,
                vec![id],
                None,
                spec.language,
            ));
            for (i, c) in spec.counters.iter().enumerate() {
                let agent = Agent {
                    id: agent_id(no, i),
                    organization: organization.id,
                    name: c.agent.into(),
                    branches: vec![id],
                };
                users.push(user(
                    user_id(Some(no), i as u64 + 1),
                    format!("agent-{}-{}", spec.key, i + 1),
                    c.agent,
                    Role::Agent,
                    vec![id],
                    Some(agent.id),
                    spec.language,
                ));
                agents.push(agent);
            }
        }
        Self {
            organization,
            classes,
            branches,
            agents,
            users,
        }
    }

    /// Puts every record, owners first.
    async fn write(&self, org: &dyn OrgStore) -> anyhow::Result<()> {
        let what = "writing the demo organization";
        org.put_organization(&self.organization)
            .await
            .context(what)?;
        for class in &self.classes {
            org.put_class(self.organization.id, class)
                .await
                .context(what)?;
        }
        for config in &self.branches {
            let id = config.branch.id;
            org.put_branch(&config.branch).await.context(what)?;
            for service in &config.services {
                org.put_service(id, service).await.context(what)?;
            }
            for counter in &config.counters {
                org.put_counter(id, counter).await.context(what)?;
            }
        }
        for agent in &self.agents {
            org.put_agent(agent).await.context(what)?;
        }
        for user in &self.users {
            org.put_user(user).await.context(what)?;
        }
        let vip = self.classes.iter().find(|c| c.code == "vip").map(|c| c.id);
        for (n, &(number, is_vip, language)) in CUSTOMERS.iter().enumerate() {
            let customer = Customer {
                id: customer_id(n),
                organization: self.organization.id,
                number: Some(number.to_owned()),
                class: if is_vip { vip } else { None },
                language: Some(Language::new(language)),
            };
            org.put_customer(&customer).await.context(what)?;
        }
        Ok(())
    }
}

/// The configuration of the branch at `no` in [`BRANCHES`].
fn branch_config(
    no: usize,
    spec: &BranchSpec,
    organization: OrganizationId,
    classes: &[PriorityClass],
) -> BranchConfig {
    let text = |e: &str, f: &str| LocalizedText::single(Language::en(), e).with(Language::fa(), f);
    let prefix_id = |prefix: &str| {
        let ix = spec.services.iter().position(|s| s.prefix == prefix);
        service_id(no, ix.expect("counters name services of their branch"))
    };
    let services = spec
        .services
        .iter()
        .enumerate()
        .map(|(i, s)| Service {
            id: service_id(no, i),
            prefix: s.prefix.into(),
            name: text(s.en, s.fa),
            expected_service_secs: s.service_min * 60,
            target_wait_secs: s.target_min * 60,
            max_wait_secs: s.max_wait_min.map(|m| m * 60),
            daily_cap: None,
            takes_appointments: s.appointments,
        })
        .collect();
    let counters = spec
        .counters
        .iter()
        .enumerate()
        .map(|(i, c)| Counter {
            id: counter_id(no, i),
            number: i as u16 + 1,
            name: c.name.map(|(e, f)| text(e, f)),
            profile: WorkProfile {
                services: c
                    .services
                    .iter()
                    .map(|&(prefix, rank, weight)| ProfileService {
                        service: prefix_id(prefix),
                        rank,
                        weight,
                    })
                    .collect(),
                classes: c.vip_only.then(|| vec![class_id(VIP)]),
                policy: c.policy,
            },
        })
        .collect();
    let opening_hours = spec
        .hours
        .iter()
        .map(|d| OpeningInterval {
            day: d.day,
            open: hm(d.open),
            close: hm(d.close),
        })
        .collect();
    BranchConfig {
        branch: Branch {
            id: branch_id(no),
            organization,
            name: text(spec.en, spec.fa),
            time_zone: spec.time_zone,
            opening_hours: OpeningHours(opening_hours),
            queue: QueueSettings::default(),
        },
        classes: classes.to_vec(),
        services,
        counters,
    }
}

/// A local time from an (hour, minute) pair of the tables.
fn hm((hour, minute): (u32, u32)) -> NaiveTime {
    NaiveTime::from_hms_opt(hour, minute, 0).expect("the tables hold valid times")
}

// ----- the queue history ---------------------------------------------------------------------------

/// The simulated history of one branch: the events, and the queue they left.
#[derive(Debug)]
struct History {
    branch: BranchId,
    queue: BranchQueue,
    events: Vec<QueueEvent>,
    /// Local days simulated.
    days: usize,
    /// Tickets issued.
    tickets: u64,
}

impl History {
    /// Runs the branch's last [`PAST_DAYS`] business days and today up to `now`.
    fn simulate(
        spec: &'static BranchSpec,
        no: usize,
        config: BranchConfig,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Self> {
        let branch = config.branch.id;
        let mut sim = Sim::new(spec, no, config)?;
        let days = business_days(spec, now);
        for &date in &days {
            sim.run_day(date, now)
                .with_context(|| format!("simulating {} on {date}", spec.en))?;
        }
        Ok(Self {
            branch,
            days: days.len(),
            tickets: sim.issued,
            queue: sim.queue,
            events: sim.events,
        })
    }

    /// Appends the events in chunks to the branch's (new) stream, then saves a snapshot.
    async fn write(&self, store: &dyn QueueEventStore) -> anyhow::Result<()> {
        let mut version = 0;
        for chunk in self.events.chunks(APPEND_CHUNK) {
            let new: Vec<NewEvent> = chunk.iter().map(encode).collect();
            store
                .append(self.branch, version, &new)
                .await
                .with_context(|| format!("appending the demo history of branch {}", self.branch))?;
            version += chunk.len() as u64;
        }
        ensure!(
            version == self.queue.version(),
            "the demo queue is at version {}, its stream at {version}",
            self.queue.version()
        );
        store
            .save_snapshot(&Snapshot {
                branch: self.branch,
                version,
                format: SNAPSHOT_FORMAT,
                data: self.queue.to_snapshot(),
            })
            .await
            .context("saving the demo snapshot")?;
        Ok(())
    }
}

/// The local dates to simulate: the last [`PAST_DAYS`] business days before today, in order,
/// then today when the branch has opened by `now` (the simulation stops at `now`).
fn business_days(spec: &BranchSpec, now: DateTime<Utc>) -> Vec<NaiveDate> {
    let local = now.with_timezone(&spec.time_zone);
    let today = local.date_naive();
    let opens = |d: &NaiveDate| spec.hours.iter().any(|h| h.day == d.weekday());
    let mut days: Vec<NaiveDate> = std::iter::successors(today.pred_opt(), NaiveDate::pred_opt)
        .take(8 * 7)
        .filter(opens)
        .take(PAST_DAYS)
        .collect();
    days.reverse();
    let opened = |h: &Day| h.day == today.weekday() && hm(h.open) <= local.time();
    if spec.hours.iter().any(opened) {
        days.push(today);
    }
    days
}

/// Something that happens at a counter or to a customer, at an instant of the agenda.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    /// The counter opens with its agent.
    Open(usize),
    /// The next customer of the day's arrival process comes and takes a ticket.
    Arrive,
    /// A customer of the crowd that came just before `now` takes a ticket.
    Join,
    /// The called customer reaches the counter: service starts.
    Start(usize),
    /// The called customer is not there yet: announce again. An `absent` one never comes.
    Recall { desk: usize, absent: bool },
    /// The agent gives up on the called customer.
    NoShow(usize),
    /// The service ends: finished, or transferred or parked now and then.
    Done(usize),
    /// The agent is ready to call the next customer.
    Ready(usize),
    /// A customer tired of waiting leaves, if not called yet.
    Leave(TicketId),
    /// A parked customer is back (with the missing document).
    Resume(TicketId),
    /// The counter's break is over.
    BreakOver(usize),
    /// The branch closes: no more arrivals, counters close once nobody is left for them.
    Close,
}

/// A counter as the simulation drives it.
#[derive(Debug)]
struct Desk {
    id: CounterId,
    agent: AgentId,
    pace: f64,
    /// Idle and ready to call since then.
    ready_since: Option<DateTime<Utc>>,
    /// When the day's break is due (once idle), until taken.
    break_at: Option<DateTime<Utc>>,
    break_len: Duration,
}

/// What a branch offers, for drawing customers.
#[derive(Debug)]
struct Offer {
    id: ServiceId,
    share: f64,
    appointments: bool,
    /// Service time distribution at pace 1, seconds.
    secs: LogNormal<f64>,
}

/// The discrete-event simulation of one branch, day after day, feeding commands to its queue.
#[derive(Debug)]
struct Sim {
    spec: &'static BranchSpec,
    no: usize,
    queue: BranchQueue,
    events: Vec<QueueEvent>,
    /// Tickets issued so far; the next ticket's id takes the next number.
    issued: u64,
    offers: Vec<Offer>,
    desks: Vec<Desk>,
    /// Reseeded each day, so a day's draws depend only on the branch and the date.
    rng: StdRng,
    agenda: BinaryHeap<Reverse<(DateTime<Utc>, u64, Step)>>,
    seq: u64,
    /// The current session: opening and closing instants and how busy it is.
    open: DateTime<Utc>,
    close: DateTime<Utc>,
    busy: f64,
    closing: bool,
}

/// Share of called customers who never come.
const ABSENT: f64 = 0.05;
/// Share of called customers who come only after a recall.
const LATE: f64 = 0.04;
/// Share of customers who would leave after a patience of 1–15 minutes.
const IMPATIENT: f64 = 0.12;
/// Share of services ending in a transfer to another service.
const TRANSFERRED: f64 = 0.02;
/// Share of services ending with the ticket parked (a document to fetch).
const PARKED: f64 = 0.01;
/// Share of the customers of an appointment service who booked.
const BOOKED: f64 = 0.4;
/// Where walk-in tickets come from, with their shares.
const SOURCES: [(TicketSource, f64); 4] = [
    (TicketSource::Kiosk, 0.72),
    (TicketSource::Mobile, 0.15),
    (TicketSource::Web, 0.08),
    (TicketSource::Staff, 0.05),
];

impl Sim {
    /// A simulation of the branch `spec`, at `no` in [`BRANCHES`], configured as `config`.
    fn new(spec: &'static BranchSpec, no: usize, config: BranchConfig) -> anyhow::Result<Self> {
        ensure!(
            config.services.len() == spec.services.len()
                && config.counters.len() == spec.counters.len(),
            "the demo branch {} does not match its table",
            spec.en
        );
        let offers = config
            .services
            .iter()
            .zip(spec.services)
            .map(|(s, t)| {
                Ok(Offer {
                    id: s.id,
                    share: t.share,
                    appointments: s.takes_appointments,
                    secs: LogNormal::from_mean_cv(f64::from(s.expected_service_secs), 0.6)?,
                })
            })
            .collect::<anyhow::Result<_>>()?;
        let desks = config
            .counters
            .iter()
            .zip(spec.counters)
            .enumerate()
            .map(|(i, (c, t))| Desk {
                id: c.id,
                agent: agent_id(no, i),
                pace: t.pace,
                ready_since: None,
                break_at: None,
                break_len: Duration::zero(),
            })
            .collect();
        let epoch = DateTime::<Utc>::UNIX_EPOCH;
        Ok(Self {
            spec,
            no,
            queue: BranchQueue::new(config)?,
            events: Vec::new(),
            issued: 0,
            offers,
            desks,
            rng: StdRng::seed_from_u64(SEED),
            agenda: BinaryHeap::new(),
            seq: 0,
            open: epoch,
            close: epoch,
            busy: 1.0,
            closing: false,
        })
    }

    /// Runs the sessions of a local date, stopping at `cutoff` (today, for a branch open now).
    fn run_day(&mut self, date: NaiveDate, cutoff: DateTime<Utc>) -> anyhow::Result<()> {
        let seed = SEED ^ ((self.no as u64) << 40) ^ (date.num_days_from_ce() as u64);
        self.rng = StdRng::seed_from_u64(seed);
        let tz = self.spec.time_zone;
        let local = |t| tz.from_local_datetime(&date.and_time(hm(t))).earliest();
        for d in self.spec.hours.iter().filter(|d| d.day == date.weekday()) {
            let (Some(open), Some(close)) = (local(d.open), local(d.close)) else {
                continue; // a wall-clock time skipped by a clock change
            };
            self.open = open.with_timezone(&Utc);
            self.close = close.with_timezone(&Utc);
            self.busy = d.busy;
            if !self.run_session(cutoff)? {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Runs one opening interval. Returns false when it stopped at `cutoff`, leaving the queue
    /// live; otherwise everyone has gone home and every counter is closed.
    fn run_session(&mut self, cutoff: DateTime<Utc>) -> anyhow::Result<bool> {
        self.agenda.clear();
        self.closing = false;
        let (open, close) = (self.open, self.close);
        let length = (close - open).num_seconds();
        let general = self.spec.counters.iter().filter(|c| !c.vip_only).count();
        for i in 0..self.desks.len() {
            let late = self.rng.random_range(0..=120);
            self.schedule(open + Duration::seconds(late), Step::Open(i));
            // Breaks on long days, staggered over the middle of the day; the VIP desk has none.
            let desk = &mut self.desks[i];
            desk.break_at = None;
            if length >= 6 * 3600 && !self.spec.counters[i].vip_only {
                let at = 0.35 + 0.25 * i as f64 / general as f64;
                desk.break_at = Some(open + Duration::seconds((length as f64 * at) as i64));
                desk.break_len = Duration::minutes(self.rng.random_range(15..=30));
            }
        }
        if let Some(first) = self.next_arrival(open) {
            self.schedule(first, Step::Arrive);
        }
        // Today, a small crowd walks in during the minutes before `cutoff`, so the live pages of
        // an open branch show customers waiting and counters serving, whatever the hour.
        if (open..close).contains(&cutoff) {
            let from = (cutoff - Duration::minutes(10)).max(open);
            let span = (cutoff - from).num_seconds();
            let crowd = self.desks.len() + self.rng.random_range(3..=6);
            for _ in 0..crowd {
                let at = from + Duration::seconds(self.rng.random_range(0..=span));
                self.schedule(at, Step::Join);
            }
        }
        self.schedule(close, Step::Close);
        let mut last = open;
        while let Some(Reverse((at, _, step))) = self.agenda.pop() {
            if at > cutoff {
                self.agenda.clear();
                return Ok(false);
            }
            self.step(step, at)?;
            self.dispatch(at)?;
            last = at;
        }
        self.go_home(last)?;
        Ok(true)
    }

    /// Puts `step` on the agenda at `at`, after the steps already there for that instant.
    fn schedule(&mut self, at: DateTime<Utc>, step: Step) {
        self.seq += 1;
        self.agenda.push(Reverse((at, self.seq, step)));
    }

    /// Runs a command on the queue and keeps its events.
    fn run(&mut self, command: &Command, at: DateTime<Utc>) -> anyhow::Result<()> {
        let events = self
            .queue
            .handle(command, at)
            .with_context(|| format!("{command:?} at {at}"))?;
        self.events.extend(events);
        Ok(())
    }

    /// The ticket a desk holds.
    fn held(&self, desk: usize) -> anyhow::Result<TicketId> {
        self.queue
            .counter(self.desks[desk].id)
            .and_then(|c| c.ticket)
            .context("the desk holds no ticket")
    }

    /// The state of a ticket of the current business day.
    fn state(&self, ticket: TicketId) -> Option<TicketState> {
        self.queue.ticket(ticket).map(|t| t.state)
    }

    /// A uniformly drawn number of seconds.
    fn secs(&mut self, range: std::ops::RangeInclusive<i64>) -> Duration {
        Duration::seconds(self.rng.random_range(range))
    }

    /// Carries out one step of the agenda.
    fn step(&mut self, step: Step, at: DateTime<Utc>) -> anyhow::Result<()> {
        match step {
            Step::Open(desk) | Step::BreakOver(desk) => {
                let (counter, agent) = (self.desks[desk].id, self.desks[desk].agent);
                let command = Command::OpenCounter {
                    counter,
                    agent: Some(agent),
                };
                self.run(&command, at)?;
                self.desks[desk].ready_since = Some(at);
            }
            Step::Arrive => {
                self.arrive(at)?;
                if let Some(next) = self.next_arrival(at) {
                    self.schedule(next, Step::Arrive);
                }
            }
            Step::Join => self.arrive(at)?,
            Step::Start(desk) => {
                let counter = self.desks[desk].id;
                self.run(&Command::Start { counter }, at)?;
                let ticket = self.held(desk)?;
                let service = self.queue.ticket(ticket).context("held ticket")?.service;
                let offer = self
                    .offers
                    .iter()
                    .find(|o| o.id == service)
                    .context("a service of the branch")?;
                let secs = offer.secs.sample(&mut self.rng) * self.desks[desk].pace;
                self.schedule(
                    at + Duration::seconds(secs.max(30.0) as i64),
                    Step::Done(desk),
                );
            }
            Step::Recall { desk, absent } => {
                let counter = self.desks[desk].id;
                self.run(&Command::Recall { counter }, at)?;
                let recalls = self.queue.ticket(self.held(desk)?).map_or(0, |t| t.recalls);
                let wait = self.secs(40..=60);
                let limit = self.queue.config().branch.queue.recall_limit;
                let next = match (absent, recalls) {
                    (false, _) => Step::Start(desk),
                    (true, r) if r < limit => Step::Recall { desk, absent },
                    (true, _) => Step::NoShow(desk),
                };
                self.schedule(at + wait, next);
            }
            Step::NoShow(desk) => {
                let counter = self.desks[desk].id;
                self.run(&Command::NoShow { counter }, at)?;
                let pause = self.secs(5..=15);
                self.schedule(at + pause, Step::Ready(desk));
            }
            Step::Done(desk) => {
                let counter = self.desks[desk].id;
                let ticket = self.held(desk)?;
                // Nobody is sent to another line in the last half hour.
                let early = at + Duration::minutes(30) < self.close;
                let r = self.rng.random::<f64>();
                if early && r < TRANSFERRED {
                    let current = self.queue.ticket(ticket).context("held ticket")?.service;
                    let others: Vec<ServiceId> = self
                        .offers
                        .iter()
                        .map(|o| o.id)
                        .filter(|&s| s != current)
                        .collect();
                    let to = others[self.rng.random_range(0..others.len())];
                    let command = Command::Transfer {
                        ticket,
                        to: TransferTarget::Service(to),
                        position: LinePosition::First,
                    };
                    self.run(&command, at)?;
                } else if early && r < TRANSFERRED + PARKED {
                    self.run(&Command::Park { counter }, at)?;
                    let back = at + self.secs(180..=480);
                    self.schedule(back, Step::Resume(ticket));
                } else {
                    self.run(&Command::Finish { counter }, at)?;
                }
                let wrap_up = self.secs(10..=40);
                self.schedule(at + wrap_up, Step::Ready(desk));
            }
            Step::Ready(desk) => self.desks[desk].ready_since = Some(at),
            Step::Leave(ticket) => {
                if self.state(ticket) == Some(TicketState::Waiting) {
                    self.run(&Command::Cancel { ticket }, at)?;
                }
            }
            Step::Resume(ticket) => {
                if self.state(ticket) == Some(TicketState::Parked) {
                    let command = Command::Resume {
                        ticket,
                        position: LinePosition::First,
                    };
                    self.run(&command, at)?;
                }
            }
            Step::Close => self.closing = true,
        }
        Ok(())
    }

    /// A customer arrives at `at` and draws a ticket.
    fn arrive(&mut self, at: DateTime<Utc>) -> anyhow::Result<()> {
        let offer = &self.offers[pick(&mut self.rng, &self.offers, |o| o.share)];
        let (service, appointments) = (offer.id, offer.appointments);
        let class = class_id(pick(&mut self.rng, &CLASSES, |c| c.share));
        // A booked customer comes up to a quarter of an hour early, for a slot on the quarter.
        let quarter = 15 * 60;
        let slot = DateTime::from_timestamp((at.timestamp() + quarter - 1) / quarter * quarter, 0)
            .filter(|&slot| slot < self.close);
        let appointment_at = slot.filter(|_| appointments && self.rng.random_bool(BOOKED));
        let source = if appointment_at.is_some() {
            TicketSource::Reservation
        } else {
            SOURCES[pick(&mut self.rng, &SOURCES, |s| s.1)].0
        };
        self.issued += 1;
        let ticket = ticket_id(self.no, self.issued);
        let issue = IssueTicket {
            ticket,
            service,
            class: Some(class),
            source,
            customer: known_customer(self.issued),
            appointment_at,
        };
        self.run(&Command::Issue(issue), at)?;
        if self.rng.random_bool(IMPATIENT) {
            let patience = self.secs(60..=15 * 60);
            self.schedule(at + patience, Step::Leave(ticket));
        }
        Ok(())
    }

    /// The first arrival after `after` and before closing: a Poisson process whose rate follows
    /// the day's curve, drawn by thinning a process at the peak rate.
    fn next_arrival(&mut self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let peak = self.spec.peak_per_hour * self.busy / 3600.0;
        let gaps = Exp::new(peak).expect("a positive rate");
        let mut t = after;
        loop {
            t += Duration::milliseconds((gaps.sample(&mut self.rng) * 1000.0) as i64);
            if t >= self.close {
                return None;
            }
            let local = t.with_timezone(&self.spec.time_zone);
            let hour = f64::from(local.hour()) + f64::from(local.minute()) / 60.0;
            let curve = 0.35 + 0.65 * (-((hour - self.spec.peak_at) / 2.2).powi(2)).exp();
            if self.rng.random::<f64>() < curve {
                return Some(t);
            }
        }
    }

    /// Idle counters, longest idle first, take their break or call the next customer; after
    /// closing, a counter with nobody left to call closes.
    fn dispatch(&mut self, at: DateTime<Utc>) -> anyhow::Result<()> {
        let mut idle: Vec<(DateTime<Utc>, usize)> = self
            .desks
            .iter()
            .enumerate()
            .filter_map(|(i, d)| d.ready_since.map(|since| (since, i)))
            .collect();
        idle.sort_unstable();
        for (_, desk) in idle {
            let counter = self.desks[desk].id;
            if !self.closing && self.desks[desk].break_at.is_some_and(|b| b <= at) {
                self.run(&Command::PauseCounter { counter }, at)?;
                let d = &mut self.desks[desk];
                d.break_at = None;
                d.ready_since = None;
                let back = at + d.break_len;
                self.schedule(back, Step::BreakOver(desk));
                continue;
            }
            match self.queue.handle(&Command::CallNext { counter }, at) {
                Ok(events) => {
                    self.events.extend(events);
                    self.desks[desk].ready_since = None;
                    let r = self.rng.random::<f64>();
                    if r < ABSENT + LATE {
                        let absent = r < ABSENT;
                        let wait = self.secs(40..=60);
                        self.schedule(at + wait, Step::Recall { desk, absent });
                    } else {
                        let walk = self.secs(15..=75);
                        self.schedule(at + walk, Step::Start(desk));
                    }
                }
                Err(QueueError::NothingToCall { .. }) => {
                    if self.closing {
                        self.run(&Command::CloseCounter { counter }, at)?;
                        self.desks[desk].ready_since = None;
                    }
                }
                Err(e) => return Err(e).with_context(|| format!("counter {counter} calling")),
            }
        }
        Ok(())
    }

    /// The end of a session: whoever still waits goes home, and every counter closes.
    fn go_home(&mut self, at: DateTime<Utc>) -> anyhow::Result<()> {
        let left: Vec<TicketId> = self
            .queue
            .tickets()
            .filter(|t| matches!(t.state, TicketState::Waiting | TicketState::Parked))
            .map(|t| t.id)
            .collect();
        for ticket in left {
            self.run(&Command::Cancel { ticket }, at)?;
        }
        for i in 0..self.desks.len() {
            let counter = self.desks[i].id;
            let status = self.queue.counter(counter).map(|c| c.status);
            if status != Some(CounterStatus::Closed) {
                self.run(&Command::CloseCounter { counter }, at)?;
            }
            self.desks[i].ready_since = None;
        }
        Ok(())
    }
}

/// The index of one of `items`, drawn with probability proportional to `weight`.
fn pick<T>(rng: &mut StdRng, items: &[T], weight: impl Fn(&T) -> f64) -> usize {
    let total: f64 = items.iter().map(&weight).sum();
    let mut x = rng.random::<f64>() * total;
    for (i, item) in items.iter().enumerate() {
        x -= weight(item);
        if x < 0.0 {
            return i;
        }
    }
    items.len() - 1
}

mod signage;
mod surveys;

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::sync::Arc;

    use cem_core::QueueEventStoreExt as _;
    use cem_queue::service::decode;
    use cem_queue::{CounterView, QueueService, ServiceOptions};
    use cem_store_memory::MemoryStore;

    use super::*;

    /// Wednesday 2026-11-25 11:00 UTC: noon in Berlin and 14:30 in Tehran, both open, but 06:00
    /// in New York. No instant finds all three open: Tehran closes (11:30 UTC) before New York
    /// opens (14:00 UTC).
    fn now() -> DateTime<Utc> {
        "2026-11-25T11:00:00Z".parse().unwrap()
    }

    /// The same Wednesday at 16:00 UTC: 11:00 in New York, the only branch open then.
    fn new_york_morning() -> DateTime<Utc> {
        "2026-11-25T16:00:00Z".parse().unwrap()
    }

    /// A stand-in for the server's password hash.
    fn test_hash(password: &str) -> String {
        format!("test${password}")
    }

    /// A memory store with the demo loaded at `now`.
    async fn loaded(now: DateTime<Utc>) -> (Arc<MemoryStore>, Summary) {
        let store = Arc::new(MemoryStore::new());
        let summary = load(&*store, &*store, &*store, &*store, &test_hash, now)
            .await
            .unwrap();
        (store, summary)
    }

    /// A branch's stored events, decoded.
    async fn history(store: &MemoryStore, branch: BranchId) -> Vec<QueueEvent> {
        let recorded = store.read_stream(branch, 0, usize::MAX).await.unwrap();
        recorded.iter().map(|r| decode(r).unwrap()).collect()
    }

    /// A queue service over `store` that knows every demo branch.
    async fn service_over(store: &Arc<MemoryStore>) -> QueueService {
        let service = QueueService::new(store.clone(), None, ServiceOptions::default());
        for no in 0..BRANCHES.len() {
            let config = store.branch_config(branch_id(no)).await.unwrap();
            service.add_branch(config).unwrap();
        }
        service
    }

    /// Events written in every branch.
    fn events(summary: &Summary) -> u64 {
        summary.branches.iter().map(|b| b.events).sum()
    }

    /// The local calendar date of `at` in `tz`.
    fn local_date(tz: Tz, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&tz).date_naive()
    }

    #[tokio::test]
    async fn the_demo_is_a_bank_with_three_branches_in_three_time_zones() {
        assert!(is_empty(&MemoryStore::new()).await.unwrap());
        let (store, summary) = loaded(now()).await;
        assert!(!is_empty(&*store).await.unwrap());
        let organizations = store.organizations().await.unwrap();
        assert_eq!(organizations.len(), 1);
        let bank = &organizations[0];
        assert_eq!(bank.id, summary.organization);
        assert_eq!(bank.name.exact(&Language::en()), Some("Demo Bank"));
        assert_eq!(bank.name.exact(&Language::fa()), Some("بانک نمونه"));
        assert_eq!(bank.default_language, Language::en());

        let branches = store.branches(bank.id).await.unwrap();
        assert_eq!(branches.len(), 3);
        let zones: BTreeSet<String> = branches.iter().map(|b| b.time_zone.to_string()).collect();
        let expected = ["America/New_York", "Asia/Tehran", "Europe/Berlin"];
        assert_eq!(zones, expected.map(String::from).into());
        let ids: Vec<BranchId> = summary.branches.iter().map(|b| b.id).collect();
        assert_eq!(ids, branches.iter().map(|b| b.id).collect::<Vec<_>>());
        // Tehran's week: Saturday to Wednesday, a short Thursday, closed on Friday.
        let tehran = branches
            .iter()
            .find(|b| b.time_zone == Tz::Asia__Tehran)
            .unwrap();
        let open = |d: Weekday| {
            let hours = tehran.opening_hours.0.iter().filter(|i| i.day == d);
            hours.map(|i| i.close - i.open).sum::<Duration>()
        };
        assert!(
            [Sat, Sun, Mon, Tue, Wed]
                .iter()
                .all(|&d| open(d) > open(Thu))
        );
        assert!(open(Thu) > Duration::zero());
        assert_eq!(open(Fri), Duration::zero());
    }

    #[tokio::test]
    async fn every_branch_validates_and_has_a_vip_only_counter() {
        let (store, summary) = loaded(now()).await;
        let classes = store.classes(summary.organization).await.unwrap();
        let table: Vec<(&str, u16, u32)> = classes
            .iter()
            .map(|c| (c.code.as_str(), c.rank, c.weight))
            .collect();
        assert_eq!(table, [("vip", 1, 3), ("priority", 2, 2), ("normal", 3, 1)]);
        assert!(
            classes
                .iter()
                .all(|c| c.name.exact(&Language::fa()).is_some())
        );
        let vip = classes[0].id;
        for b in &summary.branches {
            let config = store.branch_config(b.id).await.unwrap();
            assert_eq!(config.validate(), Ok(()), "{}", b.name);
            assert!((3..=4).contains(&config.services.len()), "{}", b.name);
            assert!((4..=6).contains(&config.counters.len()), "{}", b.name);
            let booked = config.services.iter().filter(|s| s.takes_appointments);
            assert_eq!(booked.count(), 1, "{}", b.name);
            for s in &config.services {
                assert!((180..=600).contains(&s.expected_service_secs));
                assert!((600..=900).contains(&s.target_wait_secs));
                assert!(s.name.exact(&Language::fa()).is_some());
            }
            let vip_only: Vec<&Counter> = config
                .counters
                .iter()
                .filter(|c| c.profile.classes == Some(vec![vip]))
                .collect();
            assert_eq!(vip_only.len(), 1, "{}", b.name);
            let policies: BTreeSet<String> = config
                .counters
                .iter()
                .map(|c| format!("{:?}", c.profile.policy))
                .collect();
            assert_eq!(policies.len(), 3, "{}: {policies:?}", b.name);
            let ranked = config.counters.iter().filter(|c| {
                c.profile.classes.is_none()
                    && c.profile.services.len() > 1
                    && c.profile.services.iter().any(|p| p.rank > 1)
            });
            assert!(ranked.count() >= 2, "{}", b.name);
            // Every service and class is served by a counter that is not VIP-only.
            for s in &config.services {
                assert!(config.counters.iter().any(|c| c.profile.classes.is_none()
                    && c.profile.services.iter().any(|p| p.service == s.id)));
            }
        }
    }

    #[tokio::test]
    async fn demo_users_sign_in_with_the_password_demo() {
        let (store, summary) = loaded(now()).await;
        let users = store.users(summary.organization).await.unwrap();
        assert_eq!(users.len(), summary.users);
        assert!(
            users
                .iter()
                .all(|u| u.active && u.password_hash == test_hash("demo"))
        );

        let admin = store.user_by_login("admin").await.unwrap();
        assert_eq!((admin.role, admin.branches.len()), (Role::Admin, 0));
        for (no, spec) in BRANCHES.iter().enumerate() {
            let branch = branch_id(no);
            let manager = store
                .user_by_login(&format!("manager-{}", spec.key))
                .await
                .unwrap();
            assert_eq!(manager.role, Role::BranchManager);
            assert_eq!(manager.branches, [branch]);
            let counters = store.counters(branch).await.unwrap();
            for c in &counters {
                let login = format!("agent-{}-{}", spec.key, c.number);
                let user = store.user_by_login(&login).await.unwrap();
                assert_eq!(user.role, Role::Agent);
                assert_eq!(user.branches, [branch]);
                let agent = store.agent(user.agent.unwrap()).await.unwrap();
                assert_eq!((agent.name, agent.branches), (user.name, vec![branch]));
            }
            assert_eq!(
                users.iter().filter(|u| u.branches == [branch]).count(),
                1 + counters.len()
            );
        }
        let tehran_agent = store.user_by_login("AGENT-TEHRAN-1").await.unwrap();
        assert_eq!(tehran_agent.language, Some(Language::fa()));
    }

    #[tokio::test]
    async fn each_branch_has_history_on_at_least_ten_local_days() {
        let (store, summary) = loaded(now()).await;
        for b in &summary.branches {
            let tz = store.branch(b.id).await.unwrap().time_zone;
            let days: BTreeSet<NaiveDate> = history(&store, b.id)
                .await
                .iter()
                .filter(|e| e.kind() == "ticket_issued")
                .map(|e| local_date(tz, e.at()))
                .collect();
            assert!(days.len() >= 10, "{}: {} days", b.name, days.len());
            assert!(days.len() <= b.days);
            assert!(days.last() <= Some(&local_date(tz, now())));
        }
    }

    #[tokio::test]
    async fn the_queue_service_loads_each_branch_as_a_replay_does() {
        let (store, summary) = loaded(now()).await;
        let service = service_over(&store).await;
        for b in &summary.branches {
            let snapshot = store.load_snapshot(b.id).await.unwrap().unwrap();
            assert_eq!(snapshot.version, b.events);
            assert_eq!(store.stream_version(b.id).await.unwrap(), b.events);
            let loaded = service.read(b.id, Clone::clone).await.unwrap();
            let config = store.branch_config(b.id).await.unwrap();
            // The snapshot is one the loader accepts, and it is the replayed state.
            let from_snapshot = BranchQueue::from_snapshot(&config, &snapshot.data).unwrap();
            let replayed = BranchQueue::replay(config, &history(&store, b.id).await).unwrap();
            assert_eq!(loaded.version(), b.events);
            assert_eq!(from_snapshot, replayed, "{}", b.name);
            assert_eq!(loaded, replayed, "{}", b.name);
        }
    }

    #[tokio::test]
    async fn branches_open_at_now_have_customers_waiting_and_counters_serving() {
        for now in [now(), new_york_morning()] {
            let (store, summary) = loaded(now).await;
            let service = service_over(&store).await;
            let mut open_branches = Vec::new();
            for b in &summary.branches {
                let branch = store.branch(b.id).await.unwrap();
                let (waiting, serving, open_counters) = service
                    .read(b.id, |q| {
                        let counters: Vec<CounterView> = q.counters().collect();
                        (
                            q.total_waiting(),
                            counters.iter().filter(|c| c.ticket.is_some()).count(),
                            counters
                                .iter()
                                .filter(|c| c.status != CounterStatus::Closed)
                                .count(),
                        )
                    })
                    .await
                    .unwrap();
                if branch.opening_hours.is_open(branch.time_zone, now) {
                    open_branches.push(b.name);
                    assert!(waiting > 0 && serving > 0, "{} at {now}", b.name);
                } else {
                    assert_eq!((waiting, serving, open_counters), (0, 0, 0), "{}", b.name);
                }
            }
            let expected = if now == new_york_morning() {
                vec!["New York"]
            } else {
                vec!["Berlin", "Tehran"]
            };
            assert_eq!(open_branches, expected);
        }
    }

    #[tokio::test]
    async fn every_past_day_ends_with_counters_closed_and_nobody_waiting() {
        let (store, summary) = loaded(now()).await;
        for b in &summary.branches {
            let config = store.branch_config(b.id).await.unwrap();
            let tz = config.branch.time_zone;
            let mut queue = BranchQueue::new(config).unwrap();
            let mut day = None;
            for event in history(&store, b.id).await {
                let date = local_date(tz, event.at());
                if day.is_some_and(|d| d != date) {
                    assert!(
                        queue.tickets().all(|t| t.state.is_terminal()),
                        "{} {day:?}",
                        b.name
                    );
                    assert!(
                        queue.counters().all(|c| c.status == CounterStatus::Closed),
                        "{} {day:?}",
                        b.name
                    );
                }
                day = Some(date);
                queue.apply(&event).unwrap();
            }
        }
    }

    /// What a branch's history holds, counted from its events.
    #[derive(Debug, Default)]
    struct Tally {
        issued: u64,
        by_class: BTreeMap<ClassId, u64>,
        appointments: u64,
        called: u64,
        waited_secs: i64,
        no_shows: u64,
        cancelled: u64,
        transfers: u64,
        parked: u64,
        recalls: u64,
        per_day: BTreeMap<NaiveDate, u64>,
    }

    fn tally(tz: Tz, events: &[QueueEvent]) -> Tally {
        let mut t = Tally::default();
        let mut issued_at = std::collections::HashMap::new();
        for e in events {
            match e {
                QueueEvent::TicketIssued {
                    ticket,
                    class,
                    appointment_at,
                    at,
                    ..
                } => {
                    t.issued += 1;
                    *t.by_class.entry(*class).or_default() += 1;
                    t.appointments += u64::from(appointment_at.is_some());
                    *t.per_day.entry(local_date(tz, *at)).or_default() += 1;
                    issued_at.insert(*ticket, *at);
                }
                QueueEvent::TicketCalled { ticket, at, .. } => {
                    if let Some(issued) = issued_at.remove(ticket) {
                        t.called += 1;
                        t.waited_secs += (*at - issued).num_seconds();
                    }
                }
                QueueEvent::TicketNoShow { .. } => t.no_shows += 1,
                QueueEvent::TicketCancelled { .. } => t.cancelled += 1,
                QueueEvent::TicketTransferred { .. } => t.transfers += 1,
                QueueEvent::TicketParked { .. } => t.parked += 1,
                QueueEvent::TicketRecalled { .. } => t.recalls += 1,
                _ => {}
            }
        }
        t
    }

    #[tokio::test]
    async fn the_history_looks_like_a_busy_bank() {
        let (store, summary) = loaded(now()).await;
        assert!(events(&summary) < 100_000, "{summary:?}");
        for b in &summary.branches {
            let tz = store.branch(b.id).await.unwrap().time_zone;
            let t = tally(tz, &history(&store, b.id).await);
            assert_eq!(t.issued, b.tickets);
            let share = |n: u64| n as f64 / t.issued as f64;
            let today = local_date(tz, now());
            for (day, &n) in t.per_day.iter().filter(|(d, _)| **d != today) {
                assert!((150..=400).contains(&n), "{} on {day}: {n} tickets", b.name);
            }
            let vip = share(t.by_class[&class_id(VIP)]);
            let priority = share(t.by_class[&class_id(1)]);
            assert!((0.03..0.07).contains(&vip), "{}: {vip}", b.name);
            assert!((0.07..0.13).contains(&priority), "{}: {priority}", b.name);
            let no_shows = share(t.no_shows);
            let cancelled = share(t.cancelled);
            assert!((0.035..0.065).contains(&no_shows), "{}: {no_shows}", b.name);
            assert!((0.01..0.05).contains(&cancelled), "{}: {cancelled}", b.name);
            assert!(t.transfers > 10 && t.parked > 5 && t.recalls > t.no_shows);
            assert!(t.appointments > 20, "{}", b.name);
            let mean_wait_min = t.waited_secs as f64 / t.called as f64 / 60.0;
            assert!(
                (1.0..15.0).contains(&mean_wait_min),
                "{}: {mean_wait_min}",
                b.name
            );
        }
    }

    #[tokio::test]
    async fn the_demo_loads_only_into_an_empty_store() {
        let (store, summary) = loaded(now()).await;
        let before = store.read_all_after(0).await.unwrap().len();
        assert_eq!(before as u64, events(&summary));
        let again = load(&*store, &*store, &*store, &*store, &test_hash, now()).await;
        assert!(again.is_err());
        assert_eq!(store.read_all_after(0).await.unwrap().len(), before);
        assert_eq!(store.organizations().await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn the_same_now_gives_the_same_demo() {
        let (first, a) = loaded(now()).await;
        let (second, b) = loaded(now()).await;
        assert_eq!(a, b);
        let (x, y) = (
            first.read_all_after(0).await.unwrap(),
            second.read_all_after(0).await.unwrap(),
        );
        assert_eq!(x.len() as u64, events(&a));
        assert!(x == y, "the two histories differ");
        assert_eq!(
            first.users(a.organization).await.unwrap(),
            second.users(b.organization).await.unwrap()
        );
    }

    #[test]
    fn loading_can_run_on_a_spawned_task() {
        fn is_send<T: Send>(_: &T) {}
        let store = MemoryStore::new();
        is_send(&load(&store, &store, &store, &store, &test_hash, now()));
    }
}
