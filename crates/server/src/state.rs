//! What every request handler shares: the repository, the blob store, the clock, the SMS
//! sender, the settings and the metrics.

use crate::auth::sms::SmsSender;
use crate::clock::Clock;
use crate::config::{ArchiveConfig, AuthConfig, LimitsConfig, WebConfig};
use crate::metrics::Metrics;
use crate::tus::registry::Uploads;
use dashvault_store::{BlobStore, Repo};
use std::sync::Arc;

/// Shared, cheaply cloned application state.
#[derive(Clone)]
pub struct AppState {
    /// Metadata repository.
    pub repo: Arc<dyn Repo>,
    /// Time source.
    pub clock: Arc<dyn Clock>,
    /// Delivers sign-in codes.
    pub sms: Arc<dyn SmsSender>,
    /// Sign-in and session rules.
    pub auth: Arc<AuthConfig>,
    /// Request-size and time limits.
    pub limits: Arc<LimitsConfig>,
    /// Prometheus metrics.
    pub metrics: Arc<Metrics>,
    /// Where uploaded files are kept.
    pub blobs: Arc<dyn BlobStore>,
    /// Where drives older than the archive age are kept.
    pub archive: Arc<dyn BlobStore>,
    /// Archive age, restores and the operator token.
    pub archive_config: Arc<ArchiveConfig>,
    /// Upload settings and the uploads being written by this process.
    pub uploads: Arc<Uploads>,
    /// Indexes of stored videos, cached for streaming.
    pub videos: Arc<crate::stream::indexes::IndexCache>,
    /// Anonymous share lookups per client address.
    pub share_lookups: Arc<crate::auth::rate::RateLimiter>,
    /// The web UI's settings.
    pub web: Arc<WebConfig>,
    /// The key that signs evidence bundles.
    pub evidence: Arc<crate::evidence::key::EvidenceKey>,
}
