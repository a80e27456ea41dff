//! Reports over real HTTP on 127.0.0.1: KPIs of a scripted day, satisfaction beside them,
//! the staffing forecast from two weeks of history, what-if questions, the live status and
//! the service-level alerts pushed to staff; who may read what.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use cem_bus_local::LocalBus;
use cem_core::chrono::{DateTime, TimeDelta, Utc};
use cem_core::{
    Agent, AgentId, BranchConfig, BranchId, ClassId, CounterId, Invitation, InvitationId,
    InvitationSource, Language, LocalizedText, ManualClock, OrgStore, Organization, OrganizationId,
    Role, ServiceId, SurveyStore, TicketId, User, UserId, VisitRef,
};
use cem_http::{AppState, HttpSettings, Stores, hash_password};
use cem_queue::testing::{branch_config, counter_id, service_id};
use cem_queue::{Command, IssueTicket, ServiceOptions, TicketSource};
use cem_store_memory::MemoryStore;
use futures::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse";

/// The agent record of the user `agent`.
const AGENT: AgentId = AgentId::from_u128(3);

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

// ---- A server -------------------------------------------------------------------------------

/// A server on an ephemeral port over a memory store: an organization with two branches (the
/// test branch, in Berlin, with services A and B and three counters; a second one with a
/// service and a counter), an admin, a manager and an agent of the test branch, a manager of
/// the second branch, a kiosk and a display of the test branch; another organization with its
/// own admin and branch. Its clock moves only when a test moves it.
struct Server {
    base: String,
    http: reqwest::Client,
    state: AppState,
    store: Arc<MemoryStore>,
    clock: Arc<ManualClock>,
    config: BranchConfig,
    second: BranchConfig,
    admin: String,
    manager: String,
    agent: String,
    second_manager: String,
    kiosk: String,
    display: String,
    other_admin: String,
}

fn org(id: OrganizationId, name: &str) -> Organization {
    Organization {
        id,
        name: LocalizedText::single(Language::en(), name),
        default_language: Language::en(),
    }
}

fn user(id: u128, org: OrganizationId, login: &str, role: Role, branches: Vec<BranchId>) -> User {
    User {
        id: UserId::from_u128(id),
        organization: org,
        login: login.into(),
        name: login.into(),
        role,
        branches,
        agent: (role == Role::Agent).then(|| AgentId::from_u128(id)),
        language: None,
        password_hash: hash_password(PASSWORD).expect("hash"),
        active: true,
    }
}

async fn put_config(store: &MemoryStore, c: &BranchConfig) {
    for class in &c.classes {
        store.put_class(c.branch.organization, class).await.unwrap();
    }
    store.put_branch(&c.branch).await.unwrap();
    for s in &c.services {
        store.put_service(c.branch.id, s).await.unwrap();
    }
    for k in &c.counters {
        store.put_counter(c.branch.id, k).await.unwrap();
    }
}

/// A branch of one service and one counter, with ids of its own (`n` tells them apart).
fn small_branch(n: u128, organization: OrganizationId) -> BranchConfig {
    let mut c = branch_config(1, 1);
    c.branch.organization = organization;
    c.branch.id = BranchId::from_u128(0xB00 + n);
    c.services[0].id = ServiceId::from_u128(0x500 + n);
    c.counters[0].id = CounterId::from_u128(0xD00 + n);
    c.counters[0].profile.services[0].service = c.services[0].id;
    c
}

impl Server {
    /// A server whose clock starts at `start`.
    async fn start(start: DateTime<Utc>) -> Self {
        let store = Arc::new(MemoryStore::new());
        let config = branch_config(2, 3);
        let o = config.branch.organization;
        store.put_organization(&org(o, "Bank")).await.unwrap();
        put_config(&store, &config).await;
        let second = small_branch(1, o);
        put_config(&store, &second).await;
        let o2 = OrganizationId::from_u128(0x0B7);
        let mut other = small_branch(2, o2);
        for (i, c) in other.classes.iter_mut().enumerate() {
            c.id = ClassId::from_u128(0xC2 + i as u128);
        }
        store.put_organization(&org(o2, "Other")).await.unwrap();
        put_config(&store, &other).await;
        let b = config.branch.id;
        store
            .put_agent(&Agent {
                id: AGENT,
                organization: o,
                name: "Agent".into(),
                branches: vec![b],
            })
            .await
            .unwrap();
        for u in [
            user(1, o, "admin", Role::Admin, vec![]),
            user(2, o, "manager", Role::BranchManager, vec![b]),
            user(3, o, "agent", Role::Agent, vec![b]),
            user(
                4,
                o,
                "second-manager",
                Role::BranchManager,
                vec![second.branch.id],
            ),
            user(9, o2, "other-admin", Role::Admin, vec![]),
        ] {
            store.put_user(&u).await.unwrap();
        }
        let bus = Arc::new(LocalBus::new(1024));
        let clock = Arc::new(ManualClock::new(start));
        let settings = HttpSettings {
            public_per_minute: 100_000,
            logins_per_minute: 100_000,
            ..HttpSettings::default()
        };
        let stores = Stores::single(store.clone(), bus.clone());
        let state = AppState::new(stores, clock.clone(), settings, ServiceOptions::default())
            .await
            .expect("state");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app =
            cem_http::router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let mut server = Self {
            base: format!("http://{addr}"),
            http: reqwest::Client::new(),
            state,
            store,
            clock,
            config,
            second,
            admin: String::new(),
            manager: String::new(),
            agent: String::new(),
            second_manager: String::new(),
            kiosk: String::new(),
            display: String::new(),
            other_admin: String::new(),
        };
        server.admin = server.login("admin").await;
        server.manager = server.login("manager").await;
        server.agent = server.login("agent").await;
        server.second_manager = server.login("second-manager").await;
        server.other_admin = server.login("other-admin").await;
        server.kiosk = server.device("kiosk").await;
        server.display = server.device("display").await;
        server
    }

    fn branch(&self) -> BranchId {
        self.config.branch.id
    }

    async fn login(&self, login: &str) -> String {
        let (status, body) = self
            .call(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({ "login": login, "password": PASSWORD })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "login {login}: {body}");
        body["token"].as_str().unwrap().to_owned()
    }

    async fn device(&self, kind: &str) -> String {
        let path = format!("/api/v1/branches/{}/devices", self.branch());
        let body = json!({ "kind": kind, "name": format!("{kind} 1") });
        let (status, body) = self
            .call(Method::POST, &path, Some(&self.admin), Some(body))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["token"].as_str().unwrap().to_owned()
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        if let Some(b) = body {
            request = request.json(&b);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, Some(token), None).await
    }

    /// Issues a ticket of `service` at the kiosk; returns its id.
    async fn issue(&self, service: ServiceId) -> String {
        let path = format!("/api/v1/branches/{}/tickets", self.branch());
        let body = json!({ "service": service });
        let (status, ticket) = self
            .call(Method::POST, &path, Some(&self.kiosk), Some(body))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{ticket}");
        ticket["id"].as_str().unwrap().to_owned()
    }

    /// The agent acts at counter 1 of the test branch.
    async fn act(&self, action: &str, body: Option<Value>) -> Value {
        let path = format!(
            "/api/v1/branches/{}/counters/{}/{action}",
            self.branch(),
            counter_id(0)
        );
        let (status, answer) = self
            .call(Method::POST, &path, Some(&self.agent), body)
            .await;
        assert_eq!(status, StatusCode::OK, "{action}: {answer}");
        answer
    }

    /// Moves the clock to `secs` after `t0`.
    fn at(&self, t0: DateTime<Utc>, secs: i64) {
        self.clock.set(t0 + TimeDelta::seconds(secs));
    }
}

/// The row of `rows` whose key is `key`.
fn row<'a>(rows: &'a Value, key: &Value) -> &'a Value {
    rows.as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"]["key"] == *key || r["kpi"]["key"]["key"] == *key)
        .unwrap_or_else(|| panic!("no row {key} in {rows}"))
}

// ---- KPIs and satisfaction ------------------------------------------------------------------

/// Monday 2 March 2026, 08:00 in Berlin.
const T0: &str = "2026-03-02T07:00:00Z";

/// A morning at the test branch through the API: tickets A1 and A2 (service A) and B1
/// (service B) issued at 0, 60 and 120 s; A1 called at 300 s (a 300 s wait), served from 330
/// to 630 s; A2 called at 700 s (640 s, past the 600 s target) and absent; B1 called at
/// 3700 s (3580 s; 09:01:40 local), served for 200 s. Returns the clock's start.
async fn scripted_day(server: &Server) -> DateTime<Utc> {
    let t0 = utc(T0);
    server.at(t0, 0);
    server.act("open", None).await;
    let a1 = server.issue(service_id(0)).await;
    server.at(t0, 60);
    let a2 = server.issue(service_id(0)).await;
    server.at(t0, 120);
    let b1 = server.issue(service_id(1)).await;
    let call = |t: &str| Some(json!({ "ticket": t }));
    server.at(t0, 300);
    server.act("call", call(&a1)).await;
    server.at(t0, 330);
    server.act("start", None).await;
    server.at(t0, 630);
    server.act("finish", None).await;
    server.at(t0, 700);
    server.act("call", call(&a2)).await;
    server.at(t0, 760);
    server.act("no-show", None).await;
    server.at(t0, 3700);
    server.act("call", call(&b1)).await;
    server.act("start", None).await;
    server.at(t0, 3900);
    server.act("finish", None).await;
    t0
}

fn kpis_path(query: &str) -> String {
    format!("/api/v1/reports/kpis?{query}")
}

fn window(t0: DateTime<Utc>, from_secs: i64, to_secs: i64) -> String {
    let at = |s: i64| {
        (t0 + TimeDelta::seconds(s))
            .to_rfc3339_opts(cem_core::chrono::SecondsFormat::Secs, true)
            .replace('+', "%2B")
    };
    format!("from={}&to={}", at(from_secs), at(to_secs))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kpis_of_a_scripted_day_are_the_hand_computed_ones() {
    let server = Server::start(utc(T0)).await;
    let b = server.branch();
    let t0 = scripted_day(&server).await;
    let day = window(t0, -3600, 7200);

    let (status, report) = server
        .get(
            &kpis_path(&format!("{day}&by=service&branch={b}")),
            &server.manager,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["by"], "service");
    assert_eq!(report["time_zone"], "Europe/Berlin");
    assert_eq!(report["ignored_events"], 0);
    let rows = &report["rows"];
    assert_eq!(rows.as_array().unwrap().len(), 2, "{rows}");
    let a = row(rows, &json!(service_id(0)));
    assert_eq!(a["key"]["by"], "service");
    for (field, expected) in [
        ("arrived", json!(2)),
        ("called", json!(2)),
        ("served", json!(1)),
        ("no_show", json!(1)),
        ("cancelled", json!(0)),
        ("wait_mean_secs", json!(470.0)),
        // Nearest rank: the lower middle of two waits.
        ("wait_median_secs", json!(300.0)),
        ("wait_p90_secs", json!(640.0)),
        ("wait_max_secs", json!(640.0)),
        ("service_time_mean_secs", json!(300.0)),
        // 300 s within the 600 s target, 640 s not.
        ("service_level_pct", json!(50.0)),
    ] {
        assert_eq!(a[field], expected, "A {field}: {a}");
    }
    let b_row = row(rows, &json!(service_id(1)));
    for (field, expected) in [
        ("arrived", json!(1)),
        ("called", json!(1)),
        ("served", json!(1)),
        ("wait_mean_secs", json!(3580.0)),
        ("service_time_mean_secs", json!(200.0)),
        ("service_level_pct", json!(0.0)),
    ] {
        assert_eq!(b_row[field], expected, "B {field}: {b_row}");
    }

    // By hour of the day in Berlin (UTC+1 in March): 08:00 and 09:00, not 07:00 and 08:00.
    let (status, report) = server
        .get(
            &kpis_path(&format!("{day}&by=hour&branch={b}")),
            &server.admin,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let rows = &report["rows"];
    let keys: Vec<&Value> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["key"]["key"])
        .collect();
    assert_eq!(keys, [&json!(8), &json!(9)], "{rows}");
    let eight = row(rows, &json!(8));
    assert_eq!(
        (
            &eight["arrived"],
            &eight["called"],
            &eight["served"],
            &eight["no_show"]
        ),
        (&json!(3), &json!(2), &json!(1), &json!(1))
    );
    let nine = row(rows, &json!(9));
    assert_eq!(
        (&nine["arrived"], &nine["called"], &nine["served"]),
        (&json!(0), &json!(1), &json!(1))
    );
    assert_eq!(nine["wait_mean_secs"], 3580.0);

    // A window that starts after A2 was issued still knows its wait: the day is read from its
    // start.
    let late = window(t0, 650, 7200);
    let (_, report) = server
        .get(&kpis_path(&format!("{late}&by=service")), &server.manager)
        .await;
    let a = row(&report["rows"], &json!(service_id(0)));
    assert_eq!(
        (
            &a["arrived"],
            &a["called"],
            &a["served"],
            &a["wait_mean_secs"]
        ),
        (&json!(0), &json!(1), &json!(0), &json!(640.0)),
        "{a}"
    );

    // Everything at once, and the agent's own row.
    let (_, report) = server
        .get(&kpis_path(&format!("{day}&by=agent")), &server.admin)
        .await;
    let agent = row(&report["rows"], &json!(AGENT));
    assert_eq!((&agent["called"], &agent["served"]), (&json!(3), &json!(2)));

    // CSV: the header, then a record per service.
    let url = format!(
        "{}{}",
        server.base,
        kpis_path(&format!("{day}&by=service&format=csv"))
    );
    let response = server
        .http
        .get(url)
        .bearer_auth(&server.manager)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = response.text().await.unwrap();
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert!(
        lines[0].starts_with(
            "group,key,arrived,transferred_in,called,served,no_show,cancelled,transferred_out,\
             wait_mean_secs,wait_median_secs,wait_p90_secs,wait_max_secs,\
             service_time_mean_secs,service_level_pct,"
        ),
        "{csv}"
    );
    let a_line = format!(
        "service,{},2,0,2,1,1,0,0,470,300,640,640,300,50,",
        service_id(0)
    );
    assert!(
        lines.iter().any(|l| l.starts_with(&a_line)),
        "no {a_line} in {csv}"
    );
    assert_eq!(lines.len(), 4, "header, two rows, and the last CRLF: {csv}");

    // Bad questions.
    for (query, status, code) in [
        ("by=week", StatusCode::BAD_REQUEST, "invalid_request"),
        ("format=xml", StatusCode::BAD_REQUEST, "invalid_request"),
        ("from=yesterday", StatusCode::BAD_REQUEST, "invalid_request"),
        (
            "from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z",
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "from=2024-01-01T00:00:00Z&to=2026-01-01T00:00:00Z",
            StatusCode::UNPROCESSABLE_ENTITY,
            "out_of_range",
        ),
    ] {
        let (got, answer) = server.get(&kpis_path(query), &server.admin).await;
        assert_eq!(got, status, "{query}: {answer}");
        assert_eq!(answer["code"], code, "{query}: {answer}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_keep_to_the_callers_branches() {
    let server = Server::start(utc(T0)).await;
    let b = server.branch();
    let t0 = scripted_day(&server).await;
    let day = window(t0, -3600, 7200);
    let by_branch = kpis_path(&format!("{day}&by=branch"));

    // The admin sees every branch of the organization; a manager theirs only.
    let (_, report) = server.get(&by_branch, &server.admin).await;
    assert_eq!(report["branches"].as_array().unwrap().len(), 2, "{report}");
    assert_eq!(row(&report["rows"], &json!(b))["arrived"], 3);
    let (_, report) = server.get(&by_branch, &server.second_manager).await;
    assert_eq!(report["branches"], json!([server.second.branch.id]));
    assert_eq!(report["rows"], json!([]), "nothing happened there");

    // Another manager's branch is forbidden; agents read no reports.
    for path in [
        kpis_path(&format!("branch={b}")),
        format!("/api/v1/reports/satisfaction?branch={b}"),
        format!("/api/v1/branches/{b}/forecast"),
        format!("/api/v1/branches/{b}/live"),
    ] {
        let (status, answer) = server.get(&path, &server.second_manager).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {answer}");
    }
    for path in [
        kpis_path(""),
        "/api/v1/reports/satisfaction".to_owned(),
        format!("/api/v1/branches/{b}/forecast"),
        format!(
            "/api/v1/branches/{b}/what-if?service={}&arrivals_per_hour=10&counters=1",
            service_id(0)
        ),
    ] {
        let (status, answer) = server.get(&path, &server.agent).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {answer}");
        assert_eq!(answer["code"], "forbidden");
    }
    let (status, _) = server
        .get(&format!("/api/v1/branches/{b}/live"), &server.agent)
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "an agent of the branch watches it live"
    );

    // Another organization's admin: our branch does not exist, and their reports hold
    // nothing of ours.
    for path in [
        kpis_path(&format!("branch={b}")),
        format!("/api/v1/reports/satisfaction?branch={b}"),
        format!("/api/v1/branches/{b}/forecast"),
        format!(
            "/api/v1/branches/{b}/what-if?service={}&arrivals_per_hour=10&counters=1",
            service_id(0)
        ),
        format!("/api/v1/branches/{b}/live"),
    ] {
        let (status, answer) = server.get(&path, &server.other_admin).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {answer}");
        assert_eq!(answer["code"], "branch_not_found", "{path}: {answer}");
    }
    let (status, report) = server.get(&by_branch, &server.other_admin).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!report.to_string().contains(&b.to_string()), "{report}");
    assert_eq!(report["rows"], json!([]));
}

/// A survey with an NPS question, offered by link.
fn survey_definition() -> Value {
    json!({
        "name": "After visit",
        "title": { "en": "How was your visit?" },
        "questions": [
            {
                "key": "nps",
                "prompt": { "en": "How likely are you to recommend us?" },
                "kind": { "type": "nps" },
                "required": true,
            },
        ],
        "triggers": { "link": true },
        "active": true,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn satisfaction_sits_beside_the_kpis_and_hides_small_groups_of_people() {
    let server = Server::start(utc(T0)).await;
    let b = server.branch();
    let t0 = scripted_day(&server).await;
    let (status, survey) = server
        .call(
            Method::POST,
            "/api/v1/surveys",
            Some(&server.admin),
            Some(survey_definition()),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{survey}");
    let survey_id = survey["id"].as_str().unwrap().to_owned();

    // A walk-up response by link, and one after a service of the agent.
    let path = format!("/api/v1/branches/{b}/surveys/{survey_id}/invitations");
    let open = json!({ "source": "link", "language": "en" });
    let (status, doc) = server.call(Method::POST, &path, None, Some(open)).await;
    assert_eq!(status, StatusCode::CREATED, "{doc}");
    let link = doc["invitation"]["token"].as_str().unwrap().to_owned();
    let now = t0 + TimeDelta::seconds(3900);
    let after_service = Invitation {
        id: InvitationId::from_u128(0x5E),
        token: "after-service-token".into(),
        organization: server.config.branch.organization,
        survey: survey_id.parse().unwrap(),
        branch: b,
        source: InvitationSource::AfterService,
        visit: VisitRef {
            agent: Some(AGENT),
            service: Some(service_id(1)),
            ..VisitRef::default()
        },
        recipient_key: None,
        language: Language::en(),
        created_at: now,
        expires_at: now + TimeDelta::hours(72),
        answered_at: None,
    };
    server
        .store
        .insert_invitation(&after_service, None, &[])
        .await
        .unwrap();
    for (token, score) in [(link.as_str(), 10), ("after-service-token", 9)] {
        let answer = json!({
            "version": 1,
            "language": "en",
            "answers": [{ "question": "nps", "value": score }],
        });
        let path = format!("/api/v1/surveys/invitations/{token}/response");
        let (status, taken) = server.call(Method::POST, &path, None, Some(answer)).await;
        assert_eq!(status, StatusCode::CREATED, "{taken}");
    }

    let day = window(t0, -3600, 7200);
    let satisfaction = |query: String| format!("/api/v1/reports/satisfaction?{day}&{query}");
    let (status, report) = server
        .get(
            &satisfaction(format!("by=branch&branch={b}")),
            &server.manager,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["min_group"], 5);
    let branch = row(&report["rows"], &json!(b));
    assert_eq!(branch["kpi"]["arrived"], 3);
    assert_eq!(branch["suppressed"], false);
    assert_eq!(branch["satisfaction"]["responses"], 2);
    assert_eq!(branch["satisfaction"]["nps"], 100.0, "two promoters");

    // The agent's one response is below the minimum group size of 5: hidden, KPIs shown.
    let (_, report) = server
        .get(&satisfaction("by=agent".into()), &server.admin)
        .await;
    let agent = row(&report["rows"], &json!(AGENT));
    assert_eq!(agent["kpi"]["called"], 3);
    assert_eq!(agent["suppressed"], true);
    assert_eq!(agent["satisfaction"], Value::Null);

    // By service: B has the after-service response (its NPS is not a person's).
    let (_, report) = server
        .get(&satisfaction("by=service".into()), &server.admin)
        .await;
    let b_row = row(&report["rows"], &json!(service_id(1)));
    assert_eq!(b_row["satisfaction"]["responses"], 1);
    assert_eq!(b_row["satisfaction"]["nps"], 100.0);

    // CSV: the KPI columns, then the survey's.
    let (status, csv) = server
        .get(
            &satisfaction(format!("by=branch&branch={b}&format=csv")),
            &server.manager,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let csv = csv.as_str().unwrap();
    let mut lines = csv.split("\r\n");
    assert!(
        lines
            .next()
            .unwrap()
            .ends_with(",suppressed,responses,nps,csat,ces_ease,sentiment"),
        "{csv}"
    );
    let record = lines.next().unwrap();
    assert!(record.starts_with(&format!("branch,{b},3,")), "{record}");
    assert!(record.ends_with(",false,2,100,,,"), "{record}");
}

// ---- Forecast and what-if -------------------------------------------------------------------

/// The first day of the history: Monday 2 February 2026.
const HISTORY_FROM: &str = "2026-02-02";

/// Two weeks of service A at the test branch, written through the queue service at their
/// instants: every day from 10:00 local (09:00 UTC) 12 tickets five minutes apart, each
/// called a minute after its issue and served for 240 s at counter 1.
async fn two_weeks_of_history(server: &Server) {
    let queue = server.state.queue();
    let b = server.branch();
    let counter = counter_id(0);
    let first = utc("2026-02-02T09:00:00Z");
    let run = |command: Command, at: DateTime<Utc>| async move {
        queue.execute(b, &command, at).await.unwrap();
    };
    run(
        Command::OpenCounter {
            counter,
            agent: None,
        },
        first,
    )
    .await;
    let mut n = 0;
    for day in 0..14 {
        for i in 0..12 {
            let issued = first + TimeDelta::days(day) + TimeDelta::minutes(5 * i);
            n += 1;
            let issue = Command::Issue(IssueTicket {
                ticket: TicketId::from_u128(0x71C + n),
                service: service_id(0),
                class: None,
                source: TicketSource::Kiosk,
                customer: None,
                appointment_at: None,
            });
            run(issue, issued).await;
            let called = issued + TimeDelta::seconds(60);
            run(Command::CallNext { counter }, called).await;
            run(Command::Start { counter }, called).await;
            run(
                Command::Finish { counter },
                called + TimeDelta::seconds(240),
            )
            .await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_forecast_staffs_the_history_by_erlang_c() {
    let server = Server::start(utc("2026-02-16T07:00:00Z")).await;
    two_weeks_of_history(&server).await;
    let b = server.branch();
    let path = format!("/api/v1/branches/{b}/forecast?from={HISTORY_FROM}&to=2026-02-16&level=0.8");
    let (status, forecast) = server.get(&path, &server.manager).await;
    assert_eq!(status, StatusCode::OK, "{forecast}");
    assert_eq!(forecast["time_zone"], "Europe/Berlin");
    let services = forecast["services"].as_array().unwrap();
    let a = services
        .iter()
        .find(|s| s["service"] == json!(service_id(0)))
        .unwrap();
    assert_eq!(a["from_history"], true);
    assert_eq!(a["mean_service_secs"], 240.0);
    assert_eq!(a["target_wait_secs"], 600);
    let needed = cem_report::forecast::counters_needed(12.0, 240.0, 600.0, 0.8).unwrap();
    // 0.8 erlangs: one counter calls only about half within 10 minutes, two do it.
    assert_eq!(needed, 2);
    let hours = a["hours"].as_array().unwrap();
    for weekday in 1..=7 {
        let ten = hours
            .iter()
            .find(|h| h["weekday"] == weekday && h["hour"] == 10)
            .unwrap_or_else(|| panic!("no hour 10 of day {weekday}"));
        assert_eq!(ten["arrivals"], 12.0, "two days of 12");
        assert_eq!(ten["counters"], needed, "{ten}");
        assert!(ten["service_level"].as_f64().unwrap() >= 0.8, "{ten}");
        let nine = hours
            .iter()
            .find(|h| h["weekday"] == weekday && h["hour"] == 9)
            .unwrap();
        assert_eq!(
            (&nine["arrivals"], &nine["counters"]),
            (&json!(0.0), &json!(0))
        );
    }
    let b_service = services
        .iter()
        .find(|s| s["service"] == json!(service_id(1)))
        .unwrap();
    assert_eq!(b_service["from_history"], false);
    assert_eq!(b_service["mean_service_secs"], 300.0, "as configured");
    let total = forecast["totals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["weekday"] == 3 && t["hour"] == 10)
        .unwrap();
    assert_eq!(total["counters"], needed);

    // The default history is the 28 days before today: four of each weekday, two of them
    // empty, so 24 arrivals ÷ 4 days.
    let (_, default) = server
        .get(&format!("/api/v1/branches/{b}/forecast"), &server.admin)
        .await;
    assert_eq!(default["from"], "2026-01-19");
    assert_eq!(default["to"], "2026-02-16");
    let ten = default["services"][0]["hours"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["weekday"] == 1 && h["hour"] == 10)
        .unwrap();
    assert_eq!(ten["arrivals"], 6.0, "{ten}");

    for (query, status) in [
        ("level=1", StatusCode::UNPROCESSABLE_ENTITY),
        ("level=0", StatusCode::UNPROCESSABLE_ENTITY),
        (
            "from=2024-01-01&to=2026-01-01",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        ("from=2026-02-16&to=2026-02-02", StatusCode::BAD_REQUEST),
        ("from=monday", StatusCode::BAD_REQUEST),
    ] {
        let path = format!("/api/v1/branches/{b}/forecast?{query}");
        let (got, answer) = server.get(&path, &server.admin).await;
        assert_eq!(got, status, "{query}: {answer}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_if_agrees_with_erlang_c_and_refuses_endless_questions() {
    let server = Server::start(utc("2026-02-16T07:00:00Z")).await;
    two_weeks_of_history(&server).await;
    let b = server.branch();
    let a = service_id(0);
    let what_if = |query: String| format!("/api/v1/branches/{b}/what-if?service={a}&{query}");

    // 30 an hour of 240 s on 3 counters: 2 erlangs.
    for (query, target) in [
        ("arrivals_per_hour=30&counters=3".to_owned(), 600.0),
        (
            "arrivals_per_hour=30&counters=3&target_wait_secs=60".to_owned(),
            60.0,
        ),
    ] {
        let (status, answer) = server.get(&what_if(query.clone()), &server.manager).await;
        assert_eq!(status, StatusCode::OK, "{query}: {answer}");
        assert_eq!(answer["mean_service_from"], "history");
        assert_eq!(answer["question"]["mean_service_secs"], 240.0);
        assert_eq!(answer["question"]["target_wait_secs"], target);
        let erlang = cem_queue::theory::mmc_service_level(3, 30.0 / 3600.0, 240.0, target);
        let theory = answer["result"]["theory_service_level"].as_f64().unwrap();
        assert!((theory - erlang).abs() < 1e-9, "{answer}");
        let simulated = answer["result"]["service_level"].as_f64().unwrap();
        assert!(
            (simulated - erlang).abs() < 0.05,
            "{query}: simulated {simulated}, Erlang C {erlang}"
        );
    }
    let (_, answer) = server
        .get(
            &what_if("arrivals_per_hour=30&counters=3&mean_service_secs=120".into()),
            &server.admin,
        )
        .await;
    assert_eq!(answer["mean_service_from"], "query");

    // Service B has no history: its configured expectation.
    let path = format!(
        "/api/v1/branches/{b}/what-if?service={}&arrivals_per_hour=10&counters=2",
        service_id(1)
    );
    let (status, answer) = server.get(&path, &server.admin).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["mean_service_from"], "config");
    assert_eq!(answer["question"]["mean_service_secs"], 300.0);

    for (query, status, code) in [
        (
            "arrivals_per_hour=10001&counters=3",
            StatusCode::UNPROCESSABLE_ENTITY,
            "out_of_range",
        ),
        (
            "arrivals_per_hour=0&counters=3",
            StatusCode::UNPROCESSABLE_ENTITY,
            "out_of_range",
        ),
        (
            "arrivals_per_hour=-5&counters=3",
            StatusCode::UNPROCESSABLE_ENTITY,
            "out_of_range",
        ),
        (
            "arrivals_per_hour=NaN&counters=3",
            StatusCode::UNPROCESSABLE_ENTITY,
            "out_of_range",
        ),
        (
            "arrivals_per_hour=30&counters=201",
            StatusCode::UNPROCESSABLE_ENTITY,
            "out_of_range",
        ),
        (
            "arrivals_per_hour=30&counters=0",
            StatusCode::UNPROCESSABLE_ENTITY,
            "out_of_range",
        ),
        (
            "arrivals_per_hour=30&counters=3&mean_service_secs=0",
            StatusCode::UNPROCESSABLE_ENTITY,
            "out_of_range",
        ),
        (
            "arrivals_per_hour=30&counters=3&mean_service_secs=1e9",
            StatusCode::UNPROCESSABLE_ENTITY,
            "out_of_range",
        ),
        (
            "arrivals_per_hour=30",
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "counters=3&arrivals_per_hour=many",
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
    ] {
        let (got, answer) = server.get(&what_if(query.into()), &server.admin).await;
        assert_eq!(got, status, "{query}: {answer}");
        assert_eq!(answer["code"], code, "{query}: {answer}");
    }
    let missing = "00000000-0000-0000-0000-00000000dead";
    let path =
        format!("/api/v1/branches/{b}/what-if?service={missing}&arrivals_per_hour=10&counters=1");
    let (status, answer) = server.get(&path, &server.admin).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
    assert_eq!(answer["code"], "service_not_found");
}

// ---- Live status and alerts -----------------------------------------------------------------

/// Reads SSE messages (`event`, `data`) from a response body.
struct Sse {
    body: futures::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    buffer: String,
}

impl Sse {
    async fn open(server: &Server, branch: BranchId, token: &str) -> Self {
        let response = server
            .http
            .get(format!("{}/api/v1/branches/{branch}/events", server.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        Self {
            body: response.bytes_stream().boxed(),
            buffer: String::new(),
        }
    }

    /// The next message, skipping keep-alive comments.
    async fn next(&mut self) -> (String, Value) {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let (mut event, mut data) = (String::new(), String::new());
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        event = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim());
                    }
                }
                if event.is_empty() {
                    continue;
                }
                return (event, serde_json::from_str(&data).unwrap());
            }
            let chunk = tokio::time::timeout(Duration::from_secs(5), self.body.next())
                .await
                .expect("a message within 5 s")
                .expect("the stream goes on")
                .unwrap();
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// The alerts received until a queue event of type `kind`.
    async fn alerts_until(&mut self, kind: &str) -> Vec<Value> {
        let mut alerts = Vec::new();
        loop {
            let (event, data) = self.next().await;
            match event.as_str() {
                "alert" => alerts.push(data),
                "queue" if data["event"]["type"] == kind => return alerts,
                _ => {}
            }
        }
    }

    /// The alerts received until one whose change is `change`, that one included.
    async fn alerts_through(&mut self, change: &str) -> Vec<Value> {
        let mut alerts = Vec::new();
        loop {
            let (event, data) = self.next().await;
            if event == "alert" {
                let last = data["change"] == change;
                alerts.push(data);
                if last {
                    return alerts;
                }
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wait_past_its_target_alerts_staff_once_and_clears_once() {
    let start = utc("2026-03-02T08:00:00Z");
    let server = Server::start(start).await;
    let b = server.branch();
    let second = server.second.branch.id;
    let live = format!("/api/v1/branches/{b}/live");
    server.act("open", None).await;
    let mut staff = Sse::open(&server, b, &server.admin).await;
    let mut screen = Sse::open(&server, b, &server.display).await;
    let mut elsewhere = Sse::open(&server, second, &server.second_manager).await;

    // A ticket of service A (target 10 minutes) waits 11 minutes: waits grow without events,
    // so the server's timer notices.
    server.issue(service_id(0)).await;
    let (_, status) = server.get(&live, &server.manager).await;
    assert_eq!(status["alerts"], json!([]), "{status}");
    server.clock.advance(TimeDelta::minutes(11));
    server.state.check_alerts().await;
    let raised = staff.alerts_through("raised").await;
    assert_eq!(raised.len(), 1, "{raised:?}");
    let alert = &raised[0];
    assert_eq!(alert["kind"], "target_exceeded");
    assert_eq!(alert["service"], json!(service_id(0)));
    assert_eq!(alert["branch"], json!(b));
    assert_eq!(alert["limit_secs"], 600);
    assert_eq!(alert["longest_wait_secs"], 660.0);
    assert_eq!(alert["waiting"], 1);

    // Checked again, and read live by a manager and an agent: still the one alert.
    server.clock.advance(TimeDelta::seconds(15));
    server.state.check_alerts().await;
    server.state.check_alerts().await;
    for token in [&server.manager, &server.agent] {
        let (status, view) = server.get(&live, token).await;
        assert_eq!(status, StatusCode::OK, "{view}");
        let alerts = view["alerts"].as_array().unwrap();
        assert_eq!(alerts.len(), 1, "{view}");
        assert_eq!(alerts[0]["kind"], "target_exceeded");
        assert_eq!(alerts[0]["service"], json!(service_id(0)));
        let a = &view["status"]["services"][0];
        assert_eq!(
            (&a["waiting"], &a["longest_wait_secs"]),
            (&json!(1), &json!(675.0))
        );
        assert_eq!(view["status"]["counters_open"], 1);
    }

    // The ticket is called: the alert clears, once.
    server.act("call-next", None).await;
    let cleared = staff.alerts_through("cleared").await;
    assert_eq!(cleared.len(), 1, "no second raise: {cleared:?}");
    assert_eq!(cleared[0]["kind"], "target_exceeded");
    server.state.check_alerts().await;
    server.act("start", None).await;
    assert_eq!(
        staff.alerts_until("service_started").await,
        Vec::<Value>::new()
    );
    let (_, view) = server.get(&live, &server.manager).await;
    assert_eq!(view["alerts"], json!([]));

    // Never on a screen, nor on another branch's staff stream.
    assert_eq!(
        screen.alerts_until("service_started").await,
        Vec::<Value>::new()
    );
    let path = format!(
        "/api/v1/branches/{second}/counters/{}/open",
        server.second.counters[0].id
    );
    let (status, answer) = server
        .call(Method::POST, &path, Some(&server.second_manager), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(
        elsewhere.alerts_until("counter_opened").await,
        Vec::<Value>::new()
    );
    // Nor can the other branch's manager or a display read our branch live.
    for token in [&server.second_manager, &server.display] {
        let (status, _) = server.get(&live, token).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_lists_the_reports() {
    let server = Server::start(utc(T0)).await;
    let (status, doc) = server
        .call(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    for path in [
        "/api/v1/reports/kpis",
        "/api/v1/reports/satisfaction",
        "/api/v1/branches/{branch}/forecast",
        "/api/v1/branches/{branch}/what-if",
        "/api/v1/branches/{branch}/live",
    ] {
        let get = &doc["paths"][path]["get"];
        assert_eq!(get["tags"], json!(["reports"]), "{path}");
        for p in get["parameters"].as_array().into_iter().flatten() {
            let name = p["name"].as_str().unwrap();
            let expected = if name == "branch" && path.contains("{branch}") {
                "path"
            } else {
                "query"
            };
            assert_eq!(p["in"], expected, "{path} {name}");
        }
    }
    let what_if = &doc["paths"]["/api/v1/branches/{branch}/what-if"]["get"]["parameters"];
    let required: Vec<&str> = what_if
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["required"] == true && p["in"] == "query")
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(required, ["service", "arrivals_per_hour", "counters"]);
}

/// The charts of a scripted day are SVG with their titles in the language asked, the wait
/// distribution has a bar per five minutes up to an hour and one beyond, only managers see
/// them, and the forecast comes as CSV too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn charts_are_svg_in_the_language_asked_and_the_forecast_comes_as_csv() {
    let server = Server::start(utc(T0)).await;
    let b = server.branch();
    let t0 = scripted_day(&server).await;
    let day = window(t0, -3600, 7200);
    let get = |path: String, token: String| {
        let (http, base) = (server.http.clone(), server.base.clone());
        async move {
            let answer = http
                .get(format!("{base}{path}"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            let status = answer.status();
            let kind = answer
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default();
            (status, kind, answer.text().await.unwrap())
        }
    };
    for (chart, en, fa) in [
        ("waits", "Waiting time", "زمان انتظار"),
        ("arrivals", "Arrivals per hour", "ورود مشتریان در هر ساعت"),
        ("service-level", "Service level", "سطح خدمت"),
        ("satisfaction", "Satisfaction", "رضایت مشتریان"),
    ] {
        for (language, title) in [("en", en), ("fa", fa)] {
            let path =
                format!("/api/v1/reports/charts/{chart}.svg?{day}&branch={b}&language={language}");
            let (status, kind, svg) = get(path, server.manager.clone()).await;
            assert_eq!(status, StatusCode::OK, "{chart} {language}: {svg}");
            assert!(kind.starts_with("image/svg+xml"), "{kind}");
            assert!(svg.starts_with("<svg"), "{chart}");
            assert!(
                svg.contains(&format!("<title>{title}</title>")),
                "{chart}: {svg}"
            );
        }
    }
    let (_, _, waits) = get(
        format!("/api/v1/reports/charts/waits.svg?{day}&branch={b}&language=fa"),
        server.manager.clone(),
    )
    .await;
    assert!(waits.contains("۶۰+"), "the last bar is an hour and more");
    let (status, _, _) = get(
        format!("/api/v1/reports/charts/waits.svg?{day}&branch={b}"),
        server.agent.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, kind, csv) = get(
        format!("/api/v1/branches/{b}/forecast?format=csv"),
        server.manager.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{csv}");
    assert!(kind.starts_with("text/csv"), "{kind}");
    assert!(
        csv.starts_with(
            "service,weekday,hour,arrivals,mean_service_secs,target_wait_secs,load_erlangs,counters,service_level"
        ),
        "{csv}"
    );
    assert!(csv.lines().count() > 1, "{csv}");
}

// ---- KPIs from the hourly aggregates --------------------------------------------------------

/// Five days (Monday 2 to Friday 6 March 2026) at both branches of the organization, in time
/// order through the queue service: 30 tickets a day and branch, called at the first free
/// counter; some recalled, some absent, some cancelled while waiting.
async fn a_week_at_two_branches(server: &Server) -> DateTime<Utc> {
    let branches = [
        (
            server.branch(),
            vec![counter_id(0), counter_id(1)],
            vec![service_id(0), service_id(1)],
        ),
        (
            server.second.branch.id,
            vec![server.second.counters[0].id],
            vec![server.second.services[0].id],
        ),
    ];
    let mut commands: Vec<(DateTime<Utc>, BranchId, Command)> = Vec::new();
    let mut n = 0u128;
    for day in 0..5 {
        // 08:00 in Berlin.
        let opening = utc("2026-03-02T07:00:00Z") + TimeDelta::days(day);
        for (branch, counters, services) in &branches {
            let mut free_at: Vec<DateTime<Utc>> = vec![opening; counters.len()];
            for &counter in counters {
                commands.push((
                    opening,
                    *branch,
                    Command::OpenCounter {
                        counter,
                        agent: None,
                    },
                ));
                let closing = opening + TimeDelta::hours(12);
                commands.push((closing, *branch, Command::CloseCounter { counter }));
            }
            for i in 0..30i64 {
                n += 1;
                let ticket = TicketId::from_u128(0xA66_0000 + n);
                let arrival = opening + TimeDelta::seconds(60 + i * 150 + (i * 37) % 90);
                let issue = IssueTicket {
                    ticket,
                    service: services[i as usize % services.len()],
                    class: None,
                    source: TicketSource::Kiosk,
                    customer: None,
                    appointment_at: None,
                };
                commands.push((arrival, *branch, Command::Issue(issue)));
                if i % 11 == 5 {
                    let at = arrival + TimeDelta::seconds(20);
                    commands.push((at, *branch, Command::Cancel { ticket }));
                    continue;
                }
                let (k, free) = (free_at.iter().enumerate())
                    .min_by_key(|(_, at)| **at)
                    .map(|(k, at)| (k, *at))
                    .unwrap();
                let counter = counters[k];
                let call = arrival.max(free) + TimeDelta::seconds(5 + (i * 13) % 40);
                commands.push((call, *branch, Command::Call { counter, ticket }));
                let secs = |s: i64| call + TimeDelta::seconds(s);
                let service = 120 + (i * 53) % 400;
                let done = if i % 7 == 3 {
                    commands.push((secs(60), *branch, Command::NoShow { counter }));
                    secs(60)
                } else {
                    if i % 5 == 1 {
                        commands.push((secs(20), *branch, Command::Recall { counter }));
                    }
                    commands.push((secs(40), *branch, Command::Start { counter }));
                    commands.push((secs(40 + service), *branch, Command::Finish { counter }));
                    secs(40 + service)
                };
                free_at[k] = done;
            }
        }
    }
    commands.sort_by_key(|(at, _, _)| *at);
    let queue = server.state.queue();
    for (at, branch, command) in &commands {
        server.clock.set(*at);
        queue
            .execute(*branch, command, *at)
            .await
            .unwrap_or_else(|e| panic!("{command:?} at {at}: {e}"));
    }
    commands.last().unwrap().0
}

/// Asserts that rows from the aggregates equal the folded ones: counts, sums, means, maxima
/// and shares exactly; the median and p90 at most one 30-second bucket above (never below);
/// no counter time, and so no group of counter time alone.
fn assert_same_figures(aggregated: &Value, folded: &Value, what: &str) {
    let facts = [
        "arrived",
        "called",
        "served",
        "no_show",
        "cancelled",
        "transferred_in",
    ];
    let (a, f): (&Vec<Value>, Vec<&Value>) = (
        aggregated.as_array().unwrap(),
        (folded.as_array().unwrap().iter())
            .filter(|r| facts.iter().any(|k| r[k] != 0))
            .collect(),
    );
    assert_eq!(a.len(), f.len(), "{what}: {aggregated} vs {folded}");
    assert!(!a.is_empty(), "{what}: no rows");
    for (a, f) in a.iter().zip(f) {
        for (field, folded) in f.as_object().unwrap() {
            let aggregated = &a[field];
            match field.as_str() {
                "wait_median_secs" | "wait_p90_secs" if folded.is_null() => {
                    assert_eq!(aggregated, folded, "{what} {field}");
                }
                "wait_median_secs" | "wait_p90_secs" => {
                    let (x, h) = (folded.as_f64().unwrap(), aggregated.as_f64().unwrap());
                    assert!(x <= h && h <= x + 30.0, "{what} {field}: {h} vs {x}");
                }
                "busy_secs" | "open_secs" => assert_eq!(aggregated, &json!(0.0), "{what}"),
                "utilization_pct" => assert_eq!(aggregated, &Value::Null, "{what}"),
                _ => assert_eq!(aggregated, folded, "{what} {field} of {}", f["key"]),
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kpis_from_the_aggregates_equal_the_folded_events() {
    let mut server = Server::start(utc("2026-03-02T06:00:00Z")).await;
    let last = a_week_at_two_branches(&server).await;
    server.clock.set(last + TimeDelta::days(1));
    // Tokens do not last the week.
    server.admin = server.login("admin").await;
    let week = "from=2026-03-01T23:00:00Z&to=2026-03-06T23:00:00Z";
    let s = &server;
    let kpis = |query: String| async move {
        let (status, body) = s.get(&kpis_path(&query), &s.admin).await;
        assert_eq!(status, StatusCode::OK, "{query}: {body}");
        body
    };
    // Before the projection has read the history, reports fold the events.
    let before = kpis(format!("{week}&by=service")).await;
    assert_eq!(before["source"], "events");

    let stores = server.state.stores();
    let mut projector =
        cem_http::ReportProjector::new(Arc::clone(&stores.events), Arc::clone(&stores.reports), 97);
    let spec = cem_http::report_spec(&server.state).await.unwrap();
    let caught = projector.catch_up(&spec).await.unwrap();
    assert!(caught.batches > 1, "{caught:?}");
    assert_eq!(caught.cursor, caught.events);

    // Two days and two hours, from Tuesday 09:00 to Thursday 11:00 in Berlin.
    let part = "from=2026-03-03T08:00:00Z&to=2026-03-05T10:00:00Z";
    for window in [week, part] {
        for by in ["all", "branch", "service", "day", "hour", "weekday"] {
            let aggregated = kpis(format!("{window}&by={by}")).await;
            let folded = kpis(format!("{window}&by={by}&source=events")).await;
            assert_eq!(aggregated["source"], "aggregates", "{window} {by}");
            assert_eq!(folded["source"], "events");
            assert_eq!(aggregated["ignored_events"], 0);
            let what = format!("{window} by {by}");
            assert_same_figures(&aggregated["rows"], &folded["rows"], &what);
        }
    }
    let week_by_service = kpis(format!("{week}&by=service")).await;
    let called: u64 = (week_by_service["rows"].as_array().unwrap().iter())
        .map(|r| r["called"].as_u64().unwrap())
        .sum();
    assert!(called > 200, "a history worth comparing: {called} calls");
    // The satisfaction report reads the same rows.
    let path = format!("/api/v1/reports/satisfaction?{week}&by=service");
    let (status, satisfaction) = server.get(&path, &server.admin).await;
    assert_eq!(status, StatusCode::OK, "{satisfaction}");
    assert_eq!(satisfaction["source"], "aggregates");
    // Counters, windows off the hour and unknown sources.
    let counters = kpis(format!("{week}&by=counter")).await;
    assert_eq!(counters["source"], "events");
    let off = kpis("from=2026-03-03T08:30:00Z&to=2026-03-05T10:00:00Z&by=hour".into()).await;
    assert_eq!(off["source"], "events");
    let (status, problem) = server
        .get(&kpis_path(&format!("{week}&source=cache")), &server.admin)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");

    // Events after the projection's cursor send reports that need them back to the events,
    // until the projection reads them.
    // Saturday 10:00 in Berlin, after the week.
    let late = utc("2026-03-07T09:00:00Z");
    assert!(late < server.state.now());
    let issue = IssueTicket {
        ticket: TicketId::from_u128(0xA66_FFFF),
        service: service_id(0),
        class: None,
        source: TicketSource::Kiosk,
        customer: None,
        appointment_at: None,
    };
    server
        .state
        .queue()
        .execute(server.branch(), &Command::Issue(issue), late)
        .await
        .unwrap();
    let to_late = "from=2026-03-01T23:00:00Z&to=2026-03-07T10:00:00Z";
    assert_eq!(kpis(format!("{to_late}&by=day")).await["source"], "events");
    assert_eq!(kpis(format!("{week}&by=day")).await["source"], "aggregates");
    projector.catch_up(&spec).await.unwrap();
    let aggregated = kpis(format!("{to_late}&by=day")).await;
    assert_eq!(aggregated["source"], "aggregates");
    let folded = kpis(format!("{to_late}&by=day&source=events")).await;
    assert_same_figures(&aggregated["rows"], &folded["rows"], "after a late ticket");
}
