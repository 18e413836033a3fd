//! Real tus clients — tus-js-client (npm) and tuspy (PyPI), installed by `scripts/test`
//! into `target/tus-clients` — upload to a running server, whole and interrupted then
//! resumed by a new client process.

use crate::all_backends;
use crate::helpers::TestApp;
use crate::tus::{stored_recording, video, Tus};
use std::path::PathBuf;
use std::process::Command;

const MIB: usize = 1024 * 1024;

#[derive(Debug, Clone, Copy)]
enum Client {
    Js,
    Py,
}

/// Where `scripts/test` installed the clients.
fn installed() -> PathBuf {
    let dir = std::env::var_os("DASHVAULT_TUS_CLIENTS").map_or_else(
        || {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../target/tus-clients"
            ))
        },
        PathBuf::from,
    );
    for needed in ["node_modules/tus-js-client", "py/tusclient"] {
        assert!(
            dir.join(needed).exists(),
            "{} is missing: run ./scripts/test, which installs tus-js-client and tuspy into \
             target/tus-clients (or point DASHVAULT_TUS_CLIENTS at such a directory)",
            dir.join(needed).display()
        );
    }
    dir
}

/// Run one client process to completion; its exit code and output.
async fn run(
    client: Client,
    app: &TestApp,
    token: &str,
    file: &std::path::Path,
    url_file: &std::path::Path,
    stop_after: Option<usize>,
) -> (i32, String) {
    let scripts = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients"));
    let clients = installed();
    let mut command = match client {
        Client::Js => {
            let mut c = Command::new("node");
            c.arg(scripts.join("upload.cjs"))
                .env("NODE_PATH", clients.join("node_modules"));
            c
        }
        Client::Py => {
            let mut c = Command::new("python3");
            c.arg(scripts.join("upload.py"))
                .env("PYTHONPATH", clients.join("py"));
            c
        }
    };
    command
        .arg(app.url("/api/v1/uploads"))
        .arg(token)
        .arg(file)
        .arg(r#"{"kind": "recording", "start": "2026-11-20T07:30:00Z", "filename": "front.mp4"}"#)
        .arg((MIB).to_string())
        .arg(url_file);
    if let Some(stop) = stop_after {
        command.arg(stop.to_string());
    }
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .unwrap_or_else(|e| {
            panic!("can not run the {client:?} tus client (node and python3 are needed): {e}")
        });
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code().unwrap_or(-1), text)
}

async fn upload_whole(app: TestApp, client: Client) {
    let token = app.sign_in("+14155550100").await;
    let dir = tempfile::tempdir().unwrap();
    let file = video(&format!("{client:?} whole"), 3 * MIB + 12_345);
    std::fs::write(dir.path().join("front.mp4"), &file).unwrap();
    let (code, output) = run(
        client,
        &app,
        &token,
        &dir.path().join("front.mp4"),
        &dir.path().join("url"),
        None,
    )
    .await;
    assert_eq!(code, 0, "{output}");
    assert_eq!(stored_recording(&app, &token).await, file);
}

async fn upload_interrupted_and_resumed(app: TestApp, client: Client) {
    let token = app.sign_in("+14155550100").await;
    let dir = tempfile::tempdir().unwrap();
    let file = video(&format!("{client:?} resumed"), 7 * MIB + 777);
    let path = dir.path().join("front.mp4");
    let url_file = dir.path().join("url");
    std::fs::write(&path, &file).unwrap();
    let (code, output) = run(client, &app, &token, &path, &url_file, Some(3 * MIB)).await;
    assert_eq!(code, 3, "{output}");
    let url = std::fs::read_to_string(&url_file).unwrap();
    let upload_path = url.trim().trim_start_matches(&app.url(""));
    let offset = Tus::new(&app, &token).offset(upload_path).await;
    assert!(
        offset >= 3 * MIB as u64 && offset < file.len() as u64,
        "offset {offset}"
    );
    let (code, output) = run(client, &app, &token, &path, &url_file, None).await;
    assert_eq!(code, 0, "{output}");
    assert_eq!(stored_recording(&app, &token).await, file);
}

async fn tus_js_client_uploads(app: TestApp) {
    upload_whole(app, Client::Js).await;
}

async fn tus_js_client_resumes_in_a_new_process(app: TestApp) {
    upload_interrupted_and_resumed(app, Client::Js).await;
}

async fn tuspy_uploads(app: TestApp) {
    upload_whole(app, Client::Py).await;
}

async fn tuspy_resumes_in_a_new_process(app: TestApp) {
    upload_interrupted_and_resumed(app, Client::Py).await;
}

all_backends![
    tus_js_client_uploads,
    tus_js_client_resumes_in_a_new_process,
    tuspy_uploads,
    tuspy_resumes_in_a_new_process,
];
