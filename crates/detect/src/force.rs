//! The horizontal force as the accelerometer's magnitude tells it, whatever its frame.
//!
//! A projection on estimated car axes is only as good as the frame it is taken in: a
//! windshield mount pitches under braking, a phone's own Earth frame leans toward the
//! braking direction (the real data set's does by 25°), and either moves part of the
//! horizontal force into the vertical and back, which reads as a short brake followed by
//! a spurious launch. The magnitude of the specific force does not depend on any frame:
//! with a horizontal force `h` and no vertical one, `|a|² = g² + h²`. So
//! `√(|a|² − g₀²)` (with `g₀` the magnitude the accelerometer reads at rest) bounds what a
//! projection may claim: a "launch" right after a brake with no force behind it is the
//! frame moving back, not the car. Sample by sample the bound is loose upward (road bumps
//! add vertical force, and the square root turns a 0.05 g excess into 0.3 g), so as a
//! bound it only ever lowers a projection, never raises one.
//!
//! Averaged, the magnitude also tells a force a leaning frame hides from every
//! projection: a vertical acceleration `v` adds `2·g₀·v + v²` to `|a|² − g₀²`, and road
//! motion is zero-mean over a second, so the mean of `|a|² − g₀²` over a second keeps a
//! sustained horizontal force and only the small variance of the road's motion. What
//! ordinary driving still leaves in it (a grade change, a rough surface) is measured
//! around each instant and taken off ([`Force::sustained`]); the manoeuvre module
//! raises projections to that only where the yaw rate says which way it points.

use crate::signal::{block_sums, Grid, Prefix};
use crate::trace::median;
use crate::vector::{norm, V3};

/// Block over which the magnitude is averaged before the running median, s.
const BLOCK_S: f64 = 1.0;
/// Half-width of the running median that is the magnitude at rest, s: long enough that a
/// manoeuvre (a few seconds) is outvoted, short enough to follow a sensor's drift.
const BASELINE_HALF_S: f64 = 15.0;
/// Window over which `|a|² − g₀²` is averaged before its square root, s. A vertical
/// acceleration `v` adds `2·g₀·v + v²` to it: road motion is zero-mean over a second, so
/// its large linear term averages out and only its small variance stays, where the square
/// root of each sample alone would turn 0.25 m/s² of it into 0.22 g of "force".
const SQUARE_AVERAGE_S: f64 = 1.0;

/// The horizontal force at each sample of the smoothed accelerometer `smooth`, m/s².
pub(crate) struct Force {
    /// `√(|a|² − g₀²)`, where `g₀` is the running median of the magnitude (zero where the
    /// magnitude is below it): what bounds a projection.
    pub bound: Vec<f64>,
    /// The force sustained over [`SQUARE_AVERAGE_S`] beyond ordinary driving's: what a
    /// frame leaning into the force cannot hide (see [`Force::new`]).
    pub sustained: Vec<f64>,
}

impl Force {
    /// `bound` per sample. `sustained` is `√(⟨|a|² − g₀²⟩ − n)`: the excess averaged over
    /// [`SQUARE_AVERAGE_S`], less `n`, the running median (over the baseline's window) of
    /// that average's size per block, which is what ordinary driving's vertical motion and
    /// road grade leave in it; so a second of the road's usual shaking reads as no force.
    pub fn new(smooth: &[V3], grid: &Grid) -> Force {
        let block = grid.steps(BLOCK_S);
        let magnitudes: Vec<f64> = smooth.iter().map(|&a| norm(a)).collect();
        let block_means = |values: &[f64]| -> Vec<f64> {
            block_sums(values.iter().copied(), block)
                .iter()
                .enumerate()
                .map(|(b, &sum)| sum / block.min(values.len() - b * block) as f64)
                .collect()
        };
        let baseline = running_median(&block_means(&magnitudes));
        // The magnitudes become the excess, then the bound, in place.
        let mut excess = magnitudes;
        for (i, m) in excess.iter_mut().enumerate() {
            let g0 = baseline.get(i / block).copied().unwrap_or(*m);
            *m = *m * *m - g0 * g0;
        }
        let sums = Prefix::new(excess.iter().copied());
        let half = grid.steps(SQUARE_AVERAGE_S / 2.0);
        let mut sustained: Vec<f64> = (0..excess.len())
            .map(|i| {
                let (sum, count) = sums.window(i, half);
                sum / count.max(1) as f64
            })
            .collect();
        let sizes: Vec<f64> = block_means(&sustained).iter().map(|e| e.abs()).collect();
        let noise = running_median(&sizes);
        for (i, e) in sustained.iter_mut().enumerate() {
            let n = noise.get(i / block).copied().unwrap_or(0.0);
            *e = (*e - n).max(0.0).sqrt();
        }
        for e in &mut excess {
            *e = e.max(0.0).sqrt();
        }
        Force {
            bound: excess,
            sustained,
        }
    }
}

/// Running median of per-block values over [`BASELINE_HALF_S`] either side.
fn running_median(values: &[f64]) -> Vec<f64> {
    let half = (BASELINE_HALF_S / BLOCK_S).round() as usize;
    (0..values.len())
        .map(|b| {
            let mut window =
                values[b.saturating_sub(half)..(b + half + 1).min(values.len())].to_vec();
            median(&mut window)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::Force;
    use crate::signal::Grid;

    #[test]
    fn the_force_is_the_magnitude_beyond_rest_in_any_frame() {
        let grid = Grid::covering(0.0, 60.0);
        let g = 9.8;
        // At rest for a minute but for 3 s of 0.4 g braking at 30 s, seen in a frame that
        // leans with it (so the projection would show almost nothing).
        let smooth: Vec<[f64; 3]> = (0..grid.n)
            .map(|i| {
                let t = grid.time(i);
                let h = if (30.0..33.0).contains(&t) {
                    0.4 * g
                } else {
                    0.0
                };
                let lean: f64 = if h > 0.0 { 0.35 } else { 0.0 };
                let (s, c) = lean.sin_cos();
                [-h * c + g * s, 0.0, h * s + g * c]
            })
            .collect();
        let force = Force::new(&smooth, &grid).bound;
        let at = |t: f64| force[grid.index(t)];
        assert!((at(31.5) - 0.4 * g).abs() < 0.05, "{}", at(31.5));
        assert!(at(10.0) < 1e-6 && at(50.0) < 1e-6);
        assert!(Force::new(&[], &grid).bound.is_empty());
    }
}
