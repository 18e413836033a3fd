//! `dashvault detect`: incident detection from G-sensor data (CSV, later MP4 / `.3gf`).

use clap::Subcommand;
use std::path::PathBuf;

/// Subcommands of `dashvault detect`.
#[derive(Debug, Subcommand)]
pub enum DetectCommand {
    /// Detect incidents in one recording and list events and clip windows.
    Run {
        /// CSV with columns t, ax, ay, az, gx, gy, gz and optional speed.
        file: PathBuf,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Run the detector on labelled trips and print per-class precision and recall.
    Eval {
        /// Trip folders in the driverBehaviorDataset layout.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
    },
}

/// Runs one `detect` subcommand.
pub fn run(cmd: DetectCommand) -> anyhow::Result<()> {
    match cmd {
        DetectCommand::Run { file, .. } => {
            anyhow::bail!("detect run {}: not implemented yet", file.display())
        }
        DetectCommand::Eval { .. } => anyhow::bail!("detect eval: not implemented yet"),
    }
}
