//! The targets on real labelled drives, over random mount rotations.

use dashvault_detect::eval::{evaluate, load_trips, EvalOptions, EvalReport};
use dashvault_detect::{EventKind, Thresholds};

const ROTATIONS: usize = 20;

fn report() -> EvalReport {
    let trips = load_trips(&crate::dataset_trips()).expect("trips load");
    evaluate(
        &trips,
        &Thresholds::default(),
        &EvalOptions {
            rotations: ROTATIONS,
            ..EvalOptions::default()
        },
    )
    .expect("evaluation runs")
}

fn check(report: &EvalReport, kind: EventKind, min_recall: f64, min_precision: f64) {
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
fn real_trips_meet_targets() {
    let report = report();
    println!("{report}");
    assert_eq!(report.runs, 2 * ROTATIONS);
    for kind in [
        EventKind::HardBrake,
        EventKind::HardAccel,
        EventKind::SharpTurn,
        EventKind::Swerve,
    ] {
        check(&report, kind, 0.9, 0.9);
    }
    let calm = report.calm_flagged_rate().expect("calm manoeuvres exist");
    assert!(
        calm <= 0.1,
        "{calm:.3} of calm manoeuvres flagged\n{report}"
    );
}

#[test]
fn evaluation_is_deterministic() {
    let trips = load_trips(&crate::dataset_trips()).expect("trips load");
    let options = EvalOptions {
        rotations: 3,
        seed: 7,
        accel_only: false,
    };
    let a = evaluate(&trips, &Thresholds::default(), &options).expect("runs");
    let b = evaluate(&trips, &Thresholds::default(), &options).expect("runs");
    assert_eq!(a, b);
}

#[test]
fn accelerometer_only_is_weaker_but_works() {
    let trips = load_trips(&crate::dataset_trips()).expect("trips load");
    let options = EvalOptions {
        rotations: ROTATIONS,
        accel_only: true,
        ..EvalOptions::default()
    };
    let report = evaluate(&trips, &Thresholds::default(), &options).expect("runs");
    println!("accelerometer only:\n{report}");
    // Without a gyroscope the forward axis comes from the skewness of braking: on the
    // trip with hard brakes, brakes and launches are found as with one; on the trip of
    // turns (no hard brake) the skewness is a poor guide, and one calm turn of five is
    // followed by what reads as a 0.17 g launch. Turns and swerves are told apart only by
    // their lobes cancelling, which the data's post-turn rebound defeats for more than
    // half the turns. Floors at the measured level.
    check(&report, EventKind::HardBrake, 0.9, 0.5);
    check(&report, EventKind::HardAccel, 0.9, 0.8);
    check(&report, EventKind::SharpTurn, 0.4, 0.9);
    check(&report, EventKind::Swerve, 0.9, 0.2);
    let calm = report.calm_flagged_rate().expect("calm manoeuvres exist");
    assert!(
        calm <= 0.2,
        "{calm:.3} of calm manoeuvres flagged\n{report}"
    );
}
