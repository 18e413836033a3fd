//! Suite cases for [`UploadRepo`](crate::UploadRepo): ownership, compare-and-set progress,
//! expiry and quota accounting.

use super::{at, HOUR};
use crate::blob::PartReceipt;
use crate::model::{NewDevice, StoredObject, Upload, UploadOutcome, UploadProgress, User};
use crate::Repo;
use std::sync::Arc;
use uuid::Uuid;

/// A user with one device.
pub(crate) async fn owner_with_device(repo: &Arc<dyn Repo>, phone: &str) -> (User, Uuid) {
    let user = repo
        .find_or_create_user(phone, at(0))
        .await
        .expect("find_or_create_user");
    let device = NewDevice {
        id: Uuid::new_v4(),
        user_id: user.id,
        model: "BlackVue DR900X-2CH".into(),
        serial: format!("SN-{phone}"),
        name: "Car".into(),
        has_cabin_camera: true,
        uploads_drives: true,
        token_hash: phone.as_bytes().to_vec(),
        created_at: at(0),
    };
    repo.create_device(&device).await.expect("create_device");
    (user, device.id)
}

fn new_upload(user: &User, device_id: Uuid, length: u64, expires_ms: i64) -> Upload {
    let id = Uuid::new_v4();
    Upload {
        id,
        user_id: user.id,
        device_id,
        length,
        offset: 0,
        metadata: "kind cmVjb3JkaW5n".into(),
        blob_key: format!("media/{}", id.simple()),
        multipart_id: None,
        parts: vec![],
        tail_key: None,
        tail_len: 0,
        partial: false,
        created_at: at(0),
        expires_at: at(expires_ms),
        outcome: None,
        failure: None,
    }
}

/// An upload reads back as stored, only for its owner, and is deleted only by its owner.
pub async fn uploads_are_scoped_by_owner(repo: Arc<dyn Repo>) {
    let (alice, device) = owner_with_device(&repo, "+14155550100").await;
    let (bob, _) = owner_with_device(&repo, "+14155550101").await;
    let upload = new_upload(&alice, device, 1000, HOUR);
    repo.create_upload(&upload).await.expect("create_upload");
    assert_eq!(
        repo.upload(alice.id, upload.id).await.expect("upload"),
        Some(upload.clone())
    );
    assert_eq!(repo.upload(bob.id, upload.id).await.expect("upload"), None);
    assert!(!repo.delete_upload(bob.id, upload.id).await.expect("delete"));
    assert!(repo
        .delete_upload(alice.id, upload.id)
        .await
        .expect("delete"));
    assert_eq!(
        repo.upload(alice.id, upload.id).await.expect("upload"),
        None
    );
}

/// Progress moves only from the offset the writer saw: a second writer that saw the same
/// offset loses, and nothing of its write is kept.
pub async fn progress_is_compare_and_set(repo: Arc<dyn Repo>) {
    let (alice, device) = owner_with_device(&repo, "+14155550100").await;
    let upload = new_upload(&alice, device, 20_000_000, HOUR);
    repo.create_upload(&upload).await.expect("create_upload");
    let progress = UploadProgress {
        offset: 6_000_000,
        multipart_id: Some("mp-1".into()),
        parts: vec![PartReceipt {
            part_index: 0,
            etag: "etag-0".into(),
            size: 5_242_880,
        }],
        tail_key: Some("uploads/x/tail".into()),
        tail_len: 757_120,
        outcome: None,
    };
    assert!(repo
        .record_progress(alice.id, upload.id, 0, &progress)
        .await
        .expect("record"));
    let stale = UploadProgress {
        offset: 10,
        ..upload.progress()
    };
    assert!(!repo
        .record_progress(alice.id, upload.id, 0, &stale)
        .await
        .expect("record"));
    let stored = repo
        .upload(alice.id, upload.id)
        .await
        .expect("upload")
        .expect("still there");
    assert_eq!(stored.progress(), progress);
    let (bob, _) = owner_with_device(&repo, "+14155550101").await;
    assert!(!repo
        .record_progress(bob.id, upload.id, 6_000_000, &stale)
        .await
        .expect("record"));
}

/// Expired uploads are found for cleanup; live ones are not. Declared lengths count
/// against the owner's quota.
pub async fn expired_uploads_are_found_and_lengths_count(repo: Arc<dyn Repo>) {
    let (alice, device) = owner_with_device(&repo, "+14155550100").await;
    let old = new_upload(&alice, device, 100, HOUR);
    let live = new_upload(&alice, device, 250, 3 * HOUR);
    repo.create_upload(&old).await.expect("create");
    repo.create_upload(&live).await.expect("create");
    let expired = repo
        .expired_uploads(at(2 * HOUR), 10)
        .await
        .expect("expired");
    assert_eq!(expired, vec![old]);
    assert_eq!(repo.used_bytes(alice.id).await.expect("used"), 350);
    let (bob, _) = owner_with_device(&repo, "+14155550101").await;
    assert_eq!(repo.used_bytes(bob.id).await.expect("used"), 0);
}

/// A completed upload keeps what it became (its SHA-256 and item) or why it was refused,
/// and is found by id and by its multipart upload for sweeps.
pub async fn outcomes_are_kept_with_the_upload(repo: Arc<dyn Repo>) {
    let (alice, device) = owner_with_device(&repo, "+14155550100").await;
    let upload = new_upload(&alice, device, 100, HOUR);
    repo.create_upload(&upload).await.expect("create_upload");
    let item = StoredObject::Clip(Uuid::new_v4());
    let done = UploadProgress {
        offset: 100,
        multipart_id: Some("mp-7".into()),
        parts: vec![],
        tail_key: None,
        tail_len: 0,
        outcome: Some(UploadOutcome {
            sha256: "ab".repeat(32),
            item,
        }),
    };
    assert!(repo
        .record_progress(alice.id, upload.id, 0, &done)
        .await
        .expect("record"));
    let stored = repo
        .upload_by_id(upload.id)
        .await
        .expect("upload_by_id")
        .expect("found");
    assert_eq!(stored.progress(), done);
    assert_eq!(stored.failure, None);
    assert!(repo.multipart_in_use("mp-7").await.expect("in use"));
    assert!(!repo.multipart_in_use("mp-8").await.expect("in use"));

    let refused = new_upload(&alice, device, 10, HOUR);
    repo.create_upload(&refused).await.expect("create_upload");
    repo.fail_upload(alice.id, refused.id, "not a video")
        .await
        .expect("fail_upload");
    let stored = repo
        .upload(alice.id, refused.id)
        .await
        .expect("upload")
        .expect("kept");
    assert_eq!(stored.failure.as_deref(), Some("not a video"));
    assert_eq!(stored.outcome, None);
    assert_eq!(repo.upload_by_id(Uuid::new_v4()).await.expect("none"), None);
}

/// An upload's lock is free again once dropped; on an engine shared by several processes
/// a second holder is refused while the first holds it.
pub async fn upload_locks_are_exclusive(repo: Arc<dyn Repo>) {
    let id = Uuid::new_v4();
    let first = repo.lock_upload(id).await.expect("lock").expect("free");
    let second = repo.lock_upload(id).await.expect("lock");
    assert_eq!(second.is_none(), repo.engine() == "postgres");
    let other = repo.lock_upload(Uuid::new_v4()).await.expect("lock");
    assert!(other.is_some(), "another upload's lock is free");
    drop((first, second, other));
    for _ in 0..200 {
        if repo.lock_upload(id).await.expect("lock").is_some() {
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!("the lock was not released after its holder dropped it");
}
