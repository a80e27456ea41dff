//! Browser tests of the counter console (`/console`): an agent signs in, opens a counter and
//! serves the tickets the API issues, in English and in Persian.

use chrono::{TimeDelta, Utc};
use fantoccini::{Client, Locator};
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{
    self, Env, PASSWORD, PATIENCE, fill, js, plan_around_the_clock, wait_for, wait_text,
};

/// Clicks the first element matching `css`, waiting for it and trying again when the page
/// redrew it between finding and clicking (the console redraws what changed).
async fn click(client: &Client, css: &str) {
    let started = std::time::Instant::now();
    loop {
        // Away from the sticky status line at the top.
        let _ = client
            .execute(
                "document.querySelector(arguments[0])?.scrollIntoView({block: 'center'});",
                vec![json!(css)],
            )
            .await;
        let tried = match client.find(Locator::Css(css)).await {
            Ok(el) => el.click().await.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        match tried {
            Ok(()) => return,
            Err(e) if started.elapsed() > PATIENCE => panic!("cannot click `{css}`: {e}"),
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
        }
    }
}

/// Signs `login` in on the console and opens counter 1 of the fixture's branch.
async fn sign_in_and_open(env: &Env, client: &Client, login: &str) {
    env.open(client, "/console").await;
    fill(client, "#login", login).await;
    fill(client, "#password", PASSWORD).await;
    click(client, "form.sign-in button[type=submit]").await;
    click(client, "button.counter-choice[data-counter='1']").await;
    click(client, "button[data-action='open']").await;
    wait_for(client, "#counter-status.status-open").await;
}

/// Issues a ticket of the fixture's service `prefix` through the API; the ticket.
async fn issue(env: &Env, prefix: &str, extra: Value) -> Value {
    let service = env.fx.services.iter().find(|s| s.prefix == prefix).unwrap();
    let mut body = json!({ "service": service.id });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    env.ok(
        Method::POST,
        &format!("/api/v1/branches/{}/tickets", env.fx.branch),
        &env.admin,
        body,
    )
    .await
}

/// Whether the action button `action` is disabled.
async fn disabled(client: &Client, action: &str) -> bool {
    js(
        client,
        &format!("return document.querySelector(\"button[data-action='{action}']\").disabled;"),
    )
    .await
    .as_bool()
    .unwrap()
}

/// Presses a key on the page's body (the console's keyboard shortcuts).
async fn press(client: &Client, key: &str) {
    wait_for(client, "body").await.send_keys(key).await.unwrap();
}

#[tokio::test]
async fn agent_calls_starts_and_finishes_a_ticket() {
    let Some(env) = support::env("console_serve").await else {
        return;
    };
    let client = env.browser(1280, 900).await;
    sign_in_and_open(&env, &client, &env.fx.agent_login).await;
    wait_text(&client, "#console-title", |t| t.contains("Counter 1")).await;
    assert_eq!(
        js(&client, "return document.documentElement.dir;").await,
        "ltr"
    );
    wait_text(&client, "#waiting-for-counter", |t| t == "0").await;
    assert!(disabled(&client, "recall").await, "recall with no ticket");

    // A ticket issued elsewhere shows in the figures without a reload.
    issue(&env, "A", json!({})).await;
    wait_text(&client, "#waiting-for-counter", |t| t == "1").await;
    wait_text(&client, "tr[data-prefix='A'] td.count", |t| t == "1").await;
    wait_text(&client, "#waiting-list tr[data-display='A-001']", |t| {
        t.contains("Cash")
    })
    .await;
    env.screenshot(&client, "waiting").await;

    click(&client, "button[data-action='call-next']").await;
    wait_text(&client, "#ticket-number", |t| t == "A-001").await;
    wait_text(&client, "#ticket-state", |t| t.contains("Called")).await;
    wait_text(&client, "#status", |t| t.contains("A-001 called")).await;
    wait_text(&client, "#ticket", |t| {
        t.contains("Cash") && t.contains("Normal")
    })
    .await;
    wait_text(&client, "#waiting-for-counter", |t| t == "0").await;
    assert!(
        disabled(&client, "call-next").await,
        "call next while called"
    );
    assert!(!disabled(&client, "start").await);
    assert!(!disabled(&client, "no-show").await);
    env.screenshot(&client, "called").await;

    click(&client, "button[data-action='start']").await;
    wait_text(&client, "#ticket-state", |t| t.contains("Being served")).await;
    assert!(disabled(&client, "recall").await, "recall while serving");
    assert!(disabled(&client, "no-show").await, "no-show while serving");
    assert!(!disabled(&client, "finish").await);
    assert!(
        disabled(&client, "close").await,
        "closing while holding a ticket"
    );
    env.screenshot(&client, "serving").await;

    click(&client, "button[data-action='finish']").await;
    wait_text(&client, "#status", |t| t.contains("A-001 finished")).await;
    wait_for(&client, "#no-ticket").await;

    // Nobody waits: calling next shows the queue's refusal in words.
    click(&client, "button[data-action='call-next']").await;
    wait_text(&client, "#status.error", |t| {
        t == "Nobody is waiting for this counter."
    })
    .await;
    env.screenshot(&client, "nobody-waiting").await;

    // A pause: nobody is called until it ends.
    click(&client, "button[data-action='pause']").await;
    wait_text(&client, "#counter-status", |t| t == "Paused").await;
    wait_text(&client, "#counter-hint", |t| t.contains("paused")).await;
    assert!(
        disabled(&client, "call-next").await,
        "call next while paused"
    );
    click(&client, "button[data-action='resume']").await;
    wait_text(&client, "#counter-status", |t| t == "Open").await;
    assert!(!disabled(&client, "call-next").await);

    click(&client, "button[data-action='close']").await;
    wait_text(&client, "#counter-status", |t| t == "Closed").await;
    wait_for(&client, "button[data-action='open']").await;

    // The language: the user's own (English) until they pick another, then kept for them.
    click(&client, "nav.languages button[lang='fa']").await;
    wait_text(&client, "#console-title", |t| t.contains("باجهٔ ۱")).await;
    assert_eq!(
        js(&client, "return document.documentElement.dir;").await,
        "rtl"
    );
    click(&client, "#sign-out").await;
    wait_text(&client, "form.sign-in h1", |t| t == "ورود").await;
    env.screenshot(&client, "sign-in-fa").await;
    fill(&client, "#login", &env.fx.agent_login).await;
    fill(&client, "#password", PASSWORD).await;
    click(&client, "form.sign-in button[type=submit]").await;
    // Back at the counter chosen last, in the language chosen last.
    wait_text(&client, "#console-title", |t| t.contains("باجهٔ ۱")).await;
    wait_text(&client, "#counter-status", |t| t == "بسته").await;
    click(&client, "#sign-out").await;
    // Another user gets their own language.
    fill(&client, "#login", &env.fx.manager_login).await;
    fill(&client, "#password", PASSWORD).await;
    click(&client, "form.sign-in button[type=submit]").await;
    wait_text(&client, "#choose-counter", |t| t == "Choose your counter").await;
    assert_eq!(
        js(&client, "return document.documentElement.dir;").await,
        "ltr"
    );
    env.screenshot(&client, "counters").await;
    client.close().await.unwrap();
}

#[tokio::test]
async fn agent_recalls_marks_no_show_parks_and_calls_a_given_ticket() {
    let Some(env) = support::env("console_recall").await else {
        return;
    };
    let client = env.browser(1280, 900).await;
    issue(&env, "A", json!({})).await;
    issue(&env, "A", json!({})).await;
    issue(&env, "A", json!({})).await;
    sign_in_and_open(&env, &client, &env.fx.agent_login).await;
    wait_text(&client, "#waiting-for-counter", |t| t == "3").await;

    // The keyboard: N calls next, R recalls, M marks a no-show.
    press(&client, "n").await;
    wait_text(&client, "#ticket-number", |t| t == "A-001").await;
    press(&client, "r").await;
    wait_text(&client, "#status", |t| t.contains("A-001 called again")).await;
    wait_text(&client, "#ticket", |t| t.contains("Recalls")).await;
    press(&client, "m").await;
    wait_text(&client, "#status", |t| {
        t.contains("A-001 marked as a no-show")
    })
    .await;
    wait_for(&client, "#no-ticket").await;
    wait_text(&client, "#waiting-for-counter", |t| t == "2").await;

    // A given ticket, out of order, from the list of waiting tickets.
    click(
        &client,
        "#waiting-list tr[data-display='A-003'] button[data-call]",
    )
    .await;
    wait_text(&client, "#ticket-number", |t| t == "A-003").await;
    env.screenshot(&client, "called-given").await;

    // Parked, then back in line first: the next call takes it again.
    click(&client, "button[data-action='park']").await;
    wait_text(&client, "#status", |t| t.contains("A-003 parked")).await;
    wait_text(&client, "#parked-list", |t| t.contains("A-003")).await;
    env.screenshot(&client, "parked").await;
    click(&client, "#parked-list li button[data-key^='resume-first-']").await;
    wait_text(&client, "#status", |t| t.contains("A-003 is back in line")).await;
    click(&client, "button[data-action='call-next']").await;
    wait_text(&client, "#ticket-number", |t| t == "A-003").await;
    client.close().await.unwrap();
}

#[tokio::test]
async fn agent_transfers_a_ticket_to_service_b() {
    let Some(env) = support::env("console_transfer").await else {
        return;
    };
    let client = env.browser(1280, 900).await;
    issue(&env, "A", json!({})).await;
    sign_in_and_open(&env, &client, &env.fx.agent_login).await;
    click(&client, "button[data-action='call-next']").await;
    wait_text(&client, "#ticket-number", |t| t == "A-001").await;

    click(&client, "button[data-action='transfer']").await;
    let b = env.fx.services.iter().find(|s| s.prefix == "B").unwrap();
    wait_for(&client, "#transfer-service").await;
    js(
        &client,
        &format!(
            "document.getElementById('transfer-service').value = '{}';",
            b.id
        ),
    )
    .await;
    click(&client, "input[name='transfer-position'][value='first']").await;
    env.screenshot(&client, "transfer-form").await;
    click(&client, "#transfer button[type=submit]").await;
    wait_text(&client, "#status", |t| {
        t.contains("A-001 transferred to Advice")
    })
    .await;
    wait_for(&client, "#no-ticket").await;
    wait_text(&client, "tr[data-prefix='B'] td.count", |t| t == "1").await;
    wait_text(&client, "tr[data-prefix='A'] td.count", |t| t == "0").await;
    wait_text(&client, "#waiting-list tr[data-display='A-001']", |t| {
        t.contains("Advice")
    })
    .await;
    env.screenshot(&client, "transferred").await;

    // The API agrees: the ticket waits for service B.
    let tickets = env
        .ok(
            Method::GET,
            &format!("/api/v1/branches/{}/tickets", env.fx.branch),
            &env.admin,
            Value::Null,
        )
        .await;
    assert_eq!(tickets[0]["service"], json!(b.id));
    assert_eq!(tickets[0]["state"], "waiting");
    client.close().await.unwrap();
}

#[tokio::test]
async fn persian_agent_sees_rtl_persian_digits_and_errors_in_persian() {
    let Some(env) = support::env("console_fa").await else {
        return;
    };
    // A tablet, upright.
    let client = env.browser(820, 1180).await;
    sign_in_and_open(&env, &client, &env.fx.agent_fa_login).await;
    assert_eq!(
        js(&client, "return document.documentElement.dir;").await,
        "rtl"
    );
    assert_eq!(
        js(&client, "return document.documentElement.lang;").await,
        "fa"
    );
    wait_text(&client, "#console-title", |t| t.contains("باجهٔ ۱")).await;
    wait_text(&client, "#counter-status", |t| t == "باز").await;

    // An invalid action: nobody waits.
    click(&client, "button[data-action='call-next']").await;
    wait_text(&client, "#status.error", |t| {
        t == "کسی در انتظار این باجه نیست."
    })
    .await;

    issue(&env, "A", json!({})).await;
    wait_text(&client, "#waiting-for-counter", |t| t == "۱").await;
    wait_text(&client, "tr[data-prefix='A'] td.count", |t| t == "۱").await;
    click(&client, "button[data-action='call-next']").await;
    wait_text(&client, "#ticket-number", |t| t == "A-۰۰۱").await;
    wait_text(&client, "#ticket-state", |t| t.contains("فراخوانده شد")).await;
    wait_text(&client, "#ticket", |t| t.contains("صندوق")).await;
    env.screenshot(&client, "called").await;
    press(&client, "s").await;
    wait_text(&client, "#ticket-state", |t| t == "در حال خدمت").await;
    click(&client, "button[data-action='finish']").await;
    wait_text(&client, "#status", |t| t == "خدمت به A-۰۰۱ پایان یافت.").await;
    wait_for(&client, "#no-ticket").await;
    wait_text(&client, "#waiting-for-counter", |t| t == "۰").await;
    env.screenshot(&client, "finished").await;
    client.close().await.unwrap();
}

/// Gives service B a plan open around the clock, books the first slot starting at or after
/// now and checks its holder in through the API; the appointment's start.
async fn checked_in_booking(env: &Env, holder: &str) -> chrono::DateTime<Utc> {
    let branch = &env.fx.branch;
    let service = &env.fx.services[1].id;
    plan_around_the_clock(env).await;
    // The fixture's branch is in Tehran (UTC+03:30, no summer time).
    let now = Utc::now();
    let today = (now + TimeDelta::minutes(210)).date_naive();
    let (from, to) = (today - TimeDelta::days(1), today + TimeDelta::days(1));
    let slots = env
        .ok(
            Method::GET,
            &format!("/api/v1/branches/{branch}/services/{service}/slots?from={from}&to={to}"),
            &env.admin,
            Value::Null,
        )
        .await;
    let start = slots
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["status"] == "open")
        .filter_map(|s| s["start"].as_str()?.parse::<chrono::DateTime<Utc>>().ok())
        .find(|start| *start >= now)
        .unwrap_or_else(|| panic!("no open slot after {now}: {slots}"));
    let booking = env
        .ok(
            Method::POST,
            &format!("/api/v1/branches/{branch}/bookings"),
            &env.admin,
            json!({ "service": service, "start": start, "holder": { "name": holder } }),
        )
        .await;
    let code = booking["code"].as_str().unwrap();
    env.ok(
        Method::POST,
        &format!("/api/v1/branches/{branch}/bookings/{code}/check-in"),
        &env.admin,
        Value::Null,
    )
    .await;
    start
}

#[tokio::test]
async fn agent_sees_the_appointment_before_and_after_calling() {
    let Some(env) = support::env("console_appointment").await else {
        return;
    };
    let start = checked_in_booking(&env, "Dana Test").await;
    let at = (start + TimeDelta::minutes(210))
        .format("%H:%M")
        .to_string();
    let client = env.browser(1280, 900).await;
    sign_in_and_open(&env, &client, &env.fx.agent_login).await;

    // Before calling: the waiting ticket's details.
    click(
        &client,
        "#waiting-list tr[data-display='B-001'] button[data-key^='details-']",
    )
    .await;
    let details = wait_text(&client, "#preview", |t| t.contains("Appointment")).await;
    assert!(details.contains(&at), "appointment at {at}: {details}");
    assert!(details.contains("Dana Test"), "{details}");
    assert!(details.contains("Advice"), "{details}");
    env.screenshot(&client, "preview").await;

    // Called from the details: the same at the counter.
    click(&client, "#preview button[data-call]").await;
    wait_text(&client, "#ticket-number", |t| t == "B-001").await;
    let ticket = wait_text(&client, "#ticket", |t| t.contains("Appointment")).await;
    assert!(ticket.contains(&at), "appointment at {at}: {ticket}");
    assert!(ticket.contains("Appointment") && ticket.contains("Dana Test"));
    wait_for(&client, "#preview:empty").await;
    env.screenshot(&client, "called").await;
    client.close().await.unwrap();
}

#[tokio::test]
async fn agent_sees_a_known_customers_earlier_visits() {
    let Some(env) = support::env("console_visits").await else {
        return;
    };
    let customer = uuid::Uuid::new_v4().to_string();
    env.ok(
        Method::PUT,
        &format!("/api/v1/customers/{customer}"),
        &env.admin,
        json!({ "number": "7001", "class": env.fx.vip_class, "language": "en" }),
    )
    .await;
    // An earlier visit, served at counter 2.
    issue(&env, "A", json!({ "customer_number": "7001" })).await;
    let counter = |n: usize, action: &str| {
        format!(
            "/api/v1/branches/{}/counters/{}/{action}",
            env.fx.branch, env.fx.counters[n]
        )
    };
    for action in ["open", "call-next", "start", "finish", "close"] {
        env.ok(Method::POST, &counter(1, action), &env.admin, Value::Null)
            .await;
    }
    // The server follows the queue's history into the visits every second, from the start of
    // the demo's: wait until it has this visit.
    let visits = format!("/api/v1/customers/{customer}/visits?limit=10");
    let started = std::time::Instant::now();
    loop {
        let list = env.ok(Method::GET, &visits, &env.admin, Value::Null).await;
        if list[0]["outcome"] == "served" {
            assert_eq!(list[0]["display"], "A-001", "{list}");
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(90),
            "the visit never became served: {list}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    // Back today with a second ticket, and a stranger before them.
    issue(&env, "B", json!({})).await;
    let ticket = issue(&env, "B", json!({ "customer_number": "7001" })).await;
    assert_eq!(ticket["class"], "vip", "{ticket}");

    let client = env.browser(1280, 900).await;
    sign_in_and_open(&env, &client, &env.fx.agent_login).await;
    // Before calling: the VIP ticket is marked, its details list the earlier visit.
    let row = "#waiting-list tr[data-display='B-002']";
    wait_text(&client, row, |t| t.contains("VIP") && t.contains("★")).await;
    click(&client, &format!("{row} button[data-key^='details-']")).await;
    let preview = wait_text(&client, "#preview", |t| t.contains("Earlier visits")).await;
    assert!(preview.contains("A-001"), "{preview}");
    assert!(preview.contains("Served"), "{preview}");
    assert!(preview.contains("Cash (1)"), "{preview}");
    js(
        &client,
        "document.getElementById('preview').scrollIntoView();",
    )
    .await;
    env.screenshot(&client, "preview").await;

    // Called first (VIP): the customer panel shows the same.
    click(&client, "button[data-action='call-next']").await;
    wait_text(&client, "#ticket-number", |t| t == "B-002").await;
    wait_text(&client, "#ticket", |t| t.contains("VIP")).await;
    let panel = wait_text(&client, "#customer", |t| t.contains("Earlier visits")).await;
    assert!(
        panel.contains("A-001") && panel.contains("Served"),
        "{panel}"
    );
    assert!(
        !panel.contains("B-002"),
        "the current visit is not an earlier one: {panel}"
    );
    js(
        &client,
        "document.getElementById('customer').scrollIntoView();",
    )
    .await;
    env.screenshot(&client, "called").await;

    // In Persian: the outcome in words, the number in Persian digits.
    click(&client, "nav.languages button[lang='fa']").await;
    let panel = wait_text(&client, "#customer", |t| t.contains("مراجعه‌های پیشین")).await;
    assert!(
        panel.contains("A-۰۰۱") && panel.contains("خدمت گرفت"),
        "{panel}"
    );
    js(
        &client,
        "document.getElementById('customer').scrollIntoView();",
    )
    .await;
    env.screenshot(&client, "called-fa").await;
    client.close().await.unwrap();
}
