//! A frame that leans into each force (a windshield mount pitching, a phone's gravity
//! estimate lagging behind its accelerometer) hides most of a sustained manoeuvre from
//! the projections; with a gyroscope the frame-free force still finds it, and a dip in
//! the road, whose force is all vertical, is still no manoeuvre.

use dashvault_detect::eval::Mount;
use dashvault_detect::{detect, Event, IncidentKind, Thresholds, Trace, G};
use dashvault_media::telemetry::Vec3Sample;

const HZ: f64 = 50.0;
/// How fast the leaning frame follows the force, s (the real phone's follows in about a
/// second).
const LAG_S: f64 = 0.7;

/// Car-frame specific force (forward, left, up; m/s²) and yaw rate (rad/s) of each
/// minute: a 0.4 g brake at 0–2.5 s, a 0.35 g left turn at 20–24 s, a 0.3 g launch from
/// steady driving at 35–38 s, and a dip in the road (0.15 g up, nothing horizontal) at
/// 50–51.5 s.
fn minute(t: f64) -> ([f64; 3], f64) {
    match t % 60.0 {
        p if p < 2.5 => ([-0.4 * G, 0.0, G], 0.0),
        p if (20.0..24.0).contains(&p) => ([0.0, 0.35 * G, G], 0.6),
        p if (35.0..38.0).contains(&p) => ([0.3 * G, 0.0, G], 0.0),
        p if (50.0..51.5).contains(&p) => ([0.0, 0.0, 1.15 * G], 0.0),
        _ => ([0.0, 0.0, G], 0.0),
    }
}

/// `v` rotated by the smallest rotation that takes the unit vector `from` to up.
fn level(from: [f64; 3], v: [f64; 3]) -> [f64; 3] {
    // Rodrigues about from × z by the angle between them.
    let [x, y, z] = from;
    let (axis, sin, cos) = ([y, -x, 0.0], (x * x + y * y).sqrt(), z);
    if sin < 1e-12 {
        return v;
    }
    let k = axis.map(|a| a / sin);
    let dot = k[0] * v[0] + k[1] * v[1] + k[2] * v[2];
    let cross = [
        k[1] * v[2] - k[2] * v[1],
        k[2] * v[0] - k[0] * v[2],
        k[0] * v[1] - k[1] * v[0],
    ];
    [0, 1, 2].map(|i| v[i] * cos + cross[i] * sin + k[i] * dot * (1.0 - cos))
}

/// Four minutes of that, recorded in a frame whose up follows the specific force's
/// direction with a lag of [`LAG_S`], then mounted at `mount`.
fn leaning_drive(mount: Mount) -> Trace {
    let mut trace = Trace::default();
    let mut followed = [0.0, 0.0, G];
    let alpha = 1.0 / (LAG_S * HZ);
    for i in 0..(4.0 * 60.0 * HZ) as usize {
        let t = i as f64 / HZ;
        let (force, yaw) = minute(t);
        for (f, a) in followed.iter_mut().zip(force) {
            *f += alpha * (a - *f);
        }
        let norm = followed.iter().map(|f| f * f).sum::<f64>().sqrt();
        let up = followed.map(|f| f / norm);
        let shake = 0.2 * (t * 61.0).sin();
        let [x, y, z] = level(up, force);
        trace.accel.push(Vec3Sample {
            t,
            v: mount.to_device([x + shake, y, z + shake]),
        });
        trace.gyro.push(Vec3Sample {
            t,
            v: mount.to_device(level(up, [0.0, 0.0, yaw])),
        });
    }
    trace
}

/// Kinds of the events starting within `[from, to)` s of each minute.
fn kinds(events: &[Event], from: f64, to: f64) -> Vec<IncidentKind> {
    events
        .iter()
        .filter(|e| (from..to).contains(&(e.start % 60.0)))
        .map(|e| e.kind)
        .collect()
}

#[test]
fn a_leaning_frame_hides_no_manoeuvre_and_a_dip_is_none() {
    for seed in 0..4 {
        let found = detect(&leaning_drive(Mount::random(seed)), &Thresholds::default())
            .expect("detects")
            .events;
        let each = |kind| vec![kind; 4];
        assert_eq!(
            kinds(&found, 0.0, 3.0),
            each(IncidentKind::HardBrake),
            "{found:?}"
        );
        assert_eq!(
            kinds(&found, 19.0, 25.0),
            each(IncidentKind::SharpTurn),
            "{found:?}"
        );
        assert_eq!(
            kinds(&found, 34.0, 39.0),
            each(IncidentKind::HardAccel),
            "{found:?}"
        );
        assert_eq!(
            kinds(&found, 3.0, 19.0),
            vec![],
            "the brake given back: {found:?}"
        );
        assert_eq!(kinds(&found, 39.0, 60.0), vec![], "the dip: {found:?}");
        assert_eq!(found.len(), 12, "{found:?}");
    }
}
