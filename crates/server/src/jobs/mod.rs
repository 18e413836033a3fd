//! Background jobs: a worker that takes jobs from the durable queue in the metadata
//! database ([`dashvault_store::JobRepo`]) and runs the handler registered for each
//! kind, with leases, heartbeats and retries, so any number of replicas share the work.
//!
//! Overview: a [`JobHandler`] runs one kind of job and says whether a failure is worth a
//! retry ([`JobError`]); a [`Worker`] holds the handlers, runs one job at a time with
//! [`Worker::run_one`] (tests call it to drain the queue without sleeping) and loops with
//! [`Worker::run_until`] in `serve`. Each handler lives here: [`housekeeping`] (the
//! built-in periodic jobs), [`thumbnail`], [`delete_blobs`], and [`archive`] (moving
//! drives to the archive store). Failed jobs wait by the shared exponential backoff
//! ([`dashvault_domain::backoff`]).
//!
//! Handlers must be idempotent: a job runs at least once, and more than once when a
//! worker crashes (or loses its lease) after part of the work was done.

pub mod archive;
pub mod delete_blobs;
mod handler;
pub mod housekeeping;
pub mod thumbnail;
mod worker;

pub use handler::{JobError, JobHandler};
pub use worker::{JobEnd, Outcome, Ran, Worker, WorkerConfig};
