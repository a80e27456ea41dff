//! Browser tests of the kiosk: pairing, tickets printed in English and Persian, booking
//! check-in, and the errors a customer can meet.

use chrono::{TimeDelta, Utc};
use fantoccini::Client;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{
    Env, PASSWORD, click, env, fill, js, plan_around_the_clock, wait_for, wait_js, wait_text,
};

/// A browser showing the kiosk, paired as a kiosk of the fixture's branch speaking `lang`.
async fn kiosk(env: &Env, lang: &str) -> Client {
    let token = env.device("kiosk", lang).await;
    let browser = env.browser(1080, 1400).await;
    env.store(&browser, "cem.device.kiosk", &token).await;
    env.open(&browser, "/kiosk").await;
    browser
}

fn persian_digits(text: &str) -> bool {
    text.chars().any(|c| ('۰'..='۹').contains(&c)) && !text.chars().any(|c| c.is_ascii_digit())
}

/// The QR code of the ticket is drawn and links to the ticket's tracking page.
async fn assert_qr(browser: &Client) {
    wait_js(
        browser,
        "const i = document.querySelector('.ticket-qr img'); \
         return !!i && i.complete && i.naturalWidth > 0 \
           && decodeURIComponent(i.getAttribute('src')).includes(location.origin + '/track/');",
    )
    .await;
}

#[tokio::test]
async fn the_kiosk_prints_tickets_in_persian_and_english() {
    let Some(env) = env("kiosk-ticket").await else {
        return;
    };
    let browser = kiosk(&env, "fa").await;

    // Persian, the kiosk's own language: right to left, services by their Persian names.
    wait_text(&browser, "h1", |t| t == "خوش آمدید").await;
    assert_eq!(
        js(&browser, "return document.documentElement.dir").await,
        "rtl"
    );
    wait_text(&browser, "button.service[data-prefix=A] .name", |t| {
        t == "صندوق"
    })
    .await;
    env.screenshot(&browser, "fa-start").await;
    click(&browser, "button.service[data-prefix=A]").await;
    let number = wait_text(&browser, "#ticket-number", |t| !t.is_empty()).await;
    assert_eq!(number, "A-۰۰۱");
    wait_text(&browser, ".ticket-service", |t| t == "صندوق").await;
    // The date in the Jalali calendar (year 14xx) with Persian digits, the time likewise.
    let date = wait_text(&browser, ".ticket-date", |t| !t.is_empty()).await;
    assert!(date.contains("۱۴۰") && persian_digits(&date), "{date}");
    let time = wait_text(&browser, ".ticket-time", |t| !t.is_empty()).await;
    assert!(persian_digits(&time), "{time}");
    // The first ticket has nobody ahead.
    wait_text(&browser, ".ticket .ahead", |t| t == "نفر بعدی شما هستید").await;
    assert_qr(&browser).await;
    env.screenshot(&browser, "fa-ticket").await;
    // The print layout: a page without margins, the ticket 72 mm wide (80 mm paper).
    let print_rules = js(
        &browser,
        "const rules = [...document.styleSheets].flatMap((s) => { try { return [...s.cssRules]; } \
           catch (e) { return []; } }); \
         return [rules.some((r) => r instanceof CSSPageRule && r.style.getPropertyValue('margin') === '0px'), \
           rules.some((r) => r instanceof CSSMediaRule && r.media.mediaText === 'print' \
             && r.cssText.includes('72mm'))];",
    )
    .await;
    assert_eq!(print_rules, json!([true, true]));

    // Done: back to the start; the next customer chooses English.
    click(&browser, "#done").await;
    wait_text(&browser, "h1", |t| t == "خوش آمدید").await;
    click(&browser, "nav.languages button[lang=en]").await;
    wait_text(&browser, "h1", |t| t == "Welcome").await;
    assert_eq!(
        js(&browser, "return document.documentElement.dir").await,
        "ltr"
    );
    click(&browser, "button.service[data-prefix=A]").await;
    wait_text(&browser, "#ticket-number", |t| t == "A-002").await;
    wait_text(&browser, ".ticket-service", |t| t == "Cash").await;
    let date = wait_text(&browser, ".ticket-date", |t| !t.is_empty()).await;
    let year = Utc::now().format("%Y").to_string();
    assert!(date.contains(&year), "{date}");
    wait_text(&browser, ".ticket .ahead", |t| {
        t == "People ahead of you: 1"
    })
    .await;
    assert_qr(&browser).await;
    env.screenshot(&browser, "en-ticket").await;

    // After the customer, the kiosk is back in its own language.
    click(&browser, "#done").await;
    wait_text(&browser, "h1", |t| t == "خوش آمدید").await;

    // The tickets are in the queue, issued by the kiosk.
    let tickets = env
        .ok(
            Method::GET,
            &format!("/api/v1/branches/{}/tickets", env.fx.branch),
            &env.admin,
            Value::Null,
        )
        .await;
    let kiosk_tickets = tickets
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["source"] == "kiosk")
        .count();
    assert_eq!(kiosk_tickets, 2, "{tickets}");
    browser.close().await.unwrap();
}

/// Gives service B a plan open around the clock and books the first slot starting at or
/// after `after` (staff book without a contact); the booking's code.
async fn book(env: &Env, after: chrono::DateTime<Utc>) -> String {
    let branch = &env.fx.branch;
    let service = &env.fx.services[1].id;
    plan_around_the_clock(env).await;
    let tehran = (Utc::now() + TimeDelta::minutes(210)).date_naive();
    let from = tehran - TimeDelta::days(1);
    let to = tehran + TimeDelta::days(1);
    let slots = env
        .ok(
            Method::GET,
            &format!("/api/v1/branches/{branch}/services/{service}/slots?from={from}&to={to}"),
            &env.admin,
            Value::Null,
        )
        .await;
    let slot = slots
        .as_array()
        .unwrap()
        .iter()
        .find(|s| {
            s["status"] == "open"
                && s["start"]
                    .as_str()
                    .and_then(|t| t.parse::<chrono::DateTime<Utc>>().ok())
                    .is_some_and(|t| t >= after)
        })
        .unwrap_or_else(|| panic!("no open slot after {after}: {slots}"));
    let booking = env
        .ok(
            Method::POST,
            &format!("/api/v1/branches/{branch}/bookings"),
            &env.admin,
            json!({ "service": service, "start": slot["start"], "holder": { "name": "Test" } }),
        )
        .await;
    booking["code"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_kiosk_checks_bookings_in_and_explains_refusals() {
    let Some(env) = env("kiosk-check-in").await else {
        return;
    };
    let now = Utc::now();
    let due = book(&env, now).await;
    let later = book(&env, now + TimeDelta::hours(3)).await;
    let browser = kiosk(&env, "en").await;

    // An unknown code.
    click(&browser, "#check-in").await;
    fill(&browser, "#booking-code", "ZZZZ-ZZZZ").await;
    click(&browser, "#check-in-submit").await;
    wait_text(&browser, "#status.error", |t| {
        t.starts_with("We cannot find a booking with this code")
    })
    .await;
    env.screenshot(&browser, "en-unknown").await;

    // Too early: three hours before the appointment.
    fill(&browser, "#booking-code", &later).await;
    click(&browser, "#check-in-submit").await;
    wait_text(&browser, "#status.error", |t| {
        t.starts_with("It is too early to check in")
    })
    .await;

    // In time: an appointment ticket of service B.
    fill(&browser, "#booking-code", &due.to_lowercase()).await;
    click(&browser, "#check-in-submit").await;
    wait_text(&browser, "#ticket-number", |t| t == "B-001").await;
    wait_text(&browser, ".ticket-service", |t| t == "Advice").await;
    wait_text(&browser, ".ticket .appointment", |t| {
        t.starts_with("Appointment at ")
    })
    .await;
    assert_qr(&browser).await;
    env.screenshot(&browser, "en-checked-in").await;
    click(&browser, "#done").await;

    // Twice: refused, in Persian.
    click(&browser, "nav.languages button[lang=fa]").await;
    wait_text(&browser, "h1", |t| t == "خوش آمدید").await;
    click(&browser, "#check-in").await;
    fill(&browser, "#booking-code", &due).await;
    click(&browser, "#check-in-submit").await;
    wait_text(&browser, "#status.error", |t| {
        t.starts_with("این رزرو پذیرش نمی‌شود")
    })
    .await;
    fill(&browser, "#booking-code", "ZZZZZZZZ").await;
    click(&browser, "#check-in-submit").await;
    wait_text(&browser, "#status.error", |t| {
        t.starts_with("رزروی با این کد پیدا نشد")
    })
    .await;
    env.screenshot(&browser, "fa-unknown").await;

    // The customer number: refused for a number nobody has (or while the server knows no
    // customers), with the API's code explained.
    click(&browser, "button.back").await;
    click(&browser, "#customer").await;
    fill(&browser, "#customer-number", "99999999").await;
    click(&browser, "#customer-submit").await;
    wait_text(&browser, "#status.error", |t| {
        t.starts_with("این شمارهٔ مشتری را نمی‌شناسیم")
            || t.starts_with("این کیوسک هنوز این کار را انجام نمی‌دهد")
    })
    .await;
    browser.close().await.unwrap();
}

#[tokio::test]
async fn a_manager_pairs_a_kiosk() {
    let Some(env) = env("kiosk-pairing").await else {
        return;
    };
    let browser = env.browser(1080, 1400).await;
    env.open(&browser, "/kiosk").await;
    wait_text(&browser, "h1", |t| t == "Set up this kiosk").await;

    // An agent may not.
    fill(&browser, "#login", &env.fx.agent_login).await;
    fill(&browser, "#password", PASSWORD).await;
    click(&browser, "form.sign-in button[type=submit]").await;
    wait_text(&browser, "#status.error", |t| {
        t == "Only a branch manager or an administrator can set up a kiosk."
    })
    .await;

    // The branch's manager does.
    fill(&browser, "#login", &env.fx.manager_login).await;
    fill(&browser, "#password", PASSWORD).await;
    click(&browser, "form.sign-in button[type=submit]").await;
    wait_for(&browser, "#pair-branch").await;
    let branch = js(
        &browser,
        "return document.getElementById('pair-branch').value",
    )
    .await;
    assert_eq!(branch, env.fx.branch.as_str());
    fill(&browser, "#pair-name", "Door kiosk").await;
    js(
        &browser,
        "document.getElementById('pair-language').value = 'fa'; return true;",
    )
    .await;
    env.screenshot(&browser, "en-pairing").await;
    click(&browser, ".pair-form button[type=submit]").await;

    // Paired: the kiosk's own language, its token kept, the manager signed out.
    wait_text(&browser, "h1", |t| t == "خوش آمدید").await;
    wait_text(&browser, "button.service[data-prefix=B] .name", |t| {
        t == "مشاوره"
    })
    .await;
    let stored = js(
        &browser,
        "return [localStorage.getItem('cem.device.kiosk') !== null, localStorage.getItem('cem.token')]",
    )
    .await;
    assert_eq!(stored, json!([true, null]));
    let devices = env
        .ok(
            Method::GET,
            &format!("/api/v1/branches/{}/devices", env.fx.branch),
            &env.admin,
            Value::Null,
        )
        .await;
    assert!(
        devices
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["name"] == "Door kiosk" && d["kind"] == "kiosk" && d["language"] == "fa"),
        "{devices}"
    );
    env.screenshot(&browser, "fa-paired").await;
    browser.close().await.unwrap();
}

#[tokio::test]
async fn a_customer_takes_a_ticket_by_their_number() {
    let Some(env) = env("kiosk-customer").await else {
        return;
    };
    let (status, answer) = env
        .api(
            Method::PUT,
            &format!("/api/v1/customers/{}", uuid::Uuid::new_v4()),
            Some(&env.admin),
            Some(json!({ "number": "7007", "class": env.fx.vip_class, "language": "fa" })),
        )
        .await;
    assert!(status.is_success(), "{status} {answer}");
    let browser = kiosk(&env, "en").await;
    click(&browser, "#customer").await;
    fill(&browser, "#customer-number", "7007").await;
    click(&browser, "#customer-submit").await;
    wait_text(&browser, "h2", |t| {
        t == "Welcome, customer 7007. Touch a service."
    })
    .await;
    click(&browser, "button.service[data-prefix=A]").await;
    wait_text(&browser, "#ticket-number", |t| t == "A-001").await;
    wait_text(&browser, ".ticket-class", |t| t == "VIP").await;
    env.screenshot(&browser, "en-vip").await;
    let tickets = env
        .ok(
            Method::GET,
            &format!("/api/v1/branches/{}/tickets", env.fx.branch),
            &env.admin,
            Value::Null,
        )
        .await;
    let ticket = &tickets[0];
    assert_eq!(ticket["class"], "vip", "{tickets}");
    assert!(ticket["customer"].is_string(), "{tickets}");

    // An unknown number, in Persian.
    click(&browser, "#done").await;
    wait_text(&browser, "h1", |t| t == "Welcome").await;
    click(&browser, "nav.languages button[lang=fa]").await;
    wait_text(&browser, "h1", |t| t == "خوش آمدید").await;
    click(&browser, "#customer").await;
    fill(&browser, "#customer-number", "424242").await;
    click(&browser, "#customer-submit").await;
    wait_text(&browser, "#status.error", |t| {
        t.starts_with("این شمارهٔ مشتری را نمی‌شناسیم")
    })
    .await;
    browser.close().await.unwrap();
}
