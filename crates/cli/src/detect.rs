//! `dashvault detect`: incident detection from G-sensor data.
//!
//! `run` reads a CSV (`t, ax, ay, az[, gx, gy, gz][, speed][, parked]`) or a camera file's
//! telemetry and prints events and clip
//! windows; `eval` scores the detector on labelled trips of the driverBehaviorDataset
//! layout, each mounted at random orientations; `convert` writes one such trip as the CSV
//! `run` reads, so that what `eval` scores can be looked at sample by sample.

use anyhow::Context;
use clap::Subcommand;
use dashvault_detect::eval::{
    leave_one_trip_out, load_trips, total, BetweenLabelsList, Conversion, EvalOptions,
    LabelledTrip, Mount,
};
use dashvault_detect::{Detection, Detector, Thresholds, Trace};
use dashvault_media::telemetry::read_telemetry;
use std::fs::File;
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};

/// Subcommands of `dashvault detect`.
#[derive(Debug, Subcommand)]
pub enum DetectCommand {
    /// Detect incidents in one recording and list events and clip windows.
    Run {
        /// CSV with a header and columns t, ax, ay, az (m/s²), gx, gy, gz (rad/s), speed
        /// (m/s), parked (1 in the camera's parking mode); or a recording / sidecar with
        /// telemetry (GoPro MP4, BlackVue `.3gf`, …).
        file: PathBuf,
        /// Print JSON: {"events": [...], "clips": [...]}.
        #[arg(long)]
        json: bool,
        /// Thresholds for this camera model (TOML; missing fields keep their defaults).
        #[arg(long)]
        thresholds: Option<PathBuf>,
    },
    /// Score the detector on labelled trips, leave-one-trip-out, on both conversions of
    /// the trips: per-class recall and precision, calm manoeuvres flagged, collisions and
    /// detections between labels (counted, then listed to be looked up).
    Eval {
        /// Trip folders in the driverBehaviorDataset layout.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Number of random mount rotations per trip.
        #[arg(long, default_value_t = 20)]
        rotations: usize,
        /// Seed of the first rotation.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Thresholds to evaluate (TOML; missing fields keep their defaults).
        #[arg(long)]
        thresholds: Option<PathBuf>,
        /// Drop the gyroscope, as with a BlackVue `.3gf`.
        #[arg(long)]
        accel_only: bool,
        /// Drive the trips in a mirror: every left turn and lane change a right one and
        /// the reverse (the trips have no lane change to the left).
        #[arg(long)]
        mirrored: bool,
        /// Record the trips at this many samples a second (averaged), as a camera with a
        /// slower G-sensor would: 10 for a BlackVue `.3gf`.
        #[arg(long, value_name = "HZ")]
        rate: Option<f64>,
    },
    /// Write a labelled trip as a dashcam records it, as CSV (t, ax, ay, az, gx, gy, gz)
    /// on standard output: the input `eval` scores.
    Convert {
        /// A trip folder in the driverBehaviorDataset layout.
        dir: PathBuf,
        /// Mount the camera at the random rotation of this seed (as `eval --seed`);
        /// without it, the camera is aligned with the car (x forward, y left, z up).
        #[arg(long)]
        mount: Option<u64>,
        /// Leave the tilt of the phone's Earth frame in (only the heading is converted).
        #[arg(long)]
        plain: bool,
    },
}

/// Runs one `detect` subcommand.
pub fn run(cmd: DetectCommand) -> anyhow::Result<()> {
    match cmd {
        DetectCommand::Run {
            file,
            json,
            thresholds,
        } => {
            let detector = Detector::new(load_thresholds(thresholds.as_deref())?);
            let trace = read_trace(&file)?;
            let detection = detector
                .detect(&trace)
                .with_context(|| format!("detecting in {}", file.display()))?;
            if json {
                let out = serde_json::json!({
                    "events": detection.events,
                    "clips": detection.clips,
                });
                println!("{}", serde_json::to_string_pretty(&out)?);
            } else {
                print_table(&detection);
            }
            Ok(())
        }
        DetectCommand::Eval {
            dirs,
            rotations,
            seed,
            thresholds,
            accel_only,
            mirrored,
            rate,
        } => {
            anyhow::ensure!(rotations > 0, "--rotations must be at least 1");
            anyhow::ensure!(
                rate.is_none_or(|hz| (10.0..=50.0).contains(&hz)),
                "--rate must be between 10 (the detector's least) and 50 (the trips' own) Hz"
            );
            let thresholds_file = thresholds;
            let thresholds = load_thresholds(thresholds_file.as_deref())?;
            let trips = load_trips(&dirs)?;
            let options = EvalOptions {
                rotations,
                seed,
                accel_only,
                mirrored,
                rate_hz: rate,
            };
            // The levels are given (defaults or a file), so no trip chooses them.
            let folds = leave_one_trip_out(&trips, |_others| thresholds.clone(), &options)?;
            println!(
                "leave-one-trip-out: each trip scored with levels chosen without it ({}), \
                 {rotations} random mounts per trip{}{}{}",
                match thresholds_file {
                    Some(path) => format!("from {}", path.display()),
                    None => "the defaults: published levels and physics".to_string(),
                },
                if accel_only {
                    ", accelerometer only"
                } else {
                    ""
                },
                if mirrored {
                    ", driven in a mirror (left for right)"
                } else {
                    ""
                },
                rate.map_or_else(String::new, |hz| format!(", sampled at {hz} Hz"))
            );
            for conversion in Conversion::BOTH {
                println!("\n== {} conversion ==", conversion.name());
                for fold in folds.iter().filter(|f| f.conversion == conversion) {
                    println!("{fold}");
                }
                let report = total(&folds, conversion);
                println!("{report}");
                println!(
                    "\ndetections between labels, one line per manoeuvre (`detect convert` \
                     writes the trip to look them up in):\n{}",
                    BetweenLabelsList(&report)
                );
            }
            Ok(())
        }
        DetectCommand::Convert { dir, mount, plain } => {
            let trip = LabelledTrip::load(&dir)?;
            let mount = mount.map_or(Mount::IDENTITY, Mount::random);
            let conversion = if plain {
                Conversion::Plain
            } else {
                Conversion::Corrected
            };
            write_csv(
                &trip.device_trace(&mount, conversion),
                std::io::stdout().lock(),
            )
        }
    }
}

/// The trace as `t,ax,ay,az,gx,gy,gz` rows at the accelerometer's times; each gyroscope
/// sample goes with the accelerometer sample of the same rank (the dataset's files have
/// the same rows, a few milliseconds apart).
fn write_csv(trace: &Trace, out: impl Write) -> anyhow::Result<()> {
    let mut out = csv::Writer::from_writer(out);
    out.write_record(["t", "ax", "ay", "az", "gx", "gy", "gz"])?;
    for (a, g) in trace.accel.iter().zip(&trace.gyro) {
        let [ax, ay, az] = a.v;
        let [gx, gy, gz] = g.v;
        out.write_record([a.t, ax, ay, az, gx, gy, gz].map(|v| v.to_string()))?;
    }
    out.flush()?;
    Ok(())
}

fn load_thresholds(path: Option<&Path>) -> anyhow::Result<Thresholds> {
    let Some(path) = path else {
        return Ok(Thresholds::default());
    };
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let thresholds: Thresholds =
        toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    thresholds.validate()?;
    Ok(thresholds)
}

/// A CSV by its extension; anything else (MP4, GPMF, BlackVue `.3gf`) through the media
/// crate's telemetry readers.
fn read_trace(path: &Path) -> anyhow::Result<Trace> {
    let is_csv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    if is_csv {
        let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
        return Trace::from_csv(BufReader::new(file))
            .with_context(|| format!("reading {}", path.display()));
    }
    let telemetry = read_telemetry(path)
        .with_context(|| format!("reading telemetry from {}", path.display()))?;
    Ok(Trace::from_telemetry(&telemetry))
}

fn print_table(detection: &Detection) {
    if detection.events.is_empty() {
        println!("no incidents");
        return;
    }
    println!(
        "{:<12} {:>9} {:>9} {:>7} {:>8}",
        "event", "start s", "end s", "peak g", "severity"
    );
    for e in &detection.events {
        println!(
            "{:<12} {:>9.2} {:>9.2} {:>7.2} {:>8.2}",
            e.kind.as_str(),
            e.start,
            e.end,
            e.peak_g,
            e.severity
        );
    }
    println!();
    println!("{:>9} {:>9}  incidents", "clip from", "to");
    for clip in &detection.clips {
        let kinds: Vec<&str> = clip.incidents.iter().map(|e| e.kind.as_str()).collect();
        println!(
            "{:>9.2} {:>9.2}  {}",
            clip.start,
            clip.end,
            kinds.join(", ")
        );
    }
}
