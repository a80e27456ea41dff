//! Mapping of sqlx errors onto the port's [`StoreError`].

use cem_core::StoreError;
use sqlx::migrate::MigrateError;

/// SQLSTATE of a unique-key violation.
const UNIQUE_VIOLATION: &str = "23505";

/// Maps a driver error: a unique violation is a conflict, a connection that cannot be had is
/// unavailability, everything else is the backend's.
pub(crate) fn map_sqlx(error: sqlx::Error) -> StoreError {
    let message = error.to_string();
    match classify(&error) {
        Class::Conflict => StoreError::Conflict { what: message },
        Class::Unavailable => StoreError::Unavailable { message },
        Class::Backend => StoreError::Backend { message },
    }
}

/// Maps a migration error the same way as a driver error.
pub(crate) fn map_migrate(error: MigrateError) -> StoreError {
    map_sqlx(sqlx::Error::Migrate(Box::new(error)))
}

enum Class {
    Conflict,
    Unavailable,
    Backend,
}

fn classify(error: &sqlx::Error) -> Class {
    match error {
        sqlx::Error::Database(db) => match db.code().as_deref() {
            Some(UNIQUE_VIOLATION) => Class::Conflict,
            Some(code) if is_unavailable_sqlstate(code) => Class::Unavailable,
            _ => Class::Backend,
        },
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => Class::Unavailable,
        sqlx::Error::Migrate(migrate) => match &**migrate {
            MigrateError::Execute(inner) | MigrateError::ExecuteMigration(inner, _) => {
                match classify(inner) {
                    // A unique violation inside a migration is a bug, not a caller's race.
                    Class::Conflict => Class::Backend,
                    other => other,
                }
            }
            _ => Class::Backend,
        },
        _ => Class::Backend,
    }
}

/// SQLSTATEs that say "the server cannot serve you now", not "your request is wrong":
/// class 08 (connection exception), 53 (insufficient resources: too many connections, disk
/// full), 57P01..57P03 (shutdown, crash recovery, cannot connect now).
fn is_unavailable_sqlstate(code: &str) -> bool {
    code.starts_with("08") || code.starts_with("53") || matches!(code, "57P01" | "57P02" | "57P03")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_and_io_errors_are_unavailable() {
        assert!(matches!(
            map_sqlx(sqlx::Error::PoolTimedOut),
            StoreError::Unavailable { .. }
        ));
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert!(matches!(
            map_sqlx(sqlx::Error::Io(io)),
            StoreError::Unavailable { .. }
        ));
    }

    #[test]
    fn decode_errors_are_backend() {
        assert!(matches!(
            map_sqlx(sqlx::Error::RowNotFound),
            StoreError::Backend { .. }
        ));
    }

    #[tokio::test]
    #[cfg_attr(not(cem_postgres), ignore = "CEM_TEST_POSTGRES_URL not set")]
    async fn a_unique_violation_is_a_conflict() {
        use sqlx::Connection;
        let url = crate::testing::admin_url().expect("CEM_TEST_POSTGRES_URL names the server");
        let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
        sqlx::query("CREATE TEMP TABLE cem_unique (k INT PRIMARY KEY)")
            .execute(&mut conn)
            .await
            .unwrap();
        let insert = "INSERT INTO cem_unique VALUES (1)";
        sqlx::query(insert).execute(&mut conn).await.unwrap();
        let err = sqlx::query(insert).execute(&mut conn).await.unwrap_err();
        assert!(matches!(map_sqlx(err), StoreError::Conflict { .. }));
        let err = sqlx::query("SELECT * FROM no_such_table")
            .execute(&mut conn)
            .await
            .unwrap_err();
        assert!(matches!(map_sqlx(err), StoreError::Backend { .. }));
    }

    #[test]
    fn unavailable_sqlstates() {
        assert!(is_unavailable_sqlstate("08006"));
        assert!(is_unavailable_sqlstate("53300"));
        assert!(is_unavailable_sqlstate("57P01"));
        assert!(!is_unavailable_sqlstate("23505"));
        assert!(!is_unavailable_sqlstate("42P01"));
    }
}
