//! `dashvault serve`: run the cloud service.

use crate::config::{LogFormat, Settings};
use anyhow::Context;
use clap::ArgMatches;
use dashvault_server::Server;
use tracing_subscriber::EnvFilter;

/// Start logging, open the stores and serve until SIGTERM or Ctrl-C.
pub fn run(settings: Settings, matches: &ArgMatches) -> anyhow::Result<()> {
    let settings = settings.with_file(matches)?;
    init_logging(settings.log_format);
    let config = settings.server_config()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let shutdown = dashvault_server::shutdown_signal();
        let server = Server::bind(&config).await?;
        let addr = server.local_addr()?;
        tracing::info!(
            database = %dashvault_server::app::redact_password(&config.database_url),
            blobs = %config.blob_url,
            "dashvault listening on http://{addr}"
        );
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
