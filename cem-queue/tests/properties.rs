//! Property tests: random command scripts against random branch configurations, with the
//! queue's invariants checked after every step.
//!
//! A [`Script`] is a branch (1–4 services, some with a maximum wait; 1–4 counters with random
//! work profiles, ranks and weights, some VIP-only, each under `strict`, `interleave` or
//! `weighted_wait`) and up to 200 commands whose clock moves forward 0–120 s a step, all inside
//! one business day. Each property drives a script through [`drive`] and checks one rule at
//! every step. A small [`Model`] remembers, from the events, how each waiting ticket entered its
//! line, so the order of the lines can be checked from the outside.

use std::collections::{HashMap, HashSet};

use cem_core::chrono::{DateTime, Duration, Utc};
use cem_core::{
    AgentId, BranchConfig, CallingPolicy, ClassId, CounterId, ProfileService, ServiceId, TicketId,
    WorkProfile,
};
use cem_queue::testing::{NORMAL, VIP, branch_config, counter_id, service_id};
use cem_queue::{
    BranchQueue, CallReason, Command, CounterStatus, IssueTicket, Lane, LinePosition, QueueError,
    QueueEvent, Ticket, TicketSource, TicketState, TransferTarget,
};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::strategy::ValueTree;
use proptest::test_runner::{RngAlgorithm, TestRng, TestRunner};

/// Monday 09:00 in Berlin; 200 steps of at most 120 s end the same day.
fn start() -> DateTime<Utc> {
    "2026-11-30T08:00:00Z".parse().unwrap()
}

/// A ticket id that is never issued.
const GHOST: TicketId = TicketId::from_u128(u128::MAX);

/// A class no branch knows.
const UNKNOWN_CLASS: ClassId = ClassId::from_u128(0xBAD);

// ----- generators ------------------------------------------------------------------------------

/// A command with its references left open: indices resolve against the branch and the tickets
/// issued so far when the step runs.
#[derive(Debug, Clone)]
enum Op {
    Issue {
        service: Index,
        class: Option<ClassId>,
        source: TicketSource,
        /// Appointment time, seconds from now.
        appointment_in: Option<i64>,
    },
    /// Issue with the id of a ticket that exists.
    IssueAgain(Index),
    CallNext(Index),
    Call(Index, Pick),
    Recall(Index),
    Start(Index),
    Finish(Index),
    NoShow(Index),
    Park(Index),
    Cancel(Pick),
    Resume(Pick, LinePosition),
    Transfer(Pick, Target, LinePosition),
    Open(Index, Option<u8>),
    Pause(Index),
    Close(Index),
}

/// A ticket reference: usually aimed at tickets in a state the command accepts, otherwise any
/// ticket issued so far or one that does not exist.
#[derive(Debug, Clone)]
struct Pick {
    aimed: bool,
    index: Index,
}

#[derive(Debug, Clone)]
enum Target {
    Service(Index),
    Counter(Index),
}

#[derive(Debug, Clone)]
struct Script {
    config: BranchConfig,
    /// Seconds since the previous step, and the command.
    steps: Vec<(i64, Op)>,
}

fn script() -> impl Strategy<Value = Script> {
    let pause = prop_oneof![1 => Just(0i64), 4 => 0..120i64];
    (branch(), prop::collection::vec((pause, op()), 1..=200))
        .prop_map(|(config, steps)| Script { config, steps })
}

fn branch() -> impl Strategy<Value = BranchConfig> {
    (1..=4usize, 1..=4usize)
        .prop_flat_map(|(services, counters)| {
            (
                prop::collection::vec(service_rules(), services),
                prop::collection::vec(work_profile(services), counters),
            )
        })
        .prop_map(|(rules, profiles)| {
            let mut config = branch_config(rules.len(), profiles.len());
            for (service, (max_wait, appointments)) in config.services.iter_mut().zip(rules) {
                service.max_wait_secs = max_wait;
                service.takes_appointments = appointments;
            }
            for (counter, profile) in config.counters.iter_mut().zip(profiles) {
                counter.profile = profile;
            }
            config
        })
}

/// A service's maximum wait and whether it takes appointments.
fn service_rules() -> impl Strategy<Value = (Option<u32>, bool)> {
    (
        prop::option::weighted(0.4, 300..=1800u32),
        prop::bool::weighted(0.9),
    )
}

fn work_profile(services: usize) -> impl Strategy<Value = WorkProfile> {
    let served =
        prop::sample::subsequence((0..services).collect::<Vec<_>>(), 1..=services).prop_shuffle();
    let policy = prop_oneof![
        Just(CallingPolicy::Strict),
        Just(CallingPolicy::Interleave),
        Just(CallingPolicy::WeightedWait),
    ];
    (
        served,
        prop::collection::vec((1..=3u16, 1..=3u32), services),
        prop::bool::weighted(0.25),
        policy,
    )
        .prop_map(|(served, ranks, vip_only, policy)| WorkProfile {
            services: served
                .into_iter()
                .map(|i| ProfileService {
                    service: service_id(i),
                    rank: ranks[i].0,
                    weight: ranks[i].1,
                })
                .collect(),
            classes: vip_only.then(|| vec![VIP]),
            policy,
        })
}

fn op() -> impl Strategy<Value = Op> {
    let counter = any::<Index>;
    prop_oneof![
        8 => issue(),
        1 => any::<Index>().prop_map(Op::IssueAgain),
        8 => counter().prop_map(Op::CallNext),
        2 => (counter(), pick()).prop_map(|(c, t)| Op::Call(c, t)),
        2 => counter().prop_map(Op::Recall),
        4 => counter().prop_map(Op::Start),
        5 => counter().prop_map(Op::Finish),
        1 => counter().prop_map(Op::NoShow),
        2 => counter().prop_map(Op::Park),
        2 => pick().prop_map(Op::Cancel),
        2 => (pick(), position()).prop_map(|(t, p)| Op::Resume(t, p)),
        3 => (pick(), target(), position()).prop_map(|(t, to, p)| Op::Transfer(t, to, p)),
        3 => (counter(), prop::option::of(0..3u8)).prop_map(|(c, a)| Op::Open(c, a)),
        1 => counter().prop_map(Op::Pause),
        1 => counter().prop_map(Op::Close),
    ]
}

fn issue() -> impl Strategy<Value = Op> {
    let class = prop_oneof![
        4 => Just(None),
        6 => Just(Some(NORMAL)),
        4 => Just(Some(VIP)),
        1 => Just(Some(UNKNOWN_CLASS)),
    ];
    let source = prop_oneof![
        Just(TicketSource::Kiosk),
        Just(TicketSource::Web),
        Just(TicketSource::Staff),
    ];
    (
        any::<Index>(),
        class,
        source,
        prop::option::weighted(0.2, -1500..2400i64),
    )
        .prop_map(|(service, class, source, appointment_in)| Op::Issue {
            service,
            class,
            source,
            appointment_in,
        })
}

fn pick() -> impl Strategy<Value = Pick> {
    (prop::bool::weighted(0.8), any::<Index>()).prop_map(|(aimed, index)| Pick { aimed, index })
}

fn position() -> impl Strategy<Value = LinePosition> {
    prop_oneof![Just(LinePosition::First), Just(LinePosition::Last)]
}

fn target() -> impl Strategy<Value = Target> {
    prop_oneof![
        any::<Index>().prop_map(Target::Service),
        any::<Index>().prop_map(Target::Counter),
    ]
}

/// The command an op stands for at step `step` (whose number also makes the id of a new ticket).
fn command(op: &Op, step: usize, run: &Run) -> Command {
    let counter = |i: &Index| counter_id(i.index(run.config.counters.len()));
    let issued = &run.model.issued;
    let ticket = |pick: &Pick, states: &[TicketState]| {
        let aimed: Vec<TicketId> = issued
            .iter()
            .copied()
            .filter(|&t| {
                run.queue
                    .ticket(t)
                    .is_some_and(|t| states.contains(&t.state))
            })
            .collect();
        if pick.aimed && !aimed.is_empty() {
            *pick.index.get(&aimed)
        } else {
            issued
                .get(pick.index.index(issued.len() + 1))
                .copied()
                .unwrap_or(GHOST)
        }
    };
    let fresh = TicketId::from_u128(step as u128 + 1);
    match op {
        Op::Issue {
            service,
            class,
            source,
            appointment_in,
        } => Command::Issue(IssueTicket {
            ticket: fresh,
            service: service_id(service.index(run.config.services.len())),
            class: *class,
            source: if appointment_in.is_some() {
                TicketSource::Reservation
            } else {
                *source
            },
            customer: None,
            appointment_at: appointment_in.map(|s| run.now + Duration::seconds(s)),
        }),
        Op::IssueAgain(i) => Command::Issue(IssueTicket {
            ticket: issued
                .get(i.index(issued.len().max(1)))
                .copied()
                .unwrap_or(fresh),
            service: service_id(0),
            class: None,
            source: TicketSource::Kiosk,
            customer: None,
            appointment_at: None,
        }),
        Op::CallNext(c) => Command::CallNext {
            counter: counter(c),
        },
        Op::Call(c, t) => Command::Call {
            counter: counter(c),
            ticket: ticket(t, &[TicketState::Waiting]),
        },
        Op::Recall(c) => Command::Recall {
            counter: counter(c),
        },
        Op::Start(c) => Command::Start {
            counter: counter(c),
        },
        Op::Finish(c) => Command::Finish {
            counter: counter(c),
        },
        Op::NoShow(c) => Command::NoShow {
            counter: counter(c),
        },
        Op::Park(c) => Command::Park {
            counter: counter(c),
        },
        Op::Cancel(t) => Command::Cancel {
            ticket: ticket(
                t,
                &[
                    TicketState::Waiting,
                    TicketState::Called,
                    TicketState::Parked,
                ],
            ),
        },
        Op::Resume(t, position) => Command::Resume {
            ticket: ticket(t, &[TicketState::Parked]),
            position: *position,
        },
        Op::Transfer(t, to, position) => Command::Transfer {
            ticket: ticket(
                t,
                &[
                    TicketState::Waiting,
                    TicketState::Called,
                    TicketState::Serving,
                    TicketState::Parked,
                ],
            ),
            to: match to {
                Target::Service(i) => {
                    TransferTarget::Service(service_id(i.index(run.config.services.len())))
                }
                Target::Counter(i) => TransferTarget::Counter(counter(i)),
            },
            position: *position,
        },
        Op::Open(c, agent) => Command::OpenCounter {
            counter: counter(c),
            agent: agent.map(|a| AgentId::from_u128(u128::from(a) + 1)),
        },
        Op::Pause(c) => Command::PauseCounter {
            counter: counter(c),
        },
        Op::Close(c) => Command::CloseCounter {
            counter: counter(c),
        },
    }
}

// ----- the driver and the outside model --------------------------------------------------------

/// How a ticket last entered a line, as the events tell it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Entered {
    /// A walk-in line or a personal line: tickets put first go ahead of the rest (in the order
    /// they were put there), then arrival order.
    Line { first: bool, seq: u64 },
    /// The appointment lane: appointment time, then check-in order.
    Appointment { at: DateTime<Utc>, seq: u64 },
}

impl Entered {
    /// Sort key inside a walk-in or personal line: the head has the smallest.
    fn line_key(self) -> Option<(bool, u64)> {
        match self {
            Self::Line { first, seq } => Some((!first, seq)),
            Self::Appointment { .. } => None,
        }
    }

    /// Sort key inside the appointment lane.
    fn appointment_key(self) -> Option<(DateTime<Utc>, u64)> {
        match self {
            Self::Appointment { at, seq } => Some((at, seq)),
            Self::Line { .. } => None,
        }
    }
}

#[derive(Debug, Default)]
struct Model {
    /// Every ticket issued, in order.
    issued: Vec<TicketId>,
    /// How each ticket last entered a line.
    entered: HashMap<TicketId, Entered>,
    /// Events seen.
    seq: u64,
}

impl Model {
    fn observe(&mut self, event: &QueueEvent) {
        self.seq += 1;
        let seq = self.seq;
        match *event {
            QueueEvent::TicketIssued {
                ticket,
                lane,
                appointment_at,
                ..
            } => {
                self.issued.push(ticket);
                let entered = match (lane, appointment_at) {
                    (Lane::Appointment, Some(at)) => Entered::Appointment { at, seq },
                    _ => Entered::Line { first: false, seq },
                };
                self.entered.insert(ticket, entered);
            }
            QueueEvent::TicketTransferred {
                ticket, position, ..
            }
            | QueueEvent::TicketResumed {
                ticket, position, ..
            } => {
                let first = position == LinePosition::First;
                self.entered.insert(ticket, Entered::Line { first, seq });
            }
            _ => {}
        }
    }

    fn entered(&self, ticket: TicketId) -> Entered {
        self.entered[&ticket]
    }
}

#[derive(Debug)]
struct Run {
    config: BranchConfig,
    queue: BranchQueue,
    model: Model,
    events: Vec<QueueEvent>,
    now: DateTime<Utc>,
}

/// One step as a property sees it.
struct Step<'a> {
    config: &'a BranchConfig,
    /// The model after the step (a call changes nothing in it).
    model: &'a Model,
    now: DateTime<Utc>,
    command: &'a Command,
    result: &'a Result<Vec<QueueEvent>, QueueError>,
    before: &'a BranchQueue,
    after: &'a BranchQueue,
}

/// Runs a script, calling `check` after every step.
fn drive(
    script: &Script,
    mut check: impl FnMut(&Step<'_>) -> Result<(), TestCaseError>,
) -> Result<Run, TestCaseError> {
    let mut run = Run {
        config: script.config.clone(),
        queue: BranchQueue::new(script.config.clone()).expect("generated configs are valid"),
        model: Model::default(),
        events: Vec::new(),
        now: start(),
    };
    for (i, (pause, op)) in script.steps.iter().enumerate() {
        run.now += Duration::seconds(*pause);
        let command = command(op, i, &run);
        let before = run.queue.clone();
        let result = run.queue.handle(&command, run.now);
        if let Ok(events) = &result {
            for e in events {
                run.model.observe(e);
            }
            run.events.extend(events.iter().cloned());
        }
        let step = Step {
            config: &run.config,
            model: &run.model,
            now: run.now,
            command: &command,
            result: &result,
            before: &before,
            after: &run.queue,
        };
        check(&step).map_err(|e| {
            TestCaseError::fail(format!("step {i} ({command:?} -> {result:?}): {e}"))
        })?;
    }
    Ok(run)
}

impl<'a> Step<'a> {
    /// The ticket the step called (as it was before), the counter and the reason.
    fn called(&self) -> Option<(&'a Ticket, CounterId, CallReason)> {
        let Ok(events) = self.result else {
            return None;
        };
        events.iter().find_map(|e| match *e {
            QueueEvent::TicketCalled {
                ticket,
                counter,
                reason,
                ..
            } => Some((
                self.before
                    .ticket(ticket)
                    .expect("a called ticket existed before"),
                counter,
                reason,
            )),
            _ => None,
        })
    }

    /// A ticket called by `call_next`, with its counter's profile and the reason.
    fn called_next(&self) -> Option<(&'a Ticket, CounterId, &'a WorkProfile, CallReason)> {
        let (ticket, counter, reason) = self.called()?;
        matches!(self.command, Command::CallNext { .. })
            .then(|| (ticket, counter, profile(self.config, counter), reason))
    }

    fn early(&self) -> Duration {
        Duration::seconds(self.config.branch.queue.appointment_early_secs.into())
    }

    fn is_due(&self, entered: Entered) -> bool {
        entered
            .appointment_key()
            .is_some_and(|(at, _)| at - self.early() <= self.now)
    }

    /// What `call_next` may give `counter` from the shared lines before the step: every waiting
    /// walk-in of a service it serves in a class it takes, and the first appointment of each
    /// such line once its early window has opened.
    fn eligible(&self, counter: CounterId) -> Vec<(&'a Ticket, Entered)> {
        let profile = profile(self.config, counter);
        let shared: Vec<(&'a Ticket, Entered)> = self
            .before
            .tickets()
            .filter(|t| t.state == TicketState::Waiting && t.target_counter.is_none())
            .filter(|t| serving(profile, t.service).is_some() && profile.takes_class(t.class))
            .map(|t| (t, self.model.entered(t.id)))
            .collect();
        let mut first_appointment: HashMap<(ServiceId, ClassId), (DateTime<Utc>, u64)> =
            HashMap::new();
        for (t, e) in &shared {
            if let Some(key) = e.appointment_key() {
                let best = first_appointment.entry((t.service, t.class)).or_insert(key);
                *best = (*best).min(key);
            }
        }
        shared
            .into_iter()
            .filter(|(t, e)| match e.appointment_key() {
                None => true,
                Some(key) => first_appointment[&(t.service, t.class)] == key && self.is_due(*e),
            })
            .collect()
    }

    /// The heads `call_next` compares for `counter`: the first walk-in of each line and each
    /// line's due first appointment.
    fn heads(&self, counter: CounterId) -> Vec<(&'a Ticket, Entered)> {
        let mut heads: HashMap<(ServiceId, ClassId, bool), (&'a Ticket, Entered)> = HashMap::new();
        for (t, e) in self.eligible(counter) {
            let walkin = e.line_key().is_some();
            let head = heads.entry((t.service, t.class, walkin)).or_insert((t, e));
            if e.line_key() < head.1.line_key() {
                *head = (t, e);
            }
        }
        heads.into_values().collect()
    }

    /// Seconds past its service's maximum wait, for a service that has one.
    fn over_max_wait(&self, t: &Ticket) -> Option<Duration> {
        let max = self.config.service(t.service)?.max_wait_secs?;
        Some(self.now - t.waiting_since - Duration::seconds(max.into()))
    }
}

fn profile(config: &BranchConfig, counter: CounterId) -> &WorkProfile {
    &config.counter(counter).expect("a known counter").profile
}

fn serving(profile: &WorkProfile, service: ServiceId) -> Option<&ProfileService> {
    profile.services.iter().find(|p| p.service == service)
}

fn class_rank(config: &BranchConfig, class: ClassId) -> u16 {
    config
        .classes
        .iter()
        .find(|c| c.id == class)
        .expect("a known class")
        .rank
}

fn class_weight(config: &BranchConfig, class: ClassId) -> u32 {
    config
        .classes
        .iter()
        .find(|c| c.id == class)
        .expect("a known class")
        .weight
}

fn fail<E: std::fmt::Display>(e: E) -> TestCaseError {
    TestCaseError::fail(e.to_string())
}

// ----- the invariants --------------------------------------------------------------------------

/// Every issued ticket is in the state exactly once, and the waiting counts add up.
fn tickets_are_all_there(s: &Step<'_>) -> Result<(), TestCaseError> {
    let q = s.after;
    let mut seen: HashMap<TicketId, usize> = HashMap::new();
    for t in q.tickets() {
        *seen.entry(t.id).or_default() += 1;
    }
    for &id in &s.model.issued {
        prop_assert_eq!(seen.get(&id), Some(&1), "ticket {} lost or duplicated", id);
        prop_assert_eq!(q.ticket(id).map(|t| t.id), Some(id));
    }
    prop_assert_eq!(q.tickets().count(), s.model.issued.len());
    let waiting: Vec<&Ticket> = q
        .tickets()
        .filter(|t| t.state == TicketState::Waiting)
        .collect();
    prop_assert_eq!(q.total_waiting() as usize, waiting.len());
    for service in &s.config.services {
        let expected = waiting
            .iter()
            .filter(|t| t.service == service.id && t.target_counter.is_none())
            .count();
        prop_assert_eq!(q.waiting_count(service.id) as usize, expected);
    }
    for c in q.counters() {
        let expected = waiting
            .iter()
            .filter(|t| t.target_counter == Some(c.id))
            .count();
        prop_assert_eq!(c.personal_waiting as usize, expected, "counter {}", c.id);
    }
    Ok(())
}

/// Held tickets are distinct, held by the counter they name, and called or serving.
fn one_holder_per_ticket(s: &Step<'_>) -> Result<(), TestCaseError> {
    let q = s.after;
    let mut holder: HashMap<TicketId, CounterId> = HashMap::new();
    for c in q.counters() {
        if c.status == CounterStatus::Closed {
            prop_assert_eq!(c.ticket, None, "closed counter {} holds a ticket", c.id);
        }
        if let Some(t) = c.ticket {
            prop_assert!(
                holder.insert(t, c.id).is_none(),
                "ticket {} held by two counters",
                t
            );
        }
    }
    for t in q.tickets() {
        if t.state.is_held() {
            prop_assert!(t.counter.is_some());
            prop_assert_eq!(holder.get(&t.id), t.counter.as_ref(), "ticket {}", t.id);
        } else {
            prop_assert_eq!(
                holder.get(&t.id),
                None,
                "{:?} ticket {} held",
                t.state,
                t.id
            );
        }
    }
    Ok(())
}

/// A counter calls only its services and classes (or its personal line), and `call_next` finds
/// nothing only when nothing is there.
fn calls_stay_in_the_profile(s: &Step<'_>) -> Result<(), TestCaseError> {
    if let (Command::CallNext { counter }, Err(QueueError::NothingToCall { .. })) =
        (s.command, s.result)
    {
        let eligible = s.eligible(*counter);
        prop_assert!(
            eligible.is_empty(),
            "nothing to call, but {} may call {:?}",
            counter,
            eligible.iter().map(|(t, _)| t.id).collect::<Vec<_>>()
        );
        let personal = s.before.counter(*counter).expect("known counter");
        prop_assert_eq!(personal.personal_waiting, 0);
    }
    let Some((t, counter, reason)) = s.called() else {
        return Ok(());
    };
    let after = s.after.ticket(t.id).expect("called ticket");
    prop_assert_eq!(after.state, TicketState::Called);
    prop_assert_eq!(after.counter, Some(counter));
    prop_assert_eq!(
        reason == CallReason::Specific,
        matches!(s.command, Command::Call { .. })
    );
    let personal = t.target_counter == Some(counter);
    if reason == CallReason::Personal {
        prop_assert!(
            personal,
            "personal call of a ticket not in the personal line"
        );
    } else if !(reason == CallReason::Specific && personal) {
        let profile = profile(s.config, counter);
        prop_assert!(t.target_counter.is_none(), "ticket of a personal line");
        prop_assert!(serving(profile, t.service).is_some(), "service not served");
        prop_assert!(profile.takes_class(t.class), "class not taken");
    }
    Ok(())
}

/// A strict counter never calls past an eligible ticket of a better class.
fn strict_respects_class_rank(s: &Step<'_>) -> Result<(), TestCaseError> {
    let Some((t, counter, profile, reason)) = s.called_next() else {
        return Ok(());
    };
    // Escalation and personal lines come before the class rule; appointments are inside it.
    if profile.policy != CallingPolicy::Strict
        || !matches!(reason, CallReason::Policy | CallReason::Appointment)
    {
        return Ok(());
    }
    let rank = class_rank(s.config, t.class);
    for (u, _) in s.eligible(counter) {
        prop_assert!(
            class_rank(s.config, u.class) >= rank,
            "called {} of rank {} past {} of rank {}",
            t.id,
            rank,
            u.id,
            class_rank(s.config, u.class)
        );
    }
    Ok(())
}

/// Each line is served from its head: put-first tickets, then arrival order; appointments by
/// time, then check-in; personal lines alike.
fn lines_are_served_in_order(s: &Step<'_>) -> Result<(), TestCaseError> {
    let Some((t, counter, reason)) = s.called() else {
        return Ok(());
    };
    let mine = s.model.entered(t.id);
    let waiting = s
        .before
        .tickets()
        .filter(|u| u.state == TicketState::Waiting && u.id != t.id);
    let same_line =
        |u: &Ticket| u.target_counter.is_none() && u.service == t.service && u.class == t.class;
    for u in waiting {
        let theirs = s.model.entered(u.id);
        match reason {
            CallReason::Policy if same_line(u) && theirs.line_key().is_some() => {
                prop_assert!(
                    mine.line_key() < theirs.line_key(),
                    "{} called before {} of the same line",
                    t.id,
                    u.id
                );
                // Without anyone put first, that is the earliest `waiting_since`.
                let plain = |e: Entered| matches!(e, Entered::Line { first: false, .. });
                prop_assert!(
                    !(plain(mine) && plain(theirs)) || t.waiting_since <= u.waiting_since,
                    "{} called before {} who waited longer",
                    t.id,
                    u.id
                );
            }
            CallReason::Appointment if same_line(u) && theirs.appointment_key().is_some() => {
                prop_assert!(
                    mine.appointment_key() < theirs.appointment_key(),
                    "appointment {} called before {}",
                    t.id,
                    u.id
                );
            }
            CallReason::Personal if u.target_counter == Some(counter) => {
                prop_assert!(
                    mine.line_key() < theirs.line_key(),
                    "{} called before {} of the same personal line",
                    t.id,
                    u.id
                );
            }
            _ => {}
        }
    }
    Ok(())
}

/// Between lines of the chosen class: service rank, then the head that waited longest
/// (`strict`, `interleave`); the highest weighted wait over all heads (`weighted_wait`).
fn lines_are_chosen_by_rank_and_wait(s: &Step<'_>) -> Result<(), TestCaseError> {
    let Some((t, counter, profile, reason)) = s.called_next() else {
        return Ok(());
    };
    let rank = |u: &Ticket| serving(profile, u.service).expect("served").rank;
    let score = |u: &Ticket| {
        let weight = f64::from(class_weight(s.config, u.class))
            * f64::from(serving(profile, u.service).expect("served").weight);
        weight * ((s.now - u.waiting_since).as_seconds_f64().max(0.0) + 1.0)
    };
    for (u, e) in s.heads(counter) {
        match (profile.policy, reason) {
            (CallingPolicy::WeightedWait, CallReason::Policy | CallReason::Appointment) => {
                prop_assert!(
                    score(t) >= score(u),
                    "{} scores {} below {} with {}",
                    t.id,
                    score(t),
                    u.id,
                    score(u)
                );
            }
            (_, CallReason::Policy) if u.class == t.class => {
                prop_assert!(
                    e.line_key().is_some(),
                    "due appointment {} passed over",
                    u.id
                );
                prop_assert!(
                    (rank(t), t.waiting_since) <= (rank(u), u.waiting_since),
                    "{} (rank {}) called before head {} (rank {})",
                    t.id,
                    rank(t),
                    u.id,
                    rank(u)
                );
            }
            (_, CallReason::Appointment) if u.class == t.class => {
                if let Some((at, _)) = e.appointment_key() {
                    prop_assert!(t.appointment_at <= Some(at), "later appointment first");
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// A ticket past its service's maximum wait goes before anything else; the one furthest past
/// it first.
fn escalation_comes_first(s: &Step<'_>) -> Result<(), TestCaseError> {
    let Some((t, counter, _, reason)) = s.called_next() else {
        return Ok(());
    };
    let mine = s.over_max_wait(t);
    if reason == CallReason::Escalated {
        prop_assert!(mine.is_some_and(|o| o >= Duration::zero()), "not past max");
    }
    for (u, _) in s.eligible(counter) {
        let Some(theirs) = s.over_max_wait(u) else {
            continue;
        };
        if reason == CallReason::Escalated {
            prop_assert!(mine >= Some(theirs), "{} is further past its max", u.id);
        } else {
            prop_assert!(
                theirs < Duration::zero(),
                "{} past its max by {} s, but {:?} went first",
                u.id,
                theirs.num_seconds(),
                reason
            );
        }
    }
    Ok(())
}

/// A ticket's lane tells the ordering it follows, and a call's reason where it waited.
fn reasons_match_lanes(s: &Step<'_>) -> Result<(), TestCaseError> {
    for t in s.after.tickets() {
        if t.state != TicketState::Waiting {
            continue;
        }
        let expected = match s.model.entered(t.id) {
            Entered::Line { .. } => Lane::Walkin,
            Entered::Appointment { .. } => Lane::Appointment,
        };
        prop_assert_eq!(t.lane, expected, "waiting ticket {}", t.id);
    }
    let Some((t, counter, reason)) = s.called() else {
        return Ok(());
    };
    let entered = s.model.entered(t.id);
    match reason {
        CallReason::Policy => {
            prop_assert!(entered.line_key().is_some() && t.target_counter.is_none());
        }
        CallReason::Appointment => prop_assert!(s.is_due(entered) && t.target_counter.is_none()),
        CallReason::Personal => prop_assert_eq!(t.target_counter, Some(counter)),
        CallReason::Escalated => prop_assert!(t.target_counter.is_none()),
        CallReason::Specific => {}
    }
    Ok(())
}

/// A refused command leaves the state exactly as it was.
fn refusals_change_nothing(s: &Step<'_>) -> Result<(), TestCaseError> {
    if let Err(e) = s.result {
        prop_assert_ne!(e.code(), "inconsistent_event", "{}", e);
        prop_assert!(s.after == s.before, "refused ({}) but changed", e.code());
    }
    Ok(())
}

/// Deciding a command changes nothing, and its event applied gives what handling gave; the
/// event's type is one of those listed.
fn decide_then_apply(s: &Step<'_>) -> Result<(), TestCaseError> {
    let mut queue = s.before.clone();
    let decided = queue.decide(s.command, s.now);
    prop_assert!(queue == *s.before, "deciding changed the state");
    match (decided, s.result) {
        (Ok(event), Ok(events)) => {
            prop_assert!(
                QueueEvent::KINDS.contains(&event.kind()),
                "{}",
                event.kind()
            );
            prop_assert_eq!(std::slice::from_ref(&event), events.as_slice());
            queue.apply(&event).map_err(fail)?;
            prop_assert!(queue == *s.after, "applied differs from handled");
        }
        (Err(a), Err(b)) => prop_assert_eq!(a, b.clone()),
        (a, b) => prop_assert!(false, "decided {:?}, handled {:?}", a, b),
    }
    Ok(())
}

/// One estimate per waiting ticket, the batch agreeing with the single ones.
fn estimates_cover_the_waiting(s: &Step<'_>) -> Result<(), TestCaseError> {
    let q = s.after;
    let all = q.estimates(s.now);
    let waiting: HashSet<TicketId> = q
        .tickets()
        .filter(|t| t.state == TicketState::Waiting)
        .map(|t| t.id)
        .collect();
    prop_assert_eq!(all.len(), waiting.len());
    let ids: HashSet<TicketId> = all.iter().map(|e| e.ticket).collect();
    prop_assert_eq!(&ids, &waiting);
    for e in &all {
        let single = q.estimate(e.ticket, s.now);
        prop_assert_eq!(Some(e), single.as_ref());
        prop_assert_eq!(e.wait_secs.is_none(), e.counters == 0);
        prop_assert!(e.wait_secs.is_none_or(|w| w.is_finite() && w >= 0.0));
    }
    for t in q.tickets().filter(|t| !waiting.contains(&t.id)) {
        prop_assert_eq!(q.estimate(t.id, s.now), None);
    }
    Ok(())
}

/// 256 scripts per property. XorShift instead of the default ChaCha: this test crate is not
/// optimized, and at opt-level 0 drawing the random scripts would cost more than running them.
fn config() -> ProptestConfig {
    ProptestConfig {
        rng_algorithm: RngAlgorithm::XorShift,
        ..ProptestConfig::with_cases(256)
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn no_ticket_is_lost_or_duplicated(script in script()) {
        drive(&script, tickets_are_all_there)?;
    }

    #[test]
    fn a_ticket_is_held_by_one_counter_at_most(script in script()) {
        drive(&script, one_holder_per_ticket)?;
    }

    #[test]
    fn counters_call_only_their_work_profile(script in script()) {
        drive(&script, calls_stay_in_the_profile)?;
    }

    #[test]
    fn strict_never_passes_over_a_better_class(script in script()) {
        drive(&script, strict_respects_class_rank)?;
    }

    #[test]
    fn lines_are_first_in_first_out(script in script()) {
        drive(&script, lines_are_served_in_order)?;
    }

    #[test]
    fn service_rank_and_waiting_time_choose_the_line(script in script()) {
        drive(&script, lines_are_chosen_by_rank_and_wait)?;
    }

    #[test]
    fn tickets_past_their_maximum_wait_go_first(script in script()) {
        drive(&script, escalation_comes_first)?;
    }

    #[test]
    fn call_reasons_match_where_the_ticket_waited(script in script()) {
        drive(&script, reasons_match_lanes)?;
    }

    #[test]
    fn a_refused_command_changes_nothing(script in script()) {
        drive(&script, refusals_change_nothing)?;
    }

    #[test]
    fn deciding_then_applying_is_handling(script in script()) {
        drive(&script, decide_then_apply)?;
    }

    #[test]
    fn estimates_cover_every_waiting_ticket(script in script()) {
        drive(&script, estimates_cover_the_waiting)?;
    }

    #[test]
    fn replay_rebuilds_the_state(script in script()) {
        let run = drive(&script, |_| Ok(()))?;
        prop_assert_eq!(run.queue.version(), run.events.len() as u64);
        let replayed = BranchQueue::replay(run.config.clone(), &run.events).map_err(fail)?;
        prop_assert!(replayed == run.queue, "replay differs");
        let mut folded = BranchQueue::new(run.config.clone()).map_err(fail)?;
        for event in &run.events {
            let json = serde_json::to_string(event).map_err(fail)?;
            let back: QueueEvent = serde_json::from_str(&json).map_err(fail)?;
            prop_assert_eq!(&back, event);
            folded.apply(&back).map_err(fail)?;
        }
        prop_assert!(folded == run.queue, "event-by-event replay from JSON differs");
    }
}

/// Guards the properties against going vacuous: the generated scripts reach every event, every
/// call reason, every policy's own choice, refusals, and the time rules.
#[test]
fn scripts_reach_every_rule() {
    let rng = TestRng::deterministic_rng(RngAlgorithm::XorShift);
    let mut runner = TestRunner::new_with_rng(config(), rng);
    let mut kinds = HashSet::new();
    let mut reasons = HashSet::new();
    let mut policy_calls = HashSet::new();
    let mut refusals = HashSet::new();
    for _ in 0..64 {
        let script = script().new_tree(&mut runner).unwrap().current();
        drive(&script, |s| {
            match s.result {
                Ok(events) => kinds.extend(events.iter().map(QueueEvent::kind)),
                Err(e) => {
                    refusals.insert(e.code());
                }
            }
            if let Some((_, _, profile, reason)) = s.called_next() {
                reasons.insert(reason);
                policy_calls.insert((profile.policy, reason));
            }
            Ok(())
        })
        .unwrap();
    }
    assert_eq!(kinds.len(), 13, "event kinds reached: {kinds:?}");
    assert_eq!(reasons.len(), 4, "call_next reasons reached: {reasons:?}");
    for policy in [
        CallingPolicy::Strict,
        CallingPolicy::Interleave,
        CallingPolicy::WeightedWait,
    ] {
        for reason in [CallReason::Policy, CallReason::Appointment] {
            assert!(
                policy_calls.contains(&(policy, reason)),
                "{policy:?} {reason:?}"
            );
        }
    }
    for code in [
        "ticket_exists",
        "unknown_class",
        "ticket_not_found",
        "invalid_ticket_state",
        "counter_not_open",
        "counter_busy",
        "counter_idle",
        "counter_already",
        "nothing_to_call",
        "not_served_by_counter",
        "appointments_not_accepted",
    ] {
        assert!(
            refusals.contains(code),
            "{code} never refused: {refusals:?}"
        );
    }
}

// ----- regressions found by the properties -----------------------------------------------------

fn issue_at(
    queue: &mut BranchQueue,
    ticket: u128,
    service: usize,
    appointment_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> TicketId {
    let ticket = TicketId::from_u128(ticket);
    let request = IssueTicket {
        ticket,
        service: service_id(service),
        class: None,
        source: TicketSource::Reservation,
        customer: None,
        appointment_at,
    };
    queue.issue(request, now).unwrap();
    ticket
}

#[test]
fn a_resumed_appointment_ticket_waits_as_a_walkin() {
    // Bug: resuming a parked appointment ticket put it in the walk-in line but left its `lane`
    // at `Appointment`, so the ticket claimed an ordering it no longer followed.
    let mut q = BranchQueue::new(branch_config(1, 1)).unwrap();
    let (c, now) = (counter_id(0), start());
    q.open_counter(c, None, now).unwrap();
    let t = issue_at(&mut q, 1, 0, Some(now), now);
    assert_eq!(q.ticket(t).unwrap().lane, Lane::Appointment);
    q.call_next(c, now).unwrap();
    q.park(c, now).unwrap();
    q.resume(t, LinePosition::Last, now).unwrap();
    assert_eq!(q.ticket(t).unwrap().lane, Lane::Walkin);
    let events = q.call_next(c, now).unwrap();
    assert!(matches!(
        events[0],
        QueueEvent::TicketCalled {
            reason: CallReason::Policy,
            ..
        }
    ));
}

#[test]
fn batch_estimates_count_older_tickets_behind_a_ticket_put_first() {
    // Bug: `estimates` walked a line's put-first and main tickets with one set of cursors over
    // the other services' lines, although put-first tickets entered later than the main line's
    // head; the main line then counted other services' tickets younger than itself as ahead.
    let mut q = BranchQueue::new(branch_config(2, 1)).unwrap();
    let at = |s: i64| start() + Duration::seconds(s);
    q.open_counter(counter_id(0), None, at(0)).unwrap();
    let old = issue_at(&mut q, 1, 0, None, at(0));
    let moved = issue_at(&mut q, 2, 0, None, at(0));
    issue_at(&mut q, 3, 1, None, at(50));
    let to = TransferTarget::Service(service_id(0));
    q.transfer(moved, to, LinePosition::First, at(100)).unwrap();
    // `old` waits behind `moved` only: the other service's ticket came after it.
    assert_eq!(q.estimate(old, at(100)).unwrap().ahead, 1);
    for e in q.estimates(at(100)) {
        assert_eq!(Some(&e), q.estimate(e.ticket, at(100)).as_ref());
    }
}

#[test]
fn single_estimates_skip_tickets_that_left_another_line() {
    // Bug: `estimate` binary-searched the other services' lines by waiting_since, stale entries
    // included; a ticket transferred on keeps a stale entry whose record now has a later
    // waiting_since, so the search stopped early and missed older tickets behind it.
    let mut q = BranchQueue::new(branch_config(2, 1)).unwrap();
    let at = |s: i64| start() + Duration::seconds(s);
    q.open_counter(counter_id(0), None, at(0)).unwrap();
    for (ticket, secs) in [(1, 0), (2, 5), (3, 10), (4, 20), (5, 30)] {
        issue_at(&mut q, ticket, 0, None, at(secs));
    }
    let w = issue_at(&mut q, 6, 1, None, at(50));
    let to = TransferTarget::Service(service_id(1));
    q.transfer(TicketId::from_u128(3), to, LinePosition::Last, at(100))
        .unwrap();
    // The four tickets still waiting for service A all came before `w`.
    assert_eq!(q.estimate(w, at(100)).unwrap().ahead, 4);
    for e in q.estimates(at(100)) {
        assert_eq!(Some(&e), q.estimate(e.ticket, at(100)).as_ref());
    }
}
