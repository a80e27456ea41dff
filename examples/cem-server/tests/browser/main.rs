//! The web pages in a real browser: the real `cem` binary on a SQLite file with the demo,
//! headless Chromium driven through WebDriver (`chromedriver`).
//!
//! Set `CEM_TEST_CHROMEDRIVER` to the driver (`/usr/bin/chromedriver`; `.ci/run` installs
//! Debian's `chromium` and `chromium-driver` and sets it); without it every test here is
//! skipped with a printed reason. Screenshots are kept in `CEM_TEST_ARTIFACTS` (default:
//! `browser-screenshots` under the target directory's temporary folder).

mod support;

mod admin;
mod console;
mod customer;
mod dashboard;
mod display;
mod journey;
mod kiosk;
