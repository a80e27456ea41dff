//! Browser tests of the manager dashboard (`/dashboard`): the live status of a branch, the
//! KPI report beside what the API gives, charts and CSV exports, in English and in Persian.

use fantoccini::{Client, Locator};
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{self, Env, PASSWORD, click, fill, js, wait_for, wait_text};

/// The demo's Berlin branch.
const BERLIN: &str = "cede0000-0003-0001-0000-000000000000";

/// Persian digits only (and separators), no Latin digit.
fn persian_number(text: &str) -> bool {
    !text.is_empty()
        && text.chars().any(|c| ('۰'..='۹').contains(&c))
        && !text.chars().any(|c| c.is_ascii_digit())
}

/// The digits of a number as written in English (`1,234` → 1234).
fn english_number(text: &str) -> Option<u64> {
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Issues `n` tickets of the fixture's service `prefix` through the API.
async fn issue(env: &Env, prefix: &str, n: usize) {
    let service = env.fx.services.iter().find(|s| s.prefix == prefix).unwrap();
    for _ in 0..n {
        env.ok(
            Method::POST,
            &format!("/api/v1/branches/{}/tickets", env.fx.branch),
            &env.admin,
            json!({ "service": service.id }),
        )
        .await;
    }
}

/// Signs `login` in on the dashboard at `path`.
async fn sign_in(env: &Env, client: &Client, path: &str, login: &str) {
    env.open(client, path).await;
    fill(client, "#login", login).await;
    fill(client, "#password", PASSWORD).await;
    click(client, "form.sign-in button[type=submit]").await;
}

/// The waiting count shown for the fixture's branch.
fn waiting_figure(env: &Env) -> String {
    format!(
        ".live-branch[data-branch='{}'] [data-figure='waiting'] .figure-value",
        env.fx.branch
    )
}

#[tokio::test]
async fn manager_sees_the_live_status_of_the_branch() {
    let Some(env) = support::env("dashboard_live").await else {
        return;
    };
    issue(&env, "A", 2).await;
    issue(&env, "B", 1).await;
    let browser = env.browser(1280, 900).await;
    sign_in(&env, &browser, "/dashboard?lang=en", &env.fx.manager_login).await;
    wait_text(&browser, "nav.tabs button[aria-current='page']", |t| {
        t == "Live"
    })
    .await;
    let waiting = waiting_figure(&env);
    wait_text(&browser, &waiting, |t| t == "3").await;
    // A manager sees their own branch only.
    let cards = js(
        &browser,
        "return document.querySelectorAll('.live-branch').length",
    )
    .await;
    assert_eq!(cards, json!(1));
    let a = &env.fx.services[0].id;
    wait_text(
        &browser,
        &format!("tr[data-service='{a}'] td[data-col='waiting']"),
        |t| t == "2",
    )
    .await;
    // A ticket issued now shows without reloading: the staff stream refreshes the status.
    issue(&env, "A", 1).await;
    wait_text(&browser, &waiting, |t| t == "4").await;
    wait_text(
        &browser,
        &format!("tr[data-service='{a}'] td[data-col='waiting']"),
        |t| t == "3",
    )
    .await;
    env.screenshot(&browser, "live-en").await;
    browser.close().await.unwrap();
}

#[tokio::test]
async fn admin_reads_the_kpis_of_berlin_with_charts_and_csv() {
    let Some(env) = support::env("dashboard_reports").await else {
        return;
    };
    let browser = env.browser(1400, 1000).await;
    env.store(&browser, "cem.token", &env.admin).await;
    // A report's address names what it shows, so it can be bookmarked.
    env.open(
        &browser,
        &format!("/dashboard?lang=en&branch={BERLIN}&by=branch#reports"),
    )
    .await;
    wait_for(&browser, "#kpi-table[data-by='branch']").await;
    let chosen = js(
        &browser,
        "return [document.querySelector('#report-branch').value, document.querySelector('#report-by').value];",
    )
    .await;
    assert_eq!(chosen, json!([BERLIN, "branch"]));
    let cell = format!("#kpi-table tr[data-key='{BERLIN}'] td[data-col='arrived']");
    let shown = wait_text(&browser, &cell, |t| english_number(t).is_some()).await;
    let row_name = wait_text(
        &browser,
        &format!("#kpi-table tr[data-key='{BERLIN}'] th"),
        |t| !t.is_empty(),
    )
    .await;
    assert_eq!(row_name, "Berlin");
    // The same figure as the API's for the window the page asked for.
    let window = js(
        &browser,
        "const t = document.querySelector('#kpi-table'); return [t.dataset.from, t.dataset.to];",
    )
    .await;
    let (from, to) = (window[0].as_str().unwrap(), window[1].as_str().unwrap());
    let query = format!(
        "/api/v1/reports/kpis?by=branch&branch={BERLIN}&from={}&to={}",
        urlencode(from),
        urlencode(to)
    );
    let report = env.ok(Method::GET, &query, &env.admin, Value::Null).await;
    let arrived = report["rows"][0]["arrived"].as_u64().unwrap();
    assert!(arrived > 100, "two weeks of demo history: {report}");
    assert_eq!(english_number(&shown), Some(arrived), "shown {shown:?}");
    let served = report["rows"][0]["served"].as_u64().unwrap();
    let shown_served = wait_text(
        &browser,
        &format!("#kpi-table tr[data-key='{BERLIN}'] td[data-col='served']"),
        |t| !t.is_empty(),
    )
    .await;
    assert_eq!(english_number(&shown_served), Some(served));
    // The charts load (fetched with the token, shown through Blob URLs).
    for chart in ["waits", "service-level"] {
        wait_until(
            &browser,
            &format!(
                "const i = document.querySelector(\"img[data-chart='{chart}']\"); \
                 return !!i && i.complete && i.naturalWidth > 0 && i.src.startsWith('blob:');"
            ),
        )
        .await;
    }
    // The CSV export is offered as a download of what the API wrote.
    click(&browser, "button[data-csv='kpis']").await;
    let link = wait_for(&browser, "a.download-ready[data-file='kpis.csv']").await;
    assert_eq!(
        link.attr("download").await.unwrap().as_deref(),
        Some("kpis.csv")
    );
    let csv = js(
        &browser,
        "return fetch(document.querySelector(\"a[data-file='kpis.csv']\").href).then(r => r.text());",
    )
    .await;
    let csv = csv.as_str().unwrap();
    assert!(csv.lines().next().unwrap().contains("arrived"), "{csv}");
    assert!(csv.contains(&arrived.to_string()), "{csv}");
    env.screenshot(&browser, "reports-en").await;
    browser.close().await.unwrap();
}

#[tokio::test]
async fn persian_dashboard_writes_persian_digits_right_to_left() {
    let Some(env) = support::env("dashboard_fa").await else {
        return;
    };
    issue(&env, "A", 2).await;
    let browser = env.browser(1280, 900).await;
    sign_in(&env, &browser, "/dashboard?lang=fa", &env.fx.manager_login).await;
    wait_text(&browser, "nav.tabs button[aria-current='page']", |t| {
        t == "وضعیت زنده"
    })
    .await;
    assert_eq!(
        js(&browser, "return document.documentElement.dir").await,
        "rtl"
    );
    wait_text(&browser, &waiting_figure(&env), |t| t == "۲").await;
    wait_text(
        &browser,
        &format!(".live-branch[data-branch='{}'] h3", env.fx.branch),
        |t| t.contains("شعبهٔ آزمایشی"),
    )
    .await;
    env.screenshot(&browser, "live-fa").await;
    // Reports: figures in Persian digits, dates in the Jalali calendar.
    env.store(&browser, "cem.token", &env.admin).await;
    env.open(&browser, "/dashboard?lang=fa#reports").await;
    wait_for(&browser, "#kpi-table").await;
    wait_for(&browser, "#report-branch")
        .await
        .select_by_value(BERLIN)
        .await
        .unwrap();
    wait_for(&browser, "#report-by")
        .await
        .select_by_value("branch")
        .await
        .unwrap();
    click(&browser, "#report-form button[type=submit]").await;
    let cell = format!("#kpi-table tr[data-key='{BERLIN}'] td[data-col='arrived']");
    wait_text(&browser, &cell, persian_number).await;
    wait_text(
        &browser,
        &format!("#kpi-table tr[data-key='{BERLIN}'] th"),
        |t| t == "برلین",
    )
    .await;
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
    let caption = wait_text(&browser, "#kpi-table caption", |t| !t.is_empty()).await;
    assert!(
        months.iter().any(|m| caption.contains(m)),
        "a Jalali month in {caption:?}"
    );
    assert!(!caption.chars().any(|c| c.is_ascii_digit()), "{caption:?}");
    wait_text(&browser, "button[data-csv='kpis']", |t| t.contains("CSV")).await;
    wait_until(
        &browser,
        "const i = document.querySelector(\"img[data-chart='waits']\"); \
         return !!i && i.complete && i.naturalWidth > 0;",
    )
    .await;
    env.screenshot(&browser, "reports-fa").await;
    browser.close().await.unwrap();
}

/// Waits until `script` (a function body) returns true.
async fn wait_until(client: &Client, script: &str) {
    let started = std::time::Instant::now();
    while started.elapsed() < support::PATIENCE {
        if js(client, script).await == json!(true) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let _ = client.find(Locator::Css("body")).await;
    panic!("never true: {script}");
}

/// `text` for a query string (RFC 3339 instants: `+` and `:`).
fn urlencode(text: &str) -> String {
    text.replace('+', "%2B").replace(':', "%3A")
}
