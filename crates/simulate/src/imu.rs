//! The camera's accelerometer: the car's acceleration and gravity seen through a randomly
//! tilted and turned mount, with road vibration, a constant bias per axis and sensor noise.

use serde::{Deserialize, Serialize};

use crate::drive::{CarSample, G};

/// How the camera sits in the car: its axes are the car's (forward, left, up) turned by
/// `yaw` about up, then `pitch` about the new left axis, then `roll` about the new forward
/// axis (intrinsic z-y-x), all in degrees.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Mount {
    /// Turn about the vertical, degrees in [-180, 180).
    pub yaw_deg: f64,
    /// Tilt nose down (positive) or up, degrees.
    pub pitch_deg: f64,
    /// Tilt about the forward axis, degrees.
    pub roll_deg: f64,
}

impl Mount {
    /// Any yaw; a tilt of a few degrees to about 20°, as a windscreen holder gives.
    pub(crate) fn random(rng: &mut fastrand::Rng) -> Mount {
        Mount {
            yaw_deg: -180.0 + 360.0 * rng.f64(),
            pitch_deg: (8.0 * gaussian(rng)).clamp(-20.0, 20.0),
            roll_deg: (5.0 * gaussian(rng)).clamp(-15.0, 15.0),
        }
    }

    /// The camera's axes as columns in the car's frame.
    fn matrix(&self) -> [[f64; 3]; 3] {
        let (sy, cy) = self.yaw_deg.to_radians().sin_cos();
        let (sp, cp) = self.pitch_deg.to_radians().sin_cos();
        let (sr, cr) = self.roll_deg.to_radians().sin_cos();
        [
            [cy * cp, cy * sp * sr - sy * cr, cy * sp * cr + sy * sr],
            [sy * cp, sy * sp * sr + cy * cr, sy * sp * cr - cy * sr],
            [-sp, cp * sr, cp * cr],
        ]
    }
}

/// A standard normal draw (Box–Muller).
pub(crate) fn gaussian(rng: &mut fastrand::Rng) -> f64 {
    let u = rng.f64().max(f64::MIN_POSITIVE);
    let v = rng.f64();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// Sensor noise, g (one sigma, per axis).
const NOISE_G: f64 = 0.01;
/// Largest constant bias per axis, g.
const BIAS_G: f64 = 0.03;
/// Vibration with the engine idling, g (one sigma, vertical).
const IDLE_G: f64 = 0.006;
/// Road vibration at 20 m/s, g (one sigma, vertical; half that horizontally).
const ROAD_G: f64 = 0.03;

/// One accelerometer with its mount, bias and noise.
pub(crate) struct Accelerometer {
    axes: [[f64; 3]; 3],
    bias: [f64; 3],
    rng: fastrand::Rng,
}

impl Accelerometer {
    /// An accelerometer mounted so, its bias and noise drawn from `rng`.
    pub(crate) fn new(mount: Mount, mut rng: fastrand::Rng) -> Accelerometer {
        let bias = [(); 3].map(|()| (2.0 * rng.f64() - 1.0) * BIAS_G * G);
        Accelerometer {
            axes: mount.matrix(),
            bias,
            rng,
        }
    }

    /// The reading at one step, in m/s², gravity included, in the camera's axes.
    pub(crate) fn measure(&mut self, car: &CarSample) -> [f64; 3] {
        let shake = if car.speed > 0.0 {
            IDLE_G + ROAD_G * (car.speed / 20.0).min(1.5)
        } else {
            IDLE_G
        } * G;
        let rng = &mut self.rng;
        let vibration = [
            0.5 * shake * gaussian(rng),
            0.5 * shake * gaussian(rng),
            shake * gaussian(rng),
        ];
        // Specific force in the car's frame: what an accelerometer at rest reads is +1 g up.
        let f = [
            car.accel[0] + vibration[0],
            car.accel[1] + vibration[1],
            car.accel[2] + G + vibration[2],
        ];
        let m = &self.axes;
        [0, 1, 2].map(|j| {
            let along = m[0][j] * f[0] + m[1][j] * f[1] + m[2][j] * f[2];
            along + self.bias[j] + NOISE_G * G * gaussian(&mut self.rng)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mount_is_a_rotation_and_gravity_keeps_its_length() {
        let mount = Mount {
            yaw_deg: 123.0,
            pitch_deg: 12.0,
            roll_deg: -7.0,
        };
        let m = mount.matrix();
        for a in 0..3 {
            for b in 0..3 {
                let dot: f64 = (0..3).map(|k| m[k][a] * m[k][b]).sum();
                assert!((dot - if a == b { 1.0 } else { 0.0 }).abs() < 1e-12);
            }
        }
        let mut sensor = Accelerometer::new(mount, fastrand::Rng::with_seed(1));
        let still = CarSample {
            t: 0.0,
            speed: 0.0,
            heading: 0.0,
            lat: 0.0,
            lon: 0.0,
            accel: [0.0; 3],
        };
        let n = 2000;
        let mean = (0..n).fold([0.0; 3], |acc, _| {
            let r = sensor.measure(&still);
            [0, 1, 2].map(|i| acc[i] + r[i] / f64::from(n))
        });
        let len = mean.iter().map(|v| v * v).sum::<f64>().sqrt() / G;
        assert!((len - 1.0).abs() < 0.06, "{len}");
        assert!(
            mean[2].abs() / G < 0.99,
            "gravity is not on one axis: {mean:?}"
        );
    }
}
