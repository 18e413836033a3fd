//! The detector's input: accelerometer, gyroscope and speed samples in the device's own
//! axes, from a CSV file or from the telemetry the media crate extracts, and their checks.

use crate::error::{DetectError, Result};
use dashvault_media::telemetry::{Telemetry, Vec3Sample};
use serde::{Deserialize, Serialize};
use std::io::BufRead;

/// Lowest IMU rate accepted: a manoeuvre lasts about a second, so 10 Hz still resolves it.
pub const MIN_IMU_HZ: f64 = 10.0;
/// Lowest speed rate accepted (a GPS fix a second).
pub const MIN_SPEED_HZ: f64 = 1.0;
/// Standard gravity, m/s²: peak values are reported in multiples of it.
pub const G: f64 = 9.80665;

/// One ground-speed reading.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SpeedSample {
    /// Seconds, on the same clock as the IMU samples.
    pub t: f64,
    /// Ground speed in m/s.
    pub speed: f64,
}

/// Everything the detector reads about one drive (or one file of it).
///
/// Times are seconds on one clock shared by all streams; accelerometer in m/s² with gravity
/// included, gyroscope in rad/s, both in the device's axes whatever its mounting. The
/// gyroscope and speed may be empty (BlackVue `.3gf` has only an accelerometer).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Trace {
    /// Accelerometer samples in time order.
    pub accel: Vec<Vec3Sample>,
    /// Gyroscope samples in time order; empty when the device has none.
    pub gyro: Vec<Vec3Sample>,
    /// GPS ground speed in time order; empty when unknown.
    pub speed: Vec<SpeedSample>,
    /// Spans `[start, end]` (s) when the camera was in its parking mode or the ignition
    /// was off, as the camera reports it; empty when it does not.
    #[serde(default)]
    pub parked: Vec<[f64; 2]>,
}

impl Trace {
    /// Takes the streams of a camera's telemetry (fixes without a speed are skipped).
    pub fn from_telemetry(telemetry: &Telemetry) -> Trace {
        Trace {
            accel: telemetry.accel.clone(),
            gyro: telemetry.gyro.clone(),
            speed: telemetry
                .gps
                .iter()
                .filter_map(|fix| fix.speed.map(|speed| SpeedSample { t: fix.t, speed }))
                .collect(),
            parked: Vec::new(),
        }
    }

    /// Reads a CSV with a header naming the columns `t`, `ax`, `ay`, `az` and optionally
    /// `gx`, `gy`, `gz`, `speed` and `parked` (any order, other columns ignored). An empty
    /// cell means "no reading on this row", so a 1 Hz speed can sit in a 100 Hz file.
    /// `parked` is 1 on rows the camera recorded in its parking mode (or with the
    /// ignition off) and 0 otherwise; consecutive 1 rows make one [`Trace::parked`] span.
    pub fn from_csv<R: BufRead>(reader: R) -> Result<Trace> {
        let mut rows = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .flexible(true)
            .from_reader(reader);
        let header = rows.headers().map_err(csv_error)?.clone();
        if header.is_empty() {
            return Ok(Trace::default());
        }
        let columns = Columns::from_header(&header)?;
        let mut trace = Trace::default();
        let mut was_parked = false;
        for row in rows.records() {
            let row = row.map_err(csv_error)?;
            if row.iter().all(str::is_empty) {
                continue;
            }
            let (t, parked) = columns.read_row(&row, csv_line(row.position()), &mut trace)?;
            match (parked, was_parked, trace.parked.last_mut()) {
                (true, true, Some(span)) => span[1] = t,
                (true, _, _) => trace.parked.push([t, t]),
                _ => {}
            }
            was_parked = parked;
        }
        Ok(trace)
    }

    /// Checks what the detector relies on: finite values, time never going backwards,
    /// rates high enough, parked spans that are spans, and an accelerometer that shows
    /// gravity.
    pub fn validate(&self) -> Result<()> {
        check_stream("accel", self.accel.iter().map(|s| (s.t, s.v)), MIN_IMU_HZ)?;
        check_stream("gyro", self.gyro.iter().map(|s| (s.t, s.v)), MIN_IMU_HZ)?;
        check_stream(
            "speed",
            self.speed.iter().map(|s| (s.t, [s.speed; 3])),
            MIN_SPEED_HZ,
        )?;
        if let Some(&[start, end]) = self
            .parked
            .iter()
            .find(|&&[a, b]| !(a.is_finite() && b.is_finite() && a <= b))
        {
            return Err(DetectError::Parked { start, end });
        }
        if !self.accel.is_empty() {
            let mut magnitudes: Vec<f64> = strided(&self.accel)
                .map(|s| crate::vector::norm(s.v))
                .collect();
            let median = median(&mut magnitudes);
            if !(0.6 * G..=1.4 * G).contains(&median) {
                return Err(DetectError::NoGravity { median });
            }
        }
        Ok(())
    }
}

/// At most about [`MEDIAN_SAMPLES`] items spread evenly over `items`: enough for a median.
fn strided<T>(items: &[T]) -> impl Iterator<Item = &T> {
    items.iter().step_by((items.len() / MEDIAN_SAMPLES).max(1))
}

/// How many values a median is taken over.
const MEDIAN_SAMPLES: usize = 4096;

/// Median of a non-empty slice of finite numbers (0 when empty); reorders the slice.
pub(crate) fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mid = values.len() / 2;
    let (_, m, _) = values.select_nth_unstable_by(mid, f64::total_cmp);
    *m
}

fn check_stream(
    stream: &'static str,
    samples: impl Iterator<Item = (f64, [f64; 3])>,
    min_hz: f64,
) -> Result<()> {
    let mut prev: Option<f64> = None;
    let mut steps = Vec::new();
    for (index, (t, v)) in samples.enumerate() {
        if !t.is_finite() || v.iter().any(|x| !x.is_finite()) {
            return Err(DetectError::NonFinite { stream, index, t });
        }
        if let Some(p) = prev {
            if t < p {
                return Err(DetectError::TimeBackwards {
                    stream,
                    index,
                    prev: p,
                    t,
                });
            }
            if t > p && steps.len() < MEDIAN_SAMPLES {
                steps.push(t - p);
            }
        }
        prev = Some(t);
    }
    if steps.is_empty() {
        return Ok(());
    }
    let step = median(&mut steps);
    let rate_hz = 1.0 / step;
    // 10 % slack: a 10 Hz GPS-clocked stream is rarely exactly 10 Hz.
    if rate_hz < 0.9 * min_hz {
        return Err(DetectError::RateTooLow {
            stream,
            rate_hz,
            min_hz,
        });
    }
    Ok(())
}

/// Where each known column sits in a CSV row.
struct Columns {
    t: usize,
    accel: [usize; 3],
    gyro: Option<[usize; 3]>,
    speed: Option<usize>,
    parked: Option<usize>,
}

/// The 1-based line of a place in a CSV file (0 when unknown).
pub(crate) fn csv_line(position: Option<&csv::Position>) -> usize {
    position.map_or(0, |p| usize::try_from(p.line()).unwrap_or(usize::MAX))
}

/// A CSV file that can not be read as rows (not UTF-8, an unreadable file), at its line.
fn csv_error(e: csv::Error) -> DetectError {
    DetectError::Csv {
        line: csv_line(e.position()),
        message: e.to_string(),
    }
}

impl Columns {
    fn from_header(header: &csv::StringRecord) -> Result<Columns> {
        let find = |name: &str| header.iter().position(|n| n.eq_ignore_ascii_case(name));
        let need = |name: &str| {
            find(name).ok_or_else(|| DetectError::Csv {
                line: 1,
                message: format!(
                    "no `{name}` column in header `{}`",
                    header.iter().collect::<Vec<_>>().join(",")
                ),
            })
        };
        let gyro = match (find("gx"), find("gy"), find("gz")) {
            (Some(x), Some(y), Some(z)) => Some([x, y, z]),
            (None, None, None) => None,
            _ => {
                return Err(DetectError::Csv {
                    line: 1,
                    message: "gyroscope needs all of gx, gy, gz".into(),
                })
            }
        };
        Ok(Columns {
            t: need("t")?,
            accel: [need("ax")?, need("ay")?, need("az")?],
            gyro,
            speed: find("speed"),
            parked: find("parked"),
        })
    }

    /// Adds the row's readings to `trace`; returns its time and whether it is parked.
    fn read_row(
        &self,
        row: &csv::StringRecord,
        number: usize,
        trace: &mut Trace,
    ) -> Result<(f64, bool)> {
        let cell = |i: usize| -> Result<Option<f64>> {
            match row.get(i).unwrap_or("") {
                "" => Ok(None),
                text => text.parse().map(Some).map_err(|_| DetectError::Csv {
                    line: number,
                    message: format!("`{text}` is not a number"),
                }),
            }
        };
        let triple = |idx: [usize; 3]| -> Result<Option<[f64; 3]>> {
            match (cell(idx[0])?, cell(idx[1])?, cell(idx[2])?) {
                (Some(x), Some(y), Some(z)) => Ok(Some([x, y, z])),
                (None, None, None) => Ok(None),
                _ => Err(DetectError::Csv {
                    line: number,
                    message: "a three-axis reading has some axes empty".into(),
                }),
            }
        };
        let Some(t) = cell(self.t)? else {
            return Err(DetectError::Csv {
                line: number,
                message: "empty `t`".into(),
            });
        };
        if let Some(v) = triple(self.accel)? {
            trace.accel.push(Vec3Sample { t, v });
        }
        if let Some(v) = self.gyro.map(triple).transpose()?.flatten() {
            trace.gyro.push(Vec3Sample { t, v });
        }
        if let Some(speed) = self.speed.map(cell).transpose()?.flatten() {
            trace.speed.push(SpeedSample { t, speed });
        }
        let parked = match self.parked.map(cell).transpose()?.flatten() {
            None => false,
            Some(flag) if flag == 0.0 || flag == 1.0 => flag == 1.0,
            Some(flag) => {
                return Err(DetectError::Csv {
                    line: number,
                    message: format!("`parked` is 0 or 1, not {flag}"),
                })
            }
        };
        Ok((t, parked))
    }
}
