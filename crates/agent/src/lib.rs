//! The device-and-phone side of dashvault: it watches a camera's recording folder, keeps
//! the three residencies (camera, phone, cloud) and their quotas, turns incidents into
//! clips and uploads by the policy of DESIGN.md, and keeps deletions in sync.
//!
//! # Brief overview
//! * [`state`] — the agent's own SQLite database in its storage directory.
//! * [`upload`] — the upload queue, the policy of what goes up on which network, the tus uploader.
//! * [`cloud`] — the HTTP client of the server: tus, clip listing, tombstones, deletion.
//! * [`sync`] — deletion sync both ways, and a fresh install's listing of the cloud.
#![deny(missing_docs)]

pub mod cloud;
pub mod state;
pub mod sync;
pub mod upload;
