//! Messages survive a server killed with SIGKILL.
//!
//! The real `cem` binary runs as a child process on a SQLite file. Its SMS gateway and a
//! webhook subscription point at a receiver in this test, which refuses the first attempt of
//! every third message (503) and holds each request it accepts for a moment, so that a kill
//! finds some in flight. Tickets with phone numbers are issued and called; halfway through,
//! while the courier has requests in flight, the server is killed with SIGKILL, and a new one
//! on the same file does the second half of the work.
//!
//! The receiver is idempotent: it takes a message the first time its `Idempotency-Key` arrives
//! and recognises every repeat. What it took must be exactly the messages the events cause,
//! each once: at-least-once delivery and idempotency keys make an exactly-once effect.
//! Repeats (the kill's at-least-once effect) are counted and printed, not failed on.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::{Value, json};

/// Tickets issued, half before the kill and half after.
const TICKETS: usize = 40;
/// A call (call-next, start, finish) follows every second ticket issued.
const CALL_EVERY: usize = 2;
const ADMIN_LOGIN: &str = "admin";
const ADMIN_PASSWORD: &str = "survives kill -9";
/// Signs the requests to the SMS gateway.
const NOTIFY_SECRET: &str = "gateway secret";
/// How long the receiver holds a request it accepted before answering.
const HOLD: Duration = Duration::from_millis(300);
/// How long the messages may take after the second half of the work: a message claimed
/// when the server died waits for its 60 s lease, a refused one about 10 s.
const DEADLINE: Duration = Duration::from_secs(180);

const BRANCH: &str = "00000000-0000-0000-0000-0000000000b1";
const SERVICE: &str = "00000000-0000-0000-0000-0000000000b2";
const CLASS: &str = "00000000-0000-0000-0000-0000000000b3";
const COUNTERS: [&str; 2] = [
    "00000000-0000-0000-0000-0000000000c1",
    "00000000-0000-0000-0000-0000000000c2",
];

// ---------------------------------------------------------------------------------------------
// The receiver: an SMS gateway and an integration, idempotent and unreliable on purpose.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Route {
    Sms,
    Hook,
}

/// A message as the receiver understood it: where it arrived, its kind, and whom it concerns
/// (the phone number of an SMS, the ticket of a webhook's event).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Taken {
    route: Route,
    kind: String,
    subject: String,
}

impl Taken {
    fn new(route: Route, kind: &str, subject: &str) -> Self {
        Self {
            route,
            kind: kind.to_owned(),
            subject: subject.to_owned(),
        }
    }
}

#[derive(Debug, Default)]
struct Ledger {
    /// What each key was taken as, the first time it was accepted: the receiver's effects.
    taken: HashMap<String, Taken>,
    /// Requests accepted per key; more than one is a message delivered again.
    accepted: HashMap<String, u32>,
    /// Keys seen, refused or not: every third new one is refused once.
    seen: HashSet<String>,
    requests: u32,
    refused: u32,
    /// Anything that should never arrive: no key, a bad signature, a repeat that differs.
    faults: Vec<String>,
}

/// Decrements the count of requests held when the request ends, answered or dropped.
struct Held(Arc<AtomicUsize>);

impl Drop for Held {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[derive(Debug, Clone, Default)]
struct Receiver {
    ledger: Arc<Mutex<Ledger>>,
    /// Accepted requests not yet answered.
    held: Arc<AtomicUsize>,
    /// The webhook subscription's secret, once it is made.
    hook_secret: Arc<Mutex<Option<String>>>,
}

impl Receiver {
    /// Serves `/sms` and `/hook` on 127.0.0.1; returns the base URL.
    async fn start(&self) -> String {
        let sms = {
            let r = self.clone();
            move |headers: HeaderMap, body: Bytes| r.clone().receive(Route::Sms, headers, body)
        };
        let hook = {
            let r = self.clone();
            move |headers: HeaderMap, body: Bytes| r.clone().receive(Route::Hook, headers, body)
        };
        let app = Router::new()
            .route("/sms", post(sms))
            .route("/hook", post(hook));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        base
    }

    async fn receive(self, route: Route, headers: HeaderMap, body: Bytes) -> StatusCode {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        let key = header("idempotency-key");
        let kind = header("x-cem-message-kind");
        let secret = match route {
            Route::Sms => Some(NOTIFY_SECRET.to_owned()),
            Route::Hook => self.hook_secret.lock().unwrap().clone(),
        };
        let now = i64::try_from(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_secs(),
        )
        .unwrap();
        let signed = secret.is_some_and(|secret| {
            cem_notify_http::verify_signature(
                secret.as_bytes(),
                &header("x-cem-timestamp"),
                &header("x-cem-signature"),
                &body,
                now,
                300,
            )
        });
        let document: Value = serde_json::from_slice(&body).unwrap_or_default();
        let subject = match route {
            Route::Sms => document["to"].as_str(),
            Route::Hook => document["body"]["data"]["ticket"].as_str(),
        }
        .unwrap_or_default()
        .to_owned();
        let taken = Taken::new(route, &kind, &subject);
        {
            let mut guard = self.ledger.lock().unwrap();
            let ledger = &mut *guard;
            ledger.requests += 1;
            let fault = if key.is_empty() || kind.is_empty() || subject.is_empty() {
                Some("no key, kind or subject")
            } else if !signed {
                Some("bad signature")
            } else if document["id"].as_str() != Some(key.as_str()) {
                Some("the document's id is not the idempotency key")
            } else if route == Route::Hook && document["body"]["type"].as_str() != Some(&kind) {
                Some("the event's type is not the message's kind")
            } else {
                None
            };
            if let Some(fault) = fault {
                ledger
                    .faults
                    .push(format!("{fault}: {route:?} {key:?} {kind:?} {document}"));
                // Taken, so that it is not sent again; the test fails on the fault.
                return StatusCode::OK;
            }
            if ledger.seen.insert(key.clone()) && ledger.seen.len().is_multiple_of(3) {
                ledger.refused += 1;
                return StatusCode::SERVICE_UNAVAILABLE;
            }
            *ledger.accepted.entry(key.clone()).or_default() += 1;
            let first = ledger.taken.entry(key.clone()).or_insert(taken.clone());
            if *first != taken {
                let fault = format!("key {key} came as {first:?}, then as {taken:?}");
                ledger.faults.push(fault);
            }
        }
        // Accepted and recorded; the answer comes a moment later, so a kill may find the
        // request in flight and the server not knowing it was delivered.
        self.held.fetch_add(1, Ordering::SeqCst);
        let _held = Held(Arc::clone(&self.held));
        tokio::time::sleep(HOLD).await;
        StatusCode::OK
    }
}

// ---------------------------------------------------------------------------------------------
// The server: the `cem` binary as a child process, killed when dropped.

/// A running `cem serve`; killed with SIGKILL when dropped, so a failing test leaves none.
#[derive(Debug)]
struct Server {
    child: Child,
    base: String,
}

impl Server {
    /// Starts `cem` on a free port over the database in `dir`, and waits until it is ready.
    async fn start(dir: &Path, receiver: &str, run: usize) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = std::fs::File::create(log_path(dir, run)).unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_cem"));
        for (name, _) in std::env::vars().filter(|(n, _)| n.starts_with("CEM_")) {
            command.env_remove(name);
        }
        let child = command
            .arg("serve")
            .current_dir(dir)
            .env("CEM_LISTEN", format!("127.0.0.1:{port}"))
            .env(
                "CEM_DATABASE_URL",
                format!("sqlite:{}", dir.join("cem.db").display()),
            )
            .env("CEM_DEMO", "false")
            .env("CEM_ADMIN_LOGIN", ADMIN_LOGIN)
            .env("CEM_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("CEM_SMS_GATEWAY_URL", format!("{receiver}/sms"))
            .env("CEM_NOTIFY_SECRET", NOTIFY_SECRET)
            .env("CEM_PUBLIC_URL", "https://queue.example.org")
            .env("CEM_LOG", "info")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut server = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let http = reqwest::Client::new();
        let started = Instant::now();
        loop {
            if let Some(status) = server.child.try_wait().unwrap() {
                panic!("cem exited with {status} before it was ready");
            }
            let ready = http.get(format!("{}/ready", server.base)).send().await;
            if ready.is_ok_and(|r| r.status() == StatusCode::OK) {
                return server;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "cem not ready after 60 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGKILL: no shutdown, no request finished, no transaction completed.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

fn log_path(dir: &Path, run: usize) -> PathBuf {
    dir.join(format!("cem-{run}.log"))
}

/// Prints the servers' logs when the test fails, before the directory goes.
struct Logs(PathBuf);

impl Drop for Logs {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        for run in 1..=2 {
            if let Ok(text) = std::fs::read_to_string(log_path(&self.0, run)) {
                let lines: Vec<&str> = text.lines().collect();
                let tail = &lines[lines.len().saturating_sub(60)..];
                eprintln!("--- cem run {run}, last lines ---\n{}", tail.join("\n"));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The API, as an administrator.

#[derive(Debug)]
struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    async fn sign_in(base: &str) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        let mut api = Self {
            http,
            base: base.to_owned(),
            token: String::new(),
        };
        let login = json!({ "login": ADMIN_LOGIN, "password": ADMIN_PASSWORD });
        let answer = api.call("POST", "/auth/login", Some(login)).await;
        api.token = answer["token"].as_str().unwrap().to_owned();
        api
    }

    /// Calls `/api/v1{path}`; panics unless the answer is a success.
    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/api/v1{path}", self.base);
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self.http.request(method.clone(), &url);
        if !self.token.is_empty() {
            request = request.bearer_auth(&self.token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer = request.send().await.unwrap();
        let status = answer.status();
        let text = answer.text().await.unwrap();
        assert!(status.is_success(), "{method} {path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }
}

/// What the work did: the tickets (id and phone) and the tickets called.
#[derive(Debug, Default)]
struct Work {
    tickets: Vec<(String, String)>,
    called: Vec<String>,
}

impl Work {
    /// Issues tickets `range` with their phone numbers, a call after every second.
    async fn run(&mut self, api: &Api, range: std::ops::Range<usize>) {
        for n in range {
            let phone = format!("+49301000{n:03}");
            let ticket = api
                .call(
                    "POST",
                    &format!("/branches/{BRANCH}/tickets"),
                    Some(json!({ "service": SERVICE, "contact": { "phone": phone } })),
                )
                .await;
            let id = ticket["id"].as_str().unwrap().to_owned();
            self.tickets.push((id, phone));
            if (n + 1).is_multiple_of(CALL_EVERY) {
                let counter = COUNTERS[self.called.len() % COUNTERS.len()];
                let at = format!("/branches/{BRANCH}/counters/{counter}");
                let state = api.call("POST", &format!("{at}/call-next"), None).await;
                let called = state["ticket"]["id"].as_str().unwrap().to_owned();
                self.called.push(called);
                api.call("POST", &format!("{at}/start"), None).await;
                api.call("POST", &format!("{at}/finish"), None).await;
            }
        }
    }

    /// The messages the events must cause, each exactly once: per ticket, the SMS and the
    /// webhook of its issue; per call, the SMS and the webhook of the call.
    fn required(&self) -> HashSet<Taken> {
        let phone: HashMap<&str, &str> = self
            .tickets
            .iter()
            .map(|(id, phone)| (id.as_str(), phone.as_str()))
            .collect();
        let mut required = HashSet::new();
        for (id, phone) in &self.tickets {
            required.insert(Taken::new(Route::Sms, "ticket_issued", phone));
            required.insert(Taken::new(Route::Hook, "ticket_issued", id));
        }
        for id in &self.called {
            required.insert(Taken::new(Route::Sms, "ticket_called", phone[id.as_str()]));
            required.insert(Taken::new(Route::Hook, "ticket_called", id));
        }
        required
    }

    /// Messages that may or may not exist: "your turn is near", at most once per ticket.
    fn allowed(&self, taken: &Taken) -> bool {
        taken.route == Route::Sms
            && taken.kind == "turn_near"
            && self
                .tickets
                .iter()
                .any(|(_, phone)| *phone == taken.subject)
    }
}

/// The branch, open around the clock, with one service, two open counters, and a class.
async fn set_up(api: &Api) {
    let class = json!({ "id": CLASS, "code": "normal", "name": { "en": "Normal" },
        "rank": 1, "weight": 1 });
    api.call("PUT", &format!("/classes/{CLASS}"), Some(class))
        .await;
    let me = api.call("GET", "/me", None).await;
    let branch = json!({ "id": BRANCH, "organization": me["organization"],
        "name": { "en": "Airport" }, "time_zone": "Asia/Dubai" });
    api.call("PUT", &format!("/branches/{BRANCH}"), Some(branch))
        .await;
    let service = json!({ "id": SERVICE, "prefix": "A", "name": { "en": "Check-in" },
        "expected_service_secs": 180, "target_wait_secs": 600 });
    api.call(
        "PUT",
        &format!("/branches/{BRANCH}/services/{SERVICE}"),
        Some(service),
    )
    .await;
    for (number, counter) in (1..).zip(COUNTERS) {
        let body = json!({ "id": counter, "number": number,
            "profile": { "services": [{ "service": SERVICE }] } });
        let at = format!("/branches/{BRANCH}/counters/{counter}");
        api.call("PUT", &at, Some(body)).await;
        api.call("POST", &format!("{at}/open"), None).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_survive_a_server_killed_with_sigkill() {
    let started = Instant::now();
    let receiver = Receiver::default();
    let receiver_url = receiver.start().await;
    let dir = tempfile::tempdir().unwrap();
    let _logs = Logs(dir.path().to_owned());

    // First life: set up, subscribe, the first half of the work.
    let mut server = Server::start(dir.path(), &receiver_url, 1).await;
    let api = Api::sign_in(&server.base).await;
    set_up(&api).await;
    let hook = json!({ "url": format!("{receiver_url}/hook"),
        "events": ["ticket_issued", "ticket_called"] });
    let subscription = api.call("POST", "/webhooks", Some(hook)).await;
    *receiver.hook_secret.lock().unwrap() =
        Some(subscription["secret"].as_str().unwrap().to_owned());
    let mut work = Work::default();
    work.run(&api, 0..TICKETS / 2).await;

    // SIGKILL while the receiver holds requests the server does not know were delivered
    // (or after 20 s, should none come).
    let waiting = Instant::now();
    while receiver.held.load(Ordering::SeqCst) == 0 && waiting.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let held_at_kill = receiver.held.load(Ordering::SeqCst);
    server.kill();
    let killed = Instant::now();
    let taken_before_kill: HashSet<String> = receiver
        .ledger
        .lock()
        .unwrap()
        .taken
        .keys()
        .cloned()
        .collect();

    // Second life on the same file: the second half of the work.
    let mut server = Server::start(dir.path(), &receiver_url, 2).await;
    let restart_secs = killed.elapsed().as_secs_f64();
    let api = Api::sign_in(&server.base).await;
    work.run(&api, TICKETS / 2..TICKETS).await;

    // Every required message arrives, and the outbox knows each taken one as delivered.
    let required = work.required();
    let waiting = Instant::now();
    let mut reported = Instant::now();
    loop {
        let (missing, keys) = {
            let ledger = receiver.ledger.lock().unwrap();
            assert!(ledger.faults.is_empty(), "faults: {:#?}", ledger.faults);
            let taken: HashSet<&Taken> = ledger.taken.values().collect();
            let missing = required.iter().filter(|t| !taken.contains(t)).count();
            (missing, ledger.taken.keys().cloned().collect::<Vec<_>>())
        };
        if missing == 0 {
            let mut undelivered = 0;
            for key in &keys {
                let entry = api.call("GET", &format!("/outbox/{key}"), None).await;
                undelivered += usize::from(entry["state"] != "delivered");
            }
            if undelivered == 0 {
                break;
            }
        }
        assert!(
            waiting.elapsed() < DEADLINE,
            "{missing} of {} required messages missing after {DEADLINE:?}: {:#?}",
            required.len(),
            receiver.ledger.lock().unwrap()
        );
        if reported.elapsed() > Duration::from_secs(10) {
            reported = Instant::now();
            println!(
                "  … {missing} required messages still missing after {:.0} s",
                waiting.elapsed().as_secs_f64()
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let delivered_secs = killed.elapsed().as_secs_f64();
    let dead = api.call("GET", "/outbox/dead", None).await;
    assert_eq!(dead, json!([]), "no message died");
    let keys: Vec<String> = receiver
        .ledger
        .lock()
        .unwrap()
        .taken
        .keys()
        .cloned()
        .collect();
    let mut attempts = 0;
    for key in &keys {
        let entry = api.call("GET", &format!("/outbox/{key}"), None).await;
        attempts += entry["attempts"].as_u64().unwrap();
    }
    server.kill();
    let ledger = receiver.ledger.lock().unwrap();

    // What the receiver took is exactly what the events cause, each once.
    let mut by_message: BTreeMap<&Taken, Vec<&str>> = BTreeMap::new();
    for (key, taken) in &ledger.taken {
        by_message.entry(taken).or_default().push(key);
    }
    let twice: Vec<_> = by_message
        .iter()
        .filter(|(_, keys)| keys.len() > 1)
        .collect();
    assert!(twice.is_empty(), "messages derived twice: {twice:#?}");
    let unexpected: Vec<&Taken> = by_message
        .keys()
        .copied()
        .filter(|t| !required.contains(t) && !work.allowed(t))
        .collect();
    assert!(
        unexpected.is_empty(),
        "messages that should not exist: {unexpected:#?}"
    );
    let count = |route: Route, kind: &str| {
        by_message
            .keys()
            .filter(|t| t.route == route && t.kind == kind)
            .count()
    };
    assert_eq!(count(Route::Sms, "ticket_issued"), TICKETS);
    assert_eq!(count(Route::Sms, "ticket_called"), work.called.len());
    assert_eq!(count(Route::Hook, "ticket_issued"), TICKETS);
    assert_eq!(count(Route::Hook, "ticket_called"), work.called.len());
    assert!(
        ledger.refused > 0,
        "the receiver refused nothing: no retry was tested"
    );

    // Repeats are the kill's doing: a message the dead server had sent but not recorded as
    // delivered. Any other is reported apart (the restarted server was not killed).
    let repeated: Vec<(&String, u32)> = ledger
        .accepted
        .iter()
        .filter(|&(_, &n)| n > 1)
        .map(|(key, &n)| (key, n))
        .collect();
    let repeated_later = repeated
        .iter()
        .filter(|(key, _)| !taken_before_kill.contains(*key))
        .count();
    println!(
        "messages survive a kill: {TICKETS} tickets, {calls} calls; {messages} messages taken \
         once ({required} required, {near} \"turn near\"); {requests} requests, {refused} \
         refused on purpose and retried, {outbox_attempts} attempts in the outbox; \
         {before_kill} messages taken before the SIGKILL with {held_at_kill} in flight; \
         {duplicates} delivered again after the kill ({extra} extra requests; \
         {repeated_later} of messages first taken after it), recognised by their key; \
         restarted {restart_secs:.1} s after the kill, all delivered \
         {delivered_secs:.1} s after it, {total:.1} s in all",
        calls = work.called.len(),
        messages = ledger.taken.len(),
        required = required.len(),
        near = count(Route::Sms, "turn_near"),
        requests = ledger.requests,
        refused = ledger.refused,
        outbox_attempts = attempts,
        before_kill = taken_before_kill.len(),
        duplicates = repeated.len(),
        extra = repeated.iter().map(|(_, n)| n - 1).sum::<u32>(),
        total = started.elapsed().as_secs_f64(),
    );
}
