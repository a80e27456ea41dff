//! Browser tests of the administration (`/admin`): an administrator creates a service and a
//! counter with its work profile through the forms, and a refused input shows the API's
//! error next to the form, in English and in Persian.

use fantoccini::Client;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{self, Env, click, fill, js, wait_for, wait_text};

/// Opens the administration at `kind` as the demo administrator, on the fixture's branch.
async fn open_kind(env: &Env, client: &Client, lang: &str, kind: &str) {
    env.store(client, "cem.token", &env.admin).await;
    env.open(client, &format!("/admin?lang={lang}#{kind}"))
        .await;
    wait_for(client, &format!("#{kind}-table")).await;
    wait_for(client, "#admin-branch")
        .await
        .select_by_value(&env.fx.branch)
        .await
        .unwrap();
    // The list of the chosen branch.
    wait_for(
        client,
        &format!("#services-table tr[data-id='{}']", env.fx.services[0].id),
    )
    .await;
}

/// The fixture branch's configuration through the API.
async fn config(env: &Env) -> Value {
    env.ok(
        Method::GET,
        &format!("/api/v1/branches/{}", env.fx.branch),
        &env.admin,
        Value::Null,
    )
    .await
}

#[tokio::test]
async fn admin_creates_a_service_and_a_counter() {
    let Some(env) = support::env("admin_create").await else {
        return;
    };
    let browser = env.browser(1280, 1000).await;
    open_kind(&env, &browser, "en", "services").await;
    wait_text(&browser, "nav.tabs button[aria-current='page']", |t| {
        t == "Services"
    })
    .await;
    click(&browser, "#new-services").await;
    fill(&browser, "#service-prefix", "C").await;
    fill(
        &browser,
        ".edit-form input[name='service-name-en']",
        "Cheques",
    )
    .await;
    fill(&browser, ".edit-form input[name='service-name-fa']", "چک").await;
    fill(&browser, ".edit-form input[name='expected']", "240").await;
    fill(&browser, ".edit-form input[name='target']", "900").await;
    env.screenshot(&browser, "service-form").await;
    click(&browser, ".edit-form button[type=submit]").await;
    wait_text(&browser, "#status", |t| t == "Saved.").await;
    wait_text(&browser, "#services-table tr[data-prefix='C']", |t| {
        t.contains("Cheques")
    })
    .await;
    let branch = config(&env).await;
    let service = branch["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["prefix"] == "C")
        .unwrap_or_else(|| panic!("no service C: {branch}"))
        .clone();
    assert_eq!(service["name"], json!({ "en": "Cheques", "fa": "چک" }));
    assert_eq!(service["expected_service_secs"], 240);
    assert_eq!(service["target_wait_secs"], 900);
    assert_eq!(service["takes_appointments"], false);
    let id = service["id"].as_str().unwrap().to_owned();

    // A counter 3 that serves the new service first and A second, with interleaving.
    click(&browser, "nav.tabs button[data-tab='counters']").await;
    wait_for(
        &browser,
        &format!("#counters-table tr[data-id='{}']", env.fx.counters[0]),
    )
    .await;
    click(&browser, "#new-counters").await;
    fill(&browser, "#counter-number", "3").await;
    fill(
        &browser,
        ".edit-form input[name='counter-name-en']",
        "Cheque desk",
    )
    .await;
    wait_for(&browser, ".edit-form select[name='policy']")
        .await
        .select_by_value("interleave")
        .await
        .unwrap();
    click(&browser, &format!(".edit-form input[data-service='{id}']")).await;
    let a = env.fx.services[0].id.clone();
    click(&browser, &format!(".edit-form input[data-service='{a}']")).await;
    js(
        &browser,
        &format!(
            "const box = document.querySelector(\".edit-form input[data-service='{a}']\"); \
             box.closest('tr').querySelector('input[type=number]').value = '2';"
        ),
    )
    .await;
    click(&browser, ".edit-form button[type=submit]").await;
    wait_text(&browser, "#counters-table tr[data-number='3']", |t| {
        t.contains("Cheque desk") && t.contains("Interleave")
    })
    .await;
    env.screenshot(&browser, "counter-saved").await;
    let branch = config(&env).await;
    let counter = branch["counters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["number"] == 3)
        .unwrap_or_else(|| panic!("no counter 3: {branch}"))
        .clone();
    assert_eq!(counter["name"], json!({ "en": "Cheque desk" }));
    assert_eq!(counter["profile"]["policy"], "interleave");
    assert_eq!(counter["profile"]["classes"], Value::Null);
    let mut profile = counter["profile"]["services"].as_array().unwrap().clone();
    profile.sort_by_key(|p| p["rank"].as_u64());
    assert_eq!(
        profile,
        vec![
            json!({ "service": id, "rank": 1, "weight": 1 }),
            json!({ "service": a, "rank": 2, "weight": 1 }),
        ]
    );
    browser.close().await.unwrap();
}

#[tokio::test]
async fn a_refused_input_shows_the_api_error_in_persian() {
    let Some(env) = support::env("admin_refused").await else {
        return;
    };
    let browser = env.browser(1280, 1000).await;
    open_kind(&env, &browser, "fa", "services").await;
    assert_eq!(
        js(&browser, "return document.documentElement.dir").await,
        "rtl"
    );
    wait_text(&browser, "nav.tabs button[aria-current='page']", |t| {
        t == "خدمت‌ها"
    })
    .await;
    // The fixture's services: their timings in Persian digits.
    wait_text(
        &browser,
        &format!(
            "#services-table tr[data-id='{}'] td.num",
            env.fx.services[0].id
        ),
        |t| t == "۱۸۰",
    )
    .await;
    // A second service with the prefix A: the API refuses it, the form says why.
    click(&browser, "#new-services").await;
    fill(&browser, "#service-prefix", "A").await;
    fill(
        &browser,
        ".edit-form input[name='service-name-fa']",
        "تکراری",
    )
    .await;
    fill(
        &browser,
        ".edit-form input[name='service-name-en']",
        "Duplicate",
    )
    .await;
    click(&browser, ".edit-form button[type=submit]").await;
    let error = wait_text(&browser, ".edit-form .form-error", |t| !t.is_empty()).await;
    assert!(error.contains("prefix"), "{error:?}");
    assert!(error.contains("\"A\""), "{error:?}");
    env.screenshot(&browser, "refused-fa").await;
    // Nothing was created, and the form keeps what was typed.
    let branch = config(&env).await;
    assert_eq!(branch["services"].as_array().unwrap().len(), 2, "{branch}");
    let typed = js(
        &browser,
        "return document.querySelector(\"input[name='service-name-en']\").value",
    )
    .await;
    assert_eq!(typed, "Duplicate");
    browser.close().await.unwrap();
}

#[tokio::test]
async fn a_branch_manager_changes_only_what_they_may() {
    let Some(env) = support::env("admin_manager").await else {
        return;
    };
    let browser = env.browser(1280, 900).await;
    env.open(&browser, "/admin?lang=en#services").await;
    fill(&browser, "#login", &env.fx.manager_login).await;
    fill(&browser, "#password", support::PASSWORD).await;
    click(&browser, "form.sign-in button[type=submit]").await;
    // Their own branch only, whose services they may change.
    wait_for(
        &browser,
        &format!("#services-table tr[data-id='{}']", env.fx.services[0].id),
    )
    .await;
    let branches = js(
        &browser,
        "return [...document.querySelectorAll('#admin-branch option')].map(o => o.value);",
    )
    .await;
    assert_eq!(branches, json!([env.fx.branch]));
    wait_for(&browser, "#new-services").await;
    // Users are the administrator's; agents they only look at.
    let tabs = js(
        &browser,
        "return [...document.querySelectorAll('nav.tabs button')].map(b => b.dataset.tab);",
    )
    .await;
    assert!(
        !tabs.as_array().unwrap().contains(&json!("users")),
        "{tabs}"
    );
    click(&browser, "nav.tabs button[data-tab='agents']").await;
    wait_text(&browser, "#agents-table", |t| t.contains("Test Agent")).await;
    wait_text(&browser, "p.read-only", |t| {
        t.contains("only an administrator changes them")
    })
    .await;
    let new_agent = js(
        &browser,
        "return document.querySelector('#new-agents') === null;",
    )
    .await;
    assert_eq!(new_agent, json!(true));
    env.screenshot(&browser, "manager-agents").await;
    browser.close().await.unwrap();
}
