//! Leases of background jobs (table `job_leases`): with two or more servers on one database, each
//! periodic job runs in the one server that holds its lease. Like sessions, leases are
//! infrastructure, not domain data, and are written outside the audited transactions.

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};

use crate::{Store, StoreError};

impl Store {
    /// Take or renew the lease of `job` for `holder` until `now + ttl`. True when `holder` has it
    /// now: it held it already, or the lease had expired (or never existed). Two servers asking at
    /// once: the conditional update lets exactly one of them through.
    pub async fn job_lease(
        &self,
        job: &str,
        holder: &str,
        now: DateTime<Utc>,
        ttl: std::time::Duration,
    ) -> Result<bool, StoreError> {
        let now = now.timestamp();
        let until = now.saturating_add(i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 2));
        let mut insert = Query::insert();
        insert
            .into_table("job_leases")
            .columns(["job", "holder", "expires_at"])
            .values_panic([job.into(), "".into(), 0i64.into()])
            .on_conflict(OnConflict::column("job").do_nothing().to_owned());
        self.write.execute(&insert).await?;
        let mut update = Query::update();
        update
            .table("job_leases")
            .values([("holder", holder.into()), ("expires_at", until.into())])
            .and_where(Expr::col("job").eq(job))
            .and_where(Expr::col("holder").eq(holder).or(Expr::col("expires_at").lt(now)));
        Ok(self.write.execute(&update).await?.rows_affected() == 1)
    }

    /// Give up every lease `holder` has (a server stopping), so another server takes the jobs over
    /// at its next run instead of after the lease's expiry.
    pub async fn job_release(&self, holder: &str) -> Result<(), StoreError> {
        let mut update = Query::update();
        update
            .table("job_leases")
            .values([("holder", "".into()), ("expires_at", 0i64.into())])
            .and_where(Expr::col("holder").eq(holder));
        self.write.execute(&update).await?;
        Ok(())
    }
}
