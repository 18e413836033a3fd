//! Suite cases for [`SessionRepo`](crate::SessionRepo): expiry, renewal, sign-out.

use super::{at, HOUR};
use crate::model::{Session, User};
use crate::Repo;
use std::sync::Arc;
use uuid::Uuid;

async fn user(repo: &Arc<dyn Repo>, phone: &str) -> User {
    repo.find_or_create_user(phone, at(0))
        .await
        .expect("find_or_create_user")
}

/// A session for `user_id` with token hash `token_hash`, created at 0, living an hour.
fn session(user_id: Uuid, token_hash: &[u8]) -> Session {
    Session {
        token_hash: token_hash.into(),
        user_id,
        created_at: at(0),
        expires_at: at(HOUR),
    }
}

/// A session is found with its user until one millisecond before it expires.
pub async fn session_lives_until_it_expires(repo: Arc<dyn Repo>) {
    let owner = user(&repo, "+14155550100").await;
    let stored = session(owner.id, b"token-hash-1");
    repo.create_session(&stored).await.expect("create_session");
    let found = repo.session(b"token-hash-1", at(0)).await.expect("session");
    assert_eq!(found, Some((stored.clone(), owner.clone())));
    let last = repo
        .session(b"token-hash-1", at(HOUR - 1))
        .await
        .expect("session");
    assert_eq!(last, Some((stored, owner)));
    assert_eq!(
        repo.session(b"token-hash-1", at(HOUR))
            .await
            .expect("session"),
        None
    );
    assert_eq!(
        repo.session(b"unknown", at(0)).await.expect("session"),
        None
    );
}

/// Renewal moves the expiry, later or earlier, and revives an expired session's lookup.
pub async fn renewal_moves_the_expiry(repo: Arc<dyn Repo>) {
    let owner = user(&repo, "+14155550100").await;
    repo.create_session(&session(owner.id, b"t"))
        .await
        .expect("create_session");
    repo.renew_session(b"t", at(3 * HOUR)).await.expect("renew");
    let (renewed, _) = repo
        .session(b"t", at(2 * HOUR))
        .await
        .expect("session")
        .expect("a renewed session is still valid after its first expiry");
    assert_eq!(renewed.expires_at, at(3 * HOUR));
    assert_eq!(renewed.created_at, at(0));
    repo.renew_session(b"t", at(HOUR)).await.expect("shorten");
    assert_eq!(
        repo.session(b"t", at(2 * HOUR)).await.expect("session"),
        None
    );
    repo.renew_session(b"unknown", at(HOUR))
        .await
        .expect("renewing nothing is no error");
}

/// Signing out removes exactly that session; removing an unknown one is no error.
pub async fn sign_out_deletes_the_session(repo: Arc<dyn Repo>) {
    let owner = user(&repo, "+14155550100").await;
    repo.create_session(&session(owner.id, b"laptop"))
        .await
        .expect("create");
    repo.create_session(&session(owner.id, b"phone"))
        .await
        .expect("create");
    repo.delete_session(b"laptop").await.expect("delete");
    assert_eq!(repo.session(b"laptop", at(0)).await.expect("session"), None);
    assert!(repo
        .session(b"phone", at(0))
        .await
        .expect("session")
        .is_some());
    repo.delete_session(b"laptop")
        .await
        .expect("deleting twice is no error");
}

/// A session needs an existing user and a token hash of its own.
pub async fn sessions_need_a_user_and_a_unique_token(repo: Arc<dyn Repo>) {
    let orphan = repo.create_session(&session(Uuid::new_v4(), b"t")).await;
    let err = orphan.expect_err("a session for an unknown user must be refused");
    assert!(err.is_foreign_key_violation(), "{err}");
    let owner = user(&repo, "+14155550100").await;
    repo.create_session(&session(owner.id, b"t"))
        .await
        .expect("create");
    let twin = repo.create_session(&session(owner.id, b"t")).await;
    let err = twin.expect_err("two sessions with one token hash must be refused");
    assert!(err.is_unique_violation(), "{err}");
}

/// Pruning forgets sessions expired before the cut and keeps the others.
pub async fn prune_forgets_expired_sessions(repo: Arc<dyn Repo>) {
    let owner = user(&repo, "+14155550100").await;
    repo.create_session(&session(owner.id, b"old"))
        .await
        .expect("create");
    let mut recent = session(owner.id, b"recent");
    recent.expires_at = at(3 * HOUR);
    repo.create_session(&recent).await.expect("create");
    let mut edge = session(owner.id, b"edge");
    edge.expires_at = at(HOUR + 1);
    repo.create_session(&edge).await.expect("create");
    repo.prune_sessions(at(HOUR + 1)).await.expect("prune");
    assert!(
        repo.session(b"edge", at(HOUR))
            .await
            .expect("session")
            .is_some(),
        "a session expiring exactly at the cut is kept"
    );
    // Renewing brings back a session that was only expired, not one that was pruned.
    repo.renew_session(b"old", at(4 * HOUR))
        .await
        .expect("renew");
    assert_eq!(
        repo.session(b"old", at(2 * HOUR)).await.expect("session"),
        None
    );
    assert!(repo
        .session(b"recent", at(2 * HOUR))
        .await
        .expect("session")
        .is_some());
}
