//! The words every dashvault component shares: the kinds of incident
//! ([`IncidentKind`]), the keys and values of an upload's metadata ([`upload`]), how far
//! apart two recordings of one drive may be ([`DRIVE_GAP`]), and how long a failed
//! attempt waits before the next ([`backoff`]).
//!
//! The detector, the simulator, the agent, the server and the store all depend on this
//! crate and on nothing of each other for these: each concept is defined here once, and
//! the others name it. It holds no behaviour beyond naming, parsing and arithmetic, and
//! depends on `serde` only.

#![deny(missing_docs)]

pub mod backoff;
mod drive;
mod incident;
pub mod upload;

pub use drive::DRIVE_GAP;
pub use incident::{IncidentKind, UnknownIncidentKind};
