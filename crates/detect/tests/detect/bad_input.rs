//! Bad input gives a clear error or an empty result, never a panic.

use dashvault_detect::{detect, DetectError, Thresholds, Trace, G};
use dashvault_media::telemetry::Vec3Sample;

/// `seconds` of a level, still device at `hz`, gravity on z.
fn still(seconds: f64, hz: f64) -> Vec<Vec3Sample> {
    let n = (seconds * hz) as usize;
    (0..n)
        .map(|i| Vec3Sample {
            t: i as f64 / hz,
            v: [0.0, 0.0, G],
        })
        .collect()
}

fn run(accel: Vec<Vec3Sample>, gyro: Vec<Vec3Sample>) -> Result<usize, DetectError> {
    let trace = Trace {
        accel,
        gyro,
        ..Trace::default()
    };
    detect(&trace, &Thresholds::default()).map(|d| d.events.len())
}

#[test]
fn empty_trace_is_an_empty_result() {
    let d = detect(&Trace::default(), &Thresholds::default()).expect("empty is fine");
    assert!(d.events.is_empty() && d.clips.is_empty() && d.orientation.is_none());
}

#[test]
fn single_sample_and_constant_signal_give_nothing() {
    assert_eq!(run(still(0.02, 50.0), Vec::new()).expect("one sample"), 0);
    let d = detect(
        &Trace {
            accel: still(120.0, 100.0),
            gyro: still(120.0, 100.0)
                .into_iter()
                .map(|s| Vec3Sample {
                    t: s.t,
                    v: [0.0; 3],
                })
                .collect(),
            ..Trace::default()
        },
        &Thresholds::default(),
    )
    .expect("constant is fine");
    assert!(d.events.is_empty());
    assert!(d.orientation.is_none(), "no evidence of a forward axis");
}

#[test]
fn nan_is_refused() {
    let mut accel = still(10.0, 50.0);
    accel[100].v[1] = f64::NAN;
    let err = run(accel, Vec::new()).unwrap_err();
    assert!(
        matches!(
            err,
            DetectError::NonFinite {
                stream: "accel",
                index: 100,
                ..
            }
        ),
        "{err}"
    );
    let mut gyro = still(10.0, 50.0);
    gyro[3].t = f64::INFINITY;
    let err = run(still(10.0, 50.0), gyro).unwrap_err();
    assert!(
        matches!(err, DetectError::NonFinite { stream: "gyro", .. }),
        "{err}"
    );
}

#[test]
fn time_going_backwards_is_refused() {
    let mut accel = still(10.0, 50.0);
    accel[200].t = 1.0;
    let err = run(accel, Vec::new()).unwrap_err();
    assert!(
        matches!(err, DetectError::TimeBackwards { index: 200, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("backwards"));
}

#[test]
fn gaps_and_jumps_split_the_trace() {
    let mut accel = still(20.0, 50.0);
    let later: Vec<Vec3Sample> = still(20.0, 50.0)
        .into_iter()
        .map(|s| Vec3Sample {
            t: s.t + 1e9,
            v: s.v,
        })
        .collect();
    accel.extend(later);
    assert_eq!(run(accel, Vec::new()).expect("gaps are fine"), 0);
}

#[test]
fn slow_or_gravity_free_data_is_refused() {
    let err = run(still(60.0, 5.0), Vec::new()).unwrap_err();
    assert!(matches!(err, DetectError::RateTooLow { .. }), "{err}");
    let in_g: Vec<Vec3Sample> = still(10.0, 50.0)
        .into_iter()
        .map(|s| Vec3Sample {
            t: s.t,
            v: [0.0, 0.0, 1.0],
        })
        .collect();
    let err = run(in_g, Vec::new()).unwrap_err();
    assert!(matches!(err, DetectError::NoGravity { .. }), "{err}");
    let zeros: Vec<Vec3Sample> = still(10.0, 50.0)
        .into_iter()
        .map(|s| Vec3Sample {
            t: s.t,
            v: [0.0; 3],
        })
        .collect();
    assert!(matches!(
        run(zeros, Vec::new()),
        Err(DetectError::NoGravity { .. })
    ));
}

#[test]
fn bad_thresholds_are_refused() {
    let th = Thresholds {
        hard_brake_g: f64::NAN,
        ..Thresholds::default()
    };
    assert!(matches!(th.validate(), Err(DetectError::Thresholds(_))));
    let th = Thresholds {
        collision_severe_g: 0.1,
        ..Thresholds::default()
    };
    let err = detect(&Trace::default(), &th).unwrap_err();
    assert!(err.to_string().contains("collision_severe_g"), "{err}");
}

#[test]
fn a_parked_span_that_is_no_span_is_refused() {
    let trace = Trace {
        accel: still(10.0, 50.0),
        parked: vec![[5.0, 2.0]],
        ..Trace::default()
    };
    let err = detect(&trace, &Thresholds::default()).unwrap_err();
    assert!(matches!(err, DetectError::Parked { .. }), "{err}");
}
