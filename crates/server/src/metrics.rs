//! Prometheus metrics: request counts and latencies by route, and sign-in counters,
//! rendered in the text format at `GET /metrics`.

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::sync::Arc;
use std::time::Instant;

/// Labels of one HTTP request.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

/// Labels of a latency observation.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    method: String,
    route: String,
}

/// The server's metrics and the registry they are rendered from.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    /// Sign-in codes sent.
    pub codes_sent: Counter,
    /// Successful sign-ins.
    pub sign_ins: Counter,
    /// Wrong, expired or exhausted codes entered.
    pub sign_in_failures: Counter,
    /// Bytes read from tus upload bodies (`PATCH`, and `POST` with creation-with-upload),
    /// acknowledged or not: what clients really sent.
    pub tus_received_bytes: Counter,
}

impl Metrics {
    /// A fresh set of metrics, all at zero.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("dashvault");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.001, 2.0, 14))
        });
        let codes_sent = Counter::default();
        let sign_ins = Counter::default();
        let sign_in_failures = Counter::default();
        let tus_received_bytes = Counter::default();
        registry.register("http_requests", "HTTP requests answered", requests.clone());
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request",
            latency.clone(),
        );
        registry.register("sms_codes_sent", "Sign-in codes sent", codes_sent.clone());
        registry.register("sign_ins", "Successful sign-ins", sign_ins.clone());
        registry.register(
            "sign_in_failures",
            "Wrong, expired or exhausted sign-in codes entered",
            sign_in_failures.clone(),
        );
        registry.register(
            "tus_received_bytes",
            "Bytes read from tus upload bodies, acknowledged or not",
            tus_received_bytes.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            codes_sent,
            sign_ins,
            sign_in_failures,
            tus_received_bytes,
        }
    }

    /// The metrics in Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing to a String can not fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Middleware counting and timing every request by its route template (never the raw
/// path, so ids do not explode the label set).
pub async fn track(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    metrics
        .latency
        .get_or_create(&RouteLabels {
            method: method.clone(),
            route: route.clone(),
        })
        .observe(started.elapsed().as_secs_f64());
    metrics
        .requests
        .get_or_create(&RequestLabels {
            method,
            route,
            status: response.status().as_u16(),
        })
        .inc();
    response
}
