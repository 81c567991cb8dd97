//! Issue 18 part 7 (national data exchange): what was exported for entry into e-CQS, when and by
//! whom. One row per sample per mark, so a re-export of a day is recorded again; the SHA-256 of
//! the exported content ties a mark to the file the clerk copied from.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::{fk, idx};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0029_national_export_marks"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("national_export_marks")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("plan_id"))
                .col(string_len("kind", 16))
                .col(date("day"))
                .col(big_integer("task_id"))
                // The sampling record version (sampling) or the report (results) exported.
                .col(big_integer("object_id"))
                .col(string_len("content_sha256", 64))
                .col(big_integer("exported_by"))
                .col(timestamp_with_time_zone("exported_at"))
                .foreign_key(&mut fk("fk_national_export_marks_plan", "national_export_marks", "plan_id", "plans"))
                .foreign_key(&mut fk(
                    "fk_national_export_marks_task",
                    "national_export_marks",
                    "task_id",
                    "sampling_tasks",
                ))
                .foreign_key(&mut fk("fk_national_export_marks_user", "national_export_marks", "exported_by", "users"))
                .take(),
        )
        .await?;
        m.create_index(idx("ix_national_export_marks_plan", "national_export_marks", &["plan_id", "kind", "object_id"]))
            .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("national_export_marks").if_exists().take()).await
    }
}
