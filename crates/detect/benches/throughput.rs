//! One hour of 100 Hz accelerometer and gyroscope, with a turn and a brake every minute,
//! through the whole detector, then the same without the gyroscope; prints the median of
//! several runs of each.

use dashvault_detect::{detect, Thresholds, Trace, G};
use dashvault_media::telemetry::Vec3Sample;
use std::time::{Duration, Instant};

const HZ: f64 = 100.0;
const SECONDS: f64 = 3600.0;
const RUNS: usize = 9;

/// Car frame (x forward, y left, z up) tilted into a dashcam's axes.
fn to_device(v: [f64; 3]) -> [f64; 3] {
    let (s, c) = 0.35f64.sin_cos();
    [v[1], c * v[2] - s * v[0], s * v[2] + c * v[0]]
}

fn hour() -> Trace {
    let n = (SECONDS * HZ) as usize;
    let mut accel = Vec::with_capacity(n);
    let mut gyro = Vec::with_capacity(n);
    for i in 0..n {
        let t = i as f64 / HZ;
        let phase = t % 60.0;
        let bump = 0.3 * (t * 71.0).sin() + 0.2 * (t * 23.0).cos();
        let (long, lat, yaw) = match phase {
            p if (10.0..14.0).contains(&p) => (0.0, 4.0, 0.5),
            p if (40.0..42.0).contains(&p) => (-4.0, 0.0, 0.0),
            _ => (0.3 * (t * 0.5).sin(), 0.0, 0.0),
        };
        accel.push(Vec3Sample {
            t,
            v: to_device([long + bump, lat, G + bump]),
        });
        gyro.push(Vec3Sample {
            t,
            v: to_device([0.01, -0.01, yaw]),
        });
    }
    Trace {
        accel,
        gyro,
        ..Trace::default()
    }
}

/// CPU time this thread has run, from Linux's `/proc/thread-self/schedstat` (ns): on a
/// shared machine it measures the work itself, where wall time also counts waiting.
fn thread_cpu() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

fn median_ms(mut times: Vec<Duration>) -> f64 {
    times.sort();
    times
        .get(times.len() / 2)
        .map_or(f64::NAN, |d| d.as_secs_f64() * 1e3)
}

/// Runs the detector on `trace` [`RUNS`] times and prints the medians.
fn measure(what: &str, trace: &Trace) {
    let thresholds = Thresholds::default();
    let mut wall: Vec<Duration> = Vec::with_capacity(RUNS);
    let mut cpu: Vec<Duration> = Vec::with_capacity(RUNS);
    let mut events = 0;
    for _ in 0..RUNS {
        let (start, cpu_start) = (Instant::now(), thread_cpu());
        let detection = detect(trace, &thresholds).expect("synthetic hour is valid");
        wall.push(start.elapsed());
        if let (Some(a), Some(b)) = (cpu_start, thread_cpu()) {
            cpu.push(b.saturating_sub(a));
        }
        events = detection.events.len();
    }
    println!(
        "detect: 1 h of 100 Hz {what} ({} samples), {events} events, over {RUNS} runs: \
         median {:.1} ms wall, {:.1} ms CPU on one core",
        trace.accel.len(),
        median_ms(wall),
        median_ms(cpu)
    );
}

fn main() {
    let mut trace = hour();
    measure("IMU", &trace);
    // A BlackVue-like camera: the accelerometer alone (the forward axis from the road
    // noise, brakes and launches from the frame-free force).
    trace.gyro.clear();
    measure("accelerometer only", &trace);
}
