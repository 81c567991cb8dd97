//! Issue 17 (more than one server): a background job (session sweep, planner statistics, audit
//! checkpoints) runs in one server of a deployment at a time. Its lease is a row here: the server
//! holding it renews it at every run, another server takes it only once it has expired.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0027_job_leases"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("job_leases")
                .if_not_exists()
                .col(string_len("job", 64).primary_key())
                .col(string_len("holder", 200))
                // Unix seconds (real time, never the training clock).
                .col(big_integer("expires_at"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("job_leases").if_exists().to_owned()).await
    }
}
