//! Suite cases for [`ArchiveRepo`](crate::ArchiveRepo): which drives are due for the
//! archive, marking them, and restore requests (one waiting per drive, decided once,
//! keeping the drive out of the archive pass until the restore ends).

use super::media::{file, recording};
use super::uploads::owner_with_device;
use super::{at, HOUR, MINUTE};
use crate::model::{RestoreState, View};
use crate::Repo;
use std::sync::Arc;
use uuid::Uuid;

/// A one-minute drive of `device` starting at `at(start_ms)`; its id.
async fn drive(repo: &Arc<dyn Repo>, user: Uuid, device: Uuid, sha: &str, start_ms: i64) -> Uuid {
    repo.add_recording(&recording(
        user,
        device,
        View::Road,
        file(sha, start_ms, 60_000),
    ))
    .await
    .expect("add_recording")
    .drive_id
}

/// Drives that ended before the cut-off are due, oldest first, until marked archived;
/// marking needs the owner.
pub async fn old_drives_are_due_until_archived(repo: Arc<dyn Repo>) {
    let (alice, car) = owner_with_device(&repo, "+14155550101").await;
    let (bob, _) = owner_with_device(&repo, "+14155550102").await;
    let old = drive(&repo, alice.id, car, "a", 0).await;
    let older = drive(&repo, alice.id, car, "b", -10 * HOUR).await;
    let recent = drive(&repo, alice.id, car, "c", 10 * HOUR).await;

    let due = repo
        .drives_due_for_archive(at(5 * HOUR), at(20 * HOUR), 10)
        .await
        .expect("due");
    let ids: Vec<Uuid> = due.iter().map(|d| d.drive_id).collect();
    assert_eq!(
        ids,
        [older, old],
        "oldest first, the recent drive is not due"
    );
    assert!(due.iter().all(|d| d.user_id == alice.id));
    assert_eq!(due[1].end, at(MINUTE));

    assert!(!repo.mark_drive_archived(bob.id, old).await.expect("mark"));
    assert!(repo.mark_drive_archived(alice.id, old).await.expect("mark"));
    let due = repo
        .drives_due_for_archive(at(5 * HOUR), at(20 * HOUR), 10)
        .await
        .expect("due");
    assert_eq!(due.iter().map(|d| d.drive_id).collect::<Vec<_>>(), [older]);
    assert!(!recent.is_nil());
}

/// A restore request waits once per drive (asking again gives it back), only the owner
/// can ask, an approval un-archives the drive until the restore ends (the archive pass
/// leaves it alone until then), and a request is decided only once.
pub async fn restore_requests_are_decided_once(repo: Arc<dyn Repo>) {
    let (alice, car) = owner_with_device(&repo, "+14155550103").await;
    let (bob, _) = owner_with_device(&repo, "+14155550104").await;
    let id = drive(&repo, alice.id, car, "d", 0).await;
    assert!(repo.mark_drive_archived(alice.id, id).await.expect("mark"));

    assert_eq!(
        repo.request_restore(bob.id, id, at(HOUR))
            .await
            .expect("request"),
        None
    );
    let asked = repo
        .request_restore(alice.id, id, at(HOUR))
        .await
        .expect("request")
        .expect("alice owns the drive");
    assert_eq!(
        (asked.state, asked.drive_id, asked.user_id),
        (RestoreState::Requested, id, alice.id)
    );
    let again = repo
        .request_restore(alice.id, id, at(2 * HOUR))
        .await
        .expect("request")
        .expect("alice owns the drive");
    assert_eq!(
        again, asked,
        "a waiting request is given back, not duplicated"
    );
    let waiting = repo
        .restore_requests(&[RestoreState::Requested], 10)
        .await
        .expect("list");
    assert_eq!(waiting, std::slice::from_ref(&asked));

    let until = at(200 * HOUR);
    let approved = repo
        .approve_restore(asked.id, at(3 * HOUR), until)
        .await
        .expect("approve")
        .expect("it waited");
    assert_eq!(approved.state, RestoreState::Approved);
    assert_eq!(approved.decided_at, Some(at(3 * HOUR)));
    assert_eq!(approved.restored_until, Some(until));
    assert_eq!(
        repo.approve_restore(asked.id, at(4 * HOUR), until)
            .await
            .expect("approve"),
        None
    );
    assert_eq!(
        repo.deny_restore(asked.id, at(4 * HOUR))
            .await
            .expect("deny"),
        None
    );
    assert_eq!(
        repo.restore_request(asked.id).await.expect("get"),
        Some(approved)
    );

    let due_at = |now| repo.drives_due_for_archive(at(100 * HOUR), now, 10);
    assert!(
        due_at(at(199 * HOUR)).await.expect("due").is_empty(),
        "restored: not due"
    );
    assert_eq!(
        due_at(until).await.expect("due").len(),
        1,
        "due again when the restore ends"
    );

    assert!(repo.mark_drive_archived(alice.id, id).await.expect("mark"));
    let second = repo
        .request_restore(alice.id, id, at(300 * HOUR))
        .await
        .expect("request")
        .expect("alice owns the drive");
    assert_ne!(
        second.id, asked.id,
        "a decided request does not block a new one"
    );
    let denied = repo
        .deny_restore(second.id, at(301 * HOUR))
        .await
        .expect("deny")
        .expect("it waited");
    assert_eq!(
        (denied.state, denied.restored_until),
        (RestoreState::Denied, None)
    );
    let all = repo.restore_requests(&[], 10).await.expect("list");
    assert_eq!(all.len(), 2);
    assert_eq!(
        repo.restore_request(Uuid::new_v4()).await.expect("get"),
        None
    );
}
