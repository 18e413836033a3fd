//! `dashvault admin storage`: how many bytes the cloud keeps for its users, and how many
//! the blob store holds that nothing owns (left by crashes, refused files, duplicates),
//! which the server's sweep reclaims (or this command, with `--sweep`).

use super::{open, runtime};
use crate::config::Settings;
use anyhow::Context;
use clap::{ArgMatches, Args};
use dashvault_server::tus::SweepReport;

/// Flags of `admin storage`.
#[derive(Debug, Args)]
pub struct StorageArgs {
    #[command(flatten)]
    settings: Settings,

    /// Remove what nothing owns now (as the server does at start and every hour), then
    /// report what was removed.
    #[arg(long)]
    sweep: bool,

    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

/// The report: stored bytes and what a sweep finds.
#[derive(Debug, serde::Serialize)]
struct Report {
    stored_bytes: u64,
    reclaimable_bytes: u64,
    swept: bool,
    #[serde(flatten)]
    sweep: SweepReport,
}

/// Run `admin storage`; `matches` are those of `storage`.
pub fn run(args: StorageArgs, matches: &ArgMatches) -> anyhow::Result<()> {
    let config = args.settings.with_file(matches)?.server_config()?;
    let report = runtime()?.block_on(async {
        let state = open(&config).await?;
        let stored_bytes = state.repo.stored_bytes().await?;
        let sweep = dashvault_server::tus::sweep(&state, args.sweep)
            .await
            .context("surveying the blob store")?;
        anyhow::Ok(Report {
            stored_bytes,
            reclaimable_bytes: sweep.reclaimable_bytes(),
            swept: args.sweep,
            sweep,
        })
    })?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        let verb = if report.swept {
            "removed"
        } else {
            "reclaimable"
        };
        println!(
            "stored:      {} bytes (recordings, clips, sidecars)",
            report.stored_bytes
        );
        println!(
            "orphaned:    {} bytes in {} blobs, {} unowned multipart uploads",
            report.sweep.orphaned_bytes,
            report.sweep.orphaned_blobs,
            report.sweep.orphaned_multipart_uploads
        );
        println!(
            "temporary:   {} bytes of writers that are gone",
            report.sweep.temporary_bytes
        );
        println!("{verb}: {} bytes", report.reclaimable_bytes);
    }
    Ok(())
}
