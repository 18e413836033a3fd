//! The car's motion: a speed profile (launch from standstill, cruise at varying speeds,
//! stops at lights, gentle curves) with the incidents asked for scripted in, integrated
//! into speed, heading and position at the IMU rate.
//!
//! Normal driving stays well under the detector's levels (at most 0.12 g of braking,
//! 0.10 g of acceleration, 0.10 g in curves) so that only the incidents stand out; no stop
//! or curve is planned within 25 s before or 20 s after an incident, and in the 20 s
//! before one the driver settles at a speed that suits it (fast for a brake, slow for a
//! launch).

use crate::incident::{Incident, IncidentKind};

/// Samples per second of the motion and of the accelerometer log.
pub(crate) const HZ: u32 = 10;
/// Seconds per step.
const DT: f64 = 1.0 / HZ as f64;
/// Standard gravity, m/s².
pub(crate) const G: f64 = 9.806_65;
/// Mean Earth radius, m.
const EARTH_RADIUS: f64 = 6_371_000.0;
/// Normal driving: strongest braking and acceleration, m/s², and jerk, m/s³.
const NORMAL_BRAKE: f64 = 1.2;
const NORMAL_ACCEL: f64 = 1.0;
const NORMAL_JERK: f64 = 2.0;
/// No stop or curve is planned this long before and after an incident, s.
const CLEAR_BEFORE: f64 = 25.0;
const CLEAR_AFTER: f64 = 20.0;
/// The driver settles at an incident's entry speed this long before it, s.
const SETTLE: f64 = 20.0;
/// Standing time after a sudden stop, s.
const STOP_STAND: f64 = 8.0;

/// The car at one step.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CarSample {
    /// Seconds from the start of the drive.
    pub t: f64,
    /// Ground speed, m/s.
    pub speed: f64,
    /// Course over ground, degrees clockwise from north.
    pub heading: f64,
    /// Latitude and longitude, degrees.
    pub lat: f64,
    pub lon: f64,
    /// Acceleration in the car's frame (forward, left, up), gravity excluded, m/s².
    pub accel: [f64; 3],
}

/// Where the drive begins.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Origin {
    pub lat: f64,
    pub lon: f64,
    /// Initial heading, degrees clockwise from north.
    pub heading: f64,
}

/// How long an incident's scripted part lasts at most, s (the next one may start after it).
pub(crate) fn script_length(kind: IncidentKind) -> f64 {
    match kind {
        IncidentKind::HardBrake => 1.5,
        // Braking from 14 m/s at 0.55 g takes 2.6 s; then it stands.
        IncidentKind::SuddenStop => 3.0 + STOP_STAND,
        IncidentKind::HardAccel => 3.0,
        IncidentKind::SharpTurn => 3.0,
        IncidentKind::Swerve => 2.4,
        IncidentKind::Collision => 0.5,
        // The camera's own mark: no motion (refused when options are checked).
        IncidentKind::CameraEvent => 0.0,
    }
}

/// The speed the driver holds before an incident, m/s.
fn entry_speed(kind: IncidentKind) -> f64 {
    match kind {
        IncidentKind::HardBrake | IncidentKind::Swerve => 16.0,
        IncidentKind::SuddenStop => 14.0,
        IncidentKind::HardAccel => 6.0,
        IncidentKind::SharpTurn => 10.0,
        IncidentKind::Collision | IncidentKind::CameraEvent => 12.0,
    }
}

/// A planned stop at a light: braking starts at `at`, the car then stands `wait` seconds.
#[derive(Debug, Clone, Copy)]
struct Stop {
    at: f64,
    wait: f64,
}

/// A gentle curve: lateral acceleration `sin²` shaped over `len` seconds, peak in m/s²
/// (positive to the left).
#[derive(Debug, Clone, Copy)]
struct Curve {
    at: f64,
    len: f64,
    peak: f64,
}

/// The driver's plan: cruise speeds, stops and curves around the incidents.
struct Plan {
    /// `(from, speed)`: cruise speed from a time on, m/s.
    cruise: Vec<(f64, f64)>,
    stops: Vec<Stop>,
    curves: Vec<Curve>,
    incidents: Vec<Incident>,
    /// Left (+1) or right (−1) for each incident's lateral part.
    sides: Vec<f64>,
}

impl Plan {
    fn new(duration: f64, incidents: &[Incident], rng: &mut fastrand::Rng) -> Plan {
        let clear = |at: f64, len: f64| {
            incidents
                .iter()
                .all(|i| at + len < i.t - CLEAR_BEFORE || at > i.t + CLEAR_AFTER)
        };
        let mut cruise = Vec::new();
        let mut t = 0.0;
        while t < duration {
            cruise.push((t, 11.0 + 6.0 * rng.f64()));
            t += 30.0 + 30.0 * rng.f64();
        }
        let mut stops = Vec::new();
        let mut t = 90.0 + 60.0 * rng.f64();
        while t < duration - 60.0 {
            let wait = 12.0 + 20.0 * rng.f64();
            // Braking, standing and the launch after it.
            if clear(t, 15.0 + wait + 20.0) {
                stops.push(Stop { at: t, wait });
            }
            t += 120.0 + 120.0 * rng.f64();
        }
        let mut curves = Vec::new();
        let mut t = 20.0 + 30.0 * rng.f64();
        while t < duration - 15.0 {
            let len = 6.0 + 6.0 * rng.f64();
            let side = if rng.bool() { 1.0 } else { -1.0 };
            if clear(t, len) {
                curves.push(Curve {
                    at: t,
                    len,
                    peak: side * (0.05 + 0.05 * rng.f64()) * G,
                });
            }
            t += len + 25.0 + 45.0 * rng.f64();
        }
        let mut incidents = incidents.to_vec();
        incidents.sort_by(|a, b| a.t.total_cmp(&b.t));
        let sides = incidents
            .iter()
            .map(|_| if rng.bool() { 1.0 } else { -1.0 })
            .collect();
        Plan {
            cruise,
            stops,
            curves,
            incidents,
            sides,
        }
    }

    fn cruise_speed(&self, t: f64) -> f64 {
        let i = self.cruise.partition_point(|&(from, _)| from <= t);
        self.cruise.get(i.saturating_sub(1)).map_or(12.0, |c| c.1)
    }

    /// The speed the driver aims at when nothing is scripted.
    fn target(&self, t: f64) -> f64 {
        match self
            .incidents
            .iter()
            .find(|i| (i.t - SETTLE..i.t).contains(&t))
        {
            Some(i) => entry_speed(i.kind),
            None => self.cruise_speed(t),
        }
    }

    fn curve_accel(&self, t: f64) -> f64 {
        self.curves
            .iter()
            .find(|c| (c.at..c.at + c.len).contains(&t))
            .map_or(0.0, |c| {
                c.peak * (std::f64::consts::PI * (t - c.at) / c.len).sin().powi(2)
            })
    }
}

/// 0 outside `[0, len]`, 1 inside, with linear ramps of `ramp` seconds at both ends.
fn trapezoid(tau: f64, ramp: f64, len: f64) -> f64 {
    if !(0.0..=len).contains(&tau) {
        return 0.0;
    }
    (tau / ramp).min((len - tau) / ramp).min(1.0)
}

/// A collision's impulse at steps 0, 1, 2, 3 after impact, in g along its direction: the
/// hit, then the mount and body ringing back. The lobes nearly cancel, so the car's speed
/// hardly changes and no manoeuvre is seen in the smoothed signal.
const IMPACT: [f64; 4] = [2.8, -1.9, 0.8, -0.35];

/// The car's acceleration during an incident's scripted part.
struct Scripted {
    /// Along the forward axis, m/s².
    along: f64,
    /// To the left, m/s².
    lateral: f64,
    /// A short impulse in the car's frame, m/s².
    jolt: [f64; 3],
}

/// The acceleration `tau` seconds into an incident of `kind`, turning to `side` (+1 left,
/// −1 right), at `speed`, with `along` the acceleration before it. Per kind:
/// - `hard_brake`: brakes at about 0.5 g for 1.5 s and drives on: the car slows, it does
///   not stop;
/// - `sudden_stop`: brakes at about 0.55 g to a standstill, stands 8 s, drives on;
/// - `hard_accel`: accelerates at about 0.32 g for 3 s from a slow roll;
/// - `sharp_turn`: turns at about 0.45 g of lateral acceleration for 3 s (about 80° at
///   36 km/h);
/// - `swerve`: swings left then right at up to 0.5 g within 2.4 s, keeping its heading;
/// - `collision`: an impact: a ringing impulse of up to 2.8 g over 0.4 s;
/// - `camera_event` is no motion (the camera's own mark): nothing happens.
fn scripted(kind: IncidentKind, tau: f64, side: f64, speed: f64, along: f64) -> Scripted {
    let plain = |along: f64, lateral: f64| Scripted {
        along,
        lateral,
        jolt: [0.0; 3],
    };
    match kind {
        IncidentKind::HardBrake if speed > 3.0 => plain(-0.5 * G * trapezoid(tau, 0.25, 1.5), 0.0),
        IncidentKind::HardBrake => plain(0.0, 0.0),
        IncidentKind::SuddenStop if speed > 0.0 => plain(-0.55 * G * (tau / 0.25).min(1.0), 0.0),
        IncidentKind::SuddenStop => plain(0.0, 0.0),
        IncidentKind::HardAccel => plain(0.32 * G * trapezoid(tau, 0.3, 3.0), 0.0),
        IncidentKind::SharpTurn => plain(0.0, side * 0.45 * G * trapezoid(tau, 0.4, 3.0)),
        IncidentKind::Swerve => plain(
            0.0,
            side * 0.5 * G * (std::f64::consts::TAU * tau / 2.4).sin(),
        ),
        IncidentKind::CameraEvent => plain(0.0, 0.0),
        IncidentKind::Collision => {
            let g = IMPACT
                .get((tau / DT).round() as usize)
                .copied()
                .unwrap_or(0.0);
            let dir = [-0.75, side * 0.45, 0.48];
            let norm = dir.iter().map(|d| d * d).sum::<f64>().sqrt();
            Scripted {
                along,
                lateral: 0.0,
                jolt: dir.map(|d| d / norm * g * G),
            }
        }
    }
}

/// What the driver is doing.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    /// Following the plan.
    Driving,
    /// Braking for a planned stop (index into the plan's stops).
    Stopping(usize),
    /// Standing still until a time.
    Standing(f64),
}

/// Where the car is and where it points.
struct Pose {
    lat: f64,
    lon: f64,
    /// Degrees clockwise from north.
    heading: f64,
}

impl Pose {
    /// Moves one step at mean speed `speed` with lateral acceleration `lateral`.
    fn advance(&mut self, speed: f64, lateral: f64) {
        // Lateral acceleration v·ω, positive to the left: the compass heading decreases.
        if speed > 0.5 {
            self.heading = (self.heading - (lateral / speed * DT).to_degrees()).rem_euclid(360.0);
        }
        let course = self.heading.to_radians();
        self.lat += (speed * DT * course.cos() / EARTH_RADIUS).to_degrees();
        self.lon +=
            (speed * DT * course.sin() / (EARTH_RADIUS * self.lat.to_radians().cos())).to_degrees();
    }
}

/// Integrates the drive: one [`CarSample`] per step over `duration` seconds.
pub(crate) fn drive(
    duration: f64,
    incidents: &[Incident],
    origin: Origin,
    rng: &mut fastrand::Rng,
) -> Vec<CarSample> {
    let plan = Plan::new(duration, incidents, rng);
    let steps = (duration * f64::from(HZ)).round() as usize;
    let mut out = Vec::with_capacity(steps);
    let mut pose = Pose {
        lat: origin.lat,
        lon: origin.lon,
        heading: origin.heading,
    };
    let (mut speed, mut along) = (0.0f64, 0.0f64);
    let mut phase = Phase::Standing(5.0);
    let mut next_stop = 0;
    for n in 0..steps {
        let t = n as f64 * DT;
        let active = plan
            .incidents
            .iter()
            .zip(&plan.sides)
            .find(|(i, _)| (i.t..i.t + script_length(i.kind)).contains(&t));
        let (lateral, jolt) = match active {
            Some((incident, &side)) => {
                let now = scripted(incident.kind, t - incident.t, side, speed, along);
                if incident.kind == IncidentKind::SuddenStop && speed == 0.0 {
                    phase = Phase::Standing(incident.t + script_length(incident.kind));
                }
                along = now.along;
                (now.lateral, now.jolt)
            }
            None => {
                if let Some(stop) = plan.stops.get(next_stop) {
                    if phase == Phase::Driving && t >= stop.at {
                        phase = Phase::Stopping(next_stop);
                        next_stop += 1;
                    }
                }
                let wanted = match phase {
                    Phase::Driving => {
                        (0.4 * (plan.target(t) - speed)).clamp(-NORMAL_BRAKE, NORMAL_ACCEL)
                    }
                    Phase::Stopping(_) => -(0.6 * speed).clamp(0.5, NORMAL_BRAKE),
                    Phase::Standing(_) => 0.0,
                };
                let step = NORMAL_JERK * DT;
                along += (wanted - along).clamp(-step, step);
                let curve = if speed > 4.0 {
                    plan.curve_accel(t)
                } else {
                    0.0
                };
                (curve, [0.0; 3])
            }
        };
        if let Phase::Standing(until) = phase {
            along = 0.0;
            if t >= until {
                phase = Phase::Driving;
            }
        }
        if speed <= 0.0 && along < 0.0 {
            along = 0.0;
        }
        out.push(CarSample {
            t,
            speed,
            heading: pose.heading,
            lat: pose.lat,
            lon: pose.lon,
            accel: [along + jolt[0], lateral + jolt[1], jolt[2]],
        });
        let new_speed = (speed + along * DT).max(0.0);
        if let (0.0, Phase::Stopping(s)) = (new_speed, phase) {
            phase = Phase::Standing(t + plan.stops[s].wait);
        }
        pose.advance(0.5 * (speed + new_speed), lateral);
        speed = new_speed;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(incidents: &[Incident]) -> Vec<CarSample> {
        let origin = Origin {
            lat: 48.1,
            lon: 11.5,
            heading: 90.0,
        };
        drive(600.0, incidents, origin, &mut fastrand::Rng::with_seed(7))
    }

    #[test]
    fn normal_driving_stays_gentle_and_moves() {
        let car = run(&[]);
        assert_eq!(car.len(), 6000);
        assert_eq!(car[0].speed, 0.0, "starts from standstill");
        let fastest = car.iter().map(|c| c.speed).fold(0.0, f64::max);
        assert!((10.0..20.0).contains(&fastest), "{fastest}");
        for c in &car {
            assert!(c.accel[0].abs() <= NORMAL_BRAKE + 1e-9, "{c:?}");
            assert!(c.accel[1].abs() <= 0.1 * G + 1e-9, "{c:?}");
        }
        let stands = car
            .windows(2)
            .filter(|w| w[0].speed > 0.0 && w[1].speed == 0.0);
        assert!(stands.count() >= 1, "stops at least once at a light");
    }

    #[test]
    fn a_hard_brake_slows_without_stopping_and_a_sudden_stop_stops() {
        let brake = Incident {
            kind: IncidentKind::HardBrake,
            t: 100.0,
        };
        let stop = Incident {
            kind: IncidentKind::SuddenStop,
            t: 200.0,
        };
        let car = run(&[brake, stop]);
        let at = |t: f64| car[(t * f64::from(HZ)) as usize];
        assert!((at(99.0).speed - 16.0).abs() < 1.0, "{:?}", at(99.0));
        assert!(at(101.7).speed > 5.0 && at(101.7).speed < at(99.0).speed - 6.0);
        assert!(at(100.5).accel[0] < -0.45 * G);
        assert_eq!(at(204.0).speed, 0.0, "{:?}", at(204.0));
        assert!(at(225.0).speed > 1.0, "drives on");
    }
}
