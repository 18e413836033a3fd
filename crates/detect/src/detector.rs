//! The pipeline: validate, split at gaps, estimate orientation, detect, make clips.

use crate::clips::{clip_windows, ClipWindow};
use crate::collision::collisions;
use crate::error::Result;
use crate::events::Event;
use crate::manoeuvre::manoeuvres;
use crate::orientation::{car_axes, Orientation, Segment};
use crate::signal::segments;
use crate::thresholds::Thresholds;
use crate::trace::Trace;
use serde::{Deserialize, Serialize};

/// Segments shorter than this (s) are too short to smooth and are skipped.
const MIN_SEGMENT_S: f64 = 1.0;

/// What the detector found in a trace.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    /// Incidents in time order.
    pub events: Vec<Event>,
    /// Clip windows, each listing the incidents it covers.
    pub clips: Vec<ClipWindow>,
    /// The car's axes in the device frame, when they could be estimated.
    pub orientation: Option<Orientation>,
}

/// A detector configured for one camera model.
#[derive(Debug, Clone, Default)]
pub struct Detector {
    thresholds: Thresholds,
}

impl Detector {
    /// A detector with these thresholds (checked on first use).
    pub fn new(thresholds: Thresholds) -> Detector {
        Detector { thresholds }
    }

    /// The thresholds it uses.
    pub fn thresholds(&self) -> &Thresholds {
        &self.thresholds
    }

    /// Detects incidents in a trace; see [`detect`].
    pub fn detect(&self, trace: &Trace) -> Result<Detection> {
        detect(trace, &self.thresholds)
    }
}

/// Detects incidents in a trace and cuts clip windows around them.
///
/// An empty trace gives an empty result; a malformed one (NaN, time going backwards, too
/// low a rate, no gravity) an error. Gaps over a second split the trace; each part is
/// processed on its own, with one orientation estimate across them.
pub fn detect(trace: &Trace, thresholds: &Thresholds) -> Result<Detection> {
    thresholds.validate()?;
    trace.validate()?;
    let parts: Vec<Segment> = segments(&trace.accel)
        .into_iter()
        .filter(|(start, end)| end - start >= MIN_SEGMENT_S)
        .filter_map(|(start, end)| Segment::new(trace, start, end, thresholds))
        .collect();
    let mut events: Vec<Event> = parts
        .iter()
        .flat_map(|s| collisions(s, thresholds))
        .collect();
    let orientation = car_axes(&parts).map(|(axes, orientation)| {
        for (segment, axes) in parts.iter().zip(&axes) {
            events.extend(manoeuvres(segment, axes, thresholds));
        }
        orientation
    });
    events.sort_by(|a, b| a.start.total_cmp(&b.start).then(a.kind.cmp(&b.kind)));
    let (first, last) = match (trace.accel.first(), trace.accel.last()) {
        (Some(a), Some(b)) => (a.t, b.t),
        _ => (0.0, 0.0),
    };
    Ok(Detection {
        clips: clip_windows(&events, first, last),
        events,
        orientation,
    })
}
