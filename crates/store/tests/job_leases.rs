//! Background jobs run in one server of a deployment at a time: the job's lease goes to one holder,
//! which renews it; another holder gets it once it has expired or been given up. On SQLite, and on
//! PostgreSQL when `CHOUCHA_TEST_DATABASE_URL` is set.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::Duration;

use choucha_store::fixtures::TestDb;
use chrono::{TimeZone, Utc};

#[tokio::test]
async fn one_holder_at_a_time_until_the_lease_expires_or_is_given_up() {
    let db = TestDb::new().await.expect("db");
    let s = &db.store;
    let t0 = Utc.with_ymd_and_hms(2025, 10, 20, 1, 0, 0).unwrap();
    let hour = Duration::from_secs(3600);
    assert!(s.job_lease("session_sweep", "a", t0, hour).await.unwrap(), "the first server takes a new job");
    assert!(!s.job_lease("session_sweep", "b", t0, hour).await.unwrap(), "the second does not run it");
    assert!(s.job_lease("audit_checkpoint", "b", t0, hour).await.unwrap(), "each job has its own lease");
    let later = t0 + chrono::Duration::minutes(59);
    assert!(s.job_lease("session_sweep", "a", later, hour).await.unwrap(), "the holder renews its lease");
    let after_first_expiry = t0 + chrono::Duration::minutes(61);
    assert!(
        !s.job_lease("session_sweep", "b", after_first_expiry, hour).await.unwrap(),
        "renewed: still the first server's"
    );
    let after_renewal_expiry = later + chrono::Duration::minutes(61);
    assert!(
        s.job_lease("session_sweep", "b", after_renewal_expiry, hour).await.unwrap(),
        "a holder that stopped renewing loses the job"
    );
    assert!(!s.job_lease("session_sweep", "a", after_renewal_expiry, hour).await.unwrap());
    s.job_release("b").await.unwrap();
    assert!(s.job_lease("session_sweep", "a", after_renewal_expiry, hour).await.unwrap(), "given up: taken at once");
    assert!(s.job_lease("audit_checkpoint", "a", after_renewal_expiry, hour).await.unwrap());
}

#[tokio::test]
async fn servers_asking_at_the_same_moment_get_exactly_one_lease() {
    let db = TestDb::new().await.expect("db");
    let t0 = Utc.with_ymd_and_hms(2025, 10, 20, 1, 0, 0).unwrap();
    let asks = (0..8).map(|i| {
        let s = db.store.clone();
        tokio::spawn(async move {
            s.job_lease("planner_statistics", &format!("server-{i}"), t0, Duration::from_secs(60)).await
        })
    });
    let mut granted = 0;
    for a in asks {
        if a.await.unwrap().unwrap() {
            granted += 1;
        }
    }
    assert_eq!(granted, 1);
}
