//! Row decoding and chaining for the evidence tables, shared by both engines.

use super::convert::truncate_to_millis;
use super::engine::Columns;
use crate::model::{
    Activity, ActivityAction, ActivityVia, LedgerAction, LedgerEntry, LedgerRecord, StoredFile,
    LEDGER_GENESIS,
};
use crate::{Error, Result};

/// Columns of a stored file, as both `ledger` and the union of the item tables name them.
pub(crate) fn stored_file_from_row<R: Columns>(row: &R) -> Result<StoredFile> {
    Ok(StoredFile {
        kind: row.text("kind")?,
        object_id: row.uuid("object_id")?,
        user_id: row.uuid("user_id")?,
        sha256: row.text("sha256")?,
        size: row.count("size")?,
        blob_key: row.text("blob_key")?,
    })
}

/// A `ledger` row.
pub(crate) fn ledger_from_row<R: Columns>(row: &R) -> Result<LedgerEntry> {
    let action = row.text("action")?;
    Ok(LedgerEntry {
        seq: row.int("seq")?,
        record: LedgerRecord {
            action: LedgerAction::parse(&action).ok_or(Error::Corrupt {
                column: "ledger.action",
                value: action,
            })?,
            file: stored_file_from_row(row)?,
            at: row.time("at")?,
        },
        prev_hash: row.text("prev_hash")?,
        hash: row.text("hash")?,
    })
}

/// A `clip_activity` row.
pub(crate) fn activity_from_row<R: Columns>(row: &R) -> Result<Activity> {
    let action = row.text("action")?;
    let via = row.text("via")?;
    Ok(Activity {
        id: row.uuid("id")?,
        user_id: row.uuid("user_id")?,
        clip_id: row.uuid("clip_id")?,
        at: row.time("at")?,
        action: ActivityAction::parse(&action).ok_or(Error::Corrupt {
            column: "clip_activity.action",
            value: action,
        })?,
        via: ActivityVia::parse(&via).ok_or(Error::Corrupt {
            column: "clip_activity.via",
            value: via,
        })?,
        ip_prefix: row.opt_text("ip_prefix")?,
    })
}

/// Those of `records` to append: not `known` (already in the ledger, one flag per
/// record) and not repeated in the batch, their times at millisecond precision.
pub(crate) fn fresh(records: Vec<LedgerRecord>, known: &[bool]) -> Vec<LedgerRecord> {
    let mut out: Vec<LedgerRecord> = Vec::new();
    for (record, known) in records.into_iter().zip(known) {
        let repeated = out
            .iter()
            .any(|r| r.file.object_id == record.file.object_id && r.action == record.action);
        if !known && !repeated {
            out.push(LedgerRecord {
                at: truncate_to_millis(record.at),
                ..record
            });
        }
    }
    out
}

/// `records` chained after the entry `head` (seq and hash; `None`: the chain is empty).
pub(crate) fn chain(head: Option<(i64, String)>, records: Vec<LedgerRecord>) -> Vec<LedgerEntry> {
    let (mut seq, mut prev) = head.unwrap_or((0, LEDGER_GENESIS.to_owned()));
    records
        .into_iter()
        .map(|record| {
            seq += 1;
            let entry = LedgerEntry::chained(seq, &prev, record);
            prev = entry.hash.clone();
            entry
        })
        .collect()
}
