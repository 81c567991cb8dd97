//! What an operator watches: every request gets a request id (the caller's `X-Request-Id` when it
//! is a sane token, else a new one), carried by its log lines, returned in the `X-Request-Id`
//! header and shown on error pages; request counts and latency by route and status, the database
//! pools, the background jobs and the overdue work (as the periodic job last counted it) are served
//! at `/metrics` in Prometheus' text format (the
//! `prometheus` crate, one registry per application). `/metrics` answers a loopback caller, or one
//! with the configured bearer token; anyone else gets 404.

use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use choucha_service::overdue_counts::OverdueCount;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};
use tracing::Instrument;

use crate::AppState;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being answered (empty outside a request).
pub fn current_request_id() -> String {
    REQUEST_ID.try_with(Clone::clone).unwrap_or_default()
}

/// The application's metrics.
/// The metrics, shared: every request's state holds one (one reference count to clone, not seven).
#[derive(Clone, Debug)]
pub struct Metrics(std::sync::Arc<MetricSet>);

impl std::ops::Deref for Metrics {
    type Target = MetricSet;
    fn deref(&self) -> &MetricSet {
        &self.0
    }
}

#[derive(Debug)]
pub struct MetricSet {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pools: IntGaugeVec,
    jobs: IntCounterVec,
    overdue: IntGaugeVec,
    overdue_counted: IntGauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A fresh registry with Choucha's metrics.
    #[allow(clippy::expect_used)] // the names and labels below are constants that register once
    pub fn new() -> Self {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new("choucha_http_requests_total", "HTTP requests by method, route and status"),
            &["method", "route", "status"],
        )
        .expect("metric");
        let latency = HistogramVec::new(
            HistogramOpts::new("choucha_http_request_duration_seconds", "HTTP request latency by method and route")
                .buckets(vec![0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0]),
            &["method", "route"],
        )
        .expect("metric");
        let pools = IntGaugeVec::new(
            Opts::new("choucha_db_pool_connections", "Database pool connections by pool and state"),
            &["pool", "state"],
        )
        .expect("metric");
        let jobs = IntCounterVec::new(
            Opts::new("choucha_background_job_runs_total", "Background job runs by job and outcome"),
            &["job", "outcome"],
        )
        .expect("metric");
        let overdue = IntGaugeVec::new(
            Opts::new(
                "choucha_overdue_work",
                "Duties past their deadline by kind, as last counted by the overdue_counts job",
            ),
            &["kind"],
        )
        .expect("metric");
        let overdue_counted = IntGauge::new(
            "choucha_overdue_counted_timestamp_seconds",
            "When the overdue work was last counted (Unix seconds)",
        )
        .expect("metric");
        let collectors: [Box<dyn prometheus::core::Collector>; 6] = [
            Box::new(requests.clone()),
            Box::new(latency.clone()),
            Box::new(pools.clone()),
            Box::new(jobs.clone()),
            Box::new(overdue.clone()),
            Box::new(overdue_counted.clone()),
        ];
        for c in collectors {
            registry.register(c).expect("register");
        }
        Self(std::sync::Arc::new(MetricSet { registry, requests, latency, pools, jobs, overdue, overdue_counted }))
    }

    /// Count a run of a background job (`ok` or `error`).
    pub fn job_ran(&self, job: &str, ok: bool) {
        self.jobs.with_label_values(&[job, if ok { "ok" } else { "error" }]).inc();
    }

    /// Count a turn of a background job that another server of the deployment holds (`elsewhere`).
    pub fn job_elsewhere(&self, job: &str) {
        self.jobs.with_label_values(&[job, "elsewhere"]).inc();
    }

    fn observe(&self, method: &str, route: &str, status: StatusCode, seconds: f64) {
        self.requests.with_label_values(&[method, route, status.as_str()]).inc();
        self.latency.with_label_values(&[method, route]).observe(seconds);
    }

    /// The text exposition, with the pools read now and the overdue work as last counted.
    fn render(&self, pools: &[(&'static str, u32, usize)], overdue: &[OverdueCount]) -> String {
        for c in overdue {
            self.overdue.with_label_values(&[c.kind.as_str()]).set(c.total);
        }
        if let Some(at) = overdue.iter().map(|c| c.counted_at.timestamp()).min() {
            self.overdue_counted.set(at);
        }
        for (pool, size, idle) in pools {
            let idle = i64::try_from(*idle).unwrap_or(i64::MAX);
            self.pools.with_label_values(&[pool, "open"]).set(i64::from(*size));
            self.pools.with_label_values(&[pool, "idle"]).set(idle);
            self.pools.with_label_values(&[pool, "in_use"]).set(i64::from(*size) - idle);
        }
        let mut out = Vec::new();
        if TextEncoder::new().encode(&self.registry.gather(), &mut out).is_err() {
            return String::new();
        }
        String::from_utf8(out).unwrap_or_default()
    }
}

/// An id the caller sent that is safe to log and echo: 1–64 letters, digits, `-` or `_`.
fn sane(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The request id, the request's log span, and its metrics (by the matched route, never the raw
/// path, so ids in paths do not multiply the series).
pub async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| sane(v))
        .map_or_else(|| uuid::Uuid::new_v4().simple().to_string(), str::to_string);
    let method = req.method().as_str().to_owned();
    let route = req.extensions().get::<MatchedPath>().map_or("（未匹配）", MatchedPath::as_str).to_owned();
    let span = tracing::info_span!("request", request_id = %id, %method, route = %route);
    let started = Instant::now();
    let mut response = REQUEST_ID.scope(id.clone(), next.run(req).instrument(span)).await;
    state.metrics.observe(&method, &route, response.status(), started.elapsed().as_secs_f64());
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, v);
    }
    response
}

/// `GET /metrics`: for a loopback caller, or with `Authorization: Bearer <metrics token>`; 404
/// (as for a page that does not exist) for anyone else.
pub async fn metrics(State(state): State<AppState>, req: Request) -> Response {
    let loopback = req.extensions().get::<ConnectInfo<std::net::SocketAddr>>().is_some_and(|c| c.0.ip().is_loopback());
    let allowed = match state.metrics_token.as_deref() {
        Some(token) => crate::auth::bearer_token(req.headers()).is_some_and(|t| crate::auth::same(t, token)),
        None => loopback,
    };
    if !allowed {
        return crate::error::fallback(req.uri().clone()).await;
    }
    // A few rows kept by the periodic job, never a count over the history per scrape.
    let overdue = state.services.overdue_counts().await.unwrap_or_else(|e| {
        tracing::warn!("cannot read the overdue counts: {e}");
        Vec::new()
    });
    let body = state.metrics.render(&state.services.pool_status(), &overdue);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], body).into_response()
}
