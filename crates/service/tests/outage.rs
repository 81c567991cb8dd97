//! A read of one object tells a missing record (404, "…不存在") from a failing database (an
//! internal error with an id the user can quote): a database outage is never a silent 404. On
//! SQLite, and on PostgreSQL with CHOUCHA_TEST_DATABASE_URL.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use choucha_service::fixtures::lab_world::*;
use choucha_service::{ServiceError, announcements};
use sea_orm::ConnectionTrait;

#[tokio::test]
async fn a_failing_database_is_an_internal_error_not_a_missing_record() {
    let w = world_with(Options::default()).await;
    let r = announcements::get(s(&w), &w.regulator, 999_999).await;
    assert!(matches!(r, Err(ServiceError::NotFound("公告"))), "{r:?}");

    // The table gone (a broken database): the same read is an internal error.
    s(&w).store().reader().execute_unprepared("ALTER TABLE announcements RENAME TO announcements_gone").await.unwrap();
    let r = announcements::get(s(&w), &w.regulator, 999_999).await;
    assert!(matches!(r, Err(ServiceError::Internal(_))), "{r:?}");
}
