//! Signage and public branch information over real HTTP on 127.0.0.1: layouts, playlists,
//! news and screens; what a screen shows, says and never learns; branch information and the
//! best branch to go to.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use cem_bus_local::LocalBus;
use cem_core::chrono::{DateTime, Days, NaiveDate, NaiveTime, TimeDelta, TimeZone, Utc, Weekday};
use cem_core::{
    Agent, AgentId, BranchConfig, BranchId, Clock, Language, LocalizedText, ManualClock, OrgStore,
    Organization, OrganizationId, Role, User, UserId,
};
use cem_http::{AppState, HttpSettings, Stores, SystemClock, hash_password};
use cem_queue::ServiceOptions;
use cem_queue::testing::{branch_config, counter_id, service_id};
use cem_store_memory::MemoryStore;
use futures::StreamExt;
use reqwest::header::{ETAG, IF_NONE_MATCH};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse";

// ---- A server -----------------------------------------------------------------------------

/// A server on an ephemeral port over a memory store: an organization with a branch (two
/// services, three counters), an admin, a manager and an agent of the branch, a kiosk and a
/// display; another organization with its own admin and branch. Its clock moves only when a
/// test moves it.
struct Server {
    base: String,
    http: reqwest::Client,
    config: BranchConfig,
    other_branch: BranchId,
    admin: String,
    manager: String,
    agent: String,
    kiosk: String,
    display: String,
    /// The id of the display device.
    display_device: String,
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

/// Serves the API over `store` and `bus` on an ephemeral port; returns its base URL.
async fn serve(store: &Arc<MemoryStore>, bus: &Arc<LocalBus>, clock: &Arc<ManualClock>) -> String {
    let stores = Stores::single(store.clone(), bus.clone());
    let settings = HttpSettings {
        public_per_minute: 100_000,
        logins_per_minute: 100_000,
        public_url: "https://cem.example.org/".to_owned(),
        ..HttpSettings::default()
    };
    let state = AppState::new(stores, clock.clone(), settings, ServiceOptions::default())
        .await
        .expect("state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = cem_http::router(state).into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

impl Server {
    async fn start() -> Self {
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
        let clock = Arc::new(ManualClock::new(SystemClock.now()));
        let base = serve(&store, &bus, &clock).await;
        let mut server = Self {
            base,
            http: reqwest::Client::new(),
            config,
            other_branch: other.branch.id,
            admin: String::new(),
            manager: String::new(),
            agent: String::new(),
            kiosk: String::new(),
            display: String::new(),
            display_device: String::new(),
            other_admin: String::new(),
            store,
            bus,
            clock,
        };
        server.sign_in().await;
        let (kiosk, _) = server.device("kiosk").await;
        let (display, device) = server.device("display").await;
        (server.kiosk, server.display, server.display_device) = (kiosk, display, device);
        server
    }

    /// Signs the users in (again): their tokens expire, the devices' do not.
    async fn sign_in(&mut self) {
        self.admin = self.login("admin").await;
        self.manager = self.login("manager").await;
        self.agent = self.login("agent").await;
        self.other_admin = self.login("other-admin").await;
    }

    /// Moves the clock forward to `at` and signs the users in again.
    async fn travel_to(&mut self, at: DateTime<Utc>) {
        assert!(at >= self.clock.now(), "time only moves forward");
        self.clock.set(at);
        self.sign_in().await;
    }

    /// Another server over the same store, bus and clock.
    async fn second_instance(&self) -> String {
        serve(&self.store, &self.bus, &self.clock).await
    }

    fn branch(&self) -> BranchId {
        self.config.branch.id
    }

    fn organization(&self) -> OrganizationId {
        self.config.branch.organization
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

    /// Registers a device of the branch; returns its token and id.
    async fn device(&self, kind: &str) -> (String, String) {
        let path = format!("/api/v1/branches/{}/devices", self.branch());
        let (status, body) = self
            .call(
                Method::POST,
                &path,
                Some(&self.admin),
                Some(json!({ "kind": kind, "name": format!("{kind} 1") })),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        (
            body["token"].as_str().unwrap().to_owned(),
            body["device"]["id"].as_str().unwrap().to_owned(),
        )
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let (status, _, text) = self.call_raw(method, path, token, body, &[]).await;
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// A call with extra headers; the status, the `ETag` and the body as text.
    async fn call_raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        headers: &[(reqwest::header::HeaderName, &str)],
    ) -> (StatusCode, Option<String>, String) {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        if let Some(b) = body {
            request = request.json(&b);
        }
        for (name, value) in headers {
            request = request.header(name.clone(), *value);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        let etag = response
            .headers()
            .get(ETAG)
            .map(|v| v.to_str().unwrap().to_owned());
        (status, etag, response.text().await.unwrap_or_default())
    }

    /// A call that must succeed with `expected`; its body.
    async fn ok(
        &self,
        expected: StatusCode,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Value {
        let (status, answer) = self.call(method.clone(), path, token, body).await;
        assert_eq!(status, expected, "{method} {path}: {answer}");
        answer
    }

    /// Issues a ticket of service `service` as the kiosk; its view.
    async fn issue(&self, service: usize, extra: Value) -> Value {
        let mut body = json!({ "service": service_id(service) });
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            body.extend(extra.clone());
        }
        let path = format!("/api/v1/branches/{}/tickets", self.branch());
        self.ok(
            StatusCode::CREATED,
            Method::POST,
            &path,
            Some(&self.kiosk),
            Some(body),
        )
        .await
    }

    /// Acts at counter `n` (0-based) of the test branch as `token`.
    async fn counter(&self, token: &str, n: usize, action: &str, body: Option<Value>) -> Value {
        let path = format!(
            "/api/v1/branches/{}/counters/{}/{action}",
            self.branch(),
            counter_id(n)
        );
        self.ok(StatusCode::OK, Method::POST, &path, Some(token), body)
            .await
    }
}

/// Reads SSE messages from a response body, keeping each message's raw text.
struct Sse {
    body: futures::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    buffer: String,
    /// Every message received, as sent.
    raw: Vec<String>,
}

/// A message: its `id`, its `event` and its data.
type Message = (u64, String, Value);

impl Sse {
    async fn open(base: &str, path: &str, token: &str, last: Option<u64>) -> Self {
        let mut request = reqwest::Client::new()
            .get(format!("{base}{path}"))
            .bearer_auth(token);
        if let Some(last) = last {
            request = request.header("last-event-id", last.to_string());
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()["content-type"],
            "text/event-stream",
            "a live stream"
        );
        Self {
            body: response.bytes_stream().boxed(),
            buffer: String::new(),
            raw: Vec::new(),
        }
    }

    /// The next message, skipping keep-alive comments.
    async fn next(&mut self) -> Message {
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
                self.raw.push(block);
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

    /// Messages up to and including the `n`th of type `kind`.
    async fn until(&mut self, kind: &str, n: usize) -> Vec<Message> {
        let mut seen = Vec::new();
        let mut found = 0;
        while found < n {
            let message = self.next().await;
            if message.2["event"]["type"] == kind {
                found += 1;
            }
            seen.push(message);
        }
        seen
    }
}

fn instant(v: &Value) -> DateTime<Utc> {
    v.as_str()
        .unwrap_or_else(|| panic!("an instant: {v}"))
        .parse()
        .unwrap()
}

/// The instant of the local time `h:m` on `date` in the test branch's time zone.
fn berlin(date: NaiveDate, h: u32, m: u32) -> DateTime<Utc> {
    cem_core::chrono_tz::Europe::Berlin
        .from_local_datetime(&date.and_time(NaiveTime::from_hms_opt(h, m, 0).unwrap()))
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

/// 08:00 UTC on the first Wednesday after `now`: 09:00 or 10:00 in Berlin, a multiple of the
/// 30 s media cycle of the journey.
fn next_wednesday_morning(now: DateTime<Utc>) -> DateTime<Utc> {
    let mut date = now.date_naive();
    loop {
        date = date.succ_opt().unwrap();
        if cem_core::chrono::Datelike::weekday(&date) == Weekday::Wed {
            return date.and_hms_opt(8, 0, 0).unwrap().and_utc();
        }
    }
}

fn layout_request() -> Value {
    let zone = |key: &str, kind: Value, x: u8, y: u8, w: u8, h: u8| json!({ "key": key, "kind": kind, "area": { "x": x, "y": y, "w": w, "h": h } });
    json!({
        "name": "Hall",
        "zones": [
            zone("board", json!({ "type": "now_serving", "rows": 4 }), 0, 0, 50, 70),
            zone("recent", json!({ "type": "recent_calls", "count": 5 }), 50, 0, 50, 30),
            zone("media", json!({ "type": "media" }), 50, 30, 50, 40),
            zone("news", json!({ "type": "news_ticker" }), 0, 70, 100, 10),
            zone("clock", json!({ "type": "clock" }), 0, 80, 20, 20),
            zone("waiting", json!({ "type": "waiting_summary" }), 20, 80, 60, 20),
            zone("join", json!({ "type": "join_qr" }), 80, 80, 20, 20),
        ],
    })
}

/// Creates the journey's layout as the administrator; its id.
async fn create_layout(server: &Server) -> String {
    let layout = server
        .ok(
            StatusCode::CREATED,
            Method::POST,
            "/api/v1/layouts",
            Some(&server.admin),
            Some(layout_request()),
        )
        .await;
    layout["id"].as_str().unwrap().to_owned()
}

/// Creates a Persian screen of the test branch showing `layout`, bound to the display.
async fn create_screen(server: &Server, layout: &str) -> String {
    let path = format!("/api/v1/branches/{}/screens", server.branch());
    let screen = server
        .ok(
            StatusCode::CREATED,
            Method::POST,
            &path,
            Some(&server.admin),
            Some(json!({ "name": "Hall", "language": "fa", "layout": layout,
                "device": server.display_device })),
        )
        .await;
    screen["id"].as_str().unwrap().to_owned()
}

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

// ---- The journey --------------------------------------------------------------------------

/// What a journey leaves for the tests to check.
struct Journey {
    /// Everything the display device received, as text.
    received: Vec<String>,
    /// Customers' personal data and tickets' secrets that went into the journey.
    secrets: Vec<String>,
}

/// The journey: an administrator sets up a layout, a playlist, news and a Persian screen;
/// the display reads itself and its content (304 when unchanged); a walk-in customer with a
/// contact and a booked customer with a name are called at two counters in the same second;
/// the board and the stream show their calls, announced in Persian one after the other.
async fn journey() -> Journey {
    let mut server = Server::start().await;
    let b = server.branch();
    let t0 = next_wednesday_morning(server.clock.now());
    let now = t0 + TimeDelta::seconds(5);
    server.travel_to(now).await;
    let admin = Some(server.admin.as_str());
    let display = server.display.clone();
    let mut received = Vec::new();

    let layout = create_layout(&server).await;
    let playlist = json!({
        "name": "Morning",
        "items": [
            { "key": "welcome", "content": { "type": "image", "url": "https://cdn.example.org/welcome.jpg" },
              "duration_secs": 10,
              "schedule": { "weekdays": ["Mon", "Tue", "Wed", "Thu", "Fri"],
                            "times": [{ "start": "07:00:00", "end": "12:00:00" }] } },
            { "key": "rates", "content": { "type": "text", "text": { "fa": "نرخ ارز", "en": "Rates" } },
              "duration_secs": 20 },
            { "key": "afternoon", "content": { "type": "video", "url": "/media/afternoon.mp4" },
              "duration_secs": 15,
              "schedule": { "times": [{ "start": "14:00:00", "end": "17:00:00" }] } },
        ],
        "targets": { "type": "branches", "ids": [b] },
    });
    server
        .ok(
            StatusCode::CREATED,
            Method::POST,
            "/api/v1/playlists",
            admin,
            Some(playlist),
        )
        .await;
    let hours = |h: i64| (t0 + TimeDelta::hours(h)).to_rfc3339();
    for news in [
        json!({ "title": { "fa": "فردا تعطیل است", "en": "Closed tomorrow" },
                "publish_from": hours(-1), "targets": { "type": "branches", "ids": [b] },
                "priority": "urgent" }),
        json!({ "title": { "fa": "خوش آمدید", "en": "Welcome" }, "body": { "en": "Hello" },
                "publish_from": hours(-2), "publish_until": hours(1),
                "targets": { "type": "all" } }),
        json!({ "title": { "en": "Old news" }, "publish_from": hours(-3),
                "publish_until": hours(-1), "targets": { "type": "all" } }),
    ] {
        server
            .ok(
                StatusCode::CREATED,
                Method::POST,
                "/api/v1/news",
                admin,
                Some(news),
            )
            .await;
    }
    let screen = create_screen(&server, &layout).await;

    // The display learns which screen it is, then what it shows.
    let (status, _, me) = server
        .call_raw(Method::GET, "/api/v1/screens/me", Some(&display), None, &[])
        .await;
    assert_eq!(status, StatusCode::OK, "{me}");
    received.push(me.clone());
    let me: Value = serde_json::from_str(&me).unwrap();
    assert_eq!(me["id"], screen.as_str());
    assert_eq!(me["language"], "fa");
    let content_path = format!("/api/v1/branches/{b}/screens/{screen}/content");
    let (status, etag, text) = server
        .call_raw(Method::GET, &content_path, Some(&display), None, &[])
        .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    received.push(text.clone());
    let content: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(content["screen"]["id"], screen.as_str());
    assert_eq!(content["screen"]["language"], "fa");
    assert_eq!(content["layout"]["zones"].as_array().unwrap().len(), 7);
    // The cycle of 30 s (the video shows only in the afternoon) starts at t0: the image
    // shows its 10 s.
    assert_eq!(content["media"]["item"], "welcome", "{content}");
    assert_eq!(content["media"]["content"]["type"], "image");
    assert_eq!(instant(&content["media"]["started_at"]), t0);
    assert_eq!(
        instant(&content["media"]["ends_at"]),
        t0 + TimeDelta::seconds(10)
    );
    let news = content["news"].as_array().unwrap();
    let titles: Vec<&str> = news.iter().map(|n| n["title"].as_str().unwrap()).collect();
    assert_eq!(
        titles,
        ["فردا تعطیل است", "خوش آمدید"],
        "urgent first, none expired"
    );
    assert_eq!(news[0]["priority"], "urgent");
    assert_eq!(
        content["board"],
        json!({ "now_serving": [], "recent_calls": [] })
    );
    let waiting = content["waiting"].as_array().unwrap();
    assert_eq!(waiting.len(), 2);
    assert!(waiting.iter().all(|w| w["waiting"] == 0), "{waiting:?}");
    assert_eq!(content["clock"]["time_zone"], "Europe/Berlin");
    assert_eq!(instant(&content["clock"]["now"]), now);
    assert_eq!(
        content["join_url"],
        format!("https://cem.example.org/join/{b}")
    );
    assert_eq!(
        instant(&content["refresh_at"]),
        t0 + TimeDelta::seconds(10),
        "the end of the image comes first"
    );

    // Asked again with its tag: nothing changed.
    let etag = etag.expect("an ETag");
    let (status, again, body) = server
        .call_raw(
            Method::GET,
            &content_path,
            Some(&display),
            None,
            &[(IF_NONE_MATCH, etag.as_str())],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert_eq!(again.as_deref(), Some(etag.as_str()));
    assert!(body.is_empty());

    // The files to fetch ahead: the afternoon video within a day, not within the hour.
    let manifest_path = format!("/api/v1/branches/{b}/screens/{screen}/manifest");
    let (status, manifest_tag, text) = server
        .call_raw(
            Method::GET,
            &format!("{manifest_path}?hours=24"),
            Some(&display),
            None,
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    received.push(text.clone());
    let manifest: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        manifest["media"],
        json!([
            "/media/afternoon.mp4",
            "https://cdn.example.org/welcome.jpg"
        ])
    );
    let (status, _, text) = server
        .call_raw(
            Method::GET,
            &format!("{manifest_path}?hours=1"),
            Some(&display),
            None,
            &[(IF_NONE_MATCH, manifest_tag.as_deref().unwrap())],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "another window, another tag");
    received.push(text.clone());
    let manifest: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        manifest["media"],
        json!(["https://cdn.example.org/welcome.jpg"])
    );
    let (status, _, _) = server
        .call_raw(
            Method::GET,
            &format!("{manifest_path}?hours=24"),
            Some(&display),
            None,
            &[(IF_NONE_MATCH, manifest_tag.as_deref().unwrap())],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);

    // The screen listens.
    let events_path = format!("/api/v1/branches/{b}/screens/{screen}/events");
    let mut stream = Sse::open(&server.base, &events_path, &display, None).await;

    // A walk-in customer, known to the bank, leaves a phone number and an e-mail address.
    let customer = "00000000-0000-0000-0000-0000000c0570";
    let (phone, email) = ("+989121234567", "sara.customer@example.org");
    let walk_in = server
        .issue(
            0,
            json!({ "customer": customer,
                    "contact": { "phone": phone, "email": email, "language": "fa" } }),
        )
        .await;
    // A booked customer, with a name, checks in at the kiosk.
    let plan_path = format!("/api/v1/branches/{b}/services/{}/plan", service_id(0));
    server
        .ok(
            StatusCode::OK,
            Method::PUT,
            &plan_path,
            admin,
            Some(plan_around_the_clock()),
        )
        .await;
    let today = now
        .with_timezone(&server.config.branch.time_zone)
        .date_naive();
    let tomorrow = today.succ_opt().unwrap();
    let slots = server
        .ok(
            StatusCode::OK,
            Method::GET,
            &format!(
                "/api/v1/branches/{b}/services/{}/slots?from={today}&to={tomorrow}",
                service_id(0)
            ),
            None,
            None,
        )
        .await;
    let start = slots
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["status"] == "open")
        .map(|s| s["start"].as_str().unwrap().to_owned())
        .find(|s| instant(&json!(s)) > now + TimeDelta::seconds(60))
        .expect("an open slot");
    let holder = "Shirin Ebadi";
    let (holder_phone, holder_email) = ("+989351112233", "shirin.holder@example.org");
    let booking = server
        .ok(
            StatusCode::CREATED,
            Method::POST,
            &format!("/api/v1/branches/{b}/bookings"),
            None,
            Some(json!({ "service": service_id(0), "start": start,
                "holder": { "name": holder, "phone": holder_phone, "email": holder_email } })),
        )
        .await;
    let code = booking["code"].as_str().unwrap().to_owned();
    let checked = server
        .ok(
            StatusCode::OK,
            Method::POST,
            &format!("/api/v1/branches/{b}/bookings/{code}/check-in"),
            Some(&server.kiosk),
            None,
        )
        .await;
    let booked = checked["ticket"].clone();

    // Two counters call them in the same second.
    let agent = server.agent.clone();
    server.counter(&agent, 0, "open", None).await;
    server.counter(&server.admin, 1, "open", None).await;
    server
        .counter(&agent, 0, "call", Some(json!({ "ticket": walk_in["id"] })))
        .await;
    server
        .counter(
            &server.admin,
            1,
            "call",
            Some(json!({ "ticket": booked["id"] })),
        )
        .await;

    // The board shows both, by display number and counter number.
    let (status, _, text) = server
        .call_raw(
            Method::GET,
            &content_path,
            Some(&display),
            None,
            &[(IF_NONE_MATCH, etag.as_str())],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "the board changed: {text}");
    received.push(text.clone());
    let content: Value = serde_json::from_str(&text).unwrap();
    let board = |list: &str| -> Vec<(String, u64)> {
        content["board"][list]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["display"].as_str().unwrap().to_owned(),
                    c["counter"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    let (first, second) = (
        walk_in["display"].as_str().unwrap().to_owned(),
        booked["display"].as_str().unwrap().to_owned(),
    );
    let both = vec![(first.clone(), 1), (second.clone(), 2)];
    assert_eq!(board("now_serving"), both);
    assert_eq!(board("recent_calls"), both);
    assert_eq!(
        content["board"]["recent_calls"][0]["service"], "Service A",
        "the service's name (no Persian one: the organization's language)"
    );

    // The stream announces them in Persian, one after the other, in call order.
    let messages = stream.until("ticket_called", 2).await;
    let calls: Vec<&Message> = messages
        .iter()
        .filter(|m| m.2["event"]["type"] == "ticket_called")
        .collect();
    assert!(calls[0].0 < calls[1].0, "in call order");
    let spoken: Vec<&Value> = calls.iter().map(|m| &m.2["announcement"]).collect();
    for (a, (display, counter)) in spoken.iter().zip(&both) {
        let expected = cem_signage::announcement(display, *counter as u16, &Language::fa());
        assert_eq!(a["text"], expected.text.as_str(), "{a}");
        assert_eq!(a["speech"], expected.speech.as_str(), "{a}");
        assert_eq!(a["language"], "fa");
        assert_eq!(a["chime"], true);
        let length = instant(&a["ends_at"]) - instant(&a["starts_at"]);
        let secs = cem_signage::speech_secs(&expected.speech);
        assert!(
            (length.num_milliseconds() as f64 / 1000.0 - secs).abs() < 0.002,
            "{length} for {secs} s"
        );
    }
    assert!(
        spoken[0]["speech"].as_str().unwrap().contains("یک")
            && spoken[0]["speech"].as_str().unwrap().contains("باجهٔ"),
        "Persian words for the numbers: {}",
        spoken[0]["speech"]
    );
    assert_eq!(
        instant(&spoken[0]["starts_at"]),
        now,
        "the first plays at once"
    );
    assert_eq!(
        spoken[1]["starts_at"], spoken[0]["ends_at"],
        "the second waits for the first"
    );
    let other_events: Vec<&Message> = messages
        .iter()
        .filter(|m| m.2["event"]["type"] != "ticket_called")
        .collect();
    assert!(
        other_events
            .iter()
            .all(|m| m.2.get("announcement").is_none()),
        "only calls are announced"
    );
    // A recall is announced too, after the two.
    server.counter(&agent, 0, "recall", None).await;
    let recalled = stream.until("ticket_recalled", 1).await;
    let again = &recalled.last().unwrap().2["announcement"];
    assert_eq!(again["starts_at"], spoken[1]["ends_at"]);
    received.extend(stream.raw.clone());

    Journey {
        received,
        secrets: vec![
            walk_in["id"].as_str().unwrap().to_owned(),
            booked["id"].as_str().unwrap().to_owned(),
            customer.to_owned(),
            phone.to_owned(),
            phone.trim_start_matches('+').to_owned(),
            email.to_owned(),
            holder.to_owned(),
            "Shirin".to_owned(),
            holder_phone.trim_start_matches('+').to_owned(),
            holder_email.to_owned(),
            code,
            booking["id"].as_str().unwrap().to_owned(),
        ],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_screen_shows_its_content_and_announces_calls_in_its_language() {
    let journey = journey().await;
    assert!(journey.received.len() > 10, "{}", journey.received.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_personal_data_reaches_a_screen() {
    let journey = journey().await;
    let everything = journey.received.join("\n");
    assert!(everything.contains("ticket_called") && everything.contains("A-00"));
    for secret in &journey.secrets {
        assert!(
            !everything.contains(secret.as_str()),
            "a screen received {secret}: {everything}"
        );
    }
}

// ---- Resynchronization --------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_screen_that_reconnects_gets_the_calls_it_missed_announced_the_same() {
    let server = Server::start().await;
    let b = server.branch();
    let layout = create_layout(&server).await;
    let screen = create_screen(&server, &layout).await;
    let path = format!("/api/v1/branches/{b}/screens/{screen}/events");
    let display = server.display.clone();
    // One screen stays connected throughout; the other drops after the first call.
    let mut steady = Sse::open(&server.base, &path, &display, None).await;
    let mut flaky = Sse::open(&server.base, &path, &display, None).await;
    server.issue(0, json!({})).await;
    server.issue(1, json!({})).await;
    server.counter(&server.agent, 0, "open", None).await;
    server.counter(&server.admin, 1, "open", None).await;
    server.counter(&server.agent, 0, "call-next", None).await;
    let seen = flaky.until("ticket_called", 1).await;
    let last = seen.last().unwrap().0;
    drop(flaky);

    // Called in the same second while the screen is away.
    let called = server.counter(&server.admin, 1, "call-next", None).await;
    let display_number = called["ticket"]["display"].as_str().unwrap().to_owned();

    // It comes back, to another instance, with its last id: the call it missed, announced
    // when the steady screen announces it, after the first.
    let second = server.second_instance().await;
    let mut back = Sse::open(&second, &path, &display, Some(last)).await;
    let (position, _, missed) = back.next().await;
    assert!(position > last);
    assert_eq!(missed["event"]["type"], "ticket_called");
    assert_eq!(missed["event"]["display"], display_number.as_str());
    assert_eq!(missed["event"]["counter_number"], 2);
    let steady_calls: Vec<Message> = steady
        .until("ticket_called", 2)
        .await
        .into_iter()
        .filter(|m| m.2["event"]["type"] == "ticket_called")
        .collect();
    assert_eq!(steady_calls[1].0, position);
    assert_eq!(
        missed["announcement"], steady_calls[1].2["announcement"],
        "the same announcement at the same time"
    );
    assert_eq!(
        missed["announcement"]["starts_at"],
        steady_calls[0].2["announcement"]["ends_at"]
    );
    assert!(
        missed["announcement"]["text"]
            .as_str()
            .unwrap()
            .contains(&display_number)
    );

    // And goes on live from there.
    server.counter(&server.agent, 0, "start", None).await;
    let (next, _, started) = back.next().await;
    assert!(next > position);
    assert_eq!(started["event"]["type"], "service_started");
    assert!(started.get("announcement").is_none());
}

// ---- Branch information -------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn branch_information_counts_holidays_waits_and_news() {
    let mut server = Server::start().await;
    let b = server.branch();
    let tz = server.config.branch.time_zone;
    let today = server.clock.now().with_timezone(&tz).date_naive();
    let holiday = today.checked_add_days(Days::new(2)).unwrap();
    let far = today.checked_add_days(Days::new(90)).unwrap();

    // Open every day 09:00–17:00; a holiday in two days and one in three months.
    let mut branch = serde_json::to_value(&server.config.branch).unwrap();
    branch["opening_hours"] = json!(
        ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
            .iter()
            .map(|d| json!({ "day": d, "open": "09:00:00", "close": "17:00:00" }))
            .collect::<Vec<_>>()
    );
    let admin = Some(server.admin.clone());
    server
        .ok(
            StatusCode::OK,
            Method::PUT,
            &format!("/api/v1/branches/{b}"),
            admin.as_deref(),
            Some(branch),
        )
        .await;
    let info_path = format!("/api/v1/branches/{b}/info");
    let info = json!({
        "address": { "en": "1 Main Street", "fa": "خیابان اصلی ۱" },
        "location": { "lat": 52.52, "lon": 13.405 },
        "phone": "+49301234567",
        "holidays": [
            { "date": holiday, "name": { "en": "Founders' Day", "fa": "روز بنیان‌گذاران" } },
            { "date": far, "name": { "en": "Later" } },
        ],
    });
    let stored = server
        .ok(
            StatusCode::OK,
            Method::PUT,
            &info_path,
            Some(&server.manager),
            Some(info),
        )
        .await;
    assert_eq!(stored["branch"], b.to_string());

    // On the holiday at 10:00 it is closed, and opens the next morning.
    server.travel_to(berlin(holiday, 10, 0)).await;
    let admin = server.admin.clone();
    // Staff issue even when the branch is closed.
    for service in [0, 0, 1] {
        server
            .ok(
                StatusCode::CREATED,
                Method::POST,
                &format!("/api/v1/branches/{b}/tickets"),
                Some(&admin),
                Some(json!({ "service": service_id(service) })),
            )
            .await;
    }
    let screen = create_screen(&server, &create_layout(&server).await).await;
    for (news, expected) in [
        (
            json!({ "title": { "en": "New opening hours", "fa": "ساعات کاری جدید" },
                    "targets": { "type": "branches", "ids": [b] }, "priority": "high" }),
            StatusCode::CREATED,
        ),
        (
            json!({ "title": { "en": "Welcome" }, "targets": { "type": "all" } }),
            StatusCode::CREATED,
        ),
        (
            json!({ "title": { "en": "For the hall screen only" },
                    "targets": { "type": "screens", "ids": [screen] } }),
            StatusCode::CREATED,
        ),
        // News for nobody is refused.
        (
            json!({ "title": { "en": "Nowhere" }, "targets": { "type": "branches", "ids": [] } }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        server
            .ok(
                expected,
                Method::POST,
                "/api/v1/news",
                Some(&admin),
                Some(news),
            )
            .await;
    }
    let info = server
        .ok(StatusCode::OK, Method::GET, &info_path, None, None)
        .await;
    assert_eq!(info["name"], "Test branch");
    assert_eq!(info["language"], "en");
    assert_eq!(info["time_zone"], "Europe/Berlin");
    assert_eq!(info["address"], "1 Main Street");
    assert_eq!(info["location"], json!({ "lat": 52.52, "lon": 13.405 }));
    assert_eq!(info["phone"], "+49301234567");
    assert_eq!(info["opening_hours"].as_array().unwrap().len(), 7);
    assert_eq!(info["open_now"], false, "{info}");
    let next_day = holiday.succ_opt().unwrap();
    assert_eq!(instant(&info["next_opening"]), berlin(next_day, 9, 0));
    assert_eq!(instant(&info["next_closing"]), server.clock.now());
    assert_eq!(
        info["holidays"],
        json!([{ "date": holiday, "name": "Founders' Day" }]),
        "the next 60 days only"
    );
    let waiting: Vec<(String, u64)> = info["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["prefix"].as_str().unwrap().to_owned(),
                s["waiting"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(waiting, [("A".to_owned(), 2), ("B".to_owned(), 1)]);
    assert_eq!(info["services"][0]["id"], service_id(0).to_string());
    let titles: Vec<&str> = info["news"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        ["New opening hours", "Welcome"],
        "the branch's and everyone's, not a screen's"
    );
    let info = server
        .ok(
            StatusCode::OK,
            Method::GET,
            &format!("{info_path}?language=fa"),
            None,
            None,
        )
        .await;
    assert_eq!(info["language"], "fa");
    assert_eq!(info["address"], "خیابان اصلی ۱");
    assert_eq!(info["holidays"][0]["name"], "روز بنیان‌گذاران");
    assert_eq!(info["news"][0]["title"], "ساعات کاری جدید");
    assert_eq!(info["news"][1]["title"], "Welcome", "no Persian: English");
    let (status, answer) = server
        .call(
            Method::GET,
            &format!("{info_path}?language=<x>"),
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");

    // The next day at 10:00 it is open until 17:00.
    server.travel_to(berlin(next_day, 10, 0)).await;
    let info = server
        .ok(StatusCode::OK, Method::GET, &info_path, None, None)
        .await;
    assert_eq!(info["open_now"], true);
    assert_eq!(instant(&info["next_opening"]), server.clock.now());
    assert_eq!(instant(&info["next_closing"]), berlin(next_day, 17, 0));
    assert_eq!(info["holidays"], json!([]));
}

/// Creates a branch of the test organization through the API, with one service (prefix
/// `A`) and one counter serving it; returns the service's id.
async fn add_branch(server: &Server, id: BranchId, name: &str, n: u128) -> String {
    let admin = Some(server.admin.as_str());
    let mut branch = serde_json::to_value(&server.config.branch).unwrap();
    branch["id"] = json!(id);
    branch["name"] = json!({ "en": name });
    server
        .ok(
            StatusCode::OK,
            Method::PUT,
            &format!("/api/v1/branches/{id}"),
            admin,
            Some(branch),
        )
        .await;
    let service_id = cem_core::ServiceId::from_u128(0x5E00 + n);
    let mut service = serde_json::to_value(&server.config.services[0]).unwrap();
    service["id"] = json!(service_id);
    server
        .ok(
            StatusCode::OK,
            Method::PUT,
            &format!("/api/v1/branches/{id}/services/{service_id}"),
            admin,
            Some(service),
        )
        .await;
    let counter_id = cem_core::CounterId::from_u128(0xC0E0 + n);
    let mut counter = serde_json::to_value(&server.config.counters[0]).unwrap();
    counter["id"] = json!(counter_id);
    counter["profile"]["services"] = json!([{ "service": service_id, "rank": 1, "weight": 1 }]);
    server
        .ok(
            StatusCode::OK,
            Method::PUT,
            &format!("/api/v1/branches/{id}/counters/{counter_id}"),
            admin,
            Some(counter),
        )
        .await;
    server
        .ok(
            StatusCode::OK,
            Method::POST,
            &format!("/api/v1/branches/{id}/counters/{counter_id}/open"),
            admin,
            None,
        )
        .await;
    service_id.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_best_branch_weighs_the_way_there_and_the_wait() {
    let server = Server::start().await;
    let b = server.branch();
    let admin = Some(server.admin.as_str());
    let (north, nowhere) = (BranchId::from_u128(0xB0B1), BranchId::from_u128(0xB0B2));
    add_branch(&server, north, "North", 1).await;
    add_branch(&server, nowhere, "Nowhere", 2).await;
    let server = &server;
    let place = |branch: BranchId, location: Value| {
        let path = format!("/api/v1/branches/{branch}/info");
        async move {
            server
                .ok(
                    StatusCode::OK,
                    Method::PUT,
                    &path,
                    admin,
                    Some(json!({ "location": location, "address": { "en": "x" } })),
                )
                .await
        }
    };
    // The customer stands 340 m from the test branch and 1.36 km from North; Nowhere has
    // an address but no location.
    place(b, json!({ "lat": 52.52, "lon": 13.405 })).await;
    place(north, json!({ "lat": 52.52, "lon": 13.42 })).await;
    place(nowhere, Value::Null).await;
    // Six people wait at the test branch, where one counter serves.
    server.counter(&server.agent, 0, "open", None).await;
    for _ in 0..6 {
        server.issue(0, json!({})).await;
    }
    let organization = server.organization();
    let best = |query: String| async move {
        server
            .ok(
                StatusCode::OK,
                Method::GET,
                &format!("/api/v1/organizations/{organization}/branches/best?{query}"),
                None,
                None,
            )
            .await
    };
    let ranked = best("lat=52.52&lon=13.40&service=A".into()).await;
    let ids: Vec<&str> = ranked
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["branch"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [north.to_string(), b.to_string()],
        "the queue outweighs the walk; no location, no rank: {ranked}"
    );
    assert_eq!(ranked[0]["name"], "North");
    for r in ranked.as_array().unwrap() {
        let (distance, travel, total) = (
            r["distance_m"].as_f64().unwrap(),
            r["travel_secs"].as_f64().unwrap(),
            r["total_secs"].as_f64().unwrap(),
        );
        let wait = r["wait_secs"].as_f64().unwrap();
        assert!((travel - distance / 1.4).abs() < 1e-6, "{r}");
        assert!((total - travel - wait).abs() < 1e-6, "{r}");
    }
    assert!((ranked[1]["distance_m"].as_f64().unwrap() - 339.0).abs() < 5.0);
    assert!((ranked[0]["distance_m"].as_f64().unwrap() - 1357.0).abs() < 10.0);
    assert_eq!(ranked[0]["wait_secs"], 0.0);
    assert!(
        ranked[1]["wait_secs"].as_f64().unwrap() > 1000.0,
        "{ranked}"
    );

    // Crawling, the way there counts more than the wait.
    let slow = best("lat=52.52&lon=13.40&service=A&speed=0.05".into()).await;
    assert_eq!(slow[0]["branch"], b.to_string(), "{slow}");
    // A service named by id is that branch's alone; without a service every branch ranks.
    let one = best(format!("lat=52.52&lon=13.40&service={}", service_id(0))).await;
    assert_eq!(one.as_array().unwrap().len(), 1);
    assert_eq!(one[0]["branch"], b.to_string());
    let all = best("lat=52.52&lon=13.40".into()).await;
    assert_eq!(all.as_array().unwrap().len(), 2);
    let none = best("lat=52.52&lon=13.40&service=Z".into()).await;
    assert_eq!(none, json!([]));

    // Nonsense is refused; an unknown organization is not found.
    for query in [
        "lat=100&lon=13",
        "lat=52&lon=13&speed=0",
        "lat=52",
        "lat=x&lon=1",
    ] {
        let (status, answer) = server
            .call(
                Method::GET,
                &format!("/api/v1/organizations/{organization}/branches/best?{query}"),
                None,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {answer}");
    }
    for unknown in ["00000000-0000-0000-0000-00000000dead", "not-an-id"] {
        let (status, answer) = server
            .call(
                Method::GET,
                &format!("/api/v1/organizations/{unknown}/branches/best?lat=1&lon=1"),
                None,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
        assert_eq!(answer["code"], "organization_not_found");
    }
}

// ---- Validation and reach -----------------------------------------------------------------

/// Sends `body` as the administrator and expects 422 with `code`; the problem document.
async fn refused(server: &Server, method: Method, path: &str, body: Value, code: &str) -> Value {
    let (status, answer) = server
        .call(method, path, Some(&server.admin), Some(body))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {answer}");
    assert_eq!(answer["code"], code, "{path}: {answer}");
    answer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_signage_records_are_refused_and_nothing_is_stored() {
    let server = Server::start().await;
    let b = server.branch();
    let admin = Some(server.admin.as_str());
    // Layouts.
    let mut outside = layout_request();
    outside["zones"][0]["area"] = json!({ "x": 60, "y": 0, "w": 50, "h": 10 });
    let answer = refused(
        &server,
        Method::POST,
        "/api/v1/layouts",
        outside,
        "invalid_layout",
    )
    .await;
    assert!(
        answer["detail"]
            .as_str()
            .unwrap()
            .contains("zones.board.area")
    );
    let mut twice = layout_request();
    twice["zones"][1]["key"] = json!("board");
    refused(
        &server,
        Method::POST,
        "/api/v1/layouts",
        twice,
        "invalid_layout",
    )
    .await;
    refused(
        &server,
        Method::POST,
        "/api/v1/layouts",
        json!({}),
        "invalid_layout",
    )
    .await;
    let layouts = server
        .ok(StatusCode::OK, Method::GET, "/api/v1/layouts", admin, None)
        .await;
    assert_eq!(layouts, json!([]));

    // Playlists.
    let playlist =
        |item: Value, targets: Value| json!({ "name": "P", "items": [item], "targets": targets });
    let image = |secs: u32, url: &str| json!({ "key": "a", "content": { "type": "image", "url": url }, "duration_secs": secs });
    let all = json!({ "type": "all" });
    for body in [
        playlist(image(0, "https://x.example/a.jpg"), all.clone()),
        playlist(image(5, "javascript:alert(1)"), all.clone()),
        playlist(
            image(5, "https://x.example/a.jpg"),
            json!({ "type": "branches", "ids": [server.other_branch] }),
        ),
        playlist(
            image(5, "https://x.example/a.jpg"),
            json!({ "type": "screens", "ids": ["00000000-0000-0000-0000-00000000dead"] }),
        ),
    ] {
        refused(
            &server,
            Method::POST,
            "/api/v1/playlists",
            body,
            "invalid_playlist",
        )
        .await;
    }
    let playlists = server
        .ok(
            StatusCode::OK,
            Method::GET,
            "/api/v1/playlists",
            admin,
            None,
        )
        .await;
    assert_eq!(playlists, json!([]));

    // News.
    let from = server.clock.now();
    for body in [
        json!({ "title": {}, "targets": { "type": "all" } }),
        json!({ "title": { "en": "x" }, "targets": { "type": "all" },
                "publish_from": from, "publish_until": from - TimeDelta::hours(1) }),
        json!({ "title": { "en": "x" }, "targets": { "type": "branches", "ids": [server.other_branch] } }),
        json!({ "title": { "en": "x" }, "targets": { "type": "all" }, "priority": "shouting" }),
    ] {
        refused(&server, Method::POST, "/api/v1/news", body, "invalid_news").await;
    }
    let news = server
        .ok(StatusCode::OK, Method::GET, "/api/v1/news", admin, None)
        .await;
    assert_eq!(news, json!([]));

    // Branch information.
    let info_path = format!("/api/v1/branches/{b}/info");
    for body in [
        json!({ "location": { "lat": 100.0, "lon": 0.0 } }),
        json!({ "phone": "  " }),
        json!({ "holidays": [{ "date": "2026-12-24" }, { "date": "2026-12-24" }] }),
        json!({ "holidays": [{ "date": "someday" }] }),
    ] {
        refused(
            &server,
            Method::PUT,
            &info_path,
            body,
            "invalid_branch_info",
        )
        .await;
    }
    let info = server
        .ok(StatusCode::OK, Method::GET, &info_path, None, None)
        .await;
    assert_eq!(info["location"], Value::Null);
    assert_eq!(info["holidays"], json!([]));

    // Screens: a layout that exists, a display device of the branch, a language tag.
    let screens = format!("/api/v1/branches/{b}/screens");
    let screens = screens.as_str();
    let layout = create_layout(&server).await;
    let (_, kiosk_device) = server.device("kiosk").await;
    let screen = |layout: &str, device: &str, language: &str| json!({ "name": "Hall", "language": language, "layout": layout, "device": device });
    let missing = "00000000-0000-0000-0000-00000000dead";
    let display = server.display_device.clone();
    refused(
        &server,
        Method::POST,
        screens,
        screen(missing, &display, "fa"),
        "unknown_layout",
    )
    .await;
    refused(
        &server,
        Method::POST,
        screens,
        screen(&layout, &kiosk_device, "fa"),
        "invalid_device",
    )
    .await;
    refused(
        &server,
        Method::POST,
        screens,
        screen(&layout, missing, "fa"),
        "invalid_device",
    )
    .await;
    refused(
        &server,
        Method::POST,
        screens,
        screen(&layout, &display, "Persian!"),
        "invalid_screen",
    )
    .await;
    let listed = server
        .ok(StatusCode::OK, Method::GET, screens, admin, None)
        .await;
    assert_eq!(listed, json!([]));

    // A device is one screen's; a layout in use stays.
    let first = server
        .ok(
            StatusCode::CREATED,
            Method::POST,
            screens,
            admin,
            Some(screen(&layout, &display, "fa")),
        )
        .await;
    let (status, answer) = server
        .call(
            Method::POST,
            screens,
            admin,
            Some(screen(&layout, &display, "en")),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert_eq!(answer["code"], "device_taken");
    let (status, answer) = server
        .call(
            Method::DELETE,
            &format!("/api/v1/layouts/{layout}"),
            admin,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert_eq!(answer["code"], "layout_in_use");
    server
        .ok(
            StatusCode::OK,
            Method::GET,
            &format!("/api/v1/layouts/{layout}"),
            admin,
            None,
        )
        .await;
    // Without its screen the layout goes.
    let id = first["id"].as_str().unwrap();
    server
        .ok(
            StatusCode::NO_CONTENT,
            Method::DELETE,
            &format!("{screens}/{id}"),
            admin,
            None,
        )
        .await;
    server
        .ok(
            StatusCode::NO_CONTENT,
            Method::DELETE,
            &format!("/api/v1/layouts/{layout}"),
            admin,
            None,
        )
        .await;
    // A display that is no screen is told so.
    let (status, answer) = server
        .call(
            Method::GET,
            "/api/v1/screens/me",
            Some(&server.display),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(answer["code"], "no_screen");

    // Every change is in the audit log.
    let audit = server
        .ok(StatusCode::OK, Method::GET, "/api/v1/audit", admin, None)
        .await;
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    for action in [
        "layout.create",
        "screen.create",
        "screen.delete",
        "layout.delete",
    ] {
        assert!(actions.contains(&action), "{action}: {actions:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn managers_devices_and_other_organizations_reach_only_their_own() {
    let server = Server::start().await;
    let b = server.branch();
    let admin = Some(server.admin.as_str());
    let manager = Some(server.manager.as_str());
    let other = Some(server.other_admin.as_str());
    let elsewhere = BranchId::from_u128(0xE15E);
    add_branch(&server, elsewhere, "Elsewhere", 3).await;
    let layout = create_layout(&server).await;
    let body = json!({ "name": "Hall", "language": "en", "layout": layout });

    // A manager keeps the screens of their own branch only.
    let ours = server
        .ok(
            StatusCode::CREATED,
            Method::POST,
            &format!("/api/v1/branches/{b}/screens"),
            manager,
            Some(body.clone()),
        )
        .await;
    let theirs = server
        .ok(
            StatusCode::CREATED,
            Method::POST,
            &format!("/api/v1/branches/{elsewhere}/screens"),
            admin,
            Some(body.clone()),
        )
        .await;
    let theirs_path = format!(
        "/api/v1/branches/{elsewhere}/screens/{}",
        theirs["id"].as_str().unwrap()
    );
    for (method, path) in [
        (Method::GET, format!("/api/v1/branches/{elsewhere}/screens")),
        (
            Method::POST,
            format!("/api/v1/branches/{elsewhere}/screens"),
        ),
        (Method::GET, theirs_path.clone()),
        (Method::PUT, theirs_path.clone()),
        (Method::DELETE, theirs_path.clone()),
        (Method::GET, format!("{theirs_path}/content")),
    ] {
        let (status, answer) = server
            .call(method.clone(), &path, manager, Some(body.clone()))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {answer}");
    }
    // A screen is not found under another branch's path.
    let (status, answer) = server
        .call(
            Method::GET,
            &format!(
                "/api/v1/branches/{b}/screens/{}",
                theirs["id"].as_str().unwrap()
            ),
            admin,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(answer["code"], "screen_not_found");

    // A display reads only the screen it is; it manages nothing.
    let ours_path = format!(
        "/api/v1/branches/{b}/screens/{}",
        ours["id"].as_str().unwrap()
    );
    let display = Some(server.display.as_str());
    for suffix in ["/content", "/manifest", "/events"] {
        let (status, answer) = server
            .call(Method::GET, &format!("{ours_path}{suffix}"), display, None)
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{suffix}: {answer}");
    }
    let (status, _) = server.call(Method::GET, &ours_path, display, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // A manager previews their screen.
    let (status, preview) = server
        .call(Method::GET, &format!("{ours_path}/content"), manager, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{preview}");

    // A manager writes news for their branch (or its screens) only.
    let news = |targets: Value| json!({ "title": { "en": "Hi" }, "targets": targets });
    for targets in [
        json!({ "type": "all" }),
        json!({ "type": "branches", "ids": [b, elsewhere] }),
        json!({ "type": "screens", "ids": [theirs["id"]] }),
    ] {
        let (status, answer) = server
            .call(
                Method::POST,
                "/api/v1/news",
                manager,
                Some(news(targets.clone())),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{targets}: {answer}");
    }
    let mine = server
        .ok(
            StatusCode::CREATED,
            Method::POST,
            "/api/v1/news",
            manager,
            Some(news(json!({ "type": "screens", "ids": [ours["id"]] }))),
        )
        .await;
    let mine_path = format!("/api/v1/news/{}", mine["id"].as_str().unwrap());
    server
        .ok(
            StatusCode::OK,
            Method::PUT,
            &mine_path,
            manager,
            Some(news(json!({ "type": "branches", "ids": [b] }))),
        )
        .await;
    let everyone = server
        .ok(
            StatusCode::CREATED,
            Method::POST,
            "/api/v1/news",
            admin,
            Some(news(json!({ "type": "all" }))),
        )
        .await;
    let everyone_path = format!("/api/v1/news/{}", everyone["id"].as_str().unwrap());
    let (status, _) = server
        .call(
            Method::PUT,
            &everyone_path,
            manager,
            Some(news(json!({ "type": "branches", "ids": [b] }))),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = server
        .call(Method::DELETE, &everyone_path, manager, None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    server
        .ok(StatusCode::OK, Method::GET, &everyone_path, manager, None)
        .await;
    server
        .ok(
            StatusCode::NO_CONTENT,
            Method::DELETE,
            &mine_path,
            manager,
            None,
        )
        .await;
    // Layouts and playlists are the administrators'.
    let (status, _) = server
        .call(
            Method::POST,
            "/api/v1/layouts",
            manager,
            Some(layout_request()),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    server
        .ok(
            StatusCode::OK,
            Method::GET,
            &format!("/api/v1/layouts/{layout}"),
            manager,
            None,
        )
        .await;

    // Another organization's administrator finds none of it.
    let playlist = server
        .ok(
            StatusCode::CREATED,
            Method::POST,
            "/api/v1/playlists",
            admin,
            Some(json!({ "name": "P", "items": [], "targets": { "type": "all" } })),
        )
        .await;
    let playlist_path = format!("/api/v1/playlists/{}", playlist["id"].as_str().unwrap());
    for (method, path, code) in [
        (
            Method::GET,
            format!("/api/v1/layouts/{layout}"),
            "layout_not_found",
        ),
        (
            Method::PUT,
            format!("/api/v1/layouts/{layout}"),
            "layout_not_found",
        ),
        (
            Method::DELETE,
            format!("/api/v1/layouts/{layout}"),
            "layout_not_found",
        ),
        (Method::GET, playlist_path.clone(), "playlist_not_found"),
        (Method::DELETE, playlist_path.clone(), "playlist_not_found"),
        (Method::GET, everyone_path.clone(), "news_not_found"),
        (Method::DELETE, everyone_path.clone(), "news_not_found"),
        (Method::GET, ours_path.clone(), "branch_not_found"),
        (
            Method::GET,
            format!("{ours_path}/content"),
            "branch_not_found",
        ),
        (
            Method::PUT,
            format!("/api/v1/branches/{b}/info"),
            "branch_not_found",
        ),
    ] {
        let body = (method == Method::PUT).then(layout_request);
        let (status, answer) = server.call(method.clone(), &path, other, body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {answer}");
        assert_eq!(answer["code"], code, "{method} {path}");
    }
    for list in ["/api/v1/layouts", "/api/v1/playlists", "/api/v1/news"] {
        let listed = server
            .ok(StatusCode::OK, Method::GET, list, other, None)
            .await;
        assert_eq!(listed, json!([]), "{list}");
    }
    // Nor may they name our branches in their own records.
    let (status, answer) = server
        .call(
            Method::POST,
            "/api/v1/news",
            other,
            Some(news(json!({ "type": "branches", "ids": [b] }))),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["code"], "invalid_news");
    // But what the public may read, they may too.
    server
        .ok(
            StatusCode::OK,
            Method::GET,
            &format!("/api/v1/branches/{b}/info"),
            None,
            None,
        )
        .await;
}
