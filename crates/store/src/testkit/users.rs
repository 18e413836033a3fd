//! Suite cases for [`UserRepo`](crate::UserRepo).

use super::at;
use crate::Repo;
use chrono::TimeDelta;
use std::sync::Arc;
use uuid::Uuid;

/// A phone number maps to one user: signing in again finds it, first-sign-in time kept.
pub async fn find_or_create_is_idempotent(repo: Arc<dyn Repo>) {
    let first = repo
        .find_or_create_user("+14155550100", at(0))
        .await
        .expect("create");
    assert_eq!(first.phone, "+14155550100");
    assert_eq!(first.created_at, at(0));
    let again = repo
        .find_or_create_user("+14155550100", at(1000))
        .await
        .expect("find");
    assert_eq!(again, first, "a second sign-in must find the same user");
    let other = repo
        .find_or_create_user("+14155550101", at(5))
        .await
        .expect("create other");
    assert_ne!(other.id, first.id, "two phone numbers, two users");
    assert_eq!(repo.user(first.id).await.expect("user"), Some(first));
    assert_eq!(repo.user(other.id).await.expect("user"), Some(other));
    assert_eq!(repo.user(Uuid::new_v4()).await.expect("unknown user"), None);
}

/// Concurrent first sign-ins with one phone number create exactly one user.
pub async fn concurrent_first_sign_ins_make_one_user(repo: Arc<dyn Repo>) {
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let repo = Arc::clone(&repo);
            tokio::spawn(async move { repo.find_or_create_user("+33612345678", at(i)).await })
        })
        .collect();
    let mut ids = Vec::new();
    for task in tasks {
        ids.push(task.await.expect("task").expect("find_or_create_user").id);
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "one phone number gave several users: {ids:?}");
}

/// Times are kept to the millisecond, on every engine alike.
pub async fn times_are_kept_to_the_millisecond(repo: Arc<dyn Repo>) {
    let precise = at(7) + TimeDelta::microseconds(999);
    let user = repo
        .find_or_create_user("+4915112345678", precise)
        .await
        .expect("create");
    assert_eq!(user.created_at, at(7));
    assert_eq!(
        repo.user(user.id)
            .await
            .expect("user")
            .map(|u| u.created_at),
        Some(at(7))
    );
}
