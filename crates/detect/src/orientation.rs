//! Where the car's axes are in the device's frame, estimated from the data alone.
//!
//! Assumptions (a camera or phone in a holder, mounted rigidly but at any tilt and yaw):
//! - **Vertical.** Over half a minute the car's mean acceleration is small next to
//!   gravity, so the accelerometer's long average points up. Samples during a manoeuvre
//!   (more than 0.1 g of dynamics, or turning) are left out of that average so that a long
//!   brake does not tilt it. It is re-estimated at every instant over a centred 30 s
//!   window, which follows road grades and a holder being moved.
//! - **Forward axis and sign.** Gathered as evidence vectors in the device frame and summed
//!   over a centred 10-minute window (the whole drive when that window holds too little),
//!   so the estimate keeps improving and follows a re-mounted camera (within about five
//!   minutes of the change). By preference:
//!   1. *GPS speed*: the horizontal acceleration correlates with the rate of change of
//!      speed along the forward axis only (`Σ dv/dt · a_h`). Needs some speed change.
//!   2. *Gyroscope*: in a turn the lateral acceleration `v·ω` points to the turn's centre,
//!      i.e. to the left when the yaw rate `ω` (about the up axis) is positive, and
//!      `left × up = forward`. So `Σ ω · (a_h × up)` points forward, every turn adding a
//!      positive `v·ω²` term whatever its direction, while braking and accelerating in
//!      a straight line add nothing (`ω ≈ 0`). Needs some turning.
//!   3. *Accelerometer only: road noise*. Tyres on the road and the body's shake on its
//!      springs grow with speed, so the size of the accelerometer's fast shake (the
//!      median step from one sample to the next, per second, which any mount reads the
//!      same) is a speed gauge without a scale: it falls through a brake and rises
//!      through a launch. `Σ Δln(noise) · a_h` then points forward like the speed's
//!      correlation: a brake adds (backward force) × (falling noise), a launch (forward)
//!      × (rising), and a turn at steady speed nothing. Only changes beyond what the
//!      noise does across any second of the same drive count (its median change, and no
//!      less than the sampling error of the medians), so a road's own roughness, a
//!      pothole or a synthetic signal with a constant shake gives no evidence. A turn
//!      still adds some: drivers slow into it and speed up out of it while it pulls
//!      sideways, and a run of turns one way (one city block after another) would swing
//!      a ten-minute window by tens of degrees, so this evidence is summed over the whole
//!      drive, never a local window: an accelerometer-only camera re-mounted mid-drive
//!      is followed only with GPS speed.
//!   4. *Accelerometer only, a road without evidence* (weakest): braking is harder and
//!      shorter than accelerating, so the longitudinal acceleration has a long negative
//!      tail while the lateral one is roughly symmetric. Forward is taken as the
//!      horizontal direction of most negative skewness, over the whole drive. A frame
//!      that gives each brake back as a "launch" (a mount pitching) makes the
//!      longitudinal tail symmetric, and then skewness can pick the lateral axis.
//!
//!   With a gyroscope, the axis found so is then refined: while the car drives straight
//!   (yaw rate under 3°/s) its horizontal acceleration is braking and accelerating, along
//!   the forward axis, so the axis of largest spread of those samples is the forward axis.
//!   A few power iterations start from the estimate above (which keeps its sign); where
//!   the spread has no main axis (its cross-axis variance over half the main one's, e.g.
//!   a holder that lets the device swing, or a drive with little straight-line speed
//!   change) the estimate stays where it was.
//!
//!   The local estimate keeps its own sign (a camera turned round) only where its
//!   evidence lies along the refined axis; evidence nearly across it says little about
//!   which way the car faces, and the whole drive's sign is kept.
//!
//!   With none of these (a parked car, a constant signal), the forward axis is unknown and
//!   only orientation-free events (collisions) are reported.

use crate::force::Force;
use crate::signal::{
    block_sums, from_blocks, moving_average, resample, resample_speed, Grid, Prefix,
};
use crate::thresholds::Thresholds;
use crate::trace::{median, Trace};
use crate::vector::{add, cross, dot, norm, reject, scale, sub, unit, V3};
use serde::{Deserialize, Serialize};

/// Window of the gravity estimate, s.
const GRAVITY_WINDOW_S: f64 = 30.0;
/// Dynamics above this (m/s², about 0.1 g) keep a sample out of the gravity estimate.
const QUIET_ACCEL: f64 = 1.0;
/// Yaw rates above this (rad/s) keep a sample out of the gravity estimate.
const QUIET_GYRO: f64 = 0.1;
/// Window of the forward-axis estimate, s.
const FORWARD_WINDOW_S: f64 = 600.0;
/// Gyroscope evidence needed (∫ ω·a dt, m·rad/s²): one moderate turn gives a few units.
const MIN_GYRO_EVIDENCE: f64 = 1.0;
/// Speed evidence needed (∫ dv/dt · a dt, m²/s³): a gentle launch to 30 km/h gives ~10.
const MIN_SPEED_EVIDENCE: f64 = 5.0;
/// Yaw rate under which the car counts as driving straight, rad/s (3°/s).
const STRAIGHT_YAW: f64 = 0.05;
/// Evidence and the gravity estimate are summed per block of this many seconds: they
/// change over minutes, so per-second sums lose nothing and cost a fiftieth.
const BLOCK_S: f64 = 1.0;
/// Power iterations refining the forward axis.
const POWER_STEPS: usize = 3;
/// The refinement is used only where the straight-driving spread has a main axis: its
/// cross-axis variance at most this share of the main axis's. Braking and accelerating
/// make that spread nearly one-dimensional (measured: 0.05 over a real trip); a spread as
/// wide one way as the other (ratio near 1) has no defined main axis, and its eigenvector
/// would only point the forward axis at noise.
const MAX_CROSS_SPREAD: f64 = 0.5;
/// Largest angle between the local evidence and the refined axis at which the evidence
/// still gives the axis its sign, degrees.
const MAX_SIGN_ANGLE_DEG: f64 = 60.0;
/// Normalised skewness the accelerometer-only estimate needs along the forward axis.
const MIN_SKEW: f64 = 0.1;
/// Road-noise evidence needed (∫ a_h · Δln(noise) dt, m/s): one hard brake, 4 m/s² for
/// 2 s while the noise halves, gives about 5.
const MIN_NOISE_EVIDENCE: f64 = 1.0;
/// Time either side of an instant between which the road noise's change is taken, s: a
/// brake or a launch lasts one to a few seconds, and the noise is measured per second.
const NOISE_SPAN_S: f64 = 2.0;
/// Floor of the road noise before its logarithm, m/s²: a phone or dashcam accelerometer's
/// own noise is a few hundredths of a m/s², so below it standing still and crawling count
/// as the same low level rather than as ever larger changes of a logarithm.
const MIN_NOISE: f64 = 0.03;

/// Which evidence fixed the forward axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ForwardSource {
    /// Correlation of horizontal acceleration with GPS speed changes.
    Speed,
    /// Lateral acceleration in turns together with the yaw rate.
    Gyro,
    /// Skewness of the horizontal acceleration (braking is harder than accelerating):
    /// the last resort, accelerometer only and no road noise change to go by.
    Skew,
    /// Horizontal acceleration together with the change of the road noise, which grows
    /// with speed (accelerometer only).
    RoadNoise,
}

/// The car's axes in the device frame, as estimated over the whole trace.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Orientation {
    /// Unit vector pointing up (against gravity), device axes.
    pub up: [f64; 3],
    /// Unit vector pointing to the car's front, device axes.
    pub forward: [f64; 3],
    /// What the forward axis was estimated from.
    pub source: ForwardSource,
}

/// One gap-free stretch of the trace on a uniform grid, in the device frame.
pub(crate) struct Segment {
    pub grid: Grid,
    /// Accelerometer averaged per grid cell (impulses kept).
    pub accel: Vec<V3>,
    /// Unit vector up (along gravity as an accelerometer at rest reads it).
    pub up: Vec<V3>,
    /// Smoothed acceleration less gravity.
    pub dynamic: Vec<V3>,
    /// The horizontal force the accelerometer's magnitude tells (the `force` module).
    pub force: Force,
    /// Smoothed yaw rate about the up axis, rad/s, when there is a gyroscope.
    pub yaw: Option<Vec<f64>>,
    /// Ground speed, m/s, where known.
    pub speed: Option<Vec<Option<f64>>>,
    /// Logarithm of the road noise per block of [`BLOCK_S`] (see [`road_noise`]).
    road_noise: Vec<f64>,
    /// Size of a change of `road_noise` that tells a change of speed (see
    /// [`Segment::noise_change`]).
    noise_tolerance: f64,
    /// The camera's parked spans (see [`Trace::parked`]).
    parked: Vec<[f64; 2]>,
}

/// A segment's acceleration along the car's axes.
pub(crate) struct CarAxes {
    /// Along the forward axis, m/s² (negative when braking).
    pub long: Vec<f64>,
    /// Along the left axis, m/s² (positive in a left turn).
    pub lat: Vec<f64>,
}

impl Segment {
    /// Resamples the trace between `start` and `end` and estimates gravity on it.
    pub fn new(trace: &Trace, start: f64, end: f64, thresholds: &Thresholds) -> Option<Segment> {
        let grid = Grid::covering(start, end);
        let accel = resample(&trace.accel, &grid)?;
        let smooth_half = grid.steps(thresholds.smoothing_s / 2.0);
        let smooth = moving_average(&accel, smooth_half);
        let gyro = resample(&trace.gyro, &grid).map(|g| moving_average(&g, smooth_half));
        let gravity = estimate_gravity(&smooth, gyro.as_deref(), &grid);
        let force = Force::new(&smooth, &grid);
        // An hour is 180 000 samples a vector: each is turned into the next in place.
        let mut dynamic = smooth;
        for (a, &g) in dynamic.iter_mut().zip(&gravity) {
            *a = sub(*a, g);
        }
        let up: Vec<V3> = gravity
            .into_iter()
            .map(|g| unit(g).unwrap_or([0.0, 0.0, 1.0]))
            .collect();
        let yaw = gyro.map(|gyro| gyro.into_iter().zip(&up).map(|(w, &u)| dot(w, u)).collect());
        let road_noise = road_noise(&accel, grid.steps(BLOCK_S));
        // Independent samples in a span: the input's, when it is slower than the grid.
        let first = trace.accel.partition_point(|s| s.t < start);
        let count = trace.accel.partition_point(|s| s.t <= end) - first;
        let rate = count as f64 / (end - start).max(grid.dt);
        let span_samples = grid.steps(NOISE_SPAN_S).min((rate * NOISE_SPAN_S) as usize);
        Some(Segment {
            noise_tolerance: noise_tolerance(&road_noise, span_samples),
            road_noise,
            force,
            parked: trace.parked.clone(),
            speed: resample_speed(&trace.speed, &grid),
            grid,
            accel,
            up,
            dynamic,
            yaw,
        })
    }

    /// Whether the camera said it was parked at sample `i`.
    pub fn parking_mode(&self, i: usize) -> bool {
        let t = self.grid.time(i);
        self.parked.iter().any(|&[a, b]| a <= t && t <= b)
    }

    /// How much the road noise's logarithm rose across samples `start..=end`: its mean
    /// over the [`NOISE_SPAN_S`] after less its mean over as long before, the after
    /// span starting a block ([`BLOCK_S`]) past the end, once the body has settled: a car
    /// pitches on its springs at one to two hertz, so a brake or a launch sets it
    /// swinging for about a second, which a slow sensor (a 10 Hz `.3gf`) reads as more
    /// noise. The noise grows with speed, so without GPS speed this says whether the car
    /// sped up or slowed down; but only a change beyond what the noise does across any
    /// instant of this drive (its median, and no less than the sampling error of the two
    /// means) says it. `None` when the change is within that, or the segment does not
    /// reach that far.
    pub fn noise_change(&self, start: usize, end: usize) -> Option<f64> {
        let block = self.block();
        let settled = end / block + 1;
        let change = noise_step(&self.road_noise, start / block, settled)?;
        (change.abs() > self.noise_tolerance).then_some(change)
    }

    fn up(&self, i: usize) -> V3 {
        self.up.get(i).copied().unwrap_or([0.0, 0.0, 1.0])
    }

    /// Samples per evidence block.
    fn block(&self) -> usize {
        self.grid.steps(BLOCK_S)
    }

    /// Gyroscope evidence of the forward axis, summed per block (see the module doc).
    fn gyro_evidence(&self) -> Option<Vec<V3>> {
        let yaw = self.yaw.as_ref()?;
        let per_sample = self.dynamic.iter().zip(&self.up).zip(yaw);
        Some(block_sums(
            per_sample.map(|((&a, &up), &w)| scale(cross(a, up), w * self.grid.dt)),
            self.block(),
        ))
    }

    /// Speed evidence of the forward axis, summed per block (see the module doc).
    fn speed_evidence(&self) -> Option<Vec<V3>> {
        let speed = self.speed.as_ref()?;
        let h = self.grid.steps(0.5);
        let per_sample = (0..self.grid.n).map(|i| {
            let before = speed.get(i.saturating_sub(h)).copied().flatten();
            let after = speed.get(i + h).copied().flatten();
            match (before, after) {
                (Some(a), Some(b)) => {
                    let dvdt = (b - a) / (2 * h) as f64 / self.grid.dt;
                    scale(reject(self.dynamic[i], self.up(i)), dvdt * self.grid.dt)
                }
                _ => [0.0; 3],
            }
        });
        Some(block_sums(per_sample, self.block()))
    }

    /// Road-noise evidence of the forward axis, summed per block (see the module doc):
    /// the horizontal acceleration, no larger than the frame-free force, times the change
    /// of the road noise's logarithm from [`NOISE_SPAN_S`] before its block to as long
    /// after, where that change is beyond the drive's ordinary one (else nothing).
    fn noise_evidence(&self) -> Option<Vec<V3>> {
        let block = self.block();
        let changes: Vec<f64> = (0..self.road_noise.len())
            .map(|b| {
                noise_step(&self.road_noise, b, b)
                    .filter(|c| c.abs() > self.noise_tolerance)
                    .unwrap_or(0.0)
            })
            .collect();
        let per_sample = (0..self.grid.n).map(|i| {
            let change = changes.get(i / block).copied().unwrap_or(0.0);
            let h = reject(self.dynamic[i], self.up(i));
            let size = norm(h);
            let bound = self.force.bound.get(i).copied().unwrap_or(0.0);
            let h = if size > bound && size > 0.0 {
                scale(h, bound / size)
            } else {
                h
            };
            scale(h, change * self.grid.dt)
        });
        Some(block_sums(per_sample, block))
    }

    /// Spread (outer product) of the horizontal acceleration while driving straight,
    /// summed per block; zero without a gyroscope.
    fn straight_spread(&self) -> Vec<Sym3> {
        let Some(yaw) = &self.yaw else {
            return vec![[0.0; 6]; self.grid.n.div_ceil(self.block())];
        };
        let per_sample = self
            .dynamic
            .iter()
            .zip(&self.up)
            .zip(yaw)
            .map(|((&a, &up), &w)| {
                if w.abs() >= STRAIGHT_YAW {
                    return [0.0; 6];
                }
                let [x, y, z] = reject(a, up);
                [x * x, x * y, x * z, y * y, y * z, z * z].map(|v| v * self.grid.dt)
            });
        block_sums(per_sample, self.block())
    }
}

/// The road noise per block of `block` samples: the logarithm of the median size of the
/// accelerometer's change from one sample to the next (a size, so any mount gives the
/// same), floored at [`MIN_NOISE`]. Tyres on the road and the body's shake on its
/// springs grow with speed, so the noise falls through a brake and rises through a
/// launch, while a turn at steady speed leaves it where it was. A manoeuvre, even one
/// that sets in at once, moves the accelerometer in one step, and a pothole or a knock
/// in a few: the median of the steps leaves both out and keeps the shake.
fn road_noise(accel: &[V3], block: usize) -> Vec<f64> {
    let block = block.max(1);
    let mut steps = Vec::with_capacity(block);
    let mut out = Vec::with_capacity(accel.len() / block + 1);
    for start in (0..accel.len().saturating_sub(1)).step_by(block) {
        let end = (start + block).min(accel.len() - 1);
        steps.clear();
        // Squared sizes: the median of the squares is the square of the median.
        steps.extend((start..end).map(|i| {
            let d = sub(accel[i + 1], accel[i]);
            dot(d, d)
        }));
        out.push(median(&mut steps).sqrt().max(MIN_NOISE).ln());
    }
    out
}

/// The mean of `noise` over the [`NOISE_SPAN_S`] of blocks after block `last` less its
/// mean over as long before block `first`; `None` when the blocks do not reach that far.
fn noise_step(noise: &[f64], first: usize, last: usize) -> Option<f64> {
    let span = (NOISE_SPAN_S / BLOCK_S).round() as usize;
    let before = noise.get(first.checked_sub(span)?..first)?;
    let after = noise.get(last + 1..last + 1 + span)?;
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    Some(mean(after) - mean(before))
}

/// The change of the road noise's logarithm that tells a change of speed: the median
/// size of its change across every block of the drive (what the road's own roughness
/// does from one moment to the next), and no less than the sampling error of that
/// change when the noise is the same on both sides (the median size of `n` samples of
/// Gaussian noise is off by about `1.17/√n` of itself, and the change is the
/// difference of two such, over `samples` independent samples each side).
fn noise_tolerance(noise: &[f64], samples: usize) -> f64 {
    let mut steps: Vec<f64> = (0..noise.len())
        .filter_map(|b| noise_step(noise, b, b).map(f64::abs))
        .collect();
    median(&mut steps).max(1.17 * (2.0 / samples.max(1) as f64).sqrt())
}

/// Two passes of a centred moving average over one-second block means; the second
/// leaves out manoeuvres. Interpolated back to every sample.
fn estimate_gravity(smooth: &[V3], gyro: Option<&[V3]>, grid: &Grid) -> Vec<V3> {
    let block = grid.steps(BLOCK_S);
    let half = ((GRAVITY_WINDOW_S / 2.0) / BLOCK_S).round() as usize;
    let sums = block_sums(smooth.iter().copied(), block);
    let means: Vec<V3> = sums
        .iter()
        .enumerate()
        .map(|(b, &sum)| {
            let count = block.min(smooth.len().saturating_sub(b * block)).max(1);
            scale(sum, 1.0 / count as f64)
        })
        .collect();
    let rough = moving_average(&means, half);
    let mut quiet_sums = vec![[0.0; 3]; rough.len()];
    let mut quiet_counts = vec![0.0; rough.len()];
    for (i, &a) in smooth.iter().enumerate() {
        let b = i / block;
        let (Some(&r), Some(sum), Some(count)) =
            (rough.get(b), quiet_sums.get_mut(b), quiet_counts.get_mut(b))
        else {
            continue;
        };
        let still = norm(sub(a, r)) < QUIET_ACCEL;
        let straight = gyro
            .and_then(|g| g.get(i))
            .is_none_or(|&w| norm(w) < QUIET_GYRO);
        if still && straight {
            *sum = add(*sum, a);
            *count += 1.0;
        }
    }
    let weighted = Prefix::new(quiet_sums.into_iter());
    let weights = Prefix::new(quiet_counts.into_iter());
    let min_weight = block as f64;
    let gravity: Vec<V3> = rough
        .iter()
        .enumerate()
        .map(|(b, &r)| {
            let (sum, _) = weighted.window(b, half);
            let (weight, _) = weights.window(b, half);
            if weight >= min_weight {
                scale(sum, 1.0 / weight)
            } else {
                r
            }
        })
        .collect();
    from_blocks(&gravity, block, smooth.len())
}

/// Evidence of one kind for all segments, as prefix sums over their concatenation.
struct Evidence {
    prefix: Prefix<V3>,
    /// Sum of the evidence's magnitudes, whatever their directions.
    strength: f64,
    min: f64,
}

impl Evidence {
    /// `None` when no segment has the stream this evidence comes from.
    fn gather(
        segments: &[Segment],
        f: impl Fn(&Segment) -> Option<Vec<V3>>,
        min: f64,
    ) -> Option<Evidence> {
        let parts: Vec<Option<Vec<V3>>> = segments.iter().map(f).collect();
        if parts.iter().all(Option::is_none) {
            return None;
        }
        let all: Vec<V3> = parts
            .into_iter()
            .zip(segments)
            .flat_map(|(part, s)| {
                part.unwrap_or_else(|| vec![[0.0; 3]; s.grid.n.div_ceil(s.block())])
            })
            .collect();
        Some(Evidence {
            strength: all.iter().map(|&e| norm(e)).sum(),
            prefix: Prefix::new(all.into_iter()),
            min,
        })
    }

    fn enough(&self, sum: V3, up: V3) -> Option<V3> {
        let horizontal = reject(sum, up);
        (norm(horizontal) >= self.min).then_some(horizontal)
    }
}

/// Projects every segment on the car's axes; `None` when the forward axis is unknown.
pub(crate) fn car_axes(segments: &[Segment]) -> Option<(Vec<CarAxes>, Orientation)> {
    let speed = Evidence::gather(segments, Segment::speed_evidence, MIN_SPEED_EVIDENCE);
    let gyro = Evidence::gather(segments, Segment::gyro_evidence, MIN_GYRO_EVIDENCE);
    let up = mean_up(segments)?;
    // A source is usable when it holds enough evidence, even if opposite halves of the
    // drive cancel in its total (a camera turned round): local windows then decide
    // (not for the road noise, whose local windows a run of turns one way biases).
    let usable = |e: Option<Evidence>| e.filter(|e| e.strength >= e.min);
    // The road noise is gathered only when neither of the better sources has evidence.
    let noise = || Evidence::gather(segments, Segment::noise_evidence, MIN_NOISE_EVIDENCE);
    let (evidence, source) = match (usable(speed), usable(gyro)) {
        (Some(e), _) => (Some(e), ForwardSource::Speed),
        (None, Some(e)) => (Some(e), ForwardSource::Gyro),
        (None, None) => match usable(noise()) {
            Some(e) => (Some(e), ForwardSource::RoadNoise),
            None => (None, ForwardSource::Skew),
        },
    };
    let global = match &evidence {
        Some(e) => unit(reject(e.prefix.total(), up)),
        None => None,
    };
    let global = match global {
        Some(g) => g,
        None => skew_forward(segments, up)?,
    };
    let orientation = Orientation {
        up,
        forward: unit(reject(global, up))?,
        source,
    };
    let spread = segments.iter().any(|s| s.yaw.is_some()).then(|| {
        let all: Vec<Sym3> = segments.iter().flat_map(Segment::straight_spread).collect();
        Prefix::new(all.into_iter())
    });
    let refine = |sum: Option<Sym3>, up: V3, seed: V3| match sum {
        Some(sum) => principal_axis(&sum, up, seed),
        None => seed,
    };
    let orientation = Orientation {
        forward: refine(spread.as_ref().map(Prefix::total), up, orientation.forward),
        ..orientation
    };
    // Evidence is in blocks of BLOCK_S seconds, concatenated over the segments.
    let half = ((FORWARD_WINDOW_S / 2.0) / BLOCK_S).round() as usize;
    let mut offset = 0;
    let axes = segments
        .iter()
        .map(|segment| {
            let (n, block) = (segment.grid.n, segment.block());
            let mut long = Vec::with_capacity(n);
            let mut lat = Vec::with_capacity(n);
            let mut estimate = orientation.forward;
            for i in 0..n {
                let up = segment.up(i);
                // The estimate moves over minutes: refresh it once a block.
                if i % block == 0 {
                    let k = offset + i / block;
                    let local = evidence
                        .as_ref()
                        .filter(|_| source != ForwardSource::RoadNoise)
                        .and_then(|e| e.enough(e.prefix.window(k, half).0, up));
                    let seed =
                        unit(reject(local.unwrap_or(global), up)).unwrap_or(orientation.forward);
                    let axis = refine(spread.as_ref().map(|p| p.window(k, half).0), up, seed);
                    estimate = signed(axis, seed, orientation.forward);
                }
                let forward = unit(reject(estimate, up)).unwrap_or(orientation.forward);
                let left = cross(up, forward);
                let a = segment.dynamic[i];
                long.push(dot(a, forward));
                lat.push(dot(a, left));
            }
            offset += n.div_ceil(block);
            CarAxes { long, lat }
        })
        .collect();
    Some((axes, orientation))
}

/// `axis` with the sign of the local evidence `seed` when that evidence lies along it
/// (within [`MAX_SIGN_ANGLE_DEG`]), else with the sign of the whole drive's `forward`:
/// evidence that points nearly across the axis says little about which way along it the
/// car faces, and a few minutes of it (on one drive, turns whose lateral pull a leaning
/// frame gives back reversed) would otherwise turn the axis round.
fn signed(axis: V3, seed: V3, forward: V3) -> V3 {
    let along = dot(axis, seed) / (norm(axis) * norm(seed)).max(f64::MIN_POSITIVE);
    let reference = if along.abs() >= MAX_SIGN_ANGLE_DEG.to_radians().cos() {
        seed
    } else {
        forward
    };
    if dot(axis, reference) < 0.0 {
        scale(axis, -1.0)
    } else {
        axis
    }
}

/// A symmetric 3×3 matrix as `[xx, xy, xz, yy, yz, zz]`.
type Sym3 = [f64; 6];

/// The horizontal axis along which `spread` is largest, found by a few power iterations
/// from `seed` (so that without a clear main axis it stays near the seed), with the sign
/// of `seed`; `seed` itself when the horizontal spread has no main axis
/// ([`MAX_CROSS_SPREAD`]).
fn principal_axis(spread: &Sym3, up: V3, seed: V3) -> V3 {
    let [xx, xy, xz, yy, yz, zz] = *spread;
    let quadratic = |a: V3, b: V3| {
        a[0] * (xx * b[0] + xy * b[1] + xz * b[2])
            + a[1] * (xy * b[0] + yy * b[1] + yz * b[2])
            + a[2] * (xz * b[0] + yz * b[1] + zz * b[2])
    };
    let Some(e1) = unit(reject(seed, up)) else {
        return seed;
    };
    let e2 = cross(up, e1);
    // Eigenvalues of the spread restricted to the horizontal plane.
    let (a, b, c) = (quadratic(e1, e1), quadratic(e1, e2), quadratic(e2, e2));
    let half_gap = (((a - c) / 2.0).powi(2) + b * b).sqrt();
    let (major, minor) = ((a + c) / 2.0 + half_gap, (a + c) / 2.0 - half_gap);
    if !(major > 0.0 && minor <= MAX_CROSS_SPREAD * major) {
        return seed;
    }
    let mut v = seed;
    for _ in 0..POWER_STEPS {
        let product = [
            xx * v[0] + xy * v[1] + xz * v[2],
            xy * v[0] + yy * v[1] + yz * v[2],
            xz * v[0] + yz * v[1] + zz * v[2],
        ];
        match unit(reject(product, up)) {
            Some(next) if dot(next, seed) >= 0.0 => v = next,
            Some(next) => v = scale(next, -1.0),
            None => return seed,
        }
    }
    v
}

fn mean_up(segments: &[Segment]) -> Option<V3> {
    let sum = segments
        .iter()
        .flat_map(|s| s.up.iter())
        .fold([0.0; 3], |acc, &g| crate::vector::add(acc, g));
    unit(sum)
}

/// Accelerometer-only forward axis: the horizontal direction of most negative skewness.
fn skew_forward(segments: &[Segment], up: V3) -> Option<V3> {
    let seed = if up[0].abs() < 0.9 {
        [1.0, 0.0, 0.0]
    } else {
        [0.0, 1.0, 0.0]
    };
    let e1 = unit(reject(seed, up))?;
    let e2 = cross(up, e1);
    // Second and third moments of (h1, h2) = components on (e1, e2).
    let mut m = [0.0f64; 7];
    for a in segments.iter().flat_map(|s| s.dynamic.iter()) {
        let (x, y) = (dot(*a, e1), dot(*a, e2));
        let terms = [
            x * x,
            x * y,
            y * y,
            x * x * x,
            x * x * y,
            x * y * y,
            y * y * y,
        ];
        for (acc, t) in m.iter_mut().zip(terms) {
            *acc += t;
        }
    }
    let (best_angle, best_skew) = (0..360)
        .map(|deg| {
            let (s, c) = f64::from(deg).to_radians().sin_cos();
            let m2 = c * c * m[0] + 2.0 * c * s * m[1] + s * s * m[2];
            let m3 = c * c * c * m[3]
                + 3.0 * c * c * s * m[4]
                + 3.0 * c * s * s * m[5]
                + s * s * s * m[6];
            let skew = if m2 > 0.0 { m3 / m2.powf(1.5) } else { 0.0 };
            (f64::from(deg).to_radians(), skew)
        })
        .fold((0.0, f64::INFINITY), |best, cand| {
            if cand.1 < best.1 {
                cand
            } else {
                best
            }
        });
    let count = segments.iter().map(|s| s.grid.n).sum::<usize>() as f64;
    // Skewness of a sum over `count` samples: normalise to a per-sample value.
    (best_skew * count.sqrt() <= -MIN_SKEW).then(|| {
        let (s, c) = best_angle.sin_cos();
        crate::vector::add(scale(e1, c), scale(e2, s))
    })
}

#[cfg(test)]
mod tests {
    use super::principal_axis;
    use crate::vector::dot;

    #[test]
    fn the_main_axis_is_used_only_when_there_is_one() {
        let up = [0.0, 0.0, 1.0];
        let seed = [0.8, 0.6, 0.0];
        // Spread along x only (braking and accelerating): the refinement turns to x,
        // keeping the seed's sign.
        let along_x = [4.0, 0.0, 0.0, 0.1, 0.0, 0.0];
        let refined = principal_axis(&along_x, up, seed);
        assert!(dot(refined, [1.0, 0.0, 0.0]) > 0.99, "{refined:?}");
        // As wide one way as the other: no main axis, the seed stays.
        let round = [4.0, 0.0, 0.0, 3.5, 0.0, 0.0];
        assert_eq!(principal_axis(&round, up, seed), seed);
    }
}
