//! `dashvault serve` as a user runs it: a real process, driven over HTTP, signed in with
//! the code it prints, stopped with SIGTERM.

use crate::process::Spawned;
use std::process::{Command, Stdio};
use std::sync::mpsc::Receiver;

use crate::process::{base_url, lines, wait_for};

/// A running `dashvault serve` with its output lines.
struct Served {
    child: Spawned,
    stdout: Receiver<String>,
    stderr: Receiver<String>,
    base: String,
}

fn serve(args: &[&str], envs: &[(&str, &str)]) -> Served {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dashvault"));
    command
        .arg("serve")
        .args(args)
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in envs {
        command.env(key, value);
    }
    let mut child = command
        .spawn()
        .map(Spawned::from)
        .expect("dashvault serve starts");
    let stdout = lines(child.stdout.take().unwrap());
    let stderr = lines(child.stderr.take().unwrap());
    let base = base_url(&wait_for(&stderr, "listening on http://"));
    Served {
        child,
        stdout,
        stderr,
        base,
    }
}

impl Served {
    fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(killed.success());
        let status = self.child.wait().unwrap();
        wait_for(&self.stderr, "shutting down");
        status
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_in_end_to_end_against_the_real_binary() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let served = serve(
        &[
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            data.to_str().unwrap(),
        ],
        &[],
    );
    let http = reqwest::Client::new();
    let phone = "+14155550100";
    let response = http
        .post(format!("{}/api/v1/auth/code", served.base))
        .json(&serde_json::json!({ "phone": phone }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let line = wait_for(&served.stdout, "code ");
    let at = line.find("code ").unwrap() + 5;
    let code = &line[at..at + 6];
    assert!(code.bytes().all(|b| b.is_ascii_digit()), "{line}");

    let signed_in: serde_json::Value = http
        .post(format!("{}/api/v1/auth/verify", served.base))
        .json(&serde_json::json!({ "phone": phone, "code": code }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = signed_in["token"].as_str().expect("a token");
    let me: serde_json::Value = http
        .get(format!("{}/api/v1/me", served.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["phone"], phone);

    assert!(served.terminate().success(), "graceful exit on SIGTERM");
    assert!(
        data.join("dashvault.db").exists(),
        "embedded SQLite in the data dir"
    );
    assert!(data.join("secret.key").exists(), "generated secret kept");
}

#[test]
fn config_file_env_and_flags_layer() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let file = dir.path().join("dashvault.toml");
    std::fs::write(
        &file,
        format!(
            "listen = \"127.0.0.1:1\"\ndata_dir = \"{}\"\ncode_ttl = \"7m\"\nlog_format = \"json\"\n",
            data.display()
        ),
    )
    .unwrap();
    // The flag wins over the file's listen address; the file's JSON log format applies.
    let served = serve(
        &[
            "--config",
            file.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ],
        &[],
    );
    assert!(served.base.starts_with("http://127.0.0.1:"));
    assert!(!served.base.ends_with(":1"));
    served.terminate();
    assert!(data.join("dashvault.db").exists(), "data_dir from the file");

    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "listen_adress = \"x\"\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_dashvault"))
        .args(["serve", "--config", bad.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("unknown setting `listen_adress`"),
        "{stderr}"
    );

    let output = Command::new(env!("CARGO_BIN_EXE_dashvault"))
        .args(["serve", "--data-dir", data.to_str().unwrap()])
        .env("DASHVAULT_LISTEN", "not an address")
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(2),
        "clap rejects a bad env value"
    );
}

#[test]
fn serve_help_shows_every_setting_and_its_default() {
    let output = Command::new(env!("CARGO_BIN_EXE_dashvault"))
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    for expected in [
        "--database-url",
        "sqlite://<data-dir>/dashvault.db",
        "--blob-url",
        "--listen",
        "127.0.0.1:8080",
        "--data-dir",
        "./dashvault-data",
        "--code-ttl",
        "[default: 5m]",
        "DASHVAULT_DATABASE_URL",
        "--sms",
    ] {
        assert!(
            help.contains(expected),
            "`serve --help` lacks {expected}:\n{help}"
        );
    }
}
