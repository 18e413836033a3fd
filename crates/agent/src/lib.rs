//! The device-and-phone side of dashvault: it watches a camera's recording folder, keeps
//! the three residencies (camera, phone, cloud) and their quotas, turns incidents into
//! clips and uploads by the policy of DESIGN.md, and keeps deletions in sync.
//!
//! # Brief overview
//! * [`state`] — the agent's own SQLite database in its storage directory.
//! * [`camera`] — the recordings and sidecars on a camera's card (BlackVue, Viofo/Novatek,
//!   Tesla), or fetched over its Wi-Fi (BlackVue, Viofo/Novatek).
//! * [`clock`] — the camera's clock against GPS time: uploads carry true UTC.
//! * [`phone`], [`quota`] — the phone storage: atomic writes, and how much of the disk it may use.
//! * [`residency`] — what the phone holds: drives, recordings, sidecars, clips.
//! * [`import`], [`evict`] — camera → phone within the quota, and the loop that deletes the oldest drives.
//! * [`rebuild`] — a recording the camera's power cut left without an index, rebuilt at import.
//! * [`drives`], [`cutting`], [`manual`] — incidents detected per drive, automatic and manual clips, time-lapses.
//! * [`marked`] — the files the camera itself marked (event, manual), each one clip.
//! * [`error`] — [`AgentError`], what the agent could not do.
//! * [`status`] — what is where (camera, phone, cloud) and what the queue holds.
//! * [`agent`] — [`agent::Agent`] and [`agent::run`]: import → detect → queue → sync → upload, once or watching.
//! * [`upload`] — the upload queue, the policy of what goes up on which network, the tus uploader.
//! * [`cloud`] — the HTTP client of the server: tus, clip listing, tombstones, deletion.
//! * [`sync`] — deletion sync both ways, and a fresh install's listing of the cloud.
#![deny(missing_docs)]

pub mod agent;
pub mod camera;
pub mod clock;
pub mod cloud;
pub mod cutting;
pub mod drives;
pub mod error;
pub mod evict;
pub mod import;
pub mod manual;
pub mod marked;
pub mod phone;
pub mod quota;
pub mod rebuild;
pub mod residency;
pub mod state;
pub mod status;
pub mod sync;
pub mod upload;

pub use error::AgentError;
