//! Which kind a horizontal acceleration makes: its direction against the car's axes.

use dashvault_detect::eval::Mount;
use dashvault_detect::{detect, IncidentKind, Thresholds, Trace, G};
use dashvault_media::telemetry::Vec3Sample;

const HZ: f64 = 50.0;

/// Car-frame acceleration (forward, left, m/s²) and yaw rate (rad/s) of a minute of
/// driving, repeated: a straight launch at 0.2 g, a left turn pulling 0.35 g while
/// speeding up at 0.2 g, a brake, a right turn and a hard brake.
fn minute(t: f64) -> (f64, f64, f64) {
    match t % 60.0 {
        p if p < 4.0 => (0.2 * G, 0.0, 0.0),
        p if (12.0..16.0).contains(&p) => (0.2 * G, 0.35 * G, 0.35),
        p if (24.0..28.0).contains(&p) => (-1.5, 0.0, 0.0),
        p if (34.0..38.0).contains(&p) => (0.0, -0.35 * G, -0.35),
        p if (46.0..48.0).contains(&p) => (-0.45 * G, 0.0, 0.0),
        _ => (0.0, 0.0, 0.0),
    }
}

fn drive(minutes: f64, mount: Mount) -> Trace {
    let mut trace = Trace::default();
    for i in 0..(minutes * 60.0 * HZ) as usize {
        let t = i as f64 / HZ;
        let (long, lat, yaw) = minute(t);
        let shake = 0.2 * (t * 61.0).sin();
        trace.accel.push(Vec3Sample {
            t,
            v: mount.to_device([long + shake, lat, G + shake]),
        });
        trace.gyro.push(Vec3Sample {
            t,
            v: mount.to_device([0.0, 0.0, yaw]),
        });
    }
    trace
}

#[test]
fn speeding_up_through_a_turn_is_a_turn_not_a_launch() {
    for seed in 0..5 {
        let events = detect(&drive(4.0, Mount::random(seed)), &Thresholds::default())
            .expect("detects")
            .events;
        let of = |kind: IncidentKind, from: f64, to: f64| {
            events
                .iter()
                .filter(|e| e.kind == kind && e.start % 60.0 >= from && e.start % 60.0 < to)
                .count()
        };
        assert_eq!(
            of(IncidentKind::HardAccel, 0.0, 5.0),
            4,
            "each launch, seed {seed}"
        );
        assert_eq!(
            of(IncidentKind::HardAccel, 5.0, 60.0),
            0,
            "no launch outside them, seed {seed}: {events:?}"
        );
        assert_eq!(
            of(IncidentKind::SharpTurn, 11.0, 17.0),
            4,
            "each left turn, seed {seed}"
        );
    }
}
