//! The forward axis found from gyroscope or speed alone, and followed after a re-mount.

use dashvault_detect::eval::Mount;
use dashvault_detect::{detect, ForwardSource, IncidentKind, SpeedSample, Thresholds, Trace, G};
use dashvault_media::telemetry::Vec3Sample;

const HZ: f64 = 50.0;

/// Car-frame acceleration (forward, left, m/s²) and yaw rate (rad/s) of a minute of
/// city driving, repeated: a launch, a left turn, a brake, a right turn, a hard brake.
fn manoeuvre(t: f64) -> (f64, f64, f64) {
    match t % 60.0 {
        p if p < 6.0 => (1.5, 0.0, 0.0),
        p if (12.0..16.0).contains(&p) => (0.0, 2.5, 0.35),
        p if (24.0..28.0).contains(&p) => (-1.5, 0.0, 0.0),
        p if (34.0..38.0).contains(&p) => (0.0, -2.5, -0.35),
        p if (46.0..48.0).contains(&p) => (-4.5, 0.0, 0.0),
        _ => (0.0, 0.0, 0.0),
    }
}

/// `minutes` of that driving seen through `mount`, turned round (half a turn about the
/// vertical) from `turned_at` s on, with or without gyroscope and speed.
fn drive(minutes: f64, mount: Mount, turned_at: f64, gyro: bool, speed: bool) -> Trace {
    let mut trace = Trace::default();
    let mut v = 5.0;
    for i in 0..(minutes * 60.0 * HZ) as usize {
        let t = i as f64 / HZ;
        let (long, lat, yaw) = manoeuvre(t);
        let shake = 0.2 * (t * 61.0).sin();
        let sign = if t < turned_at { 1.0 } else { -1.0 };
        trace.accel.push(Vec3Sample {
            t,
            v: mount.to_device([sign * (long + shake), sign * lat, G + shake]),
        });
        if gyro {
            trace.gyro.push(Vec3Sample {
                t,
                v: mount.to_device([0.0, 0.0, yaw]),
            });
        }
        v = (v + long / HZ).max(0.0);
        if speed && i % (HZ as usize) == 0 {
            trace.speed.push(SpeedSample { t, speed: v });
        }
    }
    trace
}

fn forward_error_deg(trace: &Trace, mount: Mount) -> (f64, ForwardSource) {
    let d = detect(trace, &Thresholds::default()).expect("detects");
    let o = d.orientation.expect("an orientation");
    let truth = mount.to_device([1.0, 0.0, 0.0]);
    let cos: f64 = truth.iter().zip(o.forward).map(|(a, b)| a * b).sum();
    (cos.clamp(-1.0, 1.0).acos().to_degrees(), o.source)
}

#[test]
fn gyroscope_alone_finds_forward() {
    for seed in 0..5 {
        let mount = Mount::random(seed);
        let trace = drive(10.0, mount, f64::INFINITY, true, false);
        let (error, source) = forward_error_deg(&trace, mount);
        assert_eq!(source, ForwardSource::Gyro);
        assert!(error < 5.0, "seed {seed}: {error:.1}°");
    }
}

#[test]
fn speed_alone_finds_forward() {
    for seed in 10..15 {
        let mount = Mount::random(seed);
        let trace = drive(10.0, mount, f64::INFINITY, false, true);
        let (error, source) = forward_error_deg(&trace, mount);
        assert_eq!(source, ForwardSource::Speed);
        assert!(error < 5.0, "seed {seed}: {error:.1}°");
    }
}

#[test]
fn a_remounted_camera_is_followed() {
    let trace = drive(40.0, Mount::random(21), 20.0 * 60.0, true, false);
    let detection = detect(&trace, &Thresholds::default()).expect("detects");
    // The hard brake at 46 s of every minute, well clear of the re-mount (within one
    // orientation window of it the two mounts' evidence mixes).
    let minutes_found = |range: std::ops::Range<u32>| {
        range
            .filter(|m| {
                let at = f64::from(*m) * 60.0 + 46.0;
                detection
                    .events
                    .iter()
                    .any(|e| e.kind == IncidentKind::HardBrake && (e.start - at).abs() < 1.0)
            })
            .count()
    };
    assert_eq!(minutes_found(0..14), 14);
    assert_eq!(minutes_found(26..40), 14);
    let settled = |t: f64| !(14.0 * 60.0..26.0 * 60.0).contains(&t);
    let misread: Vec<_> = detection
        .events
        .iter()
        .filter(|e| settled(e.start) && e.kind == IncidentKind::HardAccel && e.start % 60.0 > 8.0)
        .collect();
    assert!(misread.is_empty(), "brakes read as launches: {misread:?}");
}

/// The city minute of [`manoeuvre`] with no gyroscope and no speed, on a road whose shake
/// grows with the speed (as tyre and body noise do): the forward axis is where the
/// horizontal acceleration goes with the noise's rise and fall.
#[test]
fn road_noise_alone_finds_forward() {
    for seed in 20..25 {
        let mount = Mount::random(seed);
        let mut trace = Trace::default();
        let mut v = 5.0;
        for i in 0..(10.0 * 60.0 * HZ) as usize {
            let t = i as f64 / HZ;
            let (long, lat, _) = manoeuvre(t);
            let shake = 0.02 * (1.0 + v) * (t * 61.0).sin();
            trace.accel.push(Vec3Sample {
                t,
                v: mount.to_device([long + shake, lat, G + shake]),
            });
            v = (v + long / HZ).max(0.0);
        }
        let (error, source) = forward_error_deg(&trace, mount);
        assert_eq!(source, ForwardSource::RoadNoise);
        assert!(error < 10.0, "seed {seed}: {error:.1}°");
    }
}

/// The same with a BlackVue `.3gf`'s accelerometer: 10 Hz, 1/128 g a count, and a
/// broadband shake (a sinusoid would alias into a slow wave at 10 Hz).
#[test]
fn road_noise_alone_finds_forward_at_ten_hertz_in_counts() {
    let count = G / 128.0;
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    };
    for seed in 30..33 {
        let mount = Mount::random(seed);
        let mut trace = Trace::default();
        let mut v = 5.0;
        for i in 0..(10.0 * 60.0 * HZ) as usize {
            let t = i as f64 / HZ;
            let (long, lat, _) = manoeuvre(t);
            v = (v + long / HZ).max(0.0);
            if i % 5 != 0 {
                continue;
            }
            let scale = 0.04 * (1.0 + v);
            let a = mount.to_device([
                long + scale * uniform(),
                lat + scale * uniform(),
                G + scale * uniform(),
            ]);
            trace.accel.push(Vec3Sample {
                t,
                v: a.map(|x| (x / count).round() * count),
            });
        }
        let (error, source) = forward_error_deg(&trace, mount);
        assert_eq!(source, ForwardSource::RoadNoise);
        assert!(error < 10.0, "seed {seed}: {error:.1}°");
        let kinds: Vec<IncidentKind> = detect(&trace, &Thresholds::default())
            .expect("detects")
            .events
            .iter()
            .map(|e| e.kind)
            .collect();
        let brakes = kinds
            .iter()
            .filter(|&&k| k == IncidentKind::HardBrake)
            .count();
        assert_eq!(brakes, 10, "one hard brake a minute: {kinds:?}");
    }
}
