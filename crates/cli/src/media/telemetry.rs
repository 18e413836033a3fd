//! `dashvault media telemetry`: what a recording or sidecar says about position and motion.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use dashvault_media::telemetry::{read_parsed, GpsFix, Skipped, Telemetry, Vec3Sample};

/// Prints the telemetry of `file`: a summary, or the whole [`Telemetry`] as JSON. What
/// the reader skipped (noise, damaged records) is said in the summary, or on standard
/// error beside the JSON.
pub fn run(file: &Path, json: bool) -> anyhow::Result<()> {
    let parsed = read_parsed(file).with_context(|| file.display().to_string())?;
    let tel = &parsed.telemetry;
    let text = if json {
        if let Some(note) = skipped(&parsed.skipped) {
            eprintln!("{}: {note}", file.display());
        }
        serde_json::to_string_pretty(tel)? + "\n"
    } else {
        let mut text = summary(file, tel);
        if let Some(note) = skipped(&parsed.skipped) {
            text += &format!("  {note}\n");
        }
        text
    };
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .context("writing to standard output")?;
    Ok(())
}

/// What was skipped, in words; `None` when nothing was.
fn skipped(skipped: &Skipped) -> Option<String> {
    let first = skipped.first.as_deref()?;
    Some(format!(
        "skipped {} unreadable part(s), the first: {first}",
        skipped.count
    ))
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
