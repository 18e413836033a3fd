//! The dashvault HTTP service: sign-in by SMS code, devices, resumable uploads filed as
//! drives, clips and sidecars, the library (listing, streaming, thumbnails, deleting,
//! sharing, archive and restores), signed evidence bundles, the web UI, and background
//! jobs, with an OpenAPI document, metrics and health.
//!
//! Overview: [`config::ServerConfig`] says what to serve; [`app::Server`] binds and runs
//! it; [`app::app`] is the router for a given [`state::AppState`], which tests drive
//! directly. Errors become [`error::ApiError`], one JSON shape for every failure.
//! [`tus`] takes resumable uploads and files them; [`library`] builds what the API and
//! the pages show of them; [`stream`] serves their video and thumbnails; [`routes`] and
//! [`web`] are the JSON API and the pages over those; [`evidence`] signs bundles and keeps
//! the ledger and activity; [`jobs`] runs background work (thumbnails, blob removal,
//! housekeeping, archive and restore) from the durable queue in the metadata database.

#![deny(missing_docs)]

pub mod app;
pub mod archive;
pub mod auth;
pub mod capacity;
pub mod clock;
pub mod config;
mod connections;
pub mod crash;
pub mod error;
pub mod evidence;
pub mod jobs;
pub mod json;
pub mod library;
pub mod metrics;
pub mod routes;
pub mod state;
pub mod stream;
pub mod tus;
pub mod web;

pub use app::{app, shutdown_signal, ServeError, Server};
pub use config::ServerConfig;
