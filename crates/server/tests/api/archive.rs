//! The archive tier: old drives move to the archive store and back by an approved
//! restore, checked by SHA-256 of every file; clips stay; a worker killed between the
//! copy and the delete loses nothing and leaves no second copy; the operator API.

use crate::helpers::{spawn_app_with, Engine, TestApp};
use crate::library::device;
use crate::tus::{json, metadata, recording, sha256_hex, video, Tus};
use async_trait::async_trait;
use dashvault_server::archive::{self, ArchiveDrive, ARCHIVE_PASS};
use dashvault_server::clock::{Clock, ManualClock};
use dashvault_server::jobs::{JobEnd, Outcome, Worker, WorkerConfig};
use dashvault_store::blob::{
    BlobKey, BlobMeta, BlobStore, ByteStream, PartReceipt, Result as BlobResult, UploadId,
};
use dashvault_store::model::NewJob;
use futures_util::stream::BoxStream;
use futures_util::TryStreamExt;
use serde_json::Value;
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use uuid::Uuid;

const OPERATOR: &str = "operator-token-for-tests-0123456789abcdef";

async fn app(engine: Engine) -> TestApp {
    spawn_app_with(engine, |c| c.archive.operator_token = Some(OPERATOR.into())).await
}

/// A user with an old drive of two recordings (and a clip in it) and a recent drive; the
/// session, the user id and the ids of the old and the recent drive. The jobs the
/// uploads queued (thumbnails) have run.
async fn library(app: &TestApp) -> (String, Uuid, Uuid, Uuid) {
    let session = app.sign_in("+14155550100").await;
    let (_, token) = device(app, &session, "car").await;
    let tus = Tus::new(app, &token);
    for (seed, start) in [
        ("old-1", "2026-09-01T08:00:00Z"),
        ("old-2", "2026-09-01T08:00:10Z"),
        ("recent", "2026-11-19T08:00:00Z"),
    ] {
        let (_, done) = tus
            .upload(&video(seed, 0), &recording(start), 1 << 20)
            .await;
        assert_eq!(done.status(), 204);
    }
    let clip = metadata(&[("kind", "clip"), ("start", "2026-09-01T08:00:02Z")]);
    let (_, done) = tus.upload(&video("clip", 0), &clip, 1 << 20).await;
    assert_eq!(done.status(), 204);
    settle(app).await;
    let me = json(app, "/api/v1/me", &session).await;
    let user = me["id"].as_str().unwrap().parse().unwrap();
    let drives = json(app, "/api/v1/drives", &session).await;
    let id = |i: usize| drives["items"][i]["id"].as_str().unwrap().parse().unwrap();
    (session, user, id(1), id(0))
}

/// The blob keys of a drive's files.
async fn keys(app: &TestApp, user: Uuid, drive: Uuid) -> Vec<BlobKey> {
    let recordings = app.state.repo.drive_recordings(user, drive).await.unwrap();
    recordings
        .into_iter()
        .map(|r| BlobKey::new(r.file.blob_key).unwrap())
        .collect()
}

/// SHA-256 of the blob under `key` in `store`, `None` when it is not there.
async fn digest(store: &dyn BlobStore, key: &BlobKey) -> Option<String> {
    let meta = match store.head(key).await {
        Ok(meta) => meta,
        Err(e) if e.is_not_found() => return None,
        Err(e) => panic!("head {key}: {e}"),
    };
    let chunks: Vec<_> = store
        .get_range(key, 0..meta.len)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    Some(sha256_hex(&chunks.concat()))
}

/// Where each of `keys` is: its digest in the hot store and in the archive store.
async fn placement(app: &TestApp, keys: &[BlobKey]) -> Vec<(Option<String>, Option<String>)> {
    let mut out = Vec::new();
    for key in keys {
        out.push((
            digest(app.state.blobs.as_ref(), key).await,
            digest(app.state.archive.as_ref(), key).await,
        ));
    }
    out
}

/// Run queued jobs until none is left or running, each to success. The server's own
/// worker runs jobs too, so jobs it holds are waited for.
pub async fn settle(app: &TestApp) {
    let worker = Worker::for_state(&app.state, WorkerConfig::default());
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        match worker.run_one().await.unwrap() {
            Outcome::Ran(ran) => assert_eq!(ran.end, JobEnd::Done, "{ran:?}"),
            Outcome::Empty => {
                let counts = app.state.repo.count_jobs().await.unwrap();
                assert_eq!(counts.failed, 0, "a job failed");
                if counts.queued == 0 && counts.running == 0 {
                    return;
                }
                assert!(
                    std::time::Instant::now() < deadline,
                    "jobs never finished: {counts:?}"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
}

async fn archive_pass(app: &TestApp) {
    let job = NewJob::new(ARCHIVE_PASS, serde_json::json!({}));
    app.state.repo.enqueue(&job, app.clock.now()).await.unwrap();
    settle(app).await;
}

async fn drive_item(app: &TestApp, session: &str, drive: Uuid) -> Value {
    json(app, &format!("/api/v1/drives/{drive}"), session).await
}

async fn post(app: &TestApp, path: &str, token: &str) -> reqwest::Response {
    app.http
        .post(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// Old drives go to the archive (files moved, SHA-256 unchanged, listed as archived), the
/// recent one and every clip stay; the owner requests a restore (`202`, once), the
/// operator approves it, the files are back in the hot store until the restore ends,
/// and then return to the archive.
async fn archive_and_restore_round_trip(engine: Engine) {
    let app = app(engine).await;
    let (session, user, old, recent) = library(&app).await;
    let old_keys = keys(&app, user, old).await;
    let recent_keys = keys(&app, user, recent).await;
    assert_eq!(old_keys.len(), 2);
    let before = placement(&app, &old_keys).await;
    assert!(before
        .iter()
        .all(|(hot, cold)| hot.is_some() && cold.is_none()));
    let digests: Vec<String> = before.into_iter().map(|(hot, _)| hot.unwrap()).collect();
    let clip_id = drive_item(&app, &session, old).await["clips"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    assert_eq!(
        post(&app, &format!("/api/v1/drives/{old}/restore"), &session)
            .await
            .status(),
        409,
        "a drive in the hot store needs no restore"
    );

    archive_pass(&app).await;
    let archived: Vec<_> = digests.iter().map(|d| (None, Some(d.clone()))).collect();
    assert_eq!(placement(&app, &old_keys).await, archived);
    assert!(placement(&app, &recent_keys).await[0].0.is_some());
    assert!(placement(&app, &recent_keys).await[0].1.is_none());
    assert_eq!(drive_item(&app, &session, old).await["archived"], true);
    assert_eq!(drive_item(&app, &session, recent).await["archived"], false);
    let thumbnail = app
        .get_with(&format!("/api/v1/drives/{old}/thumbnail"), &session)
        .await;
    assert_eq!(
        thumbnail.status(),
        200,
        "made after the upload, kept in the hot store"
    );
    assert_eq!(thumbnail.headers()["content-type"], "image/jpeg");
    let page = app.get_with(&format!("/rides/{old}"), &session).await;
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(
        page.contains("Request restore"),
        "the ride page offers a restore"
    );
    for path in ["video", "segments"] {
        let response = app
            .get_with(&format!("/api/v1/drives/{old}/{path}"), &session)
            .await;
        assert_eq!(response.status(), 409, "{path} of an archived drive");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "archived");
    }
    let clip = json(&app, &format!("/api/v1/clips/{clip_id}"), &session).await;
    let clip_key = app
        .state
        .repo
        .clip(user, clip_id.parse().unwrap())
        .await
        .unwrap()
        .unwrap()
        .file
        .blob_key;
    assert!(clip["id"].is_string());
    assert!(
        app.state
            .blobs
            .exists(&BlobKey::new(clip_key).unwrap())
            .await
            .unwrap(),
        "clips are never archived"
    );

    let other = app.sign_in("+14155550199").await;
    let restore_path = format!("/api/v1/drives/{old}/restore");
    assert_eq!(post(&app, &restore_path, &other).await.status(), 404);
    let asked = post(&app, &restore_path, &session).await;
    assert_eq!(asked.status(), 202);
    let asked: Value = asked.json().await.unwrap();
    assert_eq!(asked["state"], "requested");
    let again: Value = post(&app, &restore_path, &session)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        again["id"], asked["id"],
        "asking again gives the waiting request"
    );

    assert_eq!(
        app.get_with("/api/v1/admin/restores", &session)
            .await
            .status(),
        401,
        "a user's session is not the operator token"
    );
    let waiting = json(&app, "/api/v1/admin/restores?state=requested", OPERATOR).await;
    assert_eq!(waiting.as_array().unwrap().len(), 1);
    assert_eq!(waiting[0]["drive"], old.to_string());
    let id = asked["id"].as_str().unwrap();
    let approved = post(
        &app,
        &format!("/api/v1/admin/restores/{id}/approve"),
        OPERATOR,
    )
    .await;
    assert_eq!(approved.status(), 200);
    let again = post(&app, &format!("/api/v1/admin/restores/{id}/deny"), OPERATOR).await;
    assert_eq!(again.status(), 409, "a request is decided once");

    let restored: Vec<_> = digests
        .iter()
        .map(|d| (Some(d.clone()), Some(d.clone())))
        .collect();
    assert_eq!(placement(&app, &old_keys).await, restored);
    let item = drive_item(&app, &session, old).await;
    assert_eq!(item["archived"], false);
    let page = app.get_with(&format!("/rides/{old}"), &session).await;
    let page = page.text().await.unwrap();
    assert!(!page.contains("Request restore") && page.contains("Restored from the archive"));
    let segments = json(&app, &format!("/api/v1/drives/{old}/segments"), &session).await;
    assert!(
        !segments["items"].as_array().unwrap().is_empty(),
        "restored: downloadable"
    );
    let until = app.clock.now() + chrono::TimeDelta::days(7);
    assert_eq!(item["restored_until"], serde_json::to_value(until).unwrap());

    archive_pass(&app).await;
    assert_eq!(
        placement(&app, &old_keys).await,
        restored,
        "kept while restored"
    );
    app.clock
        .advance(chrono::TimeDelta::days(7) + chrono::TimeDelta::seconds(1));
    archive_pass(&app).await;
    assert_eq!(placement(&app, &old_keys).await, archived);
    assert_eq!(drive_item(&app, &session, old).await["archived"], true);
}

#[tokio::test]
async fn sqlite_archive_and_restore_round_trip() {
    archive_and_restore_round_trip(Engine::Sqlite).await;
}

#[tokio::test]
async fn postgres_archive_and_restore_round_trip() {
    archive_and_restore_round_trip(Engine::Postgres).await;
}

/// The hot store, except that a delete never finishes: it tells `deleting` and waits
/// forever, so the job running it can be killed right between the copy and the delete.
#[derive(Debug)]
struct StallOnDelete {
    inner: Arc<dyn BlobStore>,
    deleting: Arc<Notify>,
}

#[async_trait]
impl BlobStore for StallOnDelete {
    async fn ping(&self) -> BlobResult<()> {
        self.inner.ping().await
    }
    async fn put(&self, key: &BlobKey, body: ByteStream) -> BlobResult<u64> {
        self.inner.put(key, body).await
    }
    async fn get_range(&self, key: &BlobKey, range: Range<u64>) -> BlobResult<ByteStream> {
        self.inner.get_range(key, range).await
    }
    async fn head(&self, key: &BlobKey) -> BlobResult<BlobMeta> {
        self.inner.head(key).await
    }
    async fn delete(&self, _key: &BlobKey) -> BlobResult<()> {
        self.deleting.notify_one();
        std::future::pending().await
    }
    fn list(&self, prefix: Option<&BlobKey>) -> BoxStream<'static, BlobResult<BlobMeta>> {
        self.inner.list(prefix)
    }
    async fn create_multipart(&self, key: &BlobKey) -> BlobResult<UploadId> {
        self.inner.create_multipart(key).await
    }
    async fn put_part(
        &self,
        key: &BlobKey,
        upload: &UploadId,
        part_index: u32,
        body: ByteStream,
    ) -> BlobResult<PartReceipt> {
        self.inner.put_part(key, upload, part_index, body).await
    }
    async fn complete_multipart(
        &self,
        key: &BlobKey,
        upload: &UploadId,
        parts: &[PartReceipt],
    ) -> BlobResult<BlobMeta> {
        self.inner.complete_multipart(key, upload, parts).await
    }
    async fn abort_multipart(&self, key: &BlobKey, upload: &UploadId) -> BlobResult<()> {
        self.inner.abort_multipart(key, upload).await
    }
}

/// A worker killed after the drive's files were copied and the drive marked archived,
/// before the hot copies were deleted: the job's lease runs out, another worker takes it
/// again and finishes. Every file ends up exactly once, in the archive, unchanged.
async fn killed_between_copy_and_delete(engine: Engine) {
    let app = app(engine).await;
    let (session, user, old, _) = library(&app).await;
    let old_keys = keys(&app, user, old).await;
    let digests: Vec<_> = placement(&app, &old_keys).await;
    // The workers of this test live an hour ahead of the server's own worker, so the
    // job they queue (runnable in an hour) is theirs alone.
    let later = Arc::new(ManualClock::new(
        app.clock.now() + chrono::TimeDelta::hours(1),
    ));
    let mut ahead = app.state.clone();
    ahead.clock = later.clone();
    let deleting = Arc::new(Notify::new());
    let mut doomed = ahead.clone();
    doomed.blobs = Arc::new(StallOnDelete {
        inner: Arc::clone(&app.state.blobs),
        deleting: Arc::clone(&deleting),
    });
    let candidates = archive::due(&ahead, Duration::from_secs(60 * 86400), app.clock.now(), 10)
        .await
        .unwrap();
    assert_eq!(candidates.len(), 1);
    archive::enqueue(&ahead, &candidates[0], "test")
        .await
        .unwrap();

    let config = WorkerConfig {
        lease: Duration::from_secs(60),
        ..WorkerConfig::default()
    };
    let worker = Worker::for_state(&doomed, config.clone());
    tokio::select! {
        ran = worker.run_one() => panic!("the job should stall in its delete: {ran:?}"),
        () = deleting.notified() => {}
    }
    drop(worker);
    let both: Vec<_> = digests
        .iter()
        .map(|(hot, _)| (hot.clone(), hot.clone()))
        .collect();
    assert_eq!(
        placement(&app, &old_keys).await,
        both,
        "copied, not yet deleted"
    );
    assert_eq!(drive_item(&app, &session, old).await["archived"], true);

    let rescuer = Worker::for_state(&ahead, config);
    assert!(
        matches!(rescuer.run_one().await.unwrap(), Outcome::Empty),
        "still leased"
    );
    later.advance(chrono::TimeDelta::seconds(61));
    match rescuer.run_one().await.unwrap() {
        Outcome::Ran(ran) => {
            assert_eq!(ran.end, JobEnd::Done);
            assert_eq!(ran.job.attempts, 2);
            let target: ArchiveDrive = serde_json::from_value(ran.job.payload).unwrap();
            assert_eq!(target.drive, old);
        }
        Outcome::Empty => panic!("the abandoned job was not taken again"),
    }
    let archived: Vec<_> = digests.iter().map(|(hot, _)| (None, hot.clone())).collect();
    assert_eq!(placement(&app, &old_keys).await, archived);
    assert_eq!(
        app.state
            .repo
            .drive_recordings(user, old)
            .await
            .unwrap()
            .len(),
        2,
        "no recording lost or doubled"
    );
}

#[tokio::test]
async fn sqlite_killed_between_copy_and_delete() {
    killed_between_copy_and_delete(Engine::Sqlite).await;
}

#[tokio::test]
async fn postgres_killed_between_copy_and_delete() {
    killed_between_copy_and_delete(Engine::Postgres).await;
}
