//! `dashvault agent`: the device-and-phone side — import from a camera folder or a camera
//! on Wi-Fi, clips, uploads by the policy, deletion sync, status. The work is in
//! `dashvault_agent`.

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use clap::{Args, Subcommand, ValueEnum};
use dashvault_agent::agent::{run as run_agent, Agent, Options};
use dashvault_agent::camera::source::Camera;
use dashvault_agent::camera::wifi::{is_address, Api, WifiCamera};
use dashvault_agent::camera::View;
use dashvault_agent::cloud::Client;
use dashvault_agent::manual::make_clip;
use dashvault_agent::phone::Phone;
use dashvault_agent::quota::Quota;
use dashvault_agent::residency::Residency;
use dashvault_agent::state::State;
use dashvault_agent::status::{status, Status};
use dashvault_agent::upload::policy::UPLOADS_DRIVES_SETTING;
use dashvault_agent::upload::{Progress, Queue, Uploader};
use dashvault_detect::Detector;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::sync::Arc;

mod delete;
mod network;

/// Subcommands of `dashvault agent`.
#[derive(Debug, Subcommand)]
pub enum AgentCommand {
    /// Import from the camera, detect incidents, cut clips and upload by the policy; with
    /// --once a single round that waits for the server to accept what may go up now.
    Run(RunArgs),
    /// What is where (camera, phone, cloud), the upload queue and the bytes pending.
    Status {
        #[command(flatten)]
        storage: StorageArg,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Make a manual clip of any length (uploaded on WiFi, or on cellular when allowed).
    Clip(ClipArgs),
    /// The network uploads go over (wifi|cellular|offline|auto), manual clips on
    /// cellular, the monthly cellular budget; shows them.
    Network(network::NetworkArgs),
    /// Delete a clip on the phone and, at the next `agent run`, in the cloud.
    Delete(delete::DeleteArgs),
}

/// `--storage DIR`, taken by every `agent` subcommand.
#[derive(Debug, Args)]
pub struct StorageArg {
    /// The phone storage and the agent's state.
    #[arg(long, value_name = "DIR", default_value = "./dashvault-agent")]
    pub storage: PathBuf,
}

/// Flags of `dashvault agent run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The dashvault server, e.g. http://127.0.0.1:8080.
    #[arg(long, value_name = "URL")]
    server: url::Url,
    /// The device token (`dvd_…`) from registering the camera (POST /api/v1/devices).
    #[arg(
        long,
        value_name = "DEVICE_TOKEN",
        env = "DASHVAULT_DEVICE_TOKEN",
        hide_env_values = true
    )]
    token: String,
    /// The camera: its folder (its SD card, or `dashvault simulate camera --out`), or its
    /// address on Wi-Fi, http://HOST[:PORT] (a BlackVue or a Viofo/Novatek camera).
    #[arg(long, value_name = "DIR|URL")]
    camera: String,
    /// The protocol of a camera on Wi-Fi; found by asking the camera when not given.
    #[arg(long, value_enum, value_name = "API")]
    camera_api: Option<CameraApi>,
    #[command(flatten)]
    storage: StorageArg,
    /// Camera model; its detection thresholds can be given with --thresholds.
    #[arg(long, value_name = "MODEL")]
    model: Option<String>,
    /// Detection thresholds for this camera model (TOML; missing fields keep their defaults).
    #[arg(long, value_name = "FILE")]
    thresholds: Option<PathBuf>,
    /// Share of the disk the phone storage may use: bytes (2000000000) or a percentage (50%).
    #[arg(long, value_name = "BYTES|PERCENT", default_value = "50%")]
    quota: Quota,
    /// This camera model does not upload drives: only clips and sidecars go up (as the
    /// device was registered with `uploads_drives: false`).
    #[arg(long)]
    no_drive_uploads: bool,
    /// One round (every drive on the camera taken as finished), then exit.
    #[arg(long)]
    once: bool,
    /// Time between rounds while watching.
    #[arg(long, value_name = "DURATION", default_value = "10s")]
    interval: humantime::Duration,
}

/// Protocols of cameras on Wi-Fi.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CameraApi {
    /// BlackVue: /blackvue_vod.cgi.
    Blackvue,
    /// Viofo and other Novatek cameras: /?custom=1&cmd=3015.
    Novatek,
}

/// Flags of `dashvault agent clip`.
#[derive(Debug, Args)]
pub struct ClipArgs {
    /// Start: RFC 3339 (2026-11-20T08:17:00Z) or seconds from the start of the drive
    /// (--drive, default the latest).
    #[arg(long, value_name = "TIME")]
    from: String,
    /// End, same forms.
    #[arg(long, value_name = "TIME")]
    to: String,
    /// Camera view; cabin is cut from the camera's own files.
    #[arg(long, value_enum, default_value_t = ClipView::Road)]
    view: ClipView,
    /// The drive (id from `agent status`) that seconds count from.
    #[arg(long, value_name = "ID")]
    drive: Option<i64>,
    /// The camera's folder (for cabin clips; default the one `agent run` last used).
    #[arg(long, value_name = "DIR")]
    camera: Option<PathBuf>,
    #[command(flatten)]
    storage: StorageArg,
}

/// Views a manual clip is made of.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ClipView {
    /// Through the windscreen.
    Road,
    /// Inside the car.
    Cabin,
}

/// Runs one `agent` subcommand.
pub fn run(cmd: AgentCommand) -> anyhow::Result<()> {
    crate::serve::init_logging(crate::config::LogFormat::Text);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        match cmd {
            AgentCommand::Run(args) => run_loop(args).await,
            AgentCommand::Status { storage, json } => show_status(&storage.storage, json).await,
            AgentCommand::Clip(args) => clip(args).await,
            AgentCommand::Network(args) => network::run(args).await,
            AgentCommand::Delete(args) => delete::run(args).await,
        }
    })
}

async fn run_loop(args: RunArgs) -> anyhow::Result<()> {
    let thresholds = match &args.thresholds {
        Some(path) => toml::from_str(
            &std::fs::read_to_string(path)
                .with_context(|| format!("reading thresholds {}", path.display()))?,
        )
        .with_context(|| format!("thresholds {}", path.display()))?,
        None => Default::default(),
    };
    let agent = Agent::open(Options {
        storage: args.storage.storage.clone(),
        camera: camera(&args)?,
        quota: args.quota,
        detector: Detector::new(thresholds),
    })
    .await
    .with_context(|| {
        format!(
            "opening the agent storage {}",
            args.storage.storage.display()
        )
    })?;
    if let Some(model) = &args.model {
        agent
            .residency()
            .state()
            .set_setting(dashvault_agent::agent::MODEL_SETTING, model)
            .await?;
    }
    let uploads_drives = if args.no_drive_uploads {
        "false"
    } else {
        "true"
    };
    agent
        .residency()
        .state()
        .set_setting(UPLOADS_DRIVES_SETTING, uploads_drives)
        .await?;
    let client = Client::new(args.server.clone(), args.token.clone())
        .with_context(|| format!("client of {}", args.server))?;
    let upload_bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("upload {bar:30} {bytes}/{total_bytes} {msg}")
            .context("progress bar template")?,
    );
    let bar = upload_bar.clone();
    let uploader = Uploader::new().with_progress(Arc::new(move |p: &Progress| {
        bar.set_length(p.size);
        bar.set_position(p.sent);
        bar.set_message(p.filename.clone());
    }));
    let report = run_agent(
        &agent,
        &client,
        &uploader,
        args.once,
        args.interval.into(),
        &ProgressBar::new(0),
        dashvault_server::shutdown_signal(),
    )
    .await?;
    upload_bar.finish_and_clear();
    println!(
        "imported {} recordings, cut {} clips, uploaded {}, held back {}, failed {}",
        report.imported, report.clips, report.uploaded, report.held_back, report.failed
    );
    if report.failed > 0 {
        anyhow::bail!(
            "{} uploads failed; `dashvault agent status --storage {}` shows them",
            report.failed,
            args.storage.storage.display()
        );
    }
    Ok(())
}

/// The camera of `--camera`: an http:// address is a camera on Wi-Fi, anything else a folder.
fn camera(args: &RunArgs) -> anyhow::Result<Camera> {
    if !is_address(&args.camera) {
        anyhow::ensure!(
            args.camera_api.is_none(),
            "--camera-api is for a camera on Wi-Fi (--camera http://HOST[:PORT])"
        );
        return Ok(Camera::Folder(PathBuf::from(&args.camera)));
    }
    let base = url::Url::parse(&args.camera)
        .with_context(|| format!("camera address {:?}", args.camera))?;
    let api = args.camera_api.map(|api| match api {
        CameraApi::Blackvue => Api::Blackvue,
        CameraApi::Novatek => Api::Novatek,
    });
    let wifi = WifiCamera::new(base, api).with_context(|| format!("camera at {}", args.camera))?;
    Ok(Camera::Wifi(wifi))
}

async fn show_status(storage: &Path, json: bool) -> anyhow::Result<()> {
    let state = State::open(storage)
        .await
        .with_context(|| format!("opening the agent storage {}", storage.display()))?;
    let status = status(&Residency::new(state.clone()), &Queue::new(state)).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&status)?);
    } else {
        print!("{}", text(&status));
    }
    Ok(())
}

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

fn text(s: &Status) -> String {
    let mut out = String::new();
    if let Some(model) = &s.model {
        out += &format!("model   {model}\n");
    }
    match &s.camera {
        Some(c) => {
            out += &format!(
            "camera  {}: {} road recordings ({} not imported), {} cabin, {} other, {} sidecars\n",
            c.dir.display(),
            c.road,
            c.not_imported,
            c.cabin,
            c.other,
            c.sidecars
        )
        }
        None => {
            match &s.wifi_camera {
                Some(address) => {
                    out += &format!(
                "camera  {address} on Wi-Fi (its files are listed by `dashvault agent run`)\n"
            )
                }
                None => out +=
                    "camera  not known or not readable (run `dashvault agent run --camera DIR`)\n",
            }
        }
    }
    let quota = s.phone.quota_bytes.map_or("no quota set".into(), mb);
    out += &format!(
        "phone   {}: {} of {quota}; {} drives, {} recordings, {} clips ({} not yet in the cloud)\n",
        s.phone.dir.display(),
        mb(s.phone.used_bytes),
        s.phone.drives,
        s.phone.recordings,
        s.phone.clips,
        s.phone.clips_not_in_cloud
    );
    out += &format!("cloud   {} clips\n", s.cloud.clips);
    out += &format!(
        "queue   {} waiting ({} pending), {} done, {} failed\n",
        s.queue.queued,
        mb(s.queue.bytes_pending),
        s.queue.done,
        s.queue.failed
    );
    for d in &s.drives {
        out += &format!(
            "drive {:>4}  {} → {}  {}/{} recordings on the phone, {} clips{}\n",
            d.id,
            d.start.format("%Y-%m-%d %H:%M:%S"),
            d.end.format("%H:%M:%S"),
            d.recordings_on_phone,
            d.recordings,
            d.clips,
            if d.processed {
                ""
            } else {
                " (not processed yet)"
            }
        );
    }
    out
}

async fn clip(args: ClipArgs) -> anyhow::Result<()> {
    let storage = &args.storage.storage;
    let state = State::open(storage)
        .await
        .with_context(|| format!("opening the agent storage {}", storage.display()))?;
    let residency = Residency::new(state.clone());
    let drive_start = || async {
        let drives = residency.drives().await?;
        let drive = match args.drive {
            Some(id) => drives.into_iter().find(|d| d.id == id),
            None => drives.into_iter().last(),
        };
        drive.map(|d| d.start).ok_or_else(|| {
            anyhow::anyhow!("no such drive; `dashvault agent status` lists the drives")
        })
    };
    let from = match parse_time(&args.from)? {
        When::At(t) => t,
        When::Offset(s) => drive_start().await? + s,
    };
    let to = match parse_time(&args.to)? {
        When::At(t) => t,
        When::Offset(s) => drive_start().await? + s,
    };
    let camera = match args.camera {
        Some(dir) => Some(dir),
        None => state
            .setting(dashvault_agent::agent::CAMERA_SETTING)
            .await?
            .map(PathBuf::from),
    };
    let view = match args.view {
        ClipView::Road => View::Road,
        ClipView::Cabin => View::Cabin,
    };
    if let (View::Cabin, Some(camera)) = (view, &camera) {
        anyhow::ensure!(
            !is_address(&camera.to_string_lossy()),
            "a cabin-view clip is cut from the camera's card; the last `agent run` used a camera on Wi-Fi ({}): give the card's folder with --camera DIR",
            camera.display()
        );
    }
    let clip = make_clip(
        &residency,
        &Phone::new(state.dir()),
        from,
        to,
        view,
        camera.as_deref(),
    )
    .await?;
    let upload = dashvault_agent::agent::queued_clip(&residency, &clip).await?;
    Queue::new(state).enqueue(&upload).await?;
    println!(
        "clip {} ({}, {} → {}, {}) queued for upload",
        clip.id,
        clip.view,
        clip.start.to_rfc3339(),
        clip.end.to_rfc3339(),
        mb(clip.size)
    );
    Ok(())
}

/// A time given on the command line.
enum When {
    At(DateTime<Utc>),
    Offset(Duration),
}

fn parse_time(text: &str) -> anyhow::Result<When> {
    if let Ok(seconds) = text.parse::<f64>() {
        anyhow::ensure!(
            seconds.is_finite() && seconds >= 0.0,
            "{text:?}: seconds from the drive's start must be 0 or more"
        );
        return Ok(When::Offset(Duration::milliseconds(
            (seconds * 1000.0) as i64,
        )));
    }
    DateTime::parse_from_rfc3339(text)
        .map(|t| When::At(t.with_timezone(&Utc)))
        .with_context(|| {
            format!("{text:?} is neither an RFC 3339 time (2026-11-20T08:17:00Z) nor seconds from the drive's start")
        })
}
