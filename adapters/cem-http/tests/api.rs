//! The API over real HTTP on 127.0.0.1: roles on every endpoint, the ticket lifecycle, live
//! updates with resumption, errors, audit, tokens.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use cem_bus_local::LocalBus;
use cem_core::{
    Agent, AgentId, BranchConfig, BranchId, Clock, Language, LocalizedText, ManualClock, OrgStore,
    Organization, OrganizationId, Role, User, UserId,
};
use cem_http::{
    ApiRole, AppState, ENDPOINTS, HttpSettings, Stores, SystemClock, TicketView, hash_password,
};
use cem_queue::ServiceOptions;
use cem_queue::testing::{VIP, branch_config, counter_id, service_id};
use cem_store_memory::MemoryStore;
use futures::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse";

/// A server on an ephemeral port over a memory store, with one organization (a branch with two
/// services and three counters; an admin, a manager, an agent; a kiosk and a display) and a
/// second organization with its own admin and branch.
struct Server {
    base: String,
    http: reqwest::Client,
    config: BranchConfig,
    other_branch: BranchId,
    tokens: Vec<(ApiRole, Option<String>)>,
    other_admin: String,
    store: Arc<MemoryStore>,
    bus: Arc<LocalBus>,
    clock: Arc<ManualClock>,
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

impl Server {
    async fn start() -> Self {
        Self::start_with(HttpSettings {
            public_per_minute: 100_000,
            logins_per_minute: 100_000,
            ..HttpSettings::default()
        })
        .await
    }

    async fn start_with(settings: HttpSettings) -> Self {
        let store = Arc::new(MemoryStore::new());
        let config = branch_config(2, 3);
        let o = config.branch.organization;
        store.put_organization(&org(o, "Bank")).await.unwrap();
        put_config(&store, &config).await;
        let mut other = branch_config(1, 1);
        let o2 = OrganizationId::from_u128(0x0B7);
        other.branch.organization = o2;
        other.branch.id = BranchId::from_u128(0xB2);
        for (i, c) in other.classes.iter_mut().enumerate() {
            c.id = cem_core::ClassId::from_u128(0xC2 + i as u128);
        }
        for (i, s) in other.services.iter_mut().enumerate() {
            s.id = cem_core::ServiceId::from_u128(0x52 + i as u128);
        }
        for (i, k) in other.counters.iter_mut().enumerate() {
            k.id = cem_core::CounterId::from_u128(0xD2 + i as u128);
            k.profile.services[0].service = other.services[0].id;
        }
        store.put_organization(&org(o2, "Other")).await.unwrap();
        put_config(&store, &other).await;
        let b = config.branch.id;
        store
            .put_agent(&Agent {
                id: AgentId::from_u128(3),
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
            user(9, o2, "other-admin", Role::Admin, vec![]),
        ] {
            store.put_user(&u).await.unwrap();
        }
        let bus = Arc::new(LocalBus::new(1024));
        // The server's clock starts at the real time and moves only when a test moves it.
        let clock = Arc::new(ManualClock::new(SystemClock.now()));
        let base = serve(&store, &bus, &clock, settings).await;
        let mut server = Self {
            base,
            store,
            bus,
            clock,
            http: reqwest::Client::new(),
            config,
            other_branch: other.branch.id,
            tokens: Vec::new(),
            other_admin: String::new(),
        };
        let admin = server.login("admin").await;
        let manager = server.login("manager").await;
        let agent = server.login("agent").await;
        server.other_admin = server.login("other-admin").await;
        let kiosk = server.device(&admin, "kiosk").await;
        let display = server.device(&admin, "display").await;
        server.tokens = vec![
            (ApiRole::Admin, Some(admin)),
            (ApiRole::BranchManager, Some(manager)),
            (ApiRole::Agent, Some(agent)),
            (ApiRole::Kiosk, Some(kiosk)),
            (ApiRole::Display, Some(display)),
            (ApiRole::Public, None),
        ];
        server
    }

    fn branch(&self) -> BranchId {
        self.config.branch.id
    }

    fn token(&self, role: ApiRole) -> Option<&str> {
        self.tokens
            .iter()
            .find(|(r, _)| *r == role)
            .and_then(|(_, t)| t.as_deref())
    }

    /// Another server over the same store and bus, with the same tokens.
    async fn second_instance(&self) -> Server {
        Server {
            base: serve(&self.store, &self.bus, &self.clock, HttpSettings::default()).await,
            http: reqwest::Client::new(),
            config: self.config.clone(),
            other_branch: self.other_branch,
            tokens: self.tokens.clone(),
            other_admin: self.other_admin.clone(),
            store: self.store.clone(),
            bus: self.bus.clone(),
            clock: self.clock.clone(),
        }
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
        body["token"].as_str().expect("a token").to_owned()
    }

    async fn device(&self, admin: &str, kind: &str) -> String {
        let path = format!("/api/v1/branches/{}/devices", self.branch());
        let (status, body) = self
            .call(
                Method::POST,
                &path,
                Some(admin),
                Some(json!({ "kind": kind, "name": format!("{kind} 1") })),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["token"].as_str().expect("a device token").to_owned()
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
        // A live stream never ends: its status is the answer.
        if response
            .headers()
            .get("content-type")
            .is_some_and(|t| t == "text/event-stream")
        {
            return (status, Value::Null);
        }
        let text = response.text().await.unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn as_role(
        &self,
        role: ApiRole,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.call(method, path, self.token(role), body).await
    }
}

/// Serves the API over `store` and `bus` on an ephemeral port; returns its base URL.
async fn serve(
    store: &Arc<MemoryStore>,
    bus: &Arc<LocalBus>,
    clock: &Arc<ManualClock>,
    settings: HttpSettings,
) -> String {
    let stores = Stores::single(store.clone(), bus.clone());
    let state = AppState::new(stores, clock.clone(), settings, ServiceOptions::default())
        .await
        .expect("state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = cem_http::router(state).into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

/// The path of an endpoint with its parameters filled in: the test branch (or `branch`), ids
/// that exist where a read needs them, ids that do not exist where a call would change
/// something, so calling every endpoint changes nothing.
fn concrete(path: &str, branch: BranchId) -> String {
    let missing = "00000000-0000-0000-0000-00000000dead";
    path.replace("{branch}", &branch.to_string())
        .replace("{counter}", &counter_id(0).to_string())
        .replace("{action}", "no-such-action")
        .replace("{service}", missing)
        .replace("{class}", missing)
        .replace("{agent}", missing)
        .replace("{user}", missing)
        .replace("{device}", missing)
        .replace("{ticket}", missing)
        .replace("{webhook}", missing)
        .replace("{survey}", missing)
        .replace("{case}", missing)
        .replace("{token}", "no-such-token")
        .replace("{code}", "ZZZZZZZZ")
        .replace("{layout}", missing)
        .replace("{playlist}", missing)
        .replace("{news}", missing)
        .replace("{screen}", missing)
        .replace("{organization}", missing)
        .replace("{customer}", missing)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_answers_every_role_as_declared() {
    let server = Server::start().await;
    // Sign-out last: it revokes the token that makes the call.
    let mut endpoints: Vec<_> = ENDPOINTS.iter().collect();
    endpoints.sort_by_key(|e| e.path == "/api/v1/auth/logout");
    for e in endpoints {
        let method: Method = e.method.parse().unwrap();
        let body = (e.method == "POST" || e.method == "PUT").then(|| json!({}));
        for role in ApiRole::ALL {
            let path = concrete(e.path, server.branch());
            let (status, answer) = server
                .as_role(role, method.clone(), &path, body.clone())
                .await;
            let what = format!("{role:?} {} {}: {status} {answer}", e.method, e.path);
            if e.roles.contains(&role) {
                assert!(
                    status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN,
                    "allowed, yet refused: {what}"
                );
            } else if role == ApiRole::Public {
                assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}");
                assert_eq!(answer["code"], "unauthenticated", "{what}");
            } else {
                assert_eq!(status, StatusCode::FORBIDDEN, "{what}");
                assert_eq!(answer["code"], "forbidden", "{what}");
            }
        }
        // Another organization's admin: our branches do not exist for them.
        if e.path.contains("{branch}") && e.path != "/api/v1/auth/logout" {
            let path = concrete(e.path, server.branch());
            let (status, answer) = server
                .call(
                    method.clone(),
                    &path,
                    Some(&server.other_admin),
                    body.clone(),
                )
                .await;
            assert_eq!(
                status,
                StatusCode::NOT_FOUND,
                "other org {} {}: {answer}",
                e.method,
                e.path
            );
            assert_eq!(answer["code"], "branch_not_found");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_organization_sees_only_its_own_records() {
    let server = Server::start().await;
    let token = Some(server.other_admin.as_str());
    for path in [
        "/api/v1/branches",
        "/api/v1/users",
        "/api/v1/agents",
        "/api/v1/classes",
        "/api/v1/audit",
    ] {
        let (status, body) = server.call(Method::GET, path, token, None).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        let text = body.to_string();
        for ours in [
            server.branch().to_string(),
            "\"login\":\"admin\"".to_owned(),
            VIP.to_string(),
            AgentId::from_u128(3).to_string(),
        ] {
            assert!(!text.contains(&ours), "{path} shows {ours}: {text}");
        }
    }
    let (_, branches) = server
        .call(Method::GET, "/api/v1/branches", token, None)
        .await;
    assert_eq!(branches[0]["id"], server.other_branch.to_string());
    // Nor can they create a branch with an id that is ours.
    let mut branch = serde_json::to_value(&server.config.branch).unwrap();
    branch["name"] = json!({ "en": "Stolen" });
    let path = format!("/api/v1/branches/{}", server.branch());
    let (status, _) = server.call(Method::PUT, &path, token, Some(branch)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_lives_its_whole_life_over_http() {
    let server = Server::start().await;
    let b = server.branch();
    let counter = counter_id(0);
    let agent = server.token(ApiRole::Agent).map(str::to_owned);
    let act = |action: &'static str| {
        let path = format!("/api/v1/branches/{b}/counters/{counter}/{action}");
        let agent = agent.clone();
        let server = &server;
        async move {
            server
                .call(Method::POST, &path, agent.as_deref(), None)
                .await
        }
    };

    // Nothing to call yet: a problem document with a stable code.
    let (status, body) = act("open").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["agent"], AgentId::from_u128(3).to_string());
    let (status, body) = act("call-next").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["code"], "nothing_to_call");
    assert_eq!(body["type"], "urn:cem:problem:nothing_to_call");

    // A customer joins remotely and may not pick a class.
    let (status, body) = server
        .call(
            Method::POST,
            &format!("/api/v1/branches/{b}/tickets"),
            None,
            Some(json!({ "service": service_id(1), "class": VIP })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let ticket: TicketView = serde_json::from_value(body).unwrap();
    assert_eq!(ticket.display, "B-001");
    assert_eq!(ticket.class, "normal");
    assert_eq!(ticket.ahead, Some(0));
    let track = format!("/api/v1/branches/{b}/tickets/{}", ticket.id);

    let (_, counter_now) = server
        .call(
            Method::GET,
            &format!("/api/v1/branches/{b}/counters/{counter}"),
            agent.as_deref(),
            None,
        )
        .await;
    assert_eq!(counter_now["waiting"], 1, "{counter_now}");
    let (status, body) = act("call-next").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["ticket"]["display"], "B-001");
    assert_eq!(body["waiting"], 0);
    let (_, public) = server.call(Method::GET, &track, None, None).await;
    assert_eq!(public["state"], "called");
    assert_eq!(public["counter"], 1);
    assert!(public.get("customer").is_none());

    for (action, state) in [("start", "serving"), ("finish", "done")] {
        let (status, body) = act(action).await;
        assert_eq!(status, StatusCode::OK, "{action}: {body}");
        let (_, t) = server.call(Method::GET, &track, None, None).await;
        assert_eq!(t["state"], state, "after {action}");
    }
    let (status, body) = server
        .call(
            Method::GET,
            &format!("/api/v1/branches/{b}/status"),
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["recent_calls"][0]["display"], "B-001");
    assert_eq!(body["recent_calls"][0]["counter"], 1);
    assert!(
        !body.to_string().contains(&ticket.id.to_string()),
        "status leaks ticket ids"
    );

    // Another agent's counter is not this agent's to use.
    let manager = server.token(ApiRole::BranchManager);
    let (status, _) = server
        .call(
            Method::POST,
            &format!("/api/v1/branches/{b}/counters/{}/open", counter_id(1)),
            manager,
            Some(json!({ "agent": AgentId::from_u128(77) })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = server
        .call(
            Method::POST,
            &format!("/api/v1/branches/{b}/counters/{}/pause", counter_id(1)),
            agent.as_deref(),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_problem_and_changes_nothing() {
    let server = Server::start().await;
    let b = server.branch();
    let admin = server.token(ApiRole::Admin);
    let tickets = format!("/api/v1/branches/{b}/tickets");
    for (body, code) in [
        (
            json!({ "service": "not-a-uuid" }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({ "service": "00000000-0000-0000-0000-000000000001" }),
            StatusCode::NOT_FOUND,
        ),
    ] {
        let (status, answer) = server.call(Method::POST, &tickets, admin, Some(body)).await;
        assert_eq!(status, code, "{answer}");
    }
    let response = server
        .http
        .post(format!("{}{tickets}", server.base))
        .header("content-type", "application/json")
        .body("{ not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    // Every refusal of the body's shape is a problem document too, with the parser's words.
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "invalid_request", "{problem}");
    assert!(
        problem["detail"].as_str().unwrap().contains("JSON"),
        "{problem}"
    );
    let (status, problem) = server
        .call(Method::POST, &tickets, admin, Some(json!({ "nothing": 1 })))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["code"], "invalid_request", "{problem}");
    assert!(
        problem["detail"].as_str().unwrap().contains("service"),
        "{problem}"
    );
    // A service whose prefix another service has: 409 from the store or 422 from validation.
    let mut service = serde_json::to_value(&server.config.services[0]).unwrap();
    service["prefix"] = json!("b");
    let path = format!("/api/v1/branches/{b}/services/00000000-0000-0000-0000-0000000000aa");
    let (status, answer) = server.call(Method::PUT, &path, admin, Some(service)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["code"], "invalid_config");
    let (_, config) = server
        .call(Method::GET, &format!("/api/v1/branches/{b}"), admin, None)
        .await;
    assert_eq!(config["services"].as_array().unwrap().len(), 2);
    let (_, list) = server.call(Method::GET, &tickets, admin, None).await;
    assert_eq!(list, json!([]));
    // Unknown routes are problems too.
    let (status, answer) = server
        .call(Method::GET, "/api/v1/nowhere", None, None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(answer["code"], "no_route");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_are_audited_and_tokens_can_be_revoked() {
    let server = Server::start().await;
    let b = server.branch();
    let admin = server.token(ApiRole::Admin);
    let mut service = serde_json::to_value(&server.config.services[0]).unwrap();
    service["prefix"] = json!("Z");
    let id = "00000000-0000-0000-0000-0000000000aa";
    let path = format!("/api/v1/branches/{b}/services/{id}");
    let (status, body) = server.call(Method::PUT, &path, admin, Some(service)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, audit) = server.call(Method::GET, "/api/v1/audit", admin, None).await;
    let latest = &audit[0];
    assert_eq!(latest["action"], "service.put");
    assert_eq!(latest["target"], id);
    assert_eq!(latest["actor"], format!("user:{}", UserId::from_u128(1)));
    // The new service takes tickets at once.
    let (status, body) = server
        .call(
            Method::POST,
            &format!("/api/v1/branches/{b}/tickets"),
            server.token(ApiRole::Kiosk),
            Some(json!({ "service": id })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["display"], "Z-001");

    // Signing out revokes the token; disabling a user revokes theirs.
    let token = server.login("manager").await;
    let (status, _) = server
        .call(Method::GET, "/api/v1/me", Some(&token), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = server
        .call(Method::POST, "/api/v1/auth/logout", Some(&token), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = server
        .call(Method::GET, "/api/v1/me", Some(&token), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let agent_token = server.token(ApiRole::Agent);
    let path = format!("/api/v1/users/{}", UserId::from_u128(3));
    let body = json!({ "login": "agent", "name": "Agent", "role": "agent", "branches": [b], "active": false });
    let (status, answer) = server.call(Method::PUT, &path, admin, Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(answer.get("password_hash").is_none());
    let (status, _) = server
        .call(Method::GET, "/api/v1/me", agent_token, None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = server
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({ "login": "agent", "password": PASSWORD })),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_revoked_on_another_instance_stops_working_there_too() {
    let a = Server::start().await;
    let b = a.second_instance().await;
    let token = a.login("manager").await;
    let me = |server: &Server| {
        let token = token.clone();
        let server = (server.base.clone(), server.http.clone());
        async move {
            server
                .1
                .get(format!("{}/api/v1/me", server.0))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    // B has seen the token, and remembers it for a short while.
    assert_eq!(me(&b).await, StatusCode::OK);
    let (status, _) = a
        .call(Method::POST, "/api/v1/auth/logout", Some(&token), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        me(&a).await,
        StatusCode::UNAUTHORIZED,
        "at once where revoked"
    );
    // Two seconds is how long a server trusts what it read about a token.
    a.clock
        .advance(cem_core::chrono::TimeDelta::milliseconds(2100));
    assert_eq!(me(&b).await, StatusCode::UNAUTHORIZED, "and soon elsewhere");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_are_shown_replayed_and_erased_per_organization() {
    use cem_core::{Channel, MessageId, OutboundMessage, OutboxStore, Outcome};
    let server = Server::start().await;
    let admin = server.token(ApiRole::Admin);
    let ours = server.config.branch.organization;
    let theirs = OrganizationId::from_u128(0x0B7);
    let now =
        cem_core::chrono::DateTime::<cem_core::chrono::Utc>::from(std::time::SystemTime::now());
    let message = |n: u128, organization| OutboundMessage {
        id: MessageId::from_u128(n),
        organization,
        channel: Channel::Sms,
        to: "+4930555".into(),
        kind: "ticket_called".into(),
        language: Language::en(),
        subject: None,
        body: "A-001, please go to counter 1.".into(),
        created_at: now,
    };
    let outbox: &dyn OutboxStore = server.store.as_ref();
    outbox
        .enqueue(&[message(1, ours), message(2, theirs)], now, None)
        .await
        .unwrap();
    for entry in outbox.claim(now, now, 10).await.unwrap() {
        let refused = Outcome::Dead {
            error: "404 from the gateway".into(),
        };
        outbox
            .settle(entry.message.id, 1, &refused, now)
            .await
            .unwrap();
    }
    let (mine, their) = (MessageId::from_u128(1), MessageId::from_u128(2));

    // Each organization sees its own dead letters only.
    let (status, dead) = server
        .call(Method::GET, "/api/v1/outbox/dead", admin, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(dead.as_array().unwrap().len(), 1, "{dead}");
    assert_eq!(dead[0]["message"]["id"], mine.to_string());
    assert_eq!(dead[0]["last_error"], "404 from the gateway");
    let (_, dead) = server
        .call(
            Method::GET,
            "/api/v1/outbox/dead",
            Some(&server.other_admin),
            None,
        )
        .await;
    assert_eq!(dead[0]["message"]["id"], their.to_string());
    let (status, body) = server
        .call(Method::GET, &format!("/api/v1/outbox/{their}"), admin, None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

    // Replayed, it is pending again; a second replay conflicts.
    let replay = format!("/api/v1/outbox/{mine}/replay");
    let (status, _) = server.call(Method::POST, &replay, admin, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, entry) = server
        .call(Method::GET, &format!("/api/v1/outbox/{mine}"), admin, None)
        .await;
    assert_eq!(entry["state"], "pending");
    let (status, body) = server.call(Method::POST, &replay, admin, None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");

    // Erasure: ours loses the number, theirs keeps it; the audit log does not repeat it.
    let erase = |to: &str| json!({ "to": to });
    let (status, body) = server
        .call(
            Method::POST,
            "/api/v1/outbox/erase",
            admin,
            Some(erase("  ")),
        )
        .await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::BAD_REQUEST, json!("invalid_recipient"))
    );
    let (status, body) = server
        .call(
            Method::POST,
            "/api/v1/outbox/erase",
            admin,
            Some(erase("+4930555")),
        )
        .await;
    assert_eq!((status, body["erased"].clone()), (StatusCode::OK, json!(1)));
    let (_, entry) = server
        .call(Method::GET, &format!("/api/v1/outbox/{mine}"), admin, None)
        .await;
    assert_eq!(
        (entry["message"]["to"].clone(), entry["state"].clone()),
        (json!(""), json!("dead"))
    );
    assert_eq!(outbox.message(their).await.unwrap().message.to, "+4930555");
    let (_, audit) = server.call(Method::GET, "/api/v1/audit", admin, None).await;
    assert_eq!(audit[0]["action"], "outbox.erase");
    assert_eq!(audit[1]["action"], "outbox.replay");
    assert!(!audit.to_string().contains("4930555"), "{audit}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_are_managed_and_logged_per_organization() {
    use cem_core::{Channel, MessageId, OutboundMessage, OutboxStore, Outcome};
    let server = Server::start().await;
    let admin = server.token(ApiRole::Admin);
    let hook = |url: &str, events: Value| json!({ "url": url, "events": events });

    // Made: the answer shows the secret, once.
    let (status, made) = server
        .call(
            Method::POST,
            "/api/v1/webhooks",
            admin,
            Some(hook(
                "https://crm.example.org/cem",
                json!(["ticket_called"]),
            )),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let secret = made["secret"].as_str().unwrap().to_owned();
    assert!(secret.len() >= 64, "{secret}");
    let id = made["id"].as_str().unwrap().to_owned();
    let one = format!("/api/v1/webhooks/{id}");
    let (_, listed) = server
        .call(Method::GET, "/api/v1/webhooks", admin, None)
        .await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["events"], json!(["ticket_called"]));
    assert!(listed[0].get("secret").is_none(), "{listed}");

    // Refused: a bad URL, an unknown event type, a second subscription to the same URL.
    for (body, status, code) in [
        (hook("ftp://crm", json!([])), 422, "invalid_webhook"),
        (
            hook("https://crm.example.org/x", json!(["ticket_eaten"])),
            422,
            "invalid_webhook",
        ),
        (
            hook("https://crm.example.org/cem", json!([])),
            409,
            "conflict",
        ),
    ] {
        let (got, answer) = server
            .call(Method::POST, "/api/v1/webhooks", admin, Some(body.clone()))
            .await;
        assert_eq!(
            (got.as_u16(), answer["code"].as_str()),
            (status, Some(code)),
            "{body}: {answer}"
        );
    }
    // Another organization neither sees nor changes it, and may use the same URL.
    let other = Some(server.other_admin.as_str());
    for method in [Method::GET, Method::DELETE] {
        let (status, answer) = server.call(method, &one, other, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
        assert_eq!(answer["code"], "webhook_not_found");
    }
    let (status, _) = server
        .call(
            Method::POST,
            "/api/v1/webhooks",
            other,
            Some(hook("https://crm.example.org/cem", json!([]))),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);

    // Changed: every type, inactive; the secret stays.
    let (status, changed) = server
        .call(
            Method::PUT,
            &one,
            admin,
            Some(json!({ "url": "https://crm.example.org/cem", "active": false })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(
        (changed["events"].clone(), changed["active"].clone()),
        (json!([]), json!(false))
    );
    let stored = cem_core::SubscriptionStore::subscriptions(
        server.store.as_ref(),
        Some(server.config.branch.organization),
    )
    .await
    .unwrap();
    assert_eq!(stored[0].secret, secret);

    // The delivery log: what the outbox holds for that URL, with every attempt.
    let now =
        cem_core::chrono::DateTime::<cem_core::chrono::Utc>::from(std::time::SystemTime::now());
    let outbox: &dyn OutboxStore = server.store.as_ref();
    outbox
        .enqueue(
            &[OutboundMessage {
                id: MessageId::from_u128(7),
                organization: server.config.branch.organization,
                channel: Channel::Webhook,
                to: "https://crm.example.org/cem".into(),
                kind: "ticket_called".into(),
                language: Language::en(),
                subject: None,
                body: "{}".into(),
                created_at: now,
            }],
            now,
            None,
        )
        .await
        .unwrap();
    let claimed = outbox.claim(now, now, 10).await.unwrap();
    let retry = Outcome::Retry {
        at: now,
        error: "503 from the receiver".into(),
    };
    outbox
        .settle(claimed[0].message.id, 1, &retry, now)
        .await
        .unwrap();
    let (status, log) = server
        .call(Method::GET, &format!("{one}/deliveries"), admin, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{log}");
    assert_eq!(log.as_array().unwrap().len(), 1, "{log}");
    assert_eq!(log[0]["message"]["state"], "pending");
    assert_eq!(log[0]["attempts"][0]["error"], "503 from the receiver");
    let (_, theirs) = server
        .call(Method::GET, "/api/v1/webhooks", other, None)
        .await;
    let their_log = format!(
        "/api/v1/webhooks/{}/deliveries",
        theirs[0]["id"].as_str().unwrap()
    );
    let (_, log) = server.call(Method::GET, &their_log, other, None).await;
    assert_eq!(log, json!([]), "the same URL, another organization's log");

    // Deleted; audited without the secret.
    let (status, _) = server.call(Method::DELETE, &one, admin, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = server.call(Method::GET, &one, admin, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, audit) = server.call(Method::GET, "/api/v1/audit", admin, None).await;
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["action"].as_str())
        .collect();
    assert_eq!(
        actions[..3],
        ["webhook.delete", "webhook.update", "webhook.create"]
    );
    assert!(!audit.to_string().contains(&secret));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contact_left_with_a_ticket_is_checked_kept_and_erasable() {
    use cem_core::ContactStore;
    let server = Server::start().await;
    let tickets = format!("/api/v1/branches/{}/tickets", server.branch());
    let service = service_id(0).to_string();
    let staff = server.token(ApiRole::Admin);
    let count = || async {
        let (_, list) = server.call(Method::GET, &tickets, staff, None).await;
        list.as_array().unwrap().len()
    };
    let before = count().await;

    // A malformed contact refuses the ticket, and no ticket is issued.
    for contact in [
        json!({ "phone": "0301234" }),
        json!({ "email": "nobody" }),
        json!({}),
    ] {
        let (status, answer) = server
            .call(
                Method::POST,
                &tickets,
                None,
                Some(json!({ "service": service, "contact": contact })),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{contact}: {answer}"
        );
        assert_eq!(answer["code"], "invalid_contact");
    }
    assert_eq!(count().await, before);

    // A good one is kept for the ticket, in the customer's language, and shown to no one.
    let (status, ticket) = server
        .call(
            Method::POST,
            &tickets,
            None,
            Some(json!({
                "service": service,
                "contact": { "phone": " +4930123456 ", "language": "fa" },
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{ticket}");
    assert!(!ticket.to_string().contains("4930123456"));
    let id: cem_core::TicketId = ticket["id"].as_str().unwrap().parse().unwrap();
    let kept = server.store.contacts(&[id]).await.unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(
        (kept[0].phone.as_deref(), &kept[0].language),
        (Some("+4930123456"), &Language::fa())
    );

    // Erased on request, with the messages to that number.
    let (status, erased) = server
        .call(
            Method::POST,
            "/api/v1/outbox/erase",
            staff,
            Some(json!({ "to": "+4930123456" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{erased}");
    assert_eq!(erased["contacts"], 1);
    assert!(server.store.contacts(&[id]).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_calls_and_sign_ins_are_rate_limited() {
    let server = Server::start_with(HttpSettings {
        public_per_minute: 5,
        logins_per_minute: 5,
        ..HttpSettings::default()
    })
    .await;
    let path = format!("/api/v1/branches/{}/status", server.branch());
    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(server.call(Method::GET, &path, None, None).await.0);
    }
    assert!(
        statuses[..5].iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
    assert_eq!(statuses[7], StatusCode::TOO_MANY_REQUESTS);
    let response = server
        .http
        .get(format!("{}{path}", server.base))
        .send()
        .await
        .unwrap();
    assert!(response.headers().contains_key("retry-after"));
    // Devices and staff are not limited.
    let display = server.token(ApiRole::Display);
    assert_eq!(
        server.call(Method::GET, &path, display, None).await.0,
        StatusCode::OK
    );
    // Four sign-ins were spent starting the server: one more passes, the next is refused
    // before the password is even checked.
    let attempt = |password: &'static str| {
        server.call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({ "login": "admin", "password": password })),
        )
    };
    assert_eq!(attempt("wrong password").await.0, StatusCode::UNAUTHORIZED);
    let (status, body) = attempt(PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["code"], "rate_limited");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_lists_every_endpoint() {
    let server = Server::start().await;
    let (status, doc) = server
        .call(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for e in ENDPOINTS {
        let item = paths
            .get(e.path)
            .unwrap_or_else(|| panic!("{} is not documented", e.path));
        assert!(
            item.get(e.method.to_lowercase()).is_some(),
            "{} {} is not documented",
            e.method,
            e.path
        );
    }
    let documented: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(
        documented,
        ENDPOINTS.len(),
        "documented operations without a role"
    );
    // Regression: query structs were documented as required path parameters.
    for (path, item) in paths {
        for (method, operation) in item.as_object().unwrap() {
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                let name = parameter["name"].as_str().unwrap();
                let in_path = path.contains(&format!("{{{name}}}"));
                assert_eq!(
                    parameter["in"] == "path",
                    in_path,
                    "{method} {path}: parameter {name} is documented in {}",
                    parameter["in"]
                );
            }
        }
    }
}

/// Reads SSE messages (`id`, `event`, `data`) from a response body.
struct Sse {
    body: futures::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    buffer: String,
}

impl Sse {
    async fn open(server: &Server, role: ApiRole, query: &str, last: Option<u64>) -> Self {
        let mut request = server.http.get(format!(
            "{}/api/v1/branches/{}/events{query}",
            server.base,
            server.branch()
        ));
        if let Some(t) = server.token(role) {
            request = request.bearer_auth(t);
        }
        if let Some(last) = last {
            request = request.header("last-event-id", last.to_string());
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        Self {
            body: response.bytes_stream().boxed(),
            buffer: String::new(),
        }
    }

    /// The next message, skipping keep-alive comments.
    async fn next(&mut self) -> (u64, String, Value) {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let (mut id, mut event, mut data) = (0, String::new(), String::new());
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        id = v.trim().parse().unwrap();
                    } else if let Some(v) = line.strip_prefix("event:") {
                        event = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim());
                    }
                }
                if event.is_empty() {
                    continue;
                }
                return (id, event, serde_json::from_str(&data).unwrap());
            }
            let chunk = tokio::time::timeout(Duration::from_secs(5), self.body.next())
                .await
                .expect("an event within 5 s")
                .expect("the stream goes on")
                .unwrap();
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_updates_resume_without_a_gap_and_hide_ids_from_screens() {
    let server = Server::start().await;
    let b = server.branch();
    let kiosk = server.token(ApiRole::Kiosk);
    let agent = server.token(ApiRole::Agent);
    let issue = || async {
        let (status, body) = server
            .call(
                Method::POST,
                &format!("/api/v1/branches/{b}/tickets"),
                kiosk,
                Some(json!({ "service": service_id(0) })),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        body["id"].as_str().unwrap().to_owned()
    };
    let mut screen = Sse::open(&server, ApiRole::Display, "", None).await;
    let mut staff = Sse::open(&server, ApiRole::Admin, "", None).await;
    let first = issue().await;
    let counter = format!("/api/v1/branches/{b}/counters/{}", counter_id(0));
    server
        .call(Method::POST, &format!("{counter}/open"), agent, None)
        .await;
    server
        .call(Method::POST, &format!("{counter}/call-next"), agent, None)
        .await;

    let (p1, kind, issued) = screen.next().await;
    assert_eq!(kind, "queue");
    assert_eq!(issued["event"]["type"], "ticket_issued");
    assert_eq!(issued["event"]["display"], "A-001");
    assert!(
        !issued.to_string().contains(&first),
        "a screen saw a ticket id: {issued}"
    );
    let (p2, _, opened) = screen.next().await;
    assert_eq!(opened["event"]["type"], "counter_opened");
    let (p3, _, called) = screen.next().await;
    assert_eq!(called["event"]["type"], "ticket_called");
    assert_eq!(called["event"]["counter_number"], 1);
    assert!(p1 < p2 && p2 < p3);
    let (_, _, whole) = staff.next().await;
    assert_eq!(whole["event"]["ticket"], first, "staff see ids");

    // The screen drops; meanwhile three more things happen; it comes back with its last id.
    drop(screen);
    server
        .call(Method::POST, &format!("{counter}/start"), agent, None)
        .await;
    let second = issue().await;
    server
        .call(Method::POST, &format!("{counter}/finish"), agent, None)
        .await;
    let mut screen = Sse::open(&server, ApiRole::Display, "", Some(p3)).await;
    let mut seen = Vec::new();
    for _ in 0..3 {
        let (p, _, e) = screen.next().await;
        seen.push((p, e["event"]["type"].as_str().unwrap().to_owned()));
    }
    let kinds: Vec<&str> = seen.iter().map(|(_, k)| k.as_str()).collect();
    assert_eq!(
        kinds,
        ["service_started", "ticket_issued", "service_finished"]
    );
    assert!(
        seen.windows(2).all(|w| w[0].0 < w[1].0),
        "in order: {seen:?}"
    );
    assert!(seen[0].0 > p3, "nothing twice");

    // A customer following their ticket sees only it, with its id.
    let mut tracker = Sse::open(&server, ApiRole::Public, &format!("?ticket={second}"), None).await;
    issue().await;
    server
        .call(Method::POST, &format!("{counter}/call-next"), agent, None)
        .await;
    let (_, _, mine) = tracker.next().await;
    assert_eq!(mine["event"]["type"], "ticket_called");
    assert_eq!(mine["event"]["display"], "A-002");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_instance_sees_what_the_first_configured_and_called() {
    let a = Server::start().await;
    let mut b = a.second_instance().await;
    let admin = a.token(ApiRole::Admin);
    // A new branch with a service and a counter, configured through instance A...
    let mut branch = a.config.branch.clone();
    branch.id = BranchId::from_u128(0xB3);
    let mut service = a.config.services[0].clone();
    service.id = cem_core::ServiceId::from_u128(0x53);
    let mut counter = a.config.counters[0].clone();
    counter.id = cem_core::CounterId::from_u128(0xD3);
    counter.profile.services.truncate(1);
    counter.profile.services[0].service = service.id;
    let root = format!("/api/v1/branches/{}", branch.id);
    for (path, body) in [
        (root.clone(), serde_json::to_value(&branch).unwrap()),
        (
            format!("{root}/services/{}", service.id),
            serde_json::to_value(&service).unwrap(),
        ),
        (
            format!("{root}/counters/{}", counter.id),
            serde_json::to_value(&counter).unwrap(),
        ),
    ] {
        let (status, answer) = a.call(Method::PUT, &path, admin, Some(body)).await;
        assert_eq!(status, StatusCode::OK, "{path}: {answer}");
    }
    // ...takes tickets on instance B, whose screen sees the call made on A.
    b.config.branch.id = branch.id;
    let mut screen = Sse::open(&b, ApiRole::Admin, "", None).await;
    let issue_on_b = || async {
        let (status, ticket) = b
            .call(
                Method::POST,
                &format!("{root}/tickets"),
                admin,
                Some(json!({ "service": service.id })),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{ticket}");
        ticket
    };
    let ticket = issue_on_b().await;
    let counter_path = format!("{root}/counters/{}", counter.id);
    for action in ["open", "call-next"] {
        let (status, answer) = a
            .call(
                Method::POST,
                &format!("{counter_path}/{action}"),
                admin,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{action}: {answer}");
    }
    let mut kinds = Vec::new();
    while kinds.len() < 3 {
        let (_, _, e) = screen.next().await;
        kinds.push(e["event"]["type"].as_str().unwrap().to_owned());
        if e["event"]["type"] == "ticket_called" {
            assert_eq!(e["event"]["ticket"], ticket["id"]);
        }
    }
    assert_eq!(kinds, ["ticket_issued", "counter_opened", "ticket_called"]);

    // A change of the service made on A reaches B within two seconds (it follows the audit
    // log): B's tickets then carry the new prefix.
    let mut changed = service.clone();
    changed.prefix = "Q".into();
    let path = format!("{root}/services/{}", service.id);
    let (status, answer) = a
        .call(
            Method::PUT,
            &path,
            admin,
            Some(serde_json::to_value(&changed).unwrap()),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let started = std::time::Instant::now();
    let display = loop {
        let ticket = issue_on_b().await;
        let display = ticket["display"].as_str().unwrap().to_owned();
        if display.starts_with("Q-") || started.elapsed().as_secs() >= 10 {
            break display;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    assert!(display.starts_with("Q-"), "{display} after 10 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_limits_request_ids_cors_and_metrics() {
    let server = Server::start_with(HttpSettings {
        public_per_minute: 100_000,
        logins_per_minute: 100_000,
        body_limit: 1024,
        cors_origins: vec!["https://pages.example".into()],
        ..HttpSettings::default()
    })
    .await;
    let b = server.branch();
    let admin = server.token(ApiRole::Admin).unwrap();

    // Every answer carries a request id.
    let response = server
        .http
        .get(format!("{}/health", server.base))
        .send()
        .await
        .unwrap();
    assert!(response.headers().contains_key("x-request-id"));
    let (status, ready) = server.call(Method::GET, "/ready", None, None).await;
    assert_eq!(
        (status, ready["status"].as_str()),
        (StatusCode::OK, Some("ready"))
    );

    // A body past the limit is refused before it is read.
    let big = json!({ "service": service_id(0), "padding": "x".repeat(4096) });
    let (status, _) = server
        .call(
            Method::POST,
            &format!("/api/v1/branches/{b}/tickets"),
            Some(admin),
            Some(big),
        )
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);

    // Browsers from the configured origin may call; others get no permission.
    let preflight = |origin: &'static str| {
        server
            .http
            .request(Method::OPTIONS, format!("{}/api/v1/me", server.base))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
    };
    let allowed = preflight("https://pages.example").await.unwrap();
    assert_eq!(
        allowed
            .headers()
            .get("access-control-allow-origin")
            .unwrap(),
        "https://pages.example"
    );
    let refused = preflight("https://elsewhere.example").await.unwrap();
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );

    // Metrics: requests by route, and the queue of the branch.
    server
        .call(
            Method::POST,
            &format!("/api/v1/branches/{b}/tickets"),
            Some(admin),
            Some(json!({ "service": service_id(0) })),
        )
        .await;
    let text = server
        .http
        .get(format!("{}/metrics", server.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("http_requests_total{"), "{text}");
    assert!(
        text.contains("path=\"/api/v1/branches/{branch}/tickets\""),
        "{text}"
    );
    assert!(
        text.contains("http_request_duration_seconds_bucket"),
        "{text}"
    );
    // The recorder is the process's: other tests' servers, with the same branch id, may scrape
    // too, so only the series is checked here, not its value.
    let waiting = format!("cem_queue_waiting{{branch=\"{b}\",service=\"A\"}} ");
    assert!(text.contains(&waiting), "no `{waiting}` in {text}");
}

/// A plan of `service` open every day around the clock (00:00–23:59 in the branch's zone),
/// 5-minute appointments every 5 minutes, one seat each, bookable right up to the start.
fn plan_around_the_clock() -> Value {
    let weekly: Vec<Value> = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        .iter()
        .map(|d| json!({ "day": d, "open": "00:00:00", "close": "23:59:00" }))
        .collect();
    json!({
        "weekly": weekly,
        "slot_interval_secs": 300,
        "duration_secs": 300,
        "capacity": 1,
        "min_notice_secs": 0,
        "change_notice_secs": 0,
        "horizon_days": 2,
    })
}

/// The starts of today's and tomorrow's open slots of the test service (in the branch's time
/// zone), as the public lists them, that begin later than `after` from now.
async fn open_slots(server: &Server, after: cem_core::chrono::TimeDelta) -> Vec<String> {
    let (b, service) = (server.branch(), service_id(0));
    let now = server.clock.now();
    let today = now
        .with_timezone(&server.config.branch.time_zone)
        .date_naive();
    let tomorrow = today.succ_opt().unwrap();
    let (status, slots) = server
        .call(
            Method::GET,
            &format!("/api/v1/branches/{b}/services/{service}/slots?from={today}&to={tomorrow}"),
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{slots}");
    slots
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["status"] == "open")
        .map(|s| s["start"].as_str().unwrap().to_owned())
        .filter(|s| {
            s.parse::<cem_core::chrono::DateTime<cem_core::chrono::Utc>>()
                .unwrap()
                > now + after
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_booking_is_made_changed_checked_in_and_cancelled_over_http() {
    use cem_core::OutboxStore;
    let server = Server::start().await;
    let b = server.branch();
    let service = service_id(0);
    let admin = server.token(ApiRole::Admin);
    let plan_path = format!("/api/v1/branches/{b}/services/{service}/plan");

    // An administrator opens appointments; a plan that breaks its rules is refused.
    let mut bad = plan_around_the_clock();
    bad["capacity"] = json!(0);
    let (status, answer) = server.call(Method::PUT, &plan_path, admin, Some(bad)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["code"], "invalid_plan");
    let (status, plan) = server
        .call(
            Method::PUT,
            &plan_path,
            admin,
            Some(plan_around_the_clock()),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{plan}");
    assert_eq!(plan["branch"], b.to_string());
    assert_eq!(plan["service"], service.to_string());
    let manager = server.token(ApiRole::BranchManager);
    let (status, _) = server.call(Method::GET, &plan_path, manager, None).await;
    assert_eq!(status, StatusCode::OK);

    // The public lists today's and tomorrow's slots (in Berlin) and picks the next two: a
    // minute ahead at least, so the slots are still open when the journey reaches them, and
    // within the queue's arrival window (10 minutes early), so the holder can check in.
    let open = open_slots(&server, cem_core::chrono::TimeDelta::seconds(60)).await;
    let today = server
        .clock
        .now()
        .with_timezone(&server.config.branch.time_zone)
        .date_naive();
    assert!(open.len() > 100, "{open:?}");
    let (first, second) = (open[0].clone(), open[1].clone());
    let (status, answer) = server
        .call(
            Method::GET,
            &format!("/api/v1/branches/{b}/services/{service}/slots?from={today}&to=2099-01-01"),
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");

    // A malformed phone number books nothing.
    let bookings = format!("/api/v1/branches/{b}/bookings");
    let (status, answer) = server
        .call(
            Method::POST,
            &bookings,
            None,
            Some(json!({ "service": service, "start": second, "holder": { "phone": "0301234" } })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["code"], "invalid_contact");

    // Sara books the second slot: the answer shows her booking, never her contact.
    let phone = "+4930123456";
    let (status, booking) = server
        .call(
            Method::POST,
            &bookings,
            None,
            Some(json!({ "service": service, "start": second,
                "holder": { "name": "Sara", "phone": phone } })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{booking}");
    assert_eq!(booking["state"], "confirmed");
    assert_eq!(booking["start"], second.as_str());
    assert!(booking["end"].is_string() && booking["id"].is_string());
    let code = booking["code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 8);
    let text = booking.to_string();
    assert!(
        !text.contains("4930123456") && !text.contains("Sara"),
        "{text}"
    );
    let mine = format!("/api/v1/branches/{b}/bookings/{code}");

    // She reads it with its code (typed in lower case), and gets a calendar entry.
    let (status, read) = server
        .call(
            Method::GET,
            &format!("/api/v1/branches/{b}/bookings/{}", code.to_lowercase()),
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{read}");
    assert_eq!(read["id"], booking["id"]);
    assert!(!read.to_string().contains("Sara"));
    let response = server
        .http
        .get(format!("{}{mine}/calendar.ics", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "text/calendar; charset=utf-8"
    );
    let ics = response.text().await.unwrap();
    assert!(
        ics.starts_with("BEGIN:VCALENDAR\r\n") && ics.contains("BEGIN:VEVENT"),
        "{ics}"
    );
    // The QR code holds the booking's page, whose last segment is the code.
    let response = server
        .http
        .get(format!("{}{mine}/qr.svg", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "image/svg+xml");
    let svg = response.text().await.unwrap();
    let page = format!("{}/booking/{b}/{code}", HttpSettings::default().public_url);
    let expected = qrcode::QrCode::new(page.as_bytes())
        .unwrap()
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(240, 240)
        .build();
    assert_eq!(svg, expected, "the QR code of {page}");
    let (status, answer) = server
        .call(
            Method::GET,
            &format!("/api/v1/branches/{b}/bookings/ZZZZZZZZ"),
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(answer["code"], "booking_not_found");

    // She moves it to the first slot; the outbox holds her confirmation and the change.
    let (status, moved) = server
        .call(
            Method::POST,
            &format!("{mine}/reschedule"),
            None,
            Some(json!({ "start": first })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    assert_eq!(moved["start"], first.as_str());
    let organization = server.config.branch.organization;
    let sent = server.store.sent_to(organization, phone, 10).await.unwrap();
    let mut kinds: Vec<&str> = sent.iter().map(|e| e.message.kind.as_str()).collect();
    kinds.sort_unstable();
    assert_eq!(kinds, ["booking_changed", "booking_confirmed"]);
    assert!(
        sent.iter().all(|e| e.message.body.contains(&code)),
        "{sent:?}"
    );

    // The first slot's one seat is hers now.
    let (status, answer) = server
        .call(
            Method::POST,
            &bookings,
            None,
            Some(json!({ "service": service, "start": first,
                "holder": { "email": "someone@example.org" } })),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert_eq!(answer["code"], "slot_full");

    // Someone else takes the freed second slot, then cancels.
    let (status, other) = server
        .call(
            Method::POST,
            &bookings,
            None,
            Some(json!({ "service": service, "start": second,
                "holder": { "email": "someone@example.org", "language": "fa" } })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{other}");
    let other_code = other["code"].as_str().unwrap();
    let (status, cancelled) = server
        .call(
            Method::POST,
            &format!("/api/v1/branches/{b}/bookings/{other_code}/cancel"),
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    assert_eq!(cancelled["state"], "cancelled");
    let sent = server
        .store
        .sent_to(organization, "someone@example.org", 10)
        .await
        .unwrap();
    assert!(
        sent.iter().any(|e| e.message.kind == "booking_cancelled"),
        "{sent:?}"
    );

    // Staff see the day's agenda with the holders' names; the public may not.
    let date = cem_core::chrono::DateTime::parse_from_rfc3339(&first)
        .unwrap()
        .with_timezone(&server.config.branch.time_zone)
        .date_naive();
    let agenda = format!("/api/v1/branches/{b}/agenda?date={date}");
    let agent = server.token(ApiRole::Agent);
    let (status, day) = server.call(Method::GET, &agenda, agent, None).await;
    assert_eq!(status, StatusCode::OK, "{day}");
    let entry = day
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["code"] == code.as_str())
        .unwrap_or_else(|| panic!("{code} not in {day}"));
    assert_eq!(entry["holder_name"], "Sara");
    assert_eq!(
        server.call(Method::GET, &agenda, None, None).await.0,
        StatusCode::UNAUTHORIZED
    );
    let response = server
        .http
        .get(format!(
            "{}/api/v1/branches/{b}/agenda.ics?date={date}",
            server.base
        ))
        .bearer_auth(agent.unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.text().await.unwrap().contains("BEGIN:VEVENT"));

    // She checks in at the kiosk minutes before her appointment: an appointment ticket.
    let kiosk = server.token(ApiRole::Kiosk);
    let (status, checked) = server
        .call(Method::POST, &format!("{mine}/check-in"), kiosk, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{checked}");
    assert_eq!(checked["booking"]["state"], "checked_in");
    assert_eq!(checked["ticket"]["source"], "reservation");
    assert_eq!(checked["ticket"]["state"], "waiting");
    assert_eq!(checked["booking"]["ticket"], checked["ticket"]["id"]);
    let ticket_id = checked["ticket"]["id"].as_str().unwrap();
    let (status, ticket) = server
        .call(
            Method::GET,
            &format!("/api/v1/branches/{b}/tickets/{ticket_id}"),
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{ticket}");
    assert_eq!(ticket["source"], "reservation");
    let (status, answer) = server
        .call(Method::POST, &format!("{mine}/check-in"), kiosk, None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert_eq!(answer["code"], "invalid_state");
    let (_, tickets) = server
        .call(
            Method::GET,
            &format!("/api/v1/branches/{b}/tickets"),
            admin,
            None,
        )
        .await;
    let from_bookings = tickets
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["source"] == "reservation")
        .count();
    assert_eq!(from_bookings, 1, "{tickets}");

    // Without a plan the service offers no slots; the plan's changes are audited.
    let (status, _) = server.call(Method::DELETE, &plan_path, admin, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, answer) = server
        .call(
            Method::GET,
            &format!("/api/v1/branches/{b}/services/{service}/slots?from={today}"),
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
    assert_eq!(answer["code"], "no_plan");
    let (_, audit) = server.call(Method::GET, "/api/v1/audit", admin, None).await;
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions[..2],
        ["reservation_plan.delete", "reservation_plan.put"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_freed_seat_is_offered_to_the_waitlist_and_taken_over_http() {
    use cem_core::OutboxStore;
    let server = Server::start().await;
    let b = server.branch();
    let service = service_id(0);
    let admin = server.token(ApiRole::Admin);
    let mut plan = plan_around_the_clock();
    plan["waitlist_offer_secs"] = json!(600);
    let plan_path = format!("/api/v1/branches/{b}/services/{service}/plan");
    let (status, answer) = server
        .call(Method::PUT, &plan_path, admin, Some(plan))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let start = open_slots(&server, cem_core::chrono::TimeDelta::minutes(30)).await[0].clone();
    let bookings = format!("/api/v1/branches/{b}/bookings");
    let book = |phone: &str, waitlist: bool| {
        json!({ "service": service, "start": start, "waitlist": waitlist,
                "holder": { "phone": phone } })
    };

    // Ana takes the only seat; Ben finds it full and joins the waitlist.
    let (status, ana) = server
        .call(
            Method::POST,
            &bookings,
            None,
            Some(book("+4930111111", false)),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{ana}");
    let (status, full) = server
        .call(
            Method::POST,
            &bookings,
            None,
            Some(book("+4930222222", false)),
        )
        .await;
    assert_eq!(
        (status, full["code"].clone()),
        (StatusCode::CONFLICT, json!("slot_full"))
    );
    let (status, ben) = server
        .call(
            Method::POST,
            &bookings,
            None,
            Some(book("+4930222222", true)),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{ben}");
    assert_eq!(ben["state"], "waitlisted");
    let ben_path = format!("{bookings}/{}", ben["code"].as_str().unwrap());
    let (status, answer) = server
        .call(Method::POST, &format!("{ben_path}/accept"), None, None)
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "nothing offered yet: {answer}"
    );

    // Ana cancels: her seat is offered to Ben, who takes it and is told.
    let ana_path = format!("{bookings}/{}", ana["code"].as_str().unwrap());
    let (status, _) = server
        .call(Method::POST, &format!("{ana_path}/cancel"), None, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, offered) = server.call(Method::GET, &ben_path, None, None).await;
    assert_eq!(offered["state"], "offered", "{offered}");
    server
        .clock
        .advance(cem_core::chrono::TimeDelta::minutes(1));
    let (status, taken) = server
        .call(Method::POST, &format!("{ben_path}/accept"), None, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{taken}");
    assert_eq!(taken["state"], "confirmed");
    let told = server
        .store
        .sent_to(server.config.branch.organization, "+4930222222", 10)
        .await
        .unwrap();
    assert_eq!(
        told.iter()
            .map(|e| e.message.kind.as_str())
            .collect::<Vec<_>>(),
        ["booking_confirmed", "booking_offered"],
        "the latest first: joining the waitlist says nothing; the seat is offered, then \
         confirmed once taken"
    );
    let (status, _) = server
        .call(Method::POST, &format!("{ben_path}/accept"), None, None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "taken once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_booking_nobody_came_for_becomes_a_no_show_after_the_grace_period_over_http() {
    use cem_core::chrono::{DateTime, TimeDelta, Utc};
    let server = Server::start().await;
    let b = server.branch();
    let service = service_id(0);
    let (status, answer) = server
        .call(
            Method::PUT,
            &format!("/api/v1/branches/{b}/services/{service}/plan"),
            server.token(ApiRole::Admin),
            Some(plan_around_the_clock()),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let start = open_slots(&server, TimeDelta::minutes(30)).await[0].clone();
    let (status, booked) = server
        .call(
            Method::POST,
            &format!("/api/v1/branches/{b}/bookings"),
            None,
            Some(
                json!({ "service": service, "start": start, "holder": { "phone": "+4930333333" } }),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{booked}");
    let path = format!(
        "/api/v1/branches/{b}/bookings/{}",
        booked["code"].as_str().unwrap()
    );
    let no_show = format!("{path}/no-show");
    let agent = server.token(ApiRole::Agent);

    // Only staff mark no-shows.
    for role in [ApiRole::Public, ApiRole::Kiosk, ApiRole::Display] {
        let (status, answer) = server
            .call(Method::POST, &no_show, server.token(role), None)
            .await;
        assert!(
            status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN,
            "{role:?}: {status} {answer}"
        );
    }
    // Not before the grace period (10 minutes after the start) has passed.
    let start: DateTime<Utc> = start.parse().unwrap();
    server.clock.set(start + TimeDelta::minutes(10));
    let (status, answer) = server.call(Method::POST, &no_show, agent, None).await;
    assert_eq!(
        (status, answer["code"].clone()),
        (StatusCode::CONFLICT, json!("invalid_state")),
        "{answer}"
    );
    let (_, read) = server.call(Method::GET, &path, agent, None).await;
    assert_eq!(read["state"], "confirmed", "a refusal changes nothing");

    server.clock.set(start + TimeDelta::minutes(11));
    let (status, marked) = server.call(Method::POST, &no_show, agent, None).await;
    assert_eq!(status, StatusCode::OK, "{marked}");
    assert_eq!(marked["state"], "no_show");
    // Once only. Arriving later that day, the holder still gets a ticket, as a walk-in.
    let (status, _) = server.call(Method::POST, &no_show, agent, None).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, answer) = server
        .call(
            Method::POST,
            &format!("{path}/check-in"),
            server.token(ApiRole::Kiosk),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["booking"]["state"], "checked_in");
    assert_eq!(answer["ticket"]["state"], "waiting");
}

// ---- Surveys --------------------------------------------------------------------------------

/// A survey as an administrator writes it: NPS, a reason asked of detractors only, CSAT and a
/// comment; offered by link.
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
            {
                "key": "reason",
                "prompt": { "en": "What went wrong?" },
                "kind": { "type": "single_choice", "options": [
                    { "key": "waiting_time", "label": { "en": "The wait" } },
                    { "key": "staff", "label": { "en": "The staff" } },
                    { "key": "other", "label": { "en": "Something else" } },
                ] },
                "required": true,
                "show_if": { "question": "nps", "test": "score_at_most", "value": 6 },
            },
            {
                "key": "csat",
                "prompt": { "en": "How satisfied are you?" },
                "kind": { "type": "csat" },
            },
            {
                "key": "comment",
                "prompt": { "en": "Anything else?" },
                "kind": { "type": "free_text", "max_chars": 500 },
            },
        ],
        "triggers": { "link": true },
        "active": true,
    })
}

/// Creates [`survey_definition`] as the administrator; returns its id.
async fn create_survey(server: &Server) -> String {
    let admin = server.token(ApiRole::Admin);
    let (status, survey) = server
        .call(
            Method::POST,
            "/api/v1/surveys",
            admin,
            Some(survey_definition()),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{survey}");
    assert_eq!(survey["version"], 1);
    survey["id"].as_str().unwrap().to_owned()
}

/// Opens a walk-up invitation to `survey` at the test branch as the public; returns its token.
async fn open_link(server: &Server, survey: &str) -> String {
    let path = format!(
        "/api/v1/branches/{}/surveys/{survey}/invitations",
        server.branch()
    );
    let (status, doc) = server
        .call(
            Method::POST,
            &path,
            None,
            Some(json!({ "source": "link", "language": "en" })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{doc}");
    doc["invitation"]["token"].as_str().unwrap().to_owned()
}

fn respond_path(token: &str) -> String {
    format!("/api/v1/surveys/invitations/{token}/response")
}

/// Every response of an organization, whenever submitted.
async fn stored_responses(
    server: &Server,
    organization: OrganizationId,
) -> Vec<cem_core::Response> {
    use cem_core::SurveyStore;
    use cem_core::chrono::{DateTime, Utc};
    server
        .store
        .responses(&cem_core::ResponseFilter {
            organization,
            survey: None,
            branches: None,
            from: DateTime::<Utc>::MIN_UTC,
            to: DateTime::<Utc>::MAX_UTC,
        })
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_survey_response_opens_a_case_resolved_with_a_reply_over_http() {
    use cem_core::{
        Channel, Invitation, InvitationId, InvitationSource, OutboxStore, SurveyStore, VisitRef,
    };
    let server = Server::start().await;
    let b = server.branch();
    let org = server.config.branch.organization;
    let admin = server.token(ApiRole::Admin);
    let manager = server.token(ApiRole::BranchManager);
    let other = Some(server.other_admin.as_str());
    let phone = "+4930123456";

    // A definition that breaks a rule is refused, naming the field.
    let mut bad = survey_definition();
    bad["questions"][0]["prompt"] = json!({});
    let (status, answer) = server
        .call(Method::POST, "/api/v1/surveys", admin, Some(bad))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["code"], "invalid_survey");
    assert!(
        answer["detail"]
            .as_str()
            .unwrap()
            .contains("questions.nps.prompt"),
        "{answer}"
    );
    // So is one inviting after service at another organization's branch.
    let mut elsewhere = survey_definition();
    elsewhere["triggers"]["after_service"] = json!({ "branches": [server.other_branch],
        "sample_rate": 1.0, "valid_hours": 48 });
    let (status, answer) = server
        .call(Method::POST, "/api/v1/surveys", admin, Some(elsewhere))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert!(
        answer["detail"]
            .as_str()
            .unwrap()
            .contains("triggers.after_service.branches"),
        "{answer}"
    );
    let survey = create_survey(&server).await;

    // The public opens the branch's link and reads the invitation.
    let token = open_link(&server, &survey).await;
    let (status, doc) = server
        .call(
            Method::GET,
            &format!("/api/v1/surveys/invitations/{token}"),
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{doc}");
    assert_eq!(doc["invitation"]["source"], "link");
    assert_eq!(doc["invitation"]["branch"], b.to_string());
    assert_eq!(doc["survey"]["id"], survey);
    assert_eq!(doc["survey"]["version"], 1);
    assert_eq!(doc["survey"]["title"]["en"], "How was your visit?");
    assert_eq!(doc["survey"]["questions"].as_array().unwrap().len(), 4);

    // A detractor answers with a complaint and a number to call back; they learn nothing more
    // than that the response was taken.
    let detractor = json!({
        "version": 1,
        "language": "en",
        "answers": [
            { "question": "nps", "value": 2 },
            { "question": "reason", "value": ["waiting_time"] },
            { "question": "csat", "value": 1 },
            { "question": "comment", "value": "The wait was terrible and the staff were rude." },
        ],
        "reply_to": { "phone": phone },
    });
    let (status, taken) = server
        .call(
            Method::POST,
            &respond_path(&token),
            None,
            Some(detractor.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{taken}");
    let mut keys: Vec<_> = taken.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["id", "submitted_at"]);
    let (status, again) = server
        .call(Method::POST, &respond_path(&token), None, Some(detractor))
        .await;
    assert_eq!(
        (status, again["code"].clone()),
        (StatusCode::CONFLICT, json!("already_answered"))
    );
    let (status, again) = server
        .call(
            Method::GET,
            &format!("/api/v1/surveys/invitations/{token}"),
            None,
            None,
        )
        .await;
    assert_eq!(
        (status, again["code"].clone()),
        (StatusCode::CONFLICT, json!("already_answered"))
    );

    // Bad answers on a fresh token are refused with the rule's code, and nothing is stored.
    let fresh = open_link(&server, &survey).await;
    for (answers, reply_to, code) in [
        (
            json!([{ "question": "nps", "value": 11 }]),
            None,
            "answer_out_of_range",
        ),
        (
            json!([{ "question": "nps", "value": 3 }]),
            None,
            "answer_required",
        ),
        (
            json!([{ "question": "nps", "value": "ten" }]),
            None,
            "wrong_answer_type",
        ),
        (
            json!([{ "question": "mood", "value": 3 }]),
            None,
            "unknown_question",
        ),
        (
            json!([{ "question": "nps", "value": 10 }]),
            Some(json!({ "phone": "0301234" })),
            "invalid_contact",
        ),
    ] {
        let mut body = json!({ "version": 1, "language": "en", "answers": answers });
        if let Some(r) = reply_to {
            body["reply_to"] = r;
        }
        let (status, answer) = server
            .call(Method::POST, &respond_path(&fresh), None, Some(body))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
        assert_eq!(answer["code"], code, "{answer}");
    }
    assert_eq!(stored_responses(&server, org).await.len(), 1);
    let (status, _) = server
        .call(
            Method::GET,
            &format!("/api/v1/surveys/invitations/{fresh}"),
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "the fresh invitation is still open");

    // The manager finds one open case, for a detractor, with a contact they cannot see.
    let (status, cases) = server
        .call(Method::GET, "/api/v1/cases", manager, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{cases}");
    assert_eq!(cases.as_array().unwrap().len(), 1, "{cases}");
    let case = cases[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(cases[0]["status"], "open");
    assert_eq!(
        cases[0]["reason"],
        json!({ "kind": "detractor", "score": 2 })
    );
    assert_eq!(cases[0]["has_reply_to"], true);
    assert!(!cases.to_string().contains("4930123456"), "{cases}");
    for (query, n) in [
        ("status=resolved", 0),
        ("status=open", 1),
        ("overdue=true", 0),
    ] {
        let (_, found) = server
            .call(
                Method::GET,
                &format!("/api/v1/cases?{query}"),
                manager,
                None,
            )
            .await;
        assert_eq!(found.as_array().unwrap().len(), n, "{query}: {found}");
    }
    let case_path = format!("/api/v1/cases/{case}");
    let (status, detail) = server.call(Method::GET, &case_path, manager, None).await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    assert_eq!(detail["response"]["answers"].as_array().unwrap().len(), 4);
    assert!(
        ["negative", "very_negative"].contains(
            &detail["response"]["analysis"]["sentiment"]
                .as_str()
                .unwrap()
        ),
        "{detail}"
    );
    assert!(!detail.to_string().contains("4930123456"), "{detail}");

    // Another organization finds neither the survey nor the case.
    for (method, path) in [
        (Method::GET, format!("/api/v1/surveys/{survey}")),
        (Method::GET, case_path.clone()),
        (Method::POST, format!("{case_path}/take")),
    ] {
        let (status, answer) = server.call(method, &path, other, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {answer}");
    }

    // The manager takes it, then resolves it with a reply to the respondent.
    let (status, taken) = server
        .call(Method::POST, &format!("{case_path}/take"), manager, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{taken}");
    assert_eq!(taken["status"], "in_progress");
    assert_eq!(taken["owner"], UserId::from_u128(2).to_string());
    let resolve = format!("{case_path}/resolve");
    let (status, answer) = server
        .call(
            Method::POST,
            &resolve,
            manager,
            Some(json!({ "root_cause": " ", "resolution": "x" })),
        )
        .await;
    assert_eq!(
        (status, answer["code"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("note_required"))
    );
    let reply = "We open a second counter at noon from now on.";
    let notes = json!({
        "root_cause": "One counter open at noon",
        "resolution": "A second counter opens at noon",
        "reply": reply,
    });
    let (status, resolved) = server
        .call(Method::POST, &resolve, manager, Some(notes.clone()))
        .await;
    assert_eq!(status, StatusCode::OK, "{resolved}");
    assert_eq!(resolved["status"], "resolved");
    let (status, answer) = server
        .call(Method::POST, &resolve, manager, Some(notes))
        .await;
    assert_eq!(
        (status, answer["code"].clone()),
        (StatusCode::CONFLICT, json!("case_resolved"))
    );
    let sent = server.store.sent_to(org, phone, 10).await.unwrap();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].message.kind, "case_resolved");
    assert_eq!(sent[0].message.channel, Channel::Sms);
    assert!(sent[0].message.body.contains(reply), "{sent:?}");
    let (_, audit) = server.call(Method::GET, "/api/v1/audit", admin, None).await;
    let actions: Vec<_> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions[..3],
        ["case.resolve", "case.take", "survey.create"],
        "{audit}"
    );
    assert!(!audit.to_string().contains("4930123456"), "{audit}");

    // Results by branch: one detractor of two invitations.
    let results = |query: &'static str, token: Option<&str>| {
        let path = format!("/api/v1/surveys/results?{query}");
        let token = token.map(str::to_owned);
        let server = &server;
        async move {
            server
                .call(Method::GET, &path, token.as_deref(), None)
                .await
        }
    };
    let (status, by_branch) = results("by=branch", manager).await;
    assert_eq!(status, StatusCode::OK, "{by_branch}");
    assert_eq!(by_branch["invitations"], 2);
    assert_eq!(by_branch["response_rate"], 50.0);
    assert_eq!(by_branch["groups"][0]["key"], b.to_string());
    assert_eq!(by_branch["groups"][0]["figures"]["nps"], -100.0);
    assert_eq!(by_branch["overall"]["responses"], 1);

    // A response about an agent's service (its invitation made after the service, as the
    // inviter does): by agent, groups smaller than the minimum hide their figures.
    let agent = AgentId::from_u128(3);
    let now = server.clock.now();
    let after_service = Invitation {
        id: InvitationId::from_u128(0x5E),
        token: "after-service-token".into(),
        organization: org,
        survey: survey.parse().unwrap(),
        branch: b,
        source: InvitationSource::AfterService,
        visit: VisitRef {
            agent: Some(agent),
            ..VisitRef::default()
        },
        recipient_key: None,
        language: Language::en(),
        created_at: now,
        expires_at: now + cem_core::chrono::TimeDelta::hours(72),
        answered_at: None,
    };
    server
        .store
        .insert_invitation(&after_service, None, &[])
        .await
        .unwrap();
    let (status, answer) = server
        .call(
            Method::POST,
            &respond_path("after-service-token"),
            None,
            Some(json!({
                "version": 1,
                "language": "en",
                "answers": [
                    { "question": "nps", "value": 0 },
                    { "question": "reason", "value": ["staff"] },
                ],
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let (status, by_agent) = results("by=agent", admin).await;
    assert_eq!(status, StatusCode::OK, "{by_agent}");
    let groups = by_agent["groups"].as_array().unwrap();
    let theirs = groups
        .iter()
        .find(|g| g["key"] == agent.to_string())
        .unwrap_or_else(|| panic!("no group of the agent: {by_agent}"));
    assert_eq!(theirs["suppressed"], true);
    assert_eq!(theirs["figures"], Value::Null);
    // The walk-up response has no agent; its group is hidden too, or the agent's figures
    // would be the overall figures minus it.
    assert!(groups.iter().all(|g| g["figures"].is_null()), "{by_agent}");
    let (_, by_branch) = results("by=branch", admin).await;
    assert_eq!(by_branch["groups"][0]["figures"]["responses"], 2);
    assert_eq!(by_branch["groups"][0]["figures"]["nps"], -100.0);

    // The same as CSV: a header, a row per group, hidden figures empty.
    let csv = |query: &str| {
        server
            .http
            .get(format!(
                "{}/api/v1/surveys/results?format=csv&{query}",
                server.base
            ))
            .bearer_auth(admin.unwrap())
            .send()
    };
    let response = csv("by=agent").await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let table = response.text().await.unwrap();
    let rows: Vec<&str> = table.lines().collect();
    assert_eq!(
        rows[0],
        "key,responses,nps,csat,ces_mean,ces_ease,sentiment,suppressed"
    );
    assert_eq!(rows.len(), 3, "{table}");
    assert!(
        rows.contains(&format!("{agent},,,,,,,true").as_str()),
        "{table}"
    );
    let table = csv("by=branch").await.unwrap().text().await.unwrap();
    let rows: Vec<&str> = table.lines().collect();
    assert_eq!(rows.len(), 2, "{table}");
    assert!(rows[1].starts_with(&format!("{b},2,-100,0,,,")), "{table}");
    assert!(rows[1].ends_with(",false"), "{table}");

    // Results are for managers: an agent is refused, a manager kept to their branches.
    let (status, _) = results("by=branch", server.token(ApiRole::Agent)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let path = format!("/api/v1/surveys/results?branch={}", server.other_branch);
    let (status, answer) = server.call(Method::GET, &path, manager, None).await;
    assert_eq!(
        (status, answer["code"].clone()),
        (StatusCode::NOT_FOUND, json!("branch_not_found"))
    );
    let (status, theirs) = results("by=branch", other).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(theirs["groups"], json!([]));

    // Erasure takes the number from the response and the case.
    let (status, erased) = server
        .call(
            Method::POST,
            "/api/v1/outbox/erase",
            admin,
            Some(json!({ "to": phone })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{erased}");
    assert_eq!(erased["survey_contacts"], 2, "{erased}");
    let (_, detail) = server.call(Method::GET, &case_path, manager, None).await;
    assert_eq!(detail["case"]["has_reply_to"], false);
    assert!(
        stored_responses(&server, org)
            .await
            .iter()
            .all(|r| r.reply_to.is_none())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_invitation_takes_one_response_among_concurrent_submissions() {
    let server = Server::start().await;
    let org = server.config.branch.organization;
    let survey = create_survey(&server).await;
    let token = open_link(&server, &survey).await;
    let url = format!("{}{}", server.base, respond_path(&token));
    let tasks: Vec<_> = (0..12)
        .map(|i| {
            let (http, url) = (server.http.clone(), url.clone());
            tokio::spawn(async move {
                let body = json!({
                    "version": 1,
                    "language": "en",
                    "answers": [{ "question": "nps", "value": 7 + i % 4 }],
                });
                let response = http.post(url).json(&body).send().await.unwrap();
                let status = response.status();
                let answer: Value = response.json().await.unwrap();
                (status, answer)
            })
        })
        .collect();
    let mut created = 0;
    for task in tasks {
        let (status, answer) = task.await.unwrap();
        match status {
            StatusCode::CREATED => created += 1,
            StatusCode::CONFLICT => assert_eq!(answer["code"], "already_answered", "{answer}"),
            other => panic!("{other}: {answer}"),
        }
    }
    assert_eq!(created, 1);
    assert_eq!(stored_responses(&server, org).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_response_keeps_the_version_it_answered_over_http() {
    use cem_core::SurveyStore;
    let server = Server::start().await;
    let admin = server.token(ApiRole::Admin);
    let survey = create_survey(&server).await;
    let path = format!("/api/v1/surveys/{survey}");
    // Shown version 1.
    let token = open_link(&server, &survey).await;

    // Version 2 requires a comment.
    let mut change = survey_definition();
    change["questions"][3]["required"] = json!(true);
    change["expected_version"] = json!(1);
    let (status, changed) = server
        .call(Method::PUT, &path, admin, Some(change.clone()))
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["version"], 2);
    assert_eq!(changed["id"], survey);
    // A stale change, a question changing kind, another organization: refused.
    let (status, answer) = server
        .call(Method::PUT, &path, admin, Some(change.clone()))
        .await;
    assert_eq!(
        (status, answer["code"].clone()),
        (StatusCode::CONFLICT, json!("stale_version"))
    );
    let mut retyped = change.clone();
    retyped["expected_version"] = json!(2);
    retyped["questions"][2]["kind"] = json!({ "type": "nps" });
    retyped["questions"][2]["key"] = json!("comment");
    retyped["questions"][3]["key"] = json!("csat");
    let (status, answer) = server.call(Method::PUT, &path, admin, Some(retyped)).await;
    assert_eq!(
        (status, answer["code"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("invalid_survey")),
        "{answer}"
    );
    let (status, _) = server
        .call(Method::PUT, &path, Some(&server.other_admin), Some(change))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, list) = server
        .call(Method::GET, "/api/v1/surveys", admin, None)
        .await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["version"], 2);
    let (_, first) = server
        .call(Method::GET, &format!("{path}?version=1"), admin, None)
        .await;
    assert_eq!(first["version"], 1);
    assert_eq!(first["questions"][3]["required"], false);
    let (status, _) = server
        .call(Method::GET, &format!("{path}?version=3"), admin, None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Answers without a comment: still good for version 1, which the response keeps.
    let answers = json!([{ "question": "nps", "value": 9 }]);
    let (status, taken) = server
        .call(
            Method::POST,
            &respond_path(&token),
            None,
            Some(json!({ "version": 1, "language": "en", "answers": answers })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{taken}");
    let id: cem_core::ResponseId = taken["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(server.store.response(id).await.unwrap().version, 1);
    // Not for version 2, which a new respondent is shown; nor for a version that never was.
    let token = open_link(&server, &survey).await;
    let (_, doc) = server
        .call(
            Method::GET,
            &format!("/api/v1/surveys/invitations/{token}"),
            None,
            None,
        )
        .await;
    assert_eq!(doc["survey"]["version"], 2);
    for (version, code) in [(2, "answer_required"), (7, "unknown_version")] {
        let (status, answer) = server
            .call(
                Method::POST,
                &respond_path(&token),
                None,
                Some(json!({ "version": version, "language": "en", "answers": answers })),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
        assert_eq!(answer["code"], code);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn walk_up_invitations_come_by_link_qr_code_or_kiosk_while_offered() {
    let server = Server::start().await;
    let b = server.branch();
    let admin = server.token(ApiRole::Admin);
    let kiosk = server.token(ApiRole::Kiosk);
    let survey = create_survey(&server).await;
    let invitations = format!("/api/v1/branches/{b}/surveys/{survey}/invitations");
    let by_kiosk = json!({ "source": "kiosk" });

    // The QR code holds the branch's walk-up page.
    let response = server
        .http
        .get(format!(
            "{}/api/v1/branches/{b}/surveys/{survey}/qr.svg",
            server.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "image/svg+xml");
    assert!(response.text().await.unwrap().contains("<svg"));

    // Not offered on kiosks until the administrator says so.
    let (status, answer) = server
        .call(Method::POST, &invitations, kiosk, Some(by_kiosk.clone()))
        .await;
    assert_eq!(
        (status, answer["code"].clone()),
        (StatusCode::CONFLICT, json!("survey_not_offered"))
    );
    let mut change = survey_definition();
    change["triggers"]["kiosk"] = json!(true);
    change["expected_version"] = json!(1);
    let path = format!("/api/v1/surveys/{survey}");
    let (status, _) = server.call(Method::PUT, &path, admin, Some(change)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, doc) = server
        .call(Method::POST, &invitations, kiosk, Some(by_kiosk.clone()))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{doc}");
    assert_eq!(doc["invitation"]["source"], "kiosk");
    assert_eq!(doc["invitation"]["language"], "en", "the organization's");
    assert_eq!(doc["survey"]["version"], 2);
    // Staff do not open invitations; another organization's branch does not offer ours.
    let (status, _) = server
        .call(Method::POST, &invitations, admin, Some(by_kiosk.clone()))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let elsewhere = format!(
        "/api/v1/branches/{}/surveys/{survey}/invitations",
        server.other_branch
    );
    let (status, answer) = server
        .call(Method::POST, &elsewhere, None, Some(by_kiosk))
        .await;
    assert_eq!(
        (status, answer["code"].clone()),
        (StatusCode::NOT_FOUND, json!("survey_not_found"))
    );

    // A walk-up invitation lasts two hours.
    let token = open_link(&server, &survey).await;
    let read = format!("/api/v1/surveys/invitations/{token}");
    server.clock.advance(cem_core::chrono::TimeDelta::hours(3));
    let (status, answer) = server.call(Method::GET, &read, None, None).await;
    assert_eq!(
        (status, answer["code"].clone()),
        (StatusCode::GONE, json!("invitation_expired"))
    );
    let (status, answer) = server
        .call(
            Method::GET,
            "/api/v1/surveys/invitations/no-such-token",
            None,
            None,
        )
        .await;
    assert_eq!(
        (status, answer["code"].clone()),
        (StatusCode::NOT_FOUND, json!("invitation_not_found"))
    );

    // An inactive survey takes no response and opens no invitation.
    let token = open_link(&server, &survey).await;
    let mut change = survey_definition();
    change["active"] = json!(false);
    change["expected_version"] = json!(2);
    let (status, _) = server.call(Method::PUT, &path, admin, Some(change)).await;
    assert_eq!(status, StatusCode::OK);
    let read = format!("/api/v1/surveys/invitations/{token}");
    let (status, answer) = server.call(Method::GET, &read, None, None).await;
    assert_eq!(
        (status, answer["code"].clone()),
        (StatusCode::CONFLICT, json!("survey_inactive"))
    );
    // Regression: answers to the version shown, which was active, were still taken.
    let (status, answer) = server
        .call(
            Method::POST,
            &respond_path(&token),
            None,
            Some(json!({
                "version": 2,
                "language": "en",
                "answers": [{ "question": "nps", "value": 9 }],
            })),
        )
        .await;
    assert_eq!(
        (status, answer["code"].clone()),
        (StatusCode::CONFLICT, json!("survey_inactive"))
    );
    let (status, answer) = server
        .call(
            Method::POST,
            &invitations,
            None,
            Some(json!({ "source": "link" })),
        )
        .await;
    assert_eq!(
        (status, answer["code"].clone()),
        (StatusCode::CONFLICT, json!("survey_not_offered"))
    );
    let (status, _) = server
        .call(
            Method::GET,
            &format!("/api/v1/branches/{b}/surveys/{survey}/qr.svg"),
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
}

/// Regression: a check-in whose booking recorded its ticket while the queue never issued it
/// (the server stopped between the two writes) left the holder with no ticket and every later
/// check-in refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_check_in_left_half_done_is_completed_when_the_holder_checks_in_again() {
    use cem_core::{BookingState, ReservationStore, TicketId};
    let server = Server::start().await;
    let b = server.branch();
    let service = service_id(0);
    let (status, answer) = server
        .call(
            Method::PUT,
            &format!("/api/v1/branches/{b}/services/{service}/plan"),
            server.token(ApiRole::Admin),
            Some(plan_around_the_clock()),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let start = open_slots(&server, cem_core::chrono::TimeDelta::seconds(60)).await[0].clone();
    let (status, booked) = server
        .call(
            Method::POST,
            &format!("/api/v1/branches/{b}/bookings"),
            None,
            Some(
                json!({ "service": service, "start": start, "holder": { "phone": "+4930444444" } }),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{booked}");
    let code = booked["code"].as_str().unwrap();

    // The first check-in stopped after the booking recorded its ticket.
    let stored = server
        .store
        .booking_by_code(
            server.config.branch.organization,
            &cem_reservation::parse_code(code).unwrap(),
        )
        .await
        .unwrap();
    let lost = TicketId::from_u128(0x10_57);
    let now = server.clock.now();
    let half_done = cem_core::Booking {
        state: BookingState::CheckedIn,
        ticket: Some(lost),
        checked_in_at: Some(now),
        changed_at: now,
        revision: stored.revision + 1,
        ..stored
    };
    server
        .store
        .update_booking(&half_done, 1, &[])
        .await
        .unwrap();

    // Checking in again issues that very ticket, as the appointment it was.
    let check_in = format!("/api/v1/branches/{b}/bookings/{code}/check-in");
    let staff = server.token(ApiRole::Agent);
    let (status, answer) = server.call(Method::POST, &check_in, staff, None).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["ticket"]["id"], lost.to_string(), "{answer}");
    assert_eq!(answer["ticket"]["source"], "reservation");
    assert_eq!(answer["ticket"]["state"], "waiting");
    // Now it is whole: a third check-in is refused and issues nothing more.
    let (status, _) = server.call(Method::POST, &check_in, staff, None).await;
    assert_eq!(status, StatusCode::CONFLICT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_found_by_number_gets_their_class_and_their_visits_are_shown() {
    use cem_core::QueueEventStore as _;
    use cem_report::visits::VisitFollower;

    let server = Server::start().await;
    let b = server.branch();
    let admin = server.token(ApiRole::Admin).map(str::to_owned);
    let kiosk = server.token(ApiRole::Kiosk).map(str::to_owned);
    let agent = server.token(ApiRole::Agent).map(str::to_owned);
    let manager = server.token(ApiRole::BranchManager).map(str::to_owned);
    let customer = "00000000-0000-0000-0000-0000000c0001";
    let put = |id: &'static str, body: Value, token: Option<String>| {
        let server = &server;
        async move {
            server
                .call(
                    Method::PUT,
                    &format!("/api/v1/customers/{id}"),
                    token.as_deref(),
                    Some(body),
                )
                .await
        }
    };

    // Administrators keep customers; the number is unique, the class must exist.
    let (status, body) = put(
        customer,
        json!({ "number": "AB 1001", "class": VIP, "language": "fa" }),
        admin.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["number"], "AB 1001");
    let (status, _) = put(customer, json!({ "number": "1" }), manager.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = put(
        "00000000-0000-0000-0000-0000000c0002",
        json!({ "number": "ab1001" }),
        admin.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["code"], "number_taken");
    let (status, body) = put(
        "00000000-0000-0000-0000-0000000c0003",
        json!({ "class": "00000000-0000-0000-0000-00000000dead" }),
        admin.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["code"], "invalid_customer");

    // Kiosks and staff find a customer by number; the public may not look.
    let (status, body) = server
        .call(
            Method::GET,
            "/api/v1/customers?number=ab1001",
            kiosk.as_deref(),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["id"], customer);
    let (status, body) = server
        .call(
            Method::GET,
            "/api/v1/customers?number=999",
            kiosk.as_deref(),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], "customer_not_found");
    let (status, _) = server
        .call(Method::GET, "/api/v1/customers?number=ab1001", None, None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // A ticket by number is the customer's and takes their class; an unknown number or the
    // public naming one gets no ticket.
    let issue = |number: &'static str, token: Option<String>| {
        let server = &server;
        async move {
            server
                .call(
                    Method::POST,
                    &format!("/api/v1/branches/{b}/tickets"),
                    token.as_deref(),
                    Some(json!({ "service": service_id(0), "customer_number": number })),
                )
                .await
        }
    };
    let (status, body) = issue("999", kiosk.clone()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], "customer_not_found");
    let (status, _) = issue("AB1001", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = issue("AB1001", kiosk.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["class"], "vip");
    let ticket = body["id"].as_str().unwrap().to_owned();
    let (_, status_now) = server
        .call(
            Method::GET,
            &format!("/api/v1/branches/{b}/tickets"),
            agent.as_deref(),
            None,
        )
        .await;
    assert_eq!(status_now.as_array().unwrap().len(), 1, "{status_now}");
    assert_eq!(status_now[0]["customer"], customer);

    // Served; the visits follow the history.
    let counter = counter_id(0);
    for action in ["open", "call-next", "start", "finish"] {
        let (status, body) = server
            .call(
                Method::POST,
                &format!("/api/v1/branches/{b}/counters/{counter}/{action}"),
                agent.as_deref(),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{action}: {body}");
    }
    let events = server.store.read_all(0, 1000).await.unwrap();
    let changes = VisitFollower::default()
        .changes(&events, |_, _| Some("A".into()))
        .unwrap();
    server.store.apply_visits(&changes).await.unwrap();
    let (status, visits) = server
        .call(
            Method::GET,
            &format!("/api/v1/customers/{customer}/visits"),
            agent.as_deref(),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{visits}");
    let visits = visits.as_array().unwrap();
    assert_eq!(visits.len(), 1);
    assert_eq!(visits[0]["ticket"], ticket.as_str());
    assert_eq!(visits[0]["outcome"], "served");
    assert_eq!(visits[0]["display"], "A-001");
    assert!(visits[0]["wait_secs"].as_i64().unwrap() >= 0);
    // Another organization does not know the customer.
    let (status, _) = server
        .call(
            Method::GET,
            &format!("/api/v1/customers/{customer}/visits"),
            Some(&server.other_admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
