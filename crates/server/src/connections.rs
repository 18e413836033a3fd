//! The accept loop: HTTP/1.1 connections served by hyper with a bounded read buffer, and
//! a graceful shutdown that finishes the requests in flight.
//!
//! Written here instead of `axum::serve` only because that does not expose hyper's
//! `max_buf_size`. hyper's default (about 400 KiB) lets each connection that streams a
//! large upload body hold up to three buffers of that size; with 50 concurrent uploads that
//! was 55–63 MiB of the server's heap (heaptrack). [`MAX_READ_BUFFER`] bounds it.

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::Request;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::time::Duration;
use tokio::net::TcpListener;
use tower::ServiceExt;

/// Largest read buffer of one connection. Upload bodies are written in 256 KiB batches
/// whatever size the reads are, so 128 KiB reads cost no throughput.
pub const MAX_READ_BUFFER: usize = 128 << 10;

/// Pause after a failed accept (e.g. too many open files), as `axum::serve` does, so a
/// persistent error does not spin the loop.
const ACCEPT_BACKOFF: Duration = Duration::from_secs(1);

/// Serves `router` on `listener` until `shutdown` completes, then stops accepting and
/// waits for the open connections to finish their requests. Each request carries the
/// peer's `ConnectInfo<SocketAddr>`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .max_buf_size(MAX_READ_BUFFER)
        .timer(TokioTimer::new());
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    tracing::error!(%err, "accepting a connection failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let router = router.clone();
        let service =
            TowerToHyperService::new(tower::service_fn(move |mut request: Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                router.clone().oneshot(request)
            }));
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(%err, %peer, "connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}
