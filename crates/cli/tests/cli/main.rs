//! Tests of the real `dashvault` binary.

mod serve;
