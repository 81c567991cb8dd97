//! Issue 16: a person stores the image of their handwritten signature once (drawn on the pad or
//! uploaded as PNG) and signs reports with a confirmation instead of drawing it again each time; an
//! institution's seals (公章, 检验检测专用章) are stored once and placed on approved reports.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::fk;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0022_stored_signatures"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("stored_signatures")
                .if_not_exists()
                .col(big_integer("user_id").primary_key())
                .col(text("image_b64"))
                .col(string_len("image_sha256", 64))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("fk_stored_signatures_user", "stored_signatures", "user_id", "users"))
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("org_seals")
                .if_not_exists()
                .col(big_integer("org_id"))
                .col(string_len("kind", 16))
                .col(text("image_b64"))
                .col(string_len("image_sha256", 64))
                .col(timestamp_with_time_zone("updated_at"))
                .primary_key(Index::create().col("org_id").col("kind"))
                .foreign_key(&mut fk("fk_org_seals_org", "org_seals", "org_id", "organisations"))
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("org_seals").take()).await?;
        m.drop_table(Table::drop().table("stored_signatures").take()).await
    }
}
