//! `dashvault media telemetry`: what a recording or sidecar says about position and motion.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use dashvault_media::telemetry::{read_telemetry, GpsFix, Telemetry, Vec3Sample};

/// Prints the telemetry of `file`: a summary, or the whole [`Telemetry`] as JSON.
pub fn run(file: &Path, json: bool) -> anyhow::Result<()> {
    let tel = read_telemetry(file).with_context(|| file.display().to_string())?;
    let text = if json {
        serde_json::to_string_pretty(&tel)? + "\n"
    } else {
        summary(file, &tel)
    };
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .context("writing to standard output")?;
    Ok(())
}

fn summary(file: &Path, tel: &Telemetry) -> String {
    let mut out = format!("{}\n", file.display());
    let start = tel
        .start
        .map_or_else(|| "unknown".to_string(), |s| s.to_rfc3339());
    out += &format!("  start  {start}\n");
    out += &format!(
        "  gps    {}\n",
        span(
            tel.gps.len(),
            "fixes",
            tel.gps.first().map(|f| f.t),
            tel.gps.last().map(|f| f.t)
        )
    );
    for (label, fix) in [("first", tel.gps.first()), ("last", tel.gps.last())] {
        if let Some(fix) = fix {
            out += &format!("    {label:<5} {}\n", describe(fix));
        }
    }
    for (label, series) in [("accel", &tel.accel), ("gyro", &tel.gyro)] {
        out += &format!("  {label:<6} {}\n", vec3_span(series));
    }
    out
}

fn span(n: usize, what: &str, first: Option<f64>, last: Option<f64>) -> String {
    match (first, last) {
        (Some(a), Some(b)) => format!("{n} {what}, {a:.3} – {b:.3} s"),
        _ => "none".to_string(),
    }
}

fn vec3_span(series: &[Vec3Sample]) -> String {
    span(
        series.len(),
        "samples",
        series.first().map(|s| s.t),
        series.last().map(|s| s.t),
    )
}

fn describe(fix: &GpsFix) -> String {
    let mut text = format!("t={:.3} s  {:.7}, {:.7}", fix.t, fix.lat, fix.lon);
    if let Some(time) = fix.time {
        text += &format!("  {}", time.to_rfc3339());
    }
    if let Some(speed) = fix.speed {
        text += &format!("  {speed:.2} m/s");
    }
    if let Some(alt) = fix.alt {
        text += &format!("  alt {alt:.1} m");
    }
    text
}
