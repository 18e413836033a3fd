//! The web UI end to end: a real `dashvault serve` (SQLite and files), real MP4s uploaded
//! with tus, and Debian's Chromium driven by playwright-core (`tests/browser/web.cjs`):
//! sign in with the code from the console, lists and a filter, playing and seeking by an
//! incident marker, a share link opened by a stranger and revoked, a ride's 2-minute
//! segment downloaded and checked with ffprobe, a clip deleted down to its blob, and a
//! deep link opened signed out that sign-in returns to; a camera added on `/cameras` whose
//! copied agent command, run against a simulated camera, brings its ride. The browser runs
//! in Asia/Tokyo (UTC+9), so times must show in the viewer's zone.
//! Screenshots of every page land in `target/screenshots/`. `scripts/test` installs
//! Chromium and playwright-core; without them this test fails.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;

use crate::process::{lines, succeeds};
use crate::uploads::{files_under, patch, sha256_of, tus, Server};

const PHONE: &str = "+14155550123";
const FPS: u32 = 25;

/// `Upload-Metadata` from plain pairs.
pub(crate) fn metadata(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(key, value)| {
            let value = base64::engine::general_purpose::STANDARD.encode(value);
            format!("{key} {value}")
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// A `seconds`-long 320x240 H.264 video at 25 fps with a keyframe every second, its colours
/// turned by `hue` degrees so that every file differs.
fn video(dir: &Path, name: &str, seconds: u32, hue: u32) -> PathBuf {
    let path = dir.join(name);
    let keyint = FPS.to_string();
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg(format!(
            "testsrc=size=320x240:rate={FPS}:duration={seconds},hue=h={hue}"
        ))
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
        ])
        .args(["-g", &keyint, "-keyint_min", &keyint, "-sc_threshold", "0"])
        .arg(&path)
        .status()
        .unwrap_or_else(|e| panic!("ffmpeg is needed (apt-get install ffmpeg): {e}"));
    assert!(status.success(), "ffmpeg made {name}");
    path
}

/// Upload `file` whole with tus as `token`, with `meta` as its `Upload-Metadata`.
pub(crate) async fn upload(
    server: &Server,
    http: &reqwest::Client,
    token: &str,
    file: &Path,
    meta: &str,
) {
    let bytes = std::fs::read(file).unwrap();
    let created = tus(http.post(server.url("/api/v1/uploads")), token)
        .header("Upload-Length", bytes.len())
        .header("Upload-Metadata", meta)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201, "{:?}", created.text().await);
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let done = patch(http, &server.url(&location), token, 0, &bytes).await;
    assert_eq!(done.status(), 204, "{:?}", done.text().await);
}

/// A BlackVue `.gps` log from 08:00:00 for `seconds`: one fix a second heading north-east
/// from Munich at 10 to 20 m/s.
fn gps_log(seconds: u32) -> String {
    let start = 1_795_161_600_000u64; // 2026-11-20T08:00:00Z, in ms
    let mut log = String::new();
    for t in 0..seconds {
        let (lat, lon) = (
            48.137 + f64::from(t) * 0.0001,
            11.575 + f64::from(t) * 0.00015,
        );
        let knots = (15.0 + 5.0 * (f64::from(t) / 20.0).sin()) / 0.514_444;
        let body = format!(
            "GPRMC,08{:02}{:02}.00,A,{:02}{:07.4},N,{:03}{:07.4},E,{knots:.2},45.0,201126,,,A",
            t / 60,
            t % 60,
            lat.trunc(),
            lat.fract() * 60.0,
            lon.trunc(),
            lon.fract() * 60.0,
        );
        let checksum = body.bytes().fold(0u8, |sum, b| sum ^ b);
        log.push_str(&format!(
            "[{}]${body}*{checksum:02X}\n",
            start + u64::from(t) * 1000
        ));
    }
    log
}

/// A BlackVue `.3gf` accelerometer log for `seconds` at 10 Hz (128 counts per g): 1 g
/// down, and a 0.6 g brake at 36 s.
fn accel_log(seconds: u32) -> Vec<u8> {
    let mut log = Vec::new();
    for ms in (0..seconds * 1000).step_by(100) {
        let forward: i16 = if (36_000..37_000).contains(&ms) {
            -77
        } else {
            0
        };
        log.extend_from_slice(&ms.to_be_bytes());
        for axis in [forward, 0, 128] {
            log.extend_from_slice(&axis.to_be_bytes());
        }
    }
    log
}

/// A map tile server on a free port: every request gets the same 256x256 PNG. Returns
/// its URL template and the count of tiles served.
fn tile_server(dir: &Path) -> (String, Arc<AtomicUsize>) {
    let tile = dir.join("tile.png");
    let status = Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "color=c=0xd8e4d0:s=256x256",
        ])
        .args(["-frames:v", "1"])
        .arg(&tile)
        .status()
        .expect("ffmpeg runs");
    assert!(status.success());
    let png = std::fs::read(&tile).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://{}/{{z}}/{{x}}/{{y}}.png",
        listener.local_addr().unwrap()
    );
    let served = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&served);
    std::thread::spawn(move || {
        for mut stream in listener.incoming().map_while(Result::ok) {
            let mut request = [0u8; 4096];
            if stream.read(&mut request).unwrap_or(0) == 0 {
                continue;
            }
            count.fetch_add(1, Ordering::SeqCst);
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n",
                png.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&png);
        }
    });
    (url, served)
}

/// Whether a file with `file`'s bytes is under `blobs` (a blob that the delete job
/// removes while it is being looked at does not count).
fn stored(blobs: &Path, file: &Path) -> bool {
    let sha = sha256_of(file).expect("the uploaded file");
    files_under(blobs)
        .iter()
        .any(|p| sha256_of(p).as_ref() == Some(&sha))
}

/// What ffprobe counts in a file's video stream: frames and duration in seconds.
fn probe(path: &Path) -> (u64, f64) {
    let output = Command::new("ffprobe")
        .args(["-v", "error", "-count_frames", "-select_streams", "v:0"])
        .args([
            "-show_entries",
            "stream=nb_read_frames,duration",
            "-of",
            "csv=p=0",
        ])
        .arg(path)
        .output()
        .expect("ffprobe runs");
    assert!(
        output.status.success(),
        "ffprobe rejects {}: {}",
        path.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout);
    let mut fields = text.trim().split(',');
    let duration = fields.next().unwrap().parse().unwrap();
    let frames = fields.next().unwrap().parse().unwrap();
    (frames, duration)
}

/// The camera's files: a drive of three consecutive 1-minute recordings, and two clips in
/// it (an automatic one with a hard brake 6 s in, and a manual one). Returns the path of
/// the hard-brake clip.
async fn upload_library(server: &Server, token: &str, dir: &Path) -> PathBuf {
    let http = reqwest::Client::new();
    for minute in 0..3u32 {
        let file = video(dir, &format!("rec{minute}.mp4"), 60, minute * 40);
        let start = format!("2026-11-20T08:0{minute}:00Z");
        let meta = metadata(&[("kind", "recording"), ("start", &start)]);
        upload(server, &http, token, &file, &meta).await;
    }
    for (name, bytes) in [
        ("20261120_080000_N.gps", gps_log(180).into_bytes()),
        ("20261120_080000_N.3gf", accel_log(180)),
    ] {
        let file = dir.join(name);
        std::fs::write(&file, bytes).unwrap();
        let meta = metadata(&[
            ("kind", "sidecar"),
            ("start", "2026-11-20T08:00:00Z"),
            ("filename", name),
        ]);
        upload(server, &http, token, &file, &meta).await;
    }
    let brake = video(dir, "brake.mp4", 10, 200);
    let incidents = r#"[{"type":"hard_brake","at":"2026-11-20T08:00:36Z","severity":0.8}]"#;
    let meta = metadata(&[
        ("kind", "clip"),
        ("clip", "auto"),
        ("start", "2026-11-20T08:00:30Z"),
        ("incidents", incidents),
    ]);
    upload(server, &http, token, &brake, &meta).await;
    let manual = video(dir, "manual.mp4", 10, 300);
    let meta = metadata(&[
        ("kind", "clip"),
        ("clip", "manual"),
        ("start", "2026-11-20T08:01:40Z"),
    ]);
    upload(server, &http, token, &manual, &meta).await;
    brake
}

/// A POSIX shell command line as words: plain words split on spaces, `'…'` quoted and
/// `'\''` for a quote inside, as the Cameras page writes them.
fn shell_words(line: &str) -> Vec<String> {
    let (mut words, mut word, mut quoted, mut started) = (Vec::new(), String::new(), false, false);
    for c in line.chars() {
        match c {
            '\'' => (quoted, started) = (!quoted, true),
            '\\' if !quoted => {}
            ' ' if !quoted => {
                if started {
                    words.push(std::mem::take(&mut word));
                }
                started = false;
            }
            c => (word.push(c), started = true).1,
        }
    }
    if started {
        words.push(word);
    }
    words
}

/// Run a command copied from the Cameras page (`dashvault agent run …`) once, with a
/// fresh phone storage on Wi-Fi, as a user would paste it and add `--once`.
fn run_copied_agent(command: &str, storage: &Path) {
    let words = shell_words(command);
    assert_eq!(words[..3], ["dashvault", "agent", "run"], "{command}");
    let storage = storage.to_string_lossy();
    succeeds("agent", &["network", "wifi", "--storage", &storage]);
    let mut args: Vec<&str> = words[2..].iter().map(String::as_str).collect();
    args.extend(["--once", "--storage", &storage]);
    succeeds("agent", &args);
}

/// Run `web.cjs` against `server`, answering its requests: the sign-in code from the
/// console, the uploads (with the browser's session) once it is signed in, a simulated
/// camera's folder, and running the agent command it copied. Returns what it saw and the
/// hard-brake clip's file.
fn drive_browser(
    server: &Server,
    runtime: &tokio::runtime::Runtime,
    dir: &Path,
    shots: &Path,
) -> (serde_json::Value, PathBuf) {
    let tools = std::env::var("DASHVAULT_BROWSER_TOOLS").unwrap_or_else(|_| {
        panic!("DASHVAULT_BROWSER_TOOLS is not set: run ./scripts/test, which installs Chromium and playwright-core")
    });
    let downloads = dir.join("downloads");
    std::fs::create_dir_all(&downloads).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/web.cjs");
    let mut node = Command::new("node")
        .arg(script)
        .arg(&server.base)
        .arg(PHONE)
        .arg(shots)
        .arg(&downloads)
        .env("NODE_PATH", Path::new(&tools).join("node_modules"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node runs (install Node.js)");
    let mut stdin = node.stdin.take().unwrap();
    let output = lines(node.stdout.take().unwrap());
    let (mut result, mut brake) = (None, None);
    while let Ok(line) = output.recv_timeout(Duration::from_secs(300)) {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        let need = message["need"].as_str().unwrap_or_default();
        if need == "code" {
            writeln!(stdin, "{}", server.next_code()).unwrap();
        } else if let Some(token) = need.strip_prefix("upload ") {
            let clip = runtime.block_on(upload_library(server, token, dir));
            assert!(stored(&dir.join("data/blobs"), &clip), "the clip is stored");
            brake = Some(clip);
            writeln!(stdin, "uploaded").unwrap();
        } else if need == "camera" {
            let camera = dir.join("camera");
            let out = camera.to_string_lossy();
            succeeds(
                "simulate",
                &[
                    "camera",
                    "--out",
                    &out,
                    "--minutes",
                    "2",
                    "--start",
                    "2026-11-21T09:00:00Z",
                ],
            );
            writeln!(stdin, "{out}").unwrap();
        } else if let Some(command) = need.strip_prefix("agent ") {
            run_copied_agent(command, &dir.join("phone"));
            writeln!(stdin, "ran").unwrap();
        } else if !message["result"].is_null() {
            result = Some(message["result"].clone());
            break;
        }
    }
    drop(stdin);
    assert!(
        node.wait().unwrap().success(),
        "web.cjs failed (its error is above)"
    );
    (
        result.expect("web.cjs printed its result"),
        brake.expect("web.cjs asked for the uploads"),
    )
}

#[test]
fn the_web_ui_in_chromium() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let (tiles, tiles_served) = tile_server(dir.path());
    // No resend cooldown: the deep-link sign-in at the end asks for a second code.
    let server = Server::start_with(
        &data,
        &["--map-tiles-url", &tiles, "--code-resend-cooldown", "0s"],
    );

    let (seen, brake) = drive_browser(&server, &runtime, dir.path(), &shots);

    let blobs = data.join("blobs");
    let links = |key: &str| -> Vec<String> {
        seen[key]
            .as_array()
            .unwrap_or_else(|| panic!("{key} in {seen}"))
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };
    assert!(
        seen["empty"].as_str().unwrap().contains("Add your camera"),
        "{seen}"
    );
    assert_eq!(links("rides").len(), 1, "one ride: {seen}");
    assert_eq!(links("incidents").len(), 2, "two clips: {seen}");
    let mut paged = links("firstPage");
    paged.extend(links("secondPage"));
    assert_eq!(paged, links("incidents"), "two pages of one");
    assert_eq!(
        seen["afterLoadMore"],
        serde_json::json!({ "url": "?limit=1", "more": false }),
        "Load more appends the last page in place"
    );
    // The hard brake at 08:00:30 UTC reads 17:00 in Tokyo, with the zone named.
    let times = seen["cardTimes"].to_string();
    assert!(times.contains("17:00 GMT+9"), "{times}");
    let player = seen["playerTime"].as_str().unwrap();
    assert!(player.contains("17:00:30 GMT+9"), "{player}");
    assert!(
        seen["phoneFirstCard"].as_f64().unwrap() < 400.0,
        "the first card is in the first screen of a phone: {seen}"
    );
    assert_eq!(
        seen["actionsInView"], true,
        "Download is in the first screen: {seen}"
    );
    let labels = seen["chartLabels"].to_string();
    for label in ["km/h", "g", "x (camera)", "y (camera)", "17:00:3"] {
        assert!(labels.contains(label), "{label} in {labels}");
    }
    let clip = seen["clip"].as_str().unwrap().to_owned();
    assert_eq!(links("filtered"), vec![clip.clone()], "only the hard brake");
    assert!(seen["played"].as_f64().unwrap() > 1.0, "{seen}");
    assert!(
        (seen["marker"].as_f64().unwrap() - 6.0).abs() < 0.01,
        "{seen}"
    );
    assert!(
        (seen["seeked"].as_f64().unwrap() - 5.0).abs() < 0.5,
        "{seen}"
    );
    // The route (10 fixes) over map tiles, and the speed and G-force lines from the sidecars.
    assert!(seen["tiles"].as_u64().unwrap() >= 1, "{seen}");
    assert!(tiles_served.load(Ordering::SeqCst) >= 1);
    assert!(seen["route"].as_u64().unwrap() >= 10, "{seen}");
    assert_eq!(seen["charts"], 3, "speed, and G-force on two axes: {seen}");

    // The stranger sees that clip and nothing else of the owner's.
    let shared = &seen["shared"];
    assert_eq!(shared["status"], 200, "{seen}");
    assert!(shared["played"].as_f64().unwrap() > 1.0, "{seen}");
    let token_path = seen["shareUrl"]
        .as_str()
        .unwrap()
        .split("/s/")
        .nth(1)
        .unwrap();
    assert_eq!(
        shared["videos"],
        serde_json::json!([format!("/s/{token_path}/video")])
    );
    let text = shared["text"].as_str().unwrap();
    assert!(
        !text.contains(PHONE) && !text.contains("MY RIDES"),
        "{text}"
    );
    for link in shared["links"].as_array().unwrap() {
        let link = link.as_str().unwrap();
        assert!(
            !link.starts_with("/clips") && !link.starts_with("/rides") && !link.contains("/api/"),
            "the share page links to {link}"
        );
    }
    assert_eq!(seen["revoked"], 410, "{seen}");
    assert_eq!(
        seen["copyBeforeLink"], false,
        "no Copy before a link exists"
    );
    assert_eq!(
        shared["download"],
        format!("/s/{token_path}/video?download=1"),
        "the owner allowed downloads: {seen}"
    );
    let revoked = seen["revokedEntry"].as_str().unwrap();
    assert!(
        revoked.starts_with("Revoked, downloadable (made ") && !revoked.contains(" ,"),
        "{revoked}"
    );

    // The evidence bundle verifies with the server's key; the activity list shows it.
    let bundle = seen["evidence"].as_str().unwrap();
    assert!(bundle.ends_with("_evidence.zip"), "{seen}");
    succeeds("verify", &[bundle, "--server", &server.base]);
    let activity = seen["activity"].to_string();
    for action in [
        "evidence_export",
        "share_revoke",
        "share_open",
        "share_create",
        "play",
    ] {
        assert!(activity.contains(action), "{action} in {activity}");
    }

    // The first 2-minute segment of the ride: valid, 120 s ± 1 frame.
    assert_eq!(seen["segments"].as_array().unwrap().len(), 2, "{seen}");
    let (frames, duration) = probe(Path::new(seen["download"].as_str().unwrap()));
    assert!(
        (duration - 120.0).abs() <= 1.0 / f64::from(FPS),
        "{duration} s"
    );
    assert!(
        frames.abs_diff(120 * u64::from(FPS)) <= 1,
        "{frames} frames"
    );

    // Deleted: gone from the list, and its blob from the store (a background job).
    assert_eq!(links("afterDelete").len(), 1, "{seen}");
    assert!(!links("afterDelete").contains(&clip));
    assert_eq!(
        links("rideBadgesAfterDelete"),
        vec!["Hard brake"],
        "the ride keeps the incident of its deleted clip"
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while stored(&blobs, &brake) {
        assert!(
            Instant::now() < deadline,
            "the deleted clip's blob is still stored"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(seen["signedOut"], "/", "{seen}");
    assert_eq!(
        seen["otherNumber"],
        serde_json::json!({ "phoneForm": true, "codeForm": true }),
        "the code form stays after \"Use another number\""
    );
    assert_eq!(seen["returnedTo"], "/incidents?type=hard_brake", "{seen}");
    let csp: Vec<_> = links("errors")
        .into_iter()
        .filter(|e| e.contains("Content Security Policy"))
        .collect();
    assert!(csp.is_empty(), "{csp:?}");
    // The camera added in the browser: its command ran, and its ride is listed.
    let command = seen["command"].as_str().unwrap();
    assert!(
        command.contains("--token dvd_") && command.contains("--model 'Simulated camera'"),
        "{command}"
    );
    assert!(seen["qr"].as_u64().unwrap() >= 200, "{seen}");
    assert_eq!(seen["ridesAfterAgent"], 1, "{seen}");
    let camera = seen["camera"].as_str().unwrap();
    assert!(
        camera.contains("Test car")
            && camera.contains("Waiting to upload0")
            && !camera.contains("never")
            && !camera.contains("nothing yet"),
        "last seen, last upload, nothing waiting: {camera}"
    );
    assert_eq!(seen["zone"], "Europe/Berlin");
    assert!(
        seen["phoneFirstCardAfter"].as_f64().unwrap() < 400.0,
        "{seen}"
    );
    assert_eq!(seen["screenshots"].as_array().unwrap().len(), 18);
    server.kill();
}
