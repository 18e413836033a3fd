//! The event record, the incident kinds it names, and the hysteresis regions above a
//! level that both manoeuvres ([`crate::manoeuvre`]) and impulses ([`crate::collision`])
//! are cut from.
//!
//! The kinds are the shared [`dashvault_domain::IncidentKind`]; the detector finds the six
//! of [`IncidentKind::MOTION`] (never `camera_event`, which is the camera's own mark), each by
//! this criterion:
//! - `hard_brake`: deceleration along the forward axis above `hard_brake_g`, the
//!   horizontal acceleration pointing within 45° of backward (nearer the side it is
//!   cornering);
//! - `sudden_stop`: a hard brake that ends at a standstill (only when speed is known);
//!   reported instead of `hard_brake`, not as well;
//! - `hard_accel`: acceleration along the forward axis above `hard_accel_g`, pointing
//!   within 45° of forward;
//! - `sharp_turn`: lateral acceleration above `sharp_turn_g` in one direction;
//! - `swerve`: lateral acceleration one way then the other (swerve, aggressive lane
//!   change);
//! - `collision`: an impulse above `collision_g` in any direction, over in less than a
//!   second, that changes the velocity by `collision_delta_v` (or a bump above
//!   `parked_collision_g` while parked).

use crate::thresholds::Thresholds;
use serde::{Deserialize, Serialize};

/// The kinds of incident. Their snake_case names are a contract of the server's JSON.
pub use dashvault_domain::IncidentKind;

/// One detected incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// What happened.
    #[serde(rename = "type")]
    pub kind: IncidentKind,
    /// Start, seconds on the input's clock.
    pub start: f64,
    /// End, seconds on the input's clock.
    pub end: f64,
    /// Peak of the deciding acceleration, in g.
    pub peak_g: f64,
    /// 0 at the kind's threshold, 1 at its severe level.
    pub severity: f64,
}

/// A run of grid samples above a level.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Region {
    /// First sample at or above the exit level.
    pub start: usize,
    /// Last sample at or above the exit level.
    pub end: usize,
    /// First and last sample at or above the enter level: where the event is beyond its
    /// threshold, which is what its reported interval covers.
    pub core: (usize, usize),
    /// Largest value of the signal in it.
    pub peak: f64,
}

/// Runs where `signal ≥ exit`, holding at least `min_len` samples `≥ enter`, after
/// merging runs separated by fewer than `merge_gap` samples.
pub(crate) fn regions(
    signal: &[f64],
    enter: f64,
    exit: f64,
    min_len: usize,
    merge_gap: usize,
) -> Vec<Region> {
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

/// An event of `kind` with its severity from its level.
pub(crate) fn event(
    kind: IncidentKind,
    start: f64,
    end: f64,
    peak: f64,
    level: f64,
    severe: f64,
) -> Event {
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
