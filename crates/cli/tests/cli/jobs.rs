//! Two `dashvault serve` processes on one PostgreSQL database share the job queue:
//! 1000 jobs queued while both run are each run exactly once, by one process or the
//! other (each claims as the queue fills, so both usually take a share; the split is
//! printed, not asserted, as it depends on when each one's idle poll wakes up).

use crate::process::Spawned;
use chrono::Utc;
use dashvault_store::model::{JobState, NewJob};
use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

const JOBS: usize = 1000;
const WAIT: Duration = Duration::from_secs(60);

/// A `dashvault serve` process logging its jobs as JSON lines on stderr.
struct Replica {
    child: Spawned,
    log: Receiver<serde_json::Value>,
}

impl Replica {
    fn start(database_url: &str, data_dir: &std::path::Path) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_dashvault"))
            .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
            .args(["--database-url", database_url, "--data-dir"])
            .arg(data_dir)
            .env("RUST_LOG", "info,dashvault_server::jobs=debug")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map(Spawned::from)
            .expect("dashvault serve starts");
        let stderr = child.stderr.take().expect("stderr is piped");
        let (tx, log) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let Ok(entry) = serde_json::from_str(&line) else {
                    continue;
                };
                if tx.send(entry).is_err() {
                    break;
                }
            }
        });
        let replica = Self { child, log };
        replica.wait_for("job worker started");
        replica
    }

    fn wait_for(&self, message: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let entry = self
                .log
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("dashvault serve never logged {message:?}"));
            if entry["fields"]["message"] == message {
                return;
            }
        }
    }

    /// Stop the process and return the ids of the jobs it logged as done.
    fn stop(mut self) -> Vec<String> {
        self.child.kill().expect("kill dashvault serve");
        self.child.wait().expect("wait for dashvault serve");
        self.log
            .try_iter()
            .filter(|entry| entry["fields"]["message"] == "job done")
            .filter_map(|entry| Some(entry["fields"]["job"].as_str()?.to_owned()))
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_serve_processes_run_each_job_once() {
    let db = dashvault_store::testkit::postgres_test_database().await;
    let repo = dashvault_store::open(db.url()).await.expect("open");
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let replicas: Vec<Replica> = dirs
        .iter()
        .map(|dir| Replica::start(db.url(), dir.path()))
        .collect();

    // `prune_auth` is a kind both run; without a dedupe key each of these is its own job.
    let mut ours = HashSet::new();
    for n in 0..JOBS {
        let job = NewJob::new("prune_auth", serde_json::json!({ "n": n }));
        ours.insert(
            repo.enqueue(&job, Utc::now())
                .await
                .unwrap()
                .job()
                .id
                .to_string(),
        );
    }
    let deadline = Instant::now() + WAIT;
    let done = loop {
        let done: Vec<_> = repo
            .list_jobs(&[JobState::Done], 10 * JOBS as u32)
            .await
            .unwrap()
            .into_iter()
            .filter(|job| ours.contains(&job.id.to_string()))
            .collect();
        if done.len() == JOBS {
            break done;
        }
        assert!(Instant::now() < deadline, "{} of {JOBS} done", done.len());
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        done.iter().all(|job| job.attempts == 1),
        "every job was claimed once"
    );

    let logged: Vec<Vec<String>> = replicas.into_iter().map(Replica::stop).collect();
    let mut seen = HashSet::new();
    for id in logged.iter().flatten().filter(|id| ours.contains(*id)) {
        assert!(seen.insert(id.clone()), "job {id} ran in both processes");
    }
    assert_eq!(seen, ours, "every job ran");
    let counts: Vec<usize> = logged
        .iter()
        .map(|ids| ids.iter().filter(|id| ours.contains(*id)).count())
        .collect();
    eprintln!("jobs run by each process: {counts:?}");
}
