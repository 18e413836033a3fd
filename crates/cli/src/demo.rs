//! `dashvault serve --demo`: the server with a simulated camera and an agent in the same
//! process, so that a newcomer signs in and sees rides and incidents within a minute.
//!
//! The demo owns one user, [`PHONE`]: the device is registered for that number in the
//! server's own repository, the camera (`dashvault_simulate`) records a drive with
//! incidents into `<data-dir>/demo/camera`, and the agent (`dashvault_agent`) imports,
//! detects and uploads it over HTTP like any agent, its storage in `<data-dir>/demo/agent`.
//! Signing in with that number prints the code on the console, as always. Started again
//! on the same data directory, the demo reuses its device and records nothing twice.

use anyhow::Context;
use chrono::{Duration, Utc};
use dashvault_agent::agent::{run as run_agent, Agent, Options};
use dashvault_agent::camera::source::Camera;
use dashvault_agent::cloud::Client;
use dashvault_agent::state::State;
use dashvault_agent::upload::policy::NETWORK_SETTING;
use dashvault_agent::upload::Uploader;
use dashvault_detect::Detector;
use dashvault_server::auth::secret;
use dashvault_server::state::AppState;
use dashvault_simulate::{parse_incidents, simulate_camera, TRUTH_FILE};
use dashvault_store::model::NewDevice;
use indicatif::ProgressBar;
use std::path::{Path, PathBuf};
use uuid::Uuid;

/// The demo user's phone number: one of the 555-01xx numbers kept for fiction that the
/// sign-in's number check accepts (+1 555-555-0100 is not a valid number).
pub const PHONE: &str = "+14155550199";
/// The same number as people write it, for the console hint.
pub const PHONE_DISPLAY: &str = "+1 415-555-0199";
/// The demo drive: minutes, and its incidents (seconds from the start).
const MINUTES: u32 = 6;
const INCIDENTS: &str = "hard_brake@70,sharp_turn@170,collision@290";
/// Time between the demo agent's rounds.
const INTERVAL: std::time::Duration = std::time::Duration::from_secs(10);

/// The demo's device, registered for [`PHONE`].
#[derive(Debug, Clone)]
pub struct DemoDevice {
    dir: PathBuf,
    token: String,
}

/// Registers the demo device for [`PHONE`] (once per data directory; its token is kept in
/// `<data-dir>/demo/device-token`).
pub async fn prepare(state: &AppState, data_dir: &Path) -> anyhow::Result<DemoDevice> {
    let dir = data_dir.join("demo");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let token_file = dir.join("device-token");
    if let Ok(token) = std::fs::read_to_string(&token_file) {
        return Ok(DemoDevice {
            dir,
            token: token.trim().to_owned(),
        });
    }
    let now = Utc::now();
    let user = state.repo.find_or_create_user(PHONE, now).await?;
    let token = secret::new_token(secret::DEVICE_PREFIX);
    state
        .repo
        .create_device(&NewDevice {
            id: Uuid::now_v7(),
            user_id: user.id,
            model: "Simulated BlackVue DR900X-2CH".into(),
            serial: "DEMO-1".into(),
            name: "Demo camera".into(),
            has_cabin_camera: false,
            uploads_drives: true,
            token_hash: secret::token_hash(&token),
            created_at: now,
        })
        .await?;
    std::fs::write(&token_file, &token)
        .with_context(|| format!("writing {}", token_file.display()))?;
    Ok(DemoDevice { dir, token })
}

/// Records the demo drive (unless recorded before) and runs the agent against `server`
/// until the process ends.
pub async fn run(device: DemoDevice, server: url::Url) -> anyhow::Result<()> {
    let camera = device.dir.join("camera");
    if !camera.join(TRUTH_FILE).exists() {
        let mut options = dashvault_simulate::Options::new(&camera, MINUTES);
        options.incidents = parse_incidents(INCIDENTS)?;
        // Ended more than the agent's drive gap ago: finished, so processed at once.
        options.start = Utc::now() - Duration::minutes(i64::from(MINUTES) + 3);
        tokio::task::spawn_blocking(move || simulate_camera(&options))
            .await?
            .context("simulating the demo camera")?;
    }
    let storage = device.dir.join("agent");
    State::open(&storage)
        .await?
        .set_setting(NETWORK_SETTING, "wifi")
        .await?;
    let agent = Agent::open(Options {
        storage,
        camera: Camera::Folder(camera),
        quota: Default::default(),
        detector: Detector::default(),
    })
    .await?;
    let client = Client::new(server, device.token)?;
    let uploader = Uploader::new();
    let progress = ProgressBar::hidden();
    let rounds = |once| {
        let stop = std::future::pending();
        run_agent(&agent, &client, &uploader, once, INTERVAL, &progress, stop)
    };
    // A first round at once, said when done; then a round every INTERVAL, logged at
    // debug level only, so that the console keeps the sign-in code in view.
    match rounds(true).await {
        Ok(report) if report.failed == 0 => tracing::info!(
            "demo: the drive and its incidents are in the cloud; sign in with {PHONE_DISPLAY} to see them"
        ),
        Ok(report) => tracing::warn!(
            failed = report.failed,
            "demo: some uploads failed; the agent tries again every {} s",
            INTERVAL.as_secs()
        ),
        Err(e) => tracing::warn!("demo: the first agent round failed, trying again: {e}"),
    }
    rounds(false).await?;
    Ok(())
}
