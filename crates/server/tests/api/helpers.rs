//! `spawn_app`: a server on a free port with a clock the test moves and an SMS sender
//! that keeps what it sent, over either database engine.

use async_trait::async_trait;
use chrono::{TimeZone, Utc};
use dashvault_server::auth::sms::SmsSender;
use dashvault_server::clock::ManualClock;
use dashvault_server::config::{
    ArchiveConfig, AuthConfig, LimitsConfig, ServerConfig, SmsConfig, UploadConfig, WebConfig,
};
use dashvault_server::state::AppState;
use dashvault_server::Server;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// Which metadata engine a test runs on.
#[derive(Debug, Clone, Copy)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// Runs one async test body on both engines: `both_engines!(name, body_fn)`.
#[macro_export]
macro_rules! both_engines {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name($crate::helpers::spawn_app($crate::helpers::Engine::Sqlite).await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name($crate::helpers::spawn_app($crate::helpers::Engine::Postgres).await).await;
                }
            )*
        }
    };
}

/// Keeps every message instead of sending it.
#[derive(Default)]
pub struct RecordingSms(Mutex<Vec<(String, String)>>);

#[async_trait]
impl SmsSender for RecordingSms {
    async fn send(&self, to: &str, text: &str) -> Result<(), String> {
        self.0
            .lock()
            .unwrap()
            .push((to.to_owned(), text.to_owned()));
        Ok(())
    }
}

impl RecordingSms {
    /// Messages sent so far.
    pub fn count(&self) -> usize {
        self.0.lock().unwrap().len()
    }

    /// The code in the last message to `phone`.
    pub fn last_code(&self, phone: &str) -> String {
        let messages = self.0.lock().unwrap();
        let (_, text) = messages
            .iter()
            .rev()
            .find(|(to, _)| to == phone)
            .unwrap_or_else(|| panic!("no SMS was sent to {phone}"));
        code_in(text)
    }
}

/// The six digits after the word `code` in a message.
pub fn code_in(text: &str) -> String {
    let start = text.find("code ").expect("the message has no `code `") + 5;
    let code = &text[start..start + 6];
    assert!(code.bytes().all(|b| b.is_ascii_digit()), "{text}");
    code.to_owned()
}

/// A running server and the handles a test needs.
pub struct TestApp {
    pub addr: SocketAddr,
    pub http: reqwest::Client,
    pub clock: Arc<ManualClock>,
    pub sms: Arc<RecordingSms>,
    pub state: AppState,
    pub database_url: String,
    _database: dashvault_store::testkit::TestDatabase,
    _dir: tempfile::TempDir,
}

pub fn test_config(database_url: String, dir: &std::path::Path) -> ServerConfig {
    ServerConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        database_url,
        blob_url: format!("file://{}", dir.join("blobs").display()),
        auth: AuthConfig::with_secret(b"test secret key that is long enough!".to_vec()),
        sms: SmsConfig::Console,
        limits: LimitsConfig::default(),
        uploads: UploadConfig::default(),
        web: WebConfig::default(),
        archive: ArchiveConfig::with_url(format!("file://{}", dir.join("archive").display())),
        evidence_key: dashvault_server::evidence::key::EvidenceKey::generate(),
    }
}

pub async fn spawn_app(engine: Engine) -> TestApp {
    spawn_app_with(engine, |_| {}).await
}

/// A server whose configuration `adjust` may change first. With the console sender (the
/// default) messages are recorded in `sms`; another configured sender is used as it is.
pub async fn spawn_app_with(engine: Engine, adjust: impl FnOnce(&mut ServerConfig)) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let database = match engine {
        Engine::Sqlite => dashvault_store::testkit::sqlite_test_database(),
        Engine::Postgres => dashvault_store::testkit::postgres_test_database().await,
    };
    let database_url = database.url().to_owned();
    let mut config = test_config(database_url.clone(), dir.path());
    adjust(&mut config);
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 11, 20, 8, 0, 0).unwrap(),
    ));
    let sms = Arc::new(RecordingSms::default());
    let mut state = AppState::from_config(&config, clock.clone())
        .await
        .expect("state");
    if matches!(config.sms, SmsConfig::Console) {
        state.sms = sms.clone();
    }
    // Tests run the job queue themselves (Worker::run_one), without a racing worker.
    let server = Server::bind_with_state(config.listen, state.clone())
        .await
        .expect("bind")
        .without_jobs();
    let addr = server.local_addr().unwrap();
    tokio::spawn(server.run(std::future::pending()));
    TestApp {
        addr,
        http: reqwest::Client::new(),
        clock,
        sms,
        state,
        database_url,
        _database: database,
        _dir: dir,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn post_json(&self, path: &str, body: serde_json::Value) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn request_code(&self, phone: &str) -> reqwest::Response {
        self.post_json("/api/v1/auth/code", serde_json::json!({ "phone": phone }))
            .await
    }

    pub async fn verify(&self, phone: &str, code: &str) -> reqwest::Response {
        self.post_json(
            "/api/v1/auth/verify",
            serde_json::json!({ "phone": phone, "code": code }),
        )
        .await
    }

    /// Sign `phone` in and return its session token.
    pub async fn sign_in(&self, phone: &str) -> String {
        assert_eq!(self.request_code(phone).await.status(), 202);
        let code = self.sms.last_code(phone);
        let response = self.verify(phone, &code).await;
        assert_eq!(response.status(), 200);
        let body: serde_json::Value = response.json().await.unwrap();
        body["token"].as_str().unwrap().to_owned()
    }

    pub async fn get_with(&self, path: &str, token: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// Every value stored in the database, as text, for searching for leaked secrets.
    pub async fn database_dump(&self) -> String {
        if let Some(path) = self.database_url.strip_prefix("sqlite://") {
            let mut dump = Vec::new();
            for suffix in ["", "-wal"] {
                if let Ok(bytes) = std::fs::read(format!("{path}{suffix}")) {
                    dump.extend_from_slice(&bytes);
                }
            }
            String::from_utf8_lossy(&dump).into_owned()
        } else {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&self.database_url)
                .await
                .unwrap();
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'",
            )
            .fetch_all(&mut conn)
            .await
            .unwrap();
            let mut dump = String::new();
            for table in tables {
                let rows: Vec<String> =
                    sqlx::query_scalar(&format!("SELECT t::text FROM \"{table}\" t"))
                        .fetch_all(&mut conn)
                        .await
                        .unwrap();
                for row in rows {
                    dump.push_str(&row);
                    dump.push('\n');
                }
            }
            dump
        }
    }
}
