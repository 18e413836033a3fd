//! Sending what the policy allows now, first in line first, each upload resumed from the
//! offset the server holds (`HEAD` on the URL kept in the queue row), failed attempts
//! retried with exponential backoff and "equal" jitter.

use super::network::Network;
use super::policy::{self, Decision, Policy};
use super::queue::{Kind, Priority, Queue, QueuedUpload, Status};
use crate::cloud::tus::{ChunkProgress, CHUNK_SIZE};
use crate::cloud::{Client, CloudError};
use crate::state::StateError;
use chrono::Utc;
use dashvault_domain::backoff::{Backoff, Jitter};
use dashvault_domain::upload::key;
use reqwest::StatusCode;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::time::Instant;

/// Uploading stopped on an error of the agent itself (its database); server and network
/// errors are counted in the [`Report`] and retried instead.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// The state database failed.
    #[error(transparent)]
    State(#[from] StateError),
}

/// When [`Uploader::run`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    /// Once everything the policy allows now is sent (or failed its attempts).
    Idle,
    /// Like `Idle`, but no new upload or retry is started after this instant.
    Deadline(Instant),
}

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Uploads the server accepted.
    pub uploaded: usize,
    /// Uploads the policy (or a backoff from an earlier failure) holds back for now.
    pub held_back: usize,
    /// Uploads that failed: refused for good, or out of attempts for this run (they
    /// are tried again on a later run, after their backoff).
    pub failed: usize,
    /// Bytes the server acknowledged in this run.
    pub bytes_sent: u64,
    /// Why the run stopped before the end of the queue: the server could not be reached
    /// (after the retries of one upload) or refused the device token. What was left is
    /// counted as held back, untouched, for the next run.
    pub stopped: Option<String>,
}

/// How an upload is getting on, for a progress bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// The queue row.
    pub id: i64,
    /// The file name.
    pub filename: String,
    /// Bytes the server holds or that are on their way.
    pub sent: u64,
    /// The file's size.
    pub size: u64,
}

/// A progress hook.
pub type ProgressHook = Arc<dyn Fn(&Progress) + Send + Sync>;

/// Backoff between failed attempts: `base · 2^attempt`, at most `max`, with "equal
/// jitter" (a random wait between half of that and all of it), so many agents do not
/// retry in step and none retries at once (the shared
/// [`dashvault_domain::backoff::Backoff`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// The first backoff's upper bound.
    pub base: Duration,
    /// The largest backoff's upper bound.
    pub max: Duration,
    /// Attempts per upload in one run.
    pub attempts: u32,
}

impl Default for Retry {
    fn default() -> Self {
        Self {
            base: Duration::from_millis(500),
            max: Duration::from_secs(60),
            attempts: 5,
        }
    }
}

impl Retry {
    /// The wait after failed attempt number `attempt` (0-based).
    pub fn backoff(&self, attempt: u32) -> Duration {
        Backoff {
            base: self.base,
            max: self.max,
            jitter: Jitter::Equal,
        }
        .delay(attempt, fastrand::f64())
    }
}

/// Sends the queue's uploads. The backoff after failures holds for the runs of one
/// uploader (the watching loop); a new process tries every upload at once.
#[derive(Clone, Default)]
pub struct Uploader {
    chunk_size: Option<u64>,
    retry: Retry,
    progress: Option<ProgressHook>,
    /// Queue rows not to be tried again before these instants.
    backoff: Arc<Mutex<HashMap<i64, Instant>>>,
}

impl std::fmt::Debug for Uploader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Uploader")
            .field("chunk_size", &self.chunk_size)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

/// How one upload ended in a run (with the bytes the server acknowledged).
enum Outcome {
    Uploaded(u64),
    Failed(u64),
    /// Failed in a way every other upload would too (no server, token refused).
    Stop(u64, CloudError),
    /// Its file is gone (loop deletion), or it was cancelled.
    Gone,
}

impl Uploader {
    /// An uploader with [`CHUNK_SIZE`] chunks and the default [`Retry`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Send `PATCH` bodies of `bytes` (at least 1).
    pub fn with_chunk_size(mut self, bytes: u64) -> Self {
        self.chunk_size = Some(bytes.max(1));
        self
    }

    /// Retry with these settings.
    pub fn with_retry(mut self, retry: Retry) -> Self {
        self.retry = retry;
        self
    }

    /// Call `hook` as bytes go out (for a progress bar).
    pub fn with_progress(mut self, hook: ProgressHook) -> Self {
        self.progress = Some(hook);
        self
    }

    /// Upload what `policy` allows now, first in line first, until `until`.
    pub async fn run(
        &self,
        queue: &Queue,
        client: &Client,
        policy: &Policy,
        until: Until,
    ) -> Result<Report, UploadError> {
        let mut report = Report::default();
        let deadline = match until {
            Until::Idle => None,
            Until::Deadline(at) => Some(at),
        };
        for upload in queue.pending().await? {
            let spent = policy::cellular_spent(queue.state(), Utc::now()).await?;
            let decision = if upload.item.priority == Priority::Sidecar {
                let partners = queue
                    .media_overlapping(upload.item.start, upload.item.end)
                    .await?;
                policy.decide_sidecar(&partners, spent)
            } else {
                policy.decide(&upload, spent)
            };
            let waiting = self
                .backoff_map()
                .get(&upload.id)
                .is_some_and(|at| *at > Instant::now());
            let late = deadline.is_some_and(|at| Instant::now() >= at);
            if let Decision::HeldBack(why) = decision {
                tracing::debug!(file = %upload.item.filename, why, "held back");
                report.held_back += 1;
                continue;
            }
            if waiting || late || report.stopped.is_some() {
                report.held_back += 1;
                continue;
            }
            match self.send(queue, client, policy, &upload, deadline).await? {
                Outcome::Uploaded(bytes) => {
                    report.uploaded += 1;
                    report.bytes_sent += bytes;
                }
                Outcome::Failed(bytes) => {
                    report.failed += 1;
                    report.bytes_sent += bytes;
                }
                Outcome::Stop(bytes, error) => {
                    tracing::warn!(%error, "uploads stopped until the next run");
                    report.failed += 1;
                    report.bytes_sent += bytes;
                    report.stopped = Some(error.to_string());
                }
                Outcome::Gone => {}
            }
        }
        Ok(report)
    }

    /// Send one upload, retrying transient failures.
    async fn send(
        &self,
        queue: &Queue,
        client: &Client,
        policy: &Policy,
        upload: &QueuedUpload,
        deadline: Option<Instant>,
    ) -> Result<Outcome, UploadError> {
        let mut sent = 0;
        let mut attempt = 0;
        loop {
            let status = queue.get(upload.id).await?.map(|row| row.status);
            if status != Some(Status::Queued) {
                // Cancelled (the user deleted it) since the run listed the queue.
                return Ok(Outcome::Gone);
            }
            if !upload.item.path.exists() {
                tracing::info!(path = %upload.item.path.display(), "file gone before upload");
                queue.mark_gone(upload.id).await?;
                return Ok(Outcome::Gone);
            }
            let error = match self.attempt(queue, client, policy, upload, &mut sent).await {
                Ok(()) => {
                    self.backoff_map().remove(&upload.id);
                    queue.mark_done(upload.id).await?;
                    return Ok(Outcome::Uploaded(sent));
                }
                Err(AttemptError::State(e)) => return Err(e.into()),
                Err(AttemptError::Cloud(e)) => e,
            };
            if matches!(
                error.status(),
                Some(StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN)
            ) {
                return Ok(Outcome::Stop(sent, error));
            }
            let wait = self.retry.backoff(attempt);
            let last = attempt + 1 >= self.retry.attempts
                || deadline.is_some_and(|at| Instant::now() + wait >= at);
            if !error.is_transient() {
                tracing::warn!(file = %upload.item.filename, %error, "upload refused");
                queue
                    .mark_failed(upload.id, &error.to_string(), None)
                    .await?;
                return Ok(Outcome::Failed(sent));
            }
            if last {
                let later = self.retry.backoff(upload.attempts + attempt + 1);
                self.backoff_map().insert(upload.id, Instant::now() + later);
                let retry_at = Utc::now() + chrono::Duration::from_std(later).unwrap_or_default();
                tracing::warn!(file = %upload.item.filename, %error, "upload failed; tried again later");
                queue
                    .mark_failed(upload.id, &error.to_string(), Some(retry_at))
                    .await?;
                if matches!(error, CloudError::Transport(_)) {
                    return Ok(Outcome::Stop(sent, error));
                }
                return Ok(Outcome::Failed(sent));
            }
            tracing::info!(file = %upload.item.filename, %error, ?wait, "upload attempt failed; retrying");
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    /// One attempt: find (or create) the upload on the server, then send the rest in
    /// chunks, recording each acknowledged offset, and confirm what the server stored.
    /// `sent` grows by the bytes acknowledged.
    async fn attempt(
        &self,
        queue: &Queue,
        client: &Client,
        policy: &Policy,
        upload: &QueuedUpload,
        sent: &mut u64,
    ) -> Result<(), AttemptError> {
        let size = upload.item.size;
        // The row as stored now: an earlier attempt of this run may have moved it.
        let row = queue
            .get(upload.id)
            .await?
            .unwrap_or_else(|| upload.clone());
        let known = match &row.tus_url {
            Some(url) => client
                .tus_offset(url)
                .await?
                .map(|offset| (url.clone(), offset)),
            None => None,
        };
        let (url, mut offset) = match known {
            Some(found) => found,
            None => {
                let url = client.tus_create(size, &metadata(upload)).await?;
                queue.set_tus_url(upload.id, Some(&url)).await?;
                (url, 0)
            }
        };
        if offset >= size {
            client.tus_confirm(&url, &upload.item.sha256).await?;
            return Ok(());
        }
        let chunk = self.chunk_size.unwrap_or(CHUNK_SIZE);
        while offset < size {
            let len = chunk.min(size - offset);
            let hook = self.chunk_hook(upload, offset);
            let result = client
                .tus_patch(&url, &upload.item.path, offset, len, hook)
                .await;
            let next = match result {
                Err(e) if matches!(e.status(), Some(StatusCode::NOT_FOUND | StatusCode::GONE)) => {
                    // The server lost the upload (it expired): start again next attempt.
                    queue.set_tus_url(upload.id, None).await?;
                    return Err(e.into());
                }
                other => other?,
            };
            let acknowledged = next.saturating_sub(offset);
            *sent += acknowledged;
            if policy.network == Network::Cellular {
                policy::add_cellular(queue.state(), Utc::now(), acknowledged).await?;
            }
            queue.set_offset(upload.id, next).await?;
            offset = next;
        }
        client.tus_confirm(&url, &upload.item.sha256).await?;
        Ok(())
    }

    fn backoff_map(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Instant>> {
        self.backoff.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The progress hook of one chunk starting at `offset`.
    fn chunk_hook(&self, upload: &QueuedUpload, offset: u64) -> Option<ChunkProgress> {
        let hook = self.progress.clone()?;
        let (id, filename, size) = (upload.id, upload.item.filename.clone(), upload.item.size);
        Some(Arc::new(move |in_chunk| {
            hook(&Progress {
                id,
                filename: filename.clone(),
                sent: offset + in_chunk,
                size,
            });
        }))
    }
}

/// Why one attempt stopped.
enum AttemptError {
    State(StateError),
    Cloud(CloudError),
}

impl From<StateError> for AttemptError {
    fn from(e: StateError) -> Self {
        Self::State(e)
    }
}

impl From<CloudError> for AttemptError {
    fn from(e: CloudError) -> Self {
        Self::Cloud(e)
    }
}

/// The `Upload-Metadata` pairs of an upload (the server's README "Uploads").
fn metadata(upload: &QueuedUpload) -> Vec<(&'static str, String)> {
    let item = &upload.item;
    let mut pairs = vec![
        (key::KIND, item.kind.as_str().to_owned()),
        (
            key::START,
            item.start
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        ),
        (key::VIEW, item.view.as_str().to_owned()),
        (key::SHA256, item.sha256.clone()),
        (key::FILENAME, item.filename.clone()),
        (key::CLOCK, item.clock.as_str().to_owned()),
    ];
    if let Some(original) = item.original_size {
        // A recording rebuilt from a file the camera left without an index: the
        // camera's bytes end it, and the server keeps them as the upload's original.
        pairs.push((key::ORIGINAL_SIZE, original.to_string()));
    }
    if item.kind == Kind::Timelapse {
        // A time-lapse plays faster than it was recorded: its end on the wall clock says
        // what span of its drive it covers.
        pairs.push((
            key::END,
            item.end
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        ));
    }
    if item.kind == Kind::Clip {
        if let Some(clip) = item.clip {
            pairs.push((key::CLIP, clip.as_str().to_owned()));
        }
        if !item.incidents.is_empty() {
            if let Ok(json) = serde_json::to_string(&item.incidents) {
                pairs.push((key::INCIDENTS, json));
            }
        }
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::State;
    use crate::upload::queue::{NewUpload, View};

    #[tokio::test]
    async fn an_unreachable_server_stops_the_run_and_keeps_the_queue() {
        let dir = tempfile::tempdir().unwrap();
        let state = State::open(dir.path()).await.unwrap();
        let queue = Queue::new(state);
        let mut ids = Vec::new();
        for name in ["a.mp4", "b.mp4"] {
            let path = dir.path().join(name);
            std::fs::write(&path, b"bytes").unwrap();
            let start = Utc::now();
            ids.push(
                queue
                    .enqueue(&NewUpload {
                        path,
                        kind: Kind::Clip,
                        priority: Priority::AutoClip,
                        start,
                        end: start,
                        view: View::Road,
                        clip: None,
                        incidents: Vec::new(),
                        sha256: "0".repeat(64),
                        size: 5,
                        filename: name.into(),
                        clock: crate::upload::Clock::Camera,
                        original_size: None,
                    })
                    .await
                    .unwrap(),
            );
        }
        // Nothing listens on port 1.
        let client = Client::new("http://127.0.0.1:1".parse().unwrap(), "dvd_x").unwrap();
        let policy = Policy {
            network: Network::Wifi,
            allow_manual_on_cellular: false,
            cellular_budget: None,
            uploads_drives: true,
        };
        let retry = Retry {
            base: Duration::from_millis(1),
            max: Duration::from_millis(5),
            attempts: 3,
        };
        let uploader = Uploader::new().with_retry(retry);
        let report = uploader
            .run(&queue, &client, &policy, Until::Idle)
            .await
            .unwrap();
        assert_eq!(
            (report.uploaded, report.failed, report.held_back),
            (0, 1, 1)
        );
        assert!(report.stopped.is_some());
        let first = queue.get(ids[0]).await.unwrap().unwrap();
        assert_eq!((first.status, first.attempts), (Status::Queued, 1));
        assert!(first.next_attempt_at.is_some(), "retried after a backoff");
        let second = queue.get(ids[1]).await.unwrap().unwrap();
        assert_eq!((second.status, second.attempts), (Status::Queued, 0));

        // Between runs the same uploader waits out the backoff (at least half of a
        // minute here); a new one (a new process) tries at once.
        let patient = Uploader::new().with_retry(Retry {
            base: Duration::from_secs(60),
            max: Duration::from_secs(60),
            attempts: 1,
        });
        patient
            .run(&queue, &client, &policy, Until::Idle)
            .await
            .unwrap();
        patient
            .run(&queue, &client, &policy, Until::Idle)
            .await
            .unwrap();
        let attempts = |id| {
            let queue = queue.clone();
            async move { queue.get(id).await.unwrap().unwrap().attempts }
        };
        assert_eq!((attempts(ids[0]).await, attempts(ids[1]).await), (2, 1));
        Uploader::new()
            .with_retry(retry)
            .run(&queue, &client, &policy, Until::Idle)
            .await
            .unwrap();
        assert_eq!(attempts(ids[0]).await, 3, "a new uploader tries at once");
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let retry = Retry {
            base: Duration::from_millis(100),
            max: Duration::from_secs(1),
            attempts: 3,
        };
        for _ in 0..100 {
            let first = retry.backoff(0);
            assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
            let third = retry.backoff(2);
            assert!(third >= Duration::from_millis(200) && third <= Duration::from_millis(400));
            assert!(retry.backoff(30) <= Duration::from_secs(1));
        }
        let waits: Vec<Duration> = (0..100).map(|_| retry.backoff(3)).collect();
        assert!(waits.iter().any(|w| *w != waits[0]), "jittered");
    }
}
