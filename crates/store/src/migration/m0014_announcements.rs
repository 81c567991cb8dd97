//! Result announcements (结果公告, issue 6): one row per announcement of a plan, with its editable
//! content while a draft and its frozen snapshot (and hash) once published; correction and
//! withdrawal are recorded on the row (who, when, why). Also the covering index the plan
//! statistics (summary table, quality analysis) group by: (plan_id, item_id, qualified).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::{fk, idx};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0014_announcements"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("announcements")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("plan_id"))
                .col(big_integer("organising_org_id"))
                // draft | approved | published | corrected | withdrawn
                .col(string_len("state", 16))
                .col(string_len("title", 300))
                .col(text("preface"))
                // rows and refusals with their exclusions (see service::announcements::Content)
                .col(text("content_json"))
                // the published snapshot and its SHA-256 (empty until published)
                .col(text("snapshot_json").default(""))
                .col(string_len("snapshot_sha256", 64).default(""))
                // the published announcement this one corrects, and why
                .col(big_integer_null("corrects_id"))
                .col(text("correction_reason").default(""))
                // the correction that replaced this one
                .col(big_integer_null("corrected_by_id"))
                .col(big_integer("drafted_by"))
                .col(timestamp_with_time_zone("drafted_at"))
                .col(big_integer("updated_by"))
                .col(timestamp_with_time_zone("updated_at"))
                .col(big_integer_null("approved_by"))
                .col(timestamp_with_time_zone_null("approved_at"))
                .col(big_integer_null("published_by"))
                .col(timestamp_with_time_zone_null("published_at"))
                .col(big_integer_null("withdrawn_by"))
                .col(timestamp_with_time_zone_null("withdrawn_at"))
                .col(text("withdrawal_reason").default(""))
                .foreign_key(&mut fk("fk_announcements_plan", "announcements", "plan_id", "plans"))
                .take(),
        )
        .await?;
        m.create_index(idx("ix_announcements_plan", "announcements", &["plan_id", "id"])).await?;
        m.create_index(idx("ix_announcements_state", "announcements", &["state", "id"])).await?;
        m.create_index(idx("ix_lab_samples_plan_item_qualified", "lab_samples", &["plan_id", "item_id", "qualified"]))
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop().name("ix_lab_samples_plan_item_qualified").table("lab_samples").if_exists().to_owned(),
        )
        .await?;
        m.drop_table(Table::drop().table("announcements").if_exists().to_owned()).await?;
        Ok(())
    }
}
