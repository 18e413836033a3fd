//! How a converted trip is varied to check the detector beyond what the trips hold: a
//! camera mounted at a random rotation ([`Mount`]), the drive in a mirror ([`mirror`]:
//! the trips have lane changes to the right only), a slower sensor ([`at_rate`]).

use crate::trace::Trace;
use crate::vector::{mat_vec, M3};
use dashvault_media::telemetry::Vec3Sample;
use std::f64::consts::TAU;

/// A car-frame trace as the same drive, driven in a mirror, records it: every left turn
/// and lane change a right one and the reverse (the car's left axis and its yaw reversed;
/// the angular rate is a pseudovector, so its roll reverses too and its pitch stays).
/// The trips hold no lane change to the left and six turns each way: their mirror images
/// check that the detector does not lean to one side.
pub fn mirror(trace: &Trace) -> Trace {
    let flip = |signs: [f64; 3]| {
        move |samples: &[Vec3Sample]| -> Vec<Vec3Sample> {
            samples
                .iter()
                .map(|s| Vec3Sample {
                    t: s.t,
                    v: [s.v[0] * signs[0], s.v[1] * signs[1], s.v[2] * signs[2]],
                })
                .collect()
        }
    };
    with_imu(trace, flip([1.0, -1.0, 1.0]), flip([-1.0, 1.0, -1.0]))
}

/// `trace` with its accelerometer samples turned by `accel` and its gyroscope's by
/// `gyro`; the speed and the parked spans kept.
fn with_imu(
    trace: &Trace,
    accel: impl Fn(&[Vec3Sample]) -> Vec<Vec3Sample>,
    gyro: impl Fn(&[Vec3Sample]) -> Vec<Vec3Sample>,
) -> Trace {
    Trace {
        accel: accel(&trace.accel),
        gyro: gyro(&trace.gyro),
        speed: trace.speed.clone(),
        parked: trace.parked.clone(),
    }
}

/// A trace as a sensor sampling at `hz` records it: the samples averaged over each
/// `1/hz` s (what a sensor's own low-pass and its output rate do), at the middle of it.
/// A BlackVue `.3gf` holds 10 samples a second, a fifth of the trips' rate.
pub fn at_rate(trace: &Trace, hz: f64) -> Trace {
    let average = |samples: &[Vec3Sample]| -> Vec<Vec3Sample> {
        let bin = |s: &Vec3Sample| (s.t * hz).floor();
        samples
            .chunk_by(|a, b| bin(a) == bin(b))
            .map(|chunk| {
                let n = chunk.len() as f64;
                let sum = chunk.iter().fold([0.0; 3], |acc, s| {
                    [acc[0] + s.v[0], acc[1] + s.v[1], acc[2] + s.v[2]]
                });
                Vec3Sample {
                    t: (bin(&chunk[0]) + 0.5) / hz,
                    v: sum.map(|x| x / n),
                }
            })
            .collect()
    };
    with_imu(trace, average, average)
}

/// A rigid rotation from the car's axes to the device's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mount(M3);

impl Mount {
    /// The device aligned with the car (x forward, y left, z up).
    pub const IDENTITY: Mount = Mount([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]);

    /// A uniformly random rotation, the same for the same seed (Shoemake's method).
    pub fn random(seed: u64) -> Mount {
        let mut state = seed;
        let mut uniform = || splitmix64(&mut state) as f64 / (u64::MAX as f64 + 1.0);
        let (u1, u2, u3) = (uniform(), uniform(), uniform());
        let (a, b) = ((1.0 - u1).sqrt(), u1.sqrt());
        let (x, y, z, w) = (
            a * (TAU * u2).sin(),
            a * (TAU * u2).cos(),
            b * (TAU * u3).sin(),
            b * (TAU * u3).cos(),
        );
        Mount([
            [
                1.0 - 2.0 * (y * y + z * z),
                2.0 * (x * y - z * w),
                2.0 * (x * z + y * w),
            ],
            [
                2.0 * (x * y + z * w),
                1.0 - 2.0 * (x * x + z * z),
                2.0 * (y * z - x * w),
            ],
            [
                2.0 * (x * z - y * w),
                2.0 * (y * z + x * w),
                1.0 - 2.0 * (x * x + y * y),
            ],
        ])
    }

    /// Maps a car-frame vector into the device frame.
    pub fn to_device(&self, v: [f64; 3]) -> [f64; 3] {
        mat_vec(&self.0, v)
    }

    /// A car-frame trace as the mounted device records it.
    pub fn apply(&self, trace: &Trace) -> Trace {
        let rotate = |samples: &[Vec3Sample]| -> Vec<Vec3Sample> {
            samples
                .iter()
                .map(|s| Vec3Sample {
                    t: s.t,
                    v: self.to_device(s.v),
                })
                .collect()
        };
        with_imu(trace, rotate, rotate)
    }
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::{at_rate, mirror, Mount};
    use crate::eval::Manoeuvre;
    use crate::trace::Trace;
    use crate::vector::{cross, dot};
    use dashvault_media::telemetry::Vec3Sample;

    #[test]
    fn random_mounts_are_rotations_and_depend_on_the_seed() {
        for seed in 0..50 {
            let m = Mount::random(seed);
            let (x, y, z) = (
                m.to_device([1.0, 0.0, 0.0]),
                m.to_device([0.0, 1.0, 0.0]),
                m.to_device([0.0, 0.0, 1.0]),
            );
            for v in [x, y, z] {
                assert!((dot(v, v) - 1.0).abs() < 1e-9);
            }
            assert!(dot(x, y).abs() < 1e-9 && dot(y, z).abs() < 1e-9);
            let handed = cross(x, y);
            assert!((dot(handed, z) - 1.0).abs() < 1e-9, "a proper rotation");
            assert_eq!(m, Mount::random(seed));
        }
        assert_ne!(Mount::random(1), Mount::random(2));
    }

    #[test]
    fn a_mirror_turns_left_into_right() {
        let sample = |v| Vec3Sample { t: 0.0, v };
        let trace = Trace {
            // Turning left (yaw up) while rolling right, pulled to the left.
            accel: vec![sample([1.0, 2.0, 9.8])],
            gyro: vec![sample([0.1, 0.2, 0.5])],
            ..Trace::default()
        };
        let mirrored = mirror(&trace);
        assert_eq!(mirrored.accel[0].v, [1.0, -2.0, 9.8]);
        assert_eq!(mirrored.gyro[0].v, [-0.1, 0.2, -0.5]);
        assert_eq!(mirror(&mirrored).gyro[0].v, trace.gyro[0].v);
        assert_eq!(
            Manoeuvre::LeftLaneChange.mirrored(),
            Manoeuvre::RightLaneChange
        );
        assert_eq!(Manoeuvre::Brake.mirrored(), Manoeuvre::Brake);
    }

    #[test]
    fn a_slower_sensor_averages_each_of_its_periods() {
        let samples = |values: &[(f64, f64)]| -> Vec<Vec3Sample> {
            values
                .iter()
                .map(|&(t, x)| Vec3Sample {
                    t,
                    v: [x, 0.0, 9.8],
                })
                .collect()
        };
        let trace = Trace {
            accel: samples(&[
                (0.00, 1.0),
                (0.02, 3.0),
                (0.04, 5.0),
                (0.10, 7.0),
                (0.12, 9.0),
            ]),
            ..Trace::default()
        };
        let slow = at_rate(&trace, 10.0);
        let got: Vec<(f64, f64)> = slow.accel.iter().map(|s| (s.t, s.v[0])).collect();
        assert_eq!(got.len(), 2);
        assert!(
            (got[0].0 - 0.05).abs() < 1e-9 && (got[0].1 - 3.0).abs() < 1e-9,
            "{got:?}"
        );
        assert!(
            (got[1].0 - 0.15).abs() < 1e-9 && (got[1].1 - 8.0).abs() < 1e-9,
            "{got:?}"
        );
        assert!(slow.gyro.is_empty());
    }
}
