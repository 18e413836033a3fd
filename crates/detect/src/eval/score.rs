//! Scoring detections against labels, and the leave-one-trip-out evaluation.
//!
//! A detection matches a label when its kind is the label's (a sudden stop counts as a
//! hard brake) and it overlaps the labelled interval widened by 1 s on each side. Recall
//! is over labels. Precision is over detections that overlap any labelled interval
//! (widened the same way); strict precision is over every detection, those in the
//! unlabelled driving between labels included. That driving holds unlabelled turns and
//! U-turns, so it is not a verified negative, and its detections are also reported per
//! hour. A calm manoeuvre is flagged when any detection overlaps it. No trip of the data
//! set has a collision, so every collision reported on one is a false alarm.
//!
//! Leave-one-trip-out ([`leave_one_trip_out`]): for each trip, the levels come from a
//! chooser that is handed only the other trips, and the held trip is scored with them, at
//! every mount and on both [`Conversion`]s. The report puts those held-out scores first.

use super::{Conversion, Label, LabelledTrip, Mount};
use crate::detector::detect;
use crate::error::Result;
use crate::events::{Event, IncidentKind};
use crate::thresholds::Thresholds;
use std::fmt;

/// Counts for one event kind over all runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClassScore {
    /// The kind.
    pub kind: IncidentKind,
    /// Labels of this kind (over all runs).
    pub labels: usize,
    /// Of those, labels some detection of this kind matched.
    pub found: usize,
    /// Detections of this kind overlapping some label (of any kind, calm included).
    pub detections: usize,
    /// Of those, detections matching a label of this kind.
    pub correct: usize,
    /// Detections of this kind overlapping no label (ordinary driving between labels).
    pub unlabelled: usize,
}

impl ClassScore {
    fn new(kind: IncidentKind) -> ClassScore {
        ClassScore {
            kind,
            labels: 0,
            found: 0,
            detections: 0,
            correct: 0,
            unlabelled: 0,
        }
    }

    /// found / labels, `None` without labels.
    pub fn recall(&self) -> Option<f64> {
        (self.labels > 0).then(|| self.found as f64 / self.labels as f64)
    }

    /// correct / detections near labels, `None` without such detections.
    pub fn precision(&self) -> Option<f64> {
        (self.detections > 0).then(|| self.correct as f64 / self.detections as f64)
    }

    /// correct / all detections of this kind, those between labels included (which
    /// treats ordinary driving as a negative, which it is not quite).
    pub fn strict_precision(&self) -> Option<f64> {
        let all = self.detections + self.unlabelled;
        (all > 0).then(|| self.correct as f64 / all as f64)
    }
}

/// One manoeuvre between labels that some mounts detected: what the detections per hour
/// of unlabelled driving are, so that each can be looked up in the recording.
#[derive(Debug, Clone, PartialEq)]
pub struct BetweenLabels {
    /// The trip it is on.
    pub trip: String,
    /// What was detected.
    pub kind: IncidentKind,
    /// Earliest start and latest end over the mounts, s on the trip's clock.
    pub start: f64,
    /// See `start`.
    pub end: f64,
    /// How many mounts detected it.
    pub mounts: usize,
    /// Largest peak over those mounts, g.
    pub peak_g: f64,
}

impl BetweenLabels {
    /// Whether `other` is the same manoeuvre (same trip and kind, overlapping in time).
    fn same(&self, other: &BetweenLabels) -> bool {
        self.trip == other.trip
            && self.kind == other.kind
            && other.start <= self.end
            && other.end >= self.start
    }
}

/// The result of an evaluation over trips × mount rotations.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalReport {
    /// Number of (trip, rotation) runs.
    pub runs: usize,
    /// Minutes of driving processed, over all runs.
    pub minutes: f64,
    /// One score per event kind, in [`IncidentKind::MOTION`] order.
    pub classes: Vec<ClassScore>,
    /// Calm manoeuvres seen (over all runs).
    pub calm: usize,
    /// Of those, how many some detection overlapped.
    pub calm_flagged: usize,
    /// Lane changes no swerve matched but a sharp turn did: the broader name the detector
    /// gives a swerve it cannot tell from a turn (no gyroscope, no speed), so the right
    /// clip is cut; counted as a miss in the swerve's recall and a false sharp turn.
    pub swerves_as_turns: usize,
    /// The detections between labels, one entry per manoeuvre, in trip and time order.
    pub between_labels: Vec<BetweenLabels>,
}

impl Default for EvalReport {
    fn default() -> Self {
        EvalReport {
            runs: 0,
            minutes: 0.0,
            classes: IncidentKind::MOTION
                .iter()
                .map(|&k| ClassScore::new(k))
                .collect(),
            calm: 0,
            calm_flagged: 0,
            swerves_as_turns: 0,
            between_labels: Vec::new(),
        }
    }
}

impl EvalReport {
    /// The score of one kind.
    pub fn class(&self, kind: IncidentKind) -> Option<&ClassScore> {
        self.classes.iter().find(|c| c.kind == kind)
    }

    /// Share of calm manoeuvres flagged, `None` without any.
    pub fn calm_flagged_rate(&self) -> Option<f64> {
        (self.calm > 0).then(|| self.calm_flagged as f64 / self.calm as f64)
    }

    /// Collisions reported, near labels or not (every one a false alarm on real trips).
    pub fn collisions(&self) -> usize {
        self.class(IncidentKind::Collision)
            .map_or(0, |c| c.detections + c.unlabelled)
    }

    /// Detections of any kind between labels, per hour of driving.
    pub fn unlabelled_per_hour(&self) -> Option<f64> {
        let unlabelled: usize = self.classes.iter().map(|c| c.unlabelled).sum();
        (self.minutes > 0.0).then(|| unlabelled as f64 / (self.minutes / 60.0))
    }

    /// Adds another report's counts to this one.
    pub fn add(&mut self, other: &EvalReport) {
        self.runs += other.runs;
        self.minutes += other.minutes;
        self.calm += other.calm;
        self.calm_flagged += other.calm_flagged;
        self.swerves_as_turns += other.swerves_as_turns;
        for (mine, theirs) in self.classes.iter_mut().zip(&other.classes) {
            mine.labels += theirs.labels;
            mine.found += theirs.found;
            mine.detections += theirs.detections;
            mine.correct += theirs.correct;
            mine.unlabelled += theirs.unlabelled;
        }
        for found in &other.between_labels {
            self.note_between_labels(found.clone());
        }
    }

    /// Counts a detection between labels toward the manoeuvre it overlaps, or as a new one
    /// in its place in trip and time order.
    fn note_between_labels(&mut self, found: BetweenLabels) {
        match self.between_labels.iter_mut().find(|b| b.same(&found)) {
            Some(b) => {
                b.start = b.start.min(found.start);
                b.end = b.end.max(found.end);
                b.mounts += found.mounts;
                b.peak_g = b.peak_g.max(found.peak_g);
            }
            None => {
                let at = self.between_labels.partition_point(|b| {
                    (b.trip.as_str(), b.start) < (found.trip.as_str(), found.start)
                });
                self.between_labels.insert(at, found);
            }
        }
    }

    fn score(&mut self, trip: &str, labels: &[Label], events: &[Event]) {
        for label in labels {
            match label.manoeuvre.kind() {
                Some(expected) => {
                    let found = events
                        .iter()
                        .any(|e| same_class(e.kind, expected) && label.overlaps(e));
                    if let Some(c) = self.classes.iter_mut().find(|c| c.kind == expected) {
                        c.labels += 1;
                        c.found += usize::from(found);
                    }
                    let as_turn = || {
                        events
                            .iter()
                            .any(|e| e.kind == IncidentKind::SharpTurn && label.overlaps(e))
                    };
                    if expected == IncidentKind::Swerve && !found && as_turn() {
                        self.swerves_as_turns += 1;
                    }
                }
                None => {
                    self.calm += 1;
                    self.calm_flagged += usize::from(events.iter().any(|e| label.overlaps(e)));
                }
            }
        }
        for e in events {
            let near: Vec<&Label> = labels.iter().filter(|l| l.overlaps(e)).collect();
            let correct = near
                .iter()
                .any(|l| l.manoeuvre.kind().is_some_and(|k| same_class(e.kind, k)));
            if let Some(c) = self.classes.iter_mut().find(|c| c.kind == e.kind) {
                if near.is_empty() {
                    c.unlabelled += 1;
                    self.note_between_labels(BetweenLabels {
                        trip: trip.to_string(),
                        kind: e.kind,
                        start: e.start,
                        end: e.end,
                        mounts: 1,
                        peak_g: e.peak_g,
                    });
                } else {
                    c.detections += 1;
                    c.correct += usize::from(correct);
                }
            }
        }
    }
}

/// A ratio with three decimals, `-` when undefined.
fn ratio(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{v:.3}"))
}

/// A rate with one decimal, `-` when undefined.
fn per_hour(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{v:.1}"))
}

impl fmt::Display for EvalReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} runs, {:.1} min of driving", self.runs, self.minutes)?;
        writeln!(
            f,
            "{:<12} {:>7} {:>7} {:>9} {:>9} {:>7} {:>11} {:>7}",
            "class", "labels", "recall", "detected", "precision", "fp", "unlabelled", "strict"
        )?;
        for c in &self.classes {
            writeln!(
                f,
                "{:<12} {:>7} {:>7} {:>9} {:>9} {:>7} {:>11} {:>7}",
                c.kind.as_str(),
                c.labels,
                ratio(c.recall()),
                c.detections,
                ratio(c.precision()),
                c.detections - c.correct,
                c.unlabelled,
                ratio(c.strict_precision())
            )?;
        }
        writeln!(
            f,
            "precision: over detections within 1 s of a label; strict: over all detections"
        )?;
        writeln!(
            f,
            "unlabelled detections per hour of driving: {}",
            per_hour(self.unlabelled_per_hour())
        )?;
        let lane_changes = self.class(IncidentKind::Swerve).map_or(0, |c| c.labels);
        if self.swerves_as_turns > 0 {
            writeln!(
                f,
                "lane changes found only as sharp_turn (the broader name): {} of {}",
                self.swerves_as_turns, lane_changes
            )?;
        }
        writeln!(
            f,
            "collisions (no trip has one): {} in {} runs",
            self.collisions(),
            self.runs
        )?;
        write!(
            f,
            "calm manoeuvres flagged: {} of {} ({})",
            self.calm_flagged,
            self.calm,
            ratio(self.calm_flagged_rate())
        )
    }
}

/// The detections between labels, one line per manoeuvre, for looking them up.
pub struct BetweenLabelsList<'a>(pub &'a EvalReport);

impl fmt::Display for BetweenLabelsList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<5} {:>8} {:>8} {:<12} {:>7} {:>7}",
            "trip", "start s", "end s", "kind", "mounts", "peak g"
        )?;
        for b in &self.0.between_labels {
            writeln!(
                f,
                "{:<5} {:>8.1} {:>8.1} {:<12} {:>7} {:>7.2}",
                b.trip,
                b.start,
                b.end,
                b.kind.as_str(),
                b.mounts,
                b.peak_g
            )?;
        }
        Ok(())
    }
}

/// How to run an evaluation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EvalOptions {
    /// Random mounts per trip.
    pub rotations: usize,
    /// Seed of the first mount; the others follow (`seed + 1`, …).
    pub seed: u64,
    /// Drop the gyroscope, as with a BlackVue `.3gf` (accelerometer only).
    pub accel_only: bool,
    /// Drive every trip in a mirror ([`super::mirror`]): left turns and lane changes
    /// for right ones.
    pub mirrored: bool,
    /// Samples per second of the sensor, when lower than the trips' 50 Hz
    /// ([`super::at_rate`]); `None` keeps the trips' own.
    pub rate_hz: Option<f64>,
}

impl Default for EvalOptions {
    fn default() -> Self {
        EvalOptions {
            rotations: 20,
            seed: 1,
            accel_only: false,
            mirrored: false,
            rate_hz: None,
        }
    }
}

/// Runs the detector on every trip at random mounts, converted one way, and scores it
/// against the labels.
pub fn evaluate(
    trips: &[LabelledTrip],
    thresholds: &Thresholds,
    conversion: Conversion,
    options: &EvalOptions,
) -> Result<EvalReport> {
    let mut report = EvalReport::default();
    for trip in trips {
        let mut car = trip.car_trace(conversion);
        if options.accel_only {
            car.gyro.clear();
        }
        if let Some(hz) = options.rate_hz {
            car = super::at_rate(&car, hz);
        }
        let mut labels = trip.labels.clone();
        if options.mirrored {
            car = super::mirror(&car);
            labels = labels.into_iter().map(Label::mirrored).collect();
        }
        for r in 0..options.rotations {
            let mount = Mount::random(options.seed.wrapping_add(r as u64));
            let detection = detect(&mount.apply(&car), thresholds)?;
            report.score(&trip.name, &labels, &detection.events);
            report.runs += 1;
            if let (Some(a), Some(b)) = (car.accel.first(), car.accel.last()) {
                report.minutes += (b.t - a.t) / 60.0;
            }
        }
    }
    Ok(report)
}

/// One held-out trip on one conversion.
#[derive(Debug, Clone, PartialEq)]
pub struct Fold {
    /// The trip scored, which the levels were chosen without.
    pub held_out: String,
    /// How it was converted.
    pub conversion: Conversion,
    /// Its scores over every mount.
    pub report: EvalReport,
}

impl fmt::Display for Fold {
    /// One line: recall/precision of each labelled class, then the false-alarm counts.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = &self.report;
        write!(f, "held out {:<4}", self.held_out)?;
        for c in r.classes.iter().filter(|c| c.labels > 0) {
            write!(
                f,
                " {} {}/{}",
                c.kind.as_str(),
                ratio(c.recall()),
                ratio(c.precision())
            )?;
        }
        write!(
            f,
            " | calm flagged {}/{}, collisions {}, unlabelled/h {}",
            r.calm_flagged,
            r.calm,
            r.collisions(),
            per_hour(r.unlabelled_per_hour())
        )
    }
}

/// Leave-one-trip-out on both conversions: `choose` gets every trip but the held one and
/// returns the levels the held one is then scored with.
pub fn leave_one_trip_out(
    trips: &[LabelledTrip],
    choose: impl Fn(&[&LabelledTrip]) -> Thresholds,
    options: &EvalOptions,
) -> Result<Vec<Fold>> {
    let mut folds = Vec::new();
    for conversion in Conversion::BOTH {
        for (i, held) in trips.iter().enumerate() {
            let others: Vec<&LabelledTrip> = trips
                .iter()
                .enumerate()
                .filter(|&(j, _)| j != i)
                .map(|(_, t)| t)
                .collect();
            let thresholds = choose(&others);
            let report = evaluate(std::slice::from_ref(held), &thresholds, conversion, options)?;
            folds.push(Fold {
                held_out: held.name.clone(),
                conversion,
                report,
            });
        }
    }
    Ok(folds)
}

/// The held-out scores of one conversion, summed over its folds.
pub fn total(folds: &[Fold], conversion: Conversion) -> EvalReport {
    let mut sum = EvalReport::default();
    for fold in folds.iter().filter(|f| f.conversion == conversion) {
        sum.add(&fold.report);
    }
    sum
}

/// Whether a detection of `kind` satisfies a label expecting `expected`.
fn same_class(kind: IncidentKind, expected: IncidentKind) -> bool {
    kind == expected || (kind == IncidentKind::SuddenStop && expected == IncidentKind::HardBrake)
}
