//! The whole journey across the pages, in English and in Persian: a customer books online,
//! checks in at the kiosk, the display shows and announces the call, the agent serves at the
//! console, the customer answers the survey, and the dashboard shows the visit and the score.

use chrono::{FixedOffset, Utc};
use fantoccini::Client;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{
    Env, PASSWORD, click, env, fill, js, plan_around_the_clock, wait_for, wait_js, wait_text,
};

#[tokio::test]
async fn the_home_page_speaks_english_and_persian() {
    let Some(env) = env("home").await else { return };
    let browser = env.browser(1280, 800).await;
    env.open(&browser, "/?lang=en").await;
    wait_text(&browser, "h1", |t| t == "Customer experience").await;
    assert_eq!(
        js(&browser, "return document.documentElement.dir").await,
        "ltr"
    );
    env.screenshot(&browser, "en").await;
    env.open(&browser, "/?lang=fa").await;
    wait_text(&browser, "h1", |t| t == "تجربهٔ مشتری").await;
    assert_eq!(
        js(&browser, "return document.documentElement.dir").await,
        "rtl"
    );
    env.screenshot(&browser, "fa").await;
    browser.close().await.unwrap();
}

#[tokio::test]
async fn the_whole_journey_in_english() {
    journey("en").await;
}

#[tokio::test]
async fn the_whole_journey_in_persian() {
    journey("fa").await;
}

/// The fixture branch's zone (Asia/Tehran keeps +03:30 all year).
fn tehran() -> FixedOffset {
    FixedOffset::east_opt(3 * 3600 + 1800).unwrap()
}

/// The months of the Jalali calendar in Persian.
const PERSIAN_MONTHS: [&str; 12] = [
    "فروردین",
    "اردیبهشت",
    "خرداد",
    "تیر",
    "مرداد",
    "شهریور",
    "مهر",
    "آبان",
    "آذر",
    "دی",
    "بهمن",
    "اسفند",
];

/// Writes the ASCII digits of `text` in the language's digits.
fn digits(lang: &str, text: &str) -> String {
    if lang != "fa" {
        return text.to_owned();
    }
    text.chars()
        .map(|c| match c.to_digit(10) {
            Some(d) => char::from_u32('۰' as u32 + d).unwrap(),
            None => c,
        })
        .collect()
}

async fn journey(lang: &str) {
    let Some(env) = env(&format!("journey-{lang}")).await else {
        return;
    };
    let branch = env.fx.branch.clone();
    let survey = prepare(&env).await;
    let b001 = digits(lang, "B-001");

    // 1. Booked online, on a phone: the service taking appointments, today's first free time.
    let phone = env.browser(390, 844).await;
    env.open(&phone, &format!("/booking/{branch}?lang={lang}"))
        .await;
    wait_js(
        &phone,
        "return !!document.querySelector('#booking-service-B:checked') \
           && !!document.querySelector('.booking-days input:checked') \
           && !!document.querySelector('.booking-slots input:not(:disabled)')",
    )
    .await;
    let slot = js(
        &phone,
        "return document.querySelector('.booking-slots input:not(:disabled)').value",
    )
    .await;
    let slot = slot.as_str().expect("a free time").to_owned();
    click(
        &phone,
        &format!(
            "label[for=booking-slot-{}]",
            slot.replace(|c: char| !c.is_ascii_digit(), "")
        ),
    )
    .await;
    fill(&phone, "#booking-name", "Sara").await;
    fill(&phone, "#booking-phone", "+989121234567").await;
    env.screenshot(&phone, "1-booking").await;
    click(&phone, ".booking-submit").await;
    let code = wait_text(&phone, ".booking-code", |t| t.len() == 8).await;
    env.screenshot(&phone, "1-booked").await;
    if lang == "fa" {
        // The page's Jalali date (the browser's ICU) is the one ICU4X gives (cem-notify's).
        let start: chrono::DateTime<Utc> = slot.parse().unwrap();
        let local = start.with_timezone(&tehran()).date_naive();
        let jalali = cem_notify::JalaliDate::from_gregorian(local).unwrap();
        let shown = wait_text(&phone, "#booking-date", |t| !t.is_empty()).await;
        for part in [
            digits(lang, &jalali.year.to_string()),
            digits(lang, &jalali.day.to_string()),
            PERSIAN_MONTHS[usize::from(jalali.month) - 1].to_owned(),
        ] {
            assert!(
                shown.contains(&part),
                "{shown:?} lacks {part:?} ({jalali:?})"
            );
        }
    }

    // 2. Checked in at the kiosk with the booking's code.
    let kiosk_token = env.device("kiosk", lang).await;
    let kiosk = env.browser(1080, 1400).await;
    env.store(&kiosk, "cem.device.kiosk", &kiosk_token).await;
    env.open(&kiosk, "/kiosk").await;
    click(&kiosk, "#check-in").await;
    fill(&kiosk, "#booking-code", &code).await;
    click(&kiosk, "#check-in-submit").await;
    wait_text(&kiosk, "#ticket-number", |t| t == b001).await;
    env.screenshot(&kiosk, "2-kiosk-ticket").await;

    // 3. The display board of the branch, in the journey's language.
    let display_token = screen(&env, lang).await;
    let board = env.browser(1280, 720).await;
    env.store(&board, "cem.device.display", &display_token)
        .await;
    env.open(&board, "/display").await;
    wait_for(&board, ".zone-now-serving .zone-title").await;

    // 4. The agent signs in at counter 1 and calls the customer.
    let console = env.browser(1280, 900).await;
    let login = if lang == "fa" {
        &env.fx.agent_fa_login
    } else {
        &env.fx.agent_login
    };
    env.open(&console, "/console").await;
    fill(&console, "#login", login).await;
    fill(&console, "#password", PASSWORD).await;
    click(&console, "form.sign-in button[type=submit]").await;
    click(&console, "button.counter-choice[data-counter='1']").await;
    click(&console, "button[data-action='open']").await;
    wait_text(&console, "#waiting-for-counter", |t| t == digits(lang, "1")).await;
    click(&console, "button[data-action='call-next']").await;
    wait_text(&console, "#ticket-number", |t| t == b001).await;
    env.screenshot(&console, "4-console-called").await;

    // 5. The board shows the call and announces it, once, in its language.
    wait_text(&board, ".zone-now-serving tr.latest td.display", |t| {
        t.contains(&b001)
    })
    .await;
    wait_js(&board, "return window.cemAnnouncements.length === 1").await;
    let said = js(&board, "return window.cemAnnouncements[0]").await;
    assert!(
        said["lang"].as_str().unwrap_or_default().starts_with(lang),
        "{said}"
    );
    env.screenshot(&board, "5-board-call").await;

    // 6. Served to the end.
    click(&console, "button[data-action='start']").await;
    click(&console, "button[data-action='finish']").await;
    wait_js(
        &console,
        "return !document.querySelector('#ticket-number') \
           || document.querySelector('#ticket-number').textContent === ''",
    )
    .await;

    // 7. The customer answers the survey from the branch's link.
    env.open(&phone, &format!("/survey/{branch}/{survey}?lang={lang}"))
        .await;
    click(&phone, "label[for=q-nps-10]").await;
    click(&phone, "label[for=q-csat-5]").await;
    env.screenshot(&phone, "7-survey").await;
    click(&phone, ".survey-send").await;
    wait_for(&phone, ".survey-end h1").await;

    // 8. The dashboard shows today's visit and its score.
    let today = Utc::now().with_timezone(&tehran()).date_naive().to_string();
    let dashboard = env.browser(1400, 1000).await;
    env.store(&dashboard, "cem.token", &env.admin).await;
    env.open(
        &dashboard,
        &format!(
            "/dashboard?lang={lang}&branch={branch}&by=branch&from={today}&to={today}#reports"
        ),
    )
    .await;
    let row = format!("#kpi-table tr[data-key='{branch}']");
    let one = digits(lang, "1");
    wait_text(&dashboard, &format!("{row} td[data-col='arrived']"), |t| {
        t == one
    })
    .await;
    wait_text(&dashboard, &format!("{row} td[data-col='served']"), |t| {
        t == one
    })
    .await;
    let hundred = digits(lang, "100");
    wait_text(&dashboard, &format!("{row} td[data-col='nps']"), |t| {
        t == hundred
    })
    .await;
    env.screenshot(&dashboard, "8-dashboard").await;

    // The API agrees: one visit served, one response.
    let results = env
        .ok(
            Method::GET,
            &format!("/api/v1/surveys/results?survey={survey}"),
            &env.admin,
            Value::Null,
        )
        .await;
    assert_eq!(results["overall"]["responses"], 1, "{results}");
    for client in [phone, kiosk, board, console, dashboard] {
        close(client).await;
    }
}

async fn close(client: Client) {
    client.close().await.unwrap();
}

/// Service B takes appointments around the clock (10-minute slots, bookable now) and the
/// branch has a survey answered from its link; the survey's id.
async fn prepare(env: &Env) -> String {
    plan_around_the_clock(env).await;
    let survey = env
        .ok(
            Method::POST,
            "/api/v1/surveys",
            &env.admin,
            json!({
                "name": "Journey",
                "title": { "en": "How was your visit?", "fa": "مراجعهٔ شما چطور بود؟" },
                "triggers": { "link": true },
                "questions": [
                    { "key": "nps", "required": true, "kind": { "type": "nps" },
                      "prompt": { "en": "Would you recommend us?", "fa": "ما را به دیگران پیشنهاد می‌کنید؟" } },
                    { "key": "csat", "required": true, "kind": { "type": "csat" },
                      "prompt": { "en": "How satisfied are you?", "fa": "چقدر راضی هستید؟" } }
                ]
            }),
        )
        .await;
    survey["id"].as_str().unwrap().to_owned()
}

/// A screen of the branch in `lang`, bound to a new display device; the device's token.
async fn screen(env: &Env, lang: &str) -> String {
    let layouts = env
        .ok(Method::GET, "/api/v1/layouts", &env.admin, Value::Null)
        .await;
    let layout = layouts[0]["id"].as_str().unwrap().to_owned();
    let device = env
        .ok(
            Method::POST,
            &format!("/api/v1/branches/{}/devices", env.fx.branch),
            &env.admin,
            json!({ "kind": "display", "name": "Hall", "language": lang }),
        )
        .await;
    env.ok(
        Method::POST,
        &format!("/api/v1/branches/{}/screens", env.fx.branch),
        &env.admin,
        json!({
            "name": "Hall",
            "language": lang,
            "layout": layout,
            "device": device["device"]["id"],
        }),
    )
    .await;
    device["token"].as_str().unwrap().to_owned()
}
