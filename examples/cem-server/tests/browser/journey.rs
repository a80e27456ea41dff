//! The whole journey across the pages, in both languages.

use crate::support::{env, js, wait_text};

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
