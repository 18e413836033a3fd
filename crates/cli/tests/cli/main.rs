//! Tests of the real `dashvault` binary.

mod admin;
mod agent;
mod agent_camera_files;
mod agent_upload;
mod agent_wifi;
mod archive;
mod cloud;
mod detect;
mod evidence;
mod faults;
mod help;
mod jobs;
mod media;
mod media_extract;
mod openapi_fuzz;
mod outages;
mod process;
mod replicas;
mod serve;
mod simulate;
mod uploads;
mod web;
