//! Hand-over after sampling: requests to keep the backup portion at the enterprise with the
//! organising bureau's decision (rule 9), and what the team showed on arrival (notice, identity,
//! authorisation letter).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::{fk, idx};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0007_handover"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("backup_requests")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("task_id"))
                // the organising bureau that decides
                .col(big_integer("org_id"))
                .col(text("reason"))
                .col(string_len("storage_place", 300))
                .col(text("storage_conditions").default(""))
                // pending | approved | denied
                .col(string_len("state", 16))
                .col(big_integer("requested_by"))
                .col(timestamp_with_time_zone("created_at"))
                .col(big_integer_null("decided_by"))
                .col(string_len("decided_by_name", 100).default(""))
                .col(timestamp_with_time_zone_null("decided_at"))
                .col(text("opinion").default(""))
                .foreign_key(&mut fk("fk_backup_requests_task", "backup_requests", "task_id", "sampling_tasks"))
                .take(),
        )
        .await?;
        m.create_index(idx("ix_backup_requests_task", "backup_requests", &["task_id", "id"])).await?;

        m.create_table(
            Table::create()
                .table("task_arrivals")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("task_id"))
                .col(boolean("notice_shown"))
                .col(boolean("identity_shown"))
                .col(boolean("authorisation_shown"))
                .col(big_integer("recorded_by"))
                .col(timestamp_with_time_zone("arrived_at"))
                .foreign_key(&mut fk("fk_task_arrivals_task", "task_arrivals", "task_id", "sampling_tasks"))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_task_arrivals_task")
                .table("task_arrivals")
                .col("task_id")
                .unique()
                .if_not_exists()
                .take(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["task_arrivals", "backup_requests"] {
            m.drop_table(Table::drop().table(t).if_exists().take()).await?;
        }
        Ok(())
    }
}
