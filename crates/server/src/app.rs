//! The service assembled: state from configuration, the router with its middleware, and
//! a server that binds, serves and shuts down gracefully.

use crate::auth::rate::RateLimiter;
use crate::auth::sms;
use crate::clock::{Clock, SystemClock};
use crate::config::ServerConfig;
use crate::error::ApiError;
use crate::jobs::{Worker, WorkerConfig};
use crate::metrics::{self, Metrics};
use crate::routes;
use crate::state::AppState;
use crate::tus::{self, Uploads};
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request};
use axum::routing::get;
use axum::{middleware, Json, Router};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The metadata database could not be opened or migrated.
    #[error("opening the database {url}: {source}")]
    Database {
        /// The database URL (without secrets it may hold in the password).
        url: String,
        /// What went wrong.
        source: dashvault_store::Error,
    },
    /// The blob store could not be opened.
    #[error("opening the blob store {url}: {source}")]
    Blobs {
        /// The blob URL.
        url: String,
        /// What went wrong.
        source: dashvault_store::blob::BlobError,
    },
    /// The listen address could not be bound.
    #[error("listening on {addr}: {source} (is another server running there? pick another with --listen)")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// What went wrong.
        source: std::io::Error,
    },
    /// Serving failed.
    #[error("serving: {0}")]
    Io(#[from] std::io::Error),
}

impl AppState {
    /// Open the repository named in `config` and gather the state around it.
    pub async fn from_config(
        config: &ServerConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, ServeError> {
        let repo = dashvault_store::open(&config.database_url)
            .await
            .map_err(|source| ServeError::Database {
                url: redact_password(&config.database_url),
                source,
            })?;
        let blobs = dashvault_store::open_blob_store(&config.blob_url)
            .await
            .map_err(|source| ServeError::Blobs {
                url: redact_password(&config.blob_url),
                source,
            })?;
        let archive = dashvault_store::open_blob_store(&config.archive.url)
            .await
            .map_err(|source| ServeError::Blobs {
                url: redact_password(&config.archive.url),
                source,
            })?;
        Ok(Self {
            repo,
            blobs,
            archive,
            archive_config: Arc::new(config.archive.clone()),
            uploads: Arc::new(Uploads::new(config.uploads.clone())),
            videos: Arc::default(),
            share_lookups: Arc::new(RateLimiter::new(
                routes::shares::LOOKUPS_PER_MINUTE,
                chrono::Duration::minutes(1),
            )),
            clock,
            sms: Arc::from(sms::sender_for(&config.sms)),
            auth: Arc::new(config.auth.clone()),
            limits: Arc::new(config.limits.clone()),
            metrics: Arc::new(Metrics::new()),
            web: Arc::new(config.web.clone()),
            evidence: Arc::new(config.evidence_key.clone()),
        })
    }
}

/// The whole HTTP application for `state`.
pub fn app(state: AppState) -> Router {
    let (api, mut openapi) = routes::api().split_for_parts();
    routes::openapi::complete_responses(&mut openapi);
    let openapi = Arc::new(openapi);
    api.merge(crate::web::router(&state)).route(
        "/api/openapi.json",
        get(move || {
            let openapi = Arc::clone(&openapi);
            async move { Json(openapi.as_ref().clone()) }
        }),
    )
    .fallback(|| async { ApiError::NotFound })
    .layer(DefaultBodyLimit::max(state.limits.json_body_bytes))
    .layer(middleware::from_fn_with_state(
        state.limits.request_timeout,
        tus::timeout_except_uploads,
    ))
    .layer(middleware::from_fn(crate::error::json_errors))
    .layer(middleware::from_fn_with_state(
        Arc::clone(&state.metrics),
        metrics::track,
    ))
    .layer(PropagateRequestIdLayer::new(REQUEST_ID))
    .layer(
        TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
            let request_id = request
                .headers()
                .get(&REQUEST_ID)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-");
            tracing::info_span!("request", method = %request.method(), uri = %request.uri().path(), request_id)
        }),
    )
    .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
    .with_state(state)
}

/// A bound, not yet serving, server.
pub struct Server {
    listener: TcpListener,
    router: Router,
    jobs: Option<Worker>,
    state: AppState,
}

impl Server {
    /// Open the state for `config` with the real clock and bind its address.
    pub async fn bind(config: &ServerConfig) -> Result<Self, ServeError> {
        let state = AppState::from_config(config, Arc::new(SystemClock)).await?;
        Self::bind_with_state(config.listen, state).await
    }

    /// Bind `addr` (port 0 picks a free one) to serve `state`.
    pub async fn bind_with_state(addr: SocketAddr, state: AppState) -> Result<Self, ServeError> {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| ServeError::Bind { addr, source })?;
        let jobs = Worker::for_state(&state, WorkerConfig::default());
        Ok(Self {
            listener,
            router: app(state.clone()),
            jobs: Some(jobs),
            state,
        })
    }

    /// The same server without its background job worker (nor the sweep at start): for
    /// tests that run the queue themselves ([`Worker::run_one`]), so that no other worker
    /// races them.
    pub fn without_jobs(mut self) -> Self {
        self.jobs = None;
        self
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serve, and run background jobs, until `shutdown` completes; then finish the
    /// requests and the job in flight.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        // The worker stops when `shutdown` completes, or when serving fails (the sender
        // is dropped with the graceful-shutdown future).
        let (stop_jobs, mut jobs_stopped) = tokio::sync::watch::channel(());
        if self.jobs.is_some() {
            // What crashed uploads left behind goes at once, not an hour later.
            let state = self.state.clone();
            tokio::spawn(async move {
                match crate::tus::sweep(&state, true).await {
                    Ok(report) => tracing::info!(?report, "swept what no upload owns"),
                    Err(err) => {
                        tracing::warn!(%err, "the sweep at start failed; the hourly one retries")
                    }
                }
            });
        }
        let jobs = self.jobs.map(|worker| {
            tokio::spawn(worker.run_until(async move {
                let _ = jobs_stopped.changed().await;
            }))
        });
        let served = crate::connections::serve(self.listener, self.router, async move {
            shutdown.await;
            let _ = stop_jobs.send(());
        })
        .await;
        if let Some(Err(err)) = match jobs {
            Some(jobs) => Some(jobs.await),
            None => None,
        } {
            tracing::error!(%err, "the job worker crashed");
        }
        served?;
        Ok(())
    }
}

/// Resolves on SIGTERM or Ctrl-C, for graceful shutdown. The handlers are installed when
/// this is called (inside the runtime), not when the future is first polled, so a signal
/// that arrives as soon as the server says it listens is not lost.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let signals = {
        use tokio::signal::unix::{signal, SignalKind};
        (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        )
    };
    async move {
        #[cfg(unix)]
        match signals {
            (Ok(mut terminate), Ok(mut interrupt)) => {
                tokio::select! {
                    _ = terminate.recv() => {}
                    _ = interrupt.recv() => {}
                }
            }
            (Err(err), _) | (_, Err(err)) => {
                tracing::warn!(%err, "can not listen for SIGTERM/SIGINT; stop with SIGKILL");
                std::future::pending::<()>().await;
            }
        }
        #[cfg(not(unix))]
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::warn!(%err, "can not listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
        tracing::info!("shutting down: finishing requests in flight");
    }
}

/// `url` with any password replaced by `***`, for messages and logs.
pub fn redact_password(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}
