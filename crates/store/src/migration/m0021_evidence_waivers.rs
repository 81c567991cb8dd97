//! Issue 16 (rule 7): a required evidence category that could not be photographed is recorded with
//! the reason, by the team, before the sampling record is locked; the organising bureau sees it.
//! One row per task and category (a later reason replaces nothing: the first one stands).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::{fk, unique};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0021_evidence_waivers"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("evidence_waivers")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("task_id"))
                .col(string_len("category", 16))
                .col(text("reason"))
                .col(big_integer("recorded_by"))
                .col(timestamp_with_time_zone("recorded_at"))
                .foreign_key(&mut fk("fk_evidence_waivers_task", "evidence_waivers", "task_id", "sampling_tasks"))
                .foreign_key(&mut fk("fk_evidence_waivers_user", "evidence_waivers", "recorded_by", "users"))
                .take(),
        )
        .await?;
        m.create_index(unique("ux_evidence_waivers_task_category", "evidence_waivers", &["task_id", "category"])).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("evidence_waivers").take()).await
    }
}
