//! Videos and pictures made on request from stored recordings: byte ranges of cuts
//! planned by the media crate, streamed from ranged reads of the blob store, with the
//! indexes they need cached; and thumbnails made once and kept in the store.

pub mod indexes;
pub mod range;
pub mod reader;
pub mod thumbnail;
pub mod video;
