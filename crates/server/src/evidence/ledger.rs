//! Writing the ledger of stored files from the server: an entry when a file is filed
//! (its deletion is recorded by the routes that delete, through `ledger_deleted`). Both are idempotent (the store records an object's filing and
//! its deletion once), so a retried upload or deletion records nothing twice.

use chrono::{DateTime, Utc};
use dashvault_store::model::{LedgerAction, LedgerRecord, StoredFile, StoredObject};
use dashvault_store::Repo;
use uuid::Uuid;

/// Record that the user's `item` is stored (as its row says now), unless it already is.
pub async fn filed(
    repo: &dyn Repo,
    user: Uuid,
    item: StoredObject,
    now: DateTime<Utc>,
) -> dashvault_store::Result<()> {
    let file = match item {
        StoredObject::Recording(id) => repo.recording(user, id).await?.map(|r| StoredFile {
            kind: r.kind.as_str().to_owned(),
            object_id: id,
            user_id: user,
            sha256: r.file.sha256,
            size: r.file.size,
            blob_key: r.file.blob_key,
        }),
        StoredObject::Clip(id) => repo.clip(user, id).await?.map(|c| StoredFile {
            kind: "clip".to_owned(),
            object_id: id,
            user_id: user,
            sha256: c.file.sha256,
            size: c.file.size,
            blob_key: c.file.blob_key,
        }),
        StoredObject::Sidecar(id) => repo.sidecar(user, id).await?.map(|s| StoredFile {
            kind: "sidecar".to_owned(),
            object_id: id,
            user_id: user,
            sha256: s.sha256,
            size: s.size,
            blob_key: s.blob_key,
        }),
    };
    if let Some(file) = file {
        repo.append_ledger(&[LedgerRecord {
            action: LedgerAction::Store,
            file,
            at: now,
        }])
        .await?;
    }
    Ok(())
}
