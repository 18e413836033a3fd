//! Collisions: an impulse well beyond anything ordinary driving produces.
//!
//! A knock is measured against the accelerometer's 1 s average (which carries gravity and
//! manoeuvres, a turn's 0.6 g included). To be a collision it must be all of:
//! - **strong**: beyond `collision_g` (`parked_collision_g` while parked);
//! - **short**: over in less than [`IMPULSE_WINDOW_S`] (a crash pulse lasts 50–150 ms;
//!   shaking that lasts, a rough road or a phone handled in its holder, is no impulse);
//! - **a change of velocity**: the impulse integrates to at least `collision_delta_v`
//!   (m/s) in one direction. A collision changes the car's velocity; a pothole, a speed
//!   bump, a door slammed or a mount rattling swings back and forth and integrates to
//!   almost nothing, however high its peaks.
//!
//! "Parked" is a camera state (its parking mode, or the ignition off), given with the
//! trace, or else no motion for `parked_after_s` (minutes, by speed or by a still
//! accelerometer), so that standing at a traffic light is still driving.

use crate::events::{event, regions, Event, IncidentKind};
use crate::orientation::Segment;
use crate::signal::moving_average;
use crate::thresholds::Thresholds;
use crate::trace::G;
use crate::vector::{add, norm, scale, sub, V3};

/// Window of the average an impulse is measured against, s: longer than a crash pulse
/// (50–150 ms), shorter than a manoeuvre.
pub const IMPULSE_WINDOW_S: f64 = 1.0;
/// Time either side of an impulse over which its velocity change is summed, s (a crash
/// pulse's tail and the grid's smearing).
const PULSE_PAD_S: f64 = 0.1;
/// Time before and after that whose mean levels the pulse is measured from, s.
const PULSE_LEVEL_S: f64 = 0.4;

/// Detects collisions in one segment, oriented or not.
pub(crate) fn collisions(segment: &Segment, th: &Thresholds) -> Vec<Event> {
    let grid = &segment.grid;
    let slow = moving_average(&segment.accel, grid.steps(IMPULSE_WINDOW_S / 2.0));
    let impulse: Vec<f64> = segment
        .accel
        .iter()
        .zip(&slow)
        .map(|(&a, &m)| norm(sub(a, m)) / G)
        .collect();
    let longest = grid.steps(IMPULSE_WINDOW_S);
    let pad = grid.steps(PULSE_PAD_S);
    let mut events = Vec::new();
    for (level, parked) in [(th.collision_g, false), (th.parked_collision_g, true)] {
        for r in regions(&impulse, level, th.hysteresis * level, 1, grid.steps(0.2)) {
            if r.end - r.start >= longest || is_parked(segment, &impulse, r.start, th) != parked {
                continue;
            }
            let pulse = (
                r.start.saturating_sub(pad),
                (r.end + pad + 1).min(impulse.len()),
            );
            let change = velocity_change(&segment.accel, pulse, grid.steps(PULSE_LEVEL_S));
            if change * grid.dt < th.collision_delta_v {
                continue;
            }
            events.push(event(
                IncidentKind::Collision,
                grid.time(r.core.0),
                grid.time(r.core.1),
                r.peak,
                level,
                th.collision_severe_g,
            ));
        }
    }
    events
}

/// The velocity change of the pulse over samples `lo..hi`, in m/s per grid step: the
/// accelerometer summed over it, less the level it runs between (the means of the `side`
/// samples before and after, interpolated), so that a manoeuvre starting or ending under
/// the pulse is not counted in it.
fn velocity_change(accel: &[V3], (lo, hi): (usize, usize), side: usize) -> f64 {
    let mean = |from: usize, to: usize| {
        let slice = accel.get(from..to).filter(|s| !s.is_empty())?;
        let sum = slice.iter().fold([0.0; 3], |s, &a| add(s, a));
        Some(scale(sum, 1.0 / slice.len() as f64))
    };
    let before = mean(lo.saturating_sub(side), lo);
    let after = mean(hi, (hi + side).min(accel.len()));
    let (Some(before), Some(after)) = (before.or(after), after.or(before)) else {
        return 0.0;
    };
    let span = (hi - lo).max(1) as f64;
    let change =
        accel
            .get(lo..hi)
            .unwrap_or(&[])
            .iter()
            .enumerate()
            .fold([0.0; 3], |sum, (k, &a)| {
                let level = add(before, scale(sub(after, before), (k as f64 + 0.5) / span));
                add(sum, sub(a, level))
            });
    norm(change)
}

/// Parked: in the camera's parking mode, or standing still (by speed, or else by a quiet
/// accelerometer) for `parked_after_s` before `start`.
fn is_parked(segment: &Segment, impulse: &[f64], start: usize, th: &Thresholds) -> bool {
    if segment.parking_mode(start) {
        return true;
    }
    let lookback = segment.grid.steps(th.parked_after_s);
    if start < lookback {
        return false;
    }
    // Stop short of the impulse's own reach into the 1 s average.
    let before = start - lookback..start.saturating_sub(segment.grid.steps(IMPULSE_WINDOW_S));
    match &segment.speed {
        Some(speed) => speed
            .get(before)
            .is_some_and(|s| s.iter().all(|v| v.is_some_and(|v| v <= th.standstill_mps))),
        None => impulse.get(before).is_some_and(|window| {
            let n = window.len().max(1) as f64;
            let mean = window.iter().sum::<f64>() / n;
            let var = window.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
            var.sqrt() * G < th.parked_max_std
        }),
    }
}
