//! `dashvault`: the one binary. It parses flags, calls into the library crates and maps
//! their errors to an exit code; the work itself lives in `crates/*`.

mod detect;
mod media;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Self-hostable cloud for dashcam video.
#[derive(Debug, Parser)]
#[command(name = "dashvault", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Work with MP4 recordings: probe, cut, time-lapse, thumbnails, telemetry.
    #[command(subcommand)]
    Media(media::MediaCommand),
    /// Detect incidents (hard brakes, turns, collisions…) in G-sensor data.
    #[command(subcommand)]
    Detect(detect::DetectCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Media(cmd) => media::run(cmd),
        Command::Detect(cmd) => detect::run(cmd),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("dashvault: {err:#}");
            ExitCode::FAILURE
        }
    }
}
