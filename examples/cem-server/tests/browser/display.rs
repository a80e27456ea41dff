//! Browser tests of the display board: calls shown and announced in the screen's language
//! (English and Persian) without anything personal, the board kept while the server is
//! away, and pairing a screen.

use std::time::{Duration, Instant};

use fantoccini::Client;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{Env, PASSWORD, PATIENCE, click, env, fill, js, wait_for, wait_js, wait_text};

/// A screen of the fixture's branch speaking `lang`, on the organization's first layout,
/// bound to a new display device when `bound`; the screen's id and the device's token.
async fn screen(env: &Env, name: &str, lang: &str, bound: bool) -> (String, String) {
    let layouts = env
        .ok(Method::GET, "/api/v1/layouts", &env.admin, Value::Null)
        .await;
    let layout = layouts[0]["id"].as_str().unwrap().to_owned();
    let answer = env
        .ok(
            Method::POST,
            &format!("/api/v1/branches/{}/devices", env.fx.branch),
            &env.admin,
            json!({ "kind": "display", "name": name, "language": lang }),
        )
        .await;
    let device = answer["device"]["id"].clone();
    let screen = env
        .ok(
            Method::POST,
            &format!("/api/v1/branches/{}/screens", env.fx.branch),
            &env.admin,
            json!({
                "name": name,
                "language": lang,
                "layout": layout,
                "device": if bound { device } else { Value::Null },
            }),
        )
        .await;
    (
        screen["id"].as_str().unwrap().to_owned(),
        answer["token"].as_str().unwrap().to_owned(),
    )
}

/// A browser showing the board of the display whose token is `token`.
async fn board(env: &Env, token: &str) -> Client {
    let browser = env.browser(1280, 720).await;
    env.store(&browser, "cem.device.display", token).await;
    env.open(&browser, "/display").await;
    wait_for(&browser, ".zone-now-serving .zone-title").await;
    browser
}

/// Issues a ticket of service A with a customer's contact; the ticket's id.
async fn ticket(env: &Env) -> String {
    let answer = env
        .ok(
            Method::POST,
            &format!("/api/v1/branches/{}/tickets", env.fx.branch),
            &env.admin,
            json!({
                "service": env.fx.services[0].id,
                "contact": { "phone": "+4930123456", "email": "jane@example.org" }
            }),
        )
        .await;
    answer["id"].as_str().unwrap().to_owned()
}

/// The agent opens counter 1 (the first time) or finishes its ticket (the next times),
/// and calls the next ticket.
async fn call_next(env: &Env, agent: &str, first: bool) {
    let counter = format!(
        "/api/v1/branches/{}/counters/{}",
        env.fx.branch, env.fx.counters[0]
    );
    let before = if first { "open" } else { "finish" };
    env.ok(
        Method::POST,
        &format!("{counter}/{before}"),
        agent,
        Value::Null,
    )
    .await;
    env.ok(
        Method::POST,
        &format!("{counter}/call-next"),
        agent,
        Value::Null,
    )
    .await;
}

/// Everything the page holds: its text, its markup and its storage.
async fn everything(browser: &Client) -> String {
    js(
        browser,
        "return document.documentElement.outerHTML + JSON.stringify(localStorage) \
           + JSON.stringify(window.cemAnnouncements);",
    )
    .await
    .as_str()
    .unwrap()
    .to_owned()
}

#[tokio::test]
async fn screens_show_and_announce_calls_in_their_language() {
    let Some(env) = env("display-calls").await else {
        return;
    };
    let (_, fa_token) = screen(&env, "Hall", "fa", true).await;
    let (_, en_token) = screen(&env, "Entrance", "en", true).await;
    let fa = board(&env, &fa_token).await;
    let en = board(&env, &en_token).await;
    wait_text(&fa, ".zone-now-serving .zone-title", |t| t == "در حال خدمت").await;
    assert_eq!(js(&fa, "return document.documentElement.dir").await, "rtl");
    wait_text(&en, ".zone-now-serving .zone-title", |t| t == "Now serving").await;
    assert_eq!(js(&en, "return document.documentElement.dir").await, "ltr");

    let id = ticket(&env).await;
    let agent = env.sign_in(&env.fx.agent_login, PASSWORD).await;
    call_next(&env, &agent, true).await;

    // The call on the board, highlighted, in each screen's digits.
    wait_text(&en, "#call-flash", |t| t.contains("A-001")).await;
    wait_text(&fa, ".zone-now-serving tr.latest td.display", |t| {
        t == "A-۰۰۱"
    })
    .await;
    wait_text(&fa, ".zone-now-serving tr.latest td.counter", |t| t == "۱").await;
    wait_text(&en, ".zone-now-serving tr.latest td.display", |t| {
        t == "A-001"
    })
    .await;
    wait_text(&en, ".zone-now-serving tr.latest td.counter", |t| t == "1").await;

    // Announced once each, in the screen's language.
    wait_js(&fa, "return window.cemAnnouncements.length === 1").await;
    wait_js(&en, "return window.cemAnnouncements.length === 1").await;
    let said = js(&fa, "return window.cemAnnouncements[0]").await;
    assert_eq!(said["lang"], "fa", "{said}");
    let text = said["text"].as_str().unwrap();
    assert!(text.contains("A-001") && text.contains("باجهٔ ۱"), "{text}");
    let said = js(&en, "return window.cemAnnouncements[0]").await;
    assert_eq!(said["lang"], "en", "{said}");
    let text = said["text"].as_str().unwrap();
    assert!(
        text.contains("A-001") && text.contains("counter 1"),
        "{text}"
    );
    env.screenshot(&fa, "fa-call").await;
    env.screenshot(&en, "en-call").await;

    // The waiting summary and the clock in each language.
    wait_text(&fa, ".zone-waiting-summary tr th", |t| t.contains("صندوق")).await;
    wait_text(&en, ".zone-waiting-summary tr th", |t| t.contains("Cash")).await;
    let time = wait_text(&fa, ".zone-clock .time", |t| !t.is_empty()).await;
    assert!(time.chars().any(|c| ('۰'..='۹').contains(&c)), "{time}");

    // Nothing personal, no ticket id, anywhere in the pages.
    for browser in [&fa, &en] {
        let all = everything(browser).await;
        for secret in [id.as_str(), "+4930123456", "jane@example.org"] {
            assert!(!all.contains(secret), "the board holds {secret}");
        }
    }
    fa.close().await.unwrap();
    en.close().await.unwrap();
}

#[tokio::test]
async fn the_board_keeps_its_content_while_the_server_is_away() {
    let Some(env) = env("display-offline").await else {
        return;
    };
    let (_, token) = screen(&env, "Hall", "en", true).await;
    let browser = board(&env, &token).await;
    ticket(&env).await;
    let agent = env.sign_in(&env.fx.agent_login, PASSWORD).await;
    call_next(&env, &agent, true).await;
    wait_text(&browser, ".zone-now-serving tr.latest td.display", |t| {
        t == "A-001"
    })
    .await;
    wait_text(&browser, ".zone-waiting-summary tr th", |t| {
        t.contains("Cash")
    })
    .await;
    // The content is kept for a restart without the server.
    wait_js(
        &browser,
        "return (localStorage.getItem('cem.display.content') || '').includes('A-001')",
    )
    .await;

    // The server is away: every request of the page fails.
    js(
        &browser,
        "window.realFetch = window.fetch; \
         window.fetch = () => Promise.reject(new TypeError('Failed to fetch')); return true;",
    )
    .await;
    // A new ticket makes the board read its content again, which fails.
    ticket(&env).await;
    wait_js(
        &browser,
        "const m = document.getElementById('reconnecting'); return !!m && !m.hidden;",
    )
    .await;
    wait_text(&browser, "#reconnecting", |t| t == "Reconnecting…").await;
    // It keeps showing what it had: the call, the waiting summary, the clock.
    wait_text(&browser, ".zone-now-serving tr.latest td.display", |t| {
        t == "A-001"
    })
    .await;
    wait_text(&browser, ".zone-waiting-summary tr th", |t| {
        t.contains("Cash")
    })
    .await;
    wait_text(&browser, ".zone-clock .time", |t| t.contains(':')).await;
    env.screenshot(&browser, "en-offline").await;

    // Back: the mark goes, and the board catches up (the second ticket is waiting).
    js(&browser, "window.fetch = window.realFetch; return true;").await;
    wait_js(
        &browser,
        "const m = document.getElementById('reconnecting'); return !!m && m.hidden;",
    )
    .await;
    wait_text(&browser, ".zone-waiting-summary tr td", |t| {
        t == "1 waiting"
    })
    .await;
    call_next(&env, &agent, false).await;
    wait_text(&browser, ".zone-now-serving tr.latest td.display", |t| {
        t == "A-002"
    })
    .await;
    wait_js(&browser, "return window.cemAnnouncements.length === 2").await;
    env.screenshot(&browser, "en-back").await;
    browser.close().await.unwrap();
}

#[tokio::test]
async fn a_manager_pairs_a_screen() {
    let Some(env) = env("display-pairing").await else {
        return;
    };
    let (screen_id, _) = screen(&env, "Waiting room", "en", false).await;
    let browser = env.browser(1280, 720).await;
    env.open(&browser, "/display").await;
    wait_text(&browser, "h1", |t| t == "Set up this screen").await;
    fill(&browser, "#login", &env.fx.manager_login).await;
    fill(&browser, "#password", PASSWORD).await;
    click(&browser, "form.sign-in button[type=submit]").await;
    wait_for(&browser, "#pair-screen").await;
    let chosen = js(
        &browser,
        "return document.getElementById('pair-screen').value",
    )
    .await;
    assert_eq!(chosen, screen_id.as_str());
    // The manager has the screen speak Persian.
    js(
        &browser,
        "document.getElementById('pair-language').value = 'fa'; return true;",
    )
    .await;
    env.screenshot(&browser, "en-pairing").await;
    click(&browser, ".pair-form button[type=submit]").await;

    wait_text(&browser, ".zone-now-serving .zone-title", |t| {
        t == "در حال خدمت"
    })
    .await;
    assert_eq!(
        js(&browser, "return document.documentElement.dir").await,
        "rtl"
    );
    let stored = js(
        &browser,
        "return [localStorage.getItem('cem.device.display') !== null, localStorage.getItem('cem.token')]",
    )
    .await;
    assert_eq!(stored, json!([true, null]));
    let screen = env
        .ok(
            Method::GET,
            &format!("/api/v1/branches/{}/screens/{screen_id}", env.fx.branch),
            &env.admin,
            Value::Null,
        )
        .await;
    assert!(screen["device"].is_string(), "{screen}");
    assert_eq!(screen["language"], "fa");
    env.screenshot(&browser, "fa-paired").await;
    browser.close().await.unwrap();
}

#[tokio::test]
async fn the_board_cycles_its_media_while_the_server_is_away() {
    let Some(env) = env("display-media").await else {
        return;
    };
    // One playlist of three short texts for every screen.
    let playlists = env
        .ok(Method::GET, "/api/v1/playlists", &env.admin, Value::Null)
        .await;
    let playlists = playlists.as_array().unwrap();
    let items: Vec<Value> = [
        ("one", "One", "یک"),
        ("two", "Two", "دو"),
        ("three", "Three", "سه"),
    ]
    .iter()
    .map(|(key, en, fa)| {
        json!({
            "key": key,
            "content": { "type": "text", "text": { "en": en, "fa": fa } },
            "duration_secs": 3
        })
    })
    .collect();
    env.ok(
        Method::PUT,
        &format!("/api/v1/playlists/{}", playlists[0]["id"].as_str().unwrap()),
        &env.admin,
        json!({ "name": "Short", "items": items, "targets": { "type": "all" } }),
    )
    .await;
    for other in &playlists[1..] {
        let path = format!("/api/v1/playlists/{}", other["id"].as_str().unwrap());
        env.api(Method::DELETE, &path, Some(&env.admin), None).await;
    }
    let (_, token) = screen(&env, "Hall", "fa", true).await;
    let browser = board(&env, &token).await;
    // The board has seen every item, and keeps them.
    wait_js(
        &browser,
        "return (JSON.parse(localStorage.getItem('cem.display.media')) || []).length === 3",
    )
    .await;

    js(
        &browser,
        "window.realFetch = window.fetch; \
         window.fetch = () => Promise.reject(new TypeError('Failed to fetch')); return true;",
    )
    .await;
    wait_js(
        &browser,
        "const m = document.getElementById('reconnecting'); return !!m && !m.hidden;",
    )
    .await;
    wait_text(&browser, "#reconnecting", |t| t == "در حال اتصال دوباره…").await;
    // Away from the server, the items still follow one another, in Persian.
    let started = Instant::now();
    let mut seen = std::collections::BTreeSet::new();
    while seen.len() < 3 && started.elapsed() < PATIENCE {
        let shown = js(
            &browser,
            "const p = document.querySelector('.zone-media .media-text'); \
             const m = document.getElementById('reconnecting'); \
             return p && m && !m.hidden ? p.textContent : null;",
        )
        .await;
        if let Some(text) = shown.as_str() {
            seen.insert(text.to_owned());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let expected: std::collections::BTreeSet<String> =
        ["یک", "دو", "سه"].iter().map(|s| (*s).to_owned()).collect();
    assert_eq!(seen, expected);
    env.screenshot(&browser, "fa-offline-media").await;

    js(&browser, "window.fetch = window.realFetch; return true;").await;
    wait_js(
        &browser,
        "const m = document.getElementById('reconnecting'); return !!m && m.hidden;",
    )
    .await;
    browser.close().await.unwrap();
}
