//! CSV and telemetry input, and clip windows.

use dashvault_detect::{clip_windows, DetectError, Event, IncidentKind, Trace, CLIP_S};
use dashvault_media::telemetry::{GpsFix, Telemetry, Vec3Sample};

#[test]
fn csv_columns_in_any_order_with_sparse_speed() {
    let csv = "speed,t,gz,gy,gx,az,ay,ax,extra\n\
               3.5,0.0,0.3,0.2,0.1,9.8,0.5,0.4,x\n\
               ,0.01,0.3,0.2,0.1,9.8,0.5,0.4,y\n";
    let trace = Trace::from_csv(csv.as_bytes()).expect("parses");
    assert_eq!(trace.accel.len(), 2);
    assert_eq!(trace.accel[1].v, [0.4, 0.5, 9.8]);
    assert_eq!(trace.gyro[0].v, [0.1, 0.2, 0.3]);
    assert_eq!(trace.speed.len(), 1);
    assert_eq!(trace.speed[0].speed, 3.5);
}

#[test]
fn csv_parked_rows_make_spans() {
    let csv = "t,ax,ay,az,parked\n0,0,0,9.8,0\n1,0,0,9.8,1\n2,0,0,9.8,1\n3,0,0,9.8,0\n\
               4,0,0,9.8,1\n5,0,0,9.8,\n";
    let trace = Trace::from_csv(csv.as_bytes()).expect("parses");
    assert_eq!(trace.parked, [[1.0, 2.0], [4.0, 4.0]]);
    let err = Trace::from_csv("t,ax,ay,az,parked\n0,0,0,9.8,2\n".as_bytes()).unwrap_err();
    assert!(matches!(err, DetectError::Csv { line: 2, .. }), "{err}");
}

#[test]
fn csv_without_gyroscope_and_bad_csvs() {
    let trace = Trace::from_csv("t,ax,ay,az\n0,0,0,9.8\n".as_bytes()).expect("parses");
    assert!(trace.gyro.is_empty() && trace.accel.len() == 1);
    let err = Trace::from_csv("t,ax,ay\n0,0,0\n".as_bytes()).unwrap_err();
    assert!(err.to_string().contains("`az`"), "{err}");
    let err = Trace::from_csv("t,ax,ay,az\n0,0,zero,9.8\n".as_bytes()).unwrap_err();
    assert!(matches!(err, DetectError::Csv { line: 2, .. }), "{err}");
    let err = Trace::from_csv("t,ax,ay,az,gx,gy\n".as_bytes()).unwrap_err();
    assert!(err.to_string().contains("gx, gy, gz"), "{err}");
    assert_eq!(
        Trace::from_csv("".as_bytes()).expect("empty"),
        Trace::default()
    );
}

#[test]
fn telemetry_becomes_a_trace() {
    let fix = |t: f64, speed: Option<f64>| GpsFix {
        t,
        time: None,
        lat: 0.0,
        lon: 0.0,
        speed,
        heading: None,
        alt: None,
    };
    let telemetry = Telemetry {
        start: None,
        gps: vec![fix(0.0, Some(4.0)), fix(1.0, None)],
        accel: vec![Vec3Sample {
            t: 0.0,
            v: [0.0, 0.0, 9.8],
        }],
        gyro: Vec::new(),
    };
    let trace = Trace::from_telemetry(&telemetry);
    assert_eq!(trace.accel, telemetry.accel);
    assert_eq!(trace.speed.len(), 1);
    assert_eq!(trace.speed[0].speed, 4.0);
}

fn event(kind: IncidentKind, start: f64) -> Event {
    Event {
        kind,
        start,
        end: start + 2.0,
        peak_g: 0.5,
        severity: 0.4,
    }
}

#[test]
fn clip_windows_sit_around_events_and_merge() {
    let events = [
        event(IncidentKind::HardBrake, 100.0),
        event(IncidentKind::Swerve, 110.0),
        event(IncidentKind::Collision, 300.0),
    ];
    let clips = clip_windows(&events, 0.0, 1000.0);
    assert_eq!(clips.len(), 2);
    assert_eq!((clips[0].start, clips[0].end), (75.0, 125.0));
    assert_eq!(clips[0].incidents.len(), 2);
    assert_eq!((clips[1].start, clips[1].end), (275.0, 275.0 + CLIP_S));
    // Near the start of the recording the window slides inside it, keeping 40 s.
    let early = clip_windows(&[event(IncidentKind::HardAccel, 5.0)], 0.0, 1000.0);
    assert_eq!((early[0].start, early[0].end), (0.0, CLIP_S));
    let late = clip_windows(&[event(IncidentKind::HardAccel, 990.0)], 0.0, 1000.0);
    assert_eq!((late[0].start, late[0].end), (1000.0 - CLIP_S, 1000.0));
}

#[test]
fn event_kinds_serialise_as_contract_names() {
    let json = serde_json::to_string(&IncidentKind::MOTION).expect("serialises");
    assert_eq!(
        json,
        r#"["hard_brake","sudden_stop","hard_accel","sharp_turn","swerve","collision"]"#
    );
    let e = serde_json::to_value(event(IncidentKind::SuddenStop, 1.0)).expect("serialises");
    assert_eq!(e["type"], "sudden_stop");
}
