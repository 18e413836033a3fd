//! tus uploads on every metadata engine and blob store: the protocol's rules, bad input
//! refused with nothing stored, and completed uploads filed as drives and clips.

use crate::all_backends;
use crate::helpers::TestApp;
use crate::tus::{
    header_u64, json, location, metadata, recording, sha256_hex, stored_recording, video, Tus,
};
use base64::Engine as _;
use dashvault_store::blob::BlobKey;
use serde_json::Value;
use sha2::Digest;

const MIB: usize = 1024 * 1024;
const START: &str = "2026-11-20T07:30:00Z";

/// A video sent in chunks smaller and larger than a part (tails and multipart parts) is
/// filed as a recording of a drive whose stored bytes are the file's.
async fn chunked_upload_becomes_a_drive(app: TestApp) {
    let token = app.sign_in("+14155550100").await;
    let tus = Tus::new(&app, &token);
    let file = video("chunked", 14 * MIB);
    let path = tus.created(file.len() as u64, &recording(START)).await;
    let mut offset = 0;
    for chunk in [MIB, 3 * MIB, 7 * MIB] {
        let response = tus
            .patch(&path, offset as u64, &file[offset..offset + chunk])
            .await;
        assert_eq!(response.status(), 204, "{:?}", response.text().await);
        offset += chunk;
        assert_eq!(header_u64(&response, "upload-offset"), offset as u64);
        assert!(response.headers().contains_key("upload-expires"));
        assert_eq!(response.headers()["tus-resumable"], "1.0.0");
        assert_eq!(tus.offset(&path).await, offset as u64);
    }
    assert!(json(&app, "/api/v1/drives", &token).await["items"]
        .as_array()
        .unwrap()
        .is_empty());
    let last = tus.patch(&path, offset as u64, &file[offset..]).await;
    assert_eq!(last.status(), 204, "{:?}", last.text().await);
    assert_eq!(header_u64(&last, "upload-offset"), file.len() as u64);
    let head = tus.head(&path).await;
    assert_eq!(header_u64(&head, "upload-offset"), file.len() as u64);
    assert_eq!(head.headers()["cache-control"], "no-store");

    let drives = json(&app, "/api/v1/drives", &token).await;
    assert_eq!(drives["next_cursor"], Value::Null);
    let items = drives["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["start"], "2026-11-20T07:30:00Z");
    assert!(items[0]["device"].is_string());
    assert_eq!(stored_recording(&app, &token).await, file);
}

/// Recordings a minute apart are one drive, an hour apart two, newest first; a clip
/// with incidents is listed with its kind and incidents.
async fn recordings_make_drives_and_clips_are_listed(app: TestApp) {
    let token = app.sign_in("+14155550100").await;
    let tus = Tus::new(&app, &token);
    for (seed, start) in [
        ("a", "2026-11-20T07:30:00Z"),
        ("b", "2026-11-20T07:31:00Z"),
        ("c", "2026-11-20T09:00:00Z"),
    ] {
        let (_, done) = tus
            .upload(&video(seed, 0), &recording(start), 1 << 20)
            .await;
        assert_eq!(done.status(), 204, "{:?}", done.text().await);
    }
    let drives = json(&app, "/api/v1/drives", &token).await;
    let items = drives["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["start"], "2026-11-20T09:00:00Z");
    assert_eq!(items[1]["start"], "2026-11-20T07:30:00Z");
    assert_eq!(items[1]["end"], "2026-11-20T07:31:02Z");

    let incidents = r#"[{"type":"hard_brake","at":"2026-11-20T07:30:20Z","severity":0.9}]"#;
    let meta = metadata(&[
        ("kind", "clip"),
        ("clip", "auto"),
        ("start", "2026-11-20T07:30:10Z"),
        ("incidents", incidents),
    ]);
    let (_, done) = tus.upload(&video("clip", 0), &meta, 1 << 20).await;
    assert_eq!(done.status(), 204, "{:?}", done.text().await);
    let manual = metadata(&[
        ("kind", "clip"),
        ("start", "2026-11-20T10:00:00Z"),
        ("view", "cabin"),
    ]);
    let (_, done) = tus.upload(&video("manual", 0), &manual, 1 << 20).await;
    assert_eq!(done.status(), 204);
    let clips = json(&app, "/api/v1/clips", &token).await;
    let items = clips["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["kind"], "manual");
    assert_eq!(items[0]["view"], "cabin");
    assert_eq!(items[0]["drive"], Value::Null);
    assert_eq!(items[1]["kind"], "auto");
    assert_eq!(items[1]["start"], "2026-11-20T07:30:10Z");
    assert_eq!(items[1]["drive"], drives["items"][1]["id"]);
    assert_eq!(items[1]["incidents"][0]["type"], "hard_brake");
    assert_eq!(items[1]["incidents"][0]["severity"], 0.9);
    assert!(items[1]["id"].is_string() && items[1]["device"].is_string());
}

/// A wrong `Upload-Offset` is `409` and changes nothing; a missing or unsupported
/// `Tus-Resumable` is `412` with `Tus-Version`.
async fn wrong_offset_and_version_are_refused(app: TestApp) {
    let token = app.sign_in("+14155550100").await;
    let tus = Tus::new(&app, &token);
    let file = video("offsets", 0);
    let path = tus.created(file.len() as u64, &recording(START)).await;
    assert_eq!(tus.patch(&path, 0, &file[..1000]).await.status(), 204);
    for wrong in [0, 999, 1001] {
        let response = tus.patch(&path, wrong, &file[1000..2000]).await;
        assert_eq!(response.status(), 409);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "offset_mismatch");
    }
    assert_eq!(tus.offset(&path).await, 1000);
    let old = app
        .http
        .patch(app.url(&path))
        .bearer_auth(&token)
        .header("Tus-Resumable", "0.2.2")
        .header("Upload-Offset", 1000)
        .header("Content-Type", "application/offset+octet-stream")
        .body(file[1000..2000].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(old.status(), 412);
    assert_eq!(old.headers()["tus-version"], "1.0.0");
    let plain = app
        .http
        .patch(app.url(&path))
        .bearer_auth(&token)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Offset", 1000)
        .header("Content-Type", "application/octet-stream")
        .body(file[1000..2000].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 415);
    assert_eq!(tus.offset(&path).await, 1000);
}

/// `Upload-Checksum` (sha1 or sha256) is checked per PATCH: a mismatch is `460` and
/// nothing is appended, in a tail or in whole parts.
async fn checksums_are_checked_per_patch(app: TestApp) {
    let token = app.sign_in("+14155550100").await;
    let tus = Tus::new(&app, &token);
    let file = video("checksum", 12 * MIB);
    let path = tus.created(file.len() as u64, &recording(START)).await;
    let b64 = |digest: &[u8]| base64::engine::general_purpose::STANDARD.encode(digest);
    let first = &file[..MIB];
    let sha1 = format!("sha1 {}", b64(&sha1::Sha1::digest(first)));
    let ok = tus
        .patch_with(&path, 0, first, &[("Upload-Checksum", sha1)])
        .await;
    assert_eq!(ok.status(), 204);
    let big = &file[MIB..8 * MIB];
    let wrong = format!("sha256 {}", b64(&sha2::Sha256::digest(b"something else")));
    for chunk in [&file[MIB..2 * MIB], big] {
        let response = tus
            .patch_with(
                &path,
                MIB as u64,
                chunk,
                &[("Upload-Checksum", wrong.clone())],
            )
            .await;
        assert_eq!(response.status(), 460);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "checksum_mismatch");
        assert_eq!(tus.offset(&path).await, MIB as u64);
    }
    let right = format!("sha256 {}", b64(&sha2::Sha256::digest(big)));
    let response = tus
        .patch_with(&path, MIB as u64, big, &[("Upload-Checksum", right)])
        .await;
    assert_eq!(response.status(), 204);
    // A short body: the answer comes before the body is read, and a client still sending
    // megabytes then may see the connection close under it instead of the answer.
    let unsupported = tus
        .patch_with(
            &path,
            8 * MIB as u64,
            &file[8 * MIB..8 * MIB + 16],
            &[("Upload-Checksum", "md5 AAAA".into())],
        )
        .await;
    assert_eq!(unsupported.status(), 400);
    let last = tus.patch(&path, 8 * MIB as u64, &file[8 * MIB..]).await;
    assert_eq!(last.status(), 204, "{:?}", last.text().await);
    assert_eq!(stored_recording(&app, &token).await, file);
}

/// A body longer than the declared length is `413` and appends nothing; so is an
/// upload above the maximum size.
async fn bodies_longer_than_declared_are_refused(app: TestApp) {
    let token = app.sign_in("+14155550100").await;
    let tus = Tus::new(&app, &token);
    let file = video("long", 0);
    let path = tus.created(file.len() as u64 - 10, &recording(START)).await;
    let response = tus.patch(&path, 0, &file).await;
    assert_eq!(response.status(), 413);
    let body: Value = response.json().await.unwrap();
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Upload-Length"));
    assert_eq!(tus.offset(&path).await, 0);
    let huge = tus.create(5 << 30, &recording(START)).await;
    assert_eq!(huge.status(), 413);
    let body: Value = huge.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_large");
}

/// Garbage metadata is `400` and nothing is stored (no upload, no device).
async fn garbage_metadata_is_refused(app: TestApp) {
    let token = app.sign_in("+14155550100").await;
    let tus = Tus::new(&app, &token);
    for bad in [
        String::new(),
        metadata(&[("start", START)]),
        metadata(&[("kind", "video"), ("start", START)]),
        metadata(&[("kind", "recording"), ("start", "last tuesday")]),
        metadata(&[
            ("kind", "clip"),
            ("start", START),
            ("incidents", "not json"),
        ]),
        metadata(&[("kind", "recording"), ("start", START), ("view", "rear")]),
        "kind %%%,start ???".to_owned(),
    ] {
        let response = tus.create(1000, &bad).await;
        assert_eq!(response.status(), 400, "{bad}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "invalid_metadata", "{bad}");
    }
    let missing_length = app
        .http
        .post(app.url("/api/v1/uploads"))
        .bearer_auth(&token)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Metadata", recording(START))
        .send()
        .await
        .unwrap();
    assert_eq!(missing_length.status(), 400);
    let devices = json(&app, "/api/v1/devices", &token).await;
    assert!(devices["items"].as_array().unwrap().is_empty());
    let me = json(&app, "/api/v1/me", &token).await;
    let user_id = me["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(app.state.repo.used_bytes(user_id).await.unwrap(), 0);
}

/// A file that is not a video is `422` with an error body, and nothing of it is kept:
/// the upload is gone, nothing is listed, no blob remains.
async fn non_video_is_refused_and_forgotten(app: TestApp) {
    let token = app.sign_in("+14155550100").await;
    let tus = Tus::new(&app, &token);
    let junk: Vec<u8> = (0..13 * MIB).map(|i| (i * 7 % 251) as u8).collect();
    let (path, done) = tus.upload(&junk, &recording(START), 6 * MIB).await;
    assert_eq!(done.status(), 422);
    let body: Value = done.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_a_video");
    assert_eq!(
        tus.head(&path).await.status(),
        410,
        "refused, not resumable"
    );
    let status = json(&app, &path, &token).await;
    assert_eq!(status["state"], "failed");
    assert!(status["failure"]
        .as_str()
        .unwrap()
        .contains("not a playable"));
    assert!(json(&app, "/api/v1/drives", &token).await["items"]
        .as_array()
        .unwrap()
        .is_empty());
    let me = json(&app, "/api/v1/me", &token).await;
    let user: uuid::Uuid = me["id"].as_str().unwrap().parse().unwrap();
    let id: uuid::Uuid = path.rsplit('/').next().unwrap().parse().unwrap();
    let key = BlobKey::new(format!("media/{}/{}", user.simple(), id.simple())).unwrap();
    assert!(!app.state.blobs.exists(&key).await.unwrap());
    assert_eq!(app.state.repo.used_bytes(user).await.unwrap(), 0);
}

/// Another user's upload URL is `404` for every method, and their upload is untouched.
async fn another_users_upload_is_not_found(app: TestApp) {
    let alice = app.sign_in("+14155550100").await;
    let bob = app.sign_in("+14155550101").await;
    let file = video("private", 0);
    let alice_tus = Tus::new(&app, &alice);
    let path = alice_tus
        .created(file.len() as u64, &recording(START))
        .await;
    assert_eq!(alice_tus.patch(&path, 0, &file[..100]).await.status(), 204);
    let bob_tus = Tus::new(&app, &bob);
    assert_eq!(bob_tus.head(&path).await.status(), 404);
    assert_eq!(
        bob_tus.patch(&path, 100, &file[100..200]).await.status(),
        404
    );
    assert_eq!(bob_tus.delete(&path).await.status(), 404);
    assert_eq!(alice_tus.offset(&path).await, 100);
    let anonymous = app
        .http
        .head(app.url(&path))
        .header("Tus-Resumable", "1.0.0")
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}

/// Termination forgets the upload; expiry makes it `410`, and the next creation sweeps
/// it away.
async fn terminated_and_expired_uploads_go_away(app: TestApp) {
    let token = app.sign_in("+14155550100").await;
    let tus = Tus::new(&app, &token);
    let file = video("gone", 6 * MIB);
    let path = tus.created(file.len() as u64, &recording(START)).await;
    assert_eq!(tus.patch(&path, 0, &file[..6 * MIB]).await.status(), 204);
    assert_eq!(tus.delete(&path).await.status(), 204);
    assert_eq!(tus.head(&path).await.status(), 404);

    let path = tus.created(file.len() as u64, &recording(START)).await;
    assert_eq!(tus.patch(&path, 0, &file[..MIB]).await.status(), 204);
    app.clock.advance(chrono::Duration::hours(25));
    assert_eq!(tus.head(&path).await.status(), 410);
    assert_eq!(
        tus.patch(&path, MIB as u64, &file[MIB..2 * MIB])
            .await
            .status(),
        410
    );
    let _ = tus.create(10, &recording(START)).await;
    assert_eq!(tus.head(&path).await.status(), 404);
}

/// The hourly `upload_expiry` job deletes an expired upload and everything it stored, with
/// no new upload needed to trigger a sweep.
async fn the_expiry_job_deletes_expired_uploads(app: TestApp) {
    use dashvault_server::jobs::housekeeping::UPLOAD_EXPIRY;
    use dashvault_server::jobs::{Outcome, Worker, WorkerConfig};
    use futures_util::TryStreamExt;

    let token = app.sign_in("+14155550100").await;
    let tus = Tus::new(&app, &token);
    let file = video("expiring", 8 * MIB);
    let path = tus.created(file.len() as u64, &recording(START)).await;
    // Blobs under the upload's own scratch prefix (the bucket is shared with other tests).
    let id = uuid::Uuid::parse_str(path.rsplit('/').next().unwrap()).unwrap();
    let scratch = BlobKey::new(format!("uploads/{}", id.simple())).unwrap();
    let stored = || async {
        let listed: Vec<_> = app
            .state
            .blobs
            .list(Some(&scratch))
            .try_collect()
            .await
            .unwrap();
        listed.len()
    };
    // A whole part, then a tail: both kinds of stored bytes.
    assert_eq!(tus.patch(&path, 0, &file[..6 * MIB]).await.status(), 204);
    let tail = &file[6 * MIB..6 * MIB + MIB / 2];
    assert_eq!(tus.patch(&path, 6 * MIB as u64, tail).await.status(), 204);
    assert!(stored().await > 0, "the tail is stored as a blob");

    app.clock.advance(chrono::Duration::hours(25));
    let job = dashvault_store::model::NewJob::new(UPLOAD_EXPIRY, serde_json::json!({}));
    let now = dashvault_server::clock::Clock::now(app.clock.as_ref());
    app.state.repo.enqueue(&job, now).await.unwrap();
    let worker = Worker::for_state(&app.state, WorkerConfig::default());
    assert!(matches!(worker.run_one().await.unwrap(), Outcome::Ran(_)));
    assert_eq!(tus.head(&path).await.status(), 404, "the upload is gone");
    assert_eq!(stored().await, 0, "and so is everything it stored");
    assert!(matches!(worker.run_one().await.unwrap(), Outcome::Empty));
}

/// Partial uploads concatenated by a final upload are filed as one file.
async fn concatenated_uploads_are_one_file(app: TestApp) {
    let token = app.sign_in("+14155550100").await;
    let tus = Tus::new(&app, &token);
    let file = video("concat", 7 * MIB);
    let partials = upload_partials(&tus, &file, 6 * MIB).await;
    concatenate(&app, &token, &partials).await;
    assert_eq!(stored_recording(&app, &token).await, file);
}

/// Uploads `file` as two partial uploads cut at `cut`, returning their paths.
async fn upload_partials(tus: &Tus<'_>, file: &[u8], cut: usize) -> Vec<String> {
    let mut partials = Vec::new();
    for piece in [&file[..cut], &file[cut..]] {
        let response = tus.request_partial(piece.len() as u64).await;
        assert_eq!(response.status(), 201);
        let path = location(&response);
        assert_eq!(tus.patch(&path, 0, piece).await.status(), 204);
        assert_eq!(tus.head(&path).await.headers()["upload-concat"], "partial");
        partials.push(path);
    }
    partials
}

/// Creates the final upload of `partials` (a recording): it is complete at once, and the
/// partial uploads are gone.
async fn concatenate(app: &TestApp, token: &str, partials: &[String]) {
    let response = app
        .http
        .post(app.url("/api/v1/uploads"))
        .bearer_auth(token)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Concat", format!("final;{}", partials.join(" ")))
        .header("Upload-Metadata", recording(START))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "{:?}", response.text().await);
    let tus = Tus::new(app, token);
    let path = location(&response);
    let total = tus.head(&path).await.headers()["upload-length"].clone();
    assert_eq!(tus.head(&path).await.headers()["upload-offset"], total);
    for partial in partials {
        assert_eq!(tus.head(partial).await.status(), 404);
    }
}

/// The same file uploaded twice is one object; a `sha256` in the metadata is checked.
async fn same_file_twice_is_one_object(app: TestApp) {
    let token = app.sign_in("+14155550100").await;
    let tus = Tus::new(&app, &token);
    let file = video("twice", 0);
    let sha = sha256_hex(&file);
    let meta = metadata(&[("kind", "recording"), ("start", START), ("sha256", &sha)]);
    for _ in 0..2 {
        let (_, done) = tus.upload(&file, &meta, 1 << 20).await;
        assert_eq!(done.status(), 204, "{:?}", done.text().await);
    }
    assert_eq!(
        json(&app, "/api/v1/drives", &token).await["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let me = json(&app, "/api/v1/me", &token).await;
    let user = me["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        app.state.repo.used_bytes(user).await.unwrap(),
        file.len() as u64
    );

    let other = video("other", 0);
    let lying = metadata(&[("kind", "recording"), ("start", START), ("sha256", &sha)]);
    let (path, done) = tus.upload(&other, &lying, 1 << 20).await;
    assert_eq!(done.status(), 460);
    assert_eq!(tus.head(&path).await.status(), 410);
    assert_eq!(
        app.state.repo.used_bytes(user).await.unwrap(),
        file.len() as u64
    );
}

/// A device token uploads as its device; a session upload goes to the "web upload"
/// device, made once.
async fn uploads_belong_to_their_device(app: TestApp) {
    let token = app.sign_in("+14155550100").await;
    let created: Value = app
        .http
        .post(app.url("/api/v1/devices"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"model": "BlackVue DR900X-2CH", "serial": "B9X1"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let device_token = created["token"].as_str().unwrap();
    let device_id = created["id"].as_str().unwrap();
    let (_, done) = Tus::new(&app, device_token)
        .upload(
            &video("device", 0),
            &recording("2026-11-20T07:00:00Z"),
            1 << 20,
        )
        .await;
    assert_eq!(done.status(), 204);
    for seed in ["web1", "web2"] {
        let (_, done) = Tus::new(&app, &token)
            .upload(&video(seed, 0), &recording("2026-11-20T12:00:00Z"), 1 << 20)
            .await;
        assert_eq!(done.status(), 204);
    }
    let drives = json(&app, "/api/v1/drives", &token).await;
    let items = drives["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[1]["device"], device_id);
    assert_ne!(items[0]["device"], device_id);
    let devices = json(&app, "/api/v1/devices", &token).await;
    assert_eq!(devices["items"].as_array().unwrap().len(), 2);
    let wrong_device = metadata(&[
        ("kind", "recording"),
        ("start", START),
        ("device", &uuid::Uuid::nil().to_string()),
    ]);
    assert_eq!(
        Tus::new(&app, device_token)
            .create(10, &wrong_device)
            .await
            .status(),
        400
    );
    assert_eq!(
        Tus::new(&app, &token)
            .create(10, &wrong_device)
            .await
            .status(),
        400
    );
}

/// Creation-with-upload takes the first bytes with the creation.
async fn creation_with_upload_takes_the_first_bytes(app: TestApp) {
    let token = app.sign_in("+14155550100").await;
    let file = video("with-upload", 0);
    let response = app
        .http
        .post(app.url("/api/v1/uploads"))
        .bearer_auth(&token)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", file.len())
        .header("Upload-Metadata", recording(START))
        .header("Content-Type", "application/offset+octet-stream")
        .body(file[..5000].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(header_u64(&response, "upload-offset"), 5000);
    let tus = Tus::new(&app, &token);
    let path = location(&response);
    assert_eq!(tus.patch(&path, 5000, &file[5000..]).await.status(), 204);
    assert_eq!(stored_recording(&app, &token).await, file);
}

all_backends![
    chunked_upload_becomes_a_drive,
    recordings_make_drives_and_clips_are_listed,
    wrong_offset_and_version_are_refused,
    checksums_are_checked_per_patch,
    bodies_longer_than_declared_are_refused,
    garbage_metadata_is_refused,
    non_video_is_refused_and_forgotten,
    another_users_upload_is_not_found,
    terminated_and_expired_uploads_go_away,
    the_expiry_job_deletes_expired_uploads,
    concatenated_uploads_are_one_file,
    same_file_twice_is_one_object,
    uploads_belong_to_their_device,
    creation_with_upload_takes_the_first_bytes,
    another_replica_finishes_an_upload,
    sidecars_attach_to_their_drive,
    assembled_but_unrecorded_upload_is_filed_on_resend,
];

/// An upload started on one replica is continued and finished on another that shares
/// only the database and the blob store.
async fn another_replica_finishes_an_upload(app: TestApp) {
    let token = app.sign_in("+14155550100").await;
    let file = video("replica", 9 * MIB);
    let first = Tus::new(&app, &token);
    let path = first.created(file.len() as u64, &recording(START)).await;
    assert_eq!(first.patch(&path, 0, &file[..6 * MIB]).await.status(), 204);
    assert_eq!(
        first
            .patch(&path, 6 * MIB as u64, &file[6 * MIB..7 * MIB])
            .await
            .status(),
        204
    );

    let mut state = app.state.clone();
    state.repo = dashvault_store::open(&app.database_url).await.unwrap();
    state.uploads = std::sync::Arc::new(dashvault_server::tus::Uploads::new(Default::default()));
    let server = dashvault_server::Server::bind_with_state("127.0.0.1:0".parse().unwrap(), state)
        .await
        .unwrap();
    let addr = server.local_addr().unwrap();
    tokio::spawn(server.run(std::future::pending()));
    let url = |p: &str| format!("http://{addr}{p}");
    let head = app
        .http
        .head(url(&path))
        .bearer_auth(&token)
        .header("Tus-Resumable", "1.0.0")
        .send()
        .await
        .unwrap();
    assert_eq!(header_u64(&head, "upload-offset"), 7 * MIB as u64);
    let last = app
        .http
        .patch(url(&path))
        .bearer_auth(&token)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Offset", 7 * MIB)
        .header("Content-Type", "application/offset+octet-stream")
        .body(file[7 * MIB..].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(last.status(), 204, "{:?}", last.text().await);
    assert_eq!(first.offset(&path).await, file.len() as u64);
    assert_eq!(stored_recording(&app, &token).await, file);
}

/// Uploads beyond the owner's quota are `507` with a clear error, and nothing is stored.
/// A final upload counts once: its partial uploads' bytes become its own.
async fn quota_is_enforced(engine: crate::helpers::Engine, blobs: crate::tus::Blobs) {
    let file = video("quota", 0);
    let quota = file.len() as u64 * 3 / 2;
    let app = crate::tus::spawn(engine, blobs, |config| {
        config.uploads.user_quota = Some(quota);
    })
    .await;
    let token = app.sign_in("+14155550100").await;
    let tus = Tus::new(&app, &token);
    let partials = upload_partials(&tus, &file, file.len() / 2).await;
    concatenate(&app, &token, &partials).await;
    let response = tus.create(file.len() as u64, &recording(START)).await;
    assert_eq!(response.status(), 507);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "quota_exceeded");
    assert!(body["error"]["message"].as_str().unwrap().contains("quota"));
    let me = json(&app, "/api/v1/me", &token).await;
    let user = me["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        app.state.repo.used_bytes(user).await.unwrap(),
        file.len() as u64
    );
}

mod quota {
    use crate::helpers::Engine;
    use crate::tus::Blobs;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_fs() {
        super::quota_is_enforced(Engine::Sqlite, Blobs::Fs).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_s3() {
        super::quota_is_enforced(Engine::Postgres, Blobs::S3).await;
    }
}

/// A camera's telemetry sidecar is kept as it is, read, and attached to the drive its
/// start falls in; a file that is no telemetry format is `422`.
async fn sidecars_attach_to_their_drive(app: TestApp) {
    let token = app.sign_in("+14155550100").await;
    let tus = Tus::new(&app, &token);
    let (_, done) = tus
        .upload(&video("drive", 0), &recording(START), 1 << 20)
        .await;
    assert_eq!(done.status(), 204);
    let gps = [
        (
            1_763_623_800_000u64,
            "GPRMC,073000,A,5133.82,N,00042.24,W,17.8,231.8,201126,004.2,W",
        ),
        (
            1_763_623_801_000,
            "GPRMC,073001,A,5133.83,N,00042.25,W,18.1,231.8,201126,004.2,W",
        ),
    ]
    .iter()
    .map(|(ms, sentence)| {
        let sum = sentence.bytes().fold(0u8, |x, b| x ^ b);
        format!("[{ms}]${sentence}*{sum:02X}\n")
    })
    .collect::<String>();
    let meta = metadata(&[
        ("kind", "sidecar"),
        ("start", "2026-11-20T07:30:01Z"),
        ("filename", "20261120_073000_N.gps"),
    ]);
    let (_, done) = tus.upload(gps.as_bytes(), &meta, 1 << 20).await;
    assert_eq!(done.status(), 204, "{:?}", done.text().await);
    let me = json(&app, "/api/v1/me", &token).await;
    let user = me["id"].as_str().unwrap().parse().unwrap();
    let Some(dashvault_store::model::StoredObject::Sidecar(id)) = app
        .state
        .repo
        .object_by_sha256(user, &sha256_hex(gps.as_bytes()))
        .await
        .unwrap()
    else {
        panic!("the sidecar is not stored");
    };
    let sidecar = app.state.repo.sidecar(user, id).await.unwrap().unwrap();
    let drives = json(&app, "/api/v1/drives", &token).await;
    assert_eq!(
        sidecar.drive_id.map(|d| d.to_string()),
        drives["items"][0]["id"].as_str().map(str::to_owned)
    );
    assert_eq!(sidecar.telemetry.gps_fixes, 2);
    assert_eq!(sidecar.filename.as_deref(), Some("20261120_073000_N.gps"));

    let (path, done) = tus.upload(b"no telemetry here", &meta, 1 << 20).await;
    assert_eq!(done.status(), 422);
    assert_eq!(tus.head(&path).await.status(), 410);
}

/// A crash after the last bytes were assembled into the object but before the offset was
/// recorded: the client resends its last chunk and the upload is filed (not lost, not
/// failing forever).
async fn assembled_but_unrecorded_upload_is_filed_on_resend(app: TestApp) {
    let token = app.sign_in("+14155550100").await;
    let tus = Tus::new(&app, &token);
    let file = video("assembled", 12 * MIB);
    let path = tus.created(file.len() as u64, &recording(START)).await;
    assert_eq!(tus.patch(&path, 0, &file[..8 * MIB]).await.status(), 204);

    // What the crashed process did: store the last part and complete the object.
    let me = json(&app, "/api/v1/me", &token).await;
    let user = me["id"].as_str().unwrap().parse().unwrap();
    let id = path.rsplit('/').next().unwrap().parse().unwrap();
    let upload = app.state.repo.upload(user, id).await.unwrap().unwrap();
    let key = BlobKey::new(upload.blob_key.clone()).unwrap();
    let multipart = dashvault_store::blob::UploadId::new(upload.multipart_id.clone().unwrap());
    let rest = bytes::Bytes::copy_from_slice(&file[8 * MIB..]);
    let body = futures_util::StreamExt::boxed(futures_util::stream::iter([Ok(rest)]));
    let receipt = app
        .state
        .blobs
        .put_part(&key, &multipart, 1, body)
        .await
        .unwrap();
    let mut parts = upload.parts.clone();
    parts.push(receipt);
    app.state
        .blobs
        .complete_multipart(&key, &multipart, &parts)
        .await
        .unwrap();
    assert_eq!(tus.offset(&path).await, 8 * MIB as u64);

    let resent = tus.patch(&path, 8 * MIB as u64, &file[8 * MIB..]).await;
    assert_eq!(resent.status(), 204, "{:?}", resent.text().await);
    assert_eq!(tus.offset(&path).await, file.len() as u64);
    assert_eq!(stored_recording(&app, &token).await, file);
}
