//! `dashvault`: the one binary. It parses flags, calls into the library crates and maps
//! their errors to an exit code; the work itself lives in `crates/*`.

mod admin;
mod agent;
mod config;
mod demo;
mod detect;
mod media;
mod serve;
mod simulate;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
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
    /// Run the cloud service (embedded SQLite and files on disk by default).
    Serve(Box<serve::ServeArgs>),
    /// Work with MP4 recordings: probe, cut, time-lapse, thumbnails, telemetry.
    #[command(subcommand)]
    Media(media::MediaCommand),
    /// Detect incidents (hard brakes, turns, collisions…) in G-sensor data.
    #[command(subcommand)]
    Detect(detect::DetectCommand),
    /// The device-and-phone side: import from a camera folder, clips, uploads, status.
    #[command(subcommand)]
    Agent(agent::AgentCommand),
    /// Operator commands on the service's database (works while it serves).
    #[command(subcommand)]
    Admin(admin::AdminCommand),
    /// Simulate devices: a dashcam recording a drive with incidents.
    #[command(subcommand)]
    Simulate(simulate::SimulateCommand),
}

fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(err) => err.exit(),
    };
    let result = match cli.command {
        Command::Serve(settings) => {
            let serve_matches = matches.subcommand_matches("serve").unwrap_or(&matches);
            serve::run(*settings, serve_matches)
        }
        Command::Media(cmd) => media::run(cmd),
        Command::Agent(cmd) => agent::run(cmd),
        Command::Detect(cmd) => detect::run(cmd),
        Command::Admin(cmd) => {
            let admin_matches = matches.subcommand_matches("admin").unwrap_or(&matches);
            admin::run(cmd, admin_matches)
        }
        Command::Simulate(cmd) => simulate::run(cmd),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("dashvault: {err:#}");
            ExitCode::FAILURE
        }
    }
}
