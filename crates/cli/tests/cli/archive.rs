//! `dashvault admin archive run` and `admin restores …` against a running
//! `dashvault serve` on the same data directory: the archive pass returns only when the
//! old drive is archived, the owner's restore request is listed, approving it brings the
//! files back before the command returns.

use crate::uploads::{patch, tus, video, Server};
use base64::Engine as _;
use std::path::Path;
use std::process::{Command, Output};

fn admin(data: &Path, args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_dashvault"))
        .arg("admin")
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .output()
        .expect("run dashvault admin");
    assert!(
        output.status.success(),
        "dashvault admin {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Every blob file under `dir` (not the store's own `.tmp` and `.uploads`), as (name,
/// bytes).
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<_> = crate::uploads::files_under(dir)
        .into_iter()
        .filter(|p| {
            let inside = p.strip_prefix(dir).unwrap_or(p);
            !inside.to_string_lossy().starts_with('.')
        })
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn archive_run_and_restore_approval_while_serving() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let http = reqwest::Client::new();
    let server = Server::start(&data);
    let token = server.sign_in(&http, "+14155550100").await;
    let file = video(dir.path(), 1, 0);
    let start = base64::engine::general_purpose::STANDARD.encode("2025-01-10T08:00:00Z");
    let created = tus(http.post(server.url("/api/v1/uploads")), &token)
        .header("Upload-Length", file.len())
        .header(
            "Upload-Metadata",
            format!("kind cmVjb3JkaW5n,start {start}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let path = created.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(
        patch(&http, &server.url(&path), &token, 0, &file)
            .await
            .status(),
        204
    );
    let hot = files(&data.join("blobs"));
    assert_eq!(hot.len(), 1);
    assert_eq!(hot[0].1, file);

    let ran = stdout(&admin(&data, &["archive", "run", "--older-than", "30days"]));
    assert!(ran.starts_with("archived 1 drive(s)"), "{ran}");
    assert!(
        files(&data.join("blobs")).is_empty(),
        "moved out of the hot store"
    );
    assert_eq!(
        files(&data.join("archive")),
        hot,
        "unchanged in the archive store"
    );
    let drives: serde_json::Value = http
        .get(server.url("/api/v1/drives"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(drives["items"][0]["archived"], true);
    let drive = drives["items"][0]["id"].as_str().unwrap();
    let again = stdout(&admin(&data, &["archive", "run", "--older-than", "30days"]));
    assert!(again.starts_with("archived 0 drive(s)"), "{again}");

    let asked = http
        .post(server.url(&format!("/api/v1/drives/{drive}/restore")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(asked.status(), 202);
    let listed: serde_json::Value =
        serde_json::from_str(&stdout(&admin(&data, &["restores", "list", "--json"]))).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["drive"], drive);
    assert_eq!(listed[0]["state"], "requested");
    for key in ["id", "user", "requested_at"] {
        assert!(listed[0][key].is_string(), "{key} in {listed}");
    }
    let table = stdout(&admin(&data, &["restores", "list"]));
    assert!(
        table.contains("REQUESTED AT") && table.contains(drive),
        "{table}"
    );

    let id = listed[0]["id"].as_str().unwrap();
    let approved = stdout(&admin(&data, &["restores", "approve", id]));
    assert!(approved.contains(drive), "{approved}");
    assert_eq!(
        files(&data.join("blobs")),
        hot,
        "back in the hot store on return"
    );
    let item: serde_json::Value = http
        .get(server.url(&format!("/api/v1/drives/{drive}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(item["archived"], false);
    assert!(item["restored_until"].is_string());

    let denied = Command::new(env!("CARGO_BIN_EXE_dashvault"))
        .args(["admin", "restores", "deny", id, "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        !denied.status.success(),
        "a decided request can not be denied"
    );
    assert!(String::from_utf8_lossy(&denied.stderr).contains("approved already"));
    server.kill();
}
