//! The device-and-phone side of dashvault: it watches a camera's recording folder, keeps
//! the three residencies (camera, phone, cloud) and their quotas, turns incidents into
//! clips and uploads by the policy of DESIGN.md, and keeps deletions in sync.
//!
//! # Brief overview
//! * [`state`] — the agent's own SQLite database in its storage directory.
#![deny(missing_docs)]

pub mod state;
