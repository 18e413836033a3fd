//! `dashvault admin verify-store`: checks the ledger of stored files against the rows
//! and the bytes. The chain must hold (each entry's hash recomputes from its fields and
//! the previous hash, `seq` without gaps); every stored recording, clip and sidecar must
//! have its entry and agree with it (SHA-256, size, blob key); every file the ledger says
//! is stored must still have its row, and its blob, re-hashed in parallel (hot store,
//! else the archive), must have the SHA-256 and size the ledger recorded.
//!
//! It runs beside a serving server: the rows are read before the ledger (a file is filed
//! before its entry is written, so a file listed has its entry by then), and entries
//! appended after the run began are not expected among the rows read before.

use super::{open, runtime_multi};
use crate::config::Settings;
use anyhow::Context;
use clap::{ArgMatches, Args};
use dashvault_server::state::AppState;
use dashvault_store::blob::BlobKey;
use dashvault_store::model::{LedgerAction, LedgerEntry, LedgerRecord, StoredFile, LEDGER_GENESIS};
use futures_util::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use tokio::task::JoinSet;
use uuid::Uuid;

/// Rows or entries read per query.
const PAGE: u32 = 1000;

/// Flags of `admin verify-store`.
#[derive(Debug, Args)]
pub struct VerifyStoreArgs {
    #[command(flatten)]
    settings: Settings,

    /// Files re-hashed at once.
    #[arg(long, value_name = "N", default_value_t = 4)]
    jobs: usize,

    /// Enter the stored files that have no ledger entry (those stored before the ledger
    /// existed) into it now, instead of reporting them; their bytes are then checked
    /// against what is entered from their rows.
    #[arg(long)]
    adopt: bool,

    /// Print the findings as JSON.
    #[arg(long)]
    json: bool,
}

/// What the check found.
#[derive(Debug, Default, serde::Serialize)]
struct Report {
    ledger_entries: u64,
    files_checked: u64,
    bytes_hashed: u64,
    adopted: u64,
    problems: Vec<String>,
}

/// Run `admin verify-store`; `matches` are those of `verify-store`. Fails (exit 1) when
/// anything does not hold, after listing all of it.
pub fn run(args: VerifyStoreArgs, matches: &ArgMatches) -> anyhow::Result<()> {
    let config = args.settings.with_file(matches)?.server_config()?;
    let jobs = args.jobs.max(1);
    let report = runtime_multi()?.block_on(async {
        let state = open(&config).await?;
        check(&state, (jobs, args.adopt), !args.json).await
    })?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for problem in &report.problems {
            println!("{problem}");
        }
        if report.adopted > 0 {
            println!(
                "{} stored files without an entry entered in the ledger",
                report.adopted
            );
        }
        println!(
            "{} ledger entries, {} stored files re-hashed ({} bytes): {}",
            report.ledger_entries,
            report.files_checked,
            report.bytes_hashed,
            match report.problems.len() {
                0 => "all hold".to_owned(),
                n => format!("{n} problems"),
            }
        );
    }
    if report.problems.is_empty() {
        Ok(())
    } else {
        anyhow::bail!(
            "the store does not match its ledger ({} problems)",
            report.problems.len()
        )
    }
}

async fn check(
    state: &AppState,
    (jobs, adopt): (usize, bool),
    progress: bool,
) -> anyhow::Result<Report> {
    let mut report = Report::default();
    let began = chrono::Utc::now();
    let rows = all_rows(state).await?;
    let latest = read_chain(state, &mut report).await?;
    let mut to_hash = Vec::new();
    let mut unledgered = Vec::new();
    for row in rows.values() {
        match latest.get(&row.object_id) {
            None if adopt => unledgered.push(LedgerRecord {
                action: LedgerAction::Store,
                file: row.clone(),
                at: chrono::Utc::now(),
            }),
            None => report.problems.push(format!(
                "{} {}: stored (blob {}) but not in the ledger",
                row.kind, row.object_id, row.blob_key
            )),
            // Deleted since its row was read: nothing to check.
            Some(entry) if entry.record.action == LedgerAction::Delete && entry.record.at >= began => {}
            Some(entry) if entry.record.action == LedgerAction::Delete => report.problems.push(format!(
                "{} {}: the ledger (entry {}) says it was deleted, but its row is still there",
                row.kind, row.object_id, entry.seq
            )),
            Some(entry) if entry.record.file != *row => report.problems.push(format!(
                "{} {}: its row changed: it says SHA-256 {}, {} bytes, blob {}, owner {}; the ledger (entry {}) says SHA-256 {}, {} bytes, blob {}, owner {}",
                row.kind, row.object_id, row.sha256, row.size, row.blob_key, row.user_id,
                entry.seq, entry.record.file.sha256, entry.record.file.size,
                entry.record.file.blob_key, entry.record.file.user_id
            )),
            Some(_) => {}
        }
    }
    let stored = latest
        .values()
        .filter(|e| e.record.action == LedgerAction::Store);
    for entry in stored {
        let file = &entry.record.file;
        if rows.contains_key(&file.object_id) {
            to_hash.push(file.clone());
        } else if entry.record.at < began {
            report.problems.push(format!(
                "{} {}: the ledger (entry {}) says it is stored, but its row is gone",
                file.kind, file.object_id, entry.seq
            ));
        }
    }
    for chunk in unledgered.chunks(PAGE as usize) {
        let entered = state.repo.append_ledger(chunk).await?;
        report.adopted += entered.len() as u64;
        to_hash.extend(entered.into_iter().map(|e| e.record.file));
    }
    let bar = bar(&to_hash, progress);
    for (file, found) in hash_all(state, to_hash, jobs, &bar).await {
        report.files_checked += 1;
        match found {
            Ok((sha256, len)) => {
                report.bytes_hashed += len;
                if sha256 != file.sha256 || len != file.size {
                    report.problems.push(format!(
                        "{} {}: its bytes changed: blob {} has SHA-256 {sha256}, {len} bytes; the ledger says {}, {} bytes",
                        file.kind, file.object_id, file.blob_key, file.sha256, file.size
                    ));
                }
            }
            Err(err) => report.problems.push(format!(
                "{} {}: blob {} can not be read: {err:#}",
                file.kind, file.object_id, file.blob_key
            )),
        }
    }
    bar.finish_and_clear();
    Ok(report)
}

/// Every stored recording, clip and sidecar, by id.
async fn all_rows(state: &AppState) -> anyhow::Result<HashMap<Uuid, StoredFile>> {
    let mut rows = HashMap::new();
    let mut after = None;
    loop {
        let page = state.repo.stored_files(after, PAGE).await?;
        let Some(last) = page.last() else {
            return Ok(rows);
        };
        after = Some(last.object_id);
        rows.extend(page.into_iter().map(|f| (f.object_id, f)));
    }
}

/// Walk the whole ledger, reporting breaks of the chain; each object's last entry (its
/// filing, or its deletion), by object id.
async fn read_chain(
    state: &AppState,
    report: &mut Report,
) -> anyhow::Result<HashMap<Uuid, LedgerEntry>> {
    let mut latest = HashMap::new();
    let (mut seq, mut prev) = (0i64, LEDGER_GENESIS.to_owned());
    loop {
        let page = state.repo.ledger_entries(seq, PAGE).await?;
        if page.is_empty() {
            return Ok(latest);
        }
        for entry in page {
            report.ledger_entries += 1;
            if entry.seq != seq + 1 {
                report.problems.push(format!(
                    "ledger: entries {}..{} are missing",
                    seq + 1,
                    entry.seq - 1
                ));
            }
            if entry.prev_hash != prev {
                report.problems.push(format!(
                    "ledger entry {}: it does not follow the entry before it (previous hash {}, expected {prev})",
                    entry.seq, entry.prev_hash
                ));
            }
            if entry.hash != LedgerEntry::chain_hash(entry.seq, &entry.prev_hash, &entry.record) {
                report.problems.push(format!(
                    "ledger entry {}: its fields do not hash to its hash (the entry was changed)",
                    entry.seq
                ));
            }
            (seq, prev) = (entry.seq, entry.hash.clone());
            latest.insert(entry.record.file.object_id, entry);
        }
    }
}

/// A progress bar over the bytes to re-hash (hidden when not wanted).
fn bar(files: &[StoredFile], shown: bool) -> ProgressBar {
    if !shown {
        return ProgressBar::hidden();
    }
    let total = files.iter().map(|f| f.size).sum();
    let bar = ProgressBar::new(total);
    if let Ok(style) = ProgressStyle::with_template(
        "re-hashing {bar:40} {bytes}/{total_bytes} ({bytes_per_sec}, {eta} left)",
    ) {
        bar.set_style(style);
    }
    bar
}

/// Each file's blob's SHA-256 (hex) and length, `jobs` at a time, in any order.
async fn hash_all(
    state: &AppState,
    files: Vec<StoredFile>,
    jobs: usize,
    bar: &ProgressBar,
) -> Vec<(StoredFile, anyhow::Result<(String, u64)>)> {
    let mut pending = files.into_iter();
    let mut running = JoinSet::new();
    let mut done = Vec::new();
    loop {
        while running.len() < jobs {
            let Some(file) = pending.next() else { break };
            let (state, bar) = (state.clone(), bar.clone());
            running.spawn(async move {
                let found = hash(&state, &file.blob_key, &bar).await;
                (file, found)
            });
        }
        match running.join_next().await {
            Some(Ok(result)) => done.push(result),
            Some(Err(err)) => tracing::error!(%err, "a re-hashing task failed"),
            None => return done,
        }
    }
}

/// The SHA-256 and length of the blob `key`: in the hot store, else in the archive.
async fn hash(state: &AppState, key: &str, bar: &ProgressBar) -> anyhow::Result<(String, u64)> {
    let key = BlobKey::new(key.to_owned()).context("a stored blob key")?;
    let store = match state.blobs.head(&key).await {
        Ok(_) => &state.blobs,
        Err(err) if err.is_not_found() => &state.archive,
        Err(err) => return Err(err.into()),
    };
    let len = store.head(&key).await?.len;
    let mut body = store.get_range(&key, 0..len).await?;
    let mut hasher = Sha256::new();
    let mut read = 0u64;
    while let Some(chunk) = body.next().await {
        let chunk = chunk?;
        hasher.update(&chunk);
        read += chunk.len() as u64;
        bar.inc(chunk.len() as u64);
    }
    Ok((hex::encode(hasher.finalize()), read))
}
