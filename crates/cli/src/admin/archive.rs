//! `dashvault admin archive run` and `dashvault admin restores …`: the archive pass on
//! demand, and the operator's side of restore requests. Both act through the server's
//! own archive code, on the same database and blob stores as `serve`.

use super::{aligned, open, runtime, time};
use crate::config::{HumanDuration, Settings};
use anyhow::{bail, Context};
use clap::{ArgMatches, Args, Subcommand};
use dashvault_server::archive;
use dashvault_server::jobs::archive::ArchiveDriveHandler;
use dashvault_server::jobs::{Outcome, Worker, WorkerConfig};
use dashvault_store::model::{JobState, Restore, RestoreState};
use indicatif::{ProgressBar, ProgressStyle};
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// Most drives one `archive run` takes on.
const MOST_DRIVES: u32 = 100_000;

/// How often `archive run` looks at a job another process (a running server) holds.
const POLL: Duration = Duration::from_millis(200);

/// `admin archive` subcommands.
#[derive(Debug, Subcommand)]
pub enum ArchiveCommand {
    /// Move every drive that ended longer ago than `--older-than` to the archive store
    /// now, and return when each is archived.
    Run(Box<ArchiveRunArgs>),
}

/// Flags of `admin archive run`.
#[derive(Debug, Args)]
pub struct ArchiveRunArgs {
    #[command(flatten)]
    settings: Settings,

    /// Archive drives that ended longer ago than this [default: --archive-after, 60days].
    #[arg(long, value_name = "DURATION")]
    older_than: Option<HumanDuration>,
}

/// `admin restores` subcommands.
#[derive(Debug, Subcommand)]
pub enum RestoresCommand {
    /// List restore requests, oldest first.
    List(Box<RestoresListArgs>),
    /// Approve a request: copy the drive back to the hot store (done when this returns),
    /// downloadable for --restore-for.
    Approve(Box<RestoreDecisionArgs>),
    /// Deny a request.
    Deny(Box<RestoreDecisionArgs>),
}

/// Flags of `admin restores list`.
#[derive(Debug, Args)]
pub struct RestoresListArgs {
    #[command(flatten)]
    settings: Settings,

    /// Only requests in this state: requested, approved or denied.
    #[arg(long, value_name = "STATE", value_parser = parse_state)]
    state: Option<RestoreState>,

    /// Print a JSON list (`[{"id", "drive", "user", "requested_at", "state", …}]`).
    #[arg(long)]
    json: bool,
}

/// Flags of `admin restores approve|deny`.
#[derive(Debug, Args)]
pub struct RestoreDecisionArgs {
    #[command(flatten)]
    settings: Settings,

    /// The request's id, as `admin restores list` shows it.
    id: Uuid,
}

fn parse_state(text: &str) -> Result<RestoreState, String> {
    text.parse()
}

/// Run `admin archive …`; `matches` are those of `archive`.
pub fn run_archive(command: ArchiveCommand, matches: &ArgMatches) -> anyhow::Result<()> {
    let ArchiveCommand::Run(args) = command;
    let matches = matches.subcommand_matches("run").unwrap_or(matches);
    let config = args.settings.with_file(matches)?.server_config()?;
    let older_than = args.older_than.map_or(config.archive.after, |d| d.0);
    runtime()?.block_on(async {
        let state = open(&config).await?;
        let now = state.clock.now();
        let drives = archive::due(&state, older_than, now, MOST_DRIVES).await?;
        let tag = Uuid::now_v7().to_string();
        let mut jobs = Vec::with_capacity(drives.len());
        for drive in &drives {
            jobs.push((drive.drive_id, archive::enqueue(&state, drive, &tag).await?));
        }
        let bar = progress(jobs.len());
        let worker = Worker::new(
            Arc::clone(&state.repo),
            Arc::clone(&state.clock),
            WorkerConfig::default(),
        )
        .with_handler(Arc::new(ArchiveDriveHandler {
            state: state.clone(),
        }));
        let mut failed = Vec::new();
        for (drive, job) in jobs {
            loop {
                let job = state
                    .repo
                    .job(job)
                    .await?
                    .context("an archive job vanished from the queue")?;
                match job.state {
                    JobState::Done => break,
                    JobState::Failed => {
                        failed.push(format!(
                            "{drive}: {}",
                            job.last_error.unwrap_or_default()
                        ));
                        break;
                    }
                    JobState::Queued | JobState::Running => {
                        // Ours or the server's worker takes it; a job another process
                        // holds is waited for.
                        if let Outcome::Empty = worker.run_one().await? {
                            tokio::time::sleep(POLL).await;
                        }
                    }
                }
            }
            bar.inc(1);
        }
        bar.finish_and_clear();
        if !failed.is_empty() {
            bail!(
                "{} of {} drives could not be archived (the jobs stay listed in `dashvault admin jobs --state failed`):\n{}",
                failed.len(),
                drives.len(),
                failed.join("\n")
            );
        }
        println!(
            "archived {} drive(s) that ended before {}",
            drives.len(),
            time(now - chrono::TimeDelta::from_std(older_than).unwrap_or(chrono::TimeDelta::MAX))
        );
        anyhow::Ok(())
    })
}

/// Run `admin restores …`; `matches` are those of `restores`.
pub fn run_restores(command: RestoresCommand, matches: &ArgMatches) -> anyhow::Result<()> {
    match command {
        RestoresCommand::List(args) => {
            let matches = matches.subcommand_matches("list").unwrap_or(matches);
            let config = args.settings.with_file(matches)?.server_config()?;
            let states: Vec<RestoreState> = args.state.into_iter().collect();
            let requests = runtime()?.block_on(async {
                let state = open(&config).await?;
                anyhow::Ok(state.repo.restore_requests(&states, MOST_DRIVES).await?)
            })?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&requests)?);
            } else {
                print!("{}", restores_table(&requests));
            }
            Ok(())
        }
        RestoresCommand::Approve(args) => {
            let matches = matches.subcommand_matches("approve").unwrap_or(matches);
            let config = args.settings.with_file(matches)?.server_config()?;
            let restore = runtime()?.block_on(async {
                let state = open(&config).await?;
                anyhow::Ok(archive::approve(&state, args.id).await?)
            })?;
            let until = restore.restored_until.map(time).unwrap_or_default();
            println!(
                "approved: drive {} is back in the hot store until {until}",
                restore.drive_id
            );
            Ok(())
        }
        RestoresCommand::Deny(args) => {
            let matches = matches.subcommand_matches("deny").unwrap_or(matches);
            let config = args.settings.with_file(matches)?.server_config()?;
            let restore = runtime()?.block_on(async {
                let state = open(&config).await?;
                anyhow::Ok(archive::deny(&state, args.id).await?)
            })?;
            println!("denied: drive {} stays archived", restore.drive_id);
            Ok(())
        }
    }
}

/// The server's state for `config`: database, hot and archive blob stores.
fn progress(len: usize) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    bar.set_style(
        ProgressStyle::with_template("archiving {bar:30} {pos}/{len} drives ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

fn restores_table(requests: &[Restore]) -> String {
    let rows: Vec<[String; 5]> = requests
        .iter()
        .map(|r| {
            [
                r.id.to_string(),
                r.drive_id.to_string(),
                r.user_id.to_string(),
                time(r.requested_at),
                r.state.to_string(),
            ]
        })
        .collect();
    aligned(
        ["ID", "DRIVE", "USER", "REQUESTED AT", "STATE"],
        &rows,
        "no restore requests",
    )
}
