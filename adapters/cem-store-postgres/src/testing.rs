//! Throwaway databases for tests and benches, shared by this crate's tests, its conformance
//! harness and its bench (and usable by an embedder's own tests).
//!
//! Tests against PostgreSQL run only when [`URL_VAR`] names a server, as an administrator URL
//! (`postgres://postgres@127.0.0.1:5432/postgres`); each test then creates a database of its
//! own, so tests run in parallel and leave nothing behind.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use cem_core::StoreError;
use sqlx::{Connection, PgConnection};

use crate::error::map_sqlx;

/// The environment variable naming the administrator URL of the test server.
pub const URL_VAR: &str = "CEM_TEST_POSTGRES_URL";

/// The administrator URL from [`URL_VAR`], or the reason to skip (`"CEM_TEST_POSTGRES_URL not
/// set"`).
pub fn admin_url() -> Result<String, String> {
    match std::env::var(URL_VAR) {
        Ok(url) if !url.trim().is_empty() => Ok(url),
        _ => Err(format!("{URL_VAR} not set")),
    }
}

/// A database created for one test (`cem_test_<pid>_<time>_<n>`), dropped when this value is
/// dropped, even when the test panics. Connections still open to it are terminated then.
#[derive(Debug)]
pub struct TestDatabase {
    admin_url: String,
    name: String,
    url: String,
    dropped: bool,
}

impl TestDatabase {
    /// Creates a fresh, empty database on the server of `admin_url`.
    ///
    /// # Errors
    /// `Unavailable` when the server cannot be reached, `Backend` when it refuses.
    pub async fn create(admin_url: &str) -> Result<Self, StoreError> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let name = format!(
            "cem_test_{}_{}_{}",
            std::process::id(),
            nanos,
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut admin = PgConnection::connect(admin_url).await.map_err(map_sqlx)?;
        let created = sqlx::query(&format!(r#"CREATE DATABASE "{name}""#))
            .execute(&mut admin)
            .await;
        let _ = admin.close().await;
        created.map_err(map_sqlx)?;
        Ok(Self {
            url: with_database(admin_url, &name),
            admin_url: admin_url.to_owned(),
            name,
            dropped: false,
        })
    }

    /// The URL of the new database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Drops the database now, terminating connections still open to it.
    ///
    /// # Errors
    /// `Unavailable` or `Backend`.
    pub async fn drop_database(mut self) -> Result<(), StoreError> {
        self.dropped = true;
        drop_database(&self.admin_url, &self.name).await
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
        // Drop may run inside an async runtime, which must not be blocked on itself: do the
        // work on a thread with a runtime of its own. Failing to clean up is not a test failure.
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        let worker = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            let _ = runtime.block_on(drop_database(&admin_url, &name));
        });
        let _ = worker.join();
    }
}

async fn drop_database(admin_url: &str, name: &str) -> Result<(), StoreError> {
    let mut admin = PgConnection::connect(admin_url).await.map_err(map_sqlx)?;
    let dropped = sqlx::query(&format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#))
        .execute(&mut admin)
        .await;
    let _ = admin.close().await;
    dropped.map(|_| ()).map_err(map_sqlx)
}

/// `url` with its database (the path) replaced by `name`, query parameters kept.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority = base.find("://").map_or(0, |i| i + 3);
    let path = base[authority..]
        .find('/')
        .map_or(base.len(), |i| authority + i);
    let mut out = format!("{}/{name}", &base[..path]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_is_replaced_and_the_query_kept() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://u:p@h/db?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://h:5432", "x"),
            "postgres://h:5432/x"
        );
    }
}
