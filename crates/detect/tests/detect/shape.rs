//! Manoeuvres told by their shape: the return to speed after a brake is no launch, a
//! lateral pull without turning (a holder swinging) is no turn, speed must change the right way, and without
//! a gyroscope a swerve is a swerve only when the speed tells it from a turn.

use dashvault_detect::eval::Mount;
use dashvault_detect::{detect, Event, IncidentKind, SpeedSample, Thresholds, Trace, G};
use dashvault_media::telemetry::Vec3Sample;

const HZ: f64 = 50.0;

/// Car-frame acceleration (forward, left, m/s²) and yaw rate (rad/s) of each minute:
/// - 0–2 s a 0.45 g brake, then from 3.5 s the driver back on the throttle at 0.2 g;
/// - 20–24 s a left turn pulling 0.35 g;
/// - 30–33 s a 0.2 g launch from steady driving;
/// - 42–45 s 0.35 g to the side with no turning (a holder swinging);
/// - 50–51.5 s and 51.5–53 s a swerve, 0.4 g left then right.
fn minute(t: f64) -> (f64, f64, f64) {
    match t % 60.0 {
        p if p < 2.0 => (-0.45 * G, 0.0, 0.0),
        p if (3.5..6.0).contains(&p) => (0.2 * G, 0.0, 0.0),
        p if (20.0..24.0).contains(&p) => (0.0, 0.35 * G, 0.35),
        p if (30.0..33.0).contains(&p) => (0.2 * G, 0.0, 0.0),
        p if (42.0..45.0).contains(&p) => (0.0, 0.35 * G, 0.0),
        p if (50.0..51.5).contains(&p) => (0.0, 0.4 * G, 0.3),
        p if (51.5..53.0).contains(&p) => (0.0, -0.4 * G, -0.3),
        _ => (0.0, 0.0, 0.0),
    }
}

/// Four minutes of that through `mount`, with or without gyroscope, and with a GPS speed
/// from `speed` (at 1 Hz) when given.
fn drive(mount: Mount, gyro: bool, speed: Option<fn(f64) -> f64>) -> Trace {
    let mut trace = Trace::default();
    for i in 0..(4.0 * 60.0 * HZ) as usize {
        let t = i as f64 / HZ;
        let (long, lat, yaw) = minute(t);
        let shake = 0.2 * (t * 61.0).sin();
        trace.accel.push(Vec3Sample {
            t,
            v: mount.to_device([long + shake, lat, G + shake]),
        });
        if gyro {
            trace.gyro.push(Vec3Sample {
                t,
                v: mount.to_device([0.0, 0.0, yaw]),
            });
        }
        if let Some(speed) = speed.filter(|_| i % HZ as usize == 0) {
            trace.speed.push(SpeedSample { t, speed: speed(t) });
        }
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

fn events(trace: &Trace) -> Vec<Event> {
    detect(trace, &Thresholds::default())
        .expect("detects")
        .events
}

/// Asserts that each of the four minutes has one `kind` starting within `[from, to)` s
/// (none when `kind` is `None`).
fn each_minute(found: &[Event], from: f64, to: f64, kind: Option<IncidentKind>, why: &str) {
    let want: Vec<IncidentKind> = kind.map_or_else(Vec::new, |k| vec![k; 4]);
    assert_eq!(kinds(found, from, to), want, "{why}: {found:?}");
}

#[test]
fn back_to_speed_is_no_launch_and_a_pull_without_turning_no_turn() {
    for seed in 0..4 {
        let found = events(&drive(Mount::random(seed), true, None));
        each_minute(&found, 0.0, 3.0, Some(IncidentKind::HardBrake), "the brake");
        each_minute(&found, 3.0, 10.0, None, "back to speed after it");
        each_minute(
            &found,
            29.0,
            34.0,
            Some(IncidentKind::HardAccel),
            "from steady",
        );
        each_minute(&found, 19.0, 25.0, Some(IncidentKind::SharpTurn), "a turn");
        each_minute(&found, 41.0, 46.0, None, "a pull without turning");
        each_minute(&found, 49.0, 54.0, Some(IncidentKind::Swerve), "a swerve");
    }
}

/// Speed that a GPS would report for [`minute`]'s driving: 15 m/s, less 9 m/s over the
/// brake, back up over the return to speed, up by 6 m/s over the launch and down again
/// gently before the next minute.
fn true_speed(t: f64) -> f64 {
    match t % 60.0 {
        p if p < 2.0 => 15.0 - 4.4 * p,
        p if p < 3.5 => 6.2,
        p if p < 6.0 => 6.2 + 2.0 * (p - 3.5),
        p if p < 30.0 => 11.2,
        p if p < 33.0 => 11.2 + 2.0 * (p - 30.0),
        p => 17.2 - 2.2 * (p - 33.0) / 27.0,
    }
}

#[test]
fn with_speed_a_launch_must_gain_speed() {
    let mount = Mount::random(3);
    let found = events(&drive(mount, true, Some(true_speed)));
    each_minute(
        &found,
        29.0,
        34.0,
        Some(IncidentKind::HardAccel),
        "gains speed",
    );
    // The same pulls while the GPS says the speed held: a mount rocking, not the car.
    let found = events(&drive(mount, true, Some(|_| 15.0)));
    each_minute(&found, 29.0, 34.0, None, "no speed gained, no launch");
    each_minute(&found, 0.0, 3.0, None, "no speed lost, no brake");
}

#[test]
fn without_a_gyroscope_a_swerve_needs_the_speed_to_be_told_from_a_turn() {
    let mount = Mount::random(5);
    let blind = events(&drive(mount, false, None));
    each_minute(
        &blind,
        49.0,
        54.0,
        Some(IncidentKind::SharpTurn),
        "the broader name",
    );
    assert!(
        blind.iter().all(|e| e.kind != IncidentKind::Swerve),
        "never a guessed swerve: {blind:?}"
    );
    let with_speed = events(&drive(mount, false, Some(true_speed)));
    each_minute(
        &with_speed,
        49.0,
        54.0,
        Some(IncidentKind::Swerve),
        "a = v·ω",
    );
}

/// A quick lane change: 0.45 g one way for 0.4 s and then the other for 0.4 s at
/// `at` s, the car steering each way (yaw ±`yaw` rad/s), in four minutes of otherwise
/// steady driving through `mount`.
fn quick_lane_changes(mount: Mount, yaw: f64) -> Trace {
    let mut trace = Trace::default();
    for i in 0..(4.0 * 60.0 * HZ) as usize {
        let t = i as f64 / HZ;
        let (long, lat, w) = match t % 60.0 {
            p if (30.0..33.0).contains(&p) => (0.2 * G, 0.0, 0.0),
            p if (40.0..40.4).contains(&p) => (0.0, 0.45 * G, yaw),
            p if (40.4..40.8).contains(&p) => (0.0, -0.45 * G, -yaw),
            p if (50.0..54.0).contains(&p) => (0.0, 0.35 * G, 0.35),
            _ => (0.0, 0.0, 0.0),
        };
        let shake = 0.2 * (t * 61.0).sin();
        trace.accel.push(Vec3Sample {
            t,
            v: mount.to_device([long + shake, lat, G + shake]),
        });
        trace.gyro.push(Vec3Sample {
            t,
            v: mount.to_device([0.0, 0.0, w]),
        });
    }
    trace
}

#[test]
fn a_quick_swerve_is_sustained_as_a_whole_and_needs_the_car_to_steer() {
    for seed in 0..4 {
        let mount = Mount::random(seed);
        let found = events(&quick_lane_changes(mount, 0.3));
        each_minute(&found, 39.0, 42.0, Some(IncidentKind::Swerve), "a quick S");
        each_minute(&found, 49.0, 55.0, Some(IncidentKind::SharpTurn), "a turn");
        // The same S with no steering: a holder swinging, not the car.
        let found = events(&quick_lane_changes(mount, 0.0));
        each_minute(&found, 39.0, 42.0, None, "no yaw, no swerve");
    }
}
