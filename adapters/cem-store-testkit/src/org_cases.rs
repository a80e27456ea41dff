//! The conformance cases of [`OrgStore`], one per contract clause.

use std::sync::Arc;

use cem_core::chrono::{DateTime, Duration, Utc};
use cem_core::{
    Agent, AgentId, Branch, BranchConfig, BranchId, Counter, CounterId, Customer, CustomerId,
    Language, LocalizedText, OrgStore, OrgStoreExt, Organization, OrganizationId, Role, Service,
    ServiceId, StoreError, TicketId, User, UserId, Visit, VisitChange, VisitOutcome,
};
use cem_queue::testing::branch_config;

use crate::OrgHarness;

/// The fixture's configuration, under its own organization.
fn config() -> BranchConfig {
    branch_config(2, 2)
}

fn organization(id: OrganizationId, name: &str) -> Organization {
    Organization {
        id,
        name: LocalizedText::single(Language::en(), name),
        default_language: Language::en(),
    }
}

fn other_org() -> OrganizationId {
    OrganizationId::from_u128(0x0_07E4)
}

fn user(id: u128, organization: OrganizationId, login: &str) -> User {
    User {
        id: UserId::from_u128(id),
        organization,
        login: login.into(),
        name: format!("User {id}"),
        role: Role::Agent,
        branches: Vec::new(),
        agent: None,
        language: None,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        active: true,
    }
}

/// Puts the fixture's organization, classes, branch, services and counters.
async fn put_config(s: &dyn OrgStore, c: &BranchConfig) {
    let org = c.branch.organization;
    s.put_organization(&organization(org, "Bank"))
        .await
        .unwrap();
    for class in &c.classes {
        s.put_class(org, class).await.unwrap();
    }
    s.put_branch(&c.branch).await.unwrap();
    for service in &c.services {
        s.put_service(c.branch.id, service).await.unwrap();
    }
    for counter in &c.counters {
        s.put_counter(c.branch.id, counter).await.unwrap();
    }
}

fn conflict<T: std::fmt::Debug>(r: Result<T, StoreError>, what: &str) {
    assert!(
        matches!(r, Err(StoreError::Conflict { .. })),
        "{what}: expected Conflict, got {r:?}"
    );
}

fn not_found<T: std::fmt::Debug>(r: Result<T, StoreError>, what: &str) {
    assert!(
        matches!(r, Err(StoreError::NotFound { .. })),
        "{what}: expected NotFound, got {r:?}"
    );
}

/// What is put reads back equal, lists keep the order of first puts (a replaced record keeps
/// its place), and a branch's configuration reads back as it was put.
pub async fn records_round_trip_in_put_order(h: &dyn OrgHarness) {
    let s = h.open_org().await;
    let c = config();
    put_config(&*s, &c).await;
    let org = c.branch.organization;

    assert_eq!(s.organization(org).await.unwrap().id, org);
    assert_eq!(s.organizations().await.unwrap().len(), 1);
    assert_eq!(s.classes(org).await.unwrap(), c.classes);
    assert_eq!(s.branch(c.branch.id).await.unwrap(), c.branch);
    assert_eq!(
        s.branches(org).await.unwrap(),
        std::slice::from_ref(&c.branch)
    );
    assert_eq!(s.branch_config(c.branch.id).await.unwrap(), c);

    // Replacing the first service keeps it first.
    let mut changed = c.services[0].clone();
    changed.target_wait_secs += 60;
    changed.name = LocalizedText::single(Language::en(), "Renamed").with(Language::fa(), "تغییر");
    s.put_service(c.branch.id, &changed).await.unwrap();
    assert_eq!(
        s.services(c.branch.id).await.unwrap(),
        [changed, c.services[1].clone()]
    );

    let agent = Agent {
        id: AgentId::from_u128(1),
        organization: org,
        name: "Sara".into(),
        branches: vec![c.branch.id],
    };
    s.put_agent(&agent).await.unwrap();
    assert_eq!(s.agent(agent.id).await.unwrap(), agent);
    assert_eq!(s.agents(org).await.unwrap(), std::slice::from_ref(&agent));

    let mut u = user(1, org, "Sara.Agent");
    u.agent = Some(agent.id);
    u.branches = vec![c.branch.id];
    u.language = Some(Language::fa());
    s.put_user(&u).await.unwrap();
    s.put_user(&user(2, org, "boss")).await.unwrap();
    assert_eq!(s.user(u.id).await.unwrap(), u);
    assert_eq!(s.user_by_login("  sara.agent ").await.unwrap(), u);
    let logins: Vec<String> = s
        .users(org)
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.login)
        .collect();
    assert_eq!(logins, ["Sara.Agent", "boss"]);
}

/// Reads and deletes of unknown records are `NotFound`; puts under an unknown owner are
/// `NotFound` and write nothing; lists under an unknown owner are empty.
pub async fn unknown_records_and_owners_are_not_found(h: &dyn OrgHarness) {
    let s = h.open_org().await;
    let c = config();
    let org = c.branch.organization;
    not_found(s.organization(org).await, "organization");
    not_found(s.branch(c.branch.id).await, "branch");
    not_found(s.branch_config(c.branch.id).await, "branch config");
    not_found(s.agent(AgentId::from_u128(1)).await, "agent");
    not_found(s.user(UserId::from_u128(1)).await, "user");
    not_found(s.user_by_login("nobody").await, "login");
    not_found(s.delete_service(c.services[0].id).await, "delete service");
    not_found(s.delete_counter(c.counters[0].id).await, "delete counter");
    not_found(s.delete_class(c.classes[0].id).await, "delete class");
    not_found(s.delete_agent(AgentId::from_u128(1)).await, "delete agent");
    not_found(s.delete_user(UserId::from_u128(1)).await, "delete user");

    not_found(s.put_branch(&c.branch).await, "branch of an unknown org");
    not_found(
        s.put_class(org, &c.classes[0]).await,
        "class of an unknown org",
    );
    not_found(
        s.put_user(&user(1, org, "a")).await,
        "user of an unknown org",
    );
    s.put_organization(&organization(org, "Bank"))
        .await
        .unwrap();
    not_found(
        s.put_service(c.branch.id, &c.services[0]).await,
        "service of an unknown branch",
    );
    not_found(
        s.put_counter(c.branch.id, &c.counters[0]).await,
        "counter of an unknown branch",
    );
    assert!(s.branches(org).await.unwrap().is_empty());
    assert!(s.services(c.branch.id).await.unwrap().is_empty());
    assert!(s.counters(c.branch.id).await.unwrap().is_empty());
    assert!(s.classes(other_org()).await.unwrap().is_empty());
    assert!(s.users(org).await.unwrap().is_empty());
}

/// Unique keys are `Conflict` when another record holds them, compared as `keys` says, and
/// free again once that record is deleted; a record may be put again with its own key.
pub async fn unique_keys_conflict(h: &dyn OrgHarness) {
    let s = h.open_org().await;
    let c = config();
    put_config(&*s, &c).await;
    let org = c.branch.organization;
    let b = c.branch.id;

    // A class code, per organization, regardless of case.
    let mut class = c.classes[0].clone();
    class.id = cem_core::ClassId::from_u128(0x99);
    class.code = class.code.to_uppercase();
    conflict(s.put_class(org, &class).await, "class code");
    s.put_organization(&organization(other_org(), "Other"))
        .await
        .unwrap();
    s.put_class(other_org(), &class).await.unwrap();

    // A service prefix, per branch, regardless of case.
    let mut service = c.services[1].clone();
    service.id = ServiceId::from_u128(0x99);
    service.prefix = c.services[0].prefix.to_lowercase();
    conflict(s.put_service(b, &service).await, "service prefix");
    s.put_service(b, &c.services[0]).await.unwrap();
    let mut other_branch = c.branch.clone();
    other_branch.id = BranchId::from_u128(0x99);
    s.put_branch(&other_branch).await.unwrap();
    s.put_service(other_branch.id, &service).await.unwrap();

    // A counter number, per branch.
    let mut counter: Counter = c.counters[1].clone();
    counter.id = CounterId::from_u128(0x99);
    counter.number = c.counters[0].number;
    conflict(s.put_counter(b, &counter).await, "counter number");
    s.put_counter(other_branch.id, &counter).await.unwrap();

    // A login, across organizations, regardless of case.
    s.put_user(&user(1, org, "Admin")).await.unwrap();
    conflict(
        s.put_user(&user(2, other_org(), " admin")).await,
        "login in another organization",
    );
    s.put_user(&user(1, org, "Admin")).await.unwrap();

    // Deleting frees the key; nothing else went in.
    s.delete_user(UserId::from_u128(1)).await.unwrap();
    s.put_user(&user(2, other_org(), "admin")).await.unwrap();
    s.delete_service(c.services[0].id).await.unwrap();
    service.id = ServiceId::from_u128(0x98);
    s.put_service(b, &service).await.unwrap();
    assert_eq!(
        s.services(b).await.unwrap(),
        [c.services[1].clone(), service]
    );
    assert_eq!(s.counters(b).await.unwrap(), c.counters);
}

/// A record put under another owner than the one it has is `Conflict` and stays where it was.
pub async fn records_never_change_owner(h: &dyn OrgHarness) {
    let s = h.open_org().await;
    let c = config();
    put_config(&*s, &c).await;
    s.put_organization(&organization(other_org(), "Other"))
        .await
        .unwrap();
    let mut moved: Branch = c.branch.clone();
    moved.organization = other_org();
    conflict(s.put_branch(&moved).await, "branch to another organization");
    conflict(
        s.put_class(other_org(), &c.classes[0]).await,
        "class to another organization",
    );
    let mut second = c.branch.clone();
    second.id = BranchId::from_u128(0x77);
    s.put_branch(&second).await.unwrap();
    let service: Service = c.services[0].clone();
    conflict(
        s.put_service(second.id, &service).await,
        "service to another branch",
    );
    conflict(
        s.put_counter(second.id, &c.counters[0]).await,
        "counter to another branch",
    );
    s.put_user(&user(1, c.branch.organization, "u"))
        .await
        .unwrap();
    conflict(
        s.put_user(&user(1, other_org(), "u")).await,
        "user to another organization",
    );
    assert_eq!(s.branch_config(c.branch.id).await.unwrap(), c);
    assert!(s.branches(other_org()).await.unwrap().is_empty());
    assert!(s.services(second.id).await.unwrap().is_empty());
}

/// Many tasks putting different users with one login at once: exactly one wins, every other
/// gets `Conflict`, and the store holds the winner alone.
pub async fn concurrent_puts_of_one_key_have_one_winner(h: &dyn OrgHarness) {
    const TASKS: u128 = 16;
    let s = h.open_org().await;
    let org = OrganizationId::from_u128(1);
    s.put_organization(&organization(org, "Bank"))
        .await
        .unwrap();
    let barrier = Arc::new(tokio::sync::Barrier::new(TASKS as usize));
    let tasks: Vec<_> = (0..TASKS)
        .map(|i| {
            let (s, barrier) = (Arc::clone(&s), Arc::clone(&barrier));
            tokio::spawn(async move {
                barrier.wait().await;
                s.put_user(&user(100 + i, org, "desk")).await
            })
        })
        .collect();
    let mut winners = Vec::new();
    for (i, task) in tasks.into_iter().enumerate() {
        match task.await.expect("task ran") {
            Ok(()) => winners.push(100 + i as u128),
            Err(StoreError::Conflict { .. }) => {}
            Err(e) => panic!("unexpected error: {e:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "winners: {winners:?}");
    let users = s.users(org).await.unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].id, UserId::from_u128(winners[0]));
}

fn customer(id: u128, organization: OrganizationId, number: Option<&str>) -> Customer {
    Customer {
        id: CustomerId::from_u128(id),
        organization,
        number: number.map(str::to_owned),
        class: None,
        language: Some(Language::en()),
    }
}

/// Customers round-trip; a number is unique within its organization (spaces and case
/// aside) and found by number; unknown customers and owners are not found.
pub async fn customers_are_found_by_a_number_unique_in_their_organization(h: &dyn OrgHarness) {
    let s = h.open_org().await;
    let (org, other) = (OrganizationId::from_u128(1), other_org());
    for id in [org, other] {
        s.put_organization(&organization(id, "Bank")).await.unwrap();
    }
    let vip = customer(10, org, Some("ab 1001"));
    s.put_customer(&vip).await.unwrap();
    s.put_customer(&customer(11, org, None)).await.unwrap();
    s.put_customer(&customer(12, other, Some("AB1001")))
        .await
        .unwrap();
    assert_eq!(s.customer(vip.id).await.unwrap(), vip);
    assert_eq!(s.customer_by_number(org, "AB1001").await.unwrap(), vip);
    assert_eq!(s.customer_by_number(org, " ab1001 ").await.unwrap(), vip);
    assert_eq!(
        s.customer_by_number(other, "ab1001").await.unwrap().id,
        CustomerId::from_u128(12)
    );
    let taken = s.put_customer(&customer(13, org, Some("AB 1001"))).await;
    assert!(
        matches!(taken, Err(StoreError::Conflict { .. })),
        "{taken:?}"
    );
    // Changing one's own number frees the old one.
    s.put_customer(&customer(10, org, Some("2002")))
        .await
        .unwrap();
    s.put_customer(&customer(13, org, Some("AB1001")))
        .await
        .unwrap();
    assert!(matches!(
        s.customer_by_number(org, "9999").await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        s.customer(CustomerId::from_u128(99)).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        s.put_customer(&customer(14, OrganizationId::from_u128(77), None))
            .await,
        Err(StoreError::NotFound { .. })
    ));
}

fn at(minute: i64) -> DateTime<Utc> {
    "2026-11-28T08:00:00Z".parse::<DateTime<Utc>>().unwrap() + Duration::minutes(minute)
}

fn visit(ticket: u128, customer: u128, minute: i64) -> Visit {
    Visit {
        ticket: TicketId::from_u128(ticket),
        customer: CustomerId::from_u128(customer),
        branch: BranchId::from_u128(1),
        service: ServiceId::from_u128(1),
        display: format!("A-{ticket:03}"),
        issued_at: at(minute),
        called_at: None,
        finished_at: None,
        outcome: VisitOutcome::Waiting,
    }
}

/// Changes apply in order; changes of tickets without a visit are ignored; applying the same
/// changes again leaves the same visits; a customer's visits come newest first, limited;
/// open visits are those waiting or called.
pub async fn visits_follow_the_changes_applied_in_order(h: &dyn OrgHarness) {
    let s = h.open_org().await;
    let t = TicketId::from_u128;
    let changes = vec![
        VisitChange::Issued(visit(1, 7, 0)),
        VisitChange::Called {
            ticket: t(1),
            at: at(5),
        },
        VisitChange::Requeued {
            ticket: t(1),
            service: Some(ServiceId::from_u128(2)),
        },
        VisitChange::Called {
            ticket: t(1),
            at: at(9),
        },
        VisitChange::Finished {
            ticket: t(1),
            at: at(15),
        },
        VisitChange::Called {
            ticket: t(50),
            at: at(6),
        },
        VisitChange::Issued(visit(2, 7, 60)),
        VisitChange::Called {
            ticket: t(2),
            at: at(61),
        },
        VisitChange::Ended {
            ticket: t(2),
            outcome: VisitOutcome::NoShow,
        },
        VisitChange::Issued(visit(3, 7, 120)),
        VisitChange::Issued(visit(4, 8, 30)),
        VisitChange::Called {
            ticket: t(4),
            at: at(31),
        },
    ];
    for _ in 0..2 {
        s.apply_visits(&changes).await.unwrap();
        let seen = s.visits(CustomerId::from_u128(7), 10).await.unwrap();
        let tickets: Vec<TicketId> = seen.iter().map(|v| v.ticket).collect();
        assert_eq!(tickets, [t(3), t(2), t(1)]);
        let first = &seen[2];
        assert_eq!(first.outcome, VisitOutcome::Served);
        assert_eq!(first.service, ServiceId::from_u128(2));
        assert_eq!(first.called_at, Some(at(9)), "the last call counts");
        assert_eq!(first.finished_at, Some(at(15)));
        assert_eq!(first.wait_secs(), Some(9 * 60));
        assert_eq!(seen[1].outcome, VisitOutcome::NoShow);
        assert_eq!(seen[0].outcome, VisitOutcome::Waiting);
        assert_eq!(
            s.visits(CustomerId::from_u128(7), 1).await.unwrap().len(),
            1
        );
        let mut open = s.open_visits().await.unwrap();
        open.sort();
        assert_eq!(open, [t(3), t(4)]);
    }
    assert!(
        s.visits(CustomerId::from_u128(50), 10)
            .await
            .unwrap()
            .is_empty()
    );
}

/// Callers applying changes of their own tickets at once lose none of them.
pub async fn concurrent_visit_changes_lose_nothing(h: &dyn OrgHarness) {
    const TASKS: u128 = 8;
    let s = h.open_org().await;
    let barrier = Arc::new(tokio::sync::Barrier::new(TASKS as usize));
    let tasks: Vec<_> = (0..TASKS)
        .map(|i| {
            let (s, barrier) = (Arc::clone(&s), Arc::clone(&barrier));
            tokio::spawn(async move {
                barrier.wait().await;
                for round in 0..5u128 {
                    let ticket = 1000 + i * 10 + round;
                    let minute = i64::try_from(ticket).unwrap();
                    s.apply_visits(&[
                        VisitChange::Issued(visit(ticket, 7, minute)),
                        VisitChange::Finished {
                            ticket: TicketId::from_u128(ticket),
                            at: at(minute + 1),
                        },
                    ])
                    .await?;
                }
                Ok::<_, StoreError>(())
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task ran").unwrap();
    }
    let seen = s.visits(CustomerId::from_u128(7), 100).await.unwrap();
    assert_eq!(seen.len(), (TASKS * 5) as usize);
    assert!(seen.iter().all(|v| v.outcome == VisitOutcome::Served));
    assert!(seen.windows(2).all(|w| w[0].issued_at >= w[1].issued_at));
    assert!(s.open_visits().await.unwrap().is_empty());
}
