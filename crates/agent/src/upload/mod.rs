//! Uploads to the cloud: the queue ([`Queue`]), the policy of what may go up now
//! ([`Policy`], on the [`Network`] the phone is on) and the uploader that sends it by tus,
//! resuming and retrying ([`Uploader`]).
//!
//! How the run loop uses it:
//!
//! ```no_run
//! # async fn example(state: dashvault_agent::state::State, client: dashvault_agent::cloud::Client,
//! #     clip: dashvault_agent::upload::NewUpload) -> Result<(), Box<dyn std::error::Error>> {
//! use dashvault_agent::upload::{Policy, Queue, Uploader, Until};
//! let queue = Queue::new(state.clone());
//! queue.enqueue(&clip).await?; // idempotent per (path, sha256)
//! let policy = Policy::load(&state).await?;
//! let report = Uploader::new().run(&queue, &client, &policy, Until::Idle).await?;
//! println!("{} uploaded, {} held back", report.uploaded, report.held_back);
//! # Ok(()) }
//! ```

pub mod network;
pub mod policy;
pub mod queue;
pub mod uploader;

pub use network::Network;
pub use policy::{Decision, Policy};
pub use queue::{
    sha256_file, ClipKind, Clock, Incident, Kind, NewUpload, Priority, Queue, QueuedUpload, Status,
    Summary, View,
};
pub use uploader::{Progress, ProgressHook, Report, Retry, Until, UploadError, Uploader};
