//! The custody chain of a sample's portions (DESIGN.md rules 9, 12, 19): every movement of the test
//! or backup portion — sealed on site, dispatched to the testing institution, received, stored,
//! taken to testing or re-testing, disposed of — is one row with who, when and the seal's state.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::{fk, idx};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0005_custody"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("custody_events")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("task_id"))
                // test | backup | all
                .col(string_len("portion", 16))
                // sealed | dispatched | received | rejected | stored | to_testing | returned | to_retest | disposed | kept_at_enterprise
                .col(string_len("kind", 24))
                // intact | broken | not_applicable
                .col(string_len("seal_state", 24))
                .col(string_len("location", 200).default(""))
                // carried | shipped (dispatch only)
                .col(string_len("mode", 16).default(""))
                .col(string_len("carrier", 100).default(""))
                .col(string_len("tracking_no", 100).default(""))
                .col(text("note").default(""))
                .col(big_integer_null("actor_id"))
                .col(string_len("actor_name", 100))
                // when it happened (may be before it was entered)
                .col(timestamp_with_time_zone("happened_at"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("fk_custody_events_task", "custody_events", "task_id", "sampling_tasks"))
                .take(),
        )
        .await?;
        m.create_index(idx("ix_custody_events_task", "custody_events", &["task_id", "id"])).await?;
        m.create_index(idx("ix_custody_events_kind", "custody_events", &["kind", "id"])).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("custody_events").if_exists().take()).await?;
        Ok(())
    }
}
