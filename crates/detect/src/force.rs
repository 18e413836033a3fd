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
//! frame moving back, not the car. The bound is loose upward (road bumps add vertical
//! force, and the square root turns a 0.05 g excess into 0.3 g), so it only ever lowers a
//! projection, never raises one.

use crate::signal::{block_sums, Grid};
use crate::trace::median;
use crate::vector::{norm, V3};

/// Block over which the magnitude is averaged before the running median, s.
const BLOCK_S: f64 = 1.0;
/// Half-width of the running median that is the magnitude at rest, s: long enough that a
/// manoeuvre (a few seconds) is outvoted, short enough to follow a sensor's drift.
const BASELINE_HALF_S: f64 = 15.0;

/// `√(|a|² − g₀²)` at each sample of the smoothed accelerometer `smooth`, m/s², where
/// `g₀` is the running median of the magnitude (zero where the magnitude is below it).
pub(crate) fn horizontal_force(smooth: &[V3], grid: &Grid) -> Vec<f64> {
    let block = grid.steps(BLOCK_S);
    let magnitudes: Vec<f64> = smooth.iter().map(|&a| norm(a)).collect();
    let means: Vec<f64> = block_sums(magnitudes.iter().copied(), block)
        .iter()
        .enumerate()
        .map(|(b, &sum)| sum / block.min(magnitudes.len() - b * block) as f64)
        .collect();
    let half = (BASELINE_HALF_S / BLOCK_S).round() as usize;
    let baseline: Vec<f64> = (0..means.len())
        .map(|b| {
            let mut window =
                means[b.saturating_sub(half)..(b + half + 1).min(means.len())].to_vec();
            median(&mut window)
        })
        .collect();
    magnitudes
        .iter()
        .enumerate()
        .map(|(i, &m)| {
            let g0 = baseline.get(i / block).copied().unwrap_or(m);
            (m * m - g0 * g0).max(0.0).sqrt()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::horizontal_force;
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
        let force = horizontal_force(&smooth, &grid);
        let at = |t: f64| force[grid.index(t)];
        assert!((at(31.5) - 0.4 * g).abs() < 0.05, "{}", at(31.5));
        assert!(at(10.0) < 1e-6 && at(50.0) < 1e-6);
        assert!(horizontal_force(&[], &grid).is_empty());
    }
}
