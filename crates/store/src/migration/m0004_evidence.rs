//! Evidence of sampling tasks (DESIGN.md rule 7): one row per stored file (the file itself lives
//! content-addressed in the evidence folder), and the resumable uploads that produce them.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::{fk, idx};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0004_evidence"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("evidence")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("task_id"))
                .col(string_len("category", 16))
                .col(string_len("file_name", 255))
                .col(string_len("content_type", 100))
                .col(big_integer("size"))
                .col(string_len("sha256", 64))
                .col(big_integer("uploaded_by"))
                .col(timestamp_with_time_zone("uploaded_at"))
                .foreign_key(&mut fk("fk_evidence_task", "evidence", "task_id", "sampling_tasks"))
                .foreign_key(&mut fk("fk_evidence_user", "evidence", "uploaded_by", "users"))
                .take(),
        )
        .await?;
        m.create_index(idx("ix_evidence_task", "evidence", &["task_id", "id"])).await?;
        m.create_index(idx("ix_evidence_sha256", "evidence", &["sha256"])).await?;

        m.create_table(
            Table::create()
                .table("evidence_uploads")
                .if_not_exists()
                .col(string_len("id", 32).primary_key())
                .col(big_integer("task_id"))
                .col(string_len("category", 16))
                .col(string_len("file_name", 255))
                .col(string_len("content_type", 100))
                .col(big_integer("total_size"))
                .col(string_len_null("expected_sha256", 64))
                .col(string_len("state", 16))
                .col(big_integer_null("evidence_id"))
                .col(big_integer("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("fk_evidence_uploads_task", "evidence_uploads", "task_id", "sampling_tasks"))
                .foreign_key(&mut fk("fk_evidence_uploads_user", "evidence_uploads", "created_by", "users"))
                .foreign_key(&mut fk("fk_evidence_uploads_evidence", "evidence_uploads", "evidence_id", "evidence"))
                .take(),
        )
        .await?;
        m.create_index(idx("ix_evidence_uploads_task", "evidence_uploads", &["task_id", "id"])).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["evidence_uploads", "evidence"] {
            m.drop_table(Table::drop().table(t).if_exists().take()).await?;
        }
        Ok(())
    }
}
