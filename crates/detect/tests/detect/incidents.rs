//! Collisions and sudden stops, which the real data lacks, built on real driving.

use dashvault_detect::eval::{Conversion, LabelledTrip, Manoeuvre, Mount};
use dashvault_detect::{detect, ForwardSource, IncidentKind, SpeedSample, Thresholds, Trace, G};
use dashvault_media::telemetry::Vec3Sample;

/// Adds `g` g along the device-frame `direction` to every accelerometer sample in
/// `[at, at + width)`.
fn add_impulse(trace: &mut Trace, at: f64, width: f64, g: f64, direction: [f64; 3]) {
    let n = direction.iter().map(|x| x * x).sum::<f64>().sqrt();
    for s in trace
        .accel
        .iter_mut()
        .filter(|s| s.t >= at && s.t < at + width)
    {
        for (v, d) in s.v.iter_mut().zip(direction) {
            *v += g * G * d / n;
        }
    }
}

fn collisions_near(trace: &Trace, at: f64) -> Vec<f64> {
    detect(trace, &Thresholds::default())
        .expect("detects")
        .events
        .iter()
        .filter(|e| e.kind == IncidentKind::Collision && e.start <= at + 0.5 && e.end >= at - 0.5)
        .map(|e| e.peak_g)
        .collect()
}

#[test]
fn impulse_in_real_calm_driving_is_a_collision() {
    let Some(trip) = crate::calm_trip() else {
        return;
    };
    for seed in 0..5 {
        let mut trace = trip.device_trace(&Mount::random(seed), Conversion::Corrected);
        let before = detect(&trace, &Thresholds::default()).expect("detects");
        assert!(
            before
                .events
                .iter()
                .all(|e| e.kind != IncidentKind::Collision),
            "real driving alone gave a collision: {:?}",
            before.events
        );
        // A 3 g, 100 ms knock from the side and a little below, during ordinary driving.
        add_impulse(&mut trace, 300.0, 0.1, 3.0, [0.3, 1.0, -0.2]);
        let found = collisions_near(&trace, 300.0);
        assert_eq!(found.len(), 1, "seed {seed}: {found:?}");
        assert!(found[0] > 2.0, "peak {} g", found[0]);
        let detection = detect(&trace, &Thresholds::default()).expect("detects");
        let clip = detection
            .clips
            .iter()
            .find(|c| c.start <= 300.0 && c.end >= 300.1)
            .expect("a clip covers the collision");
        assert!((clip.start - (300.0 - 25.0)).abs() < 0.5 || clip.incidents.len() > 1);
    }
}

/// Five minutes of a car standing still: gravity on a tilted device axis and nothing else.
fn standing(parked: Vec<[f64; 2]>) -> Trace {
    let up = [0.2, -0.5, 0.84];
    let norm = up.iter().map(|x| x * x).sum::<f64>().sqrt();
    let accel: Vec<Vec3Sample> = (0..15_000)
        .map(|i| Vec3Sample {
            t: f64::from(i) / 50.0,
            v: up.map(|u| u / norm * G),
        })
        .collect();
    Trace {
        accel,
        parked,
        ..Trace::default()
    }
}

#[test]
fn small_bump_counts_only_when_parked() {
    // Still for four minutes: parked by the accelerometer alone.
    let mut trace = standing(Vec::new());
    add_impulse(&mut trace, 240.0, 0.1, 0.8, [1.0, 0.0, 0.0]);
    assert_eq!(
        collisions_near(&trace, 240.0).len(),
        1,
        "0.8 g bump after four still minutes"
    );
    // Still for one minute is a traffic light, not parked.
    add_impulse(&mut trace, 60.0, 0.1, 0.8, [1.0, 0.0, 0.0]);
    assert!(
        collisions_near(&trace, 60.0).is_empty(),
        "standing at a light is still driving"
    );
    // Unless the camera says it is in its parking mode.
    let mut parking = standing(vec![[0.0, 300.0]]);
    add_impulse(&mut parking, 60.0, 0.1, 0.8, [1.0, 0.0, 0.0]);
    assert_eq!(collisions_near(&parking, 60.0).len(), 1, "in parking mode");
    let mut small = standing(vec![[0.0, 300.0]]);
    add_impulse(&mut small, 45.0, 0.1, 0.3, [0.0, 1.0, 0.0]);
    assert!(
        collisions_near(&small, 45.0).is_empty(),
        "0.3 g is below the parked level"
    );
    // The same 0.8 g while driving (real trip, ordinary driving) is no collision.
    let Some(trip) = crate::calm_trip() else {
        return;
    };
    let mut driving = trip.device_trace(&Mount::random(11), Conversion::Corrected);
    add_impulse(&mut driving, 300.0, 0.1, 0.8, [1.0, 0.0, 0.0]);
    assert!(collisions_near(&driving, 300.0).is_empty());
}

#[test]
fn a_short_crash_pulse_is_a_collision_and_a_pothole_is_not() {
    let Some(trip) = crate::calm_trip() else {
        return;
    };
    for seed in 0..5 {
        let trace = trip.device_trace(&Mount::random(seed), Conversion::Plain);
        // 4 g for 20 ms from the front: a velocity change of 0.8 m/s.
        let mut crash = trace.clone();
        add_impulse(&mut crash, 200.0, 0.02, 4.0, [1.0, 0.2, 0.0]);
        assert_eq!(collisions_near(&crash, 200.0).len(), 1, "seed {seed}");
        // A pothole: 3 g down then 3 g up, 40 ms each, with no velocity change.
        let mut pothole = trace.clone();
        add_impulse(&mut pothole, 200.0, 0.04, 3.0, [0.1, 0.0, -1.0]);
        add_impulse(&mut pothole, 200.04, 0.04, 3.0, [-0.1, 0.0, 1.0]);
        assert!(collisions_near(&pothole, 200.0).is_empty(), "seed {seed}");
        // The holder knocked (2 g one way then the other, 20 ms each) as a 0.6 g pull
        // sets in: the pull's onset is a manoeuvre, not part of the knock.
        let mut knock = trace.clone();
        add_impulse(&mut knock, 300.0, 3.0, 0.6, [0.0, 1.0, 0.0]);
        add_impulse(&mut knock, 300.0, 0.02, 2.0, [1.0, 0.0, 0.3]);
        add_impulse(&mut knock, 300.02, 0.02, 2.0, [-1.0, 0.0, -0.3]);
        assert!(collisions_near(&knock, 300.0).is_empty(), "seed {seed}");
    }
}

/// Trip 17 with a speed column: 10 m/s before its first labelled brake, falling to zero
/// over the brake and standing still for five seconds after.
fn trip_with_stop() -> Option<(LabelledTrip, f64, f64)> {
    let dirs = crate::dataset_trips()?;
    let trip = LabelledTrip::load(&dirs[0]).expect("trip 17 loads");
    let brake = trip
        .labels
        .iter()
        .find(|l| l.manoeuvre == Manoeuvre::Brake)
        .copied()
        .expect("trip 17 has brakes");
    Some((trip, brake.start, brake.end))
}

#[test]
fn brake_to_standstill_is_a_sudden_stop() {
    let Some((trip, start, end)) = trip_with_stop() else {
        return;
    };
    let mut trace = trip.device_trace(&Mount::random(5), Conversion::Corrected);
    let stop = start + 1.5;
    trace.speed = (0..20)
        .map(|k| {
            let t = start - 10.0 + f64::from(k);
            let speed = if t <= start {
                10.0
            } else {
                (10.0 * (stop - t) / (stop - start)).max(0.0)
            };
            SpeedSample { t, speed }
        })
        .collect();
    let detection = detect(&trace, &Thresholds::default()).expect("detects");
    let at_stop: Vec<IncidentKind> = detection
        .events
        .iter()
        .filter(|e| e.start <= end + 1.0 && e.end >= start - 1.0)
        .map(|e| e.kind)
        .collect();
    assert!(at_stop.contains(&IncidentKind::SuddenStop), "{at_stop:?}");
    assert!(!at_stop.contains(&IncidentKind::HardBrake), "{at_stop:?}");
    let later_brakes = detection
        .events
        .iter()
        .filter(|e| e.kind == IncidentKind::HardBrake && e.start > end + 5.0)
        .count();
    assert!(
        later_brakes >= 4,
        "the other brakes stay hard brakes: {later_brakes}"
    );
}

#[test]
fn accelerometer_only_still_orients_and_finds_brakes() {
    let Some((trip, _, _)) = trip_with_stop() else {
        return;
    };
    let mount = Mount::random(9);
    let mut trace = trip.device_trace(&mount, Conversion::Corrected);
    trace.gyro.clear();
    let detection = detect(&trace, &Thresholds::default()).expect("detects");
    let orientation = detection.orientation.expect("the road noise gives an axis");
    assert_eq!(orientation.source, ForwardSource::RoadNoise);
    let truth = mount.to_device([1.0, 0.0, 0.0]);
    let cos: f64 = truth
        .iter()
        .zip(orientation.forward)
        .map(|(a, b)| a * b)
        .sum();
    assert!(cos > 0.7, "forward off by {:.0}°", cos.acos().to_degrees());
    let brakes = detection
        .events
        .iter()
        .filter(|e| e.kind == IncidentKind::HardBrake)
        .count();
    assert!(brakes >= 5, "{:?}", detection.events);
}
