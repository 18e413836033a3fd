//! `dashvault admin jobs` on a database (the SQLite file of the data directory, or a
//! PostgreSQL database named by `--database-url`) that holds jobs in every state, opened
//! by this test at the same time (as a running server would hold it).

use chrono::{TimeZone, Utc};
use dashvault_store::model::{JobState, NewJob};
use serde_json::json;
use std::path::Path;
use std::process::{Command, Output};

fn admin_jobs(data_dir: &Path, args: &[&str]) -> Output {
    admin_jobs_on(data_dir, None, args)
}

/// `dashvault admin jobs ARGS` with this data directory, and this database if given.
fn admin_jobs_on(data_dir: &Path, database_url: Option<&str>, args: &[&str]) -> Output {
    let database = database_url.map(|url| ["--database-url", url]);
    Command::new(env!("CARGO_BIN_EXE_dashvault"))
        .args(["admin", "jobs", "--data-dir"])
        .arg(data_dir)
        .args(database.iter().flatten())
        .args(args)
        .env_remove("DASHVAULT_DATABASE_URL")
        .env_remove("DASHVAULT_CONFIG")
        .output()
        .expect("run dashvault admin jobs")
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "dashvault admin jobs failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).expect("UTF-8 output")
}

fn json_list(output: &Output) -> Vec<serde_json::Value> {
    serde_json::from_str(&stdout(output)).expect("a JSON list")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_jobs_lists_queued_running_and_failed_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("dashvault.db").display());
    lists_queued_running_and_failed(dir.path(), &url, None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_jobs_lists_queued_running_and_failed_on_postgres() {
    let dir = tempfile::tempdir().unwrap();
    let db = dashvault_store::testkit::postgres_test_database().await;
    lists_queued_running_and_failed(dir.path(), db.url(), Some(db.url())).await;
    assert!(
        !dir.path().join("dashvault.db").exists(),
        "--database-url wins"
    );
}

/// Jobs in every state in the database at `url`, listed by `admin jobs` run with
/// `--data-dir dir` and `--database-url database_flag` when given.
async fn lists_queued_running_and_failed(dir: &Path, url: &str, database_flag: Option<&str>) {
    let admin_jobs = |args: &'static [&'static str]| admin_jobs_on(dir, database_flag, args);
    let repo = dashvault_store::open(url).await.expect("open the database");
    let now = Utc.with_ymd_and_hms(2026, 11, 20, 8, 0, 0).unwrap();
    let lease = now + chrono::TimeDelta::minutes(1);
    for kind in ["prune_auth", "delete", "thumbnail"] {
        repo.enqueue(&NewJob::new(kind, json!({})), now)
            .await
            .unwrap();
    }
    let later = now + chrono::TimeDelta::hours(1);
    let archive = NewJob::new("archive", json!({ "drive": "d1" })).run_at(later);
    repo.enqueue(&archive, now).await.unwrap();
    let done = repo
        .claim("w", &["prune_auth"], now, lease)
        .await
        .unwrap()
        .unwrap();
    assert!(repo.complete(done.id, "w", now).await.unwrap());
    let failed = repo
        .claim("w", &["delete"], now, lease)
        .await
        .unwrap()
        .unwrap();
    let error = "no such drive:\nd1";
    repo.fail(failed.id, "w", error, None, now).await.unwrap();
    let running = repo
        .claim("w", &["thumbnail"], now, lease)
        .await
        .unwrap()
        .unwrap();

    let table = stdout(&admin_jobs(&[]));
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("ID")
            && lines[0].contains("KIND  ")
            && lines[0].ends_with("LAST ERROR"),
        "{table}"
    );
    let row = |kind: &str| {
        lines
            .iter()
            .find(|line| line.contains(kind))
            .unwrap_or_else(|| panic!("no {kind} row in\n{table}"))
            .to_string()
    };
    assert!(row("thumbnail").contains("running"), "{table}");
    assert!(
        row("thumbnail").contains(&running.id.to_string()),
        "{table}"
    );
    assert!(row("archive").contains("queued") && row("archive").contains("0/5"));
    assert!(row("archive").contains("2026-11-20 09:00:00Z"), "{table}");
    assert!(row("delete").contains("failed") && row("delete").contains("no such drive: d1"));
    assert!(
        !table.contains("prune_auth"),
        "done jobs are not listed by default:\n{table}"
    );
    assert!(
        table.ends_with("1 queued, 1 running, 1 failed, 1 done\n"),
        "{table}"
    );
    assert_eq!(
        lines.len(),
        4 + 2,
        "header, three jobs, blank, counts:\n{table}"
    );

    let done_jobs = json_list(&admin_jobs(&["--state", "done", "--json"]));
    assert_eq!(done_jobs.len(), 1);
    assert_eq!(done_jobs[0]["kind"], "prune_auth");
    assert_eq!(done_jobs[0]["state"], "done");

    let some = json_list(&admin_jobs(&[
        "--state", "failed", "--state", "queued", "--json",
    ]));
    let states: Vec<&str> = some.iter().map(|j| j["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["failed", "queued"], "next to run first");
    assert_eq!(some[0]["last_error"], error);
    assert_eq!(some[1]["payload"], json!({ "drive": "d1" }));
    assert_eq!(some[1]["run_at"], "2026-11-20T09:00:00Z");

    let limited = json_list(&admin_jobs(&["--limit", "1", "--json"]));
    assert_eq!(limited.len(), 1);

    // The database is still open here, as the server would hold it.
    assert_eq!(repo.count_jobs().await.unwrap().running, 1);
    assert_eq!(
        repo.job(running.id).await.unwrap().map(|j| j.state),
        Some(JobState::Running)
    );
}

#[tokio::test]
async fn admin_jobs_reads_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let url = format!("sqlite://{}", data.join("dashvault.db").display());
    let repo = dashvault_store::open(&url)
        .await
        .expect("open the database");
    repo.enqueue(&NewJob::new("telemetry", json!({})), Utc::now())
        .await
        .unwrap();
    let config = dir.path().join("dashvault.toml");
    std::fs::write(
        &config,
        format!("data_dir = {:?}\n", data.display().to_string()),
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_dashvault"))
        .args(["admin", "jobs", "--json", "--config"])
        .arg(&config)
        .env_remove("DASHVAULT_DATA_DIR")
        .env_remove("DASHVAULT_DATABASE_URL")
        .current_dir(dir.path())
        .output()
        .unwrap();
    let jobs = json_list(&output);
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0]["kind"], "telemetry");
}

#[test]
fn admin_jobs_refuses_an_unknown_state() {
    let dir = tempfile::tempdir().unwrap();
    let output = admin_jobs(dir.path(), &["--state", "stuck"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("'stuck'") && stderr.contains("queued, running, done, failed"),
        "{stderr}"
    );
    assert!(!dir.path().join("dashvault.db").exists(), "nothing opened");
}
