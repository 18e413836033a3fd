//! Turning car-frame signals into events: hysteresis regions above a level, classified
//! into the six incident kinds.

use crate::orientation::{CarAxes, Segment};
use crate::signal::moving_average;
use crate::thresholds::Thresholds;
use crate::trace::G;
use crate::vector::{norm, sub};
use serde::{Deserialize, Serialize};

/// The kinds of incident. Their snake_case names are a contract of the server's JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// Deceleration along the forward axis above `hard_brake_g`, the horizontal
    /// acceleration pointing within 45° of backward (nearer the side it is cornering).
    HardBrake,
    /// A hard brake that ends at a standstill (only when speed is known); reported instead
    /// of `hard_brake`, not as well.
    SuddenStop,
    /// Acceleration along the forward axis above `hard_accel_g`, pointing within 45° of
    /// forward.
    HardAccel,
    /// Lateral acceleration above `sharp_turn_g` in one direction.
    SharpTurn,
    /// Lateral acceleration one way then the other (swerve, aggressive lane change).
    Swerve,
    /// An impulse above `collision_g` in any direction, over in less than a second (or a
    /// bump above `parked_collision_g` while parked).
    Collision,
}

impl EventKind {
    /// Every kind, in a fixed order.
    pub const ALL: [EventKind; 6] = [
        EventKind::HardBrake,
        EventKind::SuddenStop,
        EventKind::HardAccel,
        EventKind::SharpTurn,
        EventKind::Swerve,
        EventKind::Collision,
    ];

    /// The contract name, e.g. `hard_brake`.
    pub fn name(self) -> &'static str {
        match self {
            EventKind::HardBrake => "hard_brake",
            EventKind::SuddenStop => "sudden_stop",
            EventKind::HardAccel => "hard_accel",
            EventKind::SharpTurn => "sharp_turn",
            EventKind::Swerve => "swerve",
            EventKind::Collision => "collision",
        }
    }
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One detected incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// What happened.
    #[serde(rename = "type")]
    pub kind: EventKind,
    /// Start, seconds on the input's clock.
    pub start: f64,
    /// End, seconds on the input's clock.
    pub end: f64,
    /// Peak of the deciding acceleration, in g.
    pub peak_g: f64,
    /// 0 at the kind's threshold, 1 at its severe level.
    pub severity: f64,
}

/// Window of the average an impulse is measured against, s: longer than a crash pulse
/// (50–150 ms), shorter than a manoeuvre.
const IMPULSE_WINDOW_S: f64 = 1.0;

/// Without a gyroscope, a swerve's lateral acceleration integrates to at most this
/// share of its absolute integral (the two lobes mostly cancel).
const SWERVE_MAX_IMBALANCE: f64 = 0.5;

/// A run of grid samples above a level.
#[derive(Debug, Clone, Copy)]
struct Region {
    /// First sample at or above the exit level.
    start: usize,
    /// Last sample at or above the exit level.
    end: usize,
    /// First and last sample at or above the enter level: where the event is beyond its
    /// threshold, which is what its reported interval covers.
    core: (usize, usize),
    peak: f64,
}

/// Runs where `signal ≥ exit`, holding at least `min_len` samples `≥ enter`, after
/// merging runs separated by fewer than `merge_gap` samples.
fn regions(signal: &[f64], enter: f64, exit: f64, min_len: usize, merge_gap: usize) -> Vec<Region> {
    let mut runs: Vec<(Region, usize)> = Vec::new();
    let mut current: Option<(Region, usize)> = None;
    for (i, &s) in signal.iter().enumerate() {
        if s >= exit {
            let (region, above) = current.get_or_insert((
                Region {
                    start: i,
                    end: i,
                    core: (usize::MAX, 0),
                    peak: s,
                },
                0,
            ));
            region.end = i;
            region.peak = region.peak.max(s);
            if s >= enter {
                *above += 1;
                region.core = (region.core.0.min(i), i);
            }
        } else if let Some(done) = current.take() {
            push_merged(&mut runs, done, merge_gap);
        }
    }
    if let Some(done) = current {
        push_merged(&mut runs, done, merge_gap);
    }
    runs.into_iter()
        .filter(|&(_, above)| above >= min_len)
        .map(|(r, _)| r)
        .collect()
}

fn push_merged(runs: &mut Vec<(Region, usize)>, run: (Region, usize), merge_gap: usize) {
    match runs.last_mut() {
        Some((last, above)) if run.0.start - last.end <= merge_gap => {
            last.end = run.0.end;
            last.core = (last.core.0.min(run.0.core.0), last.core.1.max(run.0.core.1));
            last.peak = last.peak.max(run.0.peak);
            *above += run.1;
        }
        _ => runs.push(run),
    }
}

/// Detects manoeuvres (brakes, launches, turns, swerves) in one oriented segment.
pub(crate) fn manoeuvres(segment: &Segment, axes: &CarAxes, th: &Thresholds) -> Vec<Event> {
    let grid = &segment.grid;
    let min_len = grid.steps(th.min_duration_s);
    let merge = grid.steps(1.0);
    let time = |i: usize| grid.time(i);
    let mut events = Vec::new();

    // Longitudinal only where the horizontal acceleration points within 45° of the
    // car's axis; nearer the side it is cornering, whose longitudinal part is as much
    // the forward axis's error times the lateral pull as it is speed change.
    let accelerating: Vec<f64> = axes
        .long
        .iter()
        .zip(&axes.lat)
        .map(|(&a, &l)| if a.abs() > l.abs() { a / G } else { 0.0 })
        .collect();
    let braking: Vec<f64> = accelerating.iter().map(|a| -a).collect();
    for r in regions(
        &braking,
        th.hard_brake_g,
        th.hysteresis * th.hard_brake_g,
        min_len,
        merge,
    ) {
        let kind = if ends_at_standstill(segment, r.end, th) {
            EventKind::SuddenStop
        } else {
            EventKind::HardBrake
        };
        events.push(event(
            kind,
            time(r.core.0),
            time(r.core.1),
            r.peak,
            th.hard_brake_g,
            th.hard_brake_severe_g,
        ));
    }

    for r in regions(
        &accelerating,
        th.hard_accel_g,
        th.hysteresis * th.hard_accel_g,
        min_len,
        merge,
    ) {
        events.push(event(
            EventKind::HardAccel,
            time(r.core.0),
            time(r.core.1),
            r.peak,
            th.hard_accel_g,
            th.hard_accel_severe_g,
        ));
    }

    let lateral: Vec<f64> = axes.lat.iter().map(|a| a.abs() / G).collect();
    let level = th.sharp_turn_g.min(th.swerve_g);
    for r in regions(
        &lateral,
        level,
        th.hysteresis * level,
        min_len,
        grid.steps(2.0),
    ) {
        if let Some(e) = classify_lateral(segment, axes, r, th) {
            events.push(e);
        }
    }
    events
}

/// Sharp turn or swerve: a swerve swings both ways and leaves the heading nearly
/// unchanged (by the gyroscope, or else by its lobes cancelling); a turn pulls one way.
fn classify_lateral(
    segment: &Segment,
    axes: &CarAxes,
    r: Region,
    th: &Thresholds,
) -> Option<Event> {
    let grid = &segment.grid;
    let pad = grid.steps(1.0);
    let around = axes
        .lat
        .get(r.start.saturating_sub(pad)..(r.end + pad + 1).min(axes.lat.len()))?;
    let left = around.iter().fold(0.0f64, |m, &a| m.max(a)) / G;
    let right = around.iter().fold(0.0f64, |m, &a| m.max(-a)) / G;
    let (larger, smaller) = (left.max(right), left.min(right));
    let heading_deg = segment.yaw.as_ref().and_then(|yaw| {
        let turned: f64 = yaw.get(r.start..=r.end)?.iter().sum::<f64>() * grid.dt;
        Some(turned.to_degrees().abs())
    });
    let swings = larger >= th.swerve_g && smaller >= th.swerve_reverse_fraction * th.swerve_g;
    // Without a gyroscope: ∫ a_lat dt = v·Δψ, so the lobes of a heading-neutral swerve
    // cancel in the integral while a turn's do not.
    let straight = match heading_deg {
        Some(h) => h < th.swerve_max_heading_deg,
        None => {
            let net = around.iter().sum::<f64>().abs();
            let total = around.iter().map(|a| a.abs()).sum::<f64>();
            net < SWERVE_MAX_IMBALANCE * total
        }
    };
    let (start, end) = (grid.time(r.core.0), grid.time(r.core.1));
    if swings && straight {
        Some(event(
            EventKind::Swerve,
            start,
            end,
            larger,
            th.swerve_g,
            th.swerve_severe_g,
        ))
    } else if larger >= th.sharp_turn_g {
        Some(event(
            EventKind::SharpTurn,
            start,
            end,
            larger,
            th.sharp_turn_g,
            th.sharp_turn_severe_g,
        ))
    } else {
        None
    }
}

/// Whether the speed drops to a standstill within two seconds of a brake's end.
fn ends_at_standstill(segment: &Segment, end: usize, th: &Thresholds) -> bool {
    let Some(speed) = &segment.speed else {
        return false;
    };
    let lo = end.saturating_sub(segment.grid.steps(0.5));
    let hi = (end + segment.grid.steps(2.0)).min(speed.len());
    speed
        .get(lo..hi)
        .is_some_and(|s| s.iter().flatten().any(|&v| v <= th.standstill_mps))
}

/// Detects short impulses in one segment, oriented or not.
pub(crate) fn collisions(segment: &Segment, th: &Thresholds) -> Vec<Event> {
    let grid = &segment.grid;
    // Less the 1 s average: gravity and manoeuvres (a turn's 0.6 g) go, a knock stays.
    let slow = moving_average(&segment.accel, grid.steps(IMPULSE_WINDOW_S / 2.0));
    let impulse: Vec<f64> = segment
        .accel
        .iter()
        .zip(&slow)
        .map(|(&a, &m)| norm(sub(a, m)) / G)
        .collect();
    // Shaking that lasts (walking with the camera, a rough road) is no impulse.
    let longest = grid.steps(IMPULSE_WINDOW_S);
    let mut events = Vec::new();
    for (level, parked) in [(th.collision_g, false), (th.parked_collision_g, true)] {
        for r in regions(&impulse, level, th.hysteresis * level, 1, grid.steps(0.2)) {
            if r.end - r.start >= longest || is_parked(segment, &impulse, r.start, th) != parked {
                continue;
            }
            events.push(event(
                EventKind::Collision,
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

/// Parked: standing still (by speed, or else by a quiet accelerometer) for
/// `parked_after_s` before `start`.
fn is_parked(segment: &Segment, impulse: &[f64], start: usize, th: &Thresholds) -> bool {
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

fn event(kind: EventKind, start: f64, end: f64, peak: f64, level: f64, severe: f64) -> Event {
    Event {
        kind,
        start,
        end,
        peak_g: peak,
        severity: Thresholds::severity(peak, level, severe),
    }
}

#[cfg(test)]
mod tests {
    use super::regions;

    #[test]
    fn regions_use_hysteresis_merge_gaps_and_drop_blips() {
        let mut signal = vec![0.0; 100];
        // A run above 1 for 10 samples, its shoulders above 0.5.
        signal[10..30].fill(0.6);
        signal[15..25].fill(1.2);
        // A second run 3 samples later: merged with the first.
        signal[33..40].fill(1.5);
        // A blip: above the exit level, too short above the enter level.
        signal[60..70].fill(0.7);
        signal[64] = 1.1;
        let found = regions(&signal, 1.0, 0.5, 5, 5);
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].start, found[0].end), (10, 39));
        assert_eq!(
            found[0].core,
            (15, 39),
            "the interval beyond the enter level"
        );
        assert_eq!(found[0].peak, 1.5);
        let apart = regions(&signal, 1.0, 0.5, 5, 2);
        assert_eq!(apart.len(), 2, "not merged across a gap of 3");
        assert_eq!((apart[1].start, apart[1].end), (33, 39));
        assert_eq!(apart[0].core, (15, 24));
        assert!(regions(&[], 1.0, 0.5, 1, 1).is_empty());
    }
}
