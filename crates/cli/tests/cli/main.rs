//! Tests of the real `dashvault` binary.

mod detect;
mod serve;
