//! Issue 16: a 复查 (follow-up check of a post-processing case, rule 20) is a real sampling task,
//! linked to its case (`case_follow_ups`, one row a 复查 task, its round: 1 the 复查, 2 the second
//! 复查); and the backup portion's dispatch from the first laboratory to the re-test laboratory
//! (`retest_dispatches`, rule 18): when, how, and the seal numbers and state as packed, which the
//! receiving custodian's seal check compares against.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::{fk, idx};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0025_follow_up_tasks"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("case_follow_ups")
                .if_not_exists()
                .col(big_integer("task_id").primary_key())
                .col(big_integer("case_id"))
                .col(integer("round"))
                .col(big_integer("ordered_by"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("fk_case_follow_ups_task", "case_follow_ups", "task_id", "sampling_tasks"))
                .foreign_key(&mut fk("fk_case_follow_ups_case", "case_follow_ups", "case_id", "cases"))
                .take(),
        )
        .await?;
        m.create_index(idx("ix_case_follow_ups_case", "case_follow_ups", &["case_id", "task_id"])).await?;
        m.create_table(
            Table::create()
                .table("retest_dispatches")
                .if_not_exists()
                .col(big_integer("retest_id").primary_key())
                .col(timestamp_with_time_zone("dispatched_at"))
                .col(string_len("carrier", 200))
                .col(text("seals"))
                .col(boolean("seal_intact"))
                .col(text("note"))
                .col(big_integer("actor_id"))
                .col(string_len("actor_name", 200))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("fk_retest_dispatches_retest", "retest_dispatches", "retest_id", "retests"))
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("retest_dispatches").take()).await?;
        m.drop_table(Table::drop().table("case_follow_ups").take()).await
    }
}
