//! `dashvault media`: probe, cut and time-lapse MP4 recordings (thumbnails and telemetry
//! too), without re-encoding.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context};
use chrono::{DateTime, Utc};
use clap::Subcommand;
use dashvault_media::{CutPlan, Mp4Index, Retime, TimelapseOptions};

mod recover;
mod telemetry;
mod thumb;

/// Subcommands of `dashvault media`.
#[derive(Debug, Subcommand)]
pub enum MediaCommand {
    /// Print the tracks, codecs, durations and keyframes of a recording.
    Probe {
        /// The MP4 / MOV file.
        file: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Cut a time window out of consecutive recordings into one MP4, without re-encoding.
    Cut {
        /// Window start: seconds from the start of the first file, or an RFC 3339 time.
        #[arg(long)]
        from: String,
        /// Window end: seconds from the start of the first file, or an RFC 3339 time.
        #[arg(long)]
        to: String,
        /// Output file, `-` for standard output.
        #[arg(short, long)]
        output: PathBuf,
        /// Consecutive recordings of one camera, in order.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Make a keyframe time-lapse of consecutive recordings, without re-encoding.
    Timelapse {
        /// Speed-up factor: the output lasts the input's duration divided by it.
        #[arg(long)]
        speed: f64,
        /// Keep one keyframe in this many.
        #[arg(long, default_value_t = 1)]
        every: usize,
        /// Output file, `-` for standard output.
        #[arg(short, long)]
        output: PathBuf,
        /// Consecutive recordings of one camera, in order.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Write a JPEG of the first keyframe at or after a time.
    Thumb {
        /// Time in seconds from the start of the recording.
        #[arg(long)]
        at: f64,
        /// Width of the thumbnail in pixels (the height keeps the aspect ratio).
        #[arg(long, default_value_t = dashvault_media::thumbnail::DEFAULT_WIDTH)]
        width: u32,
        /// Output JPEG file, `-` for standard output.
        #[arg(short, long)]
        output: PathBuf,
        /// The MP4 recording.
        file: PathBuf,
    },
    /// Rebuild the index of a recording cut off by a power loss (no moov, or an mdat
    /// whose size was never written) from its sample data, into a new file.
    Recover {
        /// A complete recording of the same camera and view, whose codec configuration,
        /// timescale and frame rate the broken one shares.
        #[arg(long)]
        reference: PathBuf,
        /// Output file; the broken recording is left as it is.
        #[arg(short, long)]
        output: PathBuf,
        /// The broken recording.
        file: PathBuf,
    },
    /// Print the GPS and motion telemetry of a recording or sidecar (.gps, .3gf).
    Telemetry {
        /// The MP4 recording or sidecar file.
        file: PathBuf,
        /// Print the whole telemetry as JSON instead of a summary.
        #[arg(long)]
        json: bool,
    },
}

/// Runs one `media` subcommand.
pub fn run(cmd: MediaCommand) -> anyhow::Result<()> {
    match cmd {
        MediaCommand::Probe { file, json } => probe(&file, json),
        MediaCommand::Thumb {
            at,
            width,
            output,
            file,
        } => thumb::run(&file, at, width, &output),
        MediaCommand::Telemetry { file, json } => telemetry::run(&file, json),
        MediaCommand::Recover {
            reference,
            output,
            file,
        } => recover::run(&file, &reference, &output),
        MediaCommand::Cut {
            from,
            to,
            output,
            files,
        } => {
            let (sources, indexes) = open_all(&files)?;
            let start = indexes.first().and_then(|i| i.creation_time);
            let from = window_time(&from, start, &files[0])?;
            let to = window_time(&to, start, &files[0])?;
            let plan =
                dashvault_media::cut(&indexes, from, to).map_err(|e| name_file(e, &files))?;
            write_plan(&plan, &sources, &output)
        }
        MediaCommand::Timelapse {
            speed,
            every,
            output,
            files,
        } => {
            let (sources, indexes) = open_all(&files)?;
            let options = TimelapseOptions {
                every,
                retime: Retime::Speed(speed),
            };
            let plan =
                dashvault_media::timelapse(&indexes, options).map_err(|e| name_file(e, &files))?;
            write_plan(&plan, &sources, &output)
        }
    }
}

/// Opens and indexes a recording, naming it in any error.
fn open(path: &Path) -> anyhow::Result<(File, Mp4Index)> {
    let file = File::open(path).with_context(|| format!("{}: cannot open", path.display()))?;
    let index = Mp4Index::read(&file).with_context(|| path.display().to_string())?;
    Ok((file, index))
}

fn open_all(paths: &[PathBuf]) -> anyhow::Result<(Vec<File>, Vec<Mp4Index>)> {
    paths
        .iter()
        .map(|p| open(p))
        .collect::<anyhow::Result<Vec<_>>>()
        .map(|v| v.into_iter().unzip())
}

/// Replaces a file number in a library error by the file's name.
fn name_file(err: dashvault_media::Error, paths: &[PathBuf]) -> anyhow::Error {
    match err {
        dashvault_media::Error::InFile { file, source } => match paths.get(file) {
            Some(p) => anyhow!("{}: {source}", p.display()),
            None => anyhow!("file {file}: {source}"),
        },
        other => anyhow!(other),
    }
}

/// Seconds from the start of the first file, from seconds or an RFC 3339 time.
fn window_time(arg: &str, start: Option<DateTime<Utc>>, first: &Path) -> anyhow::Result<f64> {
    if let Ok(seconds) = arg.parse::<f64>() {
        if !seconds.is_finite() || seconds < 0.0 {
            bail!("time {arg:?} must be a non-negative number of seconds");
        }
        return Ok(seconds);
    }
    let at = DateTime::parse_from_rfc3339(arg)
        .with_context(|| format!("time {arg:?} is neither seconds nor an RFC 3339 time"))?;
    let start = start.ok_or_else(|| {
        anyhow!(
            "{}: no creation time in the file, give the window in seconds",
            first.display()
        )
    })?;
    let seconds = (at.with_timezone(&Utc) - start).num_milliseconds() as f64 / 1000.0;
    if seconds < 0.0 {
        bail!(
            "time {arg} is before the start of {} ({start})",
            first.display()
        );
    }
    Ok(seconds)
}

/// Writes a plan to a file (removed again on failure) or to standard output.
fn write_plan(plan: &CutPlan, sources: &[File], output: &Path) -> anyhow::Result<()> {
    if output == Path::new("-") {
        let mut out = std::io::stdout().lock();
        plan.write_to(sources, &mut out)
            .context("writing to standard output")?;
        return Ok(());
    }
    let result = File::create(output)
        .map_err(anyhow::Error::from)
        .and_then(|mut f| {
            plan.write_to(sources, &mut f)?;
            f.flush()?;
            Ok(())
        });
    if let Err(err) = result {
        let _ = std::fs::remove_file(output);
        return Err(err.context(format!("{}: cannot write", output.display())));
    }
    Ok(())
}

fn probe(path: &Path, json: bool) -> anyhow::Result<()> {
    let (_, index) = open(path)?;
    if json {
        let tracks: Vec<_> = index
            .tracks
            .iter()
            .map(|t| {
                serde_json::json!({
                    "id": t.id,
                    "handler": t.handler.to_string(),
                    "codec": t.codec.to_string(),
                    "timescale": t.timescale,
                    "duration": t.end_seconds(),
                    "width": t.width,
                    "height": t.height,
                    "samples": t.samples.len(),
                    "keyframes": t.sync_count(),
                })
            })
            .collect();
        let out = serde_json::json!({
            "file": path.display().to_string(),
            "size": index.file_len,
            "duration": index.duration_seconds(),
            "creation_time": index.creation_time,
            "fragmented": index.fragmented,
            "tracks": tracks,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    println!("{}", path.display());
    println!("  size        {} bytes", index.file_len);
    println!("  duration    {:.3} s", index.duration_seconds());
    if let Some(t) = index.creation_time {
        println!("  created     {}", t.to_rfc3339());
    }
    println!("  fragmented  {}", index.fragmented);
    if index.trailing_bytes > 0 {
        println!(
            "  trailing    {} bytes after the last box (not a box; ignored)",
            index.trailing_bytes
        );
    }
    for t in &index.tracks {
        let size = if t.width > 0 {
            format!(" {}x{}", t.width, t.height)
        } else {
            String::new()
        };
        println!(
            "  track {} {} {}{size}: {} samples, {} keyframes, {:.3} s",
            t.id,
            t.handler,
            t.codec,
            t.samples.len(),
            t.sync_count(),
            t.end_seconds()
        );
    }
    Ok(())
}
