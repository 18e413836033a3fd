//! Manoeuvres (hard brake, sudden stop, hard launch, sharp turn, swerve) told by their
//! shape, not by one smoothed level.
//!
//! A manoeuvre is sustained: an onset, a plateau beyond its level for at least
//! `min_duration_s` (shorter is an impulse or a bump), a release. Its level is compared
//! on the car-axis projection bounded by the frame-free force of the `force` module, so
//! that a mount (or a frame) pitching under a brake can neither hide the brake's force in
//! the vertical nor give it back afterwards as a "launch".
//!
//! A frame that leans into a sustained force (a windshield mount pitching under a
//! brake, a phone's gravity estimate lagging behind the accelerometer) does more than
//! that: after its first half-second it moves most of the force into the vertical, so
//! the projection shows a brief pull at the onset, little during the plateau, and the
//! opposite pull at the release, when the frame swings back. The magnitude of the
//! specific force keeps the whole force whatever the frame does. So with a gyroscope,
//! which says which way a force can point, each signal is also raised to the force
//! sustained beyond ordinary driving (the `force` module): in a turn (yaw rate at least
//! [`MIN_TURN_YAW`]) the force beside the forward axis is the lateral pull, toward the
//! turn (`a = v·ω`), at most what the yaw rate gives at [`MAX_TURN_SPEED`]; driving
//! straight, a sustained force is a brake or a launch, and
//! which one is read from its onset's forward projection less the projection just after
//! its release (a rigid frame shows the force at the onset and nothing after; a leaning
//! one shows it at the onset and gives it back reversed after).
//!
//! What each must look like:
//! - **Hard brake** (`hard_brake_g`): deceleration on the forward axis, the horizontal
//!   acceleration within 45° of backward (nearer the side it is cornering, whose
//!   longitudinal part is mostly the axis error times the lateral pull); with a
//!   gyroscope, or a sustained force while driving straight whose onset points backward.
//!   With GPS speed it must lose speed; without, the road noise (which grows with speed,
//!   see [`crate::orientation`]) must not rise across it beyond what it does across any
//!   second of the drive. It is a **sudden stop** when the speed then reaches a
//!   standstill.
//! - **Hard launch** (`hard_accel_g`): acceleration within 45° of forward, or a
//!   sustained force while driving straight whose onset points forward, starting from
//!   steady driving: a launch that begins within [`RECOVERY_S`] of the end of a brake or a
//!   turn (any deceleration or lateral pull beyond half their levels) is the ordinary
//!   return to speed after slowing for a hazard or a corner, which every driver does,
//!   not a hard launch. With GPS speed it must gain speed; without, the road noise must
//!   not fall across it beyond its ordinary change (a "launch" into a standstill is a
//!   frame or a mount moving, not the car).
//! - **Sharp turn** (`sharp_turn_g`): lateral acceleration to one side. With a gyroscope,
//!   the car must turn that way: a lateral acceleration is `v·ω`, so a lateral pull with
//!   the yaw rate under [`MIN_TURN_YAW`] toward it (the speed would have to be over
//!   200 km/h) is a frame or mount effect, not a turn.
//! - **Swerve** (`swerve_g`): lateral acceleration one way then the other, and the
//!   heading left nearly unchanged (`swerve_max_heading_deg`), by the gyroscope or else
//!   by the lateral acceleration over the GPS speed (`ω = a/v`). The manoeuvre is the
//!   whole S: with a gyroscope, a quick one whose halves each peak beyond the level for
//!   less than `min_duration_s` is still a swerve when the S as a whole is sustained
//!   (beyond the hysteresis level that long) and the yaw rate follows each half's pull
//!   (the car steered one way, then back), which no knock or swinging holder does. With
//!   neither gyroscope nor speed, a swerve cannot be told from a turn whose driver
//!   straightens out (both swing both ways), so both are reported as `sharp_turn`: the
//!   right clip, under the broader name, rather than a guess.
//!
//! Without a gyroscope only the projections at a force's onset, before a frame leans
//! into it, say which way it points: a run of sustained force whose onset pulls along
//! the forward axis (within the axis estimate's error, [`MAX_AXIS_ERROR_DEG`]) and whose
//! projection swings from onset to release by at least half that force (a road shaking
//! the car up and down raises the magnitude too, but swings no projection) is a brake or
//! a launch, signed as above and raised to that force; any other run keeps its bounded
//! projections (a leaning mount then hides part of a turn; `dashvault detect eval
//! --accel-only` measures how much).

use crate::events::{event, regions, Event, IncidentKind, Region};
use crate::orientation::{CarAxes, Segment};
use crate::thresholds::Thresholds;
use crate::trace::G;

/// Time after a brake or a turn within which speeding up is the return to speed, s: a
/// driver is back on the throttle one to two seconds after the brake is released.
pub const RECOVERY_S: f64 = 3.0;
/// Least yaw rate toward a turn's lateral pull, rad/s: 0.3 g of lateral acceleration
/// needs at least this at up to 59 m/s (212 km/h).
pub const MIN_TURN_YAW: f64 = 0.05;
/// Least speed at which the lateral acceleration over the speed gives the yaw rate, m/s
/// (below it a GPS speed's error is as large as the speed).
const MIN_HEADING_SPEED: f64 = 2.0;
/// A brake must lose, and a launch gain, at least this much speed when it is known, m/s.
const MIN_SPEED_CHANGE: f64 = 0.5;
/// Start of a run of longitudinal force whose projection gives its sign, and the time
/// after it whose projection is its give-back, s: a lagging frame or a mount leans into
/// a force, and back, over about a second.
pub const ONSET_S: f64 = 0.5;
/// Speed up to which the frame-free force is credited to a turn, m/s: a lateral
/// acceleration is `v·ω`, and 25 m/s (90 km/h) is the top of ordinary roads; beyond
/// `25·ω` the force is vertical or longitudinal, whatever the magnitude says.
pub const MAX_TURN_SPEED: f64 = 25.0;

/// Largest error of the forward axis estimated without a gyroscope, degrees (2–17°
/// measured on the real trips, whose test holds it under this). Without a gyroscope a
/// run of frame-free force counts as a brake or a launch only when its onset pulls
/// along the forward axis by more than `1/tan` of this times across it: a force along
/// the car, seen through an axis this far off, still does; a lateral one (a turn) does
/// not, nor one between the two (braking in a turn), which the projections judge alone.
pub const MAX_AXIS_ERROR_DEG: f64 = 30.0;

/// The car-axis signals events are cut from, in g.
struct Signals {
    /// Along the forward axis (see [`Signals::new`]).
    longitudinal: Vec<f64>,
    /// Along the left axis.
    lateral: Vec<f64>,
}

impl Signals {
    /// Without a gyroscope: the projections on the estimated axes, each bounded by the
    /// frame-free force, the longitudinal one only within 45° of the forward axis; and
    /// the longitudinal one raised to the frame-free force over the runs of it that
    /// [`raise_straight_runs`] can tell are along the car.
    ///
    /// With a gyroscope, the yaw rate says which way the force can point, so the level
    /// may also come from the frame-free force `F` that is sustained beyond ordinary
    /// driving's (the `force` module): a frame or a mount that leans with the force hides
    /// it from the projections, never from the magnitude. Each signal is the larger of
    /// its projection and what `F` gives it:
    /// - turning (`|ω| ≥` [`MIN_TURN_YAW`]): the lateral acceleration is `v·ω`, toward
    ///   the side the car turns to; `F` gives it the force not on the forward axis,
    ///   `√(F² − a_long²)`, but no more than `v·|ω|` at [`MAX_TURN_SPEED`] (more than that
    ///   is vertical or longitudinal force, whatever the magnitude says);
    /// - straight (`|ω|` under it): a lateral force would need over 200 km/h, so the
    ///   force is longitudinal and the lateral signal nothing. Each run of force is a
    ///   brake or a launch by the sign of the forward projection's strongest value over
    ///   its onset (until [`ONSET_S`] after it first reaches its level) less its
    ///   strongest value over the [`ONSET_S`] after the run: a force shows in the
    ///   projection as it starts, before a lagging frame or a compliant mount leans into
    ///   it, and such a frame gives it back reversed as it swings back, while a vertical
    ///   force (a dip, a crest, a bump) shows in neither; so a run where that difference
    ///   is under the hysteresis level keeps the projection.
    fn new(segment: &Segment, axes: &CarAxes, th: &Thresholds) -> Signals {
        let bounded = |a: f64, force: f64| a.signum() * a.abs().min(force) / G;
        let projected = |(&a, &l): (&f64, &f64), f: f64| {
            if a.abs() > l.abs() {
                bounded(a, f)
            } else {
                0.0
            }
        };
        let mut longitudinal: Vec<f64> = axes
            .long
            .iter()
            .zip(&axes.lat)
            .zip(&segment.force.bound)
            .map(|(al, &f)| projected(al, f))
            .collect();
        let mut lateral: Vec<f64> = axes
            .lat
            .iter()
            .zip(&segment.force.bound)
            .map(|(&a, &f)| bounded(a, f))
            .collect();
        let Some(yaw) = &segment.yaw else {
            let force: Vec<f64> = segment.force.sustained.iter().map(|f| f / G).collect();
            raise_straight_runs(&mut longitudinal, &force, segment, axes, th, false);
            return Signals {
                longitudinal,
                lateral,
            };
        };
        let straight = |w: f64| w.abs() < MIN_TURN_YAW;
        for (i, (&w, &f)) in yaw.iter().zip(&segment.force.sustained).enumerate() {
            lateral[i] = if straight(w) {
                0.0
            } else {
                let along = axes.long[i].abs().min(f);
                let beside = (f * f - along * along)
                    .max(0.0)
                    .sqrt()
                    .min(MAX_TURN_SPEED * w.abs());
                w.signum() * (beside / G).max(lateral[i].abs())
            };
        }
        let straight_force: Vec<f64> = yaw
            .iter()
            .zip(&segment.force.sustained)
            .map(|(&w, &f)| if straight(w) { f / G } else { 0.0 })
            .collect();
        raise_straight_runs(&mut longitudinal, &straight_force, segment, axes, th, true);
        Signals {
            longitudinal,
            lateral,
        }
    }
}

/// Raises `longitudinal` (g) over each run of `force` (g, the frame-free force that may
/// be a brake or a launch) to that force, signed by the forward projection's strongest
/// value over the run's onset (until [`ONSET_S`] after it first reaches its level) less
/// its strongest over the [`ONSET_S`] after the run (see [`Signals::new`]); a run where
/// that difference is under the hysteresis level keeps the projection.
///
/// With a gyroscope (`yaw_known`), `force` holds only what the car bears driving
/// straight. Without one, nothing but the projections says that a run's force is
/// horizontal, and along the car, at all: a road shaking the car up and down raises the
/// magnitude too (a 10 Hz sensor aliases an engine's or a rough road's shake into a
/// second-long swell), and so does a turn. So the run must also pull along the forward
/// axis at its onset by more than `1/tan(`[`MAX_AXIS_ERROR_DEG`]`)` times across it, and
/// its onset-to-release swing must reach the hysteresis fraction of the force it would
/// claim.
fn raise_straight_runs(
    longitudinal: &mut [f64],
    force: &[f64],
    segment: &Segment,
    axes: &CarAxes,
    th: &Thresholds,
    yaw_known: bool,
) {
    let level = th.hard_accel_g.min(th.hard_brake_g);
    let exit = th.hysteresis * level;
    let onset_len = segment.grid.steps(ONSET_S);
    let along_ratio = 1.0 / MAX_AXIS_ERROR_DEG.to_radians().tan();
    let n = axes.long.len();
    for r in regions(force, level, exit, 1, 0) {
        let onset = r.start..=(r.core.0 + onset_len).min(r.end);
        let after = (r.end + 1).min(n)..(r.end + 1 + onset_len).min(n);
        let at_onset = strongest(&axes.long[onset.clone()]);
        let swing = (at_onset - strongest(&axes.long[after])) / G;
        let horizontal_along = yaw_known
            || (at_onset.abs() > along_ratio * strongest(&axes.lat[onset]).abs()
                && swing.abs() >= th.hysteresis * r.peak);
        if swing.abs() < exit || !horizontal_along {
            continue;
        }
        for (signal, &f) in longitudinal[r.start..=r.end]
            .iter_mut()
            .zip(&force[r.start..=r.end])
        {
            *signal = swing.signum() * f.max(signal.abs());
        }
    }
}

/// Detects manoeuvres in one oriented segment.
pub(crate) fn manoeuvres(segment: &Segment, axes: &CarAxes, th: &Thresholds) -> Vec<Event> {
    let signals = Signals::new(segment, axes, th);
    let braking: Vec<f64> = signals.longitudinal.iter().map(|a| -a).collect();
    let mut events = brakes(segment, &braking, th);
    events.extend(launches(segment, &signals, &braking, th));
    events.extend(lateral_events(segment, &signals.lateral, th));
    events
}

/// The value of largest size in `values`, with its sign (0 when empty).
fn strongest(values: &[f64]) -> f64 {
    values
        .iter()
        .fold(0.0, |m: f64, &a| if a.abs() > m.abs() { a } else { m })
}

/// Hard brakes and sudden stops.
fn brakes(segment: &Segment, braking: &[f64], th: &Thresholds) -> Vec<Event> {
    let grid = &segment.grid;
    let (level, exit) = (th.hard_brake_g, th.hysteresis * th.hard_brake_g);
    regions(
        braking,
        level,
        exit,
        grid.steps(th.min_duration_s),
        grid.steps(1.0),
    )
    .into_iter()
    .filter(|r| slows_down(segment, r))
    .map(|r| {
        let kind = if ends_at_standstill(segment, r.end, th) {
            IncidentKind::SuddenStop
        } else {
            IncidentKind::HardBrake
        };
        let (start, end) = (grid.time(r.core.0), grid.time(r.core.1));
        event(kind, start, end, r.peak, level, th.hard_brake_severe_g)
    })
    .collect()
}

/// Hard launches from steady driving.
fn launches(segment: &Segment, signals: &Signals, braking: &[f64], th: &Thresholds) -> Vec<Event> {
    let grid = &segment.grid;
    let recovery = grid.steps(RECOVERY_S);
    let slowing_or_turning = |i: usize| {
        braking[i] >= th.hysteresis * th.hard_brake_g
            || signals.lateral[i].abs() >= th.hysteresis * th.sharp_turn_g
    };
    let (level, exit) = (th.hard_accel_g, th.hysteresis * th.hard_accel_g);
    let min_len = grid.steps(th.min_duration_s);
    regions(&signals.longitudinal, level, exit, min_len, grid.steps(1.0))
        .into_iter()
        .filter(|r| !(r.core.0.saturating_sub(recovery)..r.core.0).any(slowing_or_turning))
        .filter(|r| speeds_up(segment, r))
        .map(|r| {
            let (start, end) = (grid.time(r.core.0), grid.time(r.core.1));
            event(
                IncidentKind::HardAccel,
                start,
                end,
                r.peak,
                level,
                th.hard_accel_severe_g,
            )
        })
        .collect()
}

/// Sharp turns and swerves.
fn lateral_events(segment: &Segment, lateral: &[f64], th: &Thresholds) -> Vec<Event> {
    let grid = &segment.grid;
    let magnitude: Vec<f64> = lateral.iter().map(|a| a.abs()).collect();
    let level = th.sharp_turn_g.min(th.swerve_g);
    let (exit, gap) = (th.hysteresis * level, grid.steps(2.0));
    let min_len = grid.steps(th.min_duration_s);
    let sustained = regions(&magnitude, level, exit, min_len, gap);
    let mut events: Vec<Event> = sustained
        .iter()
        .filter_map(|&r| classify_lateral(segment, lateral, r, th))
        .collect();
    // A swerve is two half-manoeuvres: each may be beyond the level for less than
    // `min_duration_s` where the S as a whole is sustained (see `swerve_lobes`).
    if segment.yaw.is_none() {
        return events;
    }
    let apart = |r: &Region| sustained.iter().all(|s| r.end < s.start || r.start > s.end);
    events.extend(
        regions(&magnitude, level, exit, 1, gap)
            .into_iter()
            .filter(apart)
            .filter(|r| swerve_lobes(segment, lateral, r, th))
            .map(|r| {
                let (start, end) = (grid.time(r.core.0), grid.time(r.core.1));
                event(
                    IncidentKind::Swerve,
                    start,
                    end,
                    r.peak,
                    th.swerve_g,
                    th.swerve_severe_g,
                )
            }),
    );
    events
}

/// Whether a run of lateral force too brief beyond its level to be a turn is a swerve by
/// its shape, which only a gyroscope can confirm: a pull one way and then the other, the
/// larger reaching `swerve_g` and the smaller its reverse fraction, the two together
/// beyond the hysteresis level for at least `min_duration_s` (the manoeuvre is the whole
/// S, so it is the S that must be sustained, not each half), the yaw rate toward each
/// lobe's pull (the car steered one way, then back), and the heading left nearly
/// unchanged. A quick lane change at speed is an S of one to three seconds whose halves
/// each peak briefly; a knock or a holder swinging has no yaw to go with it.
fn swerve_lobes(segment: &Segment, lateral: &[f64], r: &Region, th: &Thresholds) -> bool {
    let Some(yaw) = &segment.yaw else {
        return false;
    };
    let exit = th.hysteresis * th.sharp_turn_g.min(th.swerve_g);
    let min_len = segment.grid.steps(th.min_duration_s);
    // The longest run of each sign beyond the exit level: (length, peak, yaw toward it).
    let lobe = |sign: f64| {
        let mut best = (0usize, 0.0f64, 0.0f64);
        let mut run = (0usize, 0.0f64, 0.0f64);
        let span = r.start..r.end + 1;
        let (Some(pulls), Some(rates)) = (lateral.get(span.clone()), yaw.get(span)) else {
            return best;
        };
        for (&a, &w) in pulls.iter().zip(rates) {
            let a = sign * a;
            if a >= exit {
                run = (run.0 + 1, run.1.max(a), run.2 + sign * w);
                if run.0 > best.0 {
                    best = run;
                }
            } else {
                run = (0, 0.0, 0.0);
            }
        }
        best
    };
    let (left, right) = (lobe(1.0), lobe(-1.0));
    let steered =
        |(len, _, toward): (usize, f64, f64)| len > 0 && toward / len as f64 >= MIN_TURN_YAW;
    let (larger, smaller) = (left.1.max(right.1), left.1.min(right.1));
    let turned = heading_change(segment, lateral, r.start..=r.end);
    left.0 + right.0 >= min_len
        && steered(left)
        && steered(right)
        && larger >= th.swerve_g
        && smaller >= th.swerve_reverse_fraction * th.swerve_g
        && turned.is_some_and(|h| h.abs() < th.swerve_max_heading_deg.to_radians())
}

/// Sharp turn or swerve (see the module doc); `None` when the gyroscope says the car did
/// not turn toward the pull, or no lobe reaches its level.
fn classify_lateral(
    segment: &Segment,
    lateral: &[f64],
    r: Region,
    th: &Thresholds,
) -> Option<Event> {
    let grid = &segment.grid;
    let pad = grid.steps(1.0);
    let around = lateral.get(r.start.saturating_sub(pad)..(r.end + pad + 1).min(lateral.len()))?;
    let left = around.iter().fold(0.0f64, |m, &a| m.max(a));
    let right = around.iter().fold(0.0f64, |m, &a| m.max(-a));
    let (larger, smaller) = (left.max(right), left.min(right));
    let (start, end) = (grid.time(r.core.0), grid.time(r.core.1));
    let turn = event(
        IncidentKind::SharpTurn,
        start,
        end,
        larger,
        th.sharp_turn_g,
        th.sharp_turn_severe_g,
    );
    if let Some(yaw) = &segment.yaw {
        let core = r.core.0..=r.core.1;
        let (toward, count) = yaw
            .get(core.clone())?
            .iter()
            .zip(lateral.get(core)?)
            .fold((0.0, 0usize), |(sum, n), (&w, &a)| {
                (sum + w * a.signum(), n + 1)
            });
        if toward / (count.max(1) as f64) < MIN_TURN_YAW {
            return None;
        }
    }
    let Some(turned) = heading_change(segment, lateral, r.start..=r.end) else {
        return (larger >= th.sharp_turn_g).then_some(turn);
    };
    let swings = larger >= th.swerve_g && smaller >= th.swerve_reverse_fraction * th.swerve_g;
    if swings && turned.abs() < th.swerve_max_heading_deg.to_radians() {
        Some(event(
            IncidentKind::Swerve,
            start,
            end,
            larger,
            th.swerve_g,
            th.swerve_severe_g,
        ))
    } else {
        (larger >= th.sharp_turn_g).then_some(turn)
    }
}

/// How far the car turned over `range`, rad: the gyroscope's yaw integrated, or else
/// the lateral acceleration over the speed (`a = v·ω`) where the speed is known and over
/// [`MIN_HEADING_SPEED`]; `None` when neither tells.
fn heading_change(
    segment: &Segment,
    lateral: &[f64],
    range: std::ops::RangeInclusive<usize>,
) -> Option<f64> {
    let dt = segment.grid.dt;
    if let Some(yaw) = &segment.yaw {
        return Some(yaw.get(range)?.iter().sum::<f64>() * dt);
    }
    let speed = segment.speed.as_ref()?.get(range.clone())?;
    let rates: Option<Vec<f64>> = speed
        .iter()
        .zip(lateral.get(range)?)
        .map(|(v, &a)| v.filter(|&v| v >= MIN_HEADING_SPEED).map(|v| a * G / v))
        .collect();
    Some(rates?.iter().sum::<f64>() * dt)
}

/// Whether the car may have slowed down over the region: it lost at least
/// `MIN_SPEED_CHANGE` of GPS speed, or without GPS speed the road noise did not rise.
fn slows_down(segment: &Segment, r: &Region) -> bool {
    match speed_change(segment, r) {
        Some(dv) => dv <= -MIN_SPEED_CHANGE,
        None => segment
            .noise_change(r.start, r.end)
            .is_none_or(|change| change <= 0.0),
    }
}

/// Whether the car may have sped up over the region: it gained at least
/// `MIN_SPEED_CHANGE` of GPS speed, or without GPS speed the road noise did not fall.
fn speeds_up(segment: &Segment, r: &Region) -> bool {
    match speed_change(segment, r) {
        Some(dv) => dv >= MIN_SPEED_CHANGE,
        None => segment
            .noise_change(r.start, r.end)
            .is_none_or(|change| change >= 0.0),
    }
}

/// Speed at the region's end less at its start, when both are known.
fn speed_change(segment: &Segment, r: &Region) -> Option<f64> {
    let speed = segment.speed.as_ref()?;
    Some(speed.get(r.end).copied().flatten()? - speed.get(r.start).copied().flatten()?)
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
