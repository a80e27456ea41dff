//! What every browser test needs: the server, the driver, browsers, a branch open around the
//! clock with its staff, screenshots and waiting for the page.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

/// The password of every user the fixture creates.
pub(crate) const PASSWORD: &str = "browser-test-pass";
/// How long a page may take to show what a test waits for.
pub(crate) const PATIENCE: Duration = Duration::from_secs(20);

/// A running server and driver, with a branch open around the clock.
#[derive(Debug)]
pub(crate) struct Env {
    /// `http://127.0.0.1:<port>`.
    pub(crate) base: String,
    /// A plain HTTP client for the API.
    pub(crate) http: reqwest::Client,
    /// The demo administrator's token.
    pub(crate) admin: String,
    /// The branch the tests work in.
    pub(crate) fx: Fixture,
    name: String,
    driver_url: String,
    artifacts: PathBuf,
    server: Child,
    driver: Child,
    _dir: tempfile::TempDir,
}

/// A branch open every day around the clock (Asia/Tehran), its services, counters and staff.
#[derive(Debug, Clone)]
pub(crate) struct Fixture {
    /// The demo organization.
    pub(crate) organization: String,
    /// The branch.
    pub(crate) branch: String,
    /// Service `A` (walk-ins, "Cash") and `B` (takes appointments, "Advice").
    pub(crate) services: Vec<Service>,
    /// Counters 1 and 2, both serving A and B.
    pub(crate) counters: Vec<String>,
    /// The VIP class.
    pub(crate) vip_class: String,
    /// An agent at counter 1 (`agent-test`, password [`PASSWORD`], English).
    pub(crate) agent_login: String,
    /// The agent's record.
    pub(crate) agent: String,
    /// A second agent (`agent-test-fa`, Persian).
    pub(crate) agent_fa_login: String,
    /// The branch's manager (`manager-test`).
    pub(crate) manager_login: String,
}

/// A service of the fixture.
#[derive(Debug, Clone)]
pub(crate) struct Service {
    /// Id.
    pub(crate) id: String,
    /// Ticket prefix.
    pub(crate) prefix: String,
    /// English name.
    pub(crate) name: String,
}

/// Starts the server and the driver for the test `name`, or says why not and gives `None`.
pub(crate) async fn env(name: &str) -> Option<Env> {
    let Ok(driver_path) = std::env::var("CEM_TEST_CHROMEDRIVER") else {
        eprintln!(
            "skipping browser test `{name}`: set CEM_TEST_CHROMEDRIVER to chromedriver \
             (Debian: apt-get install chromium chromium-driver; CEM_TEST_CHROMEDRIVER=/usr/bin/chromedriver)"
        );
        return None;
    };
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let log = std::fs::File::create(dir.path().join("cem.log")).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_cem"));
    for (var, _) in std::env::vars().filter(|(n, _)| n.starts_with("CEM_")) {
        command.env_remove(var);
    }
    let server = command
        .arg("serve")
        .current_dir(dir.path())
        .env("CEM_LISTEN", format!("127.0.0.1:{port}"))
        .env(
            "CEM_DATABASE_URL",
            format!("sqlite:{}", dir.path().join("cem.db").display()),
        )
        .env("CEM_PUBLIC_URL", format!("http://127.0.0.1:{port}"))
        .env("CEM_PUBLIC_PER_MINUTE", "100000")
        .env("CEM_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let driver_port = free_port();
    let driver = Command::new(driver_path)
        .arg(format!("--port={driver_port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let artifacts = std::env::var_os("CEM_TEST_ARTIFACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser-screenshots"));
    std::fs::create_dir_all(&artifacts).unwrap();
    let mut env = Env {
        base: format!("http://127.0.0.1:{port}"),
        http: reqwest::Client::new(),
        admin: String::new(),
        fx: Fixture::empty(),
        name: name.to_owned(),
        driver_url: format!("http://127.0.0.1:{driver_port}"),
        artifacts,
        server,
        driver,
        _dir: dir,
    };
    env.wait_ready().await;
    env.admin = env.sign_in("admin", "demo").await;
    env.fx = env.make_fixture().await;
    Some(env)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.driver.kill();
        let _ = self.server.wait();
        let _ = self.driver.wait();
    }
}

impl Fixture {
    fn empty() -> Self {
        Self {
            organization: String::new(),
            branch: String::new(),
            services: Vec::new(),
            counters: Vec::new(),
            vip_class: String::new(),
            agent_login: String::new(),
            agent: String::new(),
            agent_fa_login: String::new(),
            manager_login: String::new(),
        }
    }
}

impl Env {
    async fn wait_ready(&mut self) {
        let started = Instant::now();
        loop {
            if let Some(status) = self.server.try_wait().unwrap() {
                panic!("cem exited with {status} before it was ready");
            }
            let ready = self.http.get(format!("{}/ready", self.base)).send().await;
            if ready.is_ok_and(|r| r.status() == StatusCode::OK) {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "cem not ready after 120 s"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Calls the API; the answer's status and JSON (`null` for none).
    pub(crate) async fn api(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Calls the API and expects a success; the JSON answer.
    pub(crate) async fn ok(&self, method: Method, path: &str, token: &str, body: Value) -> Value {
        let body = if body.is_null() { None } else { Some(body) };
        let (status, answer) = self.api(method.clone(), path, Some(token), body).await;
        assert!(status.is_success(), "{method} {path}: {status} {answer}");
        answer
    }

    /// Signs in and gives the token.
    pub(crate) async fn sign_in(&self, login: &str, password: &str) -> String {
        let (status, answer) = self
            .api(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({ "login": login, "password": password })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "signing in as {login}: {answer}");
        answer["token"].as_str().unwrap().to_owned()
    }

    /// Registers a device (`kiosk` or `display`) at the fixture's branch; its token.
    pub(crate) async fn device(&self, kind: &str, language: &str) -> String {
        let answer = self
            .ok(
                Method::POST,
                &format!("/api/v1/branches/{}/devices", self.fx.branch),
                &self.admin,
                json!({ "kind": kind, "name": format!("Test {kind}"), "language": language }),
            )
            .await;
        answer["token"].as_str().unwrap().to_owned()
    }

    async fn make_fixture(&self) -> Fixture {
        let admin = self.admin.as_str();
        let org = self
            .ok(Method::GET, "/api/v1/organization", admin, Value::Null)
            .await;
        let classes = self
            .ok(Method::GET, "/api/v1/classes", admin, Value::Null)
            .await;
        let vip_class = classes
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["code"] == "vip")
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let branch = Uuid::new_v4().to_string();
        let days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
        self.ok(
            Method::PUT,
            &format!("/api/v1/branches/{branch}"),
            admin,
            json!({
                "id": branch,
                "organization": org["id"],
                "name": { "en": "Test branch", "fa": "شعبهٔ آزمایشی" },
                "time_zone": "Asia/Tehran",
                "opening_hours": days.iter().map(|d| json!({
                    "day": d, "open": "00:00:00", "close": "23:59:59"
                })).collect::<Vec<_>>(),
                "queue": {
                    "recall_limit": 2,
                    "appointment_early_secs": 3600,
                    "appointment_grace_secs": 600,
                    "service_time_alpha": 0.005,
                    "arrival_rate_alpha": 0.02,
                    "turn_near_ahead": 3,
                    "turn_near_wait_secs": 300
                }
            }),
        )
        .await;
        let mut services = Vec::new();
        for (prefix, en, fa, appointments) in [
            ("A", "Cash", "صندوق", false),
            ("B", "Advice", "مشاوره", true),
        ] {
            let id = Uuid::new_v4().to_string();
            self.ok(
                Method::PUT,
                &format!("/api/v1/branches/{branch}/services/{id}"),
                admin,
                json!({
                    "id": id,
                    "prefix": prefix,
                    "name": { "en": en, "fa": fa },
                    "expected_service_secs": 180,
                    "target_wait_secs": 600,
                    "max_wait_secs": 2400,
                    "daily_cap": null,
                    "takes_appointments": appointments
                }),
            )
            .await;
            services.push(Service {
                id,
                prefix: prefix.into(),
                name: en.into(),
            });
        }
        let mut counters = Vec::new();
        for number in 1..=2 {
            let id = Uuid::new_v4().to_string();
            self.ok(
                Method::PUT,
                &format!("/api/v1/branches/{branch}/counters/{id}"),
                admin,
                json!({
                    "id": id,
                    "number": number,
                    "name": null,
                    "profile": {
                        "services": services.iter().enumerate().map(|(i, s)| json!({
                            "service": s.id, "rank": i + 1, "weight": 1
                        })).collect::<Vec<_>>(),
                        "classes": null,
                        "policy": "strict"
                    }
                }),
            )
            .await;
            counters.push(id);
        }
        let agent = Uuid::new_v4().to_string();
        let agent_fa = Uuid::new_v4().to_string();
        for (id, name) in [(&agent, "Test Agent"), (&agent_fa, "کارمند آزمایشی")] {
            self.ok(
                Method::PUT,
                &format!("/api/v1/agents/{id}"),
                admin,
                json!({ "id": id, "organization": org["id"], "name": name, "branches": [branch] }),
            )
            .await;
        }
        for (login, role, agent, language) in [
            ("agent-test", "agent", Some(&agent), "en"),
            ("agent-test-fa", "agent", Some(&agent_fa), "fa"),
            ("manager-test", "branch_manager", None, "en"),
        ] {
            self.ok(
                Method::PUT,
                &format!("/api/v1/users/{}", Uuid::new_v4()),
                admin,
                json!({
                    "login": login,
                    "name": login,
                    "role": role,
                    "branches": [branch],
                    "agent": agent,
                    "language": language,
                    "password": PASSWORD,
                    "active": true
                }),
            )
            .await;
        }
        Fixture {
            organization: org["id"].as_str().unwrap().to_owned(),
            branch,
            services,
            counters,
            vip_class,
            agent_login: "agent-test".into(),
            agent,
            agent_fa_login: "agent-test-fa".into(),
            manager_login: "manager-test".into(),
        }
    }

    /// A new browser (its own profile: its own storage), `width`×`height`.
    pub(crate) async fn browser(&self, width: u32, height: u32) -> Client {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": std::env::var("CEM_TEST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    format!("--window-size={width},{height}"), "--lang=en-GB",
                    "--autoplay-policy=no-user-gesture-required"
                ]
            }),
        );
        let started = Instant::now();
        loop {
            // The driver is on this machine: plain HTTP, no TLS.
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(caps.clone())
                .connect(&self.driver_url)
                .await
            {
                Ok(client) => return client,
                Err(e) if started.elapsed() < Duration::from_secs(20) => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                Err(e) => panic!("no browser session: {e}"),
            }
        }
    }

    /// Opens `path` of the server in `client`.
    pub(crate) async fn open(&self, client: &Client, path: &str) {
        client.goto(&format!("{}{path}", self.base)).await.unwrap();
    }

    /// Keeps a screenshot of what `client` shows as `<test>-<label>.png`.
    pub(crate) async fn screenshot(&self, client: &Client, label: &str) {
        let png = client.screenshot().await.unwrap();
        let path = self.artifacts.join(format!("{}-{label}.png", self.name));
        std::fs::write(&path, png).unwrap();
    }

    /// Puts a token into the browser's storage under `key` (`cem.token`,
    /// `cem.device.kiosk`…) before a page reads it: opens the home page first.
    pub(crate) async fn store(&self, client: &Client, key: &str, value: &str) {
        self.open(client, "/assets/icon.svg").await;
        client
            .execute(
                "localStorage.setItem(arguments[0], arguments[1]);",
                vec![json!(key), json!(value)],
            )
            .await
            .unwrap();
    }
}

/// Waits until `css` matches an element; the element.
pub(crate) async fn wait_for(client: &Client, css: &str) -> Element {
    client
        .wait()
        .at_most(PATIENCE)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no `{css}` within {PATIENCE:?}: {e}"))
}

/// Waits until the text of the first element matching `css` satisfies `ok`; the text.
pub(crate) async fn wait_text(client: &Client, css: &str, ok: impl Fn(&str) -> bool) -> String {
    let started = Instant::now();
    let mut last = String::new();
    while started.elapsed() < PATIENCE {
        if let Ok(el) = client.find(Locator::Css(css)).await
            && let Ok(text) = el.text().await
        {
            if ok(&text) {
                return text;
            }
            last = text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("`{css}` never showed the text expected; last: {last:?}")
}

/// Runs `script` (a function body; `return` gives its value) in the page.
pub(crate) async fn js(client: &Client, script: &str) -> Value {
    client.execute(script, Vec::new()).await.unwrap()
}

/// Clicks the first element matching `css`, waiting for it; a page that draws the element
/// again between finding and clicking it (a stale element) is tried again.
pub(crate) async fn click(client: &Client, css: &str) {
    let started = Instant::now();
    loop {
        let clicked = match wait_for(client, css).await.click().await {
            Ok(()) => return,
            Err(e) => e,
        };
        assert!(
            started.elapsed() < PATIENCE,
            "cannot click `{css}`: {clicked}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Types `text` into the field matching `css`, after clearing it; tried again like
/// [`click`] when the page draws the field again meanwhile.
pub(crate) async fn fill(client: &Client, css: &str, text: &str) {
    let started = Instant::now();
    loop {
        let field = wait_for(client, css).await;
        let typed = match field.clear().await {
            Ok(()) => field.send_keys(text).await,
            Err(e) => Err(e),
        };
        let Err(e) = typed else { return };
        assert!(started.elapsed() < PATIENCE, "cannot fill `{css}`: {e}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until `script` (a function body returning a boolean) is true in the page.
pub(crate) async fn wait_js(client: &Client, script: &str) {
    let started = Instant::now();
    while started.elapsed() < PATIENCE {
        if js(client, script).await == Value::Bool(true) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("`{script}` never became true within {PATIENCE:?}");
}

/// Gives service B a plan open every day around the clock: 10-minute slots of 5 seats,
/// bookable right away, two days ahead.
pub(crate) async fn plan_around_the_clock(env: &Env) {
    let days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    env.ok(
        Method::PUT,
        &format!(
            "/api/v1/branches/{}/services/{}/plan",
            env.fx.branch, env.fx.services[1].id
        ),
        &env.admin,
        json!({
            "weekly": days.iter().map(|d| json!({
                "day": d, "open": "00:00:00", "close": "23:59:59"
            })).collect::<Vec<_>>(),
            "slot_interval_secs": 600,
            "duration_secs": 600,
            "capacity": 5,
            "min_notice_secs": 0,
            "horizon_days": 2
        }),
    )
    .await;
}
