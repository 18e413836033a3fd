//! Clip and drive videos served through the media crate's cut with HTTP ranges, drive
//! segments checked with ffprobe, thumbnails, and another user's ids answering `404`.

use crate::helpers::TestApp;
use crate::tus::{json, metadata, recording, video, Tus};
use crate::{all_backends, both_engines};
use dashvault_store::blob::BlobKey;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

const CLIP_START: &str = "2026-11-20T07:30:10Z";

/// Metadata of an automatic clip with a hard brake 1 s in.
pub fn clip_metadata() -> String {
    metadata(&[
        ("kind", "clip"),
        ("clip", "auto"),
        ("start", CLIP_START),
        (
            "incidents",
            r#"[{"type":"hard_brake","at":"2026-11-20T07:30:11Z","severity":0.8}]"#,
        ),
    ])
}

/// Uploads `bytes` as a clip with `meta` and returns the clip's id.
pub async fn upload_clip(app: &TestApp, token: &str, bytes: &[u8], meta: &str) -> String {
    let (_, done) = Tus::new(app, token).upload(bytes, meta, 1 << 20).await;
    assert_eq!(done.status(), 204, "{:?}", done.text().await);
    let clips = json(app, "/api/v1/clips", token).await;
    clips["items"][0]["id"].as_str().unwrap().to_owned()
}

/// The reference output: the media crate's cut of the whole file, written with
/// `CutPlan::write_to` (no HTTP, no blob store).
pub fn reference_cut(bytes: &[u8], samples_only: bool) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.mp4");
    std::fs::write(&path, bytes).unwrap();
    let file = std::fs::File::open(&path).unwrap();
    let index = dashvault_media::Mp4Index::read(&file).unwrap();
    let indexes = [index];
    let plan = if samples_only {
        dashvault_media::cut_samples_only(&indexes, 0.0, 1e6)
    } else {
        dashvault_media::cut(&indexes, 0.0, 1e6)
    }
    .unwrap();
    let mut out = Vec::new();
    plan.write_to(&[file], &mut out).unwrap();
    out
}

/// `GET` with a bearer token and extra headers.
pub async fn get(
    app: &TestApp,
    path: &str,
    token: &str,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut request = app.http.get(app.url(path)).bearer_auth(token);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

/// Checks the Range semantics of a video URL against the expected bytes.
pub async fn check_ranges(app: &TestApp, path: &str, token: &str, expected: &[u8]) {
    let len = expected.len();
    let whole = get(app, path, token, &[]).await;
    assert_eq!(whole.status(), 200);
    assert_eq!(header(&whole, "accept-ranges"), "bytes");
    assert_eq!(header(&whole, "content-type"), "video/mp4");
    assert_eq!(header(&whole, "content-length"), len.to_string());
    let etag = header(&whole, "etag").to_owned();
    assert_eq!(whole.bytes().await.unwrap(), expected, "whole body");

    for (spec, range) in [
        ("bytes=0-99", 0..100),
        ("bytes=100-", 100..len),
        ("bytes=-500", len - 500..len),
        ("bytes=1000-5000", 1000..5001),
        (&*format!("bytes={}-{}", len - 10, len + 100), len - 10..len),
    ] {
        let part = get(app, path, token, &[("range", spec)]).await;
        assert_eq!(part.status(), 206, "{spec}");
        assert_eq!(
            header(&part, "content-range"),
            format!("bytes {}-{}/{len}", range.start, range.end - 1)
        );
        assert_eq!(header(&part, "content-length"), range.len().to_string());
        assert_eq!(
            part.bytes().await.unwrap(),
            expected[range.clone()],
            "{spec}"
        );
    }
    for bad in [
        format!("bytes={len}-"),
        "bytes=9-5".into(),
        "bytes=x-y".into(),
    ] {
        let refused = get(app, path, token, &[("range", &bad)]).await;
        assert_eq!(refused.status(), 416, "{bad}");
        assert_eq!(header(&refused, "content-range"), format!("bytes */{len}"));
    }
    let stale = get(
        app,
        path,
        token,
        &[("range", "bytes=0-9"), ("if-range", "\"other\"")],
    )
    .await;
    assert_eq!(stale.status(), 200, "a changed ETag gets the whole file");
    let fresh = get(
        app,
        path,
        token,
        &[("range", "bytes=0-9"), ("if-range", &etag)],
    )
    .await;
    assert_eq!(fresh.status(), 206);
    let again = get(app, path, token, &[]).await;
    assert_eq!(header(&again, "etag"), etag, "the ETag is stable");

    let head = app
        .http
        .head(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(header(&head, "content-length"), len.to_string());
    assert_eq!(header(&head, "accept-ranges"), "bytes");
    assert!(head.bytes().await.unwrap().is_empty());
}

/// A clip's video is its file through the cut, byte for byte, with every Range form,
/// `416`, `If-Range` and `HEAD`; `?download=1` names the file.
async fn clip_video_answers_ranges(app: TestApp) {
    let token = app.sign_in("+14155550100").await;
    let bytes = video("ranges", 0);
    let id = upload_clip(&app, &token, &bytes, &clip_metadata()).await;
    let path = format!("/api/v1/clips/{id}/video");
    check_ranges(&app, &path, &token, &reference_cut(&bytes, false)).await;

    let download = get(&app, &format!("{path}?download=1"), &token, &[]).await;
    assert_eq!(download.status(), 200);
    assert_eq!(
        header(&download, "content-disposition"),
        "attachment; filename=\"dashvault_2026-11-20_07-30-10_hard_brake.mp4\""
    );
    assert!(get(&app, &path, &token, &[])
        .await
        .headers()
        .get("content-disposition")
        .is_none());
}

all_backends!(
    clip_video_answers_ranges,
    drive_segments_are_two_minute_videos
);

/// A 60 s 160x120 H.264 video (a keyframe every second), made once per run.
fn minute_video() -> &'static [u8] {
    static VIDEO: OnceLock<Vec<u8>> = OnceLock::new();
    VIDEO.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("minute.mp4");
        let status = std::process::Command::new("ffmpeg")
            .args([
                "-v",
                "error",
                "-y",
                "-f",
                "lavfi",
                "-i",
                "testsrc=size=160x120:rate=25",
            ])
            .args([
                "-t",
                "60",
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-g",
                "25",
            ])
            .args(["-pix_fmt", "yuv420p"])
            .arg(&path)
            .status()
            .expect("ffmpeg is needed to make test videos (apt-get install ffmpeg)");
        assert!(status.success(), "ffmpeg failed to make a test video");
        std::fs::read(&path).unwrap()
    })
}

/// `minute_video` made unique by a trailing `free` box holding `seed`.
fn minute(seed: &str) -> Vec<u8> {
    let mut bytes = minute_video().to_vec();
    let body = Sha256::digest(seed.as_bytes());
    bytes.extend_from_slice(&(8 + body.len() as u32).to_be_bytes());
    bytes.extend_from_slice(b"free");
    bytes.extend_from_slice(&body);
    bytes
}

/// Duration in seconds of an MP4, per ffprobe (which must accept it).
pub fn ffprobe_duration(bytes: &[u8]) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("probe.mp4");
    std::fs::write(&path, bytes).unwrap();
    let out = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "format=duration",
            "-of",
            "csv=p=0",
        ])
        .arg(&path)
        .output()
        .expect("ffprobe is needed (apt-get install ffmpeg)");
    assert!(
        out.status.success(),
        "ffprobe refused the video: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

/// `GET`s a video and reads it whole: its status, headers and bytes, and the time to
/// its first body byte.
async fn timed_get(
    app: &TestApp,
    path: &str,
    token: &str,
) -> (reqwest::Response, Vec<u8>, std::time::Duration) {
    let started = std::time::Instant::now();
    let mut response = get(app, path, token, &[]).await;
    let mut bytes = response
        .chunk()
        .await
        .unwrap()
        .expect("an empty body")
        .to_vec();
    let first_byte = started.elapsed();
    while let Some(chunk) = response.chunk().await.unwrap() {
        bytes.extend_from_slice(&chunk);
    }
    (response, bytes, first_byte)
}

/// Three consecutive minutes make two segments (2 min and 1 min) cut from the
/// recordings; the first is a valid 120 s MP4; windows over ten minutes are refused.
async fn drive_segments_are_two_minute_videos(app: TestApp) {
    let token = app.sign_in("+14155550100").await;
    let tus = Tus::new(&app, &token);
    for (seed, start) in [
        ("a", "2026-11-20T07:30:00Z"),
        ("b", "2026-11-20T07:31:00Z"),
        ("c", "2026-11-20T07:32:00Z"),
    ] {
        let (_, done) = tus.upload(&minute(seed), &recording(start), 8 << 20).await;
        assert_eq!(done.status(), 204, "{:?}", done.text().await);
    }
    let drives = json(&app, "/api/v1/drives", &token).await;
    let id = drives["items"][0]["id"].as_str().unwrap().to_owned();
    let segments = json(&app, &format!("/api/v1/drives/{id}/segments"), &token).await;
    let items = segments["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{segments}");
    assert_eq!(items[0]["start"], "2026-11-20T07:30:00Z");
    assert_eq!(items[0]["end"], "2026-11-20T07:32:00Z");
    assert_eq!(items[1]["end"], "2026-11-20T07:33:00Z");
    assert_eq!(items[0]["source"], "recordings");
    let url = items[0]["url"].as_str().unwrap();
    assert!(url.starts_with(&format!("/api/v1/drives/{id}/video?")) && url.contains("download=1"));

    let (response, bytes, cold) = timed_get(&app, url, &token).await;
    assert_eq!(response.status(), 200);
    assert!(header(&response, "content-disposition")
        .contains("dashvault_2026-11-20_07-30-00_drive.mp4"));
    let duration = ffprobe_duration(&bytes);
    assert!(
        (duration - 120.0).abs() <= 0.04,
        "segment lasts {duration} s"
    );
    let (_, again, warm) = timed_get(&app, url, &token).await;
    assert_eq!(again, bytes);
    eprintln!(
        "time to first byte of a 2-minute segment: {cold:?} (indexes read), {warm:?} (cached)"
    );

    let last = get(&app, items[1]["url"].as_str().unwrap(), &token, &[]).await;
    let duration = ffprobe_duration(&last.bytes().await.unwrap());
    assert!(
        (duration - 60.0).abs() <= 0.04,
        "last segment lasts {duration} s"
    );

    let long =
        format!("/api/v1/drives/{id}/video?from=2026-11-20T07:30:00Z&to=2026-11-20T07:40:01Z");
    assert_eq!(get(&app, &long, &token, &[]).await.status(), 400);
    let backwards =
        format!("/api/v1/drives/{id}/video?from=2026-11-20T07:31:00Z&to=2026-11-20T07:30:00Z");
    assert_eq!(get(&app, &backwards, &token, &[]).await.status(), 400);
    for bad in ["from=yesterday", "view=rear"] {
        let response = get(
            &app,
            &format!("/api/v1/drives/{id}/video?{bad}"),
            &token,
            &[],
        )
        .await;
        assert_eq!(response.status(), 400, "{bad}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "invalid_query", "{bad}");
    }
    let whole = get(&app, &format!("/api/v1/drives/{id}/video"), &token, &[]).await;
    let duration = ffprobe_duration(&whole.bytes().await.unwrap());
    assert!(
        (duration - 180.0).abs() <= 0.04,
        "whole drive lasts {duration} s"
    );
}

/// A drive with only a time-lapse of the view is segmented from it.
async fn segments_fall_back_to_the_timelapse(app: TestApp) {
    let token = app.sign_in("+14155550100").await;
    let meta = metadata(&[("kind", "timelapse"), ("start", "2026-11-20T07:30:00Z")]);
    let (_, done) = Tus::new(&app, &token)
        .upload(&minute("lapse"), &meta, 8 << 20)
        .await;
    assert_eq!(done.status(), 204, "{:?}", done.text().await);
    let drives = json(&app, "/api/v1/drives", &token).await;
    let id = drives["items"][0]["id"].as_str().unwrap().to_owned();
    let segments = json(&app, &format!("/api/v1/drives/{id}/segments"), &token).await;
    let items = segments["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{segments}");
    assert_eq!(items[0]["source"], "timelapse");
    let response = get(&app, items[0]["url"].as_str().unwrap(), &token, &[]).await;
    assert_eq!(response.status(), 200);
    let duration = ffprobe_duration(&response.bytes().await.unwrap());
    assert!((duration - 60.0).abs() <= 0.04, "{duration}");
    let cabin = get(
        &app,
        &format!("/api/v1/drives/{id}/segments?view=cabin"),
        &token,
        &[],
    )
    .await;
    assert_eq!(
        cabin.status(),
        404,
        "no recording nor time-lapse of the cabin"
    );
}

/// Where full-quality recordings were uploaded for part of a drive, its segments come
/// from them there and from the time-lapse elsewhere; each plays as long as it says.
async fn segments_mix_recordings_and_timelapse(app: TestApp) {
    let token = app.sign_in("+14155550100").await;
    let tus = Tus::new(&app, &token);
    for (seed, kind, start) in [
        ("lapse-1", "timelapse", "2026-11-20T07:30:00Z"),
        ("full", "recording", "2026-11-20T07:31:00Z"),
        ("lapse-2", "timelapse", "2026-11-20T07:32:00Z"),
    ] {
        let meta = metadata(&[("kind", kind), ("start", start)]);
        let (_, done) = tus.upload(&minute(seed), &meta, 8 << 20).await;
        assert_eq!(done.status(), 204, "{:?}", done.text().await);
    }
    let drives = json(&app, "/api/v1/drives", &token).await;
    assert_eq!(drives["items"].as_array().unwrap().len(), 1, "one drive");
    let id = drives["items"][0]["id"].as_str().unwrap().to_owned();
    let segments = json(&app, &format!("/api/v1/drives/{id}/segments"), &token).await;
    let items = segments["items"].as_array().unwrap();
    let sources: Vec<&str> = items
        .iter()
        .map(|i| i["source"].as_str().unwrap())
        .collect();
    assert_eq!(
        sources,
        ["timelapse", "recordings", "timelapse"],
        "{segments}"
    );
    for item in items {
        let response = get(&app, item["url"].as_str().unwrap(), &token, &[]).await;
        assert_eq!(response.status(), 200);
        let duration = ffprobe_duration(&response.bytes().await.unwrap());
        assert!((duration - 60.0).abs() <= 0.04, "{item}: {duration}");
    }
}

/// Thumbnails are 320 px wide JPEGs, made once and kept in the blob store.
async fn thumbnails_are_cached_jpegs(app: TestApp) {
    let token = app.sign_in("+14155550100").await;
    let bytes = video("thumb", 0);
    let id = upload_clip(&app, &token, &bytes, &clip_metadata()).await;
    let response = get(&app, &format!("/api/v1/clips/{id}/thumbnail"), &token, &[]).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "content-type"), "image/jpeg");
    assert!(header(&response, "cache-control").starts_with("private, max-age="));
    let jpeg = response.bytes().await.unwrap();
    assert_eq!(&jpeg[..2], [0xff, 0xd8]);
    assert_eq!(jpeg_width(&jpeg), 320);
    let key = BlobKey::new(format!(
        "thumbnails/{}-1000.jpg",
        hex::encode(Sha256::digest(&bytes))
    ))
    .unwrap();
    assert!(
        app.state.blobs.exists(&key).await.unwrap(),
        "cached under {key:?}"
    );
    let again = get(&app, &format!("/api/v1/clips/{id}/thumbnail"), &token, &[]).await;
    assert_eq!(again.bytes().await.unwrap(), jpeg);

    let (_, done) = Tus::new(&app, &token)
        .upload(
            &video("drive", 0),
            &recording("2026-11-20T07:30:00Z"),
            1 << 20,
        )
        .await;
    assert_eq!(done.status(), 204);
    let drives = json(&app, "/api/v1/drives", &token).await;
    let drive = drives["items"][0]["id"].as_str().unwrap();
    let response = get(
        &app,
        &format!("/api/v1/drives/{drive}/thumbnail"),
        &token,
        &[],
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(jpeg_width(&response.bytes().await.unwrap()), 320);
}

/// Width from a baseline JPEG's SOF0 segment.
fn jpeg_width(jpeg: &[u8]) -> u16 {
    let at = jpeg
        .windows(2)
        .position(|w| w == [0xff, 0xc0])
        .expect("no SOF0");
    u16::from_be_bytes([jpeg[at + 7], jpeg[at + 8]])
}

/// Every streaming endpoint answers another user's ids with `404`, like unknown ids.
async fn another_users_media_is_not_found(app: TestApp) {
    let owner = app.sign_in("+14155550100").await;
    let other = app.sign_in("+14155550101").await;
    let clip = upload_clip(&app, &owner, &video("mine", 0), &clip_metadata()).await;
    let (_, done) = Tus::new(&app, &owner)
        .upload(
            &video("drive", 0),
            &recording("2026-11-20T07:30:00Z"),
            1 << 20,
        )
        .await;
    assert_eq!(done.status(), 204);
    let drives = json(&app, "/api/v1/drives", &owner).await;
    let drive = drives["items"][0]["id"].as_str().unwrap().to_owned();
    let unknown = uuid::Uuid::now_v7();
    for path in [
        format!("/api/v1/clips/{clip}/video"),
        format!("/api/v1/clips/{clip}/video?download=1"),
        format!("/api/v1/clips/{clip}/thumbnail"),
        format!("/api/v1/drives/{drive}/video"),
        format!("/api/v1/drives/{drive}/segments"),
        format!("/api/v1/drives/{drive}/thumbnail"),
        format!("/api/v1/clips/{unknown}/video"),
        format!("/api/v1/drives/{unknown}/segments"),
    ] {
        let response = get(&app, &path, &other, &[]).await;
        assert_eq!(response.status(), 404, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "not_found", "{path}");
        assert_eq!(
            get(&app, &path, &owner, &[]).await.status(),
            if path.contains(&unknown.to_string()) {
                404
            } else {
                200
            },
            "{path}"
        );
    }
    let anonymous = app
        .http
        .get(app.url(&format!("/api/v1/clips/{clip}/video")))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}

both_engines!(
    segments_fall_back_to_the_timelapse,
    segments_mix_recordings_and_timelapse,
    thumbnails_are_cached_jpegs,
    another_users_media_is_not_found,
);
