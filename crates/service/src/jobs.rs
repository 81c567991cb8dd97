//! Background jobs across servers: two or more `choucha serve` processes on one database run each
//! periodic job (session sweep, planner statistics, audit checkpoints) in one of them at a time,
//! the one holding the job's lease in the database (`job_leases`).

use std::sync::LazyLock;
use std::time::Duration;

use crate::{Result, Services};

/// This server among the servers of a deployment: host name, process id and a random part (a
/// restarted process is another holder).
static SERVER_ID: LazyLock<String> = LazyLock::new(|| {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "server".into());
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("{host}:{}:{}", std::process::id(), &random[..8])
});

/// This server's name in the job leases (and the logs).
pub fn server_id() -> &'static str {
    &SERVER_ID
}

impl Services {
    /// Whether this server runs `job` now, a job run every `every`: it takes the job's lease, or
    /// renews it, for two periods, so the holder keeps it while it runs and another server takes
    /// over within two periods of the holder's end (at once after a clean stop, see
    /// [`Services::release_jobs`]). Real time, never the training clock.
    pub async fn lease_job(&self, job: &str, every: Duration) -> Result<bool> {
        Ok(self.store.job_lease(job, server_id(), self.clock().real_now(), every.saturating_mul(2)).await?)
    }

    /// Give up this server's job leases (a clean stop).
    pub async fn release_jobs(&self) -> Result<()> {
        Ok(self.store.job_release(server_id()).await?)
    }
}
