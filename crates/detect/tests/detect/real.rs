//! The targets on real labelled drives: leave-one-trip-out, both conversions, random
//! mounts. The floors are the levels measured when they were set (see each message).

use dashvault_detect::eval::{
    leave_one_trip_out, load_trips, total, Conversion, EvalOptions, EvalReport, Fold, Mount,
};
use dashvault_detect::manoeuvre::MAX_AXIS_ERROR_DEG;
use dashvault_detect::{detect, ForwardSource, IncidentKind, Thresholds};

const ROTATIONS: usize = 20;

/// Held-out folds of trips 17 and 20 with the default levels; `None` without the data.
fn folds(accel_only: bool) -> Option<Vec<Fold>> {
    folds_with(EvalOptions {
        rotations: ROTATIONS,
        accel_only,
        ..EvalOptions::default()
    })
}

fn folds_with(options: EvalOptions) -> Option<Vec<Fold>> {
    let trips = load_trips(&crate::dataset_trips()?).expect("trips load");
    let folds = leave_one_trip_out(&trips, |_others| Thresholds::default(), &options)
        .expect("evaluation runs");
    Some(folds)
}

fn check(report: &EvalReport, kind: IncidentKind, min_recall: f64, min_precision: f64) {
    let c = report.class(kind).expect("every kind is scored");
    let recall = c.recall().expect("labels of this kind exist");
    let precision = c.precision().unwrap_or(0.0);
    assert!(
        recall >= min_recall && precision >= min_precision,
        "{kind}: recall {recall:.3} (want ≥ {min_recall}), precision {precision:.3} \
         (want ≥ {min_precision})\n{report}"
    );
}

#[test]
fn held_out_trips_meet_targets_when_tilt_corrected() {
    let Some(folds) = folds(false) else {
        return;
    };
    assert_eq!(
        folds.len(),
        4,
        "two trips held out in turn, two conversions"
    );
    let report = total(&folds, Conversion::Corrected);
    println!("{report}");
    assert_eq!(report.runs, 2 * ROTATIONS);
    for kind in [
        IncidentKind::HardBrake,
        IncidentKind::HardAccel,
        IncidentKind::SharpTurn,
        IncidentKind::Swerve,
    ] {
        check(&report, kind, 0.95, 0.95);
    }
    assert_eq!(report.calm_flagged, 0, "{report}");
    assert_eq!(
        report.collisions(),
        0,
        "no real trip has a collision\n{report}"
    );
    // Every detection between labels is listed, once per manoeuvre, for looking it up.
    let unlabelled: usize = report.classes.iter().map(|c| c.unlabelled).sum();
    let listed: usize = report.between_labels.iter().map(|b| b.mounts).sum();
    assert_eq!(listed, unlabelled, "{report}");
    assert!(
        report
            .between_labels
            .iter()
            .all(|b| b.mounts <= ROTATIONS && b.start <= b.end),
        "{:?}",
        report.between_labels
    );
}

#[test]
fn held_out_trips_on_the_plain_conversion() {
    let Some(folds) = folds(false) else {
        return;
    };
    let report = total(&folds, Conversion::Plain);
    println!("{report}");
    // Measured when set: every class 1.0 / 1.0 (before the frame-free force and the yaw
    // rate set the levels: brakes 0.833, launches 0, turns 0.833; before a quick S was
    // judged as a whole, swerves 0.5: one lane change's halves each beyond 0.30 g for
    // under 0.5 s).
    check(&report, IncidentKind::HardBrake, 0.95, 0.95);
    check(&report, IncidentKind::HardAccel, 0.95, 0.95);
    check(&report, IncidentKind::SharpTurn, 0.95, 0.95);
    check(&report, IncidentKind::Swerve, 0.95, 0.95);
    assert_eq!(report.calm_flagged, 0, "{report}");
    assert_eq!(
        report.collisions(),
        0,
        "no real trip has a collision\n{report}"
    );
}

#[test]
fn accelerometer_only_flags_no_more_calm_manoeuvres() {
    let (Some(with), Some(without)) = (folds(false), folds(true)) else {
        return;
    };
    for conversion in Conversion::BOTH {
        let (with, without) = (total(&with, conversion), total(&without, conversion));
        println!("{}, accelerometer only:\n{without}", conversion.name());
        assert!(
            without.calm_flagged <= with.calm_flagged,
            "{} calm flagged without a gyroscope, {} with\n{without}",
            without.calm_flagged,
            with.calm_flagged
        );
        assert_eq!(without.collisions(), 0, "{without}");
        let unlabelled = |r: &EvalReport| r.classes.iter().map(|c| c.unlabelled).sum::<usize>();
        assert!(
            unlabelled(&without) <= unlabelled(&with),
            "more detections between labels without a gyroscope ({}) than with ({})\n{without}",
            unlabelled(&without),
            unlabelled(&with)
        );
        // No brake read as a turn or a launch, no lane change or turn as a launch.
        for kind in [IncidentKind::HardBrake, IncidentKind::HardAccel] {
            let c = without.class(kind).expect("scored");
            assert_eq!(
                c.detections, c.correct,
                "{kind} near other labels\n{without}"
            );
        }
        // The sharp turns near other labels are the lane changes under the broader name.
        let turns = without.class(IncidentKind::SharpTurn).expect("scored");
        assert!(
            turns.detections - turns.correct <= without.swerves_as_turns,
            "{without}"
        );
        // Without a gyroscope a swerve is reported as a sharp turn, never as a swerve.
        let swerves = without.class(IncidentKind::Swerve).expect("scored");
        assert_eq!(swerves.detections + swerves.unlabelled, 0, "{without}");
    }
}

/// A BlackVue `.3gf` records the accelerometer alone, 10 times a second: the detector
/// sees a fifth of the samples and none of the road's fast shake, and must still raise
/// no false alarm (measured when set: no calm manoeuvre, collision, or brake or launch
/// near another label, on either conversion). Recall is lower on the plain trips:
/// tilt-corrected every brake, launch and turn is found; plain, brakes 0.833, turns
/// 0.833 and no launch (the leaning frame hides them and, without a gyroscope, nothing
/// says which way the frame-free force points).
#[test]
fn a_ten_hertz_accelerometer_raises_no_false_alarms() {
    let Some(folds) = folds_with(EvalOptions {
        rotations: ROTATIONS,
        accel_only: true,
        rate_hz: Some(10.0),
        ..EvalOptions::default()
    }) else {
        return;
    };
    for conversion in Conversion::BOTH {
        let report = total(&folds, conversion);
        println!(
            "{}, accelerometer only at 10 Hz:\n{report}",
            conversion.name()
        );
        assert_eq!(report.calm_flagged, 0, "{report}");
        assert_eq!(report.collisions(), 0, "{report}");
        for kind in [IncidentKind::HardBrake, IncidentKind::HardAccel] {
            let c = report.class(kind).expect("scored");
            assert_eq!(
                c.detections, c.correct,
                "{kind} near other labels\n{report}"
            );
        }
    }
}

/// The trips hold no lane change to the left: driven in a mirror, every right one is
/// one, and every turn goes the other way. The detector must not lean to one side.
#[test]
fn trips_driven_in_a_mirror_score_the_same() {
    let (Some(straight), Some(mirrored)) = (
        folds(false),
        folds_with(EvalOptions {
            rotations: ROTATIONS,
            mirrored: true,
            ..EvalOptions::default()
        }),
    ) else {
        return;
    };
    for conversion in Conversion::BOTH {
        let (straight, mirrored) = (total(&straight, conversion), total(&mirrored, conversion));
        println!("{}, in a mirror:\n{mirrored}", conversion.name());
        assert_eq!(mirrored.classes, straight.classes, "{mirrored}\n{straight}");
        assert_eq!(mirrored.calm_flagged, straight.calm_flagged);
    }
}

#[test]
fn evaluation_is_deterministic() {
    let Some(dirs) = crate::dataset_trips() else {
        return;
    };
    let trips = load_trips(&dirs).expect("trips load");
    let options = EvalOptions {
        rotations: 3,
        seed: 7,
        ..EvalOptions::default()
    };
    let run = || leave_one_trip_out(&trips, |_| Thresholds::default(), &options).expect("runs");
    assert_eq!(run(), run());
}

#[test]
fn the_levels_are_chosen_without_the_held_trip() {
    let Some(dirs) = crate::dataset_trips() else {
        return;
    };
    let trips = load_trips(&dirs).expect("trips load");
    let options = EvalOptions {
        rotations: 1,
        ..EvalOptions::default()
    };
    let folds = leave_one_trip_out(
        &trips,
        |others| {
            assert_eq!(others.len(), 1);
            Thresholds::default()
        },
        &options,
    )
    .expect("runs");
    let held: Vec<&str> = folds.iter().map(|f| f.held_out.as_str()).collect();
    assert_eq!(held, ["17", "20", "17", "20"]);
}

#[test]
fn accelerometer_only_finds_forward_from_the_road_noise() {
    let Some(dirs) = crate::dataset_trips() else {
        return;
    };
    for trip in load_trips(&dirs).expect("trips load") {
        for conversion in Conversion::BOTH {
            let mut car = trip.car_trace(conversion);
            car.gyro.clear();
            for seed in 1..=ROTATIONS as u64 {
                let mount = Mount::random(seed);
                let detection =
                    detect(&mount.apply(&car), &Thresholds::default()).expect("detects");
                let o = detection.orientation.expect("an orientation");
                assert_eq!(o.source, ForwardSource::RoadNoise);
                let truth = mount.to_device([1.0, 0.0, 0.0]);
                let cos: f64 = truth.iter().zip(o.forward).map(|(a, b)| a * b).sum();
                let error = cos.clamp(-1.0, 1.0).acos().to_degrees();
                // Measured when set: 2–17° (skewness put trip 17's plain forward on the
                // car's left). Without a gyroscope, a force is read as a brake or a launch
                // only within this error of the axis.
                assert!(
                    error < MAX_AXIS_ERROR_DEG,
                    "trip {} {}: forward off by {error:.0}°",
                    trip.name,
                    conversion.name()
                );
            }
        }
    }
}
