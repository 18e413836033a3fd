//! The `thumbnail` job: queued by every filed clip and drive, it makes the JPEG before
//! anyone asks, once per item (whichever worker runs it), and the thumbnail URLs then
//! serve that stored picture.

use crate::archive::settle;
use crate::both_engines;
use crate::helpers::TestApp;
use crate::library::device;
use crate::tus::{json, metadata, recording, video, Tus};
use dashvault_store::blob::BlobKey;
use dashvault_store::model::JobState;
use futures_util::TryStreamExt;

async fn thumbnails(app: &TestApp) -> Vec<String> {
    let prefix = BlobKey::new("thumbnails").unwrap();
    let mut keys: Vec<String> = app
        .state
        .blobs
        .list(Some(&prefix))
        .map_ok(|meta| meta.key.as_str().to_owned())
        .try_collect()
        .await
        .unwrap();
    keys.sort();
    keys
}

async fn made_after_upload(app: TestApp) {
    let session = app.sign_in("+14155550100").await;
    let (_, token) = device(&app, &session, "car").await;
    let tus = Tus::new(&app, &token);
    for (bytes, meta) in [
        (video("rec-1", 0), recording("2026-11-20T07:00:00Z")),
        (video("rec-2", 0), recording("2026-11-20T07:00:05Z")),
        (
            video("clip", 0),
            metadata(&[("kind", "clip"), ("start", "2026-11-20T07:00:01Z")]),
        ),
    ] {
        let (_, done) = tus.upload(&bytes, &meta, 1 << 20).await;
        assert_eq!(done.status(), 204);
    }
    settle(&app).await;
    let done = app
        .state
        .repo
        .list_jobs(&[JobState::Done], 100)
        .await
        .unwrap();
    let thumbnail_jobs = done.iter().filter(|j| j.kind == "thumbnail").count();
    assert_eq!(
        thumbnail_jobs, 2,
        "one for the clip, one for the drive: {done:?}"
    );
    let made = thumbnails(&app).await;
    assert_eq!(made.len(), 2, "{made:?}");

    let drives = json(&app, "/api/v1/drives", &session).await;
    let clips = json(&app, "/api/v1/clips", &session).await;
    for url in [
        drives["items"][0]["thumbnail_url"].as_str().unwrap(),
        clips["items"][0]["thumbnail_url"].as_str().unwrap(),
    ] {
        let response = app.get_with(url, &session).await;
        assert_eq!(response.status(), 200, "{url}");
        assert_eq!(response.headers()["content-type"], "image/jpeg");
        let jpeg = response.bytes().await.unwrap();
        assert_eq!(&jpeg[..2], [0xff, 0xd8], "a JPEG");
    }
    assert_eq!(
        thumbnails(&app).await,
        made,
        "served from what the job stored"
    );
}

both_engines!(made_after_upload);
