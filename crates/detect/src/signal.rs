//! Uniform time grids, resampling onto them and moving averages: the signal plumbing
//! that lets the detector treat any input rate and any gaps the same way.

use crate::trace::SpeedSample;
use crate::vector::{add, scale, sub, V3};
use dashvault_media::telemetry::Vec3Sample;

/// Rate of the internal grid: enough for 20 ms impulses, cheap for hours of data.
pub(crate) const GRID_HZ: f64 = 50.0;
/// A silence longer than this in the accelerometer splits the trace into segments.
pub(crate) const MAX_GAP_S: f64 = 1.0;
/// Speed is interpolated between fixes at most this far apart, s.
const MAX_SPEED_GAP_S: f64 = 3.0;

/// `n` instants `t0 + i·dt`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Grid {
    pub t0: f64,
    pub dt: f64,
    pub n: usize,
}

impl Grid {
    /// A grid covering `[start, end]` at [`GRID_HZ`].
    pub fn covering(start: f64, end: f64) -> Grid {
        let dt = 1.0 / GRID_HZ;
        let n = ((end - start) / dt).floor().max(0.0) as usize + 1;
        Grid { t0: start, dt, n }
    }

    pub fn time(&self, i: usize) -> f64 {
        self.t0 + i as f64 * self.dt
    }

    /// Index nearest to `t`, clamped into the grid.
    pub fn index(&self, t: f64) -> usize {
        // `as` saturates (NaN and negatives give 0); adding a half rounds to nearest.
        let i = ((t - self.t0) / self.dt + 0.5) as usize;
        i.min(self.n.saturating_sub(1))
    }

    /// Number of grid steps in `seconds` (at least one).
    pub fn steps(&self, seconds: f64) -> usize {
        ((seconds / self.dt).round() as usize).max(1)
    }
}

/// Splits time-ordered samples into runs with no gap above [`MAX_GAP_S`]; returns the
/// first and last time of each run.
pub(crate) fn segments(samples: &[Vec3Sample]) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    let mut iter = samples.iter();
    let Some(first) = iter.next() else {
        return out;
    };
    let (mut start, mut last) = (first.t, first.t);
    for s in iter {
        if s.t - last > MAX_GAP_S {
            out.push((start, last));
            start = s.t;
        }
        last = s.t;
    }
    out.push((start, last));
    out
}

/// Averages the samples falling in each grid cell; cells without a sample are linearly
/// interpolated from their neighbours (held at the ends). `None` if no sample falls on
/// the grid at all.
pub(crate) fn resample(samples: &[Vec3Sample], grid: &Grid) -> Option<Vec<V3>> {
    let mut sums = vec![[0.0; 3]; grid.n];
    let mut counts = vec![0u32; grid.n];
    let half = grid.dt / 2.0;
    let end = grid.time(grid.n.saturating_sub(1)) + half;
    let first = samples.partition_point(|s| s.t < grid.t0 - half);
    for s in samples.get(first..).unwrap_or(&[]) {
        if s.t >= end {
            break;
        }
        let i = grid.index(s.t);
        if let (Some(sum), Some(count)) = (sums.get_mut(i), counts.get_mut(i)) {
            *sum = add(*sum, s.v);
            *count += 1;
        }
    }
    // Averages in filled cells; empty cells between two filled ones interpolated.
    let mut previous: Option<usize> = None;
    for b in 0..grid.n {
        if counts[b] == 0 {
            continue;
        }
        sums[b] = scale(sums[b], 1.0 / f64::from(counts[b]));
        match previous {
            Some(a) if b > a + 1 => {
                let (va, vb) = (sums[a], sums[b]);
                for (k, slot) in sums[a + 1..b].iter_mut().enumerate() {
                    let f = (k + 1) as f64 / (b - a) as f64;
                    *slot = add(va, scale(sub(vb, va), f));
                }
            }
            None => {
                let head = sums[b];
                sums[..b].fill(head);
            }
            _ => {}
        }
        previous = Some(b);
    }
    let last = previous?;
    let tail = sums[last];
    sums[last..].fill(tail);
    Some(sums)
}

/// Speed at each grid instant, linearly interpolated between fixes no more than
/// [`MAX_SPEED_GAP_S`] apart; `None` where unknown. `None` overall if no speed is known.
pub(crate) fn resample_speed(samples: &[SpeedSample], grid: &Grid) -> Option<Vec<Option<f64>>> {
    if samples.is_empty() {
        return None;
    }
    let mut out = Vec::with_capacity(grid.n);
    let mut j = 0;
    for i in 0..grid.n {
        let t = grid.time(i);
        while j + 1 < samples.len() && samples[j + 1].t <= t {
            j += 1;
        }
        let value = match (samples.get(j), samples.get(j + 1)) {
            (Some(a), Some(b)) if a.t <= t && b.t - a.t <= MAX_SPEED_GAP_S => {
                let span = b.t - a.t;
                let f = if span > 0.0 { (t - a.t) / span } else { 0.0 };
                Some(a.speed + (b.speed - a.speed) * f)
            }
            (Some(a), _) if (t - a.t).abs() <= grid.dt => Some(a.speed),
            _ => None,
        };
        out.push(value);
    }
    out.iter().any(Option::is_some).then_some(out)
}

/// Running sums, so that the sum over any index range costs two lookups.
pub(crate) struct Prefix<T> {
    sums: Vec<T>,
}

/// What can be summed in a [`Prefix`].
pub(crate) trait Summable: Copy {
    const ZERO: Self;
    fn plus(self, other: Self) -> Self;
    fn minus(self, other: Self) -> Self;
}

impl Summable for f64 {
    const ZERO: Self = 0.0;
    fn plus(self, other: Self) -> Self {
        self + other
    }
    fn minus(self, other: Self) -> Self {
        self - other
    }
}

impl<const N: usize> Summable for [f64; N] {
    const ZERO: Self = [0.0; N];
    fn plus(mut self, other: Self) -> Self {
        for (a, b) in self.iter_mut().zip(other) {
            *a += b;
        }
        self
    }
    fn minus(mut self, other: Self) -> Self {
        for (a, b) in self.iter_mut().zip(other) {
            *a -= b;
        }
        self
    }
}

impl<T: Summable> Prefix<T> {
    pub fn new(values: impl Iterator<Item = T>) -> Prefix<T> {
        let mut sums = Vec::with_capacity(values.size_hint().0 + 1);
        sums.push(T::ZERO);
        let mut acc = T::ZERO;
        for v in values {
            acc = acc.plus(v);
            sums.push(acc);
        }
        Prefix { sums }
    }

    /// Sum of the values in the centred window `[i - half, i + half]`, clipped to the
    /// data, and how many values that is.
    pub fn window(&self, i: usize, half: usize) -> (T, usize) {
        let len = self.sums.len() - 1;
        let lo = i.saturating_sub(half).min(len);
        let hi = (i + half + 1).min(len);
        (self.sums[hi].minus(self.sums[lo]), hi - lo)
    }

    /// Sum of all values.
    pub fn total(&self) -> T {
        self.sums.last().copied().unwrap_or(T::ZERO)
    }
}

/// Sums of consecutive runs of `block` values (the last run may be shorter).
pub(crate) fn block_sums<T: Summable>(values: impl Iterator<Item = T>, block: usize) -> Vec<T> {
    let block = block.max(1);
    let mut out = Vec::with_capacity(values.size_hint().0 / block + 1);
    for (i, v) in values.enumerate() {
        if i % block == 0 {
            out.push(T::ZERO);
        }
        if let Some(last) = out.last_mut() {
            *last = last.plus(v);
        }
    }
    out
}

/// `n` values linearly interpolated between per-block values, each placed at the middle
/// of its block of `block` samples (held before the first middle and after the last).
pub(crate) fn from_blocks(values: &[V3], block: usize, n: usize) -> Vec<V3> {
    let block = block.max(1);
    let middle = |b: usize| -> f64 {
        let start = b * block;
        let end = ((b + 1) * block).min(n).max(start + 1);
        (start + end - 1) as f64 / 2.0
    };
    let mut out = Vec::with_capacity(n);
    let mut b = 0;
    for i in 0..n {
        let x = i as f64;
        while b + 1 < values.len() && middle(b + 1) <= x {
            b += 1;
        }
        let value = match (values.get(b), values.get(b + 1)) {
            (Some(&a), Some(&c)) if x > middle(b) => {
                let f = (x - middle(b)) / (middle(b + 1) - middle(b));
                add(a, scale(sub(c, a), f))
            }
            (Some(&a), _) => a,
            (None, _) => [0.0; 3],
        };
        out.push(value);
    }
    out
}

/// Centred moving average of vectors over `2·half + 1` samples (fewer at the ends), with
/// a sliding sum.
pub(crate) fn moving_average(values: &[V3], half: usize) -> Vec<V3> {
    let n = values.len();
    let mut out = Vec::with_capacity(n);
    let mut sum = [0.0; 3];
    // The window [lo, hi) for the first sample.
    let (mut lo, mut hi) = (0, 0);
    for i in 0..n {
        let (want_lo, want_hi) = (i.saturating_sub(half), (i + half + 1).min(n));
        while hi < want_hi {
            sum = add(sum, values[hi]);
            hi += 1;
        }
        while lo < want_lo {
            sum = sub(sum, values[lo]);
            lo += 1;
        }
        out.push(scale(sum, 1.0 / (hi - lo).max(1) as f64));
    }
    out
}
