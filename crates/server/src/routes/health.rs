//! `GET /healthz` (the process answers), `GET /readyz` (its dependencies answer) and
//! `GET /metrics` (Prometheus text).

use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;

/// Liveness: the process is up and serving.
#[utoipa::path(get, path = "/healthz", tag = "service",
    responses((status = 200, description = "Alive", body = String)))]
pub async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: the database and the blob store answer, and the store has room for new
/// uploads (above its reserve of free space); otherwise `503` with the reason.
#[utoipa::path(get, path = "/readyz", tag = "service",
    responses(
        (status = 200, description = "Ready", body = String),
        (status = 503, description = "A dependency is down", body = ErrorBody),
    ))]
pub async fn readyz(State(state): State<AppState>) -> Result<&'static str, ApiError> {
    state.repo.ping().await.map_err(|err| {
        tracing::warn!(%err, "database not ready");
        ApiError::Unavailable("the database does not answer".to_owned())
    })?;
    state.blobs.ping().await.map_err(|err| {
        tracing::warn!(%err, "blob store not ready");
        ApiError::Unavailable("the blob store does not answer".to_owned())
    })?;
    if let Some(reason) = crate::capacity::shortage(&state, crate::capacity::READY_ROOM).await? {
        return Err(ApiError::Unavailable(format!(
            "new uploads would be refused: {reason}"
        )));
    }
    Ok("ready")
}

/// Metrics in the Prometheus text format.
#[utoipa::path(get, path = "/metrics", tag = "service",
    responses((status = 200, description = "OpenMetrics text exposition", body = String,
        content_type = "application/openmetrics-text")))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
}
