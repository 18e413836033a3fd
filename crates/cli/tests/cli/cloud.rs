//! The cloud the agent tests talk to: a real `dashvault serve` with a signed-in user and
//! a camera registered for them, and `dashvault agent run --once` for that camera.

use crate::uploads::Server;
use std::path::Path;
use std::process::Command;

/// A server with a signed-in user and one device of theirs.
pub(crate) struct Cloud {
    pub(crate) server: Server,
    pub(crate) http: reqwest::Client,
    pub(crate) session: String,
    pub(crate) device_token: String,
}

impl Cloud {
    /// Serve from `data`, sign in as `phone` and register camera `serial`.
    pub(crate) async fn start(data: &Path, phone: &str, serial: &str) -> Self {
        let server = Server::start(data);
        let http = reqwest::Client::new();
        let session = server.sign_in(&http, phone).await;
        let device: serde_json::Value = http
            .post(server.url("/api/v1/devices"))
            .bearer_auth(&session)
            .json(&serde_json::json!({
                "model": "BlackVue DR900X-2CH", "serial": serial, "uploads_drives": true
            }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Self {
            device_token: device["token"].as_str().expect("a device token").to_owned(),
            server,
            http,
            session,
        }
    }

    /// `GET path` as the user.
    pub(crate) async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(self.server.url(path))
            .bearer_auth(&self.session)
            .send()
            .await
            .unwrap()
    }

    /// `GET path` as the user, which must answer `200` with JSON.
    pub(crate) async fn get_json(&self, path: &str) -> serde_json::Value {
        let response = self.get(path).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.unwrap()
    }

    /// `dashvault agent run --once` of this cloud's camera on `camera` with storage
    /// `storage` and `extra` flags; it must succeed. Its standard output.
    pub(crate) fn run_once(&self, camera: &Path, storage: &Path, extra: &[&str]) -> String {
        let out = Command::new(env!("CARGO_BIN_EXE_dashvault"))
            .args(["agent", "run", "--once", "--server", &self.server.base])
            .args(["--token", &self.device_token, "--camera"])
            .arg(camera)
            .arg("--storage")
            .arg(storage)
            .args(extra)
            .env_remove("RUST_LOG")
            .output()
            .expect("run dashvault agent run");
        assert!(
            out.status.success(),
            "dashvault agent run --once failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}
