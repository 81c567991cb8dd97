//! On-site sampling: versions of the sampling record (抽样单) with their signatures, task outcomes
//! (refusal, problem report) and the bureaus' inbox.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::{fk, idx};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0003_sampling"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("sampling_records")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("task_id"))
                .col(integer("version"))
                .col(string_len("state", 24))
                .col(text("fields_json"))
                .col(string_len("record_hash", 64))
                .col(text("diff_json").default("[]"))
                .col(text("correction_reason").default(""))
                .col(big_integer("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("locked_at"))
                .foreign_key(&mut fk("fk_sampling_records_task", "sampling_records", "task_id", "sampling_tasks"))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_sampling_records_task_version")
                .table("sampling_records")
                .col("task_id")
                .col("version")
                .unique()
                .if_not_exists()
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("record_signatures")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("record_id"))
                .col(string_len("signer", 32))
                .col(big_integer_null("user_id"))
                .col(string_len("signer_name", 100))
                .col(text("image_b64").default(""))
                .col(string_len("image_sha256", 64).default(""))
                .col(boolean("refused").default(false))
                .col(text("refusal_reason").default(""))
                .col(string_len("witness_name", 100).default(""))
                .col(text("witness_image_b64").default(""))
                .col(string_len("record_hash", 64))
                .col(timestamp_with_time_zone("signed_at"))
                .foreign_key(&mut fk(
                    "fk_record_signatures_record",
                    "record_signatures",
                    "record_id",
                    "sampling_records",
                ))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_record_signatures_signer")
                .table("record_signatures")
                .col("record_id")
                .col("signer")
                .unique()
                .if_not_exists()
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("task_outcomes")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("task_id"))
                .col(string_len("kind", 24))
                .col(text("details_json"))
                .col(big_integer("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .col(big_integer_null("cosigned_by"))
                .col(timestamp_with_time_zone_null("cosigned_at"))
                .col(text("cosign_opinion").default(""))
                .foreign_key(&mut fk("fk_task_outcomes_task", "task_outcomes", "task_id", "sampling_tasks"))
                .take(),
        )
        .await?;
        m.create_index(idx("ix_task_outcomes_task", "task_outcomes", &["task_id", "id"])).await?;

        m.create_table(
            Table::create()
                .table("inbox_items")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("org_id"))
                .col(string_len("kind", 32))
                .col(string_len("title", 300))
                .col(string_len("ref_type", 32))
                .col(big_integer("ref_id"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("read_at"))
                .foreign_key(&mut fk("fk_inbox_items_org", "inbox_items", "org_id", "organisations"))
                .take(),
        )
        .await?;
        m.create_index(idx("ix_inbox_items_org", "inbox_items", &["org_id", "id"])).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["inbox_items", "task_outcomes", "record_signatures", "sampling_records"] {
            m.drop_table(Table::drop().table(t).if_exists().take()).await?;
        }
        Ok(())
    }
}
