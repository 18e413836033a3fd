//! Reading the driverBehaviorDataset's files: a trip folder's sensor CSVs, its labels and
//! the origin of its clock (`viagem.json`). Every fault names the file (and, in a CSV, the line).

use super::{Label, LabelledTrip, Manoeuvre};
use crate::error::{DetectError, Result};
use crate::trace::csv_line;
use dashvault_media::telemetry::Vec3Sample;
use std::path::{Path, PathBuf};

impl LabelledTrip {
    /// Reads a trip folder: `acelerometro_terra.csv`, `giroscopio_terra.csv`,
    /// `groundTruth.csv`, `viagem.json` (for the clock's origin) and, when there is one,
    /// `campoMagnetico_terra.csv`.
    pub fn load(dir: &Path) -> Result<LabelledTrip> {
        let origin = read_origin(&dir.join("viagem.json"))?;
        let accel = read_sensor(&dir.join("acelerometro_terra.csv"), origin)?;
        let gyro = read_sensor(&dir.join("giroscopio_terra.csv"), origin)?;
        let magnet_file = dir.join("campoMagnetico_terra.csv");
        let magnet = if magnet_file.exists() {
            read_sensor(&magnet_file, origin)?
        } else {
            Vec::new()
        };
        let mut labels = read_labels(&dir.join("groundTruth.csv"))?;
        labels.sort_by(|a, b| a.start.total_cmp(&b.start));
        Ok(LabelledTrip {
            name: dir.file_name().map_or_else(
                || dir.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            ),
            accel,
            gyro,
            magnet,
            labels,
        })
    }
}

fn dataset_error(path: &Path, message: impl Into<String>) -> DetectError {
    DetectError::Dataset {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| dataset_error(path, format!("cannot read: {e}")))
}

/// `firstCollectionUptimeNanos` from `viagem.json`: the labels' time origin.
fn read_origin(path: &Path) -> Result<i64> {
    let text = read_text(path)?;
    let trip: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| dataset_error(path, format!("not JSON: {e}")))?;
    trip["firstCollectionUptimeNanos"]
        .as_i64()
        .ok_or_else(|| dataset_error(path, "no firstCollectionUptimeNanos"))
}

/// The rows of a dataset CSV after its header, each with its 1-based line.
fn csv_rows(path: &Path) -> Result<Vec<(usize, csv::StringRecord)>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_path(path)
        .map_err(|e| dataset_error(path, format!("cannot read: {e}")))?;
    reader
        .records()
        .map(|row| {
            let row = row.map_err(|e| dataset_error(path, e.to_string()))?;
            Ok((csv_line(row.position()), row))
        })
        .collect()
}

/// A sensor file: `timestamp,uptimeNanos,x,y,z`, times relative to `origin` (ns).
fn read_sensor(path: &Path, origin: i64) -> Result<Vec<Vec3Sample>> {
    let mut out = Vec::new();
    for (line, row) in csv_rows(path)? {
        let fields: Vec<&str> = row.iter().collect();
        let parsed = match fields.as_slice() {
            [_, nanos, x, y, z] => nanos.parse::<i64>().ok().zip((|| {
                Some([x.parse().ok()?, y.parse().ok()?, z.parse().ok()?])
            })()),
            [] | [""] => continue,
            _ => None,
        };
        let (nanos, v) =
            parsed.ok_or_else(|| dataset_error(path, format!("line {line}: malformed")))?;
        out.push(Vec3Sample {
            t: (nanos - origin) as f64 / 1e9,
            v,
        });
    }
    Ok(out)
}

/// `groundTruth.csv`: `evento, inicio, fim`, then `label,start,end` rows.
fn read_labels(path: &Path) -> Result<Vec<Label>> {
    let mut out = Vec::new();
    for (line, row) in csv_rows(path)? {
        let fields: Vec<&str> = row.iter().collect();
        let bad = |what: &str| dataset_error(path, format!("line {line}: {what}"));
        match fields.as_slice() {
            [] | [""] => continue,
            [name, start, end] => out.push(Label {
                manoeuvre: Manoeuvre::parse(name).ok_or_else(|| bad("unknown label"))?,
                start: start.parse().map_err(|_| bad("bad start"))?,
                end: end.parse().map_err(|_| bad("bad end"))?,
            }),
            _ => return Err(bad("expected label,start,end")),
        }
    }
    Ok(out)
}

/// Loads every trip folder.
pub fn load_trips(dirs: &[PathBuf]) -> Result<Vec<LabelledTrip>> {
    dirs.iter().map(|d| LabelledTrip::load(d)).collect()
}
