//! The agent syncing from the simulated camera served over HTTP in-process
//! (`dashvault_simulate::serve`), on both protocols: resumed downloads, files still being
//! written, marked files becoming clips, and a real BlackVue's sidecars.

use super::{Api, Clock, WifiCamera};
use crate::agent::{Agent, Options, Pass};
use crate::camera::source::Camera;
use crate::quota::Quota;
use crate::upload::Retry;
use chrono::{DateTime, TimeZone, Utc};
use dashvault_detect::Detector;
use dashvault_simulate::serve::{serve, ServeOptions, Served};
use dashvault_simulate::{simulate_camera, Mark};
use indicatif::ProgressBar;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// BlackVue sidecars recorded by a real camera (testdata/media-samples).
const SAMPLES: &str = "../../testdata/media-samples/acolomba__blackvuesync";

/// A simulated camera served on a local port; the server stops when this is dropped.
struct SimCamera {
    base: reqwest::Url,
    served: Arc<Mutex<Vec<Served>>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Drop for SimCamera {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SimCamera {
    fn start(dir: &Path, api: dashvault_simulate::Api, drop_after: Option<u64>) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let served: Arc<Mutex<Vec<Served>>> = Arc::default();
        let log = served.clone();
        let options = ServeOptions {
            dir: dir.to_owned(),
            api,
            drop_after,
        };
        let hook = Arc::new(move |s: &Served| log.lock().unwrap().push(s.clone()));
        Self {
            base: base.parse().unwrap(),
            served,
            task: tokio::spawn(serve(listener, options, hook)),
        }
    }

    /// The requests for `path` so far, probes of its size (`bytes=0-0`) left out, the
    /// whole-file one first (a request is reported when its body ends, so a dropped
    /// body may be reported after the request that resumed it).
    fn fetches(&self, path: &str) -> Vec<Served> {
        let mut fetches: Vec<Served> = self
            .served
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.path == path && s.range.as_deref() != Some("bytes=0-0"))
            .cloned()
            .collect();
        fetches.sort_by_key(|s| s.range.is_some());
        fetches
    }
}

/// A clock moved by hand.
#[derive(Debug)]
struct Hand(Mutex<Instant>);

impl Clock for Hand {
    fn now(&self) -> Instant {
        *self.0.lock().unwrap()
    }
}

impl Hand {
    fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 8, 0, 0).unwrap()
}

/// A simulated drive of `minutes` into `dir` with the camera's `marks`.
fn drive(dir: &Path, minutes: u32, cabin: bool, marks: &[&str]) {
    let mut options = dashvault_simulate::Options::new(dir, minutes);
    options.start = start();
    options.cabin = cabin;
    options.marks = marks.iter().map(|m| m.parse::<Mark>().unwrap()).collect();
    simulate_camera(&options).unwrap();
}

/// Download attempts with backoffs of milliseconds.
fn retry(attempts: u32) -> Retry {
    Retry {
        base: Duration::from_millis(10),
        max: Duration::from_millis(40),
        attempts,
    }
}

async fn agent(storage: &Path, camera: WifiCamera, retry: Retry) -> Agent {
    Agent::open(Options {
        storage: storage.to_owned(),
        camera: Camera::Wifi(camera.with_retry(retry)),
        quota: Quota::Bytes(u64::MAX / 2),
        detector: Detector::default(),
    })
    .await
    .unwrap()
}

async fn pass(agent: &Agent, all_final: bool) -> Pass {
    agent.pass(all_final, &ProgressBar::hidden()).await.unwrap()
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn blackvue_over_wifi_resumes_a_dropped_file_and_keeps_marked_files_as_clips() {
    let dir = tempfile::tempdir().unwrap();
    let (card, storage) = (dir.path().join("card"), dir.path().join("phone"));
    drive(&card, 3, true, &["E@1", "M@2"]);
    let record = card.join("Record");
    // The first minute's telemetry as a real BlackVue wrote it.
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join(SAMPLES);
    for ext in ["gps", "3gf"] {
        std::fs::copy(
            samples.join(format!("mock.{ext}")),
            record.join(format!("20261120_080000_N.{ext}")),
        )
        .unwrap();
    }
    let camera = SimCamera::start(&card, dashvault_simulate::Api::Blackvue, Some(100_000));
    let wifi = WifiCamera::new(camera.base.clone(), None).unwrap();
    assert_eq!(wifi.api().await.unwrap(), Api::Blackvue);
    let agent = agent(&storage, wifi, retry(3)).await;
    // Part of a file the camera has overwritten since.
    let stray = storage.join("phone/partial/20261119_235900_NF.mp4");
    std::fs::create_dir_all(stray.parent().unwrap()).unwrap();
    std::fs::write(&stray, b"half a file").unwrap();

    let pass = pass(&agent, true).await;
    assert!(!stray.exists());
    assert_eq!(pass.import.recordings, 3, "{pass:#?}");
    assert_eq!(pass.import.sidecars, 6, "{pass:#?}");
    assert_eq!(pass.import.marked, 2, "the E and M cabin files: {pass:#?}");
    assert_eq!(pass.import.failed, 0, "{pass:#?}");

    // The dropped file was resumed from where it broke off, never fetched whole again.
    let first = "/Record/20261120_080000_NF.mp4";
    let size = std::fs::metadata(record.join(&first[8..])).unwrap().len();
    let fetches = camera.fetches(first);
    assert_eq!(fetches.len(), 2, "{fetches:#?}");
    assert!(
        fetches[0].dropped && fetches[0].range.is_none(),
        "{fetches:#?}"
    );
    let resumed_at: u64 = fetches[1].range.as_deref().unwrap()["bytes=".len()..]
        .trim_end_matches('-')
        .parse()
        .unwrap();
    assert_eq!(resumed_at, fetches[0].sent, "{fetches:#?}");
    assert!(resumed_at >= 100_000, "{fetches:#?}");
    assert_eq!(
        (fetches[1].status, fetches[1].sent),
        (206, size - resumed_at)
    );
    // Cabin files the camera did not mark stay on it.
    assert!(camera.fetches("/Record/20261120_080000_NI.mp4").is_empty());

    // On the phone: the camera's bytes, the real sidecars unchanged.
    let day = storage.join("phone/recordings/2026-11-20");
    for phone in files(&day) {
        let name = phone.file_name().unwrap();
        assert_eq!(
            std::fs::read(&phone).unwrap(),
            std::fs::read(record.join(name)).unwrap()
        );
    }
    let sidecars = storage.join("phone/sidecars/2026-11-20");
    assert_eq!(
        std::fs::read(sidecars.join("20261120_080000_N.gps")).unwrap(),
        std::fs::read(samples.join("mock.gps")).unwrap()
    );
    assert_eq!(files(&sidecars).len(), 6);
    assert!(files(&storage.join("phone/partial")).is_empty());

    // The marked files became one clip each, road and cabin, covering the whole minute.
    let mut clips: Vec<_> = pass
        .processed
        .iter()
        .flat_map(|p| p.clips.clone())
        .collect();
    clips.sort_by_key(|c| (c.start, c.view.clone()));
    let got: Vec<(&str, &str, i64, i64)> = clips
        .iter()
        .map(|c| {
            (
                c.kind.as_str(),
                c.view.as_str(),
                (c.start - start()).num_seconds(),
                (c.end - c.start).num_seconds(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("auto", "cabin", 60, 60),
            ("auto", "road", 60, 60),
            ("manual", "cabin", 120, 60),
            ("manual", "road", 120, 60),
        ],
        "{clips:#?}"
    );
    // No incident in the drive: the camera's own event is the clip's incident.
    for clip in clips.iter().filter(|c| c.kind == "auto") {
        let kinds: Vec<_> = clip
            .incidents
            .iter()
            .map(|i| (i.kind.as_str(), i.at))
            .collect();
        assert_eq!(
            kinds,
            [("camera_event", start() + chrono::Duration::minutes(1))]
        );
    }
    assert!(clips
        .iter()
        .filter(|c| c.kind == "manual")
        .all(|c| c.incidents.is_empty()));

    // A second pass finds nothing new.
    let again = self::pass(&agent, true).await;
    assert_eq!(
        (again.import.recordings, again.import.marked),
        (0, 0),
        "{again:#?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_still_growing_is_not_fetched_while_watching() {
    let dir = tempfile::tempdir().unwrap();
    let (card, storage) = (dir.path().join("card"), dir.path().join("phone"));
    drive(&card, 1, false, &[]);
    let record = card.join("Record");
    let whole = std::fs::read(record.join("20261120_080000_NF.mp4")).unwrap();
    // The camera is writing the next minute.
    let growing = record.join("20261120_080100_NF.mp4");
    std::fs::write(&growing, &whole[..whole.len() / 3]).unwrap();
    let camera = SimCamera::start(&card, dashvault_simulate::Api::Blackvue, None);
    let clock = Arc::new(Hand(Mutex::new(Instant::now())));
    let wifi = WifiCamera::new(camera.base.clone(), Some(Api::Blackvue))
        .unwrap()
        .with_clock(clock.clone());
    let agent = agent(&storage, wifi, retry(3)).await;
    let path = "/Record/20261120_080100_NF.mp4";

    // Seen once: nothing is known to be finished yet.
    let first = pass(&agent, false).await;
    assert_eq!((first.import.recordings, first.import.not_ready), (0, 2));

    // Seconds later the first file has kept its size; the second has grown.
    std::fs::write(&growing, &whole[..whole.len() * 2 / 3]).unwrap();
    clock.advance(super::SETTLE);
    let second = pass(&agent, false).await;
    assert_eq!((second.import.recordings, second.import.not_ready), (1, 1));

    // It is complete now, but only a later listing can tell it stopped growing.
    std::fs::write(&growing, &whole).unwrap();
    clock.advance(super::SETTLE);
    let third = pass(&agent, false).await;
    assert_eq!((third.import.recordings, third.import.not_ready), (0, 1));
    assert!(
        camera.fetches(path).is_empty(),
        "{:#?}",
        camera.fetches(path)
    );

    clock.advance(Duration::from_secs(1));
    assert_eq!(pass(&agent, false).await.import.recordings, 0, "too soon");
    clock.advance(super::SETTLE);
    let last = pass(&agent, false).await;
    assert_eq!(last.import.recordings, 1, "{last:#?}");
    let fetches = camera.fetches(path);
    assert_eq!(fetches.len(), 1, "{fetches:#?}");
    assert_eq!(fetches[0].sent, whole.len() as u64);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_novatek_camera_is_found_and_its_locked_file_becomes_a_clip() {
    let dir = tempfile::tempdir().unwrap();
    let (card, storage) = (dir.path().join("card"), dir.path().join("phone"));
    drive(&card, 2, false, &["E@1"]);
    let camera = SimCamera::start(&card, dashvault_simulate::Api::Novatek, Some(50_000));
    let wifi = WifiCamera::new(camera.base.clone(), None).unwrap();
    assert_eq!(wifi.api().await.unwrap(), Api::Novatek);
    let asked: Vec<(String, u16)> = camera
        .served
        .lock()
        .unwrap()
        .iter()
        .map(|s| (s.path.clone(), s.status))
        .collect();
    assert_eq!(
        asked,
        [
            ("/blackvue_vod.cgi".into(), 404),
            ("/?custom=1&cmd=3015".into(), 200)
        ]
    );
    let agent = agent(&storage, wifi, retry(3)).await;
    let pass = pass(&agent, true).await;
    assert_eq!(
        (pass.import.recordings, pass.import.sidecars),
        (2, 0),
        "{pass:#?}"
    );
    let names: Vec<_> = files(&storage.join("phone/recordings/2026-11-20"))
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        ["2026_1120_080000_0001F.MP4", "2026_1120_080100_0002F.MP4"]
    );
    let first = camera.fetches("/DCIM/Movie/2026_1120_080000_0001F.MP4");
    assert_eq!(first.len(), 2, "dropped once, resumed: {first:#?}");
    assert_eq!(first[1].status, 206);
    assert_eq!(first[1].range, Some(format!("bytes={}-", first[0].sent)));

    let clips: Vec<_> = pass
        .processed
        .iter()
        .flat_map(|p| p.clips.clone())
        .collect();
    assert_eq!(clips.len(), 1, "{clips:#?}");
    assert_eq!(
        (clips[0].kind.as_str(), clips[0].view.as_str()),
        ("auto", "road")
    );
    assert_eq!(clips[0].start, start() + chrono::Duration::minutes(1));
    assert_eq!(clips[0].incidents[0].kind, "camera_event");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_camera_gone_mid_file_is_asked_again_next_round_from_where_it_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let (card, storage) = (dir.path().join("card"), dir.path().join("phone"));
    drive(&card, 2, false, &[]);
    let camera = SimCamera::start(&card, dashvault_simulate::Api::Blackvue, Some(120_000));
    let wifi = WifiCamera::new(camera.base.clone(), Some(Api::Blackvue)).unwrap();
    let agent = agent(&storage, wifi, retry(1)).await;
    let path = "/Record/20261120_080000_NF.mp4";

    // The connection drops and the one attempt allowed is spent: the round goes on
    // without the camera, keeping the bytes it got.
    let first = pass(&agent, true).await;
    assert_eq!(
        (first.import.recordings, first.import.failed),
        (0, 2),
        "{first:#?}"
    );
    let partial = storage.join("phone/partial/20261120_080000_NF.mp4");
    let kept = std::fs::metadata(&partial).unwrap().len();
    assert_eq!(
        camera.fetches(path).len(),
        1,
        "the next file is not asked for"
    );
    assert!(camera.fetches("/Record/20261120_080100_NF.mp4").is_empty());

    let second = pass(&agent, true).await;
    assert_eq!(second.import.recordings, 2, "{second:#?}");
    let fetches = camera.fetches(path);
    assert_eq!(fetches.len(), 2, "{fetches:#?}");
    assert_eq!(fetches[0].sent, kept);
    assert_eq!(fetches[1].range, Some(format!("bytes={kept}-")));
    assert!(!partial.exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_camera_away_is_an_ordinary_round_while_watching_and_an_error_once() {
    let dir = tempfile::tempdir().unwrap();
    // An address nothing answers on (the car is out of the driveway).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base: reqwest::Url = format!("http://127.0.0.1:{port}").parse().unwrap();
    let wifi = WifiCamera::new(base, None).unwrap();
    let agent = agent(dir.path(), wifi, retry(1)).await;
    let watching = pass(&agent, false).await;
    assert_eq!(watching.import, Default::default());
    let once = agent.pass(true, &ProgressBar::hidden()).await.unwrap_err();
    assert!(once.is_camera_unreachable(), "{once}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_whole_file_comes_in_one_attempt_and_one_request() {
    let dir = tempfile::tempdir().unwrap();
    drive(&dir.path().join("card"), 1, false, &[]);
    let camera = SimCamera::start(
        &dir.path().join("card"),
        dashvault_simulate::Api::Blackvue,
        None,
    );
    let wifi = WifiCamera::new(camera.base.clone(), None)
        .unwrap()
        .with_retry(retry(1));
    let partial = dir.path().join("partial/x");
    // A write still under way when the file's length is read made a second attempt,
    // after a backoff, now and then: tried often enough to see it.
    for round in 1..=20 {
        for path in [
            "/Record/20261120_080000_NF.mp4",
            "/Record/20261120_080000_N.3gf",
        ] {
            std::fs::remove_file(&partial).ok();
            let size = wifi.download(path, &partial, None).await.unwrap();
            assert_eq!(std::fs::metadata(&partial).unwrap().len(), size);
            assert_eq!(camera.fetches(path).len(), round);
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_camera_over_wifi_after_its_card_imports_nothing_twice() {
    // The card with a cabin view and an event file (its cabin file is fetched too).
    let dir = tempfile::tempdir().unwrap();
    let (card, storage) = (dir.path().join("card"), dir.path().join("phone"));
    drive(&card, 2, true, &["E@1"]);
    let folder = Agent::open(Options {
        storage: storage.clone(),
        camera: Camera::Folder(card.clone()),
        quota: Quota::Bytes(u64::MAX / 2),
        detector: Detector::default(),
    })
    .await
    .unwrap();
    let first = pass(&folder, true).await;
    let got = (
        first.import.recordings,
        first.import.sidecars,
        first.import.marked,
    );
    assert_eq!(got, (2, 4, 1), "{first:#?}");

    let camera = SimCamera::start(&card, dashvault_simulate::Api::Blackvue, None);
    let wifi = WifiCamera::new(camera.base.clone(), None).unwrap();
    let again = pass(&agent(&storage, wifi, retry(1)).await, true).await;
    let got = (
        again.import.recordings,
        again.import.sidecars,
        again.import.marked,
    );
    assert_eq!(got, (0, 0, 0), "{again:#?}");
    assert!(
        again.processed.iter().all(|p| p.clips.is_empty()),
        "{again:#?}"
    );
    for path in [
        "/Record/20261120_080000_NF.mp4",
        "/Record/20261120_080000_N.gps",
        "/Record/20261120_080100_EI.mp4",
    ] {
        assert!(camera.fetches(path).is_empty(), "{path}");
    }
}
