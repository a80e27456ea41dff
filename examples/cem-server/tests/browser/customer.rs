//! Browser tests of the customer pages on a phone (390×844): joining a queue remotely and
//! following the ticket live until it is called, booking a visit (Persian, Jalali dates),
//! answering a walk-up survey, and the branch finder.

use chrono::{DateTime, FixedOffset, Utc};
use fantoccini::{Client, Locator};
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{Env, PASSWORD, click, env, fill, js, wait_for, wait_js, wait_text};

const PHONE: (u32, u32) = (390, 844);

/// Only Persian digits (and at least one).
fn persian_digits(text: &str) -> bool {
    text.chars().any(|c| ('۰'..='۹').contains(&c)) && !text.chars().any(|c| c.is_ascii_digit())
}

/// Latin digits written as Persian ones.
fn to_persian(text: &str) -> String {
    text.chars()
        .map(|c| match c.to_digit(10) {
            Some(d) => char::from_u32('۰' as u32 + d).unwrap(),
            None => c,
        })
        .collect()
}

async fn assert_dir(client: &Client, dir: &str) {
    assert_eq!(js(client, "return document.documentElement.dir").await, dir);
}

/// The fixture's counter 1 opened by `agent-test`, who then calls the next ticket.
async fn agent_calls_next(env: &Env, token: &str) {
    let branch = &env.fx.branch;
    let counter = &env.fx.counters[0];
    env.ok(
        Method::POST,
        &format!("/api/v1/branches/{branch}/counters/{counter}/call-next"),
        token,
        Value::Null,
    )
    .await;
}

async fn agent_at_counter_1(env: &Env) -> String {
    let token = env.sign_in(&env.fx.agent_login, PASSWORD).await;
    let branch = &env.fx.branch;
    let counter = &env.fx.counters[0];
    env.ok(
        Method::POST,
        &format!("/api/v1/branches/{branch}/counters/{counter}/open"),
        &token,
        Value::Null,
    )
    .await;
    token
}

/// Takes a ticket of service A as the public; its display number.
async fn public_ticket(env: &Env) -> String {
    let (status, ticket) = env
        .api(
            Method::POST,
            &format!("/api/v1/branches/{}/tickets", env.fx.branch),
            None,
            Some(json!({ "service": env.fx.services[0].id })),
        )
        .await;
    assert!(status.is_success(), "{status} {ticket}");
    ticket["display"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn joining_remotely_the_tracker_follows_the_ticket_until_its_call() {
    let Some(env) = env("customer-join-en").await else {
        return;
    };
    let phone = env.browser(PHONE.0, PHONE.1).await;
    env.open(&phone, &format!("/join/{}?lang=en", env.fx.branch))
        .await;
    wait_text(&phone, "h1", |t| t == "Join the queue").await;
    assert_dir(&phone, "ltr").await;
    wait_text(&phone, ".join-branch h2", |t| t == "Test branch").await;
    wait_text(&phone, "label[for=join-service-A] .title", |t| t == "Cash").await;
    click(&phone, "label[for=join-service-A]").await;
    // A contact for the messages, in the page's language.
    click(&phone, ".join-contact summary").await;
    fill(&phone, "#join-email", "customer@example.com").await;
    env.screenshot(&phone, "join").await;
    click(&phone, ".join-take").await;

    // The tracker: the number, nobody ahead, no counter open yet.
    wait_text(&phone, "#track-number", |t| t == "A-001").await;
    assert!(
        js(&phone, "return location.pathname")
            .await
            .as_str()
            .unwrap()
            .starts_with(&format!("/track/{}/", env.fx.branch))
    );
    wait_text(&phone, ".track-where", |t| t == "Test branch · Cash").await;
    wait_text(&phone, "#track-ahead", |t| t == "0").await;
    wait_text(&phone, ".track-status", |t| t == "You are in line.").await;
    // The ticket is kept on the phone for the home page and the finder.
    assert_eq!(
        js(
            &phone,
            "return JSON.parse(localStorage.getItem('cem.customer.tickets'))[0].display"
        )
        .await,
        "A-001"
    );
    env.screenshot(&phone, "waiting").await;

    // The agent calls it: the page turns to "your turn" with the counter, by itself.
    let agent = agent_at_counter_1(&env).await;
    agent_calls_next(&env, &agent).await;
    wait_text(&phone, ".track-turn", |t| t == "It's your turn!").await;
    wait_text(&phone, ".track-counter", |t| t == "Counter 1").await;
    wait_text(&phone, ".track-called p:last-child", |t| {
        t == "Please go to counter 1."
    })
    .await;
    env.screenshot(&phone, "called").await;

    // Served: the page says thank you.
    for action in ["start", "finish"] {
        env.ok(
            Method::POST,
            &format!(
                "/api/v1/branches/{}/counters/{}/{action}",
                env.fx.branch, env.fx.counters[0]
            ),
            &agent,
            Value::Null,
        )
        .await;
    }
    wait_text(&phone, ".track-status", |t| {
        t == "Thank you for your visit!"
    })
    .await;

    // Without a network the page keeps the last state it saw, and says so.
    js(
        &phone,
        "window.fetch = () => Promise.reject(new TypeError('offline')); \
         window.dispatchEvent(new Event('online')); return true",
    )
    .await;
    wait_text(&phone, ".track-offline", |t| {
        t.starts_with("No connection.")
    })
    .await;
    wait_text(&phone, "#track-number", |t| t == "A-001").await;
    wait_text(&phone, ".track-status", |t| {
        t == "Thank you for your visit!"
    })
    .await;
    phone.close().await.unwrap();
}

#[tokio::test]
async fn in_persian_the_tracker_moves_up_the_line_live_and_the_customer_can_leave() {
    let Some(env) = env("customer-join-fa").await else {
        return;
    };
    // Someone is ahead.
    assert_eq!(public_ticket(&env).await, "A-001");
    let phone = env.browser(PHONE.0, PHONE.1).await;
    env.open(&phone, &format!("/join/{}?lang=fa", env.fx.branch))
        .await;
    wait_text(&phone, "h1", |t| t == "گرفتن نوبت از راه دور").await;
    assert_dir(&phone, "rtl").await;
    wait_text(&phone, ".join-branch h2", |t| t == "شعبهٔ آزمایشی").await;
    wait_text(&phone, "label[for=join-service-A] .meta", |t| {
        t.starts_with("۱ نفر منتظر")
    })
    .await;
    click(&phone, "label[for=join-service-A]").await;
    click(&phone, ".join-take").await;
    wait_text(&phone, "#track-number", |t| t == "A-۰۰۲").await;
    wait_text(&phone, "#track-ahead", |t| t == "۱").await;
    wait_text(&phone, ".track-status", |t| t == "شما در صف هستید.").await;
    env.screenshot(&phone, "waiting").await;

    // The ticket ahead is called: this one moves up without a reload.
    let agent = agent_at_counter_1(&env).await;
    agent_calls_next(&env, &agent).await;
    wait_text(&phone, "#track-ahead", |t| t == "۰").await;
    wait_text(&phone, ".track-next", |t| {
        t == "نفر بعدی شما هستید! لطفاً نزدیک بمانید."
    })
    .await;
    let wait = wait_text(&phone, "#track-wait", |t| !t.is_empty()).await;
    assert!(
        persian_digits(&wait) || wait == "هر لحظه" || wait == "هنوز معلوم نیست",
        "{wait}"
    );

    // Then it is called: "your turn" and the counter, in Persian digits.
    for action in ["start", "finish", "call-next"] {
        env.ok(
            Method::POST,
            &format!(
                "/api/v1/branches/{}/counters/{}/{action}",
                env.fx.branch, env.fx.counters[0]
            ),
            &agent,
            Value::Null,
        )
        .await;
    }
    wait_text(&phone, ".track-turn", |t| t == "نوبت شماست!").await;
    wait_text(&phone, ".track-counter", |t| t == "باجهٔ ۱").await;
    env.screenshot(&phone, "called").await;

    // Another ticket of the same phone: leaving cancels it, after a confirmation.
    env.open(&phone, &format!("/join/{}?lang=fa", env.fx.branch))
        .await;
    wait_text(&phone, ".join-mine a", |t| t.contains("A-۰۰۲")).await;
    click(&phone, "label[for=join-service-A]").await;
    click(&phone, ".join-take").await;
    wait_text(&phone, "#track-number", |t| t == "A-۰۰۳").await;
    click(&phone, ".track-leave").await;
    wait_text(&phone, "#track-leave-q", |t| t.contains("A-۰۰۳")).await;
    env.screenshot(&phone, "leaving").await;
    click(&phone, ".track-leave-yes").await;
    wait_text(&phone, ".track-status", |t| t == "این نوبت لغو شده است.").await;
    let ticket = js(&phone, "return location.pathname.split('/').pop()").await;
    let (_, view) = env
        .api(
            Method::GET,
            &format!(
                "/api/v1/branches/{}/tickets/{}",
                env.fx.branch,
                ticket.as_str().unwrap()
            ),
            None,
            None,
        )
        .await;
    assert_eq!(view["state"], "cancelled");
    phone.close().await.unwrap();
}

#[tokio::test]
async fn a_visit_is_booked_in_persian_with_its_jalali_date_then_moved_and_cancelled() {
    let Some(env) = env("customer-booking-fa").await else {
        return;
    };
    let branch = env.fx.branch.clone();
    let advice = env.fx.services[1].id.clone();
    let days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    env.ok(
        Method::PUT,
        &format!("/api/v1/branches/{branch}/services/{advice}/plan"),
        &env.admin,
        json!({
            "weekly": days.iter().map(|d| json!({ "day": d, "open": "09:00:00", "close": "12:00:00" })).collect::<Vec<_>>(),
            "slot_interval_secs": 1800,
            "duration_secs": 1800,
            "capacity": 1,
            "min_notice_secs": 0,
            "change_notice_secs": 0,
            "horizon_days": 7
        }),
    )
    .await;

    let phone = env.browser(PHONE.0, PHONE.1).await;
    env.open(&phone, &format!("/booking/{branch}?lang=fa"))
        .await;
    wait_text(&phone, "h1", |t| t == "رزرو وقت").await;
    assert_dir(&phone, "rtl").await;
    // Only service B takes appointments: it is chosen, and a day with free times too.
    wait_text(&phone, "label[for=booking-service-B] .title", |t| {
        t == "مشاوره"
    })
    .await;
    wait_js(
        &phone,
        "return !!document.querySelector('#booking-service-B:checked') \
           && !!document.querySelector('.booking-days input:checked')",
    )
    .await;
    // The last day offered, whole whatever the time now: another time stays free to move to.
    let last_day = js(
        &phone,
        "const l = document.querySelectorAll('.booking-days input'); return l[l.length - 1].id",
    )
    .await;
    click(
        &phone,
        &format!("label[for={}]", last_day.as_str().unwrap()),
    )
    .await;
    let day = wait_text(&phone, ".booking-days input:checked + .face .title", |t| {
        !t.is_empty()
    })
    .await;
    assert!(persian_digits(&day), "{day}");
    wait_js(
        &phone,
        &format!("return document.querySelector('.booking-days input:checked').id === {last_day}"),
    )
    .await;
    // The first free time of that day.
    let slot = js(
        &phone,
        "const i = document.querySelector('.booking-slots input:not(:disabled)'); \
         return i ? i.value : null",
    )
    .await;
    let start: DateTime<Utc> = slot.as_str().expect("a free time").parse().unwrap();
    let tehran = FixedOffset::east_opt(3 * 3600 + 1800).unwrap();
    let local = start.with_timezone(&tehran);
    click(
        &phone,
        &format!(
            "label[for=booking-slot-{}]",
            slot.as_str()
                .unwrap()
                .replace(|c: char| !c.is_ascii_digit(), "")
        ),
    )
    .await;
    fill(&phone, "#booking-name", "مریم").await;
    fill(&phone, "#booking-phone", "+989121234567").await;
    let label = wait_text(&phone, ".booking-submit", |t| {
        t.starts_with("رزرو برای ساعت")
    })
    .await;
    assert!(
        label.ends_with(&to_persian(&local.format("%H:%M").to_string())),
        "{label}"
    );
    env.screenshot(&phone, "choose").await;
    click(&phone, ".booking-submit").await;

    // The booking: confirmed, its date in the Jalali calendar with Persian digits, its time
    // in the branch's zone.
    let date = wait_text(&phone, "#booking-date", |t| !t.is_empty()).await;
    assert!(date.contains("۱۴۰") && persian_digits(&date), "{date}");
    let months = [
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
    assert!(months.iter().any(|m| date.contains(m)), "{date}");
    let time = wait_text(&phone, "#booking-time", |t| !t.is_empty()).await;
    assert!(
        time.starts_with(&to_persian(&local.format("%H:%M").to_string())),
        "{time}"
    );
    wait_text(&phone, ".booking-head .badge", |t| t == "تأییدشده").await;
    let code = wait_text(&phone, ".booking-code", |t| t.len() == 8).await;
    assert!(
        js(&phone, "return location.pathname")
            .await
            .as_str()
            .unwrap()
            .ends_with(&format!("/booking/{branch}/{code}"))
    );
    wait_js(
        &phone,
        "const i = document.querySelector('.booking-qr'); return !!i && i.complete && i.naturalWidth > 0",
    )
    .await;
    let (_, booked) = env
        .api(
            Method::GET,
            &format!("/api/v1/branches/{branch}/bookings/{code}"),
            None,
            None,
        )
        .await;
    assert_eq!(booked["state"], "confirmed");
    assert_eq!(booked["service"], advice.as_str());
    assert_eq!(
        booked["start"]
            .as_str()
            .unwrap()
            .parse::<DateTime<Utc>>()
            .unwrap(),
        start
    );
    env.screenshot(&phone, "booked").await;

    // Moved to another free time of that day.
    click(&phone, ".booking-move").await;
    wait_for(&phone, ".booking-reschedule .booking-slots").await;
    let other = js(
        &phone,
        "const i = document.querySelector('.booking-reschedule .booking-slots input:not(:disabled)'); \
         return i ? i.value : null",
    )
    .await;
    let other_start: DateTime<Utc> = other.as_str().expect("another time").parse().unwrap();
    click(
        &phone,
        &format!(
            "label[for=booking-slot-{}]",
            other
                .as_str()
                .unwrap()
                .replace(|c: char| !c.is_ascii_digit(), "")
        ),
    )
    .await;
    click(&phone, ".booking-move-submit").await;
    wait_text(&phone, "#status", |t| t == "زمان رزرو شما تغییر کرد.").await;
    let moved = to_persian(
        &other_start
            .with_timezone(&tehran)
            .format("%H:%M")
            .to_string(),
    );
    wait_text(&phone, "#booking-time", |t| t.starts_with(&moved)).await;

    // Cancelled, after a confirmation.
    click(&phone, ".booking-cancel").await;
    click(&phone, ".booking-cancel-yes").await;
    wait_text(&phone, ".booking-head .badge", |t| t == "لغوشده").await;
    env.screenshot(&phone, "cancelled").await;
    let (_, cancelled) = env
        .api(
            Method::GET,
            &format!("/api/v1/branches/{branch}/bookings/{code}"),
            None,
            None,
        )
        .await;
    assert_eq!(cancelled["state"], "cancelled");
    assert_eq!(
        cancelled["start"]
            .as_str()
            .unwrap()
            .parse::<DateTime<Utc>>()
            .unwrap(),
        other_start
    );
    phone.close().await.unwrap();
}

#[tokio::test]
async fn a_full_time_takes_a_waitlist_and_the_place_offered_is_accepted() {
    let Some(env) = env("customer-waitlist-en").await else {
        return;
    };
    let branch = env.fx.branch.clone();
    let advice = env.fx.services[1].id.clone();
    let days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    env.ok(
        Method::PUT,
        &format!("/api/v1/branches/{branch}/services/{advice}/plan"),
        &env.admin,
        json!({
            "weekly": days.iter().map(|d| json!({ "day": d, "open": "09:00:00", "close": "10:00:00" })).collect::<Vec<_>>(),
            "slot_interval_secs": 1800,
            "duration_secs": 1800,
            "capacity": 1,
            "horizon_days": 7,
            "waitlist_offer_secs": 3600
        }),
    )
    .await;
    // Someone holds the first time of the last day.
    let tehran = FixedOffset::east_opt(3 * 3600 + 1800).unwrap();
    let last_day = (Utc::now().with_timezone(&tehran) + chrono::TimeDelta::days(7)).date_naive();
    let start = last_day
        .and_hms_opt(9, 0, 0)
        .unwrap()
        .and_local_timezone(tehran)
        .unwrap()
        .with_timezone(&Utc);
    let (status, first) = env
        .api(
            Method::POST,
            &format!("/api/v1/branches/{branch}/bookings"),
            None,
            Some(json!({ "service": advice, "start": start, "holder": { "email": "first@example.com" } })),
        )
        .await;
    assert!(status.is_success(), "{status} {first}");

    let phone = env.browser(PHONE.0, PHONE.1).await;
    env.open(&phone, &format!("/booking/{branch}?lang=en"))
        .await;
    wait_text(&phone, "h1", |t| t == "Book a visit").await;
    click(&phone, &format!("label[for=booking-day-{last_day}]")).await;
    let slot = format!("label[for=booking-slot-{}]", start.format("%Y%m%d%H%M%S"));
    wait_text(&phone, &format!("{slot} .meta"), |t| t == "full · waitlist").await;
    click(&phone, &slot).await;
    fill(&phone, "#booking-email", "second@example.com").await;
    wait_text(&phone, ".booking-submit", |t| t == "Join the waitlist").await;
    click(&phone, ".booking-submit").await;
    wait_text(&phone, ".booking-head .badge", |t| t == "On the waitlist").await;
    wait_text(&phone, "#booking-time", |t| t == "09:00 – 09:30").await;
    env.screenshot(&phone, "waitlisted").await;

    // The first holder cancels: the place is offered, and accepted on the page.
    env.ok(
        Method::POST,
        &format!(
            "/api/v1/branches/{branch}/bookings/{}/cancel",
            first["code"].as_str().unwrap()
        ),
        &env.admin,
        Value::Null,
    )
    .await;
    phone.refresh().await.unwrap();
    wait_text(&phone, ".booking-head .badge", |t| t == "Place offered").await;
    wait_text(&phone, ".booking-offer p", |t| {
        t.starts_with("A place is free for you!")
    })
    .await;
    env.screenshot(&phone, "offered").await;
    click(&phone, ".booking-accept").await;
    wait_text(&phone, ".booking-head .badge", |t| t == "Confirmed").await;
    wait_text(&phone, "#status", |t| t == "Your booking is confirmed.").await;
    let code = wait_text(&phone, ".booking-code", |t| t.len() == 8).await;
    let (_, booked) = env
        .api(
            Method::GET,
            &format!("/api/v1/branches/{branch}/bookings/{code}"),
            None,
            None,
        )
        .await;
    assert_eq!(booked["state"], "confirmed");
    phone.close().await.unwrap();
}

#[tokio::test]
async fn a_walk_up_survey_skips_hidden_questions_and_its_response_is_stored() {
    let Some(env) = env("customer-survey").await else {
        return;
    };
    let survey = env
        .ok(
            Method::POST,
            "/api/v1/surveys",
            &env.admin,
            json!({
                "name": "Walk-up test",
                "title": { "en": "How was your visit?", "fa": "مراجعهٔ شما چطور بود؟" },
                "triggers": { "link": true },
                "questions": [
                    { "key": "nps", "required": true, "kind": { "type": "nps" },
                      "prompt": { "en": "Would you recommend us?", "fa": "ما را به دیگران پیشنهاد می‌کنید؟" } },
                    { "key": "reason", "kind": { "type": "single_choice", "options": [
                        { "key": "wait", "label": { "en": "The wait", "fa": "انتظار" } },
                        { "key": "staff", "label": { "en": "The staff", "fa": "کارکنان" } } ] },
                      "show_if": { "question": "nps", "test": "score_at_most", "value": 6 },
                      "prompt": { "en": "What went wrong?", "fa": "چه چیزی خوب نبود؟" } },
                    { "key": "csat", "required": true, "kind": { "type": "csat" },
                      "prompt": { "en": "How satisfied are you?", "fa": "چقدر راضی هستید؟" } },
                    { "key": "comment", "kind": { "type": "free_text", "max_chars": 200 },
                      "prompt": { "en": "Anything else?", "fa": "نکتهٔ دیگری دارید؟" } }
                ]
            }),
        )
        .await;
    let id = survey["id"].as_str().unwrap();

    let phone = env.browser(PHONE.0, PHONE.1).await;
    env.open(&phone, &format!("/survey/{}/{id}?lang=fa", env.fx.branch))
        .await;
    wait_text(&phone, "h1", |t| t == "مراجعهٔ شما چطور بود؟").await;
    assert_dir(&phone, "rtl").await;
    wait_text(&phone, "[data-question=nps] legend", |t| {
        t.contains("ما را به دیگران پیشنهاد می‌کنید؟")
    })
    .await;
    wait_text(&phone, "label[for=q-nps-9] .n", |t| t == "۹").await;
    // The follow-up shows only after a low score.
    let hidden = "return !document.querySelector('[data-question=reason]')";
    assert_eq!(js(&phone, hidden).await, Value::Bool(true));
    click(&phone, "label[for=q-nps-3]").await;
    wait_text(&phone, "[data-question=reason] legend", |t| {
        t.contains("چه چیزی خوب نبود؟")
    })
    .await;
    click(&phone, "label[for=q-reason-staff]").await;
    env.screenshot(&phone, "follow-up").await;
    click(&phone, "label[for=q-nps-9]").await;
    wait_js(&phone, hidden).await;

    // A required question left out is pointed at, nothing is sent.
    click(&phone, ".survey-send").await;
    wait_for(&phone, "[data-question=csat].survey-missing").await;
    wait_text(&phone, "#status", |t| t.contains("چقدر راضی هستید؟")).await;
    click(&phone, "label[for=q-csat-4]").await;
    fill(&phone, "#q-comment", "کارکنان بسیار مهربان بودند").await;
    env.screenshot(&phone, "answered").await;
    click(&phone, ".survey-send").await;
    wait_text(&phone, ".survey-end h1", |t| t == "سپاسگزاریم!").await;
    env.screenshot(&phone, "thanks").await;

    // Stored: one response, a promoter (the hidden follow-up's answer dropped).
    let results = env
        .ok(
            Method::GET,
            &format!("/api/v1/surveys/results?survey={id}"),
            &env.admin,
            Value::Null,
        )
        .await;
    assert_eq!(results["overall"]["responses"], 1, "{results}");
    assert_eq!(results["overall"]["nps"], 100.0, "{results}");

    // The same visitor coming back to the link is told it is answered.
    phone.refresh().await.unwrap();
    wait_text(&phone, ".survey-end h1", |t| t == "پیش‌تر پاسخ داده شده").await;

    // English, for a new visitor.
    let other = env.browser(PHONE.0, PHONE.1).await;
    env.open(&other, &format!("/survey/{}/{id}?lang=en", env.fx.branch))
        .await;
    wait_text(&other, "h1", |t| t == "How was your visit?").await;
    assert_dir(&other, "ltr").await;
    wait_text(&other, "label[for=q-csat-5] .w", |t| t == "Very satisfied").await;
    phone.close().await.unwrap();
    other.close().await.unwrap();
}

#[tokio::test]
async fn the_finder_lists_the_branch_with_its_waits_and_links() {
    let Some(env) = env("customer-find").await else {
        return;
    };
    let branch = env.fx.branch.clone();
    env.ok(
        Method::PUT,
        &format!("/api/v1/branches/{branch}/info"),
        &env.admin,
        json!({
            "address": { "en": "1 Test Street", "fa": "خیابان آزمایش، پلاک ۱" },
            "location": { "lat": 35.7, "lon": 51.4 },
            "phone": "+982100000000"
        }),
    )
    .await;
    for _ in 0..2 {
        public_ticket(&env).await;
    }
    let phone = env.browser(PHONE.0, PHONE.1).await;
    env.open(&phone, &format!("/find/{}?lang=en", env.fx.organization))
        .await;
    wait_text(&phone, "h1", |t| t == "Find a branch").await;
    let card = format!("article[data-branch='{branch}']");
    wait_text(&phone, &format!("{card} h2"), |t| t == "Test branch").await;
    wait_text(&phone, &format!("{card} .badge"), |t| t == "Open").await;
    wait_text(&phone, &format!("{card} .find-address"), |t| {
        t == "1 Test Street"
    })
    .await;
    wait_text(&phone, &format!("{card} tr[data-service=A] td"), |t| {
        t == "Cash"
    })
    .await;
    wait_text(
        &phone,
        &format!("{card} tr[data-service=A] td:nth-child(2)"),
        |t| t == "2",
    )
    .await;
    wait_text(
        &phone,
        &format!("{card} tr[data-service=B] td:nth-child(2)"),
        |t| t == "0",
    )
    .await;
    let join = phone
        .find(Locator::Css(&format!("{card} a.button.primary")))
        .await
        .unwrap();
    assert_eq!(
        join.attr("href").await.unwrap().as_deref(),
        Some(format!("/join/{branch}").as_str())
    );
    env.screenshot(&phone, "en").await;

    // In Persian, by the picker: names and figures in Persian.
    click(&phone, ".cust-bar button[lang=fa]").await;
    wait_text(&phone, &format!("{card} h2"), |t| t == "شعبهٔ آزمایشی").await;
    assert_dir(&phone, "rtl").await;
    wait_text(
        &phone,
        &format!("{card} tr[data-service=A] td:nth-child(2)"),
        |t| t == "۲",
    )
    .await;
    wait_text(&phone, &format!("{card} .badge"), |t| t == "باز").await;
    env.screenshot(&phone, "fa").await;

    // Joining from the finder.
    click(&phone, &format!("{card} a.button.primary")).await;
    wait_text(&phone, "h1", |t| t == "گرفتن نوبت از راه دور").await;
    phone.close().await.unwrap();
}
