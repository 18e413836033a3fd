//! `dashvault`: the one binary. It parses flags, calls into the library crates and maps
//! their errors to an exit code; the work itself lives in `crates/*`.

mod admin;
mod agent;
mod config;
mod demo;
mod detect;
mod hints;
mod media;
mod serve;
mod simulate;
mod verify;

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
    /// Check an evidence bundle: signature, hashes, and that its video is the originals'
    /// bytes (offline with --key).
    Verify(Box<verify::VerifyArgs>),
}

/// The command line: [`Cli`] with each `admin` command's help cut to its own options.
fn command() -> clap::Command {
    Cli::command().mut_subcommand("admin", config::admin_help)
}

fn main() -> ExitCode {
    let matches = match command().try_get_matches() {
        Ok(matches) => matches,
        Err(err) => hints::with_tip(err, &std::env::args().collect::<Vec<_>>()).exit(),
    };
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
        Command::Verify(args) => verify::run(*args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("dashvault: {}", one_line(&err));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes on one line, each said once: a library error whose message
/// already holds its source's (`I/O error: {0}`) is not followed by that source again.
fn one_line(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain().map(ToString::to_string) {
        if line.contains(&cause) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&cause);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::one_line;
    use anyhow::Context;

    #[test]
    fn a_cause_already_in_the_message_is_not_repeated() {
        let io = std::io::Error::other("Is a directory (os error 21)");
        let err = Err::<(), _>(dashvault_media::Error::Io(io))
            .context("/tmp/x")
            .unwrap_err();
        assert_eq!(
            one_line(&err),
            "/tmp/x: I/O error: Is a directory (os error 21)"
        );
    }
}
