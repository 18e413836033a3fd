//! The phone's tilted Earth frame, and undoing it.
//!
//! The dataset's app rotated each sample into an Earth frame built from the phone's own
//! gravity estimate (Android's fused gravity sensor: the first rows' linear acceleration
//! is the accelerometer less exactly 9.80665 m/s² on z). That estimate lags the
//! accelerometer: in a hard brake it leans toward the braking direction, so the recorded
//! horizontal acceleration loses `g·sin(tilt)` during the brake and shows it as a spurious
//! "acceleration" of up to 0.4 g for seconds afterwards, while the vertical channel rises
//! then dips by `g·(1 − cos(tilt))`. A dashcam's accelerometer has no such filter, so the
//! conversion removes it, in one of two ways:
//! - **Measured** (trips with `campoMagnetico_terra.csv`): the Earth frame's East axis is
//!   `B × up`, so the magnetic field `B` has no East component in it and its inclination,
//!   `atan2(B_up, B_north)`, moves one for one with the frame's tilt toward North. Less
//!   its running median over ±5 s (which carries the slow changes: the car's own magnetism
//!   as it turns, the field along the road), it is the tilt's North component. On trip 17
//!   it swings by 25° through each hard brake and back within 3 s, and the accelerometer's
//!   magnitude (which no frame changes) agrees: 0.52 g of true deceleration where the
//!   frame shows 0.11 g, and none where it shows a 0.40 g "acceleration" right after. The
//!   field says nothing of the tilt's East component, so the tilt is taken to lean the
//!   way the modelled tilt term below points (the gravity estimate leans toward the
//!   specific force: backward in a brake, toward the centre in a turn) and is scaled from
//!   its North component; where that direction is within 30° of East–West the scaling is
//!   capped rather than trusted.
//! - **Modelled** (trips without it): the gravity estimate as a first-order low-pass of
//!   the acceleration, so the recorded horizontal acceleration is `h − LPF_τ(h)`, undone
//!   by adding back its integral over τ, with a 20 s leak against sensor bias. τ = 2 s
//!   best predicts the vertical channel's dips (`Δz ≈ h·y/g − |y|²/2g`, `y` the tilt
//!   term); the labels play no part in that choice. The measured tilt shows the model is
//!   rough: its rise and fall are not exponential, and on trip 17 a low-pass fits the
//!   magnetometer's tilt with R² 0.56 at best (τ 1.2 s), so it is used only where nothing
//!   is measured (trip 20, whose turns it leaves detectable).

use super::interpolate;
use dashvault_media::telemetry::Vec3Sample;
use std::f64::consts::{PI, TAU};

/// Time constant of the modelled gravity estimate, s (fitted to the vertical channel).
const GRAVITY_LAG_S: f64 = 2.0;
/// Leak of the model's integrator, s.
const LAG_LEAK_S: f64 = 20.0;
/// Bin of the magnetometer's inclination, s.
const TILT_BIN_S: f64 = 0.1;
/// Half-width of the running median that is the inclination's baseline, s: wider than a
/// brake's tilt (3–4 s), narrower than the time between two turns.
const TILT_BASELINE_S: f64 = 5.0;
/// Smallest squared North share of the tilt's direction that its North component is
/// scaled by (a direction within 30° of East–West).
const MIN_NORTH_SHARE: f64 = 0.25;

/// The modelled tilt term `y` at each sample (m/s², Earth-frame x and y): the integral of
/// the recorded horizontal acceleration over τ, with a slow leak so that a sensor bias
/// does not build up.
fn modelled_lag(samples: &[Vec3Sample]) -> Vec<[f64; 2]> {
    let mut lag = [0.0, 0.0];
    let mut prev_t: Option<f64> = None;
    samples
        .iter()
        .map(|s| {
            let dt = prev_t.map_or(0.0, |p| s.t - p);
            prev_t = Some(s.t);
            for (y, h) in lag.iter_mut().zip(s.v) {
                *y += dt * (h / GRAVITY_LAG_S - *y / LAG_LEAK_S);
            }
            lag
        })
        .collect()
}

/// Undoes the modelled lag (see the module doc): `h = h_measured + y`.
pub(super) fn undo_modelled(samples: &[Vec3Sample]) -> Vec<Vec3Sample> {
    samples
        .iter()
        .zip(modelled_lag(samples))
        .map(|(s, [yx, yy])| Vec3Sample {
            t: s.t,
            v: [s.v[0] + yx, s.v[1] + yy, s.v[2]],
        })
        .collect()
}

/// The Earth frame's tilt toward North over time, measured from the magnetometer.
pub(super) struct NorthTilt {
    /// (time, radians; positive when the frame's up leans to the North).
    points: Vec<(f64, f64)>,
}

impl NorthTilt {
    /// From Earth-frame magnetometer samples; `None` without any.
    pub fn measure(magnet: &[Vec3Sample]) -> Option<NorthTilt> {
        let first = magnet.first()?.t;
        let mut bins: Vec<(f64, usize)> = Vec::new();
        for s in magnet {
            let i = ((s.t - first) / TILT_BIN_S) as usize;
            if bins.len() <= i {
                bins.resize(i + 1, (0.0, 0));
            }
            bins[i].0 += s.v[2].atan2(s.v[1]);
            bins[i].1 += 1;
        }
        let inclination: Vec<(f64, f64)> = bins
            .iter()
            .enumerate()
            .filter(|(_, (_, n))| *n > 0)
            .map(|(i, (sum, n))| {
                let t = first + (i as f64 + 0.5) * TILT_BIN_S;
                (t, sum / *n as f64)
            })
            .collect();
        let half = (TILT_BASELINE_S / TILT_BIN_S) as usize;
        let points = (0..inclination.len())
            .map(|i| {
                let window =
                    &inclination[i.saturating_sub(half)..(i + half + 1).min(inclination.len())];
                let mut values: Vec<f64> = window.iter().map(|p| p.1).collect();
                values.sort_by(f64::total_cmp);
                let baseline = values[values.len() / 2];
                let (t, value) = inclination[i];
                (t, (value - baseline + PI).rem_euclid(TAU) - PI)
            })
            .collect();
        Some(NorthTilt { points })
    }

    /// Undoes the tilt on Earth-frame accelerometer samples. The tilt leans the way the
    /// modelled tilt term points (the gravity estimate leans toward the specific force:
    /// backward in a brake, toward the centre in a turn), its size scaled from the
    /// measured North component.
    pub fn undo(&self, samples: &[Vec3Sample]) -> Vec<Vec3Sample> {
        samples
            .iter()
            .zip(modelled_lag(samples))
            .map(|(s, [yx, yy])| {
                let length = yx.hypot(yy);
                let (east, north) = if length > 0.0 {
                    (yx / length, yy / length)
                } else {
                    (0.0, 1.0)
                };
                let share = north * north;
                let tilt = interpolate(&self.points, s.t) * north / share.max(MIN_NORTH_SHARE);
                let [x, y, z] = s.v;
                // Along the tilt, across it, and up, in the tilted frame.
                let (along, across) = (x * east + y * north, -x * north + y * east);
                let (sin, cos) = tilt.sin_cos();
                let (along, up) = (along * cos + z * sin, -along * sin + z * cos);
                Vec3Sample {
                    t: s.t,
                    v: [
                        along * east - across * north,
                        along * north + across * east,
                        up,
                    ],
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::NorthTilt;
    use dashvault_media::telemetry::Vec3Sample;

    /// `v` (x East, y North, z up) as seen in a frame whose up leans `tilt` rad to North.
    fn tilted(v: [f64; 3], tilt: f64) -> [f64; 3] {
        let (sin, cos) = tilt.sin_cos();
        [v[0], v[1] * cos - v[2] * sin, v[1] * sin + v[2] * cos]
    }

    #[test]
    fn a_measured_tilt_is_undone() {
        // A minute heading South with a 0.5 g brake at 30–32 s; the frame leans with the
        // specific force (North, behind the car) by up to 0.3 rad, and back by 34 s.
        let tilt_at = |t: f64| 0.3 * (1.0 - ((t - 32.0) / 2.0).abs()).max(0.0);
        let truth = |t: f64| {
            let north = if (30.0..32.0).contains(&t) { 4.9 } else { 0.0 };
            [0.0, north, 9.81]
        };
        let field = [0.0, 40.0, -10.0];
        let times: Vec<f64> = (0..3000).map(|i| f64::from(i) / 50.0).collect();
        let accel: Vec<Vec3Sample> = times
            .iter()
            .map(|&t| Vec3Sample {
                t,
                v: tilted(truth(t), tilt_at(t)),
            })
            .collect();
        let magnet: Vec<Vec3Sample> = times
            .iter()
            .map(|&t| Vec3Sample {
                t,
                v: tilted(field, tilt_at(t)),
            })
            .collect();
        let recorded_after = accel.iter().find(|s| s.t >= 32.5).expect("a sample").v[1];
        assert!(
            recorded_after < -1.5,
            "a spurious acceleration: {recorded_after}"
        );
        let undone = NorthTilt::measure(&magnet)
            .expect("a magnetometer")
            .undo(&accel);
        for s in &undone {
            let want = truth(s.t);
            let error = (0..3).map(|i| (s.v[i] - want[i]).abs()).fold(0.0, f64::max);
            assert!(error < 0.2, "at {:.2} s: {:?}, want {want:?}", s.t, s.v);
        }
        assert!(NorthTilt::measure(&[]).is_none());
    }
}
