//! A simulated drive written minute by minute into a camera folder, and its ground truth.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, SubsecRound, Utc};
use serde::{Deserialize, Serialize};

use crate::blackvue;
use crate::drive::{drive, script_length, CarSample, Origin, HZ};
use crate::error::{Error, Result};
use crate::folder::Folder;
use crate::imu::{gaussian, Accelerometer, Mount};
use crate::incident::{Incident, IncidentKind};
use crate::mark::{self, Mark};
use crate::mp4::write_recording;
use crate::video::{self, Encoded, View, GOPS};

/// Seconds per recording file.
const FILE_S: u32 = 60;
/// The first incident may start this many seconds into the drive (launch, settling).
const FIRST_INCIDENT_S: f64 = 30.0;
/// An incident's scripted part must end this long before the drive does, s.
const LAST_INCIDENT_MARGIN_S: f64 = 10.0;
/// Seconds between the end of one incident's scripted part and the next incident.
const INCIDENT_GAP_S: f64 = 5.0;
/// Longest drive, minutes (a day).
const MAX_MINUTES: u32 = 24 * 60;
/// GPS position noise, metres (one sigma).
const GPS_NOISE_M: f64 = 1.5;
/// Name of the ground-truth file in the output folder.
pub const TRUTH_FILE: &str = "simulation.json";

/// What to simulate.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// The camera's folder (an SD card): recordings go to `out/Record/`, the ground truth
    /// to `out/simulation.json`.
    pub out: PathBuf,
    /// Length of the drive in minutes: one file per minute and view.
    pub minutes: u32,
    /// Also record the cabin view (`…_NI.mp4`).
    pub cabin: bool,
    /// Incidents, at seconds from the start of the drive.
    pub incidents: Vec<Incident>,
    /// Bytes the card holds: the oldest recordings are deleted to make room (loop
    /// recording). `None`: no limit.
    pub capacity: Option<u64>,
    /// Wall-clock time of the drive's start (whole seconds are used).
    pub start: DateTime<Utc>,
    /// Seed of everything random (route, speeds, mount, noise): same seed, same files.
    pub seed: u64,
    /// Recordings the camera marks as an event (`E`) or manual (`M`) instead of `N`.
    pub marks: Vec<Mark>,
    /// Minutes the camera's clock is ahead of UTC (a camera set to local time, e.g. 180
    /// for UTC+3): file names and `.gps` stamps follow it, the GPS sentences stay UTC.
    pub clock_offset_minutes: i64,
}

impl Options {
    /// A drive of `minutes` into `out` that ended now, road view only, no incidents, no
    /// capacity limit, seed 1.
    pub fn new(out: impl Into<PathBuf>, minutes: u32) -> Options {
        Options {
            out: out.into(),
            minutes,
            cabin: false,
            incidents: Vec::new(),
            capacity: None,
            start: Utc::now() - Duration::minutes(i64::from(minutes)),
            seed: 1,
            marks: Vec::new(),
            clock_offset_minutes: 0,
        }
    }

    /// Checks the drive length and that the incidents fit in it, apart from each other.
    pub fn validate(&self) -> Result<()> {
        if !(1..=MAX_MINUTES).contains(&self.minutes) {
            return Err(Error::Options(format!(
                "--minutes must be between 1 and {MAX_MINUTES}, not {}",
                self.minutes
            )));
        }
        if let Some(mark) = self.marks.iter().find(|m| m.minute >= self.minutes) {
            return Err(Error::Options(format!(
                "marked recording {}@{} is past the drive's last minute ({})",
                mark.kind.letter(),
                mark.minute,
                self.minutes - 1
            )));
        }
        let duration = f64::from(self.minutes * FILE_S);
        let mut sorted = self.incidents.clone();
        sorted.sort_by(|a, b| a.t.total_cmp(&b.t));
        let mut free_from = FIRST_INCIDENT_S;
        for incident in &sorted {
            if !incident.kind.is_motion() {
                return Err(Error::Options(format!(
                    "incident {}@{} is no motion to simulate: use one of the kinds of motion",
                    incident.kind, incident.t
                )));
            }
            let end = incident.t + script_length(incident.kind);
            if incident.t < free_from {
                return Err(Error::Options(format!(
                    "incident {}@{} starts too early: the first may start at {FIRST_INCIDENT_S} s, and each one {INCIDENT_GAP_S} s after the one before has ended (here at {free_from} s)",
                    incident.kind, incident.t
                )));
            }
            if end + LAST_INCIDENT_MARGIN_S > duration {
                return Err(Error::Options(format!(
                    "incident {}@{} does not end {LAST_INCIDENT_MARGIN_S} s before the drive's end at {duration} s: move it earlier or raise --minutes",
                    incident.kind, incident.t
                )));
            }
            free_from = end + INCIDENT_GAP_S;
        }
        Ok(())
    }
}

/// The ground truth of a simulated drive, as written to `simulation.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Camera {
    /// Start of the drive (and of its first recording).
    pub start: DateTime<Utc>,
    /// End of the drive.
    pub end: DateTime<Utc>,
    /// The seed it was made with.
    pub seed: u64,
    /// How the camera sat in the car.
    pub mount: Mount,
    /// The incidents, in time order.
    pub incidents: Vec<IncidentTruth>,
    /// Every file written, in order, relative to the output folder.
    pub files: Vec<RecordedFile>,
    /// Files deleted by loop recording to make room (paths relative to the output folder),
    /// including files of earlier drives in the same folder.
    pub overwritten: Vec<String>,
}

/// One incident as it happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentTruth {
    /// Its kind.
    #[serde(rename = "type")]
    pub kind: IncidentKind,
    /// Wall-clock time it started.
    pub at: DateTime<Utc>,
    /// Seconds from the start of the drive.
    pub t: f64,
}

/// What a written file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    /// An MP4 recording of one view.
    Video,
    /// A `.gps` NMEA log.
    Gps,
    /// A `.3gf` accelerometer log.
    Accel,
}

/// One file of the camera folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedFile {
    /// Path relative to the output folder, e.g. `Record/20261120_081502_NF.mp4`.
    pub path: String,
    /// What it holds.
    pub kind: FileKind,
    /// The view of a video.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub view: Option<View>,
    /// Start of the recording it belongs to.
    pub start: DateTime<Utc>,
    /// Seconds it covers.
    pub duration: f64,
    /// Size in bytes.
    pub size: u64,
}

/// Progress of a simulation: recording minutes written so far, of how many.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Minutes written.
    pub done: u32,
    /// Minutes in the drive.
    pub total: u32,
}

/// Simulates a drive into `options.out`; see [`simulate_camera_with`].
pub fn simulate_camera(options: &Options) -> Result<Camera> {
    simulate_camera_with(options, &mut |_| {})
}

/// Simulates a drive into `options.out`, calling `progress` after each minute, and writes
/// `simulation.json` last (its presence means the drive is complete).
pub fn simulate_camera_with(
    options: &Options,
    progress: &mut dyn FnMut(Progress),
) -> Result<Camera> {
    options.validate()?;
    let start = options.start.trunc_subsecs(0);
    let mut rng = fastrand::Rng::with_seed(options.seed);
    let origin = Origin {
        lat: 48.137 + 0.05 * (rng.f64() - 0.5),
        lon: 11.575 + 0.08 * (rng.f64() - 0.5),
        heading: 360.0 * rng.f64(),
    };
    let mount = Mount::random(&mut rng);
    let mut sensor = Accelerometer::new(mount, fastrand::Rng::with_seed(rng.u64(..)));
    let mut gps_rng = fastrand::Rng::with_seed(rng.u64(..));
    let duration = f64::from(options.minutes * FILE_S);
    let car = drive(duration, &options.incidents, origin, &mut rng);
    let mut views = vec![(View::Road, video::encode(View::Road)?)];
    if options.cabin {
        views.push((View::Cabin, video::encode(View::Cabin)?));
    }
    let record = options.out.join("Record");
    let mut folder = Folder::open(&record, options.capacity)?;
    let mut files = Vec::new();
    let mut overwritten = Vec::new();
    let per_file = (FILE_S * HZ) as usize;
    for (minute, steps) in (0..options.minutes).zip(car.chunks(per_file)) {
        let file_start = start + Duration::seconds(i64::from(minute * FILE_S));
        let minute_files = record_minute(
            (file_start, Duration::minutes(options.clock_offset_minutes)),
            f64::from(minute * FILE_S),
            mark::letter(&options.marks, minute),
            steps,
            &mut sensor,
            &mut gps_rng,
            &views,
        )?;
        let payload: Vec<(&str, &[u8])> = minute_files
            .iter()
            .map(|f| (f.name.as_str(), f.data.as_slice()))
            .collect();
        for path in folder.write(&payload)? {
            overwritten.push(relative(&options.out, &path));
        }
        files.extend(minute_files.into_iter().map(|f| RecordedFile {
            path: format!("Record/{}", f.name),
            kind: f.kind,
            view: f.view,
            start: file_start,
            duration: f64::from(FILE_S),
            size: f.data.len() as u64,
        }));
        progress(Progress {
            done: minute + 1,
            total: options.minutes,
        });
    }
    let mut incidents: Vec<IncidentTruth> = options
        .incidents
        .iter()
        .map(|i| IncidentTruth {
            kind: i.kind,
            at: start + Duration::milliseconds((i.t * 1000.0).round() as i64),
            t: i.t,
        })
        .collect();
    incidents.sort_by(|a, b| a.t.total_cmp(&b.t));
    let camera = Camera {
        start,
        end: start + Duration::seconds(i64::from(options.minutes * FILE_S)),
        seed: options.seed,
        mount,
        incidents,
        files,
        overwritten,
    };
    write_truth(&options.out, &camera)?;
    Ok(camera)
}

/// One file of a minute's recording, before it is written.
struct MinuteFile {
    name: String,
    kind: FileKind,
    view: Option<View>,
    data: Vec<u8>,
}

/// The files of the minute starting at `file_start` (UTC, `file_t0` seconds into the
/// drive; the camera's clock is `clock` ahead), of BlackVue type `kind`: the `.gps` and
/// `.3gf` sidecars, then a video per view.
fn record_minute(
    (file_start, clock): (DateTime<Utc>, Duration),
    file_t0: f64,
    kind: char,
    steps: &[CarSample],
    sensor: &mut Accelerometer,
    gps_rng: &mut fastrand::Rng,
    views: &[(View, Encoded)],
) -> Result<Vec<MinuteFile>> {
    let fixes: Vec<(f64, CarSample)> = steps
        .iter()
        .step_by(HZ as usize)
        .map(|c| (c.t - file_t0, with_gps_noise(*c, gps_rng)))
        .collect();
    let readings: Vec<(f64, [f64; 3])> = steps
        .iter()
        .map(|c| (c.t - file_t0, sensor.measure(c)))
        .collect();
    let stem = blackvue::stem(file_start + clock, kind);
    let mut files = vec![
        MinuteFile {
            name: format!("{stem}.gps"),
            kind: FileKind::Gps,
            view: None,
            data: blackvue::gps_log(file_start, clock, &fixes).into_bytes(),
        },
        MinuteFile {
            name: format!("{stem}.3gf"),
            kind: FileKind::Accel,
            view: None,
            data: blackvue::accel_log(&readings),
        },
    ];
    // The picture's clock shows the wall-clock second's last digit.
    let first_second = file_start.timestamp();
    let seconds: Vec<usize> = (0..i64::from(FILE_S))
        .map(|s| (first_second + s).rem_euclid(GOPS as i64) as usize)
        .collect();
    for (view, encoded) in views {
        let mut data = Vec::new();
        write_recording(&mut data, encoded, &seconds, file_start)?;
        files.push(MinuteFile {
            name: blackvue::video_name(file_start + clock, kind, *view),
            kind: FileKind::Video,
            view: Some(*view),
            data,
        });
    }
    Ok(files)
}

/// Writes `simulation.json` under a temporary name, then renames it: a watcher that sees
/// it sees it whole.
fn write_truth(out: &Path, camera: &Camera) -> Result<()> {
    let truth = out.join(TRUTH_FILE);
    let part = out.join(format!(".{TRUTH_FILE}.part"));
    let json = serde_json::to_vec_pretty(camera).map_err(|e| Error::Io {
        context: "encoding simulation.json".into(),
        source: e.into(),
    })?;
    std::fs::write(&part, json).map_err(Error::io(format!("writing {}", part.display())))?;
    std::fs::rename(&part, &truth).map_err(Error::io(format!("renaming to {}", truth.display())))
}

/// A GPS fix's position off by a metre or two, as a receiver gives it.
fn with_gps_noise(mut car: CarSample, rng: &mut fastrand::Rng) -> CarSample {
    let metre = 1.0 / 111_320.0;
    car.lat += GPS_NOISE_M * metre * gaussian(rng);
    car.lon += GPS_NOISE_M * metre * gaussian(rng) / car.lat.to_radians().cos();
    car
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}
