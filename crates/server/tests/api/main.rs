//! The server's API tests: a real server on a free port over a real SQLite file or a
//! fresh PostgreSQL database, driven over HTTP.

mod archive;
mod auth;
mod bad_input;
mod clients;
mod devices;
mod evidence;
mod helpers;
mod jobs;
mod library;
mod recovery;
mod service;
mod shares;
mod sms;
mod streaming;
mod thumbnails;
mod tus;
mod uploads;
mod web;
