//! Suite cases for [`LedgerRepo`](crate::repo::LedgerRepo) and
//! [`ActivityRepo`](crate::repo::ActivityRepo): the ledger is one gap-free chain whose
//! hashes recompute, filing or deleting twice records once, concurrent appends (across
//! replicas too) never fork it; a clip's activity is its owner's only, listed newest first
//! by cursor, and goes with the clip.

use super::media::file;
use super::uploads::owner_with_device;
use super::{at, MINUTE};
use crate::model::{
    Activity, ActivityAction, ActivityVia, ClipKind, LedgerAction, LedgerEntry, LedgerRecord,
    NewClip, StoredFile, View, LEDGER_GENESIS,
};
use crate::Repo;
use std::sync::Arc;
use uuid::Uuid;

/// Appends made at once by the concurrency case.
const CONCURRENT_APPENDS: usize = 40;

fn stored(user: Uuid, name: &str) -> StoredFile {
    StoredFile {
        kind: "recording".into(),
        object_id: Uuid::now_v7(),
        user_id: user,
        sha256: name.repeat(64 / name.len().max(1)),
        size: 1000,
        blob_key: format!("media/{name}"),
    }
}

fn filed(file: StoredFile, ms: i64) -> LedgerRecord {
    LedgerRecord {
        action: LedgerAction::Store,
        file,
        at: at(ms),
    }
}

/// Every entry of the ledger, in order.
async fn whole_ledger(repo: &Arc<dyn Repo>) -> Vec<LedgerEntry> {
    let mut all = Vec::new();
    loop {
        let after = all.last().map_or(0, |e: &LedgerEntry| e.seq);
        let page = repo.ledger_entries(after, 7).await.expect("ledger page");
        if page.is_empty() {
            return all;
        }
        all.extend(page);
    }
}

/// Panics unless `entries` are one chain from the genesis: seq 1, 2, … and each hash
/// recomputed from its fields and the previous hash.
pub fn assert_one_chain(entries: &[LedgerEntry]) {
    let mut prev = LEDGER_GENESIS.to_owned();
    for (n, entry) in entries.iter().enumerate() {
        assert_eq!(entry.seq, n as i64 + 1, "seq without gaps");
        assert_eq!(
            entry.prev_hash, prev,
            "entry {} follows its predecessor",
            entry.seq
        );
        assert_eq!(
            entry.hash,
            LedgerEntry::chain_hash(entry.seq, &entry.prev_hash, &entry.record),
            "entry {} hashes to what it says",
            entry.seq
        );
        prev = entry.hash.clone();
    }
}

/// Entries chain from the genesis and read back as appended; an object filed twice (or
/// twice in one batch) is recorded once; deletions are recorded once per stored file of
/// the owner's blob keys; stored files are listed by id across recordings, clips and
/// sidecars.
pub async fn ledger_is_one_chain(repo: Arc<dyn Repo>) {
    let (alice, device) = owner_with_device(&repo, "+14155550100").await;
    let (bob, _) = owner_with_device(&repo, "+14155550101").await;
    let a = stored(alice.id, "a");
    let b = stored(alice.id, "b");
    let appended = repo
        .append_ledger(&[
            filed(a.clone(), 1),
            filed(b.clone(), 2),
            filed(a.clone(), 3),
        ])
        .await
        .expect("append");
    assert_eq!(appended.len(), 2, "the repeated record is skipped");
    assert_eq!(appended[0].record, filed(a.clone(), 1));
    let again = repo
        .append_ledger(&[filed(a.clone(), 4)])
        .await
        .expect("append again");
    assert!(again.is_empty(), "an object is filed once");
    assert!(
        repo.ledger_deleted(bob.id, std::slice::from_ref(&a.blob_key), at(MINUTE))
            .await
            .expect("bob deletes")
            .is_empty(),
        "another owner's file is not deleted"
    );
    let deleted = repo
        .ledger_deleted(
            alice.id,
            &[a.blob_key.clone(), "media/none".into()],
            at(MINUTE),
        )
        .await
        .expect("delete");
    assert_eq!(deleted.len(), 1);
    assert_eq!(deleted[0].record.action, LedgerAction::Delete);
    assert_eq!(deleted[0].record.file, a);
    assert!(repo
        .ledger_deleted(alice.id, std::slice::from_ref(&a.blob_key), at(2 * MINUTE))
        .await
        .expect("delete again")
        .is_empty());
    let all = whole_ledger(&repo).await;
    assert_eq!(all.len(), 3);
    assert_eq!(all[..2], appended[..]);
    assert_one_chain(&all);

    let clip = repo
        .add_clip(&NewClip {
            id: Uuid::now_v7(),
            user_id: alice.id,
            device_id: device,
            kind: ClipKind::Manual,
            view: View::Road,
            incidents: Vec::new(),
            file: file("c", 0, 30_000),
            created_at: at(0),
        })
        .await
        .expect("clip");
    let files = repo.stored_files(None, 10).await.expect("stored files");
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].kind, "clip");
    assert_eq!(files[0].object_id, clip.id);
    assert_eq!(files[0].sha256, clip.file.sha256);
    assert_eq!(files[0].size, clip.file.size);
    assert_eq!(files[0].blob_key, clip.file.blob_key);
    assert!(repo
        .stored_files(Some(clip.id), 10)
        .await
        .expect("after the last")
        .is_empty());
}

/// Appends from many tasks at once, over every repository given (replicas of one
/// database), make one chain holding each record once.
pub async fn concurrent_appends_make_one_chain_across(repos: &[Arc<dyn Repo>]) {
    let Some(first) = repos.first() else {
        panic!("no repository given");
    };
    let (alice, _) = owner_with_device(first, "+14155550100").await;
    let tasks: Vec<_> = (0..CONCURRENT_APPENDS)
        .map(|n| {
            let repo = Arc::clone(&repos[n % repos.len()]);
            tokio::spawn(async move {
                let record = filed(stored(alice.id, &format!("{n:02}")), n as i64);
                repo.append_ledger(&[record]).await.expect("append")
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.expect("task").len(), 1);
    }
    let all = whole_ledger(first).await;
    assert_eq!(all.len(), CONCURRENT_APPENDS);
    assert_one_chain(&all);
}

/// The concurrency case on one repository.
pub async fn concurrent_appends_make_one_chain(repo: Arc<dyn Repo>) {
    concurrent_appends_make_one_chain_across(&[repo]).await;
}

/// Activity is recorded only for the owner's existing clip, listed newest first in
/// pages by cursor, to its owner only, and deleted with the clip.
pub async fn clip_activity_is_the_owners_and_goes_with_the_clip(repo: Arc<dyn Repo>) {
    let (alice, device) = owner_with_device(&repo, "+14155550100").await;
    let (bob, _) = owner_with_device(&repo, "+14155550101").await;
    let clip = repo
        .add_clip(&NewClip {
            id: Uuid::now_v7(),
            user_id: alice.id,
            device_id: device,
            kind: ClipKind::Auto,
            view: View::Road,
            incidents: Vec::new(),
            file: file("d", 0, 30_000),
            created_at: at(0),
        })
        .await
        .expect("clip");
    let activity = |user: Uuid, action, via, ms| Activity {
        id: Uuid::now_v7(),
        user_id: user,
        clip_id: clip.id,
        at: at(ms),
        action,
        via,
        ip_prefix: (via == ActivityVia::Share).then(|| "203.0.113.0/24".to_owned()),
    };
    let done = [
        activity(alice.id, ActivityAction::Play, ActivityVia::Session, 1),
        activity(
            alice.id,
            ActivityAction::ShareCreate,
            ActivityVia::Session,
            2,
        ),
        activity(alice.id, ActivityAction::ShareOpen, ActivityVia::Share, 3),
        activity(alice.id, ActivityAction::Download, ActivityVia::Device, 4),
    ];
    for a in &done {
        assert!(repo.record_activity(a).await.expect("record"));
    }
    let share = super::shares::share(alice.id, clip.id, 7, None);
    repo.create_share(&share).await.expect("share");
    assert_eq!(
        repo.share_clip(alice.id, share.id)
            .await
            .expect("share clip"),
        Some(clip.id)
    );
    assert_eq!(
        repo.share_clip(bob.id, share.id).await.expect("bob's"),
        None
    );
    assert!(
        !repo
            .record_activity(&activity(
                bob.id,
                ActivityAction::Play,
                ActivityVia::Session,
                5
            ))
            .await
            .expect("bob records"),
        "not for another owner's clip"
    );
    assert!(repo
        .clip_activity(bob.id, clip.id, None, 10)
        .await
        .expect("bob lists")
        .is_empty());
    let first = repo
        .clip_activity(alice.id, clip.id, None, 3)
        .await
        .expect("page 1");
    let rest = repo
        .clip_activity(alice.id, clip.id, first.last().map(|a| a.id), 3)
        .await
        .expect("page 2");
    let listed: Vec<Activity> = first.into_iter().chain(rest).collect();
    let newest_first: Vec<Activity> = done.iter().rev().cloned().collect();
    assert_eq!(listed, newest_first);
    repo.delete_clip(alice.id, clip.id, at(MINUTE))
        .await
        .expect("delete clip");
    assert!(repo
        .clip_activity(alice.id, clip.id, None, 10)
        .await
        .expect("after delete")
        .is_empty());
    assert!(!repo
        .record_activity(&activity(
            alice.id,
            ActivityAction::Play,
            ActivityVia::Session,
            6
        ))
        .await
        .expect("record after delete"));
}
