//! `dashvault serve`: run the cloud service.

use crate::config::{LogFormat, Settings};
use anyhow::Context;
use clap::{ArgMatches, Args};
use dashvault_server::clock::SystemClock;
use dashvault_server::state::AppState;
use dashvault_server::Server;
use std::sync::Arc;
use tracing_subscriber::EnvFilter;

/// Flags of `dashvault serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    settings: Settings,
    /// Also run a simulated camera and an agent in this process, for a user whose phone
    /// number the console prints: sign in with it to see rides and incidents at once.
    #[arg(long)]
    demo: bool,
}

/// Start logging, open the stores and serve until SIGTERM or Ctrl-C.
pub fn run(args: ServeArgs, matches: &ArgMatches) -> anyhow::Result<()> {
    let settings = args.settings.with_file(matches)?;
    init_logging(settings.log_format);
    let config = settings.server_config()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let shutdown = dashvault_server::shutdown_signal();
        let state = AppState::from_config(&config, Arc::new(SystemClock)).await?;
        let demo = match args.demo {
            true => Some(crate::demo::prepare(&state, &settings.data_dir).await?),
            false => None,
        };
        let server = Server::bind_with_state(config.listen, state).await?;
        let addr = server.local_addr()?;
        tracing::info!(
            database = %dashvault_server::app::redact_password(&config.database_url),
            blobs = %config.blob_url,
            "dashvault listening on http://{addr}"
        );
        if let Some(device) = demo {
            let url = format!("http://{addr}").parse()?;
            tokio::spawn(async move {
                if let Err(e) = crate::demo::run(device, url).await {
                    tracing::error!("the demo camera and agent stopped: {e:#}");
                }
            });
            tracing::info!(
                "demo: open http://{addr} and sign in with {} — the code will be printed here",
                crate::demo::PHONE_DISPLAY
            );
        }
        server.run(shutdown).await?;
        anyhow::Ok(())
    })
}

/// Logs to stderr, filtered by `RUST_LOG` (default `info`), as text or JSON.
pub(crate) fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}
