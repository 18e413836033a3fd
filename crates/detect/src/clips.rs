//! Clip windows around events: 40 s each, overlapping windows merged into one clip.
//!
//! The window opens [`PRE_ROLL_S`] = 25 s before the event starts and closes 15 s after:
//! what caused an incident (a car cutting in, a light turning red, a pedestrian stepping
//! out) happens in the seconds to tens of seconds before it, and 15 s is enough to see
//! the outcome (the stop, the other car pulling over) without keeping minutes of a
//! stationary scene. An event longer than 15 s stretches its window to its own end. A
//! window that would start before the recording or end after it is slid inside it
//! (keeping its 40 s when the recording is that long).

use crate::events::Event;
use serde::{Deserialize, Serialize};

/// Length of a clip around one event, s.
pub const CLIP_S: f64 = 40.0;
/// Part of the clip before the event's start, s.
pub const PRE_ROLL_S: f64 = 25.0;

/// A stretch of the drive to keep, with the incidents it shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClipWindow {
    /// Start, seconds on the input's clock.
    pub start: f64,
    /// End, seconds on the input's clock.
    pub end: f64,
    /// Every event whose window was merged into this clip, in time order.
    pub incidents: Vec<Event>,
}

/// One window per event, slid into `[first, last]` (the recording), overlapping or
/// touching windows merged.
pub fn clip_windows(events: &[Event], first: f64, last: f64) -> Vec<ClipWindow> {
    let mut windows: Vec<ClipWindow> = events
        .iter()
        .map(|e| {
            let mut start = e.start - PRE_ROLL_S;
            let mut end = (start + CLIP_S).max(e.end);
            if start < first {
                end = (end + first - start).min(last.max(e.end));
                start = first;
            } else if end > last {
                start = (start - (end - last)).max(first);
                end = last.max(e.end);
            }
            ClipWindow {
                start,
                end,
                incidents: vec![e.clone()],
            }
        })
        .collect();
    windows.sort_by(|a, b| a.start.total_cmp(&b.start));
    let mut merged: Vec<ClipWindow> = Vec::new();
    for w in windows {
        match merged.last_mut() {
            Some(last) if w.start <= last.end => {
                last.end = last.end.max(w.end);
                last.incidents.extend(w.incidents);
            }
            _ => merged.push(w),
        }
    }
    for clip in &mut merged {
        clip.incidents.sort_by(|a, b| a.start.total_cmp(&b.start));
    }
    merged
}
