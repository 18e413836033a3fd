//! Evidence that stands up: signed, offline-verifiable clip bundles, routes as GPX, and
//! the activity of each clip.
//!
//! Overview: [`key::EvidenceKey`] signs; [`bundle::build`] makes a clip's ZIP (video,
//! the camera's files, route, G-force, and a [`manifest::Manifest`] signed with the key)
//! that `dashvault verify` checks offline; [`gpx`] writes routes; [`activity`] records
//! plays, downloads, exports and share events. The ledger of stored files is in the
//! store (`LedgerRepo`), written where files are filed and deleted.

pub mod activity;
pub mod bundle;
pub mod gpx;
pub mod key;
pub mod ledger;
pub mod manifest;
pub mod matching;
pub mod window;
