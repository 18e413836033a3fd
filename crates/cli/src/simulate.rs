//! `dashvault simulate camera`: writes a simulated dashcam's SD card (BlackVue layout) for
//! the agent, the demo and tests, and with `--serve` serves it over HTTP as a BlackVue
//! or a Viofo/Novatek camera does on its Wi-Fi; the work is in `dashvault_simulate`.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand, ValueEnum};
use dashvault_simulate::serve::{serve, ServeOptions, Served};
use dashvault_simulate::{simulate_camera_with, Api, Incident, Mark, Options, TRUTH_FILE};
use indicatif::{ProgressBar, ProgressStyle};

/// Subcommands of `dashvault simulate`.
#[derive(Debug, Subcommand)]
pub enum SimulateCommand {
    /// Record a simulated drive as a BlackVue dashcam writes it.
    ///
    /// Per minute: `OUT/Record/YYYYMMDD_HHMMSS_NF.mp4` (road; `_NI.mp4` cabin with --cabin),
    /// `_N.gps` (NMEA) and `_N.3gf` (accelerometer); then `OUT/simulation.json` with the
    /// ground truth (start, camera mount, incidents, files). With --serve, the card is then
    /// served over HTTP until stopped, one JSON line a request on standard output.
    Camera(CameraArgs),
}

/// Flags of `dashvault simulate camera`.
#[derive(Debug, Args)]
pub struct CameraArgs {
    /// The camera's folder (the SD card); recordings go to OUT/Record/.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Length of the drive in minutes (one file per minute and view).
    #[arg(long, value_name = "N", default_value_t = 10)]
    minutes: u32,
    /// Also record the cabin (interior) view.
    #[arg(long)]
    cabin: bool,
    /// Incidents as KIND@SECONDS from the start, comma-separated, e.g.
    /// hard_brake@130,sharp_turn@340. Kinds: hard_brake (slows, does not stop), sudden_stop
    /// (brakes to standstill), hard_accel, sharp_turn, swerve, collision (an impact). The
    /// first may start at 30 s; each must end 5 s before the next starts and 10 s before the drive ends.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    incidents: Vec<Incident>,
    /// Size of the card: the oldest recordings are deleted to make room (loop recording).
    /// Bytes, or with a unit: 500MB, 2GiB, 1.5G (K/M/G/T are powers of 1000, KiB/MiB/GiB/TiB of 1024).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    capacity: Option<u64>,
    /// Wall-clock start of the drive (RFC 3339, e.g. 2026-11-20T08:15:02Z); default: the
    /// drive ends now.
    #[arg(long, value_name = "TIME")]
    start: Option<DateTime<Utc>>,
    /// Seed of the route, speeds, camera mount and sensor noise: same seed, same files.
    #[arg(long, value_name = "N", default_value_t = 1)]
    seed: u64,
    /// Recordings the camera itself marks, as TYPE@MINUTE (0 = the first), comma-separated:
    /// E (event, an impact) or M (manual, its button), e.g. E@1,M@3: `_EF.mp4`, `_E.gps`…
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    marked: Vec<Mark>,
    /// Minutes the camera's clock is ahead of UTC, as a camera set to local time (180 for
    /// UTC+3, -300 for UTC-5): file names and .gps stamps follow it, its GPS stays UTC.
    #[arg(
        long,
        value_name = "MINUTES",
        default_value_t = 0,
        allow_negative_numbers = true
    )]
    clock_offset: i64,
    /// Then serve the card over HTTP on ADDR (e.g. 127.0.0.1:0) as the camera's Wi-Fi
    /// does, until stopped; files written to the folder meanwhile are served too.
    #[arg(long, value_name = "ADDR")]
    serve: Option<std::net::SocketAddr>,
    /// The protocol served with --serve.
    #[arg(long, value_enum, default_value_t = ServeApi::Blackvue, requires = "serve")]
    api: ServeApi,
    /// With --serve: drop the connection once, after this many bytes of the first video
    /// longer than that (a camera leaving Wi-Fi range mid-file).
    #[arg(long, value_name = "BYTES", requires = "serve")]
    drop_after: Option<u64>,
}

/// Camera protocols `simulate camera --serve` speaks.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ServeApi {
    /// BlackVue: GET /blackvue_vod.cgi, files at /Record/NAME.
    Blackvue,
    /// Viofo and other Novatek cameras: GET /?custom=1&cmd=3015 (XML), files at /DCIM/Movie/….
    Novatek,
}

/// Runs one `simulate` subcommand.
pub fn run(cmd: SimulateCommand) -> anyhow::Result<()> {
    let SimulateCommand::Camera(args) = cmd;
    let mut options = Options::new(&args.out, args.minutes);
    options.cabin = args.cabin;
    options.incidents = args.incidents;
    options.capacity = args.capacity;
    options.seed = args.seed;
    options.marks = args.marked;
    options.clock_offset_minutes = args.clock_offset;
    if let Some(start) = args.start {
        options.start = start;
    }
    let bar = ProgressBar::new(u64::from(args.minutes)).with_style(
        ProgressStyle::with_template("recording {bar:40} {pos}/{len} min ({elapsed})")
            .context("progress bar template")?,
    );
    let began = Instant::now();
    let camera = simulate_camera_with(&options, &mut |p| bar.set_position(u64::from(p.done)))
        .with_context(|| format!("simulating a camera into {}", args.out.display()))?;
    bar.finish_and_clear();
    let bytes: u64 = camera.files.iter().map(|f| f.size).sum();
    println!(
        "wrote {} files ({:.1} MB) of a {}-minute drive to {} in {:.1} s; ground truth in {}",
        camera.files.len(),
        bytes as f64 / 1e6,
        args.minutes,
        args.out.join("Record").display(),
        began.elapsed().as_secs_f64(),
        args.out.join(TRUTH_FILE).display(),
    );
    if !camera.overwritten.is_empty() {
        println!(
            "loop recording deleted {} older files to stay within the capacity",
            camera.overwritten.len()
        );
    }
    for incident in &camera.incidents {
        println!(
            "incident {} at {} ({} s)",
            incident.kind,
            incident.at.to_rfc3339(),
            incident.t
        );
    }
    match args.serve {
        Some(addr) => serve_card(args.out, addr, args.api, args.drop_after),
        None => Ok(()),
    }
}

/// Serves the card at `out` on `addr` until SIGINT or SIGTERM.
fn serve_card(
    out: PathBuf,
    addr: std::net::SocketAddr,
    api: ServeApi,
    drop_after: Option<u64>,
) -> anyhow::Result<()> {
    let listener =
        std::net::TcpListener::bind(addr).with_context(|| format!("listening on {addr}"))?;
    let local = listener.local_addr().context("listening address")?;
    let (api, name) = match api {
        ServeApi::Blackvue => (Api::Blackvue, "blackvue"),
        ServeApi::Novatek => (Api::Novatek, "novatek"),
    };
    let options = ServeOptions {
        dir: out,
        api,
        drop_after,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let hook = std::sync::Arc::new(|served: &Served| {
            if let Ok(line) = serde_json::to_string(served) {
                println!("{line}");
            }
        });
        eprintln!("simulated {name} camera listening on http://{local}");
        tokio::select! {
            served = serve(listener, options, hook) => served.context("serving the camera"),
            _ = dashvault_server::shutdown_signal() => Ok(()),
        }
    })
}

/// Reads a size: bytes, or a number with a unit (K, M, G, T powers of 1000, optionally
/// with `B`; KiB, MiB, GiB, TiB powers of 1024).
fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size such as 2GiB, 500MB or 1000000"))?;
    let factor: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "t" | "tb" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "tib" => 1024.0f64.powi(4),
        other => {
            return Err(format!(
                "unknown unit `{other}` in `{text}`: use B, KB, MB, GB, TB, KiB, MiB, GiB or TiB"
            ))
        }
    };
    Ok((number * factor).round() as u64)
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes_read_with_decimal_and_binary_units() {
        assert_eq!(parse_size("1000000"), Ok(1_000_000));
        assert_eq!(parse_size("2GiB"), Ok(2 << 30));
        assert_eq!(parse_size("500MB"), Ok(500_000_000));
        assert_eq!(parse_size("1.5G"), Ok(1_500_000_000));
        assert!(parse_size("2 parsecs").is_err());
        assert!(parse_size("GiB").is_err());
    }
}
