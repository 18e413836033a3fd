//! Evidence end to end on the real binary with a real GoPro file (it has GPS): a clip's
//! signed bundle verifies offline with the key and is refused, with the reason, when one
//! byte of its video, of an original or of its manifest changes; the activity of a clip;
//! routes as GPX; and `admin verify-store` catching a blob changed on disk and a row
//! changed in the database.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::cloud::Cloud;
use crate::uploads::{files_under, sha256_of};
use crate::web::{metadata, upload};

const PHONE: &str = "+14155550166";
/// A GoPro HERO7 recording with GPS and accelerometer (GPMF).
const HERO7: &str = "../../testdata/media-samples/gopro__gpmf-parser/hero7.mp4";

fn hero7() -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(HERO7);
    assert!(path.exists(), "media sample missing: {}", path.display());
    path
}

fn dashvault(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dashvault"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("run dashvault")
}

/// The cloud (a server, a session, a camera), the camera's recording and a clip cut
/// from it.
struct Setup {
    cloud: Cloud,
    clip: String,
    drive: String,
}

async fn setup(dir: &Path) -> Setup {
    let cloud = Cloud::start(&dir.join("data"), PHONE, "C3221324545448").await;
    let (server, http, token) = (&cloud.server, &cloud.http, &cloud.device_token);
    // The camera's GPS time of its first frame, so the clip's window meets its fixes.
    let start = "2019-05-06T18:15:07.395Z";
    upload(
        server,
        http,
        token,
        &hero7(),
        &metadata(&[
            ("kind", "recording"),
            ("start", start),
            ("filename", "GH010042.MP4"),
        ]),
    )
    .await;
    let cut = dir.join("clip.mp4");
    let cut_arg = cut.to_str().unwrap();
    let hero7 = hero7();
    let out = dashvault(&[
        "media",
        "cut",
        "--from",
        "0",
        "--to",
        "7",
        "-o",
        cut_arg,
        hero7.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let incidents = r#"[{"type":"hard_brake","at":"2019-05-06T18:15:10Z","severity":0.8}]"#;
    upload(
        server,
        http,
        token,
        &cut,
        &metadata(&[
            ("kind", "clip"),
            ("clip", "auto"),
            ("start", start),
            ("filename", "GH010042_clip.MP4"),
            ("incidents", incidents),
        ]),
    )
    .await;
    let clips = cloud.get_json("/api/v1/clips").await;
    let clip = clips["items"][0]["id"]
        .as_str()
        .expect("the clip")
        .to_owned();
    let drives = cloud.get_json("/api/v1/drives").await;
    let drive = drives["items"][0]["id"]
        .as_str()
        .expect("the drive")
        .to_owned();
    Setup { cloud, clip, drive }
}

/// `GET path` as the holder of `token`.
async fn get_as(cloud: &Cloud, token: &str, path: &str) -> reqwest::Response {
    cloud
        .http
        .get(cloud.server.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// A new share link of the clip, as its owner.
async fn share(s: &Setup, include_location: bool) -> serde_json::Value {
    s.cloud
        .http
        .post(
            s.cloud
                .server
                .url(&format!("/api/v1/clips/{}/shares", s.clip)),
        )
        .bearer_auth(&s.cloud.session)
        .json(&serde_json::json!({"include_location": include_location}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The bundle with one byte of `entry` changed (in its middle), as a new ZIP.
fn tampered(bundle: &Path, entry: &str, out: &Path) -> PathBuf {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(bundle).unwrap()).unwrap();
    let mut writer = zip::ZipWriter::new(std::fs::File::create(out).unwrap());
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let mut found = false;
    for i in 0..zip.len() {
        let mut file = zip.by_index(i).unwrap();
        let name = file.name().unwrap().into_owned();
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).unwrap();
        if name == entry {
            let at = bytes.len() / 2;
            bytes[at] ^= 0x01;
            found = true;
        }
        writer.start_file(name.as_str(), options).unwrap();
        writer.write_all(&bytes).unwrap();
    }
    writer.finish().unwrap();
    assert!(found, "the bundle has {entry}");
    out.to_owned()
}

/// Run `sql` on the SQLite database `db` while the server uses it (waiting for its
/// writes), as an intruder with file access would.
fn sqlite(db: &Path, sql: &str) {
    let status = Command::new("sqlite3")
        .args(["-cmd", ".timeout 10000"])
        .arg(db)
        .arg(sql)
        .status()
        .expect("sqlite3 (apt-get install sqlite3)");
    assert!(status.success(), "sqlite3 {sql}");
}

fn refused(bundle: &Path, key: &str, why: &str) {
    let out = dashvault(&["verify", bundle.to_str().unwrap(), "--key", key]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "refused: {stderr}");
    assert!(
        stderr.contains("refused") && stderr.contains(why),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gopro_clip_bundle_verifies_offline_and_tampering_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let s = setup(dir.path()).await;
    let response = s
        .cloud
        .get(&format!("/api/v1/clips/{}/evidence", s.clip))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/zip");
    let disposition = response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        disposition.starts_with("attachment; filename=\"dashvault_")
            && disposition.ends_with("_hard_brake_evidence.zip\""),
        "{disposition}"
    );
    let bundle = dir.path().join("bundle.zip");
    std::fs::write(&bundle, response.bytes().await.unwrap()).unwrap();

    let data = dir.path().join("data");
    let out = dashvault(&[
        "admin",
        "evidence-key",
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let key = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let published: serde_json::Value = reqwest::get(s.cloud.server.url("/api/v1/evidence/key"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        published,
        serde_json::json!({"algorithm": "ed25519", "public_key": key})
    );

    let out = dashvault(&["verify", bundle.to_str().unwrap(), "--key", &key]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for line in [
        "ok  signature of manifest.json",
        "ok  video.mp4: ",
        "ok  route.gpx",
        "ok  gforce.csv",
        "ok  originals/GH010042_clip.MP4: the clip",
        "ok  originals/GH010042.MP4: the recording",
        "ranges are bytes of originals/GH010042_clip.MP4",
        "ranges are bytes of originals/GH010042.MP4",
        "are bytes of the originals at the",
        "verified: clip",
    ] {
        assert!(stdout.contains(line), "{line:?} in {stdout}");
    }
    let online = dashvault(&[
        "verify",
        bundle.to_str().unwrap(),
        "--server",
        &s.cloud.server.base,
    ]);
    assert!(
        online.status.success(),
        "{}",
        String::from_utf8_lossy(&online.stderr)
    );

    let mut zip = zip::ZipArchive::new(std::fs::File::open(&bundle).unwrap()).unwrap();
    let mut manifest = String::new();
    zip.by_name("manifest.json")
        .unwrap()
        .read_to_string(&mut manifest)
        .unwrap();
    let manifest: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    assert_eq!(manifest["device"]["serial"], "C3221324545448");
    assert_eq!(manifest["clip"]["incidents"][0]["type"], "hard_brake");
    let source = &manifest["originals"][0];
    assert_eq!(source["role"], "source");
    assert_eq!(
        source["sha256"].as_str(),
        sha256_of(&dir.path().join("clip.mp4")).as_deref()
    );
    assert!(!source["ranges"].as_array().unwrap().is_empty());
    let camera = &manifest["originals"][1];
    assert_eq!(camera["role"], "recording");
    assert!(
        !camera["ranges"].as_array().unwrap().is_empty(),
        "the clip's frames found in the camera's file: {camera}"
    );
    let mut bundled = Vec::new();
    zip.by_name("video.mp4")
        .unwrap()
        .read_to_end(&mut bundled)
        .unwrap();
    let served = s
        .cloud
        .get(&format!("/api/v1/clips/{}/video", s.clip))
        .await;
    assert!(
        served.bytes().await.unwrap() == bundled,
        "video.mp4 is what video_url serves"
    );
    let mut gpx = String::new();
    zip.by_name("route.gpx")
        .unwrap()
        .read_to_string(&mut gpx)
        .unwrap();
    assert!(
        gpx.contains("<trkpt lat=") && gpx.contains("<time>2019-05-06T18:15:"),
        "{gpx}"
    );

    let originals = dir.path().join("t-original.zip");
    refused(
        &tampered(&bundle, "originals/GH010042.MP4", &originals),
        &key,
        "originals/GH010042.MP4 has SHA-256",
    );
    let video = dir.path().join("t-video.zip");
    refused(
        &tampered(&bundle, "video.mp4", &video),
        &key,
        "video.mp4 has SHA-256",
    );
    let signed = dir.path().join("t-manifest.zip");
    refused(
        &tampered(&bundle, "manifest.json", &signed),
        &key,
        "manifest.sig does not match manifest.json",
    );
    // Another key (RFC 8032's first test key) does not verify the server's signature.
    let other_key = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
    refused(&bundle, other_key, "manifest.sig does not match");

    let bob = s.cloud.server.sign_in(&s.cloud.http, "+14155550167").await;
    for path in ["evidence", "activity", "route.gpx"] {
        let other = get_as(&s.cloud, &bob, &format!("/api/v1/clips/{}/{path}", s.clip)).await;
        assert_eq!(other.status(), 404, "{path} of another user's clip");
    }
    let other = get_as(
        &s.cloud,
        &bob,
        &format!("/api/v1/drives/{}/route.gpx", s.drive),
    )
    .await;
    assert_eq!(other.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activity_is_recorded_once_per_viewing_and_routes_are_gpx() {
    let dir = tempfile::tempdir().unwrap();
    let s = setup(dir.path()).await;
    let video = s
        .cloud
        .server
        .url(&format!("/api/v1/clips/{}/video", s.clip));
    for range in ["bytes=0-", "bytes=1000-", "bytes=5000-9999"] {
        let r = s
            .cloud
            .http
            .get(&video)
            .bearer_auth(&s.cloud.session)
            .header("Range", range)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 206);
    }
    let download = s
        .cloud
        .http
        .get(format!("{video}?download=1"))
        .bearer_auth(&s.cloud.session)
        .send()
        .await
        .unwrap();
    assert_eq!(download.status(), 200);
    let first = share(&s, false).await;
    let link = first["url"].as_str().unwrap().to_owned();
    let page = s
        .cloud
        .http
        .get(s.cloud.server.url(&link))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        !html.contains("route.gpx"),
        "no route offered without the location"
    );
    let hidden = s
        .cloud
        .http
        .get(s.cloud.server.url(&format!("{link}/route.gpx")))
        .send()
        .await
        .unwrap();
    assert_eq!(hidden.status(), 404, "no route without the location shared");
    let revoke = s
        .cloud
        .http
        .delete(
            s.cloud
                .server
                .url(&format!("/api/v1/shares/{}", first["id"].as_str().unwrap())),
        )
        .bearer_auth(&s.cloud.session)
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), 204);
    let located = share(&s, true).await;
    let shown = s
        .cloud
        .http
        .get(
            s.cloud
                .server
                .url(&format!("{}/route.gpx", located["url"].as_str().unwrap())),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(shown.status(), 200);

    let activity: serde_json::Value = s
        .cloud
        .get(&format!("/api/v1/clips/{}/activity", s.clip))
        .await
        .json()
        .await
        .unwrap();
    let seen: Vec<(String, String)> = activity["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["action"].as_str().unwrap().to_owned(),
                i["via"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected = [
        ("share_create", "session"),
        ("share_revoke", "session"),
        ("share_open", "share"),
        ("share_create", "session"),
        ("download", "session"),
        ("play", "session"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(a, v)| (a.to_string(), v.to_string()))
        .collect();
    assert_eq!(seen, expected);
    assert!(activity["next_cursor"].is_null());

    for path in [
        format!("/api/v1/clips/{}/route.gpx", s.clip),
        format!("/api/v1/drives/{}/route.gpx", s.drive),
    ] {
        let gpx = s.cloud.get(&path).await;
        assert_eq!(gpx.status(), 200, "{path}");
        assert_eq!(gpx.headers()["content-type"], "application/gpx+xml");
        let text = gpx.text().await.unwrap();
        assert!(
            text.contains(r#"<gpx version="1.1""#) && text.contains("<trkpt"),
            "{text}"
        );
        assert!(
            text.contains("<gpxtpx:speed>"),
            "speeds as the Garmin extension"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_store_catches_a_changed_blob_and_a_changed_row() {
    let dir = tempfile::tempdir().unwrap();
    let s = setup(dir.path()).await;
    let data = dir.path().join("data");
    let data_arg = data.to_str().unwrap();
    let out = dashvault(&["admin", "verify-store", "--data-dir", data_arg]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("2 ledger entries, 2 stored files re-hashed")
            && stdout.contains("all hold"),
        "{stdout}"
    );

    let clip_sha = sha256_of(&dir.path().join("clip.mp4")).unwrap();
    let blob = files_under(&data.join("blobs"))
        .into_iter()
        .find(|p| sha256_of(p).as_deref() == Some(clip_sha.as_str()))
        .expect("the clip's blob");
    let original = std::fs::read(&blob).unwrap();
    let mut changed = original.clone();
    let at = changed.len() / 2;
    changed[at] ^= 0x01;
    std::fs::write(&blob, &changed).unwrap();
    let out = dashvault(&["admin", "verify-store", "--data-dir", data_arg]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(&format!("clip {}: its bytes changed", s.clip)),
        "{stdout}"
    );
    std::fs::write(&blob, &original).unwrap();

    let sql = format!(
        "UPDATE clips SET size = size + 1 WHERE lower(hex(id)) = '{}'",
        s.clip.replace('-', "")
    );
    let db = data.join("dashvault.db");
    sqlite(&db, &sql);
    let out = dashvault(&["admin", "verify-store", "--data-dir", data_arg]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(&format!("clip {}: its row changed", s.clip)),
        "{stdout}"
    );

    let sql = "UPDATE ledger SET size = size + 1 WHERE seq = 1";
    sqlite(&db, sql);
    let out = dashvault(&["admin", "verify-store", "--data-dir", data_arg]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("ledger entry 1: its fields do not hash to its hash"),
        "{stdout}"
    );

    // Files stored before the ledger existed: reported, then entered with --adopt.
    let sql = format!(
        "DELETE FROM ledger; UPDATE clips SET size = size - 1 WHERE lower(hex(id)) = '{}'",
        s.clip.replace('-', "")
    );
    sqlite(&db, &sql);
    let out = dashvault(&["admin", "verify-store", "--data-dir", data_arg]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("but not in the ledger"), "{stdout}");
    let out = dashvault(&["admin", "verify-store", "--adopt", "--data-dir", data_arg]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("2 stored files without an entry entered in the ledger"),
        "{stdout}"
    );
    let out = dashvault(&["admin", "verify-store", "--data-dir", data_arg]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    drop(s);
}
