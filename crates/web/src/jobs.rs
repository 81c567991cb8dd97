//! The periodic background jobs of a server, each run in one server of the deployment at a time
//! (the one holding its lease, `Services::lease_job`); `/metrics` counts each turn as `ok`, `error`
//! or `elsewhere` (another server holds the job).

use std::future::Future;
use std::time::Duration;

use choucha_service::Services;

use crate::observe::Metrics;

/// Every `every` (the first turn at once), while the server runs: `run` when this server holds the
/// job's lease. `run` says whether the job succeeded.
pub async fn periodic<F, Fut>(services: Services, metrics: Metrics, job: &'static str, every: Duration, mut run: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match services.lease_job(job, every).await {
            Ok(true) => metrics.job_ran(job, run().await),
            Ok(false) => metrics.job_elsewhere(job),
            Err(e) => {
                tracing::warn!(job, "cannot take the job's lease: {e}");
                metrics.job_ran(job, false);
            }
        }
    }
}

/// A job's result as its success, the failure logged.
pub fn logged<T, E: std::fmt::Display>(what: &str, result: Result<T, E>) -> bool {
    match result {
        Ok(_) => true,
        Err(e) => {
            tracing::warn!("{what} failed: {e}");
            false
        }
    }
}
