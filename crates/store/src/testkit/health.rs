//! Suite cases for the [`Repo`] supertrait itself.

use crate::Repo;
use std::sync::Arc;

/// The repository answers a health check and names its engine.
pub async fn repo_answers_ping(repo: Arc<dyn Repo>) {
    repo.ping().await.expect("ping");
    assert!(
        ["sqlite", "postgres"].contains(&repo.engine()),
        "unexpected engine name {:?}",
        repo.engine()
    );
}
