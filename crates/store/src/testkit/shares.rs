//! Suite cases for [`ShareRepo`](crate::repo::ShareRepo): shares found by token hash,
//! listed per clip for their owner only, revoked once, live until their expiry instant,
//! and kept after their clip is deleted.

use super::media::file;
use super::uploads::owner_with_device;
use super::{at, MINUTE};
use crate::model::Share;
use crate::model::{ClipKind, NewClip, View};
use crate::Repo;
use std::sync::Arc;
use uuid::Uuid;

/// A share of `clip` whose token hash is `hash` repeated (location shown for even ones).
pub(super) fn share(user: Uuid, clip: Uuid, hash: u8, expires_ms: Option<i64>) -> Share {
    Share {
        id: Uuid::now_v7(),
        user_id: user,
        clip_id: clip,
        token_hash: vec![hash; 32],
        include_location: hash.is_multiple_of(2),
        allow_download: hash.is_multiple_of(3),
        created_at: at(i64::from(hash)),
        expires_at: expires_ms.map(at),
        revoked_at: None,
    }
}

/// Shares read back by token hash and per clip (oldest first, only for their owner);
/// revoking keeps the first revocation time and is scoped by owner; a share is live
/// until its expiry instant; a token hash is unique; deleting the clip keeps the share.
pub async fn shares_are_found_listed_and_revoked(repo: Arc<dyn Repo>) {
    let (alice, device) = owner_with_device(&repo, "+14155550100").await;
    let (bob, _) = owner_with_device(&repo, "+14155550101").await;
    let clip = repo
        .add_clip(&NewClip {
            id: Uuid::now_v7(),
            user_id: alice.id,
            device_id: device,
            kind: ClipKind::Manual,
            view: View::Road,
            incidents: Vec::new(),
            file: file("a", 0, 30_000),
            created_at: at(0),
        })
        .await
        .expect("clip");
    let first = share(alice.id, clip.id, 1, Some(MINUTE));
    let second = share(alice.id, clip.id, 2, None);
    for s in [&first, &second] {
        repo.create_share(s).await.expect("create");
    }
    assert!(
        repo.create_share(&share(alice.id, clip.id, 1, None))
            .await
            .is_err(),
        "a token hash is unique"
    );
    assert_eq!(
        repo.share_by_token(&[1; 32]).await.expect("by token"),
        Some(first.clone())
    );
    assert_eq!(repo.share_by_token(&[9; 32]).await.expect("by token"), None);
    assert_eq!(
        repo.clip_shares(alice.id, clip.id).await.expect("list"),
        vec![first.clone(), second.clone()]
    );
    assert!(repo
        .clip_shares(bob.id, clip.id)
        .await
        .expect("list")
        .is_empty());

    assert!(first.is_live(at(MINUTE - 1)) && !first.is_live(at(MINUTE)));
    assert!(second.is_live(at(1000 * MINUTE)));

    assert!(!repo
        .revoke_share(bob.id, second.id, at(5))
        .await
        .expect("revoke"));
    assert!(repo
        .revoke_share(alice.id, second.id, at(5))
        .await
        .expect("revoke"));
    assert!(repo
        .revoke_share(alice.id, second.id, at(9))
        .await
        .expect("again"));
    let revoked = repo
        .share_by_token(&[2; 32])
        .await
        .expect("by token")
        .expect("kept");
    assert_eq!(revoked.revoked_at, Some(at(5)));
    assert!(!revoked.is_live(at(6)));
    assert!(!repo
        .revoke_share(alice.id, Uuid::now_v7(), at(5))
        .await
        .expect("unknown"));

    repo.delete_clip(alice.id, clip.id, at(10))
        .await
        .expect("delete clip");
    assert_eq!(
        repo.share_by_token(&[1; 32]).await.expect("by token"),
        Some(first),
        "the share outlives its clip, so its link can say the clip is gone"
    );
}
