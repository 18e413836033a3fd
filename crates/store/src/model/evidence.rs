//! Records of evidence: the hash-chained ledger of stored files, and what was done with
//! each clip (its activity).

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The `prev_hash` of the first ledger entry: 64 zeros.
pub const LEDGER_GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What a ledger entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LedgerAction {
    /// The file was filed (stored for an owner).
    Store,
    /// The file was deleted.
    Delete,
}

impl LedgerAction {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Store => "store",
            Self::Delete => "delete",
        }
    }

    /// Parse the stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "store" => Some(Self::Store),
            "delete" => Some(Self::Delete),
            _ => None,
        }
    }
}

/// One stored file as the ledger (and `verify-store`) sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredFile {
    /// `recording`, `timelapse`, `clip` or `sidecar`.
    pub kind: String,
    /// The recording's, clip's or sidecar's id.
    pub object_id: Uuid,
    /// Owner.
    pub user_id: Uuid,
    /// Lower-case hex SHA-256 of the file.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// Blob key.
    pub blob_key: String,
}

/// What to append to the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LedgerRecord {
    /// Filed or deleted.
    pub action: LedgerAction,
    /// The file.
    #[serde(flatten)]
    pub file: StoredFile,
    /// When.
    pub at: DateTime<Utc>,
}

/// An entry of the ledger: a record, its place in the chain and its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LedgerEntry {
    /// Position, from 1, without gaps.
    pub seq: i64,
    /// What it records.
    #[serde(flatten)]
    pub record: LedgerRecord,
    /// The previous entry's hash ([`LEDGER_GENESIS`] for the first).
    pub prev_hash: String,
    /// [`LedgerEntry::chain_hash`] of this entry.
    pub hash: String,
}

impl LedgerEntry {
    /// The entry at `seq` after an entry whose hash is `prev_hash`, hashed.
    pub fn chained(seq: i64, prev_hash: &str, record: LedgerRecord) -> Self {
        let hash = Self::chain_hash(seq, prev_hash, &record);
        Self {
            seq,
            record,
            prev_hash: prev_hash.to_owned(),
            hash,
        }
    }

    /// Lower-case hex SHA-256 of the entry's fields, one per line, in a fixed order, the
    /// time in milliseconds since the epoch: what `verify-store` recomputes.
    pub fn chain_hash(seq: i64, prev_hash: &str, record: &LedgerRecord) -> String {
        let f = &record.file;
        let text = format!(
            "dashvault-ledger-v1\n{seq}\n{prev_hash}\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n",
            record.action.as_str(),
            f.kind,
            f.object_id,
            f.user_id,
            f.sha256,
            f.size,
            f.blob_key,
            record.at.timestamp_millis(),
        );
        format!("{:x}", Sha256::digest(text.as_bytes()))
    }
}

/// What was done with a clip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivityAction {
    /// Its video was played (once per viewing).
    Play,
    /// Its video was downloaded.
    Download,
    /// Its evidence bundle was made.
    EvidenceExport,
    /// A share link to it was made.
    ShareCreate,
    /// Its share link was opened.
    ShareOpen,
    /// A share link to it was revoked.
    ShareRevoke,
}

impl ActivityAction {
    /// Every action.
    pub const ALL: [Self; 6] = [
        Self::Play,
        Self::Download,
        Self::EvidenceExport,
        Self::ShareCreate,
        Self::ShareOpen,
        Self::ShareRevoke,
    ];

    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Play => "play",
            Self::Download => "download",
            Self::EvidenceExport => "evidence_export",
            Self::ShareCreate => "share_create",
            Self::ShareOpen => "share_open",
            Self::ShareRevoke => "share_revoke",
        }
    }

    /// Parse the stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// Through what an activity came.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ActivityVia {
    /// The owner's signed-in session.
    Session,
    /// One of the owner's device tokens.
    Device,
    /// A share link (anonymous).
    Share,
}

impl ActivityVia {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Session => "session",
            Self::Device => "device",
            Self::Share => "share",
        }
    }

    /// Parse the stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Session, Self::Device, Self::Share]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// One thing done with a clip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    /// Id (time-ordered: a v7 UUID), the listing's cursor.
    pub id: Uuid,
    /// The clip's owner.
    pub user_id: Uuid,
    /// The clip.
    pub clip_id: Uuid,
    /// When.
    pub at: DateTime<Utc>,
    /// What.
    pub action: ActivityAction,
    /// Through what.
    pub via: ActivityVia,
    /// An anonymous viewer's network (`/24` or `/48`), never a whole address.
    pub ip_prefix: Option<String>,
}
