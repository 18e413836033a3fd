//! The conformance suite every repository engine must pass, written once, and the
//! throw-away databases to run it on.
//!
//! Each suite case is a `pub async fn(Arc<dyn Repo>)` that panics when the engine breaks a
//! rule of the [`Repo`](crate::Repo) contract; it expects a freshly migrated, empty repository.
//! `tests/conformance.rs` runs every case on SQLite and on PostgreSQL (a new case is added
//! to the list in its `conformance!` invocation, under its module). The database helpers
//! ([`sqlite_test_database`], [`postgres_test_database`]) are public so the server's tests
//! can start from the same fresh databases.

pub mod archive;
pub mod devices;
pub mod evidence;
pub mod health;
pub mod jobs;
pub mod library;
pub mod login_codes;
pub mod media;
pub mod sessions;
pub mod shares;
pub mod uploads;
pub mod users;

use chrono::{DateTime, TimeDelta, Utc};
use std::time::Duration;
use url::Url;

/// Environment variable naming the PostgreSQL server tests may create databases on.
pub const POSTGRES_URL_VAR: &str = "DASHVAULT_TEST_POSTGRES_URL";

/// The PostgreSQL server tests use when [`POSTGRES_URL_VAR`] is not set (the one
/// `./scripts/test` starts, trust authentication).
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// How long to wait for the test PostgreSQL server before declaring it unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A fresh, empty database that exists as long as this value: a SQLite file in a
/// temporary directory, or a PostgreSQL database created for one test and dropped (with
/// its connections) when this value is dropped.
#[derive(Debug)]
pub struct TestDatabase {
    url: String,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    Sqlite { _dir: tempfile::TempDir },
    Postgres { admin_url: String, name: String },
}

impl TestDatabase {
    /// The URL to hand to [`crate::open`] (or to the server's configuration).
    pub fn url(&self) -> &str {
        &self.url
    }
}

/// A SQLite database file in a new temporary directory, in a sub-directory that does not
/// exist yet (so opening it also checks that the engine creates missing directories).
///
/// Panics if the temporary directory can not be made.
pub fn sqlite_test_database() -> TestDatabase {
    let dir = tempfile::tempdir().expect("cannot create a temporary directory for SQLite");
    let url = format!(
        "sqlite://{}",
        dir.path().join("data/dashvault.db").display()
    );
    TestDatabase {
        url,
        cleanup: Cleanup::Sqlite { _dir: dir },
    }
}

/// A new, empty database on the test PostgreSQL server ([`POSTGRES_URL_VAR`], default
/// [`DEFAULT_POSTGRES_URL`]), named `dv_test_<random>`, so tests can run in parallel.
///
/// Panics, naming the server and saying how to start one, if it can not be reached: a
/// missing PostgreSQL fails the test, it never skips it.
pub async fn postgres_test_database() -> TestDatabase {
    use sqlx::Connection;

    let admin_url = std::env::var(POSTGRES_URL_VAR).unwrap_or_else(|_| DEFAULT_POSTGRES_URL.into());
    let mut url = Url::parse(&admin_url)
        .unwrap_or_else(|e| panic!("{POSTGRES_URL_VAR}={admin_url:?} is not a URL: {e}"));
    let unreachable = |why: String| -> ! {
        panic!(
            "PostgreSQL at {} is unreachable ({why}). Run ./scripts/test, which starts one, \
             or point {POSTGRES_URL_VAR} at a server where this user may create databases.",
            redacted(&url)
        )
    };
    let mut admin = match tokio::time::timeout(
        CONNECT_TIMEOUT,
        sqlx::PgConnection::connect(&admin_url),
    )
    .await
    {
        Ok(Ok(conn)) => conn,
        Ok(Err(e)) => unreachable(e.to_string()),
        Err(_) => unreachable(format!("no answer within {CONNECT_TIMEOUT:?}")),
    };
    let name = format!("dv_test_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut admin)
        .await
        .unwrap_or_else(|e| panic!("cannot create database {name} on {}: {e}", redacted(&url)));
    // Closing is a courtesy to the server; the database exists either way.
    let _ = admin.close().await;
    url.set_path(&format!("/{name}"));
    TestDatabase {
        url: url.into(),
        cleanup: Cleanup::Postgres { admin_url, name },
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Cleanup::Postgres { admin_url, name } = &self.cleanup else {
            return; // the temporary directory removes itself
        };
        // Drop may run inside an async test's runtime, which must not be blocked on;
        // a short-lived thread with its own runtime does the work.
        let (admin_url, name) = (admin_url.clone(), name.clone());
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(drop_database(&admin_url, &name))
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("warning: test database {} not dropped: {e}", self.url),
            Err(_) => eprintln!("warning: dropping test database {} panicked", self.url),
        }
    }
}

async fn drop_database(admin_url: &str, name: &str) -> Result<(), String> {
    use sqlx::Connection;

    let mut admin = sqlx::PgConnection::connect(admin_url)
        .await
        .map_err(|e| e.to_string())?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .execute(&mut admin)
        .await
        .map_err(|e| e.to_string())?;
    admin.close().await.map_err(|e| e.to_string())
}

/// The URL for messages, with any password masked.
fn redacted(url: &Url) -> String {
    let mut url = url.clone();
    if url.password().is_some() {
        // Only fails for URLs that can not have a password, which this one has.
        let _ = url.set_password(Some("***"));
    }
    url.into()
}

/// The suite's clock: `ms` milliseconds after 2026-01-01T00:00:00Z.
fn at(ms: i64) -> DateTime<Utc> {
    const BASE: DateTime<Utc> = DateTime::from_timestamp_nanos(1_767_225_600_000_000_000);
    BASE + TimeDelta::milliseconds(ms)
}

/// One minute, in the suite clock's milliseconds.
const MINUTE: i64 = 60_000;

/// One hour, in the suite clock's milliseconds.
const HOUR: i64 = 60 * MINUTE;
