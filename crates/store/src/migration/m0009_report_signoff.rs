//! The report's sign-off (rule 15): each of the three people signs on the screen when preparing,
//! reviewing and approving (the PNG is kept with the report and placed in its PDF); a reviewer or
//! approver can send a report back with a reason instead of passing it.
//!
//! SQLite adds one column per `ALTER TABLE`, so each column is its own statement.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer_null, text, timestamp_with_time_zone_null};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0009_report_signoff"
    }
}

const TEXT_COLUMNS: [&str; 4] = ["prepared_sig_b64", "reviewed_sig_b64", "approved_sig_b64", "returned_reason"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for c in TEXT_COLUMNS {
            m.alter_table(Table::alter().table("lab_reports").add_column(text(c).default("")).take()).await?;
        }
        m.alter_table(Table::alter().table("lab_reports").add_column(big_integer_null("returned_by")).take()).await?;
        m.alter_table(
            Table::alter().table("lab_reports").add_column(timestamp_with_time_zone_null("returned_at")).take(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for c in TEXT_COLUMNS.into_iter().chain(["returned_by", "returned_at"]) {
            m.alter_table(Table::alter().table("lab_reports").drop_column(c).take()).await?;
        }
        Ok(())
    }
}
