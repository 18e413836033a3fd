//! `dashvault admin`: operator commands on the database `serve` uses, with the same
//! settings (`--data-dir`, `--database-url`, `--config` …). They work while the server
//! runs: SQLite is in WAL mode with a busy timeout, PostgreSQL is shared anyway.

use crate::config::Settings;
use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{ArgMatches, Args, Subcommand};
use dashvault_server::clock::SystemClock;
use dashvault_server::state::AppState;
use dashvault_store::model::{Job, JobCounts, JobState};
use std::fmt::Write as _;
use std::sync::Arc;

mod archive;
mod evidence_key;
mod storage;
mod verify_store;

/// Operator commands.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// List background jobs: what is queued, running and failed (add `--state done` for
    /// finished ones), next to run first.
    Jobs(Box<JobsArgs>),
    /// The archive tier: move drives past the archive age to the archive store now.
    #[command(subcommand)]
    Archive(archive::ArchiveCommand),
    /// Owners' requests to restore archived drives: list, approve, deny.
    #[command(subcommand)]
    Restores(archive::RestoresCommand),
    /// Bytes stored for users, and bytes the blob store holds that nothing owns (what the
    /// server's sweep reclaims).
    Storage(Box<storage::StorageArgs>),
    /// Print the public key that verifies this service's evidence bundles.
    EvidenceKey(Box<evidence_key::EvidenceKeyArgs>),
    /// Check the ledger of stored files: its hash chain, every file's row, and every
    /// file's bytes (re-hashed in parallel); exit 1 listing whatever does not hold.
    VerifyStore(Box<verify_store::VerifyStoreArgs>),
}

/// Flags of `admin jobs`.
#[derive(Debug, Args)]
pub struct JobsArgs {
    #[command(flatten)]
    settings: Settings,

    /// Only jobs in this state; repeat for several [default: queued, running, failed].
    #[arg(
        long,
        value_name = "STATE",
        value_parser = PossibleValuesParser::new(JobState::ALL.map(JobState::as_str))
            .try_map(|s| s.parse::<JobState>())
    )]
    state: Vec<JobState>,

    /// List at most this many jobs.
    #[arg(long, value_name = "N", default_value_t = 100)]
    limit: u32,

    /// Print a JSON list of the jobs instead of a table.
    #[arg(long)]
    json: bool,
}

/// Run an admin command; `matches` are those of `admin`.
pub fn run(command: AdminCommand, matches: &ArgMatches) -> anyhow::Result<()> {
    match command {
        AdminCommand::Jobs(args) => {
            let matches = matches.subcommand_matches("jobs").unwrap_or(matches);
            jobs(*args, matches)
        }
        AdminCommand::Archive(command) => {
            let matches = matches.subcommand_matches("archive").unwrap_or(matches);
            archive::run_archive(command, matches)
        }
        AdminCommand::Restores(command) => {
            let matches = matches.subcommand_matches("restores").unwrap_or(matches);
            archive::run_restores(command, matches)
        }
        AdminCommand::Storage(args) => {
            let matches = matches.subcommand_matches("storage").unwrap_or(matches);
            storage::run(*args, matches)
        }
        AdminCommand::EvidenceKey(args) => {
            let matches = matches
                .subcommand_matches("evidence-key")
                .unwrap_or(matches);
            evidence_key::run(*args, matches)
        }
        AdminCommand::VerifyStore(args) => {
            let matches = matches
                .subcommand_matches("verify-store")
                .unwrap_or(matches);
            verify_store::run(*args, matches)
        }
    }
}

fn jobs(args: JobsArgs, matches: &ArgMatches) -> anyhow::Result<()> {
    let config = args.settings.with_file(matches)?.server_config()?;
    let states = if args.state.is_empty() {
        vec![JobState::Queued, JobState::Running, JobState::Failed]
    } else {
        args.state
    };
    let runtime = runtime()?;
    let (jobs, counts) = runtime.block_on(async {
        let repo = dashvault_store::open(&config.database_url)
            .await
            .with_context(|| {
                format!(
                    "opening the database {}",
                    dashvault_server::app::redact_password(&config.database_url)
                )
            })?;
        let jobs = repo.list_jobs(&states, args.limit).await?;
        let counts = repo.count_jobs().await?;
        anyhow::Ok((jobs, counts))
    })?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&jobs)?);
    } else {
        print!("{}", table(&jobs, &counts));
    }
    Ok(())
}

/// Longest error text shown in the table (the JSON has it whole).
const ERROR_WIDTH: usize = 60;

/// The jobs as an aligned table, then the count in each state.
fn table(jobs: &[Job], counts: &JobCounts) -> String {
    let rows: Vec<[String; 6]> = jobs
        .iter()
        .map(|job| {
            [
                job.id.to_string(),
                job.kind.clone(),
                job.state.to_string(),
                format!("{}/{}", job.attempts, job.max_attempts),
                time(job.run_at),
                job.last_error.as_deref().map(one_line).unwrap_or_default(),
            ]
        })
        .collect();
    let header = ["ID", "KIND", "STATE", "ATTEMPTS", "RUN AT", "LAST ERROR"];
    let mut out = aligned(header, &rows, "no jobs");
    let _ = writeln!(
        out,
        "\n{} queued, {} running, {} failed, {} done",
        counts.queued, counts.running, counts.failed, counts.done
    );
    out
}

/// `rows` under `header` in aligned columns, or `empty` on a line of its own.
fn aligned<const N: usize>(header: [&str; N], rows: &[[String; N]], empty: &str) -> String {
    let header = header.map(String::from);
    let mut widths = header.clone().map(|h| h.chars().count());
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    if rows.is_empty() {
        out.push_str(empty);
        out.push('\n');
        return out;
    }
    for row in std::iter::once(&header).chain(rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// The service's state (database and blob stores) for `config`, as the server opens it.
async fn open(config: &dashvault_server::config::ServerConfig) -> anyhow::Result<AppState> {
    AppState::from_config(config, Arc::new(SystemClock))
        .await
        .context("opening the service's database and blob stores")
}

/// A runtime on every core, for admin work that runs tasks in parallel.
fn runtime_multi() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// The async runtime an admin command runs its work on.
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

fn time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%SZ").to_string()
}

/// An error message on one line, cut to [`ERROR_WIDTH`] characters.
fn one_line(text: &str) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(ERROR_WIDTH) {
        Some((end, _)) => format!("{}…", flat.get(..end).unwrap_or(&flat)),
        None => flat,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_errors_are_cut_to_one_line() {
        assert_eq!(one_line("a\n  b\tc"), "a b c");
        let long = "é".repeat(100);
        let cut = one_line(&long);
        assert_eq!(cut.chars().count(), ERROR_WIDTH + 1);
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn empty_queue_says_so() {
        let text = table(&[], &JobCounts::default());
        assert_eq!(text, "no jobs\n\n0 queued, 0 running, 0 failed, 0 done\n");
    }
}
