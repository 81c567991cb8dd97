//! Shared state of the handlers.

use choucha_service::Services;

#[derive(Clone, Debug)]
pub struct AppState {
    pub services: Services,
    /// Send cookies only over HTTPS (set when served behind TLS, and always when `tls` is).
    pub secure_cookies: bool,
    /// `serve` terminates TLS itself: every response carries `Strict-Transport-Security`.
    pub tls: bool,
    /// A proxy in front terminates TLS and says so in `X-Forwarded-Proto: https`; only then do
    /// such requests get `Strict-Transport-Security` (see `headers`).
    pub trust_proxy_https: bool,
    /// Request counts and latency, pools and background jobs (`/metrics`).
    pub metrics: crate::observe::Metrics,
    /// A bearer token that opens `/metrics` to callers not on this machine (none: loopback only).
    pub metrics_token: Option<String>,
    /// Whether `serve` runs the periodic jobs (session sweep, planner statistics, overdue counts).
    /// Off only for the bench's in-process servers, whose figures a job starting at t = 0 (an
    /// `ANALYZE` of millions of rows) would disturb.
    pub background_jobs: bool,
}

impl AppState {
    pub fn new(services: Services) -> Self {
        Self {
            services,
            secure_cookies: false,
            tls: false,
            trust_proxy_https: false,
            metrics: crate::observe::Metrics::new(),
            metrics_token: None,
            background_jobs: true,
        }
    }
}
